"""Nobody reaches another person's record by changing an id in the address; officers see their own organisations'."""

import pytest
from django.urls import reverse
from django.utils import timezone

from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import AuditEvent
from acknowledgements.paper import acknowledgement_record_on_behalf
from acknowledgements.tests.factories import META, owing
from conduct.tests.factories import PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_records(staff):
    """Ada's record (with a PDF and a paper scan) and a colleague's in the same academy."""
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=staff.orgs["trust"], kind="admin")
    from django.core.files.uploadedfile import SimpleUploadedFile

    ada = acknowledgement_record_on_behalf(
        person=staff.person,
        version=staff.version,
        recorded_by=clerk,
        typed_name=staff.person.full_name,
        paper_signed_on=timezone.localdate(),
        reason="Paper",
        declaration=None,
        request_meta=META,
        scan=SimpleUploadedFile("scan.pdf", b"%PDF-1.4 scan"),
    ).acknowledgement
    acknowledgement_pdf_issue(acknowledgement_id=ada.pk, send_receipt=False)
    colleague = PersonFactory.create()
    RoleFactory.create(person=colleague, organisation=staff.orgs["north"], kind="employee")
    return {"ada": ada, "colleague": colleague, "clerk": clerk}


def record_urls(ack) -> list[str]:
    return [
        reverse("acknowledgements:record", args=[ack.pk]),
        reverse("acknowledgements:pdf", args=[ack.pk]),
        reverse("acknowledgements:pdf_status", args=[ack.pk]),
        reverse("acknowledgements:scan", args=[ack.pk]),
        reverse("acknowledgements:correct", args=[ack.pk]),
    ]


def test_the_signer_reaches_their_own_record(two_records, client_for, staff):
    client = client_for(staff.person)
    for url in record_urls(two_records["ada"])[:4]:
        assert client.get(url).status_code == 200, url


def test_a_colleague_gets_404_for_every_page_of_someone_elses_record(two_records, client_for):
    client = client_for(two_records["colleague"])
    for url in record_urls(two_records["ada"]):
        assert client.get(url).status_code == 404, url
    assert not AuditEvent.objects.filter(kind="pdf_downloaded").exists()


def test_an_officer_of_another_trust_gets_404(two_records, client_for):
    other = owing(name="Elm Trust")
    officer = PersonFactory.create()
    RoleFactory.create(person=officer, organisation=other.orgs["trust"], kind="admin")
    client = client_for(officer)
    for url in record_urls(two_records["ada"]):
        assert client.get(url).status_code == 404, url


def test_an_officer_of_the_organisation_may_view_the_record(two_records, client_for):
    client = client_for(two_records["clerk"])
    for url in record_urls(two_records["ada"]):
        response = client.get(url)
        assert response.status_code == 200, url
        if response.streaming:  # the PDF: "downloaded" is recorded once its bytes have gone
            b"".join(response.streaming_content)
    download = AuditEvent.objects.get(kind="pdf_downloaded")
    assert (download.person, download.actor) == (two_records["ada"].person, two_records["clerk"])


def test_an_unknown_id_is_404_and_anonymous_visitors_are_sent_to_sign_in(two_records, client, client_for, staff):
    assert client_for(staff.person).get(reverse("acknowledgements:record", args=[99999])).status_code == 404
    response = client.get(reverse("acknowledgements:record", args=[two_records["ada"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
