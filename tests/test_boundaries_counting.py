"""Boundaries of the counting: deadlines, timers, calendars, opening hours, delays, closures.

Each test pins a value at an edge the rest of the suite crossed without
looking: the instant a threshold or an expiry is reached, a value equal to
its limit, a second suspension, the last of two announced delays, a zero-length
closure, ranges of opening hours that touch or come out of order.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sla_engine import Delay, SlaEngine, calendar, deadline, parse_catalogue
from sla_engine._closures import Closure, closures_from_ics
from sla_engine._timers import TimerState, evaluate_contact

from .engine_support import at, event_mapping, one_engagement, sample_catalogue

UTC = dt.UTC
CLOCK = at(2026, 1, 1)


def _engine(catalogue=None, cal="fr", **options):  # type: ignore[no-untyped-def]
    return SlaEngine(
        sample_catalogue() if catalogue is None else catalogue, cal, clock=lambda: CLOCK, **options
    )


def _one(engine, contact: str, engagement: str, now: dt.datetime | None = None):  # type: ignore[no-untyped-def]
    found = [t for t in engine.timers(contact, now=now) if t.engagement_id == engagement]
    assert len(found) == 1, found
    return found[0]


# -- jours francs are extended like calendar days -----------------------------------


def test_jours_francs_ending_on_a_sunday_are_extended_by_the_engine_as_by_deadline() -> None:
    """8 jours francs from Friday 17/10/2025 end on Sunday 26/10: art. 642 takes them to Monday."""
    received = at(2025, 10, 17)
    cal = calendar("fr")
    d = deadline(received, "8 jours francs", cal)
    assert (d.unextended_due_date, d.due_date) == (dt.date(2025, 10, 26), dt.date(2025, 10, 27))
    engine = _engine(parse_catalogue(one_engagement("8 jours francs"), source="tests"))
    engine.record_many(
        [
            event_mapping("f1", "F", "received", received),
            event_mapping("f2", "F", "answered", at(2025, 10, 27, 18)),
        ]
    )
    timer = _one(engine, "F", "e")
    assert timer.due_date == dt.date(2025, 10, 27)
    assert timer.expires_at == at(2025, 10, 28, 0)
    assert timer.state is TimerState.MET  # answered on the Monday: in time


# -- timers -------------------------------------------------------------------------


def test_a_second_suspension_also_moves_the_due_date() -> None:
    """Two suspensions of one and two working days: both are added, not the first alone."""
    engine = _engine()
    engine.record_many(
        [
            event_mapping("s1", "S", "received", at(2025, 10, 13)),
            event_mapping("s2", "S", "suspended", at(2025, 10, 14)),
            event_mapping("s3", "S", "resumed", at(2025, 10, 15)),
            event_mapping("s4", "S", "suspended", at(2025, 10, 16)),
            event_mapping("s5", "S", "resumed", at(2025, 10, 20)),
            event_mapping("s6", "S", "answered", at(2025, 10, 22)),
        ]
    )
    timer = _one(engine, "S", "email-5")
    assert len(timer.pauses) == 2
    assert timer.due_date == dt.date(2025, 10, 23)  # 20/10 without suspensions
    assert timer.state is TimerState.MET


def test_the_last_announced_delay_is_the_one_kept() -> None:
    """Acknowledged with 5 working days, then a holding reply announcing 15: the 15 count."""
    engine = _engine("services-publics-plus")
    engine.record_many(
        [
            event_mapping("n1", "N", "received", at(2025, 10, 13)),
            event_mapping("n2", "N", "acknowledged", at(2025, 10, 13, 11))
            | {"announced_delay": "5 jours ouvrés"},
            event_mapping("n3", "N", "holding_reply", at(2025, 10, 15, 11))
            | {"announced_delay": "15 jours ouvrés"},
            event_mapping("n4", "N", "answered", at(2025, 10, 24)),
        ]
    )
    timer = _one(engine, "N", "answer-announced")
    assert str(timer.target) == "15 jours ouvrés"
    assert timer.due_date == dt.date(2025, 11, 3)  # 13/10 + 15 working days (1/11 a Saturday)
    assert timer.state is TimerState.MET  # late against the first announcement (20/10)


@pytest.mark.parametrize(("rings", "state"), [(4, "met"), (5, "met"), (6, "late")])
def test_a_measure_equal_to_its_at_most_is_met(rings: int, state: str) -> None:
    """« moins de 5 sonneries » is at most 5: the fifth ring still meets it."""
    engine = _engine()
    engine.record_many(
        [
            event_mapping("p1", "T", "received", at(2025, 10, 13)) | {"channel": "phone"},
            event_mapping("p2", "T", "answered", at(2025, 10, 13, 10, 1))
            | {"attributes": {"rings": rings}},
        ]
    )
    assert _one(engine, "T", "rings").state.value == state


def test_at_exactly_the_first_warning_the_timer_is_at_risk() -> None:
    """A threshold is crossed at its instant, not one microsecond later."""
    engine = _engine()
    engine.record(event_mapping("d1", "D", "received", at(2025, 10, 13)))
    warn = _one(engine, "D", "email-5").warnings[0]
    assert warn == at(2025, 10, 17, 0)  # half of 5 working days, rounded up to a day
    assert _one(engine, "D", "email-5", now=warn - dt.timedelta(microseconds=1)).state is (
        TimerState.RUNNING
    )
    assert _one(engine, "D", "email-5", now=warn).state is TimerState.AT_RISK
    assert ("D", "email-5") in {
        (t.contact_id, t.engagement_id) for t in engine.worklist(warn, now=warn)
    }


# -- the view's rows written from templates -----------------------------------------


def test_answered_at_exactly_the_expiry_instant_the_view_row_says_late() -> None:
    """The row written from a template (record_many) says late at expiry, as evaluate_contact."""
    engine = _engine()
    engine.record_many(
        [
            event_mapping("d1", "D", "received", at(2025, 10, 13)),
            event_mapping("d2", "D", "answered", at(2025, 10, 20, 0) + dt.timedelta(days=1)),
        ]
    )
    timer = _one(engine, "D", "email-5")
    assert timer.expires_at == at(2025, 10, 21, 0)
    assert timer.stopped_at == timer.expires_at
    assert timer.state is TimerState.LATE
    assert [t.state for t in engine.timers("D") if t.engagement_id == "email-5"] == [
        t.state
        for t in evaluate_contact(engine.history("D"), engine.catalogue, engine.calendar_for)
        if t.engagement_id == "email-5"
    ]


FIRST_STOP = """
[catalogue]
id = "t"
title = "t"
version = "1"
calendar = "fr"

[[engagement]]
id = "ack"
title = "ack"
source = "tests/test_boundaries_counting.py"
kind = "response"
start = "received"
stop = ["acknowledged", "holding_reply", "answered"]
target = "5 jours ouvrés"
"""


def test_two_stop_events_at_one_instant_keep_the_first_recorded_offset() -> None:
    """The same instant written with two offsets: the stored stop is the first recorded one's."""
    engine = _engine(parse_catalogue(FIRST_STOP, source="tests"))
    same = at(2025, 10, 14)
    engine.record_many(
        [
            event_mapping("a1", "A", "received", at(2025, 10, 13)),
            event_mapping("a2", "A", "holding_reply", same),
            event_mapping("a3", "A", "acknowledged", same.astimezone(UTC)),
        ]
    )
    timer = _one(engine, "A", "ack")
    assert timer.state is TimerState.MET
    assert timer.stopped_at.isoformat() == "2025-10-14T10:00:00+02:00"
    (expected,) = evaluate_contact(engine.history("A"), engine.catalogue, engine.calendar_for)
    assert timer.stopped_at.isoformat() == expected.stopped_at.isoformat()


# -- deadline(): no extension claimed when there was none ---------------------------


def test_a_deadline_on_a_working_day_has_no_unextended_due_date() -> None:
    """2 calendar days from Monday end on Wednesday: nothing extended, no art. 642."""
    d = deadline(at(2025, 10, 13), "2 jours calendaires", calendar("fr"))
    assert d.due_date == dt.date(2025, 10, 15)
    assert d.unextended_due_date is None
    assert d.to_dict()["unextended_due_date"] is None
    for lang in ("fr", "en"):
        assert "642" not in d.explain(lang)


# -- calendars: months, vectorised and scalar ---------------------------------------


def test_one_month_from_the_fifteenth_to_the_fifteenth_counts_one_in_count_many() -> None:
    """15/01 → 15/02 is exactly one month: the vectorised count agrees with count."""
    cal = calendar("fr")
    a = np.array(["2025-01-15"], dtype="datetime64[D]")
    b = np.array(["2025-02-15"], dtype="datetime64[D]")
    assert cal.count(dt.date(2025, 1, 15), dt.date(2025, 2, 15), "mois") == 1
    assert cal.count_many(a, b, "mois").tolist() == [1]
    assert cal.count_many(a, b - 1, "mois").tolist() == [0]


def test_a_month_from_a_day_the_next_month_lacks_ends_on_its_last_day() -> None:
    """31/01 + 1 month is 28/02 (the clamp), the same in add_many as in add."""
    cal = calendar("fr")
    days = np.array(["2025-01-31", "2024-01-31", "2024-03-31"], dtype="datetime64[D]")
    assert cal.add_many(days, 1, "mois").tolist() == [
        dt.date(2025, 2, 28),
        dt.date(2024, 2, 29),
        dt.date(2024, 4, 30),
    ]
    a = np.array(["2025-01-31"], dtype="datetime64[D]")
    b = np.array(["2025-02-28"], dtype="datetime64[D]")
    assert (
        cal.count_many(a, b, "mois").tolist()
        == [1]
        == [cal.count(dt.date(2025, 1, 31), dt.date(2025, 2, 28), "mois")]
    )


def test_months_vectorised_agree_with_scalar_over_two_years() -> None:
    """Every start day of 2024–2025 (month ends, 29/02): add_many, count_many as add, count."""
    cal = calendar("fr")
    starts = np.arange("2024-01-01", "2026-01-01", dtype="datetime64[D]")
    for n in (1, 2, 13):
        added = cal.add_many(starts, n, "mois")
        scalar = [cal.add(d, n, "mois") for d in starts.tolist()]
        assert added.tolist() == scalar
        for shift in (-1, 0, 1):
            ends = np.array(scalar, dtype="datetime64[D]") + shift
            expected = [
                cal.count(s, e, "mois") for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
            ]
            assert cal.count_many(starts, ends, "mois").tolist() == expected


# -- opening hours at a clock change ------------------------------------------------


@pytest.mark.parametrize(
    ("start", "one_hour_later"),
    [
        # Sunday 26/10/2025: 03:00 CEST becomes 02:00 CET at 01:00 UTC.
        (dt.datetime(2025, 10, 26, 1, 0, tzinfo=UTC), "2025-10-26T03:00:00+01:00"),
        # Sunday 30/03/2025: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
        (dt.datetime(2025, 3, 30, 1, 0, tzinfo=UTC), "2025-03-30T04:00:00+02:00"),
    ],
)
def test_a_service_open_all_night_counts_real_hours_from_the_clock_change_instant(
    start: dt.datetime, one_hour_later: str
) -> None:
    """At exactly the instant the clock changes, the new offset's stretch applies."""
    cal = calendar("fr").with_opening_hours("lun-dim 00:00-24:00")
    assert cal.hours_between(start, start + dt.timedelta(hours=2)) == 2.0
    assert cal.hours_between(start, start + dt.timedelta(hours=1)) == 1.0
    later = cal.add_hours(start, 1)
    assert later.isoformat() == one_hour_later
    assert later - start == dt.timedelta(hours=1)


# -- opening hours in the calendar's data version -----------------------------------


def test_opening_hours_are_part_of_the_data_version() -> None:
    plain = calendar("fr")
    morning = plain.with_opening_hours("lun-ven 09:00-12:00")
    day = plain.with_opening_hours("lun-ven 09:00-17:00")
    assert "hours=lun-ven 09:00-12:00" in morning.data_version
    assert len({plain.data_version, morning.data_version, day.data_version}) == 3


def test_an_engine_reopened_with_other_opening_hours_projects_its_view_again(
    tmp_path: Path,
) -> None:
    """3 heures ouvrées from Monday 10:00: Tuesday 10:00 with 9–12, Monday 13:00 with 9–17.

    Both the calendars' data version and the store's rules (which keep the
    opening hours among the calendar's settings) say the view is stale.
    """
    store = f"sqlite:///{tmp_path / 'hours.db'}"
    catalogue = parse_catalogue(one_engagement("3 heures ouvrées"), source="tests")
    morning = calendar("fr").with_opening_hours("lun-ven 09:00-12:00")
    with SlaEngine(catalogue, morning, store=store, clock=lambda: CLOCK) as engine:
        engine.record(event_mapping("h1", "H", "received", at(2025, 10, 13)))
        assert _one(engine, "H", "e").expires_at == at(2025, 10, 14, 10)
    day = calendar("fr").with_opening_hours("lun-ven 09:00-17:00")
    with SlaEngine(catalogue, day, store=store, clock=lambda: CLOCK) as engine:
        assert _one(engine, "H", "e").expires_at == at(2025, 10, 13, 13)


# -- opening hours: ranges that touch, ranges out of order --------------------------


def test_touching_ranges_of_opening_hours_are_accepted() -> None:
    """09:00–12:00 then 12:00–14:00 do not overlap: five open hours on a Monday."""
    cal = calendar("fr").with_opening_hours("lun-ven 09:00-12:00 12:00-14:00")
    assert str(cal.opening_hours) == "lun-ven 09:00-12:00 12:00-14:00"
    assert cal.hours_between(at(2025, 10, 13, 8), at(2025, 10, 13, 15)) == 5.0
    assert cal.add_hours(at(2025, 10, 13, 11), 2) == at(2025, 10, 13, 13)


@pytest.mark.parametrize(
    ("text", "shown", "monday", "first_hour_done"),
    [
        ("lun-ven 14:00-17:00 09:00-12:00", "lun-ven 09:00-12:00 14:00-17:00", 6.0, 10),
        (
            "lun-ven 13:30-17:00; lun 08:00-12:00",
            "lun 08:00-12:00 13:30-17:00; mar-ven 13:30-17:00",
            7.5,
            9,
        ),
    ],
)
def test_ranges_of_opening_hours_given_out_of_order_are_sorted(
    text: str, shown: str, monday: float, first_hour_done: int
) -> None:
    cal = calendar("fr").with_opening_hours(text)
    assert str(cal.opening_hours) == shown
    # Monday 13/10/2025.
    assert cal.hours_between(at(2025, 10, 13, 0), at(2025, 10, 14, 0)) == monday
    assert cal.add_hours(at(2025, 10, 13, 7), 1) == at(2025, 10, 13, first_hour_done)


# -- closures from iCalendar --------------------------------------------------------


ZERO_LENGTH = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//FR\r\nBEGIN:VEVENT\r\nUID:x1\r\n"
    "DTSTAMP:20250101T000000Z\r\nDTSTART;TZID=Europe/Paris:20251224T000000\r\n"
    "DTEND;TZID=Europe/Paris:20251224T000000\r\nSUMMARY:inventaire\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


def test_a_zero_length_event_at_midnight_closes_that_day(tmp_path: Path) -> None:
    """An event from 24/12 00:00 to 24/12 00:00 is read as a closure of 24/12, not refused."""
    path = tmp_path / "closures.ics"
    path.write_text(ZERO_LENGTH, newline="")
    closures = closures_from_ics(path, tz=at(2025, 1, 1).tzinfo)
    assert closures == (Closure(dt.date(2025, 12, 24), dt.date(2025, 12, 24), "inventaire"),)
    cal = calendar("fr").with_closures(*closures)
    assert not cal.is_counted(dt.date(2025, 12, 24), "jours ouvrés")
    assert cal.is_counted(dt.date(2025, 12, 23), "jours ouvrés")


# -- delays written with hyphens ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("15 jours-ouvrés", "15 jours ouvrés"),
        ("3 heures-ouvrées", "3 heures ouvrées"),
        ("2 semaines-calendaires", "2 semaines"),
    ],
)
def test_a_delay_with_a_hyphen_between_its_words_parses(text: str, plain: str) -> None:
    assert Delay.parse(text) == Delay.parse(plain)
