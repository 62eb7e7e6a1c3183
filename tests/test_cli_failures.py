"""What a replay or a review refused at its start says, and what it leaves behind."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from sla_engine import SlaEngine
from sla_engine.cli import main

HEADER = "event_id,contact_id,type,occurred_at,channel\n"
RECEIVED = "E1,C1,received,2025-10-01T10:00:00+02:00,email\n"


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def test_a_log_that_cannot_be_read_is_named_without_a_stray_clause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    misspelt = tmp_path / "misspelt.csv"
    misspelt.write_text("event_id,contact_id,type,occured_at,channel\n", encoding="utf-8")
    store = tmp_path / "store.db"
    code, err = run(
        capsys, "replay", misspelt, "--catalogue", "marianne-besancon", "--store", store
    )
    assert code == 2
    assert err.endswith("a mapping file can rename them\n")
    assert "and recorded" not in err
    code, err = run(capsys, "replay", tmp_path / "missing.csv", "--catalogue", "marianne-besancon",
                    "--store", store)  # fmt: skip
    assert code == 2
    assert err.endswith("cannot open the log: No such file or directory\n")


def test_a_later_log_that_cannot_be_read_says_what_the_earlier_ones_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + RECEIVED, encoding="utf-8")
    store = tmp_path / "store.db"
    code, err = run(capsys, "replay", good, tmp_path / "missing.csv",
                    "--catalogue", "marianne-besancon", "--store", store)  # fmt: skip
    assert code == 2
    assert "cannot open the log: No such file or directory (before it: 1 events recorded, " in err
    assert store.exists()  # what was recorded stays


def test_a_damaged_log_still_says_what_was_read_and_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = HEADER + "".join(
        f"E{n},C{n},received,2025-10-01T10:00:00+02:00,email\n" for n in range(2000)
    )
    damaged = tmp_path / "damaged.csv.gz"
    damaged.write_bytes(gzip.compress(rows.encode())[:-200])
    code, err = run(capsys, "replay", damaged, "--catalogue", "marianne-besancon",
                    "--store", tmp_path / "store.db", "--row-by-row")  # fmt: skip
    assert code == 2
    assert "the rows before it were read and recorded (" in err


@pytest.mark.parametrize(
    ("log", "options"),
    [
        ("misspelt", ["--catalogue", "marianne-besancon"]),
        ("missing", ["--catalogue", "marianne-besancon"]),
        ("good", ["--catalogue", "no-such-catalogue"]),
        ("good", ["--catalogue", "marianne-besancon", "--calendar", "fr+Q"]),
    ],
)
def test_a_first_replay_refused_leaves_no_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], log: str, options: list[str]
) -> None:
    (tmp_path / "misspelt.csv").write_text("event_id,contact_id,type,occured_at\n", "utf-8")
    (tmp_path / "good.csv").write_text(HEADER + RECEIVED, encoding="utf-8")
    store = tmp_path / "new.db"
    code, _ = run(capsys, "replay", tmp_path / f"{log}.csv", *options, "--store", store)
    assert code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.csv", "misspelt.csv"]


def test_a_store_that_existed_is_kept_when_a_replay_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good.csv").write_text(HEADER + RECEIVED, encoding="utf-8")
    store = tmp_path / "store.db"
    assert run(capsys, "replay", tmp_path / "good.csv", "--catalogue", "marianne-besancon",
               "--store", store)[0] == 0  # fmt: skip
    code, _ = run(capsys, "replay", tmp_path / "missing.csv", "--store", store)
    assert code == 2
    engine = SlaEngine(store=str(store))
    assert engine.last_event_at() is not None
    engine.close()


def test_the_rejects_file_cannot_be_a_store_not_made_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good.csv").write_text(HEADER + RECEIVED, encoding="utf-8")
    store = tmp_path / "new.db"
    code, err = run(capsys, "replay", tmp_path / "good.csv", "--catalogue", "marianne-besancon",
                    "--store", store, "--rejects", store)  # fmt: skip
    assert code == 2
    assert f"--rejects {store} is the store: writing there would erase it" in err
    assert not store.exists()


REQUESTER_LOG = (
    "event_id,contact_id,type,occurred_at,channel,attributes\n"
    'E1,C1,received,2025-10-01T10:00:00+02:00,email,"{""requester"": ""jean.dupont@example.fr""}"\n'
    "E2,C1,answered,2025-10-02T10:00:00+02:00,,\n"
)


def test_requesters_need_a_key_and_a_contacts_later_rows_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import csv

    monkeypatch.delenv("SLA_ENGINE_PSEUDONYM_KEY", raising=False)
    log, rejects = tmp_path / "log.csv", tmp_path / "rejects.csv"
    log.write_text(REQUESTER_LOG, encoding="utf-8")
    code, _ = run(capsys, "replay", log, "--catalogue", "marianne-besancon",
                  "--store", tmp_path / "s.db", "--rejects", rejects)  # fmt: skip
    assert code == 0
    with rejects.open(encoding="utf-8", newline="") as handle:
        reasons = [row["reason"] for row in csv.DictReader(handle)]
    assert "SLA_ENGINE_PSEUDONYM_KEY for the command line" in reasons[0]
    assert reasons[1].startswith(f"its contact's 'received' event was rejected ({log}, line 2): ")
    assert "dupont" not in rejects.read_text(encoding="utf-8")


def test_the_command_line_takes_a_stores_keys_from_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    log, store = tmp_path / "log.csv", tmp_path / "s.db"
    log.write_text(REQUESTER_LOG, encoding="utf-8")
    monkeypatch.setenv("SLA_ENGINE_PSEUDONYM_KEY", base64.b64encode(b"k" * 32).decode())
    monkeypatch.setenv("SLA_ENGINE_CIPHER_KEY", base64.b64encode(b"c" * 32).decode())
    assert run(capsys, "replay", log, "--catalogue", "marianne-besancon", "--store", store) == (
        0,
        "",
    )
    assert b"dupont" not in b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    assert main(["report", "--store", str(store), "--format", "json"]) == 0
    review = json.loads(capsys.readouterr().out)
    figures = {e["id"]: (e["total"], e["met"]) for e in review["engagements"]}
    assert figures["email-5"] == (1, 1)  # the e-mail answered the next day
    monkeypatch.delenv("SLA_ENGINE_CIPHER_KEY")
    code, err = run(capsys, "report", "--store", store)
    assert code == 2
    assert "its key is not given or not theirs (cipher_key=…; SLA_ENGINE_CIPHER_KEY" in err
    monkeypatch.setenv("SLA_ENGINE_PSEUDONYM_KEY", "not base64!")
    code, err = run(capsys, "report", "--store", store)
    assert (code, err) == (2, "sla-engine: error: SLA_ENGINE_PSEUDONYM_KEY is not base64 text\n")


def test_a_date_not_written_year_month_day_says_how_to_write_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--from", "01/09/2025"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --from: '01/09/2025' is not a date written year-month-day" in err


def test_a_span_that_ends_before_it_starts_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = run(capsys, "report", "--store", tmp_path / "none.db",
                    "--from", "2025-09-01", "--to", "2025-08-01")  # fmt: skip
    assert (code, err) == (
        2,
        "sla-engine: error: --from 2025-09-01 is after --to 2025-08-01: "
        "the span would hold no day\n",
    )
    assert not (tmp_path / "none.db").exists()


def test_a_site_not_in_the_register_is_named_as_such(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .conftest import REPO

    examples = REPO / "docs" / "examples"
    store = tmp_path / "d.db"
    assert run(capsys, "replay", "--catalogue", "qualicirco", "--calendar", "fr+B",
               "--store", store, "--sites", examples / "district-sites.csv")[0] == 0  # fmt: skip
    code, err = run(capsys, "explain-obligation", "visit-after-rentree", "--site", "E999",
                    "--store", store)  # fmt: skip
    assert code == 2
    assert err.startswith(
        "sla-engine: error: site 'E999' is not in the store's register (30 sites: E001, "
    )


def test_a_replay_under_another_catalogue_says_the_rules_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log, store = tmp_path / "log.csv", tmp_path / "s.db"
    log.write_text(HEADER + RECEIVED, encoding="utf-8")
    replay = ["replay", log, "--store", store]
    assert run(capsys, *replay, "--catalogue", "marianne-besancon") == (0, "")
    assert run(capsys, *replay) == (0, "")  # the store's own rules: nothing to say
    code, err = run(capsys, *replay, "--catalogue", "qualicirco", "--calendar", "fr+B")
    assert code == 0
    assert err.startswith(
        "the store's rules change: catalogue qualicirco 2025-1 (was marianne-besancon 2025-1), "
        "calendar fr+B (was fr); every timer is counted again"
    )
    code, err = run(capsys, *replay, "--calendar", "fr+A")
    assert err.startswith("the store's rules change: calendar fr+A (was fr+B); every timer")


@pytest.mark.parametrize("case", ["rejects in no folder", "a bad site register"])
def test_a_first_replay_refused_later_on_leaves_no_store_either(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    (tmp_path / "good.csv").write_text(HEADER + RECEIVED, encoding="utf-8")
    (tmp_path / "register.csv").write_text('id,name\nE1,"École A\n', encoding="utf-8")
    store = tmp_path / "new.db"
    if case == "rejects in no folder":
        args = ["--catalogue", "marianne-besancon", "--rejects", tmp_path / "none" / "r.csv",
                tmp_path / "good.csv"]  # fmt: skip
    else:
        args = ["--catalogue", "qualicirco", "--calendar", "fr+B",
                "--sites", tmp_path / "register.csv"]  # fmt: skip
    code, _ = run(capsys, "replay", "--store", store, *args)
    assert code == 2
    assert not any(p.name.startswith("new.db") for p in tmp_path.iterdir())
