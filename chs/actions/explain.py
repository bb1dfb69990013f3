"""`chs explain`: why a customer has its score, and what it would take to move up.

Values, points and effective weights come from the scoring engine's own columns; the
matched tier from the same `Tier.interval` the engine scores with. Every "what it
takes" figure is obtained by rescoring a modified copy of the customer's row through the
engine, so a gain shown is a gain the scorer would give, rounding and redistribution
included. Python loops here run over a few customers and their signals, never over the
file's rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import polars as pl

from chs.columns import OK, REASON, ROUTE
from chs.engine import ScoringPlan
from chs.errors import DataError, OptionError
from chs.explanation import Customer, Explanation, explain_customer
from chs.exprs import id_text, trimmed_id
from chs.files import CsvOptions, Input
from chs.hints import close_ids
from chs.history import parse_date as parse_date  # for the CLI's --as-of
from chs.scheme import Scheme
from chs.scheme import load_scheme as load_scheme  # for `chs explain`
from chs.sources import collect, planned


class OtherScore(TypedDict):
    """The customer's score and band on an extra score of the scheme."""

    score: float | None
    band: str | None


class ExplainedCustomer(Explanation):
    """A scored customer explained, with what `explain` adds."""

    definition: NotRequired[str]  # with segments: the one that scored the customer
    other_scores: dict[str, OtherScore]  # per extra score of the scheme


class Unscored(TypedDict):
    """A customer whose row cannot be scored, and why."""

    id: str
    scored: bool
    reason: str


class ExplainResult(TypedDict):
    """What `explain` returns (and `chs explain --json` prints)."""

    input: str
    scheme: dict[str, str]  # name, hash
    customers: list[ExplainedCustomer | Unscored]


@dataclass(frozen=True)
class _Rows:
    """The wanted customers' rows, each by id: the engine's working columns, the scored
    output, the input, and why a row was rejected."""

    working: dict[str, dict[str, Any]]
    scored: dict[str, dict[str, Any]]
    raw: dict[str, dict[str, Any]]
    reasons: dict[str, str]


def explain(
    input_path: str | Path,
    scheme: Scheme,
    ids: list[str],
    csv: CsvOptions | None = None,
    *,
    as_of: dt.date | None = None,
) -> ExplainResult:
    """Explain the given customers (ids compared as the engine compares them: trimmed,
    in Unicode NFC) as scored on `as_of` (CURRENT_DATE, `days_until`; default today).
    Returns plain data."""
    if not ids:
        raise OptionError("give at least one customer id")
    ids = [id_text(i) for i in ids]
    source = Path(input_path)
    with planned(source, scheme, csv or CsvOptions(), as_of) as (data, plan):
        rows = _rows(source, scheme, ids, data, plan)
    return {
        "input": str(source),
        "scheme": {"name": scheme.name, "hash": scheme.digest},
        "customers": [_customer(scheme, plan, rows, cid, as_of, csv) for cid in ids],
    }


def _rows(source: Path, scheme: Scheme, ids: list[str], data: Input, plan: ScoringPlan) -> _Rows:
    """Read the wanted customers' rows in one pass; an id not in the file is an error."""
    key = trimmed_id(scheme.id)
    wanted = plan.checked.filter(key.is_in(ids))
    raw_rows, rows = collect(
        [
            data.numbered().filter(key.is_in(ids)),
            wanted,
        ],
        data,
        scheme=scheme,
    )
    found = set(rows.select(key).to_series().to_list())
    missing = [i for i in ids if i not in found]
    if missing:
        every = data.frame.select(key.alias("id")).collect()["id"].drop_nulls().to_list()
        hint = close_ids(missing[0], every)
        raise DataError(f"{source}: no customer {missing[0]!r} in {scheme.id}{hint}")
    scored = plan.finish(wanted.filter(pl.col(OK))).collect()
    rejected = plan.rejected.filter(key.is_in(ids)).select(scheme.id, REASON).collect()

    def by_id(frame: pl.DataFrame) -> dict[str, dict[str, Any]]:
        return {id_text(r[scheme.id]): r for r in frame.iter_rows(named=True)}

    return _Rows(
        working=by_id(rows),
        scored=by_id(scored),
        raw=by_id(raw_rows),
        reasons={k: r[REASON] for k, r in by_id(rejected).items()},
    )


def _customer(
    scheme: Scheme,
    plan: ScoringPlan,
    rows: _Rows,
    cid: str,
    as_of: dt.date | None,
    csv: CsvOptions | None,
) -> ExplainedCustomer | Unscored:
    """One customer explained, or why it could not be scored."""
    if cid in rows.reasons:
        return {"id": cid, "scored": False, "reason": rows.reasons[cid]}
    row, out = rows.working[cid], rows.scored[cid]
    segmented = scheme.segments is not None
    definition, prefix = plan.definitions[row[ROUTE]] if segmented else (scheme, "")
    comma = csv is not None and csv.decimal_comma
    customer = Customer(scheme, definition, prefix, row, out, rows.raw[cid], as_of, comma)
    return {
        **explain_customer(customer, cid),
        **({"definition": row[ROUTE]} if segmented else {}),
        "other_scores": {
            name: {"score": out[f"{name}_score"], "band": out[f"{name}_band"]}
            for name, _ in plan.extras
        },
    }
