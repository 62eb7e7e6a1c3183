"""A store keeps the service's calendar settings with its rules.

The rules used to keep the calendar's spec alone (« fr »): an engine
reopening the store without a calendar (every command does) then evaluated
without the service's closures, working week, hours or time zone, so that
``explain``, ``status_as_of`` and ``what_if`` contradicted the view its
writer built; and a replay giving a new catalogue without ``--calendar``
put the store back on metropolitan France.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sla_engine import Calendar, CalendarSpecError, SlaEngine, calendar, parse_catalogue
from sla_engine.cli import main
from sla_engine.strategies import calendar_specs

from .engine_support import one_engagement

PARIS = ZoneInfo("Europe/Paris")
#: In the engine's calendar (the catalogue names none).
CATALOGUE = one_engagement("5 jours ouvrés", source="tests/test_stored_calendar.py").replace(
    'calendar = "fr"\n', ""
)
#: Closed from Monday 22 December 2025 to Friday 2 January 2026.
YEAR_END = (dt.date(2025, 12, 22), dt.date(2026, 1, 2), "fermeture annuelle")
CLOCK = dt.datetime(2026, 1, 20, tzinfo=PARIS)


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


@st.composite
def service_calendars(draw: st.DrawFn) -> Calendar:
    result = calendar(draw(calendar_specs()))
    if draw(st.booleans()):
        result = result.with_working_week(
            draw(st.frozensets(st.integers(0, 6), min_size=1, max_size=7))
        )
    if draw(st.booleans()):
        start = draw(st.integers(6, 11))
        result = result.with_opening_hours(f"lun-ven {start:02d}:30-{start + 6:02d}:00")
    if draw(st.booleans()):
        result = result.with_time_zone(draw(st.sampled_from(["Europe/Paris", "UTC", "Asia/Tokyo"])))
    for _ in range(draw(st.integers(0, 3))):
        first = draw(st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)))
        length = draw(st.integers(0, 20))
        reason = draw(st.sampled_from(["fermeture annuelle", "inventaire « été »", "pont"]))
        result = result.with_closures((first, first + dt.timedelta(days=length), reason))
    return result


def test_closures_of_the_same_days_are_in_one_order_whatever_the_order_given() -> None:
    # Found by the test below: sorted by their days only, two closures of the
    # same days kept the order of a set, and equal calendars compared unequal.
    a = (dt.date(2028, 1, 1), dt.date(2028, 1, 3), "fermeture annuelle")
    b = (dt.date(2028, 1, 1), dt.date(2028, 1, 3), "inventaire « été »")
    one, other = calendar("fr").with_closures(a, b), calendar("fr").with_closures(b, a)
    assert one == other
    assert [c.reason for c in one.closures] == ["fermeture annuelle", "inventaire « été »"]
    assert one.settings() == other.settings()


@settings(max_examples=80, deadline=None)
@given(service_calendars())
def test_settings_read_back_give_the_same_calendar(service: Calendar) -> None:
    text = json.dumps(service.settings())
    read_back = calendar(service.spec).with_settings(json.loads(text))
    assert read_back == service
    assert read_back.data_version == service.data_version


def test_a_plain_calendar_has_no_settings() -> None:
    assert calendar("fr-57+B").settings() == {}
    assert calendar("fr-974").settings() == {}  # its own time zone is the spec's


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"closure": []}, "unknown calendar setting 'closure'"),
        ({"closures": [["2025-12-32", "2026-01-02", "x"]]}, "cannot read the calendar settings"),
        ({"closures": [["2026-01-02", "2025-12-22", "x"]]}, "ends"),
        ({"working_week": [9]}, "weekdays 0–6"),
        ({"opening_hours": "lun 25:00-26:00"}, "cannot read the calendar settings"),
        ({"time_zone": "Europe/Nowhere"}, "unknown time zone"),
    ],
)
def test_bad_settings_are_refused_by_name(settings_: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarSpecError, match=message):
        calendar("fr").with_settings(settings_)


def _engine(
    store: Path, service: Calendar | str | None, catalogue: str | None = CATALOGUE
) -> SlaEngine:
    rules = None if catalogue is None else parse_catalogue(catalogue, source="test")
    return SlaEngine(rules, service, store=f"sqlite:///{store}", clock=lambda: CLOCK)


def _received(engine: SlaEngine) -> None:
    engine.record(
        {
            "event_id": "1",
            "contact_id": "A",
            "type": "received",
            "occurred_at": _at(2025, 12, 19, 10),
            "channel": "email",
        }
    )


def test_a_reopened_store_counts_with_the_services_settings(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    service = calendar("fr-57", working_week="lun-sam").with_closures(YEAR_END)
    writer = _engine(store, service)
    _received(writer)
    (built,) = writer.timers("A")
    # Friday 19 December, then Saturday 20; closed 22 December to 2 January,
    # then Saturday 3, Monday 5 to Wednesday 7 January.
    assert built.due_date == dt.date(2026, 1, 7)
    writer.close()

    reader = _engine(store, None, catalogue=None)
    assert reader.default_calendar == service
    (evaluated,) = reader.status_as_of(CLOCK)
    assert evaluated.due_date == built.due_date
    assert "fermeture annuelle" in reader.explain("A", "e", now=CLOCK, lang="fr")
    assert reader.what_if(calendar_spec="fr-57").alternative[0].due_date == built.due_date
    reader.close()


def test_the_stores_own_spec_keeps_its_settings_and_a_calendar_replaces_them(
    tmp_path: Path,
) -> None:
    store = tmp_path / "s.db"
    service = calendar("fr").with_closures(YEAR_END)
    _engine(store, service).close()

    # A new catalogue, no calendar, or the store's own spec: its calendar stays.
    for spec in (None, "fr"):
        engine = _engine(store, spec, catalogue=CATALOGUE + "\n# v2\n")
        assert engine.default_calendar == service
        engine.close()
    # A calendar object is the service's whole calendar: its settings replace them.
    engine = _engine(store, calendar("fr"))
    assert engine.default_calendar.closures == ()
    rules = engine.stored_rules()
    assert rules is not None
    assert rules.calendar_settings == ""
    engine.close()
    # Another spec names another territory: the stored settings were for « fr ».
    engine = _engine(store, "fr-57")
    assert engine.default_calendar == calendar("fr-57")
    engine.close()


def test_a_replay_with_a_new_catalogue_and_no_calendar_keeps_the_stores(
    tmp_path: Path,
) -> None:
    store = tmp_path / "s.db"
    log = tmp_path / "log.csv"
    log.write_text(
        "event_id,contact_id,type,occurred_at,channel\n"
        "1,A,received,2025-12-24T10:00:00+01:00,email\n",
        encoding="utf-8",
    )
    catalogue = tmp_path / "one.toml"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    args = ["replay", str(log), "--store", str(store), "--catalogue", str(catalogue)]
    assert main([*args, "--calendar", "fr-57"]) == 0
    catalogue.write_text(CATALOGUE + "\n# v2\n", encoding="utf-8")
    assert main(args) == 0
    engine = SlaEngine(store=f"sqlite:///{store}")
    rules = engine.stored_rules()
    assert rules is not None
    assert rules.calendar_spec == "fr-57"
    # 26 December is a holiday in Moselle: 24, (25, 26), 29, 30, 31, 2 January.
    (timer,) = engine.timers("A")
    assert timer.due_date == dt.date(2026, 1, 5)
    engine.close()


def test_rules_recorded_before_stores_kept_settings_read_back(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    writer = _engine(store, "fr-57")
    _received(writer)
    writer.close()
    # The rules event as version 1 wrote it: no settings, no class version.
    with sqlite3.connect(store) as db:
        (state,) = db.execute(
            "SELECT state FROM stored_events WHERE originator_id = 'sla-engine:rules'"
        ).fetchone()
        old = json.loads(state)
        del old["calendar_settings"], old["class_version"]
        db.execute(
            "UPDATE stored_events SET state = ? WHERE originator_id = 'sla-engine:rules'",
            (json.dumps(old).encode(),),
        )
    reader = SlaEngine(store=f"sqlite:///{store}")
    rules = reader.stored_rules()
    assert rules is not None
    assert (rules.calendar_spec, rules.calendar_settings) == ("fr-57", "")
    assert reader.default_calendar == calendar("fr-57")
    assert reader.timers("A")[0].due_date == dt.date(2025, 12, 30)
    reader.close()


def test_the_cli_report_with_the_stores_spec_is_no_what_if(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s.db"
    writer = _engine(store, calendar("fr").with_closures(YEAR_END))
    _received(writer)
    writer.close()
    # Not a what-if without the closures (the engine reopened with them no
    # longer equals the spec's bare calendar): due 9 January, not 29 December.
    command = ["report", "--store", str(store), "--calendar", "fr", "--format", "json"]
    assert main([*command, "--as-of", "2026-01-06T12:00:00+01:00"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["what_if"] is False
    (engagement,) = report["engagements"]
    assert (engagement["pending"], engagement["overdue"]) == (1, 0)
