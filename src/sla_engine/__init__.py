"""sla-engine: measure how well a public service keeps its engagements.

The public API is what this module exports; everything in underscored
modules is private and may change.
"""

from ._anchors import AnchorError
from ._calendar import Calendar, CalendarCoverage, calendar
from ._catalogue import (
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
from ._closures import Closure, closures_from_ics
from ._contact import ContactEvent, ContactRuleError, RecordOutcome
from ._deadline import Deadline, deadline
from ._delay import Delay, Unit
from ._engine import (
    Alert,
    EscalationPolicy,
    RecordResult,
    Rejected,
    SlaEngine,
    WhatIf,
    system_clock,
)
from ._errors import (
    CalendarCoverageError,
    CalendarDataError,
    CalendarSpecError,
    DataError,
    DelayError,
    InvalidTimeError,
    NaiveDatetimeError,
    SlaEngineError,
)
from ._hours import OpeningHours
from ._school import SchoolDaysOff, SchoolYear, SchoolZone, school_zone, school_zones
from ._site_engine import RejectedSiteEvent, SiteRecordResult
from ._sites import SiteEvent, SiteEventType, SiteRegister, SiteRuleError, load_site_register
from ._territories import Territory, territories
from ._timers import Pause, Timer, TimerState
from ._vocabulary import Channel, EventType, Priority

__version__ = "0.1.0"

__all__ = [
    "Alert",
    "AnchorError",
    "Calendar",
    "CalendarCoverage",
    "CalendarCoverageError",
    "CalendarDataError",
    "CalendarSpecError",
    "Catalogue",
    "CatalogueError",
    "Channel",
    "Closure",
    "ContactEvent",
    "ContactRuleError",
    "DataError",
    "Deadline",
    "Delay",
    "DelayError",
    "Engagement",
    "EngagementKind",
    "EscalationPolicy",
    "EventType",
    "InvalidTimeError",
    "Match",
    "NaiveDatetimeError",
    "OpeningHours",
    "Pause",
    "PauseMode",
    "Priority",
    "RecordOutcome",
    "RecordResult",
    "Rejected",
    "RejectedSiteEvent",
    "SchoolDaysOff",
    "SchoolYear",
    "SchoolZone",
    "SiteEvent",
    "SiteEventType",
    "SiteRecordResult",
    "SiteRegister",
    "SiteRuleError",
    "SlaEngine",
    "SlaEngineError",
    "Territory",
    "Timer",
    "TimerState",
    "Unit",
    "WhatIf",
    "calendar",
    "catalogue_names",
    "closures_from_ics",
    "deadline",
    "load_catalogue",
    "load_site_register",
    "parse_catalogue",
    "school_zone",
    "school_zones",
    "system_clock",
    "territories",
]
