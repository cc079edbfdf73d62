"""Writing connector rows: idempotent upserts on natural keys, one page per transaction.

A page's records, their children (a pull request's commits and reviews, a work item's
changelog) and their attribution are written together; children are replaced as a set, so an
edit or a deletion at the source shows after the next sync that reads the parent. Writing the
same page twice changes nothing.
"""

from __future__ import annotations

import datetime
import functools

from django.db import transaction
from django.db.models import Q

from partnerscope.evidence.attribution import attribute_actors
from partnerscope.evidence.models import (
    Connection,
    Deployment,
    PullRequest,
    PullRequestCommit,
    Review,
    Sprint,
    WorkItem,
    WorkItemEvent,
    WorkItemSprint,
)
from partnerscope.evidence.patterns import matcher

PR_FIELDS = ["title", "url", "state", "draft", "created_at", "updated_at", "ready_at", "first_commit_at", "merged_at", "closed_at", "merge_commit_sha", "additions", "deletions", "changed_files", "commit_count", "labels"]  # fmt: skip
REVIEW_FIELDS = ["state", "is_comment", "submitted_at", "comment_count"]
ITEM_FIELDS = ["external_id", "title", "url", "item_type", "priority", "workflow_status", "category", "resolution", "created_at", "updated_at", "resolved_at", "assignee", "reporter", "sprint", "fix_versions", "labels", "links", "is_incident"]  # fmt: skip
DEPLOYMENT_FIELDS = ["environment", "is_production", "is_hotfix", "outcome", "sha", "ref", "name", "created_at", "finished_at", "updated_at", "url"]  # fmt: skip
ACTOR_FIELDS = ["actor", "actor_kind", "acted_on", "is_bot", "status"]


@functools.cache
def _limits(model) -> dict[str, int]:
    return {f.name: f.max_length for f in model._meta.concrete_fields if getattr(f, "max_length", None)}


def _fit(model, values: dict) -> dict:
    """Values cut to their column's length: a source's over-long text must not stop a sync for
    good on PostgreSQL, which enforces lengths (an over-long link is dropped, not cut). A link
    that is not http(s) is dropped too."""
    limits = _limits(model)
    fitted = {}
    for name, value in values.items():
        limit = limits.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            value = "" if name == "url" else value[:limit]
        if name == "url" and isinstance(value, str) and not value.lower().startswith(("https://", "http://")):
            # Pages link to it: a "javascript:" link from an uploaded export would run in them.
            value = ""
        fitted[name] = value
    return fitted


def _actor(connection: Connection, row: dict) -> dict:
    return {
        "organization_id": connection.organization_id,
        "connection": connection,
        "actor": row["actor"][:255],
        "actor_kind": connection.identity_kind,
        "acted_on": row["acted_on"],
        "is_bot": row["is_bot"],
        "status": "",
    }


def _ids(model, connection: Connection, key: str, values) -> dict:
    return dict(
        model.objects.filter(connection=connection, **{f"{key}__in": list(values)}).values_list(key, "id")
    )


def store_pull_requests(connection: Connection, rows: list[dict]) -> int:
    if not rows:
        return 0
    org = connection.organization_id
    with transaction.atomic():
        PullRequest.objects.bulk_create(
            [
                PullRequest(
                    number=r["number"],
                    **_fit(PullRequest, {f: r[f] for f in PR_FIELDS}),
                    **_actor(connection, r),
                )
                for r in rows
            ],
            update_conflicts=True,
            unique_fields=["connection", "number"],
            update_fields=PR_FIELDS + ACTOR_FIELDS,
        )
        ids = _ids(PullRequest, connection, "number", (r["number"] for r in rows))
        pr_ids = list(ids.values())
        # Children are replaced as a set, except where the source said nothing about them (an
        # export without commits or reviews keeps what a sync stored).
        PullRequestCommit.objects.filter(
            pull_request_id__in=[ids[r["number"]] for r in rows if r["commits"] is not None]
        ).delete()
        Review.objects.filter(
            pull_request_id__in=[ids[r["number"]] for r in rows if r["reviews"] is not None]
        ).delete()
        commits, reviews = {}, {}
        for r in rows:
            pr_id = ids[r["number"]]
            for c in r["commits"] or ():
                commits[(pr_id, c["sha"])] = PullRequestCommit(
                    organization_id=org, pull_request_id=pr_id, **_fit(PullRequestCommit, c)
                )
            for v in r["reviews"] or ():
                reviews[(pr_id, v["external_id"])] = Review(
                    pull_request_id=pr_id,
                    external_id=v["external_id"][:100],
                    **{f: v[f] for f in REVIEW_FIELDS},
                    **_actor(connection, v),
                )
        PullRequestCommit.objects.bulk_create(commits.values(), batch_size=1000)
        Review.objects.bulk_create(reviews.values(), batch_size=1000)
        attribute_actors(PullRequest.objects.filter(id__in=pr_ids))
        attribute_actors(Review.objects.filter(pull_request_id__in=pr_ids))
    return len(rows)


def found_in_production_matcher(connection: Connection):
    """True for labels that say a bug was found in production (the connection's list)."""
    return matcher(connection.glob_list("found_in_production_labels"))


def store_work_items(connection: Connection, rows: list[dict]) -> int:
    if not rows:
        return 0
    org = connection.organization_id
    found_in_production = found_in_production_matcher(connection)
    with transaction.atomic():
        WorkItem.objects.bulk_create(
            [
                WorkItem(
                    key=r["key"][:100],
                    found_in_production=bool(found_in_production(*r["labels"])),
                    **_fit(WorkItem, {f: r[f] for f in ITEM_FIELDS}),
                    **_actor(connection, r),
                )
                for r in rows
            ],
            update_conflicts=True,
            unique_fields=["connection", "key"],
            update_fields=[*ITEM_FIELDS, "found_in_production", *ACTOR_FIELDS],
        )
        ids = _ids(WorkItem, connection, "key", (r["key"] for r in rows))
        WorkItemEvent.objects.filter(
            work_item_id__in=[ids[r["key"]] for r in rows if r["events"] is not None]
        ).delete()
        events = {}
        for r in rows:
            item_id = ids[r["key"]]
            for e in r["events"] or ():
                events[(item_id, e["external_id"])] = WorkItemEvent(
                    organization_id=org,
                    work_item_id=item_id,
                    external_id=e["external_id"],
                    at=e["at"],
                    field=e["field"],
                    from_value=e["from_value"][:255],
                    to_value=e["to_value"][:255],
                    actor=e["actor"][:255],
                )
        WorkItemEvent.objects.bulk_create(events.values(), batch_size=1000)
        _store_sprints(connection, rows, ids)
        attribute_actors(WorkItem.objects.filter(id__in=list(ids.values())))
    return len(rows)


SPRINT_FIELDS = ["name", "state", "started_at", "ends_at", "completed_at"]


def _store_sprints(connection: Connection, rows: list[dict], ids: dict[str, int]) -> None:
    """The sprints the rows name or know of (as the latest row describes each) and the sprints
    each item is in now. Predictability counts a sprint in the month it ended: those months, before and after
    the change, are marked for every sprint the items are or were in (by the changelog too)."""
    from partnerscope.metrics.dirty import mark

    listed = [r for r in rows if r.get("sprints") is not None]
    if not listed:
        return
    # Sprints a row knows of besides its own (GitLab's milestone events describe the milestones
    # an issue left), then its own: the latest description wins.
    described = {sprint["external_id"]: sprint for r in listed for sprint in r.get("sprints_known") or ()}
    described.update({sprint["external_id"]: sprint for r in listed for sprint in r["sprints"]})
    mentioned = set(described)
    for r in listed:
        for e in r["events"] or ():
            if e["field"] == "sprint":
                mentioned.update(x for x in f"{e['from_value']},{e['to_value']}".split(",") if x)
    item_ids = [ids[r["key"]] for r in listed]
    ended = set(
        Sprint.objects.filter(Q(connection=connection, external_id__in=list(mentioned)) | Q(item_links__work_item_id__in=item_ids))
        .values_list("completed_at", "ends_at")
    )  # fmt: skip
    Sprint.objects.bulk_create(
        [Sprint(organization_id=connection.organization_id, connection=connection, **s) for s in described.values()],
        update_conflicts=True, unique_fields=["connection", "external_id"], update_fields=SPRINT_FIELDS,
    )  # fmt: skip
    WorkItemSprint.objects.filter(work_item_id__in=item_ids).delete()
    sprint_ids = dict(
        Sprint.objects.filter(connection=connection, external_id__in=list(described)).values_list(
            "external_id", "id"
        )
    )
    WorkItemSprint.objects.bulk_create(
        {
            (ids[r["key"]], sprint_ids[s["external_id"]]): WorkItemSprint(
                organization_id=connection.organization_id, work_item_id=ids[r["key"]],
                sprint_id=sprint_ids[s["external_id"]],
            )
            for r in listed for s in r["sprints"]
        }.values(),
        batch_size=1000,
    )  # fmt: skip
    ended |= {(s["completed_at"], s["ends_at"]) for s in described.values()}
    days = [(c or e).astimezone(datetime.UTC).date() for c, e in ended if c or e]
    mark(connection.organization_id, [(connection.engagement_id, day) for day in days], "items")


def store_deployments(connection: Connection, rows: list[dict]) -> int:
    if not rows:
        return 0
    with transaction.atomic():
        Deployment.objects.bulk_create(
            [
                Deployment(
                    external_id=r["external_id"],
                    kind=r["kind"],
                    **_fit(Deployment, {f: r[f] for f in DEPLOYMENT_FIELDS}),
                    **_actor(connection, r),
                )
                for r in rows
            ],
            update_conflicts=True,
            unique_fields=["connection", "kind", "external_id"],
            update_fields=DEPLOYMENT_FIELDS + ACTOR_FIELDS,
        )
        keys = {(r["kind"], r["external_id"]) for r in rows}
        stored = Deployment.objects.filter(connection=connection, external_id__in=[k[1] for k in keys])
        attribute_actors(stored)
    return len(rows)


def save_cursor(connection: Connection, **values) -> None:
    """Move a cursor (in the caller's transaction, with the page it follows). Merged into the
    stored cursors under a row lock, never written from a stale copy of them."""
    with transaction.atomic():
        stored = (
            Connection.objects.select_for_update()
            .filter(pk=connection.pk)
            .values_list("cursor", flat=True)
            .first()
        )
        connection.cursor = {**(stored or {}), **values}
        Connection.objects.filter(pk=connection.pk).update(cursor=connection.cursor)
