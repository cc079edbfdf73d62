"""After a sync: which commits each production deployment shipped, and the incidents.

- A successful production deployment shipped the commits since the previous successful one:
  read from the git mirror of a repository of the same engagement when one has the commit,
  else the merge commits of the pull requests merged in between.
- Incidents: issues with an incident label or type; merged pull requests that revert another
  (GitHub's "Revert "…"" title), charged to the reverted pull request's author; production
  deployments from a hotfix branch. Each is linked to the production deployment that most
  likely caused it: the one that shipped the reverted change, else the last successful
  production deployment before the incident started.
"""

from __future__ import annotations

import re

from django.db import transaction

from partnerscope.evidence import gitsafe
from partnerscope.evidence.attribution import attribute_actors
from partnerscope.evidence.models import (
    Connection,
    Deployment,
    DeploymentCommit,
    Incident,
    PullRequest,
    Repository,
    WorkItem,
)

REVERT_TITLE = re.compile(r'^Revert "(.+)"$')
MAX_COMMITS_PER_DEPLOYMENT = 10_000


def _mirrors(connection: Connection) -> list[str]:
    from partnerscope.evidence.sync import mirror_path

    repositories = Repository.objects.filter(engagement_id=connection.engagement_id).exclude(cursor={})
    return [str(mirror_path(r)) for r in repositories if mirror_path(r).exists()]


def link_deployment_commits(connection: Connection) -> int:
    shipped = list(
        Deployment.objects.filter(connection=connection, is_production=True, outcome="success")
        .exclude(sha="")
        .order_by("created_at", "id")
    )
    done = set(
        DeploymentCommit.objects.filter(deployment__connection=connection).values_list(
            "deployment_id", flat=True
        )
    )
    mirrors = _mirrors(connection)
    linked = 0
    previous = None
    for deployment in shipped:
        if deployment.id not in done:
            shas = _shipped(connection, deployment, previous, mirrors)
            DeploymentCommit.objects.bulk_create(
                [
                    DeploymentCommit(
                        organization_id=connection.organization_id, deployment=deployment, sha=sha
                    )
                    for sha in shas
                ],
                ignore_conflicts=True,
            )
            linked += len(shas)
        previous = deployment
    return linked


def _shipped(connection, deployment, previous, mirrors) -> list[str]:
    for mirror in mirrors:
        if gitsafe.has_commit(mirror, deployment.sha) and (
            previous is None or gitsafe.has_commit(mirror, previous.sha)
        ):
            exclude = [f"^{previous.sha}"] if previous is not None else []
            out = gitsafe.run_git(
                mirror, "rev-list", f"--max-count={MAX_COMMITS_PER_DEPLOYMENT}", "--end-of-options",
                deployment.sha, *exclude, "--",
            )  # fmt: skip
            return out.decode().split()
    merged = PullRequest.objects.filter(connection=connection, merged_at__lte=deployment.created_at).exclude(
        merge_commit_sha=""
    )
    if previous is not None:
        merged = merged.filter(merged_at__gt=previous.created_at)
    return [deployment.sha, *merged.values_list("merge_commit_sha", flat=True)]


def _cause(connection: Connection, started_at, shipped_sha: str = ""):
    production = Deployment.objects.filter(
        connection__engagement_id=connection.engagement_id, is_production=True, outcome="success"
    )
    if shipped_sha:
        found = production.filter(commits__sha=shipped_sha).order_by("created_at").first()
        if found is not None:
            return found
    return production.filter(created_at__lte=started_at).order_by("-created_at").first()


def derive_incidents(connection: Connection) -> int:
    org, wanted = connection.organization_id, {}

    def add(source, key, **values):
        wanted[(source, key)] = Incident(
            organization_id=org,
            connection=connection,
            actor_kind=connection.identity_kind,
            source=source,
            key=key,
            **values,
        )

    for item in WorkItem.objects.filter(connection=connection, is_incident=True):
        add(
            "issue", item.key, title=item.title, url=item.url, started_at=item.created_at,
            resolved_at=item.resolved_at, work_item=item, actor=item.actor, acted_on=item.acted_on,
            is_bot=item.is_bot, caused_by=_cause(connection, item.created_at),
        )  # fmt: skip
    reverts = PullRequest.objects.filter(connection=connection, state="merged", title__startswith='Revert "')
    for revert in reverts:
        match = REVERT_TITLE.match(revert.title)
        original = (
            PullRequest.objects.filter(
                connection=connection, title=match.group(1), created_at__lt=revert.created_at
            )
            .order_by("-created_at")
            .first()
            if match
            else None
        )
        culprit = original or revert
        add(
            "revert", f"pr-{revert.number}", title=revert.title, url=revert.url, started_at=revert.created_at,
            resolved_at=revert.merged_at, actor=culprit.actor, acted_on=culprit.acted_on, is_bot=culprit.is_bot,
            caused_by=_cause(connection, revert.created_at, original.merge_commit_sha if original else ""),
        )  # fmt: skip
    for hotfix in Deployment.objects.filter(connection=connection, is_production=True, is_hotfix=True):
        add(
            "hotfix", f"{hotfix.kind}-{hotfix.external_id}", title=f"Hotfix deployment {hotfix.ref}",
            url=hotfix.url, started_at=hotfix.created_at,
            resolved_at=hotfix.finished_at if hotfix.outcome == "success" else None, deployment=hotfix,
            actor=hotfix.actor, acted_on=hotfix.acted_on, is_bot=hotfix.is_bot,
            caused_by=Deployment.objects.filter(
                connection__engagement_id=connection.engagement_id, is_production=True, outcome="success",
                created_at__lt=hotfix.created_at,
            ).exclude(pk=hotfix.pk).order_by("-created_at").first(),
        )  # fmt: skip
    fields = ["title", "url", "started_at", "resolved_at", "work_item", "deployment", "caused_by", "actor", "actor_kind", "acted_on", "is_bot", "status"]  # fmt: skip
    with transaction.atomic():
        # What no longer qualifies (a label removed, a revert reverted) goes; the rest is upserted.
        stale = [
            pk
            for pk, source, key in Incident.objects.filter(connection=connection).values_list(
                "id", "source", "key"
            )
            if (source, key) not in wanted
        ]
        for start in range(0, len(stale), 500):
            Incident.objects.filter(id__in=stale[start : start + 500]).delete()
        Incident.objects.bulk_create(
            list(wanted.values()),
            update_conflicts=True,
            unique_fields=["connection", "source", "key"],
            update_fields=fields,
            batch_size=500,
        )
        attribute_actors(Incident.objects.filter(connection=connection))
    return len(wanted)
