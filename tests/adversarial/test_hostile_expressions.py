"""Hostile SQL in a scheme: each construct of the hardening issue, in each place an
expression goes (a signal's `expr`, a segment's `when`, an alert's `when`), through
`chs check` and `chs score`. Each is refused with exit 3 naming file, line and key; the
recording server gets no request, no file is read or listed, and nothing hangs."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import polars as pl
import pytest
from adversary import Trap, run_chs
from support import invoke, write

SIGNAL = """\
name: hostile
id: id
signals:
  logins:
    expr: "{x}"
    weight: 1
    linear: [[0, 0], [10, 100]]
bands:
  - {{name: ok, from: 0}}
"""
SEGMENT = """\
name: hostile
id: id
segments:
  - name: a
    when: "{x}"
    signals:
      logins: {{column: logins_month, weight: 1, linear: [[0, 0], [10, 100]]}}
  - name: rest
    signals:
      logins: {{column: logins_month, weight: 1, linear: [[0, 0], [10, 100]]}}
bands:
  - {{name: ok, from: 0}}
"""
ALERT = """\
name: hostile
id: id
signals:
  logins: {{column: logins_month, weight: 1, linear: [[0, 0], [10, 100]]}}
bands:
  - {{name: ok, from: 0}}
alerts:
  - name: a
    when: "{x}"
    action: call
"""
PLACES = {  # where an expression goes: (scheme template, its line, its key)
    "signal": (SIGNAL, 5, "signals.logins.expr"),
    "segment": (SEGMENT, 5, "segments[0].when"),
    "alert": (ALERT, 9, "alerts[0].when"),
}
DATA = "id,logins_month,name\nA,3,Acme\nB,12,Beta\n"
QUERY = "a query (SELECT, FROM, VALUES, a table) is not allowed in an expression"


def hostile(tmp_path: Path, place: str, construct: str) -> tuple[Path, str]:
    """The scheme with `construct` in `place`, and the start of its error line."""
    template, line, key = PLACES[place]
    scheme = write(tmp_path / "hostile.yaml", template.format(x=construct))
    return scheme, f"Error: {scheme}:{line}: {key}: "


def refused(tmp_path: Path, place: str, construct: str) -> str:
    """Run `chs check` and `chs score` on it: both exit 3 with one message, no output."""
    scheme, start = hostile(tmp_path, place, construct)
    data = write(tmp_path / "customers.csv", DATA)
    out = tmp_path / "scored.csv"
    checked = invoke("check", scheme, "--data", data)
    scored = invoke("score", data, "-s", scheme, "-o", out)
    for result in (checked, scored):
        assert result.exit_code == 3, result.output
        assert result.stdout == ""
        assert result.stderr.startswith(start), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
    assert checked.stderr == scored.stderr
    assert not out.exists()
    return checked.stderr.removeprefix(start).rstrip("\n")


@pytest.mark.parametrize("place", PLACES)
def test_a_from_first_subquery_fetching_a_url_makes_no_request(
    tmp_path: Path, trap: Trap, place: str
) -> None:
    construct = f"logins_month IN (FROM read_csv('{trap.url}/x.csv'))"
    assert refused(tmp_path, place, construct) == QUERY
    assert trap.requests == []


@pytest.mark.parametrize("place", PLACES)
def test_a_table_function_on_a_url_makes_no_request(tmp_path: Path, trap: Trap, place: str) -> None:
    construct = f"length(read_csv('{trap.url}/y.csv')) > 0"
    assert refused(tmp_path, place, construct).startswith(
        "function read_csv() is not allowed in an expression"
    )
    assert trap.requests == []


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(
    "path", ["/etc/[ph][ao][s][st]*", "/etc/passwd", "/etc/", "/no/such/file.csv"]
)
def test_reading_a_path_leaks_nothing(tmp_path: Path, place: str, path: str) -> None:
    """A glob, a system file, a folder and a missing path get the same words: no file's
    lines, no folder's names, and nothing that tells whether the path exists."""
    message = refused(tmp_path, place, f"read_csv('{path}') IS NOT NULL")
    assert message.startswith("function read_csv() is not allowed in an expression")
    assert path not in message and "root" not in message


@pytest.mark.parametrize("place", PLACES)
def test_a_readable_local_csv_does_not_make_the_scheme_valid(tmp_path: Path, place: str) -> None:
    local = write(tmp_path / "lookup.csv", "logins_month\n3\n")
    construct = f"logins_month IN (FROM read_csv('{local}'))"
    assert refused(tmp_path, place, construct) == QUERY


@pytest.mark.parametrize("place", PLACES)
def test_values_in_an_in_list_is_refused(tmp_path: Path, place: str) -> None:
    assert refused(tmp_path, place, "logins_month IN (VALUES (1))") == (
        "IN takes literal values (got 'VALUES (1)')"
    )


@pytest.mark.parametrize("place", PLACES)
def test_a_select_subquery_is_refused(tmp_path: Path, place: str) -> None:
    assert refused(tmp_path, place, "logins_month > (SELECT 1)") == QUERY


@pytest.mark.parametrize("place", ["signal", "alert"])
def test_a_fifo_in_an_expression_does_not_hang_chs_check(
    tmp_path: Path, fifo: Path, place: str
) -> None:
    scheme, start = hostile(tmp_path, place, f"logins_month IN (FROM read_csv('{fifo}'))")
    done = run_chs("check", scheme)  # the timeout fails the test if it blocks on the pipe
    assert (done.returncode, done.stdout, done.stderr) == (3, "", f"{start}{QUERY}\n")


def test_a_silent_server_gets_no_connection(tmp_path: Path) -> None:
    """A port that accepts connections but never answers: a read would wait forever."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        silent.setblocking(False)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/x.csv"
        scheme, start = hostile(tmp_path, "signal", f"logins_month IN (FROM read_csv('{url}'))")
        done = run_chs("check", scheme)
        assert (done.returncode, done.stderr) == (3, f"{start}{QUERY}\n")
        with pytest.raises(BlockingIOError):
            silent.accept()  # nobody connected


def test_a_closed_port_is_refused_without_retries(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    construct = f"logins_month IN (FROM read_csv('http://127.0.0.1:{port}/x.csv'))"
    assert refused(tmp_path, "alert", construct) == QUERY


# -- memory, stack and CPU: each bounded before anything is planned -------------------------


@pytest.mark.parametrize("place", PLACES)
def test_a_huge_padding_is_refused(tmp_path: Path, place: str) -> None:
    construct = "length(lpad(name, 100000000, 'x')) > 0"
    assert refused(tmp_path, place, construct) == (
        "LPAD and RPAD take a length from 0 to 1,000 (got 100000000)"
    )


def test_a_50000_term_sum_is_refused_not_a_crash(tmp_path: Path) -> None:
    construct = " + ".join(["logins_month"] * 50_000)
    scheme, start = hostile(tmp_path, "signal", construct)
    done = run_chs("check", scheme)  # a segfault would be a negative return code
    assert (done.returncode, done.stdout) == (3, "")
    assert done.stderr == (
        f"{start}the expression is {len(construct):,} characters long; the limit is 2,000\n"
    )


@pytest.mark.parametrize("terms", [20_000, 3_000, 200])
def test_many_or_terms_in_an_alert_are_refused(tmp_path: Path, terms: int) -> None:
    """20,000 crashed, 3,000 took 88 s on 400 rows; 200 fit in the length limit and are
    stopped by the part limit."""
    construct = " OR ".join(f"score < {i}" for i in range(terms))
    message = refused(tmp_path, "alert", construct)
    if len(construct) > 2_000:
        assert message == (
            f"the expression is {len(construct):,} characters long; the limit is 2,000"
        )
    else:
        assert message.startswith("the expression has ") and message.endswith(
            " parts; the limit is 500"
        )


def test_deep_parentheses_are_refused_before_parsing(tmp_path: Path) -> None:
    construct = "(" * 900 + "logins_month" + ")" * 900
    assert refused(tmp_path, "signal", construct) == (
        "the expression is nested 900 levels deep; the limit is 100"
    )


def test_no_expression_is_handed_to_a_sql_engine() -> None:
    """The guard's depth: chs never passes scheme text to Polars' SQL interface, which
    plans table functions (read_csv, read_parquet) while it parses."""
    root = Path(__file__).resolve().parents[2] / "chs"
    sources = {p: p.read_text(encoding="utf-8") for p in root.rglob("*.py")}
    entry = re.compile(r"\bsql_expr\(|\bSQLContext\b|\bpl\.sql\(")
    assert [p.name for p, text in sources.items() if entry.search(text)] == []


def nested(template: str, levels: int, inner: str = "logins_month") -> str:
    for _ in range(levels):
        inner = template.format(inner)
    return inner


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(
    "construct",
    [
        nested("CASE {} WHEN 1 THEN 2 WHEN 3 THEN 4 END", 20),  # ran past 30 s in chs check
        nested("nullif({}, 1)", 20),  # 5 GB, then an abort
        nested("({}) % 7", 16),
    ],
    ids=["case-x-when", "nullif", "remainder"],
)
def test_operators_that_repeat_their_operand_cannot_grow_the_plan(
    tmp_path: Path, place: str, construct: str
) -> None:
    assert refused(tmp_path, place, construct) == (
        "the expression expands to more than 2,000 parts once translated (each nested `%`, "
        "NULLIF or `CASE x WHEN` repeats what it is given); the limit is 2,000"
    )


@pytest.mark.parametrize("place", PLACES)
def test_text_that_grows_by_replacement_is_refused(tmp_path: Path, place: str) -> None:
    grow = nested("replace({}, 'x', '" + "x" * 40 + "')", 4, "lpad(name, 1000, 'x')")
    assert refused(tmp_path, place, f"length({grow}) > 0") == (
        "the expression can make text of 40,000 characters; the limit is 10,000"
    )


def test_division_nested_deep_is_quick_and_right(tmp_path: Path) -> None:
    """1/(1/(…(logins))) 16 deep aborted for memory: each level now reads its divisor once."""
    scheme, _ = hostile(tmp_path, "signal", nested("1 / ({})", 16))
    data = write(tmp_path / "customers.csv", DATA)
    out = tmp_path / "scored.csv"
    done = run_chs("score", data, "-s", scheme, "-o", out)
    assert done.returncode == 0, done.stderr
    # an even number of reciprocals gives the value back: 3 -> 30 points, 12 -> 100
    assert pl.read_csv(out).select("id", "score").rows() == [("A", 30.0), ("B", 100.0)]
