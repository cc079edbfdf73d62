"""Vendors, their profile records and the skills taxonomy through the API."""

import pytest

from partnerscope.orgs.models import AuditEvent
from partnerscope.vendors.models import RateCardLine, Skill, Vendor

pytestmark = pytest.mark.django_db


def _actions(uid):
    return list(AuditEvent.objects.filter(object_uid=uid).order_by("id").values_list("action", flat=True))


def test_vendor_crud_with_audit(world, api_as):
    client = api_as("manager")
    response = client.post(
        "/vendors",
        {"name": "Delta Dev", "status": "onboarding", "website": "https://delta.test", "internal_notes": "n"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    uid = body["uid"]
    assert body["name"] == "Delta Dev"
    assert body["status"] == "onboarding"
    assert body["internal_notes"] == "n"
    vendor = Vendor.objects.get(uid=uid)
    assert vendor.organization == world.org

    assert client.get(f"/vendors/{uid}").json()["website"] == "https://delta.test"

    response = client.patch(f"/vendors/{uid}", {"status": "active"})
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert response.json()["website"] == "https://delta.test"  # untouched fields stay

    assert client.delete(f"/vendors/{uid}").status_code == 204
    assert not Vendor.objects.filter(uid=uid).exists()
    assert client.get(f"/vendors/{uid}").status_code == 404

    assert _actions(uid) == [
        "partnerscope.vendor.created",
        "partnerscope.vendor.updated",
        "partnerscope.vendor.deleted",
    ]
    event = AuditEvent.objects.get(object_uid=uid, action="partnerscope.vendor.updated")
    assert event.actor == world.users["manager"]
    assert event.before["status"] == "onboarding"
    assert event.after["status"] == "active"
    assert event.remote_addr == "127.0.0.1"


def test_vendor_validation_errors_name_the_field(world, api_as):
    client = api_as("owner")
    response = client.post("/vendors", {"name": "Alpha Soft"})  # already exists in this tenant
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "name"]]

    response = client.post("/vendors", {"name": "X", "website": "not a url"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "website"]

    response = client.post("/vendors", {"name": "X", "status": "sleeping"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "status"]

    response = client.post("/vendors", {"name": "X", "surprise": True})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "surprise"]

    response = client.post("/vendors", {"legal_name": "No name"})
    assert response.json()["detail"] == [
        {"loc": ["body", "name"], "msg": "Field required", "type": "missing"}
    ]

    response = client.patch(f"/vendors/{world.vendor_a.uid}", {"name": ""})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "name"]

    # Same name in another tenant is fine.
    assert client.post("/vendors", {"name": "Gamma Group"}).status_code == 201


def test_vendor_with_engagements_cannot_be_deleted(world, api_as):
    response = api_as("owner").delete(f"/vendors/{world.vendor_a.uid}")
    assert response.status_code == 422
    assert "engagements" in response.json()["detail"][0]["msg"]
    assert Vendor.objects.filter(pk=world.vendor_a.pk).exists()


def test_rate_line_crud_with_audit(world, api_as):
    client = api_as("owner")
    base = f"/vendors/{world.vendor_a.uid}/rates"
    payload = {
        "role": "QA engineer",
        "seniority": "mid",
        "currency": "EUR",
        "rate": "45.50",
        "unit": "hour",
        "valid_from": "2024-01-01",
    }
    response = client.post(base, payload)
    assert response.status_code == 201, response.content
    line = response.json()
    assert line["rate"] == "45.50"
    assert line["valid_to"] is None
    uid = line["uid"]

    listed = client.get(base).json()
    assert listed["count"] == 2
    assert uid in {item["uid"] for item in listed["items"]}

    response = client.patch(f"{base}/{uid}", {"rate": 47, "valid_to": "2024-12-31"})
    assert response.status_code == 200, response.content
    assert response.json()["rate"] == "47.00"
    assert response.json()["valid_to"] == "2024-12-31"

    # An overlapping line for the same role, seniority, currency and unit is refused.
    response = client.post(base, {**payload, "valid_from": "2024-06-01"})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "valid_from"]
    assert "Overlaps the existing rate" in error["msg"]

    assert client.delete(f"{base}/{uid}").status_code == 204
    assert not RateCardLine.objects.filter(uid=uid).exists()

    events = AuditEvent.objects.filter(object_uid=uid).order_by("id")
    assert [e.action for e in events] == [
        "partnerscope.ratecardline.created",
        "partnerscope.ratecardline.updated",
        "partnerscope.ratecardline.deleted",
    ]
    assert {e.vendor_uid for e in events} == {world.vendor_a.uid}


def test_every_profile_kind_round_trips(world, api_as):
    client = api_as("owner")
    base = f"/vendors/{world.vendor_b.uid}"
    skill = Skill.objects.get(organization=world.org, name="Go")
    cases = {
        "skills": ({"skill": skill.uid, "level": 3, "headcount": 4}, {"headcount": 5}),
        "locations": (
            {"city": "Kraków", "country": "Poland", "timezone": "Europe/Warsaw"},
            {"headcount": 80},
        ),
        "domains": ({"domain": " Beta-Works.TEST "}, {"domain": "beta2.test"}),
        "certifications": ({"name": "SOC 2", "issued_on": "2024-01-01"}, {"expires_on": "2026-01-01"}),
        "case-studies": ({"title": "Bank app", "year": 2022}, {"summary": "Mobile banking"}),
        "contacts": ({"name": "Bea", "email": "bea@beta.test", "is_primary": True}, {"phone": "+48 1"}),
        "rates": (
            {"role": "Dev", "seniority": "lead", "currency": "PLN", "rate": 200, "valid_from": "2024-01-01"},
            {"unit": "day"},
        ),
    }
    for kind, (create, change) in cases.items():
        response = client.post(f"{base}/{kind}", create)
        assert response.status_code == 201, (kind, response.content)
        uid = response.json()["uid"]
        response = client.patch(f"{base}/{kind}/{uid}", change)
        assert response.status_code == 200, (kind, response.content)
        for key, value in change.items():
            assert response.json()[key] == value, kind
        assert uid in {i["uid"] for i in client.get(f"{base}/{kind}").json()["items"]}, kind
        assert client.delete(f"{base}/{kind}/{uid}").status_code == 204, kind
        assert client.patch(f"{base}/{kind}/{uid}", change).status_code == 404, kind

    # The domain was normalised by the service.
    response = client.post(f"{base}/domains", {"domain": " Beta-Works.TEST "})
    assert response.json()["domain"] == "beta-works.test"
    # Unknown kind of profile record.
    assert client.get(f"{base}/invoices").status_code == 404


def test_profile_validation(world, api_as):
    client = api_as("owner")
    base = f"/vendors/{world.vendor_a.uid}"
    response = client.post(f"{base}/locations", {"city": "X", "country": "Y", "timezone": "Mars/Olympus"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "timezone"]
    response = client.post(
        f"{base}/certifications", {"name": "C", "issued_on": "2024-02-01", "expires_on": "2024-01-01"}
    )
    assert response.json()["detail"][0]["loc"] == ["body", "expires_on"]
    # A skill of another tenant is the same 422 as a made-up one.
    other_skill = Skill.objects.get(organization=world.other_org, name="Rust")
    foreign = client.post(f"{base}/skills", {"skill": other_skill.uid})
    made_up = client.post(f"{base}/skills", {"skill": "zzzzzzzzzzzzzzzz"})
    assert foreign.status_code == made_up.status_code == 422
    assert foreign.json() == made_up.json()
    assert foreign.json()["detail"][0]["loc"] == ["body", "skill"]
    assert "does not exist" in foreign.json()["detail"][0]["msg"]


def test_vendor_user_sees_only_its_vendor(world, api_as):
    client = api_as("vendor_a")
    body = client.get("/vendors").json()
    assert body["count"] == 1
    assert {v["uid"] for v in body["items"]} == {world.vendor_a.uid}
    for item in body["items"]:
        assert "internal_notes" not in item
    own = client.get(f"/vendors/{world.vendor_a.uid}")
    assert own.status_code == 200
    assert "internal_notes" not in own.json()
    assert client.get(f"/vendors/{world.vendor_a.uid}/rates").json()["count"] == 1

    other = world.vendor_b
    assert client.get(f"/vendors/{other.uid}").json() == {"detail": "Not found."}
    assert client.get(f"/vendors/{other.uid}").status_code == 404
    for kind in ["skills", "locations", "domains", "certifications", "case-studies", "contacts", "rates"]:
        assert client.get(f"/vendors/{other.uid}/{kind}").status_code == 404, kind
    # Vendor B's rate line addressed under vendor A's own uid: not found either.
    b_rate = other.rate_lines.get()
    assert client.patch(f"/vendors/{world.vendor_a.uid}/rates/{b_rate.uid}", {"rate": 1}).status_code == 404
    # Filters cannot widen the scope.
    assert client.get("/vendors?q=Beta").json()["count"] == 0


def test_client_users_see_internal_notes(world, api_as):
    client = api_as("viewer")
    body = client.get("/vendors").json()
    assert {v["uid"] for v in body["items"]} == {world.vendor_a.uid, world.vendor_b.uid}
    assert all(item["internal_notes"].startswith("secret about") for item in body["items"])
    assert client.get(f"/vendors/{world.vendor_a.uid}").json()["internal_notes"] == "secret about Alpha Soft"


def test_vendor_list_filters_and_pagination(world, api_as):
    client = api_as("owner")
    for i in range(5):
        client.post("/vendors", {"name": f"Paged {i}", "status": "prospect"})
    assert client.get("/vendors?status=prospect").json()["count"] == 5
    assert client.get("/vendors?q=alpha").json()["items"][0]["uid"] == world.vendor_a.uid
    first = client.get("/vendors?limit=3&offset=0").json()
    second = client.get("/vendors?limit=3&offset=3").json()
    assert first["count"] == second["count"] == 7
    names = [v["name"] for v in first["items"] + second["items"]]
    assert len(names) == 6
    assert names == sorted(names)
    assert client.get("/vendors?limit=501").status_code == 422
    assert client.get("/vendors?limit=500").status_code == 200
    assert client.get("/vendors?limit=0").status_code == 422
    assert client.get("/vendors?offset=-1").status_code == 422
    assert client.get("/vendors?status=sleeping").status_code == 422


def test_skills_taxonomy(world, api_as):
    client = api_as("owner")
    response = client.post("/skills", {"name": "Elixir", "category": "Languages"})
    assert response.status_code == 201
    assert AuditEvent.objects.filter(
        object_uid=response.json()["uid"], action="partnerscope.skill.created"
    ).exists()
    duplicate = client.post("/skills", {"name": "Elixir"})
    assert duplicate.status_code == 422
    assert duplicate.json()["detail"][0]["loc"] == ["body", "name"]
    listed = client.get("/skills?q=elixir").json()
    assert [s["name"] for s in listed["items"]] == ["Elixir"]
    all_skills = client.get("/skills?limit=500").json()
    assert all_skills["count"] == Skill.objects.filter(organization=world.org).count()
    assert "Elixir" not in {s["name"] for s in api_as("outsider").get("/skills?limit=500").json()["items"]}
