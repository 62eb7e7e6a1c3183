"""The ``sla-engine`` command line.

Exit status: 0 on success; 1 when a bulk run rejected some rows (the good
ones are still written); 2 when the command cannot run at all (bad options,
unreadable input, an error in a single computation); 141 (128 + SIGPIPE, as
a shell reports a Unix tool the signal ended) when the reader of its output
went away (``sla-engine report | head``), with nothing printed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from eventsourcing.domain import EventSourcingError
from eventsourcing.persistence import MapperDeserialisationError

from . import __version__, _cli_audit
from ._calendar import PUBLIC_HOLIDAY_YEARS, calendar
from ._deadline import deadline
from ._delay import Delay
from ._errors import SlaEngineError, redacted
from ._logs import RejectedRow, csv_records, sniff_delimiter, utf8_lines
from ._school import school_zones
from ._territories import territories
from ._text import LANGS, format_day, format_instant
from ._time import parse_instant

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sla-engine",
        description="Deadlines, timers and compliance reviews of public-service engagements.",
    )
    parser.add_argument("--version", action="version", version=f"sla-engine {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    d = commands.add_parser(
        "deadline",
        help="compute the deadline of a delay (one request, or a CSV file of them)",
        description="Compute when a request received at an instant must be answered by.",
    )
    d.add_argument("--calendar", help="calendar spec: fr, fr-57+B, fr-974+Réunion…")
    d.add_argument("--received", help="instant of receipt, ISO 8601 with an offset")
    d.add_argument("--delay", help="the delay, such as '15 jours ouvrés' or '2 mois'")
    d.add_argument("--assume-tz", help="time zone of received instants written without an offset")
    extension = d.add_mutually_exclusive_group()
    extension.add_argument(
        "--no-extend",
        action="store_true",
        help="do not extend calendar-day, jours francs, week and month delays ending on a "
        "non-working day",
    )
    extension.add_argument(
        "--extend",
        action="store_true",
        help="extend jours ouvrables delays ending on a Saturday or a non-working day too "
        "(CPC art. 642)",
    )
    d.add_argument("--explain", action="store_true", help="show how the deadline was reached")
    d.add_argument("--lang", choices=LANGS, default="fr", help="language of the output")
    d.add_argument("--json", action="store_true", help="print JSON")
    d.add_argument("--input", type=Path, help="CSV with received_at,delay[,calendar] columns")
    d.add_argument("--output", type=Path, help="where to write the CSV with due dates")

    c = commands.add_parser("calendars", help="list the calendars and the spans their data covers")
    c.add_argument("--json", action="store_true", help="print JSON")

    _cli_audit.add_parsers(commands)

    s = commands.add_parser(
        "school-calendar",
        help="rebuild the shipped school-calendar data from an official export",
        add_help=False,
    )
    s.add_argument("args", nargs=argparse.REMAINDER)
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each command's parser, by name."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}  # pragma: no cover - the parser always has its commands


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["school-calendar"]:
        from ._school_build import main as build_main

        return build_main(arguments[1:])
    parser = _parser()
    options, unknown = parser.parse_known_args(arguments)
    if unknown:
        # The command's own usage, as for its other bad options (argparse gives
        # the top level's for arguments no parser took).
        command = _subparsers(parser)[options.command]
        command.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if options.command == "deadline":
            status = _deadline(options)
        elif options.command == "calendars":
            status = _calendars(options)
        else:
            status = _cli_audit.run(options)
        sys.stdout.flush()  # a closed pipe fails here, not in the interpreter's exit
        return status
    except BrokenPipeError:
        return _reader_gone()
    except SlaEngineError as error:
        print(f"sla-engine: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"sla-engine: error: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as error:
        print(
            f"sla-engine: error: a file is not UTF-8 text ({error.reason} at byte "
            f"{error.start}): save it as UTF-8 (CSV UTF-8 in a spreadsheet)",
            file=sys.stderr,
        )
        return 2
    except MapperDeserialisationError:
        print(
            "sla-engine: error: the store's events cannot be read: they are encrypted or "
            "compressed, and SLA_ENGINE_CIPHER_KEY is not set or not their key (from "
            "Python: cipher_key=…)",
            file=sys.stderr,
        )
        return 2
    except EventSourcingError as error:  # the store: a server out of reach…
        print(f"sla-engine: error: the store: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    except (OverflowError, ValueError) as error:  # a date past the year 9999, mostly
        print(f"sla-engine: error: {error}", file=sys.stderr)
        return 2


#: The exit status of a command whose reader went away: 128 + SIGPIPE, what a
#: shell reports for a Unix tool the signal ended (``yes | head``).
EXIT_BROKEN_PIPE = 141


def _reader_gone() -> int:
    """Exit quietly when the reader of standard output closed it (``| head``).

    Standard output is pointed at the null device, so that the interpreter's
    last flush, at exit, does not fail again with « Exception ignored … ».
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor (output captured in-process)
        pass
    return EXIT_BROKEN_PIPE


# -- deadline ---------------------------------------------------------------------


def _deadline(options: argparse.Namespace) -> int:
    if options.input is not None:
        return _deadline_bulk(options)
    missing = [n for n in ("calendar", "received", "delay") if getattr(options, n) is None]
    if missing:
        flags = ", ".join(f"--{n}" for n in missing)
        print(f"sla-engine deadline: error: missing {flags} (or give --input)", file=sys.stderr)
        return 2
    received = parse_instant(options.received, assume_tz=options.assume_tz)
    result = deadline(received, options.delay, calendar(options.calendar), extend=_extend(options))
    if options.json:
        data: dict[str, Any] = result.to_dict()
        if options.explain:
            data["explanation"] = result.explain(options.lang)
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    # Dates in words, as the explanation writes them (ISO dates: --json).
    lang = options.lang
    expires = format_instant(result.expires_at, lang)
    if result.delay.unit.is_hours:
        print(("échéance : {}" if lang == "fr" else "due: {}").format(expires))
    else:
        due = format_day(result.due_date, lang)
        if lang == "fr":
            print(f"échéance : {due}, à 24 h")
            print(f"expire le : {expires}")
        else:
            print(f"due date: {due}, by the end of that day (24:00)")
            print(f"expires: {expires}")
    if options.explain:
        print()
        print(result.explain(options.lang))
    return 0


def _extend(options: argparse.Namespace) -> bool | None:
    return False if options.no_extend else True if options.extend else None


def _deadline_bulk(options: argparse.Namespace) -> int:
    source: Path = options.input
    _cli_audit.refuse_overwriting(options.output, "--output", [("--input file", source)])
    with source.open("rb") as stream:
        lines = utf8_lines(stream)
        _, header, _ = next(lines, (1, "", ""))
        if header is None:
            print(f"sla-engine: error: {source}:1: the header is not UTF-8 text", file=sys.stderr)
            return 2
        delimiter = sniff_delimiter(header)
        fields = _case_fields(source, header, delimiter)
        if fields is None:
            return 2
        # Spaces around and any case (a case file is written by hand).
        position: dict[str, int] = {}
        for index, name in enumerate(fields):
            position.setdefault(name.lower(), index)
        if "calendar" not in position and options.calendar is None:
            print(
                f"sla-engine: error: {source}: no 'calendar' column and no --calendar",
                file=sys.stderr,
            )
            return 2
        out_fields = [f for f in fields if f.lower() not in ("due_date", "expires_at")]
        out_fields += ["due_date", "expires_at"]
        output: TextIO
        output = sys.stdout if options.output is None else options.output.open("w", newline="")
        rejected = 0
        try:
            writer = csv.DictWriter(
                output, fieldnames=out_fields, delimiter=delimiter, extrasaction="ignore"
            )
            writer.writeheader()
            for record in csv_records(lines, delimiter, str(source), len(fields)):
                if isinstance(record, RejectedRow):  # an unterminated quote, a line not UTF-8
                    rejected += 1
                    print(f"{source}:{record.line}: {record.reason}", file=sys.stderr)
                    continue
                line, text = record
                if not text.strip():
                    continue  # a blank line
                values = next(csv.reader([text], delimiter=delimiter))
                row = dict(zip(fields, values, strict=False))
                known = {
                    name: values[index]
                    for name, index in position.items()
                    if name in ("received_at", "delay", "calendar") and index < len(values)
                }
                try:
                    row.update(_bulk_row(known, options))
                except _RowError as error:
                    rejected += 1
                    print(f"{source}:{line}: {error.field}: {error}", file=sys.stderr)
                    continue
                writer.writerow(row)
        finally:
            if output is not sys.stdout:
                output.close()
    if rejected:
        rows = "1 row" if rejected == 1 else f"{rejected} rows"
        print(f"sla-engine: {rows} rejected; the others were written", file=sys.stderr)
        return 1
    return 0


def _case_fields(source: Path, header: str, delimiter: str) -> list[str] | None:
    """The header's column names (spaces around them dropped); ``None`` once its error is shown."""
    separators = "columns are separated by a comma or a semicolon (not a tab or another character)"
    try:
        fields = [
            name.strip()
            for name in next(csv.reader([header], delimiter=delimiter, strict=True), [])
        ]
    except csv.Error as error:
        print(
            f"sla-engine: error: {source}:1: cannot read the header ({error}); {separators}",
            file=sys.stderr,
        )
        return None
    names = {name.lower() for name in fields}
    for needed in ("received_at", "delay"):
        if needed not in names:
            found = (
                f": it has one column, {fields[0]!r}; {separators}"
                if len(fields) == 1
                else f" (columns: {', '.join(fields) or 'none'})"
            )
            print(
                f"sla-engine: error: {source}: the header has no {needed!r} column{found}",
                file=sys.stderr,
            )
            return None
    return fields


class _RowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _bulk_row(row: dict[str, str], options: argparse.Namespace) -> dict[str, str]:
    """Due date and expiry of one row; a bad field raises :class:`_RowError` naming it."""
    field = "calendar"
    try:
        cal = calendar((row.get("calendar") or "").strip() or options.calendar)
        field = "received_at"
        received = parse_instant(row.get("received_at") or "", assume_tz=options.assume_tz)
        field = "delay"
        delay = Delay.parse(row.get("delay") or "")
        field = "received_at"  # what is left to fail is the instant's coverage
        result = deadline(received, delay, cal, extend=_extend(options))
    except SlaEngineError as error:
        # A field can hold anything, a person's name too: the reason, not the value.
        raise _RowError(field, str(error) if field == "calendar" else redacted(error)) from None
    except (ValueError, OverflowError):  # date arithmetic past year 9999
        raise _RowError(field, "the deadline falls outside the years a date can hold") from None
    return {"due_date": result.due_date.isoformat(), "expires_at": result.expires_at.isoformat()}


# -- calendars --------------------------------------------------------------------


def _calendars(options: argparse.Namespace) -> int:
    first, last = PUBLIC_HOLIDAY_YEARS
    public = {"first": dt.date(first, 1, 1).isoformat(), "last": dt.date(last, 12, 31).isoformat()}
    places: list[dict[str, Any]] = [
        {"spec": t.spec, "name": t.name, "time_zone": t.time_zone, "public_holidays": public}
        for t in territories()
    ]
    zones: list[dict[str, Any]] = [
        {
            "zone": z.key,
            "label": z.label,
            "time_zone": z.time_zone,
            "coverage": {"first": z.coverage[0].isoformat(), "last": z.coverage[1].isoformat()},
            "school_years": [y.year for y in z.school_years],
        }
        for z in school_zones()
    ]
    if options.json:
        print(
            json.dumps({"territories": places, "school_zones": zones}, ensure_ascii=False, indent=2)
        )
        return 0
    print("Territories (public holidays from the holidays package):")
    for p in places:
        print(f"  {p['spec']:<8} {p['name']:<45} {p['time_zone']:<22} {first}–{last}")
    print()
    print("School zones (append to a spec with +, e.g. fr+B, fr-974+Réunion):")
    for z in zones:
        years = z["school_years"]
        span = f"{z['coverage']['first']} to {z['coverage']['last']}"
        print(f"  +{z['zone']:<26} {z['time_zone']:<20} {span}  ({years[0]} … {years[-1]})")
    return 0


if __name__ == "__main__":  # python -m sla_engine.cli
    raise SystemExit(main())
