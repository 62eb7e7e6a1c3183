"""The recording path's shortcuts give what eventsourcing's generic path gives.

``record_many`` makes a contact's stored events without eventsourcing's
``trigger_event``, encodes them without its mapper's generic step, and writes
plain timers' view rows from templates: each is checked here against the path
it replaces, on drawn histories.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import attrs
import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Transcoder,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_engine import ContactEvent, SlaEngine, load_catalogue
from sla_engine import strategies as sla
from sla_engine._contact import _STORED, Contact, check_ordered
from sla_engine._replay import replay
from sla_engine._report import build_report
from sla_engine._rows import RowEvaluator
from sla_engine._stored import StoredEncoder
from sla_engine._timers import evaluate_contact
from sla_engine._view import ViewRows, timer_row

# After every drawn history (they start up to the end of 2030 and run on for weeks).
NOW = dt.datetime(2032, 1, 1, 12, tzinfo=dt.UTC)
# Ids with what JSON must escape: quotes, backslashes, controls, accents, line separators.
IDS = st.text(min_size=1, max_size=12).filter(lambda s: s.strip() == s and s != "")


def _event(
    event_id: str, contact_id: str, kind: str, at: dt.datetime, **fields: Any
) -> ContactEvent:
    """An event of a test's history; a ``received`` one comes by email unless told otherwise."""
    if kind == "received":
        fields.setdefault("channel", "email")
    return ContactEvent(
        event_id=event_id, contact_id=contact_id, type=kind, occurred_at=at, **fields
    )


def _with_id(history: list[ContactEvent], contact_id: str) -> list[ContactEvent]:
    return [attrs.evolve(e, contact_id=contact_id) for e in history]


def _generic(history: list[ContactEvent], recorded: list[dt.datetime]) -> Contact:
    """The contact eventsourcing's own ``_create`` and ``trigger_event`` make."""
    first = history[0]
    contact = Contact._create(
        Contact.Received,
        id=first.contact_id,
        timestamp=recorded[0],
        event_id=first.event_id,
        occurred_at=first.occurred_at,
        payload=first.payload(),
    )
    for event, at in zip(history[1:], recorded[1:], strict=True):
        contact.trigger_event(
            _STORED[event.type],
            timestamp=at,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            payload=event.payload(),
        )
    return contact


@settings(max_examples=150, deadline=None)
@given(history=sla.contact_histories(), contact_id=IDS, own_instants=st.booleans())
def test_commands_make_the_events_and_state_of_eventsourcing(
    history: list[ContactEvent], contact_id: str, own_instants: bool
) -> None:
    history = _with_id(history, contact_id)
    # The engine records at the event's own recorded_at when it has one (the
    # recorded event is then kept as given), else at its clock's instant.
    recorded = [(e.recorded_at if own_instants else None) or NOW for e in history]
    fast = Contact.receive(history[0], recorded[0])
    for event, at in zip(history[1:], recorded[1:], strict=True):
        fast.record(event, at)
    generic = _generic(history, recorded)
    # The rules' state the commands keep is derived from the history: the
    # state worked out again from it (eventsourcing's path keeps none).
    assert getattr(generic, "_rules", None) is None
    assert fast._rules in (None, check_ordered(fast.history, contact_id, history[-1].event_id))
    # BaseAggregate's equality: every attribute (id, version, created and modified
    # instants, history, ids, pending events field by field).
    assert fast == generic
    assert [list(vars(e)) for e in fast.pending_events] == [
        list(vars(e)) for e in generic.pending_events
    ]
    assert [type(e) for e in fast.pending_events] == [type(e) for e in generic.pending_events]


def _events(contact_id: str, history: list[ContactEvent]) -> list[Any]:
    contact = Contact.receive(history[0], NOW)
    for event in history[1:]:
        contact.record(event, event.recorded_at or NOW)
    return list(contact.collect_events())


class _Zlib:
    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data)

    def decompress(self, data: bytes) -> bytes:
        return zlib.decompress(data)


def _mapper(**options: Any) -> Mapper[str]:
    from eventsourcing.application import Application

    return Mapper(transcoder=Application().construct_transcoder(), **options)


@settings(max_examples=150, deadline=None)
@given(history=sla.contact_histories(), contact_id=IDS)
def test_stored_events_are_the_mappers_bytes(history: list[ContactEvent], contact_id: str) -> None:
    events = _events(contact_id, _with_id(history, contact_id))
    mapper = _mapper()
    rows = StoredEncoder(mapper).rows(events, lambda _c, _e: None)
    expected = [mapper.to_stored_event(e) for e in events]
    assert rows == [
        (s.originator_id, s.originator_version, s.topic, bytes(s.state)) for s in expected
    ]
    assert [mapper.to_domain_event(StoredEvent(*row)) for row in rows] == [
        mapper.to_domain_event(s) for s in expected
    ]


# One encoder for every drawn history: payloads met before come from its memo.
_SHARED_ENCODER = StoredEncoder(_mapper())


@settings(max_examples=150, deadline=None)
@given(history=sla.contact_histories(), contact_id=IDS)
def test_payloads_encoded_once_are_the_mappers_bytes_again(
    history: list[ContactEvent], contact_id: str
) -> None:
    events = _events(contact_id, _with_id(history, contact_id))
    mapper = _mapper()
    rows = _SHARED_ENCODER.rows(events, lambda _c, _e: None)
    assert [row[3] for row in rows] == [bytes(mapper.to_stored_event(e).state) for e in events]


def test_payloads_with_the_same_values_in_other_fields_are_told_apart(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sla_engine._stored._PAYLOADS_KEPT", 3)
    at = dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)
    received = _event("r", "c", "received", at, channel="email", category="a", service="b")
    history = [received]
    # The same values under other names, then more payloads than the memo keeps.
    for n, fields in enumerate(
        [
            {"to": "a", "reason": "b"},
            {"to": "b", "reason": "a"},
            {"reason": "a"},
            {"to": "a"},
            {"to": "x", "reason": "y"},
            {"to": "a", "reason": "b"},
        ]
    ):
        history.append(_event(f"e{n}", "c", "escalated", at + dt.timedelta(hours=n + 1), **fields))
    events = _events("c", history)
    mapper = _mapper()
    encoder = StoredEncoder(mapper)
    first = encoder.rows(events, lambda _c, _e: None)
    again = encoder.rows(events, lambda _c, _e: None)  # every payload met before
    expected = [bytes(mapper.to_stored_event(e).state) for e in events]
    assert [row[3] for row in first] == expected
    assert [row[3] for row in again] == expected
    assert len(encoder._payloads) <= 3


def test_every_class_has_a_template_checked_on_a_probe() -> None:
    encoder = StoredEncoder(_mapper())
    assert all(encoder.template(cls) is not None for cls in _STORED.values())


def test_compressed_and_encrypted_events_read_back_the_same() -> None:
    from eventsourcing.cryptography import AESCipher
    from eventsourcing.utils import Environment

    key = base64.b64encode(os.urandom(32)).decode()
    cipher = AESCipher(Environment(env={"CIPHER_KEY": key}))
    mapper = _mapper(compressor=_Zlib(), cipher=cipher)
    history = [
        _event(
            'e"1',
            "C-é",
            "received",
            dt.datetime(2025, 3, 3, 9, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            attributes={"dossier": "x\\y"},
        ),
        _event("e2", "C-é", "answered", dt.datetime(2025, 3, 4, 9, tzinfo=dt.UTC)),
    ]
    events = _events("C-é", history)
    rows = StoredEncoder(mapper).rows(events, lambda _c, _e: None)
    assert [mapper.to_domain_event(StoredEvent(*row)) for row in rows] == events
    # Encrypted (AES-GCM: a fresh nonce each time), so not the plain JSON. The
    # JSON strings with their quotes: two random bytes spell « e2 » once in
    # about three hundred such rows (a clean clone's run met it).
    assert all(b'"answered"' not in row[3] and b'"e2"' not in row[3] for row in rows)
    plain = StoredEncoder(_mapper()).rows(events, lambda _c, _e: None)
    assert b'"e2"' in plain[1][3]  # what the check above looks for, unencrypted


class _SpacedJSON(JSONTranscoder):
    """eventsourcing's JSON transcoder with a difference: the templates follow it."""

    def encode(self, obj: Any) -> bytes:
        return super().encode(obj) + b" "


class _Wrapped(Transcoder):
    """Another kind of transcoder: events go through the mapper itself."""

    def __init__(self) -> None:
        self.inner = JSONTranscoder()
        self.inner.register(DatetimeAsISO())

    def encode(self, obj: Any) -> bytes:
        return b"[" + self.inner.encode(obj) + b"]"

    def decode(self, data: bytes) -> Any:
        return self.inner.decode(data[1:-1])


@pytest.mark.parametrize("kind", ["json subclass", "other"])
def test_another_transcoder_gets_its_own_bytes(kind: str) -> None:
    transcoder: Transcoder
    if kind == "other":
        transcoder = _Wrapped()
    else:
        transcoder = _SpacedJSON()
        transcoder.register(DatetimeAsISO())
    mapper: Mapper[str] = Mapper(transcoder=transcoder)
    history = [
        _event("e1", "C1", "received", dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC)),
        _event("e2", "C1", "closed", dt.datetime(2025, 3, 5, 9, tzinfo=dt.UTC)),
    ]
    events = _events("C1", history)
    encoder = StoredEncoder(mapper)
    rows = encoder.rows(events, lambda _c, _e: None)
    assert [row[3] for row in rows] == [bytes(mapper.to_stored_event(e).state) for e in events]
    assert [mapper.to_domain_event(StoredEvent(*row)) for row in rows] == events
    assert all(row[3].endswith(b"} " if kind != "other" else b"}]") for row in rows)
    assert (encoder.template(Contact.Received) is None) == (kind == "other")


# -- view rows from templates ----------------------------------------------------------

MARIANNE = load_catalogue("marianne-besancon")
PLAIN = ["acknowledged", "holding_reply", "answered", "escalated", "closed"]


@settings(max_examples=150, deadline=None)
@given(
    histories=st.lists(
        sla.contact_histories(event_types=PLAIN, max_events=5, max_gap=dt.timedelta(days=8)),
        min_size=1,
        max_size=8,
    ),
    contact_id=IDS,
    catalogue=st.one_of(st.just(MARIANNE), sla.catalogues()),
)
def test_rows_from_templates_are_the_encoded_timers(
    histories: list[list[ContactEvent]], contact_id: str, catalogue: Any
) -> None:
    from sla_engine import calendar

    fr = calendar("fr")

    def calendars(key: str | None) -> Any:
        return fr if key is None else calendar(key)

    evaluator = RowEvaluator(catalogue, calendars)
    for history in histories:
        history = _with_id(history, contact_id)
        expected = [timer_row(t) for t in evaluate_contact(history, catalogue, calendars)]
        rows = evaluator.history_rows(history)
        if rows is None:
            assert [timer_row(t) for t in evaluator.evaluate(history)] == expected
        else:
            assert list(rows) == expected


def test_the_bench_catalogues_plain_contacts_are_written_from_templates() -> None:
    from sla_engine import calendar

    fr = calendar("fr")
    evaluator = RowEvaluator(MARIANNE, lambda key: fr if key is None else calendar(key))
    paris = dt.timezone(dt.timedelta(hours=1))
    history = [
        _event("r", 'C "1"', "received", dt.datetime(2025, 3, 3, 9, tzinfo=paris)),
        _event("a", 'C "1"', "answered", dt.datetime(2025, 3, 12, 9, tzinfo=paris)),
    ]
    rows = evaluator.history_rows(history)
    assert rows is not None
    assert list(rows) == [
        timer_row(t) for t in evaluate_contact(history, MARIANNE, evaluator.calendars)
    ]
    assert [(r[0], r[3], r[4]) for r in rows] == [('C "1"', None, None)] * len(rows)


# -- the engine: what it keeps, stores and projects ---------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    histories=st.lists(
        sla.contact_histories(max_events=6),
        min_size=1,
        max_size=6,
        unique_by=lambda h: h[0].contact_id,
    ),
    batch=st.integers(1, 7),
)
def test_the_engine_stores_and_projects_what_it_keeps(
    tmp_path_factory: pytest.TempPathFactory, histories: list[list[ContactEvent]], batch: int
) -> None:
    store = tmp_path_factory.mktemp("recording") / "store.db"
    engine = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
    # Contacts' events interleaved, as a service records them through the day.
    events = sorted((e for h in histories for e in h), key=lambda e: e.occurred_at)
    for start in range(0, len(events), batch):
        engine.record_many(events[start : start + batch])
    kept = {h[0].contact_id: engine._recent.get(h[0].contact_id) for h in histories}
    engine._recent.clear()
    for contact_id, contact in kept.items():
        stored = engine._get_contact(contact_id)
        assert contact is not None
        assert stored is not None
        # Instants keep their fixed offsets, in memory as read back.
        assert stored.history == contact.history
        assert stored.version == contact.version
    with sqlite3.connect(store) as db:
        view = db.execute(
            "SELECT contact_id, engagement_id, cycle, attention_us, expires_us, data "
            "FROM sla_timers ORDER BY contact_id, engagement_id, cycle"
        ).fetchall()
    expected = sorted(
        timer_row(t)
        for contact in kept.values()
        if contact is not None
        for t in evaluate_contact(contact.history, engine.catalogue, engine.calendar_for)
    )
    assert view == [tuple(row) for row in expected]
    engine.close()


def test_stored_events_of_the_engine_read_back(tmp_path: Path) -> None:
    """A store written by the engine is read by eventsourcing's repository as written."""
    engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / "s.db"), clock=lambda: NOW)
    history = [
        _event(
            "r1",
            "C1",
            "received",
            dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC),
            attributes={"b": 2, "a": "x"},
        ),
        _event(
            "a1",
            "C1",
            "acknowledged",
            dt.datetime(2025, 3, 3, 10, tzinfo=dt.UTC),
            announced_delay="10 jours ouvrés",
        ),
    ]
    engine.record_many(history)
    in_memory = engine._recent.get("C1")
    engine._recent.clear()
    read = engine.repository.get("C1")
    assert read == in_memory  # every attribute: history, ids, version, instants
    assert [e.recorded_at for e in read.history] == [NOW, NOW]
    engine.close()


def _view_of(store: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(store) as db:
        return db.execute(
            "SELECT contact_id, engagement_id, cycle, attention_us, expires_us, data "
            "FROM sla_timers ORDER BY contact_id, engagement_id, cycle"
        ).fetchall()


def _contact(contact_id: str, day: int, answered: bool) -> list[ContactEvent]:
    at = dt.datetime(2025, 3, day, 9, tzinfo=dt.UTC)
    events = [_event(f"{contact_id}-r", contact_id, "received", at)]
    if answered:
        events.append(_event(f"{contact_id}-a", contact_id, "answered", at + dt.timedelta(days=2)))
    return events


def test_timers_in_the_events_transaction_only_when_the_view_is_at_the_log_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another engine's events the view has not projected: a catch-up projects both."""
    store = tmp_path / "shared.db"
    one = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
    two = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
    fused: list[bool] = []
    projectable = SlaEngine._projectable

    def counted(engine: SlaEngine, cursor: Any, count: int) -> int | None:
        last = projectable(engine, cursor, count)
        fused.append(last is not None)
        return last

    monkeypatch.setattr(SlaEngine, "_projectable", counted)
    one.record_many(_contact("A", 3, True) + _contact("B", 3, False))  # in its transaction
    two.record_many(_contact("C", 4, False), project=False)  # left for later
    one.record_many([*_contact("D", 5, True), _contact("C", 4, True)[1]])  # C is not projected
    # An engine with contacts of its own waiting for the view catches up first.
    two.record_many(_contact("E", 6, False))
    one.record_many(_contact("F", 7, True))  # the view is at the log's end again
    assert fused == [True, False, True]
    view = _view_of(store)
    assert {row[0] for row in view} == {"A", "B", "C", "D", "E", "F"}
    three = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
    three.rebuild_view()
    assert _view_of(store) == view
    for engine in (one, two, three):
        engine.close()


@pytest.mark.parametrize("reloaded", [False, True])
def test_an_event_in_a_clock_changes_repeated_hour_sent_again_is_a_duplicate(
    tmp_path: Path, reloaded: bool
) -> None:
    from zoneinfo import ZoneInfo

    from sla_engine import ContactRuleError, RecordOutcome

    paris = ZoneInfo("Europe/Paris")
    engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / "s.db"), clock=lambda: NOW)
    received = _event("r", "C", "received", dt.datetime(2027, 10, 30, 9, tzinfo=paris))
    # 2:30 happens twice in Paris on 31 October 2027 (fold 0: summer time, 1: winter).
    first = dt.datetime(2027, 10, 31, 2, 30, tzinfo=paris)
    acknowledged = _event("a", "C", "acknowledged", first)
    engine.record_many([received, acknowledged])
    if reloaded:
        engine._recent.clear()  # read back from the store: the instant has its offset
    assert engine.record(acknowledged) is RecordOutcome.DUPLICATE
    # The same wall-clock time an hour later is another instant: not the same event.
    later = attrs.evolve(acknowledged, occurred_at=first.replace(fold=1))
    with pytest.raises(ContactRuleError, match="already recorded with other content"):
        engine.record(later)
    engine.close()


# -- the memory view keeps encoded rows too ------------------------------------------------


def _memory_state(engine: SlaEngine) -> dict[str, Any]:
    timers = sorted(engine.stored_timers(), key=lambda t: t.key)
    as_of = max(t.as_of for t in timers) + dt.timedelta(days=40)
    return {
        # As stored (one encoding), so that instants compare as written.
        "timers": [timer_row(t) for t in timers],
        "worklist": [timer_row(t) for t in engine.worklist(before=as_of, now=as_of)],
        "one": [timer_row(t) for t in engine.timers(timers[0].contact_id, now=as_of)],
        "review": json.dumps(build_report(engine, jobs=1), sort_keys=True, default=str),
    }


def test_in_memory_a_replay_gives_what_a_sqlite_store_gives(tmp_path: Path) -> None:
    from .replay_support import generated

    log = tmp_path / "log.csv"
    generated(log, contacts=400, seed=11, start=dt.date(2025, 3, 3), end=dt.date(2025, 6, 27))
    states = {}
    for name, store, columnar in (
        ("memory", "memory", True),
        ("memory rows", "memory", False),
        ("sqlite", str(tmp_path / "s.db"), True),
    ):
        engine = SlaEngine("marianne-besancon", "fr", store=store, clock=lambda: NOW)
        replay(engine, [log], columnar=columnar, block_lines=300)
        states[name] = _memory_state(engine)
        if name == "memory":  # the columnar replay's rows are kept as rows
            kept = engine.view._timers.values()  # type: ignore[attr-defined]
            assert sum(isinstance(t, ViewRows) for t in kept) > 200
        engine.close()
    assert len(states["sqlite"]["timers"]) > 300
    assert states["memory"] == states["sqlite"]
    assert states["memory rows"] == states["sqlite"]


def _march_in_memory(folder: Path) -> tuple[Path, SlaEngine]:
    """A log of 60 contacts in March 2025, and a new in-memory engine to replay it into."""
    from .replay_support import generated

    log = folder / "log.csv"
    generated(log, contacts=60, seed=5, start=dt.date(2025, 3, 3), end=dt.date(2025, 3, 28))
    return log, SlaEngine("marianne-besancon", "fr", store="memory", clock=lambda: NOW)


def test_in_memory_a_block_waits_for_earlier_events_the_view_has_not_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log, engine = _march_in_memory(tmp_path)
    record_bulk, project_in_memory = SlaEngine._record_bulk, SlaEngine._project_in_memory
    projected: list[bool] = []

    def early_first(self: SlaEngine, stored: Any, timers: Any) -> None:
        if not projected:  # before the first block: events the view has not seen
            self.record_many(_contact("EARLY", 3, True), project=False)
            self._unprojected.clear()  # forgotten: only the store knows of them
        record_bulk(self, stored, timers)

    def counted(self: SlaEngine, before: int | None, count: int, timers: Any) -> bool:
        done = project_in_memory(self, before, count, timers)
        projected.append(done)
        return done

    monkeypatch.setattr(SlaEngine, "_record_bulk", early_first)
    monkeypatch.setattr(SlaEngine, "_project_in_memory", counted)
    replay(engine, [log], block_lines=50)
    assert projected[0] is False  # left to a catch-up, which took EARLY too
    assert True in projected[1:]
    assert {t.contact_id for t in engine.view.contact_timers("EARLY")} == {"EARLY"}
    reference = SlaEngine("marianne-besancon", "fr", store="memory", clock=lambda: NOW)
    reference.record_many(_contact("EARLY", 3, True))
    replay(reference, [log], columnar=False)
    assert [timer_row(t) for t in sorted(engine.stored_timers(), key=lambda t: t.key)] == [
        timer_row(t) for t in sorted(reference.stored_timers(), key=lambda t: t.key)
    ]
    engine.close()
    reference.close()


TWO_STOPS = """
[catalogue]
id = "two-stops"
title = "Two ways to stop"
version = "1"
calendar = "fr"

[[engagement]]
id = "first-word-5"
title = "Nous vous répondons ou accusons réception sous 5 jours ouvrés."
source = "tests/test_recording_path.py"
kind = "response"
when = { channel = ["email"] }
start = "received"
stop = ["acknowledged", "answered"]
target = "5 jours ouvrés"
"""


def test_a_clock_changes_repeated_hour_keeps_events_in_time_order(tmp_path: Path) -> None:
    """The first stop event is the earliest instant, not the earliest wall-clock time."""
    from zoneinfo import ZoneInfo

    from sla_engine import parse_catalogue

    paris = ZoneInfo("Europe/Paris")
    catalogue = parse_catalogue(TWO_STOPS)

    # 26 October 2025: 2:00-3:00 happens twice in Paris. The answer, at 2:20
    # summer time (00:20 UTC), comes before the acknowledgement at 2:10
    # winter time (01:10 UTC), though its wall-clock time is later.
    history = [
        _event("r", "C", "received", dt.datetime(2025, 10, 25, 9, tzinfo=paris)),
        _event("ack", "C", "acknowledged", dt.datetime(2025, 10, 26, 2, 10, fold=1, tzinfo=paris)),
        _event("ans", "C", "answered", dt.datetime(2025, 10, 26, 2, 20, fold=0, tzinfo=paris)),
    ]
    for store in ("memory", str(tmp_path / "s.db")):
        engine = SlaEngine(catalogue, "fr", store=store, clock=lambda: NOW)
        engine.record_many(history)
        assert [e.event_id for e in engine.history("C")] == ["r", "ans", "ack"]
        (timer,) = engine.stored_timers()
        assert timer.stopped_at is not None
        answered_at = dt.datetime(2025, 10, 26, 0, 20, tzinfo=dt.UTC)
        assert timer.stopped_at.astimezone(dt.UTC) == answered_at
        in_order = engine.history("C")
        assert [timer_row(t) for t in engine.stored_timers()] == [
            timer_row(t) for t in evaluate_contact(in_order, catalogue, engine.calendar_for)
        ]
        engine.close()


def test_a_history_keeps_none_of_the_callers_attributes(tmp_path: Path) -> None:
    attributes = {"dossier": "A-1"}
    engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / "s.db"), clock=lambda: NOW)
    received = _event(
        "r",
        "C",
        "received",
        dt.datetime(2025, 3, 3, 9, tzinfo=dt.UTC),
        recorded_at=NOW,
        attributes=attributes,
    )
    engine.record(received)
    received.attributes["dossier"] = "changed afterwards"  # type: ignore[index]
    assert engine.history("C")[0].attributes == {"dossier": "A-1"}
    assert engine.record(attrs.evolve(received, attributes={"dossier": "A-1"})).value == (
        "duplicate"
    )
    engine.close()


def test_in_memory_a_query_in_another_thread_may_project_a_block_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from eventsourcing.popo import POPOApplicationRecorder

    log, engine = _march_in_memory(tmp_path)
    insert = POPOApplicationRecorder.insert_events
    caught_up: list[int] = []

    def then_a_query(recorder: Any, stored: Any, **kwargs: Any) -> Any:
        ids = insert(recorder, stored, **kwargs)
        if len(stored) > 5:  # a block: another thread's query catches the view up
            engine._catch_up()
            caught_up.append(len(stored))
        return ids

    monkeypatch.setattr(POPOApplicationRecorder, "insert_events", then_a_query)
    replay(engine, [log], block_lines=50)
    assert caught_up
    reference = SlaEngine("marianne-besancon", "fr", store="memory", clock=lambda: NOW)
    monkeypatch.setattr(POPOApplicationRecorder, "insert_events", insert)
    replay(reference, [log], columnar=False)
    assert [timer_row(t) for t in sorted(engine.stored_timers(), key=lambda t: t.key)] == [
        timer_row(t) for t in sorted(reference.stored_timers(), key=lambda t: t.key)
    ]
    engine.close()
    reference.close()


def test_a_view_that_fails_in_the_events_transaction_leaves_the_events_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sla_engine._view import SQLiteTimerView

    store = tmp_path / "s.db"
    engine = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
    write = SQLiteTimerView.write
    failures: list[str] = []

    def fails_once(view: SQLiteTimerView, cursor: Any, *args: Any, **kwargs: Any) -> None:
        write(view, cursor, *args, **kwargs)  # written, then undone with its savepoint
        if not failures:
            failures.append("view")
            raise OSError("the view's write failed")

    monkeypatch.setattr(SQLiteTimerView, "write", fails_once)
    engine.record_many(_contact("A", 3, True) + _contact("B", 4, False))
    assert failures == ["view"]
    with sqlite3.connect(store) as db:
        stored = db.execute(
            "SELECT originator_id, originator_version FROM stored_events "
            "WHERE topic LIKE 'sla_engine._contact:%' ORDER BY 1, 2"
        ).fetchall()
    assert stored == [("A", 1), ("A", 2), ("B", 1)]
    # The catch-up after it projected them (and once only: a second write
    # of the same rows would break the view's primary key).
    assert {row[0] for row in _view_of(store)} == {"A", "B"}
    engine.close()


_KINDS = [
    "received",
    "acknowledged",
    "answered",
    "closed",
    "suspended",
    "resumed",
    "reopened",
    "escalated",
    "holding_reply",
]


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(_KINDS),
            st.integers(min_value=-3, max_value=40),  # hours after the receipt: some before it
            st.booleans(),  # an escalation with the engine's own id
        ),
        max_size=14,
    )
)
def test_recording_in_order_decides_as_the_whole_history_check(
    steps: list[tuple[str, int, bool]],
) -> None:
    """A contact keeps the rules' state of its history: it refuses exactly what
    :func:`check_history` of the whole history with the new event refuses, for
    the same reason, whether events come in time order or not."""
    from sla_engine._contact import ENGINE_EVENT_PREFIX, ContactRuleError, check_history

    start = dt.datetime(2025, 10, 6, 9, tzinfo=dt.UTC)
    contact = Contact.receive(_event("e0", "c", "received", start), NOW)
    accepted = list(contact.history)
    for n, (kind, hours, engine_id) in enumerate(steps, 1):
        prefix = ENGINE_EVENT_PREFIX if engine_id and kind == "escalated" else ""
        event = _event(f"{prefix}e{n}", "c", kind, start + dt.timedelta(hours=hours))
        expected: ContactRuleError | None = None
        try:
            check_history([*accepted, event], "c", event.event_id)
        except ContactRuleError as error:
            expected = error
        if expected is None:
            contact.record(event, NOW)
            accepted.append(event)
        else:
            with pytest.raises(ContactRuleError) as refused:
                contact.record(event, NOW)
            assert (refused.value.code, str(refused.value)) == (expected.code, str(expected))
        in_time_order = sorted(accepted, key=lambda e: (e.occurred_at, e.type != "received"))
        assert [e.event_id for e in contact.history] == [e.event_id for e in in_time_order]


@settings(max_examples=200, deadline=None)
@given(
    at=st.datetimes(
        min_value=dt.datetime(1900, 1, 1),
        max_value=dt.datetime(2090, 12, 31),
        timezones=st.builds(
            dt.timezone,
            st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23)),
        ),
    ),
    moved=st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3)),
)
def test_an_events_stored_instant_text_is_its_isoformat_however_it_was_made(
    at: dt.datetime, moved: dt.timedelta
) -> None:
    made = _event("e1", "c1", "received", at, channel="email")
    assert made.occurred_text == at.isoformat()
    copy = made.recorded(NOW)  # a copy of an event whose text is worked out already
    assert copy.occurred_text == at.isoformat()
    later = attrs.evolve(made, occurred_at=at + moved)  # the text of the new instant
    assert later.occurred_text == (at + moved).isoformat()
    read = ContactEvent.from_stored("e1", "c1", made.type, at, NOW, made.payload())
    assert read.occurred_text == at.isoformat()
    assert read == copy
    assert later.occurred_us - made.occurred_us == moved // dt.timedelta(microseconds=1)


def test_an_event_pickled_without_its_stored_text_still_gives_it() -> None:
    # Events pickled by a version before the text had a slot come back without it.
    at = dt.datetime(2025, 10, 17, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    made = _event("e1", "c1", "received", at, channel="email")
    state = made.__getstate__()
    del state["_occurred_text"]
    old = ContactEvent.__new__(ContactEvent)
    old.__setstate__(state)
    assert old == made
    assert old.occurred_text == "2025-10-17T09:30:00+02:00"


def test_a_recording_instant_that_is_no_datetime_is_refused_as_before() -> None:
    from sla_engine._contact import check_instant

    made = _event("e1", "c1", "received", NOW, channel="email")
    with pytest.raises(TypeError):
        check_instant(made, None)  # type: ignore[arg-type]
