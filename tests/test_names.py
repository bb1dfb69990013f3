"""Names as people write them (`urgent-call`, `at risk`, `Premium Adoption`): the
column names they become (chs.columns.column_part), names that would become one column
(chs.scheme.model.check_column_names), their limits, and `label:` on bands and alerts."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from support import invoke, table_rows, write

from chs.actions.report import report
from chs.actions.score import ScoreOptions, score
from chs.columns import column_part, group_column, points_column
from chs.errors import SchemeError
from chs.scheme import parse_scheme


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("logins", "logins"),
        ("_x", "_x"),
        ("NPS", "NPS"),
        ("urgent-call", "urgent_call"),
        ("at risk", "at_risk"),
        ("Premium Adoption", "Premium_Adoption"),
        ("NPS (0-10)", "NPS_0_10"),
        ("Activité", "Activite"),
        ("2x", "_2x"),
        ("(beta)", "beta"),
        ("使用", ""),
    ],
)
def test_column_part(name, part):
    assert column_part(name) == part


def test_points_and_group_columns():
    assert points_column("Premium Adoption") == "points_Premium_Adoption"
    assert points_column("x-y", "inertia_") == "inertia_points_x_y"
    assert group_column("Voice of customer") == "group_Voice_of_customer"


# Line numbers matter (the error tests name them).
SCHEME = """\
name: people
id: id
value: mrr
groups:
  Product Usage:
    weight: 1
    signals:
      Premium Adoption: {column: adoption, weight: 1, linear: [[0, 0], [100, 100]]}
  Voice of customer:
    weight: 1
    signals:
      NPS (0-10): {column: nps, weight: 1, linear: [[0, 0], [10, 100]]}
scores:
  Inertia Score:
    signals:
      seats-used: {column: adoption, weight: 1, linear: [[0, 0], [100, 100]]}
    bands:
      - {name: stuck, from: 50}
      - {name: free, from: 0}
bands:
  - {name: healthy, from: 50, label: Healthy}
  - {name: at risk, from: 0, label: "At risk!"}
alerts:
  - name: urgent-call
    label: Urgent call
    when: "points_Premium_Adoption < 50"
    action: Call them
"""
# a: adoption 80, nps 9 -> groups 80 and 90, score 85 (healthy);
# b: adoption 20, nps 5 -> 20 and 50, score 35 (at risk), fires urgent-call.
DATA = "id,mrr,adoption,nps\na,100,80,9\nb,50,20,5\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "in.csv", DATA), write(tmp_path / "s.yaml", SCHEME)


def _load(path: Path, text: str | None = None):
    return parse_scheme(text if text is not None else path.read_text(), path)


def test_names_as_written_score_under_safe_columns(files, tmp_path):
    data, scheme_path = files
    out, alerts = tmp_path / "out.csv", tmp_path / "alerts.csv"
    summary = score(data, _load(scheme_path), ScoreOptions(output=out, alerts=alerts))
    got = pl.read_csv(out)
    assert got.columns == [
        "id",
        "mrr",
        "adoption",
        "nps",
        "points_Premium_Adoption",
        "points_NPS_0_10",
        "group_Product_Usage",
        "group_Voice_of_customer",
        "score",
        "band",
        "coverage",
        "reasons",
        "Inertia_Score_points_seats_used",
        "Inertia_Score_score",
        "Inertia_Score_band",
        "Inertia_Score_coverage",
        "Inertia_Score_reasons",
        "scheme",
        "scheme_hash",
        "alerts",
    ]
    assert got.select("score", "band", "reasons", "alerts").rows() == [
        (85.0, "healthy", "Premium Adoption -10.0; NPS (0-10) -5.0", ""),
        (35.0, "at risk", "Premium Adoption -40.0; NPS (0-10) -25.0", "urgent-call"),
    ]
    assert got["Inertia_Score_band"].to_list() == ["stuck", "free"]
    assert [(b["band"], b["label"]) for b in summary["bands"]] == [
        ("healthy", "Healthy"),
        ("at risk", "At risk!"),
    ]
    assert [(a["alert"], a["label"], a["customers"]) for a in summary["alerts"]] == [
        ("urgent-call", "Urgent call", 1)
    ]
    assert pl.read_csv(alerts).select("id", "alert").rows() == [("b", "urgent-call")]
    assert [m["score"] for m in summary["matrices"]] == ["Inertia_Score"]


def test_tables_show_the_labels(files):
    data, scheme_path = files
    result = invoke("score", data, "-s", scheme_path)
    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout, "Customers per band")
    assert [r[0] for r in rows] == ["band", "Healthy", "At risk!"]
    assert table_rows(result.stdout, "Alerts fired")[1][0] == "Urgent call"


def test_report_share_columns_of_band_names(files, tmp_path):
    data, scheme_path = files
    scored, out = tmp_path / "s.parquet", tmp_path / "r.csv"
    score(data, _load(scheme_path), ScoreOptions(output=scored))
    report(scored, by=[["id"]], output=out)
    assert [c for c in pl.read_csv(out).columns if c.startswith("share_")] == [
        "share_healthy",
        "share_at_risk",
    ]


def test_two_signals_that_become_one_column(files):
    _, path = files
    text = SCHEME.replace("NPS (0-10):", "Premium-Adoption:")
    with pytest.raises(SchemeError) as info:
        _load(path, text)
    assert str(info.value) == (
        f"{path}:12: groups.Voice of customer.signals.Premium-Adoption: signals "
        f"'Premium Adoption' ({path}:8) and 'Premium-Adoption' both become the column "
        "points_Premium_Adoption; rename one"
    )
    assert info.value.exit_code == 3


def test_two_groups_and_two_bands_that_become_one_column(files):
    _, path = files
    with pytest.raises(SchemeError) as info:
        _load(path, SCHEME.replace("Voice of customer:", "Product-Usage:"))
    assert str(info.value) == (
        f"{path}:9: groups.Product-Usage: groups 'Product Usage' ({path}:5) and "
        "'Product-Usage' both become the column group_Product_Usage; rename one"
    )
    with pytest.raises(SchemeError) as info:
        _load(path, SCHEME.replace("name: healthy", "name: at-risk"))
    assert str(info.value) == (
        f"{path}:22: bands[1].name: bands 'at-risk' ({path}:21) and 'at risk' both become "
        "the column share_at_risk; rename one"
    )


def test_a_name_with_no_letter_or_digit(files):
    _, path = files
    with pytest.raises(SchemeError) as info:
        _load(path, SCHEME.replace("NPS (0-10):", "'使用':"))
    assert str(info.value) == (
        f"{path}:12: groups.Voice of customer.signals.使用: signal '使用' has no letter or "
        "digit (A-Z, 0-9) to make its column points_…; rename it"
    )


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("name: urgent-call", "name: " + "u" * 101, "24: alerts[0].name"),
        ("label: Urgent call", "label: " + "u" * 101, "25: alerts[0].label"),
        ("Premium Adoption:", "P" * 101 + ":", "8: groups.Product Usage.signals." + "P" * 101),
    ],
)
def test_names_and_labels_are_at_most_100_characters(files, old, new, where):
    _, path = files
    with pytest.raises(SchemeError) as info:
        _load(path, SCHEME.replace(old, new))
    assert str(info.value).startswith(f"{path}:{where}: string should have at most 100 characters")


def test_a_name_with_a_control_character(files):
    _, path = files
    with pytest.raises(SchemeError) as info:
        _load(path, SCHEME.replace("name: urgent-call", 'name: "urgent\\ncall"'))
    assert str(info.value) == (
        f"{path}:24: alerts[0].name: 'urgent\\ncall' is not a valid name: no control "
        "characters (tabs, line breaks), and no space at either end"
    )


def test_labels_leave_the_digest_of_a_scheme_without_them(files):
    _, path = files
    plain = SCHEME.replace(", label: Healthy", "").replace(', label: "At risk!"', "")
    plain = plain.replace("    label: Urgent call\n", "")
    labelled = _load(path).digest
    assert _load(path, plain).digest != labelled
    # a scheme that never had labels keeps the digest it had before labels existed
    assert "label" not in _load(path, plain).model_dump(mode="json")["bands"][0]


EXTRA = """\
name: t
id: id
{main}
scores:
  {extra}:
    signals:
      b: {{column: a, weight: 1, points: [{{points: 50}}]}}
    bands: [{{name: x, from: 0}}]
bands: [{{name: ok, from: 0}}]
"""
SIGNAL = "signals:\n  {name}: {{column: a, weight: 1, points: [{{points: 100}}]}}"
GROUP = (
    "groups:\n  {name}:\n    weight: 1\n    signals:\n"
    "      a: {{column: a, weight: 1, points: [{{points: 100}}]}}"
)


@pytest.mark.parametrize(
    ("main", "extra", "message"),
    [
        # the signal `score` writes points_score, the score `points` its score column
        (SIGNAL.format(name="score"), "points", "signal 'score' (s.yaml:4) and score 'points' both become the column points_score"),
        (GROUP.format(name="score"), "group", "group 'score' (s.yaml:4) and score 'group' both become the column group_score"),
        # the score `points` also writes points_band, points_coverage, points_reasons
        (SIGNAL.format(name="band"), "points", "the score 'points' writes the column points_band, as signal 'band' (s.yaml:4) does"),
        (SIGNAL.format(name="reasons"), "points", "the score 'points' writes the column points_reasons, as signal 'reasons' (s.yaml:4) does"),
    ],
)  # fmt: skip
def test_names_of_two_kinds_that_become_one_column(main: str, extra: str, message: str):
    """Before: an internal error (Polars' duplicate output name) while scoring."""
    with pytest.raises(SchemeError) as info:
        parse_scheme(EXTRA.format(main=main, extra=extra), Path("s.yaml"))
    line = 4 + main.count("\n") + 1  # the `scores.<extra>` key
    assert str(info.value) == f"s.yaml:{line}: scores.{extra}: {message}; rename one"
    assert info.value.exit_code == 3


def test_segments_repeat_a_signal_without_a_clash():
    segment = "  - name: {n}\n    when: \"k = '{n}'\"\n    signals:\n      x: {{column: a, weight: 1, points: [{{points: 1}}]}}\n"
    text = "name: t\nid: id\nsegments:\n" + segment.format(n="p") + segment.format(n="q")
    scheme = parse_scheme(text + "bands: [{name: ok, from: 0}]\n", Path("s.yaml"))
    assert [f.name for f in scheme.flat_signals()] == ["x"]
