"""GitLab payloads (GraphQL nodes, REST items) to evidence rows: the same dicts as
github/mapping.py (store.py's shape), pure functions, no database.

GitLab's GraphQL has no review objects: ``approvedBy`` carries no time, so approvals and requests
for changes are read from their system notes, and other people's comments count as comments.
"""

from __future__ import annotations

import datetime
import re

from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.connectors.payload import field, items, moment, utc_date

# GitLab's own bot accounts: project and group access tokens (project_42_bot_3f9a…), service
# accounts and the internal bots (alert-bot, support-bot, GitLab-Security-Bot …). Matched with
# models.DEFAULT_BOT_PATTERNS, and the API's ``bot`` flag where GraphQL gives it.
BOT_GLOBS = ["project_*_bot*", "group_*_bot*", "service_account_*", "*-bot", "*_bot"]
# GitLab moves a deleted user's work to "ghost": a person did it, but which one is unknown, so it
# reads like GitHub's deleted account (no actor) rather than a bot.
GHOST = "ghost"
MR_STATES = {"opened": "open", "locked": "open", "closed": "closed", "merged": "merged"}
APPROVED = re.compile(r"^approved this merge request", re.IGNORECASE)
REQUESTED_CHANGES = re.compile(r"^requested changes", re.IGNORECASE)
# "marked this merge request as **ready**" (GitLab 14+), "unmarked as a **Work In Progress**" (before).
READY = re.compile(
    r"^(marked (this merge request )?as \*\*ready\*\*|unmarked as a \*\*work in progress\*\*)", re.I
)
CLOSED = re.compile(r"^closed( via (?P<via>.+))?$", re.IGNORECASE | re.DOTALL)
REOPENED = re.compile(r"^reopened\b", re.IGNORECASE)
USERNAME = re.compile(r"@([A-Za-z0-9_][A-Za-z0-9_.\-]*)")
MR_REFERENCE = re.compile(r"!(\d+)\b")
COMMIT_REFERENCE = re.compile(r"\b([0-9a-f]{7,40})\b")
ISSUE_TYPES = {"INCIDENT": "Incident", "TASK": "Task", "TEST_CASE": "Test case", "REQUIREMENT": "Requirement"}  # fmt: skip


def actor_of(node: dict | None, is_bot_name) -> tuple[str, bool]:
    """(username in lower case, is it a bot)."""
    if not isinstance(node, dict) or not node.get("username"):
        return "", False
    username = str(node["username"]).lower()
    if username == GHOST:
        return "", False
    return username, bool(node.get("bot")) or bool(is_bot_name(username))


def iid_of(node: dict, where: str) -> int:
    """GraphQL gives iids as strings ("133"), REST as numbers."""
    raw = str(field(node, "iid", (str, int), where=where))
    if not raw.isdigit():
        raise SourceError(
            f"Malformed data from the server: {where} has 'iid' = {raw[:40]!r}, not a number; nothing "
            "from this page was stored."
        )
    return int(raw)


def note_id(note: dict, where: str) -> str:
    """The number of a note's global id ("gid://gitlab/DiffNote/301" -> "301")."""
    return str(field(note, "id", (str, int), where=where)).rsplit("/", 1)[-1]


def commit_row(commit: dict, where: str) -> dict:
    return {
        "sha": field(commit, "sha", str, where=where),
        "authored_at": moment(commit, "authoredDate", where=where),
        "author_email": (field(commit, "authorEmail", str, where=where, optional=True) or "").lower(),
        "author_login": (field(commit, "author.username", str, where=where, optional=True) or "").lower(),
    }


def landed_sha(node: dict, where: str) -> str:
    """The commit that brought a merge request onto its target branch: the squash commit when the
    node has one (GitLab's GraphQL does not; an export or a later schema may), else the merge
    commit. Empty for a fast-forward merge: the sync asks REST (landed_sha_of_rest)."""
    squash = field(node, "squashCommitSha", str, where=where, optional=True)
    return squash or field(node, "mergeCommitSha", str, where=where, optional=True) or ""


def landed_sha_of_rest(item: dict, where: str) -> str:
    """The same from a REST merge request: the squash commit, the merge commit, or for a
    fast-forward merge without squash its head (``sha``), which is what landed."""
    return (
        field(item, "squash_commit_sha", str, where=where, optional=True)
        or field(item, "merge_commit_sha", str, where=where, optional=True)
        or field(item, "sha", str, where=where, optional=True)
        or ""
    )


def pull_request(node: dict, is_bot_name) -> dict:
    where = f"merge request !{node.get('iid', '?')}"
    number = iid_of(node, where)
    author, author_bot = actor_of(node.get("author"), is_bot_name)
    created = moment(node, "createdAt", where=where)
    state = MR_STATES.get(field(node, "state", str, where=where).lower(), "open")
    draft = bool(node.get("draft"))
    commits = [commit_row(c, where) for c in items(node, "commits", where=where)]
    notes = items(node, "notes", where=where)
    ready = [
        moment(n, "createdAt", where=where)
        for n in notes
        if n.get("system") and READY.match(str(n.get("body") or "").strip())
    ]
    return {
        "number": number,
        "title": field(node, "title", str, where=where)[:300],
        "url": field(node, "webUrl", str, where=where, optional=True) or "",
        "state": state,
        "draft": draft,
        "created_at": created,
        "updated_at": moment(node, "updatedAt", where=where),
        "ready_at": min(ready) if ready else (None if draft else created),
        # Commits come newest first; a squash merge keeps them listed, so the earliest is the start.
        "first_commit_at": min((c["authored_at"] for c in commits), default=None),
        "merged_at": moment(node, "mergedAt", where=where, optional=True),
        "closed_at": moment(node, "closedAt", where=where, optional=True),
        "merge_commit_sha": landed_sha(node, where),
        "additions": field(node, "diffStatsSummary.additions", int, where=where, optional=True) or 0,
        "deletions": field(node, "diffStatsSummary.deletions", int, where=where, optional=True) or 0,
        "changed_files": field(node, "diffStatsSummary.fileCount", int, where=where, optional=True) or 0,
        "commit_count": field(node, "commitCount", int, where=where, optional=True) or len(commits),
        "labels": [str(label.get("title", "")) for label in items(node, "labels", where=where)],
        "actor": author,
        "acted_on": utc_date(created),
        "is_bot": author_bot,
        "commits": commits,
        "reviews": reviews_of(notes, author, is_bot_name, where),
    }


def reviews_of(notes: list, author: str, is_bot_name, where: str) -> list[dict]:
    """Approvals and requests for changes (system notes, with their time) and comments by anyone
    but the author. Other system notes ("added 1 commit", "changed the description") are not
    reviews, nor is anything the author wrote."""
    reviews = []
    for note in notes:
        login, bot = actor_of(note.get("author"), is_bot_name)
        if login == author:
            continue
        body = str(note.get("body") or "").strip()
        number = note_id(note, where)
        if note.get("system"):
            if APPROVED.match(body):
                state = "approved"
            elif REQUESTED_CHANGES.match(body):
                state = "changes_requested"
            else:
                continue
            external_id, is_comment, count = f"note-{number}", False, 0
        else:
            state, external_id, is_comment, count = "commented", f"comment-{number}", True, 1
        at = moment(note, "createdAt", where=where)
        reviews.append(
            {
                "external_id": external_id,
                "state": state,
                "is_comment": is_comment,
                "submitted_at": at,
                "comment_count": count,
                "actor": login,
                "acted_on": utc_date(at),
                "is_bot": bot,
            }
        )
    return reviews


def _assignment(body: str) -> tuple[list[str], list[str]] | None:
    """(added, removed) usernames of "assigned to @a and @b and unassigned @c", "unassigned @c"
    or the older "assigned to @a additionally to @b" (where @b already was)."""
    if body.startswith("unassigned "):
        added, removed = "", body
    elif body.startswith("assigned to "):
        added, _, removed = body.partition(" and unassigned ")
        added = added.split(" additionally to ", 1)[0]
    else:
        return None

    def names(text: str) -> list[str]:
        return [name.rstrip(".").lower() for name in USERNAME.findall(text)]

    return names(added), names(removed)


def _change(base: dict, field_name: str, before: str, after: str, suffix: str = "") -> dict:
    return {
        **base,
        "external_id": base["external_id"] + suffix,
        "field": field_name,
        "from_value": before,
        "to_value": after,
    }


def issue_events(notes: list, is_bot_name, where: str) -> tuple[list[dict], list[str]]:
    """(changelog events, merge request and commit links) from an issue's system notes."""
    events, links = [], []
    for note in notes:
        if not note.get("system"):
            continue
        body = str(note.get("body") or "").strip()
        base = {
            "external_id": f"note-{note_id(note, where)}",
            "at": moment(note, "createdAt", where=where),
            "actor": actor_of(note.get("author"), is_bot_name)[0],
        }
        closed = CLOSED.match(body)
        if closed:
            events.append(_change(base, "status", "open", "closed"))
            # "closed via merge request !12" / "closed via !12" / "closed via commit 1a2b3c4d".
            via = closed.group("via") or ""
            merge_requests = MR_REFERENCE.findall(via)
            links += [f"pr:{n}" for n in merge_requests]
            if not merge_requests:
                links += [f"commit:{sha}" for sha in COMMIT_REFERENCE.findall(via)]
        elif REOPENED.match(body):
            events.append(_change(base, "status", "closed", "open"))
        elif (change := _assignment(body)) is not None:
            added, removed = change
            # One note can assign and unassign several people: one event each.
            events += [_change(base, "assignee", "", who, f"-a{i}") for i, who in enumerate(added)]
            events += [_change(base, "assignee", who, "", f"-u{i}") for i, who in enumerate(removed)]
    return events, links


# A resource state event's state: "reopened" (an older server wrote "opened"), "closed"; "merged" and
# "locked" are merge requests' only.
STATE_CHANGES = {"closed": ("open", "closed"), "reopened": ("closed", "open"), "opened": ("closed", "open")}
LABEL_ACTIONS = ("add", "remove")


def _objects(entries, what: str, where: str) -> list[dict]:
    if not isinstance(entries, list) or any(not isinstance(e, dict) for e in entries):
        raise SourceError(
            f"Malformed data from the server: the {what} of {where} are not a list of objects; nothing "
            "from this page was stored."
        )
    return entries


def resource_events(state_events: list, label_events: list, is_bot_name, where: str) -> tuple[list, list]:
    """(changelog events, commit links) from an issue's resource state events (closes and
    reopens, GitLab 13 and later; ``source_commit`` when a commit closed it) and resource label
    events (one label added or removed each: from "" to the label, or from the label to "").
    A label deleted since (``label: null``) says nothing any more and is left out."""
    events, links = [], []
    for item in _objects(state_events, "resource state events", where):
        what = f"a state event of {where}"
        change = STATE_CHANGES.get(field(item, "state", str, where=what))
        if change is None:
            continue
        base = {
            "external_id": f"state-{field(item, 'id', int, where=what)}",
            "at": moment(item, "created_at", where=what),
            "actor": actor_of(item.get("user"), is_bot_name)[0],
        }
        events.append(_change(base, "status", *change))
        commit = field(item, "source_commit", str, where=what, optional=True)
        if change[1] == "closed" and commit:
            links.append(f"commit:{commit}")
    for item in _objects(label_events, "resource label events", where):
        what = f"a label event of {where}"
        action = field(item, "action", str, where=what)
        name = field(item, "label.name", str, where=what, optional=True)
        if action not in LABEL_ACTIONS or not name:
            continue
        base = {
            "external_id": f"label-{field(item, 'id', int, where=what)}",
            "at": moment(item, "created_at", where=what),
            "actor": actor_of(item.get("user"), is_bot_name)[0],
        }
        events.append(_change(base, "labels", *(("", name) if action == "add" else (name, ""))))
    return events, links


def milestone_of(value, where: str) -> dict | None:
    """An issue's milestone as a sprint (predictability), when it has a start and a due date:
    from the start of its start day to the end of its due day. GitLab keeps no date a milestone
    was closed, so a closed one ends on its due date. Without both dates it is no sprint."""
    if not isinstance(value, dict):
        return None
    what = f"the milestone of {where}"
    number = str(field(value, "id", (str, int), where=what, optional=True) or "").rsplit("/", 1)[-1]
    start = moment(value, "startDate", where=what, optional=True)
    due = moment(value, "dueDate", where=what, optional=True)
    if not number or start is None or due is None:
        return None
    state = (field(value, "state", str, where=what, optional=True) or "").lower()
    return {
        "external_id": number[:100],
        "name": (field(value, "title", str, where=what, optional=True) or number)[:200],
        "state": "closed" if state == "closed" else "active",
        "started_at": start,
        "ends_at": due + datetime.timedelta(days=1),
        "completed_at": None,
    }


def _from_rest(milestone) -> dict | None:
    """A milestone as REST gives it (in a milestone event), in GraphQL's shape."""
    if not isinstance(milestone, dict):
        return None
    return {"id": milestone.get("id"), "title": milestone.get("title"), "startDate": milestone.get("start_date"),
            "dueDate": milestone.get("due_date"), "state": milestone.get("state")}  # fmt: skip


def sprint_changes(entries: list, is_bot_name, where: str) -> list[dict]:
    """Sprint changes from an issue's resource milestone events (one milestone added or removed
    each): from the milestone it was in to the one it is in, by id, as Jira's sprint changes."""
    events, current = [], ""
    rows = _objects(entries, "resource milestone events", where)
    for item in sorted(rows, key=lambda e: (str(e.get("created_at") or ""), e.get("id") or 0)):
        what = f"a milestone event of {where}"
        action = field(item, "action", str, where=what)
        number = str(field(item, "milestone.id", (str, int), where=what, optional=True) or "")
        if action not in LABEL_ACTIONS or not number:
            continue  # a milestone deleted since says nothing any more
        base = {
            "external_id": f"milestone-{field(item, 'id', int, where=what)}",
            "at": moment(item, "created_at", where=what),
            "actor": actor_of(item.get("user"), is_bot_name)[0],
        }
        if action == "add":
            events.append(_change(base, "sprint", current, number))
            current = number
        elif current in (number, ""):
            # A removal with no add before it (added before GitLab kept these events): it was in.
            events.append(_change(base, "sprint", number, ""))
            current = ""
    return events


def _merge_state_events(noted: list[dict], recorded: list[dict]) -> list[dict]:
    """Note events and resource events together; a close or reopen both noted and recorded (an
    issue from the time a server switched from one to the other) counts once, as the event."""
    changes = [(e["to_value"], e["at"]) for e in recorded if e["field"] == "status"]
    window = datetime.timedelta(minutes=1)
    kept = [
        e
        for e in noted
        if e["field"] != "status"
        or not any(to == e["to_value"] and abs(at - e["at"]) <= window for to, at in changes)
    ]
    return kept + recorded


def _resolution(node: dict) -> str:
    """Why a closed issue closed: a duplicate or a move to another project is not work done."""
    if node.get("closedAsDuplicateOf"):
        return "duplicate"
    return "moved" if node.get("moved") else "completed"


def issue(
    node: dict, is_bot_name, *, incident_labels, state_events=None, label_events=None, milestone_events=None
) -> dict:
    """A work item row. ``state_events``, ``label_events`` and ``milestone_events``: the issue's
    resource events (REST), when they were read; its notes alone otherwise. Its milestone is a
    sprint only with its milestone events (when it joined it says whether it was committed)."""
    where = f"issue #{node.get('iid', '?')}"
    number = iid_of(node, where)
    created = moment(node, "createdAt", where=where)
    closed_at = moment(node, "closedAt", where=where, optional=True)
    is_closed = field(node, "state", str, where=where).lower() == "closed"
    reporter, reporter_bot = actor_of(node.get("author"), is_bot_name)
    assignees = [
        str(a.get("username", "")).lower() for a in items(node, "assignees", where=where) if a.get("username")
    ]
    labels = [str(label.get("title", "")) for label in items(node, "labels", where=where)]
    kind = str(node.get("type") or "ISSUE").upper()
    events, links = issue_events(items(node, "notes", where=where), is_bot_name, where)
    if state_events is not None or label_events is not None:
        recorded, commits = resource_events(state_events or [], label_events or [], is_bot_name, where)
        events = _merge_state_events(events, recorded)
        links += commits
    sprints = known = None
    if milestone_events is not None:
        events += sprint_changes(milestone_events, is_bot_name, where)
        sprint = milestone_of(node.get("milestone"), where)
        sprints = [sprint] if sprint else []
        # The milestones it was in before: an issue taken out after the start was committed.
        described = (
            milestone_of(_from_rest(e.get("milestone")), where)
            for e in _objects(milestone_events, "resource milestone events", where)
        )
        known = [s for s in described if s]
    if is_closed and closed_at is not None:
        closes = [e["at"] for e in events if e["field"] == "status" and e["to_value"] == "closed"]
        # Since GitLab 13.x a close is a resource state event, not a note: date it from closedAt.
        if not closes or max(closes) < closed_at - datetime.timedelta(minutes=1):
            base = {"external_id": f"closed-{closed_at:%Y%m%dT%H%M%S}", "at": closed_at, "actor": ""}
            events.append(_change(base, "status", "open", "closed"))
    # The assignee when it was resolved: the last assignment before closing.
    assignee_at_close = None
    if is_closed and closed_at is not None:
        for event in sorted(events, key=lambda e: e["at"]):
            if event["field"] == "assignee" and event["at"] <= closed_at and event["to_value"]:
                assignee_at_close = event["to_value"]
    assignee = assignee_at_close or (assignees[0] if assignees else "")
    actor = assignee or reporter
    is_bot = bool(actor) and (bool(is_bot_name(actor)) or (actor == reporter and reporter_bot))
    resolution = _resolution(node) if is_closed else ""
    # GitLab boards keep the workflow in scoped labels ("workflow::in review").
    workflow = next(
        (label.split("::", 1)[1] for label in labels if label.lower().startswith("workflow::")), ""
    )
    lowered = [label.lower() for label in labels]
    item_type = ISSUE_TYPES.get(kind) or ("Bug" if any("bug" in label for label in lowered) else "Issue")
    global_id = str(field(node, "id", (str, int), where=where, optional=True) or "")
    return {
        "key": str(number),
        "external_id": global_id.rsplit("/", 1)[-1],  # "gid://gitlab/Issue/9031" -> "9031"
        "title": field(node, "title", str, where=where)[:300],
        "url": field(node, "webUrl", str, where=where, optional=True) or "",
        "item_type": item_type,
        "priority": next(
            (label for label in labels if label.lower().startswith(("priority", "p0", "p1", "p2", "p3"))), ""
        ),
        "workflow_status": "closed" if is_closed else (workflow[:60] or "open"),
        "category": "done" if is_closed else ("in_progress" if assignees else "todo"),
        "resolution": resolution,
        "created_at": created,
        "updated_at": moment(node, "updatedAt", where=where),
        "resolved_at": closed_at if resolution == "completed" else None,
        "assignee": assignee,
        "reporter": reporter,
        "sprint": field(node, "milestone.title", str, where=where, optional=True) or "",
        "fix_versions": [],  # GitLab issues have no release field (the milestone is the sprint)
        "labels": labels,
        "links": list(dict.fromkeys(links)),
        "is_incident": kind == "INCIDENT" or any(incident_labels(label) for label in labels),
        "actor": actor,
        "acted_on": utc_date(closed_at or created),
        "is_bot": is_bot,
        "events": sorted(events, key=lambda e: (e["at"], e["external_id"])),
        "sprints": sprints,
        "sprints_known": known,
    }


DEPLOYMENT_STATUSES = {"success": "success", "failed": "failure", "canceled": "cancelled", "canceling": "cancelled", "created": "running", "running": "running", "blocked": "running", "skipped": "other"}  # fmt: skip
PIPELINE_STATUSES = {"success": "success", "failed": "failure", "canceled": "cancelled", "canceling": "cancelled", "created": "running", "waiting_for_resource": "running", "preparing": "running", "pending": "running", "running": "running", "scheduled": "running", "waiting_for_callback": "running", "skipped": "other", "manual": "other"}  # fmt: skip
ENDED = ("success", "failure", "cancelled")


def deployment(item: dict, is_bot_name, *, production, hotfix) -> dict:
    where = f"deployment {item.get('id', '?')}"
    external_id = field(item, "id", int, where=where)
    created = moment(item, "created_at", where=where)
    updated = moment(item, "updated_at", where=where)
    outcome = DEPLOYMENT_STATUSES.get(str(item.get("status") or ""), "other")
    environment = field(item, "environment.name", str, where=where, optional=True) or ""
    ref = field(item, "ref", str, where=where, optional=True) or ""
    login, bot = actor_of(item.get("user"), is_bot_name)
    deployable = item.get("deployable") if isinstance(item.get("deployable"), dict) else {}
    # The top-level finished_at is recent; the job's is older (and absent for API-made deployments).
    finished = None
    if outcome in ENDED:
        finished = (
            moment(item, "finished_at", where=where, optional=True)
            or moment(deployable, "finished_at", where=where, optional=True)
            or updated
        )
    url = field(deployable, "web_url", str, where=where, optional=True) or (
        field(deployable, "pipeline.web_url", str, where=where, optional=True) or ""
    )
    return {
        "external_id": str(external_id),
        "kind": "deployment",
        "environment": environment,
        "is_production": bool(production(environment)),
        "is_hotfix": bool(hotfix(ref)),
        "outcome": outcome,
        "sha": field(item, "sha", str, where=where, optional=True) or "",
        "ref": ref,
        "name": environment,
        "created_at": created,
        "finished_at": finished,
        "updated_at": updated,
        "url": url,
        "actor": login,
        "acted_on": utc_date(created),
        "is_bot": bot,
    }


def pipeline(item: dict, is_bot_name, *, production, hotfix) -> dict:
    """A pipeline: no environment (only deployments know theirs), production only when its name
    or branch matches the production globs (GitLab flow's "production" branch)."""
    where = f"pipeline {item.get('id', '?')}"
    external_id = field(item, "id", int, where=where)
    created = moment(item, "created_at", where=where)
    updated = moment(item, "updated_at", where=where)
    outcome = PIPELINE_STATUSES.get(str(item.get("status") or ""), "other")
    ref = field(item, "ref", str, where=where, optional=True) or ""
    name = field(item, "name", str, where=where, optional=True) or f"pipeline {external_id}"
    # List items have no user on most versions (only the single-pipeline GET has it).
    login, bot = actor_of(item.get("user"), is_bot_name)
    # List items have no finished_at either: the last update of an ended pipeline is its end.
    finished = (
        (moment(item, "finished_at", where=where, optional=True) or updated) if outcome in ENDED else None
    )
    return {
        "external_id": str(external_id),
        "kind": "pipeline",
        "environment": "",
        "is_production": bool(production(name, ref)),
        "is_hotfix": bool(hotfix(ref)),
        "outcome": outcome,
        "sha": field(item, "sha", str, where=where, optional=True) or "",
        "ref": ref,
        "name": name[:200],
        "created_at": created,
        "finished_at": finished,
        "updated_at": updated,
        "url": str(item.get("web_url") or ""),
        "actor": login,
        "acted_on": utc_date(created),
        "is_bot": bot,
    }
