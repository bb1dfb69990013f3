"""`chs calibrate` (chs/calibration.py, chs/actions/calibrate.py): weights fitted to
churn on data where one signal predicts it and the other is noise."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import as_json, assert_failed, invoke, write

from chs.actions.calibrate import calibrate
from chs.calibration import percentages
from chs.scheme import load_scheme

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
    assert got["rows"]["train"] + got["rows"]["holdout"] == 1500
    # the new file keeps the old one's layout and comments, and passes chs check
    text = out.read_text()
    assert (
        f"  a: {{column: a, weight: {int(new['a'])}, linear: [[0, 0], [100, 100]]}}   # the one that matters\n"
        in text
    )
    assert f"    weight: {int(new['b'])}\n" in text
    assert "Weights calibrated by chs calibrate on " in load_scheme(out).description
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
        f"Error: {out}: not written: the new weights rank the holdout worse (AUC "
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


def test_groups_are_not_fitted_yet(tmp_path: Path) -> None:
    scheme = write(
        tmp_path / "g.yaml",
        "name: g\nid: id\ngroups:\n  u:\n    weight: 1\n    signals:\n"
        "      a: {column: a, weight: 1, linear: [[0, 0], [100, 100]]}\n"
        "bands:\n  - {name: a, from: 0}\n",
    )
    data = export(tmp_path / "train.csv", 6, "a", rows=50)
    assert_failed(
        invoke(
            "calibrate", scheme, "--data", data, "--outcome", "churned", "-o", tmp_path / "n.yaml"
        ),
        2,
        f"Error: {scheme}: calibrate fits the weights of a scheme's signals: list; schemes "
        "with groups, segments or extra scores are not fitted yet",
    )


@given(st.dictionaries(st.text(min_size=1, max_size=3), st.floats(0, 1e6), min_size=1, max_size=12))
def test_percentages_are_whole_and_sum_to_100(weights: dict[str, float]) -> None:
    if sum(weights.values()) <= 0:
        return
    shares = percentages(weights)
    assert sum(shares.values()) == 100
    assert all(v >= 0 and isinstance(v, int) for v in shares.values())
