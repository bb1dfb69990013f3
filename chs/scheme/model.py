"""The scheme's model: signals, tiers, groups, bands, segments, alerts, extra scores.

A scheme is data. Signals read a column or a SQL expression (see `expression`);
everything else is numbers and names. Tier intervals are defined once here
(`Tier.interval`) and used both by the engine that scores and by `chs check` that shows
them, so the table people read and the code that scores can never disagree.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from chs.columns import column_part
from chs.errors import SchemeError
from chs.scheme.column_types import ColumnType
from chs.scheme.expression import parse_sql_expr
from chs.scheme.keys import LocatedError, key_path, line_for
from chs.scheme.limits import (
    MAX_ALERT_COLUMNS,
    MAX_ALERTS,
    MAX_BANDS,
    MAX_COLUMN_CHARS,
    MAX_DECLARED_COLUMNS,
    MAX_GROUPS,
    MAX_LINEAR_POINTS,
    MAX_MAGNITUDE,
    MAX_MAP_ENTRIES,
    MAX_NAME_CHARS,
    MAX_RULES,
    MAX_SCORES,
    MAX_SEGMENTS,
    MAX_SIGNALS,
    MAX_TIERS,
    MAX_TRENDS,
    MAX_WEIGHT,
    MIN_MAGNITUDE,
    MIN_WEIGHT,
)

# A name is written as people write it (`urgent-call`, `at risk`, `Premium Adoption`):
# any text but control characters (tabs, line breaks), with no space at either end.
# Where it becomes part of a column name, it is made safe (chs.columns.column_part).
NAME_PATTERN = r"^[^\s\x00-\x1f\x7f](?:[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f])?$"
_SOURCES = ("column", "expr", "days_until", "days_since")
MISSING_POLICIES = ("redistribute", "zero", "reject")
_BAND_COLORS = (
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "cyan",
    "magenta",
    "purple",
    "white",
    "grey",
    "bright_red",
    "bright_yellow",
    "bright_green",
    "bright_blue",
)


def _not_boolean(value: Any) -> Any:
    """A number key refuses YAML's `true` and `false`, and quoted text: pydantic reads a
    bool as the number 1 or 0 (`weight: true` weighed 1) and a text as the number it
    spells (`weight: "3"` weighed 3, `at_least: "1e3"` was 1000), which a reviewer of
    the scheme reads as text."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number (got {_bool_text(value)})")
    if isinstance(value, str):
        raise ValueError(f"must be a number, not the text {value!r}")
    return value


def _bool_text(value: bool) -> str:
    """A bool as YAML writes it."""
    return "true" if value else "false"


Number = BeforeValidator(_not_boolean)  # on every number of the scheme


def _check_missing(value: Any) -> Any:
    """Accept a policy name or a fixed number of points (0-100)."""
    if isinstance(value, bool):
        raise ValueError(
            f"must be one of {', '.join(MISSING_POLICIES)} or points 0-100 "
            f"(got {_bool_text(value)})"
        )
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"must be a finite number (got {value})")
    if isinstance(value, int | float):
        if not 0 <= value <= 100:
            raise ValueError(f"fixed points for a missing value must be 0-100 (got {value})")
        return float(value)
    if value in MISSING_POLICIES:
        return value
    raise ValueError(
        f"must be one of {', '.join(MISSING_POLICIES)} or points 0-100 (got {value!r})"
    )


Missing = Annotated[
    str | float,
    BeforeValidator(_check_missing),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": list(MISSING_POLICIES)},
                {"type": "number", "minimum": 0, "maximum": 100},
            ],
            "description": "redistribute | zero | reject | fixed points 0-100",
        }
    ),
]


def _weight_precise(value: float) -> float:
    """Weights this small lose precision in the weighted sums (subnormal floats)."""
    if value < MIN_WEIGHT:
        raise ValueError(f"must be at least {MIN_WEIGHT:.6f} (got {value:g})")
    return value


# Every float in a scheme is finite (`allow_inf_nan=False` on every model), no bool
# (`Number`), and bounded: points 0-100, weights up to MAX_WEIGHT so that their sums cannot
# overflow, tier bounds and breakpoints within +-MAX_MAGNITUDE so that exact arithmetic on
# them stays exact.
# (`Number` comes last: the last validator of an Annotated runs first, and the JSON
# schema is made from the constraints before it.)
Points = Annotated[float, Field(ge=0, le=100), Number]
Weight = Annotated[
    float,
    Field(gt=0, le=MAX_WEIGHT, description="relative weight, normalised at its level"),
    AfterValidator(_weight_precise),
    Number,
]


def _bound_not_tiny(value: float) -> float:
    # Polars' vectorised arithmetic may flush subnormal numbers to 0: a breakpoint at
    # -2.2e-313 made a segment of width 0 and a score of inf (found by hypothesis)
    if value != 0 and abs(value) < MIN_MAGNITUDE:
        raise ValueError(
            f"{value!r} is too small for a bound: write 0, or a number of at least "
            f"{MIN_MAGNITUDE:g} in size"
        )
    return value


Bound = Annotated[
    float,
    Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE),
    AfterValidator(_bound_not_tiny),
    Number,
]
BandFrom = Annotated[float, Field(ge=0, le=100), Number]
BandAbove = Annotated[float, Field(ge=0, lt=100), Number]
Reasons = Annotated[int, Field(ge=0, le=20), Number]
TrendSpan = Annotated[int, Field(gt=0, le=3660), Number]
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=NAME_PATTERN)]
Label = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=NAME_PATTERN)]


def _checked_sql(text: str) -> str:
    """Expressions are parsed when the scheme loads, so a bad one names its key and line."""
    parse_sql_expr(text)
    return text


SqlText = Annotated[str, AfterValidator(_checked_sql)]
# an input column's name, as the export writes it
ColumnName = Annotated[str, Field(min_length=1, max_length=MAX_COLUMN_CHARS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


@dataclass(frozen=True)
class Interval:
    """A real interval with optional open/closed ends; None means unbounded."""

    low: float | None = None
    low_strict: bool = False
    high: float | None = None
    high_strict: bool = False

    def contains(self, x: float) -> bool:
        if self.low is not None and (x <= self.low if self.low_strict else x < self.low):
            return False
        return not (
            self.high is not None and (x >= self.high if self.high_strict else x > self.high)
        )

    def is_empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        if self.low == self.high:
            return self.low_strict or self.high_strict
        return self.low > self.high

    def text(self) -> str:
        """Human form, as `chs check` shows it: `>= 40`, `10 <= x < 20`, `any value`."""
        lo = (
            None
            if self.low is None
            else f"{number_text(self.low)} {'<' if self.low_strict else '<='}"
        )
        hi = (
            None
            if self.high is None
            else f"{'<' if self.high_strict else '<='} {number_text(self.high)}"
        )
        if lo and hi:
            return f"{lo} x {hi}"
        if lo:
            return f"{'>' if self.low_strict else '>='} {number_text(self.low)}"  # type: ignore[arg-type]
        if hi:
            return hi
        return "any other value"


def number_text(x: float) -> str:
    """Print 40.0 as 40, 0.5 as 0.5 and 1e16 as 1e+16 (not with 17 digits)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


class Tier(_Strict):
    """One tier: the points given when the value is within its bounds.

    `at_least` (>=) and `at_most` (<=) are inclusive, `above` (>) and `below` (<) strict;
    a tier may have one lower and one upper bound. A tier with no bound is the catch-all.
    """

    at_least: Bound | None = Field(None, description="value >= at_least")
    above: Bound | None = Field(None, description="value > above")
    at_most: Bound | None = Field(None, description="value <= at_most")
    below: Bound | None = Field(None, description="value < below")
    points: Points

    @model_validator(mode="after")
    def _bounds(self) -> Tier:
        if self.at_least is not None and self.above is not None:
            raise ValueError("a tier takes one lower bound: at_least or above, not both")
        if self.at_most is not None and self.below is not None:
            raise ValueError("a tier takes one upper bound: at_most or below, not both")
        if self.interval().is_empty():
            raise ValueError(f"no value can match this tier ({self.interval().text()})")
        return self

    def interval(self) -> Interval:
        low = self.above if self.above is not None else self.at_least
        high = self.below if self.below is not None else self.at_most
        return Interval(low, self.above is not None, high, self.below is not None)

    @property
    def is_catch_all(self) -> bool:
        return self.interval() == Interval()


class Signal(_Strict):
    """One signal: where its value comes from, how it maps to points, and its weight."""

    column: str | None = Field(None, description="input column holding the value")
    expr: SqlText | None = Field(None, description="SQL expression over input columns (Polars SQL)")
    days_until: str | None = Field(
        None,
        description="date column: the value is the days from the run's date to it",
        exclude_if=lambda v: v is None,  # unset: the digest of a scheme without it holds
    )
    days_since: str | None = Field(
        None,
        description="date column: the value is the days from it to the run's date",
        exclude_if=lambda v: v is None,  # unset: the digest of a scheme without it holds
    )
    label: str | None = Field(None, description="human name shown in reports")
    weight: Weight
    points: list[Tier] | None = Field(
        None,
        min_length=1,
        max_length=MAX_TIERS,
        description="tiers, checked top to bottom; first match wins",
    )
    linear: list[tuple[Bound, Points]] | None = Field(
        None,
        min_length=2,
        max_length=MAX_LINEAR_POINTS,
        description="(value, points) breakpoints, interpolated and clamped at both ends",
    )
    map: dict[str, Points] | None = Field(
        None, min_length=1, max_length=MAX_MAP_ENTRIES, description="category -> points"
    )
    other: Points | None = Field(None, description="points for a category not in `map`")
    match: Literal["ignore_case", "exact"] | None = Field(
        None,
        description="how `map` compares a value with its categories, both trimmed: "
        "ignore_case (the default) or exact",
        exclude_if=lambda v: v is None,  # unset: the digest of a scheme without it holds
    )
    missing: Missing | None = Field(None, description="overrides the scheme's missing policy")

    @field_validator("map", mode="before")
    @classmethod
    def _map_keys_as_text(cls, value: Any) -> Any:
        # YAML reads `1: 100` as an int key and `true: 100` as a bool; compare as text.
        if isinstance(value, dict):
            return {_category_text(k): v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _shape(self) -> Signal:
        given = [k for k in _SOURCES if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "a signal takes exactly one of `column`, `expr`, `days_until` or `days_since`"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.dated is not None and self.map is not None:
            raise ValueError(f"`{given[0]}` gives a number of days: score it with tiers or linear")
        kinds = [k for k in ("points", "linear", "map") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "a signal takes exactly one of `points` (tiers), `linear` or `map`"
                + (f" (got {', '.join(kinds)})" if kinds else "")
            )
        if self.other is not None and self.map is None:
            raise ValueError("`other` goes with `map`")
        if self.match is not None and self.map is None:
            raise ValueError("`match` goes with `map`")
        if self.map is not None:
            _distinct_categories(self.map, exact=self.exact)
        if self.points is not None and not self.points[-1].is_catch_all:
            raise ValueError(
                "the last tier must be a catch-all with no bound, such as {points: 0}, "
                "so that every value gets points"
            )
        if self.linear is not None:
            xs = [x for x, _ in self.linear]
            if any(b <= a for a, b in pairwise(xs)):
                raise ValueError(f"linear breakpoint values must increase strictly (got {xs})")
        return self

    @property
    def kind(self) -> Literal["tiers", "linear", "map"]:
        if self.points is not None:
            return "tiers"
        return "linear" if self.linear is not None else "map"

    @property
    def numeric(self) -> bool:
        return self.kind != "map"

    @property
    def dated(self) -> str | None:
        """The date column a `days_until`/`days_since` signal reads."""
        return self.days_until if self.days_until is not None else self.days_since

    @property
    def read_column(self) -> str | None:
        """The input column the signal reads directly (not through an expression)."""
        return self.column if self.column is not None else self.dated

    @property
    def exact(self) -> bool:
        """Whether `map` compares case as written (`match: exact`)."""
        return self.match == "exact"

    def categories(self) -> dict[str, float]:
        """The map as the engine compares it: each category trimmed, and lowercased
        unless `match: exact`, with its points."""
        assert self.map is not None
        keys = category_keys(list(self.map), exact=self.exact)
        return dict(zip(keys, self.map.values(), strict=True))

    def category_of(self, value: str) -> str | None:
        """The category (as written in the scheme) a value falls in, if any."""
        assert self.map is not None
        *keys, wanted = category_keys([*self.map, value], exact=self.exact)
        return next((k for k, m in zip(self.map, keys, strict=True) if m == wanted), None)

    @property
    def max_points(self) -> float:
        if self.points is not None:
            return max(t.points for t in self.points)
        if self.linear is not None:
            return max(p for _, p in self.linear)
        assert self.map is not None
        return max([*self.map.values(), self.other or 0.0])


def category_keys(texts: list[str], *, exact: bool) -> list[str]:
    """Texts as a map compares them: trimmed, and lowercased unless `exact`; by Polars'
    own string functions, so that the keys and the values (lowered by the engine) meet."""
    series = pl.Series(texts, dtype=pl.String).str.strip_chars()
    return (series if exact else series.str.to_lowercase()).to_list()


def _distinct_categories(mapping: dict[str, float], *, exact: bool) -> None:
    """Two categories that compare equal would make one of them dead: an error naming both."""
    seen: dict[str, str] = {}
    for category, key in zip(mapping, category_keys(list(mapping), exact=exact), strict=True):
        if key in seen:
            how = "once trimmed" if exact else "ignoring case and surrounding spaces"
            hint = "; remove one" if exact else "; remove one, or add `match: exact`"
            raise LocatedError(
                ("map", category),
                f"categories {seen[key]!r} and {category!r} are the same {how}{hint}",
            )
        seen[key] = category


def _category_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


class Group(_Strict):
    """A weighted category of signals (the strategy article's five categories)."""

    label: str | None = None
    weight: Weight
    missing: Missing | None = Field(None, description="default missing policy for its signals")
    signals: dict[Name, Signal] = Field(min_length=1, max_length=MAX_SIGNALS)


class Band(_Strict):
    """A named score range. Bands are listed highest first; the last starts at 0."""

    name: Name
    label: Label | None = Field(
        None,
        description="the text shown for the band in tables (default: its name)",
        exclude_if=lambda v: v is None,  # unset: the digest of a scheme without it holds
    )
    from_: BandFrom | None = Field(None, alias="from", description="score >= from")
    above: BandAbove | None = Field(None, description="score > above")
    color: str | None = Field(None, description="colour for terminal tables")
    at_risk: bool = Field(
        False, description="counts as at risk (value at risk); default: the lowest band only"
    )

    @model_validator(mode="after")
    def _one_bound(self) -> Band:
        if (self.from_ is None) == (self.above is None):
            raise ValueError("a band takes exactly one of `from` (>=) or `above` (>)")
        if self.color is not None and self.color not in _BAND_COLORS:
            raise ValueError(f"unknown color {self.color!r}; use one of {', '.join(_BAND_COLORS)}")
        return self

    @property
    def threshold(self) -> float:
        return self.from_ if self.from_ is not None else self.above  # type: ignore[return-value]

    @property
    def strict(self) -> bool:
        return self.above is not None

    def text(self) -> str:
        return f"{'>' if self.strict else '>='} {number_text(self.threshold)}"

    @property
    def shown(self) -> str:
        """The text tables show: its label, else its name."""
        return self.label or self.name


SEVERITIES = ("low", "medium", "high", "critical")
TREND_COLUMN = re.compile(r"^change_(\d+)d$")


class Alert(_Strict):
    """A rule over the scored output: when its SQL condition holds, the row fires it."""

    name: Name
    label: Label | None = Field(
        None,
        description="the text shown for the alert in tables (default: its name)",
        exclude_if=lambda v: v is None,  # unset: the digest of a scheme without it holds
    )
    when: SqlText = Field(description="SQL condition over output columns, e.g. `score < 40`")
    action: str = Field(min_length=1, description="what to do, written in the alerts file")
    owner: str | None = Field(None, description="who acts: a team or role")
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    include: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None,
        min_length=1,
        max_length=MAX_ALERT_COLUMNS,
        description="input columns carried into the alerts file on this alert's lines "
        "(an account's name, its owner's email), so that each line reaches a person",
        exclude_if=lambda v: v is None,  # unset: the digest of a scheme without it holds
    )

    @field_validator("include")
    @classmethod
    def _each_once(cls, include: list[str] | None) -> list[str] | None:
        return list(dict.fromkeys(include)) if include is not None else None

    @property
    def shown(self) -> str:
        """The text tables show: its label, else its name."""
        return self.label or self.name

    def columns(self) -> list[str]:
        """The columns its condition reads."""
        return list(dict.fromkeys(parse_sql_expr(self.when).meta.root_names()))


@dataclass(frozen=True)
class FlatSignal:
    """A signal with where it sits: its group and its nominal share of the whole score."""

    name: str
    signal: Signal
    group: str | None
    share: float  # nominal share of the total score (0-1) when every signal has data
    missing: str | float  # the policy in force, after scheme and group defaults

    @property
    def whole_points(self) -> bool:
        """Whether every points value the signal can give is a whole number (tiers, a
        map and its `other`, fixed points for a missing value; a linear signal only if
        flat): its points column is then written as a 16-bit integer."""
        sig = self.signal
        if sig.points is not None:
            values = [t.points for t in sig.points]
        elif sig.linear is not None:
            values = [p for _, p in sig.linear]
            if len(set(values)) > 1:
                return False  # interpolated between the breakpoints
        else:
            assert sig.map is not None
            values = [*sig.map.values(), *([sig.other] if sig.other is not None else [])]
        if not isinstance(self.missing, str):
            values.append(self.missing)
        return all(float(v).is_integer() for v in values)


def check_bands(bands: list[Band]) -> list[Band]:
    """Unique names, highest first, decreasing thresholds, the last from 0."""
    names = [b.name for b in bands]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"band names must be unique (repeated: {', '.join(dupes)})")
    keys = [(b.threshold, b.strict) for b in bands]
    if any(b >= a for a, b in pairwise(keys)):
        raise ValueError(
            "bands must be listed highest first with decreasing thresholds "
            f"(got {', '.join(f'{b.name} {b.text()}' for b in bands)})"
        )
    last = bands[-1]
    if last.strict or last.threshold != 0:
        raise ValueError(
            f"the last band must start at 0 (`from: 0`) so every score has a band; "
            f"{last.name!r} starts at {last.text()}"
        )
    return bands


def _one_definition(
    signals: dict[str, Signal] | None, groups: dict[str, Group] | None, loc: tuple[str, ...]
) -> None:
    """Exactly one of signals or groups, and signal names unique across groups."""
    if (signals is None) == (groups is None):
        where = (*loc, "groups") if groups is not None else loc
        raise LocatedError(where, "takes exactly one of `signals` or `groups`")
    seen: dict[str, str] = {}
    for group_name, group in (groups or {}).items():
        for name in group.signals:
            if name in seen:
                raise LocatedError(
                    (*loc, "groups", group_name, "signals", name),
                    f"signal {name!r} is in both groups {seen[name]!r} and {group_name!r}; "
                    "signal names must be unique",
                )
            seen[name] = group_name


def signal_places(scheme: Scheme) -> list[tuple[tuple[str, ...], Signal]]:
    """Every signal of a scheme as written, with its key path: its own, its segments' and
    its extra scores', in or out of groups (what the scheme-wide limits count)."""
    parts: list[tuple[tuple[str, ...], Segment | ExtraScore | Scheme]] = [((), scheme)]
    parts += [(("segments", str(i)), seg) for i, seg in enumerate(scheme.segments or [])]
    parts += [(("scores", name), extra) for name, extra in (scheme.scores or {}).items()]
    places: list[tuple[tuple[str, ...], Signal]] = []
    for loc, part in parts:
        places += [((*loc, "signals", n), sig) for n, sig in (part.signals or {}).items()]
        for gname, group in (part.groups or {}).items():
            places += [
                ((*loc, "groups", gname, "signals", n), sig) for n, sig in group.signals.items()
            ]
    return places


def check_totals(scheme: Scheme) -> None:
    """Signals and rules (tiers, breakpoints, categories) in all, within their limits.

    Each rule is one step of a when/then chain in the scoring plan, whose cost grows
    faster than its length: the per-signal limits bound one chain, these the whole plan.
    """
    places = signal_places(scheme)
    if len(places) > MAX_SIGNALS:
        raise LocatedError(
            places[MAX_SIGNALS][0],
            f"too many signals: {len(places):,} in all (segments, groups and scores "
            f"counted); the limit is {MAX_SIGNALS:,}",
        )
    rules = [len(sig.points or sig.linear or sig.map or ()) for _, sig in places]
    if sum(rules) > MAX_RULES:
        total = 0
        for (loc, sig), count in zip(places, rules, strict=True):
            total += count
            if total > MAX_RULES:
                raise LocatedError(
                    (*loc, {"tiers": "points"}.get(sig.kind, sig.kind)),
                    f"too many rules: {sum(rules):,} tiers, breakpoints and categories in "
                    f"all (segments, groups and scores counted); the limit is {MAX_RULES:,}",
                )


class Segment(_Strict):
    """A definition for the customers matching `when` (first match wins; no `when`: all
    the others, and it must come last). Segments share the scheme's bands."""

    name: Name
    when: SqlText | None = Field(None, description="SQL condition over input columns")
    missing: Missing | None = None
    reasons: Reasons | None = None
    signals: dict[Name, Signal] | None = Field(None, min_length=1, max_length=MAX_SIGNALS)
    groups: dict[Name, Group] | None = Field(None, min_length=1, max_length=MAX_GROUPS)


class ExtraScore(_Strict):
    """A score computed beside the main one, written as `<name>_score`, `<name>_band`…"""

    label: str | None = None
    missing: Missing | None = None
    reasons: Reasons | None = None
    signals: dict[Name, Signal] | None = Field(None, min_length=1, max_length=MAX_SIGNALS)
    groups: dict[Name, Group] | None = Field(None, min_length=1, max_length=MAX_GROUPS)
    bands: list[Band] = Field(min_length=1, max_length=MAX_BANDS)

    @field_validator("bands")
    @classmethod
    def _bands_order(cls, bands: list[Band]) -> list[Band]:
        return check_bands(bands)


class Scheme(_Strict):
    """A health-score definition: signals (or groups of signals), weights, bands."""

    model_config = ConfigDict(
        extra="forbid",
        populate_by_name=True,
        allow_inf_nan=False,
        json_schema_extra={"title": "chs scheme"},
    )

    name: str = Field(min_length=1)
    description: str | None = None
    id: str = Field(min_length=1, description="customer id column")
    value: str | None = Field(None, description="revenue column (MRR, ARR), for value at risk")
    missing: Missing = Field("redistribute", description="default policy for a missing value")
    reasons: Reasons = Field(3, description="how many reasons each row lists")
    signals: dict[Name, Signal] | None = Field(None, min_length=1, max_length=MAX_SIGNALS)
    groups: dict[Name, Group] | None = Field(None, min_length=1, max_length=MAX_GROUPS)
    segments: list[Segment] | None = Field(
        None,
        min_length=1,
        max_length=MAX_SEGMENTS,
        description="definitions by segment, first match wins",
    )
    scores: dict[Name, ExtraScore] | None = Field(
        None,
        max_length=MAX_SCORES,
        description="more scores beside the main one, each under its own prefix",
    )
    bands: list[Band] = Field(min_length=1, max_length=MAX_BANDS)
    parent: str | None = Field(None, description="parent account column, for account roll-ups")
    trends: list[TrendSpan] = Field(
        default_factory=list,
        max_length=MAX_TRENDS,
        description="day spans for change_<N>d columns (those alerts use are added anyway)",
    )
    alerts: list[Alert] = Field(default_factory=list, max_length=MAX_ALERTS)
    columns: dict[ColumnName, ColumnType] | None = Field(
        None,
        max_length=MAX_DECLARED_COLUMNS,
        description="how to read input columns: type, percent, currency, date format, na",
        exclude_if=lambda v: v is None,  # unset: the digest of a scheme without it holds
    )

    _source: Path | None = PrivateAttr(None)
    _warnings: list[str] = PrivateAttr(default_factory=list)
    _notes: list[str] = PrivateAttr(default_factory=list)
    _lines: dict[tuple[str, ...], int] = PrivateAttr(default_factory=dict)
    _subs: dict[str, Scheme] | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _structure(self) -> Scheme:
        kinds = [k for k in ("signals", "groups", "segments") if getattr(self, k) is not None]
        if len(kinds) != 1:
            where = (kinds[-1],) if kinds else ()
            raise LocatedError(
                where, "a scheme takes exactly one of `signals`, `groups` or `segments`"
            )
        for i, seg in enumerate(self.segments or []):
            _one_definition(seg.signals, seg.groups, ("segments", str(i)))
            if seg.name in [s.name for s in (self.segments or [])[:i]]:
                raise LocatedError(
                    ("segments", str(i), "name"),
                    f"segment names must be unique ({seg.name!r} repeats)",
                )
            if seg.when is None and i != len(self.segments or []) - 1:
                raise LocatedError(
                    ("segments", str(i)),
                    f"segment {seg.name!r} has no `when`, so it takes every customer left: "
                    "it must come last",
                )
        for name, extra in (self.scores or {}).items():
            _one_definition(extra.signals, extra.groups, ("scores", name))
        names = [a.name for a in self.alerts]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise LocatedError(
                    ("alerts", str(i), "name"), f"alert names must be unique ({name!r} repeats)"
                )
        if self.segments is None:
            _one_definition(self.signals, self.groups, ())
        check_totals(self)
        return self

    @field_validator("bands")
    @classmethod
    def _bands_order(cls, bands: list[Band]) -> list[Band]:
        return check_bands(bands)

    # -- derived views -------------------------------------------------------------------

    def definitions(self) -> list[tuple[str, Scheme]]:
        """The score definitions rows are routed to: one per segment, or the scheme."""
        if self.segments is None:
            return [(self.name, self)]
        return [(seg.name, self._sub(seg.name, seg, self.bands)) for seg in self.segments]

    def extra_scores(self) -> list[tuple[str, Scheme]]:
        """The scores computed beside the main one (`scores:`), each with its bands, by
        the name its columns take (`Inertia Score` -> `Inertia_Score_score`)."""
        return [
            (column_part(n), self._sub(n, extra, extra.bands))
            for n, extra in (self.scores or {}).items()
        ]

    def _sub(self, name: str, part: Segment | ExtraScore, bands: list[Band]) -> Scheme:
        """A segment or an extra score as a scheme of its own (same id and value)."""
        if self._subs is None:
            self._subs = {}
        key = f"{type(part).__name__}:{name}"
        if key not in self._subs:
            data = {
                "name": f"{self.name}:{name}",
                "id": self.id,
                "value": self.value,
                "missing": part.missing if part.missing is not None else self.missing,
                "reasons": part.reasons if part.reasons is not None else self.reasons,
                "signals": part.signals,
                "groups": part.groups,
                "bands": bands,
                "columns": self.columns,
            }
            self._subs[key] = Scheme.model_validate(data)
        return self._subs[key]

    def all_signals(self) -> list[FlatSignal]:
        """Every signal of every definition and extra score (for the columns to read)."""
        out: list[FlatSignal] = []
        for _, d in self.definitions() + self.extra_scores():
            out += d.flat_signals()
        return out

    def flat_signals(self) -> list[FlatSignal]:
        """Every signal in scheme order with its group, nominal share and missing policy.
        For a scheme with segments: the signals of every segment, each name once."""
        if self.segments is not None:
            seen: dict[str, FlatSignal] = {}
            for _, d in self.definitions():
                for f in d.flat_signals():
                    seen.setdefault(f.name, f)
            return list(seen.values())
        if self.signals is not None:
            total = sum(s.weight for s in self.signals.values())
            return [
                FlatSignal(
                    n, s, None, s.weight / total, first_policy(s.missing, None, self.missing)
                )
                for n, s in self.signals.items()
            ]
        assert self.groups is not None
        out: list[FlatSignal] = []
        gtotal = sum(g.weight for g in self.groups.values())
        for gname, group in self.groups.items():
            stotal = sum(s.weight for s in group.signals.values())
            for n, s in group.signals.items():
                share = group.weight / gtotal * s.weight / stotal
                out.append(
                    FlatSignal(
                        n, s, gname, share, first_policy(s.missing, group.missing, self.missing)
                    )
                )
        return out

    @property
    def source(self) -> Path | None:
        return self._source

    @property
    def warnings(self) -> list[str]:
        """Likely mistakes (unreachable or overlapping tiers), shown on every run."""
        return list(self._warnings)

    @property
    def notes(self) -> list[str]:
        """Weights that do not sum to 100 at a level, shown by `chs check`."""
        return list(self._notes)

    def at_risk_bands(self) -> list[str]:
        """Bands whose customers count as at risk: those flagged, else the lowest."""
        flagged = [b.name for b in self.bands if b.at_risk]
        return flagged or [self.bands[-1].name]

    def where(self, *loc: str) -> str:
        """`file:line` of a key path, for errors found when the scheme meets data."""
        line = line_for(tuple(loc), self._lines)
        path = self._source or "<scheme>"
        return f"{path}:{line}" if line else str(path)

    def line_of(self, *loc: str) -> int | None:
        """The line a key path is written on, if it is written (not a parent's)."""
        return self._lines.get(tuple(loc))

    def written_keys(self) -> list[tuple[str, ...]]:
        """Every key path written in the scheme's file, in the order written."""
        return list(self._lines)

    def signal_path(self, name: str, key: str) -> tuple[str, ...]:
        """The key path of a signal's key wherever the signal sits (in a group, a
        segment or an extra score), for messages; the top-level one if not found."""
        tail = ("signals", name, key)
        found = next((k for k in self._lines if k[-3:] == tail), None)
        return found if found is not None else tail

    def trend_spans(self) -> list[int]:
        """Day spans of the change_<N>d columns: declared ones and those alerts read."""
        spans = set(self.trends)
        for alert in self.alerts:
            for col in alert.columns():
                match = TREND_COLUMN.match(col)
                if match:
                    spans.add(int(match.group(1)))
        return sorted(spans)

    @property
    def digest(self) -> str:
        """Hash of the normalised content: comments and layout do not change it."""
        payload = json.dumps(self.model_dump(mode="json", by_alias=True), separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:12]


def first_policy(*levels: str | float | None) -> str | float:
    return next(level for level in levels if level is not None)


def check_column_names(scheme: Scheme) -> None:
    """Names that become parts of column names (signals as `points_<signal>`, groups as
    `group_<group>`, extra scores as `<score>_score`, bands as a roll-up's
    `share_<band>`) must leave something once made safe, and two of one kind must not
    become the same column: a SchemeError naming both, with their lines."""
    for kind, column, places in _column_names(scheme):
        seen: dict[str, tuple[tuple[str, ...], str]] = {}
        for loc, name in places:
            part = column_part(name)
            if not part:
                raise SchemeError(
                    f"{scheme.where(*loc)}: {key_path(loc)}: {kind} {name!r} has no letter or "
                    f"digit (A-Z, 0-9) to make its column {column.format('…')}; rename it"
                )
            first, other = seen.setdefault(part, (loc, name))
            if other != name:
                raise SchemeError(
                    f"{scheme.where(*loc)}: {key_path(loc)}: {kind}s {other!r} "
                    f"({scheme.where(*first)}) and {name!r} both become the column "
                    f"{column.format(part)}; rename one"
                )


def check_output_columns(scheme: Scheme) -> None:
    """Two different names must not make one output column across kinds either: the
    signal `score` (points_score) and the extra score `points` (points_score) would
    write one column twice. A SchemeError naming both, with their lines."""
    seen: dict[str, tuple[tuple[str, ...], str]] = {}
    for kind, column, places in _column_names(scheme):
        if kind == "band":  # a roll-up's column, not the scored output's
            continue
        for loc, name in places:
            made = column.format(column_part(name))
            first, what = seen.setdefault(made, (loc, f"{kind} {name!r}"))
            if what != f"{kind} {name!r}":  # segments repeat their signals' names
                raise SchemeError(
                    f"{scheme.where(*loc)}: {key_path(loc)}: {what} ({scheme.where(*first)}) "
                    f"and {kind} {name!r} both become the column {made}; rename one"
                )
    fixed = ("band", "coverage", "reasons")
    for name in scheme.scores or {}:
        for column in (f"{column_part(name)}_{c}" for c in fixed):
            if column in seen:
                first, what = seen[column]
                raise SchemeError(
                    f"{scheme.where('scores', name)}: scores.{name}: the score {name!r} "
                    f"writes the column {column}, as {what} ({scheme.where(*first)}) does; "
                    "rename one"
                )


def _column_names(scheme: Scheme) -> list[tuple[str, str, list[tuple[tuple[str, ...], str]]]]:
    """(kind, column, [(key path, name)]) for each set of names whose columns must differ:
    the signals and groups of the scheme and its segments, those of each extra score,
    the extra scores, the bands."""
    spaces: dict[str, list[tuple[tuple[str, ...], Signal]]] = {}
    for loc, sig in signal_places(scheme):
        spaces.setdefault(loc[1] if loc[0] == "scores" else "", []).append((loc, sig))
    out: list[tuple[str, str, list[tuple[tuple[str, ...], str]]]] = []
    for score, places in spaces.items():
        prefix = f"{column_part(score)}_" if score else ""
        out.append(("signal", f"{prefix}points_{{}}", [(loc, loc[-1]) for loc, _ in places]))
        groups = [loc[: loc.index("groups") + 2] for loc, _ in places if "groups" in loc]
        out.append(("group", f"{prefix}group_{{}}", [(g, g[-1]) for g in dict.fromkeys(groups)]))
    out.append(("score", "{}_score", [(("scores", n), n) for n in scheme.scores or {}]))
    bands = [(("bands", str(i), "name"), b.name) for i, b in enumerate(scheme.bands)]
    out.append(("band", "share_{}", bands))
    return out
