"""Replay and review of a whole log: sla-engine (SQLite file, in memory) against a Polars baseline.

Run: ``.venv/bin/python benchmarks/bench_replay.py --events N [--repeats R] [--json FILE]``

The log is written by ``generate_log`` (calendar ``fr``, the school year
2025-09-01 to 2026-07-03, no corrupted rows), then cut down to what the
baseline supports, because the generator has no switch for it:

- every row of a contact that has any ``suspended``, ``resumed``,
  ``reopened``, ``flagged_complex`` or ``reclassified`` event is dropped
  (about 15 % of the contacts);
- the rows that happen after the last day of arrivals are dropped, as if
  the export had been taken that evening, so that the review has pending
  timers as well as overdue ones (the generator's log runs on for 90 days
  after it, by which time every open timer is overdue).

Late ``recorded_at`` values, holding replies, escalations and announced
delays are kept: they change none of the figures compared.

Contenders, in one process, their repeats interleaved; each figure is
the best of ``--repeats`` runs:

- ``sla-engine sqlite``: ``replay(...)`` (the columnar replay, the default)
  into a new SQLite file, then ``build_report(...)`` on the store opened
  again (as ``sla-engine replay`` then ``sla-engine report`` do);
- ``sla-engine sqlite-2`` (on demand): the same with ``jobs=2``: the log
  read in a second process while this one stores, and half of the review
  counted in a second process;
- ``sla-engine memory``: the same with ``store="memory"``;
- ``sla-engine sqlite-rows`` and ``memory-rows`` (on demand): the same with
  ``columnar=False``, every row read and recorded one at a time (the design
  before the columnar replay), in one process;
- ``polars baseline``: :func:`baseline_polars.baseline_figures`, which reads
  the CSV itself;
- ``memory-floor`` (on demand): not a replay, a floor under one: the log's
  stored events (as a replay stores them, taken from a SQLite replay made
  beforehand, untimed) put into eventsourcing's in-memory recorder, a block
  of 200,000 at a time as the in-memory replay does, and nothing else: what
  the in-memory store alone costs, read, checked, evaluated and reviewed
  nothing; and beside it the same rows inserted into SQLite in memory
  (``:memory:``, eventsourcing's table and primary key, one
  ``executemany`` per block), the other in-memory store eventsourcing
  offers.

The baseline always runs first, untimed, as the reference (it refuses a
log outside its scope: :class:`baseline_polars.UnmodelledLog`); it is timed
as a contender only when ``polars`` is among ``--contenders``.  Every run
of every contender is checked: total, met, late, overdue and pending per
engagement, and the as-of instant, must be exactly those of the baseline,
and every event recorded, none rejected, or the benchmark stops with the
differences and a non-zero status.  CPU time (the whole
process's, every thread's: Polars runs on both cores, for the baseline and
for the columnar replay's reading) is shown beside the wall time, which is
what the figures use; with ``-2`` it includes the helper processes'.  Peak
memory is the process's peak resident set while the contender runs (Linux:
reset through ``/proc/self/clear_refs`` before each run; it includes the
interpreter and the libraries already loaded); with ``-2``, the largest
sum of the processes' resident sets, sampled every 20 ms (each counts the
libraries it shares with the others: an upper bound).

The SQLite rate is printed as measured, at this size and in one process:
the target of ten million events in three minutes is measured by
``bench_curve.py`` at that size, never judged here from a smaller run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import resource
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

import sla_engine
from baseline_polars import CATALOGUE, COUNTS, UNMODELLED_TYPES, baseline_figures
from bench_checks import CheckFailed, exits_on_failure
from sla_engine._generate import generate_log
from sla_engine._replay import replay
from sla_engine._report import build_report

START = dt.date(2025, 9, 1)
END = dt.date(2026, 7, 3)
CALENDAR = "fr"
#: Contacts whose events the baseline does not model (it refuses a log that has any).
EXCLUDED_TYPES = UNMODELLED_TYPES
#: Events kept per generated contact, measured on seed 1 (20,000 contacts): sizes the log.
EVENTS_PER_CONTACT = 2.76

#: The issue's targets.
TARGET_EVENTS = 10_000_000
TARGET_SQLITE_SECONDS = 180
TARGET_SQLITE_PEAK_MIB = 2048
TARGET_MEMORY_VS_POLARS = 1 / 3
#: Events the in-memory replay stores at a time (a block of the columnar replay).
MEMORY_BLOCK = 200_000


Figures = dict[str, dict[str, int]]


class Disagreement(CheckFailed, AssertionError):
    """A contender's figures differ from the baseline's."""


# -- the log -------------------------------------------------------------------------


def prepare_log(path: Path, events: int, seed: int) -> dict[str, Any]:
    """Write a log of about ``events`` rows that the baseline supports; say what was dropped."""
    contacts = max(1, round(events / EVENTS_PER_CONTACT))
    raw = path.with_name(path.name + ".raw")
    started = time.perf_counter()
    generated = generate_log(
        raw, contacts=contacts, seed=seed, calendar_spec=CALENDAR, start=START, end=END
    )
    # Clean rows have no comma before the attributes, the only quoted field: the first
    # four fields split on commas exactly.
    with raw.open(encoding="utf-8", newline="") as log:
        header = log.readline()
        dropped = {
            fields[1]
            for fields in (line.split(",", 3) for line in log)
            if fields[2] in EXCLUDED_TYPES
        }
    last_day = END.isoformat()
    kept = after_end = 0
    with (
        raw.open(encoding="utf-8", newline="") as log,
        path.open("w", encoding="utf-8", newline="") as out,
    ):
        out.write(log.readline())
        for line in log:
            fields = line.split(",", 4)
            if fields[1] in dropped:
                continue
            # occurred_at is written in local time (Europe/Paris): its date is the local day.
            if fields[3][:10] > last_day:
                after_end += 1
                continue
            out.write(line)
            kept += 1
    raw.unlink()
    columns = header.rstrip("\n").split(",")[:4]
    if columns != ["event_id", "contact_id", "type", "occurred_at"]:
        # The filter above split rows by position: another layout was filtered wrong.
        raise CheckFailed(f"the generated log's first columns are {columns}")
    return {
        "path": str(path),
        "seed": seed,
        "contacts_generated": contacts,
        "rows_generated": generated.rows,
        "contacts_dropped": len(dropped),
        "rows_after_end_dropped": after_end,
        "events": kept,
        "prepare_seconds": round(time.perf_counter() - started, 3),
    }


# -- measuring -----------------------------------------------------------------------


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float | None:
    """The process's peak resident set since the last reset, in MiB (Linux only)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class _Tree:
    """Samples the resident set of this process and its children (the helper
    processes) while a contender runs: their largest sum at any one sample,
    in MiB (Linux only).

    Every 20 ms: a peak shorter than that can be missed, but what a replay
    holds (a block, the rows held back) it holds for seconds, and this
    process's own peak is read from the kernel besides.
    """

    def __init__(self) -> None:
        self.peak = 0.0
        self.helpers = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> _Tree:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(0.02):
            children = _children(me)
            self.helpers = self.helpers or bool(children)
            self.peak = max(self.peak, sum(_rss_mib(pid) for pid in [me, *children]))


def _rss_mib(pid: str) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # it ended meanwhile
        pass
    return 0.0


def _children(pid: str) -> list[str]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += f.read().split()
    except OSError:
        return []
    return found


def measured(run: Callable[[], Any]) -> tuple[Any, float, float, float | None]:
    """``run()``'s result, its wall and CPU times, and the peak resident set while it ran.

    The CPU time is the whole process's (every thread's): on a shared machine
    it moves less than the wall time for single-threaded code.
    """
    gc.collect()
    reset = _reset_peak()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    with _Tree() as tree:
        started, cpu = time.perf_counter(), time.process_time()
        result = run()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = peak_rss_mib() if reset else None
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # Helper processes (jobs=2): their CPU time is added, and the peak is the
    # largest sum of the processes' resident sets sampled at the same moment.
    cpu += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    if peak is not None and tree.helpers:
        peak = max(peak, tree.peak)
    return result, seconds, cpu, peak


def _close(engine: sla_engine.SlaEngine) -> None:
    close = getattr(engine, "close", None)
    if close is not None:
        close()


def engine_figures(report: dict[str, Any]) -> Figures:
    return {e["id"]: {name: e[name] for name in COUNTS} for e in report["engagements"]}


def run_engine(
    log: Path,
    store: str,
    *,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
    columnar: bool | None = None,
) -> dict[str, Any]:
    """Replay ``log`` into a new store and build the review: figures, as-of and timings."""
    catalogue = sla_engine.parse_catalogue(CATALOGUE, source="bench_replay")
    started = time.perf_counter()
    engine = sla_engine.SlaEngine(catalogue, CALENDAR, store=store)
    summary = replay(engine, [log], progress=progress, jobs=jobs, columnar=columnar)
    replayed = time.perf_counter()
    if store != "memory":
        # As `sla-engine report` does: open the store again, with the rules it recorded.
        _close(engine)
        engine = sla_engine.SlaEngine(store=store)
    report = build_report(engine, jobs=jobs)
    done = time.perf_counter()
    _close(engine)
    return {
        "figures": engine_figures(report),
        "as_of": report["as_of"],
        "summary": summary.to_dict(),
        "replay_seconds": replayed - started,
        "report_seconds": done - replayed,
    }


def stored_rows(log: Path, workdir: Path) -> list[tuple[str, int, str, bytes]]:
    """The stored events a replay of ``log`` makes (read from a SQLite replay, untimed)."""
    db = workdir / "floor.db"
    db.unlink(missing_ok=True)
    engine = sla_engine.SlaEngine(sla_engine.parse_catalogue(CATALOGUE), CALENDAR, store=str(db))
    replay(engine, [log], jobs=1)
    table = engine.recorder.events_table_name  # type: ignore[attr-defined]
    _close(engine)
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {table} "  # noqa: S608
            "WHERE topic LIKE 'sla_engine._contact:%' ORDER BY rowid"
        ).fetchall()
    db.unlink(missing_ok=True)
    return [(str(a), int(b), str(c), bytes(d)) for a, b, c, d in rows]


def memory_floor(rows: list[tuple[str, int, str, bytes]]) -> int:
    """Put ``rows`` into eventsourcing's in-memory recorder as the in-memory replay does."""
    recorder = POPOApplicationRecorder()
    for start in range(0, len(rows), MEMORY_BLOCK):
        recorder.insert_events([StoredEvent(*row) for row in rows[start : start + MEMORY_BLOCK]])
    return recorder.max_notification_id() or 0


def sqlite_memory_floor(rows: list[tuple[str, int, str, bytes]]) -> int:
    """Insert ``rows`` into SQLite in memory, in eventsourcing's events table, a block at a time."""
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.execute(
        "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
        "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
    )
    for start in range(0, len(rows), MEMORY_BLOCK):
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO stored_events VALUES (?,?,?,?)", rows[start : start + MEMORY_BLOCK]
        )
        connection.execute("COMMIT")
    (count,) = connection.execute("SELECT count(*) FROM stored_events").fetchone()
    connection.close()
    return int(count)


#: The memory-floor contender's rows: (name, key in the JSON targets, what it does, how).
FLOORS = (
    (
        "eventsourcing in-memory store alone",
        "memory_floor_vs_polars",
        "eventsourcing's in-memory recorder alone, storing the same events",
        memory_floor,
    ),
    (
        "SQLite in memory alone",
        "sqlite_memory_floor_vs_polars",
        "the same rows inserted into SQLite in memory alone",
        sqlite_memory_floor,
    ),
)


def check_agreement(
    name: str,
    figures: Figures,
    as_of: dt.datetime | str | None,
    reference: Figures,
    reference_as_of: dt.datetime,
) -> None:
    """Stop with every difference if ``figures`` are not exactly the baseline's."""
    problems = []
    for engagement in sorted(set(reference) | set(figures)):
        ours, theirs = figures.get(engagement), reference.get(engagement)
        if ours is None or theirs is None:
            problems.append(f"  {engagement}: only in {'the baseline' if ours is None else name}")
            continue
        for count in COUNTS:
            if ours[count] != theirs[count]:
                problems.append(
                    f"  {engagement} {count}: {name} {ours[count]}, baseline {theirs[count]}"
                )
    instant = dt.datetime.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    if instant != reference_as_of:
        problems.append(f"  as_of: {name} {as_of}, baseline (last event) {reference_as_of}")
    if problems:
        raise Disagreement(f"{name} disagrees with the Polars baseline:\n" + "\n".join(problems))


# -- the benchmark -------------------------------------------------------------------


def environment() -> dict[str, Any]:
    """What a result was measured with, written beside it."""
    return {
        "python": sys.version.split()[0],
        "sla_engine": sla_engine.__version__,
        "polars": pl.__version__,
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }


#: Every contender runs in one process (jobs=1) but "sqlite-2", which reads the
#: log and counts half of the review in a second one (jobs=2).
CONTENDERS = (
    "sqlite",
    "sqlite-2",
    "sqlite-rows",
    "memory",
    "memory-rows",
    "memory-floor",
    "polars",
)


@exits_on_failure
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="about this many events")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20251017)
    parser.add_argument(
        "--contenders",
        default="sqlite,memory,polars",
        help="comma-separated subset of sqlite,sqlite-2,memory,sqlite-rows,memory-rows,"
        "memory-floor,polars (the Polars baseline always runs once, untimed, as the reference "
        "every contender is checked against; it is timed only with 'polars'; '-rows': the "
        "replay row by row, as before the columnar path; '-2': reading and half the review "
        "in a second process; memory-floor: only the stored events put into eventsourcing's "
        "in-memory recorder)",
    )
    parser.add_argument("--workdir", type=Path, help="where the log and stores go (default: temp)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args(argv)
    chosen = [c.strip() for c in options.contenders.split(",") if c.strip()]
    unknown = set(chosen) - set(CONTENDERS)
    if unknown:
        parser.error(f"unknown contenders: {', '.join(sorted(unknown))}")

    with contextlib.ExitStack() as stack:
        workdir = options.workdir
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-replay-")))
        workdir.mkdir(parents=True, exist_ok=True)
        log_path = workdir / "log.csv"
        info = prepare_log(log_path, options.events, options.seed)
        events = info["events"]
        print(
            f"log: {events:,} events of {info['contacts_generated'] - info['contacts_dropped']:,} "
            f"contacts ({info['contacts_dropped']:,} contacts with pauses, reopenings, complex "
            f"flags or reclassifications and {info['rows_after_end_dropped']:,} rows after "
            f"{END} dropped; written in {info['prepare_seconds']:.1f} s)"
        )

        # The reference figures first: every run of every contender is checked against them.
        reference, reference_as_of = baseline_figures(log_path)
        rows = _run_contenders(
            chosen, options.repeats, log_path, workdir, reference, reference_as_of
        )

    polars_rate = rows.get("polars baseline", {}).get("events_per_s")
    for row in rows.values():
        row["throughput_vs_polars"] = None if not polars_rate else row["events_per_s"] / polars_rate

    print()
    local = reference_as_of.astimezone(ZoneInfo("Europe/Paris")).isoformat()
    print(f"figures (identical for every contender), as of {local} (the last event):")
    print(f"{'engagement':<12}" + "".join(f"{c:>10}" for c in COUNTS))
    for engagement, counts in reference.items():
        print(f"{engagement:<12}" + "".join(f"{counts[c]:>10,}" for c in COUNTS))
    print()
    width = max(20, *(len(name) for name in rows))
    header = (
        f"{'contender':<{width}} {'replay s':>9} {'report s':>9} {'total s':>9} {'cpu s':>8} "
        f"{'events/s':>11} {'peak MiB':>9} {'× polars':>9}"
    )
    print(header)
    for name, row in rows.items():
        ratio = row["throughput_vs_polars"]
        peak = row["peak_rss_mib"]
        print(
            f"{name:<{width}} {_num(row['replay_seconds'], 9, 2)} "
            f"{_num(row['report_seconds'], 9, 2)} "
            f"{row['seconds']:>9.2f} {row['cpu_seconds']:>8.2f} {row['events_per_s']:>11,.0f} "
            f"{_num(peak, 9, 0)} {_num(ratio, 9, 4)}"
        )
    targets = _targets(rows)
    print()
    for line in targets["lines"]:
        print(line)

    if options.json is not None:
        options.json.write_text(
            json.dumps(
                {
                    "benchmark": "replay",
                    **environment(),
                    "repeats": options.repeats,
                    "log": {k: v for k, v in info.items() if k != "path"},
                    "events": events,
                    "as_of": reference_as_of.isoformat(),
                    "agreement": True,
                    "figures": reference,
                    "contenders": list(rows.values()),
                    "targets": {k: v for k, v in targets.items() if k != "lines"},
                },
                indent=2,
            )
        )
    return 0


def _num(value: float | None, width: int, digits: int) -> str:
    return f"{'—':>{width}}" if value is None else f"{value:>{width},.{digits}f}"


def _run_contenders(
    chosen: list[str],
    repeats: int,
    log_path: Path,
    workdir: Path,
    reference: Figures,
    reference_as_of: dt.datetime,
) -> dict[str, dict[str, Any]]:
    events = sum(1 for _ in log_path.open(encoding="utf-8")) - 1
    runs: dict[str, list[dict[str, Any]]] = {}
    order = [c for c in CONTENDERS if c in chosen]
    floor_rows = stored_rows(log_path, workdir) if "memory-floor" in order else []

    def keep(
        attempt: int,
        name: str,
        seconds: float,
        cpu: float,
        peak: float | None,
        replay_seconds: float | None,
        report_seconds: float | None,
    ) -> None:
        runs.setdefault(name, []).append(
            {
                "contender": name,
                "seconds": seconds,
                "cpu_seconds": cpu,
                "replay_seconds": replay_seconds,
                "report_seconds": report_seconds,
                "events_per_s": events / seconds,
                "peak_rss_mib": peak,
            }
        )
        print(f"  run {attempt + 1}/{repeats} {name}: {seconds:.2f} s", flush=True)

    for attempt in range(repeats):
        for contender in order:
            if contender == "memory-floor":
                for name, _, _, floor in FLOORS:
                    count, seconds, cpu, peak = measured(lambda floor=floor: floor(floor_rows))
                    if count != events:
                        raise Disagreement(f"{name} stored {count:,} of {events:,} events")
                    keep(attempt, name, seconds, cpu, peak, seconds, None)
                continue
            elif contender == "polars":
                name = "polars baseline"
                # The reference run (untimed) checked this file is in the baseline's scope.
                (figures, as_of), seconds, cpu, peak = measured(
                    lambda: baseline_figures(log_path, check_scope=False)
                )
                result = {"replay_seconds": None, "report_seconds": None}
            else:
                name = f"sla-engine {contender}"
                store = "memory"
                columnar = not contender.endswith("-rows")
                if contender.startswith("sqlite"):
                    db = workdir / f"store-{attempt}.db"
                    db.unlink(missing_ok=True)
                    store = str(db)
                jobs = 2 if contender.endswith("-2") else 1
                result, seconds, cpu, peak = measured(
                    lambda store=store, columnar=columnar, jobs=jobs: run_engine(
                        log_path, store, jobs=jobs, columnar=columnar
                    )
                )
                figures, as_of = result["figures"], result["as_of"]
                summary = result["summary"]
                if summary["recorded"] != events or summary["rejected"]:
                    raise Disagreement(
                        f"{name} recorded {summary['recorded']:,} of {events:,} events "
                        f"and rejected {summary['rejected']:,}"
                    )
                if contender.startswith("sqlite"):
                    Path(store).unlink(missing_ok=True)
            check_agreement(name, figures, as_of, reference, reference_as_of)
            keep(
                attempt,
                name,
                seconds,
                cpu,
                peak,
                result["replay_seconds"],
                result["report_seconds"],
            )
    best = {}
    for name, tried in runs.items():
        peaks = [r["peak_rss_mib"] for r in tried if r["peak_rss_mib"] is not None]
        # The best run's figures, and the highest peak of all the runs beside them.
        best[name] = min(tried, key=lambda r: r["seconds"]) | {
            "peak_rss_mib_max": max(peaks, default=None),
            "runs_seconds": [r["seconds"] for r in tried],
        }
    return {name: best[name] for name in sorted(best, key=lambda n: best[n]["seconds"])}


def _targets(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Where we are against the issue's targets, from what was measured (nothing extrapolated)."""
    needed = TARGET_EVENTS / TARGET_SQLITE_SECONDS
    out: dict[str, Any] = {
        "sqlite_events_per_s_needed": needed,
        "memory_vs_polars_needed": TARGET_MEMORY_VS_POLARS,
        "sqlite_peak_mib_limit": TARGET_SQLITE_PEAK_MIB,
        "lines": [],
    }
    sqlite, memory = rows.get("sla-engine sqlite"), rows.get("sla-engine memory")
    polars = rows.get("polars baseline")
    if sqlite is not None:
        rate = sqlite["events_per_s"]
        out["sqlite_events_per_s"] = rate
        # Kept for the JSON's readers; not a verdict: a rate at this size is no
        # measurement of ten million events (bench_curve measures that).
        out["sqlite_rate_short_by"] = needed / rate
        out["sqlite_rate_is_extrapolated"] = True
        out["lines"].append(
            f"SQLite, in one process, at this size: {rate:,.0f} events/s, peak "
            f"{_num(sqlite['peak_rss_mib'], 0, 0).strip()} MiB (the target, "
            f"{TARGET_EVENTS:,} events in {TARGET_SQLITE_SECONDS} s under "
            f"{TARGET_SQLITE_PEAK_MIB:,} MiB, is judged by bench_curve.py at that size)"
        )
    if memory is not None and polars is not None:
        ratio = memory["events_per_s"] / polars["events_per_s"]
        out["memory_vs_polars"] = ratio
        verdict = (
            "met"
            if ratio >= TARGET_MEMORY_VS_POLARS
            else f"{TARGET_MEMORY_VS_POLARS / ratio:,.0f}× short"
        )
        out["lines"].append(
            "target: in memory at least 1/3 of the baseline's throughput; "
            f"measured 1/{1 / ratio:,.0f} ({ratio:.4f}): {verdict}"
        )
    for name, key, what, _ in FLOORS:
        floor = rows.get(name)
        if floor is not None and polars is not None:
            ratio = floor["events_per_s"] / polars["events_per_s"]
            out[key] = ratio
            out["lines"].append(
                f"floor: {what}, doing nothing else, runs at 1/{1 / ratio:,.1f} of the "
                f"baseline ({ratio:.3f})"
            )
    return out


if __name__ == "__main__":
    raise SystemExit(main())
