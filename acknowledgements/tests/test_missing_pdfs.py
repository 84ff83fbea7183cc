"""Issuing the signed PDFs still missing after a grace period, here and now (the reconciliation sweep queues them)."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from acknowledgements.issuing import acknowledgement_pdf_render, acknowledgement_pdfs_issue_missing
from acknowledgements.models import AuditEvent, EventKind, SealedPdf
from acknowledgements.tests.factories import owing, sign

pytestmark = pytest.mark.django_db

MISSING_PDF_GRACE = timedelta(minutes=10)


def test_the_sweep_issues_old_missing_pdfs_but_not_fresh_ones_and_a_second_sweep_does_nothing(staff):
    old = sign(staff, issue_pdf=False, at=timezone.now() - MISSING_PDF_GRACE - timedelta(minutes=1)).acknowledgement
    fresh = sign(owing(name="Elm Trust"), issue_pdf=False, at=timezone.now() - timedelta(minutes=2)).acknowledgement

    assert acknowledgement_pdfs_issue_missing(older_than=MISSING_PDF_GRACE) == [old.pk]

    assert SealedPdf.objects.filter(acknowledgement=old).count() == 1
    assert not SealedPdf.objects.filter(acknowledgement=fresh).exists()
    assert AuditEvent.objects.filter(acknowledgement=old, kind=EventKind.PDF_ISSUED).count() == 1
    assert mail.outbox == []  # signed without a receipt owed (issue_pdf=False records none)
    assert acknowledgement_pdfs_issue_missing(older_than=MISSING_PDF_GRACE) == []
    assert SealedPdf.objects.count() == 1


def test_one_record_that_cannot_be_rendered_does_not_hold_up_the_others(staff):
    long_ago = timezone.now() - timedelta(days=3)
    broken = sign(staff, issue_pdf=False, at=long_ago).acknowledgement
    other = sign(owing(name="Elm Trust"), issue_pdf=False, at=long_ago + timedelta(seconds=1)).acknowledgement

    def render(ack):
        if ack.pk == broken.pk:
            raise ValueError("a template error")
        return acknowledgement_pdf_render(ack)

    with mock.patch("acknowledgements.issuing.acknowledgement_pdf_render", side_effect=render):
        assert acknowledgement_pdfs_issue_missing(older_than=MISSING_PDF_GRACE) == [other.pk]
    assert list(SealedPdf.objects.values_list("acknowledgement", flat=True)) == [other.pk]
