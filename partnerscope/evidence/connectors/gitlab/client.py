"""GitLab's GraphQL and REST v4 APIs (gitlab.com, or a self-managed server at its own address)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from partnerscope.evidence.connectors.http import Http, SourceError
from partnerscope.evidence.connectors.payload import field

PUBLIC = "https://gitlab.com"


class GitLabClient:
    def __init__(self, connection, token: str, *, transport=None, sleep=time.sleep) -> None:
        self.project = connection.project.strip().strip("/")
        if "/" not in self.project:
            raise SourceError(
                f"The GitLab project must be its full path (group/project), not {connection.project!r}."
            )
        # REST names a project by its URL-encoded path ("acme%2Fshop"): no lookup of its id first.
        self.rest_prefix = f"/api/v4/projects/{quote(self.project, safe='')}"
        self.http = Http(
            # A self-managed server may live under a path (https://host/gitlab): kept as the prefix.
            connection.base_url or PUBLIC,
            # Bearer works for personal, project, group and OAuth tokens alike (PRIVATE-TOKEN not for OAuth).
            {"Authorization": f"Bearer {token}", "Accept": "application/json"},
            allow_private=connection.allow_private_host,
            secret=token,
            transport=transport,
            sleep=sleep,
        )

    def close(self) -> None:
        self.http.close()

    @property
    def requests(self) -> int:
        return self.http.requests

    def graphql(self, operation: str, query: str, **variables) -> dict:
        """The ``project`` object of a query's data. A rate limit is a plain HTTP 429 on GitLab,
        which Http waits out; GraphQL errors come with HTTP 200 and stop the sync."""
        response = self.http.request(
            "POST",
            "/api/graphql",
            json_body={
                "query": query,
                "operationName": operation,
                "variables": {"fullPath": self.project, **variables},
            },
        )
        body = self.http.json(response)
        if not isinstance(body, dict):
            raise SourceError(f"Malformed data from GitLab for {operation}: not an object.")
        errors = body.get("errors") or []
        if errors:
            # Even a partial answer (data and errors) is refused: a page with holes would be stored
            # as if complete and the cursor would move past what is missing.
            first = errors[0] if isinstance(errors[0], dict) else {"message": errors[0]}
            raise SourceError(
                self.http._clean(
                    f"GitLab answered {operation} with an error: {str(first.get('message', ''))[:300]}"
                )
            )
        project = field(body, "data.project", dict, where=f"GitLab's answer to {operation}", optional=True)
        if project is None:
            # GitLab answers null, not an error, for a project that does not exist or is hidden.
            raise SourceError(f"GitLab has no project {self.project!r}, or the token cannot see it.")
        return project

    def rest(self, path: str, params: dict) -> tuple[Any, bool]:
        """(body, whether a next page exists) of one GET under the project. GitLab sends an empty
        ``x-next-page`` on the last page; without the header (a proxy dropped it), Link decides."""
        response = self.http.request("GET", self.rest_prefix + path, params=params)
        following = (response.headers.get("x-next-page") or "").strip()
        return self.http.json(response), bool(following or response.links.get("next"))

    def rest_all(self, path: str, params: dict, what: str) -> list:
        """Every item of a short list under the project (a page of 100 holds nearly all of them)."""
        found, page = [], 1
        while True:
            body, more = self.rest(path, {**params, "per_page": 100, "page": page})
            if not isinstance(body, list):
                raise SourceError(f"Malformed data from GitLab: the {what} are not a list.")
            found += body
            if not more or not body:
                return found
            page += 1
