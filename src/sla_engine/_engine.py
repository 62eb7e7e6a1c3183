"""The engine: an ``eventsourcing`` application of contacts, with its timer view.

Commands record contact events (one or many in one transaction); queries
answer from the timer view, which a projection keeps up to date from the
application's notification log, or re-evaluate the events themselves (as of
a past instant, or under other rules) without writing anything.
"""

from __future__ import annotations

import collections
import datetime as dt
import functools
import hashlib
import itertools
import json
import math
import os
import random
import sqlite3
import time
import typing
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    IntegrityError,
    InternalError,
    MapperDeserialisationError,
    OperationalError,
    StoredEvent,
    Tracking,
)
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteCursor,
)
from eventsourcing.utils import resolve_topic

from ._calendar import Calendar, calendar
from ._catalogue import Catalogue, load_catalogue, parse_catalogue
from ._collector import collector_paused
from ._contact import (
    CLOCK_TOLERANCE_US,
    CONTACT_TOPICS,
    ENGINE_EVENT_PREFIX,
    Contact,
    ContactEvent,
    ContactRuleError,
    DuplicateEvent,
    Outcomes,
    RecordOutcome,
)
from ._delay import Delay, Unit
from ._errors import DataError, SlaEngineError, redacted
from ._explain import explain_timer
from ._obligations import is_obligation
from ._privacy import Privacy, key_ref, pseudonyms_to_forget, unseal
from ._rows import RowEvaluator
from ._rules import RULES_ID, Rules, StoredRules
from ._site_engine import SiteRecording
from ._stored import StoredEncoder
from ._time import microseconds, require_aware
from ._timers import EVALUATION, CalendarResolver, Timer, evaluate_contact
from ._view import (
    ContactTimers,
    MemoryTimerView,
    SQLiteTimerView,
    TimerView,
    ViewRows,
    _attention,
)
from ._vocabulary import EventType

__all__ = ["Alert", "EscalationPolicy", "RecordResult", "SlaEngine", "WhatIf", "system_clock"]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Days kept before the end of a calendar's data: no delay of a catalogue
#: (months at most) counts that far from its contact's last event.
COUNTABLE_MARGIN_DAYS = 400


def system_clock() -> dt.datetime:
    """The machine's clock, in UTC: the engine's default, and the only place it is read."""
    return dt.datetime.now(dt.UTC)


# Which view goes with which persistence module; PostgreSQL's is imported
# only when used, so that psycopg is needed only there.
_VIEWS = {
    "eventsourcing.popo": "sla_engine._view:MemoryTimerView",
    "eventsourcing.sqlite": "sla_engine._view:SQLiteTimerView",
    "eventsourcing.postgres": "sla_engine._view_postgres:PostgresTimerView",
}


def store_env(store: str | None) -> dict[str, str]:
    """``eventsourcing`` settings for a store URL.

    ``None`` or ``"memory"``: in memory.  ``"sqlite:///path/to/file.db"``, a
    path ending in ``.db``/``.sqlite``, or ``"sqlite://:memory:"``: SQLite.
    ``"postgresql://user:password@host:port/dbname"``: PostgreSQL.
    """
    env = {"ORIGINATOR_ID_TYPE": "text"}
    if store is None or store == "memory":
        return env | {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    parsed = urllib.parse.urlsplit(store)
    if parsed.scheme in ("postgresql", "postgres"):
        port = parsed.port or 5432
        return env | {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": parsed.hostname or "localhost",
            "POSTGRES_PORT": str(port),
            "POSTGRES_USER": urllib.parse.unquote(parsed.username or ""),
            "POSTGRES_PASSWORD": urllib.parse.unquote(parsed.password or ""),
            "POSTGRES_DBNAME": parsed.path.lstrip("/"),
        }
    if parsed.scheme == "sqlite":
        path = store[len("sqlite://") :]
        path = path[1:] if path.startswith("/") and not path.startswith("//") else path
        name = ":memory:" if path in (":memory:", "/:memory:") else path or ":memory:"
        return env | {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": name}
    if parsed.scheme == "" and store.endswith((".db", ".sqlite", ".sqlite3")):
        return env | {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": store}
    raise SlaEngineError(
        f"cannot read the store {store!r}: use 'memory', 'sqlite:///path/file.db' or "
        "'postgresql://user:password@host:port/dbname'"
    )


def _event_repr(event: ContactEvent | Mapping[str, Any]) -> str:
    """A refused event as a log may show it: ids and type, the other fields by name only."""
    shown = ("event_id", "contact_id", "type")
    if isinstance(event, ContactEvent):  # refused before it was cleaned: prose too
        ids = ", ".join(f"{k}={getattr(event, k)!r}" for k in shown)
        return f"ContactEvent({ids}, …)"
    fields = {a.name for a in attrs.fields(ContactEvent) if a.init}
    parts = [f"{k!r}: {event[k]!r}" if k in shown else f"{k!r}: …" for k in event if k in fields]
    others = sum(1 for k in event if k not in fields)  # a key may be data: counted only
    if others:
        parts.append(f"… {others} other key(s)")
    return "{" + ", ".join(parts) + "}"


@attrs.frozen
class Rejected:
    """An event that was not recorded, and why.

    ``event`` is the event as given: a mapping when it made no
    :class:`ContactEvent` (a field missing, a naive time, an unknown channel).
    """

    #: Never in a repr as given: a mapping refused before it was cleaned may
    #: name the requester or hold prose (an application logging what was rejected).
    event: ContactEvent | Mapping[str, Any] = attrs.field(repr=_event_repr)
    error: SlaEngineError


@attrs.frozen
class RecordResult(Outcomes[Rejected]):
    """What :meth:`SlaEngine.record_many` did with each event, in order.

    ``recorded`` and ``duplicates`` count them; ``rejected`` lists the refused ones.
    """

    outcomes: tuple[RecordOutcome | Rejected, ...]


@attrs.frozen
class StoredColumns:
    """Stored events as columns (the columnar replay): ids, versions, topics, states."""

    originator_ids: list[str]
    originator_versions: list[int]
    topics: list[str]
    states: list[bytes]

    def __len__(self) -> int:
        return len(self.states)

    def rows(self) -> Iterator[tuple[str, int, str, bytes]]:
        return zip(
            self.originator_ids, self.originator_versions, self.topics, self.states, strict=True
        )

    def events(self) -> list[StoredEvent]:
        return [StoredEvent(*row) for row in self.rows()]


@attrs.frozen
class Projected:
    """A contact stored without an aggregate (the columnar replay), waiting for the view.

    What the projection needs of a :class:`Contact`: its last version, and
    its timers, encoded already as view rows.
    """

    version: int
    #: Its last event's instant, µs since the epoch.
    last_us: int
    rows: Sequence[Timer] | ViewRows


@attrs.frozen
class EncodedTimers:
    """A block of new contacts' timers, encoded already as view rows (by a reading process)."""

    #: Each contact's last version and last event's instant (µs since the epoch).
    contacts: dict[str, tuple[int, int]]
    #: Every timer of theirs, as view rows.
    rows: ViewRows

    @property
    def last_us(self) -> int | None:
        """The block's last event's instant."""
        return max((last for _, last in self.contacts.values()), default=None)

    def projected(self) -> dict[str, Projected]:
        """The same timers contact by contact (for a catch-up)."""
        by_contact: dict[str, ViewRows] = {contact_id: ViewRows() for contact_id in self.contacts}
        for row in self.rows:
            by_contact[row[0]].append(row)
        return {
            contact_id: Projected(version, last_us, by_contact[contact_id])
            for contact_id, (version, last_us) in self.contacts.items()
        }


@attrs.frozen
class Alert:
    """A timer that crossed a warning threshold or expired."""

    kind: str  # "warning" or "breach"
    at: dt.datetime
    timer: Timer
    #: For warnings: which ``warn_at`` threshold (0-based).
    threshold: int | None = None


@attrs.frozen
class EscalationPolicy:
    """Record an ``escalated`` event when a timer crosses a threshold.

    ``on`` lists what escalates: ``"warning"``, ``"breach"`` or both;
    ``to`` names whom (a role, never a person's name).
    """

    to: str
    on: tuple[str, ...] = ("breach",)
    reason: str = "sla"


@attrs.frozen
class WhatIf:
    """Timers under the current rules and under the alternative ones."""

    current: tuple[Timer, ...]
    alternative: tuple[Timer, ...]

    def changes(self) -> list[tuple[Timer | None, Timer | None]]:
        """Pairs of (current, alternative) timers that differ in state or due date.

        Obligation timers are paired by their period (the week ``2026-W07``,
        the day ``2026-02-09``): another school calendar may hold other weeks.
        """
        before = {_pair_key(t): t for t in self.current}
        after = {_pair_key(t): t for t in self.alternative}
        pairs = []
        for key in sorted(set(before) | set(after)):
            a, b = before.get(key), after.get(key)
            if a is None or b is None or (a.state, a.due_date) != (b.state, b.due_date):
                pairs.append((a, b))
        return pairs


def _pair_key(timer: Timer) -> tuple[str, str, str]:
    cycle = f"{timer.cycle:09d}" if timer.period is None else timer.period
    return (timer.contact_id, timer.engagement_id, cycle)


def _as_event(item: ContactEvent | Mapping[str, Any]) -> ContactEvent:
    if isinstance(item, ContactEvent):
        return item
    try:
        return ContactEvent(**item)
    except TypeError as error:
        # A field missing or unknown: our names, never the given ones; else a
        # value of the wrong type, which our validators name with its type only.
        wrong = _fields_wrong(item)
        raise DataError(f"cannot read the event: {wrong or error}") from None


def _fields_wrong(item: Mapping[str, Any]) -> str | None:
    """What is wrong with a mapping's keys, naming only ContactEvent's own fields.

    A key it does not know may be data (« Mme Dupont »): it is counted, not quoted.
    """
    fields = [a.name for a in attrs.fields(ContactEvent) if a.init]
    required = [a.name for a in attrs.fields(ContactEvent) if a.init and a.default is attrs.NOTHING]
    unknown = sum(1 for key in item if key not in fields)
    missing = [name for name in required if name not in item]
    if unknown:
        return f"{unknown} unknown field(s); the fields are {', '.join(fields)}"
    if missing:
        return f"missing field(s) {', '.join(missing)}"
    return None


class SlaEngine(SiteRecording, Application[str]):
    """Record contact events; ask what is due, at risk, breached, and why.

    ``store`` selects the persistence (see :func:`store_env`): in memory by
    default, a SQLite file, or PostgreSQL.  ``clock`` gives the time events
    are recorded at when they do not say; queries that depend on the time
    take it as an argument.
    """

    name = "SlaEngine"
    # Notifications read per projection batch.
    projection_batch = 2000
    #: Contacts kept in memory after they are saved (a replay's working set).
    recent_contacts = 20_000
    #: Contacts evaluated together by a catch-up (one view transaction); also how
    #: many saved contacts may wait for the view with ``record_many(project=False)``.
    projection_contacts = 20_000
    #: How many times a batch that conflicts with another writer is applied again.
    conflict_retries = 8
    #: Contacts read back from the store by one query (a catch-up, an as-of review).
    read_contacts = 500

    def __init__(
        self,
        catalogue: Catalogue | str | None = None,
        calendar_spec: Calendar | str | None = None,
        *,
        store: str | None = None,
        clock: Callable[[], dt.datetime] = system_clock,
        escalation: EscalationPolicy | None = None,
        on_alert: Callable[[Alert], None] | None = None,
        cipher_key: str | None = None,
        pseudonym_key: bytes | None = None,
        keep_free_text: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        settings = store_env(store)
        # A catalogue or calendar that cannot be read is refused before a new
        # store's file is made: a mistyped option leaves nothing behind.
        if catalogue is not None and not isinstance(catalogue, Catalogue):
            catalogue = load_catalogue(catalogue)
        if isinstance(calendar_spec, str):
            calendar(calendar_spec)
        _check_sqlite_folder(settings)
        _create_sqlite_file(settings)
        if cipher_key is not None:
            # AES-GCM on every stored event (eventsourcing's cipher, with the
            # cryptography package); without the key the store is unreadable.
            settings |= {
                "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
                "CIPHER_KEY": cipher_key,
            }
        # The store named here wins over the process environment, which
        # eventsourcing reads too (for its other settings).
        # Processes starting together all create the tables (IF NOT EXISTS);
        # PostgreSQL may then report a deadlock between them: try again.
        settings |= dict(env or {})
        try:
            _retry_deadlocks(lambda: super(SlaEngine, self).__init__(env=settings))
        except OperationalError as error:
            reason = _unreachable(settings)
            if reason is None:
                raise
            raise reason from error
        self.privacy = Privacy(pseudonym_key, keep_free_text)
        self.clock = clock
        rules = self._rules()
        stored = None if rules is None else rules.current
        # An engine reopening a store without a calendar of its own keeps the
        # view as its writers built it (rules recorded before stores kept the
        # calendar's settings cannot tell a service's closures).
        self._calendar_given = calendar_spec is not None
        if catalogue is None:
            if stored is None:
                raise SlaEngineError(
                    "this store records no rules yet: give a catalogue (and a calendar)"
                )
            catalogue = parse_catalogue(stored.catalogue_text, source=stored.catalogue_source)
        self.catalogue = (
            catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)
        )
        self.default_calendar = _service_calendar(calendar_spec, stored)
        self._named_calendars: dict[str, Calendar] = {}

        self.escalation = escalation
        self.on_alert = on_alert
        module = self.env.get("PERSISTENCE_MODULE", "eventsourcing.popo")
        view = _retry_deadlocks(
            lambda: self.factory.tracking_recorder(resolve_topic(_VIEWS[module]))
        )
        if not isinstance(view, TimerView):  # pragma: no cover - a wrong entry in _VIEWS
            raise SlaEngineError(f"{_VIEWS[module]} is not a timer view")
        self.view = view
        self.view.cipher = self.factory.cipher()

        #: Batches applied again because another writer changed their contacts.
        self.conflicts = 0

        self._recent = _WorkingSet()
        self._plain: RowEvaluator | None = None
        self._encoder = StoredEncoder(self.mapper)
        self._plain_rules: tuple[Catalogue, Calendar] | None = None
        self._countable: (
            tuple[tuple[Catalogue, Calendar], tuple[tuple[int, int], frozenset[Unit]]] | None
        ) = None
        #: Contacts saved but not yet projected into the view (``project=False``).
        self._unprojected: dict[str, Contact | Projected] = {}
        #: The store's rules this engine replaced on opening (``None``: it kept them).
        self.replaced_rules: StoredRules | None = None
        self._check_view_rules(self._open_rules(rules))

    # -- rules ---------------------------------------------------------------------

    def stored_rules(self) -> StoredRules | None:
        """The catalogue text and calendar spec this store's events were last evaluated with."""
        rules = self._rules()
        return None if rules is None else rules.current

    def _rules(self) -> Rules | None:
        try:
            return typing.cast(Rules, self.repository.get(RULES_ID))
        except AggregateNotFoundError:
            return None
        except MapperDeserialisationError:
            # The first thing an engine reads: say it in the engine's terms.
            raise SlaEngineError(
                "the store's events cannot be read: they are encrypted or compressed, and "
                "its key is not given or not theirs (cipher_key=…; SLA_ENGINE_CIPHER_KEY for "
                "the command line)"
            ) from None

    def _open_rules(self, rules: Rules | None) -> Rules | None:
        """:meth:`_remember_rules`, read again when another process saved the rules first.

        Processes opening a new store at once each make its rules' first
        version: one is stored, the others' saves conflict (IntegrityError).
        """
        for attempt in range(self.conflict_retries + 1):
            try:
                return self._remember_rules(rules)
            except IntegrityError:
                if attempt == self.conflict_retries:
                    raise
                time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter
                rules = self._rules()
        raise AssertionError("unreachable")  # pragma: no cover

    def _remember_rules(self, rules: Rules | None) -> Rules | None:
        """Record the engine's rules in the store when they differ from the last ones.

        Returns the store's rules as they now are (the view is then brought
        in line with them by :meth:`_check_view_rules`).
        """
        text = self.catalogue.text
        if text is None:
            return rules  # a catalogue built in Python: nothing exact to keep
        spec = self.default_calendar.spec
        settings = _settings_text(self.default_calendar)
        stored = None if rules is None else rules.current
        if stored is not None and (
            stored.catalogue_text,
            stored.calendar_spec,
            stored.calendar_settings,
        ) == (text, spec, settings):
            return rules
        now = require_aware(self.clock(), "clock")
        if rules is None:
            rules = Rules.choose(self.catalogue.source, text, spec, settings, now)
        else:
            rules.change(self.catalogue.source, text, spec, settings, now)
        self.save(rules)
        self.replaced_rules = stored
        return rules

    def _check_view_rules(self, rules: Rules | None) -> None:
        """Rebuild the view if it was built under other rules than the store's last ones.

        Changing rules is two steps (record the new rules, then project the
        log again): a process stopped between them leaves the view behind,
        and the next engine on the store finishes the job.  A view projected
        by another version of the timer arithmetic (:data:`EVALUATION`) is
        rebuilt too: its figures would not be this version's.
        """
        evaluated = self.view.state_value("evaluation")
        calendars = self._calendars_fingerprint()
        counted_with = self.view.state_value("calendars")
        projected = self.view.max_tracking_id(self.name) is not None
        # Another arithmetic, or other calendars' data (the service's closures,
        # working week or hours, a newer holidays or school calendar): the
        # figures would not be this engine's.  An engine given no calendar
        # (a command reopening the store) cannot tell: it keeps the view.
        other_data = self._calendar_given and counted_with != calendars
        stale = projected and (evaluated != EVALUATION or other_data)
        version = None if rules is None else rules.version
        seen = self.view.rules_version()
        # A view from before views kept this number was built under version 1.
        if version is not None and seen != version and not (seen is None and version == 1):
            stale = True
        changed = version if version is not None and seen != version else None
        if stale:
            self._rebuild(changed)
        elif changed is not None:
            self.view.set_rules_version(changed)
        self.view.rules_expected = version
        if not stale and evaluated != EVALUATION:
            self.view.set_state_value("evaluation", EVALUATION)
        if not stale and counted_with != calendars and (self._calendar_given or not projected):
            self.view.set_state_value("calendars", calendars)

    def _calendar_keys(self) -> set[str | None]:
        """The calendars the catalogue counts in (``None``: the engine's default)."""
        keys: set[str | None] = {None, self.catalogue.calendar}
        return keys | {self.catalogue.calendar_for(e) for e in self.catalogue.engagements}

    def _countability(self) -> tuple[tuple[int, int], frozenset[Unit]]:
        """Which contacts a bulk load must count before storing them.

        The instants (µs since the epoch) inside which timers stay in every
        calendar's data: from a day after the latest first day of their
        data, to :data:`COUNTABLE_MARGIN_DAYS` (or the catalogue's longest
        delay) before the earliest last day; a contact whose events all fall
        inside cannot count outside.  And the units one of the calendars
        cannot count at all (jours scolaires without a school zone, heures
        ouvrées without opening hours): a delay announced in one of them is
        counted before it is stored.  Worked out once per set of rules.
        """
        cached = self._countable
        if (
            cached is not None
            and cached[0][0] is self.catalogue
            and cached[0][1] is self.default_calendar
        ):
            return cached[1]
        calendars = [self.calendar_for(key) for key in self._calendar_keys()]
        first, last = dt.date.min, dt.date.max
        for service in calendars:
            coverage = service.coverage()
            spans = [coverage.public_holidays] + ([coverage.school] if coverage.school else [])
            for lo, hi in spans:
                first, last = max(first, lo), min(last, hi)
        # A catalogue may promise longer than the margin (« 250 jours scolaires »).
        longest = max(
            (
                _reach_days(delay)
                for e in self.catalogue.engagements
                for delay in (e.target, e.complex_rule)
                if isinstance(delay, Delay)
            ),
            default=0,
        )
        margin = dt.timedelta(days=max(COUNTABLE_MARGIN_DAYS, longest))
        span = (
            microseconds(dt.datetime.combine(first, dt.time(), dt.UTC) + dt.timedelta(days=1)),
            microseconds(dt.datetime.combine(last, dt.time(), dt.UTC) - margin),
        )
        units = set()
        if any(c.school_zone is None for c in calendars):
            units.add(Unit.JOURS_SCOLAIRES)
        if any(c.opening_hours is None for c in calendars):
            units.add(Unit.HEURES_OUVREES)
        result = span, frozenset(units)
        self._countable = ((self.catalogue, self.default_calendar), result)
        return result

    def _calendars_fingerprint(self) -> int:
        """A number naming the data of every calendar the catalogue counts in.

        Their :attr:`~Calendar.data_version` (holidays, school calendar, time
        zone, working week, opening hours, closures), hashed to fit the view's
        64-bit state column.  The store's rules keep only the calendar's spec
        (``fr``), which says nothing of the service's closures.
        """
        versions = sorted({self.calendar_for(key).data_version for key in self._calendar_keys()})
        digest = hashlib.sha256("\n".join(versions).encode()).digest()
        return int.from_bytes(digest[:7], "big")

    # -- calendars -------------------------------------------------------------------

    def calendar_for(self, key: str | None) -> Calendar:
        """The calendar an engagement names (``None``: the engine's default).

        The service's own settings on the engine's calendar (its working
        week, opening hours and closures) hold for every engagement, whichever
        calendar it counts in (a catalogue's calendar names only a territory
        and a school zone).  The named territory keeps its time zone.
        """
        if key is None:
            return self.default_calendar
        named = self._named_calendars.get(key)
        if named is None:
            named = self._as_service(calendar(key))
            self._named_calendars[key] = named  # one object: its indexes are built once
        return named

    def _as_service(self, named: Calendar, own: Calendar | None = None) -> Calendar:
        """``named`` with the service's working week, opening hours and closures.

        ``own``: the service's calendar (default: the engine's).
        """
        own = own or self.default_calendar
        # A copy only where the service's settings differ: calendars are
        # shared (with their indexes, several MiB) wherever they can be.
        if named.working_week != own.working_week:
            named = named.with_working_week(own.working_week)
        if own.opening_hours is not None and named.opening_hours != own.opening_hours:
            named = named.with_opening_hours(own.opening_hours)
        if own.closures:
            named = named.with_closures(*own.closures)
        return own if named == own else named

    def _calendars_under(self, calendar_spec: Calendar | str | None) -> CalendarResolver:
        """Each engagement's calendar under another service calendar, as a replay would count.

        ``calendar_spec`` stands for the engine's own calendar: engagements
        whose catalogue names none count in it, the others in the calendar
        named, with its working week, opening hours and closures; a spec
        keeps the service's own settings.  ``None``: :meth:`calendar_for`.
        """
        if calendar_spec is None:
            return self.calendar_for
        own = (
            calendar_spec
            if isinstance(calendar_spec, Calendar)
            else self._as_service(calendar(calendar_spec))
        )
        if own == self.default_calendar:
            return self.calendar_for
        named: dict[str, Calendar] = {}

        def calendar_of(key: str | None) -> Calendar:
            if key is None:
                return own
            found = named.get(key)
            if found is None:
                found = named[key] = self._as_service(calendar(key), own)
            return found

        return calendar_of

    # -- commands --------------------------------------------------------------------

    def close(self) -> None:
        """Close the store's connections and let go of the contacts held in memory.

        The engine's caches refer back to it (its evaluator calls its
        calendar resolver), so an engine dropped with them full waits for the
        cyclic collector's next full pass, with the tens of thousands of
        contacts a replay keeps; emptied here, they are freed at once.
        """
        super().close()
        self._recent.clear()
        self._unprojected.clear()
        self._plain = None
        self._plain_rules = None

    def record(self, event: ContactEvent | Mapping[str, Any]) -> RecordOutcome:
        """Record one event: ``recorded``, or ``duplicate`` if already recorded.

        An event that cannot happen raises :class:`ContactRuleError`.
        """
        outcome = self.record_many([event], atomic=True).outcomes[0]
        # An atomic batch raises rather than rejects, so this is an outcome.
        return typing.cast(RecordOutcome, outcome)

    def record_many(
        self,
        events: Iterable[ContactEvent | Mapping[str, Any]],
        *,
        atomic: bool = True,
        project: bool = True,
    ) -> RecordResult:
        """Record events in one transaction.

        With ``atomic=True`` (the default) any invalid event raises and
        nothing is recorded; with ``atomic=False`` invalid events are
        returned as :class:`Rejected` and every valid one is recorded.
        Events of one contact are applied in the order given.

        With ``project=False`` the timer view is left behind until the next
        query or :meth:`project` (a bulk load projects each contact once for
        many batches instead of once per batch); the events are recorded
        either way.

        Python's cyclic garbage collector is paused while it runs
        (:mod:`sla_engine._collector`).
        """
        with collector_paused():
            return self._record_many(events, atomic=atomic, project=project)

    def _record_many(
        self, events: Iterable[ContactEvent | Mapping[str, Any]], *, atomic: bool, project: bool
    ) -> RecordResult:
        now = require_aware(self.clock(), "clock")
        clean = self.privacy.clean
        cleaned: list[ContactEvent | Rejected] = []
        for given in events:
            try:
                event = _as_event(given)
            except SlaEngineError as error:  # a mapping that makes no event
                if atomic:
                    raise
                cleaned.append(Rejected(given, error))
                continue
            try:
                cleaned.append(clean(event))
            except DataError as error:
                if atomic:
                    raise
                cleaned.append(Rejected(event, error))  # never stored as it came
        try:
            for attempt in range(self.conflict_retries + 1):
                try:
                    contacts, outcomes, timers = self._apply_countable(
                        cleaned, now, atomic, project, trust_cache=attempt == 0
                    )
                    projected = False
                    if contacts and self.privacy.pseudonym_key is not None:
                        if attempt == 0:
                            self._check_new_contacts(contacts.values())
                        # The whole batch passed: only now is a requester's key made.
                        seal = functools.partial(self.privacy.seal, keys=self.view)
                        for contact in contacts.values():
                            contact.seal_requesters(seal)
                    if contacts:
                        # Into the view with the events only if it has every earlier one.
                        projected = self._save_contacts(
                            contacts.values(), timers=None if self._unprojected else timers
                        )
                    break
                except OperationalError as error:
                    if "locked" not in str(error) and "busy" not in str(error):
                        raise
                    # SQLite lets one process write at a time; past its lock timeout
                    # the batch is refused whole (nothing half-written).
                    self._recent.clear()
                    raise SlaEngineError(
                        "the store is busy: another process held its write lock longer than the "
                        f"lock timeout, and nothing of this batch was recorded ({error}); "
                        "retry, raise SQLITE_LOCK_TIMEOUT, or use PostgreSQL for many writers"
                    ) from None
                except (IntegrityError, _StaleContact):
                    self.conflicts += 1
                    # Another writer got there first, or a contact taken for new
                    # already existed: forget what we thought we knew and apply the
                    # batch again to the aggregates as they are stored.
                    self._forget_unsaved()
                    if attempt == self.conflict_retries:
                        raise SlaEngineError(
                            f"the batch still conflicts with other writers after {attempt} retries"
                        ) from None
                    time.sleep(random.uniform(0, 0.01 * 2**attempt))  # noqa: S311 - jitter
        except BaseException:
            # Refused or failed: contacts held in memory may carry events applied
            # before the failure, which must never be saved by a later batch.
            self._forget_unsaved()
            raise
        for contact_id, contact in contacts.items():
            self._remember(contact_id, contact)
        if not projected:
            self._unprojected.update(contacts)
            if timers is not None:  # evaluated already: the catch-up takes them as they are
                for contact_id, contact_timers in timers:
                    contact = contacts[contact_id]
                    last_us = contact.history[-1].occurred_us
                    self._unprojected[contact_id] = Projected(
                        contact.version, last_us, contact_timers
                    )
        if project or len(self._unprojected) >= self.projection_contacts:
            self._catch_up()
        return RecordResult(tuple(outcomes))

    def project(self) -> None:
        """Bring the timer view up to the last recorded event (queries do it themselves)."""
        self._catch_up()

    def _record_bulk(self, stored: StoredColumns, timers: EncodedTimers) -> None:
        """Store new contacts' events, encoded already, in one transaction (the columnar replay).

        On SQLite, their timers and the view's tracking record are written in
        the same transaction when the view has projected every earlier event
        (exactly once, as a catch-up would, without reading the events back);
        in memory, right after the events, on the same condition; otherwise
        the view is brought up to date as after ``record_many(project=False)``.
        """
        recorder = self.recorder
        view = self.view
        # PostgreSQL's view is brought up to date by the catch-up.
        fused = (
            isinstance(recorder, SQLiteApplicationRecorder) and isinstance(view, SQLiteTimerView)
        ) or (isinstance(recorder, POPOApplicationRecorder) and isinstance(view, MemoryTimerView))
        if fused and self._unprojected:
            self._catch_up()  # the row path's contacts first: the view must be at the log's end
        if isinstance(recorder, SQLiteAggregateRecorder):
            # The recorder's own statement in its own transaction, all rows in
            # one executemany: its insert_events runs one INSERT per event to
            # return notification ids, which this does not use.
            with recorder.datastore.transaction(commit=True) as cursor:
                try:
                    cursor.executemany(recorder.insert_events_statement, stored.rows())
                except IntegrityError:
                    raise SlaEngineError(_BLOCK_REFUSED) from None
                # (A failure of the view's rows or tracking record rolls the
                # events back with them, and says what it is.)
                if fused and self._project_stored(cursor, len(stored), timers):
                    return
        else:
            before = (recorder.max_notification_id() or 0) if fused else None
            try:
                recorder.insert_events(stored.events())
            except IntegrityError:
                raise SlaEngineError(_BLOCK_REFUSED) from None
            if before is not None and self._project_in_memory(before, len(stored), timers):
                return
        self._unprojected.update(timers.projected())
        if len(self._unprojected) >= self.projection_contacts:
            self._catch_up()

    def _project_in_memory(self, before: int, count: int, timers: EncodedTimers) -> bool:
        """Put the timers of the ``count`` events just stored in the memory view; whether it did.

        Only when those events are the notifications right after ``before``
        (no other thread stored any meanwhile) and the view has projected
        every contact event before them.
        """
        recorder = typing.cast(POPOApplicationRecorder, self.recorder)
        view = typing.cast(MemoryTimerView, self.view)
        last = recorder.max_notification_id() or 0
        if last - before != count:
            return False  # another thread's events among them
        position = view.max_tracking_id(self.name) or 0
        waiting = self._contact_notifications(position, 1)
        if waiting and waiting[0][0] <= before:
            return False  # an earlier contact event waits for the view: a catch-up takes both
        batch = sorted(timers.projected().items())
        try:
            view.replace(
                [(contact_id, contact.rows) for contact_id, contact in batch],
                Tracking(self.name, last),
                timers.last_us,
                new=timers.contacts.keys(),
            )
        except IntegrityError:
            # A query in another thread caught the view up meanwhile: if it
            # took these events, they are projected; if not, a catch-up will.
            return (view.max_tracking_id(self.name) or 0) >= last
        return True

    def _project_stored(self, cursor: SQLiteCursor, count: int, timers: EncodedTimers) -> bool:
        """Write the timers of the ``count`` events just inserted, in their transaction.

        Only when no contact event before them waits for the view (the write
        lock is held: nothing can be inserted meanwhile); whether it did.
        """
        last = self._projectable(cursor, count)
        if last is None:
            return False  # another process's events: the ordinary catch-up projects both
        # Every contact of the block is new: its rows are only added.
        view = typing.cast(SQLiteTimerView, self.view)
        view.write(cursor, [], Tracking(self.name, last), timers.last_us, added=timers.rows)
        return True

    def _projectable(self, cursor: SQLiteCursor, count: int) -> int | None:
        """The id of the last of the ``count`` events just inserted, if the view can take them.

        It can when it has projected every contact event before them; the
        caller then writes their timers and this id as the view's tracking
        record, in the events' transaction.
        """
        recorder = self.recorder
        view = self.view
        assert isinstance(recorder, SQLiteApplicationRecorder)  # noqa: S101 - checked by the caller
        assert isinstance(view, SQLiteTimerView)  # noqa: S101
        table = recorder.events_table_name
        cursor.execute(f"SELECT MAX(rowid) FROM {table}")  # noqa: S608 - the recorder's name
        last = int(cursor.fetchone()[0])
        # SQLite numbers new rows one past the largest rowid: this insert's rows
        # are the `count` last ones.
        first = last - count + 1
        position = view._max_tracking_id(self.name, cursor) or 0
        topics = ",".join("?" * len(CONTACT_TOPICS))
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE rowid>? AND rowid<? "  # noqa: S608
            f"AND topic IN ({topics}) LIMIT 1",
            (position, first, *CONTACT_TOPICS),
        )
        return None if cursor.fetchone() is not None else last

    def _forget_unsaved(self) -> None:
        self._recent.clear()
        self._unprojected.clear()

    def _apply_countable(
        self,
        cleaned: list[ContactEvent | Rejected],
        now: dt.datetime,
        atomic: bool,
        project: bool,
        *,
        trust_cache: bool,
    ) -> tuple[dict[str, Contact], list[RecordOutcome | Rejected], list[ContactTimers] | None]:
        """Apply the batch to its contacts, none of which may be left uncountable.

        A contact whose timers cannot be counted — past the data of a calendar
        (a school year not published yet), or with a delay announced to it
        that its calendar cannot count (« 1 heure ouvrée » without opening
        hours, « 99999 mois ») — is refused before anything is stored:
        stored, it would stop the view, and every query, at it.  With
        ``atomic``, the batch raises the error; without, the event from which
        the contact cannot be counted comes back rejected with it, and the
        batch is applied again without it (the contact's other events are
        recorded, as they would be in another batch).

        With ``project`` every contact is counted, and its timers returned
        (sorted by id) for the view; a bulk load (``project=False``) counts
        only the contacts that could fail: an event near the edge of a
        calendar's data, or an announced delay.
        """
        while True:
            contacts, outcomes = self._apply_all(cleaned, now, atomic, trust_cache=trust_cache)
            only: list[str] | None = None
            if not project:
                (lo, hi), units = self._countability()
                only = [
                    contact_id
                    for contact_id, contact in contacts.items()
                    if contact.history[0].occurred_us < lo
                    or contact.history[-1].occurred_us >= hi - _announced_reach(contact)
                    or (units and _announces_in(contact, units))
                ]
            timers, uncountable = self._countable_timers(contacts, only)
            if not uncountable:
                return contacts, outcomes, timers if project else None
            if atomic:
                raise next(iter(uncountable.values()))
            for contact_id in uncountable:
                index, error = self._first_uncountable(contacts[contact_id], cleaned, outcomes)
                cleaned[index] = Rejected(typing.cast(ContactEvent, cleaned[index]), error)
            # The copies in memory hold this batch's events: read them again.
            for contact_id in contacts:
                self._recent.discard(contact_id)
                self._unprojected.pop(contact_id, None)

    def _countable_timers(
        self, contacts: Mapping[str, Contact], only: Collection[str] | None = None
    ) -> tuple[list[ContactTimers], dict[str, SlaEngineError]]:
        """The view's timers of the contacts (``only`` those), sorted by id; and those that fail."""
        batch: list[ContactTimers] = []
        uncountable: dict[str, SlaEngineError] = {}
        for contact_id in sorted(contacts if only is None else only):  # one lock order
            try:
                batch.append((contact_id, self._view_timers(contacts[contact_id].history)))
            except Exception as error:  # each failure is a reason to refuse the event
                uncountable[contact_id] = _uncountable(error)
        return batch, uncountable

    def _first_uncountable(
        self,
        contact: Contact,
        items: Sequence[ContactEvent | Rejected],
        outcomes: Sequence[RecordOutcome | Rejected],
    ) -> tuple[int, SlaEngineError]:
        """The batch's event (its index) from which ``contact`` cannot be counted, and why."""
        mine = [
            i
            for i, item in enumerate(items)
            if outcomes[i] is RecordOutcome.RECORDED
            and isinstance(item, ContactEvent)
            and item.contact_id == contact.id
        ]
        for n, index in enumerate(mine):
            later = {typing.cast(ContactEvent, items[i]).event_id for i in mine[n + 1 :]}
            history = [e for e in contact.history if e.event_id not in later]
            try:
                self._view_timers(history)
            except Exception as failure:  # the reason given for this event
                return index, _uncountable(failure)
        # Every prefix counts but not the whole (cannot happen): the last event.
        return mine[-1], SlaEngineError("the contact's timers cannot be counted")

    def _save_contacts(
        self, contacts: Iterable[Contact], *, timers: list[ContactTimers] | None = None
    ) -> bool:
        """Store the contacts' new events in one transaction; whether their timers went too.

        ``Application.save`` without its per-object ``isinstance`` checks
        against Protocols, its snapshot and notification hooks (the engine
        uses neither), and with each event encoded from its class's template
        (:class:`StoredEncoder`): the same recorder and stored bytes.  With
        ``timers`` (the contacts', counted already), on SQLite, they and the
        view's tracking record are written in the same transaction when the
        view has projected every earlier contact event (as :meth:`_record_bulk`
        does).
        """
        by_id: dict[str, Contact] = {}
        pending: list[Any] = []
        new: set[str] = set()
        for contact in contacts:
            events = contact.collect_events()
            by_id[contact.id] = contact
            if events and events[0].originator_version == Contact.INITIAL_VERSION:
                new.add(contact.id)
            pending += events

        def recorded(contact_id: str, event_id: str) -> ContactEvent | None:
            return by_id[contact_id].ids.get(event_id)

        rows = self._encoder.rows(pending, recorded)
        recorder = self.recorder
        if not isinstance(recorder, SQLiteAggregateRecorder):
            recorder.insert_events([StoredEvent(*row) for row in rows])
            return False
        batch = None
        if (
            timers is not None
            and isinstance(recorder, SQLiteApplicationRecorder)
            and isinstance(self.view, SQLiteTimerView)
        ):
            batch = timers, self._latest(by_id)
        # One executemany of the recorder's own statement: its insert_events
        # runs one INSERT per event to return notification ids, unused here.
        with recorder.datastore.transaction(commit=True) as cursor:
            cursor.executemany(recorder.insert_events_statement, rows)
            if batch is None:
                return False
            last = self._projectable(cursor, len(rows))
            if last is None:
                return False  # another process's events first: a catch-up projects both
            timers, latest = batch
            # The view's part can be undone alone: if it fails, the events are
            # stored all the same and the catch-up that follows meets the error,
            # as it did before timers shared this transaction.
            cursor.execute("SAVEPOINT sla_view")
            try:
                self.view.write(cursor, timers, Tracking(self.name, last), latest, new=new)
            except Exception:  # raised again by the catch-up
                cursor.execute("ROLLBACK TO sla_view")
                return False
            cursor.execute("RELEASE sla_view")
            return True

    @staticmethod
    def _latest(contacts: Mapping[str, Contact]) -> int | None:
        """The instant of the contacts' latest event, in µs since the epoch."""
        return max(
            (c.history[-1].occurred_us for c in contacts.values() if c.history), default=None
        )

    def _apply_all(
        self,
        items: Sequence[ContactEvent | Rejected],
        now: dt.datetime,
        atomic: bool,
        *,
        trust_cache: bool,
    ) -> tuple[dict[str, Contact], list[RecordOutcome | Rejected]]:
        contacts: dict[str, Contact] = {}
        outcomes: list[RecordOutcome | Rejected] = []
        for event in items:
            if isinstance(event, Rejected):
                outcomes.append(event)
                continue
            try:
                outcomes.append(self._apply(event, contacts, now, trust_cache))
            except (ContactRuleError, DataError) as error:
                if atomic:
                    raise
                outcomes.append(Rejected(event, error))
        return contacts, outcomes

    def _remember(self, contact_id: str, contact: Contact) -> None:
        """Keep the contacts this engine saved last, so the next events need no read."""
        self._recent.put(contact_id, contact)
        self._trim_recent(self.recent_contacts)

    def _trim_recent(self, count: int) -> None:
        """Keep only the ``count`` contacts saved last in memory (they are in the store)."""
        self._recent.trim(count)

    def _apply(
        self,
        event: ContactEvent,
        contacts: dict[str, Contact],
        now: dt.datetime,
        trust_cache: bool = False,
    ) -> RecordOutcome:
        recorded_at = event.recorded_at or now
        contact_id = event.contact_id
        contact = contacts.get(contact_id)
        if contact is None and trust_cache:
            contact = self._recent.get(contact_id)
            if contact is None and event.type is EventType.RECEIVED:
                # Optimistically new: saving fails if it was not, and the batch
                # is then applied again to what is stored.
                contacts[contact_id] = Contact.receive(event, recorded_at)
                return RecordOutcome.RECORDED
        if contact is None:
            contact = self._get_contact(contact_id)
        if contact is None:
            contact = Contact.receive(event, recorded_at)
            contacts[event.contact_id] = contact
            return RecordOutcome.RECORDED
        try:
            contact.record(event, recorded_at)
        except DuplicateEvent:
            return RecordOutcome.DUPLICATE
        except ContactRuleError:
            # Refused by the history this engine holds in memory: another
            # process may have recorded events since (the 'suspended' that
            # this 'resumed' follows), so the batch is applied again to what
            # is stored before anything is refused.
            if trust_cache and self._stored_since(contact):
                raise _StaleContact(contact_id) from None
            raise
        contacts[event.contact_id] = contact
        return RecordOutcome.RECORDED

    def _check_new_contacts(self, contacts: Iterable[Contact]) -> None:
        """Raise :class:`_StaleContact` for a contact taken for new that the store holds.

        A contact not in memory is taken for new on trust, and saving its
        events fails if it was not: too late for a requester's key, made just
        before.  An event sent again after a restart or ``forget()`` would
        make its key again, for a person the store keeps nothing more of.
        Only contacts about to make a key are checked (one indexed read each).
        """
        for contact in contacts:
            if (
                contact.version == len(contact._pending_events)
                and contact.has_unsealed_requesters()
                and self._stored_since(contact)
            ):
                raise _StaleContact(contact.id)

    def _stored_since(self, contact: Contact) -> bool:
        """Whether the store holds events of ``contact`` that its copy in memory lacks."""
        # The last stored version alone (one indexed read, nothing decoded).
        last = self.recorder.select_events(contact.id, desc=True, limit=1)
        unsaved = len(contact._pending_events)  # applied in this batch, not stored yet
        return bool(last) and last[0].originator_version > contact.version - unsaved

    def _read_contacts(self, contact_ids: Sequence[str]) -> dict[str, Contact]:
        """The contacts ``contact_ids`` as stored, :attr:`read_contacts` per query.

        What ``repository.get`` gives for each (its mapper decodes every
        event, with the store's cipher and compressor), without a query and
        a transaction per contact: rebuilding the view, an as-of review or a
        what-if reads every contact back (measured: the per-contact queries
        were half of that).  Contacts the store does not hold are left out.
        """
        found: dict[str, Contact] = {}
        to_domain_event = self.mapper.to_domain_event
        for start in range(0, len(contact_ids), self.read_contacts):
            chunk = contact_ids[start : start + self.read_contacts]
            stored = self._select_contacts_events(chunk)
            for contact_id, events in itertools.groupby(stored, key=_originator):
                contact: object = _project(None, [to_domain_event(e) for e in events])
                if not isinstance(contact, Contact):  # pragma: no cover - another aggregate
                    raise SlaEngineError(f"{contact_id!r} is not a contact")
                found[str(contact_id)] = contact
        return found

    def _select_contacts_events(self, contact_ids: Sequence[str]) -> list[StoredEvent]:
        """The stored events of ``contact_ids``, by contact then version."""
        recorder = self.recorder
        if isinstance(recorder, SQLiteAggregateRecorder):
            # The recorder's own table and columns; every value is a parameter.
            statement = (
                "SELECT originator_id, originator_version, topic, state "  # noqa: S608
                f"FROM {recorder.events_table_name} "
                f"WHERE originator_id IN ({','.join('?' * len(contact_ids))}) "
                "ORDER BY originator_id, originator_version"
            )
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.sqlite_cursor.row_factory = None  # plain tuples, as in the catch-up
                cursor.execute(statement, list(contact_ids))
                return [StoredEvent(*row) for row in cursor.sqlite_cursor.fetchall()]
        if type(recorder).__module__ == "eventsourcing.postgres":
            from ._view_postgres import select_contacts_events  # its driver: only then

            return select_contacts_events(recorder, contact_ids)
        return [event for cid in contact_ids for event in recorder.select_events(cid)]

    def _get_contact(self, contact_id: str) -> Contact | None:
        try:
            contact: object = self.repository.get(contact_id, projector_func=_project)
        except AggregateNotFoundError:
            return None
        if not isinstance(contact, Contact):  # pragma: no cover - another aggregate type
            raise SlaEngineError(f"{contact_id!r} is not a contact")
        return contact

    # -- the projection ----------------------------------------------------------------

    def _catch_up(self) -> None:
        """Bring the timer view up to the last recorded event, exactly once.

        Contacts this engine saved since the last catch-up are evaluated from
        memory; any other (another process's, or forgotten) is read back.
        """
        position = self.view.max_tracking_id(self.name) or 0
        known = self._unprojected
        self._unprojected = {}
        failures = 0

        while True:
            # The highest version of each contact in the next pages of the log, up
            # to `projection_contacts` contacts (each evaluated once for all its events
            # there). An aggregate held in memory is used only if it is at least
            # that recent (another process may have recorded events for it since).
            versions: dict[str, int] = {}
            # Contacts whose first event is in these pages: the view has no row of
            # theirs yet (if another process projects them meanwhile, the view's
            # primary key refuses the batch, which is then projected again).
            new: set[str] = set()
            last = position
            while len(versions) < self.projection_contacts:
                page = self._contact_notifications(last, self.projection_batch)
                for _, originator_id, originator_version in page:
                    versions[originator_id] = originator_version
                    if originator_version == 1:
                        new.add(originator_id)
                if page:
                    last = page[-1][0]
                if len(page) < self.projection_batch:
                    break
            if not versions:
                return
            batch: list[ContactTimers] = []
            latest: int | None = None
            stale = [
                contact_id
                for contact_id, version in versions.items()
                if (held := known.get(contact_id)) is None or held.version < version
            ]
            read = self._read_contacts(stale)
            for contact_id, version in versions.items():
                contact = known.get(contact_id)
                if contact is None or contact.version < version:
                    contact = read.get(contact_id) or self._require_contact(contact_id)
                if isinstance(contact, Projected):
                    batch.append((contact_id, contact.rows))
                    last_seen: int | None = contact.last_us
                else:
                    batch.append((contact_id, self._view_timers(contact.history)))
                    last_seen = contact.history[-1].occurred_us if contact.history else None
                if last_seen is not None and (latest is None or last_seen > latest):
                    latest = last_seen
            batch.sort(key=lambda item: item[0])  # one lock order for every process
            try:
                self.view.replace(
                    batch, Tracking(self.name, last), latest, new=new, expected=position
                )
            except (IntegrityError, OperationalError) as error:
                # Another process projected an overlapping batch at the same time
                # (its tracking won, or its rows, or a deadlock chose us). Go on
                # from where the view really is: never from this batch's end, or
                # the contacts only this batch covered would be skipped for good.
                if isinstance(error, OperationalError) and "deadlock" not in str(error):
                    raise
                moved_to = self.view.max_tracking_id(self.name) or 0
                # Another engine moving the view on is progress: only a refusal
                # with the view where it was counts towards giving up.
                failures = 0 if moved_to > position else failures + 1
                if failures > self.conflict_retries:
                    raise SlaEngineError(
                        "the timer view could not be brought up to date: other processes "
                        f"kept projecting the same events ({error})"
                    ) from None
                position = moved_to
                continue
            position = last

    def _contact_notifications(self, after: int, limit: int) -> list[tuple[int, str, int]]:
        """(id, contact, version) of the next contact notifications after ``after``.

        What ``select_notifications`` says of them, without each event's state,
        which a catch-up does not read (a replay's events are in memory):
        for SQLite, its query on eventsourcing's table with fewer columns.
        """
        recorder = self.recorder
        if isinstance(recorder, SQLiteApplicationRecorder):
            # The recorder's own table name; every value is a parameter.
            table, topics = recorder.events_table_name, ",".join("?" * len(CONTACT_TOPICS))
            statement = (
                "SELECT rowid, originator_id, originator_version "  # noqa: S608
                f"FROM {table} WHERE rowid>? AND topic IN ({topics}) ORDER BY rowid LIMIT ?"
            )
            with recorder.datastore.transaction(commit=False) as cursor:
                # Plain tuples, not eventsourcing's sqlite3.Row: a catch-up reads
                # every notification of a bulk load (0.078 -> 0.058 s per 50,000).
                cursor.sqlite_cursor.row_factory = None
                cursor.execute(statement, (after, *CONTACT_TOPICS, limit))
                rows: list[tuple[int, str, int]] = cursor.sqlite_cursor.fetchall()
                return rows
        notifications = recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False, topics=CONTACT_TOPICS
        )
        return [(n.id, str(n.originator_id), n.originator_version) for n in notifications]

    def _evaluate(
        self, history: Sequence[ContactEvent], as_of: dt.datetime | None = None
    ) -> list[Timer]:
        if as_of is None:
            # The view's timers: plain histories share their deadlines' arithmetic.
            return self._evaluator().evaluate(history)
        return evaluate_contact(history, self.catalogue, self.calendar_for, as_of)

    def _view_timers(self, history: Sequence[ContactEvent]) -> Sequence[Timer] | ViewRows:
        """A contact's timers for the view: its rows written from templates where possible."""
        evaluator = self._evaluator()
        rows = evaluator.history_rows(history)
        return evaluator.evaluate(history) if rows is None else rows

    def _evaluator(self) -> RowEvaluator:
        """The evaluator of the engine's current rules (made again when they change)."""
        plain, rules = self._plain, self._plain_rules
        if (
            plain is None
            or rules is None
            or rules[0] is not self.catalogue
            or rules[1] is not self.default_calendar
        ):
            plain = self._plain = RowEvaluator(self.catalogue, self.calendar_for)
            self._plain_rules = (self.catalogue, self.default_calendar)
        return plain

    def rebuild_view(self) -> None:
        """Forget the view and project the whole log again."""
        self._rebuild(None)

    def _rebuild(self, rules_version: int | None) -> None:
        """:meth:`rebuild_view`, under the store's new rules when ``rules_version`` is given.

        The view is cleared and the new version recorded in one transaction:
        from then on a batch another engine evaluated under the old rules is
        refused (``TimerView.rules_expected``), and what it wrote before is
        gone. Killed before the end, the view lacks its ``evaluation`` mark,
        and the next engine rebuilds it. The rules version and where the last
        check() stopped reading the log are the store's: the view keeps them
        (or the timers stopped since would never be alerted).
        """
        self.view.clear(rules_version=rules_version)
        self._catch_up()
        # What the view keeps about itself: this arithmetic.
        self.view.set_state_value("evaluation", EVALUATION)
        self.view.set_state_value("calendars", self._calendars_fingerprint())

    # -- queries -----------------------------------------------------------------------

    def _require_contact(self, contact_id: str) -> Contact:
        contact = self._get_contact(contact_id)
        if contact is None:
            raise SlaEngineError(f"no contact {contact_id!r} has been recorded")
        return contact

    def history(self, contact_id: str) -> list[ContactEvent]:
        """A contact's events in the order they happened."""
        return list(self._require_contact(contact_id).history)

    def timers(self, contact_id: str, now: dt.datetime | None = None) -> list[Timer]:
        """The timers of one contact, as they stand at ``now`` (default: the engine's clock).

        In the catalogue's order of engagements, then by cycle, whatever the store.
        """
        self._catch_up()
        now = self._now(now)
        stored = self.view.contact_timers(contact_id)
        if any(t.as_of > now for t in stored):
            # Asked about a moment before some of its events: evaluate as of then.
            return self._evaluate(self.history(contact_id), now)
        place = {e.id: i for i, e in enumerate(self.catalogue.engagements)}
        stored.sort(key=lambda t: (place.get(t.engagement_id, len(place)), t.cycle))
        return [t.at(now, self.calendar_for(t.calendar_key)) for t in stored]

    def worklist(
        self, before: dt.datetime, *, now: dt.datetime | None = None, limit: int | None = 100
    ) -> list[Timer]:
        """Open timers that are due or at risk before ``before``, the earliest expiry first.

        Obligation timers (of the school year holding ``now``) are derived
        from the site events at each call, not stored in the view.  A ``now``
        more than a day before the last recorded event asks what was on the
        list then: the contacts are evaluated from the events that had
        happened by ``now`` (as :meth:`status_as_of` does, reading every
        history), not taken from the view, which holds what happened after.
        """
        before = require_aware(before, "before")
        self._catch_up()
        now = self._now(now)
        if self._before_last_event(now):
            before_us = microseconds(before)
            found = sorted(
                (
                    t
                    for t in self._contact_timers_as_of(now)
                    if (attention := _attention(t)) is not None and attention <= before_us
                ),
                key=_expiry_order,
            )
            found = found if limit is None else found[:limit]
        else:
            found = [
                t.at(now, self.calendar_for(t.calendar_key))
                for t in self.view.needing_attention(before, limit)
            ]
        obligations = self.obligations_needing_attention(before, now)
        if not obligations:
            return found
        found = sorted([*found, *obligations], key=_expiry_order)
        return found if limit is None else found[:limit]

    def all_timers(self, now: dt.datetime | None = None) -> list[Timer]:
        """Every contact's timer as it stands at ``now`` (from the live view).

        A ``now`` more than a day before the last recorded event is answered
        from the events that had happened by then, as :meth:`worklist` does.
        """
        self._catch_up()
        now = self._now(now)
        if self._before_last_event(now):
            return self._contact_timers_as_of(now)
        return [t.at(now, self.calendar_for(t.calendar_key)) for t in self.view.all_timers()]

    def _before_last_event(self, now: dt.datetime) -> bool:
        """Whether ``now`` is in the past of the view: before its last event, by over a day.

        Within a day, the live view answers: systems' clocks may run a day
        ahead (:data:`~sla_engine._contact.CLOCK_TOLERANCE`), and a service asking at its own
        clock must not re-read every history for an event stamped minutes
        ahead of it.
        """
        last = self.view.last_event()
        return last is not None and microseconds(now) + CLOCK_TOLERANCE_US < last

    def _contact_timers_as_of(self, now: dt.datetime) -> list[Timer]:
        """Every contact's timers from the events that had happened by ``now``."""
        return [t for history in self.histories() for t in self._evaluate(history, now)]

    # -- requesters ---------------------------------------------------------------------

    def requester_of(self, event: ContactEvent) -> str | None:
        """The pseudonym of an event's requester, or ``None`` (none given, or forgotten)."""
        if event.requester is None:
            return None
        return unseal(event.requester, self.view)

    def forget(self, identity: str) -> bool:
        """Forget a requester (right to erasure): delete the key their reference is sealed with.

        The log stays as it was, append-only; the sealed references become
        unreadable and unlinkable to the person, and every timer and figure
        stays exactly as before (they never depend on the requester).
        Returns whether the engine knew this requester.  On SQLite, raises
        :class:`SlaEngineError` when another connection kept reading the
        store long enough that the key's bytes are still on disk (see
        docs/security.md): call it again once the readers are done.
        """
        if self.privacy.pseudonym_key is None:
            raise SlaEngineError("the engine has no pseudonymisation key: it stores no requester")
        found = False
        # The pseudonym of the identity folded, and the one stores kept before folding.
        for ref in pseudonyms_to_forget(identity, self.privacy.pseudonym_key):
            found |= self.view.forget_requester(key_ref(ref))
        return found

    def last_event_at(self) -> dt.datetime | None:
        """The latest ``occurred_at`` of all recorded events (in the default calendar's zone)."""
        self._catch_up()
        value = self.view.last_event()
        if value is None:
            return None
        instant = _EPOCH + dt.timedelta(microseconds=value)
        return instant.astimezone(self.default_calendar.tz)

    def stored_timers(self) -> list[Timer]:
        """The live view's timers as the events left them (open ones not yet aged by a clock)."""
        self._catch_up()
        return list(self.view.all_timers())

    def histories(self) -> Iterator[list[ContactEvent]]:
        """Every contact's events, read from the log (one list per contact).

        In the order the contacts were first recorded, a page of the log at a
        time: however long the log, only a page's contacts are in memory.
        """
        position = 0
        while True:
            page = self._contact_notifications(position, self.projection_batch)
            if not page:
                return
            position = page[-1][0]
            # A contact's first event is its version 1.
            first = [contact_id for _, contact_id, version in page if version == 1]
            read = self._read_contacts(first)
            for contact_id in first:
                contact = read.get(contact_id) or self._require_contact(contact_id)
                yield list(contact.history)

    def status_as_of(self, instant: dt.datetime) -> list[Timer]:
        """Every timer as it stood at ``instant``, from the events that had happened by then.

        Obligation timers are evaluated for :meth:`obligation_years` of ``instant``.
        """
        instant = require_aware(instant, "instant")
        found = self._contact_timers_as_of(instant)
        if self._has_obligations():
            found += self.obligation_timers(instant, school_years=self.obligation_years(instant))
        return found

    def what_if(
        self,
        *,
        catalogue: Catalogue | str | None = None,
        calendar_spec: Calendar | str | None = None,
        as_of: dt.datetime | None = None,
    ) -> WhatIf:
        """The same events under another catalogue or calendar; nothing is written.

        The figures are those a replay under these rules would give: the
        calendar stands for the engine's own, so an engagement whose
        catalogue names a calendar still counts in that one.  A calendar
        named by its spec (``"fr-57"``) keeps the service's working week,
        opening hours and closures, as the engine's own calendars do; a
        :class:`Calendar` is taken as it is.
        """
        other_catalogue = self.catalogue
        if catalogue is not None:
            other_catalogue = (
                catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)
            )
        other_calendars = self._calendars_under(calendar_spec)

        now = self._now(as_of)
        current, alternative = [], []
        for history in self.histories():
            current += self._evaluate(history, now)
            alternative += evaluate_contact(history, other_catalogue, other_calendars, now)
        if self._has_obligations() or self._has_obligations(other_catalogue):
            years = self.obligation_years(now)
            current += self.obligation_timers(now, school_years=years)
            alternative += self.obligation_timers(
                now, catalogue=other_catalogue, calendar_spec=calendar_spec, school_years=years
            )
        return WhatIf(tuple(current), tuple(alternative))

    def explain(
        self,
        contact_id: str,
        engagement_id: str,
        *,
        cycle: int | None = None,
        lang: str = "fr",
        now: dt.datetime | None = None,
    ) -> str:
        """Why a timer stands where it does: its events, counted days, pauses and verdict."""
        now = self._now(now)
        history = self.history(contact_id)
        timers = [t for t in self._evaluate(history, now) if t.engagement_id == engagement_id]
        if not timers:
            known = ", ".join(sorted({t.engagement_id for t in self._evaluate(history, now)}))
            raise SlaEngineError(
                f"contact {contact_id!r} has no timer for engagement {engagement_id!r}"
                + (f" (it has: {known})" if known else "")
            )
        timer = timers[-1] if cycle is None else next((t for t in timers if t.cycle == cycle), None)
        if timer is None:
            raise SlaEngineError(
                f"contact {contact_id!r} has no cycle {cycle} of {engagement_id!r}"
            )
        engagement = self.catalogue.engagement(engagement_id)
        return explain_timer(
            timer, engagement, history, self.calendar_for(timer.calendar_key), lang
        )

    # -- warnings, breaches, escalation ------------------------------------------------

    def check(
        self, now: dt.datetime | None = None, *, since: dt.datetime | None = None
    ) -> list[Alert]:
        """Alerts for thresholds crossed and expiries in ``(since, now]``.

        ``since`` defaults to the store's previous check (by any engine, kept
        in the store: a restarted process does not alert again; the first
        check reports everything up to ``now``).  Open timers are reported;
        so are timers stopped since the store's previous check that crossed
        a threshold in ``(since, now]`` while they were still open (an
        answer recorded late, between two checks), and every crossing up to
        ``now`` of a contact first recorded since then (a request recorded
        late, already at risk or overdue).  The escalation policy, if any,
        records an ``escalated`` event for each open timer's alert (with an
        id derived from the timer, so a repeated check records it once);
        then each alert goes to ``on_alert``.  Only then does the check
        count as done: if ``on_alert`` raises, the next check reports the
        same alerts again.  A check asked ahead of the clock (``now`` later
        than it) previews: it reports what will be crossed by ``now``, and
        the checks after it report again what it saw ahead of the clock.
        """
        now = self._now(now)
        if since is not None:
            since = require_aware(since, "since")
        elif (checked := self.view.state_value("check_at")) is not None:
            since = _EPOCH + dt.timedelta(microseconds=checked)
        alerts: list[Alert] = []
        for timer in self.worklist(now, now=now, limit=None):
            alerts += _crossings(timer, since, now)
        stopped, new, position = self._changed_since_last_check()
        for timer in stopped:
            alerts += _crossings(timer, since, now)
        if since is not None:
            for timer in new:  # recorded late: what it crossed before `since` too
                alerts += [a for a in _crossings(timer, None, now) if a.at <= since]
        for timer in self.obligation_breaches(since, now):
            assert timer.expires_at is not None  # noqa: S101 - selected on it
            alerts.append(Alert("breach", timer.expires_at, timer))
        alerts.sort(key=lambda a: (a.at, a.timer.key, a.kind))
        if self.escalation is not None:
            self._escalate(alerts)
        for alert in alerts:
            if self.on_alert is not None:
                self.on_alert(alert)
        # Done: the next check starts here (never further back, nor past the clock),
        # and from the log's position read above (never before every alert is taken:
        # a check that fails finds the same contacts again).
        done = min(now, require_aware(self.clock(), "clock"))
        if position is not None:
            self.view.set_state_value("check_position", position, higher_only=True)
        self.view.set_state_value("check_at", microseconds(done), higher_only=True)
        return alerts

    def _changed_since_last_check(self) -> tuple[list[Timer], list[Timer], int | None]:
        """Timers of the contacts with events recorded since the store's last check.

        The stopped timers of every such contact; and the open timers of
        those first recorded since (their version 1 is among the events).
        The position of the store's last event at each check is kept in the
        view's state: they are found among the events recorded since (by
        this engine or another), without reading any other.  The first
        check of a store finds none.  Also the log's position now, which
        :meth:`check` keeps once its alerts are delivered.
        """
        last = self.recorder.max_notification_id()
        position = self.view.state_value("check_position")
        if position is None or last is None or last <= position:
            return [], [], last
        contacts: set[str] = set()
        new: set[str] = set()
        start = position + 1
        while start <= last:
            found = self.recorder.select_notifications(
                start, 5000, stop=last, topics=CONTACT_TOPICS
            )
            if not found:
                break
            for n in found:
                contacts.add(str(n.originator_id))
                if n.originator_version == 1:
                    new.add(str(n.originator_id))
            start = found[-1].id + 1
        stopped: list[Timer] = []
        opened: list[Timer] = []
        for contact_id in sorted(contacts):  # the view is current: the worklist caught it up
            for t in self.view.contact_timers(contact_id):
                if not t.is_open:
                    stopped.append(t)
                elif contact_id in new:
                    opened.append(t)
        return stopped, opened, last

    def _escalate(self, alerts: Sequence[Alert]) -> None:
        policy = self.escalation
        if policy is None:
            return
        events = []
        clock = require_aware(self.clock(), "clock")
        closed: dict[str, bool] = {}  # a contact's history read once, however many alerts
        for alert in alerts:
            if alert.kind not in policy.on or is_obligation(alert.timer):
                continue  # an obligation has no contact to record an escalation on
            if alert.at > clock:
                continue  # foreseen by a check ahead of the clock: not happened yet
            if not alert.timer.is_open:
                continue  # answered since: too late to hand it on
            contact_id = alert.timer.contact_id
            if contact_id not in closed:
                closed[contact_id] = self._closed(contact_id)
            if closed[contact_id]:
                continue  # closed: too late too
            t = alert.timer
            suffix = "breach" if alert.kind == "breach" else f"warning{alert.threshold}"
            events.append(
                ContactEvent(
                    event_id=f"{ENGINE_EVENT_PREFIX}{t.engagement_id}:{t.cycle}:{suffix}",
                    contact_id=t.contact_id,
                    type=EventType.ESCALATED,
                    occurred_at=alert.at,
                    to=policy.to,
                    reason=f"{policy.reason}:{t.engagement_id}:{alert.kind}",
                )
            )
        if not events:
            return
        events = [attrs.evolve(e, recorded_at=clock) for e in events]
        refused = [
            outcome
            for outcome in self.record_many(events, atomic=False).outcomes
            if isinstance(outcome, Rejected)
            # A closed contact is not escalated (its open timer waits for a reopening).
            and not (
                isinstance(outcome.error, ContactRuleError) and outcome.error.code == "after_closed"
            )
        ]
        if refused:
            first = refused[0]
            raise SlaEngineError(
                f"{len(refused)} escalation(s) could not be recorded; the first, for contact "
                f"{first.event.contact_id!r}: {redacted(first.error)}"  # type: ignore[union-attr]
            )

    def _closed(self, contact_id: str) -> bool:
        """Whether the contact is closed (its last closure not followed by a reopening).

        A closed contact's timer may stay open (a catalogue that does not
        stop on closures); the engine does not escalate it.
        """
        for event in reversed(self.history(contact_id)):
            if event.type is EventType.CLOSED:
                return True
            if event.type is EventType.REOPENED:
                return False
        return False

    def _now(self, now: dt.datetime | None) -> dt.datetime:
        return require_aware(now if now is not None else self.clock(), "now")


T = typing.TypeVar("T")


_FINAL = (EventType.ANSWERED, EventType.CLOSED)


def _crossings(timer: Timer, since: dt.datetime | None, now: dt.datetime) -> list[Alert]:
    """The thresholds ``timer`` crossed in ``(since, now]`` while it was open."""
    stopped = timer.stopped_at

    def crossed(instant: dt.datetime, *, at_stop: bool) -> bool:
        if (since is not None and instant <= since) or instant > now:
            return False
        # A timer stopped at its expiry is late: the expiry was crossed.
        return stopped is None or instant < stopped or (at_stop and instant == stopped)

    alerts = [
        Alert("warning", instant, timer, index)
        for index, instant in enumerate(timer.warnings)
        if crossed(instant, at_stop=False)
    ]
    if timer.expires_at is not None and crossed(timer.expires_at, at_stop=True):
        alerts.append(Alert("breach", timer.expires_at, timer))
    return alerts


def _service_calendar(given: Calendar | str | None, stored: StoredRules | None) -> Calendar:
    """The engine's calendar: the one given, else the store's, else metropolitan France.

    A spec (« fr-57 ») names a territory and a school zone, not a service: given
    the store's own spec, it keeps the service's settings the store recorded
    (time zone, working week, opening hours, closures).  A :class:`Calendar`
    is taken as it is.
    """
    if isinstance(given, Calendar):
        return given
    if stored is None:
        return calendar(given or "fr")
    named = calendar(given or stored.calendar_spec)
    if named.spec != stored.calendar_spec or not stored.calendar_settings:
        return named
    return named.with_settings(json.loads(stored.calendar_settings))


def _settings_text(service: Calendar) -> str:
    """:meth:`Calendar.settings` as the store's rules keep them (empty: none)."""
    settings = service.settings()
    return json.dumps(settings, ensure_ascii=False, sort_keys=True) if settings else ""


def _expiry_order(timer: Timer) -> tuple[dt.datetime, tuple[str, str, int]]:
    """A worklist's order: the earliest expiry first (no expiry: its instant), then the key."""
    return (timer.expires_at or timer.as_of, timer.key)


def _announced_reach(contact: Contact) -> int:
    """How far past the margin a delay announced to the contact may count, in µs (0: none).

    The catalogue's delays fit in :data:`COUNTABLE_MARGIN_DAYS`; an announced
    one can be any length, so its reach is bounded generously: a month of 31
    days, a week of 7, three days per day or hour (a school or working day
    is rarer than that only across the summer, which the margin covers).
    """
    longest = 0
    for event in contact.history:
        delay = event.announced_delay
        if delay is not None:
            longest = max(longest, _reach_days(delay))
    return longest * 86_400_000_000


def _announces_in(contact: Contact, units: frozenset[Unit]) -> bool:
    """Whether a delay in one of ``units`` was announced to the contact."""
    return any(
        e.announced_delay is not None and e.announced_delay.unit in units for e in contact.history
    )


def _reach_days(delay: Delay) -> int:
    """Calendar days a delay may span at most, generously (see :func:`_announced_reach`)."""
    per = 31 if delay.unit is Unit.MOIS else 7 if delay.unit is Unit.SEMAINES else 3
    return math.ceil(delay.amount * per)


def _uncountable(error: Exception) -> SlaEngineError:
    """The reason a contact's timers cannot be counted, as an engine error."""
    if isinstance(error, SlaEngineError):
        return error
    return DataError(f"the contact's timers cannot be counted with this event ({error})")


class _StaleContact(Exception):
    """A contact held in memory is behind the store: the batch is applied again."""


class _WorkingSet:
    """Contacts kept in memory after they are saved, the least recently used leaving first.

    Contacts whose last event answers or closes them leave before any still
    open: in a log read in time order an open contact will have more events
    (its answer), a finished one rarely does (a reopening), so the memory
    goes to the contacts that will need it.
    """

    def __init__(self) -> None:
        self.open: collections.OrderedDict[str, Contact] = collections.OrderedDict()
        self.finished: collections.OrderedDict[str, Contact] = collections.OrderedDict()

    def __len__(self) -> int:
        return len(self.open) + len(self.finished)

    def get(self, contact_id: str) -> Contact | None:
        return self.open.get(contact_id) or self.finished.get(contact_id)

    def put(self, contact_id: str, contact: Contact) -> None:
        done = bool(contact.history) and contact.history[-1].type in _FINAL
        keep, other = (self.finished, self.open) if done else (self.open, self.finished)
        other.pop(contact_id, None)
        keep[contact_id] = contact
        keep.move_to_end(contact_id)

    def trim(self, count: int) -> None:
        while len(self) > count:
            (self.finished or self.open).popitem(last=False)

    def discard(self, contact_id: str) -> None:
        self.open.pop(contact_id, None)
        self.finished.pop(contact_id, None)

    def clear(self) -> None:
        self.open.clear()
        self.finished.clear()


def _check_sqlite_folder(settings: Mapping[str, str]) -> None:
    """Name a SQLite file's missing folder (SQLite only says it cannot open the file)."""
    name = settings.get("SQLITE_DBNAME")
    if name is None or name == ":memory:" or name.startswith("file:"):
        return
    folder = os.path.dirname(os.path.abspath(name))
    if not os.path.isdir(folder):
        raise SlaEngineError(
            f"cannot open the store {name!r}: the folder {folder!r} does not exist"
        )


_BLOCK_REFUSED = (
    "another process recorded some of these contacts during the replay: nothing of this "
    "block was recorded; replay the log again (rows already recorded are then counted as "
    "duplicates)"
)

#: The page size of a SQLite store this engine creates: a stored event is about
#: 300 bytes and a timer's row 400; with pages four times SQLite's default,
#: SQLite inserts and commits a million events and their timers about 13 %
#: faster (measured: 7.2 s instead of 8.3 s) and a file is no larger.
SQLITE_PAGE_SIZE = 16384


def _create_sqlite_file(settings: Mapping[str, str]) -> None:
    """Create a new SQLite store's file with :data:`SQLITE_PAGE_SIZE` (eventsourcing opens it next).

    The page size of a file in WAL mode is fixed when its first page is
    written: it must be chosen before eventsourcing sets that mode.
    """
    name = settings.get("SQLITE_DBNAME")
    if name is None or name == ":memory:" or name.startswith("file:"):
        return
    if os.path.exists(name) and os.path.getsize(name) > 0:
        return
    # Readable by its owner only (SQLite gives its log files the same mode):
    # the store holds requests of people, and the requesters' keys.  An empty
    # file made beforehand (`touch store.db`) becomes the store: so too.
    descriptor = os.open(name, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        if os.fstat(descriptor).st_size == 0:
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
    connection = sqlite3.connect(name, isolation_level=None)
    try:
        # On an empty file only: a file another process has begun keeps its size.
        connection.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


#: What the errors of processes creating the same tables at once say.
_CONCURRENT_DDL = (
    "deadlock",
    "concurrently updated",
    "pg_type_typname_nsp_index",
    "pg_class_relname_nsp_index",
    "pg_namespace_nspname_index",
    "tracking for __migration__",
    "already exists",  # CREATE … IF NOT EXISTS of one type by two processes at once
)


def _retry_deadlocks(action: Callable[[], T], attempts: int = 6) -> T:
    """Run ``action``, again after a short random wait when concurrent DDL collided."""

    for attempt in range(attempts):
        try:
            return action()
        except (OperationalError, InternalError, IntegrityError) as error:
            # "deadlock detected", or "tuple concurrently updated" when two
            # processes replace eventsourcing's insert function at once; two
            # CREATE ... IF NOT EXISTS of one table or type at once (PostgreSQL
            # checks its catalogue's unique index only then), or of
            # eventsourcing's migration record.
            transient = any(sign in str(error) for sign in _CONCURRENT_DDL)
            if not transient or attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.01, 0.1 * 2**attempt))  # noqa: S311 - jitter
    raise AssertionError("unreachable")  # pragma: no cover


def _unreachable(settings: Mapping[str, str]) -> SlaEngineError | None:
    """Why eventsourcing could not open a PostgreSQL store, and where (``None``: not that).

    eventsourcing's pool only says it "couldn't get a connection after 30.00
    sec": one connection made directly gives the server's own reason
    (refused, unknown database, authentication), named with the host, port,
    database and user — never the password.  Anything else is raised as it came.
    """
    if settings.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        return None
    import psycopg  # only for PostgreSQL stores

    host, port = settings.get("POSTGRES_HOST", ""), settings.get("POSTGRES_PORT", "5432")
    database, user = settings.get("POSTGRES_DBNAME", ""), settings.get("POSTGRES_USER", "")
    try:
        psycopg.connect(
            host=host,
            port=port,
            dbname=database,
            user=user,
            password=settings.get("POSTGRES_PASSWORD", ""),
            connect_timeout=5,
        ).close()
    except psycopg.Error as failure:
        reason = " ".join(str(failure).split())  # psycopg's lines, on one
    else:
        return None  # it connects now: the pool's own failure, as it came
    return SlaEngineError(
        f"cannot open the PostgreSQL store at {host}:{port}, database {database!r}, "
        f"user {user!r}: {reason}"
    )


def _originator(event: StoredEvent) -> Any:
    return event.originator_id


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's projector without its per-event ``isinstance`` against a Protocol.

    That check (an ``assert``) costs more than rebuilding a contact itself:
    measured, 40 % of the time spent reading contacts back.
    """
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
