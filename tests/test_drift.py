"""Drift between two snapshots: the population stability index and its label."""

from __future__ import annotations

import math

from chs.drift import psi, psi_label


def test_psi_by_hand():
    # {0: 50, 1: 50} vs {0: 25, 1: 75}: (0.25-0.5) ln(0.25/0.5) + (0.75-0.5) ln(0.75/0.5)
    # = 0.25 * 0.693147 + 0.25 * 0.405465 = 0.274653 -> 0.2747
    assert psi({0: 50, 1: 50}, {0: 25, 1: 75}) == 0.2747
    # empty bin 1 before, floored at 1e-4:
    # (0.5-1) ln(0.5/1) + (0.5-1e-4) ln(0.5/1e-4) = 0.346574 + 0.4999 * 8.517193 = 4.604318
    assert math.isclose(0.5 * math.log(2) + 0.4999 * math.log(5000), 4.6043, abs_tol=5e-5)
    assert psi({0: 100}, {0: 50, 1: 50}) == 4.6043
    # same shares in different counts: 0
    assert psi({0: 1, 1: 3}, {0: 10, 1: 30}) == 0.0
    # nothing on one side: 0
    assert psi({}, {0: 5}) == 0.0


def test_psi_label_thresholds():
    assert psi_label(0.0999) == "stable"
    assert psi_label(0.1) == "moderate shift"
    assert psi_label(0.25) == "moderate shift"
    assert psi_label(0.2501) == "major shift"
