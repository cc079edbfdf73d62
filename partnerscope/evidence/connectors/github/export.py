"""Importing a GitHub export when no API access is allowed.

Accepted files (JSON): the output of ``gh pr list --json …`` and ``gh issue list --json …``
(arrays with camelCase fields, connections flattened to lists), or a GraphQL answer with the
same fields as our own queries (``{"data": {"repository": {"pullRequests": {"nodes": […]}}}}``).
Each item is turned into the GraphQL node shape mapping.py reads, so an export and an API sync
give the same rows. Suggested commands:

    gh pr list --state all --limit 100000 --json number,title,state,isDraft,author,createdAt,updatedAt,closedAt,mergedAt,url,additions,deletions,changedFiles,labels,mergeCommit,commits,reviews,comments > prs.json
    gh issue list --state all --limit 100000 --json number,title,state,stateReason,author,labels,assignees,milestone,createdAt,updatedAt,closedAt,url > issues.json
"""

from __future__ import annotations

import json

from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.connectors.payload import read_each

PR_KEYS = {"mergedAt", "isDraft", "mergeCommit", "commits", "reviews", "additions", "changedFiles"}


def _actor(value) -> dict | None:
    if not isinstance(value, dict) or not value.get("login"):
        return None
    login = str(value["login"])
    bot = bool(value.get("is_bot")) or value.get("__typename") == "Bot" or login.startswith("app/")
    return {"__typename": "Bot" if bot else "User", "login": login.removeprefix("app/")}


def _connection(value) -> dict:
    if isinstance(value, dict):
        return value  # already {"nodes": [...]} (GraphQL)
    return {"nodes": value if isinstance(value, list) else []}


def _commit(item) -> dict:
    if isinstance(item, dict) and "commit" in item:
        return item  # GraphQL shape
    item = item if isinstance(item, dict) else {}
    authors = item.get("authors") or [{}]
    first = authors[0] if isinstance(authors[0], dict) else {}
    return {
        "commit": {
            "oid": item.get("oid"),
            "authoredDate": item.get("authoredDate"),
            "author": {
                "email": first.get("email") or "",
                "user": {"login": first["login"]} if first.get("login") else None,
            },
        }
    }


def normalize_pull_request(item: dict) -> dict:
    node = dict(item)
    # What the export says nothing about is kept as a sync stored it (see read_rows).
    node["_has"] = {"commits": "commits" in item, "reviews": "reviews" in item or "comments" in item}
    node["author"] = _actor(item.get("author"))
    node["labels"] = _connection(item.get("labels"))
    commits = item.get("commits")
    if isinstance(commits, list):
        node["commits"] = {"totalCount": len(commits), "nodes": [_commit(c) for c in commits]}
    reviews = item.get("reviews")
    if isinstance(reviews, list):
        node["reviews"] = {
            "nodes": [{**r, "author": _actor(r.get("author"))} for r in reviews if isinstance(r, dict)]
        }
    comments = item.get("comments")
    if isinstance(comments, list):
        node["comments"] = {
            "nodes": [{**c, "author": _actor(c.get("author"))} for c in comments if isinstance(c, dict)]
        }
    node.setdefault("timelineItems", {"nodes": []})
    return node


def normalize_issue(item: dict) -> dict:
    node = dict(item)
    node["_has"] = {"events": "timelineItems" in item}
    node["author"] = _actor(item.get("author"))
    node["labels"] = _connection(item.get("labels"))
    node["assignees"] = _connection(item.get("assignees"))
    node.setdefault("timelineItems", {"nodes": []})
    node["stateReason"] = item.get("stateReason") or None
    return node


def read_export(name: str, data: bytes) -> tuple[list[dict], list[dict]]:
    """(pull request nodes, issue nodes) of one file; SourceError naming the file otherwise."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{name}: not a JSON file ({exc}).") from None
    if isinstance(body, dict):
        repository = (
            (body.get("data") or {}).get("repository") if isinstance(body.get("data"), dict) else None
        )
        if not isinstance(repository, dict):
            raise SourceError(
                f"{name}: expected a list of pull requests or issues (gh … --json), or a GraphQL answer."
            )
        prs = (repository.get("pullRequests") or {}).get("nodes") or []
        issues = (repository.get("issues") or {}).get("nodes") or []
        return [normalize_pull_request(n) for n in prs], [normalize_issue(n) for n in issues]
    if not isinstance(body, list):
        raise SourceError(f"{name}: expected a list of pull requests or issues (gh … --json).")
    prs, issues = [], []
    for index, item in enumerate(body, 1):
        if not isinstance(item, dict):
            raise SourceError(f"{name}, item {index}: not an object.")
        if "number" not in item:
            raise SourceError(f"{name}, item {index}: no 'number' field.")
        (prs if PR_KEYS & item.keys() else issues).append(item)
    return [normalize_pull_request(n) for n in prs], [normalize_issue(n) for n in issues]


def read_rows(connection, name: str, data: bytes) -> tuple[list[dict], list[dict]]:
    """Pull request and issue rows (store.py's shape) from one export file."""
    from partnerscope.evidence.connectors.github import mapping
    from partnerscope.evidence.models import DEFAULT_BOT_PATTERNS
    from partnerscope.evidence.patterns import matcher

    is_bot = matcher(DEFAULT_BOT_PATTERNS.splitlines())
    incident_labels = matcher(connection.glob_list("incident_labels"))
    pr_nodes, issue_nodes = read_export(name, data)
    project = "/" + connection.project.strip().strip("/").lower() + "/"
    for index, node in enumerate([*pr_nodes, *issue_nodes], 1):
        url = str(node.get("url") or "")
        if url and project not in url.lower():
            raise SourceError(
                f"{name}, item {index} (#{node.get('number')}): its address {url[:120]} is not in "
                f"{connection.project}; is this the export of another repository?"
            )
    prs, items = [], []
    for node in pr_nodes:
        row = mapping.pull_request(node, is_bot)
        for part, present in node["_has"].items():
            if not present:
                row[part] = None
        prs.append(row)
    for node in issue_nodes:
        row = mapping.issue(node, is_bot, incident_labels=incident_labels)
        if not node["_has"]["events"]:
            row["events"] = None
        items.append(row)
    return prs, items


read_files = read_each(read_rows)
