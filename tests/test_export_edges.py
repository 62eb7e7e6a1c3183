"""Replaying real exports: bad rows rejected alone, times never shifted.

Found by an audit of the replay of exports:
- a JSON escape of half a UTF-16 pair (« \\ud800 ») in one row stopped the
  whole replay at storing, and nothing of the log was stored;
- a date format with %Z read « 09:00 UTC » and placed it in assume_tz (an
  hour off); a format that is not text, or reads nothing, was accepted and
  then every row was rejected;
- the export's date format was applied to an ISO 8601 recorded_at too,
  which lost the row;
- JSON Lines ids and text fields holding an object, a list, true or 7.0
  were stored as their Python text; an attributes object skipped the
  4,096-character bound;
- a rule's rejection named the field « type » whatever the rule (an id
  given twice, an event recorded before it happened).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sla_engine import SlaEngine
from sla_engine.cli import main

HEADER = "event_id,contact_id,type,occurred_at,recorded_at,channel,attributes\n"


def _replay(tmp_path: Path, log: Path, *extra: str) -> tuple[int, list[list[str]], SlaEngine]:
    store, rejects = tmp_path / "s.db", tmp_path / "rejects.csv"
    command = ["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]
    code = main([*command, "--rejects", str(rejects), *extra])
    with rejects.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    return code, rows, SlaEngine(store=f"sqlite:///{store}")


@pytest.mark.parametrize("path", ["columnar", "row-by-row"])
def test_half_a_surrogate_pair_rejects_its_row_alone(tmp_path: Path, path: str) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        HEADER
        + "1,A,received,2025-11-03T10:00:00+01:00,,email,\n"
        + '2,B,received,2025-11-03T10:00:00+01:00,,email,"{""note"": ""\\ud800""}"\n'
        + "3,A,answered,2025-11-04T10:00:00+01:00,,,\n",
        encoding="utf-8",
    )
    extra = ("--row-by-row",) if path == "row-by-row" else ()
    code, rejects, engine = _replay(tmp_path, log, *extra)
    assert code == 0
    assert rejects == [[str(log), "3", "2", "attributes", "not valid Unicode text"]]
    assert [e.event_id for e in engine.history("A")] == ["1", "3"]


def test_json_lines_ids_and_texts_must_be_text(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    rows = [
        {"event_id": 1, "contact_id": "A", "type": "received",
         "occurred_at": "2025-11-03T10:00:00+01:00", "channel": "email"},
        {"event_id": "2", "contact_id": {"nested": "Jean Dupont"}, "type": "received",
         "occurred_at": "2025-11-03T10:00:00+01:00", "channel": "email"},
        {"event_id": 7.0, "contact_id": "C", "type": "received",
         "occurred_at": "2025-11-03T10:00:00+01:00", "channel": "email"},
        {"event_id": "4", "contact_id": "D", "type": "received",
         "occurred_at": "2025-11-03T10:00:00+01:00", "channel": "email",
         "attributes": {"to": ["Mme Durand"]}},
        {"event_id": "5", "contact_id": "E", "type": "received",
         "occurred_at": "2025-11-03T10:00:00+01:00", "channel": "email",
         "attributes": {"note": "x" * 5000}},
        {"event_id": "6", "contact_id": "\ud800", "type": "received",
         "occurred_at": "2025-11-03T10:00:00+01:00", "channel": "email"},
    ]  # fmt: skip
    log.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    code, rejects, engine = _replay(tmp_path, log)
    assert code == 0
    assert [(r[1], r[3], r[4]) for r in rejects] == [
        ("2", "contact_id", "must be text, not dict"),
        ("3", "event_id", "must be text, not float"),
        ("4", "to", "must be text, not list"),
        ("5", "attributes", "longer than 4096 characters"),
        ("6", "contact_id", "not valid Unicode text"),
    ]
    assert [e.event_id for e in engine.history("A")] == ["1"]
    assert "Dupont" not in (tmp_path / "rejects.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("time_format", "message"),
    [
        ("%d/%m/%Y %H:%M %Z", "%Z reads a zone name and drops it: write offsets with %z"),
        ("%Q", "cannot read back what it writes"),
        (5, "must be a strptime format"),
    ],
)
def test_a_date_format_that_would_lose_or_shift_times_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], time_format: object, message: str
) -> None:
    mapping = tmp_path / "map.toml"
    written = json.dumps(time_format) if isinstance(time_format, str) else str(time_format)
    mapping.write_text(
        f'[options]\nassume_tz = "Europe/Paris"\noccurred_at_format = {written}\n',
        encoding="utf-8",
    )
    log = tmp_path / "log.csv"
    log.write_text(HEADER + "1,A,received,03/11/2025 09:00 UTC,,email,\n", encoding="utf-8")
    store = tmp_path / "s.db"
    command = ["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]
    assert main([*command, "--mapping", str(mapping)]) == 2
    assert f"options.occurred_at_format: {message}" in capsys.readouterr().err


def test_recorded_at_in_iso_8601_is_read_beside_the_exports_format(tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text(
        '[options]\nassume_tz = "Europe/Paris"\noccurred_at_format = "%d/%m/%Y %H:%M"\n',
        encoding="utf-8",
    )
    log = tmp_path / "log.csv"
    log.write_text(
        HEADER + "1,A,received,03/11/2025 09:00,2025-11-05T10:00:00+01:00,letter,\n",
        encoding="utf-8",
    )
    code, rejects, engine = _replay(tmp_path, log, "--mapping", str(mapping))
    assert (code, rejects) == (0, [])
    (event,) = engine.history("A")
    assert event.recorded_at is not None
    assert event.recorded_at.isoformat() == "2025-11-05T10:00:00+01:00"


def test_a_rules_rejection_names_the_field_at_fault(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        HEADER
        + "1,A,received,2025-11-03T10:00:00+01:00,,email,\n"
        + "1,A,answered,2025-11-04T10:00:00+01:00,,,\n"
        + "2,B,received,2025-11-09T10:00:00+01:00,2025-11-05T10:00:00+01:00,email,\n",
        encoding="utf-8",
    )
    code, rejects, _ = _replay(tmp_path, log, "--row-by-row")
    assert code == 0
    assert [(r[1], r[3]) for r in rejects] == [("3", "event_id"), ("4", "occurred_at")]
    assert all("'A'" not in r[4] and "'B'" not in r[4] for r in rejects)
