"""The compiled query run on embedded DuckDB (`chs score --engine duckdb`): rows that
chs's reader has typed and checked, in a Parquet file, scored by the same SELECT that
`chs sql --dialect duckdb` writes, into a Parquet file in the rows' order.

DuckDB is an optional dependency (the `duckdb` extra), imported only when this runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

import chs.sql.build as b
from chs.scheme import Scheme
from chs.sql.query import Target, carried_columns, compile_scheme

ROWS = "chs_rows"  # the view over the rows' file that the query reads


class DuckdbMissing(ImportError):
    """The duckdb package is not installed."""


@dataclass(frozen=True)
class Embedded:
    """What a DuckDB run read and wrote."""

    rows_in: int
    rows_out: int


def computed_columns(scheme: Scheme) -> list[str]:
    """The columns the query computes (points, groups, score, band… but not the input
    columns it carries): an input column of one of these names gives way, as in chs."""
    query = compile_scheme(scheme, Target(ROWS), alerts=False)
    carried = set(carried_columns(scheme))
    return [name for name in query.named_selects if name not in carried]


def scoring_query(
    scheme: Scheme, as_of: dt.date | None, keep: list[str], order: str, dates: list[str]
) -> exp.Expression:
    """The scheme's query over `chs_rows`, carrying `keep`, in the order of `order` (a
    column of `keep`, which the result leaves out); `dates`: the columns held as dates."""
    target = Target(ROWS, "duckdb", as_of, tuple(keep), dates=tuple(dates))
    query = compile_scheme(scheme, target, alerts=False)
    names = [n for n in query.named_selects if n != order]
    return (
        exp.select(*[b.col(n) for n in names])
        .from_(exp.Subquery(this=query, alias=exp.TableAlias(this=b.ident("chs_scored"))))
        .order_by(exp.Ordered(this=b.col(order)))
    )


def score_on_duckdb(
    rows: Path,
    out: Path,
    scheme: Scheme,
    *,
    as_of: dt.date | None,
    keep: list[str],
    order: str,
    dates: list[str],
    spill: Path,
) -> Embedded:
    """Score the Parquet file `rows` (the input's columns as chs typed them) into `out`;
    DuckDB spills to `spill` when the rows exceed its memory."""
    try:
        import duckdb  # optional and heavy: only the DuckDB engine needs it
    except ImportError:
        raise DuckdbMissing from None
    text = scoring_query(scheme, as_of, keep, order, dates).sql(dialect="duckdb")
    with duckdb.connect(config={"temp_directory": str(spill)}) as con:
        con.read_parquet(str(rows)).create_view(ROWS)
        rows_in = con.table(ROWS).count("*").fetchall()[0][0]
        con.sql(text).write_parquet(str(out), compression="zstd")
        rows_out = con.read_parquet(str(out)).count("*").fetchall()[0][0]
    return Embedded(int(rows_in), int(rows_out))
