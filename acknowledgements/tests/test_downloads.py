"""Events only for what happened: "PDF downloaded" after the bytes were read, checked and sent; never for a failure.

A file missing from storage (a database restored without its files) or replaced on disk gets a clear
page (503) and records nothing; a download the client abandons half-way records nothing either.
"""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from acknowledgements.certificates import adoption_certificate_issue
from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import AuditEvent, EventKind, SealedPdf
from acknowledgements.tests.factories import sign
from conduct.models import Adoption
from conduct.tests.factories import PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db


def downloads() -> int:
    return AuditEvent.objects.filter(kind=EventKind.PDF_DOWNLOADED).count()


@pytest.fixture
def issued(staff):
    ack = sign(staff, issue_pdf=False).acknowledgement
    record = acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    return ack, record


def test_three_failed_downloads_of_a_missing_file_record_no_event_and_say_why(staff, issued, client_for):
    ack, record = issued
    os.remove(record.file.path)  # restored without the media folder
    client = client_for(staff.person)
    for _attempt in range(3):
        response = client.get(reverse("acknowledgements:pdf", args=[ack.pk]))
        assert response.status_code == 503
        page = response.content.decode()
        assert "missing from file storage" in page and "Nothing was downloaded and nothing was recorded" in page
    assert downloads() == 0
    assert SealedPdf.objects.filter(acknowledgement=ack).count() == 1  # the record itself is untouched


def test_a_file_replaced_on_disk_is_not_sent_and_records_nothing(staff, issued, client_for):
    ack, record = issued
    with open(record.file.path, "r+b") as handle:
        handle.seek(200)
        handle.write(b"X")
    response = client_for(staff.person).get(reverse("acknowledgements:pdf", args=[ack.pk]))
    assert response.status_code == 503 and "not the one that was issued" in response.content.decode()
    assert downloads() == 0


@pytest.mark.django_db(transaction=True)  # closing the response ends the request, as in production
def test_a_download_abandoned_half_way_records_nothing_and_a_complete_one_records_once(staff, issued, client_for):
    ack, record = issued
    client = client_for(staff.person)
    abandoned = client.get(reverse("acknowledgements:pdf", args=[ack.pk]))
    next(iter(abandoned.streaming_content))  # the first chunk went, then the browser was closed:
    abandoned.close()  # what the WSGI server does when the client goes away (it ends the request, too)
    assert downloads() == 0

    complete = client.get(reverse("acknowledgements:pdf", args=[ack.pk]))
    assert b"".join(complete.streaming_content) == record.file.open("rb").read()
    assert downloads() == 1


def test_a_missing_certificate_gets_the_clear_page_too(staff, client_for):
    adoption = Adoption.objects.get(version=staff.version)
    certificate = adoption_certificate_issue(adoption_id=adoption.pk)
    os.remove(certificate.file.path)
    chair = PersonFactory.create()
    RoleFactory.create(person=chair, organisation=adoption.board, kind="chair")
    response = client_for(chair).get(reverse("acknowledgements:adoption_certificate", args=[adoption.pk]))
    assert response.status_code == 503 and "adoption certificate is not available" in response.content.decode()
