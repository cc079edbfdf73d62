"""What other apps read of scorecards: each vendor's latest standing under the default template.

Sourcing (past performance in shortlists) and planning (the quality floor) call
``vendor_scores``; it reads stored scores only, never evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from partnerscope.metrics import periods
from partnerscope.metrics.models import Score, ScorecardTemplate


@dataclass(frozen=True)
class VendorScore:
    score: float | None  # 0-100 weighted score; None = no history
    standing: str | None
    standing_rank: int | None  # 0 = the best band
    sample: int  # evidence events behind the score
    period: str | None
    template: str | None = None


def default_template(organization_id: int) -> ScorecardTemplate | None:
    return (
        ScorecardTemplate.objects.filter(organization_id=organization_id)
        .order_by("-is_default", "id")
        .first()
    )


def vendor_scores(
    organization_id: int, vendor_ids, period_kind: str = periods.QUARTER
) -> dict[int, VendorScore]:
    """The most recent scored period of each vendor (all engagements). Vendors without one are
    absent: "no history" is for the caller to show as its own state, never as a zero."""
    template = default_template(organization_id)
    if template is None:
        return {}
    rows = (
        Score.objects.filter(
            organization_id=organization_id, template=template, engagement_key=0,
            vendor_key__in=list(vendor_ids), period_kind=period_kind, score__isnull=False,
        )
        .order_by("vendor_key", "-period_start")
        .values_list("vendor_key", "score", "standing", "standing_rank", "sample", "period_start")
    )  # fmt: skip
    out: dict[int, VendorScore] = {}
    for vendor_id, score, standing, rank, sample, start in rows:
        if vendor_id not in out:
            out[vendor_id] = VendorScore(
                score, standing, rank, sample, periods.label(period_kind, start), template.name
            )
    return out
