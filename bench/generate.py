"""Benchmark data: N fictional customers with 10 signals, a segment and a value column.

    python bench/generate.py --rows 10000000 --out bench/data

writes customers.csv (and, with --previous, previous.csv: the same customers a month
earlier, 2 % churned and 3 % new). Distributions are realistic (a latent health drives
the signals, revenue is log-normal by segment) with missing values (NPS 15 %, growth
10 %, email 5 %). Deterministic for a given --seed. Benchmark-only: needs numpy.
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/data"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--previous", action="store_true", help="also write previous.csv")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
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
