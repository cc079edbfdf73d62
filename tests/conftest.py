"""Persona fixtures: owner, manager, viewer, vendor A, vendor B, outsider, deactivated user.

Data is created through the services, as users would create it, so tests see the same rows
(and audit events) the product makes.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from partnerscope.engagements.models import Assignment, Engagement, Identity, Person
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.connector_services import save_connection
from partnerscope.evidence.connectors.store import store_pull_requests
from partnerscope.evidence.models import Connection, Repository
from partnerscope.evidence.services import save_repository
from partnerscope.orgs import services as org_services
from partnerscope.orgs.models import Membership, Organization
from partnerscope.vendors.models import (
    Certification,
    Contact,
    RateCardLine,
    Skill,
    Vendor,
    VendorEmailDomain,
    VendorSkill,
)
from partnerscope.vendors.services import save_vendor_record

PASSWORD = "correct-horse-battery-42"


def make_user(email: str, *, active: bool = True):
    user = get_user_model().objects.create_user(username=email, email=email, password=PASSWORD)
    if not active:
        user.is_active = False
        user.save(update_fields=["is_active"])
    return user


@dataclass
class World:
    """Two tenants; in the first, two vendors with engagements, people and a vendor mover."""

    org: Organization
    other_org: Organization
    owner_m: Membership
    vendor_a: Vendor
    vendor_b: Vendor
    other_vendor: Vendor
    engagement_a: Engagement
    engagement_b: Engagement
    other_engagement: Engagement
    person_a: Person
    person_b: Person
    mover: Person
    inhouse: Person
    other_person: Person
    users: dict


def _seed_vendor(m, name, domain):
    v = save_vendor_record(membership=m, instance=Vendor(name=name, internal_notes=f"secret about {name}"))
    skill = Skill.objects.visible_to(m).get(name="Python")
    save_vendor_record(membership=m, instance=VendorSkill(vendor=v, skill=skill, level=4, headcount=12))
    save_vendor_record(
        membership=m,
        instance=RateCardLine(
            vendor=v,
            role="Backend engineer",
            seniority="senior",
            currency="EUR",
            rate=60,
            valid_from=datetime.date(2024, 1, 1),
        ),
    )
    save_vendor_record(membership=m, instance=Certification(vendor=v, name="ISO 27001"))
    save_vendor_record(membership=m, instance=Contact(vendor=v, name=f"AM of {name}", email=f"am@{domain}"))
    save_vendor_record(membership=m, instance=VendorEmailDomain(vendor=v, domain=domain))
    return v


def _engagement(m, vendor, name):
    return save_roster_record(
        membership=m,
        instance=Engagement(
            vendor=vendor,
            name=name,
            model="dedicated_team",
            start_date=datetime.date(2024, 1, 1),
            currency="EUR",
            baseline_fte=5,
            internal_notes="client-only note",
        ),
    )


def pull_request_row(number: int, login: str, created: datetime.datetime, **fields) -> dict:
    """A pull request as the connectors' mapping gives it (see connectors/github/mapping.py)."""
    return {
        "number": number, "title": f"Change {number}", "url": "", "state": "merged", "draft": False,
        "created_at": created, "updated_at": created, "ready_at": created, "first_commit_at": created,
        "merged_at": created + datetime.timedelta(hours=5), "closed_at": created + datetime.timedelta(hours=5),
        "merge_commit_sha": "", "additions": 10, "deletions": 2, "changed_files": 1, "commit_count": 1,
        "labels": [], "actor": login, "acted_on": created.date(), "is_bot": False, "commits": [], "reviews": [],
        **fields,
    }  # fmt: skip


def _person(m, name, email, assignments):
    p = save_roster_record(membership=m, instance=Person(name=name, email=email, notes="client-only"))
    save_roster_record(membership=m, instance=Identity(person=p, kind="email", value=email))
    for vendor, engagement, start, end in assignments:
        save_roster_record(
            membership=m,
            instance=Assignment(
                person=p,
                vendor=vendor,
                engagement=engagement,
                valid_from=start,
                valid_to=end,
                role="Engineer",
                seniority="senior",
                rate=55,
                currency="EUR",
            ),
        )
    return p


@pytest.fixture
def world(db) -> World:
    d = datetime.date
    owner = make_user("owner@acme.test")
    org = org_services.create_organization(slug="acme", name="Acme", owner=owner)
    owner_m = Membership.objects.get(user=owner, organization=org)
    vendor_a = _seed_vendor(owner_m, "Alpha Soft", "alpha.test")
    vendor_b = _seed_vendor(owner_m, "Beta Works", "beta.test")
    engagement_a = _engagement(owner_m, vendor_a, "Alpha platform team")
    engagement_b = _engagement(owner_m, vendor_b, "Beta mobile app")
    person_a = _person(
        owner_m, "Ana Alpha", "ana@alpha.test", [(vendor_a, engagement_a, d(2024, 1, 1), None)]
    )
    person_b = _person(owner_m, "Ben Beta", "ben@beta.test", [(vendor_b, engagement_b, d(2024, 1, 1), None)])
    mover = _person(
        owner_m,
        "Max Mover",
        "max@mover.test",
        [
            (vendor_a, engagement_a, d(2024, 1, 1), d(2024, 6, 30)),
            (vendor_b, engagement_b, d(2024, 7, 1), None),
        ],
    )
    inhouse = _person(owner_m, "Ida Inhouse", "ida@acme.test", [(None, None, d(2023, 1, 1), None)])
    for engagement in (engagement_a, engagement_b):
        save_repository(
            membership=owner_m,
            instance=Repository(
                engagement=engagement,
                name=f"{engagement.vendor.name} app",
                source="https://git.example.test/app.git",
            ),
        )

    # Each engagement's GitHub project with one pull request by its vendor's engineer.
    for engagement, person, login in (
        (engagement_a, person_a, "ana-alpha"),
        (engagement_b, person_b, "ben-beta"),
    ):
        save_roster_record(membership=owner_m, instance=Identity(person=person, kind="github", value=login))
        connection = save_connection(
            membership=owner_m,
            instance=Connection(
                engagement=engagement,
                name=f"{engagement.vendor.name} GitHub",
                kind="github",
                project=f"acme/{login}",
            ),
            token="ghp_fixture0000000000",
        )
        store_pull_requests(
            connection, [pull_request_row(1, login, datetime.datetime(2024, 3, 1, tzinfo=datetime.UTC))]
        )

    users = {"owner": owner}
    for role in ("manager", "viewer"):
        users[role] = make_user(f"{role}@acme.test")
        org_services.add_member(actor=None, organization=org, user=users[role], role=role)
    users["vendor_a"] = make_user("am@alpha.test")
    org_services.add_member(
        actor=None, organization=org, user=users["vendor_a"], role="vendor", vendor=vendor_a
    )
    users["vendor_b"] = make_user("am@beta.test")
    org_services.add_member(
        actor=None, organization=org, user=users["vendor_b"], role="vendor", vendor=vendor_b
    )
    users["deactivated"] = make_user("gone@acme.test")
    org_services.add_member(actor=None, organization=org, user=users["deactivated"], role="manager")
    users["deactivated"].is_active = False
    users["deactivated"].save(update_fields=["is_active"])

    # The outsider owns another tenant, with its own vendor, engagement and person.
    outsider = make_user("boss@other.test")
    users["outsider"] = outsider
    other_org = org_services.create_organization(slug="other", name="Other Corp", owner=outsider)
    other_m = Membership.objects.get(user=outsider, organization=other_org)
    other_vendor = _seed_vendor(other_m, "Gamma Group", "gamma.test")
    other_engagement = _engagement(other_m, other_vendor, "Gamma data team")
    other_person = _person(
        other_m, "Gil Gamma", "gil@gamma.test", [(other_vendor, other_engagement, d(2024, 1, 1), None)]
    )
    return World(
        org=org,
        other_org=other_org,
        owner_m=owner_m,
        vendor_a=vendor_a,
        vendor_b=vendor_b,
        other_vendor=other_vendor,
        engagement_a=engagement_a,
        engagement_b=engagement_b,
        other_engagement=other_engagement,
        person_a=person_a,
        person_b=person_b,
        mover=mover,
        inhouse=inhouse,
        other_person=other_person,
        users=users,
    )


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # Real hashing costs ~0.3 s a user; tests of access rules do not need its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


PERSONAS = ["anonymous", "owner", "manager", "viewer", "vendor_a", "vendor_b", "outsider", "deactivated"]


def client_for(world: World, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        # force_login bypasses the is_active check on purpose: a deactivated user's old session
        # must stop working on the next request.
        client.force_login(world.users[persona])
    return client


@pytest.fixture
def owner_client(world):
    return client_for(world, "owner")
