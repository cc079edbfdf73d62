"""Resolves the organization and the actor's membership once per request.

Every URL under ``/o/<org_slug>/`` goes through here: anonymous users are sent to sign in;
signed-in users without a usable membership get 404, so outsiders learn nothing about which
organizations exist.
"""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from partnerscope.orgs.models import Membership


def resolve_membership(user, org_slug: str) -> Membership | None:
    if not user.is_authenticated or not user.is_active:
        return None
    membership = (
        Membership.objects.select_related("organization", "vendor", "user")
        .filter(organization__slug=org_slug, user=user)
        .first()
    )
    if membership is None or not membership.is_usable():
        return None
    return membership


def usable_memberships(user) -> list[Membership]:
    """The organizations a user may enter (the page that lists them is outside any tenant)."""
    if not user.is_authenticated or not user.is_active:
        return []
    memberships = Membership.objects.filter(user=user).select_related("organization", "vendor", "user")
    return [m for m in memberships if m.is_usable()]


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = None
        request.org = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        org_slug = view_kwargs.get("org_slug")
        if org_slug is None:
            return None
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        membership = resolve_membership(request.user, org_slug)
        if membership is None:
            raise Http404("No such organization.")
        request.membership = membership
        request.org = membership.organization
        return None
