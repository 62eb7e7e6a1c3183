"""Tests for the synthetic log generator (sla_engine._generate)."""

from __future__ import annotations

import collections
import csv
import datetime as dt
import gzip
import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest

import sla_engine
import sla_engine._generate
from sla_engine._contact import ContactEvent, ContactRuleError, check_history
from sla_engine._generate import CORRUPTION_KINDS, HEADER, GeneratedLog, generate_log
from sla_engine._logs import LogRow, RejectedRow, read_log
from sla_engine._vocabulary import EventType

START, END = dt.date(2024, 9, 1), dt.date(2025, 8, 31)
PARIS = ZoneInfo("Europe/Paris")
TYPES = {t.value for t in EventType}


def generate(path: Path, contacts: int, **options: object) -> GeneratedLog:
    args: dict[str, object] = {
        "contacts": contacts,
        "seed": 7,
        "calendar_spec": "fr",
        "start": START,
        "end": END,
    }
    args.update(options)
    return generate_log(path, **args)  # type: ignore[arg-type]


def rows_of(path: Path) -> list[list[str]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def to_event(row: dict[str, str]) -> ContactEvent:
    """A row as the engine's event (the log format's reading, written out plainly)."""
    attributes = json.loads(row["attributes"]) if row["attributes"] else {}
    promoted = {
        k: attributes.pop(k) for k in ("announced_delay", "to", "reason") if k in attributes
    }
    return ContactEvent(
        event_id=row["event_id"],
        contact_id=row["contact_id"],
        type=row["type"],
        occurred_at=dt.datetime.fromisoformat(row["occurred_at"]),
        recorded_at=dt.datetime.fromisoformat(row["recorded_at"]) if row["recorded_at"] else None,
        channel=row["channel"] or None,
        category=row["category"] or None,
        priority=row["priority"] or None,
        service=row["service"] or None,
        attributes=attributes,
        **promoted,
    )


class Log:
    """A clean generated log, parsed once."""

    def __init__(self, path: Path, result: GeneratedLog) -> None:
        self.path = path
        self.result = result
        table = rows_of(path)
        self.header = table[0]
        self.rows = [dict(zip(HEADER, row, strict=True)) for row in table[1:]]
        self.events = [to_event(row) for row in self.rows]
        self.by_contact: dict[str, list[ContactEvent]] = collections.defaultdict(list)
        for event in self.events:
            self.by_contact[event.contact_id].append(event)
        self.received = {e.contact_id: e for e in self.events if e.type is EventType.RECEIVED}


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Log:
    path = tmp_path_factory.mktemp("generate") / "log.csv"
    return Log(path, generate(path, 5000))


class TestFormat:
    """Tests for the CSV format of generated logs."""

    def test_header_and_counts(self, log: Log) -> None:
        assert tuple(log.header) == HEADER
        assert log.path.read_bytes().startswith(b"event_id,contact_id,type,occurred_at,")
        assert log.result.contacts == len(log.received) == 5000
        assert log.result.rows == log.result.events == len(log.rows)
        assert log.result.corrupted == ()
        assert 3.0 < len(log.rows) / 5000 < 5.0

    def test_every_row_parses(self, log: Log) -> None:
        ids = [row["event_id"] for row in log.rows]
        assert len(set(ids)) == len(ids)
        for row, event in zip(log.rows, log.events, strict=True):
            assert row["type"] in TYPES
            occurred = dt.datetime.fromisoformat(row["occurred_at"])
            assert row["occurred_at"] == occurred.isoformat()  # seconds, with the offset
            assert occurred.utcoffset() == occurred.astimezone(PARIS).utcoffset()
            if row["recorded_at"]:
                assert event.recorded_at is not None
                assert event.recorded_at > event.occurred_at
            if row["attributes"]:
                assert isinstance(json.loads(row["attributes"]), dict)
            classified = row["type"] in ("received", "reclassified")
            if row["type"] == "received":
                assert all(row[f] for f in ("channel", "category", "priority", "service"))
            elif row["type"] == "reclassified":
                assert sum(bool(row[f]) for f in ("category", "priority", "service")) == 1
            elif not classified:
                assert not any(row[f] for f in ("channel", "category", "priority", "service"))

    def test_sorted_by_occurred_at_then_event_id(self, log: Log) -> None:
        keys = [(e.occurred_at, e.event_id) for e in log.events]
        assert keys == sorted(keys)

    def test_attributes(self, log: Log) -> None:
        for row in log.rows:
            attributes = json.loads(row["attributes"]) if row["attributes"] else {}
            if row["type"] == "answered" and log.received[row["contact_id"]].channel == "phone":
                assert set(attributes) == {"rings"}
                assert 1 <= attributes["rings"] <= 9
            if row["type"] == "escalated":
                assert attributes["to"] in ("N+1", "N+2")
            if row["type"] in ("suspended", "flagged_complex"):
                assert set(attributes) == {"reason"}
            for value in attributes.values():
                assert isinstance(value, int) or len(value) <= 20  # codes, never free text


class TestRealism:
    """Tests for the shape of the generated activity."""

    def test_every_contact_passes_the_engine_rules(self, log: Log) -> None:
        for contact_id, events in log.by_contact.items():
            assert events[0].type is EventType.RECEIVED
            instants = [e.occurred_at for e in events]
            assert instants == sorted(set(instants))  # strictly increasing
            check_history(events, contact_id, events[-1].event_id)

    def test_received_within_bounds_and_mostly_on_working_days(self, log: Log) -> None:
        cal = sla_engine.calendar("fr")
        days = [e.occurred_at.date() for e in log.received.values()]
        assert min(days) >= START
        assert max(days) <= END
        off = [e for e in log.received.values() if not cal.is_working_day(e.occurred_at.date())]
        assert 0 < len(off) < 0.06 * len(days)
        assert {e.channel for e in off} <= {"email", "web"}
        last = max(e.occurred_at.date() for e in log.events)
        assert END < last <= END + dt.timedelta(days=90)
        # The service acts on working days, in office hours (web forms acknowledge themselves).
        for e in log.events:
            if e.type is EventType.RECEIVED or (
                e.type is EventType.ACKNOWLEDGED and log.received[e.contact_id].channel == "web"
            ):
                continue
            assert cal.is_working_day(e.occurred_at.date()), e
            assert 8 <= e.occurred_at.hour <= 19, e

    def test_peaks(self, log: Log) -> None:
        months = collections.Counter(e.occurred_at.month for e in log.received.values())
        assert months[9] > 1.3 * months[11]
        assert months[8] < 0.7 * months[11]
        weekdays = collections.Counter(e.occurred_at.weekday() for e in log.received.values())
        assert weekdays[0] > weekdays[4]

    def test_mix(self, log: Log) -> None:
        n = len(log.received)

        def share(field: str, value: str) -> float:
            values = [str(getattr(e, field)) for e in log.received.values()]
            return values.count(value) / n

        bounds = {
            ("channel", "email"): (0.40, 0.53),
            ("channel", "web"): (0.16, 0.26),
            ("channel", "letter"): (0.11, 0.19),
            ("channel", "phone"): (0.11, 0.19),
            ("channel", "counter"): (0.03, 0.08),
            ("category", "information"): (0.62, 0.78),
            ("category", "complaint"): (0.05, 0.11),
            ("category", "suggestion"): (0.015, 0.05),
            ("category", "appointment"): (0.045, 0.10),
            ("priority", "urgent"): (0.015, 0.05),
        }
        for (field, value), (lo, hi) in bounds.items():
            assert lo <= share(field, value) <= hi, (field, value, share(field, value))

    def test_lives(self, log: Log) -> None:
        n = len(log.by_contact)

        def contacts_with(kind: EventType) -> int:
            return sum(any(e.type is kind for e in ev) for ev in log.by_contact.values())

        assert 0.05 < contacts_with(EventType.SUSPENDED) / n < 0.11
        assert 0.02 < contacts_with(EventType.REOPENED) / n < 0.06
        assert 0.015 < contacts_with(EventType.FLAGGED_COMPLEX) / n < 0.05
        assert 0.01 < contacts_with(EventType.ESCALATED) / n < 0.10
        assert 0.005 < contacts_with(EventType.RECLASSIFIED) / n < 0.05
        assert contacts_with(EventType.CLOSED) / n > 0.6
        assert contacts_with(EventType.ACKNOWLEDGED) / n > 0.5
        assert contacts_with(EventType.HOLDING_REPLY) > 0
        never_resumed = [
            ev
            for ev in log.by_contact.values()
            if any(e.type is EventType.SUSPENDED for e in ev)
            and not any(e.type is EventType.RESUMED for e in ev)
        ]
        assert never_resumed
        assert 0 < log.result.open_contacts < 0.05 * n
        announced = [e for e in log.events if e.announced_delay is not None]
        assert announced
        assert all(e.type is EventType.ACKNOWLEDGED for e in announced)

    def test_phone_calls_answered_in_the_same_minute(self, log: Log) -> None:
        phone = [ev for ev in log.by_contact.values() if ev[0].channel == "phone"]
        assert phone
        for events in phone:
            assert [e.type.value for e in events] == ["received", "answered"]
            received, answered = (e.occurred_at for e in events)
            assert received.replace(second=0) == answered.replace(second=0)

    def test_late_records(self, log: Log) -> None:
        cal = sla_engine.calendar("fr")
        late = [e for e in log.received.values() if e.recorded_at is not None]
        assert late
        assert {e.channel for e in late} == {"letter"}
        for e in late:
            assert e.recorded_at is not None
            assert 1 <= cal.count(e.occurred_at.date(), e.recorded_at.date()) <= 3

    def test_answer_delays_have_a_long_tail(self, log: Log) -> None:
        cal = sla_engine.calendar("fr")
        delays = []
        for events in log.by_contact.values():
            if events[0].channel not in ("email", "web", "letter"):
                continue
            answers = [e for e in events if e.type is EventType.ANSWERED]
            if answers:
                received = events[0].occurred_at.date()
                delays.append(cal.count(received, answers[0].occurred_at.date()))
        delays.sort()
        assert 2 <= statistics.median(delays) <= 5
        p90 = delays[int(0.9 * len(delays))]
        assert 8 <= p90 <= 20
        beyond = sum(d > 30 for d in delays)
        assert 0.003 * len(delays) < beyond < 0.06 * len(delays)
        assert max(delays) > 45


class TestReproducibility:
    """Tests for determinism and compression."""

    def test_same_seed_same_bytes_other_seed_other_bytes(self, tmp_path: Path) -> None:
        a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
        generate(a, 800, seed=3, malformed=0.05)
        generate(b, 800, seed=3, malformed=0.05)
        generate(c, 800, seed=4, malformed=0.05)
        assert a.read_bytes() == b.read_bytes()
        assert a.read_bytes() != c.read_bytes()

    def test_gzip(self, tmp_path: Path) -> None:
        plain, packed, again = tmp_path / "l.csv", tmp_path / "l.csv.gz", tmp_path / "m.csv.gz"
        first = generate(plain, 300)
        second = generate(packed, 300)
        generate(again, 300)
        assert packed.read_bytes()[:2] == b"\x1f\x8b"
        assert packed.read_bytes() == again.read_bytes()  # no name, no time in the header
        with gzip.open(packed, "rt", encoding="utf-8") as file:
            assert file.read() == plain.read_text(encoding="utf-8")
        assert first.rows == second.rows

    def test_corruptions_leave_the_clean_log_underneath(self, tmp_path: Path) -> None:
        clean, dirty = tmp_path / "clean.csv", tmp_path / "dirty.csv"
        generate(clean, 300)
        result = generate(dirty, 300, malformed=0.05)
        assert result.corrupted
        clean_contacts = {row[1] for row in rows_of(clean)[1:]}
        dirty_contacts = {row[1] for row in rows_of(dirty)[1:] if len(row) > 1}
        assert clean_contacts <= dirty_contacts | {""}

    def test_other_time_zone_and_empty(self, tmp_path: Path) -> None:
        path = tmp_path / "reunion.csv"
        result = generate(path, 200, calendar_spec="fr-974", malformed=0.1)
        table = rows_of(path)
        kinds = {c.kind for c in result.corrupted}
        assert "timestamp_dst_gap" not in kinds  # no summer time in La Réunion
        bad = {c.line for c in result.corrupted}
        for line, row in enumerate(table[1:], start=2):
            if line not in bad:
                assert row[3].endswith("+04:00")
        empty = generate(tmp_path / "empty.csv", 0)
        assert (empty.rows, empty.events, empty.open_contacts) == (0, 0, 0)
        assert (tmp_path / "empty.csv").read_text() == ",".join(HEADER) + "\n"

    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"contacts": -1}, "contacts"),
            ({"end": dt.date(2024, 8, 1)}, "before start"),
            ({"malformed": 1.0}, "malformed"),
            ({"malformed": -0.1}, "malformed"),
            ({"start": dt.datetime(2024, 9, 1, 10, 0)}, "must be a date"),
        ],
    )
    def test_bad_arguments(self, tmp_path: Path, options: dict[str, object], message: str) -> None:
        args: dict[str, object] = {"contacts": 10}
        args.update(options)
        contacts = args.pop("contacts")
        with pytest.raises(ValueError, match=message):
            generate(tmp_path / "x.csv", contacts, **args)  # type: ignore[arg-type]

    def test_coverage_is_checked(self, tmp_path: Path) -> None:
        far = dt.date(sla_engine.calendar("fr").coverage().public_holidays[1].year, 12, 1)
        with pytest.raises(sla_engine.CalendarCoverageError):
            generate(tmp_path / "x.csv", 10, start=far, end=far)


def engine_verdicts(path: Path) -> Iterator[tuple[int, bool]]:
    """(line, accepted) for every row, read as the log format says and recorded in file order.

    Rows the reader refuses are rejected; the others go through the engine's
    rules as :class:`sla_engine._contact.Contact` applies them: a contact's
    first event must be ``received``, an event id seen with other content is
    refused, and :func:`check_history` must accept the history so far.
    """
    histories: dict[str, list[ContactEvent]] = {}
    ids: dict[tuple[str, str], ContactEvent] = {}
    for row in read_log(path):
        if isinstance(row, RejectedRow):
            yield row.line, False
            continue
        assert isinstance(row, LogRow)
        event = row.event
        history = histories.get(event.contact_id)
        if history is None:
            accepted = event.type is EventType.RECEIVED
            if accepted:
                histories[event.contact_id] = [event]
        else:
            known = ids.get((event.contact_id, event.event_id))
            if known is not None:
                accepted = False  # the same content would be a harmless duplicate
                assert not known.same_as(event)
            else:
                try:
                    check_history([*history, event], event.contact_id, event.event_id)
                    accepted = True
                    history.append(event)
                except ContactRuleError:
                    accepted = False
        if accepted:
            ids[(event.contact_id, event.event_id)] = event
        yield row.line, accepted


class TestMalformed:
    """Tests for corrupted logs: every kind produced, exactly those rows rejected."""

    def test_every_corruption_is_rejected_and_nothing_else(self, tmp_path: Path) -> None:
        path = tmp_path / "dirty.csv"
        result = generate(path, 2000, malformed=0.05)
        corrupted = {c.line: c for c in result.corrupted}
        assert len(corrupted) == len(result.corrupted)
        assert {c.kind for c in result.corrupted} == set(CORRUPTION_KINDS)
        assert 0.035 < len(corrupted) / result.rows < 0.06
        assert result.events == result.rows - len(corrupted)
        verdicts = dict(engine_verdicts(path))
        assert len(verdicts) == result.rows
        rejected = {line for line, ok in verdicts.items() if not ok}
        assert rejected == set(corrupted)
        table = rows_of(path)
        for line, corruption in corrupted.items():
            if corruption.kind not in ("missing_contact_id", "too_few_columns"):
                assert table[line - 1][0] == corruption.event_id

    def test_the_engine_rejects_exactly_the_corrupted_rows(self, tmp_path: Path) -> None:
        """The same check with the engine itself (in memory), on a smaller log."""
        path = tmp_path / "dirty.csv"
        result = generate(path, 300, malformed=0.1)
        rows = list(read_log(path))
        rejected = {row.line for row in rows if isinstance(row, RejectedRow)}
        good = [row for row in rows if isinstance(row, LogRow)]
        engine = sla_engine.SlaEngine("services-publics-plus", "fr", store="memory")
        outcomes = engine.record_many([row.event for row in good], atomic=False).outcomes
        for row, outcome in zip(good, outcomes, strict=True):
            if isinstance(outcome, sla_engine.Rejected):
                rejected.add(row.line)
            else:
                assert outcome is sla_engine.RecordOutcome.RECORDED
        assert rejected == {c.line for c in result.corrupted}

    def test_kinds_look_like_their_names(self, tmp_path: Path) -> None:
        path = tmp_path / "dirty.csv"
        result = generate(path, 1000, malformed=0.08)
        table = rows_of(path)
        for c in result.corrupted:
            row = table[c.line - 1]
            if c.kind == "too_many_columns":
                assert len(row) == len(HEADER) + 1
                continue
            if c.kind == "too_few_columns":
                assert len(row) == len(HEADER) - 1
                continue
            cells = dict(zip(HEADER, row, strict=True))
            if c.kind == "timestamp_empty":
                assert cells["occurred_at"] == ""
            elif c.kind == "timestamp_naive":
                assert dt.datetime.fromisoformat(cells["occurred_at"]).tzinfo is None
            elif c.kind == "timestamp_dst_gap":
                wall = dt.datetime.fromisoformat(cells["occurred_at"])
                assert (
                    wall.replace(tzinfo=PARIS)
                    .astimezone(dt.UTC)
                    .astimezone(PARIS)
                    .replace(tzinfo=None)
                    != wall
                )
            elif c.kind == "timestamp_not_iso":
                assert "/" in cells["occurred_at"]
            elif c.kind == "unknown_type":
                with pytest.raises(ValueError, match="unknown event type"):
                    EventType.parse(cells["type"])
            elif c.kind == "missing_contact_id":
                assert cells["contact_id"] == ""
            elif c.kind == "received_without_channel":
                assert cells["type"] == "received"
                assert cells["channel"] == ""
            elif c.kind == "broken_attributes":
                with pytest.raises(ValueError):  # noqa: PT011 - any JSON error
                    json.loads(cells["attributes"])
            elif c.kind == "duplicate_event_id":
                earlier = [r for r in table[1 : c.line - 1] if r and r[0] == c.event_id]
                assert len(earlier) == 1
                assert earlier[0][3] != cells["occurred_at"]
            elif c.kind == "never_received":
                contacts = {r[1] for r in table[1:] if len(r) > 2 and r[2] == "received"}
                assert cells["contact_id"] not in contacts
            elif c.kind == "resumed_without_suspension":
                assert cells["type"] == "resumed"
            elif c.kind == "event_after_closed":
                assert cells["type"] == "answered"


class TestSpill:
    """Tests for the sorted runs on disk that bound memory when arrivals are dense."""

    def test_spilling_changes_nothing(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        kept, spilled = tmp_path / "kept", tmp_path / "spilled"
        kept.mkdir()
        spilled.mkdir()
        options = {"start": dt.date(2025, 3, 3), "end": dt.date(2025, 3, 14), "malformed": 0.05}
        first = generate(kept / "log.csv", 600, **options)
        runs: list[object] = []

        class CountedRun(sla_engine._generate._Run):
            def __init__(self, lines: list[str], directory: Path) -> None:
                super().__init__(lines, directory)
                runs.append(self)

        monkeypatch.setattr(sla_engine._generate, "SPILL_ROWS", 150)
        monkeypatch.setattr(sla_engine._generate, "_Run", CountedRun)
        second = generate(spilled / "log.csv", 600, **options)
        assert len(runs) > 5
        assert (kept / "log.csv").read_bytes() == (spilled / "log.csv").read_bytes()
        assert first == attrs.evolve(second, path=first.path)
        assert [p.name for p in spilled.iterdir()] == ["log.csv"]  # the runs are gone


def test_the_bundled_sample_is_reproducible(tmp_path: Path) -> None:
    """docs/examples/district-2025-2026.csv.gz is exactly what its README command writes."""
    from sla_engine.cli import main

    bundled = Path(__file__).resolve().parents[1] / "docs/examples/district-2025-2026.csv.gz"
    again = tmp_path / "district.csv.gz"
    command = "generate --contacts 1500 --seed 2025 --calendar fr+B --from 2025-09-01"
    args = [*command.split(), "--to", "2026-07-03", "--malformed", "0.005", "-o", str(again)]
    assert main(args) == 0
    assert again.read_bytes() == bundled.read_bytes()
