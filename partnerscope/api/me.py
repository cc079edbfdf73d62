"""Who the token speaks for."""

from ninja import Router

from partnerscope.api import schemas as s
from partnerscope.orgs.roles import Perm

router = Router(tags=["me"])


@router.get(
    "/me", response={200: s.MeOut, 401: s.ErrorOut}, summary="The token's organization, role and scope"
)
def me(request):
    m = request.auth
    return {
        "username": m.user.get_username(),
        "organization": m.organization,
        "role": m.role,
        "vendor": m.vendor.uid if m.vendor_id else None,
        "token_scope": m.token_scope,
        "permissions": [p.value for p in Perm if m.has_perm(p)],
    }
