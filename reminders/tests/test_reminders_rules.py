"""Who manages reminders (conduct.permissions): admins, for the organisations they administer, and nobody else."""

from __future__ import annotations

from typing import cast

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from conduct.models import Person
from conduct.permissions import codes_for_reminders, manages_reminders, organisations_for_reminders, reminders_q
from conduct.tests.factories import CodeFactory, trust_tree
from reminders.models import ReminderLog
from reminders.tests.reminder_helpers import member, officer

pytestmark = pytest.mark.django_db


def anonymous() -> Person:
    """The visitor a template passes in; the rules take it as they take a person."""
    return cast(Person, AnonymousUser())


def test_reminders_are_managed_by_admins_for_what_they_administer_only():
    oak, elm = trust_tree("Oak Trust"), trust_tree("Elm Trust")
    oak_code = CodeFactory.create(owner=oak["trust"], slug="oak-staff")
    north_code = CodeFactory.create(owner=oak["north"], slug="north-staff")
    CodeFactory.create(owner=elm["trust"], slug="elm-staff")
    admin = officer(oak["trust"], "admin", "Oak Admin")
    school_admin = officer(oak["north"], "admin", "North Admin")
    clerk = officer(oak["board"], "clerk", "Oak Clerk")
    teacher = member(oak["north"], "employee", "Oak Teacher")
    oak_reminder = ReminderLog.objects.create(
        recipient=teacher,
        organisation=oak["north"],
        kind="signing",
        step="due",
        subject="obligation:1",
        planned_for=timezone.localdate(),
    )

    assert set(organisations_for_reminders(admin)) == set(oak.values())
    assert manages_reminders(admin) and manages_reminders(school_admin)
    assert set(codes_for_reminders(admin)) == {oak_code, north_code}
    assert set(codes_for_reminders(school_admin)) == {north_code}
    assert list(ReminderLog.objects.filter(reminders_q(admin, "organisation"))) == [oak_reminder]
    assert list(ReminderLog.objects.filter(reminders_q(school_admin, "organisation"))) == [oak_reminder]
    for nobody in (clerk, teacher, officer(elm["trust"], "admin", "Elm Admin"), anonymous()):
        assert not codes_for_reminders(nobody).filter(owner__path__startswith=oak["trust"].path).exists()
        assert not ReminderLog.objects.filter(reminders_q(nobody, "organisation")).exists()
    for not_an_admin in (clerk, teacher, anonymous()):
        assert not organisations_for_reminders(not_an_admin).exists() and not manages_reminders(not_an_admin)
