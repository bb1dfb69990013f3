"""What the adversarial tests share besides fixtures: the installed `chs` run as a
subprocess with a timeout (a hang fails the test, not the suite), and the recording HTTP
server behind the `trap` fixture."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

CHS = [sys.executable, "-m", "chs"]
TIMEOUT = 30  # seconds: every subprocess of this suite ends within it or fails the test

# One signal; its body is lines 5-7 and `bands:` is line 8.
BASE = """\
name: t
id: id
signals:
  a:
    column: a
    weight: 1
    points: [{points: 0}]
bands: [{name: ok, from: 0}]
"""


@dataclass
class Trap:
    """A server on 127.0.0.1 that answers every request with a small CSV and records it."""

    url: str
    requests: list[str] = field(default_factory=list)


class Recorder(BaseHTTPRequestHandler):
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
