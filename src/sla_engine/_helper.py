"""A second interpreter for work that splits in two: reading a log, counting a review.

Started as ``python -m sla_engine._reader`` (a fresh interpreter, not a fork:
the embedding program may run threads, and multiprocessing's other ways
import its main module again), on the same import path as this one.  It
reads a request pickled on its standard input, then, for some requests,
more items until ``None``; it writes its results pickled on its standard
output, then ``None``, or the error it stopped with.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import typing
from collections.abc import Iterator
from typing import Any, BinaryIO

from ._errors import SlaEngineError

__all__ = ["Helper", "portable"]


class Helper:
    """One helper process, its request sent."""

    def __init__(self, request: tuple[Any, ...]) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self.process = subprocess.Popen(
            # -P: no module from the working directory (a csv.py beside the
            # exports), only this interpreter's import path.
            [sys.executable, "-P", "-m", "sla_engine._reader"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            # Out of the terminal's process group: a Ctrl-C the embedding
            # program handles is not the helper's to die of; its parent stops it.
            start_new_session=True,
        )
        self._in = typing.cast(BinaryIO, self.process.stdin)
        self._out = typing.cast(BinaryIO, self.process.stdout)
        #: Whether it stopped reading (it failed: its error is read by results()).
        self._deaf = False
        try:
            self.send(request)
        except BaseException:
            self.stop()
            raise

    def send(self, item: Any) -> None:
        """Write ``item`` to the helper (it waits while the helper is busy and the pipe full)."""
        if self._deaf:
            return
        try:
            pickle.dump(item, self._in, protocol=pickle.HIGHEST_PROTOCOL)
        except BrokenPipeError:
            self._deaf = True

    def results(self, *, more: bool = False) -> Iterator[Any]:
        """Its results, item by item, once ``more`` (items sent after the request) is ended."""
        try:
            if more:
                self.send(None)
            with contextlib.suppress(BrokenPipeError):  # it stopped: read why below
                self._in.close()
            while True:
                try:
                    item = pickle.load(self._out)  # noqa: S301 - from our own child
                except (EOFError, pickle.UnpicklingError):
                    # It stopped, maybe in the middle of a message (killed).
                    raise SlaEngineError(
                        f"the helper process stopped (exit code {self.process.wait()})"
                    ) from None
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        for stream in (self._in, self._out):
            with contextlib.suppress(OSError):  # a pipe the stopped helper left unread
                stream.close()
        self.process.wait()


def portable(error: BaseException) -> BaseException:
    """The error itself if it survives pickling, else one that says the same."""
    try:
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    except Exception:
        return SlaEngineError(str(error))
    return copy if str(copy) == str(error) else SlaEngineError(str(error))
