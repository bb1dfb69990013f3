"""The `chs` package's facade: the commands' entry points by their names, loaded lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chs
from chs.actions import check, diff, explain, report, score
from chs.scheme import load_scheme


def test_the_entry_points_are_the_actions_named_after_their_commands():
    from chs import check as c
    from chs import diff as d
    from chs import explain as e
    from chs import load_scheme as ls
    from chs import report as r
    from chs import score as s

    assert (s, d, c, e, r) == (score.score, diff.diff, check.check, explain.explain, report.report)
    assert ls is load_scheme
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = chs.nothing


def test_importing_chs_loads_no_heavy_module():
    code = "import sys, chs; print(sorted(m for m in ('polars', 'pydantic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
