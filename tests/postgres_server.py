"""The tests' PostgreSQL server: the private one of ``scripts/postgres``, or the one
named by the ``POSTGRES_*`` variables of the environment.

``postgres_env()`` gives the connection variables (``POSTGRES_HOST``, ``POSTGRES_PORT``,
``POSTGRES_USER``, ``POSTGRES_PASSWORD``, ``POSTGRES_DBNAME``): from ``os.environ`` when
they are all set and the server answers (``scripts/test`` exports them), else by running
``scripts/postgres``, which installs PostgreSQL if need be and starts the server. When
no server can be had it skips the test with the script's reason, except under ``CI``,
where it fails it: in CI the PostgreSQL tests never pass by being skipped.

Every test needs empty tables: ``fresh_database()`` creates a database of its own
(``CREATE DATABASE ... TEMPLATE template0``), gives its variables and drops it after.
Usage in a test module::

    from .postgres_server import database_fixture, postgres_url

    # one empty database for the module (pass scope="function" for one per test)
    pg_database = database_fixture("pg_database")

    def test_something(pg_database: dict[str, str]) -> None:
        env = {"PERSISTENCE_MODULE": "eventsourcing.postgres", **pg_database}
        url = postgres_url(pg_database)  # postgresql://user:password@host:port/dbname
        ...

Close what uses the database (``Application.close()``) before the fixture ends: the
drop ends any connection still open (``WITH (FORCE)``), and a pool whose connections
were ended may log errors.
"""

from __future__ import annotations

import functools
import os
import subprocess
import time
import urllib.parse
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import psycopg
import pytest
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "postgres"
ENV_KEYS = (
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DBNAME",
)
# Installing PostgreSQL on a new machine takes a minute or two; a started server, 0.1 s.
SCRIPT_TIMEOUT = 900
CONNECT_TIMEOUT = 3
UNAVAILABLE = 3  # the script's exit status when PostgreSQL cannot be installed here


@dataclass(frozen=True)
class _Unavailable:
    reason: str
    # A broken script or server fails the test everywhere; only a machine where
    # PostgreSQL cannot be installed (exit status 3) skips it, and only outside CI.
    skippable: bool


def connect(
    env: dict[str, str], dbname: str | None = None, **kwargs: Any
) -> psycopg.Connection[Any]:
    """A psycopg connection to the server of ``env`` (to its database, or ``dbname``)."""
    return psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        dbname=dbname or env["POSTGRES_DBNAME"],
        connect_timeout=CONNECT_TIMEOUT,
        **kwargs,
    )


def postgres_url(env: dict[str, str]) -> str:
    """``postgresql://user:password@host:port/dbname`` for ``env``."""
    quote = functools.partial(urllib.parse.quote, safe="")
    return (
        f"postgresql://{quote(env['POSTGRES_USER'])}:{quote(env['POSTGRES_PASSWORD'])}"
        f"@{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{quote(env['POSTGRES_DBNAME'])}"
    )


def _answers(env: dict[str, str]) -> bool:
    try:
        with connect(env) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error:
        return False
    return True


def _from_script() -> dict[str, str] | _Unavailable:
    try:
        done = subprocess.run(
            [str(SCRIPT)],
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SCRIPT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _Unavailable(f"{SCRIPT} could not run: {exc}", skippable=False)
    reason = done.stderr.strip()
    if done.returncode != 0:
        return _Unavailable(
            f"{SCRIPT} exited with status {done.returncode}:\n{reason}",
            skippable=done.returncode == UNAVAILABLE,
        )
    env: dict[str, str] = {}
    for line in done.stdout.splitlines():
        key, sep, value = line.removeprefix("export ").partition("=")
        if sep and key in ENV_KEYS:
            env[key] = value
    missing = [key for key in ENV_KEYS if key not in env]
    if missing:
        return _Unavailable(
            f"{SCRIPT} printed no {', '.join(missing)}:\n{done.stdout}{reason}", skippable=False
        )
    if not _answers(env):
        return _Unavailable(
            f"{SCRIPT} started a server that does not answer:\n{reason}", skippable=False
        )
    return env


@functools.cache
def _server() -> dict[str, str] | _Unavailable:
    # Once per test run: the server stays up, and a machine without one stays so.
    if all(os.environ.get(key) for key in ENV_KEYS):
        env = {key: os.environ[key] for key in ENV_KEYS}
        if _answers(env):
            return env
        # Exported by an earlier run whose server has gone: start ours.
    return _from_script()


def postgres_env() -> dict[str, str]:
    """The five ``POSTGRES_*`` variables of a running server (a copy), or skip/fail."""
    server = _server()
    if isinstance(server, _Unavailable):
        message = f"no PostgreSQL server for the tests: {server.reason}"
        if server.skippable and not os.environ.get("CI"):
            pytest.skip(message)
        pytest.fail(message, pytrace=False)
    return dict(server)


@contextmanager
def fresh_database(prefix: str = "sla_engine_t") -> Iterator[dict[str, str]]:
    """A new, empty database on the server: its variables, dropped on exit."""
    env = postgres_env()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with connect(env, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)
            )
        )
    try:
        yield {**env, "POSTGRES_DBNAME": name}
    finally:
        _drop(env, name)


def _drop(env: dict[str, str], name: str) -> None:
    """Drop a test database, waiting out a server process still attached to it.

    A background worker of the server (autovacuum, on a server not started by
    ``scripts/postgres``) cannot be ended by the test role: try again briefly,
    then leave the database for the server's next cleanup rather than fail a
    test for it.
    """
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    for attempt in range(20):
        try:
            with connect(env, autocommit=True) as conn:
                conn.execute(statement)
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            time.sleep(0.1 * (attempt + 1))
    warnings.warn(f"could not drop the test database {name}", stacklevel=2)


def database_fixture(
    name: str, *, scope: Literal["function", "module", "session"] = "module"
) -> Callable[[], Iterator[dict[str, str]]]:
    """A pytest fixture ``name`` giving the variables of a fresh database.

    Assign it in a test module or conftest under the same name:
    ``pg_database = database_fixture("pg_database")``.
    """

    @pytest.fixture(name=name, scope=scope)
    def _fixture() -> Iterator[dict[str, str]]:
        with fresh_database() as env:
            yield env

    return _fixture
