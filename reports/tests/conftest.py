"""A small trust with known people, signatures, a leaver and a joiner; and another trust beside it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from django.utils import timezone

from acknowledgements.models import Obligation
from conduct.models import Code, CodeVersion, Organisation, Person
from conduct.tests.factories import (
    CodeFactory,
    PersonFactory,
    RoleFactory,
    adopt,
    make_version,
    trust_tree,
)
from reports.tests.factories import days_ago, sign


@dataclass
class Scenario:
    orgs: dict[str, Organisation]
    code: Code
    version: CodeVersion
    admin: Person
    school_admin: Person
    teacher: Person
    people: dict[str, Person] = field(default_factory=dict)

    def obligations(self) -> list[Obligation]:
        return list(Obligation.objects.filter(version=self.version).select_related("role", "person", "organisation"))


def officer(organisation: Organisation, kind: str = "admin") -> Person:
    person = PersonFactory.create()
    RoleFactory.create(person=person, organisation=organisation, kind=kind, starts_on=date(2020, 1, 1))
    return person


def build_trust(
    name: str, *, staff: dict[str, int], signed: dict[str, list[int]], adopted_days_ago: int = 60
) -> Scenario:
    """A trust whose staff code was adopted ``adopted_days_ago`` days ago (due 30 days later).

    ``staff`` is how many employees each place has ("north", "south", "trust" for central staff);
    ``signed`` lists, per place, how many days ago each of its first employees signed.
    North also has a volunteer (signed 45 days ago), a joiner who started 5 days ago (not yet due)
    and South a leaver who left 10 days ago (unsigned).
    """
    orgs = trust_tree(name)
    today = timezone.localdate()
    code = CodeFactory.create(
        owner=orgs["trust"], title=f"{name} Staff Code", audience=["employee", "volunteer"], signing_due_days=30
    )
    people: dict[str, Person] = {}
    for place, count in staff.items():
        for index in range(count):
            person = PersonFactory.create(full_name=f"{place.title()} Employee {index:02d} {name}")
            RoleFactory.create(
                person=person, organisation=orgs[place], kind="employee", title="Teacher", starts_on=date(2019, 9, 1)
            )
            people[f"{place}-{index}"] = person
    people["volunteer"] = PersonFactory.create(full_name=f"Volunteer {name}")
    RoleFactory.create(
        person=people["volunteer"], organisation=orgs["north"], kind="volunteer", starts_on=date(2021, 1, 1)
    )
    people["joiner"] = PersonFactory.create(full_name=f"Joiner {name}")
    RoleFactory.create(
        person=people["joiner"], organisation=orgs["north"], kind="employee", starts_on=today - timedelta(days=5)
    )
    people["leaver"] = PersonFactory.create(full_name=f"Leaver {name}")
    RoleFactory.create(
        person=people["leaver"],
        organisation=orgs["south"],
        kind="employee",
        starts_on=date(2015, 9, 1),
        ends_on=today - timedelta(days=10),
    )
    version = make_version(code, label="2026-2027")
    adopt(version, orgs["board"], held_on=today - timedelta(days=adopted_days_ago))
    version.refresh_from_db()
    by_person = {
        o.person_id: o
        for o in Obligation.objects.filter(version=version).select_related("role", "organisation", "person", "version")
    }
    for place, ages in signed.items():
        for index, age in enumerate(ages):
            sign(by_person[people[f"{place}-{index}"].pk], at=days_ago(age), pdf=True)
    sign(by_person[people["volunteer"].pk], at=days_ago(45), pdf=True)
    return Scenario(
        orgs=orgs,
        code=code,
        version=version,
        admin=officer(orgs["trust"]),
        school_admin=officer(orgs["north"]),
        teacher=people[f"north-{len(signed.get('north', []))}"],
        people=people,
    )


@pytest.fixture
def oak(db) -> Scenario:
    return build_trust(
        "Oak Trust",
        staff={"north": 6, "south": 4, "trust": 2},
        signed={"north": [50, 40, 20, 2], "south": [35, 1], "trust": [10]},
    )


@pytest.fixture
def elm(db) -> Scenario:
    return build_trust("Elm Trust", staff={"north": 3, "south": 2, "trust": 1}, signed={"north": [5], "south": [3]})
