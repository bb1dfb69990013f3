"""`history`: the portfolio per snapshot and customers over time."""

from __future__ import annotations

import pytest
from months import build

from chs.actions.history import history
from chs.errors import DataError

# -- history ------------------------------------------------------------------------


def test_history_report_portfolio_and_explicit_ids(tmp_path):
    _, folder, _ = build(tmp_path)
    report = history(folder, ["cora", "dune"])
    assert report["directory"] == str(folder)
    assert report["bands"] == ["high", "low"]
    assert report["snapshots"] == [
        # 80 60 30: high 2, low 1; mean 170/3 = 56.67 -> 56.7
        {"as_of": "2026-09-01", "customers": 3, "mean": 56.7, "bands": {"high": 2, "low": 1}},
        # 60 40 35: high 1, low 2; mean 135/3 = 45
        {"as_of": "2026-10-01", "customers": 3, "mean": 45.0, "bands": {"high": 1, "low": 2}},
        # 55 45 70 10: high 2, low 2; mean 180/4 = 45
        {"as_of": "2026-11-01", "customers": 4, "mean": 45.0, "bands": {"high": 2, "low": 2}},
    ]
    assert report["customers"] == [
        # 30/100*8 = 2.4 -> ▃, 35 -> 2.8 -> ▃, 70 -> 5.6 -> ▆
        {
            "id": "cora",
            "scores": [30.0, 35.0, 70.0],
            "bands": ["low", "low", "high"],
            "trend": "▃▃▆",
        },
        # absent twice (spaces), then 10 -> 0.8 -> ▁
        {"id": "dune", "scores": [None, None, 10.0], "bands": [None, None, "low"], "trend": "  ▁"},
    ]
    assert report["warnings"] == []


def test_history_report_default_is_the_biggest_fallers(tmp_path):
    _, folder, _ = build(tmp_path)
    # first to last: acme 55-80 = -25, bolt 45-60 = -15, cora 70-30 = +40; dune has no
    # first score. Biggest falls first, top 2.
    report = history(folder, [], top=2)
    assert [(c["id"], c["scores"], c["trend"]) for c in report["customers"]] == [
        ("acme", [80.0, 60.0, 55.0], "▇▅▅"),  # 6.4 -> 6, 4.8 -> 4, 4.4 -> 4
        ("bolt", [60.0, 40.0, 45.0], "▅▄▄"),  # 4.8 -> 4, 3.2 -> 3, 3.6 -> 3
    ]


def test_history_report_unknown_id(tmp_path):
    _, folder, _ = build(tmp_path)
    with pytest.raises(DataError) as err:
        history(folder, ["acm"])
    # 'acm' vs 'acme': 2*3/7 = 0.86 >= 0.6; the others share at most one letter
    assert err.value.message == f"{folder}: customer 'acm' is in no snapshot; close ids: acme"
    with pytest.raises(DataError) as err:
        history(folder, ["zzz"])
    assert err.value.message == f"{folder}: customer 'zzz' is in no snapshot"


def test_history_report_of_an_empty_folder(tmp_path):
    with pytest.raises(DataError) as err:
        history(tmp_path, [])
    assert err.value.message == (
        f"{tmp_path}: no snapshot (as_of=YYYY-MM-DD/scores.parquet) in the history folder"
    )


def test_history_report_lists_each_snapshots_bands_best_first(tmp_path):
    # The counts come from a group-by, which keeps no order: `--json` printed the bands
    # of a snapshot in a different order from one run to the next. Best band first.
    _, folder, _ = build(tmp_path)
    for _ in range(5):
        report = history(folder, [])
        assert [list(s["bands"]) for s in report["snapshots"]] == [["high", "low"]] * 3
