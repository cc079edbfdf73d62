"""Benchmark: the decision methods through the product against the bare computation, in one run.

    python bench/decisions.py [--scale small|large] [--alternatives N] [--criteria N]
                              [--vendors N] [--skills N] [--months N] [--skill-share F] [--draws N]

* TOPSIS: ``sourcing.ranking.rank_matrix`` (what an evaluation runs: validation, the method with
  every intermediate table, the ranking) on a random matrix, against a bare NumPy TOPSIS written
  here; both checked to give the same closeness. Median of several runs. Turning the tables into
  JSON lists for storage is reported on its own (``topsis_tables_to_json_ms``).
* Capacity: vendors with ~30 % of the skills each, their rates, contracts, the roster and the
  demand stored in a fresh SQLite database; our end-to-end solve (read the stored data, build the
  model, check its terms, solve with HiGHS, explain the binding constraints, store the plan) against
  HiGHS alone solving the same model (its ``run()`` only, on a model built beforehand).
* Monte Carlo: the hire-vs-outsource model with every input a range, through the product's
  scenario path, in seconds per 100,000 draws.

The last line printed is one JSON object with every figure. Defaults are small (for `make bench`);
``--scale large`` runs the issue's sizes: 10,000 × 20, 200 vendors × 30 skills × 26 months, 100,000
draws.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCALES = {
    "small": {
        "alternatives": 2000,
        "criteria": 20,
        "vendors": 40,
        "skills": 12,
        "months": 12,
        "draws": 100_000,
    },
    "large": {
        "alternatives": 10_000,
        "criteria": 20,
        "vendors": 200,
        "skills": 30,
        "months": 26,
        "draws": 100_000,
    },
}


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_time(fn, repeat: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(repeat))


def numpy_topsis(matrix, weights, directions):
    """TOPSIS with vector normalisation in plain NumPy: the floor our service is compared with."""
    import numpy as np

    normalized = matrix / np.sqrt((matrix * matrix).sum(axis=0))
    weighted = normalized * (weights / weights.sum())
    benefit = directions > 0
    ideal = np.where(benefit, weighted.max(axis=0), weighted.min(axis=0))
    anti = np.where(benefit, weighted.min(axis=0), weighted.max(axis=0))
    d_plus = np.sqrt(((weighted - ideal) ** 2).sum(axis=1))
    d_minus = np.sqrt(((weighted - anti) ** 2).sum(axis=1))
    return d_minus / (d_plus + d_minus)


def bench_topsis(alternatives: int, criteria: int, repeat: int = 7) -> dict:
    import numpy as np

    from partnerscope.sourcing.ranking import rank_matrix, tables_json

    rng = np.random.default_rng(1)
    matrix = rng.uniform(1, 100, size=(alternatives, criteria))
    weights = rng.uniform(1, 10, size=criteria)
    directions = np.where(rng.random(criteria) < 0.3, -1, 1)
    ours = rank_matrix("topsis", matrix, weights.tolist(), directions.tolist())
    bare = numpy_topsis(matrix, weights, directions)
    assert np.allclose(ours["closeness"], bare, atol=1e-6), "our TOPSIS disagrees with the bare one"
    service_s = median_time(
        lambda: rank_matrix("topsis", matrix, weights.tolist(), directions.tolist()), repeat
    )
    numpy_s = median_time(lambda: numpy_topsis(matrix, weights, directions), repeat)
    # Not part of ranking: turning every table into JSON lists, as an evaluation stores them.
    json_s = median_time(lambda: tables_json(ours), 3)
    return {
        "topsis_alternatives": alternatives,
        "topsis_criteria": criteria,
        "topsis_ms": round(1000 * service_s, 2),
        "numpy_topsis_ms": round(1000 * numpy_s, 2),
        "topsis_ratio": round(service_s / numpy_s, 2),
        "topsis_tables_to_json_ms": round(1000 * json_s, 2),
    }


def seed_capacity(vendors: int, skills: int, months: int, share: float):
    """Stored data for a capacity plan: org, skills, vendors with skills, rates, contracts, roster."""
    from django.contrib.auth import get_user_model

    from partnerscope.engagements.models import Assignment, Engagement, Person
    from partnerscope.orgs.models import Membership
    from partnerscope.orgs.services import create_organization
    from partnerscope.sourcing.models import CapacityPlan, DemandLine, PersonSkill, VendorCapacity
    from partnerscope.vendors.models import RateCardLine, Skill, Vendor, VendorSkill

    rng = random.Random(7)
    owner = get_user_model().objects.create_user("bench@example.test")
    org = create_organization(slug="bench", name="Bench", owner=owner, seed_skills=False)
    membership = Membership.objects.select_related("user", "organization").get(user=owner)
    skill_rows = Skill.objects.bulk_create(
        Skill(organization=org, name=f"Skill {i:02d}") for i in range(skills)
    )
    vendor_rows = Vendor.objects.bulk_create(
        Vendor(organization=org, name=f"Vendor {i:03d}") for i in range(vendors)
    )
    start = datetime.date(2030, 1, 1)
    offered, rates, contracts, caps = [], [], [], []
    per_vendor = max(1, round(share * skills))
    for index, vendor in enumerate(vendor_rows):
        for skill in rng.sample(skill_rows, per_vendor):
            offered.append(
                VendorSkill(
                    organization=org,
                    vendor=vendor,
                    skill=skill,
                    level=rng.randint(2, 5),
                    headcount=rng.randint(2, 15),
                )
            )
        hourly = [rng.randint(35, 95) for _ in range(2)]
        for seniority, rate in zip(("mid", "senior"), hourly, strict=True):
            rates.append(
                RateCardLine(
                    organization=org, vendor=vendor, role="Engineer", seniority=seniority, currency="EUR",
                    rate=Decimal(rate), unit="hour", valid_from=datetime.date(2029, 1, 1),
                )
            )  # fmt: skip
        contracted = index % 4 == 0
        if contracted:  # a quarter under contract: baseline, flex band, notice, a minimum inside the band
            baseline, band = rng.randint(3, 8), rng.choice([10, 20, 30])
            monthly = statistics.median(hourly) * 160
            minimum = 12 * monthly * int(baseline * (100 - band) / 100) * 0.95
            contracts.append(
                Engagement(
                    organization=org, vendor=vendor, name=f"Contract {index}", model="dedicated_team",
                    start_date=datetime.date(2029, 1, 1), baseline_fte=Decimal(baseline), flex_band_pct=band,
                    notice_period_days=rng.choice([30, 60, 90]), minimum_commitment=Decimal(round(minimum)),
                )
            )  # fmt: skip
        caps.append(
            VendorCapacity(
                organization=org, vendor=vendor, bench_fte=Decimal(rng.randint(0, 3)),
                lead_time_months=rng.randint(0, 2),
                # A contracted team may start below its band: no growth limit, so it can get there.
                max_growth_fte_per_month=None if contracted else Decimal(rng.randint(3, 10)),
            )
        )  # fmt: skip
    VendorSkill.objects.bulk_create(offered)
    RateCardLine.objects.bulk_create(rates)
    Engagement.objects.bulk_create(contracts)
    VendorCapacity.objects.bulk_create(caps)
    # The current teams on the roster, and in-house people with their skills.
    people = Person.objects.bulk_create(
        Person(organization=org, name=f"Person {i}") for i in range(vendors * 3)
    )
    assignments, person_skills = [], []
    for i, person in enumerate(people):
        vendor = vendor_rows[i % vendors] if i % 5 else None
        assignments.append(
            Assignment(organization=org, person=person, vendor=vendor, valid_from=datetime.date(2028, 1, 1))
        )
        if vendor is None:
            for skill in rng.sample(skill_rows, 2):
                person_skills.append(PersonSkill(organization=org, person=person, skill=skill, share_pct=50))
    Assignment.objects.bulk_create(assignments)
    PersonSkill.objects.bulk_create(person_skills)
    plan = CapacityPlan.objects.create(
        organization=org, name="Bench plan", start_month=start, months=months, unmet_penalty=Decimal(40000),
        mip_gap=Decimal("0.001"), time_limit_s=1800,
    )  # fmt: skip
    capacity = {}
    for row in offered:
        capacity[row.skill_id] = capacity.get(row.skill_id, 0) + row.headcount
    demand = []
    for skill in skill_rows:
        base = capacity.get(skill.id, 0) * rng.uniform(0.15, 0.45)
        for month in plan.month_starts():
            seasonal = 1 + 0.2 * rng.uniform(-1, 1)
            demand.append(
                DemandLine(
                    organization=org,
                    plan=plan,
                    skill=skill,
                    month=month,
                    fte=Decimal(round(base * seasonal, 1)),
                )
            )
    DemandLine.objects.bulk_create(demand)
    return membership, plan, len(offered)


def bench_capacity(vendors: int, skills: int, months: int, share: float, repeat: int = 3) -> dict:
    from partnerscope.decisions import build_highs
    from partnerscope.sourcing.capacity import build_model, run_solve
    from partnerscope.sourcing.models import CapacityPlan, PlanLine
    from partnerscope.sourcing.services import queue_solve

    membership, plan, pairs = seed_capacity(vendors, skills, months, share)

    def end_to_end():
        run = queue_solve(CapacityPlan.objects.get(pk=plan.pk), user=membership.user, claim=True)
        return run_solve(run)

    def highs_alone():
        model, _ = build_model(membership, CapacityPlan.objects.get(pk=plan.pk))
        highs, _ = build_highs(model)
        cpu = time.process_time()
        seconds, _ = timed(highs.run)
        return seconds, time.process_time() - cpu, highs

    # Alternate the two so a busy machine weighs on both; medians over the pairs. CPU time is
    # reported too: on a shared machine the solver's wall time varies far more than ours.
    e2e, e2e_cpu, alone, alone_cpu, gaps = [], [], [], [], []
    for _ in range(repeat):
        cpu = time.process_time()
        seconds, run = timed(end_to_end)
        e2e_cpu.append(time.process_time() - cpu)
        assert run.status == "succeeded", run.message
        e2e.append(seconds)
        seconds, cpu_seconds, highs = highs_alone()
        alone.append(seconds)
        alone_cpu.append(cpu_seconds)
        gaps.append(highs.getInfo().mip_gap)
    stored = CapacityPlan.objects.get(pk=plan.pk)
    assert stored.status == "solved", (stored.status, stored.conflicts)
    return {
        "milp_vendors": vendors,
        "milp_skills": skills,
        "milp_months": months,
        "milp_integer_variables": pairs * months,
        "milp_plan_lines": PlanLine.objects.filter(plan=plan).count(),
        "milp_status": stored.solver_status,
        "milp_end_to_end_s": round(statistics.median(e2e), 3),
        "highs_alone_s": round(statistics.median(alone), 3),
        "milp_ratio": round(statistics.median(e2e) / statistics.median(alone), 3),
        "milp_end_to_end_cpu_s": round(statistics.median(e2e_cpu), 3),
        "highs_alone_cpu_s": round(statistics.median(alone_cpu), 3),
        "milp_cpu_ratio": round(statistics.median(e2e_cpu) / statistics.median(alone_cpu), 3),
        "milp_gap": round(stored.gap, 6),
        "highs_alone_gap": round(max(gaps), 6),
    }


def bench_montecarlo(draws: int) -> dict:
    from partnerscope.decisions import DEFAULT_INPUTS
    from partnerscope.sourcing.cost_scenarios import clean_inputs, run

    inputs = clean_inputs({name: list(spec.value) for name, spec in DEFAULT_INPUTS.items() if spec.ranged})
    run(inputs, n_draws=1000, seed=1)  # warm up imports and caches
    walls, cpus = [], []
    for _ in range(3):
        cpu_start = time.process_time()
        wall, result = timed(lambda: run(inputs, n_draws=draws, seed=0))
        walls.append(wall)
        cpus.append(time.process_time() - cpu_start)
    wall, cpu = statistics.median(walls), statistics.median(cpus)
    return {
        "montecarlo_draws": draws,
        "montecarlo_months": result["months"],
        "montecarlo_s_per_100k": round(wall * 100_000 / draws, 3),
        "montecarlo_cpu_s_per_100k": round(cpu * 100_000 / draws, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    for name in ("alternatives", "criteria", "vendors", "skills", "months", "draws"):
        parser.add_argument(f"--{name}", type=int, help=f"override the scale's {name}")
    parser.add_argument(
        "--skill-share", type=float, default=0.3, help="share of the skills each vendor offers"
    )
    args = parser.parse_args()
    size = {
        **SCALES[args.scale],
        **{k: v for k, v in vars(args).items() if k in SCALES["small"] and v is not None},
    }

    work = Path(tempfile.mkdtemp(prefix="ps-bench-decisions-"))
    os.environ.update(
        PARTNERSCOPE_DATA_DIR=str(work / "data"), DJANGO_SETTINGS_MODULE="partnerscope.settings"
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    result = {"scale": args.scale}
    result.update(bench_topsis(size["alternatives"], size["criteria"]))
    print("partial:", json.dumps(result), file=sys.stderr, flush=True)
    result.update(bench_montecarlo(size["draws"]))
    print("partial:", json.dumps(result), file=sys.stderr, flush=True)
    result.update(bench_capacity(size["vendors"], size["skills"], size["months"], args.skill_share))
    shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
