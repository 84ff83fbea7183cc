"""The erasure pages in a real browser: axe-core (WCAG 2.2 AA) finds nothing, at 1280 and 375 px, under the CSP.

The person's page with its buttons, the confirmation page (and the same page refusing a wrong name), the legal
hold page, the record page after the erasure and the erased file's tombstone page. The checks are those of
``conduct/tests/test_accessibility.py``, whose helpers this uses.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from acknowledgements.models import Acknowledgement
from conduct.models import Person, Role
from conduct.tests.test_accessibility import ADMIN, STAFF, WIDTHS, csp_violations, problems, sign_in, watch_csp
from core.models import Tombstone
from privacy.models import ErasureRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _checked(page, console, failures: dict, name: str, url: str | None = None, status: int = 200) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if url is not None:
            response = page.goto(url)
            page.wait_for_load_state("networkidle")
            if response is None or response.status != status:
                failures[name] = [f"status {response and response.status}"]
                return
        if found := problems(page) + csp_violations(page, console):
            failures[f"{name} at {width} px"] = found


def test_the_erasure_pages_have_no_axe_violations(demo, browser, live_server):
    staff = Person.objects.get(email=STAFF)
    name = staff.full_name
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(15000)
    console = watch_csp(context)
    page = context.new_page()
    sign_in(page, ADMIN)
    failures: dict[str, list[str]] = {}
    person_url = reverse("people:person", args=[staff.pk])
    erase_url = reverse("privacy:erase", args=[staff.pk])

    _checked(page, console, failures, "person page", person_url)
    assert page.get_by_role("link", name="Erase personal data").count() == 1
    _checked(page, console, failures, "legal hold page", reverse("privacy:hold", args=[staff.pk, "set"]))
    _checked(page, console, failures, "erase page while they still hold a role", erase_url)
    assert "still holds a role here" in page.content()
    # They left yesterday (recorded by hand here; the leaver page has its own journey).
    Role.objects.filter(person=staff).update(ends_on=timezone.localdate() - timedelta(days=1))
    _checked(page, console, failures, "erase page", erase_url)

    page.get_by_label("A valid erasure request (UK GDPR Article 17)").check()
    page.get_by_label("Reason").fill("Letter of 2 November 2026; no claim pending.")
    page.get_by_label("Type the person's name to confirm").fill("Not the name")
    page.get_by_role("button", name="Erase the personal data").click()
    page.wait_for_load_state("networkidle")
    assert "not the name on record" in page.content()
    _checked(page, console, failures, "erase page refusing a wrong name")
    assert not ErasureRecord.objects.exists()

    page.get_by_label("Type the person's name to confirm").fill(name)
    page.get_by_role("button", name="Erase the personal data").click()
    page.wait_for_load_state("networkidle")
    assert ErasureRecord.objects.filter(person=staff).exists()
    _checked(page, console, failures, "person page after erasure")
    ack = Acknowledgement.objects.filter(person=staff).first()
    if ack is not None:
        _checked(page, console, failures, "erased record", reverse("acknowledgements:record", args=[ack.pk]))

    stone = Tombstone(
        record_type="acknowledgements.sealedpdf", record_id=1, erased_at=timezone.now(), basis="erasure_request"
    )
    stone.sha256 = "ab" * 32
    html = render_to_string(
        "core/file_erased.html", {"what": "the signed PDF", "tombstone": stone}, request=RequestFactory().get("/")
    )
    page.goto("/no-such-page/")  # the same origin, so the page's style sheet loads
    page.set_content(html)
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", level=1).inner_text() == "The signed PDF has been erased"
    if found := problems(page):
        failures["tombstone page"] = found
    context.close()
    assert failures == {}
