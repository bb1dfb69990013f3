"""The run summary's pieces that are computed in an unusual way, against the plain way."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from chs.summary import median_of_counts

scores = st.lists(
    st.one_of(st.none(), st.integers(0, 1000).map(lambda t: t / 10)), min_size=0, max_size=60
)


@given(scores)
def test_median_from_counts_equals_the_median(values: list[float | None]) -> None:
    series = pl.Series("score", values, dtype=pl.Float64)
    counts = series.to_frame().group_by("score").agg(pl.len().alias("n"))
    assert median_of_counts(counts, "score", "n") == series.median()


def test_median_from_counts_by_hand() -> None:
    # 10, 20, 20, 70: the middle two are 20 and 20; with one more 70, the middle is 20;
    # 10, 70: (10 + 70) / 2 = 40
    def median(values: list[float]) -> float | None:
        frame = pl.DataFrame({"score": values}).group_by("score").agg(pl.len().alias("n"))
        return median_of_counts(frame, "score", "n")

    assert median([10.0, 20.0, 20.0, 70.0]) == 20.0
    assert median([10.0, 20.0, 20.0, 70.0, 70.0]) == 20.0
    assert median([10.0, 70.0]) == 40.0
    assert median([]) is None
