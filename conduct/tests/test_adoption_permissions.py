"""Who may draft, hold meetings and adopt: every page of the cycle, for people of another trust and for signatories."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conduct import drafting
from conduct.models import (
    Adoption,
    Attendance,
    Clause,
    Code,
    CodeVersion,
    Meeting,
    Organisation,
    Person,
    Section,
)

pytestmark = pytest.mark.django_db

LLT_CODE = "llt-governance-code-of-conduct"


def person(email: str) -> Person:
    return Person.objects.get(email=email)


@pytest.fixture
def objects(demo):
    code = Code.objects.get(slug=LLT_CODE)
    adopted = code.versions.get()
    draft = drafting.draft_start(code=code, created_by=person("clerk@llt.example"))
    section = draft.ordered_sections()[1]
    clause = section.clauses.all()[0]
    board = Organisation.objects.get(slug="llt-board")
    meeting = Meeting.objects.filter(board=board).order_by("-held_on").first()
    adoption = Adoption.objects.filter(board=board).first()
    return {
        "code": code,
        "adopted": adopted,
        "draft": draft,
        "section": section,
        "clause": clause,
        "board": board,
        "meeting": meeting,
        "adoption": adoption,
    }


def cycle_urls(o) -> list[str]:
    slug, d = LLT_CODE, o["draft"].pk
    names = [
        ("code_history", [slug]),
        ("code_settings", [slug]),
        ("draft_start", [slug]),
        ("draft_edit", [slug, d]),
        ("draft_preview", [slug, d]),
        ("draft_details", [slug, d]),
        ("draft_discard", [slug, d]),
        ("section_add", [slug, d]),
        ("section_edit", [slug, d, o["section"].pk]),
        ("section_move", [slug, d, o["section"].pk]),
        ("section_remove", [slug, d, o["section"].pk]),
        ("clause_add", [slug, d, o["section"].pk]),
        ("clause_edit", [slug, d, o["clause"].pk]),
        ("clause_move", [slug, d, o["clause"].pk]),
        ("clause_remove", [slug, d, o["clause"].pk]),
        ("adoption_start", [slug, d]),
        ("adoption_start", [slug, o["adopted"].pk]),
        ("adopt", [slug, d, "llt-board"]),
        ("adopt", [slug, o["adopted"].pk, "llt-meadowbank-lgb"]),
        ("adoption", [o["adoption"].pk]),
        ("acknowledgements:adoption_certificate", [o["adoption"].pk]),
        ("board_meetings", ["llt-board"]),
        ("meeting_create", ["llt-board"]),
        ("meeting", [o["meeting"].pk]),
        ("meeting_edit", [o["meeting"].pk]),
    ]
    return [reverse(name if ":" in name else f"conduct:{name}", args=args) for name, args in names]


def snapshot(o) -> tuple:
    draft = CodeVersion.objects.get(pk=o["draft"].pk)
    return (
        draft.revision,
        draft.label,
        Section.objects.filter(version=draft).count(),
        Clause.objects.filter(section__version=draft).count(),
        Adoption.objects.count(),
        Meeting.objects.count(),
        Attendance.objects.count(),
        Code.objects.count(),
    )


@pytest.mark.parametrize("email", ["chair@att.example", "clerk@att.example", "admin@att.example", "chair@cp.example"])
def test_officers_of_another_organisation_get_404_everywhere_and_change_nothing(objects, client_for, email):
    client = client_for(person(email))
    before = snapshot(objects)
    revision = objects["draft"].revision
    for url in cycle_urls(objects):
        assert client.get(url).status_code in (404, 405), url
        posted = client.post(
            url, {"revision": revision, "direction": "up", "label": "Hijacked", "title": "Hijacked", "text": "Hijacked"}
        )
        assert posted.status_code == 404, url
    # Nor can they read or compare the trust's versions.
    compare = reverse("conduct:version_compare", args=[LLT_CODE])
    assert client.get(compare).status_code == 404
    assert client.get(compare + f"?from={objects['adopted'].pk}&to={objects['draft'].pk}").status_code == 404
    assert snapshot(objects) == before


@pytest.mark.parametrize("email", ["trustee@llt.example", "governor@llt.example", "staff@att.example"])
def test_signatories_cannot_draft_hold_meetings_or_adopt(objects, client_for, email):
    client = client_for(person(email))
    before = snapshot(objects)
    for url in cycle_urls(objects):
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url, {"revision": objects["draft"].revision, "text": "Hijacked"}).status_code == 404, url
    assert client.get(reverse("conduct:governance")).status_code == 404
    assert client.get(reverse("conduct:code_create")).status_code == 404
    assert snapshot(objects) == before


def test_pages_need_sign_in(objects, client):
    for url in cycle_urls(objects) + [reverse("conduct:governance"), reverse("conduct:code_create")]:
        response = client.get(url)
        assert response.status_code in (302, 405), url
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"], url


def test_the_trusts_own_officers_reach_every_page(objects, client_for):
    for email in ("clerk@llt.example", "admin@llt.example"):
        client = client_for(person(email))
        for url in cycle_urls(objects):
            if url.endswith("/move/"):
                continue  # POST only
            expected = 302 if url.endswith("/drafts/new/") else 200  # a draft is in progress: continue it
            assert client.get(url).status_code == expected, (email, url)


def test_a_chair_may_draft_for_the_organisation_their_board_governs(objects, client_for):
    chair = client_for(person("chair@llt.example"))
    assert chair.get(reverse("conduct:draft_edit", args=[LLT_CODE, objects["draft"].pk])).status_code == 200
    lgb_chair = client_for(person("lgbchair@llt.example"))  # chairs a local board: governs an academy, not the trust
    assert lgb_chair.get(reverse("conduct:draft_edit", args=[LLT_CODE, objects["draft"].pk])).status_code == 404
    assert lgb_chair.get(reverse("conduct:code_history", args=[LLT_CODE])).status_code == 200
    assert lgb_chair.get(reverse("conduct:board_meetings", args=["llt-meadowbank-lgb"])).status_code == 200
    assert lgb_chair.get(reverse("conduct:board_meetings", args=["llt-board"])).status_code == 404


def test_a_clerk_whose_role_has_ended_loses_access(objects, client_for):
    clerk = person("clerk@llt.example")
    clerk.roles.filter(kind="clerk").update(ends_on=timezone.localdate() - timedelta(days=1))
    client = client_for(clerk)
    assert client.get(reverse("conduct:draft_edit", args=[LLT_CODE, objects["draft"].pk])).status_code == 404
    assert client.get(reverse("conduct:board_meetings", args=["llt-board"])).status_code == 404


def test_changing_ids_in_the_url_to_another_trusts_records_gives_404(objects, client_for):
    """A clerk of one trust with a draft of their own, pointing their URLs at the other trust's records."""
    att_clerk = client_for(person("clerk@att.example"))
    att_code = Code.objects.get(slug="att-staff-code-of-conduct")
    att_draft = drafting.draft_start(code=att_code, created_by=person("clerk@att.example"))
    own = reverse("conduct:draft_edit", args=[att_code.slug, att_draft.pk])
    assert att_clerk.get(own).status_code == 200
    # Their own code's URL with the other trust's draft, section or clause id.
    assert att_clerk.get(reverse("conduct:draft_edit", args=[att_code.slug, objects["draft"].pk])).status_code == 404
    assert (
        att_clerk.get(
            reverse("conduct:section_edit", args=[att_code.slug, att_draft.pk, objects["section"].pk])
        ).status_code
        == 404
    )
    assert (
        att_clerk.get(
            reverse("conduct:clause_edit", args=[att_code.slug, att_draft.pk, objects["clause"].pk])
        ).status_code
        == 404
    )
    assert (
        att_clerk.post(
            reverse("conduct:clause_move", args=[att_code.slug, att_draft.pk, objects["clause"].pk]),
            {"revision": att_draft.revision, "direction": "down"},
        ).status_code
        == 404
    )
    assert att_clerk.get(reverse("conduct:adopt", args=[att_code.slug, att_draft.pk, "llt-board"])).status_code == 404
