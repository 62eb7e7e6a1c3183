"""Catalogues of engagements: a service's promises, declared as data in TOML.

A catalogue file has one ``[catalogue]`` table and one ``[[engagement]]``
table per promise (the format is described in ``docs/reference/catalogue.md``).
:func:`load_catalogue` reads a shipped catalogue by name or any file by path,
validates everything, and returns frozen values the timer engine builds on:
:class:`Catalogue`, :class:`Engagement` and :class:`Match`.

Validation is strict and complete: an unknown key, a bad delay or event name,
a missing field… is refused at load, never silently ignored, and every error
of a file is reported at once in one :class:`CatalogueError`, each naming the
file, the line where it can be found, the engagement and the field.
"""

from __future__ import annotations

import difflib
import enum
import functools
import hashlib
import itertools
import math
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, TypeAlias, TypeVar

import attrs

from ._calendar import calendar
from ._delay import Delay, Unit
from ._errors import CalendarSpecError, DataError, DelayError, SlaEngineError
from ._obligation_rules import OBLIGATION_KEYS, Obligation, read_obligation
from ._vocabulary import Channel, EventType, Priority, canonical_category

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Engagement",
    "EngagementKind",
    "Match",
    "PauseMode",
    "catalogue_names",
    "load_catalogue",
    "parse_catalogue",
]


class CatalogueError(DataError):
    """A catalogue cannot be loaded: the file, the engagement and the field are named.

    When a file has several errors they are raised together: the message lists
    each on its own line and :attr:`errors` holds them one by one (a single
    error's ``errors`` is ``[itself]``).
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
        errors: Iterable[CatalogueError] = (),
    ) -> None:
        super().__init__(message, source=source, line=line, field=field)
        self.errors: list[CatalogueError] = list(errors) or [self]


class EngagementKind(enum.StrEnum):
    """What an engagement promises, and so how it is measured."""

    #: A delay between events of one contact (received → answered).
    RESPONSE = "response"
    #: An attribute of one event within bounds (a call picked up within 5 rings).
    MEASURE = "measure"
    #: A promise no event measures (« accueil courtois »), listed so the catalogue is complete.
    MANUAL = "manual"
    #: A site event due by a day of the school calendar (« sous 10 jours après la rentrée »).
    SCHEDULED = "scheduled"
    #: Site events due each period (« mise à jour hebdomadaire », « deux réunions par an »).
    RECURRING = "recurring"
    #: A daily opening amplitude of a line or desk (« 9 heures par jour scolaire »).
    AVAILABILITY = "availability"

    @property
    def is_obligation(self) -> bool:
        """Whether it is measured from site events rather than contacts."""
        return self in (
            EngagementKind.SCHEDULED,
            EngagementKind.RECURRING,
            EngagementKind.AVAILABILITY,
        )


class PauseMode(enum.StrEnum):
    """What a pause does to a response delay."""

    #: The delay resumes with what was left when the pause began.
    SUSPEND = "suspend"
    #: The full delay starts again from the resumption (former décret 2001-492, art. 2).
    RESTART = "restart"


ComplexRule: TypeAlias = Literal["exempt", "ignore"] | Delay

_NameSet: TypeAlias = frozenset[str] | None


def _to_name_set(value: Iterable[str] | str | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(str(v) for v in value)


def _hit(allowed: _NameSet, value: str | None, canonical: Callable[[str], str]) -> bool:
    if allowed is None:
        return True
    if value is None:
        return False
    if value in allowed:
        return True
    try:  # a French alias (« courriel ») or another spelling of an allowed value
        return canonical(value) in allowed
    except (SlaEngineError, ValueError, TypeError):
        return False


def _channel_name(text: str) -> str:
    return str(Channel.parse(text).value)


def _priority_name(text: str) -> str:
    return str(Priority.parse(text).value)


def _same(text: str) -> str:
    return text.strip()


@attrs.frozen
class Match:
    """Which contacts an engagement applies to; ``None`` for a key means any value.

    A contact matches when, for every restricted key, its value is one of the
    listed ones; a contact with no value (``None``) for a restricted key does
    not match.  Values are canonical (``"email"``, ``"complaint"``); French
    aliases given to :meth:`matches` are understood too.
    """

    channel: frozenset[str] | None = attrs.field(default=None, converter=_to_name_set)
    category: frozenset[str] | None = attrs.field(default=None, converter=_to_name_set)
    priority: frozenset[str] | None = attrs.field(default=None, converter=_to_name_set)
    service: frozenset[str] | None = attrs.field(default=None, converter=_to_name_set)

    @property
    def is_any(self) -> bool:
        """Whether every contact matches (no key is restricted)."""
        return (
            self.channel is None
            and self.category is None
            and self.priority is None
            and self.service is None
        )

    def matches(
        self,
        *,
        channel: str | None = None,
        category: str | None = None,
        priority: str | None = None,
        service: str | None = None,
    ) -> bool:
        """Whether a contact with these values is covered."""
        return (
            _hit(self.channel, channel, _channel_name)
            and _hit(self.category, category, canonical_category)
            and _hit(self.priority, priority, _priority_name)
            and _hit(self.service, service, _same)
        )


@attrs.frozen
class Engagement:
    """One promise of a catalogue, as the timer engine reads it.

    ``kind`` says which fields are used: a *response* engagement runs a timer
    from ``start`` to the first of ``stop`` against ``target`` (or the delay
    announced to the user when ``target_announced``); a *measure* engagement
    checks ``attribute`` of one ``event`` against ``at_most``/``at_least``; a
    *manual* one is listed with its ``indicator`` only.
    """

    id: str
    title: str
    source: str
    kind: EngagementKind
    when: Match = attrs.field(factory=Match)
    #: The event that starts the timer (response only).
    start: EventType | None = None
    #: The first of these events stops the timer (response only).
    stop: tuple[EventType, ...] = ()
    pause: EventType | None = None
    resume: EventType | None = None
    pause_mode: PauseMode = PauseMode.SUSPEND
    #: ``None`` when the target is the delay announced in the acknowledgement.
    target: Delay | None = None
    target_announced: bool = False
    #: Fractions of the delay at which the request is flagged at risk.
    warn_at: tuple[float, ...] = ()
    #: ``"exempt"``: a request flagged complex leaves the engagement;
    #: ``"ignore"``: the flag changes nothing; a delay: it gets that longer delay.
    complex_rule: ComplexRule = "ignore"
    #: Extend a deadline ending on a non-working day (CPC art. 642): jours
    #: calendaires, jours francs, semaines and mois (extended by default) or
    #: jours ouvrables (not by default); ``None`` = the unit's default.
    extend: bool | None = None
    #: The engagement's own calendar spec, canonical; ``None`` = the catalogue's.
    calendar: str | None = None
    #: The measured event (measure only).
    event: EventType | None = None
    attribute: str | None = None
    at_most: float | None = None
    at_least: float | None = None
    indicator: str | None = None
    notes: str | None = None
    #: Scheduled, recurring and availability engagements: their schedule.
    obligation: Obligation | None = None

    def applies_to(
        self,
        *,
        channel: str | None = None,
        category: str | None = None,
        priority: str | None = None,
        service: str | None = None,
    ) -> bool:
        """Whether a contact is measured by this engagement (never for a manual one)."""
        if self.kind is EngagementKind.MANUAL or self.kind.is_obligation:
            return False
        return self.when.matches(
            channel=channel, category=category, priority=priority, service=service
        )


def _index_by_id(catalogue: Catalogue) -> dict[str, Engagement]:
    return {e.id: e for e in catalogue.engagements}


@attrs.frozen
class Catalogue:
    """A validated catalogue: its identity, its default calendar and its engagements."""

    id: str
    title: str
    version: str
    calendar: str | None
    engagements: tuple[Engagement, ...]
    #: Where it was read: a file path, ``package:<name>`` or ``<string>``.
    source: str = "<string>"
    notes: str | None = attrs.field(default=None, kw_only=True)
    _fingerprint: str | None = attrs.field(
        default=None, kw_only=True, alias="fingerprint", repr=False
    )
    _matching: dict[tuple[str | None, ...], tuple[Engagement, ...]] = attrs.field(
        factory=dict, init=False, repr=False, eq=False, hash=False
    )
    #: The TOML text it was read from (``None`` when built in Python), so a

    #: store can keep the exact rules its figures were computed with.
    text: str | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)
    _by_id: dict[str, Engagement] = attrs.field(
        default=attrs.Factory(_index_by_id, takes_self=True),
        init=False,
        repr=False,
        eq=False,
        hash=False,
    )

    def engagement(self, engagement_id: str) -> Engagement:
        """The engagement with this id; an unknown id raises :class:`CatalogueError`."""
        found = self._by_id.get(engagement_id)
        if found is None:
            known = ", ".join(e.id for e in self.engagements)
            raise CatalogueError(
                f"no engagement {engagement_id!r}{_did_you_mean(engagement_id, self._by_id)}; "
                f"known: {known}",
                source=self.source,
            )
        return found

    def matching(
        self,
        *,
        channel: str | None = None,
        category: str | None = None,
        priority: str | None = None,
        service: str | None = None,
    ) -> tuple[Engagement, ...]:
        """Every response and measure engagement that covers this contact, in file order.

        Every match is returned, not the first: an urgent e-mail is measured
        by the general e-mail engagement *and* by an urgent one.  Manual
        engagements are never returned.
        """
        key = (channel, category, priority, service)
        found = self._matching.get(key)
        if found is None:
            # Few distinct classifications exist: remember each answer.
            found = self._matching[key] = tuple(
                e
                for e in self.engagements
                if e.applies_to(
                    channel=channel, category=category, priority=priority, service=service
                )
            )
        return found

    def calendar_for(self, engagement: Engagement | str) -> str | None:
        """The calendar spec an engagement is counted with: its own, else the catalogue's."""
        if isinstance(engagement, str):
            engagement = self.engagement(engagement)
        return engagement.calendar or self.calendar

    @property
    def fingerprint(self) -> str:
        """12 hex digits of the SHA-256 of the file: which exact rules a figure used.

        A catalogue built in Python rather than read from a file is
        fingerprinted from a canonical rendering of its values.
        """
        if self._fingerprint is not None:
            return self._fingerprint
        return _digest(_canonical_rendering(self).encode("utf-8"))


# -- loading ------------------------------------------------------------------------

_PACKAGE_PREFIX = "package:"


def _catalogues_dir() -> Traversable:
    return resources.files("sla_engine") / "catalogues"


@functools.cache
def catalogue_names() -> tuple[str, ...]:
    """The names of the catalogues shipped with the package, sorted."""
    folder = _catalogues_dir()
    return tuple(
        sorted(
            entry.name.removesuffix(".toml")
            for entry in folder.iterdir()
            if entry.name.endswith(".toml")
        )
    )


def load_catalogue(name_or_path: str | os.PathLike[str]) -> Catalogue:
    """Load a shipped catalogue by name (``"qualicirco"``) or a TOML file by path.

    A string is a path when it ends in ``.toml`` or has a directory part;
    otherwise it names a shipped catalogue (see :func:`catalogue_names`).
    Every problem raises :class:`CatalogueError`.
    """
    if isinstance(name_or_path, str) and not _looks_like_path(name_or_path):
        return _load_shipped(name_or_path)
    path = Path(name_or_path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CatalogueError(
            f"cannot read the catalogue file: {error.strerror or error}", source=str(path)
        ) from error
    return _parse_bytes(data, source=str(path))


def _looks_like_path(text: str) -> bool:
    return text.endswith(".toml") or "/" in text or os.sep in text


@functools.cache
def _load_shipped(name: str) -> Catalogue:
    names = catalogue_names()
    if name not in names:
        raise CatalogueError(
            f"no shipped catalogue {name!r}{_did_you_mean(name, names)}; shipped: "
            f"{', '.join(names)} (a path to a file must end in .toml or name its folder)",
        )
    data = (_catalogues_dir() / f"{name}.toml").read_bytes()
    return _parse_bytes(data, source=f"{_PACKAGE_PREFIX}{name}")


def parse_catalogue(text: str, *, source: str = "<string>") -> Catalogue:
    """Validate the TOML ``text`` of a catalogue; ``source`` names it in error messages."""
    return _parse(text, source=source, fingerprint=_digest(text.encode("utf-8")))


def _parse_bytes(data: bytes, *, source: str) -> Catalogue:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise CatalogueError(
            f"the file is not UTF-8 text (byte {error.start})", source=source, line=line
        ) from None
    return _parse(text, source=source, fingerprint=_digest(data))


def _parse(text: str, *, source: str, fingerprint: str) -> Catalogue:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        where = re.search(r"at line (\d+)", str(error))
        raise CatalogueError(
            f"TOML syntax error: {error}",
            source=source,
            line=int(where[1]) if where else None,
        ) from None
    except RecursionError:
        raise CatalogueError("TOML syntax error: nested too deeply", source=source) from None
    reader = _Reader(text, source)

    catalogue = reader.catalogue(document, fingerprint)
    if reader.errors or catalogue is None:
        raise _combined(reader.errors, source)
    return attrs.evolve(catalogue, text=text)


def _combined(errors: list[CatalogueError], source: str) -> CatalogueError:
    if len(errors) == 1:
        return errors[0]
    ordered = sorted(errors, key=lambda e: e.line or 0)
    listing = "\n".join(f"  {e}" for e in ordered)
    return CatalogueError(
        f"{len(ordered)} errors in the catalogue:\n{listing}", source=source, errors=ordered
    )


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


# -- validation ---------------------------------------------------------------------

_ID = re.compile(r"^\w[\w.-]*$")
_ATTRIBUTE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CATALOGUE_KEYS = ("id", "title", "version", "calendar", "notes")
_TOP_KEYS = ("catalogue", "engagement")
_WHEN_KEYS = ("channel", "category", "priority", "service")
_COMMON = ("id", "title", "source", "kind", "indicator", "notes")
_KEYS: dict[EngagementKind, tuple[str, ...]] = {
    EngagementKind.RESPONSE: (
        *_COMMON,
        *("when", "start", "stop", "pause", "resume", "pause_mode", "target"),
        *("warn_at", "complex", "extend", "calendar"),
    ),
    EngagementKind.MEASURE: (*_COMMON, "when", "event", "attribute", "at_most", "at_least"),
    EngagementKind.MANUAL: _COMMON,
    **{EngagementKind(kind): (*_COMMON, *keys) for kind, keys in OBLIGATION_KEYS.items()},
}
_ALL_KEYS = tuple(dict.fromkeys(k for keys in _KEYS.values() for k in keys))
_ANNOUNCED = "announced"
#: Finds the line of a key ("target", "when.channel"), or of the table for None.
_LineOf: TypeAlias = Callable[[str | None], int | None]
_Choice = TypeVar("_Choice", EngagementKind, PauseMode)
_COMPLEX_WORDS = ("exempt", "ignore")


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value: object) -> str:
    names = {
        str: "text",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "a table",
    }
    return names.get(type(value), f"a {type(value).__name__}")


class _Lines:
    """Best-effort line numbers of tables and keys, found in the text tomllib parsed."""

    _HEADER = re.compile(r"^\s*\[\[\s*engagement\s*\]\]")
    _SUBTABLE = re.compile(r"^\s*\[\s*engagement\s*\.")
    _TABLE = re.compile(r"^\s*\[")
    _CATALOGUE = re.compile(r"^\s*\[\s*catalogue\s*\]")

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [i for i, line in enumerate(self.lines) if self._HEADER.match(line)]
        self.catalogue = next(
            (i for i, line in enumerate(self.lines) if self._CATALOGUE.match(line)), None
        )

    def _block(self, start: int) -> range:
        end = start + 1
        while end < len(self.lines):
            line = self.lines[end]
            if self._TABLE.match(line) and not self._SUBTABLE.match(line):
                break
            end += 1
        return range(start, end)

    def _key_in(self, block: range, key: str) -> int | None:
        pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*[=.]""")
        return next((i + 1 for i in block if pattern.match(self.lines[i])), None)

    def top(self, key: str) -> int | None:
        pattern = re.compile(rf"""^\s*(?:\[+\s*)?["']?{re.escape(key)}\b""")
        return next((i + 1 for i, line in enumerate(self.lines) if pattern.match(line)), None)

    def in_catalogue(self, key: str | None) -> int | None:
        """The line of ``key`` in the [catalogue] table, else of the table's header."""
        if self.catalogue is None:
            return None
        found = None if key is None else self._key_in(self._block(self.catalogue), key)
        return found or self.catalogue + 1

    def engagement_header(self, index: int, count: int) -> int | None:
        # Engagements written another way (an inline array): no guess.
        return self.headers[index] + 1 if len(self.headers) == count else None

    def in_engagement(self, index: int, key: str, count: int) -> int | None:
        """The line of ``key`` in the index-th [[engagement]] table, or None."""
        if len(self.headers) != count:
            return None
        return self._key_in(self._block(self.headers[index]), key)


class _Reader:
    """Reads a parsed TOML document into a :class:`Catalogue`, collecting every error."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines = _Lines(text)
        self.errors: list[CatalogueError] = []
        self._count = 0
        self._default_calendar: str | None = None

    # -- reporting

    def _error(self, field: str | None, message: str, line: int | None) -> None:
        self.errors.append(CatalogueError(message, source=self.source, line=line, field=field))

    def _unknown_keys(
        self,
        table: Mapping[str, Any],
        allowed: Iterable[str],
        path: str,
        line_of: _LineOf,
    ) -> None:
        allowed = tuple(allowed)
        for key in table:
            if key not in allowed:
                self._error(
                    f"{path}.{key}" if path else key,
                    f"unknown key {key!r}{_did_you_mean(key, allowed)}; "
                    f"known keys: {', '.join(allowed)}",
                    line_of(key),
                )

    # -- the document

    def catalogue(self, document: Mapping[str, Any], fingerprint: str) -> Catalogue | None:
        self._unknown_keys(document, _TOP_KEYS, "", lambda k: self.lines.top(k or ""))
        header = self._catalogue_table(document.get("catalogue"))
        engagements = self._engagements(document.get("engagement"))
        if header is None or self.errors:
            return None
        cat_id, title, version, cal, notes = header
        return Catalogue(
            id=cat_id,
            title=title,
            version=version,
            calendar=cal,
            engagements=engagements,
            source=self.source,
            notes=notes,
            fingerprint=fingerprint,
        )

    def _catalogue_table(
        self, table: object
    ) -> tuple[str, str, str, str | None, str | None] | None:
        if table is None:
            self._error(
                "catalogue",
                "missing [catalogue] table (with id, title and version)",
                None,
            )
            return None
        if not isinstance(table, dict):
            self._error(
                "catalogue",
                f"catalogue must be a table ([catalogue]), not {_type_name(table)}",
                self.lines.top("catalogue"),
            )
            return None
        line_of = self.lines.in_catalogue
        self._unknown_keys(table, _CATALOGUE_KEYS, "catalogue", line_of)
        cat_id = self._text(table, "id", "catalogue", line_of, required=True, pattern=_ID)
        title = self._text(table, "title", "catalogue", line_of, required=True)
        version = self._text(table, "version", "catalogue", line_of, required=True)
        notes = self._text(table, "notes", "catalogue", line_of)
        self._default_calendar = self._calendar(table, "catalogue", line_of)
        if cat_id is None or title is None or version is None:
            return None
        return cat_id, title, version, self._default_calendar, notes

    def _engagements(self, raw: object) -> tuple[Engagement, ...]:
        if raw is None:
            self._error(
                "engagement",
                "the catalogue declares no engagement: add [[engagement]] tables",
                None,
            )
            return ()
        if not isinstance(raw, list):
            self._error(
                "engagement",
                f"engagement must be an array of tables ([[engagement]]), not {_type_name(raw)}",
                self.lines.top("engagement"),
            )
            return ()
        self._count = len(raw)
        result: list[Engagement] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(raw):
            engagement = self._engagement(index, item, seen)
            if engagement is not None:
                result.append(engagement)
        return tuple(result)

    # -- one engagement

    def _engagement(self, index: int, raw: object, seen: dict[str, int]) -> Engagement | None:
        def line_of(key: str | None) -> int | None:
            header = self.lines.engagement_header(index, self._count)
            if key is None:
                return header
            parts = key.split(".")  # "when.channel": the channel line, else the when line
            for part in (parts[-1], parts[0]):
                found = self.lines.in_engagement(index, part, self._count)
                if found is not None:
                    return found
            return header

        if not isinstance(raw, dict):
            self._error(
                f"engagement #{index + 1}",
                f"an engagement must be a table, not {_type_name(raw)}",
                line_of(None),
            )
            return None
        before = len(self.errors)
        raw_id = raw.get("id")
        valid_id = isinstance(raw_id, str) and _ID.match(raw_id) is not None
        path = f"engagement '{raw_id}'" if valid_id else f"engagement #{index + 1}"
        eng_id = self._text(raw, "id", path, line_of, required=True, pattern=_ID)
        if eng_id is not None:
            if eng_id in seen:
                self._error(
                    f"{path}.id",
                    f"duplicate engagement id {eng_id!r}: engagement #{seen[eng_id] + 1} "
                    "already uses it",
                    line_of("id"),
                )
            else:
                seen[eng_id] = index
        title = self._text(raw, "title", path, line_of, required=True)
        source = self._text(raw, "source", path, line_of, required=True)
        indicator = self._text(raw, "indicator", path, line_of)
        notes = self._text(raw, "notes", path, line_of)
        kind = self._choice(raw, "kind", path, line_of, EngagementKind, required=True)
        if kind is None:
            self._unknown_keys(raw, _ALL_KEYS, path, line_of)
            return None
        self._keys_for_kind(raw, kind, path, line_of)
        common: dict[str, Any] = {"indicator": indicator, "notes": notes}
        if kind is EngagementKind.RESPONSE:
            common.update(self._response(raw, path, line_of))
        elif kind is EngagementKind.MEASURE:
            common.update(self._measure(raw, path, line_of))
        elif kind.is_obligation:
            common.update(self._obligation(kind, raw, path, line_of))
        if len(self.errors) > before or eng_id is None or title is None or source is None:
            return None
        return Engagement(id=eng_id, title=title, source=source, kind=kind, **common)

    def _keys_for_kind(
        self,
        raw: Mapping[str, Any],
        kind: EngagementKind,
        path: str,
        line_of: _LineOf,
    ) -> None:
        allowed = _KEYS[kind]
        for key in raw:
            if key in allowed:
                continue
            if key == "target" and raw[key] == _ANNOUNCED:
                message = (
                    f"target = 'announced' is allowed only for kind 'response', "
                    f"not for a {kind.value} engagement"
                )
            elif key in _ALL_KEYS:
                message = f"{key!r} is not used by a {kind.value} engagement; its keys are: " + (
                    ", ".join(allowed)
                )
            else:
                message = (
                    f"unknown key {key!r}{_did_you_mean(key, _ALL_KEYS)}; "
                    f"known keys for a {kind.value} engagement: {', '.join(allowed)}"
                )
            self._error(f"{path}.{key}", message, line_of(key))

    def _response(self, raw: Mapping[str, Any], path: str, line_of: _LineOf) -> dict[str, Any]:
        when = self._when(raw, path, line_of)
        start = self._event(raw, "start", path, line_of) or EventType.RECEIVED
        stop = self._events(raw, "stop", path, line_of)
        pause = self._event(raw, "pause", path, line_of)
        resume = self._event(raw, "resume", path, line_of)
        mode = self._choice(raw, "pause_mode", path, line_of, PauseMode)
        target, announced = self._target(raw, path, line_of)
        warn_at = self._warn_at(raw, path, line_of)
        complex_rule = self._complex(raw, path, line_of, target)
        extend = self._bool(raw, "extend", path, line_of)
        own_calendar = self._calendar(raw, path, line_of)

        if pause is None:
            for key in ("pause_mode", "resume"):
                if key in raw:
                    self._error(
                        f"{path}.{key}",
                        f"{key} is set but pause is not: name the event that pauses the "
                        'timer (pause = "suspended") or remove it',
                        line_of(key),
                    )
        elif resume is None and "resume" not in raw:
            resume = EventType.RESUMED
        self._check_event_roles(start, stop, pause, resume, path, line_of)
        self._check_extend(extend, target, announced, complex_rule, path, line_of)
        self._check_school_days(target, complex_rule, own_calendar, path, line_of)
        return {
            "when": when,
            "start": start,
            "stop": stop,
            "pause": pause,
            "resume": resume,
            "pause_mode": mode or PauseMode.SUSPEND,
            "target": target,
            "target_announced": announced,
            "warn_at": warn_at,
            "complex_rule": complex_rule,
            "extend": extend,
            "calendar": own_calendar,
        }

    def _measure(self, raw: Mapping[str, Any], path: str, line_of: _LineOf) -> dict[str, Any]:
        when = self._when(raw, path, line_of)
        event = self._event(raw, "event", path, line_of, required=True)
        attribute = self._text(raw, "attribute", path, line_of, required=True, pattern=_ATTRIBUTE)
        at_most = self._number(raw, "at_most", path, line_of)
        at_least = self._number(raw, "at_least", path, line_of)
        if "at_most" not in raw and "at_least" not in raw:
            self._error(
                f"{path}.at_most",
                "a measure engagement needs a bound: at_most, at_least or both",
                line_of(None),
            )
        if at_most is not None and at_least is not None and at_least > at_most:
            self._error(
                f"{path}.at_least",
                f"at_least ({at_least:g}) is greater than at_most ({at_most:g}): "
                "no value can satisfy both",
                line_of("at_least"),
            )
        return {
            "when": when,
            "event": event,
            "attribute": attribute,
            "at_most": at_most,
            "at_least": at_least,
        }

    def _obligation(
        self, kind: EngagementKind, raw: Mapping[str, Any], path: str, line_of: _LineOf
    ) -> dict[str, Any]:
        own_calendar = self._calendar(raw, path, line_of)
        if "calendar" in raw and own_calendar is None:
            return {}  # the calendar's error is reported; nothing to check the anchors against

        def report(key: str, message: str) -> None:
            self._error(f"{path}.{key}", message, line_of(key if key in raw else None))

        obligation = read_obligation(
            kind.value, raw, own_calendar or self._default_calendar, report
        )
        return {"obligation": obligation, "calendar": own_calendar}

    # -- cross-field checks

    def _check_event_roles(
        self,
        start: EventType,
        stop: tuple[EventType, ...],
        pause: EventType | None,
        resume: EventType | None,
        path: str,
        line_of: _LineOf,
    ) -> None:
        if start in stop:
            self._error(
                f"{path}.stop",
                f"{start.value!r} both starts and stops the timer",
                line_of("stop"),
            )
        for key, event in (("pause", pause), ("resume", resume)):
            if event is not None and (event in stop or event == start):
                role = "stops" if event in stop else "starts"
                self._error(
                    f"{path}.{key}",
                    f"{event.value!r} cannot be the {key} event: it also {role} the timer",
                    line_of(key),
                )
        if pause is not None and pause == resume:
            self._error(
                f"{path}.resume",
                f"{pause.value!r} cannot both pause and resume the timer",
                line_of("resume"),
            )

    def _check_extend(
        self,
        extend: bool | None,
        target: Delay | None,
        announced: bool,
        complex_rule: ComplexRule,
        path: str,
        line_of: _LineOf,
    ) -> None:
        if extend is None or announced:
            return
        delays = [d for d in (target, complex_rule) if isinstance(d, Delay)]
        if delays and not any(d.unit.extendable for d in delays):
            units = ", ".join(sorted({d.unit.value for d in delays}))
            self._error(
                f"{path}.extend",
                f"extend has no effect on a delay in {units}: only jours calendaires, "
                "jours ouvrables, jours francs, semaines and mois can end on a day CPC "
                "art. 642 extends (jours ouvrés and jours scolaires end on a day the "
                "service works)",
                line_of("extend"),
            )

    def _check_school_days(
        self,
        target: Delay | None,
        complex_rule: ComplexRule,
        own_calendar: str | None,
        path: str,
        line_of: _LineOf,
    ) -> None:
        spec = own_calendar or self._default_calendar
        if spec is None or "+" in spec:
            return
        for key, delay in (("target", target), ("complex", complex_rule)):
            if isinstance(delay, Delay) and delay.unit is Unit.JOURS_SCOLAIRES:
                self._error(
                    f"{path}.{key}",
                    f"jours scolaires need a calendar with a school zone, and {spec!r} has "
                    'none: write calendar = "fr+B" (or the service\'s zone)',
                    line_of(key),
                )

    # -- typed readers

    def _text(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        line_of: _LineOf,
        *,
        required: bool = False,
        pattern: re.Pattern[str] | None = None,
    ) -> str | None:
        if key not in table:
            if required:
                self._error(f"{path}.{key}", f"missing required key {key!r}", line_of(None))
            return None
        value = table[key]
        if not isinstance(value, str):
            self._error(f"{path}.{key}", f"must be text, not {_type_name(value)}", line_of(key))
            return None
        value = value.strip()
        if not value:
            self._error(f"{path}.{key}", "must not be empty", line_of(key))
            return None
        if pattern is not None and not pattern.match(value):
            rule = (
                "ASCII letters, digits and '_', not starting with a digit"
                if pattern is _ATTRIBUTE
                else "letters, digits, '_', '.' and '-', starting with a letter, a digit or '_'"
            )
            self._error(
                f"{path}.{key}", f"{value!r} is not a valid identifier: use {rule}", line_of(key)
            )
            return None
        return value

    def _choice(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        line_of: _LineOf,
        choices: type[_Choice],
        *,
        required: bool = False,
    ) -> _Choice | None:
        value = self._text(table, key, path, line_of, required=required)
        if value is None:
            return None
        names = [c.value for c in choices]
        if value not in names:
            self._error(
                f"{path}.{key}",
                f"unknown {key} {value!r}{_did_you_mean(value, names)}; "
                f"expected one of: {', '.join(names)}",
                line_of(key),
            )
            return None
        return choices(value)

    def _bool(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        line_of: _LineOf,
    ) -> bool | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, bool):
            self._error(
                f"{path}.{key}", f"must be true or false, not {_type_name(value)}", line_of(key)
            )
            return None
        return value

    def _number(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        line_of: _LineOf,
    ) -> float | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._error(f"{path}.{key}", f"must be a number, not {_type_name(value)}", line_of(key))
            return None
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            self._error(f"{path}.{key}", f"must be a finite number, not {value}", line_of(key))
            return None
        return number

    def _strings(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        line_of: _LineOf,
        *,
        empty: str,
    ) -> list[str] | None:
        """A list of non-empty strings; a single string is a one-element list."""
        value = table[key]
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self._error(
                f"{path}.{key}",
                f"must be text or a list of text, not {_type_name(value)}",
                line_of(key),
            )
            return None
        if not items:
            self._error(f"{path}.{key}", empty, line_of(key))
            return None
        bad = [item for item in items if not isinstance(item, str) or not item.strip()]
        if bad:
            self._error(
                f"{path}.{key}",
                f"every value must be non-empty text, not {bad[0]!r}",
                line_of(key),
            )
            return None
        return [item.strip() for item in items]

    def _event(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        line_of: _LineOf,
        *,
        required: bool = False,
    ) -> EventType | None:
        text = self._text(table, key, path, line_of, required=required)
        if text is None:
            return None
        return self._parse_event(text, f"{path}.{key}", line_of(key))

    def _parse_event(self, text: str, field: str, line: int | None) -> EventType | None:
        try:
            return EventType(EventType.parse(text))
        except DataError as error:
            hint = _did_you_mean(text, [e.value for e in EventType])
            self._error(field, f"{error.message}{hint}", line)
            return None

    def _events(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        line_of: _LineOf,
    ) -> tuple[EventType, ...]:
        if key not in table:
            self._error(
                f"{path}.{key}",
                f"missing required key {key!r} (the events that stop the timer, "
                'e.g. stop = ["answered"])',
                line_of(None),
            )
            return ()
        texts = self._strings(
            table, key, path, line_of, empty="at least one event must stop the timer"
        )
        if texts is None:
            return ()
        events = [self._parse_event(t, f"{path}.{key}", line_of(key)) for t in texts]
        return tuple(dict.fromkeys(e for e in events if e is not None))

    def _when(self, raw: Mapping[str, Any], path: str, line_of: _LineOf) -> Match:
        if "when" not in raw:
            return Match()
        table = raw["when"]
        where = f"{path}.when"
        if not isinstance(table, dict):
            self._error(
                where,
                f'must be a table such as {{ channel = ["email"] }}, not {_type_name(table)}',
                line_of("when"),
            )
            return Match()

        def sub_line(key: str | None) -> int | None:
            return line_of("when" if key is None else f"when.{key}")

        self._unknown_keys(table, _WHEN_KEYS, where, sub_line)
        parsers: dict[str, Callable[[str], str]] = {
            "channel": _channel_name,
            "category": canonical_category,
            "priority": _priority_name,
            "service": _same,
        }
        values: dict[str, frozenset[str] | None] = {}
        for key, parse in parsers.items():
            if key not in table:
                values[key] = None
                continue
            texts = self._strings(
                table,
                key,
                where,
                sub_line,
                empty="an empty list matches nothing: list values, or remove the key",
            )
            if texts is None:
                continue
            names: set[str] = set()
            for text in texts:
                try:
                    names.add(parse(text))
                except DataError as error:
                    self._error(f"{where}.{key}", error.message, sub_line(key))
            values[key] = frozenset(names)
        return Match(**values)

    def _target(
        self, raw: Mapping[str, Any], path: str, line_of: _LineOf
    ) -> tuple[Delay | None, bool]:
        text = self._text(raw, "target", path, line_of, required=True)
        if text is None:
            return None, False
        if text == _ANNOUNCED:
            return None, True
        try:
            return Delay.parse(text), False
        except DelayError as error:
            self._error(
                f"{path}.target",
                f'{error} (or write target = "announced" for the delay announced to the user)',
                line_of("target"),
            )
            return None, False

    def _warn_at(self, raw: Mapping[str, Any], path: str, line_of: _LineOf) -> tuple[float, ...]:
        if "warn_at" not in raw:
            return ()
        value = raw["warn_at"]
        items = value if isinstance(value, list) else [value]
        field, line = f"{path}.warn_at", line_of("warn_at")
        fractions: list[float] = []
        for item in items:
            if isinstance(item, bool) or not isinstance(item, int | float):
                self._error(
                    field,
                    f"must be fractions of the delay such as [0.5, 0.8], not {item!r}",
                    line,
                )
                return ()
            if not 0 < item < 1:
                self._error(
                    field,
                    f"{item!r} is not a fraction strictly between 0 and 1 "
                    "(0.8 warns when 80 % of the delay is spent)",
                    line,
                )
                return ()
            fractions.append(float(item))
        if any(b <= a for a, b in itertools.pairwise(fractions)):
            self._error(field, f"must be strictly increasing, not {value!r}", line)
            return ()
        return tuple(fractions)

    def _complex(
        self,
        raw: Mapping[str, Any],
        path: str,
        line_of: _LineOf,
        target: Delay | None,
    ) -> ComplexRule:
        text = self._text(raw, "complex", path, line_of)
        if text is None:
            return "ignore"
        if text == "exempt":
            return "exempt"
        if text == "ignore":
            return "ignore"
        field, line = f"{path}.complex", line_of("complex")
        try:
            delay = Delay.parse(text)
        except DelayError as error:
            self._error(
                field,
                f"expected 'exempt', 'ignore' or a longer delay such as '30 jours ouvrés', "
                f"not {text!r}{_did_you_mean(text, _COMPLEX_WORDS)} ({error})",
                line,
            )
            return "ignore"
        if target is not None and delay.unit == target.unit and delay.amount <= target.amount:
            self._error(
                field,
                f"the delay for complex requests ({delay}) must be longer than the "
                f"target ({target})",
                line,
            )
        return delay

    def _calendar(self, table: Mapping[str, Any], path: str, line_of: _LineOf) -> str | None:
        text = self._text(table, "calendar", path, line_of)
        if text is None:
            return None
        try:
            return calendar(text).spec
        except (CalendarSpecError, ValueError) as error:
            self._error(f"{path}.calendar", str(error), line_of("calendar"))
            return None


# -- canonical rendering (fingerprint of catalogues built in Python) ------------------


def _render_value(value: object) -> str:
    if isinstance(value, frozenset):
        return "[" + ",".join(sorted(map(str, value))) + "]"
    if isinstance(value, tuple):
        return "[" + ",".join(_render_value(v) for v in value) + "]"
    if isinstance(value, Match):
        return "{" + ",".join(f"{k}={_render_value(getattr(value, k))}" for k in _WHEN_KEYS) + "}"
    return repr(str(value)) if value is not None else "-"


def _canonical_rendering(catalogue: Catalogue) -> str:
    parts = [
        f"{name}={_render_value(getattr(catalogue, name))}"
        for name in ("id", "title", "version", "calendar", "notes")
    ]
    for engagement in catalogue.engagements:
        parts.append(
            ";".join(
                f"{a.name}={_render_value(getattr(engagement, a.name))}"
                for a in attrs.fields(Engagement)
            )
        )
    return "\n".join(parts)
