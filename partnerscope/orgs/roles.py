"""Roles and what each may do. The policy lives here and nowhere else in the code."""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    MANAGER = "manager", "Manager"
    VIEWER = "viewer", "Viewer"
    VENDOR = "vendor", "Vendor"


class Perm(models.TextChoices):
    VIEW = "view", "read the organization's records in scope"
    VIEW_INTERNAL = "view_internal", "read client-only data: history, internal notes, in-house staff"
    EDIT = "edit", "create, change and delete vendors, engagements and the roster"
    ADMIN = "admin", "manage members, invitations and API tokens"


ROLE_PERMS: dict[str, frozenset[str]] = {
    Role.OWNER: frozenset({Perm.VIEW, Perm.VIEW_INTERNAL, Perm.EDIT, Perm.ADMIN}),
    Role.MANAGER: frozenset({Perm.VIEW, Perm.VIEW_INTERNAL, Perm.EDIT}),
    Role.VIEWER: frozenset({Perm.VIEW, Perm.VIEW_INTERNAL}),
    Role.VENDOR: frozenset({Perm.VIEW}),
}


# An API token's scope caps what its membership may do through it.
class TokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


SCOPE_PERMS: dict[str, frozenset[str]] = {
    TokenScope.READ: frozenset({Perm.VIEW, Perm.VIEW_INTERNAL}),
    TokenScope.WRITE: frozenset({Perm.VIEW, Perm.VIEW_INTERNAL, Perm.EDIT}),
}
