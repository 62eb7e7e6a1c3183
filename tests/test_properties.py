"""Hypothesis properties of the deadline arithmetic.

Calendars, delays and instants come from the public strategies
(``sla_engine.strategies``): every territory, every day unit, instants in
DST gaps and folds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import find, given, note
from hypothesis import strategies as st

from sla_engine import Calendar, Delay, Unit, deadline
from sla_engine import strategies as sla

DAY_UNITS = [Unit.JOURS_OUVRES, Unit.JOURS_OUVRABLES]
CALENDAR_UNITS = [Unit.JOURS_CALENDAIRES, Unit.JOURS_FRANCS, Unit.SEMAINES, Unit.MOIS]

# Every territory (the school zones play no part in these units).
calendars = sla.calendars()
days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
day_delays = sla.delays(units=DAY_UNITS, max_amount=400)
calendar_delays = sla.delays(units=CALENDAR_UNITS, max_amount=400)


@pytest.mark.parametrize(
    "spec", ["fr", "fr-57", "fr-6AE", "fr-971", "fr-972", "fr-973", "fr-974", "fr-976", "fr-NC"]
)
def test_every_territory_is_drawn(spec: str) -> None:
    """The public strategy reaches each territory these properties were first written for."""
    assert find(calendars, lambda cal: cal.spec == spec).spec == spec


@given(cal=calendars, delay=day_delays, day=days)
def test_count_inverts_add(cal: Calendar, delay: Delay, day: dt.date) -> None:
    n, unit = delay.amount, delay.unit
    assert cal.count(day, cal.add(day, n, unit), unit) == n


@given(cal=calendars, delay=calendar_delays, day=days)
def test_count_inverts_add_without_extension(cal: Calendar, delay: Delay, day: dt.date) -> None:
    n, unit = delay.amount, delay.unit
    assert cal.count(day, cal.add(day, n, unit, extend=False), unit) == n


@given(cal=calendars, delay=day_delays, day=days)
def test_add_lands_on_a_counted_day_and_is_strictly_increasing(
    cal: Calendar, delay: Delay, day: dt.date
) -> None:
    n, unit = delay.amount, delay.unit
    due = cal.add(day, n, unit)
    assert cal.is_counted(due, unit)
    assert due > day
    assert cal.add(day, n + 1, unit) > due


@given(cal=calendars, delay=calendar_delays, day=days)
def test_extension_moves_to_the_next_working_day(cal: Calendar, delay: Delay, day: dt.date) -> None:
    n, unit = delay.amount, delay.unit
    raw = cal.add(day, n, unit, extend=False)
    extended = cal.add(day, n, unit)
    assert extended >= raw
    assert cal.is_working_day(extended)
    # Every day from the raw end to the day before the extended one is off.
    skipped = (extended - raw).days
    assert all(not cal.is_working_day(raw + dt.timedelta(days=k)) for k in range(skipped))
    assert cal.add(day, n + 1, unit, extend=False) > raw


@given(cal=calendars, delay=day_delays, day=days, closed=st.lists(st.integers(0, 500), max_size=10))
def test_extend_moves_only_jours_ouvrables_and_only_to_where_art_642_allows(
    cal: Calendar, delay: Delay, day: dt.date, closed: list[int]
) -> None:
    n, unit = delay.amount, delay.unit
    cal = cal.with_closures(*(day + dt.timedelta(days=k) for k in closed))
    raw = cal.add(day, n, unit)
    extended = cal.add(day, n, unit, extend=True)
    if unit is Unit.JOURS_OUVRES:
        assert extended == raw  # a jour ouvré is a day the service works
    else:
        assert extended == cal.roll_forward(raw)
        assert extended.weekday() < 5
        assert cal.is_working_day(extended)
        assert cal.add(day, n, unit, extend=False) == raw


@given(
    cal=calendars,
    delay=sla.delays(units=DAY_UNITS + CALENDAR_UNITS, max_amount=400),
    day=days,
    later=st.integers(0, 60),
)
def test_a_later_receipt_never_gives_an_earlier_due_date(
    cal: Calendar, delay: Delay, day: dt.date, later: int
) -> None:
    n, unit = delay.amount, delay.unit
    assert cal.add(day + dt.timedelta(days=later), n, unit) >= cal.add(day, n, unit)


@given(cal=calendars, delay=day_delays, day=days)
def test_receipt_on_a_day_off_counts_from_the_next_counted_day(
    cal: Calendar, delay: Delay, day: dt.date
) -> None:
    n, unit = delay.amount, delay.unit
    if not cal.is_counted(day, unit):
        assert cal.add(day, n, unit) == cal.add(day - dt.timedelta(days=1), n, unit)


@given(cal=calendars, delay=day_delays, day=days, closed=st.lists(st.integers(0, 500), max_size=10))
def test_closure_days_never_make_a_deadline_earlier(
    cal: Calendar, delay: Delay, day: dt.date, closed: list[int]
) -> None:
    n, unit = delay.amount, delay.unit
    closures = [day + dt.timedelta(days=k) for k in closed]
    assert cal.with_closures(*closures).add(day, n, unit) >= cal.add(day, n, unit)


@given(
    data=st.data(),
    cal=calendars,
    delay=sla.delays(units=DAY_UNITS + CALENDAR_UNITS, max_amount=60),
)
def test_expires_at_is_always_local_midnight(
    data: st.DataObject, cal: Calendar, delay: Delay
) -> None:
    received = data.draw(sla.received_instants(cal))
    result = deadline(received, delay, cal)
    note(f"{received.isoformat()} + {delay} -> {result.expires_at.isoformat()}")
    local = result.expires_at.astimezone(cal.tz)
    # Midnight on the day after the due date, whatever DST did in between.
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert local.date() == result.due_date + dt.timedelta(days=1)
    assert result.expires_at.utcoffset() == local.utcoffset()
    # The local day of receipt is where counting starts.
    assert result.received_day == received.astimezone(cal.tz).date()


@given(
    cal=calendars,
    unit=st.sampled_from(DAY_UNITS + CALENDAR_UNITS),
    extend=st.sampled_from([None, True, False]),
    data=st.data(),
)
def test_vectorised_equals_scalar(
    cal: Calendar, unit: Unit, extend: bool | None, data: st.DataObject
) -> None:
    sample = data.draw(st.lists(st.tuples(days, st.integers(0, 400)), min_size=1, max_size=30))
    starts = np.array([d for d, _ in sample], dtype="datetime64[D]")
    counts = np.array([k for _, k in sample])
    due = cal.add_many(starts, counts, unit, extend=extend)
    expected = [cal.add(d, k, unit, extend=extend) for d, k in sample]
    assert [d.astype(dt.date) for d in due] == expected
    ends = starts + counts.astype("timedelta64[D]")
    counted = cal.count_many(starts, ends, unit)
    assert counted.tolist() == [cal.count(d, d + dt.timedelta(days=k), unit) for d, k in sample]
