from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from partnerscope.orgs.models import Organization
from partnerscope.orgs.services import create_organization


def validation_messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [
            f"{field}: {msg}" if field != "__all__" else msg
            for field, msgs in exc.message_dict.items()
            for msg in msgs
        ]
    return list(exc.messages)


class Command(BaseCommand):
    help = (
        "Create an organization. One client company, the tenant everything else belongs to, "
        "seeded with the default skill taxonomy, optionally with an existing user as its owner."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "slug", metavar="SLUG", help="Short name used in URLs: lowercase letters, digits and hyphens."
        )
        parser.add_argument("name", metavar="NAME", help='Display name, e.g. "Northwind Labs".')
        parser.add_argument(
            "--owner",
            metavar="EMAIL",
            help="An existing user (by e-mail) to make the owner. Without it, add one afterwards with "
            "`createuser EMAIL --org SLUG --role owner`.",
        )

    def handle(self, *, slug, name, owner, **options):
        slug = slug.strip()
        name = name.strip()
        existing = Organization.objects.filter(slug=slug).first()
        if existing is not None:
            raise CommandError(f"The slug {slug!r} is already taken by {existing.name}; choose another.")
        owner_user = None
        if owner:
            owner_user = get_user_model().objects.filter(username__iexact=owner.strip()).first()
            if owner_user is None:
                raise CommandError(
                    f"No user {owner!r}. Create the organization without --owner, then add its owner "
                    f"with: partnerscope createuser {owner} --org {slug} --role owner"
                )
        try:
            org = create_organization(slug=slug, name=name, owner=owner_user)
        except ValidationError as exc:
            raise CommandError(
                "Cannot create the organization: " + "; ".join(validation_messages(exc))
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Created organization {org.name} ({org.slug})."))
        if owner_user is not None:
            self.stdout.write(f"Owner: {owner_user.username}")
        else:
            self.stdout.write(
                f"Add its first owner with: partnerscope createuser EMAIL --org {org.slug} --role owner"
            )
