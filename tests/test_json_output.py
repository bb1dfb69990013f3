"""`--json` prints what the library returns: for every command, a run through typer's
CliRunner with --json on the tiny files of support.py (written under tmp_path), against
the command's library entry point called on the same inputs with the options the command
passes it (chs/cli/<command>.py). The library's result goes through a JSON round trip, as
the CLI's does. Results that name output paths get the same paths in both calls (the
library call rewrites the files with the same content)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from support import invoke, write

from chs.actions import history as history_action
from chs.actions.check import check, check_data
from chs.actions.diff import diff
from chs.actions.explain import explain
from chs.actions.report import report
from chs.actions.score import ScoreOptions, score
from chs.description import describe
from chs.scheme import json_schema, load_scheme


def cli_json(*args: object, warnings: tuple[str, ...] = ()) -> Any:
    """The command's --json output, read back; the run must succeed, with these warnings
    alone on stderr."""
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == "".join(f"Warning: {w}\n" for w in warnings)
    return json.loads(result.stdout)


def weights_warning(scheme: Path) -> str:
    # The tiny scheme's one weight is 1: check says it was normalised.
    return f"{scheme}:4: signal weights sum to 1, not 100; normalised to x 100.0%"


def round_trip(library_result: Any) -> Any:
    return json.loads(json.dumps(library_result))


def test_score_json_is_score_file(tmp_path: Path, tiny_scheme: Path, tiny_csv: Path) -> None:
    out = tmp_path / "scored.parquet"
    cli = cli_json("score", tiny_csv, "-s", tiny_scheme, "-o", out, "--top", 2)
    lib = score(tiny_csv, load_scheme(tiny_scheme), ScoreOptions(output=out, top=2))
    assert cli == round_trip(lib)
    assert cli["rows"] == {"read": 5, "scored": 5, "rejected": 0}
    # e 20 and a 40 are low, the at-risk band: the two lowest
    assert [(r["id"], r["band"]) for r in cli["at_risk"]] == [("e", "low"), ("a", "low")]
    assert (cli["at_risk_bands"], cli["at_risk_top"]) == (["low"], 2)


def test_score_json_lists_fewer_at_risk_than_asked(tiny_scheme: Path, tiny_csv: Path) -> None:
    # --top 3: only e and a are at risk; f (50, high) is not listed
    cli = cli_json("score", tiny_csv, "-s", tiny_scheme, "--top", 3)
    lib = score(tiny_csv, load_scheme(tiny_scheme), ScoreOptions(top=3))
    assert cli == round_trip(lib)
    assert [r["id"] for r in cli["at_risk"]] == ["e", "a"]
    assert (cli["at_risk_bands"], cli["at_risk_top"]) == (["low"], 3)


def test_score_previous_json_is_score_file(
    tmp_path: Path, tiny_scheme: Path, tiny_last_csv: Path, tiny_csv: Path
) -> None:
    out, alerts = tmp_path / "scored.csv", tmp_path / "alerts.ndjson"
    cli = cli_json(
        "score", tiny_csv, "-s", tiny_scheme, "--previous", tiny_last_csv, "-o", out,
        "--alerts", alerts, "--as-of", "2026-11-01", "--by", "band",
    )  # fmt: skip
    options = ScoreOptions(
        output=out,
        alerts=alerts,
        previous=tiny_last_csv,
        as_of=dt.date(2026, 11, 1),
        by=[["band"]],
    )
    lib = score(tiny_csv, load_scheme(tiny_scheme), options)
    assert cli == round_trip(lib)
    # a, f fall; b rises; c stays; e is new; d is lost
    assert cli["previous"]["movement"] == {"up": 1, "down": 2, "same": 1, "new": 1}


def test_diff_json_is_diff_files(
    tmp_path: Path, tiny_scheme: Path, tiny_last_csv: Path, tiny_csv: Path
) -> None:
    out = tmp_path / "movement.csv"
    cli = cli_json("diff", tiny_last_csv, tiny_csv, "-s", tiny_scheme, "-o", out, "--top", 3)
    lib = diff(tiny_last_csv, tiny_csv, scheme=load_scheme(tiny_scheme), output=out, top=3)
    assert cli == round_trip(lib)
    assert cli["rows"] == {"last": 5, "this": 5, "common": 4}


def test_check_json_is_describe(tiny_scheme: Path) -> None:
    cli = cli_json("check", tiny_scheme, warnings=(weights_warning(tiny_scheme),))
    assert cli == round_trip(describe(load_scheme(tiny_scheme)))
    assert cli == round_trip(check(load_scheme(tiny_scheme)))
    assert "data" not in cli


def test_check_data_json_is_describe_with_check_data(tiny_scheme: Path, tiny_csv: Path) -> None:
    cli = cli_json(
        "check", tiny_scheme, "--data", tiny_csv, warnings=(weights_warning(tiny_scheme),)
    )
    scheme = load_scheme(tiny_scheme)
    lib = {**describe(scheme), "data": check_data(scheme, tiny_csv)}
    assert round_trip(check(scheme, tiny_csv)) == round_trip(lib)
    assert cli == round_trip(lib)
    assert cli["data"]["rows"] == {"read": 5, "scored": 5, "rejected": 0}


def test_explain_json_is_explain_file(tiny_scheme: Path, tiny_csv: Path) -> None:
    cli = cli_json("explain", tiny_csv, "a", "e", "-s", tiny_scheme)
    lib = explain(tiny_csv, load_scheme(tiny_scheme), ["a", "e"])
    assert cli == round_trip(lib)
    assert [c["id"] for c in cli["customers"]] == ["a", "e"]


def test_history_json_is_history_report(
    tmp_path: Path, tiny_scheme: Path, tiny_last_csv: Path, tiny_csv: Path
) -> None:
    folder, scheme = tmp_path / "h", load_scheme(tiny_scheme)
    for data, as_of in ((tiny_last_csv, dt.date(2026, 10, 1)), (tiny_csv, dt.date(2026, 11, 1))):
        score(data, scheme, ScoreOptions(history=folder, as_of=as_of))
    # without ids: the biggest fallers; with ids: those customers
    assert cli_json("history", folder, "--top", 1) == round_trip(
        history_action.history(folder, [], top=1)
    )
    cli = cli_json("history", folder, "e", "a")
    assert cli == round_trip(history_action.history(folder, ["e", "a"]))
    assert [c["id"] for c in cli["customers"]] == ["e", "a"]


def test_report_json_is_report_file(tmp_path: Path, tiny_scheme: Path) -> None:
    # a segment column and a parent account beside the tiny scheme's columns
    data = write(
        tmp_path / "in.csv",
        "id,mrr,x,segment,parent\na,100,80,SMB,p\nb,200,30,SMB,p\nc,300,60,ENT,\nd,400,45,ENT,q\n",
    )
    scored, out = tmp_path / "scored.parquet", tmp_path / "rollups.csv"
    score(data, load_scheme(tiny_scheme), ScoreOptions(output=scored))
    cli = cli_json(
        "report", scored, "--by", "segment,segment+band", "--parent", "parent",
        "--at-risk", "low", "-o", out,
    )  # fmt: skip
    lib = report(
        scored,
        by=[["segment"], ["segment", "band"]],
        parent="parent",
        at_risk=["low"],
        output=out,
    )
    assert cli == round_trip(lib)
    assert cli["at_risk_bands"] == ["low"]


def test_schema_json_is_json_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == round_trip(json_schema())
