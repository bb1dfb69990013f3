"""The scoring engine: a scheme becomes Polars expressions over a lazy frame.

Everything is vectorised: tiers are `when/then` chains, linear mappings are piecewise
interpolations, categories a `when/then` chain, weights a horizontal sum. The engine
never collects; it returns lazy frames that the caller sinks, so Polars can stream.

Per row, with p_s the points of signal s and w_s its relative weight in its group:
    group score  = sum(w_s * p_s) / sum(w_s)      over signals with points
    score        = sum(W_g * group_g) / sum(W_g)  over groups with a score
A signal without points (missing, policy `redistribute`) drops out and the others
absorb its weight. `coverage` is the nominal share of the weight that had data.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from itertools import pairwise

import polars as pl

from chs.errors import DataError
from chs.scheme import FlatSignal, Scheme, Signal, parse_sql_expr

ROW = "row"  # 1-based data row number (the first row after the header is 1)
REASON = "reason"
DEFINITION = "definition"  # with segments: which one scored the row
OK = "__ok"  # the row can be scored
ID_TEXT = "__id"  # the id, trimmed; null when empty
ID_HASH = "__id_hash"  # its 64-bit hash, for finding repeats
SCORE_COLUMNS = ("score", "band", "coverage", "reasons", "scheme", "scheme_hash")
_NUMERIC = (pl.Float32, pl.Float64, pl.Decimal)


def points_column(signal: str, prefix: str = "") -> str:
    return f"{prefix}points_{signal}"


def group_column(group: str, prefix: str = "") -> str:
    return f"{prefix}group_{group}"


def internal(kind: str, name: str = "", prefix: str = "") -> str:
    """Working column names: `__v_logins`, `__score`; under a prefix `__v_logins@inertia_`."""
    base = f"__{kind}_{name}" if name else f"__{kind}"
    return f"{base}@{prefix}" if prefix else base


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


def suggest_column(name: str, columns: list[str]) -> str:
    """A `did you mean` hint followed by the columns that are there."""
    close = difflib.get_close_matches(name, columns, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in columns}
        close = [lowered[name.lower()]] if name.lower() in lowered else []
    hint = f" Did you mean {close[0]!r}?" if close else ""
    shown = ", ".join(columns[:30]) + (f", … ({len(columns)} in all)" if len(columns) > 30 else "")
    return f"{hint} Columns in the file: {shown}"


def _require(column: str, what: str, columns: list[str], source: str) -> None:
    if column not in columns:
        raise DataError(
            f"{source}: column {column!r} ({what}) not found.{suggest_column(column, columns)}"
        )


@dataclass
class _Value:
    """A signal's value expression and its row-level problem, if any."""

    value: pl.Expr  # Float64 for numeric signals, String for categories; null when missing
    bad: tuple[pl.Expr, pl.Expr] | None  # (flag, message) where the raw value is unusable
    text: pl.Expr | None = None  # trimmed text to materialise first as `__t_<signal>`


def _value(
    flat: FlatSignal,
    lf: pl.LazyFrame,
    columns: list[str],
    source: str,
    *,
    decimal_comma: bool,
    sfx: str = "",
) -> _Value:
    sig = flat.signal
    where = f"signal {flat.name}"
    if sig.column is not None:
        _require(sig.column, where, columns, source)
        raw = pl.col(sig.column)
        origin = f"column {sig.column}"
    else:
        assert sig.expr is not None
        raw = parse_sql_expr(sig.expr)
        for name in dict.fromkeys(raw.meta.root_names()):
            _require(name, f"used by the expression of {where}", columns, source)
        origin = "expression"
    try:
        dtype = lf.select(raw.alias("v")).collect_schema()["v"]
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"{source}: the expression of {where} cannot be evaluated: {exc}") from None

    if dtype == pl.Null:  # a column with no value at all (Parquet, or a frame)
        return _Value(pl.lit(None, pl.Float64 if sig.numeric else pl.String), None)
    if not sig.numeric:
        if dtype == pl.String:
            text = raw.str.strip_chars()
            text = pl.when(text == "").then(None).otherwise(text)
        elif dtype.is_numeric() or dtype == pl.Boolean:
            text = raw.cast(pl.String)
        else:
            raise DataError(
                f"{source}: {where} reads {origin} of type {dtype}; `map` needs text or numbers"
            )
        return _Value(text, None)

    if dtype.is_numeric():
        value = raw.cast(pl.Float64)
        if dtype in _NUMERIC or dtype.is_float():
            value = value.fill_nan(None)
        return _Value(value, None)
    if dtype == pl.Boolean:
        return _Value(raw.cast(pl.Float64), None)
    if dtype == pl.String:
        # Parsed in stages (text, then number, then the check) so each is computed once.
        stripped = raw.str.strip_chars()
        text = pl.col(f"__t_{flat.name}{sfx}")
        number_text = text.str.replace_all(",", ".", literal=True) if decimal_comma else text
        value = number_text.cast(pl.Float64, strict=False).fill_nan(None)
        bad = (
            text.is_not_null() & pl.col(f"__v_{flat.name}{sfx}").is_null(),
            pl.format(f"{flat.name}: '{{}}' is not a number ({origin})", text),
        )
        return _Value(value, bad, pl.when(stripped != "").then(stripped))
    raise DataError(
        f"{source}: {where} reads {origin} of type {dtype}; tiers and `linear` need numbers"
    )


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


@dataclass(frozen=True)
class Place:
    """One of the k places of `top_keys`: which key holds it, and its rounded value."""

    index: pl.Expr  # the key's position in the dict
    flag: pl.Expr  # the key's flag, 0 or 1 (for example "missing")
    millionths: pl.Expr  # the key's value in millionths, an integer
    shown: pl.Expr  # whether the place is taken by a key of value `at_least` or more


def top_keys(
    lf: pl.LazyFrame,
    keys: dict[str, pl.Expr],
    k: int,
    *,
    at_least: float,
    work: str,
    flags: dict[str, pl.Expr] | None = None,
    most: float = 100.0,
) -> tuple[pl.LazyFrame, list[Place]]:
    """Per row, the k keys of largest value (compared to 1e-6, so that float noise does
    not decide; ties in dict order); a place goes unshown below `at_least`.

    Each key becomes one integer (its value in millionths, then its rank in the dict,
    then its flag), so one `max_horizontal` finds the first place and k of them the
    first k: O(k * n) integer operations, against O(n^2) comparisons for full ranks and
    a string pick per key. Values are clipped to [0, `most`]. Each place reads working
    columns `<work>0`, `<work>1`… added to `lf`."""
    names = list(keys)
    n = len(names)
    if k == 0 or n == 0:
        return lf, []
    scale = 1_000_000
    step = 2 * n  # per millionth: n ranks, each with a flag bit
    dtype = pl.Int32 if (most * scale + 1) * step < 2**31 else pl.Int64
    threshold = round(at_least * scale) * step
    flag = flags or {}
    coded = []
    for i, name in enumerate(names):
        rounded = (keys[name].fill_null(0.0).clip(0.0, most) * scale).round(
            0, mode="half_away_from_zero"
        )
        bit = flag[name].fill_null(False).cast(dtype) if name in flag else pl.lit(0, dtype)
        code = rounded.cast(dtype) * step + pl.lit(2 * (n - 1 - i), dtype) + bit
        coded.append(code.alias(f"{work}_{i}"))
    lf = lf.with_columns(coded)
    codes = [pl.col(f"{work}_{i}") for i in range(n)]
    places = []
    for rank in range(min(k, n)):
        column = f"{work}{rank}"
        if rank == 0:
            best = pl.max_horizontal(codes)
        else:
            above = pl.col(f"{work}{rank - 1}")
            best = pl.max_horizontal([pl.when(c < above).then(c) for c in codes])
        lf = lf.with_columns(best.alias(column))
        top = pl.col(column)
        places.append(
            Place(
                index=pl.lit(n - 1, dtype) - (top % step) // 2,
                flag=top % 2,
                millionths=top // step,
                shown=top >= threshold,
            )
        )
    return lf, places


_TENTHS = 1001  # a loss is 0.0 to 100.0 points


def pick(index: pl.Expr, values: list[pl.Expr]) -> pl.Expr:
    """Per row, values[index]."""
    chain = None
    for i, value in enumerate(values):
        cond = index == i
        chain = pl.when(cond).then(value) if chain is None else chain.when(cond).then(value)  # type: ignore[attr-defined]
    assert chain is not None
    return chain


def labelled(index: pl.Expr, labels: list[str]) -> pl.Expr:
    """Per row, labels[index]: one gather from a small literal, not a string per key."""
    return pl.lit(pl.Series(labels, dtype=pl.String)).gather(index)


def id_key(id_column: str) -> pl.Expr:
    """The id as compared for duplicates: text, trimmed; null when empty."""
    key = pl.col(id_column).cast(pl.String).str.strip_chars()
    return pl.when(key != "").then(key)


def id_hash(key: pl.Expr) -> pl.Expr:
    """A 64-bit hash of an `id_key`; null for no id (Polars hashes null to a constant)."""
    return pl.when(key.is_not_null()).then(key.hash())


def repeated_hashes(ordered: pl.Series) -> pl.Series:
    """The values that occur more than once in a sorted series of hashes: each against
    the next, on zero-copy slices (a bit a row, not a shifted copy)."""
    after = ordered.slice(1)
    return after.filter(after == ordered.slice(0, max(ordered.len() - 1, 0))).unique()


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
    _require(scheme.id, "the scheme's id", columns, source)
    if scheme.value is not None:
        _require(scheme.value, "the scheme's value", columns, source)
    if scheme.parent is not None:
        _require(scheme.parent, "the scheme's parent", columns, source)
    fixed = [scheme.id] + [c for c in (scheme.value, scheme.parent) if c is not None]
    # The id goes first: a scored file read back without its scheme finds its id there.
    carried = list(dict.fromkeys([scheme.id, *(columns if keep is None else [*fixed, *keep])]))
    for name in carried:
        _require(name, "asked for with --keep", columns, source)
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
    compiled: list[_Compiled] = []
    for i, (name, d) in enumerate(definitions):
        lf, comp = _compile(
            lf, d, f"__seg{i}_" if segmented else "", name, columns, source, decimal_comma
        )
        compiled.append(comp)
    extras: list[_Compiled] = []
    for name, d in [*scheme.extra_scores(), *(extra or [])]:
        lf, comp = _compile(lf, d, f"{name}_", name, columns, source, decimal_comma)
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
            _require(name, "used by a segment condition", columns, source)
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
        primary = _route(compiled, routed)
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


@dataclass
class _Compiled:
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


def _compile(
    lf: pl.LazyFrame,
    d: Scheme,
    prefix: str,
    name: str,
    columns: list[str],
    source: str,
    decimal_comma: bool,
) -> tuple[pl.LazyFrame, _Compiled]:
    """Values, points, weighted means, band, coverage and reasons of one definition, with
    every working column named under `prefix` so that several can share the rows."""
    flats = d.flat_signals()

    def col(kind: str, n: str = "") -> str:
        return internal(kind, n, prefix)

    problems: list[tuple[pl.Expr, pl.Expr]] = []
    # Values are materialised as columns first, so tiers and checks read a plain column.
    sfx = f"@{prefix}" if prefix else ""
    parsed = {
        f.name: _value(f, lf, columns, source, decimal_comma=decimal_comma, sfx=sfx) for f in flats
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
        for tenths in range(_TENTHS)
    ]
    texts = [
        pl.when(p.shown).then(
            labelled((p.index * 2 + p.flag) * _TENTHS + (p.millionths + 50_000) // 100_000, labels)
        )
        for p in places
    ]
    reasons = pl.concat_str(texts, separator="; ", ignore_nulls=True) if texts else pl.lit("")
    assert band is not None
    return lf, _Compiled(
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


def _route(compiled: list[_Compiled], routed: pl.Expr) -> _Compiled:
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
    return _Compiled(
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
