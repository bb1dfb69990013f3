"""One score definition (the scheme, a segment or an extra score) compiled into SQL
columns, stage by stage as chs/engine/definition.py computes them in Polars: values,
points under the missing policies, weighted means (groups, then the score), each
signal's effective weight and lost points, the reasons, band and coverage.

Each stage is a list of (working column, expression) that reads only the columns of
earlier stages, so the query is a chain of CTEs and no expression is repeated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from sqlglot import exp

import chs.sql.build as b
from chs.columns import group_column, points_column
from chs.engine.reasons import SCALE, TENTHS
from chs.scheme import FlatSignal, Scheme, Signal, Tier
from chs.sql.expressions import Columns, compile_expression

Stage = list[tuple[str, exp.Expression]]
REASON_FLOOR = 0.05  # a reason is shown from 0.05 lost points (as the Polars engine)


@dataclass
class CompiledSql:
    """One definition's stages, row problems and output expressions (over the last
    stage's columns)."""

    prefix: str
    stages: list[Stage] = field(default_factory=list)
    problems: list[tuple[exp.Expression, exp.Expression]] = field(default_factory=list)
    outputs: list[tuple[str, exp.Expression]] = field(default_factory=list)
    score: exp.Expression | None = None  # the raw score's working column
    band: exp.Expression | None = None
    points: dict[str, str] = field(default_factory=dict)  # signal -> working column
    groups: dict[str, str] = field(default_factory=dict)  # group -> working column

    def work(self, kind: str, name: str = "") -> str:
        return f"chs_{kind}_{self.prefix}{name}"

    def ref(self, kind: str, name: str = "") -> exp.Column:
        return b.col(self.work(kind, name))


@dataclass(frozen=True)
class Context:
    """What every definition reads: how an expression reads a column, and the date."""

    columns: Columns
    as_of: exp.Expression  # a DATE literal, or CURRENT_DATE
    where: Callable[[str, str], str]  # (signal, key) -> `FILE:LINE: key.path`, for refusals
    kinds: Mapping[str, str | None] = field(default_factory=dict)  # how columns are read
    dialect: str = "duckdb"  # where a text is written differently (see b.tenths_text)


def compile_definition(d: Scheme, prefix: str, ctx: Context, named: str = "") -> CompiledSql:
    """All the stages of one definition: working columns under `prefix`, outputs under
    `named` (a segment's are the scheme's own names; an extra score's, `<name>_`)."""
    out = CompiledSql(prefix)
    flats = d.flat_signals()
    values: Stage = [(out.work("v", f.name), _value(f, ctx)) for f in flats]
    values += [(out.work("t", f.name), _text(f, ctx)) for f in flats if f.signal.map is not None]
    out.stages.append(values)
    out.stages.append(_points(out, flats))
    _means(out, d, flats)
    _losses(out, d, flats)
    _scaled(out, flats)
    reasons = _reasons(out, flats, d.reasons, ctx.dialect)
    out.band = _band(d, out.ref("sr"))
    out.outputs = [
        *[(points_column(f.name, named), _points_output(out, f)) for f in flats],
        *[
            (group_column(g, named), b.rounded_scaled(out.ref("gs", g), 10.0, even=False))
            for g in out.groups
        ],
        (f"{named}score", out.ref("sr")),
        (f"{named}band", out.band),
        (f"{named}coverage", b.rounded_scaled(out.ref("cs"), 1000.0, even=True)),
        (f"{named}reasons", reasons),
    ]
    out.score = out.ref("score")
    return out


def _points_output(out: CompiledSql, f: FlatSignal) -> exp.Expression:
    """A signal's points as written: a SMALLINT when they are whole (as chs's Int16),
    else rounded to two decimals."""
    if f.whole_points:
        return exp.cast(out.ref("p", f.name), exp.DataType.build("SMALLINT"))
    return b.rounded_scaled(out.ref("ps", f.name), 100.0, even=True)


def _scaled(out: CompiledSql, flats: list[FlatSignal]) -> None:
    """What the outputs round, times 10^decimals (two stages), so that each rounding
    reads a column: points (2 decimals), group scores and the score (1), coverage (3),
    and the rounded score, which the band reads."""
    coverage = b.added([b.case([(_has(out, f), b.number(f.share))], b.number(0.0)) for f in flats])
    out.stages.append(
        [
            *[
                (out.work("ps", f.name), b.mul(out.ref("p", f.name), b.number(100.0)))
                for f in flats
                if not f.whole_points
            ],
            *[(out.work("gs", g), b.mul(b.col(c), b.number(10.0))) for g, c in out.groups.items()],
            (out.work("ss"), b.mul(out.ref("score"), b.number(10.0))),
            (out.work("cov"), coverage),
        ]
    )
    out.stages.append(
        [
            (out.work("sr"), b.rounded_scaled(out.ref("ss"), 10.0, even=False)),
            (out.work("cs"), b.mul(out.ref("cov"), b.number(1000.0))),
        ]
    )


def _has(out: CompiledSql, f: FlatSignal) -> exp.Expression:
    return exp.Not(this=exp.Is(this=out.ref("v", f.name), expression=exp.Null()))


def _value(f: FlatSignal, ctx: Context) -> exp.Expression:
    """A signal's value: a number (DOUBLE), days to or from a date, or a map's text
    (trimmed, empty as NULL, lowered unless `match: exact`)."""
    sig = f.signal
    if sig.expr is not None:
        try:
            raw = compile_expression(sig.expr, ctx.columns, ctx.kinds, ctx.as_of)
        except ValueError as exc:
            raise _refusal(ctx, f.name, "expr", str(exc)) from None
    else:
        name = sig.read_column
        assert name is not None
        raw = ctx.columns[name].copy() if name in ctx.columns else b.col(name)
    if sig.dated is not None:
        day = exp.cast(raw, b.DATE)
        pair = (day, ctx.as_of.copy()) if sig.days_until is not None else (ctx.as_of.copy(), day)
        return b.double(exp.DateDiff(this=pair[0], expression=pair[1], unit=exp.var("DAY")))
    if sig.map is not None:
        text = exp.Nullif(this=exp.Trim(this=b.as_text(raw)), expression=b.text(""))
        return text if sig.exact else exp.Lower(this=text)
    return b.double(raw)


def _text(f: FlatSignal, ctx: Context) -> exp.Expression:
    """A map's value as written (trimmed, not lowered), which a rejected row's reason shows."""
    value = _value(f, ctx)
    return value.this if isinstance(value, exp.Lower) else value


def _refusal(ctx: Context, signal: str, key: str, why: str) -> ValueError:
    return ValueError(f"{ctx.where(signal, key)}: {why}")


def _points(out: CompiledSql, flats: list[FlatSignal]) -> Stage:
    """Each signal's points under its missing policy; its problems (an unknown category
    without `other`, a missing value under `reject`)."""
    stage: Stage = []
    for f in flats:
        value = out.ref("v", f.name)
        raw = _raw_points(f.signal, value)
        if f.signal.map is not None and f.signal.other is None:
            known = exp.In(
                this=value.copy(), expressions=[b.text(c) for c in f.signal.categories()]
            )
            unknown = exp.And(this=exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null())),
                              expression=exp.Not(this=b.paren(known)))  # fmt: skip
            listed = ", ".join(f.signal.map)
            said = b.concat([b.text(f"{f.name}: '"), out.ref("t", f.name),
                             b.text(f"' is not in its map ({listed}) and it has no `other`")])  # fmt: skip
            out.problems.append((unknown, said))
        policy = f.missing
        if policy == "reject":
            out.problems.append(
                (
                    exp.Is(this=value.copy(), expression=exp.Null()),
                    b.text(f"{f.name}: no value (missing: reject)"),
                )
            )
            fallback = b.null()
        elif policy == "zero":
            fallback = b.number(0.0)
        elif policy == "redistribute":
            fallback = b.null()
        else:
            fallback = b.number(float(policy))
        # one CASE, not a CASE inside a CASE on presence: every condition of the signal's
        # own compares its value, so none holds when the value is missing
        cases, default = raw
        present = exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))
        stage.append((out.work("p", f.name), b.case([*cases, (present, default)], fallback)))
        out.points[f.name] = out.work("p", f.name)
    return stage


Cases = tuple[list[tuple[exp.Expression, exp.Expression]], exp.Expression]
"""(condition, points) pairs, each condition a comparison of the value, and the points
of a value that meets none."""


def _raw_points(sig: Signal, value: exp.Expression) -> Cases:
    if sig.points is not None:
        return _tiers(sig.points, value)
    if sig.linear is not None:
        return _linear(sig.linear, value)
    assert sig.map is not None
    pairs = [
        (exp.EQ(this=value.copy(), expression=b.text(c)), b.number(p))
        for c, p in sig.categories().items()
    ]
    return pairs, b.number(sig.other) if sig.other is not None else b.null()


def _tiers(tiers: list[Tier], value: exp.Expression) -> Cases:
    """The first tier that holds; the last is the catch-all."""
    pairs = []
    for tier in tiers[:-1]:
        iv = tier.interval()
        conds: list[exp.Expression] = []
        if iv.low is not None:
            kind = exp.GT if iv.low_strict else exp.GTE
            conds.append(kind(this=value.copy(), expression=b.number(iv.low)))
        if iv.high is not None:
            kind = exp.LT if iv.high_strict else exp.LTE
            conds.append(kind(this=value.copy(), expression=b.number(iv.high)))
        present = exp.Not(this=exp.Is(this=value.copy(), expression=exp.Null()))
        cond: exp.Expression = conds[0] if conds else present
        for c in conds[1:]:
            cond = exp.And(this=b.paren(cond), expression=b.paren(c))
        pairs.append((cond, b.number(tier.points)))
    return pairs, b.number(tiers[-1].points)


def _linear(knots: list[tuple[float, float]], value: exp.Expression) -> Cases:
    """Interpolation through the fraction of the segment, clamped at both ends, with
    the same operations as the Polars engine: ya + (yb - ya) * ((v - xa) * (1 / (xb - xa)))."""
    (x0, y0), (_, yn) = knots[0], knots[-1]
    pairs = [(exp.LTE(this=value.copy(), expression=b.number(x0)), b.number(y0))]
    for (xa, ya), (xb, yb) in pairwise(knots):
        fraction = b.mul(b.sub(value.copy(), b.number(xa)), b.number(1.0 / (xb - xa)))
        pairs.append(
            (exp.LTE(this=value.copy(), expression=b.number(xb)),
             b.add(b.number(ya), b.mul(b.number(yb - ya), fraction)))
        )  # fmt: skip
    return pairs, b.number(yn)


def _weighted(items: list[tuple[exp.Expression, float]]) -> tuple[exp.Expression, exp.Expression]:
    """(mean, total weight) of the items that are not NULL; the mean NULL when none is."""

    def present(v: exp.Expression) -> exp.Expression:
        return exp.Not(this=exp.Is(this=v.copy(), expression=exp.Null()))

    num = b.added(
        [b.case([(present(v), b.mul(v.copy(), b.number(w)))], b.number(0.0)) for v, w in items]
    )
    den = b.added([b.case([(present(v), b.number(w))], b.number(0.0)) for v, w in items])
    return num, den


def _means(out: CompiledSql, d: Scheme, flats: list[FlatSignal]) -> None:
    """Group scores (a stage), then the score and its total weight (a stage)."""
    p = {f.name: out.ref("p", f.name) for f in flats}
    items: list[tuple[exp.Expression, float]]
    if d.groups is None:
        items = [(p[f.name], f.signal.weight) for f in flats]
    else:
        stage: Stage = []
        for g, group in d.groups.items():
            num, den = _weighted([(p[n], s.weight) for n, s in group.signals.items()])
            stage += [(out.work("den", g), den), (out.work("num", g), num)]
        out.stages.append(stage)
        mean: Stage = []
        for g in d.groups:
            over = exp.GT(this=out.ref("den", g), expression=b.number(0.0))
            mean.append(
                (out.work("g", g), b.case([(over, b.div(out.ref("num", g), out.ref("den", g)))]))
            )
            out.groups[g] = out.work("g", g)
        out.stages.append(mean)
        items = [(out.ref("g", g), group.weight) for g, group in d.groups.items()]
    num, den = _weighted(items)
    out.stages.append([(out.work("num"), num), (out.work("den"), den)])
    over = exp.GT(this=out.ref("den"), expression=b.number(0.0))
    out.stages.append(
        [(out.work("score"), b.case([(over, b.div(out.ref("num"), out.ref("den")))]))]
    )


def _losses(out: CompiledSql, d: Scheme, flats: list[FlatSignal]) -> None:
    """Each signal's effective weight and the weighted points it lost (a stage)."""
    stage: Stage = []
    for f in flats:
        present = exp.Not(this=exp.Is(this=out.ref("p", f.name), expression=exp.Null()))
        share = b.div(b.number(f.signal.weight), out.ref("den"))
        if d.groups is not None:
            assert f.group is not None
            group = d.groups[f.group]
            share = b.mul(b.div(b.number(group.weight), out.ref("den")),
                          b.div(b.number(f.signal.weight), out.ref("den", f.group)))  # fmt: skip
        effective = b.case([(present, share)], b.number(0.0))
        kept = exp.Coalesce(this=out.ref("p", f.name), expressions=[b.number(100.0)])
        stage.append((out.work("loss", f.name), b.mul(effective, b.sub(b.number(100.0), kept))))
    out.stages.append(stage)


def _reasons(out: CompiledSql, flats: list[FlatSignal], k: int, dialect: str) -> exp.Expression:
    """The k signals that lost the most, as chs/engine/reasons.py ranks them: each
    signal one integer (its loss in millionths, its rank, its missing flag), the
    largest first, each next the largest below; then `logins -12.3; nps (missing) -7.5`."""
    n = len(flats)
    if k == 0 or n == 0:
        return b.text("")
    step = 2 * n
    scaled: Stage = []
    codes: Stage = []
    for i, f in enumerate(flats):
        loss = exp.Coalesce(this=out.ref("loss", f.name), expressions=[b.number(0.0)])
        clipped = b.clipped(loss, 0.0, 100.0)
        scaled.append((out.work("lm", str(i)), b.mul(clipped, b.number(SCALE))))
        # clipped to 0..100 above: the rounding needs no sign, and dividing by 1 is exact
        millionths = exp.cast(b.rounded_up_from_half(out.ref("lm", str(i))), b.BIGINT)
        code = b.add(b.mul(millionths, b.integer(step)), b.integer(2 * (n - 1 - i)))
        if _missing_loses(f):
            code = b.add(code, b.case([(_has(out, f), b.integer(0))], b.integer(1)))
        codes.append((out.work("code", str(i)), code))
    out.stages.append(scaled)
    out.stages.append(codes)
    refs = [out.ref("code", str(i)) for i in range(n)]
    for rank in range(min(k, n)):
        if rank == 0:
            best = b.greatest(refs)
        else:
            above = out.ref("top", str(rank - 1))
            best = b.greatest(
                [b.case([(exp.LT(this=c.copy(), expression=above.copy()), c.copy())]) for c in refs]
            )
        out.stages.append([(out.work("top", str(rank)), best)])
    threshold = round(REASON_FLOOR * SCALE) * step
    labels = [f.name for f in flats]
    flagged = any(_missing_loses(f) for f in flats)
    ranks = list(range(min(k, n)))
    texts = _place_texts(out, ranks, step, n, threshold, labels, flagged, dialect)
    parts = [exp.Coalesce(this=texts[0], expressions=[b.text("")])]
    parts += [
        exp.Coalesce(this=b.concat([b.text("; "), t]), expressions=[b.text("")]) for t in texts[1:]
    ]
    return b.concat(parts)


def _missing_loses(f: FlatSignal) -> bool:
    """Whether a missing value can cost points and so be a reason, `nps (missing)`:
    under `redistribute` the signal drops out and under `reject` the row does, so its
    code needs no flag (the flag bit stays 0, as it would in every shown place)."""
    return f.missing not in ("redistribute", "reject")


def _place_texts(
    out: CompiledSql,
    ranks: list[int],
    step: int,
    n: int,
    threshold: int,
    labels: list[str],
    flagged: bool,
    dialect: str,
) -> list[exp.Expression]:
    """Each place's text (NULL when not shown, below the floor), decoded in stages from
    its code: millionths (q), then rank and flag (rest), then the label's number and
    the tenths of points lost. Without a `flagged` signal no place says `(missing)`."""
    top = {r: out.ref("top", str(r)) for r in ranks}
    out.stages.append(
        [(out.work("q", str(r)), b.floor(b.div(top[r], b.number(step)))) for r in ranks]
    )
    stage: Stage = []
    for r in ranks:
        q = out.ref("q", str(r))
        stage.append((out.work("rest", str(r)), b.sub(top[r].copy(), b.mul(q, b.number(step)))))
        tenths = b.floor(b.div(b.add(q.copy(), b.number(50_000)), b.number(100_000)))
        stage.append((out.work("tenths", str(r)), tenths))
    out.stages.append(stage)
    stage = []
    for r in ranks:
        rest = out.ref("rest", str(r))
        half = b.floor(b.div(rest, b.number(2)))
        flag = b.sub(rest.copy(), b.mul(half, b.number(2)))
        stage.append((out.work("index", str(r)), b.sub(b.number(n - 1), half.copy())))
        if flagged:
            stage.append((out.work("flag", str(r)), flag))
    out.stages.append(stage)
    texts = []
    for r in ranks:
        index = out.ref("index", str(r))
        said = [b.case([(exp.EQ(this=index.copy(), expression=b.number(j)), b.text(lab))
                        for j, lab in enumerate(labels)])]  # fmt: skip
        if flagged:
            flag = exp.EQ(this=out.ref("flag", str(r)), expression=b.number(1))
            said.append(b.case([(flag, b.text(" (missing)"))], b.text("")))
        said += [b.text(" -"), b.tenths_text(out.ref("tenths", str(r)), dialect)]
        shown = exp.GTE(this=top[r].copy(), expression=b.integer(threshold))
        texts.append(b.case([(shown, b.concat(said))]))
    assert TENTHS == 1001  # losses run 0.0 to 100.0
    return texts


def _band(d: Scheme, score: exp.Expression) -> exp.Expression:
    """The first band whose threshold the rounded score reaches."""
    pairs = []
    for band in d.bands:
        kind = exp.GT if band.strict else exp.GTE
        pairs.append(
            (kind(this=score.copy(), expression=b.number(band.threshold)), b.text(band.name))
        )
    return b.case(pairs)


def today_literal(as_of: dt.date | None) -> exp.Expression:
    """The run's date: a fixed date, or the engine's CURRENT_DATE."""
    return b.date(as_of) if as_of is not None else exp.CurrentDate()
