# Placeholder views being replaced by the roster pages in this same change.
from django.http import HttpResponse

from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm


@requires(Perm.VIEW)
def engagement_list(request, org_slug):
    return HttpResponse("engagements")


@requires(Perm.EDIT)
def engagement_create(request, org_slug):
    return HttpResponse("new engagement")


@requires(Perm.VIEW)
def engagement_detail(request, org_slug, uid):
    return HttpResponse("engagement")


@requires(Perm.VIEW)
def person_list(request, org_slug):
    return HttpResponse("people")
