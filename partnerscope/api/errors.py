"""Error responses, one shape for each kind of failure.

* 401 ``{"detail": "Unauthorized"}`` with ``WWW-Authenticate: Bearer``
* 403 ``{"detail": "You do not have permission to do this."}``
* 404 ``{"detail": "Not found."}``: unknown, out of scope and other tenants' records alike
* 422 ``{"detail": [{"loc": ["body", "<field>"], "msg": "...", "type": "..."}]}``: request
  validation (pydantic) and the model's and services' rules (Django ``ValidationError``)
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError


def field_error(field: str, msg: str, type_: str = "value_error") -> NinjaValidationError:
    """A 422 naming one body field, in the same shape as request validation errors."""
    return NinjaValidationError([{"loc": ["body", field], "msg": msg, "type": type_}])


def _field_of(name: str, error: DjangoValidationError) -> str | None:
    """The body field an error belongs to; a unique-together error names its non-org field."""
    if name != NON_FIELD_ERRORS:
        return name
    unique_check = (error.params or {}).get("unique_check") if error.code == "unique_together" else None
    fields = [f for f in unique_check or () if f != "organization"]
    return fields[0] if len(fields) == 1 else None


def django_errors(exc: DjangoValidationError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        items = [(name, err) for name, errs in exc.error_dict.items() for err in errs]
    else:
        items = [(NON_FIELD_ERRORS, err) for err in exc.error_list]
    errors = []
    for name, err in items:
        field = _field_of(name, err)
        loc = ["body", field] if field else ["body"]
        for msg in err.messages:
            errors.append({"loc": loc, "msg": msg, "type": err.code or "invalid"})
    return errors


def request_errors(exc: NinjaValidationError) -> list[dict]:
    """Request validation errors in the same shape, without ninja's parameter name.

    ninja reports a body field as ``["body", "payload", "name"]``; the handlers all call their
    body ``payload``, so ``["body", "name"]`` is unambiguous and matches the model's errors.
    """
    errors = []
    for error in exc.errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc[:2] == ["body", "payload"]:
            loc = ["body", *loc[2:]]
        errors.append({"loc": loc, "msg": error.get("msg", ""), "type": error.get("type", "invalid")})
    return errors


def install(api: NinjaAPI) -> None:
    def unauthorized(request, exc):
        response = api.create_response(request, {"detail": "Unauthorized"}, status=401)
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    def forbidden(request, exc):
        return api.create_response(request, {"detail": "You do not have permission to do this."}, status=403)

    def not_found(request, exc):
        return api.create_response(request, {"detail": "Not found."}, status=404)

    def invalid(request, exc):
        return api.create_response(request, {"detail": django_errors(exc)}, status=422)

    def request_invalid(request, exc):
        return api.create_response(request, {"detail": request_errors(exc)}, status=422)

    api.add_exception_handler(AuthenticationError, unauthorized)
    api.add_exception_handler(PermissionDenied, forbidden)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(DjangoValidationError, invalid)
    api.add_exception_handler(NinjaValidationError, request_invalid)
