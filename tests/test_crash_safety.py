"""Crash safety: a replay or a projection killed anywhere loses nothing and duplicates nothing.

``sla-engine replay`` records its rows in batches, each one transaction, and
the timer view records its position in the same transaction as the timers
it writes.  So a process killed with SIGKILL at any instant, then run again,
must leave exactly the store an uninterrupted run leaves: the same stored
events in the same order, the same timer view, the same report.

The log is generated (1,500 contacts over a school year, a few malformed
rows).  Rows without a ``recorded_at`` get their ``occurred_at`` there: the
engine would otherwise stamp them with the wall clock of the run that
recorded them, and two runs at different times could never store the same
bytes (``recorded_at`` is documented to default to the engine's clock).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sla_engine import SlaEngine
from sla_engine._generate import generate_log
from sla_engine._rules import RULES_ID

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")

CONTACTS = 1500
SEED = 20251017
KILLS = 20
CATCH_UP_KILLS = 5
CATALOGUE = "qualicirco"
SPEC = "fr"
NOW = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
CLI = [sys.executable, "-m", "sla_engine.cli"]


# -- helpers -------------------------------------------------------------------------


def write_log(path: Path, contacts: int, seed: int, malformed: float) -> Path:
    raw = path.with_suffix(".raw.csv")
    generate_log(
        raw,
        contacts=contacts,
        seed=seed,
        calendar_spec=SPEC,
        start=dt.date(2025, 9, 1),
        end=dt.date(2026, 6, 30),
        malformed=malformed,
    )
    # event_id,contact_id,type,occurred_at,recorded_at,...: an empty recorded_at
    # takes the occurred_at (rows the corruptions broke are left as they are).
    pattern = re.compile(r"^([^,\"]*,[^,\"]*,[^,\"]*,)([^,\"]+),,")
    text = raw.read_text(encoding="utf-8")
    path.write_text(
        "".join(pattern.sub(r"\1\2,\2,", line) for line in text.splitlines(keepends=True)),
        encoding="utf-8",
    )
    return path


def replay_args(log: Path, store: Path, rejects: Path | None = None) -> list[str]:
    args = [*CLI, "replay", str(log), "--catalogue", CATALOGUE, "--calendar", SPEC]
    # Small blocks: a columnar replay stores many times before it ends.
    args += ["--store", str(store), "--batch", "50", "--block", "40"]
    return args + ([] if rejects is None else ["--rejects", str(rejects)])


def report_args(store: Path) -> list[str]:
    return [*CLI, "report", "--store", str(store), "--format", "json"]


def run(args: list[str], cwd: Path) -> tuple[str, float]:
    started = time.monotonic()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout, time.monotonic() - started


def run_and_kill(args: list[str], cwd: Path, after: float) -> bool:
    """Run ``args`` and SIGKILL it ``after`` seconds in; whether it was killed (not done)."""
    process = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        _, err = process.communicate(timeout=after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        return True
    assert process.returncode == 0, err
    return False


def stored_count(path: Path) -> int:
    """Events in a store another process is writing (0 before its tables exist)."""
    try:
        with connect(path) as db:
            return int(db.execute("SELECT count(*) FROM stored_events").fetchone()[0])
    except sqlite3.OperationalError:  # no file or no table yet
        return 0


def run_and_kill_at(
    args: list[str], cwd: Path, store: Path, events: int, rng: random.Random
) -> bool:
    """Run ``args``; SIGKILL it once ``store`` holds ``events`` events, a little later.

    The moment is chosen by progress, not by time: on a loaded machine a run
    may take seconds to start, and a kill by the clock would land before it
    records anything.  The random delay after the threshold lands the kill
    anywhere: inside a batch, between the events and their projection...
    """
    process = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if stored_count(store) >= events:
            time.sleep(rng.uniform(0, 0.05))
            break
        time.sleep(0.005)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        return True
    _, err = process.communicate()
    assert process.returncode == 0, err
    return False


@contextlib.contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that commits and closes (sqlite3's own context manager only commits)."""
    db = sqlite3.connect(path, timeout=30)
    try:
        with db:
            yield db
    finally:
        db.close()


def tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def stored_rows(path: Path) -> list[tuple[int, str, int, str, Any]]:
    """(notification id, originator_id, version, topic, state) of every stored event.

    The rules aggregate's ``timestamp`` is the wall clock of the run that chose
    the rules: it is the one value left out.
    """
    with connect(path) as db:
        rows = db.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "
            "FROM stored_events ORDER BY rowid"
        ).fetchall()
    result = []
    for rowid, originator, version, topic, state in rows:
        data = json.loads(state)
        if originator == RULES_ID:
            data.pop("timestamp")
        result.append((rowid, originator, version, topic, data))
    return result


def per_contact(rows: list[tuple[int, str, int, str, Any]]) -> list[tuple[str, int, str, str]]:
    """The stored events without their notification ids, by contact and version."""
    return sorted((o, v, t, json.dumps(s, sort_keys=True)) for _, o, v, t, s in rows)


def sorted_lines(path: Path) -> list[str]:
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    return [header, *sorted(lines)]


def view_rows(path: Path) -> set[tuple[Any, ...]]:
    with connect(path) as db:
        if "sla_timers" not in tables(db):
            return set()
        return set(db.execute("SELECT * FROM sla_timers"))


def positions(path: Path) -> tuple[int, int]:
    """(the view's tracking position, the last notification id), 0 when none."""
    if not path.exists():
        return 0, 0
    with connect(path) as db:
        names = tables(db)
        last = 0
        if "stored_events" in names:
            last = db.execute("SELECT coalesce(max(rowid), 0) FROM stored_events").fetchone()[0]
        tracked = 0
        if "tracking" in names:
            row = db.execute(
                "SELECT notification_id FROM tracking WHERE application_name = 'SlaEngine'"
            ).fetchone()
            tracked = 0 if row is None else row[0]
    return tracked, last


def check_after_kill(path: Path) -> int:
    """Invariants of a store whatever the instant its writer died; the number of events."""
    if not path.exists():
        return 0
    with connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    tracked, last = positions(path)
    assert tracked <= last, f"the view is at {tracked}, past the last notification {last}"
    rows = stored_rows(path) if last else []
    # No event twice: every (contact, event id) once, versions 1..n without a gap.
    ids = [(r[1], r[4]["event_id"]) for r in rows if r[1] != RULES_ID]
    assert len(ids) == len(set(ids))
    versions: dict[str, list[int]] = {}
    for _, originator, version, _, _ in rows:
        versions.setdefault(originator, []).append(version)
    for originator, seen in versions.items():
        assert sorted(seen) == list(range(1, len(seen) + 1)), originator
    return len(rows)


def copy_store(source: Path, target: Path) -> Path:
    with connect(source) as src, connect(target) as dst:
        src.backup(dst)
    return target


def timers(path: Path) -> list[dict[str, Any]]:
    engine = SlaEngine(store=str(path))
    try:
        return [t.to_dict() for t in engine.all_timers(now=NOW)]
    finally:
        engine.close()


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    """A folder in memory where there is one (/dev/shm).

    SQLite's fsyncs cost more than the replay itself on a disk; a SIGKILL
    kills the process, not the machine, so what was written stays in the
    page cache whether or not it reached the disk: memory tests the same thing.
    """
    shm = Path("/dev/shm")  # noqa: S108 - a private folder is made inside
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="sla-crash-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- the uninterrupted run -----------------------------------------------------------


class Baseline:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = write_log(root / "log.csv", CONTACTS, SEED, malformed=0.01)
        self.store = root / "baseline.db"
        self.rejects = root / "baseline-rejects.csv"
        summary, self.replay_seconds = run(replay_args(self.log, self.store, self.rejects), root)
        match = re.match(r"([\d,]+) rows read: ([\d,]+) recorded", summary)
        assert match is not None, summary
        self.rows, self.recorded = (int(g.replace(",", "")) for g in match.groups())
        self.report, self.report_seconds = run(report_args(self.store), root)
        self.stored = stored_rows(self.store)
        self.view = view_rows(self.store)
        self.timers = timers(self.store)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Baseline]:
    shm = Path("/dev/shm")  # noqa: S108 - a private folder is made inside
    if shm.is_dir() and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="sla-crash-baseline-", dir=shm))
    else:
        folder = tmp_path_factory.mktemp("crash-baseline")
    try:
        yield Baseline(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_baseline_records_every_good_row(baseline: Baseline) -> None:
    with baseline.rejects.open(newline="", encoding="utf-8") as handle:
        rejected = list(csv.DictReader(handle))
    assert rejected, "the log should hold a few malformed rows"
    assert baseline.recorded == baseline.rows - len(rejected)
    assert len(baseline.stored) == baseline.recorded + 1  # and the rules
    assert baseline.timers
    assert positions(baseline.store) == (len(baseline.stored), len(baseline.stored))


# -- a replay killed 20 times ---------------------------------------------------------


def test_a_replay_killed_anywhere_then_completed_stores_what_an_uninterrupted_one_does(
    baseline: Baseline, scratch: Path
) -> None:
    tmp_path = scratch
    store = tmp_path / "killed.db"
    rng = random.Random(SEED)  # noqa: S311 - reproducible kill points, not security
    # Kill points by the number of events stored, in increasing order (a run
    # again first checks every row already recorded before it records more).
    kill_points = sorted(rng.randrange(1, len(baseline.stored)) for _ in range(KILLS))
    killed = 0
    counts = [0]
    for events in kill_points:
        killed += run_and_kill_at(replay_args(baseline.log, store), tmp_path, store, events, rng)
        counts.append(check_after_kill(store))

        assert counts[-1] >= counts[-2], "a killed run lost events recorded before it"
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} runs were killed before they ended"
    # Several runs were killed after recording something, before the store was complete.
    assert len({n for n in counts if 0 < n < len(baseline.stored)}) >= 3, counts

    rejects = tmp_path / "rejects.csv"
    summary, _ = run(replay_args(baseline.log, store, rejects), tmp_path)
    assert summary.startswith(f"{baseline.rows:,} rows read: ")
    assert check_after_kill(store) == len(baseline.stored)

    # The same events, with the same content, ids and versions (a killed columnar
    # run is completed row by row: different contacts' events may come in
    # another order), and the same rejects.
    assert per_contact(stored_rows(store)) == per_contact(baseline.stored)
    assert sorted_lines(rejects) == sorted_lines(baseline.rejects)
    # The same report, and the same timers, live and projected again from scratch.
    report, _ = run(report_args(store), tmp_path)
    assert report == baseline.report
    assert view_rows(store) == baseline.view
    assert timers(store) == baseline.timers
    engine = SlaEngine(store=str(store))
    try:
        last = engine.recorder.max_notification_id()
        assert engine.view.max_tracking_id(engine.name) == last
        histories = {h[0].contact_id: h for h in engine.histories()}
        live = [t.to_dict() for t in engine.all_timers(now=NOW)]
        engine.rebuild_view()
        assert [t.to_dict() for t in engine.all_timers(now=NOW)] == live == baseline.timers
    finally:
        engine.close()
    assert sum(len(h) for h in histories.values()) == baseline.recorded
    assert all(len({e.event_id for e in h}) == len(h) for h in histories.values()), (
        "an event recorded twice"
    )


# -- a projection killed while it catches up -----------------------------------------


def clear_view(path: Path) -> None:
    """What ``rebuild_view`` starts with: no timers, no tracking position."""
    with connect(path) as db:
        db.execute("DELETE FROM sla_timers")
        db.execute("DELETE FROM tracking WHERE application_name = 'SlaEngine'")


def test_a_report_killed_while_the_view_catches_up_leaves_a_consistent_view(
    baseline: Baseline, scratch: Path
) -> None:
    tmp_path = scratch
    # A complete log with the whole view to project: a report catches up first.
    measured = copy_store(baseline.store, tmp_path / "measured.db")
    clear_view(measured)
    report, seconds = run(report_args(measured), tmp_path)
    assert report == baseline.report

    store = copy_store(baseline.store, tmp_path / "catching-up.db")
    clear_view(store)
    contact_at = {r[0]: r[1] for r in baseline.stored if r[1] != RULES_ID}
    rng = random.Random(SEED + 1)  # noqa: S311 - reproducible kill times
    tracked_positions = []
    for _ in range(CATCH_UP_KILLS):
        run_and_kill(report_args(store), tmp_path, rng.uniform(0.3, seconds))
        check_after_kill(store)
        tracked, _ = positions(store)
        tracked_positions.append(tracked)
        rows = view_rows(store)
        # Only timers of the complete log, and all of those of every contact the
        # view says it has projected.
        assert rows <= baseline.view
        projected = {c for rowid, c in contact_at.items() if rowid <= tracked}
        assert {r for r in baseline.view if r[0] in projected} <= rows
        assert {r[0] for r in rows} <= projected
    assert stored_rows(store) == baseline.stored, "a projection must never write events"
    report, _ = run(report_args(store), tmp_path)
    assert report == baseline.report
    assert view_rows(store) == baseline.view
    assert positions(store) == positions(baseline.store)


# -- killed between a change of rules and the view's rebuild ----------------------------


_KILL_BEFORE_REBUILD = """
import os, signal, sys
from sla_engine._engine import SlaEngine
# The instant after the new rules are saved, before the view is cleared: a crash there.
SlaEngine._rebuild = lambda self, rules_version: os.kill(os.getpid(), signal.SIGKILL)
SlaEngine(sys.argv[1], "fr", store=sys.argv[2])
"""


def test_killed_after_a_change_of_rules_the_view_is_rebuilt(scratch: Path) -> None:
    tmp_path = scratch
    log = write_log(tmp_path / "small.csv", 80, SEED, malformed=0.0)
    store = tmp_path / "rules.db"
    run(replay_args(log, store), tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _KILL_BEFORE_REBUILD, "marianne-besancon", str(store)],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    engine = SlaEngine(store=str(store))  # the stored rules: now marianne-besancon
    try:
        assert engine.catalogue.id == "marianne-besancon"
        live = [t.to_dict() for t in engine.all_timers(now=NOW)]
        engine.rebuild_view()
        rebuilt = [t.to_dict() for t in engine.all_timers(now=NOW)]
    finally:
        engine.close()
    assert {t["catalogue"] for t in rebuilt} == {"marianne-besancon"}
    assert live == rebuilt
