"""Every example in the README and in docs/ runs, and prints what the page says.

Python examples are doctests (``>>>`` lines).  Command-line examples are
```` ```console```` blocks: each ``$ sla-engine …`` line is run in-process and
its output compared with the lines that follow it; ``$NAME`` in a command is
the environment variable, as a shell would read it.

The pages in ``POSTGRES_PAGES`` run against a fresh database of the tests'
PostgreSQL server, whose ``POSTGRES_*`` variables they find in the
environment as a deployment would give them; without a server they are
skipped with the reason, and fail under CI (see ``postgres_server.py``).
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
from pathlib import Path

import pytest

from sla_engine.cli import main

from .conftest import REPO
from .postgres_server import database_fixture

PAGES = sorted([REPO / "README.md", *REPO.glob("docs/**/*.md"), REPO / "calendars" / "README.md"])
PAGES = [p for p in PAGES if p.exists()]
CONSOLE = re.compile(r"```console\n(.*?)```", re.S)
POSTGRES_PAGES = {REPO / "docs" / "howto" / "run-on-postgresql.md"}

# The console examples of a page share one database: a replay, then its report.
docs_pg_database = database_fixture("docs_pg_database", scope="module")


def _use_postgres(
    page: Path, fixture: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Export a fresh database's ``POSTGRES_*`` variables for a page that needs PostgreSQL."""
    if page not in POSTGRES_PAGES:
        return
    database: dict[str, str] = request.getfixturevalue(fixture)
    for key, value in database.items():
        monkeypatch.setenv(key, value)


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(REPO)) for p in paths]


@pytest.mark.parametrize("page", PAGES, ids=_ids(PAGES))
def test_python_examples(
    page: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use_postgres(page, "pg_database", request, monkeypatch)
    # Examples name files from the root of the repository, as a reader runs them there.
    (REPO / "out").mkdir(exist_ok=True)  # where the pages' examples write (git ignores it)
    monkeypatch.chdir(REPO)
    result = doctest.testfile(
        str(page),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        encoding="utf-8",
        verbose=False,
    )
    assert result.failed == 0, f"{result.failed} failing example(s) in {page.name}"


def _console_examples(page: Path) -> list[tuple[str, str]]:
    examples = []
    for block in CONSOLE.findall(page.read_text(encoding="utf-8")):
        command: str | None = None
        output: list[str] = []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command is not None:
                    examples.append((command, "\n".join(output)))
                command, output = line[2:], []
            else:
                output.append(line)
        if command is not None:
            examples.append((command, "\n".join(output)))
    return examples


EXAMPLES = [(page, cmd, out) for page in PAGES for cmd, out in _console_examples(page)]


@pytest.mark.parametrize(
    ("page", "command", "expected"),
    EXAMPLES,
    ids=[f"{p.relative_to(REPO)}: {c[:60]}" for p, c, _ in EXAMPLES],
)
def test_console_examples(
    page: Path,
    command: str,
    expected: str,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _use_postgres(page, "docs_pg_database", request, monkeypatch)
    words = [os.path.expandvars(word) for word in shlex.split(command)]
    assert words[0] == "sla-engine", f"{page.name}: only sla-engine commands are run: {command}"
    (REPO / "out").mkdir(exist_ok=True)  # where the pages' examples write (git ignores it)
    monkeypatch.chdir(REPO)
    code = main(words[1:])
    out = capsys.readouterr().out.replace("\r\n", "\n")  # CSV writes CRLF

    assert code == 0, f"{command} exited with {code}"
    if "..." in expected:
        pattern = ".*?".join(re.escape(part) for part in expected.strip().split("..."))
        assert re.fullmatch(pattern, out.strip(), re.S), out
    else:
        assert out.strip() == expected.strip()


def test_there_are_examples() -> None:
    # A page list gone empty would make every test above pass vacuously.
    assert len(PAGES) >= 3
    assert len(EXAMPLES) >= 2
    for page in POSTGRES_PAGES:
        assert page in PAGES
        assert ">>> " in page.read_text(encoding="utf-8")
        assert any(p == page for p, _, _ in EXAMPLES)
