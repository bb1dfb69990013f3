"""SIGTERM ends a run as Ctrl-C does: with KeyboardInterrupt, so that the outputs'
temporaries and the working folder in TMPDIR are removed on the way out, and nothing is
written. By default SIGTERM (a service stopping, `timeout`, `kill`) killed the process
where it stood and left them (swept by a later run: the next one for a temporary, one an
hour later for a working folder).

Python runs a signal's handler only between two steps of Python code: while Polars runs
a query (most of a run), it would run only once the query is done. Polars itself stops a
query on SIGINT (and raises KeyboardInterrupt), so a SIGTERM that is still pending after
`_GRACE` is passed on to this process as SIGINT. Exactly one of the two interrupts the
run (`_claim`): a second KeyboardInterrupt would land in the clean-up itself.

The run then exits 143 (128 + 15, as a process SIGTERM ended; Ctrl-C is 130); a second
SIGTERM ends it at once, as SIGTERM did before.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

_GRACE = 0.1  # seconds for Python to run the handler before Polars is asked to stop
TERMINATED = 128 + signal.SIGTERM  # the exit code


class _State:
    """What the handler and the watching thread share."""

    lock = threading.Lock()
    received = 0  # SIGTERMs the watcher has read
    claimed = False  # an interrupt has been made
    terminated = False  # a SIGTERM came (set by whichever side sees it first)


def _claim() -> bool:
    """Whether the caller is the one to interrupt the run (the first to ask)."""
    with _State.lock:
        if _State.claimed:
            return False
        _State.claimed = True
        return True


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    """Python code is running: interrupt it here, unless the watcher did already."""
    _State.terminated = True
    if _claim():
        import traceback

        with open(f"/tmp/r7/stacks/{os.getpid()}.txt", "w") as f:
            f.write("".join(traceback.format_stack(_frame)))
        raise KeyboardInterrupt


def _watch(fd: int) -> None:
    """Read the signals Python's handler writes to the wake-up pipe (one byte each)."""
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:
            return
        if not data:
            return
        for _ in range(data.count(signal.SIGTERM)):
            _State.terminated = True
            _State.received += 1
            if _State.received > 1:
                os._exit(TERMINATED)  # a second SIGTERM: now, as a kill would
            threading.Timer(_GRACE, _stop_polars).start()


def _stop_polars() -> None:
    """The handler has not run: Python is waiting on native code (a Polars query)."""
    if _claim():
        with open(f"/tmp/r7/stacks/{os.getpid()}.txt", "w") as f:
            f.write("watcher\n")
        os.kill(os.getpid(), signal.SIGINT)


def stop_on_sigterm() -> None:
    """Install the handler and the watching thread (from the main thread, once)."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, _on_sigterm)
    threading.Thread(target=_watch, args=(read,), name="chs-sigterm", daemon=True).start()


def terminated() -> bool:
    """Whether the run was stopped by SIGTERM (its exit code is then TERMINATED)."""
    return _State.terminated
