"""The facts about each vendor a sourcing request is judged on: the pass/fail gates, each with
its reason, and the raw value of every ranking criterion (None when there is no data).

Everything is read through ``visible_to(membership)``; one query per kind of record, however
many vendors there are.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from partnerscope.engagements.models import Assignment, Engagement
from partnerscope.sourcing.models import Criterion, SourcingRequest, clock
from partnerscope.sourcing.rates import BlendedRate, blended_rate, lines_valid_on, parse_exchange_rates
from partnerscope.vendors.models import Certification, RateCardLine, Vendor, VendorLocation, VendorSkill

# Vendors' own working day, in each location's time zone.
VENDOR_DAY = (datetime.time(9), datetime.time(17))
CONSIDERED = {Vendor.Status.ACTIVE, Vendor.Status.ONBOARDING, Vendor.Status.PROSPECT}
TURNOVER_WINDOW_DAYS = 365


class GateName:
    STATUS = "status"
    CERTIFICATIONS = "certifications"
    HEADCOUNT = "headcount"
    TIMEZONE = "timezone"
    BUDGET = "budget"


GATE_LABELS = {
    GateName.STATUS: "Vendor status",
    GateName.CERTIFICATIONS: "Required certifications",
    GateName.HEADCOUNT: "Headcount for the skills",
    GateName.TIMEZONE: "Time-zone overlap",
    GateName.BUDGET: "Rates within budget",
}


@dataclass
class Gate:
    name: str
    passed: bool
    reason: str

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "label": GATE_LABELS[self.name],
            "passed": self.passed,
            "reason": self.reason,
        }


@dataclass
class Candidate:
    vendor: Vendor
    gates: list[Gate] = field(default_factory=list)
    values: dict[str, float | None] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    performance: dict | None = None

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    def as_json(self) -> dict:
        return {
            "vendor": self.vendor.uid,
            "name": self.vendor.name,
            "status": self.vendor.status,
            "passed": self.passed,
            "gates": [g.as_json() for g in self.gates],
            "values": self.values,
            "details": self.details,
            "notes": self.notes,
            "performance": self.performance,
        }


# --- single facts -----------------------------------------------------------------------------


def _tokens(text: str) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", text.lower()) if t}


def cert_matches(required: str, held: str) -> bool:
    """“ISO 27001” matches “ISO/IEC 27001:2022”: every word of the requirement is in the name."""
    wanted = _tokens(required)
    return bool(wanted) and wanted <= _tokens(held)


def cert_valid_on(cert: Certification, day: datetime.date) -> bool:
    if cert.issued_on is not None and cert.issued_on > day:
        return False
    return cert.expires_on is None or cert.expires_on >= day


def overlap_hours(
    day: datetime.date,
    client_tz: str,
    client_start: datetime.time,
    client_end: datetime.time,
    vendor_tz: str,
    vendor_day: tuple[datetime.time, datetime.time] = VENDOR_DAY,
) -> float:
    """Hours both working days share on ``day`` (the client's date), daylight saving included.

    The vendor's day before and after are tried too, so a day crossing midnight in UTC counts.
    """
    ctz, vtz = zoneinfo.ZoneInfo(client_tz), zoneinfo.ZoneInfo(vendor_tz)
    c0 = datetime.datetime.combine(day, client_start, tzinfo=ctz)
    c1 = datetime.datetime.combine(day, client_end, tzinfo=ctz)
    best = 0.0
    for shift in (-1, 0, 1):
        vday = day + datetime.timedelta(days=shift)
        v0 = datetime.datetime.combine(vday, vendor_day[0], tzinfo=vtz)
        v1 = datetime.datetime.combine(vday, vendor_day[1], tzinfo=vtz)
        shared = (min(c1, v1) - max(c0, v0)).total_seconds() / 3600
        best = max(best, shared)
    return round(best, 2)


def roster_turnover(membership, vendor_ids, today: datetime.date) -> dict[int, tuple[float, int, int]]:
    """Per vendor: (turnover %, leavers, people) over the last 12 months of the dated roster.

    A leaver is someone whose assignments at the vendor ended in the window while their
    engagement went on, and who was not back at the vendor within a month. Rolling off with
    the end of the engagement is not counted. Vendors without anyone on the roster in the
    window are missing: no data, not 0 %.
    """
    since = today - datetime.timedelta(days=TURNOVER_WINDOW_DAYS)
    rows = (
        Assignment.objects.visible_to(membership)
        .filter(vendor_id__in=vendor_ids, valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=since))
        .values_list("vendor_id", "person_id", "valid_from", "valid_to", "engagement__end_date")
    )
    spans: dict[tuple[int, int], list] = defaultdict(list)
    for vendor_id, person_id, start, end, engagement_end in rows:
        spans[(vendor_id, person_id)].append((start, end, engagement_end))
    people: dict[int, int] = defaultdict(int)
    leavers: dict[int, int] = defaultdict(int)
    for (vendor_id, _person), periods in spans.items():
        people[vendor_id] += 1
        last_end = max((end or datetime.date.max) for _, end, _ in periods)
        if last_end == datetime.date.max or last_end > today or last_end < since:
            continue
        engagement_end = next(e for _, end, e in periods if end == last_end)
        rolled_off_with_engagement = engagement_end is not None and engagement_end <= last_end
        if not rolled_off_with_engagement:
            leavers[vendor_id] += 1
    return {
        vendor_id: (round(100 * leavers[vendor_id] / count, 1), leavers[vendor_id], count)
        for vendor_id, count in people.items()
    }


def performance_of(organization_id: int, vendor_ids: list[int]) -> dict[int, dict]:
    """Past performance from the scorecards: score 0–100 with its sample and standing."""
    from partnerscope.metrics.summary import vendor_scores

    found = vendor_scores(organization_id, list(vendor_ids))
    out = {}
    for vendor_id, score in found.items():
        if score is None or score.score is None:
            continue
        out[vendor_id] = {
            "score": round(float(score.score), 1),
            "standing": score.standing,
            "standing_rank": score.standing_rank,
            "sample": int(score.sample),
            "period": score.period,
        }
    return out


# --- all candidates of a request ----------------------------------------------------------------


def assess_candidates(membership, request: SourcingRequest, *, today: datetime.date | None = None):
    """Every vendor of the organization with its gates and criteria values, best data first."""
    today = today or datetime.date.today()
    day = request.start_date
    fx = parse_exchange_rates(request.exchange_rates, request.currency)
    needs = list(request.skills.select_related("skill"))
    vendors = list(Vendor.objects.visible_to(membership).order_by("name"))
    ids = [v.id for v in vendors]

    skills: dict[int, dict[int, VendorSkill]] = defaultdict(dict)
    for row in VendorSkill.objects.visible_to(membership).filter(vendor_id__in=ids):
        skills[row.vendor_id][row.skill_id] = row
    locations: dict[int, list[VendorLocation]] = defaultdict(list)
    for row in VendorLocation.objects.visible_to(membership).filter(vendor_id__in=ids):
        locations[row.vendor_id].append(row)
    certs: dict[int, list[Certification]] = defaultdict(list)
    for row in Certification.objects.visible_to(membership).filter(vendor_id__in=ids):
        certs[row.vendor_id].append(row)
    rates: dict[int, list[RateCardLine]] = defaultdict(list)
    for row in lines_valid_on(RateCardLine.objects.visible_to(membership).filter(vendor_id__in=ids), day):
        rates[row.vendor_id].append(row)
    models_done: dict[int, int] = defaultdict(int)
    if request.engagement_model:
        for vendor_id in (
            Engagement.objects.visible_to(membership)
            .filter(vendor_id__in=ids, model=request.engagement_model)
            .values_list("vendor_id", flat=True)
        ):
            models_done[vendor_id] += 1
    turnover = roster_turnover(membership, ids, today)
    performance = performance_of(membership.organization_id, ids)

    candidates = []
    for vendor in vendors:
        c = Candidate(vendor=vendor)
        if vendor.status not in CONSIDERED:
            c.gates.append(Gate(GateName.STATUS, False, f"{vendor.get_status_display()}: not considered."))
        else:
            c.gates.append(Gate(GateName.STATUS, True, vendor.get_status_display()))
        _certification_gate(c, request, certs[vendor.id], day)
        _skill_facts(c, needs, skills[vendor.id])
        _timezone_facts(c, request, locations[vendor.id], day)
        _rate_facts(c, request, rates[vendor.id], fx, sum(need.headcount for need in needs))
        _performance_facts(c, performance.get(vendor.id))
        _turnover_facts(c, turnover.get(vendor.id))
        if request.engagement_model:
            done = models_done[vendor.id]
            label = request.get_engagement_model_display().lower()
            c.notes.append(
                f"{done} earlier {label} engagement{'s' if done != 1 else ''} with us"
                if done
                else f"No earlier {label} engagement with us"
            )
        candidates.append(c)
    return candidates


def _certification_gate(c: Candidate, request: SourcingRequest, held: list[Certification], day) -> None:
    valid = [cert for cert in held if cert_valid_on(cert, day)]
    c.values[Criterion.CERTIFICATIONS] = float(len(valid))
    c.details[Criterion.CERTIFICATIONS] = (
        f"{len(valid)} valid on {day:%Y-%m-%d}: " + ", ".join(cert.name for cert in valid)
        if valid
        else f"None valid on {day:%Y-%m-%d}"
    )
    required = request.certification_list()
    if not required:
        c.gates.append(Gate(GateName.CERTIFICATIONS, True, "None required."))
        return
    reasons, passed = [], True
    for name in required:
        matching = [cert for cert in held if cert_matches(name, cert.name)]
        good = [cert for cert in matching if cert_valid_on(cert, day)]
        if good:
            cert = good[0]
            until = f"until {cert.expires_on:%Y-%m-%d}" if cert.expires_on else "no expiry"
            reasons.append(f"{name}: {cert.name} ({until})")
        elif matching:
            passed = False
            cert = max(matching, key=lambda x: x.expires_on or datetime.date.max)
            if cert.issued_on and cert.issued_on > day:
                reasons.append(f"{name}: {cert.name} is issued only on {cert.issued_on:%Y-%m-%d}")
            else:
                reasons.append(f"{name}: {cert.name} expired {cert.expires_on:%Y-%m-%d}, before the start")
        else:
            passed = False
            reasons.append(f"{name}: not held")
    c.gates.append(Gate(GateName.CERTIFICATIONS, passed, "; ".join(reasons) + "."))


def _skill_facts(c: Candidate, needs, offered: dict[int, VendorSkill]) -> None:
    if not needs:
        c.gates.append(Gate(GateName.HEADCOUNT, False, "The request names no skills."))
        c.values[Criterion.SKILL_COVERAGE] = None
        c.values[Criterion.CAPACITY] = None
        return
    reasons, passed = [], True
    covered = weighted = needed = available = 0.0
    for need in needs:
        row = offered.get(need.skill_id)
        label = need.skill.name
        needed += need.headcount
        if row is None:
            ok, text = False, f"{label}: not offered"
            have = 0
        elif row.level < need.min_level:
            ok, text = False, f"{label}: level {row.level} below {need.min_level}"
            have = 0
        else:
            have = row.headcount
            ok = have >= need.headcount
            text = f"{label}: {have} at level {row.level} for {need.headcount}"
            covered_here = min(have, need.headcount)
            covered += covered_here
            weighted += covered_here * row.level / 5
        available += have
        if need.required:
            passed &= ok
            reasons.append(text if ok or not have else f"{text}: short")
        else:
            reasons.append(f"{text} (optional)")
    c.gates.append(Gate(GateName.HEADCOUNT, passed, "; ".join(reasons) + "."))
    c.values[Criterion.SKILL_COVERAGE] = round(100 * weighted / needed, 2)
    c.details[Criterion.SKILL_COVERAGE] = (
        f"{covered:g} of {needed:g} people staffable at the minimum level; weighted by level "
        f"(5 = expert counts fully): {100 * weighted / needed:.1f} %"
    )
    c.values[Criterion.CAPACITY] = round(available / needed, 3)
    c.details[Criterion.CAPACITY] = f"{available:g} people in these skills for {needed:g} wanted"


def _timezone_facts(c: Candidate, request: SourcingRequest, locations, day) -> None:
    required = float(request.required_overlap_hours)
    if not locations:
        c.values[Criterion.TIMEZONE_OVERLAP] = None
        c.details[Criterion.TIMEZONE_OVERLAP] = "No locations recorded"
        c.gates.append(
            Gate(
                GateName.TIMEZONE,
                required == 0,
                "No overlap required." if required == 0 else "No locations recorded: overlap unknown.",
            )
        )
        return
    best_hours, best = -1.0, None
    for location in locations:
        hours = overlap_hours(
            day,
            request.client_timezone,
            clock(request.workday_start),
            clock(request.workday_end),
            location.timezone,
        )
        if hours > best_hours:
            best_hours, best = hours, location
    c.values[Criterion.TIMEZONE_OVERLAP] = best_hours
    where = f"{best.city} ({best.timezone})"
    c.details[Criterion.TIMEZONE_OVERLAP] = f"{best_hours:g} h with {where}, working 09:00–17:00 local"
    ok = best_hours >= required
    word = "≥" if ok else "<"
    c.gates.append(
        Gate(GateName.TIMEZONE, ok, f"{best_hours:g} h from {where} {word} {required:g} h required.")
    )


def _rate_facts(c: Candidate, request: SourcingRequest, lines, fx, headcount: int) -> None:
    rate: BlendedRate = blended_rate(lines, request.seniority_mix, request.currency, fx)
    c.notes.extend(rate.notes)
    if not rate.known:
        c.values[Criterion.COST] = None
        c.details[Criterion.COST] = "No rate-card line valid at the start date"
        if request.budget_ceiling is None:
            c.gates.append(Gate(GateName.BUDGET, True, "No budget ceiling; no rates to compare."))
        else:
            c.gates.append(
                Gate(GateName.BUDGET, False, "No rate-card line valid at the start: cost unknown.")
            )
        return
    monthly = rate.monthly
    c.values[Criterion.COST] = float(monthly)
    estimate = monthly * headcount * request.duration_months
    c.details[Criterion.COST] = (
        f"{monthly:,.0f} {request.currency} per FTE-month for the seniority mix; "
        f"{estimate:,.0f} for {headcount} × {request.duration_months} months"
    )
    if request.budget_ceiling is None:
        c.gates.append(
            Gate(GateName.BUDGET, True, f"No budget ceiling; estimate {estimate:,.0f} {request.currency}.")
        )
        return
    ok = estimate <= request.budget_ceiling
    word = "within" if ok else "over"
    c.gates.append(
        Gate(
            GateName.BUDGET,
            ok,
            f"Estimate {estimate:,.0f} {request.currency} {word} the ceiling of "
            f"{request.budget_ceiling:,.0f} ({Decimal(100) * estimate / max(request.budget_ceiling, Decimal('0.01')):.0f} %).",
        )
    )


def _performance_facts(c: Candidate, performance: dict | None) -> None:
    c.performance = performance
    if performance is None:
        c.values[Criterion.PAST_PERFORMANCE] = None
        c.details[Criterion.PAST_PERFORMANCE] = "No history: no scorecard evidence yet"
        return
    c.values[Criterion.PAST_PERFORMANCE] = performance["score"]
    standing = f", {performance['standing']}" if performance.get("standing") else ""
    period = f", {performance['period']}" if performance.get("period") else ""
    c.details[Criterion.PAST_PERFORMANCE] = (
        f"{performance['score']:g}/100{standing} from {performance['sample']} evidence events{period}"
    )


def _turnover_facts(c: Candidate, turnover: tuple[float, int, int] | None) -> None:
    if turnover is None:
        c.values[Criterion.ATTRITION] = None
        c.details[Criterion.ATTRITION] = "No one on our roster in the last 12 months: no data"
        return
    pct, leavers, people = turnover
    c.values[Criterion.ATTRITION] = pct
    c.details[Criterion.ATTRITION] = (
        f"{leavers} of {people} people on our roster left in 12 months ({pct:g} %)"
    )
