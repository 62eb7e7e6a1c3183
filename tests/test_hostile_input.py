"""Hostile input: every parser of user input refuses what it cannot read, and only that.

The parsers are the log reader (CSV and JSON Lines, plain or gzip), the
mapping-file loader, the catalogue loader, delays, calendar specs, opening
hours, weekdays and instants; the renderers are the HTML and CSV reports,
whose text comes from the logs and catalogues.  The properties:

- no exception but the documented ones: ``SlaEngineError`` subclasses, and for
  the log reader only ``LogRow`` / ``RejectedRow`` items, or a ``DataError``
  for an unreadable header or file;
- every rejection says where: the log's line, the mapping's field;
- a bad row never costs a good one: valid rows mixed with garbage all come out;
- oversized input is refused in bounded memory and time;
- nothing from the data runs in the HTML page or in a spreadsheet.

Each engine bug these tests found (a lone CR in a header, damaged gzip files,
deeply nested JSON and TOML, a stray quote swallowing rows, quadratic reading
of unterminated quotes, unbounded memory on one huge line, misattributed
fields, non-text encodings, time-zone names that are folders, a CR in a CSV
cell) has a test of its own below; the Hypothesis tests leave out only the
inputs those tests pin (each ``assume`` says which).

"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gzip
import io
import itertools
import json
import signal
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from sla_engine import SlaEngineError
from sla_engine._calendar import Calendar, calendar
from sla_engine._catalogue import CatalogueError, catalogue_names, load_catalogue, parse_catalogue
from sla_engine._delay import Delay
from sla_engine._errors import (
    CalendarSpecError,
    DataError,
    DelayError,
    InvalidTimeError,
    NaiveDatetimeError,
)
from sla_engine._hours import OpeningHours
from sla_engine._logs import FIELDS, LogMapping, LogRow, RejectedRow, load_mapping, read_log
from sla_engine._report import render_csv
from sla_engine._report_html import render_html
from sla_engine._time import parse_instant
from sla_engine._vocabulary import EventType
from sla_engine._weekdays import format_weekdays, parse_weekdays

from .conftest import REPO

HEADER = ",".join(FIELDS) + "\n"
GOOD = "E1,C1,received,2025-10-17T16:05:00+02:00,,email,information,normal,DSDEN 25,\n"
GOOD_JSON = json.dumps(
    {
        "event_id": "E1",
        "contact_id": "C1",
        "type": "received",
        "occurred_at": "2025-10-17T16:05:00+02:00",
        "channel": "email",
    }
)
MiB = 1024 * 1024
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def folder() -> Iterator[Path]:
    """A module-wide folder (Hypothesis tests cannot use function-scoped ``tmp_path``)."""
    with tempfile.TemporaryDirectory(prefix="sla-hostile-") as name:
        yield Path(name)


_names = itertools.count()


def write(folder: Path, data: bytes, suffix: str = ".csv") -> Path:
    path = folder / f"input-{next(_names)}{suffix}"
    path.write_bytes(data)
    return path


def physical_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def read_checked(path: Path, lines: int, **options: Any) -> list[LogRow | RejectedRow] | None:
    """Every item of the log, checked; ``None`` if the reader refused the file (DataError)."""
    try:
        items = list(read_log(path, **options))
    except DataError as error:  # anything else fails the test
        assert error.source == str(path)  # noqa: PT017 - either outcome is allowed
        return None
    for item in items:
        assert isinstance(item, LogRow | RejectedRow), item
        assert 1 <= item.line <= max(lines, 1), (item, lines)
        assert item.source == str(path)
        if isinstance(item, RejectedRow):
            assert item.reason
            assert str(item).startswith(f"{path}:{item.line}: ")
    with contextlib.suppress(OSError):
        path.unlink()
    return items


def first_line(data: bytes) -> bytes:
    return data.split(b"\n", 1)[0]


# -- valid rows and garbage rows -----------------------------------------------------

# Text a field may hold: any character but line breaks, controls and lone surrogates.
FIELD_TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s.strip() == s and s.strip())
OFFSETS = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
INSTANTS = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2090, 12, 31)),
    OFFSETS,
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=10),
)
ATTRIBUTE_NAMES = st.text(max_size=8).filter(
    lambda k: k not in ("announced_delay", "to", "reason", "requester", "recorded_at")
)


@st.composite
def valid_record(draw: st.DrawFn, number: int) -> dict[str, Any]:
    kind = draw(st.sampled_from([t.value for t in EventType]))
    record: dict[str, Any] = {
        "event_id": f"V{number}-{draw(FIELD_TEXT)}",
        "contact_id": draw(FIELD_TEXT),
        "type": kind,
        "occurred_at": draw(INSTANTS).isoformat(),
        "recorded_at": draw(st.none() | INSTANTS.map(dt.datetime.isoformat)),
        "channel": draw(st.sampled_from(["email", "letter", "phone", "counter", "web", "courriel"]))
        if kind == "received"
        else draw(st.none() | st.just("web")),
        "category": draw(st.none() | FIELD_TEXT),
        "priority": draw(st.sampled_from([None, "normal", "urgent", "urgente"])),
        "service": draw(st.none() | FIELD_TEXT),
        "attributes": draw(st.none() | st.dictionaries(ATTRIBUTE_NAMES, SCALARS, max_size=3)),
    }
    return record


def csv_line(record: dict[str, Any], delimiter: str = ",", end: str = "\n") -> bytes:
    out = io.StringIO()
    cells = [record.get(name) for name in FIELDS]
    if cells[-1] is not None:
        cells[-1] = json.dumps(cells[-1], ensure_ascii=False)
    csv.writer(out, delimiter=delimiter, lineterminator=end).writerow(
        ["" if c is None else c for c in cells]
    )
    return out.getvalue().encode("utf-8")


def json_line(record: dict[str, Any], end: str = "\n") -> bytes:
    data = {k: v for k, v in record.items() if v is not None}
    return (json.dumps(data, ensure_ascii=False) + end).encode("utf-8")


HOSTILE_BYTES = st.sampled_from(
    [b"\x00", b"\xef\xbb\xbf", b"\r", b"\xff", b"\xc3", b"\xed\xa0\x80", b";", b",", b"\t", b"{",
     b"}", b"[", b"\\", b"\xe2\x80\xa8", b"\"\"", b"=cmd|' /C calc'!A0", b"null", b"\x1f\x8b"]
)  # fmt: skip


@st.composite
def garbage_line(draw: st.DrawFn, render: Callable[[dict[str, Any]], bytes]) -> bytes:
    """One physical line of junk, often a valid row damaged; never a line break in it.

    A quote that opens a field legitimately runs on to the next line, so the
    quotes are kept balanced (``test_a_stray_quote_...`` covers the other case).
    """
    valid = render(draw(valid_record(-1)))
    kind = draw(
        st.sampled_from(
            ["bytes", "text", "truncated", "mutated", "columns", "huge_field", "long_row", "json"]
        )
    )
    if kind == "bytes":
        line = draw(st.binary(max_size=120))
    elif kind == "text":
        line = draw(st.text(max_size=60)).encode("utf-8", "surrogatepass")
    elif kind == "truncated":
        line = valid[: draw(st.integers(0, len(valid)))]
    elif kind == "mutated":
        line = bytearray(valid)
        for _ in range(draw(st.integers(1, 5))):
            at = draw(st.integers(0, len(line)))
            line[at:at] = draw(HOSTILE_BYTES | st.binary(min_size=1, max_size=3))
            if draw(st.booleans()) and line:
                del line[draw(st.integers(0, len(line) - 1))]
        line = bytes(line)
    elif kind == "columns":
        line = b",".join([b"x"] * draw(st.integers(0, 40)))
    elif kind == "huge_field":
        line = valid.replace(b",", b"," + b"x" * 5000 + b"y", 1)
    elif kind == "long_row":
        line = b"a," * (40 * 1024)
    else:
        line = json.dumps(draw(st.recursive(SCALARS, st.lists, max_leaves=5))).encode()
    line = line.replace(b"\n", b"")
    if line.count(b'"') % 2:
        at = line.rindex(b'"')
        line = line[:at] + line[at + 1 :]
    return line + b"\n"


def assemble(
    draw: st.DrawFn, render: Callable[[dict[str, Any]], bytes], header: bytes
) -> tuple[bytes, dict[int, str]]:
    """A log of valid rows shuffled among garbage rows: (bytes, {line: event id})."""
    records = [draw(valid_record(n)) for n in range(draw(st.integers(1, 6)))]
    junk = draw(st.lists(garbage_line(render), max_size=6))
    lines: list[tuple[bytes, str | None]] = [(render(r), r["event_id"]) for r in records]
    lines += [(g, None) for g in junk]
    order = draw(st.permutations(range(len(lines))))
    data = header
    expected: dict[int, str] = {}
    number = physical_lines(header) if header else 0
    for i in order:
        line, event_id = lines[i]
        number += 1
        data += line
        if event_id is not None:
            expected[number] = event_id
    return data, expected


@st.composite
def csv_log(draw: st.DrawFn) -> tuple[bytes, dict[int, str]]:
    delimiter = draw(st.sampled_from([",", ";"]))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    header = (delimiter.join(FIELDS) + end).encode()
    if draw(st.booleans()):
        header = b"\xef\xbb\xbf" + header

    def render(record: dict[str, Any]) -> bytes:
        return csv_line(record, delimiter, end)

    return assemble(draw, render, header)


@st.composite
def json_log(draw: st.DrawFn) -> tuple[bytes, dict[int, str]]:
    end = draw(st.sampled_from(["\n", "\r\n"]))

    def render(record: dict[str, Any]) -> bytes:
        return json_line(record, end)

    data, expected = assemble(draw, render, b"")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return data, expected


def check_valid_rows_kept(folder: Path, data: bytes, expected: dict[int, str], suffix: str) -> None:
    compressed = gzip.compress(data, mtime=0)
    for blob in (data, compressed):
        path = write(folder, blob, suffix)
        items = read_checked(path, physical_lines(data))
        assert items is not None, "the header is valid"
        by_line = {item.line: item for item in items}
        for line, event_id in expected.items():
            item = by_line.get(line)
            assert isinstance(item, LogRow), (line, item)
            assert item.event.event_id == event_id


@FAST
@given(csv_log())
def test_valid_csv_rows_among_garbage_rows_are_all_read(
    folder: Path, log: tuple[bytes, dict[int, str]]
) -> None:
    check_valid_rows_kept(folder, *log, ".csv")


@FAST
@given(json_log())
def test_valid_json_lines_among_garbage_lines_are_all_read(
    folder: Path, log: tuple[bytes, dict[int, str]]
) -> None:
    check_valid_rows_kept(folder, *log, ".jsonl")


@FAST
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".jsonl", ".log"]))
@example(data=b"", suffix=".csv")
@example(data=b"\xef\xbb\xbf", suffix=".csv")
@example(data=b"\n\n\n", suffix=".csv")
@example(data=b"\xff\xfe" + HEADER.encode("utf-16-le"), suffix=".csv")
def test_arbitrary_bytes_give_rows_rejections_or_a_data_error(
    folder: Path, data: bytes, suffix: str
) -> None:
    assume(b"\r" not in first_line(data))  # test_a_carriage_return_in_the_header_...
    assume(not data.startswith(b"\x1f\x8b"))  # test_a_damaged_gzip_file_...
    read_checked(write(folder, data, suffix), physical_lines(data))


@FAST
@given(
    body=st.binary(max_size=3000) | st.text(max_size=1000).map(str.encode),
    suffix=st.sampled_from([".csv", ".jsonl"]),
    zipped=st.booleans(),
)
def test_arbitrary_rows_after_a_valid_header_give_rows_or_rejections(
    folder: Path, body: bytes, suffix: str, zipped: bool
) -> None:
    data = (HEADER.encode() if suffix == ".csv" else b"") + body
    path = write(folder, gzip.compress(data, mtime=0) if zipped else data, suffix)
    items = read_checked(path, physical_lines(data))
    # Content that starts like gzip (magic and method) is read as gzip: when it
    # is not, that is a DataError for the whole file, by design.
    starts_like_gzip = not zipped and data.startswith(b"\x1f\x8b\x08")
    assert items is not None or starts_like_gzip or (suffix == ".csv" and b"\r" in first_line(data))


# -- bugs of the log reader, one test each ---------------------------------------------


@pytest.mark.parametrize(
    "data",
    [(HEADER + GOOD).replace("\n", "\r").encode(), ("event_id\r," + HEADER + GOOD).encode()],
    ids=["cr-line-ends", "cr-in-header"],
)
def test_a_carriage_return_in_the_header_is_a_data_error(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(DataError):
        list(read_log(write(tmp_path, data)))


@pytest.mark.parametrize("cut", ["half", "magic-only", "trailing-junk", "bad-deflate", "bad-crc"])
def test_a_damaged_gzip_file_is_a_data_error(tmp_path: Path, cut: str) -> None:
    whole = gzip.compress((HEADER + GOOD * 100).encode(), mtime=0)
    data = {
        "half": whole[: len(whole) // 2],
        "magic-only": b"\x1f\x8b",
        "trailing-junk": whole + b"junk",
        # Found by benchmarks/fuzz_logs.py: zlib.error, invalid distance too far back.
        "bad-deflate": whole[:40] + b"\xff" * 60 + whole[100:],
        "bad-crc": whole[:-8] + bytes(8),
    }[cut]
    try:
        items = list(read_log(write(tmp_path, data)))
    except DataError:
        return
    assert all(isinstance(i, LogRow | RejectedRow) for i in items)


DEEP = 5000


@pytest.mark.parametrize("where", ["csv-attributes", "json-attributes", "json-line"])
def test_deeply_nested_json_is_a_rejected_row(tmp_path: Path, where: str) -> None:
    if where == "csv-attributes":  # 2,000 brackets: under the 4,096-character field limit
        bad = GOOD.rstrip("\n").encode() + b'"' + b"[" * 2000 + b"]" * 2000 + b'"\n'
        path = write(tmp_path, HEADER.encode() + bad + GOOD.replace("E1", "E2").encode())
    else:
        nested = "[" * DEEP + "]" * DEEP
        bad_text = (
            GOOD_JSON[:-1] + f', "attributes": {{"x": {nested}}}}}'
            if where == "json-attributes"
            else nested
        )
        path = write(tmp_path, f"{bad_text}\n{GOOD_JSON}\n".encode(), ".jsonl")
    items = list(read_log(path))
    assert [type(i) for i in items] == [RejectedRow, LogRow]


def test_a_stray_quote_inside_a_field_does_not_swallow_the_next_rows(tmp_path: Path) -> None:
    bad = 'E0,C0,received,2025-10-17T16:05:00+02:00,,email,informa"tion,normal,DSDEN,\n'
    path = write(tmp_path, (HEADER + bad + GOOD).encode())
    items = list(read_log(path))
    assert [i.line for i in items if isinstance(i, LogRow)] == [2, 3]


class _Timeout(Exception):
    pass


def within(seconds: float, action: Callable[[], Any]) -> Any:
    """``action()``, failing with :class:`_Timeout` after ``seconds`` (SIGALRM)."""

    def alarm(_signum: int, _frame: object) -> None:
        raise _Timeout(f"more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return action()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_an_unterminated_quote_over_many_short_lines_is_read_fast(tmp_path: Path) -> None:
    # Longer than the 64 KiB row limit: the quoted field is refused there, and
    # the rows after it are read again.
    path = write(tmp_path, (HEADER + '"' + "\n" * 70_000 + GOOD).encode())

    items = within(2.0, lambda: list(read_log(path)))
    assert isinstance(items[-1], LogRow)


def traced_peak(action: Callable[[], Any]) -> tuple[Any, int, float]:
    """(result, peak bytes allocated, seconds) of ``action()``."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak, time.perf_counter() - started


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_10_mb_line_is_refused_in_bounded_memory(tmp_path: Path, suffix: str) -> None:
    head = HEADER if suffix == ".csv" else ""
    good = GOOD if suffix == ".csv" else GOOD_JSON + "\n"
    path = tmp_path / f"huge{suffix}"
    path.write_bytes(head.encode() + b"x" * (10 * MiB) + b"\n" + good.encode())
    items, peak, seconds = traced_peak(lambda: list(read_log(path)))
    assert [type(i) for i in items] == [RejectedRow, LogRow]
    assert "64 KiB" in items[0].reason
    assert peak < 50 * MiB, f"{peak / MiB:.0f} MiB"
    assert seconds < 5


def test_a_row_of_100_000_columns_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, (HEADER + ",".join(["x"] * 100_000) + "\n" + GOOD).encode())
    items, peak, seconds = traced_peak(lambda: list(read_log(path)))
    assert [type(i) for i in items] == [RejectedRow, LogRow]
    assert peak < 50 * MiB
    assert seconds < 5


def test_60_000_columns_under_the_row_limit_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, (HEADER + "," * 30_000 + "\n" + GOOD).encode())
    items, peak, seconds = traced_peak(lambda: list(read_log(path)))
    assert [type(i) for i in items] == [RejectedRow, LogRow]
    assert "columns" in items[0].reason
    assert peak < 50 * MiB
    assert seconds < 5


def test_nesting_a_little_deep_in_attributes_is_read_or_refused(tmp_path: Path) -> None:
    nested = "[" * 200 + "]" * 200
    attributes = json.dumps({"x": json.loads(nested)}).replace('"', '""')
    bad = GOOD.rstrip("\n") + '"' + attributes + '"\n'
    items = list(read_log(write(tmp_path, (HEADER + bad + GOOD).encode())))
    assert [type(i) for i in items] == [RejectedRow, LogRow]
    assert items[0].field == "attributes.x"


def test_a_gzip_bomb_line_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(HEADER.encode())
        chunk = b"x" * MiB
        for _ in range(80):
            out.write(chunk)
        out.write(b"\n" + GOOD.encode())
    size = path.stat().st_size
    items, peak, _ = traced_peak(lambda: list(read_log(path)))
    assert [type(i) for i in items] == [RejectedRow, LogRow]
    assert peak < size + 50 * MiB, f"{peak / MiB:.0f} MiB for a {size / MiB:.1f} MiB file"


@pytest.mark.parametrize(
    ("name", "value", "fields"),
    [
        ("category", 5, {"category"}),
        ("category", {"x": 1}, {"category"}),
        ("priority", [1], {"priority"}),
        ("attributes", {"announced_delay": 5}, {"announced_delay", "attributes"}),
    ],
    ids=["category-number", "category-object", "priority-list", "announced-delay-number"],
)
def test_a_json_value_of_the_wrong_type_names_its_field(
    tmp_path: Path, name: str, value: object, fields: set[str]
) -> None:
    record = json.loads(GOOD_JSON) | {name: value}
    items = list(read_log(write(tmp_path, (json.dumps(record) + "\n").encode(), ".jsonl")))
    assert len(items) == 1
    assert isinstance(items[0], RejectedRow)
    assert items[0].field in fields


# -- mapping files ---------------------------------------------------------------------

MAPPING = """\
[columns]
event_id = "numero"
contact_id = "dossier"
type = "evenement"
occurred_at = "date"
channel = "canal"

[values.type]
"Réception" = "received"
"Réponse envoyée" = "answered"

[values.channel]
"Courriel" = "email"

[options]
assume_tz = "Europe/Paris"
occurred_at_format = "%d/%m/%Y %H:%M"
encoding = "utf-8"
delimiter = ";"
"""
MAPPED_LOG = (
    "numero;dossier;evenement;date;canal\n"
    "N1;D1;Réception;17/10/2025 16:05;Courriel\n"
    "N2;D1;Réponse envoyée;20/10/2025 09:00;\n"
    "N3;D2;Réception;30/03/2025 02:30;Courriel\n"
)

MAPPING_VALUES = st.one_of(
    st.sampled_from(
        [
            '"Europe/Paris"', '"UTC"', '"Nowhere/Land"', '""', "5", "true", "[]", "{}", '"%"',
            '"%Q %d"', '"%Y-%m-%dT%H:%M:%S%z"', '"latin-1"', '"cp1252"', '"ascii"',
            '"utf-8-sig"', '"klingon"', '";"', '","', '"\\t"', '"|"', '"\\""', "\"'\"",
            '"\\n"', '"ab"', '"numero"', '"event_id"', '{ "x" = "y" }', '{ "x" = 5 }',
            '"received"', '"nonsense"', "1979-05-27", "-inf", "nan",
        ]
    ),
    st.text(max_size=12).map(json.dumps),
)  # fmt: skip
MAPPING_KEYS = st.sampled_from(
    ["event_id", "type", "occurred_at", "recorded_at", "attributes", "assume_tz", "encoding",
     "delimiter", "occurred_at_format", "zzz", '"Courriel"', "columns", "values"]
)  # fmt: skip
MAPPING_TABLES = ["[values.priority]", "[values.zzz]", "[x]", "[[columns]]", "[options.x]",
                  "[values]"]  # fmt: skip
# Values whose bugs have their own tests below.
KNOWN_BAD_MAPPING_VALUES = ('"Europe"', '"America"', '"utf-16"', '"base64"', '"rot13"', '"hex"')


@st.composite
def damaged_mapping(draw: st.DrawFn) -> str:
    lines = MAPPING.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["delete", "replace", "insert", "chars", "table"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if not lines:
            lines.append("")
        if action == "delete":
            del lines[i]
        elif action == "replace" and "=" in lines[i]:
            lines[i] = lines[i].split("=", 1)[0] + "= " + draw(MAPPING_VALUES)
        elif action == "insert":
            lines.insert(i, f"{draw(MAPPING_KEYS)} = {draw(MAPPING_VALUES)}")
        elif action == "table":
            lines.insert(i, draw(st.sampled_from(MAPPING_TABLES)))
        else:
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.text(max_size=4)) + lines[i][at + 1 :]
    return "\n".join(lines) + "\n"


def check_mapping(folder: Path, text: str) -> LogMapping | None:
    path = write(folder, text.encode("utf-8", "surrogatepass"), ".toml")
    try:
        mapping = load_mapping(path)
    except DataError as error:  # anything else fails the test
        assert error.source == str(path)  # noqa: PT017 - either outcome is allowed
        # Where: the key at fault, or the TOML parser's (or decoder's) position.
        where = ("line", "end of document", "position")
        assert error.field is not None or any(w in error.message for w in where), error  # noqa: PT017
        return None
    assert isinstance(mapping, LogMapping)
    return mapping


@FAST
@given(st.text(max_size=300))
@example("[options]\nencoding = 5\n")
@example("[values]\ntype = 5\n")
@example("columns = 5\n")
def test_arbitrary_text_as_a_mapping_file(folder: Path, text: str) -> None:
    assume(not any(bad in text for bad in KNOWN_BAD_MAPPING_VALUES))
    mapping = check_mapping(folder, text)
    if mapping is not None:
        path = write(folder, (HEADER + GOOD).encode())
        read_checked(path, 2, mapping=mapping)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_mapping())
def test_a_mapping_the_loader_accepts_never_breaks_the_reader(folder: Path, text: str) -> None:
    mapping = check_mapping(folder, text)
    if mapping is None:
        return
    for log in (MAPPED_LOG, HEADER + GOOD, MAPPED_LOG.replace(";", ",")):
        data = log.encode()
        read_checked(write(folder, data), physical_lines(data), mapping=mapping)


def test_the_undamaged_mapping_reads_its_log(tmp_path: Path) -> None:
    mapping = load_mapping(write(tmp_path, MAPPING.encode(), ".toml"))
    items = list(read_log(write(tmp_path, MAPPED_LOG.encode()), mapping=mapping))
    assert [type(i).__name__ for i in items] == ["LogRow", "LogRow", "RejectedRow"]
    assert items[2].field == "occurred_at"  # 02:30 on 30 March does not exist in Paris


@pytest.mark.parametrize("encoding", ["base64", "hex", "rot13", "utf-16"])
def test_a_mapping_encoding_that_is_not_a_text_encoding_is_refused(
    tmp_path: Path, encoding: str
) -> None:
    path = write(tmp_path, f'[options]\nencoding = "{encoding}"\n'.encode(), ".toml")
    try:
        mapping = load_mapping(path)
    except DataError as error:
        assert error.field == "options.encoding"  # noqa: PT017 - refusing it is a fix
        return
    items = list(read_log(write(tmp_path, (HEADER + GOOD).encode()), mapping=mapping))
    assert all(isinstance(i, LogRow | RejectedRow) for i in items)


@pytest.mark.parametrize("name", ["Europe", "America", "x" * 300])
@pytest.mark.parametrize("where", ["parse_instant", "read_log", "load_mapping"])
def test_a_time_zone_name_that_is_a_folder_or_too_long_is_an_error(
    tmp_path: Path, name: str, where: str
) -> None:
    if where == "parse_instant":
        with pytest.raises(InvalidTimeError):
            parse_instant("2025-10-17T16:05:00", assume_tz=name)
    elif where == "read_log":
        with pytest.raises(SlaEngineError):
            list(read_log(write(tmp_path, (HEADER + GOOD).encode()), assume_tz=name))
    else:
        path = write(tmp_path, f'[options]\nassume_tz = "{name}"\n'.encode(), ".toml")
        with pytest.raises(DataError, match=r"options\.assume_tz"):
            load_mapping(path)


@pytest.mark.parametrize("loader", ["load_mapping", "parse_catalogue"])
def test_deeply_nested_toml_is_a_data_error(tmp_path: Path, loader: str) -> None:
    text = "x = " + "[" * 3000 + "]" * 3000 + "\n"
    if loader == "load_mapping":
        with pytest.raises(DataError):
            load_mapping(write(tmp_path, text.encode(), ".toml"))
    else:
        with pytest.raises(CatalogueError):
            parse_catalogue(text, source="deep.toml")


# -- catalogues: character-level damage to the shipped ones ----------------------------
# (tests/test_catalogue.py damages a test catalogue line by line; these cut, insert
# and swap characters of the real files, which reaches the TOML parser's errors.)

TOML_JUNK = ['"', "'''", "[", "]]", "\\u", "=", "\n[[engagement]]\n", "#", "\x00"]
SHIPPED = {name: load_catalogue(name).text or "" for name in catalogue_names()}


@st.composite
def damaged_shipped_catalogue(draw: st.DrawFn) -> str:
    text = SHIPPED[draw(st.sampled_from(sorted(SHIPPED)))]
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["cut", "insert", "swap", "truncate"]))
        if action == "cut":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif action == "insert":
            junk = draw(st.text(max_size=8) | st.sampled_from(TOML_JUNK))
            text = text[:at] + junk + text[at:]
        elif action == "swap":
            lines = text.splitlines()
            if not lines:  # an earlier truncation left nothing to swap
                continue
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        else:
            text = text[:at]
    return text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_shipped_catalogue())
def test_damaged_shipped_catalogues_load_or_raise_catalogue_error(text: str) -> None:
    try:
        catalogue = parse_catalogue(text, source="damaged.toml")
    except CatalogueError as error:  # anything else fails the test
        assert error.errors  # noqa: PT017 - either outcome is allowed
        assert all(str(e).startswith("damaged.toml") for e in error.errors)  # noqa: PT017
        return
    assert len({e.id for e in catalogue.engagements}) == len(catalogue.engagements)


# -- delays, calendars, opening hours, weekdays, instants ------------------------------

UNIT_WORDS = ["jours ouvrés", "jour ouvré", "jours", "JOURS OUVRABLES", "jours calendaires",
              "jours francs", "jours scolaires", "semaines", "mois", "heures", "heures ouvrées",
              "business days", "h", "jo", "quinzaine", "sous quinzaine", "ouvrés", ""]  # fmt: skip


@st.composite
def delay_text(draw: st.DrawFn) -> str:
    amount = draw(
        st.sampled_from(["0", "-3", "1", "15", "999999", "1000000", "٣", "1.5", "1e3", " 2"])
        | st.integers(0, 10**7).map(str)
    )
    return (
        amount
        + draw(st.sampled_from(["", " ", "  ", "\t", "\n"]))
        + draw(st.sampled_from(UNIT_WORDS) | st.text(max_size=6))
    )


@FAST
@given(st.text(max_size=40) | delay_text())
@example("15 jours ouvrés")
@example("sous quinzaine")
def test_delay_parse(text: str) -> None:
    try:
        delay = Delay.parse(text)
    except DelayError:
        return
    assert isinstance(delay, Delay)
    assert delay.amount >= 1
    assert Delay.parse(str(delay)) == delay
    assert Delay.parse(delay.label("en")) == delay


SPEC_PARTS = ["fr", "FR", " fr", "fr-", "fr-57", "fr-moselle", "fr-RE", "fr-974", "fr-6AE",
              "fr-NC", "fr-0", "fr-999", "de", "", "fr+"]  # fmt: skip
ZONES = ["", "+B", "+b", "+ zone c", "+Réunion", "+reunion", "+Corse", "+Z", "+", "+A+B",
         "+nouvelle-caledonie", "+Wallis et Futuna"]  # fmt: skip


@FAST
@given(
    st.text(max_size=30)
    | st.builds(
        lambda a, b, c: a + b + c,
        st.sampled_from(SPEC_PARTS),
        st.sampled_from(ZONES),
        st.text(max_size=3),
    )
)
@example("fr-57+B")
@example("fr-RE+reunion")
def test_calendar_spec(spec: str) -> None:
    try:
        result = calendar(spec)
    except CalendarSpecError:
        return
    assert isinstance(result, Calendar)
    assert calendar(result.spec) == result


WEEKDAY_WORDS = ["lun", "mar", "mer", "jeu", "ven", "sam", "dim", "mon", "fri", "Lundi",
                 "dimanche", "tu", "xyz", ""]  # fmt: skip


@st.composite
def hours_text(draw: st.DrawFn) -> str:
    groups = []
    for _ in range(draw(st.integers(0, 3))):
        days = draw(st.sampled_from(WEEKDAY_WORDS))
        if draw(st.booleans()):
            days += "-" + draw(st.sampled_from(WEEKDAY_WORDS))
        intervals = [
            f"{draw(st.integers(0, 30)):02d}{draw(st.sampled_from([':', 'h', '.']))}"
            f"{draw(st.integers(0, 70)):02d}-{draw(st.integers(0, 30)):02d}:"
            f"{draw(st.integers(0, 70)):02d}"
            for _ in range(draw(st.integers(0, 3)))
        ]
        groups.append(" ".join([days, *intervals]))
    return draw(st.sampled_from(["; ", ";", " ; "])).join(groups)


@FAST
@given(st.text(max_size=60) | hours_text())
@example("lun-ven 09:00-12:00 13:30-17:00; sam 09:00-12:00")
@example("lun 00:00-24:00")
def test_opening_hours(text: str) -> None:
    try:
        hours = OpeningHours.parse(text)
    except DelayError:
        return
    assert any(hours.week)
    assert OpeningHours.parse(str(hours)) == hours


@FAST
@given(
    st.text(max_size=30)
    | st.lists(st.sampled_from([*WEEKDAY_WORDS, "-", ",", ";", " "]), max_size=6).map("".join)
)
@example("sam-lun")
def test_parse_weekdays(text: str) -> None:
    try:
        days = parse_weekdays(text)
    except DelayError:
        return
    assert days
    assert days <= set(range(7))
    assert parse_weekdays(format_weekdays(days)) == days


ZONE_NAMES = st.sampled_from(
    ["Europe/Paris", "UTC", "America/Cayenne", "Indian/Reunion", "Pacific/Kiritimati",
     "Nowhere/Land", "", "../../etc/passwd", "Europe/Paris\x00", "/abs"]
)  # fmt: skip


OFFSET_TEXTS = ["", "Z", "+02:00", "-14:00", "+14:01", "+24:00", "+02", "+0200", "+02:00:30",
                " ", "+02:00[Europe/Paris]"]  # fmt: skip


@st.composite
def iso_like(draw: st.DrawFn) -> str:
    text = draw(st.datetimes(dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31))).isoformat()
    text += draw(st.sampled_from(OFFSET_TEXTS))
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(text)))
        text = (
            text[:at] + draw(st.sampled_from(["", "9", "-", ":", "T", " ", "٣"])) + text[at + 1 :]
        )
    return text


@FAST
@given(text=st.text(max_size=40) | iso_like(), zone=st.none() | ZONE_NAMES)
@example(text="2025-03-30T02:30:00", zone="Europe/Paris")  # does not exist
@example(text="2025-10-26T02:30:00", zone="Europe/Paris")  # happens twice
@example(text="9999-12-31T23:59:59", zone="Pacific/Kiritimati")
@example(text="0001-01-01T00:00:00", zone="America/Cayenne")
def test_parse_instant(text: str, zone: str | None) -> None:
    try:
        instant = parse_instant(text, assume_tz=zone)
    except (InvalidTimeError, NaiveDatetimeError):
        return
    assert instant.tzinfo is not None
    assert instant.utcoffset() is not None


# -- the reports: nothing from the data runs -------------------------------------------

SAMPLE = REPO / "docs" / "examples" / "sample-report.json"
PAYLOADS = st.sampled_from(
    ["<script>alert(1)</script>", "<SCRIPT SRC=//x>", "<img src=x onerror=alert(1)>",
     '" onerror="alert(1)', "' onerror='alert(1)", "javascript:alert(1)",
     '"><a href="javascript:alert(1)">', "</title><script>", "<svg onload=alert(1)>",
     "<!--", "]]>", "<style>", "&lt;script&gt;", "=cmd|' /C calc'!A0", "+1", "-1", "@SUM(1)",
     "\t=1", "\r=1", "=HYPERLINK(\"http://x\")"]
)  # fmt: skip
HOSTILE_TEXT = st.builds(
    lambda a, p, b: a + p + b, st.text(max_size=6), PAYLOADS, st.text(max_size=6)
) | st.text(max_size=20)


@st.composite
def hostile_report(draw: st.DrawFn, *, carriage_returns: bool = True) -> dict[str, Any]:
    report: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    report["lang"] = draw(st.sampled_from(["fr", "en"]))
    # (test_a_carriage_return_in_a_csv_cell_... pins what a CR does to the CSV.)
    text = HOSTILE_TEXT if carriage_returns else HOSTILE_TEXT.map(lambda t: t.replace("\r", ""))
    report["catalogue"] = {k: draw(text) for k in ("id", "title", "version", "fingerprint")}
    report["calendar"] = draw(text)
    ids = {e["id"]: draw(text) for e in report["engagements"]}
    for e in report["engagements"]:
        e["id"] = ids[e["id"]]
        e["title"], e["source"], e["target"] = draw(text), draw(text), draw(text)
    months = {}
    grouped = draw(st.booleans())
    report["by"] = ["engagement", "channel", "category", "service", "month"] if grouped else []
    groups = []
    for g in report["groups"] if grouped else []:
        month = months.setdefault(g["by"]["month"], draw(text))
        by = {"engagement": ids.get(g["by"]["engagement"], draw(text)), "month": month}
        by |= {k: draw(st.none() | text) for k in ("channel", "category", "service")}
        groups.append({**g, "by": {d: by[d] for d in report["by"]}})
    report["groups"] = groups
    for r in report["trend"]:
        r["engagement"] = ids.get(r["engagement"], r["engagement"])
        r["month"] = months.setdefault(r["month"], draw(text))
    for b in report["breaches"]:
        b["engagement"] = ids.get(b["engagement"], b["engagement"])
        b["contact_id"] = draw(text)
    return report


URL_ATTRIBUTES = {"src", "href", "srcset", "action", "formaction", "poster", "background",
                  "xlink:href", "data", "codebase", "ping", "manifest", "style"}  # fmt: skip


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_report())
def test_nothing_from_the_data_runs_in_the_html_report(report: dict[str, Any]) -> None:
    page = render_html(report)
    assert "<script" not in page.lower()
    parser = _Tags()
    parser.feed(page)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag not in ("script", "img", "iframe", "object", "embed", "a", "link"), tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            # Text in aria-label or <title> is only text; a URL or a style is not.
            if name in URL_ATTRIBUTES:
                assert "javascript:" not in (value or "").lower().replace(" ", ""), (tag, name)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_report(carriage_returns=False))
def test_no_csv_cell_of_the_report_starts_like_a_formula(report: dict[str, Any]) -> None:
    text = render_csv(report)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + (len(report["groups"]) or len(report["engagements"]))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_STARTS), cell


def test_a_carriage_return_in_a_csv_cell_neither_breaks_the_row_nor_starts_a_formula() -> None:
    report: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    report["groups"], report["by"] = [], []
    report["engagements"][0]["title"] = "Réponse\r=1+1"
    rows = list(csv.reader(io.StringIO(render_csv(report), newline="")))
    assert len(rows) == 1 + len(report["engagements"])
    assert [r[0] for r in rows[1:]] == [e["id"] for e in report["engagements"]]
