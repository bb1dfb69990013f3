"""The report's stages: open the scored file (and the previous snapshot, the history's
earlier ones, the outcomes), check they belong together, aggregate the numbers,
render the page. Nothing is written here."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from chs.errors import HINT_SCHEME, DataError, OptionError
from chs.exprs import band_order
from chs.files import CsvOptions
from chs.history import list_snapshots, parse_date
from chs.htmlreport.numbers import Portfolio, page_numbers
from chs.htmlreport.page import render
from chs.outcomes import read_outcomes
from chs.rollup import check_by
from chs.snapshot import Snapshot, open_snapshot, recorded, scheme_mismatch


@dataclass(frozen=True)
class PageRequest:
    """What the page is made of, as the caller gave it."""

    scored: Path
    by: list[list[str]] = field(default_factory=list)
    previous: Path | None = None
    history: Path | None = None
    outcomes: Path | None = None
    outcome: str | None = None  # the outcomes file's yes/no column, if not dated
    churned_on: str = "churned_on"
    horizon: int = 90
    title: str | None = None
    top: int = 10
    owner: str | None = "owner"  # the at-risk list's owner column, when the file has it


@dataclass
class Page:
    numbers: dict[str, Any]
    meta: dict[str, Any]
    html: str
    warnings: list[str]


def build_page(request: PageRequest) -> Page:
    """Open everything, aggregate, render."""
    if request.previous is not None and request.history is not None:
        raise OptionError(
            "{option} takes a previous snapshot or a history, not both", option="previous"
        )
    info = recorded(request.scored)
    columns = [c for spec in request.by for c in spec]
    with contextlib.ExitStack() as stack:
        this = _open_this(stack, request, info)
        have = _columns(this)
        check_by(request.by, sorted(have), str(request.scored))
        past, previous, warnings = _earlier(stack, request, this, columns)
        portfolio = _portfolio(request, info, this, have, previous, past)
        numbers = page_numbers(portfolio)
    meta = {
        "title": request.title or f"Customer health: {this.scheme_name or request.scored.name}",
        "input": str(request.scored),
        "scheme": {"name": this.scheme_name, "hash": this.scheme_hash},
        "as_of": this.as_of,
        "value_column": this.value_column,
    }
    return Page(numbers, meta, render(numbers, meta), warnings)


def _open_this(stack: contextlib.ExitStack, request: PageRequest, info: dict[str, Any]) -> Snapshot:
    """The scored file with the columns the page shows; an empty one is an error."""
    extra = ["reasons", "coverage", "alerts", *[c for spec in request.by for c in spec]]
    extra += [request.owner] if request.owner else []
    try:
        this = stack.enter_context(
            open_snapshot(request.scored, None, role="scored file", extra=extra)
        )
    except DataError as exc:
        if exc.hint != HINT_SCHEME:
            raise
        raise DataError(  # chs report takes no scheme: the file must be a scored one
            f"{request.scored}: not a scored file (no score and band columns); run chs score first"
        ) from None
    if this.frame.select(pl.len()).collect().item() == 0:
        raise DataError(f"{request.scored}: no scored customers: there is nothing to report")
    return this


def _columns(this: Snapshot) -> frozenset[str]:
    assert this.data is not None
    return frozenset(this.data.frame.collect_schema().names())


def _earlier(
    stack: contextlib.ExitStack, request: PageRequest, this: Snapshot, columns: list[str]
) -> tuple[list[tuple[dt.date, Snapshot]], Snapshot | None, list[str]]:
    """The history's snapshots before this one (oldest first) and the previous one; a
    snapshot scored with another scheme than this file's is an error."""
    warnings: list[str] = []
    if request.previous is not None:
        previous = stack.enter_context(
            open_snapshot(request.previous, None, role="previous snapshot", extra=columns)
        )
        _same_scheme(previous, this)
        return [], previous, warnings
    if request.history is None:
        return [], None, warnings
    if not request.history.is_dir():
        raise DataError(f"{request.history}: no such history folder")
    listing = list_snapshots(request.history)
    warnings += listing.warnings
    until = parse_date(this.as_of, f"{this.path}: as_of") if this.as_of else None
    past = []
    for when, path in listing.snapshots:
        if until is not None and when >= until:
            continue
        snap = stack.enter_context(
            open_snapshot(path, None, role="history snapshot", extra=columns)
        )
        _same_scheme(snap, this)
        past.append((when, snap))
    return past, past[-1][1] if past else None, warnings


def _same_scheme(other: Snapshot, this: Snapshot) -> None:
    found = scheme_mismatch(other, this)
    if found is not None and other.scheme_hash and this.scheme_hash:
        raise DataError(
            f"{this.path}: scored with scheme {this.scheme_name} ({this.scheme_hash}), but "
            f"{other.path} with {other.scheme_name} ({other.scheme_hash}); a report compares "
            "snapshots of one scheme"
        )


def _portfolio(
    request: PageRequest,
    info: dict[str, Any],
    this: Snapshot,
    have: frozenset[str],
    previous: Snapshot | None,
    past: list[tuple[dt.date, Snapshot]],
) -> Portfolio:
    """The bands (as the file records them, else as the scores order them), and the rest."""
    scored = this.frame.filter(pl.col("score").is_not_null() & pl.col("band").is_not_null())
    seen = band_order([scored.group_by("band").agg(pl.col("score").max()).collect()])
    bands = info.get("bands") or seen
    colors = info.get("colors") or [None] * len(bands)
    edges = info.get("from") or [None] * len(bands)  # not drawn where not recorded
    outcomes = None
    if request.outcomes is not None:
        outcomes = read_outcomes(
            str(request.outcomes), id_column=this.id_column, outcome=request.outcome,
            churned_on=request.churned_on, csv=CsvOptions(),
        )  # fmt: skip
    return Portfolio(
        this=this, bands=bands, at_risk=info.get("at_risk") or [bands[-1]], colors=colors,
        edges=edges, by=request.by, owner=request.owner if request.owner in have else None,
        top=request.top, have=have, previous=previous, past=tuple(past), outcomes=outcomes,
        horizon=request.horizon,
    )  # fmt: skip
