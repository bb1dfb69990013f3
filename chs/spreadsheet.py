"""CSV outputs that a spreadsheet set to a comma-decimal locale (a French or German
Excel) opens as they are: a UTF-8 byte-order mark, so that Excel reads the text as
UTF-8 (without it, `é` shows as `Ã©`), `;` between fields and decimal commas (`66,25`),
the list separator and decimal mark such an Excel expects. Parquet and NDJSON outputs
are written as always.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import polars as pl

from chs.files import output_format

# Polars' CSV writer settings for such a spreadsheet (sink_csv and write_csv take them).
EXCEL_CSV: dict[str, Any] = {"include_bom": True, "separator": ";", "decimal_comma": True}


class _ExcelRows:
    """Rows handed to PendingWrites in place of a LazyFrame for a CSV output: the CSV
    sink it makes of them is Polars' with EXCEL_CSV's settings, so the output keeps what
    PendingWrites gives every output (a temporary renamed into place, a failed write
    named, the progress display), whose writers take no CSV settings."""

    def __init__(self, frame: pl.LazyFrame) -> None:
        self.frame = frame

    def sink_csv(self, file: Any, **options: Any) -> pl.LazyFrame | None:
        return self.frame.sink_csv(file, **{**options, **EXCEL_CSV})

    def __getattr__(self, name: str) -> Any:  # any other use reads the frame
        return getattr(self.frame, name)


def for_excel(
    writes: Sequence[tuple[pl.LazyFrame, Path]], excel: bool
) -> list[tuple[pl.LazyFrame, Path]]:
    """The outputs to write, their CSV files written for Excel when `excel`."""
    if not excel:
        return list(writes)
    return [
        (cast(pl.LazyFrame, _ExcelRows(lf)) if output_format(path) == "csv" else lf, path)
        for lf, path in writes
    ]
