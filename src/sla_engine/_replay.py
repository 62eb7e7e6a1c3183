"""Replaying logs into the engine: every good row recorded once, every bad row accounted for."""

from __future__ import annotations

import contextlib
import csv
import os
import pickle
import pickletools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, BinaryIO, TextIO

import attrs
from eventsourcing.sqlite import SQLiteApplicationRecorder

from ._bulk import BulkReader, SeenContacts, bulk_reason
from ._calendar import Calendar
from ._catalogue import Catalogue
from ._collector import collector_paused
from ._contact import ContactEvent, ContactRuleError
from ._engine import (
    EncodedTimers,
    Rejected,
    SlaEngine,
    StoredColumns,
    system_clock,
)
from ._errors import DataError, SlaEngineError, redacted
from ._helper import Helper
from ._logs import DamagedLogError, LogMapping, LogRow, RejectedRow, is_csv_log, read_log
from ._text import safe_cell
from ._view import SQLiteTimerView, ViewRows
from ._vocabulary import EventType

__all__ = ["ReplaySummary", "replay"]

REJECT_FIELDS = ("source", "line", "event_id", "field", "reason")

#: Logs larger than this are read by a second process when the machine has two
#: cores or more (below it, starting the process costs more than it saves).
PARALLEL_READ_BYTES = 4 * 1024 * 1024
#: The same for the columnar replay, which overlaps reading and storing block by
#: block: a log of a few blocks (about 15 MiB each) gains nothing (measured).
PARALLEL_COLUMNAR_BYTES = 64 * 1024 * 1024


@attrs.frozen
class ReplaySummary:
    """What a replay did."""

    rows: int
    recorded: int
    duplicates: int
    rejected: int
    seconds: float

    def to_dict(self) -> dict[str, int | float]:
        return attrs.asdict(self)


class _Rejects:
    def __init__(self, out: TextIO | None) -> None:
        self.count = 0
        self.writer = None if out is None else csv.writer(out)
        if self.writer is not None:
            self.writer.writerow(REJECT_FIELDS)

    def add(self, row: RejectedRow) -> None:
        self.count += 1
        if self.writer is not None:
            # Reasons quote no field's value (errors' redacted form): no row content;
            # an id that reads as a formula is quoted for the spreadsheet opening it.
            self.writer.writerow(
                [safe_cell(v) for v in (row.source, row.line, row.event_id, row.field, row.reason)]
            )


def replay(
    engine: SlaEngine,
    paths: Sequence[str | os.PathLike[str]],
    *,
    mapping: LogMapping | None = None,
    assume_tz: str | None = None,
    rejects: TextIO | None = None,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
    jobs: int | None = None,
    working_set: int = 250_000,
    columnar: bool | None = None,
    block_lines: int | None = None,
) -> ReplaySummary:
    """Record every valid row of the logs; write each bad row to ``rejects``.

    Rows are recorded in batches, each one transaction: a replay stopped
    anywhere and run again records what was missing and counts the rest as
    duplicates.  An event of a contact whose ``received`` row comes later in
    the log (a late-recorded letter) waits for it, and is rejected only if it
    never comes.

    ``jobs=2`` reads and checks the rows in a second process while this one
    records them; the rows arrive in the same order, so the store, the view
    and the rejects are the same as with ``jobs=1`` — with one exception:
    an engine's own clock (not :func:`system_clock`) is read once, at the
    start, for the rows the second process stamps, where ``jobs=1`` reads it
    as it goes.  Rules that cannot be sent to another interpreter (a class
    of the calling script in a calendar) are read in this process.  ``None`` chooses two
    when the logs are over 4 MiB and a core is idle (on a busy machine the
    second process only competes with the first: measured 20 to 45 % slower).
    With the columnar replay into a SQLite store, the second process reads
    each block and encodes its plain contacts' events and timers while this
    one stores the block before (over 64 MiB of logs by default); elsewhere
    the columnar replay reads in this process.

    While it runs, the engine keeps up to ``working_set`` contacts in memory
    (about 2.5 KiB each), so that the later events of a contact find it there
    rather than read it back from the store: a log's open contacts at any
    moment (arrivals per day times days open) should fit.

    ``columnar`` (by default, whenever it can) reads CSV logs a block of
    lines at a time with Polars and records their plain contacts without
    building an aggregate per contact (:mod:`sla_engine._bulk`), the other
    rows going the ordinary way: the same events, timers and report, about
    five times faster (``benchmarks/bench_replay.py``).  It cannot when
    events are encrypted or compressed, requesters pseudonymised, the
    mapping names a date format or an encoding other than UTF-8, or the
    store already holds contacts (a replay run again checks every row
    against the store).  It reads ``block_lines`` lines at a time (200,000
    by default, about 1 KiB of memory each, with the rows of contacts held
    back from earlier blocks).

    Python's cyclic garbage collector is paused while it runs, here and in
    the second process (:mod:`sla_engine._collector`).
    """
    previous = engine.recent_contacts, engine.projection_contacts
    engine.recent_contacts = max(previous[0], working_set)
    # Projected in windows of half the working set: in a dense log a window of
    # the engine's usual 20,000 contacts is two days, and a contact open for
    # three weeks was evaluated again in every one of them.
    engine.projection_contacts = max(previous[1], working_set // 2)
    try:
        with collector_paused():
            return _replay(
                engine,
                paths,
                mapping,
                assume_tz,
                rejects,
                batch_size,
                progress,
                jobs,
                columnar,
                block_lines,
            )
    finally:
        engine.recent_contacts, engine.projection_contacts = previous
        engine._trim_recent(previous[0])


def _replay(
    engine: SlaEngine,
    paths: Sequence[str | os.PathLike[str]],
    mapping: LogMapping | None,
    assume_tz: str | None,
    rejects: TextIO | None,
    batch_size: int,
    progress: Callable[[int], None] | None,
    jobs: int | None,
    columnar: bool | None,
    block_lines: int | None,
) -> ReplaySummary:
    started = time.perf_counter()
    if jobs not in (None, 1, 2):
        raise SlaEngineError(f"jobs is 1 or 2 (or None to choose), not {jobs!r}")
    if columnar is not False:
        reason = bulk_reason(engine, mapping)
        if reason is not None and columnar:
            raise SlaEngineError(f"the columnar replay cannot be used: {reason}")
        columnar = reason is None
    if columnar:
        # Reading in a second process is a way to go faster, never a different
        # result: where it cannot be used, the replay reads in this one.
        if jobs is None:
            wanted = _size(paths) > PARALLEL_COLUMNAR_BYTES and _idle_cores() >= 1
            jobs = 2 if wanted else 1
        if jobs == 2 and reading_process_reason(engine) is not None:
            jobs = 1
    elif jobs is None:
        jobs = 2 if _size(paths) > PARALLEL_READ_BYTES and _idle_cores() >= 1 else 1
    out = _Rejects(rejects)
    counts = {"rows": 0, "recorded": 0, "duplicates": 0}
    waiting: dict[str, list[LogRow]] = {}
    # Contacts whose 'received' row was refused: their later rows say so, not
    # only « no such contact has been received ».
    refused_receipts: dict[str, LogRow] = {}
    batch: list[LogRow] = []

    def flush(rows: list[LogRow], *, last_chance: bool = False) -> None:
        if not rows:
            return
        rows = _received_first(rows, waiting)
        # The view is projected once for many batches (and at the end): a contact
        # whose events span several batches is evaluated once, not once per batch.
        result = engine.record_many([r.event for r in rows], atomic=False, project=False)
        received: set[str] = set()
        for row, outcome in zip(rows, result.outcomes, strict=True):
            if isinstance(outcome, Rejected):
                error = outcome.error
                if (
                    isinstance(error, ContactRuleError)
                    and error.code == "not_received"
                    and not last_chance
                ):
                    waiting.setdefault(row.event.contact_id, []).append(row)
                    continue
                reason = redacted(error)
                receipt = refused_receipts.get(row.event.contact_id)
                if isinstance(error, ContactRuleError) and error.code == "not_received":
                    if receipt is not None:
                        reason = (
                            f"its contact's 'received' event was rejected ({receipt.source}, "
                            f"line {receipt.line}): {reason}"
                        )
                elif row.event.type is EventType.RECEIVED:
                    refused_receipts.setdefault(row.event.contact_id, row)
                out.add(
                    RejectedRow(row.source, row.line, _field(error), reason, row.event.event_id)
                )
            elif outcome.value == "recorded":
                counts["recorded"] += 1
                received.add(row.event.contact_id)
            else:
                counts["duplicates"] += 1
                received.add(row.event.contact_id)
        # Events that were waiting for these contacts go with the next batch.
        for contact_id in received:
            batch.extend(waiting.pop(contact_id, ()))

    rows: Iterable[LogRow | RejectedRow | int]
    if columnar and jobs > 1:
        rows = _columnar_from_reader(engine, paths, mapping, assume_tz, block_lines)
    elif columnar:
        rows = _columnar_rows(engine, paths, mapping, assume_tz, block_lines)
    elif jobs <= 1:
        rows = _all_rows(paths, mapping, assume_tz)
    else:
        rows = _rows_from_reader(paths, mapping, assume_tz)
    # Closed when the replay fails as well: a reading process stops at once, not
    # when the failure's traceback is freed.
    # A log that cannot be read on (a damaged gzip stream, a file missing from
    # several) stops the replay, but only after every row read before it is
    # recorded and projected, as at the end of a log: the store then holds what
    # was readable, whichever way it was read.
    unreadable: DataError | None = None
    with contextlib.ExitStack() as reading:
        reading.callback(getattr(rows, "close", lambda: None))
        for row in _until_unreadable(rows, {str(path) for path in paths}):
            if isinstance(row, DataError):
                unreadable = row
                break
            if isinstance(row, int):  # rows the columnar reader recorded itself
                counts["rows"] += row
                counts["recorded"] += row
                if progress is not None and row:
                    progress(counts["rows"])
                continue
            counts["rows"] += 1
            if isinstance(row, RejectedRow):
                out.add(row)
            else:
                batch.append(row)
            if len(batch) >= batch_size:
                current = batch[:]
                batch.clear()
                flush(current)
            if progress is not None and counts["rows"] % 1000 == 0:
                progress(counts["rows"])
    while batch:
        current = batch[:]
        batch.clear()
        flush(current)
    leftovers = [row for rows in waiting.values() for row in rows]
    waiting.clear()
    flush(sorted(leftovers, key=lambda r: (r.source, r.line)), last_chance=True)
    engine.project()
    if unreadable is not None:
        done = f"{counts['recorded']} events recorded, {out.count} rows rejected"
        again = "once the log is repaired, replay it again: nothing is recorded twice"
        if isinstance(unreadable, DamagedLogError):  # read up to the damage
            message = f"{unreadable.message} and recorded ({done}); {again}"
        elif counts["recorded"] or out.count:  # a later log: the earlier ones are in
            message = f"{unreadable.message} (before it: {done}); {again}"
        else:
            message = unreadable.message
        raise DataError(
            message,
            source=unreadable.source,
            line=unreadable.line,
            field=unreadable.field,
        )

    if progress is not None:
        progress(counts["rows"])
    return ReplaySummary(
        rows=counts["rows"],
        recorded=counts["recorded"],
        duplicates=counts["duplicates"],
        rejected=out.count,
        seconds=round(time.perf_counter() - started, 3),
    )


def _until_unreadable(
    rows: Iterable[LogRow | RejectedRow | int], logs: set[str]
) -> Iterator[LogRow | RejectedRow | int | DataError]:
    """``rows``, then the :class:`DataError` that stopped the reading of one of ``logs``.

    Any other error (a calendar's data, the store) goes up as it comes.
    """
    try:
        yield from rows
    except DataError as error:
        if error.source not in logs:
            raise
        yield error


def _received_first(rows: list[LogRow], waiting: dict[str, list[LogRow]]) -> list[LogRow]:
    """``rows`` with each contact's events logged before its ``received`` row moved after it.

    Those that waited from earlier batches come first, then this batch's,
    each in the log's order: applied where the log has them, the contact's
    later events would be checked without them (a ``resumed`` refused for
    want of the ``suspended`` still waiting), and the outcome would depend on
    how the rows fall into batches.
    """
    received = {r.event.contact_id for r in rows if r.event.type is EventType.RECEIVED}
    if not received:
        return rows
    ordered: list[LogRow] = []
    early: dict[str, list[LogRow]] = {}
    for row in rows:
        cid = row.event.contact_id
        if cid not in received:
            ordered.append(row)
        elif row.event.type is EventType.RECEIVED:
            received.discard(cid)  # the contact's later rows follow as they come
            ordered.append(row)
            ordered += waiting.pop(cid, ())
            ordered += early.pop(cid, ())
        else:  # logged before its receipt, which is in this batch: goes after it
            early.setdefault(cid, []).append(row)
    return ordered


#: The field a contact's rule refuses, by the rule: an id given twice names the
#: id, an instant out of place its time; every other rule is about the type.
_RULE_FIELDS = {
    "id_reused": "event_id",
    "in_future": "occurred_at",
    "out_of_range": "occurred_at",
    "before_receipt": "occurred_at",
}


def _field(error: Exception) -> str:
    if isinstance(error, ContactRuleError):
        return _RULE_FIELDS.get(error.code, "type")
    return getattr(error, "field", None) or "event"


def _all_rows(
    paths: Iterable[str | os.PathLike[str]], mapping: LogMapping | None, assume_tz: str | None
) -> Iterable[LogRow | RejectedRow]:
    for path in paths:
        yield from read_log(path, mapping=mapping, assume_tz=assume_tz)


def _columnar_rows(
    engine: SlaEngine,
    paths: Iterable[str | os.PathLike[str]],
    mapping: LogMapping | None,
    assume_tz: str | None,
    block_lines: int | None,
    store: Callable[[StoredColumns, EncodedTimers], None] | None = None,
) -> Iterator[LogRow | RejectedRow | int]:
    seen = SeenContacts()  # contacts recorded so far: their later rows go the ordinary way
    for path in paths:
        if is_csv_log(path):
            yield from BulkReader(
                engine,
                path,
                mapping,
                assume_tz,
                seen,
                engine.clock,
                block_lines,
                store=store,
            )
            continue
        for row in read_log(path, mapping=mapping, assume_tz=assume_tz):
            if isinstance(row, LogRow):
                seen.add(row.event.contact_id)
            yield row


def _idle_cores() -> float:
    """Cores the machine leaves idle (its count less the last minute's load)."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover - no load average on this platform
        return 0.0
    return (os.cpu_count() or 1) - 1 - load  # this process takes one


def _size(paths: Iterable[str | os.PathLike[str]]) -> int:
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):  # the reader reports it, with the path
            total += os.path.getsize(path)
    return total


# -- reading in a second process ------------------------------------------------------

#: Rows sent to the recording process at a time (the pipe between the two
#: processes bounds what is in flight: the reader waits when it is full).
_CHUNK = 2000

_Packed = tuple[Any, ...]


def _pack(row: LogRow | RejectedRow) -> _Packed:
    # Plain tuples pickle several times faster than the attrs objects.
    if isinstance(row, RejectedRow):
        return (row.source, row.line, row.field, row.reason, row.event_id)
    e = row.event
    return (
        row.source,
        row.line,
        e.event_id,
        e.contact_id,
        e.type.value,
        e.occurred_at,
        e.recorded_at,
        e.payload(),
    )


def _unpack(item: _Packed) -> LogRow | RejectedRow:
    if len(item) == 5:
        return RejectedRow(*item)
    source, line, event_id, contact_id, type_, occurred_at, recorded_at, payload = item
    # Checked by the reading process: rebuilt without converters or validators.
    event = ContactEvent.from_stored(
        event_id, contact_id, EventType(type_), occurred_at, recorded_at, payload
    )
    return LogRow(source, line, event)


def read_into(request: tuple[Any, ...], out: BinaryIO) -> None:
    """The reading process: chunks of packed rows, or rows and encoded blocks (columnar)."""
    kind, *arguments = request
    if kind == "columnar":
        _read_columnar(tuple(arguments), out)
        return
    paths, mapping, assume_tz = arguments
    chunk: list[_Packed] = []
    try:
        for row in _all_rows(paths, mapping, assume_tz):
            chunk.append(_pack(row))
            if len(chunk) >= _CHUNK:
                pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
                chunk = []
    finally:  # the rows read before a failure go first, then the failure
        pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)


def _rows_from_reader(
    paths: Sequence[str | os.PathLike[str]], mapping: LogMapping | None, assume_tz: str | None
) -> Iterator[LogRow | RejectedRow]:
    request = ("rows", [os.fspath(p) for p in paths], mapping, assume_tz)
    for chunk in _from_reader(request):
        for packed in chunk:
            yield _unpack(packed)


def _from_reader(request: tuple[Any, ...]) -> Iterator[Any]:
    """What the reading process writes, item by item."""
    return Helper(request).results()


# -- the columnar replay with its reading in a second process -------------------------
#
# The reading process runs the columnar reader over the logs with an engine in
# memory built from the same rules, and sends, in the log's order, chunks of
# the rows for the row path and each block's plain contacts already encoded:
# their stored events and their view rows.  This process stores each block
# (events, view rows and tracking in one transaction) while the other reads
# the next one: the two halves of the work take about as long each.


def reading_process_reason(engine: SlaEngine) -> str | None:
    """Why the columnar replay cannot read in a second process, or ``None`` when it can."""
    if not isinstance(engine.recorder, SQLiteApplicationRecorder) or not isinstance(
        engine.view, SQLiteTimerView
    ):
        return "only a SQLite store takes a block encoded in another process"
    try:
        sent = pickle.dumps(rules_of(engine))
    except Exception:  # a catalogue or calendar built in Python with something unpicklable
        return "the engine's catalogue or calendar cannot be sent to another process"
    if _from_main(sent):
        return "the engine's catalogue or calendar uses a class of the calling script"
    return None


def _from_main(pickled: bytes) -> bool:
    """Whether ``pickled`` names something of ``__main__``, which another interpreter lacks.

    (A class defined in the calling script pickles, and fails to load in the
    reading process.)  Text that happens to read ``__main__`` only costs the
    second process.
    """
    if b"__main__" not in pickled:  # the common case, without walking the pickle
        return False
    return any(
        isinstance(argument, str) and argument.split(" ")[0] == "__main__"
        for _, argument, _ in pickletools.genops(pickled)
    )


def rules_of(engine: SlaEngine) -> tuple[Catalogue, Calendar]:
    """What another process needs to evaluate as ``engine`` does: the rules themselves.

    The calendar object, not its spec: closures, a working week, opening
    hours or a time zone set in Python are not in the spec.
    """
    return engine.catalogue, engine.default_calendar


def engine_for(rules: tuple[Catalogue, Calendar], **options: Any) -> SlaEngine:
    """An engine in memory that evaluates as the one ``rules`` came from."""
    catalogue, default_calendar = rules
    return SlaEngine(catalogue, default_calendar, store="memory", **options)


def _columnar_from_reader(
    engine: SlaEngine,
    paths: Sequence[str | os.PathLike[str]],
    mapping: LogMapping | None,
    assume_tz: str | None,
    block_lines: int | None,
) -> Iterator[LogRow | RejectedRow | int]:
    # An engine's own clock (a test's, a simulation's) is read once, here; the
    # machine's is read by the other process as this one would read it.
    now = None if engine.clock is system_clock else engine.clock()
    request = (
        "columnar",
        [os.fspath(p) for p in paths],
        mapping,
        assume_tz,
        block_lines,
        rules_of(engine),
        engine.privacy.keep_free_text,
        now,
    )
    for kind, body in _from_reader(request):
        if kind == "rows":
            for item in body:
                yield item if isinstance(item, int) else _unpack(item)
            continue
        ids, versions, topics, states, contacts, rows = body
        engine._record_bulk(
            StoredColumns(ids, versions, topics, states), EncodedTimers(contacts, ViewRows(rows))
        )


def _read_columnar(request: tuple[Any, ...], out: BinaryIO) -> None:
    paths, mapping, assume_tz, block_lines, rules, keep_free_text, now = request
    engine = engine_for(
        rules,
        keep_free_text=keep_free_text,
        clock=system_clock if now is None else (lambda: now),
    )
    chunk: list[_Packed | int] = []

    def flush() -> None:
        if chunk:
            pickle.dump(("rows", chunk[:]), out, protocol=pickle.HIGHEST_PROTOCOL)
            chunk.clear()

    def store(stored: StoredColumns, timers: EncodedTimers) -> None:
        flush()  # the rows read before this block go first, as they would in one process
        columns = (stored.originator_ids, stored.originator_versions, stored.topics, stored.states)
        message = ("bulk", (*columns, timers.contacts, list(timers.rows)))
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)

    try:
        for row in _columnar_rows(engine, paths, mapping, assume_tz, block_lines, store):
            chunk.append(row if isinstance(row, int) else _pack(row))
            if isinstance(row, int) or len(chunk) >= _CHUNK:
                flush()
    finally:  # the rows read before a failure go first, then the failure
        flush()
