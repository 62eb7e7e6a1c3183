"""The least-privilege PostgreSQL role of docs/security.md, run as the page writes it.

The page's SQL sets up an owner role, a schema and a login role for the
engine; the engine then runs as that role with ``CREATE_TABLE=false``:
recording, projecting, forgetting a requester and reporting must all work,
and the log must stay append-only (no UPDATE or DELETE on its events).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from sla_engine import SlaEngine
from sla_engine._report import build_report

from .conftest import REPO
from .postgres_server import connect, postgres_env, postgres_url

PARIS = dt.timezone(dt.timedelta(hours=1))
PAGE = REPO / "docs" / "security.md"


def page_sql() -> tuple[list[str], list[str]]:
    """The statements of the page's ```sql block: before the first run, and after it."""
    text = PAGE.read_text(encoding="utf-8")
    section = text[text.index("## PostgreSQL with a least-privilege role") :]
    block = re.search(r"```sql\n(.*?)```", section, re.S)
    assert block is not None
    before, after = block.group(1).split("-- after a first run")
    after = after.split("\n", 1)[1]  # the rest of the comment's line

    def statements(sql: str) -> list[str]:
        # A statement ends with ';' at the end of a line (a function's body
        # has its own ';' inside a line).
        lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
        return [s.strip() for s in re.split(r";\s*\n", "\n".join(lines) + "\n") if s.strip()]

    return statements(before), statements(after)


@pytest.fixture
def roles() -> Iterator[dict[str, str]]:
    """Role names of this test's own (roles are shared by the whole server).

    Asked for before the database, so that they are dropped after it (and
    with it, everything they own or were granted there).
    """
    suffix = uuid.uuid4().hex[:8]
    names = {
        "owner": f"sla_owner_{suffix}",
        "engine": f"sla_app_{suffix}",
        "password": f"pw_{suffix}",
    }
    yield names
    with connect(postgres_env(), autocommit=True) as admin:
        for role in (names["engine"], names["owner"]):
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def adapted(statement: str, names: dict[str, str]) -> str:
    statement = re.sub(r"\bsla_owner\b", names["owner"], statement)
    statement = re.sub(r"\bsla_engine\b", names["engine"], statement)
    return statement.replace("'…'", f"'{names['password']}'")


def as_role(database: dict[str, str], role: str, password: str) -> dict[str, str]:
    return database | {"POSTGRES_USER": role, "POSTGRES_PASSWORD": password}


def test_the_engine_runs_as_the_least_privilege_role(
    roles: dict[str, str], pg_database: dict[str, str]
) -> None:
    before, after = page_sql()
    setup = [adapted(s, roles) for s in before]
    grants = [adapted(s, roles) for s in after]
    with connect(pg_database, autocommit=True) as admin:
        for statement in setup:
            admin.execute(statement)
            if statement.startswith("CREATE ROLE") and roles["owner"] in statement:
                # The page runs as a superuser; here the test's role must join the
                # owner's to create a schema for it.
                admin.execute(f'GRANT "{roles["owner"]}" TO CURRENT_USER')
        # The page's "first run as sla_owner" needs a login for it here.
        admin.execute(f"ALTER ROLE \"{roles['owner']}\" LOGIN PASSWORD '{roles['password']}'")
        admin.execute(
            f'GRANT CONNECT ON DATABASE "{pg_database["POSTGRES_DBNAME"]}" TO '
            f'"{roles["engine"]}", "{roles["owner"]}"'
        )
    env: dict[str, Any] = {"POSTGRES_SCHEMA": "sla"}

    owner = as_role(pg_database, roles["owner"], roles["password"])
    first = SlaEngine("marianne-besancon", "fr", store=postgres_url(owner), env=env)
    first.close()
    with connect(owner, autocommit=True) as connection:
        for statement in grants:
            connection.execute(statement)

    engine_env = as_role(pg_database, roles["engine"], roles["password"])
    engine = SlaEngine(
        store=postgres_url(engine_env),
        env=env | {"CREATE_TABLE": "false"},
        pseudonym_key=b"k" * 32,
        clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    try:
        received = dt.datetime(2025, 11, 3, 10, tzinfo=PARIS)
        engine.record_many(
            [
                {
                    "event_id": f"e{n}",
                    "contact_id": f"C{n}",
                    "type": "received",
                    "occurred_at": received,
                    "channel": "email",
                    "requester": f"person-{n}@example.org",
                }
                for n in range(3)
            ]
        )
        engine.record(
            {
                "event_id": "a0",
                "contact_id": "C0",
                "type": "answered",
                "occurred_at": received + dt.timedelta(days=1),
            }
        )
        assert len(engine.worklist(received + dt.timedelta(days=30))) == 2
        assert engine.forget("person-1@example.org") is True
        report = build_report(engine)
        (email,) = [e for e in report["engagements"] if e["id"] == "email-5"]
        assert (email["total"], email["met"], email["pending"]) == (3, 1, 2)
        engine.rebuild_view()
    finally:
        engine.close()

    # The log stays append-only for the engine's role.
    with connect(engine_env, autocommit=True) as connection:
        count = "SELECT count(*) FROM sla.slaengine_events"
        before = connection.execute(count).fetchone()
        for statement in (
            "UPDATE sla.slaengine_events SET topic = 'x'",
            "DELETE FROM sla.slaengine_events",
            "TRUNCATE sla.slaengine_events",
        ):
            with pytest.raises(psycopg.Error, match=r"append-only|permission denied"):
                connection.execute(statement)
        assert connection.execute(count).fetchone() == before
