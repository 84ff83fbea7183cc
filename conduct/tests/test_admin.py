"""The Django admin covers every model, with adopted text and evidence read-only."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from conduct.models import Adoption, Clause, Code, CodeVersion, Organisation, Person
from conduct.tests.factories import PersonFactory, first_clause


@pytest.fixture
def operator_client(client_for, db):
    return client_for(PersonFactory.create(is_staff=True, is_superuser=True))


def test_every_model_is_registered_with_list_columns_and_search():
    for app in ("conduct", "acknowledgements"):
        for model in apps.get_app_config(app).get_models():
            assert admin.site.is_registered(model), model
            model_admin = admin.site._registry[model]
            assert model_admin.list_display != ("__str__",) or model._meta.model_name == "section", model
            assert model_admin.search_fields or model._meta.model_name in {"sealedpdf"}, model


def test_every_changelist_loads(demo, operator_client):
    for model in admin.site._registry:
        if model._meta.app_label not in ("conduct", "acknowledgements"):
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = operator_client.get(url)
        assert response.status_code == 200, url


def test_adopted_version_is_read_only_in_the_admin(demo, operator_client):
    version = Code.objects.get(slug="att-staff-code-of-conduct").versions.get()
    url = reverse("admin:conduct_codeversion_change", args=[version.pk])
    page = operator_client.get(url).content.decode()
    assert 'name="_save"' not in page
    response = operator_client.post(url, {"label": "tampered", "code": version.code_id})
    assert response.status_code == 403
    assert CodeVersion.objects.get(pk=version.pk).label == "2026-2027"
    clause = first_clause(version)
    response = operator_client.post(reverse("admin:conduct_clause_change", args=[clause.pk]), {"text": "tampered"})
    assert response.status_code == 403
    assert Clause.objects.get(pk=clause.pk).text == clause.text
    delete = operator_client.post(reverse("admin:conduct_codeversion_delete", args=[version.pk]), {"post": "yes"})
    assert delete.status_code == 403 and CodeVersion.objects.filter(pk=version.pk).exists()


def test_adoption_evidence_cannot_be_changed_or_deleted_in_the_admin(demo, operator_client):
    version = CodeVersion.objects.filter(status="adopted").first()
    assert version is not None
    adoption = version.adoptions.first()
    assert adoption is not None
    change = reverse("admin:conduct_adoption_change", args=[adoption.pk])
    assert 'name="_save"' not in operator_client.get(change).content.decode()
    assert (
        operator_client.post(reverse("admin:conduct_adoption_delete", args=[adoption.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert Adoption.objects.filter(pk=adoption.pk).exists()


def test_new_role_added_in_the_admin_owes_the_codes_in_force(demo, operator_client):

    newcomer = PersonFactory.create(full_name="Nia Newcomer")
    northgate = Organisation.objects.get(slug="att-northgate")
    response = operator_client.post(
        reverse("admin:conduct_role_add"),
        {
            "person": newcomer.pk,
            "organisation": northgate.pk,
            "kind": "employee",
            "starts_on": "2026-11-20",
            "title": "Cook",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    owed = Person.objects.get(pk=newcomer.pk).obligations.get()
    assert owed.code.slug == "att-staff-code-of-conduct"
    assert str(owed.due_on) == "2026-12-20"
