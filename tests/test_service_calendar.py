"""The service's own calendar holds for every engagement; a store's missing folder is named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import sla_engine
from sla_engine import SlaEngine, SlaEngineError, calendar

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


# -- closures from iCalendar files: what RFC 5545 says they close ------------------------

_ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//sla-engine tests//EN
{events}END:VCALENDAR
"""


def _closed_days(tmp_path: Path, *events: str) -> list[str]:
    path = tmp_path / "closures.ics"
    body = "".join(f"BEGIN:VEVENT\nUID:{n}\n{e}\nEND:VEVENT\n" for n, e in enumerate(events))
    path.write_text(_ICS.format(events=body))
    cal = sla_engine.calendar("fr").with_closures_from_ics(path)
    return sorted({d.isoformat() for c in cal.closures for d in c.days()})


def test_an_ics_event_may_give_its_duration(tmp_path: Path) -> None:
    days = _closed_days(tmp_path, "SUMMARY:Inventaire\nDTSTART;VALUE=DATE:20251201\nDURATION:P3D")
    assert days == ["2025-12-01", "2025-12-02", "2025-12-03"]


def test_a_timed_ics_event_ends_at_the_services_local_midnight(tmp_path: Path) -> None:
    # 08:00 UTC to 23:00 UTC: 9:00 to midnight in Paris, the 9th stays open.
    assert _closed_days(tmp_path, "DTSTART:20251208T080000Z\nDTEND:20251208T230000Z") == [
        "2025-12-08"
    ]
    # 22:00 UTC to midnight UTC: 23:00 to 1:00 in Paris, two local days.
    assert _closed_days(tmp_path, "DTSTART:20251215T220000Z\nDTEND:20251216T000000Z") == [
        "2025-12-15",
        "2025-12-16",
    ]


def test_a_cancelled_ics_event_closes_nothing_and_rdate_is_refused(tmp_path: Path) -> None:
    assert _closed_days(
        tmp_path,
        "STATUS:CANCELLED\nDTSTART;VALUE=DATE:20251222\nDTEND;VALUE=DATE:20251223",
        "DTSTART;VALUE=DATE:20251224\nDTEND;VALUE=DATE:20251225",
    ) == ["2025-12-24"]
    with pytest.raises(SlaEngineError, match="repeats \\(RDATE\\)"):
        _closed_days(tmp_path, "DTSTART;VALUE=DATE:20260514\nRDATE;VALUE=DATE:20260515")


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_store_opened_with_other_closures_is_counted_again(
    make_engine, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The store's rules name the calendar « fr » either way: its data tells them apart."""
    rebuilds: list[str] = []
    rebuild = SlaEngine._rebuild  # rebuild_view's, and an opening's

    def counted(engine: SlaEngine, rules_version: int | None) -> None:
        rebuilds.append(engine.default_calendar.data_version)
        rebuild(engine, rules_version)

    monkeypatch.setattr(SlaEngine, "_rebuild", counted)
    first = make_engine(catalogue="marianne-besancon", calendar_spec="fr")
    assert email_due(first) == (dt.date(2025, 12, 29), "fr")

    def due_on_reopening(calendar_spec: object) -> dt.date | None:
        engine = make_engine(catalogue="marianne-besancon", calendar_spec=calendar_spec)
        (timer,) = engine.timers("A-1", now=FRIDAY)
        return timer.due_date

    assert due_on_reopening(SERVICE) == dt.date(2026, 1, 8)  # counted with the closure
    assert len(rebuilds) == 1
    assert due_on_reopening(SERVICE) == dt.date(2026, 1, 8)  # the same data: kept as it is
    assert len(rebuilds) == 1
    # The store's own spec keeps the settings recorded with it (a command's
    # --calendar names a territory, not the service's closures).
    assert due_on_reopening("fr") == dt.date(2026, 1, 8)
    assert len(rebuilds) == 1
    assert due_on_reopening(calendar("fr")) == dt.date(2025, 12, 29)  # the closure withdrawn
    assert len(rebuilds) == 2


def test_a_store_reopened_without_a_calendar_keeps_its_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A command opening the store from its rules (« fr » and its closures) rebuilds nothing."""
    store = f"sqlite:///{tmp_path / 'service.db'}"
    service = SlaEngine("marianne-besancon", SERVICE, store=store)
    assert email_due(service) == (dt.date(2026, 1, 8), "fr")

    def refused(engine: SlaEngine, rules_version: int | None) -> None:
        raise AssertionError("the view was projected again")

    monkeypatch.setattr(SlaEngine, "_rebuild", refused)
    command = SlaEngine(store=store)
    (timer,) = command.timers("A-1", now=FRIDAY)
    assert timer.due_date == dt.date(2026, 1, 8)
    (timer,) = service.timers("A-1", now=FRIDAY)
    assert timer.due_date == dt.date(2026, 1, 8)
