"""The sweep with RETENTION_AUTO_ERASE: the real erasure service, legal holds respected, other people untouched."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from conduct.models import AuditAction, AuditLogEntry, Person, Role
from privacy.erasure import erased_name
from privacy.holds import legal_hold_set
from privacy.models import ErasureRecord
from privacy.retention import people_due_for_erasure, retention_apply, years_after
from privacy.tests.factories import signed_person

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _left(person: Person, on: date) -> None:
    Role.objects.filter(person=person).update(starts_on=date(1990, 1, 1), ends_on=on)


def test_auto_erase_erases_whoever_is_due_and_skips_a_legal_hold(settings, django_capture_on_commit_callbacks):
    settings.RETENTION_AUTO_ERASE = True
    due = signed_person()
    held = signed_person(trust="Ash Trust", full_name="Hester Heldwood", email="hester.heldwood@example.org")
    recent = signed_person(trust="Elm Trust", full_name="Rowan Recent", email="rowan.recent@example.org")
    legal_hold_set(actor=held.admin, person=held.person, reason="Employment tribunal claim lodged")
    _left(due.person, years_after(TODAY, -7))
    _left(held.person, years_after(TODAY, -7))
    _left(recent.person, years_after(TODAY, -5))

    with django_capture_on_commit_callbacks(execute=True):
        result = retention_apply(now=timezone.now())

    assert result.people("erased") == {due.person.pk}
    assert result.people("held") == {held.person.pk}
    assert result.people("refused") == set()
    record = ErasureRecord.objects.get(person=due.person)
    assert (record.basis, record.erased_by) == ("retention_ended", None)
    assert Person.objects.get(pk=due.person.pk).full_name == erased_name(due.person.pk)
    assert AuditLogEntry.objects.filter(action=AuditAction.PERSON_ERASED, subject=due.person).count() == 1
    # The held and the recent leaver are untouched.
    assert Person.objects.get(pk=held.person.pk).full_name == "Hester Heldwood"
    assert Person.objects.get(pk=recent.person.pk).full_name == "Rowan Recent"
    assert not ErasureRecord.objects.exclude(person=due.person).exists()
    entries = {
        entry.organisation.slug if entry.organisation else "": entry.details
        for entry in AuditLogEntry.objects.filter(action=AuditAction.RETENTION_APPLIED).select_related("organisation")
    }
    assert entries["oak-trust"]["erased"] == [due.person.pk]
    assert entries["ash-trust"]["on_legal_hold"] == [held.person.pk]
    assert "elm-trust" not in entries

    # The next night: the erased person is no longer due; the hold still keeps the other.
    assert [entry.person.pk for entry in people_due_for_erasure(organisation=None)] == [held.person.pk]
    with django_capture_on_commit_callbacks(execute=True):
        tomorrow = retention_apply(now=timezone.now() + timedelta(days=1))
    assert tomorrow.people("erased") == set()
    assert ErasureRecord.objects.count() == 1
