"""The words of contact events: event types, channels, priorities, categories.

Canonical values are English identifiers; French names used by services
(courrier, courriel, réclamation…) are accepted on input and mapped here,
in one place, for the event store, the catalogues and the log reader alike.
"""

from __future__ import annotations

import enum
import functools

from ._delay import normalise_words
from ._errors import DataError, with_redacted

__all__ = ["Channel", "EventType", "Priority", "canonical_category"]


class _Vocabulary(enum.StrEnum):
    """A closed set of words with French and English aliases."""

    @classmethod
    def parse(cls, text: str) -> _Vocabulary:
        """The member named by ``text`` (any case, accents optional, French aliases)."""
        if isinstance(text, cls):
            return text
        table = _ALIASES.get(cls.__name__, {})
        # The canonical spelling is by far the most frequent: no normalising then.
        member = table.get(text) or table.get(normalise_words(str(text)))
        if member is None:
            known = ", ".join(m.value for m in cls)
            raise with_redacted(
                DataError(f"unknown {cls._label()} {text!r}; known: {known}"),
                f"unknown {cls._label()}; known: {known}",
            )
        return member

    @classmethod
    def _label(cls) -> str:
        return {"EventType": "event type", "Channel": "channel", "Priority": "priority"}[
            cls.__name__
        ]


class EventType(_Vocabulary):
    """What happened to a contact."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    HOLDING_REPLY = "holding_reply"
    ANSWERED = "answered"
    ESCALATED = "escalated"
    SUSPENDED = "suspended"
    RESUMED = "resumed"
    REOPENED = "reopened"
    CLOSED = "closed"
    RECLASSIFIED = "reclassified"
    FLAGGED_COMPLEX = "flagged_complex"


class Channel(_Vocabulary):
    """How a request reached the service."""

    LETTER = "letter"
    EMAIL = "email"
    PHONE = "phone"
    COUNTER = "counter"
    WEB = "web"


class Priority(_Vocabulary):
    """A request's priority: ``normal`` or ``urgent`` (an engagement may apply to one)."""

    NORMAL = "normal"
    URGENT = "urgent"


_FRENCH: dict[str, dict[str, str]] = {
    "EventType": {
        "reçu": "received",
        "reception": "received",
        "réception": "received",
        "accusé de réception": "acknowledged",
        "accuse de reception": "acknowledged",
        "ar": "acknowledged",
        "réponse d'attente": "holding_reply",
        "reponse d attente": "holding_reply",
        "holding reply": "holding_reply",
        "répondu": "answered",
        "réponse": "answered",
        "escaladé": "escalated",
        "escalade": "escalated",
        "suspendu": "suspended",
        "suspension": "suspended",
        "repris": "resumed",
        "reprise": "resumed",
        "rouvert": "reopened",
        "réouverture": "reopened",
        "clos": "closed",
        "clôturé": "closed",
        "clôture": "closed",
        "reclassé": "reclassified",
        "requalifié": "reclassified",
        "complexe": "flagged_complex",
        "situation complexe": "flagged_complex",
        "flagged complex": "flagged_complex",
    },
    "Channel": {
        "courrier": "letter",
        "lettre": "letter",
        "postal": "letter",
        "mail": "email",
        "e-mail": "email",
        "courriel": "email",
        "mél": "email",
        "téléphone": "phone",
        "telephone": "phone",
        "appel": "phone",
        "accueil": "counter",
        "guichet": "counter",
        "formulaire": "web",
        "formulaire web": "web",
        "site": "web",
        "internet": "web",
    },
    "Priority": {
        "urgent": "urgent",
        "urgente": "urgent",
        "normale": "normal",
        "prioritaire": "urgent",
    },
}

_CATEGORIES = {
    "réclamation": "complaint",
    "reclamation": "complaint",
    "plainte": "complaint",
    "suggestion": "suggestion",
    "demande d'information": "information",
    "renseignement": "information",
    "information": "information",
    "rendez-vous": "appointment",
    "rendez vous": "appointment",
    "rdv": "appointment",
}


def _aliases() -> dict[str, dict[str, _Vocabulary]]:
    table: dict[str, dict[str, _Vocabulary]] = {}
    for cls in (EventType, Channel, Priority):
        names: dict[str, _Vocabulary] = {}
        for member in cls:
            names[member.value] = member
            names[normalise_words(member.value)] = member

        for alias, value in _FRENCH[cls.__name__].items():
            names[normalise_words(alias)] = cls(value)
        table[cls.__name__] = names
    return table


_ALIASES = _aliases()


@functools.lru_cache(maxsize=4096)
def canonical_category(text: str) -> str:
    """Categories are an open set; known French names map to the English identifiers.

    ``"Réclamation"`` → ``"complaint"``; an unknown category is kept,
    normalised (lower case, accents kept, single spaces).
    """
    known = _CATEGORY_NAMES.get(normalise_words(text))
    return known if known is not None else " ".join(text.lower().split())


_LABELS = {
    "fr": {
        "letter": "courrier",
        "email": "courriel",
        "phone": "téléphone",
        "counter": "accueil",
        "web": "formulaire en ligne",
        "normal": "normale",
        "urgent": "urgente",
        "complaint": "réclamation",
        "suggestion": "suggestion",
        "information": "demande d'information",
        "appointment": "rendez-vous",
    },
    "en": {},
}


def label(value: str | None, lang: str = "fr") -> str:
    """A channel, priority or category as people say it: ``email`` → « courriel »."""
    if value is None:
        return "—"
    return _LABELS.get(lang, {}).get(value, value)


_CATEGORY_NAMES = {normalise_words(alias): value for alias, value in _CATEGORIES.items()}
