"""Warnings (``warn_at``): when an open request is flagged at risk.

A warning is the instant a fraction of the delay has run: exactly in hours,
at the start of the day after ``ceil(fraction × n)`` whole days otherwise,
weeks and months counted in calendar days for this.  It is an alert, not a
deadline: never extended to a working day, and none at or after the expiry.
After a restart it runs again from the last resumption, as the delay does.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_engine import ContactEvent, SlaEngine, TimerState, calendar, parse_catalogue
from sla_engine import strategies as sla
from sla_engine._timers import Timer, evaluate_contact

from .engine_support import one_engagement

PARIS = ZoneInfo("Europe/Paris")


def _catalogue(target: str, warn: str = "[0.5, 0.8]", pause: str = "") -> str:
    return one_engagement(target, f"warn_at = {warn}\n{pause}", source="tests/test_warnings.py")


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def _event(n: int, kind: str, at: dt.datetime) -> ContactEvent:
    return ContactEvent(
        event_id=f"e{n}",
        contact_id="C",
        type=kind,
        occurred_at=at,
        channel="email" if kind == "received" else None,
    )


def _timer(text: str, *events: tuple[str, dt.datetime]) -> Timer:
    history = [_event(n, kind, at) for n, (kind, at) in enumerate(events)]
    (timer,) = evaluate_contact(history, parse_catalogue(text), calendar)
    return timer


def _days(timer: Timer) -> list[str]:
    """Each warning's local day and time, as a reader sees it."""
    return [w.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") for w in timer.warnings]


MONDAY = _at(2025, 3, 3, 10)


@pytest.mark.parametrize(
    ("target", "expected", "expiry"),
    [
        # Half of a week is after 4 days (3.5 rounded up), four fifths after 6.
        ("1 semaine", ["2025-03-08 00:00", "2025-03-10 00:00"], "2025-03-11 00:00"),
        # 14 days: after 7 and 12 (11.2); the second is a Sunday, not moved.
        ("2 semaines", ["2025-03-11 00:00", "2025-03-16 00:00"], "2025-03-18 00:00"),
        # 3 March + 1 month = 3 April: 31 days; after 16 (15.5) and 25 (24.8).
        ("1 mois", ["2025-03-20 00:00", "2025-03-29 00:00"], "2025-04-04 00:00"),
        # 5 working days: after 3 (2.5) and 4.
        ("5 jours ouvrés", ["2025-03-07 00:00", "2025-03-08 00:00"], "2025-03-11 00:00"),
        # 10 calendar days: after 5 (Saturday 8, not moved to Monday) and 8.
        ("10 jours calendaires", ["2025-03-09 00:00", "2025-03-12 00:00"], "2025-03-14 00:00"),
        # Hours: exactly.
        ("10 heures", ["2025-03-03 15:00", "2025-03-03 18:00"], "2025-03-03 20:00"),
        # A single working day: half of it can only fall on the expiry: none.
        ("1 jour ouvré", [], "2025-03-05 00:00"),
        # Two: half after one day; four fifths rounds up to the expiry: none.
        ("2 jours ouvrés", ["2025-03-05 00:00"], "2025-03-06 00:00"),
    ],
)
def test_warnings_fall_at_their_fraction_of_the_delay(
    target: str, expected: list[str], expiry: str
) -> None:
    timer = _timer(_catalogue(target), ("received", MONDAY))
    assert timer.expires_at is not None
    assert timer.expires_at.astimezone(PARIS).strftime("%Y-%m-%d %H:%M") == expiry
    assert _days(timer) == expected


def test_after_a_restart_the_warnings_run_again_from_the_resumption() -> None:
    text = _catalogue(
        "10 jours ouvrés", warn="[0.5]", pause='pause = "suspended"\npause_mode = "restart"'
    )
    events = (
        ("received", MONDAY),
        ("suspended", _at(2025, 3, 12, 10)),  # after the first warning (11 March)
        ("resumed", _at(2025, 3, 20, 10)),
    )
    timer = _timer(text, *events)
    assert timer.due_date == dt.date(2025, 4, 3)
    # Five working days from Thursday 20 March: Thursday 27, warned at its end.
    assert _days(timer) == ["2025-03-28 00:00"]
    assert timer.at(_at(2025, 3, 21, 10)).state is TimerState.RUNNING  # was at risk
    assert timer.at(_at(2025, 3, 28, 9)).state is TimerState.AT_RISK

    engine = SlaEngine(parse_catalogue(text), "fr", clock=lambda: _at(2025, 3, 21, 10))
    engine.record_many([_event(n, kind, at) for n, (kind, at) in enumerate(events)])
    alerts = engine.check(_at(2025, 4, 2, 10), since=_at(2025, 3, 20, 10))
    assert [(a.kind, a.at.astimezone(PARIS).day) for a in alerts] == [("warning", 28)]
    engine.close()


def test_in_suspend_mode_a_warning_already_past_stays_where_it_was() -> None:
    text = _catalogue("10 jours ouvrés", warn="[0.5]", pause='pause = "suspended"')
    timer = _timer(
        text,
        ("received", MONDAY),
        ("suspended", _at(2025, 3, 12, 10)),
        ("resumed", _at(2025, 3, 20, 10)),
    )
    assert _days(timer) == ["2025-03-11 00:00"]  # half the delay had run before the pause
    # 10 working days and the 6 suspended (13 to 20 March): Tuesday 25 March.
    assert timer.due_date == dt.date(2025, 3, 25)


TARGETS = (
    "1 semaine", "3 semaines", "1 mois", "2 mois", "3 jours ouvrés",
    "15 jours calendaires", "8 jours francs", "2 jours ouvrables", "36 heures",
)  # fmt: skip


@settings(max_examples=120, deadline=None)
@given(
    target=st.sampled_from(TARGETS),
    fractions=st.lists(
        st.integers(1, 99).map(lambda n: n / 100), min_size=1, max_size=3, unique=True
    ).map(sorted),
    mode=st.sampled_from(["", 'pause_mode = "suspend"', 'pause_mode = "restart"']),
    history=sla.contact_histories(
        channels=["email"], event_types=["suspended", "resumed", "answered"], max_events=4
    ),
)
def test_warnings_come_in_order_before_the_expiry(
    target: str, fractions: list[float], mode: str, history: list[ContactEvent]
) -> None:
    pause = f'pause = "suspended"\n{mode}' if mode else ""
    catalogue = parse_catalogue(_catalogue(target, warn=str(fractions), pause=pause))
    (timer,) = evaluate_contact(history, catalogue, calendar)
    warnings = [w.astimezone(dt.UTC) for w in timer.warnings]
    assert warnings == sorted(set(warnings))
    if timer.expires_at is not None:
        assert all(w < timer.expires_at for w in warnings)
        assert all(w > timer.started_at for w in warnings)  # type: ignore[operator]
    # Without pauses, a day unit's first warning is exactly where the oracle says.
    if timer.pauses or timer.target is None or not timer.warnings:
        return
    start_day = history[0].occurred_at.astimezone(PARIS).date()
    fr = calendar("fr")
    unit = timer.target.unit
    first = fractions[0]
    if unit.value in ("semaines", "mois"):
        span = (fr.add(start_day, timer.target.amount, unit, extend=False) - start_day).days
        day = start_day + dt.timedelta(days=math.ceil(first * span - 1e-9))
    elif unit.is_hours:
        return
    else:
        day = fr.add(start_day, math.ceil(first * timer.target.amount - 1e-9), unit, extend=False)
    assert timer.warnings[0].astimezone(PARIS).date() == day + dt.timedelta(days=1)
