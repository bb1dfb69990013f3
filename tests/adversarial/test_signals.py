"""A run stopped by a signal removes what it made: SIGTERM (a service stopping, `timeout`)
ends it as Ctrl-C does (chs/cli/signals.py), exit 143 (Ctrl-C: 130), with no output, no
temporary beside it and no working folder in TMPDIR.

Before, SIGTERM killed the process where it stood: `.out.csv.chs-….tmp` and a TMPDIR
`chs-…` folder stayed (the next run swept the temporary, a run an hour later the folder).

Each run is a real `chs` process on 600,000 rows scored through 1,750 map categories, so
that its scoring pass lasts seconds (3.4 s in all, 2.6 s of it after the output's
temporary appears, on the machine this was written on). The signal comes once that
temporary is there, while Polars plans or runs the query: the run must stop within
STOPPED_WITHIN, well before the pass would end (Python alone runs a handler only after
Polars returns; here it stops in 0.2-1.0 s, the most when the signal comes while Polars
plans, which it cannot stop).
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

ROWS = 600_000
CATEGORIES = [f"k{i:03d}" for i in range(250)]
MAPS = 7  # 7 x 250 categories: within the scheme's 2,000 rules
STOPPED_WITHIN = 1.5  # seconds from the signal to the end of the process


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


def export(folder: Path) -> tuple[Path, Path]:
    """The scheme and the export (9.5 MB), written once for the module."""
    data = folder / "in.csv"
    pl.DataFrame(
        {
            "id": [f"C{i:06d}" for i in range(ROWS)],
            "kind": [CATEGORIES[(i * 7919) % 250] for i in range(ROWS)],
            "x": [i % 101 for i in range(ROWS)],
        }
    ).write_csv(data)
    return write(folder / "s.yaml", scheme()), data


class Run:
    """The module's scheme and export, and an output folder and a TMPDIR of the test's
    own; `start` a `chs score`."""

    def __init__(self, root: Path, files: tuple[Path, Path]) -> None:
        self.root = root
        self.scheme, self.data = files
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


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return export(tmp_path_factory.mktemp("export"))


@pytest.fixture
def run(tmp_path: Path, files: tuple[Path, Path]) -> Run:
    return Run(tmp_path, files)


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
