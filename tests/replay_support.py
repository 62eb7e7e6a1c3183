"""Replaying one log into a new SQLite store and reading back all it left (for the replay tests)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

from sla_engine import SlaEngine
from sla_engine._errors import SlaEngineError
from sla_engine._generate import GeneratedLog, generate_log
from sla_engine._replay import replay
from sla_engine._report import build_report

NOW = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)


def generated(
    log: Path, *, contacts: int, seed: int, start: dt.date, end: dt.date, malformed: float = 0.0
) -> GeneratedLog:
    """A generated log on calendar ``fr``."""
    return generate_log(
        log,
        contacts=contacts,
        seed=seed,
        calendar_spec="fr",
        start=start,
        end=end,
        malformed=malformed,
    )


def replayed(log: Path, store: Path, *, catalogue: str, **options: Any) -> dict[str, Any]:
    """Replay ``log`` (``options`` go to ``replay``); its counts, rejects, events, view, review.

    The rejects are sorted (the two replays list them in different orders),
    the events by contact and version (they append different contacts' events
    in different orders).
    """
    engine = SlaEngine(catalogue, "fr", store=str(store), clock=lambda: NOW)
    rejects = io.StringIO()
    summary = replay(engine, [log], rejects=rejects, batch_size=53, **options)
    events, view = stored_rows(store)
    report = build_report(engine)
    report.pop("generated_at", None)
    lines = rejects.getvalue().splitlines()
    engine.close()
    return {
        "summary": (summary.rows, summary.recorded, summary.duplicates, summary.rejected),
        "rejects": [lines[0], *sorted(lines[1:])],
        "events": events,
        "view": view,
        "report": json.dumps(report, sort_keys=True, default=str),
    }


def stored_rows(store: Path) -> tuple[list[Any], list[Any]]:
    """A SQLite store's events (by contact and version) and view rows, as stored."""
    with sqlite3.connect(store) as db:
        events = db.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY originator_id, originator_version"
        ).fetchall()
        view = db.execute(
            "SELECT contact_id, engagement_id, cycle, attention_us, expires_us, data "
            "FROM sla_timers ORDER BY contact_id, engagement_id, cycle"
        ).fetchall()
    return events, view


def outcome(log: Path, store: Path, **options: Any) -> dict[str, Any] | str:
    """What :func:`replayed` gives, or the error the replay stopped with."""
    try:
        return replayed(log, store, **options)
    except SlaEngineError as error:
        return f"{type(error).__name__}: {error}"


def site_log_rejects(folder: Path, sites: str, rows: list[str]) -> tuple[int, str]:
    """Replay a site log (``rows`` under its header) for the register ``sites`` (ids).

    Into a new engine on the qualicirco catalogue: the events recorded, and
    the rejects file's text.
    """
    import csv

    from sla_engine import load_catalogue
    from sla_engine._site_replay import replay_sites

    register = folder / "sites.csv"
    register.write_text("id,name\n" + "".join(f"{s},École {s}\n" for s in sites.split(",")))
    log = folder / "site-log.csv"
    log.write_text("event_id,site,type,occurred_at,what\n" + "".join(f"{r}\n" for r in rows))
    engine = SlaEngine(load_catalogue("qualicirco"), "fr+B", store="memory", clock=lambda: NOW)
    out = io.StringIO()
    summary = replay_sites(engine, register, [log], rejects=csv.writer(out))
    engine.close()
    return summary.recorded, out.getvalue()
