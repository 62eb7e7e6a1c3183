"""check() between two checks, escalations that cannot be recorded, obligations' keys.

- A timer that crossed its warnings and expiry between two checks, and was
  answered (late) before the second, was never reported: check() read the
  open timers only. Timers stopped since the store's previous check (by
  any engine) are reported for what they crossed while open.
- An escalation refused by the contact's rules, or asked ahead of the
  clock, was dropped without a word; a closed contact is not escalated, a
  check ahead of the clock foresees (its escalations wait for the clock),
  and any other refusal raises.
- From an audit of the embedded API: an escalation the engine recorded made
  the service's own closure, recorded late, impossible; a contact recorded
  when already overdue was never alerted; alerts were lost when on_alert
  raised, repeated after a restart, and repeated after a check asked at an
  earlier instant.
- An obligation period's cycle depended on the school years a question
  evaluated: the worklist and status_as_of gave one week two keys.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla_engine import (
    ContactRuleError,
    EscalationPolicy,
    NaiveDatetimeError,
    SiteEvent,
    SlaEngine,
    SlaEngineError,
)

from .engine_support import event_mapping

PARIS = ZoneInfo("Europe/Paris")


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def _event(n: str, kind: str, when: dt.datetime, contact: str = "A") -> dict[str, object]:
    return event_mapping(n, contact, kind, when)


def _alerts(alerts: list) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return [(a.kind, a.timer.contact_id, a.at.isoformat()) for a in alerts]


# marianne-besancon's email-5: received Monday 3 November, warnings on the
# 7th and 8th, expiry at midnight ending Monday 10 November (11 November is
# a holiday).
EXPECTED = [
    ("warning", "A", "2025-11-07T00:00:00+01:00"),
    ("warning", "A", "2025-11-08T00:00:00+01:00"),
    ("breach", "A", "2025-11-11T00:00:00+01:00"),
]


@pytest.mark.parametrize("engines", ["one", "two"])
def test_a_timer_answered_late_between_two_checks_is_reported(tmp_path: Path, engines: str) -> None:
    store = f"sqlite:///{tmp_path / 's.db'}"
    clock = [_at(2025, 11, 20)]
    checker = SlaEngine("marianne-besancon", "fr", store=store, clock=lambda: clock[0])
    recorder = (
        checker
        if engines == "one"
        else SlaEngine("marianne-besancon", "fr", store=store, clock=lambda: clock[0])
    )
    recorder.record(_event("1", "received", _at(2025, 11, 3, 10)))
    recorder.record(_event("1", "received", _at(2025, 11, 3, 10), contact="B"))
    assert checker.check(_at(2025, 11, 5, 12)) == []
    recorder.record(_event("2", "answered", _at(2025, 11, 12, 9)))
    alerts = checker.check(_at(2025, 11, 12, 12))
    b_open = [(k, "B", at) for k, _, at in EXPECTED]
    assert sorted(_alerts(alerts)) == sorted(EXPECTED + b_open)
    # Reported once: the next check finds nothing new for either.
    assert checker.check(_at(2025, 11, 13, 12)) == []
    # An answer before the first warning crossed nothing.
    recorder.record(_event("3", "received", _at(2025, 11, 13, 10), contact="C"))
    recorder.record(_event("4", "answered", _at(2025, 11, 14, 10), contact="C"))
    assert checker.check(_at(2025, 11, 24, 12)) == []


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_rebuilt_view_keeps_where_the_last_check_stopped(tmp_path: Path, store: str) -> None:
    # Rebuilding the view (by hand, or on opening the store with new calendar
    # data) forgot the last check's position: timers stopped since then were
    # never alerted.
    url = "memory" if store == "memory" else f"sqlite:///{tmp_path / 's.db'}"
    engine = SlaEngine("marianne-besancon", "fr", store=url, clock=lambda: _at(2025, 11, 20))
    engine.record(_event("1", "received", _at(2025, 11, 3, 10)))
    assert engine.check(_at(2025, 11, 5, 12)) == []
    engine.record(_event("2", "answered", _at(2025, 11, 12, 9)))
    engine.rebuild_view()
    assert sorted(_alerts(engine.check(_at(2025, 11, 12, 12)))) == sorted(EXPECTED)


def test_escalations_are_recorded_or_refused_aloud(tmp_path: Path) -> None:
    clock = _at(2025, 11, 4)
    engine = SlaEngine(
        "marianne-besancon",
        "fr",
        clock=lambda: clock,
        escalation=EscalationPolicy(to="N+1", on=("breach",)),
    )
    engine.record(_event("1", "received", _at(2025, 11, 3, 10)))
    engine.record(_event("1", "received", _at(2025, 11, 3, 10), contact="B"))
    engine.record(_event("2", "closed", _at(2025, 11, 3, 12), contact="B"))
    # Asked ahead of the clock: foreseen, not escalated (it has not happened yet).
    alerts = engine.check(_at(2025, 11, 12, 12))
    assert ("breach", "A", "2025-11-11T00:00:00+01:00") in _alerts(alerts)
    assert ("breach", "B", "2025-11-11T00:00:00+01:00") in _alerts(alerts)
    assert [e.type.value for e in engine.history("A")] == ["received"]
    # Once the clock is there, the breach is reported again and escalated, at its instant.
    clock = _at(2025, 11, 12, 12)
    assert ("breach", "A", "2025-11-11T00:00:00+01:00") in _alerts(engine.check())
    escalation = engine.history("A")[-1]
    assert escalation.type.value == "escalated"
    assert escalation.occurred_at == _at(2025, 11, 11, 0)
    assert escalation.recorded_at == clock
    # A closed contact is not escalated (only a reopening may follow a closure).
    assert [e.type.value for e in engine.history("B")] == ["received", "closed"]


def test_an_escalation_refused_for_another_reason_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from sla_engine import DataError
    from sla_engine._engine import RecordResult, Rejected

    engine = SlaEngine(
        "marianne-besancon",
        "fr",
        clock=lambda: _at(2025, 11, 20),
        escalation=EscalationPolicy(to="N+1", on=("breach",)),
    )
    engine.record(_event("1", "received", _at(2025, 11, 3, 10)))

    def refused(events: list, **options: object) -> RecordResult:  # type: ignore[type-arg]
        return RecordResult(tuple(Rejected(e, DataError("refused", field="to")) for e in events))

    monkeypatch.setattr(engine, "record_many", refused)
    with pytest.raises(
        SlaEngineError, match="1 escalation\\(s\\) could not be recorded; the first, "
    ):
        engine.check(_at(2025, 11, 12, 12))


def test_since_must_be_aware() -> None:
    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: _at(2025, 11, 20))
    with pytest.raises(NaiveDatetimeError, match="since"):
        engine.check(_at(2025, 11, 12), since=dt.datetime(2025, 11, 5))


def test_an_obligation_period_has_one_key_whatever_the_question() -> None:
    clock = _at(2026, 9, 9, 10)
    engine = SlaEngine("qualicirco", "fr+B", clock=lambda: clock)
    engine.record_site_events([SiteEvent("p1", "published", _at(2026, 6, 9, 10), what="site web")])

    def keys(timers: list) -> dict[str, tuple[str, str, int]]:  # type: ignore[type-arg]
        return {t.period: t.key for t in timers if t.engagement_id == "website-weekly"}

    from_worklist = keys(engine.worklist(_at(2026, 9, 14), now=clock))
    everything = keys(engine.status_as_of(clock))
    assert from_worklist
    assert all(everything[period] == key for period, key in from_worklist.items())
    assert everything["2026-W37"][2] == 2026001  # the second week of 2026-2027


def test_two_checks_at_once_never_move_the_position_back(make_engine) -> None:  # type: ignore[no-untyped-def]
    """Each check() writes the log's position it read; the later one may write a lower one."""
    view = make_engine().view
    view.set_state_value("check_position", 10, higher_only=True)
    view.set_state_value("check_position", 5, higher_only=True)  # a slower check's
    assert view.state_value("check_position") == 10
    view.set_state_value("check_position", 12, higher_only=True)
    assert view.state_value("check_position") == 12
    view.set_state_value("check_position", 3)  # a plain write still writes
    assert view.state_value("check_position") == 3


def test_a_closure_recorded_late_is_not_refused_for_an_escalation(tmp_path: Path) -> None:
    clock = [_at(2025, 11, 12, 9)]
    engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / "s.db"),
                       clock=lambda: clock[0], escalation=EscalationPolicy(to="N+1"))  # fmt: skip
    engine.record(_event("1", "received", _at(2025, 11, 3, 10)))
    engine.check()  # the breach of 11 November: escalated
    assert [e.type.value for e in engine.history("A")][-1] == "escalated"
    # The service had closed it on the 10th; the closure reaches the engine now.
    clock[0] = _at(2025, 11, 13, 9)
    assert engine.record(_event("2", "closed", _at(2025, 11, 10, 11))).value == "recorded"
    assert [e.type.value for e in engine.history("A")] == ["received", "closed", "escalated"]
    # The same log copied in time order is accepted too: it is the history, not the order.
    copy = SlaEngine("marianne-besancon", "fr", clock=lambda: clock[0])
    assert copy.record_many(engine.history("A"), atomic=False).rejected == ()
    # The exemption is the engine's escalations' only: not any event with such an id.
    answered = _event("x", "answered", _at(2025, 11, 12, 10)) | {"event_id": "sla-engine:x"}
    with pytest.raises(ContactRuleError, match="after the contact was closed"):
        engine.record(answered)
    # An escalation of a contact already closed is still not recorded.
    engine.record(_event("1", "received", _at(2025, 11, 3, 10), contact="B"))
    engine.record(_event("2", "closed", _at(2025, 11, 3, 12), contact="B"))
    clock[0] = _at(2025, 11, 20, 9)
    engine.check()
    assert [e.type.value for e in engine.history("B")] == ["received", "closed"]


def test_a_contact_recorded_when_already_overdue_is_alerted_once() -> None:
    clock = [_at(2025, 11, 14, 9)]
    got: list = []  # type: ignore[type-arg]
    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: clock[0], on_alert=got.append)
    engine.check()
    clock[0] = _at(2025, 11, 14, 10)
    engine.record(_event("1", "received", _at(2025, 11, 3, 10)))  # a receipt scanned late
    assert _alerts(engine.check()) == EXPECTED
    clock[0] = _at(2025, 11, 15, 10)
    assert engine.check() == []
    assert _alerts(got) == EXPECTED


def test_alerts_that_on_alert_could_not_take_come_again() -> None:
    failing = [True]
    got: list = []  # type: ignore[type-arg]

    def deliver(alert: object) -> None:
        if failing[0]:
            raise ConnectionError("the mail server is down")
        got.append(alert)

    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: _at(2025, 11, 12, 9),
                       on_alert=deliver, escalation=EscalationPolicy(to="N+1"))  # fmt: skip
    engine.record(_event("1", "received", _at(2025, 11, 3, 10)))
    with pytest.raises(ConnectionError):
        engine.check()
    assert [e.type.value for e in engine.history("A")][-1] == "escalated"  # before delivery
    failing[0] = False
    assert _alerts(engine.check()) == EXPECTED
    assert _alerts(got) == EXPECTED


def test_a_restarted_process_does_not_alert_again(tmp_path: Path) -> None:
    store = str(tmp_path / "s.db")
    got: list = []  # type: ignore[type-arg]
    first = SlaEngine("marianne-besancon", "fr", store=store,
                      clock=lambda: _at(2025, 11, 12, 9), on_alert=got.append)  # fmt: skip
    first.record(_event("1", "received", _at(2025, 11, 3, 10)))
    assert _alerts(first.check()) == EXPECTED
    first.close()
    again = SlaEngine(store=store, clock=lambda: _at(2025, 11, 13, 9), on_alert=got.append)
    assert again.check() == []
    assert len(got) == 3


def test_a_check_at_an_earlier_instant_does_not_bring_alerts_back() -> None:
    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: _at(2025, 11, 14, 9))
    engine.record(_event("1", "received", _at(2025, 11, 3, 10)))
    assert _alerts(engine.check(_at(2025, 11, 12))) == EXPECTED
    assert engine.check(_at(2025, 11, 10)) == []
    assert engine.check(_at(2025, 11, 13)) == []


def test_a_check_that_fails_leaves_the_changed_contacts_to_the_next() -> None:
    # An answer recorded late between two checks: its timer's crossings come
    # from the contacts changed since the last check, which a failed check
    # must not use up.
    clock = [_at(2025, 11, 6, 9)]
    failing = [False]
    got: list = []  # type: ignore[type-arg]

    def deliver(alert: object) -> None:
        if failing[0]:
            raise ConnectionError("the mail server is down")
        got.append(alert)

    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: clock[0], on_alert=deliver)
    engine.record(_event("1", "received", _at(2025, 11, 3, 10)))
    engine.check()
    clock[0] = _at(2025, 11, 12, 9)
    engine.record(_event("2", "answered", _at(2025, 11, 11, 8)))  # after the breach
    failing[0] = True
    with pytest.raises(ConnectionError):
        engine.check()
    failing[0] = False
    assert _alerts(engine.check()) == EXPECTED
    assert _alerts(got) == EXPECTED
