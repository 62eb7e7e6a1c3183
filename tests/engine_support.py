"""Shared helpers for the engine tests: a small catalogue, instants, engines per backend."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

from sla_engine._catalogue import Catalogue, parse_catalogue
from sla_engine._engine import SlaEngine

P = ZoneInfo("Europe/Paris")

CATALOGUE = """
[catalogue]
id = "test"
title = "Catalogue de test"
version = "2025-1"

[[engagement]]
id = "email-5"
title = "Nous traitons vos courriels dans un délai maximum de 5 jours ouvrés"
source = "test, engagement 1"
kind = "response"
when = { channel = ["email"], priority = ["normal"] }
start = "received"
stop = ["answered"]
pause = "suspended"
pause_mode = "suspend"
target = "5 jours ouvrés"
warn_at = [0.5, 0.8]
complex = "exempt"

[[engagement]]
id = "email-urgent"
title = "Situations urgentes : réponse sous 1 jour ouvré"
source = "test, engagement 2"
kind = "response"
when = { channel = ["email"], priority = ["urgent"] }
start = "received"
stop = ["answered"]
target = "1 jour ouvré"

[[engagement]]
id = "letter-15"
title = "Courriers sous 15 jours ouvrés, délai reparti à réception des pièces"
source = "test, engagement 3"
kind = "response"
when = { channel = ["letter"] }
start = "received"
stop = ["answered"]
pause = "suspended"
pause_mode = "restart"
target = "15 jours ouvrés"
complex = "30 jours ouvrés"

[[engagement]]
id = "ack"
title = "Accusé de réception sous 2 jours ouvrés"
source = "test, engagement 4"
kind = "response"
when = { channel = ["email", "letter", "web"] }
start = "received"
stop = ["acknowledged"]
target = "2 jours ouvrés"

[[engagement]]
id = "announced"
title = "Réponse dans le délai annoncé"
source = "test, engagement 5"
kind = "response"
when = { channel = ["web"] }
start = "received"
stop = ["answered"]
target = "announced"

[[engagement]]
id = "rings"
title = "Prise d'appel en moins de 5 sonneries"
source = "test, engagement 6"
kind = "measure"
when = { channel = ["phone"] }
event = "answered"
attribute = "rings"
at_most = 5

[[engagement]]
id = "courtesy"
title = "Un accueil courtois"
source = "test, engagement 7"
kind = "manual"
"""


def sample_catalogue() -> Catalogue:
    return parse_catalogue(CATALOGUE, source="tests/engine_support.py")


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=P)


BACKENDS = ["memory", "sqlite", "postgres"]
#: The backends whose store outlives an engine.
PERSISTENT = [b for b in BACKENDS if b != "memory"]


_counter = itertools.count()


def store_for(backend: str, folder: Path) -> str | None:
    if backend == "memory":
        return None
    if backend == "sqlite":
        return f"sqlite:///{folder / f'engine-{next(_counter)}.db'}"
    raise ValueError(f"{backend}: use the postgres_store fixture")


EngineFactory = Callable[..., SlaEngine]


def one_engagement(target: str, extra: str = "", *, source: str = "tests") -> str:
    """A catalogue's TOML text: one response engagement « e » on e-mails, in calendar fr.

    ``target`` is its delay; ``extra``, more keys of the engagement (a pause,
    ``warn_at``…).
    """
    return f"""
[catalogue]
id = "one"
title = "One engagement"
version = "1"
calendar = "fr"

[[engagement]]
id = "e"
title = "Nous vous répondons sous {target}."
source = "{source}"
kind = "response"
when = {{ channel = ["email"] }}
start = "received"
stop = ["answered"]
target = "{target}"
{extra}
"""


def event_mapping(event_id: str, contact: str, kind: str, when: dt.datetime) -> dict[str, object]:
    """An event as a mapping, as a service sends one; a receipt comes by e-mail."""
    event: dict[str, object] = {
        "event_id": event_id, "contact_id": contact, "type": kind, "occurred_at": when,
    }  # fmt: skip
    if kind == "received":
        event["channel"] = "email"
    return event


def november_2025(day: int, hour: int = 10) -> dt.datetime:
    """An instant of November 2025 in Paris."""
    return dt.datetime(2025, 11, day, hour, tzinfo=P)


def delays_in_two_units() -> list[dict[str, object]]:
    """Two contacts of 4 November 2025 told delays in different units (weeks, working days).

    Both answered in time (services-publics-plus): a review must not pool
    their delays into one median.
    """
    on = november_2025
    events: list[dict[str, object]] = []
    for cid, delay, answered in [("A", "2 semaines", 17), ("B", "10 jours ouvrés", 7)]:
        events += [
            {"event_id": f"{cid}1", "contact_id": cid, "type": "received",
             "occurred_at": on(4), "channel": "email"},
            {"event_id": f"{cid}2", "contact_id": cid, "type": "acknowledged",
             "occurred_at": on(4, 11), "announced_delay": delay},
            {"event_id": f"{cid}3", "contact_id": cid, "type": "answered",
             "occurred_at": on(answered)},
        ]  # fmt: skip
    return events
