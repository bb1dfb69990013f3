"""CLI tests for the month-over-month features: `score --previous/--history/--as-of/--alerts
/--exit-code`, `chs diff` and `chs history`, in process through typer's CliRunner.

Every expected value below is computed by hand from the tiny files in this module (the
comments show the arithmetic); none is copied from chs output. Every file is written
under tmp_path.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from support import (
    MINI_LAST,
    MINI_SCHEME,
    MINI_THIS,
    assert_failed,
    invoke,
    leftovers,
    table_rows,
    write,
)

from chs.actions.diff import diff_files
from chs.actions.history import history_report
from chs.actions.score import ScoreOptions, score_file
from chs.scheme import load_scheme

THIS_IDS = ["C01", "C02", "C03", "C04", "C06"]


THIS_SCORES = [95.0, 90.0, 47.5, 5.0, 62.5]


PREVIOUS_SCORES = [95.0, 52.5, 10.0, 80.0, None]


DELTAS = [0.0, 37.5, 37.5, -75.0, None]


PREVIOUS_BANDS = ["good", "watch", "risk", "good", None]


MOVEMENTS = ["same", "up", "up", "down", "new"]


# Alerts with a previous snapshot: low (score < 40): C04 (5.0); falling (delta < -20):
# C04 (-75.0); newcomer (movement = 'new'): C06.
ALERT_ROWS = [
    {
        "id": "C04", "alert": "low", "severity": "critical", "owner": "CSM",
        "action": "Call now", "score": 5.0, "band": "risk", "delta": -75.0, "value": 300.0,
    },
    {
        "id": "C04", "alert": "falling", "severity": "high", "owner": None,
        "action": "Send an email", "score": 5.0, "band": "risk", "delta": -75.0, "value": 300.0,
    },
    {
        "id": "C06", "alert": "newcomer", "severity": "low", "owner": "Onboarding",
        "action": "Welcome call", "score": 62.5, "band": "watch", "delta": None, "value": 20.0,
    },
]  # fmt: skip


ALERT_COLUMNS = ["id", "alert", "severity", "owner", "action", "score", "band", "delta", "value"]


# C01 95.0 and C02 52.5: nothing under 40; without a previous snapshot, falling and
# newcomer cannot fire. No alert fires.
QUIET = "id,logins,nps,mrr\nC01,12,8,100\nC02,7,6,200\n"


def variant(old: str, new: str) -> str:
    """SCHEME with one exact edit (the edit must match once, so line numbers stay known)."""
    assert MINI_SCHEME.count(old) == 1, old
    return MINI_SCHEME.replace(old, new)


def line_of(text: str, fragment: str) -> int:
    """1-based line number of the only line of `text` containing `fragment`."""
    hits = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(hits) == 1, fragment
    return hits[0]


# -- score --previous -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["scored-parquet", "raw-csv"])
def test_previous_adds_delta_and_movement(
    tmp_path: Path, mini_scheme: Path, this_csv: Path, last_csv: Path, last_parquet: Path, kind: str
) -> None:
    previous = last_parquet if kind == "scored-parquet" else last_csv
    out = tmp_path / "out" / "scored.parquet"
    result = invoke("score", this_csv, "-s", mini_scheme, "--previous", previous, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    frame = pl.read_parquet(out)
    assert frame.columns[-5:] == ["previous_score", "delta", "previous_band", "movement", "alerts"]
    assert frame["id"].to_list() == THIS_IDS
    assert frame["score"].to_list() == THIS_SCORES
    assert frame["previous_score"].to_list() == PREVIOUS_SCORES
    assert frame["delta"].to_list() == DELTAS
    assert frame["previous_band"].to_list() == PREVIOUS_BANDS
    assert frame["movement"].to_list() == MOVEMENTS
    # The scored previous file is dated (2026-10-01); the raw one is not.
    dated = " (2026-10-01)" if kind == "scored-parquet" else ""
    lines = result.stdout.splitlines()
    assert f"Since {previous}{dated}: 2 up, 1 down, 1 same, 1 new, 1 lost." in lines
    # C05 was in the last snapshot only: 37.5, risk, mrr 10.
    lost = table_rows(result.stdout, "Lost since the previous snapshot: 1 customer, mrr 10.00")
    assert lost == [["id", "last score", "last band", "mrr"], ["C05", "37.5", "risk", "10.0"]]
    assert leftovers(tmp_path) == []


def test_previous_json_equals_the_library(
    tmp_path: Path, mini_scheme: Path, this_csv: Path, last_parquet: Path
) -> None:
    # The summary names its output paths, so the library call writes to the same paths.
    out, alerts = tmp_path / "scored.csv", tmp_path / "alerts.ndjson"
    args = ["--previous", last_parquet, "-o", out, "--alerts", alerts, "--as-of", "2026-11-01"]
    result = invoke("score", this_csv, "-s", mini_scheme, *args, "--top", 2, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    cli = json.loads(result.stdout)
    lib = score_file(
        this_csv,
        load_scheme(mini_scheme),
        ScoreOptions(
            output=out,
            alerts=alerts,
            previous=last_parquet,
            as_of=dt.date(2026, 11, 1),
            top=2,
        ),
    )
    assert cli == lib
    prev = cli["previous"]
    assert prev["path"] == str(last_parquet)
    assert prev["as_of"] == "2026-10-01"
    assert prev["movement"] == {"up": 2, "down": 1, "same": 1, "new": 1}
    assert prev["lost"]["count"] == 1
    assert [r["id"] for r in prev["lost"]["customers"]] == ["C05"]
    # The only fall is C04, 80.0 -> 5.0; it enters the lowest band (risk); C03 leaves it.
    assert [(r["id"], r["delta"]) for r in prev["biggest_drops"]] == [("C04", -75.0)]
    assert [r["id"] for r in prev["into_lowest"]["customers"]] == ["C04"]
    assert [r["id"] for r in prev["out_of_lowest"]["customers"]] == ["C03"]
    assert {a["alert"]: a["customers"] for a in cli["alerts"]} == {
        "low": 1,
        "falling": 1,
        "newcomer": 1,
    }
    # 2026-11-01 - 2026-10-01 = 31 days: the dated previous is the change_30d reference.
    assert cli["trends"] == {"change_30d": "2026-10-01"}


def test_previous_dated_gives_change_30d_equal_to_delta(
    tmp_path: Path, mini_scheme: Path, this_csv: Path, last_parquet: Path
) -> None:
    out = tmp_path / "scored.parquet"
    result = invoke(
        "score", this_csv, "-s", mini_scheme, "--previous", last_parquet, "-o", out,
        "--as-of", "2026-11-01",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    assert frame["change_30d"].to_list() == DELTAS
    # Same band in both snapshots: C01 (good, good) -> 2; the others changed band or are new.
    assert frame["snapshots_in_band"].to_list() == [2, 1, 1, 1, 1]


def test_previous_scored_with_another_scheme_warns(
    tmp_path: Path, mini_scheme: Path, last_csv: Path, this_csv: Path
) -> None:
    other = write(
        tmp_path / "other.yaml",
        variant("    weight: 75\n", "    weight: 70\n").replace("weight: 25\n", "weight: 30\n"),
    )
    previous = tmp_path / "last_other.parquet"
    assert invoke("score", last_csv, "-s", other, "-o", previous).exit_code == 0
    out = tmp_path / "scored.parquet"
    result = invoke("score", this_csv, "-s", mini_scheme, "--previous", previous, "-o", out)
    assert result.exit_code == 0, result.output
    old, new = load_scheme(other).digest, load_scheme(mini_scheme).digest
    assert old != new
    assert result.stderr == (
        f"Warning: {previous} was scored with scheme mini ({old}) and {this_csv} with "
        f"mini ({new}): deltas mix two definitions of health\n"
    )
    assert "Warning" not in result.stdout
    # The deltas are still computed, against the old definition: C04 was
    # 0.70 * 100 + 0.30 * 20 = 76.0 and is now 5.0.
    frame = pl.read_parquet(out)
    assert frame.filter(pl.col("id") == "C04")["delta"].item() == -71.0


def test_previous_without_the_id_column(tmp_path: Path, mini_scheme: Path, this_csv: Path) -> None:
    previous = tmp_path / "previous.parquet"
    pl.DataFrame({"ids": ["C01"], "score": [95.0], "band": ["good"]}).write_parquet(previous)
    out, alerts = tmp_path / "out" / "scored.parquet", tmp_path / "out" / "alerts.csv"
    result = invoke(
        "score", this_csv, "-s", mini_scheme, "--previous", previous, "-o", out, "--alerts", alerts
    )
    assert_failed(
        result,
        4,
        f"Error: {previous}: the previous snapshot has no id column 'id'. "
        "Did you mean 'ids'? Columns in the file: ids, score, band",
        out,
        alerts,
    )


def test_previous_with_no_customer_in_common(
    tmp_path: Path, mini_scheme: Path, this_csv: Path
) -> None:
    previous = write(tmp_path / "other.csv", "id,logins,nps,mrr\nX01,12,8,100\nX02,1,1,1\n")
    out_dir = tmp_path / "out"
    out, alerts, history = out_dir / "scored.parquet", out_dir / "alerts.ndjson", out_dir / "h"
    result = invoke(
        "score", this_csv, "-s", mini_scheme, "--previous", previous, "-o", out, "--alerts", alerts,
        "--history", history, "--as-of", "2026-11-01",
    )  # fmt: skip
    assert_failed(
        result,
        4,
        f"Error: {this_csv} and the previous snapshot {previous} have no customer in common; "
        "are they the same portfolio, with the same id column (id)?",
        out,
        alerts,
    )
    assert not (history / "as_of=2026-11-01" / "scores.parquet").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("as_of", ["2026-13-01", "01/11/2026", "20261101"])
def test_as_of_must_be_yyyy_mm_dd(
    tmp_path: Path, mini_scheme: Path, this_csv: Path, as_of: str
) -> None:
    # 20261101 is an ISO basic-format date that Python's date.fromisoformat accepts; the
    # option and its message ask for YYYY-MM-DD, so it must be refused like the others.
    out, history = tmp_path / "scored.csv", tmp_path / "h"
    result = invoke(
        "score", this_csv, "-s", mini_scheme, "--as-of", as_of, "-o", out, "--history", history
    )
    assert_failed(
        result, 2, f"Error: --as-of must be a date written YYYY-MM-DD (got {as_of!r})", out
    )
    assert not history.exists() or list(history.iterdir()) == []


# -- score --history -------------------------------------------------------------------------


def test_history_with_an_unreadable_snapshot(
    tmp_path: Path, mini_scheme: Path, this_csv: Path
) -> None:
    history = tmp_path / "h"
    bad = history / "as_of=2026-10-01" / "scores.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"these are not parquet bytes\x00\x01\x02")
    out = tmp_path / "out" / "scored.csv"
    result = invoke(
        "score",
        this_csv,
        "-s",
        mini_scheme,
        "--history",
        history,
        "--as-of",
        "2026-11-01",
        "-o",
        out,
    )
    assert result.exit_code == 4, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {bad}: the history snapshot cannot be read: "), lines[0]
    assert not out.exists()
    assert sorted(p.name for p in history.iterdir()) == ["as_of=2026-10-01"]
    assert leftovers(tmp_path) == []


def test_history_stray_file_warns_and_the_run_goes_on(
    tmp_path: Path, mini_scheme: Path, last_csv: Path, this_csv: Path
) -> None:
    history = tmp_path / "h"
    first = invoke(
        "score", last_csv, "-s", mini_scheme, "--history", history, "--as-of", "2026-10-01"
    )
    assert first.exit_code == 0, first.output
    assert first.stderr == ""
    stray = write(history / "README.txt", "monthly scores\n")
    out = tmp_path / "scored.parquet"
    result = invoke(
        "score",
        this_csv,
        "-s",
        mini_scheme,
        "--history",
        history,
        "--as-of",
        "2026-11-01",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {stray}: not a snapshot (as_of=YYYY-MM-DD/scores.parquet); ignored\n"
    )
    lines = result.stdout.splitlines()
    october = history / "as_of=2026-10-01" / "scores.parquet"
    november = history / "as_of=2026-11-01" / "scores.parquet"
    assert f"Since {october} (2026-10-01): 2 up, 1 down, 1 same, 1 new, 1 lost." in lines
    assert f"Snapshot kept in {november}" in lines
    frame = pl.read_parquet(out)
    assert frame["delta"].to_list() == DELTAS
    assert frame["change_30d"].to_list() == DELTAS
    assert sorted(p.name for p in history.iterdir()) == [
        "README.txt",
        "as_of=2026-10-01",
        "as_of=2026-11-01",
    ]
    assert pl.read_parquet(november)["score"].to_list() == THIS_SCORES


# -- alerts -----------------------------------------------------------------------------------


def test_alert_reading_an_unknown_column(tmp_path: Path, this_csv: Path) -> None:
    text = variant('when: "score < 40"', 'when: "scor < 40"')
    scheme = write(tmp_path / "scheme.yaml", text)
    out = tmp_path / "scored.csv"
    result = invoke("score", this_csv, "-s", scheme, "-o", out)
    line = line_of(text, 'when: "scor < 40"')
    assert line == 23
    assert_failed(
        result,
        3,
        f"Error: {scheme}:{line}: alerts[0].when: alert 'low' reads column 'scor', "
        "which the scored rows do not have; did you mean 'score'?",
        out,
    )


def test_alert_with_invalid_sql(tmp_path: Path, this_csv: Path) -> None:
    text = variant('when: "delta < -20"', 'when: "delta <<< -20 AND"')
    scheme = write(tmp_path / "scheme.yaml", text)
    out = tmp_path / "scored.csv"
    result = invoke("score", this_csv, "-s", scheme, "-o", out)
    line = line_of(text, "delta <<<")
    assert line == 28
    assert_failed(
        result,
        3,
        f"Error: {scheme}:{line}: alerts[1].when: not a valid SQL expression: "
        "unable to parse 'delta <<< -20 AND' as Expr",
        out,
    )


@pytest.mark.parametrize("name", ["alerts.ndjson", "alerts.csv"])
def test_alerts_file_has_one_line_per_fired_alert(
    tmp_path: Path, mini_scheme: Path, this_csv: Path, last_parquet: Path, name: str
) -> None:
    alerts = tmp_path / "out" / name
    result = invoke(
        "score", this_csv, "-s", mini_scheme, "--previous", last_parquet, "--alerts", alerts
    )
    assert result.exit_code == 0, result.output
    assert f"Alerts written to {alerts}" in result.stdout.splitlines()
    if name.endswith(".csv"):
        lines = alerts.read_text(encoding="utf-8").splitlines()
        assert lines[0] == ",".join(ALERT_COLUMNS)
        assert len(lines) == 1 + len(ALERT_ROWS)
        frame = pl.read_csv(alerts)
    else:
        lines = alerts.read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(ALERT_ROWS)
        assert [list(json.loads(line)) for line in lines] == [ALERT_COLUMNS] * len(ALERT_ROWS)
        frame = pl.read_ndjson(alerts)
    assert frame.columns == ALERT_COLUMNS
    key = lambda r: (r["id"], r["alert"])  # noqa: E731
    assert sorted(frame.to_dicts(), key=key) == sorted(ALERT_ROWS, key=key)
    alerts_table = table_rows(result.stdout, "Alerts fired")
    assert [row[:3] for row in alerts_table] == [
        ["alert", "severity", "customers"],
        ["low", "critical", "1"],
        ["falling", "high", "1"],
        ["newcomer", "low", "1"],
    ]


def test_exit_code_10_when_an_alert_fired(
    tmp_path: Path, mini_scheme: Path, this_csv: Path, last_parquet: Path
) -> None:
    alerts = tmp_path / "alerts.csv"
    result = invoke(
        "score", this_csv, "-s", mini_scheme, "--previous", last_parquet, "--alerts", alerts,
        "--exit-code",
    )  # fmt: skip
    assert result.exit_code == 10, result.output
    assert result.stderr == ""
    assert len(alerts.read_text().splitlines()) == 1 + len(ALERT_ROWS)
    # Without --exit-code the same run succeeds with 0.
    again = invoke("score", this_csv, "-s", mini_scheme, "--previous", last_parquet)
    assert again.exit_code == 0, again.output


def test_exit_code_0_when_no_alert_fired(tmp_path: Path, mini_scheme: Path) -> None:
    data = write(tmp_path / "quiet.csv", QUIET)
    alerts = tmp_path / "alerts.csv"
    result = invoke("score", data, "-s", mini_scheme, "--alerts", alerts, "--exit-code")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert alerts.read_text().splitlines() == [",".join(ALERT_COLUMNS)]
    alerts_table = table_rows(result.stdout, "Alerts fired")
    assert [row[:3] for row in alerts_table] == [
        ["alert", "severity", "customers"],
        ["low", "critical", "0"],
        ["falling", "high", "needs a previous snapshot"],
        ["newcomer", "low", "needs a previous snapshot"],
    ]


def test_exit_code_keeps_the_error_code(tmp_path: Path, mini_scheme: Path) -> None:
    data = write(tmp_path / "customers.csv", "id,logins,mrr\nC01,3,100\n")
    alerts = tmp_path / "alerts.ndjson"
    result = invoke("score", data, "-s", mini_scheme, "--alerts", alerts, "--exit-code")
    assert_failed(
        result,
        4,
        f"Error: {data}: column 'nps' (signal nps) not found. Columns in the file: id, logins, mrr",
        alerts,
    )


def test_alerts_file_with_a_scheme_without_alerts(tmp_path: Path, this_csv: Path) -> None:
    # A scheme with no alert rules fires nothing: the alerts file is written with its
    # header only (as when rules exist and none fires) and --exit-code gives 0.
    start = MINI_SCHEME.index("alerts:\n")
    scheme = write(tmp_path / "scheme.yaml", MINI_SCHEME[:start])
    alerts = tmp_path / "alerts.csv"
    result = invoke("score", this_csv, "-s", scheme, "--alerts", alerts, "--exit-code")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert alerts.read_text().splitlines() == [",".join(ALERT_COLUMNS)]


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
        ["C04", "80.0", "5.0", "-75.0", "good -> risk", "300.0", "logins 100 -> 0"],
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
    lib = diff_files(last_parquet, this_parquet, output=out, top=3)
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


# -- chs history -------------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path, mini_scheme: Path, last_csv: Path, this_csv: Path) -> Path:
    directory = tmp_path / "h"
    for data, as_of in ((last_csv, "2026-10-01"), (this_csv, "2026-11-01")):
        result = invoke("score", data, "-s", mini_scheme, "--history", directory, "--as-of", as_of)
        assert result.exit_code == 0, result.output
    return directory


PORTFOLIO_TITLE = "Portfolio per snapshot ({})"


# October: 95 + 52.5 + 10 + 80 + 37.5 = 275 / 5 = 55.0; good 2, watch 1, risk 2.
# November: 95 + 90 + 47.5 + 5 + 62.5 = 300 / 5 = 60.0; good 2, watch 2, risk 1.
PORTFOLIO = [
    ["as of", "customers", "mean score", "good", "watch", "risk"],
    ["2026-10-01", "5", "55.0", "2", "1", "2"],
    ["2026-11-01", "5", "60.0", "2", "2", "1"],
]


def test_history_portfolio_and_biggest_falls(history: Path) -> None:
    result = invoke("history", history)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert table_rows(result.stdout, PORTFOLIO_TITLE.format(history)) == PORTFOLIO
    # Customers in both snapshots: C04 -75, C01 0, C02 +37.5, C03 +37.5; only a fall is
    # listed, so C04 alone. Trend: one of ▁▂▃▄▅▆▇█ per score, index int(score / 100 * 8):
    # 80 -> 6 ▇, 5 -> 0 ▁.
    assert table_rows(result.stdout, "Scores over time") == [
        ["id", "trend", "2026-10-01", "2026-11-01", "band now"],
        ["C04", "▇▁", "80.0", "5.0", "risk"],
    ]


def test_history_of_given_customers(history: Path) -> None:
    result = invoke("history", history, "C06", "C05")
    assert result.exit_code == 0, result.output
    assert table_rows(result.stdout, PORTFOLIO_TITLE.format(history)) == PORTFOLIO
    # C06 arrived in November (62.5 -> index 5 ▆); C05 left after October (37.5 -> 3 ▄).
    assert table_rows(result.stdout, "Scores over time") == [
        ["id", "trend", "2026-10-01", "2026-11-01", "band now"],
        ["C06", "▆", "", "62.5", "watch"],
        ["C05", "▄", "37.5", "", ""],
    ]
    lines = result.stdout.splitlines()
    assert "| C06 |  ▆    |            |       62.5 | watch    |" in lines


def test_history_unknown_id_suggests_close_ids(history: Path) -> None:
    result = invoke("history", history, "C01", "c04")
    assert_failed(result, 4, f"Error: {history}: customer 'c04' is in no snapshot; close ids: C04")


def test_history_of_an_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("history", empty)
    assert_failed(
        result,
        4,
        f"Error: {empty}: no snapshot (as_of=YYYY-MM-DD/scores.parquet) in the history folder",
    )


def test_history_json_equals_the_library(history: Path) -> None:
    result = invoke("history", history, "C01", "C06", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    cli = json.loads(result.stdout)
    assert cli == history_report(history, ["C01", "C06"])
    assert [(s["as_of"], s["customers"], s["mean"]) for s in cli["snapshots"]] == [
        ("2026-10-01", 5, 55.0),
        ("2026-11-01", 5, 60.0),
    ]
    assert [s["bands"] for s in cli["snapshots"]] == [
        {"good": 2, "watch": 1, "risk": 2},
        {"good": 2, "watch": 2, "risk": 1},
    ]
    assert cli["bands"] == ["good", "watch", "risk"]
    assert [(c["id"], c["scores"], c["bands"]) for c in cli["customers"]] == [
        ("C01", [95.0, 95.0], ["good", "good"]),
        ("C06", [None, 62.5], [None, "watch"]),
    ]
