"""Interactive docs that never load anything from a CDN.

django-ninja ships Swagger UI (``ninja/static/ninja/``) and serves it locally only when
``"ninja"`` is in ``INSTALLED_APPS`` (its templates and static files are then found); otherwise
it falls back to a page loading Swagger UI from a CDN, which our CSP (``'self'`` only) forbids.
This class never falls back: without the app installed the docs page is a 404.
"""

from django.conf import settings
from django.http import Http404
from ninja.openapi.docs import Swagger


class LocalSwagger(Swagger):
    def render_page(self, request, api, **kwargs):
        if "ninja" not in settings.INSTALLED_APPS:
            raise Http404("API docs need 'ninja' in INSTALLED_APPS (local assets, no CDN).")
        return super().render_page(request, api, **kwargs)
