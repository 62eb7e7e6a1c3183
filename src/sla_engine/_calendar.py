"""Calendars: which days count, for a territory, a school zone and a service.

A :class:`Calendar` is a value: a territory (its public holidays and time
zone), an optional school zone, the service's working week, closure days and
opening hours.  Its arithmetic runs on integer day ordinals against
:class:`~sla_engine._index.DayIndex` tables built once per (calendar, unit)
and cached on the calendar.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
from holidays.countries.france import France

from ._closures import (
    DEFAULT_CLOSURE_REASON,
    Closure,
    ClosureLike,
    closures_from_ics,
    to_closure,
)
from ._delay import Unit
from ._errors import CalendarCoverageError, CalendarSpecError, DelayError, SlaEngineError
from ._hours import OpeningHours
from ._index import EPOCH_ORDINAL, DayIndex, OutOfSpan
from ._school import (
    SchoolDaysOff,
    SchoolZone,
    english_name,
    french_name,
    school_data_version,
    school_zone,
)
from ._territories import Territory, territory
from ._text import format_day
from ._time import UTC, Stretch, clock_change_days, fixed_offset, require_aware, time_zone
from ._weekdays import WEEKDAY_NAMES, format_weekdays, parse_weekdays

__all__ = ["Calendar", "CalendarCoverage", "calendar"]

#: The years the ``holidays`` package has rules for; outside them it answers
#: nothing at all, so the engine refuses to count there.
PUBLIC_HOLIDAY_YEARS = (int(France.start_year), int(France.end_year))
_PUBLIC_SPAN = (
    dt.date(PUBLIC_HOLIDAY_YEARS[0], 1, 1).toordinal(),
    dt.date(PUBLIC_HOLIDAY_YEARS[1], 12, 31).toordinal(),
)
MONDAY_TO_FRIDAY = frozenset(range(5))
_LAST_ORDINAL = dt.date.max.toordinal()
#: Holiday rules change between releases of the package: part of every data_version.
HOLIDAYS_VERSION = importlib.metadata.version("holidays")

#: The keys of :meth:`Calendar.settings`, in the order they are applied.
_SETTINGS = ("time_zone", "working_week", "opening_hours", "closures")

_SPEC = re.compile(r"^\s*fr(?:-(?P<territory>[^+]+?))?\s*(?:\+\s*(?P<zone>.+?))?\s*$", re.I)


@functools.cache
def _public_holidays(code: str | None, lang: str) -> dict[int, str]:
    """Public holidays of a territory over the whole span, by ordinal."""
    years = range(PUBLIC_HOLIDAY_YEARS[0], PUBLIC_HOLIDAY_YEARS[1] + 1)
    language = "fr" if lang == "fr" else "en_US"
    table = France(subdiv=code, years=years, language=language)  # type: ignore[no-untyped-call]
    return {day.toordinal(): str(name) for day, name in table.items()}


@attrs.frozen
class CalendarCoverage:
    """The spans of days a calendar's data covers (inclusive)."""

    public_holidays: tuple[dt.date, dt.date]
    school: tuple[dt.date, dt.date] | None


def _converter_working_week(value: Iterable[int] | str) -> frozenset[int]:
    days = parse_weekdays(value) if isinstance(value, str) else frozenset(value)
    if not days or not days <= set(range(7)):
        raise CalendarSpecError(f"a working week is a set of weekdays 0–6, not {value!r}")
    return days


def _converter_hours(value: OpeningHours | str | None) -> OpeningHours | None:
    if value is None or isinstance(value, OpeningHours):
        return value
    return OpeningHours.parse(value)


def _converter_closures(value: Iterable[ClosureLike]) -> tuple[Closure, ...]:
    # By reason too: two closures of the same days in the order a set gave
    # them made equal calendars unequal (and a store's settings unstable).
    closures = {to_closure(item) for item in value}
    return tuple(sorted(closures, key=lambda c: (c.first, c.last, c.reason or "")))


@attrs.frozen
class Calendar:
    """Which days count, and in which time zone, for one service.

    Build one with :func:`calendar` from a spec (``"fr-57+B"``), then refine
    it with :meth:`with_closures`, :meth:`with_working_week` and
    :meth:`with_opening_hours`; each returns a new calendar.
    """

    territory: Territory
    zone: str | None
    time_zone_name: str
    working_week: frozenset[int] = attrs.field(
        default=MONDAY_TO_FRIDAY, converter=_converter_working_week
    )
    closures: tuple[Closure, ...] = attrs.field(default=(), converter=_converter_closures)
    opening_hours: OpeningHours | None = attrs.field(default=None, converter=_converter_hours)
    # Built on first use, not part of the value: the day-count indexes by
    # unit (read on the hot path), and other derived data by name.
    _indexes: dict[str, DayIndex] = attrs.field(
        factory=dict, init=False, repr=False, eq=False, hash=False
    )
    _memo: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False, eq=False, hash=False)

    # -- identity ---------------------------------------------------------------

    @property
    def spec(self) -> str:
        """The canonical spec: ``fr``, ``fr-57+B``, ``fr-974+Réunion``."""
        return self.territory.spec + (f"+{self.zone}" if self.zone else "")

    def __str__(self) -> str:
        return self.spec

    @property
    def tz(self) -> dt.tzinfo:
        return time_zone(self.time_zone_name)

    @property
    def school_zone(self) -> SchoolZone | None:
        return None if self.zone is None else school_zone(self.zone)

    @property
    def data_version(self) -> str:
        """A fingerprint of every datum the calendar's answers rest on.

        Stored beside every figure computed with it, so that an old figure
        can be re-derived exactly, and a changed calendar is seen as changed.
        """
        cached = self._memo.get("data_version")
        if cached is None:
            parts = [
                f"holidays={HOLIDAYS_VERSION}",
                f"school={school_data_version() if self.zone else '-'}",
                f"tz={self.time_zone_name}",
                f"week={format_weekdays(self.working_week, 'en')}",
                f"hours={self.opening_hours or '-'}",
            ]
            closures = ";".join(f"{c.first}/{c.last}/{c.reason}" for c in self.closures)
            digest = hashlib.sha256(closures.encode()).hexdigest()[:12] if closures else "-"
            parts.append(f"closures={digest}")
            cached = " ".join(parts)
            self._memo["data_version"] = cached
        return str(cached)

    def coverage(self) -> CalendarCoverage:
        lo, hi = _PUBLIC_SPAN
        public = (dt.date.fromordinal(lo), dt.date.fromordinal(hi))
        zone = self.school_zone
        return CalendarCoverage(public, None if zone is None else zone.coverage)

    # -- refinements ------------------------------------------------------------

    def with_closures(self, *closures: ClosureLike) -> Calendar:
        """A copy with more closure days: dates, ``(first, last[, reason])`` or :class:`Closure`."""
        return attrs.evolve(self, closures=self.closures + tuple(map(to_closure, closures)))

    def with_closures_from_ics(self, path: str | Path) -> Calendar:
        """A copy with the closures listed in an iCalendar file (see :func:`closures_from_ics`)."""
        return self.with_closures(*closures_from_ics(path, tz=self.tz))

    def with_working_week(self, days: Iterable[int] | str) -> Calendar:
        """A copy with another working week: ``"mar-sam"``, ``"tue-sat"`` or weekday numbers."""
        return attrs.evolve(self, working_week=days)

    def with_opening_hours(self, hours: OpeningHours | str | None) -> Calendar:
        """A copy with opening hours (``"lun-ven 09:00-12:00 13:30-17:00"``) for heures ouvrées."""
        return attrs.evolve(self, opening_hours=hours)

    def with_time_zone(self, name: str) -> Calendar:
        time_zone(name)  # fail now on an unknown zone
        return attrs.evolve(self, time_zone_name=name)

    # -- the service's settings, kept with a store's rules ----------------------

    def settings(self) -> dict[str, Any]:
        """What refines this calendar beyond its spec, as JSON values (``{}`` when nothing does).

        A store keeps them with its rules, so that an engine reopening it
        (every command does) counts with the service's time zone, working
        week, opening hours and closures, as the engine that recorded did.
        :meth:`with_settings` reads them back.
        """
        plain = _calendar_from_spec(self.spec)
        settings: dict[str, Any] = {}
        if self.time_zone_name != plain.time_zone_name:
            settings["time_zone"] = self.time_zone_name
        if self.working_week != plain.working_week:
            settings["working_week"] = sorted(self.working_week)
        if self.opening_hours is not None:
            settings["opening_hours"] = str(self.opening_hours)
        if self.closures:
            settings["closures"] = [
                [c.first.isoformat(), c.last.isoformat(), c.reason] for c in self.closures
            ]
        return settings

    def with_settings(self, settings: Mapping[str, Any]) -> Calendar:
        """A copy refined by ``settings`` as :meth:`settings` writes them."""
        unknown = sorted(set(settings) - set(_SETTINGS))
        if unknown:
            raise CalendarSpecError(
                f"unknown calendar setting {unknown[0]!r}: expected one of {', '.join(_SETTINGS)}"
            )
        result = self
        try:
            if "time_zone" in settings:
                result = result.with_time_zone(settings["time_zone"])
            if "working_week" in settings:
                result = result.with_working_week(settings["working_week"])
            if "opening_hours" in settings:
                result = result.with_opening_hours(settings["opening_hours"])
            if "closures" in settings:
                result = result.with_closures(
                    *(
                        Closure(dt.date.fromisoformat(first), dt.date.fromisoformat(last), reason)
                        for first, last, reason in settings["closures"]
                    )
                )
        except CalendarSpecError:
            raise
        except (TypeError, ValueError) as error:
            raise CalendarSpecError(f"cannot read the calendar settings: {error}") from None
        return result

    # -- indexes ----------------------------------------------------------------

    def _index(self, unit: Unit) -> DayIndex:
        index = self._indexes.get(unit)
        if index is None:
            index = self._indexes[unit] = self._build_index(unit)
        return index

    def _span(self, unit: Unit) -> tuple[int, int]:
        lo, hi = _PUBLIC_SPAN
        if unit is Unit.JOURS_SCOLAIRES:
            zone = self.school_zone
            if zone is None:
                raise DelayError(
                    f"calendar {self.spec!r} has no school zone, so it cannot count "
                    "jours scolaires: name one, as in 'fr+B'"
                )
            first, last = zone.coverage
            lo, hi = max(lo, first.toordinal()), min(hi, last.toordinal())
        return lo, hi

    def _build_index(self, unit: Unit) -> DayIndex:
        lo, hi = self._span(unit)
        ordinals = np.arange(lo, hi + 1, dtype=np.int64)
        weekday = (ordinals - 1) % 7  # date.fromordinal(1) is a Monday
        holiday = self._mask(lo, hi, _public_holidays(self.territory.code, "fr"))
        if unit is Unit.JOURS_OUVRABLES:
            counted = (weekday != 6) & ~holiday
        elif unit in (Unit.JOURS_OUVRES, Unit.JOURS_SCOLAIRES):
            counted = np.isin(weekday, sorted(self.working_week)) & ~holiday
            counted &= ~self._mask(lo, hi, self._closure_days())
            zone = self.school_zone
            if unit is Unit.JOURS_SCOLAIRES and zone is not None:  # _span() checked the zone
                counted &= ~self._mask(lo, hi, _school_days_off(zone))
        else:  # pragma: no cover - guarded by the callers
            raise AssertionError(unit)
        return DayIndex(lo, counted)

    @staticmethod
    def _mask(lo: int, hi: int, ordinals: Iterable[int]) -> npt.NDArray[np.bool_]:
        mask = np.zeros(hi - lo + 1, dtype=np.bool_)
        inside = [o - lo for o in ordinals if lo <= o <= hi]
        mask[inside] = True
        return mask

    def _closure_days(self) -> dict[int, str]:
        days: dict[int, str] = {}
        for closure in self.closures:
            for day in closure.days():
                days.setdefault(day.toordinal(), closure.reason)
        return days

    def _coverage_error(self, unit: Unit, ordinal: int) -> CalendarCoverageError:
        lo, hi = self._span(unit)
        what = (
            f"school calendar (zone {self.zone})"
            if unit is Unit.JOURS_SCOLAIRES
            else "public-holiday data"
        )
        day = dt.date.fromordinal(max(1, min(ordinal, dt.date.max.toordinal())))
        return CalendarCoverageError(
            calendar=self.spec,
            day=day,
            covered=(dt.date.fromordinal(lo), dt.date.fromordinal(hi)),
            data=what,
        )

    # -- scalar arithmetic --------------------------------------------------------

    def add(
        self,
        day: dt.date,
        n: int,
        unit: Unit | str = Unit.JOURS_OUVRES,
        *,
        extend: bool | None = None,
    ) -> dt.date:
        """The due date of a delay of ``n`` units counted from ``day``.

        ``day`` itself is not counted (CPC art. 641): ``n`` jours ouvrés end
        on the ``n``-th working day strictly after it.  Calendar days, jours
        francs, weeks and months ending on a day the service does not work
        are extended to its next working day (CPC art. 642) unless
        ``extend=False``; jours ouvrables, which can end on a Saturday or a
        day the service is closed, only when ``extend=True``.  Jours ouvrés
        and jours scolaires end on a day the service works: ``extend``
        changes nothing.  ``n == 0`` returns ``day``.
        """
        # Hot path: a built day-count index, a plain date, a positive int, no extension.
        index = self._indexes.get(unit)
        if index is not None and type(day) is _date and type(n) is int and n > 0 and not extend:
            i = day.toordinal() - index.lo
            if 0 <= i <= index.last:
                k = index.cum[i] + n - 1
                if k < index.total:
                    return index.nth_dates[k]
        return self._add_checked(day, n, unit, extend)

    def _add_checked(self, day: dt.date, n: int, unit: Unit | str, extend: bool | None) -> dt.date:
        u = Unit.parse(unit)
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise TypeError(
                f"add() takes a date, not {type(day).__name__}: use deadline() for instants"
            )
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise DelayError(f"a delay counts forward: n must be a whole number >= 0, not {n!r}")
        if n == 0:
            return day
        try:
            return dt.date.fromordinal(self._add(day.toordinal(), int(n), u, extend))
        except OutOfSpan as error:
            if error.ordinal > dt.date.max.toordinal():  # not the data's end: the dates'
                raise _beyond_dates(day, n, u) from None
            covering = Unit.JOURS_SCOLAIRES if u is Unit.JOURS_SCOLAIRES else Unit.JOURS_OUVRES
            raise self._coverage_error(covering, error.ordinal) from None
        except (ValueError, OverflowError) as error:
            if isinstance(error, SlaEngineError):  # a delay this calendar cannot count
                raise
            raise _beyond_dates(day, n, u) from None  # past the year 9999: no date holds it

    def _add(self, ordinal: int, n: int, unit: Unit, extend: bool | None) -> int:
        if unit in _DAY_COUNTS:
            due = self._index(unit).add(ordinal, n)
            if extend and unit.extendable:  # jours ouvrables: a Saturday, a closure day
                due = self._extension().roll_forward(due)
            return due
        if unit is Unit.JOURS_CALENDAIRES:
            due = ordinal + n
        elif unit is Unit.JOURS_FRANCS:
            due = ordinal + n + 1
        elif unit is Unit.SEMAINES:
            due = ordinal + 7 * n
        elif unit is Unit.MOIS:
            due = _add_months(dt.date.fromordinal(ordinal), n).toordinal()
        else:
            raise DelayError(
                f"{unit.value} are counted between instants, not days: use deadline() "
                "or Calendar.add_hours()"
            )
        if extend is None or extend:
            due = self._extension().roll_forward(due)
        return due

    def count(self, start: dt.date, end: dt.date, unit: Unit | str = Unit.JOURS_OUVRES) -> int:
        """Counted days (or whole weeks, months) in the half-open span ``(start, end]``.

        Negative when ``end`` is before ``start``.  For every counted unit
        ``count(d, add(d, n, extend=False)) == n``.
        """
        index = self._indexes.get(unit)
        if index is not None and type(start) is _date and type(end) is _date:
            i, j = start.toordinal() - index.lo, end.toordinal() - index.lo
            if 0 <= i <= index.last and 0 <= j <= index.last:
                return index.cum[j] - index.cum[i]
        return self._count_checked(start, end, unit)

    def _count_checked(self, start: dt.date, end: dt.date, unit: Unit | str) -> int:
        u = Unit.parse(unit)
        for value in (start, end):
            if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
                raise TypeError(f"count() takes dates, not {type(value).__name__}")
        a, b = start.toordinal(), end.toordinal()
        if u in _DAY_COUNTS:
            try:
                return self._index(u).count(a, b)
            except OutOfSpan as error:
                raise self._coverage_error(u, error.ordinal) from None
        if b < a:
            return -self._count_checked(end, start, u)
        if u is Unit.JOURS_CALENDAIRES:
            return b - a
        if u is Unit.JOURS_FRANCS:
            return max(0, b - a - 1)
        if u is Unit.SEMAINES:
            return (b - a) // 7
        if u is Unit.MOIS:
            months = (end.year - start.year) * 12 + end.month - start.month
            if _add_months(start, months) > end:
                months -= 1
            return months
        raise DelayError(
            f"{u.value} are counted between instants, not days: use Calendar.hours_between()"
        )

    def is_counted(self, day: dt.date, unit: Unit | str = Unit.JOURS_OUVRES) -> bool:
        """Whether ``day`` counts in ``unit`` (every day counts in calendar units)."""
        u = Unit.parse(unit)
        if u in _DAY_COUNTS:
            try:
                return self._index(u).is_counted(day.toordinal())
            except OutOfSpan as error:
                raise self._coverage_error(u, error.ordinal) from None
        if u is Unit.HEURES_OUVREES:
            # Open time really elapsed that day (none in an hour the clock skips).
            before_day, through_day = self._open_seconds_around(day.toordinal())
            return through_day > before_day
        return True

    def is_working_day(self, day: dt.date) -> bool:
        """Whether the service works on ``day`` (a jour ouvré)."""
        return self.is_counted(day, Unit.JOURS_OUVRES)

    def roll_forward(self, day: dt.date) -> dt.date:
        """Where a delay ending on ``day`` expires after CPC art. 642's extension.

        ``day`` itself if the service works that day and it is neither a
        Saturday nor a Sunday, which art. 642 extends whatever the service's
        week; else the next such day.
        """
        try:
            return dt.date.fromordinal(self._extension().roll_forward(day.toordinal()))
        except OutOfSpan as error:
            raise self._coverage_error(Unit.JOURS_OUVRES, error.ordinal) from None

    def reasons_extended(self, day: dt.date, lang: str = "fr") -> tuple[str, ...]:
        """Why art. 642 extends a delay ending on ``day`` (empty if it does not)."""
        reasons = self.reasons_not_counted(day, Unit.JOURS_OUVRES, lang)
        if not reasons and self.roll_forward(day) != day:  # a Saturday or Sunday it works
            reasons = (WEEKDAY_NAMES[lang][day.weekday()],)
        return reasons

    def _extension(self) -> DayIndex:
        """The days a delay can expire on after art. 642: the service's working
        days, Saturdays and Sundays aside (the jours ouvrés index itself for a
        Monday-to-Friday week, or a service open only at weekends)."""
        index = self._indexes.get("extension")
        if index is None:
            ouvres = self._index(Unit.JOURS_OUVRES)
            weekdays = self.working_week - _WEEKEND
            if weekdays in (self.working_week, frozenset()):
                index = ouvres
            else:
                ordinals = np.arange(ouvres.lo, ouvres.hi + 1, dtype=np.int64)
                weekend = np.isin((ordinals - 1) % 7, sorted(_WEEKEND))  # ordinal 1: a Monday
                index = DayIndex(ouvres.lo, ouvres.counted_np & ~weekend)
            self._indexes["extension"] = index
        return index

    # -- vectorised arithmetic -----------------------------------------------------

    def add_many(
        self,
        days: npt.ArrayLike,
        n: npt.ArrayLike,
        unit: Unit | str = Unit.JOURS_OUVRES,
        *,
        extend: bool | None = None,
    ) -> npt.NDArray[np.datetime64]:
        """:meth:`add` over arrays: ``datetime64[D]`` days in, ``datetime64[D]`` due dates out."""
        u = Unit.parse(unit)
        ordinals = _to_ordinals(days)
        counts = np.broadcast_to(np.asarray(n, dtype=np.int64), ordinals.shape)
        if counts.size and int(counts.min()) < 0:
            raise DelayError("a delay counts forward: n must be >= 0")
        try:
            if u in _DAY_COUNTS:
                due = self._index(u).add_many(ordinals, counts)
                if extend and u.extendable:  # as _add(): jours ouvrables when asked
                    due = np.where(counts == 0, ordinals, self._extension().roll_forward_many(due))
            else:
                if u is Unit.JOURS_CALENDAIRES:
                    due = ordinals + counts
                elif u is Unit.JOURS_FRANCS:
                    due = ordinals + counts + 1
                elif u is Unit.SEMAINES:
                    due = ordinals + 7 * counts
                elif u is Unit.MOIS:
                    due = _add_months_many(ordinals, counts)
                else:
                    raise DelayError(f"{u.value} cannot be added to days: use deadline()")
                beyond = due > _LAST_ORDINAL
                if beyond.any():  # as add() says: no date holds it
                    at = int(np.argmax(beyond))
                    day = dt.date.fromordinal(int(ordinals[at]))
                    raise _beyond_dates(day, int(counts[at]), u)
                if extend is None or extend:
                    due = self._extension().roll_forward_many(due)
                due = np.where(counts == 0, ordinals, due)
        except OutOfSpan as error:
            covering = Unit.JOURS_SCOLAIRES if u is Unit.JOURS_SCOLAIRES else Unit.JOURS_OUVRES
            raise self._coverage_error(covering, error.ordinal) from None
        return (due - EPOCH_ORDINAL).astype("datetime64[D]")

    def count_many(
        self, starts: npt.ArrayLike, ends: npt.ArrayLike, unit: Unit | str = Unit.JOURS_OUVRES
    ) -> npt.NDArray[np.int64]:
        """:meth:`count` over arrays of ``datetime64[D]``."""
        u = Unit.parse(unit)
        a, b = np.broadcast_arrays(_to_ordinals(starts), _to_ordinals(ends))
        if u in _DAY_COUNTS:
            try:
                return self._index(u).count_many(a, b)
            except OutOfSpan as error:
                raise self._coverage_error(u, error.ordinal) from None
        sign = np.where(b < a, -1, 1)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        if u is Unit.JOURS_CALENDAIRES:
            result = hi - lo
        elif u is Unit.JOURS_FRANCS:
            result = np.maximum(0, hi - lo - 1)
        elif u is Unit.SEMAINES:
            result = (hi - lo) // 7
        elif u is Unit.MOIS:
            lo_m = (lo - EPOCH_ORDINAL).astype("datetime64[D]").astype("datetime64[M]")
            hi_m = (hi - EPOCH_ORDINAL).astype("datetime64[D]").astype("datetime64[M]")
            months = (hi_m - lo_m).astype(np.int64)
            over = _add_months_many(lo, months) > hi
            result = months - over
        else:
            raise DelayError(f"{u.value} cannot be counted between days")
        counted: npt.NDArray[np.int64] = (sign * result).astype(np.int64)
        return counted

    def is_counted_many(
        self, days: npt.ArrayLike, unit: Unit | str = Unit.JOURS_OUVRES
    ) -> npt.NDArray[np.bool_]:
        u = Unit.parse(unit)
        ordinals = _to_ordinals(days)
        if u not in _DAY_COUNTS:
            return np.ones(ordinals.shape, dtype=np.bool_)
        try:
            return self._index(u).is_counted_many(ordinals)
        except OutOfSpan as error:
            raise self._coverage_error(u, error.ordinal) from None

    # -- hours -------------------------------------------------------------------

    def _require_hours(self) -> OpeningHours:
        if self.opening_hours is None:
            raise DelayError(
                f"calendar {self.spec!r} has no opening hours, so it cannot count heures "
                "ouvrées: add them with with_opening_hours('lun-ven 09:00-12:00 13:30-17:00')"
            )
        return self.opening_hours

    def _closed_or_holiday(self, day: dt.date) -> bool:
        o = day.toordinal()
        if not _PUBLIC_SPAN[0] <= o <= _PUBLIC_SPAN[1]:
            raise self._coverage_error(Unit.JOURS_OUVRES, o)
        return o in _public_holidays(self.territory.code, "fr") or o in self._closure_days()

    def _clock_days(self) -> Mapping[int, tuple[Stretch, ...]]:
        """The days of the span on which the clock changes (summer time), cut at the change."""
        days: Mapping[int, tuple[Stretch, ...]] | None = self._memo.get("clock_days")
        if days is None:
            days = self._memo["clock_days"] = clock_change_days(self.tz, *_PUBLIC_SPAN)
        return days

    def _hours_index(self) -> npt.NDArray[np.int64]:
        """Open seconds in ``[lo, lo + i]`` for each day of the public-holiday span."""
        cached = self._memo.get("hours")
        if cached is None:
            hours = self._require_hours()
            lo, hi = _PUBLIC_SPAN
            ordinals = np.arange(lo, hi + 1, dtype=np.int64)
            per_weekday = np.array([hours.seconds_on(w) for w in range(7)], dtype=np.int64)
            seconds = per_weekday[(ordinals - 1) % 7]
            # A day the clock changes lasts 23 or 25 hours: count its real open time.
            for o, stretches in self._clock_days().items():
                seconds[o - lo] = hours.seconds_in((o - 1) % 7, stretches)
            closed = self._mask(lo, hi, _public_holidays(self.territory.code, "fr"))
            closed |= self._mask(lo, hi, self._closure_days())
            seconds[closed] = 0
            cached = np.cumsum(seconds)
            self._memo["hours"] = cached
        return cached

    def _open_seconds_around(self, o: int) -> tuple[int, int]:
        """Open seconds from the start of the span to the start and to the end of day ``o``."""
        lo, hi = _PUBLIC_SPAN
        if not lo <= o <= hi:
            raise self._coverage_error(Unit.JOURS_OUVRES, o)
        cum = self._hours_index()
        return (int(cum[o - lo - 1]) if o > lo else 0), int(cum[o - lo])

    def _open_position(self, instant: dt.datetime) -> float:
        """Open seconds from the start of the span to ``instant``."""
        hours = self._require_hours()
        instant = require_aware(instant, "instant")
        local = instant.astimezone(self.tz)
        day = local.date()
        o = day.toordinal()
        before_day, through_day = self._open_seconds_around(o)
        if through_day == before_day:  # closed all day
            return float(before_day)
        second = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        stretches = self._clock_days().get(o)
        if stretches is None:
            return before_day + hours.open_before(day.weekday(), second)
        # The wall clock alone is ambiguous in a repeated hour: the stretch tells which.
        k = sum(1 for s in stretches[1:] if s.first <= instant)
        return before_day + hours.open_before_in(day.weekday(), stretches, k, second)

    def add_hours(self, instant: dt.datetime, n: float, *, business: bool = True) -> dt.datetime:
        """The instant ``n`` hours after ``instant``: opening hours only when ``business``.

        Plain hours are elapsed time (computed in UTC, so a DST change
        neither adds nor removes one); so are open hours, on the days the
        clock changes too.  Open hours land on the first instant at which
        ``n`` of them have elapsed (a closing time rather than the next
        opening); ``n = 0`` is ``instant`` itself, open or not.
        """
        instant = require_aware(instant, "instant")
        if not business or n == 0:
            return fixed_offset(
                (instant.astimezone(UTC) + dt.timedelta(hours=n)).astimezone(self.tz)
            )
        hours = self._require_hours()
        target = self._open_position(instant) + n * 3600
        cum = self._hours_index()
        lo, _hi = _PUBLIC_SPAN
        i = int(np.searchsorted(cum, target, side="left"))
        if i >= len(cum):
            raise self._coverage_error(Unit.JOURS_OUVRES, _PUBLIC_SPAN[1] + 1)
        day = dt.date.fromordinal(lo + i)
        before_day = int(cum[i - 1]) if i else 0
        stretches = self._clock_days().get(lo + i)
        clock: dt.tzinfo = self.tz
        if stretches is None:
            second = hours.instant_after(day.weekday(), target - before_day)
        else:
            # The stretch's own offset: in a repeated hour the zone alone would pick the first.
            offset, second = hours.instant_after_in(day.weekday(), stretches, target - before_day)
            clock = dt.timezone(offset)
        local = dt.datetime.combine(day, dt.time(0)) + dt.timedelta(seconds=second)
        return fixed_offset(local.replace(tzinfo=clock).astimezone(UTC).astimezone(self.tz))

    def hours_between(
        self, start: dt.datetime, end: dt.datetime, *, business: bool = True
    ) -> float:
        """Hours from ``start`` to ``end``: open hours only when ``business``."""
        # With fixed offsets the difference is between instants, even across a DST change.
        start, end = require_aware(start, "start"), require_aware(end, "end")
        if not business:
            return (end - start).total_seconds() / 3600
        return (self._open_position(end) - self._open_position(start)) / 3600

    # -- explanations ------------------------------------------------------------

    def public_holiday(self, day: dt.date, lang: str = "fr") -> str | None:
        """The public holiday's name on ``day`` in this territory, or ``None``.

        Raises :class:`CalendarCoverageError` outside the holiday data's
        years: there no answer means « not known », not « no holiday ».
        """
        self._require_covered(day, Unit.JOURS_OUVRES)
        return _public_holidays(self.territory.code, lang).get(day.toordinal())

    def school_days_off(self, day: dt.date) -> SchoolDaysOff | None:
        """The school holiday period containing ``day`` in the calendar's zone, if any.

        ``None`` without a school zone; :class:`CalendarCoverageError` outside
        the zone's published school years.
        """
        zone = self.school_zone
        if zone is None:
            return None
        self._require_covered(day, Unit.JOURS_SCOLAIRES)
        return zone.days_off_on(day)

    def _require_covered(self, day: dt.date, unit: Unit) -> None:
        lo, hi = self._span(unit)
        if not lo <= day.toordinal() <= hi:
            raise self._coverage_error(unit, day.toordinal())

    def reasons_not_counted(
        self, day: dt.date, unit: Unit | str = Unit.JOURS_OUVRES, lang: str = "fr"
    ) -> tuple[str, ...]:
        """Why ``day`` does not count in ``unit`` (counted in days, or heures ouvrées).

        « samedi », « 1er novembre : Toussaint », « fermeture du service »…

        Empty when the day counts.
        """
        u = Unit.parse(unit)
        counted_in_days = u in _DAY_COUNTS or u is Unit.HEURES_OUVREES
        if not counted_in_days or self.is_counted(day, u):
            return ()
        reasons: list[str] = []
        weekday = day.weekday()
        if u is Unit.HEURES_OUVREES:
            closed = self._require_hours().seconds_on(weekday) == 0
        elif u is Unit.JOURS_OUVRABLES:
            closed = weekday == 6
        else:
            closed = weekday not in self.working_week
        if closed:
            reasons.append(WEEKDAY_NAMES[lang][weekday])
        holiday = self.public_holiday(day, lang)
        if holiday is not None:
            label = format_day(day, lang, weekday=False, year=False)
            reasons.append(f"{label} : {holiday}" if lang == "fr" else f"{label}: {holiday}")
        if u is not Unit.JOURS_OUVRABLES:
            closure = self._closure_days().get(day.toordinal())
            if closure is not None:
                label = "fermeture du service" if lang == "fr" else "service closed"
                # A closure with no reason of its own carries the label as its reason.
                shown = "" if closure == DEFAULT_CLOSURE_REASON else f" : {closure}"
                reasons.append(label + (shown if lang == "fr" else shown.replace(" : ", ": ")))
        if u is Unit.JOURS_SCOLAIRES:
            period = self.school_days_off(day)
            if period is not None:
                name = french_name(period.name) if lang == "fr" else english_name(period.name)
                reasons.insert(0, f"{name}, zone {self.zone}")
        if not reasons:  # heures ouvrées: open only in the hour the clock skips
            reasons.append(
                "l'horloge saute les heures d'ouverture"
                if lang == "fr"
                else "the clock skips the opening hours"
            )
        return tuple(reasons)


_date = dt.date  # a module global: one look-up fewer on the hot path
_WEEKEND = frozenset({5, 6})
_DAY_COUNTS = frozenset({Unit.JOURS_OUVRES, Unit.JOURS_OUVRABLES, Unit.JOURS_SCOLAIRES})


@functools.lru_cache(maxsize=32)
def _school_days_off(zone: SchoolZone) -> tuple[int, ...]:
    ordinals: list[int] = []
    for period in zone.days_off:
        ordinals.extend(range(period.first.toordinal(), period.last.toordinal() + 1))
    return tuple(ordinals)


def _add_months(day: dt.date, n: int) -> dt.date:
    """Same day-number ``n`` months later, or that month's last day (CPC art. 641)."""
    year, month = divmod(day.month - 1 + n, 12)
    year += day.year
    month += 1
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last_day))


def _add_months_many(
    ordinals: npt.NDArray[np.int64], n: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    days = (ordinals - EPOCH_ORDINAL).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    day_of_month = (days - months.astype("datetime64[D]")).astype(np.int64)
    target = months + n.astype("timedelta64[M]")
    last_of_target = (target + np.timedelta64(1, "M")).astype("datetime64[D]") - np.timedelta64(
        1, "D"
    )
    length = (last_of_target - target.astype("datetime64[D]")).astype(np.int64)
    result = target.astype("datetime64[D]") + np.minimum(day_of_month, length).astype(
        "timedelta64[D]"
    )
    ordinals_out: npt.NDArray[np.int64] = result.astype(np.int64) + EPOCH_ORDINAL
    return ordinals_out


def _to_ordinals(days: npt.ArrayLike) -> npt.NDArray[np.int64]:
    array = np.asarray(days)
    if array.dtype.kind != "M":
        array = array.astype("datetime64[D]")
    ordinals: npt.NDArray[np.int64] = array.astype("datetime64[D]").astype(np.int64) + EPOCH_ORDINAL
    return ordinals


@functools.lru_cache(maxsize=64)
def _calendar_from_spec(spec: str) -> Calendar:
    match = _SPEC.match(spec) if isinstance(spec, str) else None
    if match is None:
        raise CalendarSpecError(
            f"cannot read the calendar spec {spec!r}: write fr, fr-<territory> and an "
            "optional school zone after +, as in fr, fr-57+B, fr-974+Réunion"
        )
    place = territory(match["territory"])
    zone = None
    if match["zone"] is not None:
        found = school_zone(match["zone"])
        if not _same_clock(found.time_zone, place.time_zone):
            # « fr+Réunion » counted Réunion's school days on Paris's clock and
            # public holidays: each territory keeps its own (DOMAIN.md).
            raise CalendarSpecError(
                f"the school zone {found.label} keeps the time of {found.time_zone}, not "
                f"that of {place.name} ({place.time_zone}): name the territory that holds "
                "it, as in fr-974+Réunion"
            )
        zone = found.key
    return Calendar(place, zone, place.time_zone)


def _beyond_dates(day: dt.date, n: int, unit: Unit) -> DelayError:
    return DelayError(
        f"{n} {unit.label(n)} from {day.isoformat()} run past 9999-12-31, the last date "
        "a calendar can hold"
    )


def _same_clock(a: str, b: str) -> bool:
    """Whether two time zones keep the same time, winter and summer (links such as
    America/Marigot and America/Guadeloupe do)."""
    if a == b:
        return True
    za, zb = time_zone(a), time_zone(b)
    instants = (
        dt.datetime(2025, 1, 15, 12, tzinfo=dt.UTC),
        dt.datetime(2025, 7, 15, 12, tzinfo=dt.UTC),
    )
    return all(i.astimezone(za).utcoffset() == i.astimezone(zb).utcoffset() for i in instants)


def calendar(
    spec: str,
    *,
    time_zone: str | None = None,
    working_week: Iterable[int] | str | None = None,
    closures: Iterable[ClosureLike] = (),
    opening_hours: OpeningHours | str | None = None,
) -> Calendar:
    """The calendar named by ``spec``: ``fr``, ``fr-57``, ``fr-57+B``, ``fr-974+Réunion``, ``fr+C``.

    The territory after ``fr-`` is any French subdivision code or alias the
    ``holidays`` package knows; the school zone after ``+`` is ``A``, ``B``,
    ``C``, ``Corse`` or an overseas zone of the official school calendar
    (case and accents optional).  Keyword arguments refine the result.
    """
    result = _calendar_from_spec(spec.strip() if isinstance(spec, str) else spec)
    if time_zone is not None:
        result = result.with_time_zone(time_zone)
    if working_week is not None:
        result = result.with_working_week(working_week)
    if closures:
        result = result.with_closures(*closures)
    if opening_hours is not None:
        result = result.with_opening_hours(opening_hours)
    return result
