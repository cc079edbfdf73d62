"""Charts as Vega-Lite specs, rendered to SVG on the server by vl-convert (no network, no
JavaScript). The same specs serve the PDF reports later. Rendered SVGs are cached by the hash
of their spec: a page shows the same chart many times between recomputes.

Pages do not inline their charts: a page registers each chart's spec (``register``) and links
it as an image from the chart URL, which the browser fetches in parallel and caches. A
comparison of sixty vendors was 350 KB of inline SVG, most of the page's cost. A registered
chart remembers whose data it shows, so the chart URL answers exactly the people who may see
the page it came from."""

from __future__ import annotations

import hashlib
import json
import pickle

from django.core.cache import cache

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier; nothing is fetched


def trend_spec(points: list[dict], *, title: str = "", unit: str = "", band: tuple | None = None,
               width: int = 220, height: int = 60) -> dict:  # fmt: skip
    """A small line of one KPI over periods; periods without data are gaps, not zeros.
    ``points``: [{"period": "2026-03", "value": float | None, "low": .., "high": ..}]."""
    layers = []
    if any(p.get("low") is not None for p in points):
        layers.append(
            {
                "mark": {"type": "area", "opacity": 0.18, "color": "#2b6cb0"},
                "encoding": {"y": {"field": "low", "type": "quantitative"}, "y2": {"field": "high"}},
            }
        )
    layers.append(
        {"mark": {"type": "line", "point": {"size": 18}, "color": "#2b6cb0"},
         "encoding": {"y": {"field": "value", "type": "quantitative", "title": unit,
                            "axis": {"tickCount": 3, "labelFontSize": 9, "titleFontSize": 9}}}}
    )  # fmt: skip
    if band:
        layers.append(
            {"mark": {"type": "rule", "strokeDash": [3, 3], "color": "#c53030"},
             "encoding": {"y": {"datum": band[0]}}}
        )  # fmt: skip
    return {
        "$schema": SCHEMA,
        "title": {"text": title, "fontSize": 10} if title else None,
        "width": width,
        "height": height,
        "data": {"values": points},
        "encoding": {"x": {"field": "period", "type": "ordinal", "title": None,
                           "axis": {"labelFontSize": 8, "labelAngle": -45}}},
        "layer": layers,
        "config": {"view": {"stroke": None}, "background": None},
    }  # fmt: skip


def bars_spec(rows: list[dict], *, unit: str = "", width: int = 360) -> dict:
    """Vendors side by side: a point per vendor with its 95 % interval as a rule."""
    return {
        "$schema": SCHEMA,
        "width": width,
        "height": {"step": 22},
        "data": {"values": rows},
        "encoding": {"y": {"field": "name", "type": "nominal", "title": None, "sort": None}},
        "layer": [
            {"mark": {"type": "rule", "color": "#718096"},
             "encoding": {"x": {"field": "low", "type": "quantitative", "title": unit}, "x2": {"field": "high"}}},
            {"mark": {"type": "point", "filled": True, "size": 50, "color": "#2b6cb0"},
             "encoding": {"x": {"field": "value", "type": "quantitative"}}},
        ],
        "config": {"view": {"stroke": None}, "background": None},
    }  # fmt: skip


CLIENT_ONLY = -1  # a chart of a client-only page (the comparison): no vendor user may fetch it
SPEC_TTL = 7 * 24 * 3600


def _text(spec: dict) -> str:
    return json.dumps({k: v for k, v in spec.items() if v is not None}, sort_keys=True, default=str)


def register(organization_id: int, vendor_id: int, spec: dict) -> str:
    """Keep a chart's spec for the chart URL and return its key. ``vendor_id``: the vendor whose
    data the chart shows (its users may fetch it), or CLIENT_ONLY.

    The key hashes the spec's pickle, not its JSON text: a comparison registers a chart per KPI
    on every view, and pickling a spec of sixty points is a tenth of the cost of writing its
    sorted JSON. The same spec built the same way pickles the same; one built in another order
    only costs a second cache entry. The JSON is written when the key is new."""
    digest = hashlib.sha256(f"{organization_id}:{vendor_id}:".encode())
    digest.update(pickle.dumps(spec, protocol=5))
    key = digest.hexdigest()[:40]
    if not cache.has_key("chartspec:" + key):  # without reading the spec back: pages register many
        cache.set("chartspec:" + key, (organization_id, vendor_id, _text(spec)), SPEC_TTL)
    return key


def registered_svg(membership, key: str) -> str | None:
    """The chart behind ``key`` as SVG, if this member may see it; None otherwise (the view
    answers 404 either way, so a key says nothing about other tenants' charts)."""
    entry = cache.get("chartspec:" + key) if len(key) == 40 and key.isalnum() else None
    if entry is None:
        return None
    organization_id, vendor_id, text = entry
    if organization_id != membership.organization_id:
        return None
    if membership.is_vendor and vendor_id != membership.vendor_id:
        return None
    return _rendered(text)


def svg(spec: dict) -> str:
    """The chart as an SVG string (cached by spec)."""
    return _rendered(_text(spec))


def _rendered(text: str) -> str:
    key = "chart:" + hashlib.sha256(text.encode()).hexdigest()
    rendered = cache.get(key)
    if rendered is None:
        import vl_convert

        rendered = vl_convert.vegalite_to_svg(json.loads(text))
        cache.set(key, rendered, 24 * 3600)
    return rendered
