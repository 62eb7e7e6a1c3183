"""Dates and instants written for people, in French or English; cells safe for a spreadsheet."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from typing import Any, TypeVar

import pendulum

__all__ = [
    "LANGS",
    "agreeing",
    "check_lang",
    "format_day",
    "format_hours",
    "format_instant",
    "format_offset",
    "safe_cell",
]

LANGS = ("fr", "en")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use 'fr' or 'en'")
    return lang


_W = TypeVar("_W")


def agreeing(count: float, lang: str, one: _W, many: _W) -> _W:
    """The word agreeing with ``count``: French puts it in the singular below two
    (« 0 événement », « 1,5 jour »), English only for one."""
    return one if (abs(count) < 2 if lang == "fr" else count == 1) else many


def format_day(day: dt.date, lang: str = "fr", *, weekday: bool = True, year: bool = True) -> str:
    """``samedi 1er novembre 2025`` / ``Saturday 1 November 2025``."""
    pattern = ("dddd " if weekday else "") + "D MMMM" + (" YYYY" if year else "")
    text = pendulum.Date(day.year, day.month, day.day).format(pattern, locale=lang)
    if lang == "fr" and day.day == 1:
        # French writes the first of the month as an ordinal: « 1er novembre ».
        text = text.replace(" 1 ", " 1er ", 1) if weekday else "1er" + text[1:]
    return text


def format_offset(instant: dt.datetime) -> str:
    offset = instant.utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_instant(instant: dt.datetime, lang: str = "fr") -> str:
    """``vendredi 17 octobre 2025 à 16:05 (UTC+02:00)`` in the instant's own zone.

    With its seconds when it has some (``16:05:30``): verdicts compare exact
    instants, and an answer at 11:00:30 against an expiry at 11:00:50 must
    not read as the same minute.  A fraction of a second is not shown.
    """
    at = "à" if lang == "fr" else "at"
    clock = f"{instant:%H:%M:%S}" if instant.second else f"{instant:%H:%M}"
    return f"{format_day(instant.date(), lang)} {at} {clock} ({format_offset(instant)})"


def folded(text: str, spaced: str = "") -> str:
    """``text`` without case or accents, whatever the machine's locale (« Réclamation »:
    « reclamation »), to compare or sort words by.

    ``spaced``: characters read as spaces (apostrophes, hyphens), runs of
    spaces then made one.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    if not spaced:
        return bare
    return " ".join(bare.translate({ord(c): " " for c in spaced}).split())


def format_hours(hours: float, lang: str = "fr") -> str:
    """A duration given in hours, in hours and minutes: « 7 h 16 », "7 hours 16 minutes".

    Never in decimal hours: « 7,27 h » reads as 7 h 27 to a French reader.
    Seconds are shown when the duration has some (« 7 h 16 min 30 s »), so
    that a span a few seconds short of a promise never reads as equal to
    it.  The value is cut to the second, not rounded: a value kept to four
    decimals of an hour (a third of a second) reads back as the seconds it
    was computed from.
    """
    seconds = max(0, math.floor(hours * 3600 + 0.2))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    if lang == "fr":
        if s:
            parts = ([f"{h} h"] if h else []) + ([f"{m} min"] if m or h else []) + [f"{s} s"]
            return " ".join(parts)
        if not h:
            return f"{m} min"
        return f"{h} h" if not m else f"{h} h {m:02d}"
    words = []
    for amount, one in ((h, "hour"), (m, "minute"), (s, "second")):
        if amount:
            words.append(f"{amount} {one}" + ("" if amount == 1 else "s"))
    return " ".join(words) or "0 minutes"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet will not run: text starting like a formula gets a leading quote.

    Line breaks inside a cell become spaces: a reader that splits rows on a
    lone carriage return must not find a formula at the start of a new row.
    """
    if isinstance(value, str):
        value = value.replace("\r", " ").replace("\n", " ")
        if value.startswith(_FORMULA_START):
            return "'" + value
    return "" if value is None else value
