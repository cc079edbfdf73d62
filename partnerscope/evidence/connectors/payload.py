"""Reading payloads strictly: a missing or mistyped field is a clear error naming the field and
the record, not a KeyError deep in a sync (and nothing from that page is stored)."""

from __future__ import annotations

import datetime
from typing import Any

from partnerscope.evidence.connectors.http import SourceError

MISSING = object()


def field(record: Any, path: str, kind: type | tuple = object, *, where: str, optional: bool = False) -> Any:
    """``record["a"]["b"]`` for path "a.b", checked against ``kind``; None allowed if optional."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict):
            value = MISSING
            break
        value = value.get(part, MISSING)
        if value is None:
            break
    if value is MISSING or value is None:
        if optional:
            return None
        raise SourceError(
            f"Malformed data from the server: {where} has no {path!r}; nothing from this page was stored."
        )
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SourceError(
            f"Malformed data from the server: {where} has {path!r} = {str(value)[:60]!r}, not a "
            f"{getattr(kind, '__name__', kind)}; nothing from this page was stored."
        )
    return value


def moment(record: Any, path: str, *, where: str, optional: bool = False) -> datetime.datetime | None:
    raw = field(record, path, str, where=where, optional=optional)
    if raw is None:
        return None
    text = raw.strip().replace("Z", "+00:00")
    # Jira writes offsets without a colon (+0000).
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = text[:-2] + ":" + text[-2:]
    try:
        value = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise SourceError(
            f"Malformed data from the server: {where} has {path!r} = {raw[:40]!r}, not a date and time."
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value


def items(record: Any, path: str, *, where: str, objects: bool = True) -> list:
    """The list at ``path`` (GraphQL connections: its ``nodes``); missing = empty. With
    ``objects`` every entry must be an object (the mappers read fields of each)."""
    value = field(record, path, (list, dict), where=where, optional=True)
    if value is None:
        return []
    if isinstance(value, dict):
        value = value.get("nodes") or []
    if not isinstance(value, list):
        raise SourceError(f"Malformed data from the server: {where} has {path!r} that is not a list.")
    found = [v for v in value if v is not None]
    if objects and any(not isinstance(v, dict) for v in found):
        raise SourceError(
            f"Malformed data from the server: {where} has an entry in {path!r} that is not an object; "
            "nothing from this page was stored."
        )
    return found


def read_each(read_rows):
    """An importer of a set of files (runner.IMPORTERS' shape: ``read_files(connection, [(name,
    bytes)])`` -> pull request, work item and deployment rows) from a reader of one file at a time
    (``read_rows(connection, name, bytes)`` -> pull request and work item rows). Every error names
    its file first."""

    def read_files(connection, files) -> tuple[list[dict], list[dict], list[dict]]:
        prs, items = [], []
        for name, data in files:
            try:
                file_prs, file_items = read_rows(connection, name, data)
            except SourceError as exc:
                message = str(exc)
                raise SourceError(message if message.startswith(name) else f"{name}: {message}") from None
            prs += file_prs
            items += file_items
        return prs, items, []

    return read_files


def utc_date(moment: datetime.datetime) -> datetime.date:
    """The UTC calendar date attribution uses (a server may answer in its own time zone)."""
    return moment.astimezone(datetime.UTC).date()
