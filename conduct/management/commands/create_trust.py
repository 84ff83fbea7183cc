"""First run of a fresh production install: the first trust, its trust board and its first admin.

    manage.py create_trust --name "Oak Multi-Academy Trust" --admin-email head@oak.example \\
        --admin-name "Ada Lovelace" [--slug oak] [--board-name "Oak Trust Board" | --no-board]

Works only while the installation has no organisation at all, and exits non-zero otherwise:
after that, admins set organisations up in the app. ``make run`` still loads the demo instead.

How the admin gets in: the command prints a one-off set-password link for the operator to give
the admin, rather than emailing it. On a fresh install mail may not be set up yet, and the
operator is the one who knows the admin is who they say they are. The link is allauth's own
password-reset-from-key address, made with allauth's token generator exactly as its password
reset (and the app's invitations) do, so it expires after INVITATION_LINK_TIMEOUT and stops
working once used; following it proves the address and signs the admin in. If the link expires,
the admin asks for a new one with "Forgotten your password?" on the sign-in page.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from conduct.accounts import invitation_days, set_password_url
from conduct.organisations import AlreadySetUp, FirstTrust, trust_create_first


class Command(BaseCommand):
    help = (
        "First run of a fresh install: create the first trust (with its trust board unless --no-board) and its "
        "first admin, then print a set-password link to give that admin (nothing is emailed: mail may not be set "
        "up yet). Refuses, with a non-zero exit code, once any organisation exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help='The trust\'s full name, e.g. "Oak Multi-Academy Trust".')
        parser.add_argument("--admin-email", required=True, help="The first admin's email address (their login).")
        parser.add_argument("--admin-name", required=True, help="The first admin's full name, as on signed records.")
        parser.add_argument("--slug", help="The trust's short web name (made from its name if not given).")
        parser.add_argument("--board-name", help="The trust board's name (default: the trust's name + \" Board\").")
        parser.add_argument("--no-board", action="store_true", help="Do not create the trust board.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = trust_create_first(
                name=options["name"],
                admin_email=options["admin_email"],
                admin_name=options["admin_name"],
                slug=options["slug"],
                with_board=not options["no_board"],
                board_name=options["board_name"],
            )
        except AlreadySetUp as refusal:
            raise CommandError(str(refusal)) from None
        except ValidationError as error:
            problems = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            raise CommandError(f"Nothing was created. {problems}") from None
        self._report(created)

    def _report(self, created: FirstTrust) -> None:
        self.stdout.write(self.style.SUCCESS(f"Created {created.trust.name} ({created.trust.slug})."))
        if created.board is not None:
            self.stdout.write(f"Created {created.board.name}, governing {created.trust.name}.")
        admin = created.admin
        verb = "Created" if created.admin_created else "Found the existing account of"
        self.stdout.write(f"{verb} {admin.full_name} <{admin.email}>, now an admin of {created.trust.name}.")
        self.stdout.write(
            "Give them this link to set their password and sign in (it works once, and expires in "
            f"{invitation_days()} day(s)):"
        )
        self.stdout.write(set_password_url(admin))
