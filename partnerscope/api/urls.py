from django.http import JsonResponse
from django.urls import path, re_path

from partnerscope.api.router import api


def not_found(request, rest=""):
    """Unknown paths under the API answer in the API's shape, not with the HTML 404 page."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("", api.urls),
    re_path(r"^(?P<rest>.*)$", not_found),  # unnamed: not a page of its own
]
