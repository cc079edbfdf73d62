"""The view decorator that applies the role policy from ``roles.py``.

A membership without VIEW_INTERNAL (a vendor) gets 404 for client-only pages, so a vendor cannot
tell they exist; a client member lacking EDIT or ADMIN gets 403.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404

from partnerscope.orgs.roles import Perm


def check_perm(membership, perm: str) -> None:
    if membership is None:
        raise Http404
    if membership.has_perm(perm):
        return
    if not membership.has_perm(Perm.VIEW_INTERNAL):
        raise Http404
    raise PermissionDenied


def requires(perm: str):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            check_perm(getattr(request, "membership", None), perm)
            return view(request, *args, **kwargs)

        wrapper.required_perm = perm
        return wrapper

    return decorator
