"""`chs calibrate`: a scheme's weights (and with `fit="points"`, its tiers' points)
fitted to who churned, and checked on rows the fit did not see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypedDict

import polars as pl

from chs.backtest import CHURNED, BandFigures, auc, band_figures, counts_by
from chs.calibration import Fitted, TierPoints, fit_scheme, parts, rewrite
from chs.columns import KEY
from chs.errors import DataError, OptionError, OutputError
from chs.files import CsvOptions, PendingWrites
from chs.outcomes import read_outcomes, unmatched_warning
from chs.scheme import Scheme, load_scheme, parse_scheme
from chs.training import (
    DATE,
    FILE,
    HOLDOUT_FILE,
    ROW_ID,
    Labels,
    SnapshotUse,
    Source,
    history_sources,
    read_rows,
    scored_rows,
    snapshot_ids,
    tier_rows,
)

FOLDS = 5  # without a holdout, 5-fold cross-validation by customer
FEW_CHURNERS = 50  # under this many churners, the figures are unstable


class Fit(TypedDict):
    """One scheme's weights, and how it ranks and bands the rows."""

    weights: dict[str, float]  # by key: `logins`, `usage` (a group), `usage.logins`
    auc_train: float | None
    auc_holdout: float | None
    bands: list[BandFigures]  # churn by band on the holdout rows


class SnapshotUsed(TypedDict):
    """A history snapshot: what it served for (train, holdout), or why it was left out."""

    path: str
    as_of: str
    role: str | None  # "train", "holdout", or None when left out
    reason: str | None


class CalibrateResult(TypedDict):
    """What `calibrate` returns (and `chs calibrate --json` prints)."""

    scheme: str
    output: str
    fit: str  # "weights" or "points"
    rows: dict[str, int]  # training and holdout rows, and their churners
    holdout: str  # how the holdout was made
    snapshots: list[SnapshotUsed]  # with a history folder
    old: Fit
    new: Fit
    points: list[TierPoints]  # with fit="points": each tier's churn and points
    transitions: dict[str, dict[str, int]]  # old band -> new band, customers (holdout)
    written: bool
    warnings: list[str]


@dataclass(frozen=True)
class Split:
    """Which rows train and which check: by an expression, or by cross-validation."""

    train: pl.Expr
    test: pl.Expr
    how: str
    folds: bool = False


def calibrate(
    scheme_path: str | Path,
    data: list[str | Path] | None = None,
    *,
    output: Path,
    history: str | Path | None = None,
    outcome: str | None = None,
    outcomes: str | Path | None = None,
    churned_on: str = "churned_on",
    outcome_id: str | None = None,
    horizon_days: int = 90,
    observed_until: dt.date | None = None,
    fit: Literal["weights", "points"] = "weights",
    holdout: str | Path | None = None,
    holdout_after: dt.date | None = None,
    force: bool = False,
    csv: CsvOptions | None = None,
) -> CalibrateResult:
    """Fit the scheme to who churned in `data` (raw exports) or a `history` folder,
    compare old and new on a holdout (`holdout` file, the snapshots after
    `holdout_after`, else the latest snapshot, else 5-fold cross-validation by
    customer), and write the new scheme to `output` unless it ranks the holdout worse
    (then only with `force`)."""
    csv = csv or CsvOptions()
    scheme = load_scheme(scheme_path)
    _check_options(data, history, outcome, outcomes, holdout, holdout_after)
    labels = _labels(scheme, outcome, outcomes, churned_on, outcome_id, horizon_days, csv)
    sources, listed, warnings = _sources(data, history, holdout, labels, observed_until)
    _check_output(output, [Path(scheme_path), *(s.path for s in sources)], outcomes)
    old, matched = read_rows(scheme, sources, labels, csv)
    warnings += _unmatched(scheme, labels, matched, listed)
    tiers = tier_rows(scheme, sources, csv) if fit == "points" else None
    split = _split(old, labels, holdout, holdout_after)
    train = old.filter(split.train)
    _check_classes(train, outcome or churned_on)
    fitted = fit_scheme(scheme, train, tiers)
    text = Path(scheme_path).read_text(encoding="utf-8")
    new_scheme = parse_scheme(rewrite(text, scheme, fitted.edits, ""), output)
    new = scored_rows(new_scheme, sources, labels, csv)
    test_old, test_new = _holdout_rows(scheme, text, old, new, tiers, split, sources, labels, csv)
    auc_old, auc_new = _auc(test_old), _auc(test_new)
    _refuse_worse(output, auc_old, auc_new, force)
    said = _description(scheme, sources, fit, split.how, auc_old, auc_new)
    final = rewrite(text, scheme, fitted.edits, said)
    parse_scheme(final, output)  # what is written passes chs check
    _write(output, final)
    return {
        "scheme": str(scheme_path),
        "output": str(output),
        "fit": fit,
        "rows": _row_counts(train, test_old),
        "holdout": split.how,
        "snapshots": _snapshot_roles(listed, old, split),
        "old": _figures(scheme, scheme, train, test_old),
        "new": _figures(new_scheme, scheme, _same_rows(new, train), test_new),
        "points": fitted.points,
        "transitions": _transitions(test_old, test_new),
        "written": True,
        "warnings": [*warnings, *_warnings(train, test_old, fitted)],
    }


def _check_classes(train: pl.DataFrame, column: str) -> None:
    """A fit needs churners and customers who stayed among the training rows."""
    churned = int(train[CHURNED].sum())
    if churned in (0, train.height):
        what = "no churner" if churned == 0 else "only churners"
        raise DataError(
            f"{what} in the {train.height:,} training rows (column {column!r}): "
            "nothing to fit the scheme to"
        )


def _labels(
    scheme: Scheme,
    outcome: str | None,
    outcomes: str | Path | None,
    churned_on: str,
    outcome_id: str | None,
    horizon: int,
    csv: CsvOptions,
) -> Labels:
    """How the rows are labelled: their own yes/no column, or the outcomes file."""
    found = None
    if outcomes is not None:
        found = read_outcomes(
            str(outcomes),
            id_column=outcome_id or scheme.id,
            outcome=outcome,
            churned_on=churned_on,
            csv=csv,
        )
    return Labels(outcome, found, horizon)


def _check_options(
    data: list[str | Path] | None,
    history: str | Path | None,
    outcome: str | None,
    outcomes: str | Path | None,
    holdout: str | Path | None,
    holdout_after: dt.date | None,
) -> None:
    """The data is raw exports or a history folder, with an outcome; one holdout."""
    if (not data) == (history is None):
        raise OptionError("give the data: raw exports with an outcome, or a history folder")
    if outcomes is None and outcome is None:
        raise OptionError("give the outcome: a yes/no column of the data, or an outcomes file")
    if holdout is not None and holdout_after is not None:
        raise OptionError("give a holdout file or a holdout date, not both")
    if holdout_after is not None and history is None:
        raise OptionError("a holdout date needs snapshots with dates: give a history folder")


def _sources(
    data: list[str | Path] | None,
    history: str | Path | None,
    holdout: str | Path | None,
    labels: Labels,
    until: dt.date | None,
) -> tuple[list[Source], list[SnapshotUse], list[str]]:
    """The files to read (the exports, or the snapshots whose horizon is observed; then
    the holdout file), the history's snapshots, and the folder's warnings."""
    listed: list[SnapshotUse] = []
    warnings: list[str] = []
    if history is not None:
        found, listed, warnings = history_sources(Path(history), labels, until)
    else:
        found = [Source(Path(p), i, None) for i, p in enumerate(data or [])]
    if holdout is not None:
        found.append(Source(Path(holdout), HOLDOUT_FILE, None))
    return found, listed, warnings


def _split(
    rows: pl.DataFrame, labels: Labels, holdout: str | Path | None, after: dt.date | None
) -> Split:
    """Training and holdout rows, and how they were told apart: a holdout file; the
    snapshots after a date; else the latest snapshot; else 5-fold cross-validation by
    customer. With churn dates, training snapshots are those whose horizon ends by the
    holdout's date, so that no training label looks past it."""
    if holdout is not None:
        test = pl.col(FILE) == HOLDOUT_FILE
        return Split(~test, test, f"the file {holdout}")
    dates = sorted(d for d in rows[DATE].unique().to_list() if d is not None)
    dated = labels.outcomes is not None and labels.outcomes.dated
    reach = labels.horizon if dated else 0
    if after is not None:
        test = pl.col(DATE) > pl.lit(after)
        train = pl.col(DATE) + pl.duration(days=reach) <= pl.lit(after)
        how = f"the snapshots after {after.isoformat()}"
    elif len(dates) >= 2:
        test = pl.col(DATE) == pl.lit(dates[-1])
        train = pl.col(DATE) + pl.duration(days=reach) <= pl.lit(dates[-1])
        how = f"the latest snapshot, {dates[-1].isoformat()} (a time split: no holdout given)"
    else:
        return _folds()
    if rows.filter(train).height and rows.filter(test).height:
        return Split(train, test, how + _trained_on(dated, labels.horizon))
    if after is not None:
        raise DataError(
            f"the holdout date {after.isoformat()} leaves no snapshot to train on or to hold out"
        )
    return _folds()


def _trained_on(dated: bool, horizon: int) -> str:
    if not dated:
        return "; trained on the snapshots before it"
    return f"; trained on the snapshots whose {horizon}-day horizon ends by it"


def _folds() -> Split:
    everything = pl.lit(True)
    return Split(
        everything,
        everything,
        f"{FOLDS}-fold cross-validation by customer (no holdout given): each customer's new "
        f"score comes from a fit on the other {FOLDS - 1} folds",
        folds=True,
    )


def _holdout_rows(
    scheme: Scheme,
    text: str,
    old: pl.DataFrame,
    new: pl.DataFrame,
    tiers: pl.DataFrame | None,
    split: Split,
    sources: list[Source],
    labels: Labels,
    csv: CsvOptions,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The holdout rows as the old and the new scheme score them; cross-validated, every
    row, each scored by the fit on the other folds."""
    if split.folds:
        return old, _cross_validated(scheme, text, old, tiers, sources, labels, csv)
    test = old.filter(split.test)
    return test, _same_rows(new, test)


def _fold(k: int) -> pl.Expr:
    """The rows of fold k: by a hash of the customer, so a customer's snapshots stay
    together."""
    return pl.col(ROW_ID).hash(seed=0) % FOLDS == k


def _cross_validated(
    scheme: Scheme,
    text: str,
    rows: pl.DataFrame,
    tiers: pl.DataFrame | None,
    sources: list[Source],
    labels: Labels,
    csv: CsvOptions,
) -> pl.DataFrame:
    """Each fold's rows scored by the scheme fitted on the other folds, in `rows`' order."""
    pieces = []
    for k in range(FOLDS):
        fitted = fit_scheme(scheme, rows.filter(~_fold(k)), tiers)
        refit = parse_scheme(rewrite(text, scheme, fitted.edits, ""), scheme.source or "<fold>")
        pieces.append(scored_rows(refit, sources, labels, csv).filter(_fold(k)))
    return _same_rows(pl.concat(pieces, how="vertical_relaxed"), rows)  # points: Int16 or float


def _snapshot_roles(
    listed: list[SnapshotUse], rows: pl.DataFrame, split: Split
) -> list[SnapshotUsed]:
    """Each snapshot of a history folder: train, holdout (or both, cross-validated) or
    left out, and why."""
    roles = rows.group_by(DATE).agg(
        split.train.any().alias("train"), split.test.any().alias("test")
    )
    role_of = {d: (t, h) for d, t, h in roles.iter_rows()}
    out: list[SnapshotUsed] = []
    for use in listed:
        train, test = role_of.get(dt.date.fromisoformat(use.as_of), (False, False))
        role = (
            "train and holdout"
            if train and test
            else "train"
            if train
            else "holdout"
            if test
            else None
        )
        reason = use.reason
        if reason is None and role is None:
            reason = "its horizon ends after the holdout's date: training on it would look ahead"
        out.append({"path": use.path, "as_of": use.as_of, "role": role, "reason": reason})
    return out


def _unmatched(
    scheme: Scheme, labels: Labels, matched: pl.Series, listed: list[SnapshotUse]
) -> list[str]:
    """Outcomes of customers in no file or snapshot read (used or left out)."""
    if labels.outcomes is None:
        return []
    seen = pl.concat([matched.to_frame(KEY).lazy(), snapshot_ids(listed, scheme.id)])
    first = min((dt.date.fromisoformat(u.as_of) for u in listed), default=None)
    return unmatched_warning(labels.outcomes, seen, first)


def _same_rows(scored: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """The rows as scored by another scheme: the same customers of the same files."""
    return rows.select(ROW_ID, FILE).join(scored, on=[ROW_ID, FILE], how="left")


def _auc(rows: pl.DataFrame) -> float | None:
    area = auc(counts_by(rows.lazy(), pl.col("score")).collect())
    return round(area, 4) if area is not None else None


def _figures(scheme: Scheme, old: Scheme, train: pl.DataFrame, test: pl.DataFrame) -> Fit:
    """A scheme's weights, its AUC on the training and holdout rows, and its holdout
    churn by band."""
    rate = float(test[CHURNED].mean() or 0.0)  # type: ignore[arg-type]
    counts = counts_by(test.lazy(), pl.col("band")).collect()
    return {
        "weights": weights_of(scheme),
        "auc_train": _auc(train),
        "auc_holdout": _auc(test),
        "bands": band_figures(counts, [b.name for b in old.bands], rate),
    }


def weights_of(scheme: Scheme) -> dict[str, float]:
    """Every weight of the scheme by a short key: `logins`, a group `usage` and its
    signal `usage.logins`, a segment's `smb.logins`."""
    out: dict[str, float] = {}
    for part in parts(scheme):
        head = f"{part.name}." if part.name is not None else ""
        if part.scheme.groups is not None:
            for g, group in part.scheme.groups.items():
                out[f"{head}{g}"] = group.weight
                for n, s in group.signals.items():
                    out[f"{head}{g}.{n}"] = s.weight
        else:
            for n, s in (part.scheme.signals or {}).items():
                out[f"{head}{n}"] = s.weight
    return out


def _row_counts(train: pl.DataFrame, test: pl.DataFrame) -> dict[str, int]:
    return {
        "train": train.height,
        "train_churned": int(train[CHURNED].sum()),
        "holdout": test.height,
        "holdout_churned": int(test[CHURNED].sum()),
    }


def _refuse_worse(output: Path, old: float | None, new: float | None, force: bool) -> None:
    """A new scheme that ranks the holdout worse than the old is not written (unless
    `force`): it would be a step back that looks like progress."""
    if old is not None and new is not None and new < old and not force:
        raise DataError(
            f"{output}: not written: the new scheme ranks the holdout worse (AUC "
            f"{new:.3f} < {old:.3f}); {{option}} writes it anyway",
            option="force",
        )


def _check_output(output: Path, inputs: list[Path], outcomes: str | Path | None) -> None:
    """The new scheme is a .yaml file that is none of the inputs (the old scheme kept)."""
    inputs = inputs + ([Path(outcomes)] if outcomes is not None else [])
    if output.suffix.lower() not in (".yaml", ".yml"):
        raise OutputError(f"{output}: the new scheme is written as YAML: name it .yaml")
    if output.resolve() in {p.resolve() for p in inputs}:
        raise OutputError(f"{output}: would overwrite an input; write the new scheme beside it")


def _transitions(old: pl.DataFrame, new: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Holdout customers per old band and new band."""
    pairs = pl.DataFrame({"old": old["band"], "new": new["band"]}).group_by("old", "new").len()
    out: dict[str, dict[str, int]] = {}
    for a, b, n in pairs.sort("old", "new").iter_rows():
        out.setdefault(a, {})[b] = n
    return out


def _description(
    scheme: Scheme,
    sources: list[Source],
    fit: str,
    how: str,
    old: float | None,
    new: float | None,
) -> str:
    """When, on what data and with what AUC the scheme was calibrated."""
    files = sorted({p.path.parent.name if p.date else p.path.name for p in sources})
    what = "Weights and points" if fit == "points" else "Weights"
    shown = f"holdout AUC {old} -> {new}" if old is not None and new is not None else "no AUC"
    return (
        f"{scheme.description + '. ' if scheme.description else ''}{what} calibrated by chs "
        f"calibrate on {dt.date.today().isoformat()} from {', '.join(files)} ({shown}; "
        f"holdout: {how})"
    )


def _warnings(train: pl.DataFrame, test: pl.DataFrame, fitted: Fitted) -> list[str]:
    """Few churners, and what the fit could not learn."""
    out = []
    for rows, what in ((train, "training"), (test, "holdout")):
        churned = int(rows[CHURNED].sum())
        if churned < FEW_CHURNERS:
            out.append(f"only {churned} churners in the {what} rows: the figures are unstable")
    return out + fitted.warnings


def _write(output: Path, text: str) -> None:
    """The new scheme written as every output is: a temporary renamed into place."""
    with PendingWrites([]) as pending:
        tmp = pending.reserve(output)
        pending.files[tmp].write(text.encode("utf-8"))
        pending.commit()
