"""Alert rules: SQL conditions over the scored rows, and the list of fired alerts.

A condition reads any output column: score, band, coverage, points_<signal>,
group_<group>, the input's columns, previous_score, delta, previous_band, movement,
change_<N>d and snapshots_in_band. A condition that is NULL (say `delta < -15` for a
new customer) does not fire.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from chs.columns import ALERTS_COLUMN, alert_flag
from chs.errors import OPTION, DataError, SchemeError
from chs.hints import close_matches, suggest_column
from chs.scheme import TREND_COLUMN, Scheme, parse_sql_expr

# Columns that exist only when a previous snapshot or a history is given.
DYNAMIC = {
    "previous_score": pl.Float64,
    "delta": pl.Float64,
    "previous_band": pl.String,
    "movement": pl.String,
    "snapshots_in_band": pl.Int32,
}


def add_alerts(
    frame: pl.LazyFrame, scheme: Scheme, as_of: dt.date | None = None
) -> tuple[pl.LazyFrame, list[str]]:
    """Add one flag per alert and the `alerts` column (names of fired alerts, `; `).
    Conditions read the rows' date columns as dates, and CURRENT_DATE as `as_of` (the
    run's date; default today).

    A condition naming an unknown column is a SchemeError naming the alert's line. One
    that reads a column only a previous snapshot provides, when none was given, cannot
    fire: its name is returned among the inactive alerts.
    """
    if not scheme.alerts:
        return frame, []
    schema = frame.collect_schema()
    columns = schema.names()
    dates = [c for c, t in schema.items() if t == pl.Date]
    inactive: list[str] = []
    absent: dict[str, pl.DataType] = {}
    for i, alert in enumerate(scheme.alerts):
        for col in alert.columns():
            if col in columns:
                continue
            dynamic = DYNAMIC.get(col) or (pl.Float64 if TREND_COLUMN.match(col) else None)
            if dynamic is None:
                close = close_matches(col, columns)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise SchemeError(
                    f"{scheme.where('alerts', str(i), 'when')}: alerts[{i}].when: alert "
                    f"{alert.name!r} reads column {col!r}, which the scored rows do not have{hint}"
                )
            absent[col] = dynamic
            if alert.name not in inactive:
                inactive.append(alert.name)
    if absent:
        frame = frame.with_columns([pl.lit(None, t).alias(c) for c, t in absent.items()])
    flags = [
        parse_sql_expr(a.when, dates=dates, today=as_of)
        .cast(pl.Boolean)
        .fill_null(False)
        .alias(alert_flag(a.name))
        for a in scheme.alerts
    ]
    fired = pl.concat_str(
        [pl.when(pl.col(alert_flag(a.name))).then(pl.lit(a.name)) for a in scheme.alerts],
        separator="; ",
        ignore_nulls=True,
    )
    frame = frame.with_columns(flags).with_columns(fired.alias(ALERTS_COLUMN))
    return frame.drop(list(absent)), inactive


# The alerts file's own columns; an input column carried there under one of these names
# is written as `input_<name>` (an export's `owner` is a person, the alert's a team).
ALERT_FILE_COLUMNS: dict[str, type[pl.DataType]] = {
    "id": pl.String,
    "alert": pl.String,
    "severity": pl.String,
    "owner": pl.String,
    "action": pl.String,
    "score": pl.Float64,
    "band": pl.String,
    "delta": pl.Float64,
    "value": pl.Float64,
}


def carried_name(column: str) -> str:
    """The alerts file's name for an input column it carries."""
    return f"input_{column}" if column in ALERT_FILE_COLUMNS else column


def alert_columns(
    scheme: Scheme, keep: list[str] | None, columns: list[str], source: str
) -> list[str]:
    """The input columns the alerts file carries: `keep` (on every line), then each
    alert's `include` (on its lines), each once. A name the input does not have is a
    DataError naming `keep`'s {option}, or for `include` a SchemeError with its line."""
    for name in keep or []:
        if name not in columns:
            raise DataError(
                f"{source}: column {name!r} (asked for with {OPTION}) not found."
                + suggest_column(name, columns),
                option="alerts_keep",
            )
    for i, alert in enumerate(scheme.alerts):
        for j, name in enumerate(alert.include or []):
            if name not in columns:
                raise SchemeError(
                    f"{scheme.where('alerts', str(i), 'include', str(j))}: alerts[{i}].include[{j}]: "
                    f"alert {alert.name!r} carries column {name!r}, which {source} does not "
                    f"have.{suggest_column(name, columns)}"
                )
    included = [c for a in scheme.alerts for c in a.include or []]
    return list(dict.fromkeys([*(keep or []), *included]))


def alert_rows(
    frame: pl.LazyFrame, scheme: Scheme, value: str | None, keep: list[str] | None = None
) -> pl.LazyFrame:
    """One row per fired alert, ready for a CRM or chat: id, alert, severity, owner,
    action, score, band, delta, value, then the input columns carried (`keep` on every
    line, each alert's `include` on its own lines, empty on the others')."""
    schema = frame.collect_schema()
    columns = schema.names()
    delta = pl.col("delta") if "delta" in columns else pl.lit(None, pl.Float64)
    val = pl.col(value).cast(pl.Float64) if value and value in columns else pl.lit(None, pl.Float64)
    carried = alert_columns(scheme, keep, columns, "the scored rows")

    def extra(alert_include: list[str] | None) -> list[pl.Expr]:
        on = {*(keep or []), *(alert_include or [])}
        return [
            (pl.col(c) if c in on else pl.lit(None, schema[c])).alias(carried_name(c))
            for c in carried
        ]

    parts = [
        frame.filter(pl.col(alert_flag(a.name))).select(
            pl.col(scheme.id).cast(pl.String).alias("id"),
            pl.lit(a.name).alias("alert"),
            pl.lit(a.severity).alias("severity"),
            pl.lit(a.owner, pl.String).alias("owner"),
            pl.lit(a.action).alias("action"),
            "score",
            "band",
            delta.alias("delta"),
            val.alias("value"),
            *extra(a.include),
        )
        for a in scheme.alerts
    ]
    if not parts:  # a scheme without alerts: an empty file with the same columns
        more = {carried_name(c): schema[c] for c in carried}
        return pl.LazyFrame(schema={**ALERT_FILE_COLUMNS, **more})
    return pl.concat(parts)


def flag_columns(scheme: Scheme) -> list[str]:
    """The per-alert flag columns `add_alerts` adds: counted for the summary, then dropped."""
    return [alert_flag(a.name) for a in scheme.alerts]
