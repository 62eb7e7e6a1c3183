"""Heures ouvrées across summer time: real open time, checked against a brute-force oracle.

Open hours were counted on the wall clock, so a line open through the night
(``lun-dim 00:00-24:00``, ``lun-dim 01:00-04:00``) gained the hour the clock
skips in March and lost the one it repeats in October: Saturday noon to
Sunday noon was 24 open hours on both weekends, and ``add_hours`` landed an
hour off.  Open time is now the real time that elapses while the clock
shows an open hour: a skipped hour counts nothing, a repeated one twice.

The oracle knows nothing of the engine's index: it cuts time into quarter
hours of UTC and asks, for each, whether the service is open at its first
instant (the local clock shows an open time on a day that is neither a
public holiday nor a closure).  Opening hours and clock changes fall on
quarter hours, so that answer holds for the whole quarter.
"""

from __future__ import annotations

import datetime as dt
import pickle
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla_engine import Calendar, OpeningHours, calendar, deadline
from sla_engine.strategies import received_instants

P = ZoneInfo("Europe/Paris")
UTC = dt.UTC
QUARTER = dt.timedelta(minutes=15)
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=UTC)


def at(y: int, m: int, d: int, h: int = 12, mi: int = 0, *, fold: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, fold=fold, tzinfo=P)


# -- the oracle ---------------------------------------------------------------------


def _is_open(cal: Calendar, instant: dt.datetime) -> bool:
    """Whether the service is open at ``instant``: its local clock decides."""
    local = instant.astimezone(cal.tz)
    day = local.date()
    if cal.public_holiday(day) is not None or any(c.first <= day <= c.last for c in cal.closures):
        return False
    assert cal.opening_hours is not None
    second = local.hour * 3600 + local.minute * 60 + local.second
    return any(s <= second < e for s, e in cal.opening_hours.week[day.weekday()])


def _quarters_from(instant: dt.datetime) -> dt.datetime:
    """The UTC quarter hour holding ``instant``."""
    utc = instant.astimezone(UTC)
    return utc - (utc - _EPOCH) % QUARTER


def oracle_hours_between(cal: Calendar, start: dt.datetime, end: dt.datetime) -> float:
    """Open hours from ``start`` to ``end``: the overlaps of the open quarters, in UTC."""
    # In UTC: two datetimes of one ZoneInfo compare by wall clock, fold ignored.
    a, b = start.astimezone(UTC), end.astimezone(UTC)
    if b < a:
        return -oracle_hours_between(cal, b, a)
    total = dt.timedelta(0)
    cell = _quarters_from(a)
    while cell < b:
        if _is_open(cal, cell):
            total += min(b, cell + QUARTER) - max(a, cell)
        cell += QUARTER
    return total / dt.timedelta(hours=1)


def oracle_add_hours(cal: Calendar, start: dt.datetime, n: float) -> dt.datetime:
    """The first instant by which ``n`` open hours have elapsed since ``start`` (``n > 0``)."""
    need = dt.timedelta(hours=n)
    a = start.astimezone(UTC)
    cell = _quarters_from(a)
    while True:
        if _is_open(cal, cell):
            here = cell + QUARTER - max(a, cell)
            if need <= here:
                return max(a, cell) + need
            need -= here
        cell += QUARTER


# -- where the clock changes ---------------------------------------------------------


def _change_days(tz: dt.tzinfo, years: range) -> list[dt.date]:
    """Days of ``years`` not 24 hours long in ``tz`` (found without the engine)."""
    days = []
    day = dt.date(years.start, 1, 1)
    while day.year < years.stop:
        here = dt.datetime.combine(day, dt.time(12), tzinfo=tz).utcoffset()
        before = dt.datetime.combine(day - dt.timedelta(days=1), dt.time(12), tzinfo=tz)
        if here != before.utcoffset():
            days.append(day)
        day += dt.timedelta(days=1)
    return days


YEARS = range(2024, 2028)
CHANGE_DAYS = {spec: _change_days(calendar(spec).tz, YEARS) for spec in ("fr", "fr-PM")}

# Hours that cross the night's changed hours, and hours that never do (Paris
# changes at 02:00 and 03:00, Saint-Pierre-et-Miquelon at 02:00 and 01:00).
NIGHT = ["00:00-24:00", "01:00-04:00", "02:15-02:45", "00:00-02:30 22:00-24:00", "02:30-03:30"]
DAYTIME = ["09:00-12:00 13:30-17:00", "08:00-18:00", "03:00-23:45", "00:00-01:00 03:00-24:00"]


@st.composite
def opening_hours(draw: st.DrawFn, *, night: bool = True) -> str:
    """Opening hours on quarter hours, some days closed; ``night``: they may touch 01:00-03:00."""
    groups = []
    for name in ("lun", "mar", "mer", "jeu", "ven", "sam", "dim"):
        choice = draw(st.sampled_from(["closed", "named", "random"]))
        if choice == "named":
            groups.append(f"{name} {draw(st.sampled_from(NIGHT + DAYTIME if night else DAYTIME))}")
        elif choice == "random":
            bounds = sorted(draw(st.sets(st.integers(0, 96), min_size=2, max_size=6)))
            pairs = list(zip(bounds[::2], bounds[1::2], strict=False))
            if not night:
                pairs = [(s, e) for s, e in pairs if s >= 12 or e <= 4]
            text = " ".join(
                f"{s // 4:02d}:{s % 4 * 15:02d}-{e // 4:02d}:{e % 4 * 15:02d}" for s, e in pairs
            )
            if text:
                groups.append(f"{name} {text}")
    return "; ".join(groups) or "dim 09:00-17:00"


@st.composite
def dst_cases(
    draw: st.DrawFn, *, night: bool = True, specs: tuple[str, ...] = ("fr", "fr-PM")
) -> tuple[Calendar, dt.datetime, dt.datetime]:
    """A calendar and two instants within two days of one of its clock changes."""
    spec = draw(st.sampled_from(specs))
    cal = calendar(spec, opening_hours=draw(opening_hours(night=night)))
    change = draw(st.sampled_from(CHANGE_DAYS[spec]))
    if draw(st.booleans()):  # the change day, or a neighbour, closed
        cal = cal.with_closures(change + dt.timedelta(days=draw(st.integers(-1, 1))))
    noon = dt.datetime.combine(change, dt.time(12), tzinfo=cal.tz)
    instants = received_instants(
        cal, min_value=noon - dt.timedelta(days=2), max_value=noon + dt.timedelta(days=2)
    )
    return cal, draw(instants), draw(instants)


def _same_instant(a: dt.datetime, b: dt.datetime) -> bool:
    # Positions are float seconds since 1803: a few microseconds of rounding.
    return abs((a - b).total_seconds()) < 1e-3


# -- examples counted by hand ------------------------------------------------------------


class TestExamples:
    """Open hours on the weekends the clock changes, counted by hand."""

    line = calendar("fr", opening_hours="lun-dim 00:00-24:00")
    night = calendar("fr", opening_hours="lun-dim 01:00-04:00")

    def test_a_line_open_all_day_loses_the_march_hour(self) -> None:
        # Saturday noon to Sunday noon: 02:00 became 03:00, 23 hours went by.
        assert self.line.hours_between(at(2026, 3, 28), at(2026, 3, 29)) == 23

    def test_a_line_open_all_day_gains_the_october_hour(self) -> None:
        assert self.line.hours_between(at(2026, 10, 24), at(2026, 10, 25)) == 25

    def test_twenty_four_open_hours_are_twenty_four_real_hours(self) -> None:
        assert self.line.add_hours(at(2026, 3, 28), 24).isoformat() == "2026-03-29T13:00:00+02:00"
        assert self.line.add_hours(at(2026, 10, 24), 24).isoformat() == "2026-10-25T11:00:00+01:00"

    def test_a_night_service_open_across_the_change(self) -> None:
        # 01:00-04:00 on the clock: 2 real hours in March, 4 in October.
        assert self.night.hours_between(at(2026, 3, 29, 0), at(2026, 3, 29, 5)) == 2
        assert self.night.hours_between(at(2026, 10, 25, 0), at(2026, 10, 25, 5)) == 4
        # Last Sunday of October 2024, 01:00: 2 open hours end when the clock
        # shows 02:00 the second time (it went 01:00, 02:00, 03:00 → 02:00).
        got = self.night.add_hours(at(2024, 10, 27, 1), 2)
        assert got.isoformat() == "2024-10-27T02:00:00+01:00"

    def test_the_repeated_hour_counts_twice(self) -> None:
        first, second = at(2026, 10, 25, 2, 30), at(2026, 10, 25, 2, 30, fold=1)
        assert self.line.hours_between(first, second) == 1
        assert self.line.add_hours(first, 1).isoformat() == "2026-10-25T02:30:00+01:00"
        # From 02:15 winter time back to 02:30 summer time: 45 minutes, backwards.
        assert self.night.hours_between(at(2026, 10, 25, 2, 15, fold=1), first) == -0.75

    def test_hours_opening_in_the_skipped_hour_open_at_its_end(self) -> None:
        # 02:30-03:30 on 29 March 2026: the clock shows 03:00-03:30 only.
        cal = calendar("fr", opening_hours="dim 02:30-03:30")
        assert cal.hours_between(at(2026, 3, 29, 0), at(2026, 3, 29, 12)) == 0.5
        assert cal.add_hours(at(2026, 3, 29, 0), 0.25).isoformat() == "2026-03-29T03:15:00+02:00"

    def test_daytime_hours_keep_their_eight_hours(self) -> None:
        cal = calendar("fr", opening_hours="lun-dim 09:00-17:00")
        assert cal.hours_between(at(2026, 3, 28, 0), at(2026, 3, 30, 0)) == 16
        assert cal.hours_between(at(2026, 10, 24, 0), at(2026, 10, 26, 0)) == 16
        assert cal.add_hours(at(2026, 3, 28, 16), 2).isoformat() == "2026-03-29T10:00:00+02:00"

    def test_saint_pierre_et_miquelon_changes_on_its_own_days(self) -> None:
        pm = calendar("fr-PM", opening_hours="lun-dim 00:00-24:00")
        tz = pm.tz
        saturday, sunday = (dt.datetime(2026, 3, d, 12, tzinfo=tz) for d in (7, 8))
        assert pm.hours_between(saturday, sunday) == 23
        # Paris has not changed yet that weekend.
        assert self.line.hours_between(at(2026, 3, 7), at(2026, 3, 8)) == 24

    def test_an_overseas_line_without_summer_time(self) -> None:
        gp = calendar("fr-971", opening_hours="lun-dim 00:00-24:00")
        start = dt.datetime(2026, 3, 28, 12, tzinfo=gp.tz)
        assert gp.hours_between(start, start + dt.timedelta(days=1)) == 24
        assert gp.add_hours(start, 24) == start + dt.timedelta(days=1)

    def test_a_day_counts_only_if_open_time_really_elapses(self) -> None:
        # Open 02:00-03:00 on Sundays: the March change skips that hour, October's repeats it.
        cal = calendar("fr", opening_hours="dim 02:00-03:00")
        assert cal.is_counted(dt.date(2026, 3, 29), "heures ouvrées") is False
        assert cal.hours_between(at(2026, 3, 29, 0), at(2026, 3, 30, 0)) == 0
        assert cal.is_counted(dt.date(2026, 10, 25), "heures ouvrées") is True
        assert cal.is_counted(dt.date(2026, 11, 1), "heures ouvrées") is False  # Toussaint
        assert cal.is_counted(dt.date(2026, 4, 12), "heures ouvrées") is True
        assert cal.is_counted(dt.date(2026, 4, 13), "heures ouvrées") is False  # a Monday

    def test_no_hours_after_an_instant_is_that_instant(self) -> None:
        # Monday 07:00, before opening: not Friday's closing time, which has
        # the same count of open hours but comes before it.
        cal = calendar("fr", opening_hours="lun-ven 09:00-12:00 13:30-17:00")
        monday = at(2026, 3, 2, 7)
        assert cal.add_hours(monday, 0) == monday
        assert cal.add_hours(monday, 0.5).isoformat() == "2026-03-02T09:30:00+01:00"
        # A closing time is where counting ends: 3 hours from 09:00 is 12:00, not 13:30.
        assert cal.add_hours(at(2026, 3, 2, 9), 3).isoformat() == "2026-03-02T12:00:00+01:00"

    def test_a_calendar_that_counted_hours_still_goes_to_another_process(self) -> None:
        # The second process (replay, review) gets the engine's calendars pickled.
        cal = calendar("fr", opening_hours="lun-dim 00:00-24:00")
        assert cal.add_hours(at(2026, 3, 28), 24).isoformat() == "2026-03-29T13:00:00+02:00"
        copy = pickle.loads(pickle.dumps(cal))  # noqa: S301 - our own bytes
        assert copy == cal
        assert copy.add_hours(at(2026, 3, 28), 24).isoformat() == "2026-03-29T13:00:00+02:00"

    def test_explanations_name_the_clock_changes_they_count(self) -> None:
        change = "le changement d'heure avance l'horloge d'une heure"
        text = deadline(at(2026, 3, 28), "24 heures ouvrées", self.line).explain("fr")
        assert f"Le dimanche 29 mars 2026, {change}" in text
        assert "dimanche 29 mars 2026 à 13:00 (UTC+02:00)" in text
        plain = deadline(at(2026, 10, 24), "48 heures", self.line).explain("en")
        assert "On Sunday 25 October 2026, the clock change moves the clock back" in plain
        # Closed when the clock changes, or received after it: nothing to say.
        daytime = calendar("fr", opening_hours="lun-dim 09:00-17:00")
        assert "changement" not in deadline(at(2026, 3, 28), "24 heures ouvrées", daytime).explain()
        assert (
            "changement" not in deadline(at(2026, 3, 29), "24 heures ouvrées", self.line).explain()
        )
        assert "changement" not in deadline(at(2026, 3, 20), "48 heures", self.line).explain()


# -- properties against the oracle ----------------------------------------------------------


class TestAgainstTheOracle:
    """hours_between and add_hours agree with the brute-force oracle near clock changes."""

    @given(dst_cases())
    def test_hours_between(self, case: tuple[Calendar, dt.datetime, dt.datetime]) -> None:
        cal, a, b = case
        assert cal.hours_between(a, b) == pytest.approx(oracle_hours_between(cal, a, b), abs=1e-6)

    @given(dst_cases(night=False))
    def test_hours_between_daytime(self, case: tuple[Calendar, dt.datetime, dt.datetime]) -> None:
        cal, a, b = case
        assert cal.hours_between(a, b) == pytest.approx(oracle_hours_between(cal, a, b), abs=1e-6)

    @given(dst_cases(), st.integers(1, 4 * 48))
    def test_add_hours(
        self, case: tuple[Calendar, dt.datetime, dt.datetime], quarters: int
    ) -> None:
        cal, a, _ = case
        n = _within_a_few_weeks(cal, quarters / 4)
        got = cal.add_hours(a, n)
        assert _same_instant(got, oracle_add_hours(cal, a, n)), (got, oracle_add_hours(cal, a, n))
        assert got.utcoffset() == got.astimezone(cal.tz).utcoffset()  # the zone's own offset

    @given(dst_cases(), st.integers(1, 4 * 48))
    def test_add_then_count_gives_back_n(
        self, case: tuple[Calendar, dt.datetime, dt.datetime], quarters: int
    ) -> None:
        cal, a, _ = case
        n = _within_a_few_weeks(cal, quarters / 4)
        assert cal.hours_between(a, cal.add_hours(a, n)) == pytest.approx(n, abs=1e-6)

    @given(dst_cases(night=True))
    def test_positions_follow_time(self, case: tuple[Calendar, dt.datetime, dt.datetime]) -> None:
        # Earlier instants, fold=1 ones included, never count more open time from the same start.
        cal, a, b = case
        start = at(2024, 1, 1).astimezone(cal.tz)
        first, last = sorted((a, b), key=lambda t: t.astimezone(UTC))
        assert cal.hours_between(start, first) <= cal.hours_between(start, last)


def _within_a_few_weeks(cal: Calendar, n: float) -> float:
    """``n``, capped at twice a week's open hours so the oracle's walk stays short."""
    hours: OpeningHours | None = cal.opening_hours
    assert hours is not None
    weekly = sum(hours.seconds_on(w) for w in range(7)) / 3600
    return min(n, 2 * weekly)


def test_the_oracle_agrees_with_the_hand_counts() -> None:
    line = calendar("fr", opening_hours="lun-dim 00:00-24:00")
    assert oracle_hours_between(line, at(2026, 3, 28), at(2026, 3, 29)) == 23
    assert oracle_hours_between(line, at(2026, 10, 24), at(2026, 10, 25)) == 25
    assert oracle_add_hours(line, at(2026, 3, 28), 24) == at(2026, 3, 29, 13)
