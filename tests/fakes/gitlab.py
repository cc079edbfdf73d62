"""A local fake of a GitLab server for tests and benchmarks (standard library only).

GraphQL at ``POST /api/graphql`` answers the connector's operations (by ``operationName``; the
query text is not parsed) in the shapes of ``partnerscope/evidence/connectors/gitlab/queries.py``:
MergeRequests and Issues (oldest update first from ``updatedAfter``, keyset cursors),
MergeRequestCommits and MergeRequestNotes (the rest of a long list). REST under ``/api/v4`` serves
a project's merge requests (``iids[]``) with each one's notes, commits and approvals, its issues
with each one's notes and resource state, label and milestone events, its deployments and
pipelines, with GitLab's offset paging headers (what ``glab api --paginate`` saves, and what a
client without GraphQL asks for). Data comes from ``GeneratedGitLabProject``: deterministic, held
as ready-made node dicts (changes replace a node, never mutate it). Faults are injected with
``FakeGitLab.fail_next``.
"""

from __future__ import annotations

import base64
import bisect
import email.utils
import itertools
import json
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from tests.fakes.server import FakeServer

USERS = ["ana-alpha", "ben-beta", "ida-inhouse", "zoe-unknown"]
BOT = "project_42_bot_5d1e2a"  # a project access token's user: GraphQL flags it, REST does not
EMAILS = {"ana-alpha": "ana@alpha.test", "ben-beta": "ben@beta.test", "ida-inhouse": "ida@acme.test", "zoe-unknown": "zoe@example.com", BOT: "project42_bot@noreply.gitlab.example.com"}  # fmt: skip
WEB = "https://gitlab.example.com"  # the web URLs in the data (the API's own host is 127.0.0.1)
PAGE_LIMIT = 100  # GitLab's max_page_size for GraphQL connections and REST per_page
MILESTONE_BASE = 7000  # milestone n's global id is 7000 + n
FAULT_KINDS = ("502", "rate_limit", "malformed", "bad_field", "redirect_other_host", "graphql_error")
GRAPHQL_OPERATIONS = ("MergeRequests", "MergeRequestCommits", "MergeRequestNotes", "Issues")
NOUNS = ["billing export", "login form", "search index", "audit log", "invoice PDF", "rate limiter", "CSV import", "user settings"]  # fmt: skip
VERBS = ["Add", "Fix", "Refactor", "Update", "Remove", "Speed up"]
PROBLEMS = ["fails on Safari", "is slow", "shows wrong totals", "times out", "loses data"]


def iso(moment: datetime) -> str:
    """GraphQL's Time: whole seconds in UTC."""
    return moment.astimezone(UTC).isoformat()[:19] + "Z"


def iso_ms(moment: datetime) -> str:
    """REST's times: milliseconds in UTC ("2016-08-11T07:38:12.414Z")."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse(text: str) -> datetime:
    moment = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def user(username: str, bot: bool = False) -> dict:
    return {"username": username, "bot": bot}


def rest_user(username: str) -> dict:
    return {"id": 1000 + sum(map(ord, username)), "username": username, "name": username.title(), "state": "active"}  # fmt: skip


def encode_cursor(position: dict) -> str:
    return base64.b64encode(json.dumps(position).encode()).decode()


def decode_cursor(text) -> dict:
    """GitLab's keyset cursor, base64 JSON; ValueError if it is not one of ours."""
    try:
        position = json.loads(base64.b64decode(str(text), validate=True))
    except (ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, dict):
        raise ValueError(text)
    return position


def connection(nodes: list, begin: int, size: int = PAGE_LIMIT) -> dict:
    """A nested connection (a merge request's commits or notes) from offset ``begin``."""
    shown = nodes[begin : begin + size]
    end = begin + len(shown)
    return {
        "pageInfo": {
            "hasNextPage": end < len(nodes),
            "endCursor": encode_cursor({"offset": end}) if shown else None,
        },  # fmt: skip
        "nodes": shown,
    }


class GeneratedGitLabProject:
    """A project's merge requests, issues, deployments and pipelines, generated from a seed."""

    def __init__(
        self,
        mrs: int,
        issues: int,
        deployments: int = 0,
        pipelines: int = 0,
        seed: int = 1,
        path: str = "acme/platform/shop",
        commits_per_mr: int = 4,
        notes_per_mr: int = 4,
        start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    ) -> None:
        self.path, self.seed, self.start = path, seed, start
        self.id = 4242
        self.commits_per_mr, self.notes_per_mr = commits_per_mr, notes_per_mr
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.merge_requests: dict[int, dict] = {}  # iid -> GraphQL node without commits and notes
        self.commits: dict[int, list[dict]] = {}  # iid -> every commit, newest first (as GitLab)
        self.notes: dict[int, list[dict]] = {}  # iid -> every note, oldest first
        self.mr_shas: dict[int, dict] = {}  # iid -> REST's merge_commit_sha, squash_commit_sha, sha
        self.issues: dict[int, dict] = {}  # iid -> GraphQL node with its notes
        # iid -> REST resource state events and resource label events, oldest first (since GitLab
        # 13.x a close, a reopen or a label change is one of these, not a note).
        self.state_events: dict[int, list[dict]] = {}
        self.label_events: dict[int, list[dict]] = {}
        # iid -> REST resource milestone events, oldest first: when it joined or left a milestone.
        self.milestone_events: dict[int, list[dict]] = {}
        # Two-week milestones over the year, with dates (sprints for predictability); those
        # ending before the last fortnight of the year are closed.
        self.milestones = []
        for n in range(1, 28):
            begin, due = start + timedelta(days=14 * (n - 1)), start + timedelta(days=14 * (n - 1) + 13)
            closed = due + timedelta(days=1) <= start + timedelta(days=350)
            self.milestones.append({"id": f"gid://gitlab/Milestone/{MILESTONE_BASE + n}", "title": f"Sprint {n}",
                                    "startDate": iso(begin), "dueDate": iso(due),
                                    "state": "closed" if closed else "active"})  # fmt: skip
        self.deployments: list[dict] = []  # REST items
        self.pipelines: list[dict] = []  # REST items
        self.last_touched: dict[str, list[int]] = {"mrs": [], "issues": []}
        self._ids = itertools.count(500_001)
        self._event_ids = itertools.count(900_001)
        self._touches = 0
        self._indexes: dict[str, tuple[list, list]] = {}
        self._latest = start
        span = timedelta(days=365)
        for i in range(mrs):
            self.add_mr(start + span * i / mrs + timedelta(minutes=self.rng.randint(0, 600)))
        for i in range(issues):
            self.add_issue(start + span * i / issues + timedelta(minutes=self.rng.randint(0, 600)))
        for i in range(deployments):
            self.add_deployment(start + span * i / deployments + timedelta(minutes=self.rng.randint(0, 60)))
        for i in range(pipelines):
            self.add_pipeline(start + span * i / pipelines + timedelta(seconds=self.rng.randint(0, 600)))

    # -- generation ----------------------------------------------------------------------------

    def _sha(self) -> str:
        return f"{self.rng.getrandbits(160):040x}"

    def _when(self, created: datetime | None) -> datetime:
        created = created or self._latest + timedelta(hours=1)
        self._latest = max(self._latest, created)
        return created.replace(microsecond=0)

    def note(self, body: str, author: str, at: datetime, *, system: bool, kind: str = "Note") -> dict:
        bot = author == BOT
        return {"id": f"gid://gitlab/{kind}/{next(self._ids)}", "body": body, "system": system, "createdAt": iso(at), "author": user(author, bot)}  # fmt: skip

    def add_mr(self, created: datetime | None = None) -> dict:
        """A new merge request (the next iid), created at ``created`` or after everything else."""
        with self.lock:
            rng, created = self.rng, self._when(created)
            iid = len(self.merge_requests) + 1
            is_bot = rng.random() < 0.05
            login = BOT if is_bot else rng.choice(USERS)
            roll = rng.random()
            state = "merged" if roll < 0.75 else ("closed" if roll < 0.85 else "opened")
            was_draft = rng.random() < 0.2
            ready = (
                created + timedelta(minutes=rng.randint(30, 2880))
                if was_draft and state != "opened"
                else None
            )
            begin = ready or created
            end = begin + timedelta(minutes=rng.randint(60, 7 * 1440))
            others = [u for u in USERS if u != login]
            commits = []
            for k in range(self.commits_per_mr):
                at = created - timedelta(hours=24) + (end - created + timedelta(hours=24)) * (k + 1) / (self.commits_per_mr + 1)  # fmt: skip
                # Commit dates keep the author's offset; some authors' e-mails match no GitLab user.
                local = at.astimezone(UTC).replace(tzinfo=None, microsecond=0)
                stamp = (local + timedelta(hours=2)).isoformat() + "+02:00"
                linked = rng.random() < 0.85
                commits.append({"sha": self._sha(), "authoredDate": stamp, "authorEmail": EMAILS[login], "author": {"username": login} if linked else None})  # fmt: skip
            commits.reverse()  # newest first, as GitLab lists them
            notes = [self.note("added 1 commit", login, begin + timedelta(minutes=5), system=True)]
            if ready:
                notes.append(self.note("marked this merge request as **ready**", login, ready, system=True))
            for k in range(self.notes_per_mr):
                at = begin + (end - begin) * (k + 1) / (self.notes_per_mr + 2)
                who = rng.choice(others + [login, BOT])
                notes.append(self.note(f"Looks {rng.choice(['good', 'odd', 'slow'])} here", who, at, system=False, kind=rng.choice(["Note", "DiffNote", "DiscussionNote"])))  # fmt: skip
            if state == "merged" or rng.random() < 0.3:
                notes.append(self.note("approved this merge request", rng.choice(others), end - timedelta(minutes=30), system=True))  # fmt: skip
            if rng.random() < 0.15:
                notes.append(self.note("requested changes", rng.choice(others), begin + timedelta(minutes=90), system=True))  # fmt: skip
            notes.sort(key=lambda n: n["createdAt"])
            style = rng.random()
            head = commits[0]["sha"] if commits else self._sha()
            merge_sha = squash_sha = None
            if state == "merged":
                # Merge commits (some squashed too), fast-forward with squash, plain fast-forward.
                if style < 0.6:
                    merge_sha, squash_sha = self._sha(), (self._sha() if style < 0.2 else None)
                elif style < 0.85:
                    squash_sha = self._sha()
            title = (
                f"{rng.choice(VERBS)} {rng.choice(NOUNS)}"
                if not is_bot
                else f"Update dependency {rng.choice(NOUNS)}"
            )
            labels = [rng.choice(["feature", "bug", "backend", "frontend"])] if rng.random() < 0.4 else []
            node = {
                "iid": str(iid),
                "title": title,
                "state": state,
                "draft": state == "opened" and was_draft,
                "createdAt": iso(created),
                "updatedAt": iso(end + timedelta(minutes=rng.randint(0, 120))),
                "mergedAt": iso(end) if state == "merged" else None,
                "closedAt": iso(end) if state == "closed" else None,
                "webUrl": f"{WEB}/{self.path}/-/merge_requests/{iid}",
                "mergeCommitSha": merge_sha,
                "commitCount": len(commits),
                "diffStatsSummary": {
                    "additions": rng.randint(1, 800),
                    "deletions": rng.randint(0, 400),
                    "fileCount": rng.randint(1, 30),
                },
                "author": user(login, is_bot),
                "labels": {"nodes": [{"title": label} for label in labels]},
            }
            self.merge_requests[iid] = node
            self.commits[iid], self.notes[iid] = commits, notes
            self.mr_shas[iid] = {"merge_commit_sha": merge_sha, "squash_commit_sha": squash_sha, "sha": head}
            self._indexes.clear()
            return node

    def add_issue(self, created: datetime | None = None) -> dict:
        """A new issue (the next iid: issues and merge requests have separate sequences on GitLab)."""
        with self.lock:
            rng, created = self.rng, self._when(created)
            iid = len(self.issues) + 1
            reporter = rng.choice(USERS)
            incident = rng.random() < 0.1
            labels = [label for label, chance in (("bug", 0.3), ("priority::high", 0.15), ("workflow::in review", 0.1)) if rng.random() < chance]  # fmt: skip
            if not incident and rng.random() < 0.05:
                labels.append("incident")  # an incident by label rather than by type
            assignees = rng.sample(USERS, rng.choice([0, 1, 1, 2]))
            closed = rng.random() < 0.7
            end = created + timedelta(minutes=rng.randint(60, 30 * 1440))

            def between() -> datetime:
                return (created + (end - created) * rng.uniform(0.05, 0.9)).replace(microsecond=0)

            notes = [self.note(f"assigned to @{a}", reporter, between(), system=True) for a in assignees]
            if rng.random() < 0.3:
                who = rng.choice(USERS)
                first, second = sorted([between(), between()])
                notes += [self.note(f"assigned to @{who}", reporter, first, system=True), self.note(f"unassigned @{who}", reporter, second, system=True)]  # fmt: skip
            if rng.random() < 0.5:
                notes.append(self.note("Can you look at this?", rng.choice(USERS), between(), system=False))
            notes.append(
                self.note("changed the description", reporter, created + timedelta(minutes=2), system=True)
            )
            # Older GitLab wrote closes as notes; newer ones only set closedAt (a resource state event).
            if closed and rng.random() < 0.5:
                via = rng.choice(
                    ["", f" via merge request !{rng.randint(1, 50)}", f" via commit {self._sha()[:8]}"]
                )
                notes.append(self.note(f"closed{via}", assignees[0] if assignees else reporter, end, system=True))  # fmt: skip
            notes.sort(key=lambda n: n["createdAt"])
            node = {
                "id": f"gid://gitlab/Issue/{next(self._ids)}",
                "iid": str(iid),
                "title": f"{rng.choice(NOUNS).capitalize()} {rng.choice(PROBLEMS)}",
                "webUrl": f"{WEB}/{self.path}/-/issues/{iid}",
                "state": "closed" if closed else "opened",
                "type": "INCIDENT" if incident else "ISSUE",
                "createdAt": iso(created),
                "updatedAt": iso(end + timedelta(minutes=rng.randint(0, 120))),
                "closedAt": iso(end) if closed else None,
                "moved": False,
                "author": user(reporter),
                "assignees": {"nodes": [{"username": a} for a in assignees[:5]]},
                "labels": {"nodes": [{"title": label} for label in labels]},
                "milestone": self._milestone_for(created, rng.randint(1, 20)) if rng.random() < 0.4 else None,
                "closedAsDuplicateOf": {"iid": str(max(1, iid - 1))}
                if closed and rng.random() < 0.05
                else None,
                "notes": {"nodes": notes[:PAGE_LIMIT]},
            }
            self.issues[iid] = node
            closed_by_note = any(n["system"] and n["body"].startswith("closed") for n in notes)
            self._resource_events(iid, node, end, reporter, assignees, closed_by_note)
            self._milestone_events(iid, node, reporter)
            self._indexes.clear()
            return node

    def _milestone_running(self, moment: datetime) -> int:
        return max(0, min(len(self.milestones) - 1, (moment - self.start).days // 14))

    def _milestone_for(self, created: datetime, pick: int) -> dict:
        """Half the planned issues go into the milestone running when they were created (after
        its start: not committed to it), half into the next one (before its start)."""
        return self.milestones[min(len(self.milestones) - 1, self._milestone_running(created) + pick % 2)]

    def _milestone_events(self, iid: int, node: dict, reporter: str) -> None:
        """When the issue joined or left milestones, from a generator of its own: most joined
        their milestone when created; some days later; some were planned for the one before and
        moved; some issues without a milestone now were planned for the next one and taken out."""
        rng = random.Random(f"{self.seed}:milestones:{iid}")
        created = parse(node["createdAt"])
        resource_id = int(node["id"].rsplit("/", 1)[-1])
        events = []

        def event(milestone: dict, at: datetime, action: str) -> dict:
            return {"id": next(self._event_ids), "user": rest_user(reporter), "created_at": iso_ms(at),
                    "resource_type": "Issue", "resource_id": resource_id,
                    "milestone": self.rest_milestone(milestone), "action": action}  # fmt: skip

        milestone = node["milestone"]
        roll = rng.random()
        if milestone is not None:
            index = int(milestone["id"].rsplit("/", 1)[-1]) - MILESTONE_BASE - 1
            if roll < 0.15 and index > 0:
                moved = created + timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 600))
                earlier = self.milestones[index - 1]
                events += [event(earlier, created, "add"), event(earlier, moved, "remove"), event(milestone, moved, "add")]  # fmt: skip
            elif roll < 0.3:
                events.append(event(milestone, created + timedelta(days=rng.randint(1, 10)), "add"))
            else:
                events.append(event(milestone, created, "add"))
        elif roll < 0.25:
            planned = self.milestones[min(len(self.milestones) - 1, self._milestone_running(created) + 1)]
            begins = parse(planned["startDate"])
            # Half are taken out before it starts (never committed), half after (committed).
            if rng.random() < 0.5 and begins > created:
                out = created + (begins - created) * rng.uniform(0.1, 0.9)
            else:
                out = max(begins, created) + timedelta(days=rng.randint(1, 10), minutes=rng.randint(0, 600))
            events += [event(planned, created, "add"), event(planned, out, "remove")]
        self.milestone_events[iid] = events

    def rest_milestone(self, milestone: dict) -> dict:
        """A milestone as REST gives it (dates as days)."""
        number = int(milestone["id"].rsplit("/", 1)[-1])
        return {"id": number, "iid": number - MILESTONE_BASE, "project_id": self.id, "title": milestone["title"],
                "description": "", "state": milestone["state"], "created_at": iso_ms(self.start),
                "updated_at": iso_ms(self.start), "due_date": milestone["dueDate"][:10],
                "start_date": milestone["startDate"][:10], "expired": milestone["state"] == "closed",
                "web_url": f"{WEB}/{self.path}/-/milestones/{number - MILESTONE_BASE}"}  # fmt: skip

    def _resource_events(
        self, iid: int, node: dict, end: datetime, reporter: str, assignees: list, closed_by_note: bool
    ) -> None:
        """An issue's state and label events, from a generator of their own (the rest of the project
        does not change with them): its labels added when it was created, sometimes a "needs-info"
        label added and removed, sometimes a close and a reopen before the end, and the close itself
        when no note says it."""
        rng = random.Random(f"{self.seed}:events:{iid}")
        created = parse(node["createdAt"])
        resource_id = int(node["id"].rsplit("/", 1)[-1])
        state, labels = [], []
        for title in (label["title"] for label in node["labels"]["nodes"]):
            labels.append(self.label_event(resource_id, reporter, created, title, "add"))
        if rng.random() < 0.25:
            added = created + (end - created) * rng.uniform(0.05, 0.3)
            removed = created + (end - created) * rng.uniform(0.35, 0.6)
            labels.append(self.label_event(resource_id, reporter, added, "needs-info", "add"))
            labels.append(self.label_event(resource_id, rng.choice(USERS), removed, "needs-info", "remove"))
        closer = assignees[0] if assignees else reporter
        if rng.random() < 0.2:
            closed = created + (end - created) * rng.uniform(0.1, 0.4)
            reopened = closed + (end - closed) * rng.uniform(0.1, 0.5)
            state.append(self.state_event(resource_id, closer, closed, "closed"))
            state.append(self.state_event(resource_id, reporter, reopened, "reopened"))
        if node["state"] == "closed" and not closed_by_note:
            via_commit = f"{rng.getrandbits(160):040x}" if rng.random() < 0.2 else None
            state.append(self.state_event(resource_id, closer, parse(node["closedAt"]), "closed", via_commit))
        self.state_events[iid] = sorted(state, key=lambda e: e["created_at"])
        self.label_events[iid] = sorted(labels, key=lambda e: e["created_at"])

    def state_event(
        self, resource_id: int, who: str, at: datetime, state: str, commit: str | None = None
    ) -> dict:
        return {"id": next(self._event_ids), "user": rest_user(who), "created_at": iso_ms(at), "resource_type": "Issue",
                "resource_id": resource_id, "source_commit": commit, "source_merge_request_id": None, "state": state}  # fmt: skip

    def label_event(self, resource_id: int, who: str, at: datetime, title: str, action: str) -> dict:
        label = {"id": 70 + sum(map(ord, title)) % 50, "name": title, "color": "#428BCA", "description": None,
                 "description_html": "", "text_color": "#FFFFFF"}  # fmt: skip
        return {"id": next(self._event_ids), "user": rest_user(who), "created_at": iso_ms(at), "resource_type": "Issue",
                "resource_id": resource_id, "label": label, "action": action}  # fmt: skip

    def add_deployment(self, created: datetime | None = None) -> dict:
        with self.lock:
            rng, created = self.rng, self._when(created)
            deployment_id = next(self._ids)
            updated = created + timedelta(minutes=rng.randint(1, 30), milliseconds=rng.randint(0, 999))
            roll = rng.random()
            status = "success" if roll < 0.75 else ("failed" if roll < 0.9 else ("running" if roll < 0.95 else "canceled"))  # fmt: skip
            ref = "main" if rng.random() < 0.85 else f"hotfix/{rng.choice(NOUNS).replace(' ', '-')}"
            sha = self._sha()
            who = BOT if rng.random() < 0.1 else rng.choice(USERS)
            pipeline_id = next(self._ids)
            item = {
                "id": deployment_id,
                "iid": len(self.deployments) + 1,
                "ref": ref,
                "sha": sha,
                "created_at": iso_ms(created),
                "updated_at": iso_ms(updated),
                "status": status,
                "user": rest_user(who),
                "environment": {"id": 9 if rng.random() < 0.6 else 10, "name": "production" if rng.random() < 0.6 else "staging"},  # fmt: skip
                "deployable": None if rng.random() < 0.1 else {
                    "id": next(self._ids), "name": "deploy", "stage": "deploy", "status": status, "ref": ref,
                    "created_at": iso_ms(created), "finished_at": iso_ms(updated) if status != "running" else None,
                    "web_url": f"{WEB}/{self.path}/-/jobs/{deployment_id}",
                    "pipeline": {"id": pipeline_id, "ref": ref, "sha": sha, "status": status, "web_url": f"{WEB}/{self.path}/-/pipelines/{pipeline_id}"},
                },
            }  # fmt: skip
            self.deployments.append(item)
            return item

    def add_pipeline(self, created: datetime | None = None) -> dict:
        with self.lock:
            rng, created = self.rng, self._when(created)
            pipeline_id = next(self._ids)
            roll = rng.random()
            status = "success" if roll < 0.75 else ("failed" if roll < 0.9 else rng.choice(["running", "pending", "canceled", "skipped", "manual"]))  # fmt: skip
            item = {
                "id": pipeline_id,
                "iid": len(self.pipelines) + 1,
                "project_id": self.id,
                "status": status,
                "source": rng.choice(["push", "merge_request_event", "schedule"]),
                "ref": rng.choice(
                    ["main", "main", "production", f"feature/{rng.choice(NOUNS).replace(' ', '-')}"]
                ),
                "sha": self._sha(),
                "name": None if rng.random() < 0.5 else "Build pipeline",
                "web_url": f"{WEB}/{self.path}/-/pipelines/{pipeline_id}",
                "created_at": iso_ms(created),
                "updated_at": iso_ms(
                    created + timedelta(seconds=rng.randint(30, 1800), milliseconds=rng.randint(0, 999))
                ),
            }
            self.pipelines.append(item)
            return item

    def touch(self, fraction: float, now: datetime) -> int:
        """Changes a deterministic ``fraction`` of merge requests (new title suffix, updatedAt=now,
        one more approval) and of issues (title, updatedAt=now, one more comment, a label
        "triaged" added by a resource label event); returns how many records changed. Which ones:
        ``last_touched``."""
        with self.lock:
            self._touches += 1
            rng = random.Random(f"{self.seed}:touch:{self._touches}")
            suffix = f" [edit {self._touches}]"
            share = max(0.0, min(1.0, fraction))
            mrs = rng.sample(sorted(self.merge_requests), round(share * len(self.merge_requests)))
            issues = rng.sample(sorted(self.issues), round(share * len(self.issues)))
            for iid in mrs:
                node = dict(self.merge_requests[iid])
                node["title"] = node["title"].split(" [edit ")[0] + suffix
                node["updatedAt"] = iso(now)
                reviewer = rng.choice([u for u in USERS if u != node["author"]["username"]])
                self.notes[iid] = [*self.notes[iid], self.note("approved this merge request", reviewer, now, system=True)]  # fmt: skip
                self.merge_requests[iid] = node
            for iid in issues:
                node = dict(self.issues[iid])
                node["title"] = node["title"].split(" [edit ")[0] + suffix
                node["updatedAt"] = iso(now)
                comment = self.note("Any news?", rng.choice(USERS), now, system=False)
                node["notes"] = {"nodes": [*node["notes"]["nodes"], comment][:PAGE_LIMIT]}
                # Triaged: a label added (a resource label event, not a note).
                titles = [label["title"] for label in node["labels"]["nodes"]]
                if "triaged" not in titles:
                    node["labels"] = {"nodes": [*node["labels"]["nodes"], {"title": "triaged"}]}
                    resource_id = int(node["id"].rsplit("/", 1)[-1])
                    event = self.label_event(resource_id, rng.choice(USERS), now, "triaged", "add")
                    self.label_events[iid] = [*self.label_events[iid], event]
                self.issues[iid] = node
            self._indexes.clear()
            self.last_touched = {"mrs": sorted(mrs), "issues": sorted(issues)}
            return len(mrs) + len(issues)

    # -- reading -------------------------------------------------------------------------------

    def index(self, kind: str) -> tuple[list, list]:
        """(sort keys ascending, nodes in that order) by (updatedAt, iid) for "mrs" and "issues"."""
        with self.lock:
            if kind not in self._indexes:
                source = self.merge_requests if kind == "mrs" else self.issues
                pairs = sorted(
                    (((n["updatedAt"], int(n["iid"])), n) for n in source.values()), key=lambda p: p[0]
                )
                self._indexes[kind] = ([k for k, _ in pairs], [n for _, n in pairs])
            return self._indexes[kind]

    def mr_node(self, node: dict) -> dict:
        """A merge request as the MergeRequests query returns it: the first 100 commits and notes."""
        iid = int(node["iid"])
        return {**node, "commits": connection(self.commits[iid], 0), "notes": connection(self.notes[iid], 0)}

    # -- REST renderings (GitLab's API entities) ------------------------------------------------

    @staticmethod
    def rest_time(text: str | None) -> str | None:
        """A GraphQL time as REST writes it: milliseconds, UTC ("2024-01-15T10:20:30.000Z")."""
        return iso_ms(parse(text)) if text else None

    def rest_mr(self, iid: int) -> dict:
        """A merge request as ``GET /projects/:id/merge_requests`` lists it (no diff stats there)."""
        node, t = self.merge_requests[iid], self.rest_time
        author = rest_user(node["author"]["username"])
        return {
            "id": 155_000_000 + iid, "iid": iid, "project_id": self.id, "title": node["title"], "description": "",
            "state": node["state"], "created_at": t(node["createdAt"]), "updated_at": t(node["updatedAt"]),
            "merged_by": author if node["mergedAt"] else None, "merge_user": author if node["mergedAt"] else None,
            "merged_at": t(node["mergedAt"]), "closed_by": None, "closed_at": t(node["closedAt"]),
            "target_branch": "main", "source_branch": f"feature/mr-{iid}", "user_notes_count": len(self.notes[iid]),
            "upvotes": 0, "downvotes": 0, "author": author, "assignees": [], "assignee": None, "reviewers": [],
            "source_project_id": self.id, "target_project_id": self.id,
            "labels": [label["title"] for label in node["labels"]["nodes"]], "draft": node["draft"],
            "work_in_progress": node["draft"], "milestone": None, "merge_when_pipeline_succeeds": False,
            "merge_status": "can_be_merged", "detailed_merge_status": "mergeable", **self.mr_shas[iid],
            "discussion_locked": None, "should_remove_source_branch": None, "force_remove_source_branch": True,
            "prepared_at": t(node["createdAt"]), "reference": f"!{iid}",
            "references": {"short": f"!{iid}", "relative": f"!{iid}", "full": f"{self.path}!{iid}"},
            "web_url": node["webUrl"], "time_stats": {"time_estimate": 0, "total_time_spent": 0},
            "squash": self.mr_shas[iid]["squash_commit_sha"] is not None, "squash_on_merge": False,
            "task_completion_status": {"count": 0, "completed_count": 0}, "has_conflicts": False,
            "blocking_discussions_resolved": True,
        }  # fmt: skip

    def rest_note(self, note: dict, noteable_type: str, iid: int, noteable_id: int) -> dict:
        kind, number = note["id"].removeprefix("gid://gitlab/").split("/")
        at = self.rest_time(note["createdAt"])
        return {
            "id": int(number), "type": None if kind == "Note" else kind, "body": note["body"], "attachment": None,
            "author": rest_user(note["author"]["username"]), "created_at": at, "updated_at": at,
            "system": note["system"], "noteable_id": noteable_id, "noteable_type": noteable_type,
            "project_id": self.id, "resolvable": kind == "DiffNote", "confidential": False, "internal": False,
            "noteable_iid": iid, "commands_changes": {},
        }  # fmt: skip

    def rest_commit(self, commit: dict) -> dict:
        """A commit as ``/merge_requests/:iid/commits`` lists it: no GitLab username, only names and e-mails."""
        email = commit["authorEmail"]
        name = email.split("@")[0].replace(".", " ").title()
        return {
            "id": commit["sha"], "short_id": commit["sha"][:8], "created_at": commit["authoredDate"], "parent_ids": [],
            "title": "Work in progress", "message": "Work in progress\n", "author_name": name, "author_email": email,
            "authored_date": commit["authoredDate"], "committer_name": name, "committer_email": email,
            "committed_date": commit["authoredDate"], "trailers": {}, "extended_trailers": {},
            "web_url": f"{WEB}/{self.path}/-/commit/{commit['sha']}",
        }  # fmt: skip

    def rest_approvals(self, iid: int) -> dict:
        """``/merge_requests/:iid/approvals``: the merge request's basics and who approved it, when."""
        node = self.merge_requests[iid]
        approved = [n for n in self.notes[iid] if n["system"] and n["body"] == "approved this merge request"]
        return {
            "id": 155_000_000 + iid, "iid": iid, "project_id": self.id, "title": node["title"], "description": "",
            "state": node["state"], "created_at": self.rest_time(node["createdAt"]),
            "updated_at": self.rest_time(node["updatedAt"]), "merge_status": "can_be_merged",
            "approved": bool(approved), "approvals_required": 0, "approvals_left": 0,
            "require_password_to_approve": False,
            "approved_by": [{"user": rest_user(n["author"]["username"]), "approved_at": self.rest_time(n["createdAt"])} for n in approved],
            "suggested_approvers": [], "approvers": [], "approver_groups": [], "user_has_approved": False,
            "user_can_approve": False, "approval_rules_left": [], "has_approval_rules": False,
            "merge_request_approvers_available": False, "multiple_approval_rules_available": False,
            "invalid_approvers_rules": [],
        }  # fmt: skip

    def rest_issue(self, iid: int) -> dict:
        """An issue as ``GET /projects/:id/issues`` lists it."""
        node, t = self.issues[iid], self.rest_time
        assignees = [rest_user(a["username"]) for a in node["assignees"]["nodes"]]
        milestone = node["milestone"]
        duplicate = node["closedAsDuplicateOf"]
        links = {"self": f"{self.base_api}/issues/{iid}", "notes": f"{self.base_api}/issues/{iid}/notes",
                 "award_emoji": f"{self.base_api}/issues/{iid}/award_emoji", "project": self.base_api,
                 "closed_as_duplicate_of": f"{self.base_api}/issues/{duplicate['iid']}" if duplicate else None}  # fmt: skip
        return {
            "id": int(node["id"].rsplit("/", 1)[-1]), "iid": iid, "project_id": self.id, "title": node["title"],
            "description": "", "state": node["state"], "created_at": t(node["createdAt"]),
            "updated_at": t(node["updatedAt"]), "closed_at": t(node["closedAt"]),
            "closed_by": (assignees[0] if assignees else rest_user(node["author"]["username"])) if node["closedAt"] else None,
            "labels": sorted(label["title"] for label in node["labels"]["nodes"]),
            "milestone": self.rest_milestone(milestone) if milestone else None,
            "assignees": assignees, "author": rest_user(node["author"]["username"]), "type": node["type"],
            "assignee": assignees[0] if assignees else None, "user_notes_count": 0, "merge_requests_count": 0,
            "upvotes": 0, "downvotes": 0, "due_date": None, "confidential": False, "discussion_locked": None,
            "issue_type": node["type"].lower(), "web_url": node["webUrl"],
            "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": None, "human_total_time_spent": None},
            "task_completion_status": {"count": 0, "completed_count": 0}, "has_tasks": False, "_links": links,
            "references": {"short": f"#{iid}", "relative": f"#{iid}", "full": f"{self.path}#{iid}"},
            "severity": "UNKNOWN", "moved_to_id": None, "service_desk_reply_to": None,
        }  # fmt: skip

    @property
    def base_api(self) -> str:
        return f"{WEB}/api/v4/projects/{self.id}"


class FakeGitLab(FakeServer):
    """The fake server over a ``GeneratedGitLabProject``. ``rate_limit`` is the budget per window;
    when a window is used up a new one starts (a real limit is only ever an injected fault)."""

    def __init__(
        self,
        project: GeneratedGitLabProject,
        token: str = "test-token",  # noqa: S107 - the fake's own
        rate_limit: int = 2000,
    ) -> None:
        self.project, self.token, self.rate_limit = project, token, rate_limit
        super().__init__()
        self._remaining = rate_limit
        self._reset = int(time.time()) + 60

    # -- inspection and faults -----------------------------------------------------------------

    def request_count(self, status: int | None = None, operation: str | None = None) -> int:
        """Requests answered, by status and by operation: a GraphQL operationName, or the REST
        resource ("merge_requests", "deployments", "pipelines")."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (status is None or r["status"] == status)
                and (operation is None or r["operation"] == operation)
            )

    def fail_next(self, kind: str, times: int = 1, on: str | None = None) -> None:
        """The next ``times`` matching requests fail as ``kind`` (FAULT_KINDS); ``on`` limits it to a
        GraphQL operationName or a REST resource ("deployments")."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {FAULT_KINDS}")
        with self._lock:
            self._faults.append([kind, times, on])

    def _take_fault(self, operation: str | None) -> str | None:
        with self._lock:
            for fault in self._faults:
                kind, _, on = fault
                if on is None or on == operation:
                    fault[1] -= 1
                    if fault[1] <= 0:
                        self._faults.remove(fault)
                    return kind
        return None

    def _budget(self, spent: bool) -> dict:
        """GitLab.com's RateLimit-* headers, sent on ordinary answers too."""
        with self._lock:
            if spent:
                self._remaining -= 1
                if self._remaining <= 0:
                    self._remaining, self._reset = self.rate_limit, int(time.time()) + 60
            return {
                "RateLimit-Limit": str(self.rate_limit),
                "RateLimit-Observed": str(self.rate_limit - self._remaining),
                "RateLimit-Remaining": str(self._remaining),
                "RateLimit-Reset": str(self._reset),
            }

    # -- requests ------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        """(status, headers, body) for one request; the HTTP handler only moves bytes."""
        split = urlsplit(target)
        path, query = (
            split.path,
            {k: v if k.endswith("[]") else v[-1] for k, v in parse_qs(split.query).items()},
        )
        request, operation = None, None
        if path == "/api/graphql" and method == "POST":
            try:
                request = json.loads(body or b"null")
            except ValueError:
                request = None
            operation = request.get("operationName") if isinstance(request, dict) else None
        elif path.startswith("/api/v4/projects/"):
            operation = path.rstrip("/").rsplit("/", 1)[-1]
        token = headers.get("PRIVATE-TOKEN") or (headers.get("Authorization") or "").removeprefix("Bearer ")
        authorized = token == self.token
        fault = self._take_fault(operation) if authorized else None
        extra: dict[str, str] = {}
        content_type = "application/json"
        if not authorized:
            status, payload = 401, {"message": "401 Unauthorized"}
        elif fault == "rate_limit":
            reset = int(time.time()) + 1
            extra = {
                "RateLimit-Name": "throttle_authenticated_api", "RateLimit-Limit": str(self.rate_limit),
                "RateLimit-Observed": str(self.rate_limit + 1), "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset), "RateLimit-ResetTime": email.utils.formatdate(reset, usegmt=True),
                "Retry-After": "1",
            }  # fmt: skip
            status, payload, content_type = 429, b"Retry later\n", "text/plain"
        elif fault == "502":
            status, payload, content_type = (
                502,
                b"<html><body><h1>502 Bad Gateway</h1></body></html>",
                "text/html",
            )
        elif fault == "malformed":
            status, payload, content_type = 200, b"<html>oops</html>", "text/html; charset=utf-8"
        elif fault == "redirect_other_host":
            extra["Location"] = "http://169.254.169.254/latest"
            status, payload = 301, {"message": "301 Moved Permanently"}
        elif fault == "graphql_error":
            message = "Query has complexity of 301, which exceeds max complexity of 250"
            status, payload = 200, {"errors": [{"message": message}]}
        elif path == "/api/graphql":
            status, payload = self._graphql(request, method, bad_field=fault == "bad_field")
        else:
            status, payload, extra = self._rest(method, path, query, bad_field=fault == "bad_field")
        data = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        budget = self._budget(spent=authorized and status != 429)
        with self._lock:
            self.requests.append({"method": method, "path": path, "operation": operation, "status": status})
        return status, {"Content-Type": content_type, **budget, **extra}, data

    # -- GraphQL -------------------------------------------------------------------------------

    def _graphql(self, request, method: str, *, bad_field: bool) -> tuple[int, dict]:
        if method != "POST":
            return 404, {"message": "404 Not Found"}
        if not isinstance(request, dict):
            return 400, {"errors": [{"message": "Unexpected end of document"}]}
        project, operation = self.project, request.get("operationName")
        variables = request.get("variables") or {}
        if str(variables.get("fullPath", "")).lower() != project.path.lower():
            return 200, {"data": {"project": None}}  # GitLab's answer for a missing or hidden project
        if operation not in GRAPHQL_OPERATIONS:
            return 200, {"errors": [{"message": f"The fake does not know the operation {operation!r}."}]}
        try:
            after = decode_cursor(variables["after"]) if variables.get("after") else None
        except ValueError:
            return 200, {"errors": [{"message": "Please provide a valid cursor", "path": ["project"]}]}
        with project.lock:
            if operation in ("MergeRequestCommits", "MergeRequestNotes"):
                iid = int(variables["iid"]) if str(variables.get("iid", "")).isdigit() else None
                if iid not in project.merge_requests:
                    return 200, {"data": {"project": {"mergeRequest": None}}}
                key = "commits" if operation == "MergeRequestCommits" else "notes"
                nodes = (project.commits if key == "commits" else project.notes)[iid]
                page = connection(nodes, int((after or {}).get("offset", 0)))
                return 200, {"data": {"project": {"mergeRequest": {key: page}}}}
            kind, key = ("mrs", "mergeRequests") if operation == "MergeRequests" else ("issues", "issues")
            keys, everything = project.index(kind)
            try:
                since = iso(parse(variables["updatedAfter"])) if variables.get("updatedAfter") else ""
            except (ValueError, TypeError):
                return 200, {"errors": [{"message": "Argument 'updatedAfter' has an invalid value. Expected type 'Time'."}]}  # fmt: skip
            size = variables.get("pageSize")
            size = min(PAGE_LIMIT, size) if isinstance(size, int) and size > 0 else PAGE_LIMIT
            # updatedAfter is inclusive ("on or after"); GraphQL times are whole seconds.
            begin = bisect.bisect_left(keys, (since,))
            if after is not None:
                begin = max(
                    begin, bisect.bisect_right(keys, (after.get("updated_at", ""), int(after.get("id", 0))))
                )
            chunk = everything[begin : begin + size]
            last = begin + len(chunk) - 1
            nodes = [project.mr_node(n) for n in chunk] if kind == "mrs" else list(chunk)
        if bad_field and nodes:
            nodes[0] = {**nodes[0], "iid": "x"}
        info = {
            "hasNextPage": last + 1 < len(keys),
            "endCursor": encode_cursor({"updated_at": keys[last][0], "id": str(keys[last][1])})
            if chunk
            else None,
        }
        return 200, {"data": {"project": {key: {"pageInfo": info, "nodes": nodes}}}}

    # -- REST ----------------------------------------------------------------------------------

    def _rest(self, method: str, path: str, query: dict, *, bad_field: bool) -> tuple[int, object, dict]:
        project = self.project
        parts = path.removeprefix("/api/v4/").strip("/").split("/")
        if (
            method != "GET"
            or not path.startswith("/api/v4/")
            or len(parts) not in (3, 5)
            or parts[0] != "projects"
        ):
            return 404, {"message": "404 Not found"}, {}
        if unquote(parts[1]).lower() != project.path.lower() and parts[1] != str(project.id):
            return 404, {"message": "404 Project Not Found"}, {}
        resource = parts[2]
        if len(parts) == 5:
            return self._rest_child(path, query, resource, parts[3], parts[4], bad_field=bad_field)
        with project.lock:
            if resource == "issues":
                rows = [project.rest_issue(i) for i in project.issues]
                if query.get("updated_after"):
                    try:
                        low = parse(query["updated_after"])
                    except ValueError:
                        return 400, {"message": "400 Bad request - updated_after is invalid"}, {}
                    rows = [r for r in rows if parse(r["updated_at"]) >= low]
                order = query.get("order_by", "created_at")
                if order not in ("created_at", "updated_at"):
                    return 400, {"error": "order_by does not have a valid value"}, {}
                rows.sort(key=lambda r: (r[order], r["id"]), reverse=query.get("sort", "desc") == "desc")
            elif resource == "merge_requests":
                wanted = {int(i) for i in query.get("iids[]", []) if str(i).isdigit()}
                rows = [
                    project.rest_mr(i) for i in sorted(project.merge_requests) if not wanted or i in wanted
                ]
                if query.get("state") not in (None, "all"):
                    rows = [r for r in rows if r["state"] == query["state"]]
                rows.sort(key=lambda r: r["created_at"], reverse=query.get("sort", "desc") == "desc")
            elif resource in ("deployments", "pipelines"):
                rows = list(project.deployments if resource == "deployments" else project.pipelines)
                filtered = bool(query.get("updated_after") or query.get("updated_before"))
                # GitLab's DeploymentsFinder wants the updated_at filter and sort together.
                if resource == "deployments" and filtered != (query.get("order_by") == "updated_at"):
                    return 400, {"message": "400 Bad request - `updated_at` filter and `updated_at` sorting must be paired"}, {}  # fmt: skip
                if filtered:
                    try:
                        low = parse(query["updated_after"]) if query.get("updated_after") else None
                    except ValueError:
                        return 400, {"message": "400 Bad request - updated_after is invalid"}, {}
                    rows = [r for r in rows if low is None or parse(r["updated_at"]) >= low]
                order = query.get("order_by", "id")
                # Ties in updated_at come newest id first, as GitLab's finder orders them.
                rows.sort(
                    key=lambda r: (r[order], -r["id"]) if order in ("updated_at", "created_at") else r["id"]
                )
                if query.get("sort", "asc" if resource == "deployments" else "desc") == "desc":
                    rows.reverse()
            else:
                return 404, {"message": "404 Not found"}, {}
        page, headers = self._paginate(path, query, rows)
        if bad_field and page:
            page[0] = {**page[0], "id": "x"}
        return 200, page, headers

    def _rest_child(
        self, path: str, query: dict, resource: str, iid: str, child: str, *, bad_field: bool
    ) -> tuple[int, object, dict]:
        """``/merge_requests/:iid/{notes,commits,approvals}`` and
        ``/issues/:iid/{notes,resource_state_events,resource_label_events,resource_milestone_events}``."""
        project = self.project
        number = int(iid) if iid.isdigit() else None
        with project.lock:
            if resource == "merge_requests" and number in project.merge_requests:
                if child == "approvals":
                    return 200, project.rest_approvals(number), {}
                if child == "notes":
                    global_id = 155_000_000 + number
                    rows = [
                        project.rest_note(n, "MergeRequest", number, global_id) for n in project.notes[number]
                    ]
                elif child == "commits":
                    rows = [project.rest_commit(c) for c in project.commits[number]]
                else:
                    return 404, {"message": "404 Not found"}, {}
            elif resource == "issues" and number in project.issues:
                node = project.issues[number]
                if child == "notes":
                    global_id = int(node["id"].rsplit("/", 1)[-1])
                    rows = [project.rest_note(n, "Issue", number, global_id) for n in node["notes"]["nodes"]]
                elif child == "resource_state_events":
                    rows = list(project.state_events[number])
                elif child == "resource_label_events":
                    rows = list(project.label_events[number])
                elif child == "resource_milestone_events":
                    rows = list(project.milestone_events[number])
                else:
                    return 404, {"message": "404 Not found"}, {}
            else:
                return 404, {"message": f"404 {'Merge Request' if resource == 'merge_requests' else 'Issue'} Not Found"}, {}  # fmt: skip
        if child == "notes":  # newest first unless asked otherwise, as GitLab lists notes
            rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=query.get("sort", "desc") == "desc")
        page, headers = self._paginate(path, query, rows)
        if bad_field and page:
            page[0] = {**page[0], "created_at": "yesterday"}
        return 200, page, headers

    def _paginate(self, path: str, query: dict, rows: list) -> tuple[list, dict]:
        """One page of ``rows`` and the headers GitLab sends with it (x-next-page empty on the last)."""
        try:
            per_page = max(1, min(PAGE_LIMIT, int(query.get("per_page", 20))))
            page = max(1, int(query.get("page", 1)))
        except ValueError:
            per_page, page = 20, 1
        pages = max(1, -(-len(rows) // per_page))

        def url(number: int) -> str:
            return f"{self.base_url}{path}?{urlencode({**query, 'page': number, 'per_page': per_page}, doseq=True)}"

        links = [f'<{url(page - 1)}>; rel="prev"'] if page > 1 else []
        links += [f'<{url(page + 1)}>; rel="next"'] if page < pages else []
        links += [f'<{url(1)}>; rel="first"', f'<{url(pages)}>; rel="last"']
        headers = {
            "Link": ", ".join(links),
            "x-next-page": str(page + 1) if page < pages else "",
            "x-page": str(page),
            "x-per-page": str(per_page),
            "x-prev-page": str(page - 1) if page > 1 else "",
            "x-total": str(len(rows)),
            "x-total-pages": str(pages),
        }
        return rows[(page - 1) * per_page : page * per_page], headers
