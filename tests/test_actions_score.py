"""`score` and its summary: reconciliation, bands, value, the at-risk list."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import yaml

from chs.actions.score import ScoreOptions, score
from chs.cli.errors import error_text
from chs.columns import ID_HASH
from chs.errors import DataError
from chs.scheme import load_scheme, parse_scheme

SCHEME = """
name: tiny
id: id
value: mrr
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50, color: green}
  - {name: low, from: 0, color: red}
"""
# x -> score as is. a 80, b 20, c 40, d 90, e 20; f cannot be scored.
CSV = "id,mrr,x\na,100,80\nb,300,20\nc,600,40\nd,1000,90\ne,500,20\nf,50,bad\n"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, object]:
    data = tmp_path / "in.csv"
    data.write_text(CSV)
    return data, parse_scheme(SCHEME, tmp_path / "s.yaml")


def test_summary_numbers(files, tmp_path):
    data, scheme = files
    out, rejects = tmp_path / "out.parquet", tmp_path / "rejects.csv"
    summary = score(data, scheme, ScoreOptions(output=out, rejects=rejects, top=3))
    assert summary["rows"] == {"read": 6, "scored": 5, "rejected": 1}
    # high: a + d = 2 of 5, value 1100 of 2500; low: b + c + e = 3, value 1400
    assert summary["bands"] == [
        {
            "band": "high",
            "label": "high",
            "from": 50.0,
            "color": "green",
            "customers": 2,
            "share": 0.4,
            "value": 1100.0,
            "value_share": 0.44,
        },
        {
            "band": "low",
            "label": "low",
            "from": 0.0,
            "color": "red",
            "customers": 3,
            "share": 0.6,
            "value": 1400.0,
            "value_share": 0.56,
        },
    ]
    # (80 + 20 + 40 + 90 + 20) / 5 = 50; sorted 20 20 40 80 90 -> median 40
    assert summary["score"] == {"mean": 50.0, "median": 40.0, "min": 20.0, "max": 90.0}
    assert summary["value"] == {"column": "mrr", "total": 2500.0}
    # lowest score first; a tie goes to the larger value (e 500 before b 300)
    assert [(r["id"], r["score"], r["value"]) for r in summary["at_risk"]] == [
        ("e", 20.0, 500.0),
        ("b", 20.0, 300.0),
        ("c", 40.0, 600.0),
    ]
    assert summary["at_risk"][0]["reasons"] == "x -80.0"
    assert summary["rejected_sample"] == ["row 6 (f): x: 'bad' is not a number (column x)"]
    # the files reconcile with the summary
    assert pl.read_parquet(out).height == 5
    assert pl.read_csv(rejects).select("row", "reason", "id", "x").rows() == [
        (6, "x: 'bad' is not a number (column x)", "f", "bad")
    ]


def test_unscorable_rows_stop_the_run_and_nothing_is_written(files, tmp_path):
    data, scheme = files
    out = tmp_path / "out.csv"
    with pytest.raises(DataError) as err:
        score(data, scheme, ScoreOptions(output=out))
    # the library gives the advice as a hint that the command line words
    assert err.value.hint == "rejects"
    assert "--" not in err.value.message
    assert error_text(err.value) == (
        f"{data}: 1 of 6 rows cannot be scored; nothing was written.\n"
        "  row 6 (f): x: 'bad' is not a number (column x)\n"
        "Fix the data, or pass --rejects FILE to write these rows there and score the rest."
    )
    assert not out.exists()


def test_many_rejects_are_summarised(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("id,mrr,x\n" + "".join(f"r{i},1,oops{i}\n" for i in range(13)))
    with pytest.raises(DataError) as err:
        score(data, parse_scheme(SCHEME))
    lines = err.value.message.splitlines()
    assert lines[0] == f"{data}: 13 of 13 rows cannot be scored; nothing was written."
    assert lines[1] == "  row 1 (r0): x: 'oops0' is not a number (column x)"
    assert lines[10] == "  row 10 (r9): x: 'oops9' is not a number (column x)"
    assert lines[11] == "  … and 3 more"


def test_no_value_column_means_no_value_figures(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("id,x\na,60\nb,10\n")
    scheme = parse_scheme(SCHEME.replace("value: mrr\n", ""))
    summary = score(data, scheme)
    assert summary["value"] == {"column": None, "total": None}
    assert [(b["customers"], b["value"], b["value_share"]) for b in summary["bands"]] == [
        (1, None, None),
        (1, None, None),
    ]


def test_sample_data_with_every_shipped_scheme_reconciles():
    root = Path(__file__).resolve().parent.parent
    for name in ("saas", "example", "simple-crm"):
        summary = score(
            root / "sample_data" / "customers.csv", load_scheme(root / "schemes" / f"{name}.yaml")
        )
        rows = summary["rows"]
        assert rows == {"read": 400, "scored": 400, "rejected": 0}, name
        assert sum(b["customers"] for b in summary["bands"]) == 400
        assert sum(b["share"] for b in summary["bands"]) == pytest.approx(1.0, abs=1e-3)
        assert summary["value"]["total"] == pytest.approx(
            pl.read_csv(root / "sample_data" / "customers.csv")["mrr"].sum(), abs=0.01
        )


@pytest.mark.parametrize("at_once", [16_000_000, 2], ids=["one-sort", "in-parts"])
def test_repeated_ids_are_found_after_the_pass_and_rejected(tmp_path, monkeypatch, at_once):
    # The pass assumes unique ids, then checks its own files: a repeat (` a` trims to
    # `a`, one of them also unscorable) runs it again with both rows rejected. With a
    # small bound the hashes are checked in parts, with the same result.
    import chs.actions.score

    monkeypatch.setattr(chs.actions.score, "_HASHES_AT_ONCE", at_once)
    data = tmp_path / "in.csv"
    data.write_text("id,mrr,x\na,100,80\nb,300,20\n a,600,bad\nc,5,10\nd,6,70\nc,7,75\n")
    rejects = tmp_path / "rejects.csv"
    summary = score(data, parse_scheme(SCHEME, tmp_path / "s.yaml"), ScoreOptions(rejects=rejects))
    assert summary["rows"] == {"read": 6, "scored": 2, "rejected": 4}
    rows = pl.read_csv(rejects).select("row", "reason").rows()
    assert rows == [
        (1, "duplicate id 'a'"),
        (3, "duplicate id 'a'; x: 'bad' is not a number (column x)"),
        (4, "duplicate id 'c'"),
        (6, "duplicate id 'c'"),
    ]


@pytest.mark.parametrize(
    ("ids", "repeated"),
    [
        # in id order, each once: the pass's step count spares the hash check
        (["a", "b", "c", "d"], []),
        # in order but for a repeat next to itself, or one after an empty id
        (["a", "b", "b", "c"], [2, 3]),
        (["a", "b", "", "b"], [2, 4]),
        # a repeat further on: the ids step back
        (["a", "b", "c", "a"], [1, 4]),
    ],
)
@pytest.mark.parametrize("merged", [False, True], ids=["alone", "merged"])
def test_ids_in_order_are_listed_once_and_repeats_among_them_found(
    tmp_path, monkeypatch, ids, repeated, merged
):
    # merged with a previous snapshot in id order, the pass counts how the ids step: ids
    # that only go up need no search for repeats
    import chs.actions.score

    searched = []
    real = chs.actions.score._repeated_ids
    monkeypatch.setattr(
        chs.actions.score, "_repeated_ids", lambda *a: searched.append(1) or real(*a)
    )
    data = tmp_path / "in.csv"
    data.write_text("id,mrr,x\n" + "".join(f"{i},100,{10 * n}\n" for n, i in enumerate(ids)))
    previous = tmp_path / "last.csv"
    previous.write_text("id,score,band\na,70,high\nb,30,low\n")
    rejects = tmp_path / "rejects.csv"
    options = ScoreOptions(rejects=rejects, previous=previous if merged else None)
    summary = score(data, parse_scheme(SCHEME, tmp_path / "s.yaml"), options)
    found = pl.read_csv(rejects).filter(pl.col("reason").str.starts_with("duplicate"))["row"]
    assert found.to_list() == repeated
    empty = ids.count("")
    assert summary["rows"] == {
        "read": 4,
        "scored": 4 - len(repeated) - empty,
        "rejected": len(repeated) + empty,
    }
    assert bool(searched) == (not merged or ids != sorted(set(ids)) or empty > 0)


def test_several_empty_ids_are_rejected_as_empty_not_repeated(tmp_path):
    data = tmp_path / "in.csv"
    data.write_text("id,mrr,x\na,100,80\n,300,20\n  ,600,40\nb,5,10\n")
    rejects = tmp_path / "rejects.csv"
    summary = score(data, parse_scheme(SCHEME, tmp_path / "s.yaml"), ScoreOptions(rejects=rejects))
    assert summary["rows"] == {"read": 4, "scored": 2, "rejected": 2}
    assert pl.read_csv(rejects).select("row", "reason").rows() == [
        (2, "empty id"),
        (3, "empty id"),
    ]


def test_a_customer_twice_in_the_previous_snapshot_is_an_error(tmp_path):
    # Joined as it is, the repeated customer would be written twice; empty ids, which
    # match nothing, are not repeats.
    scheme = parse_scheme(SCHEME, tmp_path / "s.yaml")
    data = tmp_path / "in.csv"
    data.write_text("id,mrr,x\na,100,80\nb,300,20\n")
    previous = tmp_path / "previous.csv"
    previous.write_text("id,score,band\na,70,high\n,10,low\n,20,low\nb,30,low\n")
    summary = score(data, scheme, ScoreOptions(previous=previous))
    assert summary["rows"] == {"read": 2, "scored": 2, "rejected": 0}
    previous.write_text("id,score,band\na,70,high\nb,30,low\n b ,40,low\n")
    with pytest.raises(DataError) as err:
        score(data, scheme, ScoreOptions(previous=previous, output=tmp_path / "o.csv"))
    assert err.value.message == (
        f"{previous}: customer 'b' is listed more than once; a snapshot has one row per customer"
    )
    assert not (tmp_path / "o.csv").exists()


# -- the previous snapshot merged when both list their customers in id order ---------------


def _customers(ids: list[int], shift: int) -> str:
    """A CSV of customers c0000…, x = (i * 7 + shift) % 101: a different score each month."""
    rows = "".join(f"c{i:04d},{i},{(i * 7 + shift) % 101}\n" for i in ids)
    return "id,mrr,x\n" + rows


def _passes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records, for each scoring pass of a run, whether it merged the previous snapshot."""
    import chs.actions.score as action

    seen: list[bool] = []
    real = action._scored_rows

    def recorded(run, sources, work, unchecked):  # type: ignore[no-untyped-def]
        seen.append(sources.ordered)
        return real(run, sources, work, unchecked)

    monkeypatch.setattr(action, "_scored_rows", recorded)
    return seen


@pytest.mark.parametrize(
    ("order", "passes"),
    [
        ("sorted", [True]),  # merged in one pass
        ("reversed", [True, False]),  # the merge misses, seen in the pass: hashed in a second
        ("shuffled", [True, False]),
        ("empty id", [True, False]),  # an empty id is out of order too (it matches nothing)
    ],
)
def test_the_previous_snapshot_is_joined_right_whatever_the_order(
    tmp_path, monkeypatch, order, passes
):
    # 1,200 customers last month (c0000-c1199), 1,200 this month: c0000-c0049 left,
    # c1200-c1249 arrived. Polars' merge of rows out of order misses nearly every match
    # (checked: a CSV of 1,000 shuffled ids merged with them finds none), so each row's
    # previous score tells whether it was joined right.
    scheme = parse_scheme(SCHEME, tmp_path / "s.yaml")
    last = tmp_path / "last.csv"
    last.write_text(_customers(list(range(1200)), 0))
    previous = tmp_path / "last.parquet"
    score(last, scheme, ScoreOptions(output=previous))
    ids = list(range(50, 1250))
    if order == "reversed":
        ids.reverse()
    if order == "shuffled":
        ids = sorted(ids, key=lambda i: (i * 7919) % 1201)
    text = _customers(ids, 3)
    if order == "empty id":
        text = text.replace("c0600,", ",", 1)
    data = tmp_path / "this.csv"
    data.write_text(text)
    out, rejects = tmp_path / "out.parquet", tmp_path / "rejects.csv"
    seen = _passes(monkeypatch)
    summary = score(data, scheme, ScoreOptions(previous=previous, output=out, rejects=rejects))
    assert seen == passes
    got = pl.read_parquet(out)
    assert got["id"].to_list() == [f"c{i:04d}" for i in ids if order != "empty id" or i != 600]
    number = got["id"].str.slice(1).cast(pl.Int64)
    # score == x; last month's x = (i * 7) % 101, for those it had
    expected = pl.when(number < 1200).then((number * 7) % 101).cast(pl.Float64)
    same = (pl.col("previous_score") == expected).fill_null(expected.is_null())
    assert got.select(same.all()).item()
    assert got["previous_score"].null_count() == 50  # c1200-c1249
    moves = summary["previous"]["movement"]
    assert moves["new"] == 50
    # c0050-c1199 found again (c0600 rejected, when its id is empty)
    assert sum(moves[k] for k in ("up", "down", "same")) == 1150 - (order == "empty id")
    lost = summary["previous"]["lost"]
    assert lost["count"] == 50 + (order == "empty id")
    # who left: their value is their mrr, the number in their id; the list holds the
    # most valuable first
    gone = sorted([*range(50), *([600] if order == "empty id" else [])], reverse=True)
    assert lost["value"] == sum(gone)
    shown = [c["id"] for c in lost["customers"]]
    assert shown == [f"c{i:04d}" for i in gone[: len(shown)]] and len(shown) == 10


# -- the summary read back from a Parquet output ------------------------------------------


def _working_columns(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Records the columns of each run's summary working file."""
    from chs.files import WorkFolder

    written: list[list[str]] = []
    sink = WorkFolder.sink_parquet

    def recorded(self, lf, name, **options):  # type: ignore[no-untyped-def]
        if name == "summary.parquet":
            written.append(lf.collect_schema().names())
        return sink(self, lf, name, **options)

    monkeypatch.setattr(WorkFolder, "sink_parquet", recorded)
    return written


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".ndjson", None])
def test_the_summary_read_back_from_the_output_is_the_working_files(tmp_path, monkeypatch, suffix):
    # A Parquet output holds every column the summary reads: the pass then writes only
    # the id hashes to its working file, and the summary reads the output back. The
    # summary is the same whatever the output (the CSV, NDJSON and no-output runs read
    # the working file of the summary's columns). The alerts' flags are not written:
    # saas.yaml without its alerts.
    root = Path(__file__).resolve().parent.parent
    text = yaml.safe_load((root / "schemes" / "saas.yaml").read_text())
    del text["alerts"]
    scheme = parse_scheme(yaml.safe_dump(text), tmp_path / "saas.yaml")
    months = root / "sample_data" / "months"
    previous = tmp_path / "previous.parquet"
    score(months / "customers_2026-10.csv", scheme, ScoreOptions(output=previous))
    written = _working_columns(monkeypatch)
    output = tmp_path / f"out{suffix}" if suffix else None
    options = ScoreOptions(output=output, previous=previous, by=[["segment"]], top=5)
    summary = score(months / "customers_2026-11.csv", scheme, options)
    monkeypatch.undo()
    reference = score(
        months / "customers_2026-11.csv",
        scheme,
        ScoreOptions(output=tmp_path / "ref.csv", previous=previous, by=[["segment"]], top=5),
    )
    assert {**summary, "output": None} == {**reference, "output": None}
    assert summary["at_risk"] and summary["at_risk"][0]["reasons"]
    assert summary["previous"]["movement"] == reference["previous"]["movement"]
    if suffix == ".parquet":
        assert written == [[ID_HASH]]
    else:
        assert len(written) == 1 and "score" in written[0] and "band" in written[0]


def test_alerts_are_counted_in_the_pass(tmp_path, monkeypatch):
    # The flags the alerts count are not output columns: the pass counts them, so a
    # scheme with alerts reads the rest of its summary from the output all the same.
    root = Path(__file__).resolve().parent.parent
    scheme = load_scheme(root / "schemes" / "saas.yaml")
    data = root / "sample_data" / "customers.csv"
    written = _working_columns(monkeypatch)
    summary = score(data, scheme, ScoreOptions(output=tmp_path / "out.parquet"))
    assert written == [[ID_HASH]]
    flagged = pl.read_parquet(tmp_path / "out.parquet")["alerts"].str.split("; ").explode()
    counts = flagged.drop_nulls().value_counts()
    expected = dict(zip(counts["alerts"], counts["count"], strict=True))
    assert expected  # the sample fires alerts
    assert {a["alert"]: a["customers"] for a in summary["alerts"] if a["customers"]} == expected


def test_repeated_ids_are_found_from_a_parquet_output(tmp_path):
    # The repeated-id check reads the hashes of the pass and, for the exact ids, the
    # output's id column, keyed as the pass keys it (` a` is `a`).
    data = tmp_path / "in.csv"
    data.write_text("id,mrr,x\na,100,80\nb,300,20\n a,600,40\nc,5,10\n")
    rejects, out = tmp_path / "rejects.csv", tmp_path / "out.parquet"
    summary = score(
        data, parse_scheme(SCHEME, tmp_path / "s.yaml"), ScoreOptions(output=out, rejects=rejects)
    )
    assert summary["rows"] == {"read": 4, "scored": 2, "rejected": 2}
    assert pl.read_parquet(out)["id"].to_list() == ["b", "c"]
    assert pl.read_csv(rejects).select("row", "reason").rows() == [
        (1, "duplicate id 'a'"),
        (3, "duplicate id 'a'"),
    ]
    assert [r["id"] for r in summary["at_risk"]] == ["c", "b"]
