"""The demo shows sourcing and planning with realistic content, and every page of it renders."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from partnerscope import demo
from partnerscope.orgs.models import Membership
from partnerscope.sourcing.models import CapacityPlan, CostScenario, Decision, Evaluation, SourcingRequest


@pytest.mark.django_db
def test_the_demo_has_a_shortlist_a_cost_scenario_and_solved_plans_and_every_page_renders():
    org = demo.load_demo().organization
    request = SourcingRequest.objects.get(organization=org)
    evaluation = Evaluation.objects.get(request=request)
    assert len(evaluation.ranking) >= 3, evaluation.result["message"]
    failed = [c for c in evaluation.result["candidates"] if not c["passed"]]
    assert failed and all(any(not g["passed"] and g["reason"] for g in c["gates"]) for c in failed)
    assert Decision.objects.filter(request=request, action="shortlisted").count() == 2
    scenario = CostScenario.objects.get(organization=org)
    assert scenario.result["break_even"]["p50"] is not None and scenario.result["tornado"]
    plans = list(CapacityPlan.objects.filter(organization=org).order_by("created_at"))
    assert [p.status for p in plans] == ["solved", "solved"]
    assert plans[0].adopted_at is not None and plans[1].scenario_of == plans[0]
    assert plans[1].unmet_fte_months >= plans[0].unmet_fte_months  # more demand in Q3
    assert all(p.gap is not None and p.gap <= 0.001 for p in plans)

    owner = Membership.objects.get(organization=org, role="owner").user
    client = Client()
    client.force_login(owner)
    pages = [
        ("sourcing_request_list", []),
        ("sourcing_request_detail", [request.uid]),
        ("sourcing_rank", [request.uid]),
        ("evaluation_detail", [evaluation.uid]),
        ("evaluation_explain", [evaluation.uid]),
        ("decision_detail", [Decision.objects.filter(request=request).first().uid]),
        ("cost_scenario_list", []),
        ("cost_scenario_detail", [scenario.uid]),
        ("cost_scenario_edit", [scenario.uid]),
        ("capacity_plan_list", []),
        ("capacity_plan_detail", [plans[0].uid]),
        ("capacity_demand", [plans[0].uid]),
        ("capacity_scenario", [plans[0].uid]),
        ("supply_overview", []),
    ]
    for name, args in pages:
        response = client.get(reverse(name, args=[org.slug, *args]))
        assert response.status_code == 200, name
    compare = client.get(
        reverse("capacity_compare", args=[org.slug]) + f"?plan={plans[0].uid}&plan={plans[1].uid}"
    )
    assert compare.status_code == 200 and "Roadmap +30 % in Q3" in compare.content.decode()
