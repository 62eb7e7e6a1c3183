"""Recording contact events: sla-engine against eventsourcing's stock path and raw inserts.

Run: ``.venv/bin/python benchmarks/bench_ingest.py [--events N] [--batch N]
[--backends sqlite,postgres] [--repeats N] [--json FILE]``

Every contender records the same events (the first N rows of a synthetic log
from :func:`sla_engine._generate.generate_log`, read by
:func:`sla_engine._logs.read_log`), in batches of the same size, each batch
one transaction, into a fresh store (a new SQLite file in a temporary
directory, a new PostgreSQL database created and dropped per run):

- ``sla-engine``: ``SlaEngine("marianne-besancon", "fr", store=...).record_many(batch)``,
  the timer view projected after each batch as the engine does;
- ``sla-engine bulk``: the same with ``record_many(batch, project=False)``,
  as ``replay`` does: the view projected once for many batches (every 20,000
  contacts) and at the end, inside the timed run;

- ``sla-engine unprojected``: the same with ``project=False`` and the view
  never brought up to date: not a way to use the engine (its view is caught
  up before any query), the events alone, so that the projection's share
  shows by difference;
- ``eventsourcing stock``: an ``eventsourcing`` ``Application`` with a trivial
  aggregate (one per contact, ids as text) whose events carry the same fields
  (event id, contact id, ``occurred_at``, a timestamp, the payload),
  ``app.save(*aggregates)`` per batch: the cost of the library itself.  Like
  the engine, it keeps the last 20,000 contacts in memory and reads the others
  back from the store;
- ``raw sqlite3`` (and ``raw psycopg`` for PostgreSQL): ``executemany`` of rows
  shaped like eventsourcing's stored events (originator id, version, topic,
  JSON state, the JSON made in the timed loop) into a table with
  eventsourcing's schema and primary key, SQLite in WAL mode as eventsourcing
  sets it: the ceiling on this machine.

Each run happens in a forked child process, so that each contender's peak
memory is its own: the growth of the child's resident set over the run
(``resource.getrusage(...).ru_maxrss`` minus the resident set at the start) and,
in one more run with ``tracemalloc`` on (which slows Python down, so it is
never timed), the peak of the memory Python allocated.  Before anything is
timed, the first run of every contender is checked: every event recorded,
once, with the right version, and (for the engine) the timer view projected
up to the last event.  Figures are the best of several repeats, contenders
taking turns; on a shared, noisy machine read the ratios, not the absolute
rates.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
import hashlib
import importlib
import importlib.metadata
import json
import os
import pickle
import platform
import resource
import sqlite3
import sys
import tempfile
import time
import traceback
import tracemalloc
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    MetaDomainEvent,
)

from sla_engine import SlaEngine
from sla_engine._contact import ContactEvent
from sla_engine._generate import generate_log
from sla_engine._logs import LogRow, read_log

CATALOGUE = "marianne-besancon"
CALENDAR = "fr"
#: The engine's clock: fixed, so that every run stores the same bytes.
RECORDED_AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
#: Contacts the stock contender keeps in memory (as the engine does by default).
RECENT_CONTACTS = 20_000
ENGINE_TOPIC = "sla_engine._contact:Contact."
PAGE = os.sysconf("SC_PAGE_SIZE")

PostgresEnv = dict[str, str]


# -- the events ---------------------------------------------------------------------


def make_events(count: int, seed: int = 20251017) -> list[ContactEvent]:
    """The first ``count`` events of a synthetic log (a valid recording order)."""
    contacts = max(10, count * 10 // 33 + 50)  # about 3.6 events a contact
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        while True:
            path = Path(tmp) / "log.csv"
            generate_log(
                path,
                contacts=contacts,
                seed=seed,
                calendar_spec=CALENDAR,
                start=dt.date(2025, 9, 1),
                end=dt.date(2026, 7, 10),
            )
            events = []
            for row in read_log(path):
                if isinstance(row, LogRow):
                    events.append(row.event)
                    if len(events) == count:
                        return events
            contacts = contacts * 3 // 2 + 10


def batches(events: Sequence[ContactEvent], size: int) -> Iterator[Sequence[ContactEvent]]:
    for start in range(0, len(events), size):
        yield events[start : start + size]


def expected_versions(events: Sequence[ContactEvent]) -> list[tuple[str, int]]:
    """(contact id, version) of every event, as every contender must store them."""
    versions: collections.Counter[str] = collections.Counter()
    rows = []
    for e in events:
        versions[e.contact_id] += 1
        rows.append((e.contact_id, versions[e.contact_id]))
    return rows


def digest(pairs: Iterator[tuple[str, int]] | list[tuple[str, int]]) -> str:
    return hashlib.sha256(json.dumps(sorted(pairs)).encode()).hexdigest()


# -- stores ---------------------------------------------------------------------------


class Store:
    """A fresh, empty store of one kind: a SQLite file or a PostgreSQL database."""

    def __init__(self, kind: str, tmp: Path, postgres: PostgresEnv | None) -> None:
        self.kind = kind
        self.tmp = tmp
        self.postgres = postgres
        self.path: Path | None = None
        self.dbname: str | None = None

    def __enter__(self) -> Store:
        if self.kind == "sqlite":
            self.path = self.tmp / f"store-{uuid.uuid4().hex[:8]}.db"
        else:
            self.dbname = f"sla_bench_{uuid.uuid4().hex[:12]}"
            admin_execute(self.pg, f'CREATE DATABASE "{self.dbname}" TEMPLATE template0')
        return self

    def __exit__(self, *exc: object) -> None:
        if self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        if self.dbname is not None:
            admin_execute(self.pg, f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')

    @property
    def pg(self) -> PostgresEnv:
        assert self.postgres is not None
        return self.postgres

    def url(self) -> str:
        if self.path is not None:
            return f"sqlite:///{self.path}"
        env = self.pg
        return (
            f"postgresql://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}"
            f"@{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{self.dbname}"
        )

    def env(self) -> dict[str, str]:
        if self.path is not None:
            return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(self.path)}
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            **{k: v for k, v in self.pg.items() if k != "POSTGRES_DBNAME"},
            "POSTGRES_DBNAME": str(self.dbname),
        }

    def connect_pg(self) -> Any:
        import psycopg  # only needed for PostgreSQL

        env = self.pg
        return psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            dbname=self.dbname,
        )


def admin_execute(env: PostgresEnv, statement: str) -> None:
    import psycopg

    with psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        dbname=env["POSTGRES_DBNAME"],
        autocommit=True,
    ) as conn:
        conn.execute(statement)


def chosen_backends(
    parser: argparse.ArgumentParser, text: str
) -> tuple[list[str], PostgresEnv | None]:
    """The backends of ``--backends``, less PostgreSQL when no server can be had."""
    backends = [b.strip() for b in text.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    postgres = postgres_from_environment() if "postgres" in backends else None
    if "postgres" in backends and postgres is None:
        print("no PostgreSQL server (scripts/postgres failed): PostgreSQL skipped")
        backends.remove("postgres")
    if "postgres" in backends:
        # Imported now, so that every run (forked ones too) uses the code this
        # process started with, even if the sources change while it runs.
        importlib.import_module("sla_engine._view_postgres")
    return backends, postgres


def postgres_from_environment() -> PostgresEnv | None:
    """The ``POSTGRES_*`` variables, from the environment or ``scripts/postgres``."""
    keys = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD")
    if all(os.environ.get(k) for k in keys):
        env = {k: os.environ[k] for k in keys}
        env["POSTGRES_DBNAME"] = os.environ.get("POSTGRES_DBNAME", "postgres")
        return env
    import subprocess

    script = Path(__file__).resolve().parents[1] / "scripts" / "postgres"
    done = subprocess.run(  # noqa: S603 - our own script, no arguments
        [str(script)], capture_output=True, text=True, check=False, timeout=900
    )
    if done.returncode != 0:
        return None
    env = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.removeprefix("export ").partition("=")
        if sep and key.startswith("POSTGRES_"):
            env[key] = value
    return env


# -- the contenders ----------------------------------------------------------------------


class StockContact(BaseAggregate[str]):
    """A trivial aggregate: events with the engine's fields, no rules, no state."""

    class Event(CanMutateAggregate[str], metaclass=MetaDomainEvent):
        originator_id: str
        originator_version: int
        timestamp: dt.datetime
        event_id: str
        occurred_at: dt.datetime
        payload: dict[str, Any]

    class Received(Event, CanInitAggregate[str]):
        originator_topic: str

    class Happened(Event):
        type: str


def run_engine(
    events: Sequence[ContactEvent],
    size: int,
    store: Store,
    *,
    project: bool = True,
    catch_up: bool = True,
) -> dict[str, Any]:
    """``record_many`` batch by batch; with ``catch_up``, the view brought to the last event."""
    engine = SlaEngine(
        catalogue=CATALOGUE, calendar_spec=CALENDAR, store=store.url(), clock=lambda: RECORDED_AT
    )
    if not catch_up:
        engine.projection_contacts = len(events) + 1  # no catch-up on the way
    recorded = 0
    start = time.perf_counter()
    for batch in batches(events, size):
        recorded += engine.record_many(batch, project=project).recorded
    if catch_up:
        engine.project()  # timed: the view up to the last event, as after every batch
    seconds = time.perf_counter() - start
    recorder = engine.recorder
    stored = [
        (str(n.originator_id), n.originator_version)
        for n in select_all(recorder)
        if n.topic.startswith(ENGINE_TOPIC)
    ]
    check: dict[str, Any] = {"recorded": recorded, "digest": digest(stored)}
    if catch_up:
        last = recorder.max_notification_id()
        view = getattr(engine, "view", None)  # the engine's timer view (internal)
        projected = last if view is None else view.max_tracking_id(engine.name)
        check["projected_to_last"] = projected == last
    engine.close()
    return {"seconds": seconds, "check": check}


def run_stock(events: Sequence[ContactEvent], size: int, store: Store) -> dict[str, Any]:
    app: Application[str] = Application(env={**store.env(), "ORIGINATOR_ID_TYPE": "text"})
    recent: collections.OrderedDict[str, StockContact] = collections.OrderedDict()
    start = time.perf_counter()
    for batch in batches(events, size):
        touched: dict[str, StockContact] = {}
        for e in batch:
            timestamp = e.recorded_at or RECORDED_AT
            contact = touched.get(e.contact_id) or recent.get(e.contact_id)
            if contact is None and e.type.value != "received":
                with contextlib.suppress(AggregateNotFoundError):
                    contact = app.repository.get(e.contact_id)
            if contact is None:
                contact = StockContact._create(
                    StockContact.Received,
                    id=e.contact_id,
                    timestamp=timestamp,
                    event_id=e.event_id,
                    occurred_at=e.occurred_at,
                    payload=e.payload(),
                )
            else:
                contact.trigger_event(
                    StockContact.Happened,
                    timestamp=timestamp,
                    type=e.type.value,
                    event_id=e.event_id,
                    occurred_at=e.occurred_at,
                    payload=e.payload(),
                )
            touched[e.contact_id] = contact
        app.save(*touched.values())
        for contact_id, contact in touched.items():
            recent[contact_id] = contact
            recent.move_to_end(contact_id)
        while len(recent) > RECENT_CONTACTS:
            recent.popitem(last=False)
    seconds = time.perf_counter() - start
    stored = [(str(n.originator_id), n.originator_version) for n in select_all(app.recorder)]
    app.close()
    return {"seconds": seconds, "check": {"recorded": len(stored), "digest": digest(stored)}}


def _state(e: ContactEvent, version: int) -> bytes:
    timestamp = e.recorded_at or RECORDED_AT
    state: dict[str, Any] = {
        "timestamp": {"_type_": "datetime_iso", "_data_": timestamp.isoformat()},
        "event_id": e.event_id,
        "occurred_at": {"_type_": "datetime_iso", "_data_": e.occurred_at.isoformat()},
        "payload": e.payload(),
    }
    if version == 1:
        state["originator_topic"] = "sla_engine._contact:Contact"
    return json.dumps(state, separators=(",", ":")).encode()


def _topics() -> dict[str, str]:
    from sla_engine._contact import _STORED

    return {t.value: ENGINE_TOPIC + cls.__name__ for t, cls in _STORED.items()}


# eventsourcing's application table (``SQLiteApplicationRecorder``), verbatim.
RAW_SQLITE_TABLE = (
    "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, "
    "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
)
RAW_PG_TABLE = (
    "CREATE TABLE IF NOT EXISTS stored_events (originator_id text NOT NULL, "
    "originator_version bigint NOT NULL, topic text, state bytea, "
    "notification_id bigserial, PRIMARY KEY (originator_id, originator_version))"
)


def run_raw(events: Sequence[ContactEvent], size: int, store: Store) -> dict[str, Any]:
    topics = _topics()
    versions: dict[str, int] = {}

    def rows(batch: Sequence[ContactEvent]) -> list[tuple[str, int, str, bytes]]:
        out = []
        for e in batch:
            version = versions.get(e.contact_id, 0) + 1
            versions[e.contact_id] = version
            out.append((e.contact_id, version, topics[e.type.value], _state(e, version)))
        return out

    if store.kind == "sqlite":
        conn = sqlite3.connect(str(store.path), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(RAW_SQLITE_TABLE)
        insert = "INSERT INTO stored_events VALUES (?,?,?,?)"
        start = time.perf_counter()
        for batch in batches(events, size):
            conn.execute("BEGIN")
            conn.executemany(insert, rows(batch))
            conn.execute("COMMIT")
        seconds = time.perf_counter() - start
        stored = conn.execute("SELECT originator_id, originator_version FROM stored_events")
        pairs = [(a, b) for a, b in stored]
        conn.close()
    else:
        with store.connect_pg() as conn:
            conn.execute(RAW_PG_TABLE)
            conn.commit()
            insert = (
                "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)"
            )
            start = time.perf_counter()
            for batch in batches(events, size):
                with conn.transaction(), conn.cursor() as cur:
                    cur.executemany(insert, rows(batch))
            seconds = time.perf_counter() - start
            stored = conn.execute("SELECT originator_id, originator_version FROM stored_events")
            pairs = [(a, b) for a, b in stored]
    return {"seconds": seconds, "check": {"recorded": len(pairs), "digest": digest(pairs)}}


def select_all(recorder: Any) -> Iterator[Any]:
    position = 0
    while True:
        notifications = recorder.select_notifications(
            start=position, limit=10_000, inclusive_of_start=False
        )
        if not notifications:
            return
        yield from notifications
        position = notifications[-1].id


def run_engine_bulk(events: Sequence[ContactEvent], size: int, store: Store) -> dict[str, Any]:
    """A bulk load: the view projected once for many batches (and at the end, timed)."""
    return run_engine(events, size, store, project=False)


def run_engine_unprojected(
    events: Sequence[ContactEvent], size: int, store: Store
) -> dict[str, Any]:
    """The events alone: ``record_many(project=False)`` and the view never brought up to date.

    Not what the engine offers (its view is always caught up before it is
    read): what the projection costs, by difference.
    """
    return run_engine(events, size, store, project=False, catch_up=False)


CONTENDERS: dict[str, Callable[[Sequence[ContactEvent], int, Store], dict[str, Any]]] = {
    "sla-engine": run_engine,
    "sla-engine bulk": run_engine_bulk,
    "sla-engine unprojected": run_engine_unprojected,
    "eventsourcing stock": run_stock,
    "raw": run_raw,
}


# -- running in a child -----------------------------------------------------------------


def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def in_child(work: Callable[[], dict[str, Any]], traced: bool) -> dict[str, Any]:
    """Run ``work`` in a forked child; its result, with the child's memory figures."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        try:
            rss_start = _rss_now()
            if traced:
                tracemalloc.start()
            result = work()
            if traced:
                result["traced_peak"] = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
            max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            result["max_rss"] = max_rss
            result["rss_growth"] = max(0, max_rss - rss_start)
            payload = pickle.dumps(("ok", result))
        except BaseException:
            payload = pickle.dumps(("error", traceback.format_exc()))
        with os.fdopen(write_end, "wb") as out:
            out.write(payload)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as source:
        data = source.read()
    os.waitpid(pid, 0)
    status, value = pickle.loads(data)  # noqa: S301 - our own child's bytes
    if status != "ok":
        raise RuntimeError(f"the child process failed:\n{value}")
    return value  # type: ignore[no-any-return]


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="events per contender")
    parser.add_argument("--batch", type=int, default=2000, help="events per transaction")
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the (untimed) tracemalloc runs"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    options = parser.parse_args(argv)
    backends, postgres = chosen_backends(parser, options.backends)

    started = time.perf_counter()
    events = make_events(options.events)
    prepared = time.perf_counter() - started
    contacts = len({e.contact_id for e in events})
    print(
        f"{len(events):,} events of {contacts:,} contacts, batches of {options.batch:,} "
        f"(log generated and read in {prepared:.1f} s)"
    )
    expected = digest(expected_versions(events))

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp_name:
        tmp = Path(tmp_name)

        def one_run(backend: str, name: str, traced: bool = False) -> dict[str, Any]:
            def work() -> dict[str, Any]:
                with Store(backend, tmp, postgres) as store:
                    return CONTENDERS[name](events, options.batch, store)

            return in_child(work, traced)

        for backend in backends:
            seconds: dict[str, float] = {}
            growth: dict[str, int] = {}
            for repeat in range(options.repeats):
                for name in CONTENDERS:
                    result = one_run(backend, name)
                    if repeat == 0:
                        # A fast wrong answer is not a result.
                        check = result["check"]
                        assert check["recorded"] == len(events), (backend, name, check)
                        assert check["digest"] == expected, (backend, name, "stored versions")
                        assert check.get("projected_to_last", True), (backend, name, check)
                    seconds[name] = min(seconds.get(name, float("inf")), result["seconds"])
                    print(
                        f"  {backend} {name}, run {repeat + 1}: "
                        f"{len(events) / result['seconds']:,.0f} events/s",
                        flush=True,
                    )
                    growth[name] = max(growth.get(name, 0), result["rss_growth"])
            for name in CONTENDERS:
                traced = None
                if not options.no_tracemalloc:
                    traced = one_run(backend, name, traced=True)["traced_peak"]
                rows.append(
                    {
                        "backend": backend,
                        "contender": name if name != "raw" else raw_name(backend),
                        "events": len(events),
                        "batch": options.batch,
                        "seconds": seconds[name],
                        "events_per_s": len(events) / seconds[name],
                        "tracemalloc_peak_mib": None if traced is None else traced / 2**20,
                        "rss_growth_mib": growth[name] / 2**20,
                    }
                )

    raw_rate = {r["backend"]: r["events_per_s"] for r in rows if r["contender"].startswith("raw")}
    sqlite_raw = raw_rate.get("sqlite")
    for row in rows:
        row["ratio_to_raw"] = row["events_per_s"] / raw_rate[row["backend"]]
        row["ratio_to_raw_sqlite"] = (
            None if sqlite_raw is None else row["events_per_s"] / sqlite_raw
        )

    print(
        f"{'store':<9} {'contender':<22} {'events/s':>10} {'× raw':>7} {'× raw sqlite':>13} "
        f"{'traced peak MiB':>16} {'RSS growth MiB':>15}"
    )
    for row in rows:
        traced_text = "-" if row["tracemalloc_peak_mib"] is None else (
            f"{row['tracemalloc_peak_mib']:.1f}")  # fmt: skip
        vs_sqlite = "-" if row["ratio_to_raw_sqlite"] is None else (
            f"{row['ratio_to_raw_sqlite']:.3f}")  # fmt: skip
        print(
            f"{row['backend']:<9} {row['contender']:<22} {row['events_per_s']:>10,.0f} "
            f"{row['ratio_to_raw']:>7.3f} {vs_sqlite:>13} {traced_text:>16} "
            f"{row['rss_growth_mib']:>15.1f}"
        )
    for engine_sqlite in (
        r
        for r in rows
        if r["backend"] == "sqlite" and r["contender"] in ("sla-engine", "sla-engine bulk")
    ):
        verdict = "met" if engine_sqlite["ratio_to_raw"] >= 0.5 else "not met"
        print(
            f"target ({engine_sqlite['contender']} into SQLite at >= 0.5 × raw sqlite3): "
            f"{engine_sqlite['ratio_to_raw']:.3f} × raw, {verdict}"
        )
    if options.json is not None:
        options.json.write_text(
            json.dumps(
                {
                    "benchmark": "ingest",
                    "python": sys.version.split()[0],
                    "sla_engine": importlib.metadata.version("sla-engine"),
                    "eventsourcing": importlib.metadata.version("eventsourcing"),
                    "sqlite": sqlite3.sqlite_version,
                    "machine": platform.machine(),
                    "cpus": os.cpu_count(),
                    "events": len(events),
                    "contacts": contacts,
                    "batch": options.batch,
                    "repeats": options.repeats,
                    "backends": backends,
                    "rows": rows,
                },
                indent=2,
            )
        )
    return 0


def raw_name(backend: str) -> str:
    return "raw sqlite3" if backend == "sqlite" else "raw psycopg"


if __name__ == "__main__":
    raise SystemExit(main())
