"""Engagements: contracts and SOWs with one vendor."""

from ninja import Query, Router, Status

from partnerscope.api import schemas as s
from partnerscope.api.auth import TokenAuth
from partnerscope.api.common import assign, paginate, remote_addr, render, resolve
from partnerscope.engagements.models import Engagement
from partnerscope.engagements.services import delete_roster_record, save_roster_record
from partnerscope.orgs.roles import Perm
from partnerscope.vendors.models import Skill, Vendor

router = Router(tags=["engagements"])
write = TokenAuth(perm=Perm.EDIT)
REFS = {"vendor": Vendor}


def _engagement(request, uid: str) -> Engagement:
    return Engagement.objects.select_related("vendor").get_visible_or_404(request.auth, uid=uid)


def _save(request, engagement: Engagement, skill_uids: list[str] | None) -> Engagement:
    skills = None
    if skill_uids is not None:
        skills = [resolve(Skill, request.auth, uid, "required_skills") for uid in dict.fromkeys(skill_uids)]
    instance = save_roster_record(
        membership=request.auth, instance=engagement, remote_addr=remote_addr(request), required_skills=skills
    )
    instance.refresh_from_db()  # answer with what was stored (decimals, normalised values)
    return instance


@router.get("/engagements", response={200: s.EngagementPage, **s.ERRORS}, summary="List engagements")
def list_engagements(
    request,
    page: Query[s.PageParams],
    vendor: str | None = None,
    status: Engagement.Status | None = None,
    model: Engagement.Model | None = None,
):
    """Engagements in scope, newest start first. ``vendor`` is a vendor uid."""
    qs = (
        Engagement.objects.visible_to(request.auth)
        .select_related("vendor")
        .prefetch_related("required_skills")
    )
    if vendor:
        qs = qs.filter(vendor__uid=vendor)
    if status:
        qs = qs.filter(status=status)
    if model:
        qs = qs.filter(model=model)
    return paginate(qs, page)


@router.post(
    "/engagements",
    auth=write,
    response={201: s.EngagementInternalOut, **s.ERRORS},
    summary="Create an engagement",
)
def create_engagement(request, payload: s.EngagementIn):
    data = payload.dict()
    skills = data.pop("required_skills")
    engagement = _save(request, assign(Engagement(), data, REFS, request.auth), skills)
    return Status(201, s.EngagementInternalOut.from_orm(engagement))


@router.get("/engagements/{uid}", response={200: s.AnyEngagementOut, **s.ERRORS}, summary="Get an engagement")
def get_engagement(request, uid: str):
    return render(request, _engagement(request, uid), s.EngagementInternalOut, s.EngagementOut)


@router.patch(
    "/engagements/{uid}",
    auth=write,
    response={200: s.EngagementInternalOut, **s.ERRORS},
    summary="Update an engagement",
)
def update_engagement(request, uid: str, payload: s.EngagementPatch):
    data = payload.dict(exclude_unset=True)
    skills = data.pop("required_skills", None)
    engagement = assign(_engagement(request, uid), data, REFS, request.auth)
    return s.EngagementInternalOut.from_orm(_save(request, engagement, skills))


@router.delete(
    "/engagements/{uid}", auth=write, response={204: None, **s.ERRORS}, summary="Delete an engagement"
)
def delete_engagement(request, uid: str):
    """Refused (422) while people are assigned to it."""
    delete_roster_record(
        membership=request.auth, instance=_engagement(request, uid), remote_addr=remote_addr(request)
    )
    return Status(204, None)
