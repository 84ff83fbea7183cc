"""Stored files are not world-readable, and a paper record that fails leaves no scan behind."""

import os
import stat
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from acknowledgements.models import Acknowledgement
from acknowledgements.tests.test_on_behalf import PNG, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(staff):
    from conduct.tests.factories import PersonFactory, RoleFactory

    person = PersonFactory.create(full_name="Daniel Reeve")
    RoleFactory.create(person=person, organisation=staff.orgs["trust"], kind="admin")
    return person


def _scans() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {str(path) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def test_files_the_app_stores_are_readable_by_its_user_and_group_only(tmp_path):
    assert settings.FILE_UPLOAD_PERMISSIONS == 0o640 and settings.FILE_UPLOAD_DIRECTORY_PERMISSIONS == 0o750
    old_umask = os.umask(0o022)  # a typical server umask, which alone would leave files 0644
    try:
        name = default_storage.save(f"permissions-test/{tmp_path.name}/evidence.pdf", ContentFile(b"%PDF-1.7 x"))
    finally:
        os.umask(old_umask)
    path = Path(default_storage.path(name))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    default_storage.delete(name)


def test_a_paper_record_that_fails_after_its_scan_was_written_leaves_no_file(staff, clerk, client_for):
    before = _scans()
    failing = mock.patch("acknowledgements.paper.audit_log_record", side_effect=RuntimeError("simulated failure"))
    with failing, pytest.raises(RuntimeError):
        client_for(clerk).post(
            url(staff),
            {
                "typed_name": "Ada Lovelace",
                "paper_signed_on": staff.obligation.adoption.adopted_on.isoformat(),
                "reason": "Signed on paper at the staff briefing.",
                "scan": SimpleUploadedFile("form.png", PNG, content_type="image/png"),
            },
        )
    assert not Acknowledgement.objects.exists()
    assert _scans() == before
