"""Generate fictional customer-signal exports for the `chs` demo and tests.

Re-run from the repository root with:

    python sample_data/generate.py

(`--out DIR` writes everything there instead). The output is deterministic: stdlib
`random` with a fixed seed, polars only to write Parquet. Each customer has a hidden
latent health in 0..1 that drifts month to month; every signal is drawn from it with
noise, so the signals correlate. Three monthly snapshots go to `sample_data/months/`;
the last one is also written as `customers.csv`, `customers.parquet` and
`customers_fr.csv` (a French Excel export: ";" separator, decimal comma, cp1252).

A second portfolio, from a random stream of its own (so the files above stay as they
were), gives the churn commands a past: about 1,000 customers (ids H0001...) over eight
monthly snapshots, 2026-04-01 to 2026-11-01, each scored with schemes/saas.yaml into
`history/as_of=YYYY-MM-DD/scores.parquet` as `chs score --history` does; a customer
churns in a month with a probability that is higher when its health is low, leaves the
later snapshots and is listed in `churn.csv` with the day it churned; `train.csv` is
the 2026-08-01 snapshot with a `churned` yes/no column (churned within 90 days). It
needs the chs package of this repository (to score the snapshots).
All companies and people are invented.
"""

import argparse
import csv
import datetime as dt
import io
import math
import random
import shutil
import tempfile
from pathlib import Path

import polars as pl

from chs import ScoreOptions, load_scheme, score

SEED = 20261130
OUT = Path(__file__).resolve().parent
MONTHS = ["2026-09", "2026-10", "2026-11"]
START_CUSTOMERS, CHURN_RATE, NEW_RATE = 392, 0.02, 0.03  # 392 -> 396 -> 400

# Column -> kind: "str", "int", "f1" (1 decimal) or "f2" (2 decimals), in output order.
COLUMNS = {
    "customer_id": "str", "name": "str", "segment": "str", "region": "str", "owner": "str",
    "plan": "str", "mrr": "f2", "logins_month": "int", "premium_adoption_pct": "f1",
    "critical_tickets_q": "int", "nps": "int", "usage_growth_yoy_pct": "f1",
    "logins_week": "f1", "feature_adoption_pct": "f1", "reporting_module_used": "str",
    "tickets_month": "int", "resolution_hours": "f1", "support_feedback": "str",
    "renewals_count": "int", "upsell_last_year": "int", "email_open_rate_pct": "f1",
    "email_click_rate_pct": "f1", "webinars_quarter": "int", "nps_rating": "int",
    "negative_feedback_count": "int", "parent_id": "str",
    "integrations_active": "int", "customisations": "int", "automated_workflows": "int",
}  # fmt: skip
DTYPES = {"str": pl.String, "int": pl.Int64, "f1": pl.Float64, "f2": pl.Float64}

SEGMENTS = {"SMB": 55, "Mid-Market": 30, "Enterprise": 15}
REGIONS = {"EMEA": 40, "NA": 35, "APAC": 15, "LATAM": 10}
PLANS = {"SMB": (70, 28, 2), "Mid-Market": (15, 70, 15), "Enterprise": (0, 20, 80)}
MRR_RANGE = {"SMB": (200, 2_000), "Mid-Market": (2_000, 10_000), "Enterprise": (10_000, 60_000)}
USAGE = {"SMB": 0.85, "Mid-Market": 1.0, "Enterprise": 1.15}  # more seats, more activity
OWNERS = [
    "Maren Holtby", "Tobias Quennel", "Ines Varkonyi", "Dario Mendelsohn",
    "Priya Anandel", "Léa Fontanel", "Jonah Okafreo", "Sigrid Bellweather",
]  # fmt: skip
SYLLABLES = (  # invented company words: one from each list, e.g. "Quarivex", "Solando"
    ["Vel", "Quar", "Nor", "Sol", "Brin", "Kest", "Lum", "Tal", "Ox", "Mir", "Drav", "Corv"],
    ["ora", "ivex", "ando", "enza", "avo", "elle", "ique", "ara", "ex", "wyn", "ity", "mere"],
)
SUFFIXES = [
    "Labs", "Systems", "Logistics", "Analytics", "Foods", "Health", "Robotics", "Media",
    "Works", "Partners", "Cloud", "Freight", "Studios", "Data", "Retail", "Group",
]  # fmt: skip
FRENCH = ["Société {w}", "Café {w}", "Énergie {w}", "{w} Électrique", "Atelier {w} Frères"]


def clamp(x: float, lo: float, hi: float) -> float:
    return max(lo, min(hi, x))


def r0(x: float, lo: int, hi: int) -> int:
    return round(clamp(x, lo, hi))


def r1(x: float, lo: float, hi: float) -> float:
    return round(clamp(x, lo, hi), 1)


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method; fine for the small rates used here."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def new_customer(
    rng: random.Random, num: int, names: set[str], tenure: int, prefix: str = "C"
) -> dict:
    name = ""
    while not name or name in names:
        template = rng.choice(FRENCH) if rng.random() < 0.05 else "{w} {s}"
        word = rng.choice(SYLLABLES[0]) + rng.choice(SYLLABLES[1])
        name = template.format(w=word, s=rng.choice(SUFFIXES))
    names.add(name)
    segment = pick(rng, SEGMENTS)
    lo, hi = MRR_RANGE[segment]
    lo, hi = lo * 1.02, hi / 1.02  # room for the +-2 % monthly jitter
    health = rng.betavariate(3.0, 2.0)
    return {
        "customer_id": f"{prefix}{num:04d}", "name": name, "segment": segment,
        "region": pick(rng, REGIONS), "owner": rng.choice(OWNERS),
        "plan": rng.choices(["starter", "pro", "enterprise"], weights=PLANS[segment])[0],
        # Log-normal-ish within the segment's range: triangular on the log scale.
        "base_mrr": math.exp(rng.triangular(math.log(lo), math.log(hi), math.log(lo))),
        "health": health, "tenure": tenure, "parent_id": None,  # tenure in months
        "trend": 0.0,  # per-month push for customers in a sharp decline or a recovery
        "upsell_last_year": int(rng.random() < 0.1 + 0.4 * health),
    }  # fmt: skip


def snapshot_row(rng: random.Random, c: dict) -> dict:
    """Draw one month of signals for customer `c` from its current latent health `h`."""
    h, seg, u = c["health"], c["segment"], (1 - c["health"])
    tickets = min(10, poisson(rng, (0.4 + 3.5 * u) * USAGE[seg]))
    no_nps, no_email = rng.random() < 0.15, rng.random() < 0.05
    feedback = rng.choices(["positive", "neutral", "negative"], [2 * h**1.5, 0.6, 2 * u**1.5])[0]
    growth = r1(rng.gauss(-45 + 110 * h, 15), -60, 80) if c["tenure"] >= 12 else None
    hours = r1(math.exp(rng.gauss(math.log(3 + 45 * u), 0.6)), 0.5, 120)
    row = {k: c[k] for k in ("customer_id", "name", "segment", "region", "owner", "plan")}
    return row | {
        "mrr": round(c["base_mrr"] * rng.uniform(0.98, 1.02), 2),
        "logins_month": r0(rng.gauss(8 + 85 * h, 12) * USAGE[seg], 0, 120),
        "premium_adoption_pct": r1(rng.gauss(5 + 80 * h, 14), 0, 100),
        "critical_tickets_q": min(12, poisson(rng, 0.2 + 7 * u**2)),
        "nps": None if no_nps else r0(rng.gauss(-70 + 160 * h, 22), -100, 100),
        "usage_growth_yoy_pct": growth,
        "logins_week": r1(rng.gauss(0.5 + 12 * h, 2), 0, 15),
        "feature_adoption_pct": r1(rng.gauss(12 + 75 * h, 12), 0, 100),
        "reporting_module_used": "yes" if rng.random() < 0.15 + 0.7 * h else "no",
        "tickets_month": tickets,
        "resolution_hours": hours if tickets else None,
        "support_feedback": feedback if tickets else None,
        "renewals_count": min(6, c["tenure"] // 12),
        "upsell_last_year": c["upsell_last_year"],
        "email_open_rate_pct": None if no_email else r1(rng.gauss(8 + 55 * h, 10), 0, 100),
        "email_click_rate_pct": None if no_email else r1(rng.gauss(1 + 20 * h, 4), 0, 40),
        "webinars_quarter": min(5, poisson(rng, 0.2 + 2.5 * h)),
        "nps_rating": None if no_nps else r0(rng.gauss(1.5 + 8 * h, 1.3), 0, 10),
        "negative_feedback_count": min(5, poisson(rng, 0.1 + 2.5 * u**2)),
        "parent_id": c["parent_id"],
    }


def add_inertia(rows: list[dict], month: str) -> None:
    """Inertia signals (integrations, customisations, automated workflows): how hard the
    product would be to leave. Drawn from a stream of their own per customer (and month),
    so adding them left every other sample value as it was. Larger, older customers are
    more entrenched; inertia is mostly independent of health."""
    for row in rows:
        base = random.Random(f"{SEED}-inertia-{row['customer_id']}")
        noise = random.Random(f"{SEED}-inertia-{row['customer_id']}-{month}")
        depth = (
            base.betavariate(2.0, 3.0)
            * {"SMB": 0.7, "Mid-Market": 1.0, "Enterprise": 1.3}[row["segment"]]
        )
        row["integrations_active"] = r0(depth * 10 + noise.gauss(0, 0.7), 0, 12)
        row["customisations"] = r0(depth * 18 + noise.gauss(0, 1.5), 0, 25)
        row["automated_workflows"] = r0(depth * 30 + noise.gauss(0, 2.5), 0, 40)


def build_portfolio(
    rng: random.Random, names: set[str], count: int = START_CUSTOMERS, prefix: str = "C"
) -> list[dict]:
    """The first month's portfolio (2026-09 for the months, 2026-04 for the history), with
    parent accounts and the declining/recovering customers."""
    customers = []
    for num in range(1, count + 1):
        tenure = rng.randint(1, 11) if rng.random() < 0.06 else rng.randint(12, 96)
        customers.append(new_customer(rng, num, names, tenure, prefix))
    parents = [c for c in customers if c["segment"] == "Enterprise"]
    children = [c for c in customers if c["segment"] != "Enterprise"]
    for child in rng.sample(children, round(0.1 * count)):
        child["parent_id"] = rng.choice(parents)["customer_id"]
    # Two month-to-month steps: ~8 % lose 0.2-0.4 in total, ~5 % gain 0.15-0.3.
    healthy = [c for c in customers if c["health"] >= 0.5]
    for c in rng.sample(healthy, round(0.08 * count)):
        c["trend"] = -rng.uniform(0.2, 0.4) / 2
    weak = [c for c in customers if c["health"] < 0.6 and not c["trend"]]
    for c in rng.sample(weak, round(0.05 * count)):
        c["trend"] = rng.uniform(0.15, 0.3) / 2
    return customers


def step_month(rng: random.Random, customers: list[dict], names: set[str]) -> tuple[list, int, int]:
    """Drift health one month, churn ~2 % (mostly unhealthy, never a parent), add ~3 % new."""
    for c in customers:
        c["health"] = clamp(c["health"] + c["trend"] + rng.gauss(0, 0.03), 0.02, 0.98)
        c["tenure"] += 1
    parent_ids = {c["parent_id"] for c in customers if c["parent_id"]}
    candidates = [c for c in customers if c["customer_id"] not in parent_ids]
    # Weighted sampling without replacement (Efraimidis-Spirakis): key = u ** (1 / weight).
    candidates.sort(key=lambda c: rng.random() ** (1 / (1.05 - c["health"]) ** 3), reverse=True)
    churned = {c["customer_id"] for c in candidates[: round(CHURN_RATE * len(customers))]}
    next_num = int(customers[-1]["customer_id"][1:]) + 1
    added = [
        new_customer(rng, next_num + k, names, tenure=0)
        for k in range(round(NEW_RATE * len(customers)))
    ]
    kept = [c for c in customers if c["customer_id"] not in churned]
    return kept + added, len(churned), len(added)


def to_csv(
    rows: list[dict],
    sep: str = ",",
    decimal: str = ".",
    newline: str = "\n",
    extra: tuple[str, ...] = (),
) -> str:
    """The rows as CSV text: COLUMNS, then the `extra` columns (text) if any."""
    columns = COLUMNS | dict.fromkeys(extra, "str")
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator=newline)
    writer.writerow(columns)
    for row in rows:
        cells = []
        for col, kind in columns.items():
            value = row[col]
            if value is not None and kind in ("f1", "f2"):
                value = f"{value + 0.0:.{kind[1]}f}".replace(".", decimal)  # + 0.0: no "-0.0"
            cells.append("" if value is None else value)
        writer.writerow(cells)
    return buf.getvalue()


# -- the history: 8 monthly snapshots scored into history/, who churned, a training file ----

HISTORY_SEED = 20260401  # a stream of its own: the files above stay as they were
HISTORY_DATES = [dt.date(2026, m, 1) for m in range(4, 12)]  # 2026-04-01 .. 2026-11-01
HISTORY_CUSTOMERS, HISTORY_NEW_RATE = 1000, 0.03
# Monthly churn probability, logistic in the latent health: 1 / (1 + e^-(BASE - SLOPE * h)).
CHURN_BASE, CHURN_SLOPE = -0.5, 6.0
TRAIN_DATE, TRAIN_HORIZON = dt.date(2026, 8, 1), 90  # train.csv: churned within 90 days


def churn_probability(health: float) -> float:
    """Higher when health is low: 15 % a month at health 0.2, 5 % at 0.4, 1.6 % at 0.6,
    0.5 % at 0.8 (about 3 % a month over the portfolio)."""
    return 1 / (1 + math.exp(-(CHURN_BASE - CHURN_SLOPE * health)))


def drift_health(rng: random.Random, c: dict) -> None:
    """One month of latent health: the customer's trend while it lasts (a decline or a
    recovery of a few months, now and then a new one), plus noise."""
    if not c["trend_left"]:
        c["trend"] = 0.0
        if c["health"] > 0.4 and rng.random() < 0.03:
            c["trend"], c["trend_left"] = -rng.uniform(0.05, 0.12), rng.randint(2, 4)
        elif c["health"] < 0.6 and rng.random() < 0.02:
            c["trend"], c["trend_left"] = rng.uniform(0.04, 0.1), rng.randint(2, 4)
    c["trend_left"] = max(0, c["trend_left"] - 1)
    c["health"] = clamp(c["health"] + c["trend"] + rng.gauss(0, 0.03), 0.02, 0.98)
    c["tenure"] += 1


def history_step(
    rng: random.Random, customers: list[dict], names: set[str], start: dt.date, end: dt.date
) -> tuple[list[dict], dict[str, dt.date]]:
    """From one snapshot to the next: health drifts, each customer churns with
    `churn_probability` (never a parent account), on a day in (start, end]; ~3 % new."""
    for c in customers:
        drift_health(rng, c)
    parent_ids = {c["parent_id"] for c in customers if c["parent_id"]}
    churned: dict[str, dt.date] = {}
    for c in customers:
        if c["customer_id"] not in parent_ids and rng.random() < churn_probability(c["health"]):
            churned[c["customer_id"]] = start + dt.timedelta(rng.randint(1, (end - start).days))
    next_num = int(customers[-1]["customer_id"][1:]) + 1
    added = [
        new_customer(rng, next_num + k, names, tenure=0, prefix="H") | {"trend_left": 0}
        for k in range(round(HISTORY_NEW_RATE * len(customers)))
    ]
    return [c for c in customers if c["customer_id"] not in churned] + added, churned


def write_history(out: Path) -> None:
    """history/as_of=YYYY-MM-DD/scores.parquet for each month (the raw snapshot scored
    with schemes/saas.yaml as `chs score RAW --history history --as-of DATE` does),
    churn.csv (every customer that churned, with the day it did) and train.csv (the
    TRAIN_DATE snapshot with churned yes/no: within TRAIN_HORIZON days after it)."""
    rng = random.Random(HISTORY_SEED)
    names: set[str] = set()
    customers = build_portfolio(rng, names, HISTORY_CUSTOMERS, prefix="H")
    for c in customers:
        c["trend_left"] = 2 if c["trend"] else 0  # build_portfolio's trends last two steps
    scheme = load_scheme(OUT.parent / "schemes" / "saas.yaml")
    history = out / "history"
    shutil.rmtree(history, ignore_errors=True)
    churn_dates: dict[str, dt.date] = {}
    snapshots: dict[dt.date, list[dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n, date in enumerate(HISTORY_DATES):
            if n:
                customers, churned = history_step(rng, customers, names, HISTORY_DATES[n - 1], date)
                churn_dates.update(churned)
            rows = [snapshot_row(rng, c) for c in customers]
            add_inertia(rows, date.isoformat()[:7])
            snapshots[date] = rows
            raw = Path(tmp) / f"customers_{date.isoformat()}.csv"
            raw.write_bytes(to_csv(rows).encode("utf-8"))
            score(raw, scheme, ScoreOptions(history=history, as_of=date))
            print(f"history {date}: {len(rows)} customers")
    lines = ["customer_id,churned_on"]
    lines += [f"{k},{d.isoformat()}" for k, d in sorted(churn_dates.items())]
    (out / "churn.csv").write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    end = TRAIN_DATE + dt.timedelta(TRAIN_HORIZON)
    # the snapshot's customers had not churned by its date: these churned after it
    soon = {k for k, d in churn_dates.items() if d <= end}
    train = [
        r | {"churned": "yes" if r["customer_id"] in soon else "no"} for r in snapshots[TRAIN_DATE]
    ]
    (out / "train.csv").write_bytes(to_csv(train, extra=("churned",)).encode("utf-8"))
    churners = sum(r["churned"] == "yes" for r in train)
    print(f"history: {len(churn_dates)} churned; train.csv: {churners} of {len(train)} churned")


def main(out: Path = OUT) -> None:
    rng = random.Random(SEED)
    names: set[str] = set()
    customers = build_portfolio(rng, names)
    (out / "months").mkdir(parents=True, exist_ok=True)
    for n, month in enumerate(MONTHS):
        if n:
            customers, churned, added = step_month(rng, customers, names)
            print(f"{MONTHS[n - 1]} -> {month}: {churned} churned, {added} new")
        rows = [snapshot_row(rng, c) for c in customers]
        add_inertia(rows, month)
        (out / "months" / f"customers_{month}.csv").write_bytes(to_csv(rows).encode("utf-8"))
        print(f"{month}: {len(rows)} customers")
    (out / "customers.csv").write_bytes(to_csv(rows).encode("utf-8"))  # == 2026-11
    schema = {col: DTYPES[kind] for col, kind in COLUMNS.items()}
    pl.DataFrame(rows, schema=schema).write_parquet(out / "customers.parquet")
    french = to_csv(rows, sep=";", decimal=",", newline="\r\n")
    (out / "customers_fr.csv").write_bytes(french.encode("cp1252"))
    write_history(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description="Write the sample data (default: beside this file)."
    )
    parser.add_argument("--out", type=Path, default=OUT, help="the folder to write into")
    main(parser.parse_args().out)
