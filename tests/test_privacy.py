"""Privacy: pseudonymised requesters, no free text, encryption at rest, on every backend."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sla_engine import DataError, SlaEngine, SlaEngineError
from sla_engine._contact import ContactEvent
from sla_engine._engine import Rejected
from sla_engine._privacy import (
    MAX_CODE_LENGTH,
    key_ref,
    looks_like_free_text,
    pseudonym,
    pseudonyms_to_forget,
)

from .engine_support import at

KEY = b"a key held by the embedding service"
IDENTITY = "marie.dupont@example.org"


def received(**fields: object) -> dict[str, object]:
    return {
        "event_id": "E-1",
        "contact_id": "C-1",
        "type": "received",
        "occurred_at": at(2025, 11, 7),
        "channel": "email",
        **fields,
    }


class TestPseudonyms:
    def test_the_identity_is_never_stored(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(pseudonym_key=KEY)
        engine.record(received(requester=IDENTITY))
        (event,) = engine.history("C-1")
        assert event.requester is not None
        assert event.requester.startswith("e:")  # sealed with the requester's own key
        assert pseudonym(IDENTITY, KEY) not in event.requester
        assert engine.requester_of(event) == pseudonym(IDENTITY, KEY)
        assert IDENTITY not in repr(event)

    def test_the_same_person_has_the_same_pseudonym(self) -> None:
        assert pseudonym(IDENTITY, KEY) == pseudonym(f" {IDENTITY} ", KEY)
        assert pseudonym(IDENTITY, KEY) != pseudonym(IDENTITY, b"another key")
        assert pseudonym(IDENTITY, KEY) != pseudonym("jean.martin@example.org", KEY)

    @pytest.mark.parametrize(
        "written",
        [
            "Marie.Dupont@Example.org",
            "MARIE.DUPONT@EXAMPLE.ORG",
            " marie.dupont@example.org\t",
        ],
    )
    def test_one_person_written_another_way_is_one_person(self, written: str) -> None:
        assert pseudonym(written, KEY) == pseudonym(IDENTITY, KEY)

    def test_accents_composed_or_not_and_inner_spaces(self) -> None:
        composed, decomposed = "Élodie Müller", "E\u0301lodie  Mu\u0308ller"
        assert composed != decomposed
        assert pseudonym(composed, KEY) == pseudonym(decomposed, KEY)
        assert pseudonym("élodie müller", KEY) == pseudonym(composed, KEY)
        assert pseudonym("elodie muller", KEY) != pseudonym(composed, KEY)

    def test_forgetting_covers_every_way_the_person_was_written(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(pseudonym_key=KEY)
        engine.record_many(
            [
                received(requester="Marie.Dupont@Example.org"),
                received(requester="marie.dupont@example.org")
                | {"event_id": "F-1", "contact_id": "C-2"},
            ]
        )
        assert engine.forget(IDENTITY.upper()) is True
        for contact in ("C-1", "C-2"):
            assert engine.requester_of(engine.history(contact)[0]) is None

    def test_forgetting_finds_a_pseudonym_stored_before_identities_were_folded(
        self, make_engine
    ) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(pseudonym_key=KEY)
        written = "Marie.Dupont@Example.org"
        # As an earlier version filed its key: the identity as given, trimmed.
        legacy = pseudonyms_to_forget(written, KEY)[1]
        key_id, _ = engine.view.requester_key(key_ref(legacy))
        assert engine.view.find_requester_key(key_id) is not None
        assert engine.forget(written) is True
        assert engine.view.find_requester_key(key_id) is None

    def test_a_refused_events_repr_does_not_name_the_person(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()  # no pseudonymisation key: the event is refused as it came
        result = engine.record_many([received(requester=IDENTITY)], atomic=False)
        (rejected,) = result.rejected
        assert IDENTITY not in repr(rejected)
        assert IDENTITY not in repr(result)
        assert "requester='…'" in repr(rejected.event)

    def test_a_refused_mappings_repr_shows_field_names_not_what_they_hold(
        self, make_engine
    ) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        given = {
            "event_id": "E1",
            "contact_id": "C1",
            "type": "received",
            "occurred_at": dt.datetime(2025, 11, 3, 10),  # naive: refused as it came
            "channel": "email",
            "requester": IDENTITY,
            "attributes": {"note": "appel de Mme Dupont, victime de violences"},
        }
        (rejected,) = engine.record_many([given], atomic=False).rejected
        shown = repr(rejected)
        assert IDENTITY not in shown
        assert "Dupont" not in shown
        assert "'event_id': 'E1', 'contact_id': 'C1', 'type': 'received'" in shown
        assert "'requester': …" in shown
        (odd,) = engine.record_many([given | {"Mme Dupont": 1}], atomic=False).rejected
        assert "Dupont" not in repr(odd)
        assert "… 1 other key(s)" in repr(odd)

    def test_a_value_of_the_wrong_type_is_named_with_its_field(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        given = received() | {"occurred_at": "2025-11-05T10:00:00+01:00"}
        with pytest.raises(DataError, match="occurred_at must be a datetime, not str"):
            engine.record(given)
        for field in ("type", "channel", "priority", "category"):
            with pytest.raises(DataError, match=f"^{field}: must be text, not list$"):
                engine.record(received() | {field: ["Mme Dupont"]})

    def test_no_key_no_requester(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        with pytest.raises(DataError, match="no pseudonymisation key"):
            engine.record(received(requester=IDENTITY))
        result = engine.record_many([received(requester=IDENTITY)], atomic=False)
        assert isinstance(result.outcomes[0], Rejected)
        assert engine.all_timers(now=at(2025, 11, 8)) == []


class TestFreeText:
    def test_prose_is_dropped_codes_are_kept(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine()
        engine.record(
            received(
                attributes={
                    "subject": "Ma fille est harcelée à l'école",
                    "rings": 3,
                    "code": "B12",
                },
                reason="la famille traverse une période difficile",
            )
        )
        (event,) = engine.history("C-1")
        assert dict(event.attributes) == {"code": "B12", "rings": 3}
        assert event.reason is None

    def test_kept_when_asked(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(keep_free_text=True)
        engine.record(received(attributes={"subject": "Demande de bourse"}))
        assert engine.history("C-1")[0].attributes == {"subject": "Demande de bourse"}

    @pytest.mark.parametrize("space", [" ", "\t", "\u00a0", "\u2009", "\u3000", "\x1c", "\u2028"])
    def test_every_kind_of_space_makes_prose(self, space: str) -> None:
        # Words joined by a no-break or thin space are prose all the same.
        assert looks_like_free_text(f"victime{space}de")
        assert not looks_like_free_text("victime-de")

    @pytest.mark.parametrize(
        ("attributes", "field"),
        [
            ({"Mme Marie Dupont, victime de harcèlement": ["oui"]}, "attributes"),
            ({("Marie Dupont", "harcèlement"): 1}, "attributes"),
            ({"rings": ["Marie Dupont"]}, "attributes.rings"),
            # A name that is no prose but no catalogue's name either: an address.
            ({"marie.dupont@example.org": ["harcèlement"]}, "attributes"),
        ],
    )
    def test_an_attributes_error_names_no_prose(self, attributes: object, field: str) -> None:
        with pytest.raises(DataError) as caught:
            ContactEvent(**received(attributes=attributes))  # type: ignore[arg-type]
        assert caught.value.field == field
        for secret in ("Dupont", "harcèlement"):
            assert secret not in str(caught.value)

    @given(st.text(alphabet=st.characters(codec="utf-8"), max_size=50))
    def test_prose_is_text_with_a_space_or_longer_than_a_code(self, value: str) -> None:
        expected = len(value) > MAX_CODE_LENGTH or any(c.isspace() for c in value)
        assert looks_like_free_text(value) is expected


PERSONALS = ("DSDEN-TRES-PERSONAL", "E-PERSONAL-42", "harcelement")


def _record_secrets(engine: SlaEngine) -> None:
    engine.record(
        {
            "event_id": "E-PERSONAL-42",
            "contact_id": "C-1",
            "type": "received",
            "occurred_at": at(2025, 11, 7),
            "channel": "email",
            "category": "harcelement",
            "service": "DSDEN-TRES-PERSONAL",
            "requester": IDENTITY,
        }
    )
    engine.record(
        {
            "event_id": "E-2",
            "contact_id": "C-1",
            "type": "answered",
            "occurred_at": at(2025, 11, 10),
        }
    )


CIPHER_KEY = base64.b64encode(os.urandom(32)).decode()


class TestEncryptionAtRest:
    def test_sqlite_file_holds_no_plaintext(self, tmp_path: Path) -> None:
        store = tmp_path / "store.db"
        engine = SlaEngine("marianne-besancon", "fr", store=f"sqlite:///{store}",
                           cipher_key=CIPHER_KEY, pseudonym_key=KEY)  # fmt: skip
        _record_secrets(engine)
        assert engine.history("C-1")[0].service == "DSDEN-TRES-PERSONAL"  # readable with the key
        assert {t.engagement_id for t in engine.timers("C-1", now=at(2025, 11, 20))} == {"email-5"}
        engine.close()
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))  # with the WAL
        for secret in (*PERSONALS, IDENTITY, pseudonym(IDENTITY, KEY)):
            assert secret.encode() not in raw, secret
        # The same store without the key cannot be read.
        with pytest.raises(Exception):  # noqa: B017, PT011 - eventsourcing decides the type
            SlaEngine(store=f"sqlite:///{store}").history("C-1")
        reopened = SlaEngine(store=f"sqlite:///{store}", cipher_key=CIPHER_KEY)
        assert reopened.history("C-1")[0].category == "harcelement"

    def test_postgresql_tables_hold_no_plaintext(self, postgres_store: str) -> None:
        engine = SlaEngine("marianne-besancon", "fr", store=postgres_store,
                           cipher_key=CIPHER_KEY, pseudonym_key=KEY)  # fmt: skip
        _record_secrets(engine)
        engine.close()
        with psycopg.connect(postgres_store) as db:
            tables = [r[0] for r in db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )]  # fmt: skip
            dumped = ""
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from the catalog
                    dumped += repr(row)
        assert "sla_timers" in tables
        for secret in (*PERSONALS, IDENTITY, pseudonym(IDENTITY, KEY)):
            assert secret not in dumped, secret
            assert secret.encode().hex() not in dumped, secret

    def test_an_encrypted_view_needs_the_key(self, tmp_path: Path) -> None:
        store = f"sqlite:///{tmp_path / 'store.db'}"
        engine = SlaEngine("marianne-besancon", "fr", store=store, cipher_key=CIPHER_KEY)
        engine.record(received())
        view = engine.view
        view.cipher = None
        with pytest.raises(SlaEngineError, match="the timer view is encrypted"):
            view.contact_timers("C-1")


class TestErasure:
    def test_forgetting_a_requester_keeps_every_figure(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(pseudonym_key=KEY)
        engine.record_many(
            [
                received(requester=IDENTITY),
                {"event_id": "E-2", "contact_id": "C-1", "type": "answered",
                 "occurred_at": at(2025, 11, 20)},
                received(requester="jean.martin@example.org")
                | {"event_id": "F-1", "contact_id": "C-2"},

            ]
        )  # fmt: skip
        now = at(2025, 12, 1)
        before = [t.to_dict() for t in engine.all_timers(now=now)]
        assert engine.forget(IDENTITY) is True
        assert engine.forget(IDENTITY) is False  # already forgotten
        (first, _) = engine.history("C-1")
        assert engine.requester_of(first) is None  # unreadable now
        assert first.requester is not None
        assert pseudonym(IDENTITY, KEY) not in first.requester
        # The other requester is untouched; timers did not move.
        assert engine.requester_of(engine.history("C-2")[0]) == pseudonym(
            "jean.martin@example.org", KEY
        )
        assert [t.to_dict() for t in engine.all_timers(now=now)] == before
        engine.rebuild_view()
        assert [t.to_dict() for t in engine.all_timers(now=now)] == before
        # Recording the same event again is still a duplicate, not a new person.
        assert engine.record(received(requester=IDENTITY)).value == "duplicate"

    def test_the_key_is_gone_from_the_sqlite_files(self, tmp_path: Path) -> None:
        store = tmp_path / "store.db"
        engine = SlaEngine("marianne-besancon", "fr", store=f"sqlite:///{store}", pseudonym_key=KEY)
        engine.record(received(requester=IDENTITY))
        sealed = engine.history("C-1")[0].requester
        assert sealed is not None
        key = engine.view.find_requester_key(sealed.split(":")[1])
        assert key is not None
        assert key in b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))
        assert engine.forget(IDENTITY)
        engine.close()
        raw = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))
        assert key not in raw
        assert sealed.encode() in raw  # the log itself is unchanged (append-only)

    @pytest.mark.parametrize("atomic", [True, False])
    def test_a_refused_event_leaves_no_key(self, make_engine, atomic: bool) -> None:  # type: ignore[no-untyped-def]
        """Nothing of the requester is stored, so the engine does not know them."""
        engine = make_engine(pseudonym_key=KEY)
        orphan = {"event_id": "Z-1", "contact_id": "Z", "type": "answered",
                  "occurred_at": at(2025, 11, 8), "requester": IDENTITY}  # fmt: skip
        if atomic:
            with pytest.raises(SlaEngineError, match="must be 'received'"):
                engine.record(orphan)
        else:
            assert len(engine.record_many([orphan], atomic=False).rejected) == 1
        assert engine.forget(IDENTITY) is False

    def test_a_batch_refused_whole_leaves_no_key(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(pseudonym_key=KEY)
        orphan = {"event_id": "Z-1", "contact_id": "Z", "type": "answered",
                  "occurred_at": at(2025, 11, 8)}  # fmt: skip
        with pytest.raises(SlaEngineError, match="must be 'received'"):
            engine.record_many([received(requester=IDENTITY), orphan])
        assert engine.forget(IDENTITY) is False
        # Recorded, the same event makes the key, and the history holds it sealed.
        engine.record(received(requester=IDENTITY))
        (event,) = engine.history("C-1")
        assert event.requester is not None
        assert event.requester.startswith("e:")
        assert engine.requester_of(event) == pseudonym(IDENTITY, KEY)
        assert engine.forget(IDENTITY) is True

    def test_a_duplicate_after_forgetting_makes_no_new_key(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        engine = make_engine(pseudonym_key=KEY)
        engine.record(received(requester=IDENTITY))
        assert engine.forget(IDENTITY) is True
        assert engine.record(received(requester=IDENTITY)).value == "duplicate"
        assert engine.forget(IDENTITY) is False  # no key was made again
        assert engine.requester_of(engine.history("C-1")[0]) is None

    @pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
    def test_an_event_sent_again_to_a_new_engine_after_forgetting_makes_no_key(
        self, make_engine
    ) -> None:  # type: ignore[no-untyped-def]
        """A restart, or a log replayed again: the contact is not in memory.

        It was taken for new, its requester's key made, and only then was its
        event found stored (a duplicate): the key stayed, for a person the
        store keeps nothing more of, and so did one for another requester
        named by an event sent again under the same id.
        """
        make_engine(pseudonym_key=KEY).record(received(requester=IDENTITY))
        assert make_engine(pseudonym_key=KEY).forget(IDENTITY) is True
        again = make_engine(pseudonym_key=KEY)
        assert again.record(received(requester=IDENTITY)).value == "duplicate"
        assert again.record(received(requester="someone.else@example.org")).value == "duplicate"
        assert again.forget(IDENTITY) is False
        assert again.forget("someone.else@example.org") is False
        # A contact truly new still makes its key.
        assert again.record(received(contact_id="C-2", requester=IDENTITY)).value == "recorded"
        assert again.forget(IDENTITY) is True

    def test_forget_waits_for_readers_then_says_the_erasure_is_not_complete(
        self, tmp_path: Path
    ) -> None:
        """A review reading in another process kept the key's page in the files.

        The checkpoint ran inside a transaction of its own and its failure was
        ignored: ``forget()`` answered ``True`` with the key's bytes on disk.
        """
        import sqlite3

        store = tmp_path / "store.db"
        engine = SlaEngine("marianne-besancon", "fr", store=f"sqlite:///{store}", pseudonym_key=KEY)
        engine.record(received(requester=IDENTITY))
        sealed = engine.history("C-1")[0].requester
        assert sealed is not None
        key = engine.view.find_requester_key(sealed.split(":")[1])
        assert key is not None

        def on_disk() -> bool:
            return key in b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))

        reader = sqlite3.connect(store, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM stored_events").fetchone()
        engine.view.erase_timeout = 0.2
        with pytest.raises(SlaEngineError, match="call forget\\(\\) again"):
            engine.forget(IDENTITY)
        assert on_disk()
        reader.execute("COMMIT")
        reader.close()
        assert engine.forget(IDENTITY) is False  # the key was deleted already...
        assert not on_disk()  # ...and now its bytes are gone, the engine still open
        engine.close()

    def test_prose_in_a_list_or_a_mapping_is_refused(self) -> None:
        for field in ("to", "reason", "service", "requester"):
            with pytest.raises(DataError, match=f"{field}: must be text, not list"):
                ContactEvent(**{**received(), field: ["Mme Durand, victime de violences"]})  # type: ignore[arg-type]

    def test_forget_needs_a_pseudonymisation_key(self, make_engine) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(SlaEngineError, match="no pseudonymisation key"):
            make_engine().forget(IDENTITY)


# -- rejects and errors never repeat what a row holds ----------------------------------

PERSONAL = "Mme Dupont harcelee par son ex-mari"


def _leaky_rows() -> list[dict[str, object]]:
    base = {"occurred_at": "2025-10-06T10:00:00+02:00"}
    return [
        {**base, "event_id": "E1", "contact_id": "C1", "type": "received", "channel": "email"},
        {**base, "event_id": "E2", "contact_id": "C1", "type": "acknowledged",
         "attributes": {"announced_delay": "3 semaines, " + PERSONAL}},
        {**base, "event_id": "E3", "contact_id": "C2", "type": "received", "channel": PERSONAL},
        {**base, "event_id": "E4", "contact_id": "C3", "type": "received", "channel": "email",
         "priority": PERSONAL},
        {**base, "event_id": "E5", "contact_id": "C3", "type": PERSONAL},
        {"event_id": "E6", "contact_id": "C4", "type": "received", "occurred_at": PERSONAL,
         "channel": "email"},
        {**base, "event_id": "E9", "contact_id": "C7", "type": "received", "channel": "email",
         "recorded_at": PERSONAL},
    ]  # fmt: skip


@pytest.mark.parametrize("form", ["jsonl", "csv-rows", "csv-columns"])
def test_a_rejects_file_never_repeats_a_rows_values(tmp_path: Path, form: str) -> None:
    import csv
    import io

    from sla_engine._replay import replay

    rows = _leaky_rows()
    if form == "jsonl":
        log = tmp_path / "log.jsonl"
        log.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    else:
        log = tmp_path / "log.csv"
        names = ["event_id", "contact_id", "type", "occurred_at", "recorded_at", "channel",
                 "priority", "attributes"]  # fmt: skip
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(names)
        for r in rows:
            writer.writerow(
                [json.dumps(r[n]) if n == "attributes" and n in r else r.get(n, "") for n in names]
            )
        log.write_text(out.getvalue())
    engine = SlaEngine("marianne-besancon", "fr", store="memory")
    rejects = io.StringIO()
    summary = replay(engine, [log], rejects=rejects, columnar=form == "csv-columns")
    assert (summary.recorded, summary.rejected) == (1, 6)
    text = rejects.getvalue()
    assert "Dupont" not in text
    fields = sorted(r["field"] for r in csv.DictReader(io.StringIO(text)))
    assert fields == sorted(
        ["announced_delay", "channel", "priority", "type", "occurred_at", "recorded_at"]
    )
    engine.close()


@pytest.mark.parametrize("columnar", [False, True])
def test_a_rule_breach_is_rejected_without_its_instants(tmp_path: Path, columnar: bool) -> None:
    """Events in the future, out of the calendars' years, before their receipt."""
    import io

    from sla_engine._replay import replay

    log = tmp_path / "log.csv"
    log.write_text(
        "event_id,contact_id,type,occurred_at,channel\n"
        "F1,F,received,2031-03-04T10:11:12+01:00,email\n"
        "O1,O,received,1700-03-04T10:11:12+01:00,email\n"
        "B1,B,received,2025-10-06T10:11:12+02:00,email\n"
        "B2,B,answered,2025-10-05T09:08:07+02:00,\n"
    )
    engine = SlaEngine("marianne-besancon", "fr", store="memory", clock=lambda: at(2025, 11, 7))
    rejects = io.StringIO()
    summary = replay(engine, [log], rejects=rejects, columnar=columnar)
    assert (summary.recorded, summary.rejected) == (1, 3)
    text = rejects.getvalue()
    for instant in ("2031", "10:11:12", "1700", "09:08:07", "2025-10-0", "2025-11-07"):
        assert instant not in text
    assert "more than a day after the moment it is recorded" in text
    assert "outside the years the calendars cover (1803–2100)" in text
    assert "'answered' would happen before the contact was received" in text
    engine.close()


def test_a_site_logs_rejects_never_repeat_its_values(tmp_path: Path) -> None:
    import csv
    import io

    from .replay_support import site_log_rejects

    _, rejects = site_log_rejects(
        tmp_path,
        "E1",
        [
            "X1,E1,visited,2025-09-10T10:00:00+02:00,passage",
            f"X2,E1,{PERSONAL},2025-09-10T10:00:00+02:00,passage",
            f"X3,E1,visited,{PERSONAL},passage",
            f"X4,{PERSONAL},visited,2025-09-10T10:00:00+02:00,passage",
        ],
    )
    assert "Dupont" not in rejects
    fields = [r[3] for r in csv.reader(io.StringIO(rejects))]
    assert fields == ["type", "occurred_at", "site"]


@pytest.mark.parametrize(
    "fields",
    [
        {"channel": PERSONAL},
        {"channel": "email", "priority": PERSONAL},
        {"channel": "email", "type": PERSONAL},
        {"channel": "email", "announced_delay": "3 semaines, " + PERSONAL},
    ],
    ids=str,
)
def test_an_events_error_names_its_field_not_its_value(fields: dict[str, str]) -> None:
    import datetime as dt

    from sla_engine import ContactEvent, SlaEngineError

    values: dict[str, object] = {
        "event_id": "1",
        "contact_id": "C",
        "type": "received",
        "occurred_at": dt.datetime(2025, 10, 6, 10, tzinfo=dt.UTC),
        **fields,
    }
    with pytest.raises(SlaEngineError) as caught:
        ContactEvent(**values)  # type: ignore[arg-type]
    assert "Dupont" not in str(caught.value)
    (field,) = [name for name, value in fields.items() if PERSONAL in value]
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize("columnar", [False, True])
def test_an_attribute_named_in_prose_is_not_stored(tmp_path: Path, columnar: bool) -> None:
    import io

    from sla_engine._replay import replay

    log = tmp_path / "log.csv"
    attributes = json.dumps({PERSONAL: True, "rings": 3}).replace('"', '""')
    log.write_text(
        "event_id,contact_id,type,occurred_at,channel,attributes\n"
        f'E1,C1,received,2025-10-06T10:00:00+02:00,phone,"{attributes}"\n'
    )
    engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / "s.db"))
    replay(engine, [log], rejects=io.StringIO(), columnar=columnar)
    (event,) = engine.history("C1")
    assert dict(event.attributes) == {"rings": 3}
    engine.close()
    assert b"Dupont" not in (tmp_path / "s.db").read_bytes()


def test_an_unknown_field_of_a_mapping_is_counted_not_quoted(make_engine) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine()
    with pytest.raises(DataError) as caught:
        engine.record(received(**{"Marie Dupont": "harcèlement"}))
    assert "1 unknown field(s); the fields are event_id, contact_id, type" in str(caught.value)
    assert "Dupont" not in str(caught.value)
    with pytest.raises(DataError, match=r"missing field\(s\) occurred_at$"):
        engine.record({"event_id": "E", "contact_id": "C", "type": "received"})


def test_an_empty_file_made_beforehand_becomes_its_owners_alone(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    store.touch(mode=0o644)
    store.chmod(0o644)  # whatever the umask
    engine = SlaEngine("qualicirco", "fr+B", store=f"sqlite:///{store}")
    engine.record(received(channel="courriel"))
    engine.close()
    assert store.stat().st_mode & 0o777 == 0o600


def test_store_and_rejects_files_are_their_owners_alone(tmp_path: Path) -> None:
    """They were created by the umask (0644 here): readable by every account."""
    from sla_engine.cli import main

    log = tmp_path / "log.csv"
    log.write_text(
        "event_id,contact_id,type,occurred_at,channel\n"
        "=HYPERLINK(1),A,received,2025-11-03T10:00:00+01:00,emial\n"
        "2,B,answered,2025-11-03T10:00:00+01:00,\n",
        encoding="utf-8",
    )
    store, rejects = tmp_path / "s.db", tmp_path / "rejects.csv"
    command = ["replay", str(log), "--catalogue", "qualicirco", "--store", str(store)]
    assert main([*command, "--rejects", str(rejects)]) == 0
    assert store.stat().st_mode & 0o777 == 0o600
    assert rejects.stat().st_mode & 0o777 == 0o600
    lines = rejects.read_text(encoding="utf-8").splitlines()
    # The formula is quoted; a rule's reason does not repeat the contact's id.
    assert lines[1].startswith(f"{log},2,'=HYPERLINK(1),channel,")
    assert lines[2].startswith(f"{log},3,2,type,")
    assert "'B'" not in lines[2]


def test_a_rejects_files_reasons_never_repeat_the_ids(tmp_path: Path) -> None:
    # docs/security.md: the file names the row and its event; the reason says why only.
    import csv

    from sla_engine.cli import main

    from .conftest import REPO

    sample = REPO / "docs" / "examples" / "district-2025-2026.csv.gz"
    rejects = tmp_path / "rejects.csv"
    assert main(["replay", str(sample), "--catalogue", "qualicirco", "--calendar", "fr+B",
                 "--store", str(tmp_path / "s.db"), "--rejects", str(rejects)]) == 0  # fmt: skip
    with rejects.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 34
    assert {r["field"] for r in rows} >= {"channel"}
    for row in rows:
        assert not row["event_id"] or row["event_id"] not in row["reason"], row


def test_an_encrypted_store_opened_without_its_key_says_so(tmp_path: Path) -> None:
    import base64 as b64

    store = f"sqlite:///{tmp_path / 's.db'}"
    key = b64.b64encode(os.urandom(32)).decode()
    SlaEngine("marianne-besancon", "fr", store=store, cipher_key=key).close()
    for wrong in (None, b64.b64encode(os.urandom(32)).decode()):
        with pytest.raises(SlaEngineError, match="encrypted or compressed, and its key is not"):
            SlaEngine(store=store, cipher_key=wrong)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", "paul.martin@example.org"),
        ("service", "jean.moreau@example.org"),
        ("service", "06 12 34 56 78"),
        ("category", "+33612345678"),
    ],
)
def test_a_classification_holding_contact_details_is_refused_unquoted(
    field: str, value: str
) -> None:
    """Categories and services are stored as written and shown in grouped reviews."""
    with pytest.raises(DataError) as caught:
        ContactEvent(
            event_id="1",
            contact_id="C",
            type="received",
            occurred_at=dt.datetime(2025, 10, 6, 10, tzinfo=dt.UTC),
            channel="email",
            **{field: value},
        )
    assert str(caught.value).startswith(f"{field}: looks like an e-mail address or a telephone")
    assert value not in str(caught.value)


@pytest.mark.parametrize(
    "code", ["pieces", "N+1", "multi-services", "SVC-2025-0001", "20250901123"]
)
def test_a_code_is_no_contact_detail(code: str) -> None:
    event = ContactEvent(
        event_id="1",
        contact_id="C",
        type="received",
        occurred_at=dt.datetime(2025, 10, 6, 10, tzinfo=dt.UTC),
        channel="email",
        service=code,
        reason=code,
    )
    assert (event.service, event.reason) == (code, code)


@pytest.mark.parametrize("columnar", [False, True])
def test_contact_details_are_never_stored_nor_reported(tmp_path: Path, columnar: bool) -> None:
    """An e-mail address or a telephone number in a code's place: a classification
    is refused (the row rejected, unquoted); in ``to``, ``reason`` or an attribute
    it is dropped, as prose is, and the row recorded."""
    import csv
    import io

    from sla_engine._replay import replay
    from sla_engine._report import build_report

    log = tmp_path / "log.csv"
    attributes = json.dumps(
        {"to": "chef@example.org", "reason": "+33612345678", "rappel": "0612345678", "rings": 3}
    ).replace('"', '""')
    log.write_text(
        "event_id,contact_id,type,occurred_at,channel,category,service,attributes\n"
        "E1,C1,received,2025-10-06T10:00:00+02:00,email,paul.martin@example.org,,\n"
        "E2,C2,received,2025-10-06T10:00:00+02:00,email,,06.12.34.56.78,\n"
        "E3,C3,received,2025-10-06T10:00:00+02:00,email,information,,\n"
        f'E4,C3,escalated,2025-10-07T10:00:00+02:00,,,,"{attributes}"\n'
    )
    engine = SlaEngine("marianne-besancon", "fr", store=str(tmp_path / "s.db"))
    rejects = io.StringIO()
    summary = replay(engine, [log], rejects=rejects, columnar=columnar)
    assert (summary.recorded, summary.rejected) == (2, 2)
    fields = sorted(r["field"] for r in csv.DictReader(io.StringIO(rejects.getvalue())))
    assert fields == ["category", "service"]
    escalated = engine.history("C3")[1]
    assert (escalated.to, escalated.reason) == (None, None)
    assert dict(escalated.attributes) == {"rings": 3}
    report = json.dumps(build_report(engine, by=["category", "service"]), default=str)
    engine.close()
    stored = (tmp_path / "s.db").read_bytes()
    for text in ("example.org", "0612345678", "06.12.34.56.78", "+3361"):
        assert text not in rejects.getvalue()
        assert text.encode() not in stored
        assert text not in report


@pytest.mark.parametrize(
    "value",
    [
        "paul.martin@example.org",
        "mailto:a.b@c.gouv.fr",
        "0612345678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06/12/34/56/78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        "+262 692 12 34 56",  # La Réunion
        "+590690123456",  # Guadeloupe
        "Tel0612345678",
        "dossier_0612345678",
    ],
)
def test_contact_details_are_recognised_in_their_common_forms(value: str) -> None:
    from sla_engine._contact import looks_like_contact_details

    assert looks_like_contact_details(value)


@pytest.mark.parametrize(
    "value",
    [
        "form@1.2",  # a version, not an address
        "release@2025.10",
        "a@b",
        "SVC-2025-0001",
        "20250901123",
        "12345678901234",  # a SIRET
        "0123456789012",  # 13 digits: no telephone number
        "0800-123-456",
        "75-0123",
    ],
)
def test_codes_are_not_taken_for_contact_details(value: str) -> None:
    from sla_engine._contact import looks_like_contact_details

    assert not looks_like_contact_details(value)
