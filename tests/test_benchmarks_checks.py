"""The benchmarks' correctness checks fail when a contender's answer is wrong.

A benchmark reports figures only for contenders that gave the right answer:
each test here makes one contender (or the baseline, or the store's
settings) wrong on purpose and expects the script to stop with a message
and a non-zero status.  Sizes are tiny and nothing is timed.
"""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import json
import socket
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest

from .postgres_server import connect, postgres_env

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``bench.<module>``: the benchmark scripts, imported as when run from benchmarks/.

    Imported once per test run: bench_ingest's aggregate classes register
    their topics with eventsourcing, which refuses a second class of the
    same name.  ``monkeypatch`` undoes each test's changes to them.
    """
    monkeypatch.syspath_prepend(str(BENCHMARKS))

    class Scripts:
        def __getattr__(self, name: str) -> ModuleType:
            return importlib.import_module(name)

    return Scripts()


# -- no assert statements ------------------------------------------------------------


def test_the_scripts_check_without_assert() -> None:
    # ``python -O`` removes assert statements: a check written so would not run.
    found = []
    for script in sorted(BENCHMARKS.glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assert):
                found.append(f"{script.name}:{node.lineno}")
    assert found == []


# -- bench_ingest ----------------------------------------------------------------------

INGEST = ["--events", "300", "--batch", "100", "--repeats", "1", "--no-tracemalloc"]


def test_ingest_stops_when_a_contender_stores_a_wrong_state(
    bench: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest = bench.bench_ingest
    right = ingest._state

    def wrong(event: Any, version: int) -> bytes:
        # The same JSON but one field, for the second event of each contact.
        state = right(event, version)
        return state.replace(b'"event_id":"', b'"event_id":"X', 1) if version == 2 else state

    monkeypatch.setattr(ingest, "_state", wrong)
    assert ingest.main([*INGEST, "--backends", "sqlite"]) == 1
    err = capsys.readouterr().err
    assert "FAILED" in err
    assert "sqlite: raw sqlite3" in err
    assert "event_id 'XE" in err
    assert "expected" in err


@pytest.mark.parametrize("contender", ["sla-engine", "eventsourcing stock", "raw"])
def test_ingest_check_sees_a_changed_event_in_every_contender(
    bench: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, contender: str
) -> None:
    # Each contender records events of which one differs from those expected.
    ingest = bench.bench_ingest
    events = ingest.make_events(200)
    changed = list(events)
    index = next(i for i, e in enumerate(events) if e.type.value != "received")
    changed[index] = attrs.evolve(events[index], event_id=events[index].event_id + "Z")
    expected = ingest.expected_events(events)
    monkeypatch.setattr(ingest, "expected_for", lambda _events: expected)
    with ingest.Store("sqlite", tmp_path, None) as store:
        result = ingest.CONTENDERS[contender](changed, 50, store)
    with pytest.raises(ingest.CheckFailed, match=r"(?s)1 differences.*event_id '\w+Z' stored"):
        ingest.check_run("sqlite", contender, result, len(events))
    # The same run on the right events passes.
    with ingest.Store("sqlite", tmp_path, None) as store:
        result = ingest.CONTENDERS[contender](events, 50, store)
    ingest.check_run("sqlite", contender, result, len(events))


def test_ingest_check_sees_wrong_topics(
    bench: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ingest = bench.bench_ingest
    events = ingest.make_events(200)
    expected = ingest.expected_events(events)
    # The engine's topics are those every contender's events are compared with.
    engine_topics = {topic for topic, _ in expected.values()}
    assert engine_topics <= set(ingest._topics().values())
    assert all(t.startswith(ingest.ENGINE_TOPIC) for t in engine_topics)

    topics = ingest._topics()
    swapped = topics | {"answered": topics["acknowledged"], "acknowledged": topics["answered"]}
    with monkeypatch.context() as patch:
        patch.setattr(ingest, "_topics", lambda: swapped)
        with ingest.Store("sqlite", tmp_path, None) as store:
            raw = ingest.run_raw(events, 50, store)
    with pytest.raises(ingest.CheckFailed, match=r"topic '.*Contact\.Acknowledged', expected"):
        ingest.check_run("sqlite", "raw", raw, len(events))

    # The stock contender's events of one type stored as another.
    monkeypatch.setattr(ingest, "expected_for", lambda _events: expected)
    changed = [
        attrs.evolve(e, type="holding_reply") if e.type.value == "answered" else e for e in events
    ]
    with ingest.Store("sqlite", tmp_path, None) as store:
        stock = ingest.run_stock(changed, 50, store)
    with pytest.raises(ingest.CheckFailed, match=r"HoldingReply', expected '.*Answered'"):
        ingest.check_run("sqlite", "eventsourcing stock", stock, len(events))


@pytest.mark.parametrize("contender", ["sla-engine", "eventsourcing stock", "raw"])
def test_every_sqlite_contender_has_the_engines_page_size(
    bench: Any, tmp_path: Path, contender: str
) -> None:
    ingest = bench.bench_ingest
    events = ingest.make_events(100)
    with ingest.Store("sqlite", tmp_path, None) as store:
        ingest.CONTENDERS[contender](events, 50, store)
        settings = ingest.sqlite_settings(store.path)
    assert settings == {"page_size": 16384, "journal_mode": "wal"}
    from sla_engine._engine import SQLITE_PAGE_SIZE

    assert settings["page_size"] == SQLITE_PAGE_SIZE


def test_ingest_check_sees_sqlites_default_page_size(
    bench: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ingest = bench.bench_ingest
    events = ingest.make_events(100)
    monkeypatch.setattr(ingest, "create_sqlite_file", lambda path: None)
    with ingest.Store("sqlite", tmp_path, None) as store:
        result = ingest.run_raw(events, 50, store)
    with pytest.raises(ingest.CheckFailed, match="'page_size': 4096"):
        ingest.check_run("sqlite", "raw", result, len(events))


def _table_shape(env: dict[str, str], dbname: str) -> dict[str, Any]:
    """The events table's columns, indexes and storage options, its name replaced by ``T``."""
    with connect(env, dbname=dbname) as conn:
        (table,) = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename LIKE '%events'"
        ).fetchone()  # stored_events (raw), application_events (eventsourcing's)
        columns = conn.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname",
            (table,),
        ).fetchall()
        (options,) = conn.execute(
            "SELECT reloptions FROM pg_class WHERE relname = %s", (table,)
        ).fetchone()
    return {
        "columns": columns,
        "indexes": [(n.replace(table, "T"), d.replace(table, "T")) for n, d in indexes],
        "options": sorted(options or []),
    }


def test_the_raw_postgres_table_is_eventsourcings(bench: Any, tmp_path: Path) -> None:
    ingest = bench.bench_ingest
    env = postgres_env()
    events = ingest.make_events(100)
    shapes = {}
    for contender in ("eventsourcing stock", "raw"):
        with ingest.Store("postgres", tmp_path, env) as store:
            result = ingest.CONTENDERS[contender](events, 50, store)
            ingest.check_run("postgres", contender, result, len(events))
            shapes[contender] = _table_shape(env, store.dbname)
    assert shapes["raw"] == shapes["eventsourcing stock"]
    assert [n for n, _ in shapes["raw"]["indexes"]] == ["T_notification_id_idx", "T_pkey"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("script", ["bench_ingest", "bench_worklist"])
def test_a_postgres_backend_that_cannot_run_fails_the_run(
    bench: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    script: str,
) -> None:
    for key, value in {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(_closed_port()),
        "POSTGRES_USER": "nobody",
        "POSTGRES_PASSWORD": "nothing",
    }.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "out.json"
    argv = ["--backends", "sqlite,postgres", "--json", str(out)]
    assert getattr(bench, script).main(argv) == 1
    err = capsys.readouterr().err
    assert "PostgreSQL was asked for" in err
    assert not out.exists()


# -- worklist_synthetic ----------------------------------------------------------------


def test_worklist_synthetic_checks_and_judges_only_at_a_million(
    bench: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "worklist.json"
    assert (
        bench.worklist_synthetic.main(["--open", "500", "--queries", "3", "--json", str(out)]) == 0
    )
    data = json.loads(out.read_text())
    assert data["open"] == 500
    assert data["query"] == "worklist(limit=100)"
    assert data["median_ms"] <= data["p95_ms"]
    assert data["view_median_ms"] <= data["view_p95_ms"]
    assert data["target"] | {"judged": False, "met": None} == data["target"]
    assert "not judged at 500 open timers" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda items: items[:50] + items[51:], "gave 99 timers, expected 100; missing"),
        (lambda items: [items[1], items[0], *items[2:]], "in another order"),
    ],
)
def test_worklist_synthetic_stops_on_a_wrong_answer(
    bench: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    change: Any,
    message: str,
) -> None:
    from sla_engine import SlaEngine

    right = SlaEngine.worklist

    def wrong(self: Any, *args: Any, **kwargs: Any) -> Any:
        return change(right(self, *args, **kwargs))

    monkeypatch.setattr(SlaEngine, "worklist", wrong)
    assert bench.worklist_synthetic.main(["--open", "500", "--queries", "2"]) == 1
    err = capsys.readouterr().err
    assert "worklist(before=" in err
    assert message in err


# -- baseline_polars -----------------------------------------------------------------------


def test_the_baseline_refuses_a_log_it_cannot_model(bench: Any, tmp_path: Path) -> None:
    from sla_engine._generate import generate_log

    baseline = bench.baseline_polars
    log = tmp_path / "raw.csv"
    generate_log(
        log,
        contacts=400,
        seed=1,
        calendar_spec="fr",
        start=dt.date(2025, 9, 1),
        end=dt.date(2026, 7, 3),
    )
    with pytest.raises(
        baseline.UnmodelledLog, match=r"rows of type 'suspended' \(the first at line"
    ):
        baseline.baseline_figures(log)
    # bench_replay's log leaves those contacts out: accepted.
    kept = tmp_path / "kept.csv"
    bench.bench_replay.prepare_log(kept, 1000, 1)
    figures, _ = baseline.baseline_figures(kept)
    assert sum(f["total"] for f in figures.values()) > 0


def test_the_baseline_refuses_contacts_it_cannot_start(bench: Any, tmp_path: Path) -> None:
    baseline = bench.baseline_polars
    log = tmp_path / "log.csv"
    log.write_text(
        "event_id,contact_id,type,occurred_at,channel\n"
        "e1,A,received,2025-09-01T10:00:00+02:00,email\n"
        "e2,B,answered,2025-09-01T11:00:00+02:00,\n"
        "e3,B,received,2025-09-01T12:00:00+02:00,email\n"
        "e4,A,received,2025-09-02T10:00:00+02:00,email\n",
        encoding="utf-8",
    )
    with pytest.raises(baseline.UnmodelledLog) as refused:
        baseline.baseline_figures(log)
    message = str(refused.value)
    assert "1 contacts whose first row is not 'received', e.g. B (line 3: answered)" in message
    assert "1 contacts received more than once, e.g. A" in message


# -- bench_curve and bench_replay ------------------------------------------------------------


def test_curve_stops_on_a_rejected_event(
    bench: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    curve = bench.bench_curve
    right = curve.run_engine

    def rejecting(*args: Any, **kwargs: Any) -> dict[str, Any]:
        result = right(*args, **kwargs)
        result["summary"]["rejected"] += 1
        return result

    monkeypatch.setattr(curve, "run_engine", rejecting)
    assert curve.main(["--sizes", "800", "--stores", "memory"]) == 1
    assert "rejected 1 " in capsys.readouterr().err


def test_curve_judges_its_targets_from_the_sizes_run(
    bench: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "curve.json"
    argv = ["--sizes", "800,1600", "--stores", "sqlite", "--json", str(out)]
    assert bench.bench_curve.main(argv) == 0
    targets = json.loads(out.read_text())["targets"]
    assert targets["ten_million"] == []
    (growth,) = targets["growth"]
    assert (growth["largest_size"], growth["reference_size"]) == (1600, 800)
    assert growth["reference_is_1m"] is False
    assert growth["met"] is None
    printed = capsys.readouterr().out
    assert "no SQLite run of 10,000,000 events or more" in printed
    assert "against the smallest size run, not judged" in printed


def _curve_row(size: int, seconds: float, peak: float, store: str = "sqlite") -> dict[str, Any]:
    return {
        "size": size,
        "events": size,
        "store": store,
        "jobs": 2,
        "seconds": seconds,
        "us_per_event": seconds / size * 1e6,
        "cpu_us_per_event": seconds / size * 1e6,
        "peak_rss_mib": peak,
        "peak_rss_mib_max": peak,
    }


@pytest.mark.parametrize(
    ("seconds_10m", "peak", "ten_million_met"),
    [(164.0, 1721.0, True), (190.0, 1721.0, False), (170.0, 2100.0, False)],
)
def test_curve_verdicts_at_ten_million(
    bench: Any, seconds_10m: float, peak: float, ten_million_met: bool
) -> None:
    rows = [_curve_row(1_000_000, 14.8, 1053.0), _curve_row(10_000_000, seconds_10m, peak)]
    targets = bench.bench_curve.curve_targets(rows)
    (ten,) = targets["ten_million"]
    assert ten["met"] is ten_million_met
    (growth,) = targets["growth"]
    assert growth["reference_is_1m"] is True
    assert growth["met"] is (seconds_10m / 10 / 14.8 <= 1.2)
    verdict = "met" if ten_million_met else "not met"
    (line,) = [line for line in targets["lines"] if "10,000,000 events in" in line]
    assert line.endswith(f"s, peak {peak:,.0f} MiB, {verdict}")


def test_replay_stops_on_a_disagreement(
    bench: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    replay = bench.bench_replay
    right = replay.engine_figures

    def wrong(report: dict[str, Any]) -> dict[str, dict[str, int]]:
        figures = right(report)
        figures["email-5"]["met"] += 1
        return figures

    monkeypatch.setattr(replay, "engine_figures", wrong)
    argv = ["--events", "400", "--repeats", "1", "--workdir", str(tmp_path)]
    assert replay.main([*argv, "--contenders", "memory"]) == 1
    assert "sla-engine memory disagrees with the Polars baseline" in capsys.readouterr().err


def test_replay_help_says_when_the_baseline_runs(
    bench: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        bench.bench_replay.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "always runs once, untimed, as the reference" in text
    assert "it is timed only with 'polars'" in text


def test_deadlines_check_names_the_first_difference(bench: Any) -> None:
    deadlines = bench.bench_deadlines
    day = dt.date(2025, 12, 24)
    deadlines._first_difference("same", [(day, 1)], [day], [day])
    with pytest.raises(deadlines.CheckFailed, match=r"numpy\(datetime.date\(2025, 12, 24\), 1\)"):
        deadlines._first_difference("numpy", [(day, 1)], [day], [dt.date(2025, 12, 26)])
