"""The ingest and worklist benchmarks run end to end at tiny sizes and write their JSON.

Nothing here is timed: a benchmark's figures are read by people, never asserted.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from .postgres_server import connect, postgres_env

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def benchmarks(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    # The scripts import each other as top-level modules, as when run from benchmarks/.
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    import bench_ingest
    import bench_worklist

    return {"ingest": bench_ingest, "worklist": bench_worklist}


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "postgres":
        for key, value in postgres_env().items():
            monkeypatch.setenv(key, value)
    return str(request.param)


INGEST_ROW_KEYS = {
    "backend",
    "contender",
    "events",
    "batch",
    "seconds",
    "events_per_s",
    "ratio_to_raw",
    "ratio_to_raw_sqlite",
    "tracemalloc_peak_mib",
    "rss_growth_mib",
}
WORKLIST_ROW_KEYS = {
    "backend",
    "contacts",
    "open_timers",
    "load_seconds",
    "load_events_per_s",
    "queries",
    "query",
    "median_ms",
    "p95_ms",
    "max_ms",
}


def _read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _durability(backend: str) -> dict[str, str] | None:
    """The test server's durability settings, as the benchmarks must report them."""
    if backend != "postgres":
        return None
    with connect(postgres_env()) as conn:
        return {
            name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("fsync", "synchronous_commit", "full_page_writes")
        }


def _check_postgres_report(data: dict[str, Any], backend: str, printed: str) -> None:
    durability = _durability(backend)
    if durability is None:
        assert data["postgres_settings"] is None
        assert "fsync=" not in printed
        return
    assert data["postgres_settings"].items() >= durability.items()
    assert ", ".join(f"{k}={v}" for k, v in durability.items()) in printed


def test_ingest(
    benchmarks: dict[str, ModuleType],
    backend: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "ingest.json"
    argv = ["--events", "300", "--batch", "100", "--repeats", "1", "--backends", backend]
    assert benchmarks["ingest"].main([*argv, "--json", str(out)]) == 0
    data = _read(out)
    _check_postgres_report(data, backend, capsys.readouterr().out)
    assert data["benchmark"] == "ingest"
    assert data["events"] == 300
    rows = data["rows"]
    raw = "raw sqlite3" if backend == "sqlite" else "raw psycopg"
    assert [r["contender"] for r in rows] == [
        "sla-engine",
        "sla-engine bulk",
        "sla-engine unprojected",
        "eventsourcing stock",
        raw,
    ]
    for row in rows:
        assert set(row) >= INGEST_ROW_KEYS
        assert row["backend"] == backend
        assert row["events_per_s"] > 0
        assert row["tracemalloc_peak_mib"] > 0
        # Every SQLite contender's file was checked for the engine's page size.
        assert row["sqlite_page_size"] == (16384 if backend == "sqlite" else None)
    assert rows[-1]["ratio_to_raw"] == 1.0


def test_worklist(
    benchmarks: dict[str, ModuleType],
    backend: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "worklist.json"
    argv = ["--open", "300", "--curve", "100", "--queries", "5", "--load-batch", "100"]
    assert benchmarks["worklist"].main([*argv, "--backends", backend, "--json", str(out)]) == 0
    data = _read(out)
    printed = capsys.readouterr().out
    _check_postgres_report(data, backend, printed)
    # Under a million open timers the target is not judged, and the run says so.
    (target,) = data["targets"]
    assert "not judged" in target
    assert target in printed
    assert data["benchmark"] == "worklist"
    rows = data["rows"]
    assert [(r["query"], r["backend"]) for r in rows] == [
        ("worklist(limit=100)", backend),
        ("timers(contact)", backend),
    ] * 2
    for row in rows:
        assert set(row) >= WORKLIST_ROW_KEYS
        assert row["open_timers"] > 0
        assert row["median_ms"] <= row["p95_ms"] <= row["max_ms"]
    assert rows[0]["open_timers"] < rows[-1]["open_timers"]
