"""sla-engine: measure how well a public service keeps its engagements.

The public API is what this module exports; everything in underscored
modules is private and may change.
"""

from ._calendar import Calendar, CalendarCoverage, calendar
from ._closures import Closure, closures_from_ics
from ._deadline import Deadline, deadline
from ._delay import Delay, Unit
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
from ._territories import Territory, territories

__version__ = "0.1.0"

__all__ = [
    "Calendar",
    "CalendarCoverage",
    "CalendarCoverageError",
    "CalendarDataError",
    "CalendarSpecError",
    "Closure",
    "DataError",
    "Deadline",
    "Delay",
    "DelayError",
    "InvalidTimeError",
    "NaiveDatetimeError",
    "OpeningHours",
    "SchoolDaysOff",
    "SchoolYear",
    "SchoolZone",
    "SlaEngineError",
    "Territory",
    "Unit",
    "calendar",
    "closures_from_ics",
    "deadline",
    "school_zone",
    "school_zones",
    "territories",
]
