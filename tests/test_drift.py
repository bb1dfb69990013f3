"""Drift between two snapshots: the population stability index and its label."""

from __future__ import annotations

import math

import polars as pl

from chs.drift import bin_counts, psi, psi_label, score_bins


def test_psi_by_hand():
    # {0: 50, 1: 50} vs {0: 25, 1: 75}: (0.25-0.5) ln(0.25/0.5) + (0.75-0.5) ln(0.75/0.5)
    # = 0.25 * 0.693147 + 0.25 * 0.405465 = 0.274653 -> 0.2747
    assert psi({0: 50, 1: 50}, {0: 25, 1: 75}) == 0.2747
    # empty bin 1 before, floored at 1e-4:
    # (0.5-1) ln(0.5/1) + (0.5-1e-4) ln(0.5/1e-4) = 0.346574 + 0.4999 * 8.517193 = 4.604318
    assert math.isclose(0.5 * math.log(2) + 0.4999 * math.log(5000), 4.6043, abs_tol=5e-5)
    assert psi({0: 100}, {0: 50, 1: 50}) == 4.6043
    # same shares in different counts: 0
    assert psi({0: 1, 1: 3}, {0: 10, 1: 30}) == 0.0
    # nothing on one side: 0
    assert psi({}, {0: 5}) == 0.0


def test_psi_label_thresholds():
    assert psi_label(0.0999) == "stable"
    assert psi_label(0.1) == "moderate shift"
    assert psi_label(0.25) == "moderate shift"
    assert psi_label(0.2501) == "major shift"


def test_score_bins_by_hand():
    # 0-9.99 -> 0, 10 -> 1, 55.5 -> 5, 100 -> 9 (the last bin holds 100), outside 0-100
    # to the end bins, a missing value or NaN -> -1
    values = [0.0, 9.99, 10.0, 55.5, 99.9, 100.0, -5.0, 150.0, 1e300, -1e300, None, float("nan")]
    frame = pl.DataFrame({"x": values}, schema={"x": pl.Float64})
    got = frame.select(score_bins(pl.col("x"), pl.Float64()).alias("x"))["x"]
    assert got.dtype == pl.Int8
    assert got.to_list() == [0, 0, 1, 5, 9, 9, 0, 9, 9, 0, -1, -1]


def test_whole_points_binned_as_integers_as_they_would_be_as_floats():
    # Int16 points (chs writes whole points so): 0-9 -> 0, 10 -> 1, 99 -> 9, 100 -> 9,
    # and out of range as a float would be
    values = [0, 9, 10, 19, 50, 99, 100, -3, 32000, None]
    ints = pl.DataFrame({"x": values}, schema={"x": pl.Int16})
    floats = ints.select(pl.col("x").cast(pl.Float64))
    got = ints.select(score_bins(pl.col("x"), pl.Int16()).alias("x"))["x"]
    assert got.to_list() == [0, 0, 1, 1, 5, 9, 9, 0, 9, -1]
    assert got.equals(floats.select(score_bins(pl.col("x"), pl.Float64()).alias("x"))["x"])


def test_bin_counts_match_a_group_by():
    bins = pl.Series("b", [3, -1, 3, 9, 0, 3, -1, 9], dtype=pl.Int8)
    # -1 twice, 0 once, 3 three times, 9 twice; the empty bins are left out
    assert bin_counts(bins).rows() == [(-1, 2), (0, 1), (3, 3), (9, 2)]
    grouped = bins.to_frame().group_by("b").agg(pl.len()).sort("b")
    assert bin_counts(bins).equals(grouped)
    assert bin_counts(pl.Series("b", [], dtype=pl.Int8)).height == 0
