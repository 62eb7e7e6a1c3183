"""Site registers and site logs as files: every line counted, no event that counts for nothing.

A register's or a site log's fields (ids, names, types, instants, ``what``
words) are one line each, so a quote left open on a line is that line's
error and cannot swallow the lines after it.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla_engine._engine import SlaEngine
from sla_engine._errors import DataError, redacted
from sla_engine._site_replay import replay_sites
from sla_engine._sites import (
    RejectedSiteRow,
    SiteEvent,
    SiteLogRow,
    SiteRuleError,
    load_site_register,
    parse_site_register,
    read_site_log,
)
from sla_engine.cli import main

PARIS = ZoneInfo("Europe/Paris")
HEADER = "event_id,site,type,occurred_at,what\n"
UNCLOSED = "a quoted field is not closed on its line"


def _at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, tzinfo=PARIS)


def _engine() -> SlaEngine:
    engine = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(11, 30, 12))
    engine.register_sites([("E001", "École A"), ("E002", "École B"), ("E003", "École C")])
    return engine


def _replay(engine: SlaEngine, log: Path, rejects: Path) -> tuple[int, int, list[list[str]]]:
    with rejects.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["source", "line", "event_id", "field", "reason"])  # as the CLI does
        summary = replay_sites(engine, None, [log], rejects=writer)
    with rejects.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    return summary.recorded, summary.rejected, rows


class TestRegister:
    """A quote left open in the register is its line's error, like every other."""

    def test_an_unclosed_quote_is_reported_with_its_line(self, tmp_path: Path) -> None:
        register = tmp_path / "reg.csv"
        register.write_text(
            'id,name\nE1,École A\nE5,"unterminated\nE6,École F\nE7,École G\n', encoding="utf-8"
        )
        with pytest.raises(DataError) as caught:
            load_site_register(register)
        message = str(caught.value)
        assert f"{register}:3: {UNCLOSED}" in message
        assert "1 error(s)" in message

    def test_every_bad_line_is_listed_and_nothing_is_registered(self, tmp_path: Path) -> None:
        text = 'id,name\nE1,"A\nE2,B\nE2,C\nE4,"D"x\nE5,\n'
        with pytest.raises(DataError) as caught:
            parse_site_register(text, source="reg.csv")
        lines = str(caught.value).splitlines()[1:]
        assert [line.split(":")[1] for line in lines] == ["2", "4", "5", "6"]
        assert UNCLOSED in lines[0]
        assert "already on line 3" in lines[1]
        assert "not valid CSV" in lines[2]

        store = tmp_path / "s.db"
        register = tmp_path / "reg.csv"
        register.write_text(text, encoding="utf-8")
        command = ["replay", "--catalogue", "qualicirco", "--calendar", "fr+B"]
        assert main([*command, "--store", str(store), "--sites", str(register)]) == 2
        assert not store.exists()  # a first replay refused leaves no store: nothing registered

    def test_a_closed_quote_on_its_line_is_read(self) -> None:
        register = parse_site_register('id,name\nE1,"École A, annexe"\nE2,B\n')
        assert register.sites == (("E1", "École A, annexe"), ("E2", "B"))


class TestSiteLogLines:
    """A site log's row is one line: reported with that line, and never the end of another."""

    def test_an_unclosed_quote_does_not_swallow_the_rows_after_it(self, tmp_path: Path) -> None:
        log = tmp_path / "log.csv"
        log.write_text(
            HEADER
            + 'S1,E001,visited,2025-09-05T10:00:00+02:00,"IEN\n'
            + "S2,E002,visited,2025-09-05T10:00:00+02:00,passage\n"
            + "S3,E003,visited,2025-09-05T10:00:00+02:00,passage\n",
            encoding="utf-8",
        )
        rows = list(read_site_log(log))
        assert [(type(r), r.line) for r in rows] == [
            (RejectedSiteRow, 2),
            (SiteLogRow, 3),
            (SiteLogRow, 4),
        ]
        assert isinstance(rows[0], RejectedSiteRow)
        assert rows[0].reason.startswith(UNCLOSED)
        recorded, rejected, listed = _replay(_engine(), log, tmp_path / "rejects.csv")
        assert (recorded, rejected) == (2, 1)
        assert [r[1] for r in listed[1:]] == ["2"]

    def test_a_quote_closed_on_a_later_line_is_rejected_where_it_starts(
        self, tmp_path: Path
    ) -> None:
        log = tmp_path / "log.csv"
        log.write_text(
            HEADER
            + 'S1,E001,visited,2025-09-05T10:00:00+02:00,"IEN\n'
            + 'x"\n'
            + "S2,E002,visited,2025-09-05T10:00:00+02:00,passage\n",
            encoding="utf-8",
        )
        rows = list(read_site_log(log))
        assert [(type(r), r.line) for r in rows] == [
            (RejectedSiteRow, 2),
            (RejectedSiteRow, 3),
            (SiteLogRow, 4),
        ]

    def test_every_line_is_counted_once(self, tmp_path: Path) -> None:
        log = tmp_path / "log.csv"
        lines = [
            'S1,E001,visited,"2025-09-05T10:00:00+02:00\n',
            "S2,E002,visited,2025-09-05T10:00:00+02:00,passage\n",
            '"S3,E003,visited,2025-09-05T10:00:00+02:00,passage\n',
            "\n",
            "S4,E003,visited,2025-09-05T10:00:00+02:00,IEN\n",
        ]
        log.write_text(HEADER + "".join(lines), encoding="utf-8")
        seen = [(r.line, isinstance(r, SiteLogRow)) for r in read_site_log(log)]
        assert seen == [(2, False), (3, True), (4, False), (6, True)]

    def test_a_header_with_an_unclosed_quote_is_refused(self, tmp_path: Path) -> None:
        log = tmp_path / "log.csv"
        log.write_text('event_id,site,type,occurred_at,"what\nS1,E001,visited,x,y\n')
        with pytest.raises(DataError, match=f"log.csv:1: cannot read the header: {UNCLOSED}"):
            list(read_site_log(log))


class TestMissingWhat:
    """An event whose type counts only with a ``what`` word is refused without one."""

    def test_an_empty_what_is_rejected_naming_the_words(self, tmp_path: Path) -> None:
        log = tmp_path / "log.csv"
        log.write_text(
            HEADER
            + "S1,E001,visited,2025-09-05T10:00:00+02:00,\n"
            + "S2,,surveyed,2025-09-05T10:00:00+02:00,\n"
            + "S3,,opened,2025-09-05T08:00:00+02:00,\n",
            encoding="utf-8",
        )
        engine = _engine()
        recorded, rejected, listed = _replay(engine, log, tmp_path / "rejects.csv")
        # qualicirco counts a survey whatever it says; visits and the line's
        # openings only with one of its words.
        assert (recorded, rejected) == (1, 2)
        assert [r[1:4] for r in listed[1:]] == [["2", "S1", "what"], ["4", "S3", "what"]]
        assert listed[1][4] == (
            "'what' is empty; the catalogue's obligations count 'visited' events "
            "only with one of: ien, passage"
        )
        assert listed[2][4].endswith("count 'opened' events only with one of: telephone")
        assert engine.site_history("E001") == []

    def test_a_log_without_a_what_column(self, tmp_path: Path) -> None:
        log = tmp_path / "log.csv"
        log.write_text(
            "event_id,site,type,occurred_at\nS1,E001,visited,2025-09-05T10:00:00+02:00\n",
            encoding="utf-8",
        )
        recorded, rejected, listed = _replay(_engine(), log, tmp_path / "rejects.csv")
        assert (recorded, rejected) == (0, 1)
        assert listed[1][3] == "what"

    def test_the_school_is_not_breached_by_a_silent_event(self, tmp_path: Path) -> None:
        log = tmp_path / "log.csv"
        log.write_text(
            HEADER
            + "S1,E001,visited,2025-09-05T10:00:00+02:00,\n"
            + "S2,E001,visited,2025-09-05T10:00:00+02:00,passage\n",
            encoding="utf-8",
        )
        engine = _engine()
        recorded, rejected, _ = _replay(engine, log, tmp_path / "rejects.csv")
        assert (recorded, rejected) == (1, 1)
        explanation = engine.explain_obligation("E001", "visit-after-rentree", now=_at(11, 30))
        assert "Aucun événement pris en compte" not in explanation


class TestRejectReasons:
    """Site rejects say the rule; the event id has its own column (docs/security.md)."""

    def test_a_rule_refusal_does_not_repeat_the_ids(self, tmp_path: Path) -> None:
        log = tmp_path / "log.csv"
        log.write_text(
            HEADER
            + "S4,E009,visited,2025-09-05T10:00:00+02:00,passage\n"
            + "S5,E001,visited,2025-09-05T10:00:00+02:00,inspection\n",
            encoding="utf-8",
        )
        _, rejected, listed = _replay(_engine(), log, tmp_path / "rejects.csv")
        assert rejected == 2
        assert [r[2:4] for r in listed[1:]] == [["S4", "site"], ["S5", "what"]]
        for row in listed[1:]:
            assert "E00" not in row[4]
            assert "S4" not in row[4]
            assert "S5" not in row[4]
        assert listed[1][4] == "this site is not in the register (register it first)"

    def test_the_error_itself_still_names_the_site_and_event(self) -> None:
        with pytest.raises(SiteRuleError) as caught:
            _engine().record_site_event(
                SiteEvent("S4", "visited", _at(9, 5), site="E009", what="passage")
            )
        assert str(caught.value).startswith("site 'E009', event 'S4': ")
        assert redacted(caught.value) == caught.value.rule
