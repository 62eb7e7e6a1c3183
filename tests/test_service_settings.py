"""What a service sets holds everywhere its timers are read or explained.

- Explanations of a suspended delay give the figure the timer has, whatever
  the unit (they added the suspension only for day counts, and explained a
  calendar-day, week, month or hour delay as if never suspended).
- The worklist and ``all_timers`` count an open timer's elapsed days as
  ``timers`` does (they left it empty).
- The engine calendar's working week and opening hours hold for an engagement
  whose catalogue names its own calendar, as its closures did.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sla_engine import ContactEvent, SlaEngine, calendar, parse_catalogue
from sla_engine._text import format_instant

from .engine_support import one_engagement

PARIS = ZoneInfo("Europe/Paris")


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def _catalogue(target: str, extra: str = "") -> str:
    return one_engagement(target, extra, source="tests/test_service_settings.py")


def _history(*events: tuple[str, dt.datetime]) -> list[ContactEvent]:
    return [
        ContactEvent(
            event_id=f"e{n}",
            contact_id="X",
            type=kind,
            occurred_at=at,
            channel="email" if kind == "received" else None,
        )
        for n, (kind, at) in enumerate(events)
    ]


SUSPENDED = _history(
    ("received", _at(2025, 3, 3, 10)),
    ("suspended", _at(2025, 3, 4, 10)),
    ("resumed", _at(2025, 3, 8, 10)),
)


@pytest.mark.parametrize(
    ("target", "added", "expires"),
    [
        # 4 calendar days suspended (4 to 8 March): 14 days from 3 March.
        ("10 jours calendaires", "4 jours calendaires", _at(2025, 3, 18)),
        ("10 jours francs", "4 jours francs", _at(2025, 3, 19)),
        # A week from 3 March is 10 March, 4 days later Friday 14.
        ("1 semaine", "4 jours calendaires", _at(2025, 3, 15)),
        ("1 mois", "4 jours calendaires", _at(2025, 4, 8)),
        # 96 hours suspended: 48 hours run to Sunday 9 March, 10:00.
        ("48 heures", "96 heures", _at(2025, 3, 9, 10)),
        # 3 working days suspended (5, 6, 7 March; 8 is a Saturday).
        ("5 jours ouvrés", "3 jours ouvrés", _at(2025, 3, 14)),
    ],
)
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_explanation_gives_the_suspended_timers_own_expiry(
    target: str, added: str, expires: dt.datetime, lang: str
) -> None:
    now = _at(2025, 5, 1, 12)
    engine = SlaEngine(
        parse_catalogue(_catalogue(target, 'pause = "suspended"')), "fr", clock=lambda: now
    )
    engine.record_many(SUSPENDED)
    (timer,) = engine.timers("X", now=now)
    assert timer.expires_at == expires
    text = engine.explain("X", "e", lang=lang, now=now)
    lines = text.splitlines()
    (suspension,) = [line for line in lines if line.startswith("Suspensions")]
    in_english = {"jours calendaires": "calendar days", "jours francs": "clear days"}
    in_english |= {"heures": "hours", "jours ouvrés": "business days"}
    number, unit = added.split(" ", 1)
    added_en = f"{number} {in_english[unit]}"
    if unit == "heures":  # hours are a duration: « 96 h », "96 hours"
        added = f"{number} h"
    assert (added if lang == "fr" else added_en) in suspension
    # The computation ends at the timer's expiry, before the verdict says it.
    expiry = format_instant(expires, lang)
    verdict = next(i for i, line in enumerate(lines) if line.startswith("Verdict"))
    assert any(expiry in line for line in lines[:verdict])
    assert expiry in lines[verdict]
    engine.close()


def test_the_worklist_and_all_timers_count_elapsed_days_as_timers_does() -> None:
    now = _at(2025, 3, 7, 10)
    engine = SlaEngine(
        parse_catalogue(_catalogue("5 jours ouvrés", "warn_at = [0.5]")), "fr", clock=lambda: now
    )
    engine.record(_history(("received", _at(2025, 3, 3, 10)))[0])
    expected = [(t.state.value, t.elapsed) for t in engine.timers("X", now=now)]
    assert expected == [("at_risk", 4)]
    assert [(t.state.value, t.elapsed) for t in engine.worklist(_at(2025, 3, 31), now=now)] == (
        expected
    )
    assert [(t.state.value, t.elapsed) for t in engine.all_timers(now=now)] == expected
    engine.close()


@pytest.mark.parametrize("catalogue", ["marianne-besancon", "services-publics-plus"])
def test_the_services_working_week_holds_when_the_catalogue_names_a_calendar(
    catalogue: str,
) -> None:
    service = calendar("fr", working_week="mar-sam")
    engine = SlaEngine(catalogue, service, clock=lambda: _at(2025, 11, 20))
    engine.record(
        {
            "event_id": "1",
            "contact_id": "A",
            "type": "received",
            "occurred_at": _at(2025, 11, 7, 10),
            "channel": "courriel",
        }
    )
    timers = [t for t in engine.timers("A") if t.due_date is not None]
    assert timers
    for timer in timers:
        assert "week=tue-sat" in (timer.calendar_version or "")
    if catalogue == "marianne-besancon":  # names calendar "fr"
        (email,) = timers
        # 5 Tuesday-to-Saturday days after Friday 7 November (11th is a holiday).
        assert email.due_date == service.add(dt.date(2025, 11, 7), 5) == dt.date(2025, 11, 15)
    engine.close()


def test_the_services_opening_hours_hold_when_the_catalogue_names_a_calendar() -> None:
    service = calendar("fr", opening_hours="lun-ven 09:00-12:00")
    engine = SlaEngine(
        parse_catalogue(_catalogue("6 heures ouvrées")), service, clock=lambda: _at(2025, 11, 20)
    )
    engine.record(_history(("received", _at(2025, 11, 3, 10)))[0])  # a Monday
    (timer,) = engine.timers("X")
    # 2 hours on Monday, 3 on Tuesday, the sixth on Wednesday from 9:00.
    assert timer.expires_at == _at(2025, 11, 5, 10)
    engine.close()
