"""The reviews read right for people, in French and English, and programs still get codes.

Found by an audit of the district's review:

- French reviews showed channels and categories as codes (« email »,
  « complaint ») where ``explain`` says « courriel », « réclamation ».
- An obligation's breach showed its internal cycle number (2025172), which
  ``explain-obligation --period`` does not take, instead of its period.
- A what-if's CSV carried no mark: read alone, it passed for the reference
  review.
- ``--format md --by …`` printed the group table only, without the table
  per engagement that the HTML and the JSON carry.
- The French histogram read « 1 jours calendaires : 22 contact(s) », and
  French lists of months « …au total); oct. » without the space French
  puts before « ; ».
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from sla_engine import SiteEvent, SlaEngine
from sla_engine._report import build_report, render_csv, render_markdown
from sla_engine._report_html import render_html
from sla_engine._vocabulary import label

from .conftest import REPO

PARIS = ZoneInfo("Europe/Paris")
SAMPLE = REPO / "docs" / "examples" / "sample-report.json"


def _at(year: int, month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=PARIS)


def _contacts() -> SlaEngine:
    """Three requests under qualicirco, each on its channel and of its category."""
    engine = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(2025, 12, 1))
    received = [
        ("A", "email", "information"),
        ("B", "letter", "complaint"),
        ("C", "counter", "appointment"),
    ]
    engine.record_many(
        {
            "event_id": f"r{contact}",
            "contact_id": contact,
            "type": "received",
            "occurred_at": _at(2025, 11, 3),
            "channel": channel,
            "category": category,
        }
        for contact, channel, category in received
    )
    return engine


def _rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=delimiter))


@pytest.fixture(scope="module")
def french() -> dict[str, Any]:
    return build_report(_contacts(), by=["channel", "category"])


class TestChannelAndCategoryWords:
    """French reviews say « courriel », « demande d'information », as explain does."""

    PAIRS: ClassVar[list[tuple[str, str]]] = [
        ("email", "information"),
        ("letter", "complaint"),
        ("counter", "appointment"),
    ]

    def test_the_words_are_explains(self) -> None:
        # One vocabulary: the review's words are explain's (not a second table).
        assert [(label(c, "fr"), label(k, "fr")) for c, k in self.PAIRS] == [
            ("courriel", "demande d'information"),
            ("courrier", "réclamation"),
            ("accueil", "rendez-vous"),
        ]

    def test_markdown(self, french: dict[str, Any]) -> None:
        text = render_markdown(french)
        for channel, category in self.PAIRS:
            assert f"| {label(channel)} | {label(category)} |" in text
            assert f"| {channel} | {category} |" not in text

    def test_csv_and_spreadsheet(self, french: dict[str, Any]) -> None:
        # The same table, in the review's language as its headers are.
        sheet = {tuple(r[:2]) for r in _rows(render_csv(french, spreadsheet=True), ";")}
        plain = {tuple(r[:2]) for r in _rows(render_csv(french))}
        for cells in (sheet, plain):
            assert ("canal", "catégorie") in cells
            for channel, category in self.PAIRS:
                assert (label(channel), label(category)) in cells
                assert (channel, category) not in cells

    def test_json_keeps_the_codes(self, french: dict[str, Any]) -> None:
        groups = {(g["by"]["channel"], g["by"]["category"]) for g in french["groups"]}
        assert set(self.PAIRS) <= groups

    def test_html_breakdown(self, french: dict[str, Any]) -> None:
        page = render_html(french)
        groups = page[page.index('<table id="groups"') :]
        groups = groups[: groups.index("</table>")]
        assert '<td class="k-channel">courriel</td>' in groups
        assert '<td class="k-category">demande d&#x27;information</td>' in groups
        assert ">email<" not in groups
        assert ">complaint<" not in groups

    def test_english_keeps_the_english_words(self) -> None:
        english = build_report(_contacts(), by=["channel", "category"], lang="en")
        assert "| email | information |" in render_markdown(english)
        assert _rows(render_csv(english))[0][:2] == ["channel", "category"]
        assert {tuple(r[:2]) for r in _rows(render_csv(english))} >= set(self.PAIRS)


@pytest.fixture(scope="module")
def obligations() -> tuple[SlaEngine, dt.datetime, dict[str, Any]]:
    """A school visited late, as of 1 November 2025: days, weeks and a year in breach.

    The phone line opened once, for a few hours: the service has events (an
    explanation of a service without any is refused, whatever the review says).
    """
    engine = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(2025, 11, 30))
    engine.register_sites([("E1", "École A")])
    engine.record_site_events(
        [
            SiteEvent("v", "visited", _at(2025, 10, 8), "E1", "IEN"),
            SiteEvent("o", "opened", _at(2025, 9, 1, 9), None, "téléphone"),
            SiteEvent("c", "closed", _at(2025, 9, 1, 12), None, "téléphone"),
        ]
    )
    as_of = _at(2025, 11, 1, 0)
    return engine, as_of, build_report(engine, as_of=as_of)


class TestObligationPeriods:
    """A breach of an obligation names its period, as explain-obligation takes it."""

    def test_json_has_the_period_next_to_the_cycle(
        self, obligations: tuple[SlaEngine, dt.datetime, dict[str, Any]]
    ) -> None:
        report = obligations[2]
        by_engagement = {b["engagement"]: b for b in report["breaches"]}
        assert list(by_engagement["phone-reception"]) == [
            "engagement", "contact_id", "cycle", "period", "state", "due_date", "stopped_at",
        ]  # fmt: skip
        periods = {b["engagement"]: b["period"] for b in report["breaches"]}
        assert periods["visit-after-rentree"] == "2025-2026"
        assert re.fullmatch(r"2025-W\d\d", periods["website-weekly"])
        phone = [b for b in report["breaches"] if b["engagement"] == "phone-reception"]
        # A day's line: its period is the day, the cycle only a number in the year.
        assert phone[0]["cycle"] == 2025000
        assert [b["period"] for b in phone] == [b["due_date"] for b in phone]

    def test_explain_obligation_takes_each_period(
        self, obligations: tuple[SlaEngine, dt.datetime, dict[str, Any]]
    ) -> None:
        engine, as_of, report = obligations
        seen = set()
        for b in report["breaches"]:
            if b["engagement"] in seen:
                continue
            seen.add(b["engagement"])
            site = None if b["contact_id"] == "service" else b["contact_id"]
            text = engine.explain_obligation(site, b["engagement"], b["period"], now=as_of)
            assert f"{b['period']}." in text.splitlines()[1]

    def test_html_shows_periods_not_cycles(
        self, obligations: tuple[SlaEngine, dt.datetime, dict[str, Any]]
    ) -> None:
        report = obligations[2]
        page = render_html(report)
        table = page[page.index('<table id="breaches"') :]
        assert '<th scope="col">cycle ou période</th>' in table
        for b in report["breaches"]:
            assert f">{b['cycle']}<" not in table
            assert f'<span class="code">{b["period"]}</span>' in table
        english = render_html(build_report(obligations[0], as_of=obligations[1], lang="en"))
        assert '<th scope="col">cycle or period</th>' in english

    def test_a_contacts_breach_keeps_its_cycle(self) -> None:
        report = json.loads(SAMPLE.read_text(encoding="utf-8"))
        page = render_html(report)
        table = page[page.index('<table id="breaches"') :]
        assert '<th scope="col" class="num">cycle</th>' in table
        assert '<td class="num">0</td>' in table


@pytest.fixture(scope="module")
def engine() -> SlaEngine:
    return _contacts()


class TestWhatIfCsv:
    """A what-if's CSV says so on every row, in a first column."""

    def test_csv_and_spreadsheet(self, engine: SlaEngine) -> None:
        other = engine.calendar_for("fr+A")
        for lang, name, word in (("fr", "simulation", "oui"), ("en", "what-if", "yes")):
            report = build_report(engine, calendar_spec=other, lang=lang)
            assert report["what_if"] is True
            plain = _rows(render_csv(report))
            assert plain[0][0] == name
            assert {r[0] for r in plain[1:]} == {word}
            sheet = _rows(render_csv(report, spreadsheet=True), ";" if lang == "fr" else ",")
            assert sheet[0][0] == name
            assert {r[0] for r in sheet[1:]} == {word}

    def test_the_stores_own_review_has_no_such_column(self, engine: SlaEngine) -> None:
        rows = _rows(render_csv(build_report(engine)))
        assert rows[0][0] == "engagement"


class TestMarkdownCarriesBothTables:
    def test_grouped(self) -> None:
        report = build_report(_contacts(), by=["channel"])
        text = render_markdown(report)
        assert "## Résultats par engagement\n" in text
        assert "## Détail par canal\n" in text
        assert text.index("| engagement | intitulé |") < text.index("| canal | total |")
        for entry in report["engagements"]:
            assert f"| {entry['id']} | " in text
        english = render_markdown(build_report(_contacts(), by=["channel"], lang="en"))
        assert "## Results per engagement\n" in english
        assert "## Breakdown by channel\n" in english

    def test_ungrouped_is_one_table(self) -> None:
        text = render_markdown(build_report(_contacts()))
        assert "##" not in text
        assert text.count("| engagement | intitulé |") == 1


class TestWording:
    @staticmethod
    def _histogram_report(lang: str) -> dict[str, Any]:
        report: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
        report["lang"] = lang
        (first, *_) = [e for e in report["engagements"] if e["delay"]["histogram"]]
        first["delay"] = {
            "unit": "jours calendaires",
            "count": 23,
            "median": 1,
            "p90": 2,
            "histogram": [{"value": 1, "count": 22}, {"value": 2, "count": 1}],
        }
        return report

    @staticmethod
    def _titles(page: str) -> list[str]:
        return re.findall(r'<rect class="hist"[^>]*><title>([^<]*)</title>', page)

    def test_histogram_agrees_in_number(self) -> None:
        french = self._titles(render_html(self._histogram_report("fr")))
        # Delays counted, not contacts (a reopened contact has two).
        assert french[:2] == ["1 jour calendaire : 22 délais", "2 jours calendaires : 1 délai"]
        english = self._titles(render_html(self._histogram_report("en")))
        assert english[:2] == ["1 calendar day: 22 delays", "2 calendar days: 1 delay"]
        for page in (render_html(self._histogram_report(lang)) for lang in ("fr", "en")):
            section = page[page.index('id="delays"') : page.index('id="breaches-section"')]
            assert "(s)" not in section

    def test_french_lists_space_before_semicolons(self) -> None:
        report = json.loads(SAMPLE.read_text(encoding="utf-8"))
        labels = re.findall(
            r'aria-label="([^"]*taux de respect par mois[^"]*)"', render_html(report)
        )
        assert labels
        for text in labels:
            assert re.search(r"\S;", text) is None, text
        assert " ; déc. 2025 : " in " ".join(labels)
        english = render_html({**report, "lang": "en"})
        assert "in all); Dec 2025: " in english


def test_a_rate_on_a_half_is_rounded_up_as_a_spreadsheet_rounds_it() -> None:
    from sla_engine._report import _md, format_percent

    assert format_percent(13 / 16, "fr") == "81,3\u00a0%"  # 81.25: was 81,2 (half to even)
    assert format_percent(7 / 16, "en") == "43.8%"
    assert format_percent(2 / 3, "en") == "66.7%"
    assert _md(13 / 16) == "81.3%"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("Accueil | Courrier", "Accueil \\| Courrier"),
        ("C:\\dossiers\\", "C:\\\\dossiers\\\\"),  # read back as written
        ("fin\\|", "fin\\\\\\|"),  # the backslash must not escape the cell's bar
        ("deux\r\nlignes", "deux lignes"),
        ("<b>", "&lt;b&gt;"),
    ],
)
def test_a_markdown_cell_keeps_its_row_whatever_the_text(value: str, cell: str) -> None:
    from sla_engine._report import _md

    assert _md(value) == cell
    # A table row of it has exactly its two cells' three bars, unescaped.
    row = f"| {_md(value)} | 1 |"
    assert len(re.findall(r"(?<!\\)(?:\\\\)*\|", row)) == 3
