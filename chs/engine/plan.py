"""The scoring plan over one input: the whole file's checks (columns, ids, types), each
definition compiled under its prefix, segment routing, and the accept/reject split."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from chs.columns import (
    DEFINITION,
    ID_HASH,
    ID_TEXT,
    OK,
    REASON,
    ROW,
    SCORE_COLUMNS,
    group_column,
    internal,
    points_column,
)
from chs.engine.definition import CompiledDefinition, compile_definition, route_segments
from chs.engine.values import require_column
from chs.errors import DataError
from chs.exprs import id_hash, id_key
from chs.scheme import Scheme, parse_sql_expr


@dataclass
class ScoringPlan:
    """Lazy frames over the input: every row checked, the accepted and the rejected ones.

    `accepted` and `rejected` keep the engine's working columns; `finish` turns any
    subset of accepted rows into output rows.
    """

    accepted: pl.LazyFrame
    rejected: pl.LazyFrame  # with the REASON column
    reason: pl.Expr  # why a row is rejected, over `checked`
    output: list[pl.Expr]
    columns: list[str]  # the input's columns
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

    def finish(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """Output rows (input columns, points, score, band, reasons…) for accepted rows."""
        return frame.select(self.output)

    def split(
        self,
        lookup: pl.LazyFrame | None = None,
        key: str = "__key",
        *,
        carry: list[str] | None = None,
    ) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.LazyFrame]:
        """(output rows followed by the `working` columns, rejected rows with REASON and
        the input's columns, every row), all from one cached evaluation of every row:
        collected together, with any number of sinks on each, the rows are scored once.
        (Left to itself, Polars' common-subplan elimination computes the scoring twice
        when three sinks hang off the two sides of the accept/reject filter.)

        `lookup`: columns per customer (by `key`, the trimmed id text), such as the
        previous score, joined here, before the rows split: a join downstream of the
        split made Polars hold gigabytes. Its columns (or those of `carry`) follow the
        working columns."""
        exprs = [*self.output, *[pl.col(c) for c in self.working]]
        rows = self.checked
        if lookup is not None:
            names = [c for c in lookup.collect_schema().names() if c != key]
            exprs += [pl.col(c) for c in (names if carry is None else carry)]
            rows = rows.join(
                lookup, left_on=ID_TEXT, right_on=key, how="left", maintain_order="left"
            )
        names = [e.meta.output_name() for e in exprs]
        evaluated = rows.with_columns([e.alias(f"__out_{i}") for i, e in enumerate(exprs)]).cache()
        scored = evaluated.filter(pl.col(OK)).select(
            [pl.col(f"__out_{i}").alias(n) for i, n in enumerate(names)]
        )
        rejected = evaluated.filter(~pl.col(OK)).select(
            ROW, self.reason.alias(REASON), *self.columns
        )
        return scored, rejected, evaluated

    @property
    def scored(self) -> pl.LazyFrame:
        return self.finish(self.accepted)

    @property
    def rejects(self) -> pl.LazyFrame:
        """Rejected rows as written to --rejects: row, reason, then the input's columns."""
        return self.rejected.select(ROW, REASON, *self.columns)


def build_plan(
    lf: pl.LazyFrame,
    scheme: Scheme,
    *,
    source: str,
    keep: list[str] | None = None,
    decimal_comma: bool = False,
    inferred: dict[str, pl.DataType] | None = None,
    extra: list[tuple[str, Scheme]] | None = None,
    duplicates: list[str] | None = None,
) -> ScoringPlan:
    """Check the columns against the scheme and build the lazy scoring plan.

    `keep` selects the input columns carried to the output (default: all of them).
    `inferred` gives the types of columns read as text from a CSV; they are restored in
    the output (but for the id, kept as text so that `00123` stays `00123`). `extra`:
    more scores (name, scheme) computed beside the main one, under `<name>_`.
    `duplicates`: the duplicated ids, found beforehand, so that the plan streams;
    without it they are found by a group-by joined back.
    Raises DataError for problems that concern the whole file (a missing column, a
    wrong type); row-level problems become reject reasons.
    """
    columns = lf.collect_schema().names()
    warnings: list[str] = []
    require_column(scheme.id, "the scheme's id", columns, source)
    if scheme.value is not None:
        require_column(scheme.value, "the scheme's value", columns, source)
    if scheme.parent is not None:
        require_column(scheme.parent, "the scheme's parent", columns, source)
    fixed = [scheme.id] + [c for c in (scheme.value, scheme.parent) if c is not None]
    # The id goes first: a scored file read back without its scheme finds its id there.
    carried = list(dict.fromkeys([scheme.id, *(columns if keep is None else [*fixed, *keep])]))
    for name in carried:
        require_column(name, "asked for with --keep", columns, source)
    produced = {
        *[points_column(f.name) for f in scheme.all_signals()],
        *[group_column(g) for _, d in scheme.definitions() for g in (d.groups or {})],
        *SCORE_COLUMNS,
        DEFINITION,
    }
    clashing = [c for c in carried if c in produced and c != scheme.id]
    if clashing:
        warnings.append(
            f"{source}: input columns {', '.join(clashing)} are replaced by the scored values"
        )
        carried = [c for c in carried if c not in clashing]

    # The id, trimmed, once: the checks read it, and its hash travels with the scored
    # rows so that the caller can look for repeats after a streaming pass.
    lf = (
        lf.with_row_index(ROW, offset=1)
        .with_columns(id_key(scheme.id).alias(ID_TEXT))
        .with_columns(id_hash(pl.col(ID_TEXT)).alias(ID_HASH))
    )
    id_text = pl.col(ID_TEXT)
    if duplicates is not None:
        repeated = id_text.is_in(duplicates) if duplicates else pl.lit(False)
        lf = lf.with_columns(repeated.alias("__dup"))
    else:
        # a group-by joined back, not a window over the whole column
        dups = (
            lf.group_by(ID_TEXT)
            .agg(pl.len().alias("__n"))
            .filter(pl.col("__n") > 1)
            .select(ID_TEXT, pl.lit(True).alias("__dup"))
        )
        lf = lf.join(dups, on=ID_TEXT, how="left", maintain_order="left", nulls_equal=False)
    # A problem is a (flag, message) pair: flags are cheap booleans computed on every row;
    # messages are formatted only for the rows that are rejected.
    problems: list[tuple[pl.Expr, pl.Expr]] = [
        (id_text.is_null(), pl.lit(f"empty {scheme.id}")),
        (
            id_text.is_not_null() & pl.col("__dup").fill_null(False),
            pl.format(f"duplicate {scheme.id} '{{}}'", id_text),
        ),
    ]

    if scheme.value is not None and lf.collect_schema()[scheme.value] == pl.String:
        # Parse revenue written as text; keep the text for the reject message.
        lf = lf.with_columns(pl.col(scheme.value).str.strip_chars().alias("__value_text"))
        text = pl.when(pl.col("__value_text") != "").then(pl.col("__value_text"))
        number = (text.str.replace_all(",", ".", literal=True) if decimal_comma else text).cast(
            pl.Float64, strict=False
        )
        problems.append(
            (
                text.is_not_null() & number.is_null(),
                pl.format(f"{scheme.value}: '{{}}' is not a number (the value column)", text),
            )
        )
        value_number: pl.Expr | None = number
    else:
        value_number = None

    restored: dict[str, pl.Expr] = {} if value_number is None else {scheme.value: value_number}  # type: ignore[dict-item]
    for name, dtype in (inferred or {}).items():
        if name in (scheme.id, scheme.value):
            continue
        text = pl.col(name).str.strip_chars()
        number = text.str.replace_all(",", ".", literal=True) if decimal_comma else text
        back = number.cast(dtype, strict=False)
        restored[name] = back
        problems.append(
            (
                text.is_not_null()
                & back.is_null()
                & number.cast(pl.Float64, strict=False).is_not_null(),
                pl.format(
                    f"{name}: '{{}}' is not of the column's type {dtype} (inferred from its first rows)",
                    text,
                ),
            )
        )

    # Each definition (the scheme, or each of its segments) and each extra score is
    # compiled under a prefix, over the same rows.
    definitions = scheme.definitions()
    segmented = scheme.segments is not None
    compiled: list[CompiledDefinition] = []
    for i, (name, d) in enumerate(definitions):
        lf, comp = compile_definition(
            lf, d, f"__seg{i}_" if segmented else "", name, columns, source, decimal_comma
        )
        compiled.append(comp)
    extras: list[CompiledDefinition] = []
    for name, d in [*scheme.extra_scores(), *(extra or [])]:
        lf, comp = compile_definition(lf, d, f"{name}_", name, columns, source, decimal_comma)
        extras.append(comp)
        problems += comp.problems
        problems.append(
            (
                pl.col(internal("score", prefix=comp.prefix)).is_null(),
                pl.lit(f"{name}: no signal has a value"),
            )
        )

    if segmented:
        assert scheme.segments is not None
        route = None
        for seg in scheme.segments:
            cond = parse_sql_expr(seg.when).fill_null(False) if seg.when else pl.lit(True)
            route = (
                pl.when(cond).then(pl.lit(seg.name))
                if route is None
                else route.when(cond).then(pl.lit(seg.name))
            )  # type: ignore[attr-defined]
        # Conditions see columns with their real types: a CSV column the scheme also reads
        # is held as text here (for row-level checks), so its typed copy is used.
        roots = {
            c
            for seg in scheme.segments
            if seg.when
            for c in parse_sql_expr(seg.when).meta.root_names()
        }
        for name in roots:
            require_column(name, "used by a segment condition", columns, source)
        swap = sorted(c for c in roots if c in restored)
        try:
            lf = (
                lf.with_columns([pl.col(c).alias(f"__text_{c}") for c in swap])
                .with_columns([restored[c].alias(c) for c in swap])
                .with_columns(route.alias(DEFINITION))  # type: ignore[union-attr]
                .with_columns([pl.col(f"__text_{c}").alias(c) for c in swap])
                .drop([f"__text_{c}" for c in swap])
            )
            lf.collect_schema()
        except pl.exceptions.PolarsError as exc:
            raise DataError(f"{source}: a segment condition cannot be evaluated: {exc}") from None
        routed = pl.col(DEFINITION)
        for comp in compiled:
            problems += [(flag & (routed == comp.name), message) for flag, message in comp.problems]
        problems.append(
            (routed.is_null(), pl.lit("no segment matches (give the last segment no `when`)"))
        )
        primary = route_segments(compiled, routed)
        lf = lf.with_columns(primary.materialise)
    else:
        primary = compiled[0]
        problems += primary.problems

    signal_columns = [points_column(f.name) for f in primary.flats]
    group_columns = [group_column(g) for g in primary.groups]

    flags = [flag for flag, _ in problems]
    found = pl.concat_str(
        [pl.when(flag).then(message) for flag, message in problems],
        separator="; ",
        ignore_nulls=True,
    )
    reason = pl.when(found != "").then(found).otherwise(pl.lit("no signal has a value"))
    # cache(): the output, the rejects and the summary all read this frame; computed once.
    checked = lf.with_columns(
        (~pl.any_horizontal(flags) & pl.col("__score").is_not_null()).alias(OK),
    )
    output = [
        *[restored[c].alias(c) if c in restored else pl.col(c) for c in carried],
        *primary.outputs(""),
        *([pl.col(DEFINITION)] if segmented else []),
        *[e for comp in extras for e in comp.outputs(comp.prefix)],
        pl.lit(scheme.name).alias("scheme"),
        pl.lit(scheme.digest).alias("scheme_hash"),
    ]
    accepted = checked.filter(pl.col(OK))
    rejected = checked.filter(~pl.col(OK)).with_columns(reason.alias(REASON))
    return ScoringPlan(
        accepted=accepted,
        rejected=rejected,
        reason=reason,
        output=output,
        columns=columns,
        checked=checked,
        value=None
        if scheme.value is None
        else (
            restored[scheme.value]
            if scheme.value in restored
            else pl.col(scheme.value).cast(pl.Float64)
        ),
        id_column=scheme.id,
        value_column=scheme.value if scheme.value in carried else None,
        signal_columns=signal_columns,
        group_columns=group_columns,
        warnings=warnings,
        definitions={c.name: (c.scheme, c.prefix) for c in compiled},
        extras=[(c.name, c.scheme) for c in extras],
        reasons=primary.reasons,
        working=[
            c
            for c in dict.fromkeys([*primary.reasons.meta.root_names(), ID_HASH])
            if c not in {e.meta.output_name() for e in output}
        ],
    )


def score_frame(
    frame: pl.DataFrame | pl.LazyFrame, scheme: Scheme, *, keep: list[str] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Score an in-memory frame: (scored rows, rejected rows with `row` and `reason`).

    For notebooks and tests; files go through `score_file`, which streams.
    """
    plan = build_plan(frame.lazy(), scheme, source="<frame>", keep=keep)
    scored, rejects = pl.collect_all([plan.scored, plan.rejects])
    return scored, rejects
