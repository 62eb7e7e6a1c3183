"""Build ``calendars/fr-school-holidays.json`` from the official French school calendar.

The ministry publishes its school calendar as the open-data set
``fr-en-calendrier-scolaire`` (a CSV export, or the JSON export of its live
API).  This module turns one or more such exports into the clean file the
package ships, and can extend zones A, B and C beyond the official data with
the ``vacances-scolaires-france`` package::

    python -m sla_engine._school_build \\
        --source ../shared/data/fr-en-calendrier-scolaire.csv \\
        --with-vacances-scolaires-france \\
        --output calendars/fr-school-holidays.json

Every reading rule (which populations count, what a row whose start equals
its end means, how far the data covers a zone...) is written down in
``calendars/README.md``; the code below follows it and names each rule where
it applies.

Malformed rows (an unreadable date, an end before the start, an unknown zone
or population...) and académies or sources that disagree on dates are
*rejected*: each is reported with its file, line and field, all of them in
one run.  A build with rejects writes nothing and fails, unless
``--allow-rejects`` is given; then the rejected rows are left out and the
school years they belonged to are left out of the zone's coverage, so an
unread row never turns into days that silently count as class days.

The output is deterministic: sorted keys, a stable order, no build date, so
rebuilding from the same inputs gives the same bytes.  This module is a
development tool: nothing imports it at run time.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import statistics
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

import attrs

from sla_engine._errors import CalendarDataError

__all__ = ["BuildResult", "build", "main", "render"]

FORMAT: Final = 1
PARIS: Final = "Europe/Paris"
VSF_ID: Final = "vacances-scolaires-france"
_ONE_DAY: Final = dt.timedelta(days=1)
_MIDNIGHT: Final = dt.time(0)

OFFICIAL_TITLE: Final = (
    "Le calendrier scolaire, Ministère de l'Éducation nationale "
    "(data.education.gouv.fr, dataset fr-en-calendrier-scolaire)"
)
OFFICIAL_LICENCE: Final = "Licence Ouverte / Etalab 2.0"
# Checked against vacances-scolaires-france 0.12.0 (see calendars/README.md,
# "Known disagreements"); re-check when the package is upgraded.
VSF_NOTE: Final = (
    "Zones A, B and C only, used for the school years after the last official one and "
    "for the return date of the summer holidays that follow the last official year "
    "(days_off with reading 'official-start-vsf-end'). This package misses the "
    "« Pont de l'Ascension » of 2023, 2024, 2025 and 2026 (those years come from the "
    "official data here); it also keeps the pre-COVID spring 2021 dates of zones B and "
    "C, counts the last day of classes before the summer holidays of 2021 and 2022 and "
    "the 1 September 2021 (a class day for pupils) as holidays, and counts the Saturday "
    "on which classes end (dropped here). Its rentrée 2027 (Wednesday 1 September) "
    "differs from the holidays package's (Thursday 2 September). Its last school year "
    "has no following year, so the return date of its last summer holidays is treated "
    "as unknown."
)


# -- zones ----------------------------------------------------------------------


@attrs.frozen
class _Zone:
    key: str
    label: str
    time_zone: str


_ZONES: Final = (
    _Zone("A", "Zone A", PARIS),
    _Zone("B", "Zone B", PARIS),
    _Zone("C", "Zone C", PARIS),
    _Zone("Corse", "Corse", PARIS),
    _Zone("Guadeloupe", "Guadeloupe", "America/Guadeloupe"),
    _Zone("Guyane", "Guyane", "America/Cayenne"),
    _Zone("Martinique", "Martinique", "America/Martinique"),
    _Zone("Mayotte", "Mayotte", "Indian/Mayotte"),
    _Zone("Nouvelle Calédonie", "Nouvelle Calédonie", "Pacific/Noumea"),
    _Zone("Polynésie", "Polynésie", "Pacific/Tahiti"),
    _Zone("Réunion", "Réunion", "Indian/Reunion"),
    _Zone("Saint Pierre et Miquelon", "Saint Pierre et Miquelon", "America/Miquelon"),
    _Zone("Wallis et Futuna", "Wallis et Futuna", "Pacific/Wallis"),
)


def _fold(text: str) -> str:
    """Lower case, no accents, apostrophes and hyphens as spaces, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"['’ʼ`\-]", " ", bare).split())


def _zone_key(text: str) -> str:
    key = _fold(text).replace(" ", "")
    return key[4:] if key.startswith("zone") and len(key) > 4 else key


_ZONE_BY_NAME: Final = {_zone_key(z.label): z for z in _ZONES}


def _find_zone(name: str) -> _Zone | None:
    return _ZONE_BY_NAME.get(_zone_key(name))


# -- reading rules --------------------------------------------------------------

# Populations, compared after _fold().  Days off are those of primary-school
# pupils: rows for every pupil and rows for primary pupils count; rows for
# teachers, for secondary pupils only, or for a part of the zone only do not.
_EVERYONE: Final = frozenset({"", "-", "eleves", "tous", "tous les eleves"})
_PRIMARY: Final = frozenset(
    {"eleves du premier degre", "premier degre", "premier degre et colleges", "ecoles"}
)
_SECONDARY: Final = frozenset(
    {
        "eleves du second degre",
        "second degre",
        "eleves des colleges",
        "eleves des lycees",
        "colleges",
        "lycees",
        "colleges et lycees",
    }
)
_TEACHERS: Final = ("enseignants", "personnels")
# Parts of a zone that a row may name alone (« Saint-Martin »): such a row
# does not apply to the zone as a whole.
_SUBSET_PLACES: Final = frozenset({"saint martin", "saint barthelemy"})
_INCLUDED: Final = frozenset({"pupils", "primary"})

# The long break that ends a school year, whatever its local name.  « Vacances
# d'Été austral » (Réunion, December) is not one: it falls mid-year.
_SUMMER_NAMES: Final = frozenset({"vacances d ete", "grandes vacances", "vacances d hiver austral"})
_MARKER: Final = re.compile(r"\s*d[ée]but\s+des\s+(?P<holiday>.+)", re.IGNORECASE)

# How a days_off entry was read from its source (field "reading").
CONVENTION: Final = "convention"  # first = start + 1, last = end - 1
SINGLE_DAY: Final = "single-day"  # start == end: that very day
START_INCLUDED: Final = "start-included"  # first = start, last = max(start, end - 1)
VSF_READING: Final = "vsf"  # days vacances-scolaires-france marks, leading Saturday dropped
OFFICIAL_START_VSF_END: Final = "official-start-vsf-end"

_VSF_NAMES: Final = {
    "vacances de la toussaint": "Vacances de la Toussaint",
    "vacances de noel": "Vacances de Noël",
    "vacances d hiver": "Vacances d'Hiver",
    "vacances de printemps": "Vacances de Printemps",
    "pont de l ascension": "Pont de l'Ascension",
    "vacances d ete": "Vacances d'Été",
}


def _audience(population: str, zone: _Zone) -> str | None:
    """Who a row is for: pupils, primary, secondary, teachers, subset; None if unknown."""
    folded = _fold(population)
    if folded in _EVERYONE:
        return "pupils"
    if folded in _PRIMARY:
        return "primary"
    if folded in _SECONDARY:
        return "secondary"
    if folded.startswith(_TEACHERS):
        return "teachers"
    places = [p for p in re.split(r"\s*(?:&|,|\bet\b|\bsauf\b)\s*", folded) if p]
    if places and places[0] == _fold(zone.label):
        # « Guadeloupe & Saint-Martin », « Guadeloupe sauf Saint-Martin »...
        return "pupils"
    if places and all(p in _SUBSET_PLACES for p in places):
        return "subset"
    return None


# -- school years ---------------------------------------------------------------


@attrs.frozen(order=True)
class _Year:
    """A school year: ``2024-2025``, or ``2024`` in the southern hemisphere."""

    start: int
    southern: bool

    @property
    def label(self) -> str:
        return str(self.start) if self.southern else f"{self.start}-{self.start + 1}"

    @property
    def next(self) -> _Year:
        return _Year(self.start + 1, self.southern)

    @property
    def previous(self) -> _Year:
        return _Year(self.start - 1, self.southern)

    def window(self) -> tuple[dt.date, dt.date]:
        """Dates a row of this school year may carry (generous bounds)."""
        if self.southern:
            return dt.date(self.start, 1, 1), dt.date(self.start + 1, 3, 31)
        return dt.date(self.start, 7, 1), dt.date(self.start + 1, 9, 30)


def _parse_year(text: str) -> _Year:
    match = re.fullmatch(r"\s*(\d{4})(?:\s*-\s*(\d{4}))?\s*", text)
    if match is None:
        raise ValueError(f"cannot read {text!r} as a school year (2024-2025, or 2024)")
    start = int(match[1])
    if match[2] is None:
        return _Year(start, southern=True)
    if int(match[2]) != start + 1:
        raise ValueError(f"school year {text!r} does not span two consecutive years")
    return _Year(start, southern=False)


# -- dates ----------------------------------------------------------------------


def _parse_day(text: str, time_zone: str) -> dt.date:
    """The calendar day a date field means.

    The dataset writes days as midnights: the CSV with the offset of the day
    (``2025-10-18T00:00:00+02:00``), the live API as UTC instants
    (``2025-10-17T22:00:00+00:00``).  A written midnight means its own date.
    Otherwise the instant must be a midnight in the zone's time zone, or in
    Europe/Paris (the ministry writes every zone's days as Paris midnights,
    overseas ones included): its date there is the day.  Anything else is
    ambiguous and refused.
    """
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"cannot read {text!r} as a date") from None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"cannot read {text!r} as a date") from None
    if moment.time() == _MIDNIGHT:
        return moment.date()
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} is not a midnight and has no UTC offset")
    for name in dict.fromkeys((time_zone, PARIS)):
        local = moment.astimezone(ZoneInfo(name))
        if local.time() == _MIDNIGHT:
            return local.date()
    raise ValueError(
        f"{text!r} is a midnight neither in {time_zone} nor in {PARIS}: cannot tell its day"
    )


def _has_weekday(first: dt.date, last: dt.date) -> bool:
    """Whether first..last (inclusive) holds a Monday to Friday."""
    if last < first:
        return False
    return (last - first).days >= 6 or any(
        (first + dt.timedelta(days=i)).weekday() < 5 for i in range((last - first).days + 1)
    )


# -- rows -----------------------------------------------------------------------


@attrs.frozen
class _Columns:
    description: str
    population: str
    start: str
    end: str
    academy: str
    zone: str
    year: str


_CSV_COLUMNS: Final = _Columns(
    "Description",
    "Population",
    "Date de début",
    "Date de fin",
    "Académies",
    "Zones",
    "annee_scolaire",
)
_JSON_COLUMNS: Final = _Columns(
    "description", "population", "start_date", "end_date", "location", "zones", "annee_scolaire"
)


@attrs.frozen
class _Source:
    id: str
    order: int
    path: Path
    display: str
    kind: str
    sha256: str


@attrs.frozen
class _Row:
    source: _Source
    line: int
    columns: _Columns
    zone: _Zone
    year: _Year
    description: str
    population: str
    audience: str
    start: dt.date
    end: dt.date
    academy: str

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.source.order, self.line)

    def error(self, message: str, field: str) -> CalendarDataError:
        return CalendarDataError(message, source=self.source.display, line=self.line, field=field)


@attrs.frozen
class _Reject:
    """A reported problem, and the zone and school year it leaves unknown."""

    error: CalendarDataError
    zone: str | None = None
    year: _Year | None = None


def _text(value: object) -> str | None:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value.strip() if isinstance(value, str) else None


def _parse_record(
    values: Mapping[Any, object],
    *,
    source: _Source,
    columns: _Columns,
    line: int,
    record: int | None,
) -> _Row | list[_Reject]:
    """One row of an export, or every problem found in it."""
    where = "" if record is None else f" (record {record})"
    problems: list[tuple[str, str]] = []

    def field(name: str, *, required: bool = True) -> str:
        raw = values.get(name)
        if raw is None and not required:
            return ""
        text = _text(raw)
        if text is None:
            problems.append((name, "missing value" if raw is None else f"not text: {raw!r}"))
            return ""
        if required and not text:
            problems.append((name, "empty value"))
        return text

    description = field(columns.description)
    population = field(columns.population, required=False)
    academy = field(columns.academy, required=False)
    zone_name = field(columns.zone)
    year_text = field(columns.year)
    start_text = field(columns.start)
    end_text = field(columns.end)
    if None in values:
        problems.append((columns.description, "more fields than the header names"))

    zone = _find_zone(zone_name) if zone_name else None
    if zone_name and zone is None:
        known = ", ".join(z.label for z in _ZONES)
        problems.append((columns.zone, f"unknown zone {zone_name!r} (known: {known})"))
    year: _Year | None = None
    if year_text:
        try:
            year = _parse_year(year_text)
        except ValueError as exc:
            problems.append((columns.year, str(exc)))
    time_zone = PARIS if zone is None else zone.time_zone
    days: dict[str, dt.date] = {}
    for name, text in ((columns.start, start_text), (columns.end, end_text)):
        if text:
            try:
                days[name] = _parse_day(text, time_zone)
            except ValueError as exc:
                problems.append((name, str(exc)))
    start, end = days.get(columns.start), days.get(columns.end)
    if start is not None and end is not None and end < start:
        problems.append((columns.end, f"ends on {end} before it starts on {start}"))
    if year is not None:
        low, high = year.window()
        for name, day in days.items():
            if not low <= day <= high:
                problems.append((name, f"{day} is outside school year {year.label}"))
    audience = None if zone is None else _audience(population, zone)
    if zone is not None and audience is None:
        problems.append((columns.population, f"unknown population {population!r}"))

    if problems or zone is None or year is None or start is None or end is None:
        key = None if zone is None else zone.key
        return [
            _Reject(
                CalendarDataError(message + where, source=source.display, line=line, field=name),
                key,
                year,
            )
            for name, message in problems
        ]
    if audience is None:  # pragma: no cover - reported above
        raise AssertionError(population)
    return _Row(
        source=source,
        line=line,
        columns=columns,
        zone=zone,
        year=year,
        description=description,
        population=population,
        audience=audience,
        start=start,
        end=end,
        academy=academy,
    )


def _csv_records(source: _Source) -> Iterator[tuple[int, int | None, Mapping[Any, object]]]:
    with source.path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        header = reader.fieldnames or []
        for name in attrs.astuple(_CSV_COLUMNS):
            if name not in header:
                raise CalendarDataError(
                    f"no column {name!r} in the header (found: {'; '.join(header)})",
                    source=source.display,
                    line=1,
                    field=name,
                )
        for row in reader:
            yield reader.line_num, None, row


def _json_records(source: _Source) -> Iterator[tuple[int, int | None, Mapping[Any, object]]]:
    """The records of a JSON array, each with the line it starts on."""
    text = source.path.read_text(encoding="utf-8-sig")
    decoder = json.JSONDecoder()
    ws = re.compile(r"\s*")
    line, seen = 1, 0

    def skip(at: int) -> int:
        match = ws.match(text, at)
        return at if match is None else match.end()

    def fail(message: str, at: int) -> CalendarDataError:
        return CalendarDataError(
            message, source=source.display, line=line + text.count("\n", seen, at)
        )

    i = skip(0)
    if not text.startswith("[", i):
        raise fail("expected a JSON array of records", i)
    i = skip(i + 1)
    number = 0
    while not text.startswith("]", i):
        line, seen = line + text.count("\n", seen, i), i
        try:
            value, end = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise CalendarDataError(
                f"invalid JSON: {exc.msg}", source=source.display, line=exc.lineno
            ) from None
        number += 1
        if not isinstance(value, dict):
            raise fail(f"record {number} is not an object", i)
        yield line, number, value
        i = skip(end)
        if text.startswith(",", i):
            i = skip(i + 1)
        elif not text.startswith("]", i):
            raise fail("expected ',' or ']' after a record", i)


def _read_source(source: _Source) -> tuple[list[_Row], list[_Reject], int]:
    if source.kind == "csv":
        records, columns = _csv_records(source), _CSV_COLUMNS
    else:
        records, columns = _json_records(source), _JSON_COLUMNS
    rows: list[_Row] = []
    rejects: list[_Reject] = []
    count = 0
    for line, number, values in records:
        count += 1
        parsed = _parse_record(values, source=source, columns=columns, line=line, record=number)
        if isinstance(parsed, _Row):
            rows.append(parsed)
        else:
            rejects.extend(parsed)
    return rows, rejects, count


def _open_source(path: Path, order: int, taken: set[str]) -> _Source:
    data = path.read_bytes()
    kind = "json" if path.suffix.lower() == ".json" else "csv"
    if path.suffix.lower() not in (".json", ".csv"):
        kind = "json" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"[") else "csv"
    ident, n = path.name, 1
    while ident in taken:
        n += 1
        ident = f"{path.name}#{n}"
    taken.add(ident)
    return _Source(ident, order, path, str(path), kind, hashlib.sha256(data).hexdigest())


# -- periods --------------------------------------------------------------------


@attrs.frozen
class _Period:
    name: str
    first: dt.date
    last: dt.date
    year: _Year
    source: str
    reading: str
    population: str
    summer: bool
    row: _Row | None = attrs.field(default=None, eq=False)

    def doc(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
            "school_year": self.year.label,
            "source": self.source,
            "reading": self.reading,
            "population": self.population,
        }


@attrs.frozen
class _Marker:
    """« Début des … »: classes end on ``day``; the return date is unknown."""

    holiday: str
    day: dt.date
    year: _Year
    source: str
    summer: bool
    row: _Row | None = attrs.field(default=None, eq=False)


@attrs.define
class _YearData:
    year: _Year
    source: str
    periods: list[_Period] = attrs.Factory(list)
    markers: list[_Marker] = attrs.Factory(list)
    teachers_return: dt.date | None = None

    @property
    def summer(self) -> _Period | None:
        return next((p for p in self.periods if p.summer), None)

    @property
    def summer_start(self) -> dt.date | None:
        if self.summer is not None:
            return self.summer.first
        days = [m.day for m in self.markers if m.summer]
        return min(days) + _ONE_DAY if days else None

    @property
    def open_after(self) -> dt.date | None:
        """The last class day before a holiday with an unknown end, if any."""
        return min((m.day for m in self.markers), default=None)


def _interpret(row: _Row) -> _Period | _Marker:
    """What a row says about pupils' days off (see calendars/README.md)."""
    if row.start == row.end:
        marker = _MARKER.fullmatch(row.description)
        if marker is not None:
            holiday = marker["holiday"].strip()
            return _Marker(
                holiday=holiday,
                day=row.start,
                year=row.year,
                source=row.source.id,
                summer=_fold(holiday) in _SUMMER_NAMES,
                row=row,
            )
        first, last, reading = row.start, row.start, SINGLE_DAY
    else:
        first, last, reading = row.start + _ONE_DAY, row.end - _ONE_DAY, CONVENTION
        if not _has_weekday(first, last) and (last < first or row.start.weekday() < 5):
            # The convention would leave no weekday off: the row names its
            # start as the first day off (a Friday bridge after Ascension).
            first, last, reading = row.start, max(row.start, last), START_INCLUDED
    return _Period(
        name=row.description,
        first=first,
        last=last,
        year=row.year,
        source=row.source.id,
        reading=reading,
        population=row.population or "-",
        summer=_fold(row.description) in _SUMMER_NAMES,
        row=row,
    )


# -- vacances-scolaires-france --------------------------------------------------


@attrs.frozen
class _Run:
    name: str
    first: dt.date
    last: dt.date

    @property
    def year(self) -> _Year:
        return _Year(self.first.year if self.first.month >= 8 else self.first.year - 1, False)

    @property
    def summer(self) -> bool:
        return _fold(self.name) in _SUMMER_NAMES

    @property
    def first_off(self) -> dt.date:
        # The package counts the Saturday on which classes end; the official
        # data (and this file) start such a holiday on the Sunday.
        return self.first + _ONE_DAY if self.first.weekday() == 5 else self.first


def _vsf_default_path() -> Path | None:
    spec = importlib.util.find_spec("vacances_scolaires_france")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "data" / "data.csv"


def _vsf_runs(path: Path, display: str) -> dict[str, list[_Run]]:
    """Runs of consecutive holiday days with one name, per zone A, B, C."""
    runs: dict[str, list[_Run]] = {"A": [], "B": [], "C": []}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        previous: dt.date | None = None
        for row in reader:
            line = reader.line_num
            try:
                day = dt.date.fromisoformat(row["date"])
            except (KeyError, TypeError, ValueError):
                raise CalendarDataError(
                    f"cannot read {row.get('date')!r} as a date",
                    source=display,
                    line=line,
                    field="date",
                ) from None
            if previous is not None and day != previous + _ONE_DAY:
                raise CalendarDataError(
                    f"{day} does not follow {previous}", source=display, line=line, field="date"
                )
            previous = day
            name = _VSF_NAMES.get(_fold(row.get("nom_vacances") or ""), row.get("nom_vacances"))
            for zone, zone_runs in runs.items():
                column = f"vacances_zone_{zone.lower()}"
                flag = row.get(column)
                if flag not in ("True", "False"):
                    raise CalendarDataError(
                        f"expected True or False, found {flag!r}",
                        source=display,
                        line=line,
                        field=column,
                    )
                if flag == "False":
                    continue
                if not name:
                    raise CalendarDataError(
                        "a holiday with no name", source=display, line=line, field="nom_vacances"
                    )
                last = zone_runs[-1] if zone_runs else None
                if last is not None and last.name == name and last.last + _ONE_DAY == day:
                    zone_runs[-1] = attrs.evolve(last, last=day)
                else:
                    zone_runs.append(_Run(name, day, day))
    return runs


def _extend_with_vsf(
    years: dict[str, dict[_Year, _YearData]],
    runs: dict[str, list[_Run]],
    warnings: list[str],
) -> tuple[set[_Year], set[_Year]]:
    """Add A, B and C school years after the official ones.

    Returns the school years added, and the official ones whose summer
    holidays got their end from the package.
    """
    added: set[_Year] = set()
    completed: set[_Year] = set()
    for key, zone_runs in runs.items():
        zone_years = years.get(key)
        if not zone_years:
            warnings.append(f"zone {key}: no official data, vacances-scolaires-france not used")
            continue
        by_year: dict[_Year, list[_Run]] = defaultdict(list)
        for run in zone_runs:
            by_year[run.year].append(run)
        last_official = max(zone_years)
        data = zone_years[last_official]
        summer_run = next((r for r in by_year.get(last_official, []) if r.summer), None)
        open_markers = [m for m in data.markers if m.summer]
        if (
            data.summer is None
            and open_markers
            and len(open_markers) == len(data.markers)
            and summer_run is not None
            and last_official.next in by_year
        ):
            marker = open_markers[0]
            first = marker.day + _ONE_DAY
            if summer_run.first_off != first:
                warnings.append(
                    f"zone {key}, {last_official.label}: vacances-scolaires-france starts the "
                    f"summer holidays on {summer_run.first_off}, the official data on {first}; "
                    "the official start is kept"
                )
            data.periods.append(
                _Period(
                    name=marker.holiday,
                    first=first,
                    last=summer_run.last,
                    year=last_official,
                    source=VSF_ID,
                    reading=OFFICIAL_START_VSF_END,
                    population="-",
                    summer=True,
                )
            )
            data.markers.clear()
            completed.add(last_official)
        year = last_official.next
        while year in by_year:
            extra = zone_years[year] = _YearData(year, VSF_ID)
            for run in by_year[year]:
                if run.summer and year.next not in by_year:
                    # No later school year in the package: the return date
                    # of this summer is not known.
                    extra.markers.append(
                        _Marker(run.name, run.first_off - _ONE_DAY, year, VSF_ID, summer=True)
                    )
                    continue
                extra.periods.append(
                    _Period(
                        name=run.name,
                        first=run.first_off,
                        last=run.last,
                        year=year,
                        source=VSF_ID,
                        reading=VSF_READING,
                        population="-",
                        summer=run.summer,
                    )
                )
            added.add(year)
            year = year.next
    return added, completed


# -- zones ----------------------------------------------------------------------


def _check_year(data: _YearData, rejects: list[_Reject], key: str) -> bool:
    """Reject a school year with two different summers; drop redundant markers."""
    summers = sorted({(p.first, p.last): p for p in data.periods if p.summer}.values(), key=_by_day)
    starts = {m.day + _ONE_DAY: m for m in data.markers if m.summer}
    problem: tuple[_Period | _Marker, str] | None = None
    if len(summers) > 1:
        problem = summers[1], "two different summer holidays for pupils"
    elif summers and starts and set(starts) != {summers[0].first}:
        problem = summers[0], "a « Début des … » marker disagrees with the summer holidays"
    elif len(starts) > 1:
        problem = sorted(starts.values(), key=lambda m: m.day)[1], "two summer start markers"
    if problem is not None:
        item, message = problem
        message = f"zone {key}, school year {data.year.label}: {message}"
        row = item.row
        error = CalendarDataError(message) if row is None else row.error(message, row.columns.end)
        rejects.append(_Reject(error, key, data.year))
        return False
    if summers:
        data.markers = [m for m in data.markers if not m.summer]
    return True


def _years_span(years: Iterable[_Year]) -> str:
    """``2017-2018 to 2025-2026 and 2018 to 2025``, or ``none``."""
    spans = []
    distinct = set(years)
    for southern in (False, True):
        labels = sorted(y for y in distinct if y.southern is southern)
        if len(labels) == 1:
            spans.append(labels[0].label)
        elif labels:
            spans.append(f"{labels[0].label} to {labels[-1].label}")
    return " and ".join(spans) if spans else "none"


def _by_day(period: _Period) -> tuple[dt.date, dt.date, str, str, str]:
    return (period.first, period.last, period.name, period.year.label, period.source)


def _coverage(years: Mapping[_Year, _YearData], bad: set[_Year]) -> tuple[dt.date, dt.date] | None:
    """The most recent contiguous span of days whose status is known."""
    chains: list[list[_Year]] = []
    for year in sorted(years):
        if year in bad:
            continue
        chain = chains[-1] if chains else None
        if chain is not None and _links(years, chain[-1], year, bad):
            chain.append(year)
        else:
            chains.append([year])
    best: tuple[dt.date, dt.date] | None = None
    for chain in chains:
        head, tail = years[chain[0]], years[chain[-1]]
        before = years.get(chain[0].previous)
        rentree = _rentree(before)
        first = rentree or min((p.first for p in head.periods), default=None)
        last: dt.date | None
        if tail.open_after is not None:
            last = tail.open_after
        elif tail.summer is not None:
            last = tail.summer.last
        else:
            last = max((p.last for p in tail.periods), default=None)
        if first is None or last is None or last < first:
            continue
        if best is None or last > best[1]:
            best = (first, last)
    return best


def _links(years: Mapping[_Year, _YearData], prev: _Year, year: _Year, bad: set[_Year]) -> bool:
    data = years[prev]
    return (
        year == prev.next
        and prev not in bad
        and data.summer is not None
        and data.open_after is None
    )


def _rentree(before: _YearData | None) -> dt.date | None:
    if before is None or before.summer is None:
        return None
    return before.summer.last + _ONE_DAY


def _zone_warnings(key: str, years: Mapping[_Year, _YearData]) -> list[str]:
    warnings: list[str] = []
    periods = sorted((p for d in years.values() for p in d.periods), key=_by_day)
    for i, period in enumerate(periods):
        for other in periods[i + 1 :]:
            if other.first > period.last:
                break
            warnings.append(
                f"zone {key}: « {period.name} » {period.first}..{period.last} and "
                f"« {other.name} » {other.first}..{other.last} overlap"
            )
    lengths: dict[str, list[int]] = defaultdict(list)
    for period in periods:
        lengths[_fold(period.name)].append((period.last - period.first).days + 1)
    for period in periods:
        usual = lengths[_fold(period.name)]
        length = (period.last - period.first).days + 1
        if len(usual) >= 3 and length > 7 and length > 2 * statistics.median(usual):
            warnings.append(
                f"zone {key}, {period.year.label}: « {period.name} » {period.first}..{period.last} "
                f"lasts {length} days, its usual length is {statistics.median(usual):g}"
            )
    for year, data in sorted(years.items()):
        start = data.summer_start
        rentree = _rentree(years.get(year.previous))
        summer = data.summer
        back = data.teachers_return
        if summer is not None and back is not None and back > summer.last + _ONE_DAY:
            warnings.append(
                f"zone {key}, {year.label}: pupils return on {summer.last + _ONE_DAY}, "
                f"before their teachers ({back})"
            )
        for period in data.periods:
            if period.summer:
                continue
            if start is not None and period.last >= start - _ONE_DAY:
                warnings.append(
                    f"zone {key}, {year.label}: « {period.name} » {period.first}..{period.last} "
                    f"runs into the last class day before the summer holidays ({start})"
                )
            if rentree is not None and period.first < rentree:
                warnings.append(
                    f"zone {key}, {year.label}: « {period.name} » starts {period.first}, "
                    f"before the rentrée ({rentree})"
                )
    return warnings


def _zone_doc(
    zone: _Zone, years: Mapping[_Year, _YearData], cover: tuple[dt.date, dt.date]
) -> dict[str, Any]:
    periods: dict[tuple[str, dt.date, dt.date], _Period] = {}
    for data in years.values():
        for period in data.periods:
            periods.setdefault((period.name, period.first, period.last), period)
    school_years = []
    for year, data in sorted(years.items()):
        rentree = _rentree(years.get(year.previous))
        start = data.summer_start
        school_years.append(
            {
                "year": year.label,
                "source": data.source,
                "rentree": None if rentree is None else rentree.isoformat(),
                "summer_start": None if start is None else start.isoformat(),
            }
        )
    return {
        "label": zone.label,
        "time_zone": zone.time_zone,
        "coverage": {"first": cover[0].isoformat(), "last": cover[1].isoformat()},
        "school_years": school_years,
        "days_off": [p.doc() for p in sorted(periods.values(), key=_by_day)],
    }


# -- the build ------------------------------------------------------------------


@attrs.frozen
class BuildResult:
    """The built document, the rejected rows and the warnings, in a stable order."""

    document: dict[str, Any]
    rejects: tuple[CalendarDataError, ...]
    warnings: tuple[str, ...]


def _disagreements(rows: list[_Row]) -> tuple[list[_Row], list[_Reject]]:
    """Drop groups of rows on which académies or sources disagree, and report them.

    A group is one holiday (zone, school year, description, population); each
    académie of each source must give it the same set of dates.  An académie
    that has no row for it (Caen and Rouen merged into Normandie during
    2019-2020) is not a disagreement.
    """
    groups: dict[tuple[str, _Year, str, str], dict[tuple[int, str], list[_Row]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        key = (row.zone.key, row.year, _fold(row.description), _fold(row.population))
        groups[key][(row.source.order, row.academy)].append(row)
    kept: list[_Row] = []
    rejects: list[_Reject] = []
    for (zone, year, _, _), by_who in groups.items():
        dates = {who: frozenset((r.start, r.end) for r in group) for who, group in by_who.items()}
        if len(set(dates.values())) <= 1:
            kept.extend(r for group in by_who.values() for r in group)
            continue
        # Report at the first row (in input order) whose dates differ from
        # those of the first row of the group.
        ordered = sorted((r for group in by_who.values() for r in group), key=lambda r: r.sort_key)
        reference = dates[(ordered[0].source.order, ordered[0].academy)]
        other = next(r for r in ordered if dates[(r.source.order, r.academy)] != reference)
        detail = "; ".join(
            f"{group[0].source.id} {who[1] or '?'}: "
            + ", ".join(f"{s}..{e}" for s, e in sorted(dates[who]))
            for who, group in sorted(by_who.items())
        )
        message = (
            f"académies or sources disagree on the dates of « {other.description} » "
            f"({other.population or '-'}) in zone {zone}, {year.label}: {detail}"
        )
        rejects.append(_Reject(other.error(message, other.columns.start), zone, year))
    return kept, rejects


def build(
    sources: Sequence[Path],
    *,
    with_vacances_scolaires_france: bool = False,
    vacances_scolaires_france_data: Path | None = None,
) -> BuildResult:
    """Read the exports ``sources`` (CSV or API JSON) and build the document.

    Raises :class:`CalendarDataError` for a file that cannot be read at all
    (missing column, broken JSON); problems with single rows are collected in
    :attr:`BuildResult.rejects` instead.
    """
    taken: set[str] = set()
    opened = [_open_source(Path(p), i, taken) for i, p in enumerate(sources)]
    rows: list[_Row] = []
    rejects: list[_Reject] = []
    counts: dict[str, tuple[int, int]] = {}
    for source in opened:
        source_rows, source_rejects, count = _read_source(source)
        rows.extend(source_rows)
        rejects.extend(source_rejects)
        counts[source.id] = (count, len({(r.error.line, r.error.source) for r in source_rejects}))
    rows, disagreements = _disagreements(rows)
    rejects.extend(disagreements)

    # One row per (zone, school year, description, population, dates): the
    # académies repeat the zone's dates, and several exports may overlap.
    unique: dict[tuple[object, ...], _Row] = {}
    for row in sorted(rows, key=lambda r: r.sort_key):
        key = (row.zone.key, row.year, row.description, row.population, row.start, row.end)
        unique.setdefault(key, row)
    years: dict[str, dict[_Year, _YearData]] = defaultdict(dict)
    for row in unique.values():
        data = years[row.zone.key].setdefault(row.year, _YearData(row.year, row.source.id))
        if row.audience == "teachers" and _fold(row.description) in _SUMMER_NAMES:
            data.teachers_return = max(row.end, data.teachers_return or row.end)
        if row.audience not in _INCLUDED:
            continue
        item = _interpret(row)
        if isinstance(item, _Period):
            data.periods.append(item)
        else:
            data.markers.append(item)

    warnings: list[str] = []
    bad: dict[str, set[_Year]] = defaultdict(set)
    for zone_key, by_year in years.items():
        for year, data in by_year.items():
            if not _check_year(data, rejects, zone_key):
                bad[zone_key].add(year)

    source_docs = []
    for source in opened:
        count, rejected = counts[source.id]
        span = "school years " + _years_span(
            r.year for r in unique.values() if r.source.id == source.id
        )
        source_docs.append(
            {
                "id": source.id,
                "title": OFFICIAL_TITLE,
                "file": source.path.name,
                "format": source.kind,
                "sha256": source.sha256,
                "licence": OFFICIAL_LICENCE,
                "note": f"Official export: {count} rows read, {rejected} rejected; {span}.",
            }
        )

    if with_vacances_scolaires_france:
        path = vacances_scolaires_france_data or _vsf_default_path()
        if path is None:
            raise CalendarDataError(
                "the vacances-scolaires-france package is not installed", source=VSF_ID
            )
        display = (
            "vacances_scolaires_france/data/data.csv"
            if vacances_scolaires_france_data is None
            else path.name
        )
        added, completed = _extend_with_vsf(years, _vsf_runs(path, str(path)), warnings)
        try:
            version = importlib.metadata.version("vacances-scolaires-france")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown version"
        title = f"vacances-scolaires-france {version} (PyPI), its data file"
        if vacances_scolaires_france_data is not None:
            title = "vacances-scolaires-france data file (given on the command line)"
        supplied = "school years " + _years_span(added)
        if completed:
            supplied += ", and the return date after the summer of " + _years_span(completed)
        source_docs.append(
            {
                "id": VSF_ID,
                "title": title,
                "file": display,
                "format": "csv",
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                "licence": "MIT",
                "note": f"Supplied: {supplied}. {VSF_NOTE}",
            }
        )

    for reject in rejects:
        if reject.zone is not None and reject.year is not None:
            bad[reject.zone].add(reject.year)
    zone_docs: dict[str, Any] = {}
    for zone in _ZONES:
        known = years.get(zone.key)
        if not known:
            continue
        cover = _coverage(known, bad[zone.key])
        if cover is None:
            message = f"zone {zone.key}: no span of known days, the zone is left out"
            if bad[zone.key]:  # the rejects already say why
                warnings.append(message)
            else:
                rejects.append(_Reject(CalendarDataError(message), zone.key))
            continue
        warnings.extend(_zone_warnings(zone.key, known))
        zone_docs[zone.key] = _zone_doc(zone, known, cover)

    document = {"format": FORMAT, "sources": source_docs, "zones": zone_docs}
    errors = sorted(
        (r.error for r in rejects),
        key=lambda e: (e.source or "", e.line or 0, e.field or "", e.message),
    )
    return BuildResult(document, tuple(errors), tuple(warnings))


def render(document: Mapping[str, Any]) -> bytes:
    """The document as stable JSON bytes: sorted keys, UTF-8, final newline."""
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


# -- command line ---------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sla-engine school-calendar",
        description="Build the school-holiday data file from official exports of "
        "the French school calendar (dataset fr-en-calendrier-scolaire).",
    )
    parser.add_argument(
        "--source",
        action="append",
        required=True,
        type=Path,
        metavar="FILE",
        help="an export: the CSV (';'-separated) or the JSON of the live API; repeatable",
    )
    parser.add_argument(
        "--with-vacances-scolaires-france",
        action="store_true",
        help="add zones A, B and C school years after the official ones from the "
        "vacances-scolaires-france package",
    )
    parser.add_argument(
        "--vacances-scolaires-france-data",
        type=Path,
        metavar="FILE",
        help="that package's data.csv (default: the installed package's)",
    )
    parser.add_argument(
        "--allow-rejects",
        action="store_true",
        help="write the file even if rows were rejected (their school years are left "
        "out of the coverage)",
    )
    parser.add_argument("--output", required=True, type=Path, metavar="FILE")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build the file: 0 when written, 1 on rejected rows (nothing written), 2 when unreadable."""
    args = _parser().parse_args(argv)
    try:
        result = build(
            args.source,
            with_vacances_scolaires_france=args.with_vacances_scolaires_france,
            vacances_scolaires_france_data=args.vacances_scolaires_france_data,
        )
    except (CalendarDataError, OSError, UnicodeDecodeError, csv.Error) as exc:
        print(f"sla-engine school-calendar: error: {exc}", file=sys.stderr)
        return 2
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for error in result.rejects:
        print(f"rejected: {error}", file=sys.stderr)
    if result.rejects and not args.allow_rejects:
        print(
            f"sla-engine school-calendar: error: {len(result.rejects)} problem(s) in the "
            "input; nothing written "
            "(fix the input, or pass --allow-rejects to leave those rows out)",
            file=sys.stderr,
        )
        return 1
    data = render(result.document)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    for key, zone in result.document["zones"].items():
        cover = zone["coverage"]
        print(f"{key}: {cover['first']} to {cover['last']}, {len(zone['days_off'])} periods")
    print(
        f"wrote {args.output} ({len(data)} bytes, {len(result.rejects)} rejected, "
        f"{len(result.warnings)} warnings)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
