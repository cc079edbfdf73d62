"""Planning: the hire-vs-outsource cost model, capacity plans (demand, solves, the plan,
scenarios, adoption) and the supply facts they read. Client-only, like the pages: a vendor
user's token gets 404 for every operation here.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from ninja import File, Query, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from pydantic import Field

from partnerscope.api import schemas as s
from partnerscope.api.auth import TokenAuth
from partnerscope.api.common import assign, paginate, remote_addr, resolve
from partnerscope.decisions import DEFAULT_INPUTS
from partnerscope.engagements.models import Person
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.roles import Perm
from partnerscope.sourcing import services
from partnerscope.sourcing.demand_import import check_size, parse_month
from partnerscope.sourcing.models import (
    CapacityPlan,
    CostScenario,
    DemandLine,
    PersonSkill,
    PlanLine,
    PlanRun,
    VendorCapacity,
)
from partnerscope.vendors.models import Skill, Vendor

router = Router(tags=["planning"])
write = TokenAuth(perm=Perm.EDIT)
CONFLICT = {409: s.ErrorOut}


def _internal(request) -> None:
    check_perm(request.auth, Perm.VIEW_INTERNAL)


def _uid(obj) -> str | None:
    """The uid of an optional related record."""
    return obj.uid if obj is not None else None


def _username(user) -> str | None:
    return getattr(user, "username", None)


def _invalid(loc: list[str], msg: str) -> NinjaValidationError:
    return NinjaValidationError([{"loc": ["body", *loc], "msg": msg, "type": "value_error"}])


# --- hire vs outsource ----------------------------------------------------------------------------


class CostInputOut(Schema):
    name: str
    label: str
    unit: str
    default: float | list[float]
    ranged: bool = Field(description="Whether the input may be a range [low, likely, high]")
    source: str


class CostScenarioOut(Schema):
    uid: str
    name: str
    role: str
    inputs: dict[str, Any]
    n_draws: int
    seed: int
    distribution: str
    result: dict[str, Any] | None = Field(
        description="P10/P50/P90 per option, cumulative cost curves, break-even, tornado"
    )
    created_at: datetime.datetime
    updated_at: datetime.datetime


class CostScenarioIn(s.In):
    name: str = Field(min_length=1, max_length=200)
    role: str = ""
    inputs: dict[str, float | list[float]] = Field(
        default_factory=dict, description="Input name → number or [low, likely, high]; missing: the default"
    )
    n_draws: int = Field(10000, ge=100, le=200000)
    seed: int = Field(0, ge=0)
    distribution: str = Field("triangular", description='"triangular" or "pert"')


CostScenarioPatch = s.patch_of(CostScenarioIn, "CostScenarioPatch")
CostScenarioPage = s.page_of("CostScenarioPage", CostScenarioOut)


@router.get(
    "/cost-model/inputs", response={200: list[CostInputOut], **s.ERRORS},
    summary="The cost model's inputs with their defaults and sources",
)  # fmt: skip
def list_cost_inputs(request):
    _internal(request)
    return [
        {
            "name": name,
            "label": spec.label,
            "unit": spec.unit,
            "default": list(spec.value) if isinstance(spec.value, tuple) else spec.value,
            "ranged": spec.ranged,
            "source": spec.source,
        }
        for name, spec in DEFAULT_INPUTS.items()
    ]


def _scenario(request, uid: str) -> CostScenario:
    return CostScenario.objects.get_visible_or_404(request.auth, uid=uid)


def _save_scenario(request, instance: CostScenario) -> CostScenario:
    saved = services.save_cost_scenario(
        membership=request.auth, instance=instance, remote_addr=remote_addr(request)
    )
    return _scenario(request, saved.uid)


@router.get("/cost-scenarios", response={200: CostScenarioPage, **s.ERRORS}, summary="List cost scenarios")
def list_cost_scenarios(request, page: Query[s.PageParams]):
    _internal(request)
    return paginate(CostScenario.objects.visible_to(request.auth), page)


@router.post(
    "/cost-scenarios", auth=write, response={201: CostScenarioOut, **s.ERRORS},
    summary="Simulate and save a hire-vs-outsource scenario",
)  # fmt: skip
def create_cost_scenario(request, payload: CostScenarioIn):
    """Runs the Monte Carlo at once; a bad input answers 422 naming it."""
    instance = assign(CostScenario(), payload.dict(), {}, request.auth)
    return Status(201, CostScenarioOut.from_orm(_save_scenario(request, instance)))


@router.get(
    "/cost-scenarios/{uid}", response={200: CostScenarioOut, **s.ERRORS}, summary="Get a cost scenario"
)
def get_cost_scenario(request, uid: str):
    _internal(request)
    return CostScenarioOut.from_orm(_scenario(request, uid))


@router.patch(
    "/cost-scenarios/{uid}", auth=write, response={200: CostScenarioOut, **s.ERRORS},
    summary="Change a cost scenario and simulate again",
)  # fmt: skip
def update_cost_scenario(request, uid: str, payload: CostScenarioPatch):
    instance = assign(_scenario(request, uid), payload.dict(exclude_unset=True), {}, request.auth)
    return CostScenarioOut.from_orm(_save_scenario(request, instance))


@router.delete(
    "/cost-scenarios/{uid}", auth=write, response={204: None, **s.ERRORS}, summary="Delete a cost scenario"
)
def delete_cost_scenario(request, uid: str):
    services.delete_cost_scenario(
        membership=request.auth, instance=_scenario(request, uid), remote_addr=remote_addr(request)
    )
    return Status(204, None)


# --- capacity plans -------------------------------------------------------------------------------


class CapacityPlanOut(Schema):
    uid: str
    name: str
    description: str
    start_month: datetime.date
    months: int
    currency: str
    exchange_rates: str
    unmet_penalty: Decimal
    quality_floor: int | None
    mip_gap: Decimal
    time_limit_s: int
    scenario_of: str | None = Field(description="Plan uid this scenario was derived from")
    scenario_rule: str
    status: str
    solver_status: str
    gap: float | None = Field(description="Optimality gap HiGHS proved (0.001 = 0.1 %)")
    objective: Decimal | None
    total_cost: Decimal | None
    unmet_fte_months: Decimal | None
    binding: list[str] = Field(description="Binding constraints in words")
    conflicts: list[str] = Field(description="Why no plan exists, in words")
    solved_at: datetime.datetime | None
    adopted_at: datetime.datetime | None
    adopted_by: str | None

    @staticmethod
    def resolve_scenario_of(obj) -> str | None:
        return _uid(obj.scenario_of)

    @staticmethod
    def resolve_adopted_by(obj) -> str | None:
        return _username(obj.adopted_by)


class CapacityPlanIn(s.In):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    start_month: datetime.date = Field(description="Any day of the first month")
    months: int = Field(12, ge=1, le=60)
    currency: str = "EUR"
    exchange_rates: str = ""
    unmet_penalty: Decimal = Field(Decimal(30000), ge=0, description="Per unmet FTE-month")
    quality_floor: int | None = Field(
        None, ge=0, le=9, description="Standing band (0 = best) below which a vendor gets no more work"
    )
    mip_gap: Decimal = Field(Decimal("0.001"), ge=0, lt=1)
    time_limit_s: int = Field(60, ge=1, le=3600)


CapacityPlanPatch = s.patch_of(CapacityPlanIn, "CapacityPlanPatch")
CapacityPlanPage = s.page_of("CapacityPlanPage", CapacityPlanOut)


class DemandCell(Schema):
    skill: str = Field(description="Skill uid")
    month: str = Field(description="YYYY-MM")
    fte: Decimal = Field(ge=0, le=10000)


class DemandIn(s.In):
    cells: list[DemandCell] = Field(description="The whole demand: it replaces what is stored")


class DemandOut(Schema):
    cells: list[DemandCell]


class ScenarioIn(s.In):
    name: str = ""
    change_pct: float = Field(ge=-100, le=1000, description="e.g. 30 for +30 %")
    first_month: str = Field(description="YYYY-MM")
    last_month: str = Field(description="YYYY-MM")
    skill: str | None = Field(None, description="Skill uid; empty: every skill")


class PlanRunOut(Schema):
    uid: str
    plan: str
    status: str
    phase: str
    progress_done: int
    progress_total: int | None
    message: str
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None

    @staticmethod
    def resolve_plan(obj) -> str:
        return obj.plan.uid


class PlanLineOut(Schema):
    kind: str = Field(description='"vendor", "inhouse" or "unmet"')
    vendor: str | None
    vendor_name: str
    skill: str
    skill_name: str
    month: str
    fte: Decimal
    cost: Decimal

    @staticmethod
    def resolve_vendor(obj) -> str | None:
        return _uid(obj.vendor)

    @staticmethod
    def resolve_skill(obj) -> str:
        return obj.skill.uid

    @staticmethod
    def resolve_skill_name(obj) -> str:
        return obj.skill.name

    @staticmethod
    def resolve_month(obj) -> str:
        return f"{obj.month:%Y-%m}"


PlanLinePage = s.page_of("PlanLinePage", PlanLineOut)


def _plan(request, uid: str) -> CapacityPlan:
    return CapacityPlan.objects.select_related("scenario_of", "adopted_by").get_visible_or_404(
        request.auth, uid=uid
    )


def _save_plan(request, instance: CapacityPlan) -> CapacityPlan:
    saved = services.save_plan(membership=request.auth, instance=instance, remote_addr=remote_addr(request))
    return _plan(request, saved.uid)


def _month(text: str, loc: list[str]) -> datetime.date:
    month = parse_month(text)
    if month is None:
        raise _invalid(loc, f"“{text[:20]}” is not a month like 2025-07.")
    return month


@router.get("/capacity-plans", response={200: CapacityPlanPage, **s.ERRORS}, summary="List capacity plans")
def list_capacity_plans(request, page: Query[s.PageParams]):
    _internal(request)
    return paginate(
        CapacityPlan.objects.visible_to(request.auth).select_related("scenario_of", "adopted_by"), page
    )


@router.post(
    "/capacity-plans",
    auth=write,
    response={201: CapacityPlanOut, **s.ERRORS},
    summary="Create a capacity plan",
)
def create_capacity_plan(request, payload: CapacityPlanIn):
    instance = assign(CapacityPlan(), payload.dict(), {}, request.auth)
    return Status(201, CapacityPlanOut.from_orm(_save_plan(request, instance)))


@router.get(
    "/capacity-plans/{uid}", response={200: CapacityPlanOut, **s.ERRORS}, summary="Get a capacity plan"
)
def get_capacity_plan(request, uid: str):
    _internal(request)
    return CapacityPlanOut.from_orm(_plan(request, uid))


@router.patch(
    "/capacity-plans/{uid}", auth=write, response={200: CapacityPlanOut, **s.ERRORS},
    summary="Change a capacity plan's settings",
)  # fmt: skip
def update_capacity_plan(request, uid: str, payload: CapacityPlanPatch):
    """A solved plan whose months, currency, penalty or quality floor change must be solved again."""
    instance = assign(_plan(request, uid), payload.dict(exclude_unset=True), {}, request.auth)
    return CapacityPlanOut.from_orm(_save_plan(request, instance))


@router.delete(
    "/capacity-plans/{uid}", auth=write, response={204: None, **s.ERRORS}, summary="Delete a capacity plan"
)
def delete_capacity_plan(request, uid: str):
    services.delete_plan(
        membership=request.auth, instance=_plan(request, uid), remote_addr=remote_addr(request)
    )
    return Status(204, None)


@router.get(
    "/capacity-plans/{uid}/demand", response={200: DemandOut, **s.ERRORS}, summary="Get a plan's demand"
)
def get_capacity_demand(request, uid: str):
    _internal(request)
    plan = _plan(request, uid)
    lines = DemandLine.objects.visible_to(request.auth).filter(plan=plan).select_related("skill")
    return {"cells": [{"skill": x.skill.uid, "month": f"{x.month:%Y-%m}", "fte": x.fte} for x in lines]}


@router.put(
    "/capacity-plans/{uid}/demand", auth=write, response={200: DemandOut, **s.ERRORS},
    summary="Replace a plan's demand",
)  # fmt: skip
def set_capacity_demand(request, uid: str, payload: DemandIn):
    """All or nothing: a bad cell answers 422 naming it and nothing changes."""
    plan = _plan(request, uid)
    skills = {x.uid: x for x in Skill.objects.visible_to(request.auth)}
    horizon = set(plan.month_starts())
    cells = {}
    for index, cell in enumerate(payload.cells):
        skill = skills.get(cell.skill)
        if skill is None:
            raise _invalid(["cells", str(index), "skill"], "Select a valid skill: that one does not exist.")
        month = _month(cell.month, ["cells", str(index), "month"])
        if month not in horizon:
            raise _invalid(["cells", str(index), "month"], f"{cell.month} is outside the plan's months.")
        if (skill, month) in cells:
            raise _invalid(["cells", str(index)], f"{skill} in {cell.month} is given twice.")
        cells[(skill, month)] = cell.fte
    services.set_demand(
        membership=request.auth, plan=plan, cells=cells, source="api", remote_addr=remote_addr(request)
    )
    return get_capacity_demand(request, uid)


@router.post(
    "/capacity-plans/{uid}/demand/import", auth=write, response={200: DemandOut, **s.ERRORS},
    summary="Replace a plan's demand from a CSV file",
)  # fmt: skip
def import_capacity_demand(request, uid: str, file: File[UploadedFile]):
    """Multipart upload of a CSV (UTF-8): ``skill,2025-07,2025-08,…`` or ``skill,month,fte``. All of
    it or nothing; errors name the row and column."""
    plan = _plan(request, uid)
    check_size(file.size, file.name or "demand.csv")
    services.import_demand(
        membership=request.auth, plan=plan, data=file.read(), filename=file.name or "demand.csv",
        remote_addr=remote_addr(request),
    )  # fmt: skip
    return get_capacity_demand(request, uid)


@router.post(
    "/capacity-plans/{uid}/scenarios", auth=write, response={201: CapacityPlanOut, **s.ERRORS},
    summary="Derive a scenario with scaled demand",
)  # fmt: skip
def create_capacity_scenario(request, uid: str, payload: ScenarioIn):
    """A copy of the plan with its demand changed by ``change_pct`` % from ``first_month`` to
    ``last_month`` (one skill or all), e.g. +30 % in the third quarter."""
    plan = _plan(request, uid)
    skill = resolve(Skill, request.auth, payload.skill, "skill") if payload.skill else None
    copy = services.create_scenario(
        membership=request.auth, plan=plan, name=payload.name, change_pct=payload.change_pct,
        first_month=_month(payload.first_month, ["first_month"]), last_month=_month(payload.last_month, ["last_month"]),
        skill=skill, remote_addr=remote_addr(request),
    )  # fmt: skip
    return Status(201, CapacityPlanOut.from_orm(_plan(request, copy.uid)))


@router.post(
    "/capacity-plans/{uid}/solves", auth=write, response={202: PlanRunOut, **CONFLICT, **s.ERRORS},
    summary="Solve a capacity plan in the background",
)  # fmt: skip
def solve_capacity_plan(request, uid: str):
    """Queues a solve; follow it with GET /capacity-solves/{uid}. 409 while one is queued or
    running, or when the plan has no demand."""
    plan = _plan(request, uid)
    try:
        run = services.start_solve(membership=request.auth, plan=plan)
    except ValidationError as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    return Status(202, PlanRunOut.from_orm(run))


@router.get(
    "/capacity-solves/{uid}", response={200: PlanRunOut, **s.ERRORS}, summary="Get a solve and its progress"
)
def get_capacity_solve(request, uid: str):
    _internal(request)
    return PlanRunOut.from_orm(
        PlanRun.objects.select_related("plan").get_visible_or_404(request.auth, uid=uid)
    )


@router.post(
    "/capacity-plans/{uid}/adopt", auth=write, response={200: CapacityPlanOut, **CONFLICT, **s.ERRORS},
    summary="Adopt a solved plan as the plan of record",
)  # fmt: skip
def adopt_capacity_plan(request, uid: str):
    """Records who adopted it and when; the plan adopted before is released. 409 unless solved."""
    plan = _plan(request, uid)
    try:
        services.adopt_plan(membership=request.auth, plan=plan, remote_addr=remote_addr(request))
    except ValidationError as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    return CapacityPlanOut.from_orm(_plan(request, uid))


@router.get(
    "/capacity-plans/{uid}/lines", response={200: PlanLinePage, **s.ERRORS},
    summary="The solved plan per vendor, skill and month",
)  # fmt: skip
def list_capacity_plan_lines(request, uid: str, page: Query[s.PageParams], kind: str | None = None):
    """FTE and cost per vendor, skill and month; in-house use and unmet demand as their own kinds."""
    _internal(request)
    plan = _plan(request, uid)
    qs = PlanLine.objects.visible_to(request.auth).filter(plan=plan).select_related("vendor", "skill")
    if kind:
        qs = qs.filter(kind=kind)
    return paginate(qs, page)


# --- supply facts ---------------------------------------------------------------------------------


class VendorCapacityOut(Schema):
    uid: str
    vendor: str
    bench_fte: Decimal
    lead_time_months: int
    max_growth_fte_per_month: Decimal | None
    notes: str

    @staticmethod
    def resolve_vendor(obj) -> str:
        return obj.vendor.uid


class VendorCapacityIn(s.In):
    vendor: str = Field(description="Vendor uid")
    bench_fte: Decimal = Field(Decimal(0), ge=0)
    lead_time_months: int = Field(1, ge=0, le=24)
    max_growth_fte_per_month: Decimal | None = Field(None, ge=0)
    notes: str = ""


VendorCapacityPatch = s.patch_of(VendorCapacityIn, "VendorCapacityPatch")
VendorCapacityPage = s.page_of("VendorCapacityPage", VendorCapacityOut)


class PersonSkillOut(Schema):
    uid: str
    person: str
    skill: str
    share_pct: int

    @staticmethod
    def resolve_person(obj) -> str:
        return obj.person.uid

    @staticmethod
    def resolve_skill(obj) -> str:
        return obj.skill.uid


class PersonSkillIn(s.In):
    person: str = Field(description="Person uid (in-house)")
    skill: str = Field(description="Skill uid")
    share_pct: int = Field(100, ge=1, le=100)


PersonSkillPage = s.page_of("PersonSkillPage", PersonSkillOut)
CAPACITY_REFS = {"vendor": Vendor}
PERSON_SKILL_REFS = {"person": Person, "skill": Skill}


def _capacity(request, uid: str) -> VendorCapacity:
    return VendorCapacity.objects.select_related("vendor").get_visible_or_404(request.auth, uid=uid)


@router.get(
    "/vendor-capacities", response={200: VendorCapacityPage, **s.ERRORS}, summary="List vendor capacities"
)
def list_vendor_capacities(request, page: Query[s.PageParams]):
    _internal(request)
    return paginate(VendorCapacity.objects.visible_to(request.auth).select_related("vendor"), page)


@router.post(
    "/vendor-capacities", auth=write, response={201: VendorCapacityOut, **s.ERRORS},
    summary="Record a vendor's bench, lead time and growth limit",
)  # fmt: skip
def create_vendor_capacity(request, payload: VendorCapacityIn):
    instance = assign(VendorCapacity(), payload.dict(), CAPACITY_REFS, request.auth)
    saved = services.save_vendor_capacity(
        membership=request.auth, instance=instance, remote_addr=remote_addr(request)
    )
    return Status(201, VendorCapacityOut.from_orm(_capacity(request, saved.uid)))


@router.patch(
    "/vendor-capacities/{uid}", auth=write, response={200: VendorCapacityOut, **s.ERRORS},
    summary="Update a vendor capacity",
)  # fmt: skip
def update_vendor_capacity(request, uid: str, payload: VendorCapacityPatch):
    instance = assign(_capacity(request, uid), payload.dict(exclude_unset=True), CAPACITY_REFS, request.auth)
    services.save_vendor_capacity(
        membership=request.auth, instance=instance, remote_addr=remote_addr(request)
    )
    return VendorCapacityOut.from_orm(_capacity(request, uid))


@router.delete(
    "/vendor-capacities/{uid}",
    auth=write,
    response={204: None, **s.ERRORS},
    summary="Delete a vendor capacity",
)
def delete_vendor_capacity(request, uid: str):
    services.delete_vendor_capacity(
        membership=request.auth, instance=_capacity(request, uid), remote_addr=remote_addr(request)
    )
    return Status(204, None)


@router.get("/person-skills", response={200: PersonSkillPage, **s.ERRORS}, summary="List people's skills")
def list_person_skills(request, page: Query[s.PageParams]):
    _internal(request)
    return paginate(PersonSkill.objects.visible_to(request.auth).select_related("person", "skill"), page)


@router.post(
    "/person-skills", auth=write, response={201: PersonSkillOut, **s.ERRORS},
    summary="Record a person's skill",
)  # fmt: skip
def create_person_skill(request, payload: PersonSkillIn):
    instance = assign(PersonSkill(), payload.dict(), PERSON_SKILL_REFS, request.auth)
    saved = services.save_person_skill(
        membership=request.auth, instance=instance, remote_addr=remote_addr(request)
    )
    return Status(201, PersonSkillOut.from_orm(saved))


@router.delete(
    "/person-skills/{uid}", auth=write, response={204: None, **s.ERRORS}, summary="Delete a person's skill"
)
def delete_person_skill(request, uid: str):
    instance = PersonSkill.objects.get_visible_or_404(request.auth, uid=uid)
    services.delete_person_skill(membership=request.auth, instance=instance, remote_addr=remote_addr(request))
    return Status(204, None)
