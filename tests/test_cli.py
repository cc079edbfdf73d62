"""The ``partnerscope`` command line: help, serve, createorg, createuser and the demo."""

from __future__ import annotations

import datetime
import io
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError

from partnerscope import demo
from partnerscope.engagements.models import Assignment, Engagement, Person
from partnerscope.orgs.models import AuditEvent, Membership, Organization
from partnerscope.orgs.services import create_organization
from partnerscope.vendors.models import Certification, Skill, Vendor

OPS_COMMANDS = ["serve", "worker", "demo", "createorg", "createuser", "backup", "restore"]
REPO = Path(__file__).resolve().parent.parent
PASSWORD = "a long enough passphrase 42"


def child_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, PARTNERSCOPE_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    env.pop("DATABASE_URL", None)
    env.pop("PARTNERSCOPE_TASK_BACKEND", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [str(REPO), env.get("PYTHONPATH", "")] if p)
    return env


# --- help -----------------------------------------------------------------------------------


def test_help_lists_the_operational_commands(tmp_path):
    # The installed console script when there is one (make's bootstrap installs it), else the module.
    script = Path(sys.executable).with_name("partnerscope")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "partnerscope.cli"]
    result = subprocess.run(
        [*command, "--help"],
        env=child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    overview, _, django_list = result.stdout.partition("Available subcommands:")
    for name in OPS_COMMANDS:
        assert re.search(rf"^  {name}\s+\S", overview, re.MULTILINE), name
    # ...and Django knows them as installed commands of the ops app.
    ops_section = django_list.split("[ops]", 1)[1].split("[", 1)[0].split()
    assert sorted(ops_section) == sorted(OPS_COMMANDS)


@pytest.mark.parametrize("name", OPS_COMMANDS)
def test_every_command_and_option_has_help(name):
    command = load_command_class("partnerscope.ops", name)
    assert len(command.help) > 40
    parser = command.create_parser("partnerscope", name)
    for action in parser._actions:
        assert action.help, f"{name} {action.option_strings or action.dest} has no help"


# --- serve ----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.com"])  # noqa: S104
def test_serve_refuses_a_public_address_without_public(host):
    with pytest.raises(CommandError, match=r"--public") as excinfo:
        call_command("serve", "--host", host, "--no-worker", "--no-migrate")
    assert "plain HTTP" in str(excinfo.value)


def test_serve_runs_app_and_worker_and_stops_both(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "partnerscope.cli", "serve", "--port", "0", "--threads", "2"],
        env=child_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines, url, worker_pid = [], None, None
    try:
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if m := re.search(r"worker started \(pid (\d+)\)", line):
                worker_pid = int(m.group(1))
            if m := re.search(r"running at (http://\S+)", line):
                url = m.group(1)
        assert url, "".join(lines)
        assert url.startswith("http://127.0.0.1:")
        assert worker_pid is not None, "".join(lines)
        with urllib.request.urlopen(url + "healthz", timeout=30) as response:
            assert response.status == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, "".join(lines) + out
    assert "stopped" in out
    with pytest.raises(ProcessLookupError):
        os.kill(worker_pid, 0)  # the worker went with the server


def test_the_server_has_its_default_threads_and_freezes_what_lives_as_long_as_it():
    import gc

    from partnerscope.ops.server import DEFAULT_THREADS, make_server, serve_in_thread

    server = make_server("127.0.0.1", 0)
    stop = server.close
    try:
        assert server.adj.threads == DEFAULT_THREADS == 4
        # The app's modules, classes and views are out of the collector's walks.
        assert gc.get_freeze_count() > 10_000
        # A static file: served without the database (a request thread's connection would
        # outlive the test and hold the test database open).
        stop = serve_in_thread(server)
        with urllib.request.urlopen(
            f"http://127.0.0.1:{server.effective_port}/static/partnerscope/app.css", timeout=30
        ) as response:
            assert response.status == 200
    finally:
        stop()
        gc.unfreeze()
    assert (
        "default: 4"
        in load_command_class("partnerscope.ops", "serve").create_parser("x", "serve").format_help()
    )


# --- createorg ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_createorg_with_owner(capsys):
    owner = get_user_model().objects.create_user("boss@acme.example", "boss@acme.example", PASSWORD)
    call_command("createorg", "acme", "Acme Corp", "--owner", "Boss@Acme.example")
    org = Organization.objects.get(slug="acme")
    assert org.name == "Acme Corp"
    assert Membership.objects.get(organization=org, user=owner).role == "owner"
    assert Skill.objects.filter(organization=org).exists()  # the taxonomy is seeded
    assert "Created organization Acme Corp (acme)" in capsys.readouterr().out
    assert AuditEvent.objects.filter(organization=org, action="partnerscope.membership.created").exists()


@pytest.mark.django_db
def test_createorg_without_owner_says_how_to_add_one(capsys):
    call_command("createorg", "acme", "Acme Corp")
    assert not Membership.objects.filter(organization__slug="acme").exists()
    assert "createuser EMAIL --org acme --role owner" in capsys.readouterr().out


@pytest.mark.django_db
def test_createorg_errors():
    create_organization(slug="acme", name="Acme Corp")
    with pytest.raises(CommandError, match=r"The slug 'acme' is already taken by Acme Corp"):
        call_command("createorg", "acme", "Another")
    with pytest.raises(CommandError, match=r"slug: Use 1-50 lowercase letters"):
        call_command("createorg", "Not A Slug", "Another")
    with pytest.raises(CommandError, match=r"No user 'ghost@example.com'.*createuser ghost@example.com"):
        call_command("createorg", "other", "Other", "--owner", "ghost@example.com")
    assert not Organization.objects.filter(slug="other").exists()


# --- createuser -----------------------------------------------------------------------------


@pytest.fixture
def org(db):
    return create_organization(slug="acme", name="Acme Corp")


def createuser(*args, password=PASSWORD):
    return call_command("createuser", *args, "--password-stdin", stdin=io.StringIO(password + "\n"))


@pytest.mark.django_db
def test_createuser_creates_account_and_membership(org, capsys):
    createuser("Ana@Acme.example", "--org", "acme", "--role", "manager")
    user = get_user_model().objects.get(username="ana@acme.example")
    assert user.email == "ana@acme.example"
    assert user.check_password(PASSWORD)
    assert Membership.objects.get(organization=org, user=user).role == "manager"
    assert "Created user ana@acme.example is now manager in Acme Corp" in capsys.readouterr().out
    event = AuditEvent.objects.get(organization=org, action="partnerscope.membership.created")
    assert event.actor is None  # the command line acts as nobody in particular


@pytest.mark.django_db
def test_createuser_vendor_role_and_existing_account(org, capsys):
    vendor = Vendor.objects.create(organization=org, name="Vistula Software")
    other = create_organization(slug="other", name="Other Inc")
    createuser("am@vistula.example", "--org", "acme", "--role", "vendor", "--vendor", "vistula software")
    membership = Membership.objects.get(organization=org, user__username="am@vistula.example")
    assert (membership.role, membership.vendor) == ("vendor", vendor)
    # An existing account joins another organization; its password is not asked for again.
    call_command(
        "createuser", "am@vistula.example", "--org", "other", "--role", "viewer", stdin=io.StringIO("")
    )
    assert Membership.objects.get(organization=other, user__username="am@vistula.example").role == "viewer"
    assert "password is unchanged" in capsys.readouterr().out


@pytest.mark.django_db
def test_createuser_errors(org):
    Vendor.objects.create(organization=org, name="Vistula Software")
    other = create_organization(slug="other", name="Other Inc")
    Vendor.objects.create(organization=other, name="Kaveri Technologies")
    User = get_user_model()

    with pytest.raises(CommandError, match=r"No organization with the slug 'nope'"):
        createuser("a@x.example", "--org", "nope", "--role", "viewer")
    with pytest.raises(
        CommandError, match=r"must be bound to one vendor: add --vendor NAME.*Vistula Software"
    ):
        createuser("a@x.example", "--org", "acme", "--role", "vendor")
    with pytest.raises(CommandError, match=r"No vendor named 'Kaveri Technologies' in Acme Corp"):
        createuser("a@x.example", "--org", "acme", "--role", "vendor", "--vendor", "Kaveri Technologies")
    with pytest.raises(CommandError, match=r"Only vendor users are bound to a vendor"):
        createuser("a@x.example", "--org", "acme", "--role", "viewer", "--vendor", "Vistula Software")
    with pytest.raises(CommandError, match=r"not an e-mail address"):
        createuser("not-an-email", "--org", "acme", "--role", "viewer")
    with pytest.raises(CommandError, match=r"The password was refused:\n  - .*too short") as excinfo:
        createuser("a@x.example", "--org", "acme", "--role", "viewer", password="1234")
    assert "entirely numeric" in str(excinfo.value)
    with pytest.raises(CommandError, match=r"No terminal to prompt for a password"):
        call_command("createuser", "a@x.example", "--org", "acme", "--role", "viewer", stdin=io.StringIO(""))
    assert not User.objects.filter(username="a@x.example").exists()

    createuser("b@x.example", "--org", "acme", "--role", "viewer")
    with pytest.raises(CommandError, match=r"b@x.example is already a member of Acme Corp \(as viewer\)"):
        createuser("b@x.example", "--org", "acme", "--role", "manager")


# --- demo -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_loads_once_and_prints_logins(capsys):
    call_command("demo", "--no-migrate")
    out = capsys.readouterr().out
    assert "Created the demo organization Northwind Labs" in out
    assert f"password: {demo.DEFAULT_PASSWORD}" in out
    for email in ["owner@northwind.example", "viewer@northwind.example", "manager@northwind.example"]:
        assert email in out
    assert re.search(r"am@\S+\s+vendor of Vistula Software", out)

    org = Organization.objects.get(slug="northwind")
    counts = (Person.objects.count(), Assignment.objects.count(), AuditEvent.objects.count())
    assert 25 <= counts[0] <= 35
    assert Vendor.objects.filter(organization=org).count() >= 4

    call_command("demo", "--no-migrate")  # idempotent: kept as is
    assert "already loaded" in capsys.readouterr().out
    assert Organization.objects.get(slug="northwind").pk == org.pk
    assert (Person.objects.count(), Assignment.objects.count(), AuditEvent.objects.count()) == counts

    call_command("demo", "--no-migrate", "--reset")
    assert "Recreated" in capsys.readouterr().out
    new = Organization.objects.get(slug="northwind")
    assert new.pk != org.pk
    assert Person.objects.filter(organization=new).count() == counts[0]
    assert Organization.objects.count() == 1


@pytest.mark.django_db
def test_demo_logins_work():
    result = demo.load_demo()
    assert result.created
    users = {u.username: u for u in get_user_model().objects.all()}
    roles = {}
    for login in result.logins:
        assert users[login.email].check_password(demo.DEFAULT_PASSWORD)
        membership = Membership.objects.get(organization=result.organization, user=users[login.email])
        roles[login.email] = (membership.role, membership.vendor.name if membership.vendor else "")
    assert roles["owner@northwind.example"] == ("owner", "")
    assert roles["manager@northwind.example"] == ("manager", "")
    assert roles["viewer@northwind.example"] == ("viewer", "")
    assert sorted(v for r, v in roles.values() if r == "vendor") == [
        "Kaveri Technologies",
        "Vistula Software",
    ]


@pytest.mark.django_db
def test_demo_content_is_realistic():
    org = demo.load_demo().organization
    today = datetime.date.today()

    # The mover: one person, two vendors, the second starting the day after the first ends.
    movers = []
    for person in Person.objects.filter(organization=org):
        rows = list(person.assignments.exclude(vendor=None).order_by("valid_from"))
        if len({a.vendor_id for a in rows}) >= 2:
            movers.append((person, rows))
    assert len(movers) == 1
    _, (first, second) = movers[0]
    assert first.vendor_id != second.vendor_id
    assert first.valid_to + datetime.timedelta(days=1) == second.valid_from

    # In-house staff: assignments without a vendor, some on an engagement.
    in_house = Assignment.objects.filter(organization=org, vendor=None)
    assert in_house.values("person").distinct().count() >= 3
    assert in_house.exclude(engagement=None).exists()

    # Someone rolled off: their last assignment ended in the past.
    rolled_off = [
        p
        for p in Person.objects.filter(organization=org)
        if (last := p.assignments.order_by("-valid_from").first()) and last.valid_to and last.valid_to < today
    ]
    assert rolled_off

    statuses = {c.status for c in Certification.objects.filter(organization=org)}
    assert {"expired", "expiring", "valid"} <= statuses

    models = set(Engagement.objects.filter(organization=org).values_list("model", flat=True))
    assert models == set(Engagement.Model.values)
    assert Vendor.objects.filter(organization=org, status="prospect").exists()


@pytest.mark.django_db
def test_demo_is_built_through_the_services():
    org = demo.load_demo().organization
    events = AuditEvent.objects.filter(organization=org)
    owner = get_user_model().objects.get(username="owner@northwind.example")
    actions = set(events.values_list("action", flat=True))
    for action in [
        "partnerscope.vendor.created",
        "partnerscope.certification.created",
        "partnerscope.ratecardline.created",
        "partnerscope.engagement.created",
        "partnerscope.person.created",
        "partnerscope.identity.created",
        "partnerscope.assignment.created",
        "partnerscope.membership.created",
    ]:
        assert action in actions, action
    # One event per record created through a service, all by the demo owner.
    assert (
        events.filter(action="partnerscope.assignment.created").count()
        == Assignment.objects.filter(organization=org).count()
    )
    assert not events.exclude(actor=owner).exists()


def test_demo_password_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PARTNERSCOPE_DEMO_PASSWORD", "another-demo-password")
    assert demo.demo_password() == "another-demo-password"
    monkeypatch.delenv("PARTNERSCOPE_DEMO_PASSWORD")
    assert demo.demo_password() == "partnerscope-demo"


@pytest.mark.django_db
def test_demo_has_github_evidence_that_follows_the_roster():
    from partnerscope.evidence.models import Connection, Incident, PullRequest, Review, WorkItem
    from partnerscope.evidence.queries import unattributed_usernames

    org = demo.load_demo().organization
    connections = Connection.objects.filter(organization=org)
    assert connections.filter(kind="github").count() == 2
    prs = PullRequest.objects.filter(organization=org)
    assert prs.count() > 50
    assert prs.filter(status="vendor").values("vendor").distinct().count() == 2
    assert Review.objects.filter(organization=org, status="inhouse").exists()
    assert WorkItem.objects.filter(organization=org, is_incident=True).exists()
    assert Incident.objects.filter(organization=org, source="issue").exists()
    owner = Membership.objects.get(organization=org, role="owner")
    assert "sam-freelance" in {e.login for e in unattributed_usernames(owner)}


@pytest.mark.django_db
def test_demo_has_jira_sprints_and_their_predictability():
    from partnerscope.evidence.models import Connection, Sprint, WorkItem, WorkItemSprint
    from partnerscope.metrics.models import MetricValue

    org = demo.load_demo().organization
    jira = Connection.objects.get(organization=org, kind="jira")
    closed = Sprint.objects.filter(connection=jira, state="closed")
    assert closed.count() > 10 and not closed.filter(completed_at__isnull=True).exists()
    assert (
        WorkItemSprint.objects.filter(sprint__connection=jira).count()
        == WorkItem.objects.filter(connection=jira).count()
    )
    # Every item attributed to the vendor on the roster; some pulled in after a sprint started.
    assert set(WorkItem.objects.filter(connection=jira).values_list("status", flat=True)) == {"vendor"}
    links = WorkItemSprint.objects.filter(sprint__connection=jira).select_related("work_item", "sprint")
    assert any(link.work_item.created_at > link.sprint.started_at for link in links)
    values = MetricValue.objects.filter(organization=org, kpi="predictability", status="ok", engagement_key=0)
    assert values.exists() and all(0 < v.value <= 1 for v in values)
    assert any(v.value < 1 for v in values)  # some committed work spilled over
    assert MetricValue.objects.filter(organization=org, kpi="velocity_cv", status="ok").exists()


@pytest.mark.django_db
def test_demo_fixes_trace_back_to_their_bugs_and_builds_report_coverage():
    from partnerscope.evidence.models import BugFix, BugIntroduction, CoverageReport
    from partnerscope.metrics.models import MetricValue

    org = demo.load_demo().organization
    fixes = BugFix.objects.filter(organization=org)
    assert fixes.count() > 20 and set(fixes.values_list("reason", flat=True)) == {"conventional"}
    introduced = BugIntroduction.objects.filter(organization=org)
    assert introduced.count() >= fixes.count() // 2
    # Vendors' and the baseline's quarters have values, none all-or-nothing everywhere.
    values = MetricValue.objects.filter(
        organization=org, kpi="bug_introducing_rate", status="ok", period_kind="quarter", engagement_key=0
    )
    assert values.exclude(vendor_key=0).exists()
    assert any(0 < v.value < 1 for v in values)

    # CI's coverage reports of the last months: both vendors' new code, at their own habits.
    assert CoverageReport.objects.filter(organization=org, new_lines__gt=0).count() > 50
    coverage = {
        v.vendor_key: v.value
        for v in MetricValue.objects.filter(
            organization=org, kpi="new_code_coverage", status="ok", period_kind="month", engagement_key=0
        ).order_by("period_start")
    }
    vendors = dict(Vendor.objects.filter(organization=org).values_list("name", "id"))
    assert coverage[vendors["Vistula Software"]] > coverage[vendors["Kaveri Technologies"]] > 0.5
