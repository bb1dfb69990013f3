"""A CSV header that names a column twice: Polars would score the first and rename the
second `<name>_duplicated_0` without a word. Each case is refused with exit 4, one
message naming the column and its positions (1-based, as a spreadsheet counts them),
and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import CLI_SCHEME, assert_failed, invoke, write


@pytest.fixture
def scheme(tmp_path: Path) -> Path:
    return write(tmp_path / "s.yaml", CLI_SCHEME)


@pytest.mark.parametrize(
    ("header", "row", "where"),
    [
        # the value column twice
        (
            "id,segment,mrr,nps,mrr,login",
            "C1,SMB,100,8,200,12",
            "'mrr' appears twice in the header (columns 3 and 5)",
        ),
        # a signal's column twice, side by side
        (
            "id,login,login,nps,mrr",
            "C1,12,3,8,100",
            "'login' appears twice in the header (columns 2 and 3)",
        ),
        # three times
        (
            "id,x,login,x,nps,x,mrr",
            "C1,1,12,2,8,3,100",
            "'x' appears 3 times in the header (columns 2, 4 and 6)",
        ),
        # the id
        (
            "id,login,nps,mrr,id",
            "C1,12,8,100,C2",
            "'id' appears twice in the header (columns 1 and 5)",
        ),
    ],
)
def test_a_duplicate_column_is_named_with_both_positions(
    tmp_path: Path, scheme: Path, header: str, row: str, where: str
):
    data = write(tmp_path / "in.csv", f"{header}\n{row}\n")
    out = tmp_path / "out" / "scored.csv"
    assert_failed(
        invoke("score", data, "-s", scheme, "-o", out), 4, f"Error: {data}: column {where}", out
    )


def test_quoted_names_with_the_separator_in_them_are_counted_as_one_column(
    tmp_path: Path, scheme: Path
):
    """`"login;week"` is one column of a `;` file: positions count fields, not `;`."""
    data = write(
        tmp_path / "in.csv",
        'id;"login;week";login;nps;mrr;"login;week"\nC1;1;12;8;100;2\n',
    )
    result = invoke("score", data, "-s", scheme, "--separator", ";")
    assert_failed(
        result,
        4,
        f"Error: {data}: column 'login;week' appears twice in the header (columns 2 and 6)",
    )


def test_a_tsv_header_is_read_with_tabs(tmp_path: Path, scheme: Path):
    data = write(tmp_path / "in.tsv", "id\tlogin\tnps\tmrr\tnps\nC1\t12\t8\t100\t9\n")
    result = invoke("score", data, "-s", scheme)
    assert_failed(
        result, 4, f"Error: {data}: column 'nps' appears twice in the header (columns 3 and 5)"
    )


def test_a_cp1252_header_is_checked_after_transcoding(tmp_path: Path, scheme: Path):
    data = tmp_path / "in.csv"
    data.write_bytes("id,login,nps,mrr,Société,Société\nC1,12,8,100,a,b\n".encode("cp1252"))
    result = invoke("score", data, "-s", scheme, "--encoding", "cp1252")
    assert_failed(
        result, 4, f"Error: {data}: column 'Société' appears twice in the header (columns 5 and 6)"
    )


def test_a_duplicate_in_the_previous_snapshot_is_named_too(tmp_path: Path, scheme: Path):
    data = write(tmp_path / "in.csv", "id,login,nps,mrr\nC1,12,8,100\n")
    last = write(tmp_path / "last.csv", "id,login,nps,mrr,nps\nC1,12,8,100,7\n")
    result = invoke("score", data, "-s", scheme, "--previous", last)
    assert_failed(
        result, 4, f"Error: {last}: column 'nps' appears twice in the header (columns 3 and 5)"
    )


def test_a_duplicate_in_chs_diff_is_named(tmp_path: Path, scheme: Path):
    last = write(tmp_path / "last.csv", "id,login,nps,mrr\nC1,12,8,100\n")
    this = write(tmp_path / "this.csv", "id,login,login,nps,mrr\nC1,12,3,8,100\n")
    result = invoke("diff", last, this, "-s", scheme)
    assert_failed(
        result, 4, f"Error: {this}: column 'login' appears twice in the header (columns 2 and 3)"
    )


def test_a_column_really_named_like_polars_renaming_is_not_a_duplicate(
    tmp_path: Path, scheme: Path
):
    """`login_duplicated_0` makes chs read the header line: no name repeats, so it scores."""
    data = write(tmp_path / "in.csv", "id,login,login_duplicated_0,nps,mrr\nC1,12,3,8,100\n")
    out = tmp_path / "scored.csv"
    result = invoke("score", data, "-s", scheme, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines()[0].startswith("id,login,login_duplicated_0,nps,mrr,")
