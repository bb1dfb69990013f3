"""`chs score --engine duckdb` (chs/engines.py, chs/sql/embedded.py): the scheme compiled
to SQL scores the rows on embedded DuckDB, and every file and the summary are those of
the Polars engine, column by column and value by value; bad engine options are named."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from support import as_json, assert_failed, invoke, write
from test_column_types import HUBSPOT, hubspot_csv

from chs.actions.score import ScoreOptions, score
from chs.scheme import load_scheme

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "customers.csv"
SAAS = ROOT / "schemes" / "saas.yaml"
AS_OF = dt.date(2026, 11, 30)
SCHEMES = sorted(p.stem for p in (ROOT / "schemes").glob("*.yaml"))


def both_engines(
    tmp_path: Path, source: Path, scheme_path: Path, **options: Any
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Path]]:
    """The summaries of one run on each engine, and the folders their files went to (each
    option given as a file name, such as output="scored.parquet", is made a path there)."""
    scheme = load_scheme(scheme_path)
    summaries, folders = [], {}
    for engine in ("polars", "duckdb"):
        folder = tmp_path / engine
        folder.mkdir()
        named = {k: folder / v if isinstance(v, str) else v for k, v in options.items()}
        if "history" in named:
            named["history"] = shutil.copytree(options["history"], folder / "history")
        summary = score(source, scheme, ScoreOptions(engine=engine, **named))
        summaries.append(json.loads(json.dumps(summary).replace(str(folder), "OUT")))
        folders[engine] = folder
    return summaries[0], summaries[1], folders


def assert_same_files(folders: dict[str, Path]) -> None:
    """Every file the Polars run wrote, the DuckDB run wrote alike: same columns, types
    and values, row for row (CSV files byte for byte)."""
    files = sorted(p.relative_to(folders["polars"]) for p in folders["polars"].rglob("*.*"))
    assert files == sorted(p.relative_to(folders["duckdb"]) for p in folders["duckdb"].rglob("*.*"))
    for name in files:
        want, got = folders["polars"] / name, folders["duckdb"] / name
        if name.suffix == ".parquet":
            assert_frame_equal(pl.read_parquet(got), pl.read_parquet(want))
        else:
            assert got.read_bytes() == want.read_bytes(), name


@pytest.mark.parametrize("name", SCHEMES)
def test_every_shipped_scheme_scores_the_sample_alike_on_duckdb(tmp_path: Path, name: str) -> None:
    scheme = ROOT / "schemes" / f"{name}.yaml"
    polars, duckdb, folders = both_engines(
        tmp_path, SAMPLE, scheme, output="scored.parquet", alerts="alerts.csv", as_of=AS_OF
    )
    assert duckdb == polars
    assert polars["rows"] == {"read": 400, "scored": 400, "rejected": 0}
    assert_same_files(folders)
    assert pl.read_parquet(folders["duckdb"] / "scored.parquet").height == 400


def test_a_previous_month_roll_ups_and_kept_columns_come_out_alike(tmp_path: Path) -> None:
    last = ROOT / "sample_data" / "months" / "customers_2026-10.csv"
    polars, duckdb, folders = both_engines(
        tmp_path, SAMPLE, SAAS, output="scored.csv", previous=last, keep=["segment", "region"],
        by=[["segment"], ["segment", "region"]], alerts="alerts.parquet", alerts_keep=["owner"],
        as_of=AS_OF,
    )  # fmt: skip
    assert duckdb == polars
    assert polars["previous"] is not None and polars["rollups"]
    assert_same_files(folders)
    header = (folders["duckdb"] / "scored.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["customer_id", "mrr", "segment", "region", "points_logins"]
    assert header[-8:-4] == ["previous_score", "delta", "previous_band", "movement"]
    assert header[-4:] == ["change_30d", "change_90d", "snapshots_in_band", "alerts"]


def test_a_history_gains_the_same_snapshot_on_either_engine(tmp_path: Path) -> None:
    """The history's last snapshot scored again a month on: trends and streaks read the
    eight snapshots alike."""
    history = ROOT / "sample_data" / "history"
    last = history / "as_of=2026-11-01" / "scores.parquet"
    polars, duckdb, folders = both_engines(
        tmp_path, last, SAAS, history=history, as_of=dt.date(2026, 12, 1)
    )
    assert duckdb == polars
    assert polars["trends"] and polars["rows"]["scored"] == 999
    written = pl.read_parquet(folders["duckdb"] / "history" / "as_of=2026-12-01" / "scores.parquet")
    assert written["snapshots_in_band"].null_count() == 0
    assert_same_files(folders)


def test_bad_and_repeated_rows_are_rejected_alike(tmp_path: Path) -> None:
    """Row 3's logins are not a number and C0002 comes twice (twice accepted, so the
    DuckDB pass finds the repeat and the run is done again rejecting both)."""
    lines = SAMPLE.read_text().splitlines()
    lines[3] = lines[3].replace(",80,", ",abc,", 1)
    lines.append(lines[2])
    source = write(tmp_path / "bad.csv", "\n".join(lines) + "\n")
    assert ",abc," in lines[3]
    polars, duckdb, folders = both_engines(
        tmp_path, source, SAAS, output="scored.parquet", rejects="rejects.csv", as_of=AS_OF
    )
    assert duckdb == polars
    assert polars["rows"] == {"read": 401, "scored": 398, "rejected": 3}
    assert_same_files(folders)
    rejects = pl.read_csv(folders["duckdb"] / "rejects.csv")
    assert rejects.select("row", "reason").rows() == [
        (2, "duplicate customer_id 'C0002'"),
        (3, "logins: 'abc' is not a number (column logins_month)"),
        (401, "duplicate customer_id 'C0002'"),
    ]


def test_declared_types_are_read_by_chs_before_duckdb_scores(tmp_path: Path) -> None:
    """Percentages, currency, dates in a format, missing markers: DuckDB gets the values
    as chs parsed them, and CURRENT_DATE is the run's date."""
    scheme = write(tmp_path / "hubspot.yaml", HUBSPOT)
    data = hubspot_csv(tmp_path / "export.csv")
    polars, duckdb, folders = both_engines(
        tmp_path, data, scheme, output="scored.parquet", rejects="rejects.csv",
        as_of=dt.date(2026, 12, 1),
    )  # fmt: skip
    assert duckdb == polars
    assert polars["rows"] == {"read": 10_005, "scored": 10_004, "rejected": 1}
    assert_same_files(folders)
    scored = pl.read_parquet(folders["duckdb"] / "scored.parquet")
    # the arithmetic of tests/test_column_types.py: 95.0, 20.0, 33.3, then 70.0 each
    assert scored["score"].head(4).to_list() == [95.0, 20.0, 33.3, 70.0]
    assert (scored["Record ID"][0], scored["MRR"][0]) == ("00123", 1234.5)


def test_the_cli_json_is_the_librarys_summary(tmp_path: Path) -> None:
    out = tmp_path / "scored.parquet"
    result = invoke(
        "score", SAMPLE, "-s", SAAS, "-o", out, "--as-of", "2026-11-30", "--engine", "duckdb",
        "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    again = score(SAMPLE, load_scheme(SAAS), ScoreOptions(output=tmp_path / "again.parquet",
                  as_of=AS_OF, engine="duckdb"))  # fmt: skip
    again["output"] = str(out)
    assert json.loads(result.stdout) == as_json(again)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "spark"], "Error: --engine is one of polars, duckdb (got 'spark')"),
        (
            ["--engine", "duckdb", "-s", str(ROOT / "schemes" / "inertia.yaml")],
            "Error: --engine duckdb scores one scheme a run; score the others in runs of their own",
        ),
    ],
)
def test_bad_engine_options_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "scored.csv"
    result = invoke("score", SAMPLE, "-s", SAAS, "-o", out, *args)
    assert_failed(result, 2, message, out)


def test_without_the_duckdb_package_the_message_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # `import duckdb` raises ImportError
    out = tmp_path / "scored.csv"
    result = invoke("score", SAMPLE, "-s", SAAS, "-o", out, "--engine", "duckdb")
    assert_failed(
        result, 2, "Error: --engine duckdb needs the duckdb package: pip install 'chs[duckdb]'", out
    )


def test_a_scheme_sql_cannot_compile_is_refused_at_its_line(tmp_path: Path) -> None:
    text = HUBSPOT.replace("expr: 'CURRENT_DATE - \"Create Date\"'", "expr: 'LN(\"Seats\")'")
    scheme = write(tmp_path / "s.yaml", text)
    data = hubspot_csv(tmp_path / "export.csv")
    out = tmp_path / "scored.csv"
    result = invoke("score", data, "-s", scheme, "-o", out, "--engine", "duckdb")
    assert result.exit_code == 3, result.output
    assert result.stderr.startswith(
        f"Error: {scheme}:30: signals.tenure.expr: function ln() is not compiled to SQL yet; "
    )
    assert not out.exists()
    # the Polars engine scores it
    assert (
        invoke("score", data, "-s", scheme, "-o", out, "--rejects", tmp_path / "r.csv").exit_code
        == 0
    )


def test_columns_alike_but_for_case_are_refused_on_duckdb(tmp_path: Path) -> None:
    """DuckDB would take `Score` for chs's `score`: refused, with the Polars engine's way out."""
    source = write(tmp_path / "in.csv", "customer_id,Score\nC1,3\n")
    scheme = write(
        tmp_path / "s.yaml",
        "name: s\nid: customer_id\nsignals:\n  x: {column: Score, weight: 1, linear: [[0, 0], [10, 100]]}\nbands: [{name: a, from: 0}]\n",
    )
    out = tmp_path / "scored.csv"
    result = invoke("score", source, "-s", scheme, "-o", out, "--engine", "duckdb")
    assert_failed(
        result, 4,
        f"Error: {source}: columns 'Score' and 'score' differ only in case, which DuckDB does "
        "not tell apart; rename one, or score with the Polars engine",
        out,
    )  # fmt: skip
    assert invoke("score", source, "-s", scheme, "-o", out).exit_code == 0
