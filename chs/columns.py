"""Every column name chs writes or works with, in one place.

Output columns (`score`, `band`, `points_<signal>`, `group_<group>`, the rejects file's
`row` and `reason`…) are what users read. Working columns start with WORK, `__chs·`:
the middle dot is a character no export puts there, so an input column can never be
taken for one (an input column that does start with it is an error), and they never
reach an output.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

WORK = "__chs·"  # the prefix of every working column


def internal(kind: str, name: str = "", prefix: str = "") -> str:
    """Working column names: `__chs·v_logins`, `__chs·score`; under a prefix
    `__chs·v_logins@inertia_`."""
    base = f"{WORK}{kind}_{name}" if name else f"{WORK}{kind}"
    return f"{base}@{prefix}" if prefix else base


def is_internal(name: str) -> bool:
    """A working column's name (or an alert's flag): never an input's, never written."""
    return name.startswith((WORK, ALERT_FLAG))


# The rejects file: `row`, `reason`, then the input's columns.
ROW = "row"  # 1-based data row number (the first row after the header is 1)
REASON = "reason"
REJECT_COLUMNS = (ROW, REASON)

ROW_NUMBER = internal("row")  # the row number while rows are scored (`row` as written)

DEFINITION = "definition"  # with segments: which one scored the row (as written)
ROUTE = internal("definition")  # the same while rows are scored

OK = internal("ok")  # the row can be scored

KEY = internal(
    "key"
)  # the id as text, trimmed, NFC (null when empty): rows and snapshots join on it

ID_HASH = internal("id_hash")  # its 64-bit hash, for finding repeats

SCORE_COLUMNS = ("score", "band", "coverage", "reasons", "scheme", "scheme_hash")

# Columns a run adds beside the plan's, depending on its options.
AS_OF = "as_of"  # with --as-of or --history
MOVEMENT_COLUMNS = ("previous_score", "delta", "previous_band", "movement")  # with a previous
STREAK = "snapshots_in_band"  # with earlier snapshots (trends)
ALERTS_COLUMN = "alerts"  # with alerts in the scheme

META_KEY = "chs"


_SAFE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def column_part(name: str) -> str:
    """A name as people write it (`Premium Adoption`, `urgent-call`, `Activité`) as the
    part of a column name it becomes (`Premium_Adoption`, `urgent_call`, `Activite`), so
    that a SQL condition or a spreadsheet formula names the column without quotes. A
    name of letters, digits and _ not starting with a digit is kept as it is; otherwise
    accents are dropped, each run of other characters becomes `_`, `_` at either end go,
    and a leading digit gets a `_` before it. Case is kept. Empty when nothing is left."""
    if _SAFE.match(name):
        return name
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    part = re.sub(r"[^A-Za-z0-9_]+", "_", plain).strip("_")
    return f"_{part}" if part[:1].isdigit() else part


def points_column(signal: str, prefix: str = "") -> str:
    return f"{prefix}points_{column_part(signal)}"


def group_column(group: str, prefix: str = "") -> str:
    return f"{prefix}group_{column_part(group)}"


def points_work(signal: str, prefix: str = "") -> str:
    """The working column of a signal's points (`points_<signal>` as written)."""
    return internal("p", signal, prefix)


def group_work(group: str, prefix: str = "") -> str:
    """The working column of a group's score (`group_<group>` as written)."""
    return internal("g", group, prefix)


def trend_column(days: int) -> str:
    return f"change_{days}d"


def run_columns(*, dated: bool, previous: bool, trend_spans: Iterable[int] | None) -> list[str]:
    """The output columns a scoring run adds to the plan's: `as_of` when it is dated, the
    movement with a previous snapshot, the trends with earlier ones (`trend_spans`, None
    without). An input column of one of these names is replaced by chs's."""
    added = [AS_OF] if dated else []
    added += list(MOVEMENT_COLUMNS) if previous else []
    if trend_spans is not None:
        added += [trend_column(d) for d in trend_spans] + [STREAK]
    return added


# The per-alert flags of the scored rows (counted for the summary, then dropped) start
# with `__alert_`, which the score action's summary looks for, and the middle dot.
ALERT_FLAG = "__alert_·"


def alert_flag(name: str) -> str:
    return f"{ALERT_FLAG}{name}"
