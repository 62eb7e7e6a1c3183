"""Python's cyclic garbage collector, paused while a bulk step runs.

Recording and replaying make many container objects that live on: events in
contacts' histories, encoded rows, timers.  Their allocations set off the
collector over and over, and now and then a full collection walks every live
object of the process, the caller's own included: measured, an eighth of
``record_many``'s time and a sixth of an in-memory replay's
(``docs/performance.md``).  The engine's objects make no reference cycles to
reclaim (a replay's peak memory is the same with the collector paused), and
reference counting frees them as before, so the collector is paused for the
step and resumed after it.  A caller that disabled the collector finds it
disabled after; the pause lasts one call, so another thread's cycles wait
for it at most that long.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["collector_paused"]


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic garbage collector inside the block, if it is enabled."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
