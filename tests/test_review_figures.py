"""Review figures the first versions got wrong, found by recomputing them apart.

- An engagement whose complex case counts in another unit (« 10 jours
  ouvrés », complex « 2 mois ») mixed month counts into a histogram of
  working days: its median read 1 jour ouvré where the delays were 2, 39
  and 40. Delays in several units leave the statistics empty, as for
  announced delays.
- A what-if under a calendar counted every engagement in it, while a replay
  under that calendar counts an engagement whose catalogue names one in
  that one: the two disagreed, and a what-if under the store's own
  calendar reported changes. A what-if now counts as a replay would.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla_engine import SiteEvent, SlaEngine, parse_catalogue
from sla_engine._report import build_report

from .engine_support import event_mapping

PARIS = ZoneInfo("Europe/Paris")
COMPLEX_IN_MONTHS = """
[catalogue]
id = "cx"
title = "Complex in another unit"
version = "1"
calendar = "fr"

[[engagement]]
id = "email-10"
title = "Courriels sous 10 jours ouvrés, 2 mois si complexe"
source = "tests/test_review_figures.py"
kind = "response"
when = { channel = ["email"] }
stop = ["answered"]
target = "10 jours ouvrés"
complex = "2 mois"
"""


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def test_delays_in_several_units_give_no_statistic() -> None:
    engine = SlaEngine(parse_catalogue(COMPLEX_IN_MONTHS), clock=lambda: _at(2025, 4, 1))
    received = _at(2025, 1, 6, 10)
    engine.record_many(
        [
            event_mapping("a1", "A", "received", received),
            event_mapping("a2", "A", "answered", _at(2025, 1, 8, 10)),
            event_mapping("b1", "B", "received", received),
            event_mapping("b2", "B", "flagged_complex", _at(2025, 1, 7, 10)),
            event_mapping("b3", "B", "answered", _at(2025, 2, 28, 10)),
        ]
    )
    (engagement,) = build_report(engine, as_of=_at(2025, 3, 1))["engagements"]
    assert engagement["met"] == 2
    assert engagement["delay"] == {
        "unit": None, "count": 2, "median": None, "p90": None, "histogram": [],
    }  # fmt: skip
    # One unit among the delays counted (an open timer's adds none): its statistics.
    alone = SlaEngine(parse_catalogue(COMPLEX_IN_MONTHS), clock=lambda: _at(2025, 4, 1))
    alone.record_many(
        [
            event_mapping("b1", "B", "received", received),
            event_mapping("b2", "B", "flagged_complex", _at(2025, 1, 7, 10)),
            event_mapping("b3", "B", "answered", _at(2025, 2, 28, 10)),
            event_mapping("c1", "C", "received", _at(2025, 3, 20, 10)),
        ]
    )
    (months,) = build_report(alone)["engagements"]
    assert (months["delay"]["unit"], months["delay"]["median"]) == ("mois", 1)


@pytest.mark.parametrize("catalogue", ["marianne-besancon", "services-publics-plus"])
@pytest.mark.parametrize("other", ["fr-57", "fr-974", "fr"])
def test_a_what_if_under_a_calendar_gives_a_replay_under_it(catalogue: str, other: str) -> None:
    events = [
        event_mapping(f"{n}", f"C{n}", "received", _at(2025, 12, day, 10))
        for n, day in enumerate((17, 18, 19, 22, 24, 26, 29))
    ]
    clock = _at(2026, 1, 20)
    stored = SlaEngine(catalogue, "fr", clock=lambda: clock)
    stored.record_many(events)
    replayed = SlaEngine(catalogue, other, clock=lambda: clock)
    replayed.record_many(events)

    def figures(timers: object) -> list[tuple[str, str, object, str]]:
        return sorted(
            (t.contact_id, t.engagement_id, t.due_date, t.calendar)  # type: ignore[attr-defined]
            for t in timers  # type: ignore[attr-defined]
        )

    what_if = stored.what_if(calendar_spec=other, as_of=clock)
    assert figures(what_if.alternative) == figures(replayed.status_as_of(clock))
    # Under its own calendar, a what-if changes nothing.
    assert replayed.what_if(calendar_spec=other, as_of=clock).changes() == []
    review = build_report(stored, calendar_spec=replayed.default_calendar, as_of=clock)
    same = build_report(replayed, as_of=clock)
    assert review["engagements"] == same["engagements"]


def test_a_rate_is_rounded_once() -> None:
    """14 met of 17 is 82.35 %: shown 82,4 %, not 82,3 % (0.8235 rounded again)."""
    from sla_engine._report import format_percent

    engine = SlaEngine(parse_catalogue(COMPLEX_IN_MONTHS), clock=lambda: _at(2025, 4, 1))
    received = _at(2025, 1, 6, 10)
    events = []
    for n in range(17):
        contact = f"C{n}"
        answered = _at(2025, 1, 7, 10) if n < 14 else _at(2025, 3, 3, 10)
        events += [
            event_mapping(f"{n}r", contact, "received", received),
            event_mapping(f"{n}a", contact, "answered", answered),
        ]
    engine.record_many(events)
    (engagement,) = build_report(engine)["engagements"]
    assert engagement["compliance_rate"] == 14 / 17
    assert format_percent(engagement["compliance_rate"], "fr") == "82,4\u00a0%"


def test_the_review_documents_read_right(tmp_path: Path) -> None:
    """English units, separators, period numbers, and a CSV whose lines end once.

    The English HTML showed « jours ouvrés » in its charts; the Markdown wrote
    1458 where the HTML wrote 1 458; an obligation period (2025001) read
    « 2 025 001 »; the CSV written by the command doubled its line ends on
    Windows (text mode turned CRLF into CR CR LF).
    """
    from sla_engine._report import render_markdown
    from sla_engine._report_html import render_html
    from sla_engine.cli import main

    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: _at(2026, 1, 20))
    engine.record_many(
        [event_mapping(f"{n}", f"C{n}", "received", _at(2025, 11, 3, 10)) for n in range(1200)]
        + [event_mapping(f"{n}a", f"C{n}", "answered", _at(2025, 11, 5, 10)) for n in range(1200)]
    )
    english = render_html(build_report(engine, lang="en"))
    # The catalogue's titles stay French; the charts' own words do not.
    assert "delays in jours" not in english
    assert "p90 1 jours" not in english
    assert "delays in business days" in english
    markdown = render_markdown(build_report(engine, lang="fr"))
    assert "1\u202f200" in markdown or "1 200" in markdown
    obligations = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(2025, 11, 30))
    obligations.register_sites([("E1", "École A")])
    obligations.record_site_events([SiteEvent("v", "visited", _at(2025, 10, 8), "E1", "IEN")])
    page = render_html(build_report(obligations, as_of=_at(2025, 11, 1)))
    # Its breaches name their periods (a day, a school year), not their cycle numbers.
    assert '<span class="code">2025-09-01</span></td>' in page
    assert '<span class="code">2025-2026</span></td>' in page
    assert ">2025000</td>" not in page
    store = tmp_path / "s.db"
    log = tmp_path / "log.csv"
    log.write_text(
        "event_id,contact_id,type,occurred_at,channel\n1,A,received,2025-11-03T10:00:00+01:00,email\n",
        encoding="utf-8",
    )
    assert main(["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]) == 0
    out = tmp_path / "review.csv"
    assert main(["report", "--store", str(store), "--format", "csv", "-o", str(out)]) == 0
    assert b"\r\r\n" not in out.read_bytes()
    assert out.read_bytes().count(b"\r\n") == out.read_bytes().count(b"\n")


def test_the_markdown_review_says_which_rules_data_and_period(tmp_path: Path) -> None:
    """A January-to-March review read exactly as the whole year's, rules unnamed."""
    from sla_engine._report import render_markdown

    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: _at(2026, 4, 20))
    engine.record(event_mapping("1", "A", "received", _at(2026, 1, 5, 10)))
    whole = render_markdown(build_report(engine))
    part = render_markdown(
        build_report(engine, start=dt.date(2026, 1, 1), end=dt.date(2026, 3, 31))
    )
    assert "période" not in whole
    assert "- période : du 1er janvier 2026 au 31 mars 2026" in part
    assert f"({engine.catalogue.fingerprint})" in whole
    assert engine.default_calendar.data_version in whole
