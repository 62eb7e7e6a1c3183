"""A PostgreSQL store that cannot be opened: the error says why and where, never the password."""

from __future__ import annotations

import socket

import pytest

from sla_engine import SlaEngine, SlaEngineError

from .engine_support import sample_catalogue
from .postgres_server import postgres_env, postgres_url

# eventsourcing's pool waits this long for a connection before giving up.
QUICK = {"POSTGRES_CONNECT_TIMEOUT": "1"}
WRONG_PASSWORD = "not-the-password-Zq9"  # noqa: S105 - never a real one


def _open(store: str) -> SlaEngine:
    return SlaEngine(sample_catalogue(), "fr", store=store, env=QUICK)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_no_server_on_the_port() -> None:
    port = _free_port()
    with pytest.raises(SlaEngineError) as caught:
        _open(f"postgresql://someone:{WRONG_PASSWORD}@127.0.0.1:{port}/audit")
    message = str(caught.value)
    assert message.startswith(
        f"cannot open the PostgreSQL store at 127.0.0.1:{port}, database 'audit', user 'someone': "
    )
    assert "refused" in message
    assert WRONG_PASSWORD not in message


def test_a_wrong_password() -> None:
    env = postgres_env() | {"POSTGRES_PASSWORD": WRONG_PASSWORD}
    with pytest.raises(SlaEngineError) as caught:
        _open(postgres_url(env))
    message = str(caught.value)
    assert f"user {env['POSTGRES_USER']!r}" in message
    assert "password authentication failed" in message
    assert WRONG_PASSWORD not in message


def test_a_database_that_does_not_exist() -> None:
    env = postgres_env() | {"POSTGRES_DBNAME": "no_such_sla_database"}
    with pytest.raises(SlaEngineError, match='database "no_such_sla_database" does not exist'):
        _open(postgres_url(env))


def test_the_command_line_says_it_in_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sla_engine.cli import main

    port = _free_port()
    store = f"postgresql://someone:{WRONG_PASSWORD}@127.0.0.1:{port}/audit"
    monkeypatch.setenv("POSTGRES_CONNECT_TIMEOUT", "1")
    status = main(["report", "--store", store])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(
        f"sla-engine: error: cannot open the PostgreSQL store at 127.0.0.1:{port}"
    )
    assert WRONG_PASSWORD not in err
