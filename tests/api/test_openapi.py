"""The OpenAPI document and the interactive docs (no CDN)."""

import re

import pytest
from django.test import Client

from partnerscope.api.router import api

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}


def test_openapi_json_loads_and_every_operation_has_a_summary():
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "partnerscope API"
    assert schema["info"]["version"] == "1"
    assert "Bearer" in schema["info"]["description"]
    operations = [
        (method, path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]
    assert operations  # the matrix in tests/test_api_authorization_matrix.py checks each one
    ids = [op["operationId"] for _, _, op in operations]
    assert len(ids) == len(set(ids))
    for method, path, op in operations:
        assert op.get("summary"), (method, path)
        assert op.get("tags"), (method, path)
        assert op.get("security") == [{"TokenAuth": []}], (method, path)
    assert schema["components"]["securitySchemes"] == {"TokenAuth": {"type": "http", "scheme": "bearer"}}
    # Each kind of vendor profile record is its own operation.
    for kind in ["skills", "locations", "domains", "certifications", "case-studies", "contacts", "rates"]:
        assert set(schema["paths"][f"/api/v1/vendors/{{uid}}/{kind}"]) == {"get", "post"}
        assert set(schema["paths"][f"/api/v1/vendors/{{uid}}/{kind}/{{child_uid}}"]) == {"patch", "delete"}


def test_vendor_audience_schema_has_no_internal_notes():
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    assert "internal_notes" not in components["VendorOut"]["properties"]
    assert "internal_notes" in components["VendorInternalOut"]["properties"]
    assert "internal_notes" not in components["EngagementOut"]["properties"]
    assert "notes" not in components["PersonOut"]["properties"]


def test_docs_never_use_a_cdn(settings):
    assert "ninja" in settings.INSTALLED_APPS  # its bundled Swagger UI files, served locally
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith(settings.STATIC_URL) for s in sources), sources
    assert "cdn" not in html.lower()
    assert "<script>" not in html  # no inline script: our CSP allows only 'self'
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_unknown_api_paths_answer_json(world):
    response = Client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
