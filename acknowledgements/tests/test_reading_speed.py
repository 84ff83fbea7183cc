"""The reading page and the sign POST at speed: a fixed, small number of queries; the comparison with the version
the reader signed before computed once per pair of versions and role view; a reload takes no lock."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from acknowledgements import reading as reading_module
from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    EmailKind,
    EmailStatus,
    EventKind,
    Obligation,
    OutgoingEmail,
)
from acknowledgements.tests.factories import owing, sign
from acknowledgements.tests.test_reading import first_sections, second_sections
from conduct.models import Person
from conduct.tests.factories import PersonFactory, RoleFactory, adopt, make_version
from core.models import ChainHead, EvidenceLink, EvidenceSalt

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_governors(db):
    """Two local governors of the same board who signed last year's version; this year's is adopted since."""
    who = owing(
        name="Rowan Trust",
        kind="local_governor",
        where="north_lgb",
        audience=["local_governor", "trustee"],
        sections=first_sections(),
        full_name="Tom Hughes",
    )
    other = PersonFactory.create(full_name="Ann Lee")
    RoleFactory.create(person=other, organisation=who.orgs["north_lgb"], kind="local_governor")
    sign(who)
    Obligation.objects.filter(person=other).delete()  # Ann joins the sign-off below with her own obligation
    second = make_version(who.code, label="2026-2027", sections=second_sections(), based_on=who.version)
    adopt(second, who.orgs["board"])
    second.refresh_from_db()
    return who, other, second


def captured(client, method: str, url: str, data=None):
    with CaptureQueriesContext(connection) as context:
        response = getattr(client, method)(url, data or {})
    return response, [query["sql"] for query in context.captured_queries]


def counting_diffs(monkeypatch) -> list[tuple[int, int, frozenset | None]]:
    calls: list[tuple[int, int, frozenset | None]] = []
    real = reading_module.diff_versions

    def spy(old, new, *, role_kinds=None, new_sections=None):
        calls.append((old.pk, new.pk, frozenset(role_kinds) if role_kinds is not None else None))
        return real(old, new, role_kinds=role_kinds, new_sections=new_sections)

    monkeypatch.setattr(reading_module, "diff_versions", spy)
    return calls


def test_a_reload_takes_five_queries_no_lock_and_records_the_first_view_once(two_governors, client_for):
    who, _other, second = two_governors
    client = client_for(who.person)
    url = second.get_absolute_url()
    first, first_sql = captured(client, "get", url)
    viewed = AuditEvent.objects.get(person=who.person, version=second, kind=EventKind.FIRST_VIEWED)
    reload, reload_sql = captured(client, "get", url)
    assert first.status_code == reload.status_code == 200
    assert reload.content.decode().count("What changed since the version you signed (2025-2026)") == 1
    # The session, the user (with the header's branding and their current roles in the same statement: their
    # grants, that they may read the code and which of its roles they hold), the version, the obligation (with
    # whether the first view is on record) and their signatures of the code. The text, its outline, the comparison
    # and the attached files come from the cache.
    assert len(reload_sql) == 5, reload_sql
    assert not any(sql.startswith(("SAVEPOINT", "INSERT", "UPDATE")) or "FOR " in sql for sql in reload_sql)
    assert not any('FROM "conduct_section"' in sql or 'FROM "conduct_clause"' in sql for sql in reload_sql)
    assert any(sql.startswith("INSERT") and "acknowledgements_auditevent" in sql for sql in first_sql)
    again = AuditEvent.objects.get(person=who.person, version=second, kind=EventKind.FIRST_VIEWED)
    assert again.pk == viewed.pk and again.occurred_at == viewed.occurred_at


def test_the_comparison_is_computed_once_per_pair_of_versions_and_role_view(two_governors, client_for, monkeypatch):
    who, other, second = two_governors
    calls = counting_diffs(monkeypatch)
    tom = client_for(who.person)
    for _ in range(3):
        page = tom.get(second.get_absolute_url()).content.decode()
        assert "1 new clause, 1 reworded, 1 removed" in page and "Changed since you signed" in page
    assert calls == [(who.version.pk, second.pk, frozenset({"local_governor"}))]

    # Ann signed last year too, as a governor: the same pair and role view, so the same answer from the cache.
    sign_as(other, who.version)
    page = client_for(other).get(second.get_absolute_url()).content.decode()
    assert "1 new clause, 1 reworded, 1 removed" in page and len(calls) == 1

    # A trustee reads a different text: computed again, once, and the trustee-only change is shown to them.
    RoleFactory.create(person=other, organisation=who.orgs["board"], kind="trustee")
    page = client_for(other).get(second.get_absolute_url()).content.decode()
    assert "each month" in page and len(calls) == 2
    assert calls[1][2] == frozenset({"local_governor", "trustee"})


def sign_as(person: Person, version) -> None:
    """Give ``person`` a signature of ``version`` (an earlier year), as if made then."""
    obligation = Obligation.objects.create(
        person=person,
        version=version,
        code=version.code,
        role=person.roles.get(),
        organisation=person.roles.get().organisation,
        adoption=version.adoptions.get(),
        owed_from=version.adoptions.get().adopted_on,
        due_on=version.adoptions.get().signing_due_on,
        superseded_at=version.created_at,
    )
    template = Acknowledgement.objects.get(version=version)
    Acknowledgement.objects.create(
        person=person,
        version=version,
        obligation=obligation,
        organisation=obligation.organisation,
        roles=[{"kind": "local_governor"}],
        content_hash=version.content_hash,
        statement=template.statement,
        typed_name=person.full_name,
        signed_at=template.signed_at,
        evidence_hash="0" * 64,
    )


def test_the_sign_post_does_not_build_the_reading_page(two_governors, client_for):
    who, _other, second = two_governors
    client = client_for(who.person)
    client.get(second.get_absolute_url())
    url = reverse("acknowledgements:sign", args=[second.code.slug, second.pk])
    response, sql = captured(client, "post", url, {"agree": "on", "typed_name": "tom  hughes"})
    ack = Acknowledgement.objects.get(person=who.person, version=second)
    assert response.status_code == 302 and response["Location"] == ack.get_absolute_url()
    assert ack.typed_name == "tom hughes" and Obligation.objects.get(person=who.person, version=second).acknowledged_at
    assert not any('FROM "conduct_section"' in s or 'FROM "conduct_clause"' in s for s in sql)
    # No reading-page work: no signatures of the code, no roles for the text, no grants.
    assert not any('"conduct_role"."kind" AS "kind"' in s for s in sql)
    # The session, the user, the version; in the service's transaction (a savepoint here, in the test's
    # transaction; nothing in production) the obligation with the person's row (one locking statement), the roles,
    # the events before signing, the acknowledgement (no savepoint of its own: its obligation is locked and
    # unsigned), its event, the obligation marked, the receipt's outbox row (one INSERT … ON CONFLICT DO NOTHING)
    # and the evidence chain (the salts with the head's upsert, then the entries; the salts are a statement of
    # their own on SQLite). 12 in production on PostgreSQL. Work added to the signature's transaction adds here.
    in_production = 12 if connection.vendor == "postgresql" else 13
    assert len(sql) == in_production + 2, sql
    # One savepoint: the test's, around the service's transaction (the acknowledgement has none of its own).
    assert sum(statement.startswith("SAVEPOINT") for statement in sql) == 1
    outbox = OutgoingEmail.objects.get(acknowledgement=ack, kind=EmailKind.RECEIPT)
    assert outbox.status == EmailStatus.PENDING and outbox.to_address == who.person.email
    assert EvidenceLink.objects.filter(record_type="acknowledgements.acknowledgement", record_id=ack.pk).count() == 1
    assert EvidenceSalt.objects.filter(record_type="acknowledgements.acknowledgement", record_id=ack.pk).count() == 1

    second_try, _ = captured(client, "post", url, {"agree": "on", "typed_name": "Tom Hughes"})
    assert second_try["Location"] == ack.get_absolute_url()
    assert Acknowledgement.objects.filter(person=who.person, version=second).count() == 1
    assert OutgoingEmail.objects.filter(acknowledgement=ack).count() == 1


def test_the_first_signature_in_an_organisation_makes_its_chain_in_the_same_statements(db, client_for):
    """The chain's head is made by the statement that would otherwise reserve its places: an organisation's first
    signature costs no statement more than its later ones (the reserve and the start were two, once)."""
    first = owing(name="Elm Trust", full_name="Ann Lee")
    school = first.orgs["north"]
    assert not ChainHead.objects.filter(scope=school.pk).exists()
    client = client_for(first.person)
    client.get(first.version.get_absolute_url())
    url = reverse("acknowledgements:sign", args=[first.code.slug, first.version.pk])
    response, sql = captured(client, "post", url, {"agree": "on", "typed_name": "Ann Lee"})
    ack = Acknowledgement.objects.get(person=first.person, version=first.version)
    assert response.status_code == 302 and ack.organisation_id == school.pk
    assert len(sql) == (12 if connection.vendor == "postgresql" else 13) + 2, sql
    head = ChainHead.objects.get(scope=school.pk)
    links = EvidenceLink.objects.filter(scope=school.pk).order_by("seq")
    assert [link.seq for link in links] == [1, 2] and head.seq == 2 and head.head_hash == links[1].link_hash
    assert links[0].record_type == "acknowledgements.acknowledgement" and links[0].record_id == ack.pk


def test_a_refused_signature_shows_the_page_with_the_errors_and_saves_nothing(two_governors, client_for):
    who, _other, second = two_governors
    client = client_for(who.person)
    url = reverse("acknowledgements:sign", args=[second.code.slug, second.pk])
    response = client.post(url, {"agree": "on", "typed_name": "Someone Else"})
    page = response.content.decode()
    assert response.status_code == 400 and "This does not match the name on record" in page
    assert "What changed since the version you signed" in page and 'id="sign"' in page
    assert not Acknowledgement.objects.filter(version=second).exists()


def test_someone_who_may_not_read_the_version_gets_404_from_the_sign_post(two_governors, client_for):
    _who, _other, second = two_governors
    stranger = owing(name="Yew Trust", full_name="Sam Stone").person
    url = reverse("acknowledgements:sign", args=[second.code.slug, second.pk])
    for data in ({"agree": "on", "typed_name": "Sam Stone"}, {}):
        assert client_for(stranger).post(url, data).status_code == 404
    assert not Acknowledgement.objects.filter(version=second).exists()


def test_someone_who_may_read_but_owes_nothing_is_told_so(two_governors, client_for):
    who, _other, second = two_governors
    admin = PersonFactory.create(full_name="Ada Admin")
    RoleFactory.create(person=admin, organisation=who.orgs["trust"], kind="admin")
    url = reverse("acknowledgements:sign", args=[second.code.slug, second.pk])
    response = client_for(admin).post(url, {"agree": "on", "typed_name": "Ada Admin"}, follow=True)
    assert "You do not need to sign this version." in response.content.decode()
    assert not Acknowledgement.objects.filter(version=second).exists()


def test_a_signature_the_lock_did_not_see_is_returned_and_nothing_of_ours_is_kept(two_governors, client_for):
    """The backstop without a savepoint: an acknowledgement already on record while its obligation still reads
    unsigned (as if a writer had bypassed the obligation's lock) makes the insert fail; the whole transaction is
    rolled back and the sign POST lands on the record that was there first."""
    who, _other, second = two_governors
    obligation = Obligation.objects.get(person=who.person, version=second)
    template = Acknowledgement.objects.get(person=who.person, version=who.version)
    first = Acknowledgement.objects.create(
        person=who.person,
        version=second,
        obligation=obligation,
        organisation=obligation.organisation,
        roles=[{"kind": "local_governor"}],
        content_hash=second.content_hash,
        statement=template.statement,
        typed_name=who.person.full_name,
        signed_at=template.signed_at,
        evidence_hash="0" * 64,
    )
    events_before = AuditEvent.objects.filter(person=who.person).count()
    url = reverse("acknowledgements:sign", args=[second.code.slug, second.pk])
    response = client_for(who.person).post(url, {"agree": "on", "typed_name": "Tom Hughes"})
    assert response.status_code == 302 and response["Location"] == first.get_absolute_url()
    assert list(Acknowledgement.objects.filter(person=who.person, version=second)) == [first]
    assert AuditEvent.objects.filter(person=who.person).count() == events_before
    assert not OutgoingEmail.objects.filter(acknowledgement__version=second).exists()
    assert not EvidenceSalt.objects.filter(record_type="acknowledgements.acknowledgement", record_id=first.pk).exists()
    assert Obligation.objects.get(pk=obligation.pk).acknowledged_at is None  # our UPDATE was rolled back too
