"""The officers' audit log: one service writes it, one selector reads it, nothing edits or deletes it."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from conduct.audit import audit_log_entries, audit_log_record
from conduct.models import AuditAction, AuditLogEntry, Organisation, Person
from conduct.permissions import can_view_audit_log
from conduct.tests.factories import PersonFactory, RoleFactory
from core.exceptions import AppendOnlyViolation


def record(organisation: Organisation, *, actor: Person | None = None) -> AuditLogEntry:
    return audit_log_record(
        actor=actor,
        action=AuditAction.ORGANISATION_RENAMED,
        organisation=organisation,
        target=organisation,
        summary=f"Renamed {organisation.name}.",
        details={"on": date(2026, 9, 1), "at": datetime(2026, 9, 1, 9, 30, tzinfo=timezone.get_current_timezone())},
    )


def entry_at(organisation: Organisation, at: datetime) -> AuditLogEntry:
    """An entry at a chosen time (the service always stamps now), to test the order entries are read in."""
    return AuditLogEntry.objects.create(
        action=AuditAction.ORGANISATION_RENAMED, organisation=organisation, summary="Renamed.", at=at
    )


def test_an_entry_names_who_did_what_to_which_row(tree):
    actor = PersonFactory.create()
    entry = record(tree["north"], actor=actor)
    saved = AuditLogEntry.objects.get(pk=entry.pk)
    assert (saved.actor, saved.action, saved.organisation) == (actor, "organisation_renamed", tree["north"])
    assert (saved.target_type, saved.target_id) == ("conduct.organisation", str(tree["north"].pk))
    # Dates as ISO strings and times in UTC, as in the evidence.
    assert saved.details == {"on": "2026-09-01", "at": "2026-09-01T08:30:00Z"}
    assert saved.summary == "Renamed Oak Trust North Academy."


def test_an_entry_without_an_actor_or_target_is_the_operators(db):
    entry = audit_log_record(
        actor=None, action=AuditAction.ORGANISATION_CREATED, organisation=None, summary="First-run set-up."
    )
    saved = AuditLogEntry.objects.get(pk=entry.pk)
    assert (saved.actor, saved.organisation, saved.target_type, saved.target_id, saved.details) == (
        None,
        None,
        "",
        "",
        {},
    )


def test_an_organisations_entries_come_newest_first_and_optionally_with_those_below(tree, other_tree):
    now = timezone.now()
    old = entry_at(tree["trust"], now - timedelta(days=2))
    new = entry_at(tree["trust"], now - timedelta(days=1))
    below = entry_at(tree["north"], now)
    entry_at(other_tree["trust"], now)
    assert list(audit_log_entries(tree["trust"])) == [new, old]
    assert list(audit_log_entries(tree["trust"], include_sub_organisations=True)) == [below, new, old]
    assert list(audit_log_entries(tree["north"], include_sub_organisations=True)) == [below]


def test_only_admins_of_the_organisation_or_above_read_its_log(tree, other_tree):
    trust_admin, school_admin, clerk = PersonFactory.create(), PersonFactory.create(), PersonFactory.create()
    RoleFactory.create(person=trust_admin, organisation=tree["trust"], kind="admin")
    RoleFactory.create(person=school_admin, organisation=tree["north"], kind="admin")
    RoleFactory.create(person=clerk, organisation=tree["board"], kind="clerk")
    assert can_view_audit_log(trust_admin, tree["north"]) and can_view_audit_log(trust_admin, tree["trust"])
    assert can_view_audit_log(school_admin, tree["north"]) and not can_view_audit_log(school_admin, tree["trust"])
    assert not can_view_audit_log(clerk, tree["board"])
    assert not can_view_audit_log(trust_admin, other_tree["trust"])


def test_the_orm_refuses_to_edit_or_delete_an_entry(tree):
    entry = record(tree["north"])
    entry.summary = "Tampered."
    with pytest.raises(AppendOnlyViolation):
        entry.save()
    with pytest.raises(AppendOnlyViolation):
        entry.delete()
    with pytest.raises(AppendOnlyViolation):
        AuditLogEntry.objects.filter(pk=entry.pk).update(summary="Tampered.")
    with pytest.raises(AppendOnlyViolation):
        AuditLogEntry.objects.filter(pk=entry.pk).delete()
    assert AuditLogEntry.objects.get(pk=entry.pk).summary == "Renamed Oak Trust North Academy."


def test_the_database_refuses_an_update_by_raw_sql(tree):
    entry = record(tree["north"])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE conduct_auditlogentry SET summary = 'Tampered.'")
    assert AuditLogEntry.objects.get(pk=entry.pk).summary == "Renamed Oak Trust North Academy."


def test_postgresql_also_refuses_a_delete_by_raw_sql(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite keeps DELETE for the test flush; CI runs the suite on PostgreSQL")
    record(tree["north"])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM conduct_auditlogentry")
    assert AuditLogEntry.objects.count() == 1


def test_the_django_admin_shows_entries_but_offers_no_change(tree, client_for):
    entry = record(tree["north"])
    operator = client_for(PersonFactory.create(is_staff=True, is_superuser=True))
    assert "Renamed Oak Trust North Academy." in operator.get(reverse("admin:conduct_auditlogentry_changelist")).text
    assert operator.get(reverse("admin:conduct_auditlogentry_add")).status_code == 403
    change = operator.get(reverse("admin:conduct_auditlogentry_change", args=[entry.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.text
    assert (
        operator.post(reverse("admin:conduct_auditlogentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()
