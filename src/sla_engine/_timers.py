"""Timers: how each engagement stands for one contact, at one instant.

Evaluation is a pure function of a contact's events, a catalogue and the
calendars: the projections store its results, the what-if and as-of queries
call it again on the same events with other rules or another instant, and
the tests compare it with a small reference model.

For each (contact, engagement, cycle) a timer starts on the engagement's
``start`` event (a ``reopened`` event starts a new cycle of response
timers), stops on the first of its ``stop`` events, and is paused between
its ``pause`` and ``resume`` events:

- ``suspend`` mode: the delay resumes with what was left; a pause of k
  counted days pushes the due date back by exactly k counted days (the day
  of the suspension counts, the day of the resumption does not, as for the
  day of receipt);
- ``restart`` mode: the whole delay runs again from the resumption.

A pause that starts at or after the expiry it would postpone changes
nothing: a breach is not undone by suspending the request afterwards.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import attrs

from ._calendar import Calendar
from ._catalogue import Catalogue, Engagement, EngagementKind, PauseMode
from ._contact import ContactEvent
from ._delay import Delay, Unit
from ._time import first_instant_of, require_aware
from ._vocabulary import EventType

__all__ = ["EVALUATION", "Pause", "Timer", "TimerState", "evaluate_contact", "timer_from_dict"]

#: The version of the timer arithmetic.  A stored view projected by another
#: is projected again when an engine opens it (its figures would differ):
#: 2 compares instants with their fixed offsets, counts warnings of weeks and
#: months in days and after restarts, and gives named calendars the
#: service's working week and opening hours; 3 extends a delay ending on a
#: Saturday or Sunday that the service works (CPC art. 642); 4 reads the
#: delay announced by the start event itself (an engagement starting on
#: ``acknowledged``, whose acknowledgement announces the delay); 5 applies an
#: engagement's ``extend = true`` to a delay in jours ouvrables (catalogues
#: refused it on such a target, but an announced delay or a complex request's
#: delay in jours ouvrables could already come with it, and was not extended);
#: 6 counts heures ouvrées in real time on the days the clock changes (opening
#: hours covering the skipped or repeated hour gained or lost it).
EVALUATION = 6


class TimerState(enum.StrEnum):
    """Where a timer stands."""

    RUNNING = "running"
    PAUSED = "paused"
    AT_RISK = "at_risk"
    MET = "met"
    #: Stopped at or after its expiry.
    LATE = "late"
    #: Still running past its expiry.
    OVERDUE = "overdue"
    EXEMPT = "exempt"

    @property
    def is_open(self) -> bool:
        return self in (
            TimerState.RUNNING,
            TimerState.PAUSED,
            TimerState.AT_RISK,
            TimerState.OVERDUE,
        )


@attrs.frozen
class Pause:
    """A pause of a timer; ``ended_at`` is ``None`` while it lasts."""

    started_at: dt.datetime
    ended_at: dt.datetime | None
    #: Whether it moved the deadline (a pause after expiry does not).
    effective: bool


@attrs.frozen(kw_only=True)
class Timer:
    """One engagement's timer for one contact and cycle, as of an instant."""

    contact_id: str
    engagement_id: str
    cycle: int
    kind: str
    state: TimerState
    as_of: dt.datetime
    started_at: dt.datetime | None
    stopped_at: dt.datetime | None = None
    #: The delay applied (« 15 jours ouvrés »), after a complex-case or announced delay.
    target: Delay | None = None
    due_date: dt.date | None = None
    #: An answer is on time iff strictly before this instant.
    expires_at: dt.datetime | None = None
    #: Instants at which each ``warn_at`` threshold is crossed.
    warnings: tuple[dt.datetime, ...] = ()
    pauses: tuple[Pause, ...] = ()
    #: Counted units from the start day to the stop day (or the as-of day).
    elapsed: int | float | None = None
    #: Why the state is what it is, when that is not obvious (a short code).
    reason: str | None = None
    measured: float | None = None
    calendar: str | None = None
    calendar_version: str | None = None
    #: What the engagement named (its own, the catalogue's, or None for the engine's default).
    calendar_key: str | None = None
    catalogue: str = ""
    catalogue_version: str = ""
    channel: str | None = None
    category: str | None = None
    priority: str | None = None
    service: str | None = None
    #: Obligations: the site (``None`` for the service's own), and the period
    #: (``2025-2026``, the week ``2025-W37``, the day ``2025-09-01``).
    site: str | None = None
    period: str | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.contact_id, self.engagement_id, self.cycle)

    @property
    def is_open(self) -> bool:
        return self.state.is_open

    def at(self, now: dt.datetime, calendar: Calendar | None = None) -> Timer:
        """This timer as it stands at ``now``: running, at risk or overdue.

        Stored timers of the live view keep only what the events decided;
        the states that depend on the clock are derived here.  With a
        ``calendar``, an open timer's ``elapsed`` is counted up to ``now``.
        """
        if type(now.tzinfo) is not dt.timezone:  # compared as an instant (see _time)
            now = require_aware(now, "now")
        if self.state not in (TimerState.RUNNING, TimerState.AT_RISK, TimerState.OVERDUE):
            return self._with(as_of=now)
        if self.expires_at is not None and now >= self.expires_at:
            state = TimerState.OVERDUE
        elif any(now >= w for w in self.warnings):
            state = TimerState.AT_RISK
        else:
            state = TimerState.RUNNING
        elapsed = self.elapsed
        if calendar is not None and self.target is not None and self.started_at is not None:
            elapsed = _elapsed(
                calendar, self.target.unit, self.started_at, max(now, self.started_at)
            )
        return self._with(state=state, as_of=now, elapsed=elapsed)

    def _with(self, **changes: Any) -> Timer:
        # attrs.evolve without its per-call introspection: a report ages every
        # timer of the view, millions of them.
        values = {name: getattr(self, name) for name in _TIMER_FIELDS}
        values.update(changes)
        return Timer(**values)

    @property
    def next_warning(self) -> dt.datetime | None:
        """The first warning instant, for the worklist (``None`` when there is none)."""
        return self.warnings[0] if self.warnings else None

    def to_dict(self) -> dict[str, Any]:
        """Plain data, ready for JSON."""
        record = dict(zip(RECORD_FIELDS[:-2], self.to_values(), strict=False))
        # Obligations only: contact timers keep their stored form.
        if self.site is not None:
            record["site"] = self.site
        if self.period is not None:
            record["period"] = self.period
        return record

    def to_values(self) -> list[Any]:
        """The values of :meth:`to_dict`, in the order of :data:`RECORD_FIELDS`.

        The view stores a timer as this list (without making the dict).
        """

        def iso(value: dt.date | dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        values = [
            self.contact_id,
            self.engagement_id,
            self.cycle,
            self.kind,
            self.state.value,
            iso(self.as_of),
            iso(self.started_at),
            iso(self.stopped_at),
            None if self.target is None else str(self.target),
            iso(self.due_date),
            iso(self.expires_at),
            [w.isoformat() for w in self.warnings],
            [
                {
                    "started_at": p.started_at.isoformat(),
                    "ended_at": iso(p.ended_at),
                    "effective": p.effective,
                }
                for p in self.pauses
            ],
            self.elapsed,
            self.reason,
            self.measured,
            self.calendar,
            self.calendar_version,
            self.calendar_key,
            self.catalogue,
            self.catalogue_version,
            self.channel,
            self.category,
            self.priority,
            self.service,
        ]
        if self.site is not None or self.period is not None:  # an obligation's
            values += [self.site, self.period]
        return values


#: The fields of a stored timer, in the order the view's JSON array lists them
#: (:meth:`Timer.to_dict`'s keys; an obligation's ``site`` and ``period`` last).
RECORD_FIELDS = (
    "contact_id", "engagement_id", "cycle", "kind", "state", "as_of", "started_at",
    "stopped_at", "target", "due_date", "expires_at", "warnings", "pauses", "elapsed",
    "reason", "measured", "calendar", "calendar_version", "calendar_key", "catalogue",
    "catalogue_version", "channel", "category", "priority", "service", "site", "period",
)  # fmt: skip
_TIMER_FIELDS = tuple(field.name for field in attrs.fields(Timer))


@functools.lru_cache(maxsize=256)
def _delay(text: str) -> Delay:
    return Delay.parse(text)


def _date(value: str | None) -> dt.date | None:

    return None if value is None else dt.date.fromisoformat(value)


def _instant(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value)


def timer_from_dict(data: dict[str, Any]) -> Timer:
    """The inverse of :meth:`Timer.to_dict`."""
    return Timer(
        contact_id=data["contact_id"],
        engagement_id=data["engagement_id"],
        cycle=data["cycle"],
        kind=data["kind"],
        state=TimerState(data["state"]),
        as_of=dt.datetime.fromisoformat(data["as_of"]),
        started_at=_instant(data["started_at"]),
        stopped_at=_instant(data["stopped_at"]),
        target=None if data["target"] is None else _delay(data["target"]),
        due_date=_date(data["due_date"]),
        expires_at=_instant(data["expires_at"]),
        warnings=tuple(dt.datetime.fromisoformat(w) for w in data["warnings"]),
        pauses=tuple(
            Pause(
                dt.datetime.fromisoformat(p["started_at"]),
                _instant(p["ended_at"]),
                p["effective"],
            )
            for p in data["pauses"]
        ),
        elapsed=data["elapsed"],
        reason=data["reason"],
        measured=data["measured"],
        calendar=data["calendar"],
        calendar_version=data["calendar_version"],
        calendar_key=data["calendar_key"],
        catalogue=data["catalogue"],
        catalogue_version=data["catalogue_version"],
        channel=data["channel"],
        category=data["category"],
        priority=data["priority"],
        service=data["service"],
        site=data.get("site"),
        period=data.get("period"),
    )


CalendarResolver = Callable[[str | None], Calendar]


@attrs.frozen
class _Classification:
    channel: str | None
    category: str | None
    priority: str | None
    service: str | None


def classification(events: Sequence[ContactEvent]) -> _Classification:
    """The contact's classification: its ``received`` event, as later reclassified."""
    fields: dict[str, str | None] = {
        "channel": None,
        "category": None,
        "priority": None,
        "service": None,
    }
    for e in events:
        if e.type in (EventType.RECEIVED, EventType.RECLASSIFIED):
            for name in fields:
                value = getattr(e, name)
                if value is not None:
                    fields[name] = value
    if fields["priority"] is None:
        fields["priority"] = "normal"
    return _Classification(**fields)


def evaluate_contact(
    events: Sequence[ContactEvent],
    catalogue: Catalogue,
    calendars: CalendarResolver,
    as_of: dt.datetime | None = None,
    *,
    deadlines: _Deadlines | None = None,
) -> list[Timer]:
    """Every timer of one contact, as of ``as_of`` (events after it are ignored).

    ``events`` must be one contact's, sorted by ``occurred_at`` (as the
    :class:`~sla_engine._contact.Contact` aggregate keeps them).  Without
    ``as_of``, every event counts and open timers are left ``running`` or
    ``paused``: :meth:`Timer.at` then says how they stand at a given instant
    (this is what the live view stores).  ``deadlines``: where to keep the
    deadlines of timers without pauses, by engagement, delay and start day,
    for the next contacts evaluated under the same catalogue and calendars.
    """
    if as_of is not None:
        as_of = require_aware(as_of, "as_of")
    known = list(events) if as_of is None else [e for e in events if e.occurred_at <= as_of]

    if not known or known[0].type is not EventType.RECEIVED:
        return []
    cls = classification(known)
    timers: list[Timer] = []
    for engagement in catalogue.matching(
        channel=cls.channel, category=cls.category, priority=cls.priority, service=cls.service
    ):
        if engagement.kind is EngagementKind.RESPONSE:
            for timer in _response_timers(known, engagement, catalogue, calendars, cls, deadlines):
                if as_of is not None:
                    timer = timer.at(as_of, calendars(timer.calendar_key))
                timers.append(timer)
        elif engagement.kind is EngagementKind.MEASURE:
            timers.extend(_measure_timers(known, engagement, catalogue, cls))
    return timers


def _common(
    events: Sequence[ContactEvent],
    engagement: Engagement,
    catalogue: Catalogue,
    cls: _Classification,
) -> dict[str, Any]:
    return {
        "contact_id": events[0].contact_id,
        "as_of": events[-1].occurred_at,
        **_engagement_fields(engagement, catalogue, cls),
    }


def _engagement_fields(
    engagement: Engagement, catalogue: Catalogue, cls: _Classification
) -> dict[str, Any]:
    """What every timer of an engagement for contacts of one classification shares."""
    return {
        "engagement_id": engagement.id,
        "kind": engagement.kind.value,
        "catalogue": catalogue.id,
        "catalogue_version": f"{catalogue.version} ({catalogue.fingerprint})",
        "channel": cls.channel,
        "category": cls.category,
        "priority": cls.priority,
        "service": cls.service,
    }


def _cycles(events: Sequence[ContactEvent]) -> list[list[ContactEvent]]:
    cycles: list[list[ContactEvent]] = [[]]
    for e in events:
        if e.type is EventType.REOPENED:
            cycles.append([])
        cycles[-1].append(e)
    return cycles


def _response_timers(
    events: Sequence[ContactEvent],
    engagement: Engagement,
    catalogue: Catalogue,
    calendars: CalendarResolver,
    cls: _Classification,
    deadlines: _Deadlines | None = None,
) -> list[Timer]:
    key = engagement.calendar or catalogue.calendar
    cal = calendars(key)
    common = _common(events, engagement, catalogue, cls)
    common.update(calendar=cal.spec, calendar_version=cal.data_version, calendar_key=key)
    start_type = engagement.start or EventType.RECEIVED
    timers = []
    for number, cycle in enumerate(_cycles(events)):
        if number and start_type is EventType.RECEIVED:
            start = cycle[0]  # the reopening starts the new cycle
        else:
            start = next((e for e in cycle if e.type is start_type), None)  # type: ignore[assignment]
            if start is None:
                continue
        after = cycle[cycle.index(start) + 1 :]
        stop = next((e for e in after if e.type in engagement.stop), None)
        running = after if stop is None else after[: after.index(stop)]
        timers.append(
            _response_timer(
                start, stop, running, engagement, cal, common | {"cycle": number}, deadlines
            )
        )
    return timers


def _target(
    engagement: Engagement, running: Sequence[ContactEvent], start: ContactEvent | None = None
) -> tuple[Delay | None, str | None]:
    """The delay that applies, and the reason for an exemption or a missing delay.

    The delay announced may come with the start event itself (an engagement
    counted from the acknowledgement that announces it).
    """
    complex_flag = any(e.type is EventType.FLAGGED_COMPLEX for e in running)
    if complex_flag and engagement.complex_rule == "exempt":
        return None, "exempt_complex"
    if complex_flag and isinstance(engagement.complex_rule, Delay):
        return engagement.complex_rule, "complex_delay"
    if engagement.target_announced:
        told = running if start is None else (start, *running)
        announced = [e.announced_delay for e in told if e.announced_delay is not None]
        if not announced:
            return None, "no_announced_delay"
        return announced[-1], None
    return engagement.target, None


def _pauses(
    engagement: Engagement, running: Sequence[ContactEvent]
) -> list[tuple[dt.datetime, dt.datetime | None]]:
    if engagement.pause is None:
        return []
    resume = engagement.resume or EventType.RESUMED
    pauses: list[tuple[dt.datetime, dt.datetime | None]] = []
    for e in running:
        if e.type is engagement.pause and (not pauses or pauses[-1][1] is not None):
            pauses.append((e.occurred_at, None))
        elif e.type is resume and pauses and pauses[-1][1] is None:
            pauses[-1] = (pauses[-1][0], e.occurred_at)
    return pauses


def suspended_amount(
    cal: Calendar, delay: Delay, pauses: Sequence[tuple[dt.datetime, dt.datetime]]
) -> float:
    """What suspend-mode ``pauses`` add to ``delay``: in its unit for day counts and hours,
    in calendar days for the others (the deadline arithmetic's own count)."""
    clock = _Clock(cal, delay, None)
    return sum((clock._paused(paused, resumed) for paused, resumed in pauses), 0.0)


class _Clock:
    """Deadline arithmetic of one delay on one calendar, with pauses."""

    def __init__(self, cal: Calendar, delay: Delay, extend: bool | None) -> None:
        self.cal, self.delay, self.extend = cal, delay, extend
        self.tz = cal.tz

    def day(self, instant: dt.datetime) -> dt.date:
        return instant.astimezone(self.tz).date()

    def expiry(
        self,
        start: dt.datetime,
        amount: float,
        pauses: Sequence[tuple[dt.datetime, dt.datetime | None]],
    ) -> tuple[dt.date | None, dt.datetime | None, list[bool], bool]:
        """Due date and expiry of ``amount`` units after the pauses.

        Also says which pauses counted, and whether the timer is paused now.
        """
        base, extra = start, 0.0
        due, expires = self._due(base, amount, extra)
        effective: list[bool] = []
        for paused_at, resumed_at in pauses:
            if paused_at >= expires:
                effective.append(False)
                continue
            effective.append(True)
            if resumed_at is None:
                return None, None, effective, True
            if self.mode_restart:
                base, extra = resumed_at, 0.0
            else:
                extra += self._paused(paused_at, resumed_at)
            due, expires = self._due(base, amount, extra)
        return due, expires, effective, False

    mode_restart = False

    def _paused(self, paused_at: dt.datetime, resumed_at: dt.datetime) -> float:
        unit = self.delay.unit
        if unit.is_hours:
            return self.cal.hours_between(
                paused_at, resumed_at, business=unit is Unit.HEURES_OUVREES
            )
        if unit.is_day_count:
            return self.cal.count(self.day(paused_at), self.day(resumed_at), unit)
        return (self.day(resumed_at) - self.day(paused_at)).days

    def _due(self, base: dt.datetime, amount: float, extra: float) -> tuple[dt.date, dt.datetime]:
        unit = self.delay.unit
        if unit.is_hours:
            expires = self.cal.add_hours(base, amount + extra, business=unit is Unit.HEURES_OUVREES)
            return expires.date(), expires
        start_day = self.day(base)
        if unit.is_day_count:  # extend: jours ouvrables only (Unit.extendable)
            due = self.cal.add(start_day, math.ceil(amount) + int(extra), unit, extend=self.extend)
        else:
            raw = self.cal.add(start_day, math.ceil(amount), unit, extend=False)
            raw += dt.timedelta(days=int(extra))
            extend = unit.extended_by_default if self.extend is None else self.extend
            due = self.cal.roll_forward(raw) if extend else raw
        return due, first_instant_of(due + dt.timedelta(days=1), self.tz)


def _response_timer(
    start: ContactEvent,
    stop: ContactEvent | None,
    running: Sequence[ContactEvent],
    engagement: Engagement,
    cal: Calendar,
    common: dict[str, Any],
    deadlines: _Deadlines | None = None,
) -> Timer:
    started_at = start.occurred_at
    stopped_at = None if stop is None else stop.occurred_at
    target, reason = _target(engagement, running, start)
    if target is None:
        if reason == "exempt_complex":
            state = TimerState.EXEMPT
        else:
            # No delay announced: nothing to be on time for, which fails the engagement.
            state = TimerState.RUNNING if stop is None else TimerState.LATE
        return Timer(
            state=state, started_at=started_at, stopped_at=stopped_at, reason=reason, **common
        )
    pauses = _pauses(engagement, running)
    if stopped_at is not None and pauses and pauses[-1][1] is None:
        # Stopped while paused (answered while waiting for the user): the
        # pause ends with the stop.
        pauses[-1] = (pauses[-1][0], stopped_at)
    if deadlines is not None and not pauses and not target.unit.is_hours:
        start_day = started_at.astimezone(cal.tz).toordinal()
        found = _unpaused_deadline(deadlines, engagement, target, cal, started_at, start_day)
    else:
        found = _deadline(engagement, target, cal, started_at, pauses)
    due, expires, effective, paused_now, warnings = found
    pause_values = tuple(
        Pause(p, r, e) for (p, r), e in zip(pauses, effective + [False] * len(pauses), strict=False)
    )
    elapsed = None
    if stopped_at is not None:
        elapsed = _elapsed(cal, target.unit, started_at, stopped_at)
        state = TimerState.MET if expires is not None and stopped_at < expires else TimerState.LATE
    elif paused_now:
        state = TimerState.PAUSED
    else:
        state = TimerState.RUNNING
    return Timer(
        state=state,
        started_at=started_at,
        stopped_at=stopped_at,
        target=target,
        due_date=due,
        expires_at=expires,
        warnings=warnings,
        pauses=pause_values,
        elapsed=elapsed,
        reason=reason,
        **common,
    )


_Deadline = tuple[dt.date | None, dt.datetime | None, list[bool], bool, tuple[dt.datetime, ...]]
#: Deadlines without pauses, by engagement, delay applied and local start day.
_Deadlines = dict[tuple[str, Delay, int], _Deadline]


def _unpaused_deadline(
    deadlines: _Deadlines,
    engagement: Engagement,
    target: Delay,
    cal: Calendar,
    started_at: dt.datetime,
    start_day: int,
) -> _Deadline:
    """``_deadline`` without pauses of a day-counted delay, worked out once per start day.

    Without pauses such a deadline depends on the start only through its
    local day (``start_day``, an ordinal in ``cal``'s zone).
    """
    key = (engagement.id, target, start_day)
    found = deadlines.get(key)
    if found is None:
        found = deadlines[key] = _deadline(engagement, target, cal, started_at, ())
    return found


def _deadline(
    engagement: Engagement,
    target: Delay,
    cal: Calendar,
    started_at: dt.datetime,
    pauses: Sequence[tuple[dt.datetime, dt.datetime | None]],
) -> _Deadline:
    """Due date, expiry, effective pauses, whether paused now, and the warning instants.

    A warning is the instant ``fraction`` of the delay has run: in hours,
    exactly; in days, once ``ceil(fraction × n)`` whole days have run (the
    start of the next day).  Weeks and months are counted for this in
    calendar days (half of « 1 semaine » is after 4 days, not after a whole
    week).  A warning is an alert, not a deadline: CPC art. 642's extension
    to the next working day does not move it.  A warning at or after the
    expiry is none (half of « 1 jour ouvré »).  After a restart
    (``pause_mode = "restart"``) the warnings run again from the last
    resumption, as the delay does.
    """
    restart = engagement.pause_mode is PauseMode.RESTART
    clock = _Clock(cal, target, engagement.extend)
    clock.mode_restart = restart
    due, expires, effective, paused_now = clock.expiry(started_at, target.amount, pauses)
    if not engagement.warn_at or expires is None:
        return due, expires, effective, paused_now, ()
    warn_from, warn_pauses = started_at, pauses
    if restart:
        resumed = [r for (_, r), counted in zip(pauses, effective, strict=False) if counted]
        if resumed and resumed[-1] is not None:
            warn_from, warn_pauses = resumed[-1], ()
    unit, total = target.unit, float(target.amount)
    warn_clock = _Clock(cal, target, False)
    if unit in (Unit.SEMAINES, Unit.MOIS):
        start_day = clock.day(warn_from)
        raw = cal.add(start_day, math.ceil(target.amount), unit, extend=False)
        total = float((raw - start_day).days)
        warn_clock = _Clock(cal, Delay(int(total), Unit.JOURS_CALENDAIRES), False)
    warnings: list[dt.datetime] = []
    for fraction in engagement.warn_at:
        amount = fraction * total
        amount = amount if unit.is_hours else math.ceil(amount - 1e-9)
        if amount < total:
            _, warn_at, _, _ = warn_clock.expiry(warn_from, amount, warn_pauses)
            if warn_at is not None and warn_at < expires and warn_at not in warnings:
                warnings.append(warn_at)
    return due, expires, effective, paused_now, tuple(warnings)


#: The event types of a plain history after its ``received`` event.
PLAIN_TYPES = frozenset(
    {
        EventType.ACKNOWLEDGED,
        EventType.HOLDING_REPLY,
        EventType.ESCALATED,
        EventType.ANSWERED,
        EventType.CLOSED,
    }
)


_UNPLANNED: Any = object()


@attrs.frozen
class _Plan:
    """One engagement of a classification, with what its timers share."""

    engagement: Engagement
    calendar: Calendar | None = None  # response engagements only
    fields: dict[str, Any] = attrs.field(factory=dict)


class PlainEvaluator:
    """:func:`evaluate_contact` for plain histories, doing once what repeats between contacts.

    A plain history is one cycle: a ``received`` event first, then only
    :data:`PLAIN_TYPES` (no pause, reopening, reclassification or complex
    flag); it is what the columnar replay stores.  Without pauses a
    day-counted deadline depends on the start only through its local day,
    and the days elapsed only on the start and stop days: each is worked
    out once per day (or pair of days) and engagement, by the same
    functions :func:`evaluate_contact` uses.  A classification matched by
    an engagement this does not cover (an announced delay, a pause on one
    of these events, another start) is evaluated by
    :func:`evaluate_contact` itself.
    """

    def __init__(self, catalogue: Catalogue, calendars: CalendarResolver) -> None:
        self.catalogue = catalogue
        self.calendars = calendars
        self._plans: dict[tuple[str | None, ...], tuple[_Plan, ...] | None] = {}
        #: Its own timers' deadlines and evaluate_contact's, for the histories it hands on.
        self._deadlines: _Deadlines = {}
        self._elapsed: dict[tuple[str, int, int], int | float] = {}

    def evaluate(self, events: Sequence[ContactEvent]) -> list[Timer]:
        """The timers ``evaluate_contact(events, catalogue, calendars)`` gives, for any history."""
        first = events[0]
        plans = self.plans(
            (first.channel, first.category, first.priority or "normal", first.service)
        )
        if (
            plans is None
            or first.type is not EventType.RECEIVED
            or any(e.type not in PLAIN_TYPES for e in events[1:])
        ):
            return evaluate_contact(
                events, self.catalogue, self.calendars, deadlines=self._deadlines
            )
        timers: list[Timer] = []
        as_of = events[-1].occurred_at
        for plan in plans:
            engagement = plan.engagement
            if engagement.kind is EngagementKind.MEASURE:
                timers.extend(
                    _measure_timers(events, engagement, self.catalogue, classification(events))
                )
                continue
            cal = plan.calendar
            assert cal is not None  # noqa: S101 - planned so
            assert engagement.target is not None  # noqa: S101 - planned so
            started_at = first.occurred_at
            stop = next((e for e in events[1:] if e.type in engagement.stop), None)
            unit = engagement.target.unit
            if unit.is_hours:
                due, expires, _, _, warnings = _deadline(
                    engagement, engagement.target, cal, started_at, ()
                )
            else:
                start_day = started_at.astimezone(cal.tz).toordinal()
                due, expires, _, _, warnings = _unpaused_deadline(
                    self._deadlines, engagement, engagement.target, cal, started_at, start_day
                )
            elapsed: int | float | None = None
            if stop is None:
                state, stopped_at = TimerState.RUNNING, None
            else:
                stopped_at = stop.occurred_at
                state = (
                    TimerState.MET
                    if expires is not None and stopped_at < expires
                    else TimerState.LATE
                )
                if unit.is_hours:
                    elapsed = _elapsed(cal, unit, started_at, stopped_at)
                else:
                    stop_day = stopped_at.astimezone(cal.tz).toordinal()
                    elapsed_key = (engagement.id, start_day, stop_day)
                    elapsed = self._elapsed.get(elapsed_key)
                    if elapsed is None:
                        elapsed = self._elapsed[elapsed_key] = _elapsed(
                            cal, unit, started_at, stopped_at
                        )
            timers.append(
                Timer(
                    contact_id=first.contact_id,
                    as_of=as_of,
                    state=state,
                    started_at=started_at,
                    stopped_at=stopped_at,
                    due_date=due,
                    expires_at=expires,
                    warnings=warnings,
                    elapsed=elapsed,
                    **plan.fields,
                )
            )
        return timers

    def plans(self, classification: tuple[str | None, ...]) -> tuple[_Plan, ...] | None:
        """The engagements of a classification, or ``None`` if one is not covered (memoised)."""
        plans = self._plans.get(classification, _UNPLANNED)
        if plans is _UNPLANNED:
            plans = self._plans[classification] = self._plan(*classification)
        return plans  # type: ignore[no-any-return]

    def _plan(
        self, channel: str | None, category: str | None, priority: str | None, service: str | None
    ) -> tuple[_Plan, ...] | None:
        catalogue = self.catalogue
        cls = _Classification(channel, category, priority, service)
        plans = []
        for engagement in catalogue.matching(
            channel=channel, category=category, priority=priority, service=service
        ):
            if engagement.kind is EngagementKind.MEASURE:
                plans.append(_Plan(engagement))
                continue
            if engagement.kind is not EngagementKind.RESPONSE:
                continue
            if (
                engagement.start not in (None, EventType.RECEIVED)
                or engagement.target_announced
                or engagement.target is None
                or engagement.pause in PLAIN_TYPES
            ):
                return None
            key = engagement.calendar or catalogue.calendar
            cal = self.calendars(key)
            fields = {
                **_engagement_fields(engagement, catalogue, cls),
                "calendar": cal.spec,
                "calendar_version": cal.data_version,
                "calendar_key": key,
                "cycle": 0,
                "target": engagement.target,
            }
            plans.append(_Plan(engagement, cal, fields))
        return tuple(plans)


def _elapsed(cal: Calendar, unit: Unit, start: dt.datetime, end: dt.datetime) -> int | float:
    if unit.is_hours:
        return round(cal.hours_between(start, end, business=unit is Unit.HEURES_OUVREES), 4)
    tz = cal.tz
    return cal.count(start.astimezone(tz).date(), end.astimezone(tz).date(), unit)


def _measure_timers(
    events: Sequence[ContactEvent],
    engagement: Engagement,
    catalogue: Catalogue,
    cls: _Classification,
) -> list[Timer]:
    common = _common(events, engagement, catalogue, cls)
    timers = []
    measured_events = [e for e in events if e.type is engagement.event]
    for number, e in enumerate(measured_events):
        raw = e.attributes.get(engagement.attribute or "")
        value = raw if isinstance(raw, int | float) and not isinstance(raw, bool) else None
        if value is None:
            state, reason = TimerState.EXEMPT, "not_measured"
        else:
            ok = (engagement.at_most is None or value <= engagement.at_most) and (
                engagement.at_least is None or value >= engagement.at_least
            )
            state, reason = (TimerState.MET if ok else TimerState.LATE), None
        timers.append(
            Timer(
                state=state,
                started_at=e.occurred_at,
                stopped_at=e.occurred_at,
                measured=None if value is None else float(value),
                reason=reason,
                cycle=number,
                **common,
            )
        )
    return timers
