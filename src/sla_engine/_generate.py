"""Synthetic contact-event logs: realistic, reproducible, optionally corrupted.

:func:`generate_log` writes the CSV log an auditor would get from a service's
ticketing export (the format :mod:`sla_engine._logs` reads), for benchmarks,
demonstrations and tests.  The same arguments always give the same bytes: one
``random.Random(seed)`` draws the contacts, a second one, seeded from the same
seed, draws the corruptions (so the clean log underneath does not change with
``malformed``), and nothing reads the clock.

The model (every figure below is a parameter of this module):

Arrivals
    ``contacts`` requests are spread over the days from ``start`` to ``end``
    in proportion to a day weight: working days of the calendar (its jours
    ouvrés) weigh 1, scaled by the weekday (Monday 1.35, Tuesday 1.1,
    Wednesday 0.95, Thursday 1.0, Friday 0.85) and the season: the rentrée
    (1–21 September 1.8, 22–30 September 1.5, 1–15 October 1.3), a spring
    peak of registrations (15 March–15 May 1.3), late August 1.2, early July
    0.8, the summer break (11 July–19 August 0.35) and Christmas (20 December
    –3 January 0.5).  Days the service does not work weigh 0.07 and only
    receive e-mails (70 %) and web forms (30 %), at any hour.  On working
    days the channel mix is e-mail 45 %, web 20 %, letter 15 %, phone 15 %,
    counter 5 %, at channel-specific hours: e-mails and forms mostly 8–19 h
    with an evening tail, letters when the mail room opens them (9–11 h, a
    few in the afternoon), phone and counter in opening hours (9–12 h,
    13:30–17 h).  Monday mornings (8–11 h) weigh 1.6 times as much.
Classification
    Categories: information 70 %, complaint 8 %, appointment 7 %, inscription
    7 %, bourse 5 %, suggestion 3 %.  Priority urgent 3 %.  Services:
    Rectorat 30 %, DSDEN 25 22 %, DSDEN 39 14 %, DSDEN 70 10 %, DSDEN 90 8 %,
    Circonscription Le Blanc 8 %, Eduform 8 %.
A contact's life
    Phone calls are received and answered in the same minute, with the number
    of rings (1–9, 82 % within 5) in the answer's attributes; 80 % of
    counter visits are answered on the spot (5–40 minutes) and mostly closed.
    Every other request (e-mail, web, letter, the other counter visits) is
    answered after a delay in jours ouvrés drawn from a lognormal law of
    median 2.5 and σ = ln 4 / 1.2816 (a factor 4 from the median to p90),
    times 1.3 for letters, 0.9 for e-mails, 1.2 for counter follow-ups, 1.4
    for complaints and suggestions, 0.8 for appointments, 0.3 for urgent
    requests; 3.5 % are flagged complex (1–5 days after receipt, reason
    multi-services, juridique or enquete) and take twice as long plus 5
    days; no delay is over 90 days.  Measured on the answers of e-mails,
    forms and letters (suspensions included): median 3 jours ouvrés, p90 13,
    p99 36, 1.5 % beyond 30.  Acknowledgements: 97 % of web forms (automatically, within two
    minutes), 85 % of e-mails (same day to 3 days, 7 % late: 5–12 days), 75 %
    of letters (1–6 days after registration, 8 % late: 9–15 days), 40 % of
    counter follow-ups; 45 % of them (60 % of web ones) announce a delay
    (5 jours ouvrés for e-mails, 10 for forms and appointments, 15 for
    letters, complaints and suggestions).  Half the requests answered after 8
    days or more get a holding reply.  Escalations: 70 % of urgent requests
    (to N+1, reason urgence), 12 % of complaints (N+1, reclamation), 25 % of
    requests taking over 20 days (N+2, retard).  2.5 % are reclassified in
    the first two days (category, service or priority).  10 % are suspended
    waiting for documents (reason pieces, or precisions) 1–4 days after
    receipt and resumed after a lognormal 5 days (the delay then resumes with
    what was left); 8 % of those are never resumed, and half of these are
    closed 40 days later (reason sans-suite).  1 % are never answered.  85 %
    of answers are followed by a closure (70 % of them within two hours,
    the others 1–5 days later); 4.5 % of answered requests are reopened 1–20
    days later and answered again (median 4 days), and mostly closed again.
    Every action of the service happens on a working day, in office hours
    (8–18 h) or soon after the step before it (before 19 h); only the
    automatic acknowledgement of web forms comes at any time.
Late records
    35 % of letters are registered (``recorded_at``) 1–3 working days after
    they arrived (``occurred_at``), and their acknowledgement follows the
    registration; 2 % of answers are recorded 1–2 working days late.
End of the log
    Arrivals are bounded by ``start`` and ``end``; later events run on, but
    none happens after the day ``end`` + 90 days: a contact whose next event
    would come later is left as it stands, open.

Every contact's events satisfy :func:`sla_engine._contact.check_history`
and have strictly increasing instants, so the file's order (``occurred_at``
then ``event_id``) is a valid recording order.

Corruptions (``malformed`` > 0): each clean row, with probability
``malformed``, gives rise to one corruption, the kinds taken in turn
(:data:`CORRUPTION_KINDS`); a corrupted row is either a clean row rewritten
or an extra row.  Rewritten rows are never a ``received`` row and never a row
whose loss would make another row of its contact invalid (a ``resumed``, the
``answered`` a reopening rests on, the ``closed`` an injected event comes
after, the original of a duplicated id); extra rows belong to a contact never
received (a phantom) or are refused by the engine's rules whatever else is
refused.  So a reader that reads the log as specified (no assumed time zone,
no mapping) and an engine that records its rows in the file's order reject
exactly the corrupted rows: see :class:`GeneratedLog.corrupted`.  The DST-gap
kind needs a time zone with summer time and is skipped in the others.

A kind that does not fit the row drawn (no closure to follow, no gap of two
seconds before the next event…) passes its turn to the next kind.

Memory: rows are generated day by day of arrival and held, rendered, until
the day of their ``occurred_at`` is complete, so memory grows with the
events still to come of the contacts open at once (about 270 bytes each),
not with the size of the log.  When arrivals are so dense that more than
:data:`SPILL_ROWS` rows wait at once, they are moved, sorted, to temporary
files beside the output and merged back in order (same bytes either way).
Measured on the 2-core development machine: 100,000 contacts over a year
(366,000 rows) in 4.7 s, 2.3 MiB traced at the peak; 2.5 million contacts
(9.2 million rows) in 137 s, 124 MB resident over a year, 521 MB all on
one day.
"""

from __future__ import annotations

import bisect
import datetime as dt
import gzip
import heapq
import io
import math
import os
import random
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

import attrs

from ._calendar import calendar
from ._errors import InvalidTimeError
from ._logs import FIELDS
from ._time import first_instant_of, localise

__all__ = ["CORRUPTION_KINDS", "HEADER", "Corruption", "GeneratedLog", "generate_log"]

#: The columns of the log format, in order: the reader's own list.
HEADER = FIELDS

#: Every kind of corrupted row, in the order they are produced.
CORRUPTION_KINDS = (
    "timestamp_not_iso",  # 17/10/2025 or 17/10/2025 16:05
    "timestamp_empty",
    "timestamp_naive",  # 2025-10-17T16:05:00, no offset
    "timestamp_dst_gap",  # a naive local time that summer time skips
    "unknown_type",
    "missing_contact_id",
    "received_without_channel",  # a phantom contact's received row
    "broken_attributes",
    "duplicate_event_id",  # a later row reusing an event id with other content
    "never_received",  # an answer to a contact never received
    "resumed_without_suspension",
    "event_after_closed",  # an answer after the closure, without a reopening
    "too_many_columns",
    "too_few_columns",
)
# The kinds that rewrite an existing row (the others add a row).
_REWRITES = frozenset(
    {
        "timestamp_not_iso",
        "timestamp_empty",
        "timestamp_naive",
        "timestamp_dst_gap",
        "unknown_type",
        "missing_contact_id",
        "broken_attributes",
        "too_many_columns",
        "too_few_columns",
    }
)
# Rows that may be rewritten, provided the contact stays valid without them.
_REWRITABLE = frozenset(
    {
        "acknowledged",
        "holding_reply",
        "escalated",
        "flagged_complex",
        "reclassified",
        "answered",
        "closed",
    }
)
_UNKNOWN_TYPES = ("transferred", "answred", "en_cours", "cancelled", "forwarded")
_BROKEN_JSON = ('{"rings": 3', "{'reason': 'pieces'}", '{"to": "N+1",}', "rings=3", '{"reason"}')

# -- the model's parameters ----------------------------------------------------------

EMAIL, WEB, LETTER, PHONE, COUNTER = "email", "web", "letter", "phone", "counter"
_CHANNELS = ((EMAIL, 45), (WEB, 20), (LETTER, 15), (PHONE, 15), (COUNTER, 5))
_OFF_DAY_CHANNELS = ((EMAIL, 70), (WEB, 30))
_CATEGORIES = (
    ("information", 70),
    ("complaint", 8),
    ("appointment", 7),
    ("inscription", 7),
    ("bourse", 5),
    ("suggestion", 3),
)
_SERVICES = (
    ("Rectorat", 30),
    ("DSDEN 25", 22),
    ("DSDEN 39", 14),
    ("DSDEN 70", 10),
    ("DSDEN 90", 8),
    ("Circonscription Le Blanc", 8),
    ("Eduform", 8),
)
URGENT_SHARE = 0.03
_WEEKDAY_WEIGHT = (1.35, 1.1, 0.95, 1.0, 0.85, 1.0, 1.0)
OFF_DAY_WEIGHT = 0.07
MONDAY_MORNING = 1.6

# Relative weights of the 24 local hours of arrival, by channel.
_HOURS = {
    EMAIL: (0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.4, 1.2, 3.5, 5.5, 6, 5.5,
            3, 3, 4.5, 5, 4.5, 3.5, 2.5, 2, 1.8, 1.5, 1, 0.5),
    WEB: (0.4, 0.2, 0.1, 0.05, 0.05, 0.1, 0.4, 1, 2.5, 4, 4.5, 4.5,
          3.5, 3.5, 4, 4, 4, 3.5, 3, 3, 3, 2.5, 1.8, 1),
    LETTER: (0, 0, 0, 0, 0, 0, 0, 0, 1, 6, 6, 3, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0),
    PHONE: (0, 0, 0, 0, 0, 0, 0, 0, 1, 7, 8, 6, 0.5, 1.5, 6, 6, 5, 2, 0, 0, 0, 0, 0, 0),
    COUNTER: (0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 6, 5, 1, 1, 5, 5, 4, 0, 0, 0, 0, 0, 0, 0),
}  # fmt: skip
_OFF_DAY_HOURS = (0.3, 0.2, 0.1, 0.05, 0.05, 0.1, 0.2, 0.5, 1, 2, 3, 3,
                  2.5, 2.5, 3, 3, 3, 3, 3, 3.5, 3.5, 3, 2, 1)  # fmt: skip
# When the service acts (acknowledges, answers, closes…), and its last hour.
FIRST_HOUR, LAST_HOUR = 8, 19
_OFFICE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0, 2, 5, 6, 6, 2, 2, 5, 6, 6, 4, 1.5, 0, 0, 0, 0, 0)

#: Answer delay in jours ouvrés: lognormal, median 3, p90 12.
ANSWER_MEDIAN = 2.5
#: No first answer is planned later than this many jours ouvrés after receipt.
ANSWER_MAX = 90
ANSWER_SIGMA = math.log(4) / 1.2816
_CHANNEL_FACTOR = {EMAIL: 0.9, WEB: 1.0, LETTER: 1.3, COUNTER: 1.2}
_CATEGORY_FACTOR = {"complaint": 1.4, "suggestion": 1.4, "appointment": 0.8}
URGENT_FACTOR = 0.3
_RINGS = (14, 22, 20, 15, 11, 7, 5, 3, 3)  # weights of 1..9 rings
COUNTER_ON_THE_SPOT = 0.8
COMPLEX_SHARE = 0.035
SUSPENDED_SHARE = 0.10
NEVER_RESUMED = 0.08
NEVER_ANSWERED = 0.01
RECLASSIFIED_SHARE = 0.025
CLOSED_AFTER_ANSWER = 0.85
REOPENED_SHARE = 0.045
_ACKNOWLEDGED = {EMAIL: 0.85, WEB: 0.97, LETTER: 0.75, COUNTER: 0.4}
_ANNOUNCED = {EMAIL: 5, WEB: 10, LETTER: 15, COUNTER: 10}
LETTER_REGISTERED_LATE = 0.35
ANSWER_RECORDED_LATE = 0.02
#: Pending rows kept in memory before they are spilled, sorted, to a temporary file
#: (about 270 bytes each): only when many contacts arrive within a few days.
SPILL_ROWS = 1_000_000
#: No event happens after the day ``end`` + this many days.
TAIL_DAYS = 90

_Event = tuple[int, str, int, str, str, str, str, str]
# (occurred epoch seconds, type, recorded epoch seconds or 0, channel, category,
#  priority, service, attributes JSON)


@attrs.frozen
class Corruption:
    """A corrupted row of a generated log: its line (the header is line 1), id and kind."""

    line: int
    event_id: str
    kind: str


@attrs.frozen
class GeneratedLog:
    """What :func:`generate_log` wrote."""

    path: Path
    #: Contacts received (phantom contacts of corrupted rows aside).
    contacts: int
    #: Valid events written (``rows - len(corrupted)``).
    events: int
    #: Data rows written, the header aside.
    rows: int
    #: Contacts not answered since they were received or last reopened.
    open_contacts: int
    #: Every corrupted row, in the file's order; never written in the log.
    corrupted: tuple[Corruption, ...] = ()


def generate_log(
    path: str | os.PathLike[str],
    *,
    contacts: int,
    seed: int,
    calendar_spec: str,
    start: dt.date,
    end: dt.date,
    malformed: float = 0.0,
) -> GeneratedLog:
    """Write a synthetic log of ``contacts`` contacts received from ``start`` to ``end``.

    The log is CSV (UTF-8, ``\\n`` line ends, the :data:`HEADER` row first),
    gzip-compressed when ``path`` ends in ``.gz``; rows are in the order of
    ``occurred_at``, then ``event_id``.  Instants are written in the time
    zone of ``calendar_spec`` (``"fr"``, ``"fr-974+Réunion"``…), whose
    working days shape the arrivals and the service's actions.  ``malformed``
    is the share of rows to corrupt (0 ≤ malformed < 1).
    """
    if isinstance(contacts, bool) or not isinstance(contacts, int) or contacts < 0:
        raise ValueError(f"contacts must be a whole number >= 0, not {contacts!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be a whole number, not {seed!r}")
    for name, day in (("start", start), ("end", end)):
        if isinstance(day, dt.datetime) or not isinstance(day, dt.date):
            raise ValueError(f"{name} must be a date, not {type(day).__name__}")
    if end < start:
        raise ValueError(f"end ({end}) is before start ({start})")
    if not 0.0 <= malformed < 1.0:
        raise ValueError(f"malformed is a share of rows, 0 <= malformed < 1, not {malformed!r}")
    target = Path(path)
    generator = _Generator(contacts, seed, calendar_spec, start, end, malformed)
    with _open_output(target) as out:
        generator.run(out, target.parent)
    return GeneratedLog(
        path=target,
        contacts=contacts,
        events=generator.rows - len(generator.corrupted),
        rows=generator.rows,
        open_contacts=generator.open_contacts,
        corrupted=tuple(generator.corrupted),
    )


class _Output:
    """A text file, gzip-compressed (reproducibly: no name, no time) for ``.gz``."""

    def __init__(self, path: Path) -> None:
        self.raw = path.open("wb")
        self.text: IO[str]
        if path.name.endswith(".gz"):
            gz = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, compresslevel=6, mtime=0)
            self.text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        else:
            self.text = io.TextIOWrapper(self.raw, encoding="utf-8", newline="")

    def __enter__(self) -> IO[str]:
        return self.text

    def __exit__(self, *exc: object) -> None:
        try:
            self.text.close()  # closes the gzip stream too, not the file under it
        finally:
            self.raw.close()


def _open_output(path: Path) -> _Output:
    return _Output(path)


# -- days and instants ----------------------------------------------------------------


class _Days:
    """The calendar's days from ``first`` to ``last``: working days and local midnights."""

    def __init__(self, calendar_spec: str, first: dt.date, last: dt.date) -> None:
        cal = calendar(calendar_spec)
        self.tz = cal.tz
        self.lo = lo = first.toordinal()
        n = last.toordinal() - lo + 1
        days = [dt.date.fromordinal(lo + i) for i in range(n)]
        self.working = [cal.is_working_day(day) for day in days]
        self.weekday = [day.weekday() for day in days]
        cum, nth, count = [], [], 0
        for i, works in enumerate(self.working):
            if works:
                count += 1
                nth.append(lo + i)
            cum.append(count)
        self.cum, self.nth = cum, nth
        starts = [first_instant_of(day, self.tz) for day in days]
        starts.append(first_instant_of(last + dt.timedelta(days=1), self.tz))
        self.starts = [int(s.timestamp()) for s in starts]
        # Days of 24 hours: an instant is the day's start plus the local seconds.
        self.plain = [self.starts[i + 1] - self.starts[i] == 86400 for i in range(n)]
        self.end_ts = self.starts[-1]

    def add(self, day: int, n: int) -> int | None:
        """The ``n``-th working day after ``day``; for 0, ``day`` or the next working day."""
        i = day - self.lo
        if n <= 0:
            if self.working[i]:
                return day
            n = 1
        k = self.cum[i] + n - 1
        return self.nth[k] if k < len(self.nth) else None

    def instant(self, day: int, seconds: int) -> int:
        """Epoch seconds of local ``seconds`` after midnight on ``day``."""
        i = day - self.lo
        if self.plain[i]:
            return self.starts[i] + seconds
        wall = dt.datetime.fromordinal(day) + dt.timedelta(seconds=seconds)
        return int(wall.replace(tzinfo=self.tz).timestamp())

    def day_of(self, ts: int) -> int:
        return self.lo + bisect.bisect_right(self.starts, ts) - 1

    def iso(self, ts: int) -> str:
        return dt.datetime.fromtimestamp(ts, self.tz).isoformat()

    def naive(self, ts: int) -> str:
        return dt.datetime.fromtimestamp(ts, self.tz).replace(tzinfo=None).isoformat()

    def dst_gap(self, year: int) -> str | None:
        """A local time that does not exist in ``year`` (clocks jump forward), if any."""
        day = dt.date(year, 1, 1)
        while day.year == year:
            following = day + dt.timedelta(days=1)
            # Timestamps, not aware datetimes: these subtract in wall time within one zone.
            length = (
                first_instant_of(following, self.tz).timestamp()
                - first_instant_of(day, self.tz).timestamp()
            )
            if length < 86400:
                for hour in range(24):
                    wall = dt.datetime.combine(day, dt.time(hour, 30))
                    try:
                        localise(wall, self.tz)
                    except InvalidTimeError:
                        round_trip = wall.replace(tzinfo=self.tz).astimezone(dt.UTC)
                        if round_trip.astimezone(self.tz).replace(tzinfo=None) != wall:
                            return wall.isoformat()
            day = following
        return None


def _cumulative(weights: Sequence[float]) -> list[float]:
    total, cum = 0.0, []
    for w in weights:
        total += w
        cum.append(total)
    return cum


class _Choice:
    """Weighted choice by bisection on cumulative weights."""

    def __init__(self, pairs: Sequence[tuple[str, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cum = _cumulative([w for _, w in pairs])
        self.total = self.cum[-1]

    def __call__(self, u: float) -> str:
        return self.items[bisect.bisect_right(self.cum, u * self.total)]


class _Hours:
    """Local second of the day, drawn from hour weights."""

    def __init__(self, weights: Sequence[float]) -> None:
        self.cum = _cumulative(weights)
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> int:
        hour = bisect.bisect_right(self.cum, rng.random() * self.total)
        return hour * 3600 + rng.randrange(3600)


def _season(day: dt.date) -> float:
    m, d = day.month, day.day
    if m == 9:
        return 1.8 if d <= 21 else 1.5
    if m == 10 and d <= 15:
        return 1.3
    if (m == 12 and d >= 20) or (m == 1 and d <= 3):
        return 0.5
    if (m == 3 and d >= 15) or m == 4 or (m == 5 and d <= 15):
        return 1.3
    if m == 7:
        return 0.8 if d <= 10 else 0.35
    if m == 8:
        return 0.35 if d < 20 else 1.2
    return 1.0


def _attributes(**values: str | int) -> str:
    parts = [f'"{k}": {v}' if isinstance(v, int) else f'"{k}": "{v}"' for k, v in values.items()]
    return "{" + ", ".join(parts) + "}"


def _cell(text: str) -> str:
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _valid(types: Sequence[str]) -> bool:
    """Whether a contact's event types, in time order, keep the engine's rules.

    The same rules as :func:`sla_engine._contact.check_history`, on plain
    strings (the tests check the log against the engine's own function).
    """
    if not types or types[0] != "received":
        return False
    suspended = closed = answered = False
    for t in types[1:]:
        if t == "received" or (closed and t != "reopened"):
            return False
        if t == "suspended":
            if suspended:
                return False
            suspended = True
        elif t == "resumed":
            if not suspended:
                return False
            suspended = False
        elif t == "closed":
            closed, suspended = True, False
        elif t == "answered":
            answered = True
        elif t == "reopened":
            if not (closed or answered):
                return False
            closed = answered = suspended = False
    return True


class _Run:
    """Pending rows written, sorted, to a temporary file, and read back in order."""

    def __init__(self, lines: list[str], directory: Path) -> None:
        # Beside the output, not in /tmp (often a RAM disk).
        self.file = tempfile.TemporaryFile(  # noqa: SIM115 - closed by close()
            "w+", encoding="utf-8", newline="", dir=directory, prefix=".sla-engine-run-"
        )
        for start in range(0, len(lines), 10_000):
            self.file.write("\n".join(lines[start : start + 10_000]))
            self.file.write("\n")
        self.file.seek(0)
        self.head = self.file.readline()

    def take(self, limit: str) -> Iterator[str]:
        """The run's next lines whose sort key is below ``limit``."""
        while self.head and self.head < limit:
            yield self.head[:-1]
            self.head = self.file.readline()

    def done(self) -> bool:
        if self.head:
            return False
        self.close()
        return True

    def close(self) -> None:
        self.file.close()


# -- the generator -------------------------------------------------------------------

# A pending row: its sort key (12 digits of shifted epoch seconds, the fixed-width
# event id is the line's first cell) followed by the CSV line.
_KEY_SHIFT = 10**11
_KEY = 12


class _Generator:
    def __init__(
        self,
        contacts: int,
        seed: int,
        calendar_spec: str,
        start: dt.date,
        end: dt.date,
        malformed: float,
    ) -> None:
        self.n_contacts = contacts
        # Synthetic data, not secrets: a seeded, reproducible generator is the point.
        self.rng = random.Random(seed)  # noqa: S311
        self.crng = random.Random(f"sla-engine generate_log corruptions {seed}")  # noqa: S311
        self.start, self.end = start, end
        self.malformed = malformed
        self.days = _Days(calendar_spec, start, end + dt.timedelta(days=TAIL_DAYS))
        self.horizon = self.days.end_ts
        self.eid_width = max(7, len(str(contacts * 40)))
        self.cid_width = max(6, len(str(contacts)))
        self.next_eid = 1
        self.rows = 0
        self.open_contacts = 0
        self.corrupted: list[Corruption] = []
        self.pending: dict[int, list[str]] = {}
        self.in_memory = 0
        self.runs: list[_Run] = []
        self.marked: dict[str, tuple[str, str]] = {}  # pending line -> (event id, kind)
        self.kind_at = 0
        self.phantoms = 0
        self.gaps: dict[int, str | None] = {}
        # Samplers.
        self.channel = _Choice(_CHANNELS)
        self.off_day_channel = _Choice(_OFF_DAY_CHANNELS)
        self.category = _Choice(_CATEGORIES)
        self.service = _Choice(_SERVICES)
        self.hours = {ch: _Hours(w) for ch, w in _HOURS.items()}
        self.monday_hours = {
            ch: _Hours([x * MONDAY_MORNING if 8 <= h <= 11 else x for h, x in enumerate(w)])
            for ch, w in _HOURS.items()
        }
        self.off_day_hours = _Hours(_OFF_DAY_HOURS)
        self.office = _Hours(_OFFICE_HOURS)
        self.rings = _cumulative(_RINGS)
        self.ring_attributes = [_attributes(rings=r) for r in range(1, 10)]

    # -- the run ------------------------------------------------------------------------

    def run(self, out: IO[str], spill_dir: Path) -> None:
        out.write(",".join(HEADER) + "\n")
        self.out = out
        self.spill_dir = spill_dir
        days = self.days
        first, last = self.start.toordinal(), self.end.toordinal()
        per_day = self._arrivals_per_day(first, last)
        number = 0
        try:
            for day, count in zip(range(first, last + 1), per_day, strict=True):
                for ts, channel in self._arrival_times(day, count):
                    number += 1
                    self._contact(number, ts, day, channel)
                    if self.in_memory > SPILL_ROWS:
                        self._spill()
                self._flush(day)
            self._flush(days.lo + len(days.working) - 1)
        finally:
            for run in self.runs:
                run.close()

    def _arrivals_per_day(self, first: int, last: int) -> list[int]:
        days = self.days
        weights = []
        for day in range(first, last + 1):
            i = day - days.lo
            season = _season(dt.date.fromordinal(day))
            if days.working[i]:
                weights.append(season * _WEEKDAY_WEIGHT[days.weekday[i]])
            else:
                weights.append(season * OFF_DAY_WEIGHT)
        cum = _cumulative(weights)
        total = cum[-1]
        counts = [0] * len(weights)
        random_ = self.rng.random
        right = bisect.bisect_right
        for _ in range(self.n_contacts):
            counts[min(right(cum, random_() * total), len(counts) - 1)] += 1
        return counts

    def _arrival_times(self, day: int, count: int) -> list[tuple[int, str]]:
        days, rng = self.days, self.rng
        i = day - days.lo
        working = days.working[i]
        hours = self.monday_hours if days.weekday[i] == 0 else self.hours
        arrivals = []
        for _ in range(count):
            if working:
                channel = self.channel(rng.random())
                second = hours[channel](rng)
                if channel == PHONE:  # room for the rings within the minute
                    second = second - second % 60 + rng.randrange(21)
            else:
                channel = self.off_day_channel(rng.random())
                second = self.off_day_hours(rng)
            arrivals.append((days.instant(day, second), channel))
        arrivals.sort()
        return arrivals

    # -- one contact ----------------------------------------------------------------------

    def _at(self, day: int | None, after: int) -> int | None:
        """An office-hours instant on ``day``, strictly after ``after`` (None: beyond the log).

        When the office hours of ``day`` are already past, soon after ``after``.
        """
        if day is None:
            return None
        ts = self.days.instant(day, self.office(self.rng))
        return ts if ts > after else self._soon(after, 5400)

    def _soon(self, after: int, within: int) -> int | None:
        """Up to ``within`` seconds after ``after`` if the office is still open then,
        else in the office hours of the next working day."""
        days = self.days
        ts = after + self.rng.randint(60, within)
        if ts >= self.horizon:
            return None
        day = days.day_of(ts)
        i = day - days.lo
        second = ts - days.starts[i]
        if days.working[i] and second < LAST_HOUR * 3600:
            if second >= FIRST_HOUR * 3600:
                return ts
            return days.instant(day, self.office(self.rng))  # later: the office opens at 8
        following = days.add(day, 1)
        return None if following is None else days.instant(following, self.office(self.rng))

    def _contact(self, number: int, ts0: int, day0: int, channel: str) -> None:
        rng = self.rng
        category = self.category(rng.random())
        priority = "urgent" if rng.random() < URGENT_SHARE else "normal"
        service = self.service(rng.random())
        recorded = 0
        if channel == LETTER and rng.random() < LETTER_REGISTERED_LATE:
            recorded = self._at(self.days.add(day0, rng.randint(1, 3)), ts0) or 0
        events: list[_Event] = [
            (ts0, "received", recorded, channel, category, priority, service, "")
        ]
        if channel == PHONE:
            rings = bisect.bisect_right(self.rings, rng.random() * self.rings[-1])
            answer = ts0 + 4 * (rings + 1) + rng.randrange(4)
            events.append((answer, "answered", 0, "", "", "", "", self.ring_attributes[rings]))
        elif channel == COUNTER and rng.random() < COUNTER_ON_THE_SPOT:
            answer = ts0 + rng.randint(300, 2400)
            events.append((answer, "answered", 0, "", "", "", "", ""))
            if rng.random() < 0.8:
                events.append((answer + rng.randint(10, 600), "closed", 0, "", "", "", "", ""))
        else:
            events = self._written(events, day0, channel, category, priority)
        events = [e for e in events if e[0] < self.horizon]
        last = [e[1] for e in events if e[1] in ("received", "reopened", "answered")][-1]
        if last != "answered":
            self.open_contacts += 1
        self._emit_contact(f"C{number:0{self.cid_width}d}", events)

    def _written(
        self, events: list[_Event], day0: int, channel: str, category: str, priority: str
    ) -> list[_Event]:
        """The life of a written request (or a counter visit followed up later)."""
        rng, days, at = self.rng, self.days, self._at
        add = days.add
        ts0, recorded = events[0][0], events[0][2]
        begin = recorded or ts0  # the service acts once the request is registered
        begin_day = days.day_of(begin)
        factor = _CHANNEL_FACTOR[channel] * _CATEGORY_FACTOR.get(category, 1.0)
        if priority == "urgent":
            factor *= URGENT_FACTOR
        delay = rng.lognormvariate(math.log(ANSWER_MEDIAN * factor), ANSWER_SIGMA)
        complex_ = rng.random() < COMPLEX_SHARE
        if complex_:
            delay = delay * 2 + 5
        n = min(round(delay), ANSWER_MAX)
        suspended = rng.random() < SUSPENDED_SHARE
        if suspended:
            n = max(n, 2)
        main: list[_Event] = []
        end_of_cycle: int | None = None  # side events come before it
        if rng.random() < NEVER_ANSWERED:
            pass
        elif suspended:
            s = rng.randint(1, min(n - 1, 4))
            s_ts = at(add(max(day0, begin_day), s), begin)
            reason = "pieces" if rng.random() < 0.9 else "precisions"
            if s_ts is not None:
                s_day = days.day_of(s_ts)
                main.append((s_ts, "suspended", 0, "", "", "", "", _attributes(reason=reason)))
                if rng.random() < NEVER_RESUMED:
                    end_of_cycle = s_ts
                    if rng.random() < 0.5:
                        c_ts = at(add(s_day, 40), s_ts)
                        if c_ts is not None:
                            attributes = _attributes(reason="sans-suite")
                            main.append((c_ts, "closed", 0, "", "", "", "", attributes))
                else:
                    length = max(1, round(rng.lognormvariate(math.log(5), 0.7)))
                    r_ts = at(add(s_day, length), s_ts)
                    if r_ts is not None:
                        main.append((r_ts, "resumed", 0, "", "", "", "", ""))
                        answer_day = add(days.day_of(r_ts), n - s)
                        end_of_cycle = self._answer_and_after(main, answer_day, r_ts)
        else:
            end_of_cycle = self._answer_and_after(main, add(day0, n), begin)
        service = events[0][6]
        side = self._side_events(day0, begin, channel, category, priority, service, n, complex_)
        if end_of_cycle is not None:
            side = [e for e in side if e[0] < end_of_cycle]
        merged = sorted(events + side + main, key=lambda e: e[0])
        # Strictly increasing instants: the file's order is then the contact's order.
        for k in range(1, len(merged)):
            if merged[k][0] <= merged[k - 1][0]:
                merged[k] = (merged[k - 1][0] + 1, *merged[k][1:])
        return merged

    def _answer_and_after(self, main: list[_Event], day: int | None, after: int) -> int | None:
        """Append the answer, closure and any reopening; return the answer's instant."""
        rng, days = self.rng, self.days
        a_ts = self._at(day, after)
        if a_ts is None:
            return None
        self._answer(main, a_ts)
        last = self._close(main, a_ts)
        if rng.random() < REOPENED_SHARE:
            o_ts = self._at(days.add(days.day_of(last), rng.randint(1, 20)), last)
            if o_ts is not None:
                main.append((o_ts, "reopened", 0, "", "", "", "", ""))
                n2 = round(rng.lognormvariate(math.log(4), 0.9))
                a2_ts = self._at(days.add(days.day_of(o_ts), n2), o_ts)
                if a2_ts is not None:
                    self._answer(main, a2_ts)
                    self._close(main, a2_ts)
        return a_ts

    def _answer(self, main: list[_Event], ts: int) -> None:
        recorded = 0
        if self.rng.random() < ANSWER_RECORDED_LATE:
            late_day = self.days.add(self.days.day_of(ts), self.rng.randint(1, 2))
            recorded = self._at(late_day, ts) or 0
        main.append((ts, "answered", recorded, "", "", "", "", ""))

    def _close(self, main: list[_Event], ts: int) -> int:
        """Close the contact after the answer at ``ts`` (most of the time): the last instant."""
        rng = self.rng
        if rng.random() >= CLOSED_AFTER_ANSWER:
            return ts
        if rng.random() < 0.7:
            c_ts = self._soon(ts, 7200)
        else:
            c_ts = self._at(self.days.add(self.days.day_of(ts), rng.randint(1, 5)), ts)
        if c_ts is None:
            return ts
        main.append((c_ts, "closed", 0, "", "", "", "", ""))
        return c_ts

    def _side_events(
        self,
        day0: int,
        begin: int,
        channel: str,
        category: str,
        priority: str,
        service: str,
        n: int,
        complex_: bool,
    ) -> list[_Event]:
        """Acknowledgement, holding reply, escalations, flag, reclassification."""
        rng, add, at = self.rng, self.days.add, self._at
        random_ = rng.random
        side: list[_Event] = []

        def put(
            ts: int | None,
            kind: str,
            attributes: str = "",
            fields: tuple[str, str, str, str] = ("", "", "", ""),
        ) -> None:
            if ts is not None:
                side.append((ts, kind, 0, *fields, attributes))

        if random_() < _ACKNOWLEDGED[channel]:
            begin_day = self.days.day_of(begin)
            if channel == WEB:
                ack: int | None = begin + rng.randint(2, 120)
            elif channel == EMAIL:
                k = rng.choices((0, 1, 2, 3, -1), (45, 30, 12, 6, 7))[0]
                ack = at(add(day0, rng.randint(5, 12) if k < 0 else k), begin)
            elif channel == LETTER:
                k = rng.randint(9, 15) if random_() < 0.08 else rng.randint(1, 6)
                ack = at(add(begin_day, k), begin)
            else:
                ack = at(add(day0, rng.randint(0, 2)), begin)
            announced = ""
            if random_() < (0.6 if channel == WEB else 0.45):
                days_ = _ANNOUNCED[channel]
                if category in ("complaint", "suggestion"):
                    days_ = 15
                elif category == "appointment":
                    days_ = 10
                announced = _attributes(announced_delay=f"{days_} jours ouvrés")
            put(ack, "acknowledged", announced)
        if n >= 8 and random_() < 0.5:
            put(at(add(day0, rng.randint(3, min(n - 1, 8))), begin), "holding_reply")
        if priority == "urgent" and random_() < 0.7:
            attributes = _attributes(to="N+1", reason="urgence")
            put(at(add(day0, rng.randint(0, 1)), begin), "escalated", attributes)
        if category == "complaint" and random_() < 0.12:
            attributes = _attributes(to="N+1", reason="reclamation")
            put(at(add(day0, rng.randint(1, 3)), begin), "escalated", attributes)
        if n > 20 and random_() < 0.25:
            attributes = _attributes(to="N+2", reason="retard")
            put(at(add(day0, rng.randint(10, 15)), begin), "escalated", attributes)
        if complex_:
            reason = rng.choices(("multi-services", "juridique", "enquete"), (60, 25, 15))[0]
            day = add(day0, rng.randint(1, max(1, min(5, n - 1))))
            put(at(day, begin), "flagged_complex", _attributes(reason=reason))
        if random_() < RECLASSIFIED_SHARE:
            ts = at(add(day0, rng.randint(0, 2)), begin)
            u = random_()
            if u < 0.5:
                new = "complaint" if category != "complaint" else "information"
                put(ts, "reclassified", "", ("", new, "", ""))
            elif u < 0.8:
                other = service
                while other == service:
                    other = self.service(random_())
                put(ts, "reclassified", "", ("", "", "", other))
            else:
                other = "normal" if priority == "urgent" else "urgent"
                put(ts, "reclassified", "", ("", "", other, ""))
        return side

    # -- rows -------------------------------------------------------------------------------

    def _row(self, eid: str, cid: str, event: _Event) -> list[str]:
        ts, kind, recorded, channel, category, priority, service, attributes = event
        iso = self.days.iso
        return [
            eid,
            cid,
            kind,
            iso(ts),
            iso(recorded) if recorded else "",
            channel,
            category,
            priority,
            service,
            attributes,
        ]

    def _eid(self, number: int) -> str:
        return f"E{number:0{self.eid_width}d}"

    def _emit_contact(self, cid: str, events: list[_Event]) -> None:
        first = self.next_eid
        self.next_eid += len(events)
        eids = [self._eid(first + k) for k in range(len(events))]
        rows = [self._row(eid, cid, e) for eid, e in zip(eids, events, strict=True)]
        kinds: dict[int, str] = {}
        extra: list[tuple[int, list[str], str]] = []
        if self.malformed:
            kinds, extra = self._corrupt(cid, events, rows)
        for k, (event, row) in enumerate(zip(events, rows, strict=True)):
            self._pend(event[0], row, kinds.get(k))
        for ts, row, kind in extra:
            self._pend(ts, row, kind)

    def _pend(self, ts: int, row: list[str], kind: str | None) -> None:
        if kind is None:  # a clean row: only the attributes, JSON, need quoting
            attributes = row[9]
            if attributes:
                attributes = '"' + attributes.replace('"', '""') + '"'
            line = f"{ts + _KEY_SHIFT:012d}{','.join(row[:9])},{attributes}"
        else:
            line = f"{ts + _KEY_SHIFT:012d}" + ",".join(map(_cell, row))
        day = self.days.day_of(ts)
        bucket = self.pending.get(day)
        if bucket is None:
            bucket = self.pending[day] = []
        bucket.append(line)
        self.in_memory += 1
        if kind is not None:
            self.marked[line] = (row[0], kind)

    def _flush(self, through: int) -> None:
        """Write every pending row of the days up to ``through``: no later contact reaches them."""
        lines: list[str] = []
        for day in sorted(d for d in self.pending if d <= through):
            lines.extend(self.pending.pop(day))
        self.in_memory -= len(lines)
        lines.sort()
        ordered: Iterable[str] = lines
        if self.runs:
            limit = f"{self.days.starts[through - self.days.lo + 1] + _KEY_SHIFT:012d}"
            ordered = heapq.merge(lines, *(run.take(limit) for run in self.runs))
        chunk: list[str] = []
        for line in ordered:
            chunk.append(line[_KEY:])
            if self.marked:
                mark = self.marked.pop(line, None)
                if mark is not None:
                    self.corrupted.append(Corruption(self.rows + len(chunk) + 1, *mark))
            if len(chunk) == 10_000:
                self._write(chunk)
        self._write(chunk)
        self.runs = [run for run in self.runs if not run.done()]

    def _write(self, chunk: list[str]) -> None:
        if chunk:
            self.out.write("\n".join(chunk))
            self.out.write("\n")
            self.rows += len(chunk)
            chunk.clear()

    def _spill(self) -> None:
        """Move the pending rows to a sorted run on disk (many contacts in few days)."""
        lines = [line for bucket in self.pending.values() for line in bucket]
        self.pending.clear()
        self.in_memory = 0
        lines.sort()
        self.runs.append(_Run(lines, self.spill_dir))

    # -- corruptions ------------------------------------------------------------------------

    def _corrupt(
        self, cid: str, events: list[_Event], rows: list[list[str]]
    ) -> tuple[dict[int, str], list[tuple[int, list[str], str]]]:
        crng = self.crng
        types = [e[1] for e in events]
        states: list[tuple[bool, bool]] = []  # (suspended, closed) after each event
        suspended = closed = False
        for t in types:
            if t == "suspended":
                suspended = True
            elif t == "resumed":
                suspended = False
            elif t == "closed":
                closed, suspended = True, False
            elif t == "reopened":
                closed = suspended = False
            states.append((suspended, closed))
        kinds: dict[int, str] = {}
        pinned: set[int] = set()
        extra: list[tuple[int, list[str], str]] = []
        for i in range(len(events)):
            if crng.random() >= self.malformed:
                continue
            for step in range(len(CORRUPTION_KINDS)):
                kind = CORRUPTION_KINDS[(self.kind_at + step) % len(CORRUPTION_KINDS)]
                if kind in _REWRITES:
                    done = self._rewrite(kind, i, types, rows, events, kinds, pinned)
                else:
                    added = self._inject(kind, i, cid, events, rows, states, kinds, pinned)
                    if added is not None:
                        extra.append(added)
                    done = added is not None
                if done:
                    self.kind_at = (self.kind_at + step + 1) % len(CORRUPTION_KINDS)
                    break
        return kinds, extra

    def _rewrite(
        self,
        kind: str,
        i: int,
        types: list[str],
        rows: list[list[str]],
        events: list[_Event],
        kinds: dict[int, str],
        pinned: set[int],
    ) -> bool:
        if i in kinds or i in pinned or types[i] not in _REWRITABLE:
            return False
        remaining = [t for k, t in enumerate(types) if k != i and k not in kinds]
        if not _valid(remaining):
            return False
        crng, row, ts = self.crng, rows[i], events[i][0]
        if kind == "timestamp_dst_gap":
            year = dt.datetime.fromtimestamp(ts, self.days.tz).year
            if year not in self.gaps:
                self.gaps[year] = self.days.dst_gap(year)
            gap = self.gaps[year]
            if gap is None:
                return False
            row[3] = gap
        elif kind == "timestamp_not_iso":
            local = dt.datetime.fromtimestamp(ts, self.days.tz)
            fmt = "%d/%m/%Y" if crng.random() < 0.5 else "%d/%m/%Y %H:%M"
            row[3] = local.strftime(fmt)
        elif kind == "timestamp_empty":
            row[3] = ""
        elif kind == "timestamp_naive":
            row[3] = self.days.naive(ts)
        elif kind == "unknown_type":
            row[2] = crng.choice(_UNKNOWN_TYPES)
        elif kind == "missing_contact_id":
            row[1] = ""
        elif kind == "broken_attributes":
            row[9] = crng.choice(_BROKEN_JSON)
        elif kind == "too_many_columns":
            row.append("")
        elif kind == "too_few_columns":
            del row[4]
        else:  # pragma: no cover - every rewrite is handled above
            raise AssertionError(kind)
        kinds[i] = kind
        return True

    def _inject(
        self,
        kind: str,
        i: int,
        cid: str,
        events: list[_Event],
        rows: list[list[str]],
        states: list[tuple[bool, bool]],
        kinds: dict[int, str],
        pinned: set[int],
    ) -> tuple[int, list[str], str] | None:
        crng, ts = self.crng, events[i][0]
        gap = events[i + 1][0] - ts if i + 1 < len(events) else None
        between = ts + 1 + crng.randrange(gap - 1) if gap is not None and gap >= 2 else None
        if gap is None:
            between = ts + crng.randint(60, 86400)
        later = ts + crng.randint(1, 3600)
        if kind == "duplicate_event_id":
            if i in kinds or later >= self.horizon:
                return None
            pinned.add(i)
            row = list(rows[i])
            row[3] = self.days.iso(later)
            return later, row, kind
        if kind in ("never_received", "received_without_channel"):
            if later >= self.horizon:
                return None
            self.phantoms += 1
            phantom = f"C{self.n_contacts + self.phantoms:0{self.cid_width}d}"
            eid = self._eid(self.next_eid)
            self.next_eid += 1
            if kind == "never_received":
                event: _Event = (later, "answered", 0, "", "", "", "", "")
            else:
                event = (later, "received", 0, "", "information", "normal", "Rectorat", "")
            return later, self._row(eid, phantom, event), kind
        if between is None or between >= self.horizon:
            return None
        suspended, closed = states[i]
        if kind == "resumed_without_suspension":
            if suspended or closed:
                return None
            event = (between, "resumed", 0, "", "", "", "", "")
        elif kind == "event_after_closed":
            if events[i][1] != "closed" or i in kinds:
                return None
            pinned.add(i)
            event = (between, "answered", 0, "", "", "", "", "")
        else:  # pragma: no cover - every injection is handled above
            raise AssertionError(kind)
        eid = self._eid(self.next_eid)
        self.next_eid += 1
        return between, self._row(eid, cid, event), kind
