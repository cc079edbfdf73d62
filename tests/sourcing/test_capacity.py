"""Capacity plans: demand in and out (grid, CSV, scenarios), the model built from stored data, the
solve in the background with progress, the stored plan, conflicts in words, adoption."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from partnerscope.engagements.models import Engagement
from partnerscope.orgs.models import AuditEvent
from partnerscope.sourcing import services
from partnerscope.sourcing.capacity import build_model, run_solve
from partnerscope.sourcing.models import (
    CapacityPlan,
    DemandLine,
    PersonSkill,
    PlanLine,
    PlanRun,
    VendorCapacity,
)
from partnerscope.vendors.models import RateCardLine, Skill, VendorSkill
from tests.sourcing.conftest import score

JUL, AUG, SEP = datetime.date(2025, 7, 1), datetime.date(2025, 8, 1), datetime.date(2025, 9, 1)


@pytest.fixture
def supply(world, scores):
    """A at 60 EUR/h with 12 Python people; B at 40 USD/h (36 EUR) with 5; Ida in-house half on Python."""
    m = world.owner_m
    python = Skill.objects.visible_to(m).get(name="Python")
    RateCardLine.objects.filter(vendor=world.vendor_b).update(currency="USD", rate=40)
    VendorSkill.objects.filter(vendor=world.vendor_b).update(headcount=5)
    services.save_person_skill(
        membership=m, instance=PersonSkill(person=world.inhouse, skill=python, share_pct=50)
    )
    return {"python": python}


def make_plan(m, python, demand=(4, 6, 8), **fields) -> CapacityPlan:
    plan = services.save_plan(
        membership=m,
        instance=CapacityPlan(
            name="H2 plan", start_month=JUL, months=3, exchange_rates="USD 0.9", unmet_penalty=30000, **fields
        ),
    )
    cells = {(python, month): Decimal(fte) for month, fte in zip((JUL, AUG, SEP), demand, strict=True)}
    services.set_demand(membership=m, plan=plan, cells=cells)
    return plan


def solve(m, plan) -> PlanRun:
    run = services.start_solve(membership=m, plan=plan, enqueue=False)
    seen = []
    run = run_solve(run, on_progress=lambda r: seen.append(r.phase))
    assert seen[:3] == ["Reading demand and supply", "Solving with HiGHS", "Storing the plan"]
    plan.refresh_from_db()
    return run


def lines(plan, kind):
    return {
        (line.vendor_name, line.month): line.fte
        for line in PlanLine.objects.filter(plan=plan, kind=kind).order_by("month")
    }


def test_the_model_is_built_from_roster_profiles_rates_and_contracts(world, supply):
    m = world.owner_m
    plan = make_plan(m, supply["python"])
    model, inputs = build_model(m, plan, today=datetime.date(2025, 6, 1))
    assert model.months == ["2025-07", "2025-08", "2025-09"]
    assert model.demand[("Python", "2025-08")] == 6
    assert model.inhouse == {("Python", month): 0.5 for month in model.months}
    offers = {o.name: o for o in model.vendors}
    assert offers["Alpha Soft"].skills == {"Python": (9600.0, 12.0)}
    assert offers["Beta Works"].skills == {"Python": (5760.0, 5.0)}  # 40 USD × 0.9 × 160 h
    assert offers["Alpha Soft"].contracted and offers["Alpha Soft"].baseline_fte == 5
    assert offers["Alpha Soft"].current_fte == 1  # Ana on the roster today
    assert offers["Beta Works"].current_fte == 2  # Ben and Max, who moved from A to B
    terms = " ".join(next(v for v in inputs["vendors"] if v["name"] == "Alpha Soft")["terms"])
    assert "No flex band recorded" in terms and "Current team on the roster: 1 FTE" in terms
    assert inputs["inhouse_people"] == [{"person": "Ida Inhouse", "skills": {"Python": 50}}]


def test_solving_stores_the_cheapest_plan_per_vendor_skill_and_month(world, supply):
    m = world.owner_m
    plan = make_plan(m, supply["python"])
    run = solve(m, plan)
    assert run.status == "succeeded", run.message
    assert plan.status == "solved" and plan.solver_status == "optimal"
    assert plan.gap is not None and plan.gap <= 0.001
    # In-house covers 0.5 a month; B (cheaper) up to its 5 people, A the rest, in whole FTE.
    assert lines(plan, "vendor") == {
        ("Beta Works", JUL): 4,
        ("Beta Works", AUG): 5,
        ("Alpha Soft", AUG): 1,
        ("Beta Works", SEP): 5,
        ("Alpha Soft", SEP): 3,
    }
    assert lines(plan, "inhouse") == {
        ("", JUL): Decimal("0.5"),
        ("", AUG): Decimal("0.5"),
        ("", SEP): Decimal("0.5"),
    }
    assert plan.total_cost == Decimal(14 * 5760 + 4 * 9600)
    assert plan.unmet_fte_months == 0
    assert any("Beta Works" in b and "capacity" in b for b in plan.binding), plan.binding
    assert AuditEvent.objects.filter(action="partnerscope.capacityplan.solved", object_uid=plan.uid).exists()


def test_unmet_demand_is_stored_and_shown_never_hidden(world, supply):
    m = world.owner_m
    plan = make_plan(m, supply["python"], demand=(4, 30, 8))  # 17 people exist in all
    solve(m, plan)
    unmet = lines(plan, "unmet")
    assert unmet == {("", AUG): Decimal("12.5")}  # 30 − 0.5 in-house − 12 − 5
    assert plan.unmet_fte_months == Decimal("12.5")


def test_conflicting_contract_terms_make_an_infeasible_plan_that_says_why(world, supply):
    m = world.owner_m
    Engagement.objects.filter(pk=world.engagement_a.pk).update(minimum_commitment=Decimal(2_000_000))
    plan = make_plan(m, supply["python"])
    run = solve(m, plan)
    assert run.status == "succeeded"
    assert plan.status == "infeasible"
    assert plan.conflicts and "Alpha Soft" in plan.conflicts[0]
    assert "minimum commitment" in plan.conflicts[0] and "12 FTE" in plan.conflicts[0]
    assert not PlanLine.objects.filter(plan=plan).exists()
    assert "No plan satisfies every contract" in run.message


def test_a_vendor_below_the_quality_floor_gets_no_more_than_its_baseline(world, supply, scores):
    m = world.owner_m
    scores[world.vendor_b.id] = score(41, standing="At risk", rank=3)
    Engagement.objects.filter(pk=world.engagement_b.pk).update(baseline_fte=2)
    plan = make_plan(m, supply["python"], quality_floor=1)
    solve(m, plan)
    vendor = lines(plan, "vendor")
    assert max(fte for (name, _), fte in vendor.items() if name == "Beta Works") == 2
    terms = next(v for v in plan.inputs["vendors"] if v["name"] == "Beta Works")["terms"]
    assert any("below the quality floor" in t for t in terms)
    alpha = next(v for v in plan.inputs["vendors"] if v["name"] == "Alpha Soft")
    assert alpha["standing"] is None and any("not held back" in t for t in alpha["terms"])


def test_a_new_vendor_without_bench_waits_for_its_lead_time(world, supply):
    m = world.owner_m
    Engagement.objects.filter(vendor=world.vendor_b).update(status="ended")
    services.save_vendor_capacity(
        membership=m, instance=VendorCapacity(vendor=world.vendor_b, bench_fte=0, lead_time_months=2)
    )
    plan = make_plan(m, supply["python"])
    solve(m, plan)
    beta = {month: fte for (name, month), fte in lines(plan, "vendor").items() if name == "Beta Works"}
    assert JUL not in beta and AUG not in beta and beta[SEP] == 5


def test_cancelling_a_queued_solve_stops_it_and_a_second_solve_waits(world, supply):
    m = world.owner_m
    plan = make_plan(m, supply["python"])
    run = services.start_solve(membership=m, plan=plan, enqueue=False)
    with pytest.raises(ValidationError, match="already queued or running"):
        services.start_solve(membership=m, plan=plan, enqueue=False)
    PlanRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    run = run_solve(run)
    assert run.status == "cancelled"
    plan.refresh_from_db()
    assert plan.status == "draft" and not PlanLine.objects.filter(plan=plan).exists()


def test_the_worker_task_solves_a_queued_plan(world, supply, settings, django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    m = world.owner_m
    plan = make_plan(m, supply["python"])
    with django_capture_on_commit_callbacks(execute=True):
        run = services.start_solve(membership=m, plan=plan)
    run.refresh_from_db()
    plan.refresh_from_db()
    assert run.status == "succeeded" and plan.status == "solved"


def test_a_plan_without_demand_cannot_be_solved(world, supply):
    plan = services.save_plan(
        membership=world.owner_m, instance=CapacityPlan(name="Empty", start_month=JUL, months=2)
    )
    with pytest.raises(ValidationError, match="no demand yet"):
        services.start_solve(membership=world.owner_m, plan=plan, enqueue=False)


def test_adopting_records_who_and_when_and_releases_the_previous_plan(world, supply):
    m = world.owner_m
    first, second = make_plan(m, supply["python"]), make_plan(m, supply["python"], demand=(1, 1, 1))
    with pytest.raises(ValidationError, match="Only a solved plan"):
        services.adopt_plan(membership=m, plan=first)
    solve(m, first)
    solve(m, second)
    services.adopt_plan(membership=m, plan=first)
    services.adopt_plan(membership=m, plan=second)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.adopted_at is None and second.adopted_at is not None and second.adopted_by == m.user
    actions = list(
        AuditEvent.objects.filter(object_uid__in=[first.uid, second.uid]).values_list("action", flat=True)
    )
    assert actions.count("partnerscope.capacityplan.adopted") == 2
    assert "partnerscope.capacityplan.released" in actions
    # Changing the demand makes the adopted plan stale: it must be solved and adopted again.
    services.set_demand(membership=m, plan=second, cells={(supply["python"], JUL): Decimal(2)})
    second.refresh_from_db()
    assert second.status == "stale" and second.adopted_at is None


def test_a_scenario_scales_demand_over_the_chosen_months(world, supply):
    m = world.owner_m
    plan = make_plan(m, supply["python"])
    copy = services.create_scenario(
        membership=m, plan=plan, name="", change_pct=30, first_month=AUG, last_month=SEP
    )
    demand = dict(DemandLine.objects.filter(plan=copy).values_list("month", "fte"))
    assert demand == {JUL: Decimal(4), AUG: Decimal("7.80"), SEP: Decimal("10.40")}
    assert copy.scenario_of == plan and "+30 % demand in 2025-08–2025-09 (all skills)" in copy.scenario_rule
    assert copy.name == "H2 plan +30 %"
    with pytest.raises(ValidationError, match="last month is before"):
        services.create_scenario(
            membership=m, plan=plan, name="x", change_pct=10, first_month=SEP, last_month=JUL
        )


WIDE = b"skill,2025-07,2025-08,2025-09\nPython,4,6,8\nReact,1,,2\n"


def test_demand_imports_from_a_wide_or_long_csv(world, supply):
    m = world.owner_m
    plan = make_plan(m, supply["python"])
    assert services.import_demand(membership=m, plan=plan, data=WIDE, filename="d.csv") == 5
    long = "\ufeffskill,month,fte\npython,2025-07,3\nReact,2025-09,1.5\n".encode()
    assert services.import_demand(membership=m, plan=plan, data=long, filename="d.csv") == 2
    assert dict(DemandLine.objects.filter(plan=plan).values_list("skill__name", "fte")) == {
        "Python": Decimal(3),
        "React": Decimal("1.5"),
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b"skill,2025-07\nPyhton,3\n",
            "d.csv: row 2, column 1: unknown skill “Pyhton” (did you mean Python?)",
        ),
        (b"skill,2025-07,2025-13\nPython,1,2\n", "row 1, column 3: “2025-13” is not a month"),
        (
            b"skill,2025-07,2026-01\nPython,1,2\n",
            "row 1, column 3 (2026-01): outside the plan's months (2025-07 to 2025-09)",
        ),
        (b"skill,2025-07\nPython,three\n", "row 2, column 2 (Python, 2025-07): “three” is not an FTE"),
        (b"skill,2025-07\nPython,-1\n", "row 2, column 2 (Python, 2025-07): “-1” is not an FTE"),
        (b"skill,2025-07\nPython,1\npython,2\n", "row 3: Python is also on row 2"),
        (b"skill,2025-07\nPython,1,2\n", "row 2: 3 values but the header has 2 columns"),
        (
            b"skill,month,fte\nPython,2025-07,1\nPython,2025-07,2\n",
            "row 3: Python in 2025-07 is also on row 2",
        ),
        (b"skill,month,fte\nPython,2025-07\n", "row 2: expected skill, month and fte"),
        (b"name,2025-07\n", "row 1: the header must start with “skill”"),
        (b"\xff\xfeskill", "not UTF-8 text"),
        (b"", "the file is empty"),
    ],
)
def test_a_bad_demand_file_names_row_and_column_and_changes_nothing(world, supply, data, message):
    m = world.owner_m
    plan = make_plan(m, supply["python"])
    before = list(DemandLine.objects.filter(plan=plan).values_list("skill_id", "month", "fte"))
    with pytest.raises(ValidationError) as exc:
        services.import_demand(membership=m, plan=plan, data=data, filename="d.csv")
    assert message in exc.value.message_dict["file"][0]
    assert list(DemandLine.objects.filter(plan=plan).values_list("skill_id", "month", "fte")) == before


def test_an_oversized_demand_file_is_refused_before_parsing(world, supply):
    plan = make_plan(world.owner_m, supply["python"])
    with pytest.raises(ValidationError, match="at most 1024 KB"):
        services.import_demand(
            membership=world.owner_m, plan=plan, data=b"x" * (1024 * 1024 + 1), filename="big.csv"
        )


def test_in_house_skills_cannot_take_more_than_all_of_a_persons_time(world, supply):
    react = Skill.objects.visible_to(world.owner_m).get(name="React")
    with pytest.raises(ValidationError, match="would take 110 %"):
        services.save_person_skill(
            membership=world.owner_m, instance=PersonSkill(person=world.inhouse, skill=react, share_pct=60)
        )


def test_a_vendor_engineers_skills_need_no_shares_of_time(world, supply):
    # Capacity planning counts in-house people only: vendor staff list their skills as they are.
    for name in ("Python", "React", "Kotlin"):
        skill = Skill.objects.visible_to(world.owner_m).get(name=name)
        services.save_person_skill(
            membership=world.owner_m, instance=PersonSkill(person=world.person_a, skill=skill)
        )
    assert PersonSkill.objects.filter(person=world.person_a).count() == 3


def test_changing_a_solved_plans_settings_makes_it_stale_and_not_adopted(world, supply):
    m = world.owner_m
    plan = make_plan(m, supply["python"])
    solve(m, plan)
    services.adopt_plan(membership=m, plan=plan)
    plan.refresh_from_db()
    plan.unmet_penalty = Decimal(50000)
    services.save_plan(membership=m, instance=plan)
    plan.refresh_from_db()
    assert plan.status == "stale" and plan.adopted_at is None
    with pytest.raises(ValidationError, match="Only a solved plan"):
        services.adopt_plan(membership=m, plan=plan)


def test_the_command_line_lists_and_solves_plans(world, supply):
    from io import StringIO

    from django.core.management import CommandError, call_command

    plan = make_plan(world.owner_m, supply["python"])
    out = StringIO()
    call_command("capacity", "solve", plan.uid, stdout=out, stderr=StringIO())
    plan.refresh_from_db()
    assert plan.status == "solved" and "all demand met" in out.getvalue()
    listing = StringIO()
    call_command("capacity", "list", "--org", "acme", stdout=listing)
    assert plan.uid in listing.getvalue() and "Solved" in listing.getvalue()
    with pytest.raises(CommandError, match="No capacity plan with id nope"):
        call_command("capacity", "solve", "nope", stdout=StringIO())
