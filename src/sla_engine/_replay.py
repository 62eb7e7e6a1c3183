"""Replaying logs into the engine: every good row recorded once, every bad row accounted for."""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

import attrs

from ._contact import ContactRuleError
from ._engine import Rejected, SlaEngine
from ._logs import LogMapping, LogRow, RejectedRow, read_log

__all__ = ["ReplaySummary", "replay"]

REJECT_FIELDS = ("source", "line", "event_id", "field", "reason")


@attrs.frozen
class ReplaySummary:
    """What a replay did."""

    rows: int
    recorded: int
    duplicates: int
    rejected: int
    seconds: float

    def to_dict(self) -> dict[str, int | float]:
        return attrs.asdict(self)


class _Rejects:
    def __init__(self, out: TextIO | None) -> None:
        self.count = 0
        self.writer = None if out is None else csv.writer(out)
        if self.writer is not None:
            self.writer.writerow(REJECT_FIELDS)

    def add(self, row: RejectedRow) -> None:
        self.count += 1
        if self.writer is not None:
            # A reason quotes the export's values at most; no row content is written.
            self.writer.writerow(
                [row.source, row.line, row.event_id or "", row.field or "", row.reason]
            )


def replay(
    engine: SlaEngine,
    paths: Sequence[str | os.PathLike[str]],
    *,
    mapping: LogMapping | None = None,
    assume_tz: str | None = None,
    rejects: TextIO | None = None,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> ReplaySummary:
    """Record every valid row of the logs; write each bad row to ``rejects``.

    Rows are recorded in batches, each one transaction: a replay stopped
    anywhere and run again records what was missing and counts the rest as
    duplicates.  An event of a contact whose ``received`` row comes later in
    the log (a late-recorded letter) waits for it, and is rejected only if it
    never comes.
    """
    started = time.perf_counter()
    out = _Rejects(rejects)
    counts = {"rows": 0, "recorded": 0, "duplicates": 0}
    waiting: dict[str, list[LogRow]] = {}
    batch: list[LogRow] = []

    def flush(rows: list[LogRow], *, last_chance: bool = False) -> None:
        if not rows:
            return
        # The view is projected once for many batches (and at the end): a contact
        # whose events span several batches is evaluated once, not once per batch.
        result = engine.record_many([r.event for r in rows], atomic=False, project=False)
        received: set[str] = set()
        for row, outcome in zip(rows, result.outcomes, strict=True):
            if isinstance(outcome, Rejected):
                error = outcome.error
                if (
                    isinstance(error, ContactRuleError)
                    and error.code == "not_received"
                    and not last_chance
                ):
                    waiting.setdefault(row.event.contact_id, []).append(row)
                    continue
                out.add(
                    RejectedRow(row.source, row.line, _field(error), str(error), row.event.event_id)
                )
            elif outcome.value == "recorded":
                counts["recorded"] += 1
                received.add(row.event.contact_id)
            else:
                counts["duplicates"] += 1
                received.add(row.event.contact_id)
        # Events that were waiting for these contacts go with the next batch.
        for contact_id in received:
            batch.extend(waiting.pop(contact_id, ()))

    for row in _all_rows(paths, mapping, assume_tz):
        counts["rows"] += 1
        if isinstance(row, RejectedRow):
            out.add(row)
        else:
            batch.append(row)
        if len(batch) >= batch_size:
            current = batch[:]
            batch.clear()
            flush(current)
        if progress is not None and counts["rows"] % 1000 == 0:
            progress(counts["rows"])
    while batch:
        current = batch[:]
        batch.clear()
        flush(current)
    leftovers = [row for rows in waiting.values() for row in rows]
    waiting.clear()
    flush(sorted(leftovers, key=lambda r: (r.source, r.line)), last_chance=True)
    engine.project()

    if progress is not None:
        progress(counts["rows"])
    return ReplaySummary(
        rows=counts["rows"],
        recorded=counts["recorded"],
        duplicates=counts["duplicates"],
        rejected=out.count,
        seconds=round(time.perf_counter() - started, 3),
    )


def _field(error: Exception) -> str:
    return (
        "type" if isinstance(error, ContactRuleError) else getattr(error, "field", None) or "event"
    )


def _all_rows(
    paths: Iterable[str | os.PathLike[str]], mapping: LogMapping | None, assume_tz: str | None
) -> Iterable[LogRow | RejectedRow]:
    for path in paths:
        yield from read_log(path, mapping=mapping, assume_tz=assume_tz)
