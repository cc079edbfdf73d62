"""Sourcing requests, their rankings (evaluations) and the decision log. Client-only: a vendor
user's token gets 404 for every operation here, a read token reads, a write token decides.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import ValidationError
from ninja import Query, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import Field

from partnerscope.api import schemas as s
from partnerscope.api.auth import TokenAuth
from partnerscope.api.common import paginate, remote_addr, resolve
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.roles import Perm
from partnerscope.sourcing import services
from partnerscope.sourcing.models import Decision, Evaluation, SourcingRequest
from partnerscope.vendors.models import Skill, Vendor

router = Router(tags=["sourcing"])
write = TokenAuth(perm=Perm.EDIT)


def _internal(request) -> None:
    """Client-only: vendors get 404 (as for the pages), before anything is looked up."""
    check_perm(request.auth, Perm.VIEW_INTERNAL)


def _uid(obj) -> str | None:
    """The uid of an optional related record."""
    return obj.uid if obj is not None else None


# --- schemas --------------------------------------------------------------------------------------


class SkillNeedOut(Schema):
    skill: str = Field(description="Skill uid")
    skill_name: str
    min_level: int
    headcount: int
    required: bool

    @staticmethod
    def resolve_skill(obj) -> str:
        return obj.skill.uid

    @staticmethod
    def resolve_skill_name(obj) -> str:
        return obj.skill.name


class SourcingRequestOut(Schema):
    uid: str
    title: str
    description: str
    status: str
    start_date: datetime.date
    duration_months: int
    seniority_mix: dict[str, float]
    budget_ceiling: Decimal | None
    currency: str
    exchange_rates: str
    required_overlap_hours: Decimal
    client_timezone: str
    workday_start: str
    workday_end: str
    required_certifications: list[str]
    engagement_model: str
    method: str
    weights: dict[str, float]
    weight_source: str
    chosen_vendor: str | None = Field(description="Vendor uid once one is chosen")
    skills: list[SkillNeedOut]
    created_at: datetime.datetime

    @staticmethod
    def resolve_required_certifications(obj) -> list[str]:
        return obj.certification_list()

    @staticmethod
    def resolve_chosen_vendor(obj) -> str | None:
        return _uid(obj.chosen_vendor)

    @staticmethod
    def resolve_skills(obj) -> list:
        return list(obj.skills.select_related("skill"))


class SkillNeedIn(s.In):
    skill: str = Field(description="Skill uid")
    min_level: int = Field(3, ge=1, le=5)
    headcount: int = Field(1, ge=1, le=1000)
    required: bool = Field(True, description="A gate; optional skills only count in the ranking")


class SourcingRequestIn(s.In):
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    start_date: datetime.date
    duration_months: int = Field(6, ge=1, le=120)
    seniority_mix: dict[str, float] = Field(
        default_factory=lambda: {"mid": 50, "senior": 50},
        description="Seniority → % of the headcount, sum 100",
    )
    budget_ceiling: Decimal | None = Field(None, ge=0, description="For the whole duration")
    currency: str = "EUR"
    exchange_rates: str = Field("", description='Lines like "USD 0.92": 1 USD in the request currency')
    required_overlap_hours: Decimal = Field(Decimal(0), ge=0, le=24)
    client_timezone: str = Field("UTC", description="IANA time zone of the client's working day")
    workday_start: str = "09:00"
    workday_end: str = "17:00"
    required_certifications: list[str] = Field(default_factory=list)
    engagement_model: str = ""
    skills: list[SkillNeedIn] = Field(min_length=1, description="Replaces the request's skills as a whole")


class SourcingRequestPatch(s.In):
    title: str | None = None
    description: str | None = None
    start_date: datetime.date | None = None
    duration_months: int | None = Field(None, ge=1, le=120)
    seniority_mix: dict[str, float] | None = None
    budget_ceiling: Decimal | None = Field(None, ge=0)
    currency: str | None = None
    exchange_rates: str | None = None
    required_overlap_hours: Decimal | None = Field(None, ge=0, le=24)
    client_timezone: str | None = None
    workday_start: str | None = None
    workday_end: str | None = None
    required_certifications: list[str] | None = None
    engagement_model: str | None = None
    skills: list[SkillNeedIn] | None = Field(None, min_length=1)


SourcingRequestPage = s.page_of("SourcingRequestPage", SourcingRequestOut)


class RankIn(s.In):
    method: Literal["topsis", "vikor", "promethee_ii"] | None = Field(
        None, description="Default: the request's"
    )
    weights: dict[str, float] | None = Field(None, description="Criterion → %, summing to 100")
    pairwise: dict[str, float] | None = Field(
        None,
        description='AHP judgements "criterion_a>criterion_b" → Saaty value (1/9 … 9), a before b in the '
        "criteria order; missing pairs are 1 (equal)",
    )


class RankedOut(Schema):
    rank: int
    vendor: str
    name: str
    score: float | None
    no_data: list[str] = Field(description="Criteria without data for this vendor (ranked at the median)")


class EvaluationOut(Schema):
    uid: str
    request: str = Field(description="Sourcing request uid")
    method: str
    weights: dict[str, float]
    weight_source: str
    ahp: dict[str, Any] | None
    created_at: datetime.datetime
    created_by: str | None
    message: str
    score_label: str
    ranking: list[RankedOut]

    @staticmethod
    def resolve_request(obj) -> str:
        return obj.request.uid

    @staticmethod
    def resolve_created_by(obj) -> str | None:
        return getattr(obj.created_by, "username", None)

    @staticmethod
    def resolve_message(obj) -> str:
        return obj.result.get("message", "")

    @staticmethod
    def resolve_score_label(obj) -> str:
        return obj.result.get("score_label", "")


class EvaluationDetailOut(EvaluationOut):
    result: dict[str, Any] = Field(
        description="Every candidate with its gates and facts, the criteria, the decision matrix (with "
        "imputed cells), the intermediate tables and the weight sensitivity"
    )

    @staticmethod
    def resolve_request(obj) -> str:
        return obj.request.uid

    @staticmethod
    def resolve_created_by(obj) -> str | None:
        return getattr(obj.created_by, "username", None)

    @staticmethod
    def resolve_message(obj) -> str:
        return obj.result.get("message", "")

    @staticmethod
    def resolve_score_label(obj) -> str:
        return obj.result.get("score_label", "")


EvaluationPage = s.page_of("EvaluationPage", EvaluationOut)


class DecisionIn(s.In):
    vendor: str = Field(description="Vendor uid, from the evaluation's ranking")
    action: Literal["shortlisted", "removed", "chosen"]
    note: str = Field("", max_length=2000)


class DecisionOut(Schema):
    uid: str
    request: str
    evaluation: str | None
    vendor: str | None
    vendor_name: str
    action: str
    note: str
    actor: str | None
    created_at: datetime.datetime
    snapshot: dict[str, Any] = Field(description="The ranking the actor saw")

    @staticmethod
    def resolve_request(obj) -> str:
        return obj.request.uid

    @staticmethod
    def resolve_evaluation(obj) -> str | None:
        return _uid(obj.evaluation)

    @staticmethod
    def resolve_vendor(obj) -> str | None:
        return _uid(obj.vendor)

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return getattr(obj.actor, "username", None)


DecisionPage = s.page_of("DecisionPage", DecisionOut)


# --- helpers --------------------------------------------------------------------------------------


def _request(request, uid: str) -> SourcingRequest:
    return SourcingRequest.objects.select_related("chosen_vendor").get_visible_or_404(request.auth, uid=uid)


def _evaluation(request, uid: str) -> Evaluation:
    return Evaluation.objects.select_related("request", "created_by").get_visible_or_404(
        request.auth, uid=uid
    )


def _needs(request, skills: list[SkillNeedIn]) -> list[services.NeedInput]:
    needs = []
    for index, need in enumerate(skills):
        skill = Skill.objects.visible_to(request.auth).filter(uid=need.skill).first()
        if skill is None:
            raise NinjaValidationError(
                [
                    {
                        "loc": ["body", "skills", str(index), "skill"],
                        "msg": "Select a valid skill: that one does not exist.",
                        "type": "value_error",
                    }
                ]
            )
        needs.append(services.NeedInput(skill, need.min_level, need.headcount, need.required))
    return needs


def _apply(instance: SourcingRequest, data: dict) -> None:
    for name, value in data.items():
        if name == "required_certifications":
            value = "\n".join(v.strip() for v in value if v.strip())
        setattr(instance, name, value)


def _fresh(uid: str, membership) -> SourcingRequest:
    return SourcingRequest.objects.select_related("chosen_vendor").get_visible_or_404(membership, uid=uid)


def _pair_errors(exc: ValidationError) -> ValidationError | NinjaValidationError:
    """AHP errors name the judgement: ["body", "pairwise", "a>b"]."""
    if not hasattr(exc, "error_dict") or not any(">" in key for key in exc.error_dict):
        return exc
    errors = []
    for key, messages in exc.message_dict.items():
        loc = ["body", "pairwise", key] if ">" in key else ["body", key]
        errors.extend({"loc": loc, "msg": m, "type": "value_error"} for m in messages)
    return NinjaValidationError(errors)


# --- sourcing requests ----------------------------------------------------------------------------


@router.get(
    "/sourcing-requests", response={200: SourcingRequestPage, **s.ERRORS}, summary="List sourcing requests"
)
def list_sourcing_requests(request, page: Query[s.PageParams], status: str | None = None):
    """Newest first. Client-only."""
    _internal(request)
    qs = SourcingRequest.objects.visible_to(request.auth).select_related("chosen_vendor")
    if status:
        qs = qs.filter(status=status)
    return paginate(qs, page)


@router.post(
    "/sourcing-requests", auth=write, response={201: SourcingRequestOut, **s.ERRORS},
    summary="Create a sourcing request",
)  # fmt: skip
def create_sourcing_request(request, payload: SourcingRequestIn):
    data = payload.dict()
    needs = _needs(request, payload.skills)
    data.pop("skills")
    instance = SourcingRequest()
    _apply(instance, data)
    saved = services.save_request(
        membership=request.auth, instance=instance, needs=needs, remote_addr=remote_addr(request)
    )
    return Status(201, SourcingRequestOut.from_orm(_fresh(saved.uid, request.auth)))


@router.get(
    "/sourcing-requests/{uid}",
    response={200: SourcingRequestOut, **s.ERRORS},
    summary="Get a sourcing request",
)
def get_sourcing_request(request, uid: str):
    _internal(request)
    return SourcingRequestOut.from_orm(_request(request, uid))


@router.patch(
    "/sourcing-requests/{uid}", auth=write, response={200: SourcingRequestOut, **s.ERRORS},
    summary="Update a sourcing request",
)  # fmt: skip
def update_sourcing_request(request, uid: str, payload: SourcingRequestPatch):
    """Only the fields sent change; ``skills``, when sent, replaces the request's skills."""
    instance = _request(request, uid)
    data = payload.dict(exclude_unset=True)
    needs = _needs(request, payload.skills) if data.get("skills") is not None else None
    data.pop("skills", None)
    _apply(instance, data)
    services.save_request(
        membership=request.auth, instance=instance, needs=needs, remote_addr=remote_addr(request)
    )
    return SourcingRequestOut.from_orm(_fresh(uid, request.auth))


@router.delete(
    "/sourcing-requests/{uid}",
    auth=write,
    response={204: None, **s.ERRORS},
    summary="Delete a sourcing request",
)
def delete_sourcing_request(request, uid: str):
    """Deletes the request with its rankings and decision log."""
    services.delete_request(
        membership=request.auth, instance=_request(request, uid), remote_addr=remote_addr(request)
    )
    return Status(204, None)


# --- rankings and decisions -----------------------------------------------------------------------


@router.post(
    "/sourcing-requests/{uid}/evaluations", auth=write, response={201: EvaluationDetailOut, **s.ERRORS},
    summary="Rank the candidates of a sourcing request",
)  # fmt: skip
def rank_sourcing_request(request, uid: str, payload: RankIn):
    """Runs every vendor through the gates and ranks those passing with the method and weights
    (``weights`` directly, or ``pairwise`` judgements for AHP; neither: the request's own). An
    inconsistent AHP matrix answers 422 naming the judgement furthest from the others."""
    if payload.weights is not None and payload.pairwise is not None:
        raise NinjaValidationError(
            [
                {
                    "loc": ["body", "pairwise"],
                    "msg": "Give weights or pairwise judgements, not both.",
                    "type": "value_error",
                }
            ]
        )
    sourcing_request = _request(request, uid)
    source = "ahp" if payload.pairwise is not None else "direct" if payload.weights is not None else None
    try:
        _, ahp_info = services.set_ranking(
            membership=request.auth,
            request=sourcing_request,
            method=payload.method or sourcing_request.method,
            weight_source=source or sourcing_request.weight_source,
            weights=payload.weights if payload.weights is not None else sourcing_request.weights,
            pairwise=payload.pairwise if payload.pairwise is not None else sourcing_request.pairwise,
            remote_addr=remote_addr(request),
        )
    except ValidationError as exc:
        raise _pair_errors(exc) from None
    evaluation = services.evaluate_request(
        membership=request.auth, request=sourcing_request, ahp_info=ahp_info, remote_addr=remote_addr(request)
    )
    return Status(201, EvaluationDetailOut.from_orm(_evaluation(request, evaluation.uid)))


@router.get(
    "/sourcing-requests/{uid}/evaluations", response={200: EvaluationPage, **s.ERRORS},
    summary="List the rankings of a sourcing request",
)  # fmt: skip
def list_evaluations(request, uid: str, page: Query[s.PageParams]):
    _internal(request)
    sourcing_request = _request(request, uid)
    qs = (
        Evaluation.objects.visible_to(request.auth)
        .filter(request=sourcing_request)
        .select_related("request", "created_by")
    )
    return paginate(qs, page)


@router.get(
    "/evaluations/{uid}", response={200: EvaluationDetailOut, **s.ERRORS},
    summary="Get a ranking with its gates, tables and sensitivity",
)  # fmt: skip
def get_evaluation(request, uid: str):
    _internal(request)
    return EvaluationDetailOut.from_orm(_evaluation(request, uid))


@router.post(
    "/evaluations/{uid}/decisions", auth=write, response={201: DecisionOut, **s.ERRORS},
    summary="Shortlist, remove or choose a vendor from a ranking",
)  # fmt: skip
def create_decision(request, uid: str, payload: DecisionIn):
    """Logged with a copy of the ranking. Choosing needs the vendor on the shortlist, and closes
    the request as decided."""
    evaluation = _evaluation(request, uid)
    vendor = resolve(Vendor, request.auth, payload.vendor, "vendor")
    decision = services.record_decision(
        membership=request.auth, request=evaluation.request, evaluation=evaluation, vendor=vendor,
        action=payload.action, note=payload.note, remote_addr=remote_addr(request),
    )  # fmt: skip
    return Status(201, DecisionOut.from_orm(decision))


@router.get(
    "/sourcing-requests/{uid}/decisions", response={200: DecisionPage, **s.ERRORS},
    summary="The decision log of a sourcing request",
)  # fmt: skip
def list_decisions(request, uid: str, page: Query[s.PageParams]):
    """Newest first: who shortlisted, removed or chose whom, when, with the ranking they saw."""
    _internal(request)
    sourcing_request = _request(request, uid)
    qs = (
        Decision.objects.visible_to(request.auth)
        .filter(request=sourcing_request)
        .select_related("request", "evaluation", "vendor", "actor")
    )
    return paginate(qs, page)
