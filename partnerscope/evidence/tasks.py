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


@task()
def sync_connection(run_id: int) -> str:
    from partnerscope.evidence.connectors.runner import run_connector_sync
    from partnerscope.evidence.models import ConnectorRun

    run = ConnectorRun.objects.select_related("connection").get(pk=run_id)
    if run.status != ConnectorRun.Status.QUEUED:
        return f"run {run_id} was {run.status}; nothing to do"
    return run_connector_sync(run).status


@task()
def import_connection_files(run_id: int) -> str:
    from partnerscope.evidence.connectors.runner import run_connector_import
    from partnerscope.evidence.models import ConnectorRun

    run = ConnectorRun.objects.select_related("connection").get(pk=run_id)
    if run.status != ConnectorRun.Status.QUEUED:
        return f"run {run_id} was {run.status}; nothing to do"
    return run_connector_import(run).status
