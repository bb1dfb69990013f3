"""A scheme fitted to history (the definition article's step 3): each tier's points from
its churn rate (monotone where the tiers are ordered), the weights from a logistic
regression of churn on the signals' points with non-negative weights (more points
never means more churn; scipy's bounded L-BFGS-B), as whole percentages summing to 100
at each level; written into the scheme's own text so its comments and layout stay."""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import polars as pl

from chs.backtest import CHURNED
from chs.errors import DataError
from chs.scheme import FlatSignal, Scheme, Signal
from chs.training import DEFINITION, FILE, ROW_ID

PRIOR_ROWS = 20  # a tier's churn rate is shrunk to the average as if by 20 more rows
Path_ = tuple[str, ...]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def fit_weights(points: np.ndarray, churned: np.ndarray) -> np.ndarray:
    """Non-negative weights w (one per column of `points`, in 0..1) maximising the
    likelihood of P(churn) = 1 / (1 + exp(-(b - points . w)))."""
    from scipy.optimize import minimize

    y = churned.astype(float)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] - points @ params[1:]
        p = 1.0 / (1.0 + np.exp(-z))
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z))
        dz = p - y
        return nll, np.concatenate(([dz.sum()], -(points.T @ dz)))

    start = np.concatenate(([0.0], np.ones(points.shape[1])))
    bounds = [(None, None)] + [(0.0, None)] * points.shape[1]
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return np.clip(result.x[1:], 0.0, None)


def percentages(weights: dict[str, float]) -> dict[str, int]:
    """Whole percentages summing to 100, each at least 1 (a scheme's weights are > 0:
    a signal the fit gives nothing keeps 1 %), the rest by largest remainder."""
    total = sum(weights.values())
    if total <= 0:
        raise DataError("no signal predicts churn in this data: every fitted weight is 0")
    left = 100 - len(weights)
    shares = {k: v * left / total for k, v in weights.items()}
    whole = {k: 1 + int(v) for k, v in shares.items()}
    rest = 100 - sum(whole.values())
    for k in sorted(shares, key=lambda k: -(shares[k] - int(shares[k])))[:rest]:
        whole[k] += 1
    return whole


def tier_direction(signal: Signal) -> int | None:
    """How a signal's tiers must be ordered once refitted: +1 when the points must not
    rise from one tier to the next, -1 when they must not fall, None when the tiers
    are not ordered along the value (two-sided or mixed bounds, a map) or the old
    points are flat. Ordered tiers each have one bound, all lower bounds falling or
    all upper bounds rising, the catch-all last; the old points say the direction."""
    tiers = signal.points
    if not tiers or len(tiers) < 2:
        return None
    bounded = tiers[:-1] if tiers[-1].is_catch_all else tiers
    lower = [t.at_least if t.at_least is not None else t.above for t in bounded]
    upper = [t.at_most if t.at_most is not None else t.below for t in bounded]
    one_sided = all((lo is None) != (up is None) for lo, up in zip(lower, upper, strict=True))
    if not one_sided or any(t.is_catch_all for t in bounded):
        return None
    if all(v is not None for v in lower):
        ordered = all(a > b for a, b in itertools.pairwise(lower))  # type: ignore[operator]
    elif all(v is not None for v in upper):
        ordered = all(a < b for a, b in itertools.pairwise(upper))  # type: ignore[operator]
    else:
        ordered = False
    first, last = tiers[0].points, tiers[-1].points
    return (1 if first > last else -1) if ordered and first != last else None


def fit_tier_points(
    customers: np.ndarray, churned: np.ndarray, direction: int | None
) -> np.ndarray | None:
    """New points for each tier (in order) from its churn rate: the rate shrunk toward
    the average by PRIOR_ROWS, made monotone along the tiers when `direction` says so
    (isotonic, weighted by customers), then scaled so the tier that churns least
    scores 100 and the one that churns most 0. A tier no row fell in is NaN (it keeps
    its points); None when the rates do not differ (nothing to learn)."""
    from scipy.optimize import isotonic_regression

    seen = customers > 0
    if seen.sum() < 2:
        return None
    average = churned.sum() / customers.sum()
    rates = (churned[seen] + PRIOR_ROWS * average) / (customers[seen] + PRIOR_ROWS)
    if direction is not None:  # +1: points fall along the tiers, so churn rises
        fitted = isotonic_regression(rates, weights=customers[seen], increasing=direction > 0)
        rates = fitted.x
    low, high = rates.min(), rates.max()
    if high - low < 1e-9:
        return None
    out = np.full(customers.shape, np.nan)
    out[seen] = np.round(100 * (high - rates) / (high - low))
    return out


def level_weights(
    effective: dict[str, float], groups: dict[str, list[str]] | None
) -> dict[Path_, int]:
    """Whole-percentage weights at each level from the signals' fitted shares of the
    score: a flat scheme's signals; or each group's (the sum of its signals') and,
    within it, its signals' (a group the fit gives nothing splits evenly)."""
    if groups is None:
        return {("signals", n, "weight"): w for n, w in percentages(effective).items()}
    totals = {g: sum(effective[n] for n in names) for g, names in groups.items()}
    out: dict[Path_, int] = {("groups", g, "weight"): w for g, w in percentages(totals).items()}
    for g, names in groups.items():
        inner = {n: effective[n] for n in names}
        if sum(inner.values()) <= 0:
            inner = dict.fromkeys(names, 1.0)
        for n, w in percentages(inner).items():
            out[("groups", g, "signals", n, "weight")] = w
    return out


def rewrite(text: str, scheme: Scheme, edits: dict[Path_, float], description: str) -> str:
    """The scheme's text with each edited number replaced where it is written (several
    keys on one line are replaced in the order they are written), and the description
    said; the numbers read back from the result are checked."""
    lines = text.splitlines(keepends=True)
    cursors: dict[int, int] = {}
    written = {k: i for i, k in enumerate(scheme.written_keys())}
    for path, value in sorted(edits.items(), key=lambda e: written.get(e[0], -1)):
        line = scheme.line_of(*path)
        if line is None:
            raise DataError(f"{scheme.source}: cannot find {'.'.join(path)} to rewrite it")
        key = re.escape(path[-1])
        pattern = re.compile(rf"((?<![\w-])(?:{key}|\"{key}\"|'{key}')\s*:\s*)({_NUMBER})")
        found = pattern.search(lines[line - 1], cursors.get(line, 0))
        if found is None:
            raise DataError(f"{scheme.source}:{line}: cannot find {'.'.join(path)} to rewrite it")
        said = f"{value:g}" if isinstance(value, float) else str(value)
        new = lines[line - 1][: found.start(2)] + said + lines[line - 1][found.end(2) :]
        cursors[line] = found.start(2) + len(said)
        lines[line - 1] = new
    return _described("".join(lines), scheme, description)


def _described(text: str, scheme: Scheme, description: str) -> str:
    """The description replaced when it is one line, else added (after `name:`, or as
    a comment on top)."""
    if not description:
        return text
    lines = text.splitlines(keepends=True)
    said = json.dumps(description, ensure_ascii=False)
    place = scheme.line_of("description")
    if place is not None and re.match(r"\s*description\s*:\s*[^|>\s]", lines[place - 1]):
        lines[place - 1] = re.sub(
            r"(description\s*:\s*).*", lambda m: m.group(1) + said, lines[place - 1]
        )
    elif place is None and scheme.line_of("name") is not None:
        lines.insert(scheme.line_of("name") or 0, f"description: {said}\n")
    else:
        lines.insert(0, f"# {description}\n")
    return "".join(lines)


class TierPoints(TypedDict):
    """A tier's (or category's) churn and its points before and after the fit."""

    definition: str | None  # the segment, in a scheme with segments
    signal: str
    tier: str  # its bounds (`>= 40`), its category, or `other`
    customers: int
    churned: int
    churn_rate: float | None
    old: float
    new: float


@dataclass
class Fitted:
    """A fit: the numbers to write into the scheme (key path -> value), the tiers'
    points, and what the fit could not learn."""

    edits: dict[Path_, float] = field(default_factory=dict)
    points: list[TierPoints] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Part:
    """A score definition to fit: the scheme, or one segment (its rows and key path)."""

    name: str | None
    prefix: Path_
    scheme: Scheme

    def rows(self, rows: pl.DataFrame) -> pl.DataFrame:
        return rows if self.name is None else rows.filter(pl.col(DEFINITION) == self.name)

    def signal_path(self, flat: FlatSignal) -> Path_:
        group = ("groups", flat.group) if flat.group is not None else ()
        return (*self.prefix, *group, "signals", flat.name)


def parts(scheme: Scheme) -> list[Part]:
    """The definitions a fit treats apart: each segment on its own rows, else the scheme."""
    if scheme.segments is None:
        return [Part(None, (), scheme)]
    return [Part(name, ("segments", str(i)), d) for i, (name, d) in enumerate(scheme.definitions())]


def fit_scheme(scheme: Scheme, rows: pl.DataFrame, tiers: pl.DataFrame | None) -> Fitted:
    """Fit each definition on its rows: the tiers' points first (when `tiers`, the
    rows' tier numbers, is given), then the weights on the points as refitted."""
    fitted = Fitted()
    for part in parts(scheme):
        own = part.rows(rows)
        if own.height == 0 or own[CHURNED].n_unique() < 2:
            fitted.warnings.append(
                f"{part.name or scheme.name}: its rows are all churners or all stayers: "
                "its numbers are kept"
            )
            continue
        if tiers is not None:
            own = _refit_points(part, own, tiers, fitted)
        _refit_weights(part, own, fitted)
    return fitted


def _refit_points(
    part: Part, rows: pl.DataFrame, tiers: pl.DataFrame, fitted: Fitted
) -> pl.DataFrame:
    """Each tiered or mapped signal's points from its tiers' churn rates; the rows'
    points replaced by the new ones (a row in no refitted tier keeps its points)."""
    joined = rows.join(tiers, on=[ROW_ID, FILE], how="left")
    replaced = []
    for flat in part.scheme.flat_signals():
        if flat.signal.linear is not None:
            continue
        labels, old = tier_labels(flat.signal)
        counts = (
            joined.filter(pl.col(f"tier_{flat.name}").is_not_null())
            .group_by(f"tier_{flat.name}")
            .agg(pl.len().alias("n"), pl.col(CHURNED).sum().alias("c"))
        )
        customers, churned = np.zeros(len(labels)), np.zeros(len(labels))
        for tier, n, c in counts.iter_rows():
            if 0 <= tier < len(labels):
                customers[tier], churned[tier] = n, c
        new = fit_tier_points(customers, churned, tier_direction(flat.signal))
        if new is None:
            fitted.warnings.append(f"{flat.name}: its tiers churn alike: its points are kept")
            new = np.full(len(labels), np.nan)
        points = [o if np.isnan(p) else float(p) for o, p in zip(old, new, strict=True)]
        _tier_rows(part, flat, labels, old, points, customers, churned, fitted)
        mapping = dict(enumerate(points))
        tier = pl.col(f"tier_{flat.name}")
        replaced.append(
            tier.replace_strict(mapping, default=None, return_dtype=pl.Float64)
            .fill_null(pl.col(f"points_{flat.name}"))
            .alias(f"points_{flat.name}")
        )
    return joined.with_columns(replaced) if replaced else rows


def tier_labels(signal: Signal) -> tuple[list[str], list[float]]:
    """A tiered or mapped signal's tiers, in the probe's numbering: their labels and
    old points (a map's categories, then `other` when it has one)."""
    if signal.points is not None:
        return [t.interval().text() or "any other value" for t in signal.points], [
            float(t.points) for t in signal.points
        ]
    assert signal.map is not None
    labels, old = list(signal.map), [float(v) for v in signal.map.values()]
    if signal.other is not None:
        labels.append("other")
        old.append(float(signal.other))
    return labels, old


def _tier_rows(
    part: Part,
    flat: FlatSignal,
    labels: list[str],
    old: list[float],
    new: list[float],
    customers: np.ndarray,
    churned: np.ndarray,
    fitted: Fitted,
) -> None:
    """The tiers' figures, and the edits of the points that changed."""
    path = part.signal_path(flat)
    for i, label in enumerate(labels):
        n, c = int(customers[i]), int(churned[i])
        fitted.points.append(
            {
                "definition": part.name,
                "signal": flat.name,
                "tier": label,
                "customers": n,
                "churned": c,
                "churn_rate": round(c / n, 4) if n else None,
                "old": old[i],
                "new": new[i],
            }
        )
        if new[i] == old[i]:
            continue
        if flat.signal.points is not None:
            fitted.edits[(*path, "points", str(i), "points")] = int(new[i])
        elif label == "other" and i == len(labels) - 1 and flat.signal.other is not None:
            fitted.edits[(*path, "other")] = int(new[i])
        else:
            fitted.edits[(*path, "map", label)] = int(new[i])


def _refit_weights(part: Part, rows: pl.DataFrame, fitted: Fitted) -> None:
    """The weights of a definition's signals (and groups) fitted on its rows' points."""
    flats = part.scheme.flat_signals()
    names = [f.name for f in flats]
    columns = [
        pl.col(f"points_{n}").fill_null(pl.col(f"points_{n}").mean()).fill_null(0.0) for n in names
    ]
    weights = fit_weights(rows.select(columns).to_numpy() / 100.0, rows[CHURNED].to_numpy())
    effective = dict(zip(names, weights.tolist(), strict=True))
    idle = [n for n, w in effective.items() if w <= 1e-9]
    if idle:
        fitted.warnings.append(
            f"{', '.join(idle)}: the fit gives no weight; kept at 1 % (a weight is above 0): "
            "remove the signal if it tells nothing"
        )
    groups = None
    if part.scheme.groups is not None:
        groups = {g: list(group.signals) for g, group in part.scheme.groups.items()}
    for path, weight in level_weights(effective, groups).items():
        fitted.edits[(*part.prefix, *path)] = weight
