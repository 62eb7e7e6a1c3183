"""Instants compare as instants, however the caller wrote them.

Python compares and subtracts two datetimes sharing a ``tzinfo`` by their
wall-clock times.  Events given with a ``ZoneInfo`` zone (as a service's own
code, or a log with naive times and ``--tz``, gives them) once counted 47.5
hours from 10:00 summer time to 9:30 winter time two days later, and put a
2:30 summer-time answer after a 2:00 winter-time expiry; read back from the
store, with their offsets, the same events gave the right figures.  Every
instant inside the engine now carries its fixed UTC offset.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_engine import (
    ContactEvent,
    NaiveDatetimeError,
    SlaEngine,
    TimerState,
    calendar,
    deadline,
    parse_catalogue,
)
from sla_engine import strategies as sla
from sla_engine._time import first_instant_of, fixed_offset, localise, parse_instant
from sla_engine._timers import Timer, evaluate_contact

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)

HOURS = """
[catalogue]
id = "hours"
title = "Hours"
version = "1"
calendar = "fr"

[[engagement]]
id = "answer-48h"
title = "Nous vous répondons sous 48 heures."
source = "tests/test_instants.py"
kind = "response"
when = { channel = ["email"] }
start = "received"
stop = ["answered"]
target = "48 heures"
warn_at = [0.5]

[[engagement]]
id = "ack-2h"
title = "Nous accusons réception sous 2 heures."
source = "tests/test_instants.py"
kind = "response"
when = { channel = ["email"] }
start = "received"
stop = ["acknowledged"]
target = "2 heures"

[[engagement]]
id = "answer-5d"
title = "Nous vous répondons sous 5 jours ouvrés."
source = "tests/test_instants.py"
kind = "response"
when = { channel = ["email"] }
start = "received"
stop = ["answered"]
target = "5 jours ouvrés"
pause = "suspended"
"""


def _event(event_id: str, contact_id: str, kind: str, at: dt.datetime) -> ContactEvent:
    channel = "email" if kind == "received" else None
    return ContactEvent(
        event_id=event_id, contact_id=contact_id, type=kind, occurred_at=at, channel=channel
    )


def _timers(store: str, history: list[ContactEvent]) -> dict[tuple[str, str], Timer]:
    engine = SlaEngine(parse_catalogue(HOURS), "fr", store=store, clock=lambda: NOW)
    engine.record_many(history)
    found = {(t.contact_id, t.engagement_id): t for t in engine.stored_timers()}
    engine.close()
    return found


# 26 October 2025: clocks go back in Paris at 3:00 summer time (01:00 UTC).
ACROSS = [
    _event("r", "C", "received", dt.datetime(2025, 10, 25, 10, tzinfo=PARIS)),  # 08:00 UTC
    _event("a", "C", "answered", dt.datetime(2025, 10, 27, 9, 30, tzinfo=PARIS)),  # 08:30 UTC
]
IN_THE_REPEATED_HOUR = [
    _event("r", "D", "received", dt.datetime(2025, 10, 26, 1, 0, tzinfo=PARIS)),  # 23:00 UTC
    # 2:30 summer time, 00:30 UTC: before the expiry at 2:00 winter time (01:00 UTC).
    _event("k", "D", "acknowledged", dt.datetime(2025, 10, 26, 2, 30, fold=0, tzinfo=PARIS)),
]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_hours_across_a_clock_change_are_real_hours(tmp_path: Path, backend: str) -> None:
    store = "memory" if backend == "memory" else str(tmp_path / "s.db")
    timers = _timers(store, ACROSS + IN_THE_REPEATED_HOUR)

    answer = timers["C", "answer-48h"]
    assert answer.elapsed == 48.5  # was 47.5: wall-clock 10:00 to 9:30 two days later
    assert answer.state is TimerState.LATE
    assert answer.expires_at == dt.datetime(2025, 10, 27, 8, tzinfo=dt.UTC)
    assert answer.expires_at.isoformat() == "2025-10-27T09:00:00+01:00"

    acknowledgement = timers["D", "ack-2h"]
    assert acknowledgement.expires_at == dt.datetime(2025, 10, 26, 1, tzinfo=dt.UTC)
    assert acknowledgement.state is TimerState.MET  # was late: 2:30 "after" 2:00
    assert acknowledgement.elapsed == 1.5


def test_a_timer_ages_by_the_instant_in_the_repeated_hour() -> None:
    (timer,) = [
        t
        for t in evaluate_contact(IN_THE_REPEATED_HOUR[:1], parse_catalogue(HOURS), calendar)
        if t.engagement_id == "ack-2h"
    ]
    # Expires at 2:00 winter time (01:00 UTC); 2:30 summer time is 00:30 UTC.
    before = dt.datetime(2025, 10, 26, 2, 30, fold=0, tzinfo=PARIS)
    after = dt.datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=PARIS)
    assert timer.at(before).state is TimerState.RUNNING  # was overdue
    assert timer.at(after).state is TimerState.OVERDUE
    # Kept with its offset (Python's == says an instant in the repeated hour
    # differs from itself written in another zone, hence the text).
    assert timer.at(before).as_of.isoformat() == "2025-10-26T02:30:00+02:00"


def test_the_deadline_calculator_decides_by_the_instant() -> None:
    received = dt.datetime(2025, 10, 26, 1, 0, tzinfo=PARIS)
    computed = deadline(received, "2 heures", "fr")
    assert computed.expires_at.isoformat() == "2025-10-26T02:00:00+01:00"
    assert computed.is_met_by(dt.datetime(2025, 10, 26, 2, 30, fold=0, tzinfo=PARIS))
    assert not computed.is_met_by(dt.datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=PARIS))


def test_an_event_keeps_its_instant_and_wall_clock_time_with_a_fixed_offset() -> None:
    winter = dt.datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=PARIS)
    event = _event("k", "D", "acknowledged", winter)
    assert event.occurred_at.astimezone(dt.UTC) == dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC)
    assert event.occurred_at.isoformat() == "2025-10-26T02:30:00+01:00"
    assert type(event.occurred_at.tzinfo) is dt.timezone
    recorded = ContactEvent(
        event_id="x",
        contact_id="D",
        type="answered",
        occurred_at=winter,
        recorded_at=dt.datetime(2025, 10, 26, 2, 40, fold=0, tzinfo=PARIS),
    )
    assert recorded.recorded_at is not None
    assert recorded.recorded_at.isoformat() == "2025-10-26T02:40:00+02:00"
    with pytest.raises(NaiveDatetimeError, match="occurred_at"):
        _event("n", "D", "answered", dt.datetime(2025, 10, 26, 9))
    with pytest.raises(TypeError, match="occurred_at must be a datetime"):
        _event("n", "D", "answered", "2025-10-26T09:00:00+01:00")  # type: ignore[arg-type]


def test_the_engines_own_instants_have_fixed_offsets() -> None:
    assert first_instant_of(dt.date(2025, 10, 26), PARIS).isoformat() == "2025-10-26T00:00:00+02:00"
    assert first_instant_of(dt.date(2025, 10, 27), PARIS).isoformat() == "2025-10-27T00:00:00+01:00"
    assert type(first_instant_of(dt.date(2025, 10, 27), PARIS).tzinfo) is dt.timezone
    local = localise(dt.datetime(2025, 10, 27, 9), PARIS)
    assert local.isoformat() == "2025-10-27T09:00:00+01:00"
    assert type(local.tzinfo) is dt.timezone
    parsed = parse_instant("2025-07-01T09:00", assume_tz="Europe/Paris")
    assert parsed.isoformat() == "2025-07-01T09:00:00+02:00"
    assert fixed_offset(dt.datetime(2025, 7, 1, tzinfo=dt.UTC)).tzinfo is dt.UTC


def _written_in_utc(history: list[ContactEvent]) -> list[ContactEvent]:
    return [
        ContactEvent(**{**_fields(e), "occurred_at": e.occurred_at.astimezone(dt.UTC)})
        for e in history
    ]


def _fields(event: ContactEvent) -> dict[str, object]:
    return {
        "event_id": event.event_id,
        "contact_id": event.contact_id,
        "type": event.type,
        "occurred_at": event.occurred_at,
        "channel": event.channel,
        "category": event.category,
        "priority": event.priority,
        "service": event.service,
        "announced_delay": event.announced_delay,
        "to": event.to,
        "reason": event.reason,
    }


def _figures(timer: Timer) -> tuple[object, ...]:
    """What a timer says, its instants as instants (UTC)."""

    def utc(value: dt.datetime | None) -> dt.datetime | None:
        return None if value is None else value.astimezone(dt.UTC)

    return (
        timer.key,
        timer.state,
        timer.elapsed,
        timer.due_date,
        utc(timer.expires_at),
        utc(timer.started_at),
        utc(timer.stopped_at),
        tuple(utc(w) for w in timer.warnings),
        tuple((utc(p.started_at), utc(p.ended_at), p.effective) for p in timer.pauses),
    )


# Histories of a few hours' steps around both of 2025's clock changes in Paris.
_AROUND_A_CHANGE = st.sampled_from(
    [dt.datetime(2025, 3, 29, 20), dt.datetime(2025, 10, 25, 20)]
).flatmap(
    lambda night: sla.contact_histories(
        min_received=night.replace(tzinfo=PARIS),
        max_received=(night + dt.timedelta(hours=8)).replace(tzinfo=PARIS),
        channels=["email"],
        event_types=["acknowledged", "answered", "suspended", "resumed"],
        max_events=4,
        max_gap=dt.timedelta(hours=3),
    )
)


@settings(max_examples=150, deadline=None)
@given(history=_AROUND_A_CHANGE, at=st.integers(0, 3 * 24 * 60))
def test_figures_depend_on_instants_not_on_how_they_are_written(
    history: list[ContactEvent], at: int
) -> None:
    catalogue = parse_catalogue(HOURS)
    in_paris = evaluate_contact(history, catalogue, calendar)
    in_utc = evaluate_contact(_written_in_utc(history), catalogue, calendar)
    assert [_figures(t) for t in in_paris] == [_figures(t) for t in in_utc]
    # Elapsed hours are real hours: the UTC difference, whatever the offsets.
    for timer in in_paris:
        if timer.engagement_id != "ack-2h" or timer.stopped_at is None:
            continue
        assert timer.started_at is not None
        real = (timer.stopped_at - timer.started_at).total_seconds() / 3600
        assert timer.elapsed == round(real, 4)
    # Ageing by an instant written in Paris or in UTC gives one state.
    now = history[0].occurred_at.astimezone(dt.UTC) + dt.timedelta(minutes=at)
    assert [t.at(now.astimezone(PARIS)).state for t in in_paris] == [
        t.at(now).state for t in in_paris
    ]
