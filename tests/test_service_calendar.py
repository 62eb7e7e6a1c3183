"""The service's own calendar holds for every engagement; a store's missing folder is named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import sla_engine
from sla_engine import SlaEngine, SlaEngineError

PARIS = ZoneInfo("Europe/Paris")
# The service is shut from Monday 22 to Wednesday 31 December 2025.
SERVICE = sla_engine.calendar("fr").with_closures(
    (dt.date(2025, 12, 22), dt.date(2025, 12, 31), "fermeture de fin d'année")
)
FRIDAY = dt.datetime(2025, 12, 19, 10, tzinfo=PARIS)


def email_due(engine: SlaEngine) -> tuple[dt.date | None, str | None]:
    engine.record(
        {
            "event_id": "1",
            "contact_id": "A-1",
            "type": "received",
            "occurred_at": FRIDAY,
            "channel": "courriel",
        }
    )
    (timer,) = engine.timers("A-1", now=FRIDAY)
    return timer.due_date, timer.calendar


def test_closures_hold_for_an_engagement_that_names_its_own_calendar() -> None:
    # marianne-besancon names "fr": 5 jours ouvrés from Friday 19 December.
    # Without the closure: 22, 23, 24, 26, 29 December (25th is Christmas).
    plain = SlaEngine("marianne-besancon", "fr")
    assert email_due(plain) == (dt.date(2025, 12, 29), "fr")
    # With it: 2, 5, 6, 7, 8 January (1st is New Year's Day).
    shut = SlaEngine("marianne-besancon", SERVICE)
    assert email_due(shut) == (dt.date(2026, 1, 8), "fr")


def test_the_named_calendar_is_built_once() -> None:
    engine = SlaEngine("marianne-besancon", SERVICE)
    assert engine.calendar_for("fr") is engine.calendar_for("fr")
    assert engine.calendar_for("fr").closures == SERVICE.closures
    assert engine.calendar_for("fr") != sla_engine.calendar("fr")
    assert SlaEngine("marianne-besancon", "fr").calendar_for("fr") == sla_engine.calendar("fr")


def test_a_store_in_a_missing_folder_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(SlaEngineError, match=r"the folder '.*nowhere' does not exist"):
        SlaEngine("marianne-besancon", "fr", store=str(missing / "store.db"))
    with pytest.raises(SlaEngineError, match="does not exist"):
        SlaEngine("marianne-besancon", "fr", store=f"sqlite:///{missing}/store.db")
    assert not missing.exists()


def test_the_command_line_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from sla_engine.cli import main

    log = Path(__file__).parent.parent / "docs" / "examples" / "district-2025-2026.csv.gz"
    store = tmp_path / "nowhere" / "x.db"
    args = ["replay", str(log), "--catalogue", "qualicirco", "--calendar", "fr+B"]
    assert main([*args, "--store", str(store)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sla-engine: error: cannot open the store")
    assert "Traceback" not in err
