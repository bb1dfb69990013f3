"""Reading inputs (CSV or Parquet, lazily) and writing outputs atomically.

Outputs go to a temporary file beside the target and are renamed into place only when
every output of the run is complete, so a failed run never leaves a half-written file.
An output path that names an input is refused, and so is one that is not a plain file
(a device or a pipe: renaming onto /dev/null would replace the device).

Temporary names. An output's temporary file is `.<name>.chs-XXXXXXXX.tmp` beside it
(XXXXXXXX random); backups of the files a commit replaces (kept until every rename has
succeeded, to put them back if one fails) are named alike. The leading dot hides them
from `ls`, from Spark, Hive and pyarrow.dataset (which skip `.` and `_` names) and from
Polars given `hidden_file_prefix="."`; the `.tmp` extension keeps them out of every
`*.parquet` glob (Polars, DuckDB). Polars' plain folder scan, `pl.scan_parquet("dir/")`,
skips no name at all (checked with Polars 2.1: dot, underscore and `_SUCCESS` files are
all read, or refused as another extension): while a run writes, only a glob such as
`pl.scan_parquet("history/*/scores.parquet")` is safe. No folder of ours holds one
after a run, failed or not; a killed run's are swept by the next (see `sweep`).

Permissions. A new output gets the mode any program's new file gets (0666 minus the
umask: 0644 under umask 022), an output that replaces a file keeps that file's mode
(0640 stays 0640); while it is written, the temporary is private (0600).

Working files (the summary's columns, a UTF-8 copy of a cp1252 CSV) go to a folder
`chs-XXXXXXXX` in TMPDIR, removed when the run ends.

Stale temporaries. A run stopped by Ctrl-C or (from the command line) SIGTERM removes
its files on the way out; a run killed with SIGKILL cannot. Every temporary file and
working folder is locked (flock) while its run lives, and the kernel drops the lock when
the process dies however it dies. So a run sweeps, in the folders it writes to, the
temporary files of exactly this pattern that are older than its start (by a second:
file times come from a coarser clock) and unlocked; and in TMPDIR, the working folders
of this pattern that are its user's, unlocked and more than an hour older than its
start (TMPDIR is shared with runs of older versions, which lock nothing). Nothing else
is ever removed.

Faults. Polars reports a failed write without the file's name (`File too large (os
error 27)`, or as a Parquet `Invalid thrift: transport error`), so every file Polars
writes goes through a `_Recorded` file object that keeps the first OSError: the failure
is reported as an OutputError naming the output, never as an input problem. An input
that changes while it is read (a cron job rewriting the export) is reported as such.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import gzip
import io
import logging
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import time
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from csv import Error as CsvError
from csv import reader as csv_reader
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from chs.columns import ROW_NUMBER
from chs.errors import (
    HINT_ENCODING,
    HINT_SEPARATOR,
    OPTION,
    DataError,
    OptionError,
    OutputError,
    polars_gist,
)
from chs.workbook import EXCEL_SUFFIXES, FIRST_ROW, read_sheet

try:  # POSIX: the lock that tells a live run's temporaries from a killed run's
    import fcntl
except ImportError:  # pragma: no cover - without locks, nothing is swept
    fcntl = None  # type: ignore[assignment]

Format = Literal["csv", "parquet", "ndjson", "excel"]
INPUT_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    **dict.fromkeys(EXCEL_SUFFIXES, "excel"),
}
OUTPUT_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
# Not "NA": it is North America in a region column.
DEFAULT_NULLS = ("", "N/A", "#N/A", "null", "NULL")
_SPREADSHEET = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # xlsx (zip) and legacy xls
_ENCODINGS = "for example utf-8, cp1252, latin-1"

# -- progress: what a long run is doing, for a display that listens -----------------------

# A run tells what it is doing through this logger, at INFO: the phase as the message, and
# the rows done (`rows`) or the bytes written (`written`) when known. Nobody listens unless
# a display (the CLI's, on a terminal) or the caller's logging asks for INFO: the calls
# are then one level check each. The library never prints.
PROGRESS = logging.getLogger("chs.progress")
_REPORT_EVERY = 0.1  # seconds between two reports of one file's writing


def progress(phase: str, rows: int | None = None, written: int | None = None) -> None:
    """Report a phase (`reading customers.csv`), with the rows done so far or the bytes
    written, to whoever listens to `chs.progress`."""
    if PROGRESS.isEnabledFor(logging.INFO):
        PROGRESS.info(phase, extra={"rows": rows, "written": written})


# The names of our temporaries (see the module docstring); nothing else is ever swept.
TEMP_FILE = re.compile(r"^\..+\.chs-[a-z0-9_]{8}\.tmp$")
WORK_FOLDER = re.compile(r"^chs-[a-z0-9_]{8}$")
_NAME = "abcdefghijklmnopqrstuvwxyz0123456789_"  # a working folder's random part (8 of them)


def check_encoding(name: str) -> str:
    """The encoding name, if Python can decode text with it: `rot13` and `base64` are
    codecs, but not text encodings. A bad one is a usage error, refused before any
    file is opened."""
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        raise OptionError(
            f"{OPTION} {name!r} is not a known encoding ({_ENCODINGS})", option="encoding"
        ) from None
    if not getattr(codec, "_is_text_encoding", True):
        raise OptionError(
            f"{OPTION} {name!r} is a codec but not a text encoding ({_ENCODINGS})",
            option="encoding",
        )
    return name


# What cannot separate fields: a file split at them reads as one garbled column, which
# showed only as the scheme's columns not found.
_NOT_SEPARATORS = ("\n", "\r", '"')


def check_separator(separator: str) -> str:
    """The field separator, if Polars can split a CSV with it: one byte (one ASCII
    character), neither a line break nor the quote character. A bad one is a usage
    error, refused before any file is opened."""
    if len(separator) != 1 or not separator.isascii():
        raise OptionError(
            f"{OPTION} must be one ASCII character, such as ';' or tab (got {separator!r})",
            option="separator",
        )
    if separator in _NOT_SEPARATORS:
        raise OptionError(
            f"{OPTION} cannot be a line break, a carriage return or the quote character "
            f"(got {separator!r})",
            option="separator",
        )
    return separator


@dataclass(frozen=True)
class CsvOptions:
    """How to read an export: French Excel writes `;`, `0,85` and cp1252; a workbook
    has sheets."""

    separator: str = ","
    decimal_comma: bool = False
    encoding: str = "utf-8"
    null_values: Sequence[str] = field(default=DEFAULT_NULLS)
    sheet: str | None = None  # an Excel input's sheet: its name or number (from 1)

    def __post_init__(self) -> None:
        check_separator(self.separator)
        check_encoding(self.encoding)


def not_a_file(path: Path, mode: int) -> str | None:
    """What a path that is neither a file nor a folder is, plainly, else None. Only its
    mode is looked at: opening a FIFO to see would block until someone writes to it."""
    if stat.S_ISFIFO(mode):
        real = os.path.realpath(path)  # /dev/fd/N of a shell pipe resolves to `pipe:[…]`
        named = os.path.lexists(real) and stat.S_ISFIFO(os.lstat(real).st_mode)
        return "is a named pipe (FIFO), not a file" if named else "is a pipe, not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file"
    return None


def _reason(exc: OSError) -> str:
    """An OSError's text without its errno and file name: `No space left on device`."""
    return exc.strerror or str(exc) or type(exc).__name__


def _stat_input(path: Path) -> os.stat_result:
    """An input's stat; a missing or unreadable one is a DataError naming it."""
    try:
        return path.stat()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {_reason(exc)}") from None


def input_format(path: Path) -> Format:
    """The format of an input file, by extension, else by its first bytes. A pipe or a
    device is refused before it is opened (chs reads an input more than once)."""
    st = _stat_input(path)
    if stat.S_ISDIR(st.st_mode):
        raise DataError(f"{path}: is a directory, not a CSV, Parquet or Excel file")
    what = not_a_file(path, st.st_mode)
    if what is not None:
        pipe = "pipe" in what
        more = "; chs reads an input more than once, so save it to a file first" if pipe else ""
        raise DataError(f"{path}: {what}{more}")
    if st.st_size == 0:
        raise DataError(f"{path}: the file is empty")
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {_reason(exc)}") from None
    fmt = INPUT_SUFFIXES.get(path.suffix.lower())
    if fmt == "excel":
        return fmt
    if head.startswith(_SPREADSHEET):
        raise DataError(
            f"{path}: looks like an Excel workbook; name it .xlsx (or .xls) to read it as one"
        )
    if head == b"PAR1":
        return "parquet"
    if fmt == "parquet":
        raise DataError(f"{path}: not a Parquet file (it does not start with the PAR1 magic bytes)")
    if fmt is None:
        raise DataError(
            f"{path}: unknown file type {path.suffix or '(no extension)'}; "
            "inputs are CSV (.csv, .tsv, .txt, or compressed: .csv.gz, .csv.zst), Parquet "
            "(.parquet) or "
            "Excel (.xlsx, .xlsm, .xls, .xlsb)"
        )
    return fmt


Stamp = tuple[int, int, int, int]


def _stamp(path: Path) -> Stamp | None:
    """What tells one version of a file from another: device, inode, size, mtime."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _changed_error(path: Path) -> DataError:
    return DataError(
        f"{path}: the file changed while it was being read (truncated, rewritten or "
        "replaced); run again once it is complete"
    )


@dataclass(frozen=True)
class Input:
    """A lazy scan, and for a CSV a query that finds rows whose number of fields differs
    from the header's. `stamp`: the file as it was opened, to tell a read failure from a
    file that changed."""

    path: Path
    frame: pl.LazyFrame
    widths: pl.LazyFrame | None = None
    text_scan: Callable[[Sequence[str]], pl.LazyFrame] | None = None
    stamp: Stamp | None = None
    first_row: int = 1  # the number of the first data row (2 in Excel, under its header)
    guessed: bool = False  # typed as the first rows are: see open_input's `guess`

    def changed(self) -> DataError | None:
        """The error to report when the file is no longer the one opened: Polars then
        fails (`failed to fill whole buffer`, a panic) or reads fewer rows silently."""
        if self.stamp is None or _stamp(self.path) == self.stamp:
            return None
        return _changed_error(self.path)

    def check_unchanged(self) -> None:
        """Raise `changed()`'s error, if any: before and after a pass over the file."""
        problem = self.changed()
        if problem is not None:
            raise problem

    def with_text(self, columns: Sequence[str]) -> pl.LazyFrame:
        """The same scan with these columns read as text (a CSV's ids: `0001` stays)."""
        return self.frame if self.text_scan is None else self.text_scan(columns)

    def numbered(self) -> pl.LazyFrame:
        """The rows with their numbers in the file (ROW_NUMBER): an Excel sheet's come
        numbered (its blank rows are skipped), a CSV's from `first_row`."""
        if ROW_NUMBER in self.frame.collect_schema():
            return self.frame
        return self.frame.with_row_index(ROW_NUMBER, offset=self.first_row)

    def width_proxy(self, rows: pl.LazyFrame) -> pl.LazyFrame | None:
        """A cheap stand-in for `widths`, collected with a pass over `rows` (the scan, or
        a frame keeping all its columns): it reads every column, so Polars itself fails
        on a row with too many fields, and counts the nulls of the last column, which a
        row with too few fields has. Only when there are some (`short` > 0) must the lines
        be counted."""
        if self.widths is None:
            return None
        names = self.frame.collect_schema().names()
        return rows.select(
            pl.col(names[-1]).is_null().sum().alias("short"),
            *[pl.col(c).is_null().any().alias(f"__read_{i}") for i, c in enumerate(names)],
        )

    def width_problem(self, widths: pl.DataFrame) -> DataError | None:
        """The error for the collected `widths` query, if a row is too short or too long."""
        row = widths.row(0, named=True)
        if row["bad_row"] is None or row["multiline"]:
            return None
        more = f" ({row['bad_count']} such rows)" if row["bad_count"] > 1 else ""
        return DataError(
            f"{self.path}: row {row['bad_row']} has {row['bad_fields']} fields "
            f"but the header has {row['header']}{more}"
        )


@contextlib.contextmanager
def open_input(
    path: str | Path,
    csv: CsvOptions = CsvOptions(),
    text_columns: Sequence[str] = (),
    *,
    typed: Collection[str] | None = None,
    guess: bool = False,
) -> Iterator[Input]:
    """A lazy scan of the input. From a CSV, `text_columns` are read as text (an id:
    `00123` stays), the others with the types Polars infers from the first rows (chs's
    own outputs). For scoring, `typed` names the columns read with the type inferred
    from the whole file (the scheme's numbers); every other column is text, exactly as
    written (a zip code `01234`, a date the scheme parses), so that no guess from the
    first rows can fail the run or drop a leading zero. With `guess`, the typed columns
    take the types of the first rows, and a pass that meets a value of another type
    raises TypesGuessedWrong: the caller opens the file again without (the same types,
    found first by a pass of their own). From an Excel sheet (`csv.sheet`),
    `text_columns` are read as text and the others keep their cells' types.

    A context manager because a non-UTF-8 CSV is transcoded to a temporary UTF-8 copy
    (streamed in chunks) that must outlive the lazy frame.
    """
    path = Path(path)
    if compression(path) is not None:
        with _decompressed(path, csv, text_columns, typed, guess) as plain:
            yield plain
        return
    fmt = input_format(path)
    stamp = _stamp(path)
    progress(f"reading {path.name}")
    if fmt == "excel":
        frame = read_sheet(path, csv.sheet, text_columns)
        yield Input(path, frame, stamp=stamp, first_row=FIRST_ROW)
        return
    if fmt == "parquet":
        lf = pl.scan_parquet(path, glob=False)
        try:
            lf.collect_schema()
        except Exception as exc:
            raise DataError(f"{path}: cannot read as Parquet: {polars_gist(exc)}") from None
        yield Input(path, lf, stamp=stamp)
        return
    with _utf8_copy(path, csv.encoding) as readable:
        if readable != path:  # the copy is read from now on: the file may change
            if _stamp(path) != stamp:
                raise _changed_error(path)
            stamp = None
        yield _scan_csv(path, readable, csv, text_columns, stamp, typed=typed, guess=guess)


_COMPRESSED = {".gz": "gzip", ".zst": "zstd"}


def compression(path: Path) -> str | None:
    """`gzip` or `zstd` for a compressed CSV (`customers.csv.gz`, `.tsv.zst`), read
    through a plain copy; None for any other file."""
    inner = Path(path.stem).suffix.lower()
    found = _COMPRESSED.get(path.suffix.lower())
    return found if found is not None and inner in (".csv", ".tsv", ".txt") else None


@contextlib.contextmanager
def _decompressed(
    path: Path,
    csv: CsvOptions,
    text_columns: Sequence[str],
    typed: Collection[str] | None,
    guess: bool,
) -> Iterator[Input]:
    """The input of a compressed CSV, read from a plain copy in a working folder
    (streamed: chs reads an input more than once, and checks its raw lines). Messages
    name the compressed file; one that is not gzip (zstd), or is cut short, is a
    DataError."""
    _check_compressed(path)
    kind = compression(path)
    with WorkFolder() as work:
        target = work.path / Path(path.stem).name
        with path.open("rb") as raw:
            chunks = _gzip_chunks(raw, path) if kind == "gzip" else _zstd_chunks(raw, path)
            try:
                with target.open("wb") as dst:
                    for chunk in chunks:
                        dst.write(chunk)
            except _corrupt_errors() as exc:  # truncated, or corrupt inside
                raise DataError(f"{path}: not a valid {kind} file: {exc}") from None
            except OSError as exc:
                raise work.write_error(exc, f"the plain copy of {path.name}") from None
        if target.stat().st_size == 0:
            raise DataError(f"{path}: the file is empty")
        progress(f"reading {path.name}")
        with _utf8_copy(target, csv.encoding, shown=path) as readable:
            yield _scan_csv(
                path,
                readable,
                csv,
                text_columns,
                None,
                suffix=target.suffix,
                typed=typed,
                guess=guess,
            )


def _corrupt_errors() -> tuple[type[Exception], ...]:
    import zstandard

    return (EOFError, zlib.error, zstandard.ZstdError)


def _gzip_chunks(raw: io.BufferedReader, path: Path) -> Iterator[bytes]:
    with gzip.open(raw, "rb") as src:
        yield from _chunks(src, path)  # type: ignore[arg-type]


def _zstd_chunks(raw: io.BufferedReader, path: Path) -> Iterator[bytes]:
    """A zstd file's content, frame after frame; one cut short is an EOFError (the
    library's stream reader would end there without a word)."""
    import zstandard

    dctx = zstandard.ZstdDecompressor()
    frame, inside = dctx.decompressobj(), False
    for data in _chunks(raw, path):
        while data:
            inside = True
            out = frame.decompress(data)
            if out:
                yield out
            data = b""
            if frame.eof:  # the frame ends here; another may follow
                data, frame, inside = frame.unused_data, dctx.decompressobj(), False
    if inside:
        raise EOFError("the file ends inside a compressed frame (is it complete?)")


def _check_compressed(path: Path) -> None:
    """A compressed input exists, is a file, and is not empty."""
    st = _stat_input(path)
    folder = stat.S_ISDIR(st.st_mode)
    what = "is a directory, not a file" if folder else not_a_file(path, st.st_mode)
    if what is not None:
        raise DataError(f"{path}: {what}")
    if st.st_size == 0:
        raise DataError(f"{path}: the file is empty")


@contextlib.contextmanager
def stdin_copy(path: Path) -> Iterator[Path]:
    """The path itself, or for `-` a copy of standard input in a working folder, made once
    for the whole run (chs reads an input more than once; a pipe can be read once)."""
    if str(path) != "-":
        yield path
        return
    if sys.stdin is None or sys.stdin.isatty():
        raise DataError("-: standard input is a terminal; pipe a CSV into chs, or name a file")
    with WorkFolder() as work:
        target = work.path / "stdin.csv"
        try:
            with target.open("wb") as dst:
                shutil.copyfileobj(sys.stdin.buffer, dst, 1 << 20)
        except OSError as exc:
            raise work.write_error(exc, "the copy of standard input") from None
        if target.stat().st_size == 0:
            raise DataError("-: standard input is empty")
        yield target


def _scan_csv(
    path: Path,
    readable: Path,
    csv: CsvOptions,
    text_columns: Sequence[str],
    stamp: Stamp | None,
    *,
    suffix: str | None = None,
    typed: Collection[str] | None = None,
    guess: bool = False,
) -> Input:
    """The CSV scanned with its options, refused early when its header shows the wrong
    separator (a one-column file would otherwise fail later on a missing column) or
    names a column twice (Polars would rename the second `<name>_duplicated_0`)."""
    tsv = (suffix or path.suffix).lower() == ".tsv"
    separator = "\t" if tsv and csv.separator == "," else csv.separator
    options = {
        "separator": separator,
        "decimal_comma": csv.decimal_comma,
        "null_values": list(csv.null_values),
        "infer_schema_length": 10_000,
        "raise_if_empty": True,
        "glob": False,  # a file named `customers[eu].csv` is a file, not a pattern
    }
    try:
        schema = pl.scan_csv(readable, **options).collect_schema()  # type: ignore[arg-type]
    except pl.exceptions.NoDataError:
        raise DataError(f"{path}: the file is empty") from None
    except Exception as exc:
        raise DataError(
            f"{path}: cannot read as CSV: {polars_gist(exc)}", hint=encoding_hint(exc)
        ) from None
    header = schema.names()
    if readable == path or suffix is not None:  # as it is (a transcoded copy is UTF-8)
        _check_header_text(path, header)
    if len(header) == 1 and separator == "," and ";" in header[0]:
        raise DataError(
            f"{path}: the header is one column {header[0][:60]!r}; it looks separated by ';'",
            hint=HINT_SEPARATOR,
        )
    if any("_duplicated_" in name for name in header):
        _check_header(path, readable, separator)
    if typed is None:
        overrides = {c: pl.String for c in text_columns if c in header}
        lf = pl.scan_csv(readable, schema_overrides=overrides, **options)  # type: ignore[arg-type]
    else:
        lf = _typed_scan(readable, schema, options, csv, typed, guess)

    def text_scan(columns: Sequence[str]) -> pl.LazyFrame:
        more = {c: pl.String for c in [*text_columns, *columns] if c in header}
        return pl.scan_csv(readable, schema_overrides=more, **options)  # type: ignore[arg-type]

    widths = _widths(readable, separator, len(header))
    return Input(path, lf, widths, text_scan, stamp, guessed=guess and typed is not None)


# the types a column may have, in order, as Polars' CSV reader parses them
_WHOLE_FILE_TYPES: tuple[pl.DataType, ...] = (pl.Int64(), pl.Float64(), pl.Boolean())


def _cast(column: str, dtype: pl.DataType, csv: CsvOptions) -> pl.Expr:
    """A text column as `dtype`, null where the text is not of that type, as Polars'
    CSV reader reads it (with the run's decimal mark; booleans as Polars writes them).
    Not trimmed: a column with ` 12` stays text, which chs parses (trimmed) where the
    scheme reads it."""
    text = pl.col(column)
    if dtype == pl.Boolean:
        return pl.when(text == "true").then(True).when(text == "false").then(False)
    number = text.str.replace(",", ".", literal=True) if csv.decimal_comma else text
    return number.cast(dtype, strict=False)


def whole_file_types(
    text: pl.LazyFrame, columns: Sequence[str], csv: CsvOptions
) -> dict[str, pl.DataType]:
    """The first type all of a column's values have, found by streaming the whole file
    and counting, per type, the values that do not cast (Polars' own inference over a
    whole file took 4 s for 2 million rows, single-threaded; this takes under 1 s);
    booleans in a second pass, for the columns that are no numbers. A column with any
    other text is not given (it stays text); nor is any if a pass fails (a ragged row,
    bytes that are not text): the scoring pass then reports it with its row."""
    found: dict[str, pl.DataType] = {}
    for kinds in (_WHOLE_FILE_TYPES[:2], _WHOLE_FILE_TYPES[2:]):
        left = [c for c in columns if c not in found]
        if not left:
            break
        queries = [pl.col(c).null_count().alias(f"{c}.") for c in left]
        queries += [_cast(c, t, csv).null_count().alias(f"{c}.{t}") for c in left for t in kinds]
        try:
            counts = text.select(queries).collect(engine="streaming").row(0, named=True)
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
            return {}
        for c in left:
            fit = next((t for t in kinds if counts[f"{c}.{t}"] == counts[f"{c}."]), None)
            if fit is not None:
                found[c] = fit
    return found


def _typed_scan(
    readable: Path,
    schema: pl.Schema,
    options: dict[str, Any],
    csv: CsvOptions,
    typed: Collection[str],
    guess: bool,
) -> pl.LazyFrame:
    """Every column as text, but the `typed` ones with the type of the whole file: found
    first by a pass of their own, or (`guess`) taken from the first rows, which the
    scoring pass then checks (see open_input)."""
    header = schema.names()
    wanted = [c for c in typed if c in header]
    if guess:
        found = {c: schema[c] for c in wanted}
    else:
        text = pl.scan_csv(readable, schema=dict.fromkeys(header, pl.String), **options)
        found = whole_file_types(text, wanted, csv)
    whole = {c: found.get(c, pl.String()) for c in header}
    return pl.scan_csv(readable, schema=whole, **options)


def _check_header_text(path: Path, header: list[str]) -> None:
    """Raise when the header is not valid UTF-8: Polars reads its bytes lossily
    (`caf\ufffd`), so a cp1252 header would otherwise only show as a column not found, or
    be carried with its names garbled. Looked at only when a name has U+FFFD, which the
    file may also hold as written (then it is valid, and nothing is said)."""
    garbled = [(n, name) for n, name in enumerate(header, start=1) if "\ufffd" in name]
    if not garbled:
        return
    try:
        with path.open("rb") as fh:
            line = fh.readline(1 << 20)
    except OSError:
        return  # the scan reads this file: any other problem is reported there
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data":  # not a character cut by the limit
            number, name = garbled[0]
            raise DataError(
                f"{path}: the header is not valid UTF-8 (column {number}, {name!r})",
                hint=HINT_ENCODING,
            ) from None


def _check_header(path: Path, readable: Path, separator: str) -> None:
    """Raise when the header names a column twice, with both positions (1-based): read
    from the header line itself, with the separator and quotes, as Polars has renamed
    the second. Only called when a name shows the renaming."""
    try:
        with readable.open(encoding="utf-8-sig", newline="") as fh:
            names = next(csv_reader(fh, delimiter=separator, quotechar='"'), [])
    except (OSError, UnicodeError, CsvError):
        return  # the scan reads this file: any other problem is reported there
    places: dict[str, list[int]] = {}
    for number, name in enumerate(names, start=1):
        places.setdefault(name, []).append(number)
    for name, numbers in places.items():
        if len(numbers) > 1:
            times = "twice" if len(numbers) == 2 else f"{len(numbers)} times"
            listed = ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
            raise DataError(
                f"{path}: column {name!r} appears {times} in the header (columns {listed})"
            )


def _widths(readable: Path, separator: str, header: int) -> pl.LazyFrame:
    """Fields per line, counted outside quotes, vectorised. Polars fills a short row with
    nulls and may not see an extra field in a column it does not read, so this is how a
    broken row is caught. A quoted field spanning lines makes the count meaningless, so
    the check stands down (`multiline`) when a line has an odd number of quotes."""
    lines = pl.scan_csv(
        readable,
        has_header=False,
        separator="\x1f",
        quote_char=None,
        schema={"line": pl.String},
        truncate_ragged_lines=True,
        glob=False,
    ).with_row_index("row")  # the header is row 0, so data rows count from 1
    line = pl.col("line")
    plain = line.str.count_matches(separator, literal=True) + 1
    # Only a line with a quote or the wrong number of separators needs a closer look
    # (most files have neither): the filter keeps the rest out of the regex below.
    suspect = lines.filter(
        line.str.contains('"', literal=True) | ((plain != header) & (pl.col("row") > 0))
    )
    unquoted = line.str.replace_all('"[^"]*"', "")
    fields = unquoted.str.count_matches(separator, literal=True) + 1
    counted = suspect.with_columns(
        fields.alias("fields"), (line.str.count_matches('"', literal=True) % 2 == 1).alias("odd")
    )
    # the header's width is a literal: comparing with `.first()` would hold every line
    bad = (pl.col("row") > 0) & pl.col("line").is_not_null() & (pl.col("fields") != header)
    return counted.select(
        pl.lit(header).alias("header"),
        pl.col("odd").any().alias("multiline"),
        pl.col("row").filter(bad).first().alias("bad_row"),
        pl.col("fields").filter(bad).first().alias("bad_fields"),
        bad.sum().alias("bad_count"),
    )


@contextlib.contextmanager
def _utf8_copy(path: Path, encoding: str, shown: Path | None = None) -> Iterator[Path]:
    """The file itself when UTF-8, else a UTF-8 copy in a working folder: Polars reads
    UTF-8 only. The encoding was checked when the options were made. `shown`: the name
    messages give (a gzipped file's, for its plain copy)."""
    codec = codecs.lookup(encoding)
    if codec.name in ("utf-8", "utf-8-sig"):
        yield path
        return
    with WorkFolder() as work:
        target = work.path / "utf8.csv"
        _transcode(path, target, codec, encoding, work, shown or path)
        yield target


def _transcode(
    path: Path,
    target: Path,
    codec: codecs.CodecInfo,
    encoding: str,
    work: WorkFolder,
    shown: Path,
) -> None:
    """Stream `path` into `target` as UTF-8. A read failure is the input's (exit 4), a
    write failure the working folder's (a full TMPDIR: exit 5)."""
    decoder = codec.incrementaldecoder(errors="strict")
    try:
        src = path.open("rb")
    except OSError as exc:
        raise DataError(f"{shown}: cannot read: {_reason(exc)}") from None
    with src:
        try:
            with target.open("w", encoding="utf-8", newline="") as dst:
                lines, phase = 0, f"converting {shown.name} to UTF-8"
                for chunk in _chunks(src, shown):
                    dst.write(decoder.decode(chunk))
                    lines += chunk.count(b"\n")  # 1 MB chunks: a report each is cheap
                    progress(phase, rows=max(lines - 1, 0))
                dst.write(decoder.decode(b"", final=True))
        except UnicodeError as exc:
            reason = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise DataError(f"{shown}: not valid {encoding}: {reason}") from None
        except OSError as exc:
            raise work.write_error(exc, f"the UTF-8 copy of {shown.name}") from None


def _chunks(src: io.BufferedReader, path: Path) -> Iterator[bytes]:
    """The file in 1 MB chunks; a read failure is a DataError naming it."""
    while True:
        try:
            chunk = src.read(1 << 20)
        except OSError as exc:
            raise DataError(f"{path}: cannot read: {_reason(exc)}") from None
        if not chunk:
            return
        yield chunk


class TypesGuessedWrong(Exception):
    """A value past the rows a CSV's types were taken from is not of its column's type:
    open the file again without `guess` (see open_input)."""


# How Polars (and Rust's and Python's decoders) say that bytes are not UTF-8: `invalid
# utf-8 sequence`, `string found to be invalid utf8`, `file encoding is not UTF-8`,
# `cannot decode input using UTF-8`, `stream did not contain valid UTF-8`, `'utf-8'
# codec can't decode`. Not the name of a type: `casting from Utf8View to Boolean`.
_NOT_UTF8 = re.compile(
    r"(?:invalid|not(?: a)?(?: valid)?|decode input using|contain valid)\s+utf-?8(?![a-z])"
    r"|utf-?8'? codec can't decode",
    re.IGNORECASE,
)


def encoding_hint(exc: BaseException) -> str | None:
    """HINT_ENCODING when a read failed on bytes that are not UTF-8 (an Excel export in
    cp1252, say): the caller suggests another encoding."""
    return HINT_ENCODING if _NOT_UTF8.search(str(exc)) else None


def read_error(exc: BaseException, data: Input) -> DataError:
    """A Polars read failure as a DataError: a file that changed since it was opened
    says so; for a ragged CSV, name the first bad row."""
    changed = data.changed()
    if changed is not None:
        return changed
    if data.widths is not None and "fields" in str(exc):
        try:
            found = data.width_problem(data.widths.collect())
        except pl.exceptions.PolarsError:
            found = None
        if found is not None:
            return found
    return DataError(f"{data.path}: cannot read: {polars_gist(exc)}", hint=encoding_hint(exc))


def output_format(path: Path) -> Format:
    """The format of an output, by extension: refused before anything is computed."""
    fmt = OUTPUT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise OutputError(
            f"{path}: unknown output type {path.suffix or '(no extension)'}; "
            "use .csv, .parquet or .ndjson"
        )
    return fmt


def check_outputs(outputs: Sequence[Path], inputs: Sequence[Path], *, page: bool = False) -> None:
    """Refuse an output that would overwrite an input, two outputs on one path, and an
    output that is a folder, a device or a pipe (the rename would replace it). `page`:
    the outputs are HTML pages (.html), not tables."""
    resolved_inputs = {p.resolve() for p in inputs}
    seen: set[Path] = set()
    for out in outputs:
        if not page:
            output_format(out)
        elif out.suffix.lower() not in (".html", ".htm"):
            raise OutputError(f"{out}: the report is an HTML page; name it .html")
        target = out.resolve()
        if target in resolved_inputs:
            raise OutputError(f"{out}: is an input of this run; inputs are never overwritten")
        if target in seen:
            raise OutputError(f"{out}: given for two outputs of this run")
        mode = out.stat().st_mode if out.exists() else stat.S_IFREG
        if stat.S_ISDIR(mode):
            raise OutputError(f"{out}: is a directory")
        what = not_a_file(out, mode)
        if what is not None:
            raise OutputError(
                f"{out}: {what}; outputs are written to a temporary file and renamed into place"
            )
        seen.add(target)


# -- temporaries: recorded, locked, swept ---------------------------------------------


def _lock(fd: int) -> bool:
    """Take the lock that marks a temporary as a live run's; whether it was free."""
    if fcntl is None:  # pragma: no cover
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class _Recorded(io.RawIOBase):
    """A file that Polars writes through (a sink to a file object), locked while open.
    It keeps the first OSError, since Polars reports a failed write without naming the
    file (`File too large (os error 27)`, or a Parquet `Invalid thrift: transport error`)."""

    def __init__(self, path: Path, fd: int) -> None:
        super().__init__()
        self.path = path
        self.fd = fd
        self.failure: OSError | None = None
        _lock(fd)
        # progress (see `progress`): the phase this file's writing stands for, and, for a
        # CSV or NDJSON file, its header lines (rows are lines less the header)
        self.phase: str | None = None
        self.header: int | None = None
        self.counted = True
        self.written = self.lines = 0
        self._reported = 0.0

    def report(self, phase: str, header: int | None = None, counted: bool = True) -> _Recorded:
        """Report the writing of this file as `phase`: the bytes written, or the rows,
        counted as the lines written less `header` lines (1 for a CSV, 0 for NDJSON);
        not `counted`: the phase alone (a working file's size tells a user nothing)."""
        self.phase, self.header, self.counted = phase, header, counted
        return self

    def _progress(self, view: memoryview | None, final: bool = False) -> None:
        """Count what a write added; report at most every _REPORT_EVERY seconds (once when
        not counted), and the `final` count when the file is closed."""
        if view is not None:
            self.written += len(view)
            if self.header is not None:
                self.lines += view.tobytes().count(b"\n")
        now = time.monotonic()
        due = now - self._reported >= _REPORT_EVERY and (self.counted or not self._reported)
        if not (due or final):
            return
        self._reported = now
        if not self.counted:
            progress(self.phase or "")
            return
        rows = max(self.lines - self.header, 0) if self.header is not None else None
        progress(self.phase or "", rows=rows, written=None if rows is not None else self.written)

    @classmethod
    def create(cls, path: Path) -> _Recorded:
        """A new file at `path` (truncated if there)."""
        return cls(path, os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        done = 0
        try:
            while done < len(view):
                done += os.write(self.fd, view[done:])
        except OSError as exc:
            self.failure = self.failure or exc
            raise
        if self.phase is not None and PROGRESS.isEnabledFor(logging.INFO):
            self._progress(view)
        return done

    def tell(self) -> int:
        return os.lseek(self.fd, 0, os.SEEK_CUR)

    def finish(self) -> OSError | None:
        """Close the file (a last failure may come with the close); the first failure."""
        if not self.closed:
            if self.phase is not None and self.counted and PROGRESS.isEnabledFor(logging.INFO):
                self._progress(None, final=True)
            try:
                os.close(self.fd)
            except OSError as exc:
                self.failure = self.failure or exc
            super().close()
        return self.failure

    def close(self) -> None:
        self.finish()


class WriteFailed(OutputError):
    """A write of `path` failed (`error`); PendingWrites and WorkFolder reword it with the
    output, or the working folder, that the file stands for."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(f"{path}: cannot write: {_reason(error)}")
        self.path = path
        self.error = error


def write_parquet(
    lf: pl.LazyFrame, path: Path, also: Sequence[pl.LazyFrame] = (), **options: Any
) -> list[pl.DataFrame]:
    """Write `lf` to `path` now (streaming), through a recorded file: a failed write is
    WriteFailed, whatever Polars raised. `also`: queries collected in the same pass (over
    a cache of `lf`, they read its rows as they are written); returns their frames."""
    file = _Recorded.create(path)
    sink = lf.sink_parquet(file, lazy=True, **options)  # type: ignore[call-overload]
    try:
        frames = pl.collect_all([sink, *also], engine="streaming")
    except Exception:
        if file.finish() is not None:
            raise WriteFailed(path, file.failure) from None  # type: ignore[arg-type]
        raise
    if file.finish() is not None:
        raise WriteFailed(path, file.failure)  # type: ignore[arg-type]
    return frames[1:]


# A file's time comes from a clock coarser than time.time() (a few ms behind), and a run
# locks what it creates microseconds later: only a temporary older by this much is stale.
_MARGIN = 1.0  # seconds
# TMPDIR is shared by every run of every chs version (an older one locks nothing): a
# working folder must also be this old to be swept.
_WORK_AGE = 3600.0  # seconds


def _remove_if_stale(path: Path, before: float, folder: bool) -> bool:
    """Remove a killed run's temporary: a plain file older than `before` by _MARGIN (or,
    `folder`, a folder of this user's older by _WORK_AGE), whose lock no live process
    holds. Locked meanwhile."""
    try:
        st = os.lstat(path)
        kind = stat.S_ISDIR(st.st_mode) if folder else stat.S_ISREG(st.st_mode)
        young = st.st_mtime >= before - (_WORK_AGE if folder else _MARGIN)
        if not kind or young or (folder and st.st_uid != os.getuid()):
            return False
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not _lock(fd):
            return False  # a live run's
        if folder:
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def sweep(folders: Sequence[Path], before: float) -> list[Path]:
    """Remove the temporary files (`.<name>.chs-XXXXXXXX.tmp`) that killed runs left in
    these folders: older than `before` (this run's start) and unlocked. Nothing is
    swept where locks do not work."""
    if fcntl is None:  # pragma: no cover
        return []
    removed = []
    for folder in dict.fromkeys(folders):
        try:
            names = [e.name for e in os.scandir(folder) if TEMP_FILE.match(e.name)]
        except OSError:
            continue
        removed += [folder / n for n in names if _remove_if_stale(folder / n, before, False)]
    return removed


def sweep_work(before: float) -> list[Path]:
    """Remove the working folders (`chs-XXXXXXXX` in TMPDIR) that killed runs left:
    this user's, an hour older than `before`, and unlocked."""
    if fcntl is None:  # pragma: no cover
        return []
    root = Path(tempfile.gettempdir())
    try:
        names = [e.name for e in os.scandir(root) if WORK_FOLDER.match(e.name)]
    except OSError:
        return []
    return [root / n for n in names if _remove_if_stale(root / n, before, True)]


class WorkFolder:
    """A working folder in TMPDIR, locked while the run uses it and removed after (stale
    ones are swept when one is made). A write that fails in it is an OutputError naming
    the folder: a full TMPDIR is not a problem of the input."""

    def __init__(self) -> None:
        """The folder is named before it is made, so that an interrupt (Ctrl-C, SIGTERM)
        at any point here removes it: until this returns, no `with` block will."""
        sweep_work(time.time())
        root = Path(tempfile.gettempdir())
        self.files: list[_Recorded] = []
        try:
            for _ in range(100):
                self.path = root / f"chs-{''.join(secrets.choice(_NAME) for _ in range(8))}"
                with contextlib.suppress(FileExistsError):
                    self.path.mkdir(mode=0o700)
                    break
            else:
                raise FileExistsError(errno.EEXIST, "no free working folder name", str(root))
            self._fd = os.open(self.path, os.O_RDONLY)
            _lock(self._fd)
        except BaseException as exc:
            if hasattr(self, "path") and not isinstance(exc, FileExistsError):
                shutil.rmtree(self.path, ignore_errors=True)
            if not isinstance(exc, OSError):
                raise
            raise OutputError(
                f"{root}: cannot make a working folder (TMPDIR): {_reason(exc)}"
            ) from None

    def sink_parquet(self, lf: pl.LazyFrame, name: str, **options: Any) -> pl.LazyFrame:
        """A lazy sink of `lf` to the working file `name`, through a recorded file."""
        try:
            file = _Recorded.create(self.path / name)
        except OSError as exc:
            raise self.write_error(exc, "a working file") from None
        if not self.files:  # the scored rows' working file: the pass as it goes
            file.report("scoring", counted=False)
        self.files.append(file)
        return lf.sink_parquet(file, lazy=True, **options)  # type: ignore[no-any-return]

    def finish(self) -> None:
        """Close the working files written so far, before they are read back."""
        failure = next((f for f in self.files if f.finish() is not None), None)
        if failure is not None:
            raise self.write_error(failure.failure, "a working file")  # type: ignore[arg-type]

    def write_error(self, exc: OSError, what: str) -> OutputError:
        """A failed write here, naming TMPDIR (the folder itself is gone once reported)."""
        return OutputError(f"{self.path.parent}: cannot write {what} in TMPDIR: {_reason(exc)}")

    def failure(self, exc: BaseException | None) -> OutputError | None:
        """The write failure behind `exc`, if a file of this folder recorded one."""
        if isinstance(exc, WriteFailed) and self.path in exc.path.parents:
            return self.write_error(exc.error, "a working file")
        found = next((f.failure for f in self.files if f.failure is not None), None)
        return None if found is None else self.write_error(found, "a working file")

    def __enter__(self) -> WorkFolder:
        return self

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        failure = self.failure(exc) if exc is not None else None
        for file in self.files:
            file.finish()
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._fd)
        if failure is not None:
            raise failure from None


def _write_error(exc: OSError, target: Path) -> OutputError:
    return OutputError(f"{target}: cannot write: {_reason(exc)}")


def _folder_error(exc: OSError, target: Path) -> OutputError:
    """A failure to make an output's folders: name the part that is a file, if one is."""
    for folder in (target.parent, *target.parent.parents):
        if folder.exists() and not folder.is_dir():
            return OutputError(f"{target}: cannot write: {folder} is not a folder")
    return _write_error(exc, target)


class PendingWrites:
    """Outputs sunk to temporary files beside their targets, renamed into place by
    `commit`; whatever is not committed is removed. The sinks are lazy, so the caller can
    collect them together with other queries in one pass over the input.

    Each sink writes through a recorded file, so a write that fails (a full disk, a file
    size limit) is an OutputError naming the output, raised when the block ends, whatever
    exception Polars raised for it. Stale temporaries of killed runs are swept from the
    output folders (and `sweep`'s) first."""

    def __init__(
        self,
        frames: Sequence[tuple[pl.LazyFrame, Path]],
        metadata: dict[Path, dict[str, str]] | None = None,
        sweep: Sequence[Path] = (),
    ) -> None:
        """`metadata`: key-value pairs written into the Parquet files at those paths;
        `sweep`: more folders to sweep of stale temporaries (a history's partitions)."""
        self.started = time.time()
        self.temps: list[tuple[Path, Path]] = []  # (temporary, target)
        self.named: list[Path] = []  # every temporary, listed before it is made
        self.files: dict[Path, _Recorded] = {}  # temporary -> its open, locked file
        self.sinks: list[pl.LazyFrame] = []
        self.created: list[Path] = []  # folders made for the outputs, deepest last
        self.modes: dict[Path, int] = {}  # target -> the mode a new file gets (the umask's)
        self.swept: set[Path] = set()
        self.committed = False
        self._sweep(list(sweep))
        try:
            for lf, path in frames:
                self.sinks.append(self.sink(lf, path, (metadata or {}).get(path)))
        except BaseException:  # an OutputError, or an interrupt: no `with` block to end
            self.discard()
            raise

    def _sweep(self, folders: list[Path]) -> None:
        fresh = [f for f in folders if f not in self.swept]
        self.swept |= set(fresh)
        sweep(fresh, self.started)

    def sink(
        self, lf: pl.LazyFrame, path: Path, metadata: dict[str, str] | None = None
    ) -> pl.LazyFrame:
        """A lazy sink of `lf` to the temporary file of output `path`."""
        fmt = output_format(path)
        file = self.files[self._temporary(path)]
        shown = (
            f"{path.parent.name}/{path.name}"
            if path.parent.name.startswith("as_of=")
            else path.name
        )
        file.report(f"writing {shown}", {"csv": 1, "ndjson": 0}.get(fmt))
        if fmt == "parquet":
            return lf.sink_parquet(file, lazy=True, metadata=metadata)  # type: ignore[no-any-return]
        if fmt == "csv":
            return lf.sink_csv(file, lazy=True)  # type: ignore[no-any-return]
        return lf.sink_ndjson(file, lazy=True)  # type: ignore[no-any-return]

    def _temporary(self, path: Path) -> Path:
        """A temporary file beside `path` (its folders made), renamed to it on commit."""
        missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _folder_error(exc, path) from None
        self.created += [d for d in reversed(missing) if d not in self.created]
        self._sweep([path.parent])
        try:
            tmp, fd, self.modes[path] = _new_temporary(path, self.named)
        except OSError as exc:
            raise _write_error(exc, path) from None
        self.files[tmp] = _Recorded(tmp, fd)
        self.temps.append((tmp, path))
        return tmp

    def temporary(self, path: Path) -> Path:
        """The temporary file of output `path`, which the caller may read back once the
        sinks are collected (before `commit`)."""
        return next(tmp for tmp, target in self.temps if target == path)

    def reserve(self, path: Path) -> Path:
        """The temporary file for an output the caller writes itself (see
        `write_parquet`, whose failure is then named by this output)."""
        return self._temporary(path)

    def failure(self, exc: BaseException | None = None) -> OutputError | None:
        """The first recorded write failure (or `exc`'s), as an error naming its output."""
        for tmp, target in self.temps:
            if isinstance(exc, WriteFailed) and exc.path == tmp:
                return _write_error(exc.error, target)
            found = self.files[tmp].failure
            if found is not None:
                return _write_error(found, target)
        return None

    def commit(self) -> None:
        """Rename every temporary file into place, once the whole run has succeeded. If a
        rename fails, the outputs already replaced are put back as they were."""
        try:
            for tmp, target in self.temps:
                _set_mode(self.files[tmp], target, self.modes[target])
                if self.files[tmp].finish() is not None:
                    raise _write_error(self.files[tmp].failure, target)  # type: ignore[arg-type]
            _replace_all(self.temps)
            self.committed = True
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary files, and, when nothing was committed, the folders made
        for the outputs: a failed run leaves nothing behind."""
        for tmp, _ in self.temps:
            self.files[tmp].finish()
        for tmp in self.named:  # also one an interrupt stopped before it was recorded
            tmp.unlink(missing_ok=True)
        self.temps, self.named = [], []
        if not self.committed:
            for folder in reversed(self.created):
                with contextlib.suppress(OSError):  # not empty: something else is there
                    folder.rmdir()
            self.created = []

    def __enter__(self) -> PendingWrites:
        return self

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        failure = self.failure(exc) if exc is not None else None
        self.discard()
        if failure is not None:
            raise failure from None


def _new_temporary(path: Path, named: list[Path]) -> tuple[Path, int, int]:
    """A new temporary file beside `path`: its name, its descriptor (open for writing),
    and the mode a new file gets here. It is created with 0666, so that the kernel
    applies the umask (and a default ACL) as for any program's new file, the mode is
    noted, and the file is made private (0600) while it is written: when it replaces a
    file of stricter mode, the data is never readable more widely than there. Its name
    is added to `named` before it is made (and taken out if the name is taken), so that
    an interrupt as it is made leaves no file the caller does not know of."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.chs-{secrets.token_hex(4)}.tmp")
        named.append(tmp)
        try:
            fd = os.open(
                tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o666
            )
        except FileExistsError:
            named.remove(tmp)
            continue
        try:
            mode = stat.S_IMODE(os.fstat(fd).st_mode)
            os.fchmod(fd, 0o600)
        except OSError:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        return tmp, fd, mode
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))


def _set_mode(file: _Recorded, target: Path, new: int) -> None:
    """Give a temporary its final mode before it is renamed onto `target`: the mode of
    the file it replaces (an overwritten output keeps its permissions), else `new`, the
    mode any program's new file gets there (0666 minus the umask)."""
    try:
        st = os.stat(target)
        mode = stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else new
    except OSError:
        mode = new
    try:
        if file.closed:
            os.chmod(file.path, mode)
        else:
            os.fchmod(file.fd, mode)
    except OSError as exc:
        file.failure = file.failure or exc


def _replace_all(temps: Sequence[tuple[Path, Path]]) -> None:
    """os.replace each temporary onto its target; on a failure, undo the renames done
    (from hard-linked backups of the files they replaced) and raise naming the output.
    An interrupt (Ctrl-C, SIGTERM: an exception wherever Python is) undoes them too, so
    that the outputs are all replaced or none. A rename is listed before it is made (an
    interrupt just after it would otherwise keep it), and undone only if its temporary
    has gone."""
    done: list[tuple[Path, Path, Path | None]] = []  # (temporary, target, its backup)
    backups: list[Path] = []
    held: list[int] = []  # the backups' locks
    try:
        for tmp, target in temps:
            backup = _backup(target, held)
            backups += [backup] if backup is not None else []
            done.append((tmp, target, backup))
            try:
                os.replace(tmp, target)
            except OSError as exc:
                _undo(done)
                raise _write_error(exc, target) from None
    except BaseException as exc:
        if not isinstance(exc, OutputError):
            _undo(done)
        raise
    finally:
        for backup in backups:
            backup.unlink(missing_ok=True)
        for fd in held:
            os.close(fd)


def _backup(target: Path, held: list[int]) -> Path | None:
    """A hard link to the file at `target`, named like a temporary and locked, so that
    a failed commit can put it back; None when there is no file (or no hard links)."""
    if not target.is_file():
        return None
    for _ in range(3):
        backup = target.with_name(f".{target.name}.chs-{secrets.token_hex(4)}.tmp")
        try:
            os.link(target, backup)
        except FileExistsError:
            continue
        except OSError:
            return None
        with contextlib.suppress(OSError):
            fd = os.open(backup, os.O_RDONLY)
            held.append(fd)
            _lock(fd)
        return backup
    return None


def _undo(done: list[tuple[Path, Path, Path | None]]) -> None:
    """Put back what the renames done had replaced (remove what they made); a rename whose
    temporary is still there was not made."""
    for tmp, target, backup in reversed(done):
        if os.path.lexists(tmp):
            continue
        with contextlib.suppress(OSError):
            if backup is None:
                target.unlink()
            else:
                os.replace(backup, target)
