"""A replay's outcome does not depend on how its rows fall into batches or blocks.

Events logged before their contact's ``received`` row (a letter recorded
late) wait for it; they are applied right after it, before the contact's
later events, in every batch size and on both reading paths.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sla_engine import SlaEngine
from sla_engine._logs import LogMapping
from sla_engine._replay import replay
from sla_engine._report import build_report

from .replay_support import NOW

HEADER = (
    "event_id,contact_id,type,occurred_at,recorded_at,channel,category,priority,service,attributes"
)
# A suspension logged before the letter's receipt (recorded three days late);
# the resumption and the answer after it.
LATE_LETTER = [
    "L2,L1,suspended,2025-03-04T10:00:00+01:00,,,,,,",
    "L1,L1,received,2025-03-03T09:00:00+01:00,2025-03-06T09:00:00+01:00,letter,information,normal,,",
    "L3,L1,resumed,2025-03-05T10:00:00+01:00,,,,,,",
    "L4,L1,answered,2025-03-31T10:00:00+01:00,,,,,,",
]
# Another contact in between, so that batches of two split the letter's rows.
OTHER = [
    "E1,E,received,2025-03-03T11:00:00+01:00,,email,information,normal,,",
    "E2,E,answered,2025-03-04T11:00:00+01:00,,,,,,",
]


def _figures(store: str, log: Path, **options: object) -> tuple[str, dict[str, object]]:
    engine = SlaEngine("marianne-besancon", "fr", store=store, clock=lambda: NOW)
    rejects = io.StringIO()
    summary = replay(engine, [log], rejects=rejects, **options)  # type: ignore[arg-type]
    report = build_report(engine)
    engine.close()
    by_id = {e["id"]: e for e in report["engagements"]}
    letter = by_id["letter-15"]
    return rejects.getvalue(), {
        "recorded": summary.recorded,
        "letter": (letter["total"], letter["met"], letter["late"]),
    }


@pytest.mark.parametrize(
    "options",
    [
        {"columnar": False, "batch_size": 2000},
        {"columnar": False, "batch_size": 1},
        {"columnar": False, "batch_size": 2},
        {"columnar": False, "batch_size": 3},
        {"columnar": True},
        {"columnar": True, "block_lines": 2},
    ],
    ids=str,
)
def test_events_logged_before_their_receipt_are_applied_right_after_it(
    tmp_path: Path, options: dict[str, object]
) -> None:
    log = tmp_path / "log.csv"
    log.write_text("\n".join([HEADER, LATE_LETTER[0], *OTHER, *LATE_LETTER[1:]]) + "\n")
    rejected, figures = _figures(str(tmp_path / "s.db"), log, **options)
    # Every row is valid: 15 working days and the day suspended end on
    # 25 March; the answer on 31 March is late.
    assert rejected.splitlines()[1:] == []
    assert figures == {"recorded": 6, "letter": (1, 0, 1)}


# -- the review's instant: the last event of the whole log, sites' too ------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def _district(tmp_path: Path, contacts: list[str]) -> SlaEngine:
    import datetime as dt

    from sla_engine import load_catalogue
    from sla_engine._site_replay import replay_sites

    log = tmp_path / "contacts.csv"
    log.write_text("\n".join([HEADER, *contacts]) + "\n")
    later = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)  # after every event here
    engine = SlaEngine(
        load_catalogue("qualicirco"), "fr+B", store=str(tmp_path / "d.db"), clock=lambda: later
    )
    assert replay(engine, [log]).recorded == len(contacts)
    replay_sites(
        engine,
        EXAMPLES / "district-sites.csv",
        [EXAMPLES / "district-2025-2026-sites.csv"],
    )
    return engine


def _counts(report: dict[str, object], engagement: str) -> tuple[int, ...]:
    (entry,) = [e for e in report["engagements"] if e["id"] == engagement]  # type: ignore[attr-defined]
    return tuple(entry[k] for k in ("total", "met", "late", "overdue", "pending"))


def test_a_review_is_as_of_the_last_event_sites_included(tmp_path: Path) -> None:
    import datetime as dt

    # The contacts end on 2 June 2026; the site log runs to 3 July.
    engine = _district(
        tmp_path,
        [
            "E1,C1,received,2026-06-01T09:00:00+02:00,,email,information,normal,,",
            "E2,C1,answered,2026-06-02T09:00:00+02:00,,,,,,",
        ],
    )
    last_site = dt.datetime(2026, 7, 3, 16, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    default = build_report(engine)
    explicit = build_report(engine, as_of=last_site)
    assert dt.datetime.fromisoformat(default["as_of"]) == last_site
    for engagement in ("school-councils", "phone-reception", "website-weekly"):
        assert _counts(default, engagement) == _counts(explicit, engagement)
    # Councils held in June and July count (the year ends on 4 July).
    assert _counts(default, "school-councils") == (30, 28, 0, 0, 2)  # 21 met before
    engine.close()


def test_a_review_counts_the_school_year_holding_its_instant(tmp_path: Path) -> None:
    import datetime as dt

    from sla_engine._obligations import is_obligation

    # A contact on 18 September 2026: the 2026-2027 school year has begun, with
    # no site event yet; every school owed its visit within 10 days of the rentrée.
    engine = _district(
        tmp_path, ["E1,C1,received,2026-09-18T12:00:00+02:00,,email,information,normal,,"]
    )
    as_of = dt.datetime(2026, 9, 18, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    report = build_report(engine, by=["engagement", "school-year"])
    groups = {
        g["by"]["school-year"]: (g["total"], g["overdue"])
        for g in report["groups"]
        if g["by"]["engagement"] == "visit-after-rentree"
    }
    status = [
        t
        for t in engine.status_as_of(as_of)
        if is_obligation(t) and t.engagement_id == "visit-after-rentree"
    ]
    overdue = sum(t.state.value == "overdue" and t.period == "2026-2027" for t in status)
    assert overdue == 30
    assert groups["2026-2027"] == (30, 30)
    assert groups["2025-2026"][0] == 30
    # Explained as counted: for that year, and by default at the review's instant.
    text = engine.explain_obligation("E001", "visit-after-rentree", "2026-2027", lang="en")
    assert "period 2026-2027" in text
    assert "engagement not kept" in text
    assert "période 2026-2027" in engine.explain_obligation("E001", "visit-after-rentree")
    engine.close()


# -- a log's own columns never collide with the columnar reader's ------------------------


@pytest.mark.parametrize("name", ["text", "line", "raw_bytes", "plain", "state", "_cid"])
def test_a_column_named_as_the_readers_own_is_read_the_same_way(tmp_path: Path, name: str) -> None:
    log = tmp_path / "log.csv"
    log.write_text(
        f"event_id,contact_id,type,occurred_at,channel,{name}\n"
        "b1,B,received,2025-03-03T09:00:00+01:00,email,bonjour\n"
        "b2,B,suspended,2025-03-04T09:00:00+01:00,,pieces\n"
        "b3,B,resumed,2025-03-05T09:00:00+01:00,,recu\n"
        "b4,B,answered,2025-03-06T09:00:00+01:00,,reponse\n"
        "c1,C,received,2025-03-03T10:00:00+01:00,email,x\n"
        "c2,C,answered,2025-03-04T10:00:00+01:00,,y\n"
    )
    outcomes = []
    for columnar in (False, True):
        engine = SlaEngine("marianne-besancon", "fr", store="memory", clock=lambda: NOW)
        rejects = io.StringIO()
        # A mapping file is what lets a log carry columns the format does not know.
        summary = replay(engine, [log], mapping=LogMapping(), rejects=rejects, columnar=columnar)
        email = next(e for e in build_report(engine)["engagements"] if e["id"] == "email-5")
        outcomes.append((summary.recorded, rejects.getvalue(), email["total"], email["met"]))
        engine.close()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == 6


def test_a_rejected_site_row_names_its_wrong_field(tmp_path: Path) -> None:
    import csv

    from .replay_support import site_log_rejects

    recorded, rejects = site_log_rejects(
        tmp_path,
        "E001",
        [
            "S1,E001,visited,2025-09-05T10:00:00+02:00,passage",
            "S2,E001,visited,2025-09-06T10:00:00+02:00,inspection",
            "S3,E999,visited,2025-09-06T10:00:00+02:00,passage",
        ],
    )
    assert recorded == 1
    rows = list(csv.reader(io.StringIO(rejects)))
    assert [(r[1], r[2], r[3]) for r in rows] == [("3", "S2", "what"), ("4", "S3", "site")]


# -- a contact that would count past a calendar's data ----------------------------------

SCHOOL_DAYS = """
[catalogue]
id = "t"
title = "t"
version = "1"
calendar = "fr+B"

[[engagement]]
id = "appt-10"
title = "Un rendez-vous sous 10 jours scolaires"
source = "tests"
kind = "response"
start = "received"
stop = ["answered"]
target = "10 jours scolaires"
"""


@pytest.mark.parametrize(
    "options",
    [
        {"columnar": False},
        {"columnar": True},
        {"columnar": True, "block_lines": 2},
        {"columnar": True, "jobs": 2},
    ],
    ids=str,
)
def test_a_contact_past_the_calendars_data_is_rejected_alone(
    tmp_path: Path, options: dict[str, object]
) -> None:
    """X, received in June 2017, before zone B's school calendar data (from 22 October 2017).

    Stored, it stopped the replay and every later query of the store.
    """
    from sla_engine import parse_catalogue

    log = tmp_path / "log.csv"
    rows = [
        "A1,A,received,2019-05-02T10:00:00+02:00,,email,,,,",
        "X1,X,received,2017-06-26T10:00:00+02:00,,email,,,,",
        "A2,A,answered,2019-05-09T10:00:00+02:00,,,,,,",
        "X2,X,answered,2017-06-27T10:00:00+02:00,,,,,,",
        "B1,B,received,2019-06-03T10:00:00+02:00,,email,,,,",
    ]
    log.write_text("\n".join([HEADER, *rows]) + "\n")
    store = str(tmp_path / "s.db")
    engine = SlaEngine(parse_catalogue(SCHOOL_DAYS), "fr+B", store=store, clock=lambda: NOW)
    rejects = io.StringIO()
    summary = replay(engine, [log], rejects=rejects, **options)  # type: ignore[arg-type]
    assert summary.recorded == 3
    rejected = rejects.getvalue().splitlines()[1:]
    assert [line.split(",")[2] for line in rejected] == ["X1", "X2"]
    assert "outside the span covered by its school calendar (zone B)" in rejected[0]
    engine.close()
    reopened = SlaEngine(store=store, clock=lambda: NOW)
    # A met; B still within its delay at the log's last event (its own receipt).
    assert _counts(build_report(reopened), "appt-10") == (2, 1, 0, 0, 1)
    reopened.close()
