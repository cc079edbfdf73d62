"""Background jobs of sourcing and planning, run by the task worker."""

from django_tasks import task

from partnerscope.sourcing.capacity import run_solve
from partnerscope.sourcing.models import PlanRun


@task()
def solve_capacity_plan(run_id: int) -> str:
    run = PlanRun.objects.select_related("plan__organization").get(pk=run_id)
    if run.status != PlanRun.Status.QUEUED:
        return f"run {run_id} was {run.status}; nothing to do"
    return run_solve(run).status
