"""Reading contact-event logs: CSV or JSON Lines, gzip or not, with a mapping file.

A log has one event a row.  Its columns (or JSON keys) are
``event_id, contact_id, type, occurred_at, recorded_at, channel, category,
priority, service, attributes``; ``attributes`` is a JSON object that may
hold ``announced_delay``, ``to``, ``reason``, ``requester`` and other values
(``rings``…).  Real exports never use these names: a mapping file renames
columns and values (see :class:`LogMapping`).

Every row gives either a :class:`LogRow` (an event) or a :class:`RejectedRow`
(the file, the line, the field and the reason); one bad row never stops the
reading.  Rejected rows never carry the row's content, which may hold
personal data: the line number is enough to find it in the user's own file.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import difflib
import gzip
import json
import os
import tomllib
import zlib
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

import attrs

from ._contact import (
    ContactEvent,
    _nameable,
    _optional_category,
    _optional_channel,
    _optional_delay,
    _optional_priority,
)
from ._errors import DataError, SlaEngineError, redacted, with_redacted
from ._time import localise, parse_instant, time_zone
from ._vocabulary import EventType

__all__ = ["LogMapping", "LogRow", "RejectedRow", "load_mapping", "read_log"]

FIELDS = (
    "event_id",
    "contact_id",
    "type",
    "occurred_at",
    "recorded_at",
    "channel",
    "category",
    "priority",
    "service",
    "attributes",
)
_REQUIRED = ("event_id", "contact_id", "type", "occurred_at")
# Keys of ``attributes`` that are fields of the event.
_PROMOTED = ("announced_delay", "to", "reason", "requester", "recorded_at")
#: A row longer than this is refused unread (a broken export, or an attack).
MAX_ROW_BYTES = 64 * 1024
MAX_FIELD_CHARS = 4096


@attrs.frozen
class LogRow:
    """One event read from a log."""

    source: str
    line: int
    event: ContactEvent


@attrs.frozen
class RejectedRow:
    """A row that could not be read, and why (never its content)."""

    source: str
    line: int
    field: str | None
    reason: str
    event_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


@attrs.frozen
class LogMapping:
    """How an export's columns and values map to the log format.

    A TOML file::

        [columns]                 # our name = the export's column
        event_id = "id_evenement"
        contact_id = "numero_dossier"
        type = "evenement"
        occurred_at = "date"

        [values.type]             # the export's value = ours
        "Réception" = "received"
        "Réponse envoyée" = "answered"

        [values.channel]
        "Courriel" = "email"

        [options]
        assume_tz = "Europe/Paris"         # for timestamps written without an offset
        occurred_at_format = "%d/%m/%Y %H:%M"   # strptime format, for non-ISO dates
        encoding = "cp1252"                 # default utf-8
        delimiter = ";"                     # default: detected (, or ;)

    Columns not named keep their own name; values not listed pass through.
    Columns of the export that are not the log format's are ignored (a log
    read without a mapping has only the format's own columns).
    """

    columns: Mapping[str, str] = attrs.field(factory=dict)
    values: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)
    assume_tz: str | None = None
    time_format: str | None = None
    encoding: str = "utf-8"
    delimiter: str | None = None

    def column(self, name: str) -> str:
        return self.columns.get(name, name)


_MAPPING_KEYS = {"columns", "values", "options"}
_OPTION_KEYS = {"assume_tz", "occurred_at_format", "encoding", "delimiter"}


def sniff_delimiter(header: str) -> str:
    """``;`` or ``,``: whichever the header line uses more (French exports often use ``;``)."""
    return ";" if header.count(";") > header.count(",") else ","


#: What a line holds for :func:`csv_records`: its number, its text (``None``
#: if it cannot be read) and why it cannot.
Line = tuple[int, str | None, str]


class DamagedLogError(DataError):
    """A log that cannot be read on past a line (a damaged gzip stream): the rows before were."""


def utf8_lines(stream: Iterable[bytes]) -> Iterator[Line]:
    """Each line of a byte stream with its number (from 1), as text; a byte-order mark dropped.

    A line that is not UTF-8 comes as ``None`` with the reason: the caller
    rejects it alone, and the others are read.
    """
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            yield number, None, "not UTF-8 text"
            continue
        yield number, text.removeprefix("\ufeff") if number == 1 else text, ""


def load_mapping(path: str | os.PathLike[str]) -> LogMapping:
    """Read a mapping file, refusing unknown keys and bad values with the file and key named."""
    source = str(path)
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise DataError(f"cannot read the mapping file: {error}", source=source) from None
    except RecursionError:
        raise DataError("cannot read the mapping file: nested too deeply", source=source) from None

    def fail(field: str, message: str) -> DataError:
        return DataError(message, source=source, field=field)

    unknown = set(data) - _MAPPING_KEYS
    if unknown:
        raise fail(sorted(unknown)[0], f"unknown table; known: {', '.join(sorted(_MAPPING_KEYS))}")
    columns = data.get("columns", {})
    if not isinstance(columns, dict):
        raise fail("columns", "must be a table of our name = the export's column")
    for ours, theirs in columns.items():
        if ours not in FIELDS:
            raise fail(f"columns.{ours}", f"not a log field; the fields are {', '.join(FIELDS)}")
        if not isinstance(theirs, str) or not theirs:
            raise fail(f"columns.{ours}", "must name a column of the export")
    values = data.get("values", {})
    if not isinstance(values, dict):
        raise fail("values", "must hold one table per field")
    for field, table in values.items():
        if field not in ("type", "channel", "category", "priority", "service"):
            raise fail(
                f"values.{field}",
                "values can be mapped for type, channel, category, priority, service",
            )
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise fail(f"values.{field}", "must be a table of the export's value = ours")
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise fail("options", "must be a table")
    unknown = set(options) - _OPTION_KEYS
    if unknown:
        raise fail(
            f"options.{sorted(unknown)[0]}",
            f"unknown option; known: {', '.join(sorted(_OPTION_KEYS))}",
        )
    assume_tz = options.get("assume_tz")
    if assume_tz is not None:
        try:
            time_zone(str(assume_tz))
        except SlaEngineError as error:
            raise fail("options.assume_tz", str(error)) from None
    encoding = str(options.get("encoding", "utf-8"))
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise fail("options.encoding", f"unknown encoding {encoding!r}") from None
    # Lines are decoded one at a time: only text encodings whose line ends are
    # single bytes will do (not base64 or rot13, not UTF-16 or UTF-32).
    if not getattr(info, "_is_text_encoding", True) or info.name.startswith(("utf-16", "utf-32")):
        raise fail(
            "options.encoding",
            f"{encoding!r} cannot be read line by line: use utf-8, latin-1, cp1252 or the like",
        )

    delimiter = options.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise fail("options.delimiter", "must be one character, such as ; or ,")
    time_format = options.get("occurred_at_format")
    if time_format is not None:
        _check_time_format(time_format, fail)
    return LogMapping(
        columns=dict(columns),
        values={k: dict(v) for k, v in values.items()},
        assume_tz=None if assume_tz is None else str(assume_tz),
        time_format=time_format,
        encoding=encoding,
        delimiter=delimiter,
    )


def _open(path: Path) -> BinaryIO:
    raw = path.open("rb")
    if raw.peek(3)[:3] == b"\x1f\x8b\x08":  # gzip's magic and deflate, whatever the file's name
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw


def _head(stream: BinaryIO) -> bytes:
    return stream.peek(512)[:512] if hasattr(stream, "peek") else b""


def is_csv_log(path: str | os.PathLike[str]) -> bool:
    """Whether :func:`read_log` reads ``path`` as CSV (not when it cannot read it at all)."""
    file = Path(path)
    try:
        with _open(file) as stream:
            return not _is_json_lines(file, _head(stream))
    except (OSError, EOFError, zlib.error):
        return False  # read_log says what is wrong, with the path


def _is_json_lines(path: Path, head: bytes) -> bool:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return True
    return head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{")  # a BOM too


def read_log(
    path: str | os.PathLike[str],
    *,
    mapping: LogMapping | None = None,
    assume_tz: str | None = None,
) -> Iterator[LogRow | RejectedRow]:
    """Every row of a log, as an event or a rejection, in the file's order."""
    tz_name = assume_tz or (mapping.assume_tz if mapping else None)
    source = str(path)
    file = Path(path)
    try:
        stream = _open(file)
    except OSError as error:
        raise DataError(f"cannot open the log: {error.strerror}", source=source) from None
    with stream:
        try:
            head = _head(stream)
        except (EOFError, OSError, zlib.error) as error:  # a damaged gzip stream
            raise DamagedLogError(
                f"cannot read the compressed log: {error}", source=source
            ) from None

        reader = _Rows(source, mapping, tz_name)
        if _is_json_lines(file, head):
            yield from reader.json_lines(stream)
        else:
            yield from reader.csv_rows(stream)


class _Rows:
    def __init__(self, source: str, mapping: LogMapping | None, tz_name: str | None) -> None:
        self.source = source
        # Without a mapping the log is in the format itself: a column it does
        # not know is a misspelt one, whose values would be dropped unseen.
        self.native = mapping is None
        self.mapping = mapping = mapping or LogMapping()
        self.tz = None if tz_name is None else time_zone(tz_name)
        # Resolved once: (our field, the export's column, its value map or None).
        self.fields = [(name, mapping.column(name), mapping.values.get(name)) for name in FIELDS]

    # -- formats -------------------------------------------------------------------

    def _lines(self, stream: BinaryIO) -> Iterator[tuple[int, str | None, str]]:
        """(line number, text or None if unreadable, reason) for each physical line.

        A line is read at most ``MAX_ROW_BYTES`` at a time, so one huge line (a
        gzip bomb) costs no more memory than a long row.
        """
        decoder = codecs.getincrementaldecoder(self.mapping.encoding)
        number = 0
        while True:
            raw = self._readline(stream, number)
            if not raw:
                return
            number += 1
            if len(raw) > MAX_ROW_BYTES:
                while raw and not raw.endswith(b"\n"):  # skip the rest, a chunk at a time
                    raw = self._readline(stream, number)
                yield number, None, f"the row is longer than {MAX_ROW_BYTES // 1024} KiB"
                continue
            try:
                text = decoder().decode(raw, final=True)
            except UnicodeError:
                yield (
                    number,
                    None,
                    f"not valid {self.mapping.encoding} text "
                    "(name the export's encoding in the mapping file's [options])",
                )
                continue
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield number, text, ""

    def _readline(self, stream: BinaryIO, number: int) -> bytes:
        try:
            return stream.readline(MAX_ROW_BYTES + 1)
        except (EOFError, OSError, zlib.error) as error:  # a damaged gzip stream
            raise DamagedLogError(
                f"the compressed file is damaged after line {number} ({error}); "
                "the rows before it were read",
                source=self.source,
                line=number + 1,
            ) from None

    def json_lines(self, stream: BinaryIO) -> Iterator[LogRow | RejectedRow]:
        for number, text, reason in self._lines(stream):
            if text is None:
                yield RejectedRow(self.source, number, None, reason)
                continue
            if not text.strip():
                continue
            try:
                record = json.loads(text)
            except RecursionError:
                yield RejectedRow(self.source, number, None, "not a JSON object: nested too deeply")
                continue
            except ValueError as error:
                yield RejectedRow(self.source, number, None, f"not a JSON object: {error}")
                continue
            if not isinstance(record, dict):
                yield RejectedRow(self.source, number, None, "not a JSON object")
                continue
            unknown = [k for k in record if k not in FIELDS] if self.native else []
            if unknown:
                yield RejectedRow(self.source, number, None, unknown_names_reason(unknown, "key"))
                continue
            yield self._row(number, {k: v for k, v in record.items() if isinstance(k, str)})

    def csv_rows(self, stream: BinaryIO) -> Iterator[LogRow | RejectedRow]:
        lines = self._lines(stream)
        header_line = next(lines, None)
        if header_line is None:
            return
        number, header_text, reason = header_line
        if header_text is None:
            yield RejectedRow(self.source, number, None, f"header: {reason}")
            return
        delimiter = self.mapping.delimiter or sniff_delimiter(header_text)
        try:
            header = next(csv.reader([header_text], delimiter=delimiter, strict=True))
        except csv.Error as error:  # a lone carriage return (old Mac line ends)…
            raise DataError(
                f"cannot read the header: {error} (is the file's line end a lone CR?)",
                source=self.source,
                line=number,
            ) from None
        header = [h.strip() for h in header]
        self.check_header(header, number)
        for record in csv_records(lines, delimiter, self.source, len(header)):
            if isinstance(record, RejectedRow):
                yield record
            elif record[1].strip():
                yield self.parse_line(*record, header, delimiter)

    def check_header(self, header: list[str], line: int) -> None:
        """Refuse a header missing a required column, or (without a mapping) with an unknown one."""
        missing = [f for f in _REQUIRED if self.mapping.column(f) not in header]
        if missing:
            names = ", ".join(repr(self.mapping.column(f)) for f in missing)
            raise DataError(
                f"the header has no column {names} (columns: {', '.join(header)}); "
                "a mapping file can rename them",
                source=self.source,
                line=line,
            )
        # A column without a name (a trailing separator) cannot be a misspelt field.
        unknown = [h for h in header if h and h not in FIELDS] if self.native else []
        if unknown:
            raise DataError(unknown_names_reason(unknown, "column"), source=self.source, line=line)

    # -- one record ----------------------------------------------------------------

    def parse_line(
        self, line: int, text: str, header: list[str], delimiter: str
    ) -> LogRow | RejectedRow:
        """One CSV record (its text, quoted line ends included) under ``header``."""
        try:
            cells = next(csv.reader((text,), delimiter=delimiter, strict=True))
        except csv.Error as error:
            return RejectedRow(self.source, line, None, f"not valid CSV: {error}")
        if len(cells) != len(header):
            return RejectedRow(
                self.source, line, None, f"{len(cells)} columns where the header has {len(header)}"
            )
        return self._row(line, dict(zip(header, cells, strict=True)))

    def _row(self, line: int, record: Mapping[str, Any]) -> LogRow | RejectedRow:
        field = None
        event_id = None
        try:
            values: dict[str, Any] = {}
            for name, column, value_map in self.fields:
                value = record.get(column)
                if value.__class__ is str:
                    value = value.strip() or None
                    if value is not None and len(value) > MAX_FIELD_CHARS:
                        field = name
                        raise DataError(f"longer than {MAX_FIELD_CHARS} characters")
                if value_map is not None and value is not None:
                    value = value_map.get(str(value), value)
                values[name] = value
            event_id = None if values["event_id"] is None else str(values["event_id"])
            for name in _REQUIRED:
                field = name
                if values[name] is None:
                    raise DataError("missing")
            field = "attributes"
            attributes = self._attributes(values.pop("attributes"))
            for name in _PROMOTED:
                if name in attributes and values.get(name) is None:
                    values[name] = attributes.pop(name)
            field = "occurred_at"
            values["occurred_at"] = self._instant(values["occurred_at"])
            field = "recorded_at"
            if values.get("recorded_at") is not None:
                values["recorded_at"] = self._instant(values["recorded_at"], iso_too=True)
            for name in ("event_id", "contact_id", "service", "requester", "to", "reason"):
                value = values.get(name)
                if value is None:
                    continue
                field = name
                # A JSON number may be an id; an object, a list, true or 7.0 is not
                # text, and its Python form would be stored in its place.
                if value.__class__ is int and name in ("event_id", "contact_id"):
                    values[name] = str(value)
                elif not isinstance(value, str):
                    raise DataError(f"must be text, not {type(value).__name__}")
            bad = _not_unicode(values, attributes)
            if bad is not None:
                field = bad
                raise DataError("not valid Unicode text")
            field = "type"
            values["type"] = EventType.parse(str(values["type"]))
            for name in ("channel", "category", "priority", "announced_delay"):
                value = values.get(name)
                if value is not None and not isinstance(value, str):
                    field = name
                    raise DataError(f"must be text, not {type(value).__name__}")
            field = _CONSTRUCTING
            event = ContactEvent(attributes=attributes, **values)

        except (SlaEngineError, ValueError, TypeError) as error:
            reason = redacted(error)  # never the row's content (docs/security.md)
            if field == _CONSTRUCTING:
                if isinstance(error, DataError) and error.field:
                    field = error.field
                else:
                    field = _culprit(values)
            return RejectedRow(self.source, line, field, reason, event_id)
        return LogRow(self.source, line, event)

    def _attributes(self, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if isinstance(value, dict):
            # The same bound as a cell's, on its JSON text.
            if len(json.dumps(value, ensure_ascii=False, default=str)) > MAX_FIELD_CHARS:
                raise DataError(f"longer than {MAX_FIELD_CHARS} characters")
            return dict(value)
        try:
            parsed = json.loads(str(value))
        except RecursionError:
            raise DataError("not a JSON object: nested too deeply") from None
        except ValueError as error:
            raise DataError(f"not a JSON object: {error}") from None
        if not isinstance(parsed, dict):
            raise DataError("not a JSON object")
        return parsed

    def _instant(self, value: Any, *, iso_too: bool = False) -> dt.datetime:
        """An instant of the log: in the mapping's format if it names one.

        ``iso_too``: ISO 8601 is read as well (``recorded_at``, which the
        format is named for less than ``occurred_at``).
        """
        text = str(value)
        if self.mapping.time_format:
            try:
                naive = dt.datetime.strptime(text, self.mapping.time_format)
            except ValueError:
                if iso_too:
                    with contextlib.suppress(SlaEngineError, ValueError):
                        return parse_instant(text, assume_tz=self.tz)
                raise with_redacted(
                    DataError(f"{text!r} does not match the format {self.mapping.time_format!r}"),
                    f"does not match the format {self.mapping.time_format!r}",
                ) from None
            if naive.tzinfo is not None:
                return naive
            if self.tz is None:
                raise with_redacted(
                    DataError(f"{text!r} has no UTC offset: name the time zone (--assume-tz)"),
                    "no UTC offset: name the time zone (--assume-tz)",
                )
            return localise(naive, self.tz)
        return parse_instant(text, assume_tz=self.tz)


def _check_time_format(time_format: Any, fail: Callable[[str, str], DataError]) -> None:
    """Refuse a date format that is not text, reads nothing, or throws a zone away."""
    key = "options.occurred_at_format"
    if not isinstance(time_format, str) or "%" not in time_format:
        raise fail(key, "must be a strptime format such as %d/%m/%Y %H:%M")
    if "%Z" in time_format:
        # strptime reads a zone name (UTC, CET) and forgets it: the time would
        # be placed in assume_tz instead, an hour or more off.
        raise fail(key, "%Z reads a zone name and drops it: write offsets with %z")
    sample = dt.datetime(2025, 10, 17, 16, 5, 30, tzinfo=dt.UTC)
    try:
        dt.datetime.strptime(sample.strftime(time_format), time_format)
    except ValueError as error:
        raise fail(key, f"cannot read back what it writes ({error})") from None


def _not_unicode(values: Mapping[str, Any], attributes: Mapping[str, Any]) -> str | None:
    """The field holding text that cannot be stored (half of a UTF-16 pair, from a JSON escape)."""
    texts = [*values.items(), *(("attributes", t) for item in attributes.items() for t in item)]
    for name, text in texts:
        if isinstance(text, str):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                return name
    return None


def unknown_names_reason(unknown: list[str], kind: str) -> str:
    """Why a log's ``kind`` (column or key) names are refused: each one's closest known name."""
    described = []
    hidden = 0
    for name in unknown:
        if not _nameable(name):  # a name may be data (« Mme Dupont »): counted, not quoted
            hidden += 1
            continue
        shown = repr(name)
        if name in _PROMOTED:
            described.append(f"{shown} (it goes in attributes)")
            continue
        close = difflib.get_close_matches(name.lower(), FIELDS, n=1)
        described.append(f"{shown} (did you mean {close[0]!r}?)" if close else shown)
    if hidden:
        described.append(f"{hidden} more not written as a name (not quoted: it may be data)")
    plural = "s" if len(unknown) > 1 else ""
    return (
        f"unknown {kind}{plural} {', '.join(described)}: the log format's {kind}s are "
        f"{', '.join(FIELDS)}; an export with names of its own needs a mapping file "
        "(--mapping), which renames its columns and ignores those it does not use"
    )


def csv_records(
    lines: Iterable[Line], delimiter: str, source: str, columns: int
) -> Iterator[tuple[int, str] | RejectedRow]:
    """Each CSV record as (its first line, its text with quoted line ends), or its rejection.

    A quoted field may go on over several lines.  One that runs past
    ``MAX_ROW_BYTES``, into a line that cannot be read or to the end of the
    file is an unterminated quote: its record is rejected alone, at the line
    where the quote opened, and the lines after that one are read again as
    records of their own, so that one stray quote costs no other row.  So
    is one that closes on a later line (at the next stray quote) but makes a
    record of other than ``columns`` fields; there the lines are read again
    once, not for a second such record (which the caller rejects whole), so
    that reading stays linear: each line is scanned at most twice.
    """
    held: deque[tuple[int, str]] = deque()  # a record whose quoted field goes on
    length = 0  # of the held lines' text
    for number, text, reason in lines:
        if text is None:
            why = f"unterminated quoted field: line {number} cannot be read"
            while held:
                yield from _reject_first(held, delimiter, source, why)
            length = 0
            yield RejectedRow(source, number, None, reason)
            continue
        if not held:
            if not _ends_in_quotes(text, delimiter, False):
                yield number, text
                continue
        elif not _ends_in_quotes(text, delimiter, True):
            held.append((number, text))
            joined = "".join(t for _, t in held)
            wrong = _wrong_width(joined, delimiter, columns)
            if wrong is None:
                yield held[0][0], joined
                held.clear()
                length = 0
                continue
            # A count of lines, not a line number: a columnar replay hands the
            # reader a part of the log, numbered from the part's first line.
            why = f"unterminated quoted field: read on over {len(held)} lines, {wrong}"
            yield from _reject_first(held, delimiter, source, why)
            if len(held) > 1:  # a quote opened again, and closes on the same line
                yield held[0][0], "".join(t for _, t in held)
                held.clear()
            length = sum(len(t) for _, t in held)  # the last line may open a quote anew
            continue
        held.append((number, text))
        length += len(text)
        if length > MAX_ROW_BYTES:
            why = "unterminated quoted field"
            while held and length > MAX_ROW_BYTES:
                length -= yield from _reject_first(held, delimiter, source, why)
    why = "unterminated quoted field at end of file"
    while held:
        yield from _reject_first(held, delimiter, source, why)


def _wrong_width(text: str, delimiter: str, columns: int) -> str | None:
    """What is wrong with a record over several lines that is not ``columns`` fields wide."""
    try:
        cells = next(csv.reader((text,), delimiter=delimiter, strict=True))
    except csv.Error as error:
        return f"not valid CSV: {error}"
    if len(cells) != columns:
        return f"a row of {len(cells)} columns where the header has {columns}"
    return None


def _reject_first(
    held: deque[tuple[int, str]], delimiter: str, source: str, reason: str
) -> Generator[tuple[int, str] | RejectedRow, None, int]:
    """Reject the held record's first line, and read the lines after it again as records.

    Every held line but the first ends inside a quoted field when entered
    inside one: so a line that opens a quoted field anew keeps the rest of
    the held lines as its record, and only the lines before it are scanned
    again.  Returns the length of the text taken from ``held``.
    """
    number, text = held.popleft()
    taken = len(text)
    yield RejectedRow(source, number, None, reason)
    while held and not _ends_in_quotes(held[0][1], delimiter, False):
        number, text = held.popleft()
        taken += len(text)
        yield number, text
    return taken


def _ends_in_quotes(line: str, delimiter: str, inside: bool) -> bool:
    """Whether a CSV record is still inside a quoted field at the end of ``line``.

    Only a quote that opens a field starts a quoted field; a quote inside an
    unquoted field is an ordinary character (as Python's csv reads it), so a
    stray quote cannot swallow the rows after it.  Linear in the line: a long
    run of continuation lines is read in linear time.
    """
    if not inside and '"' not in line:
        return False  # most lines: no quote at all
    field_start = not inside
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if inside:
            if ch == '"':
                if i + 1 < n and line[i + 1] == '"':  # an escaped quote
                    i += 2
                    continue
                inside = False
        elif ch == '"' and field_start:
            inside = True
        field_start = not inside and ch == delimiter
        i += 1
    return inside


#: The field of a rejected row while its event is being made: the event's own
#: checks name their field, or :func:`_culprit` finds it.
_CONSTRUCTING = "event"


def _culprit(values: dict[str, Any]) -> str:
    """The field whose value the event refused, checked one by one (only on a rejected row)."""
    for name, check in (
        ("channel", _optional_channel),
        ("category", _optional_category),
        ("priority", _optional_priority),
        ("announced_delay", _optional_delay),
    ):
        try:
            check(values.get(name))
        except (SlaEngineError, ValueError, TypeError):
            return name
    return _CONSTRUCTING
