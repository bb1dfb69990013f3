"""Compressed CSV inputs (gzip, zstd) and standard input (issue 11, section 3): each read as the plain
file is, with the same scores (worked by hand in support.py: C1 95.0, C2 50.0, C3 100.0,
C4 2.5) and messages that name the file given, not the working copy."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import zstandard
from support import CLI_DATA, CLI_DATA_WITH_REJECTS, CLI_SCHEME, invoke, leftovers, write

CHS = Path(sys.executable).parent / "chs"
SCORES = {"C1": 95.0, "C2": 50.0, "C3": 100.0, "C4": 2.5}


def _gzip(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(gzip.compress(text.encode(encoding)))
    return path


def _scores(path: Path) -> dict[str, float]:
    frame = pl.read_csv(path, schema_overrides={"id": pl.String})
    return dict(zip(frame["id"], frame["score"], strict=True))


def test_gzipped_csv_scores_as_the_plain_file(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    data = _gzip(tmp_path / "customers.csv.gz", CLI_DATA)
    result = invoke("score", data, "--scheme", scheme, "-o", tmp_path / "out.csv", "--json")
    assert result.exit_code == 0, result.output
    assert _scores(tmp_path / "out.csv") == SCORES
    summary = json.loads(result.stdout)
    assert summary["input"] == str(data)
    assert summary["rows"]["read"] == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv.gz", "out.csv", "s.yaml"]


def test_gzipped_tsv_is_tab_separated_and_cp1252_is_transcoded(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    tsv = CLI_DATA.replace(",", "\t").replace("SMB", "Société")
    data = _gzip(tmp_path / "export.tsv.gz", tsv, encoding="cp1252")
    out = tmp_path / "out.csv"
    result = invoke("score", data, "--scheme", scheme, "-o", out, "--encoding", "cp1252")
    assert result.exit_code == 0, result.output
    assert _scores(out) == SCORES
    assert pl.read_csv(out)["segment"].to_list() == ["Société", "ENT", "Société", "ENT"]


def test_rejected_rows_of_a_gzipped_file_are_numbered_as_in_the_file(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    data = _gzip(tmp_path / "customers.csv.gz", CLI_DATA_WITH_REJECTS)
    rejects = tmp_path / "rejects.csv"
    result = invoke("score", data, "--scheme", scheme, "--rejects", rejects)
    assert result.exit_code == 0, result.output
    frame = pl.read_csv(rejects)
    assert frame["row"].to_list() == [2, 4]
    assert frame["reason"].to_list() == [
        "logins: 'abc' is not a number (column login)",
        "mrr: '4x0' is not a number (the value column)",
    ]


def test_a_file_that_is_not_gzip_is_named_with_exit_4(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    bad = write(tmp_path / "bad.csv.gz", "id,login\n")
    result = invoke("score", bad, "--scheme", scheme)
    assert result.exit_code == 4
    assert result.stderr == f"Error: {bad}: cannot read: Not a gzipped file (b'id')\n"


def test_a_truncated_gzip_is_named_with_exit_4(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    whole = gzip.compress((CLI_DATA * 50).encode())
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    result = invoke("score", cut, "--scheme", scheme, "-o", tmp_path / "out.csv")
    assert result.exit_code == 4
    assert result.stderr == (
        f"Error: {cut}: not a valid gzip file: Compressed file ended before the "
        "end-of-stream marker was reached\n"
    )
    assert not (tmp_path / "out.csv").exists()


def _zstd(path: Path, text: str, frames: int = 1) -> Path:
    """`text` compressed with zstd, in `frames` frames one after another (as `cat`
    of two .zst files makes, which zstd itself reads as one)."""
    data = text.encode()
    step = -(-len(data) // frames)
    parts = [data[i : i + step] for i in range(0, len(data), step)]
    path.write_bytes(b"".join(zstandard.ZstdCompressor().compress(p) for p in parts))
    return path


@pytest.mark.parametrize("frames", [1, 3])
def test_a_zstd_csv_scores_as_the_plain_file(tmp_path: Path, frames: int) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    data = _zstd(tmp_path / "customers.csv.zst", CLI_DATA, frames)
    result = invoke("score", data, "--scheme", scheme, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output
    assert _scores(tmp_path / "out.csv") == SCORES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv.zst", "out.csv", "s.yaml"]


def test_a_truncated_or_foreign_zstd_file_is_named_with_exit_4(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    whole = _zstd(tmp_path / "whole.csv.zst", CLI_DATA * 50).read_bytes()
    cut = tmp_path / "cut.csv.zst"
    cut.write_bytes(whole[: len(whole) // 2])
    result = invoke("score", cut, "--scheme", scheme, "-o", tmp_path / "out.csv")
    assert result.exit_code == 4
    assert result.stderr == (
        f"Error: {cut}: not a valid zstd file: the file ends inside a compressed frame "
        "(is it complete?)\n"
    )
    assert not (tmp_path / "out.csv").exists()
    foreign = write(tmp_path / "plain.csv.zst", CLI_DATA)
    result = invoke("score", foreign, "--scheme", scheme)
    assert result.stderr == (
        f"Error: {foreign}: not a valid zstd file: zstd decompressor error: Unknown frame "
        "descriptor\n"
    )


def test_an_empty_gzip_file_is_named(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    empty = tmp_path / "empty.csv.gz"
    empty.write_bytes(b"")
    result = invoke("score", empty, "--scheme", scheme)
    assert result.exit_code == 4
    assert result.stderr == f"Error: {empty}: the file is empty\n"


def _chs(*args: object, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(CHS), *map(str, args)], input=stdin, capture_output=True, timeout=60, check=False
    )


def test_standard_input_is_scored_through_a_pipe(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    out = tmp_path / "out.csv"
    proc = _chs("score", "-", "--scheme", scheme, "-o", out, "--json", stdin=CLI_DATA.encode())
    assert proc.returncode == 0, proc.stderr
    assert _scores(out) == SCORES
    summary = json.loads(proc.stdout)
    assert summary["input"] == "-"
    assert summary["rows"] == {"read": 4, "scored": 4, "rejected": 0}


def test_standard_input_with_repeated_ids_is_read_twice_from_its_copy(tmp_path: Path) -> None:
    """A run that finds repeated ids is done again: the copy of standard input serves both."""
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    data = CLI_DATA + "C1,SMB,1,1,10\n"
    out = tmp_path / "out.csv"
    rejects = tmp_path / "rejects.csv"
    proc = _chs(
        "score",
        "-",
        "--scheme",
        scheme,
        "-o",
        out,
        "--rejects",
        rejects,
        "--json",
        stdin=data.encode(),
    )
    assert proc.returncode == 0, proc.stderr
    assert _scores(out) == {"C2": 50.0, "C3": 100.0, "C4": 2.5}
    assert pl.read_csv(rejects)["row"].to_list() == [1, 5]
    assert json.loads(proc.stdout)["rows"] == {"read": 5, "scored": 3, "rejected": 2}


def test_errors_about_standard_input_name_it_as_the_user_did(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    proc = _chs("score", "-", "--scheme", scheme, stdin=CLI_DATA_WITH_REJECTS.encode())
    assert proc.returncode == 4
    assert proc.stderr.decode() == (
        "Error: -: 2 of 4 rows cannot be scored; nothing was written.\n"
        "  row 2 (C2): logins: 'abc' is not a number (column login)\n"
        "  row 4 (C4): mrr: '4x0' is not a number (the value column)\n"
        "Fix the data, or pass --rejects FILE to write these rows there and score the rest.\n"
    )


def test_empty_standard_input_is_exit_4(tmp_path: Path) -> None:
    scheme = write(tmp_path / "s.yaml", CLI_SCHEME)
    proc = _chs("score", "-", "--scheme", scheme, stdin=b"")
    assert proc.returncode == 4
    assert proc.stderr.decode() == "Error: -: standard input is empty\n"
    assert leftovers(tmp_path) == []
