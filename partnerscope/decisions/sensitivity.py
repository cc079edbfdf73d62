"""How far each weight can move before the top alternative changes.

For criterion k we move its weight t from 0 to 1 and rescale the other weights proportionally,
w_j(t) = w_j · (1 − t) / (1 − w_k), so they keep their ratios and everything still sums to 1. The
interval [low, high] around the current weight is where the top alternative stays the same.

Each method is turned into a "batch scorer" that scores all alternatives for many weight vectors in
one matrix product (the normalisation of TOPSIS and VIKOR and PROMETHEE's single-criterion flows do
not depend on the weights), so a dense scan plus bisection at each change costs milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DecisionError
from .inputs import validated
from .mcdm import _preference_function, _unit_interval, normalize

# Scan steps over [0, 1]; a change of top that reverts within less than 1 / SCAN_STEPS of weight
# could be missed, which is far below the precision anyone sets weights with.
SCAN_STEPS = 2000
BISECTION_STEPS = 60


@dataclass(frozen=True)
class WeightRange:
    criterion: int
    weight: float  # the current (normalised) weight
    low: float  # below this weight the top alternative changes (0.0 if it never does)
    high: float  # above this weight the top alternative changes (1.0 if it never does)
    top_at_low: int | None  # the new top alternative just below ``low``, None if it never changes
    top_at_high: int | None  # the new top alternative just above ``high``, None if it never changes


def weight_sensitivity(
    matrix: Any, weights: Any, directions: Any, method: str = "topsis", **options: Any
) -> list[WeightRange]:
    """One :class:`WeightRange` per criterion. ``options`` are the method's (normalization, v, preference…)."""
    values, w, d = validated(matrix, weights, directions)
    scorer = _batch_scorer(method, values, d, options)
    top = _top(scorer, w[None, :])[0]
    ranges = []
    for criterion in range(values.shape[1]):
        path = _weight_path(w, criterion)
        grid = np.union1d(np.linspace(0.0, 1.0, SCAN_STEPS + 1), [w[criterion]])
        tops = _top(scorer, path(grid))
        here = int(np.searchsorted(grid, w[criterion]))
        high, top_at_high = _boundary(scorer, path, grid, tops, here, top, step=1)
        low, top_at_low = _boundary(scorer, path, grid, tops, here, top, step=-1)
        ranges.append(WeightRange(criterion, float(w[criterion]), low, high, top_at_low, top_at_high))
    return ranges


def _weight_path(w: np.ndarray, criterion: int) -> Callable[[np.ndarray], np.ndarray]:
    others = np.delete(np.arange(w.size), criterion)
    rest = 1.0 - w[criterion]
    # When this criterion holds all the weight the others have no ratios to keep: share equally.
    shares = w[others] / rest if rest > 1e-12 else np.full(others.size, 1.0 / max(others.size, 1))

    def weights_at(t: np.ndarray) -> np.ndarray:
        t = np.atleast_1d(t)
        batch = np.empty((t.size, w.size))
        batch[:, criterion] = t
        batch[:, others] = (1.0 - t)[:, None] * shares
        return batch

    return weights_at


def _boundary(scorer, path, grid, tops, here, top, *, step):
    if step > 0:
        changes = np.flatnonzero(tops[here + 1 :] != top)
        if changes.size == 0:
            return 1.0, None
        changed_at = here + 1 + int(changes[0])
    else:
        changes = np.flatnonzero(tops[:here] != top)
        if changes.size == 0:
            return 0.0, None
        changed_at = int(changes[-1])
    # Bisect between the last grid point with the same top and the first one without it.
    same, changed = grid[changed_at - step], grid[changed_at]
    for _ in range(BISECTION_STEPS):
        middle = (same + changed) / 2
        if _top(scorer, path(np.array([middle])))[0] == top:
            same = middle
        else:
            changed = middle
    return float(same), int(_top(scorer, path(np.array([changed])))[0])


def _top(scorer, batch: np.ndarray) -> np.ndarray:
    # argmax takes the first of tied alternatives, as the methods' stable rankings do.
    return np.argmax(scorer(batch), axis=1)


def _batch_scorer(method: str, values: np.ndarray, d: np.ndarray, options: dict) -> Callable:
    """A function from weight vectors (batch × criteria) to scores (batch × alternatives), higher better."""
    if method == "topsis":
        _only(options, {"normalization"}, method)
        normalized, d = normalize(values, d, options.get("normalization", "vector"))
        best = np.where(d > 0, normalized.max(axis=0), normalized.min(axis=0))
        worst = np.where(d > 0, normalized.min(axis=0), normalized.max(axis=0))
        # With non-negative weights the weighted ideal is the weighted best value, so the squared
        # distances are the squared weights times fixed squared gaps: one matrix product per batch.
        gap_best, gap_worst = (normalized - best) ** 2, (normalized - worst) ** 2

        def topsis_scores(batch):
            squared = batch**2
            d_plus = np.sqrt(squared @ gap_best.T)
            d_minus = np.sqrt(squared @ gap_worst.T)
            total = d_plus + d_minus
            return np.divide(d_minus, total, out=np.full_like(total, 0.5), where=total > 0)

        return topsis_scores
    if method == "vikor":
        _only(options, {"v"}, method)
        v = _unit_interval(options.get("v", 0.5), "v")
        best = np.where(d > 0, values.max(axis=0), values.min(axis=0))
        span = best - np.where(d > 0, values.min(axis=0), values.max(axis=0))
        gaps = np.divide(best - values, span, out=np.zeros_like(values), where=span != 0)

        def vikor_scores(batch):
            s = batch @ gaps.T
            r = (batch[:, None, :] * gaps[None, :, :]).max(axis=2)
            return -(v * _rescale_rows(s) + (1 - v) * _rescale_rows(r))

        return vikor_scores
    if method == "promethee_ii":
        _only(options, {"preference", "q", "p", "s"}, method)
        flows = _single_criterion_flows(values, d, options)
        return lambda batch: batch @ flows.T  # the net flow is linear in the weights
    raise DecisionError(f"unknown method {method!r}: use one of topsis, vikor, promethee_ii")


def _only(options: dict, allowed: set, method: str) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise DecisionError(f"{method} takes no option {', '.join(unknown)}")


def _rescale_rows(values: np.ndarray) -> np.ndarray:
    low = values.min(axis=1, keepdims=True)
    span = values.max(axis=1, keepdims=True) - low
    return np.divide(values - low, span, out=np.zeros_like(values), where=span > 0)


def _single_criterion_flows(values: np.ndarray, d: np.ndarray, options: dict) -> np.ndarray:
    count, criteria = values.shape
    preferred = _preference_function(
        options.get("preference", "usual"), options.get("q"), options.get("p"), options.get("s"), criteria
    )
    oriented = values * d
    flows = np.zeros((count, criteria))
    block = max(1, 2_000_000 // (count * criteria))
    for start in range(0, count, block):
        stop = min(count, start + block)
        preference = preferred(oriented[start:stop, None, :] - oriented[None, :, :])
        flows[start:stop] += preference.sum(axis=1)
        flows -= preference.sum(axis=0)
    return flows / (count - 1)
