"""A code's history (versions, adoptions, review dates, signatures) and the reviews-due highlight."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from acknowledgements.models import Obligation
from conduct.models import Code, Person, RoleKind
from conduct.reviews import reviews_due
from conduct.services import version_content_as_data
from conduct.tests.factories import (
    CodeFactory,
    RoleFactory,
    adopt,
    make_chair,
    make_version,
)

pytestmark = pytest.mark.django_db

LLT_CODE = "llt-governance-code-of-conduct"


def person(email: str) -> Person:
    return Person.objects.get(email=email)


def test_history_lists_every_version_its_adoptions_and_signatures(demo, client_for):
    code = Code.objects.get(slug=LLT_CODE)
    version = code.versions.get()
    signed = Obligation.objects.filter(version=version, acknowledged_at__isnull=False).count()
    owed = Obligation.objects.filter(version=version).count()
    page = (
        client_for(person("clerk@llt.example")).get(reverse("conduct:code_history", args=[LLT_CODE])).content.decode()
    )
    assert "2024-2025" in page and "Adopted" in page
    assert f"{signed} of {owed}</span> people asked to sign have signed" in page
    for adoption in version.adoptions.select_related("board", "chair"):
        assert adoption.board.name in page and adoption.chair.full_name in page
        assert reverse("acknowledgements:adoption_certificate", args=[adoption.pk]) in page
    # The demo's dates move with the day it is loaded (the demo works on any day): its review dates, not a fixed one.
    today = timezone.localdate()
    for adoption in version.adoptions.all():
        assert f"{adoption.review_due_on.day} {adoption.review_due_on:%b %Y}" in page
    assert ("Review overdue" in page) == any(a.review_due_on < today for a in version.adoptions.all())
    assert "Start next year&#x27;s draft" in page or "Start next year's draft" in page


def test_history_counts_signatures_per_version_and_per_board(tree, client_for):
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee", "local_governor"])
    first = make_version(code, "2025-2026")
    trustees = [RoleFactory.create(organisation=tree["board"], kind=RoleKind.TRUSTEE).person for _ in range(3)]
    governor = RoleFactory.create(organisation=tree["north_lgb"], kind=RoleKind.LOCAL_GOVERNOR).person
    adopt(first, tree["board"], held_on=date(2025, 9, 20), includes_sub_organisations=False)
    adopt(first, tree["north_lgb"], held_on=date(2025, 10, 1), includes_sub_organisations=False)
    Obligation.objects.filter(version=first, person__in=trustees[:2]).update(acknowledged_at=timezone.now())
    Obligation.objects.filter(version=first, person=governor).update(acknowledged_at=timezone.now())
    admin = RoleFactory.create(organisation=tree["trust"], kind=RoleKind.ADMIN).person
    page = client_for(admin).get(reverse("conduct:code_history", args=[code.slug])).content.decode()
    assert (
        Obligation.objects.filter(version=first).count() == 4
    )  # three trustees and the governor (chairs are not in the audience)
    assert "3 of 4</span> people asked to sign have signed" in page
    assert (
        "<td>2 of 3</td>" in page and "<td>1 of 1</td>" in page
    )  # per board: the trust board's round, the North LGB's


def test_history_queries_do_not_grow_with_versions_and_adoptions(tree, client_for):
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee", "local_governor"])
    admin = RoleFactory.create(organisation=tree["trust"], kind=RoleKind.ADMIN).person
    client = client_for(admin)
    url = reverse("conduct:code_history", args=[code.slug])

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    version = make_version(code, "2023-2024")
    adopt(version, tree["board"], held_on=date(2023, 9, 20))
    few = count()
    previous = version
    for year in (2024, 2025, 2026):
        version = make_version(code, f"{year}-{year + 1}", version_content_as_data(previous), based_on=previous)
        adopt(version, tree["board"], held_on=date(year, 9, 20))
        adopt(version, tree["north_lgb"], held_on=date(year, 10, 1))
        previous = version
    assert count() == few


def test_reviews_due_within_60_days_or_overdue_are_highlighted_for_officers(tree, client_for):
    today = timezone.localdate()
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee", "local_governor"], title="Governance code")
    soon = make_version(code, "2025-2026")
    chair = make_chair(tree["board"])
    # For the trust only (a trust-wide adoption would cover the local board's academy and replace its review).
    adopt(soon, tree["board"], chair=chair, held_on=today - timedelta(days=340), includes_sub_organisations=False)
    lgb_chair = make_chair(tree["north_lgb"])
    adopt(soon, tree["north_lgb"], chair=lgb_chair, held_on=today - timedelta(days=400))  # overdue
    later = CodeFactory.create(owner=tree["trust"], audience=["trustee"], title="Far code")
    adopt(make_version(later), tree["board"], chair=chair, held_on=today - timedelta(days=30))  # not due for months

    due = reviews_due(chair)
    assert [(r.adoption.board, r.overdue) for r in due] == [(tree["north_lgb"], True), (tree["board"], False)]
    assert 0 < due[1].days_left <= 60

    home = client_for(chair).get("/").content.decode()
    assert "Codes due for review" in home and "review overdue" in home and "Governance code" in home
    assert "Far code" not in home.split("Codes due for review")[1].split("</section>")[0]
    # The local board's chair sees their own board's review only.
    lgb_home = client_for(lgb_chair).get("/").content.decode()
    assert "review overdue" in lgb_home and tree["board"].name + ":" not in lgb_home
    # Signatories see no highlight.
    trustee = RoleFactory.create(organisation=tree["board"], kind=RoleKind.TRUSTEE).person
    assert "Codes due for review" not in client_for(trustee).get("/").content.decode()


def test_adopting_the_next_version_clears_the_review(tree):
    today = timezone.localdate()
    code = CodeFactory.create(owner=tree["trust"], audience=["trustee"])
    chair = make_chair(tree["board"])
    old = make_version(code, "2025-2026")
    adopt(old, tree["board"], chair=chair, held_on=today - timedelta(days=400))
    assert len(reviews_due(chair)) == 1
    new = make_version(code, "2026-2027", version_content_as_data(old), based_on=old)
    adopt(new, tree["board"], chair=chair, held_on=today - timedelta(days=1))
    assert reviews_due(chair) == []


def test_demo_reviews_are_overdue_on_the_llt_officers_home_pages(demo, client_for):
    for email in ("chair@llt.example", "admin@llt.example", "clerk@llt.example"):
        home = client_for(person(email)).get("/").content.decode()
        assert "Codes due for review" in home and "Leading Learners Trust Board" in home, email
    # ATT's staff code is coming up for review (the demo keeps it a month away whatever the day), not overdue.
    att = client_for(person("chair@att.example")).get("/").content.decode()
    assert "Codes due for review" in att and "review overdue" not in att and "(in 30 days)" in att
