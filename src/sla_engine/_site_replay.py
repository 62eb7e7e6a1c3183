"""Replaying a site register and site logs into the engine (``sla-engine replay --sites``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import attrs

from ._engine import SlaEngine
from ._errors import redacted
from ._site_engine import DeclaredWhats, declared_whats, missing_what
from ._sites import (
    RejectedSiteRow,
    SiteEventType,
    SiteLogRow,
    load_site_register,
    read_site_log,
)
from ._text import safe_cell

__all__ = ["SiteReplaySummary", "replay_sites"]


@attrs.frozen
class SiteReplaySummary:
    """What a site replay did."""

    sites: int
    rows: int
    recorded: int
    duplicates: int
    rejected: int


#: The field a site rule's refusal is about (``in_future``, ``outside_calendar``:
#: the instant).
_FIELD_OF_RULE = {"unknown_site": "site", "id_reused": "event_id", "unknown_what": "what"}


def replay_sites(
    engine: SlaEngine,
    register: str | os.PathLike[str] | None,
    logs: Sequence[str | os.PathLike[str]],
    *,
    assume_tz: str | None = None,
    rejects: Any = None,
    batch_size: int = 2000,
) -> SiteReplaySummary:
    """Register the sites, then record every valid row of the site logs.

    ``rejects`` is a :func:`csv.writer` (or ``None``) receiving one row per
    rejected line: source, line, event id, field, reason (never the row's
    content).  A row with no ``what`` whose type the catalogue's obligations
    count only with one of their words is rejected: recorded, it would count
    for nothing.  Recording again records nothing twice.
    """
    sites = 0
    if register is not None:
        sites = engine.register_sites(load_site_register(register))
    allowed = declared_whats(engine.catalogue)
    counts = {"rows": 0, "recorded": 0, "duplicates": 0, "rejected": 0}

    def reject(row: RejectedSiteRow) -> None:
        counts["rejected"] += 1
        if rejects is not None:
            rejects.writerow(
                [safe_cell(v) for v in (row.source, row.line, row.event_id, row.field, row.reason)]
            )

    def flush(batch: list[SiteLogRow]) -> None:
        result = engine.record_site_events([r.event for r in batch], atomic=False)
        for row, outcome in zip(batch, result.outcomes, strict=True):
            if isinstance(outcome, str):
                counts["recorded" if outcome == "recorded" else "duplicates"] += 1
            else:
                code = getattr(outcome.error, "code", "")
                field = _FIELD_OF_RULE.get(code, "occurred_at")
                reject(
                    RejectedSiteRow(
                        row.source, row.line, field, redacted(outcome.error), row.event.event_id
                    )
                )

    for path in logs:
        batch: list[SiteLogRow] = []
        for read in read_site_log(path, assume_tz=assume_tz):
            counts["rows"] += 1
            row = read if isinstance(read, RejectedSiteRow) else _with_what(read, allowed)
            if isinstance(row, RejectedSiteRow):
                reject(row)
                continue
            batch.append(row)
            if len(batch) >= batch_size:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
    return SiteReplaySummary(sites=sites, **counts)


def _with_what(
    row: SiteLogRow, allowed: dict[SiteEventType, DeclaredWhats]
) -> SiteLogRow | RejectedSiteRow:
    """``row``, or its rejection when its event needs a ``what`` and has none."""
    reason = missing_what(row.event, allowed)
    if reason is None:
        return row
    return RejectedSiteRow(row.source, row.line, "what", reason, row.event.event_id)
