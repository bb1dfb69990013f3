"""A smoke run of the benchmark, so that it cannot rot, and a check that its hand-written
pandas and DuckDB competitors compute what chs computes (the comparison is fair)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    data = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH / "run.py"),
            "--rows",
            "3000",
            "--runs",
            "1",
            "--data",
            str(data),
            "--previous",
            "--backtest-rows",
            "3000",
            "--history-depths",
            "1,2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, data


def test_the_benchmark_runs_every_tool_and_prints_the_table(smoke: tuple[str, Path]) -> None:
    out, data = smoke
    assert "3,000 customers x 10 signals, 1 runs each" in out
    assert "  round 1 of 1 done" in out
    lines = out.splitlines()
    start = lines.index("| run | median | vs floor | peak memory |")
    end = lines.index("", start)  # the first table: the runs against their floors
    table = [line for line in lines[start:end] if "---" not in line]
    names = [line.split(" | ")[0].removeprefix("| ") for line in table[1:]]
    assert names == [
        "floor (Polars read CSV, write Parquet)",
        "chs score",
        "Polars (by hand)",
        "pandas (by hand)",
        "DuckDB (by hand)",
        "DuckDB (chs sql)",
        "chs score --engine duckdb",
        "floor of both inputs",
        "chs score --previous",
        "floor of two scored files",
        "chs diff",
        "chs backtest (12 x 3,000 customers)",
    ]
    # every floor is its own yardstick
    assert [line.split(" | ")[2] for line in table[1:] if line.startswith("| floor")] == [
        "1.00 x"
    ] * 3
    assert pl.read_csv(data / "customers.csv").height == 3000
    # the history-depth runs: a table of their own, each against the first
    depth = [line for line in out.splitlines() if line.startswith("| chs score --history (")]
    assert [line.split(" | ")[0] for line in depth] == [
        "| chs score --history (1 earlier)", "| chs score --history (2 earlier)",
    ]  # fmt: skip
    assert depth[0].split(" | ")[2] == "1.00 x"
    assert sorted(p.name for p in (data / "history-depth" / "full").iterdir())[:2] == [
        "as_of=2024-01-01", "as_of=2024-02-01",
    ]  # fmt: skip
    # start-up: 21 fresh processes each, min <= median <= max
    for what in ("help", "version"):
        line = next(x for x in out.splitlines() if x.startswith(f"chs --{what}: min "))
        low, mid, high = (float(v) for v in re.findall(r"(\d+\.\d+) s", line))
        assert low <= mid <= high and line.endswith("(21 fresh processes)")


def test_competitors_compute_what_chs_computes(smoke: tuple[str, Path]) -> None:
    _, data = smoke
    out = data / "out"
    chs = pl.read_parquet(out / "chs.parquet").sort("customer_id")
    assert chs.height == 3000
    points = [c for c in chs.columns if c.startswith("points_")]
    assert len(points) == 10
    # chs on DuckDB writes exactly what chs on Polars writes
    assert pl.read_parquet(out / "chs_duckdb.parquet").equals(pl.read_parquet(out / "chs.parquet"))
    # the hand-written Polars script writes the columns chs writes, with chs's types
    assert pl.read_parquet_schema(out / "polars.parquet") == chs.schema
    for name in ("polars", "pandas", "duckdb"):
        other = pl.read_parquet(out / f"{name}.parquet").sort("customer_id")
        assert other["customer_id"].to_list() == chs["customer_id"].to_list()
        assert other["band"].to_list() == chs["band"].to_list(), name
        for col in ["score", "coverage", *points]:
            diff = (other[col] - chs[col]).abs().fill_null(0.0).max()
            assert diff is not None and diff <= 1e-9, (name, col)
            assert other[col].null_count() == chs[col].null_count(), (name, col)

        # reasons: the same signals in the same order; the figures may differ by 0.1 where
        # a loss sits on a rounding tie (6.75 from 45.9999... points or from 46.0)
        def parts(frame: pl.DataFrame) -> list[list[tuple[str, float]]]:
            return [
                [(p.rsplit(" -", 1)[0], float(p.rsplit(" -", 1)[1])) for p in r.split("; ") if p]
                for r in frame["reasons"].to_list()
            ]

        for mine, theirs in zip(parts(chs), parts(other), strict=True):
            assert [n for n, _ in mine] == [n for n, _ in theirs], name
            assert all(
                abs(a - b) <= 0.1 + 1e-9 for (_, a), (_, b) in zip(mine, theirs, strict=True)
            )


def test_the_backtest_history_has_twelve_snapshots_whose_horizons_are_all_observed(
    smoke: tuple[str, Path],
) -> None:
    out, data = smoke
    assert "chs backtest peaks at" in out
    folder = data / "backtest"
    dates = sorted(p.name for p in (folder / "history").iterdir())
    assert dates == [f"as_of=2025-{m:02d}-01" for m in range(1, 13)]
    first = pl.read_parquet(folder / "history" / dates[0] / "scores.parquet")
    assert first.height == 3000
    assert {"customer_id", "score", "band", "mrr", "points_logins"} <= set(first.columns)
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "chs"),
            "backtest",
            "--history",
            str(folder / "history"),
            "--outcomes",
            str(folder / "churn.csv"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    # churn is known four months past the last snapshot: every 90-day horizon is observed
    assert [s["used"] for s in result["snapshots"]] == [True] * 12
    assert result["customers"] == 12 * 3000
    assert 0.6 < result["auc"] < 0.9  # churn was drawn higher where health is low


def test_the_profile_times_each_stage_and_the_stages_add_up_to_the_run(
    smoke: tuple[str, Path],
) -> None:
    _, data = smoke
    done = subprocess.run(
        [sys.executable, str(BENCH / "profile.py"), str(data / "customers.csv"), "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split(" | ") for line in done.stdout.splitlines()[2:]]
    names = [r[0].removeprefix("| ") for r in rows]
    assert names == [
        "read", "checks", "scoring", "reasons", "encode", "summary, working files, start-up"
    ]  # fmt: skip
    upto = [float(r[1].removesuffix(" s")) for r in rows]
    cost = [float(r[2].removesuffix(" s")) for r in rows]
    whole = float(re.search(r"share of the run \((\d+\.\d+) s\)", done.stdout).group(1))
    # each stage's cost is its time less the one before; the last ends at the whole run
    assert upto[-1] == whole
    assert all(
        abs(c - (b - a)) <= 0.011 for c, a, b in zip(cost[1:], upto[:-1], upto[1:], strict=True)
    )
    assert abs(sum(cost) - whole) <= 0.01 * len(cost)


def test_the_commands_take_turns_round_by_round(tmp_path: Path) -> None:
    # each round runs every command once, in order: a and b alternate, and `after`
    # runs after each of its command's runs
    sys.path.insert(0, str(BENCH))
    try:
        import run as bench_run
    finally:
        sys.path.remove(str(BENCH))
    log = tmp_path / "log"

    def after() -> None:
        with log.open("a") as f:
            f.write("after\n")

    def job(key: str) -> object:
        return bench_run.Job(key, key, ["sh", "-c", f"echo {key} >> {log}"], after=after)

    results = bench_run.bench_in_rounds([job("a"), job("b")], 2)
    assert log.read_text().split() == ["a", "after", "b", "after"] * 2
    assert [len(r.times) for r in results.values()] == [2, 2]
    assert [r.name for r in results.values()] == ["a", "b"]
