"""Warnings about a valid scheme: weights that do not sum to 100, tiers that overlap or
that no value can reach."""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

from chs.scheme.keys import key_path, line_for
from chs.scheme.model import Group, Interval, Scheme, Signal, Tier, number_text


def weight_notes(scheme: Scheme, lines: dict[tuple[str, ...], int]) -> list[tuple[int, str]]:
    """Levels whose weights do not sum to 100, with the percentages they normalise to.

    Shown by `chs check` only: relative weights are allowed, so a run need not repeat it.
    """
    out: list[tuple[int, str]] = []

    def weights(level: str, loc: tuple[str, ...], items: dict[str, Any]) -> None:
        total = sum(item.weight for item in items.values())
        if not math.isclose(total, 100):
            shares = ", ".join(f"{n} {item.weight / total:.1%}" for n, item in items.items())
            message = (
                f"{level} weights sum to {number_text(total)}, not 100; normalised to {shares}"
            )
            out.append((line_for(loc, lines) or 0, message))

    for label, loc, signals, groups in _parts(scheme):
        if groups is not None:
            weights(f"{label}group", (*loc, "groups"), groups)
            for gname, group in groups.items():
                weights(
                    f"{label}group {gname!r} signal",
                    (*loc, "groups", gname, "signals"),
                    group.signals,
                )
        else:
            assert signals is not None
            weights(f"{label}signal", (*loc, "signals"), signals)
    return out


def _parts(
    scheme: Scheme,
) -> list[tuple[str, tuple[str, ...], dict[str, Signal] | None, dict[str, Group] | None]]:
    """Each definition with a label and its key path: the scheme, its segments, its scores."""
    parts = []
    if scheme.segments is None:
        parts.append(("", (), scheme.signals, scheme.groups))
    for i, seg in enumerate(scheme.segments or []):
        parts.append((f"segment {seg.name!r} ", ("segments", str(i)), seg.signals, seg.groups))
    for name, extra in (scheme.scores or {}).items():
        parts.append((f"score {name!r} ", ("scores", name), extra.signals, extra.groups))
    return parts


def scheme_warnings(scheme: Scheme, lines: dict[tuple[str, ...], int]) -> list[tuple[int, str]]:
    """Tiers that overlap or that no value can reach: likely mistakes, shown on every run."""
    out: list[tuple[int, str]] = []
    for _, loc, signals, groups in _parts(scheme):
        where: list[tuple[tuple[str, ...], Signal]] = [
            ((*loc, "signals", n), sig) for n, sig in (signals or {}).items()
        ]
        for gname, group in (groups or {}).items():
            where += [
                ((*loc, "groups", gname, "signals", n), sig) for n, sig in group.signals.items()
            ]
        for base, sig in where:
            for index, message in tier_problems(sig.points or []):
                line = line_for((*base, "points", str(index)), lines) or 0
                out.append((line, f"{key_path((*base, 'points', str(index)))}: {message}"))
    return sorted(out, key=lambda p: p[0])


def tier_problems(tiers: list[Tier]) -> list[tuple[int, str]]:
    """Tiers that no value can reach, and ranged tiers partly hidden by an earlier tier.

    Membership only changes at bound values, so testing every bound and the midpoints
    between consecutive bounds (plus one point beyond each end) decides exactly. Each
    tier's probes are one bit mask, computed once, so that the comparisons between tiers
    are integer operations: 100 tiers take milliseconds, not seconds.
    """
    intervals = [t.interval() for t in tiers]
    bounds = sorted({b for iv in intervals for b in (iv.low, iv.high) if b is not None})
    probes = list(bounds)
    probes += [(a + b) / 2 for a, b in pairwise(bounds)]
    probes += [bounds[0] - 1, bounds[-1] + 1] if bounds else [0.0]
    masks = [sum(1 << k for k, x in enumerate(probes) if iv.contains(x)) for iv in intervals]
    problems: list[tuple[int, str]] = []
    earlier = 0  # the probes some earlier tier matches
    for i, (iv, mine) in enumerate(zip(intervals, masks, strict=True)):
        hidden = mine & earlier
        earlier |= mine
        if mine and hidden == mine:
            problems.append(
                (i, f"tier {iv.text()} is unreachable: earlier tiers match every such value")
            )
            continue
        if not hidden:
            continue
        for j in range(i):
            if mine & masks[j] and not _cascade(iv, intervals[j]):
                problems.append(
                    (
                        i,
                        f"tier {iv.text()} overlaps tier {j + 1} ({intervals[j].text()}); "
                        "the earlier tier wins",
                    )
                )
                break
    return problems


def _cascade(a: Interval, b: Interval) -> bool:
    """Whether tier `a`, after tier `b`, follows the usual first-match idiom: a catch-all,
    or both one-sided in the same direction (`at_least 40`, then `at_least 10`)."""
    if a.low is None or a.high is None:
        one_sided_b = b.low is None or b.high is None
        return a == Interval() or not one_sided_b or (a.high is None) == (b.high is None)
    return False
