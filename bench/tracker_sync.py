"""Benchmark: GitHub, GitLab and Jira syncs against the local fake servers, and the
one-request-per-record way of reading the same data.

    python bench/tracker_sync.py [--prs N] [--issues N] [--deployments N] [--runs N]
                                 [--systems github,gitlab,jira]

Each fake server (tests/fakes/github.py, gitlab.py, jira.py, each in a process of its own) serves
a generated project shaped like that system's API, of comparable size: --prs pull requests (GitHub)
and merge requests (GitLab) with 3 reviews and 5 commits each, --issues issues with their
changelogs on all three, --deployments deployments and --runs workflow runs (GitHub) or pipelines
(GitLab). The product's own sync (connectors/<system>, storing into one fresh SQLite database) is
timed for a full sync and for an incremental one after 1 % of the records changed.

In the same run a naive client reads the same records one at a time, which is what tools without
batching do, and the ratio compares like with like:
- GitHub: the pull requests 100 a page, then each one's reviews and commits (a request each),
  against the requests our sync spent on pull requests with their reviews, commits and comments.
- GitLab: the merge requests 100 a page (REST), then each one's notes (comments, and approvals
  with their time) and commits, against the requests our sync spent on merge requests (GraphQL
  pages with commits and notes, and the REST request a page for fast-forward merges). GitLab's
  GraphQL has no issue resource events: our sync reads them with three REST requests (state,
  label and milestone events) per new or changed issue, counted apart
  (``gitlab_*_issue_event_requests``) and in the totals.
- Jira: the issues 100 a page, then each one's changelog, against our whole sync (search pages
  carry the changelog inline).

The last line printed is one JSON object with every figure (the GitHub keys unprefixed, as
before; ``gitlab_*`` and ``jira_*`` for the others). Defaults are small (for `make bench`); the
issue's targets are for --prs 10000 --issues 20000.
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "ghp_bench_token"  # noqa: S105 - the fake servers', not a secret
JIRA_EMAIL = "bench@acme.test"
SYSTEMS = ("github", "gitlab", "jira")
# Per system: the fake's counters of the requests spent on pull/merge requests.
PR_OPERATIONS = {
    "github": ("PullRequests", "PullRequestReviews"),
    "gitlab": ("MergeRequests", "MergeRequestCommits", "MergeRequestNotes", "merge_requests"),
}
ISSUE_EVENT_OPERATIONS = ("resource_state_events", "resource_label_events", "resource_milestone_events")


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _pages(client, url: str):
    while url:
        response = client.get(url)
        response.raise_for_status()
        yield response
        url = response.links.get("next", {}).get("url")


def naive_per_pr(base_url: str, project: str) -> int:
    """GitHub: list pull requests 100 a page, then GET each one's reviews and commits."""
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.github+json"}
    requests, numbers = 0, []
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        for response in _pages(client, f"/api/v3/repos/{project}/pulls?state=all&per_page=100&page=1"):
            requests += 1
            numbers += [pr["number"] for pr in response.json()]
        for number in numbers:
            for part in ("reviews", "commits"):
                client.get(f"/api/v3/repos/{project}/pulls/{number}/{part}?per_page=100").raise_for_status()
                requests += 1
    return requests


def naive_per_mr(base_url: str, project_id: int) -> int:
    """GitLab: list merge requests 100 a page (REST), then GET each one's notes and commits."""
    import httpx

    requests, iids = 0, []
    prefix = f"/api/v4/projects/{project_id}"
    with httpx.Client(base_url=base_url, headers={"PRIVATE-TOKEN": TOKEN}, timeout=30) as client:
        for response in _pages(client, f"{prefix}/merge_requests?state=all&per_page=100"):
            requests += 1
            iids += [mr["iid"] for mr in response.json()]
        for iid in iids:
            for part in ("notes", "commits"):
                for _ in _pages(client, f"{prefix}/merge_requests/{iid}/{part}?per_page=100"):
                    requests += 1
    return requests


def naive_per_issue(base_url: str, key: str) -> int:
    """Jira Cloud: search issues 100 a page without changelogs, then GET each one's changelog."""
    import base64

    import httpx

    auth = "Basic " + base64.b64encode(f"{JIRA_EMAIL}:{TOKEN}".encode()).decode()
    requests, keys, token = 0, [], None
    with httpx.Client(base_url=base_url, headers={"Authorization": auth}, timeout=30) as client:
        while True:
            params = {"jql": f"project = {key} ORDER BY updated ASC", "fields": "summary", "maxResults": 100}
            body = client.get("/rest/api/3/search/jql", params={**params, **({"nextPageToken": token} if token else {})}).json()  # fmt: skip
            requests += 1
            keys += [issue["key"] for issue in body["issues"]]
            token = body.get("nextPageToken")
            if body.get("isLast") or not token:
                break
        for issue_key in keys:
            start = 0
            while True:
                body = client.get(
                    f"/rest/api/3/issue/{issue_key}/changelog?startAt={start}&maxResults=100"
                ).json()
                requests += 1
                start += len(body["values"])
                if body["isLast"] or not body["values"]:
                    break
    return requests


def serve_fake(system: str, args, pipe) -> None:
    """A fake server in its own process, so the peak memory measured is our sync's alone."""
    start = time.perf_counter()
    if system == "github":
        from tests.fakes.github import FakeGitHub, GeneratedProject

        project = GeneratedProject(
            prs=args.prs, issues=args.issues, deployments=args.deployments, runs=args.runs
        )
        fake = FakeGitHub(project, token=TOKEN, rate_limit=10**9)
        name = f"{project.owner}/{project.name}"
    elif system == "gitlab":
        from tests.fakes.gitlab import FakeGitLab, GeneratedGitLabProject

        project = GeneratedGitLabProject(
            mrs=args.prs, issues=args.issues, deployments=args.deployments, pipelines=args.runs,
            commits_per_mr=5, notes_per_mr=3,
        )  # fmt: skip
        fake = FakeGitLab(project, token=TOKEN, rate_limit=10**9)
        name = project.path
    else:
        from tests.fakes.jira import FakeJira, GeneratedJiraProject

        project = GeneratedJiraProject(issues=args.issues)
        fake = FakeJira(project, token=TOKEN, email=JIRA_EMAIL)
        name = project.key
    pipe.send((fake.start(), name, getattr(project, "id", None), time.perf_counter() - start))
    while True:
        command, value = pipe.recv()
        if command == "stop":
            fake.stop()
            pipe.send(None)
            return
        if command == "touch":
            pipe.send(project.touch(value, datetime.datetime.now(datetime.UTC).replace(microsecond=0)))
        elif command == "reset":
            fake.reset_counts()
            pipe.send(None)
        elif command == "count":
            if system == "jira":
                pipe.send(sum(fake.request_count(path=path) for path in value))
            else:
                pipe.send(sum(fake.request_count(operation=op) for op in value))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--prs", type=int, default=500, help="pull requests (GitHub) and merge requests (GitLab)"
    )
    parser.add_argument("--issues", type=int, default=1000, help="issues on each system")
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--runs", type=int, default=200, help="workflow runs (GitHub) and pipelines (GitLab)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="which of github,gitlab,jira to run")
    args = parser.parse_args()
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    if not systems or set(systems) - set(SYSTEMS):
        parser.error(f"--systems: a comma-separated list of {', '.join(SYSTEMS)}")

    work = Path(tempfile.mkdtemp(prefix="ps-bench-tracker-"))
    os.environ.update(
        PARTNERSCOPE_DATA_DIR=str(work / "data"),
        PARTNERSCOPE_TRACKER_RUNS_DAYS="3650",
        DJANGO_SETTINGS_MODULE="partnerscope.settings",
    )
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from partnerscope.engagements.models import Engagement
    from partnerscope.engagements.services import save_roster_record
    from partnerscope.evidence.connector_services import queue_connection_sync, save_connection
    from partnerscope.evidence.connectors.runner import run_connector_sync
    from partnerscope.evidence.models import Connection, PullRequest, Review, WorkItem, WorkItemEvent
    from partnerscope.orgs.models import Membership
    from partnerscope.orgs.services import create_organization
    from partnerscope.vendors.models import Vendor
    from partnerscope.vendors.services import save_vendor_record

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench@example.test")
    create_organization(slug="bench", name="Bench", owner=owner)
    m = Membership.objects.get(user=owner)
    vendor = save_vendor_record(membership=m, instance=Vendor(name="Bench Vendor"))
    engagement = save_roster_record(
        membership=m,
        instance=Engagement(vendor=vendor, name="Bench", model="dedicated_team", start_date="2000-01-01"),
    )

    def bench(system: str) -> dict:
        parent, child = multiprocessing.Pipe()
        server = multiprocessing.get_context("fork").Process(
            target=serve_fake, args=(system, args, child), daemon=True
        )
        server.start()
        child.close()  # so a crashed server shows as EOFError here instead of a hang

        def ask(command, value=None):
            parent.send((command, value))
            return parent.recv()

        base_url, project, project_id, generate_s = parent.recv()
        try:
            connection = save_connection(
                membership=m,
                instance=Connection(
                    engagement=engagement, name=system, kind=system, project=project, base_url=base_url,
                    allow_private_host=True, account_email=JIRA_EMAIL if system == "jira" else "",
                ),
                token=TOKEN,
            )  # fmt: skip

            def sync():
                run = run_connector_sync(queue_connection_sync(Connection.objects.get(pk=connection.pk)))
                assert run.status == "succeeded", run.message
                return run

            ask("reset")
            full_s, run = timed(sync)
            figures = {
                "generate_s": round(generate_s, 3),
                "full_requests": run.requests,
                "full_s": round(full_s, 3),
            }
            if system in PR_OPERATIONS:
                figures["full_pr_requests"] = ask("count", PR_OPERATIONS[system])
            if system == "gitlab":
                figures["full_issue_event_requests"] = ask("count", ISSUE_EVENT_OPERATIONS)
            figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            figures.update(
                stored_prs=PullRequest.objects.filter(connection=connection).count(),
                stored_reviews=Review.objects.filter(pull_request__connection=connection).count(),
                stored_issues=WorkItem.objects.filter(connection=connection).count(),
                stored_issue_events=WorkItemEvent.objects.filter(work_item__connection=connection).count(),
            )
            figures["changed_records"] = ask("touch", 0.01)
            ask("reset")
            incremental_s, run = timed(sync)
            figures.update(incremental_requests=run.requests, incremental_s=round(incremental_s, 3))
            if system == "gitlab":
                figures["incremental_issue_event_requests"] = ask("count", ISSUE_EVENT_OPERATIONS)
            figures["incremental_share"] = round(
                figures["incremental_requests"] / figures["full_requests"], 4
            )
            if system == "github":
                naive_s, naive = timed(lambda: naive_per_pr(base_url, project))
                figures.update(per_pr_requests=naive, per_pr_s=round(naive_s, 3))
                figures["request_ratio_vs_per_pr"] = round(naive / figures["full_pr_requests"], 1)
            elif system == "gitlab":
                naive_s, naive = timed(lambda: naive_per_mr(base_url, project_id))
                figures.update(per_mr_requests=naive, per_mr_s=round(naive_s, 3))
                figures["request_ratio_vs_per_mr"] = round(naive / figures["full_pr_requests"], 1)
                # Without the resource events, which have no batched form in GitLab's API.
                base = figures["full_requests"] - figures["full_issue_event_requests"]
                incremental = figures["incremental_requests"] - figures["incremental_issue_event_requests"]
                figures["incremental_share_without_issue_events"] = round(incremental / base, 4)
            else:
                naive_s, naive = timed(lambda: naive_per_issue(base_url, project))
                figures.update(per_issue_requests=naive, per_issue_s=round(naive_s, 3))
                figures["request_ratio_vs_per_issue"] = round(naive / figures["full_requests"], 1)
            return figures
        finally:
            ask("stop")
            server.join(timeout=10)

    result = {
        "prs": args.prs,
        "issues": args.issues,
        "deployments": args.deployments,
        "workflow_runs": args.runs,
    }
    try:
        for system in systems:
            figures = bench(system)
            if system == "github":
                result.update(figures)  # the keys the GitHub benchmark always had
            else:
                result.update({f"{system}_{key}": value for key, value in figures.items()})
                if system == "gitlab":
                    result["gitlab_per_mr_endpoints"] = "notes,commits"
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["peak_rss_mb_all"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
