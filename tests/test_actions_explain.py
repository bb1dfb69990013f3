"""`explain`: which customers, rejected ones, unknown ids, segments and the other scores."""

from __future__ import annotations

from pathlib import Path

import pytest
from explaining import DATA, ROOT, SAAS, SAMPLE, explain_one, one, rescore

from chs.actions.explain import explain
from chs.engine import score_frame
from chs.errors import DataError, OptionError
from chs.scheme import load_scheme, parse_scheme

SEGMENTS = load_scheme(ROOT / "schemes" / "segments.yaml")
INERTIA = load_scheme(ROOT / "schemes" / "health-inertia.yaml")


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


REJECTING = """\
name: rej
id: id
signals:
  x: {column: x, weight: 1, missing: reject, linear: [[0, 0], [100, 100]]}
bands:
  - {name: high, from: 50}
  - {name: low, from: 0}
"""


def test_rejected_customer(tmp_path):
    path = write(tmp_path, "id,x\na,\nb,40\n")
    a, b = explain(path, parse_scheme(REJECTING), ["a", "b"])["customers"]
    assert a == {"id": "a", "scored": False, "reason": "x: no value (missing: reject)"}
    assert b["scored"] is True and b["score"] == 40.0


def test_unknown_id_message(tmp_path):
    path = write(tmp_path, "id,x\nA100,1\nA10,2\nB7,3\n")
    scheme = parse_scheme(REJECTING)
    # difflib ratios to 'A1000': A100 2*4/9 = .89, A10 2*3/8 = .75, B7 0
    with pytest.raises(DataError) as exc:
        explain(path, scheme, ["A100", "A1000"])
    assert exc.value.message == f"{path}: no customer 'A1000' in id; close ids: A100, A10"
    assert exc.value.exit_code == 4
    with pytest.raises(DataError) as exc:
        explain(path, scheme, ["ZZZZZZ"])
    assert exc.value.message == f"{path}: no customer 'ZZZZZZ' in id"


def test_unknown_id_on_sample():
    with pytest.raises(DataError) as exc:
        explain(SAMPLE, SAAS, ["C9999"])
    msg = exc.value.message
    assert msg.startswith(f"{SAMPLE}: no customer 'C9999' in customer_id; close ids: ")
    close = msg.split("close ids: ")[1].split(", ")
    assert len(close) == 3 and all(c.startswith("C0") and c in DATA["customer_id"] for c in close)


def test_no_ids():
    with pytest.raises(OptionError) as exc:
        explain(SAMPLE, SAAS, [])
    assert exc.value.message == "give at least one customer id"
    assert exc.value.exit_code == 2


# --- segments and extra scores -------------------------------------------------------------
def test_segments_use_the_row_definition():
    ent, smb = explain(SAMPLE, SEGMENTS, ["C0003", "C0001"])["customers"]
    # C0003 is Enterprise: logins 80 (>= 60: 100) w20, premium 41.6 (linear 20..80:
    # 36) w30, critical 0 (100) w30, nps missing w20 (redistributed over 80):
    # (2000 + 1080 + 3000) / 80 = 76.0 -> green
    assert ent["definition"] == "enterprise"
    assert [s["signal"] for s in ent["signals"]] == [
        "logins",
        "premium_adoption",
        "critical_tickets",
        "nps",
    ]
    assert ent["score"] == 76.0 and ent["band"] == "green"
    assert [s["effective_weight"] for s in ent["signals"]] == [25.0, 37.5, 37.5, 0.0]
    # C0001 is SMB: logins 28 (>= 10: 50) w40, growth 12 (linear 0..20: 50 + 30 = 80)
    # w30, plan starter (40) w30: (2000 + 2400 + 1200) / 100 = 56.0 -> orange
    assert smb["definition"] == "smb"
    assert [s["signal"] for s in smb["signals"]] == ["logins", "usage_growth", "plan"]
    assert smb["score"] == 56.0 and smb["band"] == "orange"
    # SMB's logins tier is at_least 30 (enterprise's would be 30 too, but for 50 points):
    # 28 -> 30 gives 100 points: 56 + .4 * 50 = 76.0
    assert smb["what_it_takes"][0]["text"] == "logins 28 -> 30: +20.0"
    assert rescore(SEGMENTS, one("C0001"), "logins_month", 30) == 76.0
    assert smb["to_next_band"]["text"] == "logins 28 -> 30 reaches green (76.0)"
    # plan starter -> pro: .3 * 30 = 9 -> 65.0
    assert rescore(SEGMENTS, one("C0001"), "plan", "pro") == 65.0
    assert smb["what_it_takes"][2]["text"] == "plan starter -> pro: +9.0"


def test_other_scores_match_score_frame():
    c = explain_one(SAMPLE, INERTIA, "C0001")
    scored, _ = score_frame(one("C0001"), INERTIA)
    assert c["other_scores"] == {
        "inertia": {"score": scored["inertia_score"][0], "band": scored["inertia_band"][0]}
    }
    # integrations 5 of 8, customisations 9 of 15, workflows 16 of 25:
    # .4 * 62.5 + .3 * 60 + .3 * 64 = 25 + 18 + 19.2 = 62.2 -> high (>= 60)
    assert c["other_scores"]["inertia"] == {"score": 62.2, "band": "high"}
    assert c["score"] == 50.0  # the health part is saas.yaml's
    assert "definition" not in c
