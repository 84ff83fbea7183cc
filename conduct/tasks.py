"""Celery tasks for the conduct app. Thin: take ids, call one service, retry with backoff."""

from __future__ import annotations

from celery import shared_task

from conduct.certificates import adoption_certificate_issue


@shared_task(
    bind=True,
    autoretry_for=(OSError, ConnectionError),
    retry_backoff=10,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
    acks_late=True,
)
def issue_adoption_certificate(self, adoption_id: int) -> int:
    """Render, seal and store an adoption's certificate (idempotent: a retry stores nothing new)."""
    return adoption_certificate_issue(adoption_id=adoption_id).pk
