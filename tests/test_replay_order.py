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
