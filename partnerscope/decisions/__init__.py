"""Decision methods for sourcing and planning, in plain Python and NumPy (no Django).

Ranking (TOPSIS, VIKOR, PROMETHEE II) and its weight sensitivity, AHP weights from pairwise
comparisons, the hire-vs-outsource cost model and the capacity-planning MILP. The Django apps call
these; docs/DECISIONS.md documents the formulas and the published examples the tests reproduce.
"""

from .ahp import RANDOM_INDEX, AhpResult, ahp, ahp_weights
from .capacity import CapacityIndex, CapacityModel, CapacityPlan, VendorOffer, build_highs, solve_capacity
from .costmodel import (
    DEFAULT_INPUTS,
    BreakEven,
    CostInputs,
    CostResult,
    Input,
    OptionResult,
    Percentiles,
    TornadoBar,
    simulate_costs,
)
from .errors import DecisionError, InconsistentJudgements
from .mcdm import (
    PrometheeResult,
    Ranking,
    TopsisResult,
    VikorResult,
    promethee_ii,
    rank,
    topsis,
    topsis_details,
    vikor,
)
from .sensitivity import WeightRange, weight_sensitivity

__all__ = [
    "DEFAULT_INPUTS",
    "RANDOM_INDEX",
    "AhpResult",
    "BreakEven",
    "CapacityIndex",
    "CapacityModel",
    "CapacityPlan",
    "CostInputs",
    "CostResult",
    "DecisionError",
    "InconsistentJudgements",
    "Input",
    "OptionResult",
    "Percentiles",
    "PrometheeResult",
    "Ranking",
    "TopsisResult",
    "TornadoBar",
    "VendorOffer",
    "VikorResult",
    "WeightRange",
    "ahp",
    "ahp_weights",
    "build_highs",
    "promethee_ii",
    "rank",
    "simulate_costs",
    "solve_capacity",
    "topsis",
    "topsis_details",
    "vikor",
    "weight_sensitivity",
]
