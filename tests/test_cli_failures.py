"""A replay refused at its start says why in plain words and leaves nothing behind."""

from __future__ import annotations

import gzip
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
