"""The fake GitHub server itself: paging, filters, ETags, auth, injected faults and touch()."""

from __future__ import annotations

import http.client
import json
import re
import time
from datetime import UTC, datetime

import pytest

from tests.fakes.github import FAULT_KINDS, FakeGitHub, GeneratedProject, created_range

TOKEN = "test-token"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
OID = re.compile(r"^[0-9a-f]{40}$")
LATER = datetime(2027, 6, 1, 12, 0, tzinfo=UTC)
PR_KEYS = {"number", "title", "state", "isDraft", "createdAt", "updatedAt", "mergedAt", "closedAt", "url", "additions", "deletions", "changedFiles", "author", "labels", "mergeCommit", "commits", "reviews", "comments", "timelineItems"}  # fmt: skip
ISSUE_KEYS = {"number", "databaseId", "title", "url", "state", "stateReason", "createdAt", "updatedAt", "closedAt", "author", "assignees", "labels", "milestone", "timelineItems"}  # fmt: skip
DEPLOYMENT_KEYS = {"databaseId", "environment", "createdAt", "updatedAt", "commitOid", "ref", "creator", "latestStatus"}  # fmt: skip
EVENT_TYPES = {"ClosedEvent", "ReopenedEvent", "AssignedEvent", "UnassignedEvent", "LabeledEvent", "UnlabeledEvent"}  # fmt: skip


@pytest.fixture
def fake():
    with FakeGitHub(GeneratedProject(prs=120, issues=150, deployments=30, runs=250, seed=7)) as server:
        yield server


def call(fake, method, path, body=None, headers=None, token=TOKEN):
    """(status, lower-cased headers, raw body) without following redirects."""
    conn = http.client.HTTPConnection(fake.base_url.removeprefix("http://"), timeout=10)
    try:
        sent = {
            "User-Agent": "tests",
            **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {}),
        }
        conn.request(method, path, body=None if body is None else json.dumps(body).encode(), headers=sent)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def gql(fake, operation, token=TOKEN, **variables):
    body = {"query": "query { ... }", "operationName": operation, "variables": {"owner": "acme", "name": "app", **variables}}  # fmt: skip
    status, headers, raw = call(fake, "POST", "/api/graphql", body, token=token)
    return status, headers, json.loads(raw)


def crawl(fake, operation, field, **variables):
    nodes, cursor, pages = [], None, 0
    while True:
        status, _, body = gql(fake, operation, cursor=cursor, **variables)
        assert status == 200 and "errors" not in body, body
        page = body["data"]["repository"][field]
        nodes += page["nodes"]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            return nodes, pages
        cursor = page["pageInfo"]["endCursor"]


def rest(fake, path, headers=None, token=TOKEN):
    status, out, raw = call(
        fake, "GET", path if path.startswith("/api") else "/api/v3" + path, None, headers, token
    )
    return (
        status,
        out,
        (json.loads(raw) if raw and out["content-type"].startswith("application/json") else raw),
    )


def links(header: str | None) -> dict:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', header or "")}


# -- GraphQL -------------------------------------------------------------------------------------


def test_paging_pull_requests_returns_every_one_once_newest_update_first(fake):
    status, headers, body = gql(fake, "PullRequests", cursor=None, pageSize=25)
    assert status == 200 and headers["content-type"] == "application/json; charset=utf-8"
    assert headers["x-ratelimit-resource"] == "graphql" and headers["x-ratelimit-limit"] == "5000"
    rate = body["data"]["rateLimit"]
    assert rate["cost"] == 1 and rate["remaining"] == int(headers["x-ratelimit-remaining"])
    assert ISO.match(rate["resetAt"])
    nodes, pages = crawl(fake, "PullRequests", "pullRequests", pageSize=25)
    assert pages == 5
    numbers = [n["number"] for n in nodes]
    assert sorted(numbers) == list(range(1, 121))
    keys = [(n["updatedAt"], n["number"]) for n in nodes]
    assert keys == sorted(keys, reverse=True)


def test_pull_request_nodes_have_the_query_shape():
    project = GeneratedProject(prs=400, issues=0, seed=3)
    nodes = list(project.pull_requests.values())
    states = [n["state"] for n in nodes]
    assert states.count("MERGED") > 0.7 * len(nodes) and "OPEN" in states and "CLOSED" in states
    bots = [n for n in nodes if n["author"]["__typename"] == "Bot"]
    assert 5 <= len(bots) <= 40 and {n["author"]["login"] for n in bots} == {"dependabot"}
    assert 15 <= sum(bool(n["timelineItems"]["nodes"]) for n in nodes) <= 70
    for node in nodes:
        assert set(node) == PR_KEYS
        assert all(ISO.match(node[k]) for k in ("createdAt", "updatedAt"))
        assert (
            (node["mergedAt"] is not None) == (node["state"] == "MERGED") == (node["mergeCommit"] is not None)
        )
        assert node["commits"]["totalCount"] == len(node["commits"]["nodes"]) == 5
        for item in node["commits"]["nodes"]:
            assert OID.match(item["commit"]["oid"]) and "@" in item["commit"]["author"]["email"]
        reviews = node["reviews"]
        assert reviews["totalCount"] == 3 and reviews["pageInfo"]["hasNextPage"] is False
        for review in reviews["nodes"]:
            assert set(review) == {"databaseId", "author", "state", "submittedAt", "comments"}
            assert review["author"]["login"] != node["author"]["login"]
        assert len(node["comments"]["nodes"]) == 1 and len(node["labels"]["nodes"]) <= 20
        if node["timelineItems"]["nodes"]:
            assert not node["isDraft"] and ISO.match(node["timelineItems"]["nodes"][0]["createdAt"])
    assert GeneratedProject(prs=400, issues=0, seed=3).pull_requests == project.pull_requests
    assert GeneratedProject(prs=400, issues=0, seed=4).pull_requests != project.pull_requests


def test_reviews_beyond_fifty_page_through_pull_request_reviews():
    with FakeGitHub(GeneratedProject(prs=2, issues=0, reviews_per_pr=180)) as fake:
        nodes, _ = crawl(fake, "PullRequests", "pullRequests", pageSize=10)
        node = next(n for n in nodes if n["number"] == 2)
        reviews = node["reviews"]
        assert reviews["totalCount"] == 180 and len(reviews["nodes"]) == 50
        assert reviews["pageInfo"]["hasNextPage"] is True
        seen, cursor, calls = [r["databaseId"] for r in reviews["nodes"]], reviews["pageInfo"]["endCursor"], 0
        while cursor:
            status, _, body = gql(fake, "PullRequestReviews", number=2, cursor=cursor)
            page = body["data"]["repository"]["pullRequest"]["reviews"]
            seen += [r["databaseId"] for r in page["nodes"]]
            cursor = page["pageInfo"]["endCursor"] if page["pageInfo"]["hasNextPage"] else None
            calls += 1
        assert calls == 2 and len(seen) == len(set(seen)) == 180
        assert fake.request_count(operation="PullRequestReviews") == 2
        _, _, body = gql(fake, "PullRequestReviews", number=99, cursor=None)
        assert body["data"]["repository"]["pullRequest"] is None and body["errors"][0]["type"] == "NOT_FOUND"


def test_issues_since_filter_is_inclusive_and_oldest_update_first(fake):
    everything, _ = crawl(fake, "Issues", "issues", pageSize=40, since=None)
    assert sorted(n["number"] for n in everything) == list(range(121, 271))
    keys = [(n["updatedAt"], n["number"]) for n in everything]
    assert keys == sorted(keys)
    since = keys[60][0]
    expected = [n["number"] for n in everything if n["updatedAt"] >= since]
    found, _ = crawl(fake, "Issues", "issues", pageSize=30, since=since)
    assert [n["number"] for n in found] == expected and len(expected) >= 89
    offset = since.replace("Z", "+00:00")
    assert [n["number"] for n in crawl(fake, "Issues", "issues", pageSize=100, since=offset)[0]] == expected


def test_issue_nodes_and_timelines(fake):
    issues = list(fake.project.issues.values())
    ids = [e["id"] for n in issues for e in n["timelineItems"]["nodes"]]
    assert len(ids) == len(set(ids))
    labels = {label["name"] for n in issues for label in n["labels"]["nodes"]}
    assert {"bug", "incident", "priority: high"} <= labels
    for node in issues:
        assert set(node) == ISSUE_KEYS and node["author"]["__typename"] == "User"
        events = node["timelineItems"]["nodes"]
        assert 2 <= len(events) <= 6 and {e["__typename"] for e in events} <= EVENT_TYPES
        assert [e["createdAt"] for e in events] == sorted(e["createdAt"] for e in events)
        if node["state"] == "CLOSED":
            assert node["stateReason"] in ("COMPLETED", "NOT_PLANNED")
            assert events[-1]["__typename"] == "ClosedEvent" and events[-1]["createdAt"] == node["closedAt"]
        else:
            assert node["stateReason"] is None and node["closedAt"] is None
        for event in events:
            assert event["actor"]["__typename"] == "User" and ISO.match(event["createdAt"])
            closer = event.get("closer")
            if closer:
                assert closer["__typename"] in ("PullRequest", "Commit")


def test_deployments_newest_created_first(fake):
    nodes, pages = crawl(fake, "Deployments", "deployments", pageSize=10)
    assert pages == 3 and len(nodes) == 30 and all(set(n) == DEPLOYMENT_KEYS for n in nodes)
    keys = [(n["createdAt"], n["databaseId"]) for n in nodes]
    assert keys == sorted(keys, reverse=True)
    assert {n["environment"] for n in nodes} <= {"production", "staging"}
    assert {n["latestStatus"]["state"] for n in nodes} <= {"SUCCESS", "FAILURE", "IN_PROGRESS"}


def test_unknown_repository_and_bad_arguments(fake):
    status, _, body = gql(fake, "PullRequests", name="nope", cursor=None, pageSize=10)
    assert status == 200 and body["data"]["repository"] is None
    assert body["errors"][0]["type"] == "NOT_FOUND" and body["errors"][0]["path"] == ["repository"]
    assert body["errors"][0]["message"] == "Could not resolve to a Repository with the name 'acme/nope'."
    assert (
        gql(fake, "PullRequests", cursor=None, pageSize=101)[2]["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    )
    assert (
        gql(fake, "Issues", cursor="bm9wZQ==", pageSize=5)[2]["errors"][0]["type"]
        == "INVALID_CURSOR_ARGUMENTS"
    )


def test_rate_limit_remaining_counts_down(fake):
    first = int(gql(fake, "Deployments", cursor=None, pageSize=5)[1]["x-ratelimit-remaining"])
    _, headers, body = gql(fake, "Deployments", cursor=None, pageSize=5)
    assert int(headers["x-ratelimit-remaining"]) == body["data"]["rateLimit"]["remaining"] == first - 1
    assert int(headers["x-ratelimit-used"]) == 5000 - first + 1
    assert int(headers["x-ratelimit-reset"]) > time.time() + 3000


# -- REST ----------------------------------------------------------------------------------------


def test_runs_link_header_pages_newest_first(fake):
    status, headers, body = rest(fake, "/repos/acme/app/actions/runs?per_page=100&page=1")
    assert status == 200 and headers["x-ratelimit-resource"] == "core" and body["total_count"] == 250
    first = links(headers.get("link"))
    assert first["next"].startswith(fake.base_url + "/api/v3/repos/acme/app/actions/runs?")
    assert "page=2" in first["next"] and "page=3" in first["last"] and "per_page=100" in first["next"]
    runs, url = body["workflow_runs"], first["next"]
    while url:
        status, headers, body = rest(fake, url.removeprefix(fake.base_url))
        runs += body["workflow_runs"]
        url = links(headers.get("link")).get("next")
    assert "last" not in links(headers.get("link")) and "prev" in links(headers.get("link"))
    assert len(runs) == len({r["id"] for r in runs}) == 250
    keys = [(r["created_at"], r["id"]) for r in runs]
    assert keys == sorted(keys, reverse=True)
    assert {"Deploy production", "CI"} == {r["name"] for r in runs}
    assert all(set(r["actor"]) >= {"login"} and OID.match(r["head_sha"]) for r in runs)


def test_runs_created_filter(fake):
    runs = fake.project.runs
    middle = runs[100]["created_at"]
    status, headers, body = rest(fake, f"/repos/acme/app/actions/runs?per_page=100&created=%3E%3D{middle}")
    assert (
        body["total_count"] == 150 and len(body["workflow_runs"]) == 100 and "next" in links(headers["link"])
    )
    assert all(r["created_at"] >= middle for r in body["workflow_runs"])
    day = middle[:10]
    _, _, body = rest(fake, f"/repos/acme/app/actions/runs?per_page=100&created={day}..{day}")
    assert body["total_count"] == sum(r["created_at"][:10] == day for r in runs) >= 1
    with FakeGitHub(GeneratedProject(prs=0, issues=0, runs=1200)) as big:  # a filtered search stops at 1,000
        _, headers, _ = rest(big, "/repos/acme/app/actions/runs?per_page=100&created=%3E%3D2025-01-01")
        assert "page=10" in links(headers["link"])["last"]
        assert rest(big, "/repos/acme/app/actions/runs?per_page=100")[2]["total_count"] == 1200
    assert created_range(">=2025-02-01") == ("2025-02-01T00:00:00Z", "9999")
    assert created_range("2025-02-01..2025-02-03T10:00:00Z") == (
        "2025-02-01T00:00:00Z",
        "2025-02-03T10:00:00Z",
    )
    assert created_range(">2025-02-01") == ("2025-02-02T00:00:00Z", "9999")
    assert created_range("2025-02-01") == ("2025-02-01T00:00:00Z", "2025-02-01T23:59:59Z")


def test_runs_etag_304_costs_no_rate_limit(fake):
    path = "/repos/acme/app/actions/runs?per_page=100&created=%3E%3D2025-01-01"
    status, headers, _ = rest(fake, path)
    etag, remaining = headers["etag"], int(headers["x-ratelimit-remaining"])
    assert status == 200 and etag.startswith('"') and etag.endswith('"')
    status, again, raw = rest(fake, path, {"If-None-Match": etag})
    assert status == 304 and raw == b"" and again["etag"] == etag
    assert int(again["x-ratelimit-remaining"]) == remaining
    status, other, _ = rest(fake, path, {"If-None-Match": '"stale"'})
    assert status == 200 and int(other["x-ratelimit-remaining"]) == remaining - 1
    fake.project.add_run()
    status, changed, _ = rest(fake, path, {"If-None-Match": etag})
    assert status == 200 and changed["etag"] != etag


def test_per_pull_request_rest_endpoints(fake):
    pulls, url = [], "/api/v3/repos/acme/app/pulls?state=all&per_page=100&page=1"
    while url:
        status, headers, body = rest(fake, url)
        pulls += body
        url = links(headers.get("link")).get("next", "").removeprefix(fake.base_url)
    assert [p["number"] for p in pulls] == list(range(120, 0, -1))
    assert set(pulls[0]) == {"number", "title", "state", "created_at", "updated_at", "merged_at", "user"}
    bot = next(n for n in fake.project.pull_requests.values() if n["author"]["__typename"] == "Bot")
    assert pulls[120 - bot["number"]]["user"]["login"] == "dependabot[bot]"
    _, _, reviews = rest(fake, "/repos/acme/app/pulls/5/reviews?per_page=100")
    assert len(reviews) == 3 and set(reviews[0]) == {"id", "user", "state", "submitted_at"}
    _, _, commits = rest(fake, "/repos/acme/app/pulls/5/commits?per_page=100")
    assert len(commits) == 5 and OID.match(commits[0]["sha"]) and "email" in commits[0]["commit"]["author"]
    _, _, open_only = rest(fake, "/repos/acme/app/pulls?per_page=100")
    assert {p["state"] for p in open_only} == {"open"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v3/repos/acme/app/issues",
        "/api/v3/repos/acme/other/actions/runs",
        "/nothing",
        "/api/v3/repos/acme/app/pulls/999/reviews",
    ],  # fmt: skip
)
def test_unknown_paths_are_404(fake, path):
    status, headers, body = rest(fake, path)
    assert status == 404 and body == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
    }


def test_bad_credentials_are_401(fake):
    before = fake.remaining("core")
    for token in (None, "wrong"):
        status, headers, body = rest(fake, "/repos/acme/app/actions/runs", token=token)
        assert status == 401 and body["message"] == "Bad credentials" and "x-ratelimit-remaining" in headers
        status, _, body = gql(fake, "PullRequests", token=token, cursor=None, pageSize=5)
        assert status == 401 and body["message"] == "Bad credentials"
    assert fake.remaining("core") == before
    assert fake.request_count(status=401) == 4
    fake.reset_counts()
    assert fake.request_count() == 0 and fake.requests == []


# -- faults --------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_kind(fake, kind):
    fake.fail_next(kind)
    status, headers, raw = call(fake, "POST", "/api/graphql", {"operationName": "PullRequests", "variables": {"owner": "acme", "name": "app", "pageSize": 5}})  # fmt: skip
    body = json.loads(raw) if headers["content-type"].startswith("application/json") else raw
    if kind == "502":
        assert status == 502 and body == {"message": "Server Error"}
    elif kind == "rate_limit":
        assert status == 403 and headers["x-ratelimit-remaining"] == "0"
        assert body["message"] == "API rate limit exceeded for user ID 1." and "documentation_url" in body
        assert time.time() - 1 <= int(headers["x-ratelimit-reset"]) <= time.time() + 2
    elif kind == "secondary":
        assert status == 429 and headers["retry-after"] == "1" and "secondary rate limit" in body["message"]
    elif kind in ("graphql_rate_limited", "graphql_rate_limit_new"):
        assert status == 200 and headers["x-ratelimit-remaining"] == "0"
        assert body["errors"][0]["type"] == (
            "RATE_LIMITED" if kind == "graphql_rate_limited" else "RATE_LIMIT"
        )
    elif kind == "malformed":
        assert (
            status == 200 and headers["content-type"].startswith("text/html") and body == b"<html>oops</html>"
        )
    elif kind == "bad_field":
        nodes = body["data"]["repository"]["pullRequests"]["nodes"]
        assert nodes[0]["number"] == "x" and isinstance(nodes[1]["number"], int)
    else:
        assert status == 301 and headers["location"] == "http://169.254.169.254/latest"
    status, _, body = gql(fake, "PullRequests", cursor=None, pageSize=5)  # the fault was used up
    assert status == 200 and isinstance(body["data"]["repository"]["pullRequests"]["nodes"][0]["number"], int)
    assert fake.project.pull_requests[120]["number"] == 120  # the stored data is untouched


def test_faults_repeat_and_target_an_operation_or_a_path(fake):
    fake.fail_next("502", times=2, on="Issues")
    assert gql(fake, "PullRequests", cursor=None, pageSize=5)[0] == 200
    assert [gql(fake, "Issues", cursor=None, pageSize=5)[0] for _ in range(3)] == [502, 502, 200]
    fake.fail_next("secondary", on="/repos/acme/app/actions/runs")
    assert rest(fake, "/repos/acme/app/pulls")[0] == 200
    assert gql(fake, "Deployments", cursor=None, pageSize=5)[0] == 200
    assert rest(fake, "/repos/acme/app/actions/runs?per_page=5")[0] == 429
    fake.fail_next("bad_field", on="Deployments")
    assert gql(fake, "Deployments", cursor=None, pageSize=5)[2]["data"]["repository"]["deployments"]["nodes"][0]["databaseId"] == "x"  # fmt: skip
    fake.fail_next("bad_field", on="/api/v3/repos/acme/app/actions/runs")
    assert rest(fake, "/repos/acme/app/actions/runs?per_page=5")[2]["workflow_runs"][0]["id"] == "x"
    assert fake.request_count(status=502) == 2 and fake.request_count(status=429) == 1
    assert {"method": "POST", "path": "/api/graphql", "operation": "Issues", "status": 502} in fake.requests
    with pytest.raises(ValueError):
        fake.fail_next("teapot")


# -- changes -------------------------------------------------------------------------------------


def test_touch_changes_a_fraction_and_moves_them_to_the_top(fake):
    project = fake.project
    before = {n: dict(node) for n, node in project.pull_requests.items()}
    assert project.touch(0.1, LATER) == 12 + 15
    touched = project.last_touched
    assert len(touched["prs"]) == 12 and len(touched["issues"]) == 15
    nodes, _ = crawl(fake, "PullRequests", "pullRequests", pageSize=50)
    top = nodes[:12]
    assert sorted(n["number"] for n in top) == touched["prs"]
    assert [n["number"] for n in top] == sorted(touched["prs"], reverse=True)  # ties: higher number first
    for node in top:
        assert node["updatedAt"] == "2027-06-01T12:00:00Z" and node["title"].endswith(" [edit 1]")
        assert (
            node["reviews"]["totalCount"] == 4
            and node["reviews"]["nodes"][-1]["submittedAt"] == node["updatedAt"]
        )
        assert node["reviews"]["nodes"][-1]["author"]["login"] != node["author"]["login"]
    assert all(project.pull_requests[n] == before[n] for n in before if n not in touched["prs"])
    issues, _ = crawl(fake, "Issues", "issues", pageSize=100, since="2027-06-01T12:00:00Z")
    assert sorted(n["number"] for n in issues) == touched["issues"]
    for node in issues:
        last = node["timelineItems"]["nodes"][-1]
        assert last["__typename"] == "LabeledEvent" and last["label"] == {"name": "triaged"}
        assert last["createdAt"] == node["updatedAt"] and {"name": "triaged"} in node["labels"]["nodes"]
    twin = GeneratedProject(prs=120, issues=150, deployments=30, runs=250, seed=7)
    assert twin.touch(0.1, LATER) == 27 and twin.last_touched == touched
    assert project.touch(0.1, LATER) == 27 and project.last_touched != touched


def test_added_records_get_the_next_numbers(fake):
    project = fake.project
    pr = project.add_pr()
    issue = project.add_issue()
    assert (pr["number"], issue["number"]) == (271, 272)
    assert rest(fake, "/repos/acme/app/pulls?state=all&per_page=1")[2][0]["number"] == 271
    assert project.touch(0, LATER) == 0
