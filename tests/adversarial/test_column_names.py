"""Column names never collide (hardening issue, section 5): an input column named like a
column chs writes gives way to chs's with a warning, and the run scores right; chs's
working columns have names no export has (`__chs·…`), and one that has such a name is
an error. Before: `row` crashed (DuplicateError), so rescoring chs's own rejects file
always crashed; `reason` gave exit 4 with Polars' `.alias("new_name")` advice; `__key`,
`__ok` and `__score` were silently overwritten with chs's working values."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from support import CLI_SCHEME, assert_failed, invoke, leftovers, write

from chs import ScoreOptions, load_scheme, score

# CLI_SCHEME with one alert. Scores (support.CLI_DATA's arithmetic):
#   C1: logins 12 -> 100, nps 8 -> 80: 95.0 good;  C2: logins 7 -> 50, nps 5 -> 50: 50.0 watch
#   C4: logins 0 -> 0, nps 1 -> 10: 2.5 risk (fires `low`); C3's login `abc` is rejected.
SCHEME = (
    CLI_SCHEME
    + """\
alerts:
  - {name: low, when: "score < 40", action: Call}
"""
)
REJECT = "logins: 'abc' is not a number (column login)"


def data(column: str = "", values: tuple[str, str, str, str] = ("", "", "", "")) -> str:
    """Four customers, with an extra column `column` (first after the id) if given."""
    head = f"id,{column + ',' if column else ''}login,nps,mrr"
    rows = ["C1,12,8,100", "C2,7,5,250.5", "C3,abc,5,80", "C4,0,1,40"]
    if column:
        rows = [r.replace(",", f",{v},", 1) for r, v in zip(rows, values, strict=True)]
    return "\n".join([head, *rows]) + "\n"


@pytest.fixture
def scheme(tmp_path: Path) -> Path:
    return write(tmp_path / "scheme.yaml", SCHEME)


def run(tmp_path: Path, scheme: Path, text: str, *more: object):
    """`chs score` of `text` with --rejects and --output; the result and both files read."""
    source = write(tmp_path / "in.csv", text)
    out, rejects = tmp_path / "out.csv", tmp_path / "rejects.csv"
    result = invoke("score", source, "-s", scheme, "-o", out, "--rejects", rejects, *more)
    assert result.exit_code == 0, result.output
    assert leftovers(tmp_path) == []
    return result, pl.read_csv(out), rejects.read_text()


def test_rescoring_a_rejects_file_written_by_chs_writes_its_own_row_and_reason(tmp_path, scheme):
    # the run that writes the rejects file
    _, _, first = run(tmp_path, scheme, data())
    assert first == f"row,reason,id,login,nps,mrr\n3,{REJECT},C3,abc,5,80.0\n"
    again = write(tmp_path / "again.csv", first)
    out, rejects = tmp_path / "out2.csv", tmp_path / "rejects2.csv"
    result = invoke("score", again, "-s", scheme, "-o", out, "--rejects", rejects)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {again}: input columns row, reason are replaced in the rejected rows by "
        "chs's row number and reason\n"
    )
    assert "Rows: 1 read = 0 scored + 1 rejected" in result.stdout
    # chs's row (1, in this file) and reason, then the input's other columns: no second
    # `row` or `reason`
    assert rejects.read_text() == f"row,reason,id,login,nps,mrr\n1,{REJECT},C3,abc,5,80.0\n"


def test_a_rejects_file_fixed_by_hand_scores_with_its_row_and_reason_as_data(tmp_path, scheme):
    _, _, first = run(tmp_path, scheme, data())
    fixed = write(tmp_path / "fixed.csv", first.replace(",abc,", ",12,"))
    out = tmp_path / "fixed-scored.csv"
    result = invoke("score", fixed, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {fixed}: input columns row, reason are replaced in the rejected rows by "
        "chs's row number and reason\n"
    )
    # C3: logins 12 -> 100, nps 5 -> 50: (300 + 50) / 4 = 87.5, good
    scored = pl.read_csv(out)
    assert scored.select("id", "row", "reason", "score", "band").rows() == [
        ("C3", 3, REJECT, 87.5, "good")
    ]


def test_an_input_column_named_row_stays_data_and_the_rejects_number_the_rows(tmp_path, scheme):
    result, scored, rejects = run(tmp_path, scheme, data("row", ("r1", "r2", "r3", "r4")))
    assert result.stderr == (
        f"Warning: {tmp_path / 'in.csv'}: input columns row are replaced in the rejected rows "
        "by chs's row number and reason\n"
    )
    assert scored.select("id", "row", "score").rows() == [
        ("C1", "r1", 95.0),
        ("C2", "r2", 50.0),
        ("C4", "r4", 2.5),
    ]
    assert rejects == f"row,reason,id,login,nps,mrr\n3,{REJECT},C3,abc,5,80.0\n"


def test_an_input_column_named_reason_stays_data_and_the_rejects_give_chs_reason(tmp_path, scheme):
    result, scored, rejects = run(tmp_path, scheme, data("reason", ("a", "b", "c", "d")))
    assert result.stderr == (
        f"Warning: {tmp_path / 'in.csv'}: input columns reason are replaced in the rejected "
        "rows by chs's row number and reason\n"
    )
    assert scored.select("id", "reason", "score").rows() == [
        ("C1", "a", 95.0),
        ("C2", "b", 50.0),
        ("C4", "d", 2.5),
    ]
    assert rejects == f"row,reason,id,login,nps,mrr\n3,{REJECT},C3,abc,5,80.0\n"


@pytest.mark.parametrize(
    "column",
    ["score", "band", "coverage", "reasons", "scheme", "scheme_hash", "points_logins", "alerts"],
)
def test_an_input_column_named_like_an_output_column_is_replaced_with_a_warning(
    tmp_path, scheme, column
):
    result, scored, rejects = run(tmp_path, scheme, data(column, ("x1", "x2", "x3", "x4")))
    assert result.stderr == (
        f"Warning: {tmp_path / 'in.csv'}: input columns {column} are replaced by the scored "
        "values\n"
    )
    assert scored.columns == [
        "id",
        "login",
        "nps",
        "mrr",
        "points_logins",
        "points_nps",
        "score",
        "band",
        "coverage",
        "reasons",
        "scheme",
        "scheme_hash",
        "alerts",
    ]
    assert scored.select("id", "points_logins", "score", "band", "coverage").rows() == [
        ("C1", 100.0, 95.0, "good", 1.0),
        ("C2", 50.0, 50.0, "watch", 1.0),
        ("C4", 0.0, 2.5, "risk", 1.0),
    ]
    assert scored["reasons"].to_list() == [
        "nps -5.0",
        "logins -37.5; nps -12.5",
        "logins -75.0; nps -22.5",
    ]
    assert scored["alerts"].fill_null("").to_list() == ["", "", "low"]
    assert scored["scheme"].to_list() == ["tiny"] * 3
    assert not any(v in str(scored.rows()) for v in ("x1", "x2", "x4"))
    # the rejected row shows the input as it was, its column included
    assert rejects == f"row,reason,id,{column},login,nps,mrr\n3,{REJECT},C3,x3,abc,5,80.0\n"


def test_the_library_result_lists_the_same_warnings(tmp_path, scheme):
    rows = ["C1,x,1,12,8,100", "C2,x,2,7,5,250.5", "C3,x,3,abc,5,80", "C4,x,4,0,1,40"]
    text = "\n".join(["id,band,row,login,nps,mrr", *rows]) + "\n"
    source = write(tmp_path / "in.csv", text)
    result = score(source, load_scheme(scheme), ScoreOptions(rejects=tmp_path / "r.csv"))
    assert result["warnings"] == [
        f"{source}: input columns band are replaced by the scored values",
        f"{source}: input columns row are replaced in the rejected rows by chs's row number "
        "and reason",
    ]
    assert result["rows"] == {"read": 4, "scored": 3, "rejected": 1}


@pytest.mark.parametrize("column", ["__chs·key", "__chs·ok", "__chs·score", "__alert_·low"])
def test_an_input_column_named_like_a_working_column_is_an_error(tmp_path, scheme, column):
    source = write(tmp_path / "in.csv", data(column, ("1", "2", "3", "4")))
    out = tmp_path / "out.csv"
    result = invoke("score", source, "-s", scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {source}: column {column!r} is named like chs's working columns (which start "
        "with '__chs·' or '__alert_·'); rename it",
        out,
    )


@pytest.mark.parametrize("column", ["__key", "__ok", "__score", "__id", "__v_logins", "__dup"])
def test_columns_named_like_the_old_working_columns_are_carried_as_they_are(
    tmp_path, scheme, column
):
    # these were chs's working names: the input's values were silently overwritten
    result, scored, _ = run(tmp_path, scheme, data(column, ("k1", "k2", "k3", "k4")))
    assert result.stderr == ""
    assert scored.select("id", column, "score").rows() == [
        ("C1", "k1", 95.0),
        ("C2", "k2", 50.0),
        ("C4", "k4", 2.5),
    ]


SEGMENTED = """\
name: seg
id: id
segments:
  - name: big
    when: "mrr > 200"
    signals:
      logins: {column: login, weight: 1, linear: [[0, 0], [10, 100]]}
  - name: rest
    signals:
      logins: {column: login, weight: 1, linear: [[0, 0], [20, 100]]}
bands:
  - {name: ok, from: 0}
"""


def test_an_input_column_named_definition_gives_way_to_the_segment_with_segments(tmp_path):
    scheme = write(tmp_path / "seg.yaml", SEGMENTED)
    text = "id,definition,login,mrr\nC1,mine,10,100\nC2,mine,10,300\n"
    source, out = write(tmp_path / "in.csv", text), tmp_path / "out.csv"
    result = invoke("score", source, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {source}: input columns definition are replaced by the scored values\n"
    )
    # C1 (rest): 10 of 20 -> 50; C2 (big): 10 of 10 -> 100
    assert pl.read_csv(out).select("id", "definition", "score").rows() == [
        ("C1", "rest", 50.0),
        ("C2", "big", 100.0),
    ]


def test_an_input_column_named_definition_is_data_without_segments(tmp_path, scheme):
    result, scored, _ = run(tmp_path, scheme, data("definition", ("d1", "d2", "d3", "d4")))
    assert result.stderr == ""
    assert scored.select("id", "definition").rows() == [("C1", "d1"), ("C2", "d2"), ("C4", "d4")]


def test_an_id_column_named_like_an_output_column_is_a_scheme_error(tmp_path):
    scheme = write(tmp_path / "scheme.yaml", CLI_SCHEME.replace("id: id", "id: score"))
    source = write(tmp_path / "in.csv", data().replace("id,", "score,", 1))
    out = tmp_path / "out.csv"
    result = invoke("score", source, "-s", scheme, "-o", out)
    assert_failed(
        result,
        3,
        f"Error: {scheme}:2: id: the column 'score' is named like a column chs writes; rename "
        "it (in the file and the scheme)",
        out,
    )


MOVEMENT = ("previous_score", "delta", "previous_band", "movement")


def previous_run(tmp_path: Path, scheme: Path):
    """A month with the movement columns typed into the export, scored against the last."""
    last = write(tmp_path / "last.csv", data().replace(",abc,", ",12,"))
    head = f"id,as_of,{','.join(MOVEMENT)},login,nps,mrr"
    rows = ["C1,x,x,x,x,x,7,5,100", "C2,x,x,x,x,x,12,8,250.5", "C4,x,x,x,x,x,0,1,40"]
    source = write(tmp_path / "in.csv", "\n".join([head, *rows]) + "\n")
    out = tmp_path / "out.csv"
    result = invoke(
        "score", source, "-s", scheme, "-o", out, "--previous", last, "--as-of", "2026-01-31"
    )
    assert result.exit_code == 0, result.output
    return source, result, pl.read_csv(out)


def test_input_columns_named_like_the_movement_columns_give_way_to_chs(tmp_path, scheme):
    _, _, scored = previous_run(tmp_path, scheme)
    # last: C1 95.0 good, C2 50.0 watch, C4 2.5 risk; now C1 50.0, C2 95.0, C4 2.5
    assert scored.select("id", "as_of", *MOVEMENT, "score").rows() == [
        ("C1", "2026-01-31", 95.0, -45.0, "good", "down", 50.0),
        ("C2", "2026-01-31", 50.0, 45.0, "watch", "up", 95.0),
        ("C4", "2026-01-31", 2.5, 0.0, "risk", "same", 2.5),
    ]
    assert [c for c in scored.columns if c in ("as_of", *MOVEMENT)] == ["as_of", *MOVEMENT]


def test_input_columns_named_like_the_movement_columns_are_named_in_a_warning(tmp_path, scheme):
    source, result, _ = previous_run(tmp_path, scheme)
    assert result.stderr == (
        f"Warning: {source}: input columns as_of, previous_score, delta, previous_band, "
        "movement are replaced by the scored values\n"
    )


def test_the_alerts_file_holds_chs_columns_whatever_the_input_names(tmp_path, scheme):
    head = "id,alert,severity,owner,action,value,login,nps,mrr"
    text = head + "\nC1,a,b,c,d,e,12,8,100\nC4,a,b,c,d,e,0,1,40\n"
    source, alerts = write(tmp_path / "in.csv", text), tmp_path / "alerts.csv"
    result = invoke("score", source, "-s", scheme, "--alerts", alerts)
    assert result.exit_code == 0, result.output
    assert alerts.read_text() == (
        "id,alert,severity,owner,action,score,band,delta,value\n"
        "C4,low,medium,,Call,2.5,risk,,40.0\n"
    )
