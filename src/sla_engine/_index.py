"""Cumulative day indexes: « the N-th counted day after d » in constant time.

For one calendar and one unit, an index covers a span of days ``[lo, hi]``
(as proleptic Gregorian ordinals, ``date.toordinal()``) and holds:

- ``cum[i]``: how many counted days there are in ``[lo, lo + i]``;
- ``nth[k]``: the offset from ``lo`` of the ``(k + 1)``-th counted day.

Then the N-th counted day strictly after ``d`` is ``nth[cum[d - lo] + N - 1]``
and the counted days in ``(a, b]`` are ``cum[b - lo] - cum[a - lo]``: two
array reads, whatever N.  The vectorised path reads NumPy arrays.  The
scalar path reads Python lists, and its ``nth_dates`` holds ready-made
:class:`datetime.date` objects: indexing a list and returning an existing
object is about 40 % faster than reading an :mod:`array` and building a
date (measured: 0.30 µs against 0.49 µs a call, with the call itself), for
about 7 MB a (calendar, unit) over the 298 years ``holidays`` covers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import numpy.typing as npt

__all__ = ["EPOCH_ORDINAL", "DayIndex", "OutOfSpan"]

#: ``date(1970, 1, 1).toordinal()``: NumPy's ``datetime64[D]`` counts days from there.
EPOCH_ORDINAL = 719163


class OutOfSpan(Exception):
    """A day the index does not cover was needed (``ordinal`` is the first such day)."""

    def __init__(self, ordinal: int) -> None:
        self.ordinal = ordinal


class DayIndex:
    """Counted days of one span, with their cumulative count and inverse."""

    __slots__ = (
        "counted",
        "counted_np",
        "cum",
        "cum_np",
        "hi",
        "last",
        "lo",
        "nth_dates",
        "nth_np",
        "total",
    )

    def __init__(self, lo: int, counted: npt.NDArray[np.bool_]) -> None:
        self.lo = lo
        self.hi = lo + len(counted) - 1
        self.last = self.hi - lo  # the last valid offset
        self.counted_np = counted.astype(np.bool_)
        self.cum_np = np.cumsum(counted, dtype=np.int32)
        self.nth_np = np.flatnonzero(counted).astype(np.int32)
        self.cum: list[int] = self.cum_np.tolist()
        fromordinal = dt.date.fromordinal
        self.nth_dates = [fromordinal(lo + k) for k in self.nth_np.tolist()]
        self.counted = bytes(self.counted_np.view(np.uint8))
        self.total = len(self.nth_dates)

    # -- scalar path: ordinals in, ordinals out --------------------------------

    def add(self, ordinal: int, n: int) -> int:
        """The ``n``-th counted day strictly after ``ordinal`` (``n >= 1``)."""
        i = ordinal - self.lo
        if i < 0 or ordinal > self.hi:
            raise OutOfSpan(ordinal)
        k = self.cum[i] + n - 1
        if k >= self.total:
            raise OutOfSpan(self.hi + 1)
        return int(self.nth_np[k]) + self.lo

    def count(self, start: int, end: int) -> int:
        """Counted days in ``(start, end]`` (negative when ``end < start``)."""
        i, j = start - self.lo, end - self.lo
        if i < 0 or start > self.hi:
            raise OutOfSpan(start)
        if j < 0 or end > self.hi:
            raise OutOfSpan(end)
        return self.cum[j] - self.cum[i]

    def is_counted(self, ordinal: int) -> bool:
        i = ordinal - self.lo
        if i < 0 or ordinal > self.hi:
            raise OutOfSpan(ordinal)
        return self.counted[i] == 1

    def roll_forward(self, ordinal: int) -> int:
        """``ordinal`` if it is counted, else the next counted day."""
        i = ordinal - self.lo
        if i < 0 or ordinal > self.hi:
            raise OutOfSpan(ordinal)
        if self.counted[i]:
            return ordinal
        k = self.cum[i]
        if k >= self.total:
            raise OutOfSpan(self.hi + 1)
        return int(self.nth_np[k]) + self.lo

    # -- vectorised path: arrays of ordinals ------------------------------------

    def _offsets(self, ordinals: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        offsets = ordinals - self.lo
        bad = (offsets < 0) | (offsets > self.hi - self.lo)
        if bad.any():
            raise OutOfSpan(int(ordinals[np.argmax(bad)]))
        return offsets

    def add_many(
        self, ordinals: npt.NDArray[np.int64], n: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        k = self.cum_np[self._offsets(ordinals)] + n - 1
        if k.size and int(k.max()) >= self.total:
            raise OutOfSpan(self.hi + 1)
        result: npt.NDArray[np.int64] = self.nth_np[k].astype(np.int64) + self.lo
        # n == 0 leaves the day as it is.
        return np.where(n == 0, ordinals, result)

    def count_many(
        self, starts: npt.NDArray[np.int64], ends: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        result: npt.NDArray[np.int64] = self.cum_np[self._offsets(ends)].astype(
            np.int64
        ) - self.cum_np[self._offsets(starts)].astype(np.int64)
        return result

    def is_counted_many(self, ordinals: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = self.counted_np[self._offsets(ordinals)]
        return result

    def roll_forward_many(self, ordinals: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        offsets = self._offsets(ordinals)
        k = self.cum_np[offsets]
        counted = self.counted_np[offsets]
        needs_roll = ~counted
        if needs_roll.any() and int(k[needs_roll].max()) >= self.total:
            raise OutOfSpan(self.hi + 1)
        rolled = self.nth_np[np.minimum(k, self.total - 1)].astype(np.int64) + self.lo
        result: npt.NDArray[np.int64] = np.where(counted, ordinals, rolled)
        return result
