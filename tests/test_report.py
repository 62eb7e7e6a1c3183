"""The compliance report: counts checked by hand, renderers, what-if, and the CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from sla_engine import SlaEngine, calendar, parse_catalogue
from sla_engine._report import build_report, render_csv, render_markdown, safe_cell
from sla_engine._report_html import render_html
from sla_engine.cli import main

from .engine_support import CATALOGUE, at

# Received on Fri 7 Nov 2025 (email-5 due Mon 17, expires Tue 18 at 00:00;
# ack due Wed 12, expires Thu 13 at 00:00).  Tuesday 11 Nov is the Armistice.
EVENTS = [
    # A: answered on time, acknowledged on time.
    ("A", "received", at(2025, 11, 7), {"channel": "email", "category": "information"}),
    ("A", "acknowledged", at(2025, 11, 7, 15), {}),
    ("A", "answered", at(2025, 11, 12), {}),
    # B: answered late (Tue 18 at 10:00), never acknowledged -> ack overdue.
    ("B", "received", at(2025, 11, 7), {"channel": "email", "category": "complaint"}),
    ("B", "answered", at(2025, 11, 18), {}),
    # C: still open -> email-5 overdue at as_of (Fri 21), ack late.
    ("C", "received", at(2025, 11, 7), {"channel": "email", "category": "=HYPERLINK(1)"}),
    ("C", "acknowledged", at(2025, 11, 14), {}),
    # D: received Mon 17: email-5 pending at as_of, ack met.
    ("D", "received", at(2025, 11, 17), {"channel": "email"}),
    ("D", "acknowledged", at(2025, 11, 18), {}),
    # E: complex -> exempt; its ack is met.
    ("E", "received", at(2025, 11, 7), {"channel": "email"}),
    ("E", "acknowledged", at(2025, 11, 7, 11), {}),
    ("E", "flagged_complex", at(2025, 11, 8), {}),
    # F: a phone call, 7 rings -> rings late; G: 2 rings -> met.
    ("F", "received", at(2025, 11, 10), {"channel": "phone"}),
    ("F", "answered", at(2025, 11, 10), {"attributes": {"rings": 7}}),
    ("G", "received", at(2025, 11, 21), {"channel": "phone"}),
    ("G", "answered", at(2025, 11, 21), {"attributes": {"rings": 2}}),
]


@pytest.fixture
def engine(make_engine) -> SlaEngine:  # type: ignore[no-untyped-def]
    engine = make_engine()
    engine.record_many(
        [
            {"event_id": f"{c}{n}", "contact_id": c, "type": t, "occurred_at": when, **fields}
            for n, (c, t, when, fields) in enumerate(EVENTS)
        ]
    )
    return engine


def _sqlite_store(tmp_path: Path) -> Path:
    """A SQLite store of the test's events, for the command line."""
    store = tmp_path / "store.db"
    with SlaEngine(store=str(store), catalogue=parse_catalogue(CATALOGUE)) as engine:
        engine.record_many(
            [
                {"event_id": f"{c}{n}", "contact_id": c, "type": t, "occurred_at": w, **f}
                for n, (c, t, w, f) in enumerate(EVENTS)
            ]
        )
    return store


def figures(report: dict, engagement: str) -> tuple:  # type: ignore[type-arg]
    (entry,) = [e for e in report["engagements"] if e["id"] == engagement]
    keys = ("total", "met", "late", "overdue", "pending", "exempt", "compliance_rate")
    return tuple(entry[k] for k in keys)


class TestCounts:
    def test_per_engagement(self, engine: SlaEngine) -> None:
        report = build_report(engine)
        assert report["as_of"] == at(2025, 11, 21).isoformat()  # the last event, not the clock
        assert figures(report, "email-5") == (5, 1, 1, 1, 1, 1, 1 / 3)
        assert figures(report, "ack") == (5, 3, 1, 1, 0, 0, 3 / 5)
        assert figures(report, "rings") == (2, 1, 1, 0, 0, 0, 0.5)
        assert figures(report, "letter-15") == (0, 0, 0, 0, 0, 0, None)
        (email,) = [e for e in report["engagements"] if e["id"] == "email-5"]
        # A took 2 counted days (Mon 10, Wed 12); B took 6 (… Mon 17, Tue 18).
        assert email["delay"] == {
            "unit": "jours ouvrés",
            "count": 2,
            "median": 4.0,
            "p90": 6,
            "histogram": [{"value": 2, "count": 1}, {"value": 6, "count": 1}],
        }
        assert [(b["contact_id"], b["engagement"], b["state"]) for b in report["breaches"]] == [
            ("B", "ack", "overdue"),
            ("C", "ack", "late"),
            ("B", "email-5", "late"),
            ("C", "email-5", "overdue"),
            ("F", "rings", "late"),
        ]

    def test_the_period_counts_timers_started_in_it(self, engine: SlaEngine) -> None:
        import datetime as dt

        report = build_report(engine, start=dt.date(2025, 11, 10), end=dt.date(2025, 11, 17))
        assert figures(report, "email-5")[0] == 1  # D only
        assert figures(report, "rings")[0] == 1  # F only

    def test_as_of_an_earlier_instant(self, engine: SlaEngine) -> None:
        report = build_report(engine, as_of=at(2025, 11, 12, 12))
        # A answered; B, C, E (exempt) still before their expiry; D not received yet.
        assert figures(report, "email-5") == (4, 1, 0, 0, 2, 1, 1.0)

    def test_groups(self, engine: SlaEngine) -> None:
        report = build_report(engine, by=["engagement", "category"])
        groups = {
            (g["by"]["engagement"], g["by"]["category"]): g["total"] for g in report["groups"]
        }
        assert groups[("email-5", "complaint")] == 1
        assert groups[("email-5", None)] == 2
        assert sum(g["total"] for g in report["groups"]) == 12
        with pytest.raises(ValueError, match="unknown grouping 'colour'"):
            build_report(engine, by=["colour"])

    def test_what_if_under_another_catalogue(self, engine: SlaEngine) -> None:
        stricter = parse_catalogue(
            CATALOGUE.replace('target = "5 jours ouvrés"', 'target = "2 jours ouvrés"')
        )
        report = build_report(engine, catalogue=stricter)
        assert report["what_if"] is True
        # A answered Wed 12 = day 2: still met; B late; C, D overdue now.
        assert figures(report, "email-5")[:4] == (5, 1, 1, 2)
        # Nothing was written: the store's own report is unchanged.
        assert figures(build_report(engine), "email-5") == (5, 1, 1, 1, 1, 1, 1 / 3)


class TestCalendars:
    """Each engagement names the calendar it counted in; the reviews show the odd ones."""

    @pytest.fixture
    def engine(self, make_engine) -> SlaEngine:  # type: ignore[no-untyped-def]
        own = CATALOGUE.replace(
            'target = "5 jours ouvrés"', 'target = "5 jours ouvrés"\ncalendar = "fr-57"'
        )
        engine = make_engine(catalogue=parse_catalogue(own), calendar_spec="fr")
        engine.record_many(
            [
                {"event_id": f"{c}{n}", "contact_id": c, "type": t, "occurred_at": w, **f}
                for n, (c, t, w, f) in enumerate(EVENTS)
            ]
        )
        return engine

    def test_an_engagement_keeps_its_own_calendar_in_a_what_if(self, engine: SlaEngine) -> None:
        for report in (build_report(engine), build_report(engine, calendar_spec=calendar("fr+B"))):
            calendars = {e["id"]: e["calendar"] for e in report["engagements"]}
            assert calendars["email-5"] == "fr-57"
            assert calendars["ack"] == report["calendar"]
        assert report["calendar"] == "fr+B"
        text = render_markdown(report)
        assert "- calendrier fr-57, nommé par le catalogue : email-5\n" in text
        english = render_markdown(build_report(engine, lang="en"))
        assert "- calendar fr-57, named by the catalogue: email-5\n" in english
        html = render_html(build_report(engine, lang="en"))
        assert (
            "<dt>Calendar fr-57, named by the catalogue</dt><dd><code>email-5</code></dd>" in html
        )

    def test_a_review_written_before_names_no_calendar_of_its_own(self, engine: SlaEngine) -> None:
        report = build_report(engine)
        for entry in report["engagements"]:
            del entry["calendar"]
        assert "nommé par le catalogue" not in render_markdown(report)
        assert "named by the catalogue" not in render_html({**report, "lang": "en"})


class TestRenderers:
    def test_csv_table_and_formula_neutralised(self, engine: SlaEngine) -> None:
        report = build_report(engine, by=["category"], lang="en")
        rows = list(csv.reader(io.StringIO(render_csv(report))))
        assert rows[0][:3] == ["category", "total", "met"]
        # Categories are stored lower-cased; the formula stays inert all the same.
        assert ["'=hyperlink(1)", "2", "0", "1", "1", "0", "0", "0.0"] in rows

        assert safe_cell("+33 1 23") == "'+33 1 23"
        assert safe_cell("@SUM") == "'@SUM"
        assert safe_cell("plain") == "plain"

    def test_spreadsheet_csv_in_french_for_excel(self, engine: SlaEngine) -> None:
        report = build_report(engine, by=["category"])  # French
        text = render_csv(report, spreadsheet=True)
        assert text.startswith("\ufeffcatégorie;total;tenus;")
        rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
        plain = list(csv.reader(io.StringIO(render_csv(report))))
        assert rows[0] == plain[0]
        # The same cells, decimal commas, the rate rounded once to the tenth of a
        # point the reviews show (the CSV's is exact); the formula stays inert.
        assert ["'=hyperlink(1)", "2", "0", "1", "1", "0", "0", "0"] in rows
        assert len(rows) == len(plain)
        rate = rows[0].index("taux de respect")
        for mine, theirs in zip(rows[1:], plain[1:], strict=True):
            assert [c.replace(",", ".") for c in mine[:rate]] == theirs[:rate]
            if theirs[rate]:
                exact = float(theirs[rate])
                assert float(mine[rate].replace(",", ".")) == pytest.approx(exact, abs=0.0005)

    def test_spreadsheet_csv_in_english_keeps_commas_and_points(self, engine: SlaEngine) -> None:
        report = build_report(engine, lang="en")
        text = render_csv(report, spreadsheet=True)
        assert text[0] == "\ufeff"
        sheet = list(csv.reader(io.StringIO(text[1:])))
        plain = list(csv.reader(io.StringIO(render_csv(report))))
        rate = plain[0].index("compliance rate")
        assert [r[:rate] + r[rate + 1 :] for r in sheet] == [
            r[:rate] + r[rate + 1 :] for r in plain
        ]
        assert "." in "".join(r[rate] for r in sheet[1:])  # a point, not a comma

    def test_spreadsheet_csv_from_the_cli_has_a_byte_order_mark(self, tmp_path: Path) -> None:
        store = _sqlite_store(tmp_path)
        out = tmp_path / "bilan.csv"
        args = ["report", "--store", str(store), "--format", "spreadsheet", "-o", str(out)]
        assert main(args) == 0
        data = out.read_bytes()
        assert data.startswith(b"\xef\xbb\xbfengagement;intitul\xc3\xa9;")
        assert b"\r\n" in data

    def test_redirected_output_is_utf8_whatever_the_locale(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # As Windows redirects stdout: cp1252, CRLF line ends.
        store = _sqlite_store(tmp_path)
        out = tmp_path / "bilan.csv"
        args = ["report", "--store", str(store), "--format", "spreadsheet"]
        assert main([*args, "-o", str(out)]) == 0
        raw = io.BytesIO()
        monkeypatch.setattr("sys.stdout", io.TextIOWrapper(raw, encoding="cp1252", newline="\r\n"))
        assert main(args) == 0
        assert raw.getvalue() == out.read_bytes()
        assert b"\r\r\n" not in raw.getvalue()

    def test_markdown(self, engine: SlaEngine) -> None:
        text = render_markdown(build_report(engine))
        assert text.startswith("# Bilan des engagements de service\n")
        assert (
            "| email-5 | Nous traitons vos courriels dans un délai maximum de 5 jours ouvrés |"
            in text
        )
        # Written as the HTML review writes it: French decimal comma and spacing.
        assert "| 5 | 1 | 1 | 1 | 1 | 1 | 33,3\u00a0% | 4 | 6 | jours ouvrés |" in text
        english = render_markdown(build_report(engine, lang="en"))
        assert "| 5 | 1 | 1 | 1 | 1 | 1 | 33.3% | 4 | 6 | business days |" in english


class TestCommands:
    LOG = (
        "event_id,contact_id,type,occurred_at,recorded_at,channel,category,priority,service,attributes\n"
        "E1,A,received,2025-11-07T10:00:00+01:00,,email,,,,\n"
        "E2,A,answered,2025-11-12T10:00:00+01:00,,,,,,\n"
        "E3,B,received,2025-11-07T10:00:00+01:00,,email,,,,\n"
        "E4,B,answered,2025-11-18T10:00:00+01:00,,,,,,\n"
        "E5,C,answered,2025-11-18T10:00:00+01:00,,,,,,\n"
    )

    def test_replay_report_explain(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        log = tmp_path / "log.csv"
        log.write_text(self.LOG)
        catalogue = tmp_path / "rules.toml"
        catalogue.write_text(CATALOGUE)
        store = str(tmp_path / "store.db")
        rejects = tmp_path / "rejects.csv"
        args = [
            "replay",
            str(log),
            "--catalogue",
            str(catalogue),
            "--calendar",
            "fr",
            "--store",
            store,
        ]
        assert main([*args, "--rejects", str(rejects)]) == 0
        out = capsys.readouterr().out
        assert out.startswith("5 rows read: 4 recorded, 0 already recorded, 1 rejected")
        assert rejects.read_text().splitlines()[1].startswith(f"{log},6,E5,type,")
        assert main(args) == 0
        assert "0 recorded, 4 already recorded, 1 rejected" in capsys.readouterr().out
        assert main(["report", "--store", store, "--format", "json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert figures(report, "email-5") == (2, 1, 1, 0, 0, 0, 0.5)
        assert main(["report", "--store", store, "--format", "json", "--calendar", "fr-57"]) == 0
        assert json.loads(capsys.readouterr().out)["what_if"] is True
        assert main(["explain", "--store", store, "B", "email-5", "--lang", "en"]) == 0
        assert "engagement not kept" in capsys.readouterr().out

    def test_report_of_a_missing_store(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["report", "--store", str(tmp_path / "none.db")]) == 2
        assert "no store at" in capsys.readouterr().err


def test_as_of_is_the_last_event_of_the_whole_log(make_engine) -> None:  # type: ignore[no-untyped-def]
    """A contact no engagement measures still dates the review (found by bench_replay)."""
    engine = make_engine()
    engine.record_many(
        [
            {"event_id": "1", "contact_id": "A", "type": "received",
             "occurred_at": at(2025, 11, 3), "channel": "email"},
            {"event_id": "2", "contact_id": "B", "type": "received",
             "occurred_at": at(2025, 11, 12, 9), "channel": "counter"},
        ]
    )  # fmt: skip
    report = build_report(engine)
    assert report["as_of"] == at(2025, 11, 12, 9).isoformat()
    # A's e-mail was due Monday 10 November: overdue, not pending, on the 12th.
    assert figures(report, "email-5")[:5] == (1, 0, 0, 1, 0)


def test_a_review_counted_in_two_processes_gives_the_same_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime as dt

    from sla_engine import _report, _view
    from sla_engine._helper import Helper
    from sla_engine._replay import replay

    from .replay_support import NOW, generated

    log = tmp_path / "log.csv"
    generated(log, contacts=300, seed=5, start=dt.date(2025, 1, 6), end=dt.date(2025, 6, 27))
    engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / "s.db"), clock=lambda: NOW)
    replay(engine, [log])
    # Small pages, the helper from the second one: it counts every other page.
    monkeypatch.setattr(_view, "_PAGE", 7)
    monkeypatch.setattr(_report, "PAGES_ALONE", 1)
    started: list[tuple[object, ...]] = []

    class Watched(Helper):
        def __init__(self, request: tuple[object, ...]) -> None:
            started.append(request)
            super().__init__(request)

    monkeypatch.setattr(_report, "Helper", Watched)
    options = {
        "by": ["channel", "month"],
        "start": dt.date(2025, 2, 1),
        "end": dt.date(2025, 5, 31),
        "as_of": dt.datetime(2026, 1, 5, tzinfo=dt.UTC),  # after the last event: the view
    }
    for extra in ({}, options):
        alone = build_report(engine, jobs=1, **extra)  # type: ignore[arg-type]
        assert not started
        shared = build_report(engine, jobs=2, **extra)  # type: ignore[arg-type]
        assert len(started) == 1
        started.clear()
        for report in (alone, shared):
            report.pop("generated_at", None)
        assert shared == alone
        assert sum(e["total"] for e in alone["engagements"]) > 150
        assert len(alone["breaches"]) > 10
    engine.close()


def test_delays_announced_in_several_units_have_no_pooled_statistics() -> None:
    from .engine_support import delays_in_two_units, november_2025

    events = delays_in_two_units()
    engine = SlaEngine("services-publics-plus", "fr", clock=lambda: november_2025(28))
    engine.record_many(events)
    (entry,) = [e for e in build_report(engine)["engagements"] if e["id"] == "answer-announced"]
    assert (entry["total"], entry["met"]) == (2, 2)
    # 1 week and 3 working days: no median of the two.
    assert entry["delay"] == {
        "unit": None, "count": 2, "median": None, "p90": None, "histogram": []
    }  # fmt: skip
    # One unit: the statistics as usual.
    one = SlaEngine("services-publics-plus", "fr", clock=lambda: november_2025(28))
    one.record_many([e for e in events if e["contact_id"] == "B"])
    (entry,) = [e for e in build_report(one)["engagements"] if e["id"] == "answer-announced"]
    assert entry["delay"]["unit"] == "jours ouvrés"
    assert entry["delay"]["median"] == 3


def test_the_school_year_grouping_counts_years_as_obligations_do() -> None:
    import datetime as dt

    def received(cid: str, day: dt.date) -> dict[str, object]:
        at = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
        return {"event_id": cid, "contact_id": cid, "type": "received", "occurred_at": at,
                "channel": "email"}  # fmt: skip

    later = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: later)
    days = [dt.date(2025, 7, 31), dt.date(2025, 8, 20), dt.date(2025, 9, 2)]
    engine.record_many([received(cid, day) for cid, day in zip("ABC", days, strict=True)])
    groups = {
        g["by"]["school-year"]: g["total"]
        for g in build_report(engine, by=["school-year"])["groups"]
    }
    # 20 August opens the year of the rentrées of mid-August (La Réunion, Mayotte).
    assert groups == {"2024-2025": 1, "2025-2026": 2}


def test_an_english_review_gives_targets_and_units_in_english() -> None:
    import datetime as dt

    later = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: later)
    start = dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC)
    received = {"event_id": "1", "contact_id": "A", "type": "received", "occurred_at": start}
    answered = {"event_id": "2", "contact_id": "A", "type": "answered"}
    engine.record_many(
        [
            {**received, "channel": "email"},
            {**answered, "occurred_at": start + dt.timedelta(days=2)},
        ]
    )
    english = build_report(engine, lang="en")
    french = build_report(engine, lang="fr")

    def email_row(report: dict[str, object]) -> list[str]:
        (row,) = [r for r in csv.reader(io.StringIO(render_csv(report))) if r[0] == "email-5"]
        return row

    assert (email_row(english)[2], email_row(english)[-1]) == ("5 business days", "business days")
    assert (email_row(french)[2], email_row(french)[-1]) == ("5 jours ouvrés", "jours ouvrés")
    # The JSON keeps the canonical (French) names in both.
    (entry,) = [e for e in english["engagements"] if e["id"] == "email-5"]
    assert (entry["target"], entry["delay"]["unit"]) == ("5 jours ouvrés", "jours ouvrés")
    assert "5 business days" in render_markdown(english)
