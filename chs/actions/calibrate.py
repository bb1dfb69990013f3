"""`chs calibrate`: the scheme's weights fitted to who churned, checked on a holdout."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TypedDict

import numpy as np
import polars as pl

from chs.backtest import CHURNED, auc, counts_by
from chs.calibration import fit_weights, percentages, rewrite
from chs.errors import DataError, OptionError, OutputError
from chs.files import CsvOptions, PendingWrites
from chs.outcomes import check_yes_no, yes_no
from chs.scheme import Scheme, load_scheme, parse_scheme
from chs.sources import collect, planned

HOLDOUT_SHARE = 5  # without a holdout file, one customer in five (by id hash) is held out


class Fit(TypedDict):
    """One scheme's figures on the training and the holdout rows."""

    weights: dict[str, float]
    auc_train: float | None
    auc_holdout: float | None


class CalibrateResult(TypedDict):
    """What `calibrate` returns (and `chs calibrate --json` prints)."""

    scheme: str
    output: str | None  # None when refused
    rows: dict[str, int]  # training and holdout rows, and their churners
    holdout: str  # how the holdout was made
    old: Fit
    new: Fit
    transitions: dict[str, dict[str, int]]  # old band -> new band, customers (holdout)
    written: bool
    warnings: list[str]


def calibrate(
    scheme_path: str | Path,
    data: list[str | Path],
    *,
    outcome: str,
    output: Path,
    holdout: str | Path | None = None,
    force: bool = False,
    csv: CsvOptions | None = None,
) -> CalibrateResult:
    """Fit the weights of the scheme's signals to the `outcome` (yes/no) of `data`,
    compare old and new on a holdout (`holdout`, else one customer in five by id
    hash), and write the new scheme to `output` unless it ranks the holdout worse
    (then only with `force`)."""
    csv = csv or CsvOptions()
    scheme = load_scheme(scheme_path)
    _check_flat(scheme)
    sources = [Path(p) for p in data]
    _check_output(output, [Path(scheme_path), *sources, *([Path(holdout)] if holdout else [])])
    train, test, how = _split(_all_rows(scheme, sources, holdout, outcome, csv), holdout)
    names = [f.name for f in scheme.flat_signals()]
    fitted = fit_weights(_points(train, names), train[CHURNED].to_numpy())
    weights = percentages(dict(zip(names, fitted.tolist(), strict=True)))
    text = Path(scheme_path).read_text(encoding="utf-8")
    new = parse_scheme(rewrite(text, scheme, weights, ""), output)  # the weights alone score
    again = _all_rows(new, sources, holdout, outcome, csv)
    rescored_train, rescored_test = _same_rows(again, train), _same_rows(again, test)
    auc_old_test, auc_new_test = _auc(test, "score"), _auc(rescored_test, "score")
    _refuse_worse(output, auc_old_test, auc_new_test, force)
    said = _description(scheme, sources, weights, how, auc_old_test, auc_new_test)
    new_text = rewrite(text, scheme, weights, said)
    parse_scheme(new_text, output)  # what is written passes chs check
    _write(output, new_text)
    auc_old_train = _auc(train, "score")
    return {
        "scheme": str(scheme_path),
        "output": str(output),
        "rows": {
            "train": train.height,
            "train_churned": int(train[CHURNED].sum()),
            "holdout": test.height,
            "holdout_churned": int(test[CHURNED].sum()),
        },
        "holdout": how,
        "old": {
            "weights": {f.name: f.signal.weight for f in scheme.flat_signals()},
            "auc_train": auc_old_train,
            "auc_holdout": auc_old_test,
        },
        "new": {
            "weights": {k: float(v) for k, v in weights.items()},
            "auc_train": _auc(rescored_train, "score"),
            "auc_holdout": auc_new_test,
        },
        "transitions": _transitions(test, rescored_test, scheme.id),
        "written": True,
        "warnings": _warnings(train, fitted.tolist(), names),
    }


ROW_ID, FILE = "__chs·calibrated_id", "__chs·file"


def _refuse_worse(output: Path, old: float | None, new: float | None, force: bool) -> None:
    """A new scheme that ranks the holdout worse than the old is not written (unless
    `force`): it would be a step back that looks like progress."""
    if old is not None and new is not None and new < old and not force:
        raise DataError(
            f"{output}: not written: the new weights rank the holdout worse (AUC "
            f"{new:.3f} < {old:.3f}); {{option}} writes it anyway",
            option="force",
        )


def _check_output(output: Path, inputs: list[Path]) -> None:
    """The new scheme is a .yaml file that is none of the inputs (the old scheme kept)."""
    if output.suffix.lower() not in (".yaml", ".yml"):
        raise OutputError(f"{output}: the new scheme is written as YAML: name it .yaml")
    if output.resolve() in {p.resolve() for p in inputs}:
        raise OutputError(f"{output}: would overwrite an input; write the new scheme beside it")


def _check_flat(scheme: Scheme) -> None:
    """Calibration fits the weights of a scheme's `signals:` (groups, segments and extra
    scores would need weights at two levels)."""
    if scheme.signals is None or scheme.segments is not None or scheme.scores:
        raise OptionError(
            f"{scheme.source}: calibrate fits the weights of a scheme's signals: list; "
            "schemes with groups, segments or extra scores are not fitted yet"
        )


def _rows(scheme: Scheme, source: Path, index: int, outcome: str, csv: CsvOptions) -> pl.DataFrame:
    """One file scored with the scheme: id, file, score, band, points, churned."""
    points = [f"points_{f.name}" for f in scheme.flat_signals()]
    with planned(source, scheme, csv) as (data, plan):
        names = data.frame.collect_schema().names()
        if outcome not in names:
            raise DataError(f"{source}: column {outcome!r} (the outcome) not found")
        check_yes_no(data.numbered(), outcome, str(source))
        query = plan.scored.select(
            pl.col(scheme.id).cast(pl.String).alias(ROW_ID),
            pl.lit(index).alias(FILE),
            "score",
            "band",
            *points,
            yes_no(pl.col(outcome)).fill_null(False).alias(CHURNED),
        )
        (frame,) = collect([query], data, scheme=scheme)
    return frame


def _all_rows(
    scheme: Scheme, sources: list[Path], holdout: str | Path | None, outcome: str, csv: CsvOptions
) -> pl.DataFrame:
    """Every training file's rows, then the holdout file's (its FILE is -1)."""
    frames = [_rows(scheme, p, i, outcome, csv) for i, p in enumerate(sources)]
    if holdout is not None:
        frames.append(_rows(scheme, Path(holdout), -1, outcome, csv))
    return pl.concat(frames)


def _split(
    rows: pl.DataFrame, holdout: str | Path | None
) -> tuple[pl.DataFrame, pl.DataFrame, str]:
    """Training and holdout rows, and how they were told apart."""
    if holdout is not None:
        test = pl.col(FILE) == -1
        how = f"the file {holdout}"
    else:
        test = pl.col(ROW_ID).hash(seed=0) % HOLDOUT_SHARE == 0
        how = "one customer in five, by a hash of the id (no holdout file given)"
    return rows.filter(~test), rows.filter(test), how


def _same_rows(again: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """The rows rescored, in the same rows: by file and id."""
    return rows.select(ROW_ID, FILE).join(again, on=[ROW_ID, FILE], how="left")


def _points(rows: pl.DataFrame, names: list[str]) -> np.ndarray:
    """The points of each signal, in 0..1; a missing one reads the signal's mean."""
    columns = [
        pl.col(f"points_{n}").fill_null(pl.col(f"points_{n}").mean()).fill_null(0.0) for n in names
    ]
    return rows.select(columns).to_numpy() / 100.0


def _auc(rows: pl.DataFrame, column: str) -> float | None:
    area = auc(counts_by(rows.lazy(), pl.col(column)).collect())
    return round(area, 4) if area is not None else None


def _transitions(old: pl.DataFrame, new: pl.DataFrame, _id: str) -> dict[str, dict[str, int]]:
    """Holdout customers per old band and new band."""
    pairs = pl.DataFrame({"old": old["band"], "new": new["band"]}).group_by("old", "new").len()
    out: dict[str, dict[str, int]] = {}
    for a, b, n in pairs.sort("old", "new").iter_rows():
        out.setdefault(a, {})[b] = n
    return out


def _description(
    scheme: Scheme,
    sources: list[Path],
    weights: dict[str, int],
    how: str,
    old: float | None,
    new: float | None,
) -> str:
    """When, on what data and with what AUC the weights were calibrated."""
    files = ", ".join(p.name for p in sources)
    told = ", ".join(f"{k} {v}" for k, v in weights.items())
    shown = f"holdout AUC {old} -> {new}" if old is not None and new is not None else "no AUC"
    return (
        f"{scheme.description + '. ' if scheme.description else ''}Weights calibrated by chs "
        f"calibrate on {dt.date.today().isoformat()} from {files} ({told}; {shown}; "
        f"holdout: {how})"
    )


def _warnings(train: pl.DataFrame, fitted: list[float], names: list[str]) -> list[str]:
    """Few churners, and signals the fit gives nothing (kept at 1 %)."""
    out = []
    churned = int(train[CHURNED].sum())
    if churned < 50:
        out.append(f"only {churned} churners in the training rows: the fitted weights are unstable")
    idle = [n for n, w in zip(names, fitted, strict=True) if w <= 1e-9]
    if idle:
        out.append(
            f"{', '.join(idle)}: the fit gives no weight; kept at 1 % (a weight is above 0): "
            "remove the signal if it tells nothing"
        )
    return out


def _write(output: Path, text: str) -> None:
    """The new scheme written as every output is: a temporary renamed into place."""
    with PendingWrites([]) as pending:
        tmp = pending.reserve(output)
        pending.files[tmp].write(text.encode("utf-8"))
        pending.commit()
