"""Read-side aggregations of git evidence, always through the actor's scope."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Sum

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

    @property
    def changed_lines(self) -> int:
        return self.additions + self.deletions

    @property
    def revert_rate(self) -> float | None:
        return self.reverted / self.authored if self.authored else None


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
    rows = (
        contributions_in_scope(membership, **filters)
        .values("status", "vendor_id")
        .annotate(
            commits=Count("commit_id", distinct=True),
            people=Count("person_id", distinct=True),
            emails=Count("email", distinct=True),
            additions=Sum("commit__additions"),
            deletions=Sum("commit__deletions"),
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
        result.append(
            GroupStats(
                key=key,
                label=vendor.name if vendor else GROUP_LABELS.get(row["status"], row["status"]),
                vendor=vendor,
                commits=row["commits"],
                contributors=row["people"] if attributed else row["emails"],
                additions=row["additions"] or 0,
                deletions=row["deletions"] or 0,
                merges=row["merges"],
                co_authored=row["co_authored"],
                authored=row["authored"],
                reverted=row["reverted"],
            )
        )
    order = {"vendor": 0, "inhouse": 1, "unattributed": 2, "": 3, "bot": 4}
    result.sort(key=lambda g: (order.get(g.key.split(":")[0], 9), g.label.lower()))
    return result


@dataclass
class QueueEntry:
    email: str
    name: str
    commits: int
    first: object
    last: object
    person_id: int | None
    suggestion: Vendor | None


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
