"""One object of each sourcing and planning kind for the authorization matrices, in the
organization of ``membership`` (an owner's), made through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

from partnerscope.sourcing import services
from partnerscope.sourcing.models import (
    CapacityPlan,
    CostScenario,
    PersonSkill,
    PlanRun,
    SourcingRequest,
    VendorCapacity,
)
from partnerscope.vendors.models import Skill


def sourcing_objects(membership, vendor, person) -> dict:
    skill = Skill.objects.get(organization_id=membership.organization_id, name="Python")
    request = services.save_request(
        membership=membership,
        instance=SourcingRequest(
            title="Matrix need", start_date=datetime.date(2025, 7, 1), seniority_mix={"senior": 100}
        ),
        needs=[services.NeedInput(skill, 3, 1)],
    )
    evaluation = services.evaluate_request(membership=membership, request=request)
    decision = services.record_decision(
        membership=membership, request=request, evaluation=evaluation, vendor=vendor, action="shortlisted"
    )
    capacity = services.save_vendor_capacity(membership=membership, instance=VendorCapacity(vendor=vendor))
    person_skill = services.save_person_skill(
        membership=membership, instance=PersonSkill(person=person, skill=skill)
    )
    scenario = services.save_cost_scenario(
        membership=membership, instance=CostScenario(name="Matrix", inputs={}, n_draws=200)
    )
    plan = services.save_plan(
        membership=membership,
        instance=CapacityPlan(name="Matrix plan", start_month=datetime.date(2025, 7, 1), months=3),
    )
    services.set_demand(
        membership=membership, plan=plan, cells={(skill, datetime.date(2025, 7, 1)): Decimal(2)}
    )
    run = PlanRun.objects.create(organization_id=membership.organization_id, plan=plan)
    return {
        "sourcingrequest": {"uid": request.uid},
        "evaluation": {"uid": evaluation.uid},
        "decision": {"uid": decision.uid},
        "vendorcapacity": {"uid": capacity.uid},
        "personskill": {"uid": person_skill.uid},
        "costscenario": {"uid": scenario.uid},
        "capacityplan": {"uid": plan.uid},
        "planrun": {"uid": run.uid},
    }
