"""The helper process (:mod:`sla_engine._helper`): reads a log for a replay, or counts a review.

Started as ``python -m sla_engine._reader``: reads its request pickled on
standard input and writes what it made, pickled, on standard output —
chunks of rows (``jobs=2`` row by row), rows and blocks of plain contacts
encoded for the store (the columnar replay), or the counts of the pages of a
view it is sent (a review) — then ``None``, or the error it stopped with.
"""

from __future__ import annotations

import os
import pickle
import sys

if __name__ == "__main__":
    # The pickles go to a copy of standard output; anything else written there
    # (a library's print, a C extension's warning) goes to standard error,
    # where it cannot break them.
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    from ._collector import collector_paused
    from ._helper import portable

    with out, collector_paused():
        try:
            inbox = sys.stdin.buffer
            request = pickle.load(inbox)  # noqa: S301 - from our parent
            if request[0] == "tally":
                from ._report import tally_into

                tally_into(request[1:], inbox, out)
            else:
                from ._replay import read_into

                read_into(request, out)
            pickle.dump(None, out)
        except Exception as error:  # every failure goes to the parent
            pickle.dump(portable(error), out)
