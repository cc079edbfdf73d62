from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from partnerscope.engagements.models import Assignment, Engagement, Person
from partnerscope.orgs.middleware import usable_memberships
from partnerscope.orgs.permissions import requires
from partnerscope.orgs.roles import Perm
from partnerscope.vendors.models import Certification, Vendor


@login_required
def home(request):
    memberships = usable_memberships(request.user)
    if len(memberships) == 1:
        return redirect("dashboard", org_slug=memberships[0].organization.slug)
    return render(request, "web/home.html", {"memberships": memberships})


@requires(Perm.VIEW)
def dashboard(request, org_slug):
    m = request.membership
    vendors = Vendor.objects.visible_to(m)
    engagements = Engagement.objects.visible_to(m)
    certs = Certification.objects.visible_to(m).select_related("vendor").exclude(expires_on__isnull=True)
    attention = [c for c in certs.order_by("expires_on") if c.status != "valid"][:10]
    context = {
        "section": "dashboard",
        "vendor_count": vendors.count(),
        "active_engagements": engagements.filter(status=Engagement.Status.ACTIVE).count(),
        "people_count": Person.objects.visible_to(m).count(),
        "current_assignments": Assignment.objects.visible_to(m).filter(valid_to__isnull=True).count(),
        "engagements": engagements.select_related("vendor").filter(status=Engagement.Status.ACTIVE)[:8],
        "attention": attention,
    }
    return render(request, "web/dashboard.html", context)


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    return render(request, "web/404.html", status=404)


def server_error(request):
    # No template context processors here: a failing request must not fail again.
    return HttpResponse(
        "<!doctype html><title>Server error</title><h1>Something went wrong</h1>"
        "<p>The error was logged. Please try again.</p>",
        status=500,
    )
