"""Obligations at the edges the first versions missed.

- A what-if review counts at the log's last event, sites' included, as the
  review itself does (it took the last contact event, and counted every
  obligation months early).
- A working-day availability (``days = "jours ouvrés"``) is owed on every
  working day of the school year, the summer's too (it was owed only from
  the rentrée to the end of classes, yet during the autumn holidays).
- ``check(since=…)`` in a zone whose school years are calendar years
  (Nouvelle-Calédonie) finds its breaches (it asked for « 2025-2026 »).
- A site event in a school year whose rentrée the data does not give is
  refused (stored, it stopped every later review).
- A ``what`` no obligation lists is not stored: dropped when an obligation
  counts the event whatever it says, else refused (« Marie Dupont » as the
  ``what`` of a survey was stored and shown in explanations).
- A site log in Windows-1252, or separated by ``;``, is read row by row:
  a bad line is rejected alone with its number (one such line stopped the
  whole replay, naming no file or line), and ``;`` separates columns (the
  whole file was one rejected row, and the command succeeded); a header
  without the needed columns stops the replay.
- The HTML review counts an obligation's breaches as periods of a site or
  the service, not as contacts (« 34 contact(s) » in a store of none).
- A catalogue refuses an obligation no event could meet: a ``what`` or
  ``line`` no site event can carry, a window that opens after it is due.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla_engine import (
    CatalogueError,
    DataError,
    SiteEvent,
    SiteRuleError,
    SlaEngine,
    parse_catalogue,
)
from sla_engine._report import build_report
from sla_engine._report_html import render_html
from sla_engine._sites import RejectedSiteRow, SiteLogRow, parse_site_register, read_site_log
from sla_engine.cli import main

PARIS = ZoneInfo("Europe/Paris")


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def _figures(report: dict, ids: tuple[str, ...]) -> dict[str, tuple[int, int, int, int]]:  # type: ignore[type-arg]
    return {
        e["id"]: (e["met"], e["late"], e["overdue"], e["pending"])
        for e in report["engagements"]
        if e["id"] in ids
    }


def test_a_what_if_review_counts_at_the_last_event_of_the_whole_log() -> None:
    engine = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(2025, 11, 30, 12))
    engine.register_sites([("E1", "École A")])
    engine.record_many(
        [
            {"event_id": "1", "contact_id": "C-1", "type": "received",
             "occurred_at": _at(2025, 9, 2, 10), "channel": "courriel"},
            {"event_id": "2", "contact_id": "C-1", "type": "answered",
             "occurred_at": _at(2025, 9, 3, 10)},
        ]
    )  # fmt: skip
    engine.record_site_events(
        [
            SiteEvent("v1", "visited", _at(2025, 9, 10, 10), site="E1", what="passage"),
            SiteEvent("v2", "visited", _at(2025, 10, 8, 10), site="E1", what="IEN"),
        ]
    )
    ids = ("visit-after-rentree", "ien-visit-before-toussaint", "website-weekly")
    review = build_report(engine)
    same_rules = build_report(engine, calendar_spec=engine.default_calendar)
    assert review["as_of"] == same_rules["as_of"] == "2025-10-08T10:00:00+02:00"
    assert same_rules["what_if"] is True
    assert _figures(same_rules, ids) == _figures(review, ids)
    assert _figures(review, ids)["ien-visit-before-toussaint"] == (1, 0, 0, 0)


PHONE_TEXT = """
[catalogue]
id = "d"
title = "t"
version = "1"
calendar = "fr+B"

[[engagement]]
id = "phone"
title = "Accueil téléphonique 9 heures par jour ouvré"
source = "tests/test_obligation_edges.py"
kind = "availability"
per = "service"
line = "téléphone"
amplitude = "9 heures"
days = "jours ouvrés"
"""
PHONE = parse_catalogue(PHONE_TEXT, source="test")


def test_a_working_day_availability_is_owed_in_the_summer_too() -> None:
    now = _at(2026, 8, 31, 20)
    engine = SlaEngine(PHONE, clock=lambda: now)
    events = []
    for day in range(29, 31):  # staffed 8:00-17:00 on Monday 29 and Tuesday 30 June
        opened, closed = _at(2026, 6, day, 8), _at(2026, 6, day, 17)
        events += [
            SiteEvent(f"o{day}", "opened", opened, what="téléphone"),
            SiteEvent(f"c{day}", "closed", closed, what="téléphone"),
        ]
    events += [  # one hour on Friday 28 August
        SiteEvent("o-aug", "opened", _at(2026, 8, 28, 8), what="téléphone"),
        SiteEvent("c-aug", "closed", _at(2026, 8, 28, 9), what="téléphone"),
    ]
    assert engine.record_site_events(events).recorded == 6
    timers = {t.due_date: t for t in engine.obligation_timers(now) if t.engagement_id == "phone"}
    assert timers[dt.date(2026, 6, 29)].state.value == "met"
    # Working days of July and August (14 July and 15 August are holidays)
    # are owed, with no hour open; Friday 28 August had one.
    summer = [d for d in timers if dt.date(2026, 7, 4) <= d <= dt.date(2026, 8, 31)]
    assert len(summer) == 40
    assert dt.date(2026, 7, 14) not in timers
    assert (timers[dt.date(2026, 8, 28)].state.value, timers[dt.date(2026, 8, 28)].measured) == (
        "late",
        1.0,
    )
    assert timers[dt.date(2026, 7, 6)].state.value == "late"
    # The autumn holidays' working days were owed before, and still are.
    assert timers[dt.date(2025, 10, 20)].state.value == "late"
    # Each day belongs to one school year: 1 August 2025 to 31 July 2026, then on.
    assert min(timers) == dt.date(2025, 8, 1)


def test_check_since_finds_breaches_where_school_years_are_calendar_years() -> None:
    catalogue = parse_catalogue(
        """
[catalogue]
id = "nc"
title = "Vice-rectorat"
version = "1"
calendar = "fr-NC+Nouvelle-Calédonie"

[[engagement]]
id = "web"
title = "Mise à jour hebdomadaire"
source = "tests/test_obligation_edges.py"
kind = "recurring"
per = "service"
event = "published"
every = "week"
""",
        source="test",
    )
    noumea = ZoneInfo("Pacific/Noumea")
    now = dt.datetime(2025, 3, 17, 9, tzinfo=noumea)
    engine = SlaEngine(catalogue, clock=lambda: now)
    published = dt.datetime(2025, 3, 4, 10, tzinfo=noumea)
    engine.record_site_events([SiteEvent("p1", "published", published)])
    alerts = engine.check(now, since=dt.datetime(2025, 3, 10, 9, tzinfo=noumea))
    assert [(a.kind, a.timer.period) for a in alerts] == [("breach", "2025-W11")]


def test_a_site_event_in_a_school_year_without_its_rentree_is_refused() -> None:
    engine = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(2025, 11, 30, 12))
    engine.register_sites([("E1", "École A")])
    # Zone B's data begins with the autumn holidays of 2017: no rentrée 2017.
    early = SiteEvent("old", "visited", _at(2017, 11, 6, 10), site="E1", what="IEN")
    with pytest.raises(SiteRuleError, match="does not give the rentrée and the end of the school"):
        engine.record_site_event(early)
    result = engine.record_site_events(
        [early, SiteEvent("v2", "visited", _at(2025, 10, 8, 10), site="E1", what="IEN")],
        atomic=False,
    )
    assert (result.recorded, [r.error.code for r in result.rejected]) == (1, ["outside_calendar"])
    review = build_report(engine, as_of=_at(2025, 11, 1))
    assert _figures(review, ("ien-visit-before-toussaint",)) == {
        "ien-visit-before-toussaint": (1, 0, 0, 0)
    }


def test_a_what_no_obligation_lists_is_not_stored() -> None:
    now = _at(2026, 6, 20, 12)
    engine = SlaEngine("qualicirco", clock=lambda: now)
    engine.register_sites([("E1", "École A")])
    # « courteous-reception » counts surveys whatever they say: the word goes.
    survey = SiteEvent("s1", "surveyed", _at(2026, 6, 10, 10), what="Marie Dupont")
    assert engine.record_site_events([survey]).recorded == 1
    stored = [e for events in engine.site_histories().values() for e in events]
    assert [(e.event_id, e.what) for e in stored] == [("s1", None)]
    explanation = engine.explain_obligation(None, "courteous-reception", now=now, lang="en")
    assert "dupont" not in explanation.lower()
    assert "engagement kept" in explanation
    # Every visit obligation lists its words: another one is refused, unrepeated.
    visit = SiteEvent("v1", "visited", _at(2026, 6, 10, 10), site="E1", what="Marie Dupont")
    with pytest.raises(SiteRuleError, match="is not one of the words") as refused:
        engine.record_site_event(visit)
    assert "dupont" not in str(refused.value).lower()
    assert (
        engine.record_site_event(
            SiteEvent("v2", "visited", _at(2026, 6, 11, 10), site="E1", what="IEN")
        ).value
        == "recorded"
    )


def test_a_site_log_is_read_row_by_row_whatever_its_bytes_and_separator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        b"event_id,site,type,occurred_at,what\n"
        b"S1,E1,visited,2025-09-03T10:00:00+02:00,passage\n"
        b"S2,E1,visited,2025-10-08T10:00:00+02:00,IEN \xe9cole\n"
        b"S3,E1,visited,2025-10-09T10:00:00+02:00,IEN\n"
    )
    rows = list(read_site_log(latin))
    assert [(type(r).__name__, r.line) for r in rows] == [
        ("SiteLogRow", 2),
        ("RejectedSiteRow", 3),
        ("SiteLogRow", 4),
    ]
    rejected = rows[1]
    assert isinstance(rejected, RejectedSiteRow)
    assert (rejected.source, rejected.reason) == (str(latin), "not valid UTF-8 text")

    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text(
        "\ufeffevent_id;site;type;occurred_at;what\n"
        "S4;E1;visited;2025-09-04T10:00:00+02:00;passage\n",
        encoding="utf-8",
    )
    (row,) = read_site_log(semicolons)
    assert isinstance(row, SiteLogRow)
    assert (row.line, row.event.event_id, row.event.what) == (2, "S4", "passage")

    register = tmp_path / "register.csv"
    register.write_text("id;name\nE1;École A\n", encoding="utf-8")
    assert parse_site_register(register.read_text()).sites == (("E1", "École A"),)
    store = tmp_path / "s.db"
    rejects = tmp_path / "rejects.csv"
    command = ["replay", "--catalogue", "qualicirco", "--calendar", "fr+B", "--store", str(store)]
    command += ["--sites", str(register), "--rejects", str(rejects)]
    assert main([*command, "--site-log", str(latin), "--site-log", str(semicolons)]) == 0
    assert "4 rows read: 3 recorded, 0 already recorded, 1 rejected" in capsys.readouterr().out
    assert rejects.read_text(encoding="utf-8").splitlines()[1] == (
        f"{latin},3,,,not valid UTF-8 text"
    )

    headless = tmp_path / "headless.csv"
    headless.write_text("S1,E1,visited,2025-09-03T10:00:00+02:00,passage\n", encoding="utf-8")
    with pytest.raises(DataError, match="the header has no column 'event_id', 'type'"):
        list(read_site_log(headless))
    assert main([*command, "--site-log", str(headless)]) == 2


def test_the_html_review_does_not_count_obligations_as_contacts() -> None:
    engine = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(2025, 11, 30, 12))
    engine.register_sites([("E1", "École A"), ("E2", "École B")])
    visit = SiteEvent("v2", "visited", _at(2025, 10, 8, 10), site="E1", what="IEN")
    engine.record_site_events([visit])
    engine.record(
        {"event_id": "1", "contact_id": "C-1", "type": "received",
         "occurred_at": _at(2025, 10, 1, 10), "channel": "courriel"}
    )  # fmt: skip
    review = build_report(engine, as_of=_at(2025, 10, 20))
    contacts = [b for b in review["breaches"] if b["contact_id"] == "C-1"]
    obligations = [b for b in review["breaches"] if b["contact_id"] != "C-1"]
    assert contacts
    assert obligations
    text = render_html(review)
    section = text[text.index('<section id="breaches-section">') :]
    assert len(contacts) == 1  # « 1 contact », in the singular
    assert "1 contact : " in section
    assert len(obligations) >= 2
    assert f"{len(obligations)} obligations d'un site ou du service" in section
    assert '<th scope="col">contact, site ou service</th>' in section


def _scheduled(keys: str) -> str:
    return f"""
[catalogue]
id = "d"
title = "t"
version = "1"
calendar = "fr+B"

[[engagement]]
id = "visit"
title = "Visite"
source = "tests/test_obligation_edges.py"
kind = "scheduled"
per = "site"
event = "visited"
{keys}
"""


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            'due = "veille:Toussaint"\nwhat = ["IEN", "site web (accueil)"]',
            r"what 'site web \(accueil\)' is not a word a site event's what can hold",
        ),
        (
            'opens = "début:Noël"\ndue = "veille:Toussaint"',
            r"opens \(début:Noël: 2018-12-23\) after it is due \(veille:Toussaint: 2018-10-19\) "
            r"in 2018-2019",
        ),
    ],
)
def test_a_catalogue_refuses_an_obligation_no_event_could_meet(keys: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        parse_catalogue(_scheduled(keys), source="test")


def test_an_availability_line_must_be_a_word_an_event_can_carry() -> None:
    text = PHONE_TEXT.replace('line = "téléphone"', 'line = "ligne 05.49.00.00.00 / standard"')
    with pytest.raises(CatalogueError, match=r"line 'ligne 05\.49.* is not a word"):
        parse_catalogue(text, source="test")
    # A window that opens before it is due, every year: accepted.
    parse_catalogue(_scheduled('opens = "rentrée"\ndue = "veille:Toussaint"'), source="test")
