"""The hire-vs-outsource cost model: hand-computed cases, determinism, validation and speed."""

import time

import numpy as np
import pytest

from partnerscope.decisions import DEFAULT_INPUTS, CostInputs, DecisionError, simulate_costs

# Every input fixed (no ranges) at round numbers, so each month can be computed by hand:
# one person, 12 months, $120,000 a year = $10,000 a month, hired at once and productive at once;
# the vendor at $50 × 160 hours = $8,000 a FTE-month, productive at once.
FIXED = {
    "headcount": 1,
    "horizon_months": 12,
    "salary": 120_000,
    "loaded_multiplier": 1.0,
    "recruiting_cost": 1_000,
    "time_to_fill_months": 0,
    "ramp_up_months": 0,
    "attrition_yearly": 0,
    "tooling_monthly": 0,
    "management_overhead": 0,
    "vendor_hourly_rate": 50,
    "billable_hours_month": 160,
    "communication_overhead": 0,
    "rework_contingency": 0,
    "governance_share": 0,
    "transition_cost": 0,
    "vendor_lead_months": 0,
    "vendor_ramp_months": 0,
    "vendor_attrition_yearly": 0,
    "vendor_reramp_months": 0,
    "notice_months": 2,
    "min_commitment_months": 0,
}


def fixed(**changes):
    return simulate_costs({**FIXED, **changes}, n_draws=10)


def test_it_computes_the_plain_case_by_hand():
    result = fixed()
    assert result.inhouse.total_cost.p50 == pytest.approx(12 * 10_000 + 1_000)
    assert result.inhouse.cost_per_productive_fte_year.p50 == pytest.approx(121_000)
    assert result.inhouse.months_to_productive.p50 == 0
    assert result.outsource.total_cost.p50 == pytest.approx(12 * 8_000)
    assert result.outsource.exit_exposure.p50 == pytest.approx(2 * 8_000)  # two months' notice
    assert result.difference.p50 == pytest.approx(96_000 - 121_000)
    assert np.allclose(result.inhouse.cumulative_cost[1], 1_000 + 10_000 * np.arange(1, 13))
    assert np.allclose(result.outsource.productive_fte, 1.0)
    assert result.break_even.p50 is None and result.break_even.never_share == 1.0
    assert result.tornado == [] and result.tornado_base == pytest.approx(-25_000)


def test_it_ramps_new_hires_up_linearly_after_the_time_to_fill():
    result = fixed(time_to_fill_months=1, ramp_up_months=2)
    # Month 0 vacant; month 1 at (0.5 / 2) of an FTE (the month's midpoint), month 2 at 0.75, then 1.
    assert np.allclose(result.inhouse.productive_fte[1][:5], [0, 0.25, 0.75, 1, 1])
    assert result.inhouse.total_cost.p50 == pytest.approx(11 * 10_000 + 1_000)
    assert result.inhouse.months_to_productive.p50 == 3


def test_it_splits_a_fractional_time_to_fill_over_two_months():
    result = fixed(time_to_fill_months=1.4)
    assert np.allclose(result.inhouse.productive_fte[1][:4], [0, 0.6, 1, 1])


def test_it_replaces_leavers_and_pays_recruiting_again():
    result = fixed(attrition_yearly=0.5)
    monthly = 1 - 0.5 ** (1 / 12)
    # Hired at once (time to fill 0), each leaver is replaced the next month: one person employed in
    # every month, and a hire's worth of recruiting for each month's leavers.
    assert result.inhouse.total_cost.p50 == pytest.approx(120_000 + 1_000 * (1 + 11 * monthly))
    assert np.allclose(result.inhouse.productive_fte[1][1:], 1.0)


def test_it_bills_the_vendor_from_its_start_and_counts_re_ramp_losses():
    result = fixed(vendor_lead_months=0.5, vendor_ramp_months=1)
    assert result.outsource.total_cost.p50 == pytest.approx(4_000 + 11 * 8_000)
    assert np.allclose(result.outsource.productive_fte[1][:3], [0, 1, 1])
    churn = fixed(vendor_attrition_yearly=0.5, vendor_reramp_months=2)
    monthly = 1 - 0.5 ** (1 / 12)
    assert np.allclose(churn.outsource.productive_fte[1], 1 - monthly * 2 / 2)


def test_it_adds_overheads_and_transition_to_the_vendor_cost():
    result = fixed(
        communication_overhead=0.1, rework_contingency=0.1, governance_share=0.05, transition_cost=3_000
    )
    assert result.outsource.total_cost.p50 == pytest.approx(12 * 8_000 * 1.25 + 3_000)


def test_it_counts_the_minimum_commitment_left_at_the_horizon():
    assert fixed(min_commitment_months=18).outsource.exit_exposure.p50 == pytest.approx(6 * 8_000)


def test_it_finds_the_break_even_month_by_hand():
    # Vendor $16,000 a month from month 0; the hire starts in month 1 at $10,000 + $1,000 recruiting.
    # After month 2 in-house has cost 11,000 for 1 FTE-month, the vendor 32,000 for 2: cheaper, and it
    # stays cheaper.
    result = fixed(vendor_hourly_rate=100, time_to_fill_months=1)
    assert (result.break_even.p10, result.break_even.p50, result.break_even.p90) == (2, 2, 2)
    assert result.break_even.never_share == 0


def test_it_sorts_the_tornado_by_swing():
    result = fixed(salary=(100_000, 120_000, 150_000), vendor_hourly_rate=(40, 50, 70))
    rate, salary = result.tornado
    assert rate.input == "vendor_hourly_rate" and rate.label == "Vendor hourly rate"
    assert rate.difference_at_low == pytest.approx(12 * 6_400 - 121_000)
    assert rate.difference_at_high == pytest.approx(12 * 11_200 - 121_000)
    assert salary.difference_at_low == pytest.approx(96_000 - 101_000)
    assert salary.difference_at_high == pytest.approx(96_000 - 151_000)
    assert rate.swing == pytest.approx(57_600) and salary.swing == pytest.approx(50_000)
    assert result.tornado_base == pytest.approx(-25_000)


def test_it_is_deterministic_by_seed():
    first, again = simulate_costs(n_draws=2_000, seed=4), simulate_costs(n_draws=2_000, seed=4)
    assert first.difference == again.difference
    assert np.array_equal(first.inhouse.cumulative_cost, again.inhouse.cumulative_cost)
    assert simulate_costs(n_draws=2_000, seed=5).difference != first.difference


def test_it_keeps_each_inputs_draws_when_another_range_changes():
    # In-house results depend on in-house inputs only: widening the vendor's rate range must not
    # reshuffle the salary draws.
    base = simulate_costs(n_draws=2_000)
    wider = simulate_costs({"vendor_hourly_rate": (20, 55, 150)}, n_draws=2_000)
    assert wider.inhouse.total_cost == base.inhouse.total_cost
    assert wider.outsource.total_cost != base.outsource.total_cost


def test_it_gives_ordered_percentiles_and_curves_with_the_defaults():
    result = simulate_costs(n_draws=5_000)
    for option in (result.inhouse, result.outsource):
        assert option.total_cost.p10 <= option.total_cost.p50 <= option.total_cost.p90
        assert option.cumulative_cost.shape == (3, 36)
        assert (np.diff(option.cumulative_cost, axis=1) >= 0).all()
        assert (option.cumulative_cost[0] <= option.cumulative_cost[2]).all()
    assert [bar.swing for bar in result.tornado] == sorted(
        (bar.swing for bar in result.tornado), reverse=True
    )
    assert {bar.input for bar in result.tornado} == set(CostInputs.from_mapping().ranged())


def test_it_draws_pert_narrower_than_triangular_around_the_same_likely_value():
    inputs = {**FIXED, "salary": (100_000, 120_000, 140_000)}
    triangular = simulate_costs(inputs, n_draws=20_000).inhouse.total_cost
    pert = simulate_costs(inputs, n_draws=20_000, distribution="pert").inhouse.total_cost
    assert pert.p50 == pytest.approx(121_000, rel=0.01) and triangular.p50 == pytest.approx(121_000, rel=0.01)
    assert pert.p90 - pert.p10 < triangular.p90 - triangular.p10


def test_it_documents_a_source_for_every_default():
    for name, spec in DEFAULT_INPUTS.items():
        assert spec.source and spec.unit and spec.label, name
    assert "42 %" in DEFAULT_INPUTS["loaded_multiplier"].source
    assert "42 days" in DEFAULT_INPUTS["time_to_fill_months"].source
    assert "13.2 %" in DEFAULT_INPUTS["attrition_yearly"].source


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"salary": -5}, "salary: -5 is below the minimum"),
        ({"salary": (120_000, 100_000, 150_000)}, "salary: low 120000 is above likely 100000"),
        ({"salary": (100_000, 160_000, 150_000)}, "salary: likely 160000 is above high 150000"),
        ({"salary": (1, 2)}, r"salary: a range is \(low, likely, high\)"),
        ({"salary": "lots"}, "salary: 'lots' is not a number"),
        ({"salary": float("nan")}, "salary: nan is not a finite number"),
        ({"attrition_yearly": 1.5}, "attrition_yearly: 1.5 is above the maximum"),
        ({"headcount": (1, 2, 3)}, "headcount: give one number, not a range"),
        ({"headcount": 2.5}, "headcount: 2.5 must be a whole number"),
        ({"horizon_months": 0}, "horizon_months: 0 is below the minimum"),
        ({"salry": 1}, "unknown cost input 'salry' \\(did you mean 'salary'\\?\\)"),
        ({"salary": {"low": 1, "high": 2}}, "salary: a range needs low, likely and high"),
    ],
)
def test_it_refuses_bad_inputs_naming_the_field(inputs, message):
    with pytest.raises(DecisionError, match=message):
        simulate_costs(inputs, n_draws=10)


def test_it_refuses_bad_run_settings():
    with pytest.raises(DecisionError, match="n_draws"):
        simulate_costs(n_draws=0)
    with pytest.raises(DecisionError, match="seed must be a whole number"):
        simulate_costs(n_draws=10, seed=-1)
    with pytest.raises(DecisionError, match="unknown distribution 'normal'"):
        simulate_costs(n_draws=10, distribution="normal")


def test_it_accepts_ranges_as_dicts():
    inputs = CostInputs.from_mapping({"salary": {"low": 1e5, "likely": 1.2e5, "high": 1.3e5}})
    assert inputs.values["salary"] == (1e5, 1.2e5, 1.3e5)


def test_it_simulates_100000_draws_well_under_a_second():
    simulate_costs(n_draws=1_000)  # warm up allocations
    best = min(_timed(lambda: simulate_costs(n_draws=100_000)) for _ in range(3))
    assert best < 1.0, f"{best:.2f} s for 100,000 draws"


def _timed(function):
    started = time.perf_counter()
    function()
    return time.perf_counter() - started
