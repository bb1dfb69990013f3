"""Where the customers are heading: the band transition matrix of consecutive snapshots,
with an absorbing `lost` state, and the latest snapshot projected step by step (a
Markov chain: the distribution times the matrix, k times).

The matrices are a band's handful of rows, so the arithmetic is plain Python: no row
of customer data is looped over (the counts are a Polars join and group-by).
"""

from __future__ import annotations

from typing import TypedDict

import polars as pl

from chs.columns import KEY

LOST = "lost"

Matrix = dict[str, dict[str, float]]


class Step(TypedDict):
    month: int
    bands: dict[str, float]  # expected customers per band
    lost: float  # expected customers lost by then, cumulative
    value_lost: float | None  # expected value lost by then


def transition_counts(
    before: pl.LazyFrame, after: pl.LazyFrame, group: pl.Expr | None = None
) -> pl.LazyFrame:
    """Customers per (from band, to band) between two snapshots; one absent from the
    later snapshot went to LOST. Customers new in the later one are not transitions.
    With `group` (an expression over the earlier snapshot), per its value too, in `g`."""
    keys = [] if group is None else [group.alias("g")]
    joined = before.select(KEY, *keys, pl.col("band").alias("from")).join(
        after.select(KEY, pl.col("band").alias("to")), on=KEY, how="left"
    )
    by = [*(["g"] if group is not None else []), "from", pl.col("to").fill_null(LOST)]
    return joined.group_by(by).agg(pl.len().alias("n"))


def count_matrix(frames: list[pl.DataFrame], states: list[str]) -> dict[str, dict[str, int]]:
    """The transition counts of every pair of snapshots summed, keyed from then to."""
    counts = {s: {t: 0 for t in [*states, LOST]} for s in states}
    for frame in frames:
        for source, target, n in frame.iter_rows():
            if source in counts and target in counts[source]:
                counts[source][target] += n
    return counts


def probabilities(counts: dict[str, dict[str, int]]) -> Matrix:
    """Each row of counts as shares of its total; a band no customer left from stays
    where it is (probability 1 to itself), so the chain is defined everywhere."""
    out: Matrix = {}
    for source, row in counts.items():
        total = sum(row.values())
        out[source] = {t: (n / total if total else float(t == source)) for t, n in row.items()}
    return out


def step(distribution: dict[str, float], matrix: Matrix) -> dict[str, float]:
    """One step of the chain: the distribution times the matrix; LOST is absorbing."""
    out = dict.fromkeys(distribution, 0.0)
    for source, mass in distribution.items():
        if source == LOST:
            out[LOST] += mass
            continue
        for target, p in matrix[source].items():
            out[target] += mass * p
    return out


def project(
    start: dict[str, float], values: dict[str, float] | None, matrix: Matrix, months: int
) -> list[Step]:
    """The distribution after 1..months steps, the customers lost by then, and the
    value lost by then: each band's value times its probability of being lost."""
    states = [*matrix, LOST]
    distribution = {s: float(start.get(s, 0.0)) for s in states}
    # the probability that a customer starting in each band is lost by step k
    lost_by = {b: {s: float(s == b) for s in states} for b in matrix}
    out: list[Step] = []
    for month in range(1, months + 1):
        distribution = step(distribution, matrix)
        lost_by = {b: step(d, matrix) for b, d in lost_by.items()}
        value = (
            sum(values.get(b, 0.0) * lost_by[b][LOST] for b in matrix)
            if values is not None
            else None
        )
        out.append(
            {
                "month": month,
                "bands": {b: round(distribution[b], 4) for b in matrix},
                "lost": round(distribution[LOST], 4),
                "value_lost": round(value, 2) if value is not None else None,
            }
        )
    return out


def lifetimes(matrix: Matrix) -> dict[str, float | None]:
    """Expected steps before a customer of each band is lost: the row sums of the
    fundamental matrix N = (I - Q)^-1, Q the transitions among bands, that is the
    solution t of (I - Q) t = 1. None for a band whose customers may never be lost (a
    band from which LOST cannot be reached, or that leads to one)."""
    finite = [b for b in matrix if _reaches_lost(matrix, b)]
    finite = [b for b in finite if not _leads_outside(matrix, b, set(finite))]
    system = [[float(r == c) - matrix[r].get(c, 0.0) for c in finite] + [1.0] for r in finite]
    solved = dict(zip(finite, _solve(system), strict=True)) if finite else {}
    return {b: round(solved[b], 2) if b in solved else None for b in matrix}


def _leads_outside(matrix: Matrix, band: str, inside: set[str]) -> bool:
    """Whether `band` can reach a band outside `inside` (other than LOST)."""
    seen, todo = {band}, [band]
    while todo:
        here = todo.pop()
        for target, p in matrix[here].items():
            if p <= 0 or target == LOST or target in seen:
                continue
            if target not in inside:
                return True
            seen.add(target)
            todo.append(target)
    return False


def _solve(rows: list[list[float]]) -> list[float]:
    """A small linear system by Gauss-Jordan elimination with partial pivoting (at most
    MAX_BANDS unknowns); each row holds its coefficients, then its right-hand side."""
    n = len(rows)
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [v / lead for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col]:
                factor = rows[r][col]
                rows[r] = [v - factor * p for v, p in zip(rows[r], rows[col], strict=True)]
    return [row[-1] for row in rows]


def _reaches_lost(matrix: Matrix, band: str) -> bool:
    """Whether LOST can be reached from `band` at all."""
    seen, todo = {band}, [band]
    while todo:
        here = todo.pop()
        for target, p in matrix[here].items():
            if p <= 0 or target in seen:
                continue
            if target == LOST:
                return True
            seen.add(target)
            todo.append(target)
    return False


def moved(start: dict[str, float], source: str, target: str, share: float) -> dict[str, float]:
    """The distribution with `share` of `source`'s customers moved to `target`."""
    out = dict(start)
    amount = out.get(source, 0.0) * share
    out[source] = out.get(source, 0.0) - amount
    out[target] = out.get(target, 0.0) + amount
    return out
