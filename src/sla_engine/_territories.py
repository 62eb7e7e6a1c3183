"""French territories: their public-holiday subdivision and their time zone.

The subdivision codes and aliases are those of the ``holidays`` package
(``57`` Moselle, ``6AE`` Alsace, ``971`` … ``976``, ``BL``, ``NC``…), so that
a calendar spec accepts whatever ``holidays`` accepts.
"""

from __future__ import annotations

import functools

import attrs
from holidays.countries.france import France

from ._delay import normalise_words
from ._errors import CalendarSpecError

__all__ = ["Territory", "territories", "territory"]


@attrs.frozen
class Territory:
    """A territory with its own public holidays and time zone."""

    #: ``None`` for metropolitan France without regional holidays.
    code: str | None
    name: str
    time_zone: str

    @property
    def spec(self) -> str:
        return "fr" if self.code is None else f"fr-{self.code}"


# Each territory's legal time.  French Polynesia spans three zones; Tahiti is
# where its administration sits.
_TERRITORIES = (
    Territory(None, "France métropolitaine", "Europe/Paris"),
    Territory("57", "Moselle", "Europe/Paris"),
    Territory("6AE", "Alsace", "Europe/Paris"),
    Territory("971", "Guadeloupe", "America/Guadeloupe"),
    Territory("972", "Martinique", "America/Martinique"),
    Territory("973", "Guyane", "America/Cayenne"),
    Territory("974", "La Réunion", "Indian/Reunion"),
    Territory("976", "Mayotte", "Indian/Mayotte"),
    Territory("BL", "Saint-Barthélemy", "America/St_Barthelemy"),
    Territory("MF", "Saint-Martin", "America/Marigot"),
    Territory("NC", "Nouvelle-Calédonie", "Pacific/Noumea"),
    Territory("PF", "Polynésie française", "Pacific/Tahiti"),
    Territory("PM", "Saint-Pierre-et-Miquelon", "America/Miquelon"),
    Territory("TF", "Terres australes et antarctiques françaises", "Indian/Kerguelen"),
    Territory("WF", "Wallis-et-Futuna", "Pacific/Wallis"),
)


def territories() -> tuple[Territory, ...]:
    """Every territory a calendar spec can name."""
    return _TERRITORIES


@functools.cache
def _by_name() -> dict[str, Territory]:
    by_code = {t.code: t for t in _TERRITORIES if t.code is not None}
    # The holidays package must know every code we list, and we every one it
    # lists (but its school zones, which are not territories).
    known = {code for code in France.subdivisions if not code.startswith("Zone")}
    if known != set(by_code):  # pragma: no cover - only a new holidays release can trip it
        raise CalendarSpecError(
            f"the holidays package's French subdivisions {sorted(known)} differ from "
            f"sla-engine's {sorted(by_code)}"
        )
    names: dict[str, Territory] = {}
    for code, t in by_code.items():
        names[normalise_words(code)] = t
        names[normalise_words(t.name)] = t
    for alias, code in France.subdivisions_aliases.items():
        if code in by_code:
            names[normalise_words(alias)] = by_code[code]
    return names


def territory(name: str | None) -> Territory:
    """Return the territory named by a code or alias (``57``, ``Moselle``, ``RE``, ``974``)."""
    if name is None or name == "":
        return _TERRITORIES[0]
    try:
        return _by_name()[normalise_words(name)]
    except KeyError:
        codes = ", ".join(t.code for t in _TERRITORIES if t.code is not None)
        raise CalendarSpecError(
            f"unknown French territory {name!r}; known codes: {codes} "
            "(and the holidays package's aliases, such as Moselle, Alsace, RE, GP)"
        ) from None
