"""Schemes that would exhaust memory, stack or CPU: each limit of chs/scheme/limits.py,
one test per hostile case. Each is refused with exit 3 and one message naming the file
(and the line and key path where there is one), fast: the bombs go through `chs check`
in a subprocess whose timeout fails the test if it hangs; the rest load in-process."""

from __future__ import annotations

import builtins
import io
import os
import time
from pathlib import Path

import pytest
from adversary import BASE, run_chs
from support import write

from chs.errors import SCHEME, SchemeError
from chs.scheme import load_scheme, parse_scheme
from chs.scheme.limits import (
    MAX_ALERTS,
    MAX_BANDS,
    MAX_GROUPS,
    MAX_LINEAR_POINTS,
    MAX_MAP_ENTRIES,
    MAX_RULES,
    MAX_SCHEME_BYTES,
    MAX_SCORES,
    MAX_SEGMENTS,
    MAX_SIGNALS,
    MAX_TIERS,
    MAX_TRENDS,
    MAX_YAML_DEPTH,
    MAX_YAML_NODES,
)


def error(text: str, path: str = "s.yaml") -> str:
    """The message parse_scheme gives for `text`, checking that it is a scheme error."""
    with pytest.raises(SchemeError) as info:
        parse_scheme(text, path)
    assert info.value.exit_code == SCHEME == 3
    return info.value.message


def refused_by_chs_check(path: Path, message: str) -> None:
    """`chs check` exits 3 with exactly this message and prints nothing else; the
    subprocess timeout fails the test if it hangs."""
    done = run_chs("check", path)
    assert (done.returncode, done.stdout, done.stderr) == (3, "", f"Error: {message}\n")


def test_the_limits_are_the_documented_values() -> None:
    # The README's table quotes these; a change here must change it too.
    assert (MAX_SCHEME_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES) == (1_000_000, 20, 20_000)
    assert (MAX_TIERS, MAX_LINEAR_POINTS, MAX_MAP_ENTRIES, MAX_RULES) == (100, 100, 250, 2_000)
    assert MAX_SIGNALS == 200
    assert (MAX_GROUPS, MAX_SEGMENTS, MAX_SCORES, MAX_BANDS, MAX_ALERTS, MAX_TRENDS) == (
        50,
        50,
        20,
        20,
        100,
        20,
    )


# -- the size of the file, checked before it is read ------------------------------------------


def test_a_2_gb_scheme_file_is_refused_without_being_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as f:
        f.truncate(2**31)  # sparse: 2 GiB on paper, nothing on disk
    opened: list[str] = []

    def spy(real):  # records every open of the scheme, then opens it as asked
        def wrapper(file, *args, **kwargs):
            if str(file) == str(path):
                opened.append(str(file))
            return real(file, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(builtins, "open", spy(builtins.open))
    monkeypatch.setattr(io, "open", spy(io.open))
    monkeypatch.setattr(os, "open", spy(os.open))
    with pytest.raises(SchemeError) as info:
        load_scheme(path)
    assert info.value.message == (
        f"{path}: the scheme is 2,147,483,648 bytes; the limit is 1,000,000 bytes"
    )
    assert opened == []


def test_a_scheme_file_one_byte_over_the_limit_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "s.yaml", BASE + "#" * (MAX_SCHEME_BYTES - len(BASE) + 1))
    with pytest.raises(SchemeError) as info:
        load_scheme(path)
    assert info.value.message == (
        f"{path}: the scheme is 1,000,001 bytes; the limit is 1,000,000 bytes"
    )


def test_a_scheme_file_of_exactly_the_limit_loads(tmp_path: Path) -> None:
    padding = "#" * (MAX_SCHEME_BYTES - len(BASE) - 1) + "\n"
    path = write(tmp_path / "s.yaml", BASE + padding)
    assert path.stat().st_size == MAX_SCHEME_BYTES
    assert load_scheme(path).name == "t"


def test_scheme_text_is_measured_in_utf8_bytes_not_characters() -> None:
    # the 112 bytes of BASE, "# " and 500,000 characters of two bytes each
    text = BASE + "# " + "é" * (MAX_SCHEME_BYTES // 2)
    assert len(text) < MAX_SCHEME_BYTES
    assert error(text) == "s.yaml: the scheme is 1,000,114 bytes; the limit is 1,000,000 bytes"


def test_a_fifo_as_scheme_is_refused_without_waiting_for_a_writer(fifo: Path) -> None:
    refused_by_chs_check(fifo, f"{fifo}: is not a regular file (a pipe, device or socket)")


def test_dev_zero_as_scheme_is_refused_not_read_forever() -> None:
    with pytest.raises(SchemeError) as info:
        load_scheme("/dev/zero")
    assert info.value.message == "/dev/zero: is not a regular file (a pipe, device or socket)"


# -- YAML anchors, aliases and merge keys: refused at the first one ---------------------------

BILLION_LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)  # 9**9 (387 million) leaves once expanded


def test_an_alias_bomb_is_refused_by_chs_check_at_its_first_anchor(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.yaml", BILLION_LAUGHS)
    refused_by_chs_check(
        path,
        f"{path}:1: a: YAML anchors and aliases are not allowed in a scheme (found &a): "
        "write each value out where it is used",
    )


def test_tiers_shared_through_an_anchor_are_refused_at_the_anchor() -> None:
    text = BASE.replace(
        "    points: [{points: 0}]\n",
        "    points: &usual\n      - {at_least: 10, points: 100}\n      - {points: 0}\n"
        "  b:\n    column: b\n    weight: 1\n    points: *usual\n",
    )
    assert error(text) == (
        "s.yaml:7: signals.a.points: YAML anchors and aliases are not allowed in a scheme "
        "(found &usual): write each value out where it is used"
    )


def test_an_alias_to_no_anchor_is_refused_as_an_alias() -> None:
    text = BASE.replace("points: [{points: 0}]", "points: *usual")
    assert error(text) == (
        "s.yaml:7: signals.a.points: YAML anchors and aliases are not allowed in a scheme "
        "(found *usual): write each value out where it is used"
    )


@pytest.mark.parametrize("key", ["<<", "!!merge <<"])
def test_a_merge_key_is_refused(key: str) -> None:
    text = BASE.replace("    column: a\n", f"    {key}: {{column: a}}\n")
    assert error(text) == (
        "s.yaml:5: signals.a: YAML merge keys (<<) are not allowed in a scheme: write the keys out"
    )


def test_a_quoted_merge_key_is_an_ordinary_unknown_key() -> None:
    text = BASE.replace("    column: a\n", "    column: a\n    '<<': 1\n")
    assert error(text) == "s.yaml:6: signals.a.<<: unknown key '<<'"


# -- nesting depth: counted event by event, before anything is built --------------------------


def test_a_20000_deep_list_is_refused_by_chs_check(tmp_path: Path) -> None:
    path = write(tmp_path / "deep.yaml", "name: " + "[" * 20_000 + "]" * 20_000 + "\n")
    where = "name" + "[0]" * (MAX_YAML_DEPTH - 1)  # the mapping is level 1
    refused_by_chs_check(
        path,
        f"{path}:1: {where}: lists and mappings nest more than 20 levels deep; that is the limit",
    )


def test_a_deep_block_mapping_is_refused_at_the_line_that_goes_too_deep() -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(100))
    assert error(text) == (
        "s.yaml:21: k0.k1.k2.k3.k4.k5.k6.k7.k8.k9.k10.k11.k12.k13.k14.k15.k16.k17.k18.k19: "
        "lists and mappings nest more than 20 levels deep; that is the limit"
    )


def test_nesting_at_the_limit_passes_the_yaml_guard() -> None:
    # 20 levels: the mapping and 19 lists; the model then says what is wrong with `name`
    text = BASE.replace("name: t", "name: " + "[" * 19 + "]" * 19)
    assert error(text) == "s.yaml:1: name: input should be a valid string"


def test_one_level_over_the_limit_is_refused() -> None:
    text = BASE.replace("name: t", "name: " + "[" * 20 + "]" * 20)
    assert error(text) == (
        f"s.yaml:1: name{'[0]' * 19}: lists and mappings nest more than 20 levels deep; "
        "that is the limit"
    )


# -- the number of YAML nodes: bounds the time to read a file within the size limit -----------


def test_more_yaml_nodes_than_the_limit_are_refused_at_the_node() -> None:
    # nodes: the mapping, name and t, id and id, x, the list: 7; item k is node 8 + k
    text = "name: t\nid: id\nx: [" + ", ".join(["1"] * 30_000) + "]\n"
    first_over = MAX_YAML_NODES + 1 - 8
    assert error(text) == (
        f"s.yaml:3: x[{first_over}]: the scheme has more than 20,000 YAML nodes "
        "(keys, values, lists and mappings); that is the limit"
    )


def test_100000_tiers_fail_within_a_second_on_the_size() -> None:
    tiers = ", ".join(["{points: 0}"] * 100_000)
    text = BASE.replace("[{points: 0}]", f"[{tiers}]")
    start = time.perf_counter()
    assert error(text) == "s.yaml: the scheme is 1,300,099 bytes; the limit is 1,000,000 bytes"
    assert time.perf_counter() - start < 1.0


def test_100000_tiers_fail_fast_in_chs_check(tmp_path: Path) -> None:
    tiers = ", ".join(["{points: 0}"] * 100_000)
    path = write(tmp_path / "s.yaml", BASE.replace("[{points: 0}]", f"[{tiers}]"))
    refused_by_chs_check(
        path, f"{path}: the scheme is 1,300,099 bytes; the limit is 1,000,000 bytes"
    )


def test_80000_tiers_within_the_size_fail_fast_on_the_node_count() -> None:
    tiers = ",".join(["{points: 0}"] * 80_000)  # 880 KB
    text = BASE.replace("[{points: 0}]", f"[{tiers}]")
    start = time.perf_counter()
    # 15 nodes come before the tiers (the mappings, keys and values of lines 1-7, and the
    # list); tier k is nodes 16 + 3k to 18 + 3k, so node 20,001 is the value of tier 6661
    assert error(text) == (
        "s.yaml:7: signals.a.points[6661].points: the scheme has more than 20,000 YAML nodes "
        "(keys, values, lists and mappings); that is the limit"
    )
    assert time.perf_counter() - start < 2.0  # 20,000 nodes read: about half a second


# -- counts: each bounded by the model, naming the key path and its line ----------------------


def signals_text(count: int, body: str = "{column: a, weight: 1, points: [{points: 0}]}") -> str:
    rows = "".join(f"  s{i}: {body}\n" for i in range(count))
    return f"name: t\nid: id\nsignals:\n{rows}bands: [{{name: ok, from: 0}}]\n"


def bands_text(count: int) -> str:
    rows = "".join(f"  - {{name: b{i}, from: {count - 1 - i}}}\n" for i in range(count))
    return BASE.replace("bands: [{name: ok, from: 0}]\n", f"bands:\n{rows}")


def groups_text(count: int) -> str:
    group = "{weight: 1, signals: {s%d: {column: a, weight: 1, points: [{points: 0}]}}}"
    rows = "".join(f"  g{i}: {group % i}\n" for i in range(count))
    return f"name: t\nid: id\ngroups:\n{rows}bands: [{{name: ok, from: 0}}]\n"


def segments_text(count: int, signals: int = 1) -> str:
    sigs = ", ".join(
        f"s{j}: {{column: a, weight: 1, points: [{{points: 0}}]}}" for j in range(signals)
    )
    rows = "".join(
        f"  - {{name: g{i}, when: 'a > {i}', signals: {{{sigs}}}}}\n" for i in range(count - 1)
    )
    rows += f"  - {{name: rest, signals: {{{sigs}}}}}\n"
    return f"name: t\nid: id\nsegments:\n{rows}bands: [{{name: ok, from: 0}}]\n"


def scores_text(count: int) -> str:
    score = "{signals: {a: {column: a, weight: 1, points: [{points: 0}]}}, bands: [{name: ok, from: 0}]}"
    rows = "".join(f"  x{i}: {score}\n" for i in range(count))
    return BASE + f"scores:\n{rows}"


def alerts_text(count: int) -> str:
    rows = "".join(f"  - {{name: a{i}, when: 'score < {i}', action: call}}\n" for i in range(count))
    return BASE + f"alerts:\n{rows}"


def points_text(count: int) -> str:
    tiers = ", ".join([f"{{at_least: {i}, points: 1}}" for i in range(count - 1)] + ["{points: 0}"])
    return BASE.replace("[{points: 0}]", f"[{tiers}]")


def linear_text(count: int) -> str:
    knots = ", ".join(f"[{i}, {min(i, 100)}]" for i in range(count))
    return BASE.replace("points: [{points: 0}]", f"linear: [{knots}]")


def map_text(count: int) -> str:
    categories = ", ".join(f"c{i}: 1" for i in range(count))
    return BASE.replace("points: [{points: 0}]", f"map: {{{categories}}}")


COUNTS = [
    pytest.param(points_text, MAX_TIERS, "s.yaml:7: signals.a.points: too many tiers: 101; the limit is 100", id="tiers"),
    pytest.param(linear_text, MAX_LINEAR_POINTS, "s.yaml:7: signals.a.linear: too many breakpoints: 101; the limit is 100", id="linear"),
    pytest.param(map_text, MAX_MAP_ENTRIES, "s.yaml:7: signals.a.map: too many categories: 251; the limit is 250", id="map"),
    pytest.param(signals_text, MAX_SIGNALS, "s.yaml:3: signals: too many signals: 201; the limit is 200", id="signals"),
    pytest.param(groups_text, MAX_GROUPS, "s.yaml:3: groups: too many groups: 51; the limit is 50", id="groups"),
    pytest.param(segments_text, MAX_SEGMENTS, "s.yaml:3: segments: too many segments: 51; the limit is 50", id="segments"),
    pytest.param(scores_text, MAX_SCORES, "s.yaml:9: scores: too many scores: 21; the limit is 20", id="scores"),
    pytest.param(bands_text, MAX_BANDS, "s.yaml:8: bands: too many bands: 21; the limit is 20", id="bands"),
    pytest.param(alerts_text, MAX_ALERTS, "s.yaml:9: alerts: too many alerts: 101; the limit is 100", id="alerts"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "limit", "expected"), COUNTS)
def test_one_more_than_a_count_limit_is_refused(make, limit: int, expected: str) -> None:
    assert error(make(limit + 1)) == expected


@pytest.mark.parametrize(("make", "limit", "expected"), COUNTS)
def test_a_count_at_its_limit_loads(make, limit: int, expected: str) -> None:
    assert parse_scheme(make(limit), "s.yaml").name == "t"


def test_too_many_trend_spans_are_refused() -> None:
    spans = ", ".join(str(d) for d in range(1, MAX_TRENDS + 2))
    assert error(BASE + f"trends: [{spans}]\n") == (
        "s.yaml:9: trends: too many trend spans: 21; the limit is 20"
    )


def test_signals_are_counted_across_segments() -> None:
    # 11 segments of 20 signals: each mapping is within the limit, 220 in all are not;
    # the first signal over the limit is the 201st: segment 10 (line 14), signal s0.
    text = segments_text(11, signals=20)
    assert error(text) == (
        "s.yaml:14: segments[10].signals.s0: too many signals: 220 in all "
        "(segments, groups and scores counted); the limit is 200"
    )


# A signal of 100 tiers (99 bounded and the catch-all) on one line.
_TIERS = ", ".join([f"{{at_least: {i}, points: 1}}" for i in range(99)] + ["{points: 0}"])
HUNDRED_TIERS = f"{{column: a, weight: 1, points: [{_TIERS}]}}"


def test_rules_are_counted_across_signals() -> None:
    # 21 signals of 100 tiers: each within its limit, 2,100 in all are not; the total
    # passes 2,000 at the 21st signal, s20, on line 3 + 21.
    assert error(signals_text(21, HUNDRED_TIERS)) == (
        "s.yaml:24: signals.s20.points: too many rules: 2,100 tiers, breakpoints and "
        "categories in all (segments, groups and scores counted); the limit is 2,000"
    )


def test_rules_up_to_the_total_load() -> None:
    scheme = parse_scheme(signals_text(20, HUNDRED_TIERS))
    assert sum(len(f.signal.points or []) for f in scheme.flat_signals()) == 2_000


def test_100_000_categories_fail_fast_in_chs_check(tmp_path: Path) -> None:
    """A map as large as the size limit allows fails on the node count, fast: 15 nodes
    come before the categories, category k is nodes 16 + 2k and 17 + 2k, so node 20,001
    is the points of category 9992 (a digit key, written as an index)."""
    categories = ",".join(f"{i}: 1" for i in range(100_000))[: MAX_SCHEME_BYTES - 200]
    categories = categories[: categories.rindex(",")]
    path = write(
        tmp_path / "s.yaml", BASE.replace("points: [{points: 0}]", f"map: {{{categories}}}")
    )
    refused_by_chs_check(
        path,
        f"{path}:7: signals.a.map[9992]: the scheme has more than 20,000 YAML nodes "
        "(keys, values, lists and mappings); that is the limit",
    )
