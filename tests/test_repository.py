"""The repository around the package: the Makefile's set-ups, what the README's examples
write, and the GitHub Actions example, whose history steps are run here against a local
bare repository standing for GitHub (two months: the branch is made, then extended)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from support import invoke

REPO = Path(__file__).resolve().parents[1]
CHS_BIN = Path(sys.executable).parent
WORKFLOW = REPO / "examples" / "monthly-health-score.yml"
HISTORY_STEPS = (
    "Check out the history (branch chs-history)",
    "Score this month",
    "Write the report",
    "Keep the history (push branch chs-history)",
)


def run(*args: object, cwd: Path = REPO, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120, **kwargs
    )


# -- make demo installs chs alone; make test its tools too -------------------------------------


def make_commands(target: str) -> list[str]:
    """What `make TARGET` would run on a fresh clone (`-B`: as if nothing were installed),
    without running it."""
    # --no-print-directory: under `make test` (CI), a nested make names its folder
    result = run("make", "--no-print-directory", "-n", "-B", target)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_demo_installs_chs_alone() -> None:
    # it installed '.[dev,bench]': pytest, pandas, pyarrow and DuckDB for a demo
    installs = [c for c in make_commands("demo") if "pip install" in c]
    assert installs == [
        ".venv/bin/pip install --quiet --upgrade pip",
        ".venv/bin/pip install --quiet -e .",
    ]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_test_installs_the_dev_and_bench_tools_and_runs_everything() -> None:
    commands = make_commands("test")
    assert [c for c in commands if "pip install" in c] == [
        ".venv/bin/pip install --quiet --upgrade pip",
        ".venv/bin/pip install --quiet -e '.[dev,bench]'",
    ]
    assert commands[-3:] == [
        ".venv/bin/ruff check .",
        ".venv/bin/ruff format --check .",
        ".venv/bin/pytest",
    ]
    assert (REPO / ".ci" / "run").read_text().splitlines()[-1] == "make test"


def test_the_demo_needs_none_of_the_extras() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=\[ ]", d)[0] for d in project["dependencies"]}
    assert names == {
        "polars",
        "typer",
        "pydantic",
        "pyyaml",
        "rich",
        "sqlglot",
        "fastexcel",
        "zstandard",
        "scipy",
        "altair",
        "vl-convert-python",
    }
    extras = project["optional-dependencies"]
    assert {re.split(r"[<>=\[ ]", d)[0] for d in extras["dev"]} >= {"pytest", "ruff"}
    assert {re.split(r"[<>=\[ ]", d)[0] for d in extras["bench"]} >= {"pandas", "duckdb"}


# -- the README's month loop writes under out/, which git ignores -------------------------------


def test_the_month_loop_writes_only_under_a_git_ignored_folder() -> None:
    readme = (REPO / "README.md").read_text()
    loop = re.search(r"```sh\n(for m in 09 10 11; do\n.*?\ndone)\n```", readme, re.S)
    assert loop is not None
    words = shlex.split(loop.group(1).replace("\\\n", " "))
    written = [words[i + 1] for i, w in enumerate(words) if w in ("-o", "--history", "--alerts")]
    assert written == ["out/history", "out/scored-$m.parquet", "out/alerts-$m.ndjson"]
    if shutil.which("git") and (REPO / ".git").exists():
        paths = ["out/history/as_of=2026-09-01/scores.parquet", "out/scored-09.parquet"]
        assert run("git", "check-ignore", *paths).stdout.split() == paths


# -- the GitHub Actions example keeps its history on a branch -------------------------------------


def workflow() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_keeps_no_history_in_a_cache() -> None:
    # GitHub evicts a cache unused for 7 days: a monthly run would start from nothing
    data = workflow()
    steps = data["jobs"]["score"]["steps"]
    assert not [s for s in steps if "cache" in s.get("uses", "")]
    assert data["permissions"] == {"contents": "write"}
    assert data[True]["schedule"] == [{"cron": "0 6 1 * *"}]  # YAML 1.1 reads `on` as true
    by_name = {s["name"]: s for s in steps if "name" in s}
    assert list(by_name) == ["Install chs", *HISTORY_STEPS, "Notify when alerts fired"]
    assert "git worktree add --detach history FETCH_HEAD" in by_name[HISTORY_STEPS[0]]["run"]
    assert "--history history" in by_name["Score this month"]["run"]
    assert "git push origin HEAD:refs/heads/chs-history" in by_name[HISTORY_STEPS[-1]]["run"]
    assert "--html" in by_name["Write the report"]["run"]


def git(*args: object, cwd: Path) -> None:
    result = run("git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr


def run_the_history_steps(tmp_path: Path, origin: Path, month: str) -> Path:
    """One workflow run: a fresh shallow clone, then the history steps' scripts as the
    workflow has them (the month given instead of today's); the clone."""
    job = tmp_path / f"job-{month}"
    git("clone", "-q", "--depth=1", f"file://{origin}", job, cwd=tmp_path)
    outputs = tmp_path / f"outputs-{month}"
    outputs.write_text("")
    env = {**os.environ, "GITHUB_OUTPUT": str(outputs), "PATH": f"{CHS_BIN}:{os.environ['PATH']}"}
    env |= {"GIT_AUTHOR_NAME": "t", "GIT_COMMITTER_NAME": "t", "EMAIL": "t@example.com"}
    steps = {s.get("name"): s for s in workflow()["jobs"]["score"]["steps"]}
    for name in HISTORY_STEPS:
        script = steps[name]["run"].replace("$(date -u +%Y-%m-01)", month)
        script = script.replace("${{ steps.score.outputs.month }}", month)
        result = run("bash", "-e", "-c", script, cwd=job, env=env)
        assert result.returncode == 0, (name, result.stdout[-500:], result.stderr[-500:])
    return job


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_workflows_history_lasts_from_one_month_to_the_next(tmp_path: Path) -> None:
    origin, seed = tmp_path / "origin.git", tmp_path / "seed"
    git("init", "-q", "--bare", "-b", "main", origin, cwd=tmp_path)
    (seed / "exports").mkdir(parents=True)
    (seed / "schemes").mkdir()
    shutil.copy(REPO / "schemes" / "saas.yaml", seed / "schemes" / "saas.yaml")
    months = REPO / "sample_data" / "months"
    shutil.copy(months / "customers_2026-10.csv", seed / "exports" / "customers.csv")
    git("init", "-q", "-b", "main", cwd=seed)
    git("add", ".", cwd=seed)
    git("commit", "-q", "-m", "scheme and export", cwd=seed)
    git("push", "-q", f"file://{origin}", "main", cwd=seed)

    run_the_history_steps(tmp_path, origin, "2026-10-01")  # the first run makes the branch
    shutil.copy(months / "customers_2026-11.csv", seed / "exports" / "customers.csv")
    git("commit", "-q", "-am", "November's export", cwd=seed)
    git("push", "-q", f"file://{origin}", "main", cwd=seed)
    job = run_the_history_steps(tmp_path, origin, "2026-11-01")

    tree = run("git", f"--git-dir={origin}", "ls-tree", "-r", "--name-only", "chs-history")
    assert tree.stdout.splitlines() == [
        "as_of=2026-10-01/scores.parquet",
        "as_of=2026-11-01/scores.parquet",
    ]  # the branch holds the history alone: no file of the repository
    log = run("git", f"--git-dir={origin}", "log", "--format=%s", "chs-history")
    assert log.stdout.splitlines() == [
        "chs history: snapshot of 2026-11-01",
        "chs history: snapshot of 2026-10-01",
    ]
    # November's run found October's snapshot: 388 customers of October are still there
    # (163 up, 170 down, 55 same) and 12 are new
    scored = pl.read_parquet(job / "out" / "scored-2026-11-01.parquet")
    assert scored["previous_score"].is_not_null().sum() == 388
    assert scored["movement"].value_counts(sort=True).rows() == [
        ("down", 170), ("up", 163), ("same", 55), ("new", 12)
    ]  # fmt: skip
    # and its report, uploaded with the outputs, shows the movement since October
    report = (job / "out" / "report-2026-11-01.html").read_text(encoding="utf-8")
    assert "<h2>Movement since 2026-10-01</h2>" in report
    assert "<title>Customer health, 2026-11-01</title>" in report


# -- the README's examples are what chs prints ------------------------------------------------


def readme_block(command: str) -> list[str]:
    """The lines a README example shows after `$ COMMAND`, up to the end of its block."""
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(f"$ {command}") + 1
    return lines[start : lines.index("```", start)]


def test_the_explain_example_is_what_chs_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    # it showed feature_adoption -11.5 where chs prints -11.6
    command = "chs explain sample_data/customers.csv C0001 --scheme schemes/simple-crm.yaml"
    monkeypatch.chdir(REPO)
    result = invoke(*command.split()[1:])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:-1] == readme_block(command)  # and a blank line


def test_the_history_example_is_what_chs_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the README's month loop, then its `chs history` example (piped: no sparkline)
    monkeypatch.chdir(tmp_path)
    for m in ("09", "10", "11"):
        data = REPO / "sample_data" / "months" / f"customers_2026-{m}.csv"
        scored = invoke(
            "score", data, "-s", REPO / "schemes" / "saas.yaml", "--history", "out/history",
            "--as-of", f"2026-{m}-01", "-o", f"out/scored-{m}.parquet",
        )  # fmt: skip
        assert scored.exit_code == 0, scored.output
    result = invoke("history", "out/history", "--top", 4)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == readme_block("chs history out/history --top 4")
