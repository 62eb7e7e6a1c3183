"""Tests for the sla-engine command line, called in-process and as a console script."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sla_engine.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


class TestBrokenPipe:
    """Output piped into ``head``: the reader goes away, the command exits quietly (141)."""

    def test_a_closed_pipe_exits_141_without_a_message(self, tmp_path: Path) -> None:
        read_end, write_end = os.pipe()
        os.close(read_end)  # the reader is gone before the first line is written
        try:
            result = subprocess.run(
                [sys.executable, "-m", "sla_engine.cli", "calendars"],
                stdout=write_end,
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")},
            )
        finally:
            os.close(write_end)
        assert result.returncode == 141
        assert result.stderr == ""

    def test_in_process_too(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        class Gone(io.StringIO):
            def write(self, text: str) -> int:
                raise BrokenPipeError(32, "Broken pipe")

        monkeypatch.setattr(sys, "stdout", Gone())
        assert main(["calendars"]) == 141
        assert capsys.readouterr().err == ""


class TestDeadline:
    def test_plain(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(
            capsys, "deadline", "--calendar", "fr+B", "--received",
            "2025-10-17T16:05:00+02:00", "--delay", "15 jours ouvrés",
        )  # fmt: skip
        assert code == 0
        # French typography (a space before the colon) and dates in words; ISO with --json.
        assert out == (
            "échéance : vendredi 7 novembre 2025, à 24 h\n"
            "expire le : samedi 8 novembre 2025 à 00:00 (UTC+01:00)\n"
        )

    def test_plain_in_english_and_in_hours(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(
            capsys, "deadline", "--calendar", "fr+B", "--received",
            "2025-10-17T16:05:00+02:00", "--delay", "15 jours ouvrés", "--lang", "en",
        )  # fmt: skip
        assert code == 0
        assert out == (
            "due date: Friday 7 November 2025, by the end of that day (24:00)\n"
            "expires: Saturday 8 November 2025 at 00:00 (UTC+01:00)\n"
        )
        code, out, _ = run(
            capsys, "deadline", "--calendar", "fr", "--received",
            "2025-10-17T16:05:00+02:00", "--delay", "3 heures",
        )  # fmt: skip
        assert out == "échéance : vendredi 17 octobre 2025 à 19:05 (UTC+02:00)\n"

    def test_json_with_explanation_in_english(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(
            capsys, "deadline", "--calendar", "fr-57", "--received",
            "2025-04-17T09:30:00+02:00", "--delay", "1 jour ouvré", "--json", "--explain",
            "--lang", "en",
        )  # fmt: skip
        assert code == 0
        data = json.loads(out)
        assert data["due_date"] == "2025-04-22"
        assert data["expires_at"] == "2025-04-23T00:00:00+02:00"
        assert data["calendar"] == "fr-57"
        assert data["delay"] == "1 jour ouvré"
        assert "Good Friday" in data["explanation"]

    def test_assume_tz(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(
            capsys, "deadline", "--calendar", "fr", "--received", "2025-10-17T16:05",
            "--assume-tz", "Europe/Paris", "--delay", "2 mois", "--json",
        )  # fmt: skip
        assert code == 0
        assert json.loads(out)["due_date"] == "2025-12-17"

    def test_no_extend(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(
            capsys, "deadline", "--calendar", "fr", "--received", "2025-10-22T11:00:00+02:00",
            "--delay", "10 jours", "--no-extend", "--json",
        )  # fmt: skip
        assert code == 0
        assert json.loads(out)["due_date"] == "2025-11-01"

    def test_extend(self, capsys: pytest.CaptureFixture[str]) -> None:
        # 5 jours ouvrables from Monday 2 June 2025 end on Saturday 7 June; Monday 9
        # is Whit Monday: CPC art. 642 extends them to Tuesday 10 when asked.
        single = ["deadline", "--calendar", "fr", "--received", "2025-06-02T10:00:00+02:00",
                  "--delay", "5 jours ouvrables", "--json"]  # fmt: skip
        code, out, _ = run(capsys, *single)
        assert code == 0
        assert json.loads(out)["due_date"] == "2025-06-07"
        code, out, _ = run(capsys, *single, "--extend")
        assert code == 0
        data = json.loads(out)
        assert (data["due_date"], data["unextended_due_date"]) == ("2025-06-10", "2025-06-07")
        with pytest.raises(SystemExit) as refused:
            main([*single, "--extend", "--no-extend"])
        assert refused.value.code == 2
        assert "not allowed with argument" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--received", "2025-10-17T16:05:00"], "has no UTC offset"),
            (["--delay", "15 jours fériés"], "unknown unit 'jours fériés'"),
            (["--calendar", "fr-99"], "unknown French territory '99'"),
            (["--received", "2100-12-20T10:00:00+01:00"], "outside the span covered"),
        ],
    )
    def test_errors(
        self, capsys: pytest.CaptureFixture[str], args: list[str], message: str
    ) -> None:
        options = {
            "--calendar": "fr",
            "--received": "2025-10-17T16:05:00+02:00",
            "--delay": "15 jours ouvrés",
        }
        options.update(dict(zip(args[::2], args[1::2], strict=True)))
        code, out, err = run(capsys, "deadline", *[x for kv in options.items() for x in kv])
        assert code == 2
        assert out == ""
        assert err.startswith("sla-engine: error: ")
        assert message in err

    def test_missing_options(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, err = run(capsys, "deadline", "--calendar", "fr")
        assert code == 2
        assert "missing --received, --delay" in err


class TestBulk:
    def test_good_rows_written_bad_rows_reported(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        source = tmp_path / "cases.csv"
        source.write_text(
            "received_at;delay;calendar;ref\n"
            "2025-10-17T16:05:00+02:00;15 jours ouvrés;;a\n"
            "2025-10-17T16:05:00;15 jours ouvrés;;b\n"
            "2025-04-17T09:30:00+02:00;1 jour ouvré;fr-57;c\n"
            "2025-04-17T09:30:00+02:00;3 lunes;;d\n"
            "2025-04-17T09:30:00+02:00;1 jour ouvré;fr-99;e\n"
            "2100-12-31T09:30:00+01:00;1 jour ouvré;;f\n",
            encoding="utf-8",
        )
        target = tmp_path / "out.csv"
        code, out, err = run(
            capsys, "deadline", "--calendar", "fr", "--input", str(source), "--output", str(target)
        )
        assert code == 1
        assert out == ""
        with target.open(newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=";"))
        assert [(r["ref"], r["due_date"], r["expires_at"]) for r in rows] == [
            ("a", "2025-11-07", "2025-11-08T00:00:00+01:00"),
            ("c", "2025-04-22", "2025-04-23T00:00:00+02:00"),
        ]
        lines = err.splitlines()
        assert lines[0].startswith(f"{source}:3: received_at: ")
        assert "no UTC offset" in lines[0]
        assert lines[1].startswith(f"{source}:5: delay: unknown unit")
        assert lines[2].startswith(f"{source}:6: calendar: unknown French territory")
        assert lines[3].startswith(f"{source}:7: received_at: calendar 'fr': 2101-01-01")
        assert lines[4] == "sla-engine: 4 rows rejected; the others were written"

    def test_missing_column(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        source = tmp_path / "cases.csv"
        source.write_text("when,delay\n2025-10-17T16:05:00+02:00,1 jour ouvré\n")
        code, _, err = run(capsys, "deadline", "--calendar", "fr", "--input", str(source))
        assert code == 2
        assert "has no 'received_at' column" in err

    def test_to_standard_output(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        source = tmp_path / "cases.csv"
        source.write_text("received_at,delay\n2025-10-17T16:05:00+02:00,1 jour ouvré\n")
        code, out, _ = run(capsys, "deadline", "--calendar", "fr", "--input", str(source))
        assert code == 0
        assert out.splitlines() == [
            "received_at,delay,due_date,expires_at",
            "2025-10-17T16:05:00+02:00,1 jour ouvré,2025-10-20,2025-10-21T00:00:00+02:00",
        ]


class TestCalendars:
    def test_json_lists_territories_and_zones(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, "calendars", "--json")
        assert code == 0
        data = json.loads(out)
        specs = {t["spec"]: t for t in data["territories"]}
        assert specs["fr-974"]["time_zone"] == "Indian/Reunion"
        assert specs["fr"]["public_holidays"] == {"first": "1803-01-01", "last": "2100-12-31"}
        zones = {z["zone"]: z for z in data["school_zones"]}
        assert {"A", "B", "C", "Corse", "Réunion", "Guadeloupe"} <= set(zones)
        assert "2024-2025" in zones["B"]["school_years"]

    def test_text(self, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = run(capsys, "calendars")
        assert code == 0
        assert "fr-57" in out
        assert "+B" in out


def test_console_script_is_installed() -> None:
    script = shutil.which("sla-engine", path=str(Path(sys.executable).parent))
    assert script is not None, "the sla-engine console script is not installed"
    result = subprocess.run(
        [script, "deadline", "--calendar", "fr", "--received", "2025-11-08T10:00:00+01:00",
         "--delay", "5 jours ouvrés", "--json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(result.stdout)["due_date"] == "2025-11-17"


# -- what the command line says of files and stores it cannot read ----------------------


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    """What the command wrote on standard error, asserted to be one line."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err


def test_a_file_that_is_not_utf8_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its header, that is; a row that is not UTF-8 is rejected alone (test_cli_inputs)."""
    cases = tmp_path / "cases.csv"
    cases.write_bytes(b"received_at;d\xe9lai\n2025-10-17T16:05:00+02:00;15 jours ouvr\xe9s\n")
    assert main(["deadline", "--calendar", "fr", "--input", str(cases)]) == 2
    assert f"{cases}:1: the header is not UTF-8 text" in _one_line_error(capsys)


def test_a_date_past_the_year_9999_is_a_rejected_row_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "received_at,delay\n"
        "2025-10-17T16:05:00+02:00,15 jours ouvrés\n"
        "9999-11-30T10:00:00+00:00,2 mois\n"
        "2025-10-17T16:05:00+02:00,1 jour ouvré\n"
    )
    assert main(["deadline", "--calendar", "fr", "--input", str(cases)]) == 1
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 3  # the header and both good rows
    assert ":3: received_at:" in err
    single = ["deadline", "--calendar", "fr", "--received", "9999-12-30T10:00:00+00:00"]
    assert main([*single, "--delay", "5 jours calendaires", "--no-extend"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_an_encrypted_store_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64
    import os

    from sla_engine import SlaEngine

    store = tmp_path / "enc.db"
    key = base64.b64encode(os.urandom(32)).decode()
    SlaEngine("marianne-besancon", "fr", store=str(store), cipher_key=key).close()
    assert main(["report", "--store", str(store)]) == 2
    assert "encrypted" in _one_line_error(capsys)


def test_a_first_replay_without_a_catalogue_says_what_it_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.csv"
    log.write_text("event_id,contact_id,type,occurred_at,channel\n")
    store = tmp_path / "new.db"
    assert main(["replay", str(log), "--calendar", "fr", "--store", str(store)]) == 2
    assert "first replay needs --catalogue" in _one_line_error(capsys)
    assert not store.exists()
