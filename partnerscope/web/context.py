from partnerscope.orgs.roles import Perm


def navigation(request):
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    return {
        "org": membership.organization,
        "membership": membership,
        "can_edit": membership.has_perm(Perm.EDIT),
        "can_admin": membership.has_perm(Perm.ADMIN),
        "can_view_internal": membership.has_perm(Perm.VIEW_INTERNAL),
    }
