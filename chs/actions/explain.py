"""`chs explain`: why a customer has its score, and what it would take to move up.

Values, points and effective weights come from the scoring engine's own columns; the
matched tier from the same `Tier.interval` the engine scores with. Every "what it
takes" figure is obtained by rescoring a modified copy of the customer's row through the
engine, so a gain shown is a gain the scorer would give, rounding and redistribution
included. Python loops here run over a few customers and their signals, never over the
file's rows.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import polars as pl

from chs.columns import DEFINITION, ROW
from chs.errors import DataError, OptionError
from chs.explanation import explain_customer
from chs.files import CsvOptions
from chs.scheme import Scheme
from chs.sources import collect, planned


def explain_file(
    input_path: str | Path, scheme: Scheme, ids: list[str], csv: CsvOptions | None = None
) -> dict[str, Any]:
    """Explain the given customers. Returns plain data."""
    if not ids:
        raise OptionError("give at least one customer id")
    source = Path(input_path)
    csv = csv or CsvOptions()
    key = pl.col(scheme.id).cast(pl.String).str.strip_chars()
    with planned(source, scheme, csv) as (data, plan):
        wanted = plan.checked.filter(key.is_in(ids))
        raw_rows, rows = collect(
            [data.frame.with_row_index(ROW, offset=1).filter(key.is_in(ids)), wanted], data
        )
        found = set(rows.select(key).to_series().to_list())
        missing = [i for i in ids if i not in found]
        if missing:
            every = data.frame.select(key.alias("id")).collect()["id"].drop_nulls().to_list()
            close = difflib.get_close_matches(missing[0], every, n=3, cutoff=0.6)
            hint = f"; close ids: {', '.join(close)}" if close else ""
            raise DataError(f"{source}: no customer {missing[0]!r} in {scheme.id}{hint}")
        scored = plan.finish(wanted.filter(pl.col("__ok"))).collect()
        rejected = plan.rejected.filter(key.is_in(ids)).select(scheme.id, "reason").collect()
    by_id = {str(r[scheme.id]).strip(): r for r in rows.iter_rows(named=True)}
    out_rows = {str(r[scheme.id]).strip(): r for r in scored.iter_rows(named=True)}
    raw = {str(r[scheme.id]).strip(): r for r in raw_rows.iter_rows(named=True)}
    reasons = {str(r[scheme.id]).strip(): r["reason"] for r in rejected.iter_rows(named=True)}
    customers = []
    for cid in ids:
        if cid in reasons:
            customers.append({"id": cid, "scored": False, "reason": reasons[cid]})
            continue
        row = by_id[cid]
        definition, prefix = (
            plan.definitions[row[DEFINITION]] if scheme.segments is not None else (scheme, "")
        )
        explained = explain_customer(scheme, definition, prefix, cid, row, out_rows[cid], raw[cid])
        if scheme.segments is not None:
            explained["definition"] = row[DEFINITION]
        explained["other_scores"] = {
            name: {"score": out_rows[cid][f"{name}_score"], "band": out_rows[cid][f"{name}_band"]}
            for name, _ in plan.extras
        }
        customers.append(explained)
    return {
        "input": str(source),
        "scheme": {"name": scheme.name, "hash": scheme.digest},
        "customers": customers,
    }
