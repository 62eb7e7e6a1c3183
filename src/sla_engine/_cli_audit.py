"""The audit commands: ``replay``, ``report``, ``explain`` (and ``generate``)."""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from ._calendar import calendar
from ._catalogue import load_catalogue, parse_catalogue
from ._contact import ContactEvent
from ._engine import SlaEngine
from ._errors import SlaEngineError
from ._logs import LogMapping, load_mapping
from ._replay import replay
from ._report import DIMENSIONS, build_report, render_csv, render_markdown
from ._text import LANGS, format_instant
from ._time import parse_instant

__all__ = ["add_parsers", "refuse_overwriting", "run"]

#: The store when none is named: a SQLite file in the current folder.
DEFAULT_STORE = "sla-engine.db"


def add_parsers(commands: Any) -> None:
    r = commands.add_parser(
        "replay",
        help="record the events of historical logs (CSV or JSON Lines) in a store",
        description="Validate and record every event of the logs; bad rows go to the "
        "rejects file, and a replay run again records nothing twice.",
    )
    r.add_argument("logs", nargs="*", type=Path, metavar="LOG")
    r.add_argument("--catalogue", help="a shipped catalogue's name or a TOML file")
    r.add_argument("--calendar", help="calendar spec: fr, fr-57+B…")
    r.add_argument("--store", default=DEFAULT_STORE, help=f"store URL (default: {DEFAULT_STORE})")
    r.add_argument("--rejects", type=Path, help="CSV file listing each rejected row and why")
    r.add_argument("--mapping", type=Path, help="TOML file mapping an export's columns and values")
    r.add_argument("--assume-tz", help="time zone of timestamps written without an offset")
    r.add_argument("--batch", type=int, default=2000, help="rows per transaction")
    r.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        help="2 reads the logs in a second process while this one stores (default: 2 for "
        "logs over 4 MiB row by row, 64 MiB columnar, when a core is idle)",
    )
    r.add_argument(
        "--row-by-row",
        action="store_true",
        help="read every row with the ordinary reader (default: plain CSV contacts are read "
        "and stored a block of lines at a time)",
    )
    r.add_argument(
        "--block",
        type=int,
        default=None,
        metavar="LINES",
        help="lines read at a time by the columnar replay (default: 200,000; "
        "about 1 KiB of memory each)",
    )
    r.add_argument("--sites", type=Path, help="site register (CSV: id,name) to record first")
    r.add_argument(
        "--site-log",
        type=Path,
        action="append",
        default=[],
        help="site events (CSV: event_id,site,type,occurred_at,what); may be repeated",
    )

    p = commands.add_parser(
        "report",
        help="the compliance review of a store",
        description="Figures per engagement (and per group). Another --catalogue or "
        "--calendar than the store's is a what-if: nothing is written.",
    )
    p.add_argument("--store", default=DEFAULT_STORE, help=f"store URL (default: {DEFAULT_STORE})")
    p.add_argument("--catalogue", help="evaluate under this catalogue instead (what-if)")
    p.add_argument("--calendar", help="evaluate under this calendar instead (what-if)")
    p.add_argument("--from", dest="start", type=_iso_date, help="first day (timers started)")
    p.add_argument("--to", dest="end", type=_iso_date, help="last day (timers started)")
    p.add_argument("--as-of", help="instant of the review (default: the last event of the log)")
    p.add_argument("--by", default="", help=f"group by: {','.join(DIMENSIONS)}")
    p.add_argument(
        "--format",
        choices=("json", "csv", "spreadsheet", "md", "html"),
        default="md",
        help="md (default), html, json, csv, or spreadsheet (a CSV that Excel opens as it is)",
    )
    p.add_argument(
        "--lang", choices=LANGS, default="fr", help="the review's language (default: fr)"
    )
    p.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        help="2 counts half of a large SQLite view in a second process (default: when a core "
        "is idle)",
    )
    p.add_argument("-o", "--output", type=Path, help="write here instead of the standard output")

    g = commands.add_parser(
        "generate",
        help="write a realistic synthetic log (the same seed gives the same file)",
    )
    g.add_argument("--contacts", type=int, required=True)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--calendar", default="fr", help="calendar spec: its working days and time zone")
    g.add_argument("--from", dest="start", type=_iso_date, required=True)
    g.add_argument("--to", dest="end", type=_iso_date, required=True)
    g.add_argument(
        "--malformed", type=float, default=0.0, help="share of rows to corrupt, for testing readers"
    )
    g.add_argument("-o", "--output", type=Path, required=True, help="the log (.csv or .csv.gz)")

    gs = commands.add_parser(
        "generate-sites",
        help="write a synthetic district: a site register and a school year of site events",
    )
    gs.add_argument("--schools", type=int, default=30)
    gs.add_argument("--seed", type=int, default=0)
    gs.add_argument("--calendar", default="fr+B", help="calendar spec with a school zone")
    gs.add_argument("--year", default="2025-2026", help="the school year")
    gs.add_argument("--register", type=Path, required=True, help="the register to write (CSV)")
    gs.add_argument("-o", "--output", type=Path, required=True, help="the site log (CSV)")

    o = commands.add_parser(
        "explain-obligation", help="how an obligation timer of a site (or the service) was reached"
    )
    o.add_argument("engagement")
    o.add_argument("--site", help="the site (default: the service itself)")
    o.add_argument("--period", help="2025-2026, 2025-W37, 2025-09-01… (default: the last one)")
    o.add_argument("--store", default=DEFAULT_STORE, help=f"store URL (default: {DEFAULT_STORE})")
    o.add_argument(
        "--as-of", help="instant of the explanation (default: the review's, the log's last event)"
    )
    o.add_argument("--lang", choices=LANGS, default="fr", help="language (default: fr)")

    x = commands.add_parser("explain", help="how a contact's timers were reached")
    x.add_argument("contact")
    x.add_argument("engagement", nargs="?")
    x.add_argument("--store", default=DEFAULT_STORE, help=f"store URL (default: {DEFAULT_STORE})")
    x.add_argument(
        "--as-of", help="instant of the explanation (default: the review's, the log's last event)"
    )
    x.add_argument("--lang", choices=LANGS, default="fr", help="language (default: fr)")


def _iso_date(text: str) -> dt.date:
    """A day written 2025-09-01 (argparse names the option in its error)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date written year-month-day, such as 2025-09-01"
        ) from None


def _check_span(options: argparse.Namespace) -> None:
    if options.start is not None and options.end is not None and options.start > options.end:
        raise SlaEngineError(
            f"--from {options.start} is after --to {options.end}: the span would hold no day"
        )


def run(options: argparse.Namespace) -> int:
    command: Any = {
        "replay": _replay,
        "report": _report,
        "explain": _explain,
        "generate": _generate,
        "generate-sites": _generate_sites,
        "explain-obligation": _explain_obligation,
    }[options.command]
    return int(command(options))


def refuse_overwriting(
    output: Path | None,
    option: str,
    inputs: Iterable[tuple[str, str | os.PathLike[str] | None]],
) -> None:
    """Refuse an output file that is one of the command's inputs: opening it would empty it.

    Checked before anything is opened, so that the log, the register or the
    store stay as they were.
    """
    if output is None:
        return
    for name, path in inputs:
        if path is None:
            continue
        try:
            same = output.samefile(path)
        except OSError:  # one does not exist yet (a new store): compare where they would be
            same = os.path.realpath(output) == os.path.realpath(path)
        if same:
            raise SlaEngineError(
                f"{option} {output} is the {name}: writing there would erase it; name another file"
            )


def _private_file(path: Path) -> TextIO:
    """``path`` opened for writing, readable by its owner only when this makes it.

    A rejects file names the rows and events of people's requests.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return open(descriptor, "w", encoding="utf-8", newline="")


def _store_file(store: str) -> str | None:
    """The file of a SQLite store named on the command line (``None``: not a file)."""
    if store.startswith("sqlite:///"):
        return store.removeprefix("sqlite:///") or None
    if store.startswith(("sqlite:", "postgres", "memory")):
        return None
    return store


#: The instants a review can be asked at: those a date can hold a day either side of.
_AS_OF_RANGE = (dt.datetime(1, 1, 2, tzinfo=dt.UTC), dt.datetime(9999, 12, 30, tzinfo=dt.UTC))


def _as_of(options: argparse.Namespace) -> dt.datetime | None:
    """``--as-of``, read as an aware instant; an error names the option."""
    if options.as_of is None:
        return None
    try:
        instant = parse_instant(options.as_of)
    except SlaEngineError:
        raise SlaEngineError(
            f"--as-of {options.as_of[:40]!r} is not an instant with its UTC offset, "
            "such as 2026-07-03T17:00:00+02:00"
        ) from None
    if not _AS_OF_RANGE[0] <= instant <= _AS_OF_RANGE[1]:
        raise SlaEngineError(f"--as-of {options.as_of!r} is outside the years a date can hold")
    return instant


def _open(
    store: str, catalogue: str | None = None, spec: str | None = None, *, replaying: bool = False
) -> SlaEngine:
    # A SQLite file named as a path or as a URL: opening it would create it.
    file = _store_file(store)
    if catalogue is None and file not in (None, ":memory:") and not Path(str(file)).exists():
        if replaying:
            raise SlaEngineError(
                f"no store at {store!r} yet: its first replay needs --catalogue (and --calendar)"
            )
        raise SlaEngineError(f"no store at {store!r}: replay a log into it first")

    return SlaEngine(catalogue, spec, store=store, **_keys())


#: Where the command line finds a store's keys: the environment, which a
#: service's secret store fills, never an option (a process list shows those).
PSEUDONYM_KEY, CIPHER_KEY = "SLA_ENGINE_PSEUDONYM_KEY", "SLA_ENGINE_CIPHER_KEY"


def _keys() -> dict[str, Any]:
    """The engine's keys from the environment: pseudonymisation (base64 bytes) and cipher."""
    keys: dict[str, Any] = {}
    cipher = os.environ.get(CIPHER_KEY)
    if cipher:
        keys["cipher_key"] = cipher
    text = os.environ.get(PSEUDONYM_KEY)
    if text:
        try:
            key = base64.b64decode(
                text.strip(), altchars=b"-_" if "-" in text or "_" in text else None, validate=True
            )
        except (binascii.Error, ValueError):
            raise SlaEngineError(f"{PSEUDONYM_KEY} is not base64 text") from None
        if len(key) < 16:
            raise SlaEngineError(
                f"{PSEUDONYM_KEY} holds {len(key)} bytes: give at least 16 (32 is usual)"
            )
        keys["pseudonym_key"] = key
    return keys


class _Progress:
    """Rows per second on a terminal; nothing when standard error is piped."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.active = stream.isatty()
        self.started = time.perf_counter()

    def __call__(self, rows: int) -> None:
        if self.active:
            rate = rows / max(time.perf_counter() - self.started, 1e-9)
            self.stream.write(f"\r{rows:,} rows ({rate:,.0f} rows/s)")
            self.stream.flush()

    def done(self) -> None:
        if self.active:
            self.stream.write("\n")


def _replay(options: argparse.Namespace) -> int:
    if not options.logs and not options.site_log and options.sites is None:
        raise SlaEngineError("nothing to replay: name a log, a site register or a site log")
    refuse_overwriting(
        options.rejects,
        "--rejects",
        [
            *(("log", log) for log in options.logs),
            *(("site log", log) for log in options.site_log),
            ("site register", options.sites),
            ("mapping", options.mapping),
            ("catalogue", options.catalogue),
            ("store", _store_file(options.store)),
        ],
    )
    mapping = None if options.mapping is None else load_mapping(options.mapping)
    file = _store_file(options.store)
    new_file = None if file in (None, ":memory:") or Path(str(file)).exists() else Path(str(file))
    engine = _open(options.store, options.catalogue, options.calendar, replaying=True)
    try:
        _say_rules_replaced(engine)
        return _replay_into(engine, options, mapping)
    except (SlaEngineError, OSError):
        if new_file is not None and _holds_nothing(engine):
            # A first replay refused before it recorded anything (a log that
            # cannot be read, a bad register): no empty store is left to be
            # taken for one.
            engine.close()
            for leftover in (new_file, *(Path(f"{new_file}{end}") for end in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        raise
    finally:
        engine.close()  # its last writes checkpointed now, not whenever it is collected


def _holds_nothing(engine: SlaEngine) -> bool:
    """Whether a store holds no event of a contact or a site, and no site."""
    return (
        engine.last_event_at() is None
        and engine.last_site_event_at() is None
        and not engine.sites()
    )


def _say_rules_replaced(engine: SlaEngine) -> None:
    """Say so when --catalogue or --calendar changed the rules a store counts under."""
    before = engine.replaced_rules
    if before is None:
        return
    was = parse_catalogue(before.catalogue_text, source=before.catalogue_source)
    now, spec = engine.catalogue, engine.default_calendar.spec
    changes = []
    if now.text != before.catalogue_text:
        changes.append(f"catalogue {now.id} {now.version} (was {was.id} {was.version})")
    if spec != before.calendar_spec:
        changes.append(f"calendar {spec} (was {before.calendar_spec})")
    if not changes:  # the same spec with other settings (closures, hours…)
        changes.append(f"the settings of calendar {spec}")
    print(
        f"the store's rules change: {', '.join(changes)}; every timer is counted again "
        "under them (report --catalogue … reviews under other rules without changing the store)",
        file=sys.stderr,
    )


def _replay_into(engine: SlaEngine, options: argparse.Namespace, mapping: LogMapping | None) -> int:
    progress = _Progress(sys.stderr)
    rejects = None if options.rejects is None else _private_file(options.rejects)
    try:
        summary = replay(
            engine,
            options.logs,
            mapping=mapping,
            assume_tz=options.assume_tz,
            rejects=rejects,
            batch_size=options.batch,
            progress=progress,
            jobs=options.jobs,
            columnar=False if options.row_by_row else None,
            block_lines=options.block,
        )
    finally:
        progress.done()
        if rejects is not None:
            rejects.close()
    where = f" (listed in {options.rejects})" if options.rejects and summary.rejected else ""
    if options.logs:
        print(
            f"{summary.rows:,} rows read: {summary.recorded:,} recorded, "
            f"{summary.duplicates:,} already recorded, {summary.rejected:,} rejected{where} "
            f"in {summary.seconds:.1f} s"
        )
    if options.sites is not None or options.site_log:
        _replay_sites(engine, options, where)
    return 0


def _replay_sites(engine: SlaEngine, options: argparse.Namespace, where: str) -> None:
    import csv

    from ._site_replay import replay_sites

    started = time.perf_counter()
    handle = None if options.rejects is None else options.rejects.open("a", newline="")
    try:
        writer = None if handle is None else csv.writer(handle)
        if writer is not None and handle is not None and handle.tell() == 0:
            from ._replay import REJECT_FIELDS

            writer.writerow(REJECT_FIELDS)
        summary = replay_sites(
            engine,
            options.sites,
            options.site_log,
            assume_tz=options.assume_tz,
            rejects=writer,
            batch_size=options.batch,
        )
    finally:
        if handle is not None:
            handle.close()
    where = f" (listed in {options.rejects})" if options.rejects and summary.rejected else ""
    print(
        f"site register: {summary.sites:,} sites registered or renamed; site logs: "
        f"{summary.rows:,} rows read: {summary.recorded:,} recorded, "
        f"{summary.duplicates:,} already recorded, {summary.rejected:,} rejected{where} "
        f"in {time.perf_counter() - started:.1f} s"
    )


def _report(options: argparse.Namespace) -> int:
    _check_span(options)
    refuse_overwriting(
        options.output,
        "--output",
        [("store", _store_file(options.store)), ("catalogue", options.catalogue)],
    )
    engine = _open(options.store)
    other_catalogue = None
    if options.catalogue is not None:
        candidate = load_catalogue(options.catalogue)
        if candidate.fingerprint != engine.catalogue.fingerprint:
            other_catalogue = candidate
    other_calendar = None
    if options.calendar is not None:
        # A spec names a territory and a school zone: the service's own settings
        # (closures, working week, hours) still hold, as in what_if.
        spec = calendar(options.calendar).spec
        if spec != engine.default_calendar.spec:
            other_calendar = engine.calendar_for(spec)
    by = [b.strip() for b in options.by.split(",") if b.strip()]
    as_of = _as_of(options)
    try:
        report = build_report(
            engine,
            catalogue=other_catalogue,
            calendar_spec=other_calendar,
            start=options.start,
            end=options.end,
            as_of=as_of,
            by=by,
            lang=options.lang,
            jobs=options.jobs,
        )
    except ValueError as error:
        raise SlaEngineError(str(error)) from None
    text = _render(report, options.format)
    if options.output is None:
        _to_stdout(text)
    else:
        # newline="": the CSV's own CRLF, not doubled on Windows.
        options.output.write_text(text, encoding="utf-8", newline="")
        print(f"report written to {options.output}", file=sys.stderr)
    return 0


def _to_stdout(text: str) -> None:
    """The review on standard output: its UTF-8 bytes, as ``-o`` writes them, when redirected.

    Redirected, Python encodes text in the locale's encoding (cp1252 on
    Windows, which has no byte-order mark nor « \u202f ») and turns the
    CSV's CRLF into CR CR LF; a terminal gets text.
    """
    out = sys.stdout
    buffer = getattr(out, "buffer", None)
    if buffer is None or out.isatty():
        out.write(text)
        return
    out.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def _render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt in ("csv", "spreadsheet"):
        return render_csv(report, spreadsheet=fmt == "spreadsheet")
    if fmt == "html":
        from ._report_html import render_html

        return render_html(report)

    return render_markdown(report)


def _generate(options: argparse.Namespace) -> int:
    from ._generate import generate_log

    _check_span(options)
    try:
        result = generate_log(
            options.output,
            contacts=options.contacts,
            seed=options.seed,
            calendar_spec=options.calendar,
            start=options.start,
            end=options.end,
            malformed=options.malformed,
        )
    except ValueError as error:
        raise SlaEngineError(str(error)) from None
    print(
        f"{result.contacts:,} contacts, {result.rows:,} rows "
        f"({len(result.corrupted):,} corrupted) written to {result.path}"
    )
    return 0


def _generate_sites(options: argparse.Namespace) -> int:
    from ._generate_sites import generate_district

    try:
        result = generate_district(
            options.register,
            options.output,
            schools=options.schools,
            seed=options.seed,
            calendar_spec=options.calendar,
            school_year=options.year,
        )
    except ValueError as error:
        raise SlaEngineError(str(error)) from None
    print(
        f"{result.sites} sites written to {result.register}, "
        f"{result.events:,} site events to {result.log}"
    )
    return 0


def _explain_obligation(options: argparse.Namespace) -> int:
    engine = _open(options.store)
    now = _as_of(options)
    if options.site is not None and options.site not in (sites := engine.sites()):
        known = ", ".join(list(sites)[:5]) + (", …" if len(sites) > 5 else "")
        raise SlaEngineError(
            f"site {options.site!r} is not in the store's register "
            f"({len(sites)} sites{': ' + known if sites else ''})"
        )
    print(
        engine.explain_obligation(
            options.site, options.engagement, options.period, lang=options.lang, now=now
        )
    )
    return 0


def _no_timer(contact: str, history: list[ContactEvent], now: dt.datetime, lang: str) -> str:
    """Why a contact has no timer at ``now``, in the output's language."""
    if history and now < history[0].occurred_at:
        at = format_instant(now.astimezone(history[0].occurred_at.tzinfo), lang)
        if lang == "fr":
            return f"contact {contact!r} : pas encore reçu le {at}"
        return f"contact {contact!r}: not received yet on {at}"
    if lang == "fr":
        return f"contact {contact!r} : aucun engagement du catalogue ne s’applique à lui"
    return f"contact {contact!r}: no engagement of the catalogue applies"


def _explain(options: argparse.Namespace) -> int:
    engine = _open(options.store)
    history = engine.history(options.contact)
    # As the review counts it: as of the last event of the whole log (a timer
    # still running at the contact's own last event may be overdue by then).
    now = _as_of(options) or engine._last_log_event_at() or history[-1].occurred_at
    if options.engagement is not None:
        print(engine.explain(options.contact, options.engagement, lang=options.lang, now=now))
        return 0
    timers = engine.timers(options.contact, now=now)
    if not timers:
        print(_no_timer(options.contact, history, now, options.lang))
        return 0
    texts = [
        engine.explain(options.contact, t.engagement_id, cycle=t.cycle, lang=options.lang, now=now)
        for t in timers
    ]
    print("\n\n".join(texts))
    return 0
