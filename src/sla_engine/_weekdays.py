"""Weekday names and ranges, in French or English: ``lun-ven``, ``mon-fri``, ``mar,jeu``."""

from __future__ import annotations

from ._delay import normalise_words
from ._errors import DelayError

__all__ = ["WEEKDAY_NAMES", "format_weekdays", "parse_weekdays"]

#: French and English names of the weekdays, Monday first (``date.weekday()`` order).
WEEKDAY_NAMES = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}

_BY_NAME: dict[str, int] = {}
for _names in WEEKDAY_NAMES.values():
    for _number, _name in enumerate(_names):
        _word = normalise_words(_name)
        _BY_NAME[_word] = _number
        _BY_NAME[_word[:3]] = _number
        _BY_NAME[_word[:2]] = _number


def _weekday(word: str, text: str) -> int:
    try:
        return _BY_NAME[normalise_words(word)]
    except KeyError:
        raise DelayError(
            f"unknown weekday {word!r} in {text!r}; write them as lun, mar… or mon, tue…"
        ) from None


def parse_weekdays(text: str) -> frozenset[int]:
    """Parse ``"lun-ven"``, ``"mon-fri"``, ``"tue-sat"``, ``"lun,mar,jeu"`` into weekday numbers.

    A range wraps around the week (``sam-lun`` is Saturday, Sunday, Monday).
    """
    days: set[int] = set()
    for part in text.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if "-" in part:
            first_word, _, last_word = part.partition("-")
            first, last = _weekday(first_word, text), _weekday(last_word, text)
            span = (last - first) % 7
            days.update((first + k) % 7 for k in range(span + 1))
        else:
            days.add(_weekday(part, text))
    if not days:
        raise DelayError(f"no weekday in {text!r}")
    return frozenset(days)


def format_weekdays(days: frozenset[int], lang: str = "fr") -> str:
    """``lun-ven`` style: consecutive days as ranges, others separated by commas."""
    names = [n[:3].lower() for n in WEEKDAY_NAMES[lang]]
    ordered = sorted(days)
    runs: list[list[int]] = []
    for d in ordered:
        if runs and runs[-1][-1] == d - 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(names[r[0]] if len(r) == 1 else f"{names[r[0]]}-{names[r[-1]]}" for r in runs)
