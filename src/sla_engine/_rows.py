"""View rows written from templates: the commonest timers without a :class:`Timer` object.

A response timer of a day-counted delay in a plain history (``received``,
then only events that cannot pause or reclassify it) is decided by three
instants — received, the first stop event, the last event — and two local
days.  Its view row is the encoded timer of :func:`~sla_engine._view.timer_row`,
cut around these values in a template encoded once per engagement,
classification and state; the deadline is worked out once per start day
and the elapsed count once per pair of days, by the functions
:func:`~sla_engine._timers.evaluate_contact` uses.  The columnar replay
feeds it a summary per contact made by Polars; the engine's projection, a
contact's history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from json.encoder import encode_basestring_ascii as _escape  # the view encoder's
from typing import Any

import attrs

from ._calendar import Calendar
from ._catalogue import Catalogue, Engagement
from ._contact import ContactEvent
from ._delay import Delay
from ._time import microseconds
from ._timers import (
    PLAIN_TYPES,
    CalendarResolver,
    PlainEvaluator,
    Timer,
    TimerState,
    _deadline,
    _elapsed,
)
from ._view import ViewRows, _encode_json, timer_row
from ._vocabulary import EventType

__all__ = ["AS_OF_US", "STOPPING", "SUMMARY", "RowEvaluator"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class RowEvaluator(PlainEvaluator):
    """The plain evaluator, writing a view's rows directly for the commonest timers.

    A response timer of a day-counted delay in a plain history is decided
    by three instants (received, the first stop event, the last event) and
    two local days: its row is the encoded :class:`Timer` of
    :func:`~sla_engine._view.timer_row`, assembled around these values
    from a template encoded once per engagement, classification and state,
    and from the deadline worked out once per start day.
    """

    def __init__(self, catalogue: Catalogue, calendars: CalendarResolver) -> None:
        super().__init__(catalogue, calendars)
        self._row_plans: dict[tuple[Any, ...], list[RowPlan] | None] = {}
        self._row_deadlines: dict[tuple[str, int], tuple[int, int, str]] = {}
        self._days: dict[tuple[dt.tzinfo, int], int] = {}
        self._elapsed_text: dict[tuple[str, int, int], str] = {}

    def history_rows(self, events: Sequence[ContactEvent]) -> ViewRows | None:
        """The view rows of a contact's history (in time order), or ``None``.

        ``None`` when its timers are not all of the kind written from
        templates: the caller evaluates them (:meth:`evaluate`) instead.
        """
        first = events[0]
        if first.type is not EventType.RECEIVED:
            return None
        plans = self._row_plans_of(
            (first.channel, first.category, first.priority or "normal", first.service)
        )
        if plans is None:
            return None
        # The summary the columnar replay makes with Polars: each stopping
        # type's first event (in time order, then recording order).
        summary: list[Any] = [None] * len(SUMMARY)
        summary[_START_US] = first.occurred_us
        summary[_START_TEXT] = first.occurred_text
        summary[_AS_OF_TEXT] = events[-1].occurred_text
        slots = _SLOTS
        for line, event in enumerate(events[1:], 1):
            slot = slots.get(event.type)
            if slot is None:
                return None  # not a plain history
            if summary[slot] is None:
                summary[slot] = event.occurred_us
                summary[slot + 1] = line
                summary[slot + 2] = event.occurred_text
        cid = first.contact_id
        # The id as it sits inside the encoded row (the columnar replay's ids
        # need no escape: they are checked to be plain).
        return self._rows_of(cid, plans, summary, _escape(cid)[1:-1])

    def rows(
        self, cid: str, classification: tuple[Any, ...], contact: tuple[Any, ...]
    ) -> ViewRows | None:
        """The view rows of a contact, from its summary (:data:`SUMMARY`), or ``None``."""
        plans = self._row_plans_of(classification)
        return None if plans is None else self._rows_of(cid, plans, contact)

    def _row_plans_of(self, classification: tuple[Any, ...]) -> list[RowPlan] | None:
        """A classification's row plans, or ``None`` if one of its timers has none (memoised)."""
        if classification not in self._row_plans:
            self._row_plans[classification] = self._plan_rows(classification)
        return self._row_plans[classification]

    def _rows_of(
        self, cid: str, plans: list[RowPlan], contact: Sequence[Any], cid_text: str | None = None
    ) -> ViewRows:
        out = ViewRows()
        start_us = contact[_START_US]
        common = (cid if cid_text is None else cid_text, contact[_AS_OF_TEXT], contact[_START_TEXT])
        for plan in plans:
            start_day = self._day(plan.tz, start_us)
            deadline = self._row_deadlines.get((plan.id, start_day))
            if deadline is None:
                deadline = self._row_deadlines[(plan.id, start_day)] = plan.deadline(start_us)
            expires_us, attention_us, fragment = deadline
            stop_us = stop_line = stop_text = None
            for i in plan.stop_at:  # the first of the stop events (by time, then line)
                us = contact[i]
                if us is not None and (
                    stop_us is None or (us, contact[i + 1]) < (stop_us, stop_line)
                ):
                    stop_us, stop_line, stop_text = us, contact[i + 1], contact[i + 2]
            if stop_us is None:
                data = plan.running % (*common, fragment)
                out.append((cid, plan.id, 0, attention_us, expires_us, data))
                continue
            stop_day = self._day(plan.tz, stop_us)
            elapsed = self._elapsed_text.get((plan.id, start_day, stop_day))
            if elapsed is None:
                elapsed = self._elapsed_text[(plan.id, start_day, stop_day)] = plan.elapsed(
                    start_us, stop_us
                )
            template = plan.met if stop_us < expires_us else plan.late
            data = template % (*common, stop_text, fragment, elapsed)
            out.append((cid, plan.id, 0, None, None, data))
        return out

    def _day(self, tz: dt.tzinfo, us: int) -> int:
        """The ordinal of the local day of ``us`` (µs since the epoch) in ``tz``."""
        hour = us // _HOUR_US
        offset = self._days.get((tz, hour))
        if offset is None:
            start = _at(hour * _HOUR_US)
            first = start.astimezone(tz).utcoffset()
            last = (start + dt.timedelta(microseconds=_HOUR_US - 1)).astimezone(tz).utcoffset()
            if first is None or first != last:  # an offset that changes within the hour
                return _at(us).astimezone(tz).toordinal()
            offset = self._days[(tz, hour)] = first // dt.timedelta(microseconds=1)
        return (us + offset) // _DAY_US + _EPOCH_ORDINAL

    def _plan_rows(self, classification: tuple[Any, ...]) -> list[RowPlan] | None:
        plans = self.plans(classification)
        if plans is None:
            return None
        out = []
        for plan in plans:
            if plan.calendar is None:  # a measure: timers of the plain evaluator
                return None
            row_plan = RowPlan.make(plan.engagement, plan.calendar, plan.fields)
            if row_plan is None:
                return None
            out.append(row_plan)
        return out


_HOUR_US = 3_600_000_000
_DAY_US = 86_400_000_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_SENTINEL_CONTACT = "sla-engine-sentinel-contact"
_SENTINEL_AS_OF = dt.datetime(1901, 1, 1, tzinfo=dt.UTC)
_SENTINEL_STARTED = dt.datetime(1902, 1, 1, tzinfo=dt.UTC)
_SENTINEL_STOPPED = dt.datetime(1903, 1, 1, tzinfo=dt.UTC)
_SENTINEL_DUE = dt.date(1904, 1, 1)
_SENTINEL_EXPIRES = dt.datetime(1905, 1, 1, tzinfo=dt.UTC)
_SENTINEL_ELAPSED = 987_654_321


def _fragment(
    due: dt.date | None, expires: dt.datetime | None, warnings: Sequence[dt.datetime]
) -> str:
    """The encoded due date, expiry and warnings, as they sit inside an encoded timer."""
    # Three values next to each other in the view's array (encode_record).
    text = _encode_json(
        [
            None if due is None else due.isoformat(),
            None if expires is None else expires.isoformat(),
            [w.isoformat() for w in warnings],
        ]
    )
    return text[1:-1]


@attrs.frozen
class RowPlan:
    """One engagement's encoded timers, cut around the values that differ between contacts."""

    id: str
    engagement: Engagement
    calendar: Calendar
    tz: dt.tzinfo
    target: Delay
    #: The stop types' positions in a contact's summary (:data:`SUMMARY`).
    stop_at: tuple[int, ...]
    #: %-formats of the encoded timer, by state.
    running: str
    met: str
    late: str

    @classmethod
    def make(
        cls, engagement: Engagement, calendar: Calendar, fields: dict[str, Any]
    ) -> RowPlan | None:
        target = engagement.target
        if target is None or target.unit.is_hours:  # hours: no deadline per start day
            return None
        templates = {}
        for state in (TimerState.RUNNING, TimerState.MET, TimerState.LATE):
            stopped = state is not TimerState.RUNNING
            timer = Timer(
                contact_id=_SENTINEL_CONTACT,
                as_of=_SENTINEL_AS_OF,
                state=state,
                started_at=_SENTINEL_STARTED,
                stopped_at=_SENTINEL_STOPPED if stopped else None,
                due_date=_SENTINEL_DUE,
                expires_at=_SENTINEL_EXPIRES,
                warnings=(_SENTINEL_EXPIRES,),
                elapsed=_SENTINEL_ELAPSED if stopped else None,
                **fields,
            )
            text = timer_row(timer)[5]
            cuts = [
                _SENTINEL_CONTACT,
                _SENTINEL_AS_OF.isoformat(),
                _SENTINEL_STARTED.isoformat(),
                *([_SENTINEL_STOPPED.isoformat()] if stopped else []),
                _fragment(_SENTINEL_DUE, _SENTINEL_EXPIRES, (_SENTINEL_EXPIRES,)),
                *([str(_SENTINEL_ELAPSED)] if stopped else []),
            ]
            parts = []
            for cut in cuts:
                if text.count(cut) != 1:
                    return None
                head, text = text.split(cut)
                parts.append(head)
            parts.append(text)
            templates[state] = _format(parts)
        return cls(
            engagement.id,
            engagement,
            calendar,
            calendar.tz,
            target,
            tuple(SUMMARY.index(f"{t.value}:us") for t in engagement.stop if t in PLAIN_TYPES),
            templates[TimerState.RUNNING],
            templates[TimerState.MET],
            templates[TimerState.LATE],
        )

    def deadline(self, start_us: int) -> tuple[int, int, str]:
        """(expiry µs, attention µs of an open timer, encoded fragment) for a start that day."""
        due, expires, _, _, warnings = _deadline(
            self.engagement, self.target, self.calendar, _at(start_us), ()
        )
        assert expires is not None  # noqa: S101 - a day-counted delay always expires
        expires_us = microseconds(expires)
        attention_us = microseconds(warnings[0]) if warnings else expires_us
        return expires_us, attention_us, _fragment(due, expires, warnings)

    def elapsed(self, start_us: int, stop_us: int) -> str:
        value = _elapsed(self.calendar, self.target.unit, _at(start_us), _at(stop_us))
        return _encode_json(value)


def _at(us: int) -> dt.datetime:
    """The instant ``us`` µs after the epoch, in UTC (the inverse of ``microseconds``)."""
    return _EPOCH + dt.timedelta(microseconds=us)


def _format(pieces: list[str]) -> str:
    """A %-format putting a value between each two pieces (their own % escaped)."""
    return "%s".join(piece.replace("%", "%%") for piece in pieces)


#: The types that can stop a plain contact's timers (all but ``received``).
STOPPING = sorted(PLAIN_TYPES, key=lambda t: t.value)
#: A contact's summary, one tuple per contact, in this order.
SUMMARY = (
    "_cid",
    "version",
    "tpl",
    "start_us",
    "start_text",
    "as_of_text",
    "as_of_us",
    *[f"{t.value}:{name}" for t in STOPPING for name in ("us", "line", "text")],
)
_START_US, _START_TEXT, _AS_OF_TEXT, AS_OF_US = 3, 4, 5, 6
#: Where each stopping type's (µs, line, text) starts in a summary.
_SLOTS = {t: SUMMARY.index(f"{t.value}:us") for t in STOPPING}
