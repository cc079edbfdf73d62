"""The pages end to end with the Django test client: request → ranking → explanation → decision,
the demand grid and a solved plan; bad input is a message next to the field, never a 500."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from partnerscope.sourcing import services
from partnerscope.sourcing.capacity import run_solve
from partnerscope.sourcing.models import CapacityPlan, Decision, DemandLine, Evaluation, SourcingRequest
from partnerscope.vendors.models import Skill
from tests.conftest import client_for
from tests.sourcing.conftest import make_request, score


def url(name, *args):
    return reverse(name, args=["acme", *args])


def request_form(skill_uid, **overrides):
    data = {
        "title": "Checkout squad",
        "description": "Rebuild the checkout",
        "start_date": "2025-07-01",
        "duration_months": "6",
        "budget_ceiling": "",
        "currency": "EUR",
        "exchange_rates": "USD 0.9",
        "required_overlap_hours": "3",
        "client_timezone": "Europe/Berlin",
        "workday_start": "09:00",
        "workday_end": "17:00",
        "required_certifications": "",
        "engagement_model": "dedicated_team",
        "mix_junior": "0",
        "mix_mid": "50",
        "mix_senior": "50",
        "mix_lead": "0",
        "mix_principal": "0",
        "skills-TOTAL_FORMS": "3",
        "skills-INITIAL_FORMS": "0",
        "skills-MIN_NUM_FORMS": "0",
        "skills-MAX_NUM_FORMS": "40",
        "skills-0-skill": skill_uid,
        "skills-0-min_level": "3",
        "skills-0-headcount": "4",
        "skills-0-required": "on",
        "skills-1-min_level": "3",
        "skills-2-min_level": "3",
    }
    return {**data, **overrides}


def test_a_request_is_created_ranked_explained_and_decided_in_the_pages(world, market, scores):
    scores[market["a"].id] = score(78, sample=240)
    client = client_for(world, "manager")
    response = client.post(url("sourcing_request_create"), request_form(market["skills"]["Python"].uid))
    assert response.status_code == 302, response.content.decode()[:2000]
    req = SourcingRequest.objects.get(title="Checkout squad")
    detail = client.get(url("sourcing_request_detail", req.uid)).content.decode()
    assert "Python" in detail and "Mid 50 %" in detail

    weights = {f"weight_{k}": v for k, v in req.weights.items()}
    response = client.post(
        url("sourcing_rank", req.uid), {"method": "topsis", "weight_source": "direct", **weights}
    )
    assert response.status_code == 302
    evaluation = Evaluation.objects.get(request=req)
    page = client.get(response["Location"]).content.decode()
    assert "Candidates that pass every gate" in page
    assert "no history" in page  # B and C have no scorecard: shown as such, not as 0
    assert "240 events" in page
    assert "4.5 h from Bengaluru (Asia/Kolkata) ≥ 3 h required" in page
    explain = client.get(url("evaluation_explain", evaluation.uid)).content.decode()
    for table in ("matrix", "normalized", "weighted", "distances", "sensitivity"):
        assert f'id="{table}"' in explain
    assert "Ideal" in explain and "Anti-ideal" in explain

    top = evaluation.ranking[0]
    response = client.post(
        url("evaluation_decide", evaluation.uid),
        {"vendor": top["vendor"], "action": "shortlisted", "note": "call them"},
    )
    assert response.status_code == 302
    decision = Decision.objects.get(request=req)
    assert decision.actor == world.users["manager"] and decision.snapshot["ranking"] == evaluation.ranking
    detail = client.get(url("sourcing_request_detail", req.uid)).content.decode()
    assert "decision-log" in detail and "call them" in detail and "1 of 3" in detail


def test_bad_request_input_is_shown_on_the_form(world, market):
    client = client_for(world, "owner")
    python = market["skills"]["Python"].uid
    response = client.post(url("sourcing_request_create"), request_form(python, mix_mid="10"))
    assert response.status_code == 400 and "adds up to 60 %" in response.content.decode()
    response = client.post(
        url("sourcing_request_create"),
        request_form(python, **{"skills-1-skill": python, "skills-1-headcount": "1"}),
    )
    assert (
        response.status_code == 400 and "Python is listed twice (rows 1 and 2)" in response.content.decode()
    )
    response = client.post(url("sourcing_request_create"), request_form(python, exchange_rates="USD nine"))
    assert response.status_code == 400 and "Line 1" in response.content.decode()
    assert not SourcingRequest.objects.exists()


def test_an_inconsistent_ahp_matrix_is_refused_pointing_at_the_judgement(world, market):
    req = make_request(world.owner_m, market["skills"])
    client = client_for(world, "owner")
    data = {"method": "topsis", "weight_source": "ahp"}
    for a, b in services.criterion_pairs():
        data[f"pair_{a}__{b}"] = f"{1:.6f}"
    data["pair_skill_coverage__past_performance"] = f"{9:.6f}"
    data["pair_past_performance__cost"] = f"{9:.6f}"
    data["pair_skill_coverage__cost"] = f"{1 / 9:.6f}"
    response = client.post(url("sourcing_rank", req.uid), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="inconsistent"' in page and "Too inconsistent (consistency ratio" in page
    assert not Evaluation.objects.filter(request=req).exists()


def test_viewers_read_but_cannot_rank_or_decide(world, market):
    req = make_request(world.owner_m, market["skills"], required_overlap_hours=Decimal(0))
    evaluation = services.evaluate_request(membership=world.owner_m, request=req)
    viewer = client_for(world, "viewer")
    assert viewer.get(url("evaluation_detail", evaluation.uid)).status_code == 200
    assert viewer.get(url("evaluation_explain", evaluation.uid)).status_code == 200
    assert viewer.get(url("sourcing_rank", req.uid)).status_code == 403
    response = viewer.post(
        url("evaluation_decide", evaluation.uid), {"vendor": market["a"].uid, "action": "shortlisted"}
    )
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_a_vendor_user_gets_404_even_for_a_ranking_that_names_its_vendor(world, market):
    req = make_request(world.owner_m, market["skills"], required_overlap_hours=Decimal(0))
    evaluation = services.evaluate_request(membership=world.owner_m, request=req)
    vendor = client_for(world, "vendor_a")
    for name, args in (
        ("sourcing_request_list", ()),
        ("sourcing_request_detail", (req.uid,)),
        ("evaluation_detail", (evaluation.uid,)),
        ("evaluation_explain", (evaluation.uid,)),
        ("capacity_plan_list", ()),
        ("cost_scenario_list", ()),
    ):
        assert vendor.get(url(name, *args)).status_code == 404, name
    nav = vendor.get(url("vendor_list")).content.decode()
    assert "Sourcing" not in nav and "Planning" not in nav


def test_the_demand_grid_saves_all_cells_or_none_with_each_error_named(world):
    m = world.owner_m
    python = Skill.objects.visible_to(m).get(name="Python")
    react = Skill.objects.visible_to(m).get(name="React")
    plan = services.save_plan(
        membership=m, instance=CapacityPlan(name="Grid", start_month=datetime.date(2025, 7, 1), months=2)
    )
    client = client_for(world, "owner")
    data = {
        "grid": "1",
        "new_0_skill": python.uid, "new_0_2025-07": "3", "new_0_2025-08": "abc",
        "new_1_skill": "", "new_1_2025-07": "2",
    }  # fmt: skip
    response = client.post(url("capacity_demand", plan.uid), data)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Python, 2025-08: “abc” is not an FTE" in page and "New row 2: choose its skill" in page
    assert not DemandLine.objects.filter(plan=plan).exists()
    data.update({"new_0_2025-08": "4.5", "new_1_skill": react.uid})
    assert client.post(url("capacity_demand", plan.uid), data).status_code == 302
    assert DemandLine.objects.filter(plan=plan).count() == 3
    # The grid shows the stored rows; clearing a row drops its skill.
    page = client.get(url("capacity_demand", plan.uid)).content.decode()
    assert f'name="cell_{python.uid}_2025-08" value="4.5"' in page
    response = client.post(
        url("capacity_demand", plan.uid),
        {
            "grid": "1",
            f"cell_{python.uid}_2025-07": "1",
            f"cell_{python.uid}_2025-08": "",
            f"cell_{react.uid}_2025-07": "",
        },
    )
    assert response.status_code == 302
    assert list(DemandLine.objects.filter(plan=plan).values_list("skill__name", "fte")) == [
        ("Python", Decimal(1))
    ]


def test_a_solved_plan_page_shows_the_plan_the_chart_and_the_binding_constraints(world, scores):
    m = world.owner_m
    python = Skill.objects.visible_to(m).get(name="Python")
    plan = services.save_plan(
        membership=m, instance=CapacityPlan(name="Q3", start_month=datetime.date(2025, 7, 1), months=3)
    )
    services.set_demand(membership=m, plan=plan, cells={(python, datetime.date(2025, 8, 1)): Decimal(30)})
    run_solve(services.start_solve(membership=m, plan=plan, enqueue=False))
    page = client_for(world, "viewer").get(url("capacity_plan_detail", plan.uid)).content.decode()
    assert 'id="plan-sources"' in page and "Unmet" in page and "data:image/svg+xml;base64," in page
    assert 'id="binding"' in page and "(capacity)" in page
    compare = client_for(world, "viewer").get(url("capacity_compare") + f"?plan={plan.uid}").content.decode()
    assert "Plans side by side" in compare and "Q3" in compare


@pytest.mark.parametrize(
    "name", ["supply_overview", "cost_scenario_list", "capacity_plan_list", "capacity_compare"]
)
def test_lists_render_empty(world, name):
    assert client_for(world, "owner").get(url(name)).status_code == 200


def test_an_oversized_or_bad_demand_upload_is_a_message_not_an_error(world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    m = world.owner_m
    plan = services.save_plan(
        membership=m, instance=CapacityPlan(name="Upload", start_month=datetime.date(2025, 7, 1), months=1)
    )
    client = client_for(world, "owner")
    big = SimpleUploadedFile("big.csv", b"skill,2025-07\n" + b"x" * (1024 * 1024 + 10))
    response = client.post(url("capacity_import", plan.uid), {"file": big})
    assert (
        response.status_code == 400
        and "big.csv: the file is 1024 KB; at most 1024 KB" in response.content.decode()
    )
    bad = SimpleUploadedFile("d.csv", b"skill,2025-07\nPython,lots\n")
    response = client.post(url("capacity_import", plan.uid), {"file": bad})
    assert response.status_code == 400 and "row 2, column 2 (Python, 2025-07)" in response.content.decode()
    good = SimpleUploadedFile("d.csv", b"skill,2025-07\nPython,2\n")
    assert client.post(url("capacity_import", plan.uid), {"file": good}).status_code == 302
    assert DemandLine.objects.filter(plan=plan).count() == 1


@pytest.mark.parametrize(("method", "text"), [("vikor", "Compromise set"), ("promethee_ii", "φ+")])
def test_the_explanation_shows_the_chosen_methods_own_table(world, market, scores, method, text):
    scores[market["a"].id] = score(80)
    scores[market["b"].id] = score(60)
    req = make_request(world.owner_m, market["skills"], required_overlap_hours=Decimal(0))
    services.set_ranking(
        membership=world.owner_m, request=req, method=method, weight_source="direct", weights=req.weights
    )
    evaluation = services.evaluate_request(membership=world.owner_m, request=req)
    page = client_for(world, "viewer").get(url("evaluation_explain", evaluation.uid)).content.decode()
    assert 'id="method-scores"' in page and text in page and 'id="distances"' in page
