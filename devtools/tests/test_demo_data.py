"""The demo data: loads faithfully, loads twice without duplicates, covers every role."""

import pytest
from django.apps import apps
from django.core.management import call_command

from acknowledgements.models import Acknowledgement, SealedPdf
from conduct.models import (
    Adoption,
    Clause,
    Code,
    CodeVersion,
    Organisation,
    Person,
    RoleKind,
    Section,
    VersionStatus,
)
from conduct.tests.test_code_transcriptions import COUNTERS, CP, GOV, STAFF
from devtools.demo_conduct import demo_load

CODE_SLUGS = {
    CP: "challenge-partners-code-of-conduct",
    STAFF: "att-staff-code-of-conduct",
    GOV: "llt-governance-code-of-conduct",
}


def table_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()  # each model's one manager (objects)
        for app in ("conduct", "acknowledgements")
        for model in apps.get_app_config(app).get_models()
    }


@pytest.mark.django_db
def test_loading_twice_creates_no_duplicates():
    first = demo_load()
    counts = table_counts()
    second = demo_load()
    assert first["people"] > 30 and first["adoptions"] == 4
    assert second == {}
    assert table_counts() == counts


@pytest.mark.django_db
def test_load_demo_command_if_empty_leaves_existing_data_alone(capsys):
    call_command("load_demo", "--if-empty")
    counts = table_counts()
    call_command("load_demo", "--if-empty")
    assert "already has data" in capsys.readouterr().out
    assert table_counts() == counts


@pytest.mark.parametrize("source", [CP, STAFF, GOV])
def test_each_code_has_the_section_and_clause_counts_of_its_source_document(demo, source):
    expected = COUNTERS[source]()  # counted from the source text, not from the fixture
    version = Code.objects.get(slug=CODE_SLUGS[source]).versions.get()
    clauses = Clause.objects.filter(section__version=version)
    assert Section.objects.filter(version=version).count() == expected["sections"]
    assert clauses.count() == expected["clauses"]
    assert clauses.filter(is_new=True).count() == expected["new"]
    assert clauses.filter(style="always").count() == expected["always"]
    assert clauses.filter(style="never").count() == expected["never"]
    assert sum("trustee" in c.roles for c in clauses) == expected["trustee"]
    assert sum("local_governor" in c.roles for c in clauses) == expected["local_governor"]


def test_every_role_is_held_by_a_demo_person(demo):
    held = set(Person.objects.values_list("roles__kind", flat=True))
    assert set(RoleKind.values) <= held


def test_demo_organisations_form_the_expected_shape(demo):
    cp = Organisation.objects.get(slug="challenge-partners")
    member_links = Organisation.objects.get(slug="cp-thames-hub").member_links
    assert set(member_links.values_list("school__parent__slug", flat=True)) == {"att", "llt"}
    assert Organisation.objects.get(slug="cp-thames-hub").parent == cp
    att = Organisation.objects.get(slug="att")
    assert Organisation.objects.filter(parent=att, kind="school").count() >= 2
    assert Organisation.objects.get(slug="att-northgate-lgb").parent == Organisation.objects.get(slug="att-board")
    meadowbank = Organisation.objects.get(slug="llt-meadowbank")
    assert Organisation.objects.get(slug="llt-meadowbank-lgb").governs == meadowbank


def test_governance_code_is_adopted_in_september_2025_by_the_chair(demo):
    version = Code.objects.get(slug=CODE_SLUGS[GOV]).versions.get()
    adoption = version.adoptions.get(board__slug="llt-board")
    assert version.status == VersionStatus.ADOPTED and version.label == "2024-2025"
    assert (adoption.adopted_on.year, adoption.adopted_on.month) == (2025, 9)
    assert adoption.chair.roles.filter(kind="chair", organisation__slug="llt-board").exists()
    assert adoption.content_hash == version.content_hash == version.compute_hash()
    last = Clause.objects.filter(section__version=version).order_by("section__position", "position").last()
    assert last is not None and last.text.startswith("This code of conduct will be reviewed annually")


def test_source_artefacts_are_not_in_the_codes(demo):
    texts = " ".join(Clause.objects.values_list("text", flat=True))
    assert "[bookmark" not in texts and "_Hlk" not in texts and "top of page" not in texts


@pytest.mark.django_db
def test_load_demo_queues_the_demo_signatures_pdfs_for_the_worker(django_capture_on_commit_callbacks, capsys):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("load_demo")
    signed = Acknowledgement.objects.count()
    # Each adoption queues its certificate as it is recorded; the signatures' PDFs are queued last.
    assert signed > 0 and len(callbacks) == Adoption.objects.count() + signed
    assert f"{signed} signed PDFs queued" in capsys.readouterr().out
    callbacks[-signed]()  # what the worker does with the first PDF message (tasks run eagerly in tests)
    issued = SealedPdf.objects.get()
    assert issued.acknowledgement_id in set(Acknowledgement.objects.values_list("pk", flat=True))


def test_demo_versions_are_dated_before_their_adoption(demo):

    for version in CodeVersion.objects.prefetch_related("adoptions"):
        first_meeting = min(adoption.adopted_on for adoption in version.adoptions.all())
        assert version.adopted_at is not None, version
        assert version.created_at.date() < first_meeting <= version.adopted_at.date(), version
