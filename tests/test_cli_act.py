"""CLI tests for acting on the score: `chs explain`, `chs score --by` and several
schemes, `chs report`, `chs diff --by`, and `chs check` on segmented and multi-score
schemes. In process through typer's CliRunner (see tests/test_cli.py): stdout and stderr
apart, plain ASCII tables 200 columns wide.

Expected figures come from arithmetic written next to them or from an independent Polars
computation whose tiers are written out here. Every file is written under a temporary
folder; the repository's sample data is only read.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from support import invoke

from chs.actions.diff import diff_files
from chs.actions.explain import explain_file
from chs.actions.report import report_file
from chs.actions.score import ScoreOptions, score_file
from chs.scheme import load_scheme

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "customers.csv"
MONTHS = ROOT / "sample_data" / "months"
SCHEMES = ROOT / "schemes"
SAAS = SCHEMES / "saas.yaml"


def as_json(data: Any) -> Any:
    """What `--json` prints, read back: the library's result through a JSON round trip."""
    return json.loads(json.dumps(data, ensure_ascii=False))


def table(stdout: str, title: str) -> list[list[str]]:
    """The cells of the ASCII table under `title`: the header row, then the data rows."""
    lines = stdout.splitlines()
    start = lines.index(title)
    rows = []
    for line in lines[start + 2 :]:  # after the title and the top border
        if line.startswith("+"):
            break
        if line.startswith("|-"):
            continue
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def pct(x: float) -> str:
    return f"{x * 100:.1f} %"


def money(x: float) -> str:
    return f"{x:,.2f}"


# -- the saas scheme, computed here ------------------------------------------------------------


def tiers(column: str, rules: list[tuple[str, float, float]]) -> pl.Expr:
    """Points from (operator, bound, points) rules tried in order, else 0; null stays null."""
    v = pl.col(column).cast(pl.Float64)
    ops = {">=": v.__ge__, ">": v.__gt__, "<=": v.__le__}
    chain = None
    for op, bound, points in rules:
        cond = ops[op](bound)
        chain = pl.when(cond).then(points) if chain is None else chain.when(cond).then(points)
    assert chain is not None
    return pl.when(v.is_null()).then(None).otherwise(chain.otherwise(0.0)).cast(pl.Float64)


def saas_expected(path: Path = SAMPLE) -> pl.DataFrame:
    """saas.yaml by hand: weights 30/25/20/15/10, missing values redistributed;
    bands green > 70, orange >= 50, red."""
    parts = [
        (tiers("logins_month", [(">=", 40, 100), (">=", 10, 50)]), 30),
        (tiers("premium_adoption_pct", [(">", 70, 100), (">=", 30, 50)]), 25),
        (tiers("critical_tickets_q", [("<=", 1, 100), ("<=", 4, 50)]), 20),
        (tiers("nps", [(">", 30, 100), (">=", 0, 50)]), 15),
        (tiers("usage_growth_yoy_pct", [(">=", 20, 100), (">=", 0, 50)]), 10),
    ]
    num = pl.sum_horizontal([(p * w).fill_null(0.0) for p, w in parts])
    den = pl.sum_horizontal([pl.when(p.is_not_null()).then(w).otherwise(0.0) for p, w in parts])
    score = ((((num / den) * 10) + 0.5).floor() / 10).round(1)  # one decimal, halves up
    band = pl.when(score > 70).then(pl.lit("green")).when(score >= 50).then(pl.lit("orange"))
    return pl.read_csv(path).with_columns(
        score.alias("x_score"), band.otherwise(pl.lit("red")).alias("x_band")
    )


# -- chs explain -------------------------------------------------------------------------------


def test_explain_prints_the_customer_and_what_it_takes() -> None:
    result = invoke("explain", SAMPLE, "C0001", "--scheme", SAAS)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    # C0001: logins 28 (>= 10: 50), premium 57.5 (>= 30: 50), critical 3 (<= 4: 50),
    # nps 4 (>= 0: 50), growth 12 (>= 0: 50): every signal 50 -> 50.0, orange (>= 50).
    # Losses: 30 % x 50 = 15, 25 % x 50 = 12.5, 20 % x 50 = 10 (the top three).
    assert lines[0] == "C0001: score 50.0, band orange, coverage 100.0 %"
    assert lines[1] == "Reasons: logins -15.0; premium_adoption -12.5; critical_tickets -10.0"
    assert table(result.stdout, "Signals") == [
        ["signal", "value", "rule", "points", "weight %", "effective %", "contribution", "lost"],
        ["logins", "28.0", ">= 10", "50.0", "30.0", "30.0", "15.0", "15.0"],
        ["premium_adoption", "57.5", ">= 30", "50.0", "25.0", "25.0", "12.5", "12.5"],
        ["critical_tickets", "3.0", "<= 4", "50.0", "20.0", "20.0", "10.0", "10.0"],
        ["nps", "4.0", ">= 0", "50.0", "15.0", "15.0", "7.5", "7.5"],
        ["usage_growth", "12.0", ">= 0", "50.0", "10.0", "10.0", "5.0", "5.0"],
    ]
    start = lines.index("What it takes (nearest better tier of each signal):")
    # Each signal's next tier gives 100 instead of 50: + weight x 50.
    assert lines[start : start + 7] == [
        "What it takes (nearest better tier of each signal):",
        "  logins 28 -> 40: +15.0 (score 65.0)",
        "  premium_adoption 57.5 -> 70.01: +12.5 (score 62.5)",  # above 70: the next 0.01
        "  critical_tickets 3 -> 1: +10.0 (score 60.0)",
        "  nps 4 -> 31: +7.5 (score 57.5)",  # above 30: the next whole number
        "  usage_growth 12 -> 20: +5.0 (score 55.0)",
        # the best single move gives 65.0, and green needs more than 70
        "No single signal can lift this customer to green.",
    ]


def test_explain_json_is_explain_file() -> None:
    result = invoke("explain", SAMPLE, "C0001", "C0003", "--scheme", SAAS, "--json")
    assert result.exit_code == 0, result.output
    expected = explain_file(SAMPLE, load_scheme(SAAS), ["C0001", "C0003"])
    assert json.loads(result.stdout) == as_json(expected)
    assert [c["id"] for c in expected["customers"]] == ["C0001", "C0003"]
    assert expected["customers"][0]["score"] == 50.0


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (["NOPE"], "no customer 'NOPE' in customer_id"),
        (["C0001", "C9999"], "no customer 'C9999' in customer_id; close ids: C0399, C0299, C0199"),
    ],
)
def test_explain_an_unknown_id(ids: list[str], message: str) -> None:
    result = invoke("explain", SAMPLE, *ids, "--scheme", SAAS)
    assert result.exit_code == 4
    assert result.stderr == f"Error: {SAMPLE}: {message}\n"
    assert result.stdout == ""


# -- chs score --by and several schemes ------------------------------------------------------------


def test_score_by_segment_prints_the_rollup() -> None:
    result = invoke("score", SAMPLE, "--scheme", SAAS, "--by", "segment", "--top", "0")
    assert result.exit_code == 0, result.output
    rows = table(result.stdout, "By segment (at risk: red)")
    assert rows[0] == [
        "segment", "customers", "% green", "% orange", "% red", "mean score", "mrr", "mrr at risk",
    ]  # fmt: skip
    expected = saas_expected()
    want = []
    for seg in ("Enterprise", "Mid-Market", "SMB"):  # sorted
        part = expected.filter(pl.col("segment") == seg)
        n = part.height
        shares = [part.filter(pl.col("x_band") == b).height / n for b in ("green", "orange", "red")]
        at_risk = part.filter(pl.col("x_band") == "red")["mrr"].sum()
        want.append(
            [
                seg,
                str(n),
                *[pct(s) for s in shares],
                f"{round(part['x_score'].mean(), 1):.1f}",
                money(part["mrr"].sum()),
                money(at_risk),
            ]
        )
    assert rows[1:] == want
    assert [r[1] for r in rows[1:]] == ["60", "123", "217"]


def test_score_by_json_is_score_file_with_by() -> None:
    result = invoke("score", SAMPLE, "--scheme", SAAS, "--by", "segment,region+owner", "--json")
    assert result.exit_code == 0, result.output
    expected = score_file(
        SAMPLE, load_scheme(SAAS), ScoreOptions(by=[["segment"], ["region", "owner"]])
    )
    got = json.loads(result.stdout)
    assert got == as_json(expected)
    assert [r["by"] for r in got["rollups"]] == [["segment"], ["region", "owner"]]
    assert sum(g["customers"] for g in got["rollups"][0]["groups"]) == 400


def test_score_by_an_unknown_column(tmp_path: Path) -> None:
    out = tmp_path / "scored.parquet"
    result = invoke("score", SAMPLE, "--scheme", SAAS, "--by", "segmnt", "-o", out)
    assert result.exit_code == 4
    assert (
        result.stderr
        == f"Error: {SAMPLE}: --by column 'segmnt' not found. Did you mean 'segment'?\n"
    )
    assert result.stdout == ""
    assert not out.exists()


def test_score_with_two_schemes_writes_both_and_the_matrix(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    result = invoke(
        "score", SAMPLE, "-s", SAAS, "-s", SCHEMES / "inertia.yaml", "-o", out, "--top", "0"
    )
    assert result.exit_code == 0, result.output
    scored = pl.read_parquet(out)
    assert [c for c in scored.columns if c.startswith("inertia_")] == [
        "inertia_points_integrations", "inertia_points_customisations", "inertia_points_workflows",
        "inertia_score", "inertia_band", "inertia_coverage", "inertia_reasons",
    ]  # fmt: skip
    # inertia by hand for C0001: integrations 5/8 -> 62.5, customisations 9/15 -> 60,
    # workflows 16/25 -> 64: 0.4*62.5 + 0.3*60 + 0.3*64 = 62.2, high (>= 60)
    first = scored.row(0, named=True)
    assert (first["customer_id"], first["inertia_score"], first["inertia_band"]) == (
        "C0001",
        62.2,
        "high",
    )
    # the main score is saas's, as computed here
    check = scored.join(saas_expected(), on="customer_id").filter(
        (pl.col("score") != pl.col("x_score")) | (pl.col("band") != pl.col("x_band"))
    )
    assert check.height == 0
    rows = table(result.stdout, "saas band (rows) x inertia band (columns): customers (value)")
    cells = {
        (r["band"], r["inertia_band"]): f"{r['n']} ({money(r['mrr'])})"
        for r in scored.group_by("band", "inertia_band")
        .agg(pl.len().alias("n"), pl.col("mrr").sum())
        .iter_rows(named=True)
    }
    assert rows == [
        ["saas \\ inertia", "high", "medium", "low"],
        *[
            [b, *[cells.get((b, o), "0 (0.00)") for o in ("high", "medium", "low")]]
            for b in ("green", "orange", "red")
        ],
    ]
    assert sum(int(c.split()[0]) for r in rows[1:] for c in r[1:]) == 400


def test_score_with_two_schemes_of_the_same_name(tmp_path: Path) -> None:
    inertia = SCHEMES / "inertia.yaml"
    result = invoke("score", SAMPLE, "-s", SCHEMES / "health-inertia.yaml", "-s", inertia)
    assert result.exit_code == 2
    assert result.stderr == f"Error: {inertia}: two scores are named 'inertia'; rename one scheme\n"


# -- chs report -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "scored.parquet"
    score_file(SAMPLE, load_scheme(SAAS), ScoreOptions(output=path))
    return path


def test_report_by_owner_and_parent_writes_the_rollups(scored: Path, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    result = invoke("report", scored, "--by", "owner", "--parent", "parent_id", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"Roll-ups of {scored} (bands: green, orange, red)"
    assert result.stdout.splitlines()[-1] == f"Roll-ups written to {out}"
    written = pl.read_csv(out)
    assert written.columns == [
        "by", "group", "customers", "mean_score", "share_green", "share_orange", "share_red",
        "at_risk_share", "value", "value_at_risk", "mean_delta",
    ]  # fmt: skip
    frame = pl.read_parquet(scored)
    per_owner = (
        frame.group_by("owner")
        .agg(pl.len().alias("n"), pl.col("score").mean().alias("mean"), pl.col("mrr").sum())
        .sort("owner")
    )
    assert written["group"].to_list() == per_owner["owner"].to_list()
    assert written["customers"].to_list() == per_owner["n"].to_list()
    assert written["mean_score"].to_list() == [round(m, 1) for m in per_owner["mean"]]
    assert written["value"].to_list() == pytest.approx([round(v, 2) for v in per_owner["mrr"]])
    assert set(written["by"]) == {"owner"}
    assert written["customers"].sum() == 400


def test_report_json_is_report_file(scored: Path) -> None:
    result = invoke("report", scored, "--by", "owner", "--parent", "parent_id", "--json")
    assert result.exit_code == 0, result.output
    expected = report_file(scored, by=[["owner"]], parent="parent_id")
    assert json.loads(result.stdout) == as_json(expected)
    assert expected["value_column"] == "mrr"
    assert expected["at_risk_bands"] == ["red"]
    parents = pl.read_parquet(scored).filter(pl.col("parent_id").is_not_null())
    assert sum(p["children"] for p in expected["parents"]) == parents.height


def test_report_without_by_or_parent(scored: Path) -> None:
    result = invoke("report", scored)
    assert result.exit_code == 2
    assert result.stderr == "Error: give --by COLUMNS, --parent COLUMN, or both\n"
    assert result.stdout == ""


def test_report_on_a_raw_export() -> None:
    result = invoke("report", SAMPLE, "--by", "owner")
    assert result.exit_code == 4
    assert result.stderr == (
        f"Error: {SAMPLE}: not a scored file (no score and band columns); run chs score first\n"
    )


# -- chs diff --by ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("diff")
    scheme = load_scheme(SAAS)
    a, b = folder / "a.parquet", folder / "b.parquet"
    score_file(MONTHS / "customers_2026-09.csv", scheme, ScoreOptions(output=a))
    score_file(MONTHS / "customers_2026-10.csv", scheme, ScoreOptions(output=b))
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
    expected = diff_files(a, b, by=[["segment"]])
    assert json.loads(result.stdout) == as_json(expected)
    (rollup,) = expected["rollups"]
    assert rollup["by"] == ["segment"]


# -- chs check ----------------------------------------------------------------------------------------


def test_check_shows_each_segment() -> None:
    result = invoke("check", SCHEMES / "segments.yaml")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Segment enterprise (when segment = 'Enterprise')" in lines
    assert "Segment smb (every customer left)" in lines
    assert lines.index("Segment enterprise (when segment = 'Enterprise')") < lines.index(
        "Segment smb (every customer left)"
    )
    # each segment's own signal table, with its own shares
    ent = table(result.stdout, "enterprise: Signals (share = effective weight in the score)")
    # (a multi-line rules cell continues on rows whose first cell is empty)
    assert [(r[0], r[3]) for r in ent[1:] if r[0]] == [
        ("logins", "20.0 %"), ("premium_adoption", "30.0 %"), ("critical_tickets", "30.0 %"),
        ("nps", "20.0 %"),
    ]  # fmt: skip


def test_check_data_with_segments_prints_rows_per_segment() -> None:
    result = invoke("check", SCHEMES / "segments.yaml", "--data", SAMPLE)
    assert result.exit_code == 0, result.output
    assert "Rows per segment: enterprise 60, smb 340" in result.stdout.splitlines()


def test_check_shows_the_extra_score() -> None:
    result = invoke("check", SCHEMES / "health-inertia.yaml")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Score inertia (written as inertia_score, inertia_band, ...)" in lines
    assert table(result.stdout, "inertia: bands") == [
        ["band", "range"],
        ["high", "60 <= score <= 100"],
        ["medium", "30 <= score < 60"],
        ["low", "0 <= score < 30"],
    ]


# -- help ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("explain", "Example: chs explain customers.csv C0042 --scheme saas.yaml"),
        (
            "report",
            "Example: chs report scored.parquet --by segment,owner --parent parent_id",
        ),
    ],
)
def test_help_has_an_example(command: str, example: str) -> None:
    # The example is one line, to copy and paste: click rewraps help paragraphs to 80
    # columns at most, so an example longer than that is split in two.
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert example in [line.strip() for line in result.stdout.splitlines()]
