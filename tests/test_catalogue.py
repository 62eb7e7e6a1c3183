"""Catalogues of engagements: the shipped ones, the loader's validation, matching."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sla_engine import DataError, Delay, SlaEngineError, Unit
from sla_engine._catalogue import (
    Catalogue,
    CatalogueError,
    Engagement,
    EngagementKind,
    Match,
    PauseMode,
    catalogue_names,
    load_catalogue,
    parse_catalogue,
)
from sla_engine._vocabulary import EventType

HEADER = """\
[catalogue]
id = "test"
title = "Catalogue de test"
version = "1"
"""

EMAIL = """\
[[engagement]]
id = "email-5"
title = "Nous traitons vos courriels dans un délai maximum de 5 jours ouvrés"
source = "Marianne, engagement 11"
kind = "response"
when = { channel = ["email"] }
start = "received"
stop = ["answered"]
pause = "suspended"
pause_mode = "suspend"
target = "5 jours ouvrés"
warn_at = [0.5, 0.8]
"""

URGENT = """\
[[engagement]]
id = "urgent-1"
title = "Situations urgentes : réponse sous un jour ouvré"
source = "Projet académique"
kind = "response"
when = { priority = ["urgent"] }
stop = ["answered"]
target = "1 jour ouvré"
"""

PHONE = """\
[[engagement]]
id = "phone-rings"
title = "Appels décrochés en moins de 5 sonneries"
source = "Marianne, engagement 12"
kind = "measure"
when = { channel = ["phone"] }
event = "answered"
attribute = "rings"
at_most = 5
"""

MANUAL = """\
[[engagement]]
id = "courtesy"
title = "Nous vous accueillons avec courtoisie"
source = "Marianne, engagement 6"
kind = "manual"
indicator = "Enquête de satisfaction"
"""

VALID = "\n".join([HEADER, EMAIL, URGENT, PHONE, MANUAL])


def write(tmp_path: Path, text: str, name: str = "catalogue.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> CatalogueError:
    with pytest.raises(CatalogueError) as info:
        load_catalogue(path)
    return info.value


def the_error(error: CatalogueError, field: str) -> CatalogueError:
    """The one error about ``field``, checking that it names the file and the field."""
    found = [e for e in error.errors if e.field == field]
    assert found, f"no error on {field!r} in:\n{error}"
    (one,) = found
    assert one.source is not None
    assert str(one).startswith(one.source)
    assert field in str(one)
    assert str(one) in str(error)
    return one


def engagement_error(tmp_path: Path, text: str, field: str, *, eng: str = "email-5") -> str:
    """Load ``text`` from a file; return the message of the error on ``eng``'s ``field``."""
    path = write(tmp_path, text)
    error = load_error(path)
    one = the_error(error, f"engagement '{eng}'.{field}")
    message = str(one)
    assert str(path) in message
    assert f"engagement '{eng}'.{field}" in message
    return one.message


def email_with(**changes: str | None) -> str:
    """The EMAIL engagement with some lines replaced (None deletes the key)."""
    lines = EMAIL.splitlines()
    out = []
    for line in lines:
        key = line.split("=")[0].strip()
        if key in changes:
            if changes[key] is not None:
                out.append(f"{key} = {changes.pop(key)}")
            else:
                changes.pop(key)
            continue
        out.append(line)
    out += [f"{k} = {v}" for k, v in changes.items() if v is not None]
    return HEADER + "\n" + "\n".join(out) + "\n"


class TestShipped:
    """The four catalogues built from the seed documents."""

    def test_names(self) -> None:
        assert catalogue_names() == (
            "eduform",
            "marianne-besancon",
            "qualicirco",
            "services-publics-plus",
        )

    @pytest.mark.parametrize(
        ("name", "count"),
        [
            ("marianne-besancon", 19),
            ("qualicirco", 21),
            ("services-publics-plus", 3),
            ("eduform", 10),
        ],
    )
    def test_each_loads_with_its_engagements(self, name: str, count: int) -> None:
        catalogue = load_catalogue(name)
        assert catalogue.id == name
        assert catalogue.source == f"package:{name}"
        assert len(catalogue.engagements) == count
        assert len({e.id for e in catalogue.engagements}) == count
        for engagement in catalogue.engagements:
            assert engagement.title
            assert engagement.source
            if engagement.kind is EngagementKind.RESPONSE:
                assert engagement.warn_at == (0.5, 0.8), engagement.id
                assert engagement.stop, engagement.id
                assert engagement.target is not None or engagement.target_announced

    def test_marianne_quotes_every_engagement_number_once(self) -> None:
        catalogue = load_catalogue("marianne-besancon")
        numbers = [
            int(re.findall(r"engagement (\d+)$", e.source)[0]) for e in catalogue.engagements
        ]
        assert numbers == list(range(1, 20))

    def test_marianne_measured_engagements(self) -> None:
        catalogue = load_catalogue("marianne-besancon")
        letter = catalogue.engagement("letter-15")
        assert letter.target == Delay(15, Unit.JOURS_OUVRES)
        assert letter.when == Match(channel=frozenset({"letter"}))
        email = catalogue.engagement("email-5")
        assert email.kind is EngagementKind.RESPONSE
        assert email.target == Delay(5, Unit.JOURS_OUVRES)
        assert email.when.channel == frozenset({"email"})
        assert email.when.category is None
        assert email.stop == (EventType.ANSWERED,)
        assert (email.pause, email.resume, email.pause_mode) == (
            EventType.SUSPENDED,
            EventType.RESUMED,
            PauseMode.SUSPEND,
        )
        assert "5 jours ouvrés" in email.title
        phone = catalogue.engagement("phone-5-rings")
        assert phone.kind is EngagementKind.MEASURE
        assert (phone.event, phone.attribute, phone.at_most, phone.at_least) == (
            EventType.ANSWERED,
            "rings",
            5,
            None,
        )
        assert phone.when.channel == frozenset({"phone"})
        complaint = catalogue.engagement("complaint-15")
        assert complaint.target == Delay(15, Unit.JOURS_OUVRES)
        assert complaint.when.category == frozenset({"complaint", "suggestion"})
        kinds = [e.kind for e in catalogue.engagements]
        assert kinds.count(EngagementKind.MANUAL) == 15

    def test_qualicirco(self) -> None:
        catalogue = load_catalogue("qualicirco")
        assert catalogue.calendar == "fr+B"
        complaint = catalogue.engagement("complaint-quinzaine")
        assert complaint.target == Delay(15, Unit.JOURS_CALENDAIRES)
        assert complaint.when.category == frozenset({"complaint", "suggestion"})
        for eid, channel in (("email-10", "email"), ("letter-10", "letter")):
            engagement = catalogue.engagement(eid)
            assert engagement.target == Delay(10, Unit.JOURS_OUVRES)
            assert engagement.complex_rule == "exempt"
            assert engagement.when.channel == frozenset({channel})
        appointment = catalogue.engagement("appointment-10")
        assert appointment.when.category == frozenset({"appointment"})
        assert appointment.stop == (EventType.ANSWERED,)
        assert appointment.notes is not None
        assert "answered" in appointment.notes
        # The obligations tied to the school year are measured (issue 8).
        expected = {
            "courteous-reception": ("scheduled", "service", "fin d'année"),
            "annual-results": ("scheduled", "service", "veille:Toussaint"),
            "visit-after-rentree": ("scheduled", "site", "rentrée + 10 jours calendaires"),
            "ien-visit-before-toussaint": (
                "scheduled",
                "site",
                "veille:Toussaint",
            ),
        }
        for eid, (kind, per, due) in expected.items():
            engagement = catalogue.engagement(eid)
            assert engagement.kind.value == kind
            assert engagement.obligation is not None
            assert (engagement.obligation.per.value, str(engagement.obligation.due)) == (per, due)
        weekly = catalogue.engagement("website-weekly").obligation
        assert weekly is not None
        assert (weekly.every, weekly.what, weekly.count) == ("week", frozenset({"site web"}), 1)
        meetings = catalogue.engagement("directors-meetings").obligation
        assert meetings is not None
        assert (meetings.every, meetings.count) == ("school_year", 2)
        phone = catalogue.engagement("phone-reception").obligation
        assert phone is not None
        assert (phone.line, phone.amplitude, phone.days) == ("telephone", 9.0, Unit.JOURS_SCOLAIRES)
        kinds = [e.kind.value for e in catalogue.engagements]
        assert (kinds.count("response"), kinds.count("manual"), len(kinds)) == (4, 9, 21)

    def test_services_publics_plus(self) -> None:
        catalogue = load_catalogue("services-publics-plus")
        postal = catalogue.engagement("ack-postal")
        assert postal.target == Delay(2, Unit.SEMAINES)
        assert postal.when.channel == frozenset({"letter"})
        assert EventType.ACKNOWLEDGED in postal.stop
        electronic = catalogue.engagement("ack-electronic")
        assert electronic.target == Delay(1, Unit.SEMAINES)
        assert electronic.when.channel == frozenset({"email", "web"})
        answer = catalogue.engagement("answer-announced")
        assert answer.target is None
        assert answer.target_announced
        assert answer.when.is_any
        for engagement in catalogue.engagements:
            assert engagement.source.startswith("Services Publics+ (référentiel), engagement")

    def test_eduform(self) -> None:
        catalogue = load_catalogue("eduform")
        assert catalogue.notes is not None
        for criterion in ("3.1.1", "3.2.4", "3.3.2"):
            assert criterion in catalogue.notes
        answer = catalogue.engagement("answer-announced")
        assert answer.target_announced
        assert "3.1.1" in answer.source
        assert catalogue.engagement("ack-electronic").stop[0] is EventType.ACKNOWLEDGED
        complaint = catalogue.engagement("complaint-answer")
        assert "3.2.4" in complaint.source
        assert "complaint" in (complaint.when.category or ())
        review = catalogue.engagement("annual-review")
        assert review.kind is EngagementKind.MANUAL
        assert "3.3.2" in review.source

    def test_by_path_equals_by_name(self) -> None:
        path = Path(__file__).resolve().parents[1] / "src/sla_engine/catalogues/qualicirco.toml"
        by_path = load_catalogue(path)
        by_name = load_catalogue("qualicirco")
        assert by_path.source == str(path)
        assert by_path.engagements == by_name.engagements
        assert by_path.fingerprint == by_name.fingerprint

    def test_unknown_name_suggests(self) -> None:
        with pytest.raises(CatalogueError, match=r"did you mean 'qualicirco'.*shipped: eduform"):
            load_catalogue("qualicirko")

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(CatalogueError, match="cannot read") as info:
            load_catalogue(tmp_path / "absent.toml")
        assert str(tmp_path / "absent.toml") in str(info.value)


class TestModel:
    """Defaults, canonical names, lookups."""

    def test_valid_catalogue(self) -> None:
        catalogue = parse_catalogue(VALID)
        assert [e.id for e in catalogue.engagements] == [
            "email-5",
            "urgent-1",
            "phone-rings",
            "courtesy",
        ]
        urgent = catalogue.engagement("urgent-1")
        assert urgent.start is EventType.RECEIVED  # default
        assert (urgent.pause, urgent.resume, urgent.pause_mode) == (None, None, PauseMode.SUSPEND)
        assert urgent.warn_at == ()
        assert urgent.complex_rule == "ignore"
        assert urgent.extend is None
        assert urgent.calendar is None
        manual = catalogue.engagement("courtesy")
        assert manual.kind is EngagementKind.MANUAL
        assert manual.indicator == "Enquête de satisfaction"
        assert manual.stop == ()
        assert manual.target is None

    def test_errors_are_data_errors(self) -> None:
        assert issubclass(CatalogueError, DataError)
        assert issubclass(CatalogueError, SlaEngineError)
        assert issubclass(CatalogueError, ValueError)

    def test_french_aliases_are_canonicalised(self) -> None:
        text = HEADER + email_with(
            when='{ channel = ["courriel", "Téléphone", "guichet"], category = ["Réclamation", '
            '"rendez-vous", "Autre Chose"], priority = ["urgente"], service = [" DPE "] }',
            start='"reçu"',
            stop='["répondu", "clôturé"]',
            pause='"suspendu"',
            resume='"reprise"',
        ).removeprefix(HEADER)
        engagement = parse_catalogue(text).engagement("email-5")
        assert engagement.when.channel == frozenset({"email", "phone", "counter"})
        assert engagement.when.category == frozenset({"complaint", "appointment", "autre chose"})
        assert engagement.when.priority == frozenset({"urgent"})
        assert engagement.when.service == frozenset({"DPE"})
        assert engagement.start is EventType.RECEIVED
        assert engagement.stop == (EventType.ANSWERED, EventType.CLOSED)
        assert (engagement.pause, engagement.resume) == (EventType.SUSPENDED, EventType.RESUMED)

    def test_measure_event_alias(self) -> None:
        text = HEADER + PHONE.replace('event = "answered"', 'event = "répondu"').replace(
            '["phone"]', '"téléphone"'
        )
        engagement = parse_catalogue(text).engagement("phone-rings")
        assert engagement.event is EventType.ANSWERED
        assert engagement.when.channel == frozenset({"phone"})

    def test_single_string_is_a_one_element_list(self) -> None:
        text = email_with(stop='"answered"', when='{ channel = "email" }')
        engagement = parse_catalogue(text).engagement("email-5")
        assert engagement.stop == (EventType.ANSWERED,)
        assert engagement.when.channel == frozenset({"email"})

    def test_hour_units_and_other_options(self) -> None:
        text = email_with(
            target='"48 heures"',
            complex='"30 jours ouvrés"',
            pause_mode='"restart"',
            calendar='"fr-moselle+b"',
            notes='"note"',
        )
        engagement = parse_catalogue(text).engagement("email-5")
        assert engagement.target == Delay(48, Unit.HEURES)
        assert engagement.complex_rule == Delay(30, Unit.JOURS_OUVRES)
        assert engagement.pause_mode is PauseMode.RESTART
        assert engagement.calendar == "fr-57+B"
        assert engagement.notes == "note"
        text = email_with(target='"4 heures ouvrées"')
        assert parse_catalogue(text).engagement("email-5").target == Delay(4, Unit.HEURES_OUVREES)

    def test_extend_on_calendar_days(self) -> None:
        text = email_with(target='"sous quinzaine"', extend="false")
        engagement = parse_catalogue(text).engagement("email-5")
        assert engagement.target == Delay(15, Unit.JOURS_CALENDAIRES)
        assert engagement.extend is False

    def test_calendars(self) -> None:
        text = HEADER.replace('version = "1"', 'version = "1"\ncalendar = "fr+a"') + "\n" + EMAIL
        catalogue = parse_catalogue(text)
        assert catalogue.calendar == "fr+A"
        assert catalogue.calendar_for("email-5") == "fr+A"
        own = parse_catalogue(email_with(calendar='"fr-974"'))
        assert own.calendar is None
        assert own.calendar_for(own.engagement("email-5")) == "fr-974"

    def test_unknown_engagement_id(self) -> None:
        catalogue = parse_catalogue(VALID, source="x.toml")
        with pytest.raises(
            CatalogueError, match=r"'emial-5'.*did you mean 'email-5'.*known: email-5"
        ):
            catalogue.engagement("emial-5")


class TestMatching:
    """Every matching engagement, not the first."""

    def test_urgent_email_matches_both(self) -> None:
        catalogue = parse_catalogue(VALID)
        found = catalogue.matching(channel="email", category=None, priority="urgent", service=None)
        assert [e.id for e in found] == ["email-5", "urgent-1"]

    def test_normal_email_and_phone(self) -> None:
        catalogue = parse_catalogue(VALID)
        assert [e.id for e in catalogue.matching(channel="email", priority="normal")] == ["email-5"]
        assert [e.id for e in catalogue.matching(channel="phone")] == ["phone-rings"]

    def test_manual_never_matches(self) -> None:
        catalogue = parse_catalogue(VALID)
        assert all(
            e.kind is not EngagementKind.MANUAL
            for e in catalogue.matching(channel="counter", priority="urgent")
        )
        assert catalogue.matching(channel="counter") == ()

    def test_french_values_in_contacts(self) -> None:
        catalogue = parse_catalogue(VALID)
        assert [e.id for e in catalogue.matching(channel="courriel", priority="Urgente")] == [
            "email-5",
            "urgent-1",
        ]

    def test_none_never_matches_a_restricted_key(self) -> None:
        match = Match(channel=frozenset({"email"}), category=frozenset({"complaint"}))
        assert match.matches(channel="email", category="complaint", priority=None, service=None)
        assert match.matches(channel="email", category="Réclamation", priority=None, service=None)
        assert not match.matches(channel="email", category=None, priority=None, service=None)
        assert not match.matches(channel=None, category="complaint", priority=None, service=None)
        assert not match.matches(
            channel="letter", category="complaint", priority=None, service=None
        )
        assert not match.matches(
            channel="pigeon", category="complaint", priority=None, service=None
        )
        assert Match().matches(channel=None, category=None, priority=None, service=None)

    def test_service(self) -> None:
        match = Match(service=["DPE", "DAF"])
        assert match.service == frozenset({"DPE", "DAF"})
        assert match.matches(channel="email", category=None, priority=None, service="DAF")
        assert not match.matches(channel="email", category=None, priority=None, service="DEC")

    def test_shipped_complaint_by_email(self) -> None:
        catalogue = load_catalogue("marianne-besancon")
        found = catalogue.matching(channel="email", category="complaint")
        assert [e.id for e in found] == ["email-5", "complaint-15"]


class TestFingerprint:
    """Which exact rules a figure used."""

    def test_changes_with_the_file(self, tmp_path: Path) -> None:
        path = write(tmp_path, VALID)
        first = load_catalogue(path).fingerprint
        assert re.fullmatch(r"[0-9a-f]{12}", first)
        assert load_catalogue(path).fingerprint == first
        write(tmp_path, VALID.replace("5 jours ouvrés", "6 jours ouvrés"))
        assert load_catalogue(path).fingerprint != first
        write(tmp_path, VALID + "\n# a comment is part of the file too\n")
        assert load_catalogue(path).fingerprint != first

    def test_text_and_file_agree(self, tmp_path: Path) -> None:
        path = write(tmp_path, VALID)
        assert parse_catalogue(VALID).fingerprint == load_catalogue(path).fingerprint

    def test_built_in_python(self) -> None:
        engagement = Engagement(
            id="e", title="t", source="s", kind=EngagementKind.MANUAL, indicator="i"
        )
        catalogue = Catalogue("c", "T", "1", None, (engagement,))
        again = Catalogue("c", "T", "1", None, (engagement,))
        other = Catalogue("c", "T", "2", None, (engagement,))
        assert catalogue.fingerprint == again.fingerprint != other.fingerprint
        assert re.fullmatch(r"[0-9a-f]{12}", catalogue.fingerprint)


class TestValidation:
    """Every error is refused at load, naming the file, the engagement and the field."""

    def test_unknown_engagement_key_suggests(self, tmp_path: Path) -> None:
        message = engagement_error(tmp_path, email_with(targte='"5 jours"'), "targte")
        assert "did you mean 'target'" in message

    def test_unknown_catalogue_key(self, tmp_path: Path) -> None:
        path = write(tmp_path, HEADER + 'calender = "fr"\n\n' + EMAIL)
        one = the_error(load_error(path), "catalogue.calender")
        assert "did you mean 'calendar'" in one.message
        assert one.line == 5

    def test_unknown_when_key(self, tmp_path: Path) -> None:
        message = engagement_error(
            tmp_path, email_with(when='{ chanel = ["email"] }'), "when.chanel"
        )
        assert "did you mean 'channel'" in message

    def test_unknown_top_level_table(self, tmp_path: Path) -> None:
        path = write(tmp_path, VALID + '\n[[engagements]]\nid = "x"\n')
        one = the_error(load_error(path), "engagements")
        assert "did you mean 'engagement'" in one.message

    def test_key_of_another_kind(self, tmp_path: Path) -> None:
        text = HEADER + MANUAL + 'target = "5 jours ouvrés"\n'
        message = engagement_error(tmp_path, text, "target", eng="courtesy")
        assert "not used by a manual engagement" in message

    @pytest.mark.parametrize("key", ["stop", "target", "title", "source", "kind"])
    def test_missing_required_response_key(self, tmp_path: Path, key: str) -> None:
        message = engagement_error(tmp_path, email_with(**{key: None}), key)
        assert "missing" in message

    def test_missing_id(self, tmp_path: Path) -> None:
        path = write(tmp_path, email_with(id=None))
        one = the_error(load_error(path), "engagement #1.id")
        assert one.line == 6  # the [[engagement]] header

    @pytest.mark.parametrize("key", ["event", "attribute"])
    def test_missing_required_measure_key(self, tmp_path: Path, key: str) -> None:
        text = HEADER + "\n".join(ln for ln in PHONE.splitlines() if not ln.startswith(key))
        message = engagement_error(tmp_path, text, key, eng="phone-rings")
        assert "missing" in message

    def test_measure_without_bound(self, tmp_path: Path) -> None:
        text = HEADER + PHONE.replace("at_most = 5", "")
        message = engagement_error(tmp_path, text, "at_most", eng="phone-rings")
        assert "at_least" in message

    def test_measure_bounds_crossed(self, tmp_path: Path) -> None:
        text = HEADER + PHONE + "at_least = 7\n"
        message = engagement_error(tmp_path, text, "at_least", eng="phone-rings")
        assert "greater than at_most" in message

    def test_measure_at_least_alone_is_enough(self) -> None:
        text = HEADER + PHONE.replace("at_most = 5", "at_least = 1.5")
        assert parse_catalogue(text).engagement("phone-rings").at_least == 1.5

    @pytest.mark.parametrize("bad", ['"5 jours ouvrs"', '"0 jours ouvrés"', '"cinq jours"', "5"])
    def test_bad_delay(self, tmp_path: Path, bad: str) -> None:
        engagement_error(tmp_path, email_with(target=bad), "target")

    @pytest.mark.parametrize("key", ["start", "stop", "pause", "resume"])
    def test_unknown_event_type(self, tmp_path: Path, key: str) -> None:
        value = '["answerd"]' if key == "stop" else '"answerd"'
        message = engagement_error(tmp_path, email_with(**{key: value}), key)
        assert "unknown event type" in message

    def test_unknown_measure_event(self, tmp_path: Path) -> None:
        text = HEADER + PHONE.replace('event = "answered"', 'event = "picked up"')
        message = engagement_error(tmp_path, text, "event", eng="phone-rings")
        assert "unknown event type 'picked up'" in message

    def test_unknown_channel(self, tmp_path: Path) -> None:
        message = engagement_error(
            tmp_path, email_with(when='{ channel = ["pigeon"] }'), "when.channel"
        )
        assert "unknown channel 'pigeon'" in message

    def test_unknown_priority(self, tmp_path: Path) -> None:
        message = engagement_error(
            tmp_path, email_with(when='{ priority = ["très urgent"] }'), "when.priority"
        )
        assert "unknown priority" in message

    @pytest.mark.parametrize("value", ["{ channel = [] }", "{ channel = [5] }", "{ channel = 5 }"])
    def test_bad_when_values(self, tmp_path: Path, value: str) -> None:
        engagement_error(tmp_path, email_with(when=value), "when.channel")

    def test_when_not_a_table(self, tmp_path: Path) -> None:
        engagement_error(tmp_path, email_with(when='"email"'), "when")

    @pytest.mark.parametrize(
        "value", ["[0, 0.5]", "[0.5, 1]", "[1.5]", "[-0.1, 0.5]", "[0.8, 0.5]", "[0.5, 0.5]",
                  '["half"]', "[true]", "[nan]"],
    )  # fmt: skip
    def test_bad_warn_at(self, tmp_path: Path, value: str) -> None:
        engagement_error(tmp_path, email_with(warn_at=value), "warn_at")

    def test_duplicate_ids(self, tmp_path: Path) -> None:
        path = write(tmp_path, HEADER + EMAIL + "\n" + EMAIL)
        error = load_error(path)
        one = the_error(error, "engagement 'email-5'.id")
        assert "duplicate" in one.message
        assert "#1" in one.message
        assert one.line == 19  # the second engagement's id line

    @pytest.mark.parametrize(("block", "eng"), [(PHONE, "phone-rings"), (MANUAL, "courtesy")])
    def test_announced_only_for_response(self, tmp_path: Path, block: str, eng: str) -> None:
        text = HEADER + block + 'target = "announced"\n'
        message = engagement_error(tmp_path, text, "target", eng=eng)
        assert "allowed only for kind 'response'" in message

    def test_announced_for_response(self) -> None:
        engagement = parse_catalogue(email_with(target='"announced"')).engagement("email-5")
        assert engagement.target is None
        assert engagement.target_announced

    def test_pause_mode_without_pause(self, tmp_path: Path) -> None:
        message = engagement_error(tmp_path, email_with(pause=None), "pause_mode")
        assert "pause is not" in message

    def test_resume_without_pause(self, tmp_path: Path) -> None:
        text = email_with(pause=None, pause_mode=None, resume='"resumed"')
        engagement_error(tmp_path, text, "resume")

    def test_bad_pause_mode(self, tmp_path: Path) -> None:
        message = engagement_error(tmp_path, email_with(pause_mode='"suspended"'), "pause_mode")
        assert "did you mean 'suspend'" in message

    def test_bad_kind(self, tmp_path: Path) -> None:
        message = engagement_error(tmp_path, email_with(kind='"reponse"'), "kind")
        assert "did you mean 'response'" in message

    def test_event_in_two_roles(self, tmp_path: Path) -> None:
        engagement_error(tmp_path, email_with(stop='["received", "answered"]'), "stop")
        engagement_error(tmp_path, email_with(pause='"answered"'), "pause")
        engagement_error(tmp_path, email_with(resume='"suspended"'), "resume")

    def test_bad_engagement_calendar(self, tmp_path: Path) -> None:
        message = engagement_error(tmp_path, email_with(calendar='"fr+Q"'), "calendar")
        assert "unknown school zone" in message

    def test_bad_catalogue_calendar(self, tmp_path: Path) -> None:
        path = write(tmp_path, HEADER + 'calendar = "de"\n\n' + EMAIL)
        one = the_error(load_error(path), "catalogue.calendar")
        assert "cannot read the calendar spec" in one.message

    def test_school_days_need_a_zone(self, tmp_path: Path) -> None:
        text = email_with(target='"10 jours scolaires"', calendar='"fr"')
        message = engagement_error(tmp_path, text, "target")
        assert "school zone" in message
        ok = email_with(target='"10 jours scolaires"', calendar='"fr+C"')
        assert parse_catalogue(ok).engagement("email-5").target == Delay(10, Unit.JOURS_SCOLAIRES)

    def test_extend_on_working_days_is_refused(self, tmp_path: Path) -> None:
        message = engagement_error(tmp_path, email_with(extend="true"), "extend")
        assert "no effect" in message
        assert "jours ouvrables" in message  # where it has one
        text = email_with(target='"10 jours scolaires"', calendar='"fr+B"', extend="true")
        assert "no effect" in engagement_error(tmp_path, text, "extend")

    @pytest.mark.parametrize("value", ["true", "false"])
    def test_extend_on_jours_ouvrables(self, value: str) -> None:
        # They count Saturdays: a delay can end on one (CPC art. 642).
        text = email_with(target='"6 jours ouvrables"', extend=value)
        engagement = parse_catalogue(text).engagement("email-5")
        assert engagement.target == Delay(6, Unit.JOURS_OUVRABLES)
        assert engagement.extend is (value == "true")

    def test_extend_must_be_boolean(self, tmp_path: Path) -> None:
        engagement_error(
            tmp_path, email_with(target='"15 jours calendaires"', extend='"yes"'), "extend"
        )

    @pytest.mark.parametrize("value", ['"exmpt"', '"3 jours ouvrés"', '"5 jours ouvrés"', "true"])
    def test_bad_complex(self, tmp_path: Path, value: str) -> None:
        engagement_error(tmp_path, email_with(complex=value), "complex")

    def test_bad_identifier(self, tmp_path: Path) -> None:
        path = write(tmp_path, email_with(id='"email 5"'))
        one = the_error(load_error(path), "engagement #1.id")
        assert "not a valid identifier" in one.message

    @pytest.mark.parametrize("key", ["id", "version", "title"])
    def test_catalogue_table_missing_key(self, tmp_path: Path, key: str) -> None:
        header = "\n".join(ln for ln in HEADER.splitlines() if not ln.startswith(key))
        path = write(tmp_path, header + "\n\n" + EMAIL)
        one = the_error(load_error(path), f"catalogue.{key}")
        assert f"missing required key '{key}'" in one.message
        assert one.line == 1

    def test_version_must_be_text(self, tmp_path: Path) -> None:
        path = write(tmp_path, HEADER.replace('"1"', "2025") + "\n" + EMAIL)
        the_error(load_error(path), "catalogue.version")

    def test_missing_catalogue_table(self, tmp_path: Path) -> None:
        path = write(tmp_path, EMAIL)
        the_error(load_error(path), "catalogue")

    def test_no_engagement(self, tmp_path: Path) -> None:
        path = write(tmp_path, HEADER)
        the_error(load_error(path), "engagement")

    def test_engagement_not_an_array(self, tmp_path: Path) -> None:
        path = write(tmp_path, HEADER + "\n[engagement]\nid = 'x'\n")
        one = the_error(load_error(path), "engagement")
        assert "[[engagement]]" in one.message

    def test_toml_syntax_error_keeps_line_and_column(self, tmp_path: Path) -> None:
        path = write(tmp_path, HEADER + 'title = "unterminated\n')
        error = load_error(path)
        assert error.errors == [error]
        assert error.line == 5
        assert str(error).startswith(f"{path}:5: TOML syntax error")
        assert "line 5, column" in str(error)

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "latin1.toml"
        path.write_bytes(VALID.replace("Catalogue", "Catalogue é").encode("latin-1"))
        error = load_error(path)
        assert "UTF-8" in str(error)
        assert str(path) in str(error)

    def test_a_measures_attribute_is_refused_with_its_own_rule(self, tmp_path: Path) -> None:
        # It said ids' rule ('.' and '-' allowed) while refusing « ri-ngs ».
        text = HEADER + "\n" + PHONE.replace('"rings"', '"ri-ngs"')
        (error,) = load_error(write(tmp_path, text)).errors
        assert error.field == "engagement 'phone-rings'.attribute"
        assert "use ASCII letters, digits and '_', not starting with a digit" in str(error)

    def test_all_errors_reported_together(self, tmp_path: Path) -> None:
        text = (
            HEADER.replace('version = "1"\n', "")
            + "\n"
            + email_with(
                target='"5 jours ouvrs"', warn_at="[2]", when='{ channel = ["fax"] }'
            ).removeprefix(HEADER)
            + "\n"
            + PHONE.replace('attribute = "rings"\n', "")
        )
        path = write(tmp_path, text)
        error = load_error(path)
        fields = [e.field for e in error.errors]
        assert fields == [
            "catalogue.version",
            "engagement 'email-5'.when.channel",
            "engagement 'email-5'.target",
            "engagement 'email-5'.warn_at",
            "engagement 'phone-rings'.attribute",
        ]
        lines = str(error).splitlines()
        assert lines[0] == f"{path}: 5 errors in the catalogue:"
        assert len(lines) == 6
        for line, one in zip(lines[1:], error.errors, strict=True):
            assert line.strip() == str(one)
            assert line.strip().startswith(f"{path}:")


# -- robustness: random damage to a valid file -------------------------------------------

GARBAGE = st.one_of(
    st.sampled_from(
        [
            '"garbage"',
            "42",
            "-1",
            "0",
            "1e400",
            "nan",
            "-inf",
            "true",
            "[]",
            '[1, "a"]',
            "[[1]]",
            "{}",
            "{ channel = 5 }",
            '{ x = "y" }',
            "1979-05-27",
            "07:32:00",
            "1979-05-27T07:32:00Z",
            '"0 jours ouvrés"',
            '"announced"',
            '"exempt"',
            '"fr+Z"',
            '"999999 mois"',
            '"1 heures ouvrées"',
            "[0.5, 0.5]",
            '"répondu"',
            '"measure"',
            '"manual"',
            "99999999999999999999999",
            '["suspended"]',
            '""',
            '"   "',
            '"x y"',
            '{ priority = "urgent" }',
            '"10 jours scolaires"',
            "[0.2, 0.9]",
            "3.5",
            '"reçu"',
        ]
    ),
    st.text(max_size=12).map(json.dumps),
    st.text(max_size=6),
)


@st.composite
def damaged(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from([VALID, VALID.replace("response", "measure")])).splitlines()
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["delete", "replace", "duplicate", "insert"]))
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        if action == "delete":
            del lines[i]
        elif action == "replace" and "=" in lines[i]:
            key = lines[i].split("=", 1)[0]
            lines[i] = f"{key}= {draw(GARBAGE)}"
        elif action == "duplicate":
            starts = [n for n, line in enumerate(lines) if line.startswith("[[engagement]]")]
            if starts:
                k = draw(st.integers(0, len(starts) - 1))
                end = starts[k + 1] if k + 1 < len(starts) else len(lines)
                lines += lines[starts[k] : end]
        else:
            key = draw(st.sampled_from(["calendar", "extend", "complex", "resume", "at_least",
                                        "when", "indicator", "kind", "event", "zzz"]))  # fmt: skip
            lines.insert(i, f"{key} = {draw(GARBAGE)}")
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_catalogues_load_or_raise_catalogue_error(text: str) -> None:
    error: CatalogueError | None = None
    try:
        catalogue = parse_catalogue(text, source="damaged.toml")
    except CatalogueError as raised:  # any other exception fails the test
        error = raised
    if error is not None:
        assert error.errors
        assert all(e.source == "damaged.toml" for e in error.errors)
        assert all(str(e).startswith("damaged.toml") for e in error.errors)
    else:
        assert catalogue.engagements
        assert len({e.id for e in catalogue.engagements}) == len(catalogue.engagements)
