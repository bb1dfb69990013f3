"""Fixtures of the adversarial suite: a local HTTP server that records every request
(127.0.0.1 only), a FIFO nobody writes to, and the installed `chs` run as a subprocess
with a timeout, so that a hang fails the test instead of the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHS = [sys.executable, "-m", "chs"]
TIMEOUT = 30  # seconds: every subprocess of this suite ends within it or fails the test


@dataclass
class Trap:
    """A server on 127.0.0.1 that answers every request with a small CSV and records it."""

    url: str
    requests: list[str] = field(default_factory=list)


class _Recorder(BaseHTTPRequestHandler):
    trap: Trap

    def _answer(self) -> None:
        self.trap.requests.append(f"{self.command} {self.path}")
        body = b"a\n1\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_HEAD = do_POST = _answer

    def log_message(self, *_: object) -> None:  # keep the test output clean
        return


@pytest.fixture
def trap() -> Iterator[Trap]:
    """A recording HTTP server on a free local port, stopped after the test."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    found = Trap(f"http://127.0.0.1:{server.server_address[1]}")
    _Recorder.trap = found
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


def run_chs(*args: object, cwd: Path | None = None, env: dict[str, str] | None = None):
    """`python -m chs ARGS` with a timeout; the completed process (text output)."""
    return subprocess.run(
        [*CHS, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        check=False,
    )
