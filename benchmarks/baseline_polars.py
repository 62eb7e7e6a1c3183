"""A vectorised baseline for the compliance review, written with Polars and NumPy.

It reads the same CSV log as ``sla-engine replay`` and computes the same
headline figures — total, met, late, overdue and pending per engagement, as
of the log's last event — for a small catalogue (:data:`CATALOGUE`), with no
code of sla-engine: the business days come from NumPy's ``busday_offset``
and the public holidays from the ``holidays`` package, the local days and
midnights from Polars' time-zone support.

Its scope is deliberately narrow (it is a yardstick, not a second engine):

- response engagements started by ``received``, stopped by the first of
  their ``stop`` events, with a target in *jours ouvrés* on calendar ``fr``
  (Monday–Friday, metropolitan public holidays, Europe/Paris);
- logs without pauses, reopenings, complex flags or reclassifications (the
  benchmark filters such contacts out); ``recorded_at`` is ignored, as it
  changes no timer;
- clean logs: every row is valid and every contact's first event is its
  ``received`` row, its only one.

A log outside that scope is refused (:class:`UnmodelledLog`, naming the
event types and rows found), never counted: a row of a type other than
those of :data:`MODELLED_TYPES`, a contact whose first row is not
``received`` or that has two.

The rules applied, as ``docs/counting-rules.md`` states them: the day of
receipt is the local day (Europe/Paris) of the ``received`` event and does
not count; the due date is the N-th jour ouvré strictly after it
(``np.busday_offset(day, N, roll="backward")``); the delay expires at
midnight (Europe/Paris) at the start of the day after the due date; a timer
stopped strictly before that instant is met, otherwise late; an unstopped
timer is overdue when the log's last event is at or after the expiry,
otherwise pending.

Polars is a benchmark-only dependency (``pip install polars``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from typing import Any

import holidays
import numpy as np
import polars as pl

__all__ = [
    "CATALOGUE",
    "COUNTS",
    "MODELLED_TYPES",
    "UNMODELLED_TYPES",
    "UnmodelledLog",
    "baseline_figures",
    "parse_baseline_catalogue",
]

#: The engagements both contenders measure: sla-engine reads this text as a
#: catalogue, the baseline reads the few keys it supports with ``tomllib``.
CATALOGUE = """\
[catalogue]
id = "bench-replay"
title = "Catalogue du banc d'essai du rejeu"
version = "1"
calendar = "fr"

[[engagement]]
id = "email-5"
title = "Nous traitons vos courriels dans un délai maximum de 5 jours ouvrés"
source = "banc d'essai (d'après le référentiel Marianne, engagement 11)"
kind = "response"
when = { channel = ["email"] }
start = "received"
stop = ["answered"]
target = "5 jours ouvrés"

[[engagement]]
id = "letter-15"
title = "Nous répondons à vos courriers dans un délai maximum de 15 jours ouvrés"
source = "banc d'essai (d'après le référentiel Marianne, engagement 10)"
kind = "response"
when = { channel = ["letter"] }
start = "received"
stop = ["answered"]
target = "15 jours ouvrés"

[[engagement]]
id = "ack-2"
title = "Nous accusons réception de vos demandes écrites sous 2 jours ouvrés"
source = "banc d'essai"
kind = "response"
when = { channel = ["email", "web", "letter"] }
start = "received"
# A reply acknowledges a request too: the first of the two stops the timer.
stop = ["acknowledged", "answered"]
target = "2 jours ouvrés"
"""

#: The figures compared, per engagement.
COUNTS = ("total", "met", "late", "overdue", "pending")

#: The event types the baseline reads: ``received`` starts the timers, the
#: engagements' stops stop them, the others change none of the figures.
MODELLED_TYPES = frozenset(
    {"received", "acknowledged", "holding_reply", "answered", "escalated", "closed"}
)
#: The engine's event types the baseline does not model: their contacts are
#: left out of the benchmarks' logs.
UNMODELLED_TYPES = frozenset(
    {"suspended", "resumed", "reopened", "flagged_complex", "reclassified"}
)
#: Examples named per kind of problem when a log is refused.
_SHOWN = 3


class UnmodelledLog(ValueError):
    """A log the baseline cannot count: its figures would be wrong, not approximate."""


_TIME_ZONES = {"fr": "Europe/Paris"}
_TARGET = re.compile(r"^\s*(\d+)\s+jours?\s+ouvrés?\s*$")


def parse_baseline_catalogue(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The calendar spec and the engagements of ``text``, in the subset the baseline supports."""
    data = tomllib.loads(text)
    spec = data["catalogue"].get("calendar", "fr")
    if spec not in _TIME_ZONES:
        raise ValueError(f"the baseline supports calendars {sorted(_TIME_ZONES)}, not {spec!r}")
    engagements = []
    for e in data.get("engagement", []):
        if e.get("kind") != "response":
            continue
        # warn_at changes no figure of the review; these keys would.
        unsupported = {"pause", "resume", "pause_mode", "complex", "extend", "calendar"}
        if unsupported & e.keys():
            raise ValueError(f"{e['id']}: the baseline supports none of {sorted(unsupported)}")
        if e.get("start", "received") != "received":
            raise ValueError(f"{e['id']}: the baseline only starts timers on 'received'")
        match = _TARGET.match(e["target"])
        if match is None:
            raise ValueError(f"{e['id']}: the baseline supports targets in jours ouvrés only")
        when = e.get("when", {})
        if set(when) - {"channel"}:
            raise ValueError(f"{e['id']}: the baseline selects contacts by channel only")
        channels = when.get("channel")
        engagements.append(
            {
                "id": e["id"],
                "channels": None if channels is None else [channels] if isinstance(channels, str)
                else list(channels),
                "stop": list(e["stop"]),
                "days": int(match.group(1)),
            }
        )  # fmt: skip
    return spec, engagements


def _busdaycalendar(first_year: int, last_year: int) -> np.busdaycalendar:
    public = holidays.France(years=range(first_year, last_year + 1))
    return np.busdaycalendar(weekmask="1111100", holidays=sorted(public))


def baseline_figures(
    path: str | os.PathLike[str], catalogue: str = CATALOGUE, *, check_scope: bool = True
) -> tuple[dict[str, dict[str, int]], dt.datetime]:
    """Per engagement, the counts of :data:`COUNTS`; and the as-of instant (the last event).

    :class:`UnmodelledLog` if the log is outside the baseline's scope.
    ``check_scope=False`` skips that check, for a file this process has had
    checked already and has not changed since (``bench_replay``'s timed
    runs: the untimed reference run checked it, and the baseline's time
    stays that of the computation alone, as in the figures published before).
    """
    spec, engagements = parse_baseline_catalogue(catalogue)
    tz = _TIME_ZONES[spec]
    log = pl.read_csv(
        path,
        columns=["contact_id", "type", "occurred_at", "channel"],
        infer_schema=False,
        row_index_name="line",
        row_index_offset=2,  # the header is line 1
    ).with_columns(
        pl.col("occurred_at").str.to_datetime(
            "%Y-%m-%dT%H:%M:%S%:z", time_unit="us", time_zone="UTC", strict=True
        )
    )
    if check_scope:
        _refuse_unmodelled(log, path)
    as_of = log["occurred_at"].max()
    received = log.filter(pl.col("type") == "received").select(
        "contact_id",
        "channel",
        pl.col("occurred_at").alias("started_at"),
        pl.col("occurred_at").dt.convert_time_zone(tz).dt.date().alias("received_day"),
    )
    figures: dict[str, dict[str, int]] = {}
    if received.height == 0:
        return {e["id"]: dict.fromkeys(COUNTS, 0) for e in engagements}, as_of
    first_year = received["received_day"].min().year  # type: ignore[union-attr]
    last_year = received["received_day"].max().year + 1  # type: ignore[union-attr]
    busdays = _busdaycalendar(first_year - 1, last_year + 1)
    for e in engagements:
        timers = received
        if e["channels"] is not None:
            timers = timers.filter(pl.col("channel").is_in(e["channels"]))
        # Without reopenings every event follows the received one: the first stop event is
        # the earliest one of the contact.
        stops = (
            log.filter(pl.col("type").is_in(e["stop"]))
            .group_by("contact_id")
            .agg(pl.col("occurred_at").min().alias("stopped_at"))
        )
        timers = timers.join(stops, on="contact_id", how="left")
        due = np.busday_offset(
            timers["received_day"].to_numpy(), e["days"], roll="backward", busdaycal=busdays
        )
        expiry_day = pl.Series("expires_at", due + np.timedelta64(1, "D"), dtype=pl.Date)
        timers = timers.with_columns(
            expiry_day.cast(pl.Datetime("us"))
            .dt.replace_time_zone(tz, ambiguous="raise", non_existent="raise")
            .dt.convert_time_zone("UTC")
        )
        stopped = pl.col("stopped_at").is_not_null()
        before = pl.col("stopped_at") < pl.col("expires_at")
        expired = pl.lit(as_of, dtype=pl.Datetime("us", "UTC")) >= pl.col("expires_at")
        row = timers.select(
            pl.len().alias("total"),
            (stopped & before).sum().alias("met"),
            (stopped & ~before).sum().alias("late"),
            (~stopped & expired).sum().alias("overdue"),
            (~stopped & ~expired).sum().alias("pending"),
        ).row(0, named=True)
        figures[e["id"]] = {name: int(row[name]) for name in COUNTS}
    return figures, as_of


def _refuse_unmodelled(log: pl.DataFrame, path: str | os.PathLike[str]) -> None:
    """Raise :class:`UnmodelledLog` naming what the baseline cannot count in ``log``."""
    problems = []
    types = (
        log.filter(~pl.col("type").is_in(list(MODELLED_TYPES)))
        .group_by("type")
        .agg(pl.len().alias("rows"), pl.col("line").min().alias("first"))
        .sort("first")
    )
    for row in types.iter_rows(named=True):
        problems.append(
            f"{row['rows']:,} rows of type {row['type']!r} (the first at line {row['first']})"
        )
    # Within a group, rows keep the file's order: first() is the contact's first row.
    contacts = log.group_by("contact_id").agg(
        pl.col("type").first().alias("first_type"),
        pl.col("line").first().alias("first_line"),
        (pl.col("type") == "received").sum().alias("received"),
    )
    for label, wrong in (
        ("whose first row is not 'received'", pl.col("first_type") != "received"),
        ("received more than once", pl.col("received") > 1),
    ):
        found = contacts.filter(wrong).sort("first_line")
        if found.height:
            examples = ", ".join(
                f"{r['contact_id']} (line {r['first_line']}: {r['first_type']})"
                for r in found.head(_SHOWN).iter_rows(named=True)
            )
            problems.append(f"{found.height:,} contacts {label}, e.g. {examples}")
    if problems:
        raise UnmodelledLog(
            f"the baseline cannot count {os.fspath(path)}: " + "; ".join(problems) + ". It models "
            f"only the types {sorted(MODELLED_TYPES)}, each contact starting with its only "
            "'received' row (bench_replay's prepare_log leaves the other contacts out)"
        )
