"""Clauses render as nested, semantic HTML and are filtered by the reader's role."""

import pytest

from conduct.rendering import clause_tree, render_sections, visible_clauses
from conduct.tests.factories import CodeFactory, make_version


@pytest.fixture
def sections(tree):
    return make_version(CodeFactory.create(owner=tree["trust"])).ordered_sections()


def test_trustee_sees_trustee_clauses_and_not_local_ones(sections):
    html = render_sections(sections, role_kinds={"trustee"})
    assert "Trustees: We oversee finance." in html
    assert "Governors see this detail" in html
    assert "Those governing at local level" not in html


def test_local_governor_sees_local_clauses_and_not_trustee_ones_or_their_children(sections):
    html = render_sections(sections, role_kinds={"local_governor"})
    assert "Those governing at local level: We champion our school." in html
    assert "Trustees: We oversee finance." not in html
    assert "Governors see this detail" not in html  # nested under a trustee-only clause


def test_clauses_for_everyone_are_always_shown(sections):
    for kinds in ({"trustee"}, {"local_governor"}, {"employee"}, None):
        assert "We must all act fairly." in render_sections(sections, role_kinds=kinds)


def test_officer_view_shows_everything_with_role_tags_and_new_badges(sections):
    html = render_sections(sections, role_kinds=None, show_role_tags=True)
    assert "Trustees only" in html and "Local governors only" in html
    assert "New or updated" in html


def test_structure_is_semantic(sections):
    html = render_sections(sections)
    assert '<h2 class="section-heading"' in html and '<span class="section-number">1.</span>' in html
    assert "<ul" in html and "<li" in html
    assert '<h3 class="clause-subheading' in html
    assert '<span class="visually-hidden">Always: </span>' in html
    assert '<span class="visually-hidden">Never: </span>' in html


def test_text_is_escaped(tree):
    version = make_version(
        CodeFactory.create(owner=tree["trust"]),
        sections=[
            {
                "number": "1",
                "title": "<b>x</b>",
                "clauses": [{"text": "<script>alert(1)</script>", "style": "paragraph"}],
            }
        ],
    )
    html = render_sections(version.ordered_sections())
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_tree_nests_by_depth(sections):
    roots = clause_tree(sections[0].clauses.all())
    assert [len(r.children) for r in roots] == [2, 1, 0]
    assert [c.text for c in visible_clauses(sections[0].clauses.all(), {"employee"})] == [
        "We must all act fairly.",
        "Treat people with respect",
        "Keep records",
    ]
