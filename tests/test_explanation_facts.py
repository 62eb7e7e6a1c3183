"""Explanations that say only what the timer did, in correct French and English.

Found by an audit that recounted every explanation's days apart:
- « Reçu le » named the resumption, the reopening or an answer ending a
  pause as the receipt; the delay now runs « à partir de la reprise », « de
  la réouverture », « de la fin de la suspension ».
- Suspended months, weeks and hours: the unpaused due date was given with
  « une réponse est dans les délais si elle intervient avant cet instant »,
  and the art. 642 extension of the moved date was not said.
- Pauses were summed, not named one by one (counting-rules.md promises
  each); each counted pause now has its line and what it added.
- A complex case's longer delay, and an announced delay, were not named;
  and an engagement counted from the acknowledgement that announces its
  delay found none (the timer's own defect: late, « no_announced_delay »).
- « le 1e jour », « fermeture du service : fermeture du service »,
  « 1,5 heure ajouté(s) », « 2 réunion tenue », « 8.5 h », « veille:Toussaint ».
- Instants were written to the minute while verdicts compare them exactly:
  « 11:00 … avant l'expiration » for an answer at 11:00:30 and an expiry at
  11:00:50. Seconds are shown when an instant has some.
- Obligations showed their words in the matching form (« telephone »,
  « reunion des directeurs »): now as the catalogue spells them.
- And, for every drawn history, each explanation names its timer's due date
  and verdict, in French and in English.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sla_engine
from sla_engine import SiteEvent, SlaEngine, parse_catalogue
from sla_engine import strategies as sla
from sla_engine._text import format_day, format_instant

PARIS = ZoneInfo("Europe/Paris")


def _at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=PARIS)


def _catalogue(*engagements: str) -> sla_engine.Catalogue:
    head = '[catalogue]\nid = "x"\ntitle = "x"\nversion = "1"\ncalendar = "fr"\n'
    body = "".join(
        f'\n[[engagement]]\nsource = "tests/test_explanation_facts.py"\nkind = "response"\n{e}'
        for e in engagements
    )
    return parse_catalogue(head + body, source="test")


def _record(engine: SlaEngine, contact: str, events: list[tuple[str, dt.datetime]]) -> None:
    engine.record_many(
        [
            {"event_id": f"{contact}{n}", "contact_id": contact, "type": kind, "occurred_at": at}
            | ({"channel": "email"} if kind == "received" else {})
            | ({"announced_delay": "10 jours ouvrés"} if kind == "acknowledged" else {})
            for n, (kind, at) in enumerate(events)
        ]
    )


RESTART = _catalogue(
    'id = "r"\ntitle = "5 jours ouvrés"\nstop = ["answered"]\npause = "suspended"\n'
    'pause_mode = "restart"\ntarget = "5 jours ouvrés"\n'
)


def test_the_delay_runs_from_what_started_it_not_always_the_receipt() -> None:
    engine = SlaEngine(RESTART, "fr", clock=lambda: _at(12, 31))
    _record(engine, "A", [("received", _at(11, 3, 9)), ("suspended", _at(11, 4)),
                          ("resumed", _at(11, 6, 15)), ("answered", _at(11, 14))])  # fmt: skip
    _record(engine, "B", [("received", _at(11, 3, 9)), ("answered", _at(11, 5)),
                          ("reopened", _at(11, 20)), ("answered", _at(12, 2))])  # fmt: skip
    _record(engine, "C", [("received", _at(11, 3, 9)), ("suspended", _at(11, 4)),
                          ("answered", _at(11, 12))])  # fmt: skip
    a = engine.explain("A", "r", now=_at(12, 20))
    assert "Reçu le jeudi 6" not in a
    assert "Le délai court à partir de la reprise, le jeudi 6 novembre 2025 à 15:00" in a
    b = engine.explain("B", "r", cycle=1, now=_at(12, 20))
    assert "Reçu le" not in b
    assert "Le délai court à partir de la réouverture, le jeudi 20 novembre 2025" in b
    c = engine.explain("C", "r", now=_at(12, 20))
    assert "à la dernière reprise" not in c
    assert "Le délai repart en entier à la fin de la dernière suspension, le mercredi 12" in c
    c_en = engine.explain("C", "r", now=_at(12, 20), lang="en")
    assert "The delay runs from the end of the suspension, on Wednesday 12 November" in c_en
    # A receipt is still a receipt.
    plain = SlaEngine(RESTART, "fr", clock=lambda: _at(12, 31))
    _record(plain, "D", [("received", _at(11, 3, 9)), ("answered", _at(11, 5))])
    assert "Reçu le lundi 3 novembre 2025 à 09:00" in plain.explain("D", "r", now=_at(12, 20))


def test_a_suspended_month_says_the_moved_due_date_and_its_extension() -> None:
    months = _catalogue(
        'id = "m"\ntitle = "1 mois"\nstop = ["answered"]\npause = "suspended"\ntarget = "1 mois"\n'
    )
    engine = SlaEngine(months, "fr", clock=lambda: _at(12, 31))
    _record(engine, "M", [("received", _at(11, 3, 9)), ("suspended", _at(11, 4)),
                          ("resumed", _at(11, 7, 15))])  # fmt: skip
    (timer,) = engine.timers("M", now=_at(12, 5))
    assert timer.due_date == dt.date(2025, 12, 8)
    text = engine.explain("M", "m", now=_at(12, 5))
    assert "une réponse est dans les délais si elle intervient avant" not in text
    assert "Sans suspension, l'échéance serait le mercredi 3 décembre 2025." in text
    assert (
        "Les suspensions portent l'échéance au samedi 6 décembre 2025, samedi : elle est "
        "prorogée au premier jour ouvré suivant (Code de procédure civile, art. 642), le "
        "lundi 8 décembre 2025." in text
    )
    # The day the delay ends, not only the instant after it (read as « le 9 »).
    assert (
        "Avec les suspensions, l'échéance est le lundi 8 décembre 2025, à 24 h : le délai "
        "expire le mardi 9 décembre 2025 à 00:00 (UTC+01:00)." in text
    )
    english = engine.explain("M", "m", now=_at(12, 5), lang="en")
    assert (
        "With the suspensions, the due date is Monday 8 December 2025, by the end of that day "
        "(24:00): the delay expires on Tuesday 9 December 2025 at 00:00 (UTC+01:00)." in english
    )
    assert (
        "- suspension du mardi 4 novembre 2025 à 10:00 (UTC+01:00) au vendredi 7 novembre "
        "2025 à 15:00 (UTC+01:00) : 3 jours calendaires" in text
    )


def test_suspended_hours_say_the_instant_they_expire() -> None:
    hours = _catalogue(
        'id = "h"\ntitle = "8 heures"\nstop = ["answered"]\npause = "suspended"\n'
        'target = "8 heures"\n'
    )
    engine = SlaEngine(hours, "fr", clock=lambda: _at(12, 31))
    _record(engine, "H", [("received", _at(11, 3, 9)), ("suspended", _at(11, 3, 10)),
                          ("resumed", _at(11, 3, 12))])  # fmt: skip
    text = engine.explain("H", "h", now=_at(11, 3, 13))
    assert "Avec les suspensions, le délai expire le lundi 3 novembre 2025 à 19:00" in text
    assert "l'échéance est" not in text


def test_business_hours_name_the_days_they_skip_in_the_readers_language() -> None:
    cal = sla_engine.calendar("fr+B").with_opening_hours("lun-ven 09:00-12:00 13:30-17:00")
    computed = sla_engine.deadline(_at(11, 7, 16, 30), "10 heures ouvrées", cal)
    assert computed.expires_at == _at(11, 12, 12)
    french = computed.explain("fr").splitlines()
    assert french[2:6] == [
        "10 heures ouvrées selon les horaires d'ouverture : lun-ven 09:00-12:00 13:30-17:00.",
        "- samedi 8 novembre 2025 : non compté (samedi)",
        "- dimanche 9 novembre 2025 : non compté (dimanche)",
        "- mardi 11 novembre 2025 : non compté (11 novembre : Armistice)",
    ]
    english = computed.explain("en").splitlines()
    assert (
        english[2] == "10 business hours within the opening hours: mon-fri 09:00-12:00 13:30-17:00."
    )
    assert english[5] == "- Tuesday 11 November 2025: not counted (11 November: Armistice Day)"
    one = sla_engine.deadline(_at(11, 7, 16, 30), "1 heure ouvrée", cal).explain("fr")
    assert "1 heure ouvrée selon les horaires" in one
    assert "non compté" in one  # Friday 17:00 to Monday 09:00: the weekend
    assert cal.reasons_not_counted(dt.date(2025, 11, 10), "heures ouvrées") == ()


def test_complex_and_announced_delays_are_named_and_an_acknowledgement_announces() -> None:
    catalogue = _catalogue(
        'id = "c"\ntitle = "5 jours ouvrés"\nstop = ["answered"]\ntarget = "5 jours ouvrés"\n'
        'complex = "30 jours ouvrés"\n',
        'id = "a"\ntitle = "le délai annoncé"\nstart = "acknowledged"\nstop = ["answered"]\n'
        'target = "announced"\n',
    )
    engine = SlaEngine(catalogue, "fr", clock=lambda: _at(12, 31))
    _record(engine, "K", [("received", _at(11, 3, 9)), ("acknowledged", _at(11, 4, 9)),
                          ("flagged_complex", _at(11, 5)), ("answered", _at(11, 14))])  # fmt: skip
    timers = {t.engagement_id: t for t in engine.timers("K", now=_at(12, 1))}
    assert (timers["a"].state.value, str(timers["a"].target)) == ("met", "10 jours ouvrés")
    complex_text = engine.explain("K", "c", now=_at(12, 1))
    assert (
        "Situation complexe signalée : le délai est de 30 jours ouvrés au lieu de 5 jours ouvrés."
        in complex_text
    )
    announced = engine.explain("K", "a", now=_at(12, 1))
    assert "Délai annoncé à l'usager : 10 jours ouvrés." in announced
    assert "Le délai court à partir de l'accusé de réception, le mardi 4 novembre" in announced


def test_french_and_english_agree_in_number_and_gender() -> None:
    one_day = sla_engine.deadline(
        dt.datetime(2025, 10, 22, 11, tzinfo=PARIS), "1 jour calendaire", sla_engine.calendar("fr")
    )
    assert "le 1er jour après la réception est le jeudi 23 octobre 2025" in one_day.explain("fr")
    closed = sla_engine.calendar("fr").with_closures((dt.date(2025, 11, 10), dt.date(2025, 11, 10)))
    text = sla_engine.deadline(_at(11, 7), "5 jours ouvrés", closed).explain("fr")
    assert "- lundi 10 novembre 2025 : non compté (fermeture du service)" in text
    english = sla_engine.deadline(_at(11, 7), "5 jours ouvrés", closed).explain("en")
    assert "- Monday 10 November 2025: not counted (service closed)" in english
    hours = _catalogue(
        'id = "h"\ntitle = "8 heures"\nstop = ["answered"]\npause = "suspended"\n'
        'target = "8 heures"\n'
    )
    engine = SlaEngine(hours, "fr", clock=lambda: _at(12, 31))
    _record(engine, "H", [("received", _at(11, 3, 9)), ("suspended", _at(11, 3, 10)),
                          ("resumed", _at(11, 3, 11, 30)),
                          ("answered", _at(11, 3, 12))])  # fmt: skip
    # Hours as a duration, which needs no agreement (« 1,5 heure ajoutée » before).
    assert "Suspensions : le délai est allongé de 1 h 30 (temps écoulé)" in engine.explain("H", "h")
    assert "lengthened by 1 hour 30 minutes (elapsed time)" in engine.explain("H", "h", lang="en")


def test_obligation_explanations_agree_and_use_words() -> None:
    catalogue = parse_catalogue(
        """
[catalogue]
id = "d"
title = "d"
version = "1"
calendar = "fr+B"

[[engagement]]
id = "councils"
title = "Deux réunions"
source = "tests/test_explanation_facts.py"
kind = "recurring"
per = "service"
event = "held"
every = "school_year"
count = 2

[[engagement]]
id = "results"
title = "Résultats avant la Toussaint"
source = "tests/test_explanation_facts.py"
kind = "scheduled"
per = "service"
event = "published"
due = "veille:Toussaint"

[[engagement]]
id = "phone"
title = "9 heures"
source = "tests/test_explanation_facts.py"
kind = "availability"
per = "service"
line = "telephone"
amplitude = "9 heures"
""",
        source="test",
    )
    engine = SlaEngine(catalogue, clock=lambda: _at(11, 30))
    engine.record_site_events(
        [
            SiteEvent("h1", "held", _at(9, 15)),
            SiteEvent("o1", "opened", _at(9, 15, 8), what="telephone"),
            SiteEvent("c1", "closed", _at(9, 15, 16, 30), what="telephone"),
        ]
    )
    now = _at(11, 30)
    assert "Attendu : 2 réunions tenues" in engine.explain_obligation(None, "councils", now=now)
    assert "2 meetings held" in engine.explain_obligation(None, "councils", now=now, lang="en")
    results = engine.explain_obligation(None, "results", now=now)
    assert "veille:" not in results
    assert "échéance : le dernier jour scolaire avant les vacances" in results
    phone = engine.explain_obligation(None, "phone", "2025-09-15", now=now)
    assert "amplitude de 8 h 30, moins que 9 h" in phone


def test_instants_show_their_seconds_when_they_have_some() -> None:
    hours = _catalogue('id = "h2"\ntitle = "2 heures"\nstop = ["answered"]\ntarget = "2 heures"\n')
    engine = SlaEngine(hours, "fr", clock=lambda: _at(12, 31))
    received = dt.datetime(2025, 11, 3, 9, 0, 50, tzinfo=PARIS)
    _record(engine, "S", [("received", received),
                          ("answered", received + dt.timedelta(hours=2, seconds=-20))])  # fmt: skip
    text = engine.explain("S", "h2")
    assert "Échéance : lundi 3 novembre 2025 à 11:00:50 (UTC+01:00)." in text
    assert "arrêté le lundi 3 novembre 2025 à 11:00:30 (UTC+01:00), avant l'expiration" in text
    assert "Reçu le lundi 3 novembre 2025 à 09:00:50 (UTC+01:00)." in text
    # Whole minutes are written as before.
    assert format_instant(_at(11, 3, 9), "fr") == "lundi 3 novembre 2025 à 09:00 (UTC+01:00)"


def test_obligation_words_are_shown_as_the_catalogue_spells_them() -> None:
    """They were matched, stored and shown lower-case and without accents."""
    catalogue = parse_catalogue(
        """
[catalogue]
id = "d"
title = "d"
version = "1"
calendar = "fr+B"

[[engagement]]
id = "councils"
title = "Deux réunions"
source = "tests/test_explanation_facts.py"
kind = "recurring"
per = "service"
event = "held"
what = ["Réunion des directeurs"]
every = "school_year"

[[engagement]]
id = "phone"
title = "9 heures"
source = "tests/test_explanation_facts.py"
kind = "availability"
per = "service"
line = "Téléphone"
amplitude = "9 heures"
""",
        source="test",
    )
    engine = SlaEngine(catalogue, clock=lambda: _at(11, 30))
    engine.record_site_events(
        [
            SiteEvent("h1", "held", _at(9, 15), what="reunion des directeurs"),
            SiteEvent("o1", "opened", _at(9, 15, 8), what="téléphone"),
            SiteEvent("c1", "closed", _at(9, 15, 17), what="TELEPHONE"),
        ]
    )
    now = _at(11, 30)
    councils = engine.explain_obligation(None, "councils", now=now)
    assert "Attendu : 1 réunion tenue (Réunion des directeurs)" in councils
    assert ": réunion tenue (Réunion des directeurs)" in councils
    phone = engine.explain_obligation(None, "phone", "2025-09-15", now=now)
    assert "de la première ouverture à la dernière fermeture de « Téléphone »" in phone
    assert "amplitude de 9 h : engagement tenu" in phone


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=sla.contact_histories(channels=["email", "letter"], max_events=6),
    hours=st.integers(0, 40 * 24),
)
def test_every_explanation_states_its_timers_due_date_and_verdict(
    history: list[sla_engine.ContactEvent], hours: int
) -> None:
    """The texts name the due date and the verdict the timer has, in both languages."""
    now = history[-1].occurred_at + dt.timedelta(hours=hours)
    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: now)
    engine.record_many(history)
    words = {
        "met": ("engagement tenu", "engagement kept"),
        "late": ("engagement non tenu", "engagement not kept"),
        "overdue": ("engagement non tenu", "engagement not kept"),
        "running": ("en cours", "running"),
        "at_risk": ("en alerte", "at risk"),
        "paused": ("en pause", "paused"),
    }
    for timer in engine.timers(history[0].contact_id, now=now):
        if timer.due_date is None or timer.kind != "response":
            continue
        for lang, said in zip(("fr", "en"), words[timer.state.value], strict=True):
            text = engine.explain(
                timer.contact_id, timer.engagement_id, cycle=timer.cycle, lang=lang, now=now
            )
            assert said in text
            if timer.state.value != "paused":
                assert format_day(timer.due_date, lang) in text
