"""Reviews at their boundaries: an expiry instant, a start day across midnight, rounding.

- A timer reviewed as of exactly its expiry is overdue (as :meth:`Timer.at`
  says), in the SQLite view's figures too.
- A contact's start day is its calendar's day: 22:30 UTC on 30 September is
  1 October in Paris, and is counted in October.
- A rate is rounded once, half up, from the figure it shows (3/80 is 3,8 %),
  p90 is the nearest rank (9 for the delays 1 to 10), the units a helper
  process saw are kept when its tally is merged, and « 1,5 jour » is singular
  in French.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla_engine import SlaEngine
from sla_engine._report import _delay, _rate_rounded, _Tally, build_report, format_percent
from sla_engine._text import agreeing

from .engine_support import delays_in_two_units, november_2025

PARIS = ZoneInfo("Europe/Paris")


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def _received(cid: str, when: dt.datetime) -> dict[str, object]:
    return {
        "event_id": f"{cid}1",
        "contact_id": cid,
        "type": "received",
        "channel": "email",
        "occurred_at": when,
    }


def test_a_review_as_of_exactly_an_expiry_counts_the_timer_overdue(tmp_path: Path) -> None:
    # The expiry instant is the first one past the deadline: a review asked
    # then must agree with Timer.at, which says overdue.
    engine = SlaEngine(
        "marianne-besancon",
        "fr",
        store=f"sqlite:///{tmp_path / 's.db'}",
        clock=lambda: _at(2026, 1, 1),
    )
    engine.record_many([_received("A", _at(2025, 10, 13, 10))])
    (timer,) = [t for t in engine.timers("A") if t.engagement_id == "email-5"]
    expires = timer.expires_at
    assert expires == _at(2025, 10, 21)
    (at_expiry,) = [t for t in engine.timers("A", now=expires) if t.engagement_id == "email-5"]
    assert at_expiry.state.value == "overdue"
    report = build_report(engine, as_of=expires)
    (entry,) = [e for e in report["engagements"] if e["id"] == "email-5"]
    assert (entry["total"], entry["overdue"], entry["pending"]) == (1, 1, 0)
    # A minute earlier it is still pending.
    before = build_report(engine, as_of=expires - dt.timedelta(minutes=1))
    (entry,) = [e for e in before["engagements"] if e["id"] == "email-5"]
    assert (entry["overdue"], entry["pending"]) == (0, 1)
    engine.close()


def test_a_contact_received_before_midnight_utc_counts_on_its_paris_day() -> None:
    # 22:30 UTC on 30 September is 00:30 on 1 October in Paris: the review's
    # month and its start/end period are the calendar's days, not UTC's.
    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: _at(2026, 1, 1))
    engine.record_many([_received("A", dt.datetime(2025, 9, 30, 22, 30, tzinfo=dt.UTC))])
    by_month = build_report(engine, by=["month"])
    assert sorted({g["by"]["month"] for g in by_month["groups"]}) == ["2025-10"]
    october = build_report(engine, start=dt.date(2025, 10, 1), end=dt.date(2025, 10, 31))
    assert sum(e["total"] for e in october["engagements"]) == 1
    september = build_report(engine, start=dt.date(2025, 9, 1), end=dt.date(2025, 9, 30))
    assert sum(e["total"] for e in september["engagements"]) == 0


def test_a_rate_is_rounded_half_up_from_the_figure_it_shows() -> None:
    # 3/80 is 0.0375, which as a binary float is a hair below: rounding the
    # float's exact value would show 3,7 %.
    assert _rate_rounded(3 / 80) == decimal.Decimal("0.038")
    assert format_percent(3 / 80, "fr") == "3,8\u00a0%"
    assert _rate_rounded(77 / 80) == decimal.Decimal("0.963")
    assert format_percent(77 / 80, "en") == "96.3%"


def test_p90_is_the_nearest_rank_delay() -> None:
    # Nearest rank: the ceil(0.9 n)-th smallest delay, one a timer actually took.
    assert _delay(Counter(range(1, 11)), "jours ouvrés")["p90"] == 9
    assert _delay(Counter(range(1, 21)), "jours ouvrés")["p90"] == 18
    assert _delay(Counter([4]), "jours ouvrés")["p90"] == 4


def test_a_merged_tally_keeps_the_units_only_the_helper_process_saw() -> None:
    # With jobs=2 a helper process counts every other page: a unit only it saw
    # must still make the engagement's delays « mixed » (no pooled statistic).
    day = dt.date(2025, 1, 6)
    main, helper = _Tally([]), _Tally([])
    main.add_values("e", "met", 2, "jours ouvrés", (None,) * 4, day, ("A", 0, None, None, None))
    helper.add_values("e", "late", 2, "mois", (None,) * 4, day, ("B", 0, None, None, None))
    main.merge(helper)
    assert main.units["e"] == {"jours ouvrés", "mois"}
    assert main.elapsed["e"] == Counter({2: 2})
    assert main.by_engagement["e"] == Counter({"met": 1, "late": 1})


def test_a_review_counted_in_two_processes_keeps_delays_in_several_units(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two contacts announced delays in different units: one page each, the
    # second counted by the helper process; the review must say « mixed » as
    # the one-process review does.
    from sla_engine import _report, _view

    engine = SlaEngine(
        "services-publics-plus",
        "fr",
        store=f"sqlite:///{tmp_path / 's.db'}",
        clock=lambda: november_2025(28),
    )
    engine.record_many(delays_in_two_units())
    monkeypatch.setattr(_view, "_PAGE", 1)
    monkeypatch.setattr(_report, "PAGES_ALONE", 1)
    as_of = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # after the last event: the view
    for jobs in (1, 2):
        report = build_report(engine, as_of=as_of, jobs=jobs)
        (entry,) = [e for e in report["engagements"] if e["id"] == "answer-announced"]
        assert (entry["total"], entry["met"]) == (2, 2), jobs
        assert entry["delay"] == {
            "unit": None, "count": 2, "median": None, "p90": None, "histogram": []
        }, jobs  # fmt: skip
    engine.close()


@pytest.mark.parametrize(
    ("count", "word"),
    [(0, "jour"), (1, "jour"), (1.5, "jour"), (-1.5, "jour"), (1.99, "jour"), (2, "jours")],
)
def test_french_agrees_in_the_singular_below_two(count: float, word: str) -> None:
    # « 1,5 jour »: French takes the singular below 2, English only for 1.
    assert agreeing(count, "fr", "jour", "jours") == word
    assert agreeing(1.5, "en", "day", "days") == "days"
