"""School-calendar anchors: rentrée, holiday starts and ends, the year's end, per zone and year.

Every expected date below was read by hand from the ministry's export
(``../shared/data/fr-en-calendrier-scolaire.csv``): the rentrée is the
« Date de fin » of the pupils' summer holidays row (the morning classes
resume); the first day off of the Toussaint holidays is the day after its
« Date de début » (the day classes end); the end of a school year is the
« Date de début » of its summer holidays.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sla_engine._anchors import (
    Anchor,
    AnchorError,
    AnchorKind,
    DayExpression,
    resolve_anchor,
    school_year_of,
)
from sla_engine._calendar import calendar
from sla_engine._school import school_zone

D = dt.date

# School year → rentrée des élèves, identical in zones A, B and C in the export.
RENTREE = {
    "2018-2019": D(2018, 9, 3),
    "2019-2020": D(2019, 9, 2),
    "2020-2021": D(2020, 9, 1),
    "2021-2022": D(2021, 9, 2),
    "2022-2023": D(2022, 9, 1),
    "2023-2024": D(2023, 9, 4),
    "2024-2025": D(2024, 9, 2),
    "2025-2026": D(2025, 9, 1),
}
# School year → first day off of the Toussaint holidays (export: classes end the day before).
TOUSSAINT_START = {
    "2017-2018": D(2017, 10, 22),
    "2018-2019": D(2018, 10, 21),
    "2019-2020": D(2019, 10, 20),
    "2020-2021": D(2020, 10, 18),
    "2021-2022": D(2021, 10, 24),
    "2022-2023": D(2022, 10, 23),
    "2023-2024": D(2023, 10, 22),
    "2024-2025": D(2024, 10, 20),
    "2025-2026": D(2025, 10, 19),
}
# School year → the day classes resume after the Toussaint holidays.
TOUSSAINT_END = {
    "2019-2020": D(2019, 11, 4),
    "2023-2024": D(2023, 11, 6),
    "2025-2026": D(2025, 11, 3),
}
# The winter holidays differ by zone: 2025-2026 (first day off, day classes resume).
WINTER_2026 = {
    "A": (D(2026, 2, 8), D(2026, 2, 23)),
    "B": (D(2026, 2, 15), D(2026, 3, 2)),
    "C": (D(2026, 2, 22), D(2026, 3, 9)),
}
# The last class day of a school year: the « Date de début » of its summer holidays.
YEAR_END = {
    "2018-2019": D(2019, 7, 6),
    "2022-2023": D(2023, 7, 8),
    "2024-2025": D(2025, 7, 5),
}


class TestOfficialDates:
    """The anchors resolve to the official dates in zones A, B and C."""

    @pytest.mark.parametrize("zone", ["A", "B", "C"])
    @pytest.mark.parametrize("year", sorted(RENTREE))
    def test_rentree(self, zone: str, year: str) -> None:
        assert resolve_anchor(school_zone(zone), Anchor(AnchorKind.RENTREE), year) == RENTREE[year]

    @pytest.mark.parametrize("zone", ["A", "B", "C"])
    @pytest.mark.parametrize("year", sorted(TOUSSAINT_START))
    def test_toussaint_start(self, zone: str, year: str) -> None:
        anchor = Anchor.parse("début:Toussaint")
        assert resolve_anchor(school_zone(zone), anchor, year) == TOUSSAINT_START[year]

    @pytest.mark.parametrize("zone", ["A", "B", "C"])
    @pytest.mark.parametrize("year", sorted(TOUSSAINT_END))
    def test_toussaint_end(self, zone: str, year: str) -> None:
        anchor = Anchor.parse("fin:Toussaint")
        assert resolve_anchor(school_zone(zone), anchor, year) == TOUSSAINT_END[year]

    @pytest.mark.parametrize("zone", ["A", "B", "C"])
    def test_winter_holidays_differ_by_zone(self, zone: str) -> None:
        start, end = WINTER_2026[zone]
        assert resolve_anchor(school_zone(zone), Anchor.parse("start:Hiver"), "2025-2026") == start
        assert resolve_anchor(school_zone(zone), Anchor.parse("end:hiver"), "2025-2026") == end

    @pytest.mark.parametrize("zone", ["A", "B", "C"])
    @pytest.mark.parametrize("year", sorted(YEAR_END))
    def test_year_end(self, zone: str, year: str) -> None:
        assert (
            resolve_anchor(school_zone(zone), Anchor.parse("fin d'année"), year) == YEAR_END[year]
        )


class TestDayExpressions:
    def test_ten_days_after_the_rentree(self) -> None:
        # Monday 1 September 2025 + 10 jours calendaires: Thursday 11 September.
        expression = DayExpression.parse("rentrée + 10 jours calendaires")
        assert expression.resolve(calendar("fr+B"), "2025-2026") == (D(2025, 9, 1), D(2025, 9, 11))

    def test_calendar_days_ending_on_a_sunday_are_extended(self) -> None:
        # Monday 2 September 2024 + 13 calendar days = Sunday 15 → Monday 16 (CPC art. 642).
        expression = DayExpression.parse("rentrée + 13 jours calendaires")
        assert expression.resolve(calendar("fr+A"), "2024-2025")[1] == D(2024, 9, 16)

    def test_the_day_before_the_toussaint_holidays(self) -> None:
        expression = DayExpression.parse("début:Toussaint - 1 jour calendaire")
        assert expression.resolve(calendar("fr+C"), "2023-2024") == (
            D(2023, 10, 22),
            D(2023, 10, 21),
        )

    def test_school_days_after_the_rentree(self) -> None:
        # Rentrée Monday 1 September 2025; 5 school days later is Monday 8 September.
        expression = DayExpression.parse("rentrée + 5 jours scolaires")
        assert expression.resolve(calendar("fr+B"), "2025-2026")[1] == D(2025, 9, 8)

    def test_english_names(self) -> None:
        assert Anchor.parse("start:All Saints") == Anchor(AnchorKind.START, "All Saints")
        assert Anchor.parse("year_end") == Anchor(AnchorKind.YEAR_END)
        assert Anchor.parse("Rentree") == Anchor(AnchorKind.RENTREE)
        assert resolve_anchor(school_zone("B"), Anchor.parse("start:All Saints"), "2025-2026") == (
            D(2025, 10, 19)
        )

    def test_round_trip_text(self) -> None:
        for text in (
            "rentrée",
            "rentrée + 10 jours calendaires",
            "début:Toussaint - 1 jour calendaire",
        ):
            assert str(DayExpression.parse(text)) == text


class TestErrors:
    def test_a_year_outside_the_data_names_zone_and_year(self) -> None:
        with pytest.raises(AnchorError, match=r"Zone B does not know the school year 2031-2032"):
            resolve_anchor(school_zone("B"), Anchor(AnchorKind.RENTREE), "2031-2032")

    def test_an_unpublished_rentree_names_zone_and_year(self) -> None:
        # The export starts with the 2017-2018 Toussaint: that year's rentrée is not in it.
        with pytest.raises(AnchorError, match=r"Zone A does not give the rentrée of 2017-2018"):
            resolve_anchor(school_zone("A"), Anchor(AnchorKind.RENTREE), "2017-2018")

    def test_an_unknown_holiday_lists_the_zones_holidays(self) -> None:
        with pytest.raises(AnchorError, match=r"Zone C, school year 2025-2026: no holiday named "):
            resolve_anchor(school_zone("C"), Anchor.parse("début:Pâques"), "2025-2026")

    @pytest.mark.parametrize(
        "text",
        [
            "la rentrée",
            "début:",
            "rentrée + 3 lunes",
            "rentrée - 2 jours ouvrés",
            "rentrée + 2 heures",
        ],
    )
    def test_unreadable_expressions(self, text: str) -> None:
        with pytest.raises(AnchorError):
            DayExpression.parse(text)

    def test_a_calendar_without_a_school_zone(self) -> None:
        with pytest.raises(AnchorError, match=r"'fr' has no school zone"):
            DayExpression.parse("rentrée").resolve(calendar("fr"), "2025-2026")


def test_school_year_of() -> None:
    assert school_year_of(D(2025, 9, 1)) == "2025-2026"
    assert school_year_of(D(2026, 7, 31)) == "2025-2026"
    assert school_year_of(D(2026, 8, 1)) == "2026-2027"


# School year → the last school day before the Toussaint holidays, in zones A, B and C.
# Read from the export: classes end on the Saturday « Date de début » (no class that day in
# primary schools: jours scolaires are Monday to Friday), so the last class day is the Friday.
TOUSSAINT_EVE = {
    "2018-2019": D(2018, 10, 19),  # « Date de début » Saturday 20 October 2018
    "2020-2021": D(2020, 10, 16),  # Saturday 17 October 2020
    "2024-2025": D(2024, 10, 18),  # Saturday 19 October 2024
    "2025-2026": D(2025, 10, 17),  # Saturday 18 October 2025
}


class TestTheEveOfAHoliday:
    """« Avant les vacances de Toussaint »: the last school day before they begin."""

    @pytest.mark.parametrize("zone", ["A", "B", "C"])
    @pytest.mark.parametrize("year", sorted(TOUSSAINT_EVE))
    def test_last_school_day_before_toussaint(self, zone: str, year: str) -> None:
        expression = DayExpression.parse("veille:Toussaint")
        day, due = expression.resolve(calendar(f"fr+{zone}"), year)
        assert day == due == TOUSSAINT_EVE[year]
        assert due.weekday() == 4  # a Friday, never the Saturday classes officially end

    def test_english_and_french_spellings(self) -> None:
        assert Anchor.parse("veille:Toussaint") == Anchor(AnchorKind.EVE, "Toussaint")
        assert Anchor.parse("avant:Toussaint") == Anchor(AnchorKind.EVE, "Toussaint")
        assert Anchor.parse("before:All Saints") == Anchor(AnchorKind.EVE, "All Saints")
        assert str(DayExpression.parse("veille:Toussaint")) == "veille:Toussaint"

    def test_a_public_holiday_on_the_eve_is_skipped(self) -> None:
        # Zone A 2025-2026: the spring holidays' classes end Saturday 4 April 2026, so the
        # eve is Friday 3 April...
        expression = DayExpression.parse("veille:printemps")
        assert expression.resolve(calendar("fr+A"), "2025-2026")[1] == D(2026, 4, 3)
        # ...but Friday 3 April 2026 is Good Friday, a public holiday in Moselle (57):
        # there the eve is Thursday 2 April.
        assert expression.resolve(calendar("fr-57+A"), "2025-2026")[1] == D(2026, 4, 2)

    def test_without_a_calendar_the_eve_cannot_be_resolved(self) -> None:
        with pytest.raises(AnchorError, match=r"needs the service's calendar"):
            resolve_anchor(school_zone("B"), Anchor.parse("veille:Toussaint"), "2025-2026")
