"""Shared test configuration: Hypothesis profiles and paths."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

# CI runs a fixed, reproducible set of examples (a red build must be
# reproducible on a developer's machine); development runs explore afresh.
settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# -- engines on every backend ------------------------------------------------------

import pytest  # noqa: E402

from .engine_support import BACKENDS, sample_catalogue, store_for  # noqa: E402
from .postgres_server import database_fixture, postgres_url  # noqa: E402

# One empty PostgreSQL database per test that asks for it.
pg_database = database_fixture("pg_database", scope="function")


@pytest.fixture
def postgres_store(pg_database: dict[str, str]) -> str:
    return postgres_url(pg_database)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make_engine(backend: str, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Build engines on the test's backend; several calls share one store."""
    from sla_engine._engine import SlaEngine

    if backend == "postgres":
        store = request.getfixturevalue("postgres_store")
    else:
        store = store_for(backend, tmp_path)
    engines: list[SlaEngine] = []

    def factory(**options):  # type: ignore[no-untyped-def]
        options.setdefault("catalogue", sample_catalogue())
        options.setdefault("calendar_spec", "fr")
        engine = SlaEngine(store=store, **options)
        engines.append(engine)
        return engine

    yield factory
    for engine in engines:
        engine.close()
