"""Jira's REST API: Jira Cloud (``/rest/api/3``) or Jira Server / Data Center (``/rest/api/2``).

Which one: a connection with an account e-mail, or on a host under ``atlassian.net``, is Jira
Cloud: an Atlassian API token works only as basic auth together with its account's e-mail.
Anything else is Server / Data Center, whose personal access token goes alone as a Bearer token.

- Search: Cloud has only ``/search/jql`` (the old ``/search`` answers 410 since 2025), paged by
  an opaque ``nextPageToken``; Data Center has ``/search``, paged by ``startAt`` up to ``total``.
- A changelog longer than a search result carries (Cloud embeds the newest 100 histories):
  Cloud pages ``/issue/{key}/changelog``; Data Center has no such endpoint (404 on 9.x) but
  returns the whole changelog with ``/issue/{key}?expand=changelog``.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

from partnerscope.evidence.connectors.http import Http, SourceError
from partnerscope.evidence.connectors.payload import field

PAGE = 100  # issues a search page asks for; also the most histories a changelog page holds
SEARCH_PAGE = "Jira's search page"


class PagesShifted(Exception):
    """Data Center: an issue already read left its place while paging by offset (it was edited,
    so it moved to the end of an ``ORDER BY updated`` result), and the next page would skip one."""


def is_cloud(base_url: str, account_email: str) -> bool:
    host = (urlsplit(base_url).hostname or "").lower()
    return bool(account_email.strip()) or host.endswith(".atlassian.net")


class JiraClient:
    def __init__(self, connection, token: str, *, transport=None, sleep=time.sleep) -> None:
        if not connection.base_url:
            raise SourceError("Jira needs the site's address, for example https://acme.atlassian.net.")
        email = connection.account_email.strip()
        host = (urlsplit(connection.base_url).hostname or "").lower()
        if host.endswith(".atlassian.net") and not email:
            raise SourceError(
                "Jira Cloud needs the e-mail of the account the API token belongs to (the connection's "
                "account e-mail)."
            )
        self.cloud = is_cloud(connection.base_url, email)
        self.api = "/rest/api/3" if self.cloud else "/rest/api/2"
        self.project = connection.project.strip()
        if email:
            auth = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
        else:
            auth = f"Bearer {token}"
        self.http = Http(
            connection.base_url,
            {"Authorization": auth, "Accept": "application/json"},
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

    def fields(self) -> list:
        """Every field of the site, system and custom (to find the Sprint field's id)."""
        body = self.http.get_json(f"{self.api}/field")
        if not isinstance(body, list):
            raise SourceError("Malformed data from Jira: the field list is not a list.")
        return body

    def search_pages(self, jql: str, fields: list[str]) -> Iterator[list]:
        """The issues of a query, a page at a time, in its order, each with its changelog."""
        params = {"jql": jql, "fields": ",".join(fields), "expand": "changelog", "maxResults": PAGE}
        if self.cloud:
            yield from self._token_pages(params)
        else:
            yield from self._offset_pages(params)

    def _token_pages(self, params: dict) -> Iterator[list]:
        while True:
            body = self.http.get_json(f"{self.api}/search/jql", params=params)
            issues = field(body, "issues", list, where=SEARCH_PAGE)
            token = field(body, "nextPageToken", str, where=SEARCH_PAGE, optional=True)
            if issues:
                yield issues
            # The token is absent on the last page; isLast is not in every version of the schema.
            if not issues or not token or body.get("isLast") is True:
                return
            params = {**params, "nextPageToken": token}

    def _offset_pages(self, params: dict) -> Iterator[list]:
        """Each page after the first starts one issue early: finding the previous page's last
        issue there again proves no issue before it moved away, so none was skipped."""
        start, last_key = 0, None
        while True:
            overlap = 1 if last_key else 0
            body = self.http.get_json(f"{self.api}/search", params={**params, "startAt": start - overlap})
            issues = field(body, "issues", list, where=SEARCH_PAGE)
            total = field(body, "total", int, where=SEARCH_PAGE)
            if overlap:
                first = issues[0] if issues and isinstance(issues[0], dict) else {}
                if first.get("key") != last_key:
                    raise PagesShifted
                issues = issues[1:]
            if issues:
                yield issues
            start += len(issues)
            if not issues or start >= total:
                return
            last_key = field(issues[-1], "key", str, where="an issue")

    def full_changelog(self, key: str) -> list:
        """Every history of one issue (in the order the server gives; events are sorted later)."""
        where = f"the changelog of {key}"
        path = f"{self.api}/issue/{quote(key, safe='')}"
        if not self.cloud:
            body = self.http.get_json(path, params={"fields": "updated", "expand": "changelog"})
            return field(body, "changelog.histories", list, where=where)
        histories: list = []
        while True:
            body = self.http.get_json(
                f"{path}/changelog", params={"startAt": len(histories), "maxResults": PAGE}
            )
            values = field(body, "values", list, where=where)
            histories += values
            total = field(body, "total", int, where=where, optional=True)
            if not values or body.get("isLast") is True or (total is not None and len(histories) >= total):
                return histories
