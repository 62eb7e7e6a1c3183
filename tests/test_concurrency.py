"""Several processes recording at once, some for the same contacts.

Each process records its share of the events in small batches; events of one
contact are spread over the processes, so they race for the same aggregates
and the engine must retry its version conflicts.  At the end every event is
stored once, and the timers equal those of a single-process replay.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eventsourcing.persistence import IntegrityError

from sla_engine import ContactRuleError, SlaEngine, SlaEngineError
from sla_engine._generate import generate_log
from sla_engine._logs import LogRow, read_log

WORKER = """
import json, sys
from sla_engine import ContactRuleError, SlaEngine
from sla_engine._logs import read_log, LogRow
store, log, share, shares = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
events = [r.event for r in read_log(log) if isinstance(r, LogRow)]
mine = [e for i, e in enumerate(events) if e.type.value != "received" and i % shares == share]
engine = SlaEngine(store=store)
go = sys.argv[5]
import os, time
while not os.path.exists(go):  # start together, to race
    time.sleep(0.005)
recorded = duplicates = rejected = 0
for start in range(0, len(mine), 25):
    result = engine.record_many(mine[start:start + 25], atomic=False)
    recorded += result.recorded
    duplicates += result.duplicates
    rejected += len(result.rejected)
print(json.dumps({"recorded": recorded, "duplicates": duplicates, "rejected": rejected,
                  "conflicts": engine.conflicts}))
"""

KEPT = {"received", "acknowledged", "holding_reply", "answered", "escalated"}


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated log keeping only events whose order does not matter once received."""
    folder = tmp_path_factory.mktemp("concurrency")
    full = folder / "full.csv"
    generate_log(full, contacts=300, seed=11, calendar_spec="fr", start=dt.date(2025, 3, 3),
                 end=dt.date(2025, 4, 30))  # fmt: skip
    with full.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Contacts with pauses, closures or reopenings are left out whole: their events
    # must be recorded in order, which racing processes do not promise.
    dropped = {r["contact_id"] for r in rows if r["type"] not in KEPT}
    kept = folder / "log.csv"
    with kept.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["contact_id"] not in dropped)
    return kept


def run_concurrently(store: str, log: Path, workers: int) -> list[dict[str, int]]:
    events = [r.event for r in read_log(log) if isinstance(r, LogRow)]
    first = SlaEngine("marianne-besancon", "fr", store=store)
    first.record_many([e for e in events if e.type.value == "received"])
    first.close()
    go = log.parent / f"go-{workers}-{abs(hash(store))}"
    go.unlink(missing_ok=True)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, store, str(log), str(n), str(workers), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    time.sleep(1.5)  # let them import and open the store
    go.touch()
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results.append(json.loads(out))
    return results


def assert_same_as_a_single_process(store: str, log: Path, results: list[dict[str, int]]) -> None:
    events = [r.event for r in read_log(log) if isinstance(r, LogRow)]
    others = [e for e in events if e.type.value != "received"]
    assert sum(r["recorded"] for r in results) == len(others)
    assert sum(r["rejected"] for r in results) == 0
    engine = SlaEngine(store=store)
    reference = SlaEngine("marianne-besancon", "fr", store="memory")
    reference.record_many(events)
    contacts = sorted({e.contact_id for e in events})
    for contact in contacts:
        stored = sorted(e.event_id for e in engine.history(contact))
        assert stored == sorted(e.event_id for e in events if e.contact_id == contact)
    now = dt.datetime(2025, 9, 1, tzinfo=dt.UTC)

    def timers(e: SlaEngine) -> list[tuple[object, ...]]:
        return sorted((t.key, t.state, t.due_date, t.stopped_at) for t in e.all_timers(now=now))

    live = timers(engine)
    engine.rebuild_view()
    rebuilt = timers(engine)
    assert rebuilt == timers(reference)
    assert live == rebuilt, (
        "view",
        len(live),
        len(rebuilt),
        engine.view.max_tracking_id(engine.name),
        engine.recorder.max_notification_id(),
        sorted(set(rebuilt) - set(live))[:3],
    )


def test_postgresql(postgres_store: str, log: Path) -> None:
    results = run_concurrently(postgres_store, log, workers=4)
    assert_same_as_a_single_process(postgres_store, log, results)
    print("conflicts retried:", [r["conflicts"] for r in results])


def test_sqlite_with_several_processes_on_one_file(tmp_path: Path, log: Path) -> None:
    store = f"sqlite:///{tmp_path / 'shared.db'}"
    results = run_concurrently(store, log, workers=3)
    assert_same_as_a_single_process(store, log, results)


def test_sqlite_beyond_its_lock_timeout_is_a_clear_error(tmp_path: Path) -> None:
    """One writer at a time: held too long, the next batch is refused whole, nothing corrupt."""
    import sqlite3

    from sla_engine import SlaEngineError

    path = tmp_path / "busy.db"
    store = f"sqlite:///{path}"
    engine = SlaEngine("marianne-besancon", "fr", store=store, env={"SQLITE_LOCK_TIMEOUT": "1"})

    when = dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC)
    first = {"event_id": "a", "contact_id": "A", "type": "received",
             "occurred_at": when, "channel": "email"}  # fmt: skip

    engine.record(first)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holding the write lock
    try:
        with pytest.raises(SlaEngineError, match="the store is busy"):
            engine.record(first | {"event_id": "b", "contact_id": "B"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert engine.record(first | {"event_id": "b", "contact_id": "B"}).value == "recorded"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert {e.event_id for c in ("A", "B") for e in engine.history(c)} == {"a", "b"}


@pytest.mark.parametrize("atomic", [True, False])
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_event_is_checked_against_the_store_before_it_is_refused(make_engine, atomic) -> None:  # type: ignore[no-untyped-def]
    """Another engine on the store recorded the 'suspended' that this 'resumed' follows.

    The first engine still holds the contact in memory as it left it; the
    rules, applied to that copy, would refuse a valid event (and lose it
    with ``atomic=False``).
    """
    web, mail = make_engine(), make_engine()
    at = lambda day: dt.datetime(2025, 11, day, 10, tzinfo=dt.UTC)  # noqa: E731
    web.record({"event_id": "1", "contact_id": "A", "type": "received",
                "channel": "email", "occurred_at": at(7)})  # fmt: skip
    mail.record({"event_id": "2", "contact_id": "A", "type": "suspended", "occurred_at": at(10)})
    result = web.record_many(
        [{"event_id": "3", "contact_id": "A", "type": "resumed", "occurred_at": at(12)}],
        atomic=atomic,
    )
    assert (result.recorded, result.rejected) == (1, ())
    assert [e.type.value for e in web.history("A")] == ["received", "suspended", "resumed"]
    assert web.conflicts == 1
    # A history the store makes impossible is refused all the same.
    with pytest.raises(ContactRuleError, match="'resumed' without a 'suspended'"):
        mail.record({"event_id": "4", "contact_id": "A", "type": "resumed", "occurred_at": at(13)})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_rebuild_while_another_engine_projects_keeps_every_contact(make_engine) -> None:  # type: ignore[no-untyped-def]
    """Another engine's catch-up, computed before the view was cleared, lands after it.

    Its batch was projected from where the view stood before the clear; written
    after it, with its tracking record past the log's end, it left the rebuild
    nothing to project: the view kept one contact of eleven, silently.
    """
    at = lambda day: dt.datetime(2025, 11, day, 10, tzinfo=dt.UTC)  # noqa: E731
    rebuilder, other = make_engine(), make_engine()
    rebuilder.record_many(
        [
            {"event_id": f"r{n}", "contact_id": f"C{n}", "type": "received",
             "channel": "email", "occurred_at": at(3)}
            for n in range(10)
        ]
    )  # fmt: skip
    other.record_many(
        [{"event_id": "late", "contact_id": "LATE", "type": "received", "channel": "email",
          "occurred_at": at(4)}],
        project=False,
    )  # fmt: skip
    replace, cleared = other.view.replace, []

    def the_rebuild_clears_first(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if not cleared:  # between the other's reading of the view and its writing
            cleared.append(True)
            rebuilder.view.clear()
        replace(*args, **kwargs)

    other.view.replace = the_rebuild_clears_first  # type: ignore[method-assign]
    other.project()
    rebuilder.project()  # the rest of the rebuild: project from where the view is
    now = at(20)
    for engine in (rebuilder, other):
        contacts = {t.contact_id for t in engine.all_timers(now=now)}
        assert contacts == {f"C{n}" for n in range(10)} | {"LATE"}


OPENER = """
import os, sys, time
from sla_engine import SlaEngine
store, schema, go, spec = sys.argv[1:5]
while not os.path.exists(go):  # open together, to race
    time.sleep(0.001)
try:
    SlaEngine("marianne-besancon", spec, store=store, env={"POSTGRES_SCHEMA": schema}).close()
    print("ok")
except Exception as error:
    print(type(error).__name__, str(error).splitlines()[0])
"""


def test_processes_opening_a_new_postgresql_store_at_once(
    postgres_store: str, pg_database: dict[str, str], tmp_path: Path
) -> None:
    """They create the same tables and the store's first rules at once.

    PostgreSQL refused all but one (a duplicate in its own catalogue, or in
    eventsourcing's migration record), and the rules' first version was saved
    by each: 5 of 30 openings failed in 10 rounds before the retries.
    """
    from .postgres_server import connect

    for round_ in range(3):
        schema = f"opening_{round_}"
        with connect(pg_database, autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        go = tmp_path / f"go-{round_}"
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, postgres_store, schema, str(go), spec],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for spec in ("fr", "fr", "fr-57")  # the last one changes the rules
        ]
        time.sleep(1.5)  # every interpreter started
        go.touch()
        said = [opener.communicate(timeout=120)[0].strip() for opener in openers]
        assert said == ["ok", "ok", "ok"], said


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_catch_up_gives_up_only_when_no_engine_moves_the_view_on(make_engine) -> None:  # type: ignore[no-untyped-def]
    """A batch refused because another engine projected first is progress, not a failure."""
    at = lambda day: dt.datetime(2025, 11, day, 10, tzinfo=dt.UTC)  # noqa: E731
    first, second = make_engine(), make_engine()
    for engine, contact in ((first, "X"), (second, "Y")):
        engine.record_many(
            [{"event_id": contact, "contact_id": contact, "type": "received",
              "channel": "email", "occurred_at": at(3)}],
            project=False,
        )  # fmt: skip
    first.conflict_retries = 0
    replace, calls = first.view.replace, []

    def the_other_projects_first(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if not calls:
            calls.append(True)
            second.project()  # the view moves on: this batch is refused
        replace(*args, **kwargs)

    first.view.replace = the_other_projects_first  # type: ignore[method-assign]
    first.project()
    assert {t.contact_id for t in first.all_timers(now=at(20))} == {"X", "Y"}

    # A view that stays where it is while every batch is refused: give up, saying why.
    def refused(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        raise IntegrityError("refused")

    first.record_many(
        [{"event_id": "Z", "contact_id": "Z", "type": "received", "channel": "email",
          "occurred_at": at(4)}],
        project=False,
    )  # fmt: skip
    first.view.replace = refused  # type: ignore[method-assign]
    with pytest.raises(SlaEngineError, match="kept projecting the same events"):
        first.project()
