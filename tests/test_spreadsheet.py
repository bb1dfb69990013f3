"""CSV outputs for a comma-decimal Excel (chs/spreadsheet.py): `excel_csv` on score, diff
and report, and `--excel-csv` on their commands. The bytes are checked: a UTF-8 BOM,
`;` between fields, decimal commas; read back with `;` and decimal commas, the numbers
are those of the plain CSV."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from support import invoke, write

from chs.actions.diff import diff
from chs.actions.report import report
from chs.actions.score import ScoreOptions, score
from chs.scheme import parse_scheme

BOM = b"\xef\xbb\xbf"

# score == x; the alert fires below 50.
SCHEME = """\
name: excel
id: id
value: mrr
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]], missing: reject}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
alerts:
  - {name: call, when: "score < 50", action: "Call; then write"}
"""
# a: points 66.25, score 66.3 (high); b 20.5 (low: the alert fires); c has no x: rejected.
CSV = "id,region,mrr,x\na,EMEA,1234.5,66.25\nb,NA,99,20.5\nc,EMEA,10,\n"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "in.csv", CSV), write(tmp_path / "s.yaml", SCHEME)


def _score(inputs: tuple[Path, Path], folder: Path, excel: bool) -> dict[str, Path]:
    data, scheme_path = inputs
    paths = {k: folder / f"{k}.csv" for k in ("output", "rejects", "alerts")}
    options = ScoreOptions(**paths, excel_csv=excel)
    score(data, parse_scheme(scheme_path.read_text(), scheme_path), options)
    return paths


def test_score_writes_every_csv_output_for_excel(inputs, tmp_path):
    paths = _score(inputs, tmp_path, excel=True)
    scored = paths["output"].read_bytes()
    assert scored.startswith(BOM + b"id;region;mrr;x;points_x;score;band;coverage;")
    lines = scored.decode("utf-8-sig").splitlines()
    digest = lines[1].split(";")[-2]
    assert lines[1:] == [
        f'a;EMEA;1234,5;66,25;66,25;66,3;high;1,0;x -33.8;excel;{digest};""',
        f"b;NA;99,0;20,5;20,5;20,5;low;1,0;x -79.5;excel;{digest};call",
    ]
    assert paths["alerts"].read_bytes() == (
        BOM + b"id;alert;severity;owner;action;score;band;delta;value\n"
        b'b;call;medium;;"Call; then write";20,5;low;;99,0\n'
    )
    rejects = paths["rejects"].read_bytes()
    assert rejects.startswith(BOM + b"row;reason;id;region;mrr;x\n3;")
    assert rejects.decode("utf-8-sig").splitlines()[1].split(";")[2] == "c"


def test_excel_csv_reads_back_as_the_plain_csv(inputs, tmp_path):
    plain = _score(inputs, tmp_path / "plain", excel=False)
    excel = _score(inputs, tmp_path / "excel", excel=True)
    for kind in ("output", "rejects", "alerts"):
        assert not plain[kind].read_bytes().startswith(BOM)
        want = pl.read_csv(plain[kind])
        got = pl.read_csv(excel[kind], separator=";", decimal_comma=True)
        assert got.equals(want), kind
    assert pl.read_csv(plain["output"])["points_x"].to_list() == [66.25, 20.5]


def test_excel_csv_leaves_parquet_and_ndjson_as_they_are(inputs, tmp_path):
    data, scheme_path = inputs
    scheme = parse_scheme(scheme_path.read_text(), scheme_path)
    for excel in (False, True):
        out = tmp_path / str(excel)
        options = ScoreOptions(
            output=out / "s.parquet", rejects=out / "r.ndjson", alerts=out / "a.ndjson"
        )
        score(data, scheme, ScoreOptions(**{**options.__dict__, "excel_csv": excel}))
    assert pl.read_parquet(tmp_path / "True/s.parquet").equals(
        pl.read_parquet(tmp_path / "False/s.parquet")
    )
    for name in ("r.ndjson", "a.ndjson"):
        assert (tmp_path / "True" / name).read_bytes() == (tmp_path / "False" / name).read_bytes()


def test_diff_and_report_write_their_csv_for_excel(inputs, tmp_path):
    data, scheme_path = inputs
    scheme = parse_scheme(scheme_path.read_text(), scheme_path)
    scored = tmp_path / "scored.parquet"
    score(data, scheme, ScoreOptions(output=scored, rejects=tmp_path / "r.csv"))
    out = tmp_path / "diff.csv"
    diff(scored, scored, output=out, excel_csv=True)
    lines = out.read_bytes().decode("utf-8").splitlines()
    assert lines[0].startswith("\ufeffid;")
    assert lines[1] == 'a;66,3;66,3;0,0;high;high;same;"";1234,5;1234,5'
    diff(scored, scored, output=tmp_path / "plain_diff.csv")
    plain_diff = pl.read_csv(tmp_path / "plain_diff.csv")
    assert pl.read_csv(out, separator=";", decimal_comma=True).equals(plain_diff)
    rollups = tmp_path / "rollups.csv"
    report(scored, by=[["region"]], output=rollups, excel_csv=True)
    table = pl.read_csv(rollups, separator=";", decimal_comma=True)
    plain = tmp_path / "plain.csv"
    report(scored, by=[["region"]], output=plain)
    assert rollups.read_bytes().startswith(BOM)
    assert table.equals(pl.read_csv(plain))


def test_cli_excel_csv_on_score_diff_and_report(inputs, tmp_path):
    data, scheme_path = inputs
    out, rejects = tmp_path / "s.csv", tmp_path / "r.csv"
    result = invoke(
        "score", data, "-s", scheme_path, "-o", out, "--rejects", rejects, "--excel-csv"
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(BOM + b"id;region;mrr;x;points_x;score;")
    assert b"\na;EMEA;1234,5;66,25;66,25;66,3;high;1,0;x -33.8;excel;" in out.read_bytes()
    parquet = tmp_path / "s.parquet"
    assert (
        invoke("score", data, "-s", scheme_path, "-o", parquet, "--rejects", rejects).exit_code == 0
    )
    diffed = tmp_path / "d.csv"
    result = invoke("diff", parquet, parquet, "-o", diffed, "--excel-csv")
    assert result.exit_code == 0, result.output
    assert diffed.read_bytes().startswith(BOM + b"id;")
    rolled = tmp_path / "roll.csv"
    result = invoke("report", parquet, "--by", "region", "-o", rolled, "--excel-csv")
    assert result.exit_code == 0, result.output
    assert rolled.read_bytes().startswith(BOM)
