"""manage.py create_trust: a fresh install's first trust, trust board and admin, and only on a fresh install."""

from __future__ import annotations

from io import StringIO
from typing import Any
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import Client

from acknowledgements.models import Obligation
from conduct.accounts import invitation_token_generator
from conduct.models import AuditAction, AuditLogEntry, Organisation, Person, Role
from conduct.tests.factories import OrganisationFactory, PersonFactory

pytestmark = pytest.mark.django_db

ARGUMENTS = ["--name", "Oak Multi-Academy Trust", "--admin-email", "Ada@Oak.example", "--admin-name", " Ada  Lovelace "]


def create_trust(*extra: str) -> str:
    out = StringIO()
    call_command("create_trust", *ARGUMENTS, *extra, stdout=out)
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in (Organisation, Person, Role, AuditLogEntry, EmailAddress, Obligation)
    }


def test_it_creates_the_trust_its_board_and_its_admin_and_prints_a_working_link(client: Client):
    output = create_trust()

    trust = Organisation.objects.get(kind="trust")
    board = Organisation.objects.get(kind="board")
    assert (trust.name, trust.slug, trust.parent, trust.path) == (
        "Oak Multi-Academy Trust",
        "oak-multi-academy-trust",
        None,
        f"/{trust.pk:06d}/",
    )
    assert (board.name, board.parent, board.governs) == ("Oak Multi-Academy Trust Board", trust, trust)
    admin = Person.objects.get()
    assert (admin.email, admin.full_name, admin.has_usable_password()) == ("ada@oak.example", "Ada Lovelace", False)
    assert list(admin.roles.values_list("organisation", "kind", "ends_on")) == [(trust.pk, "admin", None)]
    assert EmailAddress.objects.filter(user=admin, email="ada@oak.example", primary=True, verified=False).exists()

    link = output.strip().splitlines()[-1]
    assert link.startswith(f"{settings.SITE_URL}/accounts/invitation/")
    assert invitation_token_generator.check_token(admin, link.rstrip("/").split("/")[-1])  # ".../<uidb36>/<key>/"
    # The link leads (through a fresh allauth reset key) to allauth's set-password form, not to "bad token".
    response = client.get(urlsplit(link).path, follow=True)
    assert response.status_code == 200 and 'name="password1"' in response.text

    entries = AuditLogEntry.objects.order_by("pk")
    assert [(e.action, e.organisation, e.actor) for e in entries] == [
        (AuditAction.ORGANISATION_CREATED, trust, None),
        (AuditAction.ORGANISATION_CREATED, board, None),
        (AuditAction.ROLE_GRANTED, trust, None),
    ]
    assert "Created Oak Multi-Academy Trust" in output and "now an admin of Oak Multi-Academy Trust" in output


def test_the_trust_board_can_be_named_or_left_out():
    create_trust("--slug", "oak", "--board-name", "Oak Trustees")
    assert list(Organisation.objects.values_list("slug", "name")) == [
        ("oak", "Oak Multi-Academy Trust"),
        ("oak-trustees", "Oak Trustees"),
    ]


def test_without_a_board_only_the_trust_is_made():
    create_trust("--no-board")
    assert list(Organisation.objects.values_list("kind", flat=True)) == ["trust"]
    assert AuditLogEntry.objects.count() == 2


def test_an_existing_account_with_that_email_becomes_the_admin():
    operator = PersonFactory.create(email="ada@oak.example", full_name="Ada Operator", is_superuser=True)
    output = create_trust()
    assert Person.objects.get() == operator
    assert Role.objects.get().person == operator
    assert "Found the existing account of Ada Operator" in output


def test_it_refuses_once_any_organisation_exists():
    OrganisationFactory.create(name="Elm Trust", slug="elm")
    before = table_counts()
    with pytest.raises(CommandError, match="already has organisations"):
        create_trust()
    assert table_counts() == before


def test_the_refusal_is_a_command_error_so_manage_py_exits_non_zero():
    OrganisationFactory.create(name="Elm Trust", slug="elm")
    with pytest.raises(CommandError) as refused:
        create_trust()
    # manage.py prints a CommandError and exits with its return code (run_from_argv is not called here:
    # it closes the database connections, which a test's transaction still needs).
    assert refused.value.returncode != 0
    assert Organisation.objects.count() == 1


@pytest.mark.parametrize(
    "changes, problem",
    [
        ({"--admin-email": "not-an-address"}, "admin_email"),
        ({"--admin-name": "  "}, "admin_name"),
        ({"--name": "N" * 201}, "name"),
        ({"--slug": "no spaces please"}, "slug"),
        ({"--board-name": "B" * 201}, "board_name"),
    ],
)
def test_bad_input_creates_nothing(changes: dict[str, str], problem: str):
    arguments: list[Any] = list(ARGUMENTS)
    for option, value in changes.items():
        if option in arguments:
            arguments[arguments.index(option) + 1] = value
        else:
            arguments += [option, value]
    before = table_counts()
    with pytest.raises(CommandError, match=f"Nothing was created. .*{problem}:"):
        call_command("create_trust", *arguments, stdout=StringIO())
    assert table_counts() == before
