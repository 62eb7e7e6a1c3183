"""Events from which a contact's timers cannot be counted are refused, and only they.

A delay announced to a user that the contact's calendar cannot count (« 1
heure ouvrée » without opening hours, « 999999 semaines »), or a catalogue
delay longer than the margin kept before the end of a calendar's data
(« 250 jours scolaires »), used to be stored and then stop the view, and
every query, at it for good.  Refused, the rest of the log is recorded and
projected the same way whether it is recorded in one batch or several,
columnar or row by row.
"""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from pathlib import Path

import pytest

from sla_engine import CalendarCoverageError, ContactRuleError, SlaEngine, SlaEngineError
from sla_engine._catalogue import parse_catalogue
from sla_engine._replay import ReplaySummary, replay

from .engine_support import at, event_mapping, one_engagement

NOW = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)

ANNOUNCED = one_engagement("announced").replace('["email"]', '["web"]')


def _announced(contact: str, delay: str) -> list[dict[str, object]]:
    received = event_mapping(f"{contact}-r", contact, "received", at(2026, 3, 6))
    received["channel"] = "web"
    ack = event_mapping(f"{contact}-a", contact, "acknowledged", at(2026, 3, 6, 11))
    ack["announced_delay"] = delay
    return [received, ack]


@pytest.mark.parametrize(
    ("delay", "error"),
    [
        ("1 heure ouvrée", "no opening hours"),
        ("10 jours scolaires", "no school zone"),
        ("999999 semaines", "run past 9999-12-31"),
        ("999999 jours calendaires", "outside the span covered"),
    ],
)
@pytest.mark.parametrize("one_batch", [True, False])
def test_an_uncountable_announced_delay_is_refused_alone(
    make_engine, delay: str, error: str, one_batch: bool
) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(catalogue=parse_catalogue(ANNOUNCED), clock=lambda: NOW)
    events = [*_announced("C4", delay), *_announced("C5", "15 jours ouvrés")]
    if one_batch:
        result = engine.record_many(events, atomic=False)
    else:  # the same outcome however the events fall into batches
        results = [engine.record_many([e], atomic=False) for e in events]
        result = type(results[0])(tuple(o for r in results for o in r.outcomes))
    assert [r.event.event_id for r in result.rejected] == ["C4-a"]
    assert error in str(result.rejected[0].error)
    assert isinstance(result.rejected[0].error, SlaEngineError)
    assert result.recorded == 3
    assert [e.event_id for e in engine.history("C4")] == ["C4-r"]
    # The view answers, and so does a new engine on the store, after a rebuild too.
    assert sorted(t.contact_id for t in engine.all_timers(NOW)) == ["C4", "C5"]
    engine.rebuild_view()
    assert sorted(t.contact_id for t in engine.worklist(NOW, now=NOW)) == ["C5"]
    # Atomic: the batch raises and stores nothing.
    with pytest.raises(SlaEngineError, match=error):
        engine.record_many(_announced("C6", delay))
    with pytest.raises(SlaEngineError, match="no contact 'C6'"):
        engine.history("C6")


def test_a_refused_event_is_not_left_in_memory_for_the_view(make_engine) -> None:  # type: ignore[no-untyped-def]
    # Before, the contact's copy waiting for the view kept the refused event,
    # and the next catch-up raised its error.
    text = one_engagement("announced").replace('calendar = "fr"', 'calendar = "fr+B"')
    engine = make_engine(catalogue=parse_catalogue(text.replace('["email"]', '["web"]')),
                         calendar_spec="fr+B", clock=lambda: NOW)  # fmt: skip
    received, ack = _announced("C4", "900 jours scolaires")
    assert engine.record_many([received], atomic=False, project=False).recorded == 1
    result = engine.record_many([ack], atomic=False, project=False)
    assert [type(r.error) for r in result.rejected] == [CalendarCoverageError]
    engine.project()
    assert [t.contact_id for t in engine.all_timers(NOW)] == ["C4"]


LOG_HEADER = "event_id,contact_id,type,occurred_at,channel,attributes\n"


def _replay(
    tmp_path: Path, rows: str, engine: SlaEngine, columnar: bool
) -> tuple[Path, ReplaySummary, list[str]]:
    """The log (``rows`` under the header) replayed into ``engine``: summary, rejected rows."""
    log = tmp_path / "log.csv"
    log.write_text(LOG_HEADER + rows)
    rejects = io.StringIO()
    summary = replay(engine, [log], rejects=rejects, columnar=columnar)
    return log, summary, rejects.getvalue().splitlines()[1:]


@pytest.mark.parametrize("columnar", [True, False])
def test_a_replay_rejects_the_row_and_records_the_rest(tmp_path: Path, columnar: bool) -> None:
    store = tmp_path / "store.db"
    engine = SlaEngine(parse_catalogue(ANNOUNCED), "fr", store=str(store), clock=lambda: NOW)
    rows = (
        "F0,C4,received,2026-03-06T10:00:00+01:00,web,\n"
        'F1,C4,acknowledged,2026-03-06T11:00:00+01:00,,"{""announced_delay"": '
        '""48 heures ouvrées""}"\n'
        "G0,C5,received,2026-03-06T10:00:00+01:00,web,\n"
        "G1,C5,answered,2026-03-09T10:00:00+01:00,,\n"
    )
    log, summary, rejects = _replay(tmp_path, rows, engine, columnar)
    assert (summary.rows, summary.recorded, summary.rejected) == (4, 3, 1)
    (reject,) = rejects
    assert reject.startswith(f"{log},3,F1,")
    assert "no opening hours" in reject
    engine.close()
    again = SlaEngine(parse_catalogue(ANNOUNCED), "fr", store=str(store), clock=lambda: NOW)
    assert sorted(t.contact_id for t in again.all_timers(NOW)) == ["C4", "C5"]
    again.close()
    with sqlite3.connect(store) as db:
        ids = db.execute(
            "SELECT originator_id, originator_version FROM stored_events "
            "WHERE originator_id LIKE 'C%' ORDER BY 1, 2"
        ).fetchall()
    assert ids == [("C4", 1), ("C5", 1), ("C5", 2)]


LONG = one_engagement("250 jours scolaires").replace('calendar = "fr"', 'calendar = "fr+B"')
LATER = dt.datetime(2027, 9, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize("columnar", [True, False])
def test_a_catalogue_delay_longer_than_the_margin_is_counted_before_storing(
    tmp_path: Path, columnar: bool
) -> None:
    # 250 school days from May 2027 run past zone B's data (to July 2028):
    # a bulk load counted only contacts within 400 days of its end.
    store = tmp_path / "store.db"
    engine = SlaEngine(parse_catalogue(LONG), "fr+B", store=str(store), clock=lambda: LATER)
    rows = (
        "A0,C1,received,2026-05-04T10:00:00+02:00,email,\n"
        "B0,C2,received,2027-05-03T10:00:00+02:00,email,\n"
    )
    log, summary, rejects = _replay(tmp_path, rows, engine, columnar)
    assert (summary.recorded, summary.rejected) == (1, 1)
    (reject,) = rejects
    assert reject.startswith(f"{log},3,B0,")
    assert "2028-07-03" in reject
    assert [t.contact_id for t in engine.all_timers(LATER)] == ["C1"]
    engine.close()


def test_later_events_of_a_refused_receipt_give_their_own_reason(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(catalogue=parse_catalogue(LONG), calendar_spec="fr+B", clock=lambda: LATER)
    received = event_mapping("B0", "C2", "received", at(2027, 5, 3))
    answered = event_mapping("B1", "C2", "answered", at(2027, 5, 10))
    result = engine.record_many([received, answered], atomic=False)
    errors = [r.error for r in result.rejected]
    assert isinstance(errors[0], CalendarCoverageError)
    assert isinstance(errors[1], ContactRuleError)
    assert errors[1].code == "not_received"
