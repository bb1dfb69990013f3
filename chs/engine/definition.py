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

from chs.columns import group_column, group_work, internal, points_column, points_work
from chs.engine.parsing import ColumnReader
from chs.engine.reasons import TENTHS, top_keys
from chs.engine.values import SignalValue, signal_value
from chs.exprs import added, first_match, labelled
from chs.scheme import FlatSignal, Scheme, Signal, Tier


def points_expr(sig: Signal, value: pl.Expr) -> tuple[pl.Expr, pl.Expr | None]:
    """Points 0-100 for a present value (null when the value is null) and an unknown-category test."""
    if sig.points is not None:
        return tier_points(sig.points, value), None
    if sig.linear is not None:
        return linear_points(sig.linear, value), None
    assert sig.map is not None
    return map_points(sig, value)


def tier_condition(tier: Tier, value: pl.Expr) -> pl.Expr:
    """Whether the value falls in the tier's interval, each bound strict or not."""
    iv = tier.interval()
    cond = pl.lit(True)
    if iv.low is not None:
        cond = cond & ((value > iv.low) if iv.low_strict else (value >= iv.low))
    if iv.high is not None:
        cond = cond & ((value < iv.high) if iv.high_strict else (value <= iv.high))
    return cond


def tier_points(tiers: list[Tier], value: pl.Expr) -> pl.Expr:
    """The first tier that holds; the last tier is the catch-all."""
    last = pl.lit(tiers[-1].points, pl.Float64)
    chain = first_match(
        ((tier_condition(tier, value), pl.lit(tier.points)) for tier in tiers[:-1]), last
    )
    return pl.when(value.is_null()).then(None).otherwise(chain).cast(pl.Float64)


def linear_points(knots: list[tuple[float, float]], value: pl.Expr) -> pl.Expr:
    """Piecewise interpolation between the knots, clamped at both ends."""
    (x0, y0), (_, yn) = knots[0], knots[-1]
    # through the fraction of the segment (0-1), which cannot overflow as a slope can;
    # times the reciprocal of the width, which is what Polars computes for a division by
    # a constant on more than one row (on one row it divides): said, so that every batch
    # size and the compiled SQL give the same bits
    segments = (
        (value <= xb, ya + (yb - ya) * ((value - xa) * (1.0 / (xb - xa))))
        for (xa, ya), (xb, yb) in pairwise(knots)
    )
    return first_match([(value <= x0, pl.lit(y0)), *segments], pl.lit(yn)).cast(pl.Float64)


def map_points(sig: Signal, value: pl.Expr) -> tuple[pl.Expr, pl.Expr | None]:
    """A category's points, `other` for the rest; without `other`, an unknown category is
    the row's problem. `value` is the trimmed text, lowered here unless `match: exact`
    (the engine passes its materialised `match_key` column instead, see `map_key`)."""
    return map_points_of(sig, map_key(sig, value))


def map_points_of(sig: Signal, key: pl.Expr) -> tuple[pl.Expr, pl.Expr | None]:
    """`map_points` over the value as the map compares it (`Signal.categories`)."""
    categories = sig.categories()
    assert categories  # a map has at least one category
    # a when/then chain rather than replace_strict, which does not stream
    points = first_match(
        ((key == category, pl.lit(pts)) for category, pts in categories.items()),
        pl.lit(sig.other, pl.Float64),
    ).cast(pl.Float64)
    unknown = None if sig.other is not None else (key.is_not_null() & ~mapped(sig, key))
    return points, unknown


def mapped(sig: Signal, key: pl.Expr) -> pl.Expr:
    """Whether a value, as the map compares it, is one of its categories: a few
    comparisons for a short map (3x faster than `is_in`, which hashes every value)."""
    categories = list(sig.categories())
    if len(categories) > _COMPARED:
        return key.is_in(categories)
    return pl.any_horizontal([key == category for category in categories])


_COMPARED = 16  # the longest map whose categories are compared one by one


def map_key(sig: Signal, value: pl.Expr) -> pl.Expr:
    """The value as the map compares it: the trimmed text, lowered unless `match: exact`."""
    return value if sig.exact else value.str.to_lowercase()


# Points that are whole numbers (0-100) are written as this: exact, a quarter of a
# float's memory for a reader, and wide enough that a reader's sums and differences of
# them do not overflow (8 bits would at 100 + 100; Parquet stores both in 32 bits).
WHOLE_POINTS = pl.Int16


def _whole(points: pl.Expr) -> pl.Expr:
    """Whole points as WHOLE_POINTS: the scheme's own values, 0-100 (the model bounds
    them), so the cast need not check each (callgrind, 1M rows: 0.25 billion fewer
    instructions of 18.86)."""
    return points.cast(WHOLE_POINTS, wrap_numerical=True)


@dataclass
class CompiledDefinition:
    """One score definition compiled over the rows: its checks and its output pieces."""

    name: str
    scheme: Scheme
    prefix: str
    flats: list[FlatSignal]
    problems: list[tuple[pl.Expr, pl.Expr]]
    points: dict[str, pl.Expr]  # signal -> its points (working) column
    groups: dict[str, str]  # group -> the working column holding its score
    score: pl.Expr  # the raw (unrounded) score column
    band: pl.Expr
    coverage: pl.Expr
    reasons: pl.Expr
    materialise: list[pl.Expr] = field(default_factory=list)  # columns a router adds
    whole: frozenset[str] = frozenset()  # signals whose points are whole (`whole_points`)

    def outputs(self, prefix: str) -> list[pl.Expr]:
        """Output columns under `prefix`: points, group scores, score, band, coverage, reasons."""
        return [
            *[
                (_whole(e) if n in self.whole else e.round(2)).alias(points_column(n, prefix))
                for n, e in self.points.items()
            ],
            *[
                pl.col(c).round(1, mode="half_away_from_zero").alias(group_column(g, prefix))
                for g, c in self.groups.items()
            ],
            self.score.round(1, mode="half_away_from_zero").alias(f"{prefix}score"),
            self.band.alias(f"{prefix}band"),
            self.coverage.round(3).alias(f"{prefix}coverage"),
            self.reasons.alias(f"{prefix}reasons"),
        ]


@dataclass(frozen=True)
class Stages:
    """What every stage of one definition reads: the definition, its working-column
    prefix, and where the file's columns and messages come from."""

    d: Scheme
    prefix: str
    flats: list[FlatSignal]
    columns: list[str]
    source: str
    reader: ColumnReader
    scheme: Scheme  # as loaded, which locates a key (`d` may be a segment's)

    def col(self, kind: str, n: str = "") -> str:
        """A working column of this definition, such as `__v_<signal>` under its prefix."""
        return internal(kind, n, self.prefix)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.flats]

    @property
    def points(self) -> dict[str, pl.Expr]:
        """Each signal's materialised points column."""
        return {f.name: pl.col(points_work(f.name, self.prefix)) for f in self.flats}


def compile_definition(
    lf: pl.LazyFrame,
    d: Scheme,
    prefix: str,
    name: str,
    columns: list[str],
    source: str,
    reader: ColumnReader,
    scheme: Scheme,
) -> tuple[pl.LazyFrame, CompiledDefinition]:
    """Values, points, weighted means, band, coverage and reasons of one definition, with
    every working column named under `prefix` so that several can share the rows.
    `reader`: how the run reads cells; `scheme`: the scheme as loaded."""
    st = Stages(d, prefix, d.flat_signals(), columns, source, reader, scheme)
    lf, parsed = signal_values(lf, st)
    lf, problems = signal_points(lf, st, parsed)
    lf, groups = weighted_means(lf, st)
    score = pl.col(st.col("score")).round(1, mode="half_away_from_zero")
    coverage = added(
        pl.when(pl.col(st.col("has", f.name))).then(f.share).otherwise(0.0) for f in st.flats
    )
    band = band_of(d, score)
    lf, reasons = reasons_text(lf, st)
    return lf, CompiledDefinition(
        name=name,
        scheme=d,
        prefix=prefix,
        flats=st.flats,
        problems=problems,
        points=st.points,
        groups=groups,
        score=pl.col(st.col("score")),
        band=band,
        coverage=coverage,
        reasons=reasons,
        whole=frozenset(f.name for f in st.flats if f.whole_points),
    )


def signal_values(lf: pl.LazyFrame, st: Stages) -> tuple[pl.LazyFrame, dict[str, SignalValue]]:
    """Values are materialised as columns first, so tiers and checks read a plain column;
    a map that ignores case also gets its value lowered once (`key_column`)."""
    parsed = {
        f.name: signal_value(
            f,
            lf,
            st.columns,
            st.source,
            reader=st.reader,
            scheme=st.scheme,
            prefix=st.prefix,
        )
        for f in st.flats
    }
    lowered = [f for f in st.flats if f.signal.map is not None and not f.signal.exact]
    lf = (
        lf.with_columns(
            [v.text.alias(st.col("t", n)) for n, v in parsed.items() if v.text is not None]
        )
        .with_columns([v.value.alias(st.col("v", n)) for n, v in parsed.items()])
        .with_columns(
            [
                map_key(f.signal, pl.col(st.col("v", f.name))).alias(st.col("k", f.name))
                for f in lowered
            ]
        )
    )
    return lf, parsed


def key_column(flat: FlatSignal, prefix: str = "") -> pl.Expr:
    """A map signal's value as its map compares it: the lowered working column, or with
    `match: exact` the value itself."""
    kind = "v" if flat.signal.exact else "k"
    return pl.col(internal(kind, flat.name, prefix))


def signal_points(
    lf: pl.LazyFrame, st: Stages, parsed: dict[str, SignalValue]
) -> tuple[pl.LazyFrame, list[tuple[pl.Expr, pl.Expr]]]:
    """Each signal's points under its missing policy, materialised with whether it had
    data (each computed once), and the rows' problems in signal order."""
    problems: list[tuple[pl.Expr, pl.Expr]] = []
    points: dict[str, pl.Expr] = {}
    has_data: dict[str, pl.Expr] = {}
    for flat in st.flats:
        value = pl.col(st.col("v", flat.name))
        key = key_column(flat, st.prefix) if flat.signal.map is not None else None
        points[flat.name], found = policy_points(flat, value, parsed[flat.name], key)
        problems += found
        has_data[flat.name] = value.is_not_null()
    lf = lf.with_columns(
        [expr.alias(points_work(n, st.prefix)) for n, expr in points.items()]
        + [expr.alias(st.col("has", n)) for n, expr in has_data.items()]
    )
    return lf, problems


def policy_points(
    flat: FlatSignal, value: pl.Expr, val: SignalValue, key: pl.Expr | None = None
) -> tuple[pl.Expr, list[tuple[pl.Expr, pl.Expr]]]:
    """One signal's points, its fallback when the value is missing, and its problems:
    an unusable value, an unknown category, a missing value under `reject`. `key`: a
    map's value as it compares it (`key_column`)."""
    if key is not None:
        raw_points, unknown = map_points_of(flat.signal, key)
    else:
        raw_points, unknown = points_expr(flat.signal, value)
    problems = [] if val.bad is None else [val.bad]
    if unknown is not None:
        listed = ", ".join(flat.signal.map or {})
        message = f"{flat.name}: '{{}}' is not in its map ({listed}) and it has no `other`"
        problems.append((unknown, pl.format(message, value)))
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
    return pl.when(value.is_not_null()).then(raw_points).otherwise(fallback), problems


def weighted_mean(items: list[tuple[pl.Expr, pl.Expr, float]]) -> tuple[pl.Expr, pl.Expr]:
    """(mean, total weight) of the (value, present, weight) items that are present; the
    mean is null when none is."""
    num = added(pl.when(ok).then(v * w).otherwise(0.0) for v, ok, w in items)
    # the flag times the weight, not when/then of two literals: that is a constant column
    # when every row has the signal, and Polars divides by a constant column as it does by
    # a number, times the reciprocal (4.1 / 0.4 gave 10.25, not 10.249999999999998), so
    # a row's score would depend on whether other rows lack a signal
    den = added(ok.cast(pl.Float64) * w for _, ok, w in items)
    return pl.when(den > 0).then(num / den), den


def weighted_means(lf: pl.LazyFrame, st: Stages) -> tuple[pl.LazyFrame, dict[str, str]]:
    """The score (and any group scores), then each signal's effective weight and the
    weighted points it lost, which the reasons rank. Returns the group score columns."""
    if st.d.groups is None:
        lf, effective = flat_mean(lf, st)
        groups: dict[str, str] = {}
    else:
        lf, effective, groups = grouped_mean(lf, st)
    p = st.points
    return lf.with_columns(
        *[effective[n].alias(st.col("eff", n)) for n in st.names],
        *[
            (effective[n] * (100.0 - p[n].fill_null(100.0))).alias(st.col("loss", n))
            for n in st.names
        ],
    ), groups


def flat_mean(lf: pl.LazyFrame, st: Stages) -> tuple[pl.LazyFrame, dict[str, pl.Expr]]:
    """The score over the signals with points; a signal's share is its weight over theirs."""
    p = st.points
    present = {n: e.is_not_null() for n, e in p.items()}
    raw_score, den = weighted_mean(
        [(p[f.name], present[f.name], f.signal.weight) for f in st.flats]
    )
    lf = lf.with_columns(raw_score.alias(st.col("score")), den.alias(st.col("den")))
    effective = {
        f.name: pl.when(present[f.name])
        .then(f.signal.weight / pl.col(st.col("den")))
        .otherwise(0.0)
        for f in st.flats
    }
    return lf, effective


def grouped_mean(
    lf: pl.LazyFrame, st: Stages
) -> tuple[pl.LazyFrame, dict[str, pl.Expr], dict[str, str]]:
    """Group scores over their signals with points, the score over the groups with a
    score; a signal's share is its group's share times its share in the group."""
    assert st.d.groups is not None
    p = st.points
    present = {n: e.is_not_null() for n, e in p.items()}
    groups: dict[str, str] = {}
    group_exprs = []
    for gname, group in st.d.groups.items():
        gscore, gden = weighted_mean(
            [(p[n], present[n], s.weight) for n, s in group.signals.items()]
        )
        groups[gname] = group_work(gname, st.prefix)
        group_exprs += [gscore.alias(groups[gname]), gden.alias(st.col("den", gname))]
    lf = lf.with_columns(group_exprs)
    g = {gname: pl.col(groups[gname]) for gname in st.d.groups}
    raw_score, den = weighted_mean(
        [(g[n], g[n].is_not_null(), grp.weight) for n, grp in st.d.groups.items()]
    )
    lf = lf.with_columns(raw_score.alias(st.col("score")), den.alias(st.col("den")))
    effective = {}
    for f in st.flats:
        assert f.group is not None
        share = (st.d.groups[f.group].weight / pl.col(st.col("den"))) * (
            f.signal.weight / pl.col(st.col("den", f.group))
        )
        effective[f.name] = pl.when(present[f.name]).then(share).otherwise(0.0)
    return lf, effective, groups


def band_of(d: Scheme, score: pl.Expr) -> pl.Expr:
    """The first band whose threshold the score, as written, reaches."""
    assert d.bands
    return first_match(
        ((score > b.threshold) if b.strict else (score >= b.threshold), pl.lit(b.name))
        for b in d.bands
    )


def reasons_text(lf: pl.LazyFrame, st: Stages) -> tuple[pl.LazyFrame, pl.Expr]:
    """The signals that cost the most weighted points, most first, as text."""
    names = st.names
    lf, places = top_keys(
        lf,
        {n: pl.col(st.col("loss", n)) for n in names},
        st.d.reasons,
        at_least=0.05,
        work=st.col("top"),
        flags={n: ~pl.col(st.col("has", n)) for n in names},
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
    return lf, pl.concat_str(texts, separator="; ", ignore_nulls=True) if texts else pl.lit("")


def route_segments(compiled: list[CompiledDefinition], routed: pl.Expr) -> CompiledDefinition:
    """The segments' definitions combined: each row takes the columns of its own."""

    def pick(pieces: list[tuple[str, pl.Expr]]) -> pl.Expr:
        return first_match((routed == name, expr) for name, expr in pieces)

    flats: dict[str, FlatSignal] = {}
    groups: list[str] = []
    for comp in compiled:
        for f in comp.flats:
            flats.setdefault(f.name, f)
        groups += [g for g in comp.groups if g not in groups]
    materialise = [
        pick([(c.name, c.points[n]) for c in compiled if n in c.points])
        .cast(pl.Float64)
        .alias(points_work(n))
        for n in flats
    ]
    materialise += [
        pick([(c.name, pl.col(c.groups[g])) for c in compiled if g in c.groups])
        .cast(pl.Float64)
        .alias(group_work(g))
        for g in groups
    ]
    materialise.append(
        pick([(c.name, c.score) for c in compiled]).cast(pl.Float64).alias(internal("score"))
    )
    return CompiledDefinition(
        name="routed",
        scheme=compiled[0].scheme,
        prefix="",
        flats=list(flats.values()),
        problems=[],
        points={n: pl.col(points_work(n)) for n in flats},
        groups={g: group_work(g) for g in groups},
        score=pl.col(internal("score")),
        band=pick([(c.name, c.band) for c in compiled]),
        coverage=pick([(c.name, c.coverage) for c in compiled]),
        reasons=pick([(c.name, c.reasons) for c in compiled]),
        materialise=materialise,
        # whole in every segment that has the signal (the others leave it empty)
        whole=frozenset(n for n in flats if all(n in c.whole for c in compiled if n in c.points)),
    )
