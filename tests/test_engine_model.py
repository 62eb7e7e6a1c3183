"""The engine against a small reference model, driven by Hypothesis.

The reference model below counts working days one by one with the
``holidays`` package's dates (no index, no event store, no view), and
applies the pause rules in the plainest way.  A state machine records random
valid histories of several contacts, drawn by the public strategies
(``sla_engine.strategies.contact_histories``), one event at a time and the
contacts interleaved, and compares every timer with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import holidays
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

import sla_engine
from sla_engine import ContactEvent
from sla_engine import strategies as sla
from sla_engine._catalogue import parse_catalogue
from sla_engine._engine import SlaEngine
from sla_engine._timers import TimerState

from .engine_support import P

MODEL_CATALOGUE = parse_catalogue(
    """
[catalogue]
id = "model"
title = "Reference model"
version = "1"

[[engagement]]
id = "email-5"
title = "e-mails, 5 jours ouvrés, suspendus pendant l'attente"
source = "model"
kind = "response"
when = { channel = ["email"] }
stop = ["answered"]
pause = "suspended"
pause_mode = "suspend"
target = "5 jours ouvrés"

[[engagement]]
id = "letter-15"
title = "courriers, 15 jours ouvrés, repartis à la reprise"
source = "model"
kind = "response"
when = { channel = ["letter"] }
stop = ["answered"]
pause = "suspended"
pause_mode = "restart"
target = "15 jours ouvrés"

[[engagement]]
id = "ack"
title = "accusé de réception en 2 jours ouvrés"
source = "model"
kind = "response"
stop = ["acknowledged"]
target = "2 jours ouvrés"
""",
    source="tests/test_engine_model.py",
)

RULES = {  # engagement: (channel or None for any, days, stop, pause mode)
    "email-5": ("email", 5, "answered", "suspend"),
    "letter-15": ("letter", 15, "answered", "restart"),
    "ack": (None, 2, "acknowledged", None),
}
HOLIDAYS = frozenset(holidays.France(years=range(2024, 2028)))


def working(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in HOLIDAYS


def add_working_days(day: dt.date, n: int) -> dt.date:
    while n:
        day += dt.timedelta(days=1)
        n -= working(day)
    return day


def count_working_days(a: dt.date, b: dt.date) -> int:
    return sum(working(a + dt.timedelta(days=k)) for k in range(1, (b - a).days + 1))


def local_day(instant: dt.datetime) -> dt.date:
    return instant.astimezone(P).date()


def midnight_after(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=P)


@dataclass
class ModelTimer:
    state: TimerState
    due: dt.date | None


def model_timers(
    history: Sequence[tuple[str, dt.datetime]], channel: str, now: dt.datetime
) -> dict[tuple[str, int], ModelTimer]:
    """Timers of one contact by (engagement, cycle), from its (type, instant) history."""
    events = [(t, at) for t, at in history if at <= now]
    cycles: list[list[tuple[str, dt.datetime]]] = [[]]
    for event in events:
        if event[0] == "reopened":
            cycles.append([])
        cycles[-1].append(event)
    result = {}
    for engagement, (wanted, n, stop_type, mode) in RULES.items():
        if wanted is not None and wanted != channel:
            continue
        for number, cycle in enumerate(cycles):
            start = cycle[0][1]
            # Events at one instant keep their recording order: "before the stop" is by position.
            stop_index = next((i for i, (t, _) in enumerate(cycle) if i and t == stop_type), None)
            stop = None if stop_index is None else cycle[stop_index][1]
            running = cycle[1:stop_index]

            pauses: list[list[dt.datetime | None]] = []
            if mode is not None:
                for t, at in running:
                    if t == "suspended":
                        pauses.append([at, None])
                    elif t == "resumed":
                        pauses[-1][1] = at
            if stop is not None and pauses and pauses[-1][1] is None:
                pauses[-1][1] = stop  # stopped while paused: the pause ends there

            base, extra = local_day(start), 0
            due = add_working_days(base, n)
            paused = False
            for paused_at, resumed_at in pauses:
                assert paused_at is not None
                if paused_at >= midnight_after(due):
                    continue
                if resumed_at is None:
                    paused = True
                    break
                if mode == "restart":
                    base, extra = local_day(resumed_at), 0
                else:
                    extra += count_working_days(local_day(paused_at), local_day(resumed_at))
                due = add_working_days(base, n + extra)
            expires = midnight_after(due)
            if stop is not None:
                state = TimerState.MET if stop < expires else TimerState.LATE
            elif paused:
                state, due = TimerState.PAUSED, None  # type: ignore[assignment]
            elif now >= expires:
                state = TimerState.OVERDUE
            else:
                state = TimerState.RUNNING
            result[(engagement, number)] = ModelTimer(state, due)
    return result


@dataclass
class ContactModel:
    contact_id: str
    channel: str
    history: list[tuple[str, dt.datetime]] = field(default_factory=list)
    #: The contact's events not recorded yet, in their order.
    pending: list[ContactEvent] = field(default_factory=list)


START = dt.datetime(2025, 1, 6, 9, tzinfo=P)
gaps = st.integers(min_value=0, max_value=9 * 24).map(lambda h: dt.timedelta(hours=h))
# What the model knows: holding replies, escalations and complex flags change
# no timer of its catalogue (complex = "ignore"), and must not; it does not
# follow reclassifications, which change the channel.
MODEL_EVENTS = [
    "acknowledged", "holding_reply", "escalated", "flagged_complex",
    "suspended", "resumed", "answered", "closed", "reopened",
]  # fmt: skip


class EngineAgainstModel(RuleBasedStateMachine):
    contacts = Bundle("contacts")

    def __init__(self) -> None:
        super().__init__()
        self.engine = SlaEngine(MODEL_CATALOGUE, "fr")
        self.models: dict[str, ContactModel] = {}
        self.clock = START

    def _record(self, model: ContactModel, event: ContactEvent) -> None:
        self.engine.record(event)
        model.history.append((event.type.value, event.occurred_at))
        self.clock = max(self.clock, event.occurred_at)

    @rule(target=contacts, gap=gaps, data=st.data())
    def receive(self, gap: dt.timedelta, data: st.DataObject) -> ContactModel:
        contact_id = f"C{len(self.models)}"
        history = data.draw(
            sla.contact_histories(
                contact_id=contact_id,
                start=START + gap * (len(self.models) + 1),
                channels=["email", "letter", "phone"],
                event_types=MODEL_EVENTS,
                max_gap=dt.timedelta(days=9),
            )
        )
        assert history[0].channel is not None
        model = ContactModel(contact_id, history[0].channel, pending=history[1:])
        self.models[contact_id] = model
        self._record(model, history[0])
        return model

    @rule(model=contacts, steps=st.integers(1, 3))
    def advance(self, model: ContactModel, steps: int) -> None:
        """The contact's next events: other contacts' events come in between."""
        for _ in range(min(steps, len(model.pending))):
            self._record(model, model.pending.pop(0))

    @precondition(lambda self: bool(self.models))
    @invariant()
    def timers_agree_with_the_model(self) -> None:
        for offset in (dt.timedelta(0), dt.timedelta(days=3), dt.timedelta(days=30)):
            now = self.clock + offset
            for model in self.models.values():
                expected = model_timers(model.history, model.channel, now)
                got = {
                    (t.engagement_id, t.cycle): ModelTimer(
                        t.state, None if t.state is TimerState.PAUSED else t.due_date
                    )
                    for t in self.engine.timers(model.contact_id, now=now)
                }
                assert got == expected, (model, now)


EngineAgainstModel.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
TestEngineAgainstModel = EngineAgainstModel.TestCase


# -- properties ----------------------------------------------------------------------

days = st.integers(min_value=0, max_value=60)


def _engine_with(events: Sequence[ContactEvent | dict[str, object]]) -> SlaEngine:
    engine = SlaEngine(MODEL_CATALOGUE, "fr")
    engine.record_many(events)
    return engine


def _received(contact: str, when: dt.datetime, channel: str = "email") -> dict[str, object]:
    return {
        "event_id": f"{contact}-r",
        "contact_id": contact,
        "type": "received",
        "occurred_at": when,
        "channel": channel,
    }


@given(
    received_at=sla.received_instants(
        sla_engine.calendar("fr"), min_value=START, max_value=START + dt.timedelta(days=60)
    ),
    pause_at=days,
    pause_days=days,
)
def test_a_suspension_extends_the_deadline_by_exactly_its_counted_days(
    received_at: dt.datetime, pause_at: int, pause_days: int
) -> None:
    paused_at = received_at + dt.timedelta(days=pause_at, hours=1)
    resumed_at = paused_at + dt.timedelta(days=pause_days)
    plain = _engine_with([_received("C", received_at)])
    paused = _engine_with(
        [
            _received("C", received_at),
            {"event_id": "s", "contact_id": "C", "type": "suspended", "occurred_at": paused_at},
            {"event_id": "u", "contact_id": "C", "type": "resumed", "occurred_at": resumed_at},
        ]
    )
    later = resumed_at + dt.timedelta(days=1)
    (before,) = [t for t in plain.timers("C", now=later) if t.engagement_id == "email-5"]
    (after,) = [t for t in paused.timers("C", now=later) if t.engagement_id == "email-5"]
    assert before.due_date is not None
    assert after.due_date is not None

    # A pause never makes a deadline earlier …
    assert after.due_date >= before.due_date
    # … and moves it by exactly the counted days of the pause, if it began before the expiry.
    if paused_at < before.expires_at:  # type: ignore[operator]
        k = count_working_days(local_day(paused_at), local_day(resumed_at))
        assert count_working_days(before.due_date, after.due_date) == k
    else:
        assert after.due_date == before.due_date


# Valid events of a few contacts, each contact's in time order: every event type.
histories = sla.interleaved_histories(
    min_contacts=1,
    max_contacts=4,
    min_received=START,
    max_received=START + dt.timedelta(hours=400),
    channels=["email", "letter"],
    max_events=6,
    max_gap=dt.timedelta(hours=200),
)


def _snapshot(engine: SlaEngine) -> list[tuple[object, ...]]:
    now = START + dt.timedelta(days=90)
    return sorted((t.key, t.state, t.due_date, t.stopped_at) for t in engine.all_timers(now=now))


@given(events=histories, data=st.data())
def test_recording_twice_and_reordering_contacts_change_nothing(
    events: list[ContactEvent], data: st.DataObject
) -> None:
    reference = _snapshot(_engine_with(events))
    # The same events twice: every second recording is a duplicate.
    twice = _engine_with(events)
    result = twice.record_many(events)
    assert result.duplicates == len(events)
    assert _snapshot(twice) == reference
    # Independent contacts interleaved in another order (each contact's own order kept).
    by_contact: dict[str, list[ContactEvent]] = {}
    for e in events:
        by_contact.setdefault(e.contact_id, []).append(e)
    order = data.draw(st.permutations(list(by_contact)))
    shuffled = [e for c in order for e in by_contact[c]]
    assert _snapshot(_engine_with(shuffled)) == reference
    # As of the end of time, a replay of the log gives the live view.
    engine = _engine_with(events)
    end = START + dt.timedelta(days=90)
    assert sorted((t.key, t.state, t.due_date) for t in engine.status_as_of(end)) == sorted(
        (t.key, t.state, t.due_date) for t in engine.all_timers(now=end)
    )
