"""The history folder: dates, listing, nearest snapshot, trends, report, sparkline."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
import pytest
from months import NOV, OCT, SEP, build, run

from chs.actions.history import history as history_report
from chs.errors import DataError, OptionError, OutputError
from chs.history import (
    Listing,
    check_target,
    list_snapshots,
    parse_date,
    partition_folders,
    previous_in,
    snapshot_path,
)

LINK = "is a symbolic link; a history keeps its snapshots in its own folder, never through a link"


def by_id(path: Path, *columns: str) -> list[tuple]:
    return pl.read_parquet(path).sort("id").select("id", *columns).rows()


def parquet(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"id": ["a"], "score": [50.0], "band": ["high"]}).write_parquet(path)
    return path


# -- dates -------------------------------------------------------------------------------


def test_parse_date():
    assert parse_date("2026-11-01") == NOV
    with pytest.raises(OptionError) as err:
        parse_date("2026-13-01")
    assert err.value.message == "as_of must be a date written YYYY-MM-DD (got '2026-13-01')"
    assert err.value.exit_code == 2
    with pytest.raises(OptionError) as err:
        parse_date("01/11/2026")
    assert err.value.message == "as_of must be a date written YYYY-MM-DD (got '01/11/2026')"
    assert err.value.exit_code == 2
    # the command line names its own option
    with pytest.raises(OptionError) as err:
        parse_date("01/11/2026", "--as-of")
    assert err.value.message == "--as-of must be a date written YYYY-MM-DD (got '01/11/2026')"


def test_snapshot_path(tmp_path):
    assert snapshot_path(tmp_path, NOV) == tmp_path / "as_of=2026-11-01" / "scores.parquet"


# -- listing -----------------------------------------------------------------------------


def test_list_snapshots_oldest_first_with_warnings(tmp_path):
    root = tmp_path / "history"
    nov = parquet(root / "as_of=2026-11-01" / "scores.parquet")
    sep = parquet(root / "as_of=2026-09-01" / "scores.parquet")
    (root / ".DS_Store").write_text("x")  # dot-files are never named
    (root / ".cache").mkdir()
    (root / "as_of=2026-10-01").mkdir()  # empty partition (an interrupted run): silent
    (root / "as_of=2026-10-01" / ".scores.parquet.abc.tmp").write_text("")
    (root / "notes.txt").write_text("stray")
    (root / "as_of=2026-02-30").mkdir()  # not a date
    (root / "as_of=2026-12-01").mkdir()
    (root / "as_of=2026-12-01" / "other.parquet").write_text("")
    listing = list_snapshots(root)
    assert listing.snapshots == [(SEP, sep), (NOV, nov)]
    # in name order: as_of=2026-02-30, as_of=2026-12-01, notes.txt
    assert listing.warnings == [
        f"{root / 'as_of=2026-02-30'}: 2026-02-30 is not a date; ignored",
        f"{root / 'as_of=2026-12-01'}: has no scores.parquet; ignored",
        f"{root / 'notes.txt'}: not a snapshot (as_of=YYYY-MM-DD/scores.parquet); ignored",
    ]


def test_list_snapshots_of_a_missing_folder_is_empty(tmp_path):
    assert list_snapshots(tmp_path / "nothing") == Listing([], [])
    afile = tmp_path / "history.csv"
    afile.write_text("x")
    with pytest.raises(DataError) as err:
        list_snapshots(afile)
    assert err.value.message == f"{afile}: the history folder is a file"


def test_list_snapshots_unreadable_parquet_is_an_error(tmp_path):
    root = tmp_path / "history"
    bad = root / "as_of=2026-10-01" / "scores.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"this is not parquet at all")
    with pytest.raises(DataError) as err:
        list_snapshots(root)
    assert err.value.message.startswith(f"{bad}: the history snapshot cannot be read: ")
    assert err.value.exit_code == 4


def test_a_partition_that_is_a_link_is_refused_reading_and_writing(tmp_path):
    root, elsewhere = tmp_path / "history", tmp_path / "elsewhere"
    parquet(elsewhere / "scores.parquet")
    root.mkdir()
    (root / "as_of=2026-10-01").symlink_to(elsewhere)
    with pytest.raises(DataError) as err:
        list_snapshots(root)
    assert (err.value.message, err.value.exit_code) == (f"{root / 'as_of=2026-10-01'}: {LINK}", 4)
    with pytest.raises(OutputError) as err:
        list_snapshots(root, writing=True)
    assert (err.value.message, err.value.exit_code) == (f"{root / 'as_of=2026-10-01'}: {LINK}", 5)
    assert partition_folders(root) == []  # never swept through


def test_a_snapshot_file_that_is_a_link_is_refused(tmp_path):
    root = tmp_path / "history"
    target = parquet(tmp_path / "elsewhere.parquet")
    (root / "as_of=2026-10-01").mkdir(parents=True)
    (root / "as_of=2026-10-01" / "scores.parquet").symlink_to(target)
    with pytest.raises(DataError) as err:
        list_snapshots(root)
    assert err.value.message == f"{root / 'as_of=2026-10-01' / 'scores.parquet'}: {LINK}"


def test_check_target_refuses_a_linked_partition_or_file(tmp_path):
    root = tmp_path / "history"
    assert check_target(root, NOV) == root / "as_of=2026-11-01" / "scores.parquet"  # none yet
    (tmp_path / "elsewhere").mkdir()
    root.mkdir()
    (root / "as_of=2026-11-01").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OutputError) as err:
        check_target(root, NOV)
    assert (err.value.message, err.value.exit_code) == (f"{root / 'as_of=2026-11-01'}: {LINK}", 5)
    (root / "as_of=2026-10-01").mkdir()
    (root / "as_of=2026-10-01" / "scores.parquet").symlink_to(tmp_path / "victim.parquet")
    with pytest.raises(OutputError) as err:
        check_target(root, OCT)
    assert err.value.message == f"{root / 'as_of=2026-10-01' / 'scores.parquet'}: {LINK}"


def test_a_snapshot_that_is_a_folder_or_a_fifo_is_named_without_opening_it(tmp_path):
    root = tmp_path / "history"
    (root / "as_of=2026-10-01" / "scores.parquet").mkdir(parents=True)
    with pytest.raises(DataError) as err:
        list_snapshots(root)
    assert err.value.message == f"{root / 'as_of=2026-10-01' / 'scores.parquet'}: is a folder"
    (root / "as_of=2026-10-01" / "scores.parquet").rmdir()
    os.mkfifo(root / "as_of=2026-10-01" / "scores.parquet")  # opening it would block
    with pytest.raises(DataError) as err:
        list_snapshots(root)
    assert err.value.message == (
        f"{root / 'as_of=2026-10-01' / 'scores.parquet'}: is a named pipe (FIFO), not a file"
    )


def test_partition_folders_are_the_real_as_of_folders(tmp_path):
    root = tmp_path / "history"
    for name in ("as_of=2026-09-01", "as_of=2026-10-01", "notes", ".cache"):
        (root / name).mkdir(parents=True)
    (root / "as_of=2026-11-01").write_text("a file")
    assert partition_folders(root) == [root / "as_of=2026-09-01", root / "as_of=2026-10-01"]
    assert partition_folders(tmp_path / "none") == []


def test_previous_in_is_the_latest_strictly_before():
    listing = Listing([(SEP, Path("s")), (OCT, Path("o")), (NOV, Path("n"))], [])
    assert previous_in(listing, NOV) == (OCT, Path("o"))  # not NOV itself
    assert previous_in(listing, dt.date(2026, 10, 15)) == (OCT, Path("o"))
    assert previous_in(listing, dt.date(2026, 12, 1)) == (NOV, Path("n"))
    assert previous_in(listing, SEP) is None


# -- score with a history ------------------------------------------------------------


def test_three_months_of_history(tmp_path):
    _, history, (sep, octo, nov) = build(tmp_path)
    paths = [snapshot_path(history, d) for d in (SEP, OCT, NOV)]
    assert sorted(p.relative_to(history).as_posix() for p in history.rglob("*")) == [
        "as_of=2026-09-01",
        "as_of=2026-09-01/scores.parquet",
        "as_of=2026-10-01",
        "as_of=2026-10-01/scores.parquet",
        "as_of=2026-11-01",
        "as_of=2026-11-01/scores.parquet",
    ]
    assert [s["history"] for s in (sep, octo, nov)] == [str(p) for p in paths]

    # September: nothing before it
    assert sep["previous"] is None
    assert sep["trends"] == {"change_30d": None, "change_90d": None}
    assert by_id(paths[0], "change_30d", "change_90d", "snapshots_in_band") == [
        ("acme", None, None, 1),
        ("bolt", None, None, 1),
        ("cora", None, None, 1),
    ]

    # October: previous = September. change_30d: 60-80 = -20, 40-60 = -20, 35-30 = 5.
    # change_90d: 2026-07-03 is 60 days from 09-01 (> 45): none.
    # In band: acme high, high -> 2; bolt high -> low -> 1; cora low, low -> 2.
    assert octo["previous"]["path"] == str(paths[0])
    assert octo["previous"]["as_of"] == "2026-09-01"
    assert octo["trends"] == {"change_30d": "2026-09-01", "change_90d": None}
    assert by_id(paths[1], "change_30d", "change_90d", "snapshots_in_band") == [
        ("acme", -20.0, None, 2),
        ("bolt", -20.0, None, 1),
        ("cora", 5.0, None, 2),
    ]

    # November: previous = October (the latest before), change_30d against 10-01,
    # change_90d against 09-01 (29 days from 08-03).
    assert nov["previous"]["path"] == str(paths[1])
    assert nov["trends"] == {"change_30d": "2026-10-01", "change_90d": "2026-09-01"}
    # up: bolt 40 -> 45, cora 35 -> 70; down: acme 60 -> 55; new: dune
    assert nov["previous"]["movement"] == {"up": 2, "down": 1, "same": 0, "new": 1}
    assert by_id(
        paths[2],
        "score",
        "previous_score",
        "delta",
        "previous_band",
        "movement",
        "change_30d",
        "change_90d",
        "snapshots_in_band",
    ) == [
        # 55-60 = -5, 55-80 = -25; high in Sep, Oct, Nov -> 3
        ("acme", 55.0, 60.0, -5.0, "high", "down", -5.0, -25.0, 3),
        # 45-40 = 5, 45-60 = -15; low in Oct and Nov, high in Sep -> 2
        ("bolt", 45.0, 40.0, 5.0, "low", "up", 5.0, -15.0, 2),
        # 70-35 = 35, 70-30 = 40; high now, low in Oct -> 1
        ("cora", 70.0, 35.0, 35.0, "low", "up", 35.0, 40.0, 1),
        # new: no past score, first snapshot in band
        ("dune", 10.0, None, None, None, "new", None, None, 1),
    ]
    # every row carries its date, and the file records it
    assert pl.read_parquet(paths[2])["as_of"].unique().to_list() == [NOV]


def test_rerunning_a_date_replaces_its_snapshot(tmp_path):
    scheme, history, _ = build(tmp_path)
    nov = snapshot_path(history, NOV)
    summary = run(
        tmp_path, scheme, history, NOV, "id,mrr,x\nacme,100,90\nbolt,200,45\ncora,300,70\n"
    )
    # still three partitions, no leftover temporary (dot) files
    assert sorted(p.name for p in history.iterdir()) == [
        "as_of=2026-09-01",
        "as_of=2026-10-01",
        "as_of=2026-11-01",
    ]
    assert [p for p in history.rglob(".*")] == []
    # the previous is still October, not the November file being replaced
    assert summary["previous"]["path"] == str(snapshot_path(history, OCT))
    # new content: acme 90 - 60 = 30; dune is gone
    assert by_id(nov, "score", "delta") == [
        ("acme", 90.0, 30.0),
        ("bolt", 45.0, 5.0),
        ("cora", 70.0, 35.0),
    ]


# -- the folder as one table ---------------------------------------------------------------

MOVEMENT = {
    "previous_score": pl.Float64,
    "delta": pl.Float64,
    "previous_band": pl.String,
    "movement": pl.String,
}


def test_every_snapshot_has_one_schema_and_polars_reads_the_folder_as_one_table(tmp_path):
    _, history, _ = build(tmp_path)
    schemas = [pl.read_parquet_schema(snapshot_path(history, d)) for d in (SEP, OCT, NOV)]
    assert schemas[0] == schemas[1] == schemas[2]
    assert {c: schemas[0][c] for c in MOVEMENT} == MOVEMENT
    # September had no previous snapshot: its movement columns are empty
    assert by_id(snapshot_path(history, SEP), *MOVEMENT) == [
        ("acme", None, None, None, None),
        ("bolt", None, None, None, None),
        ("cora", None, None, None, None),
    ]
    # 3 + 3 + 4 rows, read as the folder, with or without the hive partition column
    plain = pl.scan_parquet(history).collect()
    assert plain.shape == (10, len(schemas[0]))
    hive = pl.scan_parquet(history, hive_partitioning=True).collect()
    assert hive.shape == (10, len(schemas[0]))  # the file's own as_of column serves
    assert hive.group_by("as_of").len().sort("as_of").rows() == [(SEP, 3), (OCT, 3), (NOV, 4)]


def test_readers_that_pass_over_a_running_writes_temporary(tmp_path):
    """While a run writes, its temporary sits in a partition. A glob of the snapshot
    files and Polars' `hidden_file_prefix` pass over it; Polars' plain folder scan skips
    no name (Polars 2.1), which is why the README gives the glob."""
    _, history, _ = build(tmp_path)
    (history / "as_of=2026-12-01").mkdir()
    (history / "as_of=2026-12-01" / ".scores.parquet.chs-a1b2c3d4.tmp").write_bytes(b"PAR1 half")
    assert pl.scan_parquet(history / "*" / "scores.parquet").collect().height == 10
    hidden = pl.scan_parquet(history, hidden_file_prefix=".", hive_partitioning=True)
    assert hidden.collect().height == 10
    with pytest.raises(pl.exceptions.InvalidOperationError, match="different file extensions"):
        pl.scan_parquet(history).collect()


def test_chs_history_reads_snapshots_written_before_the_common_schema(tmp_path):
    """A first snapshot written by an earlier chs has no movement columns: still read."""
    _, history, _ = build(tmp_path)
    sep = snapshot_path(history, SEP)
    pl.read_parquet(sep).drop(*MOVEMENT).write_parquet(sep)
    report = history_report(history, ["acme"])
    assert [(s["as_of"], s["customers"]) for s in report["snapshots"]] == [
        ("2026-09-01", 3),
        ("2026-10-01", 3),
        ("2026-11-01", 4),
    ]
    assert report["customers"][0]["scores"] == [80.0, 60.0, 55.0]
