"""Regressions for what a probe of the provisioning pages found: an empty POST is a rejected form (400, errors)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from provisioning.models import ProvisioningToken, RosterUpload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", ["provisioning:tokens", "provisioning:roster"])
def test_an_empty_post_answers_400_with_the_error_summary_and_saves_nothing(admin, tree, client_for, page):
    tokens, uploads = ProvisioningToken.objects.count(), RosterUpload.objects.count()

    response = client_for(admin).post(reverse(page, args=[tree["trust"].slug]), {})

    assert response.status_code == 400
    assert "data-error-summary" in response.content.decode()
    assert (ProvisioningToken.objects.count(), RosterUpload.objects.count()) == (tokens, uploads)
