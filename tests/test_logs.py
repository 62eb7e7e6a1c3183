"""Reading logs: formats, mapping files, and every way a row can be wrong."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from sla_engine import DataError, SlaEngine
from sla_engine._logs import LogRow, RejectedRow, load_mapping, read_log
from sla_engine._replay import replay

from .engine_support import sample_catalogue

HEADER = (
    "event_id,contact_id,type,occurred_at,recorded_at,channel,category,priority,service,"
    "attributes\n"
)


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def rows(path: Path, **options: object) -> list[LogRow | RejectedRow]:
    return list(read_log(path, **options))  # type: ignore[arg-type]


GOOD = (
    HEADER
    + "E1,C1,received,2025-10-17T16:05:00+02:00,,email,information,normal,DSDEN,\n"
    + "E2,C1,acknowledged,2025-10-17T17:05:00+02:00,,,,,,"
    + '"{""announced_delay"": ""10 jours ouvrés""}"\n'
    + 'E3,C1,answered,2025-10-20T09:00:00+02:00,2025-10-22T09:00:00+02:00,,,,,"{""rings"": 3}"\n'
)


class TestFormats:
    def test_csv(self, tmp_path: Path) -> None:
        got = rows(write(tmp_path, "log.csv", GOOD))
        assert all(isinstance(r, LogRow) for r in got)
        events = [r.event for r in got if isinstance(r, LogRow)]
        assert [e.event_id for e in events] == ["E1", "E2", "E3"]
        assert [r.line for r in got] == [2, 3, 4]
        assert str(events[1].announced_delay) == "10 jours ouvrés"
        assert events[2].recorded_at is not None
        assert events[2].recorded_at.isoformat() == "2025-10-22T09:00:00+02:00"
        assert dict(events[2].attributes) == {"rings": 3}

    def test_semicolons_and_a_byte_order_mark(self, tmp_path: Path) -> None:
        text = "\ufeff" + GOOD.replace(",", ";").replace(
            '""announced_delay""; ""', '""announced_delay"", ""'
        )
        got = rows(write(tmp_path, "log.csv", text))
        assert [r.event.event_id for r in got if isinstance(r, LogRow)] == ["E1", "E2", "E3"]

    def test_gzip_whatever_the_name(self, tmp_path: Path) -> None:
        path = tmp_path / "log.csv"
        path.write_bytes(gzip.compress(GOOD.encode()))
        assert len([r for r in rows(path) if isinstance(r, LogRow)]) == 3

    def test_json_lines(self, tmp_path: Path) -> None:
        lines = [
            {"event_id": "E1", "contact_id": "C1", "type": "received",
             "occurred_at": "2025-10-17T16:05:00+02:00", "channel": "email"},
            {"event_id": "E2", "contact_id": "C1", "type": "answered",
             "occurred_at": "2025-10-18T16:05:00+02:00", "attributes": {"rings": 2}},
        ]  # fmt: skip
        text = "\n".join(json.dumps(line) for line in lines) + "\n\n{broken\n[1, 2]\n"
        got = rows(write(tmp_path, "log.jsonl", text))
        assert [type(r).__name__ for r in got] == ["LogRow", "LogRow", "RejectedRow", "RejectedRow"]
        assert [r.line for r in got] == [1, 2, 4, 5]
        assert "not a JSON object" in str(got[3])

    def test_missing_required_column_stops_with_a_clear_error(self, tmp_path: Path) -> None:
        path = write(tmp_path, "log.csv", "id,contact_id,type,date\n")
        with pytest.raises(
            DataError, match=r"log\.csv:1: the header has no column 'event_id', 'occurred_at'"
        ):
            rows(path)


class TestMapping:
    EXPORT = (
        "numero;dossier;evenement;date;canal;nature\n"
        "1;D-1;Réception;17/10/2025 16:05;Courriel;Réclamation\n"
        "2;D-1;Réponse envoyée;20/10/2025 09:00;;\n"
        "3;D-2;Réception;30/03/2025 02:30;Courrier;\n"
    )
    MAPPING = """
[columns]
event_id = "numero"
contact_id = "dossier"
type = "evenement"
occurred_at = "date"
channel = "canal"
category = "nature"

[values.type]
"Réception" = "received"
"Réponse envoyée" = "answered"

[options]
assume_tz = "Europe/Paris"
occurred_at_format = "%d/%m/%Y %H:%M"
"""

    def test_columns_values_and_french_dates(self, tmp_path: Path) -> None:
        mapping = load_mapping(write(tmp_path, "map.toml", self.MAPPING))
        got = rows(write(tmp_path, "export.csv", self.EXPORT), mapping=mapping)
        first, second, third = got
        assert isinstance(first, LogRow)
        assert isinstance(second, LogRow)
        assert (first.event.type.value, first.event.channel, first.event.category) == (
            "received",
            "email",
            "complaint",
        )
        assert first.event.occurred_at.isoformat() == "2025-10-17T16:05:00+02:00"
        assert second.event.type.value == "answered"
        # 30 March 2025 at 02:30 does not exist in Paris: refused, not guessed.
        assert isinstance(third, RejectedRow)
        assert (third.line, third.field) == (4, "occurred_at")
        assert "does not exist in Europe/Paris" in third.reason
        assert "02:30" not in third.reason  # the reason never repeats the field's content

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("[colums]\nx = 'y'\n", "colums: unknown table"),
            ("[columns]\nwhen = 'date'\n", "columns.when: not a log field"),
            ("[values.colour]\nred = 'blue'\n", "values.colour: values can be mapped"),
            ("[options]\nassume_tz = 'Europe/Atlantis'\n", "options.assume_tz: unknown time zone"),
            ("[options]\nencoding = 'klingon'\n", "options.encoding: unknown encoding"),
            ("[options]\ntimezone = 'UTC'\n", "options.timezone: unknown option"),
            ("[columns\n", "cannot read the mapping file"),
        ],
    )
    def test_bad_mapping_files(self, tmp_path: Path, text: str, message: str) -> None:
        with pytest.raises(DataError, match=message):
            load_mapping(write(tmp_path, "map.toml", text))


T = "2025-10-20T10:00:00+02:00"
MALFORMED = [
    ("bad timestamp", "E9,C1,answered,17/10/2025,,,,,,", "occurred_at", "not an ISO 8601"),
    ("naive timestamp", "E9,C1,answered," + T[:19] + ",,,,,,", "occurred_at", "no UTC offset"),
    ("empty timestamp", "E9,C1,answered,,,,,,,", "occurred_at", "missing"),
    ("unknown type", "E9,C1,anwsered," + T + ",,,,,,", "type", "unknown event type"),
    ("missing contact", "E9,,answered," + T + ",,,,,,", "contact_id", "missing"),
    ("missing event id", ",C1,answered," + T + ",,,,,,", "event_id", "missing"),
    ("received without channel", "E9,C9,received," + T + ",,,,,,", "channel", "needs a channel"),
    ("broken JSON", "E9,C1,answered," + T + ",,,,,,{oops", "attributes", "not a JSON object"),
    ("JSON not an object", "E9,C1,answered," + T + ",,,,,,[1]", "attributes", "not a JSON object"),
    ("unknown channel", "E9,C9,received," + T + ",,pigeon,,,,", "channel", "unknown channel"),
    ("too few columns", "E9,C1,answered", None, "3 columns where the header has 10"),
    ("too many columns", "E9,C1,answered," + T + ",,,,,,,,x", None, "12 columns where the"),
    ("oversized field", "E9,C1,answered," + T + ",,,,," + "x" * 5000 + ",", "service", "longer"),
]  # fmt: skip


class TestMalformedRows:
    @pytest.mark.parametrize(
        ("kind", "line", "field", "reason"), MALFORMED, ids=[m[0] for m in MALFORMED]
    )
    def test_each_kind_is_rejected_and_the_rest_kept(
        self, tmp_path: Path, kind: str, line: str, field: str | None, reason: str
    ) -> None:
        got = rows(write(tmp_path, "log.csv", GOOD + line + "\n" + GOOD.splitlines()[2] + "\n"))
        rejected = [r for r in got if isinstance(r, RejectedRow)]
        assert len(rejected) == 1, kind
        assert rejected[0].line == 5
        assert rejected[0].field == field
        assert reason in rejected[0].reason
        # Never what the row holds (docs/security.md): its line is enough to find it.
        assert "2025-10-20" not in rejected[0].reason
        assert len([r for r in got if isinstance(r, LogRow)]) == 4

    def test_wrong_encoding_is_a_rejected_line(self, tmp_path: Path) -> None:
        data = (
            GOOD.encode()
            + "E9,C1,answered,2025-10-20T10:00:00+02:00,,,,,Secr\xe9tariat,\n".encode("latin-1")
        )
        got = rows(write(tmp_path, "log.csv", data))
        (rejected,) = [r for r in got if isinstance(r, RejectedRow)]
        assert rejected.line == 5
        assert "not valid utf-8 text" in rejected.reason

    def test_oversized_row_is_refused_unread(self, tmp_path: Path) -> None:
        data = GOOD + "E9,C1,answered,2025-10-20T10:00:00+02:00,,,,,," + "y" * 70_000 + "\n"
        got = rows(write(tmp_path, "log.csv", data))
        (rejected,) = [r for r in got if isinstance(r, RejectedRow)]
        assert "longer than 64 KiB" in rejected.reason

    def test_rejections_never_carry_the_row(self, tmp_path: Path) -> None:
        personal = "Mme Dupont, 12 rue des Lilas"
        line = f'E9,C1,anwsered,2025-10-20T10:00:00+02:00,,,,,,"{{""note"": ""{personal}""}}"'
        got = rows(write(tmp_path, "log.csv", GOOD + line + "\n"))
        (rejected,) = [r for r in got if isinstance(r, RejectedRow)]
        assert personal not in str(rejected)


class TestReplay:
    def test_bad_rows_to_the_rejects_file_good_rows_recorded(self, tmp_path: Path) -> None:
        lines = [m[1] for m in MALFORMED] + [
            "E20,C1,resumed,2025-10-21T10:00:00+02:00,,,,,,",  # no suspension before it
            "E21,C7,answered,2025-10-21T10:00:00+02:00,,,,,,",  # a contact never received
            "E3,C1,answered,2025-10-21T10:00:00+02:00,,,,,,",  # E3 again, other content
        ]
        path = write(tmp_path, "log.csv", GOOD + "\n".join(lines) + "\n")
        engine = SlaEngine(sample_catalogue(), "fr")
        out = io.StringIO()
        summary = replay(engine, [path], rejects=out)
        assert (summary.rows, summary.recorded, summary.duplicates) == (19, 3, 0)
        assert summary.rejected == 16
        rejects = out.getvalue().splitlines()
        assert rejects[0] == "source,line,event_id,field,reason"
        assert len(rejects) == 17
        by_line = {int(r.split(",")[1]): r for r in rejects[1:]}
        assert "'resumed' without a 'suspended'" in by_line[18]
        assert "first recorded event must be 'received'" in by_line[19]
        assert "already recorded with other content" in by_line[20]
        assert [e.event_id for e in engine.history("C1")] == ["E1", "E2", "E3"]

    def test_a_late_received_row_is_waited_for(self, tmp_path: Path) -> None:
        # The answer comes first in the file; the letter was scanned later.
        text = (
            HEADER
            + "E2,C1,answered,2025-10-20T09:00:00+02:00,,,,,,\n"
            + "E1,C1,received,2025-10-17T16:05:00+02:00,2025-10-21T09:00:00+02:00,letter,,,,\n"
        )
        engine = SlaEngine(sample_catalogue(), "fr")
        summary = replay(engine, [write(tmp_path, "log.csv", text)], batch_size=1)
        assert (summary.recorded, summary.rejected) == (2, 0)
        assert [e.type.value for e in engine.history("C1")] == ["received", "answered"]

    def test_replaying_again_records_nothing_twice(self, tmp_path: Path) -> None:
        path = write(tmp_path, "log.csv", GOOD)
        store = f"sqlite:///{tmp_path / 'store.db'}"
        first = replay(SlaEngine(sample_catalogue(), "fr", store=store), [path])
        again = replay(SlaEngine(store=store), [path])
        assert (first.recorded, first.duplicates) == (3, 0)
        assert (again.recorded, again.duplicates) == (0, 3)


# -- a rejected row names the field that is wrong -----------------------------------------


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("a1,A,received,2025-03-03T09:00:00+01:00,,pigeon,,,,", "channel"),
        ("a2,A,received,2025-03-03T09:00:00+01:00,,email,,high,,", "priority"),
        (
            "a4,A,acknowledged,2025-03-03T09:00:00+01:00,,,,,,"
            '"{""announced_delay"": ""dix jours""}"',
            "announced_delay",
        ),
        ("a7,A,received,2025-03-03T09:00:00+01:00,,,,,,", "channel"),
    ],
)
def test_a_rejected_row_names_its_wrong_field(tmp_path: Path, row: str, field: str) -> None:
    log = tmp_path / "log.csv"
    log.write_text(HEADER + row + "\n")
    (rejected,) = list(read_log(log))
    assert isinstance(rejected, RejectedRow)
    assert rejected.field == field


def test_json_lines_with_a_byte_order_mark_are_known_by_their_content(tmp_path: Path) -> None:
    line = json.dumps(
        {
            "event_id": "1",
            "contact_id": "A",
            "type": "received",
            "occurred_at": "2025-03-03T09:00:00+01:00",
            "channel": "email",
        }
    )
    for name in ("export.jsonl", "export.log"):
        log = tmp_path / name
        log.write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n")
        (row,) = list(read_log(log))
        assert isinstance(row, LogRow), name
        assert row.event.event_id == "1"
