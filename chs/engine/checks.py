"""Whole-file checks that cost a few aggregates of the scoring pass: a signal's column or
the value column empty on every row (a signal that silently drops out, value totals that
read 0.00), and a map whose `other` takes many rows (categories written another way, or
new ones). The caller collects `data_check_queries` with its own pass, so no check reads
the file again, and reads the result with `data_checks`."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from chs.columns import ROUTE, internal
from chs.engine.definition import key_column, mapped
from chs.engine.plan import ScoringPlan, extra_prefix
from chs.scheme import FlatSignal, number_text

OTHER_SHARE = 0.05  # `other` taking more than this share of a map's rows is worth a word
OTHER_SHOWN = 5  # unmapped values listed, most frequent first

_ROWS = internal("rows")
_COUNT, _DISTINCT = internal("count"), internal("distinct")


@dataclass(frozen=True)
class _Signal:
    """A signal of one definition: where its working columns are, and its rows."""

    label: str  # `plan`, `plan (segment big)`, `plan (score inertia)`
    flat: FlatSignal
    prefix: str
    routed: pl.Expr | None  # the rows this definition scores (None: every row)


@dataclass(frozen=True)
class DataChecks:
    """What the checks found: warnings to show, and whether the value column is empty on
    every row (its totals are then not shown)."""

    warnings: list[str]
    value_empty: bool


def _signals(plan: ScoringPlan) -> list[_Signal]:
    """Every signal of every definition and extra score, with the rows it scores."""
    out = []
    for dname, (d, prefix) in plan.definitions.items():
        routed = pl.col(ROUTE) == dname if plan.segmented else None
        label = f" (segment {dname})" if plan.segmented else ""
        out += [_Signal(f"{f.name}{label}", f, prefix, routed) for f in d.flat_signals()]
    for name, d in plan.extras:
        prefix = extra_prefix(name)
        out += [
            _Signal(f"{f.name} (score {name})", f, prefix, pl.lit(True)) for f in d.flat_signals()
        ]
    return out


def _present(column: str, dtype: pl.DataType) -> pl.Expr:
    """A cell with something in it: not null, not blank text, not NaN."""
    cell = pl.col(column)
    if dtype == pl.String:
        return cell.str.strip_chars() != ""
    if dtype.is_float():
        return cell.is_not_null() & ~cell.is_nan()
    return cell.is_not_null()


def _columns(plan: ScoringPlan, schema: pl.Schema) -> list[str]:
    """The input columns the signals read, each once, then the value column."""
    signal = [s.flat.signal.column for s in _signals(plan) if s.flat.signal.column is not None]
    value = [plan.value_column] if plan.value_column is not None else []
    return [c for c in dict.fromkeys([*signal, *value]) if c in schema]


def _others(plan: ScoringPlan) -> list[_Signal]:
    """The map signals with `other`, whose unmapped values it takes without a word."""
    return [s for s in _signals(plan) if s.flat.signal.map and s.flat.signal.other is not None]


def _unmapped(s: _Signal) -> pl.Expr:
    """A row whose value the signal's map does not list (and that it scores)."""
    value = pl.col(internal("v", s.flat.name, s.prefix))
    unmapped = value.is_not_null() & ~mapped(s.flat.signal, key_column(s.flat, s.prefix))
    return unmapped if s.routed is None else s.routed & unmapped


def data_check_queries(
    plan: ScoringPlan, rows: pl.LazyFrame, schema: pl.Schema
) -> list[pl.LazyFrame]:
    """Over every row of the plan (`rows`, with the working columns; `schema`: the input's
    types): one row of counts, then per map with `other` its most frequent unmapped
    values, to collect with the pass that scores them."""
    columns = _columns(plan, schema)
    expressions = [s for s in _signals(plan) if s.flat.signal.column is None]
    others = _others(plan)
    counts = rows.select(
        pl.len().alias(_ROWS),
        *[_present(c, schema[c]).sum().alias(f"column/{c}") for c in columns],
        *[
            pl.col(internal("has", s.flat.name, s.prefix)).sum().alias(f"expr/{i}")
            for i, s in enumerate(expressions)
        ],
        *[_unmapped(s).sum().alias(f"other/{i}") for i, s in enumerate(others)],
        # a literal's sum is one, not one per row: every row is pl.len()
        *[
            (pl.len() if s.routed is None else s.routed.sum()).alias(f"routed/{i}")
            for i, s in enumerate(others)
        ],
    )
    tops = []
    for s in others:
        value = pl.col(internal("v", s.flat.name, s.prefix)).alias("value")
        tops.append(
            rows.filter(_unmapped(s))
            .group_by(value)
            .agg(pl.len().alias(_COUNT))
            .select("value", _COUNT, pl.len().alias(_DISTINCT))
            .sort([_COUNT, "value"], descending=[True, False])
            .head(OTHER_SHOWN)
        )
    return [counts, *tops]


def data_checks(
    plan: ScoringPlan, frames: list[pl.DataFrame], schema: pl.Schema, source: str
) -> DataChecks:
    """The warnings from what `data_check_queries` collected (in its order)."""
    counts, tops = frames[0].row(0, named=True), frames[1:]
    if not counts[_ROWS]:
        return DataChecks([], value_empty=False)  # no row: the caller says so
    signals = _signals(plan)
    warnings = []
    for column in _columns(plan, schema):
        readers = [s.flat for s in signals if s.flat.signal.column == column]
        if readers and not counts[f"column/{column}"]:
            names = list(dict.fromkeys(f.name for f in readers))
            which = f"signal{'s' if len(names) > 1 else ''} {', '.join(names)}"
            warnings.append(
                f"{source}: column {column} ({which}) is empty on every row; "
                + _consequence([f.missing for f in readers], len(names))
            )
    for i, s in enumerate([s for s in signals if s.flat.signal.column is None]):
        if not counts[f"expr/{i}"]:
            warnings.append(
                f"{source}: the expression of signal {s.label} has no value on any row; "
                + _consequence([s.flat.missing], 1)
            )
    value = plan.value_column
    value_empty = value is not None and value in schema and not counts[f"column/{value}"]
    if value_empty:
        warnings.append(
            f"{source}: column {value} (the value) is empty on every row; value totals are "
            "not shown"
        )
    for i, (s, top) in enumerate(zip(_others(plan), tops, strict=True)):
        took, rows = int(counts[f"other/{i}"]), int(counts[f"routed/{i}"])
        if rows and took / rows > OTHER_SHARE:
            warnings.append(f"{source}: signal {s.label}: " + _other_text(took, rows, top))
    return DataChecks(warnings, value_empty=value_empty)


def _other_text(took: int, rows: int, top: pl.DataFrame) -> str:
    """`'other' took 187 of 400 rows (46.8%): 'Premium' 120, 'Trial' 67`."""
    listed = [f"'{v}' {int(n):,}" for v, n in top.select("value", _COUNT).iter_rows()]
    more = int(top[_DISTINCT][0]) - top.height if top.height else 0
    tail = f", and {more:,} more value{'s' if more > 1 else ''}" if more else ""
    return f"'other' took {took:,} of {rows:,} rows ({took / rows:.1%}): {', '.join(listed)}{tail}"


def _consequence(policies: list[str | float], signals: int) -> str:
    """What a signal without any value gets, by its missing policy."""
    if len(set(policies)) > 1:
        return "each signal's missing policy applies on every row"
    policy, its = policies[0], "its" if signals == 1 else "their"
    if policy == "redistribute":
        return f"{its} weight is redistributed"
    if policy == "reject":
        return "every row is rejected"
    points = 0.0 if policy == "zero" else float(policy)
    return (
        f"{'it scores' if signals == 1 else 'they score'} {number_text(points)} points on every row"
    )
