"""The Celery convention: queued after commit, a broker outage logged (never an error page), real failures raised."""

from __future__ import annotations

import logging

import pytest
from celery import shared_task
from django.db import transaction
from kombu.exceptions import OperationalError

from core.exceptions import AppendOnlyViolation
from core.tasks import RETRY_POLICY, TRANSIENT_ERRORS, enqueue_on_commit, transient_task


@shared_task
def _noop(value: int) -> int:
    return value


def test_a_task_is_queued_only_once_the_transaction_commits(db, monkeypatch, django_capture_on_commit_callbacks):
    sent: list[tuple] = []
    monkeypatch.setattr(_noop, "apply_async", lambda args, kwargs: sent.append((args, kwargs)))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(_noop, 7, extra=1)
        assert sent == []
    assert sent == [((7,), {"extra": 1})]


def test_an_unreachable_broker_is_logged_not_raised(db, monkeypatch, django_capture_on_commit_callbacks, caplog):
    def refuse(args, kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(_noop, "apply_async", refuse)
    with caplog.at_level(logging.ERROR, logger="core.tasks"), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(_noop, 1)
    assert "periodic sweep will pick it up" in caplog.text


def test_any_other_failure_while_queueing_still_raises(db, monkeypatch, django_capture_on_commit_callbacks):
    def broken(args, kwargs):
        raise ValueError("a task that fails when run eagerly")

    monkeypatch.setattr(_noop, "apply_async", broken)
    with pytest.raises(ValueError), django_capture_on_commit_callbacks(execute=True):
        enqueue_on_commit(_noop, 1)


def test_the_retry_policy_retries_transient_errors_only():
    assert RETRY_POLICY["autoretry_for"] == TRANSIENT_ERRORS
    assert not any(issubclass(AppendOnlyViolation, error) for error in TRANSIENT_ERRORS)
    assert any(issubclass(ConnectionRefusedError, error) for error in TRANSIENT_ERRORS)

    @transient_task(max_retries=2)
    def limited(self) -> None:
        return None

    assert limited.max_retries == 2 and limited.acks_late
