"""A real Celery worker against the local Redis sends the reminders; killed mid-batch, nothing is lost or doubled.

The worker is a separate process, so it cannot see the test's own database (in
memory on SQLite, inside a transaction on PostgreSQL). The test gives it a
database of its own, made the way production makes one: a file next to the
mail directory on SQLite, ``<test database>_worker`` on PostgreSQL, migrated
with ``manage.py migrate`` and filled by ``manage.py shell``. Mail is written
one file per message into the worker's ``VAR_DIR/mail``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

BASE_DIR = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/13"
CELERY = str(Path(sys.executable).with_name("celery"))


def redis_or_skip():
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        client.ping()
    except redis.exceptions.RedisError as error:
        pytest.skip(f"needs a reachable Redis at {REDIS_URL} ({error}); CI has one")
    return client


class Worker:
    """A project environment for subprocesses: its own database, VAR_DIR and the Redis broker."""

    def __init__(self, var_dir: Path):
        self.var_dir = var_dir
        self.queue = f"reminders-test-{uuid.uuid4().hex[:12]}"  # a queue of its own: parallel runs never mix
        self.mail_dir = var_dir / "mail"
        self.processes: list[subprocess.Popen] = []
        settings = connection.settings_dict
        if connection.vendor == "postgresql":
            self.pg_name = f"{settings['NAME']}_worker"
            auth = settings["USER"] + (f":{settings['PASSWORD']}" if settings["PASSWORD"] else "")
            self.database_url = (
                f"postgres://{auth}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{self.pg_name}"
            )
            self._postgres(
                f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)', f'CREATE DATABASE "{self.pg_name}"'
            )
        else:
            self.pg_name = ""
            self.database_url = f"sqlite:///{var_dir / 'worker.sqlite3'}"

    def _postgres(self, *statements: str) -> None:
        import psycopg

        settings = connection.settings_dict
        with psycopg.connect(
            dbname="postgres",
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            autocommit=True,
        ) as admin:
            for statement in statements:
                admin.execute(statement)

    def env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST", "DJANGO_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="reminders.tests.reminder_worker_settings",
            DEBUG="1",
            VAR_DIR=str(self.var_dir),
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=REDIS_URL,
            SITE_URL="https://conduct.test",
            REMINDERS_FROM_EMAIL="Reminders <reminders@conduct.test>",
            REMINDERS_BATCH_SIZE="4",
            REMINDERS_CLAIM_TIMEOUT_SECONDS="3",
            LOG_LEVEL="WARNING",
            REMINDER_TEST_QUEUE=self.queue,
            **extra,
        )
        return env

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def query(self, expression: str):
        """Evaluate an expression about ``ReminderLog`` in the worker's database and return it (through JSON)."""
        code = f"import json; from reminders.models import ReminderLog; print(json.dumps({expression}))"
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def start(self, name: str, **extra: str) -> subprocess.Popen:
        process = subprocess.Popen(
            [
                CELERY,
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=BASE_DIR,
            env=self.env(**extra),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so it can be killed as a whole
        )
        self.processes.append(process)
        return process

    def call(self, task: str) -> None:
        result = subprocess.run(
            [CELERY, "-A", "config", "call", task],
            cwd=BASE_DIR,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-3000:]

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)  # no warning, no clean-up: what a crash or the OOM killer does
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=20)
        if self.pg_name:
            self._postgres(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    def messages(self) -> list:
        if not self.mail_dir.exists():
            return []
        return [
            message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(self.mail_dir.glob("*.eml"))
        ]

    def wait_for(self, condition, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            for process in self.processes:
                if process.poll() not in (None, -signal.SIGKILL, 0):
                    assert process.stderr is not None  # workers start with stderr=PIPE
                    pytest.fail(f"worker exited with {process.returncode}: {process.stderr.read().decode()[-3000:]}")
            time.sleep(0.3)
        pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def worker(tmp_path):
    redis = redis_or_skip()
    environment = Worker(tmp_path)
    try:
        environment.manage("migrate", "--noinput", "-v0")
        environment.manage(
            "shell", "-c", "from reminders.tests.reminder_helpers import seed_for_worker; seed_for_worker()"
        )
        yield environment
    finally:
        environment.stop_all()
        forget_queue(redis, environment.queue)


def forget_queue(redis, queue: str) -> None:
    """Leave Redis as it was: the queue, its bindings, and the killed worker's unacknowledged message."""
    redis.delete(queue, *redis.keys(f"_kombu.binding*.{queue}"))
    for tag, raw in redis.hgetall("unacked").items():
        if json.loads(raw)[-1] == queue:  # [message, exchange, routing key]
            redis.hdel("unacked", tag)
            redis.zrem("unacked_index", tag)


STATUSES = "sorted(ReminderLog.objects.values_list('status', 'attempts'))"


def test_a_real_worker_on_redis_plans_and_sends_each_reminder_once(worker):
    worker.start("reminders-1")
    worker.call("reminders.tasks.plan_reminders")
    worker.wait_for(lambda: len(worker.messages()) >= 10, "ten emails")
    worker.call("reminders.tasks.plan_reminders")  # beat fires twice: nothing more goes
    worker.call("reminders.tasks.resume_reminders")
    time.sleep(3)
    messages = worker.messages()
    assert sorted(str(m["To"]) for m in messages) == [f"Worker {n:02d} <worker.{n:02d}@example.org>" for n in range(10)]
    assert {str(m["From"]) for m in messages} == {"Reminders <reminders@conduct.test>"}
    first = messages[0]
    assert first["Subject"].startswith("Please read and sign: ") and first["Subject"].endswith(
        "(Worker Trust North Academy)"
    )
    text = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert "https://conduct.test/codes/" in text and 'href="https://conduct.test/codes/' in html
    assert worker.query(STATUSES) == [["sent", 1]] * 10


def test_a_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(worker):
    stuck = worker.start("reminders-stuck", REMINDER_TEST_HANG_AT="6")  # hangs handing over the 6th email
    worker.call("reminders.tasks.plan_reminders")
    worker.wait_for(
        lambda: (
            len(worker.messages()) == 5 and worker.query("ReminderLog.objects.filter(status='sending').count()") == 1
        ),
        "five emails sent and the sixth claimed",
    )
    worker.kill(stuck)
    assert len(worker.messages()) == 5
    assert worker.query("sorted(ReminderLog.objects.values_list('status', flat=True))") == (
        ["pending"] * 4 + ["sending"] + ["sent"] * 5
    )

    worker.start("reminders-restarted")
    time.sleep(3.5)  # the dead worker's claim is now older than REMINDERS_CLAIM_TIMEOUT_SECONDS
    worker.call("reminders.tasks.resume_reminders")  # what beat does every 15 minutes
    worker.wait_for(lambda: len(worker.messages()) >= 10, "the remaining emails")
    time.sleep(2)
    messages = worker.messages()
    assert sorted(str(m["To"]) for m in messages) == [f"Worker {n:02d} <worker.{n:02d}@example.org>" for n in range(10)]
    rows = worker.query(STATUSES)
    assert rows == [["sent", 1]] * 9 + [["sent", 2]]  # the claimed one was taken again, once
