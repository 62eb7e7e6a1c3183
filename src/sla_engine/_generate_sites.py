"""A synthetic district for the obligations: a site register and a year of site events.

:func:`generate_district` writes the register (``id,name``: about 30 schools
of a primary-school district) and a site log (``event_id,site,type,
occurred_at,what``) over one school year of a zone: the team's visits after
the rentrée and the inspector's before the Toussaint holidays, the school
councils attended, the website's weekly updates, the directors' meetings,
the results published, the satisfaction survey, and the phone line opened
and closed every school day.  Most obligations are kept; a few are not, so
that the review shows both.  The same seed gives the same files, byte for
byte; no event names a person.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Final

import attrs

from ._anchors import Anchor, AnchorKind, resolve_anchor, school_year_span, school_zone_of
from ._calendar import Calendar, calendar
from ._delay import Unit
from ._sites import SITE_LOG_FIELDS

__all__ = ["DistrictFiles", "generate_district"]

# Communes around Le Blanc (Indre): public place names, not people.
_TOWNS: Final = (
    "Le Blanc",
    "Ciron",
    "Rosnay",
    "Ruffec",
    "Pouligny-Saint-Pierre",
    "Concremiers",
    "Ingrandes",
    "Mérigny",
    "Tournon-Saint-Martin",
    "Fontgombault",
    "Lurais",
    "Sauzelles",
    "Douadic",
    "Saint-Gaultier",
    "Thenay",
    "Rivarennes",
    "Mézières-en-Brenne",
    "Martizay",
    "Azay-le-Ferron",
    "Obterre",
    "Paulnay",
    "Bélâbre",
    "Chalais",
    "Mauvières",
    "Lignac",
    "Tilly",
    "Prissac",
    "Chaillac",
    "Saint-Benoît-du-Sault",
    "Lingé",
    "Vendœuvres",
    "Migné",
    "Nuret-le-Ferron",
    "Luzeret",
    "Oulches",
    "Néons-sur-Creuse",
)
_COUNCILS: Final = (
    "conseil d'école",
    "conseil des maîtres",
    "équipe éducative",
    "évaluation d'école",
)


_VOWELS: Final = frozenset("AEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒÆ")


def school_name(town: str) -> str:
    """« École du Blanc », « École d'Ingrandes », « École de Ciron »: French contracts
    « de le » to « du » and « de les » to « des », and elides « de » before a vowel."""
    article, _, rest = town.partition(" ")
    if rest and article == "Le":
        return f"École du {rest}"
    if rest and article == "Les":
        return f"École des {rest}"
    if town[:1].upper() in _VOWELS:
        return f"École d'{town}"
    return f"École de {town}"


@attrs.frozen
class DistrictFiles:
    register: Path
    log: Path
    sites: int
    events: int


def generate_district(
    register: str | Path,
    log: str | Path,
    *,
    schools: int = 30,
    seed: int = 0,
    calendar_spec: str = "fr+B",
    school_year: str = "2025-2026",
) -> DistrictFiles:
    """Write a district's register and one school year of its site events (deterministic)."""
    if not 1 <= schools <= len(_TOWNS):
        raise ValueError(f"schools must be from 1 to {len(_TOWNS)}, not {schools}")
    cal = calendar(calendar_spec)
    rng = random.Random(f"{seed}:{school_year}")  # noqa: S311 - a reproducible sample
    sites = [(f"E{n + 1:03d}", school_name(_TOWNS[n])) for n in range(schools)]
    events = _events(rng, cal, school_year, [s for s, _ in sites])
    register_path, log_path = Path(register), Path(log)
    if register_path.resolve() == log_path.resolve():
        raise ValueError(f"the register and the site log are one file ({log_path}): name two")
    with register_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("id", "name"))
        writer.writerows(sites)
    with log_path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(SITE_LOG_FIELDS)
        for number, (at, site, kind, what) in enumerate(sorted(events), start=1):
            writer.writerow((f"S{number:05d}", site, kind, at.isoformat(), what))
    return DistrictFiles(register_path, log_path, len(sites), len(events))


_Event = tuple[dt.datetime, str, str, str]


def _at(cal: Calendar, day: dt.date, minutes: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=cal.tz)


def _school_days(cal: Calendar, first: dt.date, last: dt.date) -> list[dt.date]:
    days = []
    day = first
    while day <= last:
        if cal.is_counted(day, Unit.JOURS_SCOLAIRES):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _events(rng: random.Random, cal: Calendar, year: str, sites: list[str]) -> list[_Event]:
    zone = school_zone_of(cal)
    rentree, year_end = school_year_span(cal, year)
    toussaint = resolve_anchor(zone, Anchor(AnchorKind.START, "Toussaint"), year)
    days = _school_days(cal, rentree, year_end)
    events: list[_Event] = []

    def visit(site: str, day: dt.date, kind: str, what: str) -> None:
        events.append((_at(cal, day, rng.randrange(8 * 60 + 30, 16 * 60 + 30)), site, kind, what))

    # Shuffled once: which schools miss which obligation is part of the seed.
    order = sites[:]
    rng.shuffle(order)
    early = [d for d in days if d <= rentree + dt.timedelta(days=9)]
    late_after_rentree = [d for d in days if rentree + dt.timedelta(days=14) <= d <= toussaint]
    before_toussaint = [d for d in days if rentree + dt.timedelta(days=14) <= d < toussaint]
    after_toussaint = [d for d in days if toussaint < d <= toussaint + dt.timedelta(days=40)]
    for index, site in enumerate(order):
        # After the rentrée: three schools visited late, one never.
        if index >= 4:
            visit(site, rng.choice(early), "visited", "passage")
        elif index >= 1:
            visit(site, rng.choice(late_after_rentree), "visited", "passage")
        # The inspector before the Toussaint holidays: two late, one never (another school).
        if index not in (4, 5, 6):
            visit(site, rng.choice(before_toussaint), "visited", "IEN")
        elif index != 6:
            visit(site, rng.choice(after_toussaint), "visited", "IEN")
        # A council or an evaluation each year: two schools without any.
        if index not in (7, 8):
            visit(site, rng.choice(days), "attended", rng.choice(_COUNCILS))
    # The website: updated once in most school weeks; three weeks forgotten.
    weeks: dict[tuple[int, int], list[dt.date]] = {}
    for day in days:
        iso = day.isocalendar()
        weeks.setdefault((iso.year, iso.week), []).append(day)
    forgotten = set(rng.sample(sorted(weeks), 3))
    for week, week_days in sorted(weeks.items()):
        if week not in forgotten:
            day = rng.choice(week_days)
            events.append(
                (_at(cal, day, rng.randrange(9 * 60, 17 * 60)), "", "published", "site web")
            )
    # Two directors' meetings; the results are published at the first one.
    first_meeting = before_toussaint[min(3, len(before_toussaint) - 1)]
    second_meeting = days[len(days) * 2 // 3]
    for day in (first_meeting, second_meeting):
        events.append((_at(cal, day, 14 * 60), "", "held", "réunion des directeurs"))
    events.append((_at(cal, first_meeting, 16 * 60 + 30), "", "published", "résultats"))
    # The satisfaction survey, in June.
    june = [d for d in days if d.month == 6]
    events.append((_at(cal, rng.choice(june or days), 10 * 60), "", "surveyed", "enquête"))
    # The phone line: 8:15 to 17:30 (9 h 15) most days; a few short days.
    short = set(rng.sample(days, 6))
    for day in days:
        if day in short:
            opened, closed = 9 * 60 + rng.randrange(0, 30), 16 * 60 + rng.randrange(0, 45)
        else:
            opened = 8 * 60 + rng.randrange(0, 16)
            closed = 17 * 60 + 30 + rng.randrange(0, 16)
        events.append((_at(cal, day, opened), "", "opened", "téléphone"))
        events.append((_at(cal, day, closed), "", "closed", "téléphone"))
    return events
