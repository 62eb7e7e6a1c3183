"""Delays: an amount and a unit, written the way French services write them.

``Delay.parse("15 jours ouvrés")`` gives ``Delay(15, Unit.JOURS_OUVRES)``.
Units keep their French legal names; English aliases are accepted on input.
"""

from __future__ import annotations

import difflib
import enum
import functools
import re
import unicodedata

import attrs

from ._errors import DelayError, with_redacted

__all__ = ["Delay", "Unit", "normalise_words"]


class Unit(enum.StrEnum):
    """The units a delay can be counted in.

    The value is the French name, as written in charters and in the law; a
    unit compares and hashes equal to it (``Unit.JOURS_OUVRES == "jours
    ouvrés"``), which keeps look-ups on the hot path as cheap as a string's.
    """

    #: Days the service works: its working week (Monday–Friday by default)
    #: minus public holidays and the service's own closure days.
    JOURS_OUVRES = "jours ouvrés"
    #: Monday–Saturday minus public holidays (the legal notion; closures of
    #: one service do not change it).  A delay can end on a Saturday: not
    #: extended by default, extended by CPC art. 642 when asked (``extend=True``).
    JOURS_OUVRABLES = "jours ouvrables"
    #: Every day.
    JOURS_CALENDAIRES = "jours calendaires"
    #: Whole days: neither the day of the event nor the expiry day counts.
    JOURS_FRANCS = "jours francs"
    #: Jours ouvrés inside the school periods of the calendar's school zone.
    JOURS_SCOLAIRES = "jours scolaires"
    SEMAINES = "semaines"
    MOIS = "mois"
    #: Elapsed hours, in real time (a DST change does not add or remove one).
    HEURES = "heures"
    #: Hours inside the service's opening hours, on days it is open.
    HEURES_OUVREES = "heures ouvrées"

    @property
    def is_day_count(self) -> bool:
        """Whether the unit counts selected days one by one (ouvrés, ouvrables, scolaires)."""
        return self in _DAY_COUNTS

    @property
    def is_hours(self) -> bool:
        """Whether the unit counts hours (heures, heures ouvrées) rather than days."""
        return self in _HOURS

    @property
    def extended_by_default(self) -> bool:
        """Whether a delay in this unit ending on a non-working day is extended (CPC art. 642)."""
        return self in _EXTENDED

    @property
    def extendable(self) -> bool:
        """Whether a delay in this unit can end on a day CPC art. 642 extends, so that
        ``extend`` changes it: the units extended by default, and jours ouvrables
        (a Saturday, or a day the service is closed).

        Not jours ouvrés nor jours scolaires: they end on a day the service
        works, which is where the engagement says the answer is due (a Saturday
        too, for a service that works on Saturdays); nor hours.
        """
        return self in _EXTENDABLE

    def label(self, amount: int, lang: str = "fr") -> str:
        """The unit's name agreeing with ``amount``: ``1 jour ouvré``, ``2 business days``."""
        singular, plural = _LABELS[lang][self]
        return singular if amount == 1 else plural

    @classmethod
    def parse(cls, text: str | Unit) -> Unit:
        """Return the unit named by ``text`` (French or English, any case, accents optional)."""
        if isinstance(text, Unit):
            return text
        try:
            return _UNIT_NAMES[normalise_words(text)]
        except (KeyError, TypeError):
            known = ", ".join(u.value for u in cls)
            if isinstance(text, str) and normalise_words(text) in _YEARS:
                why = "years are not a unit; count them in mois, 12 a year"
                raise with_redacted(
                    DelayError(f"unknown unit {text!r}: {why}"), f"unknown unit: {why}"
                ) from None
            raise with_redacted(
                DelayError(f"unknown unit {text!r}; known units: {known}"),
                f"unknown unit; known units: {known}",
            ) from None


_HOURS = frozenset({Unit.HEURES, Unit.HEURES_OUVREES})
_DAY_COUNTS = frozenset({Unit.JOURS_OUVRES, Unit.JOURS_OUVRABLES, Unit.JOURS_SCOLAIRES})
_EXTENDED = frozenset({Unit.JOURS_CALENDAIRES, Unit.JOURS_FRANCS, Unit.SEMAINES, Unit.MOIS})
_EXTENDABLE = _EXTENDED | {Unit.JOURS_OUVRABLES}

_LABELS: dict[str, dict[Unit, tuple[str, str]]] = {
    "fr": {
        Unit.JOURS_OUVRES: ("jour ouvré", "jours ouvrés"),
        Unit.JOURS_OUVRABLES: ("jour ouvrable", "jours ouvrables"),
        Unit.JOURS_CALENDAIRES: ("jour calendaire", "jours calendaires"),
        Unit.JOURS_FRANCS: ("jour franc", "jours francs"),
        Unit.JOURS_SCOLAIRES: ("jour scolaire", "jours scolaires"),
        Unit.SEMAINES: ("semaine", "semaines"),
        Unit.MOIS: ("mois", "mois"),
        Unit.HEURES: ("heure", "heures"),
        Unit.HEURES_OUVREES: ("heure ouvrée", "heures ouvrées"),
    },
    "en": {
        Unit.JOURS_OUVRES: ("business day", "business days"),
        # « Ouvrable » is no English word; "working" alone would read as
        # jours ouvrés ("working days" is an alias of those on input).
        Unit.JOURS_OUVRABLES: (
            "working day (Monday to Saturday)",
            "working days (Monday to Saturday)",
        ),
        Unit.JOURS_CALENDAIRES: ("calendar day", "calendar days"),
        Unit.JOURS_FRANCS: ("clear day", "clear days"),
        Unit.JOURS_SCOLAIRES: ("school day", "school days"),
        Unit.SEMAINES: ("week", "weeks"),
        Unit.MOIS: ("month", "months"),
        Unit.HEURES: ("hour", "hours"),
        Unit.HEURES_OUVREES: ("business hour", "business hours"),
    },
}


@functools.lru_cache(maxsize=8192)
def normalise_words(text: str) -> str:
    """Lower-case, strip accents, fold apostrophes, hyphens and runs of spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = plain.lower().replace("’", "'").replace("-", " ").replace("_", " ")
    return " ".join(plain.split())


def _names() -> dict[str, Unit]:
    names: dict[str, Unit] = {}
    for unit in Unit:
        for lang in _LABELS:
            for label in _LABELS[lang][unit]:
                names[normalise_words(label)] = unit
    extra = {
        "jours": Unit.JOURS_CALENDAIRES,
        "jour": Unit.JOURS_CALENDAIRES,
        "days": Unit.JOURS_CALENDAIRES,
        "day": Unit.JOURS_CALENDAIRES,
        "working days": Unit.JOURS_OUVRES,
        "working day": Unit.JOURS_OUVRES,
        "jo": Unit.JOURS_OUVRES,
        "j ouvres": Unit.JOURS_OUVRES,
        "j ouvrables": Unit.JOURS_OUVRABLES,
        # The English label before it said Monday to Saturday.
        "ouvrable day": Unit.JOURS_OUVRABLES,
        "ouvrable days": Unit.JOURS_OUVRABLES,
        "jours de classe": Unit.JOURS_SCOLAIRES,
        "h": Unit.HEURES,
        "semaine calendaire": Unit.SEMAINES,
        "semaines calendaires": Unit.SEMAINES,
        "working hours": Unit.HEURES_OUVREES,
        "working hour": Unit.HEURES_OUVREES,
    }
    names.update({normalise_words(k): v for k, v in extra.items()})
    return names


_UNIT_NAMES = _names()

# « sous quinzaine », « une quinzaine », « 1 quinzaine »: 15 calendar days.
_QUINZAINE = re.compile(r"^(?:sous |dans |une |1 )?(?:la )?quinzaine$")
_MAX_DIGITS = 6
_MAX_AMOUNT = 10**_MAX_DIGITS - 1
# Leading zeros are no digits of the amount: « 05 jours » comes from a
# spreadsheet's fixed-width column.
_AMOUNT_UNIT = re.compile(rf"^\s*0*([0-9]{{1,{_MAX_DIGITS}}})\s*(\D.*)$", re.S)
# What _AMOUNT_UNIT does not read, to say why: « 1,5 heures » (a decimal comma
# or point), « 1234567 jours » (more than _MAX_DIGITS digits).
_DECIMAL = re.compile(r"^\s*([0-9]+[.,][0-9]+)", re.S)
_NEGATIVE = re.compile(r"^\s*(-\s*[0-9]+)", re.S)
_TOO_LONG = re.compile(rf"^\s*(0*[1-9][0-9]{{{_MAX_DIGITS},}})", re.S)
# « 1 500 jours »: thousands set apart by a space, as French writes them
# (plain, no-break or narrow no-break); read as is, « 500 jours » is no unit.
_GROUPED = re.compile(r"^\s*([0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+)(?![0-9])", re.S)
# Years are no unit of the engine: CPC art. 641 counts them as months.
_YEARS = frozenset({"an", "ans", "annee", "annees", "year", "years"})


def _to_unit(value: str | Unit) -> Unit:
    return Unit.parse(value)


@attrs.frozen
class Delay:
    """An amount of a unit: ``Delay(15, Unit.JOURS_OUVRES)`` is « 15 jours ouvrés »."""

    amount: int = attrs.field()
    unit: Unit = attrs.field(converter=_to_unit)

    @amount.validator
    def _check_amount(self, _attribute: object, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise DelayError(f"a delay's amount must be a whole number, not {value!r}")
        if value < 1:
            raise DelayError(f"a delay must be at least 1 {self.unit.label(1)}, not {value}")

    @classmethod
    def parse(cls, text: str | Delay) -> Delay:
        """Parse ``"15 jours ouvrés"``, ``"5 business days"``, ``"quinzaine"``, ``"2 mois"``."""
        if isinstance(text, Delay):
            return text
        if not isinstance(text, str):
            raise DelayError(
                f"a delay must be text such as '15 jours ouvrés', not {type(text).__name__}"
            )
        words = normalise_words(text)
        if _QUINZAINE.match(words):
            return cls(15, Unit.JOURS_CALENDAIRES)
        # The amount is read from the raw text: normalising would turn « -3 » into « 3 ».
        amount_error = _amount_error(text)
        if amount_error is not None:
            raise amount_error
        match = _AMOUNT_UNIT.match(text)
        if match is None:
            raise with_redacted(
                DelayError(
                    f"cannot read the delay {text!r}: expected an amount and a unit, "
                    "such as '15 jours ouvrés'"
                ),
                "cannot read the delay: expected an amount and a unit, such as '15 jours ouvrés'",
            )
        amount, unit_name = match[1], normalise_words(match[2])
        try:
            unit = _UNIT_NAMES[unit_name]
        except KeyError:
            if unit_name in _YEARS:
                raise _years(text, int(amount)) from None
            known = ", ".join(u.value for u in Unit)
            close = difflib.get_close_matches(unit_name, _UNIT_NAMES, n=1, cutoff=0.8)
            hint = f" (did you mean '{_UNIT_NAMES[close[0]].value}'?)" if close else ""
            raise with_redacted(
                DelayError(
                    f"unknown unit {match[2].strip()!r} in the delay {text!r}{hint}; "
                    f"known units: {known}"
                ),
                f"unknown unit in the delay{hint}; known units: {known}",
            ) from None
        return cls(int(amount), unit)

    def label(self, lang: str = "fr") -> str:
        """``15 jours ouvrés`` (French) or ``15 business days`` (English)."""
        return f"{self.amount} {self.unit.label(self.amount, lang)}"

    def __str__(self) -> str:
        return self.label("fr")


def _amount_error(text: str) -> DelayError | None:
    """Why the number ``text`` starts with is not a delay's amount (``None`` if it is
    one, or if ``text`` starts with no number: the caller says what it expects)."""
    decimal = _DECIMAL.match(text)
    if decimal is not None:
        why = "has decimals, and a delay's amount must be a whole number"
        if re.fullmatch(r"[0-9]{1,3}[.,][0-9]{3}", decimal[1]):  # « 1.500 »: thousands too?
            why = (
                "has decimals or a thousands separator; a delay's amount is a whole "
                "number, written without one"
            )
        return _bad_amount(text, decimal[1], why)
    grouped = _GROUPED.match(text)
    if grouped is not None:
        digits = re.sub(r"\D", "", grouped[1])
        if len(digits) > _MAX_DIGITS:
            return _too_long(text, grouped[1])
        why = "is written with a space between its digits; write it without"
        return _bad_amount(text, grouped[1], why, f": {digits + text[grouped.end() :]!r}")
    negative = _NEGATIVE.match(text)
    if negative is not None:
        why = "is negative; a delay counts forward from its start"
        return _bad_amount(text, negative[1], why)
    long = _TOO_LONG.match(text)
    return None if long is None else _too_long(text, long[1])


def _too_long(text: str, amount: str) -> DelayError:
    why = f"has more than {_MAX_DIGITS} digits; a delay's amount is at most {_MAX_AMOUNT}"
    return _bad_amount(text, amount, why)


def _bad_amount(text: str, amount: str, why: str, instead: str = "") -> DelayError:
    """The delay ``text`` refused for its ``amount``; the redacted form quotes neither."""
    return with_redacted(
        DelayError(f"cannot read the delay {text!r}: the amount {amount!r} {why}{instead}"),
        f"cannot read the delay: its amount {why}",
    )


def _years(text: str, amount: int) -> DelayError:
    """« 2 ans »: refused, naming the delay in months that says the same."""
    why = (
        "years are not a unit of delay; write it in months, 12 a year "
        "(CPC art. 641 counts both the same way)"
    )
    months = 12 * amount
    example = f": '{months} mois'" if 1 <= months <= _MAX_AMOUNT else ""
    return with_redacted(
        DelayError(f"cannot read the delay {text!r}: {why}{example}"),
        f"cannot read the delay: {why}",
    )
