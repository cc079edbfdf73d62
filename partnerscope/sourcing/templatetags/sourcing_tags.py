"""Small template helpers for the sourcing and planning pages."""

from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """``{{ values|get:key }}``: a dict entry by a key held in a variable."""
    if isinstance(mapping, dict):
        return mapping.get(key)
    return None


@register.filter
def saaty(value) -> str:
    value = float(value)
    return f"{value:g}" if value >= 1 else f"1/{round(1 / value):d}"


@register.filter
def signed(value) -> str:
    """A number with its sign and thousands separators: +12,300 / −4,100."""
    if value is None:
        return "—"
    number = float(value)
    text = f"{abs(number):,.0f}"
    return f"+{text}" if number > 0 else f"−{text}" if number < 0 else "0"


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return "—"
    return f"{float(value):,.0f}"
