"""Tests for Delay and Unit parsing."""

from __future__ import annotations

import pytest

from sla_engine import Delay, DelayError, Unit


class TestParse:
    @pytest.mark.parametrize(
        ("text", "amount", "unit"),
        [
            ("15 jours ouvrés", 15, Unit.JOURS_OUVRES),
            ("15 JOURS OUVRES", 15, Unit.JOURS_OUVRES),
            ("1 jour ouvré", 1, Unit.JOURS_OUVRES),
            ("5 business days", 5, Unit.JOURS_OUVRES),
            ("5 working days", 5, Unit.JOURS_OUVRES),
            ("10 jours ouvrables", 10, Unit.JOURS_OUVRABLES),
            ("30 jours", 30, Unit.JOURS_CALENDAIRES),
            ("30 jours calendaires", 30, Unit.JOURS_CALENDAIRES),
            ("30 calendar days", 30, Unit.JOURS_CALENDAIRES),
            ("15 jours francs", 15, Unit.JOURS_FRANCS),
            ("15 clear days", 15, Unit.JOURS_FRANCS),
            ("10 jours scolaires", 10, Unit.JOURS_SCOLAIRES),
            ("2 semaines", 2, Unit.SEMAINES),
            ("1 week", 1, Unit.SEMAINES),
            ("2 mois", 2, Unit.MOIS),
            ("48 heures", 48, Unit.HEURES),
            ("4 heures ouvrées", 4, Unit.HEURES_OUVREES),
            ("4 business hours", 4, Unit.HEURES_OUVREES),
            ("  7   jours   ouvrés ", 7, Unit.JOURS_OUVRES),
            ("quinzaine", 15, Unit.JOURS_CALENDAIRES),
            ("sous quinzaine", 15, Unit.JOURS_CALENDAIRES),
            ("Une quinzaine", 15, Unit.JOURS_CALENDAIRES),
        ],
    )
    def test_accepted(self, text: str, amount: int, unit: Unit) -> None:
        assert Delay.parse(text) == Delay(amount, unit)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("15 jours fériés", "unknown unit 'jours fériés'"),  # as written
            ("5 jours ouvré", r"'jours ouvré' .* \(did you mean 'jours ouvrés'\?\)"),
            ("5 heurs ouvrées", r"did you mean 'heures ouvrées'\?"),
            ("jours ouvrés", "expected an amount and a unit"),
            ("", "expected an amount and a unit"),
            ("0 jours ouvrés", "at least 1"),
            ("-3 jours", "the amount '-3' is negative; a delay counts forward"),
            ("1.5 jours", r"the amount '1\.5' has decimals"),
            ("15", "expected an amount and a unit"),
        ],
    )
    def test_refused_with_a_clear_message(self, text: str, message: str) -> None:
        with pytest.raises(DelayError, match=message):
            Delay.parse(text)

    @pytest.mark.parametrize("space", ["\u00a0", "\u202f"])
    def test_thousands_apart_by_a_no_break_space(self, space: str) -> None:
        with pytest.raises(DelayError, match="space between its digits; write it without: '12000"):
            Delay.parse(f"12{space}000 heures")

    @pytest.mark.parametrize("text", ["1.500 jours", "1,000 jours"])
    def test_a_thousands_separator_or_decimals(self, text: str) -> None:
        with pytest.raises(DelayError, match="has decimals or a thousands separator"):
            Delay.parse(text)

    def test_no_years_suggests_no_months(self) -> None:
        with pytest.raises(DelayError, match=r"the same way\)$"):
            Delay.parse("0 ans")

    @pytest.mark.parametrize(("text", "amount"), [("05 jours", 5), ("0000005 jours", 5)])
    def test_leading_zeros_are_no_digits(self, text: str, amount: int) -> None:
        assert Delay.parse(text) == Delay(amount, Unit.JOURS_CALENDAIRES)

    @pytest.mark.parametrize("text", ["01234567 jours", "000 jours"])
    def test_leading_zeros_hide_no_amount_out_of_bounds(self, text: str) -> None:
        with pytest.raises(DelayError, match=r"more than 6 digits|at least 1"):
            Delay.parse(text)

    def test_thousands_apart_past_the_largest_amount(self) -> None:
        with pytest.raises(DelayError, match=r"'1 000 000' has more than 6 digits; .* 999999$"):
            Delay.parse("1 000 000 jours")

    @pytest.mark.parametrize(
        ("text", "message", "redacted"),
        [
            # A decimal comma, as French writes it, says the same as a point.
            (
                "1,5 heures",
                "cannot read the delay '1,5 heures': the amount '1,5' has decimals, and a delay's "
                "amount must be a whole number",
                "cannot read the delay: its amount has decimals, and "
                "a delay's amount must be a whole number",
            ),
            (
                "1.5 heures",
                "cannot read the delay '1.5 heures': the amount '1.5' has decimals, and a delay's "
                "amount must be a whole number",
                "cannot read the delay: its amount has decimals, and "
                "a delay's amount must be a whole number",
            ),
            (
                "1234567 jours",
                "cannot read the delay '1234567 jours': the amount '1234567' has more than 6 "
                "digits; a delay's amount is at most 999999",
                "cannot read the delay: its amount has more than 6 digits; "
                "a delay's amount is at most 999999",
            ),
            # Thousands set apart, as French writes them.
            (
                "1 500 jours",
                "cannot read the delay '1 500 jours': the amount '1 500' is written with a "
                "space between its digits; write it without: '1500 jours'",
                "cannot read the delay: its amount is written with a space between its digits; "
                "write it without",
            ),
            (
                "2 ans",
                "cannot read the delay '2 ans': years are not a unit of delay; write it in "
                "months, 12 a year (CPC art. 641 counts both the same way): '24 mois'",
                "cannot read the delay: years are not a unit of delay; write it in months, "
                "12 a year (CPC art. 641 counts both the same way)",
            ),
            (
                "1 an",
                "cannot read the delay '1 an': years are not a unit of delay; write it in "
                "months, 12 a year (CPC art. 641 counts both the same way): '12 mois'",
                "cannot read the delay: years are not a unit of delay; write it in months, "
                "12 a year (CPC art. 641 counts both the same way)",
            ),
        ],
    )
    def test_what_is_wrong_is_named(self, text: str, message: str, redacted: str) -> None:
        with pytest.raises(DelayError) as caught:
            Delay.parse(text)
        assert str(caught.value) == message
        assert caught.value.redacted == redacted
        assert text not in caught.value.redacted

    @pytest.mark.parametrize(
        "text", ["1 année", "3 Années", "1 year", "2 years", "999999 ans", "  4   ANS "]
    )
    def test_years_are_refused_naming_months(self, text: str) -> None:
        with pytest.raises(DelayError, match="years are not a unit of delay; write it in months"):
            Delay.parse(text)

    def test_the_months_named_for_years_are_a_delay(self) -> None:
        with pytest.raises(DelayError) as caught:
            Delay.parse("2 ans")
        suggested = str(caught.value).rsplit(": ", 1)[1].strip("'")
        assert Delay.parse(suggested) == Delay(24, Unit.MOIS)

    def test_the_largest_amount_is_read(self) -> None:
        assert Delay.parse("999999 jours") == Delay(999999, Unit.JOURS_CALENDAIRES)

    def test_not_text(self) -> None:
        with pytest.raises(DelayError, match="must be text"):
            Delay.parse(15)  # type: ignore[arg-type]

    def test_delay_error_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="unknown unit"):
            Delay.parse("3 lunes")


class TestLabel:
    def test_french_and_english_agree_with_the_amount(self) -> None:
        assert Delay(1, Unit.JOURS_OUVRES).label() == "1 jour ouvré"
        assert str(Delay(15, Unit.JOURS_OUVRES)) == "15 jours ouvrés"
        assert Delay(15, Unit.JOURS_OUVRES).label("en") == "15 business days"
        assert Delay(1, Unit.MOIS).label() == "1 mois"
        assert Delay(3, Unit.JOURS_FRANCS).label("en") == "3 clear days"

    @pytest.mark.parametrize("unit", list(Unit))
    def test_every_label_parses_back(self, unit: Unit) -> None:
        for lang in ("fr", "en"):
            for amount in (1, 7):
                delay = Delay(amount, unit)
                assert Delay.parse(delay.label(lang)) == delay

    def test_unit_by_name(self) -> None:
        assert Unit.parse("Jours Ouvrés") is Unit.JOURS_OUVRES
        with pytest.raises(DelayError, match="unknown unit 'fortnights'"):
            Unit.parse("fortnights")
        with pytest.raises(DelayError, match="unknown unit 'Années': years are not a unit; count"):
            Unit.parse("Années")
