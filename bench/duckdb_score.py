"""The benchmark's scheme (bench/scheme.yaml) scored by hand as one DuckDB query.

    python bench/duckdb_score.py customers.csv out.parquet

The same tiers, weights, bands, missing-value redistribution, rounding and top-3
reasons as chs, written in SQL. Benchmark-only.
"""

from __future__ import annotations

import sys

import duckdb

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

POINTS = {
    "logins": "CASE WHEN logins_month IS NULL THEN NULL WHEN logins_month >= 40 THEN 100 "
    "WHEN logins_month >= 10 THEN 50 ELSE 0 END",
    "premium": "CASE WHEN premium_adoption_pct IS NULL THEN NULL WHEN premium_adoption_pct > 70 "
    "THEN 100 WHEN premium_adoption_pct >= 30 THEN 50 ELSE 0 END",
    "tickets": "CASE WHEN critical_tickets_q IS NULL THEN NULL WHEN critical_tickets_q <= 1 "
    "THEN 100 WHEN critical_tickets_q <= 4 THEN 50 ELSE 0 END",
    "nps": "CASE WHEN nps IS NULL THEN NULL WHEN nps > 30 THEN 100 WHEN nps >= 0 THEN 50 ELSE 0 END",
    "growth": "CASE WHEN usage_growth_yoy_pct IS NULL THEN NULL WHEN usage_growth_yoy_pct <= -20 "
    "THEN 0 WHEN usage_growth_yoy_pct <= 0 THEN 50 * (usage_growth_yoy_pct + 20) / 20 "
    "WHEN usage_growth_yoy_pct <= 20 THEN 50 + 50 * usage_growth_yoy_pct / 20 ELSE 100 END",
    "seats": "CASE WHEN seats_used_pct IS NULL THEN NULL WHEN seats_used_pct <= 20 THEN 0 "
    "WHEN seats_used_pct <= 90 THEN 100 * (seats_used_pct - 20) / 70 ELSE 100 END",
    "email": "CASE WHEN email_open_rate_pct IS NULL THEN NULL WHEN email_open_rate_pct >= 40 "
    "THEN 100 WHEN email_open_rate_pct >= 20 THEN 50 ELSE 0 END",
    "webinars": "CASE WHEN webinars_quarter IS NULL THEN NULL WHEN webinars_quarter >= 1 "
    "THEN 100 ELSE 0 END",
    "recency": "CASE WHEN days_since_login IS NULL THEN NULL WHEN days_since_login <= 7 THEN 100 "
    "WHEN days_since_login <= 30 THEN 50 ELSE 0 END",
    "plan": "CASE WHEN plan IS NULL THEN NULL WHEN plan = 'enterprise' THEN 100 "
    "WHEN plan = 'pro' THEN 70 WHEN plan = 'starter' THEN 40 ELSE 0 END",
}


def query(source: str, target: str) -> str:
    names = list(WEIGHTS)
    den = " + ".join(f"CASE WHEN p_{n} IS NULL THEN 0 ELSE {w} END" for n, w in WEIGHTS.items())
    num = " + ".join(f"coalesce(p_{n}, 0) * {w}" for n, w in WEIGHTS.items())
    # half away from zero, as chs writes the score
    written = "sign(raw) * floor(abs(raw) * 10 + 0.5) / 10"
    losses = ", ".join(
        # fields compare in order: the loss, then minus the index (ties in scheme order)
        f"{{'l': CASE WHEN p_{n} IS NULL THEN 0 ELSE ({w} / den) * (100 - p_{n}) END, 'j': {-i}, 'n': '{n}'}}"
        for i, (n, w) in enumerate(WEIGHTS.items())
    )
    reasons = (
        "array_to_string(list_transform(list_slice(list_sort(list_filter(["
        + losses
        + "], lambda x: x.l >= 0.05), 'DESC'), 1, 3), lambda x: x.n || ' -' || "
        "printf('%.1f', sign(x.l) * floor(abs(x.l) * 10 + 0.5) / 10)), '; ')"
    )
    return f"""
    COPY (
      WITH points AS (
        SELECT *, {", ".join(f"({POINTS[n]})::DOUBLE AS p_{n}" for n in names)}
        FROM read_csv('{source}', types = {{'customer_id': 'VARCHAR'}})
      ), weighted AS (
        SELECT *, ({num}) / ({den}) AS raw, ({den}) AS den FROM points
      ), scored AS (
        SELECT *, {written} AS score FROM weighted
      )
      SELECT * EXCLUDE (raw, den, {", ".join(f"p_{n}" for n in names)}),
        {", ".join(f"round(p_{n}, 2) AS points_{n}" for n in names)},
        score,
        CASE WHEN score > 70 THEN 'green' WHEN score >= 50 THEN 'orange' ELSE 'red' END AS band,
        round(den / {sum(WEIGHTS.values())}, 3) AS coverage,
        {reasons} AS reasons
      FROM scored
    ) TO '{target}' (FORMAT parquet)
    """


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    duckdb.sql(query(source, target))


if __name__ == "__main__":
    main()
