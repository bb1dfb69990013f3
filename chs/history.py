"""Score history: one Parquet snapshot per date, partitioned by date, and trends from it.

Layout: DIR/as_of=YYYY-MM-DD/scores.parquet (hive style, so Polars, DuckDB or Spark
read DIR as one dataset). Writing a date replaces that date's file with an atomic
rename, so a retried cron job never duplicates a month. Every snapshot scored with one
scheme has the same columns (the first carries the movement columns empty), so
`pl.scan_parquet("DIR/")` reads the folder as one table; while a run writes, its
temporary file sits in a partition (chs.files), which only a glob such as
`DIR/*/scores.parquet` is sure to pass over.

A partition folder or a snapshot file that is a symbolic link is refused: chs would
otherwise read, or write, outside the history folder.

Trend columns:
- change_<N>d: the score now minus the score at the snapshot nearest to N days before
  the as-of date, when one lies within N/2 days of it (monthly snapshots: change_30d is
  the change since last month, change_90d since three months ago); empty otherwise.
- snapshots_in_band: how many consecutive snapshots, this one included, the customer
  has spent in its current band.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from chs.columns import STREAK
from chs.errors import ChsError, DataError, OptionError, OutputError, polars_gist
from chs.files import not_a_file
from chs.snapshot import Snapshot, open_snapshot

PARTITION = re.compile(r"^as_of=(\d{4}-\d{2}-\d{2})$")
FILE = "scores.parquet"


def parse_date(text: str, what: str = "as_of") -> dt.date:
    """A date written YYYY-MM-DD, exactly (`fromisoformat` alone takes 20261130 too)."""
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OptionError(f"{what} must be a date written YYYY-MM-DD (got {text!r})") from None


def snapshot_path(directory: Path, as_of: dt.date) -> Path:
    """Where a date's snapshot goes in a history folder."""
    return directory / f"as_of={as_of.isoformat()}" / FILE


@dataclass(frozen=True)
class Listing:
    """The snapshots found in a history folder, oldest first, and what was passed over."""

    snapshots: list[tuple[dt.date, Path]]
    warnings: list[str]


def check_target(directory: Path, as_of: dt.date) -> Path:
    """Where this date's snapshot goes, refused when its partition folder or its file is
    a symbolic link: writing through it would write outside the history folder."""
    target = snapshot_path(directory, as_of)
    for path in (target.parent, target):
        if path.is_symlink():
            raise OutputError(f"{path}: {_LINK}")
    return target


_LINK = "is a symbolic link; a history keeps its snapshots in its own folder, never through a link"


def partition_folders(directory: Path) -> list[Path]:
    """The partition folders (as_of=…) of a history, links left out."""
    if not directory.is_dir():
        return []
    return [e for e in sorted(directory.iterdir()) if PARTITION.match(e.name) and _is_folder(e)]


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def list_snapshots(directory: Path, *, writing: bool = False) -> Listing:
    """Every `as_of=YYYY-MM-DD/scores.parquet`; anything else is named in a warning. A
    link, or a snapshot that is not a file, is an error (an OutputError when `writing`
    into the folder)."""
    if directory.exists() and not directory.is_dir():
        raise DataError(f"{directory}: the history folder is a file")
    refuse: type[ChsError] = OutputError if writing else DataError
    found: list[tuple[dt.date, Path]] = []
    warnings: list[str] = []
    for entry in sorted(directory.iterdir()) if directory.exists() else []:
        match = PARTITION.match(entry.name)
        if entry.name.startswith("."):
            continue
        if match and entry.is_symlink():
            raise refuse(f"{entry}: {_LINK}")
        if not match or not entry.is_dir():
            warnings.append(f"{entry}: not a snapshot (as_of=YYYY-MM-DD/{FILE}); ignored")
            continue
        try:
            date = dt.date.fromisoformat(match.group(1))
        except ValueError:
            warnings.append(f"{entry}: {match.group(1)} is not a date; ignored")
            continue
        path = _snapshot_file(entry, refuse, warnings)
        if path is not None:
            found.append((date, path))
    return Listing(found, warnings)


def _snapshot_file(folder: Path, refuse: type[ChsError], warnings: list[str]) -> Path | None:
    """A partition's snapshot file, checked readable; None (with a warning if the folder
    holds something else) when it has none."""
    path = folder / FILE
    if path.is_symlink():
        raise refuse(f"{path}: {_LINK}")
    if not path.exists():
        if any(p for p in folder.iterdir() if not p.name.startswith(".")):
            warnings.append(f"{folder}: has no {FILE}; ignored")
        return None
    what = None if path.is_file() else (not_a_file(path, path.stat().st_mode) or "is a folder")
    if what is not None:  # never opened: a FIFO would block
        raise refuse(f"{path}: {what}")
    try:
        pl.read_parquet_schema(path)
    except Exception as exc:  # a truncated or foreign file
        raise DataError(
            f"{path}: the history snapshot cannot be read: {polars_gist(exc)}"
        ) from None
    return path


def previous_in(listing: Listing, as_of: dt.date) -> tuple[dt.date, Path] | None:
    """The latest snapshot strictly before `as_of`."""
    before = [(d, p) for d, p in listing.snapshots if d < as_of]
    return before[-1] if before else None


@contextlib.contextmanager
def open_past(
    snapshots: list[tuple[dt.date, Path]], id_column: str | None
) -> Iterator[list[tuple[dt.date, Snapshot]]]:
    """Open every listed snapshot at once, closed together when the block ends; each
    carries its band streak (`snapshots_in_band`, null in a file without it), which the
    next run's streak starts from (chs.trends)."""
    with contextlib.ExitStack() as stack:
        yield [
            (
                d,
                stack.enter_context(
                    open_snapshot(
                        p, None, id_column=id_column, role="history snapshot", extra=[STREAK]
                    )
                ),
            )
            for d, p in snapshots
        ]
