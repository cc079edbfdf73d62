import getpass
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from partnerscope.ops.management.commands.createorg import validation_messages
from partnerscope.orgs.models import Membership, Organization
from partnerscope.orgs.roles import Role
from partnerscope.orgs.services import add_member
from partnerscope.vendors.models import Vendor


class Command(BaseCommand):
    help = (
        "Add a user to an organization with a role. Creates the account (user name = e-mail) if "
        "it does not exist yet, with a password read from stdin (--password-stdin) or prompted."
    )
    # Tests and scripts may pass a file-like object as stdin=.
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("email", metavar="EMAIL", help="The user's e-mail address; it is also the login.")
        parser.add_argument("--org", required=True, metavar="SLUG", help="The organization's slug.")
        parser.add_argument(
            "--role",
            required=True,
            choices=Role.values,
            help="owner: everything incl. members and tokens; manager: edit records; viewer: read "
            "everything; vendor: read their own vendor's records (needs --vendor).",
        )
        parser.add_argument(
            "--vendor",
            metavar="VENDOR_NAME",
            help="For --role vendor: the vendor (by name, in that organization) the user works for.",
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the new account's password from the first line of stdin instead of prompting.",
        )

    def handle(self, *, email, org, role, vendor, password_stdin, **options):
        stdin = options.get("stdin") or sys.stdin
        email = email.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an e-mail address.") from None

        organization = Organization.objects.filter(slug=org).first()
        if organization is None:
            raise CommandError(
                f"No organization with the slug {org!r}; create it with: partnerscope createorg {org} NAME"
            )
        vendor_obj = self._vendor(organization, role, vendor)

        User = get_user_model()
        user = User.objects.filter(username__iexact=email).first()
        if user is not None:
            existing = Membership.objects.filter(organization=organization, user=user).first()
            if existing is not None:
                raise CommandError(
                    f"{user.username} is already a member of {organization} (as {existing.role}); "
                    f"change the role in the members page instead."
                )

        with transaction.atomic():
            created = user is None
            if created:
                user = User(username=email, email=email)
                password = self._password(user, stdin, password_stdin)
                user.set_password(password)
                user.save()
            try:
                add_member(actor=None, organization=organization, user=user, role=role, vendor=vendor_obj)
            except ValidationError as exc:
                raise CommandError("; ".join(validation_messages(exc))) from None

        what = "Created user" if created else "Existing user"
        bound = f" for {vendor_obj}" if vendor_obj else ""
        self.stdout.write(
            self.style.SUCCESS(f"{what} {user.username} is now {role}{bound} in {organization.name}.")
        )
        if not created:
            self.stdout.write("The account already existed, so its password is unchanged.")

    def _vendor(self, organization, role, name):
        if role != Role.VENDOR:
            if name:
                raise CommandError(
                    "Only vendor users are bound to a vendor: drop --vendor or use --role vendor."
                )
            return None
        names = list(Vendor.objects.filter(organization=organization).values_list("name", flat=True))
        known = ", ".join(names) if names else "none yet"
        if not name:
            raise CommandError(
                f"A vendor user must be bound to one vendor: add --vendor NAME (vendors in "
                f"{organization}: {known})."
            )
        vendor = Vendor.objects.filter(organization=organization, name__iexact=name.strip()).first()
        if vendor is None:
            raise CommandError(f"No vendor named {name!r} in {organization} (its vendors: {known}).")
        return vendor

    def _password(self, user, stdin, password_stdin) -> str:
        if password_stdin:
            password = stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin was given but stdin held no password.")
        else:
            if not stdin.isatty():
                raise CommandError("No terminal to prompt for a password: pipe it in with --password-stdin.")
            password = getpass.getpass(f"Password for {user.username}: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ; nothing was created.")
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(
                "The password was refused:\n" + "\n".join(f"  - {m}" for m in exc.messages)
            ) from None
        return password
