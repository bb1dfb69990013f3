"""The benchmark's scheme (bench/scheme.yaml) scored by hand with pandas and NumPy.

    python bench/pandas_score.py customers.csv out.parquet

What a careful analyst would write instead of chs: the same tiers, weights, bands,
missing-value redistribution, rounding and top-3 reasons, vectorised. Benchmark-only.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

WEIGHTS = {
    "logins": 15,
    "premium": 15,
    "tickets": 10,
    "nps": 10,
    "growth": 10,
    "seats": 10,
    "email": 5,
    "webinars": 5,
    "recency": 10,
    "plan": 10,
}


def tiers(x: pd.Series, rules: list[tuple[str, float, float]], other: float) -> np.ndarray:
    """First matching rule wins: ("ge"|"gt"|"le", bound, points); NaN stays NaN."""
    conds = []
    for op, bound, _ in rules:
        conds.append({"ge": x >= bound, "gt": x > bound, "le": x <= bound}[op])
    out = np.select(conds, [p for _, _, p in rules], default=other).astype(float)
    out[x.isna().to_numpy()] = np.nan
    return out


def linear(x: pd.Series, xs: list[float], ys: list[float]) -> np.ndarray:
    return np.interp(x.to_numpy(dtype=float), xs, ys)  # clamped at both ends; NaN stays NaN


def category(x: pd.Series, mapping: dict[str, float], other: float) -> np.ndarray:
    """Mapped points; an unlisted category gets `other`; a missing one stays NaN."""
    mapped = x.map(mapping)
    return mapped.where(x.isna() | mapped.notna(), other).to_numpy(dtype=float)


def round_half_away(a: np.ndarray, digits: int) -> np.ndarray:
    scale = 10.0**digits
    return np.sign(a) * np.floor(np.abs(a) * scale + 0.5) / scale


def score(df: pd.DataFrame) -> pd.DataFrame:
    points = {
        "logins": tiers(df["logins_month"], [("ge", 40, 100), ("ge", 10, 50)], 0),
        "premium": tiers(df["premium_adoption_pct"], [("gt", 70, 100), ("ge", 30, 50)], 0),
        "tickets": tiers(df["critical_tickets_q"], [("le", 1, 100), ("le", 4, 50)], 0),
        "nps": tiers(df["nps"], [("gt", 30, 100), ("ge", 0, 50)], 0),
        "growth": linear(df["usage_growth_yoy_pct"], [-20, 0, 20], [0, 50, 100]),
        "seats": linear(df["seats_used_pct"], [20, 90], [0, 100]),
        "email": tiers(df["email_open_rate_pct"], [("ge", 40, 100), ("ge", 20, 50)], 0),
        "webinars": tiers(df["webinars_quarter"], [("ge", 1, 100)], 0),
        "recency": tiers(df["days_since_login"], [("le", 7, 100), ("le", 30, 50)], 0),
        "plan": category(df["plan"], {"enterprise": 100.0, "pro": 70.0, "starter": 40.0}, 0.0),
    }
    names = list(WEIGHTS)
    p = np.column_stack([points[n] for n in names])
    w = np.array([WEIGHTS[n] for n in names], dtype=float)
    present = ~np.isnan(p)
    den = (present * w).sum(axis=1)
    raw = np.where(present, p, 0.0) @ w / den
    written = round_half_away(raw, 1)
    band = np.where(written > 70, "green", np.where(written >= 50, "orange", "red"))
    # reasons: effective weight x (100 - points), the three largest (ties: scheme order)
    loss = np.where(present, (w / den[:, None]) * (100.0 - np.nan_to_num(p)), 0.0)
    order = np.argsort(-loss, axis=1, kind="stable")[:, :3]
    top = np.take_along_axis(loss, order, axis=1)
    labels = np.array(names)[order]
    parts = []
    for k in range(3):
        text = (
            pd.Series(labels[:, k])
            + " -"
            + pd.Series(round_half_away(top[:, k], 1)).map("{:.1f}".format)
        )
        parts.append(text.where(top[:, k] >= 0.05))
    reasons = parts[0].fillna("")
    for extra in parts[1:]:
        reasons = reasons.where(extra.isna(), reasons + "; " + extra.fillna(""))
    out = df.copy()
    for n in names:
        out[f"points_{n}"] = np.round(points[n], 2)
    out["score"] = written
    out["band"] = band
    out["coverage"] = np.round((present * w).sum(axis=1) / w.sum(), 3)
    out["reasons"] = reasons.to_numpy()
    return out


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    df = pd.read_csv(source, dtype={"customer_id": str})
    score(df).to_parquet(target, index=False)


if __name__ == "__main__":
    main()
