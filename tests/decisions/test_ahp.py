"""AHP against Saaty's published examples; consistency checks and the refusal of inconsistent judgements."""

import numpy as np
import pytest

from partnerscope.decisions import RANDOM_INDEX, DecisionError, InconsistentJudgements, ahp, ahp_weights

# Saaty, T. L. (2008). Decision making with the analytic hierarchy process. International Journal of
# Services Sciences 1(1), 83–98: "Which drink is consumed more in the U.S.?" (coffee, wine, tea, beer,
# sodas, milk, water). Published derived scale .177 .019 .042 .116 .190 .129 .327, consistency
# ratio .022.
DRINKS = [
    [1, 9, 5, 2, 1, 1, 1 / 2],
    [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
    [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2],
    [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [2, 9, 9, 3, 2, 3, 1],
]


def test_it_uses_saatys_random_index_table():
    assert RANDOM_INDEX == {
        1: 0,
        2: 0,
        3: 0.58,
        4: 0.90,
        5: 1.12,
        6: 1.24,
        7: 1.32,
        8: 1.41,
        9: 1.45,
        10: 1.49,
    }


def test_it_reproduces_saatys_drinks_example():
    result = ahp(DRINKS)
    assert np.round(result.weights, 3).tolist() == [0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327]
    assert round(result.cr, 3) == 0.022
    assert result.ri == 1.32
    assert result.ci == pytest.approx((result.lambda_max - 7) / 6)
    assert result.cr == pytest.approx(result.ci / 1.32)
    assert result.consistent


def pairwise(names, judgements):
    matrix = np.ones((len(names), len(names)))
    for (a, b), value in judgements.items():
        i, j = names.index(a), names.index(b)
        matrix[i, j], matrix[j, i] = value, 1 / value
    return matrix


def test_it_reproduces_saatys_choice_of_a_city_through_a_hierarchy():
    # Saaty, T. L. (2005). Theory and Applications of the Analytic Network Process. RWS Publications:
    # the best city to live in, five criteria over four cities; published overall priorities Bethesda
    # .229, Boston .275, Pittsburgh .385, Santa Fe .111 (the judgements as transcribed in the test
    # suite of the AHPy library).
    criteria = ["Culture", "Family", "Housing", "Jobs", "Transportation"]
    cities = ["Bethesda", "Boston", "Pittsburgh", "Santa Fe"]
    goal = pairwise(
        criteria,
        {
            ("Culture", "Housing"): 3, ("Culture", "Transportation"): 5, ("Family", "Culture"): 5,
            ("Family", "Housing"): 7, ("Family", "Transportation"): 7, ("Housing", "Transportation"): 3,
            ("Jobs", "Culture"): 2, ("Jobs", "Housing"): 4, ("Jobs", "Transportation"): 7, ("Family", "Jobs"): 1,
        },
    )  # fmt: skip
    by_criterion = [
        {("Bethesda", "Pittsburgh"): 1, ("Boston", "Bethesda"): 2, ("Boston", "Pittsburgh"): 2.5,
         ("Boston", "Santa Fe"): 1, ("Santa Fe", "Bethesda"): 2, ("Santa Fe", "Pittsburgh"): 2.5},
        {("Bethesda", "Boston"): 2, ("Bethesda", "Santa Fe"): 4, ("Boston", "Santa Fe"): 2,
         ("Pittsburgh", "Bethesda"): 3, ("Pittsburgh", "Boston"): 8, ("Pittsburgh", "Santa Fe"): 9},
        {("Bethesda", "Boston"): 5, ("Bethesda", "Santa Fe"): 2.5, ("Pittsburgh", "Bethesda"): 2,
         ("Pittsburgh", "Boston"): 9, ("Pittsburgh", "Santa Fe"): 7, ("Santa Fe", "Boston"): 4},
        {("Bethesda", "Pittsburgh"): 3, ("Bethesda", "Santa Fe"): 4, ("Boston", "Bethesda"): 2,
         ("Boston", "Pittsburgh"): 6, ("Boston", "Santa Fe"): 8, ("Pittsburgh", "Santa Fe"): 1},
        {("Bethesda", "Boston"): 1.5, ("Bethesda", "Santa Fe"): 4, ("Boston", "Santa Fe"): 2.5,
         ("Pittsburgh", "Bethesda"): 2, ("Pittsburgh", "Boston"): 3.5, ("Pittsburgh", "Santa Fe"): 9},
    ]  # fmt: skip
    local = np.array([ahp_weights(pairwise(cities, judgements)).weights for judgements in by_criterion])
    overall = local.T @ ahp_weights(goal).weights
    assert np.round(overall, 3).tolist() == [0.229, 0.275, 0.385, 0.111]


def test_it_gives_a_consistent_matrix_a_consistency_ratio_of_zero():
    weights = np.array([0.5, 0.25, 0.15, 0.1])
    result = ahp(weights[:, None] / weights[None, :])
    assert np.allclose(result.weights, weights)
    assert result.lambda_max == pytest.approx(4)
    assert result.ci == 0 and result.cr == 0
    assert result.most_inconsistent is None


def test_it_calls_two_elements_always_consistent():
    result = ahp([[1, 7], [1 / 7, 1]])
    assert np.allclose(result.weights, [7 / 8, 1 / 8])
    assert result.cr == 0 and result.consistent and result.ri == 0


def test_it_refuses_an_inconsistent_matrix_and_points_at_the_judgement():
    # A is 3× B and B is 3× C, so A should be about 9× C; "A is 1/5 of C" contradicts both.
    judgements = [[1, 3, 1 / 5, 2], [1 / 3, 1, 3, 1], [5, 1 / 3, 1, 1], [1 / 2, 1, 1, 1]]
    result = ahp(judgements)
    assert result.cr > 0.10 and not result.consistent
    i, j, given, implied = result.most_inconsistent
    assert (i, j, given) == (0, 2, 0.2)
    assert implied > 3 * given  # the weights put A much closer to C than one fifth
    with pytest.raises(InconsistentJudgements) as raised:
        ahp_weights(judgements)
    assert isinstance(raised.value, DecisionError)
    assert raised.value.result.cr == result.cr
    message = str(raised.value)
    assert "element 0 with element 2 (row 0, column 2)" in message
    assert "says 0.2" in message


def test_it_accepts_a_looser_limit_when_asked():
    judgements = [[1, 3, 1 / 5, 2], [1 / 3, 1, 3, 1], [5, 1 / 3, 1, 1], [1 / 2, 1, 1, 1]]
    assert ahp_weights(judgements, max_cr=10).cr > 0.10


def test_it_accepts_rounded_reciprocals_and_uses_the_upper_triangle():
    exact = ahp([[1, 3, 5], [1 / 3, 1, 2], [1 / 5, 1 / 2, 1]])
    rounded = ahp([[1, 3, 5], [0.33, 1, 2], [0.2, 0.5, 1]])
    assert np.allclose(exact.weights, rounded.weights)


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[1, 2, 3], [0.5, 1, 2]], "square matrix"),
        ([[1]], "at least 2 elements"),
        ([[1, -2], [-0.5, 1]], r"pairwise\[0\]\[1\] = -2"),
        ([[1, 0], [0, 1]], r"pairwise\[0\]\[1\] = 0"),
        ([[1, np.nan], [1, 1]], r"pairwise\[0\]\[1\] = nan"),
        ([[2, 3], [1 / 3, 1]], r"pairwise\[0\]\[0\] = 2: an element compared with itself is 1"),
        ([[1, 3], [3, 1]], r"pairwise\[1\]\[0\] = 3 is not the reciprocal of pairwise\[0\]\[1\] = 3"),
        (np.ones((11, 11)), "11 elements compared at once"),
        ([["a", "b"], ["c", "d"]], "square matrix of numbers"),
    ],
)
def test_it_refuses_malformed_comparisons_naming_the_cell(matrix, message):
    with pytest.raises(DecisionError, match=message):
        ahp(matrix)
