"""Opening an input for scoring: the scheme's CSV columns read as text (so that a bad
value rejects one row, not the file), the plan over it, and collecting with read errors
named. Shared by scoring, checking, explaining and snapshots."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from chs.engine import ScoringPlan, build_plan
from chs.errors import SchemeError, polars_gist
from chs.files import CsvOptions, Input, TypesGuessedWrong, open_input, read_error
from chs.scheme import Scheme
from chs.scheme.keys import key_path
from chs.scheme.kinds import read_kinds, scheme_uses


def scheme_columns(schemes: list[Scheme]) -> list[str]:
    """Every column the schemes read or declare: read as text from an Excel sheet (chs
    parses them, so a text cell among numbers rejects its row)."""
    found: dict[str, None] = {}
    for scheme in schemes:
        found.update(dict.fromkeys(read_kinds(scheme)))
    return list(found)


def typed_columns(schemes: list[Scheme]) -> list[str]:
    """The CSV columns to read with the type Polars finds over the whole file: those the
    schemes read as numbers or booleans, or in an expression, and do not declare. The
    id, maps, dates and declared columns are read as text and parsed by chs (a bad cell
    rejects its row); the others are carried as written."""
    found: dict[str, None] = {}
    for scheme in schemes:
        declared = scheme.columns or {}
        for column, kind in read_kinds(scheme).items():
            if column not in declared and kind in (None, "number", "integer", "boolean"):
                found.setdefault(column)
    text = {s.id for s in schemes} | {s.parent for s in schemes if s.parent is not None}
    return [c for c in found if c not in text]


def collect(
    queries: list[pl.LazyFrame],
    data: Input,
    *,
    engine: str = "auto",
    widths: bool = True,
    scheme: Scheme | None = None,
) -> list[pl.DataFrame]:
    """Collect queries together with the row-width check (unless done already, `widths`);
    a read error is a DataError, and a CAST in the `scheme` that fails on a value, a
    SchemeError at the expression's line."""
    extra = [data.widths] if data.widths is not None and widths else []
    try:
        frames = pl.collect_all([*queries, *extra], engine=engine)  # type: ignore[arg-type]
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        if data.guessed and "could not parse" in str(exc):
            raise TypesGuessedWrong from None
        failed = cast_failure(scheme, exc, data) if scheme is not None else None
        raise (failed or read_error(exc, data)) from None
    if extra:
        problem = data.width_problem(frames[-1])
        if problem is not None:
            raise problem
        frames = frames[:-1]
    return frames


@contextlib.contextmanager
def planned(
    source: Path, scheme: Scheme, csv: CsvOptions, as_of: dt.date | None = None
) -> Iterator[tuple[Input, ScoringPlan]]:
    """The input (read as the scheme reads it, which names bad rows) and its scoring
    plan: for `chs check --data` and `chs explain`, which look at rows rather than stream."""
    with open_input(source, csv, scheme_columns([scheme]), typed=typed_columns([scheme])) as data:
        yield data, plan_for(data, scheme, source, csv, as_of)


def plan_for(
    data: Input, scheme: Scheme, source: Path, csv: CsvOptions, as_of: dt.date | None = None
) -> ScoringPlan:
    """The scoring plan over an opened input."""
    return build_plan(
        data.frame,
        scheme,
        source=str(source),
        decimal_comma=csv.decimal_comma,
        as_of=as_of,
        first_row=data.first_row,
    )


# Polars' message when a strict cast meets a value it cannot convert
_CAST_FAILED = re.compile(r"conversion from `\w+` to `\w+` failed in column '(.+?)'")


def cast_failure(scheme: Scheme, exc: BaseException, data: Input) -> SchemeError | None:
    """The scheme's error for a CAST that failed on a value of a column: it names the
    first expression reading that column, at its line (the data is what it is)."""
    found = _CAST_FAILED.search(str(exc))
    if found is None or data.changed() is not None:
        return None
    uses = scheme_uses(scheme).get(found.group(1), [])
    expression = next((u for u in uses if u.where[-1:] in (("expr",), ("when",))), None)
    if expression is None:
        return None
    return SchemeError(
        f"{scheme.where(*expression.where)}: {key_path(expression.where)}: the expression "
        f"cannot be evaluated on {data.path}: {polars_gist(exc)}; TRY_CAST reads a value "
        "that does not convert as missing"
    )
