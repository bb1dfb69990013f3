"""`score`: read an export, score it with a scheme, write outputs, return the summary.

The input is read once: the scored rows (and rejects) stream to temporary files while
the summary aggregates and the checks are computed in the same Polars run. The files
are renamed into place only when the run stands; when rows cannot be scored and no
rejects file is given, they are removed and nothing is written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import polars as pl

from chs.alerts import add_alerts, alert_columns, alert_rows, flag_columns
from chs.columns import ALERTS_COLUMN, ID_HASH, KEY, REASON, ROW, STREAK, run_columns
from chs.engine import ScoringPlan, build_plan
from chs.engine.checks import DataChecks, data_check_queries, data_checks
from chs.engines import check_engine, score_on_duckdb_engine
from chs.errors import HINT_REJECTS, ChsError, DataError, OptionError, polars_gist
from chs.exprs import id_hash, id_key, repeated_hashes
from chs.files import (
    CsvOptions,
    Input,
    PendingWrites,
    TypesGuessedWrong,
    WorkFolder,
    check_outputs,
    open_input,
    output_format,
    stdin_copy,
)
from chs.history import (
    Listing,
    check_target,
    list_snapshots,
    open_past,
    parse_date,
    partition_folders,
    previous_in,
)
from chs.movement import (
    LOST,
    NEW,
    PREVIOUS_ONLY,
    RESPELLED,
    add_movement,
    build_movement,
    movement_queries,
    previous_lookup,
    previous_rows,
    respelled_warning,
)
from chs.numbers import check_count
from chs.rollup import build_parents, build_rollups, check_by, parent_query, rollup_queries
from chs.scheme import Scheme
from chs.scheme import load_scheme as load_scheme  # for `chs score`
from chs.snapshot import (
    Snapshot,
    gather_lookups,
    in_key_order,
    key_steps,
    metadata,
    one_row_per_customer,
    open_snapshot,
    scheme_mismatch,
)
from chs.sources import collect, scheme_columns, typed_columns
from chs.spreadsheet import for_excel
from chs.summary import (
    alert_queries,
    build_alerts,
    build_matrices,
    build_summary,
    matrix_queries,
    reject_lines,
    summary_queries,
)
from chs.trends import add_trends, carries_streak, needed, trend_lookups


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
    excel_csv: bool = False  # CSV outputs for a comma-decimal Excel (chs.spreadsheet)
    alerts_keep: list[str] | None = None  # input columns carried into the alerts file
    engine: str = "polars"  # what scores the rows: "polars" or "duckdb" (chs.engines)


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


class ScoreSummary(TypedDict):
    """What `score` returns (and `chs score --json` prints): the run's files, the
    summary of the scored rows, and what earlier snapshots, alerts and roll-ups add."""

    input: str
    output: str | None
    rejects: str | None
    alerts_file: str | None
    as_of: str | None
    history: str | None
    scheme: dict[str, str]
    id_column: str
    rows: dict[str, int]
    score: dict[str, float | None]
    coverage: dict[str, float | int | None]
    value: dict[str, Any]
    bands: list[dict[str, Any]]
    at_risk: list[dict[str, Any]]
    at_risk_bands: list[str]
    at_risk_top: int
    previous: dict[str, Any] | None
    trends: dict[str, str | None]
    alerts: list[dict[str, Any]]
    matrices: list[dict[str, Any]]
    rollups: list[dict[str, Any]]
    parents: list[dict[str, Any]] | None
    rejected_sample: list[str]
    warnings: list[str]


@dataclass(frozen=True)
class _Run:
    """A run's request, resolved once before any data is read (the `prepare` stage)."""

    source: Path
    scheme: Scheme
    options: ScoreOptions
    as_of: dt.date | None
    listing: Listing | None
    target: Path | None  # this snapshot's file in the history folder
    previous_path: Path | None
    outputs: list[Path]
    extra: list[tuple[str, Scheme]]  # schemes scored beside, by name
    read: list[str]  # the columns the schemes read (as text from an Excel sheet)
    typed: list[str]  # the CSV columns read with the types found over the whole file
    # the types of the first rows, which the pass itself checks (none to find first);
    # a value past them of another type makes the run read the file again without
    guess: bool = True
    # the lookup merged when it is in id order (the rows taken to be); a pass whose rows
    # were not misses matches, and the run is done again with a hash join
    merge: bool = True


@dataclass(frozen=True)
class _Sources:
    """The opened input and its plan, the previous snapshot and earlier ones, and the
    lookup of what the rows need from them (one row per customer)."""

    data: Input
    plan: ScoringPlan
    previous: Snapshot | None
    past: list[tuple[dt.date, Snapshot]] | None
    lookup: pl.LazyFrame | None
    trend_dates: dict[str, str | None]
    warnings: list[str]
    feed: ScoringPlan  # the plan whose rows the DuckDB engine scores (every column)
    hidden: list[str] = field(default_factory=list)  # carried for the alerts file alone
    ordered: bool = False  # the lookup is the previous snapshot's, in id order: merged


@dataclass(frozen=True)
class _Rows:
    """The lazy rows of a run: scored (with working columns), rejected, every row, and
    the scored rows as written; `inactive`: alerts that cannot fire in this run."""

    scored: pl.LazyFrame
    rejected: pl.LazyFrame
    every: pl.LazyFrame
    written: pl.LazyFrame
    inactive: list[str]
    reasons: pl.Expr  # the reasons text over `scored` (from working columns, or DuckDB's)


def score(
    input_path: str | Path, scheme: Scheme, options: ScoreOptions = ScoreOptions()
) -> ScoreSummary:
    """Score one file. Returns the summary (plain data, JSON-ready).

    The typed fast path runs first; if a value cannot be parsed, the run is done again
    reading the scheme's columns as text, which names the rows. A pass that finds
    repeated ids is done again with them known, rejecting them. `-` reads standard
    input, copied once to a working file (which messages name: `…/stdin.csv`)."""
    with stdin_copy(Path(input_path)) as source:
        if source == Path(input_path):
            return _score_source(source, scheme, options)
        try:
            summary = _score_source(source, scheme, options)
        except ChsError as exc:  # named as the user named it, not as the working copy
            exc.template = exc.template.replace(str(source), "-")
            exc.message = exc.naming(exc.option)
            exc.args = (exc.message,)
            raise
    summary["input"] = "-"
    return summary


def _score_source(source: Path, scheme: Scheme, options: ScoreOptions) -> ScoreSummary:
    """`score` of a file."""
    run = _prepare(source, scheme, options)
    try:
        return _score_typed(run)
    except TypesGuessedWrong:  # a value past the first rows is not of their type
        return _score_typed(dataclasses.replace(run, guess=False))


def _score_typed(run: _Run) -> ScoreSummary:
    """`score` with the run's way of typing the CSV's columns."""
    try:
        return _score_joined(run)
    except _Unordered:  # the rows were not in id order: join the previous one by hash
        return _score_joined(dataclasses.replace(run, merge=False))


def _score_joined(run: _Run) -> ScoreSummary:
    """`score` with the run's way of joining the earlier snapshot."""
    try:
        return _score(run, None)
    except _Repeated as found:  # rare: run again, rejecting the repeated ids
        return _score(run, found.ids)


def _prepare(source: Path, scheme: Scheme, options: ScoreOptions) -> _Run:
    """Check the options and resolve the dates, the history and the outputs."""
    check_count(options.top, "top")
    check_engine(options.engine, scheme, 1 + len(options.more))
    if options.alerts_keep and options.alerts is None:
        raise OptionError(
            "{option} names columns for the alerts file, but none is written",
            option="alerts_keep",
        )
    as_of = options.as_of or (dt.date.today() if options.history else None)
    target = check_target(options.history, as_of) if options.history and as_of else None
    listing = list_snapshots(options.history, writing=True) if options.history else None
    previous_path = options.previous
    if previous_path is None and listing is not None and as_of is not None:
        found = previous_in(listing, as_of)
        previous_path = found[1] if found else None
    outputs = [
        p for p in (options.output, options.rejects, options.alerts, target) if p is not None
    ]
    inputs = [source] + [p for p in (scheme.source, previous_path) if p is not None]
    check_outputs(outputs, inputs)
    return _Run(
        source=source,
        scheme=scheme,
        options=options,
        as_of=as_of,
        listing=listing,
        target=target,
        previous_path=previous_path,
        outputs=outputs,
        extra=side_scores(scheme, options.more),
        read=scheme_columns([scheme, *options.more]),
        typed=typed_columns([scheme, *options.more]),
    )


def _score(run: _Run, duplicates: list[str] | None) -> ScoreSummary:
    """One scoring run. `duplicates`: the repeated ids, if known; if not (None), the run assumes there are
    none and checks after its pass, raising `_Repeated` to be run again."""
    with contextlib.ExitStack() as stack:
        sources = _open_sources(stack, run, duplicates)
        work = stack.enter_context(WorkFolder())
        rows = _scored_rows(run, sources, work, duplicates is None)
        meta = metadata(run.scheme, run.as_of.isoformat() if run.as_of else None)
        with PendingWrites(
            for_excel(_writes(run, sources, rows), run.options.excel_csv),
            dict.fromkeys(run.outputs, meta),
            sweep=_swept(run),
        ) as pending:
            passed = _checked_pass(
                run,
                sources,
                rows,
                pending.sinks,
                work,
                _summary_output(run, sources, rows, pending),
            )
            if not passed.in_order:  # merged with the previous snapshot, out of id order
                raise _Unordered
            if duplicates is None and not passed.distinct:
                repeated = _repeated_ids(
                    [passed.hashes, passed.rejected], [passed.keyed, passed.rejected], run.scheme.id
                )
                if repeated:
                    raise _Repeated(repeated)
            sources.warnings.extend(passed.checks.warnings)
            # an empty value column has no totals to show (they would all read 0.00)
            value = None if passed.checks.value_empty else sources.plan.value_column
            frames = _summary_frames(run, sources, passed, value)
            summary = build_summary(run.scheme, run.scheme.id, value, frames)
            moves = build_movement(frames) if sources.previous is not None else None
            _check_counts(run, sources, summary, frames, moves)
            sources.warnings.extend(_respelled(run, sources, frames))
            pending.commit()
    return _result(run, sources, summary, frames, rows.inactive, moves, value)


def _swept(run: _Run) -> list[Path]:
    """The history's partition folders, swept of a killed run's temporaries."""
    return partition_folders(run.options.history) if run.options.history else []


def _added_columns(run: _Run) -> list[str]:
    """The columns this run adds beside the plan's (date, movement, trends): an input
    column of one of these names gives way to chs's, with a warning."""
    trended = run.as_of is not None and (run.listing is not None or run.previous_path is not None)
    return run_columns(
        dated=run.as_of is not None,
        previous=run.previous_path is not None or run.target is not None,
        trend_spans=run.scheme.trend_spans() if trended else None,
    )


def _open_sources(stack: contextlib.ExitStack, run: _Run, duplicates: list[str] | None) -> _Sources:
    """Open the input and plan it; open the previous snapshot and the earlier ones, and
    gather what the rows need from them in memory, one row per customer."""
    scheme = run.scheme
    warnings = list(scheme.warnings) + (run.listing.warnings if run.listing else [])
    data = stack.enter_context(
        open_input(run.source, run.options.csv, run.read, typed=run.typed, guess=run.guess)
    )
    keep, hidden = _kept(run, data.frame.collect_schema().names())
    plan = _plan(run, data, keep, duplicates)
    warnings += plan.warnings
    # DuckDB reads every column the scheme does, kept or not
    feed = _plan(run, data, None, duplicates) if run.options.engine == "duckdb" else plan
    previous = _open_previous(stack, run, warnings)
    lookups = [previous_lookup(previous)] if previous is not None else []
    trend_dates: dict[str, str | None] = {}
    past = None
    if run.as_of is not None and (run.listing is not None or previous is not None):
        past = _past(stack, run.listing, run.as_of, previous, scheme)
        more, trend_dates = trend_lookups(run.as_of, past, scheme.trend_spans(), previous)
        lookups += more
    lookup, ordered = _gathered(gather_lookups(lookups), _earlier(previous, past), previous)
    ordered = ordered and run.merge and run.options.engine != "duckdb"
    return _Sources(
        data, plan, previous, past, lookup, trend_dates, warnings, feed, hidden, ordered
    )


def _plan(
    run: _Run, data: Input, keep: list[str] | None, duplicates: list[str] | None
) -> ScoringPlan:
    """The scoring plan over the input, carrying `keep` (None: every column)."""
    return build_plan(
        data.frame,
        run.scheme,
        source=str(run.source),
        keep=keep,
        decimal_comma=run.options.csv.decimal_comma,
        as_of=run.as_of,
        first_row=data.first_row,
        extra=run.extra,
        duplicates=duplicates or [],
        added=_added_columns(run),
    )


def _kept(run: _Run, columns: list[str]) -> tuple[list[str] | None, list[str]]:
    """The input columns to carry (None: all of them), with those the alerts file reads
    (`alerts_keep`, the alerts' `include`, checked here); and those of them carried for
    the alerts file alone, which the scored output does not show."""
    scheme, keep = run.scheme, run.options.keep
    carried = alert_columns(scheme, run.options.alerts_keep, columns, str(run.source))
    if keep is None:
        return None, []
    shown = {*keep, scheme.id, scheme.value, scheme.parent}
    return [*keep, *carried], [c for c in carried if c not in shown]


def _open_previous(stack: contextlib.ExitStack, run: _Run, warnings: list[str]) -> Snapshot | None:
    """The previous snapshot, if any; a scheme that changed or rows that could not be
    rescored add a warning."""
    if run.previous_path is None:
        return None
    previous = stack.enter_context(
        open_snapshot(
            run.previous_path,
            run.scheme,
            run.options.csv,
            role="previous snapshot",
            as_of=run.as_of,
            extra=[STREAK],  # the band streak the trends go on from (chs.trends)
        )
    )
    mismatch = scheme_mismatch(previous, _this(run.scheme, run.source))
    warnings += [mismatch] if mismatch else []
    if previous.rejected:
        warnings.append(
            f"{run.previous_path}: {previous.rejected} rows of the previous export cannot be scored; they count as absent"
        )
    return previous


def _scored_rows(run: _Run, sources: _Sources, work: WorkFolder, unchecked: bool) -> _Rows:
    """Split the rows (the lookup joined first; scored on DuckDB if asked), then add the
    date, movement, trends and alerts; `written` drops the working columns. `unchecked`:
    the ids are not yet known to be unique (DuckDB's pre-pass tells, `_Repeated`)."""
    plan, previous, lookup = sources.plan, sources.previous, sources.lookup
    carry = (
        [c for c in lookup.collect_schema().names() if c not in (KEY, *PREVIOUS_ONLY)]
        if lookup is not None
        else None
    )
    frame, rejected, every = plan.split(lookup, KEY, carry=carry, ordered=sources.ordered)
    if run.options.engine == "duckdb":
        fed = sources.feed.split(lookup, KEY, carry=carry)[0] if sources.feed is not plan else frame
        on = score_on_duckdb_engine(fed, frame, plan, sources.data, run.scheme, run.as_of, work)
        found = [pl.scan_parquet(on.rows)]
        repeated = _repeated_ids(found, found, run.scheme.id) if on.short else []
        if on.short and not (repeated and unchecked):
            raise RuntimeError("DuckDB left out rows chs accepted, and no id repeats among them")
        if repeated:
            raise _Repeated(repeated)
        frame, plan = on.frame, on.plan
    if run.as_of is not None:
        frame = frame.with_columns(pl.lit(run.as_of).alias("as_of"))
    if previous is not None:
        frame = add_movement(frame)
    if sources.past is not None:
        assert run.as_of is not None
        frame = add_trends(frame, run.as_of, sources.past, run.scheme.trend_spans(), previous)
    frame, inactive = add_alerts(frame, run.scheme, run.as_of)
    if run.options.by:
        check_by(run.options.by, frame.collect_schema().names(), str(run.source))
    written = frame.drop([*flag_columns(run.scheme), *plan.working, *sources.hidden])
    if run.target is not None:  # the output is the history's snapshot: the same columns
        written = _snapshot_rows(written)
    return _Rows(frame, rejected, every, written, inactive, plan.reasons)


def _writes(run: _Run, sources: _Sources, rows: _Rows) -> list[tuple[pl.LazyFrame, Path]]:
    """Each output file and the rows it holds."""
    options = run.options
    writes = [(rows.written, options.output)] if options.output else []
    writes += [(rows.rejected, options.rejects)] if options.rejects else []
    if options.alerts:
        keep = options.alerts_keep
        alerts = alert_rows(rows.scored, run.scheme, sources.plan.value_column, keep)
        writes.append((alerts, options.alerts))
    writes += [(rows.written, run.target)] if run.target else []
    return writes


# The columns a snapshot with a previous one gains (movement.add_movement's), typed.
_MOVEMENT: dict[str, type[pl.DataType]] = {
    "previous_score": pl.Float64,
    "delta": pl.Float64,
    "previous_band": pl.String,
    "movement": pl.String,
}


def _snapshot_rows(written: pl.LazyFrame) -> pl.LazyFrame:
    """The rows of a history snapshot (and of the run's output): the first (no previous
    one) carries the movement columns empty, where the later ones have them, so that
    every snapshot of a history scored with one scheme has one schema and
    `pl.scan_parquet("history/")` reads the folder as one table."""
    names = written.collect_schema().names()
    if "previous_score" in names or "as_of" not in names:
        return written
    at = names.index("as_of") + 1
    empty = [pl.lit(None, dtype).alias(name) for name, dtype in _MOVEMENT.items()]
    return written.select(*names[:at], *empty, *names[at:])


class ScoreOutOfRange(RuntimeError):
    """A score outside 0-100 (or not a number) reached the outputs: a bug, never written."""


def _score_columns(run: _Run, rows: _Rows) -> list[str]:
    """The main score's column and each extra score's (`<name>_score`)."""
    have = rows.scored.collect_schema().names()
    names = [n for n, _ in [*run.scheme.extra_scores(), *run.extra]]
    return [c for c in ["score", *[f"{n}_score" for n in names]] if c in have]


def _range_query(rows: _Rows, columns: list[str]) -> pl.LazyFrame:
    """Per score column: how many rows lie outside 0-100 or are NaN/infinite (Polars
    orders NaN above every number, so `is_between` is false for it), and the first such
    value; collected with the sinks, so it costs no pass of its own."""
    checks = []
    for i, c in enumerate(columns):
        bad = pl.col(c).is_not_null() & ~pl.col(c).is_between(0, 100)
        checks += [bad.sum().alias(f"n{i}"), pl.col(c).filter(bad).first().alias(f"v{i}")]
    return rows.scored.select(checks)


def _check_range(found: pl.DataFrame, columns: list[str]) -> None:
    """Raise ScoreOutOfRange for the first score column with a value outside 0-100."""
    row = found.row(0, named=True)
    for i, c in enumerate(columns):
        if row[f"n{i}"]:
            raise ScoreOutOfRange(
                f"{row[f'n{i}']} rows have a {c} outside 0-100 (such as {row[f'v{i}']}); "
                "nothing was written"
            )


def _checked_pass(
    run: _Run,
    sources: _Sources,
    rows: _Rows,
    sinks: list[pl.LazyFrame],
    work: WorkFolder,
    output: Path | None,
) -> _Passed:
    """The streaming pass, with the input checked unchanged before and after it: a file
    truncated or rewritten meanwhile makes Polars fail obscurely (or panic), or read
    fewer rows without a word. The engine's panics are internal errors. An OSError is a
    read of the input failing, unless a write recorded a failure: the block of the
    PendingWrites (or the WorkFolder) then reports that one instead."""
    data = sources.data
    data.check_unchanged()
    try:
        done = _streaming_pass(run, sources, rows, sinks, work, output)
    except (Exception, pl.exceptions.PanicException) as exc:
        data.check_unchanged()
        _check_earlier_unchanged(sources)
        if isinstance(exc, pl.exceptions.PanicException):
            raise RuntimeError(f"the engine failed: {polars_gist(exc)}") from None
        if isinstance(exc, OSError):  # a failed write was recorded: the caller names it
            raise DataError(f"{data.path}: cannot read: {exc.strerror or exc}") from None
        raise
    data.check_unchanged()
    return done


def _check_earlier_unchanged(sources: _Sources) -> None:
    """The lookup is read in the pass: an earlier snapshot changed meanwhile is named."""
    changed = _changed(_earlier(sources.previous, sources.past))
    if changed is not None:
        raise changed


def _earlier(
    previous: Snapshot | None, past: list[tuple[dt.date, Snapshot]] | None
) -> list[Snapshot]:
    """The earlier snapshots a run reads, each once: the previous, then the past ones."""
    earlier = [previous] if previous is not None else []
    return earlier + [p for _, p in past or [] if p is not previous]


def _changed(earlier: list[Snapshot]) -> DataError | None:
    """The error for the first earlier snapshot whose file changed since it was opened."""
    for snapshot in earlier:
        changed = snapshot.data.changed() if snapshot.data is not None else None
        if changed is not None:
            return changed
    return None


def _streaming_pass(
    run: _Run,
    sources: _Sources,
    rows: _Rows,
    sinks: list[pl.LazyFrame],
    work: WorkFolder,
    output: Path | None,
) -> _Passed:
    """One streaming pass over the input writes every output to its temporary file,
    and, for the summary, the rejected rows and the few columns it reads (unless it
    reads them from `output`, the temporary file of a Parquet output that has them);
    the scores are checked to lie within 0-100 in the same pass, the alerts and the
    data checks (empty columns, `other` taking many rows) are counted in it. With a
    merged join, it also tells whether the rows were in id order, none empty."""
    scheme, data = run.scheme, sources.data
    keep = _summary_columns(rows, scheme, sources.plan, run.options.by)
    # the summary's columns, or only the id hashes when it reads the output
    summary = rows.scored.select(*(keep if output is None else []), ID_HASH)
    proxy = data.width_proxy(rows.every)
    rejected = rows.rejected.select(
        ROW, REASON, scheme.id, id_hash(id_key(scheme.id)).alias(ID_HASH)
    )
    columns = _score_columns(run, rows)
    schema = data.frame.collect_schema()
    alerts = alert_queries(rows.scored, scheme)
    done = _collect_parts(
        {
            "sinks": sinks,
            "work": [
                work.sink_parquet(rejected, "rejects.parquet", **_WORK_FILE),
                work.sink_parquet(summary, "summary.parquet", **_WORK_FILE),
            ],
            "range": [_range_query(rows, columns)],
            "alerts": list(alerts.values()),
            "checks": data_check_queries(sources.plan, rows.every, schema),
            "proxy": [proxy] if proxy is not None else [],
            # a merged join needs the rows in id order: counted in the pass (`_stepped`)
            "order": [key_steps(rows.every)] if sources.ordered else [],
        },
        run,
        data,
    )
    work.finish()
    _check_range(done["range"][0], columns)
    if done["proxy"] and done["proxy"][0]["short"].item():
        # the last column has empty values: count the lines (raises for a short one)
        collect([], data, engine="streaming")
    found = data_checks(sources.plan, done["checks"], schema, str(run.source))
    counted = dict(zip(alerts, done["alerts"], strict=True))
    order = _stepped(done["order"][0] if done["order"] else None)
    return _passed(run, rows, work, output, keep, found, order, counted)


def _stepped(steps: pl.DataFrame | None) -> tuple[bool, bool]:
    """(in id order, each id once) from a merged pass's `key_steps`. A merged join needs
    the rows in order; ids that only go up are each listed once, which spares the
    repeated-id check its read and sort of every hash (0.3 s at 10M). A hashed pass
    (None) does not count: there the count saved 1 % of the instructions (callgrind,
    1M) but cost 80 MB more at the peak (10M)."""
    if steps is None:  # any order will do, and whether an id repeats is not known
        return True, False
    back, same, empty = steps.row(0)
    return back == 0 and empty == 0, back == same == empty == 0


def _collect_parts(
    parts: dict[str, list[pl.LazyFrame]], run: _Run, data: Input
) -> dict[str, list[pl.DataFrame]]:
    """The queries of the pass collected together, returned by the part they belong to."""
    flat = [q for queries in parts.values() for q in queries]
    # widths=False: the proxy tells whether the lines must be counted
    done = iter(collect(flat, data, engine="streaming", widths=False, scheme=run.scheme))
    return {name: [next(done) for _ in queries] for name, queries in parts.items()}


def _passed(
    run: _Run,
    rows: _Rows,
    work: WorkFolder,
    output: Path | None,
    keep: list[str],
    checks: DataChecks,
    order: tuple[bool, bool],
    alerts: dict[str, pl.DataFrame],
) -> _Passed:
    """What the pass leaves for the summary: its working files, or the output read back."""
    rejects = pl.scan_parquet(work.path / "rejects.parquet")
    hashes = pl.scan_parquet(work.path / "summary.parquet")
    if output is None:
        return _Passed(hashes, rejects, checks, *order, rows.reasons, hashes, hashes, alerts)
    written = pl.scan_parquet(output)
    have = written.collect_schema().names()
    scored = written.select(*dict.fromkeys([*[c for c in keep if c in have], "reasons"]))
    id_column = run.scheme.id
    keyed = written.select(id_column, id_hash(id_key(id_column)).alias(ID_HASH))
    return _Passed(scored, rejects, checks, *order, pl.col("reasons"), hashes, keyed, alerts)


@dataclass(frozen=True)
class _Passed:
    """What the summary reads after the pass: the scored rows' columns it needs, the
    rejected rows (with ID_HASH), the data checks, whether the rows were in id order
    (as a merged join needs) and whether each id came once (no repeated-id check), the
    reasons text over `scored`; the scored rows' ID_HASH alone (`hashes`), then
    with their id (`keyed`), for the repeated-id check; and the alerts' counts."""

    scored: pl.LazyFrame
    rejected: pl.LazyFrame
    checks: DataChecks
    in_order: bool
    distinct: bool
    reasons: pl.Expr
    hashes: pl.LazyFrame
    keyed: pl.LazyFrame
    alerts: dict[str, pl.DataFrame]  # the customers each alert flags, counted in the pass


def _summary_output(
    run: _Run, sources: _Sources, rows: _Rows, pending: PendingWrites
) -> Path | None:
    """The temporary file of a Parquet output (the scored rows, or the history's
    snapshot) that holds every column the summary reads: the summary then reads it
    back rather than a working file of its own written in the pass (about 1 s of a
    10M run). The reasons are read as their text (the alerts' flags, not written, are
    counted in the pass). A summary column that the output lacks (a `--by` column
    carried for the alerts file alone) makes the run write its working file."""
    keep = _summary_columns(rows, run.scheme, sources.plan, run.options.by)
    needed = set(keep) - set(rows.reasons.meta.root_names())
    have = set(rows.written.collect_schema().names())
    if not needed <= have or "reasons" not in have:
        return None
    for path in (run.options.output, run.target):
        if path is not None and output_format(path) == "parquet":
            return pending.temporary(path)
    return None


def _summary_frames(
    run: _Run, sources: _Sources, passed: _Passed, value: str | None
) -> dict[str, pl.DataFrame]:
    """The summary's aggregates over what the pass wrote, collected together;
    `value`: the value column, None when there is none or it is empty."""
    scheme, previous = run.scheme, sources.previous
    options = run.options
    scored, rejected, reasons = passed.scored, passed.rejected, passed.reasons
    queries = summary_queries(
        scored, rejected, scheme.id, value, options.top, reasons, scheme.at_risk_bands()
    )
    if previous is not None:
        before = previous_rows(sources.lookup) if sources.lookup is not None else previous.frame
        lowest = scheme.bands[-1].name
        queries |= movement_queries(
            scored, before, scheme.id, value, lowest, options.top, reasons, ordered=sources.ordered
        )
    queries |= matrix_queries(scored, [*scheme.extra_scores(), *run.extra], value)
    bands = [b.name for b in scheme.bands]
    if options.by:
        queries |= rollup_queries(scored, options.by, bands, value, delta=previous is not None)
    if scheme.parent is not None:
        queries["parents"] = parent_query(scored, scheme.parent, bands, value)
    collected = pl.collect_all(
        list(queries.values()),
        engine="streaming",
        optimizations=pl.QueryOptFlags(comm_subplan_elim=False),
    )
    return dict(zip(queries, collected, strict=True)) | passed.alerts


def _respelled(run: _Run, sources: _Sources, frames: dict[str, pl.DataFrame]) -> list[str]:
    """A warning when new and lost customers are one written two ways (`789`, `00789`)."""
    if sources.previous is None:
        return []
    found = respelled_warning(frames[RESPELLED], run.source, sources.previous.path, "lost and new")
    return [found] if found else []


def _check_counts(
    run: _Run,
    sources: _Sources,
    summary: dict[str, Any],
    frames: dict[str, pl.DataFrame],
    moves: dict[str, Any] | None,
) -> None:
    """Refuse a run that stands on nothing: no data rows, rejected rows with nowhere to
    go, or a previous snapshot that shares no customer with this one."""
    source, rows = run.source, summary["rows"]
    if rows["read"] == 0:
        raise DataError(f"{source}: the file has a header but no data rows")
    if rows["rejected"] and run.options.rejects is None:
        lines = reject_lines(frames)
        more = rows["rejected"] - len(lines)
        raise DataError(
            f"{source}: {rows['rejected']:,} of {rows['read']:,} rows cannot be scored; nothing was written.\n  "
            + "\n  ".join(lines)
            + (f"\n  … and {more} more" if more > 0 else ""),
            hint=HINT_REJECTS,
        )
    if sources.previous is not None and moves is not None:
        # every row new: the previous snapshot's customers (if any) are all lost
        new, lost = moves["movement"][NEW], moves[LOST]["count"]
        if lost and rows["scored"] and rows["scored"] == new:
            raise DataError(
                f"{source} and the previous snapshot {sources.previous.path} have no customer in common; "
                f"are they the same portfolio, with the same id column ({run.scheme.id})?"
            )


def _result(
    run: _Run,
    sources: _Sources,
    summary: dict[str, Any],
    frames: dict[str, pl.DataFrame],
    inactive: list[str],
    moves: dict[str, Any] | None,
    value: str | None,
) -> ScoreSummary:
    """The summary with the run's files, movement, trends, alerts and roll-ups."""
    scheme, options = run.scheme, run.options
    bands = [b.name for b in scheme.bands]
    has_previous = sources.previous is not None
    return {
        "input": str(run.source),
        "output": str(options.output) if options.output else None,
        "rejects": str(options.rejects) if options.rejects else None,
        "alerts_file": str(options.alerts) if options.alerts else None,
        "as_of": run.as_of.isoformat() if run.as_of else None,
        "history": str(run.target) if run.target else None,
        **summary,  # type: ignore[typeddict-item]
        "previous": _previous_part(sources.previous, moves),
        "trends": sources.trend_dates,
        "alerts": build_alerts(scheme, frames, inactive),
        "matrices": build_matrices(frames, scheme, [*scheme.extra_scores(), *run.extra], value),
        "rollups": build_rollups(
            frames,
            options.by,
            bands,
            scheme.at_risk_bands(),
            has_value=value is not None,
            delta=has_previous,
        ),
        "parents": build_parents(frames["parents"], bands, has_value=value is not None)[
            : options.top
        ]
        if scheme.parent is not None
        else None,
        "rejected_sample": reject_lines(frames),
        "warnings": sources.warnings,
    }


def _previous_part(
    previous: Snapshot | None, moves: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The previous snapshot: where it came from and how the customers moved since."""
    if previous is None or moves is None:
        return None
    return {
        "path": str(previous.path),
        "as_of": previous.as_of,
        "scheme": previous.scheme_name,
        "hash": previous.scheme_hash,
        "rescored": previous.rescored,
        **moves,
    }


# Working files of a run (read back once, then deleted): fast to write rather than small.
_WORK_FILE: dict[str, Any] = {"compression": "lz4", "statistics": False}


class _Unordered(Exception):
    """The rows were merged with the previous snapshot as if in id order, and are not
    (the merge then misses matches): the run is done again with a hash join."""


class _Repeated(Exception):
    """The pass found repeated ids: the run is done again with them known."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} repeated ids")
        self.ids = ids


# Hashes sorted at once, at most: 128 MB. Beyond, the check goes through the hashes in
# parts (by hash modulo), so its memory stays bounded whatever the row count.
_HASHES_AT_ONCE = 16_000_000


def _repeated_ids(
    hashed: list[pl.LazyFrame], keyed: list[pl.LazyFrame], id_column: str
) -> list[str]:
    """The repeated ids among the rows a pass wrote (scored and rejected; `hashed` with
    their ID_HASH, `keyed` the same rows with their id too): the 64-bit hashes, sorted,
    show the repeats (8 bytes a row, no hash table); the exact ids are then found among
    the few rows whose hash repeats. Empty ids have no hash."""
    hashes = pl.concat([lf.select(ID_HASH) for lf in hashed])
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
        pl.concat([lf.select(id_key(id_column).alias("id"), ID_HASH) for lf in keyed])
        .filter(pl.col(ID_HASH).is_in(repeated.implode()))
        .group_by("id")
        .agg(pl.len().alias("n"))
        .filter(pl.col("n") > 1)
        .collect()
    )
    return sorted(i for i in exact["id"].to_list() if i is not None)


def _gathered(
    lookups: list[pl.LazyFrame], earlier: list[Snapshot], previous: Snapshot | None
) -> tuple[pl.LazyFrame | None, bool]:
    """The lookups as one table by customer (KEY). The first is the previous snapshot's
    when there is one: a customer listed twice there would list the customer twice in
    the output, so that is an error. They read the `earlier` snapshots only, which a
    read failure names (not this run's input).

    One lookup (one earlier snapshot read) stays lazy: the streaming pass joins it from
    the file, holding only the join's own table (10M customers: 1.5 GB at the peak, not
    2.2 GB with a collected copy beside it); if it is the previous snapshot's, in id
    order, it can be merged (returned second). Several are collected and joined here."""
    if not lookups:
        return None, False
    try:
        if len(lookups) == 1:
            ordered = previous is not None and in_key_order(lookups[0].select(KEY))
            if previous is not None and not ordered:
                keys = lookups[0].select(KEY).collect(engine="streaming")[KEY]
                ordered = one_row_per_customer(previous, keys)
            return lookups[0], ordered
        frames = pl.collect_all(lookups, engine="streaming")
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError) as exc:
        raise _earlier_error(exc, earlier) from None
    if previous is not None:
        one_row_per_customer(previous, frames[0][KEY])
    table = frames[0]
    for more in frames[1:]:
        table = table.join(more, on=KEY, how="full", coalesce=True)
    return table.lazy(), False


def _earlier_error(exc: BaseException, earlier: list[Snapshot]) -> DataError:
    """A failed read of the earlier snapshots: the one that changed since it was opened,
    else all of them, with the gist of the engine's error."""
    changed = _changed(earlier)
    if changed is not None:
        return changed
    panic = isinstance(exc, pl.exceptions.PanicException)
    gist = "the engine failed" if panic else polars_gist(exc)
    what = "the earlier snapshot" + ("s" if len(earlier) > 1 else "")
    return DataError(f"{', '.join(str(s.path) for s in earlier)}: cannot read {what}: {gist}")


def _summary_columns(
    rows: _Rows, scheme: Scheme, plan: ScoringPlan, by: list[list[str]]
) -> list[str]:
    """The columns the summary reads, among those the scored rows have (for the reasons,
    their working columns: the text is written only for the rows the summary lists)."""
    have = rows.scored.collect_schema().names()
    wanted = [scheme.id, plan.value_column, scheme.parent, *[c for spec in by for c in spec]]
    wanted += [
        "score",
        "band",
        "coverage",
        *rows.reasons.meta.root_names(),
        "previous_score",
        "delta",
        "previous_band",
        "movement",
    ]
    wanted += [c for c in have if c.endswith("_band")]
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
        # only those the trends read (a run's cost does not grow with the history's depth)
        wanted = set(needed([d for d, _ in before], as_of, scheme.trend_spans()))
        opened = stack.enter_context(open_past([(d, p) for d, p in before if d in wanted], None))
        if opened and not carries_streak(opened[-1][1]):  # an older history: fold them all
            rest = [(d, p) for d, p in before if d not in wanted]
            opened = sorted(
                [*opened, *stack.enter_context(open_past(rest, None))], key=lambda x: x[0]
            )
        # The latest is the previous snapshot when it came from the history: share it.
        if opened and previous is not None and opened[-1][1].path == previous.path:
            opened[-1] = (opened[-1][0], previous)
        return opened
    if previous is not None and previous.as_of:
        return [(parse_date(previous.as_of, f"{previous.path}: as_of"), previous)]
    return []
