"""Importing people from a CSV file: every bad row reported by line and then nothing imported (all or nothing),
re-uploads change nothing."""

from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from acknowledgements import invitations
from acknowledgements.invitations import people_import_csv
from acknowledgements.models import Invitation, Obligation
from conduct import services
from conduct.models import Person, Role
from conduct.tests.factories import PersonFactory, RoleFactory

pytestmark = pytest.mark.django_db
HEADER = "name,email,role,organisation,start date\n"


@pytest.fixture
def admin(staff):
    person = PersonFactory.create(full_name="Sarah Okafor")
    RoleFactory.create(person=person, organisation=staff.orgs["trust"], kind="admin")
    return person


def run(admin, text: str, encoding: str = "utf-8"):
    return people_import_csv(data=text.encode(encoding), invited_by=admin)


def good_rows(staff) -> str:
    return (
        HEADER
        + "Zara Khan,zara@example.org,Employee,oak-trust-north,2026-11-16\n"
        + f"Owen Price,owen@example.org,volunteer,{staff.orgs['north'].name},03/11/2025\n"
        + "Joanne Reid,joanne@example.org,Local governor,oak-trust-north-lgb,01/03/2024\n"
    )


def test_good_rows_create_people_roles_obligations_and_invitations(admin, staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = run(admin, good_rows(staff))
    assert not report.file_error and not report.errors
    assert (report.invited, report.roles_added, report.already_present) == (3, 0, 0)
    zara = Person.objects.get(email="zara@example.org")
    assert zara.full_name == "Zara Khan"
    assert Role.objects.get(person=zara).organisation == staff.orgs["north"]
    owen_role = Role.objects.get(person__email="owen@example.org")
    assert (owen_role.kind, str(owen_role.starts_on)) == ("volunteer", "2025-11-03")
    assert Obligation.objects.filter(person=zara, version=staff.version).exists()
    assert Invitation.objects.filter(sent_at__isnull=False).count() == 3


def test_uploading_the_same_file_twice_creates_nothing_new(admin, staff):
    run(admin, good_rows(staff))
    counts = (Person.objects.count(), Role.objects.count(), Invitation.objects.count(), Obligation.objects.count())
    report = run(admin, good_rows(staff))
    assert report.already_present == 3 and report.imported == 0 and not report.errors
    assert (
        Person.objects.count(),
        Role.objects.count(),
        Invitation.objects.count(),
        Obligation.objects.count(),
    ) == counts


def test_bad_rows_are_reported_by_line_and_reason_and_then_nothing_is_imported(admin, staff):
    text = (
        HEADER
        + "Zara Khan,zara@example.org,Employee,oak-trust-north,2026-11-16\n"  # line 2: good
        + "Bad Email,not-an-email,Employee,oak-trust-north,2026-11-16\n"  # 3
        + "Nowhere Person,nowhere@example.org,Employee,Atlantis Academy,2026-11-16\n"  # 4
        + "Zara Khan,zara@example.org,Employee,oak-trust-north,2026-11-16\n"  # 5: duplicate of 2
        + "Odd Role,odd@example.org,Wizard,oak-trust-north,2026-11-16\n"  # 6
        + "Bad Date,date@example.org,Employee,oak-trust-north,31/02/2026\n"  # 7
        + ",noname@example.org,Employee,oak-trust-north,2026-11-16\n"  # 8
        + "\n"  # 9: blank, skipped
        + "Owen Price,owen@example.org,Volunteer,oak-trust-north,2025-11-03\n"  # 10: good
        + "Boss Person,boss@example.org,Admin,oak-trust-north,2026-11-16,extra\n"  # 11: stray value
    )
    report = run(admin, text)
    errors = {error.line: error.message for error in report.errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 11]
    assert "“not-an-email” is not a valid email address" in errors[3]
    assert "Unknown organisation “Atlantis Academy” (or not one you manage)" in errors[4]
    assert errors[5] == "Duplicate of line 2."
    assert "Unknown role “Wizard”" in errors[6]
    assert "“31/02/2026” is not a date" in errors[7]
    assert "The name is missing" in errors[8]
    assert "stray commas" in errors[11]
    assert report.done == [] and report.imported == 0
    assert not Person.objects.filter(email__in=["zara@example.org", "owen@example.org"]).exists()


def test_wrong_columns_reject_the_whole_file(admin, staff):
    report = run(admin, "full name,e-mail,job\nZara Khan,zara@example.org,Teacher\n")
    assert "must name the columns: name, email, role, organisation, start date" in report.file_error
    assert "Missing: role, organisation, start date" in report.file_error
    assert not Person.objects.filter(email="zara@example.org").exists()


def test_a_byte_order_mark_windows_line_endings_and_excel_encodings_are_read(admin, staff):
    text = good_rows(staff).replace("\n", "\r\n").replace("Zara Khan", "Zoë Khan")
    report = people_import_csv(data=b"\xef\xbb\xbf" + text.encode("utf-8"), invited_by=admin)
    assert not report.errors and report.invited == 3
    assert Person.objects.get(email="zara@example.org").full_name == "Zoë Khan"
    latin = (HEADER + "Renée Dupont,renee@example.org,Employee,oak-trust-north,2026-11-16\r\n").encode("cp1252")
    assert people_import_csv(data=latin, invited_by=admin).invited == 1
    assert Person.objects.get(email="renee@example.org").full_name == "Renée Dupont"


def test_semicolons_and_column_aliases_are_accepted(admin, staff):
    text = (
        "Full name;Email address;Role;Organization;Start date;Job title\n"
        "Zara Khan;zara@example.org;Employee;oak-trust-north;16/11/2026;Teacher\n"
    )
    report = run(admin, text)
    assert report.invited == 1 and Role.objects.get(person__email="zara@example.org").title == "Teacher"


def test_an_empty_or_binary_file_is_refused(admin):
    assert run(admin, "").file_error == "The file is empty."
    assert "not a CSV file" in people_import_csv(data=b"PK\x03\x04\x00\x00binary", invited_by=admin).file_error


def test_a_row_that_fails_midway_is_rolled_back_whole(admin, staff):

    real = invitations.roles_add_batch

    def failing(**kwargs):
        if any(grant.person.email == "owen@example.org" for grant in kwargs["grants"]):
            raise services.ValidationError({"starts_on": "Simulated failure after the person was created."})
        return real(**kwargs)

    with mock.patch("acknowledgements.invitations.roles_add_batch", side_effect=failing):
        report = run(admin, good_rows(staff))
    assert [error.line for error in report.errors] == [3]
    assert "Simulated failure" in report.errors[0].message
    assert report.done == []
    # The row before it (imported first) is rolled back with it, and the row after it never imported.
    assert not Person.objects.filter(email__in=["zara@example.org", "owen@example.org", "joanne@example.org"]).exists()
    assert not Invitation.objects.exists()


def test_a_clerk_cannot_import_officers_or_people_outside_their_board(staff):
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=staff.orgs["north_lgb"], kind="clerk")
    text = (
        HEADER
        + "Boss,boss@example.org,Admin,oak-trust-north-lgb,2026-11-16\n"
        + "Teacher,teacher@example.org,Employee,oak-trust-south,2026-11-16\n"
    )
    report = people_import_csv(data=text.encode(), invited_by=clerk)
    errors = {error.line: error.message for error in report.errors}
    assert errors[2] == "Only an admin of Oak Trust North LGB can make someone an admin, chair or clerk."
    assert "not one you manage" in errors[3]
    assert not Person.objects.filter(email__in=["boss@example.org", "teacher@example.org"]).exists()


def test_the_import_page_shows_the_report(admin, staff, client_for):
    text = (
        HEADER
        + "Zara Khan,zara@example.org,Employee,oak-trust-north,2026-11-16\n"
        + "Bad,bad,Employee,oak-trust-north,2026-11-16\n"
    )
    response = client_for(admin).post(
        reverse("acknowledgements:import"), {"file": SimpleUploadedFile("people.csv", text.encode())}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported" in page and "<td>3</td>" in page and "is not a valid email address" in page
    assert not Person.objects.filter(email="zara@example.org").exists()
    response = client_for(admin).post(
        reverse("acknowledgements:import"), {"file": SimpleUploadedFile("people.csv", text.split("Bad,")[0].encode())}
    )
    assert "<strong>1</strong> invited" in response.content.decode()
    assert client_for(staff.person).get(reverse("acknowledgements:import")).status_code == 404


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("N" * 201 + ",long@example.org,Employee,oak-trust-north,2026-11-16", "name is longer than 200 characters"),
        ("Long Email," + "a" * 250 + "@example.org,Employee,oak-trust-north,2026-11-16", "longer than 254 characters"),
        ("Long Email," + "a" * 64 + "@" + ("b" * 60 + ".") * 4 + "org,Employee,oak-trust-north,2026-11-16", "254"),
        ("Long Title,title@example.org,Employee,oak-trust-north,2026-11-16," + "T" * 121, "title is longer than 120"),
        ("Far Future,future@example.org,Employee,oak-trust-north,9999-12-31", "not between 1900 and 2100"),
        ("Far Past,past@example.org,Employee,oak-trust-north,01/01/1800", "not between 1900 and 2100"),
    ],
)
def test_values_too_long_for_their_column_or_dates_out_of_range_are_refused_and_nothing_is_imported(
    admin, staff, client_for, row, problem
):
    text = (
        "name,email,role,organisation,start date,title\n"
        + "Zara Khan,zara@example.org,Employee,oak-trust-north,2026-11-16\n"
        + row
        + "\n"
    )
    response = client_for(admin).post(
        reverse("acknowledgements:import"), {"file": SimpleUploadedFile("people.csv", text.encode())}
    )
    assert response.status_code == 200  # not a server error
    report = response.context["report"]
    assert [error.line for error in report.errors] == [3] and problem in report.errors[0].message
    assert not Person.objects.filter(email="zara@example.org").exists()  # the good row before it is not imported


def test_utf16_is_read_and_shift_jis_is_refused_not_misread(admin, staff):
    text = HEADER + "Zoë Khan,zara@example.org,Employee,oak-trust-north,2026-11-16\n"
    assert people_import_csv(data=text.encode("utf-16"), invited_by=admin).invited == 1
    assert Person.objects.get(email="zara@example.org").full_name == "Zoë Khan"
    japanese = HEADER + "山田太郎,yamada@example.org,Employee,oak-trust-north,2026-11-16\n"
    report = people_import_csv(data=japanese.encode("shift_jis"), invited_by=admin)
    assert "not text in an encoding we can read for certain" in report.file_error
    assert not Person.objects.filter(email="yamada@example.org").exists()
