"""The NinjaAPI instance: ``partnerscope.api.router.api``, mounted at ``/api/v1/``."""

from ninja import NinjaAPI

from partnerscope.api import (
    engagements,
    errors,
    evidence,
    me,
    metrics,
    planning,
    roster,
    sourcing,
    trackers,
    vendors,
)
from partnerscope.api.auth import TokenAuth
from partnerscope.api.docs import LocalSwagger

DESCRIPTION = """\
The partnerscope system of record: vendors and their profiles, engagements and the roster.

**Authentication.** Every request carries an API token: `Authorization: Bearer <token>`.
Create tokens on the organization's *API tokens* page. A token belongs to one membership in one
organization, so paths carry no organization: the token decides which organization's records
you see. Its scope caps the role: a `read` token never writes, a `write` token writes only if
the role may edit. Vendor users see only their own vendor's records; other records answer 404.

**Errors.** 401 without a valid token; 403 when the role or token may not do this; 404 for a
record that does not exist or is out of scope; 422 with `{"detail": [{"loc": [...], "msg": ...}]}`
for invalid input, naming the field.

**Lists** take `limit` (at most 500) and `offset` and answer `{"count": n, "items": [...]}`.
"""


class PartnerscopeAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        # Handler names are unique across the API: "list_vendors", "create_vendor_rates"...
        return operation.view_func.__name__


api = PartnerscopeAPI(
    title="partnerscope API",
    version="1",
    description=DESCRIPTION,
    auth=TokenAuth(),
    urls_namespace="api",
    docs=LocalSwagger(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)
api.add_router("", me.router)
api.add_router("", vendors.router)
api.add_router("", engagements.router)
api.add_router("", roster.router)
api.add_router("", evidence.router)
api.add_router("", trackers.router)
api.add_router("", metrics.router)
api.add_router("", sourcing.router)
api.add_router("", planning.router)
