"""SCIM 2.0 behaviour: what each request saves, the errors (never a 500), scope, and the audit log."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conduct.models import AuditAction, AuditLogEntry, Person, Role
from conduct.tests.factories import PersonFactory, RoleFactory
from provisioning.models import ExternalIdentity, ProvisioningToken, ScimGroup
from provisioning.tests.conftest import user_body
from provisioning.tokens import token_revoke

PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"

pytestmark = pytest.mark.django_db


def _create(scim, user_name="jo@oak.example", email="jo@oak.example", **extra):
    status, body = scim.call("POST", "Users", user_body(user_name, email, **extra))
    assert status == 201, body
    return body


def _group(scim, organisation, kind="employee", members=()):
    status, body = scim.call(
        "POST",
        "Groups",
        {"schemas": [GROUP], "displayName": f"{organisation.slug}:{kind}", "members": [{"value": m} for m in members]},
    )
    assert status == 201, body
    return body


# --- Tokens --------------------------------------------------------------------------------------


def test_without_a_token_every_endpoint_answers_401_with_a_scim_error(scim_for):
    for secret in (None, "nonsense", "cct_" + "x" * 40):
        client = scim_for(secret)
        for path in ("ServiceProviderConfig", "Users", "Groups", "Schemas"):
            status, body = client.call("GET", path)
            assert status == 401
            assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
            assert body["status"] == "401"
    assert ExternalIdentity.objects.count() == 0


def test_a_revoked_token_stops_working_and_only_the_hash_is_stored(scim, token, admin):
    assert scim.call("GET", "Users")[0] == 200
    stored = ProvisioningToken.objects.get(pk=token.token.pk)
    assert token.secret not in (stored.secret_hash, stored.prefix) and len(stored.secret_hash) == 64
    assert stored.last_used_at is not None
    token_revoke(actor=admin, token=stored)
    assert scim.call("GET", "Users")[0] == 401


# --- Users ---------------------------------------------------------------------------------------


def test_create_user_makes_a_person_and_an_audited_identity(scim, token, tree):
    body = _create(scim, displayName="Jo Bloggs", externalId="mis-1")
    person = Person.objects.get(email="jo@oak.example")
    assert person.full_name == "Jo Bloggs" and person.is_active
    identity = ExternalIdentity.objects.get(person=person)
    assert str(identity.uuid) == body["id"] and identity.external_id == "mis-1"
    assert identity.organisation == tree["trust"]
    entry = AuditLogEntry.objects.get(action=AuditAction.ROSTER_SYNCED, subject=person)
    assert entry.actor is None and entry.details["via"] == "scim" and entry.details["token"] == token.token.pk
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")


def test_filters_and_paging(scim):
    ids = [_create(scim, f"u{i}@oak.example", f"u{i}@oak.example", externalId=f"ext-{i}")["id"] for i in range(5)]
    status, body = scim.call("GET", 'Users?filter=userName eq "U3@OAK.example"')
    assert status == 200 and body["totalResults"] == 1 and body["Resources"][0]["id"] == ids[3]
    status, body = scim.call("GET", 'Users?filter=externalId eq "ext-4"')
    assert body["totalResults"] == 1 and body["Resources"][0]["id"] == ids[4]
    status, body = scim.call("GET", 'Users?filter=externalId eq "EXT-4"')  # externalId is case-exact
    assert body["totalResults"] == 0
    status, body = scim.call("GET", "Users?startIndex=2&count=2")
    assert body["totalResults"] == 5 and body["startIndex"] == 2 and body["itemsPerPage"] == 2
    assert [r["id"] for r in body["Resources"]] == ids[1:3]
    status, body = scim.call("GET", "Users?count=0")
    assert body["totalResults"] == 5 and body.get("Resources", []) == []


@pytest.mark.parametrize(
    "query",
    ['displayName co "x"', 'userName sw "a"', "userName eq", "((", 'emails.value eq "a@b.c"', 'userName eq "a" or x'],
)
def test_an_unsupported_or_broken_filter_is_invalid_filter(scim, query):
    status, body = scim.call("GET", f"Users?filter={query}")
    assert status == 400 and body["scimType"] == "invalidFilter", body


def test_duplicate_user_name_or_external_id_is_409_uniqueness(scim):
    _create(scim, "jo@oak.example", "jo@oak.example", externalId="e1")
    status, body = scim.call("POST", "Users", user_body("JO@oak.example", "other@oak.example"))
    assert status == 409 and body["scimType"] == "uniqueness"
    status, body = scim.call("POST", "Users", user_body("new@oak.example", "new@oak.example", externalId="e1"))
    assert status == 409 and body["scimType"] == "uniqueness"
    assert Person.objects.filter(email__in=["other@oak.example", "new@oak.example"]).count() == 0


@pytest.mark.parametrize(
    "body",
    [
        [],
        "a string",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]},
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "x", "emails": [{"value": "nope"}]},
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "x" * 300,
            "emails": [{"value": "a@b.co"}],
        },
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": 12, "emails": {"value": 3}},
        {"schemas": ["urn:wrong"], "userName": "x", "emails": [{"value": "a@b.co"}]},
        user_body("x@oak.example", "x@oak.example", displayName="N" * 201),
        user_body("y", "y" * 250 + "@b.co"),
        user_body("z", "z@oak.example", active="sometimes"),
    ],
)
def test_bad_user_bodies_are_scim_400s_and_save_nothing(scim, body):
    status, answer = scim.call("POST", "Users", body)
    assert status == 400, answer
    assert answer["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert ExternalIdentity.objects.count() == 0
    assert not Person.objects.exclude(email="ada@oak.example").exists()


def test_unparseable_json_and_unknown_endpoints(scim):
    status, body = scim.call("POST", "Users", raw=b"{not json")
    assert status == 400 and body["scimType"] == "invalidSyntax"
    status, body = scim.call("POST", "Users", raw="\udcff".encode("utf-8", "surrogatepass"))
    assert status == 400
    assert scim.call("GET", "Nope")[0] == 404
    assert scim.call("GET", "Users/not-a-uuid")[0] == 404
    assert scim.call("PUT", "ServiceProviderConfig", {})[0] == 405
    assert scim.call("POST", ".search", {})[0] == 501


@pytest.mark.parametrize(
    "operations",
    [
        "not a list",
        [{"op": "explode", "path": "active", "value": True}],
        [{"op": "replace", "path": "nosuch.attr[", "value": 1}],
        [{"op": "remove", "path": "userName"}],
        [{"op": "replace", "path": "emails", "value": []}],
        [{"op": "add"}],
        [{"op": "replace", "value": {"userName": None}}],
    ],
)
def test_bad_patches_are_scim_400s_and_change_nothing(scim, operations):
    created = _create(scim, displayName="Jo Bloggs")
    status, body = scim.call("PATCH", f"Users/{created['id']}", {"schemas": [PATCH], "Operations": operations})
    assert status == 400, body
    identity = ExternalIdentity.objects.get()
    assert identity.user_name == "jo@oak.example" and identity.person.full_name == "Jo Bloggs"


def test_entra_id_provisioning_sequence(scim, tree):
    """The requests Microsoft documents for Entra ID's SCIM provisioning, in order (with their odd shapes)."""
    create = {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7b2d7c5b6ab8",
        "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@oak.example",
        "active": True,
        "emails": [
            {"primary": True, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@oak.example"}
        ],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Maths", "employeeNumber": "42"},
    }
    status, created = scim.call("POST", "Users", create)
    assert status == 201, created
    person = Person.objects.get(email="test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@oak.example")
    assert person.full_name == "givenName familyName"
    # Entra checks the user exists, by userName, before and after creating it.
    status, found = scim.call("GET", f'Users?filter=userName eq "{create["userName"]}"')
    assert status == 200 and found["totalResults"] == 1 and found["Resources"][0]["id"] == created["id"]
    status, missing = scim.call("GET", 'Users?filter=userName eq "non-existent user"')
    assert status == 200 and missing["totalResults"] == 0
    _group(scim, tree["north"], "employee", members=[created["id"]])
    role = Role.objects.get(person=person, organisation=tree["north"], kind="employee")
    assert role.ends_on is None
    # PATCH attributes: a path-less replace with several attributes, "False"/"True" strings, a filtered path.
    patch = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "updated.email@oak.example"},
            {"op": "Replace", "value": {"name.familyName": "updatedFamilyName", "displayName": "Jo Updated"}},
            {"op": "Add", "path": "externalId", "value": "new-external-id"},
            {"op": "Replace", "path": "active", "value": "True"},
        ],
    }
    status, patched = scim.call("PATCH", f"Users/{created['id']}", patch)
    assert status == 200, patched
    person.refresh_from_db()
    assert person.email == "updated.email@oak.example" and person.full_name == "Jo Updated"
    assert patched["name"]["familyName"] == "updatedFamilyName" and patched["externalId"] == "new-external-id"
    # Disable the user: PATCH active "False" (a string) is a leaver; their roles end today, the account stays.
    status, disabled = scim.call(
        "PATCH",
        f"Users/{created['id']}",
        {"schemas": [PATCH], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]},
    )
    assert status == 200 and disabled["active"] is False
    role.refresh_from_db()
    assert role.ends_on == timezone.localdate() and "inactive" in role.end_reason
    person.refresh_from_db()
    assert person.is_active  # a leaver still reaches their own records
    left = AuditLogEntry.objects.get(action=AuditAction.PERSON_LEFT, subject=person)
    assert left.details["via"] == "scim" and left.actor is None
    # Entra deletes the user last: deactivated, still on record, gone from SCIM.
    assert scim.call("DELETE", f"Users/{created['id']}")[0] == 204
    person.refresh_from_db()
    assert not person.is_active and Person.objects.filter(pk=person.pk).exists()
    assert scim.call("GET", f"Users/{created['id']}")[0] == 404
    assert scim.call("GET", f'Users?filter=userName eq "{create["userName"]}"')[1]["totalResults"] == 0


def test_put_replaces_and_a_taken_email_is_409(scim):
    first = _create(scim, "a@oak.example", "a@oak.example", displayName="A")
    _create(scim, "b@oak.example", "b@oak.example", displayName="B")
    status, body = scim.call(
        "PUT", f"Users/{first['id']}", user_body("a2@oak.example", "b@oak.example", displayName="A")
    )
    assert status == 409 and body["scimType"] == "uniqueness"
    status, body = scim.call(
        "PUT", f"Users/{first['id']}", user_body("a2@oak.example", "a2@oak.example", displayName="Al")
    )
    assert status == 200 and body["userName"] == "a2@oak.example"
    assert Person.objects.get(email="a2@oak.example").full_name == "Al"


# --- Groups --------------------------------------------------------------------------------------


def test_group_membership_starts_and_ends_the_role(scim, tree):
    user = _create(scim, displayName="Jo Bloggs")
    person = Person.objects.get(email="jo@oak.example")
    group = _group(scim, tree["south"], "volunteer")
    assert not Role.objects.filter(person=person).exists()
    add = {"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [{"value": user["id"]}]}]}
    status, body = scim.call("PATCH", f"Groups/{group['id']}", add)
    assert status == 200 and [m["value"] for m in body["members"]] == [user["id"]]
    role = Role.objects.get(person=person, organisation=tree["south"], kind="volunteer")
    assert role.starts_on == timezone.localdate() and role.ends_on is None
    remove = {"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{user["id"]}"]'}]}
    status, body = scim.call("PATCH", f"Groups/{group['id']}", remove)
    assert status == 200 and not body.get("members")
    role.refresh_from_db()
    assert role.ends_on == timezone.localdate()
    assert AuditLogEntry.objects.filter(action=AuditAction.ROLE_ENDED, subject=person).exists()


def test_a_token_never_grants_officer_roles_or_reaches_another_trust(scim, tree, other_tree):
    status, body = scim.call("POST", "Groups", {"schemas": [GROUP], "displayName": f"{tree['north'].slug}:admin"})
    assert status == 403
    status, body = scim.call(
        "POST", "Groups", {"schemas": [GROUP], "displayName": f"{other_tree['north'].slug}:employee"}
    )
    assert status == 403
    status, body = scim.call("POST", "Groups", {"schemas": [GROUP], "displayName": "no colon here"})
    assert status == 400 and body["scimType"] == "invalidValue"
    assert ScimGroup.objects.count() == 0


def test_one_trusts_token_never_reads_or_changes_another_trusts_people(scim, scim_for, other_token, other_tree):
    theirs = scim_for(other_token.secret)
    status, elm_user = theirs.call("POST", "Users", user_body("el@elm.example", "el@elm.example", displayName="El"))
    assert status == 201
    elm_group = _group(theirs, other_tree["north"], "employee", members=[elm_user["id"]])
    # Oak's token sees none of it, by id, by filter or in lists, and cannot change or delete it.
    assert scim.call("GET", f"Users/{elm_user['id']}")[0] == 404
    assert scim.call("GET", 'Users?filter=userName eq "el@elm.example"')[1]["totalResults"] == 0
    assert scim.call("GET", "Users")[1]["totalResults"] == 0
    assert scim.call("GET", "Groups")[1]["totalResults"] == 0
    assert scim.call("PUT", f"Users/{elm_user['id']}", user_body("x@oak.example", "x@oak.example"))[0] == 404
    patch = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": False}]}
    assert scim.call("PATCH", f"Users/{elm_user['id']}", patch)[0] == 404
    assert scim.call("DELETE", f"Users/{elm_user['id']}")[0] == 404
    assert scim.call("DELETE", f"Groups/{elm_group['id']}")[0] == 404
    # Nor can it claim Elm's person by creating a user with their email address.
    status, body = scim.call("POST", "Users", user_body("el", "el@elm.example", displayName="Renamed"))
    assert status == 409 and body["scimType"] == "uniqueness"
    el = Person.objects.get(email="el@elm.example")
    assert el.full_name == "El" and el.is_active
    assert Role.objects.get(person=el).ends_on is None


def test_a_person_with_roles_elsewhere_is_not_renamed_or_deactivated_by_a_token(scim, tree, other_tree):
    shared = PersonFactory.create(email="shared@example.org", full_name="Sam Shared")
    today = timezone.localdate()
    RoleFactory.create(person=shared, organisation=tree["north"], kind="employee", starts_on=today)
    RoleFactory.create(person=shared, organisation=other_tree["north"], kind="employee", starts_on=today)
    created = _create(scim, "shared@example.org", "shared@example.org")  # linked: they hold a role here
    status, body = scim.call(
        "PUT", f"Users/{created['id']}", user_body("shared@example.org", "shared@example.org", displayName="Other")
    )
    assert status == 403
    assert scim.call("DELETE", f"Users/{created['id']}")[0] == 204
    shared.refresh_from_db()
    assert shared.full_name == "Sam Shared" and shared.is_active
    assert Role.objects.get(person=shared, organisation=tree["north"]).ends_on == today
    assert Role.objects.get(person=shared, organisation=other_tree["north"]).ends_on is None


def test_list_query_count_does_not_grow_with_users(scim, tree):
    users = [_create(scim, f"u{i}@oak.example", f"u{i}@oak.example")["id"] for i in range(3)]
    _group(scim, tree["north"], "employee", members=users)
    with CaptureQueriesContext(connection) as few:
        assert scim.call("GET", "Groups")[0] == 200
        assert scim.call("GET", "Users")[0] == 200
    for i in range(3, 12):
        users.append(_create(scim, f"u{i}@oak.example", f"u{i}@oak.example")["id"])
    _group(scim, tree["south"], "employee", members=users)
    with CaptureQueriesContext(connection) as many:
        status, body = scim.call("GET", "Groups")
        assert status == 200 and len(body["Resources"][1]["members"]) == 12
        assert scim.call("GET", "Users")[1]["totalResults"] == 12
    assert len(many.captured_queries) == len(few.captured_queries) <= 12


def test_schemas_advertise_only_what_is_kept(scim, tree):
    status, body = scim.call("GET", "Schemas")
    user = next(s for s in body["Resources"] if s["id"].endswith(":User"))
    assert {a["name"] for a in user["attributes"]} == {"userName", "name", "displayName", "active", "emails"}
    role_group = next(s for s in body["Resources"] if s["id"].endswith(":RoleGroup"))
    organisations = next(a for a in role_group["attributes"] if a["name"] == "organisation")["canonicalValues"]
    assert set(organisations) == {o.slug for o in tree.values()}
    kinds = next(a for a in role_group["attributes"] if a["name"] == "roleKind")["canonicalValues"]
    assert "admin" not in kinds and "employee" in kinds
    status, config = scim.call("GET", "ServiceProviderConfig")
    assert config["patch"]["supported"] and config["filter"] == {"supported": True, "maxResults": 200}
    assert not any(config[f]["supported"] for f in ("bulk", "sort", "etag", "changePassword"))
    assert json.dumps(config).count("oauthbearertoken") == 1
