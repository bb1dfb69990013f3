"""A run stopped by a signal removes what it made: SIGTERM (a service stopping, `timeout`)
ends it as Ctrl-C does (chs/cli/signals.py), exit 143 (Ctrl-C: 130), with no output, no
temporary beside it and no working folder in TMPDIR.

Before, SIGTERM killed the process where it stood: `.out.csv.chs-….tmp` and a TMPDIR
`chs-…` folder stayed (the next run swept the temporary, a run an hour later the folder).

Each run is a real `chs` process on 300,000 rows scored through 1,750 map categories, so
that its scoring pass lasts seconds (2.5 s in all, 1.7 s of it after the temporary
appears, on the machine this was written on). The signal comes once the output's
temporary is there, that is while Polars scores: the run must stop within a second, long
before the pass would end (Python alone runs a handler only after Polars returns).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import polars as pl
import pytest
from adversary import CHS, TIMEOUT
from support import leftovers, write

ROWS = 300_000
CATEGORIES = [f"k{i:03d}" for i in range(250)]
MAPS = 7  # 7 x 250 categories: within the scheme's 2,000 rules
STOPPED_WITHIN = 1.0  # seconds from the signal to the end of the process


def scheme() -> str:
    """Seven map signals over expressions (each a 250-step chain per row) and one linear."""
    signals = "".join(
        f"  m{j}: {{expr: \"kind || '{j}'\", weight: 1, other: 0, map: {{"
        + ", ".join(f"{c}{j}: {i % 101}" for i, c in enumerate(CATEGORIES))
        + "}}\n"
        for j in range(MAPS)
    )
    return (
        f"name: slow\nid: id\nsignals:\n{signals}"
        "  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}\n"
        "bands:\n  - {name: high, from: 50}\n  - {name: low, from: 0}\n"
    )


class Run:
    """A scheme, an export and a TMPDIR of the test's own; `start` a `chs score`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scheme = write(root / "s.yaml", scheme())
        self.data = root / "in.csv"
        pl.DataFrame(
            {
                "id": [f"C{i:06d}" for i in range(ROWS)],
                "kind": [CATEGORIES[(i * 7919) % 250] for i in range(ROWS)],
                "x": [i % 101 for i in range(ROWS)],
            }
        ).write_csv(self.data)
        self.out = root / "out" / "scored.csv"
        self.tmp = root / "tmp"
        self.tmp.mkdir()

    def start(self, *, ignore_sigint: bool = False) -> subprocess.Popen[str]:
        """`chs score` with --rejects, once its output's temporary is there. With
        `ignore_sigint`, as a shell without job control starts a background job."""

        def ignore() -> None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        args = [self.data, "-s", self.scheme, "-o", self.out, "--rejects", self.root / "r.csv"]
        process = subprocess.Popen(
            [*CHS, "score", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(self.tmp)},
            preexec_fn=ignore if ignore_sigint else None,
        )
        deadline = time.monotonic() + TIMEOUT
        while not leftovers(self.root):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "no temporary appeared"
            time.sleep(0.005)
        # its working folder, made before the temporaries
        assert [p.name[:4] for p in self.tmp.iterdir()] == ["chs-"]
        return process

    def stop(self, process: subprocess.Popen[str], signum: int) -> tuple[int, float, str]:
        """Send `signum`; the exit code, the seconds it took to end, and stdout + stderr."""
        sent = time.monotonic()
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
        return process.returncode, time.monotonic() - sent, stdout + stderr

    def clean(self) -> None:
        """No output, no temporary beside it, nothing in TMPDIR."""
        assert not self.out.exists()
        assert not (self.root / "r.csv").exists()
        assert leftovers(self.root) == []
        assert list(self.tmp.iterdir()) == []
        assert not self.out.parent.exists()  # the folder made for the output, too


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return Run(tmp_path)


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
    ids=["SIGTERM", "SIGINT"],
)
def test_a_signal_while_scoring_stops_the_run_and_removes_its_files(
    run: Run, signum: int, code: int
) -> None:
    returncode, took, printed = run.stop(run.start(), signum)
    assert (returncode, printed) == (code, "")
    assert took < STOPPED_WITHIN
    run.clean()


def test_sigterm_stops_a_run_that_ignores_sigint(run: Run) -> None:
    # a background job of a shell script without job control: SIGTERM is passed on to
    # Polars as SIGINT, which Polars acts on even so (its own hook)
    returncode, took, printed = run.stop(run.start(ignore_sigint=True), signal.SIGTERM)
    assert (returncode, printed) == (143, "")
    assert took < STOPPED_WITHIN
    run.clean()


def test_a_second_sigterm_ends_the_run_at_once(run: Run) -> None:
    process = run.start()
    process.send_signal(signal.SIGTERM)
    returncode, took, _ = run.stop(process, signal.SIGTERM)
    assert returncode == 143
    assert took < STOPPED_WITHIN
