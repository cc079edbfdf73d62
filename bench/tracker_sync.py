"""Benchmark: a GitHub sync against the local fake server, and the one-request-per-PR way.

    python bench/tracker_sync.py [--prs N] [--issues N] [--deployments N] [--runs N]

The fake server (tests/fakes/github.py, in a process of its own) serves a generated project
shaped like GitHub's API.
The product's own sync (connectors/github, storing into a fresh SQLite database) is timed for a
full sync and for an incremental one after 1 % of the pull requests and issues changed; in the
same run a naive client fetches the pull requests with one list request per 100 and then each
pull request's reviews and commits with a request each, which is what tools without GraphQL do.
The ratio compares like with like: the requests our sync spent on pull requests (with their
reviews, commits and comments) against the naive client's. The last line printed is one JSON
object with every figure. Defaults are small (for `make bench`); the issue's targets are for
--prs 10000 --issues 20000.
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

TOKEN = "ghp_bench_token"  # noqa: S105 - the fake server's, not a secret


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def naive_per_pr(base_url: str, owner: str, name: str) -> int:
    """List pull requests 100 a page, then GET each one's reviews and commits."""
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.github+json"}
    requests = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        numbers = []
        url = f"/api/v3/repos/{owner}/{name}/pulls?state=all&per_page=100&page=1"
        while url:
            response = client.get(url)
            requests += 1
            numbers += [pr["number"] for pr in response.json()]
            url = response.links.get("next", {}).get("url")
        for number in numbers:
            for part in ("reviews", "commits"):
                client.get(
                    f"/api/v3/repos/{owner}/{name}/pulls/{number}/{part}?per_page=100"
                ).raise_for_status()
                requests += 1
    return requests


def serve_fake(args, pipe) -> None:
    """The fake server in its own process, so the peak memory measured is our sync's alone."""
    from tests.fakes.github import FakeGitHub, GeneratedProject

    start = time.perf_counter()
    project = GeneratedProject(prs=args.prs, issues=args.issues, deployments=args.deployments, runs=args.runs)
    fake = FakeGitHub(project, token=TOKEN, rate_limit=10**9)
    pipe.send((fake.start(), project.owner, project.name, time.perf_counter() - start))
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
            pipe.send(sum(fake.request_count(operation=op) for op in value))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prs", type=int, default=500)
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()

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
    from partnerscope.evidence.models import Connection, PullRequest, Review, WorkItem
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

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=serve_fake, args=(args, child), daemon=True)
    server.start()
    child.close()  # so a crashed server shows as EOFError here instead of a hang

    def ask(command, value=None):
        parent.send((command, value))
        return parent.recv()

    base_url, owner_name, repo_name, generate_s = parent.recv()
    try:
        connection = save_connection(
            membership=m,
            instance=Connection(
                engagement=engagement, name="bench", kind="github", project=f"{owner_name}/{repo_name}",
                base_url=base_url, allow_private_host=True,
            ),
            token=TOKEN,
        )  # fmt: skip

        def sync():
            run = run_connector_sync(queue_connection_sync(Connection.objects.get(pk=connection.pk)))
            assert run.status == "succeeded", run.message
            return run

        pr_operations = ("PullRequests", "PullRequestReviews")
        ask("reset")
        full_s, run = timed(sync)
        full_requests, full_pr_requests = run.requests, ask("count", pr_operations)
        peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        stored = {
            "stored_prs": PullRequest.objects.count(),
            "stored_reviews": Review.objects.count(),
            "stored_issues": WorkItem.objects.count(),
        }
        changed = ask("touch", 0.01)
        incremental_s, run = timed(sync)
        incremental_requests = run.requests
        per_pr_s, per_pr_requests = timed(lambda: naive_per_pr(base_url, owner_name, repo_name))
    finally:
        ask("stop")
        server.join(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "prs": args.prs,
        "issues": args.issues,
        "deployments": args.deployments,
        "workflow_runs": args.runs,
        **stored,
        "generate_s": round(generate_s, 3),
        "full_requests": full_requests,
        "full_pr_requests": full_pr_requests,
        "full_s": round(full_s, 3),
        "per_pr_requests": per_pr_requests,
        "per_pr_s": round(per_pr_s, 3),
        "request_ratio_vs_per_pr": round(per_pr_requests / full_pr_requests, 1),
        "changed_records": changed,
        "incremental_requests": incremental_requests,
        "incremental_share": round(incremental_requests / full_requests, 4),
        "incremental_s": round(incremental_s, 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
