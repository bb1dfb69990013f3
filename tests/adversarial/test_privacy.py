"""Privacy and terminals (hardening issue, section 6).

- Errors name columns, rows and at most the value of the row they report: Polars' lists
  of the values it failed on (customer data from unrelated rows) are never printed,
  in a data error or in an internal one.
- Every value chs prints (scheme name, ids and labels in tables, rejected values,
  warnings, errors) is stripped of control characters and escape sequences, even when
  piped; output files keep the data as it is, and JSON escapes it.
- Ids are compared in Unicode NFC: `Café` in NFC and in NFD is one customer.

Every run here is piped (CliRunner), as in cron or CI, where an escape sequence in an
id would have reached the log or the terminal that reads it."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from support import assert_failed, invoke, write

# -- privacy: no value list of the engine is printed -------------------------------------

NAMES = [f"Zorg{i:03d}" for i in range(400)]  # 400 distinct customer names
CAST = """\
name: priv
id: id
signals:
  n:
    expr: "CAST(name AS INT)"
    weight: 1
    linear: [[0, 0], [10, 100]]
bands:
  - {name: ok, from: 0}
"""
CAST_FAILED = "conversion from `str` to `i32` failed in column 'name' for {n} out of {n} values"


def cast_failed(scheme: Path, source: Path, n: int) -> str:
    """The scheme's error (exit 3) at the expression's line: the data is what it is."""
    return (
        f"Error: {scheme}:5: signals.n.expr: the expression cannot be evaluated on {source}: "
        f"{CAST_FAILED.format(n=n)}; TRY_CAST reads a value that does not convert as missing"
    )


@pytest.fixture
def named(tmp_path: Path) -> tuple[Path, Path]:
    """The CAST scheme and 400 rows, each with its own name."""
    rows = "".join(f"C{i},{name}\n" for i, name in enumerate(NAMES))
    return write(tmp_path / "s.yaml", CAST), write(tmp_path / "names.csv", "id,name\n" + rows)


def names_in(text: str) -> list[str]:
    return sorted(set(re.findall(r"Zorg\d{3}", text)))


def test_a_cast_failing_on_400_rows_names_no_customer_in_score(tmp_path, named):
    scheme, source = named
    out = tmp_path / "out.csv"
    result = invoke("score", source, "-s", scheme, "-o", out)
    assert_failed(result, 3, cast_failed(scheme, source, 400), out)
    assert names_in(result.output) == []


def test_a_cast_failing_on_400_rows_names_no_customer_in_check(named):
    scheme, source = named
    result = invoke("check", scheme, "--data", source)
    assert_failed(result, 3, cast_failed(scheme, source, 400))
    assert names_in(result.output) == []


def test_a_cast_failing_in_explain_names_at_most_the_customer_explained(named):
    scheme, source = named
    result = invoke("explain", source, "C7", "-s", scheme)
    assert_failed(result, 3, cast_failed(scheme, source, 1))
    assert len(names_in(result.output)) <= 1


def test_an_internal_error_prints_no_value_list(tmp_path, monkeypatch, named):
    scheme, source = named
    listed = ", ".join(f'"{n}"' for n in NAMES[:10])

    def fails(*_: object, **__: object) -> None:
        raise pl.exceptions.InvalidOperationError(
            f"{CAST_FAILED.format(n=400)}: [{listed}, …]\n\nResolved plan until failure: …"
        )

    monkeypatch.setattr("chs.actions.score.score", fails)
    result = invoke("score", source, "-s", scheme)
    assert_failed(
        result,
        1,
        f"Internal error: InvalidOperationError: {CAST_FAILED.format(n=400)}\n"
        "This is a bug in chs; run again with --debug for the traceback and report it.",
    )
    assert names_in(result.output) == []


def test_an_internal_error_prints_no_control_character(monkeypatch, named):
    scheme, source = named

    def fails(*_: object, **__: object) -> None:
        raise RuntimeError("bad id \x1b[2J\x1b]0;owned\x07C1\r\x08")

    monkeypatch.setattr("chs.actions.score.score", fails)
    result = invoke("score", source, "-s", scheme)
    assert_failed(
        result,
        1,
        "Internal error: RuntimeError: bad id C1\n"
        "This is a bug in chs; run again with --debug for the traceback and report it.",
    )


# -- terminals: control characters are stripped from what chs prints ----------------------

ESC_ID = "\x1b[31mA"  # an id that would turn the terminal red
BIDI_ID = "B\u202eZ"  # an id with a right-to-left override
ESC_SEGMENT = "\x1b[1mSMB"
# The scheme's name carries an OSC sequence that retitles the terminal window: ESC ] 0 ;
# title BEL. Printed, it is `evil`; in JSON, escaped.
HOSTILE = """\
name: "ev\\e]0;title\\ail"
id: id
value: mrr
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""
# A falls 80 -> 40 (high -> low), B rises 30 -> 70 (low -> high).
LAST = f"id,seg,mrr,x\n{ESC_ID},{ESC_SEGMENT},100,80\n{BIDI_ID},ENT,200,30\n"
THIS = f"id,seg,mrr,x\n{ESC_ID},{ESC_SEGMENT},100,40\n{BIDI_ID},ENT,200,70\n"
# Both in low, the at-risk band (the at-risk list holds no healthy customer): B 30, A 40.
BOTH_LOW = f"id,seg,mrr,x\n{ESC_ID},{ESC_SEGMENT},100,40\n{BIDI_ID},ENT,200,30\n"
CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    return write(tmp_path / "s.yaml", HOSTILE)


def assert_clean(result) -> None:
    """No control character (but newlines) on stdout or stderr."""
    assert CONTROLS.findall(result.stdout) == []
    assert CONTROLS.findall(result.stderr) == []


def rows_of(stdout: str, title: str) -> list[list[str]]:
    """The data rows of the ASCII table under `title`."""
    lines = stdout.splitlines()
    start = lines.index(title)
    body = []
    for line in lines[start + 4 :]:  # title, border, header, rule
        if line.startswith("+-"):
            break
        body.append([c.strip() for c in line.strip("|").split("|")])
    return body


def test_the_scheme_name_and_ids_in_the_at_risk_table_print_without_escapes(tmp_path, hostile):
    source, out = write(tmp_path / "this.csv", BOTH_LOW), tmp_path / "out.csv"
    result = invoke("score", source, "-s", hostile, "-o", out, "--top", 2)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert result.stdout.splitlines()[0].startswith(f"Scored {source} with scheme evil (")
    assert rows_of(result.stdout, "Top 2 at risk") == [
        ["BZ", "30.0", "low", "200.00", "100.0 %", "x -70.0"],
        ["A", "40.0", "low", "100.00", "100.0 %", "x -60.0"],
    ]
    # the output file keeps the data as it is
    assert pl.read_csv(out)["id"].to_list() == [ESC_ID, BIDI_ID]


def test_json_escapes_control_characters(tmp_path, hostile):
    source = write(tmp_path / "this.csv", BOTH_LOW)
    result = invoke("score", source, "-s", hostile, "--json")
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert '"name": "ev\\u001b]0;title\\u0007il"' in result.stdout
    assert '"id": "\\u001b[31mA"' in result.stdout
    assert '"id": "B\\u202eZ"' in result.stdout
    # the same JSON: the values read back as they are
    data = json.loads(result.stdout)
    assert data["scheme"]["name"] == "ev\x1b]0;title\x07il"
    assert [r["id"] for r in data["at_risk"]] == [BIDI_ID, ESC_ID]


def test_a_rejected_value_with_escapes_prints_without_them(tmp_path, hostile):
    text = f"id,seg,mrr,x\n{ESC_ID},SMB,100,\x1b[2J\x1b]0;owned\x07abc\nB,ENT,200,70\n"
    source, out = write(tmp_path / "in.csv", text), tmp_path / "out.csv"
    result = invoke("score", source, "-s", hostile, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {source}: 1 of 2 rows cannot be scored; nothing was written.\n"
        "  row 1 (A): x: 'abc' is not a number (column x)\n"
        "Fix the data, or pass --rejects FILE to write these rows there and score the rest.",
        out,
    )


def test_a_warning_naming_a_file_with_escapes_prints_without_them(tmp_path, hostile):
    # a file name is data too (a history folder lists someone else's files)
    source = write(tmp_path / "in\x1b[8m.csv", "id,score,mrr,x\nA,1,100,80\n")
    result = invoke("score", source, "-s", hostile)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert result.stderr == (
        f"Warning: {tmp_path}/in.csv: input columns score are replaced by the scored values\n"
    )


def test_ids_print_without_escapes_in_explain(tmp_path, hostile):
    source = write(tmp_path / "this.csv", THIS)
    result = invoke("explain", source, ESC_ID, BIDI_ID, "-s", hostile)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    lines = result.stdout.splitlines()
    assert "A: score 40.0, band low, coverage 100.0 %" in lines
    assert "BZ: score 70.0, band high, coverage 100.0 %" in lines


def test_ids_print_without_escapes_in_diff(tmp_path, hostile):
    last, this = write(tmp_path / "last.csv", LAST), write(tmp_path / "this.csv", THIS)
    result = invoke("diff", last, this, "-s", hostile)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert rows_of(result.stdout, "Biggest drops") == [
        ["A", "80.0", "40.0", "-40.0", "high -> low", "100.00", "x 80 -> 40"]
    ]
    assert rows_of(result.stdout, "Recovered (low): 1 customer, value 200.00") == [
        ["BZ", "30.0", "70.0", "low -> high", "200.00", ""]
    ]


def test_labels_print_without_escapes_in_report(tmp_path, hostile):
    source, out = write(tmp_path / "this.csv", THIS), tmp_path / "scored.csv"
    assert invoke("score", source, "-s", hostile, "-o", out).exit_code == 0
    result = invoke("report", out, "--by", "seg")
    assert result.exit_code == 0, result.output
    assert_clean(result)
    assert rows_of(result.stdout, "By seg (at risk: low)") == [
        ["SMB", "1", "0.0 %", "100.0 %", "40.0"],
        ["ENT", "1", "100.0 %", "0.0 %", "70.0"],
    ]


def test_ids_print_without_escapes_in_history(tmp_path, hostile):
    last, this = write(tmp_path / "last.csv", LAST), write(tmp_path / "this.csv", THIS)
    history = tmp_path / "history"
    for source, day in ((last, "2026-01-01"), (this, "2026-02-01")):
        run = invoke("score", source, "-s", hostile, "--history", history, "--as-of", day)
        assert run.exit_code == 0, run.output
    result = invoke("history", history)
    assert result.exit_code == 0, result.output
    assert_clean(result)
    # piped: no sparkline (its block characters are for a terminal)
    assert rows_of(result.stdout, "Scores over time") == [["A", "80.0", "40.0", "low"]]


# -- NFC: one customer however its id is composed -----------------------------------------

NFC, NFD = unicodedata.normalize("NFC", "Café"), unicodedata.normalize("NFD", "Café")
TINY = """\
name: tiny
id: id
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def test_the_two_forms_of_an_id_are_two_strings():
    assert NFC != NFD and len(NFC) == 4 and len(NFD) == 5


def test_diff_pairs_an_nfc_id_with_its_nfd_form(tmp_path):
    scheme = write(tmp_path / "s.yaml", TINY)
    last = write(tmp_path / "last.csv", f"id,x\n{NFC},80\nBob,30\n")
    this = write(tmp_path / "this.csv", f"id,x\n{NFD},40\nBob,70\n")
    result = invoke("diff", last, this, "-s", scheme, "--json")
    assert result.exit_code == 0, result.output
    moved = json.loads(result.stdout)["movement"]
    assert moved == {"improved": 1, "declined": 1, "stayed": 0, "arrived": 0, "left": 0}


def test_previous_pairs_an_nfc_id_with_its_nfd_form(tmp_path):
    scheme = write(tmp_path / "s.yaml", TINY)
    last = write(tmp_path / "last.csv", f"id,x\n{NFC},80\nBob,30\n")
    this, out = write(tmp_path / "this.csv", f"id,x\n{NFD},40\nBob,70\n"), tmp_path / "o.csv"
    result = invoke("score", this, "-s", scheme, "--previous", last, "-o", out)
    assert result.exit_code == 0, result.output
    assert f"Since {last}: 1 up, 1 down, 0 same, 0 new, 0 lost." in result.stdout.splitlines()
    # the output keeps the id as the file wrote it
    assert pl.read_csv(out).select("id", "previous_score", "delta").rows() == [
        (NFD, 80.0, -40.0),
        ("Bob", 30.0, 40.0),
    ]


def test_one_file_with_both_forms_of_an_id_repeats_it(tmp_path):
    scheme = write(tmp_path / "s.yaml", TINY)
    source = write(tmp_path / "in.csv", f"id,x\n{NFC},80\n{NFD},40\nBob,70\n")
    out = tmp_path / "out.csv"
    result = invoke("score", source, "-s", scheme, "-o", out)
    assert_failed(
        result,
        4,
        f"Error: {source}: 2 of 3 rows cannot be scored; nothing was written.\n"
        f"  row 1 ({NFC}): duplicate id '{NFC}'\n"
        f"  row 2 ({NFD}): duplicate id '{NFC}'\n"
        "Fix the data, or pass --rejects FILE to write these rows there and score the rest.",
        out,
    )


def test_explain_finds_an_nfd_id_given_in_nfc(tmp_path):
    scheme = write(tmp_path / "s.yaml", TINY)
    source = write(tmp_path / "in.csv", f"id,x\n{NFD},40\nBob,70\n")
    result = invoke("explain", source, NFC, "-s", scheme, "--json")
    assert result.exit_code == 0, result.output
    [customer] = json.loads(result.stdout)["customers"]
    assert (customer["id"], customer["score"]) == (NFC, 40.0)
