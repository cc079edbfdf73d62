from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partnerscope.engagements.models import Person
from partnerscope.evidence import connector_services, services
from partnerscope.evidence.forms import (
    CoverageForm,
    EvidenceFilterForm,
    MapIdentityForm,
    MapUsernameForm,
    RepositoryForm,
)
from partnerscope.evidence.models import Commit, Contribution, CoverageReport, Repository, SyncRun
from partnerscope.evidence.queries import (
    bug_fixes,
    knowledge_concentration,
    summary_by_vendor,
    unattributed_queue,
    unattributed_usernames,
)
from partnerscope.orgs.models import AuditEvent
from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm
from partnerscope.web.crud import client_ip, delete_page, form_page
from partnerscope.web.tables import Column, build_table

SECTION = "evidence"


@requires(Perm.VIEW)
def repository_list(request, org_slug):
    rows = Repository.objects.visible_to(request.membership).select_related("engagement__vendor")
    table = build_table(
        request,
        rows,
        [
            Column("name", "Repository", "name"),
            Column("engagement", "Engagement", "engagement__name"),
            Column("status", "Status", "status"),
            Column("commits", "Commits", "commit_count", numeric=True),
            Column("synced", "Last sync", "last_synced_at"),
        ],
        default_sort="name",
        search=["name", "engagement__name", "engagement__vendor__name"],
        filters={"engagement": "engagement__uid"},
    )
    return render(request, "evidence/repository_list.html", {"section": SECTION, "table": table})


def _repository(request, uid):
    return Repository.objects.get_visible_or_404(request.membership, uid=uid)


@requires(Perm.VIEW)
def repository_detail(request, org_slug, uid):
    m = request.membership
    repository = _repository(request, uid)
    runs = SyncRun.objects.visible_to(m).filter(repository=repository)[:10]
    recent = (
        Commit.objects.visible_to(m)
        .filter(repository=repository)
        .order_by("-authored_at")
        .prefetch_related("contributions")[:25]
    )
    context = {
        "section": SECTION,
        "repository": repository,
        "runs": runs,
        "active_run": next((r for r in runs if r.is_active), None),
        "groups": summary_by_vendor(m, repository=repository),
        "knowledge": knowledge_concentration(m, repository) if m.has_perm(Perm.VIEW_INTERNAL) else None,
        "bug_fixes": bug_fixes(m, repository) if m.has_perm(Perm.VIEW_INTERNAL) else None,
        "recent": recent,
        # A vendor user sees the reports of its own staff's commits (CoverageReport.vendor_q).
        "coverage": CoverageReport.objects.visible_to(m)
        .filter(repository=repository)
        .select_related("commit")
        .order_by("-uploaded_at")[:10],
    }
    return render(request, "evidence/repository_detail.html", context)


@requires(Perm.EDIT)
def repository_coverage(request, org_slug, uid):
    """Upload a commit's coverage report by hand (CI uses the API)."""
    repository = _repository(request, uid)
    posted = request.method == "POST"
    form = CoverageForm(request.POST if posted else None, request.FILES if posted else None)
    detail = reverse("repository_detail", args=[org_slug, uid])
    return form_page(
        request,
        form,
        title=f"Upload a coverage report to {repository.name}",
        section=SECTION,
        intro=(
            "The coverage report of one commit's build. partnerscope keeps, for the lines that commit "
            "added, how many can run and how many the tests ran (coverage on new code); the report "
            "itself is not stored. CI can upload it with POST /api/v1/repositories/{uid}/coverage."
        ),
        save=lambda: services.import_coverage(
            membership=request.membership,
            repository=repository,
            commit=form.cleaned_data["commit"],
            name=form.cleaned_data["file"].name,
            data=form.cleaned_data["file"].read(),
        ),
        success_url=lambda report: detail,
        cancel_url=detail,
        submit_label="Upload",
        success_message="Coverage report read.",
    )


def _save(request, form):
    return lambda: services.save_repository(
        membership=request.membership, instance=form.instance, remote_addr=client_ip(request)
    )


@requires(Perm.EDIT)
def repository_create(request, org_slug):
    m = request.membership
    initial = {"engagement": request.GET.get("engagement", "")}
    form = RepositoryForm(request.POST or None, membership=m, initial=initial)
    return form_page(
        request,
        form,
        title="Register a repository",
        section=SECTION,
        intro=(
            "partnerscope keeps its own mirror of the repository and reads its history; it never runs "
            "anything from it. Use an https:// or ssh:// clone URL."
        ),
        save=_save(request, form),
        success_url=lambda r: reverse("repository_detail", args=[org_slug, r.uid]),
        cancel_url=reverse("repository_list", args=[org_slug]),
        success_message="Repository registered. Start a sync to read its history.",
    )


@requires(Perm.EDIT)
def repository_edit(request, org_slug, uid):
    m = request.membership
    repository = _repository(request, uid)
    form = RepositoryForm(request.POST or None, membership=m, instance=repository)
    detail = reverse("repository_detail", args=[org_slug, uid])
    return form_page(
        request, form, title=f"Edit {repository}", section=SECTION, save=_save(request, form),
        success_url=lambda r: detail, cancel_url=detail,
    )  # fmt: skip


@requires(Perm.EDIT)
def repository_delete(request, org_slug, uid):
    m = request.membership
    repository = _repository(request, uid)
    return delete_page(
        request,
        repository,
        kind="repository",
        section=SECTION,
        delete=lambda: services.delete_repository(
            membership=m, instance=repository, remote_addr=client_ip(request)
        ),
        success_url=reverse("repository_list", args=[org_slug]),
        cancel_url=reverse("repository_detail", args=[org_slug, uid]),
    )


@requires(Perm.EDIT)
@require_POST
def repository_sync(request, org_slug, uid):
    repository = _repository(request, uid)
    try:
        services.start_sync(membership=request.membership, repository=repository)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Sync queued; progress shows below.")
    return redirect("repository_detail", org_slug=org_slug, uid=uid)


@requires(Perm.VIEW)
def sync_progress(request, org_slug, uid):
    """The progress partial the repository page polls while a sync runs (htmx)."""
    run = SyncRun.objects.get_visible_or_404(request.membership, uid=uid)
    return render(request, "evidence/_sync_progress.html", {"run": run})


@requires(Perm.EDIT)
@require_POST
def sync_cancel(request, org_slug, uid):
    run = SyncRun.objects.get_visible_or_404(request.membership, uid=uid)
    try:
        services.cancel_sync(membership=request.membership, run=run)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "Cancelling: the sync stops after the batch it is writing.")
    return redirect("repository_detail", org_slug=org_slug, uid=run.repository.uid)


@requires(Perm.VIEW)
def evidence_overview(request, org_slug):
    m = request.membership
    form = EvidenceFilterForm(request.GET or None, membership=m)
    filters = form.filters()
    context = {
        "section": SECTION,
        "form": form,
        "groups": summary_by_vendor(m, **filters),
        "unattributed": Contribution.objects.visible_to(m)
        .filter(status=Contribution.Status.UNATTRIBUTED)
        .exists(),
    }
    return render(request, "evidence/overview.html", context)


@requires(Perm.VIEW_INTERNAL)
def unattributed(request, org_slug):
    m = request.membership
    entries = unattributed_queue(m)
    known = Person.objects.visible_to(m).in_bulk([e.person_id for e in entries if e.person_id])
    for entry in entries:
        entry.person = known.get(entry.person_id)
    forms = [
        (
            entry,
            MapIdentityForm(
                membership=m,
                initial={
                    "email": entry.email,
                    "name": entry.name,
                    "vendor": entry.suggestion.uid if entry.suggestion else "",
                },
                prefix=f"q{index}",
            ),
        )
        for index, entry in enumerate(entries)
    ]
    usernames = unattributed_usernames(m)
    people = Person.objects.visible_to(m).in_bulk([e.person_id for e in usernames if e.person_id])
    for entry in usernames:
        entry.person = people.get(entry.person_id)
    username_forms = [
        (
            entry,
            MapUsernameForm(
                membership=m,
                initial={"kind": entry.kind, "login": entry.login, "name": entry.login},
                prefix=f"u{index}",
            ),
        )
        for index, entry in enumerate(usernames)
    ]
    return render(
        request,
        "evidence/unattributed.html",
        {"section": SECTION, "forms": forms, "username_forms": username_forms},
    )


@requires(Perm.EDIT)
@require_POST
def map_username(request, org_slug):
    m = request.membership
    form = MapUsernameForm(request.POST, membership=m, prefix=request.POST.get("prefix", "") or None)
    if not form.is_valid():
        messages.error(
            request, "Choose an existing person, or give the new person a name: " + form.errors.as_text()
        )
        return redirect("unattributed", org_slug=org_slug)
    data = form.cleaned_data
    try:
        person = connector_services.map_username(
            membership=m,
            kind=data["kind"],
            login=data["login"],
            person=data["person"],
            new_name=data["name"],
            vendor=data["vendor"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{data['login']} is now {person}; their records were attributed again.")
    return redirect("unattributed", org_slug=org_slug)


@requires(Perm.EDIT)
@require_POST
def map_identity(request, org_slug):
    m = request.membership
    prefix = request.POST.get("prefix", "")
    form = MapIdentityForm(request.POST, membership=m, prefix=prefix or None)
    if not form.is_valid():
        messages.error(
            request, "Choose an existing person, or give the new person a name: " + form.errors.as_text()
        )
        return redirect("unattributed", org_slug=org_slug)
    data = form.cleaned_data
    try:
        person = services.map_identity(
            membership=m,
            email=data["email"],
            person=data["person"],
            new_name=data["name"],
            vendor=data["vendor"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{data['email']} is now {person}; its commits were attributed again.")
    return redirect("unattributed", org_slug=org_slug)


@requires(Perm.VIEW_INTERNAL)
def repository_history(request, org_slug, uid):
    repository = _repository(request, uid)
    events = (
        AuditEvent.objects.visible_to(request.membership)
        .filter(
            Q(object_uid=repository.uid)
            # Its sync runs by id: a name prefix would also match "app2" for "app".
            | Q(object_type="syncrun", object_uid__in=repository.sync_runs.values("uid"))
        )
        .select_related("actor")[:300]
    )
    return render(
        request,
        "web/history_page.html",
        {
            "section": SECTION,
            "object": repository,
            "events": events,
            "back_url": reverse("repository_detail", args=[org_slug, uid]),
        },
    )
