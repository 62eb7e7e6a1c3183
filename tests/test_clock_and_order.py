"""Clock and order: each odd instant has a defined answer."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

import sla_engine
from sla_engine import ContactRuleError, SlaEngine

from .engine_support import P, at, sample_catalogue

CLOCK = at(2025, 11, 20, 12)


@pytest.fixture
def engine() -> SlaEngine:
    return SlaEngine(sample_catalogue(), "fr", clock=lambda: CLOCK)


def received(when: dt.datetime, contact: str = "C1") -> dict[str, object]:
    return {"event_id": f"{contact}-r", "contact_id": contact, "type": "received",
            "occurred_at": when, "channel": "email"}  # fmt: skip


class TestInstants:
    def test_an_event_after_the_moment_it_is_recorded_is_refused(self, engine: SlaEngine) -> None:
        with pytest.raises(ContactRuleError, match="after the moment it is recorded") as caught:
            engine.record(received(at(2026, 1, 5)))
        assert caught.value.code == "in_future"

    def test_a_clock_a_little_ahead_is_tolerated(self, engine: SlaEngine) -> None:
        engine.record(received(CLOCK + dt.timedelta(hours=20)))
        assert len(engine.history("C1")) == 1

    def test_the_tolerance_is_one_day_to_the_microsecond_in_any_offset(self) -> None:
        clock = [CLOCK]
        engine = SlaEngine(sample_catalogue(), "fr", clock=lambda: clock[0])
        tokyo = ZoneInfo("Asia/Tokyo")
        for n in range(3):  # a new recording instant each time: none is taken for another
            clock[0] = CLOCK + dt.timedelta(days=n)
            edge = (clock[0] + dt.timedelta(days=1)).astimezone(tokyo)
            engine.record(received(edge, contact=f"ok{n}"))
            with pytest.raises(ContactRuleError) as caught:
                engine.record(received(edge + dt.timedelta(microseconds=1), contact=f"no{n}"))
            assert caught.value.code == "in_future"
        assert len(engine.history("ok2")) == 1

    def test_a_late_record_says_when_it_was_recorded(self, engine: SlaEngine) -> None:
        engine.record(received(at(2025, 11, 3)) | {"recorded_at": at(2025, 11, 5)})
        assert engine.history("C1")[0].recorded_at == at(2025, 11, 5)

    @pytest.mark.parametrize("year", [1700, 2150])
    def test_years_the_calendars_do_not_cover(self, year: int) -> None:
        far = dt.datetime(year, 3, 2, 10, tzinfo=dt.UTC)
        engine = SlaEngine(sample_catalogue(), "fr", clock=lambda: far)
        with pytest.raises(
            ContactRuleError, match=f"happens in {year}, outside the years"
        ) as caught:
            engine.record(received(far))
        assert caught.value.code == "out_of_range"

    def test_before_the_contact_was_received(self, engine: SlaEngine) -> None:
        engine.record(received(at(2025, 11, 7)))
        with pytest.raises(ContactRuleError, match="before the contact was received"):
            engine.record({"event_id": "a", "contact_id": "C1", "type": "answered",
                           "occurred_at": at(2025, 11, 6)})  # fmt: skip


class TestOffsets:
    def test_an_odd_offset_counts_in_the_calendar_local_day(self, engine: SlaEngine) -> None:
        # Friday 7 Nov 2025, 23:30 at UTC-03:30 is Saturday 8 Nov, 04:00 in Paris:
        # the first counted day is Monday 10, Tuesday 11 is the Armistice.
        when = dt.datetime(
            2025, 11, 7, 23, 30, tzinfo=dt.timezone(-dt.timedelta(hours=3, minutes=30))
        )
        engine.record(received(when))
        (ack,) = [t for t in engine.timers("C1", now=CLOCK) if t.engagement_id == "ack"]
        assert ack.due_date == dt.date(2025, 11, 12)
        assert ack.expires_at == dt.datetime(2025, 11, 13, tzinfo=P)

    def test_the_two_half_past_two_of_the_night_clocks_go_back(self, engine: SlaEngine) -> None:
        # 26 Oct 2025: 02:30+02:00 happens an hour before 02:30+01:00.
        first = dt.datetime.fromisoformat("2025-10-26T02:30:00+02:00")
        second = dt.datetime.fromisoformat("2025-10-26T02:30:00+01:00")
        engine.record(received(first))
        engine.record({"event_id": "k", "contact_id": "C1", "type": "acknowledged",
                       "occurred_at": second})  # fmt: skip
        (ack,) = [t for t in engine.timers("C1", now=CLOCK) if t.engagement_id == "ack"]
        assert ack.state.value == "met"
        assert ack.stopped_at == second


class TestLeapDays:
    def test_a_month_from_the_29th_of_february(self) -> None:
        cal = sla_engine.calendar("fr")
        assert cal.add(dt.date(2024, 2, 29), 1, "mois", extend=False) == dt.date(2024, 3, 29)
        assert cal.add(dt.date(2024, 1, 31), 1, "mois") == dt.date(2024, 2, 29)
        assert cal.add(dt.date(2023, 1, 31), 1, "mois", extend=False) == dt.date(2023, 2, 28)

    def test_a_request_received_on_a_leap_day(self) -> None:
        leap = dt.datetime(2024, 2, 29, 10, tzinfo=ZoneInfo("Europe/Paris"))
        engine = SlaEngine(sample_catalogue(), "fr", clock=lambda: leap + dt.timedelta(days=30))
        engine.record(received(leap))
        (email,) = [t for t in engine.timers("C1", now=leap) if t.engagement_id == "email-5"]
        # Thursday 29 Feb: Fri 1, Mon 4, Tue 5, Wed 6, Thu 7 March.
        assert email.due_date == dt.date(2024, 3, 7)
