"""The columnar replay: a CSV log's plain contacts read, checked and stored a block at a time.

Reading a row with Python's ``csv`` module and checking it field by field
costs about 20 µs; Polars splits and checks a whole block of lines in
vectorised steps for well under one.  This module takes from a log every
contact whose rows are *plain*, records its events with the bytes the
engine would have stored for them one at a time, and hands every other
row to the ordinary row path (:func:`sla_engine._replay.replay`), which
checks it against the store and says why it is rejected.

A row is plain when its fields pass strict, vectorised checks: ids of
letters, digits and ``_.:/#@+-``, instants written
``2025-10-17T16:05:00+02:00``, no quote except around the last field, and
a classification (type, channel, category, priority, service,
attributes) that the ordinary reader accepts — each distinct
classification is read once by the ordinary reader itself, which also
gives the stored payload, so the two paths cannot disagree on it.  A
contact is plain when all its rows are, when none names a requester, when
its first row is its ``received`` event and its history needs none of the
rules that only the aggregate applies: no ``suspended``, ``resumed``,
``reopened``, ``reclassified`` or ``flagged_complex`` event, one
``received`` before everything, at most one ``closed`` after everything,
no event id twice, no event after the moment it is recorded.

A contact's rows are held back across blocks while it may still get
events (it is not closed and had an event in the last
:data:`QUIET_DAYS` days), so that it is stored whole; a later row of a
contact already stored goes to the row path, which reads it back.

Timers are evaluated by the same function as the row path's, and written
by the same projection (the view's catch-up), from contacts built in
memory rather than read back.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import polars as pl

from ._contact import (
    _STORED,
    CLOCK_TOLERANCE_US,
    CONTACT_TOPICS,
    YEARS_US,
    ContactEvent,
    _order,
)
from ._engine import EncodedTimers, SlaEngine, StoredColumns
from ._errors import DataError, SlaEngineError
from ._logs import (
    FIELDS,
    MAX_ROW_BYTES,
    LogMapping,
    LogRow,
    RejectedRow,
    _ends_in_quotes,
    _open,
    _Rows,
    sniff_delimiter,
)
from ._rows import AS_OF_US, STOPPING, SUMMARY, RowEvaluator
from ._time import microseconds, require_aware
from ._timers import (
    PLAIN_TYPES,
)
from ._view import ViewRows, timer_row
from ._vocabulary import EventType

__all__ = ["BulkReader", "SeenContacts", "bulk_reason"]

#: Lines read at a time (with the contacts held back from earlier blocks).
BLOCK_LINES = 200_000
#: A contact not closed keeps its rows in memory while its last event is this recent
#: (a request may wait weeks for its answer)…
QUIET_DAYS = 60
#: …or, once answered, this recent (a closure comes within days of the answer).
ANSWERED_QUIET_DAYS = 14

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:/#@+\-]{0,255}$"
_INSTANT = r"^\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d[+-](?:[01]\d|2[0-3]):[0-5]\d$"
_INSTANT_FORMAT = "%Y-%m-%dT%H:%M:%S%:z"
_CLASSIFICATION = ("type", "channel", "category", "priority", "service", "attributes")
#: Types a plain contact may have: the aggregate's other rules never apply to them.
_PLAIN_TYPES = PLAIN_TYPES | {EventType.RECEIVED}
#: What Python's ``str.strip`` strips (Polars' default leaves out \x1c to \x1f): a
#: line of these is blank to the ordinary reader.
_PY_WHITESPACE = "".join(chr(c) for c in range(0x3100) if chr(c).isspace())
_QUIET_US = QUIET_DAYS * 86_400_000_000
_ANSWERED_QUIET_US = ANSWERED_QUIET_DAYS * 86_400_000_000
#: The names of this reader's own columns, beside the header's in its frames:
#: a log with a column of one of these names (or starting with ``_``) is read
#: by the row path, rather than have it overwritten.
WORKING_COLUMNS = frozenset(
    {
        "text", "line", "raw_bytes", "plain", "all_plain", "answered", "as_of_text",
        "as_of_us", "closed", "first_at", "first_type", "ids", "last_at", "last_type",
        "received", "received_at", "rows", "start_text", "start_us", "state", "tpl",
        "version",
    }
)  # fmt: skip

#: The calendars' years (check_instant's rule), in µs since the epoch.
_FIRST_US, _PAST_LAST_US = YEARS_US
# Sentinels read as a row of each classification (the ordinary reader's checks).
_SENTINEL_ID = "sla-engine-bulk-sentinel"
_SENTINEL_OCCURRED = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)


def bulk_reason(engine: SlaEngine, mapping: LogMapping | None) -> str | None:
    """Why the engine's replay cannot take the columnar path, or ``None`` when it can."""
    mapper = engine.mapper
    if mapper.cipher is not None or mapper.compressor is not None:
        return "events are encrypted or compressed"
    if engine.privacy.pseudonym_key is not None:
        return "requesters are pseudonymised"  # each one sealed with a key of its own
    if mapping is not None and (
        mapping.time_format is not None or mapping.encoding.lower().replace("_", "-") != "utf-8"
    ):
        return "the mapping names a date format or an encoding"
    if engine.recorder.select_notifications(start=None, limit=1, topics=CONTACT_TOPICS):
        return "the store already holds contacts"
    return None


class SeenContacts:
    """The contacts a replay has stored, or sent to the row path: their later rows go there too.

    Kept as 64-bit hashes (Polars' ``hash``) in a sorted NumPy array: 8 bytes a
    contact, where a Python set of ten million ids takes about a gigabyte.  Two
    ids with the same hash only send a new contact to the row path, which
    records it exactly as it would have been recorded here.
    """

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.uint64)
        #: Ids added one at a time (by the row path), hashed with the next lookup.
        self._pending: set[str] = set()

    def add(self, contact_id: str) -> None:
        self._pending.add(contact_id)

    def add_all(self, contact_ids: pl.Series) -> None:
        self._merge(_hashes(contact_ids))

    def among(self, contact_ids: pl.Series) -> list[str]:
        """Those of ``contact_ids`` (distinct, no null) already seen."""
        if self._pending:
            self._merge(_hashes(pl.Series(list(self._pending), dtype=pl.String)))
            self._pending.clear()
        known = self._hashes
        if not len(known) or not len(contact_ids):
            return []
        wanted = _hashes(contact_ids)
        at = np.minimum(np.searchsorted(known, wanted), len(known) - 1)
        found: list[str] = contact_ids.filter(pl.Series(known[at] == wanted)).to_list()
        return found

    def _merge(self, hashes: npt.NDArray[np.uint64]) -> None:
        # Two sorted runs: the stable sort (Timsort) merges them in linear time.
        merged = np.concatenate([self._hashes, np.sort(hashes)])
        self._hashes = np.sort(merged, kind="stable")


def _hashes(contact_ids: pl.Series) -> npt.NDArray[np.uint64]:
    hashes: npt.NDArray[np.uint64] = contact_ids.hash(seed=0).to_numpy()
    return hashes


@attrs.frozen
class _Template:
    """One classification's stored form: its topic, and its state around the three values."""

    type: EventType
    topic: str
    parts: tuple[bytes, bytes, bytes, bytes]
    payload: dict[str, Any]
    #: What selects its engagements (of a ``received`` event).
    classification: tuple[str | None, str | None, str, str | None]


class BulkReader:
    """Reads one log for a replay: records its plain contacts, yields every other row.

    Iterating over it yields, in the log's order, the rows the row path
    must handle (:class:`LogRow` and :class:`RejectedRow`), and after each
    block an ``int``: the rows recorded here since the last one.
    """

    def __init__(
        self,
        engine: SlaEngine,
        path: str | os.PathLike[str],
        mapping: LogMapping | None,
        assume_tz: str | None,
        seen: SeenContacts,
        clock: Callable[[], dt.datetime],
        block_lines: int | None = None,
        *,
        store: Callable[[StoredColumns, EncodedTimers], None] | None = None,
    ) -> None:
        if block_lines is not None and block_lines < 1:
            raise SlaEngineError(f"a block holds at least one line, not {block_lines}")
        self.block_lines = BLOCK_LINES if block_lines is None else block_lines
        self.engine = engine
        self.path = Path(path)
        self.source = str(path)  # as read_log names it, in the rejects
        self.mapping = mapping or LogMapping()
        # As read_log: the option, else the mapping's (an empty one is none).
        self.rows = _Rows(self.source, mapping, assume_tz or self.mapping.assume_tz)
        #: Contacts stored (or sent to the row path) by this replay: later rows go there too.
        self.seen = seen
        self.clock = clock
        self.templates: dict[tuple[str | None, ...], _Template | None] = {}
        #: Where each block's plain contacts go (another process's engine, for a
        #: reading process); by default the engine's own store.
        self.store = engine._record_bulk if store is None else store
        self.evaluator = RowEvaluator(engine.catalogue, engine.calendar_for)
        #: Why the log could not be read past a line, once it could not.
        self.unreadable: DataError | None = None

    # -- lines -----------------------------------------------------------------------

    def __iter__(self) -> Iterator[LogRow | RejectedRow | int]:
        stream = _open(self.path)
        with stream:
            # Read as the ordinary reader reads (at most a byte past the longest row).
            header_raw = self.rows._readline(stream, 0)
            try:
                header_text = header_raw.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError:
                header_text = '"'  # not a plain header: the row path says why
            if (
                '"' in header_text
                or "\r" in header_text.rstrip("\r\n")
                or not header_text.strip()
                or len(header_raw) > MAX_ROW_BYTES
            ):
                yield from self._rest([io.BytesIO(header_raw), stream], 2)
                return
            self.delimiter = self.mapping.delimiter or sniff_delimiter(header_text)
            self.header = [h.strip() for h in header_text.rstrip("\r\n").split(self.delimiter)]
            # As the ordinary reader: refused before anything of the log is stored.
            self.rows.check_header(self.header, 1)
            self.columns = {
                name: self.mapping.column(name)
                for name in FIELDS
                if self.mapping.column(name) in self.header
            }
            required = ("event_id", "contact_id", "type", "occurred_at")
            if (
                len(set(self.header)) != len(self.header)
                or any(name not in self.columns for name in required)
                or any(h in WORKING_COLUMNS or h.startswith("_") for h in self.header)
            ):
                yield from self._rest([io.BytesIO(header_raw), stream], 2)
                return
            carried: pl.DataFrame | None = None
            line = 2
            while True:
                block, too_long = self._read_block(stream, line)
                if not block:
                    break
                count = len(block)
                data = b"".join(block)
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
                if text is None or too_long or self._quotes_span_lines(text):
                    # A quoted field over several lines, bytes that are not UTF-8
                    # or a line too long: the row path reads from here on.
                    if carried is not None:
                        yield from self._to_row_path(carried)
                        carried = None
                    rest = [io.BytesIO(header_raw), io.BytesIO(data)]
                    yield from self._rest(rest if self.unreadable else [*rest, stream], line)
                    break
                frame = self._prepare(self._split(self._lines(text, line)))
                line += count
                if carried is not None:
                    frame = pl.concat([carried, frame], how="vertical")
                carried, out = self._block(frame, final=False)
                yield from out
                if self.unreadable:
                    break
            if carried is not None:
                _, out = self._block(carried, final=True)
                yield from out
        if self.unreadable:
            raise self.unreadable

    def _read_block(self, stream: Any, first_line: int) -> tuple[list[bytes], bool]:
        """Up to ``block_lines`` lines; and whether the last one is too long to be a row.

        Where the file cannot be read on (a damaged gzip stream), the lines
        before are the block, and the error is kept in ``self.unreadable``
        for the end of the log.
        """
        lines: list[bytes] = []
        for number in range(first_line - 1, first_line - 1 + self.block_lines):
            try:
                line = self.rows._readline(stream, number)
            except DataError as error:
                self.unreadable = error
                break
            if not line:
                break
            lines.append(line)
            if len(line) > MAX_ROW_BYTES:
                return lines, True
        return lines, False

    def _quotes_span_lines(self, text: str) -> bool:
        """Whether a quoted field of ``text`` goes on past the end of its line.

        A line whose only quotes enclose its last field cannot; any other line
        with a quote is scanned as the ordinary reader scans it.
        """
        if '"' not in text:
            return False
        lines = pl.Series([text]).str.split("\n").explode().str.strip_suffix("\r")
        quoted = lines.filter(lines.str.contains('"', literal=True))
        delimiter = re.escape(self.delimiter)
        last_field = rf'^(?:[^"]*{delimiter})?"(?:[^"]|"")*"$'
        others = quoted.filter(~quoted.str.contains(last_field))
        return any(_ends_in_quotes(line, self.delimiter, False) for line in others)

    def _rest(self, streams: list[Any], first_line: int) -> Iterator[LogRow | RejectedRow]:
        """The ordinary reader over ``streams`` (the header, then the lines from ``first_line``)."""
        shift = first_line - 2  # the reader numbers the header 1 and the next line 2
        for row in self.rows.csv_rows(io.BufferedReader(_Concat(streams))):
            self.seen_row(row)
            yield row if shift == 0 else attrs.evolve(row, line=row.line + shift)

    def _to_row_path(self, frame: pl.DataFrame) -> Iterator[LogRow | RejectedRow]:
        for line, text, size in frame.sort("line").select("line", "text", "raw_bytes").iter_rows():
            row = self._parse(line, text, size)
            self.seen_row(row)
            yield row

    def _parse(self, line: int, text: str, size: int) -> LogRow | RejectedRow:
        if size > MAX_ROW_BYTES:
            return RejectedRow(
                self.source, line, None, f"the row is longer than {MAX_ROW_BYTES // 1024} KiB"
            )
        return self.rows.parse_line(line, text, self.header, self.delimiter)

    def seen_row(self, row: LogRow | RejectedRow) -> None:
        if isinstance(row, LogRow):
            self.seen.add(row.event.contact_id)

    def _lines(self, text: str, first_line: int) -> pl.DataFrame:
        """The block's lines that are not blank, with their numbers and sizes."""
        ends_with_newline = text.endswith("\n")
        lines = pl.Series("text", [text]).str.strip_suffix("\n").str.split("\n").explode()
        # Each line's size as read, its newline included (the last may have none).
        newline = pl.Series([1] * len(lines), dtype=pl.Int64)
        if not ends_with_newline:
            newline[-1] = 0
        return pl.DataFrame(
            {
                "line": pl.int_range(
                    first_line, first_line + len(lines), eager=True, dtype=pl.Int64
                ),
                "text": lines.str.strip_suffix("\r"),
                "raw_bytes": lines.str.len_bytes().cast(pl.Int64) + newline,
            }
        ).filter(pl.col("text").str.strip_chars(_PY_WHITESPACE) != "")

    def _split(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The lines split into the header's columns; ``plain`` says which need no more."""
        n = len(self.header)
        fields = frame["text"].str.splitn(self.delimiter, n).struct.rename_fields(self.header)
        frame = frame.with_columns(fields.struct.unnest())
        last = self.header[-1]
        prefix_has_quote = (
            pl.any_horizontal(
                [
                    pl.col(h).str.contains('"', literal=True).fill_null(False)
                    for h in self.header[:-1]
                ]
            )
            if n > 1
            else pl.lit(False)
        )
        quoted_last = pl.col(last).str.contains(r'^"(?:[^"]|"")*"$')
        has_quote = pl.col("text").str.contains('"', literal=True)
        complete = pl.all_horizontal([pl.col(h).is_not_null() for h in self.header])
        # A quote anywhere but around the last field, or too few or too many
        # fields: the ordinary reader takes the line (and says what is wrong).
        # The ordinary reader refuses a line over MAX_ROW_BYTES (its newline included).
        short = pl.col("raw_bytes") <= MAX_ROW_BYTES
        # A carriage return inside a line is a line end to the csv module.
        no_cr = ~pl.col("text").str.contains("\r", literal=True)
        plain = short & no_cr & complete & ~prefix_has_quote & (~has_quote | quoted_last)
        if n > 1:
            plain = plain & ~(~has_quote & pl.col(last).str.contains(self.delimiter, literal=True))
        unquoted = (
            pl.when(has_quote)
            .then(
                pl.col(last)
                .str.slice(1, pl.col(last).str.len_chars() - 2)
                .str.replace_all('""', '"', literal=True)
            )
            .otherwise(pl.col(last))
        )
        return frame.with_columns(unquoted.alias(last), plain.alias("plain"))

    # -- one block -------------------------------------------------------------------

    def _prepare(self, frame: pl.DataFrame) -> pl.DataFrame:
        """A block's new lines, split, checked row by row and classified (once per line).

        Keeps only what the later steps read (:meth:`_kept`), so that rows held
        back to the next block are not split, parsed and classified again.
        """
        col = self.columns

        def get(name: str) -> pl.Expr:
            return pl.col(col[name]) if name in col else pl.lit(None, dtype=pl.String)

        occurred = pl.col(col["occurred_at"])
        recorded = pl.col(col["recorded_at"]) if "recorded_at" in col else pl.lit(None, pl.String)
        frame = frame.with_columns(
            get("contact_id").str.strip_chars().alias("_cid"),
            pl.col(col["event_id"]).alias("_eid"),
            occurred.str.to_datetime(_INSTANT_FORMAT, time_unit="us", time_zone="UTC", strict=False)
            .dt.epoch("us")
            .alias("_occ"),
            pl.when(recorded.is_null() | (recorded == ""))
            .then(None)
            .otherwise(
                recorded.str.to_datetime(
                    _INSTANT_FORMAT, time_unit="us", time_zone="UTC", strict=False
                ).dt.epoch("us")
            )
            .alias("_rec"),
            *[get(name).alias(f"_k_{name}") for name in _CLASSIFICATION],
        )
        ok_instant = occurred.str.contains(_INSTANT) & ~occurred.str.ends_with("-00:00")
        ok_recorded = (recorded.is_null() | (recorded == "")) | (
            recorded.str.contains(_INSTANT)
            & ~recorded.str.ends_with("-00:00")
            & pl.col("_rec").is_not_null()
        )
        frame = frame.with_columns(
            (
                pl.col("plain")
                & pl.col(col["contact_id"]).str.contains(_ID).fill_null(False)
                & pl.col(col["event_id"]).str.contains(_ID).fill_null(False)
                & ok_instant.fill_null(False)
                & pl.col("_occ").is_not_null()
                & ok_recorded.fill_null(False)
            ).alias("plain")
        )
        frame = self._classify(frame)
        now_us = microseconds(require_aware(self.clock(), "clock"))
        frame = frame.with_columns(
            (
                pl.col("plain")
                & pl.col("_tpl").is_not_null()
                & (pl.col("_occ") <= pl.col("_rec").fill_null(now_us) + CLOCK_TOLERANCE_US)
                & (pl.col("_occ") >= _FIRST_US)
                & (pl.col("_occ") < _PAST_LAST_US)
            ).alias("plain"),
            (pl.col("_type") == "received").cast(pl.Int8).alias("_is_received"),
            (pl.col("_type") == "closed").cast(pl.Int8).alias("_is_closed"),
            pl.when(pl.col("_type") == "received").then(0).otherwise(1).alias("_rank"),
        )
        return frame.select(self._kept())

    def _kept(self) -> list[str]:
        texts = [self.columns[n] for n in ("occurred_at", "recorded_at") if n in self.columns]
        return [
            "line",
            "text",
            "raw_bytes",
            *texts,
            "_cid",
            "_eid",
            "_occ",
            "_rec",
            "_tpl",
            "_type",
            "_is_received",
            "_is_closed",
            "_rank",
            "plain",
        ]

    def _block(
        self, frame: pl.DataFrame, *, final: bool
    ) -> tuple[pl.DataFrame | None, list[LogRow | RejectedRow | int]]:
        """Route a block's contacts (with those held back): stored here, held back, or not plain."""
        now = require_aware(self.clock(), "clock")

        # Rows that are not plain are read by the ordinary reader now: it gives
        # their exact contact (or rejects them), and their contact leaves the path.
        out: list[LogRow | RejectedRow | int] = []
        slow_rows: dict[int, LogRow | RejectedRow] = {}
        not_plain = frame.filter(~pl.col("plain")).select("line", "text", "raw_bytes")
        for line, text, size in not_plain.iter_rows():
            slow_rows[line] = self._parse(line, text, size)
        # Contacts already stored (or sent to the row path), and those of rows
        # the ordinary reader took: their other rows go there too.
        slow_contacts = self.seen.among(frame["_cid"].drop_nulls().unique())
        slow_contacts += [r.event.contact_id for r in slow_rows.values() if isinstance(r, LogRow)]
        groups = frame.group_by("_cid").agg(
            pl.col("plain").all().alias("all_plain"),
            pl.col("_type").sort_by("line").first().alias("first_type"),
            pl.col("_is_received").sum().alias("received"),
            pl.col("_is_closed").sum().alias("closed"),
            (pl.col("_type") == "answered").any().alias("answered"),
            pl.col("_type").sort_by(["_occ", "_rank", "line"]).last().alias("last_type"),
            pl.col("_occ").filter(pl.col("_type") == "received").min().alias("received_at"),
            pl.col("_occ").min().alias("first_at"),
            pl.col("_occ").max().alias("last_at"),
            pl.col("_eid").n_unique().alias("ids"),
            pl.len().alias("rows"),
        )
        plain_contact = (
            pl.col("all_plain")
            & (pl.col("first_type") == "received")
            & (pl.col("received") == 1)
            & (pl.col("received_at") == pl.col("first_at"))
            & (
                (pl.col("closed") == 0)
                | ((pl.col("closed") == 1) & (pl.col("last_type") == "closed"))
            )
            & (pl.col("ids") == pl.col("rows"))
            & pl.col("_cid").is_not_null()
            & ~pl.col("_cid").is_in(pl.Series(slow_contacts, dtype=pl.String).implode())
        ).fill_null(False)
        latest = frame["_occ"].max()
        if final or latest is None:
            waiting = pl.lit(False)
        else:
            # Held back while more events may come: a closed contact gets none
            # (but a reopening), an answered one its closure, soon after.
            quiet = pl.when(pl.col("answered")).then(_ANSWERED_QUIET_US).otherwise(_QUIET_US)
            waiting = (pl.col("closed") == 0) & (pl.col("last_at") > latest - quiet)
        groups = groups.with_columns(
            pl.when(~plain_contact)
            .then(pl.lit("slow"))
            .when(waiting)
            .then(pl.lit("wait"))
            .otherwise(pl.lit("fast"))
            .alias("_route")
        )
        frame = frame.join(groups.select("_cid", "_route"), on="_cid", how="left", nulls_equal=True)
        frame = frame.with_columns(pl.col("_route").fill_null("slow"))

        carried = frame.filter(pl.col("_route") == "wait").select(self._kept())
        # Versions follow the log's order within a contact, as the row path records them.
        fast = frame.filter(pl.col("_route") == "fast").sort(["_cid", "line"])
        slow = frame.filter(pl.col("_route") == "slow")
        stored = self._record(fast, now)
        if stored is None:
            # A contact cannot be counted (past a calendar's data, an announced
            # delay its calendar cannot count): the block's plain contacts go
            # the row path, which counts such a contact before storing anything
            # of it and rejects the event it fails at (rare).
            slow, stored = pl.concat([slow, fast]), 0
        slow = slow.sort("line")
        for line, text, size in slow.select("line", "text", "raw_bytes").iter_rows():
            row = slow_rows.get(line)
            if row is None:
                row = self._parse(line, text, size)
            self.seen_row(row)
            out.append(row)
        out.append(stored)
        return (carried if carried.height else None), out

    def _classify(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Each distinct classification read once by the ordinary reader: its template, or none."""
        keys = [f"_k_{name}" for name in _CLASSIFICATION]
        distinct = frame.select(keys).unique()
        ids: list[int] = []
        types: list[str | None] = []
        for values in distinct.iter_rows():
            key = tuple(values)
            if key not in self.templates:
                self.templates[key] = self._template(dict(zip(_CLASSIFICATION, key, strict=True)))
            template = self.templates[key]
            ids.append(-1 if template is None else id(template))
            types.append(None if template is None else template.type.value)
        self._by_id = {id(t): t for t in self.templates.values() if t is not None}
        table = distinct.with_columns(
            pl.Series("_tpl", ids, dtype=pl.Int64).replace(-1, None),
            pl.Series("_type", types, dtype=pl.String),
        )
        return frame.join(table, on=keys, how="left", nulls_equal=True)

    def _template(self, values: dict[str, str | None]) -> _Template | None:
        record = {self.mapping.column(k): v for k, v in values.items() if v is not None}
        record[self.mapping.column("event_id")] = _SENTINEL_ID
        record[self.mapping.column("contact_id")] = _SENTINEL_ID
        record[self.mapping.column("occurred_at")] = _SENTINEL_OCCURRED.isoformat()
        row = self.rows._row(0, record)
        if isinstance(row, RejectedRow):
            return None
        event = row.event
        if event.type not in _PLAIN_TYPES or event.requester is not None or event.recorded_at:
            return None
        event = self.engine.privacy.clean(event)
        payload = event.payload()
        encoder = self.engine._encoder
        template = encoder.template(_STORED[event.type])
        if template is None:
            return None
        topic, (head, middle, tail_a, tail_b, tail_c), _ = template
        # A plain id needs no escape: it goes in as is, between the quotes JSON
        # puts around it; the payload is this classification's own.
        parts = (
            head.encode(),
            f'{middle}"'.encode(),
            f'"{tail_a}'.encode(),
            (tail_b + encoder.encode_json(payload) + tail_c).encode(),
        )
        return _Template(
            event.type,
            topic,
            parts,
            payload,
            (event.channel, event.category, event.priority or "normal", event.service),
        )

    # -- recording -------------------------------------------------------------------

    def _record(self, fast: pl.DataFrame, now: dt.datetime) -> int | None:
        """Store the plain contacts of ``fast`` (sorted by contact, then line) and their timers.

        ``None`` (nothing stored) when a contact's timers cannot be counted:
        past a calendar's data, or a delay announced to it that its calendar
        cannot count.
        """
        if not fast.height:
            return 0
        occurred = self.columns["occurred_at"]
        fast = fast.with_columns(
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("_cid").alias("_version")
        )
        stored = self._stored_events(fast, now)
        # In time order within each contact (as the aggregate keeps a history);
        # contacts in the same order as ``fast``'s.
        by_time = fast.sort(["_cid", "_occ", "_rank", "line"])
        contacts = by_time.group_by("_cid", maintain_order=True).agg(
            pl.len().alias("version"),
            pl.col("_tpl").first().alias("tpl"),
            pl.col("_occ").first().alias("start_us"),
            pl.col(occurred).first().alias("start_text"),
            pl.col(occurred).last().alias("as_of_text"),
            pl.col("_occ").max().alias("as_of_us"),
            # Each type's first event (by time, then line): the candidates to stop a timer.
            *[
                pl.col(column).filter(pl.col("_type") == t.value).first().alias(f"{t.value}:{name}")
                for t in STOPPING
                for name, column in (("us", "_occ"), ("line", "line"), ("text", occurred))
            ],
        )  # fmt: skip
        assert tuple(contacts.columns) == SUMMARY  # noqa: S101 - the positions used below
        history_of = _Histories(fast, self.columns, self._by_id, now)
        try:
            timers = self._encoded(contacts, history_of)
        except Exception:  # the row path refuses the event and says why
            return None
        self.seen.add_all(contacts["_cid"])
        self.store(stored, timers)
        return fast.height

    def _encoded(self, contacts: pl.DataFrame, history_of: _Histories) -> EncodedTimers:
        """Every timer of the block's contacts (``contacts``: their summaries) as view rows."""
        by_id = self._by_id
        encoded = ViewRows()
        summary: dict[str, tuple[int, int]] = {}
        offset = 0
        for contact in contacts.iter_rows():
            cid, version, template_id = contact[0], contact[1], contact[2]
            rows = self.evaluator.rows(cid, by_id[template_id].classification, contact)
            if rows is None:
                timers = self.evaluator.evaluate(history_of(offset, version))
                encoded += [timer_row(t) for t in timers]
            else:
                encoded += rows
            summary[cid] = (version, contact[AS_OF_US])
            offset += version
        return EncodedTimers(summary, encoded)

    def _stored_events(self, fast: pl.DataFrame, now: dt.datetime) -> StoredColumns:
        """The stored events, their state assembled around each template's values."""
        recorded = self.columns.get("recorded_at")
        recorded_text = (
            pl.lit(now.isoformat())
            if recorded is None
            else pl.when(pl.col("_rec").is_null())
            .then(pl.lit(now.isoformat()))
            .otherwise(pl.col(recorded))
        )
        templates = pl.DataFrame(
            {
                "_tpl": list(self._by_id),
                "_topic": [t.topic for t in self._by_id.values()],
                **{
                    f"_part{i}": [t.parts[i].decode() for t in self._by_id.values()]
                    for i in range(4)
                },
            },
            schema_overrides={"_tpl": pl.Int64},
        )
        state = fast.join(templates, on="_tpl", how="left", maintain_order="left").select(
            pl.concat_str(
                [
                    pl.col("_part0"),
                    recorded_text,
                    pl.col("_part1"),
                    pl.col("_eid"),
                    pl.col("_part2"),
                    pl.col(self.columns["occurred_at"]),
                    pl.col("_part3"),
                ]
            )
            .cast(pl.Binary)
            .alias("state"),
            "_topic",
        )
        return StoredColumns(
            fast["_cid"].to_list(),
            fast["_version"].to_list(),
            state["_topic"].to_list(),
            state["state"].to_list(),
        )


class _Histories:
    """The events of one contact of a block, for the contacts evaluated event by event."""

    def __init__(
        self,
        fast: pl.DataFrame,
        columns: dict[str, str],
        templates: dict[int, _Template],
        now: dt.datetime,
    ) -> None:
        self.fast, self.columns, self.templates, self.now = fast, columns, templates, now
        self.lists: dict[str, list[Any]] | None = None

    def __call__(self, offset: int, count: int) -> list[ContactEvent]:
        if self.lists is None:
            recorded = self.columns.get("recorded_at")
            fast = self.fast
            self.lists = {
                "cid": fast["_cid"].to_list(),
                "eid": fast["_eid"].to_list(),
                "tpl": fast["_tpl"].to_list(),
                "occurred": fast[self.columns["occurred_at"]].to_list(),
                "recorded": (
                    fast[recorded].to_list() if recorded is not None else [None] * fast.height
                ),
            }
        lists, parse = self.lists, dt.datetime.fromisoformat
        history = []
        for i in range(offset, offset + count):
            template = self.templates[lists["tpl"][i]]
            recorded_text = lists["recorded"][i]
            history.append(
                ContactEvent.from_stored(
                    lists["eid"][i],
                    lists["cid"][i],
                    template.type,
                    parse(lists["occurred"][i]),
                    self.now if not recorded_text else parse(recorded_text),
                    template.payload,
                )
            )
        history.sort(key=_order)  # as the aggregate keeps it (a stable sort)
        return history


class _Concat(io.RawIOBase):
    """Several binary streams read one after the other."""

    def __init__(self, streams: list[Any]) -> None:
        self.streams = streams

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while self.streams:
            data = self.streams[0].read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            self.streams.pop(0)
        return 0
