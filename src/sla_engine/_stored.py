"""Contacts' new events encoded for the store: the mapper's bytes, made faster.

eventsourcing's ``Mapper.to_stored_event`` copies an event's attributes into a
dict and JSON-encodes it, calling a hook for each datetime: about 13 µs an
event, more than SQLite takes to insert it.  Every contact event class has the
same four varying values — when it was recorded, its id, when it happened,
its payload — so each class's stored state is encoded once, by the mapper's
own transcoder, around sentinel values, and an event's state is that
template with its values put back: the same bytes, then compressed and
encrypted as the mapper would.  Each template is checked against the mapper
on a probe event when it is made; a class or a value it does not cover
(another transcoder, a datetime subclass) goes through the mapper itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Mapper

from ._contact import _CONTACT_TOPIC, Contact, ContactEvent

__all__ = ["StoredEncoder", "StoredRow"]

#: (originator id, version, topic, state): a row of eventsourcing's events table.
StoredRow = tuple[str, int, str, bytes]

_SENTINEL_CONTACT = "sla-engine-sentinel-contact"
_SENTINEL_ID = "sla-engine-sentinel-event"
_SENTINEL_RECORDED = dt.datetime(1902, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
_SENTINEL_OCCURRED = dt.datetime(1901, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
_SENTINEL_PAYLOAD = {"sla-engine-sentinel-payload": 0}
# A probe with values a careless template would get wrong: quotes, accents and
# escapes in the id and payload, microseconds and an offset in the instants.
_PROBE_ID = 'probe "é" \\ \u2028'
_PROBE_RECORDED = dt.datetime(
    2026, 3, 29, 1, 59, 59, 999, tzinfo=dt.timezone(dt.timedelta(hours=14))
)
_PROBE_OCCURRED = dt.datetime(
    1999, 12, 31, 23, 0, tzinfo=dt.timezone(-dt.timedelta(hours=9, minutes=30))
)
_PROBE_PAYLOAD = {"channel": "courrier", "attributes": {"a": 'x"y', "b": 1.5, "c": None, "d": True}}


class StoredEncoder:
    """Encodes :class:`Contact` events as ``mapper.to_stored_event`` does, byte for byte."""

    def __init__(self, mapper: Mapper[str]) -> None:
        self.mapper = mapper
        transcoder = mapper.transcoder
        self._json: Callable[[Any], str] | None = (
            transcoder.encoder.encode if isinstance(transcoder, JSONTranscoder) else None
        )
        #: Each class's (topic, the state's text around its four values, %-format).
        self._templates: dict[type[Contact.Event], _Form | None] = {}
        #: The JSON of payloads seen lately, by their items (see ``_payload_json``).
        self._payloads: dict[tuple[tuple[str, Any], ...], str] = {}

    def template(self, cls: type[Contact.Event]) -> _Form | None:
        """Events of ``cls``: their topic and state, or ``None`` if templates do not fit them.

        The state is given as the text around its four values — the recording
        instant, the event id as JSON, the instant it happened, the payload as
        JSON — and as a %-format of the same.
        """
        template = self._templates.get(cls, _MISSING)
        if template is _MISSING:
            template = self._templates[cls] = self._template(cls)
        return template  # type: ignore[no-any-return]

    def encode_json(self, value: Any) -> str:
        """``value`` as the transcoder writes it inside a state (when templates fit it)."""
        assert self._json is not None  # noqa: S101 - only asked once a template is made
        return self._json(value)

    def rows(
        self, events: Sequence[Contact.Event], history: Callable[[str, str], ContactEvent | None]
    ) -> list[StoredRow]:
        """The stored rows of ``events``; ``history(contact, event id)`` gives the event recorded.

        The recorded event is where its ``occurred_at`` text is kept (worked
        out once, and used again by the projection).
        """
        json = self._json
        template_of = self.template
        compressor, cipher = self.mapper.compressor, self.mapper.cipher
        rows: list[StoredRow] = []
        last_recorded: dt.datetime | None = None
        recorded_text = ""
        for event in events:
            template = template_of(type(event))
            recorded, occurred = event.timestamp, event.occurred_at
            if (
                template is None
                or json is None
                or type(recorded) is not dt.datetime
                or type(occurred) is not dt.datetime
            ):
                stored = self.mapper.to_stored_event(event)
                rows.append(
                    (event.originator_id, event.originator_version, stored.topic, stored.state)
                )
                continue
            if recorded is not last_recorded:  # a batch shares its recording instant
                last_recorded, recorded_text = recorded, recorded.isoformat()
            known = history(event.originator_id, event.event_id)
            occurred_text = (
                known.occurred_text
                if known is not None and known.occurred_at is occurred
                else occurred.isoformat()
            )
            topic, _, form = template
            state = (
                form
                % (recorded_text, json(event.event_id), occurred_text, self._payload_json(event))
            ).encode("utf8")
            if compressor is not None:
                state = compressor.compress(state)
            if cipher is not None:
                state = cipher.encrypt(state)
            rows.append((event.originator_id, event.originator_version, topic, state))
        return rows

    def _payload_json(self, event: Contact.Event) -> str:
        """The JSON of ``event``'s payload: made once for the events that share it.

        Most payloads are a few classification values (channel, category,
        service…) that many events share, and encoding a dict costs about
        four microseconds, a lookup a tenth of that.  Payloads with
        attributes (values of several types, which compare equal across
        types: ``1 == True``) or a requester (one per person) are encoded
        each time.
        """
        payload: dict[str, Any] = event.payload
        if "attributes" in payload or "requester" in payload:
            return self.encode_json(payload)
        key = tuple(payload.items())  # every value a string, in the stored order
        text = self._payloads.get(key)
        if text is None:
            if len(self._payloads) >= _PAYLOADS_KEPT:
                self._payloads.clear()
            text = self._payloads[key] = self.encode_json(payload)
        return text

    def _template(self, cls: type[Contact.Event]) -> _Form | None:
        """The template of ``cls``, cut around sentinels and checked on a probe."""
        if self._json is None:
            return None
        plain: Mapper[str] = Mapper(transcoder=self.mapper.transcoder)
        sentinel = _event(
            cls, _SENTINEL_ID, _SENTINEL_RECORDED, _SENTINEL_OCCURRED, _SENTINEL_PAYLOAD
        )
        stored = plain.to_stored_event(sentinel)
        text = bytes(stored.state).decode("utf8")
        pieces = []
        for cut in (
            _SENTINEL_RECORDED.isoformat(),
            self._json(_SENTINEL_ID),
            _SENTINEL_OCCURRED.isoformat(),
            self._json(_SENTINEL_PAYLOAD),
        ):
            if text.count(cut) != 1:
                return None
            head, text = text.split(cut)
            pieces.append(head)
        pieces.append(text)
        form = "%s".join(piece.replace("%", "%%") for piece in pieces)
        probe = _event(cls, _PROBE_ID, _PROBE_RECORDED, _PROBE_OCCURRED, _PROBE_PAYLOAD)
        made = form % (
            _PROBE_RECORDED.isoformat(),
            self._json(_PROBE_ID),
            _PROBE_OCCURRED.isoformat(),
            self._json(_PROBE_PAYLOAD),
        )
        if made.encode("utf8") != bytes(plain.to_stored_event(probe).state):
            return None
        return stored.topic, tuple(pieces), form


#: (topic, the five pieces of text around a state's four values, their %-format).
_Form = tuple[str, tuple[str, ...], str]
_MISSING: Any = object()
#: How many payloads' JSON to keep (a few hundred classifications in practice).
_PAYLOADS_KEPT = 4096


def _event(
    cls: type[Contact.Event],
    event_id: str,
    recorded: dt.datetime,
    occurred: dt.datetime,
    payload: dict[str, Any],
) -> Contact.Event:
    """An event of ``cls`` made by its own (dataclass) constructor."""
    values: dict[str, Any] = {
        "originator_id": _SENTINEL_CONTACT,
        "originator_version": 1,
        "timestamp": recorded,
        "event_id": event_id,
        "occurred_at": occurred,
        "payload": payload,
    }
    if "originator_topic" in {field.name for field in dataclasses.fields(cls)}:  # type: ignore[arg-type]
        values["originator_topic"] = _CONTACT_TOPIC
    return cls(**values)
