"""AHP: criteria weights from pairwise comparisons (Saaty), with the consistency check.

The weights are the principal (Perron) eigenvector of the comparison matrix; the consistency ratio
compares the matrix's departure from perfect consistency with that of random matrices of the same
size (Saaty's random index). See docs/DECISIONS.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DecisionError, InconsistentJudgements

# Saaty's random consistency index RI by matrix size (Saaty 1980; e.g. Saaty 2008, "Decision making
# with the analytic hierarchy process", Int. J. Services Sciences 1(1)). Saaty advises comparing at
# most about 7 ± 2 elements at once, so sizes past the table are refused rather than extrapolated.
RANDOM_INDEX = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49}
CONSISTENCY_LIMIT = 0.10
# Judgements are often typed as rounded fractions (0.33 for 1/3): accept a lower triangle within 2 %
# of the reciprocal of the upper one, then compute with the exact reciprocal of the upper triangle.
RECIPROCAL_TOLERANCE = 0.02


@dataclass(frozen=True)
class AhpResult:
    weights: np.ndarray  # principal eigenvector, sums to 1
    lambda_max: float  # principal eigenvalue (= n for a perfectly consistent matrix)
    ci: float  # consistency index (λmax − n) / (n − 1)
    cr: float  # consistency ratio CI / RI
    ri: float  # Saaty's random index for this size
    consistent: bool  # cr <= 0.10 (matrices of size 1 and 2 are always consistent)
    # (i, j, given a[i][j], implied w_i / w_j): the judgement furthest from what the weights imply,
    # None when every judgement agrees with the weights.
    most_inconsistent: tuple[int, int, float, float] | None


def ahp(pairwise: Any) -> AhpResult:
    """Weights, λmax, CI, CR and the most inconsistent judgement of a reciprocal comparison matrix.

    ``pairwise[i][j]`` says how much more important element i is than element j (Saaty's 1–9 scale);
    the diagonal is 1 and ``pairwise[j][i]`` must be ``1 / pairwise[i][j]``.
    """
    matrix = _reciprocal_matrix(pairwise)
    size = matrix.shape[0]
    eigenvalues, eigenvectors = np.linalg.eig(matrix)
    principal = int(np.argmax(eigenvalues.real))
    lambda_max = float(eigenvalues[principal].real)
    vector = np.abs(eigenvectors[:, principal].real)  # Perron vector: one sign, so abs is exact
    weights = vector / vector.sum()
    ri = RANDOM_INDEX[size]
    if size <= 2:
        ci = cr = 0.0  # a 2 × 2 reciprocal matrix is always consistent
    else:
        # λmax >= n for every positive reciprocal matrix; clamp rounding noise on consistent ones.
        ci = max(0.0, (lambda_max - size) / (size - 1))
        if ci < 1e-12:
            ci = 0.0
        cr = ci / ri
    return AhpResult(
        weights=weights,
        lambda_max=lambda_max,
        ci=ci,
        cr=cr,
        ri=ri,
        consistent=cr <= CONSISTENCY_LIMIT,
        most_inconsistent=_most_inconsistent(matrix, weights),
    )


def ahp_weights(pairwise: Any, max_cr: float = CONSISTENCY_LIMIT) -> AhpResult:
    """Like :func:`ahp`, but refuses a matrix whose consistency ratio exceeds ``max_cr``.

    Raises :class:`InconsistentJudgements` (a :class:`DecisionError`) carrying the result and naming the
    judgement that deviates most, so the person can revisit that one comparison.
    """
    result = ahp(pairwise)
    if result.cr <= max_cr:
        return result
    i, j, given, implied = result.most_inconsistent
    raise InconsistentJudgements(
        f"the pairwise judgements are too inconsistent (consistency ratio {result.cr:.3f} > {max_cr:.2f}); "
        f"revisit the comparison of element {i} with element {j} (row {i}, column {j}): it says {given:.3g}, "
        f"while the other judgements imply about {implied:.3g}",
        result,
    )


def _reciprocal_matrix(pairwise: Any) -> np.ndarray:
    try:
        matrix = np.asarray(pairwise, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DecisionError("the pairwise comparisons must be a square matrix of numbers") from exc
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise DecisionError(f"the pairwise comparisons must be a square matrix, got shape {matrix.shape}")
    size = matrix.shape[0]
    if size < 2:
        raise DecisionError("pairwise comparison needs at least 2 elements")
    if size > max(RANDOM_INDEX):
        raise DecisionError(
            f"{size} elements compared at once: Saaty's random index covers at most {max(RANDOM_INDEX)} "
            f"(and advises about 7); group the criteria into a hierarchy"
        )
    bad = ~np.isfinite(matrix) | (matrix <= 0)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DecisionError(
            f"pairwise[{i}][{j}] = {matrix[i, j]:g}: every judgement must be a positive number"
        )
    diagonal = np.abs(np.diag(matrix) - 1.0) > 1e-9
    if diagonal.any():
        i = int(np.argmax(diagonal))
        raise DecisionError(f"pairwise[{i}][{i}] = {matrix[i, i]:g}: an element compared with itself is 1")
    upper = np.triu(matrix, 1)
    mismatch = np.abs(matrix * matrix.T - 1.0) > RECIPROCAL_TOLERANCE
    if mismatch.any():
        i, j = sorted(np.argwhere(mismatch)[0])
        raise DecisionError(
            f"pairwise[{j}][{i}] = {matrix[j, i]:g} is not the reciprocal of pairwise[{i}][{j}] = {matrix[i, j]:g} "
            f"(expected {1 / matrix[i, j]:.4g})"
        )
    lower = np.divide(1.0, upper.T, out=np.zeros_like(upper), where=upper.T > 0)
    return upper + lower + np.eye(size)


def _most_inconsistent(matrix: np.ndarray, weights: np.ndarray) -> tuple[int, int, float, float] | None:
    # Deviation on a log scale, so "3 where 1/3 is implied" and "1/3 where 3 is implied" weigh the same.
    implied = weights[:, None] / weights[None, :]
    deviation = np.abs(np.log(matrix / implied))
    deviation[np.tril_indices_from(deviation)] = 0.0
    i, j = np.unravel_index(int(np.argmax(deviation)), deviation.shape)
    if deviation[i, j] < 1e-9:
        return None
    return int(i), int(j), float(matrix[i, j]), float(implied[i, j])
