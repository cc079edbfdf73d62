"""From assessed candidates to a ranking with every intermediate table, as stored JSON.

The candidates that pass every gate become the rows of the decision matrix, the criteria its
columns. A criterion without data for a candidate (no scorecard history, no roster) takes the
median of the candidates that have data, and the table marks it: "no history" is its own state,
never a zero. A criterion with no data at all, or the same value for everyone, cannot tell the
candidates apart and is left out (dropping it changes no ranking; the page says why).

The methods are ``partnerscope.decisions`` (pure NumPy, no Django).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from partnerscope.decisions import DecisionError, rank, topsis_details, weight_sensitivity
from partnerscope.sourcing.models import CRITERION_DIRECTIONS, Criterion

CRITERIA = [c.value for c in Criterion]
LABELS = dict(Criterion.choices)
UNITS = {
    Criterion.SKILL_COVERAGE: "%",
    Criterion.PAST_PERFORMANCE: "/100",
    Criterion.COST: "per FTE-month",
    Criterion.CAPACITY: "× wanted",
    Criterion.TIMEZONE_OVERLAP: "h",
    Criterion.CERTIFICATIONS: "valid",
    Criterion.ATTRITION: "%",
}
SCORE_LABELS = {"topsis": "closeness coefficient", "vikor": "1 − Q", "promethee_ii": "net flow"}


def _rows(values: np.ndarray) -> list:
    return np.round(values, 6).tolist()


def criteria_matrix(candidates: Sequence[dict], weights: dict[str, float]):
    """(criteria used with their notes, matrix, imputed flags) for passing candidates (as JSON)."""
    columns, notes = [], []
    for key in CRITERIA:
        present = [c["values"].get(key) for c in candidates if c["values"].get(key) is not None]
        weight = float(weights.get(key, 0) or 0)
        entry = {
            "key": key,
            "label": LABELS[key],
            "unit": UNITS[key],
            "direction": CRITERION_DIRECTIONS[key],
            "weight": weight,
            "used": False,
            "neutral": None,
            "note": "",
        }
        if weight <= 0:
            entry["note"] = "Weight 0: not part of this ranking."
        elif not present:
            entry["note"] = "No candidate has data: it cannot tell them apart, so it is left out."
        elif len(candidates) > 1 and len(set(present)) == 1:
            who = "Every candidate" + (" with data" if len(present) < len(candidates) else "")
            entry["note"] = f"{who} has {present[0]:g}: it cannot tell them apart, so it is left out."
        else:
            entry["used"] = True
            missing = len(candidates) - len(present)
            if missing:
                entry["neutral"] = float(np.median(present))
                entry["note"] = (
                    f"{missing} candidate{'s have' if missing > 1 else ' has'} no data: ranked at the median "
                    f"of the others ({entry['neutral']:g}), marked “no data”."
                )
        notes.append(entry)
        if entry["used"]:
            columns.append(entry)
    matrix = [
        [
            c["values"][col["key"]] if c["values"].get(col["key"]) is not None else col["neutral"]
            for col in columns
        ]
        for c in candidates
    ]
    imputed = [[c["values"].get(col["key"]) is None for col in columns] for c in candidates]
    return notes, columns, matrix, imputed


def rank_matrix(method: str, matrix, weights, directions) -> dict:
    """The ranking and every intermediate table, as NumPy arrays. Raises DecisionError.

    TOPSIS's normalised and weighted matrices, ideals and distances are kept for every method
    (they are the data as the method sees it); VIKOR adds S, R, Q and the compromise set,
    PROMETHEE II the flows. ``tables_json`` turns the result into what an evaluation stores.
    """
    values = np.asarray(matrix, dtype=float)
    ranked = rank(method, values, weights, directions)
    tables = ranked.details if method == "topsis" else topsis_details(values, weights, directions)
    out = {
        "score_label": ranked.score_label,
        "scores": ranked.scores,
        "order": ranked.ranking,
        "normalized": tables.normalized,
        "weighted": tables.weighted,
        "ideal": tables.ideal,
        "anti_ideal": tables.anti_ideal,
        "d_plus": tables.d_plus,
        "d_minus": tables.d_minus,
        "closeness": tables.closeness,
    }
    details = ranked.details
    if method == "vikor":
        out.update(
            s=details.s,
            r=details.r,
            q=details.q,
            compromise=list(details.compromise),
            acceptable_advantage=bool(details.acceptable_advantage),
            acceptable_stability=bool(details.acceptable_stability),
        )
    elif method == "promethee_ii":
        out.update(
            positive_flow=details.positive_flow,
            negative_flow=details.negative_flow,
            net_flow=details.net_flow,
        )
    return out


def tables_json(tables: dict) -> dict:
    """The tables of ``rank_matrix`` as JSON-ready lists (six decimals)."""
    return {key: _rows(value) if isinstance(value, np.ndarray) else value for key, value in tables.items()}


def sensitivity(
    method: str, matrix, weights, directions, names: list[str], columns: list[dict]
) -> list[dict]:
    """How far each used weight may move (others keeping their ratios) before the top changes."""
    ranges = weight_sensitivity(np.asarray(matrix, dtype=float), weights, directions, method=method)
    total = float(sum(weights))
    out = []
    for r in ranges:
        col = columns[r.criterion]
        out.append(
            {
                "criterion": col["key"],
                "label": col["label"],
                "weight": round(100 * r.weight, 2),
                "low": round(100 * r.low, 2),
                "high": round(100 * r.high, 2),
                "top_at_low": names[r.top_at_low] if r.top_at_low is not None else None,
                "top_at_high": names[r.top_at_high] if r.top_at_high is not None else None,
                "share": round(100 * float(weights[r.criterion]) / total, 2) if total else 0,
            }
        )
    return out


def evaluate(candidates: Sequence[dict], weights: dict[str, float], method: str) -> dict:
    """The stored result of an evaluation: every candidate (gates and facts), the criteria, the
    matrix, the tables and the ranking; a message instead of a ranking when it cannot rank."""
    passing = [c for c in candidates if c["passed"]]
    notes, columns, matrix, imputed = criteria_matrix(passing, weights)
    result = {
        "method": method,
        "candidates": list(candidates),
        "criteria": notes,
        "columns": [c["key"] for c in columns],
        "alternatives": [c["vendor"] for c in passing],
        "names": [c["name"] for c in passing],
        "matrix": matrix,
        "imputed": imputed,
        "ranking": [],
        "sensitivity": [],
        "message": "",
    }
    if len(passing) < 2:
        result["message"] = (
            "No vendor passes every gate: loosen a requirement or add vendors."
            if not passing
            else f"Only {passing[0]['name']} passes every gate: there is nothing to rank it against."
        )
        if passing:
            result["ranking"] = [_ranked(passing[0], 1, None, imputed[0] if imputed else [], columns)]
        return result
    if not columns:
        result["message"] = (
            "No weighted criterion tells the candidates apart (same values, or no data): they tie. "
            "Add data or weight other criteria to separate them."
        )
        result["ranking"] = [
            _ranked(c, 1, None, row, columns) for c, row in zip(passing, imputed, strict=True)
        ]
        return result
    weight_vector = [c["weight"] for c in columns]
    directions = [c["direction"] for c in columns]
    try:
        tables = tables_json(rank_matrix(method, matrix, weight_vector, directions))
        result["sensitivity"] = sensitivity(
            method, matrix, weight_vector, directions, result["names"], columns
        )
    except DecisionError as exc:
        result["message"] = f"The method refused the data: {exc}."
        return result
    result["tables"] = tables
    result["score_label"] = tables["score_label"]
    result["ranking"] = [
        _ranked(passing[index], position, tables["scores"][index], imputed[index], columns)
        for position, index in enumerate(tables["order"], 1)
    ]
    return result


def _ranked(candidate: dict, position: int, score: float | None, imputed: list[bool], columns) -> dict:
    return {
        "rank": position,
        "vendor": candidate["vendor"],
        "name": candidate["name"],
        "score": score,
        "no_data": [col["label"] for col, flag in zip(columns, imputed, strict=True) if flag],
    }
