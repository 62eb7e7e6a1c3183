"""check(), escalations and the worklist at their boundaries: instants equal to one another.

- A check asked exactly at a warning reports it, and the next check does not
  repeat it (a crossing belongs to the first check whose window holds it,
  closed on the right).
- A contact answered exactly at its expiry, between two checks, is late: the
  second check reports its breach.
- A contact recorded late, whose warning equals the previous check's
  instant, is still warned.
- Escalation: a contact answered late between two checks is not escalated;
  one closed then reopened is escalated for its new cycle's breach.
- A past worklist whose bound equals a contact's first warning lists it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sla_engine import EscalationPolicy, SlaEngine

from .engine_support import event_mapping

PARIS = ZoneInfo("Europe/Paris")


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def _engine(**options: object) -> SlaEngine:
    return SlaEngine("marianne-besancon", "fr", clock=lambda: _at(2026, 1, 1), **options)  # type: ignore[arg-type]


def _alerts(alerts: list, contact: str | None = None) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return [
        (a.kind, a.timer.engagement_id, a.at.isoformat())
        for a in alerts
        if contact is None or a.timer.contact_id == contact
    ]


def _escalations(engine: SlaEngine, contact: str) -> list[str]:
    return [e.event_id for e in engine.history(contact) if e.type.value == "escalated"]


# marianne-besancon's email-5, received Monday 13 October 2025 at 10:00:
# warnings at midnight starting Friday 17 October, expiry at midnight ending
# Monday 20 October.
RECEIVED = _at(2025, 10, 13, 10)
WARNING = _at(2025, 10, 17)
EXPIRY = _at(2025, 10, 21)


def test_a_check_exactly_at_a_warning_reports_it_once() -> None:
    engine = _engine()
    engine.record_many([event_mapping("d1", "D", "received", RECEIVED)])
    (timer,) = [t for t in engine.timers("D") if t.engagement_id == "email-5"]
    assert timer.warnings[0] == WARNING
    assert _alerts(engine.check(now=WARNING)) == [
        ("warning", "email-5", "2025-10-17T00:00:00+02:00")
    ]
    # The next check's window starts after the previous check: not again.
    assert _alerts(engine.check(now=WARNING + dt.timedelta(hours=1))) == []


def test_an_answer_exactly_at_expiry_between_two_checks_is_a_breach() -> None:
    # The expiry instant is past the deadline: an answer then is late, and
    # the check after it reports the breach the timer crossed while open.
    engine = _engine()
    engine.record_many([event_mapping("d1", "D", "received", RECEIVED)])
    engine.check(now=_at(2025, 10, 20, 12))
    (timer,) = [t for t in engine.timers("D") if t.engagement_id == "email-5"]
    assert timer.expires_at == EXPIRY
    engine.record_many([event_mapping("d2", "D", "answered", EXPIRY)])
    assert [t.state.value for t in engine.timers("D") if t.engagement_id == "email-5"] == ["late"]
    assert _alerts(engine.check(now=_at(2025, 10, 22))) == [
        ("breach", "email-5", "2025-10-21T00:00:00+02:00")
    ]


def test_a_contact_recorded_late_is_warned_at_the_previous_checks_instant() -> None:
    # D's first warning (17 Oct 00:00) is the very instant of the previous
    # check, which could not see D: the next check must report it.
    engine = _engine()
    engine.record_many(
        [
            {
                "event_id": "x1",
                "contact_id": "X",
                "type": "received",
                "channel": "letter",
                "occurred_at": _at(2025, 10, 1, 10),
            }
        ]
    )
    engine.check(now=WARNING)
    engine.record_many([event_mapping("d1", "D", "received", RECEIVED)])
    assert _alerts(engine.check(now=WARNING + dt.timedelta(hours=1)), "D") == [
        ("warning", "email-5", "2025-10-17T00:00:00+02:00")
    ]


def test_a_contact_answered_late_between_two_checks_is_not_escalated() -> None:
    # Its breach is reported, but there is nobody to escalate to any more:
    # the contact is answered.
    policy = EscalationPolicy(to="N+1", on=("breach",))
    engine = _engine(escalation=policy)
    engine.record_many([event_mapping("d1", "D", "received", RECEIVED)])
    engine.check(now=_at(2025, 10, 20, 12))
    engine.record_many([event_mapping("d2", "D", "answered", _at(2025, 10, 22, 10))])
    alerts = engine.check(now=_at(2025, 10, 23))
    assert ("breach", "email-5", "2025-10-21T00:00:00+02:00") in _alerts(alerts, "D")
    assert _escalations(engine, "D") == []


def test_a_contact_closed_then_reopened_is_escalated_for_its_new_cycle() -> None:
    # The closure belongs to the first cycle: the reopened contact's breach
    # is escalated.
    policy = EscalationPolicy(to="N+1", on=("breach",))
    engine = _engine(escalation=policy)
    engine.record_many(
        [
            event_mapping("r1", "R", "received", _at(2025, 10, 1, 10)),
            event_mapping("r2", "R", "answered", _at(2025, 10, 2, 10)),
            event_mapping("r3", "R", "closed", _at(2025, 10, 2, 11)),
            event_mapping("r4", "R", "reopened", _at(2025, 10, 6, 10)),
        ]
    )
    engine.check(now=_at(2025, 10, 31))
    assert _escalations(engine, "R") == ["sla-engine:email-5:1:breach"]


def test_a_past_worklist_bounded_at_a_first_warning_lists_the_contact() -> None:
    # « before » is inclusive: a contact whose attention starts at that very
    # instant is on the list; Z, received later, is not.
    engine = _engine()
    engine.record_many(
        [
            event_mapping("d1", "D", "received", RECEIVED),
            event_mapping("z1", "Z", "received", _at(2025, 11, 30, 10)),
        ]
    )
    listed = [(t.contact_id, t.engagement_id) for t in engine.worklist(WARNING, now=WARNING)]
    assert listed == [("D", "email-5")]
    earlier = WARNING - dt.timedelta(minutes=1)
    assert [t.contact_id for t in engine.worklist(earlier, now=earlier)] == []
