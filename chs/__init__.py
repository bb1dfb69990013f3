"""chs: customer health scores from signal exports and a YAML scheme.

The library's entry points, one per command, each returning a typed, JSON-ready result:

    from chs import load_scheme, score, ScoreOptions
    summary = score("customers.csv", load_scheme("saas.yaml"), ScoreOptions(top=5))

They are loaded on first use, so that `import chs` (and `chs --help`, `chs --version`)
stays instant: polars and pydantic are imported only by what needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> the module that defines it. (`chs history`'s entry point is
# `chs.actions.history.history`: `chs.history` is the history folder's module.)
_API = {
    "score": "chs.actions.score",
    "ScoreOptions": "chs.actions.score",
    "diff": "chs.actions.diff",
    "check": "chs.actions.check",
    "explain": "chs.actions.explain",
    "report": "chs.actions.report",
    "load_scheme": "chs.scheme",
    "parse_scheme": "chs.scheme",
    "score_frame": "chs.engine",
    "CsvOptions": "chs.files",
    "ChsError": "chs.errors",
}

__all__ = [*_API, "__version__"]


def __getattr__(name: str) -> Any:
    """`chs.score` and the other entry points, imported when first asked for."""
    if name not in _API:
        raise AttributeError(f"module 'chs' has no attribute {name!r}")
    value = getattr(importlib.import_module(_API[name]), name)
    globals()[name] = value
    return value
