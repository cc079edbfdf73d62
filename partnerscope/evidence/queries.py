"""Read-side aggregations of git evidence, always through the actor's scope."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, Sum

from partnerscope.evidence.models import Commit, Contribution
from partnerscope.vendors.models import Vendor, VendorEmailDomain

GROUP_LABELS = {
    "inhouse": "In-house",
    "unattributed": "Unattributed",
    "bot": "Bots (excluded)",
    "": "Not attributed yet",
}


@dataclass
class GroupStats:
    key: str
    label: str
    vendor: Vendor | None
    commits: int
    contributors: int
    additions: int
    deletions: int
    merges: int
    co_authored: int
    authored: int
    reverted: int
    rework_lines: int = 0
    rework_base: int = 0

    @property
    def changed_lines(self) -> int:
        return self.additions + self.deletions

    @property
    def revert_rate(self) -> float | None:
        return self.reverted / self.authored if self.authored else None

    @property
    def rework_rate(self) -> float | None:
        return self.rework_lines / self.rework_base if self.rework_base else None


def contributions_in_scope(membership, *, engagement=None, repository=None, since=None, until=None):
    rows = Contribution.objects.visible_to(membership)
    if engagement is not None:
        rows = rows.filter(repository__engagement=engagement)
    if repository is not None:
        rows = rows.filter(repository=repository)
    if since is not None:
        rows = rows.filter(authored_date__gte=since)
    if until is not None:
        rows = rows.filter(authored_date__lte=until)
    return rows


def summary_by_vendor(membership, **filters) -> list[GroupStats]:
    """Per vendor (and in-house, unattributed, bots): what the history says."""
    reverted = Exists(
        Commit.objects.filter(repository_id=OuterRef("repository_id"), reverts_sha=OuterRef("commit__sha"))
    )
    scope = contributions_in_scope(membership, **filters)
    rows = (
        scope.values("status", "vendor_id")
        .annotate(
            commits=Count("commit_id", distinct=True),
            people=Count("person_id", distinct=True),
            emails=Count("email", distinct=True),
            merges=Count("commit_id", distinct=True, filter=Q(commit__parent_count__gt=1)),
            co_authored=Count("commit_id", distinct=True, filter=Q(role=Contribution.Role.CO_AUTHOR)),
            authored=Count(
                "commit_id",
                distinct=True,
                filter=Q(role=Contribution.Role.AUTHOR, commit__parent_count__lte=1),
            ),
            reverted=Count(
                "commit_id",
                distinct=True,
                filter=Q(reverted, role=Contribution.Role.AUTHOR, commit__parent_count__lte=1),
            ),
        )
        .order_by()
    )
    vendors = Vendor.objects.visible_to(membership).in_bulk()
    result = []
    for row in rows:
        vendor = vendors.get(row["vendor_id"]) if row["status"] == "vendor" else None
        key = f"vendor:{vendor.uid}" if vendor else row["status"]
        attributed = row["status"] in ("vendor", "inhouse")
        lines = _line_totals(scope.filter(status=row["status"], vendor_id=row["vendor_id"]))
        result.append(
            GroupStats(
                key=key,
                label=vendor.name if vendor else GROUP_LABELS.get(row["status"], row["status"]),
                vendor=vendor,
                commits=row["commits"],
                contributors=row["people"] if attributed else row["emails"],
                additions=lines["added"] or 0,
                deletions=lines["deleted"] or 0,
                merges=row["merges"],
                co_authored=row["co_authored"],
                authored=row["authored"],
                reverted=row["reverted"],
                rework_lines=lines["reworked"] or 0,
                rework_base=lines["measured"] or 0,
            )
        )
    order = {"vendor": 0, "inhouse": 1, "unattributed": 2, "": 3, "bot": 4}
    result.sort(key=lambda g: (order.get(g.key.split(":")[0], 9), g.label.lower()))
    return result


def _line_totals(group_contributions) -> dict:
    """Line sums over the group's distinct commits: a commit two of its people wrote together
    (author and co-author) counts its lines once, not once per person."""
    commits = Commit.objects.filter(id__in=group_contributions.values("commit_id"))
    # Aliases differ from the field names: Django refuses an aggregate named like a field it sums.
    return commits.aggregate(
        added=Sum("additions"),
        deleted=Sum("deletions"),
        reworked=Sum("rework_lines"),
        measured=Sum(F("additions") + F("deletions"), filter=Q(rework_lines__isnull=False)),
    )


@dataclass
class QueueEntry:
    email: str
    name: str
    commits: int
    first: object
    last: object
    person_id: int | None
    suggestion: Vendor | None
    person: object = None  # the known person, when the e-mail has one (set by the page)


def unattributed_queue(membership, *, limit: int = 200) -> list[QueueEntry]:
    """Author identities no dated assignment covers, most commits first, with a vendor
    suggested from its e-mail domain (a suggestion only: vendor staff often use client addresses)."""
    rows = (
        Contribution.objects.visible_to(membership)
        .filter(status=Contribution.Status.UNATTRIBUTED)
        .values("email")
        .annotate(
            commits=Count("commit_id", distinct=True),
            first=Min("authored_date"),
            last=Max("authored_date"),
            name=Max("name"),
            person_id=Max("person_id"),
        )
        .order_by("-commits", "email")[:limit]
    )
    domains = {
        d.domain: d.vendor for d in VendorEmailDomain.objects.visible_to(membership).select_related("vendor")
    }
    entries = []
    for row in rows:
        domain = row["email"].rpartition("@")[2]
        entries.append(
            QueueEntry(
                email=row["email"], name=row["name"], commits=row["commits"], first=row["first"], last=row["last"],
                person_id=row["person_id"], suggestion=domains.get(domain),
            )
        )  # fmt: skip
    return entries


@dataclass
class Holder:
    label: str
    vendor: Vendor | None
    status: str
    lines: int
    share: float


@dataclass
class Knowledge:
    total_lines: int
    holders: list[Holder]
    bus_factor: int
    vendor_shares: list[tuple[str, float]]
    exit_risk: float | None


def knowledge_concentration(membership, repository) -> Knowledge | None:
    """Who holds the code at the tip: the people (and vendors) behind its surviving lines."""
    from partnerscope.engagements.models import Person
    from partnerscope.evidence.models import SurvivingLines

    rows = SurvivingLines.objects.visible_to(membership).filter(repository=repository)
    rows = list(rows.values_list("path", "email", "lines"))
    if not rows:
        return None
    # Each e-mail as attribution last saw it in this repository: its person, vendor and status.
    latest = {
        email: (person_id, vendor_id, status)
        for email, person_id, vendor_id, status in Contribution.objects.filter(repository=repository)
        .order_by("authored_date")
        .values_list("email", "person_id", "vendor_id", "status")
    }
    people = Person.objects.visible_to(membership).in_bulk()
    vendors = Vendor.objects.visible_to(membership).in_bulk()
    holder_lines: dict[tuple, int] = {}
    holder_vendor: dict[tuple, int | None] = {}
    holder_status: dict[tuple, str] = {}
    per_file: dict[str, dict[tuple, int]] = {}
    for path, email, lines in rows:
        person_id, vendor_id, status = latest.get(email, (None, None, "unattributed"))
        holder = ("person", person_id) if person_id in people else ("email", email)
        holder_lines[holder] = holder_lines.get(holder, 0) + lines
        holder_vendor[holder] = vendor_id if status == "vendor" else None
        holder_status[holder] = status
        per_file.setdefault(path, {})
        per_file[path][holder] = per_file[path].get(holder, 0) + lines
    total = sum(holder_lines.values())
    ranked = sorted(holder_lines.items(), key=lambda item: -item[1])
    # The bus factor: how few people hold half of the surviving lines.
    bus_factor, running = 0, 0
    for _, lines in ranked:
        if running >= total / 2:
            break
        bus_factor += 1
        running += lines
    holders = [
        Holder(
            label=people[h[1]].name if h[0] == "person" else h[1],
            vendor=vendors.get(holder_vendor[h]),
            status=holder_status[h],
            lines=lines,
            share=lines / total,
        )
        for h, lines in ranked[:10]
    ]
    vendor_lines: dict[int | None, int] = {}
    for holder, lines in ranked:
        vendor_lines[holder_vendor[holder]] = vendor_lines.get(holder_vendor[holder], 0) + lines
    vendor_shares = sorted(
        (
            (vendors[v].name if v in vendors else "In-house, unattributed or bots", n / total)
            for v, n in vendor_lines.items()
        ),
        key=lambda item: -item[1],
    )
    # Exit risk: the share of lines in files whose main author is vendor staff.
    at_risk = sum(
        sum(counts.values())
        for counts in per_file.values()
        if holder_vendor[max(counts, key=counts.get)] is not None
    )
    return Knowledge(total_lines=total, holders=holders, bus_factor=bus_factor, vendor_shares=vendor_shares,
                     exit_risk=at_risk / total)  # fmt: skip


@dataclass
class UsernameEntry:
    kind: str
    login: str
    records: int
    first: datetime.date
    last: datetime.date
    person_id: int | None
    person: object = None


def unattributed_usernames(membership, *, limit: int = 200) -> list[UsernameEntry]:
    """Tracker usernames (pull request authors, reviewers, assignees, deployers) that no dated
    assignment covers, most records first."""
    from partnerscope.evidence.models import Deployment, PullRequest, Review, WorkItem

    merged: dict[tuple[str, str], UsernameEntry] = {}
    for model in (PullRequest, Review, WorkItem, Deployment):
        rows = (
            model.objects.visible_to(membership)
            .filter(status=model.Status.UNATTRIBUTED)
            .exclude(actor="")
            .values("actor_kind", "actor")
            .annotate(n=Count("id"), first=Min("acted_on"), last=Max("acted_on"), person=Max("person_id"))
        )
        for row in rows:
            key = (row["actor_kind"], row["actor"])
            entry = merged.get(key)
            if entry is None:
                merged[key] = UsernameEntry(
                    key[0], key[1], row["n"], row["first"], row["last"], row["person"]
                )
            else:
                entry.records += row["n"]
                entry.first, entry.last = min(entry.first, row["first"]), max(entry.last, row["last"])
                entry.person_id = entry.person_id or row["person"]
    return sorted(merged.values(), key=lambda e: (-e.records, e.kind, e.login))[:limit]


@dataclass
class BugFixes:
    """The bug fixes traced in a repository (szz.py): how many, why, and what they blamed."""

    fixes: int
    traced_lines: int
    blamed_commits: int
    by_reason: list[tuple[str, int]]
    recent: list  # the latest BugFix rows, each with ``blamed`` (commits it blamed)


def bug_fixes(membership, repository, latest: int = 10) -> BugFixes | None:
    """Client users only, as the line-level signals: a vendor user gets None."""
    from partnerscope.evidence.models import BugFix, BugIntroduction

    rows = BugFix.objects.visible_to(membership).filter(repository=repository)
    totals = rows.aggregate(fixes=Count("id"), lines=Sum("traced_lines"))
    if not totals["fixes"]:
        return None
    labels = dict(BugFix.Reason.choices)
    by_reason = [
        (labels.get(reason, reason), n)
        for reason, n in rows.values_list("reason").annotate(n=Count("id")).order_by("-n", "reason")
    ]
    blamed = (
        BugIntroduction.objects.visible_to(membership)
        .filter(fix__repository=repository)
        .values("commit_id")
        .distinct()
        .count()
    )
    recent = list(
        rows.select_related("commit", "bug")
        .annotate(blamed=Count("introductions"))
        .order_by("-commit__authored_at")[:latest]
    )
    return BugFixes(totals["fixes"], totals["lines"] or 0, blamed, by_reason, recent)
