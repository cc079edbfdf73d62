"""Weight sensitivity: constructed cases whose flip points are computed by hand."""

import numpy as np
import pytest

from partnerscope.decisions import DecisionError, rank, weight_sensitivity


def test_it_finds_the_weight_where_the_top_choice_flips():
    # Vector normalisation divides both columns by √10. With weights (w, 1 − w) the closeness of
    # alternative 0 is exactly w and that of alternative 1 is 1 − w, so the top flips at w = 0.5.
    first, second = weight_sensitivity([[3, 1], [1, 3]], [0.6, 0.4], [1, 1])
    assert (first.criterion, first.weight) == (0, pytest.approx(0.6))
    assert first.low == pytest.approx(0.5, abs=1e-9) and first.high == 1.0
    assert (first.top_at_low, first.top_at_high) == (1, None)
    assert second.low == 0.0 and second.high == pytest.approx(0.5, abs=1e-9)
    assert (second.top_at_low, second.top_at_high) == (None, 1)


def test_it_rescales_the_other_weights_proportionally():
    # A third, constant criterion takes weight but separates nobody, and closeness of alternative 0
    # is w0 / (w0 + w1). Moving w0 = t leaves w1 = 0.3 / 0.5 · (1 − t): a flip at t = 0.6 (1 − t),
    # t = 0.375. Moving w1 = t leaves w0 = 0.5 / 0.7 · (1 − t): a flip at t = 5 / 12.
    first, second, third = weight_sensitivity([[3, 1, 2], [1, 3, 2]], [0.5, 0.3, 0.2], [1, 1, 1])
    assert first.low == pytest.approx(0.375, abs=1e-9) and first.top_at_low == 1
    assert second.high == pytest.approx(5 / 12, abs=1e-9) and second.top_at_high == 1
    assert (third.low, third.high, third.top_at_low, third.top_at_high) == (0.0, 1.0, None, None)


@pytest.mark.parametrize("method", ["topsis", "vikor", "promethee_ii"])
def test_it_agrees_with_ranking_again_at_the_boundaries(method):
    rng = np.random.default_rng(2)
    matrix = rng.uniform(1, 10, size=(12, 5))
    weights = np.array([0.3, 0.2, 0.2, 0.2, 0.1])
    directions = [1, -1, 1, 1, -1]
    top = rank(method, matrix, weights, directions).ranking[0]
    for span in weight_sensitivity(matrix, weights, directions, method):
        assert span.low <= span.weight <= span.high
        for bound, new_top, step in ((span.high, span.top_at_high, 1e-6), (span.low, span.top_at_low, -1e-6)):
            moved = _moved(weights, span.criterion, bound + step)
            if new_top is None:
                continue
            assert rank(method, matrix, moved, directions).ranking[0] == new_top != top
            inside = _moved(weights, span.criterion, bound - step)
            assert rank(method, matrix, inside, directions).ranking[0] == top


def _moved(weights, criterion, value):
    others = np.delete(np.arange(weights.size), criterion)
    moved = weights.copy()
    moved[criterion] = value
    moved[others] = weights[others] * (1 - value) / (1 - weights[criterion])
    return moved


def test_it_passes_method_options_through():
    ranges = weight_sensitivity(
        [[3, 1], [1, 3]], [0.6, 0.4], [1, 1], "promethee_ii", preference="vshape", p=4
    )
    assert ranges[0].low == pytest.approx(0.5, abs=1e-9)
    with pytest.raises(DecisionError, match="topsis takes no option v"):
        weight_sensitivity([[3, 1], [1, 3]], [0.6, 0.4], [1, 1], "topsis", v=0.5)
    with pytest.raises(DecisionError, match="unknown method"):
        weight_sensitivity([[3, 1], [1, 3]], [0.6, 0.4], [1, 1], "electre")
