"""`chs calibrate` (chs/calibration.py, chs/actions/calibrate.py): weights fitted to
churn on data where one signal predicts it and the other is noise."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import as_json, assert_failed, invoke, table_rows, write

from chs.actions.calibrate import calibrate
from chs.calibration import level_weights, percentages, tier_direction
from chs.scheme import load_scheme, parse_scheme

SCHEME = """\
name: t
description: two signals
id: id
signals:
  a: {column: a, weight: 50, linear: [[0, 0], [100, 100]]}   # the one that matters
  b:
    column: b
    weight: 50
    linear: [[0, 0], [100, 100]]
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def export(path: Path, seed: int, predictor: str, rows: int = 1500) -> Path:
    """Rows whose churn depends on `predictor` alone: P(churn) = 1 / (1 + e^-(2 - 5x/100))."""
    rng = random.Random(seed)
    lines = ["id,a,b,churned"]
    for i in range(rows):
        a, b = round(rng.uniform(0, 100), 1), round(rng.uniform(0, 100), 1)
        x = a if predictor == "a" else b
        churned = rng.random() < 1 / (1 + math.exp(-(2 - 5 * x / 100)))
        lines.append(f"{predictor}{seed}-{i},{a},{b},{'yes' if churned else 'no'}")
    return write(path, "\n".join(lines) + "\n")


@pytest.fixture
def scheme(tmp_path: Path) -> Path:
    return write(tmp_path / "s.yaml", SCHEME)


def test_the_signal_that_predicts_gets_the_weight(tmp_path: Path, scheme: Path) -> None:
    data, out = export(tmp_path / "train.csv", 1, "a"), tmp_path / "s2.yaml"
    result = invoke("calibrate", scheme, "--data", data, "--outcome", "churned", "-o", out,
                    "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    new = got["new"]["weights"]
    assert sum(new.values()) == 100 and min(new.values()) >= 0
    assert new["a"] >= 90 and new["b"] <= 10
    assert got["new"]["auc_holdout"] > got["old"]["auc_holdout"]
    # no holdout given: 5-fold cross-validation, every row scored once out of its fold
    assert got["rows"]["train"] == got["rows"]["holdout"] == 1500
    assert got["holdout"].startswith("5-fold cross-validation by customer (no holdout given)")
    # the new file keeps the old one's layout and comments, and passes chs check
    text = out.read_text()
    assert (
        f"  a: {{column: a, weight: {int(new['a'])}, linear: [[0, 0], [100, 100]]}}   # the one that matters\n"
        in text
    )
    assert f"    weight: {int(new['b'])}\n" in text
    assert "Weights calibrated by chs calibrate on " in (load_scheme(out).description or "")
    assert invoke("check", out).exit_code == 0


def test_json_is_the_librarys_result(tmp_path: Path, scheme: Path) -> None:
    data = export(tmp_path / "train.csv", 2, "a", rows=400)
    first, second = tmp_path / "one.yaml", tmp_path / "two.yaml"
    printed = invoke("calibrate", scheme, "--data", data, "--outcome", "churned", "-o", first,
                     "--json")  # fmt: skip
    returned = calibrate(scheme, [data], outcome="churned", output=second)
    expected = as_json({**returned, "output": str(first)})
    assert json.loads(printed.stdout) == expected


def test_a_scheme_that_ranks_the_holdout_worse_is_not_written(tmp_path: Path, scheme: Path) -> None:
    # trained where b predicts churn, held out where a does: the new weights favour b
    train, hold = export(tmp_path / "train.csv", 3, "b"), export(tmp_path / "hold.csv", 4, "a")
    out = tmp_path / "s2.yaml"
    result = invoke("calibrate", scheme, "--data", train, "--outcome", "churned", "-o", out,
                    "--holdout", hold)  # fmt: skip
    assert result.exit_code == 4
    assert result.stderr.startswith(
        f"Error: {out}: not written: the new scheme ranks the holdout worse (AUC "
    )
    assert result.stderr.endswith("; --force writes it anyway\n")
    assert not out.exists()
    forced = invoke("calibrate", scheme, "--data", train, "--outcome", "churned", "-o", out,
                    "--holdout", hold, "--force", "--json")  # fmt: skip
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["holdout"] == f"the file {hold}"
    assert out.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("s2.json", "the new scheme is written as YAML: name it .yaml"),
        ("s.yaml", "would overwrite an input; write the new scheme beside it"),
    ],
)
def test_the_output_is_a_new_yaml_file(
    tmp_path: Path, scheme: Path, name: str, message: str
) -> None:
    data = export(tmp_path / "train.csv", 5, "a", rows=50)
    out = tmp_path / name
    assert_failed(
        invoke("calibrate", scheme, "--data", data, "--outcome", "churned", "-o", out),
        5,
        f"Error: {out}: {message}",
    )


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.floats(0, 1e6), min_size=1, max_size=12))
def test_percentages_are_whole_and_sum_to_100(weights: dict[str, float]) -> None:
    if sum(weights.values()) <= 0:
        return
    shares = percentages(weights)
    assert sum(shares.values()) == 100
    assert all(v >= 0 and isinstance(v, int) for v in shares.values())


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.floats(0, 1e3), min_size=1, max_size=6),
    st.integers(1, 3),
)
def test_level_weights_sum_to_100_at_each_level(weights: dict[str, float], groups: int) -> None:
    if sum(weights.values()) <= 0:
        return
    names = sorted(weights)
    grouping = {f"g{i}": names[i::groups] for i in range(groups) if names[i::groups]}
    got = level_weights(weights, grouping)
    top = [w for k, w in got.items() if len(k) == 3]
    assert sum(top) == 100 and len(top) == len(grouping)
    for g, members in grouping.items():
        inner = [got[("groups", g, "signals", n, "weight")] for n in members]
        assert sum(inner) == 100 and min(inner) >= 1


GROUPED = """\
name: g
id: id
groups:
  usage:   # a and b
    weight: 50
    signals:
      a: {column: a, weight: 50, linear: [[0, 0], [100, 100]]}
      b: {column: b, weight: 50, linear: [[0, 0], [100, 100]]}
  other:
    weight: 50
    signals:
      c: {column: b, weight: 100, linear: [[0, 0], [100, 100]]}   # b again: noise
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def test_groups_get_weights_at_both_levels(tmp_path: Path) -> None:
    # churn depends on a alone: its group takes the weight, and a takes it within the group
    scheme, out = write(tmp_path / "g.yaml", GROUPED), tmp_path / "g2.yaml"
    data = export(tmp_path / "train.csv", 7, "a")
    got = calibrate(scheme, [data], outcome="churned", output=out)
    new = got["new"]["weights"]
    assert new["usage"] + new["other"] == 100 and new["usage"] >= 85
    assert new["usage.a"] + new["usage.b"] == 100 and new["usage.a"] >= 85
    assert new["other.c"] == 100  # alone in its group
    assert got["old"]["weights"] == {
        "usage": 50, "usage.a": 50, "usage.b": 50, "other": 50, "other.c": 100,
    }  # fmt: skip
    written = load_scheme(out)
    assert written.groups is not None and written.groups["usage"].weight == new["usage"]
    assert "  usage:   # a and b\n" in out.read_text()


SEGMENTED = """\
name: s
id: id
segments:
  - name: first
    when: "id LIKE 'a%'"
    signals:
      a: {column: a, weight: 50, linear: [[0, 0], [100, 100]]}
      b: {column: b, weight: 50, linear: [[0, 0], [100, 100]]}
  - name: rest
    signals:
      a: {column: a, weight: 50, linear: [[0, 0], [100, 100]]}
      b: {column: b, weight: 50, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def test_each_segment_is_fitted_on_its_own_rows(tmp_path: Path) -> None:
    # ids a7-… churn by a, ids b8-… by b: each segment learns its own signal
    scheme = write(tmp_path / "s.yaml", SEGMENTED)
    first, rest = export(tmp_path / "a.csv", 7, "a"), export(tmp_path / "b.csv", 8, "b")
    got = calibrate(scheme, [first, rest], outcome="churned", output=tmp_path / "s2.yaml")
    new = got["new"]["weights"]
    assert new["first.a"] >= 85 and new["rest.b"] >= 85
    assert new["first.a"] + new["first.b"] == new["rest.a"] + new["rest.b"] == 100
    segments = load_scheme(tmp_path / "s2.yaml").segments
    assert segments is not None and segments[0].signals is not None
    assert segments[0].signals["a"].weight == new["first.a"]


TIERED = """\
name: t
id: id
signals:
  x:
    column: x
    weight: 100
    points:
      - {at_least: 60, points: 100}
      - {at_least: 30, points: 100}   # the same points as the tier above
      - {points: 0}
  plan:
    column: plan
    weight: 1
    map: {a: 0, "b": 50, c: 100}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def tiered_export(path: Path, churned: tuple[int, int, int]) -> Path:
    """100 rows per tier of x (70, 40, 10), and of plan (a, b, c), with the churners
    first: the tier of x and the plan churn alike."""
    lines = ["id,x,plan,churned"]
    for tier, (x, plan) in enumerate(((70, "a"), (40, "b"), (10, "c"))):
        for i in range(100):
            lines.append(f"{x}-{i},{x},{plan},{'yes' if i < churned[tier] else 'no'}")
    return write(path, "\n".join(lines) + "\n")


def test_fit_points_sets_each_tiers_points_from_its_churn_rate(tmp_path: Path) -> None:
    # churn 10, 30, 50 in 100 per tier; overall 90/300 = 0.3. Each rate is shrunk to the
    # average by 20 rows: (10 + 20 * 0.3) / 120 = 16/120, 36/120, 56/120; scaled, the
    # least churning tier 100, the most 0: 100, 100 * (56 - 36) / (56 - 16) = 50, 0.
    # The plan's categories churn alike: a 100, b 50, c 0 (a map has no order).
    scheme = write(tmp_path / "t.yaml", TIERED)
    data, out = tiered_export(tmp_path / "d.csv", (10, 30, 50)), tmp_path / "t2.yaml"
    got = calibrate(scheme, [data], outcome="churned", output=out, fit="points")
    assert [(p["signal"], p["tier"], p["customers"], p["churned"], p["churn_rate"], p["old"],
             p["new"]) for p in got["points"]] == [
        ("x", ">= 60", 100, 10, 0.1, 100, 100),
        ("x", ">= 30", 100, 30, 0.3, 100, 50),
        ("x", "any other value", 100, 50, 0.5, 0, 0),
        ("plan", "a", 100, 10, 0.1, 0, 100),
        ("plan", "b", 100, 30, 0.3, 50, 50),
        ("plan", "c", 100, 50, 0.5, 100, 0),
    ]  # fmt: skip
    text = out.read_text()
    assert "      - {at_least: 30, points: 50}   # the same points as the tier above\n" in text
    assert '    map: {a: 100, "b": 50, c: 0}\n' in text
    assert "Weights and points calibrated by chs calibrate" in text
    assert invoke("check", out).exit_code == 0


def test_ordered_tiers_stay_monotone(tmp_path: Path) -> None:
    # churn 10, 50, 30: the middle tier churns more than the last, but tiers ordered by
    # their bounds keep their order: isotonic regression pools them, (56 + 36) / 2 =
    # 46/120 each; scaled: 100, 0, 0. The map's categories are not pooled: 100, 0, 50.
    scheme = write(tmp_path / "t.yaml", TIERED)
    data = tiered_export(tmp_path / "d.csv", (10, 50, 30))
    got = calibrate(scheme, [data], outcome="churned", output=tmp_path / "t2.yaml", fit="points",
                    force=True)  # fmt: skip
    assert [p["new"] for p in got["points"]] == [100, 0, 0, 100, 0, 50]


@pytest.mark.parametrize(
    ("tiers", "direction"),
    [
        ("[{at_least: 60, points: 100}, {at_least: 30, points: 50}, {points: 0}]", 1),
        ("[{at_most: 1, points: 100}, {at_most: 4, points: 50}, {points: 0}]", 1),
        ("[{below: 10, points: 0}, {below: 20, points: 50}, {points: 100}]", -1),
        ("[{at_least: 30, points: 50}, {at_least: 60, points: 100}, {points: 0}]", None),
        ("[{at_least: 10, at_most: 20, points: 100}, {points: 0}]", None),
        ("[{at_least: 60, points: 50}, {at_least: 30, points: 100}, {points: 50}]", None),
    ],
)
def test_tiers_are_ordered_when_their_bounds_are(tiers: str, direction: int | None) -> None:
    scheme = parse_scheme(
        f"name: t\nid: id\nsignals:\n  x: {{column: x, weight: 1, points: {tiers}}}\n"
        "bands: [{name: a, from: 0}]\n"
    )
    assert tier_direction(scheme.flat_signals()[0].signal) == direction


DATES = ["2026-01-01", "2026-04-01", "2026-05-01", "2026-07-01"]


def history(tmp_path: Path, scheme: Path) -> tuple[Path, Path, dict[str, dt.date | None]]:
    """Four snapshots scored into a history folder, and churn dates: 600 customers with a
    at random, churning (more when a is low) on a day of 2026-01-02..2026-09-30, absent
    from the snapshots after. One, C0, churned on 2026-03-15 yet is still in the April
    export: a snapshot on t counts only customers not churned by t."""
    rng = random.Random(11)
    a = {f"C{i}": round(rng.uniform(0, 100), 1) for i in range(600)}
    churn = {
        c: dt.date(2026, 1, 2) + dt.timedelta(days=rng.randrange(272))
        if rng.random() < 1 / (1 + math.exp(-(1 - 4 * x / 100)))
        else None
        for c, x in a.items()
    }
    churn["C0"] = dt.date(2026, 3, 15)
    folder = tmp_path / "history"
    for day in DATES:
        t = dt.date.fromisoformat(day)
        there = [
            c for c in a if churn[c] is None or churn[c] > t or (c == "C0" and day <= "2026-04-01")
        ]
        raw = write(tmp_path / f"raw-{day}.csv", "id,a,b\n" + "".join(
            f"{c},{a[c]},{round(rng.uniform(0, 100), 1)}\n" for c in there))  # fmt: skip
        result = invoke("score", raw, "--scheme", scheme, "--history", folder, "--as-of", day,
                        "-o", tmp_path / f"scored-{day}.csv")  # fmt: skip
        assert result.exit_code == 0, result.output
    outcomes = write(tmp_path / "churn.csv", "id,churned_on\n" + "".join(
        f"{c},{d.isoformat() if d else ''}\n" for c, d in churn.items()))  # fmt: skip
    return folder, outcomes, churn


def expected(churn: dict[str, dt.date | None], days: list[str]) -> tuple[int, int]:
    """Rows and churners of the snapshots taken on `days`, by the leakage rules: a
    customer counts when not churned by t, and churned when it churned within (t, t+90]."""
    rows = churners = 0
    for day in days:
        t = dt.date.fromisoformat(day)
        for d in churn.values():
            if d is None or d > t:
                rows += 1
                churners += d is not None and d <= t + dt.timedelta(days=90)
    return rows, churners


def test_a_history_folder_trains_on_what_was_known_before_the_latest_snapshot(
    tmp_path: Path, scheme: Path
) -> None:
    folder, outcomes, churn = history(tmp_path, scheme)
    got = calibrate(scheme, history=folder, outcomes=outcomes, output=tmp_path / "s2.yaml",
                    observed_until=dt.date(2026, 10, 1))  # fmt: skip
    # holdout: the latest snapshot; training: those whose 90-day horizon ends by it
    # (January, April); May's horizon ends on July 30, after it
    assert got["holdout"] == (
        "the latest snapshot, 2026-07-01 (a time split: no holdout given); trained on the "
        "snapshots whose 90-day horizon ends by it"
    )
    assert [(s["as_of"], s["role"], s["reason"]) for s in got["snapshots"]] == [
        ("2026-01-01", "train", None),
        ("2026-04-01", "train", None),
        ("2026-05-01", None, "its horizon ends after the holdout's date: training on it would look ahead"),
        ("2026-07-01", "holdout", None),
    ]  # fmt: skip
    train, hold = expected(churn, DATES[:2]), expected(churn, DATES[3:])
    assert got["rows"] == {"train": train[0], "train_churned": train[1],
                           "holdout": hold[0], "holdout_churned": hold[1]}  # fmt: skip
    assert got["new"]["weights"]["a"] >= 85


def test_holdout_after_a_date(tmp_path: Path, scheme: Path) -> None:
    folder, outcomes, churn = history(tmp_path, scheme)
    out = tmp_path / "s2.yaml"
    got = calibrate(scheme, history=folder, outcomes=outcomes, output=out, force=True,
                    observed_until=dt.date(2026, 10, 1), holdout_after=dt.date(2026, 4, 15))  # fmt: skip
    assert [s["role"] for s in got["snapshots"]] == ["train", None, "holdout", "holdout"]
    train, hold = expected(churn, DATES[:1]), expected(churn, DATES[2:])
    assert (got["rows"]["train"], got["rows"]["holdout"]) == (train[0], hold[0])
    # a date that leaves nothing to train on is one line, exit 4
    assert_failed(
        invoke(
            "calibrate",
            scheme,
            "--history",
            folder,
            "--outcomes",
            outcomes,
            "-o",
            out,
            "--observed-until",
            "2026-10-01",
            "--holdout-after",
            "2026-02-01",
        ),
        4,
        "Error: the holdout date 2026-02-01 leaves no snapshot to train on or to hold out",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "churned"], "give the data: raw exports with an outcome, or a history folder"),
        (["--data", "d.csv"], "give the outcome: a yes/no column of the data, or an outcomes file"),
        (["--data", "d.csv", "--outcome", "c", "--holdout", "h.csv", "--holdout-after", "2026-01-01"],
         "give a holdout file or a holdout date, not both"),
        (["--data", "d.csv", "--outcome", "c", "--holdout-after", "2026-01-01"],
         "a holdout date needs snapshots with dates: give a history folder"),
        (["--data", "d.csv", "--outcome", "c", "--fit", "tiers"], "--fit is weights or points (got 'tiers')"),
        (["--data", "d.csv", "--outcome", "c", "--holdout-after", "2026-1-1"],
         "--holdout-after must be a date written YYYY-MM-DD (got '2026-1-1')"),
    ],
)  # fmt: skip
def test_options_that_do_not_go_together(
    tmp_path: Path, scheme: Path, args: list[str], message: str
) -> None:
    assert_failed(
        invoke("calibrate", scheme, "-o", tmp_path / "n.yaml", *args), 2, f"Error: {message}"
    )


def test_churn_dates_need_dated_snapshots(tmp_path: Path, scheme: Path) -> None:
    data = export(tmp_path / "d.csv", 9, "a", rows=20)
    outcomes = write(tmp_path / "churn.csv", "id,churned_on\na9-1,2026-01-05\n")
    assert_failed(
        invoke(
            "calibrate", scheme, "--data", data, "--outcomes", outcomes, "-o", tmp_path / "n.yaml"
        ),
        4,
        f"Error: {data}: a raw export has no date, which churn dates need: give a history "
        "folder, or a yes/no outcome",
    )


def test_the_report_shows_tiers_bands_and_snapshots(tmp_path: Path, scheme: Path) -> None:
    tiered = write(tmp_path / "t.yaml", TIERED)
    data = tiered_export(tmp_path / "d.csv", (10, 30, 50))
    shown = invoke("calibrate", tiered, "--data", data, "--outcome", "churned", "--fit", "points",
                   "-o", tmp_path / "t2.yaml")  # fmt: skip
    assert shown.exit_code == 0, shown.output
    assert table_rows(shown.stdout, "Points by tier (training rows)")[:3] == [
        ["signal", "tier", "customers", "churn rate", "old", "new"],
        ["x", ">= 60", "100", "10.0 %", "100.0", "100.0"],
        ["x", ">= 30", "100", "30.0 %", "100.0", "50.0"],
    ]
    # old scores: (100 * 100 + 1 * 0) / 101 = 99.0 (x 70, plan a), 99.5 (x 40, b), 0.99
    # (x 10, c): high holds 200 rows, 40 churners; low 100 rows, 50 churners. The new
    # scores come from five folds' fits, so only their count is certain.
    bands = table_rows(shown.stdout, "Holdout churn by band")
    assert [row[:3] for row in bands] == [
        ["band", "old customers", "old churn"],
        ["high", "200", "20.0 %"],
        ["low", "100", "50.0 %"],
    ]
    assert int(bands[1][3]) + int(bands[2][3]) == 300
    folder, outcomes, _ = history(tmp_path, scheme)
    dated = invoke("calibrate", scheme, "--history", folder, "--outcomes", outcomes,
                   "--observed-until", "2026-10-01", "-o", tmp_path / "s2.yaml")  # fmt: skip
    assert dated.exit_code == 0, dated.output
    assert dated.stdout.splitlines()[1] == (
        "Snapshots: trained on 2026-01-01, 2026-04-01; held out 2026-07-01; left out "
        "2026-05-01 (its horizon ends after the holdout's date: training on it would look ahead)"
    )


def test_a_yes_no_outcomes_file_labels_raw_exports(tmp_path: Path, scheme: Path) -> None:
    # the export's own churned column is ignored: the outcomes file says who churned;
    # two of its customers are in no export, which a warning counts
    data = export(tmp_path / "d.csv", 12, "a", rows=300)
    rows = data.read_text().splitlines()[1:]
    flags = "".join(f"{r.split(',')[0]},{r.split(',')[3]}\n" for r in rows)
    outcomes = write(tmp_path / "o.csv", "id,left\n" + flags + "x1,yes\nx2,no\n")
    plain = write(tmp_path / "plain.csv", "id,a,b\n" + "".join(
        ",".join(r.split(",")[:3]) + "\n" for r in rows))  # fmt: skip
    got = calibrate(scheme, [plain], outcomes=outcomes, outcome="left", output=tmp_path / "n.yaml",
                    force=True)  # fmt: skip
    assert got["rows"]["train"] == 300
    assert got["rows"]["train_churned"] == sum(r.endswith(",yes") for r in rows)
    assert got["warnings"][0] == (
        f"{outcomes}: 2 of 302 customers match no scored customer (ids written another "
        "way, or customers not scored)"
    )


def test_data_without_a_churner_is_refused(tmp_path: Path, scheme: Path) -> None:
    data = write(
        tmp_path / "d.csv", "id,a,b,churned\n" + "".join(f"c{i},{i},{i},no\n" for i in range(30))
    )
    assert_failed(
        invoke(
            "calibrate", scheme, "--data", data, "--outcome", "churned", "-o", tmp_path / "n.yaml"
        ),
        4,
        "Error: no churner in the 30 training rows (column 'churned'): nothing to fit the scheme to",
        tmp_path / "n.yaml",
    )
