"""Accessibility measured in a real browser: axe-core (WCAG 2.2 A/AA and best practice) finds nothing on every
page each role reaches, at 1280 and 375 px, and no page scrolls sideways; signing works with the keyboard alone,
including recovering from a rejected name through the error summary.

To check a new page, add a ``Page`` to ``PAGES``: who visits it (a demo email, or ANONYMOUS) and its URL name,
with a function that finds its arguments in the demo data if it needs any.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from acknowledgements.models import Acknowledgement
from conduct.drafting import draft_start, open_draft
from conduct.models import Adoption, Code, CodeVersion, Meeting, Organisation, Person, VersionStatus
from reports.jobs import job_request
from reports.models import JobKind
from reports.selectors import ReportFilters

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANONYMOUS = ""
STAFF, GOVERNOR, CLERK, CHAIR, ADMIN = (
    "staff@att.example",
    "governor@llt.example",
    "clerk@llt.example",
    "chair@llt.example",
    "admin@att.example",
)
DEMO_PASSWORD = "conduct-demo-2025"
WIDTHS = (1280, 375)
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
    "resultTypes": ["violations"],
}


def version_of(slug: str) -> dict[str, Any]:
    version = CodeVersion.objects.filter(code__slug=slug).exclude(status=VersionStatus.DRAFT).latest("created_at")
    return {"slug": slug, "pk": version.pk}


def record_in(trust: str) -> dict[str, Any]:
    """The latest signed record in the trust (the demo's signatures move with the day it is loaded)."""
    path = Organisation.objects.get(slug=trust).path
    return {"pk": Acknowledgement.objects.filter(organisation__path__startswith=path).latest("signed_at").pk}


def adoption_by(board: str) -> dict[str, Any]:
    return {"pk": Adoption.objects.filter(board__slug=board).latest("adopted_on").pk}


def meeting_of(board: str) -> dict[str, Any]:
    return {"pk": Meeting.objects.filter(board__slug=board).latest("held_on").pk}


def adopt_for(slug: str, board: str) -> dict[str, Any]:
    return {**version_of(slug), "board_slug": board}


def owed_by(email: str) -> dict[str, Any]:
    obligation = Person.objects.get(email=email).obligations.filter(acknowledged_at__isnull=True).order_by("pk").first()
    assert obligation is not None, f"{email} owes nothing in the demo"
    return {"pk": obligation.pk}


def person_of(email: str) -> dict[str, Any]:
    return {"pk": Person.objects.get(email=email).pk}


def role_of(email: str) -> dict[str, Any]:
    """A current role of the person (the people pages that change one role)."""
    person = Person.objects.get(email=email)
    role = person.roles.filter(ends_on__isnull=True).order_by("pk").first()
    assert role is not None, f"{email} has no current role in the demo"
    return {"pk": person.pk, "role_pk": role.pk}


def draft_of(slug: str, email: str) -> dict[str, Any]:
    """The code's open draft, started by this drafter if there is none yet (as "Start a draft" does)."""
    code = Code.objects.get(slug=slug)
    draft = open_draft(code) or draft_start(code=code, created_by=Person.objects.get(email=email))
    return {"slug": slug, "pk": draft.pk}


def job_for(email: str, trust: str) -> dict[str, Any]:
    """A spreadsheet job of the trust, requested but not run (the page shows it waiting)."""
    filters = ReportFilters(organisation=Organisation.objects.get(slug=trust), as_at=timezone.localdate())
    job, _created = job_request(
        user=Person.objects.get(email=email), kind=JobKind.SPREADSHEET, filters=filters, enqueue=False
    )
    return {"public_id": job.public_id}


LLT_CODE, ATT_CODE = "llt-governance-code-of-conduct", "att-staff-code-of-conduct"


@dataclass(frozen=True)
class Page:
    role: str
    url_name: str
    kwargs: Callable[[], dict[str, Any]] | None = None
    query: str = ""

    def url(self) -> str:
        return reverse(self.url_name, kwargs=self.kwargs() if self.kwargs else None) + self.query


PAGES = [
    # Anyone
    Page(ANONYMOUS, "home"),
    Page(ANONYMOUS, "account_login"),
    Page(ANONYMOUS, "account_reset_password"),
    Page(ANONYMOUS, "acknowledgements:verify"),
    Page(ANONYMOUS, "public_governance", lambda: {"slug": "llt-board"}),
    Page(ANONYMOUS, "accessibility"),
    # A member of staff who owes the staff code
    Page(STAFF, "home"),
    Page(STAFF, "acknowledgements:my_codes"),
    Page(STAFF, "acknowledgements:version", lambda: version_of(ATT_CODE)),
    Page(STAFF, "account_email"),
    # A governor: signed last year, asked to renew the declaration
    Page(GOVERNOR, "home"),
    Page(GOVERNOR, "acknowledgements:my_codes"),
    Page(GOVERNOR, "acknowledgements:version", lambda: version_of(LLT_CODE)),
    Page(GOVERNOR, "acknowledgements:declare"),
    # A clerk: drafts, meetings, paper signatures, people
    Page(CLERK, "home"),
    Page(CLERK, "conduct:governance"),
    Page(CLERK, "conduct:code_history", lambda: {"slug": LLT_CODE}),
    Page(CLERK, "conduct:draft_start", lambda: {"slug": LLT_CODE}),
    Page(CLERK, "conduct:board_meetings", lambda: {"slug": "llt-board"}),
    Page(CLERK, "conduct:meeting_create", lambda: {"slug": "llt-board"}),
    Page(CLERK, "conduct:meeting", lambda: meeting_of("llt-board")),
    Page(CLERK, "conduct:adoption", lambda: adoption_by("llt-board")),
    Page(CLERK, "acknowledgements:paper"),
    Page(CLERK, "acknowledgements:invitations"),
    Page(CLERK, "conduct:draft_edit", lambda: draft_of(LLT_CODE, CLERK)),
    Page(CLERK, "people:directory"),
    Page(CLERK, "people:person", lambda: person_of(GOVERNOR)),
    # A chair: adopts for the board
    Page(CHAIR, "home"),
    Page(CHAIR, "conduct:adopt", lambda: adopt_for(LLT_CODE, "llt-board")),
    # An admin: the organisation, reports, reminders, people
    Page(ADMIN, "home"),
    Page(ADMIN, "conduct:organisations"),
    Page(ADMIN, "conduct:organisation_rename", lambda: {"slug": "att-northgate"}),
    Page(ADMIN, "conduct:organisation_move", lambda: {"slug": "att-northgate-lgb"}),
    Page(ADMIN, "conduct:audit_log", lambda: {"slug": "att"}),
    Page(ADMIN, "conduct:code_history", lambda: {"slug": ATT_CODE}),
    Page(ADMIN, "reports:dashboard"),
    Page(ADMIN, "reports:people", query="?status=overdue"),
    Page(ADMIN, "reports:register"),
    Page(ADMIN, "reports:jobs"),
    Page(ADMIN, "reminders:index"),
    Page(ADMIN, "reminders:log"),
    Page(ADMIN, "reminders:code_steps", lambda: {"slug": ATT_CODE}),
    Page(ADMIN, "acknowledgements:invitations"),
    Page(ADMIN, "acknowledgements:invite"),
    Page(ADMIN, "acknowledgements:import"),
    Page(ADMIN, "acknowledgements:paper"),
    Page(ADMIN, "acknowledgements:record", lambda: record_in("att")),
    Page(ADMIN, "acknowledgements:record_paper", lambda: owed_by(STAFF)),
    Page(ADMIN, "conduct:branding_edit", lambda: {"slug": "att"}),
    Page(ADMIN, "reports:job", lambda: job_for(ADMIN, "att")),
    Page(ADMIN, "people:directory"),
    Page(ADMIN, "people:person", lambda: person_of(STAFF)),
    Page(ADMIN, "people:edit", lambda: person_of(STAFF)),
    Page(ADMIN, "people:leaver", lambda: person_of(STAFF)),
    Page(ADMIN, "people:role_add", lambda: person_of(STAFF)),
    Page(ADMIN, "people:role_end", lambda: role_of(STAFF)),
    Page(ADMIN, "people:role_edit", lambda: role_of(STAFF)),
    Page(ADMIN, "people:role_move", lambda: role_of(STAFF)),
    Page(ADMIN, "people:audit"),
    Page(ADMIN, "provisioning:index"),
    Page(ADMIN, "provisioning:tokens", lambda: {"slug": "att"}),
    Page(ADMIN, "provisioning:roster", lambda: {"slug": "att"}),
    Page(ADMIN, "privacy:retention"),
]

ROLES = sorted({page.role for page in PAGES})
_axe = Axe()


def problems(page) -> list[str]:
    """axe's violations and any sideways scrolling on the page as it is now, in words."""
    found = [
        f"{v['id']} ({v['impact']}): {[node['target'] for node in v['nodes'][:3]]} {v['help']}"
        for v in _axe.run(page, options=AXE_OPTIONS).response["violations"]
    ]
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width > inner:
        found.append(f"scrolls sideways: {width} px wide in a {inner} px window")
    return found


def sign_in(page, email: str) -> None:
    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def test_every_page_each_role_reaches_has_no_axe_violations_and_no_sideways_scrolling(demo, browser, live_server):
    # One test for every role, so the demo is loaded once; each role signs in in a browser context of its own.
    failures = {}
    for role in ROLES:
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(15000)
        page = context.new_page()
        if role:
            sign_in(page, role)
        for entry in (p for p in PAGES if p.role == role):
            try:
                url = entry.url()
            except Exception as problem:  # the demo data lacks what the page needs: say which page
                failures[f"{role or 'anonymous'} {entry.url_name}"] = [f"no URL: {problem!r}"]
                continue
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                response = page.goto(url)
                page.wait_for_load_state("networkidle")
                if response is None or response.status != 200:
                    failures[f"{role or 'anonymous'} {url}"] = [f"status {response and response.status}"]
                    break
                if found := problems(page):
                    failures[f"{role or 'anonymous'} {url} at {width} px"] = found
        context.close()
    assert failures == {}


def test_the_error_pages_have_no_axe_violations(browser, live_server, db):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    failures = {}
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        response = page.goto("/no-such-page/")
        assert response is not None and response.status == 404
        assert page.get_by_role("heading", level=1).inner_text() == "Page not found"
        if found := problems(page):
            failures[f"404 at {width}"] = found
        # The 500, 400 and 403 pages as their handlers render them (the 500 page with no request context).
        for name, heading in (
            ("500.html", "Sorry, something went wrong"),
            ("400.html", "Bad request"),
            ("403.html", "You cannot see this page"),
        ):
            request = RequestFactory().get("/")
            html = render_to_string(name) if name == "500.html" else render_to_string(name, request=request)
            page.goto("/no-such-page/")  # the same origin, so the page's style sheet loads
            page.set_content(html)
            page.wait_for_load_state("networkidle")
            assert page.get_by_role("heading", level=1).inner_text() == heading, name
            if found := problems(page):
                failures[f"{name} at {width}"] = found
    context.close()
    assert failures == {}


def test_signing_with_the_keyboard_alone_recovers_from_a_rejected_name(demo, browser, live_server):
    person = Person.objects.get(email=STAFF)
    code = Code.objects.get(slug=ATT_CODE)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 800})
    context.set_default_timeout(15000)
    page = context.new_page()
    sign_in(page, STAFF)
    page.goto(reverse("acknowledgements:version", kwargs=version_of(ATT_CODE)))
    page.wait_for_load_state("networkidle")

    def focused() -> dict[str, str]:
        return page.evaluate(
            """() => { const el = document.activeElement;
                       return {tag: el.tagName, id: el.id, text: (el.textContent || '').trim().slice(0, 80),
                               type: el.type || '', name: el.name || ''}; }"""
        )

    def tab_to(predicate: Callable[[dict[str, str]], bool], limit: int = 400) -> dict[str, str]:
        for _ in range(limit):
            page.keyboard.press("Tab")
            now = focused()
            if predicate(now):
                return now
        raise AssertionError("never reached by Tab")

    # From the top of a long page, the "Go to the signing form" link, then the form's fields in order.
    tab_to(lambda el: el["text"] == "Go to the signing form")
    page.keyboard.press("Enter")
    tab_to(lambda el: el["name"] == "declaration-choice")
    page.keyboard.press("Space")  # the first choice: nothing to declare
    tab_to(lambda el: el["name"] == "agree")
    page.keyboard.press("Space")
    tab_to(lambda el: el["name"] == "typed_name")
    page.keyboard.type("Someone Else")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")

    # Refused: the title says so and focus is on the error summary, which links to the field.
    assert page.title().startswith("Error: ")
    assert page.evaluate("document.activeElement.matches('[data-error-summary]')")
    assert page.locator('[data-error-summary] a[href="#id_typed_name"]').count() == 1
    assert not person.acknowledgements.filter(version__code=code).exists()
    page.keyboard.press("Tab")
    assert focused()["tag"] == "A"
    page.keyboard.press("Enter")
    assert focused()["name"] == "typed_name"
    page.keyboard.press("Control+A")
    page.keyboard.type(person.full_name)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")

    ack = person.acknowledgements.get(version__code=code)
    assert ack.typed_name == person.full_name and page.url.endswith(ack.get_absolute_url())
    context.close()
