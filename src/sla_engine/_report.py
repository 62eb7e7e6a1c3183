"""The compliance review: figures per engagement (and per group), every one traceable.

:func:`build_report` returns plain data — the JSON contract documented in
``docs/reference/report.md`` — and the renderers turn it into CSV, Markdown
or HTML.  ``total`` counts the timers started in the period; ``met`` those
stopped strictly before their expiry; ``late`` those stopped at or after it;
``overdue`` those still running at ``as_of`` past it; ``pending`` those
still running (or paused) before it; ``compliance_rate`` is
met / (met + late + overdue), ``None`` when that is zero.  Delays are
counted in the engagement's unit from the start day to the stop day
(:meth:`Calendar.count`), over the stopped timers.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import functools
import io
import math
import pickle
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, BinaryIO

import pendulum

from . import __version__
from ._anchors import school_year_of
from ._calendar import Calendar
from ._catalogue import Catalogue, Engagement
from ._delay import Delay, Unit
from ._engine import SlaEngine
from ._errors import DelayError
from ._helper import Helper
from ._obligations import OBLIGATION_KINDS, obligation_target
from ._replay import _idle_cores, engine_for, reading_process_reason, rules_of
from ._text import folded, format_day, format_instant, safe_cell
from ._timers import Timer, TimerState, evaluate_contact
from ._view import StoredRecords, decode_record
from ._vocabulary import label

__all__ = ["DIMENSIONS", "build_report", "render_csv", "render_markdown"]

DIMENSIONS = ("engagement", "channel", "category", "service", "site", "month", "school-year")
_COUNTS = ("total", "met", "late", "overdue", "pending", "exempt")


def _start(timer: Timer | dict[str, Any]) -> tuple[dt.datetime | None, str | None]:
    """When a timer started, and the calendar it counts in (a Timer, or one as stored)."""
    if isinstance(timer, dict):
        text = timer["started_at"]  # one contact's: not worth the cache of expiries
        return (None if text is None else dt.datetime.fromisoformat(text)), timer["calendar_key"]
    return timer.started_at, timer.calendar_key


def _start_day(started_at: dt.datetime, cal: Calendar | None) -> dt.date:
    return started_at.astimezone(cal.tz if cal is not None else started_at.tzinfo).date()


_PENDING = frozenset({TimerState.RUNNING.value, TimerState.AT_RISK.value, TimerState.PAUSED.value})
#: The states :meth:`Timer.at` works out again at a given instant.
_AGEING = frozenset({TimerState.RUNNING.value, TimerState.AT_RISK.value, TimerState.OVERDUE.value})
_instant = functools.lru_cache(maxsize=4096)(dt.datetime.fromisoformat)


@functools.lru_cache(maxsize=256)
def _unit(target: str) -> str:
    return Delay.parse(target).unit.value


def _figures(counts: Counter[str]) -> dict[str, Any]:
    figures: dict[str, Any] = {"total": counts.total()}
    figures.update({name: counts.get(name, 0) for name in _COUNTS[1:]})
    judged = figures["met"] + figures["late"] + figures["overdue"]
    # Exact: the reviews round it once, to the tenth of a point they show (a
    # rate kept to four decimals, rounded again, showed 82,3 % for 14/17).
    figures["compliance_rate"] = figures["met"] / judged if judged else None
    return figures


def _nth(histogram: Sequence[tuple[Any, int]], k: int) -> Any:
    """The k-th (0-based) of the values a sorted histogram counts."""
    for value, count in histogram:
        if k < count:
            return value
        k -= count
    raise IndexError(k)  # pragma: no cover - k is always below the total


def _delay(elapsed: Counter[Any], unit: str | None, *, mixed: bool = False) -> dict[str, Any]:
    histogram = sorted(elapsed.items())
    n = elapsed.total()
    if not n or mixed:  # (mixed: counted in several units, which no statistic adds up)
        return {"unit": unit, "count": n, "median": None, "p90": None, "histogram": []}
    # The median as statistics.median gives it (the mean of the middle two of
    # an even count); p90 by the nearest rank: a delay some timer actually took.
    middle = _nth(histogram, n // 2)
    median = middle if n % 2 else (_nth(histogram, n // 2 - 1) + middle) / 2
    return {
        "unit": unit,
        "count": n,
        "median": median,
        "p90": _nth(histogram, max(0, math.ceil(0.9 * n) - 1)),
        "histogram": [{"value": v, "count": c} for v, c in histogram],
    }


def report_timers(
    engine: SlaEngine,
    *,
    catalogue: Catalogue | None = None,
    calendar_spec: Calendar | None = None,
    as_of: dt.datetime | None = None,
) -> tuple[Iterable[Timer | dict[str, Any]], dt.datetime | None, bool]:
    """The timers a report counts, the as-of instant used, and whether it is a what-if.

    From the live view, the timers come one page at a time: a report over
    millions of contacts never holds them all; from a view in a database,
    as they are stored (:meth:`Timer.to_dict`), not as :class:`Timer`
    objects, which would only be built to be counted.
    """
    what_if = catalogue is not None or calendar_spec is not None
    if not what_if:
        # The last event of the whole log: contacts' and sites' alike.
        last = engine.last_event_at()
        instant = as_of or engine._last_log_event_at()
        if instant is None:
            return [], None, False
        if last is None or instant >= last:
            # Nothing happened after ``instant``: the live view, as it stands then.
            at = instant
            records = engine.view.timer_records()
            if records is not None:
                return records, instant, False
            return (
                (t.at(at, engine.calendar_for(t.calendar_key)) for t in engine.view.all_timers()),
                instant,
                False,
            )

    # As of a moment before the last events, or under other rules: evaluate the log again.
    other = catalogue or engine.catalogue
    # As a replay under these rules would count (the catalogue's calendars win).
    calendars = engine._calendars_under(calendar_spec)

    # The last event of the whole log, sites' too, as for the live view.
    instant = as_of or engine._last_log_event_at()
    if instant is None:
        return [], None, what_if
    # A page of the log at a time, counted as they come: never every history at once.
    timers = (t for h in engine.histories() for t in evaluate_contact(h, other, calendars, instant))
    return timers, instant, what_if


class _Tally:
    """Everything a report counts, added one timer at a time."""

    def __init__(self, dimensions: Sequence[str]) -> None:
        self.dimensions = dimensions
        self.by_engagement: dict[str, Counter[str]] = defaultdict(Counter)
        self.elapsed: dict[str, Counter[Any]] = defaultdict(Counter)
        self.units: dict[str, set[str]] = defaultdict(set)
        self.groups: dict[tuple[tuple[str, str | None], ...], Counter[str]] = defaultdict(Counter)
        self.trend: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.breaches: list[tuple[str, str, int, str | None, str, str | None, str | None]] = []

    def add(self, t: Timer, day: dt.date, school_year: str | None = None) -> None:
        self.add_values(
            t.engagement_id,
            t.state.value,
            t.elapsed,
            None if t.target is None else t.target.unit.value,
            (t.channel, t.category, t.service, t.site),
            day,
            (
                t.contact_id,
                t.cycle,
                t.period,
                None if t.due_date is None else t.due_date.isoformat(),
                None if t.stopped_at is None else t.stopped_at.isoformat(),
            ),
            school_year,
        )

    def add_record(
        self,
        record: dict[str, Any],
        at: dt.datetime,
        day: dt.date,
        school_year: str | None = None,
    ) -> None:
        """A timer of the view as stored (:meth:`Timer.to_dict`), as it stands at ``at``.

        What :meth:`Timer.at` then :meth:`add` do, without building the timer twice.
        """
        state = record["state"]
        if state in _AGEING:
            expires = record["expires_at"]
            if expires is not None and at >= _instant(expires):
                state = "overdue"
            elif any(at >= _instant(w) for w in record["warnings"]):
                state = "at_risk"
            else:
                state = "running"
        target = record["target"]
        self.add_values(
            record["engagement_id"],
            state,
            record["elapsed"],
            None if target is None else _unit(target),
            (record["channel"], record["category"], record["service"], record.get("site")),
            day,
            (
                record["contact_id"],
                record["cycle"],
                record.get("period"),  # an obligation's (contacts' timers have none)
                record["due_date"],
                record["stopped_at"],
            ),
            school_year,
        )

    def add_values(
        self,
        engagement: str,
        state: str,
        elapsed: Any,
        unit: str | None,
        classification: tuple[str | None, str | None, str | None, str | None],
        day: dt.date,
        breach: tuple[str, int, str | None, str | None, str | None],
        school_year: str | None = None,
    ) -> None:
        """Count one timer; ``school_year``: its start day's, when grouped by school year."""
        bucket = "pending" if state in _PENDING else state
        self.by_engagement[engagement][bucket] += 1
        if state in ("met", "late") and elapsed is not None:
            self.elapsed[engagement][elapsed] += 1
            if unit is not None:  # the units of the delays counted, not of open ones
                self.units[engagement].add(unit)
        month = f"{day.year:04d}-{day.month:02d}"
        if self.dimensions:
            channel, category, service, site = classification
            values = {
                "engagement": engagement,
                "channel": channel,
                "category": category,
                "service": service,
                "site": site,
                "month": month,
                "school-year": school_year or school_year_of(day),
            }
            self.groups[tuple((name, values[name]) for name in self.dimensions)][bucket] += 1
        self.trend[(engagement, month)][bucket] += 1
        if state in ("late", "overdue"):
            contact_id, cycle, period, due_date, stopped_at = breach
            self.breaches.append(
                (engagement, contact_id, cycle, period, state, due_date, stopped_at)
            )

    def merge(self, other: _Tally) -> None:
        """Add what ``other`` counted (another process's share of the same review)."""
        for mine, theirs in (
            (self.by_engagement, other.by_engagement),
            (self.elapsed, other.elapsed),
            (self.groups, other.groups),
            (self.trend, other.trend),
        ):
            for key, counts in theirs.items():
                mine[key].update(counts)  # type: ignore[index]
        for engagement, units in other.units.items():
            self.units[engagement] |= units
        self.breaches += other.breaches


class _Counting:
    """Adds timers to a tally: those started in the period, counted as they stand at ``at``."""

    def __init__(
        self,
        tally: _Tally,
        calendar_for: Callable[[str | None], Calendar],
        at: dt.datetime | None,
        start: dt.date | None,
        end: dt.date | None,
    ) -> None:
        self.tally, self.calendar_for, self.at = tally, calendar_for, at
        self.start, self.end = start, end
        self.calendars: dict[str | None, Calendar] = {}

    def add(self, t: Timer | dict[str, Any]) -> None:
        started_at, key = _start(t)
        if started_at is None:
            return
        cal = self.calendars.get(key)
        if cal is None:
            cal = self.calendars[key] = self.calendar_for(key)
        day = _start_day(started_at, cal)
        if (self.start is not None and day < self.start) or (
            self.end is not None and day > self.end
        ):
            return
        # The school year as obligations count it: from 1 August, or the
        # calendar year in a zone whose school year is one (Nouvelle-Calédonie).
        school_year = (
            school_year_of(day, cal.school_zone) if "school-year" in self.tally.dimensions else None
        )
        if isinstance(t, dict):
            assert self.at is not None  # noqa: S101 - a view's timers come with their as_of
            self.tally.add_record(t, self.at, day, school_year)
        else:
            self.tally.add(t, day, school_year)

    def add_texts(
        self, texts: Iterable[str], decode: Callable[[str], dict[str, Any]] = decode_record
    ) -> None:
        """Timers of a view as stored (``decode`` reads them: the view's own, if encrypted)."""
        add = self.add
        for text in texts:
            add(decode(text))


#: Pages of a database view a review counts alone before it starts a helper
#: process for every other page (a small view is counted before one would start).
PAGES_ALONE = 10


def _count_view(
    engine: SlaEngine,
    records: StoredRecords,
    counting: _Counting,
    request: tuple[Any, ...],
    jobs: int | None,
) -> None:
    """Count a database view's timers; with a helper process for half of its pages."""
    helper = None
    decode = records.view._record if records.encrypted else decode_record
    wanted = jobs is None or jobs > 1
    if records.encrypted or reading_process_reason(engine) is not None:
        wanted = False  # the helper would need the key, or could not build the same rules
    try:
        for number, page in enumerate(records.pages()):
            if helper is None:
                if wanted and number == PAGES_ALONE and (jobs is not None or _idle_cores() >= 1):
                    helper = Helper(request)
            elif number % 2:
                helper.send(page)
                continue
            counting.add_texts(page, decode)
        if helper is not None:
            for other in helper.results(more=True):
                counting.tally.merge(other)
    finally:
        if helper is not None:
            helper.stop()


def tally_into(arguments: Sequence[Any], inbox: BinaryIO, out: BinaryIO) -> None:
    """The helper process of a review: counts the pages it is sent, then writes its tally."""
    rules, at, start, end, dimensions = arguments
    engine = engine_for(rules)
    tally = _Tally(dimensions)
    counting = _Counting(tally, engine.calendar_for, at, start, end)
    while (page := pickle.load(inbox)) is not None:  # noqa: S301 - from our parent
        counting.add_texts(page)
    pickle.dump(tally, out, protocol=pickle.HIGHEST_PROTOCOL)


def build_report(
    engine: SlaEngine,
    *,
    catalogue: Catalogue | None = None,
    calendar_spec: Calendar | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    as_of: dt.datetime | None = None,
    by: Iterable[str] = (),
    lang: str = "fr",
    jobs: int | None = None,
) -> dict[str, Any]:
    """The compliance review of the engine's events, as plain data (the JSON contract).

    ``jobs=2`` counts half of a large SQLite view in a second process (the
    same figures: the two tallies add up); ``None`` does when a core is idle.
    """
    dimensions = list(by)
    for name in dimensions:
        if name not in DIMENSIONS:
            raise ValueError(f"unknown grouping {name!r}; known: {', '.join(DIMENSIONS)}")
    timers, instant, what_if = report_timers(
        engine, catalogue=catalogue, calendar_spec=calendar_spec, as_of=as_of
    )
    rules = catalogue or engine.catalogue
    default = calendar_spec or engine.default_calendar
    tally = _Tally(dimensions)
    calendars = engine._calendars_under(calendar_spec)
    counting = _Counting(tally, calendars, instant, start, end)
    if isinstance(timers, StoredRecords):
        request = (
            "tally",
            rules_of(engine),
            instant,
            start,
            end,
            dimensions,
        )
        _count_view(engine, timers, counting, request, jobs)
    else:
        for t in timers:
            counting.add(t)
    # Obligations (site events), evaluated at the same instant under the same
    # rules, for the school years status_as_of gives: those with site events,
    # and the one holding the instant (owed from its rentrée, events or not).
    instant = instant or as_of or engine.last_site_event_at()
    if instant is not None and engine._has_obligations(catalogue or engine.catalogue):
        counting.at = instant
        for t in engine.obligation_timers(
            instant,
            catalogue=catalogue,
            calendar_spec=calendar_spec,
            school_years=engine.obligation_years(instant),
        ):
            counting.add(t)

    engagements = []
    for e in rules.engagements:
        if e.kind.value == "manual":
            continue
        counts = tally.by_engagement.get(e.id, Counter())
        unit = None if e.target is None else e.target.unit.value
        # Delays in several units (announced ones, a complex case's « 2 mois »
        # beside « 10 jours ouvrés »): no statistic adds months to days.
        units = set(tally.units.get(e.id, ()))
        mixed = len(units) > 1
        if units:
            unit = units.pop() if not mixed else None
        entry: dict[str, Any] = {
            "id": e.id,
            "title": e.title,
            "source": e.source,
            "kind": e.kind.value,
            # As the catalogue states it, in French whatever the review's language
            # (a key to compare reviews by); its label is in the review's.
            "target": "announced"
            if e.target_announced
            else (str(e.target) if e.target is not None else obligation_target(e, "fr", key=True)),
            "target_label": _target_label(e, lang),
            # The calendar it counts in: the review's, unless its catalogue names one.
            "calendar": calendars(rules.calendar_for(e)).spec,
        }
        entry.update(_figures(counts))
        entry["delay"] = _delay(tally.elapsed.get(e.id, Counter()), unit, mixed=mixed)
        engagements.append(entry)

    groups = [
        {"by": dict(key), **_figures(tally.groups[key])}
        for key in sorted(tally.groups, key=lambda k: [(n, v or "") for n, v in k])
    ]
    trend = [
        {"engagement": e, "month": m, **_figures(tally.trend[(e, m)])}
        for e, m in sorted(tally.trend)
    ]
    tally.breaches.sort(key=lambda b: (b[0], b[1], b[2]))
    breaches = [
        {
            "engagement": engagement,
            "contact_id": contact_id,
            "cycle": cycle,
            # An obligation's period, as explain-obligation --period takes it (the
            # day 2025-09-02, the week 2025-W37, the school year 2025-2026); its
            # cycle is only a number within the school year.  None for a contact.
            "period": period,
            "state": state,
            "due_date": due_date,
            "stopped_at": stopped_at,
        }
        for engagement, contact_id, cycle, period, state, due_date, stopped_at in tally.breaches
    ]
    return {
        "format": 1,
        "generated_by": f"sla-engine {__version__}",
        "lang": lang,
        "as_of": None if instant is None else instant.isoformat(),
        "catalogue": {
            "id": rules.id,
            "title": rules.title,
            "version": rules.version,
            "fingerprint": rules.fingerprint,
        },
        "calendar": default.spec,
        "calendar_version": default.data_version,
        "what_if": what_if,
        "period": {
            "from": None if start is None else start.isoformat(),
            "to": None if end is None else end.isoformat(),
        },
        "by": dimensions,
        "engagements": engagements,
        "groups": groups,
        "trend": trend,
        "breaches": breaches,
    }


# -- renderers ---------------------------------------------------------------------

_HEADERS = {
    "fr": {
        "engagement": "engagement",
        "title": "intitulé",
        "target": "objectif",
        "total": "total",
        "met": "tenus",
        "late": "en retard",
        "overdue": "en dépassement",
        "pending": "en cours",
        "exempt": "exemptés",
        "compliance_rate": "taux de respect",
        "median": "délai médian",
        "p90": "délai p90",
        "unit": "unité",
        "channel": "canal",
        "category": "catégorie",
        "service": "service",
        "site": "site",
        "month": "mois",
        "school-year": "année scolaire",
    },
    "en": {
        "engagement": "engagement",
        "title": "title",
        "target": "target",
        "total": "total",
        "met": "met",
        "late": "late",
        "overdue": "overdue",
        "pending": "pending",
        "exempt": "exempt",
        "compliance_rate": "compliance rate",
        "median": "median delay",
        "p90": "p90 delay",
        "unit": "unit",
        "channel": "channel",
        "category": "category",
        "service": "service",
        "site": "site",
        "month": "month",
        "school-year": "school year",
    },
}


#: The groupings whose values are codes, said in the review's language for people.
_WORDED = frozenset({"channel", "category"})

_COUNT_COLUMNS = ("total", "met", "late", "overdue", "pending", "exempt", "compliance_rate")


_folded = folded  # to sort by


def _grouped(report: dict[str, Any], per_group: bool | None) -> bool:
    """Whether :func:`table` gives the table per group: by default, when grouped (``--by``).

    A grouped review of a period with nothing in it still has the table per
    group, without rows: not the table per engagement under its headers.
    """
    if per_group is not None:
        return per_group
    return bool(report.get("by") or report.get("groups"))


def _table(
    report: dict[str, Any], per_group: bool | None = None
) -> tuple[list[str], list[list[Any]]]:
    """:func:`table`, its columns as keys of ``_HEADERS`` (``compliance_rate``, ``median``)."""
    lang = report.get("lang", "fr")
    counts = list(_COUNT_COLUMNS)
    if _grouped(report, per_group):
        by = list(report.get("by") or [])
        columns = by + counts

        def value(dimension: str, code: Any) -> Any:
            if dimension in _WORDED and isinstance(code, str):
                return label(code, lang)
            return code

        rows = [
            [value(d, g["by"].get(d)) for d in by] + [g[c] for c in counts]
            for g in report.get("groups") or []
        ]

        def order(row: list[Any]) -> list[tuple[str, str]]:
            # By what the row shows, in the review's language: French rows
            # « demande d'information, réclamation, rendez-vous », not in the
            # order of their English codes; months and ids as they are.
            return [
                (
                    _folded(str(v)) if d in _WORDED and v is not None else "",
                    "" if v is None else str(v),
                )
                for d, v in zip(by, row, strict=False)
            ]

        rows.sort(key=order)
    else:
        columns = ["engagement", "title", "target", *counts, "median", "p90", "unit"]
        rows = [
            [e["id"], e["title"], _shown_target(e, lang)]
            + [e[c] for c in counts]
            + [e["delay"]["median"], e["delay"]["p90"], _unit_in(e["delay"]["unit"], lang)]
            for e in report["engagements"]
        ]
    return columns, rows


def table(
    report: dict[str, Any], per_group: bool | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The report's main table: per group when grouped, else per engagement.

    Its headers are in the review's language, and so are channels and
    categories, as ``explain`` says them (« courriel », « demande
    d'information »), its rows in the order of those words; the JSON keeps
    their codes (``email``, ``information``), in their order.
    ``per_group=False`` gives the table per engagement of a grouped review.
    """
    columns, rows = _table(report, per_group)
    return [_HEADERS[report.get("lang", "fr")][c] for c in columns], rows


def shown_table(
    report: dict[str, Any], per_group: bool | None = None
) -> tuple[list[str], list[list[Any]]]:
    """:func:`table` as the Markdown and HTML reviews show it to people.

    Months are named (« sept. 2025 », not ``2025-09``, which the CSV keeps);
    a unit is shown beside the delays it counts only (« — » when there are
    none, as for the engagements that count none); a number and its unit
    (« 9 h ») are not split across lines.
    """
    lang = report.get("lang", "fr")
    columns, rows = _table(report, per_group)
    shown = []
    for row in rows:
        cells = dict(zip(columns, row, strict=True))
        if "unit" in cells and cells.get("median") is None and cells.get("p90") is None:
            cells["unit"] = None
        if cells.get("month") is not None:
            cells["month"] = month_text(cells["month"], lang)
        if isinstance(cells.get("target"), str):
            cells["target"] = typeset(cells["target"])
        shown.append([cells[c] for c in columns])
    return [_HEADERS[lang][c] for c in columns], shown


#: A target « announced » (the delay each acknowledgement announced), as reviews name it.
_ANNOUNCED = {"fr": "délai annoncé", "en": "announced delay"}


def _target_label(engagement: Engagement, lang: str) -> str | None:
    """An engagement's target in the review's language (« 10 business days »)."""
    if engagement.target_announced:
        return _ANNOUNCED[lang]
    if engagement.target is not None:
        return engagement.target.label(lang)
    return obligation_target(engagement, lang)


def _shown_target(entry: dict[str, Any], lang: str) -> str | None:
    """The target a review shows: its label (reviews written before it had none)."""
    return entry["target_label"] if "target_label" in entry else _target_in(entry["target"], lang)


def _target_in(target: str | None, lang: str) -> str | None:
    """A delay target in the review's language (the JSON keeps the French, canonical)."""
    if lang == "fr" or target is None or target == "announced":
        return target
    try:
        return Delay.parse(target).label(lang)
    except DelayError:  # an obligation's target, written in the review's language already
        return target


def _unit_in(unit: str | None, lang: str) -> str | None:
    if lang == "fr" or unit is None:
        return unit
    try:
        return Unit.parse(unit).label(2, lang)
    except DelayError:
        return unit


def render_csv(report: dict[str, Any], *, spreadsheet: bool = False) -> str:
    """The review's table as CSV (RFC 4180: ``,`` between cells, ``.`` in numbers).

    ``spreadsheet=True`` writes it for a spreadsheet opened by double-click:
    a UTF-8 byte-order mark, without which Excel reads the accents as
    Windows-1252 (« dÃ©lai »), and, for a French review, ``;`` between cells
    and decimal commas, as Excel expects them with French regional settings
    (else each row lands in one cell and ``0.8`` is read as text).

    Both hold the same cells, in the review's language as its headers are
    (« courriel » where the JSON has ``email``), a median or p90 written
    one way (``3``, ``2.5``: not ``3.0`` beside ``3``); the spreadsheet's
    compliance rate is rounded once to the tenth of a point the reviews show
    (``0,864`` for 86,4 %), the CSV's is exact, as the JSON's.  A what-if's
    table starts with a column saying so on every row
    (:data:`WHAT_IF_COLUMN`): a comment line above the header is no CSV to
    most readers, and a row copied elsewhere keeps its mark.
    """
    lang = report.get("lang", "fr")
    columns, rows = _table(report)
    header = [_HEADERS[lang][c] for c in columns]
    rows = [
        [_csv_number(c, v, spreadsheet) for c, v in zip(columns, row, strict=True)] for row in rows
    ]
    if report.get("what_if"):
        name, mark = WHAT_IF_COLUMN[lang]
        header = [name, *header]
        rows = [[mark, *row] for row in rows]
    french = spreadsheet and lang == "fr"
    out = io.StringIO()
    if spreadsheet:
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if french else ",", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_decimal_comma(v) if french else safe_cell(v) for v in row])
    return out.getvalue()


#: A what-if's first CSV column: its name, and its value on every row.
WHAT_IF_COLUMN = {"fr": ("simulation", "oui"), "en": ("what-if", "yes")}


def _csv_number(column: str, value: Any, spreadsheet: bool) -> Any:
    """A cell's number as the CSV writes it: ``3`` for a median of 3.0, as for one of 3."""
    if isinstance(value, bool) or not isinstance(value, float) or not math.isfinite(value):
        return value
    if column == "compliance_rate":
        if not spreadsheet:
            return value  # exact, as the JSON has it
        # Once, to the tenth of a point the reviews show, a half up (13/16: 0.813).
        return _Rounded(format(_rate_rounded(value).normalize(), "f"))  # 0.864, 0.5, 1
    if value.is_integer():
        return int(value)
    return value


class _Rounded(str):
    """A rate rounded for a spreadsheet, as text (``0.864``): a decimal comma in French."""

    __slots__ = ()


def _decimal_comma(value: Any) -> Any:
    """A cell for a French spreadsheet: ``0,75`` rather than ``0.75``."""
    if isinstance(value, float):
        return repr(value).replace(".", ",")
    if isinstance(value, _Rounded):
        return value.replace(".", ",")
    return safe_cell(value)


def format_number(value: Any, lang: str) -> str:
    """A count or a delay, written the language's way (``1 234,5`` / ``1,234.5``)."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if not value.is_integer():
            text = f"{value:,.2f}".rstrip("0").rstrip(".")
            return text.translate({ord(","): "\u202f", ord("."): ","}) if lang == "fr" else text
        value = int(value)
    text = f"{value:,}"
    return text.replace(",", "\u202f") if lang == "fr" else text


def format_percent(rate: Any, lang: str) -> str:
    """A compliance rate (0..1) as a percentage with one decimal: ``33,3 %`` / ``33.3%``."""
    if rate is None:
        return "—"
    text = _tenth_of_a_point(rate)
    return text.replace(".", ",") + "\u00a0%" if lang == "fr" else text + "%"


def _tenth_of_a_point(rate: Any) -> str:
    """``rate`` × 100 to one decimal, a half rounded up (13/16: 81.3, as a spreadsheet's ROUND).

    ``f"{x:.1f}"`` rounds the binary value half to even: 81.25 gave 81.2.
    """
    return str((_rate_rounded(rate) * 100).quantize(decimal.Decimal("0.1")))


def _rate_rounded(rate: Any) -> decimal.Decimal:
    """``rate`` rounded once, a half up, to the tenth of a point the reviews show (13/16: 0.813)."""
    exact = decimal.Decimal(repr(float(rate)))
    return exact.quantize(decimal.Decimal("0.001"), rounding=decimal.ROUND_HALF_UP)


def _md(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{_tenth_of_a_point(value)}%" if value <= 1 else f"{value:g}"
    # Backslashes first: one before a bar would otherwise escape its escape.
    text = str(value).replace("\\", "\\\\").replace("|", "\\|")
    text = " ".join(text.splitlines())
    return text.replace("<", "&lt;").replace(">", "&gt;")


def own_calendars(report: dict[str, Any]) -> dict[str, list[str]]:
    """The engagements counted in another calendar than the review's, by calendar.

    Those whose catalogue names a calendar keep it, in a what-if under
    another calendar too: a review headed « fr+B » says which count in « fr+A ».
    """
    own: dict[str, list[str]] = {}
    for entry in report["engagements"]:
        spec = entry.get("calendar")  # reviews written before it had none
        if spec is not None and spec != report["calendar"]:
            own.setdefault(spec, []).append(entry["id"])
    return own


#: The line that names them (French, English).
OWN_CALENDAR = {
    "fr": "calendrier {spec}, nommé par le catalogue",
    "en": "calendar {spec}, named by the catalogue",
}


#: The titles of the tables of a grouped review, Markdown's and HTML's.
SECTION_TITLES = {
    "fr": {"engagements": "Résultats par engagement", "groups": "Détail par {dims}"},
    "en": {"engagements": "Results per engagement", "groups": "Breakdown by {dims}"},
}


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]], lang: str) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
    ]
    for row in rows:
        cells = []
        for column, value in zip(header, row, strict=True):
            if column in (_HEADERS["fr"]["compliance_rate"], _HEADERS["en"]["compliance_rate"]):
                cells.append(format_percent(value, lang))  # as the HTML review writes it
            elif isinstance(value, float) or (isinstance(value, int) and value >= 1000):
                cells.append(format_number(value, lang))  # 1 458, as the HTML writes it
            else:
                cells.append(_md(value))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


#: Said of a grouped review's table per group when the period holds nothing.
NOTHING_TO_BREAK_DOWN = {
    "fr": "Rien à détailler sur la période.",
    "en": "Nothing to break down in the period.",
}

#: The obligations' breaches whose period ended without what was owed (:func:`not_kept`).
NOT_KEPT = {"fr": "non tenu", "en": "not kept"}

_MD_NOT_KEPT = {
    "fr": (
        "Non tenus, comptés en retard ci-dessus (période d'obligation achevée sans "
        "l'événement attendu ou l'amplitude promise) : {counts}."
    ),
    "en": (
        "Not kept, counted as late above (an obligation's period that ended without the "
        "expected event or the promised hours): {counts}."
    ),
}


def render_markdown(report: dict[str, Any]) -> str:
    """The review in Markdown: its rules, then the table per engagement.

    Grouped (``--by``), the table per group follows it, each under its
    title, as in the HTML review; a period with nothing to group says so
    under that title.  Dates and months are written for people, in the
    review's language, as the HTML review writes them.
    """
    lang = report.get("lang", "fr")
    fr = lang == "fr"
    title = "Bilan des engagements de service" if fr else "Service engagements review"
    colon = " :" if fr else ":"
    rules = report["catalogue"]
    catalogue = f"{_md(rules['id'])} {_md(rules['version'])}"
    if rules.get("fingerprint"):  # which rules, exactly, as the HTML review says
        catalogue += f" ({_md(rules['fingerprint'])})"
    calendar = _md(report["calendar"])
    if report.get("calendar_version"):
        calendar += f" ({_md(report['calendar_version'])})"
    period = report.get("period") or {}
    first, last = period.get("from"), period.get("to")
    lines = [
        f"# {title}",
        "",
        f"- catalogue{colon} {catalogue}",
        f"- {'calendrier' if fr else 'calendar'}{colon} {calendar}",
    ]
    for spec, ids in own_calendars(report).items():
        named = OWN_CALENDAR["fr" if fr else "en"].format(spec=_md(spec))
        lines.append(f"- {named}{colon} {', '.join(_md(i) for i in ids)}")
    as_of = report["as_of"]
    lines.append(
        f"- {'situation au' if fr else 'as of'}{colon} "
        f"{_md(None if as_of is None else instant_text(as_of, lang))}"
    )
    if first or last:  # a review of part of the log says which part
        lines.append(
            f"- {'période' if fr else 'period'}{colon} {_md(period_text(first, last, lang))}"
        )
    if report["what_if"]:
        lines.append(
            "- **Simulation : autres règles que celles du rejeu**"
            if fr
            else "- **What-if: other rules than the replay's**"
        )
    header, rows = shown_table(report, per_group=False)
    if not _grouped(report, None):
        lines += ["", *_md_table(header, rows, lang)]
        return "\n".join(lines + _md_not_kept(report, lang)) + "\n"
    titles = SECTION_TITLES["fr" if fr else "en"]
    names = _HEADERS["fr" if fr else "en"]
    dims = ", ".join(names.get(d, d) for d in report.get("by") or [])
    lines += ["", f"## {titles['engagements']}", "", *_md_table(header, rows, lang)]
    header, rows = shown_table(report, per_group=True)
    lines += ["", f"## {_md(titles['groups'].format(dims=dims))}", ""]
    lines += _md_table(header, rows, lang) if rows else [NOTHING_TO_BREAK_DOWN[lang]]
    return "\n".join(lines + _md_not_kept(report, lang)) + "\n"


def _md_not_kept(report: dict[str, Any], lang: str) -> list[str]:
    """The line that says which obligations' « en retard » were not kept at all."""
    counts = Counter(b["engagement"] for b in not_kept(report))
    if not counts:
        return []
    order = [e["id"] for e in report["engagements"] if e["id"] in counts]
    listed = ", ".join(f"{_md(e)} {format_number(counts[e], lang)}" for e in order)
    return ["", _MD_NOT_KEPT[lang].format(counts=listed)]


# -- for people: dates, months, periods, words --------------------------------------------
# The Markdown and HTML reviews write them so; the CSV and the JSON keep ISO dates and codes.


def obligation_ids(report: dict[str, Any]) -> set[str]:
    """The review's engagements measured from site events (an obligation's breach is a period)."""
    return {
        str(e.get("id"))
        for e in report.get("engagements") or []
        if e.get("kind") in OBLIGATION_KINDS
    }


def not_kept(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The obligations' breaches whose period ended without what was owed: « non tenu ».

    The JSON counts them as ``late`` (its code), but they never stopped: a
    school never visited, a week without a publication, a day the phone line
    fell short of its hours.  An obligation stopped after its deadline (the
    visit came, late) has its ``stopped_at``; one not kept has none.
    """
    obligations = obligation_ids(report)
    return [
        b
        for b in report.get("breaches") or []
        if b.get("engagement") in obligations
        and b.get("state") == "late"
        and b.get("stopped_at") is None
    ]


def day_text(value: Any, lang: str) -> str:
    """An ISO date as people write it (``1er janvier 2025``), else the text as it is."""
    try:
        day = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return format_day(day, lang, weekday=False)


def instant_text(value: Any, lang: str) -> str:
    """``vendredi 28 août 2026 à 10:48 (UTC+02:00)``, else the text as it is."""
    try:
        instant = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if instant.tzinfo is None:
        return f"{format_day(instant.date(), lang, weekday=False)} {instant:%H:%M}"
    return format_instant(instant, lang)


def short_instant_text(value: Any, lang: str) -> str:
    """``8 octobre 2025 à 15:49`` / ``8 October 2025 at 15:49``, for a table cell.

    In the instant's own offset, which a ``<time datetime>`` attribute keeps.
    """
    try:
        instant = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    at = "à" if lang == "fr" else "at"
    return f"{format_day(instant.date(), lang, weekday=False)} {at} {instant:%H:%M}"


def month_parts(value: Any, lang: str) -> tuple[str, str]:
    """A ``YYYY-MM`` month as (short month name, year); other text as (text, "")."""
    try:
        day = dt.date.fromisoformat(f"{value}-01")
    except ValueError:
        return str(value), ""
    name = pendulum.Date(day.year, day.month, 1).format("MMM", locale=lang)
    return name, str(day.year)


def month_text(value: Any, lang: str) -> str:
    """``sept. 2025`` / ``Sep 2025``, as the trend table names a month."""
    name, year = month_parts(value, lang)
    return f"{name} {year}".strip()


#: A review's span, as its header says it.
PERIOD_WORDS = {
    "fr": {
        "whole_log": "tout le journal",
        "from_to": "du {start} au {end}",
        "from": "depuis le {start}",
        "to": "jusqu'au {end}",
    },
    "en": {
        "whole_log": "whole log",
        "from_to": "from {start} to {end}",
        "from": "from {start}",
        "to": "until {end}",
    },
}


def period_text(first: Any, last: Any, lang: str) -> str:
    """``du 1er novembre 2025 au 30 novembre 2025``; ``tout le journal`` without bounds."""
    words = PERIOD_WORDS[lang]
    if first and last:
        return words["from_to"].format(start=day_text(first, lang), end=day_text(last, lang))
    if first:
        return words["from"].format(start=day_text(first, lang))
    if last:
        return words["to"].format(end=day_text(last, lang))
    return words["whole_log"]


_HEADING = {
    "fr": {
        "annual": "Bilan annuel {year}",
        "day": "Bilan du {day}",
        "span": "Bilan du {start} au {end}",
        "from": "Bilan depuis le {start}",
        "to": "Bilan jusqu'au {end}",
        "as_of": "Bilan au {day}",
        "plain": "Bilan",
    },
    "en": {
        "annual": "Annual review {year}",
        "day": "Review of {day}",
        "span": "Review from {start} to {end}",
        "from": "Review from {start}",
        "to": "Review until {end}",
        "as_of": "Review as of {day}",
        "plain": "Review",
    },
}


def heading_text(report: dict[str, Any], lang: str) -> str:
    """What the review covers, as its heading says it.

    « Bilan annuel 2025-2026 » for a whole school year (1 August to 31
    July, as ``--by school-year`` counts it), « Bilan annuel 2025 » for a
    whole civil year; else the period (« Bilan du 1er au 30 novembre
    2025 »), and without one the review's day (« Bilan au 28 août 2026 »).
    """
    words = _HEADING[lang]
    period = report.get("period") or {}
    first, last = _iso_day(period.get("from")), _iso_day(period.get("to"))
    if first is not None and last is not None:
        if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and (
            first.year == last.year
        ):
            return words["annual"].format(year=first.year)
        if (first.month, first.day, last.month, last.day) == (8, 1, 7, 31) and (
            last.year == first.year + 1
        ):
            return words["annual"].format(year=f"{first.year}-{last.year}")
        if first == last:
            return words["day"].format(day=format_day(first, lang, weekday=False))
        end = format_day(last, lang, weekday=False)
        if first.year != last.year:
            start = format_day(first, lang, weekday=False)
        elif first.month != last.month:
            start = format_day(first, lang, weekday=False, year=False)
        else:  # « du 1er au 30 novembre 2025 »
            start = "1er" if lang == "fr" and first.day == 1 else str(first.day)
        return words["span"].format(start=start, end=end)
    if first is not None:
        return words["from"].format(start=format_day(first, lang, weekday=False))
    if last is not None:
        return words["to"].format(end=format_day(last, lang, weekday=False))
    as_of = report.get("as_of")
    try:
        day = dt.datetime.fromisoformat(str(as_of)).date()
    except ValueError:
        return words["plain"]
    return words["as_of"].format(day=format_day(day, lang, weekday=False))


def _iso_day(value: Any) -> dt.date | None:
    try:
        return None if value is None else dt.date.fromisoformat(str(value))
    except ValueError:
        return None


#: A number and its unit, kept on one line: « 9 h », « 90 % » (as « 86,4 % » is written).
_NUMBER_AND_UNIT = re.compile(r"(?<=\d) (?=(?:h|%)(?!\w))")


def typeset(text: str) -> str:
    """``text`` with a no-break space between a number and « h » or « % » (« 9\u00a0h »)."""
    return _NUMBER_AND_UNIT.sub("\u00a0", text)
