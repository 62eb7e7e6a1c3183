"""The timer view: every timer of the live engine, kept by a projection.

One recorder class per persistence module of ``eventsourcing`` (PostgreSQL's
is in :mod:`sla_engine._view_postgres`, so that psycopg is needed only
there), each a
``TrackingRecorder``: the timers of the contacts touched by a batch of
notifications and the tracking record of the batch's last notification are
written in one transaction, so a projection that stops at any point resumes
exactly once.

Each row holds a timer as a JSON array of its values (:func:`encode_record`)
plus the columns the queries need: the contact, and ``attention_us``, the
first instant (µs since the epoch, UTC) at which an open timer needs
attention: its first warning, else its expiry.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import json
import os
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any

from eventsourcing.persistence import Cipher, IntegrityError, Tracking
from eventsourcing.popo import POPOTrackingRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteDatastore, SQLiteTrackingRecorder

from ._errors import SlaEngineError
from ._time import microseconds
from ._timers import RECORD_FIELDS, Timer, timer_from_dict

__all__ = [
    "MemoryTimerView",
    "SQLiteTimerView",
    "StoredRecords",
    "TimerView",
    "ViewRows",
    "decode_record",
    "encode_record",
    "timer_row",
]

ContactTimers = tuple[str, "Sequence[Timer] | ViewRows"]


# One encoder for every row: json.dumps with options builds a new one per call.
_encode_json = json.JSONEncoder(separators=(",", ":")).encode


def _attention(timer: Timer) -> int | None:
    if not timer.is_open:
        return None
    instant = timer.next_warning or timer.expires_at
    return None if instant is None else microseconds(instant)


def _expiry(timer: Timer) -> int | None:
    return None if timer.expires_at is None or not timer.is_open else microseconds(timer.expires_at)


_BASE_FIELDS = RECORD_FIELDS[:-2]


def encode_record(record: dict[str, Any]) -> str:
    """A timer as stored (:meth:`Timer.to_dict`) in the view's form: a JSON array.

    Its values in the order of :data:`RECORD_FIELDS`: half the bytes of a JSON
    object with the same keys in every row, decoded about 1.6 times as fast.
    """
    values = [record[name] for name in _BASE_FIELDS]
    if "site" in record or "period" in record:
        values += [record.get("site"), record.get("period")]
    return _encode_json(values)


def decode_record(text: str) -> dict[str, Any]:
    """The inverse of :func:`encode_record` (and the JSON objects of earlier versions)."""
    values = json.loads(text)
    if isinstance(values, dict):
        return values  # a view written before the array form: the same keys
    if len(values) not in (len(_BASE_FIELDS), len(RECORD_FIELDS)):
        raise SlaEngineError(
            f"the timer view holds a timer of {len(values)} values where this version "
            f"reads {len(_BASE_FIELDS)} or {len(RECORD_FIELDS)}: rebuild the view "
            "(SlaEngine.rebuild_view())"
        )
    return dict(zip(RECORD_FIELDS, values, strict=False))


def timer_row(
    timer: Timer, encode: Callable[[str], str] | None = None
) -> tuple[str, str, int, int | None, int | None, str]:
    data = _encode_json(timer.to_values())
    return (
        timer.contact_id,
        timer.engagement_id,
        timer.cycle,
        _attention(timer),
        _expiry(timer),
        data if encode is None else encode(data),
    )


class ViewRows(list[tuple[str, str, int, int | None, int | None, str]]):
    """A contact's timers encoded already as view rows (by the columnar replay).

    Stands in for its list of :class:`Timer` in a view's ``replace`` batch
    (not in the memory view's, which keeps timers as objects).
    """


class TimerView:
    """What every timer view offers (implemented per backend below)."""

    #: The application's cipher, when events are encrypted: the timers' data
    #: (which repeats the contacts' classification) is encrypted with it too.
    cipher: Cipher | None = None
    #: The version of the store's rules the engine evaluates under (``None``:
    #: not checked). Another engine that changes the rules rebuilds the view
    #: under the new ones: a batch evaluated under these is then refused.
    rules_expected: int | None = None

    def _encode(self, data: str) -> str:
        if self.cipher is None:
            return data
        return "enc:" + base64.b64encode(self.cipher.encrypt(data.encode("utf-8"))).decode()

    def _decode(self, text: str) -> Timer:
        return timer_from_dict(self._record(text))

    def _rows(self, batch: Sequence[ContactTimers]) -> list[tuple[Any, ...]]:
        encode = None if self.cipher is None else self._encode
        rows: list[tuple[Any, ...]] = []
        for _, timers in batch:
            if isinstance(timers, ViewRows):
                if encode is None:
                    rows.extend(timers)
                else:
                    rows.extend((*row[:5], encode(row[5])) for row in timers)
            else:
                rows.extend(timer_row(t, encode) for t in timers)
        return rows

    def replace(
        self,
        batch: Sequence[ContactTimers],
        tracking: Tracking,
        last_event: int | None = None,
        *,
        new: Collection[str] = (),
        expected: int | None = None,
    ) -> None:
        """Replace the timers of each contact in ``batch`` and record ``tracking``, atomically.

        ``last_event`` (µs since the epoch) raises the view's latest event
        instant, the default ``as_of`` of a report.  ``new`` names contacts
        the view has no timer of yet (nothing to delete before inserting).
        ``expected``: the view's position the batch was projected from; if
        the view is elsewhere (another engine moved it, or cleared it for a
        rebuild), nothing is written and :class:`IntegrityError` is raised,
        for the caller to start again from where the view is.
        """
        raise NotImplementedError

    def last_event(self) -> int | None:
        """The latest ``occurred_at`` projected so far, in µs since the epoch."""
        raise NotImplementedError

    def rules_version(self) -> int | None:
        """The version of the store's rules the view was last built with."""
        return self.state_value("rules_version")

    def set_rules_version(self, version: int) -> None:
        self.set_state_value("rules_version", version)

    def state_value(self, name: str) -> int | None:
        """A number the view keeps about itself (``rules_version``, ``evaluation``)."""
        raise NotImplementedError

    def set_state_value(self, name: str, value: int, *, higher_only: bool = False) -> None:
        """Keep ``value`` under ``name``; with ``higher_only``, only over a lower one.

        ``higher_only``: engines that write the same position at once (two
        ``check()`` calls) never move it back.
        """
        raise NotImplementedError

    # Each requester's key, kept beside the view (never in the append-only log)
    # so that it can be deleted: that is how a requester is forgotten.

    def requester_key(self, ref: str) -> tuple[str, bytes]:
        """The (random key id, key) of the requester ``ref`` (a pseudonym), made if new."""
        raise NotImplementedError

    def find_requester_key(self, key_id: str) -> bytes | None:
        raise NotImplementedError

    def forget_requester(self, ref: str) -> bool:
        """Delete the requester's key; whether there was one."""
        raise NotImplementedError

    def contact_timers(self, contact_id: str) -> list[Timer]:
        raise NotImplementedError

    def needing_attention(self, before: dt.datetime, limit: int | None) -> list[Timer]:
        """Open timers whose first warning or expiry is at or before ``before``, by expiry."""
        raise NotImplementedError

    def all_timers(self) -> Iterator[Timer]:
        raise NotImplementedError

    def timer_records(self) -> Iterable[dict[str, Any]] | None:
        """Every timer as stored (:meth:`Timer.to_dict`), or ``None`` if the view keeps objects."""
        return None

    def _record(self, text: str) -> dict[str, Any]:
        if text.startswith("enc:"):
            if self.cipher is None:
                raise SlaEngineError("the timer view is encrypted: give the engine its cipher key")
            text = self.cipher.decrypt(base64.b64decode(text[4:])).decode("utf-8")
        return decode_record(text)

    def clear(self, rules_version: int | None = None) -> None:
        """Forget every timer and tracking position (before a rebuild).

        What the view keeps about the store stays (:data:`STORE_STATE`): the
        rules version (checked by every write) and where ``check()`` stopped.
        ``rules_version``: the store's new rules, recorded in the same
        transaction.
        """
        raise NotImplementedError

    def max_tracking_id(self, application_name: str) -> int | None:
        raise NotImplementedError


#: The view's state that is the store's, kept when the view is cleared.
STORE_STATE = ("rules_version", "check_position", "check_at")


def _check_rules(stored: int | None, expected: int | None) -> None:
    """Refuse timers evaluated under other rules than the view's (see ``rules_expected``)."""
    # A view from before views kept this number was built under version 1.
    if expected is not None and (stored or 1) != expected:
        raise SlaEngineError(
            f"the store's rules changed (version {stored}; this engine evaluates under version "
            f"{expected}): another engine opened it with another catalogue or calendar. "
            "Open the engine again to evaluate under the store's rules; the events are stored"
        )


def _check_position(position: int | None, expected: int) -> None:
    """Refuse a batch projected from another position than the view's (see ``replace``)."""
    if (position or 0) != expected:
        raise IntegrityError(
            f"the view is at notification {position or 0}, not {expected}: another engine "
            "projected or cleared it meanwhile"
        )


class MemoryTimerView(POPOTrackingRecorder, TimerView):
    """The view in memory, for the in-memory engine.

    A contact's timers are kept as they come: :class:`Timer` objects, or the
    encoded rows a database view stores (the columnar replay's and the
    projection's plain timers, made without objects), decoded when read.
    """

    def __init__(self) -> None:
        super().__init__()
        self._timers: dict[str, list[Timer] | ViewRows] = {}
        self._last_event: int | None = None
        self._state: dict[str, int] = {}
        self._keys: dict[str, tuple[str, bytes]] = {}
        self._keys_by_id: dict[str, bytes] = {}

    def replace(
        self,
        batch: Sequence[ContactTimers],
        tracking: Tracking,
        last_event: int | None = None,
        *,
        new: Collection[str] = (),
        expected: int | None = None,
    ) -> None:
        with self._database_lock:
            _check_rules(self._state.get("rules_version"), self.rules_expected)
            if expected is not None:
                _check_position(self.max_tracking_id(tracking.application_name), expected)
            self._assert_tracking_uniqueness(tracking)
            for contact_id, timers in batch:
                self._timers[contact_id] = timers if isinstance(timers, ViewRows) else list(timers)
            if last_event is not None:
                self._last_event = max(last_event, self._last_event or last_event)
            self._insert_tracking(tracking)

    def last_event(self) -> int | None:
        return self._last_event

    def state_value(self, name: str) -> int | None:
        return self._state.get(name)

    def set_state_value(self, name: str, value: int, *, higher_only: bool = False) -> None:
        with self._database_lock:
            held = self._state.get(name)
            self._state[name] = max(value, held) if higher_only and held is not None else value

    def requester_key(self, ref: str) -> tuple[str, bytes]:
        with self._database_lock:
            if ref not in self._keys:
                key_id, key = uuid.uuid4().hex, os.urandom(32)
                self._keys[ref] = (key_id, key)
                self._keys_by_id[key_id] = key
            return self._keys[ref]

    def find_requester_key(self, key_id: str) -> bytes | None:
        return self._keys_by_id.get(key_id)

    def forget_requester(self, ref: str) -> bool:
        with self._database_lock:
            found = self._keys.pop(ref, None)
            if found is not None:
                self._keys_by_id.pop(found[0], None)
            return found is not None

    def contact_timers(self, contact_id: str) -> list[Timer]:
        with self._database_lock:
            timers = self._timers.get(contact_id, [])
        return _objects(timers)

    def needing_attention(self, before: dt.datetime, limit: int | None) -> list[Timer]:
        edge = microseconds(before)
        # (expiry, key, timer or row): the order of the database views' query.
        found: list[tuple[int, tuple[str, str, int], Timer | tuple[Any, ...]]] = []
        with self._database_lock:
            for timers in self._timers.values():
                if isinstance(timers, ViewRows):
                    found += [
                        (row[4] or 0, (row[0], row[1], row[2]), row)
                        for row in timers
                        if row[3] is not None and row[3] <= edge
                    ]
                else:
                    found += [
                        (_expiry(t) or 0, t.key, t)
                        for t in timers
                        if (a := _attention(t)) is not None and a <= edge
                    ]
        found.sort(key=lambda item: (item[0], item[1]))
        chosen = found if limit is None else found[:limit]
        return [
            item if isinstance(item, Timer) else timer_from_dict(decode_record(item[5]))
            for _, _, item in chosen
        ]

    def all_timers(self) -> Iterator[Timer]:
        return (timer_from_dict(record) for record in self.timer_records())

    def timer_records(self) -> Iterator[dict[str, Any]]:
        """Every timer as stored (:meth:`Timer.to_dict`), as a database view gives them."""
        with self._database_lock:
            snapshot = list(self._timers.values())
        for timers in snapshot:
            if isinstance(timers, ViewRows):
                for row in timers:
                    yield decode_record(row[5])
            else:
                for t in timers:
                    yield t.to_dict()

    def clear(self, rules_version: int | None = None) -> None:
        with self._database_lock:
            self._timers.clear()
            self._max_tracking_ids.clear()
            self._last_event = None
            for name in [n for n in self._state if n not in STORE_STATE]:
                del self._state[name]
            if rules_version is not None:
                self._state["rules_version"] = rules_version


def _objects(timers: list[Timer] | ViewRows) -> list[Timer]:
    if isinstance(timers, ViewRows):
        return [timer_from_dict(decode_record(row[5])) for row in timers]
    return list(timers)


_SQLITE_TABLE = "sla_timers"
#: Timers read at a time when reading the whole view.
_PAGE = 5000


class SQLiteTimerView(SQLiteTrackingRecorder, TimerView):
    """The view in the engine's SQLite database (the same file as its events)."""

    #: Seconds ``forget()`` waits for other readers to let the erasure complete.
    erase_timeout = 10.0

    def __init__(self, datastore: SQLiteDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements += [
            f"CREATE TABLE IF NOT EXISTS {_SQLITE_TABLE} ("
            "contact_id TEXT NOT NULL, engagement_id TEXT NOT NULL, cycle INTEGER NOT NULL, "
            "attention_us INTEGER, expires_us INTEGER, data TEXT NOT NULL, "
            "PRIMARY KEY (contact_id, engagement_id, cycle)) WITHOUT ROWID",
            f"CREATE INDEX IF NOT EXISTS {_SQLITE_TABLE}_attention "
            f"ON {_SQLITE_TABLE} (attention_us) WHERE attention_us IS NOT NULL",
            # The worklist walks open timers by expiry and stops at its limit:
            # without this index SQLite sorts every due timer first.
            f"CREATE INDEX IF NOT EXISTS {_SQLITE_TABLE}_due ON {_SQLITE_TABLE} "
            "(expires_us, contact_id, engagement_id, cycle) WHERE attention_us IS NOT NULL",
            "CREATE TABLE IF NOT EXISTS sla_view_state (name TEXT PRIMARY KEY, value INTEGER)",
            "CREATE TABLE IF NOT EXISTS sla_requester_keys (ref TEXT PRIMARY KEY, "
            "key_id TEXT NOT NULL UNIQUE, key BLOB NOT NULL)",
        ]
        return statements

    def replace(
        self,
        batch: Sequence[ContactTimers],
        tracking: Tracking,
        last_event: int | None = None,
        *,
        new: Collection[str] = (),
        expected: int | None = None,
    ) -> None:
        with self.datastore.transaction(commit=True) as c:
            self.write(c, batch, tracking, last_event, new=new, expected=expected)

    def write(
        self,
        c: SQLiteCursor,
        batch: Sequence[ContactTimers],
        tracking: Tracking,
        last_event: int | None = None,
        *,
        new: Collection[str] = (),
        added: Sequence[tuple[Any, ...]] = (),
        expected: int | None = None,
    ) -> None:
        """What :meth:`replace` does, in a transaction already open (the events' own).

        ``added``: view rows of contacts the view has no timer of yet.
        """
        self._replace(c, batch, new, added)
        # Read under the write lock the statements above took.
        if self.rules_expected is not None:
            c.execute("SELECT value FROM sla_view_state WHERE name = 'rules_version'")
            row = c.fetchone()
            _check_rules(None if row is None else int(row[0]), self.rules_expected)
        if expected is not None:
            c.execute(
                "SELECT MAX(notification_id) FROM tracking WHERE application_name = ?",
                (tracking.application_name,),
            )
            _check_position(c.fetchone()[0], expected)
        if last_event is not None:
            _put_state(c, "last_event_us", last_event, higher_only=True)
        self._insert_tracking(c, tracking)

    def last_event(self) -> int | None:
        return self.state_value("last_event_us")

    def set_state_value(self, name: str, value: int, *, higher_only: bool = False) -> None:
        with self.datastore.transaction(commit=True) as c:
            _put_state(c, name, value, higher_only=higher_only)

    def requester_key(self, ref: str) -> tuple[str, bytes]:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT OR IGNORE INTO sla_requester_keys VALUES (?, ?, ?)",
                (ref, uuid.uuid4().hex, os.urandom(32)),
            )
            c.execute("SELECT key_id, key FROM sla_requester_keys WHERE ref = ?", (ref,))
            key_id, key = c.fetchone()
            return str(key_id), bytes(key)

    def find_requester_key(self, key_id: str) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT key FROM sla_requester_keys WHERE key_id = ?", (key_id,))
            row = c.fetchone()
            return None if row is None else bytes(row[0])

    def forget_requester(self, ref: str) -> bool:
        with self.datastore.transaction(commit=True) as c:
            c.execute("PRAGMA secure_delete = ON")  # overwrite the deleted key's bytes
            c.execute("SELECT count(*) FROM sla_requester_keys WHERE ref = ?", (ref,))
            found = bool(c.fetchone()[0])
            c.execute("DELETE FROM sla_requester_keys WHERE ref = ?", (ref,))
        self._clear_log()
        return found

    def _clear_log(self) -> None:
        """Copy the write-ahead log into the file and empty it, or raise.

        Until then the file keeps the deleted key's page as it was, and the
        log its copies.  A reader of another connection (a review in another
        process) holds them: wait for it, up to :attr:`erase_timeout`.
        """
        deadline = time.monotonic() + self.erase_timeout
        while True:
            with self.datastore.get_connection(commit=True) as connection:
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cursor.fetchone()[0]
            if not busy:
                return
            if time.monotonic() >= deadline:
                raise SlaEngineError(
                    "the requester's key is deleted, but another connection kept reading "
                    f"the store for {self.erase_timeout:g} s: copies of its bytes stay in "
                    "the store's files until it is done; call forget() again then"
                )
            time.sleep(0.05)

    def state_value(self, name: str) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT value FROM sla_view_state WHERE name = ?", (name,))
            row = c.fetchone()
            return None if row is None else int(row[0])

    def _replace(
        self,
        c: SQLiteCursor,
        batch: Sequence[ContactTimers],
        new: Collection[str] = (),
        added: Sequence[tuple[Any, ...]] = (),
    ) -> None:
        c.executemany(
            f"DELETE FROM {_SQLITE_TABLE} WHERE contact_id = ?",
            [(contact_id,) for contact_id, _ in batch if contact_id not in new],
        )
        c.executemany(
            f"INSERT INTO {_SQLITE_TABLE} VALUES (?, ?, ?, ?, ?, ?)",
            itertools.chain(self._rows(batch), added),
        )

    def _select(self, sql: str, params: Sequence[Any]) -> list[Timer]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(sql, params)
            return [self._decode(row[0]) for row in c.fetchall()]

    def contact_timers(self, contact_id: str) -> list[Timer]:
        return self._select(
            f"SELECT data FROM {_SQLITE_TABLE} WHERE contact_id = ? ORDER BY engagement_id, cycle",
            (contact_id,),
        )

    def needing_attention(self, before: dt.datetime, limit: int | None) -> list[Timer]:
        return self._select(
            f"SELECT data FROM {_SQLITE_TABLE} INDEXED BY {_SQLITE_TABLE}_due "
            "WHERE attention_us <= ? "
            "ORDER BY expires_us, contact_id, engagement_id, cycle LIMIT ?",
            (microseconds(before), -1 if limit is None else limit),
        )

    def all_timers(self) -> Iterator[Timer]:
        return (timer_from_dict(record) for record in self._records())

    def timer_records(self) -> StoredRecords:
        return StoredRecords(self)

    def _records(self) -> Iterator[dict[str, Any]]:
        return iter(StoredRecords(self))

    def record_pages(self) -> Iterator[list[str]]:
        """Every timer's stored text, a page at a time, in one read transaction.

        One snapshot of the view: a view of millions of timers is never held
        in memory at once.
        """
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT data FROM {_SQLITE_TABLE} ORDER BY contact_id, engagement_id, cycle")
            while rows := c.sqlite_cursor.fetchmany(_PAGE):
                yield [row[0] for row in rows]

    def clear(self, rules_version: int | None = None) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {_SQLITE_TABLE}")
            kept = ", ".join("?" * len(STORE_STATE))
            c.execute(f"DELETE FROM sla_view_state WHERE name NOT IN ({kept})", STORE_STATE)
            if rules_version is not None:
                _put_state(c, "rules_version", rules_version)
            c.execute("DELETE FROM tracking WHERE application_name != ?", ("__migration__",))


def _put_state(c: SQLiteCursor, name: str, value: int, *, higher_only: bool = False) -> None:
    """Keep ``value`` in the SQLite view's state, in the transaction of ``c``."""
    kept = "MAX(value, excluded.value)" if higher_only else "excluded.value"
    c.execute(
        f"INSERT INTO sla_view_state VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = {kept}",
        (name, value),
    )


class StoredRecords:
    """A view's timers as stored, read a page at a time; iterating decodes each one.

    A review can also count the pages as texts, half of them in another process.
    """

    def __init__(self, view: SQLiteTimerView) -> None:
        self.view = view

    def __iter__(self) -> Iterator[dict[str, Any]]:
        record = self.view._record
        for page in self.view.record_pages():
            for text in page:
                yield record(text)

    def pages(self) -> Iterator[list[str]]:
        return self.view.record_pages()

    @property
    def encrypted(self) -> bool:
        return self.view.cipher is not None
