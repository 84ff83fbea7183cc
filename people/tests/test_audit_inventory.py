"""Every service that writes on an officer's behalf writes an entry in the officers' audit log.

The services are found, not listed by hand: every public function of the product's modules that takes
the acting person as a keyword-only argument (``actor``, ``by``, ``created_by``, ``recorded_by``, …), as
the house style for services has it. Each must have a scenario here that calls it as an officer and
sees an entry by that officer; the few that write nothing of the set-up are exempt, each with its
reason. A new service without a scenario, or a stale name in either list, fails the first test.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from acknowledgements.invitations import (
    Invitee,
    invitation_create,
    invitation_resend,
    invitations_create_batch,
    people_import_csv,
)
from acknowledgements.models import Acknowledgement, Invitation, Obligation
from acknowledgements.paper import acknowledgement_correct, acknowledgement_record_on_behalf
from acknowledgements.tests.factories import META
from conduct import drafting, importing, meetings, organisations
from conduct import people as people_services
from conduct.drafting import ClauseContent, CodeDetails
from conduct.models import (
    AuditLogEntry,
    Clause,
    MembershipStatus,
    NetworkMembership,
    OrganisationKind,
    Person,
    Section,
)
from conduct.services import adoption_record
from conduct.tests.factories import (
    CodeFactory,
    MeetingFactory,
    OrganisationFactory,
    RoleFactory,
    make_version,
)
from reminders.steps import code_reminder_steps_update
from reports.jobs import job_request
from reports.publication import register_publication_set
from reports.selectors import ReportFilters

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
PRODUCT_APPS = ("core", "conduct", "acknowledgements", "reminders", "reports", "provisioning", "people")
ACTOR_ARGUMENTS = frozenset(
    {"actor", "by", "created_by", "recorded_by", "invited_by", "corrected_by", "requested_by", "revoked_by", "user"}
)

# Functions that take the acting person but change nothing of the set-up themselves.
EXEMPT = {
    "conduct.audit.audit_log_record": "writes the audit log itself",
    "conduct.services.version_create_from_content": "a builder: draft_start, code_create and the importer call it",
    "conduct.services.adoption_validate": "checks an adoption, writes nothing",
    "acknowledgements.declarations.declaration_rows": "builds rows for the signing services",
    "acknowledgements.events.acknowledgement_event": "builds a signing event (evidence) for the signing services",
    "acknowledgements.events.event_pdf_downloaded": "evidence that someone downloaded a PDF, not a change",
    "acknowledgements.events.event_invited": "the invitation's evidence event, written by invitation_create",
    "acknowledgements.events.events_invited_batch": "the invitations' evidence events, by invitations_create_batch",
    "acknowledgements.invitations.invitation_check_permission": "a permission check",
    "provisioning.roster.roster_plan": "a preview: writes nothing",
    "provisioning.roster.roster_preview": "a preview: writes nothing",
    "provisioning.roster.roster_upload_create": "keeps the file for its preview; roster_apply makes the changes",
    "provisioning.roster.roster_apply_request": "queues roster_apply (audited) for the worker, which makes the changes",
}


def discovered_services() -> set[str]:
    found = set()
    for app in PRODUCT_APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if any(part in info.name for part in (".tests", ".migrations", ".management")):
                continue
            module = importlib.import_module(info.name)
            for name, function in vars(module).items():
                if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != info.name:
                    continue
                parameters = inspect.signature(function).parameters.values()
                if any(p.kind == p.KEYWORD_ONLY and p.name in ACTOR_ARGUMENTS for p in parameters):
                    found.add(f"{info.name}.{name}")
    return found


# ---------------------------------------------------------------------------
# Scenarios: each sets up what the service needs, and returns the officer and the call to make
# ---------------------------------------------------------------------------

Scenario = Callable[[Any], tuple[Person, Callable[[], object]]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(function: Scenario) -> Scenario:
        SCENARIOS[name] = function
        return function

    return register


def _draft(w):
    code = CodeFactory.create(owner=w.orgs["trust"], audience=["employee", "trustee", "local_governor"])
    version = make_version(code)
    sections = list(Section.objects.filter(version=version).order_by("position"))
    clause = Clause.objects.filter(section=sections[0]).order_by("position").first()
    return version, sections, clause


def _details(title: str = "Volunteers' code") -> CodeDetails:
    return CodeDetails(title=title, audience=["employee"])


def _proposal():
    return importing.review_from_text("1 Values\nWe act with integrity in all we do.\n").proposal


@scenario("conduct.drafting.draft_start")
def _(w):
    return w.trust_admin, lambda: drafting.draft_start(code=w.oak.code, created_by=w.trust_admin)


@scenario("conduct.drafting.code_create")
def _(w):
    return w.trust_admin, lambda: drafting.code_create(
        owner=w.orgs["trust"], details=_details(), created_by=w.trust_admin
    )


@scenario("conduct.drafting.code_update")
def _(w):
    return w.trust_admin, lambda: drafting.code_update(code=w.oak.code, details=_details("Renamed"), by=w.trust_admin)


@scenario("conduct.drafting.draft_update")
def _(w):
    v, _s, _c = _draft(w)
    return w.trust_admin, lambda: drafting.draft_update(
        version=v, revision=v.revision, label="2099-2100", by=w.trust_admin
    )


@scenario("conduct.drafting.draft_discard")
def _(w):
    v, _s, _c = _draft(w)
    return w.trust_admin, lambda: drafting.draft_discard(version=v, revision=v.revision, by=w.trust_admin)


@scenario("conduct.drafting.section_add")
def _(w):
    v, _s, _c = _draft(w)
    return w.trust_admin, lambda: drafting.section_add(version=v, revision=v.revision, by=w.trust_admin, title="New")


@scenario("conduct.drafting.section_update")
def _(w):
    v, s, _c = _draft(w)
    return w.trust_admin, lambda: drafting.section_update(
        section=s[0], revision=v.revision, by=w.trust_admin, number="9", title="Renamed"
    )


@scenario("conduct.drafting.section_move")
def _(w):
    v, s, _c = _draft(w)
    return w.trust_admin, lambda: drafting.section_move(section=s[0], revision=v.revision, by=w.trust_admin, offset=1)


@scenario("conduct.drafting.section_remove")
def _(w):
    v, s, _c = _draft(w)
    return w.trust_admin, lambda: drafting.section_remove(section=s[1], revision=v.revision, by=w.trust_admin)


@scenario("conduct.drafting.clause_add")
def _(w):
    v, s, _c = _draft(w)
    return w.trust_admin, lambda: drafting.clause_add(
        section=s[0], revision=v.revision, by=w.trust_admin, content=ClauseContent(text="A new duty.")
    )


@scenario("conduct.drafting.clause_update")
def _(w):
    v, _s, c = _draft(w)
    return w.trust_admin, lambda: drafting.clause_update(
        clause=c, revision=v.revision, by=w.trust_admin, content=ClauseContent(text="Reworded.")
    )


@scenario("conduct.drafting.clause_move")
def _(w):
    v, _s, c = _draft(w)
    return w.trust_admin, lambda: drafting.clause_move(clause=c, revision=v.revision, by=w.trust_admin, offset=1)


@scenario("conduct.drafting.clause_move_to")
def _(w):
    v, s, c = _draft(w)
    return w.trust_admin, lambda: drafting.clause_move_to(clause=c, revision=v.revision, by=w.trust_admin, section=s[1])


@scenario("conduct.drafting.clause_remove")
def _(w):
    v, _s, c = _draft(w)
    return w.trust_admin, lambda: drafting.clause_remove(clause=c, revision=v.revision, by=w.trust_admin)


@scenario("conduct.attachments.attachment_add")
def _(w):
    from conduct.attachments import attachment_add
    from conduct.tests.test_attachments import PDF

    v, _s, _c = _draft(w)
    return w.trust_admin, lambda: attachment_add(
        version=v, actor=w.trust_admin, data=PDF, filename="way.pdf", title="Appendix: The Academy Way"
    )


@scenario("conduct.attachments.attachment_remove")
def _(w):
    from conduct.attachments import attachment_add, attachment_remove
    from conduct.tests.test_attachments import PDF

    v, _s, _c = _draft(w)
    attachment = attachment_add(version=v, actor=w.trust_admin, data=PDF, filename="way.pdf", title="Appendix")
    return w.trust_admin, lambda: attachment_remove(attachment=attachment, actor=w.trust_admin)


@scenario("conduct.branding.branding_update")
def _(w):
    from conduct.branding import branding_update

    return w.trust_admin, lambda: branding_update(
        actor=w.trust_admin, organisation=w.orgs["trust"], accent_colour="#1D4F91"
    )


@scenario("conduct.importing.code_create_from_import")
def _(w):
    return w.trust_admin, lambda: importing.code_create_from_import(
        owner=w.orgs["trust"], details=_details(), proposal=_proposal(), created_by=w.trust_admin, label="2026-2027"
    )


@scenario("conduct.importing.draft_replace_from_import")
def _(w):
    v, _s, _c = _draft(w)
    return w.trust_admin, lambda: importing.draft_replace_from_import(
        version=v, revision=v.revision, proposal=_proposal(), by=w.trust_admin
    )


@scenario("conduct.meetings.meeting_create")
def _(w):
    return w.clerk, lambda: meetings.meeting_create(board=w.orgs["north_lgb"], held_on=TODAY, created_by=w.clerk)


@scenario("conduct.meetings.meeting_update")
def _(w):
    meeting = MeetingFactory.create(board=w.orgs["north_lgb"])
    return w.clerk, lambda: meetings.meeting_update(
        meeting=meeting, held_on=meeting.held_on, kind=meeting.kind, title="Autumn meeting", by=w.clerk
    )


@scenario("conduct.meetings.attendance_record")
def _(w):
    meeting = MeetingFactory.create(board=w.orgs["north_lgb"])
    return w.clerk, lambda: meetings.attendance_record(meeting=meeting, statuses={w.governor.pk: "present"}, by=w.clerk)


@scenario("conduct.services.adoption_record")
def _(w):
    from conduct.services import AdoptionRequest

    v, _s, _c = _draft(w)
    meeting = MeetingFactory.create(board=w.orgs["board"])
    chair = Person.objects.filter(roles__organisation=w.orgs["board"], roles__kind="chair").first()
    assert chair is not None
    request = AdoptionRequest(
        version=v,
        board=w.orgs["board"],
        meeting=meeting,
        chair=chair,
        chair_signature=chair.full_name,
        effective_on=meeting.held_on,
        includes_sub_organisations=True,
    )
    return chair, lambda: adoption_record(request=request, recorded_by=chair, today=TODAY)


@scenario("conduct.organisations.organisation_create")
def _(w):
    return w.trust_admin, lambda: organisations.organisation_create(
        by=w.trust_admin, parent=w.orgs["trust"], kind="school", name="Oak Trust West Academy"
    )


@scenario("conduct.organisations.organisation_rename")
def _(w):
    return w.trust_admin, lambda: organisations.organisation_rename(
        by=w.trust_admin, organisation=w.orgs["south"], name="Oak Trust Southern Academy"
    )


@scenario("conduct.organisations.organisation_close")
def _(w):
    return w.trust_admin, lambda: organisations.organisation_close(
        by=w.trust_admin, organisation=w.orgs["south"], closed_on=TODAY
    )


@scenario("conduct.organisations.organisation_move")
def _(w):
    other_board = OrganisationFactory.create(kind="board", parent=w.orgs["trust"], governs=w.orgs["trust"])
    return w.trust_admin, lambda: organisations.organisation_move(
        by=w.trust_admin, organisation=w.orgs["south_lgb"], new_parent=other_board
    )


def _network(w):
    network = OrganisationFactory.create(kind=OrganisationKind.NETWORK, name="Teaching network")
    RoleFactory.create(person=w.trust_admin, organisation=network, kind="admin")
    return network


@scenario("conduct.organisations.network_membership_request")
def _(w):
    network = _network(w)
    return w.trust_admin, lambda: organisations.network_membership_request(
        by=w.trust_admin, network=network, school=w.orgs["north"]
    )


@scenario("conduct.organisations.network_membership_accept")
def _(w):
    membership = NetworkMembership.objects.create(
        network=_network(w), school=w.orgs["north"], status=MembershipStatus.PENDING, requested_at=timezone.now()
    )
    return w.trust_admin, lambda: organisations.network_membership_accept(by=w.trust_admin, membership=membership)


@scenario("conduct.organisations.network_membership_end")
def _(w):
    membership = NetworkMembership.objects.create(
        network=_network(w), school=w.orgs["north"], joined_on=TODAY - timedelta(days=30)
    )
    return w.trust_admin, lambda: organisations.network_membership_end(
        by=w.trust_admin, membership=membership, ended_on=TODAY
    )


@scenario("conduct.people.person_details_update")
def _(w):
    return w.trust_admin, lambda: people_services.person_details_update(
        actor=w.trust_admin, person=w.south_staff, full_name="Samuel South", email=w.south_staff.email
    )


@scenario("conduct.people.person_deactivate")
def _(w):
    return w.trust_admin, lambda: people_services.person_deactivate(actor=w.trust_admin, person=w.south_staff)


@scenario("conduct.people.person_reactivate")
def _(w):
    Person.objects.filter(pk=w.south_staff.pk).update(is_active=False)
    return w.trust_admin, lambda: people_services.person_reactivate(actor=w.trust_admin, person=w.south_staff)


@scenario("conduct.people.role_add")
def _(w):
    return w.trust_admin, lambda: people_services.role_add(
        actor=w.trust_admin, person=w.south_staff, organisation=w.orgs["south"], kind="volunteer", starts_on=TODAY
    )


@scenario("conduct.people.role_update_governance")
def _(w):
    return w.clerk, lambda: people_services.role_update_governance(
        actor=w.clerk,
        role=w.governor.roles.get(),
        category="parent",
        appointed_by="Parents",
        starts_on=w.governor.roles.get().starts_on,
        term_ends_on=None,
        title="",
    )


@scenario("conduct.people.role_end")
def _(w):
    return w.trust_admin, lambda: people_services.role_end(
        actor=w.trust_admin, role=w.south_staff.roles.get(), ends_on=TODAY, reason="Left"
    )


@scenario("conduct.people.person_record_leaver")
def _(w):
    return w.trust_admin, lambda: people_services.person_record_leaver(
        actor=w.trust_admin, person=w.south_staff, ends_on=TODAY, reason="Left", within=w.orgs["trust"]
    )


@scenario("conduct.people.person_move")
def _(w):
    return w.trust_admin, lambda: people_services.person_move(
        actor=w.trust_admin, role=w.south_staff.roles.get(), organisation=w.orgs["north"], kind="employee", on=TODAY
    )


@scenario("conduct.people.people_details_update_batch")
def _(w):
    change = people_services.DetailsChange(w.south_staff, "Samuel South", w.south_staff.email)
    return w.trust_admin, lambda: people_services.people_details_update_batch(actor=w.trust_admin, changes=[change])


@scenario("conduct.people.roles_add_batch")
def _(w):
    grant = people_services.RoleGrant(w.south_staff, w.orgs["south"], "volunteer", TODAY)
    return w.trust_admin, lambda: people_services.roles_add_batch(actor=w.trust_admin, grants=[grant])


@scenario("conduct.people.roles_update_batch")
def _(w):
    role = w.governor.roles.get()
    change = people_services.GovernanceChange(role, "parent", "Parents", role.starts_on, None, "")
    return w.clerk, lambda: people_services.roles_update_batch(actor=w.clerk, changes=[change])


@scenario("conduct.people.roles_end_batch")
def _(w):
    ending = people_services.RoleEnding(w.south_staff.roles.get(), TODAY, "Left")
    return w.trust_admin, lambda: people_services.roles_end_batch(actor=w.trust_admin, endings=[ending])


@scenario("conduct.people.people_record_leaver_batch")
def _(w):
    return w.trust_admin, lambda: people_services.people_record_leaver_batch(
        actor=w.trust_admin, people=[w.south_staff], ends_on=TODAY, reason="Left", within=w.orgs["trust"]
    )


@scenario("acknowledgements.invitations.invitations_create_batch")
def _(w):
    invitee = Invitee("Nia New", "nia@example.org", w.orgs["north"], "employee", TODAY)
    return w.trust_admin, lambda: invitations_create_batch(invited_by=w.trust_admin, invitees=[invitee])


@scenario("acknowledgements.invitations.invitation_create")
def _(w):
    return w.trust_admin, lambda: invitation_create(
        invited_by=w.trust_admin,
        full_name="Nia New",
        email="nia@example.org",
        organisation=w.orgs["north"],
        kind="employee",
        starts_on=TODAY,
    )


@scenario("acknowledgements.invitations.invitation_resend")
def _(w):
    invitation = Invitation.objects.create(person=w.south_staff, role=w.south_staff.roles.get())
    return w.trust_admin, lambda: invitation_resend(invitation=invitation, invited_by=w.trust_admin)


@scenario("acknowledgements.invitations.people_import_csv")
def _(w):
    data = b"name,email,role,organisation,start date\nNia New,nia@example.org,Employee,oak-trust-north,2026-09-01\n"
    return w.trust_admin, lambda: people_import_csv(data=data, invited_by=w.trust_admin)


@scenario("acknowledgements.paper.acknowledgement_record_on_behalf")
def _(w):
    ada = w.oak.person
    return w.trust_admin, lambda: acknowledgement_record_on_behalf(
        person=ada,
        version=w.oak.version,
        recorded_by=w.trust_admin,
        typed_name=ada.full_name,
        paper_signed_on=TODAY,
        reason="Signed on paper at the staff meeting",
        declaration=None,
        request_meta=META,
        issue_pdf=False,
    )


@scenario("acknowledgements.paper.acknowledgement_correct")
def _(w):
    ada = w.oak.person
    acknowledgement_record_on_behalf(
        person=ada,
        version=w.oak.version,
        recorded_by=w.trust_admin,
        typed_name=ada.full_name,
        paper_signed_on=TODAY,
        reason="Signed on paper at the staff meeting",
        declaration=None,
        request_meta=META,
        issue_pdf=False,
    )
    original = Acknowledgement.objects.get(person=ada)
    return w.trust_admin, lambda: acknowledgement_correct(
        original=original,
        corrected_by=w.trust_admin,
        correction_reason="The wrong date was typed",
        paper_signed_on=TODAY - timedelta(days=1),
        on_behalf_reason="Signed on paper at the staff meeting",
        request_meta=META,
    )


@scenario("reminders.steps.code_reminder_steps_update")
def _(w):
    return w.trust_admin, lambda: code_reminder_steps_update(
        code=w.oak.code,
        review_reminder_days=[30],
        signing_reminder_days=[14, 0],
        overdue_repeat_days=7,
        escalate_after_days=21,
        by=w.trust_admin,
    )


@scenario("reminders.remind_now.reminders_send_now")
def _(w):
    from reminders.remind_now import reminders_send_now

    obligation = Obligation.objects.get(person=w.oak.person)
    return w.trust_admin, lambda: reminders_send_now(actor=w.trust_admin, obligation_ids=[obligation.pk])


@scenario("reports.jobs.job_request")
def _(w):
    filters = ReportFilters(organisation=w.orgs["trust"], as_at=TODAY, code=w.oak.code, version=w.oak.version)
    return w.trust_admin, lambda: job_request(user=w.trust_admin, kind="spreadsheet", filters=filters, enqueue=False)


@scenario("reports.publication.register_publication_set")
def _(w):
    return w.trust_admin, lambda: register_publication_set(organisation=w.orgs["board"], publish=True, by=w.trust_admin)


@scenario("provisioning.roster.roster_apply")
def _(w):
    from provisioning.roster import roster_upload_create

    upload = roster_upload_create(
        actor=w.trust_admin,
        organisation=w.orgs["trust"],
        data=b"name,email,role,organisation,start date\nNia New,nia@example.org,Employee,oak-trust-north,2026-09-01\n",
        file_name="roster.csv",
        whole_roster=False,
        leavers_on=TODAY,
    )
    from provisioning.roster import roster_apply

    return w.trust_admin, lambda: roster_apply(actor=w.trust_admin, upload=upload)


@scenario("provisioning.tokens.token_create")
def _(w):
    from provisioning.tokens import token_create

    return w.trust_admin, lambda: token_create(actor=w.trust_admin, organisation=w.orgs["trust"], name="Entra ID")


@scenario("provisioning.tokens.token_revoke")
def _(w):
    from provisioning.tokens import token_create, token_revoke

    token = token_create(actor=w.trust_admin, organisation=w.orgs["trust"], name="Entra ID").token
    return w.trust_admin, lambda: token_revoke(actor=w.trust_admin, token=token)


# ---------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------


def test_every_service_that_acts_for_an_officer_has_a_scenario_or_a_reason():
    found = discovered_services()
    assert found - set(SCENARIOS) - set(EXEMPT) == set(), "add a scenario (or an exemption with its reason)"
    assert set(SCENARIOS) - found == set(), "a scenario names a service that no longer exists"
    assert set(EXEMPT) - found == set(), "an exemption names a function that no longer exists"
    assert not set(SCENARIOS) & set(EXEMPT)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_service_writes_an_audit_entry_by_the_officer(world, name, django_capture_on_commit_callbacks):
    actor, call = SCENARIOS[name](world)
    before = set(AuditLogEntry.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=False):
        call()
    new = AuditLogEntry.objects.exclude(pk__in=before)
    assert new.exists(), f"{name} wrote no audit entry"
    assert set(new.values_list("actor_id", flat=True)) == {actor.pk}
    assert all(entry.summary for entry in new)
