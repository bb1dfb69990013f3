"""Where the time of `chs score` goes, stage by stage, on the benchmark's data.

    python bench/profile.py bench/data/customers.csv --runs 3

Each stage is timed as a streaming query that runs every stage up to it and ends in a
cheap aggregate (so that nothing is written), best of --runs; a stage's cost is the
difference from the one before it:

- read: parse every column of the CSV as chs reads it;
- checks: the row checks (width, id, every value the scheme reads), the accept flag;
- scoring: points, weighted means, score, band, coverage of the accepted rows;
- reasons: the reasons' text as well;
- encode: every output column written as Parquet (what `-o out.parquet` writes);
- whole run: `chs score -o out.parquet` in a fresh process (adds the working files,
  the repeated-id check, the summary and start-up).

The queries are built by chs's own plan (chs.engine.build_plan), so they compute what a
run computes; this script is measurement only and not part of chs.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from chs.columns import OK
from chs.engine import build_plan
from chs.files import CsvOptions, open_input
from chs.scheme import load_scheme
from chs.sources import scheme_columns, typed_columns

HERE = Path(__file__).resolve().parent
CHS = str(Path(sys.executable).parent / "chs")


def best(run: object, runs: int) -> float:
    """The fastest of `runs` calls of `run` (seconds): the machine's noise only adds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def stage_queries(source: Path, scheme_path: Path, out: Path) -> dict[str, object]:
    """One callable per stage, each running the stages before it too."""
    scheme = load_scheme(scheme_path)
    opened = open_input(
        source, CsvOptions(), scheme_columns([scheme]), typed=typed_columns([scheme])
    )
    data = opened.__enter__()  # held open for the whole profile
    # duplicates=[]: as a run does, assume no repeated id (it checks the hashes after)
    plan = build_plan(
        data.frame, scheme, source=str(source), first_row=data.first_row, duplicates=[]
    )
    names = [e.meta.output_name() for e in plan.output]
    numbers = [pl.col(n) for n in names if n.startswith("points_") or n in ("score", "coverage")]
    scored = plan.checked.filter(pl.col(OK)).select(plan.output)

    def stream(query: pl.LazyFrame) -> None:
        query.collect(engine="streaming")

    return {
        "read": lambda: stream(data.frame.select(pl.all().null_count())),
        "checks": lambda: stream(plan.checked.select(pl.col(OK).sum())),
        "scoring": lambda: stream(
            scored.select(*[e.sum() for e in numbers], pl.col("band").n_unique())
        ),
        "reasons": lambda: stream(
            scored.select(
                *[e.sum() for e in numbers],
                pl.col("band").n_unique(),
                pl.col("reasons").str.len_bytes().sum(),
            )
        ),
        "encode": lambda: scored.sink_parquet(out, engine="streaming"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("source", type=Path)
    parser.add_argument("--scheme", type=Path, default=HERE / "scheme.yaml")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.parquet"
        stages = stage_queries(args.source, args.scheme, out)
        timed = {name: best(run, args.runs) for name, run in stages.items()}
        cmd = [CHS, "score", str(args.source), "-s", str(args.scheme), "-o", str(out)]
        whole = best(lambda: subprocess.run(cmd, check=True, capture_output=True), args.runs)
    print(f"| stage | up to it | the stage | share of the run ({whole:.2f} s) |")
    print("| --- | --- | --- | --- |")
    before = 0.0
    for name, upto in [*timed.items(), ("summary, working files, start-up", whole)]:
        cost = upto - before
        print(f"| {name} | {upto:.2f} s | {cost:.2f} s | {cost / whole:.0%} |")
        before = upto


if __name__ == "__main__":
    main()
