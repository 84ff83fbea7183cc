"""The retention schedule (issue 13): its settings, each kind's boundary, and the nightly sweep."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils import timezone

from acknowledgements.models import EmailKind, EmailStatus, Invitation, OutgoingEmail
from acknowledgements.tests.factories import NOTHING, owing, sign
from conduct.models import AuditAction, AuditLogEntry, CodeVersion, Organisation, Person, Role, RoleKind
from conduct.tests.factories import PersonFactory, RoleFactory
from core.claims import work_claim
from core.models import WorkClaim
from privacy import retention
from privacy.holds import legal_hold_set
from privacy.retention import (
    RUN_CLAIM_PREFIX,
    audit_entries_past_period,
    expired_email_rows,
    expired_reminder_rows,
    people_due_for_erasure,
    retention_apply,
    retention_due_counts,
    retention_ends_on,
    retention_schedule,
    years_after,
)
from privacy.tasks import apply_retention
from reminders.models import ReminderKind, ReminderLog, ReminderStatus
from reports.models import JOB_RETENTION

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
NOW = timezone.now()
ROWS_DAYS = 396


def _leaver(organisation: Organisation, *, left_on: date, kind: str = RoleKind.EMPLOYEE, **fields) -> Person:
    person = PersonFactory.create(**fields)
    RoleFactory.create(person=person, organisation=organisation, kind=kind, starts_on=date(1990, 1, 1), ends_on=left_on)
    Person.objects.filter(pk=person.pk).update(date_joined=timezone.make_aware(datetime(1990, 1, 1)))
    return person


def _due_ids(organisation: Organisation | None = None, *, today: date = TODAY) -> list[int]:
    return [due.person.pk for due in people_due_for_erasure(organisation=organisation, today=today)]


# ---------------------------------------------------------------------------
# The schedule and its settings
# ---------------------------------------------------------------------------


def test_the_schedule_has_one_rule_per_kind_with_its_period_from_settings(settings):
    settings.RETENTION_ACKNOWLEDGEMENTS_YEARS = 7
    settings.RETENTION_DECLARATIONS_YEARS = 8
    settings.RETENTION_ADOPTIONS_YEARS = 9
    settings.RETENTION_AUDIT_YEARS = 10
    settings.RETENTION_EMAIL_ROWS_DAYS = 30
    rules = {rule.key: rule for rule in retention_schedule()}

    assert set(rules) == {
        "acknowledgements",
        "declarations",
        "paper_scans",
        "adoptions",
        "audit_entries",
        "email_rows",
        "reminder_rows",
        "report_files",
    }
    assert [rules[key].period for key in ("acknowledgements", "declarations", "adoptions", "audit_entries")] == [
        "7 years",
        "8 years",
        "9 years",
        "10 years",
    ]
    assert rules["paper_scans"].amount == 7  # as the acknowledgement they prove
    assert rules["email_rows"].period == rules["reminder_rows"].period == "30 days"
    # Report files keep the period reports already enforce: read from it, not restated.
    assert (rules["report_files"].amount, rules["report_files"].setting) == (
        JOB_RETENTION.days,
        "reports.models.JOB_RETENTION",
    )
    assert {rules[key].at_end for key in ("email_rows", "reminder_rows", "report_files")} == {retention.AtEnd.DELETE}


def test_the_defaults_are_the_documented_ones():
    assert settings.RETENTION_ACKNOWLEDGEMENTS_YEARS == 6
    assert settings.RETENTION_DECLARATIONS_YEARS == 6
    assert settings.RETENTION_ADOPTIONS_YEARS == 6
    assert settings.RETENTION_AUDIT_YEARS == 6
    assert settings.RETENTION_EMAIL_ROWS_DAYS == ROWS_DAYS
    assert settings.RETENTION_AUTO_ERASE is False


@pytest.mark.parametrize("value", [0, -1, "6", 2.5, True, None])
def test_a_bad_period_setting_stops_with_a_message_naming_it(settings, value):
    settings.RETENTION_DECLARATIONS_YEARS = value
    with pytest.raises(ImproperlyConfigured, match="RETENTION_DECLARATIONS_YEARS must be a whole number of at least 1"):
        retention_schedule()
    with pytest.raises(ImproperlyConfigured):
        retention_apply(now=NOW)
    assert not WorkClaim.objects.exists()  # refused before anything was claimed or changed


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("RETENTION_AUDIT_YEARS", "0", "RETENTION_AUDIT_YEARS=0 is below the minimum of 1."),
        ("RETENTION_EMAIL_ROWS_DAYS", "13 months", "RETENTION_EMAIL_ROWS_DAYS='13 months' is not a whole number."),
        ("RETENTION_AUTO_ERASE", "maybe", "RETENTION_AUTO_ERASE='maybe' is not a boolean"),
    ],
)
def test_a_bad_environment_value_stops_start_up_naming_the_variable(variable, value, message):
    environment = {**os.environ, "DEBUG": "1", variable: value, "DJANGO_SETTINGS_MODULE": "config.settings"}
    completed = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=settings.BASE_DIR,
    )
    assert completed.returncode != 0
    assert message in completed.stderr


def test_years_after_keeps_the_day_and_moves_29_february_to_the_28th():
    assert years_after(date(2020, 3, 1), 6) == date(2026, 3, 1)
    assert years_after(date(2020, 2, 29), 6) == date(2026, 2, 28)
    assert years_after(date(2020, 2, 29), 4) == date(2024, 2, 29)


# ---------------------------------------------------------------------------
# People: each kind's boundary
# ---------------------------------------------------------------------------


def test_nobody_holding_a_role_is_due_however_old_their_other_roles(tree):
    person = _leaver(tree["north"], left_on=date(2000, 1, 1))
    RoleFactory.create(person=person, organisation=tree["south"], starts_on=date(2000, 1, 1))
    assert retention_ends_on(person) is None
    starting = _leaver(tree["north"], left_on=date(2000, 1, 1))
    RoleFactory.create(person=starting, organisation=tree["south"], starts_on=TODAY + timedelta(days=30))
    assert retention_ends_on(starting) is None  # a role that has not started yet is held too
    assert _due_ids() == []


def test_acknowledgements_run_six_years_from_the_last_role_ending(tree):
    left_on = years_after(TODAY, -6)
    person = _leaver(tree["north"], left_on=left_on)
    RoleFactory.create(
        person=person, organisation=tree["south"], starts_on=date(1990, 1, 1), ends_on=left_on - timedelta(days=400)
    )
    assert retention_ends_on(person) == TODAY  # from the last role, not the first
    assert _due_ids(today=TODAY) == [person.pk]
    assert _due_ids(today=TODAY - timedelta(days=1)) == []


def test_the_period_follows_its_setting(tree, settings):
    person = _leaver(tree["north"], left_on=years_after(TODAY, -6))
    settings.RETENTION_ACKNOWLEDGEMENTS_YEARS = 7
    assert retention_ends_on(person) == years_after(TODAY, 1)
    assert _due_ids() == []


def test_declarations_run_from_the_end_of_the_appointment_they_were_made_for(settings):
    settings.RETENTION_DECLARATIONS_YEARS = 8
    who = owing(kind=RoleKind.LOCAL_GOVERNOR, where="north_lgb", requires_declaration=True)
    sign(who, declaration=NOTHING, issue_pdf=False)
    appointment_end = years_after(TODAY, -8)
    Role.objects.filter(person=who.person).update(starts_on=date(1990, 1, 1), ends_on=appointment_end)
    # A later role elsewhere with no declaration: acknowledgements run from it (6 years), declarations do not.
    RoleFactory.create(
        person=who.person,
        organisation=who.orgs["north"],
        starts_on=date(1990, 1, 1),
        ends_on=appointment_end + timedelta(days=100),
    )

    assert retention_ends_on(who.person) == TODAY
    assert _due_ids(today=TODAY) == [who.person.pk]
    assert _due_ids(today=TODAY - timedelta(days=1)) == []


def test_a_chair_is_kept_while_their_adoption_is_in_force_then_for_its_period_after_it_was_replaced(settings):
    settings.RETENTION_ADOPTIONS_YEARS = 7
    who = owing()
    chair = Person.objects.get(roles__organisation=who.orgs["board"], roles__kind=RoleKind.CHAIR)
    Role.objects.filter(person=chair).update(starts_on=date(1990, 1, 1), ends_on=date(2000, 1, 1))
    assert retention_ends_on(chair) is None  # the version they adopted is still in force

    CodeVersion.objects.filter(pk=who.version.pk).update(superseded_at=NOW)
    ends_on = years_after(TODAY, 7)  # later than the 6 years of the adoption's own audit entry
    assert retention_ends_on(chair) == ends_on
    assert chair.pk in _due_ids(today=ends_on)
    assert chair.pk not in _due_ids(today=ends_on - timedelta(days=1))


def test_audit_entries_about_a_person_keep_them_six_years_from_the_entry(tree, settings):
    person = _leaver(tree["north"], left_on=years_after(TODAY, -9))
    entry_at = timezone.make_aware(datetime.combine(years_after(TODAY, -5), datetime.min.time()))
    AuditLogEntry.objects.create(
        action=AuditAction.PERSON_LEFT,
        organisation=tree["north"],
        subject=person,
        summary="Leaver recorded",
        at=entry_at,
    )
    assert retention_ends_on(person) == years_after(TODAY, 1)
    settings.RETENTION_AUDIT_YEARS = 5
    assert retention_ends_on(person) == TODAY
    assert _due_ids() == [person.pk]


def test_someone_who_never_held_a_role_is_kept_from_their_account_being_made():
    person = PersonFactory.create()
    made_on = years_after(TODAY, -6) + timedelta(days=1)
    Person.objects.filter(pk=person.pk).update(date_joined=timezone.make_aware(datetime.combine(made_on, time(12))))
    assert retention_ends_on(person) == TODAY + timedelta(days=1)
    assert _due_ids() == []
    assert _due_ids(today=TODAY + timedelta(days=1)) == [person.pk]


def test_a_legal_hold_placed_today_does_not_itself_extend_retention(tree):
    person = _leaver(tree["north"], left_on=years_after(TODAY, -7))
    admin = PersonFactory.create()
    RoleFactory.create(person=admin, organisation=tree["trust"], kind=RoleKind.ADMIN, starts_on=date(2020, 1, 1))
    legal_hold_set(actor=admin, person=person, reason="Employment tribunal claim lodged")

    assert retention_ends_on(person) == years_after(TODAY, -1)
    (due,) = people_due_for_erasure(organisation=tree["trust"])
    assert (due.person, due.on_legal_hold) == (person, True)
    # Without automatic erasure a held person is listed (as held) but not flagged: nothing to review until released.
    assert retention_apply(now=NOW).people("flagged") == set()


def test_people_due_are_scoped_to_the_organisation_and_exclude_operators(tree, other_tree):
    left_on = years_after(TODAY, -7)
    ours = _leaver(tree["north"], left_on=left_on)
    theirs = _leaver(other_tree["south"], left_on=left_on)
    _leaver(tree["south"], left_on=left_on, is_superuser=True)

    assert _due_ids(tree["trust"]) == [ours.pk]
    assert _due_ids(tree["north"]) == [ours.pk]
    assert _due_ids(tree["south"]) == []
    assert _due_ids(other_tree["trust"]) == [theirs.pk]
    assert set(_due_ids(None)) == {ours.pk, theirs.pk}


# ---------------------------------------------------------------------------
# Email and reminder rows
# ---------------------------------------------------------------------------


def _email(person: Person, organisation: Organisation, *, status: str, days_ago: float, **times) -> OutgoingEmail:
    invitation = Invitation.objects.create(person=person)
    when = NOW - timedelta(days=days_ago)
    values = {"sent_at": when} if status == EmailStatus.SENT else {"claimed_at": when}
    return OutgoingEmail.objects.create(
        kind=EmailKind.INVITATION,
        person=person,
        organisation=organisation,
        invitation=invitation,
        to_address=person.email,
        status=status,
        created_at=when - timedelta(minutes=5),
        **{**values, **times},
    )


def _reminder(person: Person, organisation: Organisation | None, *, subject: str, step: str, days_ago: int, **fields):
    when = NOW - timedelta(days=days_ago)
    status = fields.pop("status", ReminderStatus.SENT)
    return ReminderLog.objects.create(
        recipient=person,
        kind=ReminderKind.SIGNING,
        subject=subject,
        step=step,
        organisation=organisation,
        planned_for=timezone.localdate(when),
        status=status,
        sent_at=when if status == ReminderStatus.SENT else None,
        created_at=when - timedelta(hours=1),
        **fields,
    )


def test_email_rows_go_a_day_after_their_period_and_never_while_waiting(tree):
    person = PersonFactory.create()
    kept = _email(person, tree["north"], status=EmailStatus.SENT, days_ago=ROWS_DAYS - 1)
    due = _email(person, tree["north"], status=EmailStatus.SENT, days_ago=ROWS_DAYS + 1)
    refused = _email(person, tree["north"], status=EmailStatus.FAILED, days_ago=ROWS_DAYS + 1)
    given_up = _email(person, tree["south"], status=EmailStatus.GIVEN_UP, days_ago=ROWS_DAYS + 1)
    waiting = _email(person, tree["north"], status=EmailStatus.PENDING, days_ago=ROWS_DAYS + 100, claimed_at=None)

    assert set(expired_email_rows(now=NOW).values_list("pk", flat=True)) == {due.pk, refused.pk, given_up.pk}
    assert set(expired_email_rows(now=NOW, organisation=tree["south"]).values_list("pk", flat=True)) == {given_up.pk}
    assert {kept.pk, waiting.pk}.isdisjoint(expired_email_rows(now=NOW).values_list("pk", flat=True))


def test_reminder_rows_go_after_their_period_except_the_newest_per_subject(tree):
    person = PersonFactory.create()
    old_step = _reminder(person, tree["north"], subject="obligation:1", step="before-7", days_ago=ROWS_DAYS + 30)
    # The newest row about obligation 1: the planner's memory that "due" was sent, kept however old.
    newest_old = _reminder(person, tree["north"], subject="obligation:1", step="due", days_ago=ROWS_DAYS + 20)
    boundary_kept = _reminder(person, tree["north"], subject="obligation:2", step="before-7", days_ago=ROWS_DAYS - 1)
    boundary_due = _reminder(person, tree["north"], subject="obligation:3", step="before-7", days_ago=ROWS_DAYS + 1)
    _reminder(person, tree["north"], subject="obligation:3", step="due", days_ago=10)
    skipped = _reminder(
        person, None, subject="obligation:4", step="before-7", days_ago=ROWS_DAYS + 5, status=ReminderStatus.SKIPPED
    )
    _reminder(person, None, subject="obligation:4", step="due", days_ago=ROWS_DAYS + 4, status=ReminderStatus.PENDING)

    expired = set(expired_reminder_rows(now=NOW).values_list("pk", flat=True))
    assert expired == {old_step.pk, boundary_due.pk, skipped.pk}
    assert {newest_old.pk, boundary_kept.pk}.isdisjoint(expired)


def test_audit_entries_past_their_period_are_counted_for_review_and_kept(tree, other_tree):
    def entry(organisation: Organisation, day: date) -> AuditLogEntry:
        return AuditLogEntry.objects.create(
            action=AuditAction.ORGANISATION_RENAMED,
            organisation=organisation,
            summary="Renamed",
            at=timezone.make_aware(datetime.combine(day, time(12))),
        )

    six_years_ago = years_after(TODAY, -6)
    past = entry(tree["north"], six_years_ago)  # its six years end today
    entry(tree["north"], six_years_ago + timedelta(days=1))
    entry(other_tree["north"], six_years_ago)

    assert list(audit_entries_past_period(organisation=tree["trust"])) == [past]
    assert retention_due_counts(organisation=tree["trust"]).audit_entries == 1
    assert retention_due_counts(organisation=None).audit_entries == 2
    retention_apply(now=NOW)
    assert AuditLogEntry.objects.filter(pk=past.pk).exists()  # part of the evidence chain: never deleted


# ---------------------------------------------------------------------------
# The sweep
# ---------------------------------------------------------------------------


@pytest.fixture
def two_trusts(tree, other_tree):
    """Rows and people in two trusts, some due and some not, counted by hand below."""
    left_long_ago = years_after(TODAY, -7)
    ours = PersonFactory.create()
    theirs = PersonFactory.create()
    world = {
        "tree": tree,
        "other": other_tree,
        "due_person": _leaver(tree["north"], left_on=left_long_ago),
        "recent_leaver": _leaver(tree["north"], left_on=years_after(TODAY, -5)),
        "their_due_person": _leaver(other_tree["north"], left_on=left_long_ago),
        "our_old_emails": [
            _email(ours, tree["north"], status=EmailStatus.SENT, days_ago=ROWS_DAYS + n) for n in (1, 2)
        ],
        "our_new_email": _email(ours, tree["north"], status=EmailStatus.SENT, days_ago=10),
        "their_new_email": _email(theirs, other_tree["north"], status=EmailStatus.SENT, days_ago=10),
        "their_old_email": _email(theirs, other_tree["south"], status=EmailStatus.SENT, days_ago=ROWS_DAYS + 3),
        "our_old_reminder": _reminder(ours, tree["north"], subject="obligation:9", step="before-7", days_ago=500),
        "our_newest_reminder": _reminder(ours, tree["north"], subject="obligation:9", step="due", days_ago=450),
        "unfiled_old_reminder": _reminder(theirs, None, subject="obligation:8", step="before-7", days_ago=500),
        "unfiled_newest_reminder": _reminder(theirs, None, subject="obligation:8", step="due", days_ago=20),
    }
    return world


def _entries() -> dict[str, AuditLogEntry]:
    found = AuditLogEntry.objects.filter(action=AuditAction.RETENTION_APPLIED).select_related("organisation")
    return {entry.organisation.slug if entry.organisation else "": entry for entry in found}


def test_the_sweep_deletes_exactly_what_is_due_and_counts_it_per_trust(two_trusts):
    w = two_trusts
    emails_before, reminders_before = OutgoingEmail.objects.count(), ReminderLog.objects.count()

    result = retention_apply(now=NOW)

    assert result.ran and not result.auto_erase
    gone_emails = {e.pk for e in w["our_old_emails"]} | {w["their_old_email"].pk}
    assert OutgoingEmail.objects.count() == emails_before - 3
    assert not OutgoingEmail.objects.filter(pk__in=gone_emails).exists()
    assert OutgoingEmail.objects.filter(pk__in=[w["our_new_email"].pk, w["their_new_email"].pk]).count() == 2
    assert ReminderLog.objects.count() == reminders_before - 2
    assert set(ReminderLog.objects.values_list("pk", flat=True)) == {
        w["our_newest_reminder"].pk,
        w["unfiled_newest_reminder"].pk,
    }
    # Flagged for review (the default), not erased: the accounts are untouched.
    assert result.people("flagged") == {w["due_person"].pk, w["their_due_person"].pk}
    assert Person.objects.get(pk=w["due_person"].pk).full_name == w["due_person"].full_name

    entries = _entries()
    assert set(entries) == {"oak-trust", "elm-trust", ""}
    ours = entries["oak-trust"].details
    assert (ours["email_rows_deleted"], ours["reminder_rows_deleted"], ours["flagged_for_review"]) == (
        2,
        1,
        [w["due_person"].pk],
    )
    theirs = entries["elm-trust"].details
    assert (theirs["email_rows_deleted"], theirs["reminder_rows_deleted"], theirs["flagged_for_review"]) == (
        1,
        0,
        [w["their_due_person"].pk],
    )
    assert entries[""].details["reminder_rows_deleted"] == 1
    assert entries["oak-trust"].actor is None
    assert "2 email and 1 reminder row(s) deleted, 1 person(s) flagged for review" in entries["oak-trust"].summary


def test_running_again_does_nothing_more(two_trusts):
    retention_apply(now=NOW)
    emails, reminders, entries = (
        OutgoingEmail.objects.count(),
        ReminderLog.objects.count(),
        AuditLogEntry.objects.count(),
    )

    again = retention_apply(now=NOW + timedelta(minutes=1))
    assert not again.ran  # the day's run is taken
    tomorrow = retention_apply(now=NOW + timedelta(days=1))
    assert tomorrow.ran
    assert tomorrow.people("flagged") == set()  # each person is flagged once
    assert (OutgoingEmail.objects.count(), ReminderLog.objects.count(), AuditLogEntry.objects.count()) == (
        emails,
        reminders,
        entries,
    )


def test_a_person_is_flagged_again_only_when_a_later_role_moved_their_end(tree):
    person = _leaver(tree["north"], left_on=years_after(TODAY, -8))
    assert retention_apply(now=NOW).people("flagged") == {person.pk}
    assert retention_apply(now=NOW + timedelta(days=1)).people("flagged") == set()
    RoleFactory.create(
        person=person, organisation=tree["south"], starts_on=years_after(TODAY, -7), ends_on=years_after(TODAY, -6)
    )
    assert retention_apply(now=NOW + timedelta(days=2)).people("flagged") == {person.pk}


def test_a_run_already_claimed_by_another_beat_does_nothing(two_trusts):
    assert work_claim(f"{RUN_CLAIM_PREFIX}{TODAY.isoformat()}", stale_after=timedelta(hours=6), now=NOW)
    emails = OutgoingEmail.objects.count()
    result = retention_apply(now=NOW + timedelta(seconds=5))
    assert not result.ran
    assert OutgoingEmail.objects.count() == emails
    assert not AuditLogEntry.objects.filter(action=AuditAction.RETENTION_APPLIED).exists()


def test_a_dry_run_says_what_would_go_and_changes_nothing(two_trusts):
    emails, reminders = OutgoingEmail.objects.count(), ReminderLog.objects.count()
    result = retention_apply(now=NOW, dry_run=True)
    assert (result.rows("email_rows"), result.rows("reminder_rows")) == (3, 2)
    assert result.people("flagged") == {two_trusts["due_person"].pk, two_trusts["their_due_person"].pk}
    assert (OutgoingEmail.objects.count(), ReminderLog.objects.count()) == (emails, reminders)
    assert not WorkClaim.objects.exists()
    assert not AuditLogEntry.objects.filter(action=AuditAction.RETENTION_APPLIED).exists()
    assert retention_apply(now=NOW).ran  # the dry run took no claim


def test_a_failed_run_releases_the_day_for_its_retry(two_trusts, monkeypatch):
    def broken(**_kwargs):
        raise OSError("database went away")

    monkeypatch.setattr(retention, "expired_email_rows", broken)
    with pytest.raises(OSError):
        retention_apply(now=NOW)
    assert not WorkClaim.objects.filter(key__startswith=RUN_CLAIM_PREFIX).exists()
    assert not AuditLogEntry.objects.filter(action=AuditAction.RETENTION_APPLIED).exists()
    monkeypatch.undo()
    assert retention_apply(now=NOW).rows("email_rows") == 3


def test_the_command_and_the_task_apply_it(two_trusts, capsys):
    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "Signed acknowledgements and their sealed PDFs: 6 years from the end of the person's last role" in out
    assert "Would delete 3 email row(s) and 2 reminder row(s). 2 person(s) would be flagged for review" in out
    assert OutgoingEmail.objects.filter(pk=two_trusts["their_old_email"].pk).exists()

    summary = apply_retention.apply().get()
    assert summary["ran"] == 1
    assert (summary["email_rows_deleted"], summary["reminder_rows_deleted"], summary["flagged"]) == (3, 2, 2)
    assert not OutgoingEmail.objects.filter(pk=two_trusts["their_old_email"].pk).exists()

    call_command("apply_retention")
    assert "already applied today" in capsys.readouterr().out


def test_the_beat_runs_the_task_nightly():
    entry = settings.CELERY_BEAT_SCHEDULE["apply-retention"]
    assert entry["task"] == apply_retention.name == "privacy.tasks.apply_retention"
