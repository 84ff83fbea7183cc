"""The reading page: the text for the reader's role, and what changed since the version they signed."""

from dataclasses import replace

import pytest
from django.urls import reverse

from acknowledgements.models import Acknowledgement, Obligation
from acknowledgements.reading import signatures_for_reading
from acknowledgements.tests.factories import governance_sections, owing, sign
from conduct.tests.factories import RoleFactory, adopt, clause, make_version

pytestmark = pytest.mark.django_db


def first_sections():
    return [
        {
            "number": "1",
            "title": "Duties",
            "key": "duties",
            "clauses": [
                clause("We must all act fairly.", key="fair"),
                clause("Keep records of concerns.", key="records"),
                clause("Use the staff car park only.", key="parking"),
                clause("Trustees: We review the accounts each term.", key="accounts", roles=["trustee"]),
            ],
        }
    ]


def second_sections():
    return [
        {
            "number": "1",
            "title": "Duties",
            "key": "duties",
            "clauses": [
                clause("We must all act fairly.", key="fair"),
                clause("Keep accurate records of concerns.", key="records", new=True),
                clause("Report a safeguarding concern on the same day.", key="report", new=True),
                clause("Trustees: We review the accounts each month.", key="accounts", roles=["trustee"]),
            ],
        }
    ]


@pytest.fixture
def resigning(db):
    """A local governor who signed last year's version; this year's has been adopted since."""
    who = owing(
        name="Birch Trust",
        kind="local_governor",
        where="north_lgb",
        audience=["local_governor", "trustee"],
        sections=first_sections(),
        full_name="Tom Hughes",
    )
    sign(who)
    second = make_version(who.code, label="2026-2027", sections=second_sections(), based_on=who.version)
    adopt(second, who.orgs["board"])
    second.refresh_from_db()
    return who, second


def test_the_page_shows_what_changed_since_the_signed_version_before_the_text(resigning, client_for):
    who, second = resigning
    assert Obligation.objects.get(person=who.person, version=second).acknowledged_at is None
    page = client_for(who.person).get(second.get_absolute_url()).content.decode()
    panel_at = page.index("What changed since the version you signed (2025-2026)")
    assert panel_at < page.index('<article class="code-text"')
    panel = page[panel_at : page.index('<article class="code-text"')]
    assert "1 new clause, 1 reworded, 1 removed" in panel
    assert "Keep<ins> accurate</ins> records of concerns." in panel
    assert "Report a safeguarding concern on the same day." in panel
    assert "Use the staff car park only." in panel and "Removed" in panel
    # Trustee-only wording changed too, but a local governor is not told about it.
    assert "each month" not in panel
    # In the full text, the new and reworded clauses are highlighted.
    text = page[page.index('<article class="code-text"') :]
    assert 'class="clause clause-paragraph clause-new clause-added" id="c-' in text
    assert "New since you signed" in text and "Changed since you signed" in text


def test_no_panel_for_someone_signing_for_the_first_time(staff, client_for):
    page = client_for(staff.person).get(staff.version.get_absolute_url()).content.decode()
    assert "What changed since" not in page and 'id="sign"' in page


def test_the_old_version_points_to_the_one_now_owed(resigning, client_for):
    who, second = resigning
    page = client_for(who.person).get(who.version.get_absolute_url()).content.decode()
    assert "You signed this version" in page and 'id="sign"' not in page
    later = owing(
        name="Cedar Trust",
        kind="local_governor",
        where="north_lgb",
        audience=["local_governor"],
        sections=first_sections(),
    )
    newer = make_version(later.code, label="2026-2027", sections=second_sections(), based_on=later.version)
    adopt(newer, later.orgs["board"])
    page = client_for(later.person).get(later.version.get_absolute_url()).content.decode()
    assert "A newer version replaces this one" in page and newer.get_absolute_url() in page and 'id="sign"' not in page


def test_each_reader_sees_the_clauses_for_their_role_on_the_signing_page(db, client_for):
    trustee = owing(
        name="Ash Trust",
        kind="trustee",
        where="board",
        audience=["trustee", "local_governor"],
        sections=governance_sections(),
    )
    governor = owing(
        name="Ash Two",
        kind="local_governor",
        where="north_lgb",
        audience=["trustee", "local_governor"],
        sections=governance_sections(),
    )
    as_trustee = client_for(trustee.person).get(trustee.version.get_absolute_url()).content.decode()
    as_governor = client_for(governor.person).get(governor.version.get_absolute_url()).content.decode()
    assert "good employer" in as_trustee and "local ambassadors" not in as_trustee
    assert "local ambassadors" in as_governor and "good employer" not in as_governor
    assert 'id="sign"' in as_trustee and 'id="sign"' in as_governor


def test_an_officer_previewing_a_role_sees_no_signing_form(staff, client_for):

    RoleFactory.create(person=staff.person, organisation=staff.orgs["trust"], kind="admin")
    page = client_for(staff.person).get(staff.version.get_absolute_url() + "?as=employee").content.decode()
    assert 'id="sign"' not in page


def test_the_page_a_reminder_links_to_is_the_signing_page(staff, client_for):
    assert staff.version.get_absolute_url() == reverse(
        "acknowledgements:version", args=[staff.code.slug, staff.version.pk]
    )
    assert 'id="sign"' in client_for(staff.person).get(staff.version.get_absolute_url()).content.decode()


def test_the_previous_signature_is_the_latest_of_a_version_prepared_before_the_one_read(resigning):
    # Signed 2025-2026 and, skipping 2026-2027, 2027-2028: reading 2026-2027 compares with 2025-2026 (2027-2028 was
    # prepared after it), and reading 2027-2028 shows it signed, with 2025-2026 as the signature before it.
    who, second = resigning
    third = make_version(who.code, label="2027-2028", sections=second_sections(), based_on=second)
    adopt(third, who.orgs["board"])
    third.refresh_from_db()
    sign(replace(who, version=third))
    first = Acknowledgement.objects.get(person=who.person, version=who.version)
    latest = Acknowledgement.objects.get(person=who.person, version=third)
    assert signatures_for_reading(who.person, second) == (None, first)
    assert signatures_for_reading(who.person, third) == (latest, first)
    assert signatures_for_reading(who.person, who.version) == (first, None)
