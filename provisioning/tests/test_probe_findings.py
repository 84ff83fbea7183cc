"""Regressions for what a probe of provisioning found: rejected forms answer 400; SCIM refuses, never a 500."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conduct.models import Person
from provisioning.models import ExternalIdentity, ProvisioningToken, RosterUpload
from provisioning.tests.conftest import user_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["provisioning:tokens", "provisioning:roster"])
def test_an_empty_post_answers_400_with_the_error_summary_and_saves_nothing(admin, tree, client_for, page):
    tokens, uploads = ProvisioningToken.objects.count(), RosterUpload.objects.count()

    response = client_for(admin).post(reverse(page, args=[tree["trust"].slug]), {})

    assert response.status_code == 400
    assert "data-error-summary" in response.content.decode()
    assert (ProvisioningToken.objects.count(), RosterUpload.objects.count()) == (tokens, uploads)


def test_a_start_index_beyond_any_database_offset_is_an_empty_page_not_a_server_error(scim):
    assert scim.call("POST", "Users", user_body("ria@oak.example", "ria@oak.example"))[0] == 201

    status, listed = scim.call("GET", "Users?startIndex=" + "9" * 30 + "&count=10")

    assert status == 200
    assert listed["totalResults"] == 1 and listed["Resources"] == []


@pytest.mark.parametrize(
    "extra",
    [{"displayName": "Ria\x00Rahman"}, {"title": "Head\x00of year"}, {"name": {"familyName": "Rah\x00man"}}],
)
def test_a_nul_anywhere_in_a_scim_body_is_an_invalid_value_and_nothing_is_saved(scim, extra):
    people = Person.objects.count()

    status, error = scim.call("POST", "Users", user_body("ria@oak.example", "ria@oak.example", **extra))

    assert (status, error["scimType"]) == (400, "invalidValue")
    assert "NUL" in error["detail"]
    assert Person.objects.count() == people and not ExternalIdentity.objects.exists()


def test_a_nul_in_a_patch_changes_nothing(scim):
    status, created = scim.call("POST", "Users", user_body("ria@oak.example", "ria@oak.example", displayName="Ria"))
    assert status == 201
    patch = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "\x00"}],
    }

    status, error = scim.call("PATCH", f"Users/{created['id']}", patch)

    assert (status, error["scimType"]) == (400, "invalidValue")
    assert Person.objects.get(email="ria@oak.example").full_name == "Ria"


def test_a_body_nested_deeper_than_the_parser_allows_is_invalid_syntax(scim):
    status, error = scim.call("POST", "Users", raw="[" * 100_000 + "]" * 100_000)

    assert (status, error["scimType"]) == (400, "invalidSyntax")
    assert not ExternalIdentity.objects.exists()


@pytest.mark.parametrize(
    "data, message",
    [
        (b"a" * 200_000, "cannot be read as CSV"),  # one cell larger than the csv module's field limit
        (b"first,second\n1,2\n", "The first row must name the columns"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_at_upload_with_its_reason(admin, tree, client_for, data, message):
    response = client_for(admin).post(
        reverse("provisioning:roster", args=[tree["trust"].slug]),
        {"file": SimpleUploadedFile("mis.csv", data, "text/csv"), "leavers_on": "2026-12-01"},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not RosterUpload.objects.exists()
