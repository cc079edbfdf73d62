"""Importing a GitLab export when no API access is allowed.

Accepted files (JSON): what GitLab's REST API lists, as ``glab api --paginate`` saves it (one
array per page, one after the other), one array, or JSON lines. Each record is recognised by its
fields, so files may be named and combined freely:

- merge requests (``GET /projects/:id/merge_requests``), and for each the lists of
  ``…/merge_requests/:iid/notes`` (a note names its merge request: ``noteable_iid``),
  ``…/merge_requests/:iid/commits`` and ``…/merge_requests/:iid/approvals``, whose records do not
  name their merge request: their file's name must (``mr-12-commits.json``). A merge request may
  also carry them itself, as ``notes``, ``commits`` and ``approvals`` (or ``approved_by``).
- issues (``GET /projects/:id/issues``), with ``…/issues/:iid/notes`` (assignments, closes),
  ``…/issues/:iid/resource_state_events`` (closes, reopens), ``…/resource_label_events`` and
  ``…/resource_milestone_events`` (when it joined or left a milestone: without them an issue's
  milestone is not counted as a sprint).
- deployments (``GET /projects/:id/deployments``) and pipelines (``GET /projects/:id/pipelines``).

Each merge request and issue becomes the GraphQL node shape mapping.py reads, so an export and an
API sync give the same rows. What a file set does not carry is kept as a sync stored it: the
reviews of a merge request without notes or approvals, its commits, an issue's changelog without
its notes or events, and always the diff sizes (the REST list has none). An approval without a
time (before GitLab 17.x the approvals list has no ``approved_at``) and without its system note is
dated at the merge, else the last update: the latest it can have been. Suggested commands, in a
clone of the project (``:id`` is filled in by glab):

    glab api --paginate "projects/:id/merge_requests?state=all&per_page=100" > merge_requests.json
    glab api --paginate "projects/:id/merge_requests/12/notes?per_page=100" > mr-12-notes.json
    glab api --paginate "projects/:id/merge_requests/12/commits?per_page=100" > mr-12-commits.json
    glab api "projects/:id/merge_requests/12/approvals" > mr-12-approvals.json
    glab api --paginate "projects/:id/issues?scope=all&per_page=100" > issues.json
    glab api --paginate "projects/:id/issues/7/resource_state_events?per_page=100" > issue-7-state.json
    glab api --paginate "projects/:id/issues/7/resource_milestone_events?per_page=100" > issue-7-milestones.json
    glab api --paginate "projects/:id/deployments?per_page=100" > deployments.json
    glab api --paginate "projects/:id/pipelines?per_page=100" > pipelines.json
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from partnerscope.evidence.connectors.gitlab import mapping
from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.connectors.payload import field, moment

FILE_RECORD = re.compile(r"(?:^|[^a-z])(merge_requests?|mrs?|issues?)[-_.]?(\d+)", re.IGNORECASE)
KINDS = "merge requests, issues, notes, commits, approvals, resource events, deployments or pipelines"
CLEAN = ("Malformed data from the server: ", "; nothing from this page was stored.")


@dataclass
class Record:
    """One record of one file: where it came from, for errors."""

    item: dict
    file: str
    index: int

    def fail(self, what: str, message: str):
        for part in CLEAN:
            message = message.replace(part, "")
        raise SourceError(f"{self.file}, item {self.index} ({what}): {message.rstrip('.')}.")


@dataclass
class Found:
    """Everything the files hold, by the merge request or issue it belongs to."""

    mrs: dict[int, Record] = dataclass_field(default_factory=dict)
    issues: dict[int, Record] = dataclass_field(default_factory=dict)
    deployments: list[Record] = dataclass_field(default_factory=list)
    pipelines: list[Record] = dataclass_field(default_factory=list)
    # iid -> {id or sha: record}: a record exported twice counts once.
    mr_notes: dict[int, dict] = dataclass_field(default_factory=dict)
    mr_commits: dict[int, dict] = dataclass_field(default_factory=dict)
    mr_approvals: dict[int, dict] = dataclass_field(default_factory=dict)
    issue_notes: dict[int, dict] = dataclass_field(default_factory=dict)
    state_events: dict[object, dict] = dataclass_field(default_factory=dict)  # iid, or ("id", global id)
    label_events: dict[object, dict] = dataclass_field(default_factory=dict)
    milestone_events: dict[object, dict] = dataclass_field(default_factory=dict)


def values(name: str, data: bytes) -> list:
    """The JSON values of a file, one after the other (``glab api --paginate`` writes a page each)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{name}: not a UTF-8 JSON file.") from None
    decoder, found, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at] in " \t\r\n":
            at += 1
        if at >= len(text):
            break
        try:
            value, at = decoder.raw_decode(text, at)
        except ValueError as exc:
            raise SourceError(f"{name}: not a JSON file ({exc}).") from None
        found.append(value)
    if not found:
        raise SourceError(f"{name}: the file is empty.")
    return found


def kind_of(item: dict) -> str | None:
    """What a record is, by the fields GitLab's REST entities have."""
    url = str(item.get("web_url") or "")
    branches = {"source_branch", "target_branch"} & item.keys()
    if "approved_by" in item and not branches:
        return "approvals"
    if "noteable_type" in item:
        return "note"
    if "resource_type" in item and "state" in item:
        return "state_event"
    if "resource_type" in item and "milestone" in item:
        return "milestone_event"
    if "resource_type" in item and "action" in item:
        return "label_event"
    if "short_id" in item or ("authored_date" in item and "author_email" in item):
        return "commit"
    if isinstance(item.get("environment"), dict):
        return "deployment"
    if "iid" in item and (branches or "merge_status" in item or "/-/merge_requests/" in url):
        return "merge_request"
    if "iid" in item and ("issue_type" in item or "/-/issues/" in url or "/-/work_items/" in url):
        return "issue"
    if {"ref", "sha", "status"} <= item.keys() and ("source" in item or "/-/pipelines/" in url):
        return "pipeline"
    return None


def _record_of_file(name: str, kind: str) -> int | None:
    """The iid a file's name gives (mr-12-commits.json, issue_7_state.json), for records that do
    not name their merge request or issue; only a name of that kind counts."""
    for match in FILE_RECORD.finditer(name):
        is_mr = match.group(1).lower().startswith(("mr", "merge"))
        if is_mr == (kind == "mr"):
            return int(match.group(2))
    return None


def _iid(record: Record, what: str, path: str = "iid") -> int:
    raw = record.item.get(path)
    if isinstance(raw, bool) or not str(raw or "").isdigit():
        record.fail(what, f"'{path}' = {str(raw)[:40]!r} is not a number")
    return int(raw)


def _owner(record: Record, kind: str, what: str) -> int:
    """The merge request (kind "mr") or issue a child record belongs to, from its file's name."""
    iid = _record_of_file(record.file, kind)
    if iid is None:
        noun = "merge request" if kind == "mr" else "issue"
        example = "mr-12-commits.json" if kind == "mr" else "issue-7-state-events.json"
        record.fail(what, f"the file's name must say which {noun} it belongs to, like {example}")
    return iid


def collect(files) -> Found:
    found = Found()
    for name, data in files:
        index = 0
        for value in values(name, data):
            for item in value if isinstance(value, list) else [value]:
                index += 1
                record = Record(item, name, index)
                if not isinstance(item, dict):
                    raise SourceError(f"{name}, item {index}: not an object.")
                _sort(record, found)
    return found


def _sort(record: Record, found: Found) -> None:
    item, kind = record.item, kind_of(record.item)
    if kind == "merge_request":
        iid = _iid(record, "a merge request")
        found.mrs[iid] = record
        for key, into in (("notes", found.mr_notes), ("commits", found.mr_commits)):
            if isinstance(item.get(key), list):
                into.setdefault(iid, {}).update(_children(record, item[key], key))
        approvals = item.get("approvals")
        approved = approvals.get("approved_by") if isinstance(approvals, dict) else item.get("approved_by")
        if isinstance(approved, list):
            found.mr_approvals.setdefault(iid, {}).update(_approvals(record, approved))
    elif kind == "issue":
        iid = _iid(record, "an issue")
        found.issues[iid] = record
        for key, into in (
            ("notes", found.issue_notes),
            ("resource_state_events", found.state_events),
            ("resource_label_events", found.label_events),
            ("resource_milestone_events", found.milestone_events),
        ):
            if isinstance(item.get(key), list):
                into.setdefault(iid, {}).update(_children(record, item[key], key))
    elif kind == "note":
        what = "a note"
        noteable = item.get("noteable_type")
        if noteable not in ("MergeRequest", "Issue"):
            return  # a note on a commit or a snippet says nothing we keep
        iid = _iid(record, what, "noteable_iid")
        into = found.mr_notes if noteable == "MergeRequest" else found.issue_notes
        into.setdefault(iid, {})[_key(record, what, "id")] = record
    elif kind == "commit":
        iid = _owner(record, "mr", "a commit")
        found.mr_commits.setdefault(iid, {})[_key(record, "a commit", "id")] = record
    elif kind == "approvals":
        what = "the approvals of a merge request"
        iid = _iid(record, what) if "iid" in item else _owner(record, "mr", what)
        approved = item.get("approved_by")
        if not isinstance(approved, list):
            record.fail(what, "'approved_by' is not a list")
        found.mr_approvals.setdefault(iid, {}).update(_approvals(record, approved))
    elif kind in ("state_event", "label_event", "milestone_event"):
        noun = {"state_event": "state", "label_event": "label", "milestone_event": "milestone"}[kind]
        what = f"a resource {noun} event"
        if item.get("resource_type") != "Issue":
            return  # merge requests' events are not read
        into = {"state_event": found.state_events, "label_event": found.label_events,
                "milestone_event": found.milestone_events}[kind]  # fmt: skip
        resource = item.get("resource_id")
        # The issue's global id (REST's "id" of the issue), else the file's name.
        owner = ("id", resource) if isinstance(resource, int) else _owner(record, "issue", what)
        into.setdefault(owner, {})[_key(record, what, "id")] = record
    elif kind == "deployment":
        found.deployments.append(record)
    elif kind == "pipeline":
        found.pipelines.append(record)
    else:
        raise SourceError(
            f"{record.file}, item {record.index}: not one of GitLab's {KINDS} as the REST API lists them."
        )


def _key(record: Record, what: str, path: str) -> str:
    value = record.item.get(path)
    if not isinstance(value, (int, str)) or isinstance(value, bool) or value == "":
        record.fail(what, f"no {path!r}")
    return str(value)


def _children(parent: Record, entries: list, key: str) -> dict:
    found = {}
    what = {"commits": "a commit", "notes": "a note"}.get(key, "a resource event")
    for entry in entries:
        child = Record(entry, parent.file, parent.index)
        if not isinstance(entry, dict):
            parent.fail(f"its {key}", "an entry is not an object")
        found[_key(child, what, "id")] = child
    return found


def _approvals(record: Record, approved: list) -> dict:
    found = {}
    for entry in approved:
        user = entry.get("user") if isinstance(entry, dict) else None
        login = user.get("username") if isinstance(user, dict) else None
        if not isinstance(login, str) or not login:
            record.fail("an approval", "'approved_by' holds an entry without 'user.username'")
        found[login.lower()] = Record(entry, record.file, record.index)
    return found


# -- REST records to the GraphQL nodes mapping.py reads ----------------------------------------------


def _time(record: Record, path: str, what: str, *, optional: bool = False) -> str | None:
    try:
        value = moment(record.item, path, where=what, optional=optional)
    except SourceError as exc:
        record.fail(what, str(exc))
    return value.isoformat() if value else None


def _text(record: Record, path: str, what: str, *, optional: bool = False) -> str | None:
    try:
        return field(record.item, path, str, where=what, optional=optional)
    except SourceError as exc:
        record.fail(what, str(exc))


def _user(value) -> dict | None:
    if not isinstance(value, dict) or not value.get("username"):
        return None
    return {"username": str(value["username"]), "bot": bool(value.get("bot"))}


def _note(record: Record, what: str) -> dict:
    kind = record.item.get("type") or "Note"
    return {
        "id": f"gid://gitlab/{kind}/{_key(record, what, 'id')}",
        "body": str(record.item.get("body") or ""),
        "system": bool(record.item.get("system")),
        "createdAt": _time(record, "created_at", what),
        "author": _user(record.item.get("author")),
    }


def _commit(record: Record, what: str) -> dict:
    return {
        "sha": _text(record, "id", what),
        "authoredDate": _time(record, "authored_date", what),
        "authorEmail": str(record.item.get("author_email") or ""),
        "author": None,  # REST names a commit's author, not their GitLab account
    }


def _labels(record: Record, what: str) -> dict:
    labels = record.item.get("labels") or []
    if not isinstance(labels, list):
        record.fail(what, "'labels' is not a list")
    titles = [label.get("name") if isinstance(label, dict) else label for label in labels]
    if not all(isinstance(title, str) for title in titles):
        record.fail(what, "'labels' holds a label that is not text")
    return {"nodes": [{"title": title} for title in titles]}


def merge_request_node(record: Record, found: Found, iid: int) -> tuple[dict, dict]:
    """(node, approvals by username) of a REST merge request with the children the files hold."""
    item, what = record.item, f"merge request !{iid}"
    state = _text(record, "state", what)
    merge_commit = _text(record, "merge_commit_sha", what, optional=True)
    merged = state.lower() == "merged"
    node = {
        "iid": str(iid),
        "title": _text(record, "title", what),
        "state": state,
        "draft": bool(item.get("draft", item.get("work_in_progress"))),
        "createdAt": _time(record, "created_at", what),
        "updatedAt": _time(record, "updated_at", what),
        "mergedAt": _time(record, "merged_at", what, optional=True),
        "closedAt": _time(record, "closed_at", what, optional=True),
        "webUrl": _text(record, "web_url", what, optional=True) or "",
        # What landed, as a sync stores it: the merge commit, else (a fast-forward merge) the
        # squash commit or the head.
        "mergeCommitSha": merge_commit,
        "squashCommitSha": mapping.landed_sha_of_rest(item, what) if merged and not merge_commit else None,
        "author": _user(item.get("author")),
        "labels": _labels(record, what),
        "commits": {
            "nodes": [_commit(c, f"a commit of {what}") for c in found.mr_commits.get(iid, {}).values()]
        },
        "notes": {"nodes": [_note(n, f"a note of {what}") for n in found.mr_notes.get(iid, {}).values()]},
    }
    return node, found.mr_approvals.get(iid, {})


def _approval_reviews(approvals: dict, row: dict, is_bot_name) -> list[dict]:
    """Reviews for the approvals no system note already gave (the note has the time)."""
    noted = {r["actor"] for r in row["reviews"] if r["state"] == "approved" and not r["is_comment"]}
    reviews = []
    for login, record in approvals.items():
        actor, bot = mapping.actor_of(record.item.get("user"), is_bot_name)
        if not actor or actor in noted or actor == row["actor"]:
            continue
        what = f"an approval of merge request !{row['number']}"
        at = _time(record, "approved_at", what, optional=True)
        at = datetime.datetime.fromisoformat(at) if at else (row["merged_at"] or row["updated_at"])
        reviews.append(
            {
                "external_id": f"approval-{login}"[:100],
                "state": "approved",
                "is_comment": False,
                "submitted_at": at,
                "comment_count": 0,
                "actor": actor,
                "acted_on": at.astimezone(datetime.UTC).date(),
                "is_bot": bot,
            }
        )
    return reviews


def _milestone(record: Record, what: str) -> dict | None:
    """REST's milestone in GraphQL's shape (its dates are days there)."""
    title = _text(record, "milestone.title", what, optional=True)
    if not title:
        return None
    milestone = record.item["milestone"]
    return {
        "id": str(milestone.get("id") or ""),
        "title": title,
        "startDate": _time(record, "milestone.start_date", what, optional=True),
        "dueDate": _time(record, "milestone.due_date", what, optional=True),
        "state": str(milestone.get("state") or ""),
    }


def issue_node(record: Record, found: Found, iid: int) -> dict:
    item, what = record.item, f"issue #{iid}"
    assignees = item.get("assignees")
    if not isinstance(assignees, list):
        assignees = [item["assignee"]] if isinstance(item.get("assignee"), dict) else []
    links = item.get("_links") if isinstance(item.get("_links"), dict) else {}
    duplicate = str(links.get("closed_as_duplicate_of") or "")
    milestone = _milestone(record, what)
    global_id = item.get("id")
    return {
        "id": f"gid://gitlab/Issue/{global_id}" if global_id else "",
        "iid": str(iid),
        "title": _text(record, "title", what),
        "webUrl": _text(record, "web_url", what, optional=True) or "",
        "state": _text(record, "state", what),
        "type": str(item.get("type") or item.get("issue_type") or "ISSUE").upper(),
        "createdAt": _time(record, "created_at", what),
        "updatedAt": _time(record, "updated_at", what),
        "closedAt": _time(record, "closed_at", what, optional=True),
        "moved": bool(item.get("moved_to_id")),
        "closedAsDuplicateOf": {"iid": duplicate.rstrip("/").rsplit("/", 1)[-1]} if duplicate else None,
        "author": _user(item.get("author")),
        "assignees": {"nodes": [_user(a) for a in assignees if _user(a)]},
        "labels": _labels(record, what),
        "milestone": milestone,
        "notes": {"nodes": [_note(n, f"a note of {what}") for n in found.issue_notes.get(iid, {}).values()]},
    }


# -- the importer ----------------------------------------------------------------------------------


def _check_project(connection, found: Found) -> None:
    project = "/" + connection.project.strip().strip("/").lower() + "/-/"
    for record in [*found.mrs.values(), *found.issues.values(), *found.pipelines, *found.deployments]:
        deployable = record.item.get("deployable")
        url = str(
            record.item.get("web_url")
            or (deployable.get("web_url") if isinstance(deployable, dict) else "")
            or ""
        )
        if url and project not in url.lower():
            raise SourceError(
                f"{record.file}, item {record.index}: its address {url[:120]} is not in {connection.project}; "
                "is this the export of another project?"
            )


def _orphans(found: Found, issue_ids: dict) -> None:
    """Children whose merge request or issue none of the files holds: stop, naming the first."""
    for children, parents, noun in (
        (found.mr_notes, found.mrs, "merge request !"),
        (found.mr_commits, found.mrs, "merge request !"),
        (found.mr_approvals, found.mrs, "merge request !"),
        (found.issue_notes, found.issues, "issue #"),
        (found.state_events, None, "issue #"),
        (found.label_events, None, "issue #"),
    ):
        for owner, records in children.items():
            iid = issue_ids.get(owner[1]) if isinstance(owner, tuple) else owner
            known = iid in (parents if parents is not None else found.issues)
            if not known:
                record = next(iter(records.values()))
                target = f"{noun}{iid}" if iid is not None else f"the issue with id {owner[1]}"
                raise SourceError(
                    f"{record.file}, item {record.index}: it belongs to {target}, which none of the files "
                    "holds; export the merge requests and issues too."
                )


def _events_of(found: Found, iid: int, global_id, into: dict) -> list | None:
    records = {**into.get(iid, {}), **into.get(("id", global_id), {})}
    return [r.item for r in records.values()] if records else None


def _keep_stored(connection, rows: list[dict], absent: dict[int, set]) -> None:
    """Fields the files did not carry (diff sizes always; first commit and count without commits;
    the time it was ready without notes) are kept as a sync stored them."""
    from partnerscope.evidence.models import PullRequest

    names = sorted({name for fields in absent.values() for name in fields})
    stored = {
        values["number"]: values
        for values in PullRequest.objects.filter(
            connection=connection, number__in=[row["number"] for row in rows]
        ).values("number", *names)
    }
    for row in rows:
        for name in absent[row["number"]]:
            if row["number"] in stored:
                row[name] = stored[row["number"]][name]


def read_files(connection, files) -> tuple[list[dict], list[dict], list[dict]]:
    """Pull request, work item and deployment rows (store.py's shape) from the export's files."""
    from partnerscope.evidence.models import DEFAULT_BOT_PATTERNS
    from partnerscope.evidence.patterns import matcher

    is_bot = matcher(DEFAULT_BOT_PATTERNS.splitlines() + mapping.BOT_GLOBS)
    incident_labels = matcher(connection.glob_list("incident_labels"))
    production = matcher(connection.glob_list("production_environments"))
    hotfix = matcher(connection.glob_list("hotfix_refs"))
    found = collect(files)
    _check_project(connection, found)
    issue_ids = {
        r.item.get("id"): iid for iid, r in found.issues.items() if isinstance(r.item.get("id"), int)
    }
    _orphans(found, issue_ids)

    prs, absent = [], {}
    for iid, record in sorted(found.mrs.items()):
        what = f"merge request !{iid}"
        node, approvals = merge_request_node(record, found, iid)
        try:
            row = mapping.pull_request(node, is_bot)
        except SourceError as exc:
            record.fail(what, str(exc))
        has_commits, has_notes = iid in found.mr_commits, iid in found.mr_notes
        if has_notes or approvals:
            noted = row["reviews"] if has_notes else []
            row["reviews"] = noted + _approval_reviews(approvals, {**row, "reviews": noted}, is_bot)
        else:
            row["reviews"] = None
        if not has_commits:
            row["commits"] = None
        absent[iid] = {"additions", "deletions", "changed_files"}
        absent[iid] |= set() if has_commits else {"first_commit_at", "commit_count"}
        absent[iid] |= set() if has_notes else {"ready_at"}
        prs.append(row)
    _keep_stored(connection, prs, absent)

    items = []
    for iid, record in sorted(found.issues.items()):
        global_id = record.item.get("id")
        state = _events_of(found, iid, global_id, found.state_events)
        labels = _events_of(found, iid, global_id, found.label_events)
        milestones = _events_of(found, iid, global_id, found.milestone_events)
        try:
            row = mapping.issue(
                issue_node(record, found, iid),
                is_bot,
                incident_labels=incident_labels,
                state_events=state,
                label_events=labels,
                milestone_events=milestones,
            )
        except SourceError as exc:
            record.fail(f"issue #{iid}", str(exc))
        if iid not in found.issue_notes and state is None and labels is None and milestones is None:
            row["events"] = None  # no changelog in the files: keep the one a sync stored
        items.append(row)

    deployments = []
    for records, convert, noun in (
        (found.deployments, mapping.deployment, "deployment"),
        (found.pipelines, mapping.pipeline, "pipeline"),
    ):
        for record in records:
            try:
                deployments.append(convert(record.item, is_bot, production=production, hotfix=hotfix))
            except SourceError as exc:
                record.fail(f"{noun} {record.item.get('id', '?')}", str(exc))
    return prs, items, deployments
