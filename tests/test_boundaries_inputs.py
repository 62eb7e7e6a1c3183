"""Inputs at their boundaries: privacy, contact rules, obligations, anchors, logs, replays.

- Contact details: an e-mail address with a two-letter top-level domain is
  one; a code of MAX_CODE_LENGTH characters is kept, one more is prose.
- A contact reopened twice without a new answer is refused the second time.
- Obligations: a visit at exactly the expiry instant is late; a line
  reopened at the instant asked counts to it; the catalogue's limits (24
  hours of amplitude, a window opening the day it is due, 1000 events) are
  accepted, and one past them refused with a message naming line and field.
- Anchors: a single day off is no holiday; spaces in an anchor are folded.
- Logs: cells are stripped; a damaged gzip stream names the line it stopped
  at; a bad ``recorded_at`` is reported as that field.
- The columnar and row-by-row replays agree on the clock's tolerance, on an
  instant written ``-00:00`` and on the first instant the engine counts.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sla_engine import DataError, SiteEvent, SlaEngine, parse_catalogue
from sla_engine._anchors import Anchor, AnchorError, AnchorKind, _holiday
from sla_engine._catalogue import CatalogueError
from sla_engine._contact import ContactEvent, ContactRuleError
from sla_engine._engine import Rejected
from sla_engine._logs import DamagedLogError, LogRow, RejectedRow, read_log
from sla_engine._privacy import MAX_CODE_LENGTH, Privacy
from sla_engine._replay import replay
from sla_engine._school import school_zone

from .replay_support import stored_rows

PARIS = ZoneInfo("Europe/Paris")


def _at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=PARIS)


def _event(**fields: object) -> ContactEvent:
    return ContactEvent(
        **{
            "event_id": "1",
            "contact_id": "C",
            "type": "escalated",
            "occurred_at": dt.datetime(2025, 10, 6, 10, tzinfo=dt.UTC),
            **fields,
        }  # type: ignore[arg-type]
    )


# -- privacy and contact rules ----------------------------------------------------


@pytest.mark.parametrize("address", ["marie.dupont@exemple.fr", "jo@mairie.eu"])
def test_an_address_with_a_two_letter_domain_is_never_stored(address: str) -> None:
    # .fr and .eu are the addresses a French service sees most.
    cleaned = Privacy().clean(
        _event(reason=address, to=address, attributes={"contact": address, "rings": 3})
    )
    assert (cleaned.reason, cleaned.to) == (None, None)
    assert address not in repr(dict(cleaned.attributes))
    for field in ("category", "service"):
        with pytest.raises(DataError) as caught:
            _event(type="received", channel="email", **{field: address})
        assert str(caught.value).startswith(f"{field}: looks like an e-mail address")
        assert caught.value.field == field  # type: ignore[attr-defined]
        assert address not in str(caught.value)


def test_a_code_is_kept_up_to_max_code_length_characters() -> None:
    kept = Privacy().clean(_event(reason="a" * MAX_CODE_LENGTH, to="b" * MAX_CODE_LENGTH))
    assert (kept.reason, kept.to) == ("a" * MAX_CODE_LENGTH, "b" * MAX_CODE_LENGTH)
    dropped = Privacy().clean(
        _event(reason="a" * (MAX_CODE_LENGTH + 1), to="b" * (MAX_CODE_LENGTH + 1))
    )
    assert (dropped.reason, dropped.to) == (None, None)


def test_a_second_reopening_without_a_new_answer_is_refused() -> None:
    # A reopening starts a new cycle, unanswered: reopening it again needs an
    # answer (or a closure) first.
    engine = SlaEngine("marianne-besancon", "fr", clock=lambda: _at(2026, 1, 1))

    def ev(n: str, kind: str, when: dt.datetime, **more: object) -> dict[str, object]:
        return {"event_id": n, "contact_id": "K", "type": kind, "occurred_at": when, **more}

    result = engine.record_many(
        [
            ev("k1", "received", _at(2025, 10, 1, 10), channel="email"),
            ev("k2", "answered", _at(2025, 10, 2, 10)),
            ev("k3", "reopened", _at(2025, 10, 3, 10)),
            ev("k4", "reopened", _at(2025, 10, 4, 10)),
        ],
        atomic=False,
    )
    *recorded, refused = result.outcomes
    assert [o.value for o in recorded] == ["recorded"] * 3  # type: ignore[union-attr]
    assert isinstance(refused, Rejected)
    assert isinstance(refused.error, ContactRuleError)
    assert refused.error.code == "reopened_unanswered"
    assert refused.error.event_id == "k4"
    assert [e.event_id for e in engine.history("K")] == ["k1", "k2", "k3"]


# -- obligations ------------------------------------------------------------------


def test_a_visit_at_exactly_the_expiry_instant_is_late() -> None:
    # visit-after-rentree in zone B 2025: due Thursday 11 September, expires
    # at midnight starting the 12th; that instant is past the deadline.
    def state(visited: dt.datetime) -> tuple[object, ...]:
        engine = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(2025, 11, 30, 12))
        engine.register_sites([("E1", "École A")])
        engine.record_site_events([SiteEvent("v1", "visited", visited, site="E1", what="passage")])
        (timer,) = [
            t
            for t in engine.obligation_timers(_at(2025, 11, 30, 12))
            if t.engagement_id == "visit-after-rentree"
        ]
        return timer.due_date, timer.expires_at, timer.state.value

    assert state(_at(2025, 9, 12)) == (dt.date(2025, 9, 11), _at(2025, 9, 12), "late")
    assert state(_at(2025, 9, 11, 23, 59)) == (dt.date(2025, 9, 11), _at(2025, 9, 12), "met")


def test_a_line_reopened_at_the_instant_asked_counts_to_that_instant() -> None:
    # The amplitude is the span from the first opening to the last closing
    # (docs/reference/catalogue.md), a line still open counting to the
    # instant asked: opened 08:00, closed 12:00, reopened 14:00, as of 14:00,
    # it is open: 08:00 to 14:00, 6 hours (not 4, as if the reopening were
    # not yet seen).
    engine = SlaEngine("qualicirco", "fr+B", clock=lambda: _at(2025, 11, 30, 12))
    engine.record_site_events(
        [
            SiteEvent("o1", "opened", _at(2025, 9, 2, 8), what="téléphone"),
            SiteEvent("c1", "closed", _at(2025, 9, 2, 12), what="téléphone"),
            SiteEvent("o2", "opened", _at(2025, 9, 2, 14), what="téléphone"),
        ]
    )
    measured = [
        (t.state.value, t.measured)
        for t in engine.obligation_timers(_at(2025, 9, 2, 14))
        if t.engagement_id == "phone-reception" and t.period == "2025-09-02"
    ]
    assert measured == [("running", 6.0)]


HEAD = '[catalogue]\nid = "t"\ntitle = "t"\nversion = "1"\ncalendar = "fr+B"\n\n'
AVAILABILITY = (
    '[[engagement]]\nid = "a"\ntitle = "a"\nsource = "s"\nkind = "availability"\n'
    'per = "service"\nline = "téléphone"\namplitude = "{}"\ndays = "jours scolaires"\n'
)
SCHEDULED = (
    '[[engagement]]\nid = "a"\ntitle = "a"\nsource = "s"\nkind = "scheduled"\n'
    'per = "service"\nevent = "published"\nwhat = ["résultats"]\nopens = "{}"\ndue = "rentrée"\n'
)
RECURRING = (
    '[[engagement]]\nid = "a"\ntitle = "a"\nsource = "s"\nkind = "recurring"\n'
    'per = "service"\nevent = "published"\nwhat = ["site web"]\nevery = "school_year"\n'
    "count = {}\n"
)


def _catalogue(body: str) -> object:
    return parse_catalogue(HEAD + body, source="limits.toml")


def test_an_amplitude_of_24_hours_is_the_longest_accepted() -> None:
    assert _catalogue(AVAILABILITY.format("24 heures")) is not None
    with pytest.raises(CatalogueError) as caught:
        _catalogue(AVAILABILITY.format("25 heures"))
    assert str(caught.value) == (
        "limits.toml:14: engagement 'a'.amplitude: the daily amplitude must be more than 0 "
        "and at most 24 hours, not '25 heures'"
    )


def test_a_window_may_open_the_day_it_is_due_but_not_after() -> None:
    assert _catalogue(SCHEDULED.format("rentrée")) is not None
    with pytest.raises(CatalogueError) as caught:
        _catalogue(SCHEDULED.format("fin d'année"))
    assert str(caught.value).startswith(
        "limits.toml:15: engagement 'a'.opens: the window opens (fin d'année: 2019-07-06) "
        "after it is due (rentrée: 2018-09-03) in 2018-2019"
    )


@pytest.mark.parametrize("count", [1, 500, 1000])
def test_a_count_up_to_1000_is_accepted(count: int) -> None:
    assert _catalogue(RECURRING.format(count)) is not None


@pytest.mark.parametrize("count", [0, 1001])
def test_a_count_past_its_limits_is_refused_naming_line_and_field(count: int) -> None:
    with pytest.raises(CatalogueError) as caught:
        _catalogue(RECURRING.format(count))
    assert str(caught.value) == (
        "limits.toml:16: engagement 'a'.count: count must be a whole number from 1 to 1000, "
        f"not {count}"
    )


# -- anchors ----------------------------------------------------------------------


def test_a_single_day_off_is_no_holiday_to_anchor_on() -> None:
    # Guadeloupe 2021-2022: the « Pont de l'Ascension » is one day (26 May
    # 2022); a holiday anchor names a stretch of days off.
    zone = school_zone("Guadeloupe")
    with pytest.raises(AnchorError) as caught:
        _holiday(zone, "Pont de l'Ascension", "2021-2022")
    message = str(caught.value)
    assert message.startswith(
        'Guadeloupe, school year 2021-2022: no holiday named "Pont de l\'Ascension"'
    )
    assert "Semaine en mai" in message
    assert "Pont de l'Ascension," not in message.split("its holidays:")[1]
    # A holiday of several days is found.
    found = _holiday(zone, "Semaine en mai", "2021-2022")
    assert (found.first, found.last) == (dt.date(2022, 5, 22), dt.date(2022, 5, 25))


@pytest.mark.parametrize("text", [" rentrée ", "rentrée  ", "\trentrée"])
def test_spaces_around_an_anchor_are_ignored(text: str) -> None:
    assert Anchor.parse(text) == Anchor(AnchorKind.RENTREE)


@pytest.mark.parametrize("text", ["fin d’ année", "fin d'  année", "Fin d'année"])
def test_runs_of_spaces_in_an_anchor_fold_to_one(text: str) -> None:
    assert Anchor.parse(text) == Anchor(AnchorKind.YEAR_END)


# -- logs -------------------------------------------------------------------------

HEADER = "event_id,contact_id,type,occurred_at,channel,recorded_at\n"


def test_a_csv_cell_is_read_without_its_surrounding_spaces(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(HEADER + "E2, C2 ,received,2025-10-01T10:00:00+02:00, email ,\n")
    (row,) = list(read_log(log))
    assert isinstance(row, LogRow)
    assert (row.event.event_id, row.event.contact_id) == ("E2", "C2")
    assert row.event.channel == "email"


def test_a_bad_recorded_at_is_reported_as_that_field(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(HEADER + "E1,C1,received,2025-10-01T10:00:00+02:00,email,not-a-date\n")
    (row,) = list(read_log(log))
    assert isinstance(row, RejectedRow)
    assert row.field == "recorded_at"
    assert row.line == 2
    assert row.reason.startswith("not an ISO 8601 date-time")


def test_a_damaged_gzip_log_names_the_line_it_stopped_at(tmp_path: Path) -> None:
    rows = "".join(f"E{i},C{i},received,2025-10-01T10:00:00+02:00,email,\n" for i in range(1, 3000))
    data = gzip.compress((HEADER + rows).encode(), mtime=0)
    log = tmp_path / "log.csv.gz"
    log.write_bytes(data[: len(data) // 2])
    read: list[object] = []
    with pytest.raises(DamagedLogError) as caught:
        read.extend(read_log(log))  # keeps the rows read before the error
    assert 100 < len(read) < 2999
    assert all(isinstance(r, LogRow) for r in read)
    # The header is line 1 and the rows read are lines 2 to len(read) + 1:
    # the stream broke after that one, on the next.
    last = len(read) + 1
    assert caught.value.line == last + 1  # type: ignore[attr-defined]
    assert f"the compressed file is damaged after line {last} " in str(caught.value)


# -- the columnar and row-by-row replays agree -------------------------------------

CLOCK = dt.datetime(2025, 10, 13, 12, tzinfo=PARIS)


def _both_replays(tmp_path: Path, lines: str) -> list[tuple[object, ...]]:
    """Replay ``lines`` (under a header) row by row, then columnar, each into a new SQLite store.

    For each: the counts, the rejects' lines, the stored events and view rows.
    """
    log = tmp_path / "log.csv"
    log.write_text("event_id,contact_id,type,occurred_at,channel\n" + lines)
    out = []
    for columnar in (False, True):
        store = tmp_path / f"columnar-{columnar}.db"
        engine = SlaEngine("marianne-besancon", "fr", store=str(store), clock=lambda: CLOCK)
        rejects = io.StringIO()
        summary = replay(engine, [log], rejects=rejects, columnar=columnar)
        engine.close()
        events, view = stored_rows(store)
        out.append(
            (
                (summary.rows, summary.recorded, summary.rejected),
                sorted(rejects.getvalue().splitlines()[1:]),
                events,
                view,
            )
        )
    return out


def test_both_replays_refuse_an_answer_past_the_clocks_tolerance(tmp_path: Path) -> None:
    # The clock allows one day ahead: an answer 36 hours ahead is refused.
    row, columnar = _both_replays(
        tmp_path,
        "E1,C1,received,2025-10-01T10:00:00+02:00,email\n"
        "E2,C1,answered,2025-10-15T00:00:00+02:00,\n",
    )
    assert row[0] == columnar[0] == (2, 1, 1)
    assert row == columnar
    assert [e[2] for e in row[2] if e[0] == "C1"] == ["sla_engine._contact:Contact.Received"]


def test_both_replays_store_an_instant_written_minus_zero_alike(tmp_path: Path) -> None:
    # « -00:00 » (RFC 3339: offset unknown) is stored as the row path stores it.
    row, columnar = _both_replays(tmp_path, "E3,C2,received,2025-10-01T10:00:00-00:00,email\n")
    assert row[0] == columnar[0] == (1, 1, 0)
    assert row == columnar
    stored = repr(row[2])
    assert "10:00:00+00:00" in stored
    assert "-00:00" not in stored


def test_both_replays_refuse_an_instant_before_the_first_counted_one(tmp_path: Path) -> None:
    # Five minutes before 1803: earlier than any calendar the engine counts.
    row, columnar = _both_replays(
        tmp_path,
        "E1,C1,received,1802-12-31T23:55:00+00:00,email\n"
        "E2,C2,received,2025-10-01T10:00:00+02:00,email\n",
    )
    assert row[0] == columnar[0] == (2, 1, 1)
    assert row == columnar
    assert {e[0] for e in row[2] if not e[0].startswith("sla-engine:")} == {"C2"}
