"""How a catalogue declares an obligation: scheduled, recurring, or availability.

The engagement kinds ``scheduled``, ``recurring`` and ``availability`` are
promises tied to the school year rather than to a request.  This module
holds their declared form (:class:`Obligation`) and reads it from a
catalogue's ``[[engagement]]`` table; :mod:`sla_engine._catalogue` calls
:func:`read_obligation` and reports its errors like every other one (file,
line, engagement, field).  The keys are documented in
``docs/reference/catalogue.md``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from ._anchors import AnchorError, AnchorKind, DayExpression, check_holiday_name
from ._calendar import calendar
from ._delay import Delay, Unit
from ._errors import CalendarSpecError, DataError, DelayError, SlaEngineError
from ._sites import SiteEventType, canonical_what, is_what_word
from ._text import format_hours

#: A catalogue's word that no site event could carry.
_NOT_A_WORD: Final = (
    "{key} {value!r} is not a word a site event's what can hold (letters, digits, spaces, "
    "' . -; at most 48): no event could ever match it"
)

__all__ = ["OBLIGATION_KEYS", "Every", "Obligation", "Per", "read_obligation"]


class Per(enum.StrEnum):
    """Who an obligation is owed by: each site of the register, or the service once."""

    SITE = "site"
    SERVICE = "service"


class Every(enum.StrEnum):
    """The period of a recurring obligation."""

    #: Each week (Monday to Sunday) with at least one school day.
    WEEK = "week"
    #: Each school year, from the rentrée to the last day before the summer holidays.
    SCHOOL_YEAR = "school_year"


_EVERY_NAMES: Final = {
    "week": Every.WEEK,
    "semaine": Every.WEEK,
    "school_year": Every.SCHOOL_YEAR,
    "school year": Every.SCHOOL_YEAR,
    "annee scolaire": Every.SCHOOL_YEAR,
    "année scolaire": Every.SCHOOL_YEAR,
}


@attrs.frozen
class Obligation:
    """The declared form of a scheduled, recurring or availability engagement."""

    per: Per
    #: The event that fulfils it (scheduled and recurring).
    event: SiteEventType | None = None
    #: Accepted ``what`` words of that event (canonical); ``None``: any.
    what: frozenset[str] | None = None
    #: Scheduled: the first day an event counts (default: the rentrée).
    opens: DayExpression | None = None
    #: Scheduled: the last day it is on time (it expires at 24:00 that day).
    due: DayExpression | None = None
    #: Recurring: the period.
    every: Every | None = None
    #: How many events the period or schedule needs.
    count: int = 1
    #: Availability: the line or desk (the ``what`` of its opened/closed events).
    line: str | None = None
    #: Availability: the promised daily amplitude, in hours.
    amplitude: float | None = None
    #: Availability: the days it is owed on.
    days: Unit = Unit.JOURS_SCOLAIRES
    #: The words of ``what`` and ``line`` as the catalogue writes them, by their
    #: canonical form (« téléphone » for « telephone »): what explanations show.
    spelled: tuple[tuple[str, str], ...] = ()

    def shown(self, word: str) -> str:
        """``word`` (canonical) as the catalogue spells it."""
        return dict(self.spelled).get(word, word)

    def describe(self, lang: str = "fr", *, key: bool = False) -> str:
        """The target as a short text, for reports: « rentrée + 10 jours calendaires ».

        ``key``: the form the JSON review's ``target`` keeps to compare
        reviews by, as every version wrote it (« 8.5 h par jour scolaire »);
        else the form for people (« 8 h 30 », never decimal hours).
        """
        fr = lang == "fr"
        if self.amplitude is not None:
            hours = f"{self.amplitude:g} h" if key else format_hours(self.amplitude, lang)
            per = "par" if fr else "per"
            return f"{hours} {per} {self.days.label(1, lang)}"
        times = "" if self.count == 1 else f"{self.count} × "
        if self.every is Every.WEEK:
            return f"{times}chaque semaine scolaire" if fr else f"{times}every school week"
        if self.every is Every.SCHOOL_YEAR:
            return f"{times}par année scolaire" if fr else f"{times}per school year"
        due = "?" if self.due is None else self.due.describe(lang)
        return f"{times}{'au plus tard' if fr else 'by'} {due}"


_KIND_KEYS: Final = {
    "scheduled": ("per", "event", "what", "opens", "due", "count", "calendar"),
    "recurring": ("per", "event", "what", "every", "count", "calendar"),
    "availability": ("per", "line", "amplitude", "days", "calendar"),
}
#: The keys each obligation kind accepts, besides the common ones.
OBLIGATION_KEYS: Final = _KIND_KEYS

Report = Callable[[str, str], None]


def read_obligation(
    kind: str, raw: Mapping[str, Any], calendar_spec: str | None, report: Report
) -> Obligation | None:
    """Read the obligation keys of ``raw``; each problem goes to ``report(key, message)``."""
    errors_before = [0]

    def fail(key: str, message: str) -> None:
        errors_before[0] += 1
        report(key, message)

    zone = None
    if calendar_spec is None:
        fail(
            "calendar",
            f"a {kind} engagement needs a calendar with a school zone: write "
            'calendar = "fr+B" (or the service\'s zone) here or in [catalogue]',
        )
    else:
        try:
            zone = calendar(calendar_spec).school_zone
        except (CalendarSpecError, ValueError):
            zone = None  # already reported where the calendar is read
        else:
            if zone is None:
                fail(
                    "calendar",
                    f"a {kind} engagement needs a calendar with a school zone, and "
                    f'{calendar_spec!r} has none: write calendar = "fr+B" (or the service\'s zone)',
                )
    per = _per(raw, fail)
    count = _count(raw, fail)
    if kind == "availability":
        line = _word(raw, "line", fail, required=True)
        amplitude = _amplitude(raw, fail)
        days = _days(raw, fail)
        if errors_before[0] or per is None or line is None or amplitude is None:
            return None
        return Obligation(per=per, line=line, amplitude=amplitude, days=days, spelled=_spelled(raw))
    event = _event(raw, fail)
    what = _what_set(raw, fail)
    if kind == "scheduled":
        opens = _day(raw, "opens", fail, zone, required=False)
        due = _day(raw, "due", fail, zone, required=True)
        if opens is not None and due is not None and calendar_spec is not None:
            _check_opens_before_due(opens, due, calendar_spec, fail)
        if errors_before[0] or per is None or event is None or due is None:
            return None
        return Obligation(
            per=per,
            event=event,
            what=what,
            opens=opens,
            due=due,
            count=count or 1,
            spelled=_spelled(raw),
        )
    every = _every(raw, fail)
    if errors_before[0] or per is None or event is None or every is None:
        return None
    return Obligation(
        per=per, event=event, what=what, every=every, count=count or 1, spelled=_spelled(raw)
    )


def _spelled(raw: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """The catalogue's ``what`` and ``line`` words by their canonical form (read already)."""
    words = raw.get("what", [])
    words = [words] if isinstance(words, str) else list(words)
    if isinstance(raw.get("line"), str):
        words.append(raw["line"])
    return tuple(sorted({canonical_what(w): " ".join(w.split()) for w in words}.items()))


def _check_opens_before_due(
    opens: DayExpression, due: DayExpression, calendar_spec: str, fail: Report
) -> None:
    """Refuse a window that opens after it is due in a school year of the data.

    Such an obligation could never be met: every event would come early or
    late.  Each year the zone's data gives both days for is checked (with
    the catalogue's calendar: a service's closures may move an eve by a few
    days, not a holiday by months).
    """
    try:
        cal = calendar(calendar_spec)
        zone = cal.school_zone
    except (CalendarSpecError, ValueError):
        return  # reported where the calendar is read
    if zone is None:
        return
    for year in zone.school_years:
        try:
            first = opens.resolve(cal, year.year)[1]
            last = due.resolve(cal, year.year)[1]
        except (AnchorError, SlaEngineError):
            continue  # a year the data says too little of
        if first > last:
            fail(
                "opens",
                f"the window opens ({opens}: {first.isoformat()}) after it is due "
                f"({due}: {last.isoformat()}) in {year.year}: the obligation could never be met",
            )
            return


def _per(raw: Mapping[str, Any], fail: Report) -> Per | None:
    value = raw.get("per")
    if value is None:
        fail("per", 'missing required key \'per\': "site" (each site of the register) or "service"')
        return None
    if value not in ("site", "service"):
        fail("per", f'per must be "site" or "service", not {value!r}')
        return None
    return Per(value)


def _count(raw: Mapping[str, Any], fail: Report) -> int | None:
    if "count" not in raw:
        return 1
    value = raw["count"]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        fail("count", f"count must be a whole number from 1 to 1000, not {value!r}")
        return None
    return value


def _word(raw: Mapping[str, Any], key: str, fail: Report, *, required: bool) -> str | None:
    if key not in raw:
        if required:
            fail(key, f"missing required key {key!r}")
        return None
    value = raw[key]
    if not isinstance(value, str) or not value.strip():
        fail(key, f"{key} must be non-empty text, not {value!r}")
        return None
    if not is_what_word(value):
        fail(key, _NOT_A_WORD.format(key=key, value=value))
        return None
    return canonical_what(value)


def _event(raw: Mapping[str, Any], fail: Report) -> SiteEventType | None:
    if "event" not in raw:
        fail(
            "event",
            "missing required key 'event': the site event that fulfils the obligation "
            f"({', '.join(t.value for t in SiteEventType if t.value not in ('opened', 'closed'))})",
        )
        return None
    value = raw["event"]
    try:
        event = SiteEventType.parse(str(value))
    except DataError as error:
        fail("event", error.message)
        return None
    if event in (SiteEventType.OPENED, SiteEventType.CLOSED):
        fail("event", f'{event.value!r} events measure availability: use kind = "availability"')
        return None
    return event


def _what_set(raw: Mapping[str, Any], fail: Report) -> frozenset[str] | None:
    if "what" not in raw:
        return None
    value = raw["what"]
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        fail("what", f"what must be text or a non-empty list of text, not {value!r}")
        return None
    bad = [i for i in items if not isinstance(i, str) or not i.strip()]
    if bad:
        fail("what", f"every value must be non-empty text, not {bad[0]!r}")
        return None
    unmatchable = [i for i in items if not is_what_word(i)]
    if unmatchable:
        fail("what", _NOT_A_WORD.format(key="what", value=unmatchable[0]))
        return None
    return frozenset(canonical_what(i) for i in items)


def _day(
    raw: Mapping[str, Any], key: str, fail: Report, zone: Any, *, required: bool
) -> DayExpression | None:
    if key not in raw:
        if required:
            fail(key, f'missing required key {key!r} (such as "rentrée + 10 jours calendaires")')
        return None
    value = raw[key]
    if not isinstance(value, str):
        fail(key, f'{key} must be text such as "rentrée + 10 jours calendaires", not {value!r}')
        return None
    try:
        expression = DayExpression.parse(value)
        if zone is not None and expression.anchor.kind in (
            AnchorKind.START,
            AnchorKind.END,
            AnchorKind.EVE,
        ):
            check_holiday_name(zone, expression.anchor.holiday or "")
    except AnchorError as error:
        fail(key, str(error))
        return None
    return expression


def _every(raw: Mapping[str, Any], fail: Report) -> Every | None:
    value = raw.get("every")
    if value is None:
        fail("every", 'missing required key \'every\': "week" or "school_year"')
        return None
    found = _EVERY_NAMES.get(str(value).strip().lower())
    if found is None:
        fail("every", f'every must be "week" or "school_year", not {value!r}')
    return found


def _amplitude(raw: Mapping[str, Any], fail: Report) -> float | None:
    if "amplitude" not in raw:
        fail("amplitude", "missing required key 'amplitude' (such as \"9 heures\")")
        return None
    value = raw["amplitude"]
    if isinstance(value, str):
        try:
            delay = Delay.parse(value)
        except DelayError as error:
            fail("amplitude", f'{error} (write hours, such as "9 heures")')
            return None
        if delay.unit is not Unit.HEURES:
            fail("amplitude", f'the amplitude is a number of hours ("9 heures"), not {value!r}')
            return None
        hours = float(delay.amount)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        hours = float(value)
    else:
        fail("amplitude", f'amplitude must be hours such as "9 heures", not {value!r}')
        return None
    if not math.isfinite(hours) or not 0 < hours <= 24:
        fail(
            "amplitude",
            f"the daily amplitude must be more than 0 and at most 24 hours, not {value!r}",
        )
        return None
    return hours


def _days(raw: Mapping[str, Any], fail: Report) -> Unit:
    if "days" not in raw:
        return Unit.JOURS_SCOLAIRES
    value = raw["days"]
    try:
        unit = Unit.parse(str(value))
    except DelayError as error:
        fail("days", str(error))
        return Unit.JOURS_SCOLAIRES
    if unit not in (Unit.JOURS_SCOLAIRES, Unit.JOURS_OUVRES, Unit.JOURS_OUVRABLES):
        fail(
            "days", f"days must be jours scolaires, jours ouvrés or jours ouvrables, not {value!r}"
        )
        return Unit.JOURS_SCOLAIRES
    return unit
