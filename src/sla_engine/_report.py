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
import io
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from . import __version__
from ._calendar import Calendar
from ._catalogue import Catalogue
from ._engine import SlaEngine
from ._obligations import obligation_target
from ._timers import Timer, TimerState, evaluate_contact

__all__ = ["DIMENSIONS", "build_report", "render_csv", "render_markdown"]

DIMENSIONS = ("engagement", "channel", "category", "service", "site", "month", "school-year")
_COUNTS = ("total", "met", "late", "overdue", "pending", "exempt")


def _school_year(day: dt.date) -> str:
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{first + 1}"


def _start_day(started_at: dt.datetime, cal: Calendar | None) -> dt.date:
    return started_at.astimezone(cal.tz if cal is not None else started_at.tzinfo).date()


def _bucket(state: TimerState) -> str:
    if state in (TimerState.RUNNING, TimerState.AT_RISK, TimerState.PAUSED):
        return "pending"
    return state.value


def _figures(timers: Sequence[Timer]) -> dict[str, Any]:
    counts = Counter(_bucket(t.state) for t in timers)
    figures: dict[str, Any] = {"total": len(timers)}
    figures.update({name: counts.get(name, 0) for name in _COUNTS[1:]})
    judged = figures["met"] + figures["late"] + figures["overdue"]
    figures["compliance_rate"] = round(figures["met"] / judged, 4) if judged else None
    return figures


def _delay(timers: Sequence[Timer], unit: str | None) -> dict[str, Any]:
    values = sorted(
        t.elapsed
        for t in timers
        if t.state in (TimerState.MET, TimerState.LATE) and t.elapsed is not None
    )
    if not values:
        return {"unit": unit, "count": 0, "median": None, "p90": None, "histogram": []}
    # p90 by the nearest rank: a delay some stopped timer actually took.
    p90 = values[max(0, math.ceil(0.9 * len(values)) - 1)]
    histogram = sorted(Counter(values).items())
    return {
        "unit": unit,
        "count": len(values),
        "median": statistics.median(values),
        "p90": p90,
        "histogram": [{"value": v, "count": c} for v, c in histogram],
    }


def report_timers(
    engine: SlaEngine,
    *,
    catalogue: Catalogue | None = None,
    calendar_spec: Calendar | None = None,
    as_of: dt.datetime | None = None,
) -> tuple[list[Timer], dt.datetime | None, bool]:
    """The timers a report counts, the as-of instant used, and whether it is a what-if."""
    what_if = catalogue is not None or calendar_spec is not None
    if not what_if:
        stored = engine.stored_timers()
        # The last event of the whole log, not only of contacts that have timers.
        last = engine.last_event_at()
        instant = as_of or last
        if instant is None:
            return [], None, False
        if last is None or instant >= last:
            # Nothing happened after ``instant``: the live view, as it stands then.
            return (
                [t.at(instant, engine.calendar_for(t.calendar_key)) for t in stored],
                instant,
                False,
            )

    # As of a moment before the last events, or under other rules: evaluate the log again.
    other = catalogue or engine.catalogue
    default = calendar_spec or engine.default_calendar

    def calendars(key: str | None) -> Calendar:
        return default if key is None or calendar_spec is not None else engine.calendar_for(key)

    histories = list(engine.histories())
    last_event = max((h[-1].occurred_at for h in histories if h), default=None)
    instant = as_of or last_event
    if instant is None:
        return [], None, what_if
    timers = [t for h in histories for t in evaluate_contact(h, other, calendars, instant)]
    return timers, instant, what_if


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
) -> dict[str, Any]:
    """The compliance review of the engine's events, as plain data (the JSON contract)."""
    dimensions = list(by)
    for name in dimensions:
        if name not in DIMENSIONS:
            raise ValueError(f"unknown grouping {name!r}; known: {', '.join(DIMENSIONS)}")
    timers, instant, what_if = report_timers(
        engine, catalogue=catalogue, calendar_spec=calendar_spec, as_of=as_of
    )
    # Obligations (site events), evaluated at the same instant under the same rules.
    instant = instant or as_of or engine.last_site_event_at()
    if instant is not None:
        timers += engine.obligation_timers(
            instant, catalogue=catalogue, calendar_spec=calendar_spec
        )
    rules = catalogue or engine.catalogue
    default = calendar_spec or engine.default_calendar
    calendars = {key: engine.calendar_for(key) for key in {t.calendar_key for t in timers}}
    if calendar_spec is not None:
        calendars = dict.fromkeys(calendars, calendar_spec)
    measured = [e for e in rules.engagements if e.kind.value != "manual"]
    selected = []
    for t in timers:
        if t.started_at is None:
            continue
        day = _start_day(t.started_at, calendars.get(t.calendar_key))
        if (start is None or day >= start) and (end is None or day <= end):
            selected.append((t, day))
    by_engagement: dict[str, list[Timer]] = defaultdict(list)
    for t, _ in selected:
        by_engagement[t.engagement_id].append(t)
    engagements = []
    for e in measured:
        own = by_engagement.get(e.id, [])
        unit = None if e.target is None else e.target.unit.value
        if e.target is None and own:
            units = {t.target.unit.value for t in own if t.target is not None}
            unit = units.pop() if len(units) == 1 else None
        entry: dict[str, Any] = {
            "id": e.id,
            "title": e.title,
            "source": e.source,
            "kind": e.kind.value,
            "target": "announced"
            if e.target_announced
            else (str(e.target) if e.target is not None else obligation_target(e, lang)),
        }
        entry.update(_figures(own))
        entry["delay"] = _delay(own, unit)
        engagements.append(entry)

    def keys(t: Timer, day: dt.date) -> dict[str, str | None]:
        values = {
            "engagement": t.engagement_id,
            "channel": t.channel,
            "category": t.category,
            "service": t.service,
            "site": t.site,
            "month": day.strftime("%Y-%m"),
            "school-year": _school_year(day),
        }
        return {name: values[name] for name in dimensions}

    groups = []
    if dimensions:
        grouped: dict[tuple[tuple[str, str | None], ...], list[Timer]] = defaultdict(list)
        for t, day in selected:
            grouped[tuple(keys(t, day).items())].append(t)
        for key in sorted(grouped, key=lambda k: [(n, v or "") for n, v in k]):
            groups.append({"by": dict(key), **_figures(grouped[key])})
    trend_groups: dict[tuple[str, str], list[Timer]] = defaultdict(list)
    for t, day in selected:
        trend_groups[(t.engagement_id, day.strftime("%Y-%m"))].append(t)
    trend = [
        {"engagement": e, "month": m, **_figures(trend_groups[(e, m)])}
        for e, m in sorted(trend_groups)
    ]
    breaches = [
        {
            "engagement": t.engagement_id,
            "contact_id": t.contact_id,
            "cycle": t.cycle,
            "state": t.state.value,
            "due_date": None if t.due_date is None else t.due_date.isoformat(),
            "stopped_at": None if t.stopped_at is None else t.stopped_at.isoformat(),
        }
        for t, _ in sorted(
            selected, key=lambda p: (p[0].engagement_id, p[0].contact_id, p[0].cycle)
        )
        if t.state in (TimerState.LATE, TimerState.OVERDUE)
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


def table(report: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The report's main table: per group when grouped, else per engagement."""
    names = _HEADERS[report.get("lang", "fr")]
    counts = ["total", "met", "late", "overdue", "pending", "exempt", "compliance_rate"]
    if report["groups"]:
        columns = list(report["by"]) + counts
        rows = [
            [g["by"][d] for d in report["by"]] + [g[c] for c in counts] for g in report["groups"]
        ]
    else:
        columns = ["engagement", "title", "target", *counts, "median", "p90", "unit"]
        rows = [
            [e["id"], e["title"], e["target"]]
            + [e[c] for c in counts]
            + [e["delay"]["median"], e["delay"]["p90"], e["delay"]["unit"]]
            for e in report["engagements"]
        ]
    return [names[c] for c in columns], rows


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will not run: text starting like a formula gets a leading quote.

    Line breaks inside a cell become spaces: a reader that splits rows on a
    lone carriage return must not find a formula at the start of a new row.
    """
    if isinstance(value, str):
        value = value.replace("\r", " ").replace("\n", " ")
        if value.startswith(_FORMULA_START):
            return "'" + value
    return "" if value is None else value


def render_csv(report: dict[str, Any]) -> str:
    header, rows = table(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180

    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def _md(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:g}"
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def render_markdown(report: dict[str, Any]) -> str:
    fr = report.get("lang", "fr") == "fr"
    header, rows = table(report)
    title = "Bilan des engagements de service" if fr else "Service engagements review"
    colon = " :" if fr else ":"
    catalogue = f"{_md(report['catalogue']['id'])} {_md(report['catalogue']['version'])}"
    lines = [
        f"# {title}",
        "",
        f"- catalogue{colon} {catalogue}",
        f"- {'calendrier' if fr else 'calendar'}{colon} {_md(report['calendar'])}",
        f"- {'situation au' if fr else 'as of'}{colon} {_md(report['as_of'])}",
    ]
    if report["what_if"]:
        lines.append(
            "- **Simulation : autres règles que celles du rejeu**"
            if fr
            else "- **What-if: other rules than the replay's**"
        )
    lines += [
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
    ]
    for row in rows:
        cells = []
        for column, value in zip(header, row, strict=True):
            if column in (_HEADERS["fr"]["compliance_rate"], _HEADERS["en"]["compliance_rate"]):
                cells.append("—" if value is None else f"{value:.1%}")
            else:
                cells.append(_md(value) if not isinstance(value, float) else f"{value:g}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
