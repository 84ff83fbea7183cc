"""Builders for erasure tests: a signer with every kind of personal row, and an admin of their trust."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.utils import timezone

from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import Acknowledgement, SealedPdf
from acknowledgements.tests.factories import Owing, business_interest, owing, sign
from conduct.models import Person, Role
from conduct.tests.factories import PersonFactory, RoleFactory
from core.request_meta import AuthMethod, RequestMeta

SIGNER_NAME = "Philippa Quorndon-Vask"
SIGNER_EMAIL = "philippa.qv@example.org"
SIGNER_IP = "198.51.100.77"
SIGNER_AGENT = "Mozilla/5.0 (Erasure test browser 9.7)"
COUNTERPARTY = "Quorndon Joinery Ltd"
NATURE = "Director of Quorndon Joinery"


@dataclass
class Signed:
    who: Owing
    acknowledgement: Acknowledgement
    pdf: SealedPdf
    admin: Person

    @property
    def person(self) -> Person:
        return self.who.person


def signed_person(
    *, trust: str = "Oak Trust", full_name: str = SIGNER_NAME, email: str = SIGNER_EMAIL, still_here: bool = False
) -> Signed:
    """Someone who signed a code with a declaration of a business interest, with their PDF issued and a receipt;
    they left a month ago (erasure is refused while a role is held) unless ``still_here``."""
    who = owing(name=trust, requires_declaration=True, full_name=full_name, email=email)
    meta = RequestMeta(ip_address=SIGNER_IP, user_agent=SIGNER_AGENT, auth_method=AuthMethod.PASSWORD)
    result = sign(who, declaration=business_interest(COUNTERPARTY, NATURE), meta=meta)
    pdf = acknowledgement_pdf_issue(acknowledgement_id=result.acknowledgement.pk, send_receipt=True)
    admin = PersonFactory.create(full_name="Trust Admin")
    RoleFactory.create(person=admin, organisation=who.orgs["trust"], kind="admin", starts_on=date(2019, 1, 1))
    if not still_here:
        roles_end(who.person, timezone.localdate() - timedelta(days=30))
    return Signed(who=who, acknowledgement=result.acknowledgement, pdf=pdf, admin=admin)


def roles_end(person: Person, on: date) -> None:
    Role.objects.filter(person=person).update(ends_on=on)


def every_text_value() -> list[tuple[str, str, str]]:
    """Every text-like value in every table of the database, as (table, column, value)."""
    found = []
    introspection = connection.introspection
    with connection.cursor() as cursor:
        for table in introspection.table_names(cursor):
            columns = [column.name for column in introspection.get_table_description(cursor, table)]
            quoted = ", ".join(connection.ops.quote_name(name) for name in columns)
            cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(table)}")  # noqa: S608 (own tables)
            for row in cursor.fetchall():
                for name, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("latin-1")
                    if value is not None and not isinstance(value, int | float | bool):
                        found.append((table, name, str(value)))
    return found


def occurrences(needles: list[str]) -> list[tuple[str, str, str]]:
    lowered = [needle.lower() for needle in needles]
    return [
        (table, column, value[:120])
        for table, column, value in every_text_value()
        if any(needle in value.lower() for needle in lowered)
    ]
