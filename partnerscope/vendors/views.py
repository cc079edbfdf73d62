from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from partnerscope.engagements.models import Engagement
from partnerscope.orgs.models import AuditEvent
from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm
from partnerscope.vendors import services
from partnerscope.vendors.forms import CHILD_KINDS, SkillForm, VendorForm
from partnerscope.vendors.models import Skill, Vendor
from partnerscope.web.crud import client_ip, delete_page, form_page
from partnerscope.web.tables import Column, build_table

VENDOR_COLUMNS = [
    Column("name", "Vendor", "name"),
    Column("status", "Status", "status"),
    Column("country", "Headquarters", "headquarters_country"),
    Column("engagements", "Active engagements", "active_engagements", numeric=True),
    Column("skills", "Skills", "skill_count", numeric=True),
    Column("updated", "Updated", "updated_at"),
]


@requires(Perm.VIEW)
def vendor_list(request, org_slug):
    rows = Vendor.objects.visible_to(request.membership).annotate(
        active_engagements=Count("engagements", filter=Q(engagements__status="active"), distinct=True),
        skill_count=Count("skills", distinct=True),
    )
    table = build_table(
        request,
        rows,
        VENDOR_COLUMNS,
        default_sort="name",
        search=["name", "legal_name", "headquarters_country", "skills__skill__name"],
        filters={"status": "status", "skill": "skills__skill__uid"},
    )
    if table.query:
        table.rows = table.rows.distinct()
    context = {
        "section": "vendors",
        "table": table,
        "statuses": Vendor.Status.choices,
        "skills": Skill.objects.visible_to(request.membership),
    }
    return render(request, "vendors/vendor_list.html", context)


def _vendor(request, uid):
    return Vendor.objects.get_visible_or_404(request.membership, uid=uid)


@requires(Perm.VIEW)
def vendor_detail(request, org_slug, uid):
    m = request.membership
    vendor = _vendor(request, uid)
    context = {
        "section": "vendors",
        "vendor": vendor,
        "skills": vendor.skills.select_related("skill"),
        "locations": vendor.locations.all(),
        "domains": vendor.domains.all(),
        "certifications": vendor.certifications.all(),
        "case_studies": vendor.case_studies.all(),
        "contacts": vendor.contacts.all(),
        "rates": vendor.rate_lines.all(),
        "engagements": Engagement.objects.visible_to(m).filter(vendor=vendor),
    }
    return render(request, "vendors/vendor_detail.html", context)


@requires(Perm.EDIT)
def vendor_create(request, org_slug):
    m = request.membership
    form = VendorForm(request.POST or None, membership=m)
    return form_page(
        request,
        form,
        title="New vendor",
        section="vendors",
        save=lambda: services.save_vendor_record(
            membership=m, instance=form.instance, remote_addr=client_ip(request)
        ),
        success_url=lambda v: reverse("vendor_detail", args=[org_slug, v.uid]),
        cancel_url=reverse("vendor_list", args=[org_slug]),
        crumbs=[("Vendors", reverse("vendor_list", args=[org_slug]))],
        success_message="Vendor created. Add its skills, rates and contacts below.",
    )


@requires(Perm.EDIT)
def vendor_edit(request, org_slug, uid):
    m = request.membership
    vendor = _vendor(request, uid)
    form = VendorForm(request.POST or None, instance=vendor, membership=m)
    detail = reverse("vendor_detail", args=[org_slug, uid])
    return form_page(
        request,
        form,
        title=f"Edit {vendor}",
        section="vendors",
        save=lambda: services.save_vendor_record(
            membership=m, instance=form.instance, remote_addr=client_ip(request)
        ),
        success_url=lambda v: detail,
        cancel_url=detail,
        crumbs=[("Vendors", reverse("vendor_list", args=[org_slug])), (vendor.name, detail)],
    )


@requires(Perm.EDIT)
def vendor_delete(request, org_slug, uid):
    m = request.membership
    vendor = _vendor(request, uid)
    return delete_page(
        request,
        vendor,
        kind="vendor",
        section="vendors",
        delete=lambda: services.delete_vendor_record(
            membership=m, instance=vendor, remote_addr=client_ip(request)
        ),
        success_url=reverse("vendor_list", args=[org_slug]),
        cancel_url=reverse("vendor_detail", args=[org_slug, uid]),
    )


@requires(Perm.VIEW_INTERNAL)
def vendor_history(request, org_slug, uid):
    vendor = _vendor(request, uid)
    events = (
        AuditEvent.objects.visible_to(request.membership)
        .filter(Q(vendor_uid=vendor.uid) | Q(object_uid=vendor.uid))
        .select_related("actor")[:500]
    )
    return render(
        request,
        "web/history_page.html",
        {
            "section": "vendors",
            "object": vendor,
            "events": events,
            "back_url": reverse("vendor_detail", args=[org_slug, uid]),
        },
    )


def _child_kind(kind):
    if kind not in CHILD_KINDS:
        raise Http404("No such section.")
    return CHILD_KINDS[kind]


@requires(Perm.EDIT)
def child_create(request, org_slug, uid, kind):
    m = request.membership
    vendor = _vendor(request, uid)
    model, form_class, label = _child_kind(kind)
    form = form_class(request.POST or None, membership=m, instance=model(vendor=vendor))
    detail = reverse("vendor_detail", args=[org_slug, uid])
    return form_page(
        request,
        form,
        title=f"Add a {label} to {vendor}",
        section="vendors",
        save=lambda: services.save_vendor_record(
            membership=m, instance=form.instance, remote_addr=client_ip(request)
        ),
        success_url=lambda obj: f"{detail}#{kind}",
        cancel_url=f"{detail}#{kind}",
        crumbs=[("Vendors", reverse("vendor_list", args=[org_slug])), (vendor.name, detail)],
        success_message=f"Added the {label}.",
    )


def _child(request, uid, kind, child_uid):
    vendor = _vendor(request, uid)
    model, form_class, label = _child_kind(kind)
    child = model.objects.get_visible_or_404(request.membership, uid=child_uid, vendor=vendor)
    return vendor, child, form_class, label


@requires(Perm.EDIT)
def child_edit(request, org_slug, uid, kind, child_uid):
    m = request.membership
    vendor, child, form_class, label = _child(request, uid, kind, child_uid)
    form = form_class(request.POST or None, membership=m, instance=child)
    detail = reverse("vendor_detail", args=[org_slug, uid])
    return form_page(
        request,
        form,
        title=f"Edit {label} of {vendor}",
        section="vendors",
        save=lambda: services.save_vendor_record(
            membership=m, instance=form.instance, remote_addr=client_ip(request)
        ),
        success_url=lambda obj: f"{detail}#{kind}",
        cancel_url=f"{detail}#{kind}",
        crumbs=[("Vendors", reverse("vendor_list", args=[org_slug])), (vendor.name, detail)],
    )


@requires(Perm.EDIT)
def child_delete(request, org_slug, uid, kind, child_uid):
    m = request.membership
    vendor, child, form_class, label = _child(request, uid, kind, child_uid)
    detail = reverse("vendor_detail", args=[org_slug, uid])
    return delete_page(
        request,
        child,
        kind=label,
        section="vendors",
        delete=lambda: services.delete_vendor_record(
            membership=m, instance=child, remote_addr=client_ip(request)
        ),
        success_url=f"{detail}#{kind}",
        cancel_url=f"{detail}#{kind}",
    )


@requires(Perm.VIEW_INTERNAL)
def skill_list(request, org_slug):
    rows = Skill.objects.visible_to(request.membership).annotate(
        vendor_count=Count("vendor_skills", distinct=True)
    )
    table = build_table(
        request,
        rows,
        [
            Column("name", "Skill", "name"),
            Column("category", "Category", "category"),
            Column("paths", "Files that show it"),
            Column("vendors", "Vendors offering it", "vendor_count", numeric=True),
        ],
        default_sort="category",
        search=["name", "category"],
    )
    return render(request, "vendors/skill_list.html", {"section": "skills", "table": table})


@requires(Perm.EDIT)
def skill_create(request, org_slug):
    m = request.membership
    form = SkillForm(request.POST or None, membership=m)
    return form_page(
        request,
        form,
        title="Add a skill to the taxonomy",
        section="skills",
        save=lambda: services.save_vendor_record(
            membership=m, instance=form.instance, remote_addr=client_ip(request)
        ),
        success_url=lambda s: reverse("skill_list", args=[org_slug]),
        cancel_url=reverse("skill_list", args=[org_slug]),
    )


@requires(Perm.EDIT)
def skill_edit(request, org_slug, uid):
    m = request.membership
    skill = Skill.objects.get_visible_or_404(m, uid=uid)
    form = SkillForm(request.POST or None, membership=m, instance=skill)
    return form_page(
        request,
        form,
        title=f"Edit skill {skill}",
        section="skills",
        save=lambda: services.save_vendor_record(
            membership=m, instance=form.instance, remote_addr=client_ip(request)
        ),
        success_url=lambda s: reverse("skill_list", args=[org_slug]),
        cancel_url=reverse("skill_list", args=[org_slug]),
    )
