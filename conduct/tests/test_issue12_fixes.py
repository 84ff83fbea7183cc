"""What users missed on day one (issue 12): reviews covered by a trust-wide adoption, the draft label, the error
summary and status code of a rejected form, versions that may be adopted, the meetings list, the home page,
report scopes, the certificate's layout and status, the error pages and the accessibility statement."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from weasyprint import HTML

from acknowledgements.certificates import adoption_certificate_issue, certificate_html
from acknowledgements.models import Acknowledgement, SealedPdf
from acknowledgements.tests.factories import owing
from conduct.models import Adoption, RoleKind
from conduct.reviews import replaced_for_review, reviews_due
from conduct.services import version_content_as_data
from conduct.tests.factories import CodeFactory, PersonFactory, RoleFactory, adopt, make_chair, make_version
from core.display import date_and_time, long_date, short_date
from reminders.models import ReminderKind, ReminderLog
from reminders.planning import reminders_plan
from reports.models import JobKind, ReportJob
from reports.selectors import NO_SCHOOL, report_scopes

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------
# Reviews: one rule for the pages and the reminders
# ---------------------------------------------------------------------------


def test_a_local_board_covered_by_a_trust_wide_adoption_is_not_due_for_review_anywhere(tree, client_for):
    today = timezone.localdate()
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee", "local_governor"], title="Governance code")
    old = make_version(code, "2024-2025")
    lgb_chair = make_chair(tree["north_lgb"])
    local = adopt(old, tree["north_lgb"], chair=lgb_chair, held_on=today - timedelta(days=400))  # overdue
    assert [r.adoption for r in reviews_due(lgb_chair)] == [local]
    assert Adoption.objects.annotate(replaced=replaced_for_review()).get(pk=local.pk).replaced is False

    # The trust board adopts the next version for the whole trust, its academies included.
    new = make_version(code, "2025-2026", version_content_as_data(old), based_on=old)
    trust_wide = adopt(new, tree["board"], held_on=today - timedelta(days=10))
    assert Adoption.objects.annotate(replaced=replaced_for_review()).get(pk=local.pk).replaced is True
    assert reviews_due(lgb_chair) == []
    home = client_for(lgb_chair).get("/").content.decode()
    assert "review overdue" not in home
    history = client_for(lgb_chair).get(reverse("conduct:code_history", args=[code.slug])).content.decode()
    assert "review overdue" not in history
    # The planner follows the same rule: a review reminder about the trust board's adoption only.
    reminders_plan()
    subjects = set(ReminderLog.objects.filter(kind=ReminderKind.REVIEW).values_list("subject", flat=True))
    assert f"adoption:{local.pk}" not in subjects
    assert subjects <= {f"adoption:{trust_wide.pk}"}


def test_an_adoption_for_the_trust_alone_leaves_the_local_board_its_own_review(tree):
    today = timezone.localdate()
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee", "local_governor"])
    old = make_version(code, "2024-2025")
    lgb_chair = make_chair(tree["north_lgb"])
    local = adopt(old, tree["north_lgb"], chair=lgb_chair, held_on=today - timedelta(days=400))
    new = make_version(code, "2025-2026", version_content_as_data(old), based_on=old)
    adopt(new, tree["board"], held_on=today - timedelta(days=10), includes_sub_organisations=False)
    assert [(r.adoption, r.overdue) for r in reviews_due(lgb_chair)] == [(local, True)]
    reminders_plan()
    assert ReminderLog.objects.filter(kind=ReminderKind.REVIEW, subject=f"adoption:{local.pk}").exists()


# ---------------------------------------------------------------------------
# Drafting and adoption
# ---------------------------------------------------------------------------


@time_machine.travel(date(2026, 12, 1), tick=False)
def test_a_new_draft_is_offered_this_academic_years_label(tree, client_for):
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee"])
    adopt(make_version(code, "2024-2025"), tree["board"], held_on=date(2024, 9, 20))
    clerk = RoleFactory.create(organisation=tree["board"], kind=RoleKind.CLERK, starts_on=date(2020, 1, 1)).person
    page = client_for(clerk).get(reverse("conduct:draft_start", args=[code.slug])).content.decode()
    assert 'value="2026-2027"' in page and 'value="2025-2026"' not in page


def test_only_the_newest_version_is_offered_for_adoption(tree, client_for):
    today = timezone.localdate()
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee", "local_governor"])
    old = make_version(code, "2024-2025")
    adopt(old, tree["north_lgb"], held_on=today - timedelta(days=300))  # still in force at the local board
    new = make_version(code, "2025-2026", version_content_as_data(old), based_on=old)
    adopt(new, tree["board"], held_on=today - timedelta(days=5), includes_sub_organisations=False)
    admin = RoleFactory.create(organisation=tree["trust"], kind=RoleKind.ADMIN, starts_on=date(2020, 1, 1)).person
    page = client_for(admin).get(reverse("conduct:code_history", args=[code.slug])).content.decode()
    offered = re.findall(r'href="/codes/[^/]+/versions/(\d+)/adopt/"', page)
    assert offered == [str(new.pk)]


def test_a_rejected_form_shows_an_error_summary_linked_to_its_field_and_answers_400(tree, client_for):
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee"])
    adopt(make_version(code, "2024-2025"), tree["board"])
    clerk = RoleFactory.create(organisation=tree["board"], kind=RoleKind.CLERK, starts_on=date(2020, 1, 1)).person
    response = client_for(clerk).post(reverse("conduct:draft_start", args=[code.slug]), {"label": ""})
    page = response.content.decode()
    assert response.status_code == 400
    assert "<title>Error: " in page
    summary = page.split("data-error-summary")[1].split("</div>")[0]
    assert "There is a problem" in summary and 'href="#id_label"' in summary and "This field is required." in summary
    assert code.versions.filter(status="draft").count() == 0
    # A GET of the same form is not an error.
    fresh = client_for(clerk).get(reverse("conduct:draft_start", args=[code.slug])).content.decode()
    assert "data-error-summary" not in fresh and "<title>Error: " not in fresh


def test_a_rejected_sign_in_answers_400_with_the_summary(db, client):
    person = PersonFactory.create()
    response = client.post(reverse("account_login"), {"login": person.email, "password": "not the password"})
    page = response.content.decode()
    assert response.status_code == 400 and "<title>Error: " in page and 'href="#id_login"' in page
    assert "Sign in" in page and "Sign In" not in page and "Remember me" in page  # allauth's words, sentence case


def test_the_meetings_list_names_the_codes_adopted(tree, client_for):
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee"], title="Governance code")
    adoption = adopt(make_version(code, "2025-2026"), tree["board"])
    clerk = RoleFactory.create(organisation=tree["board"], kind=RoleKind.CLERK, starts_on=date(2020, 1, 1)).person
    page = client_for(clerk).get(reverse("conduct:board_meetings", args=[tree["board"].slug])).content.decode()
    assert f'<a href="{reverse("conduct:adoption", args=[adoption.pk])}">Governance code 2025-2026</a>' in page


def test_the_adoption_page_names_the_chair_once(tree, client_for):
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee"])
    chair = make_chair(tree["board"], PersonFactory.create(full_name="Helen Marsh"))
    adoption = adopt(make_version(code), tree["board"], chair=chair)
    page = client_for(chair).get(reverse("conduct:adoption", args=[adoption.pk])).content.decode()
    assert "Helen Marsh, chair" in page and "(Helen Marsh)" not in page


# ---------------------------------------------------------------------------
# The adoption certificate
# ---------------------------------------------------------------------------


def test_the_certificates_qr_code_is_beside_the_facts_table_not_over_it(tree):
    adoption = adopt(make_version(CodeFactory.create(owner=tree["trust"], audience=["trustee"])), tree["board"])
    document = HTML(string=certificate_html(adoption)).render()

    def boxes(box):
        yield box
        for child in getattr(box, "children", None) or []:
            yield from boxes(child)

    found = {}
    for box in boxes(document.pages[0]._page_box):
        element = getattr(box, "element", None)
        kind = type(box).__name__
        if element is not None and element.get("class") == "facts" and kind == "TableBox":
            found["facts"] = (box.border_box_x(), box.border_box_x() + box.border_width())
        if element is not None and element.get("class") == "qr" and kind == "BlockBox":
            found["qr"] = (box.border_box_x(), box.border_box_x() + box.border_width())
    assert found["facts"][1] <= found["qr"][0], found


def test_the_adoption_page_asks_for_the_certificates_status(tree, client_for, other_tree):
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee"])
    chair = make_chair(tree["board"])
    adoption = adopt(make_version(code), tree["board"], chair=chair)
    status_url = reverse("acknowledgements:adoption_certificate_status", args=[adoption.pk])
    client = client_for(chair)
    # The test transaction never commits, so the certificate task queued on commit has not run yet.
    assert not SealedPdf.objects.filter(adoption=adoption).exists()
    page = client.get(reverse("conduct:adoption", args=[adoption.pk])).content.decode()
    assert f'data-status-url="{status_url}"' in page and "js/certificate-status.js" in page
    assert client.get(status_url).json()["ready"] is False
    record = adoption_certificate_issue(adoption_id=adoption.pk)
    answer = client.get(status_url)
    assert answer.json() == {
        "ready": True,
        "sha256": record.sha256,
        "url": reverse("acknowledgements:adoption_certificate", args=[adoption.pk]),
    }
    assert answer["Cache-Control"] == "no-store"
    stranger = RoleFactory.create(organisation=other_tree["board"], kind=RoleKind.CHAIR).person
    assert client_for(stranger).get(status_url).status_code == 404


# ---------------------------------------------------------------------------
# Home page, declarations
# ---------------------------------------------------------------------------


def test_a_governors_home_page_asks_for_a_lapsed_declaration(db, client_for):
    governor = owing(name="Ash Trust", kind="local_governor", where="north_lgb")
    page = client_for(governor.person).get("/").content.decode()
    assert "Yours for this year has not been made yet" in page and reverse("acknowledgements:declare") in page
    staff = owing(name="Elm Trust", kind="employee", where="north")
    assert "Yours for this year has not been made yet" not in client_for(staff.person).get("/").content.decode()


def test_a_replaced_version_leaves_the_home_page_for_the_new_one(db, client_for):
    from acknowledgements.tests.factories import sign

    who = owing(name="Ash Trust", kind="employee", where="north", held_on=timezone.localdate() - timedelta(days=30))
    sign(who, issue_pdf=False)
    new = make_version(who.code, "2026-2027", version_content_as_data(who.version), based_on=who.version)
    adopt(new, who.orgs["board"])
    page = client_for(who.person).get("/").content.decode()
    owed = page.split('id="owed-heading"')[1].split("</section>")[0]
    assert "2026-2027" in owed and who.version.label not in owed
    assert Acknowledgement.objects.filter(person=who.person, version=who.version).exists()  # still on My codes


def test_a_declaration_counts_its_interests_in_words(db, client_for):
    governor = owing(name="Ash Trust", kind="local_governor", where="north_lgb")
    data = {
        "interest-TOTAL_FORMS": "1",
        "interest-INITIAL_FORMS": "0",
        "interest-MIN_NUM_FORMS": "0",
        "interest-MAX_NUM_FORMS": "30",
        "organisation": governor.orgs["north_lgb"].pk,
        "declaration-choice": "interests",
        "interest-0-kind": "business",
        "interest-0-counterparty": "Hughes Building Services Ltd",
        "interest-0-nature": "Director",
        "interest-0-starts_on": "2015-04-01",
    }
    response = client_for(governor.person).post(reverse("acknowledgements:declare"), data, follow=True)
    assert "Declaration recorded for Ash Trust North LGB: 1 interest." in response.content.decode()


# ---------------------------------------------------------------------------
# Reports named for what they cover
# ---------------------------------------------------------------------------


def test_a_job_filtered_to_one_school_is_named_for_the_school(tree):
    person = PersonFactory.create()
    jobs = [
        ReportJob.objects.create(
            kind=JobKind.SPREADSHEET,
            requested_by=person,
            organisation=tree["trust"],
            parameters=parameters,
            fingerprint=f"f{i}",
        )
        for i, parameters in enumerate([{"school": str(tree["north"].pk)}, {"school": NO_SCHOOL}, {}])
    ]
    scopes = report_scopes(jobs)
    assert (scopes[jobs[0].pk].name, scopes[jobs[0].pk].slug, scopes[jobs[0].pk].school) == (
        "Oak Trust North Academy",
        "oak-trust-north",
        "Oak Trust North Academy",
    )
    assert scopes[jobs[1].pk].school == "No school" and scopes[jobs[1].pk].slug == "oak-trust-no-school"
    assert (scopes[jobs[2].pk].name, scopes[jobs[2].pk].school) == ("Oak Trust", "")


# ---------------------------------------------------------------------------
# Pages for everyone
# ---------------------------------------------------------------------------


def test_the_accessibility_statement_is_linked_from_every_footer(client):
    page = client.get(reverse("accessibility")).content.decode()
    for part in ("Compliance status", "Non-accessible content", "Enforcement procedure", "Preparation of this"):
        assert part in page
    assert f'href="{reverse("accessibility")}"' in client.get(reverse("account_login")).content.decode()


def test_branded_error_pages(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()
    assert "Codes of Conduct" in response.content.decode() and "main" in response.content.decode()
    server_error = render_to_string("500.html")  # as Django's server_error view renders it: no request context
    assert "Sorry, something went wrong" in server_error and "/static/css/app.css" in server_error
    assert "You cannot see this page" in render_to_string("403.html")
    assert "Bad request" in render_to_string("400.html")


def test_dates_are_written_without_a_leading_zero():
    assert long_date(date(2026, 12, 1)) == "1 December 2026"
    assert short_date(date(2026, 12, 1)) == "1 Dec 2026"
    assert date_and_time(datetime(2026, 12, 1, 9, 5)) == "1 December 2026 at 09:05"
