"""`open_snapshot`: a scored file (Parquet metadata, CSV columns) or a raw export rescored."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from support import TINY_SCHEME, write

from chs.actions.score import ScoreOptions, score
from chs.cli.errors import error_text
from chs.columns import KEY
from chs.errors import DataError
from chs.scheme import Scheme, load_scheme
from chs.snapshot import in_key_order, open_snapshot, repeated_key, scheme_mismatch


def make_scheme(tmp_path: Path, *, id: str = "id", high: int = 50, name: str = "s.yaml") -> Scheme:
    path = tmp_path / name
    # support.TINY_SCHEME (score == x; high >= 50, low below) with its id column and the
    # lower bound of high as given.
    text = TINY_SCHEME.replace("id: id\n", f"id: {id}\n").replace("from: 50}", f"from: {high}}}")
    path.write_text(text)
    return load_scheme(path)


def rows(frame: pl.LazyFrame) -> list[tuple]:
    return frame.collect().sort(KEY).rows()


def test_scored_parquet_records_its_identity_in_metadata(tmp_path):
    # The id column `cid` is last in the input, so it is not the first column of the
    # output: only the metadata can tell open_snapshot which column is the id.
    scheme = make_scheme(tmp_path, id="cid")
    data = write(tmp_path / "in.csv", "mrr,x,cid\n100,80,a\n200,30,b\n")
    out = tmp_path / "scored.parquet"
    score(data, scheme, ScoreOptions(output=out, as_of=dt.date(2026, 10, 1)))

    recorded = json.loads(pl.read_parquet_metadata(out)["chs"])
    assert recorded == {
        "id": "cid",
        "value": "mrr",
        "scheme": "tiny",
        "hash": scheme.digest,
        "bands": ["high", "low"],
        # no band is flagged at_risk, so the lowest is
        "at_risk": ["low"],
        # for the HTML report: the bands' colours (none given) and lower bounds
        "colors": [None, None],
        "from": [50.0, 0.0],
        "as_of": "2026-10-01",
    }
    with open_snapshot(out, None) as snap:
        assert snap.id_column == "cid"
        assert snap.value_column == "mrr"
        assert snap.scheme_name == "tiny"
        assert snap.scheme_hash == scheme.digest
        assert snap.as_of == "2026-10-01"
        assert snap.signals == ["x"]
        assert (snap.rescored, snap.rejected) == (False, 0)
        # KEY, score, band, points_x, __value: score == points_x == x, value == mrr
        assert snap.frame.collect_schema().names() == [KEY, "score", "band", "points_x", "__value"]
        assert rows(snap.frame) == [
            ("a", 80.0, "high", 80.0, 100.0),
            ("b", 30.0, "low", 30.0, 200.0),
        ]


def test_recorded_id_wins_over_the_schemes(tmp_path):
    # Metadata says `cid`; a scheme given for the run says `id` (not in the file): the
    # recorded column is the one that describes this file.
    scored_with = make_scheme(tmp_path, id="cid")
    data = write(tmp_path / "in.csv", "cid,mrr,x\na,100,80\n")
    out = tmp_path / "scored.parquet"
    score(data, scored_with, ScoreOptions(output=out))
    other = make_scheme(tmp_path, id="id", name="other.yaml")
    with open_snapshot(out, other) as snap:
        assert snap.id_column == "cid"
        assert snap.as_of is None  # scored without --as-of: metadata as_of is null
        assert rows(snap.frame) == [("a", 80.0, "high", 80.0, 100.0)]


def test_scored_csv_takes_the_schemes_id_and_its_columns(tmp_path):
    scheme = make_scheme(tmp_path, id="cid")
    data = write(tmp_path / "in.csv", "mrr,x,cid\n100,80,a\n200,30,b\n")
    out = tmp_path / "scored.csv"
    score(data, scheme, ScoreOptions(output=out, as_of=dt.date(2026, 10, 1)))
    with open_snapshot(out, scheme) as snap:
        # no metadata in a CSV: the id and value are the scheme's; name, hash and date
        # come from the scheme, scheme_hash and as_of columns
        assert snap.id_column == "cid"
        assert snap.value_column == "mrr"
        assert (snap.scheme_name, snap.scheme_hash, snap.as_of) == (
            "tiny",
            scheme.digest,
            "2026-10-01",
        )
        assert snap.rescored is False  # a scored file is used as it is, even with a scheme
        assert rows(snap.frame) == [
            ("a", 80.0, "high", 80.0, 100.0),
            ("b", 30.0, "low", 30.0, 200.0),
        ]


def test_scored_csv_without_scheme_takes_its_first_column(tmp_path):
    # Written by hand (another tool): no metadata, no scheme, so the first column is the
    # id; ids are compared as text with spaces stripped (" A1 " -> "A1"); no value column.
    path = write(tmp_path / "scored.csv", 'account,score,band\n" A1 ",70,high\nB2,20,low\n')
    with open_snapshot(path, None) as snap:
        assert snap.id_column == "account"
        assert snap.value_column is None
        assert (snap.scheme_name, snap.scheme_hash, snap.as_of) == (None, None, None)
        assert snap.signals == []
        assert rows(snap.frame) == [("A1", 70.0, "high", None), ("B2", 20.0, "low", None)]


def test_scored_csv_written_by_chs_has_its_id_first(tmp_path):
    # snapshot.py and the README rely on "chs writes the id first" for a scored CSV
    # opened without --scheme (chs diff LAST THIS). The input here has its id `cid`
    # last; the scored CSV must still be read with `cid` as its id, not `mrr`.
    scheme = make_scheme(tmp_path, id="cid")
    data = write(tmp_path / "in.csv", "mrr,x,cid\n100,80,a\n200,30,b\n")
    out = tmp_path / "scored.csv"
    score(data, scheme, ScoreOptions(output=out))
    with open_snapshot(out, None) as snap:
        assert snap.id_column == "cid"
        assert snap.frame.select(KEY).collect().to_series().sort().to_list() == ["a", "b"]


def test_raw_file_without_scheme_is_an_error(tmp_path):
    path = write(tmp_path / "raw.csv", "id,mrr,x\na,100,80\n")
    with pytest.raises(DataError) as err, open_snapshot(path, None):
        pass
    assert err.value.message == (
        f"{path}: the snapshot has no score and band columns, so it is a raw export"
    )
    assert error_text(err.value) == (
        f"{path}: the snapshot has no score and band columns, so it is a raw export; "
        "give --scheme to score it"
    )
    assert err.value.exit_code == 4
    with pytest.raises(DataError) as err, open_snapshot(path, None, role="last snapshot"):
        pass
    assert err.value.message.startswith(f"{path}: the last snapshot has no score and band columns")


def test_raw_file_with_scheme_is_rescored_and_counts_rejected_rows(tmp_path):
    scheme = make_scheme(tmp_path)
    # b and d have x values that are not numbers: 2 of 4 rows cannot be scored
    path = write(tmp_path / "raw.csv", "id,mrr,x\na,100,80\nb,200,oops\nc,300,45\nd,400,12abc\n")
    with open_snapshot(path, scheme) as snap:
        assert snap.rescored is True
        assert snap.rejected == 2
        assert (snap.id_column, snap.value_column) == ("id", "mrr")
        assert (snap.scheme_name, snap.scheme_hash, snap.as_of) == ("tiny", scheme.digest, None)
        assert snap.signals == ["x"]
        # a 80 -> high, c 45 -> low; b and d are absent
        assert rows(snap.frame) == [
            ("a", 80.0, "high", 80.0, 100.0),
            ("c", 45.0, "low", 45.0, 300.0),
        ]


def test_id_column_missing_in_the_previous_file(tmp_path):
    scheme = make_scheme(tmp_path, id="customer")
    current = write(tmp_path / "now.csv", "customer,mrr,x\nA,100,80\n")
    previous = write(tmp_path / "prev.csv", "customer_id,score,band\nA,60,high\n")
    out = tmp_path / "out.csv"
    with pytest.raises(DataError) as err:
        score(current, scheme, ScoreOptions(output=out, previous=previous))
    # suggest_column: 'customer' vs 'customer_id' ratio 2*8/19 = 0.84 >= 0.6
    assert err.value.message == (
        f"{previous}: the previous snapshot has no id column 'customer'. "
        "Did you mean 'customer_id'? Columns in the file: customer_id, score, band"
    )
    assert not out.exists()
    # --id naming a column that is not there, with the role given by the caller
    with (
        pytest.raises(DataError) as err,
        open_snapshot(previous, None, id_column="customer_ID", role="last snapshot"),
    ):
        pass
    assert err.value.message == (
        f"{previous}: the last snapshot has no id column 'customer_ID'. "
        "Did you mean 'customer_id'? Columns in the file: customer_id, score, band"
    )


def test_scheme_mismatch(tmp_path):
    one = make_scheme(tmp_path, high=50)
    two = make_scheme(tmp_path, high=60, name="two.yaml")  # another band threshold
    assert one.digest != two.digest
    data = write(tmp_path / "in.csv", "id,mrr,x\na,100,80\n")
    p1, p2, p3 = tmp_path / "one.parquet", tmp_path / "two.parquet", tmp_path / "three.parquet"
    score(data, one, ScoreOptions(output=p1))
    score(data, two, ScoreOptions(output=p2))
    score(data, one, ScoreOptions(output=p3))
    hand = write(tmp_path / "hand.csv", "id,score,band\na,80,high\n")  # no hash at all
    with (
        open_snapshot(p1, None) as a,
        open_snapshot(p2, None) as b,
        open_snapshot(p3, None) as c,
        open_snapshot(hand, None) as d,
    ):
        assert scheme_mismatch(a, b) == (
            f"{p1} was scored with scheme tiny ({one.digest}) and {p2} with "
            f"tiny ({two.digest}): deltas mix two definitions of health"
        )
        assert scheme_mismatch(a, c) is None  # same hash
        assert scheme_mismatch(a, d) is None  # one hash unknown: nothing to compare


def test_repeated_key_finds_a_repeat_among_many():
    keys = pl.Series([f"C{i:06d}" for i in range(50_000)] + ["C000123", None, None, ""])
    assert repeated_key(keys) == "C000123"
    assert repeated_key(keys.head(50_000)) is None


def test_in_key_order_holds_only_for_increasing_ids_each_listed_once():
    ids = [f"C{i:06d}" for i in range(30_000)]

    def ordered(keys: list[str | None]) -> bool:
        return in_key_order(pl.LazyFrame({KEY: keys}, schema={KEY: pl.String}))

    assert ordered(ids) is True
    assert ordered([]) is True
    # the rows after the first 10,000 are read too: a repeat, a step back, a null there
    assert ordered(ids[:20_000] + ids[19_999:]) is False
    assert ordered([*ids[:20_000], "C000001", *ids[20_000:]]) is False
    assert ordered([*ids, None]) is False
    assert ordered(["b", "a"]) is False
