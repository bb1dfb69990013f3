"""The engine that scores the accepted rows: Polars (the plan's own expressions, the
default) or DuckDB (the scheme compiled to SQL, chs/sql/). Either way chs's reader types
and checks the rows, rejects the ones it cannot score with its reasons and row numbers,
and adds the movement, trends and alerts; only the scoring differs. On DuckDB the
checked rows are written to a working Parquet file first (a pass of their own), scored
by DuckDB into another, and read back in the Polars engine's column order and types."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from chs.columns import internal
from chs.engine import ScoringPlan
from chs.errors import DataError, OptionError
from chs.files import Input, WorkFolder
from chs.scheme import Scheme
from chs.sources import collect
from chs.sql.embedded import DuckdbMissing, computed_columns, score_on_duckdb

ENGINES = ("polars", "duckdb")
ORDER = internal("duckdb_row")  # the row's place in the input, carried through DuckDB
_ROWS = {"compression": "lz4", "statistics": False}


@dataclass
class OnDuckdb:
    """The scored rows read back from DuckDB, the plan whose reasons are their text, the
    rows' file DuckDB read (with the id hashes), and whether DuckDB left rows out (as
    repeated ids: chs finds them and runs again, rejecting them)."""

    frame: pl.LazyFrame
    plan: ScoringPlan
    rows: Path
    short: bool


def check_engine(engine: str, scheme: Scheme, schemes: int) -> None:
    """An engine chs has; DuckDB scores one scheme a run, one the compiler takes (a
    refusal names the scheme's line before anything is read)."""
    if engine not in ENGINES:
        raise OptionError(
            f"{{option}} is one of {', '.join(ENGINES)} (got {engine!r})", option="engine"
        )
    if engine == "duckdb" and schemes > 1:
        raise OptionError(
            "{option} duckdb scores one scheme a run; score the others in runs of their own",
            option="engine",
        )
    if engine == "duckdb":
        computed_columns(scheme)


def score_on_duckdb_engine(
    fed: pl.LazyFrame,
    frame: pl.LazyFrame,
    plan: ScoringPlan,
    data: Input,
    scheme: Scheme,
    as_of: dt.date | None,
    work: WorkFolder,
) -> OnDuckdb:
    """The Polars engine's accepted rows (`frame`, of `plan`), scored by DuckDB instead,
    from the same rows with every input column (`fed`)."""
    schema = frame.collect_schema()
    coded = set(plan.reasons.meta.root_names()) & set(plan.working)  # DuckDB writes the text
    working = [c for c in plan.working if c not in coded]
    names = [n for n in schema.names() if n not in coded]
    computed = set(computed_columns(scheme))
    fed_schema = fed.collect_schema()
    passed = [n for n in fed_schema.names() if n not in computed and n not in coded]
    dates = [n for n in passed if fed_schema[n] == pl.Date]
    _distinct_in_any_case([*passed, *computed], data)
    rows, out = work.path / "duckdb-rows.parquet", work.path / "duckdb-scored.parquet"
    typed = fed.select(passed).with_row_index(ORDER)
    collect([typed.sink_parquet(rows, lazy=True, **_ROWS)], data, engine="streaming", scheme=scheme)
    try:
        done = score_on_duckdb(
            rows, out, scheme, as_of=as_of, keep=[*passed, ORDER], order=ORDER, dates=dates,
            spill=work.path,
        )  # fmt: skip
    except DuckdbMissing:
        raise OptionError(
            "{option} duckdb needs the duckdb package: pip install 'chs[duckdb]'",
            option="engine",
        ) from None
    scored = pl.scan_parquet(out).select(pl.col(n).cast(schema[n]) for n in names)
    plan = dataclasses.replace(plan, reasons=pl.col("reasons"), working=working)
    return OnDuckdb(scored, plan, rows, done.rows_out != done.rows_in)


def _distinct_in_any_case(names: list[str], data: Input) -> None:
    """DuckDB matches names in any case: two columns alike but for it (`Score` beside
    chs's `score`, `ID` beside `id`) would be one, so they are refused."""
    seen: dict[str, str] = {}
    for name in names:
        other = seen.setdefault(name.lower(), name)
        if other != name:
            raise DataError(
                f"{data.path}: columns {other!r} and {name!r} differ only in case, which "
                "DuckDB does not tell apart; rename one, or score with the Polars engine"
            )
