"""Rate cards as monthly cost per FTE in one currency, for sourcing requests and capacity plans.

Rate-card lines are per role and seniority, in their own currency and unit. A month of one FTE
is 160 billable hours (20 days of 8 hours); other currencies convert with the rates the request
or plan lists (“USD 0.92”: 1 USD = 0.92 in its currency). A seniority the card does not price is
priced at the nearest seniority it does, and the note says so.
"""

from __future__ import annotations

import datetime
import re
import statistics
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import Q

from partnerscope.vendors.models import RateCardLine, Seniority

HOURS_PER_MONTH = Decimal(160)
DAYS_PER_MONTH = Decimal(20)
SENIORITY_ORDER = [s.value for s in Seniority]
LABELS = dict(Seniority.choices)


def parse_exchange_rates(text: str, base: str, *, field_name: str = "exchange_rates") -> dict[str, Decimal]:
    """``"USD 0.92"`` lines → {"USD": 0.92, base: 1}; an error names the line."""
    rates = {base.upper(): Decimal(1)}
    for number, raw in enumerate((text or "").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z]{3})\s*[=:\s]\s*([0-9]+(?:\.[0-9]+)?)", line)
        if not match:
            raise ValidationError(
                {
                    field_name: f"Line {number} (“{line[:40]}”): write a currency code and a rate, e.g. USD 0.92."
                }
            )
        code = match.group(1).upper()
        try:
            rate = Decimal(match.group(2))
        except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
            raise ValidationError({field_name: f"Line {number}: {match.group(2)} is not a number."}) from None
        if rate <= 0:
            raise ValidationError({field_name: f"Line {number}: the rate for {code} must be above 0."})
        if code == base.upper():
            raise ValidationError({field_name: f"Line {number}: {code} is the currency itself."})
        if code in rates:
            raise ValidationError({field_name: f"Line {number}: {code} is listed twice."})
        rates[code] = rate
    return rates


def monthly_rate(line: RateCardLine) -> Decimal:
    """The line's rate for one FTE-month, in the line's currency."""
    if line.unit == RateCardLine.Unit.HOUR:
        return line.rate * HOURS_PER_MONTH
    if line.unit == RateCardLine.Unit.DAY:
        return line.rate * DAYS_PER_MONTH
    return line.rate


def lines_valid_on(qs, day: datetime.date):
    return qs.filter(valid_from__lte=day).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))


@dataclass
class BlendedRate:
    """A vendor's cost of one FTE-month for a seniority mix, or why it is unknown."""

    monthly: Decimal | None
    notes: list[str] = field(default_factory=list)
    per_seniority: dict[str, Decimal] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        return self.monthly is not None


def blended_rate(
    lines: list[RateCardLine], mix: dict[str, float], currency: str, fx: dict[str, Decimal]
) -> BlendedRate:
    """The mix-weighted median monthly rate of ``lines`` (already those valid at the date).

    ``mix`` maps seniority → share (any scale); an empty mix takes the median of every line.
    """
    converted: dict[str, list[Decimal]] = {}
    missing_fx = set()
    for line in lines:
        rate = fx.get(line.currency.upper())
        if rate is None:
            missing_fx.add(line.currency.upper())
            continue
        converted.setdefault(line.seniority, []).append(monthly_rate(line) * rate)
    notes = []
    if missing_fx:
        notes.append(
            f"No exchange rate for {', '.join(sorted(missing_fx))} into {currency}: "
            f"those rate-card lines are left out."
        )
    if not converted:
        notes.append(
            "No rate-card line valid at the date." if not missing_fx else "No usable rate-card line."
        )
        return BlendedRate(None, notes)
    medians = {s: Decimal(statistics.median(values)) for s, values in converted.items()}
    shares = {s: Decimal(str(v)) for s, v in (mix or {}).items() if v and float(v) > 0}
    if not shares:
        everything = [v for values in converted.values() for v in values]
        return BlendedRate(Decimal(statistics.median(everything)).quantize(Decimal("0.01")), notes, medians)
    total_share = sum(shares.values())
    blended = Decimal(0)
    priced = {}
    for seniority, share in shares.items():
        if seniority in medians:
            price = medians[seniority]
        else:
            nearest = _nearest(seniority, medians)
            price = medians[nearest]
            notes.append(
                f"{LABELS.get(seniority, seniority)} priced at the {LABELS[nearest]} rate: no such line."
            )
        priced[seniority] = price
        blended += price * share / total_share
    return BlendedRate(blended.quantize(Decimal("0.01")), notes, priced)


def _nearest(seniority: str, available: dict) -> str:
    position = SENIORITY_ORDER.index(seniority) if seniority in SENIORITY_ORDER else 2
    # Ties go to the more senior line: pricing up is the cautious estimate.
    return min(available, key=lambda s: (abs(SENIORITY_ORDER.index(s) - position), -SENIORITY_ORDER.index(s)))
