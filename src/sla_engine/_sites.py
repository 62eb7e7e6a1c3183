"""Sites and their events: what a service does on a schedule, not in answer to a request.

A district's schools are *sites*, listed in a register (a CSV file with the
columns ``id`` and ``name``).  What the team does there — a visit, a council
attended — and what the service does as a whole — the website published, a
directors' meeting held, the phone line opened and closed — are
:class:`SiteEvent` values.  The engine stores them as events of one
``eventsourcing`` aggregate per site (:class:`Site`), in the same store as
the contacts: the log stays the single source of truth, and the obligation
timers (:mod:`sla_engine._obligations`) are derived from it.

Events with no site are the service's own (its website, its phone line,
its meetings): they belong to the aggregate of the service,
:data:`SERVICE`.

Privacy: an event holds its id, its type, its instant, its site and a short
``what`` word (the kind of visit, the line) — never a person's name or a
free text.
"""

from __future__ import annotations

import csv
import datetime as dt
import enum
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar, Final

import attrs
from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    MetaDomainEvent,
)
from eventsourcing.utils import get_topic

from ._contact import CLOCK_TOLERANCE
from ._delay import normalise_words
from ._errors import DataError, SlaEngineError, redacted, unquoted, with_redacted
from ._logs import _ends_in_quotes, sniff_delimiter, utf8_lines
from ._time import fixed_offset_if_aware, parse_instant, require_aware_field

__all__ = [
    "SERVICE",
    "Site",
    "SiteEvent",
    "SiteEventType",
    "SiteRegister",
    "SiteRuleError",
    "canonical_what",
    "check_site_id",
    "is_what_word",
    "load_site_register",
    "read_site_log",
    "site_aggregate_id",
]

#: The subject of events with no site: the service itself.
SERVICE: Final = "service"
_PREFIX: Final = "sla-engine:site:"
_SITE_ID: Final = re.compile(r"^\w[\w.-]{0,63}$")
_WHAT: Final = re.compile(r"^[\w][\w' .-]{0,47}$")


class SiteEventType(enum.StrEnum):
    """What happened at a site, or in the service as a whole."""

    #: A member of the team visited the site (``what``: the kind of visit).
    VISITED = "visited"
    #: A member of the team attended a meeting of the site (a school council…).
    ATTENDED = "attended"
    #: Something was published (``what``: the website, the results…).
    PUBLISHED = "published"
    #: The service held a meeting (``what``: which one).
    HELD = "held"
    #: The service ran a survey.
    SURVEYED = "surveyed"
    #: A line or desk opened (``what``: which one).
    OPENED = "opened"
    #: A line or desk closed.
    CLOSED = "closed"

    @classmethod
    def parse(cls, text: str) -> SiteEventType:
        key = normalise_words(str(text))
        found = _TYPE_NAMES.get(key)
        if found is None:
            known = ", ".join(m.value for m in cls)
            raise with_redacted(
                DataError(f"unknown site event type {text!r}; known: {known}"),
                f"unknown site event type; known: {known}",
            )
        return found


_TYPE_NAMES: Final = {normalise_words(m.value): m for m in SiteEventType} | {
    normalise_words(alias): SiteEventType(value)
    for alias, value in {
        "visite": "visited",
        "passage": "visited",
        "visité": "visited",
        "participation": "attended",
        "participé": "attended",
        "publié": "published",
        "publication": "published",
        "mise à jour": "published",
        "réunion": "held",
        "réunion tenue": "held",
        "enquête": "surveyed",
        "ouverture": "opened",
        "ouvert": "opened",
        "fermeture": "closed",
        "fermé": "closed",
    }.items()
}


def canonical_what(text: str) -> str:
    """A ``what`` word as stored and matched: lower case, no accents, single spaces.

    ``"Conseil d'École"`` → ``"conseil d'ecole"``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(bare.replace("’", "'").replace("_", " ").split())


class SiteRuleError(SlaEngineError, ValueError):
    """A site event that cannot be recorded; ``code`` names the rule.

    Codes: ``unknown_site`` (not in the register), ``id_reused`` (an event id
    already used for another event), ``in_future`` (happened after it was
    recorded), ``outside_calendar`` (outside the school calendar's data),
    ``unknown_what`` (a ``what`` the catalogue's obligations do not declare).

    Its message names the site and the event; its :attr:`redacted` text,
    what a rejects file says, is the rule alone.
    """

    def __init__(self, site: str, event_id: str, rule: str, code: str) -> None:
        self.site = site
        self.event_id = event_id
        self.rule = rule
        self.code = code
        super().__init__(f"site {site!r}, event {event_id!r}: {rule}")
        # A rejects file already names the row and its event: the rule alone
        # (docs/security.md), as for a contact's rule.
        self.redacted = rule


def check_site_id(value: str | None) -> str | None:
    """A site id as stored (stripped; ``None`` when empty); a malformed one raises."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if not _SITE_ID.match(text) or text == SERVICE:
        rule = (
            f"use up to 64 letters, digits, '_', '.' and '-' (and not {SERVICE!r}, "
            "the service itself)"
        )
        raise with_redacted(
            DataError(f"{text!r} is not a site id: {rule}", field="site"),
            f"not a site id: {rule}",
        )
    return text


def is_what_word(text: str) -> bool:
    """Whether ``text`` can be an event's ``what`` (as :func:`canonical_what` stores it)."""
    return bool(_WHAT.match(canonical_what(text)))


def _what(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    text = canonical_what(str(value))
    if not _WHAT.match(text):
        # Not free text: a short word naming a kind of visit, a line, a meeting.
        raise DataError(
            f"'what' must be a short word (letters, digits, spaces, ' . -; at most 48), "
            f"not {len(text)} characters of text",
            field="what",
        )
    return text


def _event_type(value: SiteEventType | str) -> SiteEventType:
    if isinstance(value, SiteEventType):
        return value
    return unquoted(SiteEventType.parse, value, "type")


def _event_site(value: str | None) -> str | None:
    return unquoted(check_site_id, value, "site")


def _event_id(value: str) -> str:
    text = str(value).strip()
    if not text or len(text) > 200:
        raise DataError("an event id must be 1 to 200 characters", field="event_id")
    return text


@attrs.frozen
class SiteEvent:
    """Something done at a site (or by the service, ``site=None``), at an aware instant."""

    event_id: str = attrs.field(converter=_event_id)
    type: SiteEventType = attrs.field(converter=_event_type)
    occurred_at: dt.datetime = attrs.field(
        converter=fixed_offset_if_aware, validator=require_aware_field
    )
    site: str | None = attrs.field(default=None, converter=_event_site)
    what: str | None = attrs.field(default=None, converter=_what)
    #: When the engine recorded it (set by the engine).
    recorded_at: dt.datetime | None = attrs.field(
        default=None, converter=fixed_offset_if_aware, validator=require_aware_field
    )

    @property
    def subject(self) -> str:
        """The site, or :data:`SERVICE`."""
        return self.site or SERVICE

    def same_as(self, other: SiteEvent) -> bool:
        """The same event, whenever it was recorded."""
        return (self.event_id, self.type, self.occurred_at, self.site, self.what) == (
            other.event_id,
            other.type,
            other.occurred_at,
            other.site,
            other.what,
        )


def site_aggregate_id(subject: str) -> str:
    """The store's aggregate id of a site (or of the service)."""
    return _PREFIX + subject


class Site(BaseAggregate[str]):
    """A site's registration and events, in the order they happened."""

    class Event(CanMutateAggregate[str], metaclass=MetaDomainEvent):
        """Base of a site's stored events (version 1 of the schema)."""

        originator_id: str
        originator_version: int
        timestamp: dt.datetime

        def apply(self, aggregate: Site) -> None:  # pragma: no cover - overridden
            raise NotImplementedError

    class Registered(Event, CanInitAggregate[str]):
        originator_topic: str
        subject: str
        name: str

        def apply(self, aggregate: Site) -> None:
            aggregate.subject = self.subject
            aggregate.name = self.name

    class Renamed(Event):
        name: str

        def apply(self, aggregate: Site) -> None:
            aggregate.name = self.name

    class Happened(Event):
        """Base of the recorded site events; one stored class per type."""

        event_id: str
        occurred_at: dt.datetime
        what: str | None

        type_name: ClassVar[SiteEventType]

        def apply(self, aggregate: Site) -> None:
            aggregate._add(
                SiteEvent(
                    event_id=self.event_id,
                    type=self.type_name,
                    occurred_at=self.occurred_at,
                    site=None if aggregate.subject == SERVICE else aggregate.subject,
                    what=self.what,
                    recorded_at=self.timestamp,
                )
            )

    class Visited(Happened):
        type_name = SiteEventType.VISITED

    class Attended(Happened):
        type_name = SiteEventType.ATTENDED

    class Published(Happened):
        type_name = SiteEventType.PUBLISHED

    class Held(Happened):
        type_name = SiteEventType.HELD

    class Surveyed(Happened):
        type_name = SiteEventType.SURVEYED

    class Opened(Happened):
        type_name = SiteEventType.OPENED

    class Closed(Happened):
        type_name = SiteEventType.CLOSED

    def __init__(self) -> None:
        self.subject = ""
        self.name = ""
        self.history: list[SiteEvent] = []
        self.ids: dict[str, SiteEvent] = {}

    def _add(self, event: SiteEvent) -> None:
        self.ids[event.event_id] = event
        self.history.append(event)
        self.history.sort(key=lambda e: e.occurred_at)

    @classmethod
    def register(cls, subject: str, name: str, at: dt.datetime) -> Site:
        return cls._create(
            cls.Registered, id=site_aggregate_id(subject), timestamp=at, subject=subject, name=name
        )

    def rename(self, name: str, at: dt.datetime) -> None:
        if name != self.name:
            self.trigger_event(self.Renamed, timestamp=at, name=name)

    def record(self, event: SiteEvent, recorded_at: dt.datetime) -> bool:
        """Record ``event``; ``False`` when the same event was already recorded."""
        known = self.ids.get(event.event_id)
        if known is not None:
            if known.same_as(event):
                return False
            raise SiteRuleError(
                event.subject,
                event.event_id,
                "this event id was already used for another event of the site",
                "id_reused",
            )
        if event.occurred_at > recorded_at + CLOCK_TOLERANCE:
            raise SiteRuleError(
                event.subject,
                event.event_id,
                f"it happened ({event.occurred_at.isoformat()}) after it was recorded "
                f"({recorded_at.isoformat()})",
                "in_future",
            )
        self.trigger_event(
            _STORED[event.type],
            timestamp=recorded_at,
            event_id=event.event_id,
            occurred_at=event.occurred_at,
            what=event.what,
        )
        return True


_STORED: Final[dict[SiteEventType, type[Site.Happened]]] = {
    cls.type_name: cls
    for cls in (
        Site.Visited,
        Site.Attended,
        Site.Published,
        Site.Held,
        Site.Surveyed,
        Site.Opened,
        Site.Closed,
    )
}

#: The topics of every stored site event (to read them from the notification log).
_SITE_CLASSES: Final[tuple[type[Site.Event], ...]] = (
    Site.Registered,
    Site.Renamed,
    *_STORED.values(),
)
SITE_TOPICS: Final[tuple[str, ...]] = tuple(sorted(get_topic(cls) for cls in _SITE_CLASSES))


# -- one line of CSV ---------------------------------------------------------------


def _csv_line(text: str, delimiter: str) -> list[str]:
    """The cells of one line of a register or a site log, whose fields never span lines.

    Ids, names, types, instants and ``what`` words are one line each, so a
    quoted field is closed on its own line or the line is an error: an
    unclosed quote cannot swallow the lines after it.  The error names what
    is wrong, never the line's content.
    """
    try:
        return next(csv.reader((text,), delimiter=delimiter, strict=True), [])
    except csv.Error as error:
        if _ends_in_quotes(text, delimiter, False):
            reason = (
                "a quoted field is not closed on its line (a field cannot go on to the next line)"
            )
        elif "new-line" in str(error):
            reason = "a carriage return inside the line (is the file's line end a lone CR?)"
        else:
            reason = f"not valid CSV: {error}"
        raise DataError(reason) from None


def _header_cells(text: str, delimiter: str, source: str) -> list[str]:
    """The cells of a register's or a site log's header (line 1), or why it cannot be read."""
    try:
        return _csv_line(text, delimiter)
    except DataError as error:
        raise DataError(f"cannot read the header: {error.message}", source=source, line=1) from None


# -- the register -----------------------------------------------------------------


@attrs.frozen
class SiteRegister:
    """The sites of a service: ids and names, in the file's order."""

    sites: tuple[tuple[str, str], ...]
    source: str = "<register>"

    def __contains__(self, site: object) -> bool:
        return any(site == s for s, _ in self.sites)

    def __len__(self) -> int:
        return len(self.sites)

    def name(self, site: str) -> str:
        for s, name in self.sites:
            if s == site:
                return name
        raise KeyError(site)


def load_site_register(path: str | os.PathLike[str]) -> SiteRegister:
    """Read a register CSV (``id,name``, a header line, UTF-8; ``;`` separates too).

    Every problem of the file — a missing column, an empty or malformed id,
    an id given twice, an empty name — is reported at once in one
    :class:`DataError` naming the file and each line.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read the site register: {error}", source=source) from None
    return parse_site_register(text, source=source)


def parse_site_register(text: str, *, source: str = "<register>") -> SiteRegister:
    """The register in ``text`` (see :func:`load_site_register`).

    A site's id and name are one line each: a quoted field not closed on its
    line is that line's error, and the lines after it are read as lines of
    their own.
    """
    lines = text.split("\n")
    delimiter = sniff_delimiter(lines[0])
    header = _header_cells(lines[0], delimiter, source)
    if not header:
        raise DataError("the site register is empty: it needs a header id,name", source=source)
    columns = [h.strip().lower() for h in header]
    missing = [c for c in ("id", "name") if c not in columns]
    if missing:
        raise DataError(
            f"missing column(s) {', '.join(missing)}; the header is {','.join(header)}",
            source=source,
            line=1,
        )
    id_at, name_at = columns.index("id"), columns.index("name")
    errors: list[str] = []
    sites: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for line, line_text in enumerate(lines[1:], start=2):
        try:
            row = _csv_line(line_text, delimiter)
        except DataError as error:
            errors.append(f"{source}:{line}: {error.message}")
            continue
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            errors.append(f"{source}:{line}: {len(row)} fields, the header has {len(columns)}")
            continue
        raw_id, name = row[id_at].strip(), row[name_at].strip()
        try:
            site = check_site_id(raw_id)
        except DataError as error:
            errors.append(f"{source}:{line}: id: {error.message}")
            continue
        if site is None:
            errors.append(f"{source}:{line}: id: empty")
            continue
        if site in seen:
            errors.append(f"{source}:{line}: id: {site!r} already on line {seen[site]}")
            continue
        if not name:
            errors.append(f"{source}:{line}: name: empty")
            continue
        seen[site] = line
        sites.append((site, name))
    if errors:
        raise DataError(
            f"{len(errors)} error(s) in the site register:\n" + "\n".join(f"  {e}" for e in errors),
            source=source,
        )
    if not sites:
        raise DataError("the site register lists no site", source=source)
    return SiteRegister(tuple(sites), source)


# -- site logs ----------------------------------------------------------------------

SITE_LOG_FIELDS: Final = ("event_id", "site", "type", "occurred_at", "what")


@attrs.frozen
class SiteLogRow:
    source: str
    line: int
    event: SiteEvent


@attrs.frozen
class RejectedSiteRow:
    source: str
    line: int
    field: str | None
    reason: str
    event_id: str | None = None


def read_site_log(
    path: str | os.PathLike[str], *, assume_tz: str | None = None
) -> Iterator[SiteLogRow | RejectedSiteRow]:
    """The rows of a site log (CSV: ``event_id,site,type,occurred_at,what``), each valid or not.

    Columns separated by ``,`` or ``;`` (whichever the header uses more, as
    French exports do).  An instant without an offset is refused unless
    ``assume_tz`` names its zone.  A row is one line: a line that is not
    UTF-8 text, or whose quoted field is not closed on it, is rejected alone,
    with its number, and the lines after it are read; a header without the
    needed columns raises :class:`DataError`.
    """
    source = str(path)
    with Path(path).open("rb") as stream:
        decoded = utf8_lines(stream)
        _, first, _ = next(decoded, (1, "", ""))
        if first is None:
            raise DataError("the header is not UTF-8 text", source=source, line=1)
        delimiter = sniff_delimiter(first)
        header = [h.strip().lower() for h in _header_cells(first, delimiter, source)]
        missing = [f for f in ("event_id", "type", "occurred_at") if f not in header]
        if missing:
            raise DataError(
                f"the header has no column {', '.join(map(repr, missing))} "
                f"(columns: {', '.join(header) or 'none'}; expected {','.join(SITE_LOG_FIELDS)})",
                source=source,
                line=1,
            )
        # One row a line: a row is reported with the line it is on, and a
        # bad line (an unclosed quote…) is rejected alone.
        for line, text, _ in decoded:
            if text is None:
                yield RejectedSiteRow(source, line, None, "not valid UTF-8 text")
                continue
            try:
                row = _csv_line(text, delimiter)
            except DataError as error:
                yield RejectedSiteRow(source, line, None, error.message)
                continue
            if not any(c.strip() for c in row):
                continue
            values = dict(zip(header, row, strict=False))
            event_id = values.get("event_id", "").strip() or None
            if len(row) != len(header):
                yield RejectedSiteRow(
                    source,
                    line,
                    None,
                    f"{len(row)} fields, the header has {len(header)}",
                    event_id,
                )
                continue
            yield _site_row(source, line, values, event_id, assume_tz)


def _site_row(
    source: str, line: int, values: dict[str, str], event_id: str | None, assume_tz: str | None
) -> SiteLogRow | RejectedSiteRow:
    field = "occurred_at"
    try:
        occurred = parse_instant(values["occurred_at"].strip(), assume_tz=assume_tz)
        field = "type"
        kind = SiteEventType.parse(values["type"].strip())
        field = "event"
        event = SiteEvent(
            event_id=values["event_id"],
            type=kind,
            occurred_at=occurred,
            site=values.get("site") or None,
            what=values.get("what") or None,
        )
    except (SlaEngineError, ValueError) as error:
        message = redacted(error)  # never the row's content (docs/security.md)
        named = error.field if isinstance(error, DataError) and error.field else field
        return RejectedSiteRow(source, line, named, message, event_id)
    return SiteLogRow(source, line, event)


def subjects_of(events: Sequence[SiteEvent]) -> list[str]:
    return list(dict.fromkeys(e.subject for e in events))
