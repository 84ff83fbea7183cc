"""A trust's branding: accent colour checked for contrast with white on save, a PNG/JPEG logo (SVG and anything
else refused, by content), a per-trust style sheet instead of inline styles, shown to the trust's people only,
changed by its admins only, and audited."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from conduct.branding import MAX_LOGO_BYTES, branding_for, contrast_ratio, signed_in_user
from conduct.models import AuditAction, AuditLogEntry, Branding, Person
from conduct.tests.factories import PersonFactory, RoleFactory, trust_tree

pytestmark = pytest.mark.django_db


def picture(kind: str = "PNG", size: tuple[int, int] = (120, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (29, 79, 145)).save(buffer, format=kind)
    return buffer.getvalue()


@pytest.fixture
def oak():
    orgs = trust_tree("Oak Trust")
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=orgs["trust"], kind="admin")
    teacher = PersonFactory.create()
    RoleFactory.create(person=teacher, organisation=orgs["north"], kind="employee")
    return {
        "orgs": orgs,
        "admin": admin,
        "teacher": teacher,
        "url": reverse("conduct:branding_edit", args=["oak-trust"]),
    }


def save(client, url, **data):
    return client.post(url, {"accent_colour": "", **data})


def test_contrast_is_computed_as_wcag_does():
    assert round(contrast_ratio("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54  # the lightest grey that passes AA
    assert contrast_ratio("#777777", "#ffffff") < 4.5


def test_an_admin_sets_colour_and_logo_and_the_trusts_people_see_them(oak, client_for):
    assert oak["orgs"]["trust"].slug == "oak-trust"
    admin = client_for(oak["admin"])
    assert admin.get(oak["url"]).status_code == 200
    logo = picture()
    response = save(admin, oak["url"], accent_colour="#1D4F91", logo=SimpleUploadedFile("logo.png", logo))
    assert response.status_code == 302
    branding = Branding.objects.get(organisation=oak["orgs"]["trust"])
    assert (branding.accent_colour, branding.logo_type, bytes(branding.logo)) == ("#1d4f91", "image/png", logo)
    entry = AuditLogEntry.objects.get(action=AuditAction.BRANDING_CHANGED)
    assert entry.details == {"before": None, "after": {"accent_colour": "#1d4f91", "logo_sha256": branding.logo_sha256}}

    css = client_for(oak["teacher"]).get(reverse("conduct:branding_css", args=["oak-trust"]))
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css") and "#1d4f91" in css.content.decode()
    assert "public" in css["Cache-Control"]
    image = client_for(oak["teacher"]).get(reverse("conduct:branding_logo", args=["oak-trust"]))
    assert image.content == logo and image["Content-Type"] == "image/png"

    home = client_for(oak["teacher"]).get("/").content.decode()
    seen = branding_for(oak["teacher"])
    assert seen is not None and seen.name == "Oak Trust" and seen.has_logo
    assert f'href="/branding/oak-trust.css?v={seen.version}"' in home and "/branding/oak-trust/logo?v=" in home
    assert 'style="' not in home.split("<header>", 1)[1].split("</header>", 1)[0]  # no inline styles
    # Someone of another trust sees none of it.
    elm = PersonFactory.create()
    RoleFactory.create(person=elm, organisation=trust_tree("Elm Trust")["north"], kind="employee")
    assert "/branding/oak-trust" not in client_for(elm).get("/").content.decode()


@pytest.mark.parametrize(
    "data, field_message",
    [
        ({"accent_colour": "#ffcc00"}, "Choose a darker shade"),
        ({"accent_colour": "blue"}, "six hexadecimal digits"),
        ({"logo": ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')}, "SVG"),
        ({"logo": ("logo.png", b"not a picture at all")}, "not a PNG or JPEG"),
        ({"logo": ("logo.gif", None)}, "GIF picture"),
        ({"logo": ("huge.png", b"\x89PNG" + b"0" * MAX_LOGO_BYTES)}, "the limit is"),
    ],
)
def test_bad_colours_and_logos_are_refused_clearly_and_nothing_is_saved(oak, client_for, data, field_message):
    if "logo" in data:
        name, content = data["logo"]
        data = {"logo": SimpleUploadedFile(name, content if content is not None else picture("GIF"))}
    response = save(client_for(oak["admin"]), oak["url"], **data)
    assert response.status_code == 400 and field_message in response.content.decode()
    assert not Branding.objects.exists() and not AuditLogEntry.objects.filter(action=AuditAction.BRANDING_CHANGED)


def test_a_jpeg_is_accepted_and_the_logo_can_be_removed(oak, client_for):
    admin = client_for(oak["admin"])
    save(admin, oak["url"], logo=SimpleUploadedFile("logo.jpg", picture("JPEG")))
    assert Branding.objects.get().logo_type == "image/jpeg"
    save(admin, oak["url"], remove_logo="on")
    branding = Branding.objects.get()
    assert (branding.logo_type, branding.logo_sha256) == ("", "")
    assert client_for(oak["teacher"]).get(reverse("conduct:branding_logo", args=["oak-trust"])).status_code == 404
    assert AuditLogEntry.objects.filter(action=AuditAction.BRANDING_CHANGED).count() == 2


def test_only_the_trusts_admins_change_its_branding(oak, client_for):
    school_admin = PersonFactory.create()
    RoleFactory.create(person=school_admin, organisation=oak["orgs"]["north"], kind="admin")
    other = PersonFactory.create()
    RoleFactory.create(person=other, organisation=trust_tree("Elm Trust")["trust"], kind="admin")
    for person in (oak["teacher"], school_admin, other):
        client = client_for(person)
        assert client.get(oak["url"]).status_code == 404
        assert save(client, oak["url"], accent_colour="#1d4f91").status_code == 404
    # Branding belongs to the top of the tree: not to a school, even for the trust's admin.
    north = reverse("conduct:branding_edit", args=[oak["orgs"]["north"].slug])
    assert client_for(oak["admin"]).get(north).status_code == 404
    assert not Branding.objects.exists()


def test_the_branding_costs_a_page_no_query_of_its_own_whether_set_or_not(oak, client_for):
    client = client_for(oak["teacher"])

    def page_queries() -> list[str]:
        with CaptureQueriesContext(connection) as context:
            assert client.get("/").status_code == 200
        return [query["sql"] for query in context.captured_queries]

    plain = page_queries()
    save(client_for(oak["admin"]), oak["url"], accent_colour="#1d4f91", logo=SimpleUploadedFile("l.png", picture()))
    branded = page_queries()
    assert len(branded) == len(plain)
    # The branding is read in the statement that loads the signed-in user, never by a query of its own.
    reading_branding = [sql for sql in branded if "conduct_branding" in sql]
    assert len(reading_branding) == 1 and reading_branding[0].startswith('SELECT "conduct_person"."id"')
    assert "/branding/oak-trust.css" in client.get("/").content.decode()


def test_a_role_in_a_branded_trust_shows_its_branding_on_the_next_page(oak, client_for):
    save(client_for(oak["admin"]), oak["url"], accent_colour="#1d4f91", logo=SimpleUploadedFile("l.png", picture()))
    newcomer = PersonFactory.create()
    client = client_for(newcomer)
    assert "/branding/oak-trust" not in client.get("/").content.decode()
    RoleFactory.create(person=newcomer, organisation=oak["orgs"]["south"], kind="employee")
    assert "/branding/oak-trust.css" in client.get("/").content.decode()  # nothing cached to go stale


def test_the_earliest_current_role_in_a_branded_trust_decides_whose_branding(oak):
    elm = trust_tree("Elm Trust")
    Branding.objects.create(organisation=elm["trust"], accent_colour="#0b5d3b")
    both = PersonFactory.create()
    RoleFactory.create(person=both, organisation=oak["orgs"]["north"], kind="employee", starts_on=date(2020, 9, 1))
    RoleFactory.create(person=both, organisation=elm["north"], kind="employee", starts_on=date(2022, 9, 1))
    seen = branding_for(both)  # Oak has no branding yet: the Elm role is the earliest in a branded trust
    assert seen is not None and seen.name == "Elm Trust"
    Branding.objects.create(organisation=oak["orgs"]["trust"], accent_colour="#1d4f91")
    seen = branding_for(both)
    assert seen is not None and seen.name == "Oak Trust"


def test_the_tree_offers_the_branding_page_to_the_trusts_admin_only(oak, client_for):
    tree = reverse("conduct:organisations")
    assert f'href="{oak["url"]}"' in client_for(oak["admin"]).get(tree).content.decode()
    school_admin = PersonFactory.create()
    RoleFactory.create(person=school_admin, organisation=oak["orgs"]["north"], kind="admin")
    assert f'href="{oak["url"]}"' not in client_for(school_admin).get(tree).content.decode()


def test_reminder_emails_and_signed_pdfs_carry_the_trusts_branding(django_capture_on_commit_callbacks):
    from io import BytesIO

    from django.core import mail
    from django.core.mail import EmailMultiAlternatives
    from pypdf import PdfReader

    from acknowledgements.issuing import acknowledgement_pdf_issue
    from acknowledgements.sealed_pdfs import sealed_pdf_bytes
    from acknowledgements.tests.factories import owing, sign
    from conduct.branding import branding_update
    from reminders.remind_now import reminders_send_now

    who = owing(name="Oak Trust")
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=who.orgs["trust"], kind="admin")
    branding_update(actor=admin, organisation=who.orgs["trust"], accent_colour="#1d4f91", logo=picture())
    with django_capture_on_commit_callbacks(execute=True):
        reminders_send_now(actor=admin, obligation_ids=[who.obligation.pk])
    message = mail.outbox[-1]
    assert isinstance(message, EmailMultiAlternatives)
    html = str(next(content for content, kind in message.alternatives if kind == "text/html"))
    assert "background:#1d4f91" in html and "/branding/oak-trust/logo?v=" in html and 'alt="Oak Trust"' in html
    ack = sign(who, issue_pdf=False).acknowledgement
    pdf = sealed_pdf_bytes(acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False))
    first = PdfReader(BytesIO(pdf)).pages[0]
    assert len(first.images) == 1  # the logo (the QR code is drawn, not a picture)
    assert first.extract_text().lstrip().startswith("Oak Trust")


def test_the_adoption_certificate_carries_the_trusts_branding():
    from io import BytesIO

    from pypdf import PdfReader

    from acknowledgements.certificates import adoption_certificate_issue
    from acknowledgements.sealed_pdfs import sealed_pdf_bytes
    from acknowledgements.tests.factories import owing
    from conduct.branding import branding_update
    from conduct.models import Adoption

    who = owing(name="Oak Trust")
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=who.orgs["trust"], kind="admin")
    branding_update(actor=admin, organisation=who.orgs["trust"], accent_colour="#1d4f91", logo=picture())
    adoption = Adoption.objects.get(version=who.version)
    pdf = sealed_pdf_bytes(adoption_certificate_issue(adoption_id=adoption.pk))
    first = PdfReader(BytesIO(pdf)).pages[0]
    assert len(first.images) == 1 and first.extract_text().lstrip().startswith("Oak Trust")


def test_invitations_and_receipts_carry_the_trusts_branding(django_capture_on_commit_callbacks):
    from django.core import mail
    from django.utils import timezone

    from acknowledgements.invitations import invitation_create
    from acknowledgements.tests.factories import owing, sign
    from conduct.branding import branding_update

    def html_of(message) -> str:
        return str(next(content for content, kind in message.alternatives if kind == "text/html"))

    who = owing(name="Oak Trust")
    admin = PersonFactory.create(full_name="Sarah Okafor")
    RoleFactory.create(person=admin, organisation=who.orgs["trust"], kind="admin")
    branding_update(actor=admin, organisation=who.orgs["trust"], accent_colour="#1d4f91", logo=picture())

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # signing issues the PDF, which sends the receipt
        ack = sign(who).acknowledgement
    [receipt] = [message for message in mail.outbox if ack.verification_code in str(message.body)]
    html = html_of(receipt)
    assert "background:#1d4f91" in html and "/branding/oak-trust/logo?v=" in html and 'alt="Oak Trust"' in html
    assert ack.verification_code in html and ack.verification_code in str(receipt.body)  # same words in both
    assert [name for name, _, _ in receipt.attachments] and receipt.attachments[0][2] == "application/pdf"

    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(
            invited_by=admin,
            full_name="Zara Khan",
            email="zara@example.org",
            organisation=who.orgs["trust"],
            kind="employee",
            starts_on=timezone.localdate(),
        )
    invitation = mail.outbox[-1]
    html = html_of(invitation)
    assert invitation.to == ["zara@example.org"] and "Set your password" in html
    assert "background:#1d4f91" in html and 'alt="Oak Trust"' in html
    assert "/accounts/invitation/" in html and "/accounts/invitation/" in str(invitation.body)


def test_the_signed_in_user_is_read_with_the_same_branding_as_the_querysets_and_on_todays_date(oak):
    # The session's read of the user runs a statement compiled once: its day and id must be filled in per call.
    elm = trust_tree("Elm Trust")
    Branding.objects.create(organisation=elm["trust"], accent_colour="#0b5d3b")
    Branding.objects.create(organisation=oak["orgs"]["trust"], accent_colour="#1d4f91")
    both = PersonFactory.create()
    today = date.today()
    RoleFactory.create(
        person=both, organisation=oak["orgs"]["north"], kind="employee", starts_on=date(2020, 9, 1), ends_on=today
    )
    RoleFactory.create(person=both, organisation=elm["north"], kind="employee", starts_on=date(2022, 9, 1))

    user = signed_in_user(both.pk)
    assert user == both and user.email == both.email
    seen, expected = branding_for(user), branding_for(Person.objects.get(pk=both.pk))  # the queryset's path
    assert seen is not None and seen == expected and seen.name == "Oak Trust"
    assert signed_in_user(teacher_pk := oak["teacher"].pk) == oak["teacher"] and teacher_pk != both.pk
    assert signed_in_user(both.pk + 10_000) is None
    with time_machine.travel(today + timedelta(days=1), tick=False):  # the Oak role ended yesterday
        tomorrow = branding_for(signed_in_user(both.pk))
    assert tomorrow is not None and tomorrow.name == "Elm Trust"


def test_a_signed_in_request_reads_the_user_and_branding_in_one_statement(oak, client_for):
    Branding.objects.create(organisation=oak["orgs"]["trust"], accent_colour="#1d4f91")
    client = client_for(oak["teacher"])
    with CaptureQueriesContext(connection) as queries:
        home = client.get("/").content.decode()
    assert "/branding/oak-trust.css" in home
    branding_reads = [q["sql"] for q in queries if '"conduct_branding"' in q["sql"]]
    assert len(branding_reads) == 1 and "viewer_branding" in branding_reads[0]  # with the user, nowhere else
    # One subquery for the five columns (with the EXISTS that picks the role): five subqueries, one per column,
    # cost PostgreSQL about 7 ms of planning on every signed-in request.
    assert branding_reads[0].count('"conduct_branding"') == 2


def test_a_trust_changing_its_branding_changes_the_version_the_header_links(oak):
    Branding.objects.create(organisation=oak["orgs"]["trust"], accent_colour="#1d4f91")
    before = branding_for(signed_in_user(oak["teacher"].pk))
    Branding.objects.filter(organisation=oak["orgs"]["trust"]).update(accent_colour="#0b5d3b")
    after = branding_for(signed_in_user(oak["teacher"].pk))
    assert before is not None and after is not None and before.slug == after.slug == "oak-trust"
    assert before.version != after.version and not after.has_logo
