"""A local fake of a GitHub Enterprise server for tests and benchmarks (standard library only).

GraphQL at ``POST /api/graphql`` answers the product's four operations (by ``operationName``, the
query text is not parsed) with the shapes of ``partnerscope/evidence/connectors/github/queries.py``;
REST under ``/api/v3`` serves workflow runs (Link paging, ETag/304) and the naive per-pull-request
endpoints a benchmark baseline uses. Data comes from ``GeneratedProject``: deterministic, held as
ready-made node dicts (changes replace a node, never mutate it, so pages can be serialized outside
the lock). Faults are injected with ``FakeGitHub.fail_next``.
"""

from __future__ import annotations

import base64
import bisect
import gc
import hashlib
import itertools
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakes.server import FakeServer

USERS = ["ana-alpha", "ben-beta", "cai-alpha", "dee-beta", "eve-gamma", "fay-gamma", "gus-alpha", "hal-beta", "ida-inhouse", "jon-inhouse", "kim-inhouse", "lou-gamma"]  # fmt: skip
BOT = "dependabot"  # GraphQL spells bots without "[bot]"; REST adds it
BOT_EMAIL = "49699333+dependabot[bot]@users.noreply.github.com"
WEB = "https://ghe.example.com"  # the html URLs in the data (the API's own host is 127.0.0.1)
DOCS = "https://docs.github.com/rest"
PAGE_LIMIT = 100  # GitHub's `first` limit
RUN_SEARCH_CAP = 1000  # GitHub lists at most 1,000 runs for a filtered search
FAULT_KINDS = ("502", "rate_limit", "secondary", "graphql_rate_limited", "graphql_rate_limit_new", "malformed", "bad_field", "redirect_other_host")  # fmt: skip
REVIEW_STATES, REVIEW_WEIGHTS = ("APPROVED", "COMMENTED", "CHANGES_REQUESTED", "DISMISSED"), (50, 30, 15, 5)
NOUNS = ["billing export", "login form", "search index", "audit log", "invoice PDF", "rate limiter", "CSV import", "user settings", "dashboard cache", "webhook retries"]  # fmt: skip
VERBS = ["Add", "Fix", "Refactor", "Update", "Remove", "Speed up", "Document"]
PROBLEMS = ["fails on Safari", "is slow", "shows wrong totals", "times out", "crashes on empty input", "loses data"]  # fmt: skip
PACKAGES = ["django", "requests", "lodash", "react", "pytest", "urllib3"]


def iso(moment: datetime) -> str:
    if moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat()[:19] + "Z"  # much faster than strftime


def normalize(text: str) -> str:
    """Any ISO date-time as the data's "YYYY-MM-DDTHH:MM:SSZ" (rounded up to a whole second)."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return iso(moment)


def actor(login: str, bot: bool = False) -> dict:
    return {"__typename": "Bot" if bot else "User", "login": login}


def encode_cursor(*key) -> str:
    return base64.b64encode(("cursor:v2:" + json.dumps(list(key))).encode()).decode()


def decode_cursor(text) -> tuple:
    """The position a cursor stands for; ValueError if it is not one of ours."""
    try:
        raw = base64.b64decode(str(text), validate=True).decode()
        key = json.loads(raw.removeprefix("cursor:v2:")) if raw.startswith("cursor:v2:") else None
    except (ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or not key:
        raise ValueError(text)
    return tuple(key)


def review_connection(reviews: list[dict]) -> dict:
    """reviews(first: 50) as the PullRequests query returns it."""
    shown = reviews[:50]
    return {
        "totalCount": len(reviews),
        "pageInfo": {
            "hasNextPage": len(reviews) > 50,
            "endCursor": encode_cursor(len(shown)) if shown else None,
        },
        "nodes": shown,
    }


class GeneratedProject:
    """A repository's pull requests, issues, deployments and workflow runs, generated from a seed."""

    def __init__(
        self,
        prs: int,
        issues: int,
        deployments: int = 0,
        runs: int = 0,
        reviews_per_pr: int = 3,
        commits_per_pr: int = 5,
        comments_per_pr: int = 1,
        seed: int = 1,
        owner: str = "acme",
        name: str = "app",
        start: datetime = datetime(2025, 1, 1, tzinfo=UTC),
    ) -> None:
        self.owner, self.name, self.seed, self.start = owner, name, seed, start
        self.reviews_per_pr, self.commits_per_pr, self.comments_per_pr = (
            reviews_per_pr,
            commits_per_pr,
            comments_per_pr,
        )
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.pull_requests: dict[int, dict] = {}  # number -> GraphQL node
        self.all_reviews: dict[int, list[dict]] = {}  # number -> every review (the node shows 50)
        self.issues: dict[int, dict] = {}
        self.deployments: list[dict] = []  # oldest first
        self.runs: list[dict] = []  # REST items, oldest first
        self.last_touched: dict[str, list[int]] = {"prs": [], "issues": []}
        self._ids = itertools.count(100_001)
        self._number = 0
        self._touches = 0
        self._indexes: dict[str, tuple[list, list]] = {}
        self._latest = start
        span = timedelta(days=365)
        collecting = gc.isenabled()
        gc.disable()  # a large project is many small dicts: collecting during the build is waste
        try:
            self._generate(prs, issues, deployments, runs, span)
        finally:
            if collecting:
                gc.enable()

    def _generate(self, prs: int, issues: int, deployments: int, runs: int, span: timedelta) -> None:
        start = self.start
        for i in range(prs):
            self.add_pr(start + span * i / prs + timedelta(minutes=self.rng.randint(0, 600)))
        for i in range(issues):
            self.add_issue(start + span * i / issues + timedelta(minutes=self.rng.randint(0, 600)))
        for i in range(deployments):
            self.add_deployment(start + span * i / deployments + timedelta(minutes=self.rng.randint(0, 60)))
        for i in range(runs):
            self.add_run(start + span * i / runs + timedelta(seconds=self.rng.randint(0, 600)))

    # -- generation ----------------------------------------------------------------------------

    def _oid(self, rng: random.Random | None = None) -> str:
        return f"{(rng or self.rng).getrandbits(160):040x}"

    def _when(self, created: datetime | None) -> datetime:
        created = created or self._latest + timedelta(hours=1)
        self._latest = max(self._latest, created)
        return created.replace(microsecond=0)

    def _review(self, rng: random.Random, author: str, at: datetime) -> dict:
        state = rng.choices(REVIEW_STATES, REVIEW_WEIGHTS)[0]
        return {
            "databaseId": next(self._ids),
            "author": actor(rng.choice([u for u in USERS if u != author])),
            "state": state,
            "submittedAt": iso(at),
            "comments": {"totalCount": 0 if state == "APPROVED" else rng.randint(0, 4)},
        }

    def add_pr(self, created: datetime | None = None) -> dict:
        """A new pull request (the next number), created at ``created`` or after everything else."""
        with self.lock:
            rng, created = self.rng, self._when(created)
            self._number += 1
            number = self._number
            is_bot = rng.random() < 0.05
            login = BOT if is_bot else rng.choice(USERS)
            roll = rng.random()
            state = "MERGED" if roll < 0.8 else ("CLOSED" if roll < 0.9 else "OPEN")
            ready = created + timedelta(minutes=rng.randint(30, 2880)) if rng.random() < 0.1 else None
            begin = ready or created
            end = begin + timedelta(minutes=rng.randint(60, 7 * 1440))
            first, _, company = login.partition("-")
            commits, n = [], self.commits_per_pr
            for k in range(n):
                at = (
                    created
                    - timedelta(hours=24)
                    + (end - created + timedelta(hours=24)) * ((k + 1) / (n + 1))
                )
                person = {"email": BOT_EMAIL, "user": None} if is_bot else {
                    "email": f"{first}@{company}.example.com",
                    "user": {"login": login} if rng.random() < 0.9 else None,
                }  # fmt: skip
                commits.append({"commit": {"oid": self._oid(), "authoredDate": iso(at), "author": person}})
            nrev = self.reviews_per_pr
            reviews = [
                self._review(rng, login, begin + (end - begin) * ((k + 1) / (nrev + 1))) for k in range(nrev)
            ]
            comments = sorted(
                (
                    {
                        "databaseId": next(self._ids),
                        "author": actor("github-actions", True)
                        if rng.random() < 0.2
                        else actor(rng.choice(USERS)),
                        "createdAt": iso(begin + (end - begin) * rng.random()),
                    }
                    for _ in range(self.comments_per_pr)
                ),
                key=lambda c: c["createdAt"],
            )
            if is_bot:
                title, labels = f"Bump {rng.choice(PACKAGES)} from 1.{number % 9}.0 to 1.{number % 9}.1", ["dependencies"]  # fmt: skip
            else:
                title = f"{rng.choice(VERBS)} {rng.choice(NOUNS)}"
                labels = [rng.choice(["enhancement", "bug", "chore", "frontend", "backend"])] if rng.random() < 0.3 else []  # fmt: skip
            node = {
                "number": number,
                "title": title,
                "state": state,
                "isDraft": state == "OPEN" and ready is None and rng.random() < 0.3,
                "createdAt": iso(created),
                "updatedAt": iso(end + timedelta(minutes=rng.randint(0, 120))),
                "mergedAt": iso(end) if state == "MERGED" else None,
                "closedAt": iso(end) if state != "OPEN" else None,
                "url": f"{WEB}/{self.owner}/{self.name}/pull/{number}",
                "additions": rng.randint(1, 800),
                "deletions": rng.randint(0, 400),
                "changedFiles": rng.randint(1, 30),
                "author": actor(login, is_bot),
                "labels": {"nodes": [{"name": label} for label in labels[:20]]},
                "mergeCommit": {"oid": self._oid()} if state == "MERGED" else None,
                "commits": {"totalCount": len(commits), "nodes": commits[:100]},
                "reviews": review_connection(reviews),
                "comments": {"nodes": comments[:20]},
                "timelineItems": {"nodes": [{"createdAt": iso(ready)}] if ready else []},
            }
            self.all_reviews[number] = reviews
            self.pull_requests[number] = node
            self._indexes.clear()
            return node

    def _event(self, kind: str, at: datetime, who: str, **extra) -> dict:
        prefix = {"ClosedEvent": "CE", "ReopenedEvent": "REE", "AssignedEvent": "AE", "UnassignedEvent": "UAE", "LabeledEvent": "LE", "UnlabeledEvent": "UNLE"}[kind]  # fmt: skip
        return {"__typename": kind, "id": f"{prefix}_kwDOfake{next(self._ids):010d}", "createdAt": iso(at), "actor": actor(who), **extra}  # fmt: skip

    def add_issue(self, created: datetime | None = None) -> dict:
        """A new issue (the next number: issues and pull requests share GitHub's sequence)."""
        with self.lock:
            rng, created = self.rng, self._when(created)
            self._number += 1
            number = self._number
            reporter = rng.choice(USERS)
            labels = [
                label
                for label, chance in (("bug", 0.3), ("incident", 0.1), ("priority: high", 0.15))
                if rng.random() < chance
            ]
            if not labels and rng.random() < 0.5:
                labels.append("enhancement")
            assignees = rng.sample(USERS, rng.choice([0, 1, 1, 2]))
            closed = rng.random() < 0.7
            end = created + timedelta(minutes=rng.randint(60, 30 * 1440))
            reason = ("COMPLETED" if rng.random() < 0.85 else "NOT_PLANNED") if closed else None
            owner = assignees[0] if assignees else reporter

            def between() -> datetime:
                return (created + (end - created) * rng.uniform(0.05, 0.95)).replace(microsecond=0)

            events = [self._event("LabeledEvent", created + timedelta(minutes=1), reporter, label={"name": x}) for x in labels]  # fmt: skip
            events += [
                self._event("AssignedEvent", between(), reporter, assignee={"login": a}) for a in assignees
            ]
            target = rng.randint(2, 6) - closed
            while len(events) < target:
                first, second = sorted([between(), between()])
                if target - len(events) == 1:
                    labels.append("triaged")
                    events.append(self._event("LabeledEvent", first, owner, label={"name": "triaged"}))
                elif rng.random() < 0.4:
                    events.append(self._event("ClosedEvent", first, owner, closer=None))
                    events.append(self._event("ReopenedEvent", second, reporter))
                elif rng.random() < 0.5:
                    events.append(self._event("LabeledEvent", first, owner, label={"name": "needs-triage"}))
                    events.append(
                        self._event("UnlabeledEvent", second, owner, label={"name": "needs-triage"})
                    )
                else:
                    who = rng.choice(USERS)
                    events.append(self._event("AssignedEvent", first, reporter, assignee={"login": who}))
                    events.append(self._event("UnassignedEvent", second, reporter, assignee={"login": who}))
            if closed:
                closer = None
                if reason == "COMPLETED" and self.pull_requests and rng.random() < 0.4:
                    closer = {"__typename": "PullRequest", "number": rng.randint(1, len(self.pull_requests))}
                elif reason == "COMPLETED" and rng.random() < 0.3:
                    closer = {"__typename": "Commit", "oid": self._oid()}
                events.append(self._event("ClosedEvent", end, owner, closer=closer))
            events.sort(key=lambda e: e["createdAt"])
            node = {
                "number": number,
                "databaseId": next(self._ids),
                "title": f"{rng.choice(NOUNS).capitalize()} {rng.choice(PROBLEMS)}",
                "url": f"{WEB}/{self.owner}/{self.name}/issues/{number}",
                "state": "CLOSED" if closed else "OPEN",
                "stateReason": reason,
                "createdAt": iso(created),
                "updatedAt": iso(end + timedelta(minutes=rng.randint(0, 120))),
                "closedAt": iso(end) if closed else None,
                "author": actor(reporter),
                "assignees": {"nodes": [{"login": a} for a in assignees[:5]]},
                "labels": {"nodes": [{"name": label} for label in labels[:20]]},
                "milestone": {"title": f"v1.{rng.randint(0, 9)}"} if rng.random() < 0.3 else None,
                "timelineItems": {"nodes": events[:50]},
            }
            self.issues[number] = node
            self._indexes.clear()
            return node

    def add_deployment(self, created: datetime | None = None) -> dict:
        with self.lock:
            rng, created = self.rng, self._when(created)
            database_id = next(self._ids)
            updated = created + timedelta(minutes=rng.randint(1, 30))
            roll = rng.random()
            node = {
                "databaseId": database_id,
                "environment": "production" if rng.random() < 0.6 else "staging",
                "createdAt": iso(created),
                "updatedAt": iso(updated),
                "commitOid": self._oid(),
                "ref": {
                    "name": "main" if rng.random() < 0.85 else f"hotfix/{rng.choice(NOUNS).replace(' ', '-')}"
                },
                "creator": actor("github-actions", True) if rng.random() < 0.15 else actor(rng.choice(USERS)),
                "latestStatus": {
                    "state": "SUCCESS" if roll < 0.8 else ("FAILURE" if roll < 0.95 else "IN_PROGRESS"),
                    "createdAt": iso(updated),
                    "logUrl": f"{WEB}/{self.owner}/{self.name}/deployments/{database_id}/log",
                },
            }
            self.deployments.append(node)
            self._indexes.clear()
            return node

    def add_run(self, created: datetime | None = None) -> dict:
        """A workflow run in the REST shape."""
        with self.lock:
            rng, created = self.rng, self._when(created)
            run_id = 7_000_000_000 + len(self.runs) + 1
            deploy = rng.random() < 0.3
            done = rng.random() < 0.95
            bot = rng.random() < 0.05
            run = {
                "id": run_id,
                "name": "Deploy production" if deploy else "CI",
                "head_branch": "main"
                if deploy or rng.random() < 0.5
                else f"feature/{rng.choice(NOUNS).replace(' ', '-')}",  # fmt: skip
                "head_sha": self._oid(),
                "status": "completed" if done else "in_progress",
                "conclusion": ("success" if rng.random() < 0.85 else "failure") if done else None,
                "event": "push" if deploy else rng.choice(["push", "pull_request"]),
                "html_url": f"{WEB}/{self.owner}/{self.name}/actions/runs/{run_id}",
                "created_at": iso(created),
                "updated_at": iso(created + timedelta(seconds=rng.randint(30, 1800))),
                "run_started_at": iso(created + timedelta(seconds=rng.randint(1, 20))),
                "actor": {"login": f"{BOT}[bot]", "type": "Bot"}
                if bot
                else {"login": rng.choice(USERS), "type": "User"},  # fmt: skip
            }
            bisect.insort(self.runs, run, key=lambda r: (r["created_at"], r["id"]))
            return run

    def touch(self, fraction: float, now: datetime) -> int:
        """Changes a deterministic ``fraction`` of pull requests (new title suffix, updatedAt=now, one
        more review) and of issues (title, updatedAt=now, a LabeledEvent "triaged"); returns how many
        records changed. Which ones: ``last_touched``."""
        with self.lock:
            self._touches += 1
            rng = random.Random(f"{self.seed}:touch:{self._touches}")
            stamp, suffix = iso(now), f" [edit {self._touches}]"
            share = max(0.0, min(1.0, fraction))
            prs = rng.sample(sorted(self.pull_requests), round(share * len(self.pull_requests)))
            issues = rng.sample(sorted(self.issues), round(share * len(self.issues)))
            for number in prs:
                node = dict(self.pull_requests[number])
                node["title"] = node["title"].split(" [edit ")[0] + suffix
                node["updatedAt"] = stamp
                reviews = [*self.all_reviews[number], self._review(rng, node["author"]["login"], now)]
                self.all_reviews[number] = reviews
                node["reviews"] = review_connection(reviews)
                self.pull_requests[number] = node
            for number in issues:
                node = dict(self.issues[number])
                node["title"] = node["title"].split(" [edit ")[0] + suffix
                node["updatedAt"] = stamp
                event = self._event("LabeledEvent", now, rng.choice(USERS), label={"name": "triaged"})
                node["timelineItems"] = {"nodes": [*node["timelineItems"]["nodes"], event][:50]}
                if all(label["name"] != "triaged" for label in node["labels"]["nodes"]):
                    node["labels"] = {"nodes": [*node["labels"]["nodes"], {"name": "triaged"}][:20]}
                self.issues[number] = node
            self._indexes.clear()
            self.last_touched = {"prs": sorted(prs), "issues": sorted(issues)}
            return len(prs) + len(issues)

    # -- reading -------------------------------------------------------------------------------

    def index(self, kind: str) -> tuple[list, list]:
        """(sort keys ascending, nodes in that order) for "prs" and "issues" by (updatedAt, number),
        "deployments" by (createdAt, databaseId). Rebuilt after a change."""
        with self.lock:
            if kind not in self._indexes:
                if kind == "deployments":
                    pairs = [((n["createdAt"], n["databaseId"]), n) for n in self.deployments]
                else:
                    source = self.pull_requests if kind == "prs" else self.issues
                    pairs = [((n["updatedAt"], n["number"]), n) for n in source.values()]
                pairs.sort(key=lambda p: p[0])
                self._indexes[kind] = ([k for k, _ in pairs], [n for _, n in pairs])
            return self._indexes[kind]


def page_descending(keys: list, nodes: list, after: tuple | None, size: int) -> tuple[list, dict]:
    end = len(keys) if after is None else bisect.bisect_left(keys, after)
    begin = max(0, end - size)
    chunk = nodes[begin:end][::-1]
    return chunk, {"hasNextPage": begin > 0, "endCursor": encode_cursor(*keys[begin]) if chunk else None}


def page_ascending(keys: list, nodes: list, floor: int, after: tuple | None, size: int) -> tuple[list, dict]:
    begin = floor if after is None else max(floor, bisect.bisect_right(keys, after))
    chunk = nodes[begin : begin + size]
    last = begin + len(chunk) - 1
    return chunk, {
        "hasNextPage": last + 1 < len(nodes),
        "endCursor": encode_cursor(*keys[last]) if chunk else None,
    }


def _bound(text: str, upper: bool) -> str:
    """One side of a search date ("2025-01-01" or a date-time) as a comparable ISO string."""
    if text in ("", "*"):
        return "9999" if upper else ""
    if len(text) == 10:
        return text + ("T23:59:59Z" if upper else "T00:00:00Z")
    return normalize(text)


def _shift(text: str, seconds: int) -> str:
    return iso(datetime.fromisoformat(text.replace("Z", "+00:00")) + timedelta(seconds=seconds))


def created_range(text: str) -> tuple[str, str]:
    """GitHub's ``created`` search syntax as inclusive (low, high) ISO strings."""
    text = text.strip()
    if ".." in text:
        low, high = text.split("..", 1)
        return _bound(low, False), _bound(high, True)
    if text.startswith(">="):
        return _bound(text[2:], False), "9999"
    if text.startswith("<="):
        return "", _bound(text[2:], True)
    if text.startswith(">"):
        return _shift(_bound(text[1:], True), 1), "9999"
    if text.startswith("<"):
        return "", _shift(_bound(text[1:], False), -1)
    return _bound(text, False), _bound(text, True)


class FakeGitHub(FakeServer):
    """The fake server over a ``GeneratedProject``. ``rate_limit`` is the budget per window for each
    resource (core, graphql); when a window is used up a new one starts (a real limit is only ever
    signalled by an injected fault)."""

    def __init__(self, project: GeneratedProject, token: str = "test-token", rate_limit: int = 5000) -> None:  # noqa: S107
        self.project, self.token, self.rate_limit = project, token, rate_limit
        super().__init__()
        self._remaining = {"core": rate_limit, "graphql": rate_limit}
        self._reset = {"core": int(time.time()) + 3600, "graphql": int(time.time()) + 3600}

    # -- inspection and faults -----------------------------------------------------------------

    def request_count(self, status: int | None = None, operation: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (status is None or r["status"] == status)
                and (operation is None or r["operation"] == operation)
            )

    def remaining(self, resource: str = "graphql") -> int:
        with self._lock:
            return self._remaining[resource]

    def fail_next(self, kind: str, times: int = 1, on: str | None = None) -> None:
        """The next ``times`` matching requests fail as ``kind`` (FAULT_KINDS); ``on`` limits it to a
        GraphQL operationName or a REST path prefix (with or without "/api/v3")."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        with self._lock:
            self._faults.append([kind, times, on])

    def _take_fault(self, operation: str | None, path: str) -> str | None:
        rest = path.removeprefix("/api/v3")
        with self._lock:
            for fault in self._faults:
                kind, _, on = fault
                if on is None or on == operation or (operation is None and (path.startswith(on) or rest.startswith(on))):  # fmt: skip
                    fault[1] -= 1
                    if fault[1] <= 0:
                        self._faults.remove(fault)
                    return kind
        return None

    def _spend(self, resource: str) -> None:
        with self._lock:
            self._remaining[resource] -= 1
            if self._remaining[resource] <= 0:  # a new window rather than a real limit
                self._remaining[resource] = self.rate_limit
                self._reset[resource] = int(time.time()) + 3600

    # -- requests ------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        """(status, headers, body) for one request; the HTTP handler only moves bytes."""
        split = urlsplit(target)
        path, query = split.path, dict(parse_qsl(split.query))
        resource = "graphql" if path == "/api/graphql" else "core"
        request, operation = None, None
        if resource == "graphql" and method == "POST":
            try:
                request = json.loads(body or b"null")
            except ValueError:
                request = None
            operation = request.get("operationName") if isinstance(request, dict) else None
        extra: dict[str, str] = {}
        content_type = "application/json; charset=utf-8"
        authorized = (headers.get("Authorization") or "") in (f"Bearer {self.token}", f"token {self.token}")
        fault = self._take_fault(operation, path) if authorized else None
        exhausted = fault in ("rate_limit", "graphql_rate_limited", "graphql_rate_limit_new")
        if authorized and not exhausted and resource == "graphql":
            self._spend(resource)  # before the body, whose rateLimit shows what is left
        message = "API rate limit exceeded for user ID 1."
        if not authorized:
            status, payload = 401, {"message": "Bad credentials", "documentation_url": DOCS}
        elif fault == "rate_limit":
            status, payload = 403, {"message": message, "documentation_url": DOCS + "/overview/rate-limits-for-the-rest-api"}  # fmt: skip
        elif fault == "graphql_rate_limited":
            status, payload = 200, {"errors": [{"type": "RATE_LIMITED", "message": message}]}
        elif fault == "graphql_rate_limit_new":  # the newer wording (githubkit issue #271)
            status, payload = 200, {"errors": [{"type": "RATE_LIMIT", "code": "graphql_rate_limit", "message": "API rate limit already exceeded for user ID 1."}]}  # fmt: skip
        elif fault == "502":
            status, payload = 502, {"message": "Server Error"}
        elif fault == "secondary":
            extra["Retry-After"] = "1"
            status, payload = 429, {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": DOCS}  # fmt: skip
        elif fault == "malformed":
            status, payload, content_type = 200, b"<html>oops</html>", "text/html; charset=utf-8"
        elif fault == "redirect_other_host":
            extra["Location"] = "http://169.254.169.254/latest"
            status, payload = 301, {"message": "Moved Permanently", "url": extra["Location"], "documentation_url": DOCS}  # fmt: skip
        elif resource == "graphql":
            status, payload = self._graphql(request, method, bad_field=fault == "bad_field")
        else:
            status, payload, extra = self._rest(method, path, query, bad_field=fault == "bad_field")
        data = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        if (
            resource == "core"
            and method == "GET"
            and status == 200
            and content_type.startswith("application/json")
        ):
            etag = '"' + hashlib.sha256(data).hexdigest() + '"'
            extra["ETag"] = etag
            wanted = [tag.strip() for tag in (headers.get("If-None-Match") or "").split(",")]
            if etag in wanted or "*" in wanted:
                status, data = 304, b""  # costs no rate limit
        if authorized and not exhausted and resource == "core" and status != 304:
            self._spend(resource)
        with self._lock:
            remaining = 0 if exhausted else self._remaining[resource]
            reset = int(time.time()) + 1 if exhausted else self._reset[resource]
            self.requests.append({"method": method, "path": path, "operation": operation, "status": status})
        out = {
            "Content-Type": content_type,
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-used": str(self.rate_limit - remaining),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": resource,
            **extra,
        }
        return status, out, data

    def _rate_block(self) -> dict:
        with self._lock:
            reset = datetime.fromtimestamp(self._reset["graphql"], UTC)
            return {"cost": 1, "remaining": self._remaining["graphql"], "resetAt": iso(reset)}

    def _graphql(self, request, method: str, *, bad_field: bool) -> tuple[int, dict]:
        if method != "POST":
            return 404, {"message": "Not Found", "documentation_url": DOCS}
        if not isinstance(request, dict):
            return 400, {"message": "Problems parsing JSON", "documentation_url": DOCS}
        project, operation = self.project, request.get("operationName")
        variables = request.get("variables") or {}

        def error(kind: str, message: str, path: list, data: dict | None = None) -> tuple[int, dict]:
            problem = {
                "type": kind,
                "path": path,
                "locations": [{"line": 3, "column": 3}],
                "message": message,
            }
            return 200, {"data": {"repository": data, "rateLimit": self._rate_block()}, "errors": [problem]}

        owner, name = str(variables.get("owner", "")), str(variables.get("name", ""))
        if (owner.lower(), name.lower()) != (project.owner.lower(), project.name.lower()):
            return error("NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'.", ["repository"])  # fmt: skip
        if operation not in ("PullRequests", "Issues", "Deployments", "PullRequestReviews"):
            return 200, {"errors": [{"message": f"The fake does not know the operation {operation!r}."}]}
        size = PAGE_LIMIT if operation == "PullRequestReviews" else variables.get("pageSize")
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= PAGE_LIMIT:
            return error("EXCESSIVE_PAGINATION", f"Requesting {size} records exceeds the `first` limit of 100 records.", ["repository"])  # fmt: skip
        try:
            after = decode_cursor(variables["cursor"]) if variables.get("cursor") else None
        except ValueError:
            return error("INVALID_CURSOR_ARGUMENTS", "`$cursor` does not appear to be a valid cursor.", ["repository"])  # fmt: skip
        key = "number"
        with project.lock:
            if operation == "PullRequests":
                nodes, info = page_descending(*project.index("prs"), after, size)
                field = "pullRequests"
            elif operation == "Deployments":
                nodes, info = page_descending(*project.index("deployments"), after, size)
                field, key = "deployments", "databaseId"
            elif operation == "Issues":
                keys, everything = project.index("issues")
                try:
                    since = normalize(variables["since"]) if variables.get("since") else None
                except (ValueError, TypeError, AttributeError):
                    return error("INVALID_ARGUMENT", "`$since` is not a DateTime.", ["repository", "issues"])
                floor = 0 if since is None else bisect.bisect_left(keys, (since,))
                nodes, info = page_ascending(keys, everything, floor, after, size)
                field = "issues"
            else:
                number = variables.get("number")
                if number not in project.all_reviews:
                    return error("NOT_FOUND", f"Could not resolve to a PullRequest with the number of {number}.", ["repository", "pullRequest"], {"pullRequest": None})  # fmt: skip
                reviews = project.all_reviews[number]
                begin = after[0] if after else 0
                if not isinstance(begin, int):
                    return error("INVALID_CURSOR_ARGUMENTS", "`$cursor` does not appear to be a valid cursor.", ["repository", "pullRequest", "reviews"])  # fmt: skip
                nodes = reviews[begin : begin + size]
                end = begin + len(nodes)
                info = {"hasNextPage": end < len(reviews), "endCursor": encode_cursor(end) if nodes else None}
                field, key = "reviews", "databaseId"
        if bad_field and nodes:
            nodes[0] = {**nodes[0], key: "x"}
        connection = {"pageInfo": info, "nodes": nodes}
        repository = {"pullRequest": {"reviews": connection}} if field == "reviews" else {field: connection}
        return 200, {"data": {"repository": repository, "rateLimit": self._rate_block()}}

    def _rest(self, method: str, path: str, query: dict, *, bad_field: bool) -> tuple[int, object, dict]:
        project = self.project
        parts = path.removeprefix("/api/v3").strip("/").split("/")
        not_found = 404, {"message": "Not Found", "documentation_url": DOCS}, {}
        if (
            method != "GET"
            or not path.startswith("/api/v3/")
            or len(parts) < 4
            or parts[0] != "repos"
            or (parts[1].lower(), parts[2].lower()) != (project.owner.lower(), project.name.lower())
        ):
            return not_found
        route = parts[3:]
        with project.lock:
            if route == ["actions", "runs"]:
                runs = project.runs[::-1]
                filtered = False
                if query.get("created"):
                    try:
                        low, high = created_range(query["created"])
                    except ValueError:
                        return 422, {"message": "Validation Failed", "documentation_url": DOCS}, {}
                    runs = [r for r in runs if low <= r["created_at"] <= high]
                    filtered = True
                for param, attr in (("branch", "head_branch"), ("event", "event"), ("head_sha", "head_sha")):
                    if query.get(param):
                        runs, filtered = [r for r in runs if r[attr] == query[param]], True
                if query.get("status"):
                    runs = [r for r in runs if query["status"] in (r["status"], r["conclusion"])]
                    filtered = True
                total = len(runs)
                items, link = self._paginate(path, query, runs[:RUN_SEARCH_CAP] if filtered else runs)
                if bad_field and items:
                    items[0] = {**items[0], "id": "x"}
                return 200, {"total_count": total, "workflow_runs": items}, link
            if route == ["pulls"]:  # newest first, like GitHub's default sort
                state = query.get("state", "open")
                chosen = [
                    n
                    for n in reversed(project.pull_requests.values())  # dict order is by number
                    if state == "all" or (state == "open") == (n["state"] == "OPEN")
                ]
                key, convert = "number", self._rest_pull
            elif len(route) == 3 and route[0] == "pulls" and route[2] in ("reviews", "commits"):
                number = int(route[1]) if route[1].isdigit() else None
                if number not in project.pull_requests:
                    return not_found
                if route[2] == "reviews":
                    chosen, key, convert = project.all_reviews[number], "id", self._rest_review
                else:
                    chosen, key, convert = (
                        project.pull_requests[number]["commits"]["nodes"],
                        "sha",
                        self._rest_commit,
                    )
            else:
                return not_found
            page, link = self._paginate(path, query, chosen)
        items = [convert(node) for node in page]
        if bad_field and items:
            items[0] = {**items[0], key: "x"}
        return 200, items, link

    @classmethod
    def _rest_pull(cls, n: dict) -> dict:
        return {
            "number": n["number"],
            "title": n["title"],
            "state": "open" if n["state"] == "OPEN" else "closed",
            "created_at": n["createdAt"],
            "updated_at": n["updatedAt"],
            "merged_at": n["mergedAt"],
            "user": cls._rest_user(n["author"]),
        }

    @classmethod
    def _rest_review(cls, r: dict) -> dict:
        return {"id": r["databaseId"], "user": cls._rest_user(r["author"]), "state": r["state"], "submitted_at": r["submittedAt"]}  # fmt: skip

    @staticmethod
    def _rest_commit(c: dict) -> dict:
        commit = c["commit"]
        return {
            "sha": commit["oid"],
            "commit": {"author": {"email": commit["author"]["email"], "date": commit["authoredDate"]}},
            "author": commit["author"]["user"],
        }

    @staticmethod
    def _rest_user(author: dict | None) -> dict | None:
        if author is None:
            return None
        bot = author["__typename"] == "Bot"
        return {"login": author["login"] + ("[bot]" if bot else ""), "type": "Bot" if bot else "User"}

    def _paginate(self, path: str, query: dict, rows: list) -> tuple[list, dict]:
        """One page of ``rows`` and the Link header (absolute URLs) GitHub would send with it."""
        try:
            per_page = max(1, min(100, int(query.get("per_page", 30))))
            page = max(1, int(query.get("page", 1)))
        except ValueError:
            per_page, page = 30, 1
        last = max(1, -(-len(rows) // per_page))
        links = []

        def url(number: int) -> str:
            return f"{self.base_url}{path}?{urlencode({**query, 'per_page': per_page, 'page': number})}"

        if page > 1:
            links += [f'<{url(min(page - 1, last))}>; rel="prev"']
        if page < last:
            links += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            links += [f'<{url(1)}>; rel="first"']
        return rows[(page - 1) * per_page : page * per_page], ({"Link": ", ".join(links)} if links else {})
