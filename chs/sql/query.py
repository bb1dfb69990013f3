"""A whole scheme compiled into one SELECT (a chain of CTEs) over an input table, giving
the rows `chs score` writes: the carried columns, points, group scores, score, band,
coverage, reasons, the segment (`definition`), the extra scores, the fired alerts, the
scheme's name and hash. Rows `chs score` would reject (an empty or repeated id, an
unknown category without `other`, a missing value under `reject`, no signal with a
value, no segment matching) are left out, or with `rejects`, are the only ones kept,
with `reason`.

Built as a sqlglot tree and written in the target dialect; nothing of the scheme is
pasted as text: names are quoted identifiers, values literals, expressions rebuilt
node by node (chs/sql/expressions.py).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

import chs.sql.build as b
from chs.columns import ALERTS_COLUMN, AS_OF, DEFINITION, MOVEMENT_COLUMNS, STREAK
from chs.errors import OptionError, SchemeError
from chs.scheme import TREND_COLUMN, Scheme
from chs.scheme.expression import ExpressionError
from chs.scheme.kinds import read_kinds, scheme_uses
from chs.sql.definition import CompiledSql, Context, Stage, compile_definition, today_literal
from chs.sql.expressions import compile_expression

DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake")
KEY, REPEATS, ROUTE = "chs_key", "chs_repeats", "chs_route"
DYNAMIC = {*MOVEMENT_COLUMNS, STREAK}  # columns only a previous snapshot gives
TABLE_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]*$")


@dataclass(frozen=True)
class Target:
    """Where the query reads and how it is written."""

    table: str  # a table name, possibly qualified (`analytics.customers`)
    dialect: str = "duckdb"
    as_of: dt.date | None = None  # None: the engine's CURRENT_DATE
    keep: tuple[str, ...] = ()  # more input columns to carry
    previous: str | None = None  # a scored table of the previous snapshot (id, score, band)
    dates: tuple[str, ...] = ()  # columns the table holds as dates (beside declared ones)


def compile_scheme(
    scheme: Scheme, target: Target, *, rejects: bool = False, alerts: bool = True
) -> exp.Expression:
    """The scheme's scoring query as a sqlglot tree; without `alerts`, no `alerts` column
    (chs score on DuckDB adds the alerts as the Polars engine does, with the trends)."""
    carried = carried_columns(scheme, target.keep)
    kinds = {**read_kinds(scheme), **dict.fromkeys(target.dates, "date")}
    ctx = Context(
        {}, today_literal(target.as_of), lambda s, k: _located(scheme, s, k), kinds, target.dialect
    )
    parts = [
        (name, d, f"seg{i}_" if scheme.segments else "")
        for i, (name, d) in enumerate(scheme.definitions())
    ]
    compiled = [(name, _definition(d, prefix, ctx)) for name, d, prefix in parts]
    extras = [
        (name, _definition(d, f"{name}_", ctx, f"{name}_")) for name, d in scheme.extra_scores()
    ]
    ctes = [("chs_keyed", _keyed(scheme, target, carried)), ("chs_input", _counted("chs_keyed"))]
    if scheme.segments is not None:
        ctes.append(("chs_routed", _select_star(ctes[-1][0], [(ROUTE, _route(scheme, ctx))])))
    for stages in _zipped([c for _, c in compiled] + [c for _, c in extras]):
        ctes.append((f"chs_stage{len(ctes)}", _select_star(ctes[-1][0], stages)))
    problems = _problems(scheme, compiled, extras)
    ok = exp.And(this=exp.Not(this=b.paren(_any(problems))),
                 expression=exp.Not(this=exp.Is(this=_score(scheme, compiled), expression=exp.Null())))  # fmt: skip
    outputs = _outputs(scheme, carried, compiled, extras, target.as_of)
    last = ctes[-1][0]
    scored = exp.select(*[b.alias(e, n) for n, e in outputs]).from_(b.ident(last))
    if rejects:
        scored = exp.select(
            *[b.col(c) for c in carried], b.alias(_reason(problems), "reason")
        ).from_(b.ident(last))
        query = scored.where(exp.Not(this=b.paren(ok)))
    else:
        query = scored.where(ok)
    names = [n for n, _ in outputs]
    if target.previous is not None and not rejects:
        ctes.append(("chs_previous", _previous(scheme, target.previous)))
        ctes.append(("chs_rows", query.select(b.col(KEY), append=True)))
        query, names = _with_movement("chs_rows", names), [*names, *MOVEMENT_COLUMNS]
    if scheme.alerts and alerts and not rejects:
        ctes.append(("chs_scored", query))
        query = _with_alerts(scheme, "chs_scored", names, ctx)
    # PostgreSQL inlines a CTE read once, which would write each stage's expressions
    # into the next as many times as they are read (it ran out of memory planning);
    # MATERIALIZED keeps the stages apart. Other engines keep them apart by themselves.
    materialized = True if target.dialect == "postgres" else None
    for name, cte in ctes:
        query = query.with_(b.ident(name), as_=cte, materialized=materialized)
    return query


def compile_sql(scheme: Scheme, target: Target, *, rejects: bool = False) -> str:
    """The query as text in the target dialect."""
    return compile_scheme(scheme, target, rejects=rejects).sql(dialect=target.dialect, pretty=True)


def _located(scheme: Scheme, signal: str, key: str) -> str:
    """`FILE:LINE: signals.x.expr`, as the scheme's own errors begin."""
    path = scheme.signal_path(signal, key)
    return f"{scheme.where(*path)}: {'.'.join(path)}"


def carried_columns(scheme: Scheme, keep: tuple[str, ...] = ()) -> list[str]:
    """The input columns the output carries: the id, value and parent, every column the
    scheme reads, and `keep` (an alert's score, band or change_30d is not an input)."""
    heads = ["", *(f"{name}_" for name, _ in scheme.extra_scores())]
    outputs = {f"{h}{c}" for h in heads for c in ("score", "band", "coverage", "reasons")}
    outputs |= {DEFINITION, ALERTS_COLUMN, *DYNAMIC}
    per_signal = tuple(f"{h}{kind}" for h in heads for kind in ("points_", "group_"))
    names = [
        c
        for c in scheme_uses(scheme)
        if c not in outputs and not c.startswith(per_signal) and not TREND_COLUMN.match(c)
    ]
    return list(dict.fromkeys([*names, *keep]))


def _definition(d: Scheme, prefix: str, ctx: Context, named: str = "") -> CompiledSql:
    try:
        return compile_definition(d, prefix, ctx, named)
    except ValueError as exc:
        raise SchemeError(f"{exc}") from None


def _keyed(scheme: Scheme, target: Target, carried: list[str]) -> exp.Select:
    """The carried columns and the id as compared (trimmed text)."""
    key = exp.Nullif(this=exp.Trim(this=b.as_text(b.col(scheme.id))), expression=b.text(""))
    clash = [c for c in carried if c.startswith("chs_")]
    if clash:
        raise SchemeError(
            f"{scheme.source}: column {clash[0]!r} is named like the query's working columns "
            "(which start with chs_); rename it"
        )
    return exp.select(*[b.col(c) for c in carried], b.alias(key, KEY)).from_(_table(target.table))


def _counted(source: str) -> exp.Select:
    """How often each id occurs, counted over the key column a stage before: DuckDB
    partitions by a column about 0.7 s faster at 10 million rows than by the expression."""
    repeats = exp.Window(this=exp.Count(this=exp.Star()), partition_by=[b.col(KEY)])
    return _select_star(source, [(REPEATS, repeats)])


def _select_star(source: str, stage: Stage) -> exp.Select:
    return exp.select(
        exp.Column(this=exp.Star(), table=b.ident(source)), *[b.alias(e, n) for n, e in stage]
    ).from_(b.ident(source))


def _zipped(defs: list[CompiledSql]) -> list[Stage]:
    """The stages of every definition side by side: stage i of each in one CTE."""
    depth = max(len(d.stages) for d in defs)
    return [[item for d in defs if i < len(d.stages) for item in d.stages[i]] for i in range(depth)]


def _condition(scheme: Scheme, ctx: Context, text: str, *where: str) -> exp.Expression:
    try:
        return compile_expression(text, {}, ctx.kinds, ctx.as_of)
    except ExpressionError as exc:
        raise SchemeError(f"{scheme.where(*where)}: {exc}") from None


def _route(scheme: Scheme, ctx: Context) -> exp.Expression:
    """The first segment whose condition holds (a NULL condition does not)."""
    assert scheme.segments is not None
    pairs = []
    for i, seg in enumerate(scheme.segments):
        cond = (
            exp.true()
            if seg.when is None
            else exp.Coalesce(
                this=_condition(scheme, ctx, seg.when, "segments", str(i), "when"),
                expressions=[exp.false()],
            )
        )
        pairs.append((cond, b.text(seg.name)))
    return b.case(pairs)


def _routed(
    scheme: Scheme,
    compiled: list[tuple[str, CompiledSql]],
    pick: Callable[[CompiledSql], exp.Expression | None],
) -> exp.Expression:
    """A column of the definition that scores the row: each segment's own, by route."""
    if scheme.segments is None:
        only = pick(compiled[0][1])
        assert only is not None
        return only
    pairs = [(exp.EQ(this=b.col(ROUTE), expression=b.text(name)), pick(c)) for name, c in compiled]
    return b.case([(cond, value) for cond, value in pairs if value is not None])


def _score(scheme: Scheme, compiled: list[tuple[str, CompiledSql]]) -> exp.Expression:
    return _routed(scheme, compiled, lambda c: c.score.copy() if c.score is not None else None)


def _problems(
    scheme: Scheme, compiled: list[tuple[str, CompiledSql]], extras: list[tuple[str, CompiledSql]]
) -> list[tuple[exp.Expression, exp.Expression]]:
    """Each reason a row is rejected, as (condition, message), in the engine's order."""
    found = [
        (exp.Is(this=b.col(KEY), expression=exp.Null()), b.text(f"empty {scheme.id}")),
        (
            exp.And(
                this=exp.Not(this=exp.Is(this=b.col(KEY), expression=exp.Null())),
                expression=exp.GT(this=b.col(REPEATS), expression=b.integer(1)),
            ),
            b.concat([b.text(f"duplicate {scheme.id} '"), b.col(KEY), b.text("'")]),
        ),
    ]
    for name, c in extras:
        found += c.problems
        found.append(
            (
                exp.Is(this=c.score.copy(), expression=exp.Null()),
                b.text(f"{name}: no signal has a value"),
            )
        )
    for name, c in compiled:
        for cond, message in c.problems:
            if scheme.segments is not None:
                cond = exp.And(
                    this=b.paren(cond),
                    expression=exp.EQ(this=b.col(ROUTE), expression=b.text(name)),
                )
            found.append((cond, message))
    if scheme.segments is not None:
        found.append(
            (
                exp.Is(this=b.col(ROUTE), expression=exp.Null()),
                b.text("no segment matches (give the last segment no `when`)"),
            )
        )
    return found


def _any(problems: list[tuple[exp.Expression, exp.Expression]]) -> exp.Expression:
    """Whether any problem holds (a NULL test counts as not holding)."""
    node: exp.Expression = exp.false()
    for cond, _ in problems:
        node = exp.Or(
            this=b.paren(node),
            expression=exp.Coalesce(this=b.paren(cond.copy()), expressions=[exp.false()]),
        )
    return node


def _reason(problems: list[tuple[exp.Expression, exp.Expression]]) -> exp.Expression:
    """Every problem of a row, `; `-joined, as chs score writes them; none: the score had
    no signal."""
    parts = [
        exp.Coalesce(
            this=b.case([(exp.Coalesce(this=b.paren(c.copy()), expressions=[exp.false()]),
                          b.concat([b.text("; "), m.copy()]))]),
            expressions=[b.text("")],
        )
        for c, m in problems
    ]  # fmt: skip
    joined = b.concat(parts) if parts else b.text("")
    trimmed = exp.Substring(this=joined, start=exp.Literal.number(3))
    empty = exp.EQ(this=joined.copy(), expression=b.text(""))
    return b.case([(empty, b.text("no signal has a value"))], trimmed)


def _outputs(
    scheme: Scheme,
    carried: list[str],
    compiled: list[tuple[str, CompiledSql]],
    extras: list[tuple[str, CompiledSql]],
    as_of: dt.date | None,
) -> list[tuple[str, exp.Expression]]:
    """The output columns in `chs score`'s order."""
    out: list[tuple[str, exp.Expression]] = [(c, b.col(c)) for c in carried]
    every = list(dict.fromkeys(n for _, c in compiled for n, _ in c.outputs))
    fixed = ["score", "band", "coverage", "reasons"]
    names = [n for n in every if n.startswith("points_")]
    names += [n for n in every if n.startswith("group_")] + fixed
    for name in names:

        def pick(c: CompiledSql, name: str = name) -> exp.Expression | None:
            found = dict(c.outputs).get(name)
            return found.copy() if found is not None else None

        out.append((name, _routed(scheme, compiled, pick)))
    if scheme.segments is not None:
        out.append((DEFINITION, b.col(ROUTE)))
    for _, c in extras:
        out += [(n, e) for n, e in c.outputs]
    out += [("scheme", b.text(scheme.name)), ("scheme_hash", b.text(scheme.digest))]
    if as_of is not None:  # as chs score --as-of writes it
        out.append((AS_OF, b.date(as_of)))
    return out


def _table(name: str) -> exp.Table:
    """A table name, checked (letters, digits, _; up to catalog.schema.table) and quoted."""
    parts = name.split(".")
    if len(parts) > 3 or not all(TABLE_PART.match(p) for p in parts):
        raise OptionError(
            f"the table is a name, or schema.name, of letters, digits and _ (got {name!r})"
        )
    return exp.Table(
        this=b.ident(parts[-1]),
        db=b.ident(parts[-2]) if len(parts) > 1 else None,
        catalog=b.ident(parts[-3]) if len(parts) > 2 else None,
    )


def _previous(scheme: Scheme, table: str) -> exp.Select:
    """The previous snapshot's score and band per customer (the id as compared); an id
    it holds twice has neither, so its customer counts as new rather than picked at
    random."""
    key = exp.Nullif(this=exp.Trim(this=b.as_text(b.col(scheme.id))), expression=b.text(""))
    once = exp.EQ(this=exp.Count(this=exp.Star()), expression=b.integer(1))
    score = b.case([(once, exp.Max(this=b.double(b.col("score"))))])
    band = b.case([(once.copy(), exp.Max(this=b.as_text(b.col("band"))))])
    return (
        exp.select(
            b.alias(key, "chs_previous_key"),
            b.alias(score, "previous_score"),
            b.alias(band, "previous_band"),
        )
        .from_(_table(table))
        .group_by(key.copy())
    )


def _with_movement(source: str, columns: list[str]) -> exp.Select:
    """The rows with previous_score, delta, previous_band and movement, as `chs score
    --previous` writes them: delta rounded to one decimal, movement new, up, down, same."""
    previous, score = b.col("previous_score", "chs_previous"), b.col("score", source)
    delta = b.rounded(b.sub(score, previous), 1, even=False)
    movement = b.case(
        [
            (exp.Is(this=previous.copy(), expression=exp.Null()), b.text("new")),
            (exp.GT(this=delta.copy(), expression=b.number(0.0)), b.text("up")),
            (exp.LT(this=delta.copy(), expression=b.number(0.0)), b.text("down")),
        ],
        b.text("same"),
    )
    kept = [b.col(c, source) for c in columns]
    joined = exp.EQ(this=b.col("chs_previous_key", "chs_previous"), expression=b.col(KEY, source))
    return (
        exp.select(
            *kept,
            b.alias(previous.copy(), "previous_score"),
            b.alias(delta, "delta"),
            b.alias(b.col("previous_band", "chs_previous"), "previous_band"),
            b.alias(movement, "movement"),
        )
        .from_(b.ident(source))
        .join(b.ident("chs_previous"), on=joined, join_type="left")
    )


def _with_alerts(scheme: Scheme, source: str, columns: list[str], ctx: Context) -> exp.Select:
    """The scored rows with `alerts`: the names of the alerts that fire, `; `-joined.
    A column only a previous snapshot gives reads NULL, so its alert cannot fire."""
    absent = {c for a in scheme.alerts for c in a.columns() if c not in columns}
    dynamic = {c: b.null() for c in absent if c in DYNAMIC or TREND_COLUMN.match(c)}
    pieces = []
    for i, alert in enumerate(scheme.alerts):
        try:
            cond = compile_expression(alert.when, dynamic, {**ctx.kinds, AS_OF: "date"}, ctx.as_of)
        except ExpressionError as exc:
            raise SchemeError(f"{scheme.where('alerts', str(i), 'when')}: {exc}") from None
        fired = exp.Coalesce(this=b.paren(cond), expressions=[exp.false()])
        pieces.append(b.case([(fired, b.text(f"; {alert.name}"))], b.text("")))
    joined = b.concat(pieces)
    text = b.case([(exp.EQ(this=joined.copy(), expression=b.text("")), b.text(""))],
                  exp.Substring(this=joined, start=exp.Literal.number(3)))  # fmt: skip
    kept = [b.col(c) for c in columns]
    return exp.select(*kept, b.alias(text, ALERTS_COLUMN)).from_(b.ident(source))
