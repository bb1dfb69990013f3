"""Reading inputs (formats, CSV dialects, encodings) and atomic writing."""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import tempfile
import time
from pathlib import Path

import polars as pl
import pytest
from support import write

import chs.files
from chs.errors import HINT_ENCODING, DataError, OptionError, OutputError
from chs.files import (
    TEMP_FILE,
    WORK_FOLDER,
    CsvOptions,
    PendingWrites,
    WorkFolder,
    check_outputs,
    encoding_hint,
    input_format,
    open_input,
    read_error,
    sweep,
    sweep_work,
    whole_file_types,
    write_parquet,
)

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


def test_text_columns_are_read_as_text_and_the_others_typed(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,n,x\n007,1,2.5\n008,2,3.5\n")
    with open_input(path, CsvOptions(), ("id", "n")) as data:
        frame = data.frame.collect()
    assert frame.schema == pl.Schema({"id": pl.String, "n": pl.String, "x": pl.Float64})
    assert frame["id"].to_list() == ["007", "008"]


def test_typed_columns_take_the_type_of_the_whole_file_and_the_others_are_text(tmp_path):
    # n is whole numbers for 12,000 rows, then 12.5; zip looks like a number for as long,
    # then is a UK postcode: read from the first 10,000 rows, one failed the whole file
    rows = [f"C{i},{i},{i:05d}" for i in range(12_000)]
    path = tmp_path / "a.csv"
    path.write_text("id,n,zip\n" + "\n".join([*rows, "X,12.5,SW1A 1AA"]) + "\n")
    with open_input(path, CsvOptions(), typed=["n"]) as data:
        frame = data.frame.collect()
    assert frame.schema == pl.Schema({"id": pl.String, "n": pl.Float64, "zip": pl.String})
    assert frame["zip"].to_list()[:2] == ["00000", "00001"]
    assert frame.row(-1) == ("X", 12.5, "SW1A 1AA")


def test_whole_file_types_are_those_of_every_value(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("i,f,b,t,s,e\n1,2,true,1,5,\n2,2.5,false,x, 6,\n" + "3,3,true,2,7,\n" * 20_000)
    text = pl.scan_csv(path, infer_schema=False)
    # whole numbers; numbers; true/false; text in the second row; a padded number; empty
    assert whole_file_types(text, ["i", "f", "b", "t", "s", "e"], CsvOptions()) == {
        "i": pl.Int64,
        "f": pl.Float64,
        "b": pl.Boolean,
        "e": pl.Int64,
    }


def test_whole_file_types_read_the_runs_decimal_mark(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x;y\n1,5;2\n3;1.234,5\n")
    text = pl.scan_csv(path, infer_schema=False, separator=";")
    assert whole_file_types(text, ["x", "y"], CsvOptions(";", decimal_comma=True)) == {
        "x": pl.Float64
    }


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
        (
            b"PK\x03\x04rest",
            "s.csv",
            "looks like an Excel workbook; name it .xlsx (or .xls) to read it as one",
        ),
        (
            b"id,x\n",
            "h.json",
            "unknown file type .json; inputs are CSV (.csv, .tsv, .txt, or compressed: .csv.gz, "
            ".csv.zst), Parquet (.parquet) or Excel (.xlsx, .xlsm, .xls, .xlsb)",
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


_ONE = "{option} must be one ASCII character, such as ';' or tab (got %s)"
_SPLITS = "{option} cannot be a line break, a carriage return or the quote character (got %s)"


@pytest.mark.parametrize(
    ("separator", "message"),
    [
        ("\n", _SPLITS % "'\\n'"),
        ("\r", _SPLITS % "'\\r'"),
        ('"', _SPLITS % "'\"'"),
        ("", _ONE % "''"),
        (";;", _ONE % "';;'"),
        ("é", _ONE % "'é'"),  # one character, two bytes: Polars splits on one byte
    ],
)
def test_a_separator_that_cannot_split_a_csv_is_a_usage_error(separator, message):
    # before, each was accepted and the file read as one garbled column: the scheme's
    # id then showed as `not found`
    with pytest.raises(OptionError) as err:
        CsvOptions(separator=separator)
    assert err.value.template == message
    assert err.value.option == "separator"
    assert err.value.exit_code == 2


@pytest.mark.parametrize("separator", [",", ";", "\t", "|"])
def test_a_one_character_separator_reads_the_columns(tmp_path, separator):
    path = write(tmp_path / "d.csv", f"id{separator}x\nC1{separator}5\n")
    frame = read(path, CsvOptions(separator=separator))
    assert frame.rows() == [("C1", 5)]
    assert frame.columns == ["id", "x"]


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


@pytest.mark.parametrize(
    ("message", "hint"),
    [
        ("invalid utf-8 sequence", HINT_ENCODING),  # Polars, reading a cp1252 CSV
        ("string found to be invalid utf8: at byte 3", HINT_ENCODING),
        ("file encoding is not UTF-8", HINT_ENCODING),
        ("cannot decode input using UTF-8: bad byte", HINT_ENCODING),
        ("stream did not contain valid UTF-8", HINT_ENCODING),
        ("'utf-8' codec can't decode byte 0xe9 in position 3", HINT_ENCODING),
        # a type's name is no decode failure: the hint sent users to --encoding for it
        ("casting from Utf8View to Boolean not supported", None),
        ("conversion from `str` to `bool` failed in column 'name'; Utf8 values", None),
        ("could not parse `abc` as dtype `i64`", None),
    ],
)
def test_the_encoding_hint_is_given_for_decode_failures_only(message, hint):
    assert encoding_hint(pl.exceptions.ComputeError(message)) == hint


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


# -- what is not a file: named, never opened ------------------------------------------------

PIPE_ADVICE = "chs reads an input more than once, so save it to a file first"


def test_a_fifo_is_named_without_being_opened(tmp_path):
    fifo = tmp_path / "export.csv"
    os.mkfifo(fifo)  # opening it would block: nobody writes to it
    with pytest.raises(DataError) as err:
        input_format(fifo)
    assert err.value.message == f"{fifo}: is a named pipe (FIFO), not a file; {PIPE_ADVICE}"


def test_an_anonymous_pipe_a_device_and_a_socket_are_named(tmp_path):
    read_end, write_end = os.pipe()
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(tmp_path / "s.csv"))
        cases = [
            (Path(f"/proc/self/fd/{read_end}"), f"is a pipe, not a file; {PIPE_ADVICE}"),
            (Path("/dev/zero"), "is a device, not a file"),
            (tmp_path / "s.csv", "is a socket, not a file"),
        ]
        for path, message in cases:
            with pytest.raises(DataError) as err:
                input_format(path)
            assert err.value.message == f"{path}: {message}"
            assert err.value.exit_code == 4
    finally:
        server.close()
        os.close(read_end)
        os.close(write_end)


def test_an_output_that_is_a_fifo_or_a_folder_is_refused(tmp_path):
    data = write(tmp_path / "in.csv", "id\n1\n")
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    with pytest.raises(OutputError) as err:
        check_outputs([fifo], [data])
    assert err.value.message == (
        f"{fifo}: is a named pipe (FIFO), not a file; outputs are written to a temporary "
        "file and renamed into place"
    )
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(OutputError) as err:
        check_outputs([tmp_path / "dir.csv"], [data])
    assert err.value.message == f"{tmp_path / 'dir.csv'}: is a directory"


# -- a header that names a column twice ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "separator", "message"),
    [
        ("id,x,y,x\n1,2,3,4\n", ",", "column 'x' appears twice in the header (columns 2 and 4)"),
        (
            '"a,b";x;"a,b"\n1;2;3\n',
            ";",
            "column 'a,b' appears twice in the header (columns 1 and 3)",
        ),
        (
            "\ufeffid,id,id\n1,2,3\n",
            ",",
            "column 'id' appears 3 times in the header (columns 1, 2 and 3)",
        ),
    ],
)
def test_a_duplicate_header_names_the_column_and_its_positions(tmp_path, text, separator, message):
    path = tmp_path / "a.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as err:
        read(path, CsvOptions(separator=separator))
    assert (err.value.message, err.value.exit_code) == (f"{path}: {message}", 4)


# -- an input that changes while it is read ------------------------------------------------


def test_a_file_rewritten_after_it_was_opened_is_reported_as_changed(tmp_path):
    path = write(tmp_path / "a.csv", "id,x\nA,1\nB,2\n")
    changed = (
        f"{path}: the file changed while it was being read (truncated, rewritten or "
        "replaced); run again once it is complete"
    )
    with open_input(path) as data:
        assert data.changed() is None
        data.check_unchanged()
        path.write_text("id,x\nA,1\n")  # a cron job rewrites the export
        assert data.changed().message == changed
        with pytest.raises(DataError, match="the file changed while it was being read"):
            data.check_unchanged()
        # whatever Polars then says, the read error says what happened
        error = read_error(OSError("failed to fill whole buffer"), data)
        assert (error.message, error.exit_code) == (changed, 4)


def test_a_transcoded_copy_is_read_from_then_on(tmp_path):
    """A cp1252 file is copied at open: later changes of the original do not matter."""
    path = tmp_path / "a.csv"
    path.write_bytes("id,x\nÉ,1\n".encode("cp1252"))
    with open_input(path, CsvOptions(encoding="cp1252")) as data:
        path.write_bytes(b"id,x\nB,2\n")
        assert data.changed() is None
        assert data.frame.collect().rows() == [("É", 1)]


# -- failed writes name the output; temporaries are recorded, locked and swept -------------


def failing_writes(monkeypatch, marker: str, errno_: int = errno.ENOSPC) -> None:
    """The seam: every os.write to a file whose name holds `marker` fails with errno_."""
    real = os.write

    def write_(fd: int, data) -> int:
        if marker in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno_, os.strerror(errno_))
        return real(fd, data)

    monkeypatch.setattr(os, "write", write_)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".ndjson"])
def test_a_failed_write_is_an_output_error_naming_its_output(tmp_path, monkeypatch, suffix):
    """Polars raises OSError (CSV, NDJSON) or a ComputeError naming no file (Parquet):
    the block ends with the output named, the other output untouched, nothing left."""
    ok, full = tmp_path / "ok.csv", tmp_path / f"full{suffix}"
    ok.write_text("last month\n")
    full.write_text("last month\n")
    failing_writes(monkeypatch, f".full{suffix}.chs-")
    frame = pl.LazyFrame({"a": list(range(1000))})
    with pytest.raises(OutputError) as err, PendingWrites([(frame, ok), (frame, full)]) as pending:
        pl.collect_all(pending.sinks)
        pending.commit()
    assert (err.value.message, err.value.exit_code) == (
        f"{full}: cannot write: No space left on device",
        5,
    )
    assert ok.read_text() == full.read_text() == "last month\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full" + suffix, "ok.csv"]


def test_a_reserved_output_written_by_the_caller_is_named_too(tmp_path, monkeypatch):
    target = tmp_path / "rows.parquet"
    failing_writes(monkeypatch, ".rows.parquet.chs-", errno.EFBIG)
    with pytest.raises(OutputError) as err, PendingWrites([]) as pending:
        write_parquet(pl.LazyFrame({"a": [1, 2]}), pending.reserve(target))
    assert err.value.message == f"{target}: cannot write: File too large"
    assert list(tmp_path.iterdir()) == []


def test_a_commit_that_fails_midway_removes_the_new_files_it_renamed(tmp_path, monkeypatch):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"  # neither existed before
    real = os.replace

    def replace(src, dst) -> None:
        if Path(dst) == second:
            raise OSError(errno.EIO, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    frame = pl.LazyFrame({"a": [1]})
    with pytest.raises(OutputError) as err, PendingWrites([(frame, first), (frame, second)]) as p:
        pl.collect_all(p.sinks)
        p.commit()
    assert err.value.message == f"{second}: cannot write: Input/output error"
    assert list(tmp_path.iterdir()) == []  # a.csv, renamed first, was taken back


@pytest.mark.parametrize("after", [False, True], ids=["before-rename", "after-rename"])
def test_an_interrupt_during_the_commit_puts_back_every_output(tmp_path, monkeypatch, after):
    # Ctrl-C or SIGTERM is an exception wherever Python is: in the middle of the renames
    # it left a.csv new and b.csv, c.csv old (only an OSError was undone)
    targets = [tmp_path / n for n in ("a.csv", "b.csv", "c.csv")]
    for target in targets[:2]:
        target.write_text("previous\n")  # c.csv is new
    real = os.replace
    interrupted: list[Path] = []

    def replace(src, dst) -> None:
        if Path(dst) == targets[1] and not interrupted:  # once: the undo renames too
            interrupted.append(Path(dst))
            if after:
                real(src, dst)
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    frame = pl.LazyFrame({"a": [1]})
    with pytest.raises(KeyboardInterrupt), PendingWrites([(frame, t) for t in targets]) as p:
        pl.collect_all(p.sinks)
        p.commit()
    assert interrupted == [targets[1]]
    assert [t.read_text() for t in targets[:2]] == ["previous\n", "previous\n"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]  # no c.csv, no .tmp


def test_a_live_runs_temporaries_are_locked(tmp_path):
    target = tmp_path / "out.csv"
    with PendingWrites([(pl.LazyFrame({"a": [1]}), target)]) as pending:
        (tmp,) = [t for t, _ in pending.temps]
        assert TEMP_FILE.match(tmp.name) and tmp.name.startswith(".out.csv.chs-")
        with tmp.open("rb") as other, pytest.raises(BlockingIOError):  # as a sweep tries
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert sweep([tmp_path], time.time() + 3600) == []  # "old", but locked


def old(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    os.utime(path, (1_000_000_000, 1_000_000_000))
    return path


def test_sweep_removes_only_old_unlocked_files_of_our_pattern(tmp_path):
    started = time.time()
    stale = old(tmp_path / ".out.csv.chs-a1b2c3d4.tmp")
    kept = [
        old(tmp_path / ".out.csv.tmp"),  # the pattern of another program
        old(tmp_path / "out.csv.chs-a1b2c3d4.tmp"),  # no dot
        old(tmp_path / ".out.csv.chs-A1B2C3D4.tmp"),  # mkstemp never uses capitals
        tmp_path / ".new.csv.chs-00000000.tmp",  # written after this run started
    ]
    kept[-1].write_bytes(b"x")
    os.utime(kept[-1], (started + 60, started + 60))
    folder = tmp_path / ".dir.csv.chs-d1d2d3d4.tmp"  # our name, but a folder
    folder.mkdir()
    os.utime(folder, (1_000_000_000, 1_000_000_000))
    link = tmp_path / ".link.csv.chs-e1e2e3e4.tmp"
    link.symlink_to(tmp_path / "out.csv.chs-a1b2c3d4.tmp")
    assert sweep([tmp_path, tmp_path / "missing"], started) == [stale]
    assert [p for p in [*kept, folder] if not p.exists()] == []
    assert link.is_symlink()


def test_working_folders_are_locked_removed_and_swept(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stale = tmp_path / "chs-0ld0ld00"
    old(stale / "summary.parquet")
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    other = old(tmp_path / "chs-not-ours" / "f")
    recent = tmp_path / "chs-30m1nago"  # unlocked, but maybe an older chs's, still running
    recent.mkdir()
    os.utime(recent, (time.time() - 1800, time.time() - 1800))
    with WorkFolder() as work:
        assert not stale.exists()  # a killed run's: swept when this one was made
        assert recent.exists()
        assert WORK_FOLDER.match(work.path.name)
        assert sweep_work(time.time() + 7200) == [recent]  # this run's is locked
        (work.path / "utf8.csv").write_text("x")
    assert not work.path.exists()
    assert other.exists()


def test_a_failed_write_in_a_working_folder_names_tmpdir(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    failing_writes(monkeypatch, "summary.parquet", errno.ENOSPC)
    with pytest.raises(OutputError) as err, WorkFolder() as work:
        sink = work.sink_parquet(pl.LazyFrame({"a": [1]}), "summary.parquet")
        pl.collect_all([sink])
    assert err.value.message == (
        f"{tmp_path}: cannot write a working file in TMPDIR: No space left on device"
    )
    assert list(tmp_path.iterdir()) == []


# -- an interrupt (Ctrl-C, SIGTERM) as the files are made: nothing is left ---------------
# It is an exception wherever Python is; until the constructor returns, no `with` block
# removes what it made. Each seam raises KeyboardInterrupt just after the real call.


def interrupted_after(monkeypatch, module, name: str, when) -> list[object]:
    """Make `module.name` raise KeyboardInterrupt after its real call, the first time
    `when(*args)` holds; the calls interrupted."""
    real, seen = getattr(module, name), []

    def call(*args, **kwargs):
        result = real(*args, **kwargs)
        if not seen and when(*args):
            seen.append(args[0])
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(module, name, call)
    return seen


def test_an_interrupt_as_a_temporary_is_opened_leaves_no_file(tmp_path, monkeypatch):
    seen = interrupted_after(monkeypatch, os, "open", lambda path, *_: ".b.csv.chs-" in str(path))
    frame = pl.LazyFrame({"a": [1]})
    with pytest.raises(KeyboardInterrupt):
        PendingWrites([(frame, tmp_path / "a.csv"), (frame, tmp_path / "b.csv")])
    assert len(seen) == 1  # b.csv's temporary was made, a.csv's before it
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_before_a_temporary_is_recorded_leaves_no_file(tmp_path, monkeypatch):
    seen = interrupted_after(monkeypatch, chs.files, "_lock", lambda fd: True)
    with pytest.raises(KeyboardInterrupt):
        PendingWrites([(pl.LazyFrame({"a": [1]}), tmp_path / "a.csv")])
    assert len(seen) == 1
    assert list(tmp_path.iterdir()) == []


def test_an_interrupt_as_the_working_folder_is_made_leaves_no_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen = interrupted_after(monkeypatch, os, "open", lambda path, *_: "chs-" in str(path))
    with pytest.raises(KeyboardInterrupt):
        WorkFolder()
    assert len(seen) == 1
    assert list(tmp_path.iterdir()) == []


# -- permissions: an output gets the mode any program's file gets -------------------------


@pytest.fixture
def umask():
    """Set the process umask for one test (`umask(0o027)`), restored after."""
    before = os.umask(0o022)
    os.umask(before)
    yield os.umask
    os.umask(before)


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def write_outputs(*targets: Path) -> None:
    frame = pl.LazyFrame({"a": [1, 2]})
    with PendingWrites([(frame, t) for t in targets]) as pending:
        pl.collect_all(pending.sinks)
        pending.commit()


@pytest.mark.parametrize(
    ("mask", "expected"),
    [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)],
    ids=["umask 022", "umask 027", "umask 002"],
)
def test_a_new_output_gets_0666_minus_the_umask(tmp_path, umask, mask, expected):
    # mkstemp made every output 0600: a BI service account could not read it
    umask(mask)
    targets = [tmp_path / "out" / "a.csv", tmp_path / "b.parquet", tmp_path / "c.ndjson"]
    write_outputs(*targets)
    assert [mode(t) for t in targets] == [expected] * 3


def test_an_overwritten_output_keeps_its_mode(tmp_path, umask):
    umask(0o022)
    kept, other = tmp_path / "kept.csv", tmp_path / "other.parquet"
    kept.write_text("last month\n")
    kept.chmod(0o640)
    other.write_text("last month\n")
    other.chmod(0o604)
    write_outputs(kept, other)
    assert (mode(kept), mode(other)) == (0o640, 0o604)
    assert kept.read_text() == "a\n1\n2\n"


def test_a_reserved_output_gets_the_same_modes(tmp_path, umask):
    umask(0o027)
    new, old = tmp_path / "new.parquet", tmp_path / "old.parquet"
    old.write_text("last month\n")
    old.chmod(0o600)
    with PendingWrites([]) as pending:
        write_parquet(pl.LazyFrame({"a": [1]}), pending.reserve(new))
        write_parquet(pl.LazyFrame({"a": [2]}), pending.reserve(old))
        pending.commit()
    assert (mode(new), mode(old)) == (0o640, 0o600)
    assert pl.read_parquet(old)["a"].to_list() == [2]


def test_a_temporary_is_private_while_it_is_written(tmp_path, umask):
    # the data is never readable more widely than the file it replaces (0600 here)
    umask(0o000)
    target = tmp_path / "secret.csv"
    target.write_text("last month\n")
    target.chmod(0o600)
    with PendingWrites([(pl.LazyFrame({"a": [1]}), target)]) as pending:
        (tmp,) = [t for t, _ in pending.temps]
        assert mode(tmp) == 0o600
        pl.collect_all(pending.sinks)
        assert mode(tmp) == 0o600
        pending.commit()
    assert mode(target) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.csv"]


# -- a header that is not UTF-8 ---------------------------------------------------------------


def test_a_header_that_is_not_utf8_is_refused_with_the_encoding_hint(tmp_path):
    path = tmp_path / "fr.csv"
    path.write_bytes("id,Société,x\n1,a,2\n".encode("cp1252"))
    with pytest.raises(DataError) as err, open_input(path):
        pass
    assert (err.value.message, err.value.hint, err.value.exit_code) == (
        f"{path}: the header is not valid UTF-8 (column 2, 'Soci\ufffdt\ufffd')",
        HINT_ENCODING,
        4,
    )
    assert read(path, CsvOptions(encoding="cp1252")).columns == ["id", "Société", "x"]


def test_a_header_that_holds_u_fffd_as_written_is_valid(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("id,caf\ufffd,x\n1,a,2\n", encoding="utf-8")
    assert read(path).columns == ["id", "caf\ufffd", "x"]
