"""Sorting and filtering of list pages from query parameters (``?q=…&sort=-name&status=…``).

Only whitelisted columns sort and only declared filters apply, so a hand-made URL can neither
sort by a secret column nor cause an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet


@dataclass
class Column:
    key: str
    label: str
    order_by: str | None = None  # the ORM path; None = not sortable
    numeric: bool = False


@dataclass
class Table:
    rows: QuerySet
    columns: list[Column]
    sort: str
    query: str
    filters: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    page: Page | None = None  # when paginated, ``rows`` holds this page's rows

    def _page_url(self, number: int) -> str:
        return "?" + urlencode(
            {k: v for k, v in {**self.params, "sort": self.sort, "page": number}.items() if v}
        )

    @property
    def previous_url(self) -> str | None:
        return (
            self._page_url(self.page.previous_page_number())
            if self.page and self.page.has_previous()
            else None
        )

    @property
    def next_url(self) -> str | None:
        return self._page_url(self.page.next_page_number()) if self.page and self.page.has_next() else None

    def header(self):
        """(column, url to sort by it, current direction or '')."""
        for col in self.columns:
            if col.order_by is None:
                yield col, None, ""
                continue
            direction = ""
            next_sort = col.key
            if self.sort == col.key:
                direction, next_sort = "asc", f"-{col.key}"
            elif self.sort == f"-{col.key}":
                direction = "desc"
            params = {**self.params, "sort": next_sort}
            yield col, "?" + urlencode({k: v for k, v in params.items() if v}), direction


def build_table(
    request,
    rows: QuerySet,
    columns: list[Column],
    *,
    default_sort: str,
    search: list[str] = (),
    filters: dict[str, str] | None = None,
    per_page: int | None = None,
) -> Table:
    """``filters`` maps a query parameter to the ORM lookup it filters on (exact match)."""
    filters = filters or {}
    query = request.GET.get("q", "").strip()[:100]
    if query and search:
        condition = Q()
        for path in search:
            condition |= Q(**{f"{path}__icontains": query})
        rows = rows.filter(condition)
    applied = {}
    for param, lookup in filters.items():
        value = request.GET.get(param, "").strip()[:100]
        if value:
            rows = rows.filter(**{lookup: value})
            applied[param] = value
    sortable = {c.key: c.order_by for c in columns if c.order_by}
    sort = request.GET.get("sort", default_sort)
    key = sort.lstrip("-")
    if key not in sortable:
        sort, key = default_sort, default_sort.lstrip("-")
    order = sortable[key]
    rows = rows.order_by(f"-{order}" if sort.startswith("-") else order, "pk")
    params = {"q": query, **applied}
    page = None
    if per_page:
        # A bad page number shows the nearest page rather than an error.
        page = Paginator(rows, per_page).get_page(request.GET.get("page"))
        rows = page.object_list
    return Table(
        rows=rows, columns=columns, sort=sort, query=query, filters=applied, params=params, page=page
    )
