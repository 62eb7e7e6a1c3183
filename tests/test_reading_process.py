"""The replay's readers and its second process, from a read-only audit (session 9).

- The columnar reader ignored a mapping file's ``assume_tz``: every row
  without an offset was rejected, where the row reader recorded it.
- The second process imported modules from the working directory first
  (``python -m`` puts it on the path): a ``csv.py`` beside the exports ran.
- It shared the terminal's process group: a Ctrl-C that the embedding
  program handles killed it, and the replay failed.
- Rules holding a class of the calling script pickled, then failed to load
  in the second process; they are now read in this one.
- A naive clock gave a ``TypeError`` on the columnar path; ``jobs`` was
  accepted whatever its value.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
from pathlib import Path

import attrs
import pytest

from sla_engine import NaiveDatetimeError, SlaEngine, SlaEngineError
from sla_engine._calendar import calendar
from sla_engine._closures import Closure
from sla_engine._helper import Helper
from sla_engine._logs import load_mapping
from sla_engine._replay import reading_process_reason, replay

NOW = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
NO_OFFSET = (
    "event_id,contact_id,type,occurred_at,channel\n"
    "E1,C1,received,2025-11-03T09:12:00,email\n"
    "E2,C1,answered,2025-11-06T15:40:00,\n"
)


@pytest.mark.parametrize(("columnar", "jobs"), [(True, 1), (True, 2), (False, 1), (False, 2)])
def test_a_mapping_files_time_zone_is_read_by_every_reader(
    tmp_path: Path, columnar: bool, jobs: int
) -> None:
    log = tmp_path / "log.csv"
    log.write_text(NO_OFFSET, encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[options]\nassume_tz = "Europe/Paris"\n', encoding="utf-8")
    engine = SlaEngine("qualicirco", "fr", store=str(tmp_path / "s.db"), clock=lambda: NOW)
    rejects = io.StringIO()
    summary = replay(
        engine, [log], mapping=load_mapping(mapping), rejects=rejects, columnar=columnar, jobs=jobs
    )
    assert (summary.recorded, summary.rejected) == (2, 0), rejects.getvalue()
    (received, _) = engine.history("C1")
    assert received.occurred_at.isoformat() == "2025-11-03T09:12:00+01:00"
    engine.close()


def test_the_second_process_imports_nothing_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "attrs.py").write_text("raise ImportError('the working directory was read')\n")
    monkeypatch.chdir(tmp_path)
    log = tmp_path / "log.csv"
    log.write_text(NO_OFFSET.replace(":00,", ":00+01:00,"), encoding="utf-8")
    for columnar in (True, False):
        store = tmp_path / f"{columnar}.db"
        engine = SlaEngine("qualicirco", "fr", store=str(store), clock=lambda: NOW)
        assert replay(engine, [log], columnar=columnar, jobs=2).recorded == 2
        engine.close()


def test_the_second_process_has_a_session_of_its_own() -> None:
    # Out of the terminal's process group: a Ctrl-C goes to the program, which
    # stops its helper itself.
    helper = Helper(("rows", [], None, None))
    try:
        assert os.getsid(helper.process.pid) == helper.process.pid != os.getsid(0)
    finally:
        assert list(helper.results()) == [[]]


@attrs.frozen
class ScriptClosure(Closure):
    """A closure class as a calling script would define one (in ``__main__``)."""


def test_rules_with_a_class_of_the_calling_script_are_read_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ScriptClosure, "__module__", "__main__")
    monkeypatch.setattr(sys.modules["__main__"], "ScriptClosure", ScriptClosure, raising=False)
    closed = ScriptClosure(dt.date(2025, 12, 22), dt.date(2025, 12, 31), "fermeture")
    engine = SlaEngine("qualicirco", calendar("fr").with_closures(closed),
                       store=str(tmp_path / "s.db"), clock=lambda: NOW)  # fmt: skip
    assert "calling script" in str(reading_process_reason(engine))
    log = tmp_path / "log.csv"
    log.write_text(NO_OFFSET.replace(":00,", ":00+01:00,"), encoding="utf-8")
    assert replay(engine, [log], jobs=2).recorded == 2
    engine.close()


def test_a_naive_clock_and_a_bad_jobs_are_clear_errors(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(NO_OFFSET.replace(":00,", ":00+01:00,"), encoding="utf-8")
    engine = SlaEngine("qualicirco", "fr", store="memory", clock=lambda: NOW)
    engine.clock = lambda: dt.datetime(2026, 9, 1)  # the constructor checks the clock it is given
    with pytest.raises(NaiveDatetimeError):
        replay(engine, [log], columnar=True, jobs=1)
    for jobs in (0, 3, -1):
        with pytest.raises(SlaEngineError, match="jobs is 1 or 2"):
            replay(engine, [log], jobs=jobs)
