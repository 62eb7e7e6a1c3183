"""Golden cases of the French counting rules (CPC art. 640–642), by hand.

Each case was counted on a paper calendar; the comment says why it ends
where it does.  ``P`` is Europe/Paris.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

import sla_engine
from sla_engine import CalendarCoverageError, NaiveDatetimeError, deadline
from sla_engine._delay import Delay, Unit

P = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")


def at(y: int, m: int, d: int, h: int = 12, mi: int = 0, tz: dt.tzinfo = P) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=tz)


GOLDEN = [
    # Received Friday 17 Oct 2025 after 16:00: Monday 20 is day 1; 1 Nov (Toussaint)
    # is a Saturday; day 15 is Friday 7 Nov.
    (at(2025, 10, 17, 16, 5), "15 jours ouvrés", "fr", dt.date(2025, 11, 7)),
    # Received on a Saturday: the first counted day is Monday 10 Nov; Tuesday
    # 11 Nov (Armistice) does not count.
    (at(2025, 11, 8, 10), "5 jours ouvrés", "fr", dt.date(2025, 11, 17)),
    # Alsace-Moselle: Good Friday 18 Apr 2025 and Easter Monday do not count.
    (at(2025, 4, 17, 9, 30), "1 jour ouvré", "fr-57", dt.date(2025, 4, 22)),
    (at(2025, 4, 17, 9, 30), "1 jour ouvré", "fr", dt.date(2025, 4, 18)),
    # Alsace-Moselle: 26 December is a public holiday.
    (at(2024, 12, 24), "1 jour ouvré", "fr-6AE", dt.date(2024, 12, 27)),
    # La Réunion: 20 December (abolition of slavery) is a public holiday.
    (at(2024, 12, 19, 15, tz=REUNION), "1 jour ouvré", "fr-974", dt.date(2024, 12, 23)),
    (at(2024, 12, 19, 15), "1 jour ouvré", "fr", dt.date(2024, 12, 20)),
    # Jours ouvrables count Saturdays: Sat 8 is day 1, Sunday is skipped, Mon 10 is day 2.
    (at(2025, 11, 7), "2 jours ouvrables", "fr", dt.date(2025, 11, 10)),
    # Calendar days ending Saturday 1 Nov (also Toussaint): extended to Monday 3 Nov.
    (at(2025, 10, 22, 11), "10 jours calendaires", "fr", dt.date(2025, 11, 3)),
    # 15 jours francs from 1 March: 2 to 16 March are the whole days, expiry on 17 March.
    (at(2021, 3, 1), "15 jours francs", "fr", dt.date(2021, 3, 17)),
    (at(2025, 3, 1), "15 jours francs", "fr", dt.date(2025, 3, 17)),
    # Months: the same day-number, or the month's last day (CPC art. 641).
    (at(2025, 1, 31), "1 mois", "fr", dt.date(2025, 2, 28)),
    (at(2024, 1, 31), "1 mois", "fr", dt.date(2024, 2, 29)),
    (at(2024, 12, 31), "2 mois", "fr", dt.date(2025, 2, 28)),
    # 1 month from 15 Feb 2025 is Saturday 15 Mar: extended to Monday 17 Mar.
    (at(2025, 2, 15), "1 mois", "fr", dt.date(2025, 3, 17)),
    # A week from Thursday 18 Dec 2025 is Christmas: Friday 26 in Paris,
    # Monday 29 in Moselle (26 December is a holiday there).
    (at(2025, 12, 18), "1 semaine", "fr", dt.date(2025, 12, 26)),
    (at(2025, 12, 18), "1 semaine", "fr-57", dt.date(2025, 12, 29)),
    # « Sous quinzaine »: 15 calendar days, from Monday 3 Nov to Tuesday 18 Nov.
    (at(2025, 11, 3, 14), "quinzaine", "fr", dt.date(2025, 11, 18)),
    # Jours scolaires: winter holidays 2025 differ by zone (A from Sunday 23 Feb,
    # B from Sunday 9 Feb to Sunday 23 Feb, C from Sunday 16 Feb to Sunday 2 Mar).
    (at(2025, 2, 7), "10 jours scolaires", "fr+A", dt.date(2025, 2, 21)),
    (at(2025, 2, 7), "10 jours scolaires", "fr+B", dt.date(2025, 3, 7)),
    (at(2025, 2, 7), "10 jours scolaires", "fr+C", dt.date(2025, 3, 7)),
    # Toussaint 2025 (all of A, B, C): classes end Saturday 18 Oct, resume Monday
    # 3 Nov; Tuesday 11 Nov is the Armistice.
    (at(2025, 10, 17, 16, 5), "10 jours scolaires", "fr+B", dt.date(2025, 11, 17)),
    # La Réunion: the southern summer holidays run from 20 Dec 2025 to 20 Jan 2026.
    (at(2025, 12, 17, 16, tz=REUNION), "3 jours scolaires", "fr-974+Réunion", dt.date(2026, 1, 21)),
    # Late in the evening in Paris is still the local day of receipt.
    (at(2025, 10, 31, 23, 30), "1 jour ouvré", "fr", dt.date(2025, 11, 3)),
    # The same instant written in UTC: it is 1 Nov in Paris, a holiday, so Monday 3 Nov is day 1.
    (dt.datetime(2025, 10, 31, 23, 30, tzinfo=dt.UTC), "1 jour ouvré", "fr", dt.date(2025, 11, 3)),
]


@pytest.mark.parametrize(("received", "delay", "spec", "due"), GOLDEN)
def test_golden(received: dt.datetime, delay: str, spec: str, due: dt.date) -> None:
    result = deadline(received, delay, spec)
    assert result.due_date == due
    tz = sla_engine.calendar(spec).tz
    assert result.expires_at == dt.datetime.combine(due + dt.timedelta(days=1), dt.time(0), tz)


class TestExpiry:
    def test_expires_at_local_midnight_after_the_due_date(self) -> None:
        result = deadline(at(2025, 10, 17, 16, 5), "15 jours ouvrés", "fr")
        assert result.expires_at.isoformat() == "2025-11-08T00:00:00+01:00"

    def test_summer_time_ends_between_receipt_and_expiry(self) -> None:
        # Due Sunday 26 Oct 2025 (no extension), the night clocks go back:
        # it expires at Monday's midnight, +01:00, and not an hour off.
        result = deadline(at(2025, 10, 16), "10 jours calendaires", "fr", extend=False)
        assert result.due_date == dt.date(2025, 10, 26)
        assert result.expires_at.isoformat() == "2025-10-27T00:00:00+01:00"
        # Saturday 25 Oct expires at Sunday's midnight, still in summer time.
        result = deadline(at(2025, 10, 15), "10 jours calendaires", "fr", extend=False)
        assert result.expires_at.isoformat() == "2025-10-26T00:00:00+02:00"

    def test_summer_time_starts(self) -> None:
        result = deadline(at(2025, 3, 19), "10 jours calendaires", "fr", extend=False)
        assert result.due_date == dt.date(2025, 3, 29)
        assert result.expires_at.isoformat() == "2025-03-30T00:00:00+01:00"
        result = deadline(at(2025, 3, 20), "10 jours calendaires", "fr", extend=False)
        assert result.expires_at.isoformat() == "2025-03-31T00:00:00+02:00"

    def test_on_time_strictly_before_expiry(self) -> None:
        result = deadline(at(2025, 10, 17, 16, 5), "15 jours ouvrés", "fr")
        assert result.is_met_by(dt.datetime(2025, 11, 7, 23, 59, 59, 999999, tzinfo=P))
        assert not result.is_met_by(dt.datetime(2025, 11, 8, 0, 0, tzinfo=P))
        assert not result.is_met_by(dt.datetime(2025, 11, 7, 23, 0, tzinfo=dt.UTC))

    def test_overseas_expiry_in_the_territory_time_zone(self) -> None:
        result = deadline(at(2024, 12, 19, 15, tz=REUNION), "1 jour ouvré", "fr-974")
        assert result.expires_at.isoformat() == "2024-12-24T00:00:00+04:00"

    def test_time_zone_override(self) -> None:
        cal = sla_engine.calendar("fr", time_zone="America/Cayenne")
        result = deadline(dt.datetime(2025, 10, 31, 23, 30, tzinfo=dt.UTC), "1 jour ouvré", cal)
        # 20:30 on Friday 31 Oct in Cayenne: Monday 3 Nov is day 1.
        assert result.received_day == dt.date(2025, 10, 31)
        assert result.expires_at.isoformat() == "2025-11-04T00:00:00-03:00"


class TestExtension:
    def test_can_be_turned_off(self) -> None:
        result = deadline(at(2025, 10, 22, 11), "10 jours calendaires", "fr", extend=False)
        assert result.due_date == dt.date(2025, 11, 1)
        assert result.unextended_due_date is None

    def test_records_where_it_would_have_ended(self) -> None:
        result = deadline(at(2025, 10, 22, 11), "10 jours calendaires", "fr")
        assert result.unextended_due_date == dt.date(2025, 11, 1)

    def test_closure_days_extend_too(self) -> None:
        cal = sla_engine.calendar("fr").with_closures(
            (dt.date(2025, 11, 3), dt.date(2025, 11, 4), "fermeture exceptionnelle")
        )
        result = deadline(at(2025, 10, 22, 11), "10 jours calendaires", cal)
        assert result.due_date == dt.date(2025, 11, 5)


class TestExtensionOfJoursOuvrables:
    """Jours ouvrables count Saturdays, so a delay can end on one: extended only when asked."""

    # From Monday 2 June 2025, 5 jours ouvrables end on Saturday 7 June; Monday 9
    # is Whit Monday, so art. 642 takes the delay to Tuesday 10.
    RECEIVED = at(2025, 6, 2)

    def test_not_extended_by_default(self) -> None:
        result = deadline(self.RECEIVED, "5 jours ouvrables", "fr")
        assert result.due_date == dt.date(2025, 6, 7)
        assert result.unextended_due_date is None
        text = result.explain("fr")
        assert "- du mardi 3 juin 2025 au samedi 7 juin 2025 : jours 1 à 5" in text
        assert "Le délai n'est pas prorogé s'il expire un jour non ouvré." in text
        assert "not extended" in result.explain("en")
        assert deadline(self.RECEIVED, "5 jours ouvrables", "fr", extend=False) == result

    def test_extended_when_asked(self) -> None:
        result = deadline(self.RECEIVED, "5 jours ouvrables", "fr", extend=True)
        assert result.due_date == dt.date(2025, 6, 10)
        assert result.unextended_due_date == dt.date(2025, 6, 7)
        assert result.expires_at.isoformat() == "2025-06-11T00:00:00+02:00"
        assert result.to_dict()["unextended_due_date"] == "2025-06-07"
        text = result.explain("fr")
        # The days counted stop at the fifth; the extension is said after them.
        assert "- du mardi 3 juin 2025 au samedi 7 juin 2025 : jours 1 à 5" in text
        assert "jour 6" not in text
        assert "Le délai expirerait ce jour-là (samedi)" in text
        assert "(Code de procédure civile, art. 642), le mardi 10 juin 2025." in text
        assert "Échéance : mardi 10 juin 2025, à 24 h." in text
        english = result.explain("en")
        assert "The delay would end that day (Saturday)" in english
        assert "art. 642), Tuesday 10 June 2025." in english
        assert "days 1 to 5" in english
        assert "day 6" not in english

    def test_on_a_closure_day(self) -> None:
        cal = sla_engine.calendar("fr").with_closures(
            (dt.date(2025, 6, 6), dt.date(2025, 6, 6), "pont")
        )
        result = deadline(self.RECEIVED, "4 jours ouvrables", cal, extend=True)
        assert (result.unextended_due_date, result.due_date) == (
            dt.date(2025, 6, 6),
            dt.date(2025, 6, 10),
        )
        assert "Le délai expirerait ce jour-là (fermeture du service : pont)" in result.explain()

    @pytest.mark.parametrize("delay", ["5 jours ouvrés", "1 jour ouvré"])
    def test_jours_ouvres_are_never_moved(self, delay: str) -> None:
        # They end on a day the service works, even one it works on a Saturday.
        cal = sla_engine.calendar("fr", working_week="mar-sam")
        plain = deadline(at(2025, 10, 24), delay, cal)
        assert deadline(at(2025, 10, 24), delay, cal, extend=True) == plain
        assert plain.unextended_due_date is None
        assert "prorogé" not in plain.explain()


class TestHours:
    def test_elapsed_hours_ignore_summer_time(self) -> None:
        # 24 real hours across the night clocks go back: 11:00 +02:00 → 10:00 +01:00.
        result = deadline(at(2025, 10, 25, 11), "24 heures", "fr")
        assert result.expires_at.isoformat() == "2025-10-26T10:00:00+01:00"

    def test_business_hours_skip_closed_time(self) -> None:
        cal = sla_engine.calendar("fr", opening_hours="lun-ven 09:00-12:00 13:30-17:00")
        # Friday 16:05: 55 minutes left; Monday 09:00–12:00 is 3 h; 5 minutes after 13:30.
        result = deadline(at(2025, 10, 17, 16, 5), "4 heures ouvrées", cal)
        assert result.expires_at.isoformat() == "2025-10-20T13:35:00+02:00"
        assert result.due_date == dt.date(2025, 10, 20)

    def test_business_hours_skip_public_holidays(self) -> None:
        cal = sla_engine.calendar("fr", opening_hours="lun-ven 09:00-17:00")
        # Monday 10 Nov 2025 at 16:00: 1 h that day, Tuesday 11 Nov is Armistice.
        result = deadline(at(2025, 11, 10, 16), "3 heures ouvrées", cal)
        assert result.expires_at.isoformat() == "2025-11-12T11:00:00+01:00"

    def test_received_while_closed(self) -> None:
        cal = sla_engine.calendar("fr", opening_hours="lun-ven 09:00-12:00")
        result = deadline(at(2025, 10, 18, 10), "3 heures ouvrées", cal)  # a Saturday
        assert result.expires_at.isoformat() == "2025-10-20T12:00:00+02:00"

    def test_hours_between(self) -> None:
        cal = sla_engine.calendar("fr", opening_hours="lun-ven 09:00-12:00 13:30-17:00")
        assert cal.hours_between(at(2025, 10, 17, 16, 5), at(2025, 10, 20, 13, 35)) == 4
        assert cal.hours_between(at(2025, 10, 17, 16), at(2025, 10, 17, 18), business=False) == 2

    def test_business_hours_need_opening_hours(self) -> None:
        with pytest.raises(sla_engine.DelayError, match="no opening hours"):
            deadline(at(2025, 10, 17), "4 heures ouvrées", "fr")


class TestRefusals:
    def test_naive_datetime(self) -> None:
        with pytest.raises(NaiveDatetimeError, match="has no time zone"):
            deadline(dt.datetime(2025, 10, 17, 16, 5), "15 jours ouvrés", "fr")

    def test_beyond_public_holiday_data(self) -> None:
        with pytest.raises(CalendarCoverageError) as caught:
            deadline(at(2100, 12, 20), "15 jours ouvrés", "fr")
        error = caught.value
        assert error.calendar == "fr"
        assert error.day == dt.date(2101, 1, 1)
        assert error.covered == (dt.date(1803, 1, 1), dt.date(2100, 12, 31))
        assert "2101-01-01 is outside the span covered by its public-holiday data" in str(error)

    def test_beyond_the_school_calendar(self) -> None:
        with pytest.raises(CalendarCoverageError) as caught:
            deadline(at(2028, 6, 20), "30 jours scolaires", "fr+B")
        error = caught.value
        assert error.calendar == "fr+B"
        assert error.day == dt.date(2028, 7, 4)
        assert error.covered == (dt.date(2017, 10, 22), dt.date(2028, 7, 3))
        assert "school calendar (zone B)" in str(error)

    def test_before_the_school_calendar(self) -> None:
        with pytest.raises(CalendarCoverageError, match="2016-05-02"):
            deadline(at(2016, 5, 2), "1 jour scolaire", "fr+A")

    def test_before_public_holiday_data(self) -> None:
        with pytest.raises(CalendarCoverageError, match="1800-06-02"):
            deadline(at(1800, 6, 2), "1 jour ouvré", "fr")

    def test_extension_needs_data_too(self) -> None:
        with pytest.raises(CalendarCoverageError):
            deadline(at(2100, 12, 20), "30 jours calendaires", "fr")
        # Without extension, calendar days need no holiday data.
        result = deadline(at(2100, 12, 20), "30 jours calendaires", "fr", extend=False)
        assert result.due_date == dt.date(2101, 1, 19)


class TestExplain:
    def test_french_lists_counted_and_skipped_days(self) -> None:
        text = deadline(at(2025, 10, 17, 16, 5), "15 jours ouvrés", "fr").explain()
        assert "Délai : 15 jours ouvrés, calendrier fr (Europe/Paris)." in text
        assert "Reçu le vendredi 17 octobre 2025 à 16:05 (UTC+02:00)." in text
        assert "- samedi 18 octobre 2025 : non compté (samedi)" in text
        assert "- du lundi 20 octobre 2025 au vendredi 24 octobre 2025 : jours 1 à 5" in text
        assert "non compté (samedi, 1er novembre : Toussaint)" in text
        assert "jours 11 à 15" in text
        assert "Échéance : vendredi 7 novembre 2025, à 24 h." in text
        assert "samedi 8 novembre 2025 à 00:00 (UTC+01:00)" in text

    def test_english(self) -> None:
        text = deadline(at(2025, 11, 8, 10), "5 jours ouvrés", "fr").explain("en")
        assert "Delay: 5 business days, calendar fr (Europe/Paris)." in text
        assert "- Tuesday 11 November 2025: not counted (11 November: Armistice Day)" in text
        # "at midnight" was read as the midnight that starts the day.
        assert "Due date: Monday 17 November 2025, by the end of that day (24:00)." in text
        assert "midnight" not in text

    def test_two_days_in_a_row_are_days_1_and_2(self) -> None:
        """« jours 1 à 2 » reads badly: two numbers in a row are joined by « et »."""
        text = deadline(at(2025, 4, 17, 9, 30), "2 jours ouvrables", "fr").explain()
        assert "- du vendredi 18 avril 2025 au samedi 19 avril 2025 : jours 1 et 2" in text
        assert "jours 1 à 2" not in text
        english = deadline(at(2025, 4, 17, 9, 30), "2 jours ouvrables", "fr").explain("en")
        assert "- Friday 18 April 2025 to Saturday 19 April 2025: days 1 and 2" in english
        # Three or more stay a range.
        assert "jours 1 à 3" in deadline(at(2025, 6, 2), "3 jours ouvrables", "fr").explain()

    def test_english_names_jours_ouvrables_in_english(self) -> None:
        """ "2 ouvrable days" was half French; each unit has an English name of its own."""
        text = deadline(at(2025, 4, 17, 9, 30), "2 jours ouvrables", "fr").explain("en")
        assert "Delay: 2 working days (Monday to Saturday), calendar fr" in text
        assert "ouvrable" not in text
        labels = {unit: unit.label(2, "en") for unit in Unit}
        assert len(set(labels.values())) == len(labels)  # all distinct
        assert not any("ouvr" in label or "franc" in label for label in labels.values())
        # Each English name reads back as its unit; the old one still does.
        for unit, label in labels.items():
            assert Delay.parse(f"2 {label}").unit is unit
        assert Delay.parse("2 ouvrable days").unit is Unit.JOURS_OUVRABLES

    def test_extension_is_explained(self) -> None:
        text = deadline(at(2025, 10, 22, 11), "10 jours calendaires", "fr").explain()
        assert "le 10e jour après la réception est le samedi 1er novembre 2025" in text
        assert "prorogé au premier jour ouvré suivant" in text
        assert "le lundi 3 novembre 2025" in text

    def test_closure_reason(self) -> None:
        cal = sla_engine.calendar("fr").with_closures(
            (dt.date(2025, 10, 20), dt.date(2025, 10, 20), "inventaire")
        )
        text = deadline(at(2025, 10, 17), "1 jour ouvré", cal).explain()
        assert (
            "lundi 20 octobre 2025 : non compté (lundi, fermeture du service : inventaire)"
            not in text
        )
        assert "lundi 20 octobre 2025 : non compté (fermeture du service : inventaire)" in text

    def test_school_holidays_are_named_with_their_zone(self) -> None:
        d = deadline(at(2025, 10, 17, 16, 5), "10 jours scolaires", "fr+B")
        text = d.explain()
        assert (
            "- du dimanche 19 octobre 2025 au dimanche 2 novembre 2025 : "
            "non comptés (vacances de la Toussaint, zone B)"
        ) in text
        assert "- lundi 17 novembre 2025 : jour 10" in text
        english = d.explain("en")
        assert "not counted (All Saints' holidays, zone B)" in english

    def test_unknown_language(self) -> None:
        with pytest.raises(ValueError, match="unknown language 'de'"):
            deadline(at(2025, 10, 17), "1 jour ouvré", "fr").explain("de")
