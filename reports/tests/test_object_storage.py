"""S3-compatible object storage (django-storages), against moto's standalone S3 server started on a local port.

Everything stored goes to the bucket and comes back from it: sealed PDFs (issued, downloaded byte for byte
in chunks, "downloaded" recorded after the bytes), an archive built from them and downloaded, the restore
check; an object missing from the bucket gets the clear page, never a server error.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import boto3  # type: ignore[import-untyped]
import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from acknowledgements.issuing import acknowledgement_pdf_issue
from acknowledgements.models import Acknowledgement, AuditEvent, EventKind, SealedPdf
from acknowledgements.restore import restore_check
from reports.models import JobStatus, ReportJob
from reports.tests.factories import read_zip
from reports.tests.test_jobs import download, manifest, start

pytestmark = pytest.mark.django_db

PORT = 8561  # one of this suite's ports
ENDPOINT = f"http://127.0.0.1:{PORT}"
BUCKET = "conduct-test"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "eu-west-2"}


def _wait_for(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"moto's S3 server did not start on port {port}")


@pytest.fixture(scope="module")
def s3_server() -> Iterator[str]:
    """moto's standalone server (moto[server] from PyPI), as its own process, on 127.0.0.1 only."""
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(PORT)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(PORT)
        yield ENDPOINT
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def bucket(s3_server):
    """A fresh bucket, and the settings that store every file in it (as STORAGE_S3_* would in production)."""
    client = boto3.client("s3", endpoint_url=s3_server, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": CREDENTIALS["region_name"]})
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_server,
                "region_name": CREDENTIALS["region_name"],
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "default_acl": None,
                "file_overwrite": False,
                "querystring_auth": True,
            },
        },
    }
    with override_settings(STORAGES=storages):
        yield client
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def keys(client) -> set[str]:
    return {item["Key"] for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def test_sealed_pdfs_and_archives_are_stored_in_and_streamed_from_the_bucket(
    bucket, oak, client_for, django_capture_on_commit_callbacks
):
    signed = list(Acknowledgement.objects.filter(version=oak.version).order_by("pk")[:3])
    records = [acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False) for ack in signed]
    assert {record.file.name for record in records} <= keys(bucket)  # in the bucket, not on disk
    stored = bucket.get_object(Bucket=BUCKET, Key=records[0].file.name)["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == records[0].sha256

    client = client_for(signed[0].person)
    response = client.get(reverse("acknowledgements:pdf", args=[signed[0].pk]))
    assert response.status_code == 200 and response.streaming
    assert not AuditEvent.objects.filter(kind=EventKind.PDF_DOWNLOADED).exists()
    assert b"".join(response.streaming_content) == stored
    assert AuditEvent.objects.filter(kind=EventKind.PDF_DOWNLOADED, acknowledgement=signed[0]).count() == 1

    admin = client_for(oak.admin)
    with django_capture_on_commit_callbacks(execute=True):
        start(admin, "archive", oak)
    job = ReportJob.objects.get()
    assert job.status == JobStatus.DONE and job.file.name in keys(bucket)
    rows = manifest(read_zip(download(admin, job)))
    assert {row["PDF SHA-256"] for row in rows} >= {record.sha256 for record in records}

    # Every stored file read back from the bucket matches its SHA-256 (the scenario's records are made by
    # factories without chains or real seals, so only the files are checked here):
    report = restore_check()
    assert report.counts["PDF files"] == SealedPdf.objects.count() and not [
        f for f in report.findings if f.kind == "file"
    ]


def test_an_object_missing_from_the_bucket_gets_the_clear_page(bucket, oak, client_for):
    ack = Acknowledgement.objects.filter(version=oak.version).first()
    assert ack is not None
    record = acknowledgement_pdf_issue(acknowledgement_id=ack.pk, send_receipt=False)
    bucket.delete_object(Bucket=BUCKET, Key=record.file.name)
    response = client_for(ack.person).get(reverse("acknowledgements:pdf", args=[ack.pk]))
    assert response.status_code == 503 and "missing from file storage" in response.content.decode()
    assert not AuditEvent.objects.filter(kind=EventKind.PDF_DOWNLOADED).exists()
    report = restore_check()
    assert [f.problem for f in report.findings if f.item.startswith(f"stored PDF {record.pk} ")] == [
        "its file is missing from storage"
    ]
    assert SealedPdf.objects.filter(pk=record.pk).exists()
