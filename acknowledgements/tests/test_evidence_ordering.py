"""The events a signature's hash covers are exactly those committed before it (PostgreSQL, real transactions).

The hash covers the person's invitations up to the moment of signing. An invitation
stamped before that moment but committed after the hash was made would join every
later recomputation, and the record would read as altered for good. Writers of
those events and signers take the person's row in turn, so that cannot happen.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.utils import timezone

from acknowledgements import invitations
from acknowledgements.evidence import acknowledgement_evidence_hash
from acknowledgements.models import Acknowledgement, AuditEvent, EventKind, Invitation
from acknowledgements.tests.factories import Owing, owing, sign
from conduct.models import Person
from conduct.tests.factories import PersonFactory, RoleFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_thread(work: Callable[[], object], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _invite_again(who: Owing, admin: Person) -> Callable[[], object]:
    return lambda: invitations.invitation_create(
        invited_by=admin,
        full_name=who.person.full_name,
        email=who.person.email,
        organisation=who.orgs["south"],
        kind="volunteer",
        starts_on=timezone.localdate(),
    )


def _resend(who: Owing, admin: Person) -> Callable[[], object]:
    first = invitations.invitation_create(
        invited_by=admin,
        full_name=who.person.full_name,
        email=who.person.email,
        organisation=who.orgs["south"],
        kind="volunteer",
        starts_on=timezone.localdate(),
    ).invitation
    assert first is not None  # someone new is invited
    return lambda: invitations.invitation_resend(invitation=Invitation.objects.get(pk=first.pk), invited_by=admin)


@pytest.mark.parametrize("writer", [_invite_again, _resend], ids=["invite", "resend"])
def test_an_invitation_in_flight_while_the_person_signs_never_breaks_the_hash(monkeypatch, writer):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL: SQLite serialises writers, so nothing can interleave; CI runs the suite on PostgreSQL"
        )
    who = owing(full_name="Ada Lovelace")
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=who.orgs["trust"], kind="admin")
    invite = writer(who, admin)
    stamped, release = threading.Event(), threading.Event()

    def held_open(sent) -> None:
        # The invitation's event is stamped and inserted; its transaction stays open until released. Both
        # routes (a first invitation in a batch of one, a resend) queue their emails through _queue_sends.
        stamped.set()
        release.wait(timeout=30)

    monkeypatch.setattr(invitations, "_queue_sends", held_open)
    errors: list[BaseException] = []
    inviting = _in_thread(invite, errors)
    assert stamped.wait(timeout=30)
    signing = _in_thread(lambda: sign(who, issue_pdf=False), errors)
    signing.join(timeout=1)  # unguarded, the signature is hashed and committed here, blind to the open invitation
    release.set()
    inviting.join(timeout=60)
    signing.join(timeout=60)
    assert not errors, errors

    ack = Acknowledgement.objects.get(person=who.person, version=who.version)
    invited = AuditEvent.objects.filter(person=who.person, kind=EventKind.INVITED).latest("occurred_at")
    assert invited.occurred_at <= ack.signed_at  # the invitation came first, so it is part of the evidence
    assert acknowledgement_evidence_hash(ack) == ack.evidence_hash
