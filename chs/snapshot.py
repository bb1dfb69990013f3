"""A snapshot: one month's scores, from a scored output or a raw export scored on the fly.

`chs score --previous`, `chs diff` and the history all compare snapshots. A scored file
is recognised by its `score` and `band` columns. Its id column is the one recorded in
its Parquet metadata, else the scheme's id, else its first column (chs writes the id
first). A raw file needs the scheme to be scored.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from chs.columns import KEY, META_KEY, ROW_NUMBER
from chs.errors import HINT_SCHEME, DataError, polars_gist
from chs.exprs import repeated_hashes, with_trimmed_id
from chs.files import CsvOptions, Input, open_input
from chs.hints import suggest_column
from chs.scheme import Scheme
from chs.sources import plan_for, scheme_columns, typed_columns


@dataclass
class Snapshot:
    """Lazy rows of one snapshot, with what is known of how it was scored."""

    path: Path
    frame: pl.LazyFrame  # the id as text in KEY, score, band, points_*, value as a number
    id_column: str
    value_column: str | None
    scheme_name: str | None
    scheme_hash: str | None
    as_of: str | None
    signals: list[str] = field(default_factory=list)  # names of points_<signal> columns
    rescored: bool = False  # a raw file scored here
    rejected: int = 0
    data: Input | None = field(default=None, repr=False)  # the opened file, to tell a change
    # the rows with KEY and every column in the type the file holds (points as Int16,
    # where `frame` makes them floats): for reads that gain from the narrower type
    keyed: pl.LazyFrame | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Lookup:
    """Columns a run reads per customer (KEY) from one earlier snapshot. The lookups of
    one snapshot are read in one select (`gather_lookups`), not joined to each other.
    `frame`: a lookup computed over several snapshots (the folded streak) instead."""

    snapshot: Snapshot | None
    columns: tuple[pl.Expr, ...] = ()
    frame: pl.LazyFrame | None = None


def gather_lookups(lookups: list[Lookup]) -> list[pl.LazyFrame]:
    """One lazy frame per snapshot read (KEY then every column asked of it, in the order
    of the first ask), then the computed ones: what `_gathered` joins by customer."""
    reads: dict[int, tuple[Snapshot, list[pl.Expr]]] = {}
    computed = []
    for lookup in lookups:
        if lookup.frame is not None:
            computed.append(lookup.frame)
        elif lookup.snapshot is not None:
            reads.setdefault(id(lookup.snapshot), (lookup.snapshot, []))[1].extend(lookup.columns)
    frames = [snap.frame.select(KEY, *columns) for snap, columns in reads.values()]
    return frames + computed


def extra_column(name: str) -> str:
    """Where a Snapshot's frame holds the file's column `name`, asked for as an extra."""
    return f"__extra_{name}"


def metadata(scheme: Scheme, as_of: str | None) -> dict[str, str]:
    """What a scored Parquet file records about itself."""
    info = {
        "id": scheme.id,
        "value": scheme.value,
        "scheme": scheme.name,
        "hash": scheme.digest,
        "bands": [b.name for b in scheme.bands],
        "at_risk": scheme.at_risk_bands(),
        "colors": [b.color for b in scheme.bands],  # for the HTML report
        "from": [b.threshold for b in scheme.bands],
    }
    return {META_KEY: json.dumps({**info, "as_of": as_of})}


def recorded(path: Path) -> dict[str, Any]:
    """What a chs Parquet file records about itself (see `metadata`); nothing for any
    other file, or one whose metadata cannot be read."""
    if path.suffix.lower() not in (".parquet", ".pq") or not path.is_file():
        return {}  # not opened: reading a FIFO's metadata would block
    try:
        return json.loads(pl.read_parquet_metadata(path).get(META_KEY, "{}"))
    except (OSError, ValueError, pl.exceptions.PolarsError):
        return {}


def recorded_value(path: Path) -> str | None:
    """The value column a chs Parquet file records, if any."""
    return recorded(path).get("value")


def _first(lf: pl.LazyFrame, column: str) -> str | None:
    """The first value of a column, as text (a scored CSV repeats scheme and as_of)."""
    values = lf.select(pl.col(column).drop_nulls().first()).collect().item()
    return None if values is None else str(values)


@contextlib.contextmanager
def open_snapshot(
    path: str | Path,
    scheme: Scheme | None,
    csv: CsvOptions | None = None,
    *,
    id_column: str | None = None,
    value_column: str | None = None,
    role: str = "snapshot",
    extra: list[str] | None = None,
    as_of: dt.date | None = None,
) -> Iterator[Snapshot]:
    """Open a scored or raw file as a Snapshot. `role` names it in messages; `id_column`
    and `value_column` override what the file records; `extra` columns are kept (for
    roll-ups), null where the file lacks them. `as_of`: the date a raw file is scored as
    of (default today)."""
    path = Path(path)
    csv = csv or CsvOptions()
    info = recorded(path)
    with open_input(path, csv, [scheme.id] if scheme is not None else []) as data:
        columns = data.frame.collect_schema().names()
        if "score" in columns and "band" in columns:
            ident, value = _id_and_value(path, columns, info, scheme, id_column, value_column, role)
            snapshot = _recorded_snapshot(path, data, columns, info, ident, value, extra or [])
            yield dataclasses.replace(snapshot, data=data)
            return
        if scheme is None:
            raise DataError(
                f"{path}: the {role} has no score and band columns, so it is a raw export",
                hint=HINT_SCHEME,
            )
    # a raw export: read as scoring reads it (the scheme's numbers over the whole file)
    read, typed = scheme_columns([scheme]), typed_columns([scheme])
    with open_input(path, csv, read, typed=typed) as data:
        rescored = _rescored(path, data, scheme, csv, extra or [], as_of)
        yield dataclasses.replace(rescored, data=data)


def _rescored(
    path: Path,
    data: Input,
    scheme: Scheme,
    csv: CsvOptions,
    extra: list[str],
    as_of: dt.date | None,
) -> Snapshot:
    """A raw export scored here, as of `as_of` (CURRENT_DATE, `days_until`: the run's
    date, since a raw file records none); its rejected rows count as absent."""
    plan = plan_for(data, scheme, path, csv, as_of)
    rejected = plan.rejected.select(pl.len()).collect().item()
    frame = plan.scored
    return _snapshot(
        path,
        frame,
        frame.collect_schema().names(),
        scheme.id,
        scheme.value,
        scheme.name,
        scheme.digest,
        None,
        rescored=True,
        rejected=rejected,
        extra=extra,
    )


def _id_and_value(
    path: Path,
    columns: list[str],
    info: dict[str, Any],
    scheme: Scheme | None,
    id_column: str | None,
    value_column: str | None,
    role: str,
) -> tuple[str, str | None]:
    """A scored file's id column (given, recorded, the scheme's, else the first) and
    value column (given, recorded or the scheme's, if the file has it)."""
    ident = id_column or info.get("id") or (scheme.id if scheme else None) or columns[0]
    if ident not in columns:
        raise DataError(
            f"{path}: the {role} has no id column {ident!r}.{suggest_column(ident, columns)}"
        )
    value = value_column or info.get("value") or (scheme.value if scheme else None)
    if value_column is not None and value_column not in columns:
        raise DataError(
            f"{path}: the {role} has no value column {value_column!r}.{suggest_column(value_column, columns)}"
        )
    return ident, value if value in columns else None


def _recorded_snapshot(
    path: Path,
    data: Input,
    columns: list[str],
    info: dict[str, Any],
    ident: str,
    value: str | None,
    extra: list[str],
) -> Snapshot:
    """A scored file: how it was scored comes from its metadata, else its columns."""

    def first(column: str) -> str | None:
        return _first(data.frame, column) if column in columns else None

    name = info.get("scheme") or first("scheme")
    digest = info.get("hash") or first("scheme_hash")
    as_of = info.get("as_of") or first("as_of")
    frame = data.with_text([ident])
    return _snapshot(path, frame, columns, ident, value, name, digest, as_of, extra=extra)


def _snapshot(
    path: Path,
    frame: pl.LazyFrame,
    columns: list[str],
    ident: str,
    value: str | None,
    name: str | None,
    digest: str | None,
    as_of: str | None,
    *,
    rescored: bool = False,
    rejected: int = 0,
    extra: list[str] | None = None,
) -> Snapshot:
    signals = [c.removeprefix("points_") for c in columns if c.startswith("points_")]
    keep = [
        pl.col(KEY),
        pl.col("score").cast(pl.Float64),
        pl.col("band").cast(pl.String),
        *[pl.col(f"points_{s}").cast(pl.Float64) for s in signals],
        (pl.col(value).cast(pl.Float64, strict=False) if value else pl.lit(None, pl.Float64)).alias(
            "__value"
        ),
        *[
            (pl.col(c) if c in columns else pl.lit(None, pl.String)).alias(extra_column(c))
            for c in dict.fromkeys(extra or [])
        ],
    ]
    keyed = with_trimmed_id(frame, ident, KEY)
    return Snapshot(
        path=path,
        frame=keyed.select(keep),
        id_column=ident,
        value_column=value,
        scheme_name=name,
        scheme_hash=digest,
        as_of=as_of,
        signals=signals,
        rescored=rescored,
        rejected=rejected,
        keyed=keyed,
    )


def scheme_mismatch(a: Snapshot, b: Snapshot) -> str | None:
    """A plain warning when two snapshots were scored with different schemes."""
    if a.scheme_hash and b.scheme_hash and a.scheme_hash != b.scheme_hash:
        return (
            f"{a.path} was scored with scheme {a.scheme_name} ({a.scheme_hash}) and {b.path} with "
            f"{b.scheme_name} ({b.scheme_hash}): deltas mix two definitions of health"
        )
    return None


def repeated_key(keys: pl.Series) -> str | None:
    """A value that appears more than once, if any: by sorted 64-bit hashes (0.2 s for
    10 million), then exactly among the few whose hash repeats. No id (null or empty)
    matches anything, so it is never a repeat."""
    suspects = repeated_hashes(keys.hash().sort())
    if suspects.len() == 0:
        return None
    candidates = keys.filter(keys.hash().is_in(suspects.implode()))
    known = candidates.is_not_null() & (candidates != "")
    twice = candidates.filter(known & candidates.is_duplicated())
    return None if twice.len() == 0 else str(twice[0])


def key_steps(rows: pl.LazyFrame) -> pl.LazyFrame:
    """How the KEYs of `rows` step, each against the one before: how many go down
    (`back`), repeat it (`same`), and are empty (`empty`). None of the three: the rows
    are in id order, each customer listed once. One streamed read, holding no id."""
    key, before = pl.col(KEY), pl.col(KEY).shift(1)
    return rows.select(
        (key < before).sum().alias("back"),
        (key == before).sum().alias("same"),
        key.null_count().alias("empty"),
    )


def in_key_order(keys: pl.LazyFrame) -> bool:
    """Whether the customers of `keys` are in id order, each listed once, none empty
    (`key_steps`): told in one streamed read, holding no id and hashing none (10M
    customers: 0.27 s; collecting them for `one_row_per_customer` took 0.6 s), for the
    common case; False says nothing more."""

    def ordered(rows: pl.LazyFrame) -> bool:
        return sum(key_steps(rows).collect(engine="streaming").row(0)) == 0

    # the first rows tell most files out of order, at no cost
    return ordered(keys.head(_FIRST_KEYS)) and ordered(keys)


_FIRST_KEYS = 10_000  # rows that `in_key_order` looks at first


def one_row_per_customer(snapshot: Snapshot, keys: pl.Series | None = None) -> bool:
    """Raise DataError if the snapshot lists a customer twice (joined, that customer
    would be counted and written twice). `keys`: its KEY column, if already collected.
    Returns whether the customers are in id order with none empty, so that a join can
    merge them as they stream."""
    if keys is None:
        try:
            keys = snapshot.frame.select(KEY).collect(engine="streaming")[KEY]
        except pl.exceptions.PolarsError as exc:
            raise DataError(f"{snapshot.path}: cannot read: {polars_gist(exc)}") from None
    if _strictly_increasing(keys):  # each id once: no hash to sort (0.3 s of 10M ids)
        return True
    twice = repeated_key(keys)
    if twice is not None:
        raise DataError(
            f"{snapshot.path}: customer {twice!r} is listed more than once; a snapshot has "
            "one row per customer"
        )
    return keys.null_count() == 0 and keys.is_sorted()


def _strictly_increasing(keys: pl.Series) -> bool:
    """Whether every key is known and greater than the one before (so none repeats): one
    scan of the ids in place, where finding a repeat hashes and sorts them."""
    if keys.null_count() or not keys.is_sorted():
        return False
    return not (keys.slice(1) == keys.slice(0, keys.len() - 1)).any()


def non_number(snapshot: Snapshot) -> DataError | None:
    """The first score or points value of a scored file that is not a number, named by
    column, row and value: a failed cast names only the column (and no file, when two
    are read together). None for a rescored export, or when every value is a number."""
    if snapshot.data is None or snapshot.rescored:
        return None
    numbered = snapshot.data.numbered()
    types = numbered.collect_schema()
    for column in ["score", *[f"points_{s}" for s in snapshot.signals]]:
        if types.get(column) != pl.String:  # read as numbers: every value is one
            continue
        text = pl.col(column).str.strip_chars()
        unread = text.is_not_null() & (text != "") & text.cast(pl.Float64, strict=False).is_null()
        bad = numbered.filter(unread).select(ROW_NUMBER, column).head(1).collect()
        if bad.height:
            row, value = bad.row(0)
            return DataError(
                f"{snapshot.path}: column {column!r}, row {row}: {value!r} is not a number"
            )
    return None
