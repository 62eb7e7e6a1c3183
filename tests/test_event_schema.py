"""The stored form of every contact event is pinned.

Don't update these values: a stored event is read back by every later
version of the engine.  A change of schema is a new ``class_version`` with
an ``upcast_v1_v2`` on the event class, and these bytes stay as they are.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from sla_engine import SlaEngine

from .engine_support import at, sample_catalogue

# Recorded after the last of them happened (an event cannot be recorded before).
RECORDED = dt.datetime(2025, 11, 15, 12, tzinfo=dt.UTC)
TS = '{"timestamp":{"_type_":"datetime_iso","_data_":"2025-11-15T12:00:00+00:00"}'


def occurred(day: int, hour: int) -> str:
    instant = f"2025-11-{day:02d}T{hour:02d}:00:00+01:00"
    return f'"occurred_at":{{"_type_":"datetime_iso","_data_":"{instant}"}}'


EVENTS = [
    (
        {"type": "received", "occurred_at": at(2025, 11, 7), "channel": "courriel",
         "category": "Réclamation", "priority": "urgent", "service": "DSDEN"},
        "Received",
        f'{TS},"event_id":"e0",{occurred(7, 10)},"payload":{{"channel":"email",'
        '"category":"complaint","priority":"urgent","service":"DSDEN"},'

        '"originator_topic":"sla_engine._contact:Contact"}',
    ),
    (
        {"type": "acknowledged", "occurred_at": at(2025, 11, 7, 11), "announced_delay": "10 jours"},
        "Acknowledged",
        f'{TS},"event_id":"e1",{occurred(7, 11)},'
        '"payload":{"announced_delay":"10 jours calendaires"}}',

    ),
    ({"type": "holding_reply", "occurred_at": at(2025, 11, 8)}, "HoldingReply",
     f'{TS},"event_id":"e2",{occurred(8, 10)},"payload":{{}}}}'),
    ({"type": "escalated", "occurred_at": at(2025, 11, 8, 11), "to": "N+1", "reason": "urgence"},
     "Escalated",
     f'{TS},"event_id":"e3",{occurred(8, 11)},"payload":{{"to":"N+1","reason":"urgence"}}}}'),
    ({"type": "flagged_complex", "occurred_at": at(2025, 11, 8, 12)}, "FlaggedComplex",
     f'{TS},"event_id":"e4",{occurred(8, 12)},"payload":{{}}}}'),
    ({"type": "suspended", "occurred_at": at(2025, 11, 9), "reason": "pieces"}, "Suspended",
     f'{TS},"event_id":"e5",{occurred(9, 10)},"payload":{{"reason":"pieces"}}}}'),
    ({"type": "resumed", "occurred_at": at(2025, 11, 10)}, "Resumed",
     f'{TS},"event_id":"e6",{occurred(10, 10)},"payload":{{}}}}'),
    ({"type": "reclassified", "occurred_at": at(2025, 11, 10, 11), "channel": "letter"},
     "Reclassified",
     f'{TS},"event_id":"e7",{occurred(10, 11)},"payload":{{"channel":"letter"}}}}'),
    ({"type": "answered", "occurred_at": at(2025, 11, 12), "attributes": {"rings": 3}}, "Answered",
     f'{TS},"event_id":"e8",{occurred(12, 10)},"payload":{{"attributes":{{"rings":3}}}}}}'),
    ({"type": "closed", "occurred_at": at(2025, 11, 13)}, "Closed",
     f'{TS},"event_id":"e9",{occurred(13, 10)},"payload":{{}}}}'),
    ({"type": "reopened", "occurred_at": at(2025, 11, 14)}, "Reopened",
     f'{TS},"event_id":"e10",{occurred(14, 10)},"payload":{{}}}}'),
]  # fmt: skip


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, bytes]]]:
    path = tmp_path_factory.mktemp("schema") / "events.db"
    engine = SlaEngine(
        sample_catalogue(),
        "fr",
        store=f"sqlite:///{path}",
        clock=lambda: RECORDED,
        pseudonym_key=b"schema-test-key",
    )

    engine.record_many(
        [
            {"event_id": f"e{n}", "contact_id": "C", **fields}
            for n, (fields, _, _) in enumerate(EVENTS)
        ]
    )
    engine.close()
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT topic, state FROM stored_events WHERE originator_id = 'C' "
            "ORDER BY originator_version"
        )

        return path, [(topic, bytes(state)) for topic, state in rows]


def test_every_event_type_is_covered() -> None:
    from sla_engine import EventType

    assert {fields["type"] for fields, _, _ in EVENTS} == {t.value for t in EventType}


@pytest.mark.parametrize("index", range(len(EVENTS)), ids=[e[1] for e in EVENTS])
def test_stored_bytes(stored: tuple[Path, list[tuple[str, bytes]]], index: int) -> None:
    _, rows = stored
    topic, state = rows[index]
    _, class_name, expected = EVENTS[index]
    assert topic == f"sla_engine._contact:Contact.{class_name}"
    assert state.decode() == expected


def test_read_back_by_a_new_engine(stored: tuple[Path, list[tuple[str, bytes]]]) -> None:
    path, _ = stored
    engine = SlaEngine(sample_catalogue(), "fr", store=f"sqlite:///{path}")
    history = engine.history("C")
    assert [e.type.value for e in history] == [fields["type"] for fields, _, _ in EVENTS]
    assert all(e.recorded_at == RECORDED for e in history)
    assert history[0].category == "complaint"
    assert dict(history[8].attributes) == {"rings": 3}
