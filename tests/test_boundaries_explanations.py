"""Explanations at their boundaries: an instant equal to another, a count of one, two thresholds.

The sentences an explanation adds or leaves out turn on comparisons
(« clos » at the very as-of instant, a suspension at the very instant of the
answer, a clock change at the very instant of receipt); these tests pin the
sentence on each side of them.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sla_engine import SlaEngine, calendar, deadline

from .engine_support import at, event_mapping

CLOCK = at(2026, 1, 1)


def _engine() -> SlaEngine:
    return SlaEngine("marianne-besancon", "fr", clock=lambda: CLOCK)


def _lines(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if any(w in line for w in words)]


# -- deadline().explain -------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "sentence"),
    [
        (
            "en",
            "On Sunday 26 October 2025, the clock change moves the clock back by one hour: "
            "the delay counts the time that really elapses.",
        ),
        ("fr", "le changement d'heure"),
    ],
)
def test_an_hour_delay_received_at_the_clock_change_instant_mentions_it(
    lang: str, sentence: str
) -> None:
    """Received at 01:00 UTC on 26/10/2025, as the clock goes back: the change is in the delay."""
    received = dt.datetime(2025, 10, 26, 1, 0, tzinfo=dt.UTC)
    text = deadline(received, "3 heures", calendar("fr")).explain(lang)
    assert sentence in text
    # An hour later, the change is behind: no sentence.
    later = deadline(received + dt.timedelta(hours=1), "3 heures", calendar("fr")).explain(lang)
    assert sentence not in later


def test_jours_francs_name_the_clear_days_from_the_day_after_receipt_to_the_nth() -> None:
    """8 jours francs from Monday 13/10: clear days 14/10 to 21/10, the delay runs to 22/10."""
    d = deadline(at(2025, 10, 13), "8 jours francs", calendar("fr"))
    assert d.due_date == dt.date(2025, 10, 22)
    assert (
        "the 8 clear days run from Tuesday 14 October 2025 to Tuesday 21 October 2025, "
        "and the delay runs until Wednesday 22 October 2025."
    ) in d.explain("en")
    assert "du mardi 14 octobre 2025 au mardi 21 octobre 2025" in d.explain("fr")


# -- engine explanations ------------------------------------------------------------


def test_closed_at_exactly_the_as_of_instant_is_said_closed_without_an_answer() -> None:
    engine = _engine()
    engine.record_many(
        [
            event_mapping("a1", "A", "received", at(2025, 10, 13)),
            event_mapping("a2", "A", "closed", at(2025, 10, 14)),
        ]
    )
    now = at(2025, 10, 14)
    en = engine.explain("A", "email-5", now=now, lang="en")
    assert (
        "Closed on Tuesday 14 October 2025 at 10:00 (UTC+02:00) without an answer: "
        "the closure does not stop this delay, which is still counted."
    ) in en
    fr = engine.explain("A", "email-5", now=now, lang="fr")
    assert "Clos le mardi 14 octobre 2025 à 10:00" in fr
    assert "sans réponse" in fr


def test_a_suspension_at_the_instant_of_the_answer_gets_no_sentence() -> None:
    """The answer stops the delay first: a suspension recorded at that instant changes nothing."""
    engine = _engine()
    engine.record_many(
        [
            event_mapping("b1", "B", "received", at(2025, 10, 13)) | {"category": "réclamation"},
            event_mapping("b2", "B", "answered", at(2025, 10, 15)),
            event_mapping("b3", "B", "suspended", at(2025, 10, 15)),
        ]
    )
    for lang in ("en", "fr"):
        text = engine.explain("B", "complaint-15", now=at(2025, 10, 20), lang=lang)
        assert (
            _lines(text, "does not stop", "n'arrête pas", "suspension du", "suspension from") == []
        )
    # A suspension a minute before the answer does get one.
    engine.record_many(
        [
            event_mapping("c1", "C", "received", at(2025, 10, 13)) | {"category": "réclamation"},
            event_mapping("c2", "C", "suspended", at(2025, 10, 15, 9, 59)),
            event_mapping("c3", "C", "answered", at(2025, 10, 15)),
        ]
    )
    text = engine.explain("C", "complaint-15", now=at(2025, 10, 20), lang="en")
    assert _lines(text, "does not stop", "suspension from")


def test_a_suspension_of_one_working_day_reads_in_the_singular() -> None:
    engine = _engine()
    engine.record_many(
        [
            event_mapping("c1", "C", "received", at(2025, 10, 13)),
            event_mapping("c2", "C", "suspended", at(2025, 10, 14)),
            event_mapping("c3", "C", "resumed", at(2025, 10, 15)),
        ]
    )
    text = engine.explain("C", "email-5", now=at(2025, 10, 16), lang="fr")
    assert "Suspensions : 1 jour ouvré ajouté au délai, qui reprend avec ce qui restait." in text
    assert "ajoutés" not in _lines(text, "Suspensions :")[0]


def test_with_two_thresholds_crossed_the_first_crossing_is_named() -> None:
    engine = _engine()
    engine.record(event_mapping("d1", "D", "received", at(2025, 10, 13)))
    now = at(2025, 10, 19, 12)
    (timer,) = [t for t in engine.timers("D", now=now) if t.engagement_id == "email-5"]
    assert len([w for w in timer.warnings if w <= now]) == 2
    assert timer.warnings[0] == at(2025, 10, 17, 0)
    text = engine.explain("D", "email-5", now=now, lang="en")
    assert (
        "running and at risk (threshold crossed on Friday 17 October 2025 at 00:00 (UTC+02:00))"
    ) in text
