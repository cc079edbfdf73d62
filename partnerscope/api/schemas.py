"""Request and response schemas.

Output schemas come in two audiences where a model has client-only fields: ``XOut`` for
everyone (vendor users included) and ``XInternalOut`` adding the client-only fields, chosen from
``Perm.VIEW_INTERNAL``: by ``out_schema()`` for one record, by ``audience_page_of()`` for the
items of a list. The two are siblings, not parent and child, so a vendor-audience object can
never validate as the internal one. Unions list the internal schema first so an internal object
keeps its extra fields.

Input schemas use the model's field names; related records are referenced by uid. ``XPatch``
schemas are derived: every field optional, and only the fields sent are changed.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, WrapValidator, create_model

from partnerscope.engagements.models import Engagement, Identity
from partnerscope.orgs.roles import Perm
from partnerscope.vendors.models import RateCardLine, Seniority, Vendor, VendorSkill

# --- shared ---------------------------------------------------------------------------------

MAX_LIMIT = 500


class PageParams(Schema):
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT} items per page")
    offset: int = Field(0, ge=0)


class ErrorOut(Schema):
    detail: str


class FieldErrorOut(Schema):
    loc: list[str]
    msg: str
    type: str


class ValidationErrorOut(Schema):
    detail: list[FieldErrorOut]


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ValidationErrorOut}


def page_of(name: str, item_type: Any) -> type[Schema]:
    """``{"count": n, "items": [...]}``."""
    return create_model(name, __base__=Schema, count=(int, ...), items=(list[item_type], ...))


def internal(request) -> bool:
    """Whether the caller may see client-only fields (internal notes, a person's notes)."""
    return request.auth.has_perm(Perm.VIEW_INTERNAL)


def audience_page_of(name: str, internal_type: type[Schema], public_type: type[Schema]) -> type[Schema]:
    """A page whose items validate once each, as the caller's audience.

    The union alone cannot choose for a model: it has every field, so it would always validate
    as the internal schema. The caller is the request ninja puts in the validation context; with
    none, the public schema, so client-only fields are never shown by mistake. The documented
    item type stays the union.
    """

    def as_audience(obj, handler, info):
        request = (info.context or {}).get("request")
        schema = internal_type if request is not None and internal(request) else public_type
        return schema.model_validate(obj, context=info.context)

    return page_of(name, Annotated[internal_type | public_type, WrapValidator(as_audience)])


class In(Schema):
    """Base of input schemas: unknown fields are refused, choices arrive as plain values."""

    model_config = ConfigDict(extra="forbid", use_enum_values=True)


def patch_of(schema: type[Schema], name: str) -> type[Schema]:
    """The same fields as ``schema``, all optional, for PATCH: only the fields sent change."""
    fields = {key: (f.annotation | None, None) for key, f in schema.model_fields.items()}
    return create_model(name, __base__=In, **fields)


class Ref(Schema):
    uid: str
    name: str


# --- me -------------------------------------------------------------------------------------


class OrganizationOut(Schema):
    slug: str
    name: str


class MeOut(Schema):
    username: str
    organization: OrganizationOut
    role: str
    vendor: str | None = Field(description="The vendor uid of a vendor user, else null")
    token_scope: str | None
    permissions: list[str]


# --- vendors and their profile records ------------------------------------------------------


class _VendorBase(Schema):
    uid: str
    name: str
    legal_name: str
    status: str
    website: str
    headquarters_country: str
    description: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class VendorOut(_VendorBase):
    """A vendor as every audience sees it."""


class VendorInternalOut(_VendorBase):
    """A vendor with the client-only fields."""

    internal_notes: str


class VendorIn(In):
    name: str
    legal_name: str = ""
    status: Vendor.Status = Vendor.Status.ACTIVE
    website: str = ""
    headquarters_country: str = ""
    description: str = ""
    internal_notes: str = ""


VendorPatch = patch_of(VendorIn, "VendorPatch")
AnyVendorOut = VendorInternalOut | VendorOut
VendorPage = audience_page_of("VendorPage", VendorInternalOut, VendorOut)


class SkillOut(Schema):
    uid: str
    name: str
    category: str
    paths: str = Field(description="Files whose change shows the skill, one glob a line")


class SkillIn(In):
    name: str
    category: str = ""
    paths: str = Field("", description="Files whose change shows the skill, one glob a line (e.g. *.py)")


SkillPage = page_of("SkillPage", SkillOut)


class VendorSkillOut(Schema):
    uid: str
    skill: SkillOut
    level: int
    headcount: int


class VendorSkillIn(In):
    skill: str = Field(description="Skill uid, from GET /skills")
    level: VendorSkill.Level = VendorSkill.Level.PRACTITIONER
    headcount: int = 0


class LocationOut(Schema):
    uid: str
    city: str
    country: str
    timezone: str
    headcount: int | None


class LocationIn(In):
    city: str
    country: str
    timezone: str = Field(description="IANA name, e.g. Europe/Warsaw")
    headcount: int | None = None


class DomainOut(Schema):
    uid: str
    domain: str


class DomainIn(In):
    domain: str


class CertificationOut(Schema):
    uid: str
    name: str
    issuer: str
    reference: str
    issued_on: datetime.date | None
    expires_on: datetime.date | None
    status: Literal["valid", "expiring", "expired"]


class CertificationIn(In):
    name: str
    issuer: str = ""
    reference: str = ""
    issued_on: datetime.date | None = None
    expires_on: datetime.date | None = None


class CaseStudyOut(Schema):
    uid: str
    title: str
    client_industry: str
    year: int | None
    summary: str
    url: str


class CaseStudyIn(In):
    title: str
    client_industry: str = ""
    year: int | None = None
    summary: str = ""
    url: str = ""


class ContactOut(Schema):
    uid: str
    name: str
    role: str
    email: str
    phone: str
    is_primary: bool


class ContactIn(In):
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""
    is_primary: bool = False


class RateOut(Schema):
    uid: str
    role: str
    seniority: str
    currency: str
    rate: Decimal
    unit: str
    valid_from: datetime.date
    valid_to: datetime.date | None
    is_current: bool


class RateIn(In):
    role: str
    seniority: Seniority
    currency: str = Field(description="ISO 4217 code such as EUR")
    rate: Decimal
    unit: RateCardLine.Unit = RateCardLine.Unit.HOUR
    valid_from: datetime.date
    valid_to: datetime.date | None = None


# --- engagements ----------------------------------------------------------------------------


class _EngagementBase(Schema):
    uid: str
    vendor: Ref
    name: str
    reference: str
    model: str
    status: str
    start_date: datetime.date
    end_date: datetime.date | None
    budget: Decimal | None
    currency: str
    baseline_fte: Decimal | None
    flex_band_pct: int
    notice_period_days: int
    minimum_commitment: Decimal | None
    required_skills: list[Ref]
    description: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class EngagementOut(_EngagementBase):
    """An engagement as every audience sees it."""


class EngagementInternalOut(_EngagementBase):
    """An engagement with the client-only fields."""

    internal_notes: str


class EngagementIn(In):
    vendor: str = Field(description="Vendor uid")
    name: str
    reference: str = ""
    model: Engagement.Model
    status: Engagement.Status = Engagement.Status.ACTIVE
    start_date: datetime.date
    end_date: datetime.date | None = None
    budget: Decimal | None = None
    currency: str = "EUR"
    baseline_fte: Decimal | None = None
    flex_band_pct: int = 0
    notice_period_days: int = 30
    minimum_commitment: Decimal | None = None
    required_skills: list[str] = Field(
        [], description="Skill uids; skill coverage measures the team against them"
    )
    description: str = ""
    internal_notes: str = ""


EngagementPatch = patch_of(EngagementIn, "EngagementPatch")
AnyEngagementOut = EngagementInternalOut | EngagementOut
EngagementPage = audience_page_of("EngagementPage", EngagementInternalOut, EngagementOut)


# --- people, identities, assignments --------------------------------------------------------


class _PersonBase(Schema):
    uid: str
    name: str
    email: str
    title: str
    location: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PersonOut(_PersonBase):
    """A person as every audience sees them."""


class PersonInternalOut(_PersonBase):
    """A person with the client-only notes."""

    notes: str


class PersonIn(In):
    name: str
    email: str = ""
    title: str = ""
    location: str = ""
    notes: str = ""


PersonPatch = patch_of(PersonIn, "PersonPatch")
AnyPersonOut = PersonInternalOut | PersonOut
PersonPage = audience_page_of("PersonPage", PersonInternalOut, PersonOut)


class IdentityOut(Schema):
    uid: str
    kind: str
    value: str


class IdentityIn(In):
    kind: Identity.Kind
    value: str


IdentityPage = page_of("IdentityPage", IdentityOut)


# The seniority values, or "" for none (the model allows blank here).
SeniorityOrBlank = Literal.__getitem__(("", *Seniority.values))


class AssignmentOut(Schema):
    uid: str
    person: Ref
    vendor: Ref | None = Field(description="Null for in-house staff")
    engagement: Ref | None
    role: str
    seniority: str
    rate: Decimal | None
    currency: str
    allocation_pct: int
    valid_from: datetime.date
    valid_to: datetime.date | None
    key_person: bool
    requested_on: datetime.date | None = Field(description="The day the staffing request was approved")
    is_current: bool


class AssignmentIn(In):
    vendor: str | None = Field(None, description="Vendor uid; null for in-house staff")
    engagement: str | None = Field(None, description="Engagement uid")
    role: str = ""
    seniority: SeniorityOrBlank = ""
    rate: Decimal | None = None
    currency: str = ""
    allocation_pct: int = 100
    valid_from: datetime.date
    valid_to: datetime.date | None = None
    key_person: bool = Field(False, description="Named in the contract as key personnel")
    requested_on: datetime.date | None = Field(
        None,
        description="The day the client approved the staffing request this assignment fills (time to staff)",
    )


AssignmentPatch = patch_of(AssignmentIn, "AssignmentPatch")
AssignmentPage = page_of("AssignmentPage", AssignmentOut)
