"""`chs score` (chs/cli/score.py): outputs, summary and --json; bad data and scheme errors
with their exact messages and exit codes; rejects, atomic outputs, --keep; --by and
several schemes; --previous, --history, --as-of, --alerts and --exit-code. In process
through typer's CliRunner (see tests/test_cli.py): stdout and stderr apart, plain ASCII
tables 200 columns wide, no colour. Every file is written under tmp_path; the
repository's sample data is only read.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import (
    CLI_DATA,
    CLI_DATA_WITH_REJECTS,
    CLI_REJECT_LINES,
    MINI_SCHEME,
    as_json,
    assert_failed,
    cli_variant,
    invoke,
    leftovers,
    mini_variant,
    table,
    table_rows,
    write,
)

from chs.actions.score import ScoreOptions, score
from chs.scheme import load_scheme

REPO = Path(__file__).resolve().parents[1]


SAMPLE_DIR = REPO / "sample_data"


SCHEMES = REPO / "schemes"


IDS = ["C1", "C2", "C3", "C4"]


SCORES = [95.0, 50.0, 100.0, 2.5]


BANDS = ["good", "watch", "good", "risk"]


COVERAGE = [1.0, 1.0, 0.75, 1.0]


BAND_ROWS = [
    "| good  |         2 | 50.0 % | 180.00 |    38.3 % |",
    "| watch |         1 | 25.0 % | 250.50 |    53.2 % |",
    "| risk  |         1 | 25.0 % |  40.00 |     8.5 % |",
]


# -- score: happy path --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "read"),
    [
        ("scored.csv", pl.read_csv),
        ("scored.parquet", pl.read_parquet),
        ("scored.ndjson", pl.read_ndjson),
    ],
)
def test_score_writes_each_format(
    tmp_path: Path, cli_scheme: Path, cli_data: Path, name, read
) -> None:
    out = tmp_path / name
    result = invoke("score", cli_data, "--scheme", cli_scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    frame = read(out)
    assert frame["id"].to_list() == IDS
    assert frame["score"].to_list() == SCORES
    assert frame["band"].to_list() == BANDS
    assert frame["coverage"].to_list() == COVERAGE
    assert frame["points_logins"].to_list() == [100.0, 50.0, 100.0, 0.0]
    assert frame["points_nps"].to_list() == [80.0, 50.0, None, 10.0]
    assert frame["scheme"].to_list() == ["tiny"] * 4
    lines = result.stdout.splitlines()
    digest = load_scheme(cli_scheme).digest
    assert lines[:3] == [
        f"Scored {cli_data} with scheme tiny ({digest})",
        "Rows: 4 read = 4 scored + 0 rejected",
        f"Output: {out}",
    ]
    for row in BAND_ROWS:
        assert row in lines
    assert (
        "Score: mean 61.9, median 72.5, min 2.5, max 100.0. Coverage: mean 93.8 %, 0 customers under 50 %."
        in lines
    )
    assert leftovers(tmp_path) == []


# -- the at-risk list: the at-risk bands only ------------------------------------------------

AT_RISK_HEADER = ["id", "score", "band", "mrr", "coverage", "reasons"]
C4_AT_RISK = ["C4", "2.5", "risk", "40.00", "100.0 %", "logins -75.0; nps -22.5"]
C2_AT_RISK = ["C2", "50.0", "watch", "250.50", "100.0 %", "logins -37.5; nps -12.5"]


def test_the_at_risk_list_holds_no_healthy_customer(cli_scheme: Path, cli_data: Path) -> None:
    # Top 3 listed C4 (risk), C2 (watch) and C1 (good, 95.0) as at risk; only risk, the
    # lowest band, is at risk, as in value at risk
    result = invoke("score", cli_data, "-s", cli_scheme, "--top", 3)
    assert result.exit_code == 0, result.output
    assert "Top 3 at risk" not in result.stdout
    title = "1 customer at risk (fewer than 3)"
    assert table_rows(result.stdout, title) == [AT_RISK_HEADER, C4_AT_RISK]


def test_the_at_risk_list_takes_the_flagged_bands(tmp_path: Path, cli_data: Path) -> None:
    scheme = write(
        tmp_path / "s.yaml",
        cli_variant(
            "  - {name: watch, from: 40, color: yellow}\n",
            "  - {name: watch, from: 40, color: yellow, at_risk: true}\n",
        ).replace("color: red}", "color: red, at_risk: true}"),
    )
    full = invoke("score", cli_data, "-s", scheme, "--top", 2)
    assert full.exit_code == 0, full.output
    assert table_rows(full.stdout, "Top 2 at risk") == [AT_RISK_HEADER, C4_AT_RISK, C2_AT_RISK]
    short = invoke("score", cli_data, "-s", scheme, "--top", 3, "--json")
    data = json.loads(short.stdout)
    assert [r["id"] for r in data["at_risk"]] == ["C4", "C2"]
    assert (data["at_risk_bands"], data["at_risk_top"]) == (["watch", "risk"], 3)


def test_no_customer_at_risk_is_said(tmp_path: Path, cli_scheme: Path) -> None:
    data = write(tmp_path / "c.csv", "id,segment,login,nps,mrr\nC1,SMB,12,8,100\nC2,ENT,7,5,5\n")
    result = invoke("score", data, "-s", cli_scheme)
    assert result.exit_code == 0, result.output
    # C1 95.0 good, C2 50.0 watch: a line says so, and no table lists them
    lines = result.stdout.splitlines()
    assert "No customer at risk (none in risk)." in lines
    assert [line for line in lines if "at risk" in line] == ["No customer at risk (none in risk)."]


def test_top_zero_prints_no_at_risk_list(cli_scheme: Path, cli_data: Path) -> None:
    result = invoke("score", cli_data, "-s", cli_scheme, "--top", 0)
    assert result.exit_code == 0, result.output
    assert "at risk" not in result.stdout


def test_score_without_output_only_prints(tmp_path: Path, cli_scheme: Path, cli_data: Path) -> None:
    result = invoke("score", cli_data, "-s", cli_scheme)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "Rows: 4 read = 4 scored + 0 rejected"
    assert not any(line.startswith("Output:") for line in lines)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "scheme.yaml"]


def test_score_json_equals_the_library(tmp_path: Path, cli_scheme: Path) -> None:
    # The summary names its output paths, so the library call writes to the same paths as
    # the CLI run (it replaces the files with identical content); other paths would differ
    # in "output" and "rejects" only by design.
    data = write(tmp_path / "customers.csv", CLI_DATA_WITH_REJECTS)
    out, rejects = tmp_path / "scored.parquet", tmp_path / "rejects.csv"
    result = invoke(
        "score", data, "-s", cli_scheme, "-o", out, "--rejects", rejects, "--top", 1, "--json"
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    cli = json.loads(result.stdout)
    cli_scored, cli_rejects = pl.read_parquet(out), rejects.read_bytes()

    lib = score(
        str(data), load_scheme(cli_scheme), ScoreOptions(output=out, rejects=rejects, top=1)
    )
    assert cli == lib
    assert cli["rows"] == {"read": 4, "scored": 2, "rejected": 2}
    # C1 (95.0) and C3 (100.0) are both good: nobody is at risk (C1 was listed as such)
    assert (cli["at_risk"], cli["at_risk_bands"], cli["at_risk_top"]) == ([], ["risk"], 1)
    assert cli["rejected_sample"] == [line.strip() for line in CLI_REJECT_LINES]
    assert_frame_equal(pl.read_parquet(out), cli_scored)
    assert rejects.read_bytes() == cli_rejects


# -- bad data -----------------------------------------------------------------------------


def test_missing_column_suggests_the_close_one(tmp_path: Path, out: Path) -> None:
    scheme = write(tmp_path / "scheme.yaml", cli_variant("column: login\n", "column: logins\n"))
    data = write(tmp_path / "customers.csv", "id,login,nps,mrr\nC1,12,8,100\n")
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: column 'logins' (signal logins) not found. "
        "Did you mean 'login'? Columns in the file: id, login, nps, mrr",
        out,
    )


def test_text_in_a_numeric_signal_names_row_and_value(
    tmp_path: Path, cli_scheme: Path, out: Path
) -> None:
    data = write(
        tmp_path / "customers.csv",
        "id,segment,login,nps,mrr\nC1,SMB,12,8,100\nC2,ENT,abc,5,250.5\nC3,SMB,12,,80\n",
    )
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: 1 of 3 rows cannot be scored; nothing was written.\n"
        "  row 2 (C2): logins: 'abc' is not a number (column login)\n"
        "Fix the data, or pass --rejects FILE to write these rows there and score the rest.",
        out,
    )


def test_empty_file(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = write(tmp_path / "customers.csv", "")
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(result, 4, f"Error: {data}: the file is empty", out)


def test_header_only(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = write(tmp_path / "customers.csv", "id,segment,login,nps,mrr\n")
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(result, 4, f"Error: {data}: the file has a header but no data rows", out)


def test_duplicate_ids(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = write(
        tmp_path / "customers.csv",
        "id,segment,login,nps,mrr\nC1,SMB,12,8,100\nC1,ENT,7,5,250.5\nC3,SMB,12,,80\n",
    )
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: 2 of 3 rows cannot be scored; nothing was written.\n"
        "  row 1 (C1): duplicate id 'C1'\n"
        "  row 2 (C1): duplicate id 'C1'\n"
        "Fix the data, or pass --rejects FILE to write these rows there and score the rest.",
        out,
    )


def test_empty_ids(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = write(
        tmp_path / "customers.csv",
        "id,segment,login,nps,mrr\nC1,SMB,12,8,100\n,ENT,7,5,250.5\nC3,SMB,12,,80\n",
    )
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: 1 of 3 rows cannot be scored; nothing was written.\n"
        "  row 2 (no id): empty id\n"
        "Fix the data, or pass --rejects FILE to write these rows there and score the rest.",
        out,
    )


def test_blank_id_is_shown_as_no_id(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    # An id of spaces is rejected as empty, so the message should say "no id" as it does
    # for an empty cell, not print the spaces between the parentheses.
    data = write(
        tmp_path / "customers.csv", "id,segment,login,nps,mrr\nC1,SMB,12,8,100\n  ,ENT,7,5,250.5\n"
    )
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: 1 of 2 rows cannot be scored; nothing was written.\n"
        "  row 2 (no id): empty id\n"
        "Fix the data, or pass --rejects FILE to write these rows there and score the rest.",
        out,
    )


def test_input_not_found(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = tmp_path / "nope.csv"
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(result, 4, f"Error: {data}: file not found", out)


def test_scheme_not_found(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = tmp_path / "nope.yaml"
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert_failed(result, 4, f"Error: {scheme}: scheme file not found", out)


def test_a_broken_workbook_is_named(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = tmp_path / "customers.xlsx"
    data.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: cannot read as an Excel workbook: calamine error: Xlsx error: Zip "
        "error: invalid Zip archive: Could not find EOCD",
        out,
    )


def test_unknown_input_type(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = write(tmp_path / "customers.json", '[{"id": "C1"}]\n')
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: unknown file type .json; "
        "inputs are CSV (.csv, .tsv, .txt, or compressed: .csv.gz, .csv.zst), Parquet "
        "(.parquet) or Excel (.xlsx, .xlsm, .xls, .xlsb)",
        out,
    )


def test_unknown_output_type(tmp_path: Path, cli_scheme: Path, cli_data: Path) -> None:
    out = tmp_path / "scored.xlsx"
    result = invoke("score", cli_data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result, 5, f"Error: {out}: unknown output type .xlsx; use .csv, .parquet or .ndjson", out
    )


def test_output_on_the_input_is_refused(tmp_path: Path, cli_scheme: Path, cli_data: Path) -> None:
    before = cli_data.read_bytes()
    result = invoke("score", cli_data, "-s", cli_scheme, "-o", cli_data)
    assert result.exit_code == 5
    assert (
        result.stderr
        == f"Error: {cli_data}: is an input of this run; inputs are never overwritten\n"
    )
    assert result.stdout == ""
    assert cli_data.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_ragged_row_is_named(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = write(
        tmp_path / "customers.csv",
        "id,segment,login,nps,mrr\nC1,SMB,12,8,100\nC2,ENT,7,5,250.5,extra\nC3,SMB,12,,80\n",
    )
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(result, 4, f"Error: {data}: row 2 has 6 fields but the header has 5", out)


@pytest.mark.parametrize(
    "command",
    [["score"], ["score", "--json"], ["check"]],
    ids=["score-no-output", "score-json", "check-data"],
)
def test_ragged_row_is_named_without_an_output_file(
    tmp_path: Path, cli_scheme: Path, command: list[str]
) -> None:
    # Same file as above; the row is too long whether or not an output is written.
    data = write(
        tmp_path / "customers.csv",
        "id,segment,login,nps,mrr\nC1,SMB,12,8,100\nC2,ENT,7,5,250.5,extra\nC3,SMB,12,,80\n",
    )
    if command[0] == "score":
        result = invoke(*command, data, "-s", cli_scheme)
    else:
        result = invoke("check", cli_scheme, "--data", data)
    assert result.exit_code == 4, result.output
    assert (
        result.stderr.splitlines()[-1] == f"Error: {data}: row 2 has 6 fields but the header has 5"
    )


@pytest.mark.parametrize(
    ("body", "extra", "message"),
    [
        # A row with fields missing (a truncated export, or a line broken by an unquoted
        # newline) is as ragged as a row with too many: it must not be scored with nulls.
        (
            "id,segment,login,nps,mrr\nC1,SMB,12,8,100\nC2,ENT,7,5\nC3,SMB,12,,80\n",
            [],
            "row 2 has 4 fields but the header has 5",
        ),
        # The pass counts the lines only when the last column has nulls; here C1's empty
        # nps is legitimate and C3's row is short: only C3 is named.
        (
            "id,segment,login,mrr,nps\nC1,SMB,12,100,\nC2,ENT,7,250,5\nC3,SMB,12,80\n",
            [],
            "row 3 has 4 fields but the header has 5",
        ),
        # With --keep the output needs fewer columns than the file has; the row is still
        # read whole, so its extra field is caught.
        (
            "id,login,nps,mrr,segment\nC1,12,8,100,SMB\nC2,7,5,250.5,ENT,extra\n",
            ["--keep", "mrr"],
            "row 2 has 6 fields but the header has 5",
        ),
    ],
    ids=["short", "short-among-blanks", "long-under-keep"],
)
def test_short_and_long_rows_are_named(
    tmp_path: Path, cli_scheme: Path, out: Path, body: str, extra: list[str], message: str
) -> None:
    data = write(tmp_path / "customers.csv", body)
    result = invoke("score", data, "-s", cli_scheme, "-o", out, *extra)
    assert_failed(result, 4, f"Error: {data}: {message}", out)


# French Excel export: `;`, decimal comma, cp1252 (é is 0xE9).
FR_TEXT = "id;segment;login;nps;mrr\r\nC1;Société;12;8,5;100,25\r\nC2;ENT;7;5;250,5\r\n"


FR_BYTES = FR_TEXT.encode("cp1252")


def test_cp1252_without_encoding_hints_at_it(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = tmp_path / "export_fr.csv"
    data.write_bytes(FR_BYTES)
    result = invoke(
        "score", data, "-s", cli_scheme, "-o", out, "--separator", ";", "--decimal-comma"
    )
    assert_failed(
        result,
        4,
        f"Error: {data}: cannot read: invalid utf-8 sequence "
        "(the file is not UTF-8; try --encoding cp1252 or --encoding latin-1)",
        out,
    )


def test_a_cp1252_header_names_encoding_in_its_hint(tmp_path: Path, out: Path) -> None:
    # the header's bytes were read lossily: the scheme's column showed as not found
    # ("Did you mean 'r\ufffdussies'?") with no word of --encoding
    scheme = write(tmp_path / "s.yaml", cli_variant("column: login", "column: réussies"))
    data = tmp_path / "export.csv"
    data.write_bytes("id,réussies,nps,mrr\nC1,12,8,100\n".encode("cp1252"))
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: the header is not valid UTF-8 (column 2, 'r\ufffdussies') "
        "(the file is not UTF-8; try --encoding cp1252 or --encoding latin-1)",
        out,
    )
    ok = invoke("score", data, "-s", scheme, "-o", out, "--encoding", "cp1252")
    assert ok.exit_code == 0, ok.output
    assert pl.read_csv(out)["score"].to_list() == [95.0]


def test_semicolon_file_read_with_commas_hints_at_separator(
    tmp_path: Path, cli_scheme: Path, out: Path
) -> None:
    data = tmp_path / "export_fr.csv"
    data.write_bytes(FR_BYTES)
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: the header is one column 'id;segment;login;nps;mrr'; "
        "it looks separated by ';' (try --separator ';' and --decimal-comma)",
        out,
    )


def test_cp1252_with_options_scores(tmp_path: Path, cli_scheme: Path) -> None:
    data = tmp_path / "export_fr.csv"
    data.write_bytes(FR_BYTES)
    out = tmp_path / "scored.parquet"
    result = invoke(
        "score", data, "-s", cli_scheme, "-o", out,
        "--encoding", "cp1252", "--separator", ";", "--decimal-comma",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Rows: 2 read = 2 scored + 0 rejected" in result.stdout.splitlines()
    frame = pl.read_parquet(out)
    # C1: logins 12 -> 100, nps 8.5 -> 85: (300 + 85) / 4 = 96.25 -> 96.3 (half away from 0)
    # C2: logins 7 -> 50, nps 5 -> 50: 50.0
    assert frame["segment"].to_list() == ["Société", "ENT"]
    assert frame["nps"].to_list() == [8.5, 5.0]
    assert frame["mrr"].to_list() == [100.25, 250.5]
    assert frame["score"].to_list() == [96.3, 50.0]
    assert frame["band"].to_list() == ["good", "watch"]


def test_sample_french_export_scores_like_the_csv(tmp_path: Path) -> None:
    fr, en = tmp_path / "fr.parquet", tmp_path / "en.parquet"
    saas = SCHEMES / "saas.yaml"
    result = invoke(
        "score", SAMPLE_DIR / "customers_fr.csv", "-s", saas, "-o", fr,
        "--separator", ";", "--decimal-comma", "--encoding", "cp1252",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Rows: 400 read = 400 scored + 0 rejected" in result.stdout.splitlines()
    assert invoke("score", SAMPLE_DIR / "customers.csv", "-s", saas, "-o", en).exit_code == 0
    # the scheme's columns are read as numbers, the same in both; a column it does not
    # read is carried as written: `7,4` in the French file, `7.4` in the other
    french, english = pl.read_parquet(fr), pl.read_parquet(en)
    points = pl.col(pl.String).str.replace_all(",", ".", literal=True)
    assert_frame_equal(french.with_columns(points), english.with_columns(points))
    assert french["logins_week"][0] == "7,4" and english["logins_week"][0] == "7.4"
    assert french["mrr"].dtype == pl.Float64  # the value, read as a number


@pytest.mark.parametrize(
    ("separator", "message"),
    [
        ("\n", "cannot be a line break, a carriage return or the quote character (got '\\n')"),
        ('"', "cannot be a line break, a carriage return or the quote character (got '\"')"),
        ("\r", "cannot be a line break, a carriage return or the quote character (got '\\r')"),
        ("", "must be one ASCII character, such as ';' or tab (got '')"),
        (";;", "must be one ASCII character, such as ';' or tab (got ';;')"),
    ],
)
def test_a_separator_that_cannot_split_a_csv_is_refused(
    tmp_path: Path, cli_scheme: Path, cli_data: Path, out: Path, separator: str, message: str
) -> None:
    # it was read with it, and the scheme's id was reported as not found (exit 4)
    result = invoke("score", cli_data, "-s", cli_scheme, "-o", out, "--separator", separator)
    assert_failed(result, 2, f"Error: --separator {message}", out)


@pytest.mark.parametrize("separator", ["\t", "\\t", "tab", "TAB"])
def test_a_tab_separator_is_given_as_the_character_backslash_t_or_tab(
    tmp_path: Path, cli_scheme: Path, separator: str
) -> None:
    data = write(tmp_path / "customers.txt", CLI_DATA.replace(",", "\t"))
    out = tmp_path / "scored.csv"
    result = invoke("score", data, "-s", cli_scheme, "-o", out, "--separator", separator)
    assert result.exit_code == 0, result.output
    assert "Rows: 4 read = 4 scored + 0 rejected" in result.stdout.splitlines()
    assert pl.read_csv(out)["score"].to_list() == SCORES


def test_a_failed_cast_of_text_gives_no_encoding_hint(tmp_path: Path, out: Path) -> None:
    # Polars names the text type `Utf8View`: the hint matched `utf8` in it and sent the
    # user to --encoding for a UTF-8 file (the cp1252 test above still gets the hint)
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\nsignals:\n"
        '  b: {expr: "CAST(name AS BOOLEAN)", weight: 1, map: {"true": 100, "false": 0}}\n'
        "bands:\n  - {name: high, from: 50}\n  - {name: low, from: 0}\n",
    )
    data = write(tmp_path / "names.csv", "id,name\nC1,abc\nC2,def\n")
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: cannot read: casting from Utf8View to Boolean not supported",
        out,
    )


def test_input_name_with_brackets(tmp_path: Path, cli_scheme: Path) -> None:
    # A file name is a name, not a glob pattern: `customers[eu].csv` must be read as is.
    data = write(tmp_path / "customers[eu].csv", CLI_DATA)
    out = tmp_path / "scored.csv"
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Rows: 4 read = 4 scored + 0 rejected" in result.stdout.splitlines()
    assert pl.read_csv(out)["score"].to_list() == SCORES


def test_ids_that_look_like_markup_are_printed_as_is(tmp_path: Path, cli_scheme: Path) -> None:
    # Customer data is shown literally; rich markup in it must neither style nor crash.
    data = write(
        tmp_path / "customers.csv",
        "id,segment,login,nps,mrr\n[b]C1,SMB,0,1,100\nC2[/x],ENT,0,3,250.5\n",
    )
    result = invoke("score", data, "-s", cli_scheme)
    assert result.exit_code == 0, result.output
    # both at risk: (3 * 0 + 10) / 4 = 2.5 and (3 * 0 + 30) / 4 = 7.5
    lines = result.stdout.splitlines()
    assert "| [b]C1  |   2.5 | risk | 100.00 |  100.0 % | logins -75.0; nps -22.5 |" in lines
    assert "| C2[/x] |   7.5 | risk | 250.50 |  100.0 % | logins -75.0; nps -17.5 |" in lines


# -- bad schemes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("weight: 3\n", "weight: 0\n", ":7: signals.logins.weight: must be greater than 0 (got 0)"),
        ("weight: 1\n", "weight: -2\n", ":14: signals.nps.weight: must be greater than 0 (got -2)"),
    ],
    ids=["zero", "negative"],
)
def test_weight_not_positive(
    tmp_path: Path, cli_data: Path, out: Path, old: str, new: str, message: str
) -> None:
    scheme = write(tmp_path / "scheme.yaml", cli_variant(old, new))
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert_failed(result, 3, f"Error: {scheme}{message}", out)


def test_tiers_without_catch_all(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = write(tmp_path / "scheme.yaml", cli_variant("      - {points: 0}\n", ""))
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        3,
        f"Error: {scheme}:5: signals.logins: the last tier must be a catch-all with no bound, "
        "such as {points: 0}, so that every value gets points",
        out,
    )


def test_unreachable_tier_warns_and_scores(tmp_path: Path, cli_data: Path) -> None:
    scheme = write(
        tmp_path / "scheme.yaml",
        cli_variant("{at_least: 5, points: 50}", "{at_least: 15, points: 50}"),
    )
    out = tmp_path / "scored.csv"
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Warning: {scheme}:10: signals.logins.points[1]: tier >= 15 is unreachable: "
        "earlier tiers match every such value\n"
    )
    assert "Warning" not in result.stdout
    # The >= 15 tier never matches: C2 (7 logins) now gets 0 for logins: 50 / 4 = 12.5.
    assert pl.read_csv(out)["score"].to_list() == [95.0, 12.5, 100.0, 2.5]


def test_overlapping_tier_warns_and_scores(tmp_path: Path, cli_data: Path) -> None:
    scheme = write(
        tmp_path / "scheme.yaml",
        cli_variant("{at_least: 5, points: 50}", "{at_least: 5, at_most: 20, points: 50}"),
    )
    out = tmp_path / "scored.csv"
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    # One warning: the 5-20 tier is partly hidden by `>= 10`. The catch-all that the scheme
    # requires last is not an overlap to warn about.
    assert result.stderr == (
        f"Warning: {scheme}:10: signals.logins.points[1]: tier 5 <= x <= 20 overlaps "
        "tier 1 (>= 10); the earlier tier wins\n"
    )
    assert pl.read_csv(out)["score"].to_list() == SCORES


def test_disjoint_ranged_tiers_do_not_warn(tmp_path: Path, cli_data: Path) -> None:
    scheme = write(
        tmp_path / "scheme.yaml",
        cli_variant(
            "- {at_least: 10, points: 100}\n      - {at_least: 5, points: 50}\n",
            "- {at_least: 10, points: 100}\n      - {at_least: 5, below: 10, points: 50}\n",
        ),
    )
    result = invoke("score", cli_data, "-s", scheme)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_last_band_not_at_zero(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = write(
        tmp_path / "scheme.yaml", cli_variant("name: risk, from: 0", "name: risk, from: 10")
    )
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        3,
        f"Error: {scheme}:16: bands: the last band must start at 0 (`from: 0`) so every score "
        "has a band; 'risk' starts at >= 10",
        out,
    )


def test_unknown_key_suggests_the_right_one(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = write(tmp_path / "scheme.yaml", cli_variant("    weight: 1\n", "    wieght: 1\n"))
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        3,
        f"Error: {scheme}: 2 problems in the scheme\n"
        f"  {scheme}:12: signals.nps.weight: required key 'weight' is missing\n"
        f"  {scheme}:14: signals.nps.wieght: unknown key 'wieght'; did you mean 'weight'?",
        out,
    )


def test_malformed_yaml_names_the_line(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = write(
        tmp_path / "scheme.yaml",
        "name: tiny\nid: id\nsignals:\n  logins:\n    column: login\n   weight: 3\n",
    )
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        3,
        f"Error: {scheme}:6: malformed YAML: expected <block end>, but found '<block mapping start>'",
        out,
    )


# -- rejects, atomic outputs, --keep, plain output -------------------------------------------


def test_rejects_file_takes_the_bad_rows(tmp_path: Path, cli_scheme: Path) -> None:
    data = write(tmp_path / "customers.csv", CLI_DATA_WITH_REJECTS)
    out, rejects = tmp_path / "scored.csv", tmp_path / "rejects.csv"
    result = invoke("score", data, "-s", cli_scheme, "-o", out, "--rejects", rejects)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.splitlines()[1] == (
        f"Rows: 4 read = 2 scored + 2 rejected (written to {rejects})"
    )
    scored = pl.read_csv(out)
    assert scored["id"].to_list() == ["C1", "C3"]
    assert scored["score"].to_list() == [95.0, 100.0]
    bad = pl.read_csv(rejects, infer_schema=False)
    assert bad.columns == ["row", "reason", "id", "segment", "login", "nps", "mrr"]
    assert bad.rows(named=True) == [
        {
            "row": "2",
            "reason": "logins: 'abc' is not a number (column login)",
            "id": "C2",
            "segment": "ENT",
            "login": " abc ",
            "nps": "5",
            "mrr": "250.5",
        },
        {
            "row": "4",
            "reason": "mrr: '4x0' is not a number (the value column)",
            "id": "C4",
            "segment": "ENT",
            "login": "0",
            "nps": "1",
            "mrr": "4x0",
        },
    ]
    assert scored.height + bad.height == 4
    assert leftovers(tmp_path) == []


def test_failed_run_keeps_the_old_output(tmp_path: Path, cli_scheme: Path) -> None:
    out = tmp_path / "scored.csv"
    out.write_text("old,content\n1,2\n")
    data = write(tmp_path / "customers.csv", CLI_DATA_WITH_REJECTS)
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert result.exit_code == 4
    assert result.stderr.splitlines()[0] == (
        f"Error: {data}: 2 of 4 rows cannot be scored; nothing was written."
    )
    assert out.read_text() == "old,content\n1,2\n"
    assert leftovers(tmp_path) == []


def test_failed_write_keeps_the_old_output(
    tmp_path: Path, cli_scheme: Path, cli_data: Path
) -> None:
    # The rejects file cannot be created (its parent is a regular file): nothing of the
    # run replaces the old output, and the failure is an output error (5), not a crash (1).
    out = tmp_path / "scored.csv"
    out.write_text("old,content\n1,2\n")
    blocker = write(tmp_path / "blocker", "a file, not a directory\n")
    rejects = blocker / "rejects.csv"
    result = invoke("score", cli_data, "-s", cli_scheme, "-o", out, "--rejects", rejects)
    assert out.read_text() == "old,content\n1,2\n"
    assert leftovers(tmp_path) == []
    assert result.exit_code == 5, result.output
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith("Error: ")


def test_keep_carries_only_the_named_columns(
    tmp_path: Path, cli_scheme: Path, cli_data: Path
) -> None:
    out = tmp_path / "scored.parquet"
    result = invoke("score", cli_data, "-s", cli_scheme, "-o", out, "--keep", "id,segment")
    assert result.exit_code == 0, result.output
    frame = pl.read_parquet(out)
    # id and the value column (mrr) are always carried; login and nps are not.
    assert frame.columns == [
        "id", "mrr", "segment", "points_logins", "points_nps",
        "score", "band", "coverage", "reasons", "scheme", "scheme_hash",
    ]  # fmt: skip
    assert frame["segment"].to_list() == ["SMB", "ENT", "SMB", "ENT"]
    assert frame["score"].to_list() == SCORES


def test_keep_unknown_column(tmp_path: Path, cli_scheme: Path, cli_data: Path, out: Path) -> None:
    result = invoke("score", cli_data, "-s", cli_scheme, "-o", out, "--keep", "segmnt")
    assert_failed(
        result,
        4,
        f"Error: {cli_data}: column 'segmnt' (asked for with --keep) not found. "
        "Did you mean 'segment'? Columns in the file: id, segment, login, nps, mrr",
        out,
    )


SAMPLE = REPO / "sample_data" / "customers.csv"


SAAS = SCHEMES / "saas.yaml"


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
    expected = score(SAMPLE, load_scheme(SAAS), ScoreOptions(by=[["segment"], ["region", "owner"]]))
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
    # money with two decimals in the table as in its title (the cell read 10.0)
    assert lost == [["id", "last score", "last band", "mrr"], ["C05", "37.5", "risk", "10.00"]]
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
    lib = score(
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
        mini_variant("    weight: 75\n", "    weight: 70\n").replace(
            "weight: 25\n", "weight: 30\n"
        ),
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
    text = mini_variant('when: "score < 40"', 'when: "scor < 40"')
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
    text = mini_variant('when: "delta < -20"', 'when: "delta <<< -20 AND"')
    scheme = write(tmp_path / "scheme.yaml", text)
    out = tmp_path / "scored.csv"
    result = invoke("score", this_csv, "-s", scheme, "-o", out)
    line = line_of(text, "delta <<<")
    assert line == 28
    assert_failed(
        result,
        3,
        f"Error: {scheme}:{line}: alerts[1].when: not a valid SQL expression: "
        "'<' at column 9 has nothing on its right",
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
