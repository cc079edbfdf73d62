"""Tracker connections (GitHub), their syncs, and the records they bring: pull requests, work
items, deployments and incidents. Vendor users see the connections of their own vendor's
engagements and only the records attributed to their own vendor. The token is write-only: it
is never in any answer, only a hint of its last characters.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from partnerscope.api import schemas as s
from partnerscope.api.auth import TokenAuth
from partnerscope.api.common import assign, paginate, remote_addr
from partnerscope.engagements.models import Engagement
from partnerscope.evidence import connector_services as services
from partnerscope.evidence.models import Connection, ConnectorRun, Deployment, Incident, PullRequest, WorkItem
from partnerscope.evidence.models.tracker import (
    DEFAULT_CLIENT_WAIT,
    DEFAULT_FOUND_IN_PRODUCTION,
    DEFAULT_HOTFIX,
    DEFAULT_INCIDENT_LABELS,
    DEFAULT_PRODUCTION,
)
from partnerscope.orgs.roles import Perm

router = Router(tags=["trackers"])
write = TokenAuth(perm=Perm.EDIT)
REFS = {"engagement": Engagement}
CONFLICT = {409: s.ErrorOut}


class ConnectionOut(Schema):
    uid: str
    engagement: str = Field(description="Engagement uid")
    name: str
    kind: str
    base_url: str
    project: str
    account_email: str
    token_hint: str = Field(
        description="The last characters of the stored token; the token itself is never returned"
    )
    production_environments: str
    incident_labels: str
    hotfix_refs: str
    client_wait_states: str
    found_in_production_labels: str
    allow_private_host: bool
    status: str
    last_synced_at: datetime.datetime | None
    last_error: str

    @staticmethod
    def resolve_engagement(obj) -> str:
        return obj.engagement.uid


class ConnectionIn(s.In):
    engagement: str = Field(description="Engagement uid")
    name: str
    kind: str = Field("github", description='"github", "gitlab" or "jira"')
    base_url: str = Field("", description="Empty for github.com; https://host for GitHub Enterprise Server")
    project: str = Field(description="owner/repository (GitHub), group/project (GitLab), project key (Jira)")
    account_email: str = Field("", description="Jira Cloud: the e-mail of the token's account")
    token: str = Field(
        "", description="A read-only token; write-only, stored encrypted. Empty keeps the stored one."
    )
    production_environments: str = Field(
        DEFAULT_PRODUCTION, description="Production environment names, one glob a line"
    )
    incident_labels: str = Field(DEFAULT_INCIDENT_LABELS, description="Labels that make an issue an incident")
    hotfix_refs: str = Field(DEFAULT_HOTFIX, description="Branch names of hotfix deployments")
    client_wait_states: str = Field(
        DEFAULT_CLIENT_WAIT, description="Statuses or labels that mean a work item waits for the client"
    )
    found_in_production_labels: str = Field(
        DEFAULT_FOUND_IN_PRODUCTION, description="Labels that mean a bug was found in production (escaped)"
    )
    allow_private_host: bool = Field(False, description="Allow a server on a private address (owners only)")


ConnectionPatch = s.patch_of(ConnectionIn, "ConnectionPatch")
ConnectionPage = s.page_of("ConnectionPage", ConnectionOut)


class ConnectorRunOut(Schema):
    uid: str
    connection: str = Field(description="Connection uid")
    status: str
    phase: str
    records: int
    requests: int
    message: str
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None

    @staticmethod
    def resolve_connection(obj) -> str:
        return obj.connection.uid


def _connection_uid(obj) -> str:
    return obj.connection.uid


def _attribution(obj) -> str:
    return obj.status


def _vendor_uid(obj) -> str | None:
    return obj.vendor.uid if obj.vendor_id else None


class AttributedOut(Schema):
    # ninja collects resolvers from each class body, so every subclass names them again.
    connection: str = Field(description="Connection uid")
    actor: str = Field(description="Username on the source system")
    attribution: str = Field(description='"vendor", "inhouse", "unattributed", "bot" or "" (not yet)')
    vendor: str | None = Field(description="Vendor uid when attributed to a vendor")


RESOLVERS = {
    "resolve_connection": staticmethod(_connection_uid),
    "resolve_attribution": staticmethod(_attribution),
    "resolve_vendor": staticmethod(_vendor_uid),
}


class PullRequestOut(AttributedOut):
    locals().update(RESOLVERS)
    number: int
    title: str
    url: str
    state: str
    draft: bool
    created_at: datetime.datetime
    ready_at: datetime.datetime | None
    first_commit_at: datetime.datetime | None
    merged_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    merge_commit_sha: str
    additions: int
    deletions: int
    changed_files: int
    commit_count: int
    labels: list[str]


class WorkItemOut(AttributedOut):
    locals().update(RESOLVERS)
    key: str
    title: str
    url: str
    item_type: str
    priority: str
    workflow_status: str
    category: str
    resolution: str
    created_at: datetime.datetime
    resolved_at: datetime.datetime | None
    assignee: str
    reporter: str
    sprint: str
    labels: list[str]
    is_incident: bool
    found_in_production: bool


class DeploymentOut(AttributedOut):
    locals().update(RESOLVERS)
    external_id: str
    kind: str
    environment: str
    is_production: bool
    is_hotfix: bool
    outcome: str
    sha: str
    ref: str
    created_at: datetime.datetime
    finished_at: datetime.datetime | None
    url: str


class IncidentOut(AttributedOut):
    locals().update(RESOLVERS)
    source: str
    key: str
    title: str
    url: str
    started_at: datetime.datetime
    resolved_at: datetime.datetime | None


PullRequestPage = s.page_of("PullRequestPage", PullRequestOut)
WorkItemPage = s.page_of("WorkItemPage", WorkItemOut)
DeploymentPage = s.page_of("DeploymentPage", DeploymentOut)
IncidentPage = s.page_of("IncidentPage", IncidentOut)


def _connection(request, uid: str) -> Connection:
    return Connection.objects.select_related("engagement").get_visible_or_404(request.auth, uid=uid)


def _save(request, connection: Connection, token: str) -> Connection:
    instance = services.save_connection(
        membership=request.auth, instance=connection, token=token, remote_addr=remote_addr(request)
    )
    instance.refresh_from_db()
    return instance


def _records(request, model, connection: str | None, since: datetime.datetime | None, date_field: str):
    qs = model.objects.visible_to(request.auth).select_related("connection", "vendor")
    if connection:
        qs = qs.filter(connection__uid=connection)
    if since:
        qs = qs.filter(**{f"{date_field}__gte": since})
    return qs.order_by(f"-{date_field}", "-id")


@router.get("/connections", response={200: ConnectionPage, **s.ERRORS}, summary="List tracker connections")
def list_connections(request, page: Query[s.PageParams], engagement: str | None = None):
    qs = Connection.objects.visible_to(request.auth).select_related("engagement")
    if engagement:
        qs = qs.filter(engagement__uid=engagement)
    return paginate(qs, page)


@router.post(
    "/connections", auth=write, response={201: ConnectionOut, **s.ERRORS}, summary="Connect a tracker"
)
def create_connection(request, payload: ConnectionIn):
    data = payload.dict()
    token = data.pop("token")
    connection = _save(request, assign(Connection(), data, REFS, request.auth), token)
    return Status(201, ConnectionOut.from_orm(connection))


@router.get(
    "/connections/{uid}", response={200: ConnectionOut, **s.ERRORS}, summary="Get a tracker connection"
)
def get_connection(request, uid: str):
    return ConnectionOut.from_orm(_connection(request, uid))


@router.patch(
    "/connections/{uid}",
    auth=write,
    response={200: ConnectionOut, **s.ERRORS},
    summary="Update a tracker connection",
)
def update_connection(request, uid: str, payload: ConnectionPatch):
    """Changing the project or server reads the new one from the start at the next sync."""
    data = payload.dict(exclude_unset=True)
    token = data.pop("token", "") or ""
    connection = assign(_connection(request, uid), data, REFS, request.auth)
    return ConnectionOut.from_orm(_save(request, connection, token))


@router.delete(
    "/connections/{uid}", auth=write, response={204: None, **s.ERRORS}, summary="Delete a tracker connection"
)
def delete_connection(request, uid: str):
    """Deletes the connection with its syncs and the records read through it."""
    services.delete_connection(
        membership=request.auth, instance=_connection(request, uid), remote_addr=remote_addr(request)
    )
    return Status(204, None)


@router.post(
    "/connections/{uid}/syncs", auth=write, response={202: ConnectorRunOut, **CONFLICT, **s.ERRORS},
    summary="Start a sync of a tracker connection",
)  # fmt: skip
def start_connection_sync(request, uid: str):
    """Queues a sync; follow it with GET /connector-syncs/{uid}. 409 while one is queued or running."""
    try:
        run = services.start_connection_sync(membership=request.auth, connection=_connection(request, uid))
    except ValidationError as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    return Status(202, ConnectorRunOut.from_orm(run))


@router.post(
    "/connections/{uid}/imports", auth=write, response={202: ConnectorRunOut, **CONFLICT, **s.ERRORS},
    summary="Import export files into a tracker connection",
)  # fmt: skip
def import_connection_export(request, uid: str, files: File[list[UploadedFile]]):
    """Multipart upload of export files (GitHub: gh pr list / gh issue list --json output; Jira:
    a CSV export). Everything in them is imported, or nothing when one record is malformed;
    follow it with GET /connector-syncs/{uid}. 409 while a sync of the connection is queued or
    running."""
    connection = _connection(request, uid)
    try:
        run = services.start_import(
            membership=request.auth, connection=connection, files=[(f.name, f.read()) for f in files]
        )
    except ValidationError as exc:
        return Status(409, {"detail": " ".join(exc.messages)})
    return Status(202, ConnectorRunOut.from_orm(run))


@router.get(
    "/connector-syncs/{uid}",
    response={200: ConnectorRunOut, **s.ERRORS},
    summary="Get a tracker sync and its progress",
)
def get_connector_sync(request, uid: str):
    return ConnectorRunOut.from_orm(
        ConnectorRun.objects.select_related("connection").get_visible_or_404(request.auth, uid=uid)
    )


@router.get("/pull-requests", response={200: PullRequestPage, **s.ERRORS}, summary="List pull requests")
def list_pull_requests(
    request, page: Query[s.PageParams], connection: str | None = None, since: datetime.datetime | None = None
):
    """Newest first; ``since`` filters on creation time, ``connection`` is a connection uid."""
    return paginate(_records(request, PullRequest, connection, since, "created_at"), page)


@router.get("/work-items", response={200: WorkItemPage, **s.ERRORS}, summary="List work items")
def list_work_items(
    request, page: Query[s.PageParams], connection: str | None = None, since: datetime.datetime | None = None
):
    return paginate(_records(request, WorkItem, connection, since, "created_at"), page)


@router.get("/deployments", response={200: DeploymentPage, **s.ERRORS}, summary="List deployments")
def list_deployments(
    request, page: Query[s.PageParams], connection: str | None = None, since: datetime.datetime | None = None
):
    return paginate(_records(request, Deployment, connection, since, "created_at"), page)


@router.get("/incidents", response={200: IncidentPage, **s.ERRORS}, summary="List incidents")
def list_incidents(
    request, page: Query[s.PageParams], connection: str | None = None, since: datetime.datetime | None = None
):
    return paginate(_records(request, Incident, connection, since, "started_at"), page)
