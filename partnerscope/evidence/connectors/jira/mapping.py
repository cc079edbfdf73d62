"""Jira issues (REST, Cloud v3 or Data Center v2) to work item rows: pure functions, no database.

People: Jira Cloud names a user by ``accountId`` (display names change, e-mails are often
hidden), Data Center by ``name`` (the username). Those are the actor values, kept as given: an
accountId is case-sensitive, and identities of kind "jira" hold the same values.
"""

from __future__ import annotations

import datetime
import re

from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.connectors.payload import field, items, moment

CATEGORIES = {"new": "todo", "indeterminate": "in_progress", "done": "done"}
EVENT_FIELDS = ("status", "assignee", "resolution", "labels")
SPRINT_SCHEMA = "com.pyxis.greenhopper.jira:gh-sprint"  # Jira Software's Sprint field type
# Data Center (and old Cloud) give a sprint as "com.atlassian.greenhopper.service.sprint.Sprint@
# 4263b21c[id=444,rapidViewId=158,state=ACTIVE,name=Shredders Sprint 5,startDate=…]".
GREENHOPPER_NAME = re.compile(r"\bname=(.*?)(?:,\w+=|\]$)")
GREENHOPPER_STATE = re.compile(r"\bstate=(\w+)")


def user_id(user) -> str:
    """The accountId (Cloud), else the username (Data Center); "" for nobody."""
    if not isinstance(user, dict):
        return ""
    return str(user.get("accountId") or user.get("name") or user.get("key") or "")


def sprint_field(fields: list) -> str:
    """The id of the site's Sprint field (from ``GET /field``), "" without Jira Software."""
    candidates = [f for f in fields if isinstance(f, dict) and f.get("id")]
    for f in candidates:
        if (f.get("schema") or {}).get("custom") == SPRINT_SCHEMA:
            return str(f["id"])
    return next((str(f["id"]) for f in candidates if f.get("custom") and f.get("name") == "Sprint"), "")


def sprint_name(value) -> str:
    """The active sprint of an issue, else its latest (Jira lists them oldest first)."""
    sprints = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict):
            sprints.append((str(entry.get("state") or "").lower(), str(entry.get("name") or "")))
        elif isinstance(entry, str):
            name, state = GREENHOPPER_NAME.search(entry), GREENHOPPER_STATE.search(entry)
            sprints.append((state.group(1).lower() if state else "", name.group(1) if name else ""))
    named = [(state, name) for state, name in sprints if name]
    active = [name for state, name in named if state == "active"]
    return (active[-1] if active else named[-1][1] if named else "")[:200]


GREENHOPPER_VALUE = re.compile(r"\b(id|state|name|startDate|endDate|completeDate)=(.*?)(?=,\w+=|\]$)")
SPRINT_DATES = {"startDate": "started_at", "endDate": "ends_at", "completeDate": "completed_at"}


def sprints_of(value, where: str) -> list[dict]:
    """The sprints an issue is in, with their dates (predictability): Cloud's sprint objects or
    Data Center's GreenHopper strings. A sprint without an id is left out."""
    out = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict):
            raw = {k: entry.get(k) for k in ("id", "state", "name", *SPRINT_DATES)}
        elif isinstance(entry, str):
            raw = dict(GREENHOPPER_VALUE.findall(entry))
        else:
            continue
        raw = {k: (None if v in (None, "", "<null>") else str(v)) for k, v in raw.items()}
        if raw.get("id") is None:
            continue
        sprint = {"external_id": raw["id"][:100], "name": (raw.get("name") or raw["id"])[:200],
                  "state": (raw.get("state") or "").lower()[:12]}  # fmt: skip
        for key, name in SPRINT_DATES.items():
            sprint[name] = moment(raw, key, where=f"sprint {raw['id']} of {where}", optional=True)
        out.append(sprint)
    return out


def changelog_is_partial(issue: dict) -> bool:
    """Does the changelog embedded in a search result leave out histories?"""
    changelog = issue.get("changelog")
    if not isinstance(changelog, dict):
        return False
    total = changelog.get("total")
    shown = changelog.get("histories")
    return isinstance(total, int) and isinstance(shown, list) and total > len(shown)


def _users(fields: dict, histories: list) -> dict[str, dict]:
    """Every user object of an issue by its id, and on Data Center also by its user key, which
    is what a changelog's assignee items hold (``JIRAUSER10100``, or the old username)."""
    authors = [h.get("author") for h in histories if isinstance(h, dict)]
    found = {}
    for user in [fields.get("assignee"), fields.get("reporter"), *authors]:
        if isinstance(user, dict) and user_id(user):
            found[user_id(user)] = user
            if user.get("key"):
                found[str(user["key"])] = user
    return found


def _assignee_value(item: dict, side: str, users: dict) -> str:
    raw = item.get(side) or item.get(f"tmp{side.capitalize()}AccountId") or ""
    return user_id(users[raw]) if raw in users else str(raw)


def events_of(histories: list, users: dict, where: str) -> list[dict]:
    """Status, assignee, resolution, label and sprint changes, oldest first. Statuses and
    resolutions by name (a changelog's from/to hold ids); the labels as Jira writes them,
    space-separated; sprints by id ("sprint": the ids, comma-separated)."""
    events = []
    for history in histories:
        history_id = field(history, "id", (str, int), where=where)
        at = moment(history, "created", where=where)
        author = user_id(history.get("author"))
        for index, item in enumerate(field(history, "items", list, where=where)):
            name = str(item.get("field") or "") if isinstance(item, dict) else ""
            if name == "Sprint" and item.get("fieldtype") == "custom":
                # Sprint ids, comma-separated: when the issue joined or left each sprint.
                name = "sprint"
                before, after = (_ids(item.get(side)) for side in ("from", "to"))
            # A custom field may be called "Status" too: only Jira's own fields count.
            elif name not in EVENT_FIELDS or item.get("fieldtype", "jira") != "jira":
                continue
            elif name == "assignee":
                before, after = (_assignee_value(item, side, users) for side in ("from", "to"))
            else:
                before, after = str(item.get("fromString") or ""), str(item.get("toString") or "")
            events.append(
                {
                    "external_id": f"{history_id}-{index}",
                    "at": at,
                    "actor": author,
                    "field": name,
                    "from_value": before,
                    "to_value": after,
                }
            )
    events.sort(key=lambda e: e["at"])
    return events


def _ids(value) -> str:
    """A changelog's sprint ids ("444, 445") as "444,445"."""
    return ",".join(part.strip() for part in str(value or "").split(",") if part.strip())


def assignee_at(events: list[dict], when: datetime.datetime) -> str | None:
    """Who was assigned at ``when`` by the changelog ("" = nobody); None if it never changed."""
    changes = [e for e in events if e["field"] == "assignee"]
    before = [e for e in changes if e["at"] <= when]
    if before:
        return before[-1]["to_value"]
    return changes[0]["from_value"] if changes else None


def is_bot_user(user, is_bot_name) -> bool:
    if not isinstance(user, dict):
        return False
    names = (str(user.get(k) or "") for k in ("displayName", "name", "emailAddress"))
    return user.get("accountType") == "app" or bool(is_bot_name(*names))


def issue(
    node: dict, *, site: str, is_bot_name, incident_labels, sprint_field_id: str = "", histories=None
) -> dict:
    """A work item row (store.store_work_items' shape). ``histories``: the whole changelog when
    the one embedded in ``node`` is partial."""
    key = field(node, "key", str, where="an issue in Jira's answer")
    where = f"issue {key}"
    fields = field(node, "fields", dict, where=where)
    if histories is None:
        histories = items(node, "changelog.histories", where=where)
    users = _users(fields, histories)
    created = moment(fields, "created", where=where)
    resolved = moment(fields, "resolutiondate", where=where, optional=True)
    labels = items(fields, "labels", where=where, objects=False)
    if not all(isinstance(label, str) for label in labels):
        raise SourceError(
            f"Malformed data from the server: {where} has a label that is not text; nothing from this page "
            "was stored."
        )
    item_type = field(fields, "issuetype.name", str, where=where)
    category = field(fields, "status.statusCategory.key", str, where=where, optional=True)
    assignee, reporter = user_id(fields.get("assignee")), user_id(fields.get("reporter"))
    events = events_of(histories, users, where)
    # The one who resolved it: its assignee then (a later reassignment, to QA say, does not count).
    actor = (assignee_at(events, resolved) if resolved else None) or assignee or reporter
    return {
        "key": key,
        "external_id": str(field(node, "id", (str, int), where=where)),
        "title": field(fields, "summary", str, where=where)[:300],
        "url": f"{site.rstrip('/')}/browse/{key}",
        "item_type": item_type[:60],
        "priority": (field(fields, "priority.name", str, where=where, optional=True) or "")[:60],
        "workflow_status": field(fields, "status.name", str, where=where)[:60],
        "category": CATEGORIES.get(category or "", "done" if resolved else "todo"),
        "resolution": (field(fields, "resolution.name", str, where=where, optional=True) or "")[:60],
        "created_at": created,
        "updated_at": moment(fields, "updated", where=where),
        "resolved_at": resolved,
        "assignee": assignee,
        "reporter": reporter,
        "sprint": sprint_name(fields.get(sprint_field_id)) if sprint_field_id else "",
        "sprints": sprints_of(fields.get(sprint_field_id), where) if sprint_field_id else [],
        "fix_versions": fix_versions(fields, where),
        "labels": labels,
        "links": links_of(fields, where),
        "is_incident": bool(incident_labels(item_type, *labels)),
        "actor": actor,
        # Dates in UTC, as for every other source (Jira writes times in the token user's zone).
        "acted_on": (resolved or created).astimezone(datetime.UTC).date(),
        "is_bot": is_bot_user(users.get(actor), is_bot_name),
        "events": events,
    }


def fix_versions(fields: dict, where: str) -> list[str]:
    """The names of the releases an issue is planned for or shipped in (``fixVersions``: version
    objects with ``id``, ``name``, ``released``…), in Jira's order, each once."""
    names = []
    for version in items(fields, "fixVersions", where=where):
        name = field(version, "name", str, where=f"a fix version of {where}")
        if name and name[:100] not in names:
            names.append(name[:100])
    return names


def links_of(fields: dict, where: str) -> list[str]:
    """The keys of the issues this one links to (blocks, relates to, duplicates, …)."""
    keys = []
    for link in items(fields, "issuelinks", where=where):
        other = (link.get("outwardIssue") or link.get("inwardIssue")) if isinstance(link, dict) else None
        key = other.get("key") if isinstance(other, dict) else None
        if isinstance(key, str) and key and key not in keys:
            keys.append(key)
    return keys
