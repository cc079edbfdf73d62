"""The scorecard every organization starts with (editable like any other template)."""

from __future__ import annotations

from django.db import transaction

from partnerscope.metrics.models import DEFAULT_BANDS, Criterion, ScorecardTemplate

DEFAULT_NAME = "Standard vendor scorecard"

# kpi, direction, target, threshold, weight: targets and thresholds in the units pages show.
DEFAULT_CRITERIA = [
    ("change_failure_rate", -1, 10.0, 30.0, 20),
    ("lead_time", -1, 72.0, 336.0, 15),
    ("review_discipline", 1, 90.0, 50.0, 15),
    ("change_request_acceptance", 1, 85.0, 50.0, 10),
    ("revert_rate", -1, 2.0, 10.0, 10),
    ("rework_rate", -1, 10.0, 30.0, 10),
    ("pickup_time", -1, 8.0, 48.0, 10),
    ("attrition", -1, 5.0, 20.0, 10),
]


def ensure_default_template(organization_id: int) -> ScorecardTemplate:
    with transaction.atomic():
        existing = (
            ScorecardTemplate.objects.filter(organization_id=organization_id).order_by("-is_default").first()
        )
        if existing is not None:
            return existing
        template = ScorecardTemplate.objects.create(
            organization_id=organization_id,
            name=DEFAULT_NAME,
            description="Delivery, quality and stability, weighted as most buyers start; edit to suit.",
            bands=DEFAULT_BANDS,
            is_default=True,
        )
        Criterion.objects.bulk_create(
            [
                Criterion(organization_id=organization_id, template=template, kpi=kpi, direction=direction,
                          target=target, threshold=threshold, weight=weight, position=i)
                for i, (kpi, direction, target, threshold, weight) in enumerate(DEFAULT_CRITERIA)
            ]
        )  # fmt: skip
    return template
