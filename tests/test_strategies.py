"""The public Hypothesis strategies give values the engine accepts."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sla_engine
from sla_engine import Calendar, ContactEvent, Delay, SlaEngine
from sla_engine import strategies as sla
from sla_engine._contact import check_history

from .engine_support import sample_catalogue


@given(sla.calendar_specs())
def test_calendar_specs_parse(spec: str) -> None:
    assert sla_engine.calendar(spec).spec.startswith("fr")


@given(sla.delays())
def test_delays(delay: Delay) -> None:
    assert delay.amount >= 1
    assert Delay.parse(str(delay)) == delay


@given(data=st.data(), cal=sla.calendars())
def test_received_instants_are_local_and_aware(data: st.DataObject, cal: Calendar) -> None:
    instant = data.draw(sla.received_instants(cal))
    assert instant.tzinfo is not None
    assert instant.utcoffset() is not None
    assert (
        dt.datetime(1989, 12, 30, tzinfo=dt.UTC) < instant < dt.datetime(2041, 1, 2, tzinfo=dt.UTC)
    )


@settings(max_examples=60)
@given(data=st.data(), spec=st.sampled_from(["fr+A", "fr+B", "fr+Corse", "fr-974+Réunion"]))
def test_received_instants_stay_where_the_school_data_can_count(
    data: st.DataObject, spec: str
) -> None:
    # The school data ends a few years ahead (Corse: July 2025): instants drawn
    # by default are days the calendar knows, with a year left for delays.
    cal = sla_engine.calendar(spec)
    instant = data.draw(sla.received_instants(cal))
    school = cal.coverage().school
    assert school is not None
    local = instant.astimezone(cal.tz).date()
    assert school[0] <= local <= school[1] - dt.timedelta(days=366)
    sla_engine.deadline(instant, "5 jours scolaires", cal)  # raises outside the data


def test_received_instants_from_a_lower_bound_past_the_default_span() -> None:
    from hypothesis import find

    corse = sla_engine.calendar("fr+Corse")  # school data to July 2025
    start = dt.datetime(2025, 1, 1, tzinfo=corse.tz)
    drawn = find(sla.received_instants(corse, min_value=start), lambda t: True)
    assert start <= drawn <= dt.datetime(2025, 7, 6, tzinfo=corse.tz)
    with pytest.raises(ValueError, match=r"after the end of the calendar's data \(2025-07-05\)"):
        sla.received_instants(corse, min_value=dt.datetime(2026, 1, 1, tzinfo=corse.tz))


@given(sla.contact_histories())
def test_contact_histories_obey_the_rules(history: list[ContactEvent]) -> None:
    check_history(history, history[0].contact_id, history[-1].event_id)
    assert history[0].type.value == "received"


@settings(max_examples=200)
@given(
    sla.contact_histories(
        # Around the night of 30 March 2025, when 2:00-3:00 does not exist in Paris.
        min_received=dt.datetime(2025, 3, 30, 1, 0, tzinfo=sla_engine.calendar("fr").tz),
        max_received=dt.datetime(2025, 3, 30, 2, 59, tzinfo=sla_engine.calendar("fr").tz),
        max_gap=dt.timedelta(minutes=50),
    )
)
def test_contact_histories_happen_in_their_order_across_a_clock_change(
    history: list[ContactEvent],
) -> None:
    instants = [e.occurred_at.astimezone(dt.UTC) for e in history]
    assert instants == sorted(instants)


_AUTUMN_PARIS = sla_engine.calendar("fr").tz
# 2:00-3:00 happens twice in Paris on 26 October 2025; fold=1 is the second time.
_SECOND_230 = dt.datetime(2025, 10, 26, 2, 30, fold=1, tzinfo=_AUTUMN_PARIS)
_FIRST_240 = dt.datetime(2025, 10, 26, 2, 40, fold=0, tzinfo=_AUTUMN_PARIS)


@settings(max_examples=200)
@given(
    sla.received_instants(
        sla_engine.calendar("fr"),
        min_value=_SECOND_230,
        max_value=dt.datetime(2025, 10, 26, 4, tzinfo=_AUTUMN_PARIS),
    )
)
def test_received_instants_keep_to_bounds_in_a_repeated_hour(instant: dt.datetime) -> None:
    assert instant.astimezone(dt.UTC) >= _SECOND_230.astimezone(dt.UTC)


@settings(max_examples=100)
@given(
    sla.contact_histories(
        min_received=dt.datetime(2025, 10, 26, 1, tzinfo=_AUTUMN_PARIS),
        max_received=_FIRST_240,
        max_events=0,
    )
)
def test_contact_histories_keep_to_bounds_in_a_repeated_hour(
    history: list[ContactEvent],
) -> None:
    assert history[0].occurred_at.astimezone(dt.UTC) <= _FIRST_240.astimezone(dt.UTC)


@given(sla.interleaved_histories())
def test_interleaved_histories_are_recorded_whole(events: list[ContactEvent]) -> None:
    last = max(e.occurred_at for e in events)
    engine = SlaEngine(sample_catalogue(), "fr", clock=lambda: last)
    result = engine.record_many(events)
    assert result.recorded == len(events)


@given(st.from_type(Delay), st.from_type(Calendar), st.from_type(ContactEvent))
def test_registered_with_hypothesis_through_the_entry_point(
    delay: Delay, cal: Calendar, event: ContactEvent
) -> None:
    assert isinstance(delay, Delay)
    assert isinstance(cal, Calendar)
    assert event.type.value == "received"


@given(cal=sla.calendars(), delay=sla.delays(units=["jours ouvrés", "jours calendaires"]),
       data=st.data())  # fmt: skip
def test_a_suspension_never_makes_a_deadline_earlier(
    cal: Calendar, delay: Delay, data: st.DataObject
) -> None:
    """The kind of property a rule author writes with these strategies (dogfooding)."""
    received = data.draw(
        sla.received_instants(cal, min_value=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    )
    pause = data.draw(st.integers(0, 40))
    plain = sla_engine.deadline(received, delay, cal).due_date
    resumed_day = received.astimezone(cal.tz).date() + dt.timedelta(days=pause)
    later = cal.add(resumed_day, delay.amount, delay.unit)
    assert later >= plain


@given(catalogue=sla.catalogues(), history=sla.contact_histories())
def test_generated_catalogues_evaluate_any_history(
    catalogue: sla_engine.Catalogue, history: list[ContactEvent]
) -> None:
    last = history[-1].occurred_at
    engine = SlaEngine(catalogue, "fr", clock=lambda: last)
    engine.record_many(history)
    for timer in engine.all_timers(now=last):
        assert timer.state.value in {"running", "paused", "at_risk", "met", "late", "overdue"}


@given(row=sla.malformed_log_rows())
def test_malformed_rows_are_rejected(row: str, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    from sla_engine._logs import LogRow, read_log
    from sla_engine.strategies import _LOG_HEADER

    path = tmp_path_factory.mktemp("rows") / "log.csv"
    good = "E0,C1,received,2025-10-17T10:00:00+02:00,,email,,,,"
    path.write_text("\n".join([_LOG_HEADER, good, row, good.replace("E0", "E9")]) + "\n")
    items = list(read_log(path))
    assert [type(i).__name__ for i in items] == ["LogRow", "RejectedRow", "LogRow"]
    assert isinstance(items[0], LogRow)


def test_the_docstring_examples_run() -> None:
    import doctest

    from sla_engine import strategies

    result = doctest.testmod(
        strategies, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted >= 20
    assert result.failed == 0


def test_importing_the_strategies_first_works() -> None:
    """Hypothesis loads the entry point while the module imports it: no circular import."""
    import subprocess
    import sys

    code = (
        "from sla_engine import strategies\n"
        "from hypothesis import strategies as st\n"
        "from sla_engine import Delay\n"
        "print(type(st.from_type(Delay).example()).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Delay"


MODEL_TYPES = ["acknowledged", "suspended", "resumed", "answered", "closed", "reopened"]


@given(
    history=sla.contact_histories(
        event_types=MODEL_TYPES,
        min_received=dt.datetime(2025, 3, 29, tzinfo=dt.UTC),
        max_received=dt.datetime(2025, 3, 31, tzinfo=dt.UTC),
        max_gap=dt.timedelta(hours=3),
        max_events=12,
    )
)
def test_contact_history_options(history: list[ContactEvent]) -> None:
    check_history(history, history[0].contact_id, history[-1].event_id)
    assert {e.type.value for e in history[1:]} <= set(MODEL_TYPES)
    received = history[0].occurred_at
    assert (
        dt.datetime(2025, 3, 29, tzinfo=dt.UTC)
        <= received
        <= dt.datetime(2025, 3, 31, tzinfo=dt.UTC)
    )
    assert len(history) <= 13
    for before, after in itertools.pairwise(history):
        assert dt.timedelta(0) <= after.occurred_at - before.occurred_at <= dt.timedelta(hours=3)


def test_contact_histories_reach_every_rule_of_the_engine() -> None:
    """Answers while suspended, a second answer, a suspension after an answer: all valid."""
    from hypothesis import find

    def types(history: list[ContactEvent]) -> list[str]:
        return [e.type.value for e in history]

    for wanted in (
        ["received", "suspended", "answered"],
        ["received", "answered", "answered"],
        ["received", "answered", "suspended"],
        ["received", "suspended", "closed", "reopened"],
    ):
        found = find(
            sla.contact_histories(
                event_types=["suspended", "answered", "closed", "reopened"], max_events=3
            ),
            lambda h, w=wanted: types(h) == w,
            settings=settings(max_examples=2000, database=None),
        )
        check_history(found, found[0].contact_id, found[-1].event_id)
        assert types(found) == wanted


@given(
    sla.interleaved_histories(
        min_contacts=2,
        max_contacts=3,
        min_received=dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC),
        max_received=dt.datetime(2025, 1, 7, 9, tzinfo=dt.UTC),
        event_types=["answered", "holding_reply"],
        max_events=2,
        max_gap=dt.timedelta(days=1),
    )
)
def test_interleaved_history_options(events: list[ContactEvent]) -> None:
    assert 2 <= len({e.contact_id for e in events}) <= 3
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    assert {e.type.value for e in events} <= {"received", "answered", "holding_reply"}
    assert all(e.occurred_at <= dt.datetime(2025, 1, 9, 9, tzinfo=dt.UTC) for e in events)


@settings(max_examples=60, deadline=None)
@given(history=sla.contact_histories())
def test_default_histories_are_accepted_on_the_machines_clock(history: list[ContactEvent]) -> None:
    """Drawn in the past by default: an engine on the real clock refuses nothing.

    They were drawn up to 2030, and an engine refuses an event after its clock.
    """
    engine = SlaEngine(sample_catalogue(), "fr+B")  # the machine's clock
    assert engine.record_many(history).recorded == len(history)
    assert history[0].occurred_at.year <= 2025


def test_naive_bounds_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="must be aware datetimes"):
        sla.received_instants(sla_engine.calendar("fr"), min_value=dt.datetime(2025, 11, 3, 9))


def test_each_json_breakage_is_one_field() -> None:
    import csv

    from hypothesis import find

    rows = [find(sla.malformed_log_rows(), lambda r, j=j: j in r) for j in ("[1, 2]", "text")]
    for row in rows:
        (fields,) = csv.reader([row])
        assert len(fields) == 10
    assert rows[0].endswith(',"[1, 2]"')
