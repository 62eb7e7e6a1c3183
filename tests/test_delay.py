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
            ("15 jours fériés", "unknown unit 'jours feries'"),
            ("jours ouvrés", "expected an amount and a unit"),
            ("", "expected an amount and a unit"),
            ("0 jours ouvrés", "at least 1"),
            ("-3 jours", "expected an amount and a unit"),
            ("1.5 jours", "unknown unit"),
            ("15", "expected an amount and a unit"),
        ],
    )
    def test_refused_with_a_clear_message(self, text: str, message: str) -> None:
        with pytest.raises(DelayError, match=message):
            Delay.parse(text)

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
