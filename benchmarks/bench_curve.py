"""The cost per event of a replay as the log grows: is there hidden superlinear work?

Run: ``.venv/bin/python benchmarks/bench_curve.py --sizes 100000,300000,1000000 [--json FILE]``

For each size, a log is written and filtered exactly as in ``bench_replay.py``
(same generator, same seed, the contacts the Polars baseline cannot model
dropped), then replayed end to end (``replay`` then ``build_report``) into
each store; the figures of every run are checked against the Polars
baseline (run after the engine, so that what it leaves allocated does not
count in the engine's peak) before anything is reported.  Two views of the same question:

- across sizes: µs per event of the whole run, and its ratio to the
  smallest size (1.0 everywhere for a linear cost);
- within the largest run of each store: µs per event of each tenth of the
  log, from the replay's progress callback (a cost that grows with what is
  already stored shows up as later tenths costing more).

Peak memory is the process's peak resident set during the run, with its
helper processes' (see ``bench_replay.py``); the SQLite store runs first so that its peak is not
raised by what the in-memory run left allocated.  Sizes are measured, never
extrapolated.  Each figure is the best of
``--repeats`` runs (default 1: the large sizes take minutes); on a shared,
noisy machine read the ratios.  Every run must also record every event of
the log and reject none (the log is generated clean: no malformed rows, and
the contacts the baseline cannot model dropped), or the benchmark stops.

The targets are judged from the sizes run, and only those (printed, and in
the JSON's ``targets``): ten million events replayed and reviewed into
SQLite in under 3 minutes with a peak under 2 GiB, only when a size of ten
million or more was run; the per-event cost at the largest size within
1.2× of that at one million, when both ran (else against the smallest size
run, said so, not the target's measurement).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from baseline_polars import baseline_figures
from bench_checks import CheckFailed, exits_on_failure
from bench_replay import (
    TARGET_EVENTS,
    TARGET_SQLITE_PEAK_MIB,
    TARGET_SQLITE_SECONDS,
    check_agreement,
    environment,
    measured,
    prepare_log,
    run_engine,
)

SLICES = 10
#: The target: the per-event cost at the largest size within this of that at 1M.
TARGET_GROWTH = 1.2
#: The size the growth target compares with.
GROWTH_REFERENCE = 1_000_000


class _Clock:
    """Rows replayed against time, from the replay's progress callback."""

    def __init__(self) -> None:
        self.marks: list[tuple[int, float, float]] = [(0, time.perf_counter(), time.process_time())]

    def __call__(self, rows: int) -> None:
        self.marks.append((rows, time.perf_counter(), time.process_time()))

    def slices(self, n: int, cpu: bool = False) -> list[float]:
        """µs per row of each n-th of the rows (by the marks nearest each boundary).

        Wall time, or with ``cpu`` the process's CPU time.
        """
        total = self.marks[-1][0]
        # The columnar replay reports once per block: too few marks to cut in n.
        if total < n * 1000 or len(self.marks) < 3 * n:
            return []
        out = []
        rows_at = [r for r, _, _ in self.marks]
        at = 2 if cpu else 1
        for k in range(n):
            lo = _nearest(rows_at, total * k / n)
            hi = _nearest(rows_at, total * (k + 1) / n)
            r0, t0 = self.marks[lo][0], self.marks[lo][at]
            r1, t1 = self.marks[hi][0], self.marks[hi][at]
            out.append((t1 - t0) / max(1, r1 - r0) * 1e6)
        return out


def _nearest(values: list[int], target: float) -> int:
    return min(range(len(values)), key=lambda i: abs(values[i] - target))


def check_summary(name: str, summary: dict[str, Any], events: int) -> None:
    """Stop unless the replay recorded every event of the (clean) log and rejected none."""
    if summary["recorded"] != events or summary["rejected"] or summary["duplicates"]:
        raise CheckFailed(
            f"{name} recorded {summary['recorded']:,} of {events:,} events, rejected "
            f"{summary['rejected']:,} and counted {summary['duplicates']:,} duplicates "
            "(a clean log: every event recorded, none rejected)"
        )


def curve_targets(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The targets' verdicts from the sizes run (nothing extrapolated), with their lines."""
    out: dict[str, Any] = {"ten_million": [], "growth": [], "lines": []}
    for row in rows:
        if row["store"] != "sqlite" or row["size"] < TARGET_EVENTS:
            continue
        peak = row.get("peak_rss_mib_max", row["peak_rss_mib"])
        fast = row["seconds"] < TARGET_SQLITE_SECONDS
        small = None if peak is None else peak < TARGET_SQLITE_PEAK_MIB
        out["ten_million"].append(
            {
                "events": row["events"],
                "jobs": row["jobs"],
                "seconds": row["seconds"],
                "seconds_limit": TARGET_SQLITE_SECONDS,
                "peak_rss_mib": peak,
                "peak_limit_mib": TARGET_SQLITE_PEAK_MIB,
                # Not judged (None) without a peak measured (not Linux).
                "met": None if small is None else fast and small,
            }
        )
        peak_text = "not measured" if peak is None else f"{peak:,.0f} MiB"
        out["lines"].append(
            f"target ({TARGET_EVENTS:,} events into SQLite, replayed and reviewed in under "
            f"{TARGET_SQLITE_SECONDS} s, peak under {TARGET_SQLITE_PEAK_MIB:,} MiB): "
            f"{row['events']:,} events in {row['seconds']:.1f} s, peak {peak_text}, "
            f"{'not judged' if small is None else 'met' if fast and small else 'not met'}"
        )
    if not out["ten_million"]:
        out["lines"].append(
            f"target ({TARGET_EVENTS:,} events into SQLite in under {TARGET_SQLITE_SECONDS} s, "
            f"peak under {TARGET_SQLITE_PEAK_MIB:,} MiB): not judged, no SQLite run of "
            f"{TARGET_EVENTS:,} events or more"
        )
    for store in dict.fromkeys(r["store"] for r in rows):
        runs = sorted((r for r in rows if r["store"] == store), key=lambda r: r["size"])
        largest = runs[-1]
        reference = next(
            (r for r in runs if r["size"] == GROWTH_REFERENCE and r is not largest), runs[0]
        )
        if reference is largest:
            out["lines"].append(
                f"target (per-event cost at the largest size within {TARGET_GROWTH}× that at "
                f"1M), {store}: not judged, one size run"
            )
            continue
        ratio = largest["us_per_event"] / reference["us_per_event"]
        is_1m = reference["size"] == GROWTH_REFERENCE
        within = ratio <= TARGET_GROWTH
        out["growth"].append(
            {
                "store": store,
                "largest_size": largest["size"],
                "reference_size": reference["size"],
                "reference_is_1m": is_1m,
                "ratio": ratio,
                "cpu_ratio": largest["cpu_us_per_event"] / reference["cpu_us_per_event"],
                "limit": TARGET_GROWTH,
                "within_limit": within,
                # A verdict on the target only against 1M, as it is stated.
                "met": within if is_1m else None,
            }
        )
        figures = (
            f"{largest['us_per_event']:.1f} µs at {largest['size']:,} against "
            f"{reference['us_per_event']:.1f} µs at {reference['size']:,}: {ratio:.2f}×"
        )
        if is_1m:
            verdict = "met" if within else "not met"
        else:
            verdict = (
                f"{'within' if within else 'over'} {TARGET_GROWTH}× against the smallest size "
                f"run, not judged (the target compares with {GROWTH_REFERENCE:,}, not run "
                "below the largest size)"
            )
        out["lines"].append(
            f"target (per-event cost at the largest size within {TARGET_GROWTH}× that at 1M), "
            f"{store}: {figures}, {verdict}"
        )
    return out


@exits_on_failure
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000", help="events, comma-separated")
    parser.add_argument("--stores", default="sqlite,memory", help="sqlite,memory or one of them")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="2: the log read and half the review counted in a second process (SQLite)",
    )
    parser.add_argument("--seed", type=int, default=20251017)
    parser.add_argument("--workdir", type=Path, help="where the logs and stores go (default: temp)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the logs written in --workdir and use them again in a later run (the same "
        "sizes and seed: the generator is deterministic)",
    )
    options = parser.parse_args(argv)
    if options.keep_logs and options.workdir is None:
        parser.error("--keep-logs needs --workdir")
    if options.repeats < 1:
        parser.error("--repeats must be 1 or more")
    sizes = [int(s.replace("_", "")) for s in options.sizes.split(",") if s.strip()]
    stores = [s.strip() for s in options.stores.split(",") if s.strip()]
    if set(stores) - {"memory", "sqlite"}:
        parser.error("stores are memory and sqlite")

    rows: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        workdir = options.workdir
        if workdir is None:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-curve-")))
        workdir.mkdir(parents=True, exist_ok=True)
        for size in sizes:
            log = workdir / f"log-{size}-{options.seed}.csv"
            kept = log.with_suffix(".json")
            if options.keep_logs and log.exists() and kept.exists():
                info = json.loads(kept.read_text()) | {"prepare_seconds": 0.0}
            else:
                info = prepare_log(log, size, options.seed)
                if options.keep_logs:
                    kept.write_text(json.dumps(info))
            events = info["events"]
            print(
                f"{size:,}: {events:,} events (written in {info['prepare_seconds']:.1f} s)",
                flush=True,
            )
            # The baseline runs after the engine, so that what Polars keeps
            # allocated after it is not counted in the engine's peak memory.
            checks: list[tuple[str, Any, Any]] = []
            for store_kind in stores:
                best: dict[str, Any] | None = None
                peaks: list[float] = []
                for attempt in range(options.repeats):
                    store = "memory"
                    if store_kind == "sqlite":
                        store = str(workdir / f"store-{size}-{attempt}.db")
                        Path(store).unlink(missing_ok=True)
                    clock = _Clock()
                    load_before = os.getloadavg()[0]
                    # One process by default (jobs=1): its CPU time is all the work,
                    # comparable across sizes whatever else the machine runs.
                    result, seconds, cpu, peak = measured(
                        lambda log=log, store=store, clock=clock: run_engine(
                            log, store, progress=clock, jobs=options.jobs
                        )
                    )
                    load = (load_before, os.getloadavg()[0])
                    if store_kind == "sqlite":
                        Path(store).unlink(missing_ok=True)
                    name = f"sla-engine {store_kind}"
                    checks.append((name, result["figures"], result["as_of"]))
                    check_summary(name, result["summary"], events)
                    if peak is not None:
                        peaks.append(peak)
                    print(f"  {name} run {attempt + 1}: {seconds:.1f} s", flush=True)
                    if best is None or seconds < best["seconds"]:
                        best = {
                            "size": size,
                            "events": events,
                            "store": store_kind,
                            "jobs": options.jobs,
                            "seconds": seconds,
                            "replay_seconds": result["replay_seconds"],
                            "report_seconds": result["report_seconds"],
                            "cpu_seconds": cpu,
                            "us_per_event": seconds / events * 1e6,
                            "cpu_us_per_event": cpu / events * 1e6,
                            "replay_us_per_event": result["replay_seconds"] / events * 1e6,
                            "report_us_per_event": result["report_seconds"] / events * 1e6,
                            "peak_rss_mib": peak,
                            "tenths_us_per_event": clock.slices(SLICES),
                            "tenths_cpu_us_per_event": clock.slices(SLICES, cpu=True),
                            "polars_seconds": None,  # filled below
                            "load_average_before_after": load,
                        }

                if best is None:  # --repeats is 1 or more
                    raise RuntimeError("no run of the replay")
                # The highest peak of the runs: the memory target holds for every run.
                best["peak_rss_mib_max"] = max(peaks, default=None)
                rows.append(best)
            (reference, as_of), polars_seconds, _, _ = measured(
                lambda log=log: baseline_figures(log)
            )
            print(f"  Polars baseline {polars_seconds:.2f} s", flush=True)
            for name, figures, run_as_of in checks:
                check_agreement(name, figures, run_as_of, reference, as_of)
            for row in rows:
                if row["size"] == size:
                    row["polars_seconds"] = polars_seconds
            if not options.keep_logs:
                log.unlink()

    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        base = first.setdefault(row["store"], row)
        row["vs_smallest"] = row["us_per_event"] / base["us_per_event"]
        row["cpu_vs_smallest"] = row["cpu_us_per_event"] / base["cpu_us_per_event"]
    print()
    print(
        f"{'events':>10} {'store':<7} {'replay s':>9} {'report s':>9} {'µs/event':>9} "
        f"{'× smallest':>10} {'cpu µs':>7} {'× smallest':>10} {'replay µs':>9} "
        f"{'report µs':>9} {'peak MiB':>9} "
        f"{'1st 10th':>9} {'last 10th':>9}"
    )
    for row in rows:
        tenths = row["tenths_us_per_event"]
        first, last = (f"{tenths[0]:.1f}", f"{tenths[-1]:.1f}") if tenths else ("—", "—")
        peak = row["peak_rss_mib"]
        print(
            f"{row['events']:>10,} {row['store']:<7} {row['replay_seconds']:>9.1f} "
            f"{row['report_seconds']:>9.1f} {row['us_per_event']:>9.1f} "
            f"{row['vs_smallest']:>10.2f} {row['cpu_us_per_event']:>7.1f} "
            f"{row['cpu_vs_smallest']:>10.2f} {row['replay_us_per_event']:>9.1f} "
            f"{row['report_us_per_event']:>9.1f} "
            f"{'—' if peak is None else f'{peak:,.0f}':>9} {first:>9} {last:>9}"
        )
    print()
    print("replay µs per event of each tenth of the log (wall / CPU), largest size of each store:")
    for store_kind in stores:
        largest = max((r for r in rows if r["store"] == store_kind), key=lambda r: r["events"])
        for label in ("", "cpu_"):
            tenths = " ".join(f"{v:.0f}" for v in largest[f"tenths_{label}us_per_event"])
            kind = "CPU " if label else "wall"
            print(f"  {store_kind:<7} {kind} ({largest['events']:,} events): {tenths}")
    targets = curve_targets(rows)
    print()
    for line in targets["lines"]:
        print(line)

    if options.json is not None:
        options.json.write_text(
            json.dumps(
                {
                    "benchmark": "curve",
                    **environment(),
                    "repeats": options.repeats,
                    "jobs": options.jobs,
                    "seed": options.seed,
                    "rows": rows,
                    "targets": {k: v for k, v in targets.items() if k != "lines"},
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
