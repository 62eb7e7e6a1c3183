"""The engine's behaviour, run the same way on every persistence backend."""

from __future__ import annotations

import datetime as dt
import hmac

import pytest

from sla_engine import CalendarCoverageError, SlaEngineError, calendar
from sla_engine._catalogue import parse_catalogue
from sla_engine._contact import ContactRuleError, RecordOutcome
from sla_engine._engine import Alert, EscalationPolicy, Rejected
from sla_engine._timers import TimerState

from .engine_support import PERSISTENT, at, one_engagement

# Friday 7 Nov 2025, 10:00 in Paris.  Tuesday 11 Nov is the Armistice.
T0 = at(2025, 11, 7)


def received(contact: str = "C1", when: dt.datetime = T0, **fields: object) -> dict[str, object]:
    event: dict[str, object] = {
        "event_id": f"{contact}-r",
        "contact_id": contact,
        "type": "received",
        "occurred_at": when,
        "channel": "email",
    }
    event.update(fields)
    return event


def ev(contact: str, n: int, type_: str, when: dt.datetime, **fields: object) -> dict[str, object]:
    return {
        "event_id": f"{contact}-{n}",
        "contact_id": contact,
        "type": type_,
        "occurred_at": when,
        **fields,
    }


def timer(engine, contact: str, engagement: str, now: dt.datetime, cycle: int = 0):  # type: ignore[no-untyped-def]
    found = [
        t
        for t in engine.timers(contact, now=now)
        if t.engagement_id == engagement and t.cycle == cycle
    ]
    assert len(found) == 1, found
    return found[0]


class TestRecording:
    def test_recorded_then_duplicate(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        assert engine.record(received()) is RecordOutcome.RECORDED
        assert engine.record(received()) is RecordOutcome.DUPLICATE
        assert len(engine.history("C1")) == 1

    def test_same_id_other_content_is_refused(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record(received())
        engine.record(ev("C1", 1, "answered", at(2025, 11, 10)))
        with pytest.raises(ContactRuleError, match="already recorded with other content"):
            engine.record(ev("C1", 1, "answered", at(2025, 11, 12)))

    def test_events_round_trip(self, make_engine, backend: str) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(pseudonym_key=b"k")

        engine.record_many(
            [
                received(category="Réclamation", service="DSDEN 25", requester="h:1a2b"),
                ev("C1", 1, "acknowledged", at(2025, 11, 7, 11), announced_delay="10 jours ouvrés"),
                ev("C1", 2, "escalated", at(2025, 11, 8), to="N+1", reason="urgence"),
                ev("C1", 3, "answered", at(2025, 11, 10), attributes={"pages": 2, "ok": True}),
            ]
        )
        # A second engine on the same store reads them back (in memory, the same engine).
        reader = engine if backend == "memory" else make_engine()
        history = reader.history("C1")
        assert [e.type.value for e in history] == [
            "received",
            "acknowledged",
            "escalated",
            "answered",
        ]
        assert history[0].category == "complaint"
        assert history[0].service == "DSDEN 25"
        expected = "p:" + hmac.new(b"k", b"h:1a2b", "sha256").hexdigest()[:32]
        assert reader.requester_of(history[0]) == expected

        assert str(history[1].announced_delay) == "10 jours ouvrés"
        assert (history[2].to, history[2].reason) == ("N+1", "urgence")
        assert dict(history[3].attributes) == {"ok": True, "pages": 2}
        assert history[3].occurred_at == at(2025, 11, 10)

    def test_recorded_at_defaults_to_the_injected_clock(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        clock = at(2025, 11, 9, 8)
        engine = make_engine(clock=lambda: clock)
        engine.record(received())
        engine.record(ev("C1", 1, "answered", at(2025, 11, 10), recorded_at=at(2025, 11, 12)))
        history = engine.history("C1")
        assert history[0].recorded_at == clock
        assert history[1].recorded_at == at(2025, 11, 12)

    def test_atomic_batch_records_nothing_on_error(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        with pytest.raises(ContactRuleError):
            engine.record_many([received("C1"), ev("C2", 1, "answered", T0)])
        assert engine.all_timers(now=T0) == []

    def test_lenient_batch_keeps_the_good_events(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        result = engine.record_many(
            [received("C1"), ev("C2", 1, "answered", T0), received("C1"), received("C3")],
            atomic=False,
        )
        assert (result.recorded, result.duplicates, len(result.rejected)) == (2, 1, 1)
        assert isinstance(result.outcomes[1], Rejected)
        assert "contact 'C2', event 'C2-1'" in str(result.outcomes[1].error)
        assert {t.contact_id for t in engine.all_timers(now=T0)} == {"C1", "C3"}


class TestRules:
    def test_answer_to_a_contact_never_received(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(
            ContactRuleError,
            match=r"contact 'X', event 'X-1': a contact's first recorded event must be 'received'",
        ):
            make_engine().record(ev("X", 1, "answered", T0))

    def test_resume_without_suspension(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record(received())
        with pytest.raises(ContactRuleError, match="'resumed' without a 'suspended' before it"):
            engine.record(ev("C1", 1, "resumed", at(2025, 11, 8)))

    def test_nothing_after_closed_but_reopened(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many([received(), ev("C1", 1, "closed", at(2025, 11, 10))])
        with pytest.raises(ContactRuleError, match="'answered' after the contact was closed"):
            engine.record(ev("C1", 2, "answered", at(2025, 11, 11)))
        assert engine.record(ev("C1", 3, "reopened", at(2025, 11, 12))) is RecordOutcome.RECORDED

    def test_event_before_receipt(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record(received())
        with pytest.raises(ContactRuleError, match="would happen before the contact was received"):
            engine.record(ev("C1", 1, "answered", at(2025, 11, 6)))

    def test_second_receipt(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record(received())
        with pytest.raises(ContactRuleError, match="already received"):
            engine.record(received() | {"event_id": "other"})

    def test_late_event_inserted_in_time_order(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        # The answer is recorded first; the acknowledgement, scanned late, happened before it.
        engine = make_engine()
        engine.record_many([received(), ev("C1", 2, "answered", at(2025, 11, 12))])
        engine.record(
            ev("C1", 1, "acknowledged", at(2025, 11, 7, 15), recorded_at=at(2025, 11, 13))
        )
        assert [e.type.value for e in engine.history("C1")] == [
            "received",
            "acknowledged",
            "answered",
        ]
        ack = timer(engine, "C1", "ack", at(2025, 11, 20))
        assert ack.state is TimerState.MET
        assert ack.stopped_at == at(2025, 11, 7, 15)

    def test_late_event_that_breaks_the_history_is_refused(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many([received(), ev("C1", 1, "closed", at(2025, 11, 12))])
        with pytest.raises(ContactRuleError, match="after the contact was closed"):
            engine.record(ev("C1", 2, "answered", at(2025, 11, 13)))
        # Before the closure it is fine.
        engine.record(ev("C1", 3, "answered", at(2025, 11, 10)))


class TestTimers:
    def test_running_at_risk_overdue(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record(received())
        # 5 jours ouvrés from Fri 7 Nov: Mon 10 (1), Wed 12 (2), Thu 13 (3), Fri 14 (4), Mon 17 (5).
        t = timer(engine, "C1", "email-5", at(2025, 11, 10))
        assert (t.state, t.due_date) == (TimerState.RUNNING, dt.date(2025, 11, 17))
        assert t.expires_at == at(2025, 11, 18, 0)
        # Warnings: 3 days used (ceil 2.5) after Thu 13; 4 days after Fri 14.
        assert t.warnings == (at(2025, 11, 14, 0), at(2025, 11, 15, 0))
        assert timer(engine, "C1", "email-5", at(2025, 11, 14, 9)).state is TimerState.AT_RISK
        assert timer(engine, "C1", "email-5", at(2025, 11, 18, 0)).state is TimerState.OVERDUE
        assert timer(engine, "C1", "email-5", at(2025, 11, 17, 23, 59)).state is TimerState.AT_RISK

    def test_met_and_late(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received("A"),
                ev("A", 1, "answered", at(2025, 11, 17, 23, 59)),
                received("B"),
                ev("B", 1, "answered", at(2025, 11, 18, 0)),
            ]
        )
        a = timer(engine, "A", "email-5", at(2025, 12, 1))
        b = timer(engine, "B", "email-5", at(2025, 12, 1))
        assert (a.state, a.elapsed) == (TimerState.MET, 5)
        assert (b.state, b.elapsed) == (TimerState.LATE, 6)

    def test_suspension_extends_by_the_counted_days(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received(),
                ev("C1", 1, "suspended", at(2025, 11, 12)),  # Wednesday
                ev("C1", 2, "resumed", at(2025, 11, 14)),  # Friday: (Wed, Fri] = 2 counted days
            ]
        )
        t = timer(engine, "C1", "email-5", at(2025, 11, 14, 12))
        assert t.due_date == dt.date(2025, 11, 19)
        assert [p.effective for p in t.pauses] == [True]
        paused = timer(engine, "C1", "email-5", at(2025, 11, 13))
        assert paused.state is TimerState.PAUSED

    def test_restart_mode_runs_the_whole_delay_again(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received(channel="letter"),
                ev("C1", 1, "suspended", at(2025, 11, 12)),
                ev("C1", 2, "resumed", at(2025, 11, 20)),  # Thursday
            ]
        )
        t = timer(engine, "C1", "letter-15", at(2025, 11, 21))
        # 15 jours ouvrés from Thu 20 Nov: Fri 21 (1) … Thu 11 Dec (15).
        assert t.due_date == dt.date(2025, 12, 11)

    def test_suspension_after_expiry_changes_nothing(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received(),
                ev("C1", 1, "suspended", at(2025, 11, 19)),
                ev("C1", 2, "resumed", at(2025, 11, 25)),
            ]
        )
        t = timer(engine, "C1", "email-5", at(2025, 11, 26))
        assert t.due_date == dt.date(2025, 11, 17)
        assert t.state is TimerState.OVERDUE
        assert [p.effective for p in t.pauses] == [False]

    def test_reopening_starts_a_new_cycle(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received(),
                ev("C1", 1, "answered", at(2025, 11, 10)),
                ev("C1", 2, "reopened", at(2025, 11, 20)),  # Thursday
            ]
        )
        first = timer(engine, "C1", "email-5", at(2025, 11, 21), cycle=0)
        second = timer(engine, "C1", "email-5", at(2025, 11, 21), cycle=1)
        assert first.state is TimerState.MET
        assert second.state is TimerState.RUNNING
        assert second.started_at == at(2025, 11, 20)
        assert second.due_date == dt.date(2025, 11, 27)

    def test_complex_cases(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received("E"),
                ev("E", 1, "flagged_complex", at(2025, 11, 8), reason="multi-services"),
                received("L", channel="letter"),
                ev("L", 1, "flagged_complex", at(2025, 11, 8)),
            ]
        )
        assert timer(engine, "E", "email-5", at(2025, 12, 20)).state is TimerState.EXEMPT
        letter = timer(engine, "L", "letter-15", at(2025, 11, 20))
        assert str(letter.target) == "30 jours ouvrés"
        assert letter.reason == "complex_delay"

    def test_urgent_priority_selects_its_own_engagement(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record(received(priority="urgent"))
        ids = {t.engagement_id for t in engine.timers("C1", now=T0)}
        assert ids == {"email-urgent", "ack"}
        assert timer(engine, "C1", "email-urgent", T0).due_date == dt.date(2025, 11, 10)

    def test_reclassification_changes_the_engagements(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [received(), ev("C1", 1, "reclassified", at(2025, 11, 8), channel="courrier")]
        )
        ids = {t.engagement_id for t in engine.timers("C1", now=at(2025, 11, 9))}

        assert ids == {"letter-15", "ack"}

    def test_announced_delay(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received("W", channel="web"),
                ev("W", 1, "acknowledged", at(2025, 11, 7, 11), announced_delay="1 mois"),
                ev("W", 2, "answered", at(2025, 12, 8)),
                received("N", channel="formulaire"),
                ev("N", 1, "answered", at(2025, 11, 10)),
            ]
        )
        w = timer(engine, "W", "announced", at(2025, 12, 20))
        # 1 mois from Fri 7 Nov is Sun 7 Dec, extended to Mon 8 Dec: answered on the 8th, on time.
        assert (w.due_date, w.state) == (dt.date(2025, 12, 8), TimerState.MET)
        n = timer(engine, "N", "announced", at(2025, 12, 20))
        assert (n.state, n.reason) == (TimerState.LATE, "no_announced_delay")

    def test_extend_on_jours_ouvrables(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        """A catalogue's ``extend = true`` reaches a delay in jours ouvrables (CPC art. 642)."""
        text = one_engagement("4 jours ouvrables", 'extend = true\npause = "suspended"')
        engine = make_engine(catalogue=parse_catalogue(text), clock=lambda: at(2025, 6, 20))
        engine.record_many(
            [
                # Monday 2 June 2025: 4 jours ouvrables end on Friday 6 June.
                received("A", at(2025, 6, 2)),
                ev("A", 1, "answered", at(2025, 6, 6, 15)),
                # A pause of one counted day (Wednesday 4) takes them to Saturday
                # 7 June; Monday 9 is Whit Monday: extended to Tuesday 10.
                received("B", at(2025, 6, 2)),
                ev("B", 1, "suspended", at(2025, 6, 3, 9)),
                ev("B", 2, "resumed", at(2025, 6, 4, 9)),
                ev("B", 3, "answered", at(2025, 6, 10, 15)),
            ]
        )
        now = at(2025, 6, 20)
        a, b = timer(engine, "A", "e", now), timer(engine, "B", "e", now)
        assert (a.due_date, a.state) == (dt.date(2025, 6, 6), TimerState.MET)
        assert (b.due_date, b.state) == (dt.date(2025, 6, 10), TimerState.MET)
        text = engine.explain("B", "e", now=now)
        assert "Le délai expirerait ce jour-là (samedi)" in text
        assert "le mardi 10 juin 2025" in text

    def test_measures(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received("P1", channel="téléphone"),
                ev("P1", 1, "answered", T0, attributes={"rings": 3}),
                received("P2", channel="phone"),
                ev("P2", 1, "answered", T0, attributes={"rings": 7}),
                received("P3", channel="phone"),
                ev("P3", 1, "answered", T0),
            ]
        )
        states = {c: timer(engine, c, "rings", T0).state for c in ("P1", "P2", "P3")}
        assert states == {"P1": TimerState.MET, "P2": TimerState.LATE, "P3": TimerState.EXEMPT}


class TestQueries:
    def test_worklist_oldest_first(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received("late", at(2025, 11, 3)),
                received("soon", at(2025, 11, 6)),
                received("fresh", at(2025, 11, 14)),
                received("done", at(2025, 11, 3)),
                ev("done", 1, "answered", at(2025, 11, 4)),
                ev("done", 2, "acknowledged", at(2025, 11, 4)),
            ]
        )
        now = at(2025, 11, 12, 12)
        items = engine.worklist(at(2025, 11, 13), now=now)
        keys = [(t.contact_id, t.engagement_id, t.state.value) for t in items]
        # late: ack expired Thu 6, email Tue 11; soon: ack expired Tue 11, email
        # expires Sat 15 with its first warning on Thu 13 at 00:00, before the edge.
        assert keys == [
            ("late", "ack", "overdue"),
            ("late", "email-5", "overdue"),
            ("soon", "ack", "overdue"),
            ("soon", "email-5", "running"),
        ]
        assert engine.worklist(at(2025, 11, 13), now=now, limit=1)[0].contact_id == "late"

    def test_a_contacts_timers_come_in_the_catalogues_order(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record(received())
        listed = [t.engagement_id for t in engine.timers("C1", now=at(2025, 11, 10))]
        order = [e.id for e in engine.catalogue.engagements if e.id in listed]
        assert listed == order == ["email-5", "ack"]  # not the ids' alphabetical order

    def test_the_worklist_at_a_past_instant(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        """What was on the list then: B not received yet, A not answered yet."""
        engine = make_engine()
        engine.record_many(
            [
                received("A", at(2025, 11, 7)),
                ev("A", 1, "answered", at(2025, 11, 20)),
                received("B", at(2025, 11, 24)),
            ]
        )
        friday = at(2025, 11, 14, 9)
        items = engine.worklist(at(2025, 12, 5), now=friday)
        assert [(t.contact_id, t.engagement_id, t.state.value) for t in items] == [
            ("A", "ack", "overdue"),
            ("A", "email-5", "at_risk"),  # due Monday 17 (Tuesday 11 is the Armistice)
        ]
        assert sorted(t.key for t in items) == sorted(
            t.key for t in engine.status_as_of(friday) if t.is_open
        )
        assert {t.contact_id for t in engine.all_timers(friday)} == {"A"}
        # At the clock's time, the live view: A answered (late), B on the list.
        later = engine.worklist(at(2025, 12, 5), now=at(2025, 12, 1))
        assert ("A", "email-5") not in {(t.contact_id, t.engagement_id) for t in later}
        assert "B" in {t.contact_id for t in later}

    def test_an_event_a_little_ahead_of_the_clock_keeps_the_live_view(
        self, make_engine, monkeypatch: pytest.MonkeyPatch
    ) -> None:  # type: ignore[no-untyped-def]
        """Clocks may run a day ahead: a worklist at the clock must not re-read every history."""
        engine = make_engine(clock=lambda: at(2025, 11, 14, 9))
        engine.record_many([received("A", at(2025, 11, 7)), received("B", at(2025, 11, 14, 9, 5))])

        def no_reading() -> None:
            raise AssertionError("every history read again")

        monkeypatch.setattr(engine, "histories", no_reading)
        items = engine.worklist(at(2025, 12, 5), now=at(2025, 11, 14, 9))
        assert {t.contact_id for t in items} == {"A", "B"}

    def test_as_of_a_past_instant(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many([received(), ev("C1", 1, "answered", at(2025, 11, 12))])
        before = {t.engagement_id: t.state for t in engine.status_as_of(at(2025, 11, 11))}
        after = {t.engagement_id: t.state for t in engine.status_as_of(at(2025, 11, 13))}
        # The acknowledgement was due Wednesday 12 (Tuesday 11 is the Armistice).
        assert before == {"email-5": TimerState.RUNNING, "ack": TimerState.RUNNING}
        assert after == {"email-5": TimerState.MET, "ack": TimerState.OVERDUE}

    def test_as_of_the_end_of_time_equals_the_live_view(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received("A"),
                ev("A", 1, "answered", at(2025, 11, 12)),
                received("B", channel="letter"),
            ]
        )
        end = at(2030, 1, 1)
        live = sorted((t.key, t.state, t.due_date) for t in engine.all_timers(now=end))
        replayed = sorted((t.key, t.state, t.due_date) for t in engine.status_as_of(end))
        assert live == replayed
        assert len(live) == 4

    def test_what_if_another_calendar(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        # Received Wednesday 24 Dec 2025: 26 December is a holiday in Moselle only.
        engine.record(received(when=at(2025, 12, 24)))
        result = engine.what_if(calendar_spec="fr-57", as_of=at(2025, 12, 26))
        changes = {
            (a.engagement_id, a.due_date, b.due_date) for a, b in result.changes() if a and b
        }
        assert changes == {
            ("ack", dt.date(2025, 12, 29), dt.date(2025, 12, 30)),
            ("email-5", dt.date(2026, 1, 2), dt.date(2026, 1, 5)),
        }
        # Nothing was written: the live view still uses the engine's calendar.
        assert timer(engine, "C1", "ack", at(2025, 12, 26)).due_date == dt.date(2025, 12, 29)

    def test_what_if_keeps_the_services_closures(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        # The service is shut from 22 to 31 December: « fr-57 » changes nothing
        # then (26 December is closed either way), nor does its own spec.
        shut = calendar("fr").with_closures((dt.date(2025, 12, 22), dt.date(2025, 12, 31), "x"))
        engine = make_engine(calendar_spec=shut)
        engine.record(received(when=at(2025, 12, 18)))
        for spec in ("fr", "fr-57"):
            assert engine.what_if(calendar_spec=spec, as_of=at(2025, 12, 19)).changes() == []
        # A Calendar is taken as it is: without the closure, the deadlines move.
        bare = engine.what_if(calendar_spec=calendar("fr"), as_of=at(2025, 12, 19))
        assert ("email-5", dt.date(2026, 1, 7), dt.date(2025, 12, 26)) in {
            (a.engagement_id, a.due_date, b.due_date) for a, b in bare.changes() if a and b
        }

    def test_explanations(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [
                received(),
                ev("C1", 1, "suspended", at(2025, 11, 12)),
                ev("C1", 2, "resumed", at(2025, 11, 14)),
                ev("C1", 3, "answered", at(2025, 11, 18, 16)),
            ]
        )
        fr = engine.explain("C1", "email-5", now=at(2025, 12, 1))
        assert "Engagement email-5 : « Nous traitons vos courriels" in fr
        assert "canal courriel" in fr
        assert "- mercredi 12 novembre 2025 à 10:00 (UTC+01:00) : suspendu" in fr
        assert "Suspensions : 2 jours ouvrés ajoutés au délai" in fr
        assert "Délai : 7 jours ouvrés" in fr
        assert "mardi 11 novembre 2025 : non compté (11 novembre : Armistice)" in fr
        assert (
            "Verdict : arrêté le mardi 18 novembre 2025 à 16:00 (UTC+01:00), avant l'expiration"
            in fr
        )
        en = engine.explain("C1", "email-5", lang="en", now=at(2025, 12, 1))
        assert "engagement kept" in en
        with pytest.raises(Exception, match="has no timer for engagement 'rings'"):
            engine.explain("C1", "rings")


class TestAlerts:
    def test_check_reports_each_crossing_once(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        seen: list[Alert] = []
        engine = make_engine(on_alert=seen.append)
        engine.record(received())
        first = engine.check(at(2025, 11, 14, 9))
        assert [(a.kind, a.timer.engagement_id, a.at) for a in first] == [
            ("breach", "ack", at(2025, 11, 13, 0)),
            ("warning", "email-5", at(2025, 11, 14, 0)),
        ]
        second = engine.check(at(2025, 11, 18, 1))
        assert [(a.kind, a.timer.engagement_id, a.at) for a in second] == [
            ("warning", "email-5", at(2025, 11, 15, 0)),
            ("breach", "email-5", at(2025, 11, 18, 0)),
        ]
        assert seen == first + second
        assert engine.check(at(2025, 11, 18, 2)) == []

    def test_escalation_policy_records_escalated_events_once(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(escalation=EscalationPolicy(to="N+1", on=("breach",)))
        engine.record(received())
        engine.check(at(2025, 11, 18, 1))
        engine.check(at(2025, 11, 18, 1), since=at(2025, 11, 1))  # the same crossings again
        escalations = [e for e in engine.history("C1") if e.type.value == "escalated"]
        assert [(e.event_id, e.to, e.occurred_at) for e in escalations] == [
            ("sla-engine:ack:0:breach", "N+1", at(2025, 11, 13, 0)),
            ("sla-engine:email-5:0:breach", "N+1", at(2025, 11, 18, 0)),
        ]


class TestProjection:
    def test_rebuild_equals_live(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record_many(
            [received(f"C{i}", at(2025, 11, 3 + i)) for i in range(8)]
            + [ev("C2", 1, "answered", at(2025, 11, 7)), ev("C5", 1, "suspended", at(2025, 11, 10))]
        )
        now = at(2025, 11, 20)
        live = sorted(t.to_dict().items().__repr__() for t in engine.all_timers(now=now))
        engine.rebuild_view()
        assert sorted(t.to_dict().items().__repr__() for t in engine.all_timers(now=now)) == live

    def test_contacts_read_back_together_are_those_read_one_by_one(  # type: ignore[no-untyped-def]
        self, make_engine, backend
    ) -> None:
        # Rebuilding the view, an as-of review and a what-if read every contact
        # back, a few contacts per query and a page of the log at a time: across
        # the edges of both, each history as the contact read alone gives it, in
        # the order the contacts were first recorded (not their ids' order).
        first = make_engine()
        ids = [f"C{(i * 7) % 23:02}" for i in range(23)]  # recorded out of id order
        first.record_many([received(c, at(2025, 11, 3 + i % 10)) for i, c in enumerate(ids)])
        first.record_many([ev(c, 1, "acknowledged", at(2025, 11, 14)) for c in ids[::3]])
        first.record_many([ev(c, 2, "answered", at(2025, 11, 17)) for c in ids[::2]])
        now = at(2025, 11, 20)
        live = sorted(repr(t.to_dict()) for t in first.all_timers(now=now))
        # Another engine on the store holds none of them in memory.
        engine = first if backend == "memory" else make_engine()
        engine.read_contacts, engine.projection_batch = 3, 4
        alone = [engine.history(c) for c in ids]
        assert [len(h) for h in alone] == [1 + (i % 3 == 0) + (i % 2 == 0) for i in range(23)]
        assert list(engine.histories()) == alone
        engine.rebuild_view()
        assert sorted(repr(t.to_dict()) for t in engine.all_timers(now=now)) == live
        assert engine._read_contacts(["C05", "nobody", "C01"]).keys() == {"C05", "C01"}

    @pytest.mark.parametrize("backend", PERSISTENT, indirect=True)
    def test_a_new_engine_resumes_from_the_tracking_position(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        first = make_engine()

        first.record(received("A"))
        second = make_engine()
        second.record(received("B"))
        # The first engine's view catches up with what the second recorded.
        assert {t.contact_id for t in first.all_timers(now=T0)} == {"A", "B"}
        assert first.view.max_tracking_id(first.name) == first.recorder.max_notification_id()


class TestStoredRules:
    @pytest.mark.parametrize("backend", PERSISTENT, indirect=True)
    def test_a_store_remembers_its_rules(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        first = make_engine(calendar_spec="fr-57")
        first.record(received(when=at(2025, 12, 24)))
        reopened = make_engine(catalogue=None, calendar_spec=None)
        assert reopened.catalogue.fingerprint == first.catalogue.fingerprint
        assert reopened.default_calendar.spec == "fr-57"
        assert timer(reopened, "C1", "ack", at(2025, 12, 26)).due_date == dt.date(2025, 12, 30)

    @pytest.mark.parametrize("backend", PERSISTENT, indirect=True)
    def test_new_rules_are_appended_and_the_view_rebuilt(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        first = make_engine(calendar_spec="fr")
        first.record(received(when=at(2025, 12, 24)))
        second = make_engine(calendar_spec="fr-57")
        assert timer(second, "C1", "ack", at(2025, 12, 26)).due_date == dt.date(2025, 12, 30)
        stored = second.stored_rules()
        assert stored is not None
        assert stored.calendar_spec == "fr-57"
        assert second.repository.get("sla-engine:rules").version == 2

    @pytest.mark.parametrize("backend", PERSISTENT, indirect=True)
    def test_an_engine_left_with_old_rules_writes_no_timer(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        """Its timers would count as Paris does, in a view rebuilt for Alsace-Moselle."""
        first = make_engine(calendar_spec="fr")
        first.record(received(when=at(2025, 12, 24)))
        second = make_engine(calendar_spec="fr-57")  # new rules: the view is rebuilt
        with pytest.raises(SlaEngineError, match=r"the store's rules changed \(version 2; .*1\)"):
            first.record(received(when=at(2025, 12, 24), contact="C2"))
        # The event is stored; the view counts it under the store's rules.
        for engine in (second, make_engine(catalogue=None, calendar_spec=None)):
            for contact in ("C1", "C2"):
                due = timer(engine, contact, "ack", at(2025, 12, 26)).due_date
                assert due == dt.date(2025, 12, 30)  # 25 and 26 December are holidays there

    def test_no_rules_anywhere(self, tmp_path) -> None:  # type: ignore[no-untyped-def]
        from sla_engine import SlaEngine, SlaEngineError

        with pytest.raises(SlaEngineError, match="records no rules yet"):
            SlaEngine(store=f"sqlite:///{tmp_path / 'empty.db'}")


class TestConflicts:
    @pytest.mark.parametrize("backend", PERSISTENT, indirect=True)
    def test_a_stale_contact_is_read_again_and_the_batch_retried(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        a = make_engine()
        b = make_engine()
        a.record(received())  # A now holds C1 in memory, at version 1
        b.record(ev("C1", 1, "acknowledged", at(2025, 11, 7, 11)))  # the store is at version 2
        assert a.record(ev("C1", 2, "answered", at(2025, 11, 10))) is RecordOutcome.RECORDED
        assert a.conflicts == 1
        assert [e.event_id for e in a.history("C1")] == ["C1-r", "C1-1", "C1-2"]
        # A's view took B's acknowledgement into account, not only its own answer.
        assert {t.engagement_id: t.state.value for t in a.timers("C1", now=at(2025, 11, 20))} == {
            "email-5": "met",
            "ack": "met",
        }


class TestHostileIds:
    def test_ids_and_categories_that_look_like_sql_are_stored_as_text(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        contact = "x'); DROP TABLE sla_timers; --"
        engine.record(
            received(contact, category="'; DELETE FROM stored_events; --", service='"; DROP "')
        )
        (event,) = engine.history(contact)
        assert event.contact_id == contact
        assert event.category == "'; delete from stored_events; --"
        assert event.service == '"; DROP "'
        assert {t.contact_id for t in engine.all_timers(now=at(2025, 12, 1))} == {contact}


class TestRefusedBatches:
    def test_a_refused_batch_leaves_nothing_behind_in_memory(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record(received())  # C1 is now held in memory by the engine
        with pytest.raises(ContactRuleError):
            engine.record_many(
                [
                    ev("C1", 1, "acknowledged", at(2025, 11, 7, 11)),  # valid on its own
                    ev("C9", 1, "answered", at(2025, 11, 8)),  # refused: the batch is atomic
                ]
            )
        engine.record(ev("C1", 2, "answered", at(2025, 11, 10)))
        assert [e.event_id for e in engine.history("C1")] == ["C1-r", "C1-2"]


def test_a_bulk_load_counts_a_long_announced_delay_before_storing_it(make_engine) -> None:  # type: ignore[no-untyped-def]
    """500 school days announced in January 2026 run past zone B's data (to July 2028)."""
    text = one_engagement("announced").replace('calendar = "fr"', 'calendar = "fr+B"')
    engine = make_engine(catalogue=parse_catalogue(text), calendar_spec="fr+B",
                         clock=lambda: at(2026, 3, 1))  # fmt: skip
    batch = [
        received("X", at(2026, 1, 5)),
        ev("X", 1, "acknowledged", at(2026, 1, 6), announced_delay="500 jours scolaires"),
        received("Y", at(2026, 1, 5)),
        ev("Y", 1, "acknowledged", at(2026, 1, 6), announced_delay="15 jours ouvrés"),
    ]
    result = engine.record_many(batch, project=False, atomic=False)
    # Only the event the contact cannot be counted from: its receipt is kept.
    assert [r.event.event_id for r in result.rejected] == ["X-1"]
    assert isinstance(result.rejected[0].error, CalendarCoverageError)
    assert [e.event_id for e in engine.history("X")] == ["X-r"]
    assert sorted(t.contact_id for t in engine.all_timers(at(2026, 3, 1))) == ["X", "Y"]


class TestBeyondTheCalendarsData:
    """A timer that would count past a calendar's data: refused before anything is stored.

    The zone B school calendar ends with the 2027-2028 school year: ten
    school days from Monday 26 June 2028 run past it.  Stored, such an event
    stopped the view, and every query and later record with it.
    """

    AT = dt.datetime(2028, 6, 27, 9, tzinfo=dt.UTC)

    def engine(self, make_engine):  # type: ignore[no-untyped-def]
        text = one_engagement("10 jours scolaires").replace('calendar = "fr"', 'calendar = "fr+B"')
        catalogue = parse_catalogue(text)
        return make_engine(catalogue=catalogue, calendar_spec="fr+B", clock=lambda: self.AT)

    def test_atomic_raises_and_stores_nothing(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = self.engine(make_engine)
        engine.record(received("OK", at(2028, 5, 2)))
        with pytest.raises(CalendarCoverageError, match="2028-07-03"):
            engine.record_many(
                [ev("OK", 1, "answered", at(2028, 5, 9)), received("X", at(2028, 6, 26))]
            )
        with pytest.raises(SlaEngineError, match="no contact 'X'"):
            engine.history("X")
        assert len(engine.history("OK")) == 1  # the whole batch refused
        (timer,) = engine.timers("OK", now=self.AT)
        assert (timer.state, timer.due_date) == (TimerState.OVERDUE, dt.date(2028, 5, 17))
        assert [t.contact_id for t in engine.worklist(self.AT, now=self.AT)] == ["OK"]

    def test_not_atomic_returns_that_contacts_events(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = self.engine(make_engine)
        result = engine.record_many(
            [
                received("OK", at(2028, 5, 2)),
                received("X", at(2028, 6, 26)),
                ev("OK", 1, "answered", at(2028, 5, 9)),
                ev("X", 1, "acknowledged", at(2028, 6, 26, 11)),
            ],
            atomic=False,
        )
        assert result.recorded == 2
        assert [r.event.event_id for r in result.rejected] == ["X-r", "X-1"]
        # Each with its own reason: X's receipt cannot be counted, and without
        # it the acknowledgement has no contact to go to.
        assert isinstance(result.rejected[0].error, CalendarCoverageError)
        assert isinstance(result.rejected[1].error, ContactRuleError)
        assert result.rejected[1].error.code == "not_received"
        assert [e.event_id for e in engine.history("OK")] == ["OK-r", "OK-1"]
        with pytest.raises(SlaEngineError, match="no contact 'X'"):
            engine.history("X")
        (timer,) = engine.timers("OK", now=self.AT)
        assert (timer.state, timer.elapsed) == (TimerState.MET, 4)  # Monday 8 May: a holiday
        # A bulk load (project=False) counts such a contact before storing it too.
        result = engine.record_many(
            [received("Z", at(2028, 6, 27, 8))], project=False, atomic=False
        )
        assert [type(r.error) for r in result.rejected] == [CalendarCoverageError]
        # The engine goes on: a later contact inside the data is recorded.
        assert engine.record(received("Y", at(2028, 6, 5))) is RecordOutcome.RECORDED
        assert {t.contact_id for t in engine.all_timers(self.AT)} == {"OK", "Y"}


MALFORMED = {
    "unknown channel": received("B", channel="fax"),
    "naive instant": received("B", when=dt.datetime(2025, 11, 7, 10)),
    "no instant": {k: v for k, v in received("B").items() if k != "occurred_at"},
    "empty id": received("B", event_id=""),
    "numeric event id": received("B", event_id=5),
    "numeric contact id": received("B") | {"contact_id": 7},
    "no channel on receipt": {k: v for k, v in received("B").items() if k != "channel"},
    # Values Python holds but the store cannot write: they failed the whole
    # batch at its encoding (half a UTF-16 pair, an integer of 5,001 digits).
    "half a surrogate pair in an id": received("B", event_id="b\udc00"),
    "half a surrogate pair in a contact id": received("B\ud800"),
    "half a surrogate pair in a service": received("B", service="s\ud800"),
    "half a surrogate pair in a category": received("B", category="c\ud800"),
    "half a surrogate pair in an attribute": received("B", attributes={"x": "a\ud800"}),
    "half a surrogate pair in an attribute's name": received("B", attributes={"k\ud800": 1}),
    "a huge integer attribute": received("B", attributes={"x": 10**5000}),
    "a non-finite attribute": received("B", attributes={"x": float("nan")}),
    "an instant of None": received("B") | {"occurred_at": None},
}


@pytest.mark.parametrize("kind", MALFORMED)
def test_a_mapping_that_makes_no_event_is_rejected_alone(make_engine, kind: str) -> None:  # type: ignore[no-untyped-def]
    """``atomic=False``: returned as given, with why; every valid event recorded."""
    engine = make_engine()
    bad = MALFORMED[kind]
    result = engine.record_many([received("G"), bad, ev("G", 1, "answered", at(2025, 11, 10))],
                                atomic=False)  # fmt: skip
    assert result.recorded == 2
    ((given, error),) = [(r.event, r.error) for r in result.rejected]
    assert given is bad
    assert isinstance(error, SlaEngineError)
    assert [e.event_id for e in engine.history("G")] == ["G-r", "G-1"]
    with pytest.raises(SlaEngineError):
        engine.record_many([received("G2"), bad])
    with pytest.raises(SlaEngineError, match="no contact 'G2'"):
        engine.history("G2")
