"""The public Hypothesis strategies give values the engine accepts."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
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


@given(sla.contact_histories())
def test_contact_histories_obey_the_rules(history: list[ContactEvent]) -> None:
    check_history(history, history[0].contact_id, history[-1].event_id)
    assert history[0].type.value == "received"


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
