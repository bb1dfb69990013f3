"""Rich rendering of the library's results. Pure presentation: no computation of its own."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Everything printed here is data (ids, file names, reasons): never read as rich markup.


def _box(con: Console) -> box.Box:
    return box.ROUNDED if con.is_terminal else box.ASCII


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.1f} %"


def _money(x: float | None) -> str:
    return "" if x is None else f"{x:,.2f}"


def _style(color: str | None) -> str:
    return color or ""


def _say(con: Console, text: str) -> None:
    con.print(text, markup=False)


def _cells(values: list[Any]) -> list[Text]:
    return [Text("" if v is None else str(v)) for v in values]


def score_summary(con: Console, s: dict[str, Any]) -> None:
    """The `chs score` summary: reconciliation, bands, distribution, the at-risk list."""
    rows, scheme = s["rows"], s["scheme"]
    _say(con, f"Scored {s['input']} with scheme {scheme['name']} ({scheme['hash']})")
    line = f"Rows: {rows['read']} read = {rows['scored']} scored + {rows['rejected']} rejected"
    if s.get("rejects") and rows["rejected"]:
        line += f" (written to {s['rejects']})"
    _say(con, line)
    if s.get("output"):
        _say(con, f"Output: {s['output']}")
    value_col = s["value"]["column"]
    colors = {b["band"]: b["color"] for b in s["bands"]}
    table = Table(title="Customers per band", box=_box(con), title_justify="left")
    table.add_column("band")
    table.add_column("customers", justify="right")
    table.add_column("share", justify="right")
    if value_col:
        table.add_column(value_col, justify="right")
        table.add_column(f"{value_col} share", justify="right")
    for b in s["bands"]:
        cells = [b["band"], str(b["customers"]), _pct(b["share"])]
        if value_col:
            cells += [_money(b["value"]), _pct(b["value_share"])]
        table.add_row(*_cells(cells), style=_style(b["color"]) if con.is_terminal else "")
    con.print(table)
    sc, cov = s["score"], s["coverage"]
    if rows["scored"] == 0:
        con.print("No customer was scored.")
        return
    _say(
        con,
        f"Score: mean {sc['mean']}, median {sc['median']}, min {sc['min']}, max {sc['max']}. "
        f"Coverage: mean {_pct(cov['mean'])}, {cov['below_half']} customers under 50 %.",
    )
    if s["at_risk"]:
        risk = Table(title=f"Top {len(s['at_risk'])} at risk", box=_box(con), title_justify="left")
        for name, justify in ((s["id_column"], "left"), ("score", "right"), ("band", "left")):
            risk.add_column(name, justify=justify)  # type: ignore[arg-type]
        if value_col:
            risk.add_column(value_col, justify="right")
        risk.add_column("coverage", justify="right")
        risk.add_column("reasons")
        for r in s["at_risk"]:
            cells = [r["id"], f"{r['score']:.1f}", r["band"]]
            if value_col:
                cells.append(_money(r["value"]))
            cells += [_pct(r["coverage"]), r["reasons"] or ""]
            risk.add_row(
                *_cells(cells), style=_style(colors.get(r["band"])) if con.is_terminal else ""
            )
        con.print(risk)


def scheme_description(con: Console, d: dict[str, Any]) -> None:
    """The `chs check` view of a scheme: effective weights, rules, bands."""
    sch = d["scheme"]
    _say(con, f"Scheme {sch['name']} ({sch['hash']}) from {sch['source']}: valid")
    if sch["description"]:
        _say(con, sch["description"])
    _say(con, f"id: {sch['id']}   value: {sch['value'] or '-'}   missing: {sch['missing']}")
    if d["groups"]:
        groups = Table(title="Groups", box=_box(con), title_justify="left")
        for name, justify in (
            ("group", "left"),
            ("weight", "right"),
            ("share", "right"),
            ("label", "left"),
        ):
            groups.add_column(name, justify=justify)  # type: ignore[arg-type]
        for g in d["groups"]:
            groups.add_row(
                *_cells([g["name"], f"{g['weight']:g}", f"{g['share']:.1f} %", g["label"]])
            )
        con.print(groups)
    table = Table(
        title="Signals (share = effective weight in the score)", box=_box(con), title_justify="left"
    )
    columns = (
        ["signal"]
        + (["group"] if d["groups"] else [])
        + ["source", "weight", "share", "missing", "rules"]
    )
    for name in columns:
        table.add_column(name, justify="right" if name in ("weight", "share") else "left")
    for s in d["signals"]:
        rules = "\n".join(f"{r['when']} -> {_points(r['points'])}" for r in s["rules"])
        missing = s["missing"] if isinstance(s["missing"], str) else f"{s['missing']:g} points"
        cells = [s["name"]] + ([s["group"]] if d["groups"] else [])
        cells += [s["source"], f"{s['weight']:g}", f"{s['share']:.1f} %", missing, rules]
        table.add_row(*_cells(cells))
    con.print(table)
    bands = Table(title="Bands", box=_box(con), title_justify="left")
    bands.add_column("band")
    bands.add_column("range")
    for b in d["bands"]:
        bands.add_row(
            *_cells([b["band"], b["range"]]), style=_style(b["color"]) if con.is_terminal else ""
        )
    con.print(bands)


def _points(p: Any) -> str:
    return f"{p:g}" if isinstance(p, float | int) else str(p)


def data_check(con: Console, d: dict[str, Any]) -> None:
    """The `chs check --data` preview."""
    rows = d["rows"]
    _say(
        con,
        f"Data {d['file']}: {rows['read']} rows, {rows['scored']} scorable, {rows['rejected']} rejected",
    )
    for line in d["rejected_sample"]:
        _say(con, f"  {line}")
    cols = Table(title="Columns", box=_box(con), title_justify="left")
    for name in ("signal", "column", "type", "missing"):
        cols.add_column(name, justify="right" if name == "missing" else "left")
    for c in d["columns"]:
        cols.add_row(*_cells([c["signal"], c["column"], c["type"], _pct(c["missing_share"])]))
    con.print(cols)
    total = max(rows["scored"], 1)
    dist = Table(title="Score distribution", box=_box(con), title_justify="left")
    dist.add_column("score")
    dist.add_column("customers", justify="right")
    dist.add_column("")
    peak = max((h["customers"] for h in d["histogram"]), default=0) or 1
    for h in d["histogram"]:
        dist.add_row(*_cells([h["range"], h["customers"], "#" * round(h["customers"] / peak * 40)]))
    con.print(dist)
    bands = ", ".join(
        f"{b['band']} {b['customers']} ({b['customers'] / total:.1%})" for b in d["bands"]
    )
    _say(con, f"Bands: {bands}")
