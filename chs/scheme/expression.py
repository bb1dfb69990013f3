"""SQL expressions in a scheme (signal `expr`, segment and alert `when`), checked and
turned into Polars expressions without ever reaching a SQL engine.

A scheme is data and may come from a stranger, so an expression is never handed to a
SQL engine as text. It is measured (length, nesting), parsed by sqlglot into a syntax
tree, bounded (node count, depth), and translated node by node. The translation table
IS the allow-list: arithmetic, comparison, boolean logic, CASE, CAST to listed types,
IN over literals, BETWEEN, LIKE, and the functions of FUNCTIONS. Anything else (a
query, a table or file function, an unknown function, a qualified column) is refused by
name, before anything is planned or executed, so no expression can read a file, list a
folder, make a request or run code, and none can exhaust memory (padding is bounded).

The semantics are SQL's, pinned where engines differ, so that the SQL compiler can emit
the same numbers: `/` is true division and dividing by zero gives NULL; `%` takes the
sign of the dividend; ROUND rounds half away from zero; GREATEST and LEAST skip NULLs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlglot
from sqlglot import exp

from chs.hints import close_matches
from chs.scheme.limits import (
    MAX_EXPANDED_NODES,
    MAX_EXPRESSION_CHARS,
    MAX_EXPRESSION_DEPTH,
    MAX_EXPRESSION_NODES,
    MAX_PAD_LENGTH,
    MAX_TEXT_CHARS,
    MAX_TEXT_TIMES,
)


class ExpressionError(ValueError):
    """An expression that is refused: the message says which construct, and why."""


def parse_sql_expr(
    text: str,
    columns: Mapping[str, pl.Expr] | None = None,
    *,
    dates: Collection[str] = (),
    today: dt.date | None = None,
) -> pl.Expr:
    """The Polars expression for a scheme's SQL expression; ExpressionError if refused.
    `columns`: what to read for some column names (a column read as text, parsed to its
    type); any other name is `pl.col(name)`. `dates`: the columns read as dates, so that
    `renewal - CURRENT_DATE` is a number of days. `today`: CURRENT_DATE, the run's date."""
    tree = check_expression(text)
    context = _Context(
        dict(columns or {}), MAX_EXPANDED_NODES, set(dates), today or dt.date.today()
    )
    token = _CONTEXT.set(context)
    try:
        return _translate(tree)
    finally:
        _CONTEXT.reset(token)


@dataclass
class _Context:
    """One translation's column mapping, and how many more nodes it may make: a node a
    translation uses twice (the dividend of `%`, the value of NULLIF, the subject of
    `CASE x WHEN`) is translated twice, so nesting them cannot grow the plan unseen."""

    columns: dict[str, pl.Expr]
    budget: int
    dates: set[str]
    today: dt.date


_CONTEXT: ContextVar[_Context] = ContextVar("chs_expression_context")


def check_expression(text: str) -> exp.Expression:
    """The syntax tree of an expression within the limits; nothing is planned or run."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(
            f"the expression is {len(text):,} characters long; the limit is "
            f"{MAX_EXPRESSION_CHARS:,}"
        )
    _check_nesting(text)
    tree = _parse(text)
    nodes, depth = _size(tree)
    if nodes > MAX_EXPRESSION_NODES:
        raise ExpressionError(
            f"the expression has {nodes:,} parts; the limit is {MAX_EXPRESSION_NODES:,}"
        )
    if depth > MAX_EXPRESSION_DEPTH:
        raise ExpressionError(
            f"the expression is nested {depth} levels deep; the limit is {MAX_EXPRESSION_DEPTH}"
        )
    _check_text(tree)
    return tree


def _check_nesting(text: str) -> None:
    """Refuse deep parentheses from the tokens, before the (recursive) parser sees them."""
    try:
        tokens = sqlglot.tokenize(text)
    except sqlglot.errors.TokenError:
        raise ExpressionError(
            "not a valid SQL expression: a quote or comment is not closed"
        ) from None
    depth = deepest = prefixes = 0
    for token in tokens:
        # a run of NOT or `-` nests as parentheses do (NOT NOT NOT a)
        prefixes = prefixes + 1 if token.token_type in _PREFIXES else 0
        deepest = max(deepest, depth + prefixes)
        if token.token_type in (sqlglot.TokenType.L_PAREN, sqlglot.TokenType.L_BRACKET):
            depth += 1
            deepest = max(deepest, depth)
        elif token.token_type in (sqlglot.TokenType.R_PAREN, sqlglot.TokenType.R_BRACKET):
            depth -= 1
    if deepest > MAX_EXPRESSION_DEPTH:
        raise ExpressionError(
            f"the expression is nested {deepest} levels deep; the limit is {MAX_EXPRESSION_DEPTH}"
        )


_PREFIXES = (sqlglot.TokenType.NOT, sqlglot.TokenType.DASH)


def _check_text(tree: exp.Expression) -> None:
    """Refuse an expression that could make text far longer than what it reads: each node
    is bounded by `fixed + times x (the longest cell read)`; REPLACE by a longer text
    multiplies, CONCAT adds, LPAD sets. Checked at every node, since an inner text is
    made even when only its length is kept."""
    bounds: dict[int, tuple[float, float]] = {}
    for node in _post_order(tree):
        fixed, times = _text_bound(node, [bounds[id(c)] for c in node.iter_expressions()])
        if fixed > MAX_TEXT_CHARS:
            raise ExpressionError(
                f"the expression can make text of {fixed:,.0f} characters; the limit is "
                f"{MAX_TEXT_CHARS:,}"
            )
        if times > MAX_TEXT_TIMES:
            raise ExpressionError(
                f"the expression can make text {times:,.0f} times as long as the cells it "
                f"reads; the limit is {MAX_TEXT_TIMES} times"
            )
        bounds[id(node)] = (fixed, times)


def _text_bound(node: exp.Expression, kids: list[tuple[float, float]]) -> tuple[float, float]:
    if isinstance(node, exp.Literal):
        return (len(node.this), 0.0) if node.is_string else (32.0, 0.0)
    if isinstance(node, exp.Column):
        return 0.0, 1.0
    if isinstance(node, exp.Pad) and isinstance(node.expression, exp.Literal):
        # a longer pad is refused when translated, with its own message
        return min(float(_number(node.expression.this)), MAX_PAD_LENGTH), 0.0
    if isinstance(node, exp.Concat | exp.DPipe):
        return sum(k[0] for k in kids), sum(k[1] for k in kids)
    if isinstance(node, exp.Replace) and kids:
        old, new = node.expression, node.args.get("replacement")
        if isinstance(old, exp.Literal) and isinstance(new, exp.Literal) and old.this:
            grow = max(1.0, len(new.this) / len(old.this))
            return kids[0][0] * grow, kids[0][1] * grow
    return max((k[0] for k in kids), default=0.0), max((k[1] for k in kids), default=0.0)


def _post_order(tree: exp.Expression) -> list[exp.Expression]:
    """Every node, children before their parent, walked with an explicit stack."""
    order, stack = [], [tree]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.iter_expressions())
    return order[::-1]


def _parse(text: str) -> exp.Expression:
    try:
        tree = sqlglot.parse_one(text)
    except sqlglot.errors.ParseError as exc:
        raise ExpressionError(f"not a valid SQL expression: {_parse_problem(exc)}") from None
    except (sqlglot.errors.SqlglotError, RecursionError):
        raise ExpressionError("not a valid SQL expression") from None
    if tree is None:
        raise ExpressionError("the expression is empty")
    return tree


def _parse_problem(exc: sqlglot.errors.ParseError) -> str:
    """sqlglot's parse error in a scheme author's words: what, where."""
    error = exc.errors[0] if exc.errors else {}
    what = str(error.get("description") or _first_line(exc))
    token, col = error.get("highlight"), error.get("col")
    if not col:
        return what
    if what.startswith("Required keyword: 'expression'"):
        return f"{token!r} at column {col} has nothing on its right"
    if what.startswith("Invalid expression / Unexpected token"):
        return f"unexpected {token!r} at column {col}"
    return f"{what.split(' for <class')[0]} at column {col}"


def _first_line(exc: BaseException) -> str:
    # sqlglot underlines the culprit with terminal escapes: keep the words only
    line = (str(exc).splitlines() or [type(exc).__name__])[0]
    return line.replace("\x1b[4m", "").replace("\x1b[0m", "")


def _size(tree: exp.Expression) -> tuple[int, int]:
    """Node count and depth, walked with an explicit stack (no recursion)."""
    nodes = deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        nodes += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.iter_expressions())
    return nodes, deepest


# -- translation: each allowed node type and function, and nothing else ------------------


def _translate(node: exp.Expression) -> pl.Expr:
    handler = _NODES.get(type(node))
    if handler is None:
        raise ExpressionError(_refusal(node))
    context = _CONTEXT.get()
    context.budget -= 1
    if context.budget < 0:
        raise ExpressionError(
            f"the expression expands to more than {MAX_EXPANDED_NODES:,} parts once "
            "translated (each nested `%`, NULLIF or `CASE x WHEN` repeats what it is "
            f"given); the limit is {MAX_EXPANDED_NODES:,}"
        )
    return handler(node)


def _refusal(node: exp.Expression) -> str:
    """Why a construct is refused, naming it."""
    if isinstance(node, exp.Query | exp.Subquery | exp.Values | exp.From | exp.Table | exp.Exists):
        return "a query (SELECT, FROM, VALUES, a table) is not allowed in an expression"
    if isinstance(node, exp.Func) and not isinstance(node, exp.Cast):
        name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower()
        close = close_matches(name, FUNCTIONS)
        if close:
            return f"function {name}() is not allowed in an expression; did you mean {close[0]}()?"
        return f"function {name}() is not allowed in an expression; the functions are " + ", ".join(
            sorted(FUNCTIONS)
        )
    shown = node.sql()
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    return f"{shown!r} ({node.key}) is not allowed in an expression"


def _only(node: exp.Expression, *allowed: str) -> None:
    """Refuse a node carrying a part its handler does not read (`IN` with a query)."""
    extra = [k for k, v in node.args.items() if v not in (None, False, []) and k not in allowed]
    if extra:
        part = node.args[extra[0]]
        if isinstance(part, exp.Expression):
            raise ExpressionError(_refusal(part))
        raise ExpressionError(f"{node.sql()[:40]!r}: {extra[0]} is not allowed in an expression")


def _arg(node: exp.Expression, key: str = "this") -> pl.Expr:
    part = node.args.get(key)
    if not isinstance(part, exp.Expression):
        raise ExpressionError(f"{node.sql()[:40]!r}: {key} is missing")
    return _translate(part)


def _column(node: exp.Column) -> pl.Expr:
    if node.args.get("table") is not None or not isinstance(node.this, exp.Identifier):
        raise ExpressionError(
            f"{node.sql()!r}: a column is named alone (no table, no *), e.g. logins_month"
        )
    name = node.this.name
    if name == "*" or (name.startswith("^") and name.endswith("$")):
        raise ExpressionError(f"{name!r} is not a column name (Polars would read it as a pattern)")
    return _CONTEXT.get().columns.get(name, pl.col(name))


def _literal(node: exp.Literal) -> pl.Expr:
    if node.is_string:
        return pl.lit(node.this, dtype=pl.String)
    text = node.this
    try:
        value: int | float = int(text)
    except ValueError:
        value = float(text)
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ExpressionError(f"the number {text} is too large")
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise ExpressionError(f"the number {text} is too large")
    return pl.lit(value)


def _literal_value(node: exp.Expression, what: str) -> Any:
    """A literal's Python value (a negative number is a Neg node), for IN lists and
    function arguments that must be constants."""
    negative = isinstance(node, exp.Neg)
    inner = node.this if negative else node
    if isinstance(inner, exp.Literal) and not (negative and inner.is_string):
        value: Any = inner.this if inner.is_string else _number(inner.this)
        return -value if negative else value
    if isinstance(inner, exp.Boolean) and not negative:
        return inner.this
    raise ExpressionError(f"{what} takes literal values (got {node.sql()[:40]!r})")


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _binary(op: Callable[[pl.Expr, pl.Expr], pl.Expr]) -> Callable[[exp.Expression], pl.Expr]:
    def handle(node: exp.Expression) -> pl.Expr:
        _only(node, "this", "expression")
        return op(_arg(node), _arg(node, "expression"))

    return handle


def _unary(op: Callable[[pl.Expr], pl.Expr]) -> Callable[[exp.Expression], pl.Expr]:
    def handle(node: exp.Expression) -> pl.Expr:
        _only(node, "this")
        return op(_arg(node))

    return handle


def _divide(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    """True division; dividing by zero gives NULL (not inf)."""
    return a / b.replace(0, None)


def _remainder(node: exp.Mod) -> pl.Expr:
    """SQL's remainder, with the sign of the dividend (Polars' `%` takes the divisor's);
    by zero, NULL. The dividend is read twice, so it is translated twice (counted)."""
    _only(node, "this", "expression")
    divisor = _arg(node, "expression").abs().replace(0, None)
    return _arg(node).sign() * (_arg(node).abs() % divisor)


def _is(node: exp.Is) -> pl.Expr:
    _only(node, "this", "expression")
    value, right = _arg(node), node.expression
    if isinstance(right, exp.Null):
        return value.is_null()
    if isinstance(right, exp.Boolean):
        return (value == pl.lit(right.this)).fill_null(False)
    raise ExpressionError("IS takes NULL, TRUE or FALSE")


def _in(node: exp.In) -> pl.Expr:
    _only(node, "this", "expressions")
    values = [_literal_value(v, "IN") for v in node.expressions]
    if not values:
        raise ExpressionError("IN takes a list of literal values, e.g. region IN ('EU', 'NA')")
    kinds = {
        "text" if isinstance(v, str) else "true/false" if isinstance(v, bool) else "number"
        for v in values
    }
    if len(kinds) > 1:
        raise ExpressionError(f"IN takes values of one kind (got {' and '.join(sorted(kinds))})")
    return _arg(node).is_in(values)


def _between(node: exp.Between) -> pl.Expr:
    _only(node, "this", "low", "high")
    return _arg(node).is_between(_arg(node, "low"), _arg(node, "high"), closed="both")


def _like(insensitive: bool) -> Callable[[exp.Expression], pl.Expr]:
    def handle(node: exp.Expression) -> pl.Expr:
        _only(node, "this", "expression", "negate")
        pattern = _literal_value(node.expression, "LIKE")
        if not isinstance(pattern, str):
            raise ExpressionError("LIKE takes a text pattern, e.g. name LIKE 'Acme%'")
        regex = "".join(".*" if ch == "%" else "." if ch == "_" else _escape(ch) for ch in pattern)
        found = _arg(node).str.contains(f"{'(?i)' if insensitive else ''}(?s)^{regex}$")
        return ~found if node.args.get("negate") else found

    return handle


def _escape(ch: str) -> str:
    return "\\" + ch if ch in r".^$*+?()[]{}|\/-" else ch


def _case(node: exp.Case) -> pl.Expr:
    _only(node, "this", "ifs", "default")
    subject = node.args.get("this")
    chain: Any = pl
    for branch in node.args["ifs"]:
        _only(branch, "this", "true")
        test = _arg(branch)
        if subject is not None:
            test = _translate(subject) == test
        chain = chain.when(test).then(_arg(branch, "true"))
    default = node.args.get("default")
    return chain.otherwise(_translate(default)) if default is not None else chain.otherwise(None)


def _if(node: exp.If) -> pl.Expr:
    _only(node, "this", "true", "false")
    otherwise = node.args.get("false")
    chosen = pl.when(_arg(node)).then(_arg(node, "true"))
    return chosen.otherwise(_translate(otherwise) if otherwise is not None else None)


CAST_TYPES: dict[exp.DataType.Type, pl.DataType] = {
    exp.DataType.Type.SMALLINT: pl.Int16(),
    exp.DataType.Type.INT: pl.Int32(),
    exp.DataType.Type.BIGINT: pl.Int64(),
    exp.DataType.Type.FLOAT: pl.Float32(),
    exp.DataType.Type.DOUBLE: pl.Float64(),
    exp.DataType.Type.VARCHAR: pl.String(),
    exp.DataType.Type.TEXT: pl.String(),
    exp.DataType.Type.BOOLEAN: pl.Boolean(),
    exp.DataType.Type.DATE: pl.Date(),
}


def _cast(strict: bool) -> Callable[[exp.Expression], pl.Expr]:
    def handle(node: exp.Expression) -> pl.Expr:
        _only(node, "this", "to", "safe")
        to = node.args["to"]
        target = CAST_TYPES.get(to.this) if not to.expressions else None
        if target is None:
            raise ExpressionError(
                f"CAST to {to.sql()} is not allowed; the types are INT, SMALLINT, BIGINT, "
                "REAL, DOUBLE, VARCHAR, TEXT, BOOLEAN, DATE"
            )
        if target == pl.Date():
            return _date(node.this, strict)
        return _arg(node).cast(target, strict=strict)

    return handle


def _date(node: exp.Expression, strict: bool) -> pl.Expr:
    """CAST(x AS DATE) from a date, a timestamp or ISO text (`2026-01-31`, or with a time)."""
    if isinstance(node, exp.Literal) and node.is_string:
        try:
            return pl.lit(dt.date.fromisoformat(node.this))
        except ValueError:
            raise ExpressionError(f"{node.this!r} is not a date written YYYY-MM-DD") from None
    text = _translate(node).cast(pl.String).str.slice(0, 10)
    return text.str.to_date("%Y-%m-%d", strict=strict)


def _round(node: exp.Round) -> pl.Expr:
    _only(node, "this", "decimals")
    decimals = node.args.get("decimals")
    places = 0 if decimals is None else _literal_value(decimals, "ROUND's decimals")
    if not isinstance(places, int) or not 0 <= places <= 15:
        raise ExpressionError("ROUND takes a whole number of decimals from 0 to 15")
    return _arg(node).round(places, mode="half_away_from_zero")


def _log(node: exp.Log) -> pl.Expr:
    _only(node, "this", "expression")
    if node.expression is None or _literal_value(node.this, "LOG's base") != 10:
        raise ExpressionError("use LN(x) or LOG10(x): LOG(x) means either, depending on the SQL")
    return _arg(node, "expression").log(10).fill_nan(None).replace(_MINUS_INF, None)


_MINUS_INF = float("-inf")


def _ln(a: pl.Expr) -> pl.Expr:
    """The natural logarithm; NULL for 0 and below (not -inf or NaN)."""
    return a.log().fill_nan(None).replace(_MINUS_INF, None)


def _horizontal(pick: Callable[..., pl.Expr]) -> Callable[[exp.Expression], pl.Expr]:
    def handle(node: exp.Expression) -> pl.Expr:
        _only(node, "this", "expressions", "ignore_nulls")
        return pick(_arg(node), *[_translate(e) for e in node.expressions])

    return handle


def _coalesce(node: exp.Coalesce) -> pl.Expr:
    _only(node, "this", "expressions", "is_nvl", "is_null")
    return pl.coalesce(_arg(node), *[_translate(e) for e in node.expressions])


def _nullif(node: exp.Nullif) -> pl.Expr:
    _only(node, "this", "expression")
    return pl.when(_arg(node) != _arg(node, "expression")).then(_arg(node))


def _trim(node: exp.Trim) -> pl.Expr:
    _only(node, "this", "position", "expression")
    chars = node.args.get("expression")
    strip = None if chars is None else _literal_value(chars, "TRIM's characters")
    side = str(node.args.get("position") or "BOTH").upper()
    value = _arg(node).str
    if side == "LEADING":
        return value.strip_chars_start(strip)
    if side == "TRAILING":
        return value.strip_chars_end(strip)
    return value.strip_chars(strip)


def _substring(node: exp.Substring) -> pl.Expr:
    """SUBSTRING(s, start[, length]) counts from 1, as SQL does."""
    _only(node, "this", "start", "length")
    start = _literal_value(node.args["start"], "SUBSTRING's start")
    length = node.args.get("length")
    size = None if length is None else _literal_value(length, "SUBSTRING's length")
    if not isinstance(start, int) or start < 1 or not (size is None or isinstance(size, int)):
        raise ExpressionError("SUBSTRING takes a start of 1 or more and a whole length")
    return _arg(node).str.slice(start - 1, size)


def _pad(node: exp.Pad) -> pl.Expr:
    """LPAD/RPAD to a literal length (at most MAX_PAD_LENGTH): longer text is cut, as SQL does."""
    _only(node, "this", "expression", "fill_pattern", "is_left")
    length = _literal_value(node.expression, "LPAD's length")
    fill_node = node.args.get("fill_pattern")
    fill = " " if fill_node is None else _literal_value(fill_node, "LPAD's fill")
    if not isinstance(length, int) or not 0 <= length <= MAX_PAD_LENGTH:
        raise ExpressionError(
            f"LPAD and RPAD take a length from 0 to {MAX_PAD_LENGTH:,} (got {length})"
        )
    if not isinstance(fill, str) or len(fill) != 1:
        raise ExpressionError("LPAD and RPAD take a fill of one character")
    text = _arg(node).str.head(length)
    if node.args.get("is_left"):
        return text.str.pad_start(length, fill)
    return text.str.pad_end(length, fill)


def _replace(node: exp.Replace) -> pl.Expr:
    _only(node, "this", "expression", "replacement")
    old = _literal_value(node.expression, "REPLACE")
    new = _literal_value(node.args["replacement"], "REPLACE")
    if not isinstance(old, str) or not isinstance(new, str) or not old:
        raise ExpressionError("REPLACE takes two texts, the first not empty")
    return _arg(node).str.replace_all(old, new, literal=True)


def _concat(node: exp.Concat) -> pl.Expr:
    """CONCAT skips NULLs (as PostgreSQL's does); `||` gives NULL if either side is."""
    _only(node, "expressions", "safe", "coalesce")
    parts = [_translate(e).cast(pl.String) for e in node.expressions]
    return pl.concat_str(parts, ignore_nulls=True)


def _concat_strict(node: exp.DPipe) -> pl.Expr:
    _only(node, "this", "expression", "safe")
    return pl.concat_str([_arg(node).cast(pl.String), _arg(node, "expression").cast(pl.String)])


def _extract(node: exp.Extract) -> pl.Expr:
    _only(node, "this", "expression")
    unit = node.this.name.upper()
    if unit not in _DATE_PARTS:
        raise ExpressionError(f"EXTRACT takes {', '.join(_DATE_PARTS)} (got {unit})")
    return _DATE_PARTS[unit](_arg(node, "expression"))


_DATE_PARTS: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "YEAR": lambda d: d.dt.year(),
    "QUARTER": lambda d: d.dt.quarter(),
    "MONTH": lambda d: d.dt.month(),
    "DAY": lambda d: d.dt.day(),
    "DOW": lambda d: d.dt.weekday() % 7,  # Sunday 0 to Saturday 6, as PostgreSQL
    "ISODOW": lambda d: d.dt.weekday(),  # Monday 1 to Sunday 7
    "DOY": lambda d: d.dt.ordinal_day(),
    "WEEK": lambda d: d.dt.week(),  # the ISO week
}


# -- dates: a date minus a date is a number of days; a date plus a number, a date -------


def is_date(node: exp.Expression) -> bool:
    """Whether a node gives a date: a date column, CURRENT_DATE, CAST(... AS DATE) or
    DATE '...', or a date plus or minus days."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.CurrentDate):
        return True
    if isinstance(node, exp.Cast | exp.TryCast):
        return bool(node.args["to"].this == exp.DataType.Type.DATE)
    if isinstance(node, exp.Column):
        return node.name in _CONTEXT.get().dates
    if isinstance(node, exp.Add | exp.Sub):
        return is_date(node.this) and not is_date(node.expression)
    if isinstance(node, exp.Coalesce | exp.Greatest | exp.Least):
        return is_date(node.this)
    return False


def _days(a: pl.Expr) -> pl.Expr:
    return pl.duration(days=a.floor().cast(pl.Int64))


def _subtract(node: exp.Sub) -> pl.Expr:
    """`a - b`; of two dates, the days between them; a date minus days, a date."""
    _only(node, "this", "expression")
    a, b = _arg(node), _arg(node, "expression")
    if is_date(node.this):
        return (a - b).dt.total_days() if is_date(node.expression) else a - _days(b)
    if is_date(node.expression):
        if not any(node.this.find_all(exp.Column)):  # with a column: it may be a date
            raise ExpressionError(f"{node.sql()[:40]!r}: a number minus a date has no meaning")
        return (a - b).dt.total_days()
    return a - b


def _add(node: exp.Add) -> pl.Expr:
    """`a + b`; a date plus days (either way round), a date."""
    _only(node, "this", "expression")
    a, b = _arg(node), _arg(node, "expression")
    left, right = is_date(node.this), is_date(node.expression)
    if left and right:
        raise ExpressionError(f"{node.sql()[:40]!r}: two dates cannot be added")
    if left:
        return a + _days(b)
    return b + _days(a) if right else a + b


def _compare(op: Callable[[pl.Expr, pl.Expr], pl.Expr]) -> Callable[[exp.Expression], pl.Expr]:
    """A comparison; a date compared with text compares with that text as a date
    (`renewal < '2026-12-31'`)."""

    def handle(node: exp.Expression) -> pl.Expr:
        _only(node, "this", "expression")
        left, right = node.this, node.expression
        a = _date(left, True) if _text_literal(left) and is_date(right) else _arg(node)
        b = (
            _date(right, True)
            if _text_literal(right) and is_date(left)
            else _arg(node, "expression")
        )
        return op(a, b)

    return handle


def _text_literal(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _current_date(node: exp.CurrentDate) -> pl.Expr:
    """CURRENT_DATE: the run's date (`--as-of`, default today), so a rerun is the same."""
    _only(node)
    return pl.lit(_CONTEXT.get().today)


def _anonymous(node: exp.Anonymous) -> pl.Expr:
    """Functions sqlglot does not know by type: only DATE_PART('unit', date)."""
    if node.name.lower() != "date_part":
        raise ExpressionError(_refusal(node))
    args = node.expressions
    if len(args) != 2 or not _text_literal(args[0]):
        raise ExpressionError("DATE_PART takes a unit in quotes and a date: DATE_PART('dow', d)")
    unit = args[0].this.upper()
    if unit not in _DATE_PARTS:
        raise ExpressionError(f"DATE_PART takes {', '.join(_DATE_PARTS).lower()} (got {unit!r})")
    return _DATE_PARTS[unit](_translate(args[1]))


# The functions an expression may call, by the name a scheme writes.
FUNCTIONS = [
    "abs",
    "ceil",
    "ceiling",
    "floor",
    "round",
    "sqrt",
    "exp",
    "ln",
    "log10",
    "power",
    "sign",
    "greatest",
    "least",
    "coalesce",
    "nullif",
    "if",
    "lower",
    "upper",
    "trim",
    "ltrim",
    "rtrim",
    "length",
    "char_length",
    "substring",
    "substr",
    "replace",
    "lpad",
    "rpad",
    "concat",
    "year",
    "month",
    "day",
    "extract",
    "date_part",
    "current_date",
    "cast",
    "try_cast",
]

_NODES: dict[type[exp.Expression], Callable[[Any], pl.Expr]] = {
    exp.Column: _column,
    exp.Literal: _literal,
    exp.Boolean: lambda n: pl.lit(n.this),
    exp.Null: lambda n: pl.lit(None),
    exp.Paren: _unary(lambda a: a),
    exp.Neg: _unary(lambda a: -a),
    exp.Not: _unary(lambda a: ~a),
    exp.Add: _add,
    exp.Sub: _subtract,
    # in floating point (integers would wrap round silently); `* 1.0` rather than a
    # cast, so that text still fails when the plan is typed
    exp.Mul: _binary(lambda a, b: a * pl.lit(1.0) * b),
    exp.Div: _binary(_divide),
    exp.Mod: _remainder,
    exp.EQ: _compare(lambda a, b: a == b),
    exp.NEQ: _compare(lambda a, b: a != b),
    exp.GT: _compare(lambda a, b: a > b),
    exp.GTE: _compare(lambda a, b: a >= b),
    exp.LT: _compare(lambda a, b: a < b),
    exp.LTE: _compare(lambda a, b: a <= b),
    exp.NullSafeEQ: _binary(lambda a, b: a.eq_missing(b)),
    exp.NullSafeNEQ: _binary(lambda a, b: a.ne_missing(b)),
    exp.And: _binary(lambda a, b: a & b),
    exp.Or: _binary(lambda a, b: a | b),
    exp.DPipe: _concat_strict,
    exp.Is: _is,
    exp.In: _in,
    exp.Between: _between,
    exp.Like: _like(insensitive=False),
    exp.ILike: _like(insensitive=True),
    exp.Case: _case,
    exp.If: _if,
    exp.Cast: _cast(strict=True),
    exp.TryCast: _cast(strict=False),
    exp.Abs: _unary(lambda a: a.abs()),
    exp.Ceil: _unary(lambda a: a.ceil()),
    exp.Floor: _unary(lambda a: a.floor()),
    exp.Round: _round,
    exp.Sqrt: _unary(lambda a: a.sqrt().fill_nan(None)),
    exp.Exp: _unary(lambda a: a.exp()),
    exp.Ln: _unary(_ln),
    exp.Log: _log,
    exp.Pow: _binary(lambda a, b: a.cast(pl.Float64).pow(b)),
    exp.Sign: _unary(lambda a: a.sign()),
    exp.Greatest: _horizontal(pl.max_horizontal),
    exp.Least: _horizontal(pl.min_horizontal),
    exp.Coalesce: _coalesce,
    exp.Nullif: _nullif,
    exp.Lower: _unary(lambda a: a.str.to_lowercase()),
    exp.Upper: _unary(lambda a: a.str.to_uppercase()),
    exp.Trim: _trim,
    # Int64: len_chars is a UInt32, and LENGTH(a) - LENGTH(b) wrapped round to 4294967295
    exp.Length: _unary(lambda a: a.str.len_chars().cast(pl.Int64)),
    exp.Substring: _substring,
    exp.Pad: _pad,
    exp.Replace: _replace,
    exp.Concat: _concat,
    exp.Year: _unary(lambda a: a.dt.year()),
    exp.Month: _unary(lambda a: a.dt.month()),
    exp.Day: _unary(lambda a: a.dt.day()),
    exp.Extract: _extract,
    exp.CurrentDate: _current_date,
    exp.Anonymous: _anonymous,
}
