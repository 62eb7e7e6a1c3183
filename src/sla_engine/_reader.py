"""The process that reads and checks logs for a replay run with ``jobs=2``.

Started by :func:`sla_engine._replay.replay` as ``python -m sla_engine._reader``:
reads its request (paths, mapping, time zone) pickled on standard input and
writes the rows, pickled in chunks, on standard output.
"""

from __future__ import annotations

import sys

from ._replay import read_into

if __name__ == "__main__":
    read_into(sys.stdin.buffer, sys.stdout.buffer)
