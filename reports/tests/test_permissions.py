"""Who sees what: every report view, export, job and download, across trusts, schools and signatories."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils.http import urlencode

from conduct.tests.factories import PersonFactory
from reports.models import ReportJob
from reports.tests.conftest import officer
from reports.views import EXPORTS

pytestmark = pytest.mark.django_db

GET_VIEWS = ["reports:dashboard", "reports:people"]


def link(name: str, params: dict | None = None, args=()) -> str:
    base = reverse(name, args=args)
    return f"{base}?{urlencode(params)}" if params else base


def oak_params(oak) -> dict:
    return {"organisation": oak.orgs["trust"].pk, "code": oak.code.pk, "version": oak.version.pk}


def every_get_link(params: dict) -> list[str]:
    links = [link(name, params) for name in GET_VIEWS]
    links += [link("reports:export", params, args=[table, fmt]) for table, fmt in sorted(EXPORTS)]
    links += [link("reports:register", {"organisation": params["organisation"]})]
    links += [
        link("reports:register_export", {"organisation": params["organisation"]}, args=[fmt]) for fmt in ("csv", "pdf")
    ]
    return links


def test_another_trusts_admin_gets_404_for_every_view_and_export_of_this_trust(oak, elm, client_for):
    client = client_for(elm.admin)
    for url in every_get_link(oak_params(oak)):
        assert client.get(url).status_code == 404, url
    for kind in ("archive", "detailed_pdf"):
        assert client.post(reverse("reports:job_start", args=[kind]), oak_params(oak)).status_code == 404
    assert not ReportJob.objects.exists()


@pytest.mark.parametrize(
    "swap",
    [
        lambda oak, elm: {"version": oak.version.pk},
        lambda oak, elm: {"code": oak.code.pk, "version": ""},
        lambda oak, elm: {"school": oak.orgs["north"].pk},
    ],
    ids=["version", "code", "school"],
)
def test_changing_any_id_to_another_trusts_is_a_404(oak, elm, client_for, swap):
    client = client_for(elm.admin)
    params = {
        "organisation": elm.orgs["trust"].pk,
        "code": elm.code.pk,
        "version": elm.version.pk,
        **swap(oak, elm),
    }
    for url in [link(name, params) for name in GET_VIEWS] + [link("reports:export", params, args=["people", "csv"])]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("reports:job_start", args=["archive"]), params).status_code == 404


def test_an_admin_sees_only_their_own_trust_in_every_export(oak, elm, client_for):
    client = client_for(elm.admin)
    own = {"organisation": elm.orgs["trust"].pk, "code": elm.code.pk, "version": elm.version.pk}
    oak_names = {person.full_name for person in oak.people.values()} | {org.name for org in oak.orgs.values()}
    for table, fmt in sorted(EXPORTS):
        response = client.get(link("reports:export", own, args=[table, fmt]))
        if response.status_code == 302:  # a PDF is built by a background job, never inside the request
            job = ReportJob.objects.get(public_id=response.url.rstrip("/").rsplit("/", 1)[-1])
            assert (job.requested_by, job.organisation) == (elm.admin, elm.orgs["trust"]), (table, fmt)
            assert client.get(response.url).status_code == 200, (table, fmt)
            continue
        assert response.status_code == 200, (table, fmt)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if fmt == "csv":
            text = body.decode("utf-8")
            assert not any(name in text for name in oak_names), table
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client.get(link("reports:export", own, args=["people", "csv"])).streaming_content)
                .decode()
                .lstrip("\ufeff")
            )
        )
    )
    assert rows and all("Elm Trust" in row["Name"] for row in rows)


def test_a_school_admin_cannot_reach_the_trust_or_another_school(oak, client_for):
    client = client_for(oak.school_admin)
    for url in every_get_link(oak_params(oak))[:-3]:  # the register is for trusts and boards, tested below
        assert client.get(url).status_code == 404, url
    own = {"organisation": oak.orgs["north"].pk, "version": oak.version.pk}
    assert client.get(link("reports:dashboard", {**own, "school": oak.orgs["south"].pk})).status_code == 404
    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client.get(link("reports:export", own, args=["people", "csv"])).streaming_content)
                .decode()
                .lstrip("\ufeff")
            )
        )
    )
    assert {row["School"] for row in rows} == {oak.orgs["north"].name}
    assert client.post(reverse("reports:job_start", args=["archive"]), oak_params(oak)).status_code == 404
    assert client.get(reverse("reports:register")).status_code == 404  # no trust or board in reach


def test_a_signatory_sees_none_of_it(oak, client_for):
    client = client_for(oak.teacher)
    for url in every_get_link(oak_params(oak)) + [
        reverse("reports:dashboard"),
        reverse("reports:jobs"),
        reverse("reports:register"),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("reports:job_start", args=["archive"]), oak_params(oak)).status_code == 404
    assert 'href="/reports/"' not in client.get("/").content.decode()  # no Reports link in the menu


def test_reports_need_sign_in(oak, client):
    for url in every_get_link(oak_params(oak)) + [reverse("reports:jobs")]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_a_superuser_reaches_every_trust(oak, elm, client_for):

    root = PersonFactory.create(is_superuser=True)
    client = client_for(root)
    assert client.get(link("reports:dashboard", oak_params(oak))).status_code == 200
    assert client.get(link("reports:dashboard", {"organisation": elm.orgs["trust"].pk})).status_code == 200


def test_a_board_clerk_sees_the_boards_reports_but_not_staff(oak, client_for):

    clerk = officer(oak.orgs["board"], "clerk")
    client = client_for(clerk)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200 and response.context["board"].filters.organisation == oak.orgs["board"]
    assert response.context["board"].totals.owe == 0  # staff obligations are held in the schools, outside the board
    assert client.get(link("reports:dashboard", {"organisation": oak.orgs["north"].pk})).status_code == 404
