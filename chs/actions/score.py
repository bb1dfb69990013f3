"""`score_file`: read an export, score it with a scheme, write outputs, return the summary.

The input is read once: the scored rows (and rejects) stream to temporary files while
the summary aggregates and the checks are computed in the same Polars run. The files
are renamed into place only when the run stands; when rows cannot be scored and no
rejects file is given, they are removed and nothing is written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from chs.alerts import add_alerts, alert_rows, flag_columns
from chs.columns import ID_HASH, KEY, REASON, ROW
from chs.engine import ScoringPlan, build_plan
from chs.errors import DataError, OptionError
from chs.exprs import id_hash, id_key, repeated_hashes
from chs.files import (
    CsvOptions,
    Input,
    PendingWrites,
    check_outputs,
    open_input,
    read_error,
    typed_first,
)
from chs.history import Listing, list_snapshots, open_past, parse_date, previous_in, snapshot_path
from chs.movement import (
    PREVIOUS_ONLY,
    add_movement,
    build_movement,
    movement_queries,
    previous_lookup,
    previous_rows,
)
from chs.rollup import build_parents, build_rollups, check_by, parent_query, rollup_queries
from chs.scheme import Scheme
from chs.snapshot import Snapshot, metadata, one_row_per_customer, open_snapshot, scheme_mismatch
from chs.sources import collect, scheme_text_columns
from chs.summary import (
    alert_queries,
    build_alerts,
    build_matrices,
    build_summary,
    matrix_queries,
    reject_lines,
    summary_queries,
)
from chs.trends import add_trends, trend_lookups


@dataclass(frozen=True)
class ScoreOptions:
    output: Path | None = None
    rejects: Path | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    keep: list[str] | None = None
    top: int = 10
    previous: Path | None = None  # a scored output or a raw export of the previous snapshot
    history: Path | None = None  # the history folder (as_of=YYYY-MM-DD/scores.parquet)
    as_of: dt.date | None = None  # this snapshot's date (default with --history: today)
    alerts: Path | None = None  # where to write one line per fired alert
    by: list[list[str]] = field(default_factory=list)  # roll-ups: [["segment"], ["region"]]
    more: list[Scheme] = field(default_factory=list)  # schemes scored beside, under <name>_


def side_scores(scheme: Scheme, more: list[Scheme]) -> list[tuple[str, Scheme]]:
    """Schemes given after the first `--scheme`: scored beside it, under `<name>_`."""
    out = []
    taken = {name for name, _ in scheme.extra_scores()}
    for other in more:
        if other.id != scheme.id:
            raise OptionError(
                f"{other.source}: its id column {other.id!r} differs from {scheme.source}'s "
                f"{scheme.id!r}; schemes scored together must share the id"
            )
        name = re.sub(r"\W", "_", other.name)
        if name in taken or name == scheme.name:
            raise OptionError(f"{other.source}: two scores are named {name!r}; rename one scheme")
        taken.add(name)
        out.append((name, other))
    return out


def score_file(
    input_path: str | Path, scheme: Scheme, options: ScoreOptions = ScoreOptions()
) -> dict[str, Any]:
    """Score one file. Returns the summary (plain data, JSON-ready)."""
    source = Path(input_path)
    if options.top < 0:
        raise OptionError("--top must be 0 or more")
    as_of = options.as_of or (dt.date.today() if options.history else None)
    listing = list_snapshots(options.history) if options.history else None
    target = snapshot_path(options.history, as_of) if options.history and as_of else None
    previous_path = options.previous
    if previous_path is None and listing is not None and as_of is not None:
        found = previous_in(listing, as_of)
        previous_path = found[1] if found else None
    outputs = [
        p for p in (options.output, options.rejects, options.alerts, target) if p is not None
    ]
    inputs = [source] + [p for p in (scheme.source, previous_path) if p is not None]
    check_outputs(outputs, inputs)
    extra = side_scores(scheme, options.more)
    careful = [c for s in [scheme, *options.more] for c in scheme_text_columns(s)]

    def run(text: bool, duplicates: list[str] | None) -> dict[str, Any]:
        """One scoring run; `text`: read the scheme's CSV columns as text (careful path).
        `duplicates`: the repeated ids, if known; if not (None), the run assumes there
        are none and checks after its pass, raising `_Repeated` to be run again."""
        warnings: list[str] = list(scheme.warnings) + (listing.warnings if listing else [])

        text_columns = careful if text else [scheme.id]
        with contextlib.ExitStack() as stack:
            data = stack.enter_context(open_input(source, options.csv, text_columns))
            plan = build_plan(
                data.frame,
                scheme,
                source=str(source),
                keep=options.keep,
                decimal_comma=options.csv.decimal_comma,
                inferred=data.inferred,
                extra=extra,
                duplicates=duplicates or [],
            )
            warnings += plan.warnings
            previous = None
            if previous_path is not None:
                previous = stack.enter_context(
                    open_snapshot(previous_path, scheme, options.csv, role="previous snapshot")
                )
                mismatch = scheme_mismatch(previous, _this(scheme, source))
                warnings += [mismatch] if mismatch else []
                if previous.rejected:
                    warnings.append(
                        f"{previous_path}: {previous.rejected} rows of the previous export cannot be scored; they count as absent"
                    )
            # What the rows need from earlier snapshots is gathered first, in memory, one
            # row per customer, and joined to the rows before they are scored.
            lookups = [previous_lookup(previous)] if previous is not None else []
            trend_dates: dict[str, str | None] = {}
            past = None
            if as_of is not None and (listing is not None or previous is not None):
                past = _past(stack, listing, as_of, previous, scheme)
                more, trend_dates = trend_lookups(as_of, past, scheme.trend_spans(), previous)
                lookups += more
            lookup = _gathered(lookups, data, previous)
            carry = (
                [c for c in lookup.collect_schema().names() if c not in (KEY, *PREVIOUS_ONLY)]
                if lookup is not None
                else None
            )
            frame, rejected_rows, every_row = plan.split(lookup, KEY, carry=carry)
            if as_of is not None:
                frame = frame.with_columns(pl.lit(as_of).alias("as_of"))
            if previous is not None:
                frame = add_movement(frame)
            if past is not None:
                assert as_of is not None
                frame = add_trends(frame, as_of, past, scheme.trend_spans(), previous)
            frame, inactive = add_alerts(frame, scheme)
            if options.by:
                check_by(options.by, frame.collect_schema().names(), str(source))
            written = frame.drop([*flag_columns(scheme), *plan.working])

            writes = [(written, options.output)] if options.output else []
            writes += [(rejected_rows, options.rejects)] if options.rejects else []
            writes += (
                [(alert_rows(frame, scheme, plan.value_column), options.alerts)]
                if options.alerts
                else []
            )
            writes += [(written, target)] if target else []
            meta = metadata(scheme, as_of.isoformat() if as_of else None)
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chs-")))
            narrow_path, rejects_path = work / "summary.parquet", work / "rejects.parquet"
            # One streaming pass over the input writes every output to a temporary file,
            # and, for the summary, the few columns it reads and the rejected rows. The
            # files are renamed into place only if the run stands.
            with PendingWrites(writes, dict.fromkeys(outputs, meta)) as pending:
                keep = _summary_columns(frame, scheme, plan, options.by)
                proxy = data.width_proxy(every_row)
                done = collect(
                    [
                        *pending.sinks,
                        frame.select(*keep, ID_HASH).sink_parquet(narrow_path, **_WORK_FILE),
                        rejected_rows.select(
                            ROW, REASON, scheme.id, id_hash(id_key(scheme.id)).alias(ID_HASH)
                        ).sink_parquet(rejects_path, **_WORK_FILE),
                        *([proxy] if proxy is not None else []),
                    ],
                    data,
                    engine="streaming",
                    widths=False,  # the proxy tells whether the lines must be counted
                )
                if proxy is not None and done[-1]["short"].item():
                    # the last column has empty values: count the lines (raises for a short one)
                    collect([], data, engine="streaming")
                if duplicates is None:
                    repeated = _repeated_ids([narrow_path, rejects_path], scheme.id)
                    if repeated:
                        raise _Repeated(repeated)
                scored = pl.scan_parquet(narrow_path)
                rejected = pl.scan_parquet(rejects_path)
                queries = summary_queries(
                    scored, rejected, scheme.id, plan.value_column, options.top, plan.reasons
                )
                if previous is not None:
                    lowest = scheme.bands[-1].name
                    queries |= movement_queries(
                        scored,
                        previous_rows(lookup) if lookup is not None else previous.frame,
                        scheme.id,
                        plan.value_column,
                        lowest,
                        options.top,
                        plan.reasons,
                    )
                queries |= alert_queries(scored, scheme)
                queries |= matrix_queries(
                    scored, [*scheme.extra_scores(), *extra], plan.value_column
                )
                bands = [b.name for b in scheme.bands]
                if options.by:
                    queries |= rollup_queries(
                        scored, options.by, bands, plan.value_column, delta=previous is not None
                    )
                if scheme.parent is not None:
                    queries["parents"] = parent_query(
                        scored, scheme.parent, bands, plan.value_column
                    )
                frames = dict(
                    zip(
                        queries,
                        pl.collect_all(list(queries.values()), engine="streaming"),
                        strict=True,
                    )
                )
                summary = build_summary(scheme, scheme.id, plan.value_column, frames)
                rows = summary["rows"]
                if rows["read"] == 0:
                    raise DataError(f"{source}: the file has a header but no data rows")
                if rows["rejected"] and options.rejects is None:
                    lines = reject_lines(frames)
                    more = rows["rejected"] - len(lines)
                    raise DataError(
                        f"{source}: {rows['rejected']} of {rows['read']} rows cannot be scored; nothing was written.\n  "
                        + "\n  ".join(lines)
                        + (f"\n  … and {more} more" if more > 0 else "")
                        + "\nFix the data, or pass --rejects FILE to write these rows there and score the rest."
                    )
                if previous is not None:
                    moves = build_movement(frames)
                    prev_rows = int(frames["previous_rows"].item())
                    common = rows["scored"] - moves["movement"]["new"]
                    if prev_rows and rows["scored"] and not common:
                        raise DataError(
                            f"{source} and the previous snapshot {previous.path} have no customer in common; "
                            f"are they the same portfolio, with the same id column ({scheme.id})?"
                        )
                pending.commit()
        return {
            "input": str(source),
            "output": str(options.output) if options.output else None,
            "rejects": str(options.rejects) if options.rejects else None,
            "alerts_file": str(options.alerts) if options.alerts else None,
            "as_of": as_of.isoformat() if as_of else None,
            "history": str(target) if target else None,
            **summary,
            "previous": None
            if previous is None
            else {
                "path": str(previous.path),
                "as_of": previous.as_of,
                "scheme": previous.scheme_name,
                "hash": previous.scheme_hash,
                "rescored": previous.rescored,
                **moves,
            },
            "trends": trend_dates,
            "alerts": build_alerts(scheme, frames, inactive),
            "matrices": build_matrices(
                frames, scheme, [*scheme.extra_scores(), *extra], plan.value_column
            ),
            "rollups": build_rollups(
                frames,
                options.by,
                [b.name for b in scheme.bands],
                scheme.at_risk_bands(),
                has_value=plan.value_column is not None,
                delta=previous is not None,
            ),
            "parents": build_parents(
                frames["parents"],
                [b.name for b in scheme.bands],
                has_value=plan.value_column is not None,
            )[: options.top]
            if scheme.parent is not None
            else None,
            "rejected_sample": reject_lines(frames),
            "warnings": warnings,
        }

    def attempt(text: bool) -> dict[str, Any]:
        try:
            return run(text, None)
        except _Repeated as found:  # rare: run again, rejecting the repeated ids
            return run(text, found.ids)

    return typed_first(attempt)


# Working files of a run (read back once, then deleted): fast to write rather than small.
_WORK_FILE: dict[str, Any] = {"lazy": True, "compression": "lz4", "statistics": False}


class _Repeated(Exception):
    """The pass found repeated ids: the run is done again with them known."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} repeated ids")
        self.ids = ids


# Hashes sorted at once, at most: 128 MB. Beyond, the check goes through the hashes in
# parts (by hash modulo), so its memory stays bounded whatever the row count.
_HASHES_AT_ONCE = 16_000_000


def _repeated_ids(paths: list[Path], id_column: str) -> list[str]:
    """The repeated ids among the rows a pass wrote (scored and rejected): their 64-bit
    hashes, sorted, show the repeats (8 bytes a row, no hash table); the exact ids are
    then found among the few rows whose hash repeats. Empty ids have no hash."""
    hashes = pl.concat([pl.scan_parquet(p).select(ID_HASH) for p in paths])
    rows = int(hashes.select(pl.len()).collect().item())
    parts = max(1, -(-rows // _HASHES_AT_ONCE))
    found: list[pl.Series] = []
    for part in range(parts):
        ordered = (
            hashes.filter(pl.col(ID_HASH) % parts == part)
            .select(pl.col(ID_HASH).drop_nulls().sort())
            .collect(engine="streaming")[ID_HASH]
        )
        found.append(repeated_hashes(ordered))
        del ordered
    repeated = pl.concat(found).unique()
    if repeated.len() == 0:
        return []
    exact = (
        pl.concat(
            [pl.scan_parquet(p).select(id_key(id_column).alias("id"), ID_HASH) for p in paths]
        )
        .filter(pl.col(ID_HASH).is_in(repeated.implode()))
        .group_by("id")
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") > 1)
        .collect()
    )
    return sorted(i for i in exact["id"].to_list() if i is not None)


def _gathered(
    lookups: list[pl.LazyFrame], data: Input, previous: Snapshot | None
) -> pl.LazyFrame | None:
    """The lookups, collected and joined into one table by customer (KEY). The first is
    the previous snapshot's when there is one: a customer listed twice there would list
    the customer twice in the output, so that is an error."""
    if not lookups:
        return None
    try:
        frames = pl.collect_all(lookups, engine="streaming")
    except pl.exceptions.PolarsError as exc:
        raise read_error(exc, data) from None
    if previous is not None:
        one_row_per_customer(previous, frames[0][KEY])
    table = frames[0]
    for more in frames[1:]:
        table = table.join(more, on=KEY, how="full", coalesce=True)
    return table.lazy()


def _summary_columns(
    frame: pl.LazyFrame, scheme: Scheme, plan: ScoringPlan, by: list[list[str]]
) -> list[str]:
    """The columns the summary reads, among those the scored rows have (for the reasons,
    their working columns: the text is written only for the rows the summary lists)."""
    from chs.columns import ALERTS_COLUMN

    have = frame.collect_schema().names()
    wanted = [scheme.id, plan.value_column, scheme.parent, *[c for spec in by for c in spec]]
    wanted += [
        "score",
        "band",
        "coverage",
        *plan.reasons.meta.root_names(),
        "previous_score",
        "delta",
        "previous_band",
        "movement",
    ]
    wanted += [c for c in have if c.endswith("_band") or c.startswith("__alert_")]
    return [c for c in dict.fromkeys(wanted) if c is not None and c in have and c != ALERTS_COLUMN]


def _this(scheme: Scheme, source: Path) -> Snapshot:
    """This run's identity, for the scheme-mismatch warning."""
    return Snapshot(
        source, pl.LazyFrame(), scheme.id, scheme.value, scheme.name, scheme.digest, None
    )


def _past(
    stack: contextlib.ExitStack,
    listing: Listing | None,
    as_of: dt.date,
    previous: Snapshot | None,
    scheme: Scheme,
) -> list[tuple[dt.date, Snapshot]]:
    """Earlier snapshots for trends: the history's, or else the previous file if dated."""
    if listing is not None:
        before = [(d, p) for d, p in listing.snapshots if d < as_of]
        opened = stack.enter_context(open_past(before, None))
        # The latest is the previous snapshot when it came from the history: share it.
        if opened and previous is not None and opened[-1][1].path == previous.path:
            opened[-1] = (opened[-1][0], previous)
        return opened
    if previous is not None and previous.as_of:
        return [(parse_date(previous.as_of, f"{previous.path}: as_of"), previous)]
    return []
