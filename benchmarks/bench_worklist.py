"""The worklist and one contact's timers, over a store of many open timers.

Run: ``.venv/bin/python benchmarks/bench_worklist.py [--open N] [--curve 10000,100000]
[--backends sqlite,postgres] [--queries N] [--json FILE]``

The store is filled through the engine's own command,
``SlaEngine("marianne-besancon", "fr", store=...).record_many(batch)`` (timer
view projected after each batch), with contacts that are received and
nothing else, so every timer they start stays open: a synthetic backlog with
the generator's channel and category mix (e-mail 45 %, web 20 %, letter 15 %,
phone 15 %, counter 5 %; complaints 8 %, suggestions 3 %…), receipts spread
uniformly over ten months of office hours, contacts recorded in id order (so
every prefix of the backlog spans the whole period).  The store grows through
the sizes of ``--curve`` up to ``--open`` open timers, and at each size:

- ``worklist(before, now=clock, limit=100)`` at ``--queries`` instants drawn
  uniformly from the first receipt to 30 days after the last (a few timers
  need attention at the earliest instants, all of them at the latest), asked
  at the engine's clock, after every event (a ``now`` before the last event
  is a question about the past, answered from the histories);
- ``timers(contact_id, now=...)`` for as many random contacts;

median, p95 and worst latency, each query timed on its own.  Before anything
is timed, at the first size, the worklist is checked against the stored
timers filtered and sorted by hand, and each contact's timers against the
same; at every size the worklist must be sorted by expiry and need attention
before ``before``.  The time taken to fill the store is reported per size
(events per second of ``record_many``, projection included).  One fresh store
per backend: a SQLite file in a temporary directory, a PostgreSQL database
created and dropped.  A failed check, or a backend asked for that cannot
run (no PostgreSQL server), stops the benchmark with the reason and a
non-zero status.  The PostgreSQL server's durability settings, read from
it, are printed and written in the JSON (``scripts/postgres`` turns them
off).  The target (the worklist under 50 ms at p95 over a million open
timers) is judged only at a size of at least a million open timers.  On a
shared, noisy machine read the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import importlib
import importlib.metadata
import json
import math
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench_checks import CheckFailed, exits_on_failure, require
from bench_ingest import (
    RECORDED_AT,
    Store,
    chosen_backends,
    describe_postgres,
    postgres_settings,
)
from sla_engine import SlaEngine
from sla_engine._contact import ContactEvent

CATALOGUE = "marianne-besancon"
CALENDAR = "fr"
PARIS = ZoneInfo("Europe/Paris")
FIRST_DAY = dt.date(2025, 9, 1)
DAYS = 300
CHANNELS = (("email", 45), ("web", 20), ("letter", 15), ("phone", 15), ("counter", 5))
CATEGORIES = (
    ("information", 70),
    ("complaint", 8),
    ("appointment", 7),
    ("inscription", 7),
    ("bourse", 5),
    ("suggestion", 3),
)
LIMIT = 100
#: The target: the worklist under this many ms (p95), judged at this many open timers or more.
TARGET_MS = 50
TARGET_OPEN_TIMERS = 1_000_000


class Pick:
    """Draw from weighted choices with one uniform number."""

    def __init__(self, pairs: tuple[tuple[str, int], ...]) -> None:
        self.values = [v for v, _ in pairs]
        total = sum(w for _, w in pairs)
        running = 0
        self.edges = []
        for _, weight in pairs:
            running += weight
            self.edges.append(running / total)

    def __call__(self, rng: random.Random) -> str:
        return self.values[bisect.bisect_left(self.edges, rng.random())]


def received(number: int, seed: int) -> ContactEvent:
    """The ``received`` event of contact ``number`` (the same for the same arguments)."""
    rng = random.Random(seed * 1_000_003 + number)
    day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    instant = dt.datetime.combine(day, dt.time(8), tzinfo=PARIS) + dt.timedelta(
        seconds=rng.randrange(10 * 3600)
    )
    return ContactEvent(
        event_id=f"W{number:08d}-r",
        contact_id=f"W{number:08d}",
        type="received",
        occurred_at=instant,
        channel=_CHANNEL(rng),
        category=_CATEGORY(rng),
    )


_CHANNEL = Pick(CHANNELS)
_CATEGORY = Pick(CATEGORIES)


def open_rate(seed: int) -> float:
    """Open timers per received-only contact, measured on a sample in memory."""
    sample = 4000
    engine = SlaEngine(CATALOGUE, CALENDAR, store="memory", clock=lambda: RECORDED_AT)
    engine.record_many([received(n, seed + 1) for n in range(sample)])
    return sum(_needs_attention(t) for t in engine.stored_timers()) / sample


def _needs_attention(timer: Any) -> bool:
    return bool(timer.is_open and (timer.next_warning or timer.expires_at) is not None)


def count_open(engine: SlaEngine, store: Store) -> int:
    """Open timers in the view (straight from its table: loading them all would be slow)."""
    sql = "SELECT count(*) FROM sla_timers WHERE attention_us IS NOT NULL"
    if store.kind == "sqlite":
        with sqlite3.connect(str(store.path)) as conn:
            return int(conn.execute(sql).fetchone()[0])
    with store.connect_pg() as conn:
        row = conn.execute(sql).fetchone()
        return int(row[0])


def quantiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
    return {
        "median_ms": statistics.median(ordered) * 1e3,
        "p95_ms": p95 * 1e3,
        "max_ms": ordered[-1] * 1e3,
    }


def check_worklist(engine: SlaEngine, instants: list[dt.datetime], sample: list[str]) -> None:
    """The engine's answers against the stored timers filtered and sorted by hand."""
    stored = engine.stored_timers()
    for before in instants:
        edge = before
        due = [
            t for t in stored if _needs_attention(t) and (t.next_warning or t.expires_at) <= edge
        ]
        due.sort(key=lambda t: (t.expires_at, t.key))
        expected = [t.key for t in due[:LIMIT]]
        got = [t.key for t in engine.worklist(before, now=RECORDED_AT, limit=LIMIT)]
        if got != expected:
            raise CheckFailed(
                f"worklist(before={before}): {len(got)} timers, the first {got[:3]}; "
                f"expected {len(expected)}, the first {expected[:3]}"
            )
    by_contact: dict[str, list[Any]] = {}
    for t in stored:
        by_contact.setdefault(t.contact_id, []).append(t)
    for contact_id in sample:
        expected_keys = sorted(t.key for t in by_contact.get(contact_id, []))
        got_keys = sorted(t.key for t in engine.timers(contact_id, now=RECORDED_AT))
        if got_keys != expected_keys:
            raise CheckFailed(f"timers({contact_id}): {got_keys}, expected {expected_keys}")


def check_sorted(timers: list[Any], before: dt.datetime) -> None:
    expiries = [t.expires_at for t in timers]
    require(expiries == sorted(expiries), f"worklist(before={before}) not in expiry order")
    for t in timers:
        first = t.warnings[0] if t.warnings else t.expires_at
        if first is None or first > before:
            raise CheckFailed(f"worklist(before={before}) holds {t.key}, which needs no attention")


def chunks(start: int, stop: int, size: int, seed: int) -> Iterator[list[ContactEvent]]:
    for first in range(start, stop, size):
        yield [received(n, seed) for n in range(first, min(stop, first + size))]


def run_backend(
    backend: str,
    store: Store,
    sizes: list[int],
    options: argparse.Namespace,
) -> list[dict[str, Any]]:
    rng = random.Random(options.seed)
    engine = SlaEngine(CATALOGUE, CALENDAR, store=store.url(), clock=lambda: RECORDED_AT)
    rows: list[dict[str, Any]] = []
    loaded = 0
    load_seconds = 0.0
    span_start = dt.datetime.combine(FIRST_DAY, dt.time(0), tzinfo=PARIS)
    span = dt.timedelta(days=DAYS + 30)
    try:
        for index, target in enumerate(sizes):
            contacts = target
            start = time.perf_counter()
            for batch in chunks(loaded, contacts, options.load_batch, options.seed):
                result = engine.record_many(batch)
                if result.recorded != len(batch):
                    raise CheckFailed(
                        f"{backend}: record_many recorded {result.recorded} of {len(batch)} events"
                    )
            segment = time.perf_counter() - start
            load_seconds += segment
            segment_events = contacts - loaded
            loaded = contacts
            open_timers = count_open(engine, store)
            print(
                f"  {backend}: {loaded:,} contacts ({open_timers:,} open timers) loaded in "
                f"{load_seconds:.1f} s ({segment_events / max(segment, 1e-9):,.0f} events/s "
                "for the last segment)",
                flush=True,
            )
            instants = [span_start + span * rng.random() for _ in range(options.queries)]
            ids = [f"W{rng.randrange(loaded):08d}" for _ in range(options.queries)]
            if index == 0:
                check_worklist(engine, instants[:20], ids[:50])
            # One warm-up query of each kind, not counted.
            engine.worklist(instants[0], now=RECORDED_AT, limit=LIMIT)
            engine.timers(ids[0], now=RECORDED_AT)
            worklist_times, returned = [], []
            budget = time.perf_counter() + options.budget
            for number, before in enumerate(instants):
                if number >= options.min_queries and time.perf_counter() > budget:
                    break
                t0 = time.perf_counter()
                found = engine.worklist(before, now=RECORDED_AT, limit=LIMIT)
                worklist_times.append(time.perf_counter() - t0)
                returned.append(len(found))
                check_sorted(found, before)
            timers_times = []
            budget = time.perf_counter() + options.budget
            for number, contact_id in enumerate(ids):
                if number >= options.min_queries and time.perf_counter() > budget:
                    break
                t0 = time.perf_counter()
                engine.timers(contact_id, now=RECORDED_AT)
                timers_times.append(time.perf_counter() - t0)
            common = {
                "backend": backend,
                "contacts": loaded,
                "open_timers": open_timers,
                "load_seconds": load_seconds,
                "load_events_per_s": loaded / load_seconds,
            }
            rows.append(
                {
                    **common,
                    "query": f"worklist(limit={LIMIT})",
                    "queries": len(worklist_times),
                    **quantiles(worklist_times),
                    "mean_returned": statistics.fmean(returned),
                }
            )
            print(
                f"  {backend}: {open_timers:,} open timers: worklist median "
                f"{rows[-1]['median_ms']:.2f} ms, p95 {rows[-1]['p95_ms']:.2f} ms; timers() median "
                f"{quantiles(timers_times)['median_ms']:.2f} ms",
                flush=True,
            )
            rows.append(
                {
                    **common,
                    "query": "timers(contact)",
                    "queries": len(timers_times),
                    **quantiles(timers_times),
                }
            )
    finally:
        engine.close()
    return rows


def target_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The target's verdict per backend, at a size where it is judged (else why not)."""
    lines = []
    for backend in dict.fromkeys(r["backend"] for r in rows):
        worklist = [
            r for r in rows if r["backend"] == backend and r["query"].startswith("worklist")
        ]
        judged = [r for r in worklist if r["open_timers"] >= TARGET_OPEN_TIMERS]
        for row in judged:
            verdict = "met" if row["p95_ms"] < TARGET_MS else "not met"
            lines.append(
                f"target (worklist over 1M open timers < {TARGET_MS} ms), {backend}: "
                f"{row['open_timers']:,} open timers, median {row['median_ms']:.1f} ms, "
                f"p95 {row['p95_ms']:.1f} ms, {verdict}"
            )
        if not judged and worklist:
            largest = max(r["open_timers"] for r in worklist)
            lines.append(
                f"target (worklist over 1M open timers < {TARGET_MS} ms), {backend}: not judged, "
                f"the largest size run is {largest:,} open timers (it is judged at "
                f"{TARGET_OPEN_TIMERS:,} or more: --open 1000000)"
            )
    return lines


@exits_on_failure
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=1_000_000, help="open timers at the end")
    parser.add_argument(
        "--curve",
        default="10000,100000",
        help="smaller sizes (open timers) measured on the way, comma-separated",
    )
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--queries", type=int, default=200, help="queries of each kind per size")
    parser.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds per kind of query and size: stop early (after --min-queries) past it",
    )
    parser.add_argument("--min-queries", type=int, default=20)
    parser.add_argument("--load-batch", type=int, default=5000, help="events per record_many")
    parser.add_argument("--seed", type=int, default=20251017)
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args(argv)
    backends, postgres = chosen_backends(parser, options.backends)
    server = None if postgres is None else postgres_settings(postgres)
    if server is not None:
        print(describe_postgres(server))

    wanted = sorted({int(s) for s in options.curve.split(",") if s.strip()} | {options.open})
    wanted = [n for n in wanted if 0 < n <= options.open]
    rate = open_rate(options.seed)
    sizes = [max(1, math.ceil(n / rate)) for n in wanted]
    print(
        f"{rate:.3f} open timers per received-only contact: "
        + ", ".join(
            f"{n:,} open timers ≈ {c:,} contacts" for n, c in zip(wanted, sizes, strict=True)
        )
    )

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-worklist-") as tmp_name:
        for backend in backends:
            with Store(backend, Path(tmp_name), postgres) as store:
                rows += run_backend(backend, store, sizes, options)

    print(
        f"{'store':<9} {'open timers':>11} {'query':<20} {'n':>4} {'median ms':>10} {'p95 ms':>9} "
        f"{'max ms':>9} {'load s':>8} {'load ev/s':>10}"
    )
    for row in rows:
        print(
            f"{row['backend']:<9} {row['open_timers']:>11,} {row['query']:<20} {row['queries']:>4} "
            f"{row['median_ms']:>10.2f} {row['p95_ms']:>9.2f} {row['max_ms']:>9.2f} "
            f"{row['load_seconds']:>8.1f} {row['load_events_per_s']:>10,.0f}"
        )
    targets = target_lines(rows)
    for line in targets:
        print(line)
    if options.json is not None:
        options.json.write_text(
            json.dumps(
                {
                    "benchmark": "worklist",
                    "python": sys.version.split()[0],
                    "sla_engine": importlib.metadata.version("sla-engine"),
                    "eventsourcing": importlib.metadata.version("eventsourcing"),
                    "sqlite": sqlite3.sqlite_version,
                    "machine": platform.machine(),
                    "open_timers_per_contact": rate,
                    "sizes": wanted,
                    "backends": backends,
                    "postgres_settings": server,
                    "targets": targets,
                    "rows": rows,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
