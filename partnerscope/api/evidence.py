"""Evidence from git: repositories, their syncs, the summary by vendor and the unattributed queue.

Vendor users see the repositories of their own vendor's engagements and only their own vendor's
group in the summary (``visible_to`` and the queries do that). The unattributed queue is
client-only: a vendor user gets 404, exactly like the page.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from ninja import File, Form, Query, Router, Schema, Status
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from pydantic import Field

from partnerscope.api import schemas as s
from partnerscope.api.auth import TokenAuth
from partnerscope.api.common import assign, paginate, remote_addr, resolve
from partnerscope.engagements.models import Engagement, Person
from partnerscope.evidence import services
from partnerscope.evidence.models import (
    DEFAULT_BOT_PATTERNS,
    DEFAULT_EXCLUDE_GLOBS,
    Contribution,
    CoverageReport,
    Repository,
    SyncRun,
)
from partnerscope.evidence.queries import summary_by_vendor, unattributed_queue
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.roles import Perm
from partnerscope.vendors.models import Vendor

router = Router(tags=["evidence"])
write = TokenAuth(perm=Perm.EDIT)
REFS = {"engagement": Engagement}
CONFLICT = {409: s.ErrorOut}


# --- schemas --------------------------------------------------------------------------------


class RepositoryOut(Schema):
    uid: str
    engagement: str = Field(description="Engagement uid")
    name: str
    source: str
    refs: str
    exclude_globs: str
    bot_patterns: str
    detect_renames: bool
    status: str
    default_branch: str
    last_synced_at: datetime.datetime | None
    last_error: str
    commit_count: int

    @staticmethod
    def resolve_engagement(obj) -> str:
        return obj.engagement.uid


class RepositoryIn(s.In):
    engagement: str = Field(description="Engagement uid")
    name: str
    source: str = Field(description="An https:// or ssh:// clone URL")
    refs: str = Field("", description="Branches to read, separated by spaces; empty = the default branch")
    exclude_globs: str = Field(
        DEFAULT_EXCLUDE_GLOBS, description="Generated or vendored paths, one glob a line"
    )
    bot_patterns: str = Field(
        DEFAULT_BOT_PATTERNS, description="Author names or e-mails of bots, one glob a line"
    )
    detect_renames: bool = False


RepositoryPatch = s.patch_of(RepositoryIn, "RepositoryPatch")
RepositoryPage = s.page_of("RepositoryPage", RepositoryOut)


class CoverageReportOut(Schema):
    commit: str = Field(description="The commit's full id")
    format: str = Field(description="lcov or cobertura")
    file_name: str
    uploaded_at: datetime.datetime
    lines_valid: int = Field(description="Lines the whole report lists (can run)")
    lines_covered: int = Field(description="Of those, lines the tests ran")
    new_lines: int = Field(description="Lines the commit added that the report lists")
    new_covered: int = Field(description="Of those, lines the tests ran: coverage on new code")

    @staticmethod
    def resolve_commit(obj) -> str:
        return obj.commit.sha


CoveragePage = s.page_of("CoveragePage", CoverageReportOut)


class SyncRunOut(Schema):
    uid: str
    repository: str = Field(description="Repository uid")
    status: str
    phase: str
    progress_done: int
    progress_total: int | None
    percent: int | None
    new_commits: int
    message: str
    started_at: datetime.datetime | None
    finished_at: datetime.datetime | None

    @staticmethod
    def resolve_repository(obj) -> str:
        return obj.repository.uid


class GroupOut(Schema):
    key: str = Field(
        description='"vendor:<uid>", "inhouse", "unattributed", "bot" or "" (not attributed yet)'
    )
    label: str
    vendor: str | None = Field(description="Vendor uid, null for the other groups")
    commits: int
    contributors: int
    additions: int
    deletions: int
    changed_lines: int
    merges: int
    co_authored: int
    authored: int
    reverted: int
    revert_rate: float | None = Field(description="Reverted / authored non-merge commits; null without any")

    @staticmethod
    def resolve_vendor(obj) -> str | None:
        return obj.vendor.uid if obj.vendor else None


class SummaryOut(Schema):
    groups: list[GroupOut]


class UnattributedOut(Schema):
    email: str
    name: str
    commits: int
    first: datetime.date
    last: datetime.date
    known_person: bool = Field(description="The e-mail belongs to a person, but no assignment covers it")
    suggested_vendor: str | None = Field(description="Vendor uid suggested by the e-mail domain, or null")

    @staticmethod
    def resolve_known_person(obj) -> bool:
        return obj.person_id is not None

    @staticmethod
    def resolve_suggested_vendor(obj) -> str | None:
        return obj.suggestion.uid if obj.suggestion else None


UnattributedPage = s.page_of("UnattributedPage", UnattributedOut)


class MapIdentityIn(s.In):
    email: str
    person: str | None = Field(None, description="Uid of an existing person; none = a new person")
    name: str = Field("", description="Name of the new person; empty = the name in the commits")
    vendor: str | None = Field(None, description="Vendor uid of the new person; none = in-house")


# --- helpers --------------------------------------------------------------------------------


def _repository(request, uid: str) -> Repository:
    return Repository.objects.select_related("engagement").get_visible_or_404(request.auth, uid=uid)


def _run(request, uid: str) -> SyncRun:
    return SyncRun.objects.select_related("repository").get_visible_or_404(request.auth, uid=uid)


def _save(request, repository: Repository) -> Repository:
    instance = services.save_repository(
        membership=request.auth, instance=repository, remote_addr=remote_addr(request)
    )
    instance.refresh_from_db()
    return instance


def _query_ref(model, membership, uid: str | None, param: str):
    """A query parameter naming a record the caller may see; else 422 naming the parameter."""
    if uid is None:
        return None
    obj = model.objects.visible_to(membership).filter(uid=uid).first()
    if obj is None:
        msg = f"Select a valid {model._meta.verbose_name}: that one does not exist."
        raise NinjaValidationError([{"loc": ["query", param], "msg": msg, "type": "value_error"}])
    return obj


def _conflict(exc: ValidationError) -> Status:
    return Status(409, {"detail": " ".join(exc.messages)})


# --- repositories ---------------------------------------------------------------------------


@router.get("/repositories", response={200: RepositoryPage, **s.ERRORS}, summary="List repositories")
def list_repositories(request, page: Query[s.PageParams], engagement: str | None = None):
    """Repositories in scope. ``engagement`` is an engagement uid."""
    qs = Repository.objects.visible_to(request.auth).select_related("engagement")
    if engagement:
        qs = qs.filter(engagement__uid=engagement)
    return paginate(qs, page)


@router.post(
    "/repositories",
    auth=write,
    response={201: RepositoryOut, **s.ERRORS},
    summary="Register a repository",
)
def create_repository(request, payload: RepositoryIn):
    """partnerscope keeps its own mirror and reads its history; start a sync to read it."""
    repository = _save(request, assign(Repository(), payload.dict(), REFS, request.auth))
    return Status(201, RepositoryOut.from_orm(repository))


@router.get("/repositories/{uid}", response={200: RepositoryOut, **s.ERRORS}, summary="Get a repository")
def get_repository(request, uid: str):
    return RepositoryOut.from_orm(_repository(request, uid))


@router.patch(
    "/repositories/{uid}",
    auth=write,
    response={200: RepositoryOut, **s.ERRORS},
    summary="Update a repository",
)
def update_repository(request, uid: str, payload: RepositoryPatch):
    """Changing the source starts its history over at the next sync."""
    repository = assign(_repository(request, uid), payload.dict(exclude_unset=True), REFS, request.auth)
    return RepositoryOut.from_orm(_save(request, repository))


@router.delete(
    "/repositories/{uid}", auth=write, response={204: None, **s.ERRORS}, summary="Delete a repository"
)
def delete_repository(request, uid: str):
    """Deletes the repository with its syncs and the evidence read from it."""
    services.delete_repository(
        membership=request.auth, instance=_repository(request, uid), remote_addr=remote_addr(request)
    )
    return Status(204, None)


# --- syncs ----------------------------------------------------------------------------------


@router.post(
    "/repositories/{uid}/syncs",
    auth=write,
    response={202: SyncRunOut, **CONFLICT, **s.ERRORS},
    summary="Start a sync of a repository",
)
def start_repository_sync(request, uid: str):
    """Queues a sync; follow it with GET /syncs/{uid}. 409 while one is queued or running."""
    repository = _repository(request, uid)
    try:
        run = services.start_sync(membership=request.auth, repository=repository)
    except ValidationError as exc:
        return _conflict(exc)
    return Status(202, SyncRunOut.from_orm(run))


@router.get("/syncs/{uid}", response={200: SyncRunOut, **s.ERRORS}, summary="Get a sync and its progress")
def get_sync(request, uid: str):
    return SyncRunOut.from_orm(_run(request, uid))


@router.post(
    "/syncs/{uid}/cancel",
    auth=write,
    response={200: SyncRunOut, **CONFLICT, **s.ERRORS},
    summary="Cancel a sync",
)
def cancel_sync(request, uid: str):
    """A queued sync is cancelled at once; a running one stops after the batch it is writing.
    409 when it has already ended."""
    run = _run(request, uid)
    try:
        services.cancel_sync(membership=request.auth, run=run)
    except ValidationError as exc:
        return _conflict(exc)
    run.refresh_from_db()
    return SyncRunOut.from_orm(run)


# --- coverage -------------------------------------------------------------------------------


@router.post(
    "/repositories/{uid}/coverage",
    auth=write,
    response={201: CoverageReportOut, **s.ERRORS},
    summary="Upload a commit's coverage report",
)
def upload_coverage(request, uid: str, commit: Form[str], file: File[UploadedFile]):
    """Multipart: ``commit`` (the id of a synced, non-merge commit the build ran on) and
    ``file``, an LCOV or Cobertura XML report (at most 50 MB). Keeps, for the lines that commit
    added, how many the report lists and how many ran; a second report for the commit replaces
    the first. 422 names the field, and the report's line or element when it cannot be read."""
    from partnerscope.evidence.coverage import MAX_REPORT_BYTES

    repository = _repository(request, uid)
    if file.size > MAX_REPORT_BYTES:
        raise ValidationError({"file": "The report is larger than 50 MB."})
    report = services.import_coverage(
        membership=request.auth, repository=repository, commit=commit, name=file.name, data=file.read()
    )
    return Status(201, CoverageReportOut.from_orm(report))


@router.get(
    "/repositories/{uid}/coverage",
    response={200: CoveragePage, **s.ERRORS},
    summary="List a repository's coverage reports",
)
def list_coverage(request, uid: str, page: Query[s.PageParams]):
    """Newest upload first. A vendor user sees the reports of its own staff's commits."""
    repository = _repository(request, uid)
    rows = CoverageReport.objects.visible_to(request.auth).filter(repository=repository)
    return paginate(rows.select_related("commit").order_by("-uploaded_at", "-id"), page)


# --- evidence -------------------------------------------------------------------------------


@router.get("/evidence/summary", response={200: SummaryOut, **s.ERRORS}, summary="Evidence by vendor")
def evidence_summary(
    request,
    engagement: str | None = None,
    repository: str | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
):
    """Per vendor (and in-house, unattributed, bots): commits, contributors and lines.

    ``engagement`` and ``repository`` are uids; ``since`` and ``until`` bound the authored date.
    """
    m = request.auth
    filters = {
        "engagement": _query_ref(Engagement, m, engagement, "engagement"),
        "repository": _query_ref(Repository, m, repository, "repository"),
        "since": since,
        "until": until,
    }
    groups = summary_by_vendor(m, **{k: v for k, v in filters.items() if v is not None})
    return {"groups": groups}  # validated once, by the response schema


@router.get(
    "/evidence/unattributed",
    response={200: UnattributedPage, **s.ERRORS},
    summary="List unattributed author identities",
)
def list_unattributed(request, page: Query[s.PageParams]):
    """Author e-mails no dated assignment covers, most commits first. Client-only."""
    check_perm(request.auth, Perm.VIEW_INTERNAL)
    count = (
        Contribution.objects.visible_to(request.auth)
        .filter(status=Contribution.Status.UNATTRIBUTED)
        .values("email")
        .distinct()
        .count()
    )
    entries = unattributed_queue(request.auth, limit=page.offset + page.limit)[page.offset :]
    return {"count": count, "items": entries}


@router.post(
    "/evidence/unattributed/map",
    auth=write,
    response={200: s.Ref, **s.ERRORS},
    summary="Map an unattributed e-mail to a person",
)
def map_unattributed_identity(request, payload: MapIdentityIn):
    """Maps the e-mail to an existing person, or to a new person with an assignment with
    ``vendor`` (none = in-house) from the first commit's date; its commits are attributed again."""
    m = request.auth
    person = services.map_identity(
        membership=m,
        email=payload.email,
        person=resolve(Person, m, payload.person, "person"),
        new_name=payload.name,
        vendor=resolve(Vendor, m, payload.vendor, "vendor"),
    )
    return s.Ref.from_orm(person)
