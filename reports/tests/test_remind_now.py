"""Remind now, from the dashboard's drill-down: the chosen outstanding people get a reminder at once (a row in
the reminder log, an email, an audit entry), never twice on the same day for the same thing, only people the
officer may chase, and nothing at all for anyone else."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from acknowledgements.models import Obligation
from conduct.models import AuditAction, AuditLogEntry
from reminders.models import ReminderKind, ReminderLog, ReminderStatus
from reminders.remind_now import REMIND_NOW_MAX, remind_now_step, reminders_send_now
from reports.tests.conftest import officer
from reports.tests.helpers import query_count

pytestmark = pytest.mark.django_db
REMIND = reverse("reports:remind_now")


def unsigned(scenario, place: str = "north") -> list[Obligation]:
    return list(
        Obligation.objects.open()
        .for_current_roles()
        .filter(version=scenario.version, organisation=scenario.orgs[place], owed_from__lte=timezone.localdate())
        .select_related("person")
        .order_by("pk")
    )


def post(client, obligations, back="status=overdue&page=1", **extra):
    data = {"obligations": [o.pk for o in obligations], "back": back, **extra}
    return client.post(REMIND, data)


def test_the_chosen_people_are_reminded_at_once(oak, client_for, django_capture_on_commit_callbacks):
    chosen = unsigned(oak)[:2]
    client = client_for(oak.admin)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, chosen)
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:people") + "?status=overdue&page=1"
    rows = ReminderLog.objects.filter(step=remind_now_step(timezone.localdate())).order_by("obligation_id")
    assert [(r.recipient_id, r.obligation_id, r.kind) for r in rows] == [
        (o.person_id, o.pk, ReminderKind.SIGNING) for o in chosen
    ]
    assert len(callbacks) == 1  # one send task for the batch, queued after the commit
    assert all(r.status == ReminderStatus.SENT and r.sent_at for r in ReminderLog.objects.filter(pk__in=rows))
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"{o.person.full_name} <{o.person.email}>" for o in chosen)
    assert all(oak.code.title in m.subject or oak.code.title in m.body for m in mail.outbox)
    entries = AuditLogEntry.objects.filter(action=AuditAction.REMINDERS_SENT_NOW).order_by("pk")
    assert [(e.actor_id, e.subject_id, e.organisation_id) for e in entries] == [
        (oak.admin.pk, o.person_id, o.organisation_id) for o in chosen
    ]
    assert "Reminder sent to 2 people." in client.get(response["Location"]).content.decode()


def test_never_twice_on_the_same_day_to_the_same_person_for_the_same_thing(oak, client_for):
    chosen = unsigned(oak)[:2]
    client = client_for(oak.admin)
    post(client, chosen[:1])
    response = post(client, chosen)
    assert ReminderLog.objects.filter(step=remind_now_step(timezone.localdate())).count() == 2
    assert AuditLogEntry.objects.filter(action=AuditAction.REMINDERS_SENT_NOW).count() == 2
    text = client.get(response["Location"]).content.decode()
    assert "Reminder sent to 1 person." in text and "1 was already reminded today" in text
    # The database refuses a second row whatever the code above does (a race, a second tab).
    first = ReminderLog.objects.filter(obligation=chosen[0]).get()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderLog.objects.create(
            recipient_id=first.recipient_id,
            kind=first.kind,
            subject=first.subject,
            step=first.step,
            planned_for=first.planned_for,
        )


def test_someone_the_daily_planner_reminded_today_is_not_reminded_again(oak):
    obligation = unsigned(oak)[0]
    ReminderLog.objects.create(
        recipient_id=obligation.person_id,
        kind=ReminderKind.SIGNING,
        subject=f"obligation:{obligation.pk}",
        step="overdue-1",
        obligation=obligation,
        planned_for=timezone.localdate(),
    )
    result = reminders_send_now(actor=oak.admin, obligation_ids=[obligation.pk])
    assert (result.sent, result.already, result.not_outstanding) == (0, 1, 0)
    assert ReminderLog.objects.filter(obligation=obligation).count() == 1


def test_signed_people_leavers_and_other_trusts_are_left_out(oak, elm):
    signed = Obligation.objects.filter(version=oak.version, acknowledged_at__isnull=False).first()
    assert signed is not None
    leaver = Obligation.objects.get(person=oak.people["leaver"])
    other_trust = unsigned(elm)[0]
    result = reminders_send_now(
        actor=oak.admin, obligation_ids=[signed.pk, leaver.pk, other_trust.pk, unsigned(oak)[0].pk]
    )
    assert (result.sent, result.already, result.not_outstanding) == (1, 0, 3)
    assert list(ReminderLog.objects.values_list("obligation_id", flat=True)) == [unsigned(oak)[0].pk]


def test_another_trusts_person_in_the_form_is_refused_and_nothing_is_sent(oak, elm, client_for):
    client = client_for(oak.admin)
    response = post(client, [unsigned(oak)[0], unsigned(elm)[0]])
    assert response.status_code == 302
    assert "not someone you can remind" in client.get(response["Location"]).content.decode()
    assert (
        not ReminderLog.objects.exists()
        and not AuditLogEntry.objects.filter(action=AuditAction.REMINDERS_SENT_NOW).exists()
        and not mail.outbox
    )


@pytest.mark.parametrize("who", ["teacher", "chair"])
def test_only_admins_and_clerks_may_remind(oak, client_for, who):
    person = oak.teacher if who == "teacher" else officer(oak.orgs["board"], kind="chair")
    response = post(client_for(person), unsigned(oak)[:1])
    assert response.status_code == 404
    assert (
        not ReminderLog.objects.exists()
        and not AuditLogEntry.objects.filter(action=AuditAction.REMINDERS_SENT_NOW).exists()
    )


def test_a_school_admin_reminds_only_in_their_school(oak, client_for):
    response = post(client_for(oak.school_admin), unsigned(oak, "south")[:1])
    assert response.status_code == 302 and not ReminderLog.objects.exists()
    post(client_for(oak.school_admin), unsigned(oak, "north")[:1])
    assert ReminderLog.objects.count() == 1


def test_bad_input_is_refused_with_a_message(oak, client_for):
    client = client_for(oak.admin)
    bad: list[dict[str, list]] = [
        {"obligations": []},
        {"obligations": ["abc"]},
        {"obligations": list(range(1, REMIND_NOW_MAX + 2))},
    ]
    for data in bad:
        response = client.post(REMIND, {**data, "back": "page=1"})
        assert response.status_code == 302
    assert not ReminderLog.objects.exists()
    assert client.get(REMIND).status_code == 405
    # The "back" address is only ever our own page.
    response = post(client, unsigned(oak)[:1], back="https://evil.example/")
    assert response["Location"].startswith(reverse("reports:people") + "?")


def test_the_drill_down_offers_the_boxes_to_those_who_may_remind_and_costs_no_query_per_row(oak, client_for):
    people = reverse("reports:people")
    admin_page = client_for(oak.admin).get(people).content.decode()
    assert 'name="obligations"' in admin_page and "Send a reminder now" in admin_page
    assert f'value="{unsigned(oak)[0].pk}"' in admin_page
    signed = Obligation.objects.filter(version=oak.version, acknowledged_at__isnull=False).first()
    assert signed is not None
    assert f'name="obligations" value="{signed.pk}"' not in admin_page
    chair = officer(oak.orgs["board"], kind="chair")
    assert 'name="obligations"' not in client_for(chair).get(people).content.decode()
    # The boxes come from the cached grants: no query more for a longer list (all rows vs the overdue ones).
    admin = client_for(oak.admin)
    assert query_count(admin, people) == query_count(admin, people + "?status=overdue")
