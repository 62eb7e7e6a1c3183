"""What the benchmark scripts share to stop when a result cannot be trusted (not a benchmark).

A fast wrong answer is not a result: every script checks its contenders'
answers before it reports a figure.  The checks are explicit ``if``\\ s that
raise :class:`CheckFailed`, never ``assert`` (which ``python -O`` removes),
and a script's ``main`` wrapped in :func:`exits_on_failure` prints the
reason and returns a non-zero status instead of a table.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable


class CheckFailed(Exception):
    """A correctness check failed, or a requested contender cannot run: nothing is reported."""


def require(condition: object, message: str | Callable[[], str]) -> None:
    """Raise :class:`CheckFailed` with ``message`` (or what it returns) unless ``condition``."""
    if not condition:
        raise CheckFailed(message() if callable(message) else message)


#: The exit status of a script whose check failed.
FAILED = 1


def exits_on_failure(main: Callable[[list[str] | None], int]) -> Callable[[list[str] | None], int]:
    """``main``, printing a failed check's reason on stderr and returning :data:`FAILED`."""

    @functools.wraps(main)
    def run(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except CheckFailed as failure:
            print(f"{main.__module__}: FAILED, nothing reported: {failure}", file=sys.stderr)
            return FAILED

    return run
