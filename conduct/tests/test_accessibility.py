"""Accessibility measured in a real browser: axe-core (WCAG 2.2 A/AA and best practice) finds nothing on every
page each role reaches, at 1280 and 375 px, and no page scrolls sideways; signing works with the keyboard alone,
including recovering from a rejected name through the error summary.

To check a new page, add a ``Page`` to ``PAGES``: who visits it (a demo email, or ANONYMOUS) and its URL name,
with a function that finds its arguments in the demo data if it needs any.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from django.conf import settings
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone

from acknowledgements.models import Acknowledgement
from conduct.attachments import attachment_add
from conduct.drafting import draft_start, open_draft
from conduct.models import (
    Adoption,
    Clause,
    Code,
    CodeVersion,
    Meeting,
    NetworkMembership,
    Organisation,
    Person,
    Section,
    VersionStatus,
)
from conduct.tests.importer_corpus import STAFF as IMPORTED
from conduct.tests.importer_corpus import seed_docx
from provisioning.roster import roster_upload_create
from provisioning.tokens import token_create, token_revoke
from reports.jobs import job_claim, job_complete, job_fail, job_request
from reports.models import JobKind
from reports.selectors import ReportFilters

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANONYMOUS = ""
STAFF, GOVERNOR, CLERK, CHAIR, ADMIN, NETWORK_ADMIN = (
    "staff@att.example",
    "governor@llt.example",
    "clerk@llt.example",
    "chair@llt.example",
    "admin@att.example",
    "admin@cp.example",
)
DEMO_PASSWORD = "conduct-demo-2025"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
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


def account_change_of(email: str, change: str) -> dict[str, Any]:
    return {"pk": Person.objects.get(email=email).pk, "change": change}


def draft_section_of(slug: str, email: str) -> dict[str, Any]:
    """The draft's second section (the first is the untitled opening one), for its edit and remove pages."""
    draft = draft_of(slug, email)
    section = Section.objects.filter(version_id=draft["pk"]).order_by("position")[1]
    return {**draft, "section_id": section.pk}


def draft_clause_of(slug: str, email: str) -> dict[str, Any]:
    draft = draft_of(slug, email)
    clause = Clause.objects.filter(section__version_id=draft["pk"]).order_by("section__position", "position").first()
    assert clause is not None
    return {**draft, "clause_id": clause.pk}


def draft_with_file(slug: str, email: str) -> dict[str, Any]:
    """The draft's files page with a file on it (the staff code's draft carries its appendix from the demo)."""
    draft = draft_of(slug, email)
    version = CodeVersion.objects.get(pk=draft["pk"])
    if not version.attachments.exists():
        data = (settings.BASE_DIR / "fixtures/attachments/the-academy-way-placeholder.pdf").read_bytes()
        attachment_add(
            version=version, actor=Person.objects.get(email=email), data=data, filename="appendix.pdf", title="Appendix"
        )
    return draft


def paper_record_in(trust: str) -> dict[str, Any]:
    path = Organisation.objects.get(slug=trust).path
    ack = Acknowledgement.objects.filter(organisation__path__startswith=path, recorded_by__isnull=False).latest(
        "signed_at"
    )
    return {"pk": ack.pk}


def finished_job(email: str, school: str, *, failed: bool = False) -> dict[str, Any]:
    """A spreadsheet job of one school that has finished (a small file attached) or failed."""
    filters = ReportFilters(organisation=Organisation.objects.get(slug=school), as_at=timezone.localdate())
    job, _created = job_request(
        user=Person.objects.get(email=email), kind=JobKind.SPREADSHEET, filters=filters, enqueue=False
    )
    claimed = job_claim(job.pk)
    if claimed is not None and failed:
        job_fail(claimed, message="The report could not be built: the database did not answer in time.")
    elif claimed is not None:
        job_complete(claimed, handle=io.BytesIO(b"rows"), file_name="people.xlsx", summary={"rows": 3, "people": 3})
    return {"public_id": job.public_id}


def membership_in(network: str) -> dict[str, Any]:
    membership = NetworkMembership.objects.filter(network__slug=network).order_by("pk").first()
    assert membership is not None, f"{network} has no member schools in the demo"
    return {"pk": membership.pk}


def tokens_of(trust: str) -> dict[str, Any]:
    """The tokens page listing a working token and a revoked one (each with its revoke form or its state)."""
    organisation, admin = Organisation.objects.get(slug=trust), Person.objects.get(email=ADMIN)
    if not organisation.provisioning_tokens.exists():
        token_create(actor=admin, organisation=organisation, name="Azure AD (in use)")
        revoked = token_create(actor=admin, organisation=organisation, name="Old MIS connector")
        token_revoke(actor=admin, token=revoked.token)
    return {"slug": trust}


def roster_previewed(trust: str) -> dict[str, Any]:
    """A whole-roster file previewed: an addition, a change, leavers (everyone else) and a rejected row."""
    organisation, today = Organisation.objects.get(slug=trust), timezone.localdate().isoformat()
    staff = Person.objects.get(email=STAFF)
    rows = [
        "name,email,role,organisation,start date",
        f"{staff.full_name}-Renamed,{STAFF},employee,Northgate Academy,2018-09-01",
        f"Nadia New-Starter,nadia.new@att.example,employee,Northgate Academy,{today}",
        f"No Address,not-an-email,employee,Northgate Academy,{today}",
    ]
    upload = roster_upload_create(
        actor=Person.objects.get(email=ADMIN),
        organisation=organisation,
        data="\n".join(rows).encode(),
        file_name="mis-export.csv",
        whole_roster=True,
        leavers_on=timezone.localdate(),
    )
    return {"slug": trust, "pk": upload.pk}


LLT_CODE, ATT_CODE = "llt-governance-code-of-conduct", "att-staff-code-of-conduct"


@dataclass(frozen=True)
class Page:
    role: str
    url_name: str
    kwargs: Callable[[], dict[str, Any]] | None = None
    query: str = ""
    status: int = 200  # what the page answers (401 for a failed sign-in, 400 for an invitation link that failed)

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
    Page(ANONYMOUS, "account_request_login_code"),
    Page(ANONYMOUS, "account_reset_password_done"),
    Page(ANONYMOUS, "account_signup"),
    Page(ANONYMOUS, "account_inactive"),
    Page(ANONYMOUS, "account_email_verification_sent"),
    Page(ANONYMOUS, "socialaccount_login_cancelled"),
    Page(ANONYMOUS, "socialaccount_login_error", status=401),
    # Links that no longer work: an expired or mistyped password-reset, invitation or email-confirmation link
    Page(ANONYMOUS, "account_reset_password_from_key", lambda: {"uidb36": "0", "key": "expired"}),
    Page(ANONYMOUS, "account_reset_password_from_key_done"),
    Page(ANONYMOUS, "invitation_link", lambda: {"uidb36": "0", "key": "expired"}, status=400),
    Page(ANONYMOUS, "account_confirm_email", lambda: {"key": "expired"}),
    # A member of staff who owes the staff code
    Page(STAFF, "home"),
    Page(STAFF, "acknowledgements:my_codes"),
    Page(STAFF, "acknowledgements:version", lambda: version_of(ATT_CODE)),
    Page(STAFF, "account_email"),
    Page(STAFF, "account_change_password"),
    Page(STAFF, "mfa_index"),
    Page(STAFF, "account_reauthenticate"),  # what "Activate" on the two-factor page asks first
    Page(STAFF, "socialaccount_connections"),
    Page(STAFF, "account_logout"),
    Page(STAFF, "conduct:version_compare", lambda: {"slug": ATT_CODE}),
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
    Page(CLERK, "conduct:draft_preview", lambda: draft_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:draft_details", lambda: draft_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:draft_files", lambda: draft_with_file(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:draft_discard", lambda: draft_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:draft_import_word", lambda: draft_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:draft_import_text", lambda: draft_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:section_add", lambda: draft_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:section_edit", lambda: draft_section_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:section_remove", lambda: draft_section_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:clause_add", lambda: draft_section_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:clause_edit", lambda: draft_clause_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:clause_remove", lambda: draft_clause_of(LLT_CODE, CLERK)),
    Page(CLERK, "conduct:version_compare", lambda: {"slug": LLT_CODE}, query="?all=1"),
    Page(CLERK, "conduct:code_settings", lambda: {"slug": LLT_CODE}),
    Page(CLERK, "conduct:code_create"),
    Page(CLERK, "conduct:import_word"),
    Page(CLERK, "conduct:import_text"),
    Page(CLERK, "conduct:adoption_start", lambda: version_of(LLT_CODE)),
    Page(CLERK, "conduct:meeting_edit", lambda: meeting_of("llt-board")),
    Page(CLERK, "acknowledgements:correct", lambda: paper_record_in("llt")),
    Page(CLERK, "people:directory"),
    Page(CLERK, "people:person", lambda: person_of(GOVERNOR)),
    # A clerk changes a governor's record: details, leaving, roles
    Page(CLERK, "people:edit", lambda: person_of(GOVERNOR)),
    Page(CLERK, "people:leaver", lambda: person_of(GOVERNOR)),
    Page(CLERK, "people:role_add", lambda: person_of(GOVERNOR)),
    Page(CLERK, "people:role_end", lambda: role_of(GOVERNOR)),
    Page(CLERK, "people:role_edit", lambda: role_of(GOVERNOR)),
    Page(CLERK, "people:role_move", lambda: role_of(GOVERNOR)),
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
    Page(ADMIN, "reports:job", lambda: finished_job(ADMIN, "att-northgate")),
    Page(ADMIN, "reports:job", lambda: finished_job(ADMIN, "att-riverside", failed=True)),
    Page(ADMIN, "conduct:organisation_add", lambda: {"slug": "att"}),
    Page(ADMIN, "conduct:organisation_close", lambda: {"slug": "att-riverside-lgb"}),
    Page(ADMIN, "people:account", lambda: account_change_of(STAFF, "deactivate")),
    Page(ADMIN, "people:account", lambda: account_change_of(STAFF, "reactivate")),
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
    Page(ADMIN, "provisioning:tokens", lambda: tokens_of("att")),
    Page(ADMIN, "provisioning:roster", lambda: {"slug": "att"}),
    Page(ADMIN, "provisioning:roster_preview", lambda: roster_previewed("att")),
    # Retention and erasure (privacy): the review list, a person's erasure and legal hold pages
    Page(ADMIN, "privacy:retention"),
    Page(ADMIN, "privacy:erase", lambda: person_of(STAFF)),
    Page(ADMIN, "privacy:hold", lambda: {**person_of(STAFF), "change": "set"}),
    # A network's admin: its members and inviting a school
    Page(NETWORK_ADMIN, "home"),
    Page(NETWORK_ADMIN, "conduct:network_members", lambda: {"slug": "cp-thames-hub"}),
    Page(NETWORK_ADMIN, "conduct:network_invite", lambda: {"slug": "cp-thames-hub"}),
    Page(NETWORK_ADMIN, "conduct:membership_end", lambda: membership_in("cp-thames-hub")),
]

# Pages reached only by filling in a form first (an import, a sign-in code, a second factor), checked by their
# own tests below.
CHECKED_ELSEWHERE = {
    "conduct:import_preview",
    "conduct:import_clause",
    "account_confirm_login_code",
    "mfa_authenticate",
    "mfa_deactivate_totp",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_reauthenticate",
    "mfa_activate_totp",
}
POST_ONLY = "a form's target (POST only): the page the form is on is checked"
FILE = "a file download, not a page"
JSON = "JSON for a page's script or a client, not a page"
# Every named route that is not a page checked here, and why (test_every_route_is_checked_or_says_why_not).
NOT_PAGES = {
    "conduct:section_move": POST_ONLY,
    "conduct:clause_move": POST_ONLY,
    "conduct:draft_file_remove": POST_ONLY,
    "conduct:import_create": POST_ONLY,
    "conduct:import_replace": POST_ONLY,
    "conduct:import_clause_merge": POST_ONLY,
    "conduct:import_clause_split": POST_ONLY,
    "conduct:import_clause_mark": POST_ONLY,
    "conduct:membership_accept": POST_ONLY,
    "acknowledgements:sign": POST_ONLY,
    "acknowledgements:invitation_resend": POST_ONLY,
    "provisioning:token_revoke": POST_ONLY + " (the tokens page, with a working and a revoked token)",
    "reports:remind_now": POST_ONLY,
    "reports:job_start": POST_ONLY,
    "reports:register_publication": POST_ONLY,
    "conduct:version_file": FILE,
    "conduct:branding_css": "a style sheet",
    "conduct:branding_logo": "an image",
    "acknowledgements:pdf": FILE,
    "acknowledgements:scan": FILE,
    "acknowledgements:adoption_certificate": FILE,
    "acknowledgements:evidence_bundle": FILE,
    "acknowledgements:adoption_evidence_bundle": FILE,
    "acknowledgements:import_template": FILE,
    "reports:export": FILE,
    "reports:job_download": FILE,
    "reports:register_export": FILE,
    "people:export": FILE,
    "people:gias": FILE,
    "people:audit_export": FILE,
    "mfa_download_recovery_codes": FILE,
    "acknowledgements:pdf_status": JSON,
    "acknowledgements:adoption_certificate_status": JSON,
    "reports:job_status": JSON,
    "acknowledgements:code": "redirects to the version page a reader may read (checked)",
    "account_set_password": "redirects to the password change page (checked) for anyone with a password",
    "socialaccount_signup": "needs a Google or Microsoft sign-in in progress; redirects to sign-in otherwise",
}
# The SCIM API (JSON for identity providers) and the Django admin (the platform operator's, Django's own markup).
NOT_PAGE_NAMESPACES = ("scim", "admin")


def named_routes() -> set[str]:
    """Every named route of the project, with its namespace ("conduct:draft_edit")."""

    def walk(patterns, namespace: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace or "") if part)
                if (pattern.namespace or "") not in NOT_PAGE_NAMESPACES:
                    yield from walk(pattern.url_patterns, inner)
            elif pattern.name:
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    return set(walk(get_resolver().url_patterns, ""))


ROLES = sorted({page.role for page in PAGES})
_axe = Axe()

# Every document of a context records the Content-Security-Policy violations it reports (run before the page's
# own scripts; axe itself is injected by page.evaluate, which the policy does not apply to).
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI || "inline"} at ${where}`);
});
"""


def watch_csp(context) -> list[str]:
    """Record the context's CSP violations: the events its pages report, and Chromium's console errors about it."""
    console: list[str] = []
    context.add_init_script(CSP_LISTENER)
    context.on(
        "console",
        lambda message: (
            console.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    return console


def csp_violations(page, console: list[str]) -> list[str]:
    """The violations reported on the page as it is now, and any console errors since the last call (emptied)."""
    found = [f"CSP: {v}" for v in page.evaluate("window.__cspViolations || []")] + [f"CSP: {m}" for m in console]
    console.clear()
    return found


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


def test_every_page_each_role_reaches_has_no_axe_violations_no_sideways_scrolling_and_no_csp_violation(
    demo, browser, live_server
):
    # One test for every role, so the demo is loaded once; each role signs in in a browser context of its own.
    # The pages are served under the enforced Content-Security-Policy (no bypass_csp): axe runs through evaluate.
    failures = {}
    for role in ROLES:
        context = browser.new_context(base_url=live_server.url)
        context.set_default_timeout(15000)
        console = watch_csp(context)
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
                if response is None or response.status != entry.status:
                    failures[f"{role or 'anonymous'} {url}"] = [f"status {response and response.status}"]
                    break
                if found := problems(page) + csp_violations(page, console):
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


def test_the_pages_scripts_work_under_the_policy_and_what_it_forbids_is_refused(demo, browser, live_server):
    # Pages whose scripts change the page (the signing form's interests rows, the contents menu, a report job
    # that polls until its file is ready) report no violation, while an inline style and an inline script put
    # into the same page are refused and reported: the listener would see a violation if a page caused one.
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 800})
    context.set_default_timeout(15000)
    console = watch_csp(context)
    page = context.new_page()
    sign_in(page, GOVERNOR)
    response = page.goto(reverse("acknowledgements:version", kwargs=version_of(LLT_CODE)))
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    # The phone's menu (Bootstrap's collapse sets heights through the CSSOM, which the policy allows).
    page.get_by_role("button", name="Show or hide the menu").click()
    page.get_by_role("link", name="My codes").wait_for(state="visible")
    page.locator("summary", has_text="Contents").click()
    page.get_by_role("navigation", name="Contents").first.wait_for(state="visible")
    assert csp_violations(page, console) == []

    page.evaluate(
        """() => {
             const box = document.createElement("div");
             box.innerHTML = '<p id="styled" style="color: rgb(255, 0, 0)">red</p>';
             document.body.append(box);
             const script = document.createElement("script");
             script.textContent = "window.__inlineRan = true;";
             document.body.append(script);
           }"""
    )
    page.wait_for_timeout(200)  # the violation events are queued as tasks
    refused = csp_violations(page, console)
    assert any("style-src-attr" in v for v in refused) and any("script-src-elem" in v for v in refused), refused
    assert page.evaluate("window.__inlineRan === undefined")
    assert page.evaluate("getComputedStyle(document.getElementById('styled')).color") != "rgb(255, 0, 0)"
    context.close()

    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15000)
    console = watch_csp(context)
    page = context.new_page()
    sign_in(page, ADMIN)
    job = job_for(ADMIN, "att")
    page.goto(reverse("reports:job", kwargs=job))
    finished_job(ADMIN, "att")  # the same job finishes while the page polls it
    page.locator("#job-download-link").wait_for(state="visible")
    assert page.locator("#job-progress").evaluate("bar => bar.value") == 100
    assert page.locator("#job-percent").inner_text() == "100%"
    assert csp_violations(page, console) == []
    context.close()


def test_an_imported_documents_preview_and_its_clause_page_have_no_problems(demo, browser, live_server):
    # The import's pages live in the session of whoever read the document, so they are reached by reading one.
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(30000)
    console = watch_csp(context)
    page = context.new_page()
    sign_in(page, "clerk@att.example")
    page.goto(reverse("conduct:import_word"))
    page.get_by_label("Owned by").select_option(label="ATT Multi-Academy Trust")
    page.get_by_label("Word document (.docx)").set_input_files(
        files=[{"name": "staff-code.docx", "mimeType": DOCX_TYPE, "buffer": seed_docx(IMPORTED)}]
    )
    page.get_by_role("button", name="Read the document").click()
    page.wait_for_load_state("networkidle")
    preview = page.url
    clause = page.locator("#c-1-2").get_by_role("link", name=re.compile(r"^Correct clause 2 of section 1"))
    clause_page = live_server.url + (clause.get_attribute("href") or "")
    failures = {}
    for url in (preview, clause_page):
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(url)
            page.wait_for_load_state("networkidle")
            assert response is not None and response.status == 200, url
            if found := problems(page) + csp_violations(page, console):
                failures[f"{url} at {width} px"] = found
    context.close()
    assert failures == {}


def test_every_route_is_checked_or_says_why_not():
    # A new page fails this test until it is added to PAGES (or, if it is not a page, to NOT_PAGES with why).
    routes = named_routes()
    checked = {page.url_name for page in PAGES} | CHECKED_ELSEWHERE
    assert routes - checked - NOT_PAGES.keys() == set()
    assert (checked | NOT_PAGES.keys()) - routes == set()  # nothing listed that is no longer a route


def test_the_sign_in_code_and_two_factor_pages_have_no_problems(demo, browser, live_server):
    # A member of staff with an authenticator app: the second-factor step of signing in, then the pages that
    # manage it; and, signed out, the page that asks for an emailed sign-in code.
    staff = Person.objects.get(email=STAFF)
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    RecoveryCodes.activate(staff)
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15000)
    console = watch_csp(context)
    page = context.new_page()
    failures: dict[str, list[str]] = {}

    def check(name: str) -> None:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            if found := problems(page) + csp_violations(page, console):
                failures[f"{name} at {width} px"] = found

    sign_in(page, STAFF)
    assert page.url.endswith(reverse("mfa_authenticate"))
    check("mfa_authenticate")
    page.locator("input[name=code]").fill(format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    with page.expect_navigation():
        page.keyboard.press("Enter")
    names = ("mfa_index", "mfa_reauthenticate", "mfa_view_recovery_codes", "mfa_generate_recovery_codes")
    for name in (*names, "mfa_deactivate_totp"):
        response = page.goto(reverse(name))
        page.wait_for_load_state("networkidle")
        if "/accounts/reauthenticate/" in page.url:  # allauth asks for the password again before these
            page.get_by_label("Password").fill(DEMO_PASSWORD)
            with page.expect_navigation():
                page.keyboard.press("Enter")
            page.wait_for_load_state("networkidle")
        assert response is not None and response.status == 200 and page.url.endswith(reverse(name)), name
        check(name)
    context.close()

    # Someone without one sets it up: the page with the QR code (a data: image) and the code to type.
    context = browser.new_context(base_url=live_server.url)
    console = watch_csp(context)
    page = context.new_page()
    sign_in(page, GOVERNOR)
    page.goto(reverse("mfa_activate_totp"))
    if "/accounts/reauthenticate/" in page.url:
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        with page.expect_navigation():
            page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(reverse("mfa_activate_totp"))
    assert page.locator("img[src^='data:']").count() == 1  # the QR code, allowed by img-src data:
    check("mfa_activate_totp")
    context.close()

    context = browser.new_context(base_url=live_server.url)
    console = watch_csp(context)
    page = context.new_page()
    page.goto(reverse("account_request_login_code"))
    page.get_by_label("Email").fill(STAFF)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(reverse("account_confirm_login_code"))
    check("account_confirm_login_code")
    context.close()
    assert failures == {}


def test_the_django_admin_works_under_the_policy(demo, browser, live_server):
    # The platform operator's admin is Django's own markup (not checked by axe here), but it is served under the
    # same enforced policy: its pages and scripts (the change list's actions, a change form's widgets) report
    # no violation.
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15000)
    console = watch_csp(context)
    page = context.new_page()
    sign_in(page, "superuser@conduct.example")
    found = {}
    person = Person.objects.get(email=STAFF)
    for url in ("/admin/", "/admin/conduct/person/", f"/admin/conduct/person/{person.pk}/change/"):
        response = page.goto(url)
        page.wait_for_load_state("networkidle")
        assert response is not None and response.status == 200, url
        found[url] = csp_violations(page, console)
    context.close()
    assert found == dict.fromkeys(found, [])
