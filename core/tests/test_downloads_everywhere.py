"""Every download names its file through core.downloads (RFC 6266), never by pasting text into the header."""

import re
from pathlib import Path

from django.conf import settings

from core.downloads import file_download


def test_no_product_code_builds_content_disposition_by_hand():
    offenders = []
    for path in Path(settings.BASE_DIR).rglob("*.py"):
        relative = path.relative_to(settings.BASE_DIR)
        if relative.parts[0] in {".venv", "var", "node_modules"} or "tests" in relative.parts:
            continue
        if relative.as_posix() == "core/downloads.py":
            continue
        text = path.read_text(errors="replace")
        if re.search(r"""\[\s*["']Content-Disposition["']\s*\]\s*=""", text):
            offenders.append(relative.as_posix())
    assert offenders == []


def test_a_version_label_with_quotes_and_non_ascii_is_encoded_per_rfc_6266():
    response = file_download(b"%PDF-", filename='Staff code "2026–27"\r\nX-Evil: 1.pdf')
    header = response["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    assert header.startswith("attachment; filename*=utf-8''") and "%E2%80%93" in header
