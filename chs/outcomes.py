"""Who churned, and which snapshot rows a backtest may count without leakage.

An outcome is either a yes/no column (in the scored file itself, or in an outcomes
file joined by id) or a churn date in an outcomes file (empty: still a customer). With
dates, a snapshot taken on t counts a customer only if it had not churned by t, and
labels it churned when it churned within (t, t + horizon]; the snapshot counts only if
its whole horizon is observed (t + horizon <= observed_until).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from chs.backtest import CHURNED
from chs.columns import KEY, ROW_NUMBER
from chs.engine.parsing import parse_text
from chs.errors import DataError
from chs.exprs import trimmed_id
from chs.files import CsvOptions, open_input
from chs.hints import suggest_column

CHURN_DATE = "__chs·churned_on"  # an outcomes file's churn date, joined to the rows


@dataclass(frozen=True)
class Outcomes:
    """An outcomes file read into memory: one row per customer (KEY), with CHURNED (a
    yes/no outcome) or CHURN_DATE (a churn date, null for a customer still there)."""

    path: str
    frame: pl.DataFrame
    dated: bool

    @property
    def latest(self) -> dt.date | None:
        """The latest churn date, which tells how long the outcomes were observed."""
        if not self.dated:
            return None
        return self.frame[CHURN_DATE].max()  # type: ignore[return-value]


def yes_no(column: pl.Expr) -> pl.Expr:
    """A yes/no column as booleans: true/false, yes/no, y/n, t/f, 1/0, any case."""
    return parse_text(column.cast(pl.String), "boolean", None, False)


def check_yes_no(numbered: pl.LazyFrame, column: str, source: str) -> None:
    """The first value of a yes/no column that is none of them is a DataError naming
    its row (the rows come numbered: Input.numbered) and value."""
    text = pl.col(column).cast(pl.String)
    bad = (
        numbered.filter(text.str.strip_chars().is_not_null() & yes_no(pl.col(column)).is_null())
        .select(ROW_NUMBER, text.alias("value"))
        .head(1)
        .collect()
    )
    if bad.height:
        row, value = bad.row(0)
        raise DataError(
            f"{source}: column {column!r}, row {row}: {value!r} is not a yes/no outcome "
            "(true/false, yes/no, 1/0)"
        )


def read_outcomes(
    path: str,
    *,
    id_column: str,
    outcome: str | None,
    churned_on: str,
    csv: CsvOptions,
) -> Outcomes:
    """The outcomes file: its id and either the yes/no `outcome` column or the
    `churned_on` dates (ISO), one row per customer."""
    column = outcome if outcome is not None else churned_on
    with open_input(path, csv, [id_column, column], typed=[]) as data:
        names = data.frame.collect_schema().names()
        for name, what in ((id_column, "the customer id"), (column, "the outcome")):
            if name not in names:
                raise DataError(
                    f"{path}: column {name!r} ({what}) not found.{suggest_column(name, names)}"
                )
        key = trimmed_id(id_column).alias(KEY)
        if outcome is not None:
            check_yes_no(data.numbered(), outcome, path)
            frame = data.frame.select(key, yes_no(pl.col(outcome)).alias(CHURNED)).collect()
        else:
            frame = _dates(data.numbered(), churned_on, path).select(key, pl.col(CHURN_DATE))
    repeated = frame.filter(pl.col(KEY).is_duplicated())[KEY].head(1).to_list()
    if repeated:
        raise DataError(f"{path}: customer {repeated[0]!r} is listed more than once")
    return Outcomes(path, frame.filter(pl.col(KEY).is_not_null()), dated=outcome is None)


def _dates(numbered: pl.LazyFrame, column: str, path: str) -> pl.DataFrame:
    """The churn dates, ISO (a timestamp is read as its day); the first that does not
    parse is a DataError naming its row and value."""
    text = pl.col(column).cast(pl.String).str.strip_chars()
    date = parse_text(text, "date", None, False)
    rows = numbered.with_columns(date.alias(CHURN_DATE), text.alias("__text"))
    collected = rows.collect()
    bad = collected.filter(pl.col("__text").is_not_null() & (pl.col("__text") != ""))
    bad = bad.filter(pl.col(CHURN_DATE).is_null()).head(1)
    if bad.height:
        raise DataError(
            f"{path}: column {column!r}, row {bad[ROW_NUMBER][0]}: {bad['__text'][0]!r} is "
            "not a date written YYYY-MM-DD"
        )
    return collected


def observed_until(
    given: dt.date | None, dates: list[dt.date], found: Outcomes | None
) -> dt.date | None:
    """Up to when churn was observed (only churn dates need it): as given, else the
    latest snapshot's date or the latest churn date, whichever is later."""
    if found is None or not found.dated:
        return None
    if given is not None:
        return given
    latest = found.latest
    return max([*dates, *([latest] if latest is not None else [])], default=None)


def unmatched_warning(found: Outcomes, seen: pl.LazyFrame, first: dt.date | None) -> list[str]:
    """The outcomes' customers in none of the snapshots or files read (`seen`: their
    KEY), which tells ids written another way. With churn dates, a customer who churned
    by the first snapshot (`first`) is not expected in any, so it is not counted."""
    expected = found.frame.lazy()
    if found.dated and first is not None:
        date = pl.col(CHURN_DATE)
        expected = expected.filter(date.is_null() | (date > pl.lit(first)))
    matched = expected.join(seen.unique(), on=KEY, how="semi")
    wanted, kept = (
        f.item() for f in pl.collect_all([expected.select(pl.len()), matched.select(pl.len())])
    )
    if wanted == kept:
        return []
    return [
        f"{found.path}: {wanted - kept:,} of {wanted:,} customers match no scored customer "
        "(ids written another way, or customers not scored)"
    ]


def labelled(
    rows: pl.LazyFrame, outcomes: Outcomes, as_of: dt.date | None, horizon: int
) -> pl.LazyFrame:
    """A snapshot's rows with CHURNED from the outcomes: a customer absent from them
    stayed; with churn dates, those churned by `as_of` are left out and the others are
    churned when their date falls within (as_of, as_of + horizon]."""
    joined = rows.join(outcomes.frame.lazy(), on=KEY, how="left")
    if not outcomes.dated:
        return joined.with_columns(pl.col(CHURNED).fill_null(False))
    assert as_of is not None
    date = pl.col(CHURN_DATE)
    end = as_of + dt.timedelta(days=horizon)
    kept = joined.filter(date.is_null() | (date > pl.lit(as_of)))
    return kept.with_columns((date.is_not_null() & (date <= pl.lit(end))).alias(CHURNED))
