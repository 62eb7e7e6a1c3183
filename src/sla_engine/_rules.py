"""The rules a store was replayed with, recorded in the store itself.

A store remembers the catalogue (its whole TOML text, so that a figure can
be traced to the exact rules even if the file changes or disappears) and
the calendar it was evaluated with (its spec, and the service's settings
that refine it: time zone, working week, opening hours, closures), as events
of one aggregate.  A
report without ``--catalogue`` uses them; changing them appends a new
event, never rewrites the old one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
from eventsourcing.domain import (
    BaseAggregate,
    CanInitAggregate,
    CanMutateAggregate,
    MetaDomainEvent,
)

__all__ = ["RULES_ID", "Rules", "StoredRules"]

#: The aggregate id of the rules (contact ids never start with this prefix in practice).
RULES_ID = "sla-engine:rules"


@attrs.frozen
class StoredRules:
    catalogue_source: str
    catalogue_text: str
    calendar_spec: str
    chosen_at: dt.datetime
    #: :meth:`Calendar.settings` as JSON text; empty when the spec says it all
    #: (and in rules recorded before stores kept them).
    calendar_settings: str = ""


class Rules(BaseAggregate[str]):
    """The successive rule sets of a store."""

    class Event(CanMutateAggregate[str], metaclass=MetaDomainEvent):
        originator_id: str
        originator_version: int
        timestamp: dt.datetime
        catalogue_source: str
        catalogue_text: str
        calendar_spec: str
        calendar_settings: str

        # Version 2 added the calendar's settings; version 1 had none.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["calendar_settings"] = ""

        def apply(self, aggregate: Any) -> None:
            aggregate.current = StoredRules(
                self.catalogue_source,
                self.catalogue_text,
                self.calendar_spec,
                self.timestamp,
                self.calendar_settings,
            )

    class Chosen(Event, CanInitAggregate[str]):
        originator_topic: str

    class Changed(Event):
        pass

    def __init__(self) -> None:
        self.current: StoredRules | None = None

    @classmethod
    def choose(cls, source: str, text: str, spec: str, settings: str, at: dt.datetime) -> Rules:
        return cls._create(
            cls.Chosen,
            id=RULES_ID,
            timestamp=at,
            catalogue_source=source,
            catalogue_text=text,
            calendar_spec=spec,
            calendar_settings=settings,
        )

    def change(self, source: str, text: str, spec: str, settings: str, at: dt.datetime) -> None:
        self.trigger_event(
            self.Changed,
            timestamp=at,
            catalogue_source=source,
            catalogue_text=text,
            calendar_spec=spec,
            calendar_settings=settings,
        )
