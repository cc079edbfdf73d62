"""A Jira sync against the local fake server: Cloud and Data Center, full and incremental, long
changelogs, attribution at the resolution date, rate limits and bad answers."""

from __future__ import annotations

import datetime

import pytest

from partnerscope.engagements.models import Identity
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.connector_services import queue_connection_sync, save_connection
from partnerscope.evidence.connectors.jira.mapping import EVENT_FIELDS
from partnerscope.evidence.connectors.runner import run_connector_sync
from partnerscope.evidence.models import Connection, Incident, WorkItem, WorkItemEvent
from tests.fakes.jira import AUTOMATION, USERS, FakeJira, GeneratedJiraProject

TOKEN = "jira_fake_api_token_0123456789"
EMAIL = "bot@acme.test"
CATEGORY = {"new": "todo", "indeterminate": "in_progress", "done": "done"}


@pytest.fixture
def fake():
    with FakeJira(GeneratedJiraProject(issues=150, seed=3), token=TOKEN, email=EMAIL) as server:
        yield server


def connect(world, fake, *, cloud: bool = True, project: str = "SHOP") -> Connection:
    connection = save_connection(
        membership=world.owner_m,
        instance=Connection(
            engagement=world.engagement_a, name="jira", kind="jira", project=project, base_url=fake.base_url,
            allow_private_host=True, account_email=EMAIL if cloud else "",
        ),
        token=TOKEN,
    )  # fmt: skip
    people = (world.person_a, world.person_b, world.inhouse, world.mover)
    for person, user in zip(people, USERS, strict=False):
        value = user.account_id if cloud else user.name
        save_roster_record(
            membership=world.owner_m, instance=Identity(person=person, kind="jira", value=value)
        )
    return connection


def sync(connection, sleeps=None, on_progress=None):
    run = queue_connection_sync(Connection.objects.get(pk=connection.pk))
    return run_connector_sync(
        run, sleep=(sleeps.append if sleeps is not None else lambda s: None), on_progress=on_progress
    )


def expected_events(project) -> set[tuple[str, str]]:
    """(issue key, event id) of every status, assignee, resolution, labels and sprint change in
    the fake."""
    return {
        (k, f"{history['id']}-{index}")
        for k in project.histories
        for history in project.histories[k]
        for index, item in enumerate(history["items"])
        if (item["field"] in EVENT_FIELDS and item["fieldtype"] == "jira")
        or (item["field"] == "Sprint" and item["fieldtype"] == "custom")
    }


def stored_events(connection, key: str | None = None) -> set[tuple[str, str]]:
    rows = WorkItemEvent.objects.filter(work_item__connection=connection)
    rows = rows.filter(work_item__key=key) if key else rows
    return set(rows.values_list("work_item__key", "external_id"))


def test_a_full_sync_reads_every_issue_with_its_changelog_in_three_requests(world, fake):
    connection = connect(world, fake)
    run = sync(connection)
    assert run.status == "succeeded", run.message
    project = fake.project
    items = {i.key: i for i in WorkItem.objects.filter(connection=connection)}
    assert set(items) == set(project.issues)
    # The field list once (for the Sprint field), then 100 issues a page with their changelogs.
    assert run.requests == 3 and fake.request_count(path="/search/jql") == 2
    assert stored_events(connection) == expected_events(project)  # "<history id>-<item index>"
    for key, item in items.items():
        fields = project.issues[key]["fields"]
        assert item.category == CATEGORY[fields["status"]["statusCategory"]["key"]], key
        assert item.workflow_status == fields["status"]["name"]
        assert item.is_incident == (fields["issuetype"]["name"] == "Incident")
        assert item.actor == project.expected_actor[key], key
        assert item.url == f"{fake.base_url}/browse/{key}"
    assert {i.category for i in items.values()} == {"todo", "in_progress", "done"}
    # Handed to someone else after it was resolved: still the resolver's.
    assert any(i.resolved_at and i.actor != i.assignee and i.assignee for i in items.values())
    assert Incident.objects.filter(connection=connection, source="issue").count() == sum(
        i.is_incident for i in items.values()
    )
    ana = [i for i in items.values() if i.actor == "557058:ana"]
    assert ana and {(i.status, i.vendor_id) for i in ana} == {("vendor", world.vendor_a.id)}
    assert {i.vendor_id for i in items.values() if i.actor == "557058:ben"} == {world.vendor_b.id}
    assert {i.status for i in items.values() if i.actor == "557058:ida"} == {"inhouse"}
    assert {i.status for i in items.values() if i.actor == AUTOMATION.account_id} == {"bot"}
    assert {i.status for i in items.values() if i.actor == "557058:cai"} == {"unattributed"}
    sprints = {i.sprint for i in items.values() if i.sprint}
    assert sprints and all(s.startswith("SHOP Sprint ") for s in sprints)
    for key, item in items.items():  # fixVersions, asked for by name, are stored by name
        assert item.fix_versions == [v["name"] for v in project.issues[key]["fields"]["fixVersions"]], key
    assert any(i.fix_versions for i in items.values())
    assert any(i.links for i in items.values())
    connection.refresh_from_db()
    newest = max(project.updated.values())
    assert datetime.datetime.fromisoformat(connection.cursor["issues"]) == newest.replace(microsecond=0)
    assert connection.cursor["sprint_field"] == "customfield_10020"


def test_a_person_who_moved_vendors_is_credited_by_the_resolution_date(world):
    project = GeneratedJiraProject(
        issues=90, seed=5, start=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    )
    with FakeJira(project, token=TOKEN, email=EMAIL) as server:
        connection = connect(world, server)
        assert sync(connection).status == "succeeded"
    moves = WorkItem.objects.filter(connection=connection, actor="557058:max", resolved_at__isnull=False)
    vendors = {}
    for item in moves:
        assert item.acted_on == item.resolved_at.date()
        expected = world.vendor_a if item.acted_on <= datetime.date(2024, 6, 30) else world.vendor_b
        assert item.vendor_id == expected.id, (item.key, item.acted_on)
        vendors[expected.name] = vendors.get(expected.name, 0) + 1
    assert len(vendors) == 2, vendors  # some before the move, some after


def test_an_incremental_sync_reads_one_page_and_changes_only_the_touched_issues(world, fake):
    connection = connect(world, fake)
    sync(connection)
    before = dict(WorkItem.objects.filter(connection=connection).values_list("key", "title"))
    events = WorkItemEvent.objects.count()
    changed = fake.project.touch(0.05, datetime.datetime.now(datetime.UTC).replace(microsecond=0))
    assert changed > 0
    second = sync(connection)
    assert second.status == "succeeded", second.message
    assert second.requests == 1  # the Sprint field's id is in the cursor; one page of changes
    after = dict(WorkItem.objects.filter(connection=connection).values_list("key", "title"))
    assert {k for k in after if after[k] != before[k]} == set(fake.project.last_touched)
    assert WorkItemEvent.objects.count() == events + changed  # one label change each
    assert stored_events(connection) == expected_events(fake.project)
    third = sync(connection)  # nothing new: the last minute is read again, and changes nothing
    assert third.status == "succeeded" and third.requests == 1
    assert WorkItemEvent.objects.count() == events + changed
    assert dict(WorkItem.objects.filter(connection=connection).values_list("key", "title")) == after


def test_the_cursor_is_sent_in_the_accounts_time_zone(world):
    """Jira reads a JQL date in the time zone of the token's account, and writes its times in it."""
    project = GeneratedJiraProject(issues=30, seed=2, utc_offset_hours=-5)
    with FakeJira(project, token=TOKEN, email=EMAIL) as server:
        connection = connect(world, server)
        sync(connection)
        connection.refresh_from_db()
        assert connection.cursor["issues"].endswith("-05:00")
        # Changed an hour after the cursor: a UTC date read at -05:00 would start 5 hours too late.
        project.touch(0, max(project.updated.values()) + datetime.timedelta(hours=1), keys=["SHOP-3"])
        assert sync(connection).status == "succeeded"
    assert WorkItem.objects.get(connection=connection, key="SHOP-3").title.endswith("[edit 1]")


def test_data_center_pages_by_offset_with_a_bearer_token_and_names_people_by_username(world):
    project = GeneratedJiraProject(issues=150, seed=4, cloud=False, site="https://jira.acme.test")
    with FakeJira(project, token=TOKEN) as server:
        connection = connect(world, server, cloud=False)
        run = sync(connection)
        assert run.status == "succeeded", run.message
        searches = [r["query"] for r in server.requests if r["path"] == "/rest/api/2/search"]
    items = {i.key: i for i in WorkItem.objects.filter(connection=connection)}
    assert set(items) == set(project.issues)
    assert [q["startAt"] for q in searches] == ["0", "99"]  # each page starts on the last one read
    assert all(items[k].actor == project.expected_actor[k] for k in items)
    assert stored_events(connection) == expected_events(project)
    # Changelogs name assignees by user key; the events by username, as the issues do.
    assignees = set(
        WorkItemEvent.objects.filter(work_item__connection=connection, field="assignee").values_list(
            "to_value", flat=True
        )
    )
    assert "Ben.Beta" in assignees and not any(v.startswith("JIRAUSER") for v in assignees)
    assert {i.vendor_id for i in items.values() if i.actor == "Ben.Beta"} == {world.vendor_b.id}
    sprints = {i.sprint for i in items.values() if i.sprint}
    assert sprints and all(s.startswith("SHOP Sprint ") for s in sprints)  # from GreenHopper strings


def test_an_issue_edited_while_data_center_pages_are_read_makes_none_skipped(world):
    project = GeneratedJiraProject(issues=250, seed=6, cloud=False)
    first_key = project.index()[1][0]
    with FakeJira(project, token=TOKEN) as server:
        connection = connect(world, server, cloud=False)

        def edit_once(run) -> None:
            # After the first page: an issue it held moves to the end, so every offset shifts by one.
            if run.records == 100 and not project.last_touched:
                project.touch(0, datetime.datetime.now(datetime.UTC), keys=[first_key])

        run = sync(connection, on_progress=edit_once)
        assert run.status == "succeeded", run.message
    assert WorkItem.objects.filter(connection=connection).count() == 250
    assert WorkItem.objects.get(connection=connection, key=first_key).title.endswith("[edit 1]")


@pytest.mark.parametrize("cloud", [True, False])
def test_a_long_changelog_is_read_whole_with_one_more_request_for_that_issue(world, cloud):
    project = GeneratedJiraProject(issues=30, seed=8, cloud=cloud)
    project.grow_changelog("SHOP-5", 230)
    # Data Center embeds whole changelogs; cut them here to exercise what the client does then.
    with FakeJira(project, token=TOKEN, email=EMAIL if cloud else None, changelog_cap=100) as server:
        connection = connect(world, server, cloud=cloud)
        assert sync(connection).status == "succeeded"
        paged = server.request_count(path="/issue/SHOP-5/changelog")
        whole = server.request_count(path="/rest/api/2/issue/SHOP-5")
    assert len(stored_events(connection, "SHOP-5")) > 230
    assert stored_events(connection) == expected_events(project)
    if cloud:
        assert paged == 3  # 230 and more histories, 100 a page
    else:
        assert (paged, whole) == (0, 1)  # no /changelog on Data Center: the issue with its changelog


@pytest.mark.parametrize("kind", ["502", "rate_limit"])
def test_server_errors_and_rate_limits_are_waited_out(world, fake, kind):
    connection = connect(world, fake)
    fake.fail_next(kind, times=2, on="/search/jql")
    sleeps = []
    run = sync(connection, sleeps)
    assert run.status == "succeeded", run.message
    assert sleeps == ([1.0, 2.0] if kind == "502" else [1.0, 1.0])  # backoff, or Retry-After
    assert WorkItem.objects.filter(connection=connection).count() == len(fake.project.issues)


def test_a_wrong_project_key_shows_jiras_message(world, fake):
    connection = connect(world, fake, project="NOPE")
    run = sync(connection)
    assert run.status == "failed"
    assert "The value 'NOPE' does not exist for the field 'project'." in run.message
    assert not WorkItem.objects.filter(connection=connection).exists()


def test_a_malformed_page_fails_clearly_and_keeps_the_cursor_of_the_pages_before(world):
    project = GeneratedJiraProject(issues=250, seed=7)
    with FakeJira(project, token=TOKEN, email=EMAIL) as server:
        connection = connect(world, server)

        def break_next_page(run) -> None:
            if run.records == 100:
                server.fail_next("malformed", on="/search/jql")

        run = sync(connection, on_progress=break_next_page)
        assert run.status == "failed" and "malformed" in run.message.lower()
        connection.refresh_from_db()
        hundredth = project.updated[project.index()[1][99]]
        assert datetime.datetime.fromisoformat(connection.cursor["issues"]) == hundredth.replace(
            microsecond=0
        )
        assert WorkItem.objects.filter(connection=connection).count() == 100
        assert connection.status == "failed"
        assert sync(connection).status == "succeeded"
    assert WorkItem.objects.filter(connection=connection).count() == 250


def test_a_mistyped_field_names_the_field_and_the_issue(world, fake):
    connection = connect(world, fake)
    fake.fail_next("bad_field", on="/search/jql")
    run = sync(connection)
    assert run.status == "failed"
    assert "'created'" in run.message and "issue SHOP-" in run.message


def test_a_redirect_to_another_host_is_not_followed(world, fake):
    connection = connect(world, fake)
    fake.fail_next("redirect_other_host")
    run = sync(connection)
    assert run.status == "failed" and "another host" in run.message


def test_a_wrong_token_says_so_without_showing_it(world, fake):
    connection = connect(world, fake)
    save_connection(membership=world.owner_m, instance=connection, token="jira_wrong_token_value")
    run = sync(connection)
    assert run.status == "failed" and "rejected the token" in run.message
    assert "jira_wrong_token_value" not in run.message


@pytest.mark.parametrize("cloud", [True, False])
def test_sprints_are_stored_with_their_dates_and_predictability_follows_the_changelog(world, cloud):
    """The fake puts most issues into the next sprint before it starts (committed) and some into
    the running one (added after its start: not committed); closed sprints count in the month they
    ended, for the vendor of each item."""
    from partnerscope.evidence.models import Sprint, WorkItemSprint
    from partnerscope.metrics import engine
    from partnerscope.metrics.models import MetricValue
    from tests.fakes.jira import SPRINT_FIELD

    project = GeneratedJiraProject(issues=150, seed=3, cloud=cloud)
    with FakeJira(project, token=TOKEN, email=EMAIL if cloud else None) as fake:
        connection = connect(world, fake, cloud=cloud)
        assert sync(connection).status == "succeeded"
    # Every sprint named by an issue, with the dates the fake gave it.
    start = project.start
    in_sprint = {key: issue["fields"][SPRINT_FIELD] for key, issue in project.issues.items()}
    numbers = {key: (sprints[0]["id"] if cloud else int(sprints[0].split("[id=")[1].split(",")[0]))
               for key, sprints in in_sprint.items() if sprints}  # fmt: skip
    stored = {int(s.external_id): s for s in Sprint.objects.filter(connection=connection)}
    assert set(stored) == set(numbers.values())
    for number, sprint in stored.items():
        begin = start + datetime.timedelta(days=14 * (number - 1))
        assert (sprint.started_at, sprint.ends_at) == (begin, begin + datetime.timedelta(days=14))
        assert sprint.state == "closed" and sprint.completed_at == sprint.ends_at
    assert WorkItemSprint.objects.filter(sprint__connection=connection).count() == len(numbers)
    # Predictability of Alpha's items, month by month, from the fake's own story.
    items = {i.key: i for i in WorkItem.objects.filter(connection=connection, vendor=world.vendor_a)}
    expected = {}
    for key, number in numbers.items():
        item = items.get(key)
        if item is None:
            continue
        begin = start + datetime.timedelta(days=14 * (number - 1))
        end = begin + datetime.timedelta(days=14)
        if item.created_at > begin:  # put into the sprint after it started
            continue
        month = end.date().replace(day=1)
        committed, delivered = expected.get(month, (0, 0))
        done = item.category == "done" and item.resolved_at is not None and item.resolved_at <= end
        expected[month] = (committed + 1, delivered + done)
    assert expected and any(c > d for c, d in expected.values())
    engine.full_recompute(world.org.id)
    values = MetricValue.objects.filter(
        organization=world.org, kpi="predictability", vendor_key=world.vendor_a.id, engagement_key=0,
        period_kind="month",
    )  # fmt: skip
    got = {v.period_start: (v.denominator, v.numerator) for v in values if v.denominator}
    assert got == expected
