"""GitHub's GraphQL and REST APIs (github.com, or GitHub Enterprise Server at its own host)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

from partnerscope.evidence.connectors.http import Http, SourceError
from partnerscope.evidence.connectors.payload import field

PUBLIC_API = "https://api.github.com"


def endpoints(base_url: str) -> tuple[str, str, str]:
    """(origin, REST prefix, GraphQL path) for github.com or an Enterprise server."""
    host = (urlsplit(base_url).hostname or "") if base_url else "github.com"
    if host in ("github.com", "api.github.com", "www.github.com"):
        return PUBLIC_API, "", "/graphql"
    origin = base_url.rstrip("/")
    return origin, "/api/v3", "/api/graphql"


class GitHubClient:
    def __init__(self, connection, token: str, *, transport=None, sleep=time.sleep) -> None:
        origin, self.rest, self.graphql_path = endpoints(connection.base_url)
        try:
            self.owner, self.name = connection.project.strip().strip("/").split("/")
        except ValueError:
            raise SourceError(
                f"The GitHub project must be owner/repository, not {connection.project!r}."
            ) from None
        self.http = Http(
            origin,
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            },
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
        """The ``repository`` object of a query's data; waits out a GraphQL rate limit."""
        for _ in range(6):
            response = self.http.request(
                "POST",
                self.graphql_path,
                json_body={
                    "query": query,
                    "operationName": operation,
                    "variables": {"owner": self.owner, "name": self.name, **variables},
                },
            )
            body = self.http.json(response)
            if not isinstance(body, dict):
                raise SourceError(f"Malformed data from GitHub for {operation}: not an object.")
            errors = body.get("errors") or []
            kinds = {str(e.get("type")) for e in errors if isinstance(e, dict)}
            if kinds & {"RATE_LIMITED", "RATE_LIMIT"}:
                # The headers said the budget is 0 and when it resets: the next request waits.
                if self.http._reset_at is None:
                    self.http._pause(60)
                continue
            if "NOT_FOUND" in kinds:
                raise SourceError(
                    f"GitHub has no repository {self.owner}/{self.name}, or the token cannot see it."
                )
            if errors:
                first = errors[0] if isinstance(errors[0], dict) else {}
                raise SourceError(
                    f"GitHub answered {operation} with an error: {self.http._clean(str(first.get('message', '')))[:300]}"
                )
            repository = field(body, "data.repository", dict, where=f"GitHub's answer to {operation}")
            return repository
        raise SourceError("GitHub's GraphQL rate limit stayed exhausted; the sync will continue next time.")

    def rest_pages(
        self, path: str, params: dict, *, etag: str | None = None
    ) -> Iterator[tuple[object, str | None]]:
        """(page body, the first page's ETag) following the Link rel="next" URLs as given.
        A 304 to the conditional first request yields nothing."""
        response = self.http.request("GET", self.rest + path, params=params, etag=etag)
        first_etag = response.headers.get("etag")
        if response.status_code == 304:
            return
        while True:
            yield self.http.json(response), first_etag
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            response = self.http.request("GET", following)
