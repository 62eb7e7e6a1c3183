"""Reading the logs in a second process changes nothing that is recorded, projected or rejected."""

from __future__ import annotations

import datetime as dt
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sla_engine import SlaEngine
from sla_engine._errors import DataError, SlaEngineError
from sla_engine._generate import generate_log
from sla_engine._logs import read_log
from sla_engine._replay import _pack, _rows_from_reader, _unpack, replay

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("jobs") / "log.csv"
    # Malformed rows of every kind, late-received contacts, pauses, reopenings.
    generate_log(
        path,
        contacts=600,
        seed=11,
        calendar_spec="fr",
        start=dt.date(2025, 1, 6),
        end=dt.date(2025, 6, 30),
        malformed=0.05,
    )
    return path


def _replayed(log: Path, store: Path, jobs: int) -> tuple[object, str, list[tuple[object, ...]]]:
    engine = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
    rejects = io.StringIO()
    summary = replay(engine, [log], rejects=rejects, batch_size=97, jobs=jobs, columnar=False)
    with sqlite3.connect(store) as db:
        events = db.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid"
        ).fetchall()
    timers = [t.to_dict() for t in engine.all_timers(now=NOW)]
    return (summary.rows, summary.recorded, summary.rejected, timers), rejects.getvalue(), events


def test_two_processes_record_what_one_does(log: Path, tmp_path: Path) -> None:
    one = _replayed(log, tmp_path / "one.db", jobs=1)
    two = _replayed(log, tmp_path / "two.db", jobs=2)
    assert one[0] == two[0]  # counts and every timer
    assert one[1] == two[1]  # the rejects file, line for line
    assert one[2] == two[2]  # the stored events, byte for byte and in the same order
    _rows, recorded, rejected, timers = one[0]  # type: ignore[misc]
    assert rejected > 0
    assert recorded > 1000
    assert len(timers) > 500


def test_rows_survive_the_trip_between_processes(log: Path) -> None:
    rows = list(read_log(log))
    assert [_unpack(_pack(row)) for row in rows] == rows
    assert list(_rows_from_reader([log], None, None)) == rows


def test_an_error_of_the_reading_process_reaches_the_caller(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("event_id,contact_id\nE1,C1\n")
    with pytest.raises(DataError, match="the header has no column"):
        list(_rows_from_reader([bad], None, None))
    with pytest.raises(DataError, match="the header has no column"):
        list(read_log(bad))


@pytest.mark.parametrize("columnar", [True, False])
def test_a_bad_log_stops_a_replay_the_same_way_with_a_reading_process(
    columnar: bool, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("event_id,contact_id\nE1,C1\n")
    missing = tmp_path / "missing.csv"
    for path, error in ((bad, "the header has no column"), (missing, "missing.csv")):
        raised = []
        for jobs in (1, 2):
            engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / f"{jobs}.db"))
            with pytest.raises(SlaEngineError, match=error) as stopped:
                replay(engine, [path], jobs=jobs, columnar=columnar)
            raised.append((type(stopped.value), str(stopped.value)))
            engine.close()
        assert raised[0] == raised[1]


def test_a_script_without_a_main_guard_runs_its_replay_once(log: Path, tmp_path: Path) -> None:
    # multiprocessing's spawn and forkserver would import this script again in
    # the reading process, and replay the log twice (or fail).
    script = tmp_path / "script.py"
    script.write_text(
        "import sys\n"
        "from sla_engine import SlaEngine\n"
        "from sla_engine._replay import replay\n"
        "engine = SlaEngine('marianne-besancon', 'fr')\n"
        f"summary = replay(engine, [{str(log)!r}], jobs=2)\n"
        "print('replayed', summary.recorded)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )
    (line,) = done.stdout.splitlines()
    assert line.startswith("replayed ")
    assert int(line.split()[1]) > 1000


def test_the_working_set_keeps_open_contacts_in_memory(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def store_reads(working_set: int, name: str) -> int:
        engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / name), clock=lambda: NOW)
        engine.recent_contacts = 50
        reads = 0
        get = engine.repository.get

        def counted(*args: object, **kwargs: object) -> object:
            nonlocal reads
            found = get(*args, **kwargs)  # raises for a contact not stored yet
            reads += 1
            return found

        monkeypatch.setattr(engine.repository, "get", counted)
        summary = replay(
            engine, [log], batch_size=97, jobs=1, working_set=working_set, columnar=False
        )
        assert summary.recorded > 1000
        # Back to the engine's own size afterwards.
        assert engine.recent_contacts == 50
        assert len(engine._recent) <= 50
        return reads

    # 600 contacts: all of them fit in a working set of 1,000 and none is read
    # back; with 50, the later events of some contacts read them from the store.
    assert store_reads(1000, "large.db") == 0
    assert store_reads(50, "small.db") > 0


def test_finished_contacts_leave_the_working_set_before_open_ones() -> None:
    from sla_engine._engine import _WorkingSet

    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: NOW)
    received = dt.datetime(2025, 11, 3, 9, tzinfo=dt.UTC)
    for n in range(4):
        engine.record(
            {
                "event_id": f"r{n}",
                "contact_id": f"C{n}",
                "type": "received",
                "occurred_at": received,
                "channel": "email",
            }
        )
    # C0 and C2 are answered: finished.
    for n in (0, 2):
        engine.record(
            {
                "event_id": f"a{n}",
                "contact_id": f"C{n}",
                "type": "answered",
                "occurred_at": received + dt.timedelta(days=1),
            }
        )
    working = _WorkingSet()
    for n in range(4):  # least recently used first: C0, C1, C2, C3
        contact = engine._get_contact(f"C{n}")
        assert contact is not None
        working.put(f"C{n}", contact)
    working.trim(3)
    assert [c for c in ("C0", "C1", "C2", "C3") if working.get(c)] == ["C1", "C2", "C3"]
    working.trim(2)
    assert [c for c in ("C0", "C1", "C2", "C3") if working.get(c)] == ["C1", "C3"]
    working.trim(1)
    assert [c for c in ("C0", "C1", "C2", "C3") if working.get(c)] == ["C3"]


def test_a_replay_evaluates_each_contact_once_when_its_window_holds_them(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def evaluations(own: int, working_set: int, name: str) -> tuple[int, int]:
        engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / name), clock=lambda: NOW)
        engine.recent_contacts = engine.projection_contacts = own
        seen: list[str] = []
        evaluate = engine._view_timers  # the projection's evaluation of a contact

        def counted(history):  # type: ignore[no-untyped-def]
            seen.append(history[0].contact_id)
            return evaluate(history)

        monkeypatch.setattr(engine, "_view_timers", counted)
        replay(engine, [log], batch_size=97, jobs=1, working_set=working_set, columnar=False)
        # The engine's own settings are back afterwards.
        assert (engine.recent_contacts, engine.projection_contacts) == (own, own)
        return len(seen), len(set(seen))

    # 600 contacts, windows of half the working set (1,000): each evaluated once.
    count, contacts = evaluations(20, 2000, "wide.db")
    assert count == contacts > 500
    # Windows of 25 contacts: a contact open across windows is evaluated again.
    count, contacts = evaluations(20, 50, "narrow.db")
    assert count > contacts > 500


def test_a_reading_process_killed_mid_replay_stops_it_with_what_happened(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sla_engine import _replay
    from sla_engine._helper import Helper

    helpers: list[Helper] = []

    class Watched(Helper):
        def __init__(self, request: tuple[object, ...]) -> None:
            super().__init__(request)
            helpers.append(self)

    monkeypatch.setattr(_replay, "Helper", Watched)
    store = tmp_path / "s.db"
    engine = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)

    def kill(rows: int) -> None:
        helpers[0].process.kill()  # after its first block: mid-stream

    with pytest.raises(SlaEngineError, match=r"the helper process stopped \(exit code -9\)"):
        replay(engine, [log], columnar=True, jobs=2, block_lines=200, progress=kill)
    assert helpers[0].process.poll() is not None
    # What was stored is whole: every contact's events, and their timers projected.
    engine.project()
    stored = {t.contact_id for t in engine.stored_timers()}
    assert stored
    engine.close()
    with sqlite3.connect(store) as db:
        contacts = {c for (c,) in db.execute("SELECT DISTINCT originator_id FROM stored_events")}
    assert stored <= contacts


def test_a_review_helper_that_dies_stops_the_review_with_what_happened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sla_engine import _report, _view
    from sla_engine._helper import Helper
    from sla_engine._report import build_report

    log = tmp_path / "log.csv"
    generate_log(
        log, contacts=200, seed=3, calendar_spec="fr",
        start=dt.date(2025, 1, 6), end=dt.date(2025, 3, 28),
    )  # fmt: skip
    engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / "s.db"), clock=lambda: NOW)
    replay(engine, [log])
    monkeypatch.setattr(_view, "_PAGE", 5)
    monkeypatch.setattr(_report, "PAGES_ALONE", 1)

    class Dying(Helper):
        def send(self, item: object) -> None:
            super().send(item)
            self.process.kill()

    monkeypatch.setattr(_report, "Helper", Dying)
    with pytest.raises(SlaEngineError, match=r"the helper process stopped \(exit code -9\)"):
        build_report(engine, jobs=2)
    engine.close()
