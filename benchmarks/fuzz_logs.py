"""Coverage-guided fuzzing of the log reader with atheris (libFuzzer): a script, not a test.

Each input is the bytes of a log file, written to a file in memory and read
with :func:`sla_engine._logs.read_log` as CSV, JSON Lines (by its name) or
gzip (by its content).  The reader may yield ``LogRow`` and ``RejectedRow``
items and may raise ``DataError``; anything else is a crash.

Crashes already known (each has an ``xfail`` test in tests/test_hostile_input.py)
are counted and skipped, so that the fuzzer goes on looking for new ones; pass
``--known-crash`` to stop on them too.  libFuzzer's own options follow::

    pip install atheris
    python benchmarks/fuzz_logs.py -runs=200000 -max_len=4096 -timeout=10
    python benchmarks/fuzz_logs.py -max_total_time=120 -max_len=4096
    python benchmarks/fuzz_logs.py --known-crash -runs=100000

Positional arguments are corpus folders, as for libFuzzer; without one a few
valid logs in a temporary folder seed the run.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import sys
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from sla_engine._errors import DataError
    from sla_engine._logs import FIELDS, LogRow, RejectedRow, read_log

HEADER = ",".join(FIELDS) + "\n"
SEEDS = {
    "csv": HEADER
    + "E1,C1,received,2025-10-17T16:05:00+02:00,,email,information,normal,DSDEN 25,\n"
    + 'E2,C1,acknowledged,2025-10-17T17:05:00+02:00,,,,,,"{""announced_delay"": ""5 jo""}"\n'
    + "E3,C1,answered,2025-10-20T09:00:00+02:00,2025-10-21T09:00:00+02:00,,,,,\n",
    "semicolons": "\ufeff"
    + HEADER.replace(",", ";")
    + "E1;C1;reçu;2025-10-17T16:05:00+02:00;;courriel;réclamation;urgente;;\r\n",
    "jsonl": json.dumps(
        {
            "event_id": "E1",
            "contact_id": "C1",
            "type": "received",
            "occurred_at": "2025-10-17T16:05:00+02:00",
            "channel": "email",
            "attributes": {"rings": 3, "requester": "R1"},
        }
    )
    + "\n",
}

KNOWN = Counter[str]()


def known(error: BaseException) -> str | None:
    """The known bug an exception is, or ``None`` for a new one."""
    text = str(error)
    if isinstance(error, csv.Error) and "new-line character" in text:
        return "CR in the CSV header (csv.Error)"
    if isinstance(error, RecursionError):
        return "deeply nested JSON (RecursionError)"
    if isinstance(error, EOFError | gzip.BadGzipFile | zlib.error):
        return "damaged gzip (EOFError / BadGzipFile / zlib.error)"
    return None


class Target:
    def __init__(self, folder: Path, stop_on_known: bool) -> None:
        self.paths = {suffix: folder / f"input{suffix}" for suffix in (".csv", ".jsonl", ".log")}
        self.stop_on_known = stop_on_known
        self.runs = 0

    def __call__(self, data: bytes) -> None:
        self.runs += 1
        if self.runs % 50_000 == 0:  # libFuzzer exits without returning: report as we go
            print(f"\n[fuzz_logs] {self.runs:,} inputs; known crashes skipped: {dict(KNOWN)}",
                  file=sys.stderr)  # fmt: skip
        if not data:
            return
        # The first byte picks the file's name; the rest is its content.
        suffix = (".csv", ".jsonl", ".log")[data[0] % 3]
        path = self.paths[suffix]
        path.write_bytes(data[1:])
        try:
            for item in read_log(path):
                if not isinstance(item, LogRow | RejectedRow):
                    raise TypeError(f"read_log yielded {item!r}")
                if isinstance(item, RejectedRow) and not str(item).startswith(f"{path}:"):
                    raise AssertionError(f"a rejection without its line: {item}")
        except DataError:
            return
        except Exception as error:
            name = known(error)
            if name is None or self.stop_on_known:
                raise
            KNOWN[name] += 1
            if KNOWN[name] == 1:
                print(f"\n[known] {name}: {type(error).__name__}: {error}", file=sys.stderr)


def main() -> None:
    argv = [a for a in sys.argv if a != "--known-crash"]
    stop_on_known = len(argv) != len(sys.argv)
    memory = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - a private folder
    scratch = Path(tempfile.mkdtemp(prefix="fuzz-logs-", dir=memory))
    if not any(not a.startswith("-") for a in argv[1:]):
        corpus = scratch / "corpus"
        corpus.mkdir()
        for i, (name, text) in enumerate(SEEDS.items()):
            body = text.encode("utf-8")
            (corpus / name).write_bytes(bytes([i % 3]) + body)
            (corpus / f"{name}.gz").write_bytes(bytes([i % 3]) + gzip.compress(body, mtime=0))
        argv.append(str(corpus))
    atheris.Setup(argv, Target(scratch, stop_on_known))
    atheris.Fuzz()  # does not return: libFuzzer exits at the end of the run


if __name__ == "__main__":
    main()
