"""Validation shared by the ranking methods: a decision matrix, its weights and its directions.

Every check is one vectorised NumPy pass over the matrix, so validating a 10,000 × 20 matrix costs a
fraction of the method itself; only when a check fails do we look for the first offending index to
name it in the message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import DecisionError


def as_matrix(matrix: Any, *, min_alternatives: int = 2) -> np.ndarray:
    """The decision matrix as a float array (alternatives × criteria), every value finite."""
    if isinstance(matrix, str | bytes):
        raise DecisionError(
            "the matrix must be a list of rows (lists of numbers) or a 2-D array, got a string"
        )
    if isinstance(matrix, np.ndarray) and matrix.dtype == np.float64:
        values = matrix  # no copy: the methods never write into their input
    else:
        try:
            values = np.asarray(matrix, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DecisionError(_explain_unreadable(matrix)) from exc
    if values.ndim != 2:
        raise DecisionError(
            f"the matrix must have one row per alternative and one column per criterion (2 dimensions), "
            f"got {values.ndim} dimension(s)"
        )
    rows, columns = values.shape
    if rows < min_alternatives:
        raise DecisionError(f"need at least {min_alternatives} alternatives (rows) to rank, got {rows}")
    if columns < 1:
        raise DecisionError("the matrix has no criteria (columns)")
    if not np.isfinite(values).all():
        row, column = np.argwhere(~np.isfinite(values))[0]
        raise DecisionError(
            f"matrix row {row}, column {column} is {values[row, column]}: every value must be a finite number"
        )
    return values


def _explain_unreadable(matrix: Any) -> str:
    # Only reached on failure, so a Python loop is fine here.
    try:
        rows = list(matrix)
    except TypeError:
        return "the matrix must be a list of rows (lists of numbers) or a 2-D array"
    lengths = []
    for row_index, row in enumerate(rows):
        try:
            cells = list(row)
        except TypeError:
            return f"matrix row {row_index} is not a list of numbers"
        lengths.append(len(cells))
        for column_index, cell in enumerate(cells):
            try:
                float(cell)
            except (TypeError, ValueError):
                return f"matrix row {row_index}, column {column_index} is not a number: {cell!r}"
    if lengths and len(set(lengths)) > 1:
        expected = lengths[0]
        row_index = next(i for i, length in enumerate(lengths) if length != expected)
        return f"matrix row {row_index} has {lengths[row_index]} values, row 0 has {expected}"
    return "the matrix must be a list of rows (lists of numbers) or a 2-D array"


def as_weights(weights: Any, criteria: int) -> np.ndarray:
    """Non-negative weights, one per criterion, rescaled to sum to 1 (any positive sum is accepted)."""
    values = _as_vector(weights, "weights", criteria)
    negative = values < 0
    if negative.any():
        index = int(np.argmax(negative))
        raise DecisionError(f"weights[{index}] = {values[index]:g} is negative: weights must be 0 or more")
    total = values.sum()
    if total <= 0:
        raise DecisionError("the weights sum to 0: at least one criterion needs a positive weight")
    return values / total


def as_directions(directions: Any, criteria: int) -> np.ndarray:
    """Directions as an int array of +1 (benefit: more is better) and -1 (cost: less is better)."""
    values = _as_vector(directions, "directions", criteria)
    bad = (values != 1) & (values != -1)
    if bad.any():
        index = int(np.argmax(bad))
        raise DecisionError(
            f"directions[{index}] = {values[index]:g}: use +1 for a benefit (more is better) "
            f"or -1 for a cost (less is better)"
        )
    return values.astype(np.int8)


def _as_vector(values: Any, name: str, length: int) -> np.ndarray:
    if isinstance(values, str | bytes):
        raise DecisionError(f"{name} must be a list of {length} numbers, got a string")
    try:
        vector = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        if isinstance(values, Sequence):
            for index, value in enumerate(values):
                try:
                    float(value)
                except (TypeError, ValueError):
                    raise DecisionError(f"{name}[{index}] is not a number: {value!r}") from exc
        raise DecisionError(f"{name} must be a list of {length} numbers") from exc
    if vector.ndim != 1 or vector.shape[0] != length:
        got = vector.shape[0] if vector.ndim == 1 else f"an array of shape {vector.shape}"
        raise DecisionError(f"{name}: expected {length} values (one per criterion), got {got}")
    if not np.isfinite(vector).all():
        index = int(np.argmax(~np.isfinite(vector)))
        raise DecisionError(f"{name}[{index}] is {vector[index]}: every value must be a finite number")
    return vector


def validated(matrix: Any, weights: Any, directions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three inputs every ranking method takes, checked against each other."""
    values = as_matrix(matrix)
    criteria = values.shape[1]
    return values, as_weights(weights, criteria), as_directions(directions, criteria)


def stable_order(scores: np.ndarray, *, descending: bool) -> list[int]:
    """Indices best first; ties keep the input order, so a ranking never depends on sort internals."""
    keys = -scores if descending else scores
    return np.argsort(keys, kind="stable").tolist()
