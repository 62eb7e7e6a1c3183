"""Bulk steps pause Python's cyclic garbage collector, and always resume it."""

from __future__ import annotations

import datetime as dt
import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from sla_engine import ContactEvent, DataError, SlaEngine
from sla_engine._collector import collector_paused
from sla_engine._replay import replay

from .replay_support import generated

NOW = dt.datetime(2031, 1, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def _received(event_id: str) -> ContactEvent:
    return ContactEvent(
        event_id=event_id,
        contact_id=f"C-{event_id}",
        type="received",
        occurred_at=dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC),
        channel="email",
    )


def test_record_many_runs_with_the_collector_paused(collector_on: None) -> None:
    seen: list[bool] = []

    def clock() -> dt.datetime:
        seen.append(gc.isenabled())
        return NOW

    engine = SlaEngine("marianne-besancon", "fr", store="memory", clock=clock)
    seen.clear()  # the engine read its clock when it opened
    assert engine.record_many([_received("1"), _received("2")]).recorded == 2
    assert seen
    assert not any(seen)
    assert gc.isenabled()
    # Resumed when the call raises too.
    with pytest.raises(DataError):
        engine.record_many([_received("3"), {"event_id": "4"}])
    assert gc.isenabled()
    engine.close()


def test_a_collector_the_caller_disabled_stays_disabled(collector_on: None) -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
    engine = SlaEngine("marianne-besancon", "fr", store="memory", clock=lambda: NOW)
    engine.record_many([_received("1")])
    assert not gc.isenabled()
    engine.close()


def test_a_replay_runs_with_the_collector_paused(tmp_path: Path, collector_on: None) -> None:
    log = tmp_path / "log.csv"
    generated(log, contacts=40, seed=3, start=dt.date(2025, 3, 3), end=dt.date(2025, 3, 28))
    seen: list[bool] = []
    engine = SlaEngine("marianne-besancon", "fr", store="memory", clock=lambda: NOW)
    summary = replay(engine, [log], progress=lambda _rows: seen.append(gc.isenabled()))
    assert summary.recorded > 40
    assert seen
    assert not any(seen)
    assert gc.isenabled()
    engine.close()


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_closed_engine_lets_go_of_its_contacts_without_the_collector(
    store: str, tmp_path: Path
) -> None:
    # The engine's caches refer back to it: dropped full, its contacts would
    # wait for a full pass of the cyclic collector.
    was = gc.isenabled()
    gc.disable()
    try:
        engine = SlaEngine(
            "marianne-besancon",
            "fr",
            store=None if store == "memory" else f"sqlite:///{tmp_path / 'closed.db'}",
            clock=lambda: NOW,
        )
        engine.record_many([_received(str(n)) for n in range(5)])
        assert len(engine.timers("C-1", now=NOW)) > 0  # evaluated: its evaluator made
        kept = engine._recent.get("C-1")
        assert kept is not None
        contact = weakref.ref(kept)
        del kept
        engine.close()
        del engine
        assert contact() is None
    finally:
        if was:
            gc.enable()
