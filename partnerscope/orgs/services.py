"""State changes of organizations, memberships, invitations and API tokens."""

from __future__ import annotations

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from partnerscope.orgs import audit
from partnerscope.orgs.models import ApiToken, Invitation, Membership, Organization, hash_secret
from partnerscope.orgs.permissions import check_perm
from partnerscope.orgs.roles import Perm, Role, TokenScope

INVITATION_DAYS = 14

DEFAULT_SKILLS = {
    "Languages": ["Python", "Java", "Kotlin", "TypeScript", "Go", "C#", "Swift", "Rust", "PHP", "Scala"],
    "Web and mobile": [
        "React",
        "Angular",
        "Vue",
        "Django",
        "Spring",
        "Node.js",
        ".NET",
        "iOS",
        "Android",
        "Flutter",
    ],
    "Data and AI": ["SQL", "PostgreSQL", "Data engineering", "Machine learning", "Spark", "dbt"],
    "Cloud and operations": ["AWS", "Azure", "Google Cloud", "Kubernetes", "Terraform", "DevOps", "SRE"],
    "Quality and security": ["Test automation", "Manual QA", "Performance testing", "Application security"],
    "Product and design": ["UX design", "Product management", "Business analysis", "Technical writing"],
}

# The files that show a seeded skill (Skill.paths), for skill coverage from the evidence. Skills
# not named here (design, management, cloud consoles) show only on the roster.
DEFAULT_SKILL_PATHS = {
    "Python": "*.py\n*.pyi", "Java": "*.java", "Kotlin": "*.kt\n*.kts", "TypeScript": "*.ts\n*.tsx",
    "Go": "*.go", "C#": "*.cs", "Swift": "*.swift", "Rust": "*.rs", "PHP": "*.php", "Scala": "*.scala",
    "React": "*.jsx\n*.tsx", "Angular": "*.component.ts\nangular.json", "Vue": "*.vue",
    "Django": "*/migrations/*.py\nmanage.py\n*/templates/*.html", "Spring": "*Application.java\napplication.yml",
    "Node.js": "package.json\n*.js\n*.mjs", ".NET": "*.csproj\n*.sln", "iOS": "*.swift\n*.xcodeproj/*",
    "Android": "AndroidManifest.xml\nandroid/*", "Flutter": "*.dart\npubspec.yaml", "SQL": "*.sql",
    "dbt": "dbt_project.yml\nmodels/*.sql", "Kubernetes": "k8s/*\nhelm/*\nChart.yaml\nkustomization.yaml", "Terraform": "*.tf",
    "DevOps": "Dockerfile\n.github/workflows/*\n.gitlab-ci.yml\nJenkinsfile", "Test automation": "test_*.py\n*_test.go\n*.spec.ts\n*Test.java",
    "Technical writing": "*.md\n*.rst\ndocs/*",
}  # fmt: skip


def _audit(membership_or_actor, organization, action, obj=None, before=None, after=None):
    actor = getattr(membership_or_actor, "user", membership_or_actor)
    return audit.record(
        actor=actor, organization=organization, action=action, obj=obj, before=before, after=after
    )


@transaction.atomic
def create_organization(*, slug: str, name: str, owner=None, seed_skills: bool = True) -> Organization:
    org = Organization(slug=slug, name=name)
    org.full_clean()
    org.save()
    if seed_skills:
        from partnerscope.vendors.models import Skill

        Skill.objects.bulk_create(
            Skill(organization=org, name=skill, category=category, paths=DEFAULT_SKILL_PATHS.get(skill, ""))
            for category, skills in DEFAULT_SKILLS.items()
            for skill in skills
        )
    if owner is not None:
        membership = Membership.objects.create(organization=org, user=owner, role=Role.OWNER)
        _audit(owner, org, "partnerscope.membership.created", membership, after=audit.snapshot(membership))
    return org


def _check_role_vendor(organization: Organization, role: str, vendor) -> None:
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; use one of {', '.join(Role.values)}."})
    if role == Role.VENDOR:
        if vendor is None:
            raise ValidationError({"vendor": "A vendor user must be bound to one vendor."})
        if vendor.organization_id != organization.id:
            raise ValidationError({"vendor": "Select a valid vendor: that one does not exist."})
    elif vendor is not None:
        raise ValidationError({"vendor": "Only vendor users are bound to a vendor."})


@transaction.atomic
def add_member(*, actor, organization: Organization, user, role: str, vendor=None) -> Membership:
    """Add an existing user. ``actor`` is a membership (web/API) or None (command line)."""
    if actor is not None:
        check_perm(actor, Perm.ADMIN)
    _check_role_vendor(organization, role, vendor)
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise ValidationError({"email": f"{user.username} is already a member of {organization}."})
    membership = Membership.objects.create(organization=organization, user=user, role=role, vendor=vendor)
    _audit(
        actor, organization, "partnerscope.membership.created", membership, after=audit.snapshot(membership)
    )
    return membership


@transaction.atomic
def invite(*, membership: Membership, email: str, role: str, vendor=None) -> tuple[Invitation, str]:
    """Create an invitation; returns it with the one-time secret for the acceptance link."""
    check_perm(membership, Perm.ADMIN)
    org = membership.organization
    _check_role_vendor(org, role, vendor)
    email = email.strip().lower()
    User = get_user_model()
    existing = User.objects.filter(username__iexact=email).first()
    if existing and Membership.objects.filter(organization=org, user=existing).exists():
        raise ValidationError({"email": f"{email} is already a member of {org}."})
    secret = secrets.token_urlsafe(32)
    invitation = Invitation(
        organization=org,
        email=email,
        role=role,
        vendor=vendor,
        token_hash=hash_secret(secret),
        invited_by=membership.user,
        expires_at=timezone.now() + datetime.timedelta(days=INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    _audit(membership, org, "partnerscope.invitation.created", invitation, after=audit.snapshot(invitation))
    return invitation, secret


def find_invitation(secret: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("organization", "vendor")
        .filter(token_hash=hash_secret(secret))
        .first()
    )
    if invitation is None or invitation.status != "pending":
        return None
    return invitation


@transaction.atomic
def accept_invitation(*, secret: str, password: str, full_name: str = "") -> Membership:
    invitation = find_invitation(secret)
    if invitation is None:
        raise ValidationError("This invitation is not valid: it was used, revoked or has expired.")
    # Lock the row so two concurrent acceptances cannot both succeed.
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.status != "pending":
        raise ValidationError("This invitation is not valid: it was used, revoked or has expired.")
    User = get_user_model()
    user = User.objects.filter(username__iexact=invitation.email).first()
    if user is None:
        user = User(username=invitation.email, email=invitation.email, first_name=full_name[:150])
        validate_password(password, user)
        user.set_password(password)
        user.save()
    elif not user.check_password(password):
        raise ValidationError({"password": "This e-mail already has an account: enter its password."})
    org = invitation.organization
    if Membership.objects.filter(organization=org, user=user).exists():
        raise ValidationError(f"{user.username} is already a member of {org}.")
    membership = Membership.objects.create(
        organization=org, user=user, role=invitation.role, vendor=invitation.vendor
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    _audit(user, org, "partnerscope.invitation.accepted", invitation)
    _audit(user, org, "partnerscope.membership.created", membership, after=audit.snapshot(membership))
    return membership


@transaction.atomic
def revoke_invitation(*, membership: Membership, invitation: Invitation) -> None:
    check_perm(membership, Perm.ADMIN)
    if invitation.organization_id != membership.organization_id:
        raise ValidationError("That invitation does not exist.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at", "updated_at"])
    _audit(membership, membership.organization, "partnerscope.invitation.revoked", invitation)


def _owners_left(organization, excluding: Membership) -> int:
    return (
        Membership.objects.filter(organization=organization, role=Role.OWNER, user__is_active=True)
        .exclude(pk=excluding.pk)
        .count()
    )


@transaction.atomic
def change_role(*, membership: Membership, target: Membership, role: str, vendor=None) -> Membership:
    check_perm(membership, Perm.ADMIN)
    org = membership.organization
    if target.organization_id != org.id:
        raise ValidationError("That member does not exist.")
    _check_role_vendor(org, role, vendor)
    if target.role == Role.OWNER and role != Role.OWNER and _owners_left(org, target) == 0:
        raise ValidationError(
            {"role": "An organization needs at least one owner; make someone else owner first."}
        )
    before = audit.snapshot(target)
    target.role = role
    target.vendor = vendor
    target.save(update_fields=["role", "vendor", "updated_at"])
    _audit(
        membership,
        org,
        "partnerscope.membership.updated",
        target,
        before=before,
        after=audit.snapshot(target),
    )
    return target


@transaction.atomic
def remove_member(*, membership: Membership, target: Membership) -> None:
    check_perm(membership, Perm.ADMIN)
    org = membership.organization
    if target.organization_id != org.id:
        raise ValidationError("That member does not exist.")
    if target.role == Role.OWNER and _owners_left(org, target) == 0:
        raise ValidationError("An organization needs at least one owner; make someone else owner first.")
    before = audit.snapshot(target)
    target.delete()  # its API tokens go with it
    _audit(membership, org, "partnerscope.membership.deleted", target, before=before)


TOKEN_PREFIX = "ps"  # noqa: S105 - a public prefix, not a secret


@transaction.atomic
def create_token(*, membership: Membership, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new API token for the actor's own membership; returns the secret, shown once."""
    check_perm(membership, Perm.VIEW)
    if scope not in TokenScope.values:
        raise ValidationError({"scope": f"Unknown scope {scope!r}; use read or write."})
    if scope == TokenScope.WRITE and not membership.has_perm(Perm.EDIT):
        raise ValidationError({"scope": "Your role cannot write, so the token cannot either."})
    if not name.strip():
        raise ValidationError({"name": "Give the token a name that says where it is used."})
    secret = f"{TOKEN_PREFIX}_{scope}_{secrets.token_urlsafe(32)}"
    token = ApiToken(
        organization_id=membership.organization_id,
        membership=membership,
        name=name.strip()[:100],
        scope=scope,
        prefix=secret[: len(TOKEN_PREFIX) + len(scope) + 8],
        key_hash=hash_secret(secret),
    )
    token.save()
    _audit(
        membership,
        membership.organization,
        "partnerscope.apitoken.created",
        token,
        after=audit.snapshot(token),
    )
    return token, secret


@transaction.atomic
def revoke_token(*, membership: Membership, token: ApiToken) -> None:
    # Owners may revoke anyone's token; others only their own.
    if token.organization_id != membership.organization_id:
        raise ValidationError("That token does not exist.")
    if token.membership_id != membership.id:
        check_perm(membership, Perm.ADMIN)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    _audit(membership, membership.organization, "partnerscope.apitoken.revoked", token)


def authenticate_token(secret: str) -> Membership | None:
    """The membership behind a token, with the token's scope applied, or None."""
    if not secret.startswith(f"{TOKEN_PREFIX}_"):
        return None
    token = (
        ApiToken.objects.select_related("membership__user", "membership__organization", "membership__vendor")
        .filter(key_hash=hash_secret(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.membership.is_usable():
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    membership = token.membership
    membership.token_scope = token.scope
    return membership
