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

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - hypothesis is an optional extra
    raise ImportError(
        "sla_engine.strategies needs Hypothesis: pip install 'sla-engine[strategies]'"
    ) from error

from ._calendar import Calendar, calendar
from ._catalogue import Catalogue, parse_catalogue
from ._contact import ContactEvent
from ._delay import Delay, Unit
from ._school import school_zones
from ._territories import territories

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

    >>> calendar_specs().example() in {*(t.spec for t in territories())} or True
    True
    """
    plain = [t.spec for t in territories()]
    if not school_zones_too:
        return st.sampled_from(plain)
    zones = [z.key for z in school_zones()]
    return st.sampled_from(plain) | st.builds(
        lambda spec, zone: f"{spec}+{zone}", st.sampled_from(plain), st.sampled_from(zones)
    )


def calendars(*, school_zones_too: bool = False) -> st.SearchStrategy[Calendar]:
    """Calendars built from :func:`calendar_specs`."""
    return calendar_specs(school_zones_too=school_zones_too).map(calendar)


def delays(
    *, units: Sequence[Unit | str] | None = None, max_amount: int = 60
) -> st.SearchStrategy[Delay]:
    """Delays of 1 to ``max_amount`` units (every day-based unit but jours scolaires by default).

    >>> delays(units=["mois"], max_amount=3).example().unit.value
    'mois'
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

    ``allow_imaginary=False`` leaves out wall times that a DST change skips.
    Bounds default to 1990–2040, well inside the public-holiday data.
    """
    tz = cal.tz
    if not isinstance(tz, ZoneInfo):  # pragma: no cover - calendars use ZoneInfo
        raise TypeError("received_instants needs a calendar with an IANA time zone")
    low = (min_value or dt.datetime(1990, 1, 1, tzinfo=tz)).astimezone(tz).replace(tzinfo=None)
    high = (max_value or dt.datetime(2040, 12, 31, tzinfo=tz)).astimezone(tz).replace(tzinfo=None)
    return st.datetimes(
        min_value=low, max_value=high, timezones=st.just(tz), allow_imaginary=allow_imaginary
    )


@st.composite
def contact_histories(
    draw: st.DrawFn,
    *,
    contact_id: str | None = None,
    start: dt.datetime | None = None,
    channels: Sequence[str] = ("email", "letter", "web", "phone", "counter"),
    max_events: int = 8,
) -> list[ContactEvent]:
    """The events of one contact that the engine accepts, in the order they happen.

    A receipt, then acknowledgements, holding replies, escalations,
    suspensions and resumptions (of either pause mode's engagements),
    complex flags, reclassifications, answers, closures and reopenings, each
    allowed only when the contact's state allows it.
    """
    cid = contact_id or draw(st.from_regex(r"C[0-9]{1,6}", fullmatch=True))
    when = start or draw(
        st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31))
    ).replace(tzinfo=ZoneInfo("Europe/Paris"))
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

    state = "open"
    for n in range(1, draw(st.integers(0, max_events)) + 1):
        when = when + dt.timedelta(minutes=draw(st.integers(0, 60 * 24 * 6)))
        allowed = {
            "open": ["acknowledged", "holding_reply", "escalated", "suspended", "answered",
                     "flagged_complex", "reclassified", "closed"],
            "suspended": ["resumed", "closed"],
            "answered": ["closed", "reopened", "acknowledged"],
            "closed": ["reopened"],
        }[state]  # fmt: skip
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
        state = {
            "suspended": "suspended",
            "resumed": "open",
            "answered": "answered",
            "closed": "closed",
            "reopened": "open",
        }.get(kind, state)
    return events


@st.composite
def interleaved_histories(
    draw: st.DrawFn, *, min_contacts: int = 1, max_contacts: int = 5
) -> list[ContactEvent]:
    """Several contacts' histories interleaved by time, as a service records them."""
    count = draw(st.integers(min_contacts, max_contacts))
    histories = [draw(contact_histories(contact_id=f"C{n}")) for n in range(count)]
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
    catalogue a service could write.
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
    """Catalogues parsed from :func:`catalogue_texts`."""
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
    return ",".join(row)


def _register_types() -> None:
    """Hypothesis's entry point: ``st.from_type`` for the engine's public value types."""
    st.register_type_strategy(Delay, delays())
    st.register_type_strategy(Calendar, calendars())
    st.register_type_strategy(ContactEvent, contact_histories().map(lambda h: h[0]))
