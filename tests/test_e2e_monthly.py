"""End to end: three consecutive months through the installed `chs` console script.

A module fixture runs, as a monthly cron job would,

    chs score sample_data/months/customers_2026-MM.csv --scheme schemes/saas.yaml \\
        --history H --as-of 2026-MM-01 -o scored_MM.parquet --alerts alerts_MM.ndjson --exit-code

for September, October and November 2026, then November once more (a retried job). The
tests check the outputs against values computed here, independently of chs: the scores
from the input CSVs and saas.yaml's tiers (exact fractions), the customer sets from the
inputs, and the alerts from saas.yaml's conditions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

REPO = Path(__file__).resolve().parents[1]
CHS = Path(sys.executable).parent / "chs"
MONTHS_DIR = REPO / "sample_data" / "months"
SAAS = REPO / "schemes" / "saas.yaml"
MONTHS = ["09", "10", "11"]
ROWS = {"09": 392, "10": 396, "11": 400}
ALERTS_FIRED = 10

# saas.yaml's signals as the test reads them: (column, weight, points for a value).
# logins >= 40: 100, >= 10: 50; premium adoption > 70: 100, >= 30: 50; critical tickets
# <= 1: 100, <= 4: 50; NPS > 30: 100, >= 0: 50; usage growth >= 20: 100, >= 0: 50; else 0.
SIGNALS = [
    ("logins_month", 30, lambda v: 100 if v >= 40 else 50 if v >= 10 else 0),
    ("premium_adoption_pct", 25, lambda v: 100 if v > 70 else 50 if v >= 30 else 0),
    ("critical_tickets_q", 20, lambda v: 100 if v <= 1 else 50 if v <= 4 else 0),
    ("nps", 15, lambda v: 100 if v > 30 else 50 if v >= 0 else 0),
    ("usage_growth_yoy_pct", 10, lambda v: 100 if v >= 20 else 50 if v >= 0 else 0),
]
# The conditions of saas.yaml's alerts, as written there and as evaluated here.
CONDITIONS = {
    "urgent_call": "score < 40",
    "support_offer": "score >= 40 AND score < 60",
    "quarterly_checkin": "score >= 60 AND score <= 80",
    "expansion": "score > 80",
    "re_engagement": "change_30d < -15",
    "support_ticket": "score < 60",
}


def fires(alert: str, score: Fraction, change_30d: Fraction | None) -> bool:
    return {
        "urgent_call": score < 40,
        "support_offer": 40 <= score < 60,
        "quarterly_checkin": 60 <= score <= 80,
        "expansion": score > 80,
        "re_engagement": change_30d is not None and change_30d < -15,
        "support_ticket": score < 60,
    }[alert]


def round_half_away(x: Fraction) -> Fraction:
    """To one decimal, half away from zero (scores are never negative)."""
    assert x >= 0
    return Fraction(int(x * 10 + Fraction(1, 2)), 10)


def band(score: Fraction) -> str:
    """saas.yaml's bands on the written score: green > 70, orange >= 50, red below."""
    return "green" if score > 70 else "orange" if score >= 50 else "red"


@dataclass
class Customer:
    score: Fraction
    band: str
    mrr: float


def expected_scores(month: str) -> dict[str, Customer]:
    """Score every customer of a month's CSV with the tiers above; a missing value's
    weight is shared among the signals that have one (missing: redistribute)."""
    frame = pl.read_csv(MONTHS_DIR / f"customers_2026-{month}.csv", infer_schema=False)
    out: dict[str, Customer] = {}
    for row in frame.iter_rows(named=True):
        points = weights = Fraction(0)
        for column, weight, tier in SIGNALS:
            if row[column] is None or row[column].strip() == "":
                continue
            points += weight * tier(Fraction(row[column].strip()))
            weights += weight
        assert weights > 0, row["customer_id"]
        score = round_half_away(points / weights)
        out[row["customer_id"]] = Customer(score, band(score), float(row["mrr"]))
    assert len(out) == frame.height
    return out


def streak(cid: str, bands: list[dict[str, str]]) -> int:
    """Consecutive snapshots, newest first (`bands`: id -> band per snapshot), with the
    customer in its current band; a month where it is absent ends the run."""
    now = bands[0][cid]
    n = 0
    for month in bands:
        if month.get(cid) != now:
            break
        n += 1
    return n


# Variables that would make rich treat the pipe as a terminal (box drawing, colour).
TERMINAL_ENV = ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def run(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k not in TERMINAL_ENV},
    )


def score_month(tmp: Path, history: Path, month: str, suffix: str = "", *extra: str):
    return run(
        CHS, "score", MONTHS_DIR / f"customers_2026-{month}.csv", "--scheme", SAAS,
        "--history", history, "--as-of", f"2026-{month}-01",
        "-o", tmp / f"scored_{month}{suffix}.parquet",
        "--alerts", tmp / f"alerts_{month}{suffix}.ndjson", "--exit-code", *extra,
    )  # fmt: skip


@dataclass
class Months:
    tmp: Path
    history: Path
    results: dict[str, subprocess.CompletedProcess[str]]
    november_before: pl.DataFrame
    november_meta_before: dict[str, str]
    rerun: subprocess.CompletedProcess[str]
    expected: dict[str, dict[str, Customer]]

    def scored(self, month: str, suffix: str = "") -> pl.DataFrame:
        return pl.read_parquet(self.tmp / f"scored_{month}{suffix}.parquet")

    def partition(self, month: str) -> Path:
        return self.history / f"as_of=2026-{month}-01" / "scores.parquet"


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> Months:
    assert CHS.is_file(), CHS
    tmp = tmp_path_factory.mktemp("monthly")
    history = tmp / "H"
    results = {month: score_month(tmp, history, month) for month in MONTHS}
    november = history / "as_of=2026-11-01" / "scores.parquet"
    before = pl.read_parquet(november)
    meta = pl.read_parquet_metadata(november)
    rerun = score_month(tmp, history, "11", "_again", "--json")
    expected = {month: expected_scores(month) for month in MONTHS}
    return Months(tmp, history, results, before, meta, rerun, expected)


def expected_alerts(months: Months, month: str) -> set[tuple[str, str]]:
    """(id, alert) pairs from the month's scores and the change since the month before
    (30 days before 2026-10-01 is 2026-09-01; 30 before 2026-11-01 is within a day of
    2026-10-01; September has no earlier snapshot, so re_engagement cannot fire)."""
    now = months.expected[month]
    before = months.expected[MONTHS[MONTHS.index(month) - 1]] if month != "09" else {}
    pairs = set()
    for cid, c in now.items():
        change = c.score - before[cid].score if cid in before else None
        pairs |= {(cid, a) for a in CONDITIONS if fires(a, c.score, change)}
    return pairs


def read_alerts(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- the scheme the test encodes is the one shipped ------------------------------------------


def test_the_shipped_scheme_is_the_one_encoded_here() -> None:
    scheme = yaml.safe_load(SAAS.read_text(encoding="utf-8"))
    assert scheme["id"] == "customer_id"
    assert scheme["missing"] == "redistribute"
    assert [(s["column"], s["weight"]) for s in scheme["signals"].values()] == [
        (column, weight) for column, weight, _ in SIGNALS
    ]
    assert [s["points"] for s in scheme["signals"].values()] == [
        [{"at_least": 40, "points": 100}, {"at_least": 10, "points": 50}, {"points": 0}],
        [{"above": 70, "points": 100}, {"at_least": 30, "points": 50}, {"points": 0}],
        [{"at_most": 1, "points": 100}, {"at_most": 4, "points": 50}, {"points": 0}],
        [{"above": 30, "points": 100}, {"at_least": 0, "points": 50}, {"points": 0}],
        [{"at_least": 20, "points": 100}, {"at_least": 0, "points": 50}, {"points": 0}],
    ]
    assert [(b["name"], b.get("above"), b.get("from")) for b in scheme["bands"]] == [
        ("green", 70, None),
        ("orange", None, 50),
        ("red", None, 0),
    ]
    assert {a["name"]: a["when"] for a in scheme["alerts"]} == CONDITIONS
    assert scheme["trends"] == [30, 90]


# -- runs, scores and the history folder ---------------------------------------------------------


def test_every_month_exits_10_because_alerts_should_fire(months: Months) -> None:
    for month in MONTHS:
        result = months.results[month]
        assert result.returncode == ALERTS_FIRED, (month, result.stderr)
        assert result.stderr == ""
        lines = result.stdout.splitlines()
        assert lines[1] == f"Rows: {ROWS[month]} read = {ROWS[month]} scored + 0 rejected"
        assert f"Snapshot kept in {months.partition(month)}" in lines
        # Independently: every month has customers under 40 (urgent_call) and more.
        pairs = expected_alerts(months, month)
        fired = {alert for _, alert in pairs}
        assert "urgent_call" in fired, month
        assert len(pairs) > 0
    assert months.rerun.returncode == ALERTS_FIRED, months.rerun.stderr


def test_scores_and_bands_match_the_scheme(months: Months) -> None:
    for month in MONTHS:
        frame = months.scored(month)
        expected = months.expected[month]
        assert frame.height == ROWS[month]
        assert sorted(frame["customer_id"].to_list()) == sorted(expected)
        got = {r["customer_id"]: (r["score"], r["band"]) for r in frame.iter_rows(named=True)}
        assert got == {cid: (float(c.score), c.band) for cid, c in expected.items()}, month


def test_history_holds_exactly_three_partitions(months: Months) -> None:
    assert sorted(p.name for p in months.history.iterdir()) == [
        "as_of=2026-09-01",
        "as_of=2026-10-01",
        "as_of=2026-11-01",
    ]
    for month in MONTHS:
        partition = months.partition(month)
        assert sorted(p.name for p in partition.parent.iterdir()) == ["scores.parquet"]
        frame = pl.read_parquet(partition)
        assert frame.height == ROWS[month]
        assert frame["customer_id"].n_unique() == ROWS[month]
    # The partition is the month's scored output; September's is that of the first run.
    assert_frame_equal(pl.read_parquet(months.partition("09")), months.scored("09"))
    assert_frame_equal(pl.read_parquet(months.partition("10")), months.scored("10"))


def test_rerun_of_november_replaces_its_partition_with_identical_content(months: Months) -> None:
    assert sorted(p.name for p in months.history.iterdir()) == [
        "as_of=2026-09-01",
        "as_of=2026-10-01",
        "as_of=2026-11-01",
    ]
    november = months.partition("11")
    assert sorted(p.name for p in november.parent.iterdir()) == ["scores.parquet"]
    after = pl.read_parquet(november)
    assert_frame_equal(after, months.november_before)
    assert pl.read_parquet_metadata(november)["chs"] == months.november_meta_before["chs"]
    assert_frame_equal(months.scored("11", "_again"), months.scored("11"))
    assert_frame_equal(after, months.scored("11"))
    assert read_alerts(months.tmp / "alerts_11_again.ndjson") == read_alerts(
        months.tmp / "alerts_11.ndjson"
    )
    # The retry still compares with October, not with its own earlier November run.
    summary = json.loads(months.rerun.stdout)
    assert summary["previous"]["path"] == str(months.partition("10"))
    assert summary["previous"]["as_of"] == "2026-10-01"


# -- month over month --------------------------------------------------------------------------


def test_november_delta_is_november_minus_october(months: Months) -> None:
    nov, oct_ = months.scored("11"), months.scored("10")
    joined = nov.join(
        oct_.select("customer_id", pl.col("score").alias("october"), pl.col("band").alias("ob")),
        on="customer_id",
        how="left",
    )
    common = joined.filter(pl.col("october").is_not_null())
    assert common.height == len(set(months.expected["11"]) & set(months.expected["10"]))
    assert common.height == 388  # 396 in October, 8 of them gone by November
    for r in common.iter_rows(named=True):
        cid = r["customer_id"]
        exact = months.expected["11"][cid].score - months.expected["10"][cid].score
        assert r["delta"] == float(exact), cid
        assert r["delta"] == round(r["score"] - r["october"], 1), cid
        assert r["previous_score"] == r["october"], cid
        assert r["previous_band"] == r["ob"], cid
        sign = "up" if exact > 0 else "down" if exact < 0 else "same"
        assert r["movement"] == sign, cid
    assert {"up", "down", "same"} <= set(common["movement"])


def test_new_customers_have_movement_new_and_no_delta(months: Months) -> None:
    nov = months.scored("11")
    new_ids = set(months.expected["11"]) - set(months.expected["10"])
    assert len(new_ids) == 12
    new = nov.filter(pl.col("movement") == "new")
    assert set(new["customer_id"]) == new_ids
    assert new["delta"].null_count() == 12
    assert new["previous_score"].null_count() == 12
    assert new["previous_band"].null_count() == 12
    assert nov.filter(pl.col("delta").is_null()).height == 12


def test_lost_customers_are_october_minus_november(months: Months) -> None:
    lost_ids = set(months.expected["10"]) - set(months.expected["11"])
    assert len(lost_ids) == 8
    assert not lost_ids & set(months.scored("11")["customer_id"])
    summary = json.loads(months.rerun.stdout)
    lost = summary["previous"]["lost"]
    assert lost["count"] == 8
    assert {c["id"] for c in lost["customers"]} == lost_ids  # --top 10 lists all eight
    assert lost["value"] == round(sum(months.expected["10"][c].mrr for c in lost_ids), 2)
    for c in lost["customers"]:
        assert c["last_score"] == float(months.expected["10"][c["id"]].score)
        assert c["last_band"] == months.expected["10"][c["id"]].band


def test_november_summary_line(months: Months) -> None:
    nov, oct_ = months.expected["11"], months.expected["10"]
    common = set(nov) & set(oct_)
    up = sum(nov[c].score > oct_[c].score for c in common)
    down = sum(nov[c].score < oct_[c].score for c in common)
    same = len(common) - up - down
    line = (
        f"Since {months.partition('10')} (2026-10-01): "
        f"{up} up, {down} down, {same} same, 12 new, 8 lost."
    )
    assert line in months.results["11"].stdout.splitlines()
    summary = json.loads(months.rerun.stdout)
    assert summary["previous"]["movement"] == {"up": up, "down": down, "same": same, "new": 12}


def test_change_30d_is_the_change_since_last_month(months: Months) -> None:
    # November: 30 days before 2026-11-01 is 2026-10-02; the October snapshot (31 days
    # before) is the nearest, so change_30d is the delta for every customer.
    nov = months.scored("11")
    assert nov["change_30d"].to_list() == nov["delta"].to_list()
    # October: exactly 30 days after September.
    oct_ = months.scored("10")
    sep = months.expected["09"]
    for r in oct_.iter_rows(named=True):
        cid = r["customer_id"]
        before = sep.get(cid)
        expected = (
            None if before is None else float(months.expected["10"][cid].score - before.score)
        )
        assert r["change_30d"] == expected, cid
        assert r["delta"] == expected, cid
    # September has no earlier snapshot.
    assert months.scored("09")["change_30d"].null_count() == ROWS["09"]


def test_change_90d_uses_the_nearest_snapshot_within_45_days(months: Months) -> None:
    # 90 days before 2026-11-01 is 2026-08-03: 2026-09-01 is 29 days from it (within
    # 90 / 2), so November's change_90d is November minus September. For October
    # (target 2026-07-03) September is 60 days off: no reference, all empty.
    nov, sep = months.expected["11"], months.expected["09"]
    got = {r["customer_id"]: r["change_90d"] for r in months.scored("11").iter_rows(named=True)}
    assert got == {c: float(nov[c].score - sep[c].score) if c in sep else None for c in nov}
    assert months.scored("10")["change_90d"].null_count() == ROWS["10"]


def test_snapshots_in_band_counts_consecutive_months(months: Months) -> None:
    newest_first = ("11", "10", "09")
    # From the three scored files, and from the bands computed here from the inputs.
    from_files = [
        dict(months.scored(m).select("customer_id", "band").iter_rows()) for m in newest_first
    ]
    computed = [{c: x.band for c, x in months.expected[m].items()} for m in newest_first]
    assert from_files == computed
    got = dict(months.scored("11").select("customer_id", "snapshots_in_band").iter_rows())
    expected = {cid: streak(cid, from_files) for cid in from_files[0]}
    assert got == expected
    assert set(expected.values()) == {1, 2, 3}
    # A few by name, for the reader: the first customer with each count.
    for count in (1, 2, 3):
        cid = min(c for c, n in expected.items() if n == count)
        history = [m.get(cid) for m in from_files]
        assert got[cid] == count, (cid, history)


# -- alerts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("month", MONTHS)
def test_alerts_file_lines_are_the_fired_pairs(months: Months, month: str) -> None:
    rows = read_alerts(months.tmp / f"alerts_{month}.ndjson")
    pairs = [(r["id"], r["alert"]) for r in rows]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == expected_alerts(months, month)


def test_november_alert_rows_carry_score_delta_and_value(months: Months) -> None:
    scheme = yaml.safe_load(SAAS.read_text(encoding="utf-8"))
    meta = {a["name"]: (a["severity"], a["owner"], a["action"]) for a in scheme["alerts"]}
    nov, oct_ = months.expected["11"], months.expected["10"]
    rows = read_alerts(months.tmp / "alerts_11.ndjson")
    for r in rows:
        c = nov[r["id"]]
        delta = float(c.score - oct_[r["id"]].score) if r["id"] in oct_ else None
        assert list(r) == [
            "id", "alert", "severity", "owner", "action", "score", "band", "delta", "value",
        ]  # fmt: skip
        assert (r["severity"], r["owner"], r["action"]) == meta[r["alert"]]
        assert (r["score"], r["band"], r["delta"], r["value"]) == (
            float(c.score),
            c.band,
            delta,
            c.mrr,
        ), r
    # Per alert, the counts in the printed summary agree with the file.
    summary = json.loads(months.rerun.stdout)
    per_alert = {a["alert"]: a["customers"] for a in summary["alerts"]}
    expected = expected_alerts(months, "11")
    assert per_alert == {a: sum(1 for _, x in expected if x == a) for a in CONDITIONS}


# -- chs history and chs diff on the results ------------------------------------------------------


def test_history_of_one_customer_lists_the_three_dates(months: Months) -> None:
    assert all("C0001" in months.expected[m] for m in MONTHS)
    result = run(CHS, "history", months.history, "C0001")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| id "))
    cells = [c.strip() for c in header.strip("|").split("|")]
    # piped: no sparkline (its block characters are for a terminal), the scores say it
    assert cells == ["id", "2026-09-01", "2026-10-01", "2026-11-01", "band now"]
    row = next(line for line in lines if line.startswith("| C0001 "))
    cells = [c.strip() for c in row.strip("|").split("|")]
    scores = [f"{float(months.expected[m]['C0001'].score):.1f}" for m in MONTHS]
    assert cells == ["C0001", *scores, months.expected["11"]["C0001"].band]
    assert result.stdout.isascii()
    dates = [line.split("|")[1].strip() for line in lines if line.startswith("| 2026-")]
    assert dates == ["2026-09-01", "2026-10-01", "2026-11-01"]


def test_diff_of_october_and_november(months: Months) -> None:
    result = run(
        CHS, "diff", months.tmp / "scored_10.parquet", months.tmp / "scored_11.parquet", "--json"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    diff = json.loads(result.stdout)
    # With polars, from the scored files (and the inputs for who arrived and left).
    oct_ = months.scored("10").select("customer_id", pl.col("score").alias("last"))
    nov = months.scored("11").select("customer_id", pl.col("score").alias("this"))
    both = oct_.join(nov, on="customer_id", how="full", coalesce=True)
    delta = (pl.col("this") - pl.col("last")).round(1)
    counts = both.select(
        (delta > 0).sum().alias("improved"),
        (delta < 0).sum().alias("declined"),
        (delta == 0).sum().alias("stayed"),
        pl.col("last").is_null().sum().alias("arrived"),
        pl.col("this").is_null().sum().alias("left"),
    ).row(0, named=True)
    assert diff["movement"] == counts
    assert counts["arrived"] == len(set(months.expected["11"]) - set(months.expected["10"])) == 12
    assert counts["left"] == len(set(months.expected["10"]) - set(months.expected["11"])) == 8
    assert diff["rows"] == {"last": 396, "this": 400, "common": 388}
