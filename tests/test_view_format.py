"""The view's stored form: each timer a JSON array, read back exactly; earlier JSON objects too."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_engine import SlaEngine, load_catalogue
from sla_engine._calendar import calendar
from sla_engine._errors import SlaEngineError
from sla_engine._replay import replay
from sla_engine._report import build_report
from sla_engine._timers import evaluate_contact, timer_from_dict
from sla_engine._view import RECORD_FIELDS, decode_record, encode_record, timer_row
from sla_engine.strategies import contact_histories

from .replay_support import NOW, generated

CATALOGUE = load_catalogue("marianne-besancon")
FR = calendar("fr")


@settings(max_examples=60, deadline=None)
@given(contact_histories(), st.sampled_from([None, "école Jules-Ferry"]))
def test_a_timer_is_read_back_as_it_was_stored(history, site) -> None:  # type: ignore[no-untyped-def]
    as_of = history[-1].occurred_at + dt.timedelta(days=3)
    for timer in evaluate_contact(history, CATALOGUE, lambda key: FR, as_of):
        if site is not None:  # an obligation's timer names its site and period
            timer = attrs.evolve(timer, site=site, period="2025-2026")
        record = timer.to_dict()
        text = encode_record(record)
        assert text.startswith("[")
        assert decode_record(text) == record
        assert timer_from_dict(decode_record(timer_row(timer)[5])) == timer
        assert timer_row(timer)[5] == text  # made without the dict, the same
        # The array lists the values, never the keys: about half the bytes.
        assert '"engagement_id"' not in text
        assert list(record) == [f for f in RECORD_FIELDS if f in record]


def test_a_view_written_as_json_objects_is_read_the_same(tmp_path: Path) -> None:
    # Views written before the array form hold one JSON object per timer.
    log = tmp_path / "log.csv"
    generated(log, contacts=80, seed=2, start=dt.date(2025, 3, 3), end=dt.date(2025, 4, 25))
    store = tmp_path / "s.db"
    engine = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
    replay(engine, [log])
    timers = engine.stored_timers()
    report = build_report(engine, jobs=1)
    engine.close()
    with sqlite3.connect(store) as db:
        rows = db.execute("SELECT contact_id, engagement_id, cycle, data FROM sla_timers")
        rows = rows.fetchall()
        assert len(rows) == len(timers) > 50
        assert all(data.startswith("[") for *_, data in rows)
        db.executemany(
            "UPDATE sla_timers SET data = ? "
            "WHERE contact_id = ? AND engagement_id = ? AND cycle = ?",
            [(json.dumps(decode_record(data)), *key) for *key, data in rows],
        )
        assert all(d.startswith("{") for (d,) in db.execute("SELECT data FROM sla_timers"))
    engine = SlaEngine(store=str(store), clock=lambda: NOW)
    assert engine.stored_timers() == timers
    again = build_report(engine, jobs=1)
    for r in (report, again):
        r.pop("generated_at", None)
    assert again == report
    engine.close()


def test_a_timer_of_another_form_is_refused_with_what_to_do() -> None:
    with pytest.raises(SlaEngineError, match=r"a timer of 3 values .* rebuild the view"):
        decode_record('["C1","email-5",0]')


# -- a view projected by another version of the arithmetic ----------------------------


def test_a_view_projected_by_another_arithmetic_is_projected_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sla_engine._timers import EVALUATION

    store = str(tmp_path / "s.db")
    log = tmp_path / "log.csv"
    generated(log, contacts=30, seed=4, start=dt.date(2025, 3, 3), end=dt.date(2025, 3, 28))
    rebuilds: list[int] = []
    rebuild = SlaEngine._rebuild  # rebuild_view's, and an opening's

    def counted(self: SlaEngine, rules_version: int | None) -> None:
        rebuilds.append(1)
        rebuild(self, rules_version)

    monkeypatch.setattr(SlaEngine, "_rebuild", counted)

    engine = SlaEngine("marianne-besancon", "fr", store=store, clock=lambda: NOW)
    replay(engine, [log])
    expected = sorted(timer_row(t) for t in engine.stored_timers())
    assert len(expected) > 20
    assert engine.view.state_value("evaluation") == EVALUATION
    engine.close()
    assert rebuilds == []  # a new store's view is this version's from the start

    # As an earlier version left it: no number of its own, and its own figures.
    with sqlite3.connect(store) as db:
        db.execute("DELETE FROM sla_view_state WHERE name = 'evaluation'")
        db.execute("UPDATE sla_timers SET data = replace(data, '\"met\"', '\"late\"')")
    engine = SlaEngine(store=store, clock=lambda: NOW)
    assert rebuilds == [1]
    assert sorted(timer_row(t) for t in engine.stored_timers()) == expected
    rules = engine.view.rules_version()
    engine.rebuild_view()  # asked for: keeps what the view knows of itself
    assert engine.view.state_value("evaluation") == EVALUATION
    assert engine.view.rules_version() == rules
    engine.close()
    engine = SlaEngine(store=store, clock=lambda: NOW)
    assert rebuilds == [1, 1]  # the opening did not rebuild it again
    engine.close()
