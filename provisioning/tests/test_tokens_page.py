"""The tokens page: an admin creates a token (shown once), revokes it; nobody else reaches it."""

from __future__ import annotations

import hashlib

import pytest
from django.utils import timezone

from conduct.models import AuditAction, AuditLogEntry
from conduct.tests.factories import PersonFactory, RoleFactory
from provisioning.models import ProvisioningToken

pytestmark = pytest.mark.django_db


def test_admin_creates_a_token_shown_once_and_stored_hashed(client_for, admin, tree):
    client = client_for(admin)
    url = f"/provisioning/{tree['trust'].slug}/tokens/"
    response = client.post(url, {"name": "Entra ID"}, follow=True)
    assert response.status_code == 200
    token = ProvisioningToken.objects.get()
    secret = response.context["new_secret"]
    assert secret.startswith("cct_") and len(secret) > 40
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret in response.content.decode()
    assert token.organisation == tree["trust"] and token.created_by == admin
    entry = AuditLogEntry.objects.get(action=AuditAction.TOKEN_CREATED)
    assert entry.actor == admin and entry.target_id == str(token.pk) and secret not in str(entry.details)
    # Shown once: the next visit no longer has it.
    again = client.get(url)
    assert secret not in again.content.decode() and "Entra ID" in again.content.decode()


def test_a_blank_or_overlong_name_is_a_form_error_and_saves_nothing(client_for, admin, tree):
    client = client_for(admin)
    url = f"/provisioning/{tree['trust'].slug}/tokens/"
    for name in ("", "   ", "x" * 101):
        response = client.post(url, {"name": name})
        assert response.context["form"].errors, name
    assert ProvisioningToken.objects.count() == 0


def test_admin_revokes_a_token_once(client_for, admin, tree, token):
    client = client_for(admin)
    url = f"/provisioning/{tree['trust'].slug}/tokens/{token.token.pk}/revoke/"
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302  # a second click changes nothing
    token.token.refresh_from_db()
    assert token.token.revoked_at is not None and token.token.revoked_by == admin
    assert AuditLogEntry.objects.filter(action=AuditAction.TOKEN_REVOKED).count() == 1
    assert client.get(url).status_code == 405


def test_nobody_but_the_organisations_admins_reaches_its_tokens(client_for, tree, other_admin, token):
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=tree["board"], kind="clerk", starts_on=timezone.localdate())
    school_admin = PersonFactory.create()
    RoleFactory.create(person=school_admin, organisation=tree["north"], kind="admin", starts_on=timezone.localdate())
    for who in (other_admin, clerk, school_admin):
        client = client_for(who)
        assert client.get(f"/provisioning/{tree['trust'].slug}/tokens/").status_code == 404
        assert client.post(f"/provisioning/{tree['trust'].slug}/tokens/", {"name": "x"}).status_code == 404
        revoke = f"/provisioning/{tree['trust'].slug}/tokens/{token.token.pk}/revoke/"
        assert client.post(revoke).status_code == 404
        assert client.get(f"/provisioning/{tree['trust'].slug}/roster/").status_code == 404
    # A school admin manages their own school's tokens.
    assert client_for(school_admin).get(f"/provisioning/{tree['north'].slug}/tokens/").status_code == 200
    token.token.refresh_from_db()
    assert token.token.revoked_at is None and ProvisioningToken.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(client, tree):
    response = client.get(f"/provisioning/{tree['trust'].slug}/tokens/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_provisioning_menu_leads_admins_to_their_organisations(client_for, admin, tree, other_tree):
    response = client_for(admin).get("/provisioning/")
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        f"/provisioning/{tree['trust'].slug}/roster/" in page and f"/provisioning/{tree['north'].slug}/tokens/" in page
    )
    assert other_tree["trust"].slug not in page
    assert 'href="/provisioning/"' in page  # the menu link
    signatory = PersonFactory.create()
    RoleFactory.create(person=signatory, organisation=tree["north"], kind="employee", starts_on=timezone.localdate())
    response = client_for(signatory).get("/provisioning/")
    assert response.status_code == 404
