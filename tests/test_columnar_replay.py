"""The columnar replay records, projects and rejects exactly what the row-by-row replay does.

Each log is replayed twice into a new SQLite store, with the same clock:
row by row (``columnar=False``) and columnar (small blocks, so that
contacts are held back across blocks and later rows of stored contacts
go the ordinary way).  Every stored event (its bytes and version), every
timer, the rejects and the review must be the same; only the order in
which different contacts' events were appended to the log may differ.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import typing
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from sla_engine import ContactEvent, EventType, SlaEngine, _bulk
from sla_engine._errors import DataError, SlaEngineError
from sla_engine._replay import replay
from sla_engine._report import build_report

from .postgres_server import database_fixture, postgres_url
from .replay_support import NOW, generated, outcome, replayed, stored_rows

pg_rows = database_fixture("pg_rows", scope="function")
pg_columns = database_fixture("pg_columns", scope="function")


def _same(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, catalogue: str = "marianne-besancon"
) -> dict[str, Any]:
    rows = replayed(log, tmp_path / "rows.db", columnar=False, catalogue=catalogue)
    stored_in_bulk: list[int] = []
    record_bulk = SlaEngine._record_bulk

    def counted(engine: SlaEngine, stored: Any, contacts: Any) -> None:
        stored_in_bulk.append(len(stored))  # StoredColumns
        record_bulk(engine, stored, contacts)

    monkeypatch.setattr(SlaEngine, "_record_bulk", counted)
    columns = replayed(log, tmp_path / "columns.db", columnar=True, catalogue=catalogue)
    for key in rows:
        assert rows[key] == columns[key], key
    in_one_process = sum(stored_in_bulk)
    # Read in a second process (which knows nothing of this test's patches: its
    # blocks are given here, its hold-backs are the real ones).
    stored_in_bulk.clear()
    read_apart = replayed(
        log, tmp_path / "apart.db", columnar=True, jobs=2, block_lines=5, catalogue=catalogue
    )
    for key in rows:
        assert rows[key] == read_apart[key], key
    return rows | {"stored_in_bulk": in_one_process, "stored_apart": sum(stored_in_bulk)}


def _hold_back(monkeypatch: pytest.MonkeyPatch, days: int) -> None:
    monkeypatch.setattr(_bulk, "_QUIET_US", days * 86_400_000_000)
    monkeypatch.setattr(_bulk, "_ANSWERED_QUIET_US", days // 2 * 86_400_000_000)


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_bulk, "BLOCK_LINES", 5)
    # Contacts stored at the end of their first block: their later rows go the ordinary way.
    _hold_back(monkeypatch, 0)


@pytest.mark.parametrize(("seed", "quiet_days"), [(3, 7), (4, 0)])
def test_a_generated_log_with_every_kind_of_bad_row(
    seed: int, quiet_days: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hold_back(monkeypatch, quiet_days)
    log = tmp_path / "log.csv.gz"
    written = generated(
        log,
        contacts=400,
        seed=seed,
        start=dt.date(2025, 1, 6),
        end=dt.date(2025, 5, 30),
        malformed=0.08,
    )
    rows = _same(log, tmp_path, monkeypatch)
    total, recorded, _, rejected = rows["summary"]
    assert total == written.rows
    assert rejected >= len(written.corrupted) > 20
    assert recorded > 900
    # Not all of it went the columnar way: pauses, reopenings, bad rows and, held
    # back for a week, contacts with events over more than a week's blocks.
    assert recorded * (0.5 if quiet_days else 0.2) < rows["stored_in_bulk"] < recorded
    # Read apart, with blocks of 5 lines and contacts held back up to 60 days.
    assert recorded * 0.5 < rows["stored_apart"] < recorded


@pytest.mark.parametrize("catalogue", ["qualicirco", "services-publics-plus", "eduform"])
def test_every_shipped_catalogue_gives_the_same_view(
    catalogue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their engagements take every way through the columnar evaluation: view rows
    filled from templates, timers of the plain evaluator, evaluate_contact itself."""
    _hold_back(monkeypatch, 7)
    log = tmp_path / "log.csv"
    generated(
        log,
        contacts=250,
        seed=21,
        start=dt.date(2025, 4, 22),
        end=dt.date(2025, 7, 11),
        malformed=0.02,
    )
    rows = _same(log, tmp_path, monkeypatch, catalogue=catalogue)
    assert rows["view"]
    assert 0 < rows["stored_in_bulk"] < rows["summary"][1]


def test_contacts_the_columnar_path_must_leave_to_the_row_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "odd.csv"
    header = (
        "event_id,contact_id,type,occurred_at,recorded_at,channel,category,priority,service,"
        "attributes"
    )
    rows = [
        # plain
        "a1,A,received,2025-03-03T09:00:00+01:00,,email,information,normal,DSDEN,",
        'a2,A,acknowledged,2025-03-03T10:00:00+01:00,,,,,,"{""announced_delay"": ""10 jours""}"',
        "a3,A,answered,2025-03-05T10:00:00+01:00,,,,,,",
        # answered first in the log, received later (waits for it)
        "b2,B,answered,2025-03-06T10:00:00+01:00,,,,,,",
        "b1,B,received,2025-03-04T09:00:00+01:00,2025-03-07T09:00:00+01:00,letter,complaint,urgent,,",
        # paused: the aggregate's rules
        "c1,C,received,2025-03-03T09:00:00+01:00,,email,,,,",
        'c2,C,suspended,2025-03-04T09:00:00+01:00,,,,,,"{""reason"": ""pieces""}"',
        "c3,C,resumed,2025-03-06T09:00:00+01:00,,,,,,",
        # an id with a space, a time in UTC written Z, padded fields
        "d 1,D,received,2025-03-03T09:00:00Z,,email,,,,",
        "e1, E ,received,2025-03-03T09:00:00+01:00,, courriel ,,,,",
        "e2,E,answered,2025-03-04T09:00:00+01:00,,,,,,",
        # a duplicate, an id reused with other content
        "f1,F,received,2025-03-03T09:00:00+01:00,,web,,,,",
        "f1,F,received,2025-03-03T09:00:00+01:00,,web,,,,",
        "f2,F,answered,2025-03-04T09:00:00+01:00,,,,,,",
        "f2,F,answered,2025-03-05T09:00:00+01:00,,,,,,",
        # after closed; two received
        "g1,G,received,2025-03-03T09:00:00+01:00,,email,,,,",
        "g2,G,closed,2025-03-04T09:00:00+01:00,,,,,,",
        "g3,G,answered,2025-03-05T09:00:00+01:00,,,,,,",
        "h1,H,received,2025-03-03T09:00:00+01:00,,email,,,,",
        "h2,H,received,2025-03-03T10:00:00+01:00,,email,,,,",
        # in the future of its recording, out of the calendars' years, a naive time
        "i1,I,received,2025-03-10T09:00:00+01:00,2025-03-03T09:00:00+01:00,email,,,,",
        "j1,J,received,1700-03-03T09:00:00+01:00,,email,,,,",
        "k1,K,received,2025-03-03T09:00:00,,email,,,,",
        # an unknown type, a bad channel, too many and too few columns, a stray quote
        "l1,L,received,2025-03-03T09:00:00+01:00,,pigeon,,,,",
        "m1,M,arrived,2025-03-03T09:00:00+01:00,,email,,,,",
        "n1,N,received,2025-03-03T09:00:00+01:00,,email,,,,,extra",
        "o1,O,received,2025-03-03T09:00:00+01:00,,email",
        "",
        "   ",
        # a requester in the attributes, a reason that is free text, rings
        'q1,Q,received,2025-03-03T09:00:00+01:00,,email,,,,"{""rings"": 3}"',
        'v1,V,received,2025-03-03T09:00:00+01:00,,email,,,,"{""requester"": ""R-12""}"',
        "v2,V,answered,2025-03-04T09:00:00+01:00,,,,,,",
        "q2,Q,escalated,2025-03-04T09:00:00+01:00,,,,,,"
        '"{""to"": ""N+1"", ""reason"": ""le chef a dit""}"',
        "q3,Q,answered,2025-03-20T09:00:00+01:00,2025-03-21T09:00:00+01:00,,,,,",
        # a later row of a contact stored in an earlier block
        "a4,A,closed,2025-04-20T10:00:00+01:00,,,,,,",
        "a5,A,reopened,2025-04-21T10:00:00+01:00,,,,,,",
        # an event of a contact stored long ago, and one never received
        "z1,Z,answered,2025-03-03T09:00:00+01:00,,,,,,",
        "r1,R,received,2025-02-30T09:00:00+01:00,,email,,,,",
        "s1,S,received,2025-03-03T09:00:00+01:00,,email,,,,",
        "s2,S,answered,2025-03-03T09:00:00+01:00,,,,,,",
        "t1,T,received,2025-03-03T09:00:00+01:00,,email,,,,",
        "t2,T,closed,2025-03-04T09:00:00+01:00,,,,,,",
        "t3,T,acknowledged,2025-03-04T09:00:00+01:00,,,,,,",
        # a stray quote: the rest of the log is read row by row
        'p1,P"x,received,2025-03-03T09:00:00+01:00,,email,,,,',
        "u1,U,received,2025-03-03T09:00:00+01:00,,email,,,,",
    ]
    log.write_text("\ufeff" + header + "\r\n" + "\r\n".join(rows) + "\r\n", encoding="utf-8")
    result = _same(log, tmp_path, monkeypatch)
    _, recorded, duplicates, rejected = result["summary"]
    assert duplicates == 1
    assert recorded > 15
    assert rejected > 10
    assert 0 < result["stored_in_bulk"] < recorded


def test_a_quoted_line_end_or_bad_bytes_send_the_rest_of_the_log_to_the_row_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = b"event_id,contact_id,type,occurred_at,channel,attributes\n"
    lines = [
        f"x{i},X{i},received,2025-03-03T09:{i:02d}:00+01:00,email,".encode() for i in range(20)
    ]
    lines[15] = b'q7,Q,received,2025-03-03T09:00:00+01:00,email,"{""note"": ""a\nb""}"'
    lines[17] = b"y12,Y,received,2025-03-03T09:00:00+01:00,\xff\xfe,"
    for name, body in (("quoted", lines), ("bytes", lines[:15] + lines[16:])):
        folder = tmp_path / name
        folder.mkdir()
        log = folder / "log.csv"
        log.write_bytes(header + b"\n".join(body) + b"\n")
        result = _same(log, folder, monkeypatch)
        # The blocks before the odd line went the columnar way.
        assert 0 < result["stored_in_bulk"] < result["summary"][1]


def test_a_semicolon_log_with_a_mapping_gives_the_same(tmp_path: Path) -> None:
    from sla_engine._logs import load_mapping

    mapping_file = tmp_path / "mapping.toml"
    mapping_file.write_text(
        '[columns]\nevent_id = "id"\ncontact_id = "dossier"\ntype = "evenement"\n'
        'occurred_at = "date"\nchannel = "canal"\n'
        '[values.type]\n"Réception" = "received"\n"Réponse" = "answered"\n'
    )
    log = tmp_path / "export.csv"
    log.write_text(
        # A column the log format does not know ("agent"): read past, never stored.
        "id;dossier;evenement;date;canal;agent\n"
        "1;D1;Réception;2025-03-03T09:00:00+01:00;courriel;A. Martin\n"
        "2;D1;Réponse;2025-03-20T09:00:00+01:00;;A. Martin\n"
        "3;D2;Réception;2025-03-04T09:00:00+01:00;Courrier;B. Durand\n",
        encoding="utf-8",
    )
    mapping = load_mapping(mapping_file)
    out = []
    for columnar in (False, True):
        store = tmp_path / f"{columnar}.db"
        engine = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
        summary = replay(engine, [log], mapping=mapping, columnar=columnar)
        out.append((summary.recorded, [t.to_dict() for t in engine.all_timers(now=NOW)]))
        engine.close()
        # The agent's name is not kept (the store's file and its log, if any).
        assert not any(b"Martin" in f.read_bytes() for f in tmp_path.glob(f"{store.name}*"))
        assert b"D1" in store.read_bytes()
    assert out[0] == out[1]
    assert out[0][0] == 3


def test_when_the_columnar_path_cannot_be_used(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        "event_id,contact_id,type,occurred_at,channel\n"
        "1,A,received,2025-03-03T09:00:00+01:00,email\n",
        encoding="utf-8",
    )
    engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / "s.db"), clock=lambda: NOW)
    assert replay(engine, [log], columnar=True).recorded == 1
    # Run again: the store holds contacts, every row is checked against it.
    with pytest.raises(SlaEngineError, match="the store already holds contacts"):
        replay(engine, [log], columnar=True)
    assert replay(engine, [log]).duplicates == 1
    engine.close()
    keyed = SlaEngine(
        "marianne-besancon", "fr", store="memory", clock=lambda: NOW, pseudonym_key=b"k" * 16
    )
    with pytest.raises(SlaEngineError, match="requesters are pseudonymised"):
        replay(keyed, [log], columnar=True)
    assert replay(keyed, [log]).recorded == 1


def test_a_gzip_log_and_json_lines(tmp_path: Path) -> None:
    plain = (
        "event_id,contact_id,type,occurred_at,channel\n"
        "1,A,received,2025-03-03T09:00:00+01:00,email\n"
        "2,A,answered,2025-03-05T09:00:00+01:00,\n"
    )
    gz = tmp_path / "log.csv.gz"
    gz.write_bytes(gzip.compress(plain.encode()))
    jl = tmp_path / "log.jsonl"
    jl.write_text(
        json.dumps({"event_id": "3", "contact_id": "B", "type": "received",
                    "occurred_at": "2025-03-03T09:00:00+01:00", "channel": "web"}) + "\n"
        + json.dumps({"event_id": "3b", "contact_id": "A", "type": "closed",
                      "occurred_at": "2025-03-06T09:00:00+01:00"}) + "\n"
    )  # fmt: skip
    engine = SlaEngine("marianne-besancon", "fr", store="memory", clock=lambda: NOW)
    summary = replay(engine, [gz, jl], columnar=True)
    assert (summary.rows, summary.recorded, summary.rejected) == (4, 4, 0)
    assert [e.type.value for e in engine.history("A")] == ["received", "answered", "closed"]


def test_a_report_counts_the_view_as_stored_as_it_counts_timer_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review read from a database view's rows equals the review of its Timer objects."""
    log = tmp_path / "log.csv"
    generated(
        log,
        contacts=500,
        seed=8,
        start=dt.date(2025, 8, 25),
        end=dt.date(2026, 1, 30),
        malformed=0.02,
    )
    # Taken on the evening of the last day of arrivals: timers still running, some
    # at risk, some expiring within hours (the generator runs on for weeks after).
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    log.write_text(
        lines[0] + "".join(x for x in lines[1:] if x.split(",")[3][:10] <= "2026-01-30"),
        encoding="utf-8",
    )
    store = tmp_path / "store.db"
    engine = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
    replay(engine, [log])
    last = engine.last_event_at()
    assert last is not None
    cases = [
        {},
        {"by": ["engagement", "channel", "category", "service", "month", "school-year"]},
        {"start": dt.date(2025, 10, 1), "end": dt.date(2025, 12, 31), "by": ["month"]},
        {"as_of": last + dt.timedelta(days=40), "lang": "en"},
        # Timers expiring within the day after the last event: some overdue, some not.
        {"as_of": last + dt.timedelta(hours=20)},
    ]
    for case in cases:
        from_rows = build_report(engine, **case)  # type: ignore[arg-type]
        with monkeypatch.context() as patch:
            patch.setattr(engine.view, "timer_records", lambda: None)
            from_timers = build_report(engine, **case)  # type: ignore[arg-type]
        assert from_rows == from_timers, case
        states = {e["id"]: e for e in from_rows["engagements"]}
        assert sum(e["overdue"] + e["pending"] for e in states.values()) > 0
        assert sum(e["late"] for e in states.values()) > 0
    engine.close()


def test_postgresql_gets_the_same_events_timers_and_review(
    tmp_path: Path, pg_rows: dict[str, str], pg_columns: dict[str, str]
) -> None:
    log = tmp_path / "log.csv"
    generated(
        log,
        contacts=300,
        seed=5,
        start=dt.date(2025, 3, 3),
        end=dt.date(2025, 6, 27),
        malformed=0.03,
    )
    results = []
    for database, columnar in ((pg_rows, False), (pg_columns, True)):
        engine = SlaEngine(
            "marianne-besancon", "fr", store=postgres_url(database), clock=lambda: NOW
        )
        rejects = io.StringIO()
        summary = replay(engine, [log], rejects=rejects, columnar=columnar)
        histories = sorted(
            (h[0].contact_id, [(e, e.recorded_at) for e in h]) for h in engine.histories()
        )
        timers = sorted(
            (t.to_dict() for t in engine.all_timers(now=NOW)),
            key=lambda t: (t["contact_id"], t["engagement_id"], t["cycle"]),
        )
        report = build_report(engine)
        report.pop("generated_at", None)
        results.append(
            (summary.rows, summary.recorded, summary.rejected, histories, timers, report,
             sorted(rejects.getvalue().splitlines()))
        )  # fmt: skip
        engine.close()
    assert results[0] == results[1]
    assert results[0][1] > 700


_HEADER = "event_id,contact_id,type,occurred_at,channel\n"
_ROW = "a1,A,received,2025-03-03T09:00:00+01:00,email"
_LONG = "a1,A,received,2025-03-03T09:00:00+01:00," + " " * (65536 - 45) + "email"
# Found by a differential fuzzer: each of these was read one way by the columnar
# reader and another by the ordinary one.
AWKWARD = {
    "a line of \\x1c, blank to str.strip": _HEADER + _ROW + "\n\x1c\n",
    "a quote that opens a field after a stray one": _HEADER
    + 'a"1,"A,received,2025-03-03T09:00:00+01:00,email\n'
    + "b1,B,received,2025-03-03T09:00:00+01:00,email\n",
    "a carriage return inside a field": "event_id,contact_id,type,occurred_at,channel,category,"
    "service\n" + _ROW + ",\r,\n",
    "a carriage return inside the header": "event_id,contact_id\r,type,occurred_at,channel\n"
    + _ROW
    + "\n",
    "recorded in the year 9999": "event_id,contact_id,type,occurred_at,recorded_at,channel\n"
    "a1,A,received,2025-03-03T09:00:00+01:00,9999-12-31T12:00:00+00:00,email\n",
    "happened past 9999 in UTC": _HEADER + "a1,A,received,9999-12-31T23:00:00-05:00,email\n",
    "a last line of 64 KiB without its newline": _HEADER + _LONG,
    "a header over 64 KiB": _HEADER.rstrip("\n") + "," + "z" * 70000 + "\n" + _ROW + ",\n",
    "a line over 64 KiB in the middle": _HEADER + _ROW + "\n" + _LONG + "xx\n" + "b" + _ROW[1:],
}


@pytest.mark.parametrize("name", sorted(AWKWARD))
def test_awkward_lines_are_read_the_same_way(name: str, tmp_path: Path) -> None:
    assert len(_LONG.encode()) == 65536  # MAX_ROW_BYTES: a row of exactly that, no newline
    log = tmp_path / "log.csv"
    log.write_bytes(AWKWARD[name].encode())
    rows = outcome(log, tmp_path / "rows.db", catalogue="marianne-besancon", columnar=False)
    columns = outcome(log, tmp_path / "columns.db", catalogue="marianne-besancon", columnar=True)
    assert rows == columns


def test_a_damaged_gzip_log_is_reported_the_same_way(tmp_path: Path) -> None:
    log = tmp_path / "log.csv.gz"
    generated(
        log,
        contacts=600,
        seed=2,
        start=dt.date(2025, 3, 3),
        end=dt.date(2025, 5, 30),
    )
    data = log.read_bytes()
    log.write_bytes(data[: len(data) * 2 // 3])  # cut short
    errors = []
    for columnar in (False, True):
        engine = SlaEngine(
            "marianne-besancon", "fr", store=str(tmp_path / f"{columnar}.db"), clock=lambda: NOW
        )
        with pytest.raises(SlaEngineError, match="the compressed file is damaged after line") as e:
            replay(engine, [log], columnar=columnar)
        errors.append(str(e.value))
        engine.close()
    assert errors[0] == errors[1]


def test_a_damaged_gzip_log_keeps_every_row_read_before_the_damage(tmp_path: Path) -> None:
    # Columnar, row by row, or read in a second process: the replay stops with
    # the damage, but only after recording and projecting every row before it,
    # exactly as a replay of those rows alone would (none is lost in a batch
    # or a block not yet stored).
    whole = tmp_path / "whole.csv.gz"
    generated(whole, contacts=200, seed=2, start=dt.date(2025, 3, 3), end=dt.date(2025, 4, 30))
    data = whole.read_bytes()
    log = tmp_path / "log.csv.gz"
    log.write_bytes(data[: len(data) * 2 // 3])  # cut short
    outcomes = []
    for name, options in {
        "rows": {"columnar": False},
        "rows, read apart": {"columnar": False, "jobs": 2},
        "columnar": {"columnar": True},
        "columnar, read apart": {"columnar": True, "jobs": 2, "block_lines": 5},
    }.items():
        store = tmp_path / f"{name}.db"
        with pytest.raises(SlaEngineError, match="the compressed file is damaged after") as e:
            replayed(log, store, catalogue="marianne-besancon", **options)
        lines_read = typing.cast(int, typing.cast(DataError, e.value).line) - 1
        # What the replay left (its view projected to the last event it stored).
        engine = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: NOW)
        assert engine.view.max_tracking_id(engine.name) == engine.recorder.max_notification_id()
        engine.close()
        outcomes.append((name, lines_read, stored_rows(store)))
    readable = tmp_path / "readable.csv"
    text = gzip.decompress(data).decode()
    readable.write_text("".join(text.splitlines(keepends=True)[: outcomes[0][1]]))
    expected = replayed(readable, tmp_path / "readable.db", catalogue="marianne-besancon")
    assert len(expected["events"]) > 300
    for name, lines_read, stored in outcomes:
        assert lines_read == outcomes[0][1], name
        assert stored == (expected["events"], expected["view"]), name


@pytest.mark.parametrize("jobs", [1, 2])
def test_events_another_process_records_during_the_replay_are_projected_too(
    jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A block's timers go into its own transaction only when the view has
    # projected every earlier event: here another engine on the same file
    # records a contact (not projected) between two blocks, so the next
    # block's timers wait for the ordinary catch-up, which projects both.
    log = tmp_path / "log.csv"
    generated(log, contacts=60, seed=9, start=dt.date(2025, 3, 3), end=dt.date(2025, 3, 28))
    store = str(tmp_path / "s.db")
    engine = SlaEngine("marianne-besancon", "fr", store=store, clock=lambda: NOW)
    other = SlaEngine("marianne-besancon", "fr", store=store, clock=lambda: NOW)
    intruder = ContactEvent(
        event_id="X1",
        contact_id="OTHER-1",
        type=EventType.RECEIVED,
        occurred_at=dt.datetime(2025, 3, 4, 9, tzinfo=dt.UTC),
        channel="email",
    )
    fused: list[bool] = []
    project_stored = SlaEngine._project_stored

    def watched(self: SlaEngine, *args: Any) -> bool:
        fused.append(project_stored(self, *args))
        return fused[-1]

    monkeypatch.setattr(SlaEngine, "_project_stored", watched)
    calls = 0

    def meanwhile(rows: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            other.record_many([intruder], project=False)

    summary = replay(engine, [log], progress=meanwhile, columnar=True, jobs=jobs, block_lines=40)
    assert calls > 2
    assert summary.recorded > 100
    # Written with their block until the other engine's event, then left to the catch-up.
    assert fused[0]
    assert False in fused
    engine.project()
    stored = sorted(t.key for t in engine.stored_timers())
    assert [t.engagement_id for t in engine.timers("OTHER-1", now=NOW)] == ["email-5"]
    engine.rebuild_view()  # what the log gives, projected again from scratch
    assert sorted(t.key for t in engine.stored_timers()) == stored
    other.close()
    engine.close()


def test_the_contacts_seen_are_found_among_a_block_s() -> None:
    seen = _bulk.SeenContacts()
    assert seen.among(pl.Series(["A", "B"])) == []
    seen.add_all(pl.Series([f"C{i}" for i in range(0, 1000, 2)]))
    seen.add("row-path-1")  # one at a time, hashed with the next lookup
    seen.add_all(pl.Series(["Z"]))
    block = pl.Series(["C0", "C1", "C998", "C999", "row-path-1", "Z", "Y", "C10"])
    assert sorted(seen.among(block)) == ["C0", "C10", "C998", "Z", "row-path-1"]
    assert seen.among(pl.Series([], dtype=pl.String)) == []


def test_a_calendar_set_in_python_reaches_the_reading_process(tmp_path: Path) -> None:
    # Closures and a working week are not in the calendar's spec: the reading
    # process gets the calendar itself, and its deadlines are those of one process.
    from sla_engine._calendar import calendar

    log = tmp_path / "log.csv"
    generated(log, contacts=150, seed=12, start=dt.date(2025, 3, 3), end=dt.date(2025, 5, 30))
    own = calendar("fr").with_closures(dt.date(2025, 4, 14), dt.date(2025, 5, 2))
    own = own.with_working_week("mar-sam")
    views = []
    for jobs in (1, 2):
        store = tmp_path / f"{jobs}.db"
        engine = SlaEngine("marianne-besancon", own, store=str(store), clock=lambda: NOW)
        replay(engine, [log], columnar=True, jobs=jobs, block_lines=50)
        views.append(sorted(t.to_dict().items() for t in engine.stored_timers()))
        engine.close()
    assert views[0] == views[1]
    plain = SlaEngine("marianne-besancon", "fr", store="memory", clock=lambda: NOW)
    replay(plain, [log], columnar=True)
    assert sorted(t.to_dict().items() for t in plain.stored_timers()) != views[0]


def test_a_block_s_encoded_timers_go_back_to_their_contacts() -> None:
    from sla_engine._engine import EncodedTimers
    from sla_engine._view import ViewRows

    rows = ViewRows(
        [
            ("A", "ack-2", 0, None, None, "[]"),
            ("A", "email-5", 0, 5, 6, "[]"),
            ("C", "ack-2", 0, None, None, "[]"),
        ]
    )
    block = EncodedTimers({"A": (3, 200), "B": (1, 900), "C": (2, 100)}, rows)
    assert block.last_us == 900
    projected = block.projected()
    assert {c: (p.version, p.last_us) for c, p in projected.items()} == {
        "A": (3, 200),
        "B": (1, 900),
        "C": (2, 100),
    }
    assert projected["A"].rows == rows[:2]
    assert projected["B"].rows == []
    assert projected["C"].rows == rows[2:]
