"""The management commands: send_reminders_now (demo and checks) and benchmark_reminders."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from acknowledgements.models import Obligation
from conduct.tests.factories import trust_tree
from devtools.management.commands.benchmark_reminders import build_data_set
from reminders.models import ReminderLog
from reminders.planning import reminders_plan
from reminders.tests.reminder_helpers import adopted_code, declare, frozen, member, officer

D0 = date(2026, 1, 5)
BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def three_owed(db):
    orgs = trust_tree("Oak Trust")
    chair = officer(orgs["board"], "chair", "Chair")
    declare(chair, orgs["board"], D0 - timedelta(days=1))
    with frozen(D0, hour=5):
        for n in range(3):
            member(orgs["north"], "employee", f"Employee {n}")
    adopted_code(orgs, D0, chair=chair)
    return orgs


def run(*args) -> str:
    out = StringIO()
    with frozen(D0, hour=9):
        call_command("send_reminders_now", *args, stdout=out, stderr=out)
    return out.getvalue()


def test_send_reminders_now_plans_and_sends_and_a_second_run_sends_nothing(three_owed):
    output = run()
    assert "Planned 3 reminder(s): signing 3, review 0, declaration 0, escalation 0." in output
    assert "Sent 3, not needed 0, failed 0." in output
    assert sorted(m.to[0].split(" <")[0] for m in mail.outbox) == ["Employee 0", "Employee 1", "Employee 2"]
    again = run()
    assert "Planned 0 reminder(s)" in again and "Sent 0," in again
    assert len(mail.outbox) == 3


def test_the_dry_run_lists_what_would_go_and_saves_nothing(three_owed):
    output = run("--dry-run")
    assert output.count("First owed (invitation)") == 3 and "Employee 1 <employee.1@example.org>" in output
    assert "3 reminder(s) would be sent. Nothing was saved." in output
    assert ReminderLog.objects.count() == 0 and mail.outbox == []


def test_queue_hands_the_sending_to_the_worker(three_owed):
    with TestCase.captureOnCommitCallbacks(execute=True) as callbacks:
        output = run("--queue")
    assert "Queued 3 reminder(s) for the worker." in output
    assert len(callbacks) == 1 and len(mail.outbox) == 3  # one batch, sent by the (eager) worker


def test_the_benchmark_data_set_is_what_it_says(db):
    today = timezone.localdate()
    summary = build_data_set(obligations=120, schools=3, today=today)
    assert summary.startswith("120 open obligations, 12 signed and 2 of leavers")
    owed = Obligation.objects.open().for_current_roles(today)
    assert owed.count() == 120 and Obligation.objects.count() == 134
    result = reminders_plan(today=today)
    # 30 governors, half of whom declared, and the board's chair; a digest for each school's and the trust's admins.
    assert (result.signing, result.review, result.declaration, result.escalation) == (120, 1, 16, 3 + 3)


def test_the_benchmark_command_runs_in_a_throwaway_database(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
    env.update(DEBUG="1", VAR_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'untouched.sqlite3'}")
    result = subprocess.run(
        [sys.executable, "manage.py", "benchmark_reminders", "--obligations", "300", "--schools", "3"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Built in" in result.stdout and "300 open obligations" in result.stdout
    first_run = re.search(
        r"first run \(every subject needs a reminder\)\s+([\d.]+) s\s+(\d+) queries\s+(\d+)", result.stdout
    )
    assert first_run and int(first_run.group(3)) > 300
    assert re.search(r"same day again \(nothing new\)\s+[\d.]+ s\s+\d+ queries\s+0$", result.stdout, re.MULTILINE)
    assert not (tmp_path / "untouched.sqlite3").exists()  # the database in DATABASE_URL was never used
