"""In headless Chromium: an admin filters the dashboard to one school, exports CSV and XLSX, starts a
bulk archive and downloads it when the page says it is ready; the public governance page shows a
governor's declared interest and attendance."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from acknowledgements.models import Declaration, Obligation, SealedPdf
from conduct.models import Organisation, Person
from reports.builders import job_run
from reports.models import JobStatus, ReportJob
from reports.tasks import build_report_job
from reports.tests.factories import declare, sign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "conduct-demo-2025"


def sign_some_staff() -> dict[str, int]:
    """Half the ATT staff who have not signed yet sign now (with stored PDFs).

    Returns how many owe and have signed at Northgate, and how many of those signatures have a stored PDF
    (the demo's own signatures have theirs issued on first need, so may have none yet).
    """
    owed = Obligation.objects.filter(code__slug="att-staff-code-of-conduct").select_related("version").first()
    assert owed is not None, "the demo data owes its staff code"
    version = owed.version
    obligations = list(
        Obligation.objects.filter(version=version, superseded_at__isnull=True, acknowledged_at__isnull=True)
        .select_related("role", "organisation", "person", "version")
        .order_by("person__full_name")
    )
    for index, obligation in enumerate(obligations):
        if index % 2 == 0 and obligation.role.ends_on is None:
            sign(obligation, at=timezone.now() - timedelta(days=index + 1), pdf=True)
    today = timezone.localdate()
    northgate = [
        o
        for o in Obligation.objects.filter(version=version, organisation__slug="att-northgate").select_related("role")
        if o.owed_from <= today and (o.role.ends_on is None or o.role.ends_on >= today)
    ]
    pdfs = SealedPdf.objects.filter(
        acknowledgement__version=version, acknowledgement__organisation__slug="att-northgate"
    ).count()
    return {"owe": len(northgate), "signed": sum(1 for o in northgate if o.acknowledged_at), "pdfs": pdfs}


def test_admin_filters_to_a_school_exports_and_downloads_the_archive(demo, page, browser_login, monkeypatch):
    expected = sign_some_staff()
    queued: list[int] = []

    def queue(args: tuple[int], kwargs: dict) -> None:
        queued.append(args[0])

    # The worker is this test: the job waits until the test runs it, so the page's progress polling is exercised.
    monkeypatch.setattr(build_report_job, "apply_async", queue)
    browser_login(page, "admin@att.example", DEMO_PASSWORD)
    page.get_by_role("link", name="Reports").click()
    page.get_by_role("heading", name="Compliance dashboard").wait_for()
    page.get_by_label("School", exact=True).select_option(label="Northgate Academy")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_load_state("networkidle")
    assert "Northgate Academy" in page.locator("#totals-heading").inner_text()
    assert page.locator('[data-total="owe"]').inner_text() == str(expected["owe"])
    assert page.locator('[data-total="signed"]').inner_text() == str(expected["signed"])
    assert page.locator("#chart-schools").get_attribute("role") == "img"

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="People list as CSV").click()
    assert csv_download.value.suggested_filename.endswith(".csv")
    with open(csv_download.value.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == expected["owe"] and {row["School"] for row in rows} == {"Northgate Academy"}
    assert sum(row["Status"] == "Signed" for row in rows) == expected["signed"]

    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="People list as XLSX").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    with open(xlsx_download.value.path(), "rb") as workbook:
        sheet = load_workbook(workbook)["People"]
    assert sheet.max_row - 1 == expected["owe"] and sheet.freeze_panes == "A2"

    page.get_by_role("button", name="Build the archive of signed PDFs").click()
    page.get_by_text("Waiting to start").wait_for()
    assert page.get_by_role("link", name=re.compile("^Download")).is_hidden()
    job = ReportJob.objects.get()
    assert queued == [job.pk] and job.status == JobStatus.PENDING
    job_run(job.pk)
    link = page.get_by_role("link", name=re.compile(r"^Download .*\.zip$"))
    link.wait_for()  # the page's script polls the status and shows the link when the archive is ready
    # A native <progress> (no inline style under the CSP): the script moves its value, which is its ARIA value too.
    assert page.get_by_role("progressbar").evaluate("meter => meter.value") == 100
    with page.expect_download() as zip_download:
        link.click()
    archive = zipfile.ZipFile(zip_download.value.path())
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig"))))
    assert len(manifest) == expected["signed"]
    with_pdf = [row for row in manifest if row["File"]]
    assert len(with_pdf) == expected["pdfs"] > 0 and all(row["PDF check"] == "matches" for row in with_pdf)
    assert sorted(name for name in archive.namelist() if name.endswith(".pdf")) == sorted(
        row["File"] for row in with_pdf
    )


def test_public_governance_page_shows_a_declared_interest_and_attendance(demo, page):
    governor = Person.objects.get(email="governor@llt.example")
    latest = Declaration.objects.filter(person=governor, nothing_to_declare=False).order_by("-made_at").first()
    if latest is None:  # the demo's signing history may not include his declaration
        latest = declare(
            governor,
            Organisation.objects.get(slug="llt-meadowbank-lgb"),
            interests=[
                {
                    "kind": "business",
                    "counterparty": "Hughes Building Services Ltd",
                    "nature": "Director and majority shareholder",
                    "starts_on": date(2015, 4, 1),
                },
            ],
        )
    interest = latest.interests.get()
    page.goto("/organisations/llt/governance/")
    page.get_by_role("heading", name="Governance of Leading Learners Trust").wait_for()
    board = page.get_by_role("table", name=re.compile("Meadowbank Local Governing Board"))
    row = board.get_by_role("row").filter(has_text="Tom Hughes")
    text = row.inner_text()
    assert interest.counterparty in " ".join(text.split()) and interest.nature in " ".join(text.split())
    assert "2 of 3" in text  # present at two of the board's three meetings last academic year
    assert "@" not in page.content().split("<main", 1)[1]  # no email address anywhere in the page
    assert page.goto("/organisations/att/governance/").status == 404  # ATT has not published its register


def test_the_dashboard_works_on_a_phone(demo, phone_page, browser_login):
    sign_some_staff()
    browser_login(phone_page, "schooladmin@att.example", DEMO_PASSWORD)
    phone_page.goto("/reports/")
    phone_page.get_by_role("heading", name="Compliance dashboard").wait_for()
    expect(phone_page.locator('[data-total="owe"]')).to_be_visible()
    # The chart scrolls sideways inside its figure rather than overflowing the page.
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1
