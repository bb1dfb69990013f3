"""Shared polars expressions: the band order."""

from __future__ import annotations

import polars as pl

from chs.exprs import band_order


def test_band_order_by_best_score():
    frames = [
        pl.DataFrame({"band": ["red", "green", None], "score": [45.0, 90.0, 99.0]}),
        pl.DataFrame({"band": ["orange", "red"], "score": [65.0, 49.0]}),
    ]
    # green 90, orange 65, red max(45, 49) = 49; a null band is ignored
    assert band_order(frames) == ["green", "orange", "red"]
    assert band_order([]) == []
