"""Fixtures for provisioning tests: a trust with an admin, a token for it, a SCIM client."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from conduct.tests.factories import PersonFactory, RoleFactory
from provisioning.tokens import NewToken, token_create

SCIM = "/scim/v2/"
SCIM_JSON = "application/scim+json"


@pytest.fixture
def admin(tree):
    person = PersonFactory.create(full_name="Ada Admin", email="ada@oak.example")
    RoleFactory.create(person=person, organisation=tree["trust"], kind="admin", starts_on=timezone.localdate())
    return person


@pytest.fixture
def other_admin(other_tree):
    person = PersonFactory.create(full_name="Elmer Admin", email="elmer@elm.example")
    RoleFactory.create(person=person, organisation=other_tree["trust"], kind="admin", starts_on=timezone.localdate())
    return person


@pytest.fixture
def token(admin, tree) -> NewToken:
    return token_create(actor=admin, organisation=tree["trust"], name="Entra ID provisioning")


@pytest.fixture
def other_token(other_admin, other_tree) -> NewToken:
    return token_create(actor=other_admin, organisation=other_tree["trust"], name="Elm Entra")


class ScimClient:
    """A test client speaking SCIM with a bearer token: ``call("POST", "Users", {...})`` → (status, json)."""

    def __init__(self, secret: str | None):
        self.client = Client()
        self.secret = secret

    def call(self, method: str, path: str, body: Any = None, *, raw: bytes | str | None = None) -> tuple[int, Any]:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.secret}"} if self.secret else {}
        data: Any = raw if raw is not None else (json.dumps(body) if body is not None else None)
        kwargs: dict[str, Any] = {"content_type": SCIM_JSON, **headers}
        if data is not None:
            kwargs["data"] = data
        response = getattr(self.client, method.lower())(SCIM + path, **kwargs)
        content = response.content.decode() if response.content else ""
        payload = json.loads(content) if content else None
        if payload is not None:
            assert response["Content-Type"].startswith(SCIM_JSON)
        return response.status_code, payload


@pytest.fixture
def scim(token) -> ScimClient:
    return ScimClient(token.secret)


@pytest.fixture
def scim_for() -> Callable[[str | None], ScimClient]:
    return ScimClient


def user_body(user_name: str, email: str, **extra: Any) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "emails": [{"value": email, "type": "work", "primary": True}],
        **extra,
    }
