"""Vendors, their profile records (skills, locations, ...) and the skills taxonomy.

No ``from __future__ import annotations`` here: the profile-record operations are registered
from a table by a factory, and ninja reads their parameter types from the annotations.
"""

from dataclasses import dataclass

from django.db import models
from ninja import Query, Router, Status

from partnerscope.api import schemas as s
from partnerscope.api.auth import TokenAuth
from partnerscope.api.common import assign, paginate, remote_addr, render
from partnerscope.orgs.roles import Perm
from partnerscope.vendors.models import (
    CaseStudy,
    Certification,
    Contact,
    RateCardLine,
    Skill,
    Vendor,
    VendorEmailDomain,
    VendorLocation,
    VendorSkill,
)
from partnerscope.vendors.services import delete_vendor_record, save_vendor_record

router = Router(tags=["vendors"])
write = TokenAuth(perm=Perm.EDIT)


def _vendor(request, uid: str) -> Vendor:
    return Vendor.objects.get_visible_or_404(request.auth, uid=uid)


def _save(request, instance):
    instance = save_vendor_record(
        membership=request.auth, instance=instance, remote_addr=remote_addr(request)
    )
    instance.refresh_from_db()  # answer with what was stored (decimals, normalised values)
    return instance


def _delete(request, instance) -> None:
    delete_vendor_record(membership=request.auth, instance=instance, remote_addr=remote_addr(request))


# --- vendors --------------------------------------------------------------------------------


@router.get("/vendors", response={200: s.VendorPage, **s.ERRORS}, summary="List vendors")
def list_vendors(
    request,
    page: Query[s.PageParams],
    status: Vendor.Status | None = None,
    q: str | None = None,
):
    """Vendors in scope: a vendor user sees only its own. ``q`` searches name and legal name."""
    qs = Vendor.objects.visible_to(request.auth)
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(models.Q(name__icontains=q) | models.Q(legal_name__icontains=q))
    return paginate(qs, page)


@router.post(
    "/vendors", auth=write, response={201: s.VendorInternalOut, **s.ERRORS}, summary="Create a vendor"
)
def create_vendor(request, payload: s.VendorIn):
    vendor = _save(request, assign(Vendor(), payload.dict(), {}, request.auth))
    return Status(201, s.VendorInternalOut.from_orm(vendor))


@router.get("/vendors/{uid}", response={200: s.AnyVendorOut, **s.ERRORS}, summary="Get a vendor")
def get_vendor(request, uid: str):
    return render(request, _vendor(request, uid), s.VendorInternalOut, s.VendorOut)


@router.patch(
    "/vendors/{uid}", auth=write, response={200: s.VendorInternalOut, **s.ERRORS}, summary="Update a vendor"
)
def update_vendor(request, uid: str, payload: s.VendorPatch):
    vendor = _vendor(request, uid)
    vendor = _save(request, assign(vendor, payload.dict(exclude_unset=True), {}, request.auth))
    return s.VendorInternalOut.from_orm(vendor)


@router.delete("/vendors/{uid}", auth=write, response={204: None, **s.ERRORS}, summary="Delete a vendor")
def delete_vendor(request, uid: str):
    """Deletes the vendor with its profile records; refused (422) while it has engagements."""
    _delete(request, _vendor(request, uid))
    return Status(204, None)


# --- profile records ------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    path: str  # URL segment
    model: type[models.Model]
    schema_in: type[s.Schema]
    schema_out: type[s.Schema]
    label: str  # singular and plural, for summaries
    plural: str
    refs: tuple[tuple[str, type[models.Model]], ...] = ()  # payload fields holding a uid
    select_related: tuple[str, ...] = ()


KINDS = [
    Kind(
        "skills",
        VendorSkill,
        s.VendorSkillIn,
        s.VendorSkillOut,
        "skill",
        "skills",
        (("skill", Skill),),
        ("skill",),
    ),
    Kind("locations", VendorLocation, s.LocationIn, s.LocationOut, "location", "locations"),
    Kind("domains", VendorEmailDomain, s.DomainIn, s.DomainOut, "e-mail domain", "e-mail domains"),
    Kind(
        "certifications",
        Certification,
        s.CertificationIn,
        s.CertificationOut,
        "certification",
        "certifications",
    ),
    Kind("case-studies", CaseStudy, s.CaseStudyIn, s.CaseStudyOut, "case study", "case studies"),
    Kind("contacts", Contact, s.ContactIn, s.ContactOut, "contact", "contacts"),
    Kind("rates", RateCardLine, s.RateIn, s.RateOut, "rate card line", "rate card lines"),
]


def _named(name: str):
    """Name the handler: the name is its OpenAPI operationId and URL name."""

    def decorator(func):
        func.__name__ = func.__qualname__ = name
        return func

    return decorator


def _register(kind: Kind) -> None:
    """Four operations for one kind of profile record, each its own OpenAPI operation."""
    Model, In, Out = kind.model, kind.schema_in, kind.schema_out
    Patch = s.patch_of(In, f"{In.__name__.removesuffix('In')}Patch")
    Page = s.page_of(f"{Out.__name__.removesuffix('Out')}Page", Out)
    refs = dict(kind.refs)
    op = kind.path.replace("-", "_")
    a = "an" if kind.label[0] in "aeiou" else "a"
    collection = f"/vendors/{{uid}}/{kind.path}"
    item = f"{collection}/{{child_uid}}"
    tags = ["vendor profile"]

    def child(request, uid: str, child_uid: str):
        vendor = _vendor(request, uid)
        return Model.objects.get_visible_or_404(request.auth, uid=child_uid, vendor=vendor)

    @router.get(
        collection, response={200: Page, **s.ERRORS}, summary=f"List a vendor's {kind.plural}", tags=tags
    )
    @_named(f"list_vendor_{op}")
    def list_children(request, uid: str, page: Query[s.PageParams]):
        vendor = _vendor(request, uid)
        qs = Model.objects.visible_to(request.auth).filter(vendor=vendor).select_related(*kind.select_related)
        return paginate(qs, page)

    @router.post(
        collection,
        auth=write,
        response={201: Out, **s.ERRORS},
        summary=f"Add {a} {kind.label} to a vendor",
        tags=tags,
    )
    @_named(f"create_vendor_{op}")
    def create_child(request, uid: str, payload: In):
        instance = assign(Model(vendor=_vendor(request, uid)), payload.dict(), refs, request.auth)
        return Status(201, Out.from_orm(_save(request, instance)))

    @router.patch(
        item,
        auth=write,
        response={200: Out, **s.ERRORS},
        summary=f"Update a vendor's {kind.label}",
        tags=tags,
    )
    @_named(f"update_vendor_{op}")
    def update_child(request, uid: str, child_uid: str, payload: Patch):
        instance = child(request, uid, child_uid)
        instance = assign(instance, payload.dict(exclude_unset=True), refs, request.auth)
        return Out.from_orm(_save(request, instance))

    @router.delete(
        item,
        auth=write,
        response={204: None, **s.ERRORS},
        summary=f"Delete a vendor's {kind.label}",
        tags=tags,
    )
    @_named(f"delete_vendor_{op}")
    def delete_child(request, uid: str, child_uid: str):
        _delete(request, child(request, uid, child_uid))
        return Status(204, None)


for _kind in KINDS:
    _register(_kind)


# --- skills taxonomy ------------------------------------------------------------------------


@router.get(
    "/skills", response={200: s.SkillPage, **s.ERRORS}, summary="List the skills taxonomy", tags=["skills"]
)
def list_skills(request, page: Query[s.PageParams], q: str | None = None, category: str | None = None):
    qs = Skill.objects.visible_to(request.auth)
    if q:
        qs = qs.filter(name__icontains=q)
    if category:
        qs = qs.filter(category__iexact=category)
    return paginate(qs, page)


@router.post(
    "/skills",
    auth=write,
    response={201: s.SkillOut, **s.ERRORS},
    summary="Add a skill to the taxonomy",
    tags=["skills"],
)
def create_skill(request, payload: s.SkillIn):
    skill = _save(request, assign(Skill(), payload.dict(), {}, request.auth))
    return Status(201, s.SkillOut.from_orm(skill))
