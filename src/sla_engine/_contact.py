"""Contacts and their events: what a service records, and the rules they obey.

A :class:`ContactEvent` is the public value an embedding service (or a log
reader) hands to the engine.  The engine stores it as an ``eventsourcing``
aggregate event of the :class:`Contact` aggregate, one aggregate per contact,
whose id is the source system's contact id.

Events of one contact may be recorded late or out of order: the rules below
are checked on the contact's history sorted by ``occurred_at`` (the time it
happened), not by the time it was recorded, and timers follow ``occurred_at``.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Generic, NoReturn, TypeVar

import attrs
from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    MetaDomainEvent,
)
from eventsourcing.utils import get_topic

from ._delay import Delay
from ._errors import DataError, SlaEngineError, unquoted, with_redacted
from ._time import fixed_offset_if_aware, microseconds, require_aware_field
from ._vocabulary import Channel, EventType, Priority, canonical_category

__all__ = [
    "Contact",
    "ContactEvent",
    "ContactRuleError",
    "DuplicateEvent",
    "RecordOutcome",
]

JSONScalar = str | int | float | bool | None
R = TypeVar("R")


class ContactRuleError(SlaEngineError, ValueError):
    """An event that cannot happen to this contact (names the contact, the event, the rule).

    ``code`` names the rule for programs: ``not_received``, ``received_twice``,
    ``before_receipt``, ``after_closed``, ``suspended_twice``,
    ``resumed_unsuspended``, ``reopened_unanswered``, ``id_reused``.
    """

    def __init__(self, contact_id: str, event_id: str, rule: str, code: str = "") -> None:
        self.contact_id = contact_id
        self.event_id = event_id
        self.rule = rule
        self.code = code
        super().__init__(f"contact {contact_id!r}, event {event_id!r}: {rule}")
        # A rejects file already names the row and its event: the rule alone.
        self.redacted = rule


class DuplicateEvent(SlaEngineError):
    """Raised internally for an event already recorded; the engine reports it, never fails."""


class RecordOutcome(enum.StrEnum):
    """What recording one event did."""

    RECORDED = "recorded"
    DUPLICATE = "duplicate"


class Outcomes(Generic[R]):
    """Counts over ``outcomes``: each event recorded, a duplicate, or rejected (an ``R``)."""

    outcomes: tuple[RecordOutcome | R, ...]

    @property
    def recorded(self) -> int:
        return sum(o is RecordOutcome.RECORDED for o in self.outcomes)

    @property
    def duplicates(self) -> int:
        return sum(o is RecordOutcome.DUPLICATE for o in self.outcomes)

    @property
    def rejected(self) -> tuple[R, ...]:
        return tuple(o for o in self.outcomes if not isinstance(o, RecordOutcome))


def _word(value: object, field: str) -> None:
    """Refuse a value of a vocabulary's field that is not text (a list is no channel)."""
    if not isinstance(value, str | enum.Enum):
        raise DataError(f"must be text, not {type(value).__name__}", field=field)


def _optional_channel(value: str | None) -> str | None:
    if value is None:
        return None
    _word(value, "channel")
    return str(unquoted(Channel.parse, value, "channel"))


def _optional_priority(value: str | None) -> str | None:
    if value is None:
        return None
    _word(value, "priority")
    return str(unquoted(Priority.parse, value, "priority"))


def _optional_category(value: str | None) -> str | None:
    if value is None:
        return None
    _word(value, "category")
    if isinstance(value, str):
        _storable_text(value, "category")
        _classification(value, "category")
    return canonical_category(value)


def _optional_delay(value: Delay | str | None) -> Delay | None:
    return None if value is None else unquoted(Delay.parse, value, "announced_delay")


def _event_type(value: EventType | str) -> EventType:
    _word(value, "type")
    return unquoted(EventType.parse, value, "type")  # type: ignore[return-value]


#: A code (« pieces », « N+1 », « multi-services ») is short and has no spaces.
MAX_CODE_LENGTH = 40
# Any character str.isspace() calls a space: the same test (Py_UNICODE_ISSPACE),
# four times as fast as asking each character.
_SPACE = re.compile(r"\s")


def looks_like_free_text(value: object) -> bool:
    """Whether ``value`` is text that may be prose or a person's contact details, not a code.

    Such text is never stored as such (:meth:`Privacy.clean` drops it).
    """
    return isinstance(value, str) and (
        len(value) > MAX_CODE_LENGTH
        or _SPACE.search(value) is not None
        or looks_like_contact_details(value)
    )


# An e-mail address (a domain ending in letters: « form@1.2 » is a version),
# or a French telephone number: national (0X and four pairs of digits),
# international (+33 or 0033, and the overseas departments' +262, +269,
# +590, +594, +596, with an optional « (0) »), with spaces, dots, dashes or
# slashes between the pairs, or none, and no digit on either side.  In a
# field that holds codes, it is a person's.  A reference number of that form
# (ten digits starting with 0) reads as one: write it otherwise.  A name
# cannot be told from a code by its form.
_CONTACT_DETAILS = re.compile(
    r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}(?![A-Za-z])"
    r"|(?<!\d)"
    r"(?:(?:\+|00)(?:33|262|269|590|594|596)[ .\-/]?(?:\(0\)[ .\-/]?)?|0)"
    r"[1-9](?:[ .\-/]?\d\d){4}(?!\d)"
)


def looks_like_contact_details(value: str) -> bool:
    """Whether ``value`` holds an e-mail address or a French telephone number."""
    return _CONTACT_DETAILS.search(value) is not None


def _classification(value: str, field: str) -> None:
    """Refuse a classification (category, service) that holds a person's contact details.

    A classification is stored as written and shown in reviews grouped by
    it: it must be one of the service's own codes.  The value is not quoted.
    """
    if looks_like_contact_details(value):
        raise DataError(
            "looks like an e-mail address or a telephone number: a classification holds "
            "the service's own codes, never a person's contact details",
            field=field,
        )


def _attributes(value: Mapping[str, Any] | None) -> Mapping[str, JSONScalar]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise DataError(f"attributes must be a mapping, not {type(value).__name__}")
    clean: dict[str, JSONScalar] = {}
    for key, item in value.items():
        # An attribute's name is named in an error only when it is a code: a
        # name can hold prose as well as a value (« Mme X, victime de… »).
        if not isinstance(key, str):
            raise DataError(
                f"attribute names must be text, not {type(key).__name__}", field="attributes"
            )
        if not key.isascii():
            _storable_text(key, "attributes")
        if isinstance(item, str):
            if not item.isascii():
                _storable_text(item, _attribute_field(key))
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise DataError("must be a finite number", field=_attribute_field(key))
        elif isinstance(item, int) and not isinstance(item, bool):
            if not -_MAX_INTEGER <= item <= _MAX_INTEGER:
                raise DataError(
                    "is too large a number: at most 2**53 - 1 either way",
                    field=_attribute_field(key),
                )
        elif item is not None and not isinstance(item, bool):
            named = _nameable(key)
            raise DataError(
                f"{f'attribute {key!r}' if named else 'an attribute'} must be text, a number, "
                f"true/false or null, not {type(item).__name__}",
                field=_attribute_field(key),
            )
        clean[key] = item
    return dict(sorted(clean.items()))


def _hidden(value: object) -> str:
    return "None" if value is None else "'…'"


def _attribute_field(key: str) -> str:
    """How an error names an attribute: by its name only when that is a code, not prose."""
    return f"attributes.{key}" if _nameable(key) else "attributes"


#: An attribute name an error may quote: the catalogue's kind (letters,
#: digits, ``_``), never an address or a name a badly mapped export made a key.
_NAME = re.compile(r"[A-Za-z0-9_]{1,40}")


def _nameable(key: str) -> bool:
    return _NAME.fullmatch(key) is not None


def _text_or_none(_instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    # A list or a mapping would pass the prose filter, which reads text only.
    if value is not None and not isinstance(value, str):
        raise DataError(f"must be text, not {type(value).__name__}", field=attribute.name)
    if value is not None and not value.isascii():
        _storable_text(value, attribute.name)


def _service(instance: object, attribute: attrs.Attribute[Any], value: str | None) -> None:
    _text_or_none(instance, attribute, value)
    if value is not None:
        _classification(value, attribute.name)


def _not_empty(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if not isinstance(value, str):
        raise DataError(f"must be text, not {type(value).__name__}", field=attribute.name)
    if not value:
        raise DataError("must not be empty", field=attribute.name)
    if not value.isascii():
        _storable_text(value, attribute.name)


def _given(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        raise DataError("is required: an aware date and time", field=attribute.name)


def _storable_text(value: str, field: str) -> None:
    """Refuse text that cannot be written as UTF-8: half a UTF-16 surrogate pair.

    Python text can hold one (a JSON escape such as ``\\ud800``); the store
    cannot, and the whole batch failed at its encoding.  (ASCII text, by far
    the most common, is let through by the callers without this call.)
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise DataError(
            "holds half a UTF-16 surrogate pair, which is not text that can be stored",
            field=field,
        ) from None


#: The largest integer an attribute may hold: every JSON reader reads it exactly.
_MAX_INTEGER = 2**53 - 1


@attrs.frozen(kw_only=True)
class ContactEvent:
    """Something that happened to a contact (a request from a user).

    ``event_id`` is the source system's id where there is one: recording the
    same event twice is a no-op, reported as a duplicate.  ``occurred_at``
    is when it happened; ``recorded_at`` when the engine learnt of it (the
    engine's clock when not given).  Classification fields (``channel``,
    ``category``, ``priority``, ``service``) belong on ``received`` and
    ``reclassified`` events.  French names are accepted for types, channels
    and categories (``courriel``, ``réclamation``…).
    """

    event_id: str = attrs.field(validator=_not_empty)
    contact_id: str = attrs.field(validator=_not_empty)
    type: EventType = attrs.field(converter=_event_type)
    occurred_at: dt.datetime = attrs.field(
        converter=fixed_offset_if_aware, validator=[_given, require_aware_field]
    )
    recorded_at: dt.datetime | None = attrs.field(
        default=None, converter=fixed_offset_if_aware, validator=require_aware_field
    )
    channel: str | None = attrs.field(default=None, converter=_optional_channel)
    category: str | None = attrs.field(default=None, converter=_optional_category)
    priority: str | None = attrs.field(default=None, converter=_optional_priority)
    service: str | None = attrs.field(default=None, validator=_service)
    #: A pseudonymous reference to the requester, never a name or an address.
    #: Never in a repr: a caller's event, refused before it is pseudonymised,
    #: may name the person (an application logging what was rejected).
    requester: str | None = attrs.field(default=None, validator=_text_or_none, repr=_hidden)
    #: On ``acknowledged``: the answer delay announced to the user.
    announced_delay: Delay | None = attrs.field(default=None, converter=_optional_delay)
    #: On ``escalated``: to whom.
    to: str | None = attrs.field(default=None, validator=_text_or_none)
    #: On ``suspended``, ``escalated``, ``flagged_complex``: why (a short code, not free text).
    reason: str | None = attrs.field(default=None, validator=_text_or_none)
    attributes: Mapping[str, JSONScalar] = attrs.field(factory=dict, converter=_attributes)
    #: ``occurred_at`` in exact microseconds since the Unix epoch: the order of a
    #: contact's events (worked out once: it costs about a microsecond).
    occurred_us: int = attrs.field(init=False, eq=False, repr=False)
    #: ``occurred_at`` as stored (``isoformat()``), once first asked for.
    _occurred_text: str | None = attrs.field(init=False, default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.type is EventType.RECEIVED and self.channel is None:
            raise with_redacted(
                DataError(
                    f"event {self.event_id!r}: a received event needs a channel", field="channel"
                ),
                "a received event needs a channel",  # a rejects file names the event
            )
        object.__setattr__(self, "occurred_us", microseconds(self.occurred_at))

    # Worked out once per event, when first needed: an aware datetime's
    # isoformat() costs over a microsecond, and a contact's history is
    # evaluated again each time it gets an event.  A property over a slot,
    # not functools.cached_property: on a slotted class attrs serves that
    # through __getattr__, after the slot's AttributeError, which cost
    # 3 µs on first access, more than the isoformat() it saves.

    @property
    def occurred_text(self) -> str:
        """``occurred_at`` as stored (``isoformat()``)."""
        # getattr: an event pickled before this slot existed comes back without it.
        text: str | None = getattr(self, "_occurred_text", None)
        if text is None:
            text = self.occurred_at.isoformat()
            _OCCURRED_TEXT.__set__(self, text)
        return text

    def payload(self) -> dict[str, Any]:
        """The stored fields of this event (JSON-ready), without ids and times.

        Only the fields that are set, in a fixed order (the stored JSON's).
        """
        data: dict[str, Any] = {}
        if self.channel is not None:
            data["channel"] = self.channel
        if self.category is not None:
            data["category"] = self.category
        if self.priority is not None:
            data["priority"] = self.priority
        if self.service is not None:
            data["service"] = self.service
        if self.requester is not None:
            data["requester"] = self.requester
        if self.announced_delay is not None:
            data["announced_delay"] = str(self.announced_delay)
        if self.to is not None:
            data["to"] = self.to
        if self.reason is not None:
            data["reason"] = self.reason
        if self.attributes:
            data["attributes"] = dict(self.attributes)
        return data

    def recorded(self, recorded_at: dt.datetime) -> ContactEvent:
        """This event as stored when recorded at ``recorded_at``: a copy of its own.

        Its attributes too, so that the caller's event, whose attribute
        mapping stays mutable, shares nothing with the contact's history.
        """
        # A copy of the fields as they are (validated when this event was made).
        return _copy_recorded(self, recorded_at)

    @classmethod
    def from_stored(
        cls,
        event_id: str,
        contact_id: str,
        type_: EventType,
        occurred_at: dt.datetime,
        recorded_at: dt.datetime | None,
        payload: Mapping[str, Any],
    ) -> ContactEvent:
        """An event from stored fields, which were validated when first recorded.

        Skips the converters and validators: rebuilding a contact's history
        from the store is the engine's hottest path.
        """
        event = object.__new__(cls)
        setattr_ = object.__setattr__
        setattr_(event, "event_id", event_id)
        setattr_(event, "contact_id", contact_id)
        setattr_(event, "type", type_)
        setattr_(event, "occurred_at", occurred_at)
        setattr_(event, "occurred_us", microseconds(occurred_at))
        setattr_(event, "_occurred_text", None)
        setattr_(event, "recorded_at", recorded_at)
        get = payload.get
        for name in _PLAIN_FIELDS:
            setattr_(event, name, get(name))
        delay = get("announced_delay")
        setattr_(event, "announced_delay", None if delay is None else _stored_delay(delay))
        setattr_(event, "attributes", get("attributes") or {})
        return event

    def same_as(self, other: ContactEvent) -> bool:
        """Whether two events with the same id say the same thing.

        ``recorded_at`` aside, and the requester too: it is stored sealed
        with a key that may since have been forgotten (right to erasure).
        """
        mine, theirs = self.payload(), other.payload()
        mine.pop("requester", None)
        theirs.pop("requester", None)
        # The same instant, compared as such: Python's == on aware datetimes says
        # an instant of a clock change's repeated hour in a zone (2:30 in Paris
        # on the last Sunday of October) differs from the same instant read back
        # with its offset, and that 2:30 before and after the change are equal.
        return (
            self.type == other.type
            and self.contact_id == other.contact_id
            and self.occurred_us == other.occurred_us
            and mine == theirs
        )


def _copier() -> Callable[[ContactEvent, dt.datetime], ContactEvent]:
    """The copy :meth:`ContactEvent.recorded` makes, one statement per field.

    Written out as attrs writes its own methods: the fields' slots are set
    directly (a frozen class refuses setattr), and a loop over them cost
    about 3 µs an event, mostly in making a bound method per field, against
    1.9 µs written out.
    """
    names = [f.name for f in attrs.fields(ContactEvent)]
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": ContactEvent}
    lines = ["def copy(self, recorded_at):", "    event = _new(_cls)"]
    for name in names:
        scope[f"_set_{name}"] = ContactEvent.__dict__[name].__set__
        value = {"recorded_at": "recorded_at", "attributes": "dict(self.attributes)"}.get(
            name, f"self.{name}"
        )
        lines.append(f"    _set_{name}(event, {value})")
    lines.append("    return event")
    exec("\n".join(lines), scope)  # noqa: S102 - our own field names, as attrs does
    copy: Callable[[ContactEvent, dt.datetime], ContactEvent] = scope["copy"]
    return copy


_copy_recorded = _copier()
_OCCURRED_TEXT: Any = ContactEvent.__dict__["_occurred_text"]  # the slot's descriptor
#: The requester's slot: a history's copy of an event is the contact's own.
_REQUESTER = ContactEvent.__dict__["requester"]
_PLAIN_FIELDS = ("channel", "category", "priority", "service", "requester", "to", "reason")


@functools.lru_cache(maxsize=256)
def _stored_delay(text: str) -> Delay:
    return Delay.parse(text)


# -- the stored events ------------------------------------------------------------

# Events at the same instant keep the order they were recorded in, except
# that a contact is received before anything else happens to it.
_SAME_INSTANT_RANK = {t: 0 if t is EventType.RECEIVED else 1 for t in EventType}


class Contact(BaseAggregate[str]):
    """A contact's history, with the rules every new event must keep."""

    class Event(CanMutateAggregate[str], metaclass=MetaDomainEvent):
        """Base of a contact's stored events (version 1 of the schema)."""

        originator_id: str
        originator_version: int
        #: When the engine recorded the event (eventsourcing's timestamp).
        timestamp: dt.datetime
        event_id: str
        occurred_at: dt.datetime
        #: The event's other fields: see :meth:`ContactEvent.payload`.
        payload: dict[str, Any]

        type_name: ClassVar[EventType]

        def apply(self, aggregate: Contact) -> None:
            aggregate._add(self.to_contact_event())

        def to_contact_event(self) -> ContactEvent:
            return ContactEvent.from_stored(
                self.event_id,
                self.originator_id,
                self.type_name,
                self.occurred_at,
                self.timestamp,
                self.payload,
            )

    class Created(Event, CanInitAggregate[str]):
        originator_topic: str

    # One stored class per event type, so that each can evolve on its own
    # (class_version and upcast_v1_v2 on the class concerned).
    class Received(Created):
        type_name = EventType.RECEIVED

        def apply(self, aggregate: Contact) -> None:
            aggregate.history = []
            aggregate.ids = {}
            aggregate._add(self.to_contact_event())

    class Acknowledged(Event):
        type_name = EventType.ACKNOWLEDGED

    class HoldingReply(Event):
        type_name = EventType.HOLDING_REPLY

    class Answered(Event):
        type_name = EventType.ANSWERED

    class Escalated(Event):
        type_name = EventType.ESCALATED

    class Suspended(Event):
        type_name = EventType.SUSPENDED

    class Resumed(Event):
        type_name = EventType.RESUMED

    class Reopened(Event):
        type_name = EventType.REOPENED

    class Closed(Event):
        type_name = EventType.CLOSED

    class Reclassified(Event):
        type_name = EventType.RECLASSIFIED

    class FlaggedComplex(Event):
        type_name = EventType.FLAGGED_COMPLEX

    def __init__(self) -> None:
        self.history: list[ContactEvent] = []
        self.ids: dict[str, ContactEvent] = {}

    # The rules' state after the history (:func:`_rules_step`), kept by
    # :meth:`record`; unset or ``None``: to be worked out from the history.
    # A slot, not an attribute: derived, it is no part of the aggregate's
    # state (its equality and repr are eventsourcing's, over ``__dict__``).
    __slots__ = ("_rules",)
    _rules: _RulesState | None

    def _add(self, event: ContactEvent) -> None:
        self._rules = None  # record() sets it again when it knows it
        self.ids[event.event_id] = event
        history = self.history
        history.append(event)
        # Usually the latest: no need to sort (a stable sort would leave it last).
        if len(history) > 1 and _before(event, history[-2]):
            history.sort(key=_order)

    # -- commands -----------------------------------------------------------------

    # The commands below make their events as eventsourcing's ``_create`` and
    # ``trigger_event`` would (the same objects, applied the same way: tested
    # equal), without their generic steps — keyword filtering, the dataclass
    # constructor's per-field checks, rebuilding the recorded event from its
    # stored form — which were half the cost of recording an event.

    @classmethod
    def receive(cls, event: ContactEvent, recorded_at: dt.datetime) -> Contact:
        """A new contact from its ``received`` event."""
        check_instant(event, recorded_at)
        if event.type is not EventType.RECEIVED:
            raise ContactRuleError(
                event.contact_id,
                event.event_id,
                f"a contact's first recorded event must be 'received', not {event.type.value!r} "
                "(no such contact has been received)",
                "not_received",
            )
        if not isinstance(event.contact_id, str):  # as eventsourcing's _create refuses it
            raise TypeError(f"Given id was not a UUID or str: {event.contact_id!r}")
        contact = cls.__new__(cls)
        contact.__base_init__(event.contact_id, cls.INITIAL_VERSION, recorded_at)
        contact.__init__()  # type: ignore[misc]
        contact._record(event, recorded_at, cls.INITIAL_VERSION)
        contact._rules = _RECEIVED_STATE
        return contact

    def record(self, event: ContactEvent, recorded_at: dt.datetime) -> None:
        """Add ``event`` if it keeps the contact's history possible; raise otherwise."""
        known = self.ids.get(event.event_id)
        if known is not None:
            if known.same_as(event):
                raise DuplicateEvent(event.event_id)
            raise ContactRuleError(
                self.id,
                event.event_id,
                "this event id was already recorded with other content",
                "id_reused",
            )
        check_instant(event, recorded_at)
        history = self.history
        # The history is kept in time order: usually the new event goes last,
        # and the rules' state after the history so far decides it alone
        # (recording n events in order costs n steps, not n²/2).
        if history and _before(event, history[-1]):
            check_history([*history, event], self.id, event.event_id)
            state = None  # worked out again when next needed
        else:
            state = getattr(self, "_rules", None)
            if state is None:
                state = check_ordered(history, self.id, event.event_id)
            state = _rules_step(state, event, self.id, event.event_id)
        self._record(event, recorded_at, self._version + 1)
        self._rules = state

    def _record(self, event: ContactEvent, recorded_at: dt.datetime, version: int) -> None:
        """Make the stored event of ``event`` and apply it (the rules are checked)."""
        payload = event.payload()
        stored = object.__new__(_STORED[event.type])
        # A frozen dataclass's fields, in their declared order (the stored JSON's).
        fields = stored.__dict__
        fields["originator_id"] = self._id
        fields["originator_version"] = version
        fields["timestamp"] = recorded_at
        fields["event_id"] = event.event_id
        fields["occurred_at"] = event.occurred_at
        fields["payload"] = payload
        if version == self.INITIAL_VERSION:
            fields["originator_topic"] = _CONTACT_TOPIC
        # What the stored event's apply() adds: the event as read back from the store.
        self._add(event.recorded(recorded_at))
        self._version = version
        self._modified_on = recorded_at
        self._pending_events.append(stored)

    def has_unsealed_requesters(self) -> bool:
        """Whether an event not saved yet names a requester whose key is not made yet."""
        return any(
            str(stored.payload.get("requester", "")).startswith("p:")  # type: ignore[attr-defined]
            for stored in self._pending_events
        )

    def seal_requesters(self, seal: Callable[[str], str]) -> None:
        """Seal the requester of each event not saved yet (``seal(pseudonym)``: its stored form).

        Called just before the events are stored, once the whole batch has
        passed the rules: in the stored event and in the history kept here.
        """
        for stored in self._pending_events:
            payload = stored.payload  # type: ignore[attr-defined]
            ref = payload.get("requester")
            if ref is not None and ref.startswith("p:"):
                payload["requester"] = sealed = seal(ref)
                _REQUESTER.__set__(self.ids[stored.event_id], sealed)  # type: ignore[attr-defined]


_STORED: dict[EventType, type[Contact.Event]] = {
    cls.type_name: cls
    for cls in vars(Contact).values()
    if isinstance(cls, type) and issubclass(cls, Contact.Event) and hasattr(cls, "type_name")
}


_CONTACT_TOPIC = get_topic(Contact)
#: The stored topics of contact events, to read them apart from other aggregates'.
CONTACT_TOPICS: tuple[str, ...] = tuple(sorted(get_topic(cls) for cls in _STORED.values()))


def _order(event: ContactEvent) -> tuple[int, int]:
    # Used with stable sorts: equal keys keep their recording order.  The
    # instant in µs, not the datetime: Python compares two datetimes of one
    # zone by their wall-clock time, so in a clock change's repeated hour
    # 2:20 (before the change) would sort after 2:10 (after it).
    return (event.occurred_us, _SAME_INSTANT_RANK[event.type])


def _before(event: ContactEvent, other: ContactEvent) -> bool:
    """``_order(event) < _order(other)``, without making the two tuples (once per event)."""
    us, other_us = event.occurred_us, other.occurred_us
    return us < other_us or (
        us == other_us and _SAME_INSTANT_RANK[event.type] < _SAME_INSTANT_RANK[other.type]
    )


#: Clocks of the systems that feed the engine may run a little ahead.
CLOCK_TOLERANCE = dt.timedelta(days=1)
CLOCK_TOLERANCE_US = CLOCK_TOLERANCE // dt.timedelta(microseconds=1)
#: The years the engine's calendars can count in (those of the holidays package).
YEARS = (1803, 2100)
#: The same years' bounds in µs since the epoch: from 1 January of the first
#: (UTC), up to 1 January after the last.
YEARS_US = (
    microseconds(dt.datetime(YEARS[0], 1, 1, tzinfo=dt.UTC)),
    microseconds(dt.datetime(YEARS[1] + 1, 1, 1, tzinfo=dt.UTC)),
)


#: The ids of the events the engine records itself (escalations by check()).
ENGINE_EVENT_PREFIX = "sla-engine:"


def engine_escalation(event: ContactEvent) -> bool:
    """Whether ``event`` is an escalation recorded by the engine's ``check()``."""
    return event.type is EventType.ESCALATED and event.event_id.startswith(ENGINE_EVENT_PREFIX)


#: The last recording instant checked against, and it in µs: a batch shares one.
#: One tuple, replaced whole, so that threads never see one's instant with another's µs.
#: (A private object first: no caller can pass it, so the first call works its µs out.)
_last_recorded: tuple[dt.datetime, int] = (dt.datetime(1, 1, 1), 0)


def check_instant(event: ContactEvent, recorded_at: dt.datetime) -> None:
    """Refuse an event said to happen after it is recorded, or outside the calendars' years."""
    global _last_recorded
    last, recorded_us = _last_recorded
    if recorded_at is not last:
        recorded_us = microseconds(recorded_at)
        _last_recorded = (recorded_at, recorded_us)
    # In µs, exact: a datetime difference costs two offsets and a timedelta.
    if event.occurred_us - recorded_us > CLOCK_TOLERANCE_US:
        rule = "after the moment it is recorded: an event is recorded once it has happened"
        raise _quoting(
            ContactRuleError(
                event.contact_id,
                event.event_id,
                f"it happens at {event.occurred_at.isoformat()}, {rule} "
                f"(recorded at {recorded_at.isoformat()})",
                "in_future",
            ),
            f"it happens more than a day {rule}",
        )
    if YEARS_US[0] <= event.occurred_us < YEARS_US[1]:  # the UTC year, by microseconds
        return
    try:
        year = event.occurred_at.astimezone(dt.UTC).year
    except OverflowError:  # past 9999-12-31 in UTC: out of range all the same
        year = dt.MAXYEAR + 1
    if not YEARS[0] <= year <= YEARS[1]:
        rule = f"outside the years the calendars cover ({YEARS[0]}–{YEARS[1]})"
        raise _quoting(
            ContactRuleError(
                event.contact_id, event.event_id, f"it happens in {year}, {rule}", "out_of_range"
            ),
            f"it happens {rule}",
        )


def _quoting(error: ContactRuleError, rule: str) -> ContactRuleError:
    """``error``, which quotes the event's instants, with a redacted form that does not."""
    return with_redacted(error, rule)  # the rejects file names the row and its event


def check_history(events: Sequence[ContactEvent], contact_id: str, event_id: str) -> None:
    """Raise :class:`ContactRuleError` unless ``events``, in time order, could have happened.

    The rules: one ``received``, before everything else; ``resumed`` only while
    suspended and ``suspended`` only while not; after ``closed``, nothing but
    ``reopened``; ``reopened`` only after an answer or a closure.
    """
    check_ordered(sorted(events, key=_order), contact_id, event_id)


def check_ordered(
    ordered: Sequence[ContactEvent], contact_id: str, event_id: str
) -> tuple[bool, bool, bool]:
    """:func:`check_history` of events already in time order (by :func:`_order`).

    Returns the rules' state after them (:func:`_rules_step`).
    """

    def fail(rule: str, code: str) -> None:
        raise ContactRuleError(contact_id, event_id, rule, code)

    received = [e for e in ordered if e.type is EventType.RECEIVED]
    if len(received) > 1:
        fail("the contact is already received (one 'received' event per contact)", "received_twice")
    if ordered[0].type is not EventType.RECEIVED:
        first = ordered[0]
        raise _quoting(
            ContactRuleError(
                contact_id,
                event_id,
                f"{first.type.value!r} at {first.occurred_at.isoformat()} would happen before the "
                f"contact was received ({received[0].occurred_at.isoformat()})",
                "before_receipt",
            ),
            f"{first.type.value!r} would happen before the contact was received",
        )

    state = _RECEIVED_STATE
    for e in ordered[1:]:
        state = _rules_step(state, e, contact_id, event_id)
    return state


#: What the rules need of a history: (suspended, closed, answered).
_RulesState = tuple[bool, bool, bool]
_RECEIVED_STATE: _RulesState = (False, False, False)


def _rules_step(state: _RulesState, e: ContactEvent, contact_id: str, event_id: str) -> _RulesState:
    """The rules' state once ``e`` follows a history in ``state``; raise if it may not."""

    def fail(rule: str, code: str) -> NoReturn:
        raise ContactRuleError(contact_id, event_id, rule, code)

    kind = e.type
    if kind is EventType.RECEIVED:
        fail("the contact is already received (one 'received' event per contact)", "received_twice")
    suspended, closed, answered = state
    # An escalation the engine recorded stays when the service's closure,
    # recorded late, turns out to come before it: the closure must not be
    # refused for what the engine did without knowing of it (whichever of
    # the two is recorded first: a copy of the log in time order too).
    if closed and kind is not EventType.REOPENED and not engine_escalation(e):
        fail(
            f"{kind.value!r} after the contact was closed (only 'reopened' may follow)",
            "after_closed",
        )
    if kind is EventType.SUSPENDED:
        if suspended:
            fail("'suspended' while already suspended", "suspended_twice")
        return (True, closed, answered)
    if kind is EventType.RESUMED:
        if not suspended:
            fail("'resumed' without a 'suspended' before it", "resumed_unsuspended")
        return (False, closed, answered)
    if kind is EventType.CLOSED:
        return (False, True, answered)
    if kind is EventType.ANSWERED:
        return (suspended, closed, True)
    if kind is EventType.REOPENED:
        if not (closed or answered):
            fail("'reopened' before the contact was answered or closed", "reopened_unanswered")
        return _RECEIVED_STATE
    return state
