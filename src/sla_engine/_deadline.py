"""Deadlines: when a request received at an instant must be answered by.

The rules (legal sources in ``docs/counting-rules.md``):

- the day of receipt does not count (CPC art. 641; EU regulation 1182/71
  art. 3): N days end on the N-th counted day strictly after it;
- a deadline expires at 24:00 local time of its due date (CPC art. 642):
  ``expires_at`` is the first instant of the next local day, and an answer is
  on time iff it happens strictly before ``expires_at``;
- calendar days, jours francs, weeks and months that would end on a day the
  service does not work are extended to its next working day (CPC art. 642)
  unless the caller says otherwise; jours ouvrables, which can end on a
  Saturday, only when the caller asks; jours ouvrés and jours scolaires end
  on a day the service works and are never moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs

from ._calendar import Calendar, calendar
from ._delay import Delay, Unit
from ._text import check_lang, format_day, format_instant
from ._time import first_instant_of, require_aware

__all__ = ["Deadline", "deadline"]


@attrs.frozen
class Deadline:
    """The due date and expiry instant of one delay, with how they were reached."""

    received_at: dt.datetime
    delay: Delay
    calendar: Calendar
    #: The local day of receipt, in the calendar's time zone.
    received_day: dt.date
    due_date: dt.date
    #: The first instant after the deadline: an answer is on time iff strictly before it.
    expires_at: dt.datetime
    #: Where the delay would have ended before CPC art. 642 extended it, if it did.
    unextended_due_date: dt.date | None = None

    def is_met_by(self, instant: dt.datetime) -> bool:
        """Whether an answer at ``instant`` is on time (strictly before ``expires_at``)."""
        return require_aware(instant, "instant") < self.expires_at

    def to_dict(self) -> dict[str, Any]:
        """Plain data, ready for JSON."""
        return {
            "received_at": self.received_at.isoformat(),
            "delay": self.delay.label("fr"),
            "amount": self.delay.amount,
            "unit": self.delay.unit.value,
            "calendar": self.calendar.spec,
            "time_zone": self.calendar.time_zone_name,
            "received_day": self.received_day.isoformat(),
            "due_date": self.due_date.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "unextended_due_date": (
                None if self.unextended_due_date is None else self.unextended_due_date.isoformat()
            ),
            "calendar_data_version": self.calendar.data_version,
        }

    def explain(self, lang: str = "fr", *, start: str | None = None, moved: bool = False) -> str:
        """The computation in words a public servant can check, in French or English.

        ``start`` names the moment the delay runs from when it is not the
        receipt (« la reprise », « the resumption »); ``moved``: pauses move
        the due date further, so no « on time before » sentence is given for
        this one.
        """
        check_lang(lang)
        return "\n".join(_explain(self, lang, start, moved))


def deadline(
    received_at: dt.datetime,
    delay: Delay | str,
    calendar_or_spec: Calendar | str,
    *,
    extend: bool | None = None,
) -> Deadline:
    """The deadline of ``delay`` for a request received at ``received_at``.

    ``received_at`` must be aware (naive datetimes are refused: a deadline
    depends on the local day).  ``extend`` overrides the CPC art. 642
    extension: ``False`` turns it off for calendar-day, jours francs, week
    and month delays; ``True`` turns it on for jours ouvrables too.  It
    changes nothing for jours ouvrés and jours scolaires (see
    :meth:`Calendar.add <sla_engine.Calendar.add>`).
    """
    received_at = require_aware(received_at, "received_at")
    parsed = Delay.parse(delay)
    cal = calendar(calendar_or_spec) if isinstance(calendar_or_spec, str) else calendar_or_spec
    tz = cal.tz
    local = received_at.astimezone(tz)
    unit = parsed.unit
    if unit.is_hours:
        expires_at = cal.add_hours(received_at, parsed.amount, business=unit is Unit.HEURES_OUVREES)
        return Deadline(received_at, parsed, cal, local.date(), expires_at.date(), expires_at)
    due = cal.add(local.date(), parsed.amount, unit, extend=extend)
    unextended = None
    extended = unit.extended_by_default if extend is None else extend
    if extended and unit.extendable:
        raw = cal.add(local.date(), parsed.amount, unit, extend=False)
        unextended = raw if raw != due else None
    expires_at = first_instant_of(due + dt.timedelta(days=1), tz)
    return Deadline(received_at, parsed, cal, local.date(), due, expires_at, unextended)


# -- explanations ---------------------------------------------------------------

_T = {
    "fr": {
        "delay": "Délai : {delay}, calendrier {spec} ({tz}).",
        "received": "Reçu le {at}.",
        "day_zero": "Le jour de la réception ne compte pas (Code de procédure civile, art. 641).",
        "one": "- {day} : jour {n}",
        "run": "- du {first} au {last} : jours {n1} à {n2}",
        "pair": "- du {first} au {last} : jours {n1} et {n2}",
        "skip": "- {day} : non compté ({why})",
        "skip_run": "- du {first} au {last} : non comptés ({why})",
        "calendaires": "Chaque jour compte : le {nth} jour après la réception est le {day}.",
        "francs": (
            "Jours francs : ni le jour de la réception ni celui de l'échéance ne comptent ; "
            "les {n} jours francs vont du {first} au {last}, le délai court jusqu'au {day}."
        ),
        "semaines": "{delay} après la réception, le même jour de la semaine : {day}.",
        "mois": (
            "Le délai expire le jour du dernier mois qui porte le même quantième que le jour "
            "de la réception, ou le dernier jour de ce mois s'il n'en a pas "
            "(Code de procédure civile, art. 641) : {day}."
        ),
        "extended": (
            "Le délai expirerait ce jour-là ({why}) : un samedi, un dimanche, un jour férié "
            "ou chômé, il est prorogé au premier jour ouvré suivant (Code de procédure "
            "civile, art. 642), le {day}."
        ),
        "not_extended": "Le délai n'est pas prorogé s'il expire un jour non ouvré.",
        "hours": "{delay} de temps écoulé après la réception.",
        "business_hours": "{delay} selon les horaires d'ouverture : {hours}.",
        "clock_change": (
            "Le {day}, le changement d'heure {way} l'horloge d'une heure : le délai compte "
            "le temps réellement écoulé."
        ),
        "forward": "avance",
        "back": "recule",
        "due": (
            "Échéance : {due}, à 24 h. Le délai expire le {expires} ; une réponse est dans les "
            "délais si elle intervient avant cet instant."
        ),
        "due_hours": (
            "Échéance : {expires}. Une réponse est dans les délais si elle intervient avant "
            "cet instant."
        ),
    },
    "en": {
        "delay": "Delay: {delay}, calendar {spec} ({tz}).",
        "received": "Received on {at}.",
        "day_zero": "The day of receipt does not count (French Code of Civil Procedure, art. 641).",
        "one": "- {day}: day {n}",
        "run": "- {first} to {last}: days {n1} to {n2}",
        "pair": "- {first} to {last}: days {n1} and {n2}",
        "skip": "- {day}: not counted ({why})",
        "skip_run": "- {first} to {last}: not counted ({why})",
        "calendaires": "Every day counts: day {nth} after receipt is {day}.",
        "francs": (
            "Clear days: neither the day of receipt nor the expiry day counts; the {n} clear "
            "days run from {first} to {last}, and the delay runs until {day}."
        ),
        "semaines": "{delay} after receipt, on the same weekday: {day}.",
        "mois": (
            "The delay ends on the day of the last month with the same day-number as the day "
            "of receipt, or on that month's last day if it has none (French Code of Civil "
            "Procedure, art. 641): {day}."
        ),
        "extended": (
            "The delay would end that day ({why}): a Saturday, a Sunday, a public holiday or "
            "a day the service is closed, it is extended to the next business day (French Code "
            "of Civil Procedure, art. 642), {day}."
        ),
        "not_extended": "The delay is not extended when it ends on a non-working day.",
        "hours": "{delay} of elapsed time after receipt.",
        "business_hours": "{delay} within the opening hours: {hours}.",
        "clock_change": (
            "On {day}, the clock change moves the clock {way} by one hour: the delay counts "
            "the time that really elapses."
        ),
        "forward": "forward",
        "back": "back",
        "due": (
            "Due date: {due}, by the end of that day (24:00). The delay expires on {expires}; "
            "an answer is on time if it happens before that instant."
        ),
        "due_hours": "Due: {expires}. An answer is on time if it happens before that instant.",
    },
}


#: The sentences that name the receipt, for a delay running from another moment.
_FROM = {
    "fr": {
        "received": "Le délai court à partir de {start}, le {at}.",
        "day_zero": "Ce jour-là ne compte pas (Code de procédure civile, art. 641).",
        "calendaires": "Chaque jour compte : le {nth} jour après ce jour-là est le {day}.",
        "francs": (
            "Jours francs : ni le jour de départ ni celui de l'échéance ne comptent ; "
            "les {n} jours francs vont du {first} au {last}, le délai court jusqu'au {day}."
        ),
        "semaines": "{delay} après ce jour-là, le même jour de la semaine : {day}.",
        "mois": (
            "Le délai expire le jour du dernier mois qui porte le même quantième que le jour "
            "de départ, ou le dernier jour de ce mois s'il n'en a pas "
            "(Code de procédure civile, art. 641) : {day}."
        ),
        "hours": "{delay} de temps écoulé après ce moment.",
    },
    "en": {
        "received": "The delay runs from {start}, on {at}.",
        "day_zero": "That day does not count (French Code of Civil Procedure, art. 641).",
        "calendaires": "Every day counts: day {nth} after that day is {day}.",
        "francs": (
            "Clear days: neither the starting day nor the expiry day counts; the {n} clear "
            "days run from {first} to {last}, and the delay runs until {day}."
        ),
        "semaines": "{delay} after that day, on the same weekday: {day}.",
        "mois": (
            "The delay ends on the day of the last month with the same day-number as the "
            "starting day, or on that month's last day if it has none (French Code of Civil "
            "Procedure, art. 641): {day}."
        ),
        "hours": "{delay} of elapsed time after that moment.",
    },
}
_MOVED = {
    "fr": "Sans suspension, l'échéance serait le {due}.",
    "en": "Without the suspensions, the due date would be {due}.",
}


def _explain(d: Deadline, lang: str, start: str | None = None, moved: bool = False) -> list[str]:
    t = _T[lang] if start is None else _T[lang] | _FROM[lang]
    cal, unit = d.calendar, d.delay.unit
    tz = cal.tz
    lines = [
        t["delay"].format(delay=d.delay.label(lang), spec=cal.spec, tz=cal.time_zone_name),
        t["received"].format(at=format_instant(d.received_at.astimezone(tz), lang), start=start),
    ]
    expires = format_instant(d.expires_at, lang)
    delay = d.delay.label(lang)
    if unit.is_hours:
        if unit is Unit.HEURES:
            lines.append(t["hours"].format(delay=delay))
        else:
            hours = cal.opening_hours
            label = "" if hours is None else hours.label(lang)
            lines.append(t["business_hours"].format(delay=delay, hours=label))
            lines.extend(_days_closed(d, lang))
        for changed, way in _clock_changes_counted(d):
            lines.append(t["clock_change"].format(day=format_day(changed, lang), way=t[way]))
        lines.append(
            _MOVED[lang].format(due=expires) if moved else t["due_hours"].format(expires=expires)
        )
        return lines
    lines.append(t["day_zero"])
    reached = d.unextended_due_date or d.due_date
    if unit in (Unit.JOURS_OUVRES, Unit.JOURS_OUVRABLES, Unit.JOURS_SCOLAIRES):
        lines.extend(_day_by_day(d, lang, reached))
    else:
        day = format_day(reached, lang)
        n = d.delay.amount
        if unit is Unit.JOURS_FRANCS:
            first = format_day(d.received_day + dt.timedelta(days=1), lang)
            last = format_day(d.received_day + dt.timedelta(days=n), lang)
            lines.append(t["francs"].format(n=n, first=first, last=last, day=day))
        elif unit is Unit.JOURS_CALENDAIRES:
            nth = ("1er" if n == 1 else f"{n}e") if lang == "fr" else str(n)
            lines.append(t["calendaires"].format(nth=nth, day=day))
        elif unit is Unit.SEMAINES:
            lines.append(t["semaines"].format(delay=delay, day=day))
        else:
            lines.append(t["mois"].format(day=day))
    if d.unextended_due_date is not None:
        why = ", ".join(cal.reasons_extended(d.unextended_due_date, lang))
        lines.append(t["extended"].format(why=why, day=format_day(d.due_date, lang)))
    elif unit.extendable and cal.reasons_extended(d.due_date, lang):
        lines.append(t["not_extended"])
    if moved:
        lines.append(_MOVED[lang].format(due=format_day(d.due_date, lang)))
    else:
        lines.append(t["due"].format(due=format_day(d.due_date, lang), expires=expires))
    return lines


def _clock_changes_counted(d: Deadline) -> list[tuple[dt.date, str]]:
    """The clock changes an hour delay runs across, where they change what the clock shows.

    Plain hours: every change between receipt and expiry.  Heures ouvrées:
    a change inside the opening hours of a day the service works (a change
    at night, service closed, changes nothing to count).
    """
    cal, tz = d.calendar, d.calendar.tz
    first = d.received_at.astimezone(tz).date().toordinal()
    last = d.expires_at.astimezone(tz).date().toordinal()
    found = []
    for ordinal, stretches in sorted(cal._clock_days().items()):  # found once per calendar
        if not first <= ordinal <= last:
            continue
        day = dt.date.fromordinal(ordinal)
        if d.delay.unit is Unit.HEURES_OUVREES:
            hours = cal.opening_hours
            if hours is None or not cal.is_counted(day, Unit.HEURES_OUVREES):
                continue
            if hours.seconds_in(day.weekday(), stretches) == hours.seconds_on(day.weekday()):
                continue
        if d.received_at <= stretches[-1].first <= d.expires_at:
            found.append((day, "forward" if stretches[-1].offset > stretches[0].offset else "back"))
    return found


def _days_closed(d: Deadline, lang: str) -> list[str]:
    """The days from receipt to expiry on which no open hour is counted, and why."""
    cal = d.calendar
    tz = cal.tz
    day, last = d.received_at.astimezone(tz).date(), d.expires_at.astimezone(tz).date()
    runs: list[tuple[tuple[str, ...], list[dt.date]]] = []
    while day <= last:
        reasons = cal.reasons_not_counted(day, Unit.HEURES_OUVREES, lang)
        if reasons:
            if runs and runs[-1][0] == reasons and runs[-1][1][-1] == day - dt.timedelta(days=1):
                runs[-1][1].append(day)
            else:
                runs.append((reasons, [day]))
        day += dt.timedelta(days=1)
    return [_skipped(days, ", ".join(reasons), lang) for reasons, days in runs]


def _skipped(days: Sequence[dt.date], why: str, lang: str) -> str:
    """The line of a run of days not counted, and why."""
    first, last = format_day(days[0], lang), format_day(days[-1], lang)
    if len(days) == 1:
        return _T[lang]["skip"].format(day=first, why=why)
    return _T[lang]["skip_run"].format(first=first, last=last, why=why)


def _day_by_day(d: Deadline, lang: str, until: dt.date) -> list[str]:
    """Runs of counted and skipped days from the day after receipt to ``until``, the
    delay's last counted day (the due date, unless art. 642 extended it)."""
    t = _T[lang]
    cal, unit = d.calendar, d.delay.unit
    runs: list[tuple[object, list[dt.date]]] = []
    day = d.received_day + dt.timedelta(days=1)
    while day <= until:
        reasons = cal.reasons_not_counted(day, unit, lang)
        # A school holiday covers its weekends and public holidays: one run.
        key: object = (
            "counted"
            if not reasons
            else (
                reasons[0] if unit is Unit.JOURS_SCOLAIRES and cal.school_days_off(day) else reasons
            )
        )
        if runs and runs[-1][0] == key:
            runs[-1][1].append(day)
        else:
            runs.append((key, [day]))
        day += dt.timedelta(days=1)
    lines: list[str] = []
    counted = 0
    for key, days in runs:
        first, last = format_day(days[0], lang), format_day(days[-1], lang)
        if key == "counted":
            if len(days) == 1:
                lines.append(t["one"].format(day=first, n=counted + 1))
            else:
                # Two days are « jours 1 et 2 », not « jours 1 à 2 ».
                form = "pair" if len(days) == 2 else "run"
                lines.append(
                    t[form].format(first=first, last=last, n1=counted + 1, n2=counted + len(days))
                )
            counted += len(days)
        else:
            why = key if isinstance(key, str) else ", ".join(key)  # type: ignore[arg-type]
            lines.append(_skipped(days, why, lang))
    return lines
