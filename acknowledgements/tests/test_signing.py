"""Signing: the service's rules and the signing form on the reading page."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from acknowledgements.declarations import declaration_make
from acknowledgements.evidence import acknowledgement_evidence, acknowledgement_evidence_hash
from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import (
    Acknowledgement,
    AuditEvent,
    Declaration,
    EventKind,
    Interest,
    SealedPdf,
)
from acknowledgements.signing import acceptance_statement, acknowledgement_sign
from acknowledgements.tests.factories import META, business_interest, owing, sign
from conduct.people import role_end
from conduct.tests.factories import RoleFactory
from core.request_meta import (
    AuthMethod,
    RequestMeta,
    authentication_from_records,
    client_ip,
)

pytestmark = pytest.mark.django_db


def sign_url(who) -> str:
    return reverse("acknowledgements:sign", args=[who.code.slug, who.version.pk])


def form_data(who, **overrides) -> dict:
    data = {"agree": "on", "typed_name": who.person.full_name}
    if who.code.requires_declaration:
        data.update(
            {
                "declaration-choice": "nothing",
                "interest-TOTAL_FORMS": "3",
                "interest-INITIAL_FORMS": "0",
                "interest-MIN_NUM_FORMS": "0",
                "interest-MAX_NUM_FORMS": "30",
            }
        )
    data.update(overrides)
    return data


# -- the service ---------------------------------------------------------------------------


def test_signing_records_the_whole_evidence_and_satisfies_the_obligation(staff):
    at = timezone.now()
    meta = RequestMeta("203.0.113.5", "Mozilla/5.0 (iPhone)", AuthMethod.EMAILED_CODE, "", True)
    result = sign(staff, meta=meta, at=at, typed_name="  ada   LOVELACE ")
    ack = Acknowledgement.objects.get()
    assert result.created and result.acknowledgement == ack
    assert (ack.person, ack.version, ack.obligation) == (staff.person, staff.version, staff.obligation)
    assert ack.organisation == staff.orgs["north"]
    assert ack.roles == [
        {
            "role_id": staff.obligation.role_id,
            "kind": "employee",
            "label": "Employee",
            "title": "",
            "organisation_id": staff.orgs["north"].pk,
            "organisation": staff.orgs["north"].name,
        }
    ]
    assert ack.content_hash == staff.version.content_hash == staff.version.compute_hash()
    assert ack.statement == acceptance_statement(staff.version)
    assert staff.code.title in ack.statement and "agree to abide by it" in ack.statement
    assert ack.typed_name == "ada LOVELACE"
    assert ack.signed_at == at
    assert (ack.ip_address, ack.user_agent, ack.auth_method, ack.mfa_used) == (
        "203.0.113.5",
        "Mozilla/5.0 (iPhone)",
        "code",
        True,
    )
    assert ack.evidence_hash == acknowledgement_evidence_hash(ack)
    assert staff.obligation.acknowledged_at == at
    signed = AuditEvent.objects.get(kind=EventKind.SIGNED)
    assert (signed.acknowledgement, signed.actor, signed.ip_address) == (ack, staff.person, "203.0.113.5")


def test_a_name_that_does_not_match_the_one_on_record_is_refused_and_nothing_is_saved(staff):
    with pytest.raises(ValidationError) as error:
        sign(staff, typed_name="Ada Byron")
    assert "Ada Lovelace" in error.value.message_dict["typed_name"][0]
    assert not Acknowledgement.objects.exists() and not AuditEvent.objects.filter(kind="signed").exists()
    assert staff.obligation.acknowledged_at is None


def test_signing_twice_returns_the_first_acknowledgement(staff):
    first = sign(staff)
    second = sign(staff)
    assert first.created and not second.created
    assert second.acknowledgement == first.acknowledgement
    assert Acknowledgement.objects.count() == 1 and AuditEvent.objects.filter(kind="signed").count() == 1


def test_a_code_that_asks_for_declarations_cannot_be_signed_without_one(declaring):
    with pytest.raises(ValidationError) as error:
        acknowledgement_sign(
            person=declaring.person,
            version=declaring.version,
            typed_name=declaring.person.full_name,
            statement=acceptance_statement(declaring.version),
            declaration=None,
            request_meta=META,
        )
    assert "declaration" in error.value.message_dict
    assert not Acknowledgement.objects.exists() and not Declaration.objects.exists()


def test_interests_declared_when_signing_are_kept_with_the_acknowledgement(declaring):
    ack = sign(
        declaring, declaration=business_interest("Hughes Building Services Ltd", "Director and shareholder")
    ).acknowledgement
    declaration = Declaration.objects.get()
    interest = Interest.objects.get()
    assert (declaration.acknowledgement, declaration.person, declaration.version) == (
        ack,
        declaring.person,
        declaring.version,
    )
    assert declaration.organisation == declaring.orgs["north"] and not declaration.nothing_to_declare
    assert declaration.academic_year_start == date(timezone.localdate().year - (timezone.localdate().month < 9), 9, 1)
    assert (interest.kind, interest.counterparty, interest.nature) == (
        "business",
        "Hughes Building Services Ltd",
        "Director and shareholder",
    )
    assert ack.evidence_hash == acknowledgement_evidence_hash(ack)


def test_someone_who_does_not_owe_the_version_cannot_sign_it(staff):
    stranger = owing(name="Elm Trust")
    with pytest.raises(ValidationError):
        acknowledgement_sign(
            person=stranger.person,
            version=staff.version,
            typed_name=stranger.person.full_name,
            statement=acceptance_statement(staff.version),
            declaration=None,
            request_meta=META,
        )
    assert not Acknowledgement.objects.exists()


def test_someone_whose_role_ended_owes_nothing_new(staff):
    role_end(actor=None, role=staff.obligation.role, ends_on=timezone.localdate() - timedelta(days=1), reason="Left")
    with pytest.raises(ValidationError):
        sign(staff)
    assert not Acknowledgement.objects.exists()


def test_signing_issues_the_sealed_pdf_after_commit_and_emails_the_receipt(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ack = sign(staff).acknowledgement
    pdf = SealedPdf.objects.get(acknowledgement=ack)
    assert AuditEvent.objects.filter(acknowledgement=ack, kind=EventKind.PDF_ISSUED).count() == 1
    receipt = mail.outbox[-1]
    assert receipt.to == [staff.person.email] and staff.code.title in receipt.subject
    name, content, mime = receipt.attachments[0]
    assert mime == "application/pdf" and content == pdf.file.open("rb").read() and ack.verification_code in name


def test_issuing_twice_stores_one_pdf_and_sends_one_receipt(staff, django_capture_on_commit_callbacks):

    with django_capture_on_commit_callbacks(execute=True):
        ack = sign(staff).acknowledgement
    with django_capture_on_commit_callbacks(execute=True):
        again = acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=True)
    assert SealedPdf.objects.count() == 1 and again == SealedPdf.objects.get()
    assert len(mail.outbox) == 1


# -- how the person authenticated ----------------------------------------------------------


@pytest.mark.parametrize(
    "records, expected",
    [
        ([{"method": "password"}], ("password", "", False)),
        ([{"method": "code", "email": "a@b.c"}], ("code", "", False)),
        ([{"method": "password_reset"}], ("link", "", False)),
        ([{"method": "socialaccount", "provider": "microsoft", "uid": "x"}], ("sso", "microsoft", False)),
        ([{"method": "password"}, {"method": "mfa", "type": "totp"}], ("password", "", True)),
        ([{"method": "code"}, {"method": "password", "reauthenticated": True}], ("password", "", False)),
        ([], ("unrecorded", "", False)),
    ],
)
def test_the_sign_in_method_comes_from_allauths_records(records, expected):
    assert authentication_from_records(records) == expected


def test_the_client_address_is_read_through_trusted_proxies_only(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="2001:0db8:0000::0001")) == "2001:db8::1"


# -- the signing form on the reading page ---------------------------------------------------


def test_the_reading_page_shows_the_statement_checkbox_and_name_field_after_the_text(staff, client_for):
    page = client_for(staff.person).get(staff.version.get_absolute_url()).content.decode()
    assert page.index("We must all act fairly.") < page.index('id="sign"')
    assert acceptance_statement(staff.version) in page
    assert 'name="agree"' in page and 'type="checkbox"' in page and 'name="typed_name"' in page
    assert f'action="{reverse("acknowledgements:sign", args=[staff.code.slug, staff.version.pk])}"' in page


def test_opening_the_page_records_the_first_view_once(staff, client_for):
    client = client_for(staff.person)
    client.get(staff.version.get_absolute_url(), REMOTE_ADDR="192.0.2.99")
    client.get(staff.version.get_absolute_url())
    event = AuditEvent.objects.get(kind=EventKind.FIRST_VIEWED)
    assert (event.person, event.version, event.ip_address) == (staff.person, staff.version, "192.0.2.99")


def test_signing_through_the_page_records_the_request_and_shows_the_record(staff, client_for):
    client = client_for(staff.person)
    client.get(staff.version.get_absolute_url())
    response = client.post(
        sign_url(staff), form_data(staff), HTTP_USER_AGENT="Mozilla/5.0 (X11) Firefox/140.0", REMOTE_ADDR="198.51.100.4"
    )
    ack = Acknowledgement.objects.get()
    assert response.status_code == 302 and response["Location"] == ack.get_absolute_url()
    assert (ack.user_agent, ack.ip_address, ack.auth_method) == (
        "Mozilla/5.0 (X11) Firefox/140.0",
        "198.51.100.4",
        AuthMethod.UNRECORDED,
    )
    # The first view happened before the signature, so it is inside the evidence hash.

    assert [event["kind"] for event in acknowledgement_evidence(ack)["events"]] == ["first_viewed"]
    page = client.get(staff.version.get_absolute_url()).content.decode()
    assert "You signed this version" in page and 'id="sign"' not in page


def test_a_mistyped_name_gives_a_clear_form_error_and_saves_nothing(staff, client_for):
    response = client_for(staff.person).post(sign_url(staff), form_data(staff, typed_name="Ada Byron"))
    assert response.status_code == 400
    assert "This does not match the name on record" in response.content.decode()
    assert "Ada Lovelace" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_the_statement_must_be_ticked(staff, client_for):
    response = client_for(staff.person).post(sign_url(staff), form_data(staff, agree=""))
    assert response.status_code == 400 and "Tick the box" in response.content.decode()
    assert not Acknowledgement.objects.exists()


def test_a_second_submission_shows_the_existing_acknowledgement(staff, client_for):
    client = client_for(staff.person)
    client.post(sign_url(staff), form_data(staff))
    response = client.post(sign_url(staff), form_data(staff), follow=True)
    ack = Acknowledgement.objects.get()
    assert response.redirect_chain[-1][0] == ack.get_absolute_url()
    assert "You had already signed this version" in response.content.decode()


def test_declaring_interests_through_the_form(declaring, client_for):
    data = form_data(
        declaring,
        **{
            "declaration-choice": "interests",
            "interest-0-kind": "governance",
            "interest-0-counterparty": "Oakfield Primary School",
            "interest-0-nature": "Co-opted governor",
            "interest-0-starts_on": "2021-09-01",
            "interest-1-kind": "gift",
            "interest-1-counterparty": "Harbour Education Ltd",
            "interest-1-nature": "Dinner at a conference",
            "interest-1-starts_on": "2026-06-18",
            "interest-1-ends_on": "2026-06-18",
        },
    )
    response = client_for(declaring.person).post(sign_url(declaring), data)
    assert response.status_code == 302
    declaration = Declaration.objects.get()
    assert [(i.kind, i.counterparty) for i in declaration.interests.order_by("pk")] == [
        ("governance", "Oakfield Primary School"),
        ("gift", "Harbour Education Ltd"),
    ]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"declaration-choice": ""}, "Choose “I have nothing to declare” or “I have interests to declare”."),
        ({"declaration-choice": "interests"}, "List at least one interest below"),
        (
            {
                "declaration-choice": "nothing",
                "interest-0-kind": "business",
                "interest-0-counterparty": "Acme",
                "interest-0-nature": "Director",
                "interest-0-starts_on": "2020-01-01",
            },
            "You listed interests but chose",
        ),
        (
            {
                "declaration-choice": "interests",
                "interest-0-kind": "business",
                "interest-0-counterparty": "Acme",
                "interest-0-nature": "Director",
                "interest-0-starts_on": "2020-01-01",
                "interest-0-ends_on": "2019-01-01",
            },
            "The end date cannot be before the start date.",
        ),
    ],
)
def test_declaration_mistakes_get_a_clear_message_and_nothing_is_saved(declaring, client_for, overrides, message):
    response = client_for(declaring.person).post(sign_url(declaring), form_data(declaring, **overrides))
    assert response.status_code == 400 and message in response.content.decode()
    assert not Acknowledgement.objects.exists() and not Declaration.objects.exists() and not Interest.objects.exists()


def test_an_interest_from_the_last_declaration_is_carried_forward(declaring, client_for):

    declaration_make(
        person=declaring.person,
        organisation=declaring.orgs["north"],
        declaration=business_interest("Acme Building Ltd"),
    )
    page = client_for(declaring.person).get(declaring.version.get_absolute_url()).content.decode()
    assert 'value="Acme Building Ltd"' in page and "carried forward from your last declaration" in page


def test_someone_who_does_not_owe_the_version_sees_no_form_and_cannot_post(staff, client_for):
    officer = owing(name="Pine Trust").person

    RoleFactory.create(person=officer, organisation=staff.orgs["trust"], kind="admin")
    client = client_for(officer)
    assert 'id="sign"' not in client.get(staff.version.get_absolute_url()).content.decode()
    response = client.post(sign_url(staff), form_data(staff, typed_name=officer.full_name))
    assert response.status_code == 302 and not Acknowledgement.objects.exists()


def test_an_outsider_cannot_reach_the_sign_endpoint(staff, client_for):
    outsider = owing(name="Elm Trust").person
    assert client_for(outsider).post(sign_url(staff), form_data(staff)).status_code == 404
    assert not Acknowledgement.objects.exists()
