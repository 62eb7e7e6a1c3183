"""Explanations of timers, in French or English: the events, the days, the verdict."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from ._calendar import Calendar
from ._catalogue import Engagement, PauseMode
from ._contact import ContactEvent
from ._deadline import deadline
from ._delay import Delay, Unit
from ._text import check_lang, format_day, format_hours, format_instant
from ._timers import Timer, TimerState, suspended_amount
from ._vocabulary import EventType, label

__all__ = ["explain_timer"]

_EVENT_NAMES = {
    "fr": {
        "received": "reçu",
        "acknowledged": "accusé de réception",
        "holding_reply": "réponse d'attente",
        "answered": "répondu",
        "escalated": "escaladé",
        "suspended": "suspendu (en attente de l'usager)",
        "resumed": "repris",
        "reopened": "rouvert",
        "closed": "clos",
        "reclassified": "reclassé",
        "flagged_complex": "signalé comme situation complexe",
    },
    "en": {
        "received": "received",
        "acknowledged": "acknowledged",
        "holding_reply": "holding reply",
        "answered": "answered",
        "escalated": "escalated",
        "suspended": "suspended (waiting for the user)",
        "resumed": "resumed",
        "reopened": "reopened",
        "closed": "closed",
        "reclassified": "reclassified",
        "flagged_complex": "flagged as a complex case",
    },
}

_T = {
    "fr": {
        "engagement": "Engagement {id} : « {title} » ({source}).",
        "contact": "Contact {contact}, cycle {cycle} : canal {channel}, catégorie {category}, "
        "priorité {priority}.",
        "rules": "Catalogue {catalogue} version {version} ; calendrier {calendar} ({data}).",
        "events": "Événements :",
        "event": "- {at} : {what}",
        "delay_suspend": "Suspensions : {days} {unit} {added} au délai, qui reprend avec ce qui "
        "restait.",
        "delay_restart": "Le délai repart en entier à la dernière reprise, le {at}.",
        "delay_restart_end": "Le délai repart en entier à la fin de la dernière suspension, "
        "le {at}.",
        "suspend_moved": "Avec les suspensions, le délai expire le {expires}.",
        "suspend_moved_due": "Avec les suspensions, l'échéance est le {due}, à 24 h : le délai "
        "expire le {expires}.",
        "moved_extended": "Les suspensions portent l'échéance au {shifted}, {why} : elle est "
        "prorogée au premier jour ouvré suivant (Code de procédure civile, art. 642), le {due}.",
        "delay_suspend_hours": "Suspensions : le délai est allongé de {duration} ({counted}) et "
        "reprend avec ce qui restait.",
        "pause": "- suspension du {start} au {end} : {n} {unit}",
        "pause_hours": "- suspension du {start} au {end} : {duration}",
        "hours_counted": "temps écoulé",
        "business_hours_counted": "heures ouvrées",
        "lengthened": "Le délai ainsi allongé se compte depuis le départ ; les jours suspendus "
        "y sont comptés à la place des jours ajoutés.",
        "complex_delay": "Situation complexe signalée : le délai est de {delay} au lieu de "
        "{usual}.",
        "announced": "Délai annoncé à l'usager : {delay}.",
        "ignored_pause": "- la suspension du {at} commence après l'expiration : "
        "elle ne change rien.",
        "unpaused": "La suspension du {start} au {end} n'arrête pas le compte de cet "
        "engagement : {why} ; le délai court sans interruption.",
        "unpaused_open": "La suspension commencée le {start} n'arrête pas le compte de cet "
        "engagement : {why} ; le délai court sans interruption.",
        "no_pause_rule": "le catalogue ne lui donne pas de règle de pause",
        "other_pause_rule": "le catalogue ne le suspend que sur l'événement « {event} »",
        "met": "Verdict : arrêté le {stop}, avant l'expiration : engagement tenu.",
        "late": "Verdict : arrêté le {stop}, à l'expiration ou après ({expires}) : engagement "
        "non tenu.",
        "overdue": "Verdict : toujours en cours au {now}, délai expiré le {expires} : engagement "
        "non tenu.",
        "closed_overdue": "Verdict : clos le {closed} sans {awaited} : la clôture n'arrête pas "
        "ce délai, expiré le {expires} et toujours compté au {now} : engagement non tenu.",
        "closed_open": "Clos le {closed} sans {awaited} : la clôture n'arrête pas ce délai, "
        "qui reste compté.",
        "closed_paused": "Clos le {closed} sans {awaited} : la clôture n'arrête pas ce délai, "
        "qui reste suspendu.",
        "nor": " ni ",
        "running": "Situation au {now} : en cours, le délai expire le {expires}.",
        "at_risk": "Situation au {now} : en cours et en alerte (seuil franchi le {warn}) ; "
        "le délai "
        "expire le {expires}.",
        "paused": "Situation au {now} : en pause depuis le {since}, en attente de l'usager.",
        "exempt_complex": "Verdict : exempté, la demande a été signalée comme situation complexe.",
        "not_measured": "Verdict : non mesuré ({attribute} absent).",
        "no_announced": "Aucun délai n'a été annoncé à l'usager : l'engagement de tenir le délai "
        "annoncé ne peut pas être tenu.",
        "measure": "Mesure : {attribute} = {value} (attendu : {bound}) : engagement {verdict}.",
        "kept": "tenu",
        "not_kept": "non tenu",
        "at_most": "au plus {v}",
        "at_least": "au moins {v}",
    },
    "en": {
        "engagement": "Engagement {id}: “{title}” ({source}).",
        "contact": "Contact {contact}, cycle {cycle}: channel {channel}, category {category}, "
        "priority {priority}.",
        "rules": "Catalogue {catalogue} version {version}; calendar {calendar} ({data}).",
        "events": "Events:",
        "event": "- {at}: {what}",
        "delay_suspend": "Suspensions: {days} {unit} added to the delay, which resumes with what "
        "was left.",
        "delay_restart": "The whole delay runs again from the last resumption, on {at}.",
        "delay_restart_end": "The whole delay runs again from the end of the last suspension, "
        "on {at}.",
        "suspend_moved": "With the suspensions, the delay expires on {expires}.",
        "suspend_moved_due": "With the suspensions, the due date is {due}, by the end of that "
        "day (24:00): the delay expires on {expires}.",
        "moved_extended": "The suspensions take the due date to {shifted}, {why}: it is "
        "extended to the next business day (French Code of Civil Procedure, art. 642), {due}.",
        "delay_suspend_hours": "Suspensions: the delay is lengthened by {duration} ({counted}) "
        "and resumes with what was left.",
        "pause": "- suspension from {start} to {end}: {n} {unit}",
        "pause_hours": "- suspension from {start} to {end}: {duration}",
        "hours_counted": "elapsed time",
        "business_hours_counted": "business hours",
        "lengthened": "The delay so lengthened is counted from the start; the suspended days "
        "are counted in it in place of the days added.",
        "complex_delay": "Flagged as a complex case: the delay is {delay} instead of {usual}.",
        "announced": "Delay announced to the user: {delay}.",
        "ignored_pause": "- the suspension of {at} starts after the expiry: it changes nothing.",
        "unpaused": "The suspension from {start} to {end} does not stop this engagement's "
        "count: {why}; the delay runs straight through it.",
        "unpaused_open": "The suspension that began on {start} does not stop this engagement's "
        "count: {why}; the delay runs straight through it.",
        "no_pause_rule": "the catalogue gives it no pause rule",
        "other_pause_rule": "the catalogue suspends it only on the event “{event}”",
        "met": "Verdict: stopped on {stop}, before the expiry: engagement kept.",
        "late": "Verdict: stopped on {stop}, at or after the expiry ({expires}): engagement not "
        "kept.",
        "overdue": "Verdict: still running on {now}, the delay expired on {expires}: engagement "
        "not kept.",
        "closed_overdue": "Verdict: closed on {closed} without {awaited}: the closure does not "
        "stop this delay, which expired on {expires} and is still counted on {now}: engagement "
        "not kept.",
        "closed_open": "Closed on {closed} without {awaited}: the closure does not stop this "
        "delay, which is still counted.",
        "closed_paused": "Closed on {closed} without {awaited}: the closure does not stop this "
        "delay, which stays paused.",
        "nor": " or ",
        "running": "Status on {now}: running, the delay expires on {expires}.",
        "at_risk": "Status on {now}: running and at risk (threshold crossed on {warn}); the delay "
        "expires on {expires}.",
        "paused": "Status on {now}: paused since {since}, waiting for the user.",
        "exempt_complex": "Verdict: exempt, the request was flagged as a complex case.",
        "not_measured": "Verdict: not measured ({attribute} missing).",
        "no_announced": "No delay was announced to the user: the engagement to keep the announced "
        "delay cannot be kept.",
        "measure": "Measure: {attribute} = {value} (expected: {bound}): engagement {verdict}.",
        "kept": "kept",
        "not_kept": "not kept",
        "at_most": "at most {v}",
        "at_least": "at least {v}",
    },
}


def explain_timer(
    timer: Timer,
    engagement: Engagement,
    history: Sequence[ContactEvent],
    cal: Calendar,
    lang: str = "fr",
) -> str:
    """The explanation of one timer, from its events and the rules that produced it."""
    check_lang(lang)
    t = _T[lang]
    tz = cal.tz

    def when(instant: dt.datetime | None) -> str:
        return "—" if instant is None else format_instant(instant.astimezone(tz), lang)

    lines = [
        t["engagement"].format(id=engagement.id, title=engagement.title, source=engagement.source),
        t["contact"].format(
            contact=timer.contact_id,
            cycle=timer.cycle,
            channel=label(timer.channel, lang),
            category=label(timer.category, lang),
            priority=label(timer.priority, lang),
        ),
        t["rules"].format(
            catalogue=timer.catalogue,
            version=timer.catalogue_version,
            calendar=timer.calendar or cal.spec,
            data=timer.calendar_version or cal.data_version,
        ),
        t["events"],
    ]
    lines += [
        t["event"].format(at=when(e.occurred_at), what=_EVENT_NAMES[lang][e.type.value])
        for e in history
        if e.occurred_at <= timer.as_of
    ]
    if engagement.kind.value == "measure":
        lines.append(_measure_verdict(timer, engagement, t))
        return "\n".join(lines)
    if timer.reason == "exempt_complex":
        lines.append(t["exempt_complex"])
        return "\n".join(lines)
    if timer.target is None:
        lines.append(t["no_announced"])
        return "\n".join(lines)
    start = timer.started_at or timer.as_of  # a response timer always has its start
    amount = timer.target.amount
    effective = [
        (p.started_at, p.ended_at) for p in timer.pauses if p.effective and p.ended_at is not None
    ]
    for p in timer.pauses:
        if not p.effective:
            lines.append(t["ignored_pause"].format(at=when(p.started_at)))
    cycle = _cycle_events(history, timer.cycle)
    lines += _unpaused_suspensions(timer, engagement, cycle, lang, when)
    start_label = _start_label(timer, history, lang)
    if effective and engagement.pause_mode is PauseMode.RESTART:
        start = effective[-1][1]
        resume = engagement.resume or EventType.RESUMED
        resumed = any(e.occurred_at == start and e.type is resume for e in history)
        lines.append(t["delay_restart" if resumed else "delay_restart_end"].format(at=when(start)))
        start_label = _STARTS[lang]["resumed" if resumed else "end_of_pause"]
    if timer.reason == "complex_delay" and engagement.target is not None:
        lines.append(
            t["complex_delay"].format(
                delay=timer.target.label(lang), usual=engagement.target.label(lang)
            )
        )
    elif engagement.target_announced:
        lines.append(t["announced"].format(delay=timer.target.label(lang)))
    moved = False
    extra = 0.0
    if effective and engagement.pause_mode is not PauseMode.RESTART:
        unit = timer.target.unit
        extra = suspended_amount(cal, timer.target, effective)
        if unit.is_day_count or unit in (Unit.JOURS_CALENDAIRES, Unit.JOURS_FRANCS):
            # n units and the days suspended make one delay of the same unit.
            amount += int(extra)
            shown: float = int(extra)
            counted_in = unit
        else:
            # Weeks and months move by the calendar days suspended; hours by
            # the hours: the delay as written, then where the pauses take it.
            moved = True
            shown = int(extra)  # whole calendar days; hours are shown as a duration
            counted_in = unit if unit.is_hours else Unit.JOURS_CALENDAIRES
        if counted_in.is_hours:
            # In hours and minutes (« 5 h 30 »), never decimal hours (« 5,5 »).
            business = counted_in is Unit.HEURES_OUVREES
            counted = t["business_hours_counted" if business else "hours_counted"]
            lines.append(
                t["delay_suspend_hours"].format(duration=format_hours(extra, lang), counted=counted)
            )
        else:
            # French makes the unit plural from 2; English, all but 1.
            many = shown >= 2 if lang == "fr" else shown != 1
            added = "added"
            if lang == "fr":
                added = "ajoutés" if many else "ajouté"
            lines.append(
                t["delay_suspend"].format(
                    days=str(shown), unit=counted_in.label(2 if many else 1, lang), added=added
                )
            )
        for paused_at, resumed_at in effective:  # each pause, and what it added
            own = suspended_amount(cal, timer.target, [(paused_at, resumed_at)])
            if counted_in.is_hours:
                lines.append(
                    t["pause_hours"].format(
                        start=when(paused_at),
                        end=when(resumed_at),
                        duration=format_hours(own, lang),
                    )
                )
                continue
            own_shown = int(own)
            own_many = own_shown >= 2 if lang == "fr" else own_shown != 1
            lines.append(
                t["pause"].format(
                    start=when(paused_at),
                    end=when(resumed_at),
                    n=str(own_shown),
                    unit=counted_in.label(2 if own_many else 1, lang),
                )
            )
        if not moved:
            lines.append(t["lengthened"])
    if timer.state is not TimerState.PAUSED:
        computed = deadline(start, Delay(amount, timer.target.unit), cal, extend=engagement.extend)
        lines.append(computed.explain(lang, start=start_label, moved=moved))
        if moved:
            unit = timer.target.unit
            if not unit.is_hours and timer.due_date is not None:
                raw = computed.unextended_due_date or computed.due_date
                shifted = raw + dt.timedelta(days=int(extra))
                if shifted != timer.due_date:
                    lines.append(
                        t["moved_extended"].format(
                            shifted=format_day(shifted, lang),
                            why=", ".join(cal.reasons_extended(shifted, lang)),
                            due=format_day(timer.due_date, lang),
                        )
                    )
            if unit.is_hours or timer.due_date is None:
                lines.append(t["suspend_moved"].format(expires=when(timer.expires_at)))
            else:  # the day the delay ends, not only the instant after it
                lines.append(
                    t["suspend_moved_due"].format(
                        due=format_day(timer.due_date, lang), expires=when(timer.expires_at)
                    )
                )
    closed = _closed_unstopped(timer, cycle)
    if closed is not None:
        awaited = t["nor"].join(_AWAITED[lang].get(e.value, e.value) for e in engagement.stop)
        if timer.state is TimerState.OVERDUE:
            lines.append(
                t["closed_overdue"].format(
                    closed=when(closed),
                    awaited=awaited,
                    expires=when(timer.expires_at),
                    now=when(timer.as_of),
                )
            )
            return "\n".join(lines)
        still = "closed_paused" if timer.state is TimerState.PAUSED else "closed_open"
        lines.append(t[still].format(closed=when(closed), awaited=awaited))
    lines.append(_verdict(timer, t, when))
    return "\n".join(lines)


#: What a timer waits for, by the events that stop it (« clos sans réponse »).
_AWAITED = {
    "fr": {
        "received": "réception",
        "acknowledged": "accusé de réception",
        "holding_reply": "réponse d'attente",
        "answered": "réponse",
        "escalated": "escalade",
        "suspended": "suspension",
        "resumed": "reprise",
        "reopened": "réouverture",
        "reclassified": "reclassification",
        "flagged_complex": "signalement de situation complexe",
    },
    "en": {
        "received": "a receipt",
        "acknowledged": "an acknowledgement",
        "holding_reply": "a holding reply",
        "answered": "an answer",
        "escalated": "an escalation",
        "suspended": "a suspension",
        "resumed": "a resumption",
        "reopened": "a reopening",
        "reclassified": "a reclassification",
        "flagged_complex": "a complex-case flag",
    },
}


def _cycle_events(history: Sequence[ContactEvent], cycle: int) -> list[ContactEvent]:
    """The events of one cycle of the contact (a reopening starts the next one, as for timers)."""
    number, found = 0, []
    for e in history:
        if e.type is EventType.REOPENED:
            number += 1
        if number == cycle:
            found.append(e)
        elif number > cycle:
            break
    return found


def _closed_unstopped(timer: Timer, cycle: Sequence[ContactEvent]) -> dt.datetime | None:
    """When the contact was closed while this timer ran on (no stop event came), if it was.

    A closure is not one of the timer's stop events: the delay keeps being
    counted, and the explanation says so rather than « still running ».
    """
    if timer.stopped_at is not None or timer.started_at is None:
        return None
    return next(
        (
            e.occurred_at
            for e in cycle
            if e.type is EventType.CLOSED and timer.started_at <= e.occurred_at <= timer.as_of
        ),
        None,
    )


def _unpaused_suspensions(
    timer: Timer,
    engagement: Engagement,
    cycle: Sequence[ContactEvent],
    lang: str,
    when: Callable[[dt.datetime | None], str],
) -> list[str]:
    """A line for each suspension listed that this engagement does not pause on.

    The events list every suspension of the contact; an engagement whose
    catalogue gives no pause rule (or pauses on another event) counts
    straight through it, and the explanation says so.
    """
    if engagement.pause is EventType.SUSPENDED or timer.started_at is None:
        return []
    end = timer.stopped_at or timer.as_of
    t = _T[lang]
    why = (
        t["no_pause_rule"]
        if engagement.pause is None
        else t["other_pause_rule"].format(event=_EVENT_NAMES[lang][engagement.pause.value])
    )
    lines = []
    for index, e in enumerate(cycle):
        if e.type is not EventType.SUSPENDED or not timer.started_at <= e.occurred_at <= end:
            continue
        if e.occurred_at == timer.stopped_at:
            continue  # the stop came first: the suspension is past the count
        resumed = next(
            (
                r.occurred_at
                for r in cycle[index + 1 :]
                if r.type is EventType.RESUMED and r.occurred_at <= timer.as_of
            ),
            None,
        )
        key = "unpaused" if resumed is not None else "unpaused_open"
        lines.append(t[key].format(start=when(e.occurred_at), end=when(resumed), why=why))
    return lines


#: What a delay runs from, when it is not the receipt (« Le délai court à partir de … »).
_STARTS = {
    "fr": {
        "acknowledged": "l'accusé de réception",
        "holding_reply": "la réponse d'attente",
        "answered": "la réponse",
        "escalated": "l'escalade",
        "suspended": "la suspension",
        "resumed": "la reprise",
        "reopened": "la réouverture",
        "closed": "la clôture",
        "reclassified": "la reclassification",
        "flagged_complex": "le signalement de situation complexe",
        "end_of_pause": "la fin de la suspension",
    },
    "en": {
        "acknowledged": "the acknowledgement",
        "holding_reply": "the holding reply",
        "answered": "the answer",
        "escalated": "the escalation",
        "suspended": "the suspension",
        "resumed": "the resumption",
        "reopened": "the reopening",
        "closed": "the closure",
        "reclassified": "the reclassification",
        "flagged_complex": "the complex-case flag",
        "end_of_pause": "the end of the suspension",
    },
}


def _start_label(timer: Timer, history: Sequence[ContactEvent], lang: str) -> str | None:
    """What the timer runs from, when it is not the receipt (``None``: the receipt)."""
    for e in history:
        if e.occurred_at == timer.started_at:
            return None if e.type is EventType.RECEIVED else _STARTS[lang].get(e.type.value)
    return None


def _verdict(timer: Timer, t: dict[str, str], fmt: Callable[[dt.datetime | None], str]) -> str:
    expires = fmt(timer.expires_at) if timer.expires_at is not None else "—"
    now = fmt(timer.as_of)
    if timer.state is TimerState.MET:
        return t["met"].format(stop=fmt(timer.stopped_at))
    if timer.state is TimerState.LATE:
        return t["late"].format(stop=fmt(timer.stopped_at), expires=expires)
    if timer.state is TimerState.OVERDUE:
        return t["overdue"].format(now=now, expires=expires)
    if timer.state is TimerState.AT_RISK:
        crossed = [w for w in timer.warnings if w <= timer.as_of]
        return t["at_risk"].format(now=now, warn=fmt(crossed[0]), expires=expires)
    if timer.state is TimerState.PAUSED:
        return t["paused"].format(now=now, since=fmt(timer.pauses[-1].started_at))
    return t["running"].format(now=now, expires=expires)


def _measure_verdict(timer: Timer, engagement: Engagement, t: dict[str, str]) -> str:
    if timer.measured is None:
        return t["not_measured"].format(attribute=engagement.attribute)
    bounds = []
    if engagement.at_most is not None:
        bounds.append(t["at_most"].format(v=_number(engagement.at_most)))
    if engagement.at_least is not None:
        bounds.append(t["at_least"].format(v=_number(engagement.at_least)))
    verdict = t["kept"] if timer.state is TimerState.MET else t["not_kept"]
    return t["measure"].format(
        attribute=engagement.attribute,
        value=_number(timer.measured),
        bound=", ".join(bounds),
        verdict=verdict,
    )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
