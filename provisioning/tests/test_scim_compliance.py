"""scim2-tester, a third-party SCIM compliance checker, against the live server: zero failures.

Every check it runs for what ServiceProviderConfig advertises (discovery, Users and Groups:
create, read, list with attributes, replace, delete, PATCH add/remove/replace on each attribute)
must succeed; checks of what is not advertised (POST /.search across resource types) are skipped
by the tester itself, and nothing else may be.
"""

from __future__ import annotations

import pytest
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from provisioning.models import ExternalIdentity, ScimGroup


@pytest.fixture
def scim_client(live_server, token):
    http = Client(base_url=f"{live_server.url}/scim/v2", headers={"Authorization": f"Bearer {token.secret}"})
    yield SyncSCIMClient(http)
    http.close()


@pytest.mark.django_db(transaction=True)
def test_scim2_tester_finds_no_failure(scim_client, token):
    results = check_server(scim_client)
    failures = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    skipped = [r for r in results if r.status == Status.SKIPPED]
    report = "\n".join(f"{r.status.name} {r.resource_type or ''} {r.title}: {r.reason}" for r in failures)
    assert not failures, report
    successes = [r for r in results if r.status == Status.SUCCESS]
    # It did exercise both resource types, discovery and the PATCH operations.
    assert {r.resource_type for r in successes} >= {"User", "Group"}
    assert any("patch" in " ".join(sorted(r.tags)) for r in successes)
    # Only what the server does not advertise is skipped (searching all resource types at once).
    assert all(".search" in (r.reason or "") for r in skipped), [(r.title, r.reason) for r in skipped]
    # What it created was provisioned for the token's organisation only.
    assert ExternalIdentity.objects.exclude(organisation=token.token.organisation).count() == 0
    assert ScimGroup.objects.exclude(scope=token.token.organisation).count() == 0
