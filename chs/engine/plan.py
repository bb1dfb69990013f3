"""The scoring plan over one input: the whole file's checks (columns, ids, types), each
definition compiled under its prefix, segment routing, and the accept/reject split."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

from chs.columns import (
    ALERT_FLAG,
    ALERTS_COLUMN,
    AS_OF,
    DEFINITION,
    ID_HASH,
    KEY,
    MOVEMENT_COLUMNS,
    OK,
    REASON,
    REJECT_COLUMNS,
    ROUTE,
    ROW,
    ROW_NUMBER,
    STREAK,
    WORK,
    group_column,
    internal,
    is_internal,
    points_column,
)
from chs.engine.definition import CompiledDefinition, compile_definition, route_segments
from chs.engine.parsing import ColumnReader, parse_problem, parse_text
from chs.engine.values import require_column
from chs.errors import OPTION, DataError, SchemeError, polars_gist
from chs.exprs import first_match, id_hash, value_or_null, with_id_key
from chs.scheme import TREND_COLUMN, Scheme, parse_sql_expr
from chs.scheme.column_types import ColumnKind
from chs.scheme.kinds import alert_only_columns, read_kinds


@dataclass
class ScoringPlan:
    """Lazy frames over the input: every row checked, the accepted and the rejected ones.

    `accepted` keeps the engine's working columns; `finish` turns any subset of accepted
    rows into output rows. `rejected` is as written to a rejects file.
    """

    accepted: pl.LazyFrame
    rejected: pl.LazyFrame  # ROW, REASON, then the input's `columns`
    reason: pl.Expr  # why a row is rejected, over `checked`
    output: list[pl.Expr]
    columns: list[str]  # the input's columns a rejected row shows (not chs's `row`, `reason`)
    checked: pl.LazyFrame  # every row, with the OK flag
    value: pl.Expr | None  # the value column as a number, over accepted/checked rows
    id_column: str
    value_column: str | None
    signal_columns: list[str]
    group_columns: list[str]
    warnings: list[str] = field(default_factory=list)
    # definition name -> (its scheme, its column prefix); one entry unless segmented
    definitions: dict[str, tuple[Scheme, str]] = field(default_factory=dict)
    extras: list[tuple[str, Scheme]] = field(default_factory=list)  # extra scores
    # The reasons text, and the working columns it is made from: a summary keeps these
    # (a few integers a row) and writes the text only for the rows it lists.
    reasons: pl.Expr = field(default_factory=lambda: pl.col("reasons"))
    working: list[str] = field(default_factory=list)
    segmented: bool = False  # rows are routed to segments (the ROUTE column)

    def finish(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """Output rows (input columns, points, score, band, reasons…) for accepted rows."""
        return frame.select(self.output)

    def split(
        self,
        lookup: pl.LazyFrame | None = None,
        key: str = KEY,
        *,
        carry: list[str] | None = None,
        ordered: bool = False,
    ) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
        """(output rows followed by the `working` columns, rejected rows as written,
        every row), all from one cached evaluation of every row: collected together,
        with any number of sinks on each, the rows are scored once. (Left to itself,
        Polars' common-subplan elimination computes the scoring twice when three sinks
        hang off the two sides of the accept/reject filter.)

        `lookup`: columns per customer (by `key`, the trimmed id text), such as the
        previous score, joined here, before the rows split: a join downstream of the
        split made Polars hold gigabytes. Its columns (or those of `carry`) follow the
        working columns; an input column of the same name (`previous_score`) gives way
        to the lookup's, which is joined under a working name so that the row's own
        checks still read the input's.

        `ordered`: the lookup is in key order, and the rows are taken to be: the join then
        merges the two as they stream, holding no table (a hash join of 10 million
        customers holds about 0.8 GB). Rows out of order only miss their match, keeping
        their place: the caller checks the order in the same pass and, if the rows were
        not in it, runs again unordered."""
        exprs = [*self.output, *[pl.col(c) for c in self.working]]
        rows = self.checked
        if lookup is not None:
            names = [c for c in lookup.collect_schema().names() if c != key]
            joined = {c: c if is_internal(c) else internal("lookup", c) for c in names}
            exprs = [e for e in exprs if e.meta.output_name() not in joined]
            exprs += [pl.col(joined[c]).alias(c) for c in (names if carry is None else carry)]
            rows = _joined(
                rows, lookup.rename({c: w for c, w in joined.items() if c != w}), key, ordered
            )
        names = [e.meta.output_name() for e in exprs]
        slot = [internal("out", str(i)) for i in range(len(exprs))]
        evaluated = rows.with_columns([e.alias(s) for e, s in zip(exprs, slot, strict=True)])
        evaluated = evaluated.cache()
        scored = evaluated.filter(pl.col(OK)).select(
            [pl.col(s).alias(n) for s, n in zip(slot, names, strict=True)]
        )
        return scored, self.rejected_rows(evaluated), evaluated

    def rejected_rows(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        """The rejected ones of checked `rows`, as written to --rejects: `row`, `reason`,
        then the input's columns (any of its own named `row` or `reason` give way)."""
        return rows.filter(~pl.col(OK)).select(
            pl.col(ROW_NUMBER).alias(ROW), self.reason.alias(REASON), *self.columns
        )

    @property
    def scored(self) -> pl.LazyFrame:
        return self.finish(self.accepted)

    @property
    def rejects(self) -> pl.LazyFrame:
        """Rejected rows as written to --rejects: row, reason, then the input's columns."""
        return self.rejected


def _joined(rows: pl.LazyFrame, lookup: pl.LazyFrame, key: str, ordered: bool) -> pl.LazyFrame:
    """`rows` left-joined to `lookup` on KEY, in the rows' order; `ordered`: merged, the
    sorted flag set on a copy of each key that only the join reads (a flag that lies
    would mislead any other operation that trusts it)."""
    if not ordered:
        return rows.join(lookup, left_on=KEY, right_on=key, how="left", maintain_order="left")
    merge = internal("merge")
    # The row number, passed through unchanged, makes Polars hash-join once the
    # input's schema has been asked for (Polars 2.1); computed anew, it merges.
    rows = rows.with_columns(pl.col(KEY).set_sorted().alias(merge), pl.col(ROW_NUMBER) + 0)
    lookup = lookup.with_columns(pl.col(key).set_sorted().alias(merge)).drop(key)
    return rows.join(lookup, on=merge, how="left", maintain_order="left").drop(merge)


Problem = tuple[pl.Expr, pl.Expr]
"""A (flag, message) pair: flags are cheap booleans computed on every row; messages are
formatted only for the rows that are rejected."""


@dataclass(frozen=True)
class Reading:
    """What the stages of a plan share: the scheme, the input's columns and their types,
    and how its cells are read (`reader`, completed by `typed_reading`)."""

    scheme: Scheme
    source: str
    schema: Mapping[str, pl.DataType]
    reader: ColumnReader

    @property
    def columns(self) -> list[str]:
        return list(self.schema)


@dataclass(frozen=True)
class Definitions:
    """The compiled definitions: the scheme's (one, or a segment each), the extra scores,
    and the one whose columns the output shows (the segments routed)."""

    compiled: list[CompiledDefinition]
    extras: list[CompiledDefinition]
    primary: CompiledDefinition
    segmented: bool


def build_plan(
    lf: pl.LazyFrame,
    scheme: Scheme,
    *,
    source: str,
    keep: list[str] | None = None,
    decimal_comma: bool = False,
    as_of: dt.date | None = None,
    first_row: int = 1,
    extra: list[tuple[str, Scheme]] | None = None,
    duplicates: list[str] | None = None,
    added: Sequence[str] = (),
) -> ScoringPlan:
    """Check the columns against the scheme and build the lazy scoring plan.

    `keep` selects the input columns carried to the output (default: all of them).
    `as_of`: the run's date (CURRENT_DATE, `days_until`; default today). `first_row`:
    the number of the first row (2 in an Excel sheet, under its header). `extra`:
    more scores (name, scheme) computed beside the main one, under `<name>_`.
    `duplicates`: the duplicated ids, found beforehand, so that the plan streams;
    without it they are found by a group-by joined back. `added`: the columns the caller
    adds to the output rows (`columns.run_columns`: as_of, movement, trends).

    An input column named like a column chs writes beside it (in the output rows, or
    `row` and `reason` in the rejected rows) gives way to chs's, with a warning; one
    named like a working column is an error.
    Raises DataError for problems that concern the whole file (a missing column, a
    wrong type); row-level problems become reject reasons.
    """
    rd = reading(lf, scheme, source, ColumnReader(decimal_comma, scheme.columns or {}, as_of))
    check_columns(rd)
    asked = asked_columns(rd, keep)
    lf = with_ids(lf, scheme, duplicates, first_row)
    problems = id_problems(scheme)
    lf, value_number, found = value_number_column(lf, rd)
    problems += found
    rd, restored, found = typed_reading(rd, value_number, extra or [])
    problems += found
    lf, compiled, extras, found = compile_definitions(lf, rd, extra or [])
    problems += found
    if scheme.segments is not None:
        lf, primary, found = routed_definition(lf, rd, compiled)
    else:
        primary, found = compiled[0], compiled[0].problems
    problems += found
    defs = Definitions(compiled, extras, primary, scheme.segments is not None)
    written = [*output_columns(rd, [], restored, defs), *[pl.lit(None).alias(c) for c in added]]
    if scheme.alerts:
        written.append(pl.lit(None).alias(ALERTS_COLUMN))
    names = [e.meta.output_name() for e in written]
    carried, clashes = carried_columns(rd, asked, names, kept=keep or [])
    return assemble_plan(lf, rd, carried, restored, defs, problems, clashes)


def reading(lf: pl.LazyFrame, scheme: Scheme, source: str, reader: ColumnReader) -> Reading:
    """What the stages share. An input column named like a working column (which no
    export has, see chs/columns.py) is an error: it would be taken for chs's."""
    schema = lf.collect_schema()
    schema = pl.Schema({c: t for c, t in schema.items() if c != ROW_NUMBER})
    names = schema.names()
    reserved = [c for c in names if is_internal(c)]
    if reserved:
        raise DataError(
            f"{source}: column {reserved[0]!r} is named like chs's working columns "
            f"(which start with {WORK!r} or {ALERT_FLAG!r}); rename it"
        )
    return Reading(scheme, source, dict(schema), reader)


def check_columns(rd: Reading) -> None:
    """The id, value and parent the scheme names are in the file."""
    scheme = rd.scheme
    require_column(scheme.id, "the scheme's id", rd.columns, rd.source)
    if scheme.value is not None:
        require_column(scheme.value, "the scheme's value", rd.columns, rd.source)
    if scheme.parent is not None:
        require_column(scheme.parent, "the scheme's parent", rd.columns, rd.source)


def asked_columns(rd: Reading, keep: list[str] | None) -> list[str]:
    """The input columns asked for in the output (all, or the scheme's and `keep`). The
    id goes first: a scored file read back without its scheme finds its id there."""
    scheme, columns, source = rd.scheme, rd.columns, rd.source
    fixed = [scheme.id] + [c for c in (scheme.value, scheme.parent) if c is not None]
    asked = list(dict.fromkeys([scheme.id, *(columns if keep is None else [*fixed, *keep])]))
    for name in asked:
        require_column(name, f"asked for with {OPTION}", columns, source, option="keep")
    return asked


def carried_columns(
    rd: Reading, asked: list[str], written: list[str], *, kept: Sequence[str] = ()
) -> tuple[list[str], list[str]]:
    """The asked input columns the output carries, and one warning for those a column chs
    writes replaces and for those a rescore drops (`stale_columns`), one for `row` and
    `reason` in the rejected rows. The scheme's id, value and parent cannot give way: a
    clash there is a SchemeError. `kept`: the columns asked for by name (`--keep`)."""
    scheme, source = rd.scheme, rd.source
    for key in ("id", "value", "parent"):
        name = getattr(scheme, key)
        if name is not None and (name in written or name in REJECT_COLUMNS):
            raise SchemeError(
                f"{scheme.where(key)}: {key}: the column {name!r} is named like a column "
                "chs writes; rename it (in the file and the scheme)"
            )
    clashing = [c for c in asked if c in written]
    stale = [c for c in stale_columns(rd.columns, written) if c in asked and c not in kept]
    warnings = []
    if clashing or stale:
        replaced = f"{', '.join(clashing)} are replaced by the scored values" if clashing else ""
        dropped = f"{', '.join(stale)} ({_STALE}) are dropped" if stale else ""
        joined = f"{replaced}, and {dropped}" if clashing and stale else replaced or dropped
        warnings.append(f"{source}: input columns {joined}")
    shadowed = [c for c in REJECT_COLUMNS if c in rd.columns]
    if shadowed:
        warnings.append(
            f"{source}: input columns {', '.join(shadowed)} are replaced in the rejected "
            "rows by chs's row number and reason"
        )
    return [c for c in asked if c not in clashing and c not in stale], warnings


_STALE = "written by an earlier run, not by this one"
# What a scored file is known by: columns every chs output has, and no export.
_SCORED = ("score", "band", "scheme_hash")
_RUN_COLUMNS = (AS_OF, *MOVEMENT_COLUMNS, STREAK, ALERTS_COLUMN, DEFINITION)
_PER_SIGNAL = ("points_", "group_")


def stale_columns(columns: list[str], written: list[str]) -> list[str]:
    """In a scored file scored again, the columns an earlier run wrote that this one does
    not (its date, movement, trends, alerts, segment, the points of other signals):
    carried, they would sit beside the new scores as if they were this run's."""
    if not all(c in columns for c in _SCORED):
        return []  # not a scored file: a column of these names is the export's own
    return [
        c
        for c in columns
        if c not in written
        and (c in _RUN_COLUMNS or TREND_COLUMN.match(c) or c.startswith(_PER_SIGNAL))
    ]


REPEATED = internal("dup")  # the row's id occurs more than once
VALUE_TEXT = internal("value_text")  # the value column's text, trimmed


def with_ids(
    lf: pl.LazyFrame, scheme: Scheme, duplicates: list[str] | None, first_row: int = 1
) -> pl.LazyFrame:
    """Row numbers (from `first_row`), and the id trimmed once: the checks read it, and
    its hash travels with the scored rows so that the caller can look for repeats after
    a streaming pass."""
    if ROW_NUMBER not in lf.collect_schema():  # an Excel sheet's rows come numbered
        lf = lf.with_row_index(ROW_NUMBER, offset=first_row)
    lf = with_id_key(lf, scheme.id, KEY).with_columns(id_hash(pl.col(KEY)).alias(ID_HASH))
    id_text = pl.col(KEY)
    if duplicates is not None:
        repeated = id_text.is_in(duplicates) if duplicates else pl.lit(False)
        return lf.with_columns(repeated.alias(REPEATED))
    # a group-by joined back, not a window over the whole column
    count = internal("n")
    dups = (
        lf.group_by(KEY)
        .agg(pl.len().alias(count))
        .filter(pl.col(count) > 1)
        .select(KEY, pl.lit(True).alias(REPEATED))
    )
    return lf.join(dups, on=KEY, how="left", maintain_order="left", nulls_equal=False)


def id_problems(scheme: Scheme) -> list[Problem]:
    """An empty id, and an id that occurs more than once."""
    id_text = pl.col(KEY)
    return [
        (id_text.is_null(), pl.lit(f"empty {scheme.id}")),
        (
            id_text.is_not_null() & pl.col(REPEATED).fill_null(False),
            pl.format(f"duplicate {scheme.id} '{{}}'", id_text),
        ),
    ]


def value_number_column(
    lf: pl.LazyFrame, rd: Reading
) -> tuple[pl.LazyFrame, pl.Expr | None, list[Problem]]:
    """The value column written as text, parsed as it is declared (None when it is not
    text); the text is kept for the reject message."""
    value = rd.scheme.value
    if value is None or rd.schema[value] != pl.String:
        return lf, None, []
    lf = lf.with_columns(rd.reader.present(value, pl.col(value), "number").alias(VALUE_TEXT))
    text = pl.col(VALUE_TEXT)
    number = rd.reader.number(value, text)
    problem = (
        text.is_not_null() & number.is_null(),
        pl.concat_str(
            pl.lit(f"{value}: '"),
            text,
            pl.lit("' is not a number (the value column)"),
            rd.reader.hint(value, text, "number"),
        ),
    )
    return lf, number, [problem]


def typed_reading(
    rd: Reading, value_number: pl.Expr | None, extra: list[tuple[str, Scheme]]
) -> tuple[Reading, dict[str, pl.Expr], list[Problem]]:
    """Columns held as text that the scheme reads as numbers, dates or booleans (in an
    expression, a segment or alert condition) or declares: parsed to that kind, for
    the expressions (`reader.typed`) and for the output (the `restored` columns), so a
    scored Parquet keeps dates as dates and alerts read numbers. A cell that does not
    parse is its row's problem (a signal's own column and the value have their own
    check; a column only alerts read is null there), so a scored row never holds one:
    the output has the parsed values, of one type whatever the month's file holds."""
    scheme, reader = rd.scheme, rd.reader
    schemes = [scheme, *(s for _, s in extra)]
    kinds: dict[str, ColumnKind | None] = {}
    for each in schemes:
        for column, kind in read_kinds(each, rd.columns).items():
            kinds.setdefault(column, kind)
    checked = {f.signal.read_column for s in schemes for f in s.all_signals()} | {scheme.value}
    checked |= alert_only_columns(scheme)  # an alert does not reject a row: null there
    restored = {} if value_number is None else {str(scheme.value): value_number}
    typed: dict[str, pl.Expr] = {}
    dates = {c for c, t in rd.schema.items() if t == pl.Date}
    problems: list[Problem] = []
    for column, kind in kinds.items():
        if kind is None or kind == "text" or column == scheme.id:
            continue
        dates |= {column} if kind == "date" else set()
        if rd.schema[column] != pl.String:
            continue
        declared = reader.declared.get(column)
        typed[column] = parse_text(pl.col(column), kind, declared, reader.decimal_comma)
        restored.setdefault(column, typed[column])
        if column not in checked:
            origin = "as declared in columns:" if declared else "read by an expression"
            problem = parse_problem(column, kind, declared, reader.decimal_comma, origin)
            problems += [problem] if problem is not None else []
    reader = replace(reader, typed=typed, dates=frozenset(dates))
    return replace(rd, reader=reader), restored, problems


def compile_definitions(
    lf: pl.LazyFrame, rd: Reading, extra: list[tuple[str, Scheme]]
) -> tuple[pl.LazyFrame, list[CompiledDefinition], list[CompiledDefinition], list[Problem]]:
    """Each definition (the scheme, or each of its segments) and each extra score compiled
    under a prefix, over the same rows; an extra score's problems reject the row."""
    scheme, columns, source, reader = rd.scheme, rd.columns, rd.source, rd.reader
    segmented = scheme.segments is not None
    compiled: list[CompiledDefinition] = []
    for i, (name, d) in enumerate(scheme.definitions()):
        prefix = f"__seg{i}_" if segmented else ""
        lf, comp = compile_definition(lf, d, prefix, name, columns, source, reader, scheme)
        compiled.append(comp)
    extras: list[CompiledDefinition] = []
    problems: list[Problem] = []
    for name, d in [*scheme.extra_scores(), *extra]:
        lf, comp = compile_definition(lf, d, extra_prefix(name), name, columns, source, reader, d)
        extras.append(comp)
        problems += comp.problems
        problems.append(
            (
                pl.col(internal("score", prefix=comp.prefix)).is_null(),
                pl.lit(f"{name}: no signal has a value"),
            )
        )
    return lf, compiled, extras, problems


def extra_prefix(name: str) -> str:
    """The prefix of an extra score's columns and working columns (`inertia_score`)."""
    return f"{name}_"


def routed_definition(
    lf: pl.LazyFrame, rd: Reading, compiled: list[CompiledDefinition]
) -> tuple[pl.LazyFrame, CompiledDefinition, list[Problem]]:
    """Each row routed to the first segment whose condition holds (ROUTE), and the
    segments' columns combined; a segment's problems count on its own rows only."""
    lf = with_route(lf, rd)
    routed = pl.col(ROUTE)
    problems = [
        (flag & (routed == comp.name), message)
        for comp in compiled
        for flag, message in comp.problems
    ]
    problems.append(
        (routed.is_null(), pl.lit("no segment matches (give the last segment no `when`)"))
    )
    primary = route_segments(compiled, routed)
    return lf.with_columns(primary.materialise), primary, problems


def with_route(lf: pl.LazyFrame, rd: Reading) -> pl.LazyFrame:
    """The ROUTE column (`definition` as written). Conditions see columns with their
    real types: a CSV column the scheme also reads is held as text here (for row-level
    checks), so they read its typed copy (`typed_reading`)."""
    segments = rd.scheme.segments
    assert segments is not None
    conditions = [
        (rd.reader.expression(seg.when).fill_null(False) if seg.when else pl.lit(True))
        for seg in segments
    ]
    route = first_match(
        (cond, pl.lit(seg.name)) for cond, seg in zip(conditions, segments, strict=True)
    )
    roots = {c for seg in segments if seg.when for c in parse_sql_expr(seg.when).meta.root_names()}
    for name in roots:
        require_column(name, "used by a segment condition", rd.columns, rd.source)
    try:
        lf = lf.with_columns(route.alias(ROUTE))
        lf.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise SchemeError(
            f"{rd.scheme.where('segments')}: a segment condition cannot be evaluated on "
            f"{rd.source}: {polars_gist(exc)}"
        ) from None
    return lf


def reject_reason(problems: list[Problem]) -> pl.Expr:
    """Every problem of a row, in order; a row with none was rejected for its score."""
    found = pl.concat_str(
        [pl.when(flag).then(message) for flag, message in problems],
        separator="; ",
        ignore_nulls=True,
    )
    return pl.when(found != "").then(found).otherwise(pl.lit("no signal has a value"))


def output_columns(
    rd: Reading, carried: list[str], restored: dict[str, pl.Expr], defs: Definitions
) -> list[pl.Expr]:
    """Carried input columns (typed back), the score's columns, any route and extra
    scores, and the scheme's identity."""
    return [
        *[restored[c].alias(c) if c in restored else pl.col(c) for c in carried],
        *defs.primary.outputs(""),
        *([pl.col(ROUTE).alias(DEFINITION)] if defs.segmented else []),
        *[e for comp in defs.extras for e in comp.outputs(comp.prefix)],
        pl.lit(rd.scheme.name).alias("scheme"),
        pl.lit(rd.scheme.digest).alias("scheme_hash"),
    ]


def assemble_plan(
    lf: pl.LazyFrame,
    rd: Reading,
    carried: list[str],
    restored: dict[str, pl.Expr],
    defs: Definitions,
    problems: list[Problem],
    warnings: list[str],
) -> ScoringPlan:
    """Every row flagged OK or not, the accept/reject sides, and the output columns."""
    scheme, primary = rd.scheme, defs.primary
    reason = reject_reason(problems)
    checked = lf.with_columns(
        (
            ~pl.any_horizontal([flag for flag, _ in problems])
            & pl.col(internal("score")).is_not_null()
        ).alias(OK),
    )
    output = output_columns(rd, carried, restored, defs)
    value = (
        None if scheme.value is None else restored.get(scheme.value, value_or_null(scheme.value))
    )
    outputs = {e.meta.output_name() for e in output}
    shown = [c for c in rd.columns if c not in REJECT_COLUMNS]
    return ScoringPlan(
        accepted=checked.filter(pl.col(OK)),
        rejected=checked.filter(~pl.col(OK)).select(
            pl.col(ROW_NUMBER).alias(ROW), reason.alias(REASON), *shown
        ),
        reason=reason,
        output=output,
        columns=shown,
        checked=checked,
        value=value,
        id_column=scheme.id,
        value_column=scheme.value if scheme.value in carried else None,
        signal_columns=[points_column(f.name) for f in primary.flats],
        group_columns=[group_column(g) for g in primary.groups],
        warnings=warnings,
        definitions={c.name: (c.scheme, c.prefix) for c in defs.compiled},
        extras=[(c.name, c.scheme) for c in defs.extras],
        reasons=primary.reasons,
        segmented=defs.segmented,
        working=[
            c
            for c in dict.fromkeys([*primary.reasons.meta.root_names(), ID_HASH])
            if c not in outputs
        ],
    )


def score_frame(
    frame: pl.DataFrame | pl.LazyFrame,
    scheme: Scheme,
    *,
    keep: list[str] | None = None,
    as_of: dt.date | None = None,
    decimal_comma: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Score an in-memory frame: (scored rows, rejected rows with `row` and `reason`).

    For notebooks and tests; files go through `score`, which streams.
    """
    plan = build_plan(
        frame.lazy(),
        scheme,
        source="<frame>",
        keep=keep,
        as_of=as_of,
        decimal_comma=decimal_comma,
    )
    scored, rejects = pl.collect_all([plan.scored, plan.rejects])
    return scored, rejects
