"""Properties that hold for any scheme and any data (hypothesis)."""

from __future__ import annotations

from itertools import pairwise

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chs.engine import score_frame
from chs.scheme import Scheme, Signal, Tier, parse_scheme
from chs.scheme.limits import MIN_MAGNITUDE

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
values = st.one_of(st.none(), st.floats(-1000, 1000, allow_nan=False))
# a scheme's bounds: a non-zero one is at least MIN_MAGNITUDE in size (model.Bound)
bounds = st.floats(-500, 500).filter(lambda x: x == 0 or abs(x) >= MIN_MAGNITUDE)


@st.composite
def rising_tiers(draw) -> list[dict]:
    """Tiers that reward higher values: thresholds and points both decrease downwards."""
    n = draw(st.integers(1, 4))
    thresholds = sorted(draw(st.lists(bounds, min_size=n, max_size=n, unique=True)), reverse=True)
    points = sorted(draw(st.lists(st.floats(0, 100), min_size=n + 1, max_size=n + 1)), reverse=True)
    strict = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    tiers = [
        {("above" if s else "at_least"): t, "points": p}
        for t, p, s in zip(thresholds, points[:n], strict, strict=True)
    ]
    return [*tiers, {"points": points[-1]}]


@st.composite
def schemes(draw) -> tuple[Scheme, int]:
    n = draw(st.integers(1, 5))
    signals = {}
    for i in range(n):
        weight = draw(st.floats(0.1, 100))
        if draw(st.booleans()):
            signals[f"s{i}"] = {"column": f"c{i}", "weight": weight, "points": draw(rising_tiers())}
        else:
            xs = sorted(draw(st.lists(bounds, min_size=2, max_size=4, unique=True)))
            ys = sorted(draw(st.lists(st.floats(0, 100), min_size=len(xs), max_size=len(xs))))
            signals[f"s{i}"] = {
                "column": f"c{i}",
                "weight": weight,
                "linear": [list(p) for p in zip(xs, ys, strict=True)],
            }
    data = {
        "name": "p",
        "id": "id",
        "signals": signals,
        "bands": [
            {"name": "hi", "from": 60},
            {"name": "mid", "above": 30},
            {"name": "lo", "from": 0},
        ],
    }
    return Scheme.model_validate(data), n


def frame_for(n: int, rows: list[list[float | None]]) -> pl.DataFrame:
    cols = {f"c{i}": [r[i] for r in rows] for i in range(n)}
    return pl.DataFrame(
        {"id": [f"r{j}" for j in range(len(rows))], **cols},
        schema_overrides=dict.fromkeys(cols, pl.Float64),
    )


def oracle_points(signal: Signal, x: float) -> float:
    """An independent reading of the scheme: first matching tier, or linear interpolation."""
    if signal.points is not None:
        for tier in signal.points:
            t: Tier = tier
            if t.at_least is not None and not x >= t.at_least:
                continue
            if t.above is not None and not x > t.above:
                continue
            return t.points
        raise AssertionError("no catch-all")
    pts = signal.linear
    assert pts is not None
    if x <= pts[0][0]:
        return pts[0][1]
    for (xa, ya), (xb, yb) in pairwise(pts):
        if x <= xb:
            return ya + (x - xa) * (yb - ya) / (xb - xa)
    return pts[-1][1]


@SETTINGS
@given(data=st.data())
def test_score_within_0_100_and_band_matches_score(data):
    scheme, n = data.draw(schemes())
    rows = data.draw(st.lists(st.lists(values, min_size=n, max_size=n), min_size=1, max_size=20))
    scored, rejects = score_frame(frame_for(n, rows), scheme)
    assert scored.height + rejects.height == len(rows)
    for score, band in scored.select("score", "band").rows():
        assert 0 <= score <= 100
        assert band == ("hi" if score >= 60 else "mid" if score > 30 else "lo")


@SETTINGS
@given(data=st.data())
def test_redistribute_with_every_signal_present_is_the_weighted_mean(data):
    scheme, n = data.draw(schemes())
    rows = data.draw(
        st.lists(st.lists(st.floats(-1000, 1000), min_size=n, max_size=n), min_size=1, max_size=10)
    )
    scored, _ = score_frame(frame_for(n, rows), scheme)
    assert scheme.signals is not None
    sigs = list(scheme.signals.values())
    total = sum(s.weight for s in sigs)
    for row, got in zip(rows, scored["score"].to_list(), strict=True):
        expected = (
            sum(s.weight * oracle_points(s, x) for s, x in zip(sigs, row, strict=True)) / total
        )
        assert abs(got - expected) <= 0.05 + 1e-9  # written with one decimal
    assert scored["coverage"].to_list() == [1.0] * len(rows)


@SETTINGS
@given(data=st.data())
def test_raising_a_rewarding_signal_never_lowers_the_score(data):
    scheme, n = data.draw(schemes())
    row = data.draw(st.lists(values, min_size=n, max_size=n))
    which = data.draw(st.integers(0, n - 1))
    base = row[which] if row[which] is not None else data.draw(st.floats(-1000, 1000))
    raised = list(row)
    row = list(row)
    row[which] = base
    raised[which] = base + data.draw(st.floats(0, 1000))
    scored, _ = score_frame(frame_for(n, [row, raised]), scheme)
    before, after = scored["score"].to_list()
    assert after >= before


def test_losses_add_up_to_what_the_score_misses():
    # With every signal listed in reasons, 100 - score equals the sum of the losses.
    text = (
        "name: t\nid: id\nreasons: 5\nsignals:\n"
        "  a: {column: a, weight: 50, points: [{at_least: 10, points: 100}, {points: 20}]}\n"
        "  b: {column: b, weight: 30, linear: [[0, 0], [10, 100]]}\n"
        "  c: {column: c, weight: 20, map: {x: 100, y: 40}}\n"
        "bands:\n  - {name: ok, from: 0}\n"
    )
    frame = pl.DataFrame({"id": ["r"], "a": [3.0], "b": [2.5], "c": ["y"]})
    row = score_frame(frame, parse_scheme(text))[0].row(0, named=True)
    # points 20, 25, 40: score = 0.5*20 + 0.3*25 + 0.2*40 = 10 + 7.5 + 8 = 25.5
    # losses: a 0.5*80 = 40, b 0.3*75 = 22.5, c 0.2*60 = 12 -> 74.5 = 100 - 25.5
    assert row["score"] == 25.5
    assert row["reasons"] == "a -40.0; b -22.5; c -12.0"
