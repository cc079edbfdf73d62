"""GitHub payloads (GraphQL nodes, REST items) to evidence rows: pure functions, no database."""

from __future__ import annotations

from partnerscope.evidence.connectors.payload import field, items, moment, utc_date
from partnerscope.evidence.patterns import matcher

REVIEW_STATES = {"APPROVED": "approved", "CHANGES_REQUESTED": "changes_requested", "COMMENTED": "commented", "DISMISSED": "dismissed"}  # fmt: skip


def actor_of(node: dict | None, is_bot_name) -> tuple[str, bool]:
    """(login in lower case, is it a bot). GraphQL gives bots without the "[bot]" suffix."""
    if not isinstance(node, dict) or not node.get("login"):
        return "", False  # a deleted account ("ghost")
    login = str(node["login"]).lower()
    return login, node.get("__typename") == "Bot" or login.endswith("[bot]") or bool(is_bot_name(login))


def pull_request(node: dict, is_bot_name) -> dict:
    where = f"pull request #{node.get('number', '?')}"
    number = field(node, "number", int, where=where)
    author, author_bot = actor_of(node.get("author"), is_bot_name)
    created = moment(node, "createdAt", where=where)
    state = field(node, "state", str, where=where).lower()
    commits = []
    for item in items(node, "commits", where=where):
        commit = field(item, "commit", dict, where=where)
        commits.append(
            {
                "sha": field(commit, "oid", str, where=where),
                "authored_at": moment(commit, "authoredDate", where=where),
                "author_email": (
                    field(commit, "author.email", str, where=where, optional=True) or ""
                ).lower(),
                "author_login": (
                    field(commit, "author.user.login", str, where=where, optional=True) or ""
                ).lower(),
            }
        )
    ready = [
        moment(e, "createdAt", where=where)
        for e in items(node, "timelineItems", where=where)
        if e.get("createdAt")
    ]
    reviews = reviews_of(items(node, "reviews", where=where), author, is_bot_name, where)
    for comment in items(node, "comments", where=where):
        login, bot = actor_of(comment.get("author"), is_bot_name)
        if login == author:
            continue  # the author's own comments are not reviews
        at = moment(comment, "createdAt", where=where)
        reviews.append(
            {
                "external_id": f"comment-{_review_id(comment, where)}",
                "state": "commented",
                "is_comment": True,
                "submitted_at": at,
                "comment_count": 1,
                "actor": login,
                "acted_on": utc_date(at),
                "is_bot": bot,
            }
        )
    first_commit = min((c["authored_at"] for c in commits), default=None)
    return {
        "number": number,
        "title": field(node, "title", str, where=where)[:300],
        "url": field(node, "url", str, where=where, optional=True) or "",
        "state": state if state in ("open", "closed", "merged") else "open",
        "draft": bool(node.get("isDraft")),
        "created_at": created,
        "updated_at": moment(node, "updatedAt", where=where),
        "ready_at": min(ready) if ready else (None if node.get("isDraft") else created),
        "first_commit_at": first_commit,
        "merged_at": moment(node, "mergedAt", where=where, optional=True),
        "closed_at": moment(node, "closedAt", where=where, optional=True),
        "merge_commit_sha": field(node, "mergeCommit.oid", str, where=where, optional=True) or "",
        "additions": field(node, "additions", int, where=where, optional=True) or 0,
        "deletions": field(node, "deletions", int, where=where, optional=True) or 0,
        "changed_files": field(node, "changedFiles", int, where=where, optional=True) or 0,
        "commit_count": field(node, "commits.totalCount", int, where=where, optional=True) or len(commits),
        "labels": [str(label.get("name", "")) for label in items(node, "labels", where=where)],
        "actor": author,
        "acted_on": utc_date(created),
        "is_bot": author_bot,
        "commits": commits,
        "reviews": reviews,
    }


def _review_id(review: dict, where: str) -> str:
    """GraphQL's databaseId, or the node id a ``gh --json`` export gives."""
    if "databaseId" in review or "id" not in review:
        return str(field(review, "databaseId", int, where=where))
    return field(review, "id", str, where=where)


def reviews_of(nodes: list, author: str, is_bot_name, where: str) -> list[dict]:
    reviews = []
    for review in nodes:
        state = REVIEW_STATES.get(str(review.get("state")))
        submitted = moment(review, "submittedAt", where=where, optional=True)
        login, bot = actor_of(review.get("author"), is_bot_name)
        if state is None or submitted is None or login == author:
            continue  # pending reviews, and the author's own comments, are not reviews
        reviews.append(
            {
                "external_id": _review_id(review, where),
                "state": state,
                "is_comment": False,
                "submitted_at": submitted,
                "comment_count": field(review, "comments.totalCount", int, where=where, optional=True) or 0,
                "actor": login,
                "acted_on": utc_date(submitted),
                "is_bot": bot,
            }
        )
    return reviews


def issue(node: dict, is_bot_name, *, incident_labels) -> dict:
    where = f"issue #{node.get('number', '?')}"
    number = field(node, "number", int, where=where)
    created = moment(node, "createdAt", where=where)
    closed = moment(node, "closedAt", where=where, optional=True)
    state = field(node, "state", str, where=where).upper()
    reporter, _ = actor_of(node.get("author"), is_bot_name)
    assignees = [
        str(a.get("login", "")).lower() for a in items(node, "assignees", where=where) if a.get("login")
    ]
    labels = [str(label.get("name", "")) for label in items(node, "labels", where=where)]
    events, links, assignee_at_close = [], [], None
    for event in items(node, "timelineItems", where=where):
        kind = event.get("__typename")
        if not kind or "id" not in event:
            continue
        at = moment(event, "createdAt", where=where)
        login, _ = actor_of(event.get("actor"), is_bot_name)
        row = {"external_id": str(event["id"]), "at": at, "actor": login}
        if kind == "ClosedEvent":
            row.update(field="status", from_value="open", to_value="closed")
            closer = event.get("closer") or {}
            if closer.get("number"):
                links.append(f"pr:{closer['number']}")
            elif closer.get("oid"):
                links.append(f"commit:{closer['oid']}")
        elif kind == "ReopenedEvent":
            row.update(field="status", from_value="closed", to_value="open")
        elif kind in ("AssignedEvent", "UnassignedEvent"):
            who = str((event.get("assignee") or {}).get("login", "")).lower()
            row.update(field="assignee", from_value="" if kind == "AssignedEvent" else who,
                       to_value=who if kind == "AssignedEvent" else "")  # fmt: skip
        elif kind in ("LabeledEvent", "UnlabeledEvent"):
            name = str((event.get("label") or {}).get("name", ""))
            row.update(field="label", from_value="" if kind == "LabeledEvent" else name,
                       to_value=name if kind == "LabeledEvent" else "")  # fmt: skip
        else:
            continue
        events.append(row)
    # The assignee when it was resolved: the last assignment before closing.
    if closed is not None:
        for event in events:
            if event["field"] == "assignee" and event["at"] <= closed and event["to_value"]:
                assignee_at_close = event["to_value"]
    assignee = assignee_at_close or (assignees[0] if assignees else "")
    actor = assignee or reporter
    is_bot = bool(actor) and (actor.endswith("[bot]") or bool(is_bot_name(actor)))
    reason = str(node.get("stateReason") or "").lower()
    lowered = [label.lower() for label in labels]
    return {
        "key": str(number),
        "external_id": str(node.get("databaseId") or ""),
        "title": field(node, "title", str, where=where)[:300],
        "url": field(node, "url", str, where=where, optional=True) or "",
        "item_type": "Bug" if any("bug" in label for label in lowered) else "Issue",
        "priority": next(
            (label for label in labels if label.lower().startswith(("priority", "p0", "p1", "p2", "p3"))), ""
        ),
        "workflow_status": "closed" if state == "CLOSED" else "open",
        "category": "done" if state == "CLOSED" else ("in_progress" if assignees else "todo"),
        "resolution": reason if state == "CLOSED" else "",
        "created_at": created,
        "updated_at": moment(node, "updatedAt", where=where),
        "resolved_at": closed if state == "CLOSED" and reason != "not_planned" else None,
        "assignee": assignee,
        "reporter": reporter,
        "sprint": field(node, "milestone.title", str, where=where, optional=True) or "",
        "fix_versions": [],  # GitHub issues have no release field (the milestone is the sprint)
        "labels": labels,
        "links": links,
        "is_incident": any(incident_labels(label) for label in labels),
        "actor": actor,
        "acted_on": utc_date(closed or created),
        "is_bot": is_bot,
        "events": events,
    }


DEPLOYMENT_STATES = {"SUCCESS": "success", "ACTIVE": "success", "INACTIVE": "success", "FAILURE": "failure", "ERROR": "failure", "IN_PROGRESS": "running", "QUEUED": "running", "PENDING": "running", "WAITING": "running", "DESTROYED": "other"}  # fmt: skip


def deployment(node: dict, is_bot_name, *, production, hotfix) -> dict:
    where = f"deployment {node.get('databaseId', '?')}"
    created = moment(node, "createdAt", where=where)
    status = node.get("latestStatus") or {}
    state = str(status.get("state") or "PENDING").upper()
    outcome = DEPLOYMENT_STATES.get(state, "other")
    environment = str(node.get("environment") or "")
    ref = field(node, "ref.name", str, where=where, optional=True) or ""
    login, bot = actor_of(node.get("creator"), is_bot_name)
    finished = (
        moment(status, "createdAt", where=where, optional=True) if outcome in ("success", "failure") else None
    )
    return {
        "external_id": str(field(node, "databaseId", int, where=where)),
        "kind": "deployment",
        "environment": environment,
        "is_production": bool(production(environment)),
        "is_hotfix": bool(hotfix(ref)),
        "outcome": outcome,
        "sha": field(node, "commitOid", str, where=where, optional=True) or "",
        "ref": ref,
        "name": environment,
        "created_at": created,
        "finished_at": finished,
        "updated_at": moment(node, "updatedAt", where=where, optional=True) or created,
        "url": str(status.get("logUrl") or ""),
        "actor": login,
        "acted_on": utc_date(created),
        "is_bot": bot,
    }


RUN_CONCLUSIONS = {"success": "success", "failure": "failure", "timed_out": "failure", "startup_failure": "failure", "cancelled": "cancelled"}  # fmt: skip


def workflow_run(item: dict, is_bot_name, *, production, hotfix) -> dict:
    where = f"workflow run {item.get('id', '?')}"
    created = moment(item, "created_at", where=where)
    status = str(item.get("status") or "")
    conclusion = str(item.get("conclusion") or "")
    outcome = RUN_CONCLUSIONS.get(conclusion, "other") if status == "completed" else "running"
    name = str(item.get("name") or "")
    branch = str(item.get("head_branch") or "")
    login, bot = actor_of(item.get("actor") or item.get("triggering_actor"), is_bot_name)
    return {
        "external_id": str(field(item, "id", int, where=where)),
        "kind": "workflow_run",
        "environment": name,
        "is_production": bool(production(name)),
        "is_hotfix": bool(hotfix(branch)),
        "outcome": outcome,
        "sha": field(item, "head_sha", str, where=where, optional=True) or "",
        "ref": branch,
        "name": name,
        "created_at": created,
        "finished_at": moment(item, "updated_at", where=where) if status == "completed" else None,
        "updated_at": moment(item, "updated_at", where=where),
        "url": str(item.get("html_url") or ""),
        "actor": login,
        "acted_on": utc_date(created),
        "is_bot": bot,
    }


def globs(lines: list[str]):
    return matcher(lines, anywhere=False)
