"""Northwind's sourcing and planning demo: a request with a shortlist, a hire-vs-outsource
scenario, and a capacity plan with a “+30 % in Q3” scenario, both solved, the base adopted.

Built through the services as the demo owner, with dates relative to today, after the roster,
the evidence and the scorecards exist (past performance and the quality floor read them).
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from partnerscope.engagements.models import Person
from partnerscope.sourcing import services
from partnerscope.sourcing.capacity import run_solve
from partnerscope.sourcing.models import (
    CapacityPlan,
    CostScenario,
    PersonSkill,
    SourcingRequest,
    VendorCapacity,
)
from partnerscope.vendors.models import Skill, Vendor

# vendor name: (bench FTE, lead time in months, growth limit per month or None)
CAPACITY = {
    "Vistula Software": (3, 1, None),
    "Kaveri Technologies": (8, 1, 6),
    "Andes Talent": (2, 1, 2),
    "Bastion Security & QA": (0, 2, 1),
    "Lumen Digital": (0, 2, 2),
}

# person name: [(skill, share of their time %)]
INHOUSE_SKILLS = {
    "Sophie Laurent": [("Kotlin", 50), ("Java", 50)],
    "Ben Carter": [("SQL", 60), ("Data engineering", 40)],
    "Lena Vogel": [("Application security", 100)],
    "Daniel Osei": [("Product management", 100)],
}

# skill: FTE per month over the twelve months of the plan
DEMAND = {
    "Java": [6, 6, 7, 7, 8, 8, 8, 8, 9, 9, 9, 9],
    "Spring": [3] * 12,
    "Kotlin": [3, 3, 3, 4, 4, 4, 4, 4, 4, 3, 3, 3],
    "React": [2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4],
    "Test automation": [3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4, 4],
    "Data engineering": [3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4],
    "Python": [2] * 12,
}


def _first_of_next_month(today: datetime.date) -> datetime.date:
    return (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def load_sourcing_demo(owner) -> dict:
    """``owner``: the demo owner's membership. Returns the records made, by name."""
    today = datetime.date.today()
    skills = {s.name: s for s in Skill.objects.visible_to(owner)}
    vendors = {v.name: v for v in Vendor.objects.visible_to(owner)}
    for name, (bench, lead, growth) in CAPACITY.items():
        services.save_vendor_capacity(
            membership=owner,
            instance=VendorCapacity(
                vendor=vendors[name],
                bench_fte=Decimal(bench),
                lead_time_months=lead,
                max_growth_fte_per_month=Decimal(growth) if growth is not None else None,
            ),
        )
    people = {p.name: p for p in Person.objects.visible_to(owner).filter(name__in=list(INHOUSE_SKILLS))}
    for name, rows in INHOUSE_SKILLS.items():
        for skill, share in rows:
            services.save_person_skill(
                membership=owner,
                instance=PersonSkill(person=people[name], skill=skills[skill], share_pct=share),
            )
    start = _first_of_next_month(today)
    return {
        "request": _sourcing_request(owner, skills, start),
        "scenario": _cost_scenario(owner),
        "plans": _capacity_plans(owner, skills, start),
    }


def _sourcing_request(owner, skills, start) -> SourcingRequest:
    request = services.save_request(
        membership=owner,
        instance=SourcingRequest(
            title="Test automation for the mobile app rebuild",
            description="Three automation engineers to build the regression suite for the rebuilt iOS and "
            "Android apps before the autumn release; manual QA and performance testing help.",
            start_date=start + datetime.timedelta(days=14),
            duration_months=9,
            seniority_mix={"mid": 60, "senior": 40},
            budget_ceiling=Decimal(750_000),
            currency="EUR",
            exchange_rates="USD 0.92",
            required_overlap_hours=Decimal(3),
            client_timezone="Europe/Berlin",
            required_certifications="",
            engagement_model="dedicated_team",
        ),
        needs=[
            services.NeedInput(skills["Test automation"], 3, 3),
            services.NeedInput(skills["Manual QA"], 3, 1, required=False),
            services.NeedInput(skills["Performance testing"], 3, 1, required=False),
        ],
    )
    evaluation = services.evaluate_request(membership=owner, request=request)
    ranked = {v.uid: v for v in Vendor.objects.visible_to(owner)}
    for row in evaluation.ranking[:2]:
        services.record_decision(
            membership=owner,
            request=request,
            evaluation=evaluation,
            vendor=ranked[row["vendor"]],
            action="shortlisted",
            note="Invite to a technical interview" if row["rank"] == 1 else "Ask for references",
        )
    return request


def _cost_scenario(owner) -> CostScenario:
    return services.save_cost_scenario(
        membership=owner,
        instance=CostScenario(
            name="Five backend engineers: hire in Berlin or extend Vistula",
            role="Backend engineer (Java)",
            inputs={
                "headcount": 5,
                "horizon_months": 36,
                "salary": [62_000, 72_000, 85_000],
                "recruiting_cost": [6_000, 12_000, 20_000],
                "time_to_fill_months": [1.5, 2.5, 4],
                "vendor_hourly_rate": [60, 68, 75],
                "notice_months": 3,
                "min_commitment_months": 12,
            },
            n_draws=10_000,
        ),
    )


def _capacity_plans(owner, skills, start) -> list[CapacityPlan]:
    plan = services.save_plan(
        membership=owner,
        instance=CapacityPlan(
            name="Next twelve months",
            description="Engineering demand from the product roadmap, against our people and our vendors.",
            start_month=start,
            months=12,
            currency="EUR",
            exchange_rates="USD 0.92",
            unmet_penalty=Decimal(25_000),
            quality_floor=2,
        ),
    )
    months = plan.month_starts()
    cells = {
        (skills[name], month): Decimal(fte)
        for name, row in DEMAND.items()
        for month, fte in zip(months, row, strict=True)
    }
    services.set_demand(membership=owner, plan=plan, cells=cells, source="demo roadmap")
    q3 = [m for m in months if m.month in (7, 8, 9)]
    scenario = services.create_scenario(
        membership=owner,
        plan=plan,
        name="Roadmap +30 % in Q3",
        change_pct=30,
        first_month=q3[0],
        last_month=q3[-1],
    )
    for each in (plan, scenario):
        run = services.queue_solve(each, user=owner.user, claim=True)
        run_solve(run)
    plan.refresh_from_db()
    if plan.status == CapacityPlan.Status.SOLVED:
        services.adopt_plan(membership=owner, plan=plan)
    return [plan, scenario]
