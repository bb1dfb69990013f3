"""CLI tests for `chs`, in process through typer's CliRunner.

typer 0.29's CliRunner keeps the streams apart: `result.stdout` is what the command
printed to stdout, `result.stderr` what went to stderr (errors, warnings), and
`result.output` both interleaved. Under the runner neither stream is a terminal, so
chs prints plain ASCII tables, 200 columns wide, with no colour.

Every file is written under tmp_path; the repository's sample data is only read.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import (
    CLI_DATA,
    CLI_DATA_WITH_REJECTS,
    CLI_REJECT_LINES,
    CLI_SCHEME,
    PLAIN_ENV,
    assert_failed,
    invoke,
    leftovers,
    runner,
    write,
)

import chs
from chs.actions.check import check_data
from chs.actions.score import ScoreOptions, score_file
from chs.cli import app
from chs.description import describe
from chs.files import CsvOptions
from chs.scheme import json_schema, load_scheme

REPO = Path(__file__).resolve().parents[1]


SAMPLE = REPO / "sample_data"


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


def variant(old: str, new: str) -> str:
    """SCHEME with one exact edit (the edit must match once, so line numbers stay known)."""
    assert CLI_SCHEME.count(old) == 1, old
    return CLI_SCHEME.replace(old, new)


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out" / "scored.csv"


# -- version and help ----------------------------------------------------------------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"chs {chs.__version__}\n"
    assert result.stderr == ""


def test_main_help_lists_the_commands() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    after = lines[lines.index("Commands:") + 1 :]
    commands = after[: after.index("")] if "" in after else after
    assert [line.split()[0] for line in commands] == [
        "score",
        "explain",
        "diff",
        "history",
        "report",
        "check",
        "schema",
    ]
    assert "Example: chs score customers.csv --scheme saas.yaml -o scored.parquet" in [
        line.strip() for line in lines
    ]


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("score", "Example: chs score customers.csv --scheme saas.yaml -o scored.parquet"),
        ("check", "Example: chs check saas.yaml --data customers.csv"),
        ("schema", "Example: chs schema > chs-scheme.schema.json"),
    ],
)
def test_help_has_an_example(command: str, example: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert example in [line.strip() for line in result.stdout.splitlines()]


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

    lib = score_file(
        str(data), load_scheme(cli_scheme), ScoreOptions(output=out, rejects=rejects, top=1)
    )
    assert cli == lib
    assert cli["rows"] == {"read": 4, "scored": 2, "rejected": 2}
    assert cli["at_risk"][0]["id"] == "C1"
    assert cli["rejected_sample"] == [line.strip() for line in CLI_REJECT_LINES]
    assert_frame_equal(pl.read_parquet(out), cli_scored)
    assert rejects.read_bytes() == cli_rejects


def test_check_json_equals_describe(cli_scheme: Path) -> None:
    result = invoke("check", cli_scheme, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == describe(load_scheme(cli_scheme))
    assert result.stderr == (
        f"Warning: {cli_scheme}:4: signal weights sum to 4, not 100; "
        "normalised to logins 75.0%, nps 25.0%\n"
    )


def test_check_data_json_equals_library(cli_scheme: Path, cli_data: Path) -> None:
    result = invoke("check", cli_scheme, "--data", cli_data, "--json")
    assert result.exit_code == 0, result.output
    loaded = load_scheme(cli_scheme)
    expected = describe(loaded)
    expected["data"] = check_data(loaded, cli_data, CsvOptions())
    assert json.loads(result.stdout) == expected
    assert expected["data"]["rows"] == {"read": 4, "scored": 4, "rejected": 0}
    assert [b["customers"] for b in expected["data"]["bands"]] == [2, 1, 1]


def test_check_data_with_rejected_rows_exits_4_after_the_report(
    tmp_path: Path, cli_scheme: Path
) -> None:
    data = write(tmp_path / "customers.csv", CLI_DATA_WITH_REJECTS)
    result = invoke("check", cli_scheme, "--data", data)
    assert result.exit_code == 4
    lines = result.stdout.splitlines()
    assert lines[0] == f"Scheme tiny ({load_scheme(cli_scheme).digest}) from {cli_scheme}: valid"
    start = lines.index(f"Data {data}: 4 rows, 2 scorable, 2 rejected")
    assert lines[start + 1 : start + 3] == CLI_REJECT_LINES
    assert lines[-1] == "Bands: good 2 (100.0%), watch 0 (0.0%), risk 0 (0.0%)"
    assert result.stderr == (
        f"Warning: {cli_scheme}:4: signal weights sum to 4, not 100; "
        "normalised to logins 75.0%, nps 25.0%\n"
        f"Error: {data}: 2 of 4 rows cannot be scored\n"
    )


def test_schema_prints_the_json_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()
    assert result.stderr == ""


# -- bad data -----------------------------------------------------------------------------


def test_missing_column_suggests_the_close_one(tmp_path: Path, out: Path) -> None:
    scheme = write(tmp_path / "scheme.yaml", variant("column: login\n", "column: logins\n"))
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
    assert_failed(result, 3, f"Error: {scheme}: scheme file not found", out)


def test_spreadsheet_input(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = tmp_path / "customers.xlsx"
    data.write_bytes(b"PK\x03\x04" + b"\x00" * 60)
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result, 4, f"Error: {data}: looks like a spreadsheet (Excel); export it as CSV first", out
    )


def test_unknown_input_type(tmp_path: Path, cli_scheme: Path, out: Path) -> None:
    data = write(tmp_path / "customers.json", '[{"id": "C1"}]\n')
    result = invoke("score", data, "-s", cli_scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {data}: unknown file type .json; "
        "inputs are CSV (.csv, .tsv, .txt) or Parquet (.parquet)",
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
        "score", SAMPLE / "customers_fr.csv", "-s", saas, "-o", fr,
        "--separator", ";", "--decimal-comma", "--encoding", "cp1252",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Rows: 400 read = 400 scored + 0 rejected" in result.stdout.splitlines()
    assert invoke("score", SAMPLE / "customers.csv", "-s", saas, "-o", en).exit_code == 0
    assert_frame_equal(pl.read_parquet(fr), pl.read_parquet(en))


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
        "id,segment,login,nps,mrr\n[b]C1,SMB,12,8,100\nC2[/x],ENT,7,5,250.5\n",
    )
    result = invoke("score", data, "-s", cli_scheme)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "| C2[/x] |  50.0 | watch | 250.50 |  100.0 % | logins -37.5; nps -12.5 |" in lines
    assert "| [b]C1  |  95.0 | good  | 100.00 |  100.0 % | nps -5.0                |" in lines


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
    scheme = write(tmp_path / "scheme.yaml", variant(old, new))
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert_failed(result, 3, f"Error: {scheme}{message}", out)


def test_tiers_without_catch_all(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = write(tmp_path / "scheme.yaml", variant("      - {points: 0}\n", ""))
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
        variant("{at_least: 5, points: 50}", "{at_least: 15, points: 50}"),
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
        variant("{at_least: 5, points: 50}", "{at_least: 5, at_most: 20, points: 50}"),
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
        variant(
            "- {at_least: 10, points: 100}\n      - {at_least: 5, points: 50}\n",
            "- {at_least: 10, points: 100}\n      - {at_least: 5, below: 10, points: 50}\n",
        ),
    )
    result = invoke("score", cli_data, "-s", scheme)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


def test_last_band_not_at_zero(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = write(tmp_path / "scheme.yaml", variant("name: risk, from: 0", "name: risk, from: 10"))
    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert_failed(
        result,
        3,
        f"Error: {scheme}:16: bands: the last band must start at 0 (`from: 0`) so every score "
        "has a band; 'risk' starts at >= 10",
        out,
    )


def test_unknown_key_suggests_the_right_one(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = write(tmp_path / "scheme.yaml", variant("    weight: 1\n", "    wieght: 1\n"))
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


def test_debug_shows_the_traceback(tmp_path: Path, cli_data: Path, out: Path) -> None:
    scheme = write(tmp_path / "scheme.yaml", variant("weight: 3\n", "weight: 0\n"))
    message = f"Error: {scheme}:7: signals.logins.weight: must be greater than 0 (got 0)"
    result = invoke("--debug", "score", cli_data, "-s", scheme, "-o", out)
    assert result.exit_code == 3
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1] == message
    assert not out.exists()

    result = invoke("score", cli_data, "-s", scheme, "-o", out)
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert result.stderr == message + "\n"


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


def test_plain_output_when_not_a_terminal(cli_scheme: Path, cli_data: Path) -> None:
    # The scheme colours its bands; a pipe still gets no escape codes (NO_COLOR is unset).
    assert "color: green" in CLI_SCHEME
    for args in (["score", cli_data, "-s", cli_scheme], ["check", cli_scheme, "--data", cli_data]):
        result = runner.invoke(app, [str(a) for a in args], env=PLAIN_ENV, color=True)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout
        assert "\x1b" not in result.stderr
        assert "+---" in result.stdout  # ASCII table borders, not box-drawing characters
