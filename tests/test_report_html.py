"""Tests for the HTML compliance review (« bilan annuel »).

The page must load nothing, escape everything that comes from the data, speak
French and English, and show the report's own figures.  The last tests open it
in a real headless Chromium (installed by ``scripts/chromium`` when missing):
a screenshot that is not blank, a DOM with the tables and the charts, and a
network log showing that no request left the machine.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import struct
import subprocess
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from sla_engine._delay import Unit
from sla_engine._report import shown_table, table
from sla_engine._report_html import COLOURS, render_html

from .conftest import REPO

SAMPLE = REPO / "docs" / "examples" / "sample-report.json"

# Each payload tries another way out of a text node or an attribute value.
PAYLOADS = (
    "<script>alert(1)</script>",
    '" onmouseover="x',
    "'><img src=x onerror=alert(1)>",
)
HOSTILE = "".join(PAYLOADS)

# What the page may contain: no script, no image, no frame, no link, nothing that loads.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "div", "header", "main", "footer",
    "section", "h1", "h2", "h3", "p", "b", "strong", "span", "small", "code", "time", "dl",
    "dt", "dd", "ul", "li", "table", "thead", "tbody", "tr", "th", "td", "figure",
    "figcaption", "svg", "rect", "line", "text",
}  # fmt: skip
LOADING_ATTRIBUTES = {
    "src", "href", "srcset", "action", "formaction", "poster", "background", "xlink:href",
    "data", "codebase", "ping", "manifest",
}  # fmt: skip


def sample(**changes: Any) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    report.update(changes)
    return report


def hostile_report(lang: str = "fr") -> dict[str, Any]:
    """The sample with the payloads in every text the data can carry."""
    report = sample(lang=lang)
    report["catalogue"] = dict.fromkeys(("id", "title", "version", "fingerprint"), HOSTILE)
    for key in ("calendar", "calendar_version", "generated_by", "as_of"):
        report[key] = HOSTILE
    report["period"] = {"from": HOSTILE, "to": HOSTILE}
    for e in report["engagements"]:
        e["id"] = e["title"] = e["source"] = e["target"] = e["id"] + HOSTILE
        e["delay"]["unit"] = HOSTILE
    report["by"] = ["engagement", "service", "category", "month"]
    for g in report["groups"]:
        g["by"] = {
            "engagement": g["by"]["engagement"] + HOSTILE,
            "service": HOSTILE,
            "category": HOSTILE,
            "month": HOSTILE,
        }
    for r in report["trend"]:
        r["engagement"] += HOSTILE
        r["month"] += HOSTILE
    for b in report["breaches"]:
        for key in ("engagement", "contact_id", "state", "due_date", "stopped_at"):
            b[key] = HOSTILE
    return report


# -- reading the page back -------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    content: list[Element | str] = field(default_factory=list)

    @property
    def children(self) -> list[Element]:
        return [c for c in self.content if isinstance(c, Element)]

    def all_text(self) -> str:
        return "".join(c if isinstance(c, str) else c.all_text() for c in self.content)

    def iter(self, tag: str | None = None) -> Iterator[Element]:
        for child in self.children:
            if tag is None or child.tag == tag:
                yield child
            yield from child.iter(tag)

    def find(self, tag: str, **attrs: str) -> Element:
        found = [e for e in self.iter(tag) if all(e.attrs.get(k) == v for k, v in attrs.items())]
        assert len(found) == 1, f"{len(found)} <{tag} {attrs}>"
        return found[0]

    def has_class(self, name: str) -> bool:
        return name in self.attrs.get("class", "").split()


class _TreeBuilder(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "link", "input", "hr", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]
        self.tags: Counter[str] = Counter()
        self.attributes: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags[tag] += 1
        self.attributes.extend((tag, k, v) for k, v in values.items())
        element = Element(tag, values)
        self.stack[-1].content.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].content.append(data)


def parse(page: str) -> _TreeBuilder:
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    return builder


def squeeze(text: str) -> str:
    """Runs of ASCII white space as one space (no-break spaces are part of the figures)."""
    return re.sub(r"[ \t\n\r\f]+", " ", text).strip()


def cells(row: Element) -> list[str]:
    return [squeeze(c.all_text()) for c in row.children if c.tag in ("td", "th")]


# -- how the page writes numbers (written again here, independently) ------------------


def count(value: Any, lang: str) -> str:
    if value is None:
        return "—"
    value = float(value)
    text = f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}".rstrip("0")
    return text.translate({ord(","): "\u202f", ord("."): ","}) if lang == "fr" else text


def percent(rate: Any, lang: str) -> str:
    if rate is None:
        return "—"
    text = f"{rate * 100:.1f}"
    return text.replace(".", ",") + "\u00a0%" if lang == "fr" else text + "%"


def shown(key: str, value: Any, lang: str) -> str:
    if key == "compliance_rate":
        return percent(value, lang)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return count(value, lang)
    if key == "target" and value == "announced":
        return {"fr": "délai annoncé", "en": "announced delay"}[lang]
    return "—" if value is None else squeeze(str(value))


# -- the page loads nothing ------------------------------------------------------------


class TestSelfContained:
    """The page is one file: nothing to fetch, nothing to run."""

    @pytest.mark.parametrize("lang", ["fr", "en"])
    def test_nothing_loads(self, lang: str) -> None:
        page = render_html(sample(lang=lang, what_if=True))
        tree = parse(page)
        assert set(tree.tags) <= ALLOWED_TAGS, set(tree.tags) - ALLOWED_TAGS
        assert not [a for a in tree.attributes if a[1] in LOADING_ATTRIBUTES]
        lowered = page.lower()
        for needle in ("http://", "https://", "url(", "@import", "<script", "<link", "<img"):
            assert needle not in lowered, needle
        assert not re.search(r"""=\s*["']?\s*//""", page), "protocol-relative URL"

    def test_content_security_policy_forbids_fetching(self) -> None:
        tree = parse(render_html(sample()))
        policy = tree.root.find("meta", **{"http-equiv": "Content-Security-Policy"})
        directives = {d.split()[0]: d.split()[1:] for d in policy.attrs["content"].split("; ")}
        assert directives["default-src"] == ["'none'"]
        assert directives["style-src"] == ["'unsafe-inline'"]
        assert "script-src" not in directives

    def test_one_document(self) -> None:
        page = render_html(sample())
        assert page.startswith("<!DOCTYPE html>\n<html lang=")
        assert page.count("<html") == page.count("</html>") == 1
        assert '<meta charset="utf-8">' in page


# -- escaping ------------------------------------------------------------------------------


class TestEscaping:
    """Every text from the data is escaped, in text, in attributes and in SVG."""

    @pytest.mark.parametrize("lang", ["fr", "en"])
    def test_payloads_never_appear_raw(self, lang: str) -> None:
        page = render_html(hostile_report(lang))
        for payload in PAYLOADS:
            assert payload not in page, payload
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;x&#x27;&gt;" in page

    @pytest.mark.parametrize("lang", ["fr", "en"])
    def test_markup_is_only_ours(self, lang: str) -> None:
        tree = parse(render_html(hostile_report(lang)))
        assert set(tree.tags) <= ALLOWED_TAGS, set(tree.tags) - ALLOWED_TAGS
        assert tree.tags["script"] == tree.tags["img"] == 0
        names = {name for _, name, _ in tree.attributes}
        assert not {n for n in names if n.startswith("on")}, names
        # The payload comes back whole, as text, wherever it was put.
        text = tree.root.all_text()
        assert text.count(HOSTILE) >= 30
        contact_cells = [cells(r)[1] for r in tree.root.find("table", id="breaches").iter("tr")]
        assert contact_cells[1:] == [HOSTILE] * len(hostile_report()["breaches"])

    def test_payloads_in_attribute_values_stay_values(self) -> None:
        tree = parse(render_html(hostile_report()))
        labels = [v for tag, name, v in tree.attributes if name == "aria-label" and tag == "svg"]
        assert labels
        assert all(HOSTILE in label for label in labels)

    def test_the_sample_s_hostile_contact_id(self) -> None:
        report = sample()
        hostile = report["breaches"][-1]["contact_id"]
        assert "<script>" in hostile
        page = render_html(report)
        assert hostile not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;x" in page

    def test_unknown_language_falls_back_to_french(self) -> None:
        page = render_html(sample(lang='"><script>alert(1)</script>'))
        assert page.startswith('<!DOCTYPE html>\n<html lang="fr">')
        assert "<script" not in page


# -- languages and header ---------------------------------------------------------------


class TestLanguages:
    def test_french(self) -> None:
        page = render_html(sample())
        tree = parse(page)
        assert tree.root.find("html").attrs["lang"] == "fr"
        text = tree.root.all_text()
        for label in (
            "Bilan des engagements de service",
            "Bilan au 21 décembre 2025",
            "Résultats par engagement",
            "Taux de respect par engagement",
            "Évolution mensuelle du taux de respect",
            "Répartition des délais",
            "Retards et dépassements",
            "Situation au",
            "tout le journal",
            "dimanche 21 décembre 2025 à 10:00 (UTC+01:00)",
            "taux de respect",
            "en dépassement",
            "identifiant du contact",
        ):
            assert label in text, label
        assert "Simulation" not in text
        assert "Service engagements review" not in text

    def test_english(self) -> None:
        tree = parse(render_html(sample(lang="en")))
        assert tree.root.find("html").attrs["lang"] == "en"
        text = tree.root.all_text()
        for label in (
            "Service engagements review",
            "Review as of 21 December 2025",
            "Results per engagement",
            "Compliance per engagement",
            "Monthly compliance trend",
            "Delay distribution",
            "Late and overdue",
            "As of",
            "whole log",
            "Sunday 21 December 2025 at 10:00 (UTC+01:00)",
            "compliance rate",
            "overdue",
            "contact id",
        ):
            assert label in text, label
        assert "What-if" not in text
        assert "Bilan des engagements" not in text

    @pytest.mark.parametrize(
        ("lang", "notice"),
        [
            ("fr", "Simulation : autres règles que celles du rejeu"),
            ("en", "What-if: other rules than the replay's"),
        ],
    )
    def test_what_if_notice(self, lang: str, notice: str) -> None:
        tree = parse(render_html(sample(lang=lang, what_if=True)))
        (box,) = [d for d in tree.root.iter("div") if d.has_class("whatif")]
        assert box.attrs["role"] == "note"
        assert notice in box.all_text()
        assert notice not in parse(render_html(sample(lang=lang))).root.all_text()

    def test_header_names_catalogue_calendar_and_period(self) -> None:
        report = sample(period={"from": "2025-01-01", "to": "2025-12-31"})
        meta = squeeze(parse(render_html(report)).root.find("dl").all_text())
        catalogue = report["catalogue"]
        for value in (*catalogue.values(), report["calendar"], report["calendar_version"]):
            assert value in meta, value
        assert "du 1er janvier 2025 au 31 décembre 2025" in meta
        assert report["generated_by"] in meta
        english = sample(lang="en", period={"from": "2025-09-01", "to": None})
        assert "from 1 September 2025" in parse(render_html(english)).root.all_text()


# -- the figures ------------------------------------------------------------------------


class TestFigures:
    """The page shows the report's figures, as :func:`table` gives them."""

    @pytest.mark.parametrize("lang", ["fr", "en"])
    def test_engagement_table_matches_table(self, lang: str) -> None:
        report = sample(lang=lang)
        header, rows = shown_table(report, per_group=False)
        assert header == table(report, per_group=False)[0]
        html_table = parse(render_html(report)).root.find("table", id="engagements")
        keys = [
            "engagement", "title", "target", "total", "met", "late", "overdue", "pending",
            "exempt", "compliance_rate", "median", "p90", "unit",
        ]  # fmt: skip
        assert len(header) == len(keys)
        head = cells(next(html_table.find("thead").iter("tr")))
        assert head[0] == f"{header[0]} {header[1]}"
        assert head[1:] == header[2:]
        bodies = list(html_table.iter("tbody"))
        assert len(bodies) == len(rows) == len(report["engagements"])
        for body, row in zip(bodies, rows, strict=True):
            figures, title = [cells(tr) for tr in body.iter("tr")]
            expected = [shown(k, v, lang) for k, v in zip(keys, row, strict=True)]
            assert figures == expected[:1] + expected[2:]
            assert title == [expected[1]]

    def test_every_engagement_s_figures(self) -> None:
        report = sample()
        tree = parse(render_html(report))
        rows = {
            cells(next(body.iter("tr")))[0]: cells(next(body.iter("tr")))
            for body in tree.root.find("table", id="engagements").iter("tbody")
        }
        assert set(rows) == {e["id"] for e in report["engagements"]}
        email = rows["email-5"]
        assert email[2:9] == ["3", "1", "1", "1", "0", "0", "33,3\u00a0%"]
        assert email[9:] == ["4", "6", "jours ouvrés"]
        assert rows["letter-15"][8] == "100,0\u00a0%"
        assert rows["email-urgent"][8] == "—"

    @pytest.mark.parametrize("lang", ["fr", "en"])
    def test_groups_table_matches_table(self, lang: str) -> None:
        report = sample(lang=lang)
        header, rows = shown_table(report)
        assert header == table(report)[0]
        groups = parse(render_html(report)).root.find("table", id="groups")
        trs = list(groups.iter("tr"))
        assert cells(trs[0]) == header
        keys = [*report["by"], "total", "met", "late", "overdue", "pending", "exempt"]
        keys.append("compliance_rate")
        assert [cells(tr) for tr in trs[1:]] == [
            [shown(k, v, lang) for k, v in zip(keys, row, strict=True)] for row in rows
        ]

    def test_no_groups_no_groups_table(self) -> None:
        tree = parse(render_html(sample(groups=[], by=[])))
        assert not [t for t in tree.root.iter("table") if t.attrs.get("id") == "groups"]

    def test_one_bar_per_engagement_with_contacts(self) -> None:
        report = sample()
        tree = parse(render_html(report))
        bars = [s for s in tree.root.iter("svg") if s.has_class("bar")]
        counted = [e for e in report["engagements"] if e["total"] > 0]
        assert len(bars) == len(counted) == 5
        for svg, e in zip(bars, counted, strict=True):
            label = svg.attrs["aria-label"]
            assert label.startswith(e["id"] + " : ")
            assert f"total {e['total']}" in label
            if e["compliance_rate"] is not None:
                assert percent(e["compliance_rate"], "fr") in label
            rects = [r for r in svg.iter("rect") if r.attrs.get("class")]
            assert [r.attrs["class"] for r in rects] == [
                s for s in ("met", "late", "overdue", "pending", "exempt") if e[s]
            ]
            widths = [float(r.attrs["width"]) for r in rects]
            for r, w in zip(rects, widths, strict=True):
                assert w == pytest.approx(548 * e[r.attrs["class"]] / e["total"], abs=0.06)

    def test_trend_charts_and_table(self) -> None:
        report = sample()
        tree = parse(render_html(report))
        charts = [s for s in tree.root.iter("svg") if s.has_class("trend")]
        engagements = list(dict.fromkeys(r["engagement"] for r in report["trend"]))
        assert len(charts) == len(engagements)
        pivot = tree.root.find("table", id="trend-table-1")
        trs = list(pivot.iter("tr"))
        assert cells(trs[0]) == ["engagement", "nov. 2025", "déc. 2025"]
        by_row = {cells(tr)[0]: cells(tr)[1:] for tr in trs[1:]}
        for r in report["trend"]:
            column = ["2025-11", "2025-12"].index(r["month"])
            judged = r["met"] + r["late"] + r["overdue"]  # the rate's denominator
            assert by_row[r["engagement"]][column] == (
                f"{percent(r['compliance_rate'], 'fr')} n = {judged}"
            )
        assert by_row["rings"][0] == "·"  # no contact in November
        ack = next(s for s in charts if s.attrs["aria-label"].startswith("ack,"))
        assert (
            "nov. 2025 : 33,3\u00a0% (2 tenus sur 6 jugés, 6 au total)" in ack.attrs["aria-label"]
        )
        bars = [r for r in ack.iter("rect") if r.has_class("col")]
        assert [float(r.attrs["height"]) for r in bars] == pytest.approx([0.3333 * 88] * 2, 0.01)

    def test_histograms(self) -> None:
        report = sample()
        tree = parse(render_html(report))
        charts = [s for s in tree.root.iter("svg") if s.has_class("histogram")]
        measured = [e for e in report["engagements"] if e["delay"]["histogram"]]
        assert len(charts) == len(measured) == 3
        for svg, e in zip(charts, measured, strict=True):
            delay = e["delay"]
            bars = [r for r in svg.iter("rect") if r.has_class("hist")]
            assert len(bars) == len(delay["histogram"])
            tips = [b.find("title").all_text() for b in bars]
            # The unit and the noun agree with their numbers: « 1 jour ouvré : 2 délais »,
            # in the singular below two in French (« 0 jour », « 1,5 jour », « 1 délai »).
            # Delays, not contacts: a reopened contact has two.
            unit = Unit.parse(delay["unit"])
            assert tips == [
                f"{count(h['value'], 'fr')} {unit.label(1 if h['value'] < 2 else 2, 'fr')} : "
                f"{h['count']} délai{'' if h['count'] < 2 else 's'}"
                for h in delay["histogram"]
            ]
            label = svg.attrs["aria-label"]
            assert f"médiane {count(delay['median'], 'fr')}, p90 {delay['p90']}" in label
            lines = {line.attrs["class"] for line in svg.iter("line")}
            assert {"median", "p90"} <= lines
        text = tree.root.find("section", id="delays").all_text()
        assert "Sans délai mesuré : announced, rings." in squeeze(text)

    def test_breaches(self) -> None:
        report = sample()
        tree = parse(render_html(report))
        trs = list(tree.root.find("table", id="breaches").iter("tr"))
        assert cells(trs[0]) == [
            "engagement", "identifiant du contact", "cycle", "état", "échéance", "arrêté le",
        ]  # fmt: skip
        states = {"late": "en retard", "overdue": "en dépassement"}
        months = ["novembre", "décembre"]
        for tr, b in zip(trs[1:], report["breaches"], strict=True):
            # Dates as people write them (the ISO ones in <time datetime>).
            stopped = "—"
            if b["stopped_at"] is not None:
                at = dt.datetime.fromisoformat(b["stopped_at"])
                stopped = f"{at.day} {months[at.month - 11]} {at.year} à {at:%H:%M}"
            due = "—"
            if b["due_date"] is not None:
                day = dt.date.fromisoformat(b["due_date"])
                due = f"{'1er' if day.day == 1 else day.day} {months[day.month - 11]} {day.year}"
            assert cells(tr) == [
                b["engagement"],
                b["contact_id"],
                str(b["cycle"]),
                states[b["state"]],
                due,
                stopped,
            ]
        assert len(trs) == len(report["breaches"]) + 1
        summary = tree.root.find("section", id="breaches-section").all_text()
        contacts = len({b["contact_id"] for b in report["breaches"]})
        assert (
            f"13 délais manqués, pour {contacts} contacts : 7 en dépassement, 6 en retard."
            in summary
        )

    def test_breaches_show_ids_only(self) -> None:
        report = sample()
        for b in report["breaches"]:
            b["name"] = "Jeanne Dupont"
            b["email"] = "jeanne@example.org"
        page = render_html(report)
        assert "Jeanne" not in page
        assert "example.org" not in page

    def test_every_chart_has_a_text_alternative(self) -> None:
        tree = parse(render_html(sample()))
        charts = list(tree.root.iter("svg"))
        assert len(charts) == 5 + 5 + 3
        for svg in charts:
            assert svg.attrs["role"] == "img"
            assert svg.attrs["aria-label"].strip()
            assert svg.children[0].tag == "title"
            assert svg.children[0].all_text() == svg.attrs["aria-label"]

    def test_empty_report(self) -> None:
        report = sample(groups=[], trend=[], breaches=[], by=[], as_of=None)
        for e in report["engagements"]:
            e.update(dict.fromkeys(("total", "met", "late", "overdue", "pending", "exempt"), 0))
            e["compliance_rate"] = None
            e["delay"] = {"unit": None, "count": 0, "median": None, "p90": None, "histogram": []}
        text = parse(render_html(report)).root.all_text()
        for note in (
            "Aucun contact sur la période.",
            "Aucun contact sur la période : pas d'évolution à montrer.",
            "Aucun délai mesuré sur la période.",
            "Aucun retard ni dépassement.",
        ):
            assert note in text

    def test_odd_histograms(self) -> None:
        report = sample()
        delay = report["engagements"][0]["delay"]
        delay["histogram"] = [{"value": -2, "count": 0}, {"value": 400, "count": 0}]
        delay.update(median=None, p90=None)
        tree = parse(render_html(report))
        svg = next(s for s in tree.root.iter("svg") if s.has_class("histogram"))
        assert len([r for r in svg.iter("rect") if r.has_class("hist")]) == 2
        assert not [line for line in svg.iter("line") if line.attrs["class"] in ("median", "p90")]

    def test_large_numbers_and_long_periods(self) -> None:
        report = sample()
        e = report["engagements"][0]
        e.update(total=12345, met=12000, late=300, overdue=45, compliance_rate=0.9724)
        e["delay"]["histogram"] = [{"value": v, "count": 1000 + v} for v in range(0, 90, 3)]
        e["delay"].update(median=2.5, p90=81)
        months = [f"{y}-{m:02d}" for y in (2024, 2025) for m in range(1, 13)]
        report["trend"] = [
            {"engagement": "ack", "month": m, "total": 1, "met": 1, "late": 0, "overdue": 0,
             "pending": 0, "exempt": 0, "compliance_rate": 1.0}
            for m in months
        ]  # fmt: skip
        page = render_html(report)
        tree = parse(page)
        row = cells(next(next(tree.root.find("table", id="engagements").iter("tbody")).iter("tr")))
        assert row[2] == "12\u202f345"
        assert row[8] == "97,2\u00a0%"
        assert row[9] == "2,5"
        pivots = [t for t in tree.root.iter("table") if t.has_class("trend-table")]
        assert [len(cells(next(t.iter("tr")))) for t in pivots] == [7, 7, 7, 7]
        assert "janv." in page
        assert "2024" in page


# -- in a real browser ---------------------------------------------------------------------

BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-features=NetworkTimeServiceQuerying",
    # Every host name, IP literals included, resolves to "not found" inside the
    # browser: whatever it tries, no DNS query and no connection leaves the machine.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--net-log-capture-mode=Everything",
    "--window-size=1280,2400",
)

# Net-log events that only happen when something goes out: a DNS lookup, a TCP
# connection, bytes written to a socket, an HTTP request sent.
TRAFFIC_EVENTS = (
    "TCP_CONNECT",
    "SOCKET_BYTES_SENT",
    "UDP_BYTES_SENT",
    "HTTP_TRANSACTION_SEND_REQUEST",
    "HOST_RESOLVER_SYSTEM_TASK",
    "HOST_RESOLVER_DNS_TASK",
)


@dataclass
class Browsed:
    dom: str
    png: bytes
    netlog: dict[str, Any]
    seconds: float


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser, installed by scripts/chromium if needed (exit 3: cannot be had here)."""
    script = REPO / "scripts" / "chromium"
    proc = subprocess.run([str(script)], capture_output=True, text=True, timeout=1200)
    if proc.returncode == 3:
        reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "exit 3"
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the browser tests: {reason}")
        pytest.skip(reason)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def browse(browser: str, page: Path, work: Path) -> Browsed:
    """Open ``page`` headless: its DOM, a screenshot and the network log, in one run."""
    work.mkdir()
    shot, netlog = work / "shot.png", work / "netlog.json"
    command = [
        browser,
        *BROWSER_FLAGS,
        f"--user-data-dir={work / 'profile'}",
        f"--log-net-log={netlog}",
        f"--screenshot={shot}",
        "--dump-dom",
        page.as_uri(),
    ]
    env = {**os.environ, "HOME": str(work), "XDG_CONFIG_HOME": str(work / "config")}
    env["XDG_CACHE_HOME"] = str(work / "cache")
    start = time.monotonic()
    # A session of its own, so that a hung browser goes with all its processes.
    proc = subprocess.Popen(
        command,
        cwd=work,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        dom, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{browser} did not finish within 60 s")
    seconds = time.monotonic() - start
    assert proc.returncode == 0, err[-2000:]
    assert shot.is_file(), err[-2000:]
    text = netlog.read_text(encoding="utf-8")
    try:
        log = json.loads(text)
    except json.JSONDecodeError:
        # A log cut short still holds its events; close the list and the object.
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    return Browsed(dom, shot.read_bytes(), log, seconds)


def _events(netlog: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    names = {number: name for name, number in netlog["constants"]["logEventTypes"].items()}
    for event in netlog.get("events", []):
        yield names.get(event["type"], str(event["type"])), event.get("params") or {}


def page_requests(netlog: dict[str, Any]) -> list[str]:
    """URLs the page asked for: requests with an initiator (the browser's own have none)."""
    return [
        params["url"]
        for name, params in _events(netlog)
        if name == "URL_REQUEST_START_JOB"
        and "url" in params
        and params.get("initiator") != "not an origin"
        and not params["url"].startswith("file:")
    ]


def traffic(netlog: dict[str, Any]) -> list[str]:
    """Events showing that something went out (a lookup, a connection, bytes sent)."""
    known = netlog["constants"]["logEventTypes"]
    # The names this check relies on must still exist in this browser's net log.
    assert {"TCP_CONNECT", "SOCKET_BYTES_SENT", "URL_REQUEST_START_JOB"} <= set(known)
    return [f"{name} {params}" for name, params in _events(netlog) if name in TRAFFIC_EVENTS]


def pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB or RGBA, non-interlaced PNG into rows of RGB pixels (stdlib only)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    width = height = depth = kind = interlace = 0
    while pos < len(png):
        (size, name) = struct.unpack(">I4s", png[pos : pos + 8])
        body = png[pos + 8 : pos + 8 + size]
        pos += 12 + size
        if name == b"IHDR":
            width, height, depth, kind, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif name == b"IDAT":
            chunks.append(body)
    assert (depth, interlace) == (8, 0)
    assert kind in (2, 6), kind
    bpp = 3 if kind == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(chunks))
    previous = bytearray(stride)
    rows = []
    for y in range(height):
        kind_of_filter = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        if kind_of_filter == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind_of_filter == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind_of_filter == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + (left + previous[i]) // 2) & 0xFF
        elif kind_of_filter == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + predictor) & 0xFF
        previous = line
        if bpp == 4:
            line = line.copy()
            del line[3::4]
        rows.append(bytes(line))
    return width, height, rows


@pytest.fixture(scope="module")
def browsed(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Browsed]:
    """The sample review (French, what-if) and a control page that does fetch, both browsed."""
    root = tmp_path_factory.mktemp("browser")
    review = root / "bilan.html"
    review.write_text(render_html(sample(what_if=True)), encoding="utf-8")
    control = root / "control.html"
    control.write_text(
        '<!DOCTYPE html><html><body><p>control</p><img src="http://example.invalid/x.png">'
        '<img src="https://192.0.2.1/y.png"></body></html>',
        encoding="utf-8",
    )
    return {
        "review": browse(chromium, review, root / "review"),
        "control": browse(chromium, control, root / "control"),
    }


class TestInBrowser:
    """The page as Chromium renders it, with no request leaving the machine."""

    def test_dom_has_the_tables_and_the_charts(self, browsed: dict[str, Browsed]) -> None:
        dom = browsed["review"].dom
        for ident in ("engagements", "groups", "breaches"):
            assert f'<table id="{ident}">' in dom
        assert '<table class="trend-table" id="trend-table-1">' in dom
        assert dom.count("<svg") == 13
        assert "Simulation : autres règles que celles du rejeu" in dom
        assert "Évolution mensuelle du taux de respect" in dom
        # The hostile contact id was parsed as text, not as markup.
        assert "<script" not in dom
        assert '&lt;script&gt;alert(1)&lt;/script&gt;" onmouseover="x' in dom

    def test_screenshot_is_the_page(self, browsed: dict[str, Browsed]) -> None:
        width, height, rows = pixels(browsed["review"].png)
        assert (width, height) == (1280, 2400)
        colours = Counter(row[i : i + 3] for row in rows[::2] for i in range(0, len(row), 6))
        assert len(colours) > 50, "blank or nearly blank screenshot"
        _, most = colours.most_common(1)[0]
        assert most < 0.8 * sum(colours.values())
        # The stacked bars and the header rule, painted in their own colours.
        for name in ("met", "late", "overdue", "pending", "accent"):
            assert colours[bytes.fromhex(COLOURS[name][1:])] > 100, name

    def test_no_request_left_the_machine(self, browsed: dict[str, Browsed]) -> None:
        review = browsed["review"]
        assert page_requests(review.netlog) == []
        assert traffic(review.netlog) == []

    def test_the_check_sees_requests(self, browsed: dict[str, Browsed]) -> None:
        """A page that fetches is caught (so the empty list above means something)."""
        control = browsed["control"]
        assert sorted(set(page_requests(control.netlog))) == [
            "http://example.invalid/x.png",
            "https://192.0.2.1/y.png",
        ]
        assert traffic(control.netlog) == []

    def test_fast_enough(self, browsed: dict[str, Browsed]) -> None:
        assert browsed["review"].seconds < 30
