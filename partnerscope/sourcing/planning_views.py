"""Pages of planning: the hire-vs-outsource cost model, capacity plans (demand, solve with
progress, the plan, scenarios side by side, adoption) and the supply facts they read (vendor
capacity, people's skills). Client-only, like sourcing."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partnerscope.decisions import DEFAULT_INPUTS
from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm
from partnerscope.sourcing import charts, services
from partnerscope.sourcing.capacity import month_key
from partnerscope.sourcing.demand_import import check_size, parse_fte
from partnerscope.sourcing.forms import (
    CapacityPlanForm,
    CostScenarioForm,
    DemandImportForm,
    PersonSkillForm,
    ScenarioForm,
    VendorCapacityForm,
)
from partnerscope.sourcing.models import (
    CapacityPlan,
    CostScenario,
    DemandLine,
    PersonSkill,
    PlanLine,
    PlanRun,
    VendorCapacity,
)
from partnerscope.vendors.models import Skill
from partnerscope.web.crud import apply_errors, client_ip, delete_page, form_page

SECTION = "planning"


# --- supply facts -------------------------------------------------------------------------------


@requires(Perm.VIEW_INTERNAL)
def supply_overview(request, org_slug):
    m = request.membership
    context = {
        "section": SECTION,
        "capacities": VendorCapacity.objects.visible_to(m).select_related("vendor"),
        "person_skills": PersonSkill.objects.visible_to(m).select_related("person", "skill"),
    }
    return render(request, "sourcing/supply.html", context)


def _supply_url(org_slug):
    return reverse("supply_overview", args=[org_slug])


@requires(Perm.EDIT)
def vendor_capacity_create(request, org_slug):
    form = VendorCapacityForm(request.POST or None, membership=request.membership)
    return form_page(
        request, form, title="Vendor capacity", section=SECTION,
        intro="What you know about how fast this vendor can staff up. Headcount per skill is on the vendor's skills.",
        save=lambda: services.save_vendor_capacity(
            membership=request.membership, instance=form.instance, remote_addr=client_ip(request)
        ),
        success_url=lambda obj: _supply_url(org_slug), cancel_url=_supply_url(org_slug),
    )  # fmt: skip


@requires(Perm.EDIT)
def vendor_capacity_edit(request, org_slug, uid):
    instance = VendorCapacity.objects.get_visible_or_404(request.membership, uid=uid)
    form = VendorCapacityForm(request.POST or None, membership=request.membership, instance=instance)
    return form_page(
        request, form, title=f"Edit {instance}", section=SECTION,
        save=lambda: services.save_vendor_capacity(
            membership=request.membership, instance=form.instance, remote_addr=client_ip(request)
        ),
        success_url=lambda obj: _supply_url(org_slug), cancel_url=_supply_url(org_slug),
    )  # fmt: skip


@requires(Perm.EDIT)
def vendor_capacity_delete(request, org_slug, uid):
    instance = VendorCapacity.objects.get_visible_or_404(request.membership, uid=uid)
    return delete_page(
        request, instance, kind="vendor capacity", section=SECTION,
        delete=lambda: services.delete_vendor_capacity(
            membership=request.membership, instance=instance, remote_addr=client_ip(request)
        ),
        success_url=_supply_url(org_slug), cancel_url=_supply_url(org_slug),
    )  # fmt: skip


@requires(Perm.EDIT)
def person_skill_create(request, org_slug):
    form = PersonSkillForm(request.POST or None, membership=request.membership)
    return form_page(
        request, form, title="A person's skill", section=SECTION,
        intro="A skill someone on the roster has. Skill coverage counts the skills of the people assigned "
        "to an engagement; capacity planning counts in-house people's, at the share of their time given.",
        save=lambda: services.save_person_skill(
            membership=request.membership, instance=form.instance, remote_addr=client_ip(request)
        ),
        success_url=lambda obj: _supply_url(org_slug), cancel_url=_supply_url(org_slug),
    )  # fmt: skip


@requires(Perm.EDIT)
def person_skill_delete(request, org_slug, uid):
    instance = PersonSkill.objects.get_visible_or_404(request.membership, uid=uid)
    return delete_page(
        request, instance, kind="person's skill", section=SECTION,
        delete=lambda: services.delete_person_skill(
            membership=request.membership, instance=instance, remote_addr=client_ip(request)
        ),
        success_url=_supply_url(org_slug), cancel_url=_supply_url(org_slug),
    )  # fmt: skip


# --- hire vs outsource --------------------------------------------------------------------------


@requires(Perm.VIEW_INTERNAL)
def cost_scenario_list(request, org_slug):
    scenarios = CostScenario.objects.visible_to(request.membership).select_related("created_by")
    return render(request, "sourcing/cost_list.html", {"section": SECTION, "scenarios": scenarios})


def _cost_form_page(request, org_slug, instance):
    form = CostScenarioForm(request.POST or None, membership=request.membership, instance=instance)
    if request.method == "POST" and form.is_valid():
        try:
            scenario = services.save_cost_scenario(
                membership=request.membership, instance=form.instance, remote_addr=client_ip(request)
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Simulated and saved.")
            return redirect("cost_scenario_detail", org_slug=org_slug, uid=scenario.uid)
    cancel = (
        reverse("cost_scenario_detail", args=[org_slug, instance.uid])
        if instance
        else reverse("cost_scenario_list", args=[org_slug])
    )
    context = {
        "section": SECTION,
        "form": form,
        "title": f"Edit {instance}" if instance else "Hire or outsource: new scenario",
        "cancel_url": cancel,
    }
    return render(
        request, "sourcing/cost_form.html", context, status=400 if request.method == "POST" else 200
    )


@requires(Perm.EDIT)
def cost_scenario_create(request, org_slug):
    return _cost_form_page(request, org_slug, None)


@requires(Perm.EDIT)
def cost_scenario_edit(request, org_slug, uid):
    return _cost_form_page(
        request, org_slug, CostScenario.objects.get_visible_or_404(request.membership, uid=uid)
    )


@requires(Perm.EDIT)
def cost_scenario_delete(request, org_slug, uid):
    instance = CostScenario.objects.get_visible_or_404(request.membership, uid=uid)
    return delete_page(
        request, instance, kind="scenario", section=SECTION,
        delete=lambda: services.delete_cost_scenario(
            membership=request.membership, instance=instance, remote_addr=client_ip(request)
        ),
        success_url=reverse("cost_scenario_list", args=[org_slug]),
        cancel_url=reverse("cost_scenario_detail", args=[org_slug, uid]),
    )  # fmt: skip


@requires(Perm.VIEW_INTERNAL)
def cost_scenario_detail(request, org_slug, uid):
    scenario = CostScenario.objects.select_related("created_by").get_visible_or_404(
        request.membership, uid=uid
    )
    result = scenario.result or {}
    inputs = []
    for name, spec in DEFAULT_INPUTS.items():
        value = scenario.inputs.get(name, spec.value)
        ranged = isinstance(value, list | tuple) and value[0] != value[2]
        likely = value[1] if isinstance(value, list | tuple) else value
        inputs.append(
            {
                "spec": spec,
                "low": value[0] if ranged else None,
                "likely": likely,
                "high": value[2] if ranged else None,
                "default": _listed(value) == _listed(spec.value),
            }
        )
    context = {"section": SECTION, "scenario": scenario, "result": result, "inputs": inputs}
    if result:
        context.update(
            cumulative_chart=charts.svg_data_uri(charts.cumulative_cost_spec(result)),
            tornado_chart=charts.svg_data_uri(charts.tornado_spec(result)) if result["tornado"] else "",
            fte_chart=charts.svg_data_uri(charts.productive_fte_spec(result)),
            curve_rows=_curve_rows(result),
        )
    return render(request, "sourcing/cost_detail.html", context)


def _listed(value):
    return list(value) if isinstance(value, tuple) else value


def _curve_rows(result: dict) -> list[tuple]:
    inhouse, outsource = result["inhouse"]["cumulative_cost"], result["outsource"]["cumulative_cost"]
    rows = []
    for month in range(result["months"]):
        if month % 3 == 2 or month == result["months"] - 1:
            rows.append((month + 1, inhouse[1][month], outsource[1][month], inhouse[0][month], inhouse[2][month],
                         outsource[0][month], outsource[2][month]))  # fmt: skip
    return rows


# --- capacity plans -----------------------------------------------------------------------------


def _plan(request, uid) -> CapacityPlan:
    return CapacityPlan.objects.select_related("scenario_of", "adopted_by").get_visible_or_404(
        request.membership, uid=uid
    )


@requires(Perm.VIEW_INTERNAL)
def capacity_plan_list(request, org_slug):
    plans = list(
        CapacityPlan.objects.visible_to(request.membership).select_related("scenario_of", "adopted_by")
    )
    return render(request, "sourcing/plan_list.html", {"section": SECTION, "plans": plans})


@requires(Perm.EDIT)
def capacity_plan_create(request, org_slug):
    form = CapacityPlanForm(request.POST or None, membership=request.membership)
    return form_page(
        request, form, title="New capacity plan", section=SECTION,
        intro="Then enter the demand by skill and month (or import it from CSV) and solve.",
        save=lambda: services.save_plan(membership=request.membership, instance=form.instance, remote_addr=client_ip(request)),
        success_url=lambda plan: reverse("capacity_demand", args=[org_slug, plan.uid]),
        cancel_url=reverse("capacity_plan_list", args=[org_slug]),
    )  # fmt: skip


@requires(Perm.EDIT)
def capacity_plan_edit(request, org_slug, uid):
    plan = _plan(request, uid)
    form = CapacityPlanForm(request.POST or None, membership=request.membership, instance=plan)
    detail = reverse("capacity_plan_detail", args=[org_slug, uid])
    return form_page(
        request, form, title=f"Edit {plan}", section=SECTION,
        save=lambda: services.save_plan(membership=request.membership, instance=form.instance, remote_addr=client_ip(request)),
        success_url=lambda obj: detail, cancel_url=detail,
    )  # fmt: skip


@requires(Perm.EDIT)
def capacity_plan_delete(request, org_slug, uid):
    plan = _plan(request, uid)
    return delete_page(
        request, plan, kind="capacity plan", section=SECTION,
        delete=lambda: services.delete_plan(membership=request.membership, instance=plan, remote_addr=client_ip(request)),
        success_url=reverse("capacity_plan_list", args=[org_slug]),
        cancel_url=reverse("capacity_plan_detail", args=[org_slug, uid]),
    )  # fmt: skip


def demand_grid(membership, plan: CapacityPlan):
    """(months, rows) with rows = [(skill, [fte per month], total)] from the stored demand."""
    months = plan.month_starts()
    cells = defaultdict(dict)
    skills = {}
    for line in DemandLine.objects.visible_to(membership).filter(plan=plan).select_related("skill"):
        cells[line.skill_id][line.month] = line.fte
        skills[line.skill_id] = line.skill
    rows = []
    for skill_id, skill in sorted(skills.items(), key=lambda kv: kv[1].name):
        values = [cells[skill_id].get(month, Decimal(0)) for month in months]
        rows.append((skill, values, sum(values)))
    return months, rows


def plan_summary(membership, plan: CapacityPlan) -> dict:
    """The solved plan as tables: per vendor × month, per skill × month (supply vs demand)."""
    months = plan.month_starts()
    keys = [month_key(mo) for mo in months]
    lines = list(PlanLine.objects.visible_to(membership).filter(plan=plan).select_related("skill"))
    by_source = defaultdict(lambda: defaultdict(Decimal))
    cost_by_source = defaultdict(Decimal)
    by_skill = defaultdict(lambda: defaultdict(lambda: defaultdict(Decimal)))
    for line in lines:
        source = (
            line.vendor_name or "(deleted vendor)"
            if line.kind == PlanLine.Kind.VENDOR
            else line.get_kind_display()
        )
        by_source[source][line.month] += line.fte
        if line.kind != PlanLine.Kind.UNMET:
            cost_by_source[source] += line.cost
        by_skill[line.skill.name][line.kind][line.month] += line.fte
    order = sorted(by_source, key=lambda s: (s == "Unmet", s == "In-house", s))
    sources = [
        (
            s,
            [by_source[s].get(mo, Decimal(0)) for mo in months],
            sum(by_source[s].values()),
            cost_by_source.get(s),
        )
        for s in order
    ]
    _, demand_rows = demand_grid(membership, plan)
    demand_by_month = defaultdict(Decimal)
    for _, values, _ in demand_rows:
        for mo, value in zip(months, values, strict=True):
            demand_by_month[mo] += value
    skills = []
    for skill, values, _ in demand_rows:
        kinds = by_skill.get(skill.name, {})
        unmet = [kinds.get("unmet", {}).get(mo, Decimal(0)) for mo in months]
        supplied = [
            kinds.get("vendor", {}).get(mo, Decimal(0)) + kinds.get("inhouse", {}).get(mo, Decimal(0))
            for mo in months
        ]
        skills.append((skill.name, list(zip(values, supplied, unmet, strict=True))))
    supply_rows = [
        {"month": key, "source": s, "fte": float(v)}
        for s, values, _, _ in sources
        for key, v in zip(keys, values, strict=True)
        if v
    ]
    chart = (
        charts.svg_data_uri(
            charts.plan_supply_spec(
                keys, supply_rows, {k: float(demand_by_month[mo]) for k, mo in zip(keys, months, strict=True)}
            )
        )
        if lines
        else ""
    )
    return {
        "sources": sources,
        "skills": skills,
        "chart": chart,
        "demand_by_month": [demand_by_month[mo] for mo in months],
    }


@requires(Perm.VIEW_INTERNAL)
def capacity_plan_detail(request, org_slug, uid):
    m = request.membership
    plan = _plan(request, uid)
    runs = list(PlanRun.objects.visible_to(m).filter(plan=plan).select_related("requested_by")[:5])
    months, demand_rows = demand_grid(m, plan)
    context = {
        "section": SECTION,
        "plan": plan,
        "runs": runs,
        "run": runs[0] if runs else None,
        "active_run": next((r for r in runs if r.is_active), None),
        "months": months,
        "demand_rows": demand_rows,
        "scenarios": CapacityPlan.objects.visible_to(m).filter(scenario_of=plan),
        "floor_label": dict(_floor_choices()).get(plan.quality_floor),
        "gap_pct": 100 * plan.gap if plan.gap is not None else None,
    }
    if plan.status in (CapacityPlan.Status.SOLVED, CapacityPlan.Status.STALE):
        context["summary"] = plan_summary(m, plan)
    return render(request, "sourcing/plan_detail.html", context)


def _floor_choices():
    from partnerscope.sourcing.forms import QUALITY_FLOORS

    return [(int(value) if value else None, label) for value, label in QUALITY_FLOORS]


@requires(Perm.EDIT)
def capacity_demand(request, org_slug, uid):
    """The demand grid: one row per skill, one column per month; new rows pick a skill."""
    m = request.membership
    plan = _plan(request, uid)
    months, rows = demand_grid(m, plan)
    skills = list(Skill.objects.visible_to(m))
    errors = []
    if request.method == "POST":
        if request.POST.get("grid") != "1":
            errors.append("The form is incomplete: reload the page and enter the demand again.")
        else:
            cells, errors = _read_grid(request.POST, months, {s.uid: s for s in skills})
        if not errors:
            try:
                count = services.set_demand(
                    membership=m, plan=plan, cells=cells, remote_addr=client_ip(request)
                )
            except ValidationError as exc:
                errors.extend(exc.messages)
            else:
                messages.success(request, f"Demand saved: {count} cells. Solve the plan when it is complete.")
                return redirect("capacity_plan_detail", org_slug=org_slug, uid=uid)
    posted = request.POST if request.method == "POST" else None
    context = {
        "section": SECTION,
        "plan": plan,
        "months": months,
        "rows": [
            (
                skill,
                [
                    (
                        f"cell_{skill.uid}_{mo:%Y-%m}",
                        posted.get(f"cell_{skill.uid}_{mo:%Y-%m}", "") if posted else _cell_text(v),
                    )
                    for mo, v in zip(months, values, strict=True)
                ],
            )
            for skill, values, _ in rows
        ],
        "new_rows": [
            (
                f"new_{i}_skill",
                posted.get(f"new_{i}_skill", "") if posted else "",
                [
                    (f"new_{i}_{mo:%Y-%m}", posted.get(f"new_{i}_{mo:%Y-%m}", "") if posted else "")
                    for mo in months
                ],
            )
            for i in range(3)
        ],  # fmt: skip
        "skills": skills,
        "errors": errors,
    }
    return render(request, "sourcing/demand_form.html", context, status=400 if errors else 200)


def _cell_text(value: Decimal) -> str:
    return "" if not value else f"{value.normalize():f}"


def _read_grid(post, months, skills_by_uid):
    """{(Skill, month): fte} from the posted grid, or the errors naming skill and month."""
    cells, errors, seen = {}, [], set()

    def take(skill, prefix):
        for month in months:
            raw = post.get(f"{prefix}_{month:%Y-%m}", "")
            fte = parse_fte(raw)
            if fte is None:
                errors.append(f"{skill}, {month:%Y-%m}: “{raw.strip()[:20]}” is not an FTE from 0 to 10,000.")
            else:
                cells[(skill, month)] = fte

    for uid in sorted({name.split("_")[1] for name in post if name.startswith("cell_")}):
        skill = skills_by_uid.get(uid)
        if skill is None:
            errors.append("A row names a skill that does not exist; reload the page.")
            continue
        seen.add(uid)
        take(skill, f"cell_{uid}")
    for i in range(3):
        uid = post.get(f"new_{i}_skill", "")
        if not uid:
            if any(post.get(f"new_{i}_{mo:%Y-%m}", "").strip() for mo in months):
                errors.append(f"New row {i + 1}: choose its skill.")
            continue
        skill = skills_by_uid.get(uid)
        if skill is None:
            errors.append(f"New row {i + 1}: select a valid skill.")
        elif uid in seen:
            errors.append(f"New row {i + 1}: {skill} already has a row; change that row instead.")
        else:
            seen.add(uid)
            take(skill, f"new_{i}")
    return cells, errors


@requires(Perm.EDIT)
def capacity_import(request, org_slug, uid):
    plan = _plan(request, uid)
    posted = request.method == "POST"
    form = DemandImportForm(request.POST if posted else None, request.FILES if posted else None)
    detail = reverse("capacity_plan_detail", args=[org_slug, uid])

    def save():
        upload = form.cleaned_data["file"]
        check_size(upload.size, upload.name)
        return services.import_demand(
            membership=request.membership, plan=plan, data=upload.read(), filename=upload.name,
            remote_addr=client_ip(request),
        )  # fmt: skip

    return form_page(
        request, form, title=f"Import demand into {plan}", section=SECTION,
        intro=f"Months {plan.start_month:%Y-%m} to {plan.month_starts()[-1]:%Y-%m}.",
        save=save, success_url=lambda count: detail, cancel_url=detail, submit_label="Import",
        success_message="Demand imported.",
    )  # fmt: skip


@requires(Perm.EDIT)
def capacity_scenario(request, org_slug, uid):
    m = request.membership
    plan = _plan(request, uid)
    _, rows = demand_grid(m, plan)
    form = ScenarioForm(request.POST or None, plan=plan, skills=[skill for skill, _, _ in rows])
    return form_page(
        request, form, title=f"New scenario from {plan}", section=SECTION,
        intro="A copy of this plan with its demand scaled over some months, e.g. +30 % in the third quarter. "
        "Solve it and compare the plans side by side.",
        save=lambda: services.create_scenario(
            membership=m, plan=plan, name=form.cleaned_data["name"], change_pct=float(form.cleaned_data["change_pct"]),
            first_month=form.cleaned_data["first_month"], last_month=form.cleaned_data["last_month"],
            skill=form.cleaned_data["skill"], remote_addr=client_ip(request),
        ),
        success_url=lambda copy: reverse("capacity_plan_detail", args=[org_slug, copy.uid]),
        cancel_url=reverse("capacity_plan_detail", args=[org_slug, uid]),
        submit_label="Create scenario",
    )  # fmt: skip


@requires(Perm.EDIT)
@require_POST
def capacity_solve(request, org_slug, uid):
    plan = _plan(request, uid)
    try:
        services.start_solve(membership=request.membership, plan=plan)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Solve queued; progress shows below.")
    return redirect("capacity_plan_detail", org_slug=org_slug, uid=uid)


@requires(Perm.EDIT)
@require_POST
def capacity_adopt(request, org_slug, uid):
    plan = _plan(request, uid)
    try:
        services.adopt_plan(membership=request.membership, plan=plan, remote_addr=client_ip(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Adopted “{plan}” as the plan of record.")
    return redirect("capacity_plan_detail", org_slug=org_slug, uid=uid)


@requires(Perm.VIEW_INTERNAL)
def capacity_compare(request, org_slug):
    """Plans side by side: cost, unmet demand, vendors used, FTE by month."""
    m = request.membership
    chosen = request.GET.getlist("plan")[:6]
    plans = list(CapacityPlan.objects.visible_to(m).filter(uid__in=chosen)) if chosen else []
    plans.sort(key=lambda p: chosen.index(p.uid))
    columns = []
    for plan in plans:
        summary = (
            plan_summary(m, plan)
            if plan.status in (CapacityPlan.Status.SOLVED, CapacityPlan.Status.STALE)
            else None
        )
        columns.append({"plan": plan, "summary": summary})
    vendors = sorted({s for c in columns if c["summary"] for s, *_ in c["summary"]["sources"]})
    table = []
    for source in vendors:
        cells = []
        for c in columns:
            row = next((r for r in c["summary"]["sources"] if r[0] == source), None) if c["summary"] else None
            cells.append((row[2], row[3]) if row else None)
        table.append((source, cells))
    context = {
        "section": SECTION,
        "columns": columns,
        "table": table,
        "all_plans": CapacityPlan.objects.visible_to(m),
        "chosen": chosen,
    }
    return render(request, "sourcing/plan_compare.html", context)


@requires(Perm.VIEW_INTERNAL)
def plan_run_progress(request, org_slug, uid):
    run = PlanRun.objects.select_related("plan").get_visible_or_404(request.membership, uid=uid)
    return render(request, "sourcing/_plan_progress.html", {"run": run, "plan": run.plan})


@requires(Perm.EDIT)
@require_POST
def plan_run_cancel(request, org_slug, uid):
    run = PlanRun.objects.select_related("plan").get_visible_or_404(request.membership, uid=uid)
    try:
        services.cancel_solve(membership=request.membership, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Cancelling: the solve stops before the plan is stored.")
    return redirect("capacity_plan_detail", org_slug=org_slug, uid=run.plan.uid)
