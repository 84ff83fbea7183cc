"""Builders for signing tests: someone who owes an adopted version, and their signature."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.mail import EmailMessage
from django.db import connection

from acknowledgements.declarations import DeclarationData, InterestData
from acknowledgements.models import Obligation
from acknowledgements.signing import SignResult, acceptance_statement, acknowledgement_sign
from conduct.models import Code, CodeVersion, Organisation, Person
from conduct.tests.factories import (
    CodeFactory,
    PersonFactory,
    RoleFactory,
    adopt,
    clause,
    make_version,
    trust_tree,
)
from core.db.triggers import append_only_triggers
from core.request_meta import AuthMethod, RequestMeta

META = RequestMeta(ip_address="192.0.2.10", user_agent="Mozilla/5.0 (test browser)", auth_method=AuthMethod.PASSWORD)
NOTHING = DeclarationData(nothing_to_declare=True)


def business_interest(counterparty: str = "Acme Building Ltd", nature: str = "Director") -> DeclarationData:
    return DeclarationData(
        nothing_to_declare=False,
        interests=(
            InterestData(kind="business", counterparty=counterparty, nature=nature, starts_on=date(2020, 1, 1)),
        ),
    )


@dataclass
class Owing:
    """A person who owes an adopted version of a code, and where."""

    person: Person
    version: CodeVersion
    code: Code
    orgs: dict[str, Organisation]

    @property
    def obligation(self) -> Obligation:
        return Obligation.objects.get(person=self.person, version=self.version)


def owing(
    *,
    name: str = "Oak Trust",
    kind: str = "employee",
    where: str = "north",
    audience: list[str] | None = None,
    requires_declaration: bool = False,
    sections: list[dict] | None = None,
    person: Person | None = None,
    held_on: date | None = None,
    **person_fields: Any,
) -> Owing:
    """A trust tree, a code adopted by its board for everyone below, and a person in it who owes the code."""
    orgs = trust_tree(name)
    code = CodeFactory.create(
        owner=orgs["trust"],
        title=f"{name} Code of Conduct",
        audience=audience or [kind],
        requires_declaration=requires_declaration,
        declaration_prompt="Declare any interest that could conflict with your role." if requires_declaration else "",
    )
    person = person or PersonFactory.create(**person_fields)
    RoleFactory.create(person=person, organisation=orgs[where], kind=kind, starts_on=date(2020, 9, 1))
    version = make_version(code, sections=sections)
    adopt(version, orgs["board"], held_on=held_on)
    version.refresh_from_db()
    return Owing(person=person, version=version, code=code, orgs=orgs)


def sign(
    who: Owing,
    *,
    declaration: DeclarationData | None = None,
    meta: RequestMeta = META,
    typed_name: str | None = None,
    at: datetime | None = None,
    issue_pdf: bool = True,
) -> SignResult:
    return acknowledgement_sign(
        person=who.person,
        version=who.version,
        typed_name=typed_name if typed_name is not None else who.person.full_name,
        statement=acceptance_statement(who.version),
        declaration=declaration if declaration is not None else (NOTHING if who.code.requires_declaration else None),
        request_meta=meta,
        at=at,
        issue_pdf=issue_pdf,
    )


def governance_sections() -> list[dict]:
    """A governance code with statements for everyone, for trustees only and for local governors only."""
    return [
        {
            "number": "",
            "title": "Our commitments",
            "clauses": [
                clause("We will act in the best interests of the pupils.", key="everyone"),
                clause(
                    "Trustees: We will fulfil our responsibilities as a good employer.",
                    roles=["trustee"],
                    key="trustees",
                ),
                clause(
                    "Those governing at local level: We will act as the local ambassadors.",
                    roles=["local_governor"],
                    key="locals",
                ),
            ],
        }
    ]


def email_part(message: EmailMessage, pattern: str, flags: int = 0) -> str:
    """What ``pattern``'s first group matches in the email's body (a link, a sign-in code); it must be there."""
    body = str(message.body)  # typed as possibly lazy; an outbox message's body is a str
    match = re.search(pattern, body, flags)
    assert match is not None, f"{pattern!r} is not in the email: {body}"
    return match.group(1)


def tamper(table: str, pk: int, column: str, value: Any) -> None:
    """Change a stored evidence row behind the application's back, as someone with database access could.

    The append-only trigger is dropped for the one statement, then put back.
    """

    triggers = append_only_triggers([table])
    vendor = connection.vendor
    drop = triggers.postgresql_reverse if vendor == "postgresql" else triggers.sqlite_reverse
    create = triggers.postgresql if vendor == "postgresql" else triggers.sqlite
    with connection.cursor() as cursor:
        for statement in drop:
            cursor.execute(statement)
        try:
            cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])
        finally:
            for statement in create:
                cursor.execute(statement)
