"""A malformed CSV costs only its own rows, and a misspelt column is named, never dropped.

- An unterminated quoted field (past the 64 KiB row limit, or to the end
  of the file) rejects the row where the quote opened; the lines after it
  are read again as rows of their own (they were dropped, unreported), by
  the row-by-row and the columnar replay alike.
- ``deadline --input`` reports such a row with its line (it swallowed the
  rows after it and exited 0), matches its header as ``replay`` does
  (spaces around names, any case), and names the separators it reads.
- A column (or JSON Lines key) the log format does not know, in a log read
  without a mapping, is refused with the closest known name: its values
  were dropped, so that a ``categorie`` column turned every complaint into
  an ordinary request.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from sla_engine._errors import DataError
from sla_engine._logs import LogMapping, LogRow, RejectedRow, read_log
from sla_engine.cli import main

from .replay_support import replayed

HEADER = "event_id,contact_id,type,occurred_at,channel,category,priority,service,attributes\n"
AT = "2025-10-01T10:00:00+02:00"


def good(i: int) -> str:
    return f"q{i},Q{i},received,{AT},email,information,normal,svc,\n"


#: A row whose quote opens and never closes.
UNCLOSED = f'q0,Q0,received,{AT},email,information,normal,"svc unclosed,\n'


def write(tmp_path: Path, text: str, name: str = "log.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def outcome(items: list[LogRow | RejectedRow]) -> tuple[list[int], list[tuple[int, str]]]:
    """The lines read as events, and the rejected lines with their reasons."""
    read = [i.line for i in items if isinstance(i, LogRow)]
    rejected = [(i.line, i.reason) for i in items if isinstance(i, RejectedRow)]
    return read, rejected


class TestUnterminatedQuote:
    def test_past_the_row_limit_only_its_row_is_rejected(self, tmp_path: Path) -> None:
        # 1,999 rows of about 75 bytes: the quote runs past 64 KiB at about the 876th.
        path = write(tmp_path, HEADER + UNCLOSED + "".join(good(i) for i in range(1, 2000)))
        read, rejected = outcome(list(read_log(path)))
        assert rejected == [(2, "unterminated quoted field")]
        assert read == list(range(3, 2002))

    def test_to_the_end_of_the_file_only_its_row_is_rejected(self, tmp_path: Path) -> None:
        path = write(tmp_path, HEADER + UNCLOSED + "".join(good(i) for i in range(1, 101)))
        read, rejected = outcome(list(read_log(path)))
        assert rejected == [(2, "unterminated quoted field at end of file")]
        assert read == list(range(3, 103))

    def test_each_bad_row_after_it_is_rejected_with_its_own_line(self, tmp_path: Path) -> None:
        bad_columns = "q9,Q9,received\n"
        second_unclosed = UNCLOSED.replace("q0,Q0", "q8,Q8")
        text = HEADER + UNCLOSED + good(1) + bad_columns + good(2) + second_unclosed + good(3)
        read, rejected = outcome(list(read_log(write(tmp_path, text))))
        assert read == [3, 5, 7]
        assert [line for line, _ in rejected] == [2, 4, 6]
        assert "3 columns where the header has 9" in rejected[1][1]

    def test_a_quoted_field_over_lines_that_closes_is_one_row(self, tmp_path: Path) -> None:
        over_lines = f'q1,Q1,received,{AT},email,information,normal,"svc\non two lines",\n'
        path = write(tmp_path, HEADER + UNCLOSED + over_lines + good(2))
        read, rejected = outcome(list(read_log(path)))
        # Line 3's quote closes line 2's, in a row that is not valid CSV: read
        # again after line 2, line 3 opens a field that line 4 closes.
        assert read == [3, 5]
        assert [line for line, _ in rejected] == [2]
        assert rejected[0][1].startswith(
            "unterminated quoted field: read on over 2 lines, not valid"
        )

    def test_a_line_that_cannot_be_read_ends_the_quote(self, tmp_path: Path) -> None:
        path = tmp_path / "log.csv"
        path.write_bytes((HEADER + UNCLOSED + good(1)).encode() + b"\xff\n" + good(2).encode())
        read, rejected = outcome(list(read_log(path)))
        assert read == [3, 5]
        assert [line for line, _ in rejected] == [2, 4]
        assert rejected[0][1] == "unterminated quoted field: line 4 cannot be read"

    @pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
    def test_quotes_opening_again_on_every_line_are_read_in_linear_time(
        self, tmp_path: Path
    ) -> None:
        # Each line opens a quoted field, and stays inside one when entered
        # inside: every line is rejected in turn, each read again once.
        path = write(tmp_path, HEADER + '"a"b,"\n' * 100_000 + good(1))
        started = time.perf_counter()
        items = list(read_log(path))
        assert time.perf_counter() - started < 10
        assert isinstance(items[-1], LogRow)
        assert len(items) == 100_001

    @pytest.mark.parametrize("lines", [2000, 102])
    def test_both_replays_record_every_good_row(self, tmp_path: Path, lines: int) -> None:
        text = HEADER + UNCLOSED + "".join(good(i) for i in range(1, lines))
        log = write(tmp_path, text)
        rows = replayed(log, tmp_path / "rows.db", catalogue="marianne-besancon", columnar=False)
        columns = replayed(
            log, tmp_path / "columns.db", catalogue="marianne-besancon", block_lines=50
        )
        assert rows["summary"] == (lines, lines - 1, 0, 1)
        for key in ("summary", "rejects", "events", "view"):
            assert rows[key] == columns[key], key


class TestDeadlineInput:
    ROW = "2025-11-08T10:00:00+01:00,5 jours ouvrés"
    DUE = "2025-11-17,2025-11-18T00:00:00+01:00"

    def test_an_unterminated_quote_is_reported_and_the_good_rows_written(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        cases = write(
            tmp_path, f'received_at,delay\n{self.ROW}\n"{self.ROW}\n{self.ROW}\n', "cases.csv"
        )
        assert main(["deadline", "--calendar", "fr", "--input", str(cases)]) == 1
        out, err = capsys.readouterr()
        assert err.splitlines() == [
            f"{cases}:3: unterminated quoted field at end of file",
            "sla-engine: 1 row rejected; the others were written",
        ]
        assert out.splitlines()[1:] == [f"{self.ROW},{self.DUE}"] * 2

    def test_a_stray_quote_closed_rows_later_costs_only_its_row(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        text = f'received_at,delay\n"{self.ROW}\n{self.ROW}\n{self.ROW}"\n{self.ROW}\n'
        cases = write(tmp_path, text, "cases.csv")
        assert main(["deadline", "--calendar", "fr", "--input", str(cases)]) == 1
        out, err = capsys.readouterr()
        assert err.splitlines()[0].startswith(f"{cases}:2: unterminated quoted field: read on")
        assert f"{cases}:4: delay: " in err
        assert out.splitlines()[1:] == [f"{self.ROW},{self.DUE}"] * 2

    @pytest.mark.parametrize("header", [" received_at , delay ", "Received_At,Delay"])
    def test_header_names_with_spaces_around_or_in_capitals_are_read(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], header: str
    ) -> None:
        cases = write(tmp_path, f"{header}\n{self.ROW}\n", "cases.csv")
        assert main(["deadline", "--calendar", "fr", "--input", str(cases)]) == 0
        assert capsys.readouterr().out.splitlines()[1] == f"{self.ROW},{self.DUE}"

    def test_a_tab_separated_header_names_the_separators_read(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        cases = write(tmp_path, "received_at\tdelay\n", "cases.csv")
        assert main(["deadline", "--calendar", "fr", "--input", str(cases)]) == 2
        assert "separated by a comma or a semicolon" in capsys.readouterr().err


class TestUnknownColumns:
    @pytest.mark.parametrize(
        ("column", "closest"), [("categorie", "category"), ("chanel", "channel")]
    )
    def test_a_misspelt_column_is_refused_naming_the_closest(
        self, tmp_path: Path, column: str, closest: str
    ) -> None:
        text = f"event_id,contact_id,type,occurred_at,{column}\nE1,C1,received,{AT},email\n"
        with pytest.raises(DataError) as refused:
            list(read_log(write(tmp_path, text)))
        message = str(refused.value)
        assert f"log.csv:1: unknown column {column!r} (did you mean {closest!r}?)" in message
        assert "event_id, contact_id, type, occurred_at, recorded_at, channel" in message
        assert "mapping file" in message

    @pytest.mark.parametrize("columnar", [True, False])
    def test_a_replay_records_nothing_of_such_a_log(self, tmp_path: Path, columnar: bool) -> None:
        text = (
            f"event_id,contact_id,type,occurred_at,channel,categorie\nE1,C1,received,{AT},email,x\n"
        )
        with pytest.raises(DataError, match="unknown column 'categorie'"):
            replayed(
                write(tmp_path, text),
                tmp_path / "s.db",
                catalogue="marianne-besancon",
                columnar=columnar,
            )

    def test_a_column_of_the_attributes_says_where_it_goes(self, tmp_path: Path) -> None:
        text = f"event_id,contact_id,type,occurred_at,announced_delay\nE1,C1,received,{AT},2 mois\n"
        with pytest.raises(DataError, match="'announced_delay' \\(it goes in attributes\\)"):
            list(read_log(write(tmp_path, text)))

    def test_a_column_without_a_name_is_no_unknown_column(self, tmp_path: Path) -> None:
        text = f"event_id,contact_id,type,occurred_at,channel,\nE1,C1,received,{AT},email,\n"
        assert [type(i) for i in read_log(write(tmp_path, text))] == [LogRow]

    def test_with_a_mapping_the_exports_other_columns_are_ignored(self, tmp_path: Path) -> None:
        text = f"event_id,contact_id,type,occurred_at,channel,agent\nE1,C1,received,{AT},email,X\n"
        items = list(read_log(write(tmp_path, text), mapping=LogMapping()))
        assert [type(i) for i in items] == [LogRow]

    def test_an_unknown_json_lines_key_rejects_its_row(self, tmp_path: Path) -> None:
        fields = {"contact_id": "C1", "type": "received", "occurred_at": AT, "channel": "email"}
        lines = [
            {"event_id": "E1", **fields, "categroy": "complaint"},
            {"event_id": "E2", **fields},
        ]
        path = write(tmp_path, "".join(json.dumps(line) + "\n" for line in lines), "log.jsonl")
        read, rejected = outcome(list(read_log(path)))
        assert read == [2]
        assert [line for line, _ in rejected] == [1]
        assert rejected[0][1].startswith("unknown key 'categroy' (did you mean 'category'?)")


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_stray_quotes_closing_rows_later_are_read_in_linear_time(tmp_path: Path) -> None:
    # Each run of lines opening a quote is closed by the last: its rows are
    # read again once (the second record is rejected whole, not read again).
    run = '"a"b,"\n' * 3000 + 'x"\n'
    path = write(tmp_path, HEADER + run * 30 + good(1))
    started = time.perf_counter()
    items = list(read_log(path))
    assert time.perf_counter() - started < 10
    assert isinstance(items[-1], LogRow)
    assert items[-1].line == 2 + 30 * 3001


@pytest.mark.parametrize("name", ["text", "line", "raw_bytes", "plain", "state", "_cid"])
def test_a_column_named_as_the_columnar_readers_own_is_read_the_same_way_with_a_mapping(
    tmp_path: Path, name: str
) -> None:
    # As tests/test_replay_order.py's test of the same name, which read such a
    # log without a mapping: there the column is now refused as unknown.
    log = write(
        tmp_path,
        f"event_id,contact_id,type,occurred_at,channel,{name}\n"
        "b1,B,received,2025-03-03T09:00:00+01:00,email,bonjour\n"
        "b2,B,answered,2025-03-04T09:00:00+01:00,,reponse\n",
    )
    rows = replayed(
        log,
        tmp_path / "rows.db",
        catalogue="marianne-besancon",
        columnar=False,
        mapping=LogMapping(),
    )
    columns = replayed(
        log, tmp_path / "columns.db", catalogue="marianne-besancon", mapping=LogMapping()
    )
    assert rows["summary"] == columns["summary"] == (2, 2, 0, 0)
    for key in ("rejects", "events", "view"):
        assert rows[key] == columns[key], key
