"""An adopted version's text cannot change through any path: model save, query set, admin or raw SQL."""

import pytest
from django.db import IntegrityError, connection, transaction

from conduct.models import (
    Clause,
    CodeVersion,
    ImmutableVersionError,
    Section,
    VersionStatus,
)
from conduct.tests.factories import CodeFactory, adopt, first_clause, make_version


@pytest.fixture
def adopted(tree):
    code = CodeFactory.create(owner=tree["trust"])
    version = make_version(code)
    adopt(version, tree["board"])
    version.refresh_from_db()
    return version


def test_adoption_locks_the_version_and_records_its_hash(adopted):
    assert adopted.status == VersionStatus.ADOPTED
    assert adopted.content_hash == adopted.compute_hash()


def test_model_save_of_clause_text_is_refused(adopted):
    clause = first_clause(adopted)
    clause.text = "Something else entirely."
    with pytest.raises(ImmutableVersionError):
        clause.save()
    assert Clause.objects.get(pk=clause.pk).text != "Something else entirely."


def test_model_save_of_version_label_is_refused(adopted):
    adopted.label = "2099-2100"
    with pytest.raises(ImmutableVersionError):
        adopted.save()
    assert CodeVersion.objects.get(pk=adopted.pk).label == "2025-2026"


def test_queryset_update_of_clauses_is_refused(adopted):
    with pytest.raises(ImmutableVersionError):
        Clause.objects.filter(section__version=adopted).update(text="Rewritten")
    assert not Clause.objects.filter(text="Rewritten").exists()


def test_queryset_update_and_delete_of_versions_are_refused(adopted):
    with pytest.raises(ImmutableVersionError):
        CodeVersion.objects.filter(pk=adopted.pk).update(label="changed")
    with pytest.raises(ImmutableVersionError):
        CodeVersion.objects.filter(pk=adopted.pk).delete()
    with pytest.raises(ImmutableVersionError):
        Section.objects.filter(version=adopted).delete()
    assert Section.objects.filter(version=adopted).count() == 2


def test_adding_a_clause_to_an_adopted_version_is_refused(adopted):
    section = adopted.sections.first()
    with pytest.raises(ImmutableVersionError):
        Clause.objects.create(section=section, position=99, text="Slipped in later")


def test_raw_sql_update_is_refused_by_the_database(adopted):
    clause = first_clause(adopted)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE conduct_clause SET text = %s WHERE id = %s", ["Tampered", clause.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE conduct_codeversion SET content_hash = %s WHERE id = %s", ["0" * 64, adopted.pk])
    assert Clause.objects.get(pk=clause.pk).text == clause.text


@pytest.mark.postgres
def test_raw_sql_delete_is_refused_by_postgresql(adopted):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite keeps DELETE open for the test flush; CI runs this on PostgreSQL")
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM conduct_clause WHERE section_id IN (SELECT id FROM conduct_section WHERE version_id = %s)",
            [adopted.pk],
        )
    assert Clause.objects.filter(section__version=adopted).exists()


def test_status_may_move_on_to_superseded(adopted):
    CodeVersion.objects.filter(pk=adopted.pk).update(status=VersionStatus.SUPERSEDED)
    adopted.refresh_from_db()
    assert adopted.status == VersionStatus.SUPERSEDED
    with pytest.raises(ImmutableVersionError):
        CodeVersion.objects.filter(pk=adopted.pk).update(status=VersionStatus.DRAFT)


def test_drafts_stay_editable(tree):
    version = make_version(CodeFactory.create(owner=tree["trust"]))
    clause = first_clause(version)
    clause.text = "Edited while still a draft."
    clause.save()
    Clause.objects.filter(pk=clause.pk).update(number="9.9")
    assert Clause.objects.get(pk=clause.pk).number == "9.9"
    version.delete()
    assert not CodeVersion.objects.filter(pk=version.pk).exists()
