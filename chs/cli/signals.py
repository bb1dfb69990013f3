"""Ctrl-C and SIGTERM end a run with one KeyboardInterrupt, raised where it cannot be
lost, so that the outputs' temporaries and the working folder in TMPDIR are removed on
the way out and nothing is written. By default SIGTERM (a service stopping, `timeout`,
`kill`) killed the process where it stood and left them (swept by a later run: the next
one for a temporary, one an hour later for a working folder).

Where Python can be interrupted:
- Python runs a signal's handler only between two steps of Python code, in the main
  thread: while Polars runs a query (most of a run) it would run only once the query is
  done. Polars itself stops a query on SIGINT (its own hook, installed when polars is
  imported, after these handlers) and raises KeyboardInterrupt.
- A KeyboardInterrupt raised in Python code that native code called is lost: Polars
  calls the file object it writes through (`files._Recorded`: `tell`, `write`…) and
  takes an error from `tell` to mean the file cannot seek; isinstance checks and
  finalisers (`__del__`) swallow it too. It must not be raised there, nor a second time
  during the clean-up.

So the handler (`_on_signal`) raises only in plain Python code, once; anywhere else it
notes the request (`deferred`). A thread reads the signals from Python's wake-up pipe
and insists (`_insist`) every `_RETRY` seconds until one is raised: a request the handler
deferred is asked again (`_thread.interrupt_main`); a handler that has not run means that
Python waits on native code, and SIGINT is sent once, on which Polars stops its query.
After `_GIVE_UP` seconds without an interrupt the process exits at once, as SIGTERM did.

Exit codes: 143 (128 + 15) for SIGTERM, as for a process SIGTERM ended; 130 for Ctrl-C
(typer's). A second SIGTERM ends the run at once. A SIGINT ignored when chs started (a
background job of a shell without job control) stays ignored by this code (Polars' own
hook still stops a query on it).
"""

from __future__ import annotations

import _thread
import os
import signal
import sys
import threading
import time
from types import FrameType
from typing import ClassVar

TERMINATED = 128 + signal.SIGTERM  # the exit code
_RETRY = 0.1  # seconds between two attempts to interrupt
_GIVE_UP = 30.0  # seconds without an interrupt before the process exits anyway
# Code that native code calls, where a raised exception is lost (see the module docstring).
_CALLBACK_NAMES = ("__del__", "__instancecheck__", "__subclasscheck__")
_CALLBACK_CLASS = "_Recorded."  # chs.files' file object that Polars writes through


class _State:
    """What the handler (main thread) and the watching threads share."""

    lock = threading.RLock()  # the handler can be entered again while it runs
    sigint_ignored = False  # SIGINT was ignored when chs started: a real one stays so
    wanted = False  # an interrupt is asked for (Ctrl-C or SIGTERM)
    terminated = False  # by SIGTERM: the run exits TERMINATED
    raised = False  # a KeyboardInterrupt is under way (ours or Polars')
    deferred = False  # the handler ran where it could not raise
    forwarded = False  # Polars has had a SIGINT
    insisting = False  # a thread insists
    sigterms = 0  # real SIGTERMs read from the pipe
    resent: ClassVar[dict[int, int]] = {signal.SIGINT: 0, signal.SIGTERM: 0}  # ours, unread


def _in_callback(frame: FrameType | None) -> bool:
    """Whether Python runs code that native code called, where an exception is lost."""
    while frame is not None:
        code = frame.f_code
        if code.co_name in _CALLBACK_NAMES or code.co_qualname.startswith(_CALLBACK_CLASS):
            return True
        frame = frame.f_back
    return False


def _on_signal(signum: int, frame: FrameType | None) -> None:
    """SIGINT or SIGTERM, in the main thread: raise KeyboardInterrupt if it is safe here
    and none is under way; else note it for `_insist`."""
    with _State.lock:
        if signum == signal.SIGTERM:
            _State.wanted = _State.terminated = True
        elif not _State.sigint_ignored:
            _State.wanted = _State.forwarded = True  # Ctrl-C: Polars has seen it too
        if not _State.wanted or _State.raised:
            return
        handled = sys.exc_info()[1]
        if isinstance(handled, KeyboardInterrupt | SystemExit):
            _State.raised = True  # Polars raised one, or the run is ending
            return
        if handled is not None or _in_callback(frame):
            _State.deferred = True
            return
        _State.raised = True
    raise KeyboardInterrupt


def _watch(fd: int) -> None:
    """Read the signals Python's handler writes to the wake-up pipe (a byte each)."""
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:
            return
        if not data:
            return
        for signum in data:
            if signum in (signal.SIGINT, signal.SIGTERM) and _request(signum):
                threading.Thread(target=_insist, name="chs-interrupt", daemon=True).start()


def _request(signum: int) -> bool:
    """Count a real signal (not one of ours); whether a thread must start insisting."""
    with _State.lock:
        if _State.resent[signum]:
            _State.resent[signum] -= 1
            return False
        if signum == signal.SIGINT and _State.sigint_ignored:
            return False
        if signum == signal.SIGTERM:
            _State.sigterms += 1
            if _State.sigterms > 1:
                os._exit(TERMINATED)  # a second SIGTERM: now, as a kill would
        start, _State.insisting = not _State.insisting, True
        return start


def _insist() -> None:
    """Until a KeyboardInterrupt is under way: ask the handler again where it deferred;
    where it has not run (Python waits on native code), send SIGINT once for Polars."""
    for _ in range(int(_GIVE_UP / _RETRY)):
        time.sleep(_RETRY)
        with _State.lock:
            if _State.raised:
                return
            forward = not _State.deferred and not _State.forwarded
            _State.forwarded = _State.forwarded or forward
            _State.deferred = False
            _State.resent[signal.SIGINT] += 1
        if forward:
            os.kill(os.getpid(), signal.SIGINT)
        else:
            _thread.interrupt_main(signal.SIGINT)
    os._exit(TERMINATED if _State.terminated else 130)


def stop_on_signals() -> None:
    """Install the handlers and the watching thread: from the main thread, once, before
    polars is imported (Polars' SIGINT hook then runs before Python's)."""
    _State.sigint_ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    threading.Thread(target=_watch, args=(read,), name="chs-signals", daemon=True).start()


def terminated() -> bool:
    """Whether the run was stopped by SIGTERM (its exit code is then TERMINATED)."""
    return _State.terminated
