"""VIKOR and PROMETHEE II against published examples and against pymcdm."""

import numpy as np
import pytest

from partnerscope.decisions import DecisionError, promethee_ii, rank, vikor
from partnerscope.decisions.mcdm import _compromise

# Opricovic, S. & Tzeng, G.-H. (2004). Compromise solution by MCDM methods: A comparative analysis of
# VIKOR and TOPSIS. European Journal of Operational Research 156(2), 445–455, numerical example:
# A1 (1, 3000), A2 (2, 3750), A3 (5, 4500), the first criterion a cost, equal weights. Published
# Q = 1, 0, 1: A2 is the compromise solution (the same reference values pymcdm's test suite uses).
OPRICOVIC = [[1, 3000], [2, 3750], [5, 4500]]

# Yang, W. & Wu, Y. (2020). A new improvement method to avoid rank reversal in VIKOR. IEEE Access 8,
# 21261–21271: 5 alternatives × 4 benefit criteria, equal weights, v = 0.5; published
# Q = 0.5679, 0.7667, 1, 0.7493, 0.
YANG_WU = [[78, 56, 34, 6], [4, 45, 3, 97], [18, 2, 50, 63], [9, 14, 11, 92], [85, 9, 100, 29]]

# Zhao, H., Peng, Y. & Li, W. (2013). Revised PROMETHEE II for improving efficiency in emergency
# response. Procedia Computer Science 17, 181–188: 3 alternatives × 3 benefit criteria, weights
# (0.5, 0.3, 0.2), usual criterion; published net flows 0.1, −0.3, 0.2.
ZHAO = [[4, 3, 2], [3, 2, 4], [5, 1, 3]]


def test_it_reproduces_opricovic_and_tzengs_vikor_example():
    result = vikor(OPRICOVIC, [0.5, 0.5], [-1, 1])
    assert result.q.tolist() == [1, 0, 1]
    # By hand: S = (0.5, 0.375, 0.5), R = (0.5, 0.25, 0.5).
    assert np.allclose(result.s, [0.5, 0.375, 0.5]) and np.allclose(result.r, [0.5, 0.25, 0.5])
    assert result.ranking[0] == 1
    assert result.compromise == [1]
    assert result.acceptable_advantage and result.acceptable_stability


def test_it_reproduces_yang_and_wus_vikor_example():
    result = vikor(YANG_WU, [0.25] * 4, [1] * 4)
    assert np.round(result.q, 4).tolist() == [0.5679, 0.7667, 1, 0.7493, 0]
    assert result.ranking == [4, 0, 3, 1, 2]


def test_it_forms_opricovics_compromise_set():
    q, ranking = np.array([0, 1, 0.6]), [0, 2, 1]  # DQ = 1/2, and Q(A2) − Q(A1) = 0.6: an advantage
    # Both conditions hold (A1 is also best by S): the best by Q alone.
    assert _compromise(q, np.array([0.1, 0.5, 0.4]), np.array([0.1, 0.3, 0.2]), ranking) == ([0], True, True)
    # Stability fails (A1 best by neither S nor R): the first two by Q.
    assert _compromise(q, np.array([0.3, 0.1, 0.5]), np.array([0.3, 0.5, 0.1]), ranking) == (
        [0, 2],
        True,
        False,
    )
    # Advantage fails (DQ = 1/3): every alternative with Q − Q(A1) < DQ.
    q = np.array([0, 0.3, 0.45, 1])
    assert _compromise(q, q, q, [0, 1, 2, 3])[0] == [0, 1]


@pytest.mark.filterwarnings("ignore:Alternatives with indices:UserWarning")
def test_it_agrees_with_pymcdm_vikor(pymcdm):
    rng = np.random.default_rng(3)
    for v in (0.0, 0.3, 0.5, 1.0):
        matrix = rng.uniform(1, 50, size=(8, 5))
        weights = rng.uniform(0.1, 1, 5)
        weights /= weights.sum()
        directions = rng.choice([-1, 1], 5)
        assert np.allclose(
            vikor(matrix, weights, directions, v=v).q, pymcdm.methods.VIKOR(v=v)(matrix, weights, directions)
        )


def test_it_reproduces_zhao_peng_and_lis_promethee_example():
    result = promethee_ii(ZHAO, [0.5, 0.3, 0.2], [1, 1, 1])
    assert np.round(result.net_flow, 2).tolist() == [0.1, -0.3, 0.2]
    assert np.allclose(result.positive_flow, [0.55, 0.35, 0.6])
    assert np.allclose(result.negative_flow, [0.45, 0.65, 0.4])
    assert result.ranking == [2, 0, 1]
    assert result.preference_index[0, 1] == pytest.approx(0.8)  # better on criteria 1 and 2


@pytest.mark.filterwarnings("ignore:Alternatives with indices:UserWarning")
@pytest.mark.parametrize(
    ("ours", "theirs", "q", "p"),
    [
        ("usual", "usual", None, None),
        ("ushape", "ushape", 5.0, None),
        ("vshape", "vshape", None, 20.0),
        ("level", "level", 5.0, 20.0),
        ("linear", "vshape_2", 5.0, 20.0),
    ],
)
def test_it_agrees_with_pymcdm_promethee_ii(pymcdm, ours, theirs, q, p):
    rng = np.random.default_rng(11)
    for _ in range(10):
        matrix = rng.uniform(0, 100, size=(9, 4))
        weights = rng.uniform(0.1, 1, 4)
        weights /= weights.sum()
        directions = rng.choice([-1, 1], 4)
        qs = None if q is None else [q] * 4
        ps = None if p is None else [p] * 4
        expected = pymcdm.methods.PROMETHEE_II(theirs, p=ps, q=qs)(matrix, weights, directions)
        assert np.allclose(promethee_ii(matrix, weights, directions, ours, q=q, p=p).net_flow, expected)


def test_it_applies_the_gaussian_criterion():
    # One criterion, difference 2, s = 1: P = 1 − e^(−2²/2) = 1 − e^(−2).
    result = promethee_ii([[3], [1]], [1], [1], "gaussian", s=1)
    assert result.net_flow[0] == pytest.approx(1 - np.exp(-2))
    assert result.net_flow[1] == pytest.approx(-(1 - np.exp(-2)))


def test_it_takes_per_criterion_thresholds_in_each_criterions_unit():
    result = promethee_ii([[100, 1], [90, 2]], [0.5, 0.5], [1, 1], "vshape", p=[20, 2])
    # a over b: 10/20 on the first criterion; b over a: 1/2 on the second; net (0.25 − 0.25).
    assert np.allclose(result.net_flow, [0.0, 0.0])


def test_it_handles_many_alternatives_in_blocks():
    rng = np.random.default_rng(5)
    matrix = rng.uniform(0, 1, size=(1200, 3))
    result = promethee_ii(matrix, [0.2, 0.3, 0.5], [1, -1, 1])
    assert result.preference_index is None
    assert result.net_flow.sum() == pytest.approx(0, abs=1e-9)  # flows always balance
    small = promethee_ii(matrix[:300], [0.2, 0.3, 0.5], [1, -1, 1])
    assert np.allclose(small.preference_index.sum(axis=1) / 299, small.positive_flow)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preference": "ushape"}, "needs the threshold q"),
        ({"preference": "level", "q": 1}, "needs the threshold p"),
        ({"preference": "usual", "q": 1}, "takes no q"),
        ({"preference": "linear", "q": 3, "p": 2}, "criterion 0: the indifference threshold q"),
        ({"preference": "vshape", "p": [1, 0]}, r"p\[1\] = 0"),
        ({"preference": "vshape", "p": [1, 2, 3]}, "one number per criterion"),
        ({"preference": "sigmoid"}, "unknown preference function 'sigmoid'"),
    ],
)
def test_it_refuses_bad_preference_settings(options, message):
    with pytest.raises(DecisionError, match=message):
        promethee_ii([[1, 2], [2, 1]], [0.5, 0.5], [1, 1], **options)


def test_it_refuses_v_outside_zero_to_one():
    with pytest.raises(DecisionError, match="v = 1.5"):
        vikor(OPRICOVIC, [0.5, 0.5], [-1, 1], v=1.5)


def test_it_scores_vikor_as_one_minus_q_in_the_common_entry_point():
    ranking = rank("vikor", OPRICOVIC, [0.5, 0.5], [-1, 1])
    assert ranking.scores.tolist() == [0, 1, 0]
    assert ranking.score_label == "1 − Q"
    assert ranking.ranking[0] == 1
    assert rank("promethee_ii", ZHAO, [0.5, 0.3, 0.2], [1, 1, 1]).ranking == [2, 0, 1]
    with pytest.raises(DecisionError, match="unknown method 'electre'"):
        rank("electre", ZHAO, [0.5, 0.3, 0.2], [1, 1, 1])
    with pytest.raises(DecisionError, match="vikor takes no option normalization"):
        rank("vikor", ZHAO, [0.5, 0.3, 0.2], [1, 1, 1], normalization="vector")
