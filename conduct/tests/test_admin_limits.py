"""The Django admin holds a draft's text to conduct.limits, like the editor and the importer."""

import pytest

from conduct import limits
from conduct.admin import ClauseAdminForm, SectionAdminForm
from conduct.tests.factories import CodeFactory, PersonFactory, first_clause, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(PersonFactory.create(is_staff=True, is_superuser=True))
    return client


def test_the_admin_refuses_a_clause_longer_than_the_limit(superuser_client):
    clause = first_clause(make_version(CodeFactory.create()))
    assert not clause.section.version.is_locked
    url = f"/admin/conduct/clause/{clause.pk}/change/"
    page = superuser_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(
        {"text": "x" * (limits.MAX_CLAUSE_TEXT_CHARS + 1), "section": clause.section_id, "roles": [], "is_new": ""}
    )
    data = {key: value for key, value in data.items() if value is not None}
    response = superuser_client.post(url, data)
    assert response.status_code in (200, 400)
    assert "the limit is 2,000" in response.content.decode()
    clause.refresh_from_db()
    assert len(clause.text) <= limits.MAX_CLAUSE_TEXT_CHARS


def test_the_admin_forms_carry_the_limits():
    assert not SectionAdminForm({"title": "H" * (limits.MAX_SECTION_TITLE_CHARS + 1)}).is_valid()
    clause_form = ClauseAdminForm({"text": "x" * (limits.MAX_CLAUSE_TEXT_CHARS + 1), "term": ""})
    assert not clause_form.is_valid() and "the limit is 2,000" in str(clause_form.errors["text"])
