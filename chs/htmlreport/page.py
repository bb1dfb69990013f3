"""The report as one HTML file: every chart inline SVG, the style inline, no script, no
font or image fetched, so it opens from disk and prints to PDF one section a page.
Each section is a chart with its numbers beside it in a table a reader can copy.
Every text of the data is escaped."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from chs.htmlreport import charts
from chs.numbers import amount_text, count_text

STYLE = """
:root { color: #1a1a1a; background: #ffffff; font: 14px/1.4 Helvetica, Arial, sans-serif; }
body { margin: 24px auto; max-width: 1100px; padding: 0 16px; }
header h1 { font-size: 24px; margin: 0 0 4px; }
header p { margin: 0; color: #444444; }
section { margin: 28px 0; }
h2 { font-size: 18px; border-bottom: 2px solid #dddddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 14px 0 6px; }
.row { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
figure { margin: 0; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #cccccc; padding: 3px 7px; text-align: right; }
th { background: #f2f2f2; }
td.text, th.text { text-align: left; }
.tiles { display: flex; gap: 12px; flex-wrap: wrap; margin: 8px 0 14px; }
.tile { border: 1px solid #cccccc; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.tile b { display: block; font-size: 22px; }
.chip { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
        margin-right: 5px; vertical-align: baseline; }
.note { color: #444444; font-size: 12px; }
@page { size: A4 landscape; margin: 10mm; }
@media print {
  :root { font-size: 10px; }
  body { margin: 0; max-width: none; padding: 0; }
  header { margin-bottom: 6px; }
  section { break-before: page; margin: 0; }
  section:first-of-type { break-before: avoid; }
  .row { flex-wrap: nowrap; gap: 12px; }
  figure svg { max-width: 100%; max-height: 70mm; width: auto; height: auto; }
  table { font-size: 8px; }
  th, td { padding: 1px 4px; }
  h2 { font-size: 14px; margin: 0 0 6px; }
  figure, table, .tiles { break-inside: avoid; }
}
"""


def render(numbers: dict[str, Any], meta: dict[str, Any]) -> str:
    """The whole page."""
    sections: list[Callable[[dict[str, Any]], str | None]] = [
        _headline, _distribution, _movement, _trend, _risk, _at_risk, _outcomes, _forecast,
    ]  # fmt: skip
    body = "\n".join(s for s in (section(numbers) for section in sections) if s)
    title = html.escape(meta["title"])
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n{_header(meta)}\n{body}\n</body>\n</html>\n"
    )


def _header(meta: dict[str, Any]) -> str:
    e = html.escape
    scheme = meta["scheme"]
    return (
        f"<header><h1>{e(meta['title'])}</h1>"
        f"<p>Scheme <b>{e(scheme['name'] or '(not recorded)')}</b> "
        f"(hash <code>{e(scheme['hash'] or '-')}</code>), snapshot of "
        f"<b>{e(meta['as_of'] or '(undated)')}</b>, from <code>{e(meta['input'])}</code>."
        "</p></header>"
    )


def _attr(key: str) -> str:
    """A key (made of column names, which are data) as an attribute value."""
    return html.escape(key, quote=True)


def _section(key: str, title: str, *parts: str) -> str:
    return f'<section id="{_attr(key)}" data-section="{_attr(key)}">\n<h2>{html.escape(title)}</h2>\n{"".join(parts)}\n</section>'


def _table(key: str, head: list[str], rows: list[list[Any]], text: int | set[int] = 1) -> str:
    """A table of the numbers (`data-table` names it for whoever reads the page); `text`:
    the columns of words, set left (the first `text` ones, or those indexes)."""
    left = set(range(text)) if isinstance(text, int) else text

    def cell(i: int, v: Any, tag: str) -> str:
        kind = ' class="text"' if i in left else ""
        return f"<{tag}{kind}>{v}</{tag}>"

    top = "".join(cell(i, html.escape(h), "th") for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(cell(i, v, "td") for i, v in enumerate(r)) + "</tr>" for r in rows
    )
    return f'<table data-table="{_attr(key)}"><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>'


def _figure(key: str, svg: str) -> str:
    return f'<figure data-chart="{_attr(key)}">{svg}</figure>'


def _money(x: float | None) -> str:
    return "" if x is None else amount_text(x)


def _pct(x: float | None) -> str:
    return "" if x is None else f"{100 * x:.1f} %"


def _num(x: float | None, digits: int = 1) -> str:
    return "" if x is None else f"{x:.{digits}f}"


def _band(numbers: dict[str, Any], band: str) -> str:
    color = {b["band"]: b["color"] for b in numbers["bands"]}.get(band, "#999999")
    return f'<span class="chip" style="background:{color}"></span>{html.escape(band)}'


def _headline(n: dict[str, Any]) -> str:
    t = n["tiles"]
    change = "" if t["mean_change"] is None else f" ({t['mean_change']:+.1f})"
    fired = sum(a["customers"] for a in t["alerts"]) if t["alerts"] is not None else None
    tiles = [
        ("customers", count_text(t["customers"])),
        ("mean score", f"{_num(t['mean_score'])}{change}"),
    ]
    tiles += [("value", _money(t["value"]))] if t["value"] is not None else []
    tiles += [("alerts fired", count_text(fired))] if fired is not None else []
    boxes = "".join(
        f'<div class="tile">{html.escape(k)}<b>{html.escape(v)}</b></div>' for k, v in tiles
    )
    rows = [
        [
            _band(n, b["band"]),
            count_text(b["customers"]),
            _pct(b["share"]),
            _money(b["value"]),
            _pct(b["value_share"]),
        ]
        for b in t["bands"]
    ]
    parts = [f'<div class="tiles" data-table="tiles">{boxes}</div>',
             '<div class="row">', _figure("band_shares", charts.band_shares(n)),
             _table("bands", ["band", "customers", "share", "value", "value share"], rows), "</div>"]  # fmt: skip
    if t["alerts"]:
        alerts = [[html.escape(a["alert"]), count_text(a["customers"])] for a in t["alerts"]]
        parts.append("<h3>Alerts fired</h3>" + _table("alerts", ["alert", "customers"], alerts))
    return _section("headline", "Headline", *parts)


def _distribution(n: dict[str, Any]) -> str:
    bins: dict[int, list[int | float]] = {}
    for r in n["distribution"]:
        b = bins.setdefault(int(r["start"]), [0, 0.0])
        b[0] += r["customers"]
        b[1] += r["value"] or 0.0
    value = n["tiles"]["value"] is not None
    rows = [[f"{s}-{s + 5}", count_text(int(c)), _money(v) if value else ""]
            for s, (c, v) in sorted(bins.items())]  # fmt: skip
    figures = _figure("distribution_customers", charts.distribution(n, "customers"))
    figures += _figure("distribution_value", charts.distribution(n, "value")) if value else ""
    return _section(
        "distribution", "Score distribution",
        '<div class="row"><div>', figures, "</div>",
        _table("distribution", ["score", "customers", "value"], rows), "</div>",
    )  # fmt: skip


def _movement(n: dict[str, Any]) -> str | None:
    m = n["movement"]
    if m is None:
        return None
    e = html.escape
    bands = [b["band"] for b in n["bands"]]
    matrix = [
        [e(c["from"]), e(c["to"]), count_text(c["customers"]), _money(c["value"])]
        for c in m["matrix"]
    ]
    drops = [
        [e(str(d["id"])), _num(d["previous_score"]), _num(d["score"]), _num(d["delta"]),
         e(f"{d['previous_band']} -> {d['band']}"), _money(d["value"]), e(d["drivers"] or "")]
        for d in m["drops"]
    ]  # fmt: skip
    since = m["previous_as_of"] or m["previous"]  # the title is escaped by _section
    came = f"New customers: {count_text(m['new']['customers'])} ({_money(m['new']['value'])}); "
    went = f"lost: {count_text(m['lost']['customers'])} ({_money(m['lost']['value'])})."
    return _section(
        "movement", f"Movement since {since}",
        '<div class="row">', _figure("migration", charts.migration(m, bands)),
        _table("migration", ["from", "to", "customers", "value"], matrix, 2), "</div>",
        f'<p data-table="new_lost">{e(came + went)}</p>',
        "<h3>Biggest drops</h3>",
        _table("drops", ["id", "previous", "score", "delta", "bands", "value", "drivers"], drops, {0, 4, 6}),
    )  # fmt: skip


def _trend(n: dict[str, Any]) -> str | None:
    """The band shares and mean score per snapshot, then a section per `by` column."""
    t = n["trend"]
    if t is None:
        return None
    bands = [b["band"] for b in n["bands"]]
    rows = [
        [s["as_of"], count_text(s["customers"]), _num(s["mean_score"]),
         *[_pct(s["shares"].get(b, 0.0)) for b in bands]]
        for s in t["overall"][-MOST_ROWS:]
    ]  # fmt: skip
    parts = [_section("trend", "Trend", _figure("trend", charts.trend(t, n)),
                      _table("trend", ["snapshot", "customers", "mean score", *bands], rows))]  # fmt: skip
    for column, groups in t["by"].items():
        if groups:
            parts.append(_trend_by(column, groups, t["snapshots"], n))
    return "\n".join(parts)


def _trend_by(
    column: str, groups: list[dict[str, Any]], snapshots: list[str], n: dict[str, Any]
) -> str:
    """The mean score and the share at risk per value of `column` (the largest groups),
    the mean for the latest few snapshots in the table, the share at risk for the last."""
    shown, risky = snapshots[-6:], n["at_risk_bands"]
    sizes: dict[str, int] = {}
    means: dict[tuple[str, str], float | None] = {}
    last: dict[str, float] = {}
    for g in groups:
        key = str(g[column])
        sizes[key] = max(sizes.get(key, 0), g["customers"])
        means[(key, g["as_of"])] = g["mean_score"]
        if g["as_of"] == snapshots[-1]:
            last[key] = sum(g["shares"].get(b, 0.0) for b in risky)
    largest = sorted(sizes, key=lambda k: (-sizes[k], k))[:MOST_LINES]
    rows = [[html.escape(k), *[_num(means.get((k, s))) for s in shown], _pct(last.get(k))]
            for k in largest]  # fmt: skip
    kept = [g for g in groups if str(g[column]) in largest]
    e = html.escape
    return _section(
        f"trend_{column}", f"Trend by {column}",
        _figure(f"trend_{column}", charts.trend_by(kept, column, risky)),
        _table(f"trend_{column}", [column, *shown, f"at risk {snapshots[-1]}"], rows),
        f'<p class="note">Mean score per snapshot, and the share of customers in the '
        f'{e(", ".join(risky))} band(s); the {len(largest)} largest of {len(sizes)} {e(column)} values.</p>',
    )  # fmt: skip


MOST_ROWS = 15  # a table's rows on the page (the JSON holds them all)
MOST_LINES = 8  # lines of a trend chart


def _risk(n: dict[str, Any]) -> str | None:
    """A section per `by` column and pair: the groups with the most value at risk."""
    if not n["risk"]:
        return None
    bands = ", ".join(n["at_risk_bands"])  # the note is escaped once, below
    parts = []
    for r in n["risk"]:
        name = " x ".join(r["by"])
        # the most value at risk first (without a value column: the largest share at risk)
        groups = sorted(
            r["groups"],
            key=lambda g: (
                -(g["value_at_risk"] if g["value_at_risk"] is not None else g["at_risk_share"])
            ),
        )[:MOST_ROWS]
        rows = [
            [*[html.escape(str(g["group"][c])) for c in r["by"]], count_text(g["customers"]),
             _money(g["value"]), _money(g["value_at_risk"]), _pct(g["at_risk_share"])]
            for g in groups
        ]  # fmt: skip
        key = "_".join(r["by"])
        note = f"At risk: the {bands} band(s). The {len(groups)} of {len(r['groups'])} groups with the most value at risk."
        parts.append(_section(
            f"risk_{key}", f"Risk by {name}",
            '<div class="row">', _figure(f"risk_{key}", charts.risk_map({**r, "groups": groups})),
            _table(f"risk_{key}", [*r["by"], "customers", "value", "value at risk", "share at risk"],
                   rows, len(r["by"])),
            "</div>", f'<p class="note">{html.escape(note)}</p>',
        ))  # fmt: skip
    return "\n".join(parts)


def _at_risk(n: dict[str, Any]) -> str:
    e = html.escape
    rows = [
        [e(str(r["id"])), _num(r["score"]), _band(n, r["band"]), _num(r["delta"]), _money(r["value"]),
         e(r["owner"] or ""), e(r["reasons"])]
        for r in n["at_risk"]
    ]  # fmt: skip
    return _section(
        "at_risk", f"At risk: the first {len(rows)}",
        '<div class="row">', _figure("gauges", charts.gauges(n["at_risk"], n)),
        _table("at_risk", ["id", "score", "band", "delta", "value", "owner", "reasons"], rows, {0, 2, 5, 6}),
        "</div>",
    )  # fmt: skip


def _outcomes(n: dict[str, Any]) -> str | None:
    o = n["outcomes"]
    if o is None:
        return None
    rows = [
        [_band(n, b["band"]), count_text(b["customers"]), count_text(b["churned"]), _pct(b["churn_rate"]),
         _num(b["lift"], 2)]
        for b in o["bands"]
    ]  # fmt: skip
    deciles = [[str(d["decile"]), f"{d['min_score']:.1f}-{d['max_score']:.1f}", count_text(d["customers"]),
                _pct(d["churn_rate"]), _num(d["lift"], 2)] for d in o["deciles"]]  # fmt: skip
    auc = "" if o["auc"] is None else f"AUC {o['auc']:.3f}; "
    over = (
        f" within {o['horizon_days']} days of {len(o['snapshots'])} snapshot(s)"
        if o["horizon_days"]
        else ""
    )
    said = (
        f"{auc}{count_text(o['churned'])} of {count_text(o['customers'])} customers churned"
        f"{over} ({_pct(o['churn_rate'])})."
    )
    return _section(
        "outcomes", "Against churn", f'<p data-table="auc">{html.escape(said)}</p>',
        _figure("churn", charts.churn_by_band(o, n)),
        '<div class="row">', _table("churn_bands", ["band", "customers", "churned", "churn rate", "lift"], rows),
        _table("deciles", ["decile", "scores", "customers", "churn rate", "lift"], deciles), "</div>",
    )  # fmt: skip


def _forecast(n: dict[str, Any]) -> str | None:
    f = n["forecast"]
    if f is None:
        return None
    steps = [{**s, "step": s["month"]} for s in f["steps"]]
    value = steps[0]["value_lost"] is not None
    measure = "value_lost" if value else "lost"
    rows = [
        [str(s["step"]), _num(s["lost"], 1), _money(s["value_lost"]) if value else ""]
        for s in steps
    ]
    note = (
        f"Expected from the band-to-band moves of the history's {f['transitions']} pair(s) of "
        "consecutive snapshots (a Markov chain, as chs forecast computes it); a step is one "
        "snapshot apart, a month for a monthly history."
    )
    return _section(
        "forecast", "Forecast: customers and value lost",
        '<div class="row">', _figure("forecast", charts.forecast(steps, measure)),
        _table("forecast", ["snapshots ahead", "customers lost", "value lost"], rows), "</div>",
        f'<p class="note">{html.escape(note)}</p>',
    )  # fmt: skip
