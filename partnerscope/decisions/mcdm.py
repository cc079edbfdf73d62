"""Ranking methods: TOPSIS, VIKOR and PROMETHEE II, vectorised with NumPy, plus ``rank`` to pick one.

We implement the methods ourselves rather than call pymcdm at run time: importing pymcdm costs
seconds, its TOPSIS defaults to min-max normalisation where the literature (and the issue) means
vector normalisation, and the explanation page needs every intermediate table. pymcdm stays the
independent cross-check in the tests, always with the normalisation passed explicitly.

Matrices are alternatives × criteria; directions are +1 for a benefit criterion (more is better)
and -1 for a cost criterion (less is better). See docs/DECISIONS.md for the formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DecisionError
from .inputs import stable_order, validated

NORMALIZATIONS = ("vector", "minmax", "max")
PREFERENCE_FUNCTIONS = ("usual", "ushape", "vshape", "level", "linear", "gaussian")
METHODS = ("topsis", "vikor", "promethee_ii")
OPTIONS = {
    "topsis": {"normalization"},
    "vikor": {"v"},
    "promethee_ii": {"preference", "q", "p", "s"},
}


@dataclass(frozen=True)
class TopsisResult:
    """Every intermediate table of TOPSIS, for the explanation page."""

    normalized: np.ndarray  # alternatives × criteria
    weighted: np.ndarray  # normalized × weights
    ideal: np.ndarray  # per criterion: best weighted value
    anti_ideal: np.ndarray  # per criterion: worst weighted value
    d_plus: np.ndarray  # distance of each alternative to the ideal
    d_minus: np.ndarray  # distance of each alternative to the anti-ideal
    closeness: np.ndarray  # d_minus / (d_plus + d_minus), higher is better
    ranking: list[int]  # indices, best first
    normalization: str = "vector"


@dataclass(frozen=True)
class VikorResult:
    s: np.ndarray  # group utility (weighted sum of normalised gaps), lower is better
    r: np.ndarray  # individual regret (largest weighted gap), lower is better
    q: np.ndarray  # v·S + (1 − v)·R after scaling both to 0..1, lower is better
    ranking: list[int]  # by Q ascending
    compromise: list[int]  # Opricovic's compromise set, best first
    best: np.ndarray  # f*: best value of each criterion
    worst: np.ndarray  # f-: worst value of each criterion
    acceptable_advantage: bool  # condition C1
    acceptable_stability: bool  # condition C2


@dataclass(frozen=True)
class PrometheeResult:
    positive_flow: np.ndarray  # φ+: how strongly each alternative outranks the others
    negative_flow: np.ndarray  # φ−: how strongly the others outrank it
    net_flow: np.ndarray  # φ = φ+ − φ−, higher is better
    ranking: list[int]
    preference: str = "usual"
    preference_index: np.ndarray | None = None  # π(a, b), alternatives × alternatives (None above 500)


@dataclass(frozen=True)
class Ranking:
    method: str
    scores: np.ndarray  # one per alternative, higher is better (see score_label)
    ranking: list[int]
    details: TopsisResult | VikorResult | PrometheeResult
    score_label: str = ""  # what the scores are: "closeness coefficient", "1 − Q", "net flow"


# --- TOPSIS -------------------------------------------------------------------------------------------


def topsis(matrix: Any, weights: Any, directions: Any, normalization: str = "vector") -> np.ndarray:
    """Closeness coefficients (0..1, higher is better), one per alternative.

    >>> topsis([[250, 16], [200, 16], [300, 32]], [0.5, 0.5], [-1, 1]).round(3)
    array([0.212, 0.358, 0.642])
    """
    values, w, d = validated(matrix, weights, directions)
    return _topsis(values, w, d, normalization, details=False)


def topsis_details(matrix: Any, weights: Any, directions: Any, normalization: str = "vector") -> TopsisResult:
    """TOPSIS with every intermediate table (normalised and weighted matrices, ideals, distances)."""
    values, w, d = validated(matrix, weights, directions)
    return _topsis(values, w, d, normalization, details=True)


def _topsis(values, w, d, normalization, *, details):
    normalized, d = normalize(values, d, normalization)
    weighted = normalized * w
    column_max, column_min = weighted.max(axis=0), weighted.min(axis=0)
    benefit = d > 0
    ideal = np.where(benefit, column_max, column_min)
    anti_ideal = np.where(benefit, column_min, column_max)
    to_ideal = weighted - ideal
    to_anti = weighted - anti_ideal
    d_plus = np.sqrt(np.einsum("ij,ij->i", to_ideal, to_ideal))
    d_minus = np.sqrt(np.einsum("ij,ij->i", to_anti, to_anti))
    total = d_plus + d_minus
    if (total > 0).all():
        closeness = d_minus / total
    else:
        # Only when alternatives coincide with both the ideal and the anti-ideal, i.e. all alternatives
        # are equal on every weighted criterion: none is closer to the ideal, so all get the midpoint.
        closeness = np.divide(d_minus, total, out=np.full_like(total, 0.5), where=total > 0)
    if not details:
        return closeness
    return TopsisResult(
        normalization=normalization,
        normalized=normalized,
        weighted=weighted,
        ideal=ideal,
        anti_ideal=anti_ideal,
        d_plus=d_plus,
        d_minus=d_minus,
        closeness=closeness,
        ranking=stable_order(closeness, descending=True),
    )


def normalize(values: np.ndarray, d: np.ndarray, normalization: str) -> tuple[np.ndarray, np.ndarray]:
    """The normalised matrix and the directions that apply to it.

    "vector" keeps the directions (a cost column is still best at its minimum); "minmax" and "max" turn
    every column into a benefit (1 is best), so the returned directions are all +1.
    """
    if normalization == "vector":
        norms = np.sqrt(np.einsum("ij,ij->j", values, values))
        if (norms > 0).all():
            return values / norms, d
        # A column of zeros tells the alternatives apart in nothing: keep it at zero.
        return values / np.where(norms > 0, norms, 1.0), d
    if normalization == "minmax":
        low, high = values.min(axis=0), values.max(axis=0)
        span = high - low
        scaled = (values - low) / np.where(span > 0, span, 1.0)
        scaled = np.where(d > 0, scaled, 1.0 - scaled)
        scaled[:, span == 0] = 1.0  # a constant column: every alternative is at the best value
        return scaled, np.ones_like(d)
    if normalization == "max":
        return _max_normalize(values, d), np.ones_like(d)
    raise DecisionError(f"unknown normalization {normalization!r}: use one of {', '.join(NORMALIZATIONS)}")


def _max_normalize(values: np.ndarray, d: np.ndarray) -> np.ndarray:
    # Linear scale transformation (Hwang & Yoon): x / max for a benefit, min / x for a cost. Both are
    # ratios, so they only make sense for non-negative values, and min / x needs x > 0.
    negative = values < 0
    if negative.any():
        row, column = np.argwhere(negative)[0]
        raise DecisionError(
            f"matrix row {row}, column {column} is {values[row, column]:g}: the 'max' normalization divides "
            f"by values, so they must not be negative (use 'vector' or 'minmax')"
        )
    cost = d < 0
    zero_cost = (values == 0) & cost
    if zero_cost.any():
        row, column = np.argwhere(zero_cost)[0]
        raise DecisionError(
            f"matrix row {row}, column {column} is 0 on a cost criterion: the 'max' normalization divides the "
            f"column's minimum by each value (use 'vector' or 'minmax')"
        )
    column_max = values.max(axis=0)
    zero_benefit = (column_max == 0) & ~cost
    if zero_benefit.any():
        column = int(np.argmax(zero_benefit))
        raise DecisionError(
            f"column {column} is 0 for every alternative: the 'max' normalization divides by the column's "
            f"maximum (drop the criterion or use 'vector')"
        )
    safe = np.where(values > 0, values, 1.0)
    return np.where(cost, values.min(axis=0) / safe, values / np.where(column_max > 0, column_max, 1.0))


# --- VIKOR --------------------------------------------------------------------------------------------


def vikor(matrix: Any, weights: Any, directions: Any, v: float = 0.5) -> VikorResult:
    """VIKOR (Opricovic 1998; Opricovic & Tzeng 2004): S, R, Q, the ranking by Q and the compromise set.

    ``v`` weighs the strategy of "the majority of criteria" (group utility S) against the individual
    regret R; 0.5 is consensus.
    """
    values, w, d = validated(matrix, weights, directions)
    v = _unit_interval(v, "v")
    column_max, column_min = values.max(axis=0), values.min(axis=0)
    best = np.where(d > 0, column_max, column_min)
    worst = np.where(d > 0, column_min, column_max)
    # Linear normalisation of the gap to the best value: 0 at the best, 1 at the worst. A constant
    # column has no gap anywhere and contributes nothing.
    span = best - worst
    gaps = np.divide(best - values, span, out=np.zeros_like(values), where=span != 0)
    weighted = gaps * w
    s = weighted.sum(axis=1)
    r = weighted.max(axis=1)
    q = v * _rescale(s) + (1 - v) * _rescale(r)
    ranking = stable_order(q, descending=False)
    compromise, advantage, stability = _compromise(q, s, r, ranking)
    return VikorResult(
        best=best,
        worst=worst,
        s=s,
        r=r,
        q=q,
        ranking=ranking,
        compromise=compromise,
        acceptable_advantage=advantage,
        acceptable_stability=stability,
    )


def _rescale(values: np.ndarray) -> np.ndarray:
    low, high = values.min(), values.max()
    if high == low:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def _compromise(q, s, r, ranking) -> tuple[list[int], bool, bool]:
    # Opricovic & Tzeng (2004), step 5. C1 "acceptable advantage": Q(A2) − Q(A1) ≥ DQ = 1/(J − 1).
    # C2 "acceptable stability": A1 is also best by S or by R. Both hold: A1 alone. Only C2 fails:
    # A1 and A2. C1 fails: A1 … AM, the largest M with Q(AM) − Q(A1) < DQ.
    tolerance = 1e-12
    first, second = ranking[0], ranking[1]
    dq = 1.0 / (len(q) - 1)
    advantage = q[second] - q[first] >= dq - tolerance
    stability = bool(s[first] <= s.min() + tolerance or r[first] <= r.min() + tolerance)
    if advantage and stability:
        return [first], True, True
    if advantage:
        return [first, second], True, False
    close = [index for index in ranking if q[index] - q[first] < dq - tolerance]
    return close, False, stability


# --- PROMETHEE II -------------------------------------------------------------------------------------


def promethee_ii(
    matrix: Any,
    weights: Any,
    directions: Any,
    preference: str = "usual",
    q: Any = None,
    p: Any = None,
    s: Any = None,
) -> PrometheeResult:
    """PROMETHEE II net outranking flows (Brans & Vincke 1985) with one preference function for all criteria.

    ``q`` (indifference threshold), ``p`` (strict-preference threshold) and ``s`` (Gaussian spread) are
    in each criterion's own unit: a number for all criteria or one per criterion.
    """
    values, w, d = validated(matrix, weights, directions)
    count, criteria = values.shape
    preferred = _preference_function(preference, q, p, s, criteria)
    oriented = values * d  # larger is better on every column from here on
    positive = np.empty(count)
    negative = np.zeros(count)
    keep_index = count <= 500
    index = np.empty((count, count)) if keep_index else None
    # The pairwise differences are count × count × criteria numbers: process blocks of rows so that
    # memory stays near 16 MB whatever the number of alternatives.
    block = max(1, 2_000_000 // (count * criteria))
    for start in range(0, count, block):
        stop = min(count, start + block)
        differences = oriented[start:stop, None, :] - oriented[None, :, :]
        pi = preferred(differences) @ w  # π(a, b) for a in the block, every b
        positive[start:stop] = pi.sum(axis=1)
        negative += pi.sum(axis=0)
        if index is not None:
            index[start:stop] = pi
    positive /= count - 1
    negative /= count - 1
    net = positive - negative
    return PrometheeResult(
        preference=preference,
        positive_flow=positive,
        negative_flow=negative,
        net_flow=net,
        ranking=stable_order(net, descending=True),
        preference_index=index,
    )


def _preference_function(name, q, p, s, criteria):
    """P(d) in 0..1 for a difference d, per Brans & Vincke's six generalised criteria."""
    needs = {
        "usual": (),
        "ushape": ("q",),
        "vshape": ("p",),
        "level": ("q", "p"),
        "linear": ("q", "p"),
        "gaussian": ("s",),
    }
    if name == "vshape_2":  # pymcdm's name for the linear criterion with indifference
        name = "linear"
    if name not in needs:
        raise DecisionError(
            f"unknown preference function {name!r}: use one of {', '.join(PREFERENCE_FUNCTIONS)}"
        )
    given = {"q": q, "p": p, "s": s}
    for parameter, value in given.items():
        if parameter in needs[name] and value is None:
            raise DecisionError(f"the {name!r} preference function needs the threshold {parameter}")
        if parameter not in needs[name] and value is not None:
            raise DecisionError(f"the {name!r} preference function takes no {parameter}")
    q = _thresholds(q, "q", criteria, allow_zero=True) if q is not None else None
    p = _thresholds(p, "p", criteria, allow_zero=False) if p is not None else None
    s = _thresholds(s, "s", criteria, allow_zero=False) if s is not None else None
    if q is not None and p is not None and (q >= p).any():
        column = int(np.argmax(q >= p))
        raise DecisionError(
            f"criterion {column}: the indifference threshold q ({q[column]:g}) must be below "
            f"the preference threshold p ({p[column]:g})"
        )
    if name == "usual":
        return lambda d: (d > 0).astype(float)
    if name == "ushape":
        return lambda d: (d > q).astype(float)
    if name == "vshape":
        return lambda d: np.clip(d / p, 0.0, 1.0)
    if name == "level":
        return lambda d: np.where(d > p, 1.0, np.where(d > q, 0.5, 0.0))
    if name == "linear":
        return lambda d: np.clip((d - q) / (p - q), 0.0, 1.0)
    return lambda d: np.where(d > 0, -np.expm1(-(d**2) / (2 * s**2)), 0.0)


def _thresholds(value, name, criteria, *, allow_zero):
    try:
        array = np.broadcast_to(np.asarray(value, dtype=float), (criteria,))
    except (TypeError, ValueError) as exc:
        raise DecisionError(f"{name}: give one number, or one number per criterion ({criteria})") from exc
    bad = ~np.isfinite(array) | (array < 0 if allow_zero else array <= 0)
    if bad.any():
        column = int(np.argmax(bad))
        limit = "0 or more" if allow_zero else "more than 0"
        raise DecisionError(f"{name}[{column}] = {array[column]:g}: the threshold must be {limit}")
    return array


def _unit_interval(value, name):
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise DecisionError(f"{name} must be a number between 0 and 1") from exc
    if not 0.0 <= number <= 1.0:
        raise DecisionError(f"{name} = {number:g}: it must be between 0 and 1")
    return number


# --- one entry point ----------------------------------------------------------------------------------


def rank(method: str, matrix: Any, weights: Any, directions: Any, **options: Any) -> Ranking:
    """Rank with the named method; ``scores`` are always "higher is better".

    TOPSIS scores are the closeness coefficients, PROMETHEE II scores the net flows, and VIKOR scores
    are 1 − Q (Q is "lower is better" and already scaled to 0..1, so 1 − Q keeps its order and scale).
    """
    allowed = OPTIONS.get(method)
    if allowed is None:
        raise DecisionError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise DecisionError(
            f"{method} takes no option {', '.join(unknown)} (it takes: {', '.join(sorted(allowed)) or 'none'})"
        )
    if method == "topsis":
        result = topsis_details(matrix, weights, directions, **options)
        return Ranking(method, result.closeness, result.ranking, result, "closeness coefficient")
    if method == "vikor":
        result = vikor(matrix, weights, directions, **options)
        return Ranking(method, 1.0 - result.q, result.ranking, result, "1 − Q")
    result = promethee_ii(matrix, weights, directions, **options)
    return Ranking(method, result.net_flow, result.ranking, result, "net flow")
