"""What the engine keeps of the people behind contacts: as little as it can.

- A requester's identity is replaced by a keyed pseudonym (HMAC-SHA256)
  before it is stored; the key comes from the embedding service and is never
  stored beside the data.
- Free text (a subject line, a note) is not stored unless the configuration
  asks for it: text values that look like prose are dropped from
  ``attributes``, ``reason`` and ``to``, which are meant for short codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from collections.abc import Mapping
from typing import Any, Protocol

import attrs
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._contact import MAX_CODE_LENGTH, ContactEvent, looks_like_free_text
from ._errors import DataError, with_redacted

__all__ = [
    "MAX_CODE_LENGTH",
    "Privacy",
    "looks_like_free_text",
    "pseudonym",
    "pseudonyms_to_forget",
    "same_person",
]


def pseudonym(identity: str, key: bytes) -> str:
    """The stored stand-in for a requester: ``p:`` and 32 hex digits of HMAC-SHA256.

    Of the identity as :func:`same_person` writes it, so that one person
    written two ways (« Marie.Dupont@Example.org », « marie.dupont@example.org »,
    an accent composed or not) gets one pseudonym, and one erasure covers
    all their requests.
    """
    return _hmac(same_person(identity), key)


def same_person(identity: str) -> str:
    """An identity written one way: Unicode NFC, case folded, spaces collapsed.

    Two references that differ only so are taken for one person: erasing
    one erases both (never the other way round: a request left behind).
    """
    folded = unicodedata.normalize("NFC", identity).casefold()
    return " ".join(unicodedata.normalize("NFC", folded).split())


def pseudonyms_to_forget(identity: str, key: bytes) -> tuple[str, ...]:
    """Every pseudonym ``identity`` may have been stored under.

    Before identities were written one way (:func:`same_person`), the engine
    hashed them as given, trimmed only: a store written then keeps those
    pseudonyms, which an erasure must find too.
    """
    legacy = _hmac(identity.strip(), key)
    current = pseudonym(identity, key)
    return (current,) if legacy == current else (current, legacy)


def _hmac(text: str, key: bytes) -> str:
    return "p:" + hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


class RequesterKeys(Protocol):
    """Where a store keeps one erasable key per requester (see :class:`TimerView`)."""

    def requester_key(self, ref: str) -> tuple[str, bytes]: ...

    def find_requester_key(self, key_id: str) -> bytes | None: ...


def key_ref(pseudonym_: str) -> str:
    """Where a requester's key is filed: a hash of the pseudonym, not the pseudonym itself."""
    return (
        "k:" + hashlib.sha256(b"sla-engine requester key:" + pseudonym_.encode()).hexdigest()[:32]
    )


def seal(pseudonym_: str, key_id: str, key: bytes) -> str:
    """The stored requester: ``e:``, a random key id, and the pseudonym under AES-GCM."""
    # One key per requester seals one plaintext (their pseudonym): a nonce drawn
    # from it makes the seal deterministic, so re-recording an event is a duplicate.
    nonce = hmac.new(key, pseudonym_.encode(), hashlib.sha256).digest()[:12]

    sealed = AESGCM(key).encrypt(nonce, pseudonym_.encode(), key_id.encode())
    return f"e:{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def unseal(stored: str, keys: RequesterKeys) -> str | None:
    """The pseudonym inside a stored requester, or ``None`` once its key is forgotten."""
    if not stored.startswith("e:"):
        return stored
    _, key_id, blob = stored.split(":", 2)
    key = keys.find_requester_key(key_id)
    if key is None:
        return None
    raw = base64.urlsafe_b64decode(blob)
    return AESGCM(key).decrypt(raw[:12], raw[12:], key_id.encode()).decode()


@attrs.frozen
class Privacy:
    """How events are cleaned before they are stored."""

    pseudonym_key: bytes | None = None
    keep_free_text: bool = False

    def clean(self, event: ContactEvent) -> ContactEvent:
        """``event`` as it may be stored: its requester pseudonymised, prose dropped.

        The pseudonym is sealed with the requester's own key by :meth:`seal`
        just before the event is stored, once its whole batch has passed the
        rules: a key is made only for a requester the store keeps something of.
        """
        if (
            event.requester is None
            and event.reason is None
            and event.to is None
            and not event.attributes
        ):
            return event  # most events: nothing that could be personal
        changes: dict[str, Any] = {}
        if event.requester is not None:
            if self.pseudonym_key is None:
                raise with_redacted(
                    DataError(
                        f"event {event.event_id!r} names a requester, but the engine has no "
                        "pseudonymisation key: give one (pseudonym_key=…, or "
                        "SLA_ENGINE_PSEUDONYM_KEY for the command line) or leave the "
                        "requester out",
                        field="requester",
                    ),
                    "the event names a requester, but the engine has no pseudonymisation "
                    "key: give one (pseudonym_key=…, or SLA_ENGINE_PSEUDONYM_KEY for the "
                    "command line) or leave the requester out",
                )
            changes["requester"] = pseudonym(event.requester, self.pseudonym_key)
        if not self.keep_free_text:
            for name in ("reason", "to"):
                if looks_like_free_text(getattr(event, name)):
                    changes[name] = None
            # A name can hold prose as well as a value (« Mme X, victime de… »: true).
            attributes: Mapping[str, Any] = event.attributes
            if any(
                looks_like_free_text(k) or looks_like_free_text(v) for k, v in attributes.items()
            ):
                changes["attributes"] = {
                    k: v
                    for k, v in attributes.items()
                    if not (looks_like_free_text(k) or looks_like_free_text(v))
                }
        return attrs.evolve(event, **changes) if changes else event

    @staticmethod
    def seal(ref: str, keys: RequesterKeys) -> str:
        """A requester's pseudonym sealed with their own key, made if new.

        Forgetting the key (crypto-shredding) makes the stored requester
        unreadable, the log unchanged.
        """
        key_id, key = keys.requester_key(key_ref(ref))
        return seal(ref, key_id, key)
