"""Hire in-house or outsource: saved scenarios over ``partnerscope.decisions.simulate_costs``.

The inputs are stored as given (a number, or [low, likely, high]); the Monte Carlo summary is
stored next to them as JSON (percentiles, curves, break-even, tornado), so the page reads it
without simulating again. Infinite values (never breaks even, no productive FTE) are stored as
null and shown in words.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.exceptions import ValidationError

from partnerscope.decisions import DEFAULT_INPUTS, CostInputs, DecisionError, simulate_costs

INPUT_NAMES = list(DEFAULT_INPUTS)


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _percentiles(p) -> dict | None:
    if p is None:
        return None
    return {"p10": _finite(p.p10), "p50": _finite(p.p50), "p90": _finite(p.p90)}


def _curve(array) -> list[list[float]]:
    return [[round(float(v), 2) for v in row] for row in array]


def _option(option) -> dict:
    return {
        "total_cost": _percentiles(option.total_cost),
        "cost_per_productive_fte_year": _percentiles(option.cost_per_productive_fte_year),
        "months_to_productive": _percentiles(option.months_to_productive),
        "exit_exposure": _percentiles(option.exit_exposure),
        "cumulative_cost": _curve(option.cumulative_cost),
        "productive_fte": _curve(option.productive_fte),
    }


def input_error(exc: DecisionError) -> ValidationError:
    """A DecisionError from the model ("salary: -3 is below …") on the input's own field."""
    message = str(exc)
    name = message.split(":", 1)[0].strip()
    if name in DEFAULT_INPUTS:
        label = DEFAULT_INPUTS[name].label
        return ValidationError({name: f"{label}: {message.split(':', 1)[1].strip()}"})
    return ValidationError({"inputs": message})


def clean_inputs(raw: Any) -> dict[str, Any]:
    """Inputs as stored: every known name, a number or [low, likely, high]; errors name the input."""
    if not isinstance(raw, dict):
        raise ValidationError({"inputs": "Give the inputs as name → number or [low, likely, high]."})
    try:
        resolved = CostInputs.from_mapping(raw)
    except DecisionError as exc:
        raise input_error(exc) from None
    return {
        name: list(value) if isinstance(value, tuple) else value for name, value in resolved.values.items()
    }


def run(inputs: dict[str, Any], *, n_draws: int, seed: int, distribution: str = "triangular") -> dict:
    """The Monte Carlo summary as JSON: both options, the difference, break-even and tornado."""
    try:
        result = simulate_costs(
            {k: tuple(v) if isinstance(v, list) else v for k, v in inputs.items()},
            n_draws=int(n_draws),
            seed=int(seed),
            distribution=distribution,
        )
    except DecisionError as exc:
        raise input_error(exc) from None
    return {
        "n_draws": result.n_draws,
        "seed": result.seed,
        "distribution": distribution,
        "months": result.months,
        "headcount": result.headcount,
        "inhouse": _option(result.inhouse),
        "outsource": _option(result.outsource),
        "difference": _percentiles(result.difference),
        "break_even": {
            "p10": result.break_even.p10,
            "p50": result.break_even.p50,
            "p90": result.break_even.p90,
            "never_share": result.break_even.never_share,
        },
        "tornado_base": result.tornado_base,
        "tornado": [
            {
                "input": bar.input,
                "label": bar.label,
                "low": bar.low,
                "high": bar.high,
                "difference_at_low": bar.difference_at_low,
                "difference_at_high": bar.difference_at_high,
                "swing": bar.swing,
            }
            for bar in result.tornado
        ],
    }


def defaults() -> dict[str, Any]:
    return {
        name: list(spec.value) if isinstance(spec.value, tuple) else spec.value
        for name, spec in DEFAULT_INPUTS.items()
    }
