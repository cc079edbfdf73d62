"""Background jobs of the metrics app, run by the task worker."""

from django.utils import timezone
from django_tasks import task


@task()
def recompute_metrics(run_id: int) -> str:
    from partnerscope.metrics.models import MetricsRun
    from partnerscope.metrics.services import run_recompute

    run = MetricsRun.objects.get(pk=run_id)
    if run.status != MetricsRun.Status.QUEUED:
        return f"run {run_id} was {run.status}; nothing to do"
    return run_recompute(run).status


@task()
def deliver_alert(alert_id: int) -> str:
    from partnerscope.metrics.alerts import deliver_pending

    retry = deliver_pending(alert_id)
    if retry is None:
        return "delivered"
    deliver_alert.using(run_after=timezone.now() + retry).enqueue(alert_id)
    return f"retrying in {int(retry.total_seconds())} s"
