"""Base classes every app's evidence models share."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from core.exceptions import AppendOnlyViolation


class AppendOnlyQuerySet(models.QuerySet):
    """Evidence is never edited or deleted through the ORM; corrections are new rows."""

    def update(self, **kwargs):
        raise AppendOnlyViolation(f"{self.model._meta.verbose_name_plural} are append-only.")

    def delete(self):
        raise AppendOnlyViolation(f"{self.model._meta.verbose_name_plural} are append-only.")


class AppendOnly(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk and type(self)._default_manager.filter(pk=self.pk).exists():
            raise AppendOnlyViolation(f"{self._meta.verbose_name} records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyViolation(f"{self._meta.verbose_name} records are append-only.")


class WorkClaim(models.Model):
    """A claim on a piece of background work, so that a sweep queues it again exactly once.

    ``key`` names the work ("pdf:acknowledgement:42", "reminders:plan:2026-12-01" …). Whoever inserts the
    row, or moves a stale ``claimed_at`` forward with one conditional UPDATE, holds it; everyone else
    (a second beat, an overlapping sweep) sees a row count of 0 and leaves it. ``done_at`` marks work
    that must happen once only (a day's reminder planning). See ``core.claims``.
    """

    key = models.CharField(max_length=120, unique=True)
    claimed_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = "work claim"

    def __str__(self) -> str:
        return self.key


# ---------------------------------------------------------------------------
# Signed, chained evidence (docs/evidence.md)
# ---------------------------------------------------------------------------

GENESIS_HASH = "0" * 64


class ChainHead(models.Model):
    """The newest entry of one organisation's chain. Its row is the chain's lock, held only while appending."""

    scope = models.BigIntegerField(primary_key=True, help_text="The organisation's id (0: the operator's own actions).")
    seq = models.BigIntegerField(default=0)
    head_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "evidence chain head"

    def __str__(self) -> str:
        return f"chain {self.scope} at {self.seq}"


class EvidenceLink(AppendOnly):
    """One evidence record's entry in its organisation's chain: the signed payload, its place and its signature."""

    scope = models.BigIntegerField()
    seq = models.BigIntegerField()
    prev_hash = models.CharField(max_length=64)
    record_type = models.CharField(max_length=60, help_text='The record\'s model, e.g. "conduct.adoption".')
    record_id = models.BigIntegerField()
    payload = models.TextField(help_text="The record's signed payload: canonical JSON, exactly as signed.")
    key_id = models.CharField(max_length=40)
    signature = models.CharField(max_length=100, help_text="Ed25519 over the entry's statement, base64.")
    link_hash = models.CharField(max_length=64, help_text="SHA-256 of the entry's statement.")
    created_at = models.DateTimeField()

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = "evidence chain entry"
        verbose_name_plural = "evidence chain entries"
        constraints = [
            models.UniqueConstraint(fields=["scope", "seq"], name="evidence_link_once_per_place"),
            models.UniqueConstraint(fields=["record_type", "record_id"], name="evidence_link_once_per_record"),
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id} at {self.scope}/{self.seq}"


class EvidenceSalt(models.Model):
    """The salt of a record's commitments to its personal fields: erased together with the personal data."""

    record_type = models.CharField(max_length=60)
    record_id = models.BigIntegerField()
    salt = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], name="evidence_salt_once_per_record"),
        ]

    def __str__(self) -> str:
        return f"salt of {self.record_type} {self.record_id}"


class ChainQueue(models.Model):
    """A record signed at once but not yet in its chain: a signer who found the chain's head taken by another
    leaves its entries here instead of waiting, and the sequencer (``core.evidence_chain.chain_drain``) appends
    them in a batch after the signer's commit. Rows are deleted as they are chained; verification counts one
    younger than ``core.evidence_chain.PENDING_FOR`` as pending, an older one as broken."""

    scope = models.BigIntegerField()
    record_type = models.CharField(max_length=60)
    record_id = models.BigIntegerField()
    payload = models.TextField(
        help_text="The record's payload: canonical JSON, exactly as signed and as it is chained."
    )
    key_id = models.CharField(max_length=40)
    signature = models.CharField(max_length=100, help_text="Ed25519 over the payload, base64.")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "evidence waiting for its chain"
        verbose_name_plural = "evidence waiting for its chain"
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], name="chain_queue_once_per_record"),
        ]
        indexes = [models.Index(fields=["scope", "id"], name="chain_queue_by_scope")]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id} waiting for chain {self.scope}"


class ChainAnchor(AppendOnly):
    """Every chain's head at a moment, timestamped by an RFC 3161 authority (daily)."""

    created_at = models.DateTimeField()
    heads = models.TextField(help_text="Canonical JSON: [[scope, seq, head_hash], …].")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the heads.")
    tsa_url = models.CharField(max_length=500, blank=True)
    token = models.BinaryField(blank=True, help_text="The DER timestamp token (empty when the authority failed).")
    timestamped_at = models.DateTimeField(null=True, blank=True, help_text="The authority's time.")
    error = models.CharField(max_length=500, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"anchor {self.digest[:12]}… at {self.created_at:%Y-%m-%d %H:%M}"


class IntegrityCheck(models.Model):
    """One run of ``verify_evidence``: what was checked and every broken item."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    counts = models.JSONField(default=dict, blank=True, help_text="How many of each kind were checked.")
    problems = models.JSONField(default=list, blank=True, help_text="Each broken item: kind, item, problem.")

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"evidence check {self.started_at:%Y-%m-%d %H:%M}: {'ok' if self.ok else 'FAILED'}"


class Tombstone(models.Model):
    """What is left of an erased record's personal data or of an erased file (issue 13, ``privacy.erasure``).

    One per erased evidence record (its salt row is deleted; this says when and why) and one per deleted
    file (a sealed PDF, a paper scan), keeping the file's SHA-256 so an uploaded copy can still be
    recognised. Verification reads it to say "erased on <date> (<basis>)" instead of "broken".
    """

    record_type = models.CharField(max_length=60, help_text='The record\'s model, e.g. "acknowledgements.sealedpdf".')
    record_id = models.BigIntegerField()
    erased_at = models.DateTimeField()
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    basis = models.CharField(max_length=20, help_text='"retention_ended" or "erasure_request".')
    reason = models.CharField(max_length=500, blank=True)
    file_name = models.CharField(max_length=255, blank=True, help_text="The deleted file's name in storage, if any.")
    sha256 = models.CharField(max_length=64, blank=True, help_text="The deleted file's SHA-256, if any.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "record_id"], name="tombstone_once_per_record"),
        ]
        indexes = [models.Index(fields=["sha256"], name="tombstone_by_sha256")]

    def __str__(self) -> str:
        return f"{self.record_type} {self.record_id} erased {self.erased_at:%Y-%m-%d}"

    @property
    def basis_label(self) -> str:
        return BASIS_LABELS.get(self.basis, self.basis)

    @property
    def words(self) -> str:
        return erased_words(self)


BASIS_LABELS = {
    "retention_ended": "its retention period had ended",
    "erasure_request": "an erasure request (UK GDPR Article 17)",
}


def tombstones_of(record_type: str, ids: list[int] | None = None) -> dict[int, Tombstone]:
    """The tombstones of erased records (or files) of one type, by record id (all of them, or of ``ids``)."""
    stones = Tombstone.objects.filter(record_type=record_type)
    if ids is not None:
        stones = stones.filter(record_id__in=ids)
    return {stone.record_id: stone for stone in stones}


def tombstone_of(record_type: str, record_id: int) -> Tombstone | None:
    return Tombstone.objects.filter(record_type=record_type, record_id=record_id).first()


def erased_words(stone: Tombstone) -> str:
    """How a page or a report says a record's personal data is gone: "erased on 1 December 2026 (…)"."""
    return f"erased on {stone.erased_at:%-d %B %Y} ({stone.basis_label})"
