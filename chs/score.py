"""`score_file`: read an export, score it with a scheme, write outputs, return the summary.

The input is read once: the scored rows (and rejects) stream to temporary files while
the summary aggregates and the checks are computed in the same Polars run. The files
are renamed into place only when the run stands; when rows cannot be scored and no
rejects file is given, they are removed and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from chs.engine import build_plan
from chs.errors import DataError, OptionError
from chs.files import CsvOptions, Input, PendingWrites, check_outputs, open_input, read_error
from chs.scheme import Scheme
from chs.summary import build_summary, reject_lines, summary_queries


@dataclass(frozen=True)
class ScoreOptions:
    output: Path | None = None
    rejects: Path | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    keep: list[str] | None = None
    top: int = 10


def scheme_text_columns(scheme: Scheme) -> list[str]:
    """Columns to read as text from CSV so that a bad value rejects one row, not the file."""
    cols = [scheme.id] + ([scheme.value] if scheme.value else [])
    cols += [f.signal.column for f in scheme.flat_signals() if f.signal.column is not None]
    return cols


def collect(queries: list[pl.LazyFrame], data: Input) -> list[pl.DataFrame]:
    """Collect queries together with the row-width check; a read error is a DataError."""
    extra = [data.widths] if data.widths is not None else []
    try:
        frames = pl.collect_all([*queries, *extra])
    except pl.exceptions.PolarsError as exc:
        raise read_error(exc, data) from None
    if extra:
        problem = data.width_problem(frames[-1])
        if problem is not None:
            raise problem
        frames = frames[:-1]
    return frames


def score_file(
    input_path: str | Path, scheme: Scheme, options: ScoreOptions = ScoreOptions()
) -> dict[str, Any]:
    """Score one file. Returns the summary (plain data, JSON-ready)."""
    source = Path(input_path)
    if options.top < 0:
        raise OptionError("--top must be 0 or more")
    outputs = [p for p in (options.output, options.rejects) if p is not None]
    check_outputs(outputs, [source] + ([scheme.source] if scheme.source else []))
    with open_input(source, options.csv, scheme_text_columns(scheme)) as data:
        plan = build_plan(
            data.frame,
            scheme,
            source=str(source),
            keep=options.keep,
            decimal_comma=options.csv.decimal_comma,
            inferred=data.inferred,
        )
        writes = [(plan.scored, options.output)] if options.output else []
        writes += [(plan.rejects, options.rejects)] if options.rejects else []
        # One pass: the sinks write to temporary files while the summary is computed;
        # the files are renamed into place only if the run stands.
        with PendingWrites(writes) as pending:
            queries = summary_queries(plan, options.top)
            frames_list = collect([*queries.values(), *pending.sinks], data)
            frames = dict(zip(queries, frames_list, strict=False))
            summary = build_summary(scheme, plan, frames)
            rows = summary["rows"]
            if rows["read"] == 0:
                raise DataError(f"{source}: the file has a header but no data rows")
            if rows["rejected"] and options.rejects is None:
                lines = reject_lines(frames)
                more = rows["rejected"] - len(lines)
                raise DataError(
                    f"{source}: {rows['rejected']} of {rows['read']} rows cannot be scored; nothing was written.\n  "
                    + "\n  ".join(lines)
                    + (f"\n  … and {more} more" if more > 0 else "")
                    + "\nFix the data, or pass --rejects FILE to write these rows there and score the rest."
                )
            pending.commit()
    summary = {
        "input": str(source),
        "output": str(options.output) if options.output else None,
        "rejects": str(options.rejects) if options.rejects else None,
        **summary,
        "rejected_sample": reject_lines(frames),
        "warnings": scheme.warnings + plan.warnings,
    }
    return summary


def score_frame(
    frame: pl.DataFrame | pl.LazyFrame, scheme: Scheme, *, keep: list[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Score an in-memory frame: (scored rows, rejected rows with `row` and `reason`).

    For notebooks and tests; files go through `score_file`, which streams.
    """
    plan = build_plan(frame.lazy(), scheme, source="<frame>", keep=keep)
    scored, rejects = pl.collect_all([plan.scored, plan.rejects])
    return scored, rejects
