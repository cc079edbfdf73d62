"""Capacity plans in words: which constraints bind, and why a model has no plan at all.

Conflicts. Coverage rows have the unmet-demand slack and allow over-supply, so a capacity model can
only be infeasible through one vendor's own terms: limits on its team total per month plus how
fast that total may change. That is a one-dimensional problem per vendor, solved exactly by carrying
the interval of reachable whole-FTE totals forward month by month; where it empties we know the
month and the terms that clash, and say so — no solver needed.

Binding constraints. A constraint "binds" when the plan sits at its limit and the plan would be
cheaper if the limit moved: an upper limit (capacity, flex ceiling, quality floor, growth, lead
time) binds where the vendor is cheaper than the dearest supply used for that skill and month (or
demand is unmet); a lower limit (minimum commitment, flex floor, notice) binds where its FTE are not
needed (the skill is over-supplied) or a cheaper vendor still has room.
"""

from __future__ import annotations

import math

import numpy as np

from .capacity import CapacityIndex, CapacityModel, VendorOffer, total_limits, vendor_limits

TOLERANCE = 1e-6


# --- conflicts ----------------------------------------------------------------------------------------


def conflicts(model: CapacityModel) -> list[str]:
    """Why no plan exists, one sentence per vendor whose own terms clash; empty when a plan exists."""
    lower, upper = total_limits(model)
    found = []
    for index, vendor in enumerate(model.vendors):
        if not vendor.contracted and vendor.min_commitment_fte > 0:
            # Not yet signed: the plan may leave the vendor out (total 0) or sign and honour its minimum.
            signed_lower = lower[index].copy()
            signed_lower[vendor.ramp_lead_months :] = math.ceil(vendor.min_commitment_fte - 1e-9)
            signed = _first_clash(model, vendor, signed_lower, upper[index], minimum_applies=True)
            unsigned = _first_clash(model, vendor, np.zeros_like(lower[index]), np.zeros_like(upper[index]))
            if signed and unsigned:
                found.append(f"{unsigned}; and if its offer is signed: {signed}")
            continue
        clash = _first_clash(model, vendor, lower[index], upper[index], minimum_applies=vendor.contracted)
        if clash:
            found.append(clash)
    return found


def _first_clash(model, vendor, lower, upper, *, minimum_applies=False) -> str | None:
    months = model.months
    shrink, growth = vendor.max_shrink_per_month, vendor.max_growth_per_month
    current = vendor.starting_fte()
    reach_low = reach_high = current
    for month, (low, high) in enumerate(zip(lower, upper, strict=True)):
        if low > high:
            return (
                f"{vendor.name}: in {months[month]} {_low_reason(vendor, minimum_applies)}, "
                f"but {_high_reason(vendor, month, months, upper_is_zero=high == 0)}"
            )
        step_low = -math.inf if shrink is None else math.ceil(reach_low - shrink - 1e-9)
        step_high = math.inf if growth is None else math.floor(reach_high + growth + 1e-9)
        new_low, new_high = max(low, step_low), min(high, step_high)
        if new_low > new_high:
            if step_high < low:
                start = (
                    f"its current {current:g} FTE"
                    if month == 0
                    else f"at most {reach_high:g} FTE in {months[month - 1]}"
                )
                return (
                    f"{vendor.name}: it can grow by at most {growth:g} FTE a month (ramp-up), so from {start} it "
                    f"cannot reach {low:g} FTE in {months[month]}, where {_low_reason(vendor, minimum_applies)}"
                )
            start = (
                f"its current {current:g} FTE"
                if month == 0
                else f"at least {reach_low:g} FTE in {months[month - 1]}"
            )
            return (
                f"{vendor.name}: it can shrink by at most {shrink:g} FTE a month (notice), so from {start} it "
                f"cannot get down to {high:g} FTE in {months[month]}, where "
                f"{_high_reason(vendor, month, months, upper_is_zero=high == 0)}"
            )
        reach_low, reach_high = new_low, new_high
    return None


def _low_reason(vendor: VendorOffer, minimum_applies: bool) -> str:
    floor = None
    if vendor.contracted and vendor.flex_band is not None:
        floor = vendor.baseline_fte * (1 - vendor.flex_band)
    if minimum_applies and (floor is None or vendor.min_commitment_fte >= floor):
        return f"its minimum commitment is {vendor.min_commitment_fte:g} FTE a month"
    return f"its flex band needs at least {floor:g} FTE (baseline {vendor.baseline_fte:g} − {vendor.flex_band:.0%})"


def _high_reason(vendor: VendorOffer, month: int, months: list[str], *, upper_is_zero: bool) -> str:
    if month < vendor.ramp_lead_months:
        return f"it is not usable before {months[vendor.ramp_lead_months]} (ramp-up lead time)"
    capacity = sum(math.floor(cap + 1e-9) for _, cap in vendor.skills.values())
    reasons = [(capacity, f"its offer covers at most {capacity:g} FTE ({_offer_text(vendor)})")]
    if vendor.contracted and vendor.flex_band is not None:
        ceiling = vendor.baseline_fte * (1 + vendor.flex_band)
        reasons.append(
            (
                ceiling,
                f"its flex band allows at most {ceiling:g} FTE (baseline {vendor.baseline_fte:g} + {vendor.flex_band:.0%})",
            )
        )
    if not vendor.allowed:
        reasons.append(
            (
                vendor.baseline_fte,
                f"it is below the quality floor, so it may not exceed its baseline of {vendor.baseline_fte:g} FTE",
            )
        )
    if upper_is_zero and not vendor.contracted and vendor.min_commitment_fte > 0:
        return "leaving its offer unsigned means no FTE at all"
    low, high = vendor_limits(vendor)
    if math.ceil(low - 1e-9) > math.floor(high + 1e-9) and low <= high:
        return f"no whole number of FTE lies between {low:g} and {high:g}"
    return min(reasons)[1]


def _offer_text(vendor: VendorOffer) -> str:
    return ", ".join(f"{skill} {math.floor(cap + 1e-9):g}" for skill, (_, cap) in vendor.skills.items())


# --- binding constraints ------------------------------------------------------------------------------


def binding_constraints(index: CapacityIndex, x: np.ndarray, unmet: np.ndarray) -> list[str]:
    """The constraints that shape the plan, in words, consecutive months grouped."""
    skills, months = index.residual.shape
    vendors = len(index.vendors)
    cell = index.col_skill * months + index.col_month
    used = x > 0.5
    # The marginal cost of each (skill, month): the dearest supply used, or the penalty if any is unmet.
    marginal = np.full(skills * months, -np.inf)
    np.maximum.at(marginal, cell[used], index.col_rate[used])
    marginal[unmet.ravel() > TOLERANCE] = index.penalty
    supply = np.bincount(cell, weights=x, minlength=skills * months)
    over_supplied = supply - index.residual.ravel() > TOLERANCE
    totals = np.zeros((vendors, months))
    np.add.at(totals, (index.col_vendor, index.col_month), x)

    wants_more = index.col_rate < marginal[cell] - TOLERANCE
    upper = index.upper
    room = (x < index.col_cap - 0.5) & (
        totals[index.col_vendor, index.col_month] < upper[index.col_vendor, index.col_month] - 0.5
    )
    cheapest_room = np.full(skills * months, np.inf)
    np.minimum.at(cheapest_room, cell[room], index.col_rate[room])
    wants_less = used & (over_supplied[cell] | (cheapest_room[cell] < index.col_rate - TOLERANCE))
    vendor_more = _any_by_vendor_month(index, wants_more, vendors, months)
    vendor_less = _any_by_vendor_month(index, wants_less, vendors, months)
    lower = _effective_lower(index, totals)

    # Columns come in blocks of one (vendor, skill) pair × all months, vendors in order: reshape to
    # pairs × months instead of masking all columns once per vendor.
    pair_vendor, pair_skill = index.col_vendor[::months], index.col_skill[::months]
    caps = index.col_cap.reshape(-1, months)
    at_cap = (x.reshape(-1, months) >= caps - 0.5) & (caps > 0) & wants_more.reshape(-1, months)
    capacity_lines = {}
    for pair in np.flatnonzero(at_cap.any(axis=1)):
        vendor = index.vendors[pair_vendor[pair]]
        cap = caps[pair][at_cap[pair]][0]
        capacity_lines.setdefault(pair_vendor[pair], []).append(
            f"{vendor.name}: at most {cap:g} {index.skills[pair_skill[pair]]} FTE (capacity) in "
            f"{_months_text(index.months, np.flatnonzero(at_cap[pair]))}"
        )
    lines = []
    for v, vendor in enumerate(index.vendors):
        lines.extend(capacity_lines.get(v, []))
        lines.extend(_vendor_lines(index, v, vendor, totals[v], lower[v], vendor_more[v], vendor_less[v]))
    return lines


def _vendor_lines(index, v, vendor, totals, lower, wants_more, wants_less) -> list[str]:
    months = len(index.months)
    lead = vendor.ramp_lead_months
    usable = np.arange(months) >= lead
    upper = index.upper[v]
    lines = []
    if lead > 0 and wants_more[:lead].any():
        lines.append(f"{vendor.name}: not usable before {index.months[lead]} (ramp-up lead time)")
    capacity = sum(math.floor(cap + 1e-9) for _, cap in vendor.skills.values())
    at_upper = usable & (totals >= upper - 0.5) & (upper < capacity) & wants_more
    if at_upper.any():
        lines.append(
            f"{vendor.name}: {_upper_text(vendor, upper[at_upper][0])} in "
            f"{_months_text(index.months, np.flatnonzero(at_upper))}"
        )
    at_lower = usable & (lower > 0) & (totals <= lower + 0.5) & wants_less
    if at_lower.any():
        lines.append(
            f"{vendor.name}: {_lower_text(vendor, lower[at_lower][0])} binds in "
            f"{_months_text(index.months, np.flatnonzero(at_lower))}"
        )
    change = totals - np.concatenate([[vendor.starting_fte()], totals[:-1]])
    # Totals are whole FTE: a limit binds when not even one more FTE of change fits.
    if vendor.max_growth_per_month is not None:
        limited = (change > vendor.max_growth_per_month - 1 + TOLERANCE) & wants_more
        if limited.any():
            lines.append(
                f"{vendor.name}: cannot grow faster than {vendor.max_growth_per_month:g} FTE/month (ramp-up) in "
                f"{_months_text(index.months, np.flatnonzero(limited))}"
            )
    if vendor.max_shrink_per_month is not None:
        limited = (-change > vendor.max_shrink_per_month - 1 + TOLERANCE) & wants_less
        if limited.any():
            lines.append(
                f"{vendor.name}: cannot shrink faster than {vendor.max_shrink_per_month:g} FTE/month (notice) in "
                f"{_months_text(index.months, np.flatnonzero(limited))}"
            )
    return lines


def _any_by_vendor_month(index: CapacityIndex, flags: np.ndarray, vendors: int, months: int) -> np.ndarray:
    counts = np.zeros((vendors, months))
    np.add.at(counts, (index.col_vendor, index.col_month), flags.astype(float))
    return counts > 0


def _effective_lower(index: CapacityIndex, totals: np.ndarray) -> np.ndarray:
    # An unsigned offer with a minimum binds only once the plan uses (signs) it.
    lower = index.lower.copy()
    for v in index.signed:
        vendor = index.vendors[v]
        if totals[v].sum() > 0.5:
            lower[v, vendor.ramp_lead_months :] = math.ceil(vendor.min_commitment_fte - 1e-9)
    return lower


def _upper_text(vendor: VendorOffer, limit: float) -> str:
    if not vendor.allowed and limit >= math.floor(vendor.baseline_fte + 1e-9):
        return f"below the quality floor, held at its baseline of {limit:g} FTE"
    return f"flex band ceiling of {limit:g} FTE (baseline {vendor.baseline_fte:g} + {vendor.flex_band:.0%})"


def _lower_text(vendor: VendorOffer, limit: float) -> str:
    if vendor.min_commitment_fte > 0 and limit <= math.ceil(vendor.min_commitment_fte - 1e-9):
        return f"minimum commitment of {vendor.min_commitment_fte:g} FTE"
    return f"flex band floor of {limit:g} FTE (baseline {vendor.baseline_fte:g} − {vendor.flex_band:.0%})"


def _months_text(names: list[str], indices) -> str:
    """Month indices as "2027-03", "2027-03 to 2027-05", runs joined with commas."""
    ordered = sorted(int(i) for i in indices)
    runs, start = [], ordered[0]
    for previous, current in zip(ordered, ordered[1:] + [None], strict=True):
        if current is None or current != previous + 1:
            runs.append(names[start] if start == previous else f"{names[start]} to {names[previous]}")
            start = current
    return ", ".join(runs)
