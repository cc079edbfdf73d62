"""Engagements, people, identities and assignments through the API."""

import pytest

from partnerscope.engagements.models import Assignment, Engagement, Person
from partnerscope.orgs.models import AuditEvent

pytestmark = pytest.mark.django_db

ENGAGEMENT = {"name": "New SOW", "model": "fixed_price", "start_date": "2025-01-01", "budget": "100000"}


def test_engagement_crud(world, api_as):
    client = api_as("owner")
    response = client.post(
        "/engagements", {**ENGAGEMENT, "vendor": world.vendor_a.uid, "internal_notes": "x"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["vendor"] == {"uid": world.vendor_a.uid, "name": "Alpha Soft"}
    assert body["budget"] == "100000.00"
    assert body["status"] == "active"
    uid = body["uid"]
    response = client.patch(f"/engagements/{uid}", {"end_date": "2025-12-31", "vendor": world.vendor_b.uid})
    assert response.status_code == 200, response.content
    assert response.json()["vendor"]["uid"] == world.vendor_b.uid
    response = client.patch(f"/engagements/{uid}", {"end_date": "2024-12-31"})
    assert response.status_code == 422  # ends before it starts
    response = client.patch(f"/engagements/{uid}", {"vendor": None})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "vendor"]
    assert client.delete(f"/engagements/{uid}").status_code == 204
    assert client.get(f"/engagements/{uid}").status_code == 404
    actions = AuditEvent.objects.filter(object_uid=uid).order_by("id").values_list("action", flat=True)
    assert list(actions) == [
        "partnerscope.engagement.created",
        "partnerscope.engagement.updated",
        "partnerscope.engagement.deleted",
    ]


def test_engagement_with_assignments_cannot_be_deleted(world, api_as):
    response = api_as("owner").delete(f"/engagements/{world.engagement_a.uid}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body"]
    assert "assignments" in response.json()["detail"][0]["msg"]


def test_engagement_with_another_tenants_vendor_is_422_like_a_made_up_one(world, api_as):
    client = api_as("owner")
    foreign = client.post("/engagements", {**ENGAGEMENT, "vendor": world.other_vendor.uid})
    made_up = client.post("/engagements", {**ENGAGEMENT, "vendor": "abcdefghijkmnpqr"})
    assert foreign.status_code == made_up.status_code == 422
    assert foreign.json() == made_up.json()
    assert foreign.json() == {
        "detail": [
            {
                "loc": ["body", "vendor"],
                "msg": "Select a valid vendor: that one does not exist.",
                "type": "value_error",
            }
        ]
    }
    assert not Engagement.objects.filter(name="New SOW").exists()
    # Same on PATCH.
    response = client.patch(f"/engagements/{world.engagement_a.uid}", {"vendor": world.other_vendor.uid})
    assert response.json()["detail"][0]["loc"] == ["body", "vendor"]


def test_engagement_required_skills_by_uid_and_audited(world, api_as):
    from partnerscope.vendors.models import Skill

    client = api_as("owner")
    python, android = (Skill.objects.get(organization=world.org, name=n) for n in ("Python", "Android"))
    response = client.patch(f"/engagements/{world.engagement_a.uid}", {"required_skills": [python.uid]})
    assert response.status_code == 200, response.content
    assert response.json()["required_skills"] == [{"uid": python.uid, "name": "Python"}]
    # A PATCH without the field leaves the skills; one with it replaces them.
    assert client.patch(f"/engagements/{world.engagement_a.uid}", {"reference": "SOW-7"}).json()[
        "required_skills"
    ] == [{"uid": python.uid, "name": "Python"}]
    response = client.patch(f"/engagements/{world.engagement_a.uid}", {"required_skills": [android.uid]})
    assert [x["uid"] for x in response.json()["required_skills"]] == [android.uid]
    event = AuditEvent.objects.filter(object_uid=world.engagement_a.uid).order_by("-id").first()
    assert (event.before["required_skills"], event.after["required_skills"]) == (["Python"], ["Android"])
    # The vendor reads them on its own engagement.
    listed = api_as("vendor_a").get("/engagements").json()["items"]
    assert [x["uid"] for x in listed[0]["required_skills"]] == [android.uid]
    # Another tenant's skill is refused like a made-up one, and nothing changes.
    foreign = Skill.objects.get(organization=world.other_org, name="Python")
    response = client.patch(
        f"/engagements/{world.engagement_a.uid}", {"required_skills": [foreign.uid], "reference": "X"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "required_skills"]
    world.engagement_a.refresh_from_db()
    assert world.engagement_a.reference == "SOW-7"
    assert list(world.engagement_a.required_skills.all()) == [android]


def test_engagement_filters_and_vendor_scope(world, api_as):
    owner = api_as("owner")
    assert owner.get("/engagements").json()["count"] == 2
    only_b = owner.get(f"/engagements?vendor={world.vendor_b.uid}").json()
    assert [e["uid"] for e in only_b["items"]] == [world.engagement_b.uid]
    assert owner.get("/engagements?status=ended").json()["count"] == 0
    assert owner.get("/engagements?model=dedicated_team").json()["count"] == 2
    assert owner.get(f"/engagements?vendor={world.other_vendor.uid}").json()["count"] == 0
    assert owner.get(f"/engagements/{world.engagement_a.uid}").json()["internal_notes"] == "client-only note"

    vendor = api_as("vendor_a")
    body = vendor.get("/engagements").json()
    assert [e["uid"] for e in body["items"]] == [world.engagement_a.uid]
    assert all("internal_notes" not in e for e in body["items"])
    assert "internal_notes" not in vendor.get(f"/engagements/{world.engagement_a.uid}").json()
    assert vendor.get(f"/engagements/{world.engagement_b.uid}").status_code == 404


def test_person_identity_assignment_lifecycle(world, api_as):
    client = api_as("manager")
    response = client.post("/people", {"name": "Nora New", "email": "nora@alpha.test", "notes": "hired"})
    assert response.status_code == 201
    person = response.json()["uid"]
    assert response.json()["notes"] == "hired"

    response = client.post(f"/people/{person}/identities", {"kind": "email", "value": " Nora@Alpha.TEST "})
    assert response.status_code == 201, response.content
    assert response.json()["value"] == "nora@alpha.test"
    identity = response.json()["uid"]
    duplicate = client.post(f"/people/{person}/identities", {"kind": "email", "value": "nora@alpha.test"})
    assert duplicate.status_code == 422
    assert client.get(f"/people/{person}/identities").json()["count"] == 1

    response = client.post(
        f"/people/{person}/assignments",
        {
            "vendor": world.vendor_a.uid,
            "engagement": world.engagement_a.uid,
            "role": "QA",
            "seniority": "mid",
            "valid_from": "2024-03-01",
        },
    )
    assert response.status_code == 201, response.content
    assignment = response.json()
    assert assignment["vendor"]["uid"] == world.vendor_a.uid
    assert assignment["engagement"]["uid"] == world.engagement_a.uid
    assert assignment["is_current"] is True

    response = client.patch(f"/people/{person}/assignments/{assignment['uid']}", {"valid_to": "2024-12-31"})
    assert response.status_code == 200, response.content
    assert response.json()["is_current"] is False

    assert client.delete(f"/people/{person}/assignments/{assignment['uid']}").status_code == 204
    assert client.delete(f"/people/{person}/identities/{identity}").status_code == 204
    response = client.patch(f"/people/{person}", {"title": "QA lead"})
    assert response.json()["title"] == "QA lead"
    assert client.delete(f"/people/{person}").status_code == 204
    assert not Person.objects.filter(uid=person).exists()
    actions = set(AuditEvent.objects.filter(actor=world.users["manager"]).values_list("action", flat=True))
    assert {
        "partnerscope.person.created",
        "partnerscope.identity.created",
        "partnerscope.assignment.created",
        "partnerscope.assignment.updated",
        "partnerscope.assignment.deleted",
        "partnerscope.identity.deleted",
        "partnerscope.person.updated",
        "partnerscope.person.deleted",
    } <= actions


def test_overlapping_assignment_is_422_on_valid_from(world, api_as):
    client = api_as("owner")
    # Ana works for vendor A from 2024-01-01, open-ended; vendor B at the same time contradicts it.
    response = client.post(
        f"/people/{world.person_a.uid}/assignments",
        {"vendor": world.vendor_b.uid, "engagement": world.engagement_b.uid, "valid_from": "2024-05-01"},
    )
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "valid_from"]
    assert "one employer at a time" in error["msg"]
    # And twice on the same engagement.
    response = client.post(
        f"/people/{world.person_a.uid}/assignments",
        {"vendor": world.vendor_a.uid, "engagement": world.engagement_a.uid, "valid_from": "2024-05-01"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "valid_from"]
    assert "Overlaps the assignment" in response.json()["detail"][0]["msg"]
    assert Assignment.objects.filter(person=world.person_a).count() == 1


def test_assignment_references_are_scoped(world, api_as):
    client = api_as("owner")
    response = client.post(
        f"/people/{world.inhouse.uid}/assignments",
        {"engagement": world.other_engagement.uid, "valid_from": "2025-01-01"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "engagement"]
    # Another tenant's person in the path: 404.
    response = client.post(f"/people/{world.other_person.uid}/assignments", {"valid_from": "2025-01-01"})
    assert response.status_code == 404


def test_vendor_sees_its_people_and_only_its_assignments(world, api_as):
    client = api_as("vendor_a")
    people = client.get("/people").json()
    assert {p["uid"] for p in people["items"]} == {world.person_a.uid, world.mover.uid}
    assert all("notes" not in p for p in people["items"])
    assert "notes" not in client.get(f"/people/{world.mover.uid}").json()
    assert client.get(f"/people/{world.person_b.uid}").status_code == 404
    assert client.get(f"/people/{world.inhouse.uid}").status_code == 404
    assert client.get(f"/people/{world.person_b.uid}/assignments").status_code == 404

    # The mover moved from vendor A to vendor B: vendor A sees only its own period.
    moves = client.get(f"/people/{world.mover.uid}/assignments").json()
    assert moves["count"] == 1
    assert moves["items"][0]["vendor"]["uid"] == world.vendor_a.uid
    assert moves["items"][0]["valid_to"] == "2024-06-30"
    everything = client.get("/assignments?limit=500").json()
    assert {a["vendor"]["uid"] for a in everything["items"]} == {world.vendor_a.uid}
    assert client.get("/assignments?current=true").json()["count"] == 1  # Ana; the mover left
    assert client.get(f"/assignments?vendor={world.vendor_b.uid}").json()["count"] == 0

    owner = api_as("owner")
    assert owner.get(f"/people/{world.mover.uid}/assignments").json()["count"] == 2
    assert owner.get(f"/people/{world.mover.uid}").json()["notes"] == "client-only"
    assert owner.get("/assignments").json()["count"] == 5
    assert owner.get(f"/assignments?engagement={world.engagement_b.uid}").json()["count"] == 2
    assert owner.get("/assignments?current=true").json()["count"] == 4


def test_assignment_input_errors_name_the_field(world, api_as):
    client = api_as("owner")
    base = f"/people/{world.inhouse.uid}/assignments"
    response = client.post(base, {"valid_from": "2025-01-01", "seniority": "wizard"})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "seniority"]]
    response = client.post(base, {"valid_from": "2020-01-01", "allocation_pct": 101})
    assert response.json()["detail"][0]["loc"] == ["body", "allocation_pct"]


def test_an_assignment_carries_its_staffing_request_date(world, api_as):
    client = api_as("owner")
    person = client.post("/people", {"name": "Nora New", "email": "nora@acme.test"}).json()["uid"]
    late = client.post(
        f"/people/{person}/assignments",
        {"engagement": world.engagement_a.uid, "valid_from": "2025-02-03", "requested_on": "2025-02-10"},
    )
    assert late.status_code == 422
    assert late.json()["detail"][0]["loc"] == ["body", "requested_on"]
    response = client.post(
        f"/people/{person}/assignments",
        {"engagement": world.engagement_a.uid, "valid_from": "2025-02-03", "requested_on": "2025-01-06"},
    )
    assert response.status_code == 201, response.content
    assert response.json()["requested_on"] == "2025-01-06"
    assert Assignment.objects.get(uid=response.json()["uid"]).requested_on.isoformat() == "2025-01-06"
