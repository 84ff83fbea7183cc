"""The Celery convention: queued after commit, a broker outage logged (never an error page), real failures raised."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from config.celery import app as celery_app
from core.exceptions import AppendOnlyViolation
from core.tasks import RETRY_POLICY, TRANSIENT_ERRORS, enqueue_on_commit, transient_task


@celery_app.task
def _noop(value: int) -> int:
    return value


def test_a_task_is_queued_only_once_the_transaction_commits(db, monkeypatch, django_capture_on_commit_callbacks):
    sent: list[tuple] = []
    monkeypatch.setattr(_noop, "apply_async", lambda args, kwargs: sent.append((args, kwargs)))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(_noop, 7, extra=1)
        assert sent == []
    assert sent == [((7,), {"extra": 1})]


def _raising(error: BaseException):
    def apply_async(args, kwargs):
        raise error

    return apply_async


@pytest.fixture
def real_broker(monkeypatch):
    """As in production: tasks go to a broker instead of running eagerly in the test process."""
    monkeypatch.setattr("core.tasks._runs_here", lambda task: False)


@pytest.mark.parametrize(
    "outage",
    [
        OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),  # Redis
        FileNotFoundError("var/celery/queue"),  # make run's filesystem broker without its folder
    ],
)
def test_an_unreachable_broker_is_logged_not_raised(
    db, monkeypatch, real_broker, django_capture_on_commit_callbacks, caplog, outage
):
    monkeypatch.setattr(_noop, "apply_async", _raising(outage))
    with caplog.at_level(logging.ERROR, logger="core.tasks"), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(_noop, 1)
    assert "periodic sweep will pick it up" in caplog.text


def test_any_other_failure_while_queueing_is_logged_not_raised_after_the_commit(
    db, monkeypatch, real_broker, django_capture_on_commit_callbacks, caplog
):
    # robust=True: the action has committed, so even an unexpected error while queueing (a message that
    # cannot be serialised, a bug in a transport) is logged for the developers and the sweep does the work.
    monkeypatch.setattr(_noop, "apply_async", _raising(ValueError("not a broker problem")))
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(_noop, 1)
    assert "not a broker problem" in caplog.text


def test_a_task_run_eagerly_raises_its_own_errors(db, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(_noop, "apply_async", _raising(OSError("the task's own storage failed")))
    with pytest.raises(OSError), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(_noop, 1)


def test_the_retry_policy_retries_transient_errors_only():
    assert RETRY_POLICY["autoretry_for"] == TRANSIENT_ERRORS
    assert not any(issubclass(AppendOnlyViolation, error) for error in TRANSIENT_ERRORS)
    assert any(issubclass(ConnectionRefusedError, error) for error in TRANSIENT_ERRORS)

    @transient_task(max_retries=2)
    def limited(self) -> None:
        return None

    assert limited.max_retries == 2 and limited.acks_late


def test_preparing_to_publish_loads_the_transport_without_connecting(monkeypatch):
    """gunicorn's master calls it before forking: it must load, never connect (nothing listens on port 1)."""
    import socket
    import sys

    from core.tasks import prepare_to_publish

    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(celery_app.conf, "broker_write_url", None)
    opened: list[object] = []
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: tuple[str, int]) -> None:
        opened.append(address)
        real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    prepare_to_publish()
    assert opened == []
    assert "kombu.transport.redis" in sys.modules and "redis" in sys.modules
    assert (
        "core.tasks.reconcile" in celery_app.tasks
        and "acknowledgements.tasks.check_obligation_tally" in celery_app.tasks
    )
