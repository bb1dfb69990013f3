"""Benchmark data: N fictional customers with 10 signals, a segment and a value column.

    python bench/generate.py --rows 10000000 --out bench/data

writes customers.csv (and, with --previous, previous.csv: the same customers a month
earlier, 2 % churned and 3 % new). Distributions are realistic (a latent health drives
the signals, revenue is log-normal by segment) with missing values (NPS 15 %, growth
10 %, email 5 %). Deterministic for a given --seed. Benchmark-only: needs numpy.

    python bench/generate.py --rows 1000000 --history 12 --out bench/data

writes instead, for `chs backtest`, a history folder of 12 monthly snapshots of
1,000,000 customers each, already scored (history/as_of=YYYY-MM-DD/scores.parquet:
the id, ten signals' points, score, band, coverage, mrr and the metadata chs records;
scoring them with chs would only time `chs score` again), and churn.csv (customer_id,
churned_on) for the customers who churned: each month a customer's health drifts and
it churns with a probability that is higher when its health is low (about 3 %), and
as many new customers join.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from itertools import pairwise
from pathlib import Path

import numpy as np
import polars as pl

CHUNK = 2_000_000
SEGMENTS = np.array(["SMB", "Mid-Market", "Enterprise"])
PLANS = np.array(["starter", "pro", "enterprise"])


def chunk(rng: np.random.Generator, start: int, n: int, drift: float = 0.0) -> pl.DataFrame:
    """Rows start..start+n: signals drawn from a latent health (0-1)."""
    ids = np.arange(start, start + n)
    health = np.clip(rng.beta(3.0, 2.0, n) + drift + rng.normal(0, 0.05, n), 0.0, 1.0)
    segment = rng.choice(3, n, p=[0.55, 0.30, 0.15])
    low = np.array([200.0, 2_000.0, 10_000.0])[segment]
    mrr = np.round(low * np.exp(rng.exponential(0.7, n)), 2)

    def maybe_missing(values: np.ndarray, share: float) -> pl.Series:
        s = pl.Series(values)
        return s.set(pl.Series(rng.random(n) < share), None) if share else s  # type: ignore[arg-type]

    frame = pl.DataFrame(
        {
            "customer_id": pl.Series(ids).cast(pl.String).str.zfill(9),
            "segment": SEGMENTS[segment],
            "mrr": mrr,
            "plan": PLANS[np.clip(segment + (rng.random(n) < 0.2), 0, 2)],
            "logins_month": np.clip(rng.normal(8 + 85 * health, 12), 0, 150).astype(np.int64),
            "premium_adoption_pct": np.round(np.clip(rng.normal(5 + 80 * health, 14), 0, 100), 1),
            "critical_tickets_q": rng.poisson(0.2 + 7 * (1 - health) ** 2),
            "nps": maybe_missing(
                np.clip(rng.normal(-70 + 160 * health, 22), -100, 100).astype(np.int64), 0.15
            ),
            "usage_growth_yoy_pct": maybe_missing(
                np.round(rng.normal(-45 + 110 * health, 15), 1), 0.10
            ),
            "seats_used_pct": np.round(np.clip(rng.normal(20 + 75 * health, 12), 0, 100), 1),
            "email_open_rate_pct": maybe_missing(
                np.round(np.clip(rng.normal(8 + 55 * health, 10), 0, 100), 1), 0.05
            ),
            "webinars_quarter": rng.poisson(0.2 + 2.5 * health),
            "days_since_login": np.clip(rng.exponential(2 + 40 * (1 - health) ** 2), 0, 365).astype(
                np.int64
            ),
        }
    )
    return frame.with_columns(("C" + pl.col("customer_id")).alias("customer_id"))


def write(path: Path, rows: int, seed: int, *, drift: float = 0.0, offset: int = 0) -> None:
    """Write `rows` customers to a CSV, chunk by chunk, without holding them all."""
    rng = np.random.default_rng(seed)
    with path.open("wb") as out:
        for i, start in enumerate(range(0, rows, CHUNK)):
            frame = chunk(rng, offset + start, min(CHUNK, rows - start), drift)
            frame.write_csv(out, include_header=i == 0)


# The scored history: ten signals' points (weights as bench/scheme.yaml's), three bands.
WEIGHTS = np.array([15, 15, 10, 10, 10, 10, 5, 5, 10, 10], dtype=float)
SIGNALS = ["logins", "premium", "tickets", "nps", "growth", "seats", "email", "webinars"]
SIGNALS += ["recency", "plan"]


def scored(
    rng: np.random.Generator, ids: np.ndarray, health: np.ndarray, mrr: np.ndarray
) -> pl.DataFrame:
    """One scored snapshot: each signal's points a tier (0, 50, 100) of the health seen
    through its own noise, the score their weighted mean, the band from the score."""
    n = len(ids)
    seen = health[:, None] + rng.normal(0, 0.25, (n, len(SIGNALS)))
    points = np.where(seen > 0.7, 100.0, np.where(seen > 0.4, 50.0, 0.0))
    score = np.round(points @ WEIGHTS / WEIGHTS.sum(), 1)
    band = np.where(score > 70, "green", np.where(score >= 50, "orange", "red"))
    return pl.DataFrame(
        {
            "customer_id": pl.Series(ids).cast(pl.String).str.zfill(9),
            "mrr": mrr,
            **{f"points_{s}": points[:, i] for i, s in enumerate(SIGNALS)},
            "score": score,
            "band": band,
            "coverage": np.ones(n),
        }
    ).with_columns(("C" + pl.col("customer_id")).alias("customer_id"))


OBSERVED_AFTER = 4  # months of churn known after the last snapshot: every horizon of 90 days


def history(out: Path, rows: int, snapshots: int, seed: int) -> None:
    """`snapshots` monthly scored snapshots of `rows` customers from 2025-01-01, and
    churn.csv: who churned, on a day within the month after its last snapshot, until
    OBSERVED_AFTER months after the last snapshot (so that every snapshot's 90-day
    horizon is observed and the backtest uses them all)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(rows)
    health = rng.beta(3.0, 2.0, rows)
    mrr = np.round(200 * np.exp(rng.exponential(1.0, rows)), 2)
    months = snapshots + OBSERVED_AFTER
    dates = [dt.date(2025 + m // 12, m % 12 + 1, 1) for m in range(months + 1)]
    meta = {"id": "customer_id", "value": "mrr", "scheme": "bench", "hash": "0" * 12}
    meta |= {"bands": ["green", "orange", "red"], "at_risk": ["red"]}
    churned: list[pl.DataFrame] = []
    for date, following in pairwise(dates):
        if date < dates[snapshots]:
            folder = out / "history" / f"as_of={date.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            info = {"chs": json.dumps(meta | {"as_of": date.isoformat()})}
            scored(rng, ids, health, mrr).write_parquet(folder / "scores.parquet", metadata=info)
        health = np.clip(health + rng.normal(0, 0.03, rows), 0.02, 0.98)
        gone = rng.random(rows) < 1 / (1 + np.exp(0.5 + 6 * health))  # higher when unhealthy
        count = int(gone.sum())
        after = rng.integers(1, (following - date).days + 1, count)
        churned.append(pl.DataFrame({"id": ids[gone], "on": np.datetime64(date) + after}))
        # the customers who left are replaced by new ones (new ids, a fresh health)
        ids[gone] = np.arange(ids.max() + 1, ids.max() + 1 + count)
        health[gone] = rng.beta(3.0, 2.0, count)
        mrr[gone] = np.round(200 * np.exp(rng.exponential(1.0, count)), 2)
    pl.concat(churned).select(
        ("C" + pl.col("id").cast(pl.String).str.zfill(9)).alias("customer_id"),
        pl.col("on").cast(pl.Date).alias("churned_on"),
    ).write_csv(out / "churn.csv")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/data"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--previous", action="store_true", help="also write previous.csv")
    parser.add_argument(
        "--history", type=int, metavar="N", help="write N scored snapshots and churn.csv instead"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.history:
        history(args.out, args.rows, args.history, args.seed)
        return
    write(args.out / "customers.csv", args.rows, args.seed)
    if args.previous:
        # the month before: 2 % of today's customers absent (offset ids), slightly healthier
        write(
            args.out / "previous.csv",
            args.rows,
            args.seed + 1,
            drift=0.03,
            offset=int(args.rows * 0.03),
        )


if __name__ == "__main__":
    main()
