"""Previous versus this snapshot: the previous score joined per customer, the delta,
the movement, band transitions and the signals that drove a change. `chs score
--previous` and `chs diff` both read it, so both speak its words.

The vocabulary, defined once here (the words are part of the output):

- per-customer movement, the `movement` column: UP, DOWN, SAME (the sign of the delta
  as written, one decimal), NEW (only in this snapshot), LEFT (only in the previous);
- summary groups of `chs score --previous`: counts by SCORE_COUNTS, then BIGGEST_DROPS,
  INTO_LOWEST, OUT_OF_LOWEST and LOST (who left, by name);
- summary groups of `chs diff`: the same counts renamed by DIFF_COUNTS (IMPROVED,
  DECLINED, STAYED, ARRIVED, LEFT), then BIGGEST_DROPS, NEWLY_AT_RISK and RECOVERED.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final, TypedDict

import polars as pl

from chs.columns import KEY, internal
from chs.engine.reasons import TENTHS, Place, top_keys
from chs.exprs import labelled, pick, trimmed_id, value_or_null
from chs.numbers import money, rounded
from chs.snapshot import Lookup, Snapshot, extra_column

# Per-customer movement.
UP: Final = "up"
DOWN: Final = "down"
SAME: Final = "same"
NEW: Final = "new"
LEFT: Final = "left"

# Summary groups of `chs score --previous`.
SCORE_COUNTS: Final = (UP, DOWN, SAME, NEW)
BIGGEST_DROPS: Final = "biggest_drops"
INTO_LOWEST: Final = "into_lowest"
OUT_OF_LOWEST: Final = "out_of_lowest"
LOST: Final = "lost"

# Summary groups of `chs diff`.
IMPROVED: Final = "improved"
DECLINED: Final = "declined"
STAYED: Final = "stayed"
ARRIVED: Final = "arrived"
DIFF_COUNTS: Final = {IMPROVED: UP, DECLINED: DOWN, STAYED: SAME, ARRIVED: NEW, LEFT: LEFT}
NEWLY_AT_RISK: Final = "newly_at_risk"
RECOVERED: Final = "recovered"

DRIVERS = 3


class BandMover(TypedDict):
    """One customer who moved into or out of the lowest band (`chs diff`)."""

    id: str
    last_score: float | None
    this_score: float | None
    last_band: str | None
    this_band: str | None
    value: float | None
    drivers: str | None


class BandMove(TypedDict):
    """NEWLY_AT_RISK or RECOVERED: how many, their value, the biggest of them."""

    count: int
    value: float | None
    customers: list[BandMover]


def _movement(delta: pl.Expr, before: pl.Expr, after: pl.Expr) -> pl.Expr:
    """The per-customer movement word, from the delta and which scores there are."""
    return (
        pl.when(before.is_null())
        .then(pl.lit(NEW))
        .when(after.is_null())
        .then(pl.lit(LEFT))
        .when(delta > 0)
        .then(pl.lit(UP))
        .when(delta < 0)
        .then(pl.lit(DOWN))
        .otherwise(pl.lit(SAME))
    )


# Lookup columns that only the summary reads (which customers left, and their value).
PREVIOUS_ONLY = (internal("in_previous"), internal("previous_value"))


def previous_lookup(previous: Snapshot) -> Lookup:
    """The previous snapshot's score and band per customer (KEY), to join to the rows
    before they are scored (`ScoringPlan.split`); `add_movement` then adds the rest.
    With PREVIOUS_ONLY columns, from which `previous_rows` gives the snapshot back."""
    columns = (
        pl.col("score").alias("previous_score"),
        pl.col("band").cast(pl.Categorical).alias("previous_band"),  # 4 bytes in the join
        pl.lit(True).alias(PREVIOUS_ONLY[0]),
        pl.col("__value").alias(PREVIOUS_ONLY[1]),
    )
    return Lookup(previous, columns)


def previous_rows(lookup: pl.LazyFrame) -> pl.LazyFrame:
    """The previous snapshot's rows (KEY, score, band, __value) out of a lookup made with
    `previous_lookup`, held in memory, rather than read from the file again."""
    return lookup.filter(pl.col(PREVIOUS_ONLY[0]).fill_null(False)).select(
        KEY,
        pl.col("previous_score").alias("score"),
        pl.col("previous_band").cast(pl.String).alias("band"),
        pl.col(PREVIOUS_ONLY[1]).alias("__value"),
    )


def add_movement(scored: pl.LazyFrame) -> pl.LazyFrame:
    """Add delta and movement to scored rows that carry previous_score/previous_band;
    the four columns go last."""
    delta = (pl.col("score") - pl.col("previous_score")).round(1, mode="half_away_from_zero")
    return (
        scored.with_columns(delta.alias("delta"))
        .with_columns(
            _movement(pl.col("delta"), pl.col("previous_score"), pl.col("score")).alias("movement")
        )
        .select(
            pl.exclude("previous_score", "delta", "previous_band", "movement"),
            "previous_score",
            "delta",
            pl.col("previous_band").cast(pl.String),  # joined as a category (previous_lookup)
            "movement",
        )
    )


def _points_text(x: pl.Expr) -> pl.Expr:
    """Points as a driver shows them: one decimal, `100` rather than `100.0`."""
    return x.round(1).cast(pl.String).str.strip_suffix(".0")


def _side(snapshot: Snapshot, side: str, common: list[str], extra: list[str]) -> pl.LazyFrame:
    """One snapshot's columns for the join, named for its side (`last` or `this`)."""
    return snapshot.frame.select(
        KEY,
        pl.col("score").alias(f"{side}_score"),
        pl.col("band").alias(f"{side}_band"),
        pl.col("__value").alias(f"{side}_value"),
        *[pl.col(f"points_{s}").alias(internal(side, s)) for s in common],
        *[pl.col(extra_column(c)).alias(internal(f"{side}_x", c)) for c in extra],
    )


def _drivers(
    joined: pl.LazyFrame, common: list[str], bounded: bool
) -> tuple[pl.LazyFrame, pl.Expr]:
    """The signals whose points fell most, `logins 100 -> 50; …`: the joined rows with
    the working columns that ranking needs, and the text. `bounded`: every points value
    of both snapshots lies within 0-100 (`points_bounded`), so each place's text is two
    gathers from texts made once, `logins 100` and ` -> 50` (formatting the numbers of
    every row took 5 of the 8 s of a 10M-customer `chs diff` pass)."""
    last, this = (
        {s: pl.col(internal("last", s)) for s in common},
        {s: pl.col(internal("this", s)) for s in common},
    )
    drops = {s: last[s] - this[s] for s in common}
    joined, places = top_keys(joined, drops, DRIVERS, at_least=0.005, work=internal("drop"))
    # each place's signal, read 21 times (two picks of 10 and a label): a column, not an
    # expression Polars would evaluate at each (60 integer divisions a row, 3.5 % of a diff)
    at = [internal("driver", str(rank)) for rank in range(len(places))]
    joined = joined.with_columns(p.index.alias(a) for p, a in zip(places, at, strict=True))
    places = [replace(p, index=pl.col(a)) for p, a in zip(places, at, strict=True)]
    before = [pick(p.index, [last[s] for s in common]) for p in places]
    after = [pick(p.index, [this[s] for s in common]) for p in places]
    if not places:
        return joined, pl.lit("")
    if bounded:
        return joined, _gathered_text(common, places, before, after)
    made = [
        pl.format("{} {} -> {}", labelled(p.index, common), _points_text(b), _points_text(a))
        for p, b, a in zip(places, before, after, strict=True)
    ]
    texts = [pl.when(p.shown).then(t) for p, t in zip(places, made, strict=True)]
    return joined, pl.concat_str(texts, separator="; ", ignore_nulls=True)


def _gathered_text(
    common: list[str], places: list[Place], before: list[pl.Expr], after: list[pl.Expr]
) -> pl.Expr:
    """The drivers' text of points within 0-100: each place two gathers, `logins 100`
    (after `; ` but for the first) and ` -> 50`, null when the place is not shown; a
    place below the shown ones is never shown, so one concatenation of them all joins
    the text (a concatenation per place, then one of the places, took 0.2-0.5 s more of
    10M rows)."""
    numbers = [_TENTHS_TEXT[k] for k in range(TENTHS)]
    signals = [f"{s} {n}" for s in common for n in numbers]
    arrows = [f" -> {n}" for n in numbers]
    parts = []
    for rank, (p, b, a) in enumerate(zip(places, before, after, strict=True)):
        labels = signals if rank == 0 else [f"; {s}" for s in signals]
        signal = labelled(p.index * TENTHS + _tenths(b), labels)
        parts += [
            pl.when(p.shown).then(signal),
            pl.when(p.shown).then(labelled(_tenths(a), arrows)),
        ]
    return pl.concat_str(parts, ignore_nulls=True)


# The text of each points value 0.0-100.0 in tenths, as `_points_text` writes it.
_TENTHS_TEXT = [f"{k / 10:.1f}".removesuffix(".0") for k in range(TENTHS)]


def _tenths(x: pl.Expr) -> pl.Expr:
    """Points within 0-100 in tenths, rounded as `_points_text` rounds them (0 to 1000,
    which Int32 holds: cast without a check per value)."""
    return (x.round(1) * 10).round(0).cast(pl.Int32, wrap_numerical=True)


def points_bounded(common: list[str]) -> pl.Expr:
    """Per row of a snapshot: every points value of the `common` signals lies within
    0-100 (or is empty). A scored file of chs's always does; one edited by hand may
    not, and its drivers are then formatted row by row."""
    within = [
        pl.col(f"points_{s}").is_between(0, 100) | pl.col(f"points_{s}").is_null() for s in common
    ]
    return pl.all_horizontal(within) if within else pl.lit(True)


# The columns of `per_customer`, in order (before any extra one).
COMPARED = (
    "id",
    "last_score",
    "this_score",
    "delta",
    "last_band",
    "this_band",
    "movement",
    "drivers",
    "last_value",
    "this_value",
)


def per_customer(
    last: Snapshot,
    this: Snapshot,
    extra: list[str] | None = None,
    *,
    ordered: bool = False,
    bounded: bool = False,
) -> pl.LazyFrame:
    """One row per customer in either snapshot: both scores and bands, delta, movement,
    and the drivers of a fall. `extra` columns (for roll-ups) come from this snapshot,
    else from the last; one named like a column of the comparison is the comparison's
    (`--by movement` rolls up by this movement, not by the one a snapshot carries).
    `ordered`: both snapshots are in id order (`one_row_per_customer`), so the join may
    merge them as they stream; `bounded`: their points lie within 0-100
    (`points_bounded`), so the drivers' texts are gathered rather than formatted."""
    extra = [c for c in dict.fromkeys(extra or []) if c not in COMPARED]
    common = [s for s in this.signals if s in last.signals]
    a, b = _side(last, "last", common, extra), _side(this, "this", common, extra)
    if ordered:
        a, b = (x.with_columns(pl.col(KEY).set_sorted()) for x in (a, b))
    joined, drivers = _drivers(a.join(b, on=KEY, how="full", coalesce=True), common, bounded)
    delta = (pl.col("this_score") - pl.col("last_score")).round(1, mode="half_away_from_zero")
    movement = _movement(pl.col("delta"), pl.col("last_score"), pl.col("this_score"))
    return (
        joined.with_columns(delta.alias("delta"))
        .with_columns(movement.alias("movement"), drivers.alias("drivers"))
        .select(
            pl.col(KEY).alias("id"),
            *COMPARED[1:],
            *[pl.coalesce(internal("this_x", c), internal("last_x", c)).alias(c) for c in extra],
        )
    )


def band_move_queries(rows: pl.LazyFrame, lowest: str | None, top: int) -> dict[str, pl.LazyFrame]:
    """The queries of `chs diff`'s NEWLY_AT_RISK and RECOVERED (customers who fell into
    the lowest band, those who climbed out of it), to collect with the others;
    `band_moves` reads what they collect."""
    if lowest is None:
        return {}
    into = (pl.col("this_band") == lowest) & (pl.col("last_band") != lowest)
    out = (pl.col("last_band") == lowest) & (pl.col("this_band") != lowest)
    queries: dict[str, pl.LazyFrame] = {}
    for name, moved in ((NEWLY_AT_RISK, into), (RECOVERED, out)):
        picked = rows.filter(moved.fill_null(False))
        queries[f"{name}_n"] = picked.select(
            pl.len().alias("count"), pl.col("this_value").sum().alias("value")
        )
        queries[name] = picked.sort("this_value", descending=True, nulls_last=True).head(top)
    return queries


def band_moves(frames: dict[str, pl.DataFrame]) -> tuple[BandMove, BandMove]:
    """NEWLY_AT_RISK and RECOVERED from what `band_move_queries` collected (none without
    a lowest band)."""
    if NEWLY_AT_RISK not in frames:
        return _no_move(), _no_move()
    return _band_move(frames, NEWLY_AT_RISK), _band_move(frames, RECOVERED)


def _no_move() -> BandMove:
    return {"count": 0, "value": 0.0, "customers": []}


def _band_move(frames: dict[str, pl.DataFrame], name: str) -> BandMove:
    """How many moved, their value, and the `top` of them by value."""
    stats, head = frames[f"{name}_n"], frames[name]
    s = stats.row(0, named=True)
    return {
        "count": int(s["count"]),
        "value": money(s["value"]),
        "customers": [
            {
                "id": r["id"],
                "last_score": r["last_score"],
                "this_score": r["this_score"],
                "last_band": r["last_band"],
                "this_band": r["this_band"],
                "value": money(r["this_value"]),
                "drivers": r["drivers"],
            }
            for r in head.iter_rows(named=True)
        ],
    }


def movement_queries(
    frame: pl.LazyFrame,
    previous: pl.LazyFrame,
    id_column: str,
    value_column: str | None,
    lowest: str,
    top: int,
    reasons: pl.Expr,
    *,
    ordered: bool = False,
) -> dict[str, pl.LazyFrame]:
    """Queries over scored rows that carry previous_score/delta/previous_band/movement
    (and what `reasons` reads); `previous` is the previous snapshot's frame (KEY, score,
    band, __value). `build_movement` reads what they collect, `respelled_warning` the
    RESPELLED one. `ordered`: both list their customers in id order, with none empty."""
    value = value_or_null(value_column)
    listed = [
        pl.col(id_column).cast(pl.String).alias("id"),
        "previous_score",
        "score",
        "delta",
        "previous_band",
        "band",
        value.alias("value"),
        reasons.alias("reasons"),
    ]
    into = (
        (pl.col("band") == lowest)
        & pl.col("previous_band").is_not_null()
        & (pl.col("previous_band") != lowest)
    )
    out = (pl.col("previous_band") == lowest) & (pl.col("band") != lowest)
    by_value = value.alias(internal("v"))
    lost = _lost(previous, frame.select(trimmed_id(id_column).alias(KEY)), ordered)
    return {
        "movement": frame.group_by("movement").agg(pl.len().alias("customers")),
        "drops": frame.filter(pl.col("delta") < 0)
        .sort(["delta", by_value], descending=[False, True], nulls_last=True)
        .head(top)
        .select(listed),
        **_group_queries(INTO_LOWEST, frame.filter(into), by_value, listed, top),
        **_group_queries(OUT_OF_LOWEST, frame.filter(out), by_value, listed, top),
        **_lost_queries(lost, top),
        RESPELLED: respelled_query(
            frame.filter(pl.col("movement") == NEW).select(trimmed_id(id_column).alias(KEY)),
            lost.select(KEY),
        ),
    }


def _group_queries(
    name: str, picked: pl.LazyFrame, value: pl.Expr, listed: list[Any], top: int
) -> dict[str, pl.LazyFrame]:
    """A summary group: its `top` customers by value, and `<name>_n`, count and value."""
    return {
        name: picked.sort(value, descending=True, nulls_last=True).head(top).select(listed),
        f"{name}_n": picked.select(pl.len().alias("n"), value.sum().alias("value")),
    }


def _lost(previous: pl.LazyFrame, keys: pl.LazyFrame, ordered: bool) -> pl.LazyFrame:
    """The previous snapshot's customers (rows of `previous`) whose KEY `keys` lacks,
    computed once for the three queries that read them (LOST, its count, RESPELLED).
    `ordered`: both in id order, merged as they stream rather than hashed (the anti-join
    holds a table of every customer: 0.5 GB at 10 million)."""
    if not ordered:
        return previous.join(keys, on=KEY, how="anti").cache()
    seen = internal("seen")
    merged = previous.with_columns(pl.col(KEY).set_sorted()).join(
        keys.select(pl.col(KEY).set_sorted(), pl.col(KEY).alias(seen)),
        on=KEY,
        how="left",
        maintain_order="left",
    )
    return merged.filter(pl.col(seen).is_null()).drop(seen).cache()


def _lost_queries(lost: pl.LazyFrame, top: int) -> dict[str, pl.LazyFrame]:
    """LOST: customers of the previous snapshot that this one lacks."""
    return {
        LOST: lost.sort("__value", descending=True, nulls_last=True)
        .head(top)
        .select(
            pl.col(KEY).alias("id"),
            pl.col("score").alias("last_score"),
            pl.col("band").alias("last_band"),
            pl.col("__value").alias("value"),
        ),
        f"{LOST}_n": lost.select(pl.len().alias("n"), pl.col("__value").sum().alias("value")),
    }


def build_movement(frames: dict[str, pl.DataFrame]) -> dict[str, Any]:
    """`chs score --previous`'s groups from what `movement_queries` collected: counts by
    movement, biggest drops, moves in and out of the lowest band, lost customers."""
    moved = {r["movement"]: int(r["customers"]) for r in frames["movement"].iter_rows(named=True)}

    def rows(name: str) -> list[dict[str, Any]]:
        return [{**r, "value": rounded(r["value"], 2)} for r in frames[name].iter_rows(named=True)]

    def group(name: str) -> dict[str, Any]:
        head = frames[f"{name}_n"].row(0, named=True)
        return {
            "count": int(head["n"]),
            "value": rounded(head["value"], 2),
            "customers": rows(name),
        }

    return {
        "movement": {k: moved.get(k, 0) for k in SCORE_COUNTS},
        BIGGEST_DROPS: rows("drops"),
        INTO_LOWEST: group(INTO_LOWEST),
        OUT_OF_LOWEST: group(OUT_OF_LOWEST),
        LOST: group(LOST),
    }


# -- the same customer written two ways ----------------------------------------------------

RESPELLED = "respelled"  # the query (and frame) of `respelled_query`
RESPELLED_SHOWN = 3  # pairs shown as examples
_LOOSE = internal("loose")


def loose_id(key: pl.Expr) -> pl.Expr:
    """An id without leading zeros or a trailing `.0` (as pandas writes a float): `00789`,
    `789` and `789.0` are one. Only to find ids written two ways: matching stays exact."""
    return key.str.replace(r"\.0+$", "").str.replace(r"^0+(.)", "${1}")


def respelled_query(new: pl.LazyFrame, gone: pl.LazyFrame) -> pl.LazyFrame:
    """Among this snapshot's customers that the previous one lacks (`new`, KEY) and the
    previous one's that this one lacks (`gone`, KEY): how many of this snapshot's match
    only once loosened (`loose_id`), and the first pairs, `this ~ last`. A join of the
    unmatched only; one row."""
    this = new.select(pl.col(KEY).alias("this"), loose_id(pl.col(KEY)).alias(_LOOSE))
    last = gone.select(pl.col(KEY).alias("last"), loose_id(pl.col(KEY)).alias(_LOOSE))
    pairs = this.drop_nulls().join(last.drop_nulls(), on=_LOOSE, how="inner")
    # one pair per customer of this snapshot (the first of its earlier spellings)
    each = pairs.group_by("this").agg(pl.col("last").min())
    return each.select(
        pl.len().alias("n"),
        pl.format("{} ~ {}", "this", "last")
        .sort()
        .head(RESPELLED_SHOWN)
        .implode()
        .alias("examples"),
    )


def respelled_warning(
    found: pl.DataFrame, this: object, last: object | None, counted: str
) -> str | None:
    """`12 customers of this.csv match last.csv only without leading zeros or a trailing
    .0 (789 ~ 00789, …); they count as lost and new` (`counted`: the last words); with no
    `last`, the snapshots of one history (`respelled_across`)."""
    n = int(found["n"][0] or 0)
    if not n:
        return None
    examples = found["examples"].to_list()[0] or []
    more = ", …" if n > len(examples) else ""
    many = n > 1
    if last is None:
        how = f"{'are' if many else 'is'} written two ways across its snapshots, matching"
    else:
        how = f"{'match' if many else 'matches'} {last}"
    return (
        f"{n:,} customer{'s' if many else ''} of {this} {how} only without leading zeros "
        f"or a trailing .0 ({', '.join(examples)}{more}); they count as {counted}"
    )


def respelled_across(keys: pl.LazyFrame) -> pl.LazyFrame:
    """Over the snapshots of a history (KEY, as_of per customer and snapshot): the ids
    that are one once loosened (`loose_id`), never two of them in one snapshot (that
    would be two customers), each group's spellings oldest first; `n` and the first
    RESPELLED_SHOWN groups as `789 ~ 00789`, in one row."""
    groups = (
        keys.filter(pl.col(KEY).is_not_null())
        .with_columns(loose_id(pl.col(KEY)).alias(_LOOSE))
        .group_by(_LOOSE)
        .agg(
            pl.col(KEY).n_unique().alias("ids"),
            (pl.len() == pl.col("as_of").n_unique()).alias("apart"),
            pl.col(KEY).sort_by("as_of", KEY).unique(maintain_order=True).alias("spellings"),
        )
        .filter((pl.col("ids") > 1) & pl.col("apart"))
    )
    return groups.select(
        pl.len().alias("n"),
        pl.col("spellings")
        .list.join(" ~ ")
        .sort()
        .head(RESPELLED_SHOWN)
        .implode()
        .alias("examples"),
    )
