"""The roster: people, how they appear in source systems, and their dated assignments.

Vendor users see the people their vendor has (or had) assigned, and of those people's
assignments only their own vendor's: ``visible_to`` does that filtering.
"""

from django.db.models import Q
from ninja import Query, Router, Status

from partnerscope.api import schemas as s
from partnerscope.api.auth import TokenAuth
from partnerscope.api.common import assign, current_q, paginate, remote_addr, render
from partnerscope.engagements.models import Assignment, Engagement, Identity, Person
from partnerscope.engagements.services import delete_roster_record, save_roster_record
from partnerscope.orgs.roles import Perm
from partnerscope.vendors.models import Vendor

router = Router(tags=["people"])
write = TokenAuth(perm=Perm.EDIT)
ASSIGNMENT_REFS = {"vendor": Vendor, "engagement": Engagement}
ASSIGNMENT_RELATED = ("person", "vendor", "engagement")


def _person(request, uid: str) -> Person:
    return Person.objects.get_visible_or_404(request.auth, uid=uid)


def _save(request, instance):
    instance = save_roster_record(
        membership=request.auth, instance=instance, remote_addr=remote_addr(request)
    )
    instance.refresh_from_db()  # answer with what was stored (decimals, normalised values)
    return instance


def _delete(request, instance) -> None:
    delete_roster_record(membership=request.auth, instance=instance, remote_addr=remote_addr(request))


# --- people ---------------------------------------------------------------------------------


@router.get("/people", response={200: s.PersonPage, **s.ERRORS}, summary="List people")
def list_people(request, page: Query[s.PageParams], q: str | None = None):
    """People in scope. ``q`` searches name and e-mail."""
    qs = Person.objects.visible_to(request.auth)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(email__icontains=q))
    return paginate(qs, page)


@router.post("/people", auth=write, response={201: s.PersonInternalOut, **s.ERRORS}, summary="Add a person")
def create_person(request, payload: s.PersonIn):
    person = _save(request, assign(Person(), payload.dict(), {}, request.auth))
    return Status(201, s.PersonInternalOut.from_orm(person))


@router.get("/people/{uid}", response={200: s.AnyPersonOut, **s.ERRORS}, summary="Get a person")
def get_person(request, uid: str):
    return render(request, _person(request, uid), s.PersonInternalOut, s.PersonOut)


@router.patch(
    "/people/{uid}", auth=write, response={200: s.PersonInternalOut, **s.ERRORS}, summary="Update a person"
)
def update_person(request, uid: str, payload: s.PersonPatch):
    person = assign(_person(request, uid), payload.dict(exclude_unset=True), {}, request.auth)
    return s.PersonInternalOut.from_orm(_save(request, person))


@router.delete("/people/{uid}", auth=write, response={204: None, **s.ERRORS}, summary="Delete a person")
def delete_person(request, uid: str):
    """Deletes the person with their identities and assignments."""
    _delete(request, _person(request, uid))
    return Status(204, None)


# --- identities -----------------------------------------------------------------------------


@router.get(
    "/people/{uid}/identities",
    response={200: s.IdentityPage, **s.ERRORS},
    summary="List a person's identities",
)
def list_identities(request, uid: str, page: Query[s.PageParams]):
    person = _person(request, uid)
    return paginate(Identity.objects.visible_to(request.auth).filter(person=person), page)


@router.post(
    "/people/{uid}/identities",
    auth=write,
    response={201: s.IdentityOut, **s.ERRORS},
    summary="Add an identity to a person",
)
def create_identity(request, uid: str, payload: s.IdentityIn):
    identity = assign(Identity(person=_person(request, uid)), payload.dict(), {}, request.auth)
    return Status(201, s.IdentityOut.from_orm(_save(request, identity)))


@router.delete(
    "/people/{uid}/identities/{identity_uid}",
    auth=write,
    response={204: None, **s.ERRORS},
    summary="Delete an identity",
)
def delete_identity(request, uid: str, identity_uid: str):
    person = _person(request, uid)
    _delete(request, Identity.objects.get_visible_or_404(request.auth, uid=identity_uid, person=person))
    return Status(204, None)


# --- assignments ----------------------------------------------------------------------------


def _assignment(request, uid: str, assignment_uid: str) -> Assignment:
    person = _person(request, uid)
    qs = Assignment.objects.select_related(*ASSIGNMENT_RELATED)
    return qs.get_visible_or_404(request.auth, uid=assignment_uid, person=person)


@router.get(
    "/people/{uid}/assignments",
    response={200: s.AssignmentPage, **s.ERRORS},
    summary="List a person's assignments",
)
def list_person_assignments(request, uid: str, page: Query[s.PageParams]):
    person = _person(request, uid)
    qs = Assignment.objects.visible_to(request.auth).filter(person=person).select_related(*ASSIGNMENT_RELATED)
    return paginate(qs, page)


@router.post(
    "/people/{uid}/assignments",
    auth=write,
    response={201: s.AssignmentOut, **s.ERRORS},
    summary="Assign a person",
)
def create_assignment(request, uid: str, payload: s.AssignmentIn):
    """Rules: one employer at a time, no double assignment to an engagement over the same days,
    at most 100 % allocated on any day, and an engagement's assignments name its vendor."""
    assignment = Assignment(person=_person(request, uid))
    assignment = _save(request, assign(assignment, payload.dict(), ASSIGNMENT_REFS, request.auth))
    return Status(201, s.AssignmentOut.from_orm(assignment))


@router.patch(
    "/people/{uid}/assignments/{assignment_uid}",
    auth=write,
    response={200: s.AssignmentOut, **s.ERRORS},
    summary="Update an assignment",
)
def update_assignment(request, uid: str, assignment_uid: str, payload: s.AssignmentPatch):
    assignment = _assignment(request, uid, assignment_uid)
    assignment = assign(assignment, payload.dict(exclude_unset=True), ASSIGNMENT_REFS, request.auth)
    return s.AssignmentOut.from_orm(_save(request, assignment))


@router.delete(
    "/people/{uid}/assignments/{assignment_uid}",
    auth=write,
    response={204: None, **s.ERRORS},
    summary="Delete an assignment",
)
def delete_assignment(request, uid: str, assignment_uid: str):
    _delete(request, _assignment(request, uid, assignment_uid))
    return Status(204, None)


@router.get(
    "/assignments",
    response={200: s.AssignmentPage, **s.ERRORS},
    summary="List assignments across people",
    tags=["assignments"],
)
def list_assignments(
    request,
    page: Query[s.PageParams],
    engagement: str | None = None,
    vendor: str | None = None,
    current: bool = False,
):
    """``engagement`` and ``vendor`` are uids; ``current=true`` keeps the ones in force today."""
    qs = Assignment.objects.visible_to(request.auth).select_related(*ASSIGNMENT_RELATED)
    if engagement:
        qs = qs.filter(engagement__uid=engagement)
    if vendor:
        qs = qs.filter(vendor__uid=vendor)
    if current:
        qs = qs.filter(current_q())
    return paginate(qs, page)
