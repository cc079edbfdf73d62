"""Capacity planning MILP: hand-computed optima, binding constraints in words, conflicts explained."""

import time

import numpy as np
import pytest

from partnerscope.decisions import CapacityModel, DecisionError, VendorOffer, build_highs, solve_capacity

MONTHS = ["2027-01", "2027-02", "2027-03"]


def model(vendors, demand=3, months=MONTHS, **options):
    demands = demand if isinstance(demand, list) else [demand] * len(months)
    return CapacityModel(
        months=months,
        skills=["python", "java"],
        demand={("python", month): float(need) for month, need in zip(months, demands, strict=True)},
        vendors=vendors,
        **options,
    )


def by_vendor_and_month(plan):
    table = {}
    for key, _skill, month, fte, _cost in plan.allocations:
        table[key, month] = table.get((key, month), 0) + fte
    return table


def acme(cap=5, **terms):
    return VendorOffer("acme", "Acme", {"python": (10_000, cap)}, **terms)


def beta(cap=5, **terms):
    return VendorOffer("beta", "Beta", {"python": (8_000, cap)}, **terms)


def test_it_gives_the_work_to_the_cheapest_vendor():
    plan = solve_capacity(model([acme(), beta()]))
    assert plan.status == "optimal" and plan.gap <= 0.001
    assert by_vendor_and_month(plan) == {("beta", month): 3 for month in MONTHS}
    assert plan.cost == plan.objective == 3 * 3 * 8_000
    assert plan.unmet == [] and plan.conflicts == []
    assert ("beta", "python", "2027-01", 3.0, 24_000.0) in plan.allocations


def test_it_spills_over_the_cheapest_vendors_capacity_to_the_next():
    plan = solve_capacity(model([acme(), beta(cap=2)]))
    assert by_vendor_and_month(plan) == {("beta", m): 2 for m in MONTHS} | {("acme", m): 1 for m in MONTHS}
    assert plan.cost == 3 * (2 * 8_000 + 10_000)
    assert plan.binding == ["Beta: at most 2 python FTE (capacity) in 2027-01 to 2027-03"]


def test_it_gives_a_vendor_below_the_quality_floor_no_more_than_its_baseline():
    gamma = VendorOffer("gamma", "Gamma", {"python": (5_000, 10)}, allowed=False, baseline_fte=1)
    plan = solve_capacity(model([acme(), beta(cap=2), gamma]))
    assert by_vendor_and_month(plan) == {("gamma", m): 1 for m in MONTHS} | {("beta", m): 2 for m in MONTHS}
    assert plan.cost == 3 * (5_000 + 2 * 8_000)
    assert (
        "Gamma: below the quality floor, held at its baseline of 1 FTE in 2027-01 to 2027-03" in plan.binding
    )


def test_it_honours_a_minimum_commitment_even_when_a_cheaper_vendor_has_room():
    plan = solve_capacity(model([acme(contracted=True, min_commitment_fte=2), beta()]))
    assert by_vendor_and_month(plan) == {("acme", m): 2 for m in MONTHS} | {("beta", m): 1 for m in MONTHS}
    assert plan.cost == 3 * (2 * 10_000 + 8_000)
    assert plan.binding == ["Acme: minimum commitment of 2 FTE binds in 2027-01 to 2027-03"]


def test_it_shrinks_a_team_no_faster_than_its_notice_allows():
    months = ["2027-01", "2027-02", "2027-03", "2027-04"]
    terms = {"contracted": True, "baseline_fte": 6, "max_shrink_per_month": 2}
    plan = solve_capacity(model([acme(cap=10, **terms)], demand=[6, 0, 0, 0], months=months))
    assert by_vendor_and_month(plan) == {
        ("acme", "2027-01"): 6,
        ("acme", "2027-02"): 4,
        ("acme", "2027-03"): 2,
    }
    assert plan.cost == 12 * 10_000
    assert plan.binding == ["Acme: cannot shrink faster than 2 FTE/month (notice) in 2027-02 to 2027-03"]


def test_it_waits_for_the_lead_time_and_grows_no_faster_than_allowed():
    delta = VendorOffer("delta", "Delta", {"python": (5_000, 10)}, ramp_lead_months=1, max_growth_per_month=2)
    plan = solve_capacity(model([acme(cap=10), delta], demand=5))
    assert by_vendor_and_month(plan) == {
        ("acme", "2027-01"): 5,
        ("acme", "2027-02"): 3,
        ("delta", "2027-02"): 2,
        ("acme", "2027-03"): 1,
        ("delta", "2027-03"): 4,
    }
    assert plan.cost == 5 * 10_000 + (3 * 10_000 + 2 * 5_000) + (10_000 + 4 * 5_000)
    assert "Delta: not usable before 2027-02 (ramp-up lead time)" in plan.binding
    assert "Delta: cannot grow faster than 2 FTE/month (ramp-up) in 2027-02 to 2027-03" in plan.binding


def test_it_reports_unmet_demand_with_its_penalty_never_hiding_it():
    plan = solve_capacity(model([acme(cap=2)], demand=5))
    assert plan.status == "optimal"
    assert plan.unmet == [("python", month, 3.0) for month in MONTHS]
    assert plan.unmet_penalty == 100_000  # 10 × the highest rate offered
    assert plan.cost == 3 * 2 * 10_000
    assert plan.objective == plan.cost + 100_000 * 9
    assert plan.binding == ["Acme: at most 2 python FTE (capacity) in 2027-01 to 2027-03"]


def test_it_leaves_demand_unmet_when_buying_costs_more_than_the_penalty():
    plan = solve_capacity(model([acme()], demand=1, unmet_penalty=5_000))
    assert plan.allocations == [] and plan.unmet == [("python", month, 1.0) for month in MONTHS]


def test_it_uses_in_house_people_first():
    plan = solve_capacity(
        CapacityModel(
            months=MONTHS,
            skills=["python"],
            demand={("python", m): 3.0 for m in MONTHS},
            inhouse={("python", m): 2.0 for m in MONTHS},
            vendors=[beta()],
        )
    )
    assert by_vendor_and_month(plan) == {("beta", m): 1 for m in MONTHS}


@pytest.mark.parametrize(("demand", "expected"), [(2, {"cheap": 5}), (1, {"dear": 1})])
def test_it_signs_an_offer_with_a_minimum_only_when_it_pays(demand, expected):
    # Cheap: $1,000 but at least 5 FTE a month once signed ($5,000); Dear: $4,000 per FTE.
    cheap = VendorOffer("cheap", "Cheap", {"python": (1_000, 10)}, min_commitment_fte=5)
    dear = VendorOffer("dear", "Dear", {"python": (4_000, 10)})
    plan = solve_capacity(model([cheap, dear], demand=demand))
    assert by_vendor_and_month(plan) == {(key, m): fte for key, fte in expected.items() for m in MONTHS}


def test_it_explains_a_minimum_commitment_above_the_vendors_capacity():
    offer = VendorOffer(
        "acme", "Acme", {"python": (10_000, 4), "java": (9_000, 5)}, contracted=True, min_commitment_fte=12
    )
    plan = solve_capacity(model([offer, beta()]))
    assert plan.status == "infeasible" and plan.allocations == []
    assert plan.conflicts == [
        "Acme: in 2027-01 its minimum commitment is 12 FTE a month, but its offer covers at most 9 FTE "
        "(python 4, java 5)"
    ]


def test_it_explains_a_commitment_the_team_cannot_grow_into():
    plan = solve_capacity(
        model([acme(contracted=True, min_commitment_fte=5, current_fte=0, max_growth_per_month=2)])
    )
    assert plan.status == "infeasible"
    assert plan.conflicts == [
        "Acme: it can grow by at most 2 FTE a month (ramp-up), so from its current 0 FTE it cannot reach 5 FTE "
        "in 2027-01, where its minimum commitment is 5 FTE a month"
    ]


def test_it_explains_a_quality_floor_the_team_cannot_shrink_to_in_time():
    gamma = VendorOffer(
        "gamma",
        "Gamma",
        {"python": (5_000, 10)},
        allowed=False,
        baseline_fte=2,
        current_fte=8,
        max_shrink_per_month=2,
    )
    plan = solve_capacity(model([gamma]))
    assert plan.conflicts == [
        "Gamma: it can shrink by at most 2 FTE a month (notice), so from its current 8 FTE it cannot get down to "
        "2 FTE in 2027-01, where it is below the quality floor, so it may not exceed its baseline of 2 FTE"
    ]


def test_it_explains_a_flex_band_without_a_whole_number_inside():
    plan = solve_capacity(model([acme(contracted=True, baseline_fte=3.5, flex_band=0.1)]))
    assert plan.status == "infeasible"
    assert plan.conflicts == [
        "Acme: in 2027-01 its flex band needs at least 3.15 FTE (baseline 3.5 − 10%), but no whole number of FTE "
        "lies between 3.15 and 3.85"
    ]


def random_model(vendors, skills, months, seed):
    rng = np.random.default_rng(seed)
    month_names = [f"2027-{m + 1:02d}" for m in range(months)]
    skill_names = [f"skill{k}" for k in range(skills)]
    offers = []
    for v in range(vendors):
        chosen = rng.choice(skills, size=max(1, skills * 3 // 10), replace=False)
        offer = {
            skill_names[k]: (float(rng.integers(6, 20) * 1_000), float(rng.integers(1, 8))) for k in chosen
        }
        if v % 3 == 0:
            baseline = float(max(1, sum(cap for _, cap in offer.values()) // 3))
            terms = {
                "contracted": True,
                "baseline_fte": baseline,
                "flex_band": 0.5,
                "max_shrink_per_month": 2.0,
            }
        else:
            terms = {"max_growth_per_month": 3.0, "ramp_lead_months": int(rng.integers(0, 3))}
        offers.append(VendorOffer(f"v{v}", f"Vendor {v}", offer, **terms))
    demand = {(s, m): float(round(rng.uniform(2, 12), 1)) for s in skill_names for m in month_names}
    return CapacityModel(month_names, skill_names, demand, vendors=offers)


def test_it_reaches_the_gap_on_a_mid_size_random_model_within_seconds():
    capacity_model = random_model(vendors=20, skills=10, months=12, seed=1)
    started = time.perf_counter()
    plan = solve_capacity(capacity_model)
    elapsed = time.perf_counter() - started
    assert plan.status == "optimal" and plan.gap <= 0.001
    assert elapsed < 10
    # The plan respects every offer's headcount and covers demand together with the unmet amount.
    caps = {(v.key, skill): cap for v in capacity_model.vendors for skill, (_, cap) in v.skills.items()}
    covered = {}
    for key, skill, month, fte, _ in plan.allocations:
        assert fte == int(fte) and 0 < fte <= caps[key, skill]
        covered[skill, month] = covered.get((skill, month), 0) + fte
    for skill, month, fte in plan.unmet:
        covered[skill, month] = covered.get((skill, month), 0) + fte
    for key, need in capacity_model.demand.items():
        assert covered.get(key, 0) >= need - 1e-6


def test_it_builds_the_highs_model_with_one_integer_column_per_offer_month():
    capacity_model = random_model(vendors=20, skills=10, months=12, seed=2)
    highs, index = build_highs(capacity_model)
    offered = sum(len(v.skills) for v in capacity_model.vendors)
    assert highs.getNumCol() == offered * 12 + 10 * 12
    assert index.col_vendor.size == offered * 12
    assert highs.getNumRow() >= 10 * 12  # coverage rows at least


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"demand": {("ruby", "2027-01"): 1.0}}, "unknown skill 'ruby'"),
        ({"demand": {("python", "2031-01"): 1.0}}, "unknown month '2031-01'"),
        ({"demand": {("python", "2027-01"): -1.0}}, "must be a non-negative number"),
        ({"vendors": [acme(), acme()]}, "vendor key 'acme' appears twice"),
        ({"vendors": [acme(flex_band=0.2)]}, "a flex band needs a contract"),
        ({"vendors": [VendorOffer("x", "X", {"cobol": (1, 1)})]}, "vendor 'x': unknown skill 'cobol'"),
        ({"vendors": [VendorOffer("x", "X", {"python": (-1, 1)})]}, "vendor 'x': rate for 'python'"),
        ({"vendors": [acme(ramp_lead_months=9)]}, "ramp_lead_months must be a whole number"),
        ({"months": []}, "no months"),
        ({"mip_gap": 2}, "mip_gap"),
    ],
)
def test_it_refuses_malformed_models_naming_the_field(change, message):
    fields = {
        "months": MONTHS,
        "skills": ["python"],
        "demand": {("python", "2027-01"): 1.0},
        "vendors": [acme()],
    } | change
    with pytest.raises(DecisionError, match=message):
        solve_capacity(CapacityModel(**fields))
