"""`chs check` (chs/cli/check.py): the scheme description, --data, segmented and multi-
score schemes. In process through typer's CliRunner (see tests/test_cli.py): stdout and
stderr apart, plain ASCII tables 200 columns wide, no colour. Every file is written
under tmp_path; the repository's sample data is only read.
"""

from __future__ import annotations

import json
from pathlib import Path

from support import CLI_DATA_WITH_REJECTS, CLI_REJECT_LINES, invoke, table, write

from chs.actions.check import check_data
from chs.description import describe
from chs.files import CsvOptions
from chs.scheme import load_scheme


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


ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "customers.csv"
SCHEMES = ROOT / "schemes"


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


def test_check_data_reads_a_boolean_column_a_map_scores(tmp_path: Path) -> None:
    # a map reads text: the column is read as written, and compared ignoring case (it
    # was cast to Boolean once, which Polars cannot do from text: exit 4)
    scheme = write(
        tmp_path / "s.yaml",
        "name: t\nid: id\nsignals:\n"
        "  act: {column: active, weight: 100, map: {'true': 100, 'false': 0}}\n"
        "bands:\n  - {name: high, from: 50}\n  - {name: low, from: 0}\n",
    )
    data = write(tmp_path / "d.csv", "id,active\nC1,true\nC2,false\nC3,TRUE\n")
    result = invoke("check", scheme, "--data", data)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert f"Data {data}: 3 rows, 3 scorable, 0 rejected" in lines
    assert "| act    | active | String |   0.0 % |" in lines
    assert lines[-1] == "Bands: high 2 (66.7%), low 1 (33.3%)"
