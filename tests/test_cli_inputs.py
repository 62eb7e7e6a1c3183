"""The command line keeps its inputs whole, their content to itself, and says where.

- An output file that is one of the command's inputs (the log, the store,
  the ``--input`` cases) is refused before anything is opened: opening it
  for writing used to empty it, and the command reported success.
- ``deadline --input`` names a bad row's line and field with the reason,
  never what the field holds (it quoted it, a person's name too); a line
  that is not UTF-8 is rejected alone (it stopped the run, naming no file
  or line), and a record over several lines is named by its first line.
- ``--as-of`` errors name the option; an unknown option shows the
  command's usage; ``explain`` says why a contact has no timer, in the
  asked language; ``school-calendar`` exits 2 on unreadable input.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import sla_engine
from sla_engine import SlaEngine
from sla_engine.cli import main

LOG = (
    "event_id,contact_id,type,occurred_at,channel\n"
    "1,A,received,2025-11-03T10:00:00+01:00,email\n"
    "2,A,answered,2025-11-04T10:00:00+01:00,\n"
)


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err.strip()


def test_deadline_output_over_its_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.csv"
    text = "received_at,delay\n" + "2025-11-08T10:00:00+01:00,5 jours ouvrés\n" * 3000
    cases.write_text(text, encoding="utf-8")
    args = ["deadline", "--calendar", "fr", "--input", str(cases), "--output"]
    assert main([*args, str(tmp_path / "." / "cases.csv")]) == 2
    assert "--output" in _error(capsys)
    assert cases.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("victim", ["log", "store", "sites"])
def test_replay_rejects_over_an_input_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], victim: str
) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    store = tmp_path / "s.db"
    assert main(["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]) == 0
    sites = tmp_path / "sites.csv"
    sites.write_text("id,name\nE1,École A\n", encoding="utf-8")
    # The store's file is compared by what it holds (a checkpoint may rewrite it).
    before = {p: p.read_bytes() for p in (log, sites)}
    target = {"log": log, "store": store, "sites": sites}[victim]
    code = main(
        [
            "replay", str(log), "--store", str(store), "--sites", str(sites),
            "--rejects", str(target),
        ]
    )  # fmt: skip
    assert code == 2
    message = _error(capsys)
    assert message.startswith(f"sla-engine: error: --rejects {target} is the ")
    assert {p: p.read_bytes() for p in before} == before
    engine = SlaEngine(store=f"sqlite:///{store}")
    assert [t.state.value for t in engine.timers("A", now=dt.datetime.now(dt.UTC))] == ["met"]
    engine.close()


def test_report_output_over_the_store_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    store = tmp_path / "s.db"
    assert main(["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]) == 0
    size = store.stat().st_size
    assert main(["report", "--store", f"sqlite:///{store}", "--output", str(store)]) == 2
    assert "is the store" in _error(capsys)
    assert store.stat().st_size == size
    assert main(["report", "--store", str(store), "--format", "json"]) == 0


def test_report_output_over_the_catalogue_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    store = tmp_path / "s.db"
    assert main(["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]) == 0
    capsys.readouterr()
    catalogue = tmp_path / "spp.toml"
    shipped = Path(sla_engine.__file__).parent / "catalogues" / "services-publics-plus.toml"
    catalogue.write_bytes(shipped.read_bytes())
    before = catalogue.read_bytes()
    args = ["report", "--store", str(store), "--catalogue", str(catalogue), "-o", str(catalogue)]
    assert main(args) == 2
    assert _error(capsys).startswith(f"sla-engine: error: --output {catalogue} is the catalogue")
    assert catalogue.read_bytes() == before


@pytest.mark.parametrize("form", ["path", "url"])
def test_a_store_that_does_not_exist_is_not_created_by_a_query(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    missing = tmp_path / "new.db"
    store = str(missing) if form == "path" else f"sqlite:///{missing}"
    assert main(["report", "--store", store]) == 2
    assert "replay a log into it first" in _error(capsys)
    assert not missing.exists()


def test_generate_sites_refuses_one_file_for_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = tmp_path / "same.csv"
    args = ["generate-sites", "--register", str(same), "-o", str(tmp_path / "." / "same.csv")]
    assert main(args) == 2
    assert "one file" in _error(capsys)
    assert not same.exists()


def test_deadline_rows_are_rejected_without_their_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(
        "id,received_at,delay\n"
        "1,Marie Dupont 12 rue X,5 jours ouvrés\n"
        "2,2025-11-08T10:00:00+01:00,Marie Dupont malade\n"
        "3,2025-11-08T10:00:00+01:00,5 jours ouvrés\n",
        encoding="utf-8",
    )
    assert main(["deadline", "--calendar", "fr", "--input", str(cases)]) == 1
    out, err = capsys.readouterr()
    assert "Dupont" not in err
    assert f"{cases}:2: received_at: not an ISO 8601 date-time" in err
    assert f"{cases}:3: delay: cannot read the delay" in err
    assert (
        out.splitlines()[1]
        == "3,2025-11-08T10:00:00+01:00,5 jours ouvrés,2025-11-17,2025-11-18T00:00:00+01:00"
    )


def test_deadline_rejects_a_line_that_is_not_utf8_alone_and_counts_lines_from_a_records_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_bytes(
        b"note,received_at,delay\n"
        b"a,2025-11-08T10:00:00+01:00,5 jours ouvr\xc3\xa9s\n"
        b"b,2025-11-08T10:00:00+01:00,5 jours ouvr\xe9s\n"
        b'"c\nd\ne",bad,5 jours ouvr\xc3\xa9s\n'
        b"\n"
        b"f,2025-11-10T10:00:00+01:00,1 jour ouvr\xc3\xa9\n"
    )
    assert main(["deadline", "--calendar", "fr", "--input", str(cases)]) == 1
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        f"{cases}:3: not UTF-8 text",
        f"{cases}:4: received_at: not an ISO 8601 date-time such as 2025-10-17T16:05:00+02:00",
        "sla-engine: 2 rows rejected; the others were written",
    ]
    assert [line.split(",")[0] for line in out.splitlines()] == ["note", "a", "f"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9999-12-31T23:00:00+00:00", "is outside the years a date can hold"),
        ("2025-11-01T00:00:00", "is not an instant with its UTC offset, such as 2026-07-03T17:"),
        ("Marie", "is not an instant with its UTC offset, such as 2026-07-03T17:"),
    ],
)
@pytest.mark.parametrize("command", [["report"], ["explain", "A"]])
def test_as_of_errors_name_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, message: str, command: list[str]
) -> None:
    log = tmp_path / "log.csv"
    log.write_text(LOG, encoding="utf-8")
    store = tmp_path / "s.db"
    assert main(["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]) == 0
    capsys.readouterr()
    assert main([*command, "--store", str(store), "--as-of", value]) == 2
    assert _error(capsys).startswith(f"sla-engine: error: --as-of {value!r} {message}")


def test_an_unknown_option_shows_the_commands_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["report", "--bogus", "1"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: sla-engine report ")
    assert err.rstrip().endswith("sla-engine report: error: unrecognized arguments: --bogus 1")


@pytest.mark.parametrize(
    ("lang", "as_of", "expected"),
    [
        ("fr", "2025-11-01T00:00:00+01:00", "contact 'A' : pas encore reçu le samedi 1er novembre"),
        ("en", "2025-11-01T00:00:00+01:00", "contact 'A': not received yet on Saturday 1 November"),
        ("fr", None, "contact 'A' : aucun engagement du catalogue ne s’applique à lui"),
        ("en", None, "contact 'A': no engagement of the catalogue applies"),
    ],
)
def test_explain_without_a_timer_says_why_in_the_asked_language(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    lang: str,
    as_of: str | None,
    expected: str,
) -> None:
    log = tmp_path / "log.csv"
    # A phone call: no engagement of qualicirco counts it.
    log.write_text(LOG.replace(",email\n", ",phone\n"), encoding="utf-8")
    store = tmp_path / "s.db"
    assert main(["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]) == 0
    capsys.readouterr()
    command = ["explain", "A", "--store", str(store), "--lang", lang]
    if as_of is not None:
        command += ["--as-of", as_of]
    assert main(command) == 0
    assert capsys.readouterr().out.startswith(expected)


def test_school_calendar_exits_2_on_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.csv"
    output = tmp_path / "out.json"
    assert main(["school-calendar", "--source", str(missing), "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sla-engine school-calendar: error: ")
    assert str(missing) in err
    assert not output.exists()
