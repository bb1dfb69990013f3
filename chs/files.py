"""Reading inputs (CSV or Parquet, lazily) and writing outputs atomically.

Outputs go to a temporary file beside the target and are renamed into place only when
every output of the run is complete, so a failed run never leaves a half-written file.
An output path that names an input is refused.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeVar

import polars as pl

from chs.errors import HINT_ENCODING, HINT_SEPARATOR, DataError, OutputError

Format = Literal["csv", "parquet", "ndjson"]
INPUT_SUFFIXES: dict[str, Format] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
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


@dataclass(frozen=True)
class CsvOptions:
    """How to read a CSV export: French Excel writes `;`, `0,85` and cp1252."""

    separator: str = ","
    decimal_comma: bool = False
    encoding: str = "utf-8"
    null_values: Sequence[str] = field(default=DEFAULT_NULLS)


def input_format(path: Path) -> Format:
    """The format of an input file, by extension, else by its first bytes."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    with path.open("rb") as fh:
        head = fh.read(4)
    if head.startswith(_SPREADSHEET):
        raise DataError(f"{path}: looks like a spreadsheet (Excel); export it as CSV first")
    fmt = INPUT_SUFFIXES.get(path.suffix.lower())
    if head == b"PAR1":
        return "parquet"
    if fmt == "parquet":
        raise DataError(f"{path}: not a Parquet file (it does not start with the PAR1 magic bytes)")
    if fmt is None:
        raise DataError(
            f"{path}: unknown file type {path.suffix or '(no extension)'}; "
            "inputs are CSV (.csv, .tsv, .txt) or Parquet (.parquet)"
        )
    return fmt


@dataclass(frozen=True)
class Input:
    """A lazy scan, the types inferred for the columns read as text, and for a CSV a
    query that finds rows whose number of fields differs from the header's."""

    path: Path
    frame: pl.LazyFrame
    inferred: dict[str, pl.DataType]
    widths: pl.LazyFrame | None = None
    text_scan: Callable[[Sequence[str]], pl.LazyFrame] | None = None
    text_mode: bool = False  # the scheme's columns are read as text (the careful path)

    def with_text(self, columns: Sequence[str]) -> pl.LazyFrame:
        """The same scan with these columns read as text (a CSV's ids: `0001` stays)."""
        return self.frame if self.text_scan is None else self.text_scan(columns)

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
    path: str | Path, csv: CsvOptions = CsvOptions(), text_columns: Sequence[str] = ()
) -> Iterator[Input]:
    """A lazy scan of the input. From a CSV, `text_columns` are read as text so that the
    engine can reject one row with a bad value rather than fail the whole file.

    A context manager because a non-UTF-8 CSV is transcoded to a temporary UTF-8 copy
    (streamed in chunks) that must outlive the lazy frame.
    """
    path = Path(path)
    fmt = input_format(path)
    if fmt == "parquet":
        lf = pl.scan_parquet(path, glob=False)
        try:
            lf.collect_schema()
        except Exception as exc:
            raise DataError(f"{path}: cannot read as Parquet: {_first_line(exc)}") from None
        yield Input(path, lf, {})
        return
    with _utf8_copy(path, csv.encoding) as readable:
        yield _scan_csv(path, readable, csv, text_columns)


def _scan_csv(path: Path, readable: Path, csv: CsvOptions, text_columns: Sequence[str]) -> Input:
    """The CSV scanned with its options, refused early when its header shows the wrong
    separator: a one-column file would otherwise fail later on a missing column."""
    separator = "\t" if path.suffix.lower() == ".tsv" and csv.separator == "," else csv.separator
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
            f"{path}: cannot read as CSV: {_first_line(exc)}", hint=encoding_hint(exc)
        ) from None
    header = schema.names()
    if len(header) == 1 and separator == "," and ";" in header[0]:
        raise DataError(
            f"{path}: the header is one column {header[0][:60]!r}; it looks separated by ';'",
            hint=HINT_SEPARATOR,
        )
    overrides = {c: pl.String for c in text_columns if c in header}
    lf = pl.scan_csv(readable, schema_overrides=overrides, **options)  # type: ignore[arg-type]
    inferred = {c: schema[c] for c in overrides if schema[c] != pl.String}

    def text_scan(columns: Sequence[str]) -> pl.LazyFrame:
        more = {c: pl.String for c in [*text_columns, *columns] if c in header}
        return pl.scan_csv(readable, schema_overrides=more, **options)  # type: ignore[arg-type]

    text_mode = any(c in overrides for c in text_columns[1:])
    return Input(
        path, lf, inferred, _widths(readable, separator, len(header)), text_scan, text_mode
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
def _utf8_copy(path: Path, encoding: str) -> Iterator[Path]:
    """The file itself when UTF-8, else a UTF-8 copy: Polars reads UTF-8 only."""
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        raise DataError(
            f"{path}: unknown encoding {encoding!r} (for example utf-8, cp1252, latin-1)"
        ) from None
    if codec.name in ("utf-8", "utf-8-sig"):
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="chs-") as tmp:
        target = Path(tmp) / "utf8.csv"
        decoder = codec.incrementaldecoder(errors="strict")
        try:
            with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(decoder.decode(chunk))
                dst.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not valid {encoding}: {exc.reason}") from None
        yield target


class ParseFailure(Exception):
    """A CSV value did not parse as its column's inferred type (typed fast path)."""


T = TypeVar("T")


def typed_first(run: Callable[[bool], T]) -> T:
    """Run with the CSV's columns typed as Polars infers them (fast); if a value does not
    parse, run again reading the scheme's columns as text, which names the bad rows.
    `run(text)` gets whether to read as text."""
    try:
        return run(False)
    except ParseFailure:
        return run(True)


def encoding_hint(exc: BaseException) -> str | None:
    """HINT_ENCODING when a read failed on bytes that are not UTF-8 (an Excel export in
    cp1252, say): the caller suggests another encoding."""
    if "utf-8" in str(exc).lower() or "utf8" in str(exc).lower():
        return HINT_ENCODING
    return None


def read_error(exc: BaseException, data: Input) -> DataError:
    """A Polars read failure as a DataError; for a ragged CSV, name the first bad row."""
    if data.widths is not None and "fields" in str(exc):
        try:
            found = data.width_problem(data.widths.collect())
        except pl.exceptions.PolarsError:
            found = None
        if found is not None:
            return found
    return DataError(f"{data.path}: cannot read: {_first_line(exc)}", hint=encoding_hint(exc))


def _first_line(exc: BaseException) -> str:
    """The gist of a Polars error: its first line (the rest is a hint for Polars users)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def output_format(path: Path) -> Format:
    """The format of an output, by extension: refused before anything is computed."""
    fmt = OUTPUT_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise OutputError(
            f"{path}: unknown output type {path.suffix or '(no extension)'}; "
            "use .csv, .parquet or .ndjson"
        )
    return fmt


def check_outputs(outputs: Sequence[Path], inputs: Sequence[Path]) -> None:
    """Refuse an output that would overwrite an input, or two outputs on one path."""
    resolved_inputs = {p.resolve() for p in inputs}
    seen: set[Path] = set()
    for out in outputs:
        output_format(out)
        target = out.resolve()
        if target in resolved_inputs:
            raise OutputError(f"{out}: is an input of this run; inputs are never overwritten")
        if target in seen:
            raise OutputError(f"{out}: given for two outputs of this run")
        if out.exists() and out.is_dir():
            raise OutputError(f"{out}: is a directory")
        seen.add(target)


class PendingWrites:
    """Outputs sunk to temporary files beside their targets, renamed into place by
    `commit`; whatever is not committed is removed. The sinks are lazy, so the caller can
    collect them together with other queries in one pass over the input."""

    def __init__(
        self,
        frames: Sequence[tuple[pl.LazyFrame, Path]],
        metadata: dict[Path, dict[str, str]] | None = None,
    ) -> None:
        """`metadata`: key-value pairs written into the Parquet files at those paths."""
        self.temps: list[tuple[Path, Path]] = []
        self.sinks: list[pl.LazyFrame] = []
        self.created: list[Path] = []  # folders made for the outputs, deepest last
        self.committed = False
        try:
            for lf, path in frames:
                fmt = output_format(path)
                tmp = self._temporary(path)
                if fmt == "parquet":
                    meta = (metadata or {}).get(path)
                    self.sinks.append(lf.sink_parquet(tmp, lazy=True, metadata=meta))
                elif fmt == "csv":
                    self.sinks.append(lf.sink_csv(tmp, lazy=True))
                else:
                    self.sinks.append(lf.sink_ndjson(tmp, lazy=True))
        except OSError as exc:
            self.discard()
            raise _output_error(exc, [p for _, p in frames]) from None

    def _temporary(self, path: Path) -> Path:
        """A temporary file beside `path` (its folders made), renamed to it on commit."""
        missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
        path.parent.mkdir(parents=True, exist_ok=True)
        self.created += [d for d in reversed(missing) if d not in self.created]
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        self.temps.append((tmp, path))
        return tmp

    def reserve(self, path: Path) -> Path:
        """The temporary file for an output the caller writes itself."""
        try:
            return self._temporary(path)
        except OSError as exc:
            raise _output_error(exc, [path]) from None

    def commit(self) -> None:
        """Rename every temporary file into place, once the whole run has succeeded."""
        try:
            for tmp, path in self.temps:
                os.replace(tmp, path)
            self.committed = True
        except OSError as exc:
            raise _output_error(exc, [p for _, p in self.temps]) from None
        finally:
            self.discard()

    def discard(self) -> None:
        """Remove the temporary files, and, when nothing was committed, the folders made
        for the outputs: a failed run leaves nothing behind."""
        for tmp, _ in self.temps:
            tmp.unlink(missing_ok=True)
        self.temps = []
        if not self.committed:
            for folder in reversed(self.created):
                with contextlib.suppress(OSError):  # not empty: something else is there
                    folder.rmdir()
            self.created = []

    def __enter__(self) -> PendingWrites:
        return self

    def __exit__(self, *_: object) -> None:
        self.discard()


def _output_error(exc: OSError, targets: Sequence[Path]) -> OutputError:
    """An OSError as an OutputError naming the output it concerns (else the first)."""
    target = next((p for p in targets if str(p.parent) in str(exc.filename)), targets[0])
    return OutputError(f"{target}: cannot write: {exc.strerror or exc}")
