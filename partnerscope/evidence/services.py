"""State changes of repositories, syncs and the unattributed-identities queue."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from partnerscope.engagements.models import Assignment, Identity, Person
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence import gitsafe
from partnerscope.evidence.models import Contribution, Repository, SyncRun
from partnerscope.evidence.runs import cancel_run, queue_run
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.records import delete_record, save_record
from partnerscope.orgs.roles import Perm


def check_source(source: str) -> gitsafe.Source:
    """A clone URL, or a path under one of the configured server folders (never our data).

    A path is checked against the allowed folders before anything looks at it, so the form
    cannot be used to probe which paths exist on the server.
    """
    source = source.strip()
    if source.startswith("/"):
        roots = [Path(r).resolve() for r in settings.GIT_LOCAL_ROOTS]
        if not roots:
            raise ValidationError(
                {
                    "source": "Paths on the server are not enabled here (PARTNERSCOPE_GIT_LOCAL_ROOTS); use a clone URL."
                }
            )
        path = Path(source).resolve()
        # Our own mirrors hold every tenant's repositories: never a source.
        mirrors = (Path(settings.DATA_DIR) / "mirrors").resolve()
        if path == mirrors or mirrors in path.parents:
            raise ValidationError({"source": "That path is inside partnerscope's own mirrors."})
        if not any(path == root or root in path.parents for root in roots):
            raise ValidationError(
                {"source": f"Paths must be under one of: {', '.join(str(r) for r in roots)}."}
            )
    try:
        return gitsafe.validate_source(source, allow_local_paths=source.startswith("/"))
    except gitsafe.GitError as exc:
        raise ValidationError({"source": str(exc)}) from None


def _repository_rules(repository: Repository) -> None:
    check_source(repository.source)


def save_repository(*, membership, instance: Repository, remote_addr=None) -> Repository:
    if not instance._state.adding:
        old = Repository.objects.get(pk=instance.pk)
        if old.source != instance.source:
            # Another source is another history: start over rather than mix two.
            instance.cursor = {}
            _remove_mirror(instance)
    return save_record(
        membership=membership, instance=instance, rules=_repository_rules, remote_addr=remote_addr
    )


def _remove_mirror(repository: Repository) -> None:
    from partnerscope.evidence.sync import mirror_path

    path = mirror_path(repository)
    transaction.on_commit(lambda: shutil.rmtree(path, ignore_errors=True))


def delete_repository(*, membership, instance: Repository, remote_addr=None) -> None:
    delete_record(membership=membership, instance=instance, remote_addr=remote_addr)
    _remove_mirror(instance)


@transaction.atomic
def queue_sync(repository: Repository, *, user=None, claim: bool = False) -> SyncRun:
    """A new queued run, unless one is already queued or running (the command line calls this
    directly; pages and the API go through ``start_sync``, which checks the actor first).

    ``claim``: this process will run it itself (the command line), so if it dies before it
    starts, the next sync can tell the run was abandoned.
    """
    return queue_run(SyncRun, repository, field="repository", user=user, claim=claim)


@transaction.atomic
def start_sync(*, membership, repository: Repository, enqueue: bool = True) -> SyncRun:
    check_perm(membership, Perm.EDIT)
    if repository.organization_id != membership.organization_id:
        raise ValidationError("That repository does not exist.")
    run = queue_sync(repository, user=membership.user)
    if enqueue:
        from partnerscope.evidence.tasks import sync_repository

        transaction.on_commit(lambda: sync_repository.enqueue(run.id))
    return run


@transaction.atomic
def cancel_sync(*, membership, run: SyncRun) -> None:
    cancel_run(membership=membership, run=run)


@transaction.atomic
def map_identity(*, membership, email: str, person: Person | None = None, new_name: str = "", vendor=None):
    """Map an unattributed author e-mail to an existing person, or to a new person.

    A new person gets an assignment with the chosen vendor (none = in-house) covering the dates
    of the commits seen, on the repository's engagement when it is that vendor's.
    """
    check_perm(membership, Perm.EDIT)
    email = email.strip().lower()
    seen = Contribution.objects.visible_to(membership).filter(email=email)
    if not seen.exists():
        raise ValidationError({"email": "No commits by that e-mail address."})
    owner = (
        Identity.objects.filter(
            organization_id=membership.organization_id, kind=Identity.Kind.EMAIL, value=email
        )
        .select_related("person")
        .first()
    )
    if owner is not None and (person is None or person.pk != owner.person_id):
        raise ValidationError(
            {
                "person": f"{email} already belongs to {owner.person}: add an assignment covering these dates on their page."
            }
        )
    if person is None:
        first = seen.order_by("authored_date").select_related("repository__engagement").first()
        name = new_name.strip() or first.name
        person = save_roster_record(membership=membership, instance=Person(name=name, email=email))
        engagement = first.repository.engagement
        fits = (
            vendor is not None
            and engagement.vendor_id == vendor.id
            and engagement.start_date <= first.authored_date
            and engagement.end_date is None
        )
        save_roster_record(
            membership=membership,
            instance=Assignment(
                person=person,
                vendor=vendor,
                engagement=engagement if fits else None,
                valid_from=first.authored_date,
                role="Engineer",
            ),
        )
    if not Identity.objects.filter(
        organization_id=membership.organization_id, kind=Identity.Kind.EMAIL, value=email
    ).exists():
        save_roster_record(
            membership=membership, instance=Identity(person=person, kind=Identity.Kind.EMAIL, value=email)
        )
    return person


HEX_PREFIX = re.compile(r"^[0-9a-f]{7,64}$")


def import_coverage(*, membership, repository: Repository, commit: str, name: str, data: bytes):
    """Read a coverage report (LCOV or Cobertura XML) of a synced commit's build and keep its
    counts for the lines the commit added (coverage.py). A second report for the commit
    replaces the first. Bad input raises ValidationError naming the field (and the report's
    line or element); nothing is written then."""
    from partnerscope.evidence.coverage import CoverageError, new_code, parse
    from partnerscope.evidence.models import Commit, CoverageReport
    from partnerscope.evidence.patterns import matcher
    from partnerscope.evidence.sync import mirror_path
    from partnerscope.metrics.dirty import mark_rows

    check_perm(membership, Perm.EDIT)
    if repository.organization_id != membership.organization_id:
        raise ValidationError("That repository does not exist.")
    sha = (commit or "").strip().lower()
    if not HEX_PREFIX.match(sha):
        raise ValidationError({"commit": "Give the commit's id (at least 7 hexadecimal characters)."})
    found = list(Commit.objects.filter(repository=repository, sha__startswith=sha)[:2])
    if not found:
        raise ValidationError(
            {"commit": f"Commit {sha[:12]} is not in this repository's synced history; sync it first."}
        )
    if len(found) > 1:
        raise ValidationError({"commit": f"{sha} names more than one commit; give more of its id."})
    target = found[0]
    if target.parent_count > 1:
        raise ValidationError(
            {"commit": "A merge commit adds no lines of its own; give the commit the build ran on."}
        )
    try:
        report = parse(name or "report", data)
    except CoverageError as exc:
        raise ValidationError({"file": str(exc)}) from None
    mirror = mirror_path(repository)
    if not (mirror / "HEAD").exists():
        raise ValidationError({"commit": "The repository's mirror is missing; sync it first."})
    is_excluded = matcher(repository.glob_list("exclude_globs"), anywhere=True)
    try:
        counts = new_code(report, str(mirror), target.sha, is_excluded)
    except gitsafe.GitError as exc:
        raise ValidationError({"commit": str(exc)}) from None
    with transaction.atomic():
        row, _ = CoverageReport.objects.update_or_create(
            commit=target,
            defaults={
                "organization_id": repository.organization_id, "repository": repository,
                "format": report.format, "file_name": (name or "")[:200], "uploaded_by": membership.user,
                "lines_valid": report.lines_valid, "lines_covered": report.lines_covered,
                "new_lines": counts.lines, "new_covered": counts.covered,
            },
        )  # fmt: skip
        mark_rows(Contribution.objects.filter(commit=target))
    return row
