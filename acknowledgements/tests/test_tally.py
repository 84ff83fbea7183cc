"""The obligation tally the dashboard reads equals a fresh GROUP BY of the obligations after every kind of change.

``tally_differences`` is that GROUP BY (written with the ORM, apart from the triggers' SQL), compared in one
statement; each test also checks the rows it expects, so an empty tally cannot pass for a right one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from acknowledgements.models import NEVER, Obligation, ObligationTally
from acknowledgements.paper import acknowledgement_correct, acknowledgement_record_on_behalf
from acknowledgements.tally import expected_tally, tally_check, tally_differences
from acknowledgements.tests.factories import META, owing, sign
from conduct.models import Role
from conduct.people import person_move, person_record_leaver, role_end
from conduct.tests.factories import PersonFactory, RoleFactory, adopt, make_version

pytestmark = pytest.mark.django_db


def tally_rows() -> list[tuple]:
    return sorted(
        ObligationTally.objects.values_list("role_kind", "ends_on", "superseded_on", "signed_on", "n").order_by()
    )


def assert_tally_right() -> None:
    assert tally_differences() == []
    assert sum(ObligationTally.objects.values_list("n", flat=True)) == Obligation.objects.count()
    assert not ObligationTally.objects.filter(n__lte=0).exists()


@pytest.fixture
def team(db):
    """Three employees of one school owing the trust's last version (the first of them the one before too)."""
    first = owing(full_name="Ada Lovelace")
    others = [PersonFactory.create(full_name=name) for name in ("Grace Hopper", "Alan Turing")]
    for person in others:
        RoleFactory.create(person=person, organisation=first.orgs["north"], kind="employee", starts_on=date(2020, 9, 1))
    adopt(make_version(first.code, label="2026-2027 draft"), first.orgs["board"])  # superseded below where needed
    return first


def test_issuing_obligations_counts_them_once_per_key(db):
    who = owing(full_name="Ada Lovelace")
    for name in ("Grace Hopper", "Alan Turing"):
        person = PersonFactory.create(full_name=name)
        RoleFactory.create(person=person, organisation=who.orgs["north"], kind="employee", starts_on=date(2020, 9, 1))
    adopt(make_version(who.code, label="2026-2027"), who.orgs["board"])  # opens all three at once (one statement)
    assert_tally_right()
    version = who.code.versions.get(label="2026-2027")
    row = ObligationTally.objects.get(version=version)
    assert (row.n, row.role_kind, row.signed_on, row.superseded_on, row.ends_on) == (3, "employee", NEVER, NEVER, NEVER)
    assert row.organisation_id == who.orgs["north"].pk and row.adoption.version_id == version.pk


def test_the_previous_version_superseded_moves_its_counts(db):
    who = owing(full_name="Ada Lovelace")
    adopt(make_version(who.code, label="2026-2027"), who.orgs["board"])
    assert_tally_right()
    old = ObligationTally.objects.get(version=who.version)
    assert old.superseded_on == timezone.localdate() and old.n == 1


def test_signing_moves_one_obligation_to_the_london_day_it_was_signed(db):
    who = owing(full_name="Ada Lovelace")
    sign(who)
    assert_tally_right()
    assert tally_rows() == [("employee", NEVER, NEVER, timezone.localdate(), 1)]


def test_a_paper_signature_and_its_correction_count_on_the_paper_day(db):
    who = owing(full_name="Ada Lovelace", held_on=date(2026, 9, 1))
    clerk = PersonFactory.create()
    RoleFactory.create(person=clerk, organisation=who.orgs["trust"], kind="admin", starts_on=date(2020, 1, 1))
    result = acknowledgement_record_on_behalf(
        person=who.person,
        version=who.version,
        recorded_by=clerk,
        typed_name="Ada Lovelace",
        paper_signed_on=date(2026, 9, 10),
        reason="Signed at the INSET day",
        declaration=None,
        request_meta=META,
    )
    assert_tally_right()
    assert [row[3] for row in tally_rows()] == [date(2026, 9, 10)]
    acknowledgement_correct(
        original=result.acknowledgement,
        corrected_by=clerk,
        correction_reason="Wrong date typed",
        paper_signed_on=date(2026, 9, 11),
        on_behalf_reason="Signed at the INSET day",
        request_meta=META,
    )
    assert_tally_right()
    assert [row[3] for row in tally_rows()] == [date(2026, 9, 11)]


def test_a_signature_across_the_clocks_change_counts_on_the_london_day(db):
    """23:30 UTC on 30 June is 00:30 on 1 July in London (BST); 23:30 UTC on 30 November is still 30 November."""
    summer = owing(full_name="Ada Lovelace", held_on=date(2026, 6, 1))
    winter = owing(name="Elm Trust", full_name="Grace Hopper", held_on=date(2026, 6, 1))
    Obligation.objects.filter(person=summer.person).update(acknowledged_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC))
    Obligation.objects.filter(person=winter.person).update(acknowledged_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert_tally_right()
    signed = dict(ObligationTally.objects.values_list("organisation__path", "signed_on"))
    assert signed[summer.orgs["north"].path] == date(2026, 7, 1)
    assert signed[winter.orgs["north"].path] == date(2026, 11, 30)


def test_a_role_ended_or_a_leaver_moves_the_counts_to_the_end_day(team):
    roles = list(Role.objects.filter(organisation=team.orgs["north"], kind="employee").order_by("pk"))
    last_day = timezone.localdate() + timedelta(days=30)
    role_end(actor=None, role=roles[0], ends_on=last_day, reason="Left")
    assert_tally_right()
    person_record_leaver(
        actor=None, person=roles[1].person, ends_on=last_day, reason="Retired", within=team.orgs["trust"]
    )
    assert_tally_right()
    ended = sum(n for _kind, ends_on, *_days, n in tally_rows() if ends_on == last_day)
    assert ended == Obligation.objects.filter(role__in=roles[:2]).count() > 0


def test_a_move_and_a_role_kind_change_move_the_counts(team):
    role = Role.objects.filter(organisation=team.orgs["north"], kind="employee").order_by("pk").first()
    assert role is not None
    person_move(actor=None, role=role, organisation=team.orgs["south"], kind="employee", on=timezone.localdate())
    assert_tally_right()
    other = Role.objects.filter(organisation=team.orgs["north"], kind="employee", ends_on__isnull=True).first()
    assert other is not None
    Role.objects.filter(pk=other.pk).update(kind="volunteer")  # a correction in bulk, as a roster sync makes
    assert_tally_right()
    assert "volunteer" in {row[0] for row in tally_rows()}


def test_deleting_a_person_or_a_role_takes_their_obligations_out(team):
    roles = list(Role.objects.filter(organisation=team.orgs["north"], kind="employee").order_by("pk"))
    roles[0].person.delete()
    assert_tally_right()
    roles[1].delete()
    assert_tally_right()
    assert [row[4] for row in tally_rows()] == [1]  # the third person's obligation of the last version


def test_on_sqlite_a_decrement_never_writes_a_row(team):
    """What SQLite's flush does when its table order puts the tally first: the obligations' deletions and moves
    write no rows of -1 (which pointed at the versions the flush deleted next, and failed its commit)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL's flush truncates, which fires no delete trigger (migration 0015)")
    assert Obligation.objects.count() == 4
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM acknowledgements_obligationtally")
        first = Obligation.objects.order_by("pk").values_list("pk", flat=True)[0]
        cursor.execute("UPDATE acknowledgements_obligation SET due_on = '2027-01-31' WHERE id = %s", [first])
    assert list(ObligationTally.objects.values_list("due_on", "n")) == [(date(2027, 1, 31), 1)]  # the +1 only
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM acknowledgements_obligationtally")
        cursor.execute("DELETE FROM acknowledgements_obligation")
    assert not ObligationTally.objects.exists()
    assert Obligation.objects.count() == 0


def test_on_postgresql_the_tally_keeps_room_for_its_counts_to_change_in_place(db):
    """Migration 0016: the tally's pages half full, so that a count's update stays on its page (a HOT update)."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no fillfactor (migration 0016)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'acknowledgements_obligationtally'")
        (options,) = cursor.fetchone()
    assert "fillfactor=50" in options


def test_bulk_updates_of_obligations_are_counted(team):
    Obligation.objects.update(due_on=date(2027, 1, 31))
    assert_tally_right()
    assert set(ObligationTally.objects.values_list("due_on", flat=True)) == {date(2027, 1, 31)}


def test_tally_check_finds_and_repairs_drift(team, capsys):
    row = ObligationTally.objects.order_by("pk").first()
    assert row is not None
    # Drift the triggers cannot see: the tally's own rows changed behind them.
    ObligationTally.objects.filter(pk=row.pk).update(n=row.n + 5)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM acknowledgements_obligationtally WHERE id <> %s", [row.pk])
    differences = tally_check(repair=False)
    assert {difference.missing for difference in differences} >= {-5}
    assert len(differences) == 2  # the row counting 5 too many, and the deleted one
    with pytest.raises(CommandError, match="repaired"):
        call_command("tally_check", "--repair")
    assert "DIFFERS" in capsys.readouterr().out
    assert_tally_right()
    call_command("tally_check")
    assert "matches" in capsys.readouterr().out


def test_the_nightly_task_repairs_the_tally(team, settings):
    from acknowledgements.tasks import check_obligation_tally

    entry = settings.CELERY_BEAT_SCHEDULE["check-obligation-tally"]
    assert entry["task"] == "acknowledgements.tasks.check_obligation_tally"
    ObligationTally.objects.all().delete()
    assert check_obligation_tally.apply().get() == len(expected_tally()) == 2  # one key per version
    assert_tally_right()
