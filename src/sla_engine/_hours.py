"""Opening hours of a service, for delays in ``heures ouvrées``."""

from __future__ import annotations

import datetime as dt
import re

import attrs

from ._errors import DelayError
from ._time import Stretch
from ._weekdays import format_weekdays, parse_weekdays

__all__ = ["OpeningHours"]

_INTERVAL = re.compile(r"^(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})$")

Intervals = tuple[tuple[int, int], ...]


def _seconds(hours: str, minutes: str, text: str) -> int:
    h, m = int(hours), int(minutes)
    if h > 24 or m > 59 or (h == 24 and m):
        raise DelayError(f"bad time {hours}:{minutes} in opening hours {text!r}")
    return h * 3600 + m * 60


@attrs.frozen
class OpeningHours:
    """Opening hours per weekday, as intervals of local wall-clock time.

    ``week[0]`` holds Monday's intervals, as ``(start, end)`` seconds after
    local midnight, sorted and disjoint.  They are read on the local clock,
    and open time is the real time that elapses while the clock shows an open
    hour: a service open 09:00–17:00 is open eight hours on the days summer
    time begins and ends, a line open 00:00–24:00 is open 23 hours on the
    first and 25 on the second (the ``*_in`` methods count such days).
    """

    week: tuple[Intervals, ...] = attrs.field()

    @week.validator
    def _check(self, _attribute: object, week: tuple[Intervals, ...]) -> None:
        if len(week) != 7:
            raise DelayError("opening hours need one entry per weekday")
        for intervals in week:
            previous_end = -1
            for start, end in intervals:
                if not 0 <= start < end <= 86400 or start < previous_end:
                    raise DelayError(f"opening intervals overlap or are empty: {intervals}")
                previous_end = end

    @classmethod
    def parse(cls, text: str) -> OpeningHours:
        """Parse ``"lun-ven 09:00-12:00 13:30-17:00; sam 09:00-12:00"``.

        Groups are separated by ``;``; each names weekdays, then intervals.
        """
        week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        for group in text.split(";"):
            words = group.split()
            if not words:
                continue
            days = parse_weekdays(words[0])
            if len(words) == 1:
                raise DelayError(f"no hours for {words[0]!r} in opening hours {text!r}")
            for word in words[1:]:
                match = _INTERVAL.match(word)
                if match is None:
                    raise DelayError(
                        f"cannot read {word!r} in opening hours {text!r}: "
                        "write intervals as 09:00-12:00"
                    )
                a, b, c, d = match.groups()
                interval = (_seconds(a, b, text), _seconds(c, d, text))
                for day in days:
                    week[day].append(interval)
        if not any(week):
            raise DelayError(f"no opening hours in {text!r}")
        return cls(tuple(tuple(sorted(day)) for day in week))

    def seconds_on(self, weekday: int) -> int:
        """Open seconds on a weekday (0 is Monday)."""
        return sum(end - start for start, end in self.week[weekday])

    def open_before(self, weekday: int, second: float) -> float:
        """Open seconds on ``weekday`` before ``second`` seconds after midnight."""
        total = 0.0
        for start, end in self.week[weekday]:
            if second <= start:
                break
            total += min(second, end) - start
        return total

    def instant_after(self, weekday: int, open_seconds: float) -> float:
        """Seconds after midnight when ``open_seconds`` of ``weekday``'s hours have elapsed."""
        remaining = open_seconds
        for start, end in self.week[weekday]:
            if remaining <= end - start:
                return start + remaining
            remaining -= end - start
        raise ValueError("more open time asked than the day has")  # pragma: no cover

    def open_between(self, weekday: int, start: float, end: float) -> float:
        """Open seconds on ``weekday`` between two wall-clock seconds of the day."""
        return self.open_before(weekday, end) - self.open_before(weekday, start)

    # A day whose clock changes is cut into stretches, each on one offset
    # (clock_change_days): its open time is the sum of theirs, so a skipped
    # hour counts nothing and a repeated one counts twice.

    def seconds_in(self, weekday: int, stretches: tuple[Stretch, ...]) -> int:
        """Open seconds on a ``weekday`` made of ``stretches``."""
        return round(sum(self.open_between(weekday, s.start, s.end) for s in stretches))

    def open_before_in(
        self, weekday: int, stretches: tuple[Stretch, ...], k: int, second: float
    ) -> float:
        """Open seconds before wall-clock ``second`` of the ``k``-th of the day's ``stretches``."""
        earlier = sum(self.open_between(weekday, s.start, s.end) for s in stretches[:k])
        return earlier + self.open_between(weekday, stretches[k].start, second)

    def instant_after_in(
        self, weekday: int, stretches: tuple[Stretch, ...], open_seconds: float
    ) -> tuple[dt.timedelta, float]:
        """The offset and wall-clock second when ``open_seconds`` of the day have elapsed."""
        remaining = open_seconds
        for s in stretches:
            here = self.open_between(weekday, s.start, s.end)
            if remaining <= here:
                opened = self.open_before(weekday, s.start) + remaining
                return s.offset, self.instant_after(weekday, opened)
            remaining -= here
        raise ValueError("more open time asked than the day has")  # pragma: no cover

    def __str__(self) -> str:
        return self.label("fr")

    def label(self, lang: str = "fr") -> str:
        """``lun-ven 09:00-12:00 13:30-17:00`` (French) or ``mon-fri …`` (English)."""
        groups: dict[Intervals, set[int]] = {}
        for weekday, intervals in enumerate(self.week):
            if intervals:
                groups.setdefault(intervals, set()).add(weekday)
        parts = []
        for intervals, days in groups.items():
            hours = " ".join(
                f"{s // 3600:02d}:{s % 3600 // 60:02d}-{e // 3600:02d}:{e % 3600 // 60:02d}"
                for s, e in intervals
            )
            parts.append(f"{format_weekdays(frozenset(days), lang)} {hours}")
        return "; ".join(parts)
