"""One customer's score explained: each signal's value, the rule it matched, its points
and weight, what it cost, and the moves that would lift the score to the next band."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, TypedDict

import polars as pl

from chs.columns import ROW_NUMBER, group_work, internal, points_work
from chs.engine import score_frame
from chs.engine.definition import points_expr
from chs.errors import DataError
from chs.scheme import FlatSignal, Scheme, Signal, number_text


@dataclass(frozen=True)
class Move:
    """One candidate change of one signal's raw value."""

    signal: str
    value: Any  # the new raw value (a number, or a category)
    label: str  # `>= 10`, `= pro`, the breakpoint


def _fmt(value: Any) -> str:
    """A value as the texts show it (and as the rescored variants are keyed)."""
    if isinstance(value, float):
        return number_text(round(value, 4))
    return str(value)


def _step(value: float | None, bound: float) -> float:
    """The smallest step past a strict bound: 1 for whole numbers, else 0.01."""
    whole = float(bound).is_integer() and (value is None or float(value).is_integer())
    return 1.0 if whole else 0.01


def matched_rule(signal: Signal, value: Any) -> str | None:
    """The tier, linear segment or category a value falls in, as `chs check` writes it."""
    if value is None:
        return None
    if signal.points is not None:
        for tier in signal.points:
            if tier.interval().contains(float(value)):
                return tier.interval().text()
    if signal.linear is not None:
        xs = [x for x, _ in signal.linear]
        if value <= xs[0]:
            return f"<= {number_text(xs[0])}"
        if value >= xs[-1]:
            return f">= {number_text(xs[-1])}"
        for a, b in pairwise(xs):
            if a <= value <= b:
                return f"{number_text(a)} to {number_text(b)}"
    if signal.map is not None:
        category = signal.category_of(str(value))
        return f"= {category}" if category is not None else "any other"
    return None


def better_moves(flat: FlatSignal, value: Any, points: float | None) -> list[Move]:
    """Values that would give this signal more points, nearest first."""
    sig = flat.signal
    if value is None or points is None:
        return []
    moves: list[tuple[float, Move]] = []
    if sig.points is not None:
        x = float(value)
        for tier in sig.points:
            if tier.points <= points:
                continue
            iv = tier.interval()
            under = iv.low is not None and (x <= iv.low if iv.low_strict else x < iv.low)
            over = iv.high is not None and (x >= iv.high if iv.high_strict else x > iv.high)
            if under:
                assert iv.low is not None
                target = iv.low + (_step(x, iv.low) if iv.low_strict else 0.0)
            elif over:
                assert iv.high is not None
                target = iv.high - (_step(x, iv.high) if iv.high_strict else 0.0)
            else:
                continue
            if iv.contains(target):
                moves.append((abs(target - x), Move(flat.name, target, iv.text())))
    elif sig.linear is not None:
        x = float(value)
        for bx, by in sig.linear:
            if by > points:
                moves.append((abs(bx - x), Move(flat.name, bx, f"breakpoint {number_text(bx)}")))
    elif sig.map is not None:
        for category, pts in sorted(sig.map.items(), key=lambda kv: kv[1]):
            if pts > points:
                moves.append((pts - points, Move(flat.name, category, f"= {category}")))
    moves.sort(key=lambda m: m[0])
    seen: set[str] = set()
    out = []
    for _, move in moves:
        if move.label not in seen:
            seen.add(move.label)
            out.append(move)
    return out


def linear_value_for(signal: Signal, points_needed: float, near: float) -> float | None:
    """The value nearest to `near` at which a linear mapping gives `points_needed`: the
    smallest change (a peaked mapping has a solution on each side)."""
    assert signal.linear is not None
    solutions = [
        xa + (points_needed - ya) * (xb - xa) / (yb - ya)
        for (xa, ya), (xb, yb) in pairwise(signal.linear)
        if yb != ya and min(ya, yb) <= points_needed <= max(ya, yb)
    ]
    return min(solutions, key=lambda x: abs(x - near)) if solutions else None


def _next_band(scheme: Scheme, score: float) -> tuple[str, float, bool] | None:
    """The band just above a score: its name, threshold and strictness."""
    above = None
    for band in scheme.bands:
        inside = score > band.threshold if band.strict else score >= band.threshold
        if inside:
            return above
        above = (band.name, band.threshold, band.strict)
    return above


class SignalExplained(TypedDict):
    """One signal of one customer: its value, the rule it matched, what it gives."""

    signal: str
    group: str | None
    source: str | None  # the column, else the expression
    value: Any
    rule: str | None
    points: float | None
    max_points: float
    weight: float  # nominal share, percent
    effective_weight: float  # after missing signals are redistributed, percent
    contribution: float
    lost: float
    missing: bool


# `from` is a keyword, hence the functional form.
Take = TypedDict(
    "Take",
    {
        "signal": str,
        "from": Any,
        "to": Any,
        "rule": str,
        "score": float,
        "gain": float,
        "text": str,
    },
)
ToNextBand = TypedDict(
    "ToNextBand",
    {"band": str, "signal": str, "from": Any, "to": Any, "score": float, "text": str},
)


class GroupExplained(TypedDict):
    """One group of one customer: its score, what it gives, what it would take."""

    group: str
    score: float | None
    effective_weight: float
    contribution: float
    lost: float
    score_for_next_band: float | None
    best_move: str | None


class Explanation(TypedDict):
    """What `explain_customer` returns: one scored customer explained."""

    id: str
    scored: bool
    score: float
    band: str
    coverage: float
    reasons: Any  # as the engine writes them
    signals: list[SignalExplained]
    groups: list[GroupExplained] | None
    what_it_takes: list[Take]
    next_band: str | None
    to_next_band: ToNextBand | None


@dataclass(frozen=True)
class Customer:
    """One scored customer, as the stages of `explain_customer` read it: `definition`
    scored the row (the scheme, or its segment) and `prefix` names its working columns;
    rescoring goes through the whole `scheme`."""

    scheme: Scheme
    definition: Scheme
    prefix: str
    row: dict[str, Any]  # the engine's working columns
    out: dict[str, Any]  # the scored output row
    raw: dict[str, Any]  # the input row
    as_of: dt.date | None = None  # the run's date, which rescoring keeps
    decimal_comma: bool = False  # how the input's numbers were written

    @property
    def flats(self) -> list[FlatSignal]:
        return self.definition.flat_signals()

    @property
    def score(self) -> float:
        return self.out["score"]

    def value_of(self, name: str) -> Any:
        return self.row[internal("v", name, self.prefix)]

    def points_of(self, name: str) -> Any:
        return self.row[points_work(name, self.prefix)]

    def weight_of(self, name: str) -> Any:
        return self.row[internal("eff", name, self.prefix)]

    def column(self, name: str) -> Any:
        """A working column of the definition (score, den)."""
        return self.row[internal(name, prefix=self.prefix)]


def explain_customer(c: Customer, cid: str) -> Explanation:
    """The customer's signals, the nearest better move of each (by rescoring), and the
    cheapest move that reaches the next band."""
    nxt = _next_band(c.scheme, c.score)
    nearest, candidates = _candidates(c, nxt)
    variants = _rescore(c, candidates)
    takes = _takes(c, nearest, variants)
    return {
        "id": cid,
        "scored": True,
        "score": c.score,
        "band": c.out["band"],
        "coverage": c.out["coverage"],
        "reasons": c.out["reasons"],
        "signals": [_signal(c, f) for f in c.flats],
        "groups": _groups(c, nxt, takes) if c.definition.groups else None,
        "what_it_takes": takes,
        "next_band": None if nxt is None else nxt[0],
        "to_next_band": _to_next_band(c, nxt, candidates, variants),
    }


def _signal(c: Customer, f: FlatSignal) -> SignalExplained:
    value, points, eff = c.value_of(f.name), c.points_of(f.name), c.weight_of(f.name)
    return {
        "signal": f.name,
        "group": f.group,
        "source": _source(f.signal),
        "value": value,
        "rule": matched_rule(f.signal, value) if value is not None else "no value",
        "points": points,
        "max_points": f.signal.max_points,
        "weight": round(f.share * 100, 2),
        "effective_weight": round(eff * 100, 2),
        "contribution": round(eff * (points or 0.0), 2),
        "lost": round(eff * (f.signal.max_points - points), 2) if points is not None else 0.0,
        "missing": value is None,
    }


def _source(signal: Signal) -> str | None:
    """What a signal reads: its column, `days_until <column>`, or its expression."""
    if signal.dated is not None:
        return f"{'days_until' if signal.days_until else 'days_since'} {signal.dated}"
    return signal.column or signal.expr


def _candidates(
    c: Customer, nxt: tuple[str, float, bool] | None
) -> tuple[dict[str, Move], list[Move]]:
    """The nearest better tier of each signal, and every better tier for the search of
    the next band; linear signals also get the exact value for the band. A signal read
    through an expression gets none: which input to change is not ours to guess."""
    nearest: dict[str, Move] = {}
    candidates: list[Move] = []
    for f in c.flats:
        if f.signal.column is None:
            continue
        moves = better_moves(f, c.value_of(f.name), c.points_of(f.name))
        if moves:
            nearest[f.name] = moves[0]
        candidates += moves
        eff = c.weight_of(f.name)
        if nxt is not None and f.signal.linear is not None and eff:
            need = (
                c.points_of(f.name)
                + (nxt[1] - c.column("score") + (0.06 if nxt[2] else -0.049)) / eff
            )
            x = linear_value_for(f.signal, min(need, 100.0), c.value_of(f.name))
            if x is not None:
                candidates.append(Move(f.name, round(x, 2), "to the next band"))
    return nearest, candidates


def _takes(
    c: Customer, nearest: dict[str, Move], variants: dict[tuple[str, str], float]
) -> list[Take]:
    """Per signal, what its nearest better tier would give, as the engine rescores it."""
    takes: list[Take] = []
    for f in c.flats:
        move = nearest.get(f.name)
        if move is None:
            continue
        new = variants[(move.signal, _fmt(move.value))]
        gain = round(new - c.score, 1)
        takes.append(
            {
                "signal": f.name,
                "from": c.value_of(f.name),
                "to": move.value,
                "rule": move.label,
                "score": new,
                "gain": gain,
                "text": f"{f.name} {_fmt(c.value_of(f.name))} -> {_fmt(move.value)}: {gain:+.1f}",
            }
        )
    return takes


def _to_next_band(
    c: Customer,
    nxt: tuple[str, float, bool] | None,
    candidates: list[Move],
    variants: dict[tuple[str, str], float],
) -> ToNextBand | None:
    """Of the moves that reach the next band, the one that asks for the fewest points."""
    if nxt is None:
        return None
    reaching = []
    for move in candidates:
        new = variants[(move.signal, _fmt(move.value))]
        if new > nxt[1] if nxt[2] else new >= nxt[1]:
            gained = _points_of(c.definition, move) - (c.points_of(move.signal) or 0.0)
            reaching.append((gained, move, new))
    if not reaching:
        return None
    _, move, new = min(reaching, key=lambda r: (r[0], r[1].signal))
    start = c.value_of(move.signal)
    return {
        "band": nxt[0],
        "signal": move.signal,
        "from": start,
        "to": move.value,
        "score": new,
        "text": f"{move.signal} {_fmt(start)} -> {_fmt(move.value)} reaches {nxt[0]} ({new:.1f})",
    }


def _points_of(scheme: Scheme, move: Move) -> float:
    """The points a signal gets at a candidate value (from the same rules)."""
    sig = next(f.signal for f in scheme.flat_signals() if f.name == move.signal)
    if sig.map is not None:
        category = sig.category_of(str(move.value))
        return sig.map[category] if category is not None else sig.other or 0.0
    frame = pl.DataFrame({"v": [float(move.value)]})
    return frame.select(points_expr(sig, pl.col("v"))[0]).item()


def _groups(
    c: Customer, nxt: tuple[str, float, bool] | None, takes: list[Take]
) -> list[GroupExplained]:
    """Per group: its score, effective weight, contribution, what it loses, and what it
    would take from the group alone to reach the next band."""
    assert c.definition.groups is not None
    den = c.column("den")
    out: list[GroupExplained] = []
    for gname, group in c.definition.groups.items():
        gscore = c.row[group_work(gname, c.prefix)]
        eff = group.weight / den if gscore is not None else 0.0
        need = None
        if nxt is not None and gscore is not None and eff:
            target = nxt[1] + (0.05 if nxt[2] else -0.05)
            needed = gscore + (target - c.column("score")) / eff
            need = round(math.ceil(needed * 10) / 10, 1) if needed <= 100 else None
        best = max(
            (t for t in takes if t["signal"] in group.signals),
            key=lambda t: t["gain"],
            default=None,
        )
        out.append(
            {
                "group": gname,
                "score": None if gscore is None else round(gscore, 1),
                "effective_weight": round(eff * 100, 2),
                "contribution": round(eff * (gscore or 0.0), 2),
                "lost": round(eff * (100 - gscore), 2) if gscore is not None else 0.0,
                "score_for_next_band": need,
                "best_move": best["text"] if best else None,
            }
        )
    return out


def _rescore(c: Customer, moves: list[Move]) -> dict[tuple[str, str], float]:
    """Score copies of the customer's raw row, each with one signal changed, as the run
    scored it (its date, its decimal mark)."""
    if not moves:
        return {}
    scheme, flats, raw = c.scheme, c.flats, c.raw
    columns = {f.name: f.signal.column for f in flats}
    base = {k: v for k, v in raw.items() if k != ROW_NUMBER}
    records = []
    for i, move in enumerate(moves):
        record = dict(base)
        record[scheme.id] = f"variant-{i}"
        column = columns[move.signal]
        current = base[column]
        record[column] = (
            str(move.value) if isinstance(current, str) or current is None else move.value
        )
        records.append(record)
    frame = pl.DataFrame(records, infer_schema_length=None, strict=False)
    scored, rejects = score_frame(frame, scheme, as_of=c.as_of, decimal_comma=c.decimal_comma)
    if rejects.height:
        raise DataError(f"cannot rescore a changed copy: {rejects['reason'][0]}")
    scores = dict(zip(scored[scheme.id].to_list(), scored["score"].to_list(), strict=True))
    return {(m.signal, _fmt(m.value)): scores[f"variant-{i}"] for i, m in enumerate(moves)}
