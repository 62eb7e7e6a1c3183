"""bench_replay runs end to end on a tiny log: its contenders agree and its JSON is complete.

No timing is asserted: this only keeps the benchmark (and its Polars
baseline) working while the engine changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("polars")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


@pytest.fixture
def bench_replay(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for name in ("bench_replay", "baseline_polars"):
        sys.modules.pop(name, None)
    import bench_replay

    return bench_replay


def test_bench_replay_agrees_on_a_tiny_log(bench_replay, tmp_path, capsys):  # type: ignore[no-untyped-def]
    out = tmp_path / "replay.json"
    status = bench_replay.main(
        [
            "--events",
            "400",
            "--repeats",
            "1",
            "--workdir",
            str(tmp_path),
            "--json",
            str(out),
            "--contenders",
            "sqlite,memory,memory-floor,polars",
        ]
    )
    assert status == 0
    report = json.loads(out.read_text())
    assert {
        "benchmark",
        "python",
        "polars",
        "numpy",
        "repeats",
        "log",
        "events",
        "as_of",
        "agreement",
        "figures",
        "contenders",
        "targets",
    } <= report.keys()
    assert report["benchmark"] == "replay"
    assert report["agreement"] is True
    assert 200 <= report["events"] <= 600
    assert set(report["figures"]) == {"email-5", "letter-15", "ack-2"}
    for counts in report["figures"].values():
        assert set(counts) == {"total", "met", "late", "overdue", "pending"}
        assert (
            counts["total"]
            == counts["met"] + counts["late"] + counts["overdue"] + counts["pending"]
        )
    assert sum(c["total"] for c in report["figures"].values()) > 0
    names = {c["contender"] for c in report["contenders"]}
    assert names == {
        "sla-engine sqlite",
        "sla-engine memory",
        "eventsourcing in-memory store alone",
        "SQLite in memory alone",
        "polars baseline",
    }
    for contender in report["contenders"]:
        assert {
            "seconds",
            "events_per_s",
            "peak_rss_mib",
            "throughput_vs_polars",
        } <= contender.keys()
        assert contender["events_per_s"] > 0
    assert {
        "sqlite_events_per_s",
        "memory_vs_polars",
        "memory_floor_vs_polars",
        "sqlite_memory_floor_vs_polars",
    } <= report["targets"].keys()
    printed = capsys.readouterr().out
    assert "identical for every contender" in printed
    # No verdict on the ten-million-event target from a run of 400 events.
    assert "judged by bench_curve.py at that size" in printed
    assert "10,000,000 events into SQLite" not in printed
    assert report["targets"]["sqlite_rate_is_extrapolated"] is True


def test_a_disagreement_stops_the_benchmark(bench_replay):  # type: ignore[no-untyped-def]
    import datetime as dt

    reference = {"email-5": {"total": 2, "met": 1, "late": 1, "overdue": 0, "pending": 0}}
    wrong = {"email-5": {"total": 2, "met": 2, "late": 0, "overdue": 0, "pending": 0}}
    as_of = dt.datetime(2026, 7, 3, 18, 0, tzinfo=dt.UTC)
    bench_replay.check_agreement("same", reference, as_of.isoformat(), reference, as_of)
    with pytest.raises(bench_replay.Disagreement, match="email-5 met: x 2, baseline 1"):
        bench_replay.check_agreement("x", wrong, as_of, reference, as_of)
    with pytest.raises(bench_replay.Disagreement, match="as_of"):
        bench_replay.check_agreement(
            "x", reference, as_of - dt.timedelta(hours=1), reference, as_of
        )
