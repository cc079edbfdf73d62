"""Structural guards: views and API handlers read tenant data only through the scoping helpers."""

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "partnerscope"
# Direct manager calls that would bypass visible_to / get_visible_or_404.
UNSCOPED = re.compile(
    r"\b[A-Z]\w*\.objects\.(get|filter|all|exclude|first|last|count|create|update|delete|raw)\("
)


def handler_modules():
    yield from PACKAGE.glob("*/views.py")
    yield from (PACKAGE / "api").glob("*.py")
    yield from PACKAGE.glob("web/*.py")


def test_views_and_api_handlers_never_query_a_model_directly():
    offenders = []
    for path in handler_modules():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if UNSCOPED.search(line):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not offenders, "use Model.objects.visible_to(membership):\n" + "\n".join(offenders)


def test_every_tenant_model_says_how_vendors_see_it():
    from django.apps import apps

    from partnerscope.orgs.scoping import TenantModel

    for model in apps.get_models():
        if issubclass(model, TenantModel):
            assert "vendor_q" in vars(model) or any(
                "vendor_q" in vars(base) for base in model.__mro__[1:] if base is not TenantModel
            ), f"{model.__name__} must set vendor_q (None for client-only data)"
