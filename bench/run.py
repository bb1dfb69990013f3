"""Benchmark chs against the floor, pandas and DuckDB on the same files.

    python bench/run.py --rows 10000000 --runs 3

Generates the data if needed (bench/generate.py), then times every command in a
subprocess, once per round for --runs rounds (so that a shared machine's drift falls on
each command and its floor alike), and prints medians, ratios to the floor and peak
resident memory:

- floor: Polars alone reads the CSV and writes it as Parquet;
- chs: `chs score` with bench/scheme.yaml (10 signals), CSV to Parquet;
- pandas / duckdb: the same scheme written by hand (bench/pandas_score.py, duckdb_score.py);
- with --previous: the floor of reading both inputs, and `chs score --previous`;
- diff: the floor of reading two scored files, and `chs diff`;
- backtest: `chs backtest --history DIR --outcomes churn.csv --horizon 90d` over 12
  scored snapshots of --backtest-rows customers (default 1,000,000; bench/generate.py
  --history writes them), which must stay under 1 GiB (0 skips it).

Benchmark-only dependencies: numpy, pandas, pyarrow, duckdb (pip install -e '.[bench]').
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
CHS = str(Path(sys.executable).parent / "chs")
SNAPSHOTS = 12  # the backtest's history: 12 monthly snapshots
HISTORY_START = dt.date(2024, 1, 1)  # the first month of the history-depth runs
BACKTEST_LIMIT_MB = 1024  # issue 12: the backtest of 12 x 1 million stays under 1 GiB


@dataclass
class Result:
    name: str
    times: list[float]
    peak_mb: float

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB) of one run of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 10):
        raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{err}")
    return elapsed, usage.ru_maxrss / 1024  # Linux reports kilobytes


def bench(name: str, cmd: list[str], runs: int) -> Result:
    times, peak = [], 0.0
    for _ in range(runs):
        t, mem = measure(cmd)
        times.append(t)
        peak = max(peak, mem)
    print(f"  {name:<34} median {statistics.median(times):7.2f} s  peak {peak:8.0f} MB", flush=True)
    return Result(name, times, peak)


STARTUP_RUNS = 21


def bench_startup(runs: int = STARTUP_RUNS) -> dict[str, Result]:
    """`chs --help` and `chs --version`, each a fresh process, `runs` times (they take
    a tenth of a second: one run says little)."""
    return {
        f"startup_{what}": bench(f"chs --{what}", [CHS, f"--{what}"], runs)
        for what in ("help", "version")
    }


def floor_cmd(*inputs: Path, out: Path) -> list[str]:
    """Polars reads every input (CSV or Parquet) and writes the first as Parquet."""
    scans = [f"pl.scan_{'csv' if p.suffix == '.csv' else 'parquet'}({str(p)!r})" for p in inputs]
    code = "import polars as pl\n"
    code += f"pl.collect_all([{scans[0]}.sink_parquet({str(out)!r}, lazy=True)"
    code += "".join(
        f", {s}.sink_parquet({str(out)!r} + '.{i}', lazy=True)" for i, s in enumerate(scans[1:])
    )
    code += "])"
    return [PY, "-c", code]


def bench_backtest(rows: int, runs: int, data: Path) -> Result:
    """`chs backtest` over SNAPSHOTS scored snapshots of `rows` customers each, with their
    churn dates (generated once into data/backtest)."""
    folder = data / "backtest"
    stamp, size = folder / "rows.txt", f"{rows} x {SNAPSHOTS}"
    if not (stamp.exists() and stamp.read_text() == size):
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {SNAPSHOTS} snapshots of {rows:,} customers in {folder} ...", flush=True)
        gen = [PY, str(HERE / "generate.py"), "--rows", str(rows), "--out", str(folder)]
        subprocess.run([*gen, "--history", str(SNAPSHOTS)], check=True)
        stamp.write_text(size)
    print(f"backtest: {SNAPSHOTS} snapshots x {rows:,} customers, {runs} runs", flush=True)
    cmd = [CHS, "backtest", "--history", str(folder / "history")]
    cmd += ["--outcomes", str(folder / "churn.csv"), "--horizon", "90d"]
    return bench(f"chs backtest ({SNAPSHOTS} x {rows:,} customers)", cmd, runs)


def _months_after(start: dt.date, months: int) -> dt.date:
    m = start.month - 1 + months
    return dt.date(start.year + m // 12, m % 12 + 1, 1)


def build_history(data: Path, customers: Path, previous: Path, months: int) -> Path:
    """A history of `months` monthly snapshots written by `chs score --history` (so each
    records its band streak), the two generated exports taking turns; built once."""
    folder = data / "history-depth"
    stamp, size = folder / "months.txt", str(months)
    full = folder / "full"
    if stamp.exists() and stamp.read_text() == size:
        return full
    shutil.rmtree(folder, ignore_errors=True)
    print(f"scoring {months} monthly snapshots into {full} ...", flush=True)
    for m in range(months):
        source = customers if m % 2 == 0 else previous
        as_of = _months_after(HISTORY_START, m).isoformat()
        cmd = [CHS, "score", str(source), "-s", str(HERE / "scheme.yaml")]
        subprocess.run([*cmd, "--history", str(full), "--as-of", as_of], check=True,
                       capture_output=True)  # fmt: skip
    stamp.write_text(size)
    return full


def history_jobs(data: Path, customers: Path, previous: Path, depths: list[int]) -> list[Job]:
    """`chs score --history` (trend columns and band streaks on) with 1, 6, 24… earlier
    snapshots: the latest `depth` of one history, linked into a folder of their own;
    the snapshot each run adds is removed before the next."""
    full = build_history(data, customers, previous, max(depths))
    parts = sorted(p for p in full.iterdir() if p.name.startswith("as_of="))
    after = _months_after(HISTORY_START, len(parts)).isoformat()
    jobs = []
    for depth in depths:
        folder = data / "history-depth" / f"depth-{depth}"
        shutil.rmtree(folder, ignore_errors=True)
        for part in parts[-depth:]:
            (folder / part.name).mkdir(parents=True)
            os.link(part / "scores.parquet", folder / part.name / "scores.parquet")
        cmd = [CHS, "score", str(customers), "-s", str(HERE / "scheme.yaml"), "--history",
               str(folder), "--as-of", after]  # fmt: skip
        added = folder / f"as_of={after}"
        jobs.append(Job(f"history_{depth}", f"chs score --history ({depth} earlier)", cmd,
                        after=lambda added=added: shutil.rmtree(added)))  # fmt: skip
    return jobs


@dataclass
class Job:
    """One timed command; `after` undoes what a run of it left (a history's new snapshot)."""

    key: str
    name: str
    cmd: list[str]
    after: Callable[[], None] | None = None


def bench_in_rounds(jobs: list[Job], runs: int) -> dict[str, Result]:
    """Every job once per round, `runs` rounds: the machine's drift (10-25 % within an
    hour on a shared one) falls on each command and its floor alike, where timing one
    command `runs` times and then the next compared two different stretches of time."""
    times: dict[str, list[float]] = {j.key: [] for j in jobs}
    peaks = dict.fromkeys(times, 0.0)
    for round_ in range(runs):
        for job in jobs:
            t, mem = measure(job.cmd)
            times[job.key].append(t)
            peaks[job.key] = max(peaks[job.key], mem)
            if job.after is not None:
                job.after()
        print(f"  round {round_ + 1} of {runs} done", flush=True)
    for job in jobs:
        print(
            f"  {job.name:<34} median {statistics.median(times[job.key]):7.2f} s  "
            f"peak {peaks[job.key]:8.0f} MB",
            flush=True,
        )
    return {j.key: Result(j.name, times[j.key], peaks[j.key]) for j in jobs}


def ensure_data(rows: int, data: Path, both: bool) -> tuple[Path, Path]:
    """The generated exports (this month's, and last month's when `both`), made once."""
    data.mkdir(parents=True, exist_ok=True)
    customers, prev = data / "customers.csv", data / "previous.csv"
    stamp = data / "rows.txt"
    if not (customers.exists() and stamp.exists() and stamp.read_text() == str(rows)) or (
        both and not prev.exists()
    ):
        print(f"generating {rows:,} rows in {data} ...", flush=True)
        gen = [PY, str(HERE / "generate.py"), "--rows", str(rows), "--out", str(data)]
        subprocess.run([*gen, *(["--previous"] if both else [])], check=True)
        stamp.write_text(str(rows))
    return customers, prev


def score_jobs(customers: Path, out: Path, tools: list[str]) -> list[Job]:
    """The floor, chs score and the competitors named in `tools`."""
    scheme = str(HERE / "scheme.yaml")
    score = [CHS, "score", str(customers), "-s", scheme]
    compiled = out / "compiled.sql"  # compiled once, not timed (as a warehouse keeps it)
    hand = {
        "polars": ("Polars (by hand)", "polars_score.py"),
        "pandas": ("pandas (by hand)", "pandas_score.py"),
        "duckdb": ("DuckDB (by hand)", "duckdb_score.py"),
    }
    jobs = [
        Job("floor", "floor (Polars read CSV, write Parquet)",
            floor_cmd(customers, out=out / "floor.parquet")),
        Job("chs", "chs score", [*score, "-o", str(out / "chs.parquet")]),
    ]  # fmt: skip
    for tool, (name, script) in hand.items():
        if tool in tools:
            cmd = [PY, str(HERE / script), str(customers), str(out / f"{tool}.parquet")]
            jobs.append(Job(tool, name, cmd))
    if "duckdb-sql" in tools:
        sql = [CHS, "sql", scheme, "--table", "customers", "-o", str(compiled)]
        subprocess.run(sql, check=True, capture_output=True)
        jobs.append(Job("duckdb_sql", "DuckDB (chs sql)",
                        [PY, str(HERE / "duckdb_compiled.py"), str(compiled), str(customers),
                         str(out / "compiled.parquet")]))  # fmt: skip
    if "chs-duckdb" in tools:
        jobs.append(Job("chs_duckdb", "chs score --engine duckdb",
                        [*score, "-o", str(out / "chs_duckdb.parquet"), "--engine", "duckdb"]))  # fmt: skip
    return jobs


def previous_jobs(customers: Path, prev: Path, out: Path) -> list[Job]:
    """`--previous` and `chs diff` beside their floors; last month's export scored once
    first (the diff reads the `chs` job's output, which the round has written before)."""
    scheme = str(HERE / "scheme.yaml")
    last = out / "previous_scored.parquet"
    subprocess.run([CHS, "score", str(prev), "-s", scheme, "-o", str(last)], check=True,
                   capture_output=True)  # fmt: skip
    this = out / "chs.parquet"
    return [
        Job("floor_previous", "floor of both inputs",
            floor_cmd(customers, last, out=out / "floor2.parquet")),
        Job("chs_previous", "chs score --previous",
            [CHS, "score", str(customers), "-s", scheme, "-o", str(out / "chs_prev.parquet"),
             "--previous", str(last)]),
        Job("floor_diff", "floor of two scored files",
            floor_cmd(last, this, out=out / "floor3.parquet")),
        Job("chs_diff", "chs diff", [CHS, "diff", str(last), str(this), "-o",
                                     str(out / "diff.parquet")]),
    ]  # fmt: skip


def run(
    rows: int,
    runs: int,
    data: Path,
    *,
    previous: bool,
    tools: list[str],
    backtest_rows: int = 1_000_000,
    history_depths: list[int] | None = None,
) -> dict:
    both = previous or bool(history_depths)  # the history alternates both exports
    customers, prev = ensure_data(rows, data, both)
    out = data / "out"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    print(f"{rows:,} customers x 10 signals, {runs} runs each", flush=True)
    jobs = score_jobs(customers, out, tools)
    jobs += previous_jobs(customers, prev, out) if previous else []
    jobs += history_jobs(data, customers, prev, history_depths) if history_depths else []
    results = bench_in_rounds(jobs, runs)
    if backtest_rows:
        results["chs_backtest"] = bench_backtest(backtest_rows, runs, data)
    results |= bench_startup()
    return {"rows": rows, "runs": runs, "results": results}


def report(outcome: dict) -> str:
    r = outcome["results"]
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}",
        "",
        "| run | median | vs floor | peak memory |",
        "| --- | --- | --- | --- |",
    ]

    def row(key: str, floor: str) -> None:
        if key in r:
            lines.append(
                f"| {r[key].name} | {r[key].median:.2f} s | {r[key].median / r[floor].median:.2f} x | {r[key].peak_mb:,.0f} MB |"
            )

    for key in ("floor", "chs", "polars", "pandas", "duckdb", "duckdb_sql", "chs_duckdb"):
        row(key, "floor")
    for key in ("floor_previous", "chs_previous"):
        row(key, "floor_previous")
    for key in ("floor_diff", "chs_diff"):
        row(key, "floor_diff")
    if "chs_backtest" in r:  # no floor: nothing else reads snapshots against outcomes
        b = r["chs_backtest"]
        lines.append(f"| {b.name} | {b.median:.2f} s | - | {b.peak_mb:,.0f} MB |")
    lines.append("")
    if "polars" in r:
        lines.append(
            f"chs takes {r['chs'].median / r['polars'].median:.2f} x the hand-written Polars script's time"
        )
    if "pandas" in r:
        lines.append(f"chs is {r['pandas'].median / r['chs'].median:.2f} x faster than pandas")
    if "duckdb" in r:
        lines.append(f"chs is {r['duckdb'].median / r['chs'].median:.2f} x faster than DuckDB")
    if "duckdb" in r and "duckdb_sql" in r:
        ratio = r["duckdb_sql"].median / r["duckdb"].median
        lines.append(
            f"the compiled query takes {ratio:.2f} x the hand-written one's time on DuckDB"
        )
    depths = sorted((k for k in r if k.startswith("history_")), key=lambda k: int(k.split("_")[1]))
    if depths:
        first = r[depths[0]]
        lines += [
            "",
            "| run | median | vs the first | peak memory | vs the first |",
            "| --- | --- | --- | --- | --- |",
        ]
        for key in depths:
            h = r[key]
            lines.append(
                f"| {h.name} | {h.median:.2f} s | {h.median / first.median:.2f} x | "
                f"{h.peak_mb:,.0f} MB | {h.peak_mb / first.peak_mb:.2f} x |"
            )
        lines.append("")
    for key in ("startup_help", "startup_version"):
        if key in r:
            ts = r[key].times
            lines.append(
                f"{r[key].name}: min {min(ts):.3f} s, median {statistics.median(ts):.3f} s, "
                f"max {max(ts):.3f} s ({len(ts)} fresh processes)"
            )
    if "chs_backtest" in r:
        peak = r["chs_backtest"].peak_mb
        under = "under" if peak < BACKTEST_LIMIT_MB else "OVER"
        lines.append(f"chs backtest peaks at {peak:,.0f} MB: {under} 1 GiB")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--previous", action="store_true", help="also time --previous and chs diff")
    parser.add_argument(
        "--tools",
        default="polars,pandas,duckdb,duckdb-sql,chs-duckdb",
        help="competitors to run (comma-separated)",
    )
    parser.add_argument(
        "--backtest-rows",
        type=int,
        default=1_000_000,
        help=f"customers in each of the backtest's {SNAPSHOTS} snapshots (0: no backtest)",
    )
    parser.add_argument(
        "--history-depths",
        default="",
        help="also time chs score --history with these many earlier snapshots: 1,6,24",
    )
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args()
    outcome = run(
        args.rows,
        args.runs,
        args.data,
        previous=args.previous,
        tools=args.tools.split(","),
        backtest_rows=args.backtest_rows,
        history_depths=[int(d) for d in args.history_depths.split(",") if d.strip()],
    )
    print()
    print(report(outcome))
    if args.json:
        payload = {
            **outcome,
            "results": {
                k: {"name": v.name, "times": v.times, "peak_mb": v.peak_mb}
                for k, v in outcome["results"].items()
            },
        }
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
