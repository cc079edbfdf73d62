"""API authentication: ``Authorization: Bearer <token>`` and nothing else.

There is no session authentication on the API, so a signed-in browser gains nothing here and
there is no CSRF surface. The token is bound to one membership, so it also names the
organization: paths carry no organization slug.
"""

from ninja.security import HttpBearer

from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.services import authenticate_token


class TokenAuth(HttpBearer):
    """Puts the token's membership (with ``token_scope`` set) on ``request.auth``; else 401.

    With ``perm`` set, the permission is checked here, before the request body is parsed, so a
    read-scope token or a viewer gets 403 and a vendor user 404 for any write, whatever it sends.
    The record services check the same permission again.
    """

    def __init__(self, perm: str | None = None) -> None:
        super().__init__()
        self.perm = perm

    def authenticate(self, request, token: str):
        membership = authenticate_token(token)
        if membership is not None and self.perm is not None:
            check_perm(membership, self.perm)  # raises Http404 / PermissionDenied
        return membership
