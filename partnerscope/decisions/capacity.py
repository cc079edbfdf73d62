"""Capacity planning across vendors as a mixed-integer program solved by HiGHS.

Plain dataclasses in (CapacityModel, VendorOffer), a plain dataclass out (CapacityPlan). The model:

* x[v, k, t] integer FTE of skill k bought from vendor v in month t, 0 ≤ x ≤ the offer's headcount;
* unmet[k, t] ≥ 0 continuous, penalised, so a plan always exists and shortfalls are shown, not hidden;
* in-house people are used first: they are paid anyway, so only demand above them is bought;
* per vendor and month, on the team total X[v, t] = Σ_k x[v, k, t]: minimum commitment and flex band
  (contracted vendors), quality floor (no more than the current baseline), growth and shrink limits
  between consecutive months, and no FTE before the first usable month;
* minimise Σ rate · x + penalty · Σ unmet.

The whole matrix is built with NumPy index arithmetic and passed to HiGHS in one call, so building a
model with 50,000 integer variables takes a small fraction of solving it. Formulation in
docs/DECISIONS.md; the words for binding constraints and conflicts are in capacity_explain.py.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import DecisionError


@dataclass
class VendorOffer:
    key: str
    name: str
    skills: dict[str, tuple[float, float]]  # skill -> (monthly rate per FTE, max headcount)
    contracted: bool = False  # a signed contract: minimum commitment and flex band always apply
    # Total FTE per month across skills. Contracted: always; not contracted: only if the vendor is used
    # at all (signing its offer means honouring its minimum in every usable month).
    min_commitment_fte: float = 0.0
    baseline_fte: float = 0.0  # the contracted (or current) team size
    flex_band: float | None = None  # 0.2: the total stays within baseline × (1 ± 0.2); contracted only
    max_shrink_per_month: float | None = None  # notice: the total may drop at most this much a month
    max_growth_per_month: float | None = None  # ramp-up: the total may rise at most this much a month
    ramp_lead_months: int = 0  # first usable month (index into the months): no FTE before it
    allowed: bool = True  # False: below the quality floor, no more work than its baseline
    current_fte: float | None = None  # team before the first month; None: baseline if contracted, else 0

    def starting_fte(self) -> float:
        if self.current_fte is not None:
            return self.current_fte
        return self.baseline_fte if self.contracted else 0.0


@dataclass
class CapacityModel:
    months: list[str]
    skills: list[str]
    demand: dict[tuple[str, str], float]  # (skill, month) -> FTE needed
    inhouse: dict[tuple[str, str], float] = field(default_factory=dict)  # (skill, month) -> FTE available
    vendors: list[VendorOffer] = field(default_factory=list)
    unmet_penalty: float | None = None  # per unmet FTE-month; None: 10 × the highest rate offered
    mip_gap: float = 0.001
    time_limit_s: float = 60.0


@dataclass
class CapacityPlan:
    status: str  # "optimal", "time limit" (best plan found so far, see gap), "infeasible", …
    gap: float  # relative MIP gap HiGHS proved (0.001 = 0.1 %), inf without a solution
    objective: float  # cost + penalty × unmet
    cost: float  # vendor cost only
    allocations: list[tuple[str, str, str, float, float]]  # (vendor key, skill, month, fte, cost)
    unmet: list[tuple[str, str, float]]  # (skill, month, fte) wherever demand is not covered
    binding: list[str]  # binding constraints in words
    conflicts: list[str]  # why the model is infeasible, in words
    unmet_penalty: float = 0.0
    message: str = ""  # why there is no plan, when there is none
    build_seconds: float = 0.0
    solve_seconds: float = 0.0


@dataclass
class CapacityIndex:
    """Where each variable and row of the HiGHS model sits, for reading the solution back."""

    months: list[str]
    skills: list[str]
    vendors: list[VendorOffer]
    residual: np.ndarray  # skills × months: demand above in-house capacity
    col_vendor: np.ndarray  # per x column: vendor index
    col_skill: np.ndarray  # per x column: skill index
    col_month: np.ndarray  # per x column: month index
    col_rate: np.ndarray  # per x column: monthly rate
    col_cap: np.ndarray  # per x column: upper bound (0 before the first usable month)
    unmet_start: int  # first unmet column; unmet[k, t] is column unmet_start + k·months + t
    signed: dict[int, int]  # vendor index -> its "signed" binary column (uncontracted minimums)
    lower: np.ndarray  # vendors × months: lower limit on the team total (0 if none)
    upper: np.ndarray  # vendors × months: upper limit on the team total (capacity at most)
    penalty: float


def validate(model: CapacityModel) -> None:
    """Raise DecisionError naming the field for anything the solver should never see."""
    if not model.months:
        raise DecisionError("the capacity model has no months")
    if not model.skills:
        raise DecisionError("the capacity model has no skills")
    for name, items in (("months", model.months), ("skills", model.skills)):
        seen = set()
        for item in items:
            if item in seen:
                raise DecisionError(f"{name}: {item!r} appears twice")
            seen.add(item)
    months, skills = set(model.months), set(model.skills)
    for name, table in (("demand", model.demand), ("inhouse", model.inhouse)):
        for key, value in table.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise DecisionError(f"{name}: keys are (skill, month), got {key!r}")
            skill, month = key
            if skill not in skills:
                raise DecisionError(f"{name}[{key!r}]: unknown skill {skill!r}")
            if month not in months:
                raise DecisionError(f"{name}[{key!r}]: unknown month {month!r}")
            _non_negative(f"{name}[{key!r}]", value)
    keys = set()
    for vendor in model.vendors:
        _validate_vendor(vendor, skills, len(model.months))
        if vendor.key in keys:
            raise DecisionError(f"vendor key {vendor.key!r} appears twice")
        keys.add(vendor.key)
    if model.unmet_penalty is not None:
        _non_negative("unmet_penalty", model.unmet_penalty, strictly=True)
    if not 0 <= float(model.mip_gap) < 1:
        raise DecisionError(f"mip_gap = {model.mip_gap}: use a share between 0 and 1 (0.001 = 0.1 %)")
    _non_negative("time_limit_s", model.time_limit_s, strictly=True)


def _validate_vendor(vendor: VendorOffer, skills: set, month_count: int) -> None:
    label = f"vendor {vendor.key!r}"
    if not vendor.skills:
        raise DecisionError(f"{label}: offers no skills")
    for skill, offer in vendor.skills.items():
        if skill not in skills:
            raise DecisionError(f"{label}: unknown skill {skill!r}")
        if not (isinstance(offer, tuple | list) and len(offer) == 2):
            raise DecisionError(f"{label}: skill {skill!r} needs (monthly rate per FTE, max headcount)")
        _non_negative(f"{label}: rate for {skill!r}", offer[0])
        _non_negative(f"{label}: max headcount for {skill!r}", offer[1])
    for name in ("min_commitment_fte", "baseline_fte", "current_fte"):
        value = getattr(vendor, name)
        if value is not None:
            _non_negative(f"{label}: {name}", value)
    for name in ("max_shrink_per_month", "max_growth_per_month"):
        value = getattr(vendor, name)
        if value is not None:
            _non_negative(f"{label}: {name}", value)
    if vendor.flex_band is not None:
        if not vendor.contracted:
            raise DecisionError(f"{label}: a flex band needs a contract (contracted=True) and its baseline")
        if not 0 <= float(vendor.flex_band) <= 1:
            raise DecisionError(f"{label}: flex_band = {vendor.flex_band}: use a share between 0 and 1")
    lead = vendor.ramp_lead_months
    if isinstance(lead, bool) or not isinstance(lead, int) or not 0 <= lead <= month_count:
        raise DecisionError(
            f"{label}: ramp_lead_months must be a whole number of months from 0 to {month_count}"
        )


def _non_negative(label: str, value, *, strictly: bool = False) -> None:
    if isinstance(value, bool):
        raise DecisionError(f"{label}: {value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise DecisionError(f"{label}: {value!r} is not a number") from exc
    if not math.isfinite(number) or number < 0 or (strictly and number == 0):
        raise DecisionError(
            f"{label}: {value!r} must be a {'positive' if strictly else 'non-negative'} number"
        )


def total_limits(model: CapacityModel) -> tuple[np.ndarray, np.ndarray]:
    """Per vendor and month, the lower and upper limit on the team total, from its own terms alone.

    Lower: minimum commitment and flex band floor (contracted vendors), from the first usable month.
    Upper: whole headcount offered, flex band ceiling, quality floor; 0 before the first usable month.
    Limits are rounded inwards to whole FTE, as the team total is a whole number.
    """
    count, months = len(model.vendors), len(model.months)
    lower = np.zeros((count, months))
    upper = np.zeros((count, months))
    for index, vendor in enumerate(model.vendors):
        low, high = vendor_limits(vendor)
        lower[index, vendor.ramp_lead_months :] = low if vendor.contracted else 0.0
        upper[index, vendor.ramp_lead_months :] = high
    return np.ceil(lower - 1e-9), np.floor(upper + 1e-9)


def vendor_limits(vendor: VendorOffer) -> tuple[float, float]:
    """(lowest, highest) team total in a usable month by the vendor's own terms, before rounding."""
    capacity = float(sum(math.floor(cap + 1e-9) for _, cap in vendor.skills.values()))
    low, high = float(vendor.min_commitment_fte), capacity
    if vendor.contracted and vendor.flex_band is not None:
        low = max(low, vendor.baseline_fte * (1 - vendor.flex_band))
        high = min(high, vendor.baseline_fte * (1 + vendor.flex_band))
    if not vendor.allowed:
        high = min(high, vendor.baseline_fte)
    return low, high


def default_penalty(model: CapacityModel) -> float:
    rates = [rate for vendor in model.vendors for rate, _ in vendor.skills.values()]
    return 10.0 * max(rates) if rates and max(rates) > 0 else 1.0


def build_highs(model: CapacityModel):
    """The HiGHS model of ``model`` and a :class:`CapacityIndex` to read its solution.

    Everything is assembled as NumPy arrays (costs, bounds, a column-wise sparse matrix) and handed to
    HiGHS with a single passModel call.
    """
    import highspy  # imported here: only planning needs the solver

    validate(model)
    index = _index(model)
    rows = _Rows()
    _coverage_rows(index, rows)
    _vendor_rows(model, index, rows)
    count_x = index.col_vendor.size
    count_unmet = len(model.skills) * len(model.months)
    count_signed = len(index.signed)
    columns = count_x + count_unmet + count_signed

    lp = highspy.HighsLp()
    lp.num_col_ = columns
    lp.num_row_ = rows.count
    lp.col_cost_ = np.concatenate(
        [index.col_rate, np.full(count_unmet, index.penalty), np.zeros(count_signed)]
    )
    lp.col_lower_ = np.zeros(columns)
    lp.col_upper_ = np.concatenate([index.col_cap, np.full(count_unmet, np.inf), np.ones(count_signed)])
    lp.row_lower_ = np.asarray(rows.lower, dtype=float)
    lp.row_upper_ = np.asarray(rows.upper, dtype=float)
    row_index, col_index, values = rows.entries()
    order = np.lexsort((row_index, col_index))  # column-wise, rows ascending within a column
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.num_col_ = columns
    lp.a_matrix_.num_row_ = rows.count
    lp.a_matrix_.start_ = np.searchsorted(col_index[order], np.arange(columns + 1)).astype(np.int32)
    lp.a_matrix_.index_ = row_index[order].astype(np.int32)
    lp.a_matrix_.value_ = values[order]
    integer, continuous = highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous
    lp.integrality_ = [integer] * count_x + [continuous] * count_unmet + [integer] * count_signed

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", float(model.mip_gap))
    highs.setOptionValue("time_limit", float(model.time_limit_s))
    highs.passModel(lp)
    return highs, index


def _index(model: CapacityModel) -> CapacityIndex:
    months, skills = len(model.months), len(model.skills)
    skill_position = {skill: position for position, skill in enumerate(model.skills)}
    month_position = {month: position for position, month in enumerate(model.months)}
    demand = np.zeros((skills, months))
    inhouse = np.zeros((skills, months))
    for table, target in ((model.demand, demand), (model.inhouse, inhouse)):
        for (skill, month), value in table.items():
            target[skill_position[skill], month_position[month]] = float(value)
    # One entry per (vendor, offered skill); columns are these pairs × months, month fastest.
    pair_vendor, pair_skill, pair_rate, pair_cap, pair_lead = [], [], [], [], []
    for vendor_index, vendor in enumerate(model.vendors):
        for skill, (rate, cap) in vendor.skills.items():
            pair_vendor.append(vendor_index)
            pair_skill.append(skill_position[skill])
            pair_rate.append(float(rate))
            pair_cap.append(math.floor(float(cap) + 1e-9))
            pair_lead.append(vendor.ramp_lead_months)
    pairs = len(pair_vendor)
    col_month = np.tile(np.arange(months), pairs)
    col_cap = np.repeat(np.asarray(pair_cap, dtype=float), months)
    col_cap[col_month < np.repeat(np.asarray(pair_lead, dtype=int), months)] = 0.0
    lower, upper = total_limits(model)
    signed = {}
    next_column = pairs * months + skills * months
    for vendor_index, vendor in enumerate(model.vendors):
        if not vendor.contracted and vendor.min_commitment_fte > 0:
            signed[vendor_index] = next_column
            next_column += 1
    return CapacityIndex(
        months=list(model.months),
        skills=list(model.skills),
        vendors=list(model.vendors),
        residual=np.clip(demand - inhouse, 0.0, None),
        col_vendor=np.repeat(np.asarray(pair_vendor, dtype=int), months),
        col_skill=np.repeat(np.asarray(pair_skill, dtype=int), months),
        col_month=col_month,
        col_rate=np.repeat(np.asarray(pair_rate, dtype=float), months),
        col_cap=col_cap,
        unmet_start=pairs * months,
        signed=signed,
        lower=lower,
        upper=upper,
        penalty=float(model.unmet_penalty) if model.unmet_penalty is not None else default_penalty(model),
    )


class _Rows:
    """Rows collected as blocks of NumPy arrays (coordinate format), turned into one matrix at the end."""

    def __init__(self):
        self.count = 0
        self.lower, self.upper = [], []
        self._rows, self._cols, self._values = [], [], []

    def add(self, lower, upper) -> np.ndarray:
        lower, upper = (
            np.atleast_1d(np.asarray(lower, dtype=float)),
            np.atleast_1d(np.asarray(upper, dtype=float)),
        )
        first = self.count
        self.count += lower.size
        self.lower.extend(lower.tolist())
        self.upper.extend(upper.tolist())
        return np.arange(first, self.count)

    def entries_for(self, rows, cols, values) -> None:
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        self._rows.append(rows)
        self._cols.append(cols)
        self._values.append(np.broadcast_to(np.asarray(values, dtype=float), rows.shape))

    def entries(self):
        if not self._rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(self._rows), np.concatenate(self._cols), np.concatenate(self._values)


def _coverage_rows(index: CapacityIndex, rows: _Rows) -> None:
    # Σ_v x[v, k, t] + unmet[k, t] ≥ residual demand[k, t]
    skills, months = index.residual.shape
    first = rows.add(index.residual.ravel(), np.full(skills * months, np.inf))[0]
    columns = np.arange(index.col_vendor.size)
    rows.entries_for(first + index.col_skill * months + index.col_month, columns, 1.0)
    cells = np.arange(skills * months)
    rows.entries_for(first + cells, index.unmet_start + cells, 1.0)


def _vendor_rows(model: CapacityModel, index: CapacityIndex, rows: _Rows) -> None:
    months = len(model.months)
    # Columns are grouped by vendor (pairs in vendor order, months within a pair): one slice each.
    bounds = np.searchsorted(index.col_vendor, np.arange(len(model.vendors) + 1))
    for vendor_index, vendor in enumerate(model.vendors):
        own = np.arange(bounds[vendor_index], bounds[vendor_index + 1])
        own_month = index.col_month[own]
        lead = vendor.ramp_lead_months
        usable = np.arange(lead, months)
        capacity = float(sum(math.floor(cap + 1e-9) for _, cap in vendor.skills.values()))
        low, high = index.lower[vendor_index], index.upper[vendor_index]
        if vendor_index in index.signed and usable.size:
            # Not contracted, with a minimum: X[v, t] ≥ min · signed and X[v, t] ≤ capacity · signed.
            signed = index.signed[vendor_index]
            minimum = math.ceil(vendor.min_commitment_fte - 1e-9)
            first = rows.add(np.zeros(usable.size), np.full(usable.size, np.inf))[0]
            rows.entries_for(first + own_month[own_month >= lead] - lead, own[own_month >= lead], 1.0)
            rows.entries_for(first + np.arange(usable.size), np.full(usable.size, signed), -float(minimum))
            first = rows.add(np.full(usable.size, -np.inf), np.zeros(usable.size))[0]
            rows.entries_for(first + own_month[own_month >= lead] - lead, own[own_month >= lead], 1.0)
            rows.entries_for(first + np.arange(usable.size), np.full(usable.size, signed), -capacity)
        needs_total = (low[usable] > 0).any() or (high[usable] < capacity).any()
        if needs_total and usable.size:
            # lower[v, t] ≤ X[v, t] ≤ upper[v, t]
            first = rows.add(low[usable], high[usable])[0]
            mask = own_month >= lead
            rows.entries_for(first + own_month[mask] - lead, own[mask], 1.0)
        shrink = vendor.max_shrink_per_month
        growth = vendor.max_growth_per_month
        if shrink is None and growth is None:
            continue
        # −shrink ≤ X[v, t] − X[v, t−1] ≤ growth; in the first month X[v, −1] is the current team.
        down = -np.inf if shrink is None else -float(shrink)
        up = np.inf if growth is None else float(growth)
        current = vendor.starting_fte()
        lower_bounds = np.full(months, down)
        upper_bounds = np.full(months, up)
        lower_bounds[0] += current
        upper_bounds[0] += current
        first = rows.add(lower_bounds, upper_bounds)[0]
        rows.entries_for(first + own_month, own, 1.0)
        later = own_month < months - 1
        rows.entries_for(first + own_month[later] + 1, own[later], -1.0)


def solve_capacity(model: CapacityModel) -> CapacityPlan:
    """Solve the plan; an infeasible model comes back with status "infeasible" and its conflicts in words."""
    import highspy

    from .capacity_explain import binding_constraints, conflicts  # it imports this module

    validate(model)
    penalty = float(model.unmet_penalty) if model.unmet_penalty is not None else default_penalty(model)
    found = conflicts(model)
    if found:
        return _empty_plan("infeasible", found, penalty, "the vendors' terms conflict: " + "; ".join(found))
    started = time.perf_counter()
    highs, index = build_highs(model)
    built = time.perf_counter()
    highs.run()
    solved = time.perf_counter()
    status = _status(highs)
    info = highs.getInfo()
    if int(info.primal_solution_status) != int(highspy.SolutionStatus.kSolutionStatusFeasible):
        if status == "time limit":
            message = f"HiGHS found no plan within the time limit of {model.time_limit_s:g} s"
        else:
            # Should not happen: the pre-checks find every clash of a vendor's own terms.
            message = (
                f"HiGHS found no plan ({status}) although each vendor's terms are consistent on their own"
            )
        plan = _empty_plan(status, [], penalty, message)
        plan.build_seconds, plan.solve_seconds = built - started, solved - built
        return plan
    values = np.asarray(highs.getSolution().col_value)
    count_x = index.col_vendor.size
    x = np.round(values[:count_x])  # integer columns, within HiGHS's integrality tolerance
    skills, months = index.residual.shape
    unmet = np.clip(values[index.unmet_start : index.unmet_start + skills * months], 0.0, None).reshape(
        skills, months
    )
    cost_by_column = x * index.col_rate
    used = np.flatnonzero(x > 0.5)
    allocations = [
        (
            index.vendors[index.col_vendor[c]].key,
            index.skills[index.col_skill[c]],
            index.months[index.col_month[c]],
            float(x[c]),
            float(cost_by_column[c]),
        )
        for c in used
    ]
    short = np.argwhere(unmet > 1e-6)
    cost = float(cost_by_column.sum())
    return CapacityPlan(
        status=status,
        gap=float(info.mip_gap),
        objective=cost + penalty * float(unmet.sum()),
        cost=cost,
        allocations=allocations,
        unmet=[(index.skills[k], index.months[t], float(unmet[k, t])) for k, t in short],
        binding=binding_constraints(index, x, unmet),
        conflicts=[],
        unmet_penalty=penalty,
        build_seconds=built - started,
        solve_seconds=solved - built,
    )


def _status(highs) -> str:
    import highspy

    status = highs.getModelStatus()
    names = {
        highspy.HighsModelStatus.kOptimal: "optimal",
        highspy.HighsModelStatus.kTimeLimit: "time limit",
        highspy.HighsModelStatus.kInfeasible: "infeasible",
        highspy.HighsModelStatus.kInterrupt: "interrupted",
        highspy.HighsModelStatus.kMemoryLimit: "memory limit",
    }
    return names.get(status, highs.modelStatusToString(status).lower())


def _empty_plan(status: str, conflicts: list[str], penalty: float, message: str) -> CapacityPlan:
    return CapacityPlan(
        status=status,
        gap=math.inf,
        objective=math.nan,
        cost=math.nan,
        allocations=[],
        unmet=[],
        binding=[],
        conflicts=conflicts,
        unmet_penalty=penalty,
        message=message,
    )
