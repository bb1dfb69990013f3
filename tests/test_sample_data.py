"""The shipped sample data: what sample_data/generate.py makes (run again into a
temporary folder and compared file by file), and the shape the churn commands rely on:
a customer in churn.csv is in every snapshot from its first until its churn date and in
none after, a customer who leaves the history has a churn date, and train.csv's
`churned` is churn within 90 days of its snapshot."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import invoke

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
DATES = [dt.date(2026, m, 1) for m in range(4, 12)]  # the history's eight snapshots
TRAIN_DATE = dt.date(2026, 8, 1)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    done = subprocess.run(
        [sys.executable, str(SAMPLE / "generate.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return out


def snapshot(date: dt.date, folder: Path = SAMPLE) -> Path:
    return folder / "history" / f"as_of={date.isoformat()}" / "scores.parquet"


def ids_by_date() -> dict[dt.date, set[str]]:
    return {
        d: set(pl.read_parquet(snapshot(d), columns=["customer_id"])["customer_id"]) for d in DATES
    }


def churn_dates() -> dict[str, dt.date]:
    frame = pl.read_csv(
        SAMPLE / "churn.csv", schema={"customer_id": pl.String, "churned_on": pl.Date}
    )
    return dict(frame.iter_rows())


@pytest.mark.parametrize(
    "name",
    [
        "customers.csv",
        "customers_fr.csv",
        "months/customers_2026-09.csv",
        "months/customers_2026-10.csv",
        "months/customers_2026-11.csv",
        "churn.csv",
        "train.csv",
    ],
)
def test_the_shipped_text_files_are_what_the_generator_writes(regenerated: Path, name: str) -> None:
    assert (regenerated / name).read_bytes() == (SAMPLE / name).read_bytes()


def test_the_shipped_parquet_file_is_what_the_generator_writes(regenerated: Path) -> None:
    assert_frame_equal(
        pl.read_parquet(regenerated / "customers.parquet"),
        pl.read_parquet(SAMPLE / "customers.parquet"),
    )


def test_the_shipped_history_is_what_the_generator_scores(regenerated: Path) -> None:
    made = sorted(
        p.relative_to(regenerated) for p in (regenerated / "history").rglob("*") if p.is_file()
    )
    shipped = sorted(p.relative_to(SAMPLE) for p in (SAMPLE / "history").rglob("*") if p.is_file())
    assert made == shipped == [snapshot(d, Path(".")) for d in DATES]
    for date in DATES:
        ours, theirs = snapshot(date, regenerated), snapshot(date, SAMPLE)
        assert_frame_equal(pl.read_parquet(ours), pl.read_parquet(theirs))  # row by row
        info = json.loads(pl.read_parquet_metadata(theirs)["chs"])
        assert json.loads(pl.read_parquet_metadata(ours)["chs"]) == info
        assert (info["scheme"], info["as_of"]) == ("saas", date.isoformat())


def test_a_churned_customer_is_in_every_snapshot_until_its_churn_date_and_in_none_after() -> None:
    present, churned = ids_by_date(), churn_dates()
    assert churned  # some churned, or this would prove nothing
    for customer, day in churned.items():
        seen = [d for d in DATES if customer in present[d]]
        assert seen, customer  # a scored customer
        first, last = seen[0], seen[-1]
        # every snapshot from its first to the last before its churn date, none after
        assert seen == [d for d in DATES if first <= d < day], customer
        # and it churned within the month after that last snapshot
        following = DATES[DATES.index(last) + 1]
        assert last < day <= following, customer


def test_a_customer_who_leaves_the_history_has_a_churn_date() -> None:
    present, churned = ids_by_date(), churn_dates()
    for before, after in pairwise(DATES):
        gone = present[before] - present[after]
        assert gone, before  # customers churn every month
        assert gone <= set(churned), before
        assert all(before < churned[c] <= after for c in gone), before
    # and nobody in the last snapshot has churned
    assert not present[DATES[-1]] & set(churned)


def test_train_csv_is_the_august_snapshot_with_churn_within_90_days() -> None:
    train = pl.read_csv(SAMPLE / "train.csv", infer_schema=False)
    august = pl.read_parquet(snapshot(TRAIN_DATE))
    assert train["customer_id"].to_list() == august["customer_id"].to_list()
    assert train.columns[:-1] == august.columns[: len(train.columns) - 1]
    assert train.columns[-1] == "churned"
    end = TRAIN_DATE + dt.timedelta(90)
    soon = {c for c, d in churn_dates().items() if TRAIN_DATE < d <= end}
    expected = ["yes" if c in soon else "no" for c in train["customer_id"]]
    assert train["churned"].to_list() == expected
    assert 50 <= expected.count("yes") <= 150  # enough churners to calibrate on


# -- the README's examples on the shipped history are what chs prints -------------------------


def readme_block(command: str) -> list[str]:
    """The lines a README example shows after `$ COMMAND`, up to the end of its block."""
    lines = (REPO / "README.md").read_text().splitlines()
    start = lines.index(f"$ {command}") + 1
    return lines[start : lines.index("```", start)]


@pytest.mark.parametrize(
    "command",
    [
        "chs backtest --history sample_data/history --outcomes sample_data/churn.csv --horizon 90d",
        "chs forecast --history sample_data/history --months 12 --what-if red:green=10%",
    ],
)
def test_the_readme_examples_on_the_history_are_what_chs_prints(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    result = invoke(*command.split()[1:])
    assert result.exit_code == 0, result.output
    # the warnings (stderr) come first on a terminal, then the report
    assert result.stderr.splitlines() + result.stdout.splitlines() == readme_block(command)
