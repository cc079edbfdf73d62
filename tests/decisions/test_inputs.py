"""Hostile and malformed input: every method answers with a DecisionError naming the culprit."""

import numpy as np
import pytest

from partnerscope.decisions import DecisionError, promethee_ii, topsis, vikor, weight_sensitivity

GOOD = [[1.0, 2.0, 3.0], [2.0, 1.0, 4.0], [3.0, 3.0, 1.0]]
METHODS = [topsis, vikor, promethee_ii, weight_sensitivity]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("matrix", "weights", "directions", "message"),
    [
        ([[1, 2, 3], [1, 2], [3, 3, 1]], [1, 1, 1], [1, 1, 1], "matrix row 1 has 2 values, row 0 has 3"),
        ([[1, 2, 3], [2, "x", 4], [3, 3, 1]], [1, 1, 1], [1, 1, 1], "row 1, column 1 is not a number: 'x'"),
        ([[1, 2, 3], [2, 1, 4], [3, 3, np.nan]], [1, 1, 1], [1, 1, 1], "row 2, column 2 is nan"),
        ([[1, 2, 3], [np.inf, 1, 4], [3, 3, 1]], [1, 1, 1], [1, 1, 1], "row 1, column 0 is inf"),
        ([[1, 2, 3]], [1, 1, 1], [1, 1, 1], "at least 2 alternatives"),
        ([1, 2, 3], [1, 1, 1], [1, 1, 1], "2 dimensions"),
        ("not a matrix", [1, 1, 1], [1, 1, 1], "got a string"),
        (GOOD, [1, 1], [1, 1, 1], "weights: expected 3 values"),
        (GOOD, [0.5, -0.1, 0.6], [1, 1, 1], r"weights\[1\] = -0.1 is negative"),
        (GOOD, [0, 0, 0], [1, 1, 1], "sum to 0"),
        (GOOD, [1, np.nan, 1], [1, 1, 1], r"weights\[1\] is nan"),
        (GOOD, [1, "heavy", 1], [1, 1, 1], r"weights\[1\] is not a number"),
        (GOOD, [1, 1, 1], [1, 0, -1], r"directions\[1\] = 0"),
        (GOOD, [1, 1, 1], [1, 1, 2], r"directions\[2\] = 2"),
        (GOOD, [1, 1, 1], [1, 1], "directions: expected 3 values"),
        (GOOD, [1, 1, 1], "+-+", "directions must be a list of 3 numbers, got a string"),
    ],
)
def test_it_names_the_offending_index(method, matrix, weights, directions, message):
    with pytest.raises(DecisionError, match=message):
        method(matrix, weights, directions)


def test_it_is_a_value_error_for_callers_that_catch_those():
    with pytest.raises(ValueError):
        topsis(GOOD, [1, 1], [1, 1, 1])


def test_it_accepts_zero_weights_for_criteria_to_ignore():
    assert np.allclose(topsis(GOOD, [1, 0, 0], [1, 1, 1]), topsis(np.array(GOOD)[:, :1], [1], [1]))


def test_it_does_not_modify_the_callers_arrays():
    matrix = np.array(GOOD)
    weights = np.array([2.0, 1.0, 1.0])
    for method in METHODS:
        method(matrix, weights, [1, -1, 1])
    assert matrix.tolist() == GOOD and weights.tolist() == [2.0, 1.0, 1.0]
