"""The evidence API: repositories, syncs, the summary by vendor and the unattributed queue."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from partnerscope.evidence.models import Commit, Contribution, Repository, SyncRun

pytestmark = pytest.mark.django_db


def _repo(world, engagement) -> Repository:
    return Repository.objects.get(organization=world.org, engagement=engagement)


def _locs(response) -> list[list[str]]:
    return [e["loc"] for e in response.json()["detail"]]


def test_repository_create_list_get_patch_delete(world, api_as):
    owner = api_as("owner")
    body = {
        "engagement": world.engagement_a.uid,
        "name": "Alpha backend",
        "source": "https://git.example.test/backend.git",
        "refs": "main develop",
    }
    response = owner.post("/repositories", body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["engagement"] == world.engagement_a.uid
    assert created["status"] == "new"
    assert created["commit_count"] == 0
    assert created["last_synced_at"] is None
    assert "node_modules/*" in created["exclude_globs"]
    uid = created["uid"]

    listed = owner.get(f"/repositories?engagement={world.engagement_a.uid}").json()
    assert listed["count"] == 2
    assert {r["name"] for r in listed["items"]} == {"Alpha backend", "Alpha Soft app"}
    assert owner.get("/repositories").json()["count"] == 3

    assert owner.get(f"/repositories/{uid}").json() == created

    response = owner.patch(f"/repositories/{uid}", {"detect_renames": True, "refs": ""})
    assert response.status_code == 200, response.content
    assert response.json()["detect_renames"] is True
    assert response.json()["refs"] == ""
    assert response.json()["name"] == "Alpha backend"

    assert owner.delete(f"/repositories/{uid}").status_code == 204
    assert owner.get(f"/repositories/{uid}").status_code == 404
    assert not Repository.objects.filter(uid=uid).exists()


@pytest.mark.parametrize("source", ["file:///etc", "http://git.example.test/app.git"])
def test_repository_with_a_bad_source_is_422_naming_source(world, api_as, source):
    owner = api_as("owner")
    body = {"engagement": world.engagement_a.uid, "name": "Bad", "source": source}
    response = owner.post("/repositories", body)
    assert response.status_code == 422, response.content
    assert ["body", "source"] in _locs(response)
    assert not Repository.objects.filter(name="Bad").exists()

    repo = _repo(world, world.engagement_a)
    response = owner.patch(f"/repositories/{repo.uid}", {"source": source})
    assert response.status_code == 422
    assert ["body", "source"] in _locs(response)
    repo.refresh_from_db()
    assert repo.source == "https://git.example.test/app.git"


def test_repository_of_another_tenants_engagement_is_422(world, api_as):
    body = {"engagement": world.other_engagement.uid, "name": "X", "source": "https://git.example.test/x.git"}
    response = api_as("owner").post("/repositories", body)
    assert response.status_code == 422
    assert _locs(response) == [["body", "engagement"]]


def test_a_vendor_sees_only_its_own_repositories(world, api_as):
    vendor_b = api_as("vendor_b")
    repo_a, repo_b = _repo(world, world.engagement_a), _repo(world, world.engagement_b)
    assert vendor_b.get(f"/repositories/{repo_a.uid}").status_code == 404
    assert vendor_b.get(f"/repositories/{repo_b.uid}").status_code == 200
    listed = vendor_b.get("/repositories").json()
    assert [r["uid"] for r in listed["items"]] == [repo_b.uid]
    assert listed["count"] == 1
    # A read token never writes; a vendor user never learns a write exists.
    assert vendor_b.post(f"/repositories/{repo_b.uid}/syncs").status_code == 404


def test_start_and_cancel_a_sync(world, api_as):
    owner = api_as("owner")
    repo = _repo(world, world.engagement_a)

    response = owner.post(f"/repositories/{repo.uid}/syncs")
    assert response.status_code == 202, response.content
    run = response.json()
    assert run["status"] == "queued"
    assert run["repository"] == repo.uid
    assert run["percent"] is None

    again = owner.post(f"/repositories/{repo.uid}/syncs")
    assert again.status_code == 409
    assert "already queued or running" in again.json()["detail"]
    assert SyncRun.objects.filter(repository=repo).count() == 1

    got = owner.get(f"/syncs/{run['uid']}")
    assert got.status_code == 200
    assert got.json()["uid"] == run["uid"]
    # The vendor of the engagement follows its progress; another vendor cannot.
    assert api_as("vendor_a").get(f"/syncs/{run['uid']}").status_code == 200
    assert api_as("vendor_b").get(f"/syncs/{run['uid']}").status_code == 404

    cancelled = owner.post(f"/syncs/{run['uid']}/cancel")
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["status"] == "cancelled"

    again = owner.post(f"/syncs/{run['uid']}/cancel")
    assert again.status_code == 409
    assert again.json() == {"detail": "This sync has already ended."}

    # Once cancelled, a new sync may start.
    assert owner.post(f"/repositories/{repo.uid}/syncs").status_code == 202


def _commit(world, repo, sha, email, name, *, vendor=None, status="vendor", person=None, additions=10):
    when = timezone.make_aware(datetime.datetime(2024, 3, 1, 12))
    commit = Commit.objects.create(
        organization_id=world.org.id,
        repository=repo,
        sha=sha,
        author_name=name,
        author_email=email,
        authored_at=when,
        authored_date=when.date(),
        committed_at=when,
        subject=f"Work by {name}",
        parent_count=1,
        additions=additions,
        deletions=2,
        files_changed=1,
    )
    return Contribution.objects.create(
        organization_id=world.org.id,
        commit=commit,
        repository=repo,
        role=Contribution.Role.AUTHOR,
        name=name,
        email=email,
        authored_date=when.date(),
        person=person,
        vendor=vendor,
        status=status,
    )


@pytest.fixture
def evidence(world):
    repo_a, repo_b = _repo(world, world.engagement_a), _repo(world, world.engagement_b)
    _commit(
        world, repo_a, "a" * 40, "ana@alpha.test", "Ana Alpha", vendor=world.vendor_a, person=world.person_a
    )
    _commit(
        world, repo_a, "b" * 40, "ana@alpha.test", "Ana Alpha", vendor=world.vendor_a, person=world.person_a
    )
    _commit(
        world, repo_b, "c" * 40, "ben@beta.test", "Ben Beta", vendor=world.vendor_b, person=world.person_b
    )
    stranger = _commit(world, repo_b, "d" * 40, "zed@beta.test", "Zed Stranger", status="unattributed")
    return stranger


def test_evidence_summary_by_vendor(world, api_as, evidence):
    response = api_as("viewer").get("/evidence/summary")
    assert response.status_code == 200, response.content
    groups = {g["key"]: g for g in response.json()["groups"]}
    assert set(groups) == {f"vendor:{world.vendor_a.uid}", f"vendor:{world.vendor_b.uid}", "unattributed"}
    alpha = groups[f"vendor:{world.vendor_a.uid}"]
    assert alpha["vendor"] == world.vendor_a.uid
    assert alpha["label"] == "Alpha Soft"
    assert (alpha["commits"], alpha["contributors"], alpha["additions"], alpha["deletions"]) == (2, 1, 20, 4)
    assert alpha["changed_lines"] == 24
    assert alpha["revert_rate"] == 0.0
    assert groups["unattributed"]["vendor"] is None

    # Vendor A sees its own group only.
    response = api_as("vendor_a").get("/evidence/summary")
    assert [g["key"] for g in response.json()["groups"]] == [f"vendor:{world.vendor_a.uid}"]


def test_evidence_summary_filters(world, api_as, evidence):
    owner = api_as("owner")
    repo_b = _repo(world, world.engagement_b)
    keys = [g["key"] for g in owner.get(f"/evidence/summary?repository={repo_b.uid}").json()["groups"]]
    assert keys == [f"vendor:{world.vendor_b.uid}", "unattributed"]
    keys = [
        g["key"] for g in owner.get(f"/evidence/summary?engagement={world.engagement_a.uid}").json()["groups"]
    ]
    assert keys == [f"vendor:{world.vendor_a.uid}"]
    assert owner.get("/evidence/summary?since=2024-04-01").json() == {"groups": []}
    assert len(owner.get("/evidence/summary?until=2024-03-01").json()["groups"]) == 3

    for param, uid in [("engagement", world.other_engagement.uid), ("repository", "nope")]:
        response = owner.get(f"/evidence/summary?{param}={uid}")
        assert response.status_code == 422
        assert _locs(response) == [["query", param]]
    # Another vendor's repository is as unknown to a vendor user as a made-up one.
    response = api_as("vendor_a").get(f"/evidence/summary?repository={repo_b.uid}")
    assert response.status_code == 422


def test_unattributed_queue_and_mapping(world, api_as, evidence):
    assert api_as("vendor_a").get("/evidence/unattributed").status_code == 404
    assert api_as("vendor_b").get("/evidence/unattributed").status_code == 404

    owner = api_as("owner")
    response = owner.get("/evidence/unattributed")
    assert response.status_code == 200, response.content
    page = response.json()
    assert page["count"] == 1
    [entry] = page["items"]
    assert entry["email"] == "zed@beta.test"
    assert entry["commits"] == 1
    assert entry["first"] == entry["last"] == "2024-03-01"
    assert entry["known_person"] is False

    body = {"email": "zed@beta.test", "name": "Zed Zeta", "vendor": world.vendor_b.uid}
    assert api_as("viewer").post("/evidence/unattributed/map", body).status_code == 403
    response = owner.post("/evidence/unattributed/map", body)
    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Zed Zeta"

    evidence.refresh_from_db()
    assert evidence.status == Contribution.Status.VENDOR
    assert evidence.vendor_id == world.vendor_b.id
    assert evidence.person.uid == response.json()["uid"]
    assert owner.get("/evidence/unattributed").json() == {"count": 0, "items": []}


def test_mapping_refuses_unknown_references(world, api_as, evidence):
    owner = api_as("owner")
    response = owner.post("/evidence/unattributed/map", {"email": "nobody@nowhere.test"})
    assert response.status_code == 422
    assert _locs(response) == [["body", "email"]]
    response = owner.post(
        "/evidence/unattributed/map", {"email": "zed@beta.test", "vendor": world.other_vendor.uid}
    )
    assert response.status_code == 422
    assert _locs(response) == [["body", "vendor"]]
    response = owner.post("/evidence/unattributed/map", {"email": "zed@beta.test", "person": "nope"})
    assert _locs(response) == [["body", "person"]]
