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
  eventsourcing's schema and primary key: the ceiling on this machine.  On
  PostgreSQL, eventsourcing's whole table: its ``notification_id`` column and
  unique index, its storage options, and the ``LOCK TABLE ... IN EXCLUSIVE
  MODE`` its recorder takes in every inserting transaction (the engine's
  PostgreSQL store inserts through that recorder, lock included, so that
  notifications commit in their order); not its ``NOTIFY`` nor its
  ``RETURNING notification_id``, which a bare insert does without.

Every SQLite store has the engine's settings: pages of 16 KiB
(``sla_engine._engine.SQLITE_PAGE_SIZE``), chosen before WAL mode is set
and before the first table (a file's page size is fixed then): the engine
creates its file so; the raw and stock contenders' files are created the
same way before they open them, and each run's file is checked for it.
PostgreSQL is the private server of ``scripts/postgres`` (or the one the
``POSTGRES_*`` variables name): its durability settings (``fsync``,
``synchronous_commit``, ``full_page_writes``), read from the server, are
printed and written in the JSON; ``scripts/postgres`` turns them off.

Each run happens in a forked child process, so that each contender's peak
memory is its own: the growth of the child's resident set over the timed
run (``resource.getrusage(...).ru_maxrss`` at its end minus the resident set
at the start) and, in one more run with ``tracemalloc`` on (which slows
Python down, so it is never timed), the peak of the memory Python allocated
by the end of the timed run.  After the timed part, every run of every
contender is checked, or the benchmark stops with the differences and a
non-zero status: every event stored once, and each stored event's
originator id, version, topic and state (its JSON decoded, so that two
spellings of one string are equal) those expected from the event (the
stock contender's topics, of its own classes, and its ``type`` field taken
back to the engine's); the SQLite file's page size; and (for the engine)
the timer view projected up to the last event.  A backend asked for that
cannot run (no PostgreSQL server) stops the benchmark too.  Figures are the
best of several repeats, contenders taking turns; on a shared, noisy
machine read the ratios, not the absolute rates.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import datetime as dt
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    MetaDomainEvent,
)
from eventsourcing.utils import get_topic

from bench_checks import CheckFailed, exits_on_failure, require
from sla_engine import SlaEngine
from sla_engine._contact import _STORED, Contact, ContactEvent
from sla_engine._engine import SQLITE_PAGE_SIZE
from sla_engine._generate import generate_log
from sla_engine._logs import LogRow, read_log

CATALOGUE = "marianne-besancon"
CALENDAR = "fr"
#: The engine's clock: fixed, so that every run stores the same bytes.
RECORDED_AT = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
#: Contacts the stock contender keeps in memory (as the engine does by default).
RECENT_CONTACTS = 20_000
#: The engine's contact events' topics begin so (its rules' event does not).
ENGINE_TOPIC = "sla_engine._contact:Contact."
CONTACT_TOPIC = get_topic(Contact)
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


def event_state(e: ContactEvent, version: int) -> dict[str, Any]:
    """The state eventsourcing's transcoder stores for ``e`` in the engine's ``Contact``."""
    timestamp = e.recorded_at or RECORDED_AT
    state: dict[str, Any] = {
        "timestamp": {"_type_": "datetime_iso", "_data_": timestamp.isoformat()},
        "event_id": e.event_id,
        "occurred_at": {"_type_": "datetime_iso", "_data_": e.occurred_at.isoformat()},
        "payload": e.payload(),
    }
    if version == 1:
        state["originator_topic"] = CONTACT_TOPIC
    return state


#: What every contender must store, by (originator id, version): (topic, state as canonical JSON).
Expected = dict[tuple[str, int], tuple[str, str]]


def expected_events(events: Sequence[ContactEvent]) -> Expected:
    """Every event as the engine stores it: its topic (of the engine's own classes) and state."""
    topics = {t.value: get_topic(cls) for t, cls in _STORED.items()}
    versions: collections.Counter[str] = collections.Counter()
    expected: Expected = {}
    for e in events:
        versions[e.contact_id] += 1
        version = versions[e.contact_id]
        expected[e.contact_id, version] = (topics[e.type.value], canonical(event_state(e, version)))
    return expected


def canonical(state: Any) -> str:
    """One text for equal JSON values, whatever their spelling (``\\u00e9`` or ``é``, key order)."""
    return json.dumps(state, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


#: Differences shown when a contender's stored events are not the expected ones.
SHOWN = 5


def state_difference(got: dict[str, Any], want: dict[str, Any]) -> str:
    """Where a stored state differs from the expected one: its fields, both values shown."""
    parts = []
    for name in sorted(set(got) | set(want)):
        if name not in want:
            parts.append(f"{name} stored but not expected ({got[name]!r:.80})")
        elif name not in got:
            parts.append(f"{name} missing (expected {want[name]!r:.80})")
        elif canonical(got[name]) != canonical(want[name]):
            parts.append(f"{name} {got[name]!r:.80} stored, {want[name]!r:.80} expected")
    return "; ".join(parts)


def compare_stored(
    stored: Iterable[tuple[str, int, str, bytes]],
    expected: Expected,
    translate: Callable[[str, dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """What a contender stored against ``expected``: counts and the first differences.

    ``stored``: (originator id, version, topic, state bytes) of each stored
    contact event; ``translate(topic, state)``: the engine's topic for another
    contender's, its state changed to the engine's form in place.
    """
    seen: set[tuple[str, int]] = set()
    problems: list[str] = []
    differences = 0

    def differ(text: str) -> None:
        nonlocal differences
        differences += 1
        if len(problems) < SHOWN:
            problems.append(text)

    for originator_id, version, topic, state_bytes in stored:
        key = (str(originator_id), int(version))
        if key in seen:
            differ(f"{key}: stored twice")
            continue
        seen.add(key)
        if key not in expected:
            differ(f"{key}: stored, but no event has this contact id and version")
            continue
        want_topic, want_state = expected[key]
        try:
            state = json.loads(state_bytes)
        except ValueError:  # compressed or encrypted: the benchmark stores plain JSON
            differ(f"{key}: the stored state is not JSON: {bytes(state_bytes)[:60]!r}")
            continue
        if translate is not None:
            topic = translate(topic, state)
        if topic != want_topic:
            differ(f"{key}: topic {topic!r}, expected {want_topic!r}")
        if canonical(state) != want_state:
            differ(f"{key}: state {state_difference(state, json.loads(want_state))}")
    missing = [key for key in expected if key not in seen]
    for key in missing[:SHOWN]:
        differ(f"{key}: not stored")
    differences += max(0, len(missing) - SHOWN)
    return {"recorded": len(seen), "differences": differences, "problems": problems}


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
        if self.postgres is None:
            raise RuntimeError("a PostgreSQL store without a server")
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


def create_sqlite_file(path: Path) -> None:
    """A new SQLite file with the engine's page size, in WAL mode, as the engine makes its own.

    A file's page size is fixed when its first page is written (by WAL mode
    or the first table): it is chosen first, as ``_create_sqlite_file`` does.
    """
    connection = sqlite3.connect(str(path), isolation_level=None)
    try:
        connection.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def sqlite_settings(path: Path) -> dict[str, Any]:
    """The page size and journal mode of a SQLite file, as stored in it."""
    connection = sqlite3.connect(str(path))
    try:
        return {
            "page_size": connection.execute("PRAGMA page_size").fetchone()[0],
            "journal_mode": connection.execute("PRAGMA journal_mode").fetchone()[0],
        }
    finally:
        connection.close()


#: What every SQLite contender's file must be: the engine's settings.
SQLITE_SETTINGS = {"page_size": SQLITE_PAGE_SIZE, "journal_mode": "wal"}


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
    """The backends of ``--backends``; :class:`CheckFailed` if PostgreSQL is asked for but absent.

    A backend asked for is never skipped: a table without it, and a zero exit
    status, would read as a run that measured it.
    """
    backends = [b.strip() for b in text.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown backends: {', '.join(sorted(unknown))}")
    postgres = None
    if "postgres" in backends:
        postgres = postgres_from_environment()
        # Imported now, so that every run (forked ones too) uses the code this
        # process started with, even if the sources change while it runs.
        importlib.import_module("sla_engine._view_postgres")
    return backends, postgres


#: A PostgreSQL server's settings that decide what a commit costs, shown beside its figures.
DURABILITY_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")


def postgres_from_environment() -> PostgresEnv:
    """The ``POSTGRES_*`` variables, from the environment or ``scripts/postgres``, of a server
    that answers; else :class:`CheckFailed` with the reason."""
    keys = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD")
    advice = "start it, or leave postgres out of --backends"
    if all(os.environ.get(k) for k in keys):
        env = {k: os.environ[k] for k in keys}
        env["POSTGRES_DBNAME"] = os.environ.get("POSTGRES_DBNAME", "postgres")
    else:
        import subprocess

        script = Path(__file__).resolve().parents[1] / "scripts" / "postgres"
        done = subprocess.run(  # noqa: S603 - our own script, no arguments
            [str(script)], capture_output=True, text=True, check=False, timeout=900
        )
        if done.returncode != 0:
            reason = done.stderr.strip().splitlines()[-3:]
            raise CheckFailed(
                f"PostgreSQL was asked for, but {script} exited with status "
                f"{done.returncode}: {' / '.join(reason)} ({advice})"
            )
        env = {}
        for line in done.stdout.splitlines():
            key, sep, value = line.removeprefix("export ").partition("=")
            if sep and key.startswith("POSTGRES_"):
                env[key] = value
    try:
        postgres_settings(env)
    except Exception as error:  # psycopg's errors, or a variable missing
        raise CheckFailed(
            f"PostgreSQL was asked for, but the server at {env.get('POSTGRES_HOST')}:"
            f"{env.get('POSTGRES_PORT')} cannot be used: {error} ({advice})"
        ) from error
    return env


def postgres_settings(env: PostgresEnv) -> dict[str, str]:
    """The server's version and durability settings, as it reports them (``SHOW``)."""
    import psycopg

    with psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        dbname=env["POSTGRES_DBNAME"],
        connect_timeout=10,
    ) as conn:
        return {
            name: str(conn.execute(f"SHOW {name}").fetchone()[0])  # type: ignore[index]
            for name in ("server_version", *DURABILITY_SETTINGS)
        }


def describe_postgres(settings: dict[str, str]) -> str:
    """A header line: the server's durability settings (off on ``scripts/postgres``'s)."""
    text = ", ".join(f"{name}={settings[name]}" for name in DURABILITY_SETTINGS)
    line = f"PostgreSQL {settings['server_version']}: {text}"
    if any(settings[name] == "off" for name in DURABILITY_SETTINGS):
        line += (
            " (durability turned off: commits cost less than on a production server, "
            "for every PostgreSQL contender alike)"
        )
    return line


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
    result = end_of_timed_run(start)
    recorder = engine.recorder
    stored = (
        (n.originator_id, n.originator_version, n.topic, n.state)
        for n in select_all(recorder)
        if n.topic.startswith(ENGINE_TOPIC)
    )
    check = compare_stored(stored, expected_for(events))
    check["reported"] = recorded  # what record_many said it recorded
    if catch_up:
        last = recorder.max_notification_id()
        view = getattr(engine, "view", None)  # the engine's timer view (internal)
        projected = last if view is None else view.max_tracking_id(engine.name)
        check["projected_to_last"] = projected == last
    engine.close()
    return result | {"check": check | store_settings(store)}


def run_stock(events: Sequence[ContactEvent], size: int, store: Store) -> dict[str, Any]:
    if store.path is not None:
        create_sqlite_file(store.path)  # the engine's page size, before eventsourcing opens it
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
    result = end_of_timed_run(start)
    stored = (
        (n.originator_id, n.originator_version, n.topic, n.state) for n in select_all(app.recorder)
    )
    check = compare_stored(stored, expected_for(events), translate=stock_as_engine)
    app.close()
    return result | {"check": check | store_settings(store)}


def stock_as_engine(topic: str, state: dict[str, Any]) -> str:
    """The engine's topic for a stock event; its state made the engine's (in place).

    The stock aggregate's classes are its own (``StockContact.Received``,
    ``StockContact.Happened`` with the event's type in a ``type`` field): the
    same event in the engine's store has its type's class and no such field.
    """
    if topic == get_topic(StockContact.Received):
        event_type = "received"
        if state.get("originator_topic") == get_topic(StockContact):
            state["originator_topic"] = CONTACT_TOPIC
    elif topic == get_topic(StockContact.Happened):
        event_type = state.pop("type", None)
    else:
        return topic  # not one of the stock aggregate's: reported as it is
    return _topics().get(str(event_type), f"{topic} of type {event_type!r}")


def _state(e: ContactEvent, version: int) -> bytes:
    return json.dumps(event_state(e, version), separators=(",", ":")).encode()


def _topics() -> dict[str, str]:
    """The topic of each event type: the engine's own (``Contact.Received``...)."""
    return {t.value: get_topic(cls) for t, cls in _STORED.items()}


# eventsourcing's application table (``SQLiteApplicationRecorder``), verbatim.
RAW_SQLITE_TABLE = (
    "CREATE TABLE IF NOT EXISTS stored_events (originator_id TEXT, originator_version INTEGER, "
    "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
)
# eventsourcing's PostgreSQL application table, its index and its insert lock
# (``PostgresApplicationRecorder``, ids as text), verbatim but for the schema.
RAW_PG_TABLE = (
    "CREATE TABLE IF NOT EXISTS stored_events (originator_id text NOT NULL, "
    "originator_version bigint NOT NULL, topic text, state bytea, "
    "notification_id bigserial, PRIMARY KEY (originator_id, originator_version)) "
    "WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000, "
    "autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000, "
    "autovacuum_analyze_scale_factor = 0.01)"
)
RAW_PG_INDEX = (
    "CREATE UNIQUE INDEX IF NOT EXISTS stored_events_notification_id_idx "
    "ON stored_events (notification_id ASC)"
)
# Taken by every transaction that inserts events, so that notification ids
# commit in their order (readers of the notification log skip no gap).
RAW_PG_LOCK = "LOCK TABLE stored_events IN EXCLUSIVE MODE"


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

    select = "SELECT originator_id, originator_version, topic, state FROM stored_events"
    if store.path is not None:  # SQLite
        create_sqlite_file(store.path)  # the engine's page size, then WAL mode
        conn = sqlite3.connect(str(store.path), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(RAW_SQLITE_TABLE)
        insert = "INSERT INTO stored_events VALUES (?,?,?,?)"
        start = time.perf_counter()
        for batch in batches(events, size):
            conn.execute("BEGIN")
            conn.executemany(insert, rows(batch))
            conn.execute("COMMIT")
        result = end_of_timed_run(start)
        check = compare_stored(conn.execute(select), expected_for(events))
        conn.close()
    else:
        with store.connect_pg() as conn:
            conn.execute(RAW_PG_TABLE)
            conn.execute(RAW_PG_INDEX)
            conn.commit()
            insert = (
                "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)"
            )
            start = time.perf_counter()
            for batch in batches(events, size):
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(RAW_PG_LOCK)
                    cur.executemany(insert, rows(batch))
            result = end_of_timed_run(start)
            check = compare_stored(conn.execute(select), expected_for(events))
    return result | {"check": check | store_settings(store)}


def store_settings(store: Store) -> dict[str, Any]:
    """The check's record of the store's settings: a SQLite file's page size and journal."""
    if store.path is None:
        return {}
    return {"sqlite": sqlite_settings(store.path)}


def end_of_timed_run(start: float) -> dict[str, Any]:
    """The run's time, and its memory so far: the checks that follow are not counted."""
    result: dict[str, Any] = {
        "seconds": time.perf_counter() - start,
        "max_rss_timed": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    if tracemalloc.is_tracing():
        result["traced_peak"] = tracemalloc.get_traced_memory()[1]
    return result


_expected: tuple[Sequence[ContactEvent], Expected] | None = None


def expected_for(events: Sequence[ContactEvent]) -> Expected:
    """:func:`expected_events` of ``events``, made once (by the parent, before it forks)."""
    global _expected
    if _expected is None or _expected[0] is not events:
        _expected = (events, expected_events(events))
    return _expected[1]


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
            result = work()  # its peaks as they were at the end of its timed part
            if traced:
                tracemalloc.stop()
            result["max_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            result["rss_growth"] = max(0, result["max_rss_timed"] - rss_start)
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


def check_run(backend: str, name: str, result: dict[str, Any], count: int) -> None:
    """Stop the benchmark unless the run stored exactly the expected events, as expected."""
    check = result["check"]
    label = f"{backend}: {name if name != 'raw' else raw_name(backend)}"
    problems = "".join(f"\n  {p}" for p in check["problems"])
    require(
        check["differences"] == 0 and check["recorded"] == count,
        lambda: (
            f"{label}: {check['differences']:,} differences between its stored events and "
            f"those expected ({check['recorded']:,} of {count:,} stored); the first:{problems}"
        ),
    )
    require(
        check.get("reported", count) == count,
        lambda: f"{label}: record_many reported {check['reported']:,} of {count:,} events recorded",
    )
    require(
        check.get("projected_to_last", True),
        f"{label}: the timer view was not projected up to the last event",
    )
    if backend == "sqlite":
        require(
            check.get("sqlite") == SQLITE_SETTINGS,
            lambda: (
                f"{label}: the SQLite file has {check.get('sqlite')}, not the engine's "
                f"{SQLITE_SETTINGS}"
            ),
        )


@exits_on_failure
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
    server = None if postgres is None else postgres_settings(postgres)
    if server is not None:
        print(describe_postgres(server))

    started = time.perf_counter()
    events = make_events(options.events)
    prepared = time.perf_counter() - started
    contacts = len({e.contact_id for e in events})
    print(
        f"{len(events):,} events of {contacts:,} contacts, batches of {options.batch:,} "
        f"(log generated and read in {prepared:.1f} s)"
    )
    expected_for(events)  # made once, here: the children inherit it

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
            page_size: dict[str, int | None] = {}
            for repeat in range(options.repeats):
                for name in CONTENDERS:
                    result = one_run(backend, name)
                    # A fast wrong answer is not a result: every run is checked.
                    check_run(backend, name, result, len(events))
                    seconds[name] = min(seconds.get(name, float("inf")), result["seconds"])
                    print(
                        f"  {backend} {name}, run {repeat + 1}: "
                        f"{len(events) / result['seconds']:,.0f} events/s",
                        flush=True,
                    )
                    growth[name] = max(growth.get(name, 0), result["rss_growth"])
                    # As read from the run's file (SQLite), checked above.
                    page_size[name] = result["check"].get("sqlite", {}).get("page_size")
            for name in CONTENDERS:
                traced = None
                if not options.no_tracemalloc:
                    traced_run = one_run(backend, name, traced=True)
                    check_run(backend, name, traced_run, len(events))
                    traced = traced_run["traced_peak"]
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
                        "sqlite_page_size": page_size[name],
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
                    "sqlite_page_size": SQLITE_PAGE_SIZE,
                    "postgres_settings": server,
                    "checks": "every run: each stored event's id, version, topic and state",
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
