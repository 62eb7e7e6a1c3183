"""The exceptions of sla-engine.

Every error the engine raises on purpose derives from :class:`SlaEngineError`,
so an embedding service can catch them all in one place.  Errors about bad
input also derive from :class:`ValueError`, and errors about data read from a
file say where: the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt
import typing

__all__ = [
    "CalendarCoverageError",
    "CalendarDataError",
    "CalendarSpecError",
    "DataError",
    "DelayError",
    "InvalidTimeError",
    "NaiveDatetimeError",
    "SlaEngineError",
    "redacted",
    "unquoted",
    "with_redacted",
]


class SlaEngineError(Exception):
    """Base class of every error raised by sla-engine."""

    #: The message without the input it quotes, when it quotes some: what a
    #: rejects file, a log line or an event's own error may say (an event's
    #: field can hold anything, personal data too).
    redacted: str | None = None


_E = typing.TypeVar("_E", bound=SlaEngineError)
_T = typing.TypeVar("_T")


def with_redacted(error: _E, text: str) -> _E:
    """``error``, whose message quotes input, with ``text``: the same without it."""
    error.redacted = text
    return error


def unquoted(parse: typing.Callable[[typing.Any], _T], value: typing.Any, field: str) -> _T:
    """``parse(value)`` for an event's ``field``, whose error, if any, does not repeat ``value``.

    An event's field may hold anything, a person's situation too: the error
    an event raises names the field and says what is wrong, never what was
    written there (docs/security.md).
    """
    try:
        return parse(value)
    except DataError as error:
        raise DataError(redacted(error), field=field) from None
    except SlaEngineError as error:
        raise type(error)(f"{field}: {redacted(error)}") from None


def redacted(error: BaseException) -> str:
    """What may be said of ``error`` without repeating its input: a reason, no location."""
    if isinstance(error, SlaEngineError) and error.redacted is not None:
        return error.redacted
    return error.message if isinstance(error, DataError) else str(error)


class DataError(SlaEngineError, ValueError):
    """Input that is not valid, with where it was found.

    ``source`` is a file name (or another description of where the data came
    from), ``line`` a 1-based line number and ``field`` the column or key.
    Each is optional; those given are put in front of the message, in the
    ``file:line: field: message`` form that editors and ``grep`` understand.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.line = line
        self.field = field
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.source is not None:
            where = self.source
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        if self.field is not None:
            where += f"{self.field}: "
        return where + self.message


class CalendarSpecError(SlaEngineError, ValueError):
    """A calendar spec string (``fr-57+B``) names no known calendar."""


class CalendarDataError(DataError):
    """Calendar data (a school-calendar export, an iCalendar file) is malformed."""


class DelayError(SlaEngineError, ValueError):
    """A delay (``15 jours ouvrés``) cannot be parsed, or its unit is unknown."""


class NaiveDatetimeError(SlaEngineError, ValueError):
    """A datetime has no time zone where the engine needs an instant."""


class InvalidTimeError(SlaEngineError, ValueError):
    """A local time does not exist (DST gap) or is ambiguous (DST fold)."""


class CalendarCoverageError(SlaEngineError):
    """A computation needs a day outside the span a calendar's data covers.

    The engine never treats an unknown day as an ordinary one: holiday data
    exists only for some years, and school calendars only for the school
    years the ministry has published.
    """

    def __init__(
        self,
        *,
        calendar: str,
        day: dt.date,
        covered: tuple[dt.date, dt.date],
        data: str,
    ) -> None:
        self.calendar = calendar
        self.day = day
        self.covered = covered
        self.data = data
        first, last = covered
        super().__init__(
            f"calendar {calendar!r}: {day.isoformat()} is outside the span covered "
            f"by its {data} ({first.isoformat()} to {last.isoformat()})"
        )
