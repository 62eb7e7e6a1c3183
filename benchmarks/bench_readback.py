"""Reading every contact back (as-of reviews, status_as_of, rebuild_view) against the review.

Run: ``.venv/bin/python benchmarks/bench_readback.py [--contacts N] [--repeats R] [--json FILE]``

A generated log (``generate_log``, calendar ``fr``, the 2025-2026 school
year, ``--contacts`` requests) is replayed into a new SQLite store, untimed.
Then, on a copy of that store opened by a new engine (nothing in memory),
each is timed, best of ``--repeats``:

- ``live review``: ``build_report(engine)``, counted from the timer view
  (one page of stored timers at a time): the peer, since it reads no event;
- ``as-of review``: ``build_report(engine, as_of=1 March 2026)``, before the
  log's last event, so every contact's history is read back and evaluated
  again (as a review of a past date, or a what-if under other rules, does);
- ``status_as_of``: every timer as it stood on 1 March 2026;
- ``rebuild_view``: the view forgotten and projected again from the log.

Each figure is also given as a multiple of the live review's time in the
same run, which is what to compare between machines and rounds.  Peak
memory is the process's resident set after everything (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pathlib
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sla_engine import SlaEngine
from sla_engine._generate import generate_log
from sla_engine._replay import replay
from sla_engine._report import build_report

NOW = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
AS_OF = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json", type=pathlib.Path)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-readback-") as tmp:
        work = pathlib.Path(tmp)
        log, base = work / "log.csv", work / "base.db"
        generate_log(log, contacts=options.contacts, seed=7, calendar_spec="fr",
                     start=dt.date(2025, 9, 1), end=dt.date(2026, 7, 3))  # fmt: skip
        engine = SlaEngine("marianne-besancon", "fr", store=str(base), clock=lambda: NOW)
        events = replay(engine, [log]).recorded
        engine.close()

        def fresh() -> SlaEngine:
            store = work / "copy.db"
            for suffix in ("", "-wal", "-shm"):
                pathlib.Path(f"{store}{suffix}").unlink(missing_ok=True)
            shutil.copy(base, store)
            return SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)

        steps: dict[str, Callable[[SlaEngine], Any]] = {
            "live review": lambda e: build_report(e, jobs=1),
            "as-of review": lambda e: build_report(e, as_of=AS_OF, jobs=1),
            "status_as_of": lambda e: e.status_as_of(AS_OF),
            "rebuild_view": lambda e: e.rebuild_view(),
        }
        best: dict[str, float] = {}
        for _ in range(options.repeats):
            for name, step in steps.items():
                engine = fresh()
                started = time.perf_counter()
                step(engine)
                seconds = time.perf_counter() - started
                engine.close()
                best[name] = min(best.get(name, seconds), seconds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    peer = best["live review"]
    print(f"{events:,} events, {options.contacts:,} contacts; best of {options.repeats}")
    print(f"{'step':<14} {'seconds':>8} {'µs/event':>9} {'× live review':>14}")
    for name, seconds in best.items():
        print(f"{name:<14} {seconds:>8.2f} {seconds / events * 1e6:>9.1f} {seconds / peer:>14.1f}")
    print(f"peak resident set: {peak:,} MiB")
    if options.json is not None:
        options.json.write_text(
            json.dumps(
                {
                    "events": events,
                    "contacts": options.contacts,
                    "seconds": best,
                    "per_live_review": {k: v / peer for k, v in best.items()},
                    "peak_mib": peak,
                    "python": sys.version,
                    "machine": platform.platform(),
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
