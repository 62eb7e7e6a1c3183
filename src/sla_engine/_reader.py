"""The process that reads and checks logs for a replay run with ``jobs=2``.

Started by :func:`sla_engine._replay.replay` as ``python -m sla_engine._reader``:
reads its request pickled on standard input and writes what it read, pickled,
on standard output: chunks of rows (``jobs=2`` row by row), or rows and blocks
of plain contacts encoded for the store (the columnar replay).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    # The pickles go to a copy of standard output; anything else written there
    # (a library's print, a C extension's warning) goes to standard error,
    # where it cannot break them.
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from ._replay import read_into

    with out:
        read_into(sys.stdin.buffer, out)
