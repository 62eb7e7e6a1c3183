"""The exact instant a deadline passes: an answer or a pause at that instant is too late.

A delay of N days ends at midnight after its due day (local time): an
answer one microsecond before is on time, one at midnight is late; a
suspension from midnight on no longer stops a clock that has already run out.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sla_engine import SlaEngine
from sla_engine._timers import TimerState

PARIS = ZoneInfo("Europe/Paris")
# Friday 7 November 2025, 10:00. Five jours ouvrés: 10, 12, 13, 14, 17 November
# (Tuesday 11 is the Armistice): due Monday 17, expired at midnight that night.
RECEIVED = dt.datetime(2025, 11, 7, 10, tzinfo=PARIS)
DUE = dt.date(2025, 11, 17)
EXPIRES = dt.datetime(2025, 11, 18, 0, 0, tzinfo=PARIS)
TICK = dt.timedelta(microseconds=1)


def email_timer(*events: tuple[str, dt.datetime], now: dt.datetime):  # type: ignore[no-untyped-def]
    engine = SlaEngine("marianne-besancon", "fr")
    engine.record(
        {
            "event_id": "r",
            "contact_id": "C",
            "type": "received",
            "occurred_at": RECEIVED,
            "channel": "email",
        }
    )
    for number, (type_, when) in enumerate(events):
        engine.record(
            {"event_id": str(number), "contact_id": "C", "type": type_, "occurred_at": when}
        )
    (timer,) = engine.timers("C", now=now)
    return timer


def test_the_deadline_is_hand_computed() -> None:
    timer = email_timer(now=RECEIVED)
    assert (timer.due_date, timer.expires_at) == (DUE, EXPIRES)


@pytest.mark.parametrize(
    ("answered_at", "state"),
    [(EXPIRES - TICK, TimerState.MET), (EXPIRES, TimerState.LATE)],
)
def test_an_answer_at_the_last_instant(answered_at: dt.datetime, state: TimerState) -> None:
    assert email_timer(("answered", answered_at), now=EXPIRES + TICK).state is state


def test_a_pause_one_instant_before_expiry_stops_the_clock() -> None:
    timer = email_timer(("suspended", EXPIRES - TICK), now=EXPIRES + dt.timedelta(days=30))
    assert timer.state is TimerState.PAUSED
    assert [p.effective for p in timer.pauses] == [True]


def test_a_pause_at_the_expiry_instant_comes_too_late() -> None:
    timer = email_timer(("suspended", EXPIRES), now=EXPIRES + TICK)
    assert timer.state is TimerState.OVERDUE
    assert [p.effective for p in timer.pauses] == [False]
    assert (timer.due_date, timer.expires_at) == (DUE, EXPIRES)


def test_resumed_after_a_pause_at_the_last_instant() -> None:
    # Suspended at 23:59:59.999999 on the due day, resumed Wednesday 19 at 9:00:
    # the counted days of the pause (17 -> 19: the 18th and 19th) extend it to
    # Wednesday 19 November; past its 80 % warning (4 days: Friday 14), so at risk.
    timer = email_timer(
        ("suspended", EXPIRES - TICK),
        ("resumed", dt.datetime(2025, 11, 19, 9, tzinfo=PARIS)),
        now=dt.datetime(2025, 11, 19, 10, tzinfo=PARIS),
    )
    assert timer.state is TimerState.AT_RISK
    assert timer.due_date == dt.date(2025, 11, 19)
    assert timer.warnings[-1] == dt.datetime(2025, 11, 15, 0, 0, tzinfo=PARIS)
