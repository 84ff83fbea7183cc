"""Home and code pages: content, role filtering, permissions, and query counts that do not grow."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conduct.models import Code, Person
from conduct.tests.factories import (
    CodeFactory,
    PersonFactory,
    RoleFactory,
    adopt,
    make_version,
    trust_tree,
)


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_anonymous_home_explains_the_app_and_offers_sign_in(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Sign in" in response.content and b"codes of conduct" in response.content.lower()
    assert reverse("acknowledgements:verify").encode() in response.content  # public verification is one click away


def test_home_lists_the_codes_that_concern_the_person(demo, client_for):
    client = client_for(Person.objects.get(email="staff@att.example"))
    page = client.get("/").content.decode()
    assert "Staff Code of Conduct" in page
    assert "Leading Learners Trust Code of Conduct" not in page
    assert "Challenge Partners: Code of Conduct" not in page


def test_staff_code_page_renders_numbered_sections_and_the_appendix(demo, client_for):
    client = client_for(Person.objects.get(email="staff@att.example"))
    response = client.get(reverse("acknowledgements:code", args=["att-staff-code-of-conduct"]), follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<span class="section-number">19.</span> Conflict of Interests' in page
    assert "Any potential conflicts of interest must be declared" in page
    assert "Appendix 1 – Establishing Safe Working Practices" in page
    assert "…share a bedroom with a learner" in page
    assert page.count("clause-never") == 15 and page.count("clause-always") == 12
    assert '<main id="main"' in page and 'aria-label="Main"' in page


def test_governance_code_shows_each_reader_their_roles_clauses(demo, client_for):
    version = Code.objects.get(slug="llt-governance-code-of-conduct").versions.get()
    trustee = (
        client_for(Person.objects.get(email="trustee@llt.example")).get(version.get_absolute_url()).content.decode()
    )
    governor = (
        client_for(Person.objects.get(email="governor@llt.example")).get(version.get_absolute_url()).content.decode()
    )
    assert "Trustees: We will fulfil our responsibilities as a good employer" in trustee
    assert "Those governing at local level: We will act as the local ambassadors" not in trustee
    assert "Those governing at local level: We will act as the local ambassadors" in governor
    assert "Trustees: We will fulfil our responsibilities as a good employer" not in governor
    assert (
        "We will maintain confidentiality even after we leave office." in trustee
        and "We will maintain confidentiality even after we leave office." in governor
    )


def test_officer_can_preview_as_a_role(demo, client_for):
    version = Code.objects.get(slug="llt-governance-code-of-conduct").versions.get()
    clerk = client_for(Person.objects.get(email="clerk@llt.example"))
    everything = clerk.get(version.get_absolute_url()).content.decode()
    as_local = clerk.get(version.get_absolute_url() + "?as=local_governor").content.decode()
    assert "Trustees only" in everything and "Local governors only" in everything
    assert "Trustees: We agree to follow the charity governance code" not in as_local


def test_another_organisations_people_cannot_read_its_codes_or_drafts(demo, client_for):
    staff_version = Code.objects.get(slug="att-staff-code-of-conduct").versions.get()
    llt_governor = client_for(Person.objects.get(email="governor@llt.example"))
    assert llt_governor.get(staff_version.get_absolute_url()).status_code == 404
    draft = make_version(Code.objects.get(slug="att-staff-code-of-conduct"), label="2027-2028")
    staff = client_for(Person.objects.get(email="staff@att.example"))
    assert staff.get(draft.get_absolute_url()).status_code == 404
    assert client_for(Person.objects.get(email="admin@att.example")).get(draft.get_absolute_url()).status_code == 200


def test_pages_need_sign_in(demo, client):
    version = Code.objects.get(slug="att-staff-code-of-conduct").versions.get()
    response = client.get(version.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def _grow(n: int, admin: Person) -> None:
    """Add n trusts, each with an adopted code that the admin administers and a person owes."""
    for i in range(n):
        orgs = trust_tree(f"Grow {n} {i}")
        RoleFactory.create(person=admin, organisation=orgs["trust"], kind="admin")
        RoleFactory.create(person=admin, organisation=orgs["north"], kind="employee")
        code = CodeFactory.create(owner=orgs["trust"])
        adopt(make_version(code), orgs["board"])


@pytest.mark.django_db
def test_home_page_queries_do_not_grow_with_organisations_or_codes(client_for):
    admin = PersonFactory.create()
    client = client_for(admin)
    _grow(1, admin)
    small = queries(client, "/")
    _grow(4, admin)
    large = queries(client, "/")
    assert large == small
    assert Code.objects.count() == 5


@pytest.mark.django_db
def test_version_page_queries_do_not_grow_with_organisations(client_for):
    admin = PersonFactory.create()
    client = client_for(admin)
    _grow(1, admin)
    version = Code.objects.get().versions.get()
    queries(client, version.get_absolute_url())  # the first view: recorded, and the text rendered into the cache
    small = queries(client, version.get_absolute_url())
    _grow(4, admin)
    # The session, the user (with the header's branding and their roles: an admin there may read it, and the
    # code's roles they hold), the version, the obligation (with whether the first view is on record) and their
    # signatures of the code; the text and its attached files come from the cache.
    assert queries(client, version.get_absolute_url()) == small == 5
