"""A differential test: Hypothesis draws small, messy logs; both replays must agree.

Each log is replayed row by row and columnar (blocks of 1 to 7 lines, contacts
held back 0 to 60 days, every shipped catalogue) into two SQLite stores with
the same clock; their stored events, view rows, rejects and reviews must be
identical, or both must fail with the same error.  Its generator is the one
that found the awkward lines pinned in ``test_columnar_replay.py``.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_engine import _bulk

from .replay_support import outcome

HEADER = (
    "event_id,contact_id,type,occurred_at,recorded_at,channel,category,priority,service,attributes"
)

PLAIN = ["acknowledged", "answered", "answered", "closed", "holding_reply", "escalated"]
OTHERS = [
    "suspended",
    "resumed",
    "reopened",
    "reclassified",
    "flagged_complex",
    "received",
    "arrived",
]
CHANNELS = ["email", "letter", "phone", "web", "courriel", "Courrier"]
BAD_CHANNELS = [" email", "pigeon", ""]
CATEGORIES = ["", "", "information", "complaint", "réclamation", "suggestion", "x-other"]
PRIORITIES = ["", "", "normal", "urgent", "high", "low"]
SERVICES = ["", "", "DSDEN", "DAF", "svc é", "100%"]
CATALOGUES = ["marianne-besancon", "qualicirco", "services-publics-plus", "eduform"]
ATTRIBUTES = [
    {"announced_delay": "10 jours"},
    {"announced_delay": "3 jours ouvrés"},
    {"announced_delay": "2 semaines"},
    {"to": "N+1", "reason": "le chef a dit"},
    {"reason": "pieces"},
    {"requester": "R-12"},
    {"rings": 3},
    {"rings": 7.5},
    {"rings": True},
    {"recorded_at": "2025-03-20T09:00:00+01:00"},
    {"note": "é\u00a0\u2028x"},
    {"note": "a,b"},
    {"note": 'q"uote'},
    {"x": None},
    {},
    {"note": "%s%%"},
    {"b": 1, "a": 2},
]
OFFSETS = {"+01:00": 1, "+02:00": 2, "+00:00": 0}
ODD_OFFSETS = ["Z", "-00:00", "+14:00", "+05:45", "-09:30", "+23:59", "", "-04:00"]
STEPS = [0, 0, 1 / 24, 1, 3, 9, 40, -1 / 24, -2]  # days between a contact's events


@st.composite
def logs(draw: st.DrawFn) -> str:
    year = draw(st.sampled_from([2025] * 6 + [2024, 2100, 1803]))
    base = dt.datetime(year, 1, 1) + dt.timedelta(
        days=draw(st.sampled_from([60, 80, 85, 90, 290, 297, 300, 355, 362]))
    )
    rows: list[tuple[float, str]] = []  # (when it comes in the log, the line)
    for c in range(draw(st.integers(1, 6))):
        clean = draw(st.integers(0, 3)) > 0
        cid = f"C{c}" if clean or draw(st.booleans()) else draw(
            st.sampled_from([f"c.{c}/x", f" C{c}", f"C{c}#@+-:"])
        )  # fmt: skip
        t = base + dt.timedelta(
            days=draw(st.integers(0, 30)),
            hours=draw(st.integers(0, 23)),
            minutes=draw(st.sampled_from([0, 30, 59])),
        )
        for i in range(draw(st.integers(1, 5))):
            if i == 0:
                received = clean or draw(st.integers(0, 3))
                kind = "received" if received else draw(st.sampled_from(PLAIN + OTHERS))
            else:
                plain = clean or draw(st.booleans())
                kind = draw(st.sampled_from(PLAIN if plain else OTHERS))
                t += dt.timedelta(days=draw(st.sampled_from(STEPS)))
            offset = draw(
                st.sampled_from(sorted(OFFSETS) if clean else sorted(OFFSETS) + ODD_OFFSETS)
            )
            local = t + dt.timedelta(hours=OFFSETS.get(offset, 0))  # one instant, several offsets
            occurred = local.strftime("%Y-%m-%dT%H:%M:%S") + offset
            recorded = ""
            k = draw(st.integers(0, 6))
            if k == 0:
                later = t + dt.timedelta(days=draw(st.sampled_from([0, 1, 5])))
                recorded = later.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            elif k == 1 and not clean:
                earlier = t - dt.timedelta(days=draw(st.sampled_from([1, 2])))
                recorded = earlier.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            eid = f"e{c}-{i}" if clean or draw(st.booleans()) else draw(
                st.sampled_from([f"e{i}", f"e{c}-0", f"e {c}{i}"])
            )  # fmt: skip
            classified = kind == "received" or draw(st.integers(0, 8)) == 0
            channel = draw(st.sampled_from(CHANNELS if clean else CHANNELS + BAD_CHANNELS))
            attributes = draw(st.sampled_from(ATTRIBUTES)) if draw(st.integers(0, 2)) == 0 else None
            cells = [
                eid,
                cid,
                kind,
                occurred,
                recorded,
                channel if classified else "",
                draw(st.sampled_from(CATEGORIES)) if kind == "received" else "",
                draw(st.sampled_from(PRIORITIES)) if kind == "received" else "",
                draw(st.sampled_from(SERVICES)) if kind == "received" else "",
                ""
                if attributes is None
                else '"'
                + json.dumps(attributes, ensure_ascii=draw(st.booleans())).replace('"', '""')
                + '"',
            ]
            line = ",".join(cells)
            if not clean:
                damage = draw(st.integers(0, 20))
                if damage == 0:
                    line = line.replace(",", ',"', 1)  # a quote opening a field
                elif damage == 1:
                    line += ",extra"
                elif damage == 2:
                    line = line.rsplit(",", 1)[0]
                elif damage == 3:
                    line = line.replace(",,", ",\r,", 1)
            late = draw(st.sampled_from([0, 0, 0, 5, -5]))  # days out of the log's order
            rows.append((t.timestamp() + late * 86400, line))
            if draw(st.integers(0, 15)) == 0:
                rows.append((t.timestamp() + late * 86400 + 1, line))  # the same row twice
    rows.sort(key=lambda r: r[0])
    lines = [line for _, line in rows]
    if draw(st.booleans()):
        blank = draw(st.sampled_from(["", "   ", "\x85", "\x1c", ",,,,,,,,,"]))
        lines.insert(draw(st.integers(0, len(lines))), blank)
    newline = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    bom = draw(st.sampled_from(["", "", "\ufeff"]))
    end = newline if draw(st.booleans()) else ""
    return bom + HEADER + newline + newline.join(lines) + end


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=logs(),
    catalogue=st.sampled_from(CATALOGUES),
    block_lines=st.integers(1, 7),
    quiet_days=st.sampled_from([0, 0, 2, 7, 60]),
)
def test_both_replays_agree_on_any_log(
    text: str, catalogue: str, block_lines: int, quiet_days: int
) -> None:
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as folder:
        patch.setattr(_bulk, "_QUIET_US", quiet_days * 86_400_000_000)
        patch.setattr(_bulk, "_ANSWERED_QUIET_US", quiet_days // 2 * 86_400_000_000)
        log = Path(folder) / "log.csv"
        log.write_text(text, encoding="utf-8", newline="")
        rows = outcome(log, Path(folder) / "rows.db", catalogue=catalogue, columnar=False)
        columns = outcome(
            log,
            Path(folder) / "columns.db",
            catalogue=catalogue,
            columnar=True,
            block_lines=block_lines,
        )
    assert rows == columns
