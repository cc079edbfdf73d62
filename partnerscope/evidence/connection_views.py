"""Pages of tracker connections and of the records they bring (pull requests, work items,
deployments, incidents). Thin: services change state, querysets are scoped by ``visible_to``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partnerscope.evidence import connector_services as services
from partnerscope.evidence.forms import ConnectionForm, ImportForm
from partnerscope.evidence.models import Connection, ConnectorRun, Deployment, Incident, PullRequest, WorkItem
from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm
from partnerscope.web.crud import client_ip, delete_page, form_page
from partnerscope.web.tables import Column, build_table

SECTION = "evidence"


@requires(Perm.VIEW)
def connection_list(request, org_slug):
    rows = Connection.objects.visible_to(request.membership).select_related("engagement__vendor")
    table = build_table(
        request,
        rows,
        [
            Column("name", "Connection", "name"),
            Column("kind", "System", "kind"),
            Column("project", "Project", "project"),
            Column("engagement", "Engagement", "engagement__name"),
            Column("status", "Status", "status"),
            Column("synced", "Last sync", "last_synced_at"),
        ],
        default_sort="name",
        search=["name", "project", "engagement__name", "engagement__vendor__name"],
        filters={"engagement": "engagement__uid"},
    )
    return render(request, "evidence/connection_list.html", {"section": SECTION, "table": table})


def _connection(request, uid):
    return Connection.objects.get_visible_or_404(request.membership, uid=uid)


@requires(Perm.VIEW)
def connection_detail(request, org_slug, uid):
    m = request.membership
    connection = _connection(request, uid)
    runs = ConnectorRun.objects.visible_to(m).filter(connection=connection)[:10]
    counts = {
        "pull requests": PullRequest.objects.visible_to(m).filter(connection=connection).count(),
        "work items": WorkItem.objects.visible_to(m).filter(connection=connection).count(),
        "deployments": Deployment.objects.visible_to(m).filter(connection=connection).count(),
        "incidents": Incident.objects.visible_to(m).filter(connection=connection).count(),
    }
    context = {
        "section": SECTION,
        "connection": connection,
        "runs": runs,
        "active_run": next((r for r in runs if r.is_active), None),
        "counts": counts,
    }
    return render(request, "evidence/connection_detail.html", context)


def _save(request, form):
    return lambda: services.save_connection(
        membership=request.membership,
        instance=form.instance,
        token=form.cleaned_data.get("token", ""),
        remote_addr=client_ip(request),
    )


@requires(Perm.EDIT)
def connection_create(request, org_slug):
    form = ConnectionForm(
        request.POST or None,
        membership=request.membership,
        initial={"engagement": request.GET.get("engagement", "")},
    )
    return form_page(
        request,
        form,
        title="Connect a tracker",
        section=SECTION,
        intro="partnerscope reads pull requests, reviews, issues and deployments with the token; it never writes. "
        "The token is stored encrypted and never shown again.",
        save=_save(request, form),
        success_url=lambda c: reverse("connection_detail", args=[org_slug, c.uid]),
        cancel_url=reverse("connection_list", args=[org_slug]),
        success_message="Connected. Start a sync to read the project.",
    )


@requires(Perm.EDIT)
def connection_edit(request, org_slug, uid):
    connection = _connection(request, uid)
    form = ConnectionForm(request.POST or None, membership=request.membership, instance=connection)
    detail = reverse("connection_detail", args=[org_slug, uid])
    return form_page(
        request, form, title=f"Edit {connection}", section=SECTION, save=_save(request, form),
        success_url=lambda c: detail, cancel_url=detail,
    )  # fmt: skip


@requires(Perm.EDIT)
def connection_delete(request, org_slug, uid):
    connection = _connection(request, uid)
    return delete_page(
        request,
        connection,
        kind="connection",
        section=SECTION,
        delete=lambda: services.delete_connection(
            membership=request.membership, instance=connection, remote_addr=client_ip(request)
        ),
        success_url=reverse("connection_list", args=[org_slug]),
        cancel_url=reverse("connection_detail", args=[org_slug, uid]),
    )


@requires(Perm.EDIT)
@require_POST
def connection_sync(request, org_slug, uid):
    connection = _connection(request, uid)
    try:
        services.start_connection_sync(membership=request.membership, connection=connection)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Sync queued; progress shows below.")
    return redirect("connection_detail", org_slug=org_slug, uid=uid)


IMPORT_HELP = {
    "github": "Export with gh pr list --state all --limit 100000 --json number,title,state,isDraft,author,"
    "createdAt,updatedAt,closedAt,mergedAt,url,additions,deletions,changedFiles,labels,mergeCommit,commits,"
    "reviews,comments and gh issue list --state all --limit 100000 --json number,title,state,stateReason,"
    "author,labels,assignees,milestone,createdAt,updatedAt,closedAt,url. Everything in the files is "
    "imported, or nothing if one record is malformed.",
    "jira": "Export the project's issues from Jira as CSV (all fields). Include the Assignee Id and Reporter "
    "Id columns so people match their Jira identities; dates without a time zone are read as UTC. "
    "Everything in the files is imported, or nothing if one row is malformed.",
    "gitlab": "Save what GitLab's REST API lists, in a clone of the project: glab api --paginate "
    '"projects/:id/merge_requests?state=all&per_page=100" > merge_requests.json, the same for issues?scope=all, '
    "deployments and pipelines, and for each merge request its notes, commits and approvals "
    "(merge_requests/12/notes > mr-12-notes.json: commits and approvals files must name their merge request "
    "like that), and for each issue its notes, resource_state_events and resource_label_events "
    "(issue-7-state.json). Without notes or approvals a merge request keeps the reviews a sync stored; "
    "diff sizes are not in the REST lists. Everything in the files is imported, or nothing if one record "
    "is malformed.",
}
FILES_HELP = {
    "github": "The JSON of gh pr list / gh issue list --json … (see above).",
    "gitlab": "JSON files saved from GitLab's REST API (glab api --paginate …, see above); several at once.",
    "jira": "A CSV export of the project's issues (see above).",
}


@requires(Perm.EDIT)
def connection_import(request, org_slug, uid):
    """Import an export (GitHub: gh … --json; GitLab: REST lists; Jira: CSV) when no API access is
    allowed."""
    connection = _connection(request, uid)
    posted = request.method == "POST"
    form = ImportForm(request.POST if posted else None, request.FILES if posted else None)
    form.fields["files"].help_text = FILES_HELP.get(connection.kind, form.fields["files"].help_text)
    detail = reverse("connection_detail", args=[org_slug, uid])
    return form_page(
        request,
        form,
        title=f"Import an export into {connection}",
        section=SECTION,
        intro=IMPORT_HELP.get(connection.kind, ""),
        save=lambda: services.start_import(
            membership=request.membership,
            connection=connection,
            files=[(f.name, f.read()) for f in form.cleaned_data["files"]],
        ),
        success_url=lambda run: detail,
        cancel_url=detail,
        submit_label="Import",
        success_message="Import queued; progress shows below.",
    )


@requires(Perm.VIEW)
def connector_run_progress(request, org_slug, uid):
    run = ConnectorRun.objects.get_visible_or_404(request.membership, uid=uid)
    return render(request, "evidence/_connector_progress.html", {"run": run})


@requires(Perm.EDIT)
@require_POST
def connector_run_cancel(request, org_slug, uid):
    run = ConnectorRun.objects.get_visible_or_404(request.membership, uid=uid)
    try:
        services.cancel_connection_sync(membership=request.membership, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Cancelling: the sync stops after the page it is writing.")
    return redirect("connection_detail", org_slug=org_slug, uid=run.connection.uid)


def _records(request, model, columns, *, template, title, default_sort, search):
    rows = model.objects.visible_to(request.membership).select_related(
        "connection__engagement", "vendor", "person"
    )
    table = build_table(
        request,
        rows,
        columns,
        default_sort=default_sort,
        search=search,
        filters={
            "connection": "connection__uid",
            "engagement": "connection__engagement__uid",
            "status": "status",
        },
        per_page=100,
    )
    return render(request, template, {"section": SECTION, "table": table, "title": title})


@requires(Perm.VIEW)
def pull_request_list(request, org_slug):
    return _records(
        request,
        PullRequest,
        [
            Column("number", "Pull request", "number"),
            Column("state", "State", "state"),
            Column("author", "Author", "actor"),
            Column("created", "Created", "created_at"),
            Column("merged", "Merged", "merged_at"),
            Column("size", "+ / −", "additions", numeric=True),
        ],
        template="evidence/pull_request_list.html",
        title="Pull requests",
        default_sort="-created",
        search=["title", "actor", "connection__name"],
    )


@requires(Perm.VIEW)
def work_item_list(request, org_slug):
    return _records(
        request,
        WorkItem,
        [
            Column("key", "Item", "key"),
            Column("type", "Type", "item_type"),
            Column("status", "Status", "workflow_status"),
            Column("assignee", "Assignee", "actor"),
            Column("created", "Created", "created_at"),
            Column("resolved", "Resolved", "resolved_at"),
        ],
        template="evidence/work_item_list.html",
        title="Work items",
        default_sort="-created",
        search=["title", "key", "actor", "connection__name"],
    )


@requires(Perm.VIEW)
def deployment_list(request, org_slug):
    return _records(
        request,
        Deployment,
        [
            Column("created", "Started", "created_at"),
            Column("environment", "Environment", "environment"),
            Column("outcome", "Outcome", "outcome"),
            Column("ref", "Ref", "ref"),
            Column("by", "By", "actor"),
        ],
        template="evidence/deployment_list.html",
        title="Deployments",
        default_sort="-created",
        search=["environment", "ref", "sha", "name", "actor"],
    )


@requires(Perm.VIEW)
def incident_list(request, org_slug):
    return _records(
        request,
        Incident,
        [
            Column("started", "Started", "started_at"),
            Column("source", "Source", "source"),
            Column("title", "Incident", "title"),
            Column("resolved", "Resolved", "resolved_at"),
            Column("charged", "Charged to", "actor"),
        ],
        template="evidence/incident_list.html",
        title="Incidents",
        default_sort="-started",
        search=["title", "key", "actor"],
    )
