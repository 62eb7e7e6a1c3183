"""The timer view in PostgreSQL (imported only when that backend is used)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Composed, Identifier

from ._errors import SlaEngineError
from ._time import microseconds
from ._timers import Timer, timer_from_dict
from ._view import STORE_STATE, ContactTimers, TimerView, _check_position, _check_rules

__all__ = ["PostgresTimerView", "select_contacts_events"]


def select_contacts_events(recorder: Any, contact_ids: Sequence[str]) -> list[StoredEvent]:
    """The stored events of several contacts in one query, by contact then version.

    ``recorder`` is eventsourcing's PostgreSQL recorder; its table, its columns.
    """
    statement = SQL(
        "SELECT originator_id, originator_version, topic, state FROM {0} "
        "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
    ).format(Identifier(recorder.datastore.schema, recorder.events_table_name))
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, [list(contact_ids)])
        return [
            StoredEvent(
                originator_id=row["originator_id"],
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=bytes(row["state"]),
            )
            for row in curs.fetchall()
        ]


class PostgresTimerView(PostgresTrackingRecorder, TimerView):
    """The view in the engine's PostgreSQL schema, beside its events."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.timers_table = Identifier(self.datastore.schema, "sla_timers")
        self.state_table = Identifier(self.datastore.schema, "sla_view_state")
        self.keys_table = Identifier(self.datastore.schema, "sla_requester_keys")
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} ("
                "contact_id text NOT NULL, engagement_id text NOT NULL, cycle integer NOT NULL, "
                "attention_us bigint, expires_us bigint, data text NOT NULL, "
                "PRIMARY KEY (contact_id, engagement_id, cycle))"
            ).format(self.timers_table),
            SQL(
                "CREATE INDEX IF NOT EXISTS sla_timers_attention "
                "ON {0} (attention_us) WHERE attention_us IS NOT NULL"
            ).format(self.timers_table),
            # The worklist walks open timers by expiry and stops at its limit.
            SQL(
                "CREATE INDEX IF NOT EXISTS sla_timers_due "
                "ON {0} (expires_us, contact_id, engagement_id, cycle) "
                "WHERE attention_us IS NOT NULL"
            ).format(self.timers_table),
            SQL("CREATE TABLE IF NOT EXISTS {0} (name text PRIMARY KEY, value bigint)").format(
                self.state_table
            ),
            SQL(
                "CREATE TABLE IF NOT EXISTS {0} (ref text PRIMARY KEY, "
                "key_id text NOT NULL UNIQUE, key bytea NOT NULL)"
            ).format(self.keys_table),
        ]

    def replace(
        self,
        batch: Sequence[ContactTimers],
        tracking: Tracking,
        last_event: int | None = None,
        *,
        new: Collection[str] = (),  # PostgreSQL deletes by contact anyway
        expected: int | None = None,
    ) -> None:
        with self.datastore.transaction(commit=True) as c:
            if self.rules_expected is not None:
                c.execute(
                    SQL("SELECT value FROM {0} WHERE name = 'rules_version'").format(
                        self.state_table
                    )
                )
                row = c.fetchone()
                _check_rules(None if row is None else int(row["value"]), self.rules_expected)
            if expected is not None:
                # Locked until this commits: another engine's batch waits, then sees ours.
                c.execute(
                    SQL(
                        "SELECT notification_id FROM {0}.{1} WHERE application_name = %s "
                        "ORDER BY notification_id DESC LIMIT 1 FOR UPDATE"
                    ).format(
                        Identifier(self.datastore.schema), Identifier(self.tracking_table_name)
                    ),
                    (tracking.application_name,),
                )
                row = c.fetchone()
                _check_position(None if row is None else int(row["notification_id"]), expected)
            if last_event is not None:
                self._put_state(c, "last_event_us", last_event, higher_only=True)
            c.executemany(
                SQL("DELETE FROM {0} WHERE contact_id = %s").format(self.timers_table),
                [(contact_id,) for contact_id, _ in batch],
            )
            c.executemany(
                SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s, %s, %s)").format(self.timers_table),
                self._rows(batch),
            )
            self._insert_tracking(c, tracking)

    def last_event(self) -> int | None:
        return self.state_value("last_event_us")

    def set_state_value(self, name: str, value: int, *, higher_only: bool = False) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._put_state(c, name, value, higher_only=higher_only)

    def _put_state(self, c: Any, name: str, value: int, *, higher_only: bool = False) -> None:
        """Keep ``value`` in the view's state, in the transaction of ``c``."""
        kept = (
            SQL("GREATEST({0}.value, excluded.value)").format(self.state_table)
            if higher_only
            else SQL("excluded.value")
        )
        c.execute(
            SQL(
                "INSERT INTO {0} VALUES (%s, %s) ON CONFLICT (name) DO UPDATE SET value = {1}"
            ).format(self.state_table, kept),
            (name, value),
        )

    def requester_key(self, ref: str) -> tuple[str, bytes]:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                SQL("INSERT INTO {0} VALUES (%s, %s, %s) ON CONFLICT (ref) DO NOTHING").format(
                    self.keys_table
                ),
                (ref, uuid.uuid4().hex, os.urandom(32)),
            )
            c.execute(
                SQL("SELECT key_id, key FROM {0} WHERE ref = %s").format(self.keys_table), (ref,)
            )
            row = c.fetchone()
            if row is None:  # pragma: no cover - inserted just above
                raise SlaEngineError(f"no key for requester {ref!r}")
            return str(row["key_id"]), bytes(row["key"])

    def find_requester_key(self, key_id: str) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                SQL("SELECT key FROM {0} WHERE key_id = %s").format(self.keys_table), (key_id,)
            )
            row = c.fetchone()
            return None if row is None else bytes(row["key"])

    def forget_requester(self, ref: str) -> bool:
        """Delete the key; PostgreSQL reclaims its bytes at the next VACUUM (run one)."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(SQL("DELETE FROM {0} WHERE ref = %s").format(self.keys_table), (ref,))
            return bool(c.rowcount > 0)

    def state_value(self, name: str) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                SQL("SELECT value FROM {0} WHERE name = %s").format(self.state_table), (name,)
            )
            row = c.fetchone()
            return None if row is None else int(row["value"])

    def _select(self, query: Composed, params: Sequence[Any]) -> list[Timer]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(query, params)
            return [self._decode(row["data"]) for row in c.fetchall()]

    def contact_timers(self, contact_id: str) -> list[Timer]:
        return self._select(
            SQL("SELECT data FROM {0} WHERE contact_id = %s ORDER BY engagement_id, cycle").format(
                self.timers_table
            ),
            (contact_id,),
        )

    def needing_attention(self, before: dt.datetime, limit: int | None) -> list[Timer]:
        return self._select(
            SQL(
                "SELECT data FROM {0} WHERE attention_us <= %s "
                "ORDER BY expires_us, contact_id, engagement_id, cycle LIMIT %s"
            ).format(self.timers_table),
            (microseconds(before), limit),
        )

    def all_timers(self) -> Iterator[Timer]:
        return (timer_from_dict(record) for record in self._records())

    def timer_records(self) -> Iterator[dict[str, Any]]:
        return self._records()

    def _records(self) -> Iterator[dict[str, Any]]:
        # Keyset pages: a view of millions of timers is never held in memory at once.
        page = 5000
        query = SQL(
            "SELECT contact_id, engagement_id, cycle, data FROM {0} "
            "WHERE (contact_id, engagement_id, cycle) > (%s, %s, %s) "
            "ORDER BY contact_id, engagement_id, cycle LIMIT %s"
        ).format(self.timers_table)
        after: tuple[str, str, int] = ("", "", -1)
        while True:
            with self.datastore.transaction(commit=False) as c:
                c.execute(query, (*after, page))
                rows = c.fetchall()
            for row in rows:
                yield self._record(row["data"])
            if len(rows) < page:
                return
            last = rows[-1]
            after = (last["contact_id"], last["engagement_id"], last["cycle"])

    def clear(self, rules_version: int | None = None) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(SQL("DELETE FROM {0}").format(self.timers_table))
            kept = SQL(", ").join([SQL("%s")] * len(STORE_STATE))
            c.execute(
                SQL("DELETE FROM {0} WHERE name NOT IN ({1})").format(self.state_table, kept),
                STORE_STATE,
            )
            if rules_version is not None:
                self._put_state(c, "rules_version", rules_version)

            c.execute(
                SQL("DELETE FROM {0}.{1} WHERE application_name != %s").format(
                    Identifier(self.datastore.schema), Identifier(self.tracking_table_name)
                ),
                ("__migration__",),
            )
