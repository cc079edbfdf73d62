"""Capacity plans: from stored demand, roster, vendor profiles and contracts to a solved plan.

``build_model`` reads everything the plan needs through ``visible_to`` and turns it into a
``partnerscope.decisions.CapacityModel``; ``run_solve`` (the worker's task, or the command line)
solves it with HiGHS and stores the plan per vendor, skill and month in one transaction.

How stored data becomes the model's terms (each also shown on the plan page, in words):

* demand: the plan's demand grid; in-house supply: in-house assignments (no vendor) on the
  15th of each month × allocation × the person's share for the skill (``PersonSkill``);
* a vendor's offer: its skills' headcount (``VendorSkill``) at one monthly rate, the median of
  its rate-card lines valid at the plan's start (converted with the plan's exchange rates);
* contract terms from its active and planned engagements covering the whole plan (one ending
  inside it is named but not applied, as the terms hold in every month): baseline FTE,
  flex band (0 % is read as "not set"), minimum commitment (spend per month of the contract,
  a year when open-ended, divided by the monthly rate), notice (the team can unwind over the
  notice period: at most current team ÷ notice months less per month);
* the current team: the vendor's assignments on the roster today (else the baseline);
* ramp-up (``VendorCapacity``): no bench and no contract means a lead time before the first
  month it can be used; a growth limit per month;
* quality floor: a vendor whose standing band is below the floor gets no more than its
  baseline; a vendor with no history is not held back, and the page says so.
"""

from __future__ import annotations

import datetime
import math
import os
import socket
import time
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from partnerscope.decisions import CapacityModel, DecisionError, VendorOffer, solve_capacity
from partnerscope.engagements.models import Assignment, Engagement
from partnerscope.orgs import audit
from partnerscope.sourcing.models import (
    CapacityPlan,
    DemandLine,
    PersonSkill,
    PlanLine,
    PlanRun,
    VendorCapacity,
    add_months,
)
from partnerscope.sourcing.rates import blended_rate, lines_valid_on, parse_exchange_rates
from partnerscope.vendors.models import RateCardLine, Vendor, VendorSkill

PLANNABLE = {Vendor.Status.ACTIVE, Vendor.Status.ONBOARDING, Vendor.Status.PROSPECT}
CONTRACT_STATUSES = {Engagement.Status.ACTIVE, Engagement.Status.PLANNED, Engagement.Status.ON_HOLD}
STEPS = 4


def month_key(day: datetime.date) -> str:
    return f"{day:%Y-%m}"


def _months_between(start: datetime.date, end: datetime.date) -> float:
    return max(1.0, (end - start).days / 30.4375)


class Cancelled(Exception):
    pass


def build_model(membership, plan: CapacityPlan, *, today: datetime.date | None = None):
    """(CapacityModel, inputs): the model and, as JSON, the supply and terms it was built from."""
    today = today or datetime.date.today()
    fx = parse_exchange_rates(plan.exchange_rates, plan.currency)
    starts = plan.month_starts()
    months = [month_key(d) for d in starts]
    horizon_end = add_months(plan.start_month, plan.months) - datetime.timedelta(days=1)
    demand_rows = list(
        DemandLine.objects.visible_to(membership)
        .filter(plan=plan, month__gte=plan.start_month, month__lte=horizon_end)
        .values_list("skill_id", "skill__name", "month", "fte")
    )
    if not demand_rows:
        raise ValidationError("The plan has no demand yet: enter it, import a CSV, or scale another plan.")
    skill_names = {skill_id: name for skill_id, name, _, _ in demand_rows}
    skills = sorted(set(skill_names.values()))
    demand = {(name, month_key(month)): float(fte) for _, name, month, fte in demand_rows}
    inhouse, inhouse_people = _inhouse_supply(membership, plan, skill_names, starts)
    offers, vendor_notes = _vendor_offers(membership, plan, skill_names, starts, horizon_end, fx, today)
    model = CapacityModel(
        months=months,
        skills=skills,
        demand=demand,
        inhouse=inhouse,
        vendors=offers,
        unmet_penalty=float(plan.unmet_penalty) if plan.unmet_penalty else None,
        mip_gap=float(plan.mip_gap),
        time_limit_s=float(plan.time_limit_s),
    )
    inputs = {
        "months": months,
        "skills": skills,
        "inhouse_people": inhouse_people,
        "vendors": vendor_notes,
        "skill_ids": {name: skill_id for skill_id, name in skill_names.items()},
    }
    return model, inputs


def _inhouse_supply(membership, plan, skill_names, starts):
    shares = defaultdict(list)
    for person_id, person_name, skill_id, share in (
        PersonSkill.objects.visible_to(membership)
        .filter(skill_id__in=list(skill_names))
        .values_list("person_id", "person__name", "skill_id", "share_pct")
    ):
        shares[person_id].append((person_name, skill_names[skill_id], share / 100))
    if not shares:
        return {}, []
    first, last = starts[0], starts[-1] + datetime.timedelta(days=27)
    assignments = (
        Assignment.objects.visible_to(membership)
        .filter(vendor__isnull=True, person_id__in=list(shares), valid_from__lte=last)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=first))
        .values_list("person_id", "allocation_pct", "valid_from", "valid_to")
    )
    supply: dict[tuple[str, str], float] = defaultdict(float)
    people: dict[int, dict] = {}
    for person_id, allocation, valid_from, valid_to in assignments:
        for start in starts:
            mid = start.replace(day=15)
            if valid_from <= mid and (valid_to is None or valid_to >= mid):
                for name, skill, share in shares[person_id]:
                    supply[(skill, month_key(start))] += allocation / 100 * share
                    entry = people.setdefault(person_id, {"person": name, "skills": {}})
                    entry["skills"][skill] = round(share * 100)
    return {k: round(v, 3) for k, v in supply.items()}, sorted(people.values(), key=lambda p: p["person"])


def _vendor_offers(membership, plan, skill_names, starts, horizon_end, fx, today):
    vendors = {
        v.id: v
        for v in Vendor.objects.visible_to(membership)
        .filter(status__in=PLANNABLE, skills__skill_id__in=list(skill_names))
        .distinct()
    }
    ids = list(vendors)
    offered = defaultdict(dict)
    for row in VendorSkill.objects.visible_to(membership).filter(
        vendor_id__in=ids, skill_id__in=list(skill_names)
    ):
        if row.headcount > 0:
            offered[row.vendor_id][skill_names[row.skill_id]] = row.headcount
    lines = defaultdict(list)
    rate_qs = RateCardLine.objects.visible_to(membership).filter(vendor_id__in=ids)
    for line in lines_valid_on(rate_qs, plan.start_month):
        lines[line.vendor_id].append(line)
    engagements, ending = defaultdict(list), defaultdict(list)
    for engagement in (
        Engagement.objects.visible_to(membership)
        .filter(vendor_id__in=ids, status__in=CONTRACT_STATUSES, start_date__lte=horizon_end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=plan.start_month))
    ):
        # The model's terms hold in every month: a contract ending inside the plan cannot bind
        # the months after it, so its terms are not applied (and the page says so).
        covers = engagement.end_date is None or engagement.end_date >= horizon_end
        (engagements if covers else ending)[engagement.vendor_id].append(engagement)
    team = defaultdict(float)
    for vendor_id, allocation in (
        Assignment.objects.visible_to(membership)
        .filter(vendor_id__in=ids, valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .values_list("vendor_id", "allocation_pct")
    ):
        team[vendor_id] += allocation / 100
    capacities = {
        c.vendor_id: c for c in VendorCapacity.objects.visible_to(membership).filter(vendor_id__in=ids)
    }
    standings = _standings(membership, ids)

    offers, notes = [], []
    for vendor_id, vendor in sorted(vendors.items(), key=lambda item: item[1].name):
        note = {"vendor": vendor.uid, "name": vendor.name, "terms": [], "skills": {}, "used": False}
        notes.append(note)
        if not offered[vendor_id]:
            note["terms"].append("No headcount recorded for the demanded skills: left out.")
            continue
        rate = blended_rate(lines[vendor_id], {}, plan.currency, fx)
        note["terms"].extend(rate.notes)
        if not rate.known:
            note["terms"].append(f"No usable rate-card line valid on {plan.start_month:%Y-%m-%d}: left out.")
            continue
        monthly = float(rate.monthly)
        note["rate"] = monthly
        note["skills"] = dict(offered[vendor_id])
        offer = VendorOffer(
            key=vendor.uid,
            name=vendor.name,
            skills={skill: (monthly, float(headcount)) for skill, headcount in offered[vendor_id].items()},
        )
        for engagement in ending[vendor_id]:
            note["terms"].append(
                f"{engagement.name} ends on {engagement.end_date:%Y-%m-%d}, inside the plan: its terms are not applied."
            )
        _contract_terms(offer, note, engagements[vendor_id], monthly, plan, fx)
        current = round(team[vendor_id], 2)
        if current or offer.contracted:
            offer.current_fte = current if current else offer.baseline_fte
            note["terms"].append(f"Current team on the roster: {current:g} FTE.")
        _ramp_terms(offer, note, capacities.get(vendor_id), len(starts))
        _quality_terms(offer, note, standings.get(vendor_id), plan)
        note["used"] = True
        offers.append(offer)
    return offers, notes


def _contract_terms(offer, note, engagements, monthly, plan, fx) -> None:
    if not engagements:
        note["terms"].append("No contract: paid at the rate card, no minimum, no flex band.")
        return
    offer.contracted = True
    baseline = sum(float(e.baseline_fte or 0) for e in engagements)
    offer.baseline_fte = baseline
    bands = [(float(e.baseline_fte or 0), e.flex_band_pct) for e in engagements if e.flex_band_pct]
    names = ", ".join(e.name for e in engagements)
    note["terms"].append(
        f"Contract{'s' if len(engagements) > 1 else ''}: {names}; baseline {baseline:g} FTE."
    )
    if bands and baseline > 0:
        weighted = sum(b * pct for b, pct in bands) / max(sum(b for b, _ in bands), 1e-9)
        offer.flex_band = round(weighted / 100, 4)
        low, high = baseline * (1 - offer.flex_band), baseline * (1 + offer.flex_band)
        note["terms"].append(f"Flex band ±{weighted:g} %: {low:g}–{high:g} FTE.")
    else:
        note["terms"].append("No flex band recorded (0 %): the team total is not tied to the baseline.")
    minimum_fte = 0.0
    for e in engagements:
        if not e.minimum_commitment:
            continue
        rate = fx.get(e.currency.upper())
        if rate is None:
            note["terms"].append(
                f"Minimum commitment of {e.name} is in {e.currency}; no exchange rate to {plan.currency}: ignored."
            )
            continue
        span = _months_between(e.start_date, e.end_date) if e.end_date else 12.0
        per_month = float(e.minimum_commitment * rate) / span
        minimum_fte += per_month / monthly
        basis = f"over {span:.0f} months" if e.end_date else "a year (open-ended)"
        note["terms"].append(
            f"Minimum commitment {e.minimum_commitment:,.0f} {e.currency} {basis}: "
            f"{per_month:,.0f} {plan.currency}/month ≈ {per_month / monthly:.2f} FTE."
        )
    offer.min_commitment_fte = round(minimum_fte, 3)
    notice_days = max(e.notice_period_days for e in engagements)
    notice_months = math.ceil(notice_days / 30)
    if notice_months > 1:
        team = max(baseline, 1.0)
        offer.max_shrink_per_month = max(1.0, math.floor(team / notice_months))
        note["terms"].append(
            f"Notice {notice_days} days: the team unwinds over {notice_months} months, at most "
            f"{offer.max_shrink_per_month:g} FTE less per month."
        )


def _ramp_terms(offer, note, capacity: VendorCapacity | None, month_count: int) -> None:
    if capacity is None:
        note["terms"].append("No ramp-up data: usable from the first month, growth not limited.")
        return
    if capacity.max_growth_fte_per_month is not None:
        offer.max_growth_per_month = float(capacity.max_growth_fte_per_month)
        note["terms"].append(f"Grows by at most {capacity.max_growth_fte_per_month:g} FTE a month.")
    bench = float(capacity.bench_fte)
    if not offer.contracted and bench < 1 and capacity.lead_time_months:
        offer.ramp_lead_months = min(capacity.lead_time_months, month_count)
        note["terms"].append(
            f"No one on the bench: usable after a {capacity.lead_time_months}-month lead time."
        )
    elif bench:
        note["terms"].append(f"{bench:g} FTE on the bench: can start at once.")


def _standings(membership, vendor_ids):
    from partnerscope.metrics.summary import vendor_scores

    return vendor_scores(membership.organization_id, vendor_ids)


def _quality_terms(offer, note, score, plan) -> None:
    if score is None or score.standing_rank is None:
        note["standing"] = None
        if plan.quality_floor is not None:
            note["terms"].append("No scorecard history: not held back by the quality floor.")
        return
    note["standing"] = score.standing
    if plan.quality_floor is not None and score.standing_rank > plan.quality_floor:
        offer.allowed = False
        offer.baseline_fte = offer.baseline_fte or (offer.current_fte or 0.0)
        note["terms"].append(
            f"Standing {score.standing} is below the quality floor: no more than {offer.baseline_fte:g} FTE."
        )


# --- solving ------------------------------------------------------------------------------------


def _phase(run: PlanRun, phase: str, done: int, on_progress) -> None:
    fresh = PlanRun.objects.filter(pk=run.pk).values_list("cancel_requested", flat=True).first()
    if fresh:
        raise Cancelled
    run.phase, run.progress_done, run.progress_total = phase, done, STEPS
    run.save(update_fields=["phase", "progress_done", "progress_total", "updated_at"])
    if on_progress:
        on_progress(run)


def run_solve(run: PlanRun, *, on_progress: Callable[[PlanRun], None] | None = None) -> PlanRun:
    """Solve the run's plan and store it; every failure ends as a message on the run."""
    from partnerscope.orgs.models import Membership

    plan = run.plan
    run.status, run.started_at = PlanRun.Status.RUNNING, timezone.now()
    run.worker_host, run.worker_pid = socket.gethostname(), os.getpid()
    run.save(update_fields=["status", "started_at", "worker_host", "worker_pid", "updated_at"])
    # The solve reads as the member who asked for it, through the same scoping as their pages.
    membership = (
        Membership.objects.select_related("user", "organization")
        .filter(organization_id=plan.organization_id, user_id=run.requested_by_id)
        .first()
    )
    try:
        if membership is None or not membership.is_usable():
            raise ValidationError("The member who asked for this solve no longer has access.")
        _phase(run, "Reading demand and supply", 1, on_progress)
        model, inputs = build_model(membership, plan)
        _phase(run, "Solving with HiGHS", 2, on_progress)
        started = time.perf_counter()
        result = solve_capacity(model)
        elapsed = time.perf_counter() - started
        _phase(run, "Storing the plan", 3, on_progress)
        store_plan(membership, plan, model, inputs, result, run=run)
        message = _outcome(result, elapsed)
        status = PlanRun.Status.SUCCEEDED
    except Cancelled:
        status, message = PlanRun.Status.CANCELLED, "Cancelled before the plan was stored."
        CapacityPlan.objects.filter(pk=plan.pk, status=CapacityPlan.Status.SOLVING).update(
            status=CapacityPlan.Status.DRAFT
        )
    except (ValidationError, DecisionError) as exc:
        text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        status, message = PlanRun.Status.FAILED, text
        CapacityPlan.objects.filter(pk=plan.pk).update(status=CapacityPlan.Status.FAILED, conflicts=[text])
    PlanRun.objects.filter(pk=run.pk).update(
        status=status,
        message=message,
        finished_at=timezone.now(),
        progress_done=STEPS if status == PlanRun.Status.SUCCEEDED else run.progress_done,
        progress_total=STEPS,
        phase="Done" if status == PlanRun.Status.SUCCEEDED else run.phase,
    )
    run.refresh_from_db()
    if on_progress:
        on_progress(run)
    return run


def _outcome(result, elapsed: float) -> str:
    if result.conflicts:
        return "No plan satisfies every contract: " + " ".join(result.conflicts)
    gap = f", gap {100 * result.gap:.2f} %" if math.isfinite(result.gap) else ""
    unmet = sum(fte for _, _, fte in result.unmet)
    left = f"; {unmet:g} FTE-months of demand unmet" if unmet > 1e-6 else "; all demand met"
    return f"Solved in {elapsed:.1f} s ({result.status}{gap}){left}."


def _decimal(value: float, places: str = "0.01") -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(places))


@transaction.atomic
def store_plan(
    membership, plan: CapacityPlan, model: CapacityModel, inputs: dict, result, *, run=None
) -> None:
    """Replace the plan's lines and outcome with ``result`` in one transaction, with an audit event."""
    skill_ids = inputs["skill_ids"]
    vendor_ids = {
        v.uid: (v.id, v.name)
        for v in Vendor.objects.visible_to(membership).filter(uid__in=[o.key for o in model.vendors])
    }
    month_dates = {key: datetime.date(int(key[:4]), int(key[5:]), 1) for key in model.months}
    PlanLine.objects.filter(plan=plan).delete()
    rows = []
    org = plan.organization_id
    for vendor_key, skill, month, fte, cost in result.allocations:
        vendor_id, name = vendor_ids[vendor_key]
        rows.append(
            PlanLine(
                organization_id=org, plan=plan, kind=PlanLine.Kind.VENDOR, vendor_id=vendor_id,
                vendor_name=name, skill_id=skill_ids[skill], month=month_dates[month],
                fte=_decimal(fte, "0.001"), cost=_decimal(cost),
            )
        )  # fmt: skip
    if not result.conflicts:
        for (skill, month), needed in model.demand.items():
            used = min(needed, model.inhouse.get((skill, month), 0.0))
            if used > 1e-9:
                rows.append(
                    PlanLine(
                        organization_id=org, plan=plan, kind=PlanLine.Kind.INHOUSE, skill_id=skill_ids[skill],
                        month=month_dates[month], fte=_decimal(used, "0.001"),
                    )
                )  # fmt: skip
        for skill, month, fte in result.unmet:
            rows.append(
                PlanLine(
                    organization_id=org, plan=plan, kind=PlanLine.Kind.UNMET, skill_id=skill_ids[skill],
                    month=month_dates[month], fte=_decimal(fte, "0.001"),
                    cost=_decimal(fte * result.unmet_penalty),
                )
            )  # fmt: skip
    PlanLine.objects.bulk_create(rows, batch_size=2000)
    solved = not result.conflicts and result.allocations is not None and math.isfinite(result.cost)
    plan.status = CapacityPlan.Status.SOLVED if solved else CapacityPlan.Status.INFEASIBLE
    if not solved and not result.conflicts:
        plan.status = CapacityPlan.Status.FAILED
    plan.solver_status = result.status
    plan.gap = result.gap if math.isfinite(result.gap) else None
    plan.objective = _decimal(result.objective) if math.isfinite(result.objective) else None
    plan.total_cost = _decimal(result.cost) if math.isfinite(result.cost) else None
    plan.unmet_fte_months = _decimal(sum(f for _, _, f in result.unmet)) if solved else None
    plan.binding, plan.conflicts = list(result.binding), list(result.conflicts)
    plan.inputs = {**inputs, "unmet_penalty": result.unmet_penalty}
    plan.solved_at = timezone.now()
    plan.adopted_at, plan.adopted_by = None, None  # a re-solved plan must be adopted again
    plan.save()
    audit.record(
        actor=membership.user,
        organization=membership.organization,
        action="partnerscope.capacityplan.solved",
        obj=plan,
        after={
            "status": plan.status,
            "solver_status": plan.solver_status,
            "gap": plan.gap,
            "total_cost": str(plan.total_cost) if plan.total_cost is not None else None,
            "unmet_fte_months": str(plan.unmet_fte_months) if plan.unmet_fte_months is not None else None,
            "conflicts": plan.conflicts,
        },
    )
