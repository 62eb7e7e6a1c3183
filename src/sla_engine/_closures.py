"""A service's own closure days, in code or from an iCalendar file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import attrs

from ._errors import CalendarDataError

__all__ = ["DEFAULT_CLOSURE_REASON", "Closure", "ClosureLike", "closures_from_ics", "to_closure"]


#: The reason of a closure given none (explanations then say « fermeture du service » once).
DEFAULT_CLOSURE_REASON = "fermeture du service"


@attrs.frozen
class Closure:
    """Days a service is closed, ``first`` to ``last`` inclusive, with a reason."""

    first: dt.date
    last: dt.date
    reason: str = DEFAULT_CLOSURE_REASON

    def __attrs_post_init__(self) -> None:
        for value in (self.first, self.last):
            if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
                raise TypeError(f"closure days must be dates, not {value!r}")
        if self.last < self.first:
            raise ValueError(f"closure ends ({self.last}) before it starts ({self.first})")

    def days(self) -> Iterable[dt.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)


ClosureLike = Closure | dt.date | tuple[dt.date, dt.date] | tuple[dt.date, dt.date, str]


def to_closure(item: ClosureLike) -> Closure:
    """Accept a :class:`Closure`, a date, or a ``(first, last[, reason])`` tuple."""
    if isinstance(item, Closure):
        return item
    if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
        return Closure(item, item)
    if isinstance(item, tuple) and len(item) in (2, 3):
        return Closure(*item)
    raise TypeError(f"cannot read a closure from {item!r}: give a date or (first, last[, reason])")


def _local(value: dt.datetime, tz: dt.tzinfo | None) -> dt.datetime:
    """``value`` in ``tz`` when both are known; a floating time as it is."""
    return value.astimezone(tz) if value.tzinfo is not None and tz is not None else value


def _event_day(value: object, *, tz: dt.tzinfo | None) -> dt.date:
    if isinstance(value, dt.datetime):
        return _local(value, tz).date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(type(value).__name__)


def closures_from_ics(path: str | Path, *, tz: dt.tzinfo | None = None) -> tuple[Closure, ...]:
    """Read closure days from the ``VEVENT`` s of an iCalendar (RFC 5545) file.

    All-day events close their days (``DTEND`` is exclusive, as the RFC says);
    timed events close every local day they touch, in ``tz`` when given (one
    ending at local midnight leaves the next day open).  An event may give
    its ``DURATION`` instead of its ``DTEND``.  The event's ``SUMMARY`` is the
    reason; a cancelled event (``STATUS:CANCELLED``) closes nothing.
    Recurring events (``RRULE``, ``RDATE``) are refused rather than
    half-read: list each occurrence, or expand them first.
    """
    import icalendar  # imported here: only this reader needs it

    path = Path(path)
    try:
        text = path.read_bytes()
        calendar = icalendar.Calendar.from_ical(text)
    except (OSError, ValueError) as error:
        raise CalendarDataError(f"cannot read iCalendar data: {error}", source=str(path)) from None
    closures = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        where = f"VEVENT #{number}"
        uid = event.get("UID")
        if uid:
            where += f" (UID {uid})"
        for rule in ("RRULE", "RDATE"):
            if event.get(rule) is not None:
                raise CalendarDataError(
                    f"{where} repeats ({rule}): list each closure as its own event",
                    source=str(path),
                    field=rule,
                )
        if str(event.get("STATUS") or "").upper() == "CANCELLED":
            continue
        start = event.get("DTSTART")
        if start is None:
            raise CalendarDataError(f"{where} has no DTSTART", source=str(path), field="DTSTART")
        first = _event_day(start.dt, tz=tz)
        end_value = None if event.get("DTEND") is None else event.get("DTEND").dt
        if end_value is None and event.get("DURATION") is not None:
            end_value = start.dt + event.get("DURATION").dt
        if end_value is None:
            last = first
        elif isinstance(end_value, dt.datetime):
            end_at = _local(end_value, tz)
            last = end_at.date()
            if end_at.time() == dt.time(0) and last > first:
                last -= dt.timedelta(days=1)  # ends at local midnight: the day after is open
        else:
            last = end_value - dt.timedelta(days=1)  # an all-day event's end is exclusive
        if last < first:
            raise CalendarDataError(
                f"{where} ends before it starts ({first} to {last})",
                source=str(path),
                field="DTEND",
            )
        reason = str(event.get("SUMMARY") or DEFAULT_CLOSURE_REASON)
        closures.append(Closure(first, last, reason))
    return tuple(closures)
