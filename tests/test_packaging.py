"""The wheel ships the calendar data, and an installed package finds it without the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--disable-pip-version-check", "-w", str(out), str(REPO)],
        check=True,
    )  # fmt: skip
    (built,) = out.glob("sla_engine-*.whl")
    return built


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "sla_engine/py.typed" in names
    assert "sla_engine/calendars/fr-school-holidays.json" in names
    assert "sla_engine/cli.py" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "sla-engine = sla_engine.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_installed_package_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
         "--disable-pip-version-check", "--target", str(target), str(wheel)],
        check=True,
    )  # fmt: skip
    probe = (
        "import datetime as dt, sla_engine, sla_engine._resources as r;"
        "print(sla_engine.__file__);"
        "print(r.calendar_data_path('fr-school-holidays.json'));"
        "print(sla_engine.calendar('fr+B').add(dt.date(2025, 10, 17), 10, 'jours scolaires'))"
    )
    # Run from an empty folder with the installed copy first on the path.
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    module, data, due = result.stdout.splitlines()
    assert module.startswith(str(target))
    assert data.startswith(str(target))
    assert due == "2025-11-17"
