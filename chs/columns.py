"""Every column name chs writes or works with, in one place.

Output columns (`score`, `band`, `points_<signal>`, `group_<group>`) are what users
read; working columns start with `__` and never reach an output.
"""

from __future__ import annotations

ROW = "row"  # 1-based data row number (the first row after the header is 1)


REASON = "reason"


DEFINITION = "definition"  # with segments: which one scored the row


OK = "__ok"  # the row can be scored


ID_HASH = "__id_hash"  # its 64-bit hash, for finding repeats


SCORE_COLUMNS = ("score", "band", "coverage", "reasons", "scheme", "scheme_hash")


def points_column(signal: str, prefix: str = "") -> str:
    return f"{prefix}points_{signal}"


def group_column(group: str, prefix: str = "") -> str:
    return f"{prefix}group_{group}"


def internal(kind: str, name: str = "", prefix: str = "") -> str:
    """Working column names: `__v_logins`, `__score`; under a prefix `__v_logins@inertia_`."""
    base = f"__{kind}_{name}" if name else f"__{kind}"
    return f"{base}@{prefix}" if prefix else base


META_KEY = "chs"


KEY = "__key"  # the id as text, trimmed (null when empty): rows and snapshots are joined on it


ALERTS_COLUMN = "alerts"


def alert_flag(name: str) -> str:
    return f"__alert_{name}"
