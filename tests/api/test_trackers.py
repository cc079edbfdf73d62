"""The trackers API: lists of the records tracker connections bring."""

from __future__ import annotations

import pytest

from partnerscope.api.trackers import PullRequestOut
from partnerscope.evidence.models import Connection, PullRequest

pytestmark = pytest.mark.django_db


def test_a_list_validates_each_item_once_from_the_model(world, api_as, monkeypatch):
    """Each item goes through its schema once, handed the model: an item built first and then
    validated again would hand the resolvers a schema (``attribution`` would then read the
    schema's field instead of the model's status). The item's JSON, nested uids included, is
    the same as before."""
    seen = []
    attribution = PullRequestOut._ninja_resolvers["attribution"]  # ninja keeps resolvers here

    def spy(getter):
        seen.append(type(getter._obj))
        return attribution(getter=getter)

    monkeypatch.setitem(PullRequestOut._ninja_resolvers, "attribution", spy)
    body = api_as("viewer").get("/pull-requests").json()

    assert body["count"] == 2
    assert seen == [PullRequest, PullRequest]
    connection = Connection.objects.get(engagement=world.engagement_a)
    (item,) = [i for i in body["items"] if i["connection"] == connection.uid]
    assert item == {
        "connection": connection.uid,
        "actor": "ana-alpha",
        "attribution": "vendor",
        "vendor": world.vendor_a.uid,
        "number": 1,
        "title": "Change 1",
        "url": "",
        "state": "merged",
        "draft": False,
        "created_at": "2024-03-01T00:00:00Z",
        "ready_at": "2024-03-01T00:00:00Z",
        "first_commit_at": "2024-03-01T00:00:00Z",
        "merged_at": "2024-03-01T05:00:00Z",
        "closed_at": "2024-03-01T05:00:00Z",
        "merge_commit_sha": "",
        "additions": 10,
        "deletions": 2,
        "changed_files": 1,
        "commit_count": 1,
        "labels": [],
    }


def test_changing_a_connections_found_in_production_labels_reflags_its_items(world, api_as):
    import datetime

    from partnerscope.evidence.connectors.store import store_work_items
    from tests.metrics.conftest import work_item

    connection = Connection.objects.get(engagement=world.engagement_a)
    when = datetime.datetime(2024, 3, 12, tzinfo=datetime.UTC)
    store_work_items(connection, [{**work_item("B-9", "Bug", when), "labels": ["escaped-in-release"]}])
    client = api_as("owner")
    listed = client.get("/work-items").json()["items"]
    assert [(i["key"], i["found_in_production"]) for i in listed] == [("B-9", False)]
    response = client.patch(f"/connections/{connection.uid}", {"found_in_production_labels": "escaped-*"})
    assert response.status_code == 200, response.content
    assert response.json()["found_in_production_labels"] == "escaped-*"
    listed = client.get("/work-items").json()["items"]
    assert [(i["key"], i["found_in_production"]) for i in listed] == [("B-9", True)]
