"""One rule names every section, wherever it is listed: untitled, unnumbered sections are named by their place
("Introduction", "Text after section 4", "Closing text"), never all "Introduction and closing text"."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.urls import reverse

from conduct.diff import diff_versions
from conduct.drafting import draft_start
from conduct.models import Code, Person
from conduct.section_names import section_names
from conduct.services import version_content_as_data
from conduct.tests.factories import CodeFactory, clause, make_version


def headed(*pairs: tuple[str, str]) -> list[SimpleNamespace]:
    return [SimpleNamespace(number=number, title=title) for number, title in pairs]


def test_titled_and_numbered_sections_are_named_by_their_heading():
    names = section_names(headed(("1", "Duties"), ("", "Appendix"), ("21", "")))
    assert names == ["1. Duties", "Appendix", "Section 21"]


def test_sections_with_neither_are_named_by_their_place_and_every_name_differs():
    sections = headed(
        ("", ""),
        ("", ""),
        ("1", "Duties"),
        ("", ""),
        ("", "Core values"),
        ("", ""),
        ("", ""),
        ("2", "Conduct"),
        ("", ""),
    )
    assert section_names(sections) == [
        "Introduction",
        "Introduction (part 2)",
        "1. Duties",
        "Text after section 1",
        "Core values",
        "Text after “Core values”",
        "Text after “Core values” (part 2)",
        "2. Conduct",
        "Closing text",
    ]
    assert len(set(section_names(sections))) == len(sections)


def test_a_code_of_one_untitled_section_is_its_introduction():
    assert section_names(headed(("", ""))) == ["Introduction"]


@pytest.mark.django_db
def test_the_diff_names_sections_by_the_same_rule():
    code = CodeFactory.create(audience=["trustee"])
    content = [
        {"number": "", "title": "", "clauses": [clause("Welcome.")]},
        {"number": "1", "title": "Duties", "clauses": [clause("We act fairly.")]},
        {"number": "", "title": "", "clauses": [clause("Signed by the chair.")]},
    ]
    old = make_version(code, "a", content)
    data = version_content_as_data(old)
    data[0]["clauses"].append(clause("We are glad you are here."))
    data[2]["clauses"].append(clause("And by the clerk."))
    diff = diff_versions(old, make_version(code, "b", data))
    added = {change.clause.text: change.section for change in diff.changes if change.kind == "added"}
    assert added == {"We are glad you are here.": "Introduction", "And by the clerk.": "Closing text"}


@pytest.mark.django_db
def test_the_demo_governance_codes_draft_names_its_opening_and_closing_sections_apart(demo, client):
    clerk = Person.objects.get(email="clerk@llt.example")
    code = Code.objects.get(slug="llt-governance-code-of-conduct")
    draft = draft_start(code=code, created_by=clerk)
    client.force_login(clerk)
    html = client.get(reverse("conduct:draft_edit", kwargs={"slug": code.slug, "pk": draft.pk})).content.decode()
    sections = draft.ordered_sections()
    opening, closing = sections[0], sections[-1]
    assert not (opening.title or opening.number or closing.title or closing.number)  # the demo's two untitled ones
    assert f'id="h-{opening.key}">Introduction</h2>' in html
    assert f'id="h-{closing.key}">Closing text</h2>' in html
    assert "Introduction and closing text" not in html
    assert 'Remove<span class="visually-hidden"> “Closing text”</span>' in html


@pytest.mark.django_db
def test_a_sections_own_pages_name_it_by_the_same_rule(demo, client):
    clerk = Person.objects.get(email="clerk@llt.example")
    code = Code.objects.get(slug="llt-governance-code-of-conduct")
    draft = draft_start(code=code, created_by=clerk)
    closing = draft.ordered_sections()[-1]
    client.force_login(clerk)
    where = {"slug": code.slug, "pk": draft.pk, "section_id": closing.pk}
    assert (
        "Edit the section “Closing text”" in client.get(reverse("conduct:section_edit", kwargs=where)).content.decode()
    )
    assert "in “Closing text”" in client.get(reverse("conduct:clause_add", kwargs=where)).content.decode()
    assert (
        "Remove the section “Closing text”?"
        in client.get(reverse("conduct:section_remove", kwargs=where)).content.decode()
    )
    assert closing.display_name == "Closing text" and draft.ordered_sections()[0].display_name == "Introduction"
