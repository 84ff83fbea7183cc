"""Base classes every app's evidence models share."""

from __future__ import annotations

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

