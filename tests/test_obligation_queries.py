"""Obligations answer the engine's live questions: worklist, check, as-of, what-if.

Zone B, school year 2025-2026 (official data): rentrée Monday 1 September
2025, so « rentrée + 10 jours calendaires » is Thursday 11 September; the
Toussaint holidays' first day off is Sunday 19 October (classes end
Saturday 18), so « veille:Toussaint » is Friday 17 October.  Winter
holidays: zone B from Sunday 15 February to Sunday 1 March 2026 (ISO weeks
8 and 9 without a school day); zone A from Sunday 8 to Sunday 22 February
(weeks 7 and 8).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sla_engine._catalogue import parse_catalogue
from sla_engine._contact import ContactEvent
from sla_engine._engine import Alert, EscalationPolicy, SlaEngine
from sla_engine._errors import SlaEngineError
from sla_engine._sites import SiteEvent
from sla_engine._timers import TimerState

PARIS = ZoneInfo("Europe/Paris")

CATALOGUE = """
[catalogue]
id = "district"
title = "Circonscription de test"
version = "1"
calendar = "fr+B"

[[engagement]]
id = "email"
title = "Courriels sous 5 jours ouvrés"
source = "test"
kind = "response"
start = "received"
stop = ["answered"]
target = "5 jours ouvrés"

[[engagement]]
id = "visit"
title = "Passage dans chaque école sous 10 jours après la rentrée"
source = "test"
kind = "scheduled"
per = "site"
event = "visited"
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
id = "desk"
title = "Accueil de chaque école 6 heures par jour scolaire"
source = "test"
kind = "availability"
per = "site"
line = "accueil"
amplitude = "6 heures"
"""


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=PARIS)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(at(2026, 3, 20, 9))  # when the events are recorded; queries say their instant


@pytest.fixture
def engine(clock: Clock) -> SlaEngine:
    engine = SlaEngine(parse_catalogue(CATALOGUE), "fr+B", clock=clock)
    engine.register_sites([("E1", "École de Ciron"), ("E2", "École de Rosnay")])
    return engine


def visit(n: int, site: str, when: dt.datetime, what: str = "passage") -> SiteEvent:
    return SiteEvent(f"v{n}", "visited", when, site=site, what=what)


class TestWorklist:
    def test_obligations_due_before_an_instant(self, engine: SlaEngine) -> None:
        engine.record_site_event(visit(1, "E1", at(2025, 9, 2)))
        engine.record(
            ContactEvent(
                event_id="m1",
                contact_id="c1",
                type="received",
                occurred_at=at(2025, 9, 2, 9),
                channel="courriel",
            )
        )
        # On Wednesday 3 September at 9:00, before Friday 12 September 00:00: the e-mail
        # (due Tuesday 9 September), E2's visit (due Thursday 11), the service's website
        # for week 36 (due Sunday 7), and each school's desk today (due at midnight).
        found = engine.worklist(at(2025, 9, 12, 0, 0), now=at(2025, 9, 3, 9))
        keys = [(t.engagement_id, t.contact_id, t.period, t.due_date) for t in found]
        assert keys == [
            ("desk", "E1", "2025-09-03", dt.date(2025, 9, 3)),
            ("desk", "E2", "2025-09-03", dt.date(2025, 9, 3)),
            ("web", "service", "2025-W36", dt.date(2025, 9, 7)),
            ("email", "c1", None, dt.date(2025, 9, 9)),
            ("visit", "E2", "2025-2026", dt.date(2025, 9, 11)),
        ]
        assert all(t.state is TimerState.RUNNING for t in found)
        # E1 was visited: its obligation is met, not in the worklist; the IEN's visits are
        # due Friday 17 October, after the horizon.
        assert engine.worklist(at(2025, 9, 12), now=at(2025, 9, 3, 9), limit=2) == found[:2]

    def test_overdue_obligations_stay_in_the_worklist(self, engine: SlaEngine) -> None:
        found = engine.worklist(at(2025, 9, 15, 12), now=at(2025, 9, 15, 12))
        visits = [(t.contact_id, t.state) for t in found if t.engagement_id == "visit"]
        assert visits == [("E1", TimerState.OVERDUE), ("E2", TimerState.OVERDUE)]

    def test_a_school_year_the_calendar_does_not_know(self, engine: SlaEngine) -> None:
        from sla_engine._anchors import AnchorError

        with pytest.raises(AnchorError, match=r"Zone B does not know the school year 2031-2032"):
            engine.worklist(at(2031, 10, 1), now=at(2031, 10, 1))


class TestCheck:
    def test_alerts_when_obligations_expire(self, engine: SlaEngine, clock: Clock) -> None:
        seen: list[Alert] = []
        engine.on_alert = seen.append
        engine.record_site_event(visit(1, "E1", at(2025, 9, 2)))
        for day in (1, 2, 3, 4, 5, 8, 9, 10, 11, 12):
            for site in ("E1", "E2"):
                engine.record_site_events(
                    [
                        SiteEvent(f"o{day}{site}", "opened", at(2025, 9, day, 8), site, "accueil"),
                        SiteEvent(f"c{day}{site}", "closed", at(2025, 9, day, 16), site, "accueil"),
                    ]
                )
        engine.record_site_event(SiteEvent("p1", "published", at(2025, 9, 4)))
        assert engine.check(at(2025, 9, 10, 12), since=at(2025, 9, 3, 12)) == []
        seen.clear()
        alerts = engine.check(at(2025, 9, 16, 12))
        breaches = [
            (a.timer.engagement_id, a.timer.contact_id, a.timer.period, a.at) for a in alerts
        ]
        # Since the last check (Wednesday 10 September, noon): E2's visit expired on
        # Friday 12 September 00:00, and week 37 (8-14 September) had no publication.
        # Every desk day was kept; Monday 15 had no opening (a breach at 16 Sept 00:00).
        assert breaches == [
            ("visit", "E2", "2025-2026", at(2025, 9, 12, 0, 0)),
            ("web", "service", "2025-W37", at(2025, 9, 15, 0, 0)),
            ("desk", "E1", "2025-09-15", at(2025, 9, 16, 0, 0)),
            ("desk", "E2", "2025-09-15", at(2025, 9, 16, 0, 0)),
        ]
        assert all(a.kind == "breach" for a in alerts)
        assert seen == alerts
        # A second check over the same span reports nothing again.
        assert engine.check(at(2025, 9, 16, 12)) == []

    def test_escalation_records_no_contact_for_an_obligation(self, clock: Clock) -> None:
        engine = SlaEngine(
            parse_catalogue(CATALOGUE),
            "fr+B",
            clock=clock,
            escalation=EscalationPolicy(to="ien", on=("breach",)),
        )
        engine.register_sites([("E1", "École de Ciron")])
        alerts = engine.check(at(2025, 9, 12, 12))
        assert ("visit", "E1") in {(a.timer.engagement_id, a.timer.contact_id) for a in alerts}
        # No contact « E1 » (nor « service ») was invented to hold an escalated event.
        assert list(engine.histories()) == []


class TestAsOfAndWhatIf:
    def test_status_as_of_includes_obligations(self, engine: SlaEngine) -> None:
        engine.record_site_event(visit(1, "E1", at(2025, 9, 2)))
        engine.record_site_event(visit(2, "E2", at(2025, 9, 15)))
        before = {
            t.contact_id: t.state
            for t in engine.status_as_of(at(2025, 9, 12, 12))
            if t.engagement_id == "visit"
        }
        after = {
            t.contact_id: t.state
            for t in engine.status_as_of(at(2025, 9, 20))
            if t.engagement_id == "visit"
        }
        assert before == {"E1": TimerState.MET, "E2": TimerState.OVERDUE}
        assert after == {"E1": TimerState.MET, "E2": TimerState.LATE}

    def test_as_of_before_any_event_of_the_year(self, engine: SlaEngine) -> None:
        # On Friday 5 September nothing is recorded yet: both schools owe their visit.
        states = {
            (t.engagement_id, t.contact_id): t.state
            for t in engine.status_as_of(at(2025, 9, 5, 12))
            if t.engagement_id in ("visit", "ien")
        }
        assert states == {
            ("visit", "E1"): TimerState.RUNNING,
            ("visit", "E2"): TimerState.RUNNING,
            ("ien", "E1"): TimerState.RUNNING,
            ("ien", "E2"): TimerState.RUNNING,
        }

    def test_what_if_under_another_zone_pairs_weeks_by_period(self, engine: SlaEngine) -> None:
        engine.record_site_event(SiteEvent("p1", "published", at(2025, 9, 4)))
        # The zone is the catalogue's (calendar = "fr+B"): another zone is another
        # catalogue; another service calendar leaves the obligations as they are,
        # as a replay under it would.
        assert engine.what_if(calendar_spec="fr+A", as_of=at(2026, 3, 15)).changes() == []
        zone_a = parse_catalogue(CATALOGUE.replace('calendar = "fr+B"', 'calendar = "fr+A"'))
        result = engine.what_if(catalogue=zone_a, as_of=at(2026, 3, 15))
        web = [
            (a.period if a else None, b.period if b else None)
            for a, b in result.changes()
            if (a or b).engagement_id == "web"  # type: ignore[union-attr]
        ]
        # Zone B has no school day in weeks 8 and 9, zone A none in weeks 7 and 8.
        assert sorted(web, key=str) == [("2026-W07", None), (None, "2026-W09")]
        desk_days = {
            (a.period if a else None, b.period if b else None)
            for a, b in result.changes()
            if (a or b).engagement_id == "desk" and (a or b).contact_id == "E1"  # type: ignore[union-attr]
        }
        # Monday 9 to Friday 13 February: school days in zone B only (zone A's holidays);
        # Monday 23 to Friday 27 February: in zone A only; 16 to 20 February: in neither.
        assert desk_days == {(f"2026-02-{d:02d}", None) for d in range(9, 14)} | {
            (None, f"2026-02-{d}") for d in range(23, 28)
        }


class TestPerSiteAvailability:
    def test_each_school_has_its_own_desk(self, engine: SlaEngine) -> None:
        result = engine.record_site_events(
            [
                SiteEvent("o1", "opened", at(2025, 9, 2, 8, 30), "E1", "Accueil"),
                SiteEvent("c1", "closed", at(2025, 9, 2, 11, 30), "E1", "accueil"),
                SiteEvent("o2", "opened", at(2025, 9, 2, 13, 30), "E1", "accueil"),
                SiteEvent("c2", "closed", at(2025, 9, 2, 16, 30), "E1", "accueil"),
                # E2 opens only in the morning; « téléphone » is a line this catalogue ignores.
                SiteEvent("o3", "opened", at(2025, 9, 2, 8), "E2", "accueil"),
                SiteEvent("c3", "closed", at(2025, 9, 2, 12), "E2", "accueil"),
                SiteEvent("o4", "opened", at(2025, 9, 2, 13), "E2", "téléphone"),
                SiteEvent("c4", "closed", at(2025, 9, 2, 18), "E2", "téléphone"),
            ],
            atomic=False,
        )
        # A line the catalogue does not measure is not recorded (its word has no use).
        assert [(r.event.event_id, r.error.code) for r in result.rejected] == [
            ("o4", "unknown_what"),
            ("c4", "unknown_what"),
        ]
        day = {
            t.contact_id: (t.state, t.measured, t.reason)
            for t in engine.obligation_timers(at(2025, 9, 3, 12))
            if t.engagement_id == "desk" and t.period == "2025-09-02"
        }
        # E1: 8:30 to 16:30 is 8 hours (the lunch closure is inside the amplitude).
        assert day == {
            "E1": (TimerState.MET, 8.0, None),
            "E2": (TimerState.LATE, 4.0, "short_amplitude"),
        }


def test_a_worklist_reads_back_only_the_sites_with_new_events(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The 30-school sample: site aggregates are kept between queries, never read twice.

    (The worklist's cost is measured by benchmarks/bench_worklist.py, not here.)
    """
    from sla_engine._site_replay import replay_sites

    from .conftest import REPO

    engine = SlaEngine("qualicirco", clock=lambda: at(2025, 11, 20, 9))
    replay_sites(
        engine,
        REPO / "docs" / "examples" / "district-sites.csv",
        [REPO / "docs" / "examples" / "district-2025-2026-sites.csv"],
    )
    first = engine.worklist(at(2025, 11, 27), now=at(2025, 11, 20, 9), limit=None)
    assert any(t.engagement_id == "website-weekly" for t in first)

    reads: list[str] = []
    get = engine.repository.get

    def counted(aggregate_id: str, *args: object, **kwargs: object) -> object:
        reads.append(aggregate_id)
        return get(aggregate_id, *args, **kwargs)

    monkeypatch.setattr(engine.repository, "get", counted)
    again = engine.worklist(at(2025, 11, 27), now=at(2025, 11, 20, 9), limit=None)
    assert [t.key for t in again] == [t.key for t in first]
    assert [r for r in reads if "site" in r] == []

    engine.record_site_event(
        SiteEvent(
            event_id="late-visit",
            site="E015",
            type="visited",
            occurred_at=at(2025, 11, 19, 10),
            what="passage",
        )
    )
    reads.clear()
    engine.worklist(at(2025, 11, 27), now=at(2025, 11, 20, 9), limit=None)
    assert [r for r in reads if "site" in r] == ["sla-engine:site:E015"]


def test_the_services_own_obligations_explain_before_it_has_any_event() -> None:
    # The review lists the service's breaches from the start; explaining one
    # said « no site None has been registered ».
    engine = SlaEngine("qualicirco", "fr+B")
    engine.register_sites([("E1", "École A")])
    visit = dt.datetime(2025, 10, 8, 10, tzinfo=PARIS)
    engine.record_site_events([SiteEvent("v", "visited", visit, "E1", "IEN")])  # a school's
    as_of = dt.datetime(2025, 11, 1, tzinfo=PARIS)
    service = [t for t in engine.obligation_timers(as_of) if t.contact_id == "service"]
    assert service
    assert engine.site_history(None) == []
    text = engine.explain_obligation(None, service[0].engagement_id, now=as_of)
    assert "Le service, période" in text
    with pytest.raises(SlaEngineError, match="no site 'E9' has been registered"):
        engine.site_history("E9")
