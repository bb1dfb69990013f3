"""Weights fitted to history (the definition article's step 3): a logistic regression of
churn on the signals' points, with non-negative weights (more points never means more
churn), by scipy's bounded L-BFGS-B; then whole percentages summing to 100, written
into the scheme's own text so its comments and layout stay."""

from __future__ import annotations

import json
import re

import numpy as np

from chs.errors import DataError
from chs.scheme import Scheme

_WEIGHT = re.compile(r"(\bweight\s*:\s*)([^,}\s#]+)")


def fit_weights(points: np.ndarray, churned: np.ndarray) -> np.ndarray:
    """Non-negative weights w (one per column of `points`, in 0..1) maximising the
    likelihood of P(churn) = 1 / (1 + exp(-(b - points . w)))."""
    from scipy.optimize import minimize

    y = churned.astype(float)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] - points @ params[1:]
        p = 1.0 / (1.0 + np.exp(-z))
        nll = float(np.sum(np.logaddexp(0.0, z) - y * z))
        dz = p - y
        return nll, np.concatenate(([dz.sum()], -(points.T @ dz)))

    start = np.concatenate(([0.0], np.ones(points.shape[1])))
    bounds = [(None, None)] + [(0.0, None)] * points.shape[1]
    result = minimize(loss, start, jac=True, method="L-BFGS-B", bounds=bounds)
    return np.clip(result.x[1:], 0.0, None)


def percentages(weights: dict[str, float]) -> dict[str, int]:
    """Whole percentages summing to 100, each at least 1 (a scheme's weights are > 0:
    a signal the fit gives nothing keeps 1 %), the rest by largest remainder."""
    total = sum(weights.values())
    if total <= 0:
        raise DataError("no signal predicts churn in this data: every fitted weight is 0")
    left = 100 - len(weights)
    shares = {k: v * left / total for k, v in weights.items()}
    whole = {k: 1 + int(v) for k, v in shares.items()}
    rest = 100 - sum(whole.values())
    for k in sorted(shares, key=lambda k: -(shares[k] - int(shares[k])))[:rest]:
        whole[k] += 1
    return whole


def rewrite(text: str, scheme: Scheme, weights: dict[str, int], description: str) -> str:
    """The scheme's text with each signal's weight replaced on its own line, and the
    description said (replaced when it is one line, else added as a comment)."""
    lines = text.splitlines(keepends=True)
    for name, weight in weights.items():
        line = scheme.line_of("signals", name, "weight")
        if line is None or not _WEIGHT.search(lines[line - 1]):
            raise DataError(f"{scheme.source}: cannot find the weight of signal {name!r}")
        lines[line - 1] = _WEIGHT.sub(rf"\g<1>{weight}", lines[line - 1], count=1)
    said = json.dumps(description, ensure_ascii=False)
    place = scheme.line_of("description")
    if place is not None and re.match(r"\s*description\s*:\s*[^|>\s]", lines[place - 1]):
        lines[place - 1] = re.sub(
            r"(description\s*:\s*).*", lambda m: m.group(1) + said, lines[place - 1]
        )
    elif place is None and scheme.line_of("name") is not None:
        at = scheme.line_of("name")
        assert at is not None
        lines.insert(at, f"description: {said}\n")
    else:
        lines.insert(0, f"# {description}\n")
    return "".join(lines)
