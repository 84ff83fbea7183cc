"""Two trusts with their officers and people, some owing the trust's code, for the people pages' tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from django.utils import timezone

from acknowledgements.tests.factories import Owing, owing, sign
from conduct.models import Organisation, Person
from conduct.services import role_create
from conduct.tests.factories import PersonFactory, RoleFactory


@dataclass
class World:
    oak: Owing  # Ada, employee at Oak North, owes Oak's staff code
    elm: Owing  # Grace, employee at Elm North, owes Elm's staff code
    orgs: dict[str, Organisation]
    elm_orgs: dict[str, Organisation]
    trust_admin: Person
    school_admin: Person  # admin of Oak North only
    clerk: Person  # clerk of Oak North LGB
    elm_admin: Person
    governor: Person  # local governor on Oak North LGB
    south_staff: Person  # employee at Oak South


@pytest.fixture
def world(db) -> World:
    oak = owing(
        full_name="Ada Lovelace", email="ada@oak.example.org", held_on=timezone.localdate() - timedelta(days=40)
    )
    elm = owing(name="Elm Trust", full_name="Grace Hopper", email="grace@elm.example.org")
    orgs, elm_orgs = oak.orgs, elm.orgs

    def officer(name: str, organisation: Organisation, kind: str) -> Person:
        person = PersonFactory.create(full_name=name, email=f"{name.split()[0].lower()}@officers.example.org")
        RoleFactory.create(person=person, organisation=organisation, kind=kind, starts_on=date(2019, 9, 1))
        return person

    governor = PersonFactory.create(full_name="Gita Governor", email="gita@oak.example.org")
    RoleFactory.create(
        person=governor, organisation=orgs["north_lgb"], kind="local_governor", starts_on=date(2022, 9, 1)
    )
    south_staff = PersonFactory.create(full_name="Sam South", email="sam@oak.example.org")
    role_create(person=south_staff, organisation=orgs["south"], kind="employee", starts_on=date(2021, 9, 1))
    return World(
        oak=oak,
        elm=elm,
        orgs=orgs,
        elm_orgs=elm_orgs,
        trust_admin=officer("Tara Admin", orgs["trust"], "admin"),
        school_admin=officer("Nina Northadmin", orgs["north"], "admin"),
        clerk=officer("Clive Clerk", orgs["north_lgb"], "clerk"),
        elm_admin=officer("Eli Elmadmin", elm_orgs["trust"], "admin"),
        governor=governor,
        south_staff=south_staff,
    )


__all__ = ["World", "sign"]
