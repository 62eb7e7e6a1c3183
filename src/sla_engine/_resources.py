"""Where the calendar data shipped with the package is found.

In a wheel the repository's ``calendars/`` folder is installed as
``sla_engine/calendars``; in a source checkout (or an editable install, which
hatchling builds without force-included files) it is the ``calendars/``
folder at the root of the repository.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["calendar_data_path"]


def _calendars_dir() -> Path:
    installed = Path(str(resources.files("sla_engine"))) / "calendars"
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[2] / "calendars"


def calendar_data_path(name: str) -> Path:
    """Return the path of the shipped calendar data file ``name``."""
    return _calendars_dir() / name
