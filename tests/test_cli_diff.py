"""`chs diff` (chs/cli/diff.py): transitions, movement, the per-customer file, --json, raw
and scored CSV inputs, --by. In process through typer's CliRunner (see
tests/test_cli.py): stdout and stderr apart, plain ASCII tables 200 columns wide, no
colour. Every file is written under tmp_path; the repository's sample data is only read.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from support import (
    MINI_LAST,
    MINI_THIS,
    as_json,
    assert_failed,
    invoke,
    leftovers,
    table,
    table_rows,
    write,
)

from chs.actions.diff import diff
from chs.actions.score import ScoreOptions, score
from chs.scheme import load_scheme

ROOT = Path(__file__).resolve().parent.parent
MONTHS = ROOT / "sample_data" / "months"
SCHEMES = ROOT / "schemes"
SAAS = SCHEMES / "saas.yaml"


# -- chs diff --by ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("diff")
    scheme = load_scheme(SAAS)
    a, b = folder / "a.parquet", folder / "b.parquet"
    score(MONTHS / "customers_2026-09.csv", scheme, ScoreOptions(output=a))
    score(MONTHS / "customers_2026-10.csv", scheme, ScoreOptions(output=b))
    return a, b


def test_diff_by_segment(snapshots: tuple[Path, Path]) -> None:
    a, b = snapshots
    result = invoke("diff", a, b, "--by", "segment")
    assert result.exit_code == 0, result.output
    rows = table(result.stdout, "By segment (at risk: red)")
    assert rows[0] == [
        "segment", "customers", "% green", "% orange", "% red", "mean score", "value",
        "value at risk", "mean delta",
    ]  # fmt: skip
    # the roll-up is over this snapshot's customers
    this = pl.read_parquet(b)
    per_segment = this.group_by("segment").len().sort("segment")
    assert [(r[0], int(r[1])) for r in rows[1:]] == per_segment.rows()


def test_diff_by_json_is_diff_files(snapshots: tuple[Path, Path]) -> None:
    a, b = snapshots
    result = invoke("diff", a, b, "--by", "segment", "--json")
    assert result.exit_code == 0, result.output
    expected = diff(a, b, by=[["segment"]])
    assert json.loads(result.stdout) == as_json(expected)
    (rollup,) = expected["rollups"]
    assert rollup["by"] == ["segment"]


# -- chs diff ----------------------------------------------------------------------------------

# Per customer, from the hand computation above; value is this month's mrr, or last
# month's for a customer who left.
DIFF_HEADER = (
    "id,last_score,this_score,delta,last_band,this_band,movement,drivers,last_value,this_value"
)


DIFF_LINES = [
    'C01,95.0,95.0,0.0,good,good,same,"",100.0,110.0',
    'C02,52.5,90.0,37.5,watch,good,up,"",200.0,200.0',
    'C03,10.0,47.5,37.5,risk,watch,up,"",50.0,50.0',
    # logins points 100 -> 0 is C04's only falling signal (nps stays at 20).
    "C04,80.0,5.0,-75.0,good,risk,down,logins 100 -> 0,300.0,300.0",
    'C05,37.5,,,risk,,left,"",10.0,',
    'C06,,62.5,,,watch,new,"",,20.0',
]


# Transitions, customers (value): good->good C01 (110), good->risk C04 (300),
# watch->good C02 (200), risk->watch C03 (50), risk->absent C05 (10), absent->watch C06 (20).
TRANSITIONS = [
    ["last \\ this", "good", "watch", "risk", "(absent)"],
    ["good", "1 (110.00)", "", "1 (300.00)", ""],
    ["watch", "1 (200.00)", "", "", ""],
    ["risk", "", "1 (50.00)", "", "1 (10.00)"],
    ["(absent)", "", "1 (20.00)", "", ""],
]


TRANSITIONS_TITLE = "Band transitions: last (rows) to this (columns), customers (value)"
MOVEMENT = {"improved": 2, "declined": 1, "stayed": 1, "arrived": 1, "left": 1}


def test_diff_prints_transitions_and_movement(
    tmp_path: Path, last_parquet: Path, this_parquet: Path
) -> None:
    out = tmp_path / "out" / "movement.csv"
    result = invoke("diff", last_parquet, this_parquet, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"Compared {last_parquet} (5 customers) with {this_parquet} (5)",
        "2 improved, 1 declined, 1 stayed, 1 arrived, 1 left.",
    ]
    assert table_rows(result.stdout, TRANSITIONS_TITLE) == TRANSITIONS
    assert table_rows(result.stdout, "Biggest drops") == [
        ["id", "last", "this", "delta", "bands", "value", "drivers"],
        ["C04", "80.0", "5.0", "-75.0", "good -> risk", "300.00", "logins 100 -> 0"],
    ]
    assert lines[-1] == f"Per-customer comparison written to {out}"
    written = out.read_text(encoding="utf-8").splitlines()
    assert written[0] == DIFF_HEADER
    assert sorted(written[1:]) == DIFF_LINES
    assert leftovers(tmp_path) == []


def test_diff_json_equals_the_library(
    tmp_path: Path, last_parquet: Path, this_parquet: Path
) -> None:
    out = tmp_path / "movement.parquet"
    result = invoke("diff", last_parquet, this_parquet, "-o", out, "--top", 3, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    cli = json.loads(result.stdout)
    lib = diff(last_parquet, this_parquet, output=out, top=3)
    assert cli == lib
    assert cli["movement"] == MOVEMENT
    assert cli["rows"] == {"last": 5, "this": 5, "common": 4}
    assert cli["last"]["as_of"] == "2026-10-01"
    assert cli["this"]["as_of"] == "2026-11-01"
    assert cli["newly_at_risk"]["count"] == 1
    assert cli["recovered"]["count"] == 1
    frame = pl.read_parquet(out).sort("id")
    # a Parquet output is the joined rows' file itself (written once): same columns
    assert ",".join(frame.columns) == DIFF_HEADER
    assert frame["id"].to_list() == ["C01", "C02", "C03", "C04", "C05", "C06"]
    assert frame["movement"].to_list() == ["same", "up", "up", "down", "left", "new"]
    assert leftovers(tmp_path) == []


def test_diff_raw_files_need_a_scheme(tmp_path: Path, last_csv: Path, this_csv: Path) -> None:
    out = tmp_path / "movement.csv"
    result = invoke("diff", last_csv, this_csv, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {last_csv}: the last snapshot has no score and band columns, so it is a raw "
        "export; give --scheme to score it",
        out,
    )


def test_diff_raw_files_with_a_scheme(
    tmp_path: Path,
    mini_scheme: Path,
    last_csv: Path,
    this_csv: Path,
    last_parquet: Path,
    this_parquet: Path,
) -> None:
    result = invoke("diff", last_csv, this_csv, "-s", mini_scheme)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "2 improved, 1 declined, 1 stayed, 1 arrived, 1 left."
    assert table_rows(result.stdout, TRANSITIONS_TITLE) == TRANSITIONS


def _scored_csv_reordered(
    tmp_path: Path, mini_scheme: Path, last_csv: Path, *, id_first: bool
) -> Path:
    """LAST scored by chs to CSV, then its columns reordered as a spreadsheet might."""
    plain = tmp_path / "last_scored.csv"
    result = invoke("score", last_csv, "-s", mini_scheme, "-o", plain, "--as-of", "2026-10-01")
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(plain, infer_schema=False)
    others = [c for c in reversed(frame.columns) if c != "id"]
    order = ["id", *others] if id_first else [*others, "id"]
    reordered = tmp_path / "last_reordered.csv"
    frame.select(order).write_csv(reordered)
    assert pl.read_csv(reordered, n_rows=0).columns != pl.read_csv(plain, n_rows=0).columns
    return reordered


def _without_paths(result: dict) -> dict:
    return {
        **result,
        "last": {k: v for k, v in result["last"].items() if k != "path"},
        "this": {k: v for k, v in result["this"].items() if k != "path"},
    }


@pytest.mark.parametrize("id_first", [True, False], ids=["id-first", "id-last-with---id"])
def test_diff_scored_csv_in_another_column_order_finds_the_same_movement(
    tmp_path: Path,
    mini_scheme: Path,
    last_csv: Path,
    last_parquet: Path,
    this_parquet: Path,
    id_first: bool,
) -> None:
    reordered = _scored_csv_reordered(tmp_path, mini_scheme, last_csv, id_first=id_first)
    extra = [] if id_first else ["--id", "id"]
    result = invoke("diff", reordered, this_parquet, *extra, "--json")
    assert result.exit_code == 0, result.output
    mixed = json.loads(result.stdout)
    reference = json.loads(invoke("diff", last_parquet, this_parquet, "--json").stdout)
    for key in ("rows", "movement", "bands", "lowest_band", "drift"):
        assert mixed[key] == reference[key], key
    assert mixed["movement"] == MOVEMENT
    assert [(t["from"], t["to"], t["customers"]) for t in mixed["transitions"]] == [
        (t["from"], t["to"], t["customers"]) for t in reference["transitions"]
    ]
    assert [(d["id"], d["delta"]) for d in mixed["biggest_drops"]] == [("C04", -75.0)]


def test_diff_scored_csv_gives_the_same_result_as_parquet(
    tmp_path: Path, mini_scheme: Path, last_csv: Path, last_parquet: Path, this_parquet: Path
) -> None:
    # The whole report, values included: C05 left with mrr 10, so the risk -> (absent)
    # transition is worth 10.00 whichever format the last snapshot is in.
    reordered = _scored_csv_reordered(tmp_path, mini_scheme, last_csv, id_first=True)
    result = invoke("diff", reordered, this_parquet, "--json")
    assert result.exit_code == 0, result.output
    reference = invoke("diff", last_parquet, this_parquet, "--json")
    assert _without_paths(json.loads(result.stdout)) == _without_paths(json.loads(reference.stdout))


def test_diff_scored_csv_keeps_zero_padded_ids(tmp_path: Path, mini_scheme: Path) -> None:
    # Customer numbers such as 0001 are ids, not numbers: a scored CSV must match the
    # same customers in a scored Parquet. Same rows as LAST/THIS with C0x -> 000x.
    last = write(tmp_path / "last.csv", MINI_LAST.replace("C0", "000"))
    this = write(tmp_path / "this.csv", MINI_THIS.replace("C0", "000"))
    last_scored, this_scored = tmp_path / "last_scored.csv", tmp_path / "this_scored.parquet"
    assert invoke("score", last, "-s", mini_scheme, "-o", last_scored).exit_code == 0
    assert invoke("score", this, "-s", mini_scheme, "-o", this_scored).exit_code == 0
    result = invoke("diff", last_scored, this_scored)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "2 improved, 1 declined, 1 stayed, 1 arrived, 1 left."


def test_diff_by_movement_keeps_the_movement_column_in_its_output(
    tmp_path: Path, tiny_scheme: Path
) -> None:
    """Snapshots that carry a `movement` of their own (scored with --previous): a roll-up
    by movement reads the comparison's, and `-o` keeps that column, once."""
    last = write(tmp_path / "last.csv", "id,mrr,x,movement\na,1,80,old\nb,1,30,old\n")
    this = write(tmp_path / "this.csv", "id,mrr,x,movement\na,1,40,old\nb,1,70,old\n")
    out = tmp_path / "movement.csv"
    result = invoke("diff", last, this, "-s", tiny_scheme, "-o", out, "--by", "movement")
    assert result.exit_code == 0, result.output
    written = pl.read_csv(out).sort("id")
    assert written.columns.count("movement") == 1
    assert written.select("id", "movement").rows() == [("a", "down"), ("b", "up")]
