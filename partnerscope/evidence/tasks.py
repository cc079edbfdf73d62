"""Background jobs of the evidence app, run by the task worker."""

from django_tasks import task

from partnerscope.evidence.models import SyncRun
from partnerscope.evidence.sync import run_sync


@task()
def sync_repository(run_id: int) -> str:
    run = SyncRun.objects.select_related("repository").get(pk=run_id)
    if run.status != SyncRun.Status.QUEUED:
        return f"run {run_id} was {run.status}; nothing to do"
    return run_sync(run).status
