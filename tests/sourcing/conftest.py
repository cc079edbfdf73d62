"""Sourcing fixtures: the persona world plus locations, certifications and rates that make the
gates and criteria differ between vendors, and a way to choose each vendor's scorecard score."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from partnerscope.metrics.summary import VendorScore
from partnerscope.sourcing import services
from partnerscope.sourcing.models import SourcingRequest
from partnerscope.vendors.models import (
    Certification,
    RateCardLine,
    Skill,
    Vendor,
    VendorLocation,
    VendorSkill,
)
from partnerscope.vendors.services import save_vendor_record

START = datetime.date(2025, 7, 1)


@pytest.fixture
def scores(monkeypatch):
    """Set ``scores[vendor_id] = VendorScore(...)``; vendors left out have no history."""
    chosen: dict[int, VendorScore] = {}

    def vendor_scores(organization_id, vendor_ids, *args, **kwargs):
        return {v: chosen[v] for v in vendor_ids if v in chosen}

    monkeypatch.setattr("partnerscope.metrics.summary.vendor_scores", vendor_scores)
    return chosen


def score(value, standing="Good", rank=1, sample=120):
    return VendorScore(value, standing, rank, sample, "2025-Q1")


@pytest.fixture
def market(world, scores):
    """Vendor A in Warsaw (ISO 27001, 60 EUR/h), B in Bengaluru (ISO 27001 expiring before the
    start, 40 USD/h), C in Lisbon (no certification, 75 EUR/h senior, 55 EUR/h mid)."""
    m = world.owner_m
    skills = {s.name: s for s in Skill.objects.visible_to(m)}
    a, b = world.vendor_a, world.vendor_b
    c = save_vendor_record(membership=m, instance=Vendor(name="Cintra Code", status="prospect"))
    rec = lambda instance: save_vendor_record(membership=m, instance=instance)  # noqa: E731
    rec(VendorLocation(vendor=a, city="Warsaw", country="Poland", timezone="Europe/Warsaw"))
    rec(VendorLocation(vendor=b, city="Bengaluru", country="India", timezone="Asia/Kolkata"))
    rec(VendorLocation(vendor=c, city="Lisbon", country="Portugal", timezone="Europe/Lisbon"))
    Certification.objects.filter(vendor=b).update(expires_on=datetime.date(2025, 6, 1))
    RateCardLine.objects.filter(vendor=b).update(currency="USD", rate=40)
    for seniority, rate in (("senior", 75), ("mid", 55)):
        rec(
            RateCardLine(
                vendor=c, role="Engineer", seniority=seniority, currency="EUR", rate=Decimal(rate),
                valid_from=datetime.date(2025, 1, 1),
            )
        )  # fmt: skip
    rec(VendorSkill(vendor=c, skill=skills["Python"], level=5, headcount=6))
    rec(VendorSkill(vendor=a, skill=skills["React"], level=3, headcount=4))
    return {"a": a, "b": b, "c": c, "skills": skills}


def make_request(membership, skills, *, needs=None, **fields) -> SourcingRequest:
    values = {
        "title": "Payments backend squad",
        "start_date": START,
        "duration_months": 6,
        "currency": "EUR",
        "exchange_rates": "USD 0.9",
        "client_timezone": "Europe/Berlin",
        "required_overlap_hours": Decimal(3),
        "seniority_mix": {"senior": 100},
        **fields,
    }
    needs = needs or [services.NeedInput(skills["Python"], 4, 3)]
    return services.save_request(membership=membership, instance=SourcingRequest(**values), needs=needs)
