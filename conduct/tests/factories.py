"""factory_boy factories for the conduct models, plus builders for whole versions and adoptions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import factory
from django.utils import timezone

from conduct import models
from conduct.services import (
    AdoptionRequest,
    adoption_record,
    version_create_from_content,
)

PASSWORD = "correct-horse-battery"


class OrganisationFactory(factory.django.DjangoModelFactory[models.Organisation]):
    class Meta:
        model = models.Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    kind = models.OrganisationKind.TRUST


class PersonFactory(factory.django.DjangoModelFactory[models.Person]):
    class Meta:
        model = models.Person
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj: models.Person, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class RoleFactory(factory.django.DjangoModelFactory[models.Role]):
    class Meta:
        model = models.Role

    person = factory.SubFactory(PersonFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    kind = models.RoleKind.EMPLOYEE
    starts_on = date(2020, 9, 1)


class CodeFactory(factory.django.DjangoModelFactory[models.Code]):
    class Meta:
        model = models.Code

    owner = factory.SubFactory(OrganisationFactory)
    title = factory.Sequence(lambda n: f"Code of Conduct {n}")
    slug = factory.Sequence(lambda n: f"code-{n}")
    audience = factory.LazyFunction(lambda: ["employee"])


class MeetingFactory(factory.django.DjangoModelFactory[models.Meeting]):
    class Meta:
        model = models.Meeting

    board = factory.SubFactory(OrganisationFactory, kind=models.OrganisationKind.BOARD)
    held_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=1))
    kind = models.MeetingKind.FULL_BOARD


def clause(text: str, **fields: Any) -> dict[str, Any]:
    return {
        "number": "",
        "style": "paragraph",
        "depth": 0,
        "term": "",
        "text": text,
        "roles": [],
        "new": False,
        **fields,
    }


def simple_sections() -> list[dict[str, Any]]:
    """A small code with everything the renderer handles: numbering, lists, roles, new statements."""
    return [
        {
            "number": "1",
            "title": "Duties",
            "clauses": [
                clause("We must all act fairly.", number="1.1", style="numbered"),
                clause("Treat people with respect", style="bullet", depth=1),
                clause("Keep records", style="bullet", depth=1),
                clause("Trustees: We oversee finance.", roles=["trustee"], new=True),
                clause("Governors see this detail", style="bullet", depth=1, roles=["trustee"]),
                clause("Those governing at local level: We champion our school.", roles=["local_governor"]),
            ],
        },
        {
            "number": "",
            "title": "Appendix",
            "clauses": [
                clause("Always:", style="subheading"),
                clause("…be kind", style="always", depth=1),
                clause("Never:", style="subheading"),
                clause("…shout", style="never", depth=1),
            ],
        },
    ]


def make_version(
    code: models.Code, label: str = "2025-2026", sections: Iterable[dict] | None = None, **kwargs
) -> models.CodeVersion:
    return version_create_from_content(code=code, label=label, sections=list(sections or simple_sections()), **kwargs)


def first_clause(version: models.CodeVersion) -> models.Clause:
    """The version's first clause (as ``Clause.objects`` orders them): there must be one."""
    clause = models.Clause.objects.filter(section__version=version).first()
    assert clause is not None, f"{version} has no clauses"
    return clause


def make_chair(
    board: models.Organisation, person: models.Person | None = None, since: date = date(2020, 1, 1)
) -> models.Person:
    person = person or PersonFactory.create()
    RoleFactory.create(person=person, organisation=board, kind=models.RoleKind.CHAIR, starts_on=since)
    return person


def adopt(
    version: models.CodeVersion,
    board: models.Organisation,
    *,
    chair: models.Person | None = None,
    held_on: date | None = None,
    includes_sub_organisations: bool = True,
    **request: Any,
) -> models.Adoption:
    """Adopt a version at a new meeting of the board, signed by its chair (made one if needed)."""
    chair = (
        chair
        or models.Person.objects.filter(roles__organisation=board, roles__kind="chair").first()
        or make_chair(board)
    )
    held_on = held_on or timezone.localdate() - timedelta(days=1)
    meeting = MeetingFactory.create(board=board, held_on=held_on)
    return adoption_record(
        request=AdoptionRequest(
            version=version,
            board=board,
            meeting=meeting,
            chair=chair,
            chair_signature=chair.full_name,
            effective_on=request.pop("effective_on", held_on),
            includes_sub_organisations=includes_sub_organisations,
            **request,
        ),
        recorded_by=chair,
        today=max(timezone.localdate(), held_on),
    )


def trust_tree(name: str = "Trust") -> dict[str, models.Organisation]:
    """A trust with two academies, a trust board governing it and a local board per academy."""
    slug = name.lower().replace(" ", "-")
    trust = OrganisationFactory.create(name=name, slug=slug, kind=models.OrganisationKind.TRUST)
    north = OrganisationFactory.create(name=f"{name} North Academy", slug=f"{slug}-north", kind="school", parent=trust)
    south = OrganisationFactory.create(name=f"{name} South Academy", slug=f"{slug}-south", kind="school", parent=trust)
    board = OrganisationFactory.create(
        name=f"{name} Board", slug=f"{slug}-board", kind="board", parent=trust, governs=trust
    )
    north_lgb = OrganisationFactory.create(
        name=f"{name} North LGB", slug=f"{slug}-north-lgb", kind="board", parent=board, governs=north
    )
    south_lgb = OrganisationFactory.create(
        name=f"{name} South LGB", slug=f"{slug}-south-lgb", kind="board", parent=board, governs=south
    )
    return {
        "trust": trust,
        "north": north,
        "south": south,
        "board": board,
        "north_lgb": north_lgb,
        "south_lgb": south_lgb,
    }
