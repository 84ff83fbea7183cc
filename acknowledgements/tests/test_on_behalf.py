"""Paper signatures recorded by a clerk or admin, and corrections of them."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from acknowledgements.evidence import acknowledgement_evidence_hash
from acknowledgements.models import Acknowledgement, AuditEvent, EventKind
from acknowledgements.obligations import obligations_open_for_role
from acknowledgements.paper import acknowledgement_correct, acknowledgement_record_on_behalf
from acknowledgements.tests.factories import META, owing, sign
from acknowledgements.verification import verify_code
from conduct.models import Role
from conduct.tests.factories import PersonFactory, RoleFactory
from core.request_meta import AuthMethod

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def clerk(staff):
    person = PersonFactory.create(full_name="Daniel Reeve")
    RoleFactory.create(person=person, organisation=staff.orgs["trust"], kind="admin")
    return person


def url(staff) -> str:
    return reverse("acknowledgements:record_paper", args=[staff.obligation.pk])


def test_a_clerk_records_a_paper_signature_with_date_reason_and_scan(staff, clerk, client_for):
    signed_on = staff.obligation.adoption.adopted_on  # at the meeting that adopted it
    response = client_for(clerk).post(
        url(staff),
        {
            "typed_name": "ADA LOVELACE",
            "paper_signed_on": signed_on.isoformat(),
            "reason": "Signed on paper at the staff briefing.",
            "scan": SimpleUploadedFile("form.png", PNG, content_type="image/png"),
        },
        REMOTE_ADDR="192.0.2.5",
    )
    ack = Acknowledgement.objects.get()
    assert response.status_code == 302 and response["Location"] == ack.get_absolute_url()
    assert ack.person == staff.person and ack.recorded_by == clerk and ack.on_behalf
    assert (ack.paper_signed_on, ack.on_behalf_reason) == (signed_on, "Signed on paper at the staff briefing.")
    assert ack.auth_method == AuthMethod.ON_BEHALF and ack.ip_address == "192.0.2.5"
    import hashlib

    assert ack.paper_scan_sha256 == hashlib.sha256(PNG).hexdigest() and ack.paper_scan.read() == PNG
    assert ack.evidence_hash == acknowledgement_evidence_hash(ack)
    assert timezone.localtime(staff.obligation.acknowledged_at).date() == signed_on
    event = AuditEvent.objects.get(kind=EventKind.RECORDED_ON_BEHALF)
    assert (event.actor, event.person) == (clerk, staff.person)
    page = client_for(staff.person).get(ack.get_absolute_url()).content.decode()
    assert "Recorded by" in page and "Daniel Reeve" in page and "Download the scan" in page
    assert client_for(staff.person).get(reverse("acknowledgements:scan", args=[ack.pk])).content == PNG


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"typed_name": "Ada Byron"}, "typed_name", "does not match the name on record"),
        ({"paper_signed_on": "2099-01-01"}, "paper_signed_on", "cannot be in the future"),
        ({"paper_signed_on": "2999-01-01"}, "paper_signed_on", "Give a date between 1900 and 2100."),
        ({"reason": ""}, "reason", "This field is required."),
        (
            {"scan": SimpleUploadedFile("x.exe", b"MZ\x90\x00 not an image")},
            "scan",
            "Upload the scan as a PDF, PNG or JPEG file.",
        ),
    ],
)
def test_paper_record_mistakes_are_explained_and_nothing_is_saved(staff, clerk, client_for, overrides, field, message):
    data = {
        "typed_name": "Ada Lovelace",
        "paper_signed_on": timezone.localdate().isoformat(),
        "reason": "At the meeting.",
    }
    data.update(overrides)
    response = client_for(clerk).post(url(staff), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_a_date_before_the_adoption_is_refused_by_the_service(staff, clerk):
    with pytest.raises(ValidationError) as error:
        acknowledgement_record_on_behalf(
            person=staff.person,
            version=staff.version,
            recorded_by=clerk,
            typed_name="Ada Lovelace",
            paper_signed_on=staff.obligation.adoption.adopted_on - timedelta(days=1),
            reason="Paper",
            declaration=None,
            request_meta=META,
        )
    assert "before this version was adopted" in error.value.message_dict["paper_signed_on"][0]


def test_staff_and_other_organisations_clerks_cannot_record_for_someone(staff, client_for):
    colleague = owing(person=None, name="Oak Two").person  # an ordinary person elsewhere
    other_clerk = PersonFactory.create()
    RoleFactory.create(person=other_clerk, organisation=owing(name="Elm Trust").orgs["trust"], kind="admin")
    for who in (staff.person, colleague, other_clerk):
        client = client_for(who)
        assert client.get(url(staff)).status_code == 404
        assert (
            client.post(
                url(staff), {"typed_name": "Ada Lovelace", "paper_signed_on": "2026-01-01", "reason": "x"}
            ).status_code
            == 404
        )
    assert not Acknowledgement.objects.exists()


def test_the_paper_list_shows_only_people_in_the_clerks_organisations(staff, clerk, client_for):
    elsewhere = owing(name="Elm Trust", full_name="Someone Elsewhere")
    page = client_for(clerk).get(reverse("acknowledgements:paper")).content.decode()
    assert "Ada Lovelace" in page and "Someone Elsewhere" not in page
    assert (
        client_for(clerk).get(reverse("acknowledgements:paper"), {"q": "nobody"}).content.decode().count("Ada Lovelace")
        == 0
    )
    assert client_for(elsewhere.person).get(reverse("acknowledgements:paper")).status_code == 404


def test_a_correction_is_a_new_record_pointing_at_the_original(staff, clerk, client_for):
    original = acknowledgement_record_on_behalf(
        person=staff.person,
        version=staff.version,
        recorded_by=clerk,
        typed_name="Ada Lovelace",
        paper_signed_on=timezone.localdate(),
        reason="At the meeting.",
        declaration=None,
        request_meta=META,
    ).acknowledgement
    before = {f.name: getattr(original, f.name) for f in Acknowledgement._meta.fields}
    corrected_day = timezone.localdate() - timedelta(days=1)
    response = client_for(clerk).post(
        reverse("acknowledgements:correct", args=[original.pk]),
        {
            "paper_signed_on": corrected_day.isoformat(),
            "on_behalf_reason": "At the meeting.",
            "correction_reason": "Wrong date typed.",
        },
    )
    correction = Acknowledgement.objects.exclude(pk=original.pk).get()
    assert response["Location"] == correction.get_absolute_url()
    assert (correction.corrects, correction.correction_reason, correction.paper_signed_on) == (
        original,
        "Wrong date typed.",
        corrected_day,
    )
    original.refresh_from_db()
    assert {f.name: getattr(original, f.name) for f in Acknowledgement._meta.fields} == before
    assert correction.evidence_hash == acknowledgement_evidence_hash(correction)
    assert AuditEvent.objects.filter(kind=EventKind.CORRECTED, acknowledgement=correction).exists()
    with pytest.raises(ValidationError):
        acknowledgement_correct(
            original=original,
            corrected_by=clerk,
            correction_reason="again",
            paper_signed_on=corrected_day,
            on_behalf_reason="x",
            request_meta=META,
        )
    assert "This record was corrected" in client_for(staff.person).get(original.get_absolute_url()).content.decode()


def test_a_persons_own_signature_cannot_be_corrected(staff, clerk, client_for):

    ack = sign(staff).acknowledgement
    assert client_for(clerk).get(reverse("acknowledgements:correct", args=[ack.pk])).status_code == 404
    with pytest.raises(ValidationError):
        acknowledgement_correct(
            original=ack,
            corrected_by=clerk,
            correction_reason="x",
            paper_signed_on=timezone.localdate(),
            on_behalf_reason="x",
            request_meta=META,
        )
    assert Acknowledgement.objects.count() == 1


def test_verification_of_a_corrected_record_mentions_the_correction(staff, clerk, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        original = acknowledgement_record_on_behalf(
            person=staff.person,
            version=staff.version,
            recorded_by=clerk,
            typed_name="Ada Lovelace",
            paper_signed_on=timezone.localdate(),
            reason="At the meeting.",
            declaration=None,
            request_meta=META,
        ).acknowledgement
    with django_capture_on_commit_callbacks(execute=True):
        correction = acknowledgement_correct(
            original=original,
            corrected_by=clerk,
            correction_reason="Wrong date typed.",
            paper_signed_on=timezone.localdate(),
            on_behalf_reason="At the meeting.",
            request_meta=META,
        )
    result = verify_code(original.verification_code)
    assert (
        result.verified and "Wrong date typed." in result.notes[0] and correction.verification_code in result.notes[0]
    )


def test_the_paper_list_queries_do_not_grow_with_people(staff, clerk, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(clerk)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("acknowledgements:paper")).status_code == 200
        return len(ctx.captured_queries)

    small = count()
    for _ in range(8):
        role = Role.objects.create(
            person=PersonFactory.create(),
            organisation=staff.orgs["south"],
            kind="employee",
            starts_on=staff.obligation.role.starts_on,
        )
        obligations_open_for_role(role=role)
    assert count() == small
    assert client.get(reverse("acknowledgements:paper")).content.decode().count("Record<span") == 9
