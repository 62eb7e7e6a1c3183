"""Hypothesis strategies for sla-engine's values, for rule authors' own property tests.

Needs Hypothesis (``pip install "sla-engine[strategies]"``).  Every option
is keyword-only.  Registered with Hypothesis through its entry point, so
``st.from_type(Delay)``, ``st.from_type(Calendar)`` and
``st.from_type(ContactEvent)`` work once sla-engine is installed.

>>> from hypothesis import given
>>> from sla_engine import strategies as sla
>>> @given(sla.delays(units=["jours ouvrés"], max_amount=30))
... def test_a_delay_ends_on_a_working_day(delay):
...     ...
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Collection, Sequence
from zoneinfo import ZoneInfo

from ._calendar import Calendar, _same_clock, calendar
from ._catalogue import Catalogue, parse_catalogue
from ._contact import ContactEvent
from ._delay import Delay, Unit
from ._school import school_zones
from ._territories import territories
from ._vocabulary import EventType


def _register_types() -> None:
    """Hypothesis's entry point: ``st.from_type`` for the engine's public value types.

    Defined before this module imports Hypothesis: when the module is the
    first to import it, Hypothesis runs this entry point while the module is
    still half-imported, so the strategies are looked up only when drawn.
    """
    from hypothesis import strategies as hst

    hst.register_type_strategy(Delay, hst.deferred(lambda: delays()))
    hst.register_type_strategy(Calendar, hst.deferred(lambda: calendars()))
    hst.register_type_strategy(
        ContactEvent, hst.deferred(lambda: contact_histories().map(lambda h: h[0]))
    )


try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - hypothesis is an optional extra
    raise ImportError(
        "sla_engine.strategies needs Hypothesis: pip install 'sla-engine[strategies]'"
    ) from error


__all__ = [
    "calendar_specs",
    "calendars",
    "catalogue_texts",
    "catalogues",
    "contact_histories",
    "delays",
    "interleaved_histories",
    "malformed_log_rows",
    "received_instants",
]


_DAY_UNITS = [u for u in Unit if not u.is_hours and u is not Unit.JOURS_SCOLAIRES]


def calendar_specs(*, school_zones_too: bool = True) -> st.SearchStrategy[str]:
    """Valid calendar specs: every territory, with or without a school zone.

    ``school_zones_too=False`` draws territories only.

    >>> from hypothesis import find
    >>> find(calendar_specs(), lambda spec: "+" in spec)
    'fr+A'
    >>> find(calendar_specs(school_zones_too=False), lambda spec: spec != "fr")
    'fr-57'
    """
    plain = [t.spec for t in territories()]
    if not school_zones_too:
        return st.sampled_from(plain)
    # A zone goes with a territory on its clock (fr-974+Réunion, not fr+Réunion).
    paired = [
        f"{t.spec}+{z.key}"
        for t in territories()
        for z in school_zones()
        if _same_clock(z.time_zone, t.time_zone)
    ]
    return st.sampled_from(plain) | st.sampled_from(paired)


def calendars(*, school_zones_too: bool = False) -> st.SearchStrategy[Calendar]:
    """Calendars built from :func:`calendar_specs` (territories only by default).

    >>> from hypothesis import find
    >>> find(calendars(school_zones_too=True), lambda cal: cal.zone is not None).spec
    'fr+A'
    """
    return calendar_specs(school_zones_too=school_zones_too).map(calendar)


def delays(
    *, units: Sequence[Unit | str] | None = None, max_amount: int = 60
) -> st.SearchStrategy[Delay]:
    """Delays of 1 to ``max_amount`` units (every day-based unit but jours scolaires by default).

    ``units`` names the units drawn (``Unit`` members or their French names).

    >>> from hypothesis import find
    >>> str(find(delays(units=["mois"], max_amount=3), lambda d: d.amount > 1))
    '2 mois'
    >>> str(find(delays(max_amount=10), lambda d: d.amount == 10))
    '10 jours ouvrés'
    """
    chosen = [Unit.parse(u) for u in units] if units is not None else _DAY_UNITS
    return st.builds(Delay, st.integers(1, max_amount), st.sampled_from(chosen))


def received_instants(
    cal: Calendar,
    *,
    min_value: dt.datetime | None = None,
    max_value: dt.datetime | None = None,
    allow_imaginary: bool = True,
) -> st.SearchStrategy[dt.datetime]:
    """Aware instants in the calendar's time zone, DST gaps and folds included.

    ``min_value`` and ``max_value``, aware datetimes, bound them (default:
    1990–2040 within the calendar's covered span, which for a calendar with
    a school zone is its published school years, ending a year before they
    do: a delay that ends within a year of an instant drawn stays in the
    calendar's data); ``allow_imaginary=False`` leaves out wall times that
    a DST change skips.

    >>> import datetime as dt
    >>> from hypothesis import find
    >>> from sla_engine import calendar
    >>> paris = calendar("fr").tz
    >>> night = dict(min_value=dt.datetime(2025, 3, 30, 1, 0, tzinfo=paris),
    ...              max_value=dt.datetime(2025, 3, 30, 4, 0, tzinfo=paris))
    >>> find(received_instants(calendar("fr"), **night), lambda t: t.hour == 2).isoformat()
    '2025-03-30T02:00:00+01:00'
    >>> find(received_instants(calendar("fr"), allow_imaginary=False, **night),
    ...      lambda t: t.hour >= 2).isoformat()
    '2025-03-30T03:00:00+02:00'
    """
    tz = cal.tz
    if not isinstance(tz, ZoneInfo):  # pragma: no cover - calendars use ZoneInfo
        raise TypeError("received_instants needs a calendar with an IANA time zone")
    if any(b is not None and b.utcoffset() is None for b in (min_value, max_value)):
        # A naive bound would be read in the machine's own time zone.
        raise ValueError("min_value and max_value must be aware datetimes")
    coverage = cal.coverage()
    first, last = coverage.public_holidays
    if coverage.school is not None:
        # The school data ends a few years ahead: leave a year for delays to run.
        first, last = coverage.school[0], max(coverage.school[0], coverage.school[1] - _A_YEAR)
    first, last = max(first, dt.date(1990, 1, 1)), min(last, dt.date(2040, 12, 31))
    low = (min_value or dt.datetime.combine(first, dt.time(), tzinfo=tz)).astimezone(tz)
    high = (max_value or dt.datetime.combine(last, dt.time(23, 59), tzinfo=tz)).astimezone(tz)
    if max_value is None and high < low:
        # A lower bound past the default span: up to the data's own end, not 2040.
        end = coverage.school[1] if coverage.school is not None else coverage.public_holidays[1]
        high = dt.datetime.combine(end, dt.time(23, 59), tzinfo=tz)
        if high < low:
            raise ValueError(f"min_value is after the end of the calendar's data ({end})")
    return st.datetimes(
        min_value=low.replace(tzinfo=None),
        max_value=high.replace(tzinfo=None),
        timezones=st.just(tz),
        allow_imaginary=allow_imaginary,
    ).filter(_between(low, high))


_A_YEAR = dt.timedelta(days=366)
#: The default span of receipts: past (the engine refuses events after its
#: clock) and inside the metropolitan zones' school data (2017-10 to 2028).
_FIRST_RECEIPT = dt.datetime(2018, 9, 1)
_LAST_RECEIPT = dt.datetime(2025, 12, 31, 23, 59)


def _between(low: dt.datetime, high: dt.datetime) -> Callable[[dt.datetime], bool]:
    """Whether an instant is within the bounds, compared as instants.

    Hypothesis draws wall-clock times between the bounds' wall-clock times,
    in both folds of a repeated hour; two datetimes of one ``ZoneInfo``
    compare by wall-clock time, fold ignored, so only UTC tells them apart.
    """
    first, last = low.astimezone(dt.UTC), high.astimezone(dt.UTC)
    return lambda t: first <= t.astimezone(dt.UTC) <= last


#: Event types that may follow a receipt, in the order a history draws among them.
_FOLLOWING = (
    "acknowledged", "holding_reply", "escalated", "suspended", "resumed", "answered",
    "flagged_complex", "reclassified", "closed", "reopened",
)  # fmt: skip


def _following_types(event_types: Collection[str] | None) -> tuple[str, ...]:
    if event_types is None:
        return _FOLLOWING
    wanted = {EventType.parse(t).value for t in event_types}
    if "received" in wanted:
        raise ValueError("event_types: a history has one 'received' event, always first")
    return tuple(t for t in _FOLLOWING if t in wanted)


def _allowed(kinds: tuple[str, ...], *, suspended: bool, closed: bool, answered: bool) -> list[str]:
    """The engine's rules (``check_history``): what may happen next in this state."""
    if closed:
        return [k for k in kinds if k == "reopened"]
    return [
        k
        for k in kinds
        if (k != "suspended" or not suspended)
        and (k != "resumed" or suspended)
        and (k != "reopened" or answered)
    ]


@st.composite
def contact_histories(
    draw: st.DrawFn,
    *,
    contact_id: str | None = None,
    start: dt.datetime | None = None,
    min_received: dt.datetime | None = None,
    max_received: dt.datetime | None = None,
    channels: Sequence[str] = ("email", "letter", "web", "phone", "counter"),
    event_types: Collection[str] | None = None,
    max_events: int = 8,
    max_gap: dt.timedelta = dt.timedelta(days=6),
) -> list[ContactEvent]:
    """The events of one contact that the engine accepts, in the order they happen.

    A receipt, then acknowledgements (some announcing a delay), holding
    replies, escalations, suspensions and resumptions (of either pause
    mode's engagements), complex flags, reclassifications, answers (while
    suspended too), closures and reopenings: every history the engine's
    rules allow, each event drawn among those the contact's state allows.

    - ``contact_id``: the contact's id (default: drawn, ``C`` and digits).
    - ``start``: the instant of the receipt; or ``min_received`` and
      ``max_received``, aware bounds it is drawn between (default: September
      2018 to 2025, in Paris: in the past, where an engine on the machine's
      clock accepts them, and inside the metropolitan school zones' data;
      a later history needs an engine whose ``clock`` is past its last event).
    - ``channels``: the channels drawn for the receipt and reclassifications.
    - ``event_types``: the only event types drawn after the receipt, for a
      model that knows only some of them; a history ends early when none of
      them is allowed.
    - ``max_events``: at most this many events after the receipt.
    - ``max_gap``: the longest time between two events, elapsed (not wall-clock:
      a history crossing a clock change still runs forward), at minute
      resolution; zero, two events at one instant, is drawn too.

    >>> import datetime as dt
    >>> from zoneinfo import ZoneInfo
    >>> from hypothesis import find
    >>> monday = dt.datetime(2025, 11, 3, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    >>> history = find(
    ...     contact_histories(contact_id="D-1", start=monday, channels=["letter"],
    ...                       event_types=["suspended", "resumed", "answered"],
    ...                       max_gap=dt.timedelta(days=2)),
    ...     lambda h: h[-1].type.value == "resumed")
    >>> [e.type.value for e in history], {e.occurred_at for e in history} == {monday}
    (['received', 'suspended', 'resumed'], True)
    >>> received = find(
    ...     contact_histories(min_received=monday, max_received=monday + dt.timedelta(days=7)),
    ...     lambda h: True)[0].occurred_at
    >>> monday <= received <= monday + dt.timedelta(days=7)
    True
    """
    if start is not None and (min_received is not None or max_received is not None):
        raise ValueError("give start, or min_received and max_received, not both")
    kinds = _following_types(event_types)
    cid = contact_id or draw(st.from_regex(r"C[0-9]{1,6}", fullmatch=True))
    if start is not None:
        when = start
    elif min_received is None and max_received is None:
        when = draw(st.datetimes(min_value=_FIRST_RECEIPT, max_value=_LAST_RECEIPT)).replace(
            tzinfo=ZoneInfo("Europe/Paris")
        )
    else:
        bound = min_received if min_received is not None else max_received
        tz = None if bound is None else bound.tzinfo
        if tz is None:
            raise ValueError("min_received and max_received must be aware datetimes")
        low = (min_received or _FIRST_RECEIPT.replace(tzinfo=tz)).astimezone(tz)
        high = (max_received or _LAST_RECEIPT.replace(tzinfo=tz)).astimezone(tz)
        when = draw(
            st.datetimes(
                min_value=low.replace(tzinfo=None),
                max_value=high.replace(tzinfo=None),
                timezones=st.just(tz),
            ).filter(_between(low, high))
        )
    channel = draw(st.sampled_from(list(channels)))
    priority = draw(st.sampled_from(["normal", "normal", "urgent"]))
    events = [
        ContactEvent(
            event_id=f"{cid}-0",
            contact_id=cid,
            type="received",
            occurred_at=when,
            channel=channel,
            priority=priority,
        )
    ]

    longest = max(0, int(max_gap.total_seconds() // 60))
    zone = when.tzinfo
    suspended = closed = answered = False
    for n in range(1, draw(st.integers(0, max_events)) + 1):
        allowed = _allowed(kinds, suspended=suspended, closed=closed, answered=answered)
        if not allowed:
            break
        # Elapsed time, added in UTC: on a ZoneInfo datetime ``+`` adds wall-clock
        # time, which goes back in time after a wall time that a DST change skips.
        gap = dt.timedelta(minutes=draw(st.integers(0, longest)))
        when = (when.astimezone(dt.UTC) + gap).astimezone(zone)
        kind = draw(st.sampled_from(allowed))
        announced = None
        if kind == "acknowledged" and draw(st.booleans()):
            announced = draw(delays(units=["jours ouvrés"], max_amount=30))
        new_channel = draw(st.sampled_from(list(channels))) if kind == "reclassified" else None
        events.append(
            ContactEvent(
                event_id=f"{cid}-{n}",
                contact_id=cid,
                type=kind,
                occurred_at=when,
                announced_delay=announced,
                channel=new_channel,
            )
        )
        if kind == "suspended":
            suspended = True
        elif kind == "resumed":
            suspended = False
        elif kind == "answered":
            answered = True
        elif kind == "closed":
            closed, suspended = True, False
        elif kind == "reopened":
            suspended = closed = answered = False
    return events


@st.composite
def interleaved_histories(
    draw: st.DrawFn,
    *,
    min_contacts: int = 1,
    max_contacts: int = 5,
    min_received: dt.datetime | None = None,
    max_received: dt.datetime | None = None,
    channels: Sequence[str] = ("email", "letter", "web", "phone", "counter"),
    event_types: Collection[str] | None = None,
    max_events: int = 8,
    max_gap: dt.timedelta = dt.timedelta(days=6),
) -> list[ContactEvent]:
    """Several contacts' histories interleaved by time, as a service records them.

    Contacts are ``C0``, ``C1``…; each is a :func:`contact_histories` draw
    with the options of the same names; events at one instant keep each
    contact's own order.

    >>> import datetime as dt
    >>> from zoneinfo import ZoneInfo
    >>> from hypothesis import find
    >>> day = dt.datetime(2025, 11, 3, tzinfo=ZoneInfo("Europe/Paris"))
    >>> events = find(
    ...     interleaved_histories(min_contacts=2, max_contacts=2, min_received=day,
    ...                           max_received=day + dt.timedelta(hours=8),
    ...                           event_types=["answered"], max_events=1),
    ...     lambda events: len(events) == 4)
    >>> sorted({e.contact_id for e in events}), sorted(e.type.value for e in events)
    (['C0', 'C1'], ['answered', 'answered', 'received', 'received'])
    """
    count = draw(st.integers(min_contacts, max_contacts))
    histories = [
        draw(
            contact_histories(
                contact_id=f"C{n}",
                min_received=min_received,
                max_received=max_received,
                channels=channels,
                event_types=event_types,
                max_events=max_events,
                max_gap=max_gap,
            )
        )
        for n in range(count)
    ]
    merged = [e for history in histories for e in history]
    # Stable: each contact keeps its own order where instants are equal.
    return sorted(merged, key=lambda e: e.occurred_at)


_ENGAGEMENT = """
[[engagement]]
id = "{id}"
title = "Engagement {id}"
source = "generated"
kind = "response"
when = {{ channel = [{channels}] }}
stop = ["answered"]
target = "{target}"
{pause}{warn}"""


@st.composite
def catalogue_texts(draw: st.DrawFn, *, max_engagements: int = 4) -> str:
    """The TOML text of a valid catalogue of response engagements.

    Each engagement names some channels, a delay in a day unit, maybe a pause
    in either mode and warning thresholds: material for properties over any
    catalogue a service could write.  ``max_engagements``: at most this many
    engagements (at least one).

    >>> from hypothesis import find
    >>> text = find(catalogue_texts(max_engagements=2), lambda t: t.count("[[engagement]]") == 2)
    >>> text.count("[[engagement]]")
    2
    """
    blocks = []
    for n in range(draw(st.integers(1, max_engagements))):
        channels = draw(
            st.lists(st.sampled_from(["email", "letter", "web", "phone", "counter"]),
                     min_size=1, max_size=3, unique=True)
        )  # fmt: skip
        target = draw(delays(units=["jours ouvrés", "jours ouvrables", "jours calendaires"]))
        pause = ""
        if draw(st.booleans()):
            mode = draw(st.sampled_from(["suspend", "restart"]))
            pause = f'pause = "suspended"\npause_mode = "{mode}"\n'
        warn = "warn_at = [0.5, 0.8]\n" if draw(st.booleans()) else ""
        blocks.append(
            _ENGAGEMENT.format(
                id=f"e{n}",
                channels=", ".join(f'"{c}"' for c in channels),
                target=target,
                pause=pause,
                warn=warn,
            )
        )
    return '[catalogue]\nid = "generated"\ntitle = "Generated"\nversion = "1"\n' + "".join(blocks)


def catalogues(*, max_engagements: int = 4) -> st.SearchStrategy[Catalogue]:
    """Catalogues parsed from :func:`catalogue_texts` (``max_engagements`` likewise).

    >>> from hypothesis import find
    >>> catalogue = find(catalogues(max_engagements=3),
    ...                  lambda c: any(e.pause_mode.value == "restart" and e.pause
    ...                                for e in c.engagements))
    >>> sorted({e.pause_mode.value for e in catalogue.engagements if e.pause} & {"restart"})
    ['restart']

    """
    return catalogue_texts(max_engagements=max_engagements).map(
        lambda text: parse_catalogue(text, source="<generated>")
    )


_LOG_HEADER = (
    "event_id,contact_id,type,occurred_at,recorded_at,channel,category,priority,service,attributes"
)


@st.composite
def malformed_log_rows(draw: st.DrawFn) -> str:
    """A CSV log row (under the standard header) that the reader must reject.

    For users' own fuzzing of their exports' readers: each draw breaks one
    thing — a timestamp, the type, a required field, the attributes' JSON,
    the number of columns.

    >>> from hypothesis import find
    >>> find(malformed_log_rows(), lambda row: "T10:00:00," in row)
    'E1,C1,answered,2025-10-20T10:00:00,,,,,,'
    """
    good = ["E1", "C1", "answered", "2025-10-20T10:00:00+02:00", "", "", "", "", "", ""]
    breakage = draw(st.sampled_from(
        ["timestamp", "naive", "type", "contact", "event", "json", "columns"]
    ))  # fmt: skip
    row = list(good)
    if breakage == "timestamp":
        row[3] = draw(st.sampled_from(["17/10/2025", "yesterday", "2025-13-45T10:00:00+02:00"]))
    elif breakage == "naive":
        row[3] = "2025-10-20T10:00:00"
    elif breakage == "type":
        row[2] = draw(st.sampled_from(["anwsered", "forwarded", "42"]))
    elif breakage == "contact":
        row[1] = ""
    elif breakage == "event":
        row[0] = ""
    elif breakage == "json":
        row[9] = draw(st.sampled_from(["{oops", "[1, 2]", '"text"']))
    else:
        row = row[: draw(st.integers(1, 8))]
    # Quoted as a CSV writer quotes: JSON that is not an object stays one field.
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(row)
    return out.getvalue()
