"""The content hash is stable, independent of identifiers, and changed by any change to the text."""

import copy
import hashlib
import json

import pytest

from conduct.content import content_hash
from conduct.models import Section
from conduct.tests.factories import CodeFactory, first_clause, make_version, simple_sections
from core.canonical import canonical_json


@pytest.fixture
def code(tree):
    return CodeFactory.create(owner=tree["trust"])


def test_hash_is_sha256_of_the_canonical_json(code):
    version = make_version(code)
    content = version.canonical_content()
    expected = hashlib.sha256(
        json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ).hexdigest()
    assert version.compute_hash() == expected
    assert len(expected) == 64


def test_hash_is_stable_across_reads_and_copies(code):
    first = make_version(code, "one")
    second = make_version(code, "two")  # same words, different keys and primary keys
    assert first.compute_hash() == first.compute_hash()
    assert first.compute_hash() == second.compute_hash()


def test_canonical_json_is_key_order_independent_and_keeps_unicode():
    assert canonical_json({"b": "’", "a": 1}) == canonical_json({"a": 1, "b": "’"})
    assert "’".encode() in canonical_json({"text": "’"})


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s[0]["clauses"][0].__setitem__("text", "We must all act fairly!"),
        lambda s: s[0]["clauses"][0].__setitem__("number", "1.2"),
        lambda s: s[0]["clauses"][3].__setitem__("roles", ["local_governor"]),
        lambda s: s[0]["clauses"][3].__setitem__("new", False),
        lambda s: s[0]["clauses"][1].__setitem__("depth", 0),
        lambda s: s[0].__setitem__("title", "Duties and powers"),
        lambda s: s[0]["clauses"].pop(),
        lambda s: s[0]["clauses"].reverse(),
    ],
    ids=["text", "number", "roles", "new-flag", "depth", "section-title", "removed", "reordered"],
)
def test_any_change_to_the_text_changes_the_hash(code, change):
    original = make_version(code, "original")
    sections = copy.deepcopy(simple_sections())
    change(sections)
    changed = make_version(code, "changed", sections=sections)
    assert changed.compute_hash() != original.compute_hash()


def test_editing_a_draft_changes_its_hash(code):
    version = make_version(code)
    before = version.compute_hash()
    clause = first_clause(version)
    clause.text += " Always."
    clause.save()
    assert version.compute_hash() != before
    assert content_hash(version.canonical_content()) == version.compute_hash()
    assert Section.objects.filter(version=version).count() == 2
