"""A local fake of a Jira server, Cloud or Data Center, for tests (standard library only).

Cloud (``cloud=True``): ``/rest/api/3`` and ``/rest/api/2``; search at ``/search/jql`` paged by
an opaque ``nextPageToken`` (here it holds the last issue's sort key, so an edit between pages
skips nothing; Atlassian does not document what it holds) while the old ``/search`` answers
410; a search embeds the newest 100 histories of a changelog and ``/issue/{key}/changelog``
pages the whole of it; users by ``accountId``; sprints as objects.
Data Center (``cloud=False``): ``/rest/api/2`` only; ``/search`` by ``startAt`` over the
current order (an issue edited while paging moves to the end and shifts the offsets, as on a
real server); the whole changelog embedded, and no ``/changelog`` endpoint (404 as on 9.x);
users by ``name`` and ``key`` (changelog assignee items hold the key); GreenHopper sprint strings.
Both: ``/field`` (with the Sprint custom field) and ``/issue/{key}?expand=changelog``; only the
fields asked for; times in the account's zone (``utc_offset_hours``), in which JQL dates are read
too; JQL limited to ``project = KEY [AND updated >= "yyyy-MM-dd HH:mm"] ORDER BY updated ASC``.
Auth: basic e-mail:token when the fake has an ``email``, else a Bearer token. Faults:
``FakeJira.fail_next``.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import json
import random
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.server import FakeServer

FAULT_KINDS = ("502", "rate_limit", "malformed", "bad_field", "redirect_other_host")
PAGE_LIMIT = 100
CLOUD_CHANGELOG_CAP = 100  # histories a Cloud search result embeds
SPRINT_FIELD = "customfield_10020"
JQL = re.compile(
    r'\s*project\s*=\s*(?:"([^"]*)"|(\w+))(?:\s+AND\s+updated\s*>=\s*"(\d{4}-\d\d-\d\d \d\d:\d\d)")?'
    r"\s+ORDER\s+BY\s+updated\s+ASC\s*",
    re.IGNORECASE,
)
JQL_FORM = 'project = KEY [AND updated >= "yyyy-MM-dd HH:mm"] ORDER BY updated ASC'
TYPES, TYPE_WEIGHTS = ("Story", "Task", "Bug", "Incident"), (40, 20, 30, 10)
PRIORITIES = ("Highest", "High", "Medium", "Low")
LABELS = ("backend", "frontend", "customer", "tech-debt")
NOUNS = ["billing export", "login form", "search index", "audit log", "invoice PDF", "rate limiter", "CSV import", "user settings"]  # fmt: skip
PROBLEMS = ["fails on Safari", "is slow", "shows wrong totals", "times out", "loses data"]
# name: (id, category key, category id, category name)
STATUSES = {
    "To Do": ("10000", "new", 2, "To Do"),
    "In Progress": ("3", "indeterminate", 4, "In Progress"),
    "In Review": ("10001", "indeterminate", 4, "In Progress"),
    "Done": ("10002", "done", 3, "Done"),
}


@dataclass(frozen=True)
class User:
    account_id: str  # Cloud
    name: str  # Data Center username
    key: str  # Data Center user key (what its changelog holds)
    display: str
    app: bool = False


USERS = (
    User("557058:ana", "ana", "JIRAUSER10001", "Ana Alpha"),
    User("557058:ben", "Ben.Beta", "JIRAUSER10002", "Ben Beta"),
    User("557058:ida", "ida", "ida", "Ida Inhouse"),  # an account from before user keys: key = name
    User("557058:max", "max", "JIRAUSER10004", "Max Mover"),
    User("557058:cai", "cai", "JIRAUSER10005", "Cai Gamma"),
    User("557058:dee", "dee", "JIRAUSER10006", "Dee Delta"),
)
AUTOMATION = User("557058:f58131cb-b67d-43c7-b30d-6b58d40bd077", "automation", "JIRAUSER10099", "Automation for Jira", app=True)  # fmt: skip


class GeneratedJiraProject:
    """A Jira project's issues with their changelogs, generated from a seed. An issue is kept as
    its REST ``fields`` and its histories (oldest first); changes replace them, never mutate."""

    def __init__(
        self,
        issues: int,
        seed: int = 1,
        key: str = "SHOP",
        cloud: bool = True,
        start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
        utc_offset_hours: int = 0,
        site: str = "https://acme.atlassian.net",
    ) -> None:
        self.key, self.seed, self.cloud, self.start, self.site = key, seed, cloud, start, site
        self.tz = timezone(timedelta(hours=utc_offset_hours))
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.issues: dict[str, dict] = {}  # key -> {"id", "key", "fields"}
        self.histories: dict[str, list[dict]] = {}  # key -> histories, oldest first
        self.updated: dict[str, datetime] = {}
        self.expected_actor: dict[str, str] = {}  # key -> who resolved it (else assignee, else reporter)
        self.last_touched: list[str] = []
        self._ids = itertools.count(20_001)
        self._number = 0
        self._touches = 0
        self._index: tuple[list, list] | None = None
        for i in range(issues):
            self.add_issue(start + timedelta(days=365) * i / max(issues, 1) + timedelta(minutes=self.rng.randint(0, 600)))  # fmt: skip

    # -- rendering -----------------------------------------------------------------------------

    def stamp(self, moment: datetime) -> str:
        """Jira's ``2024-01-15T10:20:30.000+0000``, in the account's zone."""
        local = moment.astimezone(self.tz)
        return f"{local:%Y-%m-%dT%H:%M:%S}.{local.microsecond // 1000:03d}{local:%z}"

    def ident(self, user: User) -> str:
        """The value an identity of kind "jira" holds for this user."""
        return user.account_id if self.cloud else user.name

    def user(self, user: User | None) -> dict | None:
        if user is None:
            return None
        if self.cloud:
            return {"self": f"{self.site}/rest/api/3/user?accountId={user.account_id}", "accountId": user.account_id,
                    "displayName": user.display, "active": True, "timeZone": "Europe/Berlin",
                    "accountType": "app" if user.app else "atlassian"}  # fmt: skip
        email = "jira-bot@acme.test" if user.app else f"{user.name.lower()}@acme.test"
        return {"self": f"{self.site}/rest/api/2/user?username={user.name}", "name": user.name, "key": user.key,
                "displayName": user.display, "emailAddress": email, "active": True, "timeZone": "Europe/Berlin"}  # fmt: skip

    def status(self, name: str) -> dict:
        status_id, category, category_id, category_name = STATUSES[name]
        return {"id": status_id, "name": name,
                "statusCategory": {"id": category_id, "key": category, "name": category_name}}  # fmt: skip

    def sprint(self, number: int) -> dict | str:
        """Two-week sprints from the project's start; those over by now are closed (completed
        at their planned end), as Jira Software describes a sprint in the issue's Sprint field."""
        name = f"{self.key} Sprint {number}"
        begin = self.start + timedelta(days=14 * (number - 1))
        end = begin + timedelta(days=14)
        now = datetime.now(UTC)
        state = "closed" if end <= now else "active" if begin <= now else "future"
        if self.cloud:
            sprint = {"id": number, "name": name, "state": state, "boardId": 1, "goal": "",
                      "startDate": begin.isoformat()[:19] + ".000Z", "endDate": end.isoformat()[:19] + ".000Z"}  # fmt: skip
            if state == "closed":
                sprint["completeDate"] = sprint["endDate"]
            return sprint
        complete = end.isoformat() if state == "closed" else "<null>"
        return (f"com.atlassian.greenhopper.service.sprint.Sprint@{number:08x}[id={number},rapidViewId=1,"
                f"state={state.upper()},name={name},startDate={begin.isoformat()},endDate={end.isoformat()},"
                f"completeDate={complete},sequence={number},goal=]")  # fmt: skip

    # -- changelog items -----------------------------------------------------------------------

    def _history(self, at: datetime, author: User, items: list[dict]) -> dict:
        return {
            "id": str(next(self._ids)),
            "author": self.user(author),
            "created": self.stamp(at),
            "items": items,
        }

    def _assignee_item(self, before: User | None, after: User | None) -> dict:
        def raw(user):
            return None if user is None else (user.account_id if self.cloud else user.key)

        item = {"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
                "from": raw(before), "fromString": before.display if before else None,
                "to": raw(after), "toString": after.display if after else None}  # fmt: skip
        if self.cloud:
            item.update(tmpFromAccountId=raw(before), tmpToAccountId=raw(after))
        return item

    @staticmethod
    def _status_item(before: str, after: str) -> dict:
        return {"field": "status", "fieldtype": "jira", "fieldId": "status", "from": STATUSES[before][0],
                "fromString": before, "to": STATUSES[after][0], "toString": after}  # fmt: skip

    @staticmethod
    def _labels_item(before: list[str], after: list[str]) -> dict:
        return {"field": "labels", "fieldtype": "jira", "fieldId": "labels", "from": None,
                "fromString": " ".join(before), "to": None, "toString": " ".join(after)}  # fmt: skip

    # -- generation ----------------------------------------------------------------------------

    def add_issue(self, created: datetime) -> dict:
        """A new issue (the next key) created at ``created``: assigned, started, maybe reassigned,
        reviewed, resolved and handed on to someone else afterwards."""
        with self.lock:
            rng, created = self.rng, created.replace(microsecond=0)
            self._number += 1
            key, issue_id = f"{self.key}-{self._number}", str(10_000 + self._number)
            reporter = AUTOMATION if rng.random() < 0.05 else rng.choice(USERS)
            kind = rng.choices(TYPES, TYPE_WEIGHTS)[0]
            labels = sorted(rng.sample(LABELS, rng.choice([0, 0, 1, 1, 2])))
            changes: list[tuple[datetime, User, list[dict]]] = []
            moment = created

            def later(low: int = 10, high: int = 3 * 1440) -> datetime:
                nonlocal moment
                moment += timedelta(minutes=rng.randint(low, high), seconds=rng.randint(0, 59))
                return moment

            def log(at: datetime, author: User, *items: dict) -> None:
                changes.append((at, author, list(items)))

            assignee, status, resolved, resolver = None, "To Do", None, None
            if rng.random() < 0.85:
                assignee = rng.choice(USERS)
                log(later(1, 120), reporter, self._assignee_item(None, assignee))
            roll = rng.random()
            if roll < 0.8:
                log(later(), assignee or reporter, self._status_item(status, "In Progress"))
                status = "In Progress"
                if assignee and rng.random() < 0.2:
                    other = rng.choice([u for u in USERS if u != assignee])
                    log(later(), assignee, self._assignee_item(assignee, other))
                    assignee = other
                if rng.random() < 0.4:
                    log(later(), assignee or reporter, self._status_item(status, "In Review"))
                    status = "In Review"
            if roll < 0.65:
                resolved, resolver = later(), assignee
                resolution = {"field": "resolution", "fieldtype": "jira", "fieldId": "resolution", "from": None,
                              "fromString": None, "to": "10000", "toString": "Done"}  # fmt: skip
                log(resolved, assignee or reporter, self._status_item(status, "Done"), resolution)
                status = "Done"
                if assignee and rng.random() < 0.25:  # handed to QA after it was resolved
                    qa = rng.choice([u for u in USERS if u != assignee])
                    log(later(), reporter, self._assignee_item(assignee, qa))
                    assignee = qa
            sprints = []
            if rng.random() < 0.6:
                # Most go into the next sprint, before it starts (committed); some into the
                # running one (added after its start, not committed).
                number = 1 + (created - self.start).days // 14 + (rng.random() < 0.8)
                sprints = [self.sprint(number)]
                sprint_item = {"field": "Sprint", "fieldtype": "custom", "fieldId": SPRINT_FIELD, "from": "",
                               "fromString": "", "to": str(number), "toString": f"{self.key} Sprint {number}"}  # fmt: skip
                log(created + timedelta(minutes=1), reporter, sprint_item)
            if labels and rng.random() < 0.3:
                log(created + timedelta(minutes=2), reporter, self._labels_item(labels[:-1], labels))
            changes.sort(key=lambda change: change[0])
            # History ids grow with time, as Jira's do.
            histories = [self._history(at, author, items) for at, author, items in changes]
            updated = max([created] + [at for at, _, _ in changes]) + timedelta(seconds=rng.randint(1, 30))
            links = []
            if self._number > 1 and rng.random() < 0.15:
                target = f"{self.key}-{rng.randint(1, self._number - 1)}"
                links.append({"id": str(next(self._ids)), "type": {"id": "10000", "name": "Blocks", "inward": "is blocked by", "outward": "blocks"},
                              "outwardIssue": {"id": self.issues[target]["id"], "key": target,
                                               "fields": {"summary": self.issues[target]["fields"]["summary"]}}})  # fmt: skip
            noun = rng.choice(NOUNS)
            summary = (
                f"{noun.capitalize()} {rng.choice(PROBLEMS)}"
                if kind in ("Bug", "Incident")
                else f"Add {noun}"
            )
            fields = {
                "summary": summary,
                "issuetype": {"id": str(10_001 + TYPES.index(kind)), "name": kind, "subtask": False},
                "priority": {"id": str(rng.randint(1, 4)), "name": rng.choice(PRIORITIES)},
                "status": self.status(status),
                "resolution": {"id": "10000", "name": "Done"} if resolved else None,
                "resolutiondate": self.stamp(resolved) if resolved else None,
                "created": self.stamp(created),
                "updated": self.stamp(updated),
                "assignee": self.user(assignee),
                "reporter": self.user(reporter),
                "labels": labels,
                "issuelinks": links,
                "fixVersions": [{"id": "10100", "name": "1.0", "released": bool(resolved)}]
                if resolved
                else [],
                SPRINT_FIELD: sprints or None,
            }
            self.issues[key] = {"id": issue_id, "key": key, "fields": fields}
            self.histories[key] = histories
            self.updated[key] = updated
            self.expected_actor[key] = self.ident(resolver or assignee or reporter)
            self._index = None
            return self.issues[key]

    def touch(self, fraction: float, now: datetime, keys: list[str] | None = None) -> int:
        """Edits a deterministic ``fraction`` of the issues (or those ``keys``): a title suffix, a
        new label in a new history, updated = ``now``. Which ones: ``last_touched``."""
        with self.lock:
            self._touches += 1
            rng = random.Random(f"{self.seed}:touch:{self._touches}")
            if keys is None:
                share = max(0.0, min(1.0, fraction))
                keys = rng.sample(sorted(self.issues), round(share * len(self.issues)))
            label = f"touched-{self._touches}"
            for key in keys:
                issue = self.issues[key]
                fields = dict(issue["fields"])
                fields["summary"] = fields["summary"].split(" [edit ")[0] + f" [edit {self._touches}]"
                fields["labels"] = [*fields["labels"], label]
                fields["updated"] = self.stamp(now)
                history = self._history(now, rng.choice(USERS), [self._labels_item(issue["fields"]["labels"], fields["labels"])])  # fmt: skip
                self.issues[key] = {**issue, "fields": fields}
                self.histories[key] = [*self.histories[key], history]
                self.updated[key] = now
            self._index = None
            self.last_touched = sorted(keys)
            return len(keys)

    def grow_changelog(self, key: str, count: int) -> None:
        """``count`` more histories (a label "flaky" added and removed in turn) after the others."""
        with self.lock:
            moment = self.updated[key]
            labels = list(self.issues[key]["fields"]["labels"])
            added = []
            for _ in range(count):
                moment += timedelta(minutes=1)
                after = [x for x in labels if x != "flaky"] if "flaky" in labels else [*labels, "flaky"]
                added.append(self._history(moment, USERS[0], [self._labels_item(labels, after)]))
                labels = after
            fields = {**self.issues[key]["fields"], "labels": labels, "updated": self.stamp(moment)}
            self.issues[key] = {**self.issues[key], "fields": fields}
            self.histories[key] = [*self.histories[key], *added]
            self.updated[key] = moment
            self._index = None

    # -- reading -------------------------------------------------------------------------------

    def index(self) -> tuple[list, list]:
        """(sort keys, issue keys) ordered by update, then id: JQL's ORDER BY updated ASC."""
        with self.lock:
            if self._index is None:
                pairs = sorted(((self.updated[k], int(i["id"])), k) for k, i in self.issues.items())
                self._index = ([s for s, _ in pairs], [k for _, k in pairs])
            return self._index

    def field_list(self) -> list[dict]:
        system = [(name, name.capitalize()) for name in ("summary", "status", "priority", "labels", "created", "updated", "assignee", "reporter")]  # fmt: skip
        fields = [{"id": i, "key": i, "name": n, "custom": False, "orderable": True, "navigable": True,
                   "searchable": True, "clauseNames": [i]} for i, n in system]  # fmt: skip
        fields.append({"id": "customfield_10011", "key": "customfield_10011", "name": "Story point estimate", "custom": True,
                       "schema": {"type": "number", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float", "customId": 10011}})  # fmt: skip
        fields.append({"id": SPRINT_FIELD, "key": SPRINT_FIELD, "name": "Sprint", "untranslatedName": "Sprint", "custom": True,
                       "clauseNames": ["cf[10020]", "Sprint"],
                       "schema": {"type": "array", "items": "json", "custom": "com.pyxis.greenhopper.jira:gh-sprint", "customId": 10020}})  # fmt: skip
        return fields


def encode_token(sort_key: tuple) -> str:
    when, issue_id = sort_key
    return base64.urlsafe_b64encode(json.dumps([when.isoformat(), issue_id]).encode()).decode()


def decode_token(token: str) -> tuple:
    when, issue_id = json.loads(base64.urlsafe_b64decode(token.encode()))
    return datetime.fromisoformat(when), int(issue_id)


def errors(*messages: str) -> dict:
    return {"errorMessages": list(messages), "errors": {}}


class FakeJira(FakeServer):
    """The fake server over a ``GeneratedJiraProject``. ``changelog_cap``: how many histories a
    search result embeds ("auto": 100 on Cloud, all on Data Center)."""

    def __init__(
        self,
        project: GeneratedJiraProject,
        token: str = "test-token",  # noqa: S107
        email: str | None = None,
        page_limit: int = PAGE_LIMIT,
        changelog_cap: int | None | str = "auto",
    ) -> None:
        self.project, self.token, self.email, self.page_limit = project, token, email, page_limit
        cap = (CLOUD_CHANGELOG_CAP if project.cloud else None) if changelog_cap == "auto" else changelog_cap
        self.changelog_cap: int | None = cap
        super().__init__()

    def internal_error(self, exc: Exception) -> tuple[dict, bytes]:
        return {"Content-Type": "application/json;charset=UTF-8"}, json.dumps(
            errors(f"fake server error: {exc!r}")
        ).encode()

    # -- inspection and faults -----------------------------------------------------------------

    def request_count(self, status: int | None = None, path: str | None = None) -> int:
        """Requests answered (with this status; whose path contains ``path``)."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (status is None or r["status"] == status) and (path is None or path in r["path"])
            )

    def fail_next(self, kind: str, times: int = 1, on: str | None = None) -> None:
        """The next ``times`` requests (whose path contains ``on``) fail as ``kind`` (FAULT_KINDS)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        with self._lock:
            self._faults.append([kind, times, on])

    def _take_fault(self, path: str) -> str | None:
        with self._lock:
            for fault in self._faults:
                kind, _, on = fault
                if on is None or on in path:
                    fault[1] -= 1
                    if fault[1] <= 0:
                        self._faults.remove(fault)
                    return kind
        return None

    # -- requests ------------------------------------------------------------------------------

    def _authorized(self, header: str) -> bool:
        if self.email is not None:
            expected = "Basic " + base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
        else:
            expected = f"Bearer {self.token}"
        return header == expected

    def _budget_headers(self, exhausted: bool) -> dict[str, str]:
        if self.project.cloud:
            if not exhausted:
                return {"X-RateLimit-Limit": "350", "X-RateLimit-Remaining": "349"}
            reset = datetime.now(UTC) + timedelta(minutes=1)
            return {"Retry-After": "1", "X-RateLimit-Limit": "350", "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{reset:%Y-%m-%dT%H:%M}Z", "RateLimit-Reason": "jira-quota-based"}  # fmt: skip
        return {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0" if exhausted else "99",
                "X-RateLimit-Interval-Seconds": "1", "X-RateLimit-FillRate": "10",
                "retry-after": "1" if exhausted else "0"}  # fmt: skip

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        """(status, headers, body) for one request; the HTTP handler only moves bytes."""
        split = urlsplit(target)
        path, query = split.path, dict(parse_qsl(split.query))
        authorized = self._authorized(headers.get("Authorization") or "")
        fault = self._take_fault(path) if authorized else None
        content_type = "application/json;charset=UTF-8"
        extra = self._budget_headers(fault == "rate_limit") if authorized else {}
        if not authorized:
            status, payload = 401, errors("You are not authenticated. Authentication required to perform this operation.")  # fmt: skip
        elif fault == "rate_limit":
            status, payload = 429, errors("Rate limit exceeded.")
        elif fault == "502":
            status, payload, content_type = (
                502,
                b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                "text/html",
            )
        elif fault == "malformed":
            status, payload, content_type = (
                200,
                b"<html>Atlassian is down for maintenance</html>",
                "text/html",
            )
        elif fault == "redirect_other_host":
            extra["Location"] = "http://169.254.169.254/latest/meta-data/"
            status, payload = 301, errors("Moved Permanently")
        else:
            request = query
            if method == "POST":
                try:
                    request = json.loads(body or b"{}")
                except ValueError:
                    request = None
            status, payload = self._route(method, path, request, bad_field=fault == "bad_field")
        data = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        with self._lock:
            self.requests.append({"method": method, "path": path, "query": query, "status": status})
        return status, {"Content-Type": content_type, **extra}, data

    def _route(self, method: str, path: str, request, *, bad_field: bool) -> tuple[int, object]:
        project = self.project
        not_found = 404, {"message": f"null for uri: {self.base_url}{path}", "status-code": 404}
        match = re.fullmatch(r"/rest/api/([23])/(.+)", path)
        if not match or (match.group(1) == "3" and not project.cloud):
            return not_found
        version, route = match.groups()
        if not isinstance(request, dict):
            return 400, errors("Unexpected character: the request body is not JSON.")
        if route == "field" and method == "GET":
            return 200, project.field_list()
        if route == "search/jql" and project.cloud and method in ("GET", "POST"):
            return self._search(version, request, cloud=True, bad_field=bad_field)
        if route == "search" and method in ("GET", "POST"):
            if project.cloud:
                return 410, errors(
                    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full "
                    "migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
                )
            return self._search(version, request, cloud=False, bad_field=bad_field)
        issue = re.fullmatch(r"issue/([^/]+)(/changelog)?", route)
        if issue and method == "GET":
            key = issue.group(1).upper()
            if key not in project.issues:
                return 404, errors("Issue does not exist or you do not have permission to see it.")
            if issue.group(2):
                return self._changelog(version, key, request) if project.cloud else not_found
            with project.lock:
                return 200, self._render(
                    key, version, request, cap=CLOUD_CHANGELOG_CAP if project.cloud else None
                )
        return not_found

    @staticmethod
    def _int(request: dict, name: str, default: int) -> int:
        value = request.get(name, default)
        if isinstance(value, bool) or not str(value).lstrip("-").isdigit():
            raise ValueError(name)
        return int(value)

    def _search(self, version: str, request: dict, *, cloud: bool, bad_field: bool) -> tuple[int, dict]:
        project = self.project
        jql = str(request.get("jql") or "")
        match = JQL.fullmatch(jql)
        if not match:
            return 400, errors(f"Error in the JQL Query: this fake reads only {JQL_FORM}, not {jql!r}.")
        wanted = match.group(1) or match.group(2)
        if wanted.upper() != project.key:
            return 400, errors(f"The value '{wanted}' does not exist for the field 'project'.")
        try:
            size = max(1, min(self.page_limit, self._int(request, "maxResults", 50)))
            start = self._int(request, "startAt", 0)
        except ValueError as exc:
            return 400, errors(f"The value of '{exc}' is not a number.")
        with project.lock:
            sort_keys, keys = project.index()
            floor = 0
            if match.group(3):
                since = datetime.strptime(match.group(3), "%Y-%m-%d %H:%M").replace(tzinfo=project.tz)
                floor = bisect.bisect_left(sort_keys, (since, -1))
            if cloud:
                begin = floor
                if request.get("nextPageToken"):
                    try:
                        begin = max(
                            floor, bisect.bisect_right(sort_keys, decode_token(str(request["nextPageToken"])))
                        )
                    except (ValueError, TypeError):
                        return 400, errors("The nextPageToken is not valid.")
            else:
                begin = floor + max(0, start)
            chunk = keys[begin : begin + size]
            issues = [self._render(key, version, request, cap=self.changelog_cap) for key in chunk]
            end = begin + len(chunk)
            total, last_sort = len(keys) - floor, sort_keys[end - 1] if chunk else None
        if bad_field and issues and "fields" in issues[0]:
            issues[0]["fields"] = {**issues[0]["fields"], "created": "yesterday"}
        if cloud:
            last = end >= len(keys)
            page = {"issues": issues, "isLast": last}
            if not last:
                page["nextPageToken"] = encode_token(last_sort)
            return 200, page
        return 200, {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": total,
            "issues": issues,
        }

    def _render(self, key: str, version: str, request: dict, *, cap: int | None) -> dict:
        """An issue as a search or ``/issue/{key}`` returns it: the fields asked for (Cloud's
        search gives none unless asked, Data Center every navigable one), its changelog if expanded."""
        project = self.project
        issue = project.issues[key]
        fields = request.get("fields")
        if isinstance(fields, str):
            fields = [f.strip() for f in fields.split(",") if f.strip()]
        out = {"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields", "id": issue["id"],
               "self": f"{project.site}/rest/api/{version}/issue/{issue['id']}", "key": key}  # fmt: skip
        if (fields is None and not project.cloud) or (fields and {"*all", "*navigable"} & set(fields)):
            out["fields"] = dict(issue["fields"])
        elif fields:
            out["fields"] = {f: issue["fields"][f] for f in fields if f in issue["fields"]}
        expand = request.get("expand") or ""
        expand = expand if isinstance(expand, list) else str(expand).split(",")
        if "changelog" in [e.strip() for e in expand]:
            histories = project.histories[key]
            shown = histories[::-1][:cap] if cap else histories[::-1]  # newest first
            out["changelog"] = {
                "startAt": 0,
                "maxResults": len(shown),
                "total": len(histories),
                "histories": shown,
            }
        return out

    def _changelog(self, version: str, key: str, request: dict) -> tuple[int, dict]:
        """Cloud's ``/issue/{key}/changelog``: the whole changelog, oldest first, 100 a page."""
        try:
            start = max(0, self._int(request, "startAt", 0))
            size = max(1, min(100, self._int(request, "maxResults", 100)))
        except ValueError as exc:
            return 400, errors(f"The value of '{exc}' is not a number.")
        with self.project.lock:
            histories = self.project.histories[key]
        values = histories[start : start + size]
        return 200, {
            "self": f"{self.project.site}/rest/api/{version}/issue/{key}/changelog?maxResults={size}&startAt={start}",
            "maxResults": size,
            "startAt": start,
            "total": len(histories),
            "isLast": start + len(values) >= len(histories),
            "values": values,
        }
