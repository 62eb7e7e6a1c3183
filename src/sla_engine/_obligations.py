"""Obligation timers: scheduled, recurring and availability engagements, per site and period.

Evaluation is a pure function of the site events, the catalogue, the
calendars and an instant, as for contacts (:func:`evaluate_obligations`):
the engine reads the site aggregates from its store and calls it for the
reports, the explanations and the as-of and what-if questions; nothing
derived is stored, so a changed catalogue or calendar re-derives every
figure from the same log.

Each instance is a :class:`~sla_engine._timers.Timer` with the same states
as a response timer:

- ``scheduled`` — one per (site, engagement, school year).  Events count
  from the ``opens`` day (default: the rentrée) to the end of the school
  year; the ``count``-th one stops the timer: ``met`` strictly before 24:00
  on the ``due`` day, else ``late``.  Without it the timer is ``running``,
  then ``overdue`` after the due day, then ``late`` (reason ``missed``)
  once the school year is over.
- ``recurring`` ``every = "week"`` — one per week (Monday to Sunday) of the
  school year holding at least one school day; ``met`` when the week holds
  ``count`` events, else ``late`` (``missed``) once the week is over.
  ``every = "school_year"`` — one per school year, due on its last day.
- ``availability`` — one per counted day (school days by default): the
  day's amplitude is the span from the first opening to the last closing
  of the line on that day (a line still open at midnight counts to
  midnight); ``met`` when it reaches the promise, else ``late`` (reason
  ``short_amplitude``), ``measured`` holding the hours.

An instance exists once its period has begun: a week still to come is not
counted as pending.  The school years evaluated are those holding at least
one site event (or those asked for).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from ._anchors import school_year_days, school_year_of, school_year_span
from ._calendar import Calendar
from ._catalogue import Catalogue, Engagement, EngagementKind
from ._delay import Unit
from ._obligation_rules import Every, Obligation, Per
from ._sites import SERVICE, SiteEvent, SiteEventType
from ._text import agreeing, check_lang, format_day, format_hours, format_instant
from ._time import first_instant_of
from ._timers import Timer, TimerState

__all__ = [
    "OBLIGATION_KINDS",
    "evaluate_obligations",
    "explain_obligation",
    "is_obligation",
    "obligation_target",
    "school_years_of",
]

#: The kinds of the engagements measured from site events, not contacts.
OBLIGATION_KINDS: Final = frozenset(
    k.value
    for k in (EngagementKind.SCHEDULED, EngagementKind.RECURRING, EngagementKind.AVAILABILITY)
)


def is_obligation(timer: Timer) -> bool:
    """Whether ``timer`` measures an obligation (a site's or the service's), not a contact."""
    return timer.kind in OBLIGATION_KINDS


CalendarResolver = Callable[[str | None], Calendar]
_DAY: Final = dt.timedelta(days=1)


def school_years_of(events: Iterable[SiteEvent], cal: Calendar) -> list[str]:
    """The school years of ``cal``'s zone holding one of ``events`` (by their local day), sorted."""
    tz, zone = cal.tz, cal.school_zone
    return sorted({school_year_of(e.occurred_at.astimezone(tz).date(), zone) for e in events})


def obligation_target(engagement: Engagement, lang: str = "fr", *, key: bool = False) -> str | None:
    """The target of an obligation as a short text for reports (``None`` for other kinds).

    ``key``: the JSON review's comparable form (:meth:`Obligation.describe`).
    """
    if engagement.obligation is None:
        return None
    return engagement.obligation.describe(lang, key=key)


def evaluate_obligations(
    events: Mapping[str, Sequence[SiteEvent]],
    sites: Sequence[str],
    catalogue: Catalogue,
    calendars: CalendarResolver,
    as_of: dt.datetime,
    *,
    school_years: Iterable[str] | None = None,
) -> list[Timer]:
    """Every obligation timer as of ``as_of``.

    ``events`` maps a subject (a site id, or :data:`~sla_engine._sites.SERVICE`)
    to its events; ``sites`` lists the registered sites (a ``per = "site"``
    obligation is owed by each, events or not).  ``school_years`` defaults
    to those holding at least one event.  Events after ``as_of`` are ignored.
    """
    engagements = [e for e in catalogue.engagements if e.obligation is not None]
    if not engagements:
        return []
    known = {
        subject: [e for e in sorted(evs, key=lambda e: e.occurred_at) if e.occurred_at <= as_of]
        for subject, evs in events.items()
    }
    timers: list[Timer] = []
    for engagement in engagements:
        key = engagement.calendar or catalogue.calendar
        cal = calendars(key)
        years = (
            sorted(set(school_years))
            if school_years is not None
            else school_years_of((e for evs in known.values() for e in evs), cal)
        )
        obligation = engagement.obligation
        assert obligation is not None  # noqa: S101 - filtered above
        subjects = list(sites) if obligation.per is Per.SITE else [SERVICE]
        common: dict[str, Any] = {
            "engagement_id": engagement.id,
            "kind": engagement.kind.value,
            "as_of": as_of,
            "calendar": cal.spec,
            "calendar_version": cal.data_version,
            "calendar_key": key,
            "catalogue": catalogue.id,
            "catalogue_version": f"{catalogue.version} ({catalogue.fingerprint})",
        }
        for subject in subjects:
            mine = known.get(subject, [])
            for year in years:
                instances = _instances(engagement, obligation, cal, year, mine, as_of)
                # Numbered within their school year (2025-2026's from 2025000): a
                # period keeps its number whichever years a question evaluates.
                first = int(year[:4]) * _CYCLES_PER_YEAR
                for number, fields in enumerate(instances, start=first):
                    timers.append(
                        Timer(
                            contact_id=subject,
                            site=None if subject == SERVICE else subject,
                            cycle=number,
                            **common,
                            **fields,
                        )
                    )
    return timers


#: More than the periods of a school year (at most 366 days).
_CYCLES_PER_YEAR = 1000


def _instances(
    engagement: Engagement,
    obligation: Obligation,
    cal: Calendar,
    year: str,
    events: Sequence[SiteEvent],
    as_of: dt.datetime,
) -> list[dict[str, Any]]:
    if engagement.kind is EngagementKind.SCHEDULED:
        found = _scheduled(obligation, cal, year, events, as_of)
        return [] if found is None else [found]
    if engagement.kind is EngagementKind.RECURRING:
        if obligation.every is Every.WEEK:
            return _weekly(obligation, cal, year, events, as_of)
        first, last = school_year_span(cal, year)
        found = _window(obligation, cal, events, as_of, first, last, last, last, year)
        return [] if found is None else [found]
    return _availability(obligation, cal, year, events, as_of)


def _matching(
    obligation: Obligation,
    events: Sequence[SiteEvent],
    tz: dt.tzinfo,
    first: dt.date,
    last: dt.date,
) -> list[SiteEvent]:
    return [
        e
        for e in events
        if e.type is obligation.event
        and (obligation.what is None or e.what in obligation.what)
        and first <= e.occurred_at.astimezone(tz).date() <= last
    ]


def _window(
    obligation: Obligation,
    cal: Calendar,
    events: Sequence[SiteEvent],
    as_of: dt.datetime,
    first: dt.date,
    due: dt.date,
    scope_end: dt.date,
    last_in_scope: dt.date,
    period: str,
) -> dict[str, Any] | None:
    """One instance: events count from ``first`` to ``scope_end``; on time until ``due``."""
    tz = cal.tz
    started_at = first_instant_of(first, tz)
    if started_at > as_of:
        return None
    expires_at = first_instant_of(due + _DAY, tz)
    found = _matching(obligation, events, tz, first, max(scope_end, last_in_scope))
    fields: dict[str, Any] = {
        "period": period,
        "started_at": started_at,
        "due_date": due,
        "expires_at": expires_at,
    }
    if len(found) >= obligation.count:
        stop = found[obligation.count - 1]
        met = stop.occurred_at < expires_at
        return fields | {
            "state": TimerState.MET if met else TimerState.LATE,
            "stopped_at": stop.occurred_at,
            "measured": float(obligation.count),
        }
    over = as_of >= first_instant_of(max(scope_end, due) + _DAY, tz)
    if over:
        state, reason = TimerState.LATE, "missed"
    elif as_of >= expires_at:
        state, reason = TimerState.OVERDUE, None
    else:
        state, reason = TimerState.RUNNING, None
    return fields | {"state": state, "reason": reason, "measured": float(len(found))}


def _scheduled(
    obligation: Obligation,
    cal: Calendar,
    year: str,
    events: Sequence[SiteEvent],
    as_of: dt.datetime,
) -> dict[str, Any] | None:
    rentree, year_end = school_year_span(cal, year)
    first = rentree if obligation.opens is None else obligation.opens.resolve(cal, year)[1]
    assert obligation.due is not None  # noqa: S101 - validated by the catalogue
    due = obligation.due.resolve(cal, year)[1]
    return _window(obligation, cal, events, as_of, first, due, year_end, due, year)


def _weekly(
    obligation: Obligation,
    cal: Calendar,
    year: str,
    events: Sequence[SiteEvent],
    as_of: dt.datetime,
) -> list[dict[str, Any]]:
    first, last = school_year_span(cal, year)
    found = []
    monday = first - dt.timedelta(days=first.weekday())
    while monday <= last:
        sunday = monday + dt.timedelta(days=6)
        days = (monday + dt.timedelta(days=i) for i in range(7))
        if any(first <= d <= last and cal.is_counted(d, Unit.JOURS_SCOLAIRES) for d in days):
            iso = monday.isocalendar()
            instance = _window(
                obligation,
                cal,
                events,
                as_of,
                monday,
                sunday,
                sunday,
                sunday,
                f"{iso.year}-W{iso.week:02d}",
            )
            if instance is not None:
                found.append(instance)
        monday += dt.timedelta(days=7)
    return found


def _availability(
    obligation: Obligation,
    cal: Calendar,
    year: str,
    events: Sequence[SiteEvent],
    as_of: dt.datetime,
) -> list[dict[str, Any]]:
    tz = cal.tz
    # School days lie between the rentrée and the year's end; working days
    # are owed all year, the summer's too.
    if obligation.days is Unit.JOURS_SCOLAIRES:
        first, last = school_year_span(cal, year)
    else:
        first, last = school_year_days(cal, year)
    promised = obligation.amplitude or 0.0
    # The line's opened/closed events, by the local day they happen on: a
    # day's amplitude is measured from that day's own events only.
    by_day: dict[dt.date, list[SiteEvent]] = defaultdict(list)
    for e in events:
        if e.what == obligation.line and e.type in (SiteEventType.OPENED, SiteEventType.CLOSED):
            by_day[e.occurred_at.astimezone(tz).date()].append(e)
    found = []
    day = first
    while day <= last:
        begins = first_instant_of(day, tz)
        if begins > as_of:
            break
        if cal.is_counted(day, obligation.days):
            ends = first_instant_of(day + _DAY, tz)
            span = _day_span(by_day.get(day, ()), min(ends, as_of))
            hours = 0.0 if span is None else round((span[1] - span[0]).total_seconds() / 3600, 4)
            fields: dict[str, Any] = {
                "period": day.isoformat(),
                "started_at": begins,
                "due_date": day,
                "expires_at": ends,
                "measured": hours,
            }
            if as_of < ends and hours < promised - 1e-9:
                found.append(fields | {"state": TimerState.RUNNING})
            elif span is not None and hours >= promised - 1e-9:
                found.append(fields | {"state": TimerState.MET, "stopped_at": span[1]})
            else:
                found.append(fields | {"state": TimerState.LATE, "reason": "short_amplitude"})
        day += _DAY
    return found


def _day_span(
    events: Sequence[SiteEvent], day_end: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    """From the day's first opening to its last closing (``None``: the line never opened).

    A line still open when the day ends (or at ``day_end``, the instant
    asked, if earlier) counts to then; it is not open the next day unless it
    is opened again then: a line left open by mistake does not make every
    later day met.  A closing with none before it since the last opening
    (« closed » twice) is the later closing: the last one counts.
    """
    ordered = sorted(events, key=lambda e: e.occurred_at)
    opened = next((e.occurred_at for e in ordered if e.type is SiteEventType.OPENED), None)
    if opened is None or opened >= day_end:
        return None
    is_open, last_closed = False, opened
    for e in ordered:
        if e.occurred_at < opened or e.occurred_at > day_end:
            continue
        if e.type is SiteEventType.OPENED:
            is_open = True
        else:
            is_open, last_closed = False, e.occurred_at
    return opened, (day_end if is_open else last_closed)


# -- explanations ---------------------------------------------------------------------

_EVENT_NOUN = {"fr": ("événement", "événements"), "en": ("event", "events")}

_EVENTS = {
    "fr": {
        "visited": "visite",
        "attended": "participation",
        "published": "publication",
        "held": "réunion tenue",
        "surveyed": "enquête",
        "opened": "ouverture",
        "closed": "fermeture",
    },
    "en": {
        "visited": "visit",
        "attended": "attendance",
        "published": "publication",
        "held": "meeting held",
        "surveyed": "survey",
        "opened": "opened",
        "closed": "closed",
    },
}

#: The same, for two or more.
_EVENTS_MANY = {
    "fr": {
        "visited": "visites",
        "attended": "participations",
        "published": "publications",
        "held": "réunions tenues",
        "surveyed": "enquêtes",
        "opened": "ouvertures",
        "closed": "fermetures",
    },
    "en": {
        "visited": "visits",
        "attended": "attendances",
        "published": "publications",
        "held": "meetings held",
        "surveyed": "surveys",
        "opened": "opened",
        "closed": "closed",
    },
}

_T = {
    "fr": {
        "engagement": "Engagement {id} : « {title} » ({source}).",
        "site": "Site {site}{name}, période {period}.",
        "service": "Le service, période {period}.",
        "rules": "Catalogue {catalogue} version {version} ; calendrier {calendar} ({data}).",
        "window": "Attendu : {need} du {first} au {due} inclus (échéance : {expr}, le {due}, "
        "expire à 24 h).",
        "week": "Attendu : {need} dans la semaine du {first} au {due}.",
        "year": "Attendu : {need} dans l'année scolaire, du {first} au {due}.",
        "anchor": "{what} : {day}.",
        "need": "{n} {event}",
        "events": "Événements pris en compte :",
        "none": "Aucun événement pris en compte.",
        "event": "- {at} : {what}",
        "met": "Verdict : {nth} événement le {stop}, avant l'expiration : engagement tenu.",
        "late": "Verdict : {nth} événement le {stop}, à l'expiration ou après : engagement "
        "non tenu.",
        "missed": "Verdict : période close le {end} avec {got} {events} sur {n} : "
        "engagement non tenu.",
        "overdue": "Verdict : au {now}, {got} {events} sur {n} et l'échéance est passée : "
        "engagement non tenu.",
        "running": "Situation au {now} : {got} {events} sur {n} ; l'échéance est le {due}.",
        "day": "Jour {day} : amplitude promise de {promised}, de la première ouverture à la "
        "dernière fermeture de « {line} ».",
        "amplitude_met": "Verdict : amplitude de {hours} : engagement tenu.",
        "amplitude_short": "Verdict : amplitude de {hours}, moins que {promised} : "
        "engagement non tenu.",
        "amplitude_running": "Situation au {now} : amplitude de {hours} jusqu'ici.",
    },
    "en": {
        "engagement": "Engagement {id}: “{title}” ({source}).",
        "site": "Site {site}{name}, period {period}.",
        "service": "The service, period {period}.",
        "rules": "Catalogue {catalogue} version {version}; calendar {calendar} ({data}).",
        "window": "Expected: {need} from {first} to {due} included (due: {expr}, on {due}, "
        "expiring at 24:00 that day).",
        "week": "Expected: {need} in the week from {first} to {due}.",
        "year": "Expected: {need} in the school year, from {first} to {due}.",
        "anchor": "{what}: {day}.",
        "need": "{n} {event}",
        "events": "Events counted:",
        "none": "No event counted.",
        "event": "- {at}: {what}",
        "met": "Verdict: event number {nth} on {stop}, before the expiry: engagement kept.",
        "late": "Verdict: event number {nth} on {stop}, at or after the expiry: engagement "
        "not kept.",
        "missed": "Verdict: period closed on {end} with {got} {events} out of {n}: "
        "engagement not kept.",
        "overdue": "Verdict: on {now}, {got} {events} out of {n} and the due day has passed: "
        "engagement not kept.",
        "running": "Status on {now}: {got} {events} out of {n}; due on {due}.",
        "day": "Day {day}: promised opening span of {promised}, from the first opening to the "
        "last closing of “{line}”.",
        "amplitude_met": "Verdict: opening span of {hours}: engagement kept.",
        "amplitude_short": "Verdict: opening span of {hours}, less than {promised}: "
        "engagement not kept.",
        "amplitude_running": "Status on {now}: opening span of {hours} so far.",
    },
}


def explain_obligation(
    timer: Timer,
    engagement: Engagement,
    events: Sequence[SiteEvent],
    cal: Calendar,
    lang: str = "fr",
    *,
    site_name: str | None = None,
) -> str:
    """Why an obligation timer stands where it does: the schedule, the events, the verdict."""
    check_lang(lang)
    t = _T[lang]
    tz = cal.tz
    obligation = engagement.obligation
    if obligation is None:
        raise ValueError(f"{engagement.id!r} is not an obligation")

    def day(value: dt.date | None) -> str:
        return "—" if value is None else format_day(value, lang)

    def when(value: dt.datetime | None) -> str:
        return "—" if value is None else format_instant(value.astimezone(tz), lang)

    lines = [
        t["engagement"].format(id=engagement.id, title=engagement.title, source=engagement.source)
    ]
    if timer.site is None:
        lines.append(t["service"].format(period=timer.period))
    else:
        name = "" if site_name is None else f" ({site_name})"
        lines.append(t["site"].format(site=timer.site, name=name, period=timer.period))
    lines.append(
        t["rules"].format(
            catalogue=timer.catalogue,
            version=timer.catalogue_version,
            calendar=timer.calendar or cal.spec,
            data=timer.calendar_version or cal.data_version,
        )
    )
    now = when(timer.as_of)
    first = None if timer.started_at is None else timer.started_at.astimezone(tz).date()
    if obligation.amplitude is not None:
        # Hours and minutes, never decimal hours (« 7,27 h » reads as 7 h 27).
        promised = format_hours(obligation.amplitude, lang)
        lines.append(
            t["day"].format(
                day=day(timer.due_date),
                promised=promised,
                line=obligation.shown(obligation.line or ""),
            )
        )
        shown = [
            e
            for e in events
            if e.what == obligation.line
            and e.occurred_at.astimezone(tz).date() == timer.due_date
            and e.occurred_at <= timer.as_of
        ]
        lines += _event_lines(shown, t, lang, when, obligation)
        hours = format_hours(timer.measured or 0, lang)
        key = {
            TimerState.MET: "amplitude_met",
            TimerState.LATE: "amplitude_short",
        }.get(timer.state, "amplitude_running")
        lines.append(t[key].format(hours=hours, promised=promised, now=now))
        return "\n".join(lines)
    names = _EVENTS_MANY if obligation.count >= 2 else _EVENTS
    event_name = names[lang][obligation.event.value if obligation.event else "visited"]
    what = (
        ""
        if obligation.what is None
        else f" ({', '.join(sorted(obligation.shown(w) for w in obligation.what))})"
    )
    need = t["need"].format(n=obligation.count, event=event_name + what)
    if engagement.kind is EngagementKind.SCHEDULED:
        year = timer.period or ""
        if obligation.due is not None:
            anchor_day = obligation.due.resolve(cal, year)[0]
            lines.append(
                t["anchor"].format(
                    what=_upper_first(obligation.due.anchor.describe(lang)), day=day(anchor_day)
                )
            )
        lines.append(
            t["window"].format(
                need=need,
                first=day(first),
                due=day(timer.due_date),
                # What the catalogue's day says, in words (« veille:Toussaint » is its syntax).
                expr=obligation.due if obligation.due is None else obligation.due.describe(lang),
            )
        )
    elif obligation.every is Every.WEEK:
        lines.append(t["week"].format(need=need, first=day(first), due=day(timer.due_date)))
    else:
        lines.append(t["year"].format(need=need, first=day(first), due=day(timer.due_date)))
    last_day = timer.due_date
    if engagement.kind is EngagementKind.SCHEDULED and timer.period:
        last_day = max(
            school_year_span(cal, timer.period)[1], timer.due_date or first or dt.date.min
        )
    shown = [
        e
        for e in events
        if e.type is obligation.event
        and (obligation.what is None or e.what in obligation.what)
        and first is not None
        and last_day is not None
        and first <= e.occurred_at.astimezone(tz).date() <= last_day
        and e.occurred_at <= timer.as_of
    ]
    lines += _event_lines(shown, t, lang, when, obligation)
    got = f"{timer.measured or 0:g}"
    # « 0 événement sur 1 », « 2 événements sur 3 ».
    noun = agreeing(timer.measured or 0, lang, *_EVENT_NOUN[lang])
    n = obligation.count
    nth = str(n) if lang == "en" else ("1er" if n == 1 else f"{n}e")
    if timer.state is TimerState.MET:
        lines.append(t["met"].format(nth=nth, stop=when(timer.stopped_at)))
    elif timer.state is TimerState.LATE and timer.reason == "missed":
        lines.append(t["missed"].format(end=day(last_day), got=got, n=n, events=noun))
    elif timer.state is TimerState.LATE:
        lines.append(t["late"].format(nth=nth, stop=when(timer.stopped_at)))
    elif timer.state is TimerState.OVERDUE:
        lines.append(t["overdue"].format(now=now, got=got, n=n, events=noun))
    else:
        lines.append(
            t["running"].format(now=now, got=got, n=n, events=noun, due=day(timer.due_date))
        )
    return "\n".join(lines)


def _upper_first(text: str) -> str:
    """``text`` with its first letter in upper case (``str.capitalize`` lowers the rest)."""
    return text[:1].upper() + text[1:]


def _event_lines(
    events: Sequence[SiteEvent],
    t: Mapping[str, str],
    lang: str,
    when: Callable[[dt.datetime | None], str],
    obligation: Obligation,
) -> list[str]:
    if not events:
        return [t["none"]]
    lines = [t["events"]]
    for e in events:
        said = "" if e.what is None else f" ({obligation.shown(e.what)})"
        what = _EVENTS[lang][e.type.value] + said
        lines.append(t["event"].format(at=when(e.occurred_at), what=what))
    return lines
