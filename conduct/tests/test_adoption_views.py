"""Adoption in the browser forms, the certificate, and who may do it."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from acknowledgements.models import Obligation, SealedPdf
from acknowledgements.verification import verify_code, verify_pdf
from conduct import drafting
from conduct.drafting import ClauseContent
from conduct.models import (
    Adoption,
    Code,
    CodeVersion,
    Meeting,
    Organisation,
    Person,
    VersionStatus,
)
from conduct.services import adoption_evidence, adoption_evidence_hash
from core.canonical import canonical_json
from core.pdf import check_seal, embedded_files

pytestmark = pytest.mark.django_db

LLT_CODE = "llt-governance-code-of-conduct"


def person(email: str) -> Person:
    return Person.objects.get(email=email)


@pytest.fixture
def code(demo) -> Code:
    return Code.objects.get(slug=LLT_CODE)


@pytest.fixture
def draft(code) -> CodeVersion:
    """Next year's governance code: one statement reworded, one new statement."""
    clerk = person("clerk@llt.example")
    version = drafting.draft_start(code=code, created_by=clerk)
    sections = version.ordered_sections()
    confidentiality = next(s for s in sections if s.title == "Respect confidentiality")
    clause = confidentiality.clauses.all()[3]
    assert clause.text == "We will maintain confidentiality even after we leave office."
    drafting.clause_update(
        clause=clause,
        revision=version.revision,
        by=clerk,
        content=ClauseContent(
            text="We will maintain confidentiality even after we leave the board.",
            number=clause.number,
            style=clause.style,
            is_new=True,
        ),
    )
    version.refresh_from_db()
    drafting.clause_add(
        section=confidentiality,
        revision=version.revision,
        by=clerk,
        content=ClauseContent(
            text="We will use trust email accounts for board business.", number="5", style="numbered"
        ),
        after=clause,
    )
    return CodeVersion.objects.get(pk=version.pk)


@pytest.fixture
def meeting(code) -> Meeting:
    board = Organisation.objects.get(slug="llt-board")
    return Meeting.objects.create(
        board=board,
        held_on=timezone.localdate() - timedelta(days=2),
        title="Autumn term board meeting",
        minutes_reference="LLT-TB-2026-11",
    )


def adopt_url(version: CodeVersion, board_slug: str = "llt-board") -> str:
    return reverse("conduct:adopt", args=[version.code.slug, version.pk, board_slug])


def form_data(meeting: Meeting, chair: Person, **overrides) -> dict:
    data = {
        "meeting": meeting.pk,
        "minute_reference": "item 5",
        "chair": chair.pk,
        "chair_signature": chair.full_name,
        "effective_on": meeting.held_on.isoformat(),
        "review_due_on": "",
        "signing_due_on": "",
    }
    return {**data, **overrides}


def test_the_chair_adopts_the_draft_at_a_meeting(draft, meeting, client_for, django_capture_on_commit_callbacks):
    chair = person("chair@llt.example")
    client = client_for(chair)
    page = client.get(adopt_url(draft)).content.decode()
    assert "Leading Learners Trust Board adopts" in page and "on the chair's behalf" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(adopt_url(draft), form_data(meeting, chair), HTTP_USER_AGENT="Playwright/1.0")
    adoption = Adoption.objects.get(version=draft, board__slug="llt-board")
    assert response.status_code == 302 and response["Location"] == reverse("conduct:adoption", args=[adoption.pk])
    assert (adoption.chair, adoption.recorded_by, adoption.recorded_on_behalf) == (chair, chair, False)
    assert (adoption.ip_address, adoption.user_agent, adoption.minute_reference) == (
        "127.0.0.1",
        "Playwright/1.0",
        "item 5",
    )
    assert adoption.review_due_on == date(meeting.held_on.year + 1, meeting.held_on.month, meeting.held_on.day)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.ADOPTED
    trustee = person("trustee@llt.example")
    assert Obligation.objects.filter(person=trustee, version=draft, adoption=adoption).exists()
    assert not Obligation.objects.filter(person=person("governor@llt.example"), version=draft).exists()
    # The certificate was issued by the task queued on commit.
    assert SealedPdf.objects.filter(adoption=adoption).count() == 1
    followed = client.get(response["Location"]).content.decode()
    assert "people now owe a signature" in followed and adoption.verification_code in followed


def test_the_clerk_records_the_decision_on_the_chairs_behalf(draft, meeting, client_for):
    chair, clerk = person("chair@llt.example"), person("clerk@llt.example")
    client = client_for(clerk)
    assert "on the chair's behalf" in client.get(adopt_url(draft)).content.decode()
    client.post(adopt_url(draft), form_data(meeting, chair))
    adoption = Adoption.objects.get(version=draft)
    assert (adoption.chair, adoption.recorded_by, adoption.recorded_on_behalf) == (chair, clerk, True)
    history = client.get(reverse("conduct:code_history", args=[LLT_CODE])).content.decode()
    assert "recorded by Daniel Reeve on the chair's behalf" in history


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"chair_signature": "H Marsh"}, "The signature must be the chair&#x27;s name as on record: Helen Marsh."),
        ({"review_due_on": "2020-01-01"}, "The review date cannot be before the effective date."),
        ({"effective_on": "2020-01-01"}, "The code cannot take effect before the meeting that adopted it."),
    ],
)
def test_bad_input_shows_a_clear_error_and_saves_nothing(draft, meeting, client_for, overrides, message):
    chair = person("chair@llt.example")
    response = client_for(chair).post(adopt_url(draft), form_data(meeting, chair, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT and not draft.adoptions.exists()
    assert not Obligation.objects.filter(version=draft).exists()


def test_a_future_meeting_is_not_offered_and_is_refused(draft, client_for):
    chair = person("chair@llt.example")
    future = Meeting.objects.create(
        board=Organisation.objects.get(slug="llt-board"), held_on=timezone.localdate() + timedelta(days=7)
    )
    client = client_for(chair)
    assert f'value="{future.pk}"' not in client.get(adopt_url(draft)).content.decode()
    response = client.post(adopt_url(draft), form_data(future, chair))
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not draft.adoptions.exists()


def test_a_draft_without_clauses_cannot_be_adopted_through_the_form(code, meeting, client_for):
    chair = person("chair@llt.example")
    empty = drafting.code_create(
        owner=code.owner, details=drafting.CodeDetails(title="Empty code", audience=["trustee"]), created_by=chair
    )
    response = client_for(chair).post(adopt_url(empty), form_data(meeting, chair))
    assert "This version has no clauses; add its text before adopting it." in response.content.decode()
    assert not Adoption.objects.filter(version=empty).exists()


def test_an_adopted_version_cannot_be_adopted_again_by_the_same_board(code, meeting, client_for):
    chair = person("chair@llt.example")
    current = code.versions.get()
    response = client_for(chair).post(adopt_url(current), form_data(meeting, chair))
    assert "Leading Learners Trust Board has already adopted" in response.content.decode()
    assert current.adoptions.count() == 2  # the demo's two boards, nothing new


def test_the_board_chooser_lists_the_boards_the_user_adopts_for(draft, client_for):
    clerk = client_for(person("clerk@llt.example"))
    response = clerk.get(reverse("conduct:adoption_start", args=[LLT_CODE, draft.pk]))
    page = response.content.decode()
    assert "Leading Learners Trust Board" in page and "Meadowbank Local Governing Board" in page
    lgb_chair = client_for(person("lgbchair@llt.example"))
    current = draft.code.versions.exclude(pk=draft.pk).get()
    # The LGB chair adopts for one board only and cannot see the draft, but may adopt adopted text.
    assert lgb_chair.get(reverse("conduct:adoption_start", args=[LLT_CODE, draft.pk])).status_code == 404
    chooser = lgb_chair.get(reverse("conduct:adoption_start", args=[LLT_CODE, current.pk]))
    assert chooser.status_code == 200 and "Already adopted" in chooser.content.decode()


def test_a_local_board_chair_cannot_adopt_for_the_trust_board(code, client_for):
    current = code.versions.get()
    lgb_chair = client_for(person("lgbchair@llt.example"))
    assert lgb_chair.get(adopt_url(current, "llt-board")).status_code == 404
    assert lgb_chair.get(adopt_url(current, "llt-meadowbank-lgb")).status_code == 200


# ---------------------------------------------------------------------------
# The certificate
# ---------------------------------------------------------------------------


@pytest.fixture
def adoption(draft, meeting, client_for) -> Adoption:
    chair = person("chair@llt.example")
    client_for(chair).post(adopt_url(draft), form_data(meeting, chair))
    return Adoption.objects.get(version=draft)


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_certificate_states_the_adoption_lists_the_changes_and_is_sealed(adoption, client_for):
    response = client_for(person("clerk@llt.example")).get(
        reverse("acknowledgements:adoption_certificate", args=[adoption.pk])
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert (
        'filename="adoption-certificate-llt-governance-code-of-conduct-2025-2026-llt-board.pdf"'
        in response["Content-Disposition"]
    )
    content = response.content
    assert check_seal(content).ok
    text = " ".join(pdf_text(content).split())
    compact = "".join(text.split())  # long hashes wrap across lines
    assert adoption.content_hash in compact and adoption.verification_code in compact
    for expected in (
        "Certificate of adoption",
        "Leading Learners Trust Board",
        "Autumn term board meeting",
        "Helen Marsh",
        "Changes since the previous version",
        "Compared with version 2024-2025: 1 new clause, 1 reworded.",
        "Reworded",
        "We will maintain confidentiality even after we leave",
        "New clause",
        "We will use trust email accounts for board business.",
        "The adopted text",
        "We will act solely in terms of the public interest.",
    ):
        assert expected in text, expected
    evidence = json.loads(embedded_files(content)["evidence.json"])
    assert evidence["evidence_hash"] == adoption.evidence_hash
    assert evidence["verification_code"] == adoption.verification_code
    stored = Adoption.objects.get(pk=adoption.pk)
    assert {k: v for k, v in evidence.items() if k not in ("evidence_hash", "verification_code")} == json.loads(
        canonical_json(adoption_evidence(stored))
    )
    assert adoption_evidence_hash(stored) == evidence["evidence_hash"]


def test_every_download_returns_the_stored_bytes(adoption, client_for):
    client = client_for(person("chair@llt.example"))
    url = reverse("acknowledgements:adoption_certificate", args=[adoption.pk])
    first, second = client.get(url).content, client.get(url).content
    record = SealedPdf.objects.get(adoption=adoption)
    assert first == second and record.size == len(first)
    assert SealedPdf.objects.filter(adoption=adoption).count() == 1


def test_the_certificate_verifies_on_the_public_verification_page(adoption, client_for, client):

    content = (
        client_for(person("chair@llt.example"))
        .get(reverse("acknowledgements:adoption_certificate", args=[adoption.pk]))
        .content
    )
    assert verify_pdf(content).verified and verify_pdf(content).kind == "adoption"
    assert verify_code(adoption.verification_code).verified
    page = client.get(reverse("acknowledgements:verify") + "?code=" + adoption.verification_code).content.decode()
    assert "VERIFIED" in page


def test_the_first_version_of_a_code_has_no_previous_version_to_compare(code, meeting, client_for):
    chair = person("chair@llt.example")
    new = drafting.code_create(
        owner=code.owner,
        details=drafting.CodeDetails(title="Visitors code", audience=["trustee"]),
        created_by=chair,
        copy_of=code.versions.get(),
    )
    client = client_for(chair)
    client.post(adopt_url(new), form_data(meeting, chair))
    adoption = Adoption.objects.get(version=new)
    text = " ".join(
        pdf_text(client.get(reverse("acknowledgements:adoption_certificate", args=[adoption.pk])).content).split()
    )
    assert "This is the first version of Visitors code" in text
