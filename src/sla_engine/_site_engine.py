"""The engine's commands and queries for sites: register, record, obligation timers, explain.

:class:`SiteRecording` is mixed into :class:`~sla_engine._engine.SlaEngine`:
site events go to the same ``eventsourcing`` store as contact events, one
:class:`~sla_engine._sites.Site` aggregate per site (and one for the
service), saved in one transaction per batch.  Obligation timers are derived
from them on demand (:func:`~sla_engine._obligations.evaluate_obligations`):
the log is the only truth, and another catalogue or calendar re-derives
every figure without writing anything.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from ._anchors import (
    Anchor,
    AnchorError,
    AnchorKind,
    resolve_anchor,
    school_year_of,
    school_years_between,
)
from ._calendar import Calendar
from ._catalogue import Catalogue, load_catalogue
from ._contact import Outcomes, RecordOutcome
from ._errors import DataError, SlaEngineError
from ._obligations import evaluate_obligations, explain_obligation, school_years_of
from ._school import SchoolZone
from ._sites import (
    SERVICE,
    SITE_TOPICS,
    Site,
    SiteEvent,
    SiteEventType,
    SiteRegister,
    SiteRuleError,
    canonical_what,
    check_site_id,
    site_aggregate_id,
)
from ._time import require_aware
from ._timers import Timer, TimerState

__all__ = ["RejectedSiteEvent", "SiteRecordResult", "SiteRecording"]


@attrs.frozen
class RejectedSiteEvent:
    """A site event that was not recorded, and why (``event`` as given: maybe a mapping)."""

    event: SiteEvent | Mapping[str, Any]
    error: SlaEngineError


@attrs.frozen
class SiteRecordResult(Outcomes[RejectedSiteEvent]):
    """What :meth:`SiteRecording.record_site_events` did with each event, in order.

    ``recorded`` and ``duplicates`` count them; ``rejected`` lists the refused ones.
    """

    outcomes: tuple[RecordOutcome | RejectedSiteEvent, ...]


class _Engine(Protocol):
    """What the mixin needs of the engine."""

    @property
    def repository(self) -> Any: ...
    @property
    def recorder(self) -> Any: ...
    @property
    def catalogue(self) -> Catalogue: ...
    @property
    def default_calendar(self) -> Calendar: ...
    @property
    def clock(self) -> Callable[[], dt.datetime]: ...
    @property
    def conflict_retries(self) -> int: ...
    def save(self, *objs: Any, **kwargs: Any) -> Any: ...
    def calendar_for(self, key: str | None) -> Calendar: ...
    def _as_service(self, named: Calendar, own: Calendar | None = None) -> Calendar: ...

    def _calendars_under(
        self, calendar_spec: Calendar | str | None
    ) -> Callable[[str | None], Calendar]: ...
    def _get_site(self, subject: str) -> Site | None: ...
    def site_histories(self) -> dict[str, list[SiteEvent]]: ...
    def sites(self) -> dict[str, str]: ...
    def site_history(self, site: str | None) -> list[SiteEvent]: ...
    def last_site_event_at(self) -> dt.datetime | None: ...
    def last_event_at(self) -> dt.datetime | None: ...
    def obligation_timers(
        self,
        as_of: dt.datetime | None = None,
        *,
        catalogue: Catalogue | str | None = None,
        calendar_spec: Calendar | str | None = None,
        school_years: Iterable[str] | None = None,
    ) -> list[Timer]: ...
    def obligation_years(self, as_of: dt.datetime) -> list[str]: ...
    def _has_obligations(self, catalogue: Catalogue | None = None) -> bool: ...
    @property
    def _site_cache(self) -> _SiteCache: ...


class _SiteCache:
    """The site aggregates read so far, and the log position they are read up to."""

    def __init__(self) -> None:
        self.position = 0
        self.sites: dict[str, Site] = {}


class SiteRecording:
    """Sites and obligations, for :class:`~sla_engine._engine.SlaEngine`."""

    @functools.cached_property
    def _site_cache(self) -> _SiteCache:
        return _SiteCache()

    # -- commands ----------------------------------------------------------------------

    def register_sites(self: _Engine, register: SiteRegister | Iterable[tuple[str, str]]) -> int:
        """Record the sites of a register (ids and names); returns how many were new or renamed.

        Registering the same register again records nothing; a known site
        with another name is renamed (an event, never a rewrite).
        """
        entries = register.sites if isinstance(register, SiteRegister) else tuple(register)
        now = require_aware(self.clock(), "clock")
        changed: list[Site] = []
        for site_id, name in entries:
            checked = check_site_id(site_id)
            if checked is None or not str(name).strip():
                raise DataError(f"site {site_id!r}: a site needs an id and a name")
            site = self._get_site(checked)
            if site is None:
                changed.append(Site.register(checked, str(name).strip(), now))
            elif site.name != str(name).strip():
                site.rename(str(name).strip(), now)
                changed.append(site)
        if changed:
            self.save(*changed)
        return len(changed)

    def record_site_event(self: _Engine, event: SiteEvent | Mapping[str, Any]) -> RecordOutcome:
        """Record one site event: ``recorded`` or ``duplicate``; a bad one raises."""
        result = SiteRecording.record_site_events(self, [event], atomic=True)
        outcome = result.outcomes[0]
        assert isinstance(outcome, RecordOutcome)  # noqa: S101 - an atomic batch raises
        return outcome

    def record_site_events(
        self: _Engine, events: Iterable[SiteEvent | Mapping[str, Any]], *, atomic: bool = True
    ) -> SiteRecordResult:
        """Record site events in one transaction (see :meth:`SlaEngine.record_many`).

        An event for a site not in the register is refused (``unknown_site``);
        so is one outside the school calendar's data (``outside_calendar``),
        and one whose ``what`` is not a word the catalogue's obligations
        declare (``unknown_what``: the field can then never carry a name),
        unless an obligation counts the event whatever it says: the event is
        then kept without its ``what``.
        """
        items: list[SiteEvent | RejectedSiteEvent] = []
        for given in events:
            try:
                items.append(_as_site_event(given))
            except SlaEngineError as error:  # a mapping that makes no event
                if atomic:
                    raise
                items.append(RejectedSiteEvent(given, error))
        zone = self.calendar_for(self.catalogue.calendar).school_zone
        allowed = declared_whats(self.catalogue)
        for attempt in range(self.conflict_retries + 1):
            now = require_aware(self.clock(), "clock")
            sites: dict[str, Site] = {}
            outcomes: list[RecordOutcome | RejectedSiteEvent] = []
            for event in items:
                if isinstance(event, RejectedSiteEvent):
                    outcomes.append(event)
                    continue
                try:
                    outcomes.append(_apply(self, sites, _kept_what(event, allowed), now, zone))
                except SiteRuleError as error:
                    if atomic:
                        raise
                    outcomes.append(RejectedSiteEvent(event, error))
            try:
                if sites:
                    self.save(*sites.values())
            except IntegrityError:
                if attempt == self.conflict_retries:
                    raise SlaEngineError(
                        "site events could not be recorded: other writers kept changing the "
                        "same sites"
                    ) from None
                continue
            return SiteRecordResult(tuple(outcomes))
        raise AssertionError("unreachable")  # pragma: no cover

    # -- queries -----------------------------------------------------------------------

    def _get_site(self: _Engine, subject: str) -> Site | None:
        try:
            site: object = self.repository.get(site_aggregate_id(subject))
        except AggregateNotFoundError:
            return None
        if not isinstance(site, Site):  # pragma: no cover - another aggregate type
            raise SlaEngineError(f"{subject!r} is not a site")
        return site

    def _site_aggregates(self: _Engine) -> list[Site]:
        """Every site aggregate, in the order they first appear in the log.

        Kept between calls: each call reads only the notifications recorded
        since the last one (never the whole log, which holds every contact
        event too) and reads back only the sites they name.
        """
        known = self._site_cache
        position = known.position
        changed: dict[str, None] = {}
        while True:
            notifications = self.recorder.select_notifications(
                start=position, limit=1000, inclusive_of_start=False, topics=SITE_TOPICS
            )
            if not notifications:
                break
            for n in notifications:
                changed.setdefault(str(n.originator_id), None)
            position = notifications[-1].id
        for aggregate_id in changed:
            site = self.repository.get(aggregate_id)
            if isinstance(site, Site):
                known.sites[aggregate_id] = site
        known.position = position
        return list(known.sites.values())

    def sites(self: _Engine) -> dict[str, str]:
        """The registered sites: id → name, sorted by id (the service itself is not one)."""
        found = {
            s.subject: s.name for s in SiteRecording._site_aggregates(self) if s.subject != SERVICE
        }
        return dict(sorted(found.items()))

    def site_histories(self: _Engine) -> dict[str, list[SiteEvent]]:
        """Every site's events (and the service's, under ``"service"``), from the log."""
        return {s.subject: list(s.history) for s in SiteRecording._site_aggregates(self)}

    def site_history(self: _Engine, site: str | None) -> list[SiteEvent]:
        """One site's events (``None``: the service's) in the order they happened.

        The service is always there: with no event of its own, its history is empty.
        """
        found = self._get_site(site or SERVICE)
        if found is None:
            if site is None:
                return []
            raise SlaEngineError(f"no site {site!r} has been registered")
        return list(found.history)

    def last_site_event_at(self: _Engine) -> dt.datetime | None:
        """The latest ``occurred_at`` of every site event (``None`` without any)."""
        latest = None
        for events in self.site_histories().values():
            if events and (latest is None or events[-1].occurred_at > latest):
                latest = events[-1].occurred_at
        return None if latest is None else latest.astimezone(self.default_calendar.tz)

    def _last_log_event_at(self: _Engine) -> dt.datetime | None:
        """The latest instant of the whole log: requests' events and sites' alike."""
        known = [i for i in (self.last_event_at(), self.last_site_event_at()) if i is not None]
        return max(known) if known else None

    def obligation_timers(
        self: _Engine,
        as_of: dt.datetime | None = None,
        *,
        catalogue: Catalogue | str | None = None,
        calendar_spec: Calendar | str | None = None,
        school_years: Iterable[str] | None = None,
    ) -> list[Timer]:
        """Every obligation timer as of ``as_of`` (default: the last site event).

        Another ``catalogue`` or ``calendar_spec`` is a what-if: the same
        events are evaluated under other rules, and nothing is written.
        """
        rules = self.catalogue
        if catalogue is not None:
            rules = catalogue if isinstance(catalogue, Catalogue) else load_catalogue(catalogue)
        if not any(e.obligation is not None for e in rules.engagements):
            return []  # nothing to measure: the log is not even read
        histories = self.site_histories()
        if as_of is None:
            as_of = self.last_site_event_at()
            if as_of is None:
                return []
        as_of = require_aware(as_of, "as_of")
        # As a replay under these rules would count (the catalogue's calendars win).
        calendars = self._calendars_under(calendar_spec)

        sites = sorted(s for s in histories if s != SERVICE)
        return evaluate_obligations(
            histories, sites, rules, calendars, as_of, school_years=school_years
        )

    def _has_obligations(self: _Engine, catalogue: Catalogue | None = None) -> bool:
        rules = catalogue or self.catalogue
        return any(e.obligation is not None for e in rules.engagements)

    def _school_year_at(self: _Engine, instant: dt.datetime) -> str:
        cal = self.calendar_for(self.catalogue.calendar)
        return school_year_of(instant.astimezone(cal.tz).date(), cal.school_zone)

    def obligation_years(self: _Engine, as_of: dt.datetime) -> list[str]:
        """The school years an as-of question evaluates: those with site events, and ``as_of``'s.

        The school year holding ``as_of`` is evaluated even before its first
        event: on the day after the rentrée, every school already owes its
        visit.  A year the school calendar does not know raises
        :class:`~sla_engine._anchors.AnchorError`.
        """
        as_of = require_aware(as_of, "as_of")
        cal = self.calendar_for(self.catalogue.calendar)
        events = [
            e for evs in self.site_histories().values() for e in evs if e.occurred_at <= as_of
        ]
        return sorted({*school_years_of(events, cal), SiteRecording._school_year_at(self, as_of)})

    def obligations_needing_attention(
        self: _Engine, before: dt.datetime, now: dt.datetime
    ) -> list[Timer]:
        """Open obligation timers as of ``now`` that expire at or before ``before``.

        Only the school year holding ``now`` is evaluated: an earlier year's
        obligations are all closed once it is over.
        """
        before = require_aware(before, "before")
        if not SiteRecording._has_obligations(self):
            return []
        year = SiteRecording._school_year_at(self, now)
        return [
            t
            for t in self.obligation_timers(now, school_years=[year])
            if t.is_open and t.expires_at is not None and t.expires_at <= before
        ]

    def obligation_breaches(
        self: _Engine, since: dt.datetime | None, now: dt.datetime
    ) -> list[Timer]:
        """Obligation timers closed as breaches whose expiry fell in ``(since, now]``.

        These are the periods over without their events (a week without
        publication, a day short of its amplitude), and the events that
        came late; an obligation still open past its expiry (``overdue``)
        is in the worklist instead.  Without ``since``, the school year
        holding ``now`` is searched.
        """
        if not SiteRecording._has_obligations(self):
            return []
        last = SiteRecording._school_year_at(self, now)
        first = last if since is None else SiteRecording._school_year_at(self, since)
        years = school_years_between(first, last)
        return [
            t
            for t in self.obligation_timers(now, school_years=years)
            if t.state is TimerState.LATE
            and t.expires_at is not None
            and (since is None or t.expires_at > since)
            and t.expires_at <= now
        ]

    def explain_obligation(
        self: _Engine,
        site: str | None,
        engagement_id: str,
        period: str | None = None,
        *,
        lang: str = "fr",
        now: dt.datetime | None = None,
    ) -> str:
        """Why an obligation stands where it does for a site (``None``: the service) and period.

        Without ``period``, the site's last period of that engagement.  Without
        ``now``, as the review: at the last event of the whole log.
        """
        engagement = self.catalogue.engagement(engagement_id)
        if engagement.obligation is None:
            raise SlaEngineError(
                f"{engagement_id!r} is a {engagement.kind.value} engagement, not an obligation"
            )
        subject = site or SERVICE
        if now is None:  # as the review: at the last event of the whole log
            now = SiteRecording._last_log_event_at(self)
        # The school years the review and status_as_of count at ``now``.
        years = None if now is None else SiteRecording.obligation_years(self, now)
        timers = [
            t
            for t in self.obligation_timers(now, school_years=years)
            if t.engagement_id == engagement_id and t.contact_id == subject
        ]
        if period is not None:
            timers = [t for t in timers if t.period == period]
        if not timers:
            raise SlaEngineError(
                f"no timer of {engagement_id!r} for {subject!r}"
                + ("" if period is None else f" in {period}")
            )
        timer = timers[-1]
        names = self.sites()
        return explain_obligation(
            timer,
            engagement,
            self.site_history(site),
            self.calendar_for(timer.calendar_key),
            lang,
            site_name=names.get(subject),
        )


def _as_site_event(item: SiteEvent | Mapping[str, Any]) -> SiteEvent:
    if isinstance(item, SiteEvent):
        return item
    try:
        return SiteEvent(**item)
    except TypeError as error:
        raise DataError(f"cannot read the site event: {error}") from None


@attrs.frozen
class DeclaredWhats:
    """What an event type's ``what`` may say: the words its obligations count."""

    words: frozenset[str] = frozenset()
    #: Some obligation counts the type's events whatever their ``what`` says.
    counts_any: bool = False


def declared_whats(catalogue: Catalogue) -> dict[SiteEventType, DeclaredWhats]:
    """Per event type, the ``what`` words the catalogue's obligations count.

    A type no obligation counts is absent: its events carry no ``what``.
    """
    found: dict[SiteEventType, DeclaredWhats] = {}

    def allow(kind: SiteEventType, words: frozenset[str] | None) -> None:
        known = found.get(kind, DeclaredWhats())
        found[kind] = DeclaredWhats(
            known.words | (words or frozenset()), known.counts_any or not words
        )

    for engagement in catalogue.engagements:
        obligation = engagement.obligation
        if obligation is None:
            continue
        if obligation.line is not None:
            line = frozenset({canonical_what(obligation.line)})
            allow(SiteEventType.OPENED, line)
            allow(SiteEventType.CLOSED, line)
        elif obligation.event is not None:
            allow(obligation.event, obligation.what)
    return found


def missing_what(event: SiteEvent, allowed: dict[SiteEventType, DeclaredWhats]) -> str | None:
    """Why ``event`` counts for nothing without a ``what``, or ``None``.

    When the obligations that count a type of event count it only with one
    of their words (« passage », « IEN », the line « téléphone »), an event
    of that type without a ``what`` is counted by none: the school or the
    line would seem in breach although the event was recorded.
    """
    declared = allowed.get(event.type)
    if event.what is not None or declared is None or declared.counts_any:
        return None
    return (
        f"'what' is empty; the catalogue's obligations count '{event.type.value}' events "
        f"only with one of: {', '.join(sorted(declared.words))}"
    )


def _kept_what(event: SiteEvent, allowed: dict[SiteEventType, DeclaredWhats]) -> SiteEvent:
    """``event`` with a ``what`` only when it is a word the catalogue's obligations count.

    A word no obligation reads is not kept: refused when no obligation would
    count the event without it (a typo of « IEN » should not pass unseen),
    dropped when one counts the event whatever it says (the event stays,
    the word, which may be a name typed in the wrong field, does not).
    """
    if event.what is None:
        return event
    declared = allowed.get(event.type, DeclaredWhats())
    if event.what in declared.words:
        return event
    if declared.counts_any:
        return attrs.evolve(event, what=None)
    # The refused word is never repeated: it may be a name typed in the wrong field.
    raise SiteRuleError(
        event.subject,
        event.event_id,
        f"'what' is not one of the words the catalogue's obligations count for "
        f"'{event.type.value}' events ({', '.join(sorted(declared.words)) or 'none'})",
        "unknown_what",
    )


def _apply(
    engine: _Engine,
    sites: dict[str, Site],
    event: SiteEvent,
    now: dt.datetime,
    zone: Any,
) -> RecordOutcome:
    subject = event.subject
    site = sites.get(subject) or engine._get_site(subject)
    if site is None:
        if subject != SERVICE:
            raise SiteRuleError(
                subject,
                event.event_id,
                "this site is not in the register (register it first)",
                "unknown_site",
            )
        site = Site.register(SERVICE, "service", now)
    if zone is not None:
        day = event.occurred_at.astimezone(engine.default_calendar.tz).date()
        first, last = zone.coverage
        if not first <= day <= last:
            raise SiteRuleError(
                subject,
                event.event_id,
                f"{day.isoformat()} is outside the school calendar of {zone.label} "
                f"({first.isoformat()} to {last.isoformat()})",
                "outside_calendar",
            )
        year = school_year_of(day, zone)
        if not _school_year_known(zone, year):
            # Its obligations could not be placed: stored, the event would
            # stop every review that counts its year.
            raise SiteRuleError(
                subject,
                event.event_id,
                f"the school calendar of {zone.label} does not give the rentrée and the "
                f"end of the school year {year}, which {day.isoformat()} falls in",
                "outside_calendar",
            )
    if not site.record(event, now):
        sites.setdefault(subject, site)
        return RecordOutcome.DUPLICATE
    sites[subject] = site
    return RecordOutcome.RECORDED


@functools.lru_cache(maxsize=256)
def _school_year_known(zone: SchoolZone, year: str) -> bool:
    """Whether ``zone``'s data gives ``year``'s rentrée and its end of classes."""
    try:
        resolve_anchor(zone, Anchor(AnchorKind.RENTREE), year)
        resolve_anchor(zone, Anchor(AnchorKind.YEAR_END), year)
    except AnchorError:
        return False
    return True


def sorted_timers(timers: Sequence[Timer]) -> list[Timer]:
    return sorted(timers, key=lambda t: (t.engagement_id, t.contact_id, t.cycle))
