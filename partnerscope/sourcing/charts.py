"""Charts as Vega-Lite specs rendered to SVG on the server by vl-convert (offline, no script).

Pages embed the SVG as an ``<img>`` data URI: the SVG runs no script and the page's content
security policy stays as strict as everywhere else. Every chart has a table of the same numbers
next to it on the page, for screen readers and for copying.
"""

from __future__ import annotations

import base64
import functools
import json
import logging

log = logging.getLogger("partnerscope.sourcing")

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
FONT = {"font": "DejaVu Sans, Liberation Sans, sans-serif"}
COLORS = ["#2f5bd3", "#d9822b", "#2e9e5b", "#b23b8f", "#6b7a99", "#c9a227", "#1f8a9e", "#8c5a3c"]
# Vendors in a plan: never the green of in-house or the red of unmet demand.
VENDOR_COLORS = ["#2f5bd3", "#d9822b", "#b23b8f", "#6b7a99", "#c9a227", "#1f8a9e", "#8c5a3c", "#5b3fb8"]


def svg_data_uri(spec: dict) -> str:
    """The chart as ``data:image/svg+xml;base64,…``; empty if the renderer fails (the table stays)."""
    return _render(json.dumps(spec, sort_keys=True))


@functools.lru_cache(maxsize=64)
def _render(spec_json: str) -> str:
    import vl_convert

    try:
        svg = vl_convert.vegalite_to_svg(json.loads(spec_json))
    except Exception:  # a renderer bug must not take the page down with it
        log.exception("chart rendering failed")
        return ""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _base(title: str, width: int = 620, height: int = 260) -> dict:
    return {
        "$schema": SCHEMA,
        "title": {"text": title, "anchor": "start", "fontSize": 13},
        "width": width,
        "height": height,
        "config": {
            "axis": {"labelFontSize": 11, "titleFontSize": 11},
            "legend": {"labelFontSize": 11},
            **FONT,
        },
    }


def cumulative_cost_spec(result: dict, currency: str = "") -> dict:
    """In-house and outsourced cumulative cost by month: P50 line inside its P10–P90 band."""
    rows = []
    for key, label in (("inhouse", "In-house"), ("outsource", "Outsource")):
        curve = result[key]["cumulative_cost"]
        for month, (p10, p50, p90) in enumerate(zip(*curve, strict=True), 1):
            rows.append({"month": month, "option": label, "p10": p10, "p50": p50, "p90": p90})
    title = f"Cumulative cost{f' ({currency})' if currency else ''}: P50 with the P10–P90 band"
    color = {"field": "option", "type": "nominal", "title": None, "scale": {"range": COLORS[:2]}}
    return {
        **_base(title),
        "data": {"values": rows},
        "encoding": {"x": {"field": "month", "type": "quantitative", "title": "Month"}},
        "layer": [
            {
                "mark": {"type": "area", "opacity": 0.18},
                "encoding": {
                    "y": {"field": "p10", "type": "quantitative", "title": "Cumulative cost"},
                    "y2": {"field": "p90"},
                    "color": color,
                },
            },
            {
                "mark": {"type": "line", "strokeWidth": 2},
                "encoding": {"y": {"field": "p50", "type": "quantitative"}, "color": color},
            },
        ],
    }


def tornado_spec(result: dict) -> dict:
    """Which inputs move the difference (outsource − in-house) most between their low and high."""
    bars = result["tornado"][:12]
    rows = []
    for bar in bars:
        rows.append(
            {
                "input": bar["label"],
                "from": min(bar["difference_at_low"], bar["difference_at_high"]),
                "to": max(bar["difference_at_low"], bar["difference_at_high"]),
                "swing": bar["swing"],
            }
        )
    order = [r["input"] for r in rows]
    return {
        **_base(
            "What drives the difference (outsource − in-house, likely values elsewhere)",
            height=22 * max(len(rows), 1),
        ),
        "layer": [
            {
                "data": {"values": rows},
                "mark": {"type": "bar", "color": COLORS[0]},
                "encoding": {
                    "y": {
                        "field": "input",
                        "type": "nominal",
                        "sort": order,
                        "title": None,
                        "axis": {"labelLimit": 320},
                    },
                    "x": {
                        "field": "from",
                        "type": "quantitative",
                        "title": "Difference in total cost",
                        "scale": {"zero": False},
                    },
                    "x2": {"field": "to"},
                },
            },
            {
                "data": {"values": [{"base": result["tornado_base"]}]},
                "mark": {"type": "rule", "color": "#222", "strokeDash": [4, 3]},
                "encoding": {"x": {"field": "base", "type": "quantitative"}},
            },
        ],
    }


def productive_fte_spec(result: dict) -> dict:
    rows = []
    for key, label in (("inhouse", "In-house"), ("outsource", "Outsource")):
        curve = result[key]["productive_fte"]
        for month, (_p10, p50, _p90) in enumerate(zip(*curve, strict=True), 1):
            rows.append({"month": month, "option": label, "fte": p50})
    return {
        **_base("Productive FTE by month (P50)", height=200),
        "data": {"values": rows},
        "mark": {"type": "line", "strokeWidth": 2},
        "encoding": {
            "x": {"field": "month", "type": "quantitative", "title": "Month"},
            "y": {"field": "fte", "type": "quantitative", "title": "Productive FTE"},
            "color": {"field": "option", "type": "nominal", "title": None, "scale": {"range": COLORS[:2]}},
        },
    }


def plan_supply_spec(months: list[str], supply: list[dict], demand: dict[str, float]) -> dict:
    """Stacked FTE by source (in-house, each vendor, unmet) per month, with total demand as a line.

    ``supply``: rows {"month": "2025-07", "source": "Vistula", "fte": 3.0}.
    """
    demand_rows = [{"month": m, "demand": demand.get(m, 0.0)} for m in months]
    sources = list(dict.fromkeys(row["source"] for row in supply))
    vendors = iter(VENDOR_COLORS * (1 + len(sources) // len(VENDOR_COLORS)))
    fixed = {"In-house": "#2e9e5b", "Unmet": "#c0392b"}
    colors = [fixed.get(source) or next(vendors) for source in sources]
    return {
        **_base("Plan by month: FTE by source against demand"),
        "layer": [
            {
                "data": {"values": supply},
                "mark": "bar",
                "encoding": {
                    "x": {"field": "month", "type": "ordinal", "sort": months, "title": None},
                    "y": {"field": "fte", "type": "quantitative", "stack": "zero", "title": "FTE"},
                    "color": {
                        "field": "source",
                        "type": "nominal",
                        "title": None,
                        "scale": {"domain": sources, "range": colors},
                    },
                },
            },
            {
                "data": {"values": demand_rows},
                "mark": {"type": "line", "color": "#111", "strokeDash": [5, 3], "point": True},
                "encoding": {
                    "x": {"field": "month", "type": "ordinal", "sort": months},
                    "y": {"field": "demand", "type": "quantitative"},
                },
            },
        ],
    }
