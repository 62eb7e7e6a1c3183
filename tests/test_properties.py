"""Hypothesis properties of the deadline arithmetic."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, note
from hypothesis import strategies as st

import sla_engine
from sla_engine import Unit, deadline

SPECS = ["fr", "fr-57", "fr-6AE", "fr-971", "fr-972", "fr-973", "fr-974", "fr-976", "fr-NC"]
DAY_UNITS = [Unit.JOURS_OUVRES, Unit.JOURS_OUVRABLES]
CALENDAR_UNITS = [Unit.JOURS_CALENDAIRES, Unit.JOURS_FRANCS, Unit.SEMAINES, Unit.MOIS]

specs = st.sampled_from(SPECS)
days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31))
amounts = st.integers(min_value=1, max_value=400)


@st.composite
def received_instants(draw: st.DrawFn, spec: str) -> dt.datetime:
    """Local wall times in the calendar's zone, DST gaps and folds included."""
    tz = sla_engine.calendar(spec).tz
    assert isinstance(tz, ZoneInfo)
    naive = draw(
        st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2040, 12, 31))
    )
    return naive.replace(tzinfo=tz, fold=draw(st.integers(0, 1)))


@given(spec=specs, unit=st.sampled_from(DAY_UNITS), day=days, n=amounts)
def test_count_inverts_add(spec: str, unit: Unit, day: dt.date, n: int) -> None:
    cal = sla_engine.calendar(spec)
    assert cal.count(day, cal.add(day, n, unit), unit) == n


@given(spec=specs, unit=st.sampled_from(CALENDAR_UNITS), day=days, n=amounts)
def test_count_inverts_add_without_extension(spec: str, unit: Unit, day: dt.date, n: int) -> None:
    cal = sla_engine.calendar(spec)
    assert cal.count(day, cal.add(day, n, unit, extend=False), unit) == n


@given(spec=specs, unit=st.sampled_from(DAY_UNITS), day=days, n=amounts)
def test_add_lands_on_a_counted_day_and_is_strictly_increasing(
    spec: str, unit: Unit, day: dt.date, n: int
) -> None:
    cal = sla_engine.calendar(spec)
    due = cal.add(day, n, unit)
    assert cal.is_counted(due, unit)
    assert due > day
    assert cal.add(day, n + 1, unit) > due


@given(spec=specs, unit=st.sampled_from(CALENDAR_UNITS), day=days, n=amounts)
def test_extension_moves_to_the_next_working_day(
    spec: str, unit: Unit, day: dt.date, n: int
) -> None:
    cal = sla_engine.calendar(spec)
    raw = cal.add(day, n, unit, extend=False)
    extended = cal.add(day, n, unit)
    assert extended >= raw
    assert cal.is_working_day(extended)
    # Every day from the raw end to the day before the extended one is off.
    skipped = (extended - raw).days
    assert all(not cal.is_working_day(raw + dt.timedelta(days=k)) for k in range(skipped))
    assert cal.add(day, n + 1, unit, extend=False) > raw


@given(
    spec=specs,
    unit=st.sampled_from(DAY_UNITS + CALENDAR_UNITS),
    day=days,
    later=st.integers(0, 60),
    n=amounts,
)
def test_a_later_receipt_never_gives_an_earlier_due_date(
    spec: str, unit: Unit, day: dt.date, later: int, n: int
) -> None:
    cal = sla_engine.calendar(spec)
    assert cal.add(day + dt.timedelta(days=later), n, unit) >= cal.add(day, n, unit)


@given(spec=specs, unit=st.sampled_from(DAY_UNITS), day=days, n=amounts)
def test_receipt_on_a_day_off_counts_from_the_next_counted_day(
    spec: str, unit: Unit, day: dt.date, n: int
) -> None:
    cal = sla_engine.calendar(spec)
    if not cal.is_counted(day, unit):
        assert cal.add(day, n, unit) == cal.add(day - dt.timedelta(days=1), n, unit)


@given(
    spec=specs,
    unit=st.sampled_from(DAY_UNITS),
    day=days,
    n=amounts,
    closed=st.lists(st.integers(0, 500), max_size=10),
)
def test_closure_days_never_make_a_deadline_earlier(
    spec: str, unit: Unit, day: dt.date, n: int, closed: list[int]
) -> None:
    cal = sla_engine.calendar(spec)
    closures = [day + dt.timedelta(days=k) for k in closed]
    assert cal.with_closures(*closures).add(day, n, unit) >= cal.add(day, n, unit)


@given(data=st.data(), spec=specs, n=st.integers(1, 60))
def test_expires_at_is_always_local_midnight(data: st.DataObject, spec: str, n: int) -> None:
    cal = sla_engine.calendar(spec)
    received = data.draw(received_instants(spec))
    unit = data.draw(st.sampled_from(DAY_UNITS + CALENDAR_UNITS))
    result = deadline(received, sla_engine.Delay(n, unit), cal)
    note(f"{received.isoformat()} + {n} {unit} -> {result.expires_at.isoformat()}")
    local = result.expires_at.astimezone(cal.tz)
    # Midnight on the day after the due date, whatever DST did in between.
    assert (local.hour, local.minute, local.second) == (0, 0, 0)
    assert local.date() == result.due_date + dt.timedelta(days=1)
    assert result.expires_at.utcoffset() == local.utcoffset()
    # The local day of receipt is where counting starts.
    assert result.received_day == received.astimezone(cal.tz).date()


@given(spec=specs, unit=st.sampled_from(DAY_UNITS + CALENDAR_UNITS), data=st.data())
def test_vectorised_equals_scalar(spec: str, unit: Unit, data: st.DataObject) -> None:
    cal = sla_engine.calendar(spec)
    sample = data.draw(st.lists(st.tuples(days, st.integers(0, 400)), min_size=1, max_size=30))
    starts = np.array([d for d, _ in sample], dtype="datetime64[D]")
    counts = np.array([k for _, k in sample])
    due = cal.add_many(starts, counts, unit)
    assert [d.astype(dt.date) for d in due] == [cal.add(d, k, unit) for d, k in sample]
    ends = starts + counts.astype("timedelta64[D]")
    counted = cal.count_many(starts, ends, unit)
    assert counted.tolist() == [cal.count(d, d + dt.timedelta(days=k), unit) for d, k in sample]
