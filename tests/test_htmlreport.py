"""`chs report --html` (chs/htmlreport/): the page's numbers from arithmetic on five
customers, the page in a real browser (headless Chromium: no console error, no request
but the file, every section's chart drawn, the tables' numbers the library's, one
printed page a section), and bad input refused with nothing written."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from support import TINY_SCHEME, as_json, assert_failed, invoke, write

import chs
from chs.actions.backtest import backtest
from chs.actions.forecast import forecast
from chs.actions.report import PageRequest
from chs.actions.score import ScoreOptions, score
from chs.scheme import load_scheme

ROOT = Path(__file__).resolve().parent.parent
HISTORY = ROOT / "sample_data" / "history"
LATEST = HISTORY / "as_of=2026-11-01" / "scores.parquet"
CHURN = ROOT / "sample_data" / "churn.csv"

# score == x; high from 50. Last month: a 80, b 30, c 60, d 45, f 55. This month: a falls
# to 40 (high -> low), b rises to 70, c stays at 60, d left, e came at 20, f falls to 50.
LAST = "id,mrr,x,segment\na,100,80,A\nb,200,30,A\nc,300,60,B\nd,400,45,B\nf,600,55,A\n"
THIS = "id,mrr,x,segment\na,110,40,A\nb,220,70,A\nc,330,60,B\ne,500,20,B\nf,600,50,A\n"
CHURNED = "id,churned\na,yes\nb,no\nc,no\ne,yes\nf,no\n"


@pytest.fixture
def months(tmp_path: Path) -> tuple[Path, Path]:
    scheme = load_scheme(write(tmp_path / "tiny.yaml", TINY_SCHEME))
    files = []
    for name, text, day in (("last", LAST, 1), ("this", THIS, 30)):
        out = tmp_path / f"{name}.parquet"
        score(write(tmp_path / f"{name}.csv", text), scheme,
              ScoreOptions(output=out, as_of=dt.date(2026, 11, day)))  # fmt: skip
        files.append(out)
    return files[0], files[1]


def page_of(this: Path, **request: Any) -> dict[str, Any]:
    result = chs.report(this, html=True, page=PageRequest(this, **request))
    return result  # type: ignore[return-value]


def test_the_numbers_are_the_arithmetic_of_five_customers(months: tuple[Path, Path]) -> None:
    last, this = months
    outcomes = write(this.parent / "churn.csv", CHURNED)
    result = page_of(this, by=[["segment"]], previous=last, outcomes=outcomes, outcome="churned")
    page = result["page"]
    tiles = page["tiles"]
    # 5 customers, 110 + 220 + 330 + 500 + 600 = 1,760; mean (40+70+60+20+50)/5 = 48.0,
    # last month's (80+30+60+45+55)/5 = 54.0
    assert (tiles["customers"], tiles["value"], tiles["mean_score"], tiles["mean_change"]) == (
        5, 1760.0, 48.0, -6.0,
    )  # fmt: skip
    # high: b, c, f (220 + 330 + 600 = 1,150 of 1,760); low: a, e (610)
    assert [(b["band"], b["customers"], b["share"], b["value"], b["value_share"]) for b in tiles["bands"]] == [
        ("high", 3, 0.6, 1150.0, 0.6534), ("low", 2, 0.4, 610.0, 0.3466),
    ]  # fmt: skip
    assert [(d["start"], d["band"], d["customers"]) for d in page["distribution"]] == [
        (20, "low", 1), (40, "low", 1), (50, "high", 1), (60, "high", 1), (70, "high", 1),
    ]  # fmt: skip
    assert page["bands"] == [
        {"band": "high", "color": "#009E73", "from": 50.0},
        {"band": "low", "color": "#D55E00", "from": 0.0},
    ]
    moves = {(m["from"], m["to"]): (m["customers"], m["value"]) for m in page["movement"]["matrix"]}
    assert moves == {
        ("high", "low"): (1, 110.0), ("low", "high"): (1, 220.0), ("high", "high"): (2, 930.0),
        ("low", "(lost)"): (1, 400.0), ("(new)", "low"): (1, 500.0),
    }  # fmt: skip
    drops = [
        (d["id"], d["previous_score"], d["score"], d["delta"]) for d in page["movement"]["drops"]
    ]
    assert drops == [("a", 80.0, 40.0, -40.0), ("f", 55.0, 50.0, -5.0)]
    assert page["movement"]["drops"][0]["drivers"] == "x 80 -> 40"
    assert (page["movement"]["new"], page["movement"]["lost"]) == (
        {"customers": 1, "value": 500.0}, {"customers": 1, "value": 400.0},
    )  # fmt: skip
    # at risk (low): A holds a (110 of 930), B holds e (500 of 830)
    risk = [(g["group"]["segment"], g["customers"], g["value"], g["value_at_risk"], g["at_risk_share"])
            for g in page["risk"][0]["groups"]]  # fmt: skip
    assert risk == [("A", 3, 930.0, 110.0, 0.3333), ("B", 2, 830.0, 500.0, 0.5)]
    listed = [(r["id"], r["score"], r["delta"], r["value"]) for r in page["at_risk"]]
    assert listed == [("e", 20.0, None, 500.0), ("a", 40.0, -40.0, 110.0)]
    # a and e churned, both low: low 2 of 2 (rate 1.0, lift 1.0 / 0.4 = 2.5), high 0 of 3;
    # both churners score below all three who stayed: AUC 1
    o = page["outcomes"]
    assert (o["customers"], o["churned"], o["churn_rate"], o["auc"]) == (5, 2, 0.4, 1.0)
    assert [(b["band"], b["churned"], b["churn_rate"], b["lift"]) for b in o["bands"]] == [
        ("high", 0, 0.0, 0.0), ("low", 2, 1.0, 2.5),
    ]  # fmt: skip
    assert result["sections"] == [
        "headline",
        "distribution",
        "movement",
        "risk_segment",
        "at_risk",
        "outcomes",
    ]


def test_the_page_is_one_file_that_fetches_nothing(months: tuple[Path, Path]) -> None:
    _, this = months
    text = page_of(this)["html"]
    assert text.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert text.count("<svg") == 4  # band shares, two histograms, the gauges
    # data is escaped: an id such as <b> is text
    assert "Scheme <b>tiny</b>" in text


def test_an_id_that_looks_like_markup_is_escaped(tmp_path: Path) -> None:
    scheme = load_scheme(write(tmp_path / "tiny.yaml", TINY_SCHEME))
    out = tmp_path / "scored.parquet"
    data = write(tmp_path / "in.csv", 'id,mrr,x\n"<script>alert(1)</script>",10,20\nok,5,90\n')
    score(data, scheme, ScoreOptions(output=out))
    text = page_of(out)["html"]
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_the_cli_writes_the_page_and_its_json_is_the_librarys(
    months: tuple[Path, Path], tmp_path: Path
) -> None:
    last, this = months
    target = tmp_path / "out" / "report.html"
    result = invoke(
        "report", this, "--html", target, "--previous", last, "--by", "segment", "--json"
    )
    assert result.exit_code == 0, result.output
    library = chs.report(this, html=target, page=PageRequest(this, [["segment"]], previous=last))
    assert json.loads(result.stdout) == as_json(library)
    assert library["html"] is None and library["html_file"] == str(target)
    assert target.read_text(encoding="utf-8").count("<section") == 5
    assert oct(target.stat().st_mode & 0o777) == "0o644"


def test_the_cli_says_what_it_wrote(months: tuple[Path, Path], tmp_path: Path) -> None:
    _, this = months
    target = tmp_path / "report.html"
    result = invoke("report", this, "--html", target, "--title", "November")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Report of {this} (scheme tiny, {load_scheme(write(tmp_path / 't.yaml', TINY_SCHEME)).digest}; snapshot 2026-11-30)",
        "Sections: headline, distribution, at_risk",
        f"Written to {target}",
    ]
    assert "<title>November</title>" in target.read_text(encoding="utf-8")


def test_a_scored_file_of_another_scheme_than_the_history_is_refused(tmp_path: Path) -> None:
    scheme = load_scheme(write(tmp_path / "tiny.yaml", TINY_SCHEME))
    this = tmp_path / "this.parquet"
    score(
        write(tmp_path / "this.csv", THIS),
        scheme,
        ScoreOptions(output=this, as_of=dt.date(2026, 12, 1)),
    )
    target = tmp_path / "report.html"
    result = invoke("report", this, "--html", target, "--history", HISTORY)
    first = HISTORY / "as_of=2026-04-01" / "scores.parquet"
    assert_failed(
        result, 4,
        f"Error: {this}: scored with scheme tiny ({scheme.digest}), but {first} with saas "
        "(80a2a95c611b); a report compares snapshots of one scheme",
        target,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--by", "region"], 4, "{this}: --by column 'region' not found. Did you mean 'reasons'?"),
        (["--previous", "{last}", "--history", str(HISTORY)], 2,
         "--previous takes a previous snapshot or a history, not both"),
        (["--horizon", "soon"], 2, "--horizon must be a number of days such as 90d (got 'soon')"),
    ],
)  # fmt: skip
def test_bad_options_are_named(
    months: tuple[Path, Path], tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    last, this = months
    target = tmp_path / "report.html"
    args = [a.format(last=last, this=this) for a in args]
    result = invoke("report", this, "--html", target, *args)
    assert_failed(result, code, "Error: " + message.format(this=this, last=last), target)


def test_an_empty_file_and_a_wrong_name_write_nothing(tmp_path: Path) -> None:
    empty = write(tmp_path / "empty.csv", "id,score,band\n")
    target = tmp_path / "report.html"
    result = invoke("report", empty, "--html", target)
    assert_failed(
        result, 4, f"Error: {empty}: no scored customers: there is nothing to report", target
    )
    result = invoke("report", LATEST, "--html", tmp_path / "report.txt")
    assert_failed(
        result, 5, f"Error: {tmp_path / 'report.txt'}: the report is an HTML page; name it .html"
    )
    result = invoke("report", LATEST, "--html", target, "--history", tmp_path / "nowhere")
    assert_failed(result, 4, f"Error: {tmp_path / 'nowhere'}: no such history folder", target)
    raw = ROOT / "sample_data" / "customers.parquet"
    result = invoke("report", raw, "--html", target)
    assert_failed(
        result, 4,
        f"Error: {raw}: not a scored file (no score and band columns); run chs score first",
        target,
    )  # fmt: skip
    result = invoke("report", LATEST, "--history", HISTORY, "--by", "segment")
    assert_failed(result, 2, "Error: --history goes with --html FILE (the HTML report)")


# -- in a real browser ------------------------------------------------------------------------

SECTIONS = ["headline", "distribution", "movement", "trend", "trend_segment", "trend_region",
            "risk_segment", "risk_region", "risk_segment_region", "at_risk", "outcomes", "forecast"]  # fmt: skip


@pytest.fixture(scope="module")
def sample_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The report of the shipped history's last month, with outcomes."""
    folder = tmp_path_factory.mktemp("report")
    history = shutil.copytree(HISTORY, folder / "history")
    target = folder / "report.html"
    request = PageRequest(LATEST, [["segment"], ["region"]], history=history, outcomes=CHURN)
    return target, chs.report(LATEST, html=target, page=request)  # type: ignore[return-value]


def test_the_sample_report_opens_offline_with_every_chart(
    browser, sample_page, tmp_path: Path
) -> None:
    target, _ = sample_page
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    messages: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: messages.append(f"error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(target.as_uri())
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert messages == [] and requests == [target.as_uri()]
    assert page.eval_on_selector_all("section", "s => s.map(e => e.id)") == SECTIONS
    # each chart is an SVG with its marks: bars, cells, lines
    marks = {
        "distribution_customers": "path.mark-rect, g.mark-rect path",
        "migration": "g.mark-rect path",
        "trend": "g.mark-line path",
        "gauges": "g.mark-rect path",
        "churn": "g.mark-rect path",
    }
    for chart, selector in marks.items():
        found = page.locator(f'figure[data-chart="{chart}"] svg').locator(selector).count()
        assert found > 0, chart
    assert (tmp_path / "report.png").stat().st_size > 50_000


def test_the_tables_show_the_librarys_numbers(browser, sample_page) -> None:
    target, result = sample_page
    page = browser.new_page()
    page.goto(target.as_uri())
    rows = page.eval_on_selector_all(
        'table[data-table="bands"] tbody tr',
        "rs => rs.map(r => [...r.cells].map(c => c.innerText))",
    )
    want = result["page"]["tiles"]["bands"]
    assert [r[0].strip() for r in rows] == [b["band"] for b in want]
    assert [int(r[1].replace(",", "")) for r in rows] == [b["customers"] for b in want]
    assert [float(r[3].replace(",", "")) for r in rows] == [b["value"] for b in want]
    listed = page.eval_on_selector_all(
        'table[data-table="at_risk"] tbody tr', "rs => rs.map(r => r.cells[0].innerText)"
    )
    assert listed == [str(r["id"]) for r in result["page"]["at_risk"]]
    # pooled as chs backtest pools the history: the snapshots whose 90 days are observed
    pooled = backtest(history=HISTORY, outcomes=CHURN)
    outcomes = result["page"]["outcomes"]
    assert (outcomes["auc"], outcomes["customers"], outcomes["churned"]) == (
        pooled["auc"], pooled["customers"], pooled["churned"],
    )  # fmt: skip
    assert outcomes["snapshots"] == [s["as_of"] for s in pooled["snapshots"] if s["used"]]
    # the value lost as chs forecast projects it from the same history
    assert result["page"]["forecast"]["steps"] == forecast(history=HISTORY)["forecast"]
    auc = page.inner_text('p[data-table="auc"]')
    assert auc.startswith(f"AUC {result['page']['outcomes']['auc']:.3f}; ")


def test_the_printed_pdf_has_a_page_a_section_or_fewer(
    browser, sample_page, tmp_path: Path
) -> None:
    import pypdf

    target, _ = sample_page
    page = browser.new_page()
    page.goto(target.as_uri())
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    pages = len(pypdf.PdfReader(pdf).pages)
    assert pages == len(SECTIONS)  # a page break before each, and none within


ODD = "acct.region<b>&"  # a column name with a dot (a path to Vega-Lite) and markup


def test_odd_column_names_and_no_value_column_are_reported(tmp_path: Path) -> None:
    """A --by column named like markup and like a Vega-Lite path, and a scheme without a
    value column: shares at risk, no money."""
    text = TINY_SCHEME.replace("value: mrr\n", "")
    scheme = load_scheme(write(tmp_path / "s.yaml", text))
    header = ODD
    data = write(tmp_path / "in.csv", f"id,x,{header}\na,80,EU\nb,30,EU\nc,5,US\nd,60,US\n")
    out = tmp_path / "scored.parquet"
    score(data, scheme, ScoreOptions(output=out))
    result = page_of(out, by=[[ODD]])
    page, text = result["page"], result["html"]
    risk = [
        (g["group"][ODD], g["customers"], g["value_at_risk"], g["at_risk_share"])
        for g in page["risk"][0]["groups"]
    ]
    # at risk: low (b 30, c 5): EU 1 of 2, US 1 of 2
    assert risk == [("EU", 2, None, 0.5), ("US", 2, None, 0.5)]
    first = page["distribution"][0]
    assert (first["start"], first["band"], first["value"]) == (5, "low", None)
    assert page["tiles"]["value"] is None
    assert 'id="risk_acct.region&lt;b&gt;&amp;"' in text and "<b>&" not in text
    assert result["sections"] == ["headline", "distribution", f"risk_{ODD}", "at_risk"]
    # the chart names the groups (the column is charted under a plain name)
    chart = text[text.index('data-chart="risk_acct.region&lt;b&gt;&amp;"') :].split("</figure>", 1)[
        0
    ]
    assert ">EU<" in chart and ">US<" in chart
