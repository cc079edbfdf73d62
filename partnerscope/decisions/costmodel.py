"""Hire in-house or outsource: a month-by-month cost model run as a vectorised Monte Carlo.

Every input is a number or a range (low, likely, high); ranges are drawn from a triangular (or PERT)
distribution, one independent random stream per input, so the result is fixed by the seed and
changing one input's range does not reshuffle the others' draws. All draws are simulated at once
with NumPy arrays (months × draws); the only Python loop runs over months. Formulas and the sources
of the defaults are in docs/DECISIONS.md.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DecisionError

Value = float | tuple[float, float, float]


@dataclass(frozen=True)
class Input:
    """One input with its default, unit, label and the public source (or assumption) behind the default."""

    value: Value
    unit: str
    label: str
    source: str
    minimum: float = 0.0
    maximum: float = float("inf")
    integer: bool = False
    ranged: bool = True  # False: structural inputs (team size, horizon) take one number only


_PLANNING = "Planning assumption, not a published figure"
_ASSUMPTION = f"{_PLANNING}: replace with your own data"

DEFAULT_INPUTS: dict[str, Input] = {
    # The plan
    "headcount": Input(5, "people", "Team size (N)", "Your plan", 1, 1000, integer=True, ranged=False),
    "horizon_months": Input(36, "months", "Horizon", "Your plan", 1, 120, integer=True, ranged=False),
    # In-house
    "salary": Input(
        (110_000.0, 132_000.0, 160_000.0),
        "per year",
        "Base salary",
        "US BLS Occupational Outlook Handbook: median annual wage of software developers ≈ $132,000 (May 2023)",
        minimum=1.0,
    ),
    "loaded_multiplier": Input(
        (1.30, 1.42, 1.50),
        "× salary",
        "Fully loaded multiplier (benefits, payroll taxes)",
        "US BLS Employer Costs for Employee Compensation: benefits ≈ 42 % on top of wages "
        "(private industry: wages ≈ 70 %, benefits ≈ 30 % of compensation)",
        minimum=1.0,
        maximum=5.0,
    ),
    "recruiting_cost": Input(
        (4_700.0, 10_000.0, 25_000.0),
        "per hire",
        "Recruiting cost",
        "SHRM Human Capital Benchmarking: average cost per hire ≈ $4,700 across all roles; "
        "engineering hires, often through agencies, cost more",
    ),
    "time_to_fill_months": Input(
        (1.0, 1.4, 3.0),
        "months",
        "Time to fill a position",
        "SHRM: 42 days average time to fill (≈ 1.4 months)",
        maximum=36.0,
    ),
    "ramp_up_months": Input(
        (2.0, 3.0, 6.0),
        "months",
        "Ramp-up to full productivity (linear)",
        _ASSUMPTION,
        maximum=36.0,
    ),
    "attrition_yearly": Input(
        (0.10, 0.132, 0.20),
        "share per year",
        "Yearly attrition",
        "LinkedIn Talent Solutions: 13.2 % yearly turnover in software, the highest of all industries (2018)",
        maximum=0.99,
    ),
    "tooling_monthly": Input(
        (200.0, 400.0, 800.0), "per person per month", "Tooling (hardware, licences, SaaS)", _ASSUMPTION
    ),
    "management_overhead": Input(
        (0.08, 0.125, 0.20),
        "share of loaded salary",
        "Management overhead",
        f"{_PLANNING}: 12.5 % is one engineering manager per eight engineers",
        maximum=1.0,
    ),
    # Vendor
    "vendor_hourly_rate": Input(
        (35.0, 55.0, 90.0),
        "per hour",
        "Vendor hourly rate",
        f"{_PLANNING}: use the vendor's rate card",
        minimum=0.01,
    ),
    "billable_hours_month": Input(
        (150.0, 160.0, 168.0),
        "hours per month",
        "Billable hours per FTE-month",
        "About 21 working days × 8 hours less holidays; check the contract's definition",
        minimum=1.0,
        maximum=744.0,
    ),
    "communication_overhead": Input(
        (0.05, 0.10, 0.15),
        "share of vendor spend",
        "Communication overhead (client time)",
        _ASSUMPTION,
        maximum=1.0,
    ),
    "rework_contingency": Input(
        (0.05, 0.10, 0.20), "share of vendor spend", "Rework contingency", _ASSUMPTION, maximum=1.0
    ),
    "governance_share": Input(
        (0.03, 0.05, 0.08),
        "share of vendor spend",
        "Governance (vendor management, audits)",
        _ASSUMPTION,
        maximum=1.0,
    ),
    "transition_cost": Input(
        (5_000.0, 10_000.0, 20_000.0),
        "per vendor FTE, once",
        "Transition cost (knowledge transfer, onboarding)",
        _ASSUMPTION,
    ),
    "vendor_lead_months": Input(
        (0.5, 1.0, 2.0), "months", "Vendor lead time until the team starts", _ASSUMPTION, maximum=36.0
    ),
    "vendor_ramp_months": Input(
        (1.0, 2.0, 3.0), "months", "Vendor ramp-up to full productivity (linear)", _ASSUMPTION, maximum=36.0
    ),
    "vendor_attrition_yearly": Input(
        (0.12, 0.18, 0.28),
        "share per year",
        "Vendor staff attrition",
        "Large IT-services firms reported yearly attrition between roughly 12 % and 28 % in their "
        "2021–2024 annual reports",
        maximum=0.99,
    ),
    "vendor_reramp_months": Input(
        (0.5, 1.0, 2.0),
        "months",
        "Re-ramp of a vendor replacement (linear)",
        _ASSUMPTION,
        maximum=36.0,
    ),
    "notice_months": Input(
        (1.0, 2.0, 3.0), "months", "Contract notice period", "Your contract", maximum=36.0
    ),
    "min_commitment_months": Input(
        (0.0, 6.0, 12.0), "months", "Minimum commitment term", "Your contract", maximum=120.0
    ),
}

INPUT_NAMES = tuple(DEFAULT_INPUTS)


@dataclass(frozen=True)
class CostInputs:
    """A complete, validated set of inputs: every name in DEFAULT_INPUTS, a number or (low, likely, high)."""

    values: Mapping[str, Value]

    @classmethod
    def from_mapping(cls, overrides: Mapping[str, Any] | None = None) -> CostInputs:
        """Defaults overridden by ``overrides`` (a number, (low, likely, high), a dict or an Input each)."""
        overrides = dict(overrides or {})
        unknown = [name for name in overrides if name not in DEFAULT_INPUTS]
        if unknown:
            name = unknown[0]
            close = difflib.get_close_matches(str(name), INPUT_NAMES, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise DecisionError(f"unknown cost input {name!r}{hint}")
        values = {}
        for name, spec in DEFAULT_INPUTS.items():
            values[name] = _checked(name, spec, overrides.get(name, spec.value))
        return cls(values)

    def likely(self, name: str) -> float:
        value = self.values[name]
        return value[1] if isinstance(value, tuple) else value

    def ranged(self) -> list[str]:
        """Inputs given as a real range (low < high), in the order of DEFAULT_INPUTS."""
        return [
            name for name, value in self.values.items() if isinstance(value, tuple) and value[0] < value[2]
        ]


def _checked(name: str, spec: Input, raw: Any) -> Value:
    if isinstance(raw, Input):
        raw = raw.value
    if isinstance(raw, Mapping):
        try:
            raw = (raw["low"], raw["likely"], raw["high"])
        except KeyError as exc:
            raise DecisionError(f"{name}: a range needs low, likely and high") from exc
    if isinstance(raw, list | tuple):
        if not spec.ranged:
            raise DecisionError(f"{name}: give one number, not a range")
        if len(raw) != 3:
            raise DecisionError(f"{name}: a range is (low, likely, high), got {len(raw)} values")
        low, likely, high = (_number(name, part, spec) for part in raw)
        if low > likely:
            raise DecisionError(f"{name}: low {low:g} is above likely {likely:g}")
        if likely > high:
            raise DecisionError(f"{name}: likely {likely:g} is above high {high:g}")
        return (low, likely, high)
    return _number(name, raw, spec)


def _number(name: str, raw: Any, spec: Input) -> float:
    if isinstance(raw, bool) or raw is None:
        raise DecisionError(f"{name}: {raw!r} is not a number")
    try:
        number = float(raw)
    except (TypeError, ValueError) as exc:
        raise DecisionError(f"{name}: {raw!r} is not a number") from exc
    if not np.isfinite(number):
        raise DecisionError(f"{name}: {raw!r} is not a finite number")
    if number < spec.minimum:
        raise DecisionError(f"{name}: {number:g} is below the minimum of {spec.minimum:g} ({spec.unit})")
    if number > spec.maximum:
        raise DecisionError(f"{name}: {number:g} is above the maximum of {spec.maximum:g} ({spec.unit})")
    if spec.integer and number != int(number):
        raise DecisionError(f"{name}: {number:g} must be a whole number")
    return number


@dataclass(frozen=True)
class Percentiles:
    p10: float
    p50: float
    p90: float


@dataclass(frozen=True)
class OptionResult:
    total_cost: Percentiles  # over the horizon
    cost_per_productive_fte_year: Percentiles
    months_to_productive: Percentiles  # until the first N people are fully productive
    # Curves, 3 × months (P10, P50, P90), from the first CURVE_DRAWS draws:
    cumulative_cost: np.ndarray  # spent by the end of each month
    productive_fte: np.ndarray  # productive FTE in each month
    exit_exposure: Percentiles | None  # vendor: notice and minimum-commitment cost still owed at the horizon


@dataclass(frozen=True)
class BreakEven:
    """Months until hiring delivers work at a lower average cost than outsourcing (see the docs)."""

    p10: float | None  # None: this share of draws or more never breaks even within the horizon
    p50: float | None
    p90: float | None
    never_share: float  # share of draws that never break even within the horizon


@dataclass(frozen=True)
class TornadoBar:
    input: str
    label: str
    low: float  # the input's low value
    high: float  # the input's high value
    difference_at_low: float  # total cost outsource − in-house with this input at its low
    difference_at_high: float
    swing: float  # |difference_at_high − difference_at_low|


@dataclass(frozen=True)
class CostResult:
    inputs: CostInputs
    n_draws: int
    seed: int
    months: int
    headcount: int
    inhouse: OptionResult
    outsource: OptionResult
    difference: Percentiles  # total cost outsource − in-house (negative: outsourcing is cheaper)
    break_even: BreakEven
    tornado_base: float  # the difference with every input at its likely value
    tornado: list[TornadoBar]  # sorted by swing, largest first


MAX_DRAWS = 1_000_000
CURVE_DRAWS = 20_000
CURVES = ("in_curve", "out_curve", "in_fte", "out_fte")


def simulate_costs(
    inputs: Mapping[str, Any] | CostInputs | None = None,
    n_draws: int = 10_000,
    seed: int = 0,
    distribution: str = "triangular",
) -> CostResult:
    """Monte Carlo of in-house vs outsourced cost for ``headcount`` people over ``horizon_months``.

    ``inputs`` overrides DEFAULT_INPUTS by name; ``distribution`` is "triangular" or "pert".
    """
    resolved = CostInputs.from_mapping(inputs.values if isinstance(inputs, CostInputs) else inputs)
    if (
        isinstance(n_draws, bool)
        or not isinstance(n_draws, int | np.integer)
        or not 1 <= n_draws <= MAX_DRAWS
    ):
        raise DecisionError(f"n_draws must be a whole number from 1 to {MAX_DRAWS:,}, got {n_draws!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DecisionError(f"seed must be a whole number, 0 or more, got {seed!r}")
    if distribution not in ("triangular", "pert"):
        raise DecisionError(f"unknown distribution {distribution!r}: use 'triangular' or 'pert'")
    months = int(resolved.likely("horizon_months"))
    headcount = int(resolved.likely("headcount"))
    draws = _draw(resolved, int(n_draws), int(seed), distribution)
    paths = _simulate_in_chunks(draws, months, headcount)
    inhouse = _option_result(paths, "in", exit_exposure=None)
    outsource = _option_result(paths, "out", exit_exposure=_percentiles(paths["exit_exposure"]))
    base, tornado = _tornado(resolved, months, headcount)
    return CostResult(
        inputs=resolved,
        n_draws=int(n_draws),
        seed=int(seed),
        months=months,
        headcount=headcount,
        inhouse=inhouse,
        outsource=outsource,
        difference=_percentiles(paths["out_total"] - paths["in_total"]),
        break_even=_break_even(paths["break_even"]),
        tornado_base=base,
        tornado=tornado,
    )


def _draw(inputs: CostInputs, n_draws: int, seed: int, distribution: str) -> dict[str, np.ndarray]:
    draws = {}
    for position, name in enumerate(INPUT_NAMES):
        value = inputs.values[name]
        if not isinstance(value, tuple) or value[0] == value[2]:
            draws[name] = np.full(n_draws, inputs.likely(name))
            continue
        low, likely, high = value
        # One stream per input, keyed by its position: adding a range to one input leaves the others'
        # draws unchanged, which keeps comparisons between scenarios fair.
        rng = np.random.default_rng([seed, position])
        if distribution == "triangular":
            draws[name] = rng.triangular(low, likely, high, n_draws)
        else:
            # PERT: a Beta distribution on [low, high] with mean (low + 4·likely + high) / 6.
            alpha = 1 + 4 * (likely - low) / (high - low)
            beta = 1 + 4 * (high - likely) / (high - low)
            draws[name] = low + rng.beta(alpha, beta, n_draws) * (high - low)
    return draws


def _simulate_in_chunks(draws: dict[str, np.ndarray], months: int, headcount: int) -> dict[str, np.ndarray]:
    # Draws are simulated in blocks of about half a million cells per array, which keeps memory small
    # and the arrays in cache. Totals, break-even and the other per-draw results use every draw; the
    # month-by-month percentile curves (a chart) use the first CURVE_DRAWS draws, because ordering
    # every draw in every month would cost more than the whole simulation.
    count = next(iter(draws.values())).shape[0]
    block = max(1_000, 500_000 // months)
    parts = []
    for start in range(0, count, block):
        part = _simulate(
            {name: values[start : start + block] for name, values in draws.items()}, months, headcount
        )
        if start >= CURVE_DRAWS:
            part = {key: values for key, values in part.items() if key not in CURVES}
        parts.append(part)
    joined = {}
    for key in parts[0]:
        # Curves are months × draws, the rest one value per draw: join along the draws axis.
        joined[key] = np.concatenate([part[key] for part in parts if key in part], axis=-1)
        if key in CURVES:
            joined[key] = joined[key][:, :CURVE_DRAWS]
    return joined


def _simulate(x: dict[str, np.ndarray], months: int, headcount: int) -> dict[str, np.ndarray]:
    # Arrays are months × draws: each month is one contiguous row, which keeps the month loop and the
    # percentiles over draws cache-friendly.
    inhouse_cost, inhouse_productive = _inhouse(x, months, headcount)
    vendor_cost, vendor_productive, exposure = _vendor(x, months, headcount)
    cumulative = {
        "in_cost": np.cumsum(inhouse_cost, axis=0),
        "in_prod": np.cumsum(inhouse_productive, axis=0),
        "out_cost": np.cumsum(vendor_cost, axis=0),
        "out_prod": np.cumsum(vendor_productive, axis=0),
    }
    return {
        "in_curve": cumulative["in_cost"].astype(np.float32),
        "out_curve": cumulative["out_cost"].astype(np.float32),
        "in_fte": inhouse_productive.astype(np.float32),
        "out_fte": vendor_productive.astype(np.float32),
        "in_total": cumulative["in_cost"][-1],
        "out_total": cumulative["out_cost"][-1],
        "in_fte_years": cumulative["in_prod"][-1] / 12,
        "out_fte_years": cumulative["out_prod"][-1] / 12,
        "in_ready": x["time_to_fill_months"] + x["ramp_up_months"],
        "out_ready": x["vendor_lead_months"] + x["vendor_ramp_months"],
        "exit_exposure": exposure,
        "break_even": _break_even_months(cumulative),
    }


def _monthly_leaving(yearly: np.ndarray) -> np.ndarray:
    # A yearly attrition a is a constant monthly hazard h with (1 − h)^12 = 1 − a.
    return 1.0 - (1.0 - yearly) ** (1.0 / 12.0)


def _inhouse(x: dict[str, np.ndarray], months: int, headcount: int) -> tuple[np.ndarray, np.ndarray]:
    count = x["salary"].shape[0]
    draws = np.arange(count)
    leaving = _monthly_leaving(x["attrition_yearly"])
    fill = x["time_to_fill_months"]
    whole = np.floor(fill).astype(int)
    part = fill - whole
    # A seat opened at month m is filled at m + fill; a fractional fill splits the arrival over two
    # months (whole and whole + 1) so the expected start date is exact.
    month_index = np.arange(months)[:, None]
    arrivals = headcount * ((month_index == whole) * (1 - part) + (month_index == whole + 1) * part)
    pad = int(whole.max()) + 2
    leavers = np.zeros((months + pad, count))  # leavers[pad + m]: people leaving at the end of month m
    employed = np.empty((months, count))
    staying = np.zeros(count)
    for month in range(months):
        # Each leaver's seat reopens the next month and is filled `fill` months later.
        arrivals[month] += (1 - part) * leavers[pad + month - 1 - whole, draws]
        arrivals[month] += part * leavers[pad + month - 2 - whole, draws]
        employed[month] = staying + arrivals[month]
        leavers[pad + month] = leaving * employed[month]
        staying = employed[month] - leavers[pad + month]
    # Productivity rises linearly over the ramp-up: a cohort arriving in month s misses
    # max(0, 1 − (τ + ½) / ramp) of an FTE each in month s + τ, for those of it still employed.
    ramp = x["ramp_up_months"]
    shortfall = np.zeros((months, count))
    for age in range(min(months, int(np.ceil(ramp.max())) + 1)):
        share = np.divide(age + 0.5, ramp, out=np.full(count, np.inf), where=ramp > 0)
        weight = np.clip(1.0 - share, 0.0, 1.0) * (1.0 - leaving) ** age
        if not weight.any():
            break
        shortfall[age:] += arrivals[: months - age] * weight
    productive = employed - shortfall
    monthly_cost = (
        x["salary"] / 12 * x["loaded_multiplier"] * (1 + x["management_overhead"]) + x["tooling_monthly"]
    )
    cost = employed * monthly_cost + arrivals * x["recruiting_cost"]
    return cost, productive


def _vendor(x: dict[str, np.ndarray], months: int, headcount: int) -> tuple[np.ndarray, ...]:
    start = x["vendor_lead_months"]
    ramp = x["vendor_ramp_months"]
    month_index = np.arange(months, dtype=float)[:, None]
    billed_share = np.clip(month_index + 1.0 - start, 0.0, 1.0)  # part of each month the team is on
    since_start = month_index + 0.5 - start
    ramped = np.where(
        ramp > 0,
        np.clip(np.divide(since_start, ramp, out=np.zeros_like(billed_share), where=ramp > 0), 0.0, 1.0),
        since_start >= 0,
    )
    # The vendor replaces leavers at once, but each replacement re-ramps: on average it misses half of
    # the re-ramp months of output.
    reramp_loss = _monthly_leaving(x["vendor_attrition_yearly"]) * x["vendor_reramp_months"] / 2
    productive = headcount * np.clip(ramped - reramp_loss * billed_share, 0.0, None)
    rate = x["vendor_hourly_rate"] * x["billable_hours_month"]  # per FTE-month
    uplift = 1 + x["communication_overhead"] + x["rework_contingency"] + x["governance_share"]
    cost = headcount * billed_share * (rate * uplift)
    cost[0] += headcount * x["transition_cost"]
    owed_months = np.maximum(x["notice_months"], x["min_commitment_months"] - months)
    exposure = headcount * rate * np.maximum(owed_months, 0.0)
    return cost, productive, exposure


def _break_even_months(cumulative: dict[str, np.ndarray]) -> np.ndarray:
    # Break-even: the first month from which in-house work costs no more per productive FTE-month than
    # outsourced work, everything spent so far included, and stays so to the horizon. Early months
    # can cross back and forth (a hire's first productive month against the vendor's transition
    # cost), so a first crossing alone would be misleading. inf: not within the horizon.
    both = (cumulative["in_prod"] > 0) & (cumulative["out_prod"] > 0)
    inhouse_unit = cumulative["in_cost"] * np.where(both, cumulative["out_prod"], 0.0)
    vendor_unit = cumulative["out_cost"] * np.where(both, cumulative["in_prod"], 0.0)
    cheaper = both & (inhouse_unit <= vendor_unit)  # cross-multiplied: no division
    months = cheaper.shape[0]
    not_cheaper = ~cheaper
    last_bad = months - 1 - np.argmax(not_cheaper[::-1], axis=0)
    never_bad = ~not_cheaper.any(axis=0)
    first_good = np.where(never_bad, 0, last_bad + 1)
    return np.where(first_good < months, first_good + 1.0, np.inf)


def _percentiles(values: np.ndarray) -> Percentiles:
    p10, p50, p90 = np.percentile(values, [10, 50, 90])
    return Percentiles(float(p10), float(p50), float(p90))


def _curves(values: np.ndarray) -> np.ndarray:
    return np.percentile(values, [10, 50, 90], axis=1).astype(float)


def _option_result(
    paths: dict[str, np.ndarray], side: str, exit_exposure: Percentiles | None
) -> OptionResult:
    fte_years = paths[f"{side}_fte_years"]
    total = paths[f"{side}_total"]
    unit = np.divide(total, fte_years, out=np.full_like(total, np.inf), where=fte_years > 0)
    return OptionResult(
        total_cost=_percentiles(total),
        cost_per_productive_fte_year=_percentiles(unit),
        months_to_productive=_percentiles(paths[f"{side}_ready"]),
        cumulative_cost=_curves(paths[f"{side}_curve"]),
        productive_fte=_curves(paths[f"{side}_fte"]),
        exit_exposure=exit_exposure,
    )


def _break_even(months: np.ndarray) -> BreakEven:
    # inverted_cdf returns observed values, so "never" (inf) stays inf instead of being interpolated.
    quantiles = np.quantile(months, [0.1, 0.5, 0.9], method="inverted_cdf")
    p10, p50, p90 = (float(q) if np.isfinite(q) else None for q in quantiles)
    return BreakEven(p10, p50, p90, float(np.mean(~np.isfinite(months))))


def _tornado(inputs: CostInputs, months: int, headcount: int) -> tuple[float, list[TornadoBar]]:
    # Every input at its likely value, then each ranged input at its low and at its high: the model is
    # deterministic there, so one column per case, all simulated in a single vectorised pass.
    ranged = inputs.ranged()
    cases = 1 + 2 * len(ranged)
    x = {name: np.full(cases, inputs.likely(name)) for name in INPUT_NAMES}
    for position, name in enumerate(ranged):
        low, _, high = inputs.values[name]
        x[name][1 + 2 * position] = low
        x[name][2 + 2 * position] = high
    paths = _simulate(x, months, headcount)
    difference = paths["out_total"] - paths["in_total"]
    bars = []
    for position, name in enumerate(ranged):
        low, _, high = inputs.values[name]
        at_low, at_high = difference[1 + 2 * position], difference[2 + 2 * position]
        bars.append(
            TornadoBar(
                input=name,
                label=DEFAULT_INPUTS[name].label,
                low=low,
                high=high,
                difference_at_low=float(at_low),
                difference_at_high=float(at_high),
                swing=float(abs(at_high - at_low)),
            )
        )
    bars.sort(key=lambda bar: bar.swing, reverse=True)
    return float(difference[0]), bars
