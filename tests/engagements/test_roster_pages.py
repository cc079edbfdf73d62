"""The engagement and roster pages: creation through the forms, scoping, roles and errors."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from partnerscope.engagements.models import Assignment, Engagement, Identity, Person
from partnerscope.engagements.services import save_roster_record
from partnerscope.orgs.models import Membership
from partnerscope.orgs.services import add_member, create_organization
from partnerscope.vendors.models import Vendor
from partnerscope.vendors.services import save_vendor_record

SLUG = "roster-acme"
D = datetime.date


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _user(username):
    return get_user_model().objects.create_user(username=username, password="x" * 16)


@pytest.fixture
def roster_world(db):
    """An organization with two vendors, an owner, a viewer and a user of each vendor."""
    owner = _user("owner@acme.test")
    org = create_organization(slug=SLUG, name="Acme", owner=owner, seed_skills=False)
    m = Membership.objects.get(user=owner, organization=org)
    vendor_a = save_vendor_record(membership=m, instance=Vendor(name="Alpha Dev"))
    vendor_b = save_vendor_record(membership=m, instance=Vendor(name="Beta Soft"))
    viewer = _user("viewer@acme.test")
    add_member(actor=None, organization=org, user=viewer, role="viewer")
    user_a = _user("a@alpha.test")
    add_member(actor=None, organization=org, user=user_a, role="vendor", vendor=vendor_a)
    user_b = _user("b@beta.test")
    add_member(actor=None, organization=org, user=user_b, role="vendor", vendor=vendor_b)
    return {
        "org": org,
        "m": m,
        "owner": _client(owner),
        "viewer": _client(viewer),
        "vendor_a_user": _client(user_a),
        "vendor_b_user": _client(user_b),
        "vendor_a": vendor_a,
        "vendor_b": vendor_b,
    }


def _save(world, instance):
    return save_roster_record(membership=world["m"], instance=instance)


@pytest.fixture
def roster_data(roster_world):
    """One engagement per vendor, a person who moved from A to B, and an in-house person."""
    w = roster_world
    w["eng_a"] = _save(
        w,
        Engagement(
            vendor=w["vendor_a"],
            name="Alpha platform",
            model="dedicated_team",
            start_date=D(2024, 1, 1),
            internal_notes="Renegotiate in Q3",
        ),
    )
    w["eng_b"] = _save(
        w, Engagement(vendor=w["vendor_b"], name="Beta mobile", model="fixed_price", start_date=D(2024, 1, 1))
    )
    w["mover"] = _save(w, Person(name="Ana Mover", email="ana@example.com", notes="Strong reviewer"))
    w["mover_a"] = _save(
        w,
        Assignment(
            person=w["mover"],
            vendor=w["vendor_a"],
            engagement=w["eng_a"],
            role="Backend engineer",
            valid_from=D(2024, 1, 1),
            valid_to=D(2024, 6, 30),
        ),
    )
    w["mover_b"] = _save(
        w,
        Assignment(
            person=w["mover"],
            vendor=w["vendor_b"],
            engagement=w["eng_b"],
            role="Mobile engineer",
            valid_from=D(2024, 7, 1),
        ),
    )
    w["staff"] = _save(w, Person(name="Ivo Inhouse"))
    w["staff_a"] = _save(w, Assignment(person=w["staff"], valid_from=D(2023, 1, 1)))
    return w


def url(name, *args):
    return reverse(name, args=[SLUG, *args])


def test_owner_builds_the_roster_through_the_pages(roster_world):
    w = roster_world
    owner = w["owner"]

    response = owner.post(
        url("engagement_create"),
        {
            "vendor": w["vendor_a"].uid,
            "name": "Payments rebuild",
            "reference": "SOW-7",
            "model": "dedicated_team",
            "status": "active",
            "start_date": "2024-01-01",
            "budget": "250000",
            "currency": "eur",
            "baseline_fte": "5",
            "flex_band_pct": "20",
            "notice_period_days": "60",
            "internal_notes": "Price review due",
        },
    )
    assert response.status_code == 302, response.content.decode()
    engagement = Engagement.objects.get(name="Payments rebuild")
    assert engagement.currency == "EUR"
    assert response["Location"] == url("engagement_detail", engagement.uid)

    response = owner.post(url("person_create"), {"name": "Ana Lopez", "email": "ana@alpha.test"})
    assert response.status_code == 302
    person = Person.objects.get(name="Ana Lopez")

    response = owner.post(url("identity_create", person.uid), {"kind": "github", "value": " ana-dev "})
    assert response.status_code == 302
    assert Identity.objects.get(person=person).value == "ana-dev"

    # From the engagement page: engagement and vendor preselected.
    create = url("assignment_create", person.uid) + f"?engagement={engagement.uid}"
    form = owner.get(create)
    assert form.status_code == 200
    assert form.context["form"].initial["engagement"] == engagement.uid
    assert form.context["form"].initial["vendor"] == w["vendor_a"].uid
    response = owner.post(
        create,
        {
            "vendor": w["vendor_a"].uid,
            "engagement": engagement.uid,
            "role": "Backend engineer",
            "seniority": "senior",
            "rate": "85",
            "currency": "eur",
            "allocation_pct": "100",
            "valid_from": "2024-02-01",
        },
    )
    assert response.status_code == 302, response.content.decode()
    assignment = Assignment.objects.get(person=person)
    assert assignment.currency == "EUR"

    page = owner.get(url("engagement_detail", engagement.uid)).content.decode()
    assert "Payments rebuild" in page and "SOW-7" in page
    assert "250000.00 EUR" in page
    assert "4.0 – 6.0 FTE" in page  # flex range of 5 FTE ± 20 %
    assert "Price review due" in page
    assert "Ana Lopez" in page and "85.00 EUR" in page and "badge ok" in page

    page = owner.get(url("person_detail", person.uid)).content.decode()
    assert "ana-dev" in page and "GitHub username" in page
    assert "Payments rebuild" in page and "Alpha Dev" in page and "Backend engineer" in page

    listing = owner.get(url("person_list")).content.decode()
    assert "Ana Lopez" in listing and "Alpha Dev" in listing
    assert "Payments rebuild" in owner.get(url("engagement_list")).content.decode()


def test_engagement_create_preselects_the_vendor(roster_world):
    w = roster_world
    response = w["owner"].get(url("engagement_create") + f"?vendor={w['vendor_b'].uid}")
    assert response.status_code == 200
    assert response.context["form"].initial["vendor"] == w["vendor_b"].uid


def test_overlapping_assignment_with_another_vendor_is_refused(roster_data):
    w = roster_data
    response = w["owner"].post(
        url("assignment_create", w["mover"].uid),
        {"vendor": w["vendor_a"].uid, "allocation_pct": "50", "valid_from": "2024-08-01"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "one employer at a time" in errors["valid_from"][0]
    assert "one employer at a time" in response.content.decode()
    assert Assignment.objects.filter(person=w["mover"]).count() == 2


def test_bad_dates_are_a_message_not_a_500(roster_data):
    w = roster_data
    response = w["owner"].post(
        url("assignment_create", w["staff"].uid),
        {"allocation_pct": "100", "valid_from": "2020-05-01", "valid_to": "2020-01-01"},
    )
    assert response.status_code == 400
    assert "The end date is before the start date." in response.context["form"].errors["valid_to"]
    edit = w["owner"].post(
        url("engagement_edit", w["eng_b"].uid),
        {
            "vendor": w["vendor_b"].uid,
            "name": "Beta mobile",
            "model": "fixed_price",
            "status": "active",
            "start_date": "2024-05-01",
            "end_date": "2024-01-01",
            "currency": "EUR",
            "flex_band_pct": "0",
            "notice_period_days": "30",
        },
    )
    assert edit.status_code == 400
    assert "end_date" in edit.context["form"].errors


def test_person_who_moved_shows_each_vendor_only_its_assignment(roster_data):
    w = roster_data
    mover = w["mover"]
    page_a = w["vendor_a_user"].get(url("person_detail", mover.uid))
    assert page_a.status_code == 200
    assert [a.uid for a in page_a.context["assignments"]] == [w["mover_a"].uid]
    text_a = page_a.content.decode()
    assert "Alpha platform" in text_a and "Beta" not in text_a
    assert "Strong reviewer" not in text_a  # client-only notes

    page_b = w["vendor_b_user"].get(url("person_detail", mover.uid))
    assert [a.uid for a in page_b.context["assignments"]] == [w["mover_b"].uid]
    text_b = page_b.content.decode()
    assert "Beta mobile" in text_b and "Alpha" not in text_b

    owner_page = w["owner"].get(url("person_detail", mover.uid))
    assert len(owner_page.context["assignments"]) == 2
    assert "Strong reviewer" in owner_page.content.decode()

    # The list: vendor A sees the person but not that B employs them now.
    listing = w["vendor_a_user"].get(url("person_list"))
    assert [p.uid for p in listing.context["people"]] == [mover.uid]
    assert "Beta" not in listing.content.decode()
    moved = w["vendor_a_user"].get(url("person_list") + f"?employer={w['vendor_b'].uid}")
    assert moved.context["people"] == []


def test_vendor_user_gets_404_outside_its_scope(roster_data):
    w = roster_data
    client = w["vendor_a_user"]
    assert client.get(url("engagement_detail", w["eng_b"].uid)).status_code == 404
    assert client.get(url("person_detail", w["staff"].uid)).status_code == 404
    assert client.get(url("person_history", w["mover"].uid)).status_code == 404
    assert client.get(url("engagement_edit", w["eng_a"].uid)).status_code == 404
    own = client.get(url("engagement_detail", w["eng_a"].uid))
    assert own.status_code == 200
    assert "Renegotiate in Q3" not in own.content.decode()
    listing = client.get(url("engagement_list"))
    assert [e.uid for e in listing.context["table"].rows] == [w["eng_a"].uid]


def test_viewer_gets_403_on_edit_pages(roster_data):
    w = roster_data
    viewer = w["viewer"]
    mover = w["mover"]
    for page in [
        url("engagement_create"),
        url("engagement_edit", w["eng_a"].uid),
        url("engagement_delete", w["eng_a"].uid),
        url("person_create"),
        url("person_edit", mover.uid),
        url("person_delete", mover.uid),
        url("identity_create", mover.uid),
        url("assignment_create", mover.uid),
        url("assignment_edit", mover.uid, w["mover_a"].uid),
        url("assignment_delete", mover.uid, w["mover_a"].uid),
    ]:
        assert viewer.get(page).status_code == 403, page
    response = viewer.post(url("person_edit", mover.uid), {"name": "Hacked"})
    assert response.status_code == 403
    page = viewer.get(url("person_detail", mover.uid))
    assert page.status_code == 200
    assert url("person_edit", mover.uid) not in page.content.decode()


def test_engagement_with_assignments_cannot_be_deleted(roster_data):
    w = roster_data
    response = w["owner"].post(url("engagement_delete", w["eng_a"].uid))
    assert response.status_code == 400
    assert "cannot be deleted while it has assignments" in response.content.decode()
    assert Engagement.objects.filter(pk=w["eng_a"].pk).exists()


def test_history_shows_before_and_after_of_an_edit(roster_data):
    w = roster_data
    mover = w["mover"]
    response = w["owner"].post(
        url("person_edit", mover.uid),
        {"name": "Ana Mover", "email": "ana@example.com", "title": "Staff engineer"},
    )
    assert response.status_code == 302
    page = w["owner"].get(url("person_history", mover.uid))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Staff engineer" in text and 'class="after">Staff engineer' in text
    assert any(e.object_uid == w["mover_a"].uid for e in page.context["events"])

    edit = w["owner"].post(
        url("engagement_edit", w["eng_b"].uid),
        {
            "vendor": w["vendor_b"].uid,
            "name": "Beta mobile v2",
            "model": "fixed_price",
            "status": "active",
            "start_date": "2024-01-01",
            "currency": "EUR",
            "flex_band_pct": "0",
            "notice_period_days": "30",
        },
    )
    assert edit.status_code == 302
    history = w["owner"].get(url("engagement_history", w["eng_b"].uid)).content.decode()
    assert 'class="before">Beta mobile<' in history and 'class="after">Beta mobile v2<' in history


def test_person_list_filters_by_employer_in_few_queries(roster_data, django_assert_max_num_queries):
    w = roster_data
    owner = w["owner"]
    inhouse = owner.get(url("person_list") + "?employer=inhouse")
    assert [p.uid for p in inhouse.context["people"]] == [w["staff"].uid]
    beta = owner.get(url("person_list") + f"?employer={w['vendor_b'].uid}")
    assert [p.uid for p in beta.context["people"]] == [w["mover"].uid]
    assert "employer=" in "".join(u or "" for _, u, _ in beta.context["table"].header())
    _save(w, Identity(person=w["staff"], kind="git_name", value="ivo-builds"))
    found = owner.get(url("person_list") + "?q=ivo-builds")
    assert [p.uid for p in found.context["people"]] == [w["staff"].uid]
    for i in range(5):
        person = _save(w, Person(name=f"Extra {i}"))
        _save(w, Assignment(person=person, vendor=w["vendor_a"], valid_from=D(2024, 1, 1)))
    with django_assert_max_num_queries(12):
        response = owner.get(url("person_list"))
    assert response.status_code == 200
    assert response.content.decode().count("<td>Alpha Dev</td>") == 5


def test_identity_and_assignment_delete(roster_data):
    w = roster_data
    identity = _save(w, Identity(person=w["staff"], kind="email", value="Ivo@Acme.test"))
    assert identity.value == "ivo@acme.test"
    response = w["owner"].post(url("identity_delete", w["staff"].uid, identity.uid))
    assert response.status_code == 302
    assert not Identity.objects.filter(pk=identity.pk).exists()
    # Another person's assignment cannot be reached under this person's URL.
    wrong = w["owner"].post(url("assignment_delete", w["staff"].uid, w["mover_a"].uid))
    assert wrong.status_code == 404
    response = w["owner"].post(url("assignment_delete", w["mover"].uid, w["mover_a"].uid))
    assert response.status_code == 302
    assert not Assignment.objects.filter(pk=w["mover_a"].pk).exists()


def test_engagement_assign_picks_a_person_then_opens_the_assignment_form(roster_data):
    w = roster_data
    page = url("engagement_assign", w["eng_a"].uid)
    assert w["owner"].get(page).status_code == 200
    assert w["owner"].post(page, {"person": "no-such-person"}).status_code == 400
    response = w["owner"].post(page, {"person": w["staff"].uid})
    assert response.status_code == 302
    assert response["Location"] == url("assignment_create", w["staff"].uid) + f"?engagement={w['eng_a'].uid}"
    assert not Assignment.objects.filter(person=w["staff"], engagement=w["eng_a"]).exists()
    assert w["vendor_b_user"].get(page).status_code == 404
    assert w["viewer"].get(page).status_code == 403


def test_new_person_from_an_engagement_goes_on_to_their_assignment(roster_data):
    w = roster_data
    create = url("person_create") + f"?engagement={w['eng_b'].uid}"
    response = w["owner"].post(create, {"name": "Nia New"})
    assert response.status_code == 302
    person = Person.objects.get(name="Nia New")
    assert response["Location"] == url("assignment_create", person.uid) + f"?engagement={w['eng_b'].uid}"


def test_assignment_edit_shows_the_current_choices_and_saves(roster_data):
    w = roster_data
    page = url("assignment_edit", w["mover"].uid, w["mover_b"].uid)
    form = w["owner"].get(page)
    assert form.status_code == 200
    text = form.content.decode()
    assert f'<option value="{w["vendor_b"].uid}" selected>' in text
    assert f'<option value="{w["eng_b"].uid}" selected>' in text
    response = w["owner"].post(
        page,
        {
            "vendor": w["vendor_b"].uid,
            "engagement": w["eng_b"].uid,
            "role": "Tech lead",
            "allocation_pct": "80",
            "valid_from": "2024-07-01",
        },
    )
    assert response.status_code == 302, response.content.decode()
    w["mover_b"].refresh_from_db()
    assert (w["mover_b"].role, w["mover_b"].allocation_pct) == ("Tech lead", 80)
    # An engagement of another vendor: the service names the vendor field.
    response = w["owner"].post(
        page,
        {
            "vendor": w["vendor_b"].uid,
            "engagement": w["eng_a"].uid,
            "allocation_pct": "80",
            "valid_from": "2024-07-01",
        },
    )
    assert response.status_code == 400
    assert "must name that vendor" in response.context["form"].errors["vendor"][0]
