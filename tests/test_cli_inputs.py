"""The command line keeps its inputs whole and their content to itself.

- An output file that is one of the command's inputs (the log, the store,
  the ``--input`` cases) is refused before anything is opened: opening it
  for writing used to empty it, and the command reported success.
- ``deadline --input`` names a bad row's line and field with the reason,
  never what the field holds (it quoted it, a person's name too).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sla_engine import SlaEngine
from sla_engine.cli import main

LOG = (
    "event_id,contact_id,type,occurred_at,channel\n"
    "1,A,received,2025-11-03T10:00:00+01:00,email\n"
    "2,A,answered,2025-11-04T10:00:00+01:00,\n"
)


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err.strip()


def test_deadline_output_over_its_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.csv"
    text = "received_at,delay\n" + "2025-11-08T10:00:00+01:00,5 jours ouvrés\n" * 3000
    cases.write_text(text, encoding="utf-8")
    args = ["deadline", "--calendar", "fr", "--input", str(cases), "--output"]
    assert main([*args, str(tmp_path / "." / "cases.csv")]) == 2
    assert "--output" in _error(capsys)
    assert cases.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("victim", ["log", "store", "sites"])
def test_replay_rejects_over_an_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], victim: str
) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    store = tmp_path / "s.db"
    assert main(["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]) == 0
    sites = tmp_path / "sites.csv"
    sites.write_text("id,name\nE1,École A\n", encoding="utf-8")
    # The store's file is compared by what it holds (a checkpoint may rewrite it).
    before = {p: p.read_bytes() for p in (log, sites)}
    target = {"log": log, "store": store, "sites": sites}[victim]
    code = main(
        [
            "replay", str(log), "--store", str(store), "--sites", str(sites),
            "--rejects", str(target),
        ]
    )  # fmt: skip
    assert code == 2
    message = _error(capsys)
    assert message.startswith(f"sla-engine: error: --rejects {target} is the ")
    assert {p: p.read_bytes() for p in before} == before
    engine = SlaEngine(store=f"sqlite:///{store}")
    assert [t.state.value for t in engine.timers("A", now=dt.datetime.now(dt.UTC))] == ["met"]
    engine.close()


def test_report_output_over_the_store_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    store = tmp_path / "s.db"
    assert main(["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]) == 0
    size = store.stat().st_size
    assert main(["report", "--store", f"sqlite:///{store}", "--output", str(store)]) == 2
    assert "is the store" in _error(capsys)
    assert store.stat().st_size == size
    assert main(["report", "--store", str(store), "--format", "json"]) == 0


def test_deadline_rows_are_rejected_without_their_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "id,received_at,delay\n"
        "1,Marie Dupont 12 rue X,5 jours ouvrés\n"
        "2,2025-11-08T10:00:00+01:00,Marie Dupont malade\n"
        "3,2025-11-08T10:00:00+01:00,5 jours ouvrés\n",
        encoding="utf-8",
    )
    assert main(["deadline", "--calendar", "fr", "--input", str(cases)]) == 1
    out, err = capsys.readouterr()
    assert "Dupont" not in err
    assert f"{cases}:2: received_at: not an ISO 8601 date-time" in err
    assert f"{cases}:3: delay: cannot read the delay" in err
    assert (
        out.splitlines()[1]
        == "3,2025-11-08T10:00:00+01:00,5 jours ouvrés,2025-11-17,2025-11-18T00:00:00+01:00"
    )
