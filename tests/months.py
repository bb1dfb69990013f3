"""Three months of a tiny portfolio scored into a history folder, for the tests of the
history store, trends and `chs history`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from support import TINY_SCHEME

from chs.actions.score import ScoreOptions, score
from chs.scheme import Scheme, load_scheme

# score == x; high >= 50, low below; change_30d and change_90d columns.
SCHEME = TINY_SCHEME + "trends: [30, 90]\n"

SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)

# score (== x) per month; dune arrives in November
MONTHS = {
    SEP: "id,mrr,x\nacme,100,80\nbolt,200,60\ncora,300,30\n",
    OCT: "id,mrr,x\nacme,100,60\nbolt,200,40\ncora,300,35\n",
    NOV: "id,mrr,x\nacme,100,55\nbolt,200,45\ncora,300,70\ndune,400,10\n",
}


def make_scheme(tmp_path: Path) -> Scheme:
    path = tmp_path / "s.yaml"
    path.write_text(SCHEME)
    return load_scheme(path)


def run(tmp_path: Path, scheme: Scheme, history: Path, as_of: dt.date, text: str) -> dict:
    """Score one month's text into the history folder."""
    data = tmp_path / f"in-{as_of.isoformat()}.csv"
    data.write_text(text)
    return score(data, scheme, ScoreOptions(history=history, as_of=as_of))


def build(tmp_path: Path) -> tuple[Scheme, Path, list[dict]]:
    """The three months scored in order into tmp_path/history."""
    scheme = make_scheme(tmp_path)
    history = tmp_path / "history"
    return scheme, history, [run(tmp_path, scheme, history, d, t) for d, t in MONTHS.items()]
