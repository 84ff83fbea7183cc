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
