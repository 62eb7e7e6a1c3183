"""The reviews say what they count, in the review's language (found by an audit; figures right).

- Section 5 of the HTML review read « 185 contacts » for 185 missed delays
  of 156 contacts (a reopened contact, or one under two engagements, misses
  several), and section 4 « (678 contacts) » for 678 delays.
- An obligation whose period ended without what was owed (no visit at all,
  a week without a publication, a day the phone line fell short) read « en
  retard », which the legend defines as « arrêtés à l'expiration ou après ».
- « (1 contacts) »; ISO dates in French and English text (« situation au :
  2026-08-28T10:48:00+02:00 », « échéance 2025-10-06 », months « 2025-09 »);
  « Bilan annuel » over any period; medians written ``3.0`` and ``3``; a
  spreadsheet's rate with 16 digits; French rows sorted by their English
  codes; a grouped review of an empty period without its table per group;
  plain spaces in « 90 % » and « 9 h », two apostrophes; a unit beside the
  delays of an engagement that counted none.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sla_engine import SlaEngine
from sla_engine._report import build_report, render_csv, render_markdown, table
from sla_engine._report_html import render_html

from .conftest import REPO

PARIS = ZoneInfo("Europe/Paris")
SAMPLE = REPO / "docs" / "examples" / "sample-report.json"


def _at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=PARIS)


def _sample(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    report.update(changes)
    return report


def _event(
    event_id: str, contact: str, kind: str, when: dt.datetime, **more: str
) -> dict[str, Any]:
    return {"event_id": event_id, "contact_id": contact, "type": kind, "occurred_at": when, **more}


def _engine() -> SlaEngine:
    """Under qualicirco: A answered late twice (reopened), B's letter late under two engagements.

    C and E are e-mails answered on time (four delays of email-10: a median
    the mean of two), D an appointment.  No site event: the service's own
    obligations (the phone line, the web site) are owed all the same, and
    none is kept.
    """
    engine = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(2026, 2, 27))
    email = {"channel": "email", "category": "information"}
    engine.record_many(
        [
            _event("a1", "A", "received", _at(2025, 11, 3), **email),
            _event("a2", "A", "answered", _at(2025, 12, 1)),
            _event("a3", "A", "reopened", _at(2025, 12, 2)),
            _event("a4", "A", "answered", _at(2026, 1, 26)),
            _event("b1", "B", "received", _at(2025, 11, 3), channel="letter", category="complaint"),
            _event("b2", "B", "answered", _at(2025, 12, 15)),
            _event("c1", "C", "received", _at(2025, 11, 3), **email),
            _event("c2", "C", "answered", _at(2025, 11, 5)),
            _event("e1", "E", "received", _at(2025, 11, 3), **email),
            _event("e2", "E", "answered", _at(2025, 11, 6)),
            _event(
                "d1", "D", "received", _at(2025, 11, 3), channel="counter", category="appointment"
            ),
            _event("d2", "D", "answered", _at(2025, 11, 6)),
        ]
    )
    return engine


@pytest.fixture(scope="module")
def engine() -> SlaEngine:
    return _engine()


@pytest.fixture(scope="module")
def french(engine: SlaEngine) -> dict[str, Any]:
    return build_report(engine, as_of=_at(2026, 2, 27))


@pytest.fixture(scope="module")
def english(engine: SlaEngine) -> dict[str, Any]:
    return build_report(engine, as_of=_at(2026, 2, 27), lang="en")


def _text(page: str) -> str:
    """The page's text, its tags and its styles removed, white space squeezed."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    page = page.replace("&#x27;", "'").replace("&quot;", '"').replace("&amp;", "&")
    return re.sub(r"[ \t\n\r]+", " ", page)


def _section(page: str, ident: str) -> str:
    start = page.index(f'id="{ident}"')
    end = page.find("</section>", start)
    return page[start:end]


# -- 1. what section 4 and section 5 count ------------------------------------------------


class TestDelaysNotContacts:
    def test_missed_delays_for_so_many_contacts(
        self, french: dict[str, Any], english: dict[str, Any]
    ) -> None:
        contacts = [b for b in french["breaches"] if b["contact_id"] in ("A", "B")]
        assert len(contacts) == 4  # A twice (reopened), B by e-mail and by letter
        text = _text(_section(render_html(french), "breaches-section"))
        assert "4 délais manqués, pour 2 contacts : 0 en dépassement, 4 en retard." in text
        text = _text(_section(render_html(english), "breaches-section"))
        assert "4 missed delays, for 2 contacts: 0 overdue, 4 late." in text

    def test_one_missed_delay_agrees(self) -> None:
        report = _sample()
        report["breaches"] = report["breaches"][:1]
        assert "1 délai manqué, pour 1 contact : " in _text(render_html(report))
        report["lang"] = "en"
        assert "1 missed delay, for 1 contact: " in _text(render_html(report))

    def test_histogram_counts_delays(self, french: dict[str, Any], english: dict[str, Any]) -> None:
        # email-10: A's two answers (one each cycle), C's and E's.
        (email,) = [e for e in french["engagements"] if e["id"] == "email-10"]
        assert email["delay"]["count"] == 4
        assert "(4 délais)" in _text(_section(render_html(french), "delays"))
        assert "(4 delays)" in _text(_section(render_html(english), "delays"))
        assert "contacts)" not in _text(_section(render_html(french), "delays"))


# -- 2. an obligation not kept is not « late » ---------------------------------------------


class TestNotKept:
    def test_html_breaches_say_not_kept(
        self, french: dict[str, Any], english: dict[str, Any]
    ) -> None:
        weeks = [b for b in french["breaches"] if b["engagement"] == "website-weekly"]
        assert weeks
        assert {(b["state"], b["stopped_at"]) for b in weeks} == {("late", None)}  # JSON: codes
        for report, word, late in (
            (french, "non tenu", "en retard"),
            (english, "not kept", "late"),
        ):
            table = _section(render_html(report), "breaches-section")
            rows = re.findall(r"<tr>(.*?)</tr>", table)
            for row in rows:
                states = re.findall(r'<td class="nowrap">([^<]*)</td>', row)
                if "website-weekly" in row or "phone-reception" in row:
                    assert word in states, row
                elif ">A<" in row or ">B<" in row:
                    assert late in states, row

    def test_summary_and_legend(self, french: dict[str, Any], english: dict[str, Any]) -> None:
        service = [b for b in french["breaches"] if b["contact_id"] == "service"]
        n = sum(b["state"] == "late" for b in service)
        assert n > 100
        # annual-results: the year is not over; nothing is late, every period ended is not kept.
        overdue = len(service) - n
        assert overdue == 1
        page = _text(render_html(french))
        assert f": 1 en dépassement, 0 en retard, {n} non tenues." in page
        assert "non tenus (obligations) : période achevée sans l'événement attendu" in page
        page = _text(render_html(english))
        assert f": 1 overdue, 0 late, {n} not kept." in page
        assert "not kept (obligations): the period ended without the expected event" in page

    def test_an_obligation_done_late_stays_late(self) -> None:
        report = _sample()
        report["engagements"][0]["kind"] = "scheduled"
        first = report["engagements"][0]["id"]
        done = next(b for b in report["breaches"] if b["engagement"] == first)
        done.update(state="late", stopped_at="2025-11-20T10:00:00+01:00")
        report["breaches"] = [done]
        page = _text(render_html(report))
        assert "0 en dépassement, 1 en retard, 0 non tenue." in page

    def test_markdown_says_which_were_not_kept(self, french: dict[str, Any]) -> None:
        text = render_markdown(french)
        counts = {
            e: sum(b["engagement"] == e for b in french["breaches"])
            for e in ("phone-reception", "website-weekly")
        }
        line = next(x for x in text.splitlines() if x.startswith("Non tenus"))
        for engagement, count in counts.items():
            assert f"{engagement} {count}" in line


# -- 3. counts agree with their nouns ---------------------------------------------------------


def test_one_delay_in_the_caption() -> None:
    report = _sample()
    (measured, *_) = [e for e in report["engagements"] if e["delay"]["histogram"]]
    measured["delay"] = {
        "unit": "jours calendaires",
        "count": 1,
        "median": 1,
        "p90": 1,
        "histogram": [{"value": 1, "count": 1}],
    }
    caption = _text(_section(render_html(report), "delays"))
    assert "médiane 1, p90 1 jour calendaire (1 délai)" in caption
    english = _text(_section(render_html({**report, "lang": "en"}), "delays"))
    assert "median 1, p90 1 calendar day (1 delay)" in english


# -- 4. dates as people write them -------------------------------------------------------------


class TestDates:
    def test_markdown(self, engine: SlaEngine) -> None:
        part: dict[str, Any] = {
            "start": dt.date(2025, 11, 1),
            "end": dt.date(2025, 11, 30),
            "as_of": _at(2026, 2, 27),
        }
        text = render_markdown(build_report(engine, **part))
        assert "- situation au : vendredi 27 février 2026 à 10:00 (UTC+01:00)" in text
        assert "- période : du 1er novembre 2025 au 30 novembre 2025" in text
        english = render_markdown(build_report(engine, lang="en", **part))
        assert "- as of: Friday 27 February 2026 at 10:00 (UTC+01:00)" in english
        assert "- period: from 1 November 2025 to 30 November 2025" in english
        assert not re.search(r"\d{4}-\d\d-\d\d", text.split("\n\n")[0])

    def test_html_breaches(self, french: dict[str, Any], english: dict[str, Any]) -> None:
        table = _section(render_html(french), "breaches-section")
        # B's letter: due on 17 November 2025, answered on 15 December 2025 at 10:00.
        assert '<time datetime="2025-12-15T10:00:00+01:00">15 décembre 2025 à 10:00</time>' in (
            table
        )
        # (An obligation's period stays as explain-obligation --period takes it: 2025-09-01.)
        assert re.search(r'nowrap">\d{4}-\d\d-\d\d|>\d{4}-\d\d-\d\d \d\d:\d\d<', table) is None
        table = _section(render_html(english), "breaches-section")
        assert ">15 December 2025 at 10:00</time>" in table

    def test_months_of_groups(self, engine: SlaEngine) -> None:
        report = build_report(engine, by=["month"], as_of=_at(2026, 2, 27))
        text = render_markdown(report)
        assert "| nov. 2025 |" in text
        assert "| 2025-11 |" not in text
        assert '<td class="k-month">nov. 2025</td>' in render_html(report)
        english = build_report(engine, by=["month"], as_of=_at(2026, 2, 27), lang="en")
        assert "| Nov 2025 |" in render_markdown(english)
        # Programs keep the codes.
        assert ["2025-11"] in [r[:1] for r in csv.reader(io.StringIO(render_csv(report)))]


# -- 5. the heading says which period ------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "fr", "en"),
    [
        (
            ("2025-11-01", "2025-11-30"),
            "Bilan du 1er au 30 novembre 2025",
            "Review from 1 to 30 November 2025",
        ),
        (
            ("2025-09-01", "2025-11-30"),
            "Bilan du 1er septembre au 30 novembre 2025",
            "Review from 1 September to 30 November 2025",
        ),
        (
            ("2025-11-03", "2026-01-31"),
            "Bilan du 3 novembre 2025 au 31 janvier 2026",
            "Review from 3 November 2025 to 31 January 2026",
        ),
        (("2025-11-03", "2025-11-03"), "Bilan du 3 novembre 2025", "Review of 3 November 2025"),
        (("2025-08-01", "2026-07-31"), "Bilan annuel 2025-2026", "Annual review 2025-2026"),
        (("2025-01-01", "2025-12-31"), "Bilan annuel 2025", "Annual review 2025"),
        (
            ("2025-09-01", None),
            "Bilan depuis le 1er septembre 2025",
            "Review from 1 September 2025",
        ),
        ((None, "2025-12-31"), "Bilan jusqu'au 31 décembre 2025", "Review until 31 December 2025"),
        ((None, None), "Bilan au 21 décembre 2025", "Review as of 21 December 2025"),
    ],
)
def test_the_heading_names_the_period(
    period: tuple[str | None, str | None], fr: str, en: str
) -> None:
    span = {"from": period[0], "to": period[1]}
    for lang, expected in (("fr", fr), ("en", en)):
        page = render_html(_sample(period=span, lang=lang))
        (kicker,) = re.findall(r'<p class="kicker">([^<]*)</p>', page)
        assert kicker.replace("&#x27;", "'") == expected


# -- 6. one way to write a median, a rate rounded once in a spreadsheet -------------------------


def test_medians_written_one_way(french: dict[str, Any]) -> None:
    (email,) = [e for e in french["engagements"] if e["id"] == "email-10"]
    (rdv,) = [e for e in french["engagements"] if e["id"] == "appointment-10"]
    assert isinstance(email["delay"]["median"], float)  # the JSON's, as computed
    rows = {r[0]: r for r in csv.reader(io.StringIO(render_csv(french)))}
    header = rows["engagement"]
    median, rate = header.index("délai médian"), header.index("taux de respect")
    cells = [rows[e][median] for e in ("email-10", "letter-10", "appointment-10")]
    assert all(re.fullmatch(r"\d+(\.\d+)?", c) and not c.endswith(".0") for c in cells), cells
    assert rows["email-10"][rate] == repr(email["compliance_rate"])  # exact, for programs
    sheet = {
        r[0]: r
        for r in csv.reader(io.StringIO(render_csv(french, spreadsheet=True)[1:]), delimiter=";")
    }
    assert [sheet[e][median] for e in ("email-10", "letter-10", "appointment-10")] == [
        c.replace(".", ",") for c in cells
    ]
    assert sheet["email-10"][rate] == "0,5"  # 2 met of 4 judged
    assert rdv["delay"]["median"] == 3


def test_a_spreadsheet_rate_is_rounded_once() -> None:
    report = _sample()
    report["engagements"][0]["compliance_rate"] = 14 / 17  # 82,35… %: 82,4 % in the reviews
    report["engagements"][1]["compliance_rate"] = 1.0
    report["groups"] = []
    report["by"] = []
    sheet = list(csv.reader(io.StringIO(render_csv(report, spreadsheet=True)[1:]), delimiter=";"))
    rate = sheet[0].index("taux de respect")
    assert sheet[1][rate] == "0,824"
    assert sheet[2][rate] == "1"
    median = sheet[0].index("délai médian")
    assert sheet[1][median] == "4"  # the sample's 4.0
    report["engagements"][0]["delay"]["median"] = 2.5
    sheet = list(csv.reader(io.StringIO(render_csv(report, spreadsheet=True)[1:]), delimiter=";"))
    assert sheet[1][median] == "2,5"
    assert list(csv.reader(io.StringIO(render_csv(report))))[1][median] == "2.5"


# -- 7. the reference says what the output says --------------------------------------------------


def test_the_reference_gives_the_english_target_label(english: dict[str, Any]) -> None:
    labels = {e["id"]: e["target_label"] for e in english["engagements"]}
    assert labels["website-weekly"] == "every school week"
    reference = (REPO / "docs" / "reference" / "report.md").read_text(encoding="utf-8")
    assert "`every school week`" in reference
    assert "each school week" not in reference


# -- 8. French rows in the order of their French words ---------------------------------------------


def test_grouped_rows_sorted_by_their_words(engine: SlaEngine) -> None:
    report = build_report(engine, by=["category"], as_of=_at(2026, 2, 27))
    words = [row[0] for row in table(report)[1] if row[0] is not None]
    assert words == ["demande d'information", "réclamation", "rendez-vous"]
    assert [g["by"]["category"] for g in report["groups"] if g["by"]["category"]] == [
        "appointment",
        "complaint",
        "information",
    ]  # the JSON keeps the codes' order
    text = render_markdown(report)
    assert text.index("| demande d'information |") < text.index("| réclamation |")
    assert text.index("| réclamation |") < text.index("| rendez-vous |")


# -- 9. an empty grouped period keeps its section ------------------------------------------------


def test_an_empty_grouped_period_says_so(engine: SlaEngine) -> None:
    month: dict[str, Any] = {
        "start": dt.date(2026, 8, 1),
        "end": dt.date(2026, 8, 31),
        "as_of": _at(2026, 2, 27),
    }
    report = build_report(engine, by=["service"], **month)
    assert report["groups"] == []
    text = render_markdown(report)
    assert "## Détail par service\n\nRien à détailler sur la période.\n" in text
    page = render_html(report)
    assert '<h3>Détail par service</h3><p class="note">Rien à détailler sur la période.</p>' in page
    english = build_report(engine, by=["service"], lang="en", **month)
    assert "Nothing to break down in the period." in render_markdown(english)
    # A program still gets the table per group, without rows.
    assert list(csv.reader(io.StringIO(render_csv(report)))) == [
        ["service", "total", "tenus", "en retard", "en dépassement", "en cours", "exemptés",
         "taux de respect"],
    ]  # fmt: skip


# -- 10. no-break spaces and one apostrophe --------------------------------------------------------


def test_spaces_and_apostrophes(french: dict[str, Any]) -> None:
    page = render_html(french)
    assert "90\u00a0% de ces durées" in page
    assert "90 %" not in page
    assert "9\u00a0h par jour scolaire" in page
    assert "9 h par" not in page
    assert "9\u00a0h par jour scolaire" in render_markdown(french)
    assert "\u2019" not in page  # ’: the review's texts (and the catalogues') write '
    assert "l'expiration" in page.replace("&#x27;", "'")


# -- 11. a unit only beside delays ---------------------------------------------------------------


def test_no_unit_without_delays(engine: SlaEngine) -> None:
    # A day no request came in: the letters' engagement counted nothing.
    day = dt.date(2025, 11, 4)
    report = build_report(engine, start=day, end=day, as_of=_at(2026, 2, 27))
    (unused,) = [e for e in report["engagements"] if e["id"] == "letter-10"]
    assert unused["total"] == 0
    assert unused["delay"]["unit"] == "jours ouvrés"  # the JSON keeps it
    row = next(x for x in render_markdown(report).splitlines() if x.startswith("| letter-10 |"))
    assert row.endswith("| — | — | — |"), row
    page = render_html(report)
    body = page[page.index("letter-10</span>") :]
    body = body[: body.index("</tr>")]
    assert body.endswith(
        '<td class="num none">—</td><td class="num none">—</td><td class="k-unit">—</td>'
    )
