"""A scheme described for people: effective weights, each signal's rules, band ranges
(`chs check` prints it; `--json` returns it)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any, TypedDict

from chs.scheme import Scheme, Signal, number_text


class Rule(TypedDict):
    """One row of a signal's mapping: `points` is a number, `50 to 100` on a linear
    segment, or `row rejected`."""

    when: str
    points: float | str


class BandRange(TypedDict):
    """A band and the score range it covers."""

    band: str
    color: str | None
    range: str


class SignalDescription(TypedDict):
    """One signal of a definition: where it reads, its weight and share, its rules."""

    name: str
    label: str | None
    group: str | None
    source: str  # `column x` or `expr ...`
    kind: str
    weight: float
    share: float  # effective, percent of the whole score
    missing: str | float  # redistribute, zero, reject, or fixed points
    rules: list[Rule]


class GroupDescription(TypedDict):
    """One group of a definition, with its share of the whole score."""

    name: str
    label: str | None
    weight: float
    share: float


class Definition(TypedDict):
    """A definition's groups and signals."""

    groups: list[GroupDescription] | None
    signals: list[SignalDescription] | None  # None for a segmented scheme's top level


class SegmentDescription(Definition):
    """A segment's definition and which customers it scores."""

    name: str
    when: str | None


class ScoreDescription(Definition):
    """An extra score of the scheme."""

    name: str
    bands: list[BandRange]


class SchemeInfo(TypedDict):
    """What identifies the scheme and its defaults."""

    name: str
    hash: str
    description: str | None
    id: str
    value: str | None
    missing: str | float  # redistribute, zero, reject, or fixed points
    source: str | None


class SchemeDescription(Definition):
    """What `describe` returns (and `chs check --json` prints)."""

    scheme: SchemeInfo
    segments: list[SegmentDescription] | None
    scores: list[ScoreDescription]
    bands: list[BandRange]
    trends: list[str]
    alerts: list[dict[str, Any]]  # each alert as the scheme declares it
    columns: list[ColumnDescription]  # the declared columns (`columns:`)
    warnings: list[str]


def _source(sig: Signal) -> str:
    """What a signal reads, as `chs check` shows it."""
    if sig.column is not None:
        return f"column {sig.column}"
    if sig.dated is not None:
        return f"{'days_until' if sig.days_until else 'days_since'} {sig.dated}"
    return f"expr {sig.expr}"


class ColumnDescription(TypedDict):
    """A declared column: its type and how its text is read."""

    column: str
    type: str
    reading: str  # `percent; currency`, `format %d/%m/%Y`, `na: -, n/a`; empty: as written


def declared_columns(scheme: Scheme) -> list[ColumnDescription]:
    """The scheme's `columns:`, in its order."""
    out: list[ColumnDescription] = []
    for name, how in (scheme.columns or {}).items():
        parts = [k for k in ("percent", "currency") if getattr(how, k)]
        if how.decimal_comma is not None:
            parts.append("decimal comma" if how.decimal_comma else "decimal point")
        if how.format is not None:
            parts.append(f"format {how.format}")
        if how.na:
            parts.append("na: " + ", ".join(how.na))
        if how.type == "date" and how.format is None:
            parts.insert(0, "ISO (YYYY-MM-DD)")
        out.append({"column": name, "type": how.type, "reading": "; ".join(parts)})
    return out


def signal_rules(signal: Signal) -> list[Rule]:
    """The signal's mapping as rows `{when, points}`, in the order they apply."""
    if signal.points is not None:
        return [{"when": t.interval().text(), "points": t.points} for t in signal.points]
    if signal.linear is not None:
        (x0, y0), (xn, yn) = signal.linear[0], signal.linear[-1]
        rows: list[Rule] = [{"when": f"<= {number_text(x0)}", "points": y0}]
        for (xa, ya), (xb, yb) in pairwise(signal.linear):
            rows.append(
                {
                    "when": f"{number_text(xa)} to {number_text(xb)}",
                    "points": f"{number_text(ya)} to {number_text(yb)}",
                }
            )
        rows.append({"when": f">= {number_text(xn)}", "points": yn})
        return rows
    assert signal.map is not None
    rows = [Rule(when=f"= {k}", points=v) for k, v in signal.map.items()]
    rows.append(
        {
            "when": "any other",
            "points": signal.other if signal.other is not None else "row rejected",
        }
    )
    return rows


def band_ranges(scheme: Scheme) -> list[BandRange]:
    """Each band with the score range it covers, such as `71 <= score < 91`."""
    out: list[BandRange] = []
    upper: str | None = None
    for band in scheme.bands:
        low = f"{number_text(band.threshold)} {'<' if band.strict else '<='} score"
        out.append({"band": band.name, "color": band.color, "range": f"{low} {upper or '<= 100'}"})
        upper = f"{'<=' if band.strict else '<'} {number_text(band.threshold)}"
    return out


def _definition(d: Scheme) -> Definition:
    """One definition's groups and signals with their effective shares and rules."""
    signals: list[SignalDescription] = []
    for flat in d.flat_signals():
        sig = flat.signal
        signals.append(
            {
                "name": flat.name,
                "label": sig.label,
                "group": flat.group,
                "source": _source(sig),
                "kind": sig.kind,
                "weight": sig.weight,
                "share": round(flat.share * 100, 2),
                "missing": flat.missing,
                "rules": signal_rules(sig),
            }
        )
    groups = None
    if d.groups is not None:
        total = sum(g.weight for g in d.groups.values())
        groups = [
            {
                "name": n,
                "label": g.label,
                "weight": g.weight,
                "share": round(g.weight / total * 100, 2),
            }
            for n, g in d.groups.items()
        ]
    return {"groups": groups, "signals": signals}


def describe(scheme: Scheme) -> SchemeDescription:
    """The scheme's effective weights (percent of the whole score), rules and bands; each
    segment's definition and each extra score's."""
    main: Definition = (
        _definition(scheme) if scheme.segments is None else {"groups": None, "signals": None}
    )
    return {
        "scheme": {
            "name": scheme.name,
            "hash": scheme.digest,
            "description": scheme.description,
            "id": scheme.id,
            "value": scheme.value,
            "missing": scheme.missing,
            "source": str(scheme.source) if scheme.source else None,
        },
        **main,
        "segments": None
        if scheme.segments is None
        else [
            {"name": seg.name, "when": seg.when, **_definition(d)}
            for seg, (_, d) in zip(scheme.segments, scheme.definitions(), strict=True)
        ],
        "scores": [
            {"name": name, **_definition(d), "bands": band_ranges(d)}
            for name, d in scheme.extra_scores()
        ],
        "bands": band_ranges(scheme),
        "trends": [f"change_{n}d" for n in scheme.trend_spans()],
        "alerts": [a.model_dump() for a in scheme.alerts],
        "columns": declared_columns(scheme),
        "warnings": scheme.notes + scheme.warnings,
    }
