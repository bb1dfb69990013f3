"""Rich rendering of the library's results. Pure presentation: no computation of its own.

Everything printed here goes through `_say` (a line), `_cells` (table cells), `_new_table`
(a title) and `_head` (a column header), which strip control characters
(chs/text.py): ids, labels and names come from files someone else wrote."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chs.numbers import amount_text, count_text
from chs.text import printable

# Everything printed here is data (ids, file names, reasons): never read as rich markup.


def _box(con: Console) -> box.Box:
    """Rounded borders on a terminal, ASCII in a pipe (greppable, and what tests read)."""
    return box.ROUNDED if con.is_terminal else box.ASCII


def _pct(x: float | None) -> str:
    """A share as `12.5 %`; unknown shows empty rather than `None`."""
    return "" if x is None else f"{x * 100:.1f} %"


def _money(x: float | None) -> str:
    """A value with thousands separators and cents, as a finance reader expects."""
    return amount_text(x)


def _count(n: int) -> str:
    """A count with thousands separators: `1,234`."""
    return count_text(n)


class _Figure(str):
    """A number already written as text (money, `12,345.60`): a table right-aligns it."""


def _cash(x: float | None) -> _Figure:
    """A money cell of a table: two decimals and separators, right-aligned."""
    return _Figure(_money(x))


def _style(color: str | None) -> str:
    """A band colour as a rich style; no colour, no style."""
    return color or ""


def _say(con: Console, text: str, *, multiline: bool = False) -> None:
    """A line of data (or a `multiline` block): never read as rich markup (`[red]` in an
    id stays as it is), no control character (an id cannot colour or retitle the
    terminal, nor, with a newline, forge a line)."""
    con.print(printable(text, multiline=multiline), markup=False)


def _cells(values: list[Any]) -> list[Text]:
    """Table cells as plain Text, for the same reasons as `_say`; None shows empty. A
    Text is taken as built (by `_lines`)."""
    return [
        v if isinstance(v, Text) else Text(printable("" if v is None else str(v))) for v in values
    ]


def _lines(values: list[str]) -> Text:
    """A cell of several lines, each one printable."""
    return Text("\n".join(printable(v) for v in values))


def _new_table(con: Console, title: str) -> Table:
    """A table under a title, which names data too (a column, a scheme)."""
    return Table(
        title=Text(printable(title), style="table.title"), box=_box(con), title_justify="left"
    )


def _head(name: str) -> Text:
    """A column header: it may be a column of the file (the id, the value)."""
    return Text(printable(name))


def score_summary(con: Console, s: dict[str, Any]) -> None:
    """The `chs score` summary: reconciliation, bands, distribution, the at-risk list."""
    rows, scheme = s["rows"], s["scheme"]
    _say(con, f"Scored {s['input']} with scheme {scheme['name']} ({scheme['hash']})")
    line = (
        f"Rows: {_count(rows['read'])} read = {_count(rows['scored'])} scored"
        f" + {_count(rows['rejected'])} rejected"
    )
    if s.get("rejects") and rows["rejected"]:
        line += f" (written to {s['rejects']})"
    _say(con, line)
    if s.get("output"):
        _say(con, f"Output: {s['output']}")
    value_col = s["value"]["column"]
    _band_counts(con, s, value_col)
    sc, cov = s["score"], s["coverage"]
    if rows["scored"] == 0:
        con.print("No customer was scored.")
        return
    _say(
        con,
        f"Score: mean {sc['mean']}, median {sc['median']}, min {sc['min']}, max {sc['max']}. "
        f"Coverage: mean {_pct(cov['mean'])}, {_customers(cov['below_half'])} under 50 %.",
    )
    _at_risk(con, s, value_col)
    movement(con, s)
    bands = [b["band"] for b in s["bands"]]
    rollups(con, s["rollups"], bands, value_col)
    parents(con, s["parents"], bands, value_col)
    matrices(con, s)
    alerts(con, s)


def _band_counts(con: Console, s: dict[str, Any], value_col: str | None) -> None:
    """Customers (and value) per band, each row in its band's colour on a terminal."""
    table = _new_table(con, "Customers per band")
    table.add_column(_head("band"))
    table.add_column(_head("customers"), justify="right")
    table.add_column(_head("share"), justify="right")
    if value_col:
        table.add_column(_head(value_col), justify="right")
        table.add_column(_head(f"{value_col} share"), justify="right")
    for b in s["bands"]:
        cells = [b["label"], _count(b["customers"]), _pct(b["share"])]
        if value_col:
            cells += [_money(b["value"]), _pct(b["value_share"])]
        table.add_row(*_cells(cells), style=_style(b["color"]) if con.is_terminal else "")
    con.print(table)


def _at_risk_title(s: dict[str, Any]) -> str | None:
    """`Top 10 at risk`; `1 customer at risk (fewer than 3)` when the at-risk bands hold
    fewer than the list's length; None when they hold none."""
    found, top = len(s["at_risk"]), s["at_risk_top"]
    if not found:
        return None
    if found < top:
        return f"{_customers(found)} at risk (fewer than {_count(top)})"
    return f"Top {_count(found)} at risk"


def _at_risk(con: Console, s: dict[str, Any], value_col: str | None) -> None:
    """The lowest-scored customers of the at-risk bands with their reasons: who to call
    first. Nothing with --top 0."""
    if not s["at_risk_top"]:
        return
    title = _at_risk_title(s)
    if title is None:
        _say(con, f"No customer at risk (none in {', '.join(s['at_risk_bands'])}).")
        return
    colors = {b["band"]: b["color"] for b in s["bands"]}
    shown = {b["band"]: b["label"] for b in s["bands"]}
    risk = _new_table(con, title)
    for name, justify in ((s["id_column"], "left"), ("score", "right"), ("band", "left")):
        risk.add_column(_head(name), justify=justify)  # type: ignore[arg-type]
    if value_col:
        risk.add_column(_head(value_col), justify="right")
    risk.add_column(_head("coverage"), justify="right")
    risk.add_column(_head("reasons"))
    for r in s["at_risk"]:
        cells = [r["id"], f"{r['score']:.1f}", shown.get(r["band"], r["band"])]
        if value_col:
            cells.append(_money(r["value"]))
        cells += [_pct(r["coverage"]), r["reasons"] or ""]
        risk.add_row(*_cells(cells), style=_style(colors.get(r["band"])) if con.is_terminal else "")
    con.print(risk)


def scheme_description(con: Console, d: dict[str, Any]) -> None:
    """The `chs check` view of a scheme: effective weights, rules, bands, each definition."""
    sch = d["scheme"]
    _say(con, f"Scheme {sch['name']} ({sch['hash']}) from {sch['source']}: valid")
    if sch["description"]:
        _say(con, sch["description"], multiline=True)
    _say(con, f"id: {sch['id']}   value: {sch['value'] or '-'}   missing: {sch['missing']}")
    if d["columns"]:
        rows = [[c["column"], c["type"], c["reading"] or "as written"] for c in d["columns"]]
        _table(con, "Columns", ["column", "type", "reading"], rows)
    if d["signals"] is not None:
        _definition(con, d, "")
    for seg in d["segments"] or []:
        when = f"when {seg['when']}" if seg["when"] else "every customer left"
        _say(con, f"Segment {seg['name']} ({when})")
        _definition(con, seg, f"{seg['name']}: ")
    _bands(con, "Bands", d["bands"])
    for score in d["scores"]:
        _say(
            con,
            f"Score {score['name']} (written as {score['name']}_score, {score['name']}_band, ...)",
        )
        _definition(con, score, f"{score['name']}: ")
        _bands(con, f"{score['name']}: bands", score["bands"])
    if d["trends"]:
        _say(con, f"Trend columns: {', '.join(d['trends'])}")
    if d["alerts"]:
        _table(
            con,
            "Alerts",
            ["alert", "when", "severity", "owner", "action"],
            [[a["name"], a["when"], a["severity"], a["owner"], a["action"]] for a in d["alerts"]],
        )


def _definition(con: Console, d: dict[str, Any], title: str) -> None:
    """One definition's groups and signals (the scheme's, or a segment's or a score's)."""
    if d["groups"]:
        groups = _new_table(con, f"{title}Groups")
        for name, justify in (
            ("group", "left"),
            ("weight", "right"),
            ("share", "right"),
            ("label", "left"),
        ):
            groups.add_column(_head(name), justify=justify)  # type: ignore[arg-type]
        for g in d["groups"]:
            groups.add_row(
                *_cells([g["name"], f"{g['weight']:g}", f"{g['share']:.1f} %", g["label"]])
            )
        con.print(groups)
    table = _new_table(con, f"{title}Signals (share = effective weight in the score)")
    columns = (
        ["signal"]
        + (["group"] if d["groups"] else [])
        + ["source", "weight", "share", "missing", "rules"]
    )
    for name in columns:
        table.add_column(_head(name), justify="right" if name in ("weight", "share") else "left")
    for s in d["signals"]:
        rules = _lines([f"{r['when']} -> {_points(r['points'])}" for r in s["rules"]])
        missing = s["missing"] if isinstance(s["missing"], str) else f"{s['missing']:g} points"
        cells = [s["name"]] + ([s["group"]] if d["groups"] else [])
        cells += [s["source"], f"{s['weight']:g}", f"{s['share']:.1f} %", missing, rules]
        table.add_row(*_cells(cells))
    con.print(table)


def _bands(con: Console, title: str, band_list: list[dict[str, Any]]) -> None:
    """The bands and their score ranges, each in its colour on a terminal."""
    bands = _new_table(con, title)
    bands.add_column(_head("band"))
    bands.add_column(_head("range"))
    for b in band_list:
        bands.add_row(
            *_cells([b["band"], b["range"]]), style=_style(b["color"]) if con.is_terminal else ""
        )
    con.print(bands)


def _points(p: Any) -> str:
    """Points as `50`, not `50.0`; a text rule (`missing`) as it is."""
    return f"{p:g}" if isinstance(p, float | int) else str(p)


def data_check(con: Console, d: dict[str, Any]) -> None:
    """The `chs check --data` preview."""
    rows = d["rows"]
    _say(
        con,
        f"Data {d['file']}: {_count(rows['read'])} rows, {_count(rows['scored'])} scorable, "
        f"{_count(rows['rejected'])} rejected",
    )
    for line in d["rejected_sample"]:
        _say(con, f"  {line}")
    if d.get("definitions"):
        per = ", ".join(f"{k} {_count(v)}" for k, v in d["definitions"].items())
        _say(con, f"Rows per segment: {per}")
    segmented = bool(d.get("definitions"))
    _table(
        con,
        "Columns",
        [*(["segment"] if segmented else []), "signal", "column", "type", "missing"],
        [
            [
                *([c["definition"]] if segmented else []),
                c["signal"],
                c["column"],
                c["type"],
                _pct(c["missing_share"]),
            ]
            for c in d["columns"]
        ],
    )
    total = max(rows["scored"], 1)
    dist = _new_table(con, "Score distribution")
    dist.add_column(_head("score"))
    dist.add_column(_head("customers"), justify="right")
    dist.add_column(_head(""))
    peak = max((h["customers"] for h in d["histogram"]), default=0) or 1
    for h in d["histogram"]:
        bar = "#" * round(h["customers"] / peak * 40)
        dist.add_row(*_cells([h["range"], _count(h["customers"]), bar]))
    con.print(dist)
    bands = ", ".join(
        f"{b['band']} {_count(b['customers'])} ({b['customers'] / total:.1%})" for b in d["bands"]
    )
    _say(con, f"Bands: {bands}")


def _table(con: Console, title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """A plain table of data cells; numbers right-aligned."""
    table = _new_table(con, title)
    numeric = {
        i
        for i, _ in enumerate(columns)
        if rows
        and all(
            isinstance(r[i], int | float | _Figure) or r[i] is None or str(r[i]).endswith(" %")
            for r in rows
        )
    }
    for i, name in enumerate(columns):
        table.add_column(_head(name), justify="right" if i in numeric else "left")
    for r in rows:
        table.add_row(*_cells([_num(v) for v in r]))
    con.print(table)


def _customers(n: int) -> str:
    """`1 customer`, `1,234 customers`."""
    return "1 customer" if n == 1 else f"{_count(n)} customers"


def _num(v: Any) -> Any:
    """Counts and big numbers with separators; scores keep their decimal (20.0, not 20).
    Money is written by `_cash` before it gets here."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return v
    if isinstance(v, int):
        return _count(v)
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.2f}"
        return f"{v:.1f}" if v.is_integer() else f"{v:g}"
    return v


def movement(con: Console, s: dict[str, Any]) -> None:
    """The month-over-month part of the `chs score` summary."""
    prev = s["previous"]
    if prev is None:
        return
    m = prev["movement"]
    _say(
        con,
        f"Since {prev['path']}{' (' + prev['as_of'] + ')' if prev['as_of'] else ''}: "
        f"{_count(m['up'])} up, {_count(m['down'])} down, {_count(m['same'])} same, "
        f"{_count(m['new'])} new, {_count(prev['lost']['count'])} lost.",
    )
    value = s["value"]["column"] or "value"
    if prev["biggest_drops"]:
        _score_drops(con, s, value)
    for key, title in (
        ("into_lowest", "Newly in the lowest band"),
        ("out_of_lowest", "Recovered out of the lowest band"),
    ):
        if prev[key]["count"]:
            _lowest_band_moves(con, s, title, prev[key], value)
    lost = prev["lost"]
    if lost["count"]:
        _table(
            con,
            f"Lost since the previous snapshot: {_customers(lost['count'])}, {value} {_money(lost['value'])}",
            [s["id_column"], "last score", "last band", value],
            [
                [r["id"], r["last_score"], r["last_band"], _cash(r["value"])]
                for r in lost["customers"]
            ],
        )


def _score_drops(con: Console, s: dict[str, Any], value: str) -> None:
    """The customers whose score fell most since the previous snapshot."""
    _table(
        con,
        "Biggest drops",
        [s["id_column"], "previous", "score", "delta", "bands", value, "reasons"],
        [
            [
                r["id"],
                r["previous_score"],
                r["score"],
                r["delta"],
                f"{r['previous_band']} -> {r['band']}",
                _cash(r["value"]),
                r["reasons"],
            ]
            for r in s["previous"]["biggest_drops"]
        ],
    )


def _lowest_band_moves(
    con: Console, s: dict[str, Any], title: str, group: dict[str, Any], value: str
) -> None:
    """Customers who entered or left the lowest band, with the value that moved."""
    _table(
        con,
        f"{title}: {_customers(group['count'])}, {value} {_money(group['value'])}",
        [s["id_column"], "previous", "score", "bands", value],
        [
            [
                r["id"],
                r["previous_score"],
                r["score"],
                f"{r['previous_band']} -> {r['band']}",
                _cash(r["value"]),
            ]
            for r in group["customers"]
        ],
    )


def alerts(con: Console, s: dict[str, Any]) -> None:
    """The fired alerts (an inactive one says it needs a previous snapshot), and where the
    alerts and the snapshot were written."""
    if s["alerts"]:
        _table(
            con,
            "Alerts fired",
            ["alert", "severity", "customers", "owner", "action"],
            [
                [
                    a["label"],
                    a["severity"],
                    _count(a["customers"]) if a["active"] else "needs a previous snapshot",
                    a["owner"],
                    a["action"],
                ]
                for a in s["alerts"]
            ],
        )
    if s.get("alerts_file"):
        _say(con, f"Alerts written to {s['alerts_file']}")
    if s.get("history"):
        _say(con, f"Snapshot kept in {s['history']}")


def diff(con: Console, d: dict[str, Any]) -> None:
    """The `chs diff` report."""
    rows, m = d["rows"], d["movement"]
    _say(
        con,
        f"Compared {d['last']['path']} ({_customers(rows['last'])}) "
        f"with {d['this']['path']} ({_count(rows['this'])})",
    )
    _say(
        con,
        f"{_count(m['improved'])} improved, {_count(m['declined'])} declined, "
        f"{_count(m['stayed'])} stayed, {_count(m['arrived'])} arrived, {_count(m['left'])} left.",
    )
    _transitions(con, d)
    if d["biggest_drops"]:
        _diff_drops(con, d)
    for key, title in (("newly_at_risk", "Newly at risk"), ("recovered", "Recovered")):
        if d[key]["count"]:
            _lowest_band_changes(con, d, title, d[key])
    drift = d["drift"]
    _table(
        con,
        "Drift (population stability index: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major)",
        ["distribution", "PSI", "reading"],
        [["score", drift["score"]["psi"], drift["score"]["label"]]]
        + [[f"points_{n}", v["psi"], v["label"]] for n, v in drift["signals"].items()],
    )
    rollups(con, d["rollups"], d["bands"], "value")
    if d.get("output"):
        _say(con, f"Per-customer comparison written to {d['output']}")


def _transitions(con: Console, d: dict[str, Any]) -> None:
    """The band-to-band matrix, last snapshot's band in rows, `(absent)` for arrivals
    and departures."""
    names = [*d["bands"], None]
    label = {None: "(absent)"}
    cells = {(t["from"], t["to"]): t for t in d["transitions"]}
    matrix = []
    for a in names:
        row: list[Any] = [label.get(a, a)]
        for b in names:
            t = cells.get((a, b))
            row.append(
                ""
                if t is None
                else f"{_count(t['customers'])} ({_money(t['value'])})"
                if t["value"] is not None
                else _count(t["customers"])
            )
        matrix.append(row)
    _table(
        con,
        "Band transitions: last (rows) to this (columns), customers (value)",
        ["last \\ this", *[label.get(b, b) for b in names]],
        matrix,
    )


def _diff_drops(con: Console, d: dict[str, Any]) -> None:
    """The customers whose score fell most, with the signals that drove the fall."""
    _table(
        con,
        "Biggest drops",
        ["id", "last", "this", "delta", "bands", "value", "drivers"],
        [
            [
                r["id"],
                r["last_score"],
                r["this_score"],
                r["delta"],
                f"{r['last_band']} -> {r['this_band']}",
                _cash(r["value"]),
                r["drivers"],
            ]
            for r in d["biggest_drops"]
        ],
    )


def _lowest_band_changes(
    con: Console, d: dict[str, Any], title: str, group: dict[str, Any]
) -> None:
    """Customers newly in the lowest band, or out of it, with the value that moved."""
    _table(
        con,
        f"{title} ({d['lowest_band']}): {_customers(group['count'])}, value {_money(group['value'])}",
        ["id", "last", "this", "bands", "value", "drivers"],
        [
            [
                r["id"],
                r["last_score"],
                r["this_score"],
                f"{r['last_band']} -> {r['this_band']}",
                _cash(r["value"]),
                r["drivers"],
            ]
            for r in group["customers"]
        ],
    )


def history(con: Console, h: dict[str, Any]) -> None:
    """The `chs history` report."""
    bands = h["bands"]
    _table(
        con,
        f"Portfolio per snapshot ({h['directory']})",
        ["as of", "customers", "mean score", *bands],
        [
            [s["as_of"], s["customers"], s["mean"], *[s["bands"].get(b, 0) for b in bands]]
            for s in h["snapshots"]
        ],
    )
    dates = [s["as_of"] for s in h["snapshots"]]
    # The sparkline's block characters (▁..█) are for the eye: piped (a file, grep, cron's
    # mail) the table is plain ASCII, and the scores beside it say the same.
    spark = con.is_terminal
    if h["customers"]:
        _table(
            con,
            "Scores over time",
            ["id", *(["trend"] if spark else []), *dates, "band now"],
            [
                [c["id"], *([c["trend"]] if spark else []), *c["scores"], c["bands"][-1]]
                for c in h["customers"]
            ],
        )


def explanation(con: Console, e: dict[str, Any]) -> None:
    """The `chs explain` report, one block per customer."""
    for c in e["customers"]:
        if not c["scored"]:
            _say(con, f"{c['id']}: not scored: {c['reason']}")
            continue
        segment = f", segment {c['definition']}" if c.get("definition") else ""
        _say(
            con,
            f"{c['id']}: score {c['score']:.1f}, band {c['band']}, "
            f"coverage {_pct(c['coverage'])}{segment}",
        )
        for name, other in (c.get("other_scores") or {}).items():
            _say(con, f"{name}: score {other['score']:.1f}, band {other['band']}")
        _say(con, f"Reasons: {c['reasons'] or '-'}")
        _signal_breakdown(con, c)
        if c["groups"] is not None:
            _group_breakdown(con, c)
        _what_it_takes(con, c)
        _say(con, "")


def _signal_breakdown(con: Console, c: dict[str, Any]) -> None:
    """Each signal's value, rule, points, weights and what it costs the customer."""
    has_groups = c["groups"] is not None
    _table(
        con,
        "Signals",
        [
            "signal",
            *(["group"] if has_groups else []),
            "value",
            "rule",
            "points",
            "weight %",
            "effective %",
            "contribution",
            "lost",
        ],
        [
            [
                s["signal"],
                *([s["group"]] if has_groups else []),
                "no value" if s["missing"] else s["value"],
                s["rule"],
                s["points"],
                s["weight"],
                s["effective_weight"],
                s["contribution"],
                s["lost"],
            ]
            for s in c["signals"]
        ],
    )


def _group_breakdown(con: Console, c: dict[str, Any]) -> None:
    """Each group's score and the best single move within it."""
    _table(
        con,
        "Groups",
        [
            "group",
            "score",
            "effective %",
            "contribution",
            "lost",
            f"score for {c['next_band'] or '-'}",
            "best move",
        ],
        [
            [
                g["group"],
                g["score"],
                g["effective_weight"],
                g["contribution"],
                g["lost"],
                g["score_for_next_band"],
                g["best_move"],
            ]
            for g in c["groups"]
        ],
    )


def _what_it_takes(con: Console, c: dict[str, Any]) -> None:
    """The nearest better tier of each signal, and the smallest move to the next band."""
    if c["what_it_takes"]:
        _say(con, "What it takes (nearest better tier of each signal):")
        for t in c["what_it_takes"]:
            _say(con, f"  {t['text']} (score {t['score']:.1f})")
    if c["next_band"] is None:
        _say(con, "Already in the top band.")
    elif c["to_next_band"]:
        _say(
            con,
            f"Smallest single-signal change to reach {c['next_band']}: {c['to_next_band']['text']}",
        )
    else:
        _say(con, f"No single signal can lift this customer to {c['next_band']}.")


def rollups(
    con: Console, rollup_list: list[dict[str, Any]], bands: list[str], value: str | None
) -> None:
    """One table per roll-up: customers, band shares, mean score, value and value at risk."""
    for r in rollup_list:
        has_delta = any(g["mean_delta"] is not None for g in r["groups"])
        columns = [*r["by"], "customers", *[f"% {b}" for b in bands], "mean score"]
        if value:
            columns += [value, f"{value} at risk"]
        if has_delta:
            columns.append("mean delta")
        rows = []
        for g in r["groups"]:
            row = [
                *g["group"].values(),
                g["customers"],
                *[_pct(g["shares"][b]) for b in bands],
                g["mean_score"],
            ]
            if value:
                row += [_cash(g["value"]), _cash(g["value_at_risk"])]
            if has_delta:
                row.append(g["mean_delta"])
            rows.append(row)
        title = f"By {' + '.join(r['by'])} (at risk: {', '.join(r['at_risk_bands'])})"
        _table(con, title, columns, rows)


def parents(
    con: Console, parent_list: list[dict[str, Any]] | None, bands: list[str], value: str | None
) -> None:
    """Parent accounts, weakest first: the accounts whose children drag them down."""
    if not parent_list:
        return
    weighted = f"{value}-weighted score" if value else "mean score"
    _table(
        con,
        f"Parent accounts (lowest {weighted} first)",
        ["parent", "children", weighted, *([value] if value else []), *[f"% {b}" for b in bands]],
        [
            [
                p["parent"],
                p["children"],
                p["score"],
                *([_cash(p["value"])] if value else []),
                *[_pct(p["value_shares"][b]) for b in bands],
            ]
            for p in parent_list
        ],
    )


def report(con: Console, r: dict[str, Any]) -> None:
    """The `chs report` output."""
    _say(con, f"Roll-ups of {r['input']} (bands: {', '.join(r['bands'])})")
    rollups(con, r["rollups"], r["bands"], r["value_column"])
    parents(con, r["parents"], r["bands"], r["value_column"])
    if r.get("output"):
        _say(con, f"Roll-ups written to {r['output']}")


def html_report(con: Console, r: dict[str, Any]) -> None:
    """The `chs report --html` output: what the page shows and where it went."""
    scheme = r["scheme"]
    _say(
        con,
        f"Report of {r['input']} (scheme {scheme['name']}, {scheme['hash']}; snapshot {r['as_of'] or 'undated'})",
    )
    _say(con, f"Sections: {', '.join(r['sections'])}")
    if r.get("html_file"):
        _say(con, f"Written to {r['html_file']}")


def matrices(con: Console, s: dict[str, Any]) -> None:
    """Main band (rows) x each other score's band (columns): customers (value)."""
    for m in s.get("matrices") or []:
        cells = {(c["band"], c["other"]): c for c in m["cells"]}

        def cell(c: dict[str, Any]) -> str:
            if c["value"] is None:
                return _count(c["customers"])
            return f"{_count(c['customers'])} ({_money(c['value'])})"

        _table(
            con,
            f"{s['scheme']['name']} band (rows) x {m['score']} band (columns): customers (value)",
            [f"{s['scheme']['name']} \\ {m['score']}", *m["columns"]],
            [[b, *[cell(cells[(b, o)]) for o in m["columns"]]] for b in m["rows"]],
        )


def backtest(con: Console, b: dict[str, Any]) -> None:
    """The `chs backtest` output: the verdict, then churn by band, decile and signal."""
    used = [s for s in b["snapshots"] if s["used"]]
    span = f", {b['horizon_days']}-day horizon" if b["horizon_days"] is not None else ""
    _say(
        con,
        f"Backtest of {len(used)} snapshot{'s' if len(used) != 1 else ''}{span}: "
        f"{_count(b['customers'])} customers, {_count(b['churned'])} churned "
        f"({_pct(b['churn_rate'])}). AUC {b['auc']:.3f}, Gini {b['gini']:.3f}, KS {b['ks']:.3f}",
    )
    for line in b["verdict"]:
        _say(con, line)
    has_value = any(r["value"] is not None for r in b["bands"])
    columns = ["band", "customers", "churned", "churn rate", "lift", "share of churned"]
    rows = [
        [r["band"], _Figure(_count(r["customers"])), _Figure(_count(r["churned"])), _pct(r["churn_rate"]),
         _lift(r["lift"]), _pct(r["share_of_churned"])]
        + ([_cash(r["value"]), _cash(r["value_churned"])] if has_value else [])
        for r in b["bands"]
    ]  # fmt: skip
    _table(con, "Churn by band", columns + (["value", "value churned"] if has_value else []), rows)
    _table(
        con,
        "Churn by score decile (lowest first)",
        ["decile", "scores", "customers", "churned", "churn rate", "cumulative churned", "lift"],
        [
            [d["decile"], f"{d['min_score']:g}-{d['max_score']:g}", _Figure(_count(d["customers"])),
             _Figure(_count(d["churned"])), _pct(d["churn_rate"]), _pct(d["cumulative_share_of_churned"]),
             _lift(d["lift"])]
            for d in b["deciles"]
        ],
    )  # fmt: skip
    _table(
        con,
        "Signals",
        ["signal", "AUC", "IV", "coverage"],
        [[s["signal"], _num(s["auc"]), _num(s["iv"]), _pct(s["coverage"])] for s in b["signals"]],
    )
    if b["by"]:
        _table(
            con,
            f"By {b['by']['column']}",
            [b["by"]["column"], "customers", "churned", "churn rate", "AUC"],
            [[g["value"], _Figure(_count(g["customers"])), _Figure(_count(g["churned"])),
              _pct(g["churn_rate"]), _num(g["auc"])] for g in b["by"]["groups"]],
        )  # fmt: skip
    if b["output"]:
        _say(con, f"Tables written to {b['output']}")
    if len(b["snapshots"]) > 1:
        _table(
            con,
            "Snapshots",
            ["as_of", "customers", "churned", "AUC", "left out because"],
            [[s["as_of"], _Figure(_count(s["customers"])), _Figure(_count(s["churned"])), _num(s["auc"]),
              s["reason"] or ""] for s in b["snapshots"]],
        )  # fmt: skip


def _lift(x: float | None) -> _Figure:
    """A lift as `4.66x` (churn rate over the average), right-aligned."""
    return _Figure("" if x is None else f"{x:.2f}x")


def forecast(con: Console, f: dict[str, Any]) -> None:
    """The `chs forecast` output: the transitions, the projection, lifetimes, what-if."""
    bands, states = f["bands"], [*f["bands"], "lost"]
    _say(
        con,
        f"Forecast from {len(f['snapshots'])} snapshots of {f['history']} "
        f"({f['snapshots'][0]} to {f['snapshots'][-1]}, one step = {f['step_days']:g} days)",
    )
    probabilities = f["transitions"]["probabilities"]
    _table(
        con,
        "Transitions (share of each band's customers one step later)",
        ["from", *states],
        [[b, *[_pct(probabilities[b][t]) for t in states]] for b in bands],
    )
    has_value = f["value"] is not None
    columns = ["month", *bands, "lost", *(["value lost"] if has_value else [])]
    rows = [
        [s["month"], *[_tenths(s["bands"][b]) for b in bands], _tenths(s["lost"]),
         *([_cash(s["value_lost"])] if has_value else [])]
        for s in f["forecast"]
    ]  # fmt: skip
    _table(con, "Expected customers (from the latest snapshot)", columns, rows)
    _table(
        con,
        "Expected lifetime",
        ["band", "steps before lost", *(["LTV"] if has_value else [])],
        [[b, _num(f["lifetime"][b]) if f["lifetime"][b] is not None else "never lost",
          *([_cash(f["ltv"][b])] if has_value else [])] for b in bands],
    )  # fmt: skip
    if f["by"]:
        last = f["forecast"][-1]["month"]
        _table(
            con,
            f"By {f['by']['column']}: each with its own transitions, after {last} months",
            [f["by"]["column"], "customers", "lost", *(["value lost"] if has_value else [])],
            [[g["value"], _Figure(_count(g["customers"])), _tenths(g["forecast"][-1]["lost"]),
              *([_cash(g["forecast"][-1]["value_lost"])] if has_value else [])]
             for g in f["by"]["groups"]],
        )  # fmt: skip
    w = f["what_if"]
    if w:
        _table(
            con,
            f"What if {w['share'] * 100:g} % of {w['source']} ({_tenths(w['moved'])} customers) "
            f"became {w['target']}",
            ["month", "customers saved", *(["value saved"] if has_value else [])],
            [[s["month"], _tenths(s["customers"]), *([_cash(s["value"])] if has_value else [])]
             for s in w["saved"]],
        )  # fmt: skip


def _tenths(x: float) -> _Figure:
    """An expected number of customers, to a tenth: `237.9`, right-aligned."""
    return _Figure(f"{x:,.1f}")


def calibration(con: Console, c: dict[str, Any]) -> None:
    """The `chs calibrate` output: old and new weights (and points), AUCs, churn by
    band, band moves."""
    rows = c["rows"]
    _say(
        con,
        f"Calibrated {c['scheme']} on {_count(rows['train'])} rows "
        f"({_count(rows['train_churned'])} churned); holdout: {c['holdout']}, "
        f"{_count(rows['holdout'])} rows ({_count(rows['holdout_churned'])} churned)",
    )
    if c["snapshots"]:
        _say(con, _snapshot_roles(c["snapshots"]))
    old, new = c["old"], c["new"]
    _table(
        con,
        "Weights",
        ["weight", "old", "new"],
        [[k, _num(old["weights"][k]), _num(new["weights"][k])] for k in new["weights"]],
    )
    if c["points"]:
        _calibrated_points(con, c["points"])
    _table(
        con,
        "AUC",
        ["", "train", "holdout"],
        [["old", _num(old["auc_train"]), _num(old["auc_holdout"])],
         ["new", _num(new["auc_train"]), _num(new["auc_holdout"])]],
    )  # fmt: skip
    _calibrated_bands(con, old["bands"], new["bands"])
    bands = sorted({b for row in c["transitions"].values() for b in row} | set(c["transitions"]))
    _table(
        con,
        "Holdout customers by band, old (rows) to new (columns)",
        ["old", *bands],
        [[a, *[c["transitions"][a].get(b, 0) for b in bands]] for a in c["transitions"]],
    )
    _say(con, f"New scheme written to {c['output']}")


def _snapshot_roles(snapshots: list[dict[str, Any]]) -> str:
    """Which snapshots trained, which held out, and which were left out and why."""
    parts = []
    for role, said in (("train", "trained on"), ("holdout", "held out"),
                       ("train and holdout", "cross-validated")):  # fmt: skip
        days = [s["as_of"] for s in snapshots if s["role"] == role]
        if days:
            parts.append(f"{said} {', '.join(days)}")
    reasons: dict[str, list[str]] = {}
    for s in snapshots:
        if s["role"] is None:
            reasons.setdefault(s["reason"], []).append(s["as_of"])
    parts += [f"left out {', '.join(days)} ({why})" for why, days in reasons.items()]
    return "Snapshots: " + "; ".join(parts)


def _calibrated_points(con: Console, points: list[dict[str, Any]]) -> None:
    """Each tier's churn on the training rows, and its points before and after."""
    segments = any(p["definition"] for p in points)
    _table(
        con,
        "Points by tier (training rows)",
        [*(["definition"] if segments else []), "signal", "tier", "customers", "churn rate",
         "old", "new"],
        [[*([p["definition"]] if segments else []), p["signal"], p["tier"],
          p["customers"], _pct(p["churn_rate"]), _num(p["old"]), _num(p["new"])]
         for p in points],
    )  # fmt: skip


def _calibrated_bands(con: Console, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Churn by band on the holdout, old scheme beside new."""
    by_new = {b["band"]: b for b in new}
    names = [b["band"] for b in old] + [b["band"] for b in new if b["band"] not in
                                        {o["band"] for o in old}]  # fmt: skip
    by_old = {b["band"]: b for b in old}

    def cells(b: dict[str, Any] | None) -> list[str]:
        return [b["customers"], _pct(b["churn_rate"])] if b else [0, ""]

    _table(
        con,
        "Holdout churn by band",
        ["band", "old customers", "old churn", "new customers", "new churn"],
        [[n, *cells(by_old.get(n)), *cells(by_new.get(n))] for n in names],
    )
