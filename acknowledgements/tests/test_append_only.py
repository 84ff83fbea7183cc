"""Evidence is append-only: no view, no admin action, no ORM call and no SQL statement edits or deletes it."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    Declaration,
    Interest,
    SealedPdf,
)
from acknowledgements.tests.factories import business_interest, sign
from conduct.tests.factories import PersonFactory
from core.exceptions import AppendOnlyViolation

pytestmark = pytest.mark.django_db
Evidence = Acknowledgement | AuditEvent | Declaration | Interest | SealedPdf
EVIDENCE: list[type[Evidence]] = [Acknowledgement, AuditEvent, Declaration, Interest, SealedPdf]


@pytest.fixture
def evidence(declaring):
    ack = sign(declaring, declaration=business_interest(), issue_pdf=False).acknowledgement
    acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    return ack


def first_row(model: type[Evidence]) -> Evidence:
    row = model.objects.first()
    assert row is not None, f"the evidence fixture made no {model._meta.verbose_name}"
    return row


@pytest.fixture
def operator(client_for):
    return client_for(PersonFactory.create(is_staff=True, is_superuser=True))


def test_the_admin_offers_no_change_add_or_delete_even_to_a_superuser(evidence, operator):
    for model in EVIDENCE:
        row = first_row(model)
        name = f"admin:acknowledgements_{model._meta.model_name}"
        assert operator.get(reverse(f"{name}_add")).status_code == 403
        assert operator.post(reverse(f"{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
        change = operator.get(reverse(f"{name}_change", args=[row.pk]))
        assert change.status_code == 200 and b'name="_save"' not in change.content  # read-only view
        assert operator.post(reverse(f"{name}_change", args=[row.pk]), {}).status_code == 403
        changelist = operator.get(reverse(f"{name}_changelist")).content.decode()
        assert "delete_selected" not in changelist
        assert model.objects.filter(pk=row.pk).exists()


def test_the_orm_refuses_to_edit_or_delete(evidence):
    for model in EVIDENCE:
        row = first_row(model)
        with pytest.raises(AppendOnlyViolation):
            row.save()
        with pytest.raises(AppendOnlyViolation):
            row.delete()
        with pytest.raises(AppendOnlyViolation):
            model.objects.filter(pk=row.pk).update(id=row.pk)
        with pytest.raises(AppendOnlyViolation):
            model.objects.filter(pk=row.pk).delete()
    evidence.refresh_from_db()
    assert evidence.typed_name == "Grace Hopper"


def test_the_database_refuses_an_update_by_raw_sql(evidence):
    for table in ("acknowledgements_acknowledgement", "acknowledgements_declaration", "acknowledgements_interest"):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET id = id")
    assert Acknowledgement.objects.get().typed_name == "Grace Hopper"


def test_postgresql_also_refuses_a_delete_by_raw_sql(evidence):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite keeps DELETE for the test flush; CI runs the suite on PostgreSQL")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM acknowledgements_acknowledgement")
    assert Acknowledgement.objects.exists()


def test_no_url_edits_or_deletes_a_record(evidence, client_for):
    from django.urls import get_resolver

    names = [name for name in get_resolver().reverse_dict if isinstance(name, str)]
    assert not [
        n for n in names if any(word in n for word in ("ack_edit", "ack_delete", "record_edit", "record_delete"))
    ]
    client = client_for(evidence.person)
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(evidence.get_absolute_url()).status_code in (403, 405)
    assert client.post(evidence.get_absolute_url(), {"typed_name": "Changed"}).status_code == 405
    evidence.refresh_from_db()
    assert evidence.typed_name == "Grace Hopper"
