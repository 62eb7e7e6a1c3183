"""The tests' PostgreSQL server is real, and eventsourcing's PostgreSQL module works on it."""

from __future__ import annotations

from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import sql

from .postgres_server import (
    connect,
    database_fixture,
    fresh_database,
    postgres_env,
    postgres_url,
)

pg_database = database_fixture("pg_database")

USER_TABLES = """
    SELECT table_schema, table_name FROM information_schema.tables
    WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
"""


class Dossier(Aggregate):
    @event("Opened")
    def __init__(self, reference: str) -> None:
        self.reference = reference
        self.notes: list[str] = []

    @event("Noted")
    def note(self, text: str) -> None:
        self.notes.append(text)


class Dossiers(Application[UUID]):
    def open(self, reference: str) -> UUID:
        dossier = Dossier(reference)
        self.save(dossier)
        return dossier.id

    def note(self, dossier_id: UUID, text: str) -> None:
        dossier: Dossier = self.repository.get(dossier_id)
        dossier.note(text)
        self.save(dossier)

    def get(self, dossier_id: UUID) -> Dossier:
        return self.repository.get(dossier_id)


def test_server_is_postgresql() -> None:
    env = postgres_env()
    with connect(env) as conn:
        row = conn.execute("SELECT version(), current_user, current_database()").fetchone()
    assert row is not None
    version, user, database = row
    assert "PostgreSQL" in version
    assert (user, database) == (env["POSTGRES_USER"], env["POSTGRES_DBNAME"])


def test_server_wants_the_password() -> None:
    env = postgres_env()
    with pytest.raises(psycopg.OperationalError, match="password"):
        connect({**env, "POSTGRES_PASSWORD": "not-the-password"}).close()


def test_fresh_database_is_empty(pg_database: dict[str, str]) -> None:
    env = postgres_env()
    assert pg_database["POSTGRES_DBNAME"] != env["POSTGRES_DBNAME"]
    assert {k: v for k, v in pg_database.items() if k != "POSTGRES_DBNAME"} == {
        k: v for k, v in env.items() if k != "POSTGRES_DBNAME"
    }
    with connect(pg_database) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (
            pg_database["POSTGRES_DBNAME"],
        )
        assert conn.execute(USER_TABLES).fetchall() == []


def test_fresh_databases_are_separate_and_dropped() -> None:
    with fresh_database() as first, fresh_database() as second:
        assert first["POSTGRES_DBNAME"] != second["POSTGRES_DBNAME"]
        with connect(first) as conn:
            conn.execute("CREATE TABLE marks (n integer)")
            conn.execute("INSERT INTO marks VALUES (1)")
        with connect(first) as conn:
            assert conn.execute("SELECT n FROM marks").fetchall() == [(1,)]
        with connect(second) as conn:
            assert conn.execute(USER_TABLES).fetchall() == []
        # An open connection does not stop the drop.
        lingering = connect(first)
    try:
        with connect(postgres_env()) as conn:
            names = [first["POSTGRES_DBNAME"], second["POSTGRES_DBNAME"]]
            found = conn.execute(
                "SELECT datname FROM pg_database WHERE datname = ANY(%s)", [names]
            ).fetchall()
        assert found == []
    finally:
        lingering.close()


def test_eventsourcing_application_on_postgres(pg_database: dict[str, str]) -> None:
    env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", **pg_database}
    writer = Dossiers(env=env)
    try:
        assert isinstance(writer.recorder, PostgresApplicationRecorder)
        dossier_id = writer.open("SLA-2026-0001")
        writer.note(dossier_id, "accusé de réception envoyé")
        assert writer.get(dossier_id).notes == ["accusé de réception envoyé"]

        # A second application, with its own connections, reads what the first wrote.
        reader = Dossiers(env=env)
        try:
            dossier = reader.get(dossier_id)
            assert dossier.reference == "SLA-2026-0001"
            assert dossier.notes == ["accusé de réception envoyé"]
            assert dossier.version == 2
            notifications = reader.notification_log.select(start=1, limit=10)
            assert [n.topic.rsplit(".", 1)[-1] for n in notifications] == ["Opened", "Noted"]
        finally:
            reader.close()
    finally:
        writer.close()

    # The events are rows of a table in that database, not in some memory.
    with connect(pg_database) as conn:
        count = conn.execute(
            sql.SQL("SELECT count(*) FROM {} WHERE originator_id = %s").format(
                sql.Identifier("dossiers_events")
            ),
            [dossier_id],
        ).fetchone()
    assert count == (2,)


def test_postgres_url() -> None:
    env = {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": "54329",
        "POSTGRES_USER": "sla engine",
        "POSTGRES_PASSWORD": "p@ss:/word",
        "POSTGRES_DBNAME": "db",
    }
    assert postgres_url(env) == "postgresql://sla%20engine:p%40ss%3A%2Fword@127.0.0.1:54329/db"
