"""The sourcing and planning API end to end: errors name the field, vendors see nothing."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from partnerscope.sourcing import services
from partnerscope.sourcing.models import CapacityPlan, DemandLine, SourcingRequest
from tests.api.conftest import ApiClient, api_secret
from tests.sourcing.conftest import score


@pytest.fixture
def api(world):
    def make(persona, scope=None):
        scope = scope or ("write" if persona in {"owner", "manager"} else "read")
        return ApiClient(api_secret(world, persona, scope))

    return make


def request_body(python_uid, **overrides):
    return {
        "title": "Data squad",
        "start_date": "2025-07-01",
        "duration_months": 6,
        "seniority_mix": {"senior": 100},
        "currency": "EUR",
        "exchange_rates": "USD 0.9",
        "client_timezone": "Europe/Berlin",
        "required_overlap_hours": 0,
        "skills": [{"skill": python_uid, "min_level": 4, "headcount": 2}],
        **overrides,
    }


def test_a_request_is_ranked_and_decided_through_the_api(world, market, scores, api):
    scores[market["a"].id] = score(80)
    scores[market["c"].id] = score(55)
    owner = api("owner")
    response = owner.post("/sourcing-requests", request_body(market["skills"]["Python"].uid))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["skills"][0]["skill_name"] == "Python" and body["seniority_mix"] == {"senior": 100.0}
    uid = body["uid"]

    response = owner.post(f"/sourcing-requests/{uid}/evaluations", {"method": "vikor"})
    assert response.status_code == 201, response.content
    evaluation = response.json()
    assert evaluation["method"] == "vikor" and len(evaluation["ranking"]) == 3
    assert {"normalized", "weighted", "ideal", "anti_ideal", "d_plus", "d_minus", "closeness", "q"} <= set(
        evaluation["result"]["tables"]
    )
    no_history = next(r for r in evaluation["ranking"] if r["vendor"] == market["b"].uid)
    assert no_history["no_data"] == ["Past performance"]

    top = evaluation["ranking"][0]["vendor"]
    response = owner.post(f"/evaluations/{evaluation['uid']}/decisions", {"vendor": top, "action": "chosen"})
    assert response.status_code == 422 and "shortlist it first" in response.content.decode()
    response = owner.post(
        f"/evaluations/{evaluation['uid']}/decisions", {"vendor": top, "action": "shortlisted"}
    )
    assert response.status_code == 201
    log = api("viewer").get(f"/sourcing-requests/{uid}/decisions").json()
    assert log["count"] == 1 and log["items"][0]["snapshot"]["ranking"] == evaluation["ranking"]
    assert log["items"][0]["actor"] == "owner@acme.test"


def test_an_inconsistent_ahp_matrix_answers_422_naming_the_judgement(world, market, api):
    req = api("owner").post("/sourcing-requests", request_body(market["skills"]["Python"].uid)).json()
    pairwise = {
        "skill_coverage>past_performance": 9,
        "past_performance>cost": 9,
        "skill_coverage>cost": 1 / 9,
    }
    response = api("owner").post(f"/sourcing-requests/{req['uid']}/evaluations", {"pairwise": pairwise})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"][:2] == ["body", "pairwise"] and ">" in error["loc"][2]
    assert "consistency ratio" in error["msg"]


@pytest.mark.parametrize(
    ("overrides", "loc", "text"),
    [
        ({"skills": [{"skill": "z" * 16}]}, ["body", "skills", "0", "skill"], "does not exist"),
        ({"seniority_mix": {"senior": 40}}, ["body", "seniority_mix"], "adds up to 40 %"),
        ({"workday_start": "25:00"}, ["body", "workday_start"], "HH:MM"),
        ({"client_timezone": "Moon/Base"}, ["body", "client_timezone"], "IANA"),
        ({"skills": []}, ["body", "skills"], "at least 1"),
    ],
)
def test_bad_request_fields_answer_422_naming_them(world, market, api, overrides, loc, text):
    response = api("owner").post(
        "/sourcing-requests", request_body(market["skills"]["Python"].uid, **overrides)
    )
    assert response.status_code == 422, response.content
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and text in e["msg"] for e in errors), errors
    assert not SourcingRequest.objects.exists()


def test_another_tenants_skill_is_refused_like_a_missing_one(world, market, api):
    from partnerscope.vendors.models import Skill

    foreign = Skill.objects.filter(organization=world.other_org, name="Python").get()
    response = api("owner").post("/sourcing-requests", request_body(foreign.uid))
    missing = api("owner").post("/sourcing-requests", request_body("z" * 16))
    assert response.status_code == missing.status_code == 422
    assert response.json() == missing.json()


def test_a_capacity_plan_is_filled_solved_and_read_through_the_api(
    world, api, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from partnerscope.vendors.models import Skill

    python = Skill.objects.visible_to(world.owner_m).get(name="Python").uid
    owner = api("owner")
    plan = owner.post(
        "/capacity-plans", {"name": "API plan", "start_month": "2025-07-15", "months": 2}
    ).json()
    assert plan["start_month"] == "2025-07-01"
    response = owner.request(
        "PUT",
        f"/capacity-plans/{plan['uid']}/demand",
        {"cells": [{"skill": python, "month": "2025-09", "fte": 1}]},
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == [
        "body",
        "cells",
        "0",
        "month",
    ]
    cells = [
        {"skill": python, "month": "2025-07", "fte": 3},
        {"skill": python, "month": "2025-08", "fte": 30},
    ]
    response = owner.request("PUT", f"/capacity-plans/{plan['uid']}/demand", {"cells": cells})
    assert response.status_code == 200 and len(response.json()["cells"]) == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.post(f"/capacity-plans/{plan['uid']}/solves")
    assert response.status_code == 202
    run = api("viewer").get(f"/capacity-solves/{response.json()['uid']}").json()
    assert run["status"] == "succeeded", run["message"]
    solved = api("viewer").get(f"/capacity-plans/{plan['uid']}").json()
    assert solved["status"] == "solved" and solved["gap"] <= 0.001 and solved["binding"]
    lines = api("viewer").get(f"/capacity-plans/{plan['uid']}/lines?kind=unmet").json()
    assert lines["count"] == 1 and lines["items"][0]["month"] == "2025-08"
    response = owner.post(f"/capacity-plans/{plan['uid']}/adopt")
    assert response.status_code == 200 and response.json()["adopted_by"] == "owner@acme.test"
    assert owner.post(f"/capacity-plans/{plan['uid']}/adopt").status_code == 409


def test_demand_imports_through_the_api_all_or_nothing(world, api):
    from partnerscope.vendors.models import Skill

    python = Skill.objects.visible_to(world.owner_m).get(name="Python")
    plan = services.save_plan(
        membership=world.owner_m, instance=CapacityPlan(name="CSV", start_month="2025-07-01", months=2)
    )
    client = api("owner")
    path = f"/api/v1/capacity-plans/{plan.uid}/demand/import"
    headers = {"HTTP_AUTHORIZATION": f"Bearer {client.secret}"}
    bad = SimpleUploadedFile("d.csv", b"skill,2025-07,2025-08\nPython,1,x\n", content_type="text/csv")
    response = client.client.post(path, {"file": bad}, **headers)
    assert response.status_code == 422 and "row 2, column 3" in response.content.decode()
    assert not DemandLine.objects.filter(plan=plan).exists()
    good = SimpleUploadedFile("d.csv", b"skill,2025-07,2025-08\nPython,1,2\n", content_type="text/csv")
    assert client.client.post(path, {"file": good}, **headers).status_code == 200
    assert DemandLine.objects.filter(plan=plan, skill=python).count() == 2


def test_cost_scenarios_through_the_api(world, api):
    inputs = api("viewer").get("/cost-model/inputs").json()
    assert any(i["name"] == "attrition_yearly" and "LinkedIn" in i["source"] for i in inputs)
    response = api("manager").post(
        "/cost-scenarios", {"name": "x", "inputs": {"salary": [3, 2, 1]}, "n_draws": 500}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "salary"]
    response = api("manager").post(
        "/cost-scenarios", {"name": "Mobile team", "inputs": {"headcount": 8}, "n_draws": 500}
    )
    assert response.status_code == 201
    assert response.json()["result"]["headcount"] == 8


def test_vendor_tokens_get_404_everywhere_here(world, market, api):
    req = services.save_request(
        membership=world.owner_m,
        instance=SourcingRequest(title="x", start_date="2025-07-01", seniority_mix={"senior": 100}),
        needs=[services.NeedInput(market["skills"]["Python"], 3, 1)],
    )
    vendor = api("vendor_a")
    for path in (
        "/sourcing-requests",
        f"/sourcing-requests/{req.uid}",
        "/capacity-plans",
        "/cost-scenarios",
        "/cost-model/inputs",
    ):
        assert vendor.get(path).status_code == 404, path
