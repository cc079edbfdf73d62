"""Importing a Jira CSV export (Issues → Export → CSV, all fields or current fields) when no API
access is allowed.

What the export looks like, and how it is read:
- A multi-value field repeats its header, one column per value (``Labels,Labels``,
  ``Sprint,Sprint``, ``Outward issue link (Blocks)``…): columns are read by position, every
  column of a name together. Header names are matched without regard to case, since they changed
  between Jira versions ("Due Date", "Due date").
- UTF-8, with or without a byte order mark; commas, or semicolons in some locales.
- Dates in Jira's default format (``14/Jul/25 3:42 PM``) or ISO (``2025-07-14 15:42``). They carry
  no time zone (they are in the exporting user's) and are read as UTC.
- People: display names in "Assignee" and "Reporter", account ids in "Assignee Id" and
  "Reporter Id" (newer Cloud exports); the ids are used when present, as an API sync does.
- There is no changelog: no events, and an issue is attributed to its assignee (else its
  reporter) at its resolution (else its creation).
- Releases: "Fix Version/s" (Server, Data Center, older Cloud) or "Fix versions" (Cloud), one
  column a value.

A bad row stops the import naming the file, the row as a spreadsheet numbers it (the header
is row 1) and the column.
"""

from __future__ import annotations

import csv
import datetime
import io
import re

from partnerscope.evidence.connectors.http import SourceError
from partnerscope.evidence.connectors.payload import read_each

MONTHS = {m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}  # fmt: skip
JIRA_DATE = re.compile(
    r"(\d{1,2})/([A-Za-z]{3})/(\d{2}|\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?)?"
)
ISSUE_KEY = re.compile(r"([A-Z][A-Z0-9_]*)-\d+")
REQUIRED = ("Issue key", "Summary", "Status", "Created")
STATUS_CATEGORIES = {"to do": "todo", "new": "todo", "in progress": "in_progress", "indeterminate": "in_progress", "done": "done", "complete": "done"}  # fmt: skip
TODO_STATUSES = {"to do", "open", "new", "backlog", "reopened", "selected for development"}


def parse_date(text: str) -> datetime.datetime:
    """A CSV date as a UTC time; ValueError if it is none."""
    text = text.strip()
    match = JIRA_DATE.fullmatch(text)
    if match:
        day, month, year, hour, minute, second, half = match.groups()
        year = int(year) + (2000 if len(year) == 2 else 0)
        hour = int(hour or 0)
        if half:
            if not 1 <= hour <= 12:
                raise ValueError(text)
            hour = hour % 12 + (12 if half.lower() == "pm" else 0)
        if month.lower() not in MONTHS:
            raise ValueError(text)
        return datetime.datetime(
            year,
            MONTHS[month.lower()],
            int(day),
            hour,
            int(minute or 0),
            int(second or 0),
            tzinfo=datetime.UTC,
        )
    iso = text.replace("Z", "+00:00")
    if len(iso) > 5 and iso[-5] in "+-" and iso[-4:].isdigit():
        iso = iso[:-2] + ":" + iso[-2:]  # Jira's +0000
    value = datetime.datetime.fromisoformat(iso)
    return value.astimezone(datetime.UTC) if value.tzinfo else value.replace(tzinfo=datetime.UTC)


class Sheet:
    """The columns of a CSV by name (several for a repeated header), and the row being read."""

    def __init__(self, name: str, header: list[str]) -> None:
        self.name = name
        self.columns: dict[str, list[int]] = {}
        self.titles: dict[str, str] = {}
        for index, title in enumerate(header):
            lowered = title.strip().lower()
            self.columns.setdefault(lowered, []).append(index)
            self.titles.setdefault(lowered, title.strip())
        self.row: list[str] = []
        self.number = 1

    def has(self, column: str) -> bool:
        return column.lower() in self.columns

    def values(self, column: str) -> list[str]:
        """The non-empty cells of every column with this name, in order."""
        cells = (self.row[i].strip() for i in self.columns.get(column.lower(), []) if i < len(self.row))
        return [cell for cell in cells if cell]

    def value(self, column: str) -> str:
        return next(iter(self.values(column)), "")

    def values_starting(self, prefix: str) -> list[str]:
        titles = [t for t in self.columns if t.startswith(prefix.lower())]
        return [v for title in titles for v in self.values(title)]

    def fail(self, column: str, message: str):
        title = self.titles.get(column.lower(), column)
        raise SourceError(f"{self.name}, row {self.number}, column {title}: {message}")

    def required(self, column: str) -> str:
        return self.value(column) or self.fail(column, "empty")

    def date(self, column: str, *, optional: bool = False) -> datetime.datetime | None:
        text = self.value(column)
        if not text:
            return None if optional else self.fail(column, "empty")
        try:
            return parse_date(text)
        except ValueError:
            self.fail(column, f"{text[:40]!r} is not a date")


def _rows(name: str, data: bytes) -> tuple[list[str], list[list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SourceError(f"{name}: not a UTF-8 CSV file; export it again from Jira.") from None
    # A long description can pass csv's default limit of 128 KB a cell.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    for delimiter in (",", ";"):
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as exc:
            raise SourceError(f"{name}: not a readable CSV file ({exc}).") from None
        header = [title.strip().lower() for title in rows[0]] if rows else []
        if "issue key" in header:
            return rows[0], rows[1:]
    raise SourceError(f"{name}: not a Jira CSV export (it has no 'Issue key' column).")


def _category(sheet: Sheet, status: str, resolved) -> str:
    named = STATUS_CATEGORIES.get(sheet.value("Status Category").lower())
    if named:
        return named
    if resolved is not None or sheet.value("Resolution") not in ("", "Unresolved"):
        return "done"
    return "todo" if status.lower() in TODO_STATUSES else "in_progress"


def read_row(sheet: Sheet, connection, *, is_bot_name, incident_labels) -> dict:
    key = sheet.required("Issue key")
    match = ISSUE_KEY.fullmatch(key)
    if not match:
        sheet.fail("Issue key", f"{key[:40]!r} is not an issue key")
    if match.group(1) != connection.project.strip():
        sheet.fail("Issue key", f"{key} is not in the project {connection.project.strip()}")
    created = sheet.date("Created")
    resolved = sheet.date("Resolved", optional=True)
    status = sheet.required("Status")
    assignee = sheet.value("Assignee Id") or sheet.value("Assignee")
    reporter = sheet.value("Reporter Id") or sheet.value("Reporter")
    labels = sheet.values("Labels")
    item_type = sheet.value("Issue Type")
    actor = assignee or reporter
    resolution = sheet.value("Resolution")
    links = sheet.values_starting("Inward issue link (") + sheet.values_starting("Outward issue link (")
    return {
        "key": key,
        "external_id": sheet.value("Issue id"),
        "title": sheet.required("Summary")[:300],
        "url": f"{connection.base_url.rstrip('/')}/browse/{key}" if connection.base_url else "",
        "item_type": item_type[:60],
        "priority": sheet.value("Priority")[:60],
        "workflow_status": status[:60],
        "category": _category(sheet, status, resolved),
        "resolution": ("" if resolution == "Unresolved" else resolution)[:60],
        "created_at": created,
        "updated_at": sheet.date("Updated", optional=True) or created,
        "resolved_at": resolved,
        "assignee": assignee[:255],
        "reporter": reporter[:255],
        "sprint": (sheet.values("Sprint") or [""])[-1][:200],  # the latest
        # "Fix Version/s" (Server, Data Center, older Cloud) or "Fix versions" (Cloud), one column a value.
        "fix_versions": list(
            dict.fromkeys(v[:100] for v in sheet.values("Fix Version/s") + sheet.values("Fix versions"))
        ),
        "labels": labels,
        "links": list(dict.fromkeys(links)),
        "is_incident": bool(incident_labels(item_type, *labels)),
        "actor": actor,
        "acted_on": (resolved or created).date(),
        "is_bot": bool(is_bot_name(actor, sheet.value("Assignee") or sheet.value("Reporter"))),
        "events": None,  # a CSV has no changelog: keep the one a sync stored
    }


def read_rows(connection, name: str, data: bytes) -> tuple[list[dict], list[dict]]:
    """No pull requests, and the work item rows (store.py's shape) of one Jira CSV export."""
    from partnerscope.evidence.models import DEFAULT_BOT_PATTERNS
    from partnerscope.evidence.patterns import matcher

    header, rows = _rows(name, data)
    sheet = Sheet(name, header)
    for column in REQUIRED:
        if not sheet.has(column):
            raise SourceError(f"{name}: not a Jira CSV export (it has no {column!r} column).")
    is_bot = matcher(DEFAULT_BOT_PATTERNS.splitlines())
    incident_labels = matcher(connection.glob_list("incident_labels"))
    found: dict[str, dict] = {}
    for number, row in enumerate(rows, 2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line, often the last
        sheet.row, sheet.number = row, number
        item = read_row(sheet, connection, is_bot_name=is_bot, incident_labels=incident_labels)
        found[item["key"]] = item  # one row per issue: the same key twice would fail to store
    return [], list(found.values())


read_files = read_each(read_rows)
