from django.urls import include, path

from partnerscope.api.urls import urlpatterns as api_urlpatterns
from partnerscope.web import views as web_views

org_patterns = [
    path("", web_views.dashboard, name="dashboard"),
    path("", include("partnerscope.vendors.urls")),
    path("", include("partnerscope.engagements.urls")),
    path("", include("partnerscope.evidence.urls")),
    path("", include("partnerscope.sourcing.urls")),
    path("", include("partnerscope.metrics.urls")),
    path("", include("partnerscope.orgs.urls")),
]

urlpatterns = [
    path("", web_views.home, name="home"),
    path("accounts/", include("partnerscope.web.account_urls")),
    path("o/<slug:org_slug>/", include(org_patterns)),
    path("api/v1/", include(api_urlpatterns)),
    path("healthz", web_views.healthz, name="healthz"),
]

handler404 = "partnerscope.web.views.not_found"
handler500 = "partnerscope.web.views.server_error"
