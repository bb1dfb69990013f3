"""The package's shape: layers, no import cycle, no inline import, short functions.

    cli -> actions -> analyses -> engine, files -> scheme -> leaves

A module imports modules of its own layer or below; nothing imports an action but the
CLI (and the `chs` facade, which loads them on first use); imports sit at the top of a
module, except in the CLI's command bodies, which import their action there so that
`chs --help` stays instant.
"""

from __future__ import annotations

import ast
import functools
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chs"

LEAVES = {"chs.errors", "chs.columns", "chs.exprs", "chs.hints", "chs.numbers", "chs.text"}
ANALYSES = {
    "chs.sources",
    "chs.snapshot",
    "chs.history",
    "chs.trends",
    "chs.movement",
    "chs.drift",
    "chs.summary",
    "chs.rollup",
    "chs.alerts",
    "chs.description",
    "chs.explanation",
    "chs.spreadsheet",
    "chs.backtest",
    "chs.outcomes",
    "chs.forecast",
    "chs.calibration",
    "chs.training",
    "chs.engines",
}
MAX_FUNCTION_LINES = 60


def layer(module: str) -> int:
    """0 leaves, 1 scheme, 2 engine and files, 3 analyses, 4 actions, 5 cli."""
    if module in LEAVES:
        return 0
    if module == "chs.scheme" or module.startswith("chs.scheme."):
        return 1
    if module in ("chs.files", "chs.workbook", "chs.engine", "chs.sql") or module.startswith(
        ("chs.engine.", "chs.sql.")
    ):
        return 2
    if module in ANALYSES or module.startswith("chs.htmlreport"):
        return 3
    if module.startswith("chs.actions"):
        return 4
    if module.startswith("chs.cli") or module in ("chs", "chs.__main__"):
        return 5
    raise AssertionError(f"{module} has no layer: add it to tests/test_architecture.py")


@functools.cache
def modules() -> dict[str, ast.Module]:
    """Every module of the package, parsed once (the checks ask for it per import)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(), filename=str(path))
    return found


def imports(tree: ast.Module) -> list[tuple[str, int, bool]]:
    """(imported chs module, line, at top level) for each import of a chs module; a
    name imported from a package that is one of its modules counts as that module."""
    top = set(map(id, tree.body))
    out = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from chs.cli import render` imports the module chs.cli.render
            subs = [f"{node.module}.{a.name}" for a in node.names]
            names = [m for m in subs if m in modules()] or [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        out += [(n, node.lineno, id(node) in top) for n in names if n.split(".")[0] == "chs"]
    return out


def test_every_import_goes_down_or_across_the_layers():
    wrong = []
    for name, tree in modules().items():
        for target, line, _ in imports(tree):
            if name == "chs":
                continue  # the facade
            if target.startswith("chs.actions") and not name.startswith("chs.cli"):
                wrong.append(f"{name}:{line} imports the action {target}")
            elif layer(target) > layer(name):
                wrong.append(
                    f"{name}:{line} (layer {layer(name)}) imports {target} (layer {layer(target)})"
                )
    assert wrong == []


def test_no_import_is_hidden_inside_a_function():
    hidden = [
        f"{name}:{line} imports {target} inside a function"
        for name, tree in modules().items()
        for target, line, at_top in imports(tree)
        if not at_top and not name.startswith("chs.cli")
    ]
    assert hidden == []


def test_the_cli_imports_only_actions_and_its_own_modules_inside_commands():
    wrong = [
        f"{name}:{line} imports {target} inside a function"
        for name, tree in modules().items()
        if name.startswith("chs.cli")
        for target, line, at_top in imports(tree)
        if not at_top and not target.startswith(("chs.actions", "chs.cli", "chs.errors"))
    ]
    assert wrong == []


def test_the_imports_have_no_cycle():
    graph = {
        name: {t for t, _, _ in imports(tree) if t != name and t in modules()}
        for name, tree in modules().items()
        if name != "chs"
    }
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")
    assert set(order) >= set(graph)


def test_no_function_is_longer_than_sixty_lines():
    long = [
        f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for name, tree in modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_the_layer_test_sees_a_cycle_and_an_upward_import():
    # the checks themselves can fail: an analysis importing an action, and a cycle
    tree = ast.parse("from chs.actions.score import score\n")
    assert imports(tree) == [("chs.actions.score", 1, True)]
    assert layer("chs.actions.score") > layer("chs.summary")
    with pytest.raises(CycleError):
        list(TopologicalSorter({"a": {"b"}, "b": {"a"}}).static_order())
