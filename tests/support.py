"""What the test modules share, imported by name (conftest.py turns the files into fixtures).

The small schemes and CSVs several modules score, each with the hand arithmetic that
the expected values rest on; a CliRunner with a plain environment; file helpers; the
ASCII-table reader and the failure check (exact stderr, nothing left behind)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from chs.cli.app import app

runner = CliRunner()
# Environment variables that would make rich colour a pipe; removed for every run.
PLAIN_ENV: dict[str, str | None] = {"NO_COLOR": None, "FORCE_COLOR": None, "TTY_COMPATIBLE": None}


def invoke(*args: object, env: dict[str, str | None] | None = None):
    return runner.invoke(app, [str(a) for a in args], env={**PLAIN_ENV, **(env or {})})


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def leftovers(directory: Path) -> list[str]:
    """Temporary files an output writer could leave behind (`.<name>.<random>.tmp`)."""
    return sorted(p.name for p in directory.rglob("*") if p.name.endswith(".tmp"))


def cells(line: str) -> list[str]:
    """The cells of one ASCII table row, `| a | b |` -> ['a', 'b']."""
    assert line.startswith("|") and line.endswith("|"), line
    return [c.strip() for c in line[1:-1].split("|")]


def table_rows(stdout: str, title: str) -> list[list[str]]:
    """Header and body rows of the ASCII table printed under `title`."""
    lines = stdout.splitlines()
    start = lines.index(title)
    assert lines[start + 1].startswith("+-"), lines[start + 1]
    rows = []
    for line in lines[start + 2 :]:
        if line.startswith("+-"):
            break
        if line.startswith("|-"):
            continue
        rows.append(cells(line))
    return rows


def assert_failed(result, code: int, message: str, *outputs: Path) -> None:
    """Exit code, the exact stderr, nothing on stdout, and no output file or temp file."""
    assert result.exit_code == code, result.output
    assert result.stderr == message + "\n"
    assert result.stdout == ""
    for path in outputs:
        assert not path.exists(), path
        if path.parent.exists():
            assert leftovers(path.parent) == []


def as_json(data: Any) -> Any:
    """What `--json` prints, read back: the library's result through a JSON round trip."""
    return json.loads(json.dumps(data, ensure_ascii=False))


# -- the tiny library scheme: one signal, score == x -----------------------------------------

# One signal read as is: score == x == points_x.
TINY_SCHEME = """\
name: tiny
id: id
value: mrr
signals:
  x: {column: x, weight: 1, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""

# a falls 80 -> 40 (high -> low), b rises 30 -> 70 (low -> high), c stays at 60,
# d leaves (45, low), e arrives (20, low), f falls 55 -> 50 (high -> high).
TINY_LAST = "id,mrr,x\na,100,80\nb,200,30\nc,300,60\nd,400,45\nf,600,55\n"
TINY_THIS = "id,mrr,x\na,110,40\nb,220,70\nc,330,60\ne,500,20\nf,600,50\n"


# -- the CLI scheme: two signals, three coloured bands (test_cli_*.py) ----------------------

# Line numbers matter: the scheme error messages of test_cli_score.py name them.
CLI_SCHEME = """\
name: tiny
id: id
value: mrr
signals:
  logins:
    column: login
    weight: 3
    points:
      - {at_least: 10, points: 100}
      - {at_least: 5, points: 50}
      - {points: 0}
  nps:
    column: nps
    weight: 1
    linear: [[0, 0], [10, 100]]
bands:
  - {name: good, from: 70, color: green}
  - {name: watch, from: 40, color: yellow}
  - {name: risk, from: 0, color: red}
"""

# Scores by hand. logins: >= 10 -> 100, >= 5 -> 50, else 0 (weight 3);
# nps: linear 0 -> 0 .. 10 -> 100 (weight 1); a missing value is redistributed.
#   C1: logins 12 -> 100, nps 8 -> 80:        (3*100 + 1*80) / 4 = 95.0   good
#   C2: logins 7  -> 50,  nps 5 -> 50:        (3*50 + 1*50) / 4  = 50.0   watch
#   C3: logins 12 -> 100, nps missing:        3*100 / 3          = 100.0  good, coverage 0.75
#   C4: logins 0  -> 0,   nps 1 -> 10:        (3*0 + 1*10) / 4   = 2.5    risk
# Bands: good 2 (mrr 100 + 80 = 180), watch 1 (250.5), risk 1 (40); mrr total 470.5.
CLI_DATA = """\
id,segment,login,nps,mrr
C1,SMB,12,8,100
C2,ENT,7,5,250.5
C3,SMB,12,,80
C4,ENT,0,1,40
"""

# Row 2 has text in a numeric signal (kept with its spaces), row 4 text in the value column.
# Scored: C1 95.0 and C3 100.0, both good.
CLI_DATA_WITH_REJECTS = """\
id,segment,login,nps,mrr
C1,SMB,12,8,100
C2,ENT, abc ,5,250.5
C3,SMB,12,,80
C4,ENT,0,1,4x0
"""
CLI_REJECT_LINES = [
    "  row 2 (C2): logins: 'abc' is not a number (column login)",
    "  row 4 (C4): mrr: '4x0' is not a number (the value column)",
]


def cli_variant(old: str, new: str) -> str:
    """CLI_SCHEME with one exact edit (the edit must match once, so line numbers stay known)."""
    assert CLI_SCHEME.count(old) == 1, old
    return CLI_SCHEME.replace(old, new)


# -- the monthly scheme: trends and alerts, two months of files ---------------------------

# Line numbers matter: the alert error messages of test_cli_score.py name them (`line_of`).
MINI_SCHEME = """\
name: mini
id: id
value: mrr
signals:
  logins:
    column: logins
    weight: 75
    points:
      - {at_least: 10, points: 100}
      - {at_least: 5, points: 50}
      - {points: 0}
  nps:
    column: nps
    weight: 25
    linear: [[0, 0], [10, 100]]
bands:
  - {name: good, from: 70}
  - {name: watch, from: 40}
  - {name: risk, from: 0}
trends: [30]
alerts:
  - name: low
    when: "score < 40"
    action: Call now
    owner: CSM
    severity: critical
  - name: falling
    when: "delta < -20"
    action: Send an email
    severity: high
  - name: newcomer
    when: "movement = 'new'"
    action: Welcome call
    owner: Onboarding
    severity: low
"""

# score = 0.75 * logins points (>= 10: 100, >= 5: 50, else 0) + 0.25 * (10 * nps)
# bands: good >= 70, watch >= 40, risk >= 0
#   C01: logins 12 -> 100, nps 8 -> 80:  75 + 20   = 95.0  good
#   C02: logins 7  -> 50,  nps 6 -> 60:  37.5 + 15 = 52.5  watch
#   C03: logins 3  -> 0,   nps 4 -> 40:  0 + 10    = 10.0  risk
#   C04: logins 12 -> 100, nps 2 -> 20:  75 + 5    = 80.0  good
#   C05: logins 6  -> 50,  nps 0 -> 0:   37.5 + 0  = 37.5  risk
MINI_LAST = """\
id,logins,nps,mrr
C01,12,8,100
C02,7,6,200
C03,3,4,50
C04,12,2,300
C05,6,0,10
"""
#   C01: logins 12 -> 100, nps 8 -> 80:  95.0  good   (was 95.0 good:   delta 0.0,   same)
#   C02: logins 12 -> 100, nps 6 -> 60:  90.0  good   (was 52.5 watch:  delta 37.5,  up)
#   C03: logins 7  -> 50,  nps 4 -> 40:  47.5  watch  (was 10.0 risk:   delta 37.5,  up)
#   C04: logins 3  -> 0,   nps 2 -> 20:  5.0   risk   (was 80.0 good:   delta -75.0, down)
#   C06: logins 8  -> 50,  nps 10 -> 100: 62.5 watch  (new)
#   C05 is lost (last score 37.5, risk, mrr 10).
# Movement: 2 up, 1 down, 1 same, 1 new, 1 lost.
MINI_THIS = """\
id,logins,nps,mrr
C01,12,8,110
C02,12,6,200
C03,7,4,50
C04,3,2,300
C06,8,10,20
"""


def mini_variant(old: str, new: str) -> str:
    """MINI_SCHEME with one exact edit (the edit must match once, so line numbers stay known)."""
    assert MINI_SCHEME.count(old) == 1, old
    return MINI_SCHEME.replace(old, new)


def table(stdout: str, title: str) -> list[list[str]]:
    """The cells of the ASCII table under `title`: the header row, then the data rows."""
    lines = stdout.splitlines()
    start = lines.index(title)
    rows = []
    for line in lines[start + 2 :]:  # after the title and the top border
        if line.startswith("+"):
            break
        if line.startswith("|-"):
            continue
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows
