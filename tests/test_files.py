"""Reading inputs (formats, CSV dialects, encodings) and atomic writing."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from chs.errors import DataError, OptionError, OutputError
from chs.files import CsvOptions, PendingWrites, check_outputs, input_format, open_input, read_error

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def read(path: Path, csv: CsvOptions | None = None, text: tuple[str, ...] = ()) -> pl.DataFrame:
    with open_input(path, csv or CsvOptions(), text) as data:
        return data.frame.collect()


def test_french_excel_export_reads_like_the_utf8_file():
    fr = read(
        SAMPLE / "customers_fr.csv",
        CsvOptions(separator=";", decimal_comma=True, encoding="cp1252"),
    )
    utf8 = read(SAMPLE / "customers.csv")
    assert fr.equals(utf8)
    assert fr.filter(pl.col("name").str.contains("Société")).height > 0


def test_parquet_and_csv_samples_hold_the_same_rows():
    assert read(SAMPLE / "customers.parquet").equals(read(SAMPLE / "customers.csv"))


def test_text_columns_are_read_as_text_and_their_inferred_type_kept(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,n,x\n007,1,2.5\n008,2,3.5\n")
    with open_input(path, CsvOptions(), ("id", "n")) as data:
        frame = data.frame.collect()
        assert data.inferred == {"id": pl.Int64, "n": pl.Int64}
    assert frame.schema == pl.Schema({"id": pl.String, "n": pl.String, "x": pl.Float64})
    assert frame["id"].to_list() == ["007", "008"]


def test_tsv_uses_tab_and_bom_is_ignored(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_bytes("\ufeffid\tx\nA\t1\n".encode())
    assert read(path).rows() == [("A", 1)]
    assert read(path).columns == ["id", "x"]


def test_default_missing_markers(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,x\nA,NA\nB,N/A\nC,#N/A\nD,\nE,null\n")
    # "NA" stays text: it is North America in a region column
    assert read(path)["x"].to_list() == ["NA", None, None, None, None]
    custom = read(path, CsvOptions(null_values=("#N/A", "NA")), ("x",))
    assert custom["x"].to_list() == [None, "N/A", None, None, "null"]


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "e.csv", "the file is empty"),
        (b"PK\x03\x04rest", "s.csv", "looks like a spreadsheet (Excel); export it as CSV first"),
        (
            b"id,x\n",
            "h.json",
            "unknown file type .json; inputs are CSV (.csv, .tsv, .txt) or Parquet (.parquet)",
        ),
        (
            b"id,x\n1,2\n",
            "p.parquet",
            "not a Parquet file (it does not start with the PAR1 magic bytes)",
        ),
    ],
)
def test_unreadable_inputs(tmp_path, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as err:
        input_format(path)
    assert err.value.message == f"{path}: {message}"
    assert err.value.exit_code == 4


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        input_format(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a directory"):
        input_format(tmp_path)


def test_semicolon_file_read_with_commas_suggests_the_separator(tmp_path):
    path = tmp_path / "fr.csv"
    path.write_text("id;x\nA;1,5\n")
    with pytest.raises(DataError) as err:
        read(path)
    assert (
        err.value.message == f"{path}: the header is one column 'id;x'; it looks separated by ';'"
    )
    assert err.value.hint == "separator"  # the CLI words it: try --separator ';' …


@pytest.mark.parametrize(
    ("encoding", "message"),
    [
        (
            "klingon",
            "{option} 'klingon' is not a known encoding (for example utf-8, cp1252, latin-1)",
        ),
        (
            "rot13",  # a codec, str to str: not a text encoding
            "{option} 'rot13' is a codec but not a text encoding (for example utf-8, cp1252, latin-1)",
        ),
        (
            "base64",
            "{option} 'base64' is a codec but not a text encoding (for example utf-8, cp1252, latin-1)",
        ),
    ],
)
def test_a_bad_encoding_is_a_usage_error_before_any_file_is_read(encoding, message):
    with pytest.raises(OptionError) as err:
        CsvOptions(encoding=encoding)
    assert err.value.template == message
    assert err.value.option == "encoding"
    assert err.value.exit_code == 2
    assert str(err.value) == message.replace("{option}", "encoding")


def test_bytes_that_are_not_the_encoding(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"id,x\nA,\x81\n")  # 0x81 is undefined in cp1252
    with pytest.raises(DataError) as err:
        read(path, CsvOptions(encoding="cp1252"))
    assert err.value.message == f"{path}: not valid cp1252: character maps to <undefined>"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("A,1\nB,2,3\n", "row 2 has 3 fields but the header has 2"),
        ("A,1\nB\nC\n", "row 2 has 1 fields but the header has 2 (2 such rows)"),
        ('A,"x,y"\nB,"say ""hi"", then go"\n', None),  # separators inside quotes
        ('A,"two\nlines"\nB,1,2\n', None),  # a quoted field spans lines: no verdict
    ],
)
def test_row_width_check(tmp_path, body, message):
    path = tmp_path / "a.csv"
    path.write_text("id,x\n" + body)
    with open_input(path) as data:
        assert data.widths is not None
        problem = data.width_problem(data.widths.collect())
    assert (problem.message if problem else None) == (f"{path}: {message}" if message else None)


def test_read_error_names_the_ragged_row_or_hints_the_encoding(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,x\nA,1\nB,2,3\n")
    with open_input(path) as data:
        err = read_error(
            pl.exceptions.ComputeError("found more fields than defined in 'Schema'"), data
        )
        assert err.message == f"{path}: row 2 has 3 fields but the header has 2"
        plain = read_error(pl.exceptions.ComputeError("invalid utf-8 sequence"), data)
    assert plain.message == f"{path}: cannot read: invalid utf-8 sequence"
    assert plain.hint == "encoding"  # the CLI words it: try --encoding cp1252 …


def test_outputs_never_overwrite_inputs(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("id\n1\n")
    with pytest.raises(OutputError) as err:
        check_outputs([tmp_path / "." / "in.csv"], [data])
    assert (
        err.value.message
        == f"{tmp_path / '.' / 'in.csv'}: is an input of this run; inputs are never overwritten"
    )
    assert err.value.exit_code == 5
    with pytest.raises(OutputError, match="given for two outputs"):
        check_outputs([tmp_path / "a.csv", tmp_path / "a.csv"], [data])
    with pytest.raises(
        OutputError, match=r"unknown output type \.xlsx; use \.csv, \.parquet or \.ndjson"
    ):
        check_outputs([tmp_path / "a.xlsx"], [data])


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".ndjson"])
def test_pending_writes_commit_each_format_and_leave_no_temporary(tmp_path, suffix):
    frame = pl.DataFrame({"id": ["a", "b"], "score": [12.5, 80.0]})
    target = tmp_path / "sub" / f"out{suffix}"
    with PendingWrites([(frame.lazy(), target)]) as pending:
        pl.collect_all(pending.sinks)
        assert not target.exists()  # nothing is in place before the commit
        pending.commit()
    back = {".csv": pl.read_csv, ".parquet": pl.read_parquet, ".ndjson": pl.read_ndjson}[suffix](
        target
    )
    assert back.equals(frame)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]


def test_failed_write_keeps_the_old_file_and_removes_temporaries(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old content\n")
    failing = pl.LazyFrame({"x": ["1", "oops"]}).select(pl.col("x").cast(pl.Int64, strict=True))
    with pytest.raises(pl.exceptions.PolarsError), PendingWrites([(failing, target)]) as pending:
        pl.collect_all(pending.sinks)
        pending.commit()
    assert target.read_text() == "old content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_discarded_writes_leave_the_target_untouched(tmp_path):
    target = tmp_path / "out.parquet"
    target.write_bytes(b"last month")
    with PendingWrites([(pl.LazyFrame({"a": [1]}), target)]) as pending:
        pl.collect_all(pending.sinks)
    assert target.read_bytes() == b"last month"
    assert [p.name for p in tmp_path.iterdir()] == ["out.parquet"]


def test_discarded_writes_remove_the_folders_they_made_but_no_other(tmp_path):
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "other.txt").write_text("mine")
    frames = [
        (pl.LazyFrame({"a": [1]}), tmp_path / "new" / "deep" / "out.parquet"),
        (pl.LazyFrame({"a": [1]}), kept / "sub" / "out.csv"),
    ]
    with PendingWrites(frames) as pending:
        pl.collect_all(pending.sinks)
        assert (tmp_path / "new" / "deep").is_dir()
    # nothing committed: the folders made for the outputs are gone, the others stay
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
    assert [p.name for p in kept.iterdir()] == ["other.txt"]


def test_committed_writes_keep_their_folders(tmp_path):
    target = tmp_path / "new" / "out.parquet"
    with PendingWrites([(pl.LazyFrame({"a": [1]}), target)]) as pending:
        pl.collect_all(pending.sinks)
        pending.commit()
    assert pl.read_parquet(target)["a"].to_list() == [1]
