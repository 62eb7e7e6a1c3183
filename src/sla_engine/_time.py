"""Instants at the edges: parsing, checking and local days.

Inside the engine an instant is an aware :class:`datetime.datetime` with a
fixed UTC offset (a :class:`datetime.timezone`).  A naive datetime is refused,
unless the caller names the zone it was written in; a local time that a DST
change makes nonexistent or ambiguous is then refused rather than guessed.

Why fixed offsets: Python compares and subtracts two datetimes that share a
``tzinfo`` by their wall-clock times, ``fold`` ignored.  In a zone with
summer time (a :class:`~zoneinfo.ZoneInfo`) that is an hour wrong across a
clock change: 10:00 summer time to 9:30 winter time two days later counts
47.5 hours instead of 48.5, and in the repeated hour 2:30 summer time comes
"after" 2:10 winter time.  With fixed offsets every comparison and difference
is between instants, and an instant read back from the store (written with
its offset) is the very value that was recorded.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import itertools
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._errors import InvalidTimeError, NaiveDatetimeError, unquoted, with_redacted

if TYPE_CHECKING:
    import attrs

__all__ = [
    "Stretch",
    "clock_change_days",
    "first_instant_of",
    "fixed_offset",
    "fixed_offset_if_aware",
    "localise",
    "microseconds",
    "parse_instant",
    "require_aware",
    "require_aware_field",
    "time_zone",
]

UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = dt.timedelta(microseconds=1)
_SECOND = dt.timedelta(seconds=1)
_WEEK = dt.timedelta(weeks=1)


def microseconds(instant: dt.datetime) -> int:
    """Exact microseconds since the Unix epoch (no float rounding)."""
    return (instant - _EPOCH) // _MICROSECOND


_FIXED: dict[dt.timedelta, dt.timezone] = {dt.timedelta(0): UTC}


def fixed_offset(instant: dt.datetime) -> dt.datetime:
    """``instant`` with its UTC offset as its zone: the same instant and wall-clock time.

    ``instant`` must be aware.  One that already has a fixed offset is returned as it is.
    """
    tz = instant.tzinfo
    if type(tz) is dt.timezone:
        return instant
    offset = instant.utcoffset()
    assert offset is not None  # noqa: S101 - callers check awareness first
    fixed = _FIXED.get(offset)
    if fixed is None:
        fixed = _FIXED[offset] = dt.timezone(offset)
    return instant.replace(tzinfo=fixed, fold=0)


def fixed_offset_if_aware(value: object) -> object:
    """An attrs converter: an aware datetime with its fixed offset, anything else as it is.

    What is left (a naive datetime, another type) is the validator's to refuse,
    with the field's name.
    """
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        return fixed_offset(value)
    return value


def time_zone(name: str | dt.tzinfo) -> dt.tzinfo:
    """Return the IANA time zone ``name`` (``Europe/Paris``), or ``name`` itself if a tzinfo."""
    if isinstance(name, dt.tzinfo):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder of the tz database ("Europe"), or a name too long for a file.
        raise InvalidTimeError(f"unknown time zone {name[:80]!r}") from None


def require_aware(value: dt.datetime, what: str = "datetime") -> dt.datetime:
    """``value`` with its fixed offset (:func:`fixed_offset`); a naive one is refused.

    Raises :class:`NaiveDatetimeError` for a naive datetime, :class:`TypeError`
    for anything else.
    """
    if not isinstance(value, dt.datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        advice = "give an offset (2025-10-17T16:05:00+02:00) or name the zone it was written in"
        raise with_redacted(
            NaiveDatetimeError(f"{what} {value.isoformat()} has no time zone: {advice}"),
            f"no time zone: {advice}",
        )
    return fixed_offset(value)


def require_aware_field(
    _instance: object, attribute: attrs.Attribute[Any], value: dt.datetime | None
) -> None:
    """An event's validator: its instant, if given, is aware; the error never quotes it."""
    if value is not None:
        unquoted(functools.partial(require_aware, what=attribute.name), value, attribute.name)


def localise(naive: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """Attach ``tz`` to a naive local time (as its offset there), refusing DST gaps and folds."""
    candidate = naive.replace(tzinfo=tz, fold=0)
    other = naive.replace(tzinfo=tz, fold=1)
    if candidate.utcoffset() != other.utcoffset():
        # Either a fold (the wall time happens twice) or a gap (never happens).
        round_trip = candidate.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if round_trip != naive:
            why = f"does not exist in {tz} (clocks jump forward at that hour)"
        else:
            why = f"is ambiguous in {tz} (clocks go back at that hour): give the UTC offset"
        # The redacted form says what is wrong without the time itself.
        raise with_redacted(
            InvalidTimeError(f"{naive.isoformat()} {why}"), f"a local time that {why}"
        )
    return fixed_offset(candidate)


def parse_instant(text: str, *, assume_tz: str | dt.tzinfo | None = None) -> dt.datetime:
    """Parse an ISO 8601 instant; a naive one is taken in ``assume_tz`` or refused."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise with_redacted(
            InvalidTimeError(
                f"{text!r} is not an ISO 8601 date-time such as 2025-10-17T16:05:00+02:00"
            ),
            "not an ISO 8601 date-time such as 2025-10-17T16:05:00+02:00",
        ) from None
    if value.tzinfo is None:
        if assume_tz is None:
            advice = (
                "write it with one (2025-10-17T16:05:00+02:00) "
                "or name the time zone it was written in (--assume-tz Europe/Paris, "
                "or assume_tz in a mapping file or in Python)"
            )
            raise with_redacted(
                NaiveDatetimeError(f"{text!r} has no UTC offset: {advice}"),
                f"no UTC offset: {advice}",
            )
        return localise(value, time_zone(assume_tz))
    return value


# Memoised: every deadline ends at one, and a log's deadlines fall on a few
# thousand days (the work is two zone conversions, a few microseconds).
@functools.lru_cache(maxsize=8192)
def first_instant_of(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The first instant of local ``day`` in ``tz``: its midnight, or the end of a DST gap.

    It has the fixed offset the day starts with (:func:`fixed_offset`).
    """
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    # Round-tripping through UTC normalises a nonexistent midnight to the
    # instant the day really starts; an existing one is left as it is.
    return fixed_offset(midnight.astimezone(UTC).astimezone(tz))


# -- days whose clock changes ------------------------------------------------------


class Stretch(NamedTuple):
    """A stretch of a local day on one UTC offset.

    ``start`` and ``end`` are wall-clock seconds after the day's midnight
    (the clock the stretch shows); ``first`` is its first instant, in UTC.
    """

    first: dt.datetime
    start: int
    end: int
    offset: dt.timedelta


def clock_change_days(tz: dt.tzinfo, first: int, last: int) -> dict[int, tuple[Stretch, ...]]:
    """The days (ordinals ``first`` to ``last``) on which ``tz``'s clock changes, as stretches.

    A day the clock does not change is one stretch, 00:00 to 24:00, and is
    left out: summer time changes two days a year, found once per zone.  A
    new dict each call (the caller's to keep: a calendar pickles it for a
    second process), from what is found once per zone.
    """
    return dict(_clock_change_days(tz, first, last))


@functools.lru_cache(maxsize=32)
def _clock_change_days(
    tz: dt.tzinfo, first: int, last: int
) -> tuple[tuple[int, tuple[Stretch, ...]], ...]:
    changes = _clock_changes(tz, dt.date.fromordinal(first), dt.date.fromordinal(last))
    days: dict[int, tuple[Stretch, ...]] = {}
    for change in changes:
        for ordinal in _days_around(tz, change):
            if first <= ordinal <= last:
                stretches = _stretches(tz, dt.date.fromordinal(ordinal), changes)
                if _one_clock_day(stretches) and not _plain(stretches):
                    days[ordinal] = stretches
    return tuple(days.items())


def _plain(stretches: tuple[Stretch, ...]) -> bool:
    """Whether a day is 00:00 to 24:00 on one offset."""
    return len(stretches) == 1 and (stretches[0].start, stretches[0].end) == (0, 86400)


def _one_clock_day(stretches: tuple[Stretch, ...]) -> bool:
    """Whether every stretch shows the day's own date (always so in the French zones).

    A clock set back across midnight (00:01 to 23:01 the day before, as in
    America/St_Johns until 2011) splits a date in two: such a day is left out,
    counted on its wall clock.
    """
    return all(0 <= s.start < s.end <= 86400 for s in stretches)


def _offset_at(tz: dt.tzinfo, instant: dt.datetime) -> dt.timedelta:
    offset = instant.astimezone(tz).utcoffset()
    assert offset is not None  # noqa: S101 - an aware instant in a zone has one
    return offset


def _clock_changes(tz: dt.tzinfo, first: dt.date, last: dt.date) -> list[dt.datetime]:
    """The instants (UTC, to the second) around ``first`` to ``last`` when ``tz``'s offset changes.

    Sampled weekly, then bisected: two changes less than a week apart that
    cancel out would be missed (the tz database has none for the French zones).
    """
    low = dt.datetime.combine(first, dt.time(0), tzinfo=UTC) - _WEEK
    end = dt.datetime.combine(last, dt.time(0), tzinfo=UTC) + 2 * _WEEK
    offset = _offset_at(tz, low)
    changes: list[dt.datetime] = []
    while low < end:
        high = low + _WEEK
        after = _offset_at(tz, high)
        while after != offset:  # one change or more in (low, high]
            low = _first_change(tz, low, high, offset)
            changes.append(low)
            offset = _offset_at(tz, low)
        low = high
    return changes


def _first_change(
    tz: dt.tzinfo, low: dt.datetime, high: dt.datetime, offset: dt.timedelta
) -> dt.datetime:
    """The first second in ``(low, high]`` whose offset is not ``offset`` (``low``'s)."""
    a, b = 0, (high - low) // _SECOND
    while b - a > 1:
        middle = (a + b) // 2
        if _offset_at(tz, low + middle * _SECOND) == offset:
            a = middle
        else:
            b = middle
    return low + b * _SECOND


def _days_around(tz: dt.tzinfo, change: dt.datetime) -> range:
    """The ordinals of the local days whose clock shows ``change``, on either offset."""
    offsets = (_offset_at(tz, change - _SECOND), _offset_at(tz, change))
    naive = change.replace(tzinfo=None)
    first = (naive + min(offsets) - _SECOND).date()  # a change at 24:00 ends the day before
    return range(first.toordinal(), (naive + max(offsets)).date().toordinal() + 1)


def _stretches(tz: dt.tzinfo, day: dt.date, changes: list[dt.datetime]) -> tuple[Stretch, ...]:
    """Local ``day`` cut at the clock changes inside it."""
    # Round-tripping midnight through UTC: a nonexistent midnight starts the day at the gap's end.
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(UTC)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).astimezone(UTC)
    inside = changes[bisect.bisect_right(changes, start) : bisect.bisect_left(changes, end)]
    midnight = dt.datetime.combine(day, dt.time(0))
    stretches = []
    for a, b in itertools.pairwise([start, *inside, end]):
        offset = _offset_at(tz, a)
        wall = (a.replace(tzinfo=None) + offset - midnight) // _SECOND
        stretches.append(Stretch(a, wall, wall + (b - a) // _SECOND, offset))
    return tuple(stretches)
