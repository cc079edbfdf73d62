"""Pages for engagements and the dated roster: people, their identities and assignments."""

from collections import defaultdict

from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from partnerscope.engagements import services
from partnerscope.engagements.forms import (
    AssignmentForm,
    AssignPersonForm,
    EngagementForm,
    IdentityForm,
    PersonForm,
)
from partnerscope.engagements.models import Assignment, Engagement, Identity, Person
from partnerscope.evidence.models import Repository
from partnerscope.orgs.models import AuditEvent
from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm
from partnerscope.vendors.models import Vendor
from partnerscope.web.crud import client_ip, delete_page, form_page
from partnerscope.web.tables import Column, build_table

ENGAGEMENT_COLUMNS = [
    Column("name", "Engagement", "name"),
    Column("vendor", "Vendor", "vendor__name"),
    Column("model", "Model", "model"),
    Column("status", "Status", "status"),
    Column("start", "Start", "start_date"),
    Column("end", "End", "end_date"),
    Column("fte", "Baseline FTE", "baseline_fte", numeric=True),
]

PERSON_COLUMNS = [
    Column("name", "Name", "name"),
    Column("email", "E-mail", "email"),
    Column("employer", "Current employer"),
    Column("title", "Title", "title"),
]

INHOUSE = "inhouse"


def _history(request, obj, uids, *, section, back_url):
    events = (
        AuditEvent.objects.visible_to(request.membership)
        .filter(object_uid__in=list(uids))
        .select_related("actor")[:500]
    )
    context = {"section": section, "object": obj, "events": events, "back_url": back_url}
    return render(request, "web/history_page.html", context)


def _save(request, form):
    """The service call of a form page: save the form's validated, unsaved instance."""
    m = request.membership

    def save():
        # The engagement form's required skills are a many-to-many field: saved with the record.
        many = form.cleaned_data.get("required_skills") if "required_skills" in form.fields else None
        return services.save_roster_record(
            membership=m, instance=form.instance, remote_addr=client_ip(request), required_skills=many
        )

    return save


def _delete(request, instance):
    m = request.membership
    return lambda: services.delete_roster_record(
        membership=m, instance=instance, remote_addr=client_ip(request)
    )


# Engagements ------------------------------------------------------------------------------


@requires(Perm.VIEW)
def engagement_list(request, org_slug):
    m = request.membership
    rows = Engagement.objects.visible_to(m).select_related("vendor")
    table = build_table(
        request,
        rows,
        ENGAGEMENT_COLUMNS,
        default_sort="-start",
        search=["name", "reference", "vendor__name"],
        filters={"status": "status", "model": "model", "vendor": "vendor__uid"},
    )
    context = {
        "section": "engagements",
        "table": table,
        "statuses": Engagement.Status.choices,
        "models": Engagement.Model.choices,
        "vendors": Vendor.objects.visible_to(m).order_by("name"),
    }
    return render(request, "engagements/engagement_list.html", context)


def _engagement(request, uid):
    return Engagement.objects.get_visible_or_404(request.membership, uid=uid)


@requires(Perm.VIEW)
def engagement_detail(request, org_slug, uid):
    m = request.membership
    engagement = _engagement(request, uid)
    assignments = list(
        Assignment.objects.visible_to(m)
        .filter(engagement=engagement)
        .select_related("person", "vendor")
        .order_by("valid_from", "person__name")
    )
    context = {
        "section": "engagements",
        "engagement": engagement,
        "assignments": assignments,
        "current_count": len({a.person_id for a in assignments if a.is_current}),
        "flex_range": engagement.flex_range(),
        "repositories": Repository.objects.visible_to(m).filter(engagement=engagement),
        "required_skills": _required_skills(m, engagement, assignments),
    }
    return render(request, "engagements/engagement_detail.html", context)


def _required_skills(m, engagement, assignments) -> list[tuple]:
    """(skill, names of the people assigned now who have it). People's skills are client-only
    (their scope gives a vendor user none), so a vendor user sees the skills alone."""
    from partnerscope.sourcing.models import PersonSkill

    skills = list(engagement.required_skills.all())
    holders = defaultdict(list)
    current = {a.person_id: a.person.name for a in assignments if a.is_current}
    if skills and current:
        for skill_id, person_id in (
            PersonSkill.objects.visible_to(m)
            .filter(skill__in=skills, person_id__in=list(current))
            .values_list("skill_id", "person_id")
        ):
            holders[skill_id].append(current[person_id])
    return [(skill, sorted(holders[skill.id])) for skill in skills]


@requires(Perm.EDIT)
def engagement_create(request, org_slug):
    m = request.membership
    initial = {}
    vendor_uid = request.GET.get("vendor", "").strip()[:100]
    if vendor_uid:
        vendor = Vendor.objects.visible_to(m).filter(uid=vendor_uid).first()
        if vendor is not None:
            initial["vendor"] = vendor.uid
    form = EngagementForm(request.POST or None, membership=m, initial=initial)
    return form_page(
        request,
        form,
        title="New engagement",
        section="engagements",
        save=_save(request, form),
        success_url=lambda e: reverse("engagement_detail", args=[org_slug, e.uid]),
        cancel_url=reverse("engagement_list", args=[org_slug]),
        crumbs=[("Engagements", reverse("engagement_list", args=[org_slug]))],
        success_message="Engagement created. Assign people to it below.",
    )


@requires(Perm.EDIT)
def engagement_edit(request, org_slug, uid):
    m = request.membership
    engagement = _engagement(request, uid)
    form = EngagementForm(request.POST or None, instance=engagement, membership=m)
    detail = reverse("engagement_detail", args=[org_slug, uid])
    return form_page(
        request,
        form,
        title=f"Edit {engagement}",
        section="engagements",
        save=_save(request, form),
        success_url=lambda e: detail,
        cancel_url=detail,
        crumbs=[("Engagements", reverse("engagement_list", args=[org_slug])), (engagement.name, detail)],
    )


@requires(Perm.EDIT)
def engagement_delete(request, org_slug, uid):
    engagement = _engagement(request, uid)
    return delete_page(
        request,
        engagement,
        kind="engagement",
        section="engagements",
        delete=_delete(request, engagement),
        success_url=reverse("engagement_list", args=[org_slug]),
        cancel_url=reverse("engagement_detail", args=[org_slug, uid]),
    )


@requires(Perm.VIEW_INTERNAL)
def engagement_history(request, org_slug, uid):
    engagement = _engagement(request, uid)
    return _history(
        request,
        engagement,
        [engagement.uid],
        section="engagements",
        back_url=reverse("engagement_detail", args=[org_slug, uid]),
    )


@requires(Perm.EDIT)
def engagement_assign(request, org_slug, uid):
    """From an engagement's page: pick a person, then fill in their assignment to it."""
    engagement = _engagement(request, uid)
    form = AssignPersonForm(request.POST or None, membership=request.membership)
    detail = reverse("engagement_detail", args=[org_slug, uid])

    def assignment_form(person):
        url = reverse("assignment_create", args=[org_slug, person.uid])
        return f"{url}?{urlencode({'engagement': engagement.uid})}"

    return form_page(
        request,
        form,
        title=f"Assign someone to {engagement}",
        section="engagements",
        intro="Pick a person on the roster; the next page sets the role, rate and dates.",
        save=lambda: form.cleaned_data["person"],  # nothing changes until the next page
        success_url=assignment_form,
        cancel_url=f"{detail}#roster",
        crumbs=[("Engagements", reverse("engagement_list", args=[org_slug])), (engagement.name, detail)],
        submit_label="Next",
        success_message="Now set the assignment's terms.",
    )


# People -----------------------------------------------------------------------------------


def _current(assignments):
    today = timezone.localdate()
    return assignments.filter(valid_from__lte=today).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))


@requires(Perm.VIEW)
def person_list(request, org_slug):
    m = request.membership
    rows = Person.objects.visible_to(m)
    current = _current(Assignment.objects.visible_to(m))
    employer = request.GET.get("employer", "").strip()[:100]
    if employer == INHOUSE:
        rows = rows.filter(id__in=current.filter(vendor__isnull=True).values("person_id"))
    elif employer:
        rows = rows.filter(id__in=current.filter(vendor__uid=employer).values("person_id"))
    table = build_table(
        request,
        rows,
        PERSON_COLUMNS,
        default_sort="name",
        search=["name", "email", "identities__value"],
    )
    if table.query:
        table.rows = table.rows.distinct()
    if employer:
        table.filters["employer"] = employer
        table.params["employer"] = employer
    # One query for everyone's current employer, within what this membership may see.
    employers = {a.person_id: a for a in current.select_related("vendor").order_by("valid_from")}
    people = list(table.rows)
    for person in people:
        person.current_assignment = employers.get(person.id)
    context = {
        "section": "people",
        "table": table,
        "people": people,
        "vendors": Vendor.objects.visible_to(m).order_by("name"),
        "inhouse": INHOUSE,
    }
    return render(request, "engagements/person_list.html", context)


def _person(request, uid):
    return Person.objects.get_visible_or_404(request.membership, uid=uid)


@requires(Perm.VIEW)
def person_detail(request, org_slug, uid):
    m = request.membership
    person = _person(request, uid)
    assignments = list(
        Assignment.objects.visible_to(m)
        .filter(person=person)
        .select_related("vendor", "engagement")
        .order_by("valid_from", "pk")
    )
    current = [a for a in assignments if a.is_current]
    context = {
        "section": "people",
        "person": person,
        "identities": Identity.objects.visible_to(m).filter(person=person),
        "assignments": assignments,
        "current": current[0] if current else None,
    }
    return render(request, "engagements/person_detail.html", context)


@requires(Perm.EDIT)
def person_create(request, org_slug):
    m = request.membership
    form = PersonForm(request.POST or None, membership=m)
    engagement_uid = request.GET.get("engagement", "").strip()[:100]
    engagement = None
    if engagement_uid:
        engagement = Engagement.objects.visible_to(m).filter(uid=engagement_uid).first()

    def success_url(person):
        if engagement is not None:
            url = reverse("assignment_create", args=[org_slug, person.uid])
            return f"{url}?{urlencode({'engagement': engagement.uid})}"
        return reverse("person_detail", args=[org_slug, person.uid])

    return form_page(
        request,
        form,
        title="New person" if engagement is None else f"New person for {engagement}",
        section="people",
        save=_save(request, form),
        success_url=success_url,
        cancel_url=(
            reverse("engagement_detail", args=[org_slug, engagement.uid])
            if engagement is not None
            else reverse("person_list", args=[org_slug])
        ),
        crumbs=[("People", reverse("person_list", args=[org_slug]))],
        success_message=(
            "Person added. Now set their assignment."
            if engagement is not None
            else "Person added. Add their identities and assignments below."
        ),
    )


@requires(Perm.EDIT)
def person_edit(request, org_slug, uid):
    m = request.membership
    person = _person(request, uid)
    form = PersonForm(request.POST or None, instance=person, membership=m)
    detail = reverse("person_detail", args=[org_slug, uid])
    return form_page(
        request,
        form,
        title=f"Edit {person}",
        section="people",
        save=_save(request, form),
        success_url=lambda p: detail,
        cancel_url=detail,
        crumbs=[("People", reverse("person_list", args=[org_slug])), (person.name, detail)],
    )


@requires(Perm.EDIT)
def person_delete(request, org_slug, uid):
    person = _person(request, uid)
    return delete_page(
        request,
        person,
        kind="person",
        section="people",
        delete=_delete(request, person),
        success_url=reverse("person_list", args=[org_slug]),
        cancel_url=reverse("person_detail", args=[org_slug, uid]),
    )


@requires(Perm.VIEW_INTERNAL)
def person_history(request, org_slug, uid):
    m = request.membership
    person = _person(request, uid)
    # Events of the person and of its identities and assignments that still exist.
    uids = [
        person.uid,
        *Identity.objects.visible_to(m).filter(person=person).values_list("uid", flat=True),
        *Assignment.objects.visible_to(m).filter(person=person).values_list("uid", flat=True),
    ]
    return _history(
        request,
        person,
        uids,
        section="people",
        back_url=reverse("person_detail", args=[org_slug, uid]),
    )


# Identities -------------------------------------------------------------------------------


@requires(Perm.EDIT)
def identity_create(request, org_slug, uid):
    m = request.membership
    person = _person(request, uid)
    form = IdentityForm(request.POST or None, membership=m, instance=Identity(person=person))
    detail = reverse("person_detail", args=[org_slug, uid])
    return form_page(
        request,
        form,
        title=f"Add an identity to {person}",
        section="people",
        intro="How this person appears in a source system, so their work is attributed to them.",
        save=_save(request, form),
        success_url=lambda i: f"{detail}#identities",
        cancel_url=f"{detail}#identities",
        crumbs=[("People", reverse("person_list", args=[org_slug])), (person.name, detail)],
        success_message="Added the identity.",
    )


@requires(Perm.EDIT)
def identity_delete(request, org_slug, uid, identity_uid):
    m = request.membership
    person = _person(request, uid)
    identity = Identity.objects.get_visible_or_404(m, uid=identity_uid, person=person)
    detail = reverse("person_detail", args=[org_slug, uid])
    return delete_page(
        request,
        identity,
        kind="identity",
        section="people",
        delete=_delete(request, identity),
        success_url=f"{detail}#identities",
        cancel_url=f"{detail}#identities",
    )


# Assignments ------------------------------------------------------------------------------


def _default_start(engagement):
    """Today while the engagement runs, else its start date."""
    today = timezone.localdate()
    if engagement.start_date > today or (engagement.end_date and engagement.end_date < today):
        return engagement.start_date
    return today


@requires(Perm.EDIT)
def assignment_create(request, org_slug, uid):
    m = request.membership
    person = _person(request, uid)
    initial = {}
    engagement = None
    engagement_uid = request.GET.get("engagement", "").strip()[:100]
    if engagement_uid:
        engagement = Engagement.objects.get_visible_or_404(m, uid=engagement_uid)
        initial = {
            "engagement": engagement.uid,
            "vendor": engagement.vendor.uid,
            "currency": engagement.currency,
            "valid_from": _default_start(engagement),
        }
    form = AssignmentForm(
        request.POST or None, membership=m, instance=Assignment(person=person), initial=initial
    )
    detail = reverse("person_detail", args=[org_slug, uid])
    back = (
        reverse("engagement_detail", args=[org_slug, engagement.uid]) + "#roster"
        if engagement is not None
        else f"{detail}#assignments"
    )
    return form_page(
        request,
        form,
        title=f"Assign {person}" + (f" to {engagement}" if engagement is not None else ""),
        section="people",
        intro="A person works for one employer at a time; end their current assignment before a move.",
        save=_save(request, form),
        success_url=lambda a: back,
        cancel_url=back,
        crumbs=[("People", reverse("person_list", args=[org_slug])), (person.name, detail)],
        success_message="Added the assignment.",
    )


def _assignment(request, uid, assignment_uid):
    person = _person(request, uid)
    assignment = Assignment.objects.get_visible_or_404(request.membership, uid=assignment_uid, person=person)
    return person, assignment


@requires(Perm.EDIT)
def assignment_edit(request, org_slug, uid, assignment_uid):
    m = request.membership
    person, assignment = _assignment(request, uid, assignment_uid)
    form = AssignmentForm(request.POST or None, membership=m, instance=assignment)
    detail = reverse("person_detail", args=[org_slug, uid])
    return form_page(
        request,
        form,
        title=f"Edit assignment of {person}",
        section="people",
        save=_save(request, form),
        success_url=lambda a: f"{detail}#assignments",
        cancel_url=f"{detail}#assignments",
        crumbs=[("People", reverse("person_list", args=[org_slug])), (person.name, detail)],
    )


@requires(Perm.EDIT)
def assignment_delete(request, org_slug, uid, assignment_uid):
    person, assignment = _assignment(request, uid, assignment_uid)
    detail = reverse("person_detail", args=[org_slug, uid])
    return delete_page(
        request,
        assignment,
        kind="assignment",
        section="people",
        delete=_delete(request, assignment),
        success_url=f"{detail}#assignments",
        cancel_url=f"{detail}#assignments",
    )
