"""What the engine keeps of the people behind contacts: as little as it can.

- A requester's identity is replaced by a keyed pseudonym (HMAC-SHA256)
  before it is stored; the key comes from the embedding service and is never
  stored beside the data.
- Free text (a subject line, a note) is not stored unless the configuration
  asks for it: text values that look like prose are dropped from
  ``attributes``, ``reason`` and ``to``, which are meant for short codes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import attrs

from ._contact import ContactEvent
from ._errors import DataError

__all__ = ["Privacy", "looks_like_free_text", "pseudonym"]

#: A code (« pieces », « N+1 », « multi-services ») is short and has no spaces.
MAX_CODE_LENGTH = 40


def pseudonym(identity: str, key: bytes) -> str:
    """The stored stand-in for a requester: ``p:`` and 32 hex digits of HMAC-SHA256."""
    digest = hmac.new(key, identity.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return "p:" + digest[:32]


def looks_like_free_text(value: object) -> bool:
    return isinstance(value, str) and (
        len(value) > MAX_CODE_LENGTH or any(c.isspace() for c in value)
    )


@attrs.frozen
class Privacy:
    """How events are cleaned before they are stored."""

    pseudonym_key: bytes | None = None
    keep_free_text: bool = False

    def clean(self, event: ContactEvent) -> ContactEvent:
        changes: dict[str, Any] = {}
        if event.requester is not None:
            if self.pseudonym_key is None:
                raise DataError(
                    f"event {event.event_id!r} names a requester, but the engine has no "
                    "pseudonymisation key: give one (pseudonym_key=…) or leave the requester out",
                    field="requester",
                )
            changes["requester"] = pseudonym(event.requester, self.pseudonym_key)
        if not self.keep_free_text:
            for name in ("reason", "to"):
                if looks_like_free_text(getattr(event, name)):
                    changes[name] = None
            attributes: Mapping[str, Any] = event.attributes
            if any(looks_like_free_text(v) for v in attributes.values()):
                changes["attributes"] = {
                    k: v for k, v in attributes.items() if not looks_like_free_text(v)
                }
        return attrs.evolve(event, **changes) if changes else event
