"""A scheme's SQL expression (signal `expr`, segment and alert `when`) rebuilt as a
portable sqlglot tree for the compiled query.

The text is first checked exactly as the Polars engine checks it (chs.scheme.expression:
size, depth, the allow-list), then rebuilt node by node from a second allow-list, this
module's own: a node type it does not list is refused, so nothing the scheme author
wrote is pasted into the query. Column names become quoted identifiers (read through
`columns`, which maps a name to what the query reads for it), literals become literals,
and each construct gets the semantics the Polars engine gives it (true division, NULL
when dividing by zero, ROUND half away from zero, GREATEST skipping NULLs).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlglot import exp

import chs.sql.build as b
from chs.scheme.expression import ExpressionError, check_expression

Columns = Mapping[str, exp.Expression]
CURRENT_DATE = exp.CurrentDate()


def compile_expression(
    text: str,
    columns: Columns,
    kinds: Mapping[str, str | None] | None = None,
    today: exp.Expression = CURRENT_DATE,
) -> exp.Expression:
    """The expression as a portable tree; ExpressionError for what is refused. `kinds`:
    how the scheme reads each column (`date`, `number`…; chs.scheme.kinds), which tells
    a date minus a date (days) from a date minus days; `today`: what CURRENT_DATE is."""
    return _Translator(columns, kinds or {}, today).node(check_expression(text))


class _Translator:
    """One expression's translation: the columns it reads, their kinds, the date."""

    def __init__(
        self, columns: Columns, kinds: Mapping[str, str | None], today: exp.Expression
    ) -> None:
        self.columns = columns
        self.kinds = kinds
        self.today = today

    def node(self, node: exp.Expression) -> exp.Expression:
        handler = _NODES.get(type(node))
        if handler is None:
            raise ExpressionError(_refused(node))
        return handler(self, node)

    def arg(self, node: exp.Expression, key: str = "this") -> exp.Expression:
        part = node.args.get(key)
        if not isinstance(part, exp.Expression):
            raise ExpressionError(f"{node.sql()[:40]!r}: {key} is missing")
        return self.node(part)

    def column(self, node: exp.Column) -> exp.Expression:
        name = node.this.name
        found = self.columns.get(name)
        if found is not None:
            return found.copy()
        return exp.cast(b.col(name), b.DATE) if self.kinds.get(name) == "date" else b.col(name)

    def is_date(self, node: exp.Expression) -> bool:
        """Whether the node gives a date, as the Polars engine decides (chs.scheme.expression.is_date)."""
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.CurrentDate):
            return True
        if isinstance(node, exp.Cast):
            return bool(node.args["to"].this == exp.DataType.Type.DATE)
        if isinstance(node, exp.Column):
            return self.kinds.get(node.name) == "date"
        if isinstance(node, exp.Add | exp.Sub):
            return self.is_date(node.this) and not self.is_date(node.expression)
        if isinstance(node, exp.Coalesce | exp.Greatest | exp.Least):
            return self.is_date(node.this)
        return False

    def days(self, node: exp.Expression) -> exp.Expression:
        """A number of days added to a date: whole, as Polars floors it; a column whose
        kind is unknown may hold dates, which the Polars engine would know from the
        file but the query cannot: it must be declared."""
        for col in [node, *node.find_all(exp.Column)]:
            if isinstance(col, exp.Column) and self.kinds.get(col.name) is None:
                raise ExpressionError(
                    f"{node.sql()[:40]!r} is added to or taken from a date, and the query "
                    f"cannot tell whether column {col.name!r} holds dates or days: declare "
                    f"it, columns: {{{col.name}: {{type: date}}}} or {{type: number}}"
                )
        # INT: Spark's DATE_ADD takes no BIGINT
        return exp.cast(b.floor(b.double(self.node(node))), exp.DataType.build("INT"))


def _refused(node: exp.Expression) -> str:
    if isinstance(node, exp.Func):
        name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
        return f"function {name}() is not compiled to SQL yet; chs sql compiles " + ", ".join(
            sorted(COMPILED_FUNCTIONS)
        )
    shown = node.sql()[:40]
    return f"{shown!r} ({node.key}) is not compiled to SQL yet"


def _literal(t: _Translator, node: exp.Literal) -> exp.Expression:
    if node.is_string:
        return b.text(node.this)
    try:
        return b.integer(int(node.this))
    except ValueError:
        return b.number(float(node.this))


def _binary(kind: type[exp.Binary]) -> Callable[[_Translator, Any], exp.Expression]:
    def handle(t: _Translator, node: exp.Expression) -> exp.Expression:
        return b.paren(
            kind(this=b.paren(t.arg(node)), expression=b.paren(t.arg(node, "expression")))
        )

    return handle


def _subtract(t: _Translator, node: exp.Sub) -> exp.Expression:
    """`a - b`; of two dates, the days between them; a date minus days, a date."""
    if t.is_date(node.this):
        if t.is_date(node.expression):
            diff = exp.DateDiff(
                this=t.arg(node), expression=t.arg(node, "expression"), unit=exp.var("DAY")
            )
            return exp.cast(diff, b.BIGINT)
        later = exp.DateSub(
            this=t.arg(node), expression=t.days(node.expression), unit=exp.var("DAY")
        )
        return exp.cast(later, b.DATE)
    if t.is_date(node.expression):
        raise ExpressionError(f"{node.sql()[:40]!r}: a number minus a date has no meaning")
    return _binary(exp.Sub)(t, node)


def _add(t: _Translator, node: exp.Add) -> exp.Expression:
    """`a + b`; a date plus days (either way round), a date."""
    left, right = t.is_date(node.this), t.is_date(node.expression)
    if left and right:
        raise ExpressionError(f"{node.sql()[:40]!r}: two dates cannot be added")
    if not (left or right):
        return _binary(exp.Add)(t, node)
    day, days = (node.this, node.expression) if left else (node.expression, node.this)
    later = exp.DateAdd(this=t.node(day), expression=t.days(days), unit=exp.var("DAY"))
    return exp.cast(later, b.DATE)


def _compare(kind: type[exp.Binary]) -> Callable[[_Translator, Any], exp.Expression]:
    """A comparison; a date compared with text compares with that text as a date
    (`renewal < '2026-12-31'`), as the Polars engine compares."""

    def handle(t: _Translator, node: exp.Expression) -> exp.Expression:
        left, right = node.this, node.expression
        a = _date_text(left) if _is_text(left) and t.is_date(right) else t.arg(node)
        other = _date_text(right) if _is_text(right) and t.is_date(left) else None
        z = other if other is not None else t.arg(node, "expression")
        return b.paren(kind(this=b.paren(a), expression=b.paren(z)))

    return handle


def _is_text(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _date_text(node: exp.Literal) -> exp.Expression:
    try:
        return b.date(dt.date.fromisoformat(node.this))
    except ValueError:
        raise ExpressionError(f"{node.this!r} is not a date written YYYY-MM-DD") from None


# the parts of a date every engine extracts alike (DOW, ISODOW, DOY and WEEK are chs's,
# but BigQuery and Snowflake count weeks and days of the week their own ways)
DATE_PARTS = ("YEAR", "QUARTER", "MONTH", "DAY")


def _part(unit: str, value: exp.Expression) -> exp.Expression:
    if unit not in DATE_PARTS:
        raise ExpressionError(
            f"the date part {unit} is not compiled to SQL yet (engines count it differently); "
            f"chs sql extracts {', '.join(DATE_PARTS)}"
        )
    return exp.cast(exp.Extract(this=exp.var(unit), expression=value), b.BIGINT)


def _extract(t: _Translator, node: exp.Extract) -> exp.Expression:
    return _part(node.this.name.upper(), t.arg(node, "expression"))


def _date_part(t: _Translator, node: exp.Anonymous) -> exp.Expression:
    """DATE_PART('year', d), which sqlglot reads as a function it does not know."""
    if node.name.lower() != "date_part":
        raise ExpressionError(_refused(node))
    unit, *rest = node.expressions
    if not (_is_text(unit) and len(rest) == 1):
        raise ExpressionError("DATE_PART takes a part written as text and a date")
    return _part(unit.this.upper(), t.node(rest[0]))


def _unary(
    build: Callable[[exp.Expression], exp.Expression],
) -> Callable[[_Translator, Any], exp.Expression]:
    def handle(t: _Translator, node: exp.Expression) -> exp.Expression:
        return build(t.arg(node))

    return handle


def _multiply(t: _Translator, node: exp.Mul) -> exp.Expression:
    """In doubles, as the Polars engine multiplies (`a * 1.0 * b`)."""
    return b.mul(b.double(t.arg(node)), b.double(t.arg(node, "expression")))


def _divide(t: _Translator, node: exp.Div) -> exp.Expression:
    """True division; by zero, NULL. By a number written in the expression, times its
    reciprocal, which is what Polars computes for a column divided by a constant."""
    written = node.expression
    if isinstance(written, exp.Literal) and not written.is_string:
        value = float(written.this)
        if value == 0:
            return b.null()
        return b.mul(b.double(t.arg(node)), b.number(1.0 / value))
    divisor = b.double(t.arg(node, "expression"))
    return b.div(t.arg(node), exp.Nullif(this=divisor, expression=b.number(0.0)))


def _is(t: _Translator, node: exp.Is) -> exp.Expression:
    value, right = t.arg(node), node.expression
    if isinstance(right, exp.Null):
        return b.paren(exp.Is(this=b.paren(value), expression=exp.Null()))
    if isinstance(right, exp.Boolean):
        same = exp.EQ(this=b.paren(value), expression=exp.Boolean(this=right.this))
        return exp.Coalesce(this=same, expressions=[exp.false()])
    raise ExpressionError("IS takes NULL, TRUE or FALSE")


def _in(t: _Translator, node: exp.In) -> exp.Expression:
    values = [t.node(v) for v in node.expressions]
    return b.paren(exp.In(this=b.paren(t.arg(node)), expressions=values))


def _between(t: _Translator, node: exp.Between) -> exp.Expression:
    return b.paren(
        exp.Between(this=b.paren(t.arg(node)), low=t.arg(node, "low"), high=t.arg(node, "high"))
    )


def _like(t: _Translator, node: exp.Like) -> exp.Expression:
    """LIKE over a literal pattern (no escape character: `\\` is a plain character)."""
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        raise ExpressionError("LIKE takes a text pattern, e.g. name LIKE 'Acme%'")
    found = exp.Like(this=b.paren(t.arg(node)), expression=b.text(pattern.this))
    return b.paren(exp.Not(this=b.paren(found)) if node.args.get("negate") else found)


def _case(t: _Translator, node: exp.Case) -> exp.Expression:
    subject = node.args.get("this")
    pairs = []
    for branch in node.args["ifs"]:
        test = t.arg(branch)
        if subject is not None:
            test = exp.EQ(this=b.paren(t.node(subject)), expression=b.paren(test))
        pairs.append((test, t.arg(branch, "true")))
    default = node.args.get("default")
    return b.case(pairs, t.node(default) if default is not None else None)


def _if(t: _Translator, node: exp.If) -> exp.Expression:
    otherwise = node.args.get("false")
    return b.case([(t.arg(node), t.arg(node, "true"))], t.node(otherwise) if otherwise else None)


_CASTS = {
    exp.DataType.Type.DOUBLE: b.DOUBLE,
    exp.DataType.Type.FLOAT: b.DOUBLE,
    exp.DataType.Type.VARCHAR: b.TEXT,
    exp.DataType.Type.TEXT: b.TEXT,
    exp.DataType.Type.DATE: b.DATE,
    exp.DataType.Type.BOOLEAN: exp.DataType.build("BOOLEAN"),
}


def _cast(t: _Translator, node: exp.Cast) -> exp.Expression:
    to = node.args["to"]
    target = _CASTS.get(to.this)
    if target is None:
        raise ExpressionError(
            f"CAST to {to.sql()} is not compiled to SQL yet (engines round or truncate "
            "differently); chs sql casts to DOUBLE, VARCHAR, TEXT, BOOLEAN, DATE"
        )
    return exp.cast(t.arg(node), target)


def _round(t: _Translator, node: exp.Round) -> exp.Expression:
    decimals = node.args.get("decimals")
    places = 0 if decimals is None else int(decimals.this)
    return b.rounded(b.double(t.arg(node)), places, even=False)


def _greatest(kind: type[exp.Func]) -> Callable[[_Translator, Any], exp.Expression]:
    """GREATEST/LEAST skipping NULLs, as Polars does: each NULL replaced by the first
    value that is not NULL (which does not change the answer)."""

    def handle(t: _Translator, node: exp.Expression) -> exp.Expression:
        values = [t.arg(node), *[t.node(e) for e in node.expressions]]
        if len(values) == 1:
            return values[0]
        first = exp.Coalesce(this=values[0], expressions=[v.copy() for v in values[1:]])
        items = [exp.Coalesce(this=v, expressions=[first.copy()]) for v in values]
        return kind(this=items[0], expressions=items[1:])

    return handle


def _coalesce(t: _Translator, node: exp.Coalesce) -> exp.Expression:
    return exp.Coalesce(this=t.arg(node), expressions=[t.node(e) for e in node.expressions])


def _nullif(t: _Translator, node: exp.Nullif) -> exp.Expression:
    """NULL when both are equal, else the first; NULL too when they cannot be compared
    (the Polars engine's `when(a != b).then(a)`)."""
    first = t.arg(node)
    differs = exp.NEQ(this=b.paren(first), expression=b.paren(t.arg(node, "expression")))
    return b.case([(differs, first.copy())])


def _sqrt(t: _Translator, node: exp.Sqrt) -> exp.Expression:
    """The square root; NULL below 0 (Polars gives NaN there, read as missing)."""
    value = b.double(t.arg(node))
    return b.case([(exp.GTE(this=value, expression=b.number(0.0)), exp.Sqrt(this=value.copy()))])


def _literal_number(node: exp.Expression | None, what: str) -> int:
    if not (isinstance(node, exp.Literal) and not node.is_string):
        raise ExpressionError(f"{what} takes a whole number written in the expression")
    return int(node.this)


def _substring(t: _Translator, node: exp.Substring) -> exp.Expression:
    """SUBSTRING(s, start[, length]), counted from 1 (checked as the Polars engine checks)."""
    start = _literal_number(node.args.get("start"), "SUBSTRING's start")
    length = node.args.get("length")
    size = (
        None
        if length is None
        else exp.Literal.number(_literal_number(length, "SUBSTRING's length"))
    )
    return exp.Substring(this=t.arg(node), start=exp.Literal.number(start), length=size)


def _replace(t: _Translator, node: exp.Replace) -> exp.Expression:
    old, new = node.expression, node.args.get("replacement")
    return exp.Replace(this=t.arg(node), expression=b.text(old.this), replacement=b.text(new.this))


def _pad(t: _Translator, node: exp.Pad) -> exp.Expression:
    """LPAD/RPAD to a literal length with one character; longer text is cut."""
    fill = node.args.get("fill_pattern")
    return exp.Pad(
        this=t.arg(node),
        expression=exp.Literal.number(_literal_number(node.expression, "LPAD's length")),
        fill_pattern=b.text(fill.this if fill is not None else " "),
        is_left=node.args.get("is_left"),
    )


def _trim(t: _Translator, node: exp.Trim) -> exp.Expression:
    """TRIM of given characters (any of them, at either side or one). Without them,
    Polars strips every kind of white space and SQL engines only spaces: refused."""
    chars = node.args.get("expression")
    if not (isinstance(chars, exp.Literal) and chars.is_string):
        raise ExpressionError(
            "TRIM without characters is not compiled to SQL yet (engines strip only spaces, "
            "chs every white space): write TRIM(BOTH ' ' FROM x)"
        )
    side = str(node.args.get("position") or "BOTH").upper()
    return exp.Trim(this=t.arg(node), expression=b.text(chars.this), position=side)


_NODES: dict[type[exp.Expression], Callable[[_Translator, Any], exp.Expression]] = {
    exp.Column: lambda t, n: t.column(n),
    exp.Literal: _literal,
    exp.Boolean: lambda t, n: exp.Boolean(this=n.this),
    exp.Null: lambda t, n: exp.Null(),
    exp.Paren: _unary(b.paren),
    exp.Neg: _unary(lambda a: b.paren(exp.Neg(this=b.paren(a)))),
    exp.Not: _unary(lambda a: b.paren(exp.Not(this=b.paren(a)))),
    exp.Add: _add,
    exp.Sub: _subtract,
    exp.Mul: _multiply,
    exp.Div: _divide,
    exp.EQ: _compare(exp.EQ),
    exp.NEQ: _compare(exp.NEQ),
    exp.GT: _compare(exp.GT),
    exp.GTE: _compare(exp.GTE),
    exp.LT: _compare(exp.LT),
    exp.LTE: _compare(exp.LTE),
    exp.And: _binary(exp.And),
    exp.Or: _binary(exp.Or),
    exp.Is: _is,
    exp.In: _in,
    exp.Between: _between,
    exp.Like: _like,
    exp.Case: _case,
    exp.If: _if,
    exp.Cast: _cast,
    exp.Abs: _unary(lambda a: exp.Abs(this=a)),
    exp.Ceil: _unary(lambda a: exp.Ceil(this=b.double(a))),
    exp.Floor: _unary(lambda a: exp.Floor(this=b.double(a))),
    exp.Round: _round,
    exp.Greatest: _greatest(exp.Greatest),
    exp.Least: _greatest(exp.Least),
    exp.Coalesce: _coalesce,
    exp.Nullif: _nullif,
    exp.Lower: _unary(lambda a: exp.Lower(this=a)),
    exp.Upper: _unary(lambda a: exp.Upper(this=a)),
    exp.Length: _unary(lambda a: exp.Length(this=a)),
    exp.Sqrt: _sqrt,
    exp.Sign: _unary(lambda a: exp.Sign(this=b.double(a))),
    exp.Substring: _substring,
    exp.Replace: _replace,
    exp.Pad: _pad,
    exp.Trim: _trim,
    exp.CurrentDate: lambda t, n: t.today.copy(),
    exp.Year: lambda t, n: _part("YEAR", t.arg(n)),
    exp.Month: lambda t, n: _part("MONTH", t.arg(n)),
    exp.Day: lambda t, n: _part("DAY", t.arg(n)),
    exp.Extract: _extract,
    exp.Anonymous: _date_part,
}

COMPILED_FUNCTIONS = [
    "abs", "ceil", "floor", "round", "sqrt", "sign", "greatest", "least", "coalesce",
    "nullif", "if", "lower", "upper", "length", "char_length", "substring", "substr",
    "replace", "lpad", "rpad", "trim", "ltrim", "rtrim", "cast", "current_date", "year",
    "month", "day", "extract", "date_part",
]  # fmt: skip
