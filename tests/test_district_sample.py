"""The bundled district: its register and site log, replayed with the requests into one review."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla_engine._engine import SlaEngine
from sla_engine._report import build_report
from sla_engine._sites import SiteEvent, SiteEventType
from sla_engine.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "docs/examples"
REGISTER = EXAMPLES / "district-sites.csv"
SITE_LOG = EXAMPLES / "district-2025-2026-sites.csv"
PARIS = ZoneInfo("Europe/Paris")


def test_the_bundled_district_is_reproducible(tmp_path: Path) -> None:
    register, log = tmp_path / "sites.csv", tmp_path / "log.csv"
    args = ["generate-sites", "--seed", "2025", "--register", str(register), "-o", str(log)]
    assert main(args) == 0
    assert register.read_bytes() == REGISTER.read_bytes()
    assert log.read_bytes() == SITE_LOG.read_bytes()


def test_the_bundled_district_has_thirty_schools_and_no_free_text() -> None:
    with REGISTER.open(encoding="utf-8") as handle:
        sites = list(csv.DictReader(handle))
    assert len(sites) == 30
    with SITE_LOG.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["event_id", "site", "type", "occurred_at", "what"]
    whats = {r["what"] for r in rows}
    assert whats == {
        "passage",
        "IEN",
        "conseil d'école",
        "conseil des maîtres",
        "équipe éducative",
        "évaluation d'école",
        "site web",
        "réunion des directeurs",
        "résultats",
        "enquête",
        "téléphone",
    }


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The main command's replay, as ./scripts/main runs it."""
    folder = tmp_path_factory.mktemp("district")
    store = str(folder / "district.db")
    rejects = folder / "rejects.csv"
    args = [
        "replay",
        str(EXAMPLES / "district-2025-2026.csv.gz"),
        *("--catalogue", "qualicirco", "--calendar", "fr+B", "--store", store),
        *("--rejects", str(rejects), "--sites", str(REGISTER), "--site-log", str(SITE_LOG)),
    ]
    assert main(args) == 0
    out = folder / "report.json"
    assert main(["report", "--store", store, "--format", "json", "-o", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    report["_store"] = store
    return report


def test_the_review_shows_every_obligation(review: dict[str, object]) -> None:
    engagements = {e["id"]: e for e in review["engagements"]}  # type: ignore[attr-defined]
    figures = {
        eid: (e["total"], e["met"], e["late"], e["overdue"], e["pending"])
        for eid, e in engagements.items()
        if e["kind"] in ("scheduled", "recurring", "availability")
    }
    # 30 schools: three visited late after the rentrée and one never; the inspector
    # late in two schools and never in one; two schools without any council; three
    # school weeks without a website update out of 36; 6 short days of 173 school days.
    assert figures == {
        "courteous-reception": (1, 1, 0, 0, 0),
        "annual-results": (1, 1, 0, 0, 0),
        "phone-reception": (173, 167, 6, 0, 0),
        "website-weekly": (36, 33, 3, 0, 0),
        "school-councils": (30, 28, 2, 0, 0),
        "visit-after-rentree": (30, 26, 4, 0, 0),
        "ien-visit-before-toussaint": (30, 27, 3, 0, 0),
        "directors-meetings": (1, 1, 0, 0, 0),
    }
    assert engagements["phone-reception"]["target"] == "9 h par jour scolaire"


def test_explain_an_obligation_from_the_command_line(
    review: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(review["_store"])
    args = ["explain-obligation", "website-weekly", "--store", store, "--period", "2025-W36"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "Le service, période 2025-W36." in text
    assert "du lundi 1er septembre 2025 au dimanche 7 septembre 2025" in text
    assert main([*args, "--lang", "en"]) == 0
    assert "The service, period 2025-W36." in capsys.readouterr().out


def test_explain_counts_as_the_review_does(
    review: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --as-of, a contact's timers are explained as of the review's instant.

    Explained as of the contact's own last event, every overdue timer of
    the review read « en cours ».
    """
    store = str(review["_store"])
    overdue = [b for b in review["breaches"] if b["state"] == "overdue"]  # type: ignore[attr-defined]
    assert len(overdue) == 24
    for breach in overdue[:3]:
        assert main(["explain", "--store", store, breach["contact_id"], breach["engagement"]]) == 0
        verdict = capsys.readouterr().out.splitlines()[-1]
        # « toujours en cours », or « clos … sans réponse … toujours compté » for a contact
        # closed without one: counted to the review's instant either way.
        assert "au vendredi 28 août 2026 à 10:48" in verdict
        assert verdict.endswith("engagement non tenu.")


def test_explanations_of_the_sample_say_what_the_audit_found_misleading(
    review: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    store = str(review["_store"])
    # Closed without an answer: not « toujours en cours ».
    assert main(["explain", "--store", store, "C000005"]) == 0
    verdict = capsys.readouterr().out.splitlines()[-1]
    assert verdict.startswith(
        "Verdict : clos le lundi 1er septembre 2025 à 10:15:03 (UTC+02:00) sans réponse :"
    )
    assert "toujours compté au vendredi 28 août 2026 à 10:48" in verdict
    # A suspension email-10 does not pause on.
    assert main(["explain", "--store", store, "C000088", "--lang", "en"]) == 0
    assert "does not stop this engagement's count" in capsys.readouterr().out
    # The phone line's span, in hours and minutes.
    args = ["explain-obligation", "--store", store, "phone-reception", "--period", "2025-09-02"]
    assert main(args) == 0
    assert "Verdict : amplitude de 7 h 16, moins que 9 h" in capsys.readouterr().out
    # « École du Blanc », not « École de Le Blanc ».
    args = ["explain-obligation", "--store", store, "visit-after-rentree", "--site", "E001"]
    assert main(args) == 0
    assert "Site E001 (École du Blanc)" in capsys.readouterr().out


def test_report_by_site(review: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    store = str(review["_store"])
    assert main(["report", "--store", store, "--by", "engagement,site", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("engagement,site,total")
    per_school = [line for line in lines if line.startswith("visit-after-rentree,E")]
    assert len(per_school) == 30


# A word qualicirco counts for each type (none for the types it does not count).
WHAT = {
    "opened": "téléphone",
    "closed": "téléphone",
    "visited": "passage",
    "attended": "conseil d'école",
    "published": "site web",
    "held": "réunion des directeurs",
}


def test_every_site_event_type_round_trips_through_sqlite(tmp_path: Path) -> None:
    store = str(tmp_path / "types.db")

    def clock() -> dt.datetime:
        return dt.datetime(2026, 8, 1, tzinfo=dt.UTC)

    engine = SlaEngine("qualicirco", "fr+B", store=store, clock=clock)
    engine.register_sites([("E1", "École de Ciron")])
    events = [
        SiteEvent(
            f"e{n}",
            kind,
            dt.datetime(2025, 9, 2, 8 + n, tzinfo=PARIS),
            site=None if kind in ("opened", "closed", "held", "surveyed") else "E1",
            what=WHAT.get(kind),
        )
        for n, kind in enumerate(SiteEventType)
    ]
    assert engine.record_site_events(events).recorded == len(SiteEventType)
    again = SlaEngine(store=store, clock=clock)
    read = [*again.site_history("E1"), *again.site_history(None)]
    assert sorted((e.event_id, e.type, e.occurred_at, e.site, e.what) for e in read) == sorted(
        (e.event_id, e.type, e.occurred_at, e.site, e.what) for e in events
    )
    assert all(e.recorded_at == clock() for e in read)


def test_the_rings_measure_is_a_share_of_calls() -> None:
    """« Moins de 5 sonneries »: the measure engagement's rate is the share of measured calls."""
    engine = SlaEngine("marianne-besancon", "fr")
    for n, rings in enumerate((2, 5, 6, 3, None)):
        at = dt.datetime(2025, 9, 2, 10, n, tzinfo=PARIS)
        engine.record(
            {
                "event_id": f"r{n}",
                "contact_id": f"C{n}",
                "type": "received",
                "occurred_at": at,
                "channel": "phone",
            }
        )
        attributes = {} if rings is None else {"rings": rings}
        engine.record(
            {
                "event_id": f"a{n}",
                "contact_id": f"C{n}",
                "type": "answered",
                "occurred_at": at + dt.timedelta(minutes=1),
                "attributes": attributes,
            }
        )
    report = build_report(engine)
    phone = next(e for e in report["engagements"] if e["id"] == "phone-5-rings")
    assert (phone["total"], phone["met"], phone["late"], phone["exempt"]) == (5, 3, 1, 1)
    assert phone["compliance_rate"] == 0.75
