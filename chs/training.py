"""The rows a scheme is fitted on: raw exports or history snapshots scored with it and
labelled churned or not, by a yes/no column or by an outcomes file under its leakage
rules (chs/outcomes.py). Calibration data is a training set held in memory, not a
stream: the fit and its checks read it several times."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

from chs.backtest import CHURNED
from chs.columns import KEY
from chs.errors import DataError
from chs.exprs import trimmed_id
from chs.files import CsvOptions
from chs.hints import suggest_column
from chs.history import list_snapshots
from chs.outcomes import Outcomes, check_yes_no, labelled, observed_until, yes_no
from chs.scheme import Scheme, parse_scheme
from chs.sources import collect, planned

ROW_ID, FILE, DATE, DEFINITION = "__chs·id", "__chs·file", "__chs·date", "__chs·definition"
HOLDOUT_FILE = -1  # the FILE of a holdout file's rows
TIER_STEP = 0.25  # a probe scheme's points: tier or category number i scores i * TIER_STEP


@dataclass(frozen=True)
class Source:
    """One file of rows: where it is, its number (FILE), and its date, if a snapshot."""

    path: Path
    index: int
    date: dt.date | None


@dataclass(frozen=True)
class Labels:
    """How rows are labelled: the yes/no `outcome` column of the files themselves, or
    the `outcomes` file (a yes/no column or churn dates, over `horizon` days)."""

    outcome: str | None
    outcomes: Outcomes | None
    horizon: int


@dataclass(frozen=True)
class SnapshotUse:
    """A history snapshot, and why it was left out (None: used)."""

    path: str
    as_of: str
    reason: str | None


def history_sources(
    history: Path, labels: Labels, until: dt.date | None
) -> tuple[list[Source], list[SnapshotUse], list[str]]:
    """The snapshots of a history folder whose horizon is observed (the others listed
    with the reason), and the folder's warnings."""
    listing = list_snapshots(history)
    if not listing.snapshots:
        raise DataError(f"{history}: no snapshot in the history folder")
    until = observed_until(until, [d for d, _ in listing.snapshots], labels.outcomes)
    sources, uses = [], []
    for date, path in listing.snapshots:
        reason = None
        if until is not None and date + dt.timedelta(days=labels.horizon) > until:
            reason = (
                f"its {labels.horizon}-day horizon ends after {until.isoformat()}, "
                "the last date observed"
            )
        else:
            sources.append(Source(path, len(sources), date))
        uses.append(SnapshotUse(str(path), date.isoformat(), reason))
    if not sources:
        raise DataError(f"{history}: no snapshot has its whole horizon observed")
    return sources, uses, listing.warnings


def scored_rows(
    scheme: Scheme, sources: list[Source], labels: Labels, csv: CsvOptions
) -> pl.DataFrame:
    """Every source scored with the scheme: ROW_ID, FILE, DATE, DEFINITION, score, band,
    the signals' points and CHURNED, one row per customer and source."""
    return read_rows(scheme, sources, labels, csv)[0]


def read_rows(
    scheme: Scheme, sources: list[Source], labels: Labels, csv: CsvOptions
) -> tuple[pl.DataFrame, pl.Series]:
    """The scored rows, and the outcomes file's customers the sources hold (before the
    leakage rules leave any out)."""
    pieces = [_source_rows(scheme, s, labels, csv) for s in sources]
    frame = pl.concat([rows for rows, _ in pieces], how="vertical_relaxed")
    return frame, pl.concat([keys for _, keys in pieces])


def snapshot_ids(uses: list[SnapshotUse], id_column: str) -> pl.LazyFrame:
    """The customers (KEY) of history snapshots left out, read from their id column."""
    left = [u.path for u in uses if u.reason is not None]
    frames = [pl.scan_parquet(p).select(trimmed_id(id_column).alias(KEY)) for p in left]
    return pl.concat(frames) if frames else pl.LazyFrame(schema={KEY: pl.String})


def _source_rows(
    scheme: Scheme, source: Source, labels: Labels, csv: CsvOptions
) -> tuple[pl.DataFrame, pl.Series]:
    """One source's rows, labelled, and the outcomes' customers it has."""
    points = [f"points_{f.name}" for f in scheme.flat_signals()]
    definition = pl.col("definition") if scheme.segments is not None else pl.lit(None)
    with planned(source.path, scheme, csv, source.date) as (data, plan):
        rows = plan.scored.with_columns(trimmed_id(scheme.id).alias(KEY))
        if labels.outcomes is None:
            assert labels.outcome is not None
            _check_outcome_column(data.frame.collect_schema().names(), labels.outcome, source)
            check_yes_no(data.numbered(), labels.outcome, str(source.path))
            rows = rows.with_columns(yes_no(pl.col(labels.outcome)).fill_null(False).alias(CHURNED))
            matched = pl.LazyFrame(schema={KEY: pl.String})
        else:
            if labels.outcomes.dated and source.date is None:
                raise DataError(
                    f"{source.path}: a raw export has no date, which churn dates need: give "
                    "a history folder, or a yes/no outcome"
                )
            found = labels.outcomes.frame.lazy()
            matched = found.join(rows, on=KEY, how="semi").select(KEY)
            rows = labelled(rows, labels.outcomes, source.date, labels.horizon)
        query = rows.select(
            pl.col(KEY).alias(ROW_ID),
            pl.lit(source.index).alias(FILE),
            pl.lit(source.date, dtype=pl.Date).alias(DATE),
            definition.cast(pl.String).alias(DEFINITION),
            "score",
            "band",
            *points,
            CHURNED,
        )
        frame, keys = collect([query, matched], data, scheme=scheme)
    return frame, keys[KEY]


def _check_outcome_column(names: list[str], outcome: str, source: Source) -> None:
    if outcome not in names:
        raise DataError(
            f"{source.path}: column {outcome!r} (the outcome) not found."
            f"{suggest_column(outcome, names)}"
        )


def tier_rows(scheme: Scheme, sources: list[Source], csv: CsvOptions) -> pl.DataFrame:
    """Which tier (or category) of each signal every row fell in: ROW_ID, FILE and
    `tier_<signal>` (the tier's number; null where the value is missing or the signal
    is linear), read by scoring a probe scheme whose points are the tiers' numbers."""
    probe = probe_scheme(scheme)
    tiered = [f.name for f in scheme.flat_signals() if f.signal.linear is None]
    frames = []
    for source in sources:
        with planned(source.path, probe, csv, source.date) as (data, plan):
            query = plan.scored.select(
                trimmed_id(scheme.id).alias(ROW_ID),
                pl.lit(source.index).alias(FILE),
                *[
                    (pl.col(f"points_{n}") / TIER_STEP).round().cast(pl.Int32).alias(f"tier_{n}")
                    for n in tiered
                ],
            )
            (frame,) = collect([query], data, scheme=probe)
        frames.append(frame)
    return pl.concat(frames)


def probe_scheme(scheme: Scheme) -> Scheme:
    """The scheme with each tier's points replaced by its number times TIER_STEP (a
    map's categories numbered in order, `other` after them), and every missing policy
    `redistribute`, so a row's points tell its tier and a missing value reads null."""
    data = scheme.model_dump(mode="json", exclude_none=True)
    _probe_level(data)
    for segment in data.get("segments") or []:
        _probe_level(segment)
    return parse_scheme(yaml.safe_dump(data, sort_keys=False), scheme.source or "<probe>")


def _probe_level(level: dict) -> None:
    """Probe points and policies of a definition's signals (flat or in groups)."""
    if "missing" in level:
        level["missing"] = "redistribute"
    for group in (level.get("groups") or {}).values():
        group.pop("missing", None)
        _probe_signals(group["signals"])
    _probe_signals(level.get("signals") or {})


def _probe_signals(signals: dict) -> None:
    for signal in signals.values():
        signal.pop("missing", None)
        for i, tier in enumerate(signal.get("points") or []):
            tier["points"] = i * TIER_STEP
        if signal.get("map") is not None:
            signal["map"] = {k: i * TIER_STEP for i, k in enumerate(signal["map"])}
            signal["other"] = len(signal["map"]) * TIER_STEP
