"""`chs check`: what a scheme means in numbers, and how it fares against a data file.

The rules shown come from the same `Tier.interval` the engine scores with.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import polars as pl

from chs.alerts import add_alerts
from chs.columns import DEFINITION, OK, REASON, internal
from chs.files import CsvOptions
from chs.scheme import Scheme, Signal, number_text
from chs.sources import collect, planned
from chs.summary import REJECT_SAMPLE, reject_lines

HISTOGRAM_BINS = 10


def signal_rules(signal: Signal) -> list[dict[str, Any]]:
    """The signal's mapping as rows `{when, points}`, in the order they apply."""
    if signal.points is not None:
        return [{"when": t.interval().text(), "points": t.points} for t in signal.points]
    if signal.linear is not None:
        (x0, y0), (xn, yn) = signal.linear[0], signal.linear[-1]
        rows = [{"when": f"<= {number_text(x0)}", "points": y0}]
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
    rows = [{"when": f"= {k}", "points": v} for k, v in signal.map.items()]
    rows.append(
        {
            "when": "any other",
            "points": signal.other if signal.other is not None else "row rejected",
        }
    )
    return rows


def band_ranges(scheme: Scheme) -> list[dict[str, Any]]:
    """Each band with the score range it covers, such as `71 <= score < 91`."""
    out = []
    upper: str | None = None
    for band in scheme.bands:
        low = f"{number_text(band.threshold)} {'<' if band.strict else '<='} score"
        out.append({"band": band.name, "color": band.color, "range": f"{low} {upper or '<= 100'}"})
        upper = f"{'<=' if band.strict else '<'} {number_text(band.threshold)}"
    return out


def _definition(d: Scheme) -> dict[str, Any]:
    """One definition's groups and signals with their effective shares and rules."""
    signals = []
    for flat in d.flat_signals():
        sig = flat.signal
        signals.append(
            {
                "name": flat.name,
                "label": sig.label,
                "group": flat.group,
                "source": f"column {sig.column}" if sig.column is not None else f"expr {sig.expr}",
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


def describe(scheme: Scheme) -> dict[str, Any]:
    """The scheme's effective weights (percent of the whole score), rules and bands; each
    segment's definition and each extra score's."""
    main = _definition(scheme) if scheme.segments is None else {"groups": None, "signals": None}
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
        "warnings": scheme.notes + scheme.warnings,
    }


def check_data(scheme: Scheme, path: str | Path, csv: CsvOptions | None = None) -> dict[str, Any]:
    """Score `path` without writing: columns and types, missing shares, the distribution."""
    source = Path(path)
    csv = csv or CsvOptions()
    with planned(source, scheme, csv) as (data, plan):
        schema = data.frame.collect_schema()
        add_alerts(plan.scored, scheme)  # an alert naming a column the rows lack is an error
        bins = (
            (pl.col("score") // (100 / HISTOGRAM_BINS)).clip(0, HISTOGRAM_BINS - 1).cast(pl.Int32)
        )
        # Missing shares per definition (with segments: among the rows routed to it).
        segmented = scheme.segments is not None
        signals = [
            (dname, f, prefix)
            for dname, (d, prefix) in plan.definitions.items()
            for f in d.flat_signals()
        ]
        routed = {
            dname: (pl.col(DEFINITION) == dname) if segmented else pl.lit(True)
            for dname in plan.definitions
        }
        queries = [
            plan.checked.select(
                pl.len().alias("read"),
                (~pl.col(OK)).sum().alias("rejected"),
                *[
                    (~pl.col(internal("has", f.name, prefix)))
                    .filter(routed[dname])
                    .mean()
                    .alias(f"{dname}/{f.name}")
                    for dname, f, prefix in signals
                ],
                *[routed[dname].sum().alias(f"routed/{dname}") for dname in plan.definitions],
            ),
            plan.rejected.head(REJECT_SAMPLE).select(
                "row", pl.col(scheme.id).cast(pl.String).alias("id"), REASON
            ),
            plan.scored.group_by("band").agg(pl.len().alias("customers")),
            plan.scored.group_by(bins.alias("bin")).agg(pl.len().alias("customers")),
        ]
        counts, sample, bands, hist = collect(queries, data)
    head = counts.row(0, named=True)
    read, rejected = int(head["read"]), int(head["rejected"])
    per_band = dict(bands.iter_rows())
    per_bin = dict(hist.iter_rows())
    width = 100 // HISTOGRAM_BINS
    columns = []
    for dname, f, _ in signals:
        sig = f.signal
        col = sig.column
        dtype = data.inferred.get(col, schema[col]) if col is not None else None
        columns.append(
            {
                **({"definition": dname} if segmented else {}),
                "signal": f.name,
                "column": col if col is not None else f"expr {sig.expr}",
                "type": str(dtype) if dtype is not None else "expression",
                "missing_share": round(float(head[f"{dname}/{f.name}"] or 0.0), 4),
            }
        )
    return {
        "file": str(source),
        "rows": {"read": read, "scored": read - rejected, "rejected": rejected},
        "rejected_sample": reject_lines({"reject_sample": sample}),
        "columns": columns,
        "bands": [
            {"band": b.name, "customers": int(per_band.get(b.name, 0))} for b in scheme.bands
        ],
        "histogram": [
            {
                "range": f"{i * width}-{(i + 1) * width}",
                "customers": int(per_bin.get(i, 0)),
            }
            for i in range(HISTOGRAM_BINS)
        ],
        "definitions": {d: int(head[f"routed/{d}"]) for d in plan.definitions}
        if segmented
        else None,
        "warnings": plan.warnings,
    }
