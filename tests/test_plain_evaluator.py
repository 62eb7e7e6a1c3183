"""The plain evaluator gives the very timers of ``evaluate_contact`` on the histories it covers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from sla_engine import Catalogue, calendar, load_catalogue
from sla_engine import strategies as sla
from sla_engine._catalogue import catalogue_names
from sla_engine._timers import PLAIN_TYPES, PlainEvaluator, evaluate_contact

PLAIN = sorted(t.value for t in PLAIN_TYPES)
SHIPPED = {name: load_catalogue(name) for name in catalogue_names()}
CALENDARS = {spec: calendar(spec) for spec in ("fr", "fr-974")}


def resolver(spec: str):  # type: ignore[no-untyped-def]
    def calendars(key: str | None):  # type: ignore[no-untyped-def]
        return CALENDARS[spec] if key is None else calendar(key)

    return calendars


PARIS = ZoneInfo("Europe/Paris")
# Windows of a few weeks with public holidays, bridges and DST changes: several
# contacts received on the same or neighbouring days share what is remembered.
WINDOWS = [
    (dt.datetime(2025, 10, 20, tzinfo=PARIS), dt.datetime(2025, 11, 14, tzinfo=PARIS)),
    (dt.datetime(2025, 12, 15, tzinfo=PARIS), dt.datetime(2026, 1, 9, tzinfo=PARIS)),
    (dt.datetime(2026, 3, 20, tzinfo=PARIS), dt.datetime(2026, 4, 10, tzinfo=PARIS)),
    (dt.datetime(2026, 4, 27, tzinfo=PARIS), dt.datetime(2026, 5, 29, tzinfo=PARIS)),
]


@st.composite
def histories(draw: st.DrawFn) -> list[list[object]]:
    low, high = draw(st.sampled_from(WINDOWS))
    # Sometimes a burst: many contacts received within a day or two.
    days = draw(st.sampled_from([1, 2, 25]))
    high = min(high, low + dt.timedelta(days=days))
    one = sla.contact_histories(
        event_types=PLAIN,
        max_events=6,
        max_gap=dt.timedelta(days=9),
        min_received=low,
        max_received=high,
    )
    return draw(st.lists(one, min_size=1, max_size=12))


@st.composite
def bursts(draw: st.DrawFn) -> list[list[object]]:
    """Contacts of any history received on the same few days (they share deadlines)."""
    low, high = draw(st.sampled_from(WINDOWS))
    high = min(high, low + dt.timedelta(days=draw(st.sampled_from([1, 3]))))
    one = sla.contact_histories(max_events=7, min_received=low, max_received=high)
    return draw(st.lists(one, min_size=2, max_size=10))


@settings(max_examples=250, deadline=None)
@given(
    catalogue=st.one_of(
        st.sampled_from(sorted(SHIPPED.values(), key=lambda c: c.id)), sla.catalogues()
    ),
    spec=st.sampled_from(sorted(CALENDARS)),
    contacts=st.one_of(histories(), bursts()),
)
def test_the_same_timers_as_evaluate_contact(
    catalogue: Catalogue, spec: str, contacts: list[list[object]]
) -> None:
    """Plain histories, and bursts of any history (a complex flag: another delay, same day)."""
    calendars = resolver(spec)
    # One evaluator for all the contacts: what it remembers from one serves the next.
    evaluator = PlainEvaluator(catalogue, calendars)
    for history in contacts:
        assert evaluator.evaluate(history) == evaluate_contact(history, catalogue, calendars)  # type: ignore[arg-type]


def test_it_evaluates_the_bench_catalogue_itself_and_leaves_announced_delays() -> None:
    """Which classifications it plans (the rest go to evaluate_contact)."""
    evaluator = PlainEvaluator(SHIPPED["marianne-besancon"], resolver("fr"))
    assert evaluator._plan("email", None, "normal", None) is not None
    sp = PlainEvaluator(SHIPPED["services-publics-plus"], resolver("fr"))
    # « answer in the delay announced »: the announced delay is read by evaluate_contact.
    assert sp._plan("email", None, "normal", None) is None


def test_an_answer_at_the_expiry_instant_is_late() -> None:
    from sla_engine import ContactEvent

    catalogue = SHIPPED["marianne-besancon"]
    calendars = resolver("fr")
    received = dt.datetime(2025, 12, 19, 16, tzinfo=PARIS)  # a Friday before Christmas
    expiry = evaluate_contact(
        [
            ContactEvent(
                event_id="r", contact_id="C", type="received", occurred_at=received, channel="email"
            )
        ],
        catalogue,
        calendars,
    )[0].expires_at
    assert expiry is not None
    for answered, state in ((expiry - dt.timedelta(microseconds=1), "met"), (expiry, "late")):
        history = [
            ContactEvent(
                event_id="r", contact_id="C", type="received", occurred_at=received, channel="email"
            ),
            ContactEvent(event_id="a", contact_id="C", type="answered", occurred_at=answered),
        ]
        timers = PlainEvaluator(catalogue, calendars).evaluate(history)
        assert timers == evaluate_contact(history, catalogue, calendars)
        assert {t.state.value for t in timers if t.engagement_id == "email-5"} == {state}


@settings(max_examples=100, deadline=None)
@given(
    catalogue=st.sampled_from(sorted(SHIPPED.values(), key=lambda c: c.id)),
    contacts=st.lists(sla.contact_histories(max_events=8), min_size=1, max_size=5),
)
def test_any_history_gets_the_timers_of_evaluate_contact(
    catalogue: Catalogue, contacts: list[list[object]]
) -> None:
    """Pauses, reopenings, reclassifications, complex flags: handed to evaluate_contact."""
    calendars = resolver("fr")
    evaluator = PlainEvaluator(catalogue, calendars)
    for history in contacts:
        assert evaluator.evaluate(history) == evaluate_contact(history, catalogue, calendars)  # type: ignore[arg-type]


def test_two_delays_announced_the_same_day_keep_their_own_deadlines() -> None:
    """One engagement, one start day, no pause: the delay applied tells the deadlines apart."""
    from sla_engine import ContactEvent

    catalogue = SHIPPED["services-publics-plus"]
    calendars = resolver("fr")
    evaluator = PlainEvaluator(catalogue, calendars)
    morning = dt.datetime(2025, 11, 3, 9, tzinfo=PARIS)
    expiries = []
    for n, announced in enumerate(["5 jours ouvrés", "15 jours ouvrés", "5 jours ouvrés"]):
        history = [
            ContactEvent(event_id=f"r{n}", contact_id=f"C{n}", type="received",
                         occurred_at=morning, channel="email"),
            ContactEvent(event_id=f"a{n}", contact_id=f"C{n}", type="acknowledged",
                         occurred_at=morning + dt.timedelta(hours=1), announced_delay=announced),
        ]  # fmt: skip
        timers = evaluator.evaluate(history)
        assert timers == evaluate_contact(history, catalogue, calendars)
        (answer,) = [t for t in timers if t.engagement_id == "answer-announced"]
        expiries.append(answer.due_date)
    # 5 and 15 jours ouvrés from Monday 3 November 2025 (11 November a holiday).
    assert expiries == [dt.date(2025, 11, 10), dt.date(2025, 11, 25), dt.date(2025, 11, 10)]
