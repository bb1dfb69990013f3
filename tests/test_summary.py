"""The run summary's pieces that are computed in an unusual way, against the plain way."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from chs.scheme import parse_scheme
from chs.summary import build_summary, median_of_counts, summary_queries

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


# -- the at-risk list ---------------------------------------------------------------------------

# watch alone is flagged: its customers are at risk, not those of risk below it
FLAGGED = """\
name: flagged
id: id
value: mrr
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: good, from: 70}
  - {name: watch, from: 40, at_risk: true}
  - {name: risk, from: 0}
"""
LOWEST = FLAGGED.replace(", at_risk: true", "")
SCORED = pl.LazyFrame(
    {
        "id": ["a", "b", "c", "d", "e"],
        "score": [10.0, 45.0, 45.0, 60.0, 95.0],
        "band": ["risk", "watch", "watch", "watch", "good"],
        "mrr": [1.0, 2.0, 3.0, None, 5.0],
        "coverage": [1.0] * 5,
    }
)
REJECTED = pl.LazyFrame(schema={"row": pl.Int64, "reason": pl.String, "id": pl.String})


def at_risk(scheme_text: str, top: int, bands: list[str] | None) -> dict:
    scheme = parse_scheme(scheme_text)
    queries = summary_queries(SCORED, REJECTED, "id", "mrr", top, pl.lit("r"), at_risk=bands)
    frames = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    summary = build_summary(scheme, "id", "mrr", frames)
    ids = [r["id"] for r in summary["at_risk"]]
    return {"ids": ids, "bands": summary["at_risk_bands"], "top": summary["at_risk_top"]}


def test_the_at_risk_list_takes_the_flagged_bands_in_the_query() -> None:
    # watch, lowest first, the bigger value first on a tie (c 3 before b 2); never a
    # (risk, not flagged) nor e (good)
    assert at_risk(FLAGGED, 2, ["watch"]) == {"ids": ["c", "b"], "bands": ["watch"], "top": 2}
    assert at_risk(FLAGGED, 10, ["watch"]) == {
        "ids": ["c", "b", "d"],
        "bands": ["watch"],
        "top": 10,
    }


def test_the_at_risk_list_of_the_lowest_band_needs_no_filter_in_the_query() -> None:
    # the default: the lowest band; the lowest scores of all are its customers first
    assert at_risk(LOWEST, 3, None) == {"ids": ["a"], "bands": ["risk"], "top": 3}
    assert at_risk(LOWEST, 3, ["risk"]) == {"ids": ["a"], "bands": ["risk"], "top": 3}
    assert at_risk(LOWEST, 0, None) == {"ids": [], "bands": ["risk"], "top": 0}
