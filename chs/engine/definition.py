"""One score definition (the scheme, a segment or an extra score) compiled into Polars
expressions: points, weighted means, band, coverage and reasons.

Per row, with p_s the points of signal s and w_s its relative weight in its group:
    group score  = sum(w_s * p_s) / sum(w_s)      over signals with points
    score        = sum(W_g * group_g) / sum(W_g)  over groups with a score
A signal without points (missing, policy `redistribute`) drops out and the others
absorb its weight. `coverage` is the nominal share of the weight that had data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import polars as pl

from chs.columns import group_column, internal, points_column
from chs.engine.reasons import TENTHS, top_keys
from chs.engine.values import signal_value
from chs.exprs import labelled
from chs.scheme import FlatSignal, Scheme, Signal


def points_expr(sig: Signal, value: pl.Expr) -> tuple[pl.Expr, pl.Expr | None]:
    """Points 0-100 for a present value (null when the value is null) and an unknown-category test."""
    if sig.points is not None:
        chain: pl.Expr | None = None
        for tier in sig.points[:-1]:
            iv = tier.interval()
            cond = pl.lit(True)
            if iv.low is not None:
                cond = cond & ((value > iv.low) if iv.low_strict else (value >= iv.low))
            if iv.high is not None:
                cond = cond & ((value < iv.high) if iv.high_strict else (value <= iv.high))
            chain = (pl.when(cond) if chain is None else chain.when(cond)).then(pl.lit(tier.points))  # type: ignore[attr-defined]
        last = pl.lit(sig.points[-1].points, pl.Float64)
        tiers = last if chain is None else chain.otherwise(last)
        return pl.when(value.is_null()).then(None).otherwise(tiers).cast(pl.Float64), None
    if sig.linear is not None:
        (x0, y0), (_, yn) = sig.linear[0], sig.linear[-1]
        chain = pl.when(value <= x0).then(pl.lit(y0))
        for (xa, ya), (xb, yb) in pairwise(sig.linear):
            # through the fraction of the segment (0-1), which cannot overflow as a slope can
            chain = chain.when(value <= xb).then(ya + (yb - ya) * ((value - xa) / (xb - xa)))
        return chain.otherwise(pl.lit(yn)).cast(pl.Float64), None
    assert sig.map is not None
    mapping = sig.map
    known = value.is_in(list(mapping))
    # a when/then chain rather than replace_strict, which does not stream
    chain = None
    for category, pts in mapping.items():
        cond = value == category
        chain = (
            pl.when(cond).then(pl.lit(pts)) if chain is None else chain.when(cond).then(pl.lit(pts))
        )
    assert chain is not None  # a map has at least one category
    points = chain.otherwise(pl.lit(sig.other, pl.Float64)).cast(pl.Float64)
    unknown = None if sig.other is not None else (value.is_not_null() & ~known)
    return points, unknown


@dataclass
class CompiledDefinition:
    """One score definition compiled over the rows: its checks and its output pieces."""

    name: str
    scheme: Scheme
    prefix: str
    flats: list[FlatSignal]
    problems: list[tuple[pl.Expr, pl.Expr]]
    points: dict[str, pl.Expr]  # signal -> its points column
    groups: dict[str, str]  # group -> the column holding its score
    score: pl.Expr  # the raw (unrounded) score column
    band: pl.Expr
    coverage: pl.Expr
    reasons: pl.Expr
    materialise: list[pl.Expr] = field(default_factory=list)  # columns a router adds

    def outputs(self, prefix: str) -> list[pl.Expr]:
        """Output columns under `prefix`: points, group scores, score, band, coverage, reasons."""
        return [
            *[e.round(2).alias(points_column(n, prefix)) for n, e in self.points.items()],
            *[
                pl.col(c).round(1, mode="half_away_from_zero").alias(group_column(g, prefix))
                for g, c in self.groups.items()
            ],
            self.score.round(1, mode="half_away_from_zero").alias(f"{prefix}score"),
            self.band.alias(f"{prefix}band"),
            self.coverage.round(3).alias(f"{prefix}coverage"),
            self.reasons.alias(f"{prefix}reasons"),
        ]


def compile_definition(
    lf: pl.LazyFrame,
    d: Scheme,
    prefix: str,
    name: str,
    columns: list[str],
    source: str,
    decimal_comma: bool,
) -> tuple[pl.LazyFrame, CompiledDefinition]:
    """Values, points, weighted means, band, coverage and reasons of one definition, with
    every working column named under `prefix` so that several can share the rows."""
    flats = d.flat_signals()

    def col(kind: str, n: str = "") -> str:
        return internal(kind, n, prefix)

    problems: list[tuple[pl.Expr, pl.Expr]] = []
    # Values are materialised as columns first, so tiers and checks read a plain column.
    sfx = f"@{prefix}" if prefix else ""
    parsed = {
        f.name: signal_value(f, lf, columns, source, decimal_comma=decimal_comma, sfx=sfx)
        for f in flats
    }
    lf = lf.with_columns(
        [v.text.alias(col("t", n)) for n, v in parsed.items() if v.text is not None]
    ).with_columns([v.value.alias(col("v", n)) for n, v in parsed.items()])

    points: dict[str, pl.Expr] = {}
    has_data: dict[str, pl.Expr] = {}
    for flat in flats:
        val = parsed[flat.name]
        value = pl.col(col("v", flat.name))
        raw_points, unknown = points_expr(flat.signal, value)
        if val.bad is not None:
            problems.append(val.bad)
        if unknown is not None:
            listed = ", ".join(flat.signal.map or {})
            problems.append(
                (
                    unknown,
                    pl.format(
                        f"{flat.name}: '{{}}' is not in its map ({listed}) and it has no `other`",
                        value,
                    ),
                )
            )
        has_data[flat.name] = value.is_not_null()
        policy = flat.missing
        if policy == "reject":
            absent = value.is_null() if val.bad is None else value.is_null() & ~val.bad[0]
            problems.append((absent, pl.lit(f"{flat.name}: no value (missing: reject)")))
            fallback: pl.Expr = pl.lit(None, pl.Float64)
        elif policy == "zero":
            fallback = pl.lit(0.0)
        elif policy == "redistribute":
            fallback = pl.lit(None, pl.Float64)
        else:
            fallback = pl.lit(float(policy))
        points[flat.name] = pl.when(value.is_not_null()).then(raw_points).otherwise(fallback)

    # Weighted means, level by level. Points are materialised first so each is computed once.
    lf = lf.with_columns(
        [expr.alias(points_column(n, prefix)) for n, expr in points.items()]
        + [expr.alias(col("has", n)) for n, expr in has_data.items()]
    )
    p = {f.name: pl.col(points_column(f.name, prefix)) for f in flats}
    present = {n: e.is_not_null() for n, e in p.items()}

    def wmean(items: list[tuple[pl.Expr, pl.Expr, float]]) -> tuple[pl.Expr, pl.Expr]:
        num = pl.sum_horizontal([pl.when(ok).then(v * w).otherwise(0.0) for v, ok, w in items])
        den = pl.sum_horizontal([pl.when(ok).then(pl.lit(w)).otherwise(0.0) for _, ok, w in items])
        return pl.when(den > 0).then(num / den), den

    groups: dict[str, str] = {}
    if d.groups is None:
        raw_score, den = wmean([(p[f.name], present[f.name], f.signal.weight) for f in flats])
        lf = lf.with_columns(raw_score.alias(col("score")), den.alias(col("den")))
        effective = {
            f.name: pl.when(present[f.name])
            .then(f.signal.weight / pl.col(col("den")))
            .otherwise(0.0)
            for f in flats
        }
    else:
        group_exprs = []
        for gname, group in d.groups.items():
            gscore, gden = wmean([(p[n], present[n], s.weight) for n, s in group.signals.items()])
            groups[gname] = group_column(gname, prefix)
            group_exprs += [gscore.alias(groups[gname]), gden.alias(col("den", gname))]
        lf = lf.with_columns(group_exprs)
        g = {gname: pl.col(groups[gname]) for gname in d.groups}
        raw_score, den = wmean(
            [(g[n], g[n].is_not_null(), grp.weight) for n, grp in d.groups.items()]
        )
        lf = lf.with_columns(raw_score.alias(col("score")), den.alias(col("den")))
        effective = {}
        for f in flats:
            assert f.group is not None
            gw = d.groups[f.group].weight
            effective[f.name] = (
                pl.when(present[f.name])
                .then((gw / pl.col(col("den"))) * (f.signal.weight / pl.col(col("den", f.group))))
                .otherwise(0.0)
            )
    names = [f.name for f in flats]
    lf = lf.with_columns(
        *[effective[n].alias(col("eff", n)) for n in names],
        *[(effective[n] * (100.0 - p[n].fill_null(100.0))).alias(col("loss", n)) for n in names],
    )

    score = pl.col(col("score")).round(1, mode="half_away_from_zero")
    coverage = pl.sum_horizontal(
        [pl.when(pl.col(col("has", f.name))).then(f.share).otherwise(0.0) for f in flats]
    )
    band = None
    for b in d.bands:
        cond = (score > b.threshold) if b.strict else (score >= b.threshold)
        band = (
            pl.when(cond).then(pl.lit(b.name))
            if band is None
            else band.when(cond).then(pl.lit(b.name))
        )
    # Reasons: the signals that cost the most weighted points, most first.
    lf, places = top_keys(
        lf,
        {n: pl.col(col("loss", n)) for n in names},
        d.reasons,
        at_least=0.05,
        work=col("top"),
        flags={n: ~pl.col(col("has", n)) for n in names},
    )
    # Every text a place can show, `logins -12.3`, is made once here: 2 labels a signal
    # times the losses 0.0-100.0 in tenths (rounded half up from the millionths, in
    # integers); a row gathers its three rather than formatting numbers.
    labels = [
        f"{label} -{tenths / 10:.1f}"
        for n in names
        for label in (n, f"{n} (missing)")
        for tenths in range(TENTHS)
    ]
    texts = [
        pl.when(p.shown).then(
            labelled((p.index * 2 + p.flag) * TENTHS + (p.millionths + 50_000) // 100_000, labels)
        )
        for p in places
    ]
    reasons = pl.concat_str(texts, separator="; ", ignore_nulls=True) if texts else pl.lit("")
    assert band is not None
    return lf, CompiledDefinition(
        name=name,
        scheme=d,
        prefix=prefix,
        flats=flats,
        problems=problems,
        points=p,
        groups=groups,
        score=pl.col(col("score")),
        band=band,
        coverage=coverage,
        reasons=reasons,
    )


def route_segments(compiled: list[CompiledDefinition], routed: pl.Expr) -> CompiledDefinition:
    """The segments' definitions combined: each row takes the columns of its own."""

    def pick(pieces: list[tuple[str, pl.Expr]]) -> pl.Expr:
        chain = None
        for name, expr in pieces:
            cond = routed == name
            chain = pl.when(cond).then(expr) if chain is None else chain.when(cond).then(expr)
        return chain if chain is not None else pl.lit(None)

    flats: dict[str, FlatSignal] = {}
    groups: list[str] = []
    for comp in compiled:
        for f in comp.flats:
            flats.setdefault(f.name, f)
        groups += [g for g in comp.groups if g not in groups]
    materialise = [
        pick([(c.name, c.points[n]) for c in compiled if n in c.points])
        .cast(pl.Float64)
        .alias(points_column(n))
        for n in flats
    ]
    materialise += [
        pick([(c.name, pl.col(c.groups[g])) for c in compiled if g in c.groups])
        .cast(pl.Float64)
        .alias(group_column(g))
        for g in groups
    ]
    materialise.append(
        pick([(c.name, c.score) for c in compiled]).cast(pl.Float64).alias("__score")
    )
    return CompiledDefinition(
        name="routed",
        scheme=compiled[0].scheme,
        prefix="",
        flats=list(flats.values()),
        problems=[],
        points={n: pl.col(points_column(n)) for n in flats},
        groups={g: group_column(g) for g in groups},
        score=pl.col("__score"),
        band=pick([(c.name, c.band) for c in compiled]),
        coverage=pick([(c.name, c.coverage) for c in compiled]),
        reasons=pick([(c.name, c.reasons) for c in compiled]),
        materialise=materialise,
    )
