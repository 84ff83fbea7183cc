"""The append-only triggers let through exactly the erasure's blanking, under its permit, and nothing else."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from acknowledgements.models import Acknowledgement, Declaration, Interest
from privacy.models import ErasurePermit
from privacy.tests.factories import SIGNER_NAME, signed_person

pytestmark = pytest.mark.django_db
only_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the permit's transaction id is PostgreSQL's (txid_current)"
)


def _sql(statement: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


def _permit(person_id: int, *, txid: int | None = None) -> ErasurePermit:
    if txid is None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT txid_current()")
            txid = cursor.fetchone()[0]
    return ErasurePermit.objects.create(txid=txid or 0, person_id=person_id)


BLANKED = "typed_name = '', ip_address = NULL, user_agent = '', on_behalf_reason = '', correction_reason = ''"


def _typed_name(ack_id: int) -> str:
    return Acknowledgement.objects.values_list("typed_name", flat=True).get(pk=ack_id)


def test_a_plain_update_outside_the_service_is_refused():
    ack = signed_person().acknowledgement
    with pytest.raises(DatabaseError, match="append-only"):
        _sql(f"UPDATE acknowledgements_acknowledgement SET {BLANKED} WHERE id = %s", [ack.pk])
    assert _typed_name(ack.pk) == SIGNER_NAME


def test_under_the_permit_only_blanking_personal_columns_passes():
    signed = signed_person()
    ack = signed.acknowledgement
    _permit(signed.person.pk)
    with pytest.raises(DatabaseError, match="append-only"):  # a personal column set to another value
        _sql("UPDATE acknowledgements_acknowledgement SET typed_name = 'Someone Else' WHERE id = %s", [ack.pk])
    with pytest.raises(DatabaseError, match="append-only"):  # a column in clear, even with the blanking
        _sql(
            f"UPDATE acknowledgements_acknowledgement SET {BLANKED}, evidence_hash = %s WHERE id = %s",
            ["0" * 64, ack.pk],
        )
    assert _typed_name(ack.pk) == SIGNER_NAME

    with pytest.raises(DatabaseError, match="append-only"):  # only some of them: the rest must go too
        _sql("UPDATE acknowledgements_acknowledgement SET typed_name = '' WHERE id = %s", [ack.pk])
    _sql(f"UPDATE acknowledgements_acknowledgement SET {BLANKED} WHERE id = %s", [ack.pk])
    assert _typed_name(ack.pk) == ""
    assert Acknowledgement.objects.get(pk=ack.pk).evidence_hash == ack.evidence_hash


@only_postgresql
def test_a_permit_left_by_another_transaction_permits_nothing():
    signed = signed_person()
    _permit(signed.person.pk, txid=1)  # not this transaction's id
    with pytest.raises(DatabaseError, match="append-only"):
        _sql(f"UPDATE acknowledgements_acknowledgement SET {BLANKED} WHERE id = %s", [signed.acknowledgement.pk])
    assert _typed_name(signed.acknowledgement.pk) == SIGNER_NAME


@only_postgresql
def test_under_the_permit_interests_may_be_deleted_but_declarations_may_not():
    signed = signed_person()
    declaration = Declaration.objects.get(person=signed.person)
    interest = Interest.objects.get(declaration=declaration)
    _permit(signed.person.pk)
    with pytest.raises(DatabaseError, match="append-only"):
        _sql("DELETE FROM acknowledgements_declaration WHERE id = %s", [declaration.pk])
    _sql("DELETE FROM acknowledgements_interest WHERE id = %s", [interest.pk])
    assert not Interest.objects.filter(pk=interest.pk).exists()
    assert Declaration.objects.filter(pk=declaration.pk).exists()


@only_postgresql
def test_without_a_permit_an_interest_cannot_be_deleted():
    signed = signed_person()
    interest = Interest.objects.get(declaration__person=signed.person)
    with pytest.raises(DatabaseError, match="append-only"):
        _sql("DELETE FROM acknowledgements_interest WHERE id = %s", [interest.pk])
    assert Interest.objects.filter(pk=interest.pk).exists()
