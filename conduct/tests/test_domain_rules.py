"""Rules with one implementation each: the root of a tree, role words, the default label, the previous version."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from conduct.drafting import default_new_label
from conduct.models import (
    CodeVersion,
    Organisation,
    VersionStatus,
    path_ids,
    role_label,
    role_label_plural,
    root_id,
    root_path,
)
from conduct.tests.factories import CodeFactory, adopt, make_version


def test_a_path_reads_from_the_root_down():
    assert path_ids("/000001/000004/000012/") == [1, 4, 12]
    assert root_path("/000001/000004/000012/") == root_path("/000001/") == "/000001/"
    assert root_id("/000007/000004/") == 7


@pytest.mark.django_db
def test_every_organisation_of_a_trust_has_the_trust_at_its_root(tree, other_tree):
    for organisation in tree.values():
        assert organisation.root_path == tree["trust"].path
        assert root_id(organisation.path) == tree["trust"].pk
    assert other_tree["north_lgb"].root_path == other_tree["trust"].path != tree["trust"].path
    moved = Organisation.objects.get(pk=tree["south"].pk)
    moved.parent = other_tree["trust"]
    moved.save()
    assert Organisation.objects.get(pk=moved.pk).root_path == other_tree["trust"].path


def test_role_kinds_in_words_and_kinds_no_longer_offered_as_stored():
    assert role_label("local_governor") == "Local governor"
    assert role_label_plural("local_governor") == "Local governors"
    assert role_label("retired_kind") == "retired_kind"


@pytest.mark.django_db
def test_a_code_names_its_audience_with_the_same_words():
    code = CodeFactory.create(audience=["trustee", "local_governor", "retired_kind"])
    assert code.audience_labels() == ["Trustee", "Local governor", "retired_kind"]


@pytest.mark.parametrize(
    ("today", "after", "label"),
    [
        (date(2026, 8, 31), "", "2025-2026"),  # the last day of 2025–26
        (date(2026, 9, 1), "", "2026-2027"),
        (date(2026, 12, 1), "", "2026-2027"),
        (date(2027, 1, 1), "", "2026-2027"),
        # Drafted from last year's version (or an older one): this year, not the year after the old one.
        (date(2026, 12, 1), "2024-2025", "2026-2027"),
        (date(2026, 12, 1), "2025-2026", "2026-2027"),
        # Drafted from this year's version (or a later one): the year after it, so two versions never share a label.
        (date(2026, 12, 1), "2026-2027", "2027-2028"),
        (date(2026, 12, 1), "2027 - 28", "2028 - 29"),
        (date(2026, 12, 1), "Interim", "2026-2027"),
    ],
)
def test_a_new_draft_is_labelled_for_the_current_academic_year(today, after, label):
    assert default_new_label(today, after=after) == label


# ---------------------------------------------------------------------------
# The previous version
# ---------------------------------------------------------------------------


@pytest.fixture
def history(tree):
    """Three versions of a code adopted in turn, none drafted from another, with a discarded draft between."""
    code = CodeFactory.create(owner=tree["trust"])
    board = tree["board"]
    held_on = timezone.localdate() - timedelta(days=30)
    first = make_version(code, "2024-2025")
    adopt(first, board, held_on=held_on)
    make_version(code, "2025 draft")
    second = make_version(code, "2025-2026")
    adopt(second, board, held_on=held_on + timedelta(days=1))
    third = make_version(code, "2026-2027")
    return code, [CodeVersion.objects.get(pk=v.pk) for v in (first, second, third)]


@pytest.mark.django_db
def test_without_a_base_the_previous_version_is_the_latest_adopted_one_prepared_before_it(history):
    _code, (first, second, third) = history
    assert first.status == VersionStatus.SUPERSEDED and second.status == VersionStatus.ADOPTED
    assert first.previous() is None
    assert second.previous() == first  # the draft in between was never adopted
    assert third.previous() == second


@pytest.mark.django_db
def test_the_version_it_was_drafted_from_comes_first(history):
    code, (first, _second, _third) = history
    redraft = make_version(code, "2026-2027 (from 2024)", based_on=first)
    assert redraft.previous() == first


@pytest.mark.django_db
def test_prepared_before_means_created_before_whatever_the_primary_keys_say(history):
    code, (first, second, third) = history
    between = make_version(code, "2024-2025 (typed in late)")
    CodeVersion.objects.filter(pk=between.pk).update(
        created_at=first.created_at + (second.created_at - first.created_at) / 2
    )
    between.refresh_from_db()
    assert between.pk > third.pk and between.previous() == first


@pytest.mark.django_db
def test_among_loaded_versions_the_same_one_is_picked_without_a_query(history, django_assert_num_queries):
    code, (first, second, third) = history
    redraft = make_version(code, "2027-2028", based_on=first)
    versions = list(code.versions.all())
    expected = {version.pk: version.previous() for version in versions}
    with django_assert_num_queries(0):
        assert {version.pk: version.previous(among=versions) for version in versions} == expected
    # Among what a reader may see (not the version it was drafted from): the latest adopted one before it.
    assert redraft.previous(among=[second, third, redraft]) == second
