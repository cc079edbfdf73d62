"""Importing a Jira CSV export when no API access is allowed, through the import page."""

from __future__ import annotations

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from partnerscope.engagements.models import Identity
from partnerscope.engagements.services import save_roster_record
from partnerscope.evidence.connector_services import save_connection
from partnerscope.evidence.connectors.jira.csv_import import parse_date
from partnerscope.evidence.connectors.runner import run_connector_import
from partnerscope.evidence.models import Connection, ConnectorRun, Incident, WorkItem, WorkItemEvent

UTC = datetime.UTC
HEADER = "Summary,Issue key,Issue id,Issue Type,Status,Project key,Priority,Resolution,Assignee,Assignee Id,Reporter,Reporter Id,Created,Updated,Resolved,Sprint,Sprint,Labels,Labels,Labels,Description,Inward issue link (Blocks),Outward issue link (Relates),Status Category"  # fmt: skip
ROWS = [
    '"Checkout is down, again",SHOP-14,10014,Incident,Done,SHOP,Highest,Done,Ben Beta,557058:ben,Ida Inhouse,557058:ida,14/Jul/25 3:42 PM,15/Jul/25 9:05 AM,15/Jul/25 9:00 AM,SHOP Sprint 3,SHOP Sprint 4,customer,outage,,"Steps:\n1. pay\n2. see 500",SHOP-2,,Done',
    '"Fix ""flaky"" test",SHOP-15,10015,Bug,In Review,SHOP,Medium,,Ana Alpha,557058:ana,Ben Beta,557058:ben,05/Sep/25 10:12 AM,2025-09-06 08:00,,SHOP Sprint 5,,,,,,,SHOP-14,In Progress',
    "Add search,SHOP-16,10016,Story,Backlog,SHOP,Low,Unresolved,,,Ana Alpha,557058:ana,2025-09-07T10:00:00.000+0200,,,,,,,,,,,To Do",
]  # fmt: skip


def csv_bytes(*rows: str, header: str = HEADER, bom: bool = True) -> bytes:
    return ("\ufeff" if bom else "").encode() + "\r\n".join([header, *rows, ""]).encode()


@pytest.fixture
def connection(world):
    connection = save_connection(
        membership=world.owner_m,
        instance=Connection(
            engagement=world.engagement_a, name="jira", kind="jira", project="SHOP",
            base_url="https://jira.acme.test", allow_private_host=True, account_email="bot@acme.test",
        ),
        token="jira_fake_api_token_0123456789",
    )  # fmt: skip
    for person, account in ((world.person_a, "557058:ana"), (world.person_b, "557058:ben")):
        save_roster_record(
            membership=world.owner_m, instance=Identity(person=person, kind="jira", value=account)
        )
    return connection


def import_files(world, connection, *files) -> ConnectorRun:
    client = Client()
    client.force_login(world.users["manager"])
    response = client.post(
        f"/o/acme/connections/{connection.uid}/import/",
        {"files": [SimpleUploadedFile(name, data, content_type="text/csv") for name, data in files]},
    )
    assert response.status_code == 302
    return run_connector_import(ConnectorRun.objects.get(connection=connection, status="queued"))


def test_a_jira_csv_export_imports_like_an_api_sync(world, connection):
    run = import_files(world, connection, ("issues.csv", csv_bytes(*ROWS)))
    assert run.status == "succeeded", run.message
    items = {i.key: i for i in WorkItem.objects.filter(connection=connection)}
    assert set(items) == {"SHOP-14", "SHOP-15", "SHOP-16"}
    down = items["SHOP-14"]
    # The account id columns, not the display names; credited to the assignee on the resolution date.
    assert (down.actor, down.assignee, down.reporter) == ("557058:ben", "557058:ben", "557058:ida")
    assert (down.status, down.vendor_id, down.acted_on) == (
        "vendor",
        world.vendor_b.id,
        datetime.date(2025, 7, 15),
    )
    assert down.title == "Checkout is down, again" and down.external_id == "10014"
    assert down.created_at == datetime.datetime(2025, 7, 14, 15, 42, tzinfo=UTC)
    assert down.resolved_at == datetime.datetime(2025, 7, 15, 9, 0, tzinfo=UTC)
    assert (down.labels, down.sprint, down.links) == (["customer", "outage"], "SHOP Sprint 4", ["SHOP-2"])
    assert (down.category, down.resolution, down.is_incident) == ("done", "Done", True)
    assert down.url == "https://jira.acme.test/browse/SHOP-14"
    flaky = items["SHOP-15"]
    assert (flaky.title, flaky.category, flaky.sprint, flaky.links) == ('Fix "flaky" test', "in_progress", "SHOP Sprint 5", ["SHOP-14"])  # fmt: skip
    assert flaky.updated_at == datetime.datetime(2025, 9, 6, 8, 0, tzinfo=UTC)
    backlog = items["SHOP-16"]
    assert (backlog.actor, backlog.vendor_id, backlog.category, backlog.resolution) == (
        "557058:ana", world.vendor_a.id, "todo", "",
    )  # fmt: skip
    assert backlog.created_at == datetime.datetime(2025, 9, 7, 8, 0, tzinfo=UTC)
    assert backlog.updated_at == backlog.created_at
    assert not WorkItemEvent.objects.filter(
        work_item__connection=connection
    ).exists()  # a CSV has no changelog
    assert Incident.objects.filter(connection=connection, source="issue", key="SHOP-14").exists()
    # The same file again changes nothing.
    assert import_files(world, connection, ("issues.csv", csv_bytes(*ROWS))).status == "succeeded"
    assert WorkItem.objects.filter(connection=connection).count() == 3


def test_a_bad_date_imports_nothing_and_names_the_file_row_and_column(world, connection):
    broken = ROWS[2].replace("2025-09-07T10:00:00.000+0200", "31/Foo/25")
    run = import_files(world, connection, ("good.csv", csv_bytes(ROWS[0])), ("issues.csv", csv_bytes(*ROWS[:2], broken)))  # fmt: skip
    assert run.status == "failed"
    # Row 4 as a spreadsheet shows it, although the description before it spans three lines.
    assert run.message == "Nothing was imported. issues.csv, row 4, column Created: '31/Foo/25' is not a date"
    assert not WorkItem.objects.filter(connection=connection).exists()


def test_an_export_with_semicolons_and_display_names_only_is_read_too(world, connection):
    header = "Issue key;Summary;Issue Type;Status;Assignee;Reporter;Created;Resolved;Labels;Labels"
    data = csv_bytes("SHOP-3;Login fails;Bug;Done;Ana Alpha;Ben Beta;1/Mar/2025 9:05 am;2/Mar/2025 17:30;;sev1", header=header, bom=False)  # fmt: skip
    run = import_files(world, connection, ("export.csv", data))
    assert run.status == "succeeded", run.message
    item = WorkItem.objects.get(connection=connection, key="SHOP-3")
    assert (item.actor, item.status, item.category, item.labels, item.is_incident) == (
        "Ana Alpha", "unattributed", "done", ["sev1"], True,
    )  # fmt: skip
    assert item.resolved_at == datetime.datetime(2025, 3, 2, 17, 30, tzinfo=UTC)


def test_fix_versions_are_read_from_every_column_of_either_name(world, connection):
    # Server and Data Center write "Fix Version/s", Cloud "Fix versions": one column a value.
    server = "Issue key,Summary,Status,Created,Fix Version/s,Fix Version/s,Fix Version/s"
    cloud = "Issue key,Summary,Status,Created,Fix versions,Fix versions"
    run = import_files(
        world, connection,
        ("server.csv", csv_bytes("SHOP-7,Pay by card,Done,1/Mar/2025 9:05 am,2025.03,,2025.04", header=server)),
        ("cloud.csv", csv_bytes("SHOP-8,Pay by link,Done,1/Mar/2025 9:05 am,,", "SHOP-9,Refunds,Done,2/Mar/2025 9:05 am,1.0,1.0", header=cloud)),
    )  # fmt: skip
    assert run.status == "succeeded", run.message
    stored = dict(WorkItem.objects.filter(connection=connection).values_list("key", "fix_versions"))
    assert stored == {"SHOP-7": ["2025.03", "2025.04"], "SHOP-8": [], "SHOP-9": ["1.0"]}


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("prs.json", b'[{"number": 1}]', "prs.json: not a Jira CSV export (it has no 'Issue key' column)."),
        ("issues.csv", csv_bytes(ROWS[0].replace("SHOP-14", "OPS-14", 1)),
         "issues.csv, row 2, column Issue key: OPS-14 is not in the project SHOP"),
        ("issues.csv", csv_bytes(ROWS[0].replace("Checkout is down, again", "", 1)),
         "issues.csv, row 2, column Summary: empty"),
        ("issues.csv", b"Issue key,Summary,Status\nSHOP-1,x,Done\n",
         "issues.csv: not a Jira CSV export (it has no 'Created' column)."),
        ("issues.csv", csv_bytes(ROWS[0]).replace(b"Ida Inhouse", b"Ida \xff"), "issues.csv: not a UTF-8 CSV file"),
    ],
)  # fmt: skip
def test_files_that_cannot_be_read_say_why(world, connection, name, data, message):
    run = import_files(world, connection, (name, data))
    assert run.status == "failed" and message in run.message, run.message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14/Jul/25 3:42 PM", datetime.datetime(2025, 7, 14, 15, 42, tzinfo=UTC)),
        ("05/Sep/26 12:05 AM", datetime.datetime(2026, 9, 5, 0, 5, tzinfo=UTC)),
        ("5/sep/2026 12:05 pm", datetime.datetime(2026, 9, 5, 12, 5, tzinfo=UTC)),
        ("05/Sep/26", datetime.datetime(2026, 9, 5, tzinfo=UTC)),
        ("2025-07-14 15:42", datetime.datetime(2025, 7, 14, 15, 42, tzinfo=UTC)),
        ("2025-07-14T15:42:00.000-0500", datetime.datetime(2025, 7, 14, 20, 42, tzinfo=UTC)),
    ],
)
def test_dates_in_jiras_format_and_iso(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/Foo/25", "31/Feb/25 1:00 PM", "14/Jul/25 13:42 PM", "yesterday"])
def test_what_is_not_a_date(text):
    with pytest.raises(ValueError):
        parse_date(text)
