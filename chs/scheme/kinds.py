"""The kind of value a scheme reads from each column (number, integer, date, text,
boolean), so that a CSV is read with that type over the whole file rather than with a
type guessed from its first rows. A declaration (`columns:`) wins; then the column's
role (the id and a map read text, a tiered signal and the value a number, `days_until`
a date); then how an expression uses it (`plan LIKE 'Pro%'` text, `renewal -
CURRENT_DATE` a date, `logins / 30` a number). A column used in two ways must be
declared."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from chs.errors import SchemeError
from chs.scheme.column_types import ColumnKind
from chs.scheme.expression import check_expression
from chs.scheme.model import Scheme

# what a column is read as when it is an argument of these
_TEXT_USES = (
    exp.Lower,
    exp.Upper,
    exp.Trim,
    exp.Length,
    exp.Substring,
    exp.Pad,
    exp.Replace,
    exp.Concat,
    exp.DPipe,
    exp.Like,
    exp.ILike,
)
_DATE_USES = (exp.Year, exp.Month, exp.Day, exp.Extract, exp.CurrentDate)
_BOOLEAN_USES = (exp.And, exp.Or, exp.Not)
_COMPARISONS = (
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.NullSafeEQ,
    exp.NullSafeNEQ,
    exp.In,
    exp.Between,
)
# a column under these is read as the file has it (a cast, a null test, a choice)
_ANY_USES = (exp.Cast, exp.TryCast, exp.Is, exp.Coalesce, exp.Nullif, exp.Case, exp.If)


@dataclass(frozen=True)
class KindUse:
    """A column's kind and what reads it that way, for the message when two disagree."""

    kind: ColumnKind | None  # None: as the file has it
    by: str  # `signal mrr`, `the expression of signal growth`, `segments[0].when`
    where: tuple[str, ...]  # the key path, for the line


def column_kinds(text: str) -> dict[str, ColumnKind | None]:
    """The kind each column of an expression is used as (None: no telling)."""
    kinds: dict[str, ColumnKind | None] = {}
    for column in check_expression(text).find_all(exp.Column):
        kind = _use_kind(column)
        if kinds.get(column.name) is None:
            kinds[column.name] = kind
    return kinds


def _use_kind(column: exp.Column) -> ColumnKind | None:
    node: exp.Expression = column
    parent = column.parent
    while isinstance(parent, exp.Paren):
        node, parent = parent, parent.parent
    if parent is None or isinstance(parent, _ANY_USES):
        return None
    if isinstance(parent, _TEXT_USES):
        return "text"
    if isinstance(parent, _DATE_USES) or _is_date_part(parent):
        return "date"
    if isinstance(parent, _BOOLEAN_USES):
        return "boolean"
    if isinstance(parent, exp.Add | exp.Sub) and _dated_arithmetic(parent):
        return "date"
    if isinstance(parent, _COMPARISONS):
        return _compared_kind(parent, node)
    return "number"


def _dated_arithmetic(node: exp.Expression, depth: int = 0) -> bool:
    """Whether `+`/`-` works on dates: a date beside it (CURRENT_DATE, DATE '...'), or
    it sits in a date's place (`(renewal + 7) - CURRENT_DATE`, `renewal + 7 > DATE
    '2026-12-01'`, `DATE_PART('dow', renewal + 1)`). `renewal - signup` alone tells
    nothing: two numbers subtract too (declare the columns as dates)."""
    if any(_date_value(k) for k in node.iter_expressions()):
        return True
    up = node.parent
    while isinstance(up, exp.Paren):
        up = up.parent
    if up is None or depth > MAX_CLIMB:
        return False
    if isinstance(up, exp.Add | exp.Sub):
        return _dated_arithmetic(up, depth + 1)
    if isinstance(up, _COMPARISONS):
        return any(_date_value(k) for k in up.iter_expressions())
    return isinstance(up, _DATE_USES) or _is_date_part(up)


MAX_CLIMB = 50  # levels of `+`/`-` looked through (an expression is at most 100 deep)


def _date_value(node: exp.Expression) -> bool:
    """CURRENT_DATE, a DATE cast, or text written YYYY-MM-DD."""
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.CurrentDate):
        return True
    if isinstance(node, exp.Cast | exp.TryCast):
        return bool(node.args["to"].this == exp.DataType.Type.DATE)
    return isinstance(node, exp.Literal) and node.is_string and _iso_date(node.this)


def _is_date_part(node: exp.Expression) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.lower() == "date_part"


def _compared_kind(parent: exp.Expression, node: exp.Expression) -> ColumnKind | None:
    """A column compared with a literal takes the literal's kind (text in quotes, a date
    when the text is one written YYYY-MM-DD, or a number); with another column, none."""
    others = [k for k in parent.iter_expressions() if k is not node]
    others += [e for k in others if isinstance(k, exp.Tuple) for e in k.expressions]
    for other in others:
        inner = other.this if isinstance(other, exp.Neg) else other
        if isinstance(inner, exp.Literal):
            if not inner.is_string:
                return "number"
            return "date" if _iso_date(inner.this) else "text"
        if isinstance(inner, exp.Boolean):
            return "boolean"
        if isinstance(inner, exp.CurrentDate) or (
            isinstance(inner, exp.Cast) and inner.args["to"].this == exp.DataType.Type.DATE
        ):
            return "date"
    return None


def _iso_date(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-" and text.replace("-", "").isdigit()


def scheme_uses(scheme: Scheme) -> dict[str, list[KindUse]]:
    """Every column the scheme reads, with each way it is read."""
    uses: dict[str, list[KindUse]] = {}
    path = scheme.signal_path

    def add(column: str, kind: ColumnKind | None, by: str, *where: str) -> None:
        uses.setdefault(column, []).append(KindUse(kind, by, where))

    add(scheme.id, "text", "the id", "id")
    if scheme.value is not None:
        add(scheme.value, "number", "the value", "value")
    if scheme.parent is not None:
        add(scheme.parent, "text", "the parent", "parent")
    for flat in scheme.all_signals():
        sig, by = flat.signal, f"signal {flat.name}"
        if sig.column is not None:
            add(sig.column, "number" if sig.numeric else "text", by, *path(flat.name, "column"))
        elif sig.dated is not None:
            key = "days_until" if sig.days_until else "days_since"
            add(sig.dated, "date", by, *path(flat.name, key))
        else:
            assert sig.expr is not None
            for column, kind in column_kinds(sig.expr).items():
                add(column, kind, f"the expression of {by}", *path(flat.name, "expr"))
    for i, seg in enumerate(scheme.segments or []):
        for column, kind in column_kinds(seg.when or "TRUE").items():
            add(column, kind, f"segments[{i}].when", "segments", str(i), "when")
    for i, alert in enumerate(scheme.alerts):
        for column, kind in column_kinds(alert.when).items():
            add(column, kind, f"alerts[{i}].when", "alerts", str(i), "when")
    return uses


def read_kinds(scheme: Scheme, columns: list[str] | None = None) -> dict[str, ColumnKind | None]:
    """The kind to read each column the scheme reads or declares as (of the file's
    `columns`, if given); a column read two ways and not declared is a SchemeError
    naming both."""
    declared = scheme.columns or {}
    uses = scheme_uses(scheme)
    for column, how in declared.items():
        _check_declaration(scheme, column, how.type, uses.get(column, []))
    kinds: dict[str, ColumnKind | None] = {
        c: t.type for c, t in declared.items() if columns is None or c in columns
    }
    for column, used in uses.items():
        if column in kinds or (columns is not None and column not in columns):
            continue
        known = [u for u in used if u.kind is not None]
        numbers = {"number", "integer"}
        clash = next((u for u in known if u.kind != known[0].kind), None)
        if clash is not None and not {known[0].kind, clash.kind} <= numbers:
            first = known[0]
            raise SchemeError(
                f"{scheme.where(*first.where)}: column {column!r} is read as {first.kind} "
                f"({first.by}) and as {clash.kind} ({clash.by}); declare how to read it: "
                f"columns: {{{column}: {{type: ...}}}}"
            )
        kinds[column] = known[0].kind if known else None
    return kinds


# what a declared type may be where the column has a role: a tiered signal reads numbers
# (a boolean as 0 or 1), a map text (numbers and booleans written as text), the id and
# the parent text, `days_until` dates
_ROLE_FITS: dict[str, tuple[ColumnKind, ...]] = {
    "number": ("number", "integer", "boolean"),
    "text": ("text", "integer", "boolean"),
    "date": ("date",),
}
_ROLES = ("column", "days_until", "days_since", "id", "value", "parent")


def _check_declaration(
    scheme: Scheme, column: str, declared: ColumnKind, uses: list[KindUse]
) -> None:
    """A declared type that the column's role cannot read is a SchemeError at the
    declaration's line: `{type: number}` on a `days_until` column would read no date."""
    for use in uses:
        if use.where[-1] not in _ROLES or use.kind is None:
            continue
        fits = ("text",) if use.where[-1] in ("id", "parent") else _ROLE_FITS[use.kind]
        if declared not in fits:
            raise SchemeError(
                f"{scheme.where('columns', column)}: columns.{column}: declared {declared}, "
                f"but {use.by} reads it as {use.kind}"
                + (f" ({' or '.join(fits)})" if len(fits) > 1 else "")
            )


def alert_only_columns(scheme: Scheme) -> set[str]:
    """The columns only alert conditions read: a cell there that does not parse reads
    null (the alert does not fire) rather than reject the row."""
    return {
        column
        for column, uses in scheme_uses(scheme).items()
        if all(u.where[:1] == ("alerts",) for u in uses)
    }
