"""Fixtures of the adversarial suite: a local HTTP server that records every request
(127.0.0.1 only) and a FIFO nobody writes to. Helpers are in adversary.py."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from adversary import Recorder, Trap


@pytest.fixture
def trap() -> Iterator[Trap]:
    """A recording HTTP server on a free local port, stopped after the test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    found = Trap(f"http://127.0.0.1:{server.server_address[1]}")
    Recorder.trap = found
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    """A named pipe that nothing writes to: reading it would block forever."""
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    return path
