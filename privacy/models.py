"""Erasures, legal holds and the permit the append-only triggers check (issue 13; docs/retention.md)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class ErasureBasis(models.TextChoices):
    RETENTION_ENDED = "retention_ended", "The retention period has ended"
    ERASURE_REQUEST = "erasure_request", "A valid erasure request (UK GDPR Article 17)"


class ErasureRecord(models.Model):
    """One person's erasure: who, when, on what basis, and which records it touched (by id, never values).

    One per person (the unique person): a second erasure of the same person, a double click, finds it.
    """

    person = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="erasure")
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="erasures_made"
    )
    erased_at = models.DateTimeField(default=timezone.now)
    basis = models.CharField(max_length=20, choices=ErasureBasis.choices)
    reason = models.CharField(max_length=500, blank=True)
    records = models.JSONField(default=dict, help_text="The records touched, by kind: lists of ids.")

    class Meta:
        ordering = ["-erased_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(basis="erasure_request") | ~Q(reason=""), name="erasure_request_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"erasure of person {self.person_id} on {self.erased_at:%Y-%m-%d}"


class LegalHold(models.Model):
    """A hold on a person's data (litigation, an investigation): erasure is refused while one is open."""

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="legal_holds")
    reason = models.CharField(max_length=500)
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    set_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-set_at"]
        constraints = [
            # One open hold per person: setting a second is refused by the database, not only the form.
            models.UniqueConstraint(
                fields=["person"], condition=Q(released_at__isnull=True), name="legal_hold_one_open"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="legal_hold_has_reason"),
        ]

    def __str__(self) -> str:
        return f"legal hold on person {self.person_id} from {self.set_at:%Y-%m-%d}"


class ErasurePermit(models.Model):
    """Written and deleted inside the erasure's transaction: while it exists, and only in that transaction,
    the append-only triggers let the personal columns of evidence rows be blanked (nothing else).

    On PostgreSQL the row names its transaction (``txid_current()``), so a permit left by a crash or
    written by another transaction permits nothing; SQLite has one writer at a time, so the row existing
    at all means the erasure's own transaction wrote it.
    """

    txid = models.BigIntegerField(default=0)
    person_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"erasure permit for person {self.person_id}"
