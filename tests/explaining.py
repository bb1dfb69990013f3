"""Helpers of the explain tests: the sample customers, one customer's row, the score of
that row with one value changed (through the engine), and one customer explained."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from chs.actions.explain import explain
from chs.engine import score_frame
from chs.scheme import load_scheme

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "customers.csv"
SAAS = load_scheme(ROOT / "schemes" / "saas.yaml")
DATA = pl.read_csv(SAMPLE, infer_schema_length=None)


def one(cid: str, frame: pl.DataFrame = DATA) -> pl.DataFrame:
    row = frame.filter(pl.col(frame.columns[0]).cast(pl.String) == cid)
    assert row.height == 1
    return row


def rescore(scheme, row: pl.DataFrame, column: str, value) -> float:
    """The score of `row` with `column` set to `value`, through the engine."""
    dtype = row.schema[column]
    if isinstance(value, float) and dtype.is_integer() and not value.is_integer():
        dtype = pl.Float64  # 2.51 in a column read as whole numbers
    changed = row.with_columns(pl.lit(value).cast(dtype).alias(column))
    scored, rejects = score_frame(changed, scheme)
    assert rejects.height == 0, rejects["reason"].to_list()
    return scored["score"][0]


def explain_one(path, scheme, cid: str) -> dict:
    result = explain(path, scheme, [cid])
    assert [c["id"] for c in result["customers"]] == [cid]
    return result["customers"][0]
