"""Alert rules: flags and the `alerts` column, alert rows, the alerts file, scheme errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from support import TINY_SCHEME, invoke, write

from chs.actions.score import ScoreOptions, score
from chs.alerts import add_alerts, alert_rows
from chs.cli.errors import error_text
from chs.columns import alert_flag
from chs.engine import score_frame
from chs.errors import ChsError, DataError, OptionError, SchemeError
from chs.scheme import Scheme, load_scheme, parse_scheme
from chs.summary import alert_queries, build_alerts

# score == x; high >= 50, low below. Line numbers matter: `alerts:` is line 9.
SCHEME = (
    TINY_SCHEME
    + """\
alerts:
  - name: low_score
    when: "score < 50"
    action: Call them
    owner: CSM
    severity: high
  - name: big_fall
    when: "delta < -15"
    action: Re-engage
    severity: critical
  - name: small_account
    when: "mrr < 150"
    action: Upsell
"""
)
# a 80 (high), b 30, c 40, d 90 (high), e 45 with no mrr (low)
THIS = "id,mrr,x\na,100,80\nb,200,30\nc,100,40\nd,500,90\ne,,45\n"
# last month: a 90, b 40, c 70, d 95; e is new
LAST = "id,mrr,x\na,100,90\nb,200,40\nc,100,70\nd,500,95\n"

FLAGS = [alert_flag(a) for a in ("low_score", "big_fall", "small_account")]


def make_scheme(tmp_path: Path, text: str = SCHEME) -> Scheme:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    return load_scheme(path)


def scored(scheme: Scheme, text: str) -> pl.LazyFrame:
    rows = [line.split(",") for line in text.strip().splitlines()[1:]]
    frame = pl.DataFrame(
        {
            "id": [r[0] for r in rows],
            "mrr": [float(r[1]) if r[1] else None for r in rows],
            "x": [float(r[2]) for r in rows],
        }
    )
    out, rejects = score_frame(frame, scheme)
    assert rejects.height == 0
    return out.lazy()


def test_add_alerts_flags_and_column(tmp_path):
    scheme = make_scheme(tmp_path)
    frame, inactive = add_alerts(scored(scheme, THIS), scheme)
    got = frame.collect()
    # `delta` is not there without a previous snapshot: big_fall cannot fire
    assert inactive == ["big_fall"]
    assert "delta" not in got.columns  # the placeholder is not left in the rows
    assert got.select("id", *FLAGS, "alerts").rows() == [
        ("a", False, False, True, "small_account"),  # 80; mrr 100 < 150
        ("b", True, False, False, "low_score"),  # 30 < 50; mrr 200
        ("c", True, False, True, "low_score; small_account"),  # both, in scheme order
        ("d", False, False, False, ""),  # 90, mrr 500: nothing
        ("e", True, False, False, "low_score"),  # mrr NULL: `mrr < 150` is NULL, no fire
    ]


def test_scheme_without_alerts_is_unchanged(tmp_path):
    scheme = make_scheme(tmp_path, SCHEME.split("alerts:")[0])
    frame = scored(scheme, THIS)
    out, inactive = add_alerts(frame, scheme)
    assert out is frame
    assert inactive == []


def test_alert_reading_an_unknown_column(tmp_path):
    text = SCHEME.replace('when: "mrr < 150"', 'when: "scroe < 40 AND mrr < 150"')
    scheme = make_scheme(tmp_path, text)
    with pytest.raises(SchemeError) as err:
        add_alerts(scored(scheme, THIS), scheme)
    # alerts[2].when is on line 20 of the scheme
    assert err.value.message == (
        f"{tmp_path / 's.yaml'}:20: alerts[2].when: alert 'small_account' reads column "
        "'scroe', which the scored rows do not have; did you mean 'score'?"
    )
    assert err.value.exit_code == 3
    # through score: the same error, and nothing written
    data = write(tmp_path / "in.csv", THIS)
    out = tmp_path / "out.csv"
    with pytest.raises(SchemeError):
        score(data, scheme, ScoreOptions(output=out))
    assert not out.exists()


def test_delta_alert_inactive_without_previous_and_firing_with_one(tmp_path):
    scheme = make_scheme(tmp_path)
    data = write(tmp_path / "this.csv", THIS)
    previous = write(tmp_path / "last.csv", LAST)

    alone = score(data, scheme)
    # low_score b c e = 3; small_account a c = 2 (e has no mrr)
    assert alone["alerts"] == [
        {
            "alert": "low_score",
            "label": "low_score",
            "severity": "high",
            "owner": "CSM",
            "action": "Call them",
            "customers": 3,
            "active": True,
        },
        {
            "alert": "big_fall",
            "label": "big_fall",
            "severity": "critical",
            "owner": None,
            "action": "Re-engage",
            "customers": 0,
            "active": False,
        },
        {
            "alert": "small_account",
            "label": "small_account",
            "severity": "medium",
            "owner": None,
            "action": "Upsell",
            "customers": 2,
            "active": True,
        },
    ]

    out = tmp_path / "out.csv"
    with_previous = score(data, scheme, ScoreOptions(output=out, previous=previous))
    # delta: a 80-90 = -10, b 30-40 = -10, c 40-70 = -30, d 90-95 = -5, e new (NULL)
    # big_fall (delta < -15): c only
    assert [(a["alert"], a["customers"], a["active"]) for a in with_previous["alerts"]] == [
        ("low_score", 3, True),
        ("big_fall", 1, True),
        ("small_account", 2, True),
    ]
    written = pl.read_csv(out).sort("id")
    assert written.select("id", "delta", "alerts").rows() == [
        ("a", -10.0, "small_account"),
        ("b", -10.0, "low_score"),
        ("c", -30.0, "low_score; big_fall; small_account"),
        ("d", -5.0, ""),  # nothing fired: an empty text (written `""`)
        ("e", None, "low_score"),
    ]
    assert not any(c.startswith("__alert_") for c in written.columns)


def test_build_alerts_marks_inactive(tmp_path):
    scheme = make_scheme(tmp_path)
    frame, inactive = add_alerts(scored(scheme, THIS), scheme)
    queries = alert_queries(frame, scheme)
    frames = dict(zip(queries, pl.collect_all(list(queries.values())), strict=True))
    # one sum per flag: low_score b c e = 3, big_fall 0, small_account a c = 2
    result = build_alerts(scheme, frames, inactive)
    assert [(a["alert"], a["customers"], a["active"]) for a in result] == [
        ("low_score", 3, True),
        ("big_fall", 0, False),
        ("small_account", 2, True),
    ]


def test_alert_rows(tmp_path):
    scheme = make_scheme(tmp_path)
    this = scored(scheme, THIS)
    last = scored(scheme, LAST).select("id", pl.col("score").alias("previous_score"))
    with_delta = this.join(last, on="id", how="left", maintain_order="left").with_columns(
        (pl.col("score") - pl.col("previous_score")).alias("delta")
    )
    frame, inactive = add_alerts(with_delta, scheme)
    assert inactive == []
    got = alert_rows(frame, scheme, "mrr").collect()
    assert got.columns == [
        "id",
        "alert",
        "severity",
        "owner",
        "action",
        "score",
        "band",
        "delta",
        "value",
    ]
    # one row per fired alert, alerts in scheme order, customers in row order
    assert got.rows() == [
        ("b", "low_score", "high", "CSM", "Call them", 30.0, "low", -10.0, 200.0),
        ("c", "low_score", "high", "CSM", "Call them", 40.0, "low", -30.0, 100.0),
        ("e", "low_score", "high", "CSM", "Call them", 45.0, "low", None, None),
        ("c", "big_fall", "critical", None, "Re-engage", 40.0, "low", -30.0, 100.0),
        ("a", "small_account", "medium", None, "Upsell", 80.0, "high", -10.0, 100.0),
        ("c", "small_account", "medium", None, "Upsell", 40.0, "low", -30.0, 100.0),
    ]


def test_alerts_file_matches_the_summary(tmp_path):
    scheme = make_scheme(tmp_path)
    data = write(tmp_path / "this.csv", THIS)
    previous = write(tmp_path / "last.csv", LAST)
    path = tmp_path / "alerts.ndjson"
    summary = score(data, scheme, ScoreOptions(previous=previous, alerts=path))
    assert summary["alerts_file"] == str(path)
    lines = pl.read_ndjson(path)
    assert lines.columns == [
        "id",
        "alert",
        "severity",
        "owner",
        "action",
        "score",
        "band",
        "delta",
        "value",
    ]
    # 3 low_score + 1 big_fall + 2 small_account = 6 lines
    assert lines.height == 6
    assert lines.select("id", "alert").rows() == [
        ("b", "low_score"),
        ("c", "low_score"),
        ("e", "low_score"),
        ("c", "big_fall"),
        ("a", "small_account"),
        ("c", "small_account"),
    ]
    per_alert = dict(lines.group_by("alert").len().iter_rows())
    assert {a["alert"]: a["customers"] for a in summary["alerts"] if a["customers"]} == per_alert


def test_alerts_file_with_a_scheme_without_alerts(tmp_path):
    # `chs score --alerts FILE` with a scheme that has no `alerts:` (example.yaml,
    # simple-crm.yaml). Nothing can fire: the run writes an empty alerts file (so a
    # cron job's "mail if not empty" works), or refuses with a clear chs error. It
    # must not fail with an internal error.
    scheme = make_scheme(tmp_path, SCHEME.split("alerts:")[0])
    data = write(tmp_path / "this.csv", THIS)
    path = tmp_path / "alerts.ndjson"
    try:
        summary = score(data, scheme, ScoreOptions(alerts=path))
    except ChsError:
        assert not path.exists()
        return
    assert summary["alerts"] == []
    assert path.read_text() == ""


def test_invalid_sql_in_when_is_a_scheme_error_at_load(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCHEME.replace('when: "score < 50"', 'when: "score <"'))
    with pytest.raises(SchemeError) as err:
        load_scheme(path)
    # alerts[0].when is on line 11
    assert err.value.message == (
        f"{path}:11: alerts[0].when: not a valid SQL expression: '<' at column 7 has nothing on its right"
    )
    path.write_text(SCHEME.replace('when: "delta < -15"', 'when: "(SELECT 1) > 0"'))
    with pytest.raises(SchemeError) as err:
        load_scheme(path)
    # alerts[1].when is on line 16
    assert (
        err.value.message
        == f"{path}:16: alerts[1].when: a query (SELECT, FROM, VALUES, a table) is not allowed "
        "in an expression"
    )


def test_duplicate_alert_names_are_a_scheme_error(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCHEME.replace("- name: small_account", "- name: low_score"))
    with pytest.raises(SchemeError) as err:
        load_scheme(path)
    # the second low_score is alerts[2], its name on line 19
    assert err.value.message == (
        f"{path}:19: alerts[2].name: alert names must be unique ('low_score' repeats)"
    )
    assert err.value.exit_code == 3


def test_trend_spans():
    text = (
        SCHEME
        + """\
  - name: slide
    when: "change_7d < -5 OR change_30d < -10"
    action: Look
trends: [90, 30]
"""
    )
    scheme = parse_scheme(text)
    # declared 90 and 30, plus 7 and 30 read by the alert: sorted, once each
    assert scheme.trend_spans() == [7, 30, 90]
    assert parse_scheme(SCHEME).trend_spans() == []


def test_saas_scheme_alerts_and_trends():
    scheme = load_scheme(Path(__file__).parent.parent / "schemes" / "saas.yaml")
    # trends: [30, 90]; re_engagement reads change_30d, already declared
    assert scheme.trend_spans() == [30, 90]
    assert [(a.name, a.severity, a.columns()) for a in scheme.alerts] == [
        ("urgent_call", "critical", ["score"]),
        ("support_offer", "high", ["score"]),
        ("quarterly_checkin", "low", ["score"]),
        ("expansion", "low", ["score"]),
        ("re_engagement", "high", ["change_30d"]),
        ("support_ticket", "medium", ["score"]),
    ]


def test_trend_alert_needs_a_dated_snapshot(tmp_path):
    text = (
        SCHEME.split("alerts:")[0]
        + """\
alerts:
  - name: slide
    when: "change_30d < -15"
    action: Re-engage
"""
    )
    scheme = make_scheme(tmp_path, text)
    data = write(tmp_path / "this.csv", THIS)
    last_raw = write(tmp_path / "last.csv", LAST)
    # an undated previous: no change_30d, the alert is inactive
    undated = score(data, scheme, ScoreOptions(previous=last_raw))
    assert undated["alerts"][0]["active"] is False
    assert undated["alerts"][0]["customers"] == 0
    # a previous scored on 2026-10-01, this one on 2026-11-01: change_30d is the delta
    last = tmp_path / "last.parquet"
    score(last_raw, scheme, ScoreOptions(output=last, as_of=dt.date(2026, 10, 1)))
    dated = score(data, scheme, ScoreOptions(previous=last, as_of=dt.date(2026, 11, 1)))
    assert dated["trends"] == {"change_30d": "2026-10-01"}
    # change_30d: -10, -10, -30, -5, NULL: only c is below -15
    assert dated["alerts"][0]["active"] is True
    assert dated["alerts"][0]["customers"] == 1


# -- input columns carried into the alerts file: --alerts-keep and `include:` -----------------

# Line numbers matter: the second alert's `include` is line 17, its second entry line 19.
ROUTED = (
    TINY_SCHEME
    + """\
alerts:
  - name: low_score
    when: "score < 50"
    action: Call them
    owner: CSM
  - name: small_account
    when: "mrr < 150"
    action: Upsell
    include:
      - Company name
      - owner
"""
)
# b 30, c 40 fire low_score; a and c fire small_account.
ACCOUNTS = (
    "id,Company name,CSM email,owner,mrr,x\n"
    "a,Acme,ann@acme.test,Ann,100,80\n"
    "b,Beta,bob@beta.test,Bob,200,30\n"
    "c,Ceta,cat@ceta.test,Cat,100,40\n"
)
CARRIED = ["Company name", "CSM email", "input_owner"]


def test_alerts_file_carries_alerts_keep_and_include(tmp_path):
    scheme = make_scheme(tmp_path, ROUTED)
    data = write(tmp_path / "in.csv", ACCOUNTS)
    path, out = tmp_path / "alerts.csv", tmp_path / "out.csv"
    options = ScoreOptions(output=out, alerts=path, alerts_keep=["CSM email"], keep=["x"])
    score(data, scheme, options)
    lines = pl.read_csv(path)
    # `owner` is the alert's (a team); the export's `owner` is carried as input_owner
    assert lines.columns[9:] == ["CSM email", "Company name", "input_owner"]
    assert lines.select("id", "alert", "owner", *lines.columns[9:]).rows() == [
        ("b", "low_score", "CSM", "bob@beta.test", None, None),
        ("c", "low_score", "CSM", "cat@ceta.test", None, None),
        ("a", "small_account", None, "ann@acme.test", "Acme", "Ann"),
        ("c", "small_account", None, "cat@ceta.test", "Ceta", "Cat"),
    ]
    # --keep x: the columns carried for the alerts file are not shown in the output
    assert pl.read_csv(out).columns[:3] == ["id", "mrr", "x"]
    assert "CSM email" not in pl.read_csv(out).columns


def test_alert_rows_of_a_scheme_without_alerts_keeps_the_columns(tmp_path):
    scheme = make_scheme(tmp_path, SCHEME.split("alerts:")[0])
    data = write(tmp_path / "in.csv", ACCOUNTS)
    path = tmp_path / "alerts.parquet"
    score(data, scheme, ScoreOptions(alerts=path, alerts_keep=["CSM email", "owner"]))
    got = pl.read_parquet(path)
    assert got.height == 0
    assert got.columns[9:] == ["CSM email", "input_owner"]


def test_alerts_keep_naming_a_column_not_in_the_input(tmp_path):
    scheme = make_scheme(tmp_path, ROUTED)
    data = write(tmp_path / "in.csv", ACCOUNTS)
    path = tmp_path / "alerts.csv"
    with pytest.raises(DataError) as info:
        score(data, scheme, ScoreOptions(alerts=path, alerts_keep=["CSM mail"]))
    assert info.value.exit_code == 4
    assert error_text(info.value) == (
        f"{data}: column 'CSM mail' (asked for with --alerts-keep) not found. Did you mean "
        "'CSM email'? Columns in the file: id, Company name, CSM email, owner, mrr, x"
    )
    assert not path.exists()


def test_alert_include_naming_a_column_not_in_the_input(tmp_path):
    scheme = make_scheme(tmp_path, ROUTED.replace("- owner", "- ownr"))
    data = write(tmp_path / "in.csv", ACCOUNTS)
    with pytest.raises(SchemeError) as info:
        score(data, scheme, ScoreOptions())  # checked even without an alerts file
    assert str(info.value) == (
        f"{tmp_path / 's.yaml'}:19: alerts[1].include[1]: alert 'small_account' carries column "
        f"'ownr', which {data} does not have. Did you mean 'owner'? Columns in the file: id, "
        "Company name, CSM email, owner, mrr, x"
    )


def test_alerts_keep_without_an_alerts_file(tmp_path):
    scheme = make_scheme(tmp_path, ROUTED)
    data = write(tmp_path / "in.csv", ACCOUNTS)
    with pytest.raises(OptionError) as info:
        score(data, scheme, ScoreOptions(alerts_keep=["CSM email"]))
    assert error_text(info.value) == (
        "--alerts-keep names columns for the alerts file, but none is written"
    )


@pytest.mark.parametrize(
    ("include", "message"),
    [
        ("[]", "alerts[1].include: list should have at least 1 item after validation, not 0"),
        ('[""]', "alerts[1].include[0]: string should have at least 1 character (got '')"),
    ],
)
def test_alert_include_must_name_columns(tmp_path, include, message):
    text = ROUTED.split("    include:")[0] + f"    include: {include}\n"
    with pytest.raises(SchemeError) as info:
        make_scheme(tmp_path, text)
    assert str(info.value) == f"{tmp_path / 's.yaml'}:17: {message}"


def test_cli_alerts_keep(tmp_path):
    scheme = write(tmp_path / "s.yaml", ROUTED)
    data = write(tmp_path / "in.csv", ACCOUNTS)
    path = tmp_path / "alerts.csv"
    result = invoke(
        "score", data, "-s", scheme, "--alerts", path, "--alerts-keep", "Company name, CSM email"
    )
    assert result.exit_code == 0, result.output
    assert path.read_text().splitlines() == [
        "id,alert,severity,owner,action,score,band,delta,value,Company name,CSM email,input_owner",
        "b,low_score,medium,CSM,Call them,30.0,low,,200.0,Beta,bob@beta.test,",
        "c,low_score,medium,CSM,Call them,40.0,low,,100.0,Ceta,cat@ceta.test,",
        "a,small_account,medium,,Upsell,80.0,high,,100.0,Acme,ann@acme.test,Ann",
        "c,small_account,medium,,Upsell,40.0,low,,100.0,Ceta,cat@ceta.test,Cat",
    ]
    result = invoke("score", data, "-s", scheme, "--alerts", path, "--alerts-keep", "Company")
    assert result.exit_code == 4
    assert result.stderr.startswith(
        f"Error: {data}: column 'Company' (asked for with --alerts-keep) not found. "
        "Did you mean 'Company name'?"
    )


def test_alert_include_is_bounded(tmp_path):
    columns = ", ".join(f"c{i}" for i in range(51))
    text = ROUTED.split("    include:")[0] + f"    include: [{columns}]\n"
    with pytest.raises(SchemeError) as info:
        make_scheme(tmp_path, text)
    assert str(info.value) == (
        f"{tmp_path / 's.yaml'}:17: alerts[1].include: too many columns: 51; the limit is 50"
    )
