"""Explanations whose figures were right and whose words misled, in French and English.

Found by an audit of the district sample's explanations and the calculator:
- hours shown as decimals (« amplitude de 7,27 h » for 7 h 16, « 1,5 heure »);
- a contact closed without an answer read « toujours en cours » in its verdict;
- a suspension the engagement does not pause on was listed, then counted
  through without a word;
- school holidays capitalised inside a sentence (« vacances d'Hiver »);
- « à ou après l'expiration »; "promised amplitude 9 h"; "9 h per school day";
- the register's « École de Le Blanc ».
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import attrs
import pytest

import sla_engine
from sla_engine import SiteEvent, SlaEngine, parse_catalogue
from sla_engine._generate_sites import school_name
from sla_engine._school import french_name
from sla_engine._text import format_hours

PARIS = ZoneInfo("Europe/Paris")


def _at(month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, second, tzinfo=PARIS)


def _catalogue(*engagements: str, calendar: str = "fr") -> sla_engine.Catalogue:
    head = f'[catalogue]\nid = "x"\ntitle = "x"\nversion = "1"\ncalendar = "{calendar}"\n'
    body = "".join(
        f'\n[[engagement]]\nsource = "tests/test_explanation_wording.py"\n{e}' for e in engagements
    )
    return parse_catalogue(head + body, source="test")


def _record(engine: SlaEngine, contact: str, events: list[tuple[str, dt.datetime]]) -> None:
    engine.record_many(
        [
            {"event_id": f"{contact}{n}", "contact_id": contact, "type": kind, "occurred_at": at}
            | ({"channel": "email"} if kind == "received" else {})
            for n, (kind, at) in enumerate(events)
        ]
    )


# -- hours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "fr", "en"),
    [
        (7 + 16 / 60, "7 h 16", "7 hours 16 minutes"),
        (round(7 + 16 / 60, 4), "7 h 16", "7 hours 16 minutes"),  # as a timer keeps it
        (9, "9 h", "9 hours"),
        (1, "1 h", "1 hour"),
        (5.5, "5 h 30", "5 hours 30 minutes"),
        (1 + 1 / 60, "1 h 01", "1 hour 1 minute"),
        (0.75, "45 min", "45 minutes"),
        (round(2 / 60, 4), "2 min", "2 minutes"),  # 0.0333 h is 2 minutes, not 1
        # A few seconds short of 9 h never reads as 9 h.
        (round(9 - 20 / 3600, 4), "8 h 59 min 40 s", "8 hours 59 minutes 40 seconds"),
        (0, "0 min", "0 minutes"),
    ],
)
def test_hours_are_written_in_hours_and_minutes(hours: float, fr: str, en: str) -> None:
    assert format_hours(hours, "fr") == fr
    assert format_hours(hours, "en") == en


PHONE = """
[catalogue]
id = "d"
title = "d"
version = "1"
calendar = "fr+B"

[[engagement]]
id = "phone"
title = "9 heures"
source = "tests/test_explanation_wording.py"
kind = "availability"
per = "service"
line = "téléphone"
amplitude = "9 heures"

[[engagement]]
id = "results"
title = "Résultats avant la Toussaint"
source = "tests/test_explanation_wording.py"
kind = "scheduled"
per = "service"
event = "published"
due = "veille:Toussaint"
"""


def test_an_opening_span_is_in_hours_and_minutes_not_decimal_hours() -> None:
    """09:28 to 16:44 is 7 h 16, which « 7,27 h » made a French reader take for 7 h 27."""
    engine = SlaEngine(parse_catalogue(PHONE, source="test"), clock=lambda: _at(11, 30))
    engine.record_site_events(
        [
            SiteEvent("o1", "opened", _at(9, 2, 9, 28), what="téléphone"),
            SiteEvent("c1", "closed", _at(9, 2, 16, 44), what="téléphone"),
        ]
    )
    fr = engine.explain_obligation(None, "phone", "2025-09-02", now=_at(11, 30))
    assert "amplitude promise de 9 h," in fr
    assert "Verdict : amplitude de 7 h 16, moins que 9 h : engagement non tenu." in fr
    assert "7,27" not in fr
    en = engine.explain_obligation(None, "phone", "2025-09-02", now=_at(11, 30), lang="en")
    assert "promised opening span of 9 hours," in en
    assert (
        "Verdict: opening span of 7 hours 16 minutes, less than 9 hours: engagement not kept." in en
    )
    assert "7.27" not in en
    assert " h " not in en
    # The review's target of the engagement.
    phone = parse_catalogue(PHONE, source="test").engagements[0]
    assert sla_engine._obligations.obligation_target(phone, "fr") == "9 h par jour scolaire"
    assert sla_engine._obligations.obligation_target(phone, "en") == "9 hours per school day"


def test_a_late_event_is_at_the_expiry_or_after() -> None:
    engine = SlaEngine(parse_catalogue(PHONE, source="test"), clock=lambda: _at(12, 30))
    engine.record_site_events([SiteEvent("p1", "published", _at(11, 3, 9), what="résultats")])
    fr = engine.explain_obligation(None, "results", now=_at(12, 30))
    assert "à l'expiration ou après : engagement non tenu" in fr
    assert "à ou après" not in fr
    en = engine.explain_obligation(None, "results", now=_at(12, 30), lang="en")
    assert "expiring at 24:00 that day)" in en
    assert "midnight" not in en


def test_suspended_hours_are_a_duration() -> None:
    hours = _catalogue(
        'id = "h"\ntitle = "8 heures"\nkind = "response"\nstop = ["answered"]\n'
        'pause = "suspended"\ntarget = "8 heures"\n'
    )
    engine = SlaEngine(hours, "fr", clock=lambda: _at(12, 31))
    _record(engine, "H", [("received", _at(11, 3, 9)), ("suspended", _at(11, 3, 10)),
                          ("resumed", _at(11, 3, 15, 30)),
                          ("answered", _at(11, 3, 16))])  # fmt: skip
    fr = engine.explain("H", "h")
    assert "Suspensions : le délai est allongé de 5 h 30 (temps écoulé)" in fr
    assert ": 5 h 30" in fr
    assert "5,5" not in fr
    en = engine.explain("H", "h", lang="en")
    assert "Suspensions: the delay is lengthened by 5 hours 30 minutes (elapsed time)" in en
    assert "5.5" not in en


def test_suspended_business_hours_are_a_duration() -> None:
    cal = sla_engine.calendar("fr").with_opening_hours("lun-ven 09:00-12:00 14:00-17:00")
    hours = _catalogue(
        'id = "h"\ntitle = "12 heures ouvrées"\nkind = "response"\nstop = ["answered"]\n'
        'pause = "suspended"\ntarget = "12 heures ouvrées"\n'
    )
    engine = SlaEngine(hours, cal, clock=lambda: _at(12, 31))
    _record(engine, "H", [("received", _at(11, 3, 9)), ("suspended", _at(11, 3, 10)),
                          ("resumed", _at(11, 3, 15, 30))])  # fmt: skip
    fr = engine.explain("H", "h", now=_at(11, 3, 16))
    # 10:00–12:00 and 14:00–15:30 of opening hours: 3 h 30.
    assert "Suspensions : le délai est allongé de 3 h 30 (heures ouvrées)" in fr
    en = engine.explain("H", "h", now=_at(11, 3, 16), lang="en")
    assert "lengthened by 3 hours 30 minutes (business hours)" in en


# -- closures and suspensions --------------------------------------------------------

RESPONSE = _catalogue(
    'id = "c"\ntitle = "15 jours"\nkind = "response"\nstop = ["answered"]\n'
    'target = "15 jours calendaires"\n',
    'id = "a"\ntitle = "accusé"\nkind = "response"\nstop = ["acknowledged", "holding_reply"]\n'
    'target = "2 jours ouvrés"\n',
)


def test_a_contact_closed_without_an_answer_does_not_read_still_running() -> None:
    """The timer stays overdue (a closure is no answer); its verdict says it was closed."""
    engine = SlaEngine(RESPONSE, "fr", clock=lambda: _at(12, 31))
    _record(engine, "K", [("received", _at(9, 1, 9, 42, 3)), ("closed", _at(9, 1, 10, 15, 3))])
    timers = {t.engagement_id: t for t in engine.timers("K", now=_at(12, 31))}
    assert timers["c"].state.value == "overdue"
    fr = engine.explain("K", "c", now=_at(12, 31))
    verdict = fr.splitlines()[-1]
    assert "toujours en cours" not in fr
    assert verdict.startswith(
        "Verdict : clos le lundi 1er septembre 2025 à 10:15:03 (UTC+02:00) sans réponse : "
        "la clôture n'arrête pas ce délai, expiré le mercredi 17 septembre 2025"
    )
    assert "toujours compté au mercredi 31 décembre 2025" in verdict
    assert verdict.endswith("engagement non tenu.")
    en = engine.explain("K", "c", now=_at(12, 31), lang="en").splitlines()[-1]
    assert en.startswith(
        "Verdict: closed on Monday 1 September 2025 at 10:15:03 (UTC+02:00) without an answer: "
        "the closure does not stop this delay, which expired on Wednesday 17 September 2025"
    )
    assert "still running" not in en
    assert en.endswith("engagement not kept.")
    # The awaited event is the engagement's own stop events.
    ack = engine.explain("K", "a", now=_at(12, 31))
    assert "sans accusé de réception ni réponse d'attente" in ack
    ack_en = engine.explain("K", "a", now=_at(12, 31), lang="en")
    assert "without an acknowledgement or a holding reply" in ack_en


def test_a_closure_before_the_expiry_is_said_with_the_running_status() -> None:
    engine = SlaEngine(RESPONSE, "fr", clock=lambda: _at(12, 31))
    _record(engine, "K", [("received", _at(9, 1, 9)), ("closed", _at(9, 2, 10))])
    fr = engine.explain("K", "c", now=_at(9, 3))
    assert (
        "Clos le mardi 2 septembre 2025 à 10:00 (UTC+02:00) sans réponse : la clôture "
        "n'arrête pas ce délai, qui reste compté.\nSituation au" in fr
    )
    en = engine.explain("K", "c", now=_at(9, 3), lang="en")
    assert "Closed on Tuesday 2 September 2025 at 10:00 (UTC+02:00) without an answer" in en


def test_an_answered_then_closed_contact_reads_as_before() -> None:
    engine = SlaEngine(RESPONSE, "fr", clock=lambda: _at(12, 31))
    _record(engine, "K", [("received", _at(9, 1, 9)), ("answered", _at(9, 2, 10)),
                          ("closed", _at(9, 3, 10))])  # fmt: skip
    fr = engine.explain("K", "c", now=_at(12, 31))
    assert "sans réponse" not in fr
    assert fr.splitlines()[-1].startswith("Verdict : arrêté le mardi 2 septembre 2025")


def test_a_suspension_the_engagement_does_not_pause_on_is_said_to_change_nothing() -> None:
    """C000088 of the sample: suspended, resumed, counted straight through without a word."""
    engine = SlaEngine(RESPONSE, "fr", clock=lambda: _at(12, 31))
    _record(engine, "S", [("received", _at(9, 9, 14, 50)), ("suspended", _at(9, 10, 15, 41)),
                          ("resumed", _at(9, 22, 17, 45)),
                          ("answered", _at(9, 23, 17, 7))])  # fmt: skip
    fr = engine.explain("S", "c", now=_at(12, 31))
    assert (
        "La suspension du mercredi 10 septembre 2025 à 15:41 (UTC+02:00) au lundi 22 septembre "
        "2025 à 17:45 (UTC+02:00) n'arrête pas le compte de cet engagement : le catalogue ne "
        "lui donne pas de règle de pause ; le délai court sans interruption." in fr
    )
    en = engine.explain("S", "c", now=_at(12, 31), lang="en")
    assert (
        "The suspension from Wednesday 10 September 2025 at 15:41 (UTC+02:00) to Monday 22 "
        "September 2025 at 17:45 (UTC+02:00) does not stop this engagement's count: the "
        "catalogue gives it no pause rule; the delay runs straight through it." in en
    )
    # A suspension still open, and one after the answer (past the count: not named).
    _record(engine, "T", [("received", _at(9, 9, 14, 50)), ("suspended", _at(9, 10, 15, 41))])
    assert "La suspension commencée le mercredi 10 septembre 2025" in engine.explain(
        "T", "c", now=_at(9, 12)
    )
    _record(engine, "U", [("received", _at(9, 9)), ("answered", _at(9, 10)),
                          ("suspended", _at(9, 11))])  # fmt: skip
    assert "n'arrête pas le compte" not in engine.explain("U", "c", now=_at(9, 12))


def test_a_suspension_the_engagement_pauses_on_gets_no_such_line() -> None:
    paused = _catalogue(
        'id = "p"\ntitle = "p"\nkind = "response"\nstop = ["answered"]\npause = "suspended"\n'
        'target = "10 jours ouvrés"\n'
    )
    engine = SlaEngine(paused, "fr", clock=lambda: _at(12, 31))
    _record(engine, "S", [("received", _at(9, 9)), ("suspended", _at(9, 10)),
                          ("resumed", _at(9, 22)), ("answered", _at(9, 23))])  # fmt: skip
    assert "n'arrête pas le compte" not in engine.explain("S", "p", now=_at(12, 31))


# -- names ----------------------------------------------------------------------------


def test_school_holidays_are_in_lower_case_inside_a_sentence() -> None:
    received = dt.datetime(2026, 2, 13, 17, 30, tzinfo=PARIS)
    text = sla_engine.deadline(received, "3 jours scolaires", "fr+B").explain()
    assert "non comptés (vacances d'hiver, zone B)" in text
    assert "Hiver" not in text
    assert french_name("Vacances de Printemps") == "vacances de printemps"
    assert french_name("Vacances d'Été") == "vacances d'été"
    assert french_name("Vacances d'Été austral") == "vacances d'été austral"
    assert french_name("Vacances d'Hiver austral") == "vacances d'hiver austral"
    assert french_name("Grandes Vacances") == "grandes vacances"
    assert french_name("Vacances de Février") == "vacances de février"
    # Feasts keep their capital.
    assert french_name("Vacances de la Toussaint") == "vacances de la Toussaint"
    assert french_name("Pont de l'Ascension") == "pont de l'Ascension"
    assert french_name("Vacances de Noël") == "vacances de Noël"
    reunion = dt.datetime(2025, 7, 3, 17, 30, tzinfo=ZoneInfo("Indian/Reunion"))
    austral = sla_engine.deadline(reunion, "3 jours scolaires", "fr-974+Réunion").explain()
    assert "(vacances d'hiver austral, zone Réunion)" in austral


def test_the_sample_register_contracts_and_elides_de() -> None:
    assert school_name("Le Blanc") == "École du Blanc"
    assert school_name("Les Cabannes") == "École des Cabannes"
    assert school_name("Ingrandes") == "École d'Ingrandes"
    assert school_name("Azay-le-Ferron") == "École d'Azay-le-Ferron"
    assert school_name("Ciron") == "École de Ciron"
    assert school_name("Saint-Gaultier") == "École de Saint-Gaultier"


def test_reviews_name_jours_ouvrables_in_english_from_the_same_labels() -> None:
    """The review's target and unit columns come from the units' own labels."""
    from sla_engine._report import _target_label, _unit_in

    catalogue = _catalogue(
        'id = "o"\ntitle = "o"\nkind = "response"\nstop = ["answered"]\n'
        'target = "2 jours ouvrables"\n'
    )
    engagement = catalogue.engagements[0]
    assert _target_label(engagement, "en") == "2 working days (Monday to Saturday)"
    assert _target_label(engagement, "fr") == "2 jours ouvrables"
    assert _unit_in("jours ouvrables", "en") == "working days (Monday to Saturday)"
    assert _unit_in("jours ouvrés", "en") == "business days"


def test_a_suspended_contact_closed_without_an_answer_reads_paused_not_counted() -> None:
    """Received, suspended, closed: the timer stays paused, and the closure's line says so
    instead of « qui reste compté » above « en pause »."""
    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: _at(12, 31))
    _record(
        engine,
        "P",
        [
            ("received", _at(10, 6, 9)),
            ("suspended", _at(10, 7, 9)),
            ("closed", _at(10, 8, 10)),
        ],
    )
    timers = {t.engagement_id: t for t in engine.timers("P", now=_at(10, 30))}
    assert timers["email-5"].state.value == "paused"
    fr = engine.explain("P", "email-5", now=_at(10, 30))
    assert "la clôture n'arrête pas ce délai, qui reste suspendu.\nSituation au" in fr
    assert "qui reste compté" not in fr
    en = engine.explain("P", "email-5", now=_at(10, 30), lang="en")
    assert "the closure does not stop this delay, which stays paused.\nStatus on" in en


def test_the_reviews_target_key_keeps_its_form_for_a_fractional_amplitude() -> None:
    """The JSON ``target`` compares reviews across versions: « 8.5 h », as before; the
    form for people is « 8 h 30 »."""
    phone = parse_catalogue(PHONE, source="test").engagements[0]
    assert phone.obligation is not None
    half = attrs.evolve(phone, obligation=attrs.evolve(phone.obligation, amplitude=8.5))
    assert sla_engine._obligations.obligation_target(half, "fr", key=True) == (
        "8.5 h par jour scolaire"
    )
    assert sla_engine._obligations.obligation_target(half, "fr") == "8 h 30 par jour scolaire"
    assert sla_engine._obligations.obligation_target(phone, "fr", key=True) == (
        "9 h par jour scolaire"
    )
