"""Opening an input for scoring: the scheme's CSV columns read as text (so that a bad
value rejects one row, not the file), the plan over it, and collecting with read errors
named. Shared by scoring, checking, explaining and snapshots."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from chs.engine import ScoringPlan, build_plan
from chs.files import CsvOptions, Input, ParseFailure, open_input, read_error
from chs.scheme import Scheme


def scheme_text_columns(scheme: Scheme) -> list[str]:
    """Columns to read as text from CSV so that a bad value rejects one row, not the file."""
    cols = [scheme.id] + ([scheme.value] if scheme.value else [])
    cols += [f.signal.column for f in scheme.all_signals() if f.signal.column is not None]
    return cols


def collect(
    queries: list[pl.LazyFrame], data: Input, *, engine: str = "auto", widths: bool = True
) -> list[pl.DataFrame]:
    """Collect queries together with the row-width check (unless done already, `widths`);
    a read error is a DataError."""
    extra = [data.widths] if data.widths is not None and widths else []
    try:
        frames = pl.collect_all([*queries, *extra], engine=engine)  # type: ignore[arg-type]
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        if data.text_scan is not None and not data.text_mode and "could not parse" in str(exc):
            raise ParseFailure from None  # typed fast path: rerun reading as text
        raise read_error(exc, data) from None
    if extra:
        problem = data.width_problem(frames[-1])
        if problem is not None:
            raise problem
        frames = frames[:-1]
    return frames


@contextlib.contextmanager
def planned(source: Path, scheme: Scheme, csv: CsvOptions) -> Iterator[tuple[Input, ScoringPlan]]:
    """The input (the scheme's CSV columns as text, which names bad rows) and its scoring
    plan: for `chs check --data` and `chs explain`, which look at rows rather than stream."""
    with open_input(source, csv, scheme_text_columns(scheme)) as data:
        yield data, plan_for(data, scheme, source, csv)


def plan_for(data: Input, scheme: Scheme, source: Path, csv: CsvOptions) -> ScoringPlan:
    """The scoring plan over an opened input, with the types its CSV columns had."""
    return build_plan(
        data.frame,
        scheme,
        source=str(source),
        decimal_comma=csv.decimal_comma,
        inferred=data.inferred,
    )
