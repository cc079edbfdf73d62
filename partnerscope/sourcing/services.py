"""State changes of sourcing requests, their rankings and decisions, and of the supply facts
capacity planning reads (vendor capacity, people's skills).

Every function takes the actor's membership, checks, runs in a transaction, saves through
``orgs.records`` (organization pinned, references re-checked, audit event) and raises
``ValidationError`` naming the field for bad input.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partnerscope.decisions import DecisionError, InconsistentJudgements, ahp_weights
from partnerscope.engagements.models import Assignment
from partnerscope.orgs import audit
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.records import delete_record, save_record
from partnerscope.orgs.roles import Perm
from partnerscope.sourcing import cost_scenarios, gates, ranking
from partnerscope.sourcing.demand_import import read_demand_csv
from partnerscope.sourcing.models import (
    CapacityPlan,
    CostScenario,
    Criterion,
    Decision,
    DemandLine,
    Evaluation,
    Method,
    PersonSkill,
    PlanRun,
    SkillNeed,
    SourcingRequest,
    VendorCapacity,
    WeightSource,
)
from partnerscope.sourcing.rates import parse_exchange_rates
from partnerscope.vendors.models import Seniority, Skill

CRITERIA = [c.value for c in Criterion]
LABELS = dict(Criterion.choices)
# Saaty's scale and its reciprocals, as offered in the pairwise form.
SAATY = [1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9]


def pair_key(a: str, b: str) -> str:
    return f"{a}>{b}"


def criterion_pairs() -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(CRITERIA) for b in CRITERIA[i + 1 :]]


def saaty_label(value: float) -> str:
    return f"{value:g}" if value >= 1 else f"1/{round(1 / value):d}"


# --- validation ---------------------------------------------------------------------------------


def clean_weights(raw: dict, *, field: str = "weights") -> dict[str, float]:
    """Criterion → weight in %, each 0–100, summing to 100 (within 0.01)."""
    if not isinstance(raw, dict):
        raise ValidationError({field: "Give the weights as criterion → percentage."})
    unknown = sorted(set(raw) - set(CRITERIA))
    if unknown:
        raise ValidationError({field: f"Unknown criteria: {', '.join(unknown)}. Use {', '.join(CRITERIA)}."})
    weights = {}
    for key in CRITERIA:
        value = raw.get(key, 0)
        try:
            number = float(value if value not in (None, "") else 0)
        except (TypeError, ValueError):
            raise ValidationError({field: f"{LABELS[key]}: {value!r} is not a number."}) from None
        if not 0 <= number <= 100 or number != number:
            raise ValidationError({field: f"{LABELS[key]}: {number:g} is outside 0–100."})
        weights[key] = round(number, 4)
    total = sum(weights.values())
    if abs(total - 100) > 0.01:
        raise ValidationError({field: f"The weights add up to {total:g} %, not 100 %."})
    return weights


def clean_mix(raw: dict) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ValidationError({"seniority_mix": "Give the mix as seniority → percentage."})
    unknown = sorted(set(raw) - set(Seniority.values))
    if unknown:
        raise ValidationError(
            {"seniority_mix": f"Unknown seniority: {', '.join(unknown)}. Use {', '.join(Seniority.values)}."}
        )
    mix = {}
    for key, value in raw.items():
        try:
            number = float(value if value not in (None, "") else 0)
        except (TypeError, ValueError):
            raise ValidationError({"seniority_mix": f"{key}: {value!r} is not a number."}) from None
        if not 0 <= number <= 100:
            raise ValidationError({"seniority_mix": f"{key}: {number:g} is outside 0–100."})
        if number:
            mix[key] = number
    total = sum(mix.values())
    if abs(total - 100) > 0.01:
        raise ValidationError({"seniority_mix": f"The seniority mix adds up to {total:g} %, not 100 %."})
    return mix


def pairwise_matrix(judgements: dict) -> np.ndarray:
    """The reciprocal matrix from “a>b” → value judgements (a before b in criterion order)."""
    size = len(CRITERIA)
    matrix = np.ones((size, size))
    for i, j in ((a, b) for a in range(size) for b in range(a + 1, size)):
        key = pair_key(CRITERIA[i], CRITERIA[j])
        raw = judgements.get(key, 1)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValidationError({key: f"{raw!r} is not a judgement on Saaty's scale."}) from None
        if not any(abs(value - s) < 1e-3 * s for s in SAATY):
            raise ValidationError({key: f"{value:g} is not on Saaty's scale (1/9 … 9)."})
        matrix[i, j], matrix[j, i] = value, 1 / value
    return matrix


def weights_from_pairwise(judgements: dict) -> tuple[dict[str, float], dict]:
    """AHP weights (in %) and the consistency figures; an inconsistent matrix is refused with the
    most inconsistent judgement named, on its own field."""
    unknown = sorted(set(judgements) - {pair_key(a, b) for a, b in criterion_pairs()})
    if unknown:
        raise ValidationError({"pairwise": f"Unknown comparisons: {', '.join(unknown)}."})
    matrix = pairwise_matrix(judgements)
    try:
        result = ahp_weights(matrix)
    except InconsistentJudgements as exc:
        r = exc.result
        i, j, given, implied = r.most_inconsistent
        a, b = CRITERIA[i], CRITERIA[j]
        raise ValidationError(
            {
                pair_key(a, b): (
                    f"Too inconsistent (consistency ratio {r.cr:.2f}, at most 0.10 accepted). This is the "
                    f"judgement furthest from the others: {LABELS[a]} vs {LABELS[b]} is {saaty_label(given)}, "
                    f"while your other judgements imply about {_nearest_saaty(implied)}."
                )
            }
        ) from None
    except DecisionError as exc:
        raise ValidationError({"pairwise": str(exc)}) from None
    weights = {key: round(100 * float(w), 2) for key, w in zip(CRITERIA, result.weights, strict=True)}
    # Rounded shares must still add up to exactly 100: the largest absorbs the rounding.
    largest = max(weights, key=weights.get)
    weights[largest] = round(weights[largest] + 100 - sum(weights.values()), 2)
    info = {
        "lambda_max": round(result.lambda_max, 4),
        "ci": round(result.ci, 4),
        "cr": round(result.cr, 4),
        "ri": result.ri,
        "weights": weights,
        "judgements": {k: float(v) for k, v in judgements.items()},
    }
    return weights, info


def _nearest_saaty(value: float) -> str:
    return saaty_label(min(SAATY, key=lambda s: abs(np.log(s / value))))


# --- sourcing requests --------------------------------------------------------------------------


@dataclass
class NeedInput:
    skill: object  # a Skill from the actor's scope
    min_level: int
    headcount: int
    required: bool = True


def _request_rules(instance: SourcingRequest) -> None:
    instance.seniority_mix = clean_mix(instance.seniority_mix)
    instance.weights = clean_weights(instance.weights)
    parse_exchange_rates(instance.exchange_rates, instance.currency)
    if instance.method not in Method.values:
        raise ValidationError({"method": f"Use one of {', '.join(Method.values)}."})


@transaction.atomic
def save_request(
    *, membership, instance: SourcingRequest, needs: list[NeedInput] | None = None, remote_addr=None
):
    """Create or edit a request; ``needs`` (when given) replaces its skills as a whole."""
    check_perm(membership, Perm.EDIT)
    if instance._state.adding:
        instance.created_by = membership.user
    if needs is not None:
        seen = {}
        for row, need in enumerate(needs, 1):
            if need.skill.id in seen:
                raise ValidationError(
                    {"skills": f"{need.skill} is listed twice (rows {seen[need.skill.id]} and {row})."}
                )
            seen[need.skill.id] = row
        if not needs:
            raise ValidationError({"skills": "Name at least one skill the request needs."})
    request = save_record(
        membership=membership, instance=instance, rules=_request_rules, remote_addr=remote_addr
    )
    if needs is not None:
        existing = {n.skill_id: n for n in SkillNeed.objects.visible_to(membership).filter(request=request)}
        for row, need in enumerate(needs, 1):
            record = existing.pop(need.skill.id, None) or SkillNeed(request=request, skill=need.skill)
            record.min_level, record.headcount, record.required = (
                need.min_level,
                need.headcount,
                need.required,
            )
            try:
                save_record(membership=membership, instance=record, remote_addr=remote_addr)
            except ValidationError as exc:
                raise ValidationError(
                    {"skills": [f"Row {row} ({need.skill}): {m}" for m in exc.messages]}
                ) from None
        for stale in existing.values():
            delete_record(membership=membership, instance=stale, remote_addr=remote_addr)
    return request


def delete_request(*, membership, instance: SourcingRequest, remote_addr=None) -> None:
    delete_record(membership=membership, instance=instance, remote_addr=remote_addr)


@transaction.atomic
def set_ranking(
    *,
    membership,
    request: SourcingRequest,
    method: str,
    weight_source: str,
    weights: dict | None = None,
    pairwise: dict | None = None,
    remote_addr=None,
) -> tuple[SourcingRequest, dict | None]:
    """Set the method and the weights (directly, or derived from pairwise judgements by AHP)."""
    check_perm(membership, Perm.EDIT)
    if method not in Method.values:
        raise ValidationError({"method": f"Use one of {', '.join(Method.values)}."})
    ahp_info = None
    if weight_source == WeightSource.AHP:
        derived, ahp_info = weights_from_pairwise(pairwise or {})
        request.weights, request.pairwise = derived, ahp_info["judgements"]
    elif weight_source == WeightSource.DIRECT:
        request.weights = clean_weights(weights or {})
    else:
        raise ValidationError({"weight_source": f"Use one of {', '.join(WeightSource.values)}."})
    request.method, request.weight_source = method, weight_source
    save_record(membership=membership, instance=request, rules=_request_rules, remote_addr=remote_addr)
    return request, ahp_info


@transaction.atomic
def evaluate_request(*, membership, request: SourcingRequest, ahp_info: dict | None = None, remote_addr=None):
    """Assess every vendor against the request and rank those passing the gates; stored as an
    immutable evaluation (what the decision log points at)."""
    check_perm(membership, Perm.EDIT)
    if request.organization_id != membership.organization_id:
        raise ValidationError("That request does not exist.")
    candidates = [c.as_json() for c in gates.assess_candidates(membership, request)]
    result = ranking.evaluate(candidates, request.weights, request.method)
    if ahp_info is None and request.weight_source == WeightSource.AHP and request.pairwise:
        _, ahp_info = weights_from_pairwise(request.pairwise)
    evaluation = Evaluation.objects.create(
        organization_id=membership.organization_id,
        request=request,
        method=request.method,
        weights=request.weights,
        weight_source=request.weight_source,
        ahp=ahp_info,
        result=result,
        created_by=membership.user,
    )
    audit.record(
        actor=membership.user,
        organization=membership.organization,
        action="partnerscope.evaluation.created",
        obj=evaluation,
        after={
            "request": str(request),
            "method": request.method,
            "weights": request.weights,
            "ranking": [f"{r['rank']}. {r['name']}" for r in result["ranking"]],
        },
        remote_addr=remote_addr,
    )
    return evaluation


def shortlist_state(decisions) -> dict[str, str]:
    """vendor uid → its latest action (shortlisted, removed, chosen), oldest decision first."""
    state: dict[str, str] = {}
    for decision in sorted(decisions, key=lambda d: (d.created_at, d.id)):
        if decision.vendor_id is not None:
            state[decision.vendor.uid] = decision.action
    return state


@transaction.atomic
def record_decision(
    *, membership, request: SourcingRequest, evaluation: Evaluation, vendor, action: str, note: str = "",
    remote_addr=None,
) -> Decision:  # fmt: skip
    """Shortlist, remove or choose a vendor, keeping a copy of the ranking the actor saw."""
    check_perm(membership, Perm.EDIT)
    SourcingRequest.objects.select_for_update().filter(pk=request.pk).first()
    request.refresh_from_db(fields=["status", "chosen_vendor"])
    if evaluation.request_id != request.id:
        raise ValidationError({"evaluation": "Select a valid evaluation: that one does not exist."})
    if action not in Decision.Action.values:
        raise ValidationError({"action": f"Use one of {', '.join(Decision.Action.values)}."})
    ranked = {r["vendor"]: r for r in evaluation.ranking}
    if vendor.uid not in ranked:
        raise ValidationError({"vendor": f"{vendor} is not in this ranking: it did not pass every gate."})
    if request.status != SourcingRequest.Status.OPEN:
        raise ValidationError(
            f"This request is {request.get_status_display().lower()}: decisions are closed."
        )
    current = shortlist_state(
        Decision.objects.visible_to(membership).filter(request=request).select_related("vendor")
    )
    on_list = current.get(vendor.uid) == Decision.Action.SHORTLISTED
    if action == Decision.Action.SHORTLISTED and on_list:
        raise ValidationError({"vendor": f"{vendor} is already on the shortlist."})
    if action in (Decision.Action.REMOVED, Decision.Action.CHOSEN) and not on_list:
        raise ValidationError({"vendor": f"{vendor} is not on the shortlist: shortlist it first."})
    gates_seen = next((c["gates"] for c in evaluation.result["candidates"] if c["vendor"] == vendor.uid), [])
    snapshot = {
        "evaluation": evaluation.uid,
        "evaluated_at": evaluation.created_at.isoformat(),
        "method": evaluation.method,
        "weights": evaluation.weights,
        "score_label": evaluation.result.get("score_label", ""),
        "ranking": evaluation.ranking,
        "gates": gates_seen,
    }
    decision = Decision(
        organization_id=membership.organization_id,
        request=request,
        evaluation=evaluation,
        vendor=vendor,
        vendor_name=vendor.name,
        action=action,
        note=note.strip(),
        actor=membership.user,
        snapshot=snapshot,
    )
    decision.full_clean()
    decision.save()
    audit.record(
        actor=membership.user,
        organization=membership.organization,
        action=f"partnerscope.decision.{action}",
        obj=decision,
        after={
            "request": str(request),
            "vendor": vendor.name,
            "action": action,
            "rank": ranked[vendor.uid]["rank"],
            "note": decision.note,
        },
        vendor_uid="",  # client-only: never on the vendor's history
        remote_addr=remote_addr,
    )
    if action == Decision.Action.CHOSEN:
        request.status, request.chosen_vendor = SourcingRequest.Status.DECIDED, vendor
        save_record(membership=membership, instance=request, remote_addr=remote_addr)
    return decision


# --- supply facts for capacity planning ---------------------------------------------------------


def save_vendor_capacity(*, membership, instance: VendorCapacity, remote_addr=None) -> VendorCapacity:
    return save_record(membership=membership, instance=instance, remote_addr=remote_addr)


def delete_vendor_capacity(*, membership, instance: VendorCapacity, remote_addr=None) -> None:
    delete_record(membership=membership, instance=instance, remote_addr=remote_addr)


def _person_skill_rules(instance: PersonSkill) -> None:
    # The shares are capacity planning's, which counts in-house people only: a vendor's engineer
    # may list every skill they have at the default share.
    if not Assignment.objects.filter(person_id=instance.person_id, vendor__isnull=True).exists():
        return
    others = PersonSkill.objects.filter(person_id=instance.person_id).exclude(pk=instance.pk)
    total = sum(others.values_list("share_pct", flat=True)) + instance.share_pct
    if total > 100:
        raise ValidationError(
            {"share_pct": f"{instance.person}'s skills would take {total} % of their time; at most 100 %."}
        )


def save_person_skill(*, membership, instance: PersonSkill, remote_addr=None) -> PersonSkill:
    from partnerscope.metrics.dirty import mark_person

    with transaction.atomic():
        old = PersonSkill.objects.filter(pk=instance.pk).values_list("person_id", flat=True).first()
        saved = save_record(
            membership=membership, instance=instance, rules=_person_skill_rules, remote_addr=remote_addr
        )
        # Skill coverage from the roster, wherever the person (before and after) is assigned.
        for person_id in {saved.person_id, old} - {None}:
            mark_person(person_id)
    return saved


def delete_person_skill(*, membership, instance: PersonSkill, remote_addr=None) -> None:
    from partnerscope.metrics.dirty import mark_person

    with transaction.atomic():
        delete_record(membership=membership, instance=instance, remote_addr=remote_addr)
        mark_person(instance.person_id)


# --- hire vs outsource --------------------------------------------------------------------------


def save_cost_scenario(*, membership, instance: CostScenario, remote_addr=None) -> CostScenario:
    """Validate the inputs, run the Monte Carlo, save the scenario with its summary."""
    check_perm(membership, Perm.EDIT)
    instance.inputs = cost_scenarios.clean_inputs(instance.inputs)
    if instance._state.adding:
        instance.created_by = membership.user
    instance.full_clean(exclude=["organization"])
    result = cost_scenarios.run(
        instance.inputs, n_draws=instance.n_draws, seed=instance.seed, distribution=instance.distribution
    )
    with transaction.atomic():
        scenario = save_record(membership=membership, instance=instance, remote_addr=remote_addr)
        # The summary is derived from the inputs the audit event records: stored beside them.
        CostScenario.objects.filter(pk=scenario.pk).update(result=result)
        scenario.result = result
    return scenario


def delete_cost_scenario(*, membership, instance: CostScenario, remote_addr=None) -> None:
    delete_record(membership=membership, instance=instance, remote_addr=remote_addr)


# --- capacity plans -----------------------------------------------------------------------------


def _plan_rules(plan: CapacityPlan) -> None:
    plan.start_month = plan.start_month.replace(day=1)
    parse_exchange_rates(plan.exchange_rates, plan.currency)
    if not plan._state.adding and plan.status == CapacityPlan.Status.SOLVED:
        old = CapacityPlan.objects.get(pk=plan.pk)
        fields = ("start_month", "months", "currency", "exchange_rates", "unmet_penalty", "quality_floor")
        if any(getattr(old, f) != getattr(plan, f) for f in fields):
            # The stored plan no longer answers these settings: solve and adopt it again.
            plan.status, plan.adopted_at, plan.adopted_by = CapacityPlan.Status.STALE, None, None


def save_plan(*, membership, instance: CapacityPlan, remote_addr=None) -> CapacityPlan:
    return save_record(membership=membership, instance=instance, rules=_plan_rules, remote_addr=remote_addr)


def delete_plan(*, membership, instance: CapacityPlan, remote_addr=None) -> None:
    with transaction.atomic():
        if PlanRun.objects.filter(
            plan=instance, status__in=[PlanRun.Status.QUEUED, PlanRun.Status.RUNNING]
        ).exists():
            raise ValidationError("A solve of this plan is queued or running; cancel it first.")
        delete_record(membership=membership, instance=instance, remote_addr=remote_addr)


def _mark_stale(plan: CapacityPlan) -> None:
    if plan.status in (CapacityPlan.Status.SOLVED, CapacityPlan.Status.INFEASIBLE):
        plan.status = CapacityPlan.Status.STALE
        CapacityPlan.objects.filter(pk=plan.pk).update(status=plan.status, adopted_at=None, adopted_by=None)


@transaction.atomic
def set_demand(*, membership, plan: CapacityPlan, cells: dict, source: str = "grid", remote_addr=None) -> int:
    """Replace the plan's demand with ``cells`` ({(Skill, month date): Decimal}); zeros are dropped.

    All or nothing: one bad cell leaves the stored demand as it was.
    """
    check_perm(membership, Perm.EDIT)
    if plan.organization_id != membership.organization_id:
        raise ValidationError("That plan does not exist.")
    CapacityPlan.objects.select_for_update().filter(pk=plan.pk).first()
    horizon = set(plan.month_starts())
    rows = []
    for (skill, month), fte in cells.items():
        if skill.organization_id != membership.organization_id:
            raise ValidationError({"skill": "Select a valid skill: that one does not exist."})
        if month not in horizon:
            raise ValidationError({"month": f"{month:%Y-%m} is outside the plan's months."})
        if fte < 0:
            raise ValidationError({"fte": f"{skill}, {month:%Y-%m}: demand cannot be negative."})
        if fte > 0:
            rows.append(
                DemandLine(organization_id=plan.organization_id, plan=plan, skill=skill, month=month, fte=fte)
            )
    before = DemandLine.objects.visible_to(membership).filter(plan=plan)
    before_total = sum(before.values_list("fte", flat=True))
    before.delete()
    DemandLine.objects.bulk_create(rows)
    _mark_stale(plan)
    total = sum(r.fte for r in rows)
    audit.record(
        actor=membership.user,
        organization=membership.organization,
        action="partnerscope.capacityplan.demand_changed",
        obj=plan,
        before={"fte_months": str(before_total)},
        after={"fte_months": str(total), "cells": len(rows), "source": source},
        remote_addr=remote_addr,
    )
    return len(rows)


def import_demand(*, membership, plan: CapacityPlan, data: bytes, filename: str, remote_addr=None) -> int:
    """Replace the demand from a CSV file: all of it, or nothing with the row and column named."""
    check_perm(membership, Perm.EDIT)
    skills = {s.name.lower(): s for s in Skill.objects.visible_to(membership)}
    cells = read_demand_csv(data, filename, skills=skills, months=plan.month_starts())
    return set_demand(
        membership=membership, plan=plan, cells=cells, source=f"file {filename}", remote_addr=remote_addr
    )


@transaction.atomic
def create_scenario(
    *, membership, plan: CapacityPlan, name: str, change_pct: float, first_month, last_month, skill=None,
    remote_addr=None,
) -> CapacityPlan:  # fmt: skip
    """A copy of ``plan`` whose demand is scaled by ``change_pct`` % from ``first_month`` to
    ``last_month`` (one skill, or all); e.g. +30 % in the third quarter."""
    check_perm(membership, Perm.EDIT)
    if first_month > last_month:
        raise ValidationError({"last_month": "The last month is before the first."})
    if not -100 <= change_pct <= 1000:
        raise ValidationError({"change_pct": "Use a change from −100 % to +1000 %."})
    months = plan.month_starts()
    if first_month not in months or last_month not in months:
        raise ValidationError({"first_month": "Choose months inside the plan."})
    scope = str(skill) if skill is not None else "all skills"
    rule = f"{change_pct:+g} % demand in {first_month:%Y-%m}–{last_month:%Y-%m} ({scope}), from {plan.name}"
    copy = CapacityPlan(
        name=name.strip() or f"{plan.name} {change_pct:+g} %",
        description=plan.description,
        start_month=plan.start_month,
        months=plan.months,
        currency=plan.currency,
        exchange_rates=plan.exchange_rates,
        unmet_penalty=plan.unmet_penalty,
        quality_floor=plan.quality_floor,
        mip_gap=plan.mip_gap,
        time_limit_s=plan.time_limit_s,
    )
    copy.scenario_of, copy.scenario_rule = plan, rule[:200]
    copy = save_record(membership=membership, instance=copy, rules=_plan_rules, remote_addr=remote_addr)
    factor = Decimal(1) + Decimal(str(change_pct)) / 100
    cells = {}
    for line in DemandLine.objects.visible_to(membership).filter(plan=plan).select_related("skill"):
        scaled = first_month <= line.month <= last_month and (skill is None or line.skill_id == skill.id)
        cells[(line.skill, line.month)] = (
            (line.fte * factor).quantize(Decimal("0.01")) if scaled else line.fte
        )
    set_demand(membership=membership, plan=copy, cells=cells, source=rule[:200], remote_addr=remote_addr)
    return copy


def queue_solve(plan: CapacityPlan, *, user=None, claim: bool = False) -> PlanRun:
    """A new queued solve unless one is active. ``claim``: this process runs it (the CLI)."""
    with transaction.atomic():
        CapacityPlan.objects.select_for_update().filter(pk=plan.pk).first()
        active = PlanRun.objects.filter(plan=plan, status__in=[PlanRun.Status.QUEUED, PlanRun.Status.RUNNING])
        for stale in active:
            if stale.is_abandoned():
                PlanRun.objects.filter(pk=stale.pk).update(
                    status=PlanRun.Status.FAILED, finished_at=timezone.now(),
                    message="Interrupted: the process running it stopped. Solve again.",
                )  # fmt: skip
        if active.all().exists():
            raise ValidationError("A solve of this plan is already queued or running.")
        run = PlanRun.objects.create(
            organization_id=plan.organization_id,
            plan=plan,
            requested_by=user,
            worker_host=socket.gethostname() if claim else "",
            worker_pid=os.getpid() if claim else None,
        )
        CapacityPlan.objects.filter(pk=plan.pk).update(status=CapacityPlan.Status.SOLVING)
        audit.record(
            actor=user, organization=plan.organization, action="partnerscope.planrun.created", obj=run
        )
    return run


def start_solve(*, membership, plan: CapacityPlan, enqueue: bool = True) -> PlanRun:
    check_perm(membership, Perm.EDIT)
    if plan.organization_id != membership.organization_id:
        raise ValidationError("That plan does not exist.")
    if not DemandLine.objects.visible_to(membership).filter(plan=plan).exists():
        raise ValidationError("The plan has no demand yet: enter it, import a CSV, or scale another plan.")
    with transaction.atomic():
        run = queue_solve(plan, user=membership.user)
        if enqueue:
            from partnerscope.sourcing.tasks import solve_capacity_plan

            transaction.on_commit(lambda: solve_capacity_plan.enqueue(run.id))
    return run


@transaction.atomic
def cancel_solve(*, membership, run: PlanRun) -> None:
    check_perm(membership, Perm.EDIT)
    if run.organization_id != membership.organization_id:
        raise ValidationError("That solve does not exist.")
    if not run.is_active:
        raise ValidationError("This solve has already ended.")
    if run.status == PlanRun.Status.QUEUED:
        PlanRun.objects.filter(pk=run.pk).update(
            status=PlanRun.Status.CANCELLED, message="Cancelled before it started."
        )
        CapacityPlan.objects.filter(pk=run.plan_id, status=CapacityPlan.Status.SOLVING).update(
            status=CapacityPlan.Status.DRAFT
        )
    else:
        PlanRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    audit.record(
        actor=membership.user,
        organization=membership.organization,
        action="partnerscope.planrun.cancelled",
        obj=run,
    )


@transaction.atomic
def adopt_plan(*, membership, plan: CapacityPlan, remote_addr=None) -> CapacityPlan:
    """Adopt a solved plan as the organization's plan of record; the one adopted before is
    released. Who and when are kept on the plan and in the audit log."""
    check_perm(membership, Perm.EDIT)
    if plan.organization_id != membership.organization_id:
        raise ValidationError("That plan does not exist.")
    CapacityPlan.objects.select_for_update().filter(pk=plan.pk).first()
    plan.refresh_from_db()
    if plan.status != CapacityPlan.Status.SOLVED:
        raise ValidationError(
            f"Only a solved plan can be adopted; this one is “{plan.get_status_display()}”."
        )
    if plan.is_adopted:
        raise ValidationError("This plan is already adopted.")
    for previous in CapacityPlan.objects.visible_to(membership).filter(adopted_at__isnull=False):
        CapacityPlan.objects.filter(pk=previous.pk).update(adopted_at=None, adopted_by=None)
        audit.record(
            actor=membership.user, organization=membership.organization,
            action="partnerscope.capacityplan.released", obj=previous,
            before={"adopted_at": previous.adopted_at.isoformat()}, after={"adopted_at": None},
            remote_addr=remote_addr,
        )  # fmt: skip
    plan.adopted_at, plan.adopted_by = timezone.now(), membership.user
    CapacityPlan.objects.filter(pk=plan.pk).update(adopted_at=plan.adopted_at, adopted_by=plan.adopted_by)
    audit.record(
        actor=membership.user,
        organization=membership.organization,
        action="partnerscope.capacityplan.adopted",
        obj=plan,
        before={"adopted_at": None},
        after={
            "adopted_at": plan.adopted_at.isoformat(),
            "total_cost": str(plan.total_cost),
            "unmet_fte_months": str(plan.unmet_fte_months),
        },
        remote_addr=remote_addr,
    )
    return plan
