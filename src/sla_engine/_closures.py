"""A service's own closure days, in code or from an iCalendar file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import attrs

from ._errors import CalendarDataError

__all__ = ["Closure", "ClosureLike", "closures_from_ics", "to_closure"]


@attrs.frozen
class Closure:
    """Days a service is closed, ``first`` to ``last`` inclusive, with a reason."""

    first: dt.date
    last: dt.date
    reason: str = "fermeture du service"

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


def _event_day(value: object, *, tz: dt.tzinfo | None) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and tz is not None:
            value = value.astimezone(tz)
        return value.date()
    if isinstance(value, dt.date):
        return value
    raise TypeError(type(value).__name__)


def closures_from_ics(path: str | Path, *, tz: dt.tzinfo | None = None) -> tuple[Closure, ...]:
    """Read closure days from the ``VEVENT`` s of an iCalendar (RFC 5545) file.

    All-day events close their days (``DTEND`` is exclusive, as the RFC says);
    timed events close every local day they touch, in ``tz`` when given.  The
    event's ``SUMMARY`` is the reason.  Recurring events (``RRULE``) are
    refused rather than half-read: list each occurrence, or expand them first.
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
        if event.get("RRULE") is not None:
            raise CalendarDataError(
                f"{where} repeats (RRULE): list each closure as its own event",
                source=str(path),
                field="RRULE",
            )
        start = event.get("DTSTART")
        if start is None:
            raise CalendarDataError(f"{where} has no DTSTART", source=str(path), field="DTSTART")
        end = event.get("DTEND")
        first = _event_day(start.dt, tz=tz)
        if end is None:
            last = first
        elif isinstance(end.dt, dt.datetime):
            end_at = end.dt
            last = _event_day(end_at, tz=tz)
            if end_at.time() == dt.time(0) and last > first:
                last -= dt.timedelta(days=1)  # ends at midnight: the day after is open
        else:
            last = end.dt - dt.timedelta(days=1)  # DTEND of an all-day event is exclusive
        if last < first:
            raise CalendarDataError(
                f"{where} ends before it starts ({first} to {last})",
                source=str(path),
                field="DTEND",
            )
        reason = str(event.get("SUMMARY") or "fermeture du service")
        closures.append(Closure(first, last, reason))
    return tuple(closures)
