"""Obligations: scheduled, recurring and availability timers from site events.

Zone B, school year 2025-2026 (official data): rentrée Monday 1 September
2025; Toussaint holidays from Sunday 19 October (classes end Saturday 18);
summer holidays from Sunday 5 July 2026, so the year's last day is
Saturday 4 July.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_engine._calendar import calendar
from sla_engine._catalogue import CatalogueError, parse_catalogue
from sla_engine._contact import RecordOutcome
from sla_engine._delay import Unit
from sla_engine._engine import SlaEngine
from sla_engine._errors import DataError, NaiveDatetimeError
from sla_engine._obligations import evaluate_obligations, obligation_target
from sla_engine._report import build_report, render_csv
from sla_engine._sites import (
    SERVICE,
    SiteEvent,
    SiteRuleError,
    load_site_register,
    read_site_log,
)
from sla_engine._timers import TimerState

PARIS = ZoneInfo("Europe/Paris")
CAL = calendar("fr+B")

CATALOGUE = """
[catalogue]
id = "district"
title = "Circonscription de test"
version = "1"
calendar = "fr+B"

[[engagement]]
id = "visit"
title = "Passage dans chaque école sous 10 jours après la rentrée"
source = "test"
kind = "scheduled"
per = "site"
event = "visited"
what = ["passage", "IEN"]
due = "rentrée + 10 jours calendaires"

[[engagement]]
id = "ien"
title = "Visite de l'IEN avant la Toussaint"
source = "test"
kind = "scheduled"
per = "site"
event = "visited"
what = "IEN"
due = "veille:Toussaint"

[[engagement]]
id = "web"
title = "Mise à jour hebdomadaire"
source = "test"
kind = "recurring"
per = "service"
event = "published"
every = "week"

[[engagement]]
id = "meetings"
title = "Deux réunions par an"
source = "test"
kind = "recurring"
per = "service"
event = "held"
every = "school_year"
count = 2

[[engagement]]
id = "phone"
title = "Amplitude de 9 heures"
source = "test"
kind = "availability"
per = "service"
line = "téléphone"
amplitude = "9 heures"
"""


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


def ev(
    event_id: str, kind: str, when: dt.datetime, site: str | None = None, what: str | None = None
) -> SiteEvent:
    return SiteEvent(event_id, kind, when, site=site, what=what)


def evaluate(events: list[SiteEvent], as_of: dt.datetime, sites: tuple[str, ...] = ("E1",)):
    by_subject: dict[str, list[SiteEvent]] = {}
    for e in events:
        by_subject.setdefault(e.subject, []).append(e)
    catalogue = parse_catalogue(CATALOGUE)
    return evaluate_obligations(
        by_subject,
        list(sites),
        catalogue,
        lambda key: calendar(key or "fr+B"),
        as_of,
        school_years=["2025-2026"],
    )


def timers_of(timers, engagement: str, subject: str = "E1"):
    return [t for t in timers if t.engagement_id == engagement and t.contact_id == subject]


class TestScheduled:
    def test_met_on_the_due_day(self) -> None:
        # Due Thursday 11 September 2025 (rentrée + 10 calendar days), until 24:00.
        timers = evaluate(
            [ev("v", "visited", at(2025, 9, 11, 23, 59), "E1", "passage")], at(2026, 8, 1)
        )
        (timer,) = timers_of(timers, "visit")
        assert timer.state is TimerState.MET
        assert timer.due_date == dt.date(2025, 9, 11)
        assert timer.expires_at == at(2025, 9, 12, 0, 0)
        assert timer.period == "2025-2026"
        assert timer.site == "E1"

    def test_late_the_day_after(self) -> None:
        timers = evaluate([ev("v", "visited", at(2025, 9, 12, 8), "E1", "passage")], at(2026, 8, 1))
        (timer,) = timers_of(timers, "visit")
        assert timer.state is TimerState.LATE
        assert timer.stopped_at == at(2025, 9, 12, 8)

    def test_pending_then_overdue_then_missed(self) -> None:
        (running,) = timers_of(evaluate([], at(2025, 9, 5)), "visit")
        assert (running.state, running.measured) == (TimerState.RUNNING, 0.0)
        (overdue,) = timers_of(evaluate([], at(2025, 9, 20)), "visit")
        assert overdue.state is TimerState.OVERDUE
        # Once the school year is over (Saturday 4 July 2026), it can no longer be kept.
        (missed,) = timers_of(evaluate([], at(2026, 7, 5, 0, 0)), "visit")
        assert (missed.state, missed.reason) == (TimerState.LATE, "missed")

    def test_before_the_rentree_no_timer(self) -> None:
        assert timers_of(evaluate([], at(2025, 8, 31, 23)), "visit") == []

    def test_a_visit_before_the_rentree_does_not_count(self) -> None:
        timers = evaluate([ev("v", "visited", at(2025, 8, 29), "E1", "passage")], at(2025, 9, 20))
        assert timers_of(timers, "visit")[0].state is TimerState.OVERDUE

    def test_what_filters_the_kind_of_visit(self) -> None:
        events = [ev("v", "visited", at(2025, 9, 3), "E1", "passage")]
        timers = evaluate(events, at(2025, 10, 25))
        assert timers_of(timers, "visit")[0].state is TimerState.MET
        # A team member's visit is not the inspector's.
        assert timers_of(timers, "ien")[0].state is TimerState.OVERDUE

    def test_ien_before_toussaint(self) -> None:
        # Classes officially end Saturday 18 October 2025, a day without class in a primary
        # school: the last school day before the holidays is Friday 17 October.
        on_time = evaluate([ev("i", "visited", at(2025, 10, 17), "E1", "IEN")], at(2026, 1, 1))
        late = evaluate([ev("i", "visited", at(2025, 11, 4), "E1", "IEN")], at(2026, 1, 1))
        assert timers_of(on_time, "ien")[0].due_date == dt.date(2025, 10, 17)
        assert timers_of(on_time, "ien")[0].expires_at == at(2025, 10, 18, 0, 0)
        assert timers_of(on_time, "ien")[0].state is TimerState.MET
        assert timers_of(late, "ien")[0].state is TimerState.LATE
        # The inspector's visit also counts as the team's visit after the rentrée (late here).
        assert timers_of(on_time, "visit")[0].state is TimerState.LATE

    def test_ien_on_the_saturday_classes_end_is_late(self) -> None:
        saturday = evaluate([ev("i", "visited", at(2025, 10, 18, 9), "E1", "IEN")], at(2026, 1, 1))
        assert timers_of(saturday, "ien")[0].state is TimerState.LATE
        friday_night = evaluate(
            [ev("i", "visited", at(2025, 10, 17, 23, 59), "E1", "IEN")], at(2026, 1, 1)
        )
        assert timers_of(friday_night, "ien")[0].state is TimerState.MET

    def test_every_registered_site_owes_it(self) -> None:
        events = [ev("v", "visited", at(2025, 9, 2), "E1", "passage")]
        timers = evaluate(events, at(2025, 9, 20), sites=("E1", "E2", "E3"))
        states = {t.contact_id: t.state for t in timers if t.engagement_id == "visit"}
        assert states == {"E1": TimerState.MET, "E2": TimerState.OVERDUE, "E3": TimerState.OVERDUE}


def school_weeks() -> list[dt.date]:
    """Mondays of the weeks of 2025-2026 with a school day, counted with the calendar."""
    first, last = dt.date(2025, 9, 1), dt.date(2026, 7, 4)
    mondays = []
    monday = first - dt.timedelta(days=first.weekday())
    while monday <= last:
        week = [monday + dt.timedelta(days=i) for i in range(7)]
        if any(first <= d <= last and CAL.is_counted(d, Unit.JOURS_SCOLAIRES) for d in week):
            mondays.append(monday)
        monday += dt.timedelta(days=7)
    return mondays


class TestRecurring:
    def test_school_weeks_of_the_year(self) -> None:
        weeks = evaluate([], at(2026, 8, 1))
        web = timers_of(weeks, "web", SERVICE)
        # 44 calendar weeks from 1 September to 4 July, minus the 8 with no school day
        # (Toussaint 2, Noël 2, hiver 2, printemps 2): the Ascension week keeps school days.
        assert len(web) == 36
        assert web[0].period == "2025-W36"
        assert web[0].due_date == dt.date(2025, 9, 7)
        assert "2025-W43" not in {t.period for t in web}  # 20–26 October: Toussaint
        assert all(t.state is TimerState.LATE and t.reason == "missed" for t in web)

    def test_a_week_with_a_publication_is_met(self) -> None:
        events = [ev("p", "published", at(2025, 9, 14, 22))]  # Sunday evening still counts
        web = timers_of(evaluate(events, at(2025, 9, 20)), "web", SERVICE)
        assert [(t.period, t.state) for t in web] == [
            ("2025-W36", TimerState.LATE),
            ("2025-W37", TimerState.MET),
            ("2025-W38", TimerState.RUNNING),
        ]

    def test_two_meetings_a_year(self) -> None:
        one = [ev("m1", "held", at(2025, 9, 18))]
        two = [*one, ev("m2", "held", at(2026, 3, 12))]
        (pending,) = timers_of(evaluate(one, at(2026, 5, 1)), "meetings", SERVICE)
        assert (pending.state, pending.measured) == (TimerState.RUNNING, 1.0)
        (short,) = timers_of(evaluate(one, at(2026, 7, 10)), "meetings", SERVICE)
        assert (short.state, short.reason, short.measured) == (TimerState.LATE, "missed", 1.0)
        (met,) = timers_of(evaluate(two, at(2026, 7, 10)), "meetings", SERVICE)
        assert (met.state, met.stopped_at, met.due_date) == (
            TimerState.MET,
            at(2026, 3, 12),
            dt.date(2026, 7, 4),
        )


class TestAvailability:
    def phone(self, opened: dt.datetime, closed: dt.datetime | None, n: int = 0) -> list[SiteEvent]:
        found = [ev(f"o{n}", "opened", opened, what="Téléphone")]
        if closed is not None:
            found.append(ev(f"c{n}", "closed", closed, what="téléphone"))
        return found

    def day_timer(self, events: list[SiteEvent], day: dt.date, as_of: dt.datetime):
        timers = timers_of(evaluate(events, as_of), "phone", SERVICE)
        return next(t for t in timers if t.period == day.isoformat())

    def test_nine_hours_met(self) -> None:
        events = self.phone(at(2025, 9, 2, 8, 15), at(2025, 9, 2, 17, 15))
        timer = self.day_timer(events, dt.date(2025, 9, 2), at(2025, 9, 3, 12))
        assert (timer.state, timer.measured) == (TimerState.MET, 9.0)

    def test_short_day_breached(self) -> None:
        events = self.phone(at(2025, 9, 2, 8, 30), at(2025, 9, 2, 17, 15))
        timer = self.day_timer(events, dt.date(2025, 9, 2), at(2025, 9, 3, 12))
        assert (timer.state, timer.reason, timer.measured) == (
            TimerState.LATE,
            "short_amplitude",
            8.75,
        )

    def test_amplitude_spans_a_lunch_closure(self) -> None:
        events = [
            *self.phone(at(2025, 9, 2, 8), at(2025, 9, 2, 12), 1),
            *self.phone(at(2025, 9, 2, 14), at(2025, 9, 2, 17, 30), 2),
        ]
        timer = self.day_timer(events, dt.date(2025, 9, 2), at(2025, 9, 3))
        assert (timer.state, timer.measured) == (TimerState.MET, 9.5)

    def test_a_line_left_open_counts_to_midnight_and_not_the_days_after(self) -> None:
        # Found by an audit: one « opened » never closed made every later
        # school day met at 24 hours, days without any event included.
        events = self.phone(at(2025, 9, 2, 8), None)
        as_of = at(2025, 9, 5, 12)
        opened_day = self.day_timer(events, dt.date(2025, 9, 2), as_of)
        assert (opened_day.state, opened_day.measured) == (TimerState.MET, 16.0)
        next_day = self.day_timer(events, dt.date(2025, 9, 3), as_of)
        assert (next_day.state, next_day.reason, next_day.measured) == (
            TimerState.LATE,
            "short_amplitude",
            0.0,
        )

    def test_a_day_counts_from_its_own_first_opening(self) -> None:
        # Open overnight from Tuesday, closed at 02:00, then 10:00-12:00 on Wednesday.
        events = [
            *self.phone(at(2025, 9, 2, 8), at(2025, 9, 3, 2), 1),
            *self.phone(at(2025, 9, 3, 10), at(2025, 9, 3, 12), 2),
        ]
        timer = self.day_timer(events, dt.date(2025, 9, 3), at(2025, 9, 4))
        assert (timer.state, timer.measured) == (TimerState.LATE, 2.0)

    def test_the_last_closing_of_the_day_counts_even_twice_closed(self) -> None:
        events = [
            *self.phone(at(2025, 9, 2, 8), at(2025, 9, 2, 12)),
            ev("c-again", "closed", at(2025, 9, 2, 17, 30), what="téléphone"),
        ]
        timer = self.day_timer(events, dt.date(2025, 9, 2), at(2025, 9, 3))
        assert (timer.state, timer.measured) == (TimerState.MET, 9.5)

    def test_the_day_in_progress_is_pending(self) -> None:
        events = self.phone(at(2025, 9, 2, 8), None)
        timer = self.day_timer(events, dt.date(2025, 9, 2), at(2025, 9, 2, 12))
        assert (timer.state, timer.measured) == (TimerState.RUNNING, 4.0)

    def test_only_school_days_count(self) -> None:
        timers = timers_of(evaluate([], at(2025, 9, 8, 12)), "phone", SERVICE)
        # Mon 1 to Fri 5 September, then Monday 8 (in progress); not the weekend.
        assert [t.period for t in timers] == [
            "2025-09-01",
            "2025-09-02",
            "2025-09-03",
            "2025-09-04",
            "2025-09-05",
            "2025-09-08",
        ]
        assert [t.state for t in timers][:5] == [TimerState.LATE] * 5
        assert timers[-1].state is TimerState.RUNNING

    def test_dst_day_counts_real_hours(self) -> None:
        # Sunday 26 October 2025 is in the Toussaint holidays; Monday 30 March 2026 is a
        # school day after the spring-forward night: 8:00 to 17:00 is 9 real hours.
        events = self.phone(at(2026, 3, 30, 8), at(2026, 3, 30, 17))
        timer = self.day_timer(events, dt.date(2026, 3, 30), at(2026, 3, 31))
        assert timer.measured == 9.0


class TestProperties:
    @settings(max_examples=40, deadline=None)
    @given(
        first=st.integers(min_value=0, max_value=300),
        extra=st.integers(min_value=0, max_value=300),
    )
    def test_adding_a_visit_never_breaks_a_met_obligation(self, first: int, extra: int) -> None:
        start = at(2025, 9, 1, 8)
        base = [ev("a", "visited", start + dt.timedelta(days=first), "E1", "IEN")]
        more = [*base, ev("b", "visited", start + dt.timedelta(days=extra), "E1", "IEN")]
        as_of = at(2026, 8, 1)
        before = {t.engagement_id: t.state for t in timers_of(evaluate(base, as_of), "visit")}
        before |= {t.engagement_id: t.state for t in timers_of(evaluate(base, as_of), "ien")}
        after = {t.engagement_id: t.state for t in timers_of(evaluate(more, as_of), "visit")}
        after |= {t.engagement_id: t.state for t in timers_of(evaluate(more, as_of), "ien")}
        for engagement, state in before.items():
            if state is TimerState.MET:
                assert after[engagement] is TimerState.MET

    @settings(max_examples=30, deadline=None)
    @given(st.lists(st.integers(min_value=0, max_value=320), max_size=60))
    def test_weekly_breaches_are_school_weeks_without_publication(self, offsets: list[int]) -> None:
        start = dt.date(2025, 9, 1)
        days = [start + dt.timedelta(days=o) for o in offsets]
        events = [
            ev(f"p{n}", "published", dt.datetime.combine(d, dt.time(11), tzinfo=PARIS))
            for n, d in enumerate(days)
        ]
        web = timers_of(evaluate(events, at(2026, 8, 1)), "web", SERVICE)
        published_mondays = {d - dt.timedelta(days=d.weekday()) for d in days}
        expected = [m for m in school_weeks() if m not in published_mondays]
        assert sum(t.state is TimerState.LATE for t in web) == len(expected)
        assert sum(t.state is TimerState.MET for t in web) == len(school_weeks()) - len(expected)


# -- the engine: the store, the register, the reports ---------------------------------


def clock() -> dt.datetime:
    return dt.datetime(2026, 8, 1, tzinfo=dt.UTC)


@pytest.fixture
def engine() -> SlaEngine:
    engine = SlaEngine(parse_catalogue(CATALOGUE), "fr+B", clock=clock)
    engine.register_sites([("E1", "École de Ciron"), ("E2", "École de Rosnay")])
    return engine


class TestEngine:
    def test_events_go_to_the_store_once(self, engine: SlaEngine) -> None:
        visit = ev("v1", "visited", at(2025, 9, 3), "E1", "passage")
        assert engine.record_site_event(visit) is RecordOutcome.RECORDED
        assert engine.record_site_event(visit) is RecordOutcome.DUPLICATE
        assert [e.event_id for e in engine.site_history("E1")] == ["v1"]
        assert engine.sites() == {"E1": "École de Ciron", "E2": "École de Rosnay"}
        assert engine.register_sites([("E1", "École de Ciron")]) == 0
        assert engine.register_sites([("E1", "École Jules-Ferry de Ciron")]) == 1
        assert engine.sites()["E1"] == "École Jules-Ferry de Ciron"

    def test_what_is_only_a_word_the_catalogue_declares(self, engine: SlaEngine) -> None:
        # A name typed in the wrong field is refused, and never repeated.
        with pytest.raises(SiteRuleError) as caught:
            engine.record_site_event(ev("n", "visited", at(2025, 9, 3), "E1", "Mme Dupont"))
        assert caught.value.code == "unknown_what"
        assert "dupont" not in str(caught.value).lower()
        assert "passage" in str(caught.value)
        # A declared word, whatever its case and accents.
        visit = ev("p", "visited", at(2025, 9, 3), "E1", "PASSAGE")
        assert engine.record_site_event(visit) is RecordOutcome.RECORDED
        assert [e.what for e in engine.site_history("E1")] == ["passage"]

    def test_unknown_site(self, engine: SlaEngine) -> None:

        with pytest.raises(SiteRuleError, match="not in the register") as caught:
            engine.record_site_event(ev("x", "visited", at(2025, 9, 3), "E9", "passage"))
        assert caught.value.code == "unknown_site"
        result = engine.record_site_events(
            [
                ev("x", "visited", at(2025, 9, 3), "E9"),
                ev("y", "visited", at(2025, 9, 3), "E2"),
            ],
            atomic=False,
        )
        assert (result.recorded, len(result.rejected)) == (1, 1)

    def test_a_mapping_that_makes_no_event_is_rejected_alone(self, engine: SlaEngine) -> None:
        naive = {"event_id": "v2", "type": "visited", "site": "E2", "what": "passage",
                 "occurred_at": dt.datetime(2025, 9, 3, 10)}  # fmt: skip
        good = ev("v1", "visited", at(2025, 9, 3), "E1", "passage")
        result = engine.record_site_events([naive, good], atomic=False)
        ((given, error),) = [(r.event, r.error) for r in result.rejected]
        assert (result.recorded, given, type(error)) == (1, naive, NaiveDatetimeError)
        assert [e.event_id for e in engine.site_history("E1")] == ["v1"]
        with pytest.raises(NaiveDatetimeError):
            engine.record_site_events([naive], atomic=True)

    def test_an_id_reused_for_another_event(self, engine: SlaEngine) -> None:
        engine.record_site_event(ev("v1", "visited", at(2025, 9, 3), "E1", "passage"))
        with pytest.raises(SiteRuleError) as caught:
            engine.record_site_event(ev("v1", "visited", at(2025, 9, 4), "E1", "passage"))
        assert caught.value.code == "id_reused"

    def test_outside_the_school_calendar(self, engine: SlaEngine) -> None:
        with pytest.raises(SiteRuleError) as caught:
            engine.record_site_event(ev("v", "visited", at(2016, 9, 5), "E1"))
        assert caught.value.code == "outside_calendar"
        assert "Zone B" in str(caught.value)

    def test_in_the_future(self, engine: SlaEngine) -> None:
        with pytest.raises(SiteRuleError) as caught:
            engine.record_site_event(ev("v", "visited", at(2026, 9, 5), "E1"))
        assert caught.value.code == "in_future"

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(NaiveDatetimeError):
            SiteEvent("v", "visited", dt.datetime(2025, 9, 3, 10), site="E1")

    def test_free_text_is_refused_in_what(self) -> None:
        with pytest.raises(DataError, match="short word"):
            SiteEvent("v", "visited", at(2025, 9, 3), site="E1", what="Mme Dupont a dit: " * 5)

    def test_report_by_site_and_explanations(self, engine: SlaEngine) -> None:
        engine.record_site_events(
            [
                ev("v1", "visited", at(2025, 9, 3), "E1", "passage"),
                ev("v2", "visited", at(2025, 9, 15), "E2", "passage"),
                ev("i1", "visited", at(2025, 10, 2), "E1", "IEN"),
                ev("m1", "held", at(2025, 9, 18)),
            ]
        )
        report = build_report(engine, as_of=at(2025, 10, 25), by=["engagement", "site"])
        figures = {
            e["id"]: (e["total"], e["met"], e["late"], e["overdue"]) for e in report["engagements"]
        }
        assert figures["visit"] == (2, 1, 1, 0)
        assert figures["ien"] == (2, 1, 0, 1)
        assert figures["meetings"] == (1, 0, 0, 0)
        targets = {e["id"]: e["target"] for e in report["engagements"]}
        assert targets["visit"] == "au plus tard la rentrée des élèves + 10 jours calendaires"
        # The JSON's target is the catalogue's, in French, whatever the review's
        # language (as a delay's is); its label is in the review's language.
        english = build_report(engine, as_of=at(2025, 10, 25), lang="en")
        visit = next(e for e in english["engagements"] if e["id"] == "visit")
        assert visit["target"] == targets["visit"]
        label = obligation_target(engine.catalogue.engagement("visit"), "en")
        assert visit["target_label"] == label != visit["target"]
        assert visit["target_label"] in render_csv(english)
        groups = {(g["by"]["engagement"], g["by"]["site"]): g["met"] for g in report["groups"]}
        assert groups[("visit", "E1")] == 1
        assert groups[("visit", "E2")] == 0
        assert groups[("meetings", None)] == 0
        assert "site" in render_csv(report).splitlines()[0]
        fr = engine.explain_obligation("E2", "visit", now=at(2025, 10, 25))
        assert "Site E2 (École de Rosnay), période 2025-2026." in fr
        assert "jeudi 11 septembre 2025" in fr
        ien = engine.explain_obligation("E1", "ien", now=at(2025, 10, 25))
        # The holiday keeps its capital (« toussaint » was printed before).
        assert (
            "Le dernier jour scolaire avant les vacances « Toussaint » : vendredi 17 octobre 2025."
            in ien
        )
        assert "engagement non tenu" in fr
        en = engine.explain_obligation("E1", "ien", lang="en", now=at(2025, 10, 25))
        assert "Friday 17 October 2025" in en
        assert "The last school day before the “Toussaint” holidays: Friday 17 October 2025." in en
        assert "engagement kept" in en

    def test_survives_reopening_the_store(self, tmp_path: Path) -> None:
        store = str(tmp_path / "s.db")
        first = SlaEngine(parse_catalogue(CATALOGUE), "fr+B", store=store, clock=clock)
        first.register_sites([("E1", "École de Ciron")])
        first.record_site_event(ev("v1", "visited", at(2025, 9, 3), "E1", "passage"))
        again = SlaEngine(store=store, clock=clock)
        (timer,) = [
            t for t in again.obligation_timers(at(2025, 9, 20)) if t.engagement_id == "visit"
        ]
        assert (timer.contact_id, timer.state) == ("E1", TimerState.MET)


class TestRegisterAndLogs:
    def test_register(self, tmp_path: Path) -> None:
        path = tmp_path / "sites.csv"
        path.write_text("id,name\nE1,École de Ciron\nE2,École de Rosnay\n", encoding="utf-8")
        register = load_site_register(path)
        assert register.sites == (("E1", "École de Ciron"), ("E2", "École de Rosnay"))

    def test_register_errors_name_each_line(self, tmp_path: Path) -> None:
        path = tmp_path / "sites.csv"
        path.write_text("id,name\nE1,A\nE1,B\n,C\nE 4,D\nE5,\n", encoding="utf-8")
        with pytest.raises(DataError) as caught:
            load_site_register(path)
        message = str(caught.value)
        assert "4 error(s)" in message
        assert f"{path}:3: id: 'E1' already on line 2" in message
        assert f"{path}:4: id: empty" in message
        assert f"{path}:5: id:" in message
        assert f"{path}:6: name: empty" in message

    def test_register_without_its_columns(self, tmp_path: Path) -> None:
        path = tmp_path / "sites.csv"
        path.write_text("code,label\nE1,A\n", encoding="utf-8")
        with pytest.raises(DataError, match=r"sites.csv:1: missing column\(s\) id, name"):
            load_site_register(path)

    def test_site_log_rows(self, tmp_path: Path) -> None:
        path = tmp_path / "log.csv"
        path.write_text(
            "event_id,site,type,occurred_at,what\n"
            "S1,E1,visite,2025-09-03T10:00:00+02:00,passage\n"
            "S2,E1,visited,2025-09-03T10:00:00,passage\n"
            "S3,E1,teleported,2025-09-03T10:00:00+02:00,\n"
            "S4,,ouverture,2025-09-03T08:00:00+02:00,téléphone\n",
            encoding="utf-8",
        )
        rows = list(read_site_log(path))
        assert rows[0].event.type == "visited"  # type: ignore[union-attr]
        assert (rows[1].line, rows[1].field) == (3, "occurred_at")  # type: ignore[union-attr]
        assert (rows[2].line, rows[2].field) == (4, "type")  # type: ignore[union-attr]
        assert rows[3].event.subject == SERVICE  # type: ignore[union-attr]
        assert rows[3].event.what == "telephone"  # type: ignore[union-attr]


class TestCatalogueValidation:
    def error_text(self, engagement: str, calendar_line: str = 'calendar = "fr+B"') -> str:
        text = f'[catalogue]\nid = "t"\ntitle = "t"\nversion = "1"\n{calendar_line}\n\n{engagement}'
        with pytest.raises(CatalogueError) as caught:
            parse_catalogue(text, source="t.toml")
        return str(caught.value)

    def test_bad_anchor_with_its_line(self) -> None:
        message = self.error_text(
            '[[engagement]]\nid = "v"\ntitle = "v"\nsource = "s"\nkind = "scheduled"\n'
            'per = "site"\nevent = "visited"\ndue = "début:Pâques"\n'
        )
        assert "t.toml:14: engagement 'v'.due:" in message
        assert "no holiday named 'Pâques'" in message

    def test_no_school_zone(self) -> None:
        message = self.error_text(
            '[[engagement]]\nid = "w"\ntitle = "w"\nsource = "s"\nkind = "recurring"\n'
            'per = "service"\nevent = "published"\nevery = "week"\n',
            calendar_line='calendar = "fr"',
        )
        assert "needs a calendar with a school zone" in message

    def test_every_error_at_once(self) -> None:
        message = self.error_text(
            '[[engagement]]\nid = "p"\ntitle = "p"\nsource = "s"\nkind = "availability"\n'
            'per = "everyone"\nline = "téléphone"\namplitude = "30 heures"\ndue = "rentrée"\n'
        )
        assert "3 errors" in message
        assert 't.toml:12: engagement \'p\'.per: per must be "site" or "service"' in message
        assert "t.toml:14: engagement 'p'.amplitude:" in message
        assert "at most 24 hours" in message
        assert "t.toml:15: engagement 'p'.due: 'due' is not used by a availability" in message

    def test_opened_is_not_a_scheduled_event(self) -> None:
        message = self.error_text(
            '[[engagement]]\nid = "o"\ntitle = "o"\nsource = "s"\nkind = "scheduled"\n'
            'per = "service"\nevent = "opened"\ndue = "rentrée"\ncount = 0\n'
        )
        assert 'use kind = "availability"' in message
        assert "count must be a whole number from 1 to 1000" in message


def test_a_zone_whose_school_years_are_calendar_years_has_its_obligations() -> None:
    """Nouvelle-Calédonie: school year « 2025 », from 17 February to 20 December."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from sla_engine import SiteEvent, SlaEngine, parse_catalogue

    noumea = ZoneInfo("Pacific/Noumea")
    catalogue = parse_catalogue(
        """
[catalogue]
id = "vice-rectorat"
title = "Vice-rectorat"
version = "1"
calendar = "fr-NC+Nouvelle-Calédonie"

[[engagement]]
id = "rentree-visit"
title = "Passage dans chaque école sous 10 jours après la rentrée"
source = "tests/test_obligations.py"
kind = "scheduled"
per = "site"
event = "visited"
due = "rentrée + 10 jours calendaires"
"""
    )
    engine = SlaEngine(catalogue, clock=lambda: dt.datetime(2025, 6, 2, tzinfo=noumea))
    engine.register_sites([("E1", "École de Magenta"), ("E2", "École de Rivière-Salée")])
    engine.record_site_events(
        [SiteEvent("v1", "visited", dt.datetime(2025, 2, 20, 9, tzinfo=noumea), site="E1")]
    )
    as_of = dt.datetime(2025, 6, 2, tzinfo=noumea)
    assert engine.obligation_years(as_of) == ["2025"]
    states = {
        t.contact_id: (t.period, t.state.value, t.due_date)
        for t in engine.obligation_timers(as_of, school_years=["2025"])
    }
    # Ten days after the rentrée of Monday 17 February: Thursday 27 February.
    assert states == {
        "E1": ("2025", "met", dt.date(2025, 2, 27)),
        "E2": ("2025", "overdue", dt.date(2025, 2, 27)),
    }
    # January is the summer holidays before the school year of its own year.
    january = dt.datetime(2026, 1, 10, tzinfo=noumea)
    assert engine.obligation_years(january) == ["2025", "2026"]
