"""Tests for Calendar: specs, territories, working weeks, closures, coverage."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sla_engine
from sla_engine import (
    CalendarCoverageError,
    CalendarDataError,
    CalendarSpecError,
    Closure,
    DelayError,
    Unit,
    calendar,
)


class TestSpec:
    @pytest.mark.parametrize(
        ("spec", "canonical", "tz"),
        [
            ("fr", "fr", "Europe/Paris"),
            ("FR", "fr", "Europe/Paris"),
            ("fr-57", "fr-57", "Europe/Paris"),
            ("fr-Moselle", "fr-57", "Europe/Paris"),
            ("fr-alsace", "fr-6AE", "Europe/Paris"),
            ("fr-6ae", "fr-6AE", "Europe/Paris"),
            ("fr-971", "fr-971", "America/Guadeloupe"),
            ("fr-GP", "fr-971", "America/Guadeloupe"),
            ("fr-972", "fr-972", "America/Martinique"),
            ("fr-973", "fr-973", "America/Cayenne"),
            ("fr-RE", "fr-974", "Indian/Reunion"),
            ("fr-La Réunion", "fr-974", "Indian/Reunion"),
            ("fr-976", "fr-976", "Indian/Mayotte"),
            ("fr-Saint-Martin", "fr-MF", "America/Marigot"),
            ("fr-NC", "fr-NC", "Pacific/Noumea"),
            ("fr-PF", "fr-PF", "Pacific/Tahiti"),
            ("fr-PM", "fr-PM", "America/Miquelon"),
            (" fr-57 ", "fr-57", "Europe/Paris"),
        ],
    )
    def test_territories(self, spec: str, canonical: str, tz: str) -> None:
        cal = calendar(spec)
        assert cal.spec == canonical
        assert str(cal) == canonical
        assert cal.time_zone_name == tz

    @pytest.mark.parametrize(
        ("spec", "message"),
        [
            ("de", "cannot read the calendar spec 'de'"),
            ("", "cannot read the calendar spec ''"),
            ("fr-99", "unknown French territory '99'"),
            ("fr-Zone A", "unknown French territory 'Zone A'"),
            ("france", "cannot read the calendar spec"),
        ],
    )
    def test_refused(self, spec: str, message: str) -> None:
        with pytest.raises(CalendarSpecError, match=message):
            calendar(spec)

    def test_spec_errors_are_value_errors(self) -> None:
        with pytest.raises(ValueError, match="unknown French territory"):
            calendar("fr-XX")

    def test_unknown_time_zone(self) -> None:
        with pytest.raises(sla_engine.InvalidTimeError, match="unknown time zone 'Mars/Olympus'"):
            calendar("fr", time_zone="Mars/Olympus")

    def test_every_territory_is_listed(self) -> None:
        specs = {t.spec for t in sla_engine.territories()}
        assert {"fr", "fr-57", "fr-6AE", "fr-971", "fr-974", "fr-976", "fr-WF"} <= specs
        for spec in specs:
            assert calendar(spec).spec == spec

    def test_same_spec_same_value(self) -> None:
        assert calendar("fr-57") == calendar("fr-Moselle")
        assert calendar("fr-57") != calendar("fr")
        assert hash(calendar("fr-57")) == hash(calendar("fr-moselle"))


class TestPublicHolidays:
    def test_names_in_french_whatever_the_locale(self) -> None:
        cal = calendar("fr")
        assert cal.public_holiday(dt.date(2025, 7, 14)) == "Fête nationale"
        assert cal.public_holiday(dt.date(2025, 7, 14), "en") == "National Day"
        assert cal.public_holiday(dt.date(2025, 7, 15)) is None

    def test_regional_days(self) -> None:
        assert calendar("fr-57").public_holiday(dt.date(2025, 12, 26)) is not None
        assert calendar("fr").public_holiday(dt.date(2025, 12, 26)) is None
        assert calendar("fr-972").public_holiday(dt.date(2025, 5, 22)) is not None
        assert calendar("fr-971").public_holiday(dt.date(2025, 5, 27)) is not None

    def test_reasons(self) -> None:
        cal = calendar("fr")
        assert cal.reasons_not_counted(dt.date(2025, 11, 1)) == (
            "samedi",
            "1er novembre : Toussaint",
        )
        assert cal.reasons_not_counted(dt.date(2025, 11, 11), lang="en") == (
            "11 November: Armistice Day",
        )
        assert cal.reasons_not_counted(dt.date(2025, 11, 12)) == ()
        assert cal.reasons_not_counted(dt.date(2025, 11, 8), Unit.JOURS_OUVRABLES) == ()
        assert cal.reasons_not_counted(dt.date(2025, 11, 9), Unit.JOURS_OUVRABLES) == ("dimanche",)


class TestWorkingWeek:
    def test_tuesday_to_saturday(self) -> None:
        cal = calendar("fr", working_week="mar-sam")
        assert cal.working_week == frozenset({1, 2, 3, 4, 5})
        assert cal.is_working_day(dt.date(2025, 11, 8))  # Saturday
        assert not cal.is_working_day(dt.date(2025, 11, 10))  # Monday
        # From Saturday 8 Nov: Tue 11 is Armistice, so Wed 12 is day 1.
        assert cal.add(dt.date(2025, 11, 8), 1) == dt.date(2025, 11, 12)
        assert cal.reasons_not_counted(dt.date(2025, 11, 10)) == ("lundi",)

    def test_art_642_extends_a_saturday_the_service_works(self) -> None:
        """« Le délai qui expirerait normalement un samedi, un dimanche … est prorogé »."""
        cal = calendar("fr", working_week="mar-sam")
        friday = dt.date(2025, 10, 24)
        # Saturday 25 is a working day of the service, but art. 642 extends it;
        # Monday 27 it does not work: Tuesday 28.
        assert cal.add(friday, 1, Unit.JOURS_CALENDAIRES) == dt.date(2025, 10, 28)
        assert cal.add(friday, 3, Unit.JOURS_CALENDAIRES) == dt.date(2025, 10, 28)
        assert cal.add(friday, 1, Unit.JOURS_CALENDAIRES, extend=False) == dt.date(2025, 10, 25)
        assert cal.add(friday, 6, Unit.JOURS_CALENDAIRES) == dt.date(2025, 10, 30)  # a Thursday
        assert cal.reasons_extended(dt.date(2025, 10, 25)) == ("samedi",)
        assert cal.reasons_extended(dt.date(2025, 10, 27), "en") == ("Monday",)
        assert cal.reasons_extended(dt.date(2025, 10, 28)) == ()
        # Days are still counted in its own week: a Saturday is a jour ouvré.
        assert cal.add(friday, 1) == dt.date(2025, 10, 25)
        # The vectorised form agrees.
        days = np.array(["2025-10-24", "2025-10-29"], dtype="datetime64[D]")
        due = cal.add_many(days, 1, Unit.JOURS_CALENDAIRES)
        assert due.tolist() == [dt.date(2025, 10, 28), dt.date(2025, 10, 30)]
        # The explanation says why, without calling Saturday a day it does not work.
        received = dt.datetime(2025, 10, 24, 10, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        text = sla_engine.deadline(received, "1 jour calendaire", cal).explain("fr")
        assert "Le délai expirerait ce jour-là (samedi)" in text
        assert "art. 642), le mardi 28 octobre 2025." in text
        # A service open only at weekends has no other day to extend to.
        weekends = calendar("fr", working_week="sam-dim")
        assert weekends.add(friday, 1, Unit.JOURS_CALENDAIRES) == dt.date(2025, 10, 25)

    @given(
        week=st.sets(st.integers(0, 6), min_size=1),
        start=st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
        n=st.integers(0, 120),
    )
    def test_an_extended_expiry_is_the_first_day_art_642_allows(
        self, week: set[int], start: dt.date, n: int
    ) -> None:
        cal = calendar("fr", working_week=week)
        raw = cal.add(start, n, Unit.JOURS_CALENDAIRES, extend=False)
        due = cal.add(start, n, Unit.JOURS_CALENDAIRES)

        def allowed(day: dt.date) -> bool:
            weekend_only = not week - {5, 6}
            return cal.is_working_day(day) and (weekend_only or day.weekday() < 5)

        assert due >= raw
        assert allowed(due) or n == 0
        if n:
            span = (due - raw).days
            assert not any(allowed(raw + dt.timedelta(days=i)) for i in range(span))

    def test_english_names_and_numbers(self) -> None:
        assert calendar("fr", working_week="mon-thu").working_week == frozenset(range(4))
        assert calendar("fr", working_week=[0, 2, 4]).working_week == frozenset({0, 2, 4})
        assert calendar("fr", working_week="lun,mer,ven").working_week == frozenset({0, 2, 4})
        assert calendar("fr", working_week="sam-lun").working_week == frozenset({5, 6, 0})

    def test_refused(self) -> None:
        with pytest.raises(DelayError, match="unknown weekday 'funday'"):
            calendar("fr", working_week="funday")
        with pytest.raises(CalendarSpecError, match="weekdays 0–6"):
            calendar("fr", working_week=[7])

    def test_ouvrables_do_not_follow_the_service(self) -> None:
        cal = calendar("fr", working_week="lun-jeu")
        assert cal.is_counted(dt.date(2025, 11, 7), Unit.JOURS_OUVRABLES)  # a Friday
        assert not cal.is_counted(dt.date(2025, 11, 7), Unit.JOURS_OUVRES)


class TestArt642OnDayCounts:
    """``extend=True`` on day counts: jours ouvrables can end on a day art. 642 extends.

    « Le délai qui expirerait normalement un samedi, un dimanche ou un jour
    férié ou chômé, est prorogé jusqu'au premier jour ouvrable suivant. »
    """

    # From Monday 2 June 2025, 5 jours ouvrables end on Saturday 7 June;
    # Monday 9 is Whit Monday: art. 642 takes the delay to Tuesday 10.
    MONDAY = dt.date(2025, 6, 2)
    SATURDAY = dt.date(2025, 6, 7)
    TUESDAY = dt.date(2025, 6, 10)

    def test_ouvrables_ending_on_a_saturday_are_extended_when_asked(self) -> None:
        cal = calendar("fr")
        assert cal.add(self.MONDAY, 5, Unit.JOURS_OUVRABLES) == self.SATURDAY  # the default
        assert cal.add(self.MONDAY, 5, Unit.JOURS_OUVRABLES, extend=False) == self.SATURDAY
        assert cal.add(self.MONDAY, 5, Unit.JOURS_OUVRABLES, extend=True) == self.TUESDAY
        assert cal.add(self.MONDAY, 5, "jours ouvrables", extend=True) == self.TUESDAY
        assert cal.reasons_extended(self.SATURDAY) == ("samedi",)
        # A delay already ending on a working day stays where it is.
        assert cal.add(self.MONDAY, 4, Unit.JOURS_OUVRABLES, extend=True) == dt.date(2025, 6, 6)
        assert cal.add(self.MONDAY, 0, Unit.JOURS_OUVRABLES, extend=True) == self.MONDAY

    def test_a_built_index_does_not_skip_the_extension(self) -> None:
        # The fast path of add() reads a built index directly.
        cal = calendar("fr")
        cal.add(self.MONDAY, 1, Unit.JOURS_OUVRABLES)
        cal.add(self.MONDAY, 1, "jours ouvrables")
        assert cal.add(self.MONDAY, 5, Unit.JOURS_OUVRABLES, extend=True) == self.TUESDAY
        assert cal.add(self.MONDAY, 5, "jours ouvrables", extend=True) == self.TUESDAY

    def test_a_closure_day_is_a_jour_chome(self) -> None:
        # Closures do not change which days are ouvrables, but a delay ending
        # on one ends on a day the service is closed: extended when asked.
        cal = calendar("fr").with_closures((dt.date(2025, 6, 6), dt.date(2025, 6, 6), "pont"))
        assert cal.add(self.MONDAY, 4, Unit.JOURS_OUVRABLES) == dt.date(2025, 6, 6)
        assert cal.add(self.MONDAY, 4, Unit.JOURS_OUVRABLES, extend=True) == self.TUESDAY
        assert cal.reasons_extended(dt.date(2025, 6, 6)) == ("fermeture du service : pont",)

    def test_the_service_week_as_for_calendar_days(self) -> None:
        # Tuesday to Saturday: a Monday end goes to Tuesday, and so does a Saturday's.
        cal = calendar("fr", working_week="mar-sam")
        friday = dt.date(2025, 10, 24)
        assert cal.add(friday, 1, Unit.JOURS_OUVRABLES, extend=True) == dt.date(2025, 10, 28)
        assert cal.add(friday, 2, Unit.JOURS_OUVRABLES, extend=True) == dt.date(2025, 10, 28)
        assert cal.add(friday, 2, Unit.JOURS_OUVRABLES) == dt.date(2025, 10, 27)

    def test_vectorised_form_agrees(self) -> None:
        cal = calendar("fr").with_closures(dt.date(2025, 6, 6))
        days = np.array(["2025-06-02", "2025-06-02", "2025-06-02", "2025-06-03"], "datetime64[D]")
        counts = np.array([5, 4, 0, 1])
        due = cal.add_many(days, counts, Unit.JOURS_OUVRABLES, extend=True)
        expected = [self.TUESDAY, self.TUESDAY, self.MONDAY, dt.date(2025, 6, 4)]
        assert due.tolist() == expected
        unextended = cal.add_many(days, counts, Unit.JOURS_OUVRABLES)
        assert unextended.tolist() == [self.SATURDAY, dt.date(2025, 6, 6), self.MONDAY,
                                       dt.date(2025, 6, 4)]  # fmt: skip

    @given(
        week=st.sets(st.integers(0, 6), min_size=1),
        start=st.dates(dt.date(2018, 1, 1), dt.date(2025, 12, 31)),  # zone B's data
        n=st.integers(0, 60),
        closed=st.lists(st.integers(0, 200), max_size=8),
        unit=st.sampled_from([Unit.JOURS_OUVRES, Unit.JOURS_SCOLAIRES]),
    )
    def test_ouvres_and_scolaires_end_on_a_working_day_whatever_extend_says(
        self, week: set[int], start: dt.date, n: int, closed: list[int], unit: Unit
    ) -> None:
        closures = [start + dt.timedelta(days=k) for k in closed]
        cal = calendar("fr+B", working_week=week, closures=closures)
        due = cal.add(start, n, unit)
        assert cal.add(start, n, unit, extend=True) == due
        assert cal.add(start, n, unit, extend=False) == due
        assert cal.is_working_day(due) or n == 0
        days = np.array([start], dtype="datetime64[D]")
        assert cal.add_many(days, n, unit, extend=True).tolist() == [due]


class TestClosures:
    def test_days_and_ranges(self) -> None:
        cal = calendar("fr").with_closures(
            dt.date(2025, 5, 30),
            (dt.date(2025, 8, 4), dt.date(2025, 8, 15), "fermeture estivale"),
            Closure(dt.date(2025, 12, 26), dt.date(2025, 12, 26), "pont de Noël"),
        )
        assert not cal.is_working_day(dt.date(2025, 5, 30))
        assert not cal.is_working_day(dt.date(2025, 8, 11))
        assert cal.add(dt.date(2025, 8, 1), 1) == dt.date(2025, 8, 18)
        assert cal.reasons_not_counted(dt.date(2025, 12, 26)) == (
            "fermeture du service : pont de Noël",
        )
        # Closures are the service's: legal jours ouvrables ignore them.
        assert cal.is_counted(dt.date(2025, 8, 11), Unit.JOURS_OUVRABLES)

    def test_a_new_calendar_each_time(self) -> None:
        base = calendar("fr")
        closed = base.with_closures(dt.date(2025, 5, 30))
        assert base.is_working_day(dt.date(2025, 5, 30))
        assert closed != base
        assert closed.data_version != base.data_version

    def test_bad_closures(self) -> None:
        with pytest.raises(ValueError, match=r"ends .* before it starts"):
            Closure(dt.date(2025, 5, 2), dt.date(2025, 5, 1))
        with pytest.raises(TypeError, match="closure days must be dates"):
            Closure(dt.datetime(2025, 5, 2), dt.date(2025, 5, 3))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="cannot read a closure"):
            calendar("fr").with_closures("2025-05-02")  # type: ignore[arg-type]


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:pont-ascension-2025
DTSTART;VALUE=DATE:20250530
DTEND;VALUE=DATE:20250531
SUMMARY:Pont de l'Ascension
END:VEVENT
BEGIN:VEVENT
UID:summer-2025
DTSTART;VALUE=DATE:20250804
DTEND;VALUE=DATE:20250816
SUMMARY:Fermeture estivale
END:VEVENT
BEGIN:VEVENT
UID:afternoon
DTSTART;TZID=Europe/Paris:20251124T140000
DTEND;TZID=Europe/Paris:20251124T170000
SUMMARY:Formation
END:VEVENT
END:VCALENDAR
"""


class TestICalendar:
    def test_all_day_and_timed_events(self, tmp_path: Path) -> None:
        path = tmp_path / "closures.ics"
        path.write_text(ICS)
        closures = sla_engine.closures_from_ics(path)
        assert closures == (
            Closure(dt.date(2025, 5, 30), dt.date(2025, 5, 30), "Pont de l'Ascension"),
            Closure(dt.date(2025, 8, 4), dt.date(2025, 8, 15), "Fermeture estivale"),
            Closure(dt.date(2025, 11, 24), dt.date(2025, 11, 24), "Formation"),
        )
        cal = calendar("fr").with_closures_from_ics(path)
        assert not cal.is_working_day(dt.date(2025, 5, 30))
        assert cal.is_working_day(dt.date(2025, 6, 2))
        assert not cal.is_working_day(dt.date(2025, 8, 15))
        assert cal.is_working_day(dt.date(2025, 8, 18))

    def test_recurring_events_are_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "rrule.ics"
        path.write_text(ICS.replace("SUMMARY:Formation", "SUMMARY:Formation\nRRULE:FREQ=WEEKLY"))
        with pytest.raises(
            CalendarDataError, match=r"rrule\.ics: RRULE: VEVENT #3 \(UID afternoon\) repeats"
        ):
            sla_engine.closures_from_ics(path)

    def test_garbage_is_refused_with_the_file_name(self, tmp_path: Path) -> None:
        path = tmp_path / "broken.ics"
        path.write_text("this is not iCalendar")
        with pytest.raises(CalendarDataError, match=r"broken\.ics: cannot read iCalendar data"):
            sla_engine.closures_from_ics(path)

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(CalendarDataError, match=r"missing\.ics"):
            sla_engine.closures_from_ics(tmp_path / "missing.ics")


class TestCoverage:
    def test_public_holiday_span(self) -> None:
        coverage = calendar("fr").coverage()
        assert coverage.public_holidays == (dt.date(1803, 1, 1), dt.date(2100, 12, 31))
        assert coverage.school is None

    def test_count_outside_the_span(self) -> None:
        with pytest.raises(CalendarCoverageError, match="2101-01-05"):
            calendar("fr").count(dt.date(2100, 12, 1), dt.date(2101, 1, 5))

    def test_vectorised_outside_the_span(self) -> None:
        import numpy as np

        days = np.array(["2025-01-01", "2101-03-01"], dtype="datetime64[D]")
        with pytest.raises(CalendarCoverageError, match="2101-03-01"):
            calendar("fr").add_many(days, 1)

    def test_why_a_day_counts_is_not_known_outside_the_data(self) -> None:
        # « No holiday » would be a guess there: the data says nothing of those days.
        cal = calendar("fr+A")
        with pytest.raises(CalendarCoverageError, match=r"2101-01-01 is outside .* public-holiday"):
            cal.public_holiday(dt.date(2101, 1, 1))
        last = cal.coverage().school
        assert last is not None
        after = last[1] + dt.timedelta(days=1)
        with pytest.raises(CalendarCoverageError, match=rf"{after} is outside .* school calendar"):
            cal.school_days_off(after)
        assert cal.public_holiday(dt.date(2025, 12, 25)) == "Noël"
        period = cal.school_days_off(dt.date(2025, 12, 25))
        assert period is not None
        assert period.name == "Vacances de Noël"
        assert calendar("fr").school_days_off(dt.date(2101, 1, 1)) is None  # no zone: no holidays

    @pytest.mark.parametrize("unit", ["semaines", "mois"])
    def test_a_delay_past_the_last_date_says_so(self, unit: str) -> None:
        # Not « outside the public-holiday data »: no calendar holds such a date.
        with pytest.raises(DelayError, match="run past 9999-12-31"):
            calendar("fr").add(dt.date(2025, 1, 1), 999_999, unit)

    def test_jours_scolaires_need_a_zone(self) -> None:
        with pytest.raises(DelayError, match="has no school zone"):
            calendar("fr").add(dt.date(2025, 1, 6), 3, Unit.JOURS_SCOLAIRES)


class TestArgumentChecks:
    def test_add_takes_dates_not_datetimes(self) -> None:
        with pytest.raises(TypeError, match="use deadline"):
            calendar("fr").add(dt.datetime(2025, 1, 6, 10), 3)  # type: ignore[arg-type]

    def test_negative_amount(self) -> None:
        with pytest.raises(DelayError, match="counts forward"):
            calendar("fr").add(dt.date(2025, 1, 6), -1)

    def test_zero_is_the_day_itself(self) -> None:
        assert calendar("fr").add(dt.date(2025, 1, 4), 0) == dt.date(2025, 1, 4)

    def test_hours_are_not_days(self) -> None:
        with pytest.raises(DelayError, match="counted between instants"):
            calendar("fr").add(dt.date(2025, 1, 6), 3, "heures")

    def test_unit_names_in_any_form(self) -> None:
        cal = calendar("fr")
        day = dt.date(2025, 10, 17)
        assert cal.add(day, 15, "jours ouvres") == cal.add(day, 15, Unit.JOURS_OUVRES)
        assert cal.add(day, 15, "business days") == dt.date(2025, 11, 7)

    def test_numpy_integers(self) -> None:
        import numpy as np

        assert calendar("fr").add(dt.date(2025, 10, 17), np.int64(15)) == dt.date(2025, 11, 7)


# -- from the counting-rules audit (session 9) ----------------------------------------


@pytest.mark.parametrize("spec", ["fr+Réunion", "fr-57+Réunion", "fr+Polynésie"])
def test_an_overseas_school_zone_needs_its_own_territory(spec: str) -> None:
    # « fr+Réunion » counted Réunion's school days on Paris's clock and holidays:
    # a receipt at 22:30 in Saint-Denis was a day early, and 20 December was
    # a working day.
    with pytest.raises(CalendarSpecError, match="name the territory that holds it"):
        sla_engine.calendar(spec)


ON_THEIR_CLOCK = ["fr+B", "fr-57+B", "fr+Corse", "fr-974+Réunion", "fr-BL+Guadeloupe"]


@pytest.mark.parametrize("spec", [*ON_THEIR_CLOCK, "fr-MF+Guadeloupe"])
def test_a_school_zone_on_its_territorys_clock_is_accepted(spec: str) -> None:
    assert sla_engine.calendar(spec).spec == spec


@pytest.mark.parametrize(
    ("delay", "extend"),
    [("999999 mois", None), ("100000 mois", False), ("999999 semaines", False)],
)
def test_a_delay_past_the_last_date_is_a_delay_error(delay: str, extend: bool | None) -> None:
    # A plain ValueError (« year 85358 is out of range ») came out of deadline(),
    # and add_many() returned dates in the year 85358.
    received = dt.datetime(2025, 1, 2, 10, tzinfo=dt.UTC)
    with pytest.raises(DelayError, match="run past 9999-12-31"):
        sla_engine.deadline(received, delay, "fr", extend=extend)
    amount, unit = delay.split(" ", 1)
    with pytest.raises(DelayError, match="run past 9999-12-31"):
        sla_engine.calendar("fr").add_many([dt.date(2025, 1, 2)], int(amount), unit, extend=extend)
