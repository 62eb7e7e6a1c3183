"""Named days of the school calendar: the rentrée, a holiday's start or end, the year's end.

Obligations tied to the school year (« sous 10 jours après la rentrée »,
« avant les vacances de Toussaint ») are anchored to these days, resolved
per zone and school year from the shipped school-calendar data
(:mod:`sla_engine._school`).  A day the data does not know raises
:class:`AnchorError`, naming the zone and the school year: never a guess.

Anchors, as written in a catalogue:

- ``rentrée`` (or ``rentree``): the first class day for pupils;
- ``fin d'année`` (or ``year_end``): the last day before the summer holidays;
- ``début:<holiday>`` (or ``start:<holiday>``): the first day off of the named
  holiday of that school year (``début:Toussaint``);
- ``fin:<holiday>`` (or ``end:<holiday>``): the day classes resume after it;
- ``veille:<holiday>`` (or ``avant:<holiday>``, ``before:<holiday>``): the last
  school day before it — « avant les vacances de Toussaint ».  The official
  data ends classes on a Saturday (« fin des cours : samedi 18 octobre
  2025 »), a day without class in a primary school: the eve is the last day
  before the first day off that counts in jours scolaires of the service's
  calendar (Friday 17 October 2025; a public holiday on that Friday moves it
  to the Thursday).

A holiday is named by any word of its official name (« Toussaint », « Noël »,
« Hiver »…) or of its English name (« All Saints »); case, accents and
apostrophes are ignored.  A day expression adds or takes away a delay:
``rentrée + 10 jours calendaires``, ``début:Noël - 1 jour calendaire``.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Final

import attrs

from ._calendar import Calendar
from ._delay import Delay, Unit
from ._errors import DelayError, SlaEngineError
from ._school import SchoolDaysOff, SchoolYear, SchoolZone, english_name
from ._text import folded

__all__ = [
    "Anchor",
    "AnchorError",
    "AnchorKind",
    "DayExpression",
    "resolve_anchor",
    "school_year_days",
    "school_year_of",
    "school_year_span",
    "school_years_between",
    "school_zone_of",
]


class AnchorError(SlaEngineError, LookupError):
    """A school-calendar day that cannot be resolved (names the zone and the school year)."""


class AnchorKind(enum.StrEnum):
    RENTREE = "rentree"
    YEAR_END = "year_end"
    START = "start"
    END = "end"
    #: The last school day before a holiday.
    EVE = "eve"


def _fold(text: str) -> str:
    return folded(text, spaced="'’ʼ`-_:")


_NAMES: Final = {
    "rentree": AnchorKind.RENTREE,
    "rentree des eleves": AnchorKind.RENTREE,
    "year end": AnchorKind.YEAR_END,
    "fin d annee": AnchorKind.YEAR_END,
    "fin d annee scolaire": AnchorKind.YEAR_END,
    "fin de l annee scolaire": AnchorKind.YEAR_END,
}
_HOLIDAY_PREFIX: Final = re.compile(
    r"^\s*(?P<which>d[ée]but|start|fin|end|veille|avant|before)\s*:\s*(?P<name>.+?)\s*$",
    re.IGNORECASE,
)


@attrs.frozen
class Anchor:
    """A named day of a school year; ``holiday`` for a holiday's start or end."""

    kind: AnchorKind
    holiday: str | None = None

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """``"rentrée"``, ``"fin d'année"``, ``"début:Toussaint"``, ``"end:Noël"``…"""
        folded = _fold(text)
        known = _NAMES.get(folded)
        if known is not None:
            return cls(known)
        match = _HOLIDAY_PREFIX.match(text)
        if match is not None and _fold(match["name"]):
            which = _fold(match["which"])
            kind = {
                "debut": AnchorKind.START,
                "start": AnchorKind.START,
                "veille": AnchorKind.EVE,
                "avant": AnchorKind.EVE,
                "before": AnchorKind.EVE,
            }.get(which, AnchorKind.END)
            return cls(kind, match["name"].strip())
        raise AnchorError(
            f"unknown anchor {text!r}: use 'rentrée', 'fin d'année', 'début:<holiday>', "
            "'fin:<holiday>' or 'veille:<holiday>' (such as 'veille:Toussaint')"
        )

    def __str__(self) -> str:
        if self.kind is AnchorKind.RENTREE:
            return "rentrée"
        if self.kind is AnchorKind.YEAR_END:
            return "fin d'année"
        word = {AnchorKind.START: "début", AnchorKind.EVE: "veille"}.get(self.kind, "fin")
        return f"{word}:{self.holiday}"

    def describe(self, lang: str = "fr") -> str:
        """The anchor as a sentence fragment: « le début des vacances Toussaint »."""
        fr = lang == "fr"
        if self.kind is AnchorKind.RENTREE:
            return "la rentrée des élèves" if fr else "the pupils' first day back"
        if self.kind is AnchorKind.YEAR_END:
            return "la fin de l'année scolaire" if fr else "the end of the school year"
        if self.kind is AnchorKind.EVE:
            return (
                f"le dernier jour scolaire avant les vacances « {self.holiday} »"
                if fr
                else f"the last school day before the “{self.holiday}” holidays"
            )
        if self.kind is AnchorKind.START:
            return (
                f"le début des vacances « {self.holiday} »"
                if fr
                else (f"the start of the “{self.holiday}” holidays")
            )
        return (
            f"la reprise après les vacances « {self.holiday} »"
            if fr
            else (f"the return after the “{self.holiday}” holidays")
        )


_EXPRESSION: Final = re.compile(r"^(?P<anchor>.+?)(?:\s+(?P<sign>[+-])\s+(?P<delay>.+))?$")


@attrs.frozen
class DayExpression:
    """An anchor, optionally moved by a delay: ``rentrée + 10 jours calendaires``.

    Adding counts like a response delay (the N-th counted day strictly after
    the anchor, with the unit's usual extension to a working day); taking
    away is allowed in jours calendaires only (the day before a holiday is
    ``début:Toussaint - 1 jour calendaire``).
    """

    anchor: Anchor
    sign: int = 0
    delay: Delay | None = None

    @classmethod
    def parse(cls, text: str) -> DayExpression:
        match = _EXPRESSION.match(text.strip())
        if match is None:
            raise AnchorError(f"cannot read the day {text!r}")
        anchor = Anchor.parse(match["anchor"])
        if match["delay"] is None:
            return cls(anchor)
        try:
            delay = Delay.parse(match["delay"])
        except DelayError as error:
            raise AnchorError(f"cannot read the delay of {text!r}: {error}") from None
        sign = 1 if match["sign"] == "+" else -1
        if sign < 0 and delay.unit is not Unit.JOURS_CALENDAIRES:
            raise AnchorError(
                f"{text!r}: only jours calendaires can be taken away from an anchor "
                f"(not {delay.unit.value})"
            )
        if delay.unit.is_hours:
            raise AnchorError(f"{text!r}: an anchor is a day, it cannot be moved by hours")
        return cls(anchor, sign, delay)

    def __str__(self) -> str:
        if self.delay is None:
            return str(self.anchor)
        return f"{self.anchor} {'+' if self.sign > 0 else '-'} {self.delay}"

    def describe(self, lang: str = "fr") -> str:
        """In words, for reports: « la rentrée des élèves + 10 jours calendaires »."""
        anchor = self.anchor.describe(lang)
        if self.delay is None:
            return anchor
        return f"{anchor} {'+' if self.sign > 0 else '-'} {self.delay.label(lang)}"

    def resolve(self, cal: Calendar, school_year: str) -> tuple[dt.date, dt.date]:
        """The anchor's day and the expression's day, for ``school_year`` of ``cal``'s zone."""
        zone = school_zone_of(cal)
        day = resolve_anchor(zone, self.anchor, school_year, cal)
        if self.delay is None:
            return day, day
        if self.sign < 0:
            return day, day - dt.timedelta(days=self.delay.amount)
        return day, cal.add(day, self.delay.amount, self.delay.unit)


def school_zone_of(cal: Calendar) -> SchoolZone:
    zone = cal.school_zone
    if zone is None:
        raise AnchorError(
            f"the calendar {cal.spec!r} has no school zone: obligations anchored to the school "
            "year need one (such as 'fr+B')"
        )
    return zone


def _year(zone: SchoolZone, school_year: str) -> SchoolYear:
    for year in zone.school_years:
        if year.year == school_year:
            return year
    known = [y.year for y in zone.school_years]
    span = f"{known[0]} to {known[-1]}" if known else "none"
    raise AnchorError(
        f"the school calendar of {zone.label} does not know the school year {school_year} "
        f"(known: {span})"
    )


def _holiday(zone: SchoolZone, name: str, school_year: str) -> SchoolDaysOff:
    wanted = _fold(name)
    pattern = re.compile(rf"(?:^| ){re.escape(wanted)}(?: |$)")
    periods = [p for p in zone.days_off if p.school_year == school_year]
    found = {
        (p.first, p.last): p
        for p in periods
        if p.last > p.first  # single days off are not holidays
        and (pattern.search(_fold(p.name)) or pattern.search(_fold(english_name(p.name))))
    }
    if len(found) == 1:
        return next(iter(found.values()))
    names = sorted({p.name for p in periods if p.last > p.first})
    if not found:
        raise AnchorError(
            f"{zone.label}, school year {school_year}: no holiday named {name!r} "
            f"(its holidays: {', '.join(names) or 'none known'})"
        )
    raise AnchorError(
        f"{zone.label}, school year {school_year}: {name!r} names several holidays "
        f"({', '.join(sorted({p.name for p in found.values()}))}): use a longer name"
    )


def resolve_anchor(
    zone: SchoolZone, anchor: Anchor, school_year: str, cal: Calendar | None = None
) -> dt.date:
    """The day ``anchor`` falls on in ``school_year`` (``"2025-2026"``) of ``zone``.

    The eve of a holiday needs ``cal``, the service's calendar (its weekends,
    public holidays and closures decide which day is the last school day).
    Raises :class:`AnchorError` naming the zone and the year when the data
    does not say (a year outside the data, a rentrée or a summer start not
    published, a holiday the zone does not have that year).
    """
    year = _year(zone, school_year)
    if anchor.kind is AnchorKind.RENTREE:
        if year.rentree is None:
            raise AnchorError(
                f"the school calendar of {zone.label} does not give the rentrée of "
                f"{school_year} (the summer holidays before it are not in the data)"
            )
        return year.rentree
    if anchor.kind is AnchorKind.YEAR_END:
        if year.summer_start is None:
            raise AnchorError(
                f"the school calendar of {zone.label} does not give the end of {school_year} "
                "(the start of its summer holidays is not in the data)"
            )
        return year.summer_start - dt.timedelta(days=1)
    period = _holiday(zone, anchor.holiday or "", school_year)
    if anchor.kind is AnchorKind.START:
        return period.first
    if anchor.kind is AnchorKind.EVE:
        if cal is None:
            raise AnchorError(
                f"{anchor}: the last school day before a holiday needs the service's calendar"
            )
        day = period.first - dt.timedelta(days=1)
        rentree = year.rentree
        while not cal.is_counted(day, Unit.JOURS_SCOLAIRES):
            day -= dt.timedelta(days=1)
            if rentree is not None and day < rentree:
                raise AnchorError(
                    f"{zone.label}, school year {school_year}: no school day before the "
                    f"holiday {anchor.holiday!r}"
                )
        return day
    return period.last + dt.timedelta(days=1)


def check_holiday_name(zone: SchoolZone, name: str) -> None:
    """Raise :class:`AnchorError` unless some school year of ``zone`` has this holiday."""
    errors = []
    for year in zone.school_years:
        try:
            _holiday(zone, name, year.year)
            return
        except AnchorError as error:
            errors.append(error)
    raise AnchorError(
        f"{zone.label} has no holiday named {name!r} in any school year of the data"
    ) from (errors[-1] if errors else None)


def school_year_of(day: dt.date, zone: SchoolZone | None = None) -> str:
    """The school year a day is counted in: ``"2025-2026"`` from 1 August 2025 to 31 July 2026.

    Every such rentrée of the data falls in August or September, and every
    summer holiday starts in July or later: a school year's class days are
    always inside its span.  In a ``zone`` whose school years are calendar
    years (Nouvelle-Calédonie, Wallis-et-Futuna: from February to
    December, named ``"2025"``), the day's own year.
    """
    if zone is not None and _calendar_years(zone):
        return str(day.year)
    first = day.year if day.month >= 8 else day.year - 1
    return f"{first}-{first + 1}"


def _calendar_years(zone: SchoolZone) -> bool:
    """Whether the zone's school years are named by one calendar year each."""
    return bool(zone.school_years) and all("-" not in y.year for y in zone.school_years)


def school_years_between(first: str, last: str) -> list[str]:
    """The school years from ``first`` to ``last``, named as :func:`school_year_of` names them."""
    years = range(int(first[:4]), int(last[:4]) + 1)
    if "-" in first:
        return [f"{y}-{y + 1}" for y in years]
    return [str(y) for y in years]  # a zone whose school years are calendar years


def school_year_days(cal: Calendar, school_year: str) -> tuple[dt.date, dt.date]:
    """Every day :func:`school_year_of` counts in a school year, holidays included.

    1 August to 31 July; the calendar year in a zone whose school years are
    calendar years.  What a working day's obligation is owed over: the
    summer's working days belong to a year as much as its class days.
    """
    zone = school_zone_of(cal)
    if _calendar_years(zone):
        year = int(school_year)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    first = int(school_year.split("-")[0])
    return dt.date(first, 8, 1), dt.date(first + 1, 7, 31)


def school_year_span(cal: Calendar, school_year: str) -> tuple[dt.date, dt.date]:
    """The first and last class days' span of a school year: rentrée to the year's end."""
    zone = school_zone_of(cal)
    return (
        resolve_anchor(zone, Anchor(AnchorKind.RENTREE), school_year),
        resolve_anchor(zone, Anchor(AnchorKind.YEAR_END), school_year),
    )
