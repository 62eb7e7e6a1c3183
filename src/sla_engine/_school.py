"""The French school calendar shipped with the package: pupils' days off per zone.

The data is ``calendars/fr-school-holidays.json``, built from the ministry's
open data by :mod:`sla_engine._school_build` (its ``README.md`` says how
each row was read).  It is read once, on first use.

A zone's :attr:`SchoolZone.coverage` is the span of days whose status is
known: inside it, a day is a school day for pupils unless
:meth:`SchoolZone.days_off_on` finds a period containing it (weekends and
public holidays are the calendar core's business, not this module's);
outside it, nothing is known and callers must not guess.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from sla_engine._errors import CalendarDataError, CalendarSpecError
from sla_engine._resources import calendar_data_path
from sla_engine._text import folded

__all__ = [
    "SchoolDaysOff",
    "SchoolYear",
    "SchoolZone",
    "english_name",
    "french_name",
    "school_data_version",
    "school_zone",
    "school_zones",
]

DATA_FILE: Final = "fr-school-holidays.json"
FORMAT: Final = 1


@attrs.frozen
class SchoolDaysOff:
    """A period with no class for pupils: ``first`` to ``last``, both included."""

    name: str
    first: dt.date
    last: dt.date
    school_year: str
    source: str

    def __contains__(self, day: object) -> bool:
        return isinstance(day, dt.date) and self.first <= day <= self.last


@attrs.frozen
class SchoolYear:
    """A school year of a zone: its first class day and first summer day off, when known."""

    year: str
    source: str
    rentree: dt.date | None
    summer_start: dt.date | None


def _sorted_days_off(periods: Iterable[SchoolDaysOff]) -> tuple[SchoolDaysOff, ...]:
    return tuple(sorted(periods, key=lambda p: (p.first, p.last, p.name, p.school_year)))


@attrs.frozen(cache_hash=True)
class SchoolZone:
    """A school zone's calendar: its school years and its pupils' days off."""

    key: str
    label: str
    time_zone: str
    coverage: tuple[dt.date, dt.date]
    school_years: tuple[SchoolYear, ...]
    days_off: tuple[SchoolDaysOff, ...] = attrs.field(converter=_sorted_days_off)
    _firsts: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _longest: int = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        firsts = tuple(p.first.toordinal() for p in self.days_off)
        longest = max(((p.last - p.first).days for p in self.days_off), default=0)
        object.__setattr__(self, "_firsts", firsts)
        object.__setattr__(self, "_longest", longest)

    def days_off_on(self, day: dt.date) -> SchoolDaysOff | None:
        """The period containing ``day``, or ``None``.

        Periods may overlap (a single day off inside a longer break); the
        first one in :attr:`days_off` order is returned.
        """
        ordinal = day.toordinal()
        found = None
        for i in range(bisect.bisect_right(self._firsts, ordinal) - 1, -1, -1):
            if self._firsts[i] < ordinal - self._longest:
                break
            if self.days_off[i].last >= day:
                found = self.days_off[i]
        return found


def _name_key(name: str) -> str:
    """``"Zone B"`` → ``"b"``, ``"Nouvelle-Calédonie"`` → ``"nouvellecaledonie"``."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    key = re.sub(r"[\s\-'’ʼ`_.]", "", bare)
    return key[4:] if key.startswith("zone") and len(key) > 4 else key


# Other names people use for some zones.
_ALIASES: Final = {"lareunion": "Réunion", "polynesiefrancaise": "Polynésie"}


def _day(value: object) -> dt.date:
    if not isinstance(value, str):
        raise TypeError(f"expected a date string, found {value!r}")
    return dt.date.fromisoformat(value)


def _optional_day(value: object) -> dt.date | None:
    return None if value is None else _day(value)


def _zone(key: str, doc: Mapping[str, Any]) -> SchoolZone:
    coverage = doc["coverage"]
    return SchoolZone(
        key=key,
        label=str(doc["label"]),
        time_zone=str(doc["time_zone"]),
        coverage=(_day(coverage["first"]), _day(coverage["last"])),
        school_years=tuple(
            SchoolYear(
                year=str(y["year"]),
                source=str(y["source"]),
                rentree=_optional_day(y["rentree"]),
                summer_start=_optional_day(y["summer_start"]),
            )
            for y in doc["school_years"]
        ),
        days_off=tuple(
            SchoolDaysOff(
                name=str(p["name"]),
                first=_day(p["first"]),
                last=_day(p["last"]),
                school_year=str(p["school_year"]),
                source=str(p["source"]),
            )
            for p in doc["days_off"]
        ),
    )


@attrs.frozen
class _Data:
    zones: dict[str, SchoolZone]
    names: dict[str, str]
    version: str


@functools.cache
def _data() -> _Data:
    path = calendar_data_path(DATA_FILE)
    raw = path.read_bytes()
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise CalendarDataError(f"invalid JSON: {exc}", source=str(path)) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CalendarDataError(
            f"not a school calendar of format {FORMAT}", source=str(path), field="format"
        )
    zones: dict[str, SchoolZone] = {}
    for key, doc in document.get("zones", {}).items():
        try:
            zones[key] = _zone(key, doc)
        except (KeyError, TypeError, ValueError) as exc:
            raise CalendarDataError(
                f"malformed zone: {exc!r}", source=str(path), field=f"zones.{key}"
            ) from None
    names = {_name_key(key): key for key in zones}
    names.update({_name_key(zone.label): key for key, zone in zones.items()})
    names.update({alias: key for alias, key in _ALIASES.items() if key in zones})
    return _Data(zones, names, hashlib.sha256(raw).hexdigest()[:12])


def school_zone(name: str) -> SchoolZone:
    """The zone named ``name``: ``"B"``, ``"Zone B"``, ``"reunion"``, ``"Nouvelle-Calédonie"``…

    Case, accents, spaces, hyphens, apostrophes and a ``zone`` prefix are
    ignored.  An unknown name raises :class:`CalendarSpecError` listing the
    known zones.
    """
    data = _data()
    key = data.names.get(_name_key(name))
    if key is None:
        known = ", ".join(data.zones)
        raise CalendarSpecError(f"unknown school zone {name!r}; known zones: {known}")
    return data.zones[key]


def school_zones() -> tuple[SchoolZone, ...]:
    """Every zone of the shipped data, in the file's order (A, B, C, Corse, …)."""
    return tuple(_data().zones.values())


def school_data_version() -> str:
    """A short, stable fingerprint of the shipped data file (12 hex digits of its SHA-256)."""
    return _data().version


# -- English names --------------------------------------------------------------


def _fold(text: str) -> str:
    return folded(text, spaced="'’ʼ`-")


_ENGLISH: Final = {
    "vacances de la toussaint": "All Saints' holidays",
    "vacances de noel": "Christmas holidays",
    "vacances d hiver": "Winter holidays",
    "vacances de printemps": "Spring holidays",
    "vacances d ete": "Summer holidays",
    "grandes vacances": "Summer holidays",
    "pont de l ascension": "Ascension bridge holiday",
    "ascension": "Ascension holiday",
    "vacances de carnaval": "Carnival holidays",
    "vacances de paques": "Easter holidays",
    "pont a paques": "Easter bridge holiday",
    "pont": "Bridge holiday",
    "vacances d hiver austral": "Southern winter holidays",
    "vacances d ete austral": "Southern summer holidays",
    "vacances de septembre": "September holidays",
    "vacances de novembre": "November holidays",
    "vacances de fevrier": "February holidays",
    "vacances de mai": "May holidays",
    "semaine en mai": "May week off",
    "mi careme": "Mid-Lent holiday",
    "abolition de l esclavage": "Abolition of Slavery Day",
    "journee banalisee": "Non-teaching day",
    "journee vaquee": "Day off",
    "lundi de pentecote": "Whit Monday",
    "pentecote": "Whitsun holiday",
}
_TERM: Final = re.compile(r"vacances (?:apres (?:la )?)?(\d+) ?(?:ere|eme|re|e) periode")
# First words written in lower case inside a sentence (not proper nouns).
_COMMON_FIRST_WORDS: Final = frozenset(
    {"Summer", "Winter", "Spring", "Southern", "Carnival", "Bridge", "Term", "Day", "Non-teaching"}
)
_START: Final = re.compile(r"\s*d[ée]but\s+des\s+(?P<rest>.+)", re.IGNORECASE)


# Words of the official names written in lower case inside a French sentence:
# seasons, months, and common nouns (« Vacances d'Hiver » → « vacances
# d'hiver »). Feasts keep their capital (Toussaint, Noël, Pâques, Ascension,
# Pentecôte), as does any word not listed here.
_FRENCH_COMMON_WORDS: Final = frozenset(
    {
        "vacances",
        "grandes",
        "hiver",
        "été",
        "printemps",
        "automne",
        "austral",
        "australes",
        "carnaval",
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
        "pont",
        "semaine",
        "journée",
        "lundi",
        "abolition",
        "période",
        "après",
        "début",
        "fin",
        "mi",
        "carême",
    }
)
_FEASTS: Final = frozenset({"toussaint", "noël", "pâques", "ascension", "pentecôte"})
_WORD: Final = re.compile(r"\w+")


def french_name(official: str) -> str:
    """A school holiday's official name as written inside a French sentence.

    « Vacances d'Hiver » → « vacances d'hiver », « Vacances de Printemps » →
    « vacances de printemps », « Vacances d'Été austral » → « vacances d'été
    austral »; feasts keep their capital (« vacances de la Toussaint »,
    « pont de l'Ascension »).  The shipped data keeps the ministry's spelling.
    """

    def lower(word: re.Match[str]) -> str:
        text = word[0]
        return text.lower() if text.lower() in _FRENCH_COMMON_WORDS else text

    text = _WORD.sub(lower, official)
    first = _WORD.match(text)
    if first is not None and first[0].lower() not in _FEASTS:
        text = text[:1].lower() + text[1:]  # a name opens with a common noun
    return text


def english_name(french: str) -> str:
    """An English name for a French school-holiday description; unknown ones unchanged.

    « Vacances de la Toussaint » → "All Saints' holidays", « Vacances 2ème
    période » → "Term 2 holidays", « Début des Vacances d'Été » → "Start of
    the summer holidays".
    """
    folded = _fold(french)
    known = _ENGLISH.get(folded)
    if known is not None:
        return known
    term = _TERM.fullmatch(folded)
    if term is not None:
        return f"Term {int(term[1])} holidays"
    start = _START.fullmatch(french)
    if start is not None:
        rest = start["rest"].strip()
        inner = english_name(rest)
        if inner != rest:
            head, _, tail = inner.partition(" ")
            if head in _COMMON_FIRST_WORDS:
                head = head.lower()
            return f"Start of the {head} {tail}".rstrip()
    return french
