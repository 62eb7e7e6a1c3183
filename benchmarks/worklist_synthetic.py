"""The worklist query over many open timers, with the view filled directly.

Run: ``.venv/bin/python benchmarks/worklist_synthetic.py --open 1000000``

Loading a million open contacts through the engine takes longer than the
query is worth measuring (see ``bench_worklist.py`` for that path): this
script records one real contact through the engine, then copies its
e-mail timer into ``sla_timers`` with other contact ids and expiries spread
over 300 days, exactly as the projection would store them, and times
``needing_attention(before, 100)`` at random instants.  It checks each answer
is 100 timers in expiry order.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs

from sla_engine import SlaEngine
from sla_engine._view import timer_row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=1_000_000, help="open timers in the view")
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--json", type=Path)
    options = parser.parse_args(argv)
    paris = ZoneInfo("Europe/Paris")
    base = dt.datetime(2025, 1, 6, 10, tzinfo=paris)
    with tempfile.TemporaryDirectory() as folder:
        store = Path(folder) / "worklist.db"
        engine = SlaEngine("marianne-besancon", "fr", store=f"sqlite:///{store}")
        engine.record(
            {"event_id": "x", "contact_id": "X", "type": "received",
             "occurred_at": base, "channel": "email"}
        )  # fmt: skip
        (template,) = [t for t in engine.stored_timers() if t.engagement_id == "email-5"]
        rng = random.Random(1)
        rows = []
        for i in range(options.open):
            expires = base + dt.timedelta(minutes=rng.randrange(60 * 24 * 300))
            timer = attrs.evolve(
                template,
                contact_id=f"C{i:07d}",
                expires_at=expires,
                warnings=(expires - dt.timedelta(days=2),),
            )
            rows.append(timer_row(timer))
        with sqlite3.connect(store) as db:
            db.executemany("INSERT INTO sla_timers VALUES (?, ?, ?, ?, ?, ?)", rows)
        latencies = []
        for _ in range(options.queries):
            before = base + dt.timedelta(days=rng.randrange(10, 300))
            started = time.perf_counter()
            items = engine.view.needing_attention(before, 100)
            latencies.append((time.perf_counter() - started) * 1000)
            expiries = [t.expires_at for t in items]
            assert len(items) == 100
            assert expiries == sorted(expiries)  # type: ignore[type-var]
        engine.close()
    median = statistics.median(latencies)
    p95 = sorted(latencies)[max(0, round(0.95 * len(latencies)) - 1)]
    print(f"{options.open:,} open timers: worklist median {median:.2f} ms, p95 {p95:.2f} ms")
    if options.json is not None:
        options.json.write_text(
            json.dumps({"open": options.open, "median_ms": median, "p95_ms": p95}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
