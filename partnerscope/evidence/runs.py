"""Queueing and cancelling sync runs, the same for repositories (SyncRun) and tracker
connections (ConnectorRun): one active run per source, abandoned runs recognised."""

from __future__ import annotations

import os
import socket

from django.core.exceptions import ValidationError
from django.utils import timezone

from partnerscope.orgs import audit
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.roles import Perm


def fail_abandoned(active, message: str) -> None:
    """Mark the runs of ``active`` (queued or running) whose process is gone as failed, so a
    new run can start: a killed worker must not block its source for ever."""
    model = active.model
    for stale in active:
        if stale.is_abandoned():
            model.objects.filter(pk=stale.pk).update(
                status=model.Status.FAILED, finished_at=timezone.now(), message=message
            )


def queue_run(model, source, *, field: str, user=None, claim: bool = False):
    """A new queued run of ``source`` (named by ``field`` on the run), unless one is already
    queued or running. Call inside a transaction. ``claim``: this process runs it itself (the
    command line), so if it dies the next sync can tell the run was abandoned."""
    type(source).objects.select_for_update().filter(pk=source.pk).first()
    active = model.objects.filter(**{field: source}, status__in=[model.Status.QUEUED, model.Status.RUNNING])
    fail_abandoned(active, "Interrupted: the process running it stopped. The next sync resumes where it was.")
    if active.all().exists():  # a fresh query: the loop above cached the rows it marked
        raise ValidationError(f"A sync of this {field} is already queued or running.")
    run = model.objects.create(
        organization_id=source.organization_id,
        requested_by=user,
        worker_host=socket.gethostname() if claim else "",
        worker_pid=os.getpid() if claim else None,
        **{field: source},
    )
    audit.record(
        actor=user,
        organization=source.organization,
        action=f"partnerscope.{model._meta.model_name}.created",
        obj=run,
    )
    return run


def cancel_run(*, membership, run) -> None:
    """A queued run is cancelled at once (the worker skips it); a running one stops after the
    batch or page it is writing. Call inside a transaction."""
    check_perm(membership, Perm.EDIT)
    if run.organization_id != membership.organization_id:
        raise ValidationError("That sync does not exist.")
    if not run.is_active:
        raise ValidationError("This sync has already ended.")
    model = type(run)
    if run.status == model.Status.QUEUED:
        model.objects.filter(pk=run.pk).update(
            status=model.Status.CANCELLED, message="Cancelled before it started."
        )
    else:
        model.objects.filter(pk=run.pk).update(cancel_requested=True)
    audit.record(
        actor=membership.user,
        organization=membership.organization,
        action=f"partnerscope.{model._meta.model_name}.cancelled",
        obj=run,
    )
