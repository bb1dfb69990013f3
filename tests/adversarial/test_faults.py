"""Faults, named with the right exit code: one test per case of the hardening issue.

Write failures are real: `chs` runs in a subprocess whose file size limit (RLIMIT_FSIZE,
SIGXFSZ ignored) makes every write past 48 KiB fail with EFBIG. The inputs are built so
that the output under test is several times that size and every working file a fifth of
it, so only that output can fail. Where user namespaces allow it, a tiny tmpfs gives a
real `No space left on device`; a permission failure is real too (as root, the run drops
to `nobody`). Each test asserts the exit code, the exact message, that the previous
outputs are intact and that no temporary file or working folder is left.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import random
import resource
import shutil
import signal
import string
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl
import pytest
from adversary import CHS, TIMEOUT, run_chs
from support import assert_failed, invoke, leftovers, write

import chs.actions.score as score_action

LIMIT = 48 * 1024  # bytes a subprocess may write to one file
ACTION = "Call the customer. " * 55  # about 1 KB per alert line: alerts outgrow LIMIT

SCHEME = f"""\
name: faults
id: id
value: mrr
signals:
  x: {{column: x, weight: 1, linear: [[0, 0], [100, 100]]}}
bands:
  - {{name: high, from: 50}}
  - {{name: low, from: 0}}
alerts:
  - name: call
    when: "score >= 0"
    action: "{ACTION}"
    owner: CSM
    severity: low
"""
PREVIOUS = b"the previous run's output\n"


def export(rows: int = 300, bad: int = 0) -> str:
    """`rows` customers, score == x, each with 600 characters of incompressible notes
    (carried to every output, never to a working file); the first `bad` have a text x."""
    rng = random.Random(10)
    alphabet = string.ascii_letters + string.digits
    lines = ["id,mrr,x,notes"]
    for i in range(rows):
        x = "oops" if i < bad else str(i % 101)
        lines.append(f"C{i:04d},{100 + i},{x},{''.join(rng.choices(alphabet, k=600))}")
    return "\n".join(lines) + "\n"


class Job:
    """A scheme, an export, an output folder and a TMPDIR of the test's own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scheme = write(root / "s.yaml", SCHEME)
        self.data = write(root / "in.csv", export())
        self.out = root / "out"
        self.out.mkdir()
        self.tmp = root / "tmp"
        self.tmp.mkdir()

    def previous(self, name: str) -> Path:
        """An output of an earlier run, which a failed run must leave as it is."""
        path = self.out / name
        path.write_bytes(PREVIOUS)
        return path

    def run(self, *args: object, limit: int | None = LIMIT) -> subprocess.CompletedProcess[str]:
        """`chs ARGS` in a subprocess, TMPDIR the job's, writes limited to `limit` bytes."""

        def limit_writes() -> None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write fails with EFBIG instead
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        return subprocess.run(
            [*CHS, *map(str, args)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(self.tmp)},
            preexec_fn=limit_writes if limit is not None else None,
            check=False,
        )

    def clean(self) -> None:
        """No temporary file beside the outputs, no working folder in TMPDIR."""
        assert leftovers(self.root) == []
        assert list(self.tmp.iterdir()) == []


@pytest.fixture
def job(tmp_path: Path) -> Job:
    return Job(tmp_path)


def failed(result: subprocess.CompletedProcess[str], code: int, message: str) -> None:
    assert (result.returncode, result.stderr) == (code, f"Error: {message}\n")
    assert result.stdout == ""


# -- 1. every write failure is exit 5 naming the output -------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".ndjson"])
def test_a_scored_output_past_the_file_size_limit_is_exit_5_naming_it(job: Job, suffix: str):
    out = job.previous(f"scored{suffix}")
    result = job.run("score", job.data, "-s", job.scheme, "-o", out)
    failed(result, 5, f"{out}: cannot write: File too large")
    assert out.read_bytes() == PREVIOUS
    job.clean()


def test_a_rejects_file_past_the_limit_is_exit_5_naming_it(job: Job):
    data = write(job.root / "bad.csv", export(bad=150))
    rejects = job.previous("rejects.csv")
    result = job.run("score", data, "-s", job.scheme, "--rejects", rejects)
    failed(result, 5, f"{rejects}: cannot write: File too large")
    assert rejects.read_bytes() == PREVIOUS
    job.clean()


def test_an_alerts_file_past_the_limit_is_exit_5_naming_it(job: Job):
    alerts = job.previous("alerts.ndjson")
    scored = job.previous("small.csv")  # a small output of the same run stays as it was
    result = job.run(
        "score", job.data, "-s", job.scheme, "--alerts", alerts, "-o", scored, "--keep", "mrr"
    )
    failed(result, 5, f"{alerts}: cannot write: File too large")
    assert alerts.read_bytes() == PREVIOUS
    assert scored.read_bytes() == PREVIOUS
    job.clean()


def test_a_history_snapshot_past_the_limit_is_exit_5_naming_it(job: Job):
    history = job.root / "history"
    first = job.run(
        "score",
        job.data,
        "-s",
        job.scheme,
        "--history",
        history,
        "--as-of",
        "2026-11-01",
        limit=None,
    )
    assert first.returncode == 0, first.stderr
    snapshot = history / "as_of=2026-11-01" / "scores.parquet"
    before = snapshot.read_bytes()
    result = job.run(
        "score", job.data, "-s", job.scheme, "--history", history, "--as-of", "2026-11-01"
    )
    failed(result, 5, f"{snapshot}: cannot write: File too large")
    assert snapshot.read_bytes() == before
    job.clean()


def test_a_new_history_partition_that_cannot_be_written_is_removed(job: Job):
    history = job.root / "history"
    result = job.run(
        "score", job.data, "-s", job.scheme, "--history", history, "--as-of", "2026-12-01"
    )
    failed(
        result,
        5,
        f"{history / 'as_of=2026-12-01' / 'scores.parquet'}: cannot write: File too large",
    )
    assert not history.exists()  # the folders made for it are gone too
    job.clean()


def test_a_full_tmpdir_for_the_utf8_copy_is_exit_5_naming_tmpdir(job: Job):
    data = job.root / "cp1252.csv"
    data.write_bytes(export().replace("C0", "Ç0").encode("cp1252"))
    out = job.previous("scored.parquet")
    result = job.run("score", data, "-s", job.scheme, "--encoding", "cp1252", "-o", out)
    failed(
        result, 5, f"{job.tmp}: cannot write the UTF-8 copy of cp1252.csv in TMPDIR: File too large"
    )
    assert out.read_bytes() == PREVIOUS
    job.clean()


def narrow(rows: int, seed: int) -> str:
    """`rows` customers without notes, x at random: a diff of two is mostly movement."""
    rng = random.Random(seed)
    return "id,mrr,x\n" + "".join(
        f"C{i:05d},{100 + i},{rng.randint(0, 100)}\n" for i in range(rows)
    )


def test_a_chs_diff_output_past_the_limit_is_exit_5_naming_it(job: Job):
    """12,000 customers: the compared rows (written once, to the output's temporary
    file) come to about three times the limit."""
    last, this = job.out / "last.parquet", write(job.root / "this.csv", narrow(12_000, 2))
    raw = write(job.root / "last.csv", narrow(12_000, 1))
    made = job.run("score", raw, "-s", job.scheme, "-o", last, limit=None)
    assert made.returncode == 0, made.stderr
    out = job.previous("diff.parquet")
    result = job.run("diff", last, this, "-s", job.scheme, "-o", out)
    failed(result, 5, f"{out}: cannot write: File too large")
    assert out.read_bytes() == PREVIOUS
    job.clean()


def test_an_unwritable_output_folder_is_exit_5_naming_the_output(job: Job):
    """A real EACCES: the output's folder is read-only. Root ignores mode bits, so as root
    the run goes into a user namespace of its own (`unshare --user`), where it keeps its
    uid but not its capabilities over the machine's files."""
    prefix = []
    if os.geteuid() == 0:
        if (
            shutil.which("unshare") is None
            or subprocess.run(["unshare", "--user", "true"], check=False).returncode
        ):
            pytest.skip("root without user namespaces: mode bits cannot stop this run")
        prefix = ["unshare", "--user"]
    locked = job.root / "locked"
    locked.mkdir()
    out = locked / "scored.csv"
    out.write_bytes(PREVIOUS)
    locked.chmod(0o555)
    try:
        result = subprocess.run(
            [*prefix, *CHS, "score", str(job.data), "-s", str(job.scheme), "-o", str(out)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(job.tmp)},
            check=False,
        )
    finally:
        locked.chmod(0o755)
    failed(result, 5, f"{out}: cannot write: Permission denied")
    assert out.read_bytes() == PREVIOUS
    job.clean()


def test_a_failed_rename_puts_back_the_outputs_already_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The seam: the second rename of the commit fails (EPERM). The first output, already
    renamed, gets its previous content back; nothing is left behind."""
    job = Job(tmp_path)
    scored, rejects = job.previous("scored.csv"), job.previous("rejects.csv")
    real = os.replace
    calls: list[Path] = []

    def replace(src: object, dst: object) -> None:
        calls.append(Path(str(dst)))
        if Path(str(dst)) == rejects:
            raise PermissionError(1, "Operation not permitted")
        real(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "replace", replace)
    result = invoke("score", job.data, "-s", job.scheme, "-o", scored, "--rejects", rejects)
    assert_failed(result, 5, f"Error: {rejects}: cannot write: Operation not permitted")
    assert calls[:2] == [scored, rejects]  # scored was replaced, then put back
    assert scored.read_bytes() == PREVIOUS
    assert rejects.read_bytes() == PREVIOUS
    assert leftovers(tmp_path) == []


# -- a tiny tmpfs: No space left on device, for real -----------------------------------


def _tmpfs_usable(probe: Path) -> bool:
    """Whether this machine lets an unprivileged user namespace mount a tmpfs."""
    if shutil.which("unshare") is None:
        return False
    probe.mkdir()
    try:
        done = subprocess.run(
            [
                "unshare",
                "--user",
                "--map-root-user",
                "--mount",
                "sh",
                "-c",
                f"mount -t tmpfs -o size=64k tmpfs '{probe}'",
            ],
            capture_output=True,
            timeout=TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _on_tmpfs(
    job: Job, disk: Path, size: str, args: list[object], tmpdir: Path, previous: bool
) -> tuple[int, str, list[str]]:
    """Run chs with a tmpfs of `size` mounted at `disk` (in a mount namespace of its own:
    it vanishes with the run), `previous` an earlier scored.csv on it; the exit code,
    stderr, and the names on the tmpfs after the run."""
    if not _tmpfs_usable(job.root / "probe"):
        pytest.skip("no user namespace with mount here: the file size limit tests cover this")
    disk.mkdir()
    err = job.root / "stderr.txt"
    command = " ".join(f"'{a}'" for a in [*CHS, *map(str, args)])
    script = "\n".join(
        [
            f"mount -t tmpfs -o size={size} tmpfs '{disk}' || exit 99",
            f"printf '%s' \"$PREVIOUS\" > '{disk}/scored.csv'" if previous else "",
            f"TMPDIR='{tmpdir}' NO_COLOR=1 {command} 2> '{err}'",
            "echo $?",
            f"ls -A '{disk}'",
        ]
    )
    done = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, "PREVIOUS": PREVIOUS.decode()},
        check=False,
    )
    code, *names = done.stdout.splitlines()
    return int(code), err.read_text(), names


def test_a_full_disk_is_exit_5_naming_the_output(job: Job):
    """A 64 KB tmpfs holding last month's output: this month's (200 KB) does not fit."""
    disk = job.root / "disk"
    args: list[object] = ["score", job.data, "-s", job.scheme, "-o", disk / "scored.csv"]
    code, err, names = _on_tmpfs(job, disk, "64k", args, job.tmp, previous=True)
    message = f"Error: {disk / 'scored.csv'}: cannot write: No space left on device\n"
    assert (code, err) == (5, message)
    assert names == ["scored.csv"]  # last month's, and no temporary
    assert list(job.tmp.iterdir()) == []


def test_a_full_tmpdir_for_the_working_files_is_exit_5_naming_it(job: Job):
    """A 4 KB TMPDIR: the summary's working file (8 KB here) does not fit."""
    disk = job.root / "disk"
    out = job.previous("scored.csv")
    args: list[object] = ["score", job.data, "-s", job.scheme, "-o", out]
    code, err, names = _on_tmpfs(job, disk, "4k", args, disk, previous=False)
    message = f"Error: {disk}: cannot write a working file in TMPDIR: No space left on device\n"
    assert (code, err) == (5, message)
    assert names == []  # the working folder is gone
    assert out.read_bytes() == PREVIOUS
    assert leftovers(job.out) == []


# -- 2. an input that changes while it is read ----------------------------------------


def _cut_during_the_pass(monkeypatch: pytest.MonkeyPatch, cut) -> None:
    """The seam: the input is changed (by `cut`) once it was opened and planned, right
    before the streaming pass's collect, as a cron job rewriting the export would."""
    real = score_action.collect

    def collect(queries, data, **kwargs):
        cut(data.path)
        return real(queries, data, **kwargs)

    monkeypatch.setattr(score_action, "collect", collect)


def test_a_parquet_input_truncated_mid_run_is_exit_4_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Polars panics on it (`range.end <= self.size`): the panic is seen for what it is."""
    job = Job(tmp_path)
    data = tmp_path / "in.parquet"
    pl.read_csv(job.data).write_parquet(data)
    out = job.previous("scored.csv")
    _cut_during_the_pass(monkeypatch, lambda p: os.truncate(p, p.stat().st_size // 2))
    monkeypatch.setattr(tempfile, "tempdir", str(job.tmp))  # the working folder goes there
    result = invoke("score", data, "-s", job.scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: the file changed while it was being read (truncated, rewritten or "
        "replaced); run again once it is complete",
    )
    assert out.read_bytes() == PREVIOUS
    job.clean()


def test_a_csv_input_cut_short_mid_run_is_exit_4_not_fewer_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Polars reads a shortened CSV without a word: the stamp taken at open catches it."""
    job = Job(tmp_path)
    out = job.previous("scored.csv")
    _cut_during_the_pass(monkeypatch, lambda p: os.truncate(p, 2000))
    monkeypatch.setattr(tempfile, "tempdir", str(job.tmp))
    result = invoke("score", job.data, "-s", job.scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {job.data}: the file changed while it was being read (truncated, rewritten "
        "or replaced); run again once it is complete",
    )
    assert out.read_bytes() == PREVIOUS
    job.clean()


def _truncating(real, path: Path, *, after: bool):
    """`real`, cutting the file at `path` short before or after it runs."""

    def call(*args):
        if not after:
            os.truncate(path, path.stat().st_size // 2)
        found = real(*args)
        if after:
            os.truncate(path, path.stat().st_size // 2)
        return found

    return call


@pytest.mark.parametrize(
    ("seam", "after"),
    [
        # once opened, before it is read
        ("previous_lookup", False),
        # after its ids were found in order: the streaming pass merges it from the file
        ("in_key_order", True),
    ],
)
def test_a_previous_snapshot_truncated_mid_run_is_named_not_the_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seam: str, after: bool
):
    """The previous month's file is cut short during the run: the error names it."""
    job = Job(tmp_path)
    last = tmp_path / "last.parquet"
    assert invoke("score", job.data, "-s", job.scheme, "-o", last).exit_code == 0
    out = job.previous("scored.csv")
    monkeypatch.setattr(
        score_action, seam, _truncating(getattr(score_action, seam), last, after=after)
    )
    monkeypatch.setattr(tempfile, "tempdir", str(job.tmp))
    result = invoke("score", job.data, "-s", job.scheme, "--previous", last, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {last}: the file changed while it was being read (truncated, rewritten or "
        "replaced); run again once it is complete",
    )
    assert out.read_bytes() == PREVIOUS
    job.clean()


def test_an_input_that_fails_to_read_mid_run_is_exit_4_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The seam: the pass raises the OSError a failing disk gives (EIO), no write having
    failed: it is the input's read failure, not an internal error."""
    job = Job(tmp_path)
    out = job.previous("scored.csv")

    def collect(queries, data, **kwargs):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(score_action, "collect", collect)
    result = invoke("score", job.data, "-s", job.scheme, "-o", out)
    assert_failed(result, 4, f"Error: {job.data}: cannot read: Input/output error")
    assert out.read_bytes() == PREVIOUS
    assert leftovers(tmp_path) == []


# -- 3. an encoding that is not one -----------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "what"),
    [("rot13", "is a codec but not a text encoding"), ("klingon", "is not a known encoding")],
)
def test_a_bad_encoding_is_a_usage_error_naming_the_option(job: Job, encoding: str, what: str):
    out = job.out / "scored.csv"
    result = run_chs("score", job.data, "-s", job.scheme, "--encoding", encoding, "-o", out)
    failed(result, 2, f"--encoding {encoding!r} {what} (for example utf-8, cp1252, latin-1)")
    assert not out.exists()


# -- 4. FIFOs, pipes and devices are named, never opened --------------------------------

FIFO = "is a named pipe (FIFO), not a file; chs reads an input more than once, so save it to a file first"


def test_a_fifo_to_score_is_named_without_blocking(fifo: Path, job: Job):
    failed(run_chs("score", fifo, "-s", job.scheme), 4, f"{fifo}: {FIFO}")


def test_a_fifo_to_diff_is_named_without_blocking(fifo: Path, job: Job):
    failed(run_chs("diff", fifo, job.data, "-s", job.scheme), 4, f"{fifo}: {FIFO}")
    failed(run_chs("diff", job.data, fifo, "-s", job.scheme), 4, f"{fifo}: {FIFO}")


def test_a_fifo_named_parquet_to_diff_is_not_opened_for_its_metadata(tmp_path: Path, job: Job):
    fifo = tmp_path / "last.parquet"
    os.mkfifo(fifo)
    failed(run_chs("diff", fifo, job.data, "-s", job.scheme), 4, f"{fifo}: {FIFO}")


def test_a_fifo_to_explain_is_named_without_blocking(fifo: Path, job: Job):
    failed(run_chs("explain", fifo, "C0001", "-s", job.scheme), 4, f"{fifo}: {FIFO}")


def test_a_fifo_as_previous_snapshot_is_named_without_blocking(fifo: Path, job: Job):
    result = run_chs("score", job.data, "-s", job.scheme, "--previous", fifo)
    failed(result, 4, f"{fifo}: {FIFO}")


def test_a_fifo_in_a_history_is_named_without_blocking(job: Job):
    partition = job.root / "history" / "as_of=2026-10-01"
    partition.mkdir(parents=True)
    os.mkfifo(partition / "scores.parquet")
    result = run_chs("history", job.root / "history")
    failed(result, 4, f"{partition / 'scores.parquet'}: is a named pipe (FIFO), not a file")


def test_dev_zero_is_a_device(job: Job):
    failed(run_chs("score", "/dev/zero", "-s", job.scheme), 4, "/dev/zero: is a device, not a file")


def test_a_shell_pipe_is_a_pipe(job: Job):
    """`chs score <(cat export.csv)`: the shell hands over /dev/fd/N, an anonymous pipe."""
    read, write_end = os.pipe()
    try:
        result = subprocess.run(
            [*CHS, "score", f"/dev/fd/{read}", "-s", str(job.scheme)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            pass_fds=(read,),
            env={**os.environ, "NO_COLOR": "1"},
            check=False,
        )
    finally:
        os.close(read)
        os.close(write_end)
    message = "is a pipe, not a file; chs reads an input more than once, so save it to a file first"
    failed(result, 4, f"/dev/fd/{read}: {message}")


def test_a_fifo_as_output_is_refused_before_anything_is_read(job: Job, tmp_path: Path):
    """Renaming a finished output onto a FIFO (or, as root, onto /dev/null) would
    replace it; the output is refused."""
    target = tmp_path / "out.csv"
    os.mkfifo(target)
    result = run_chs("score", job.data, "-s", job.scheme, "-o", target)
    failed(
        result,
        5,
        f"{target}: is a named pipe (FIFO), not a file; outputs are written to a temporary "
        "file and renamed into place",
    )
    assert target.is_fifo()


# -- 5. temporaries: swept after kill -9, by pattern, age and lock ----------------------

OLD = 1_000_000_000  # 2001: long before any run of the test


def _old(path: Path, content: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(content)
    os.utime(path, (OLD, OLD))
    return path


def test_a_later_run_sweeps_a_killed_runs_temporaries_and_nothing_else(job: Job):
    history = job.root / "history"
    stale = [
        _old(job.out / ".scored.csv.chs-a1b2c3d4.tmp"),
        _old(job.out / ".other.parquet.chs-zz_99xyz.tmp"),  # another output of that run
        _old(history / "as_of=2026-10-01" / ".scores.parquet.chs-0000abcd.tmp"),
    ]
    work = job.tmp / "chs-k1ll3d00"
    _old(work / "summary.parquet")
    os.utime(work, (OLD, OLD))
    kept = [
        _old(job.out / ".scored.csv.tmp"),  # not our pattern
        _old(job.out / ".scored.csv.chs-abc.tmp"),  # too short a random part
        _old(job.out / "scored.csv.chs-a1b2c3d4.tmp"),  # no leading dot
        _old(job.out / ".scored.csv.chs-a1b2c3d4.tmp.bak"),
        _old(job.tmp / "chs-k1ll3d00x" / "f"),  # not our folder pattern
        _old(job.tmp / "chs-notes.txt"),
    ]
    newer = job.out / ".late.csv.chs-11112222.tmp"  # newer than the run: a live run's
    newer.write_bytes(b"x")
    future = dt.datetime(2100, 1, 1).timestamp()
    os.utime(newer, (future, future))
    locked = _old(job.out / ".held.csv.chs-33334444.tmp")  # old, but its run is alive
    with locked.open("rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        result = job.run(
            "score",
            job.data,
            "-s",
            job.scheme,
            "-o",
            job.out / "scored.csv",
            "--history",
            history,
            "--as-of",
            "2026-11-01",
            limit=None,
        )
    assert result.returncode == 0, result.stderr
    assert [p for p in stale if p.exists()] == []
    assert not work.exists()
    assert [p for p in [*kept, newer, locked] if not p.exists()] == []
    assert sorted(p.name for p in (history / "as_of=2026-10-01").iterdir()) == []


KILL_AT_COMMIT = """\
import os, signal, sys
import chs.files
def killed(self):
    os.kill(os.getpid(), signal.SIGKILL)  # every temporary written, none renamed yet
chs.files.PendingWrites.commit = killed
from chs.cli import main
sys.argv = ["chs", *sys.argv[1:]]
main()
"""


def test_kill_9_before_the_commit_leaves_temporaries_the_next_run_sweeps(job: Job):
    history = job.root / "history"
    october = ["score", job.data, "-s", job.scheme, "--history", history, "--as-of", "2026-10-01"]
    assert job.run(*october, limit=None).returncode == 0
    out = job.previous("scored.csv")
    args = [
        "score",
        job.data,
        "-s",
        job.scheme,
        "-o",
        out,
        "--history",
        history,
        "--as-of",
        "2026-11-01",
    ]
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT_COMMIT, *map(str, args)],
        capture_output=True,
        timeout=TIMEOUT,
        env={**os.environ, "NO_COLOR": "1", "TMPDIR": str(job.tmp)},
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    left = leftovers(job.root)
    assert [n.split(".chs-")[0] for n in left] == [".scored.csv", ".scores.parquet"]
    assert [p.name[:4] for p in job.tmp.iterdir()] == ["chs-"]  # its working folder
    assert out.read_bytes() == PREVIOUS  # the killed run replaced nothing
    # a glob of the snapshot files passes over the killed run's temporary
    assert pl.scan_parquet(history / "*" / "scores.parquet").collect().height == 300
    # the next run comes two hours later (TMPDIR's folders are swept an hour old)
    for path in [*job.root.rglob("*.tmp"), *job.tmp.iterdir()]:
        earlier = path.stat().st_mtime - 7200
        os.utime(path, (earlier, earlier))
    again = job.run(*args, limit=None)
    assert again.returncode == 0, again.stderr
    job.clean()
    assert pl.scan_parquet(history).collect().height == 600  # the folder as one table


# -- 7. symbolic links in a history ------------------------------------------------------


def test_a_history_partition_that_is_a_link_is_never_written_through(job: Job):
    history, elsewhere = job.root / "history", job.root / "elsewhere"
    history.mkdir()
    elsewhere.mkdir()
    (history / "as_of=2026-11-01").symlink_to(elsewhere)
    result = invoke(
        "score", job.data, "-s", job.scheme, "--history", history, "--as-of", "2026-11-01"
    )
    assert_failed(
        result,
        5,
        f"Error: {history / 'as_of=2026-11-01'}: is a symbolic link; a history keeps its "
        "snapshots in its own folder, never through a link",
    )
    assert list(elsewhere.iterdir()) == []


def test_a_snapshot_file_that_is_a_link_is_never_written_through(job: Job):
    history = job.root / "history"
    partition = history / "as_of=2026-11-01"
    partition.mkdir(parents=True)
    victim = write(job.root / "victim.txt", "not a snapshot\n")
    (partition / "scores.parquet").symlink_to(victim)
    result = invoke(
        "score", job.data, "-s", job.scheme, "--history", history, "--as-of", "2026-11-01"
    )
    assert_failed(
        result,
        5,
        f"Error: {partition / 'scores.parquet'}: is a symbolic link; a history keeps its "
        "snapshots in its own folder, never through a link",
    )
    assert victim.read_text() == "not a snapshot\n"


def test_another_partition_that_is_a_link_is_refused_when_writing(job: Job):
    history, elsewhere = job.root / "history", job.root / "elsewhere"
    history.mkdir()
    elsewhere.mkdir()
    (history / "as_of=2026-10-01").symlink_to(elsewhere)
    link = f"{history / 'as_of=2026-10-01'}: is a symbolic link; a history keeps its snapshots in its own folder, never through a link"
    result = invoke(
        "score", job.data, "-s", job.scheme, "--history", history, "--as-of", "2026-11-01"
    )
    assert_failed(result, 5, f"Error: {link}", history / "as_of=2026-11-01" / "scores.parquet")
    assert_failed(invoke("history", history), 4, f"Error: {link}")


# -- 9. scores within 0-100, checked before anything is written -------------------------


def _broken_engine(monkeypatch: pytest.MonkeyPatch, column: str, value: float) -> None:
    """The seam: the rows leave the engine with `column` set to `value` for customer
    C0007, as a bug in the engine (or a scheme construct it missed) would leave them."""
    real = score_action.add_alerts

    def add_alerts(frame: pl.LazyFrame, scheme, as_of=None):
        frame, inactive = real(frame, scheme, as_of)
        broken = pl.when(pl.col("id") == "C0007").then(pl.lit(value)).otherwise(pl.col(column))
        return frame.with_columns(broken.alias(column)), inactive

    monkeypatch.setattr(score_action, "add_alerts", add_alerts)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(float("nan"), "nan"), (100.5, "100.5"), (-0.1, "-0.1"), (float("inf"), "inf")],
)
def test_a_score_outside_0_100_is_an_internal_error_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: float, shown: str
):
    job = Job(tmp_path)
    out, alerts = job.previous("scored.csv"), job.previous("alerts.ndjson")
    _broken_engine(monkeypatch, "score", value)
    result = invoke("score", job.data, "-s", job.scheme, "-o", out, "--alerts", alerts)
    assert result.exit_code == 1
    assert result.stderr == (
        f"Internal error: ScoreOutOfRange: 1 rows have a score outside 0-100 (such as {shown}); "
        "nothing was written\n"
        "This is a bug in chs; run again with --debug for the traceback and report it.\n"
    )
    assert out.read_bytes() == PREVIOUS
    assert alerts.read_bytes() == PREVIOUS
    assert leftovers(tmp_path) == []


def test_an_extra_score_outside_0_100_is_caught_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    job = Job(tmp_path)
    side = write(tmp_path / "side.yaml", SCHEME.replace("name: faults", "name: side"))
    out = job.previous("scored.parquet")
    _broken_engine(monkeypatch, "side_score", 250.0)
    result = invoke("score", job.data, "-s", job.scheme, "-s", side, "-o", out)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        "Internal error: ScoreOutOfRange: 1 rows have a side_score outside 0-100 (such as "
        "250.0); nothing was written"
    )
    assert out.read_bytes() == PREVIOUS


def test_scores_at_the_bounds_pass_the_check(tmp_path: Path):
    job = Job(tmp_path)
    data = write(tmp_path / "bounds.csv", "id,mrr,x,notes\nC1,1,0,a\nC2,2,100,b\nC3,3,-5,c\n")
    out = tmp_path / "out" / "bounds.csv"
    result = invoke("score", data, "-s", job.scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert pl.read_csv(out)["score"].to_list() == [0.0, 100.0, 0.0]
