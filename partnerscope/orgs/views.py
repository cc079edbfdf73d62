from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse

from partnerscope.orgs import services
from partnerscope.orgs.forms import InviteForm, MemberRoleForm, TokenForm
from partnerscope.orgs.models import ApiToken, AuditEvent, Invitation, Membership
from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm
from partnerscope.web.crud import apply_errors
from partnerscope.web.tables import Column, build_table


@requires(Perm.ADMIN)
def member_list(request, org_slug):
    m = request.membership
    members = (
        Membership.objects.visible_to(m).select_related("user", "vendor").order_by("role", "user__username")
    )
    invitations = Invitation.objects.visible_to(m).select_related("vendor", "invited_by")[:50]
    return render(
        request,
        "orgs/member_list.html",
        {"section": "members", "members": members, "invitations": invitations},
    )


@requires(Perm.ADMIN)
def member_invite(request, org_slug):
    m = request.membership
    form = InviteForm(request.POST or None, membership=m)
    link = None
    if request.method == "POST" and form.is_valid():
        try:
            invitation, secret = services.invite(
                membership=m,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                vendor=form.cleaned_data["vendor"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            link = request.build_absolute_uri(reverse("invitation_accept", args=[secret]))
            return render(
                request,
                "orgs/invitation_created.html",
                {"section": "members", "invitation": invitation, "link": link},
            )
    return render(
        request,
        "orgs/member_invite.html",
        {"section": "members", "form": form},
        status=400 if request.method == "POST" else 200,
    )


@requires(Perm.ADMIN)
def member_edit(request, org_slug, uid):
    m = request.membership
    target = Membership.objects.get_visible_or_404(m, uid=uid)
    initial = {"role": target.role, "vendor": target.vendor}
    form = MemberRoleForm(request.POST or None, membership=m, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_role(
                membership=m,
                target=target,
                role=form.cleaned_data["role"],
                vendor=form.cleaned_data["vendor"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{target.user.username} is now {target.get_role_display().lower()}.")
            return redirect("member_list", org_slug=org_slug)
    return render(
        request,
        "orgs/member_edit.html",
        {"section": "members", "target": target, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@requires(Perm.ADMIN)
def member_remove(request, org_slug, uid):
    m = request.membership
    target = Membership.objects.get_visible_or_404(m, uid=uid)
    error = None
    if request.method == "POST":
        try:
            services.remove_member(membership=m, target=target)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, f"Removed {target.user.username} from {m.organization}.")
            return redirect("member_list", org_slug=org_slug)
    return render(
        request,
        "web/confirm_delete.html",
        {
            "section": "members",
            "object": target.user.username,
            "kind": "membership",
            "error": error,
            "cancel_url": reverse("member_list", args=[org_slug]),
        },
        status=400 if error else 200,
    )


@requires(Perm.ADMIN)
def invitation_revoke(request, org_slug, uid):
    m = request.membership
    invitation = Invitation.objects.get_visible_or_404(m, uid=uid)
    if request.method == "POST":
        services.revoke_invitation(membership=m, invitation=invitation)
        messages.success(request, f"Revoked the invitation of {invitation.email}.")
        return redirect("member_list", org_slug=org_slug)
    return render(
        request,
        "web/confirm_delete.html",
        {
            "section": "members",
            "object": invitation.email,
            "kind": "invitation",
            "cancel_url": reverse("member_list", args=[org_slug]),
        },
    )


def _tokens_for(m):
    tokens = ApiToken.objects.visible_to(m).select_related("membership__user")
    if not m.has_perm(Perm.ADMIN):
        tokens = tokens.filter(membership=m)  # others see only their own tokens
    return tokens


@requires(Perm.VIEW)
def token_list(request, org_slug):
    return render(
        request, "orgs/token_list.html", {"section": "tokens", "tokens": _tokens_for(request.membership)}
    )


@requires(Perm.VIEW)
def token_create(request, org_slug):
    m = request.membership
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.create_token(
                membership=m, name=form.cleaned_data["name"], scope=form.cleaned_data["scope"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return render(
                request, "orgs/token_created.html", {"section": "tokens", "token": token, "secret": secret}
            )
    return render(
        request,
        "orgs/token_create.html",
        {"section": "tokens", "form": form},
        status=400 if request.method == "POST" else 200,
    )


@requires(Perm.VIEW)
def token_revoke(request, org_slug, uid):
    m = request.membership
    token = _tokens_for(m).get_visible_or_404(m, uid=uid)
    if request.method == "POST":
        services.revoke_token(membership=m, token=token)
        messages.success(request, f"Revoked the token “{token.name}”.")
        return redirect("token_list", org_slug=org_slug)
    return render(
        request,
        "web/confirm_delete.html",
        {
            "section": "tokens",
            "object": token.name,
            "kind": "API token",
            "cancel_url": reverse("token_list", args=[org_slug]),
        },
    )


@requires(Perm.VIEW_INTERNAL)
def audit_log(request, org_slug):
    rows = AuditEvent.objects.visible_to(request.membership).select_related("actor")
    table = build_table(
        request,
        rows,
        [
            Column("when", "When", "created_at"),
            Column("who", "Who", "actor__username"),
            Column("action", "Action", "action"),
            Column("object", "Record", "object_repr"),
        ],
        default_sort="-when",
        search=["object_repr", "action", "actor__username"],
        filters={"type": "object_type"},
    )
    types = rows.order_by().values_list("object_type", flat=True).distinct()
    events = table.rows[:200]
    return render(
        request,
        "orgs/audit_log.html",
        {"section": "audit", "table": table, "events": events, "types": sorted(set(types))},
    )
