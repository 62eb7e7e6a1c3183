"""Deadline arithmetic: sla-engine against NumPy's business days and a day-by-day loop.

Run: ``.venv/bin/python benchmarks/bench_deadlines.py [--calls N] [--vector N] [--json FILE]``

Every contender answers the same questions on the same random sample, in
the same process, and the answers are checked equal before anything is
timed.  Figures are the best of several repeats; on a shared, noisy machine
read the ratios, not the absolute times.

- scalar ``add``: the N-th jour ouvré after a ``date``, returned as a
  ``date``: ``Calendar.add`` against ``np.busday_offset(..., roll="backward")``
  (date in, ``.item()`` out, as a caller holding dates would use it) and
  against a loop that steps one day at a time (what GLPI or Znuny do);
- scalar ``count``: jours ouvrés in ``(a, b]``: ``Calendar.count`` against
  ``np.busday_count`` and the loop;
- vectorised ``add``: ``Calendar.add_many`` against ``np.busday_offset`` on
  ``datetime64[D]`` arrays.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import holidays
import numpy as np

import sla_engine
from bench_checks import CheckFailed, exits_on_failure


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Best wall time of ``repeats`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _first_difference(name: str, questions: list[Any], got: list[Any], want: list[Any]) -> None:
    """Stop with the first question ``name`` answers differently from sla-engine."""
    for question, ours, theirs in zip(questions, got, want, strict=True):
        if ours != theirs:
            raise CheckFailed(f"{name}{question}: {ours}, sla-engine {theirs}")


@exits_on_failure
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="scalar calls per contender")
    parser.add_argument("--vector", type=int, default=1_000_000, help="dates in the vector run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args(argv)

    cal = sla_engine.calendar("fr")
    public = holidays.France(years=range(1990, 2045))
    holiday_set = frozenset(public)
    busdaycal = np.busdaycalendar(weekmask="1111100", holidays=sorted(public))

    rng = random.Random(20251017)
    first = dt.date(2000, 1, 1).toordinal()
    pairs = [
        (dt.date.fromordinal(first + rng.randrange(365 * 35)), rng.randrange(1, 60))
        for _ in range(options.calls)
    ]
    spans = [(d, d + dt.timedelta(days=n * 2)) for d, n in pairs]

    def loop_add(day: dt.date, n: int) -> dt.date:
        while n:
            day += dt.timedelta(days=1)
            if day.weekday() < 5 and day not in holiday_set:
                n -= 1
        return day

    def loop_count(a: dt.date, b: dt.date) -> int:
        counted = 0
        while a < b:
            a += dt.timedelta(days=1)
            counted += a.weekday() < 5 and a not in holiday_set
        return counted

    def numpy_add(day: dt.date, n: int) -> dt.date:
        result: dt.date = np.busday_offset(day, n, roll="backward", busdaycal=busdaycal).item()
        return result

    def numpy_count(a: dt.date, b: dt.date) -> int:
        one = dt.timedelta(days=1)
        return int(np.busday_count(a + one, b + one, busdaycal=busdaycal))

    add = cal.add
    count = cal.count
    contenders_add: dict[str, Callable[[dt.date, int], dt.date]] = {
        "sla-engine Calendar.add": add,
        "numpy busday_offset (scalar)": numpy_add,
        "day-by-day loop": loop_add,
    }
    contenders_count: dict[str, Callable[[dt.date, dt.date], int]] = {
        "sla-engine Calendar.count": count,
        "numpy busday_count (scalar)": numpy_count,
        "day-by-day loop": loop_count,
    }

    # Same answers first: a fast wrong answer is not a result.
    check = pairs[:2000]
    reference = [add(d, n) for d, n in check]
    for name, fn in contenders_add.items():
        _first_difference(name, check, [fn(d, n) for d, n in check], reference)
    reference_counts = [count(a, b) for a, b in spans[:2000]]
    for name, fn in contenders_count.items():
        answers = [fn(a, b) for a, b in spans[:2000]]
        _first_difference(name, spans[:2000], answers, reference_counts)

    rows: list[dict[str, Any]] = []

    def scalar(kind: str, contenders: dict[str, Callable[..., object]], args: list[Any]) -> None:
        timings = {}
        for name, fn in contenders.items():
            sample = args if "loop" not in name else args[: max(1, len(args) // 10)]
            seconds = best_of(options.repeats, lambda fn=fn, s=sample: [fn(*a) for a in s])
            timings[name] = seconds / len(sample)
        ours = next(iter(timings.values()))
        for name, per_call in timings.items():
            rows.append(
                {"operation": kind, "contender": name, "per_call_us": per_call * 1e6,
                 "ratio_to_sla_engine": per_call / ours}
            )  # fmt: skip

    scalar("add (scalar)", contenders_add, pairs)
    scalar("count (scalar)", contenders_count, spans)

    vrng = np.random.default_rng(20251017)
    days = np.datetime64("2000-01-01") + vrng.integers(0, 365 * 35, options.vector).astype(
        "timedelta64[D]"
    )
    n = vrng.integers(1, 60, options.vector)
    ours_v = cal.add_many(days, n)
    theirs_v = np.busday_offset(days, n, roll="backward", busdaycal=busdaycal)
    np.testing.assert_array_equal(ours_v, theirs_v)
    t_ours = best_of(options.repeats, lambda: cal.add_many(days, n))
    t_numpy = best_of(
        options.repeats, lambda: np.busday_offset(days, n, roll="backward", busdaycal=busdaycal)
    )
    for name, seconds in (("sla-engine Calendar.add_many", t_ours),
                          ("numpy busday_offset (vector)", t_numpy)):  # fmt: skip
        rows.append(
            {"operation": f"add (vector of {options.vector:,})", "contender": name,
             "per_call_us": seconds / options.vector * 1e6, "ratio_to_sla_engine": seconds / t_ours}
        )  # fmt: skip

    print(f"{'operation':<28} {'contender':<32} {'µs/call':>10} {'× sla-engine':>13}")
    for row in rows:
        print(
            f"{row['operation']:<28} {row['contender']:<32} "
            f"{row['per_call_us']:>10.3f} {row['ratio_to_sla_engine']:>13.1f}"
        )
    if options.json is not None:
        options.json.write_text(
            json.dumps(
                {
                    "benchmark": "deadlines",
                    "python": sys.version.split()[0],
                    "numpy": np.__version__,
                    "machine": platform.machine(),
                    "rows": rows,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
