"""State changes of tracker connections and their syncs."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import transaction

from partnerscope.evidence.connectors.secrets import encrypt_token, token_hint
from partnerscope.evidence.connectors.store import found_in_production_matcher
from partnerscope.evidence.connectors.urlguard import UnsafeURL, check_url
from partnerscope.evidence.models import Connection, ConnectorRun, WorkItem
from partnerscope.evidence.runs import cancel_run, queue_run
from partnerscope.metrics.dirty import mark_rows
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.records import delete_record, save_record
from partnerscope.orgs.roles import Perm


def _connection_rules(connection: Connection) -> None:
    if connection.base_url:
        try:
            connection.base_url = check_url(connection.base_url, allow_private=connection.allow_private_host)
        except UnsafeURL as exc:
            raise ValidationError({"base_url": str(exc)}) from None
    project = connection.project.strip().strip("/")
    if connection.kind == Connection.Kind.GITHUB and project.count("/") != 1:
        raise ValidationError({"project": "A GitHub project is owner/repository, for example acme/shop."})
    if connection.kind == Connection.Kind.GITLAB and "/" not in project:
        raise ValidationError({"project": "A GitLab project is its path, for example acme/platform/shop."})
    if connection.kind == Connection.Kind.JIRA:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]{0,29}", project):
            raise ValidationError({"project": "A Jira project is its key in capitals, for example SHOP."})
        if not connection.base_url:
            raise ValidationError(
                {"base_url": "Jira needs your site's address, for example https://acme.atlassian.net."}
            )
    if not connection.token_encrypted:
        raise ValidationError({"token": "A token is needed to read the project."})


def save_connection(*, membership, instance: Connection, token: str = "", remote_addr=None) -> Connection:
    """Create or edit a connection. ``token``: a new token (empty keeps the stored one).

    The stored token goes only where it was entered for: a new server, system or account needs
    the token again (otherwise an editor could send the owner's token to a host of their
    choosing). Another project is another history: its records and cursors start over, and
    not while a sync of the old one runs.
    """
    old = None if instance._state.adding else Connection.objects.get(pk=instance.pk)
    new_token = token.strip()
    approved = old is not None and old.allow_private_host and old.base_url == instance.base_url
    if instance.allow_private_host and not approved and not membership.has_perm(Perm.ADMIN):
        raise ValidationError(
            {"allow_private_host": "Only an owner can allow a server on a private address, or change it."}
        )
    moved = old is not None and (old.base_url, old.kind, old.account_email) != (
        instance.base_url,
        instance.kind,
        instance.account_email,
    )
    if moved and not new_token:
        raise ValidationError({"token": "Enter the token again for the new server, system or account."})
    if new_token:
        instance.token_encrypted = encrypt_token(new_token)
        instance.token_hint = token_hint(new_token)
    other_project = old is not None and (moved or old.project.strip() != instance.project.strip())
    with transaction.atomic():
        if other_project:
            Connection.objects.select_for_update().filter(pk=instance.pk).first()
            if ConnectorRun.objects.filter(
                connection=instance, status__in=[ConnectorRun.Status.QUEUED, ConnectorRun.Status.RUNNING]
            ).exists():
                raise ValidationError(
                    "A sync of this connection is queued or running; change the project after it ends."
                )
            _forget_records(instance)
            instance.cursor = {}
            instance.status = Connection.Status.NEW
        saved = save_record(
            membership=membership, instance=instance, rules=_connection_rules, remote_addr=remote_addr
        )
        if old is not None and not other_project and old.client_wait_states != instance.client_wait_states:
            # The ticket client wait is read with these globs: the items' months change.
            mark_rows(WorkItem.objects.filter(connection=instance, resolved_at__isnull=False))
        if (
            old is not None
            and not other_project
            and (old.found_in_production_labels != instance.found_in_production_labels)
        ):
            rederive_found_in_production(instance)
        return saved


def rederive_found_in_production(connection: Connection) -> int:
    """Apply a changed "found in production" list to the items already stored: the items whose
    flag flips are updated and their months marked for the recompute. Returns how many."""
    found = found_in_production_matcher(connection)
    flips = {True: [], False: []}
    items = WorkItem.objects.filter(connection=connection).values_list("id", "labels", "found_in_production")
    for pk, labels, flagged in items.iterator(chunk_size=5000):
        now = bool(found(*labels))
        if now != flagged:
            flips[now].append(pk)
    for flag, ids in flips.items():
        for start in range(0, len(ids), 5000):
            chunk = WorkItem.objects.filter(id__in=ids[start : start + 5000])
            mark_rows(chunk)
            chunk.update(found_in_production=flag)
    return len(flips[True]) + len(flips[False])


def _forget_records(connection: Connection) -> None:
    from partnerscope.evidence.models import Deployment, Incident, PullRequest

    for model in (Incident, Deployment, PullRequest, WorkItem):  # children cascade
        model.objects.filter(connection=connection).delete()


def delete_connection(*, membership, instance: Connection, remote_addr=None) -> None:
    delete_record(membership=membership, instance=instance, remote_addr=remote_addr)


@transaction.atomic
def queue_connection_sync(connection: Connection, *, user=None, claim: bool = False) -> ConnectorRun:
    """A new queued run unless one is active; ``claim``: this process runs it (the CLI), so a
    run whose process died is recognised as abandoned."""
    return queue_run(ConnectorRun, connection, field="connection", user=user, claim=claim)


@transaction.atomic
def start_connection_sync(*, membership, connection: Connection, enqueue: bool = True) -> ConnectorRun:
    check_perm(membership, Perm.EDIT)
    if connection.organization_id != membership.organization_id:
        raise ValidationError("That connection does not exist.")
    run = queue_connection_sync(connection, user=membership.user)
    if enqueue:
        from partnerscope.evidence.tasks import sync_connection

        transaction.on_commit(lambda: sync_connection.enqueue(run.id))
    return run


@transaction.atomic
def cancel_connection_sync(*, membership, run: ConnectorRun) -> None:
    cancel_run(membership=membership, run=run)


@transaction.atomic
def map_username(*, membership, kind: str, login: str, person=None, new_name: str = "", vendor=None):
    """Map an unattributed tracker username to an existing person, or to a new person with an
    assignment (vendor or in-house) from the date of their first record. The records are
    attributed again at once (the roster services do that)."""
    from partnerscope.engagements.models import Assignment, Identity, Person
    from partnerscope.engagements.services import save_roster_record
    from partnerscope.evidence.queries import unattributed_usernames

    check_perm(membership, Perm.EDIT)
    login = login.strip()
    if kind in ("github", "gitlab"):
        login = login.lower()  # case-insensitive there; Jira account ids and usernames are not
    entry = next(
        (e for e in unattributed_usernames(membership, limit=10**6) if (e.kind, e.login) == (kind, login)),
        None,
    )
    if entry is None:
        raise ValidationError({"login": "No unattributed records by that username."})
    owner = Identity.objects.filter(
        organization_id=membership.organization_id, kind=kind, value=login
    ).first()
    if owner is not None:
        raise ValidationError(
            {
                "person": f"{login} already belongs to {owner.person}: add an assignment covering these dates on their page."
            }
        )
    if person is None:
        person = save_roster_record(membership=membership, instance=Person(name=new_name.strip() or login))
        save_roster_record(
            membership=membership,
            instance=Assignment(person=person, vendor=vendor, valid_from=entry.first, role="Engineer"),
        )
    save_roster_record(membership=membership, instance=Identity(person=person, kind=kind, value=login))
    return person


MAX_IMPORT_BYTES = 200 * 1024 * 1024


def start_import(*, membership, connection: Connection, files, enqueue: bool = True) -> ConnectorRun:
    """Save uploaded export files for a background import. ``files``: (name, bytes) pairs."""
    from partnerscope.evidence.connectors.runner import import_dir

    check_perm(membership, Perm.EDIT)
    if connection.organization_id != membership.organization_id:
        raise ValidationError("That connection does not exist.")
    if not files:
        raise ValidationError({"files": "Choose at least one export file."})
    if sum(len(data) for _, data in files) > MAX_IMPORT_BYTES:
        raise ValidationError({"files": "The files are larger than 200 MB together; import them in parts."})
    with transaction.atomic():
        run = queue_connection_sync(connection, user=membership.user)
        folder = import_dir(run)
        folder.mkdir(parents=True, exist_ok=True)
        for index, (name, data) in enumerate(files):
            safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)[:80] or "export.json"
            (folder / f"{index:03d}-{safe}").write_bytes(data)
        if enqueue:
            from partnerscope.evidence.tasks import import_connection_files

            transaction.on_commit(lambda: import_connection_files.enqueue(run.id))
    return run
