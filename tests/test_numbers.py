"""chs/numbers.py: the bound every count option shares (`top`), as Python callers see it;
exact means of one-decimal values."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from chs.actions.diff import diff
from chs.actions.history import history
from chs.actions.score import ScoreOptions, score
from chs.errors import OptionError
from chs.exprs import tenths
from chs.numbers import MAX_COUNT, check_count, mean_of_tenths
from chs.scheme import load_scheme


def test_a_count_within_the_bound_is_returned() -> None:
    assert check_count(0, "top") == 0
    assert check_count(MAX_COUNT, "top") == 1_000_000


@pytest.mark.parametrize(
    ("value", "shown"),
    [(-1, "-1"), (1_000_001, "1000001"), (10**20, "100000000000000000000"), (True, "True")],
)
def test_a_count_out_of_bounds_names_its_option(value: int, shown: str) -> None:
    with pytest.raises(OptionError) as caught:
        check_count(value, "top")
    assert str(caught.value) == f"top must be from 0 to 1,000,000 (got {shown})"
    assert caught.value.option == "top"
    assert caught.value.exit_code == 2


def test_score_diff_and_history_bound_top_before_reading(tmp_path: Path, tiny_scheme: Path) -> None:
    # no file is opened: the inputs do not exist, and the option is refused first
    missing = tmp_path / "missing.csv"
    message = "top must be from 0 to 1,000,000 (got 100000000000000000000)"
    with pytest.raises(OptionError, match=r"^top must be from 0 to 1,000,000 \(got 10{20}\)$"):
        score(missing, load_scheme(tiny_scheme), ScoreOptions(top=10**20))
    with pytest.raises(OptionError) as caught:
        diff(missing, missing, top=10**20)
    assert str(caught.value) == message
    with pytest.raises(OptionError) as caught:
        history(tmp_path, [], top=10**20)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("values", "mean"),
    [
        # -4.1 and -4.0: -8.1 / 2 = -4.05, a half, away from zero (a float mean of the
        # two, -4.05 in binary, is -4.04999…: Python's round gives -4.0)
        ([-4.1, -4.0], -4.1),
        ([0.2, 0.3], 0.3),  # 0.25 -> 0.3 (round(0.25, 1) is 0.2, half to even)
        ([49.4, 49.5], 49.5),
        ([10.0, 20.0, 20.0], 16.7),  # 50 / 3 = 16.66…
        ([-0.1, 0.1], 0.0),
        ([100.0] * 3, 100.0),
    ],
)
def test_the_mean_of_tenths_is_the_exact_fraction_rounded_half_away(values, mean) -> None:
    total = pl.DataFrame({"x": values}).select(tenths("x").sum()).item()
    assert total == round(sum(values) * 10)
    assert mean_of_tenths(total, len(values)) == mean


def test_no_value_has_no_mean() -> None:
    assert mean_of_tenths(None, 0) is None
    assert mean_of_tenths(0, 0) is None
    assert mean_of_tenths(5, 1, digits=2) == 0.5
