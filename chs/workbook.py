"""Excel workbooks as inputs (.xlsx, .xlsm, .xls, .xlsb), read through Polars'
`read_excel` with the calamine engine (fastexcel: one Rust wheel, no other
dependency). A sheet is picked by name or by number; its rows are numbered as Excel
shows them (the header is row 1), so a rejected row is found where the user looks."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import polars as pl

from chs.columns import ROW_NUMBER
from chs.errors import DataError, polars_gist

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb")
FIRST_ROW = 2  # the first data row, under the header in row 1


def sheet_names(path: Path) -> list[str]:
    """The workbook's sheets, in order; a file that is not one is a DataError."""
    import fastexcel

    try:
        return list(fastexcel.read_excel(path).sheet_names)
    except Exception as exc:  # fastexcel raises its own errors, not OSError
        raise DataError(f"{path}: cannot read as an Excel workbook: {polars_gist(exc)}") from None


def pick_sheet(path: Path, names: list[str], sheet: str | None) -> str:
    """The sheet asked for: by name, or by its number counted from 1; the first when none
    is asked for. One that is not there names the sheets there are."""
    listed = ", ".join(repr(n) for n in names)
    if not names:
        raise DataError(f"{path}: the workbook has no sheet")
    if sheet is None:
        return names[0]
    if sheet in names:
        return sheet
    if sheet.isdigit():
        number = int(sheet)
        if 1 <= number <= len(names):
            return names[number - 1]
        raise DataError(
            f"{path}: there is no sheet {number}; the workbook has {len(names)}: {listed}"
        )
    raise DataError(f"{path}: no sheet named {sheet!r}; the workbook's sheets: {listed}")


def read_sheet(path: Path, sheet: str | None, text_columns: Collection[str]) -> pl.LazyFrame:
    """One sheet as a frame, its types found over the whole sheet. `text_columns` (the
    columns a scheme reads) are read as text: chs parses them as it parses a CSV's, so
    that a text cell in a column of numbers (`n/a`) rejects its row instead of reading
    as nothing. The other columns keep the types their cells have. Each row carries its
    number in the sheet (ROW_NUMBER), and a blank row is skipped, as a CSV's blank line
    is."""
    name = pick_sheet(path, sheet_names(path), sheet)
    try:
        header = pl.read_excel(path, sheet_name=name, engine="calamine", read_options={"n_rows": 0})
        texts = {c: pl.String for c in text_columns if c in header.columns}
        frame = pl.read_excel(
            path,
            sheet_name=name,
            engine="calamine",
            infer_schema_length=None,
            schema_overrides=texts or None,
            drop_empty_rows=False,  # dropped below, once the rows are numbered
        )
    except Exception as exc:  # calamine and fastexcel errors are not Polars' own
        raise DataError(f"{path}: cannot read sheet {name!r}: {polars_gist(exc)}") from None
    if frame.width == 0:
        raise DataError(f"{path}: sheet {name!r} is empty")
    numbered = frame.with_row_index(ROW_NUMBER, offset=FIRST_ROW)
    blank = pl.all_horizontal(pl.exclude(ROW_NUMBER).is_null())
    return numbered.filter(~blank).lazy()
