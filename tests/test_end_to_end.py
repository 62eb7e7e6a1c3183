"""From a generated log through replay and report, checked against counts made in the test.

The figures are recomputed here from the CSV itself, with the reference
model of ``test_engine_model`` (working days counted one by one), without
the engine's event store, view or index.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from sla_engine._generate import generate_log
from sla_engine.cli import main

from .test_engine_model import MODEL_CATALOGUE, model_timers

START, END = dt.date(2025, 1, 6), dt.date(2025, 3, 28)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("e2e") / "log.csv"
    generate_log(path, contacts=400, seed=7, calendar_spec="fr", start=START, end=END)
    return path


@pytest.fixture(scope="module")
def catalogue_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "model.toml"
    assert MODEL_CATALOGUE.text is not None
    path.write_text(MODEL_CATALOGUE.text)
    return path


def expected_figures(log: Path) -> tuple[dict[str, Counter[str]], str]:
    """Per engagement, the timers' final states, from the CSV and the reference model."""
    histories: dict[str, list[tuple[str, dt.datetime]]] = defaultdict(list)
    channels: dict[str, str] = {}
    last = None
    with log.open(newline="") as handle:
        for row in csv.DictReader(handle):
            when = dt.datetime.fromisoformat(row["occurred_at"])
            histories[row["contact_id"]].append((row["type"], when))
            if row["type"] in ("received", "reclassified") and row["channel"]:
                channels[row["contact_id"]] = row["channel"]
            last = when if last is None or when > last else last
    assert last is not None
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for contact, history in histories.items():
        history.sort(key=lambda e: (e[1], e[0] != "received"))
        for (engagement, _), timer in model_timers(history, channels[contact], last).items():
            state = timer.state.value
            counts[engagement][{"running": "pending", "paused": "pending"}.get(state, state)] += 1
    return counts, last.isoformat()


def replay_and_report(log: Path, catalogue: Path, store: str, *extra: str) -> dict:  # type: ignore[type-arg]
    args = ["replay", str(log), "--catalogue", str(catalogue), "--calendar", "fr", "--store", store]
    assert main([*args, *extra]) == 0
    return report(store)


def report(store: str, *options: str) -> dict:  # type: ignore[type-arg]
    out = Path(store).with_suffix(".json")
    assert main(["report", "--store", store, "--format", "json", "-o", str(out), *options]) == 0
    return json.loads(out.read_text())  # type: ignore[no-any-return]


def test_report_matches_counts_made_from_the_log(
    log: Path, catalogue_file: Path, tmp_path: Path
) -> None:
    expected, as_of = expected_figures(log)
    report = replay_and_report(log, catalogue_file, str(tmp_path / "store.db"))
    assert report["as_of"] == as_of
    for entry in report["engagements"]:
        want = expected[entry["id"]]
        got = {k: entry[k] for k in ("met", "late", "overdue", "pending")}
        assert got == {k: want[k] for k in got}, entry["id"]
        assert entry["total"] == sum(want.values())
    assert sum(e["total"] for e in report["engagements"]) > 400


def test_replay_and_review_in_two_processes_match_the_counts_too(
    log: Path, catalogue_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The log read in a second process (--jobs 2), and the review counted half
    # there (its pages small, the helper from the second one).
    from sla_engine import _report, _view

    monkeypatch.setattr(_view, "_PAGE", 50)
    monkeypatch.setattr(_report, "PAGES_ALONE", 1)
    expected, as_of = expected_figures(log)
    store = str(tmp_path / "store.db")
    args = ["replay", str(log), "--catalogue", str(catalogue_file), "--calendar", "fr"]
    assert main([*args, "--store", store, "--jobs", "2"]) == 0
    report_ = report(store, "--jobs", "2")
    assert report_["as_of"] == as_of
    for entry in report_["engagements"]:
        want = expected[entry["id"]]
        assert {k: entry[k] for k in ("met", "late", "overdue", "pending")} == {
            k: want[k] for k in ("met", "late", "overdue", "pending")
        }, entry["id"]


def test_every_format_carries_the_same_figures(
    log: Path, catalogue_file: Path, tmp_path: Path
) -> None:
    store = str(tmp_path / "store.db")
    data = replay_and_report(log, catalogue_file, store)
    figures = {
        e["id"]: [str(e[k]) for k in ("total", "met", "late", "overdue", "pending", "exempt")]
        for e in data["engagements"]
    }
    texts = {}
    for fmt in ("csv", "md", "html"):
        out = tmp_path / f"report.{fmt}"
        assert main(["report", "--store", store, "--format", fmt, "-o", str(out)]) == 0
        texts[fmt] = out.read_text(encoding="utf-8")
    rows = {r[0]: r[3:9] for r in csv.reader(texts["csv"].splitlines()[1:])}
    assert rows == figures
    for engagement, counts in figures.items():
        assert f"| {engagement} |" in texts["md"]
        assert "| " + " | ".join(counts) + " |" in texts["md"]
        assert engagement in texts["html"]


def test_a_killed_replay_run_again_gives_the_same_report(
    log: Path, catalogue_file: Path, tmp_path: Path
) -> None:
    whole = replay_and_report(log, catalogue_file, str(tmp_path / "whole.db"))
    # Kill it once it has committed some batches, before it could finish; on a
    # machine fast enough to finish first, try again with smaller batches.
    for attempt, batch in enumerate(("50", "10", "2")):
        store = tmp_path / f"killed-{attempt}.db"
        command = [
            sys.executable, "-m", "sla_engine.cli", "replay", str(log), "--catalogue",
            str(catalogue_file), "--calendar", "fr", "--store", str(store), "--batch", batch,
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if store.exists() and store.stat().st_size > 100_000:
                break
            time.sleep(0.005)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if process.returncode == -signal.SIGKILL:
            break
    assert process.returncode == -signal.SIGKILL, "every replay finished before it could be killed"
    again = replay_and_report(log, catalogue_file, str(store))
    assert again == whole
