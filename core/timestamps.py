"""RFC 3161 timestamps: of the chain heads every day, and inside each PDF's seal (PAdES B-T, then B-LT).

``EVIDENCE_TSA_URL`` names the timestamp authority (with ``EVIDENCE_TSA_TIMEOUT`` seconds to answer).
In development and tests, with no URL set, a local authority answers in-process: pyHanko's test
timestamper with an RSA key and certificate generated once under ``var/tsa/`` (``python -m
devtools.tsa`` serves the same one over HTTP, to try the URL setting). Production without a URL
timestamps nothing and says so: anchors record the error, PDFs are sealed without a timestamp.

A timestamp authority that is down never stops anything: the anchor records the error (the next
day's run tries again) and a PDF is sealed without a timestamp (docs/evidence.md, section 5).

A token counts only from an authority whose certificate chains to ``EVIDENCE_TSA_TRUST_ROOTS`` (plus the
local authority's certificate in development): ``check_token`` says which, through ``core.seal_validation``.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from core import seal_validation
from core.seal_validation import TokenCheck

logger = logging.getLogger(__name__)


class NoTimestampAuthority(Exception):
    """No timestamp authority is configured (production without EVIDENCE_TSA_URL)."""


def _generate_local_tsa(directory: Path) -> None:
    """An RSA key and a self-signed certificate for time stamping only, written under a file lock."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{settings.SITE_NAME} local timestamp authority")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_tmp, cert_tmp = directory / "tsa.key.tmp", directory / "tsa.crt.tmp"
    key_tmp.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_tmp.chmod(0o600)
    cert_tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(key_tmp, directory / "tsa.key")
    os.replace(cert_tmp, directory / "tsa.crt")


def local_tsa_paths() -> tuple[Path, Path]:
    directory = Path(settings.VAR_DIR) / "tsa"
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (directory / "tsa.key").exists() or not (directory / "tsa.crt").exists():
            _generate_local_tsa(directory)
    return directory / "tsa.key", directory / "tsa.crt"


@lru_cache(maxsize=2)
def _local_timestamper(key_path: str, cert_path: str):
    from pyhanko.keys import load_cert_from_pemder, load_private_key_from_pemder
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

    return DummyTimeStamper(
        tsa_cert=load_cert_from_pemder(cert_path), tsa_key=load_private_key_from_pemder(key_path, passphrase=None)
    )


def local_timestamper():
    key_path, cert_path = local_tsa_paths()
    return _local_timestamper(str(key_path), str(cert_path))


def timestamper():
    """The configured timestamp client, the local one (development and tests), or None."""
    if settings.EVIDENCE_TSA_URL:
        from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

        return RequestsHTTPTimeStamper(settings.EVIDENCE_TSA_URL, timeout=settings.EVIDENCE_TSA_TIMEOUT)
    if settings.EVIDENCE_TSA_LOCAL:
        return local_timestamper()
    return None


def tsa_name() -> str:
    if settings.EVIDENCE_TSA_URL:
        return settings.EVIDENCE_TSA_URL
    return "local development timestamp authority" if settings.EVIDENCE_TSA_LOCAL else ""


@dataclass(frozen=True)
class Timestamp:
    token: bytes  # DER ContentInfo (SignedData over TSTInfo)
    at: datetime


def timestamp_digest(digest: bytes) -> Timestamp:
    """Ask the authority to timestamp a SHA-256 digest. Raises NoTimestampAuthority, OSError or pyHanko's errors."""
    client = timestamper()
    if client is None:
        raise NoTimestampAuthority("No timestamp authority is configured (EVIDENCE_TSA_URL).")
    token = seal_validation.run(client.async_timestamp(digest, "sha256"))
    return Timestamp(token.dump(), token_time(token))


def token_time(token) -> datetime:
    return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native


def tsa_trust_roots() -> list:
    """The certificates a timestamp authority must chain to (EVIDENCE_TSA_TRUST_ROOTS, plus the local authority's own
    certificate in development and tests). Read from files outside the database, like the keys: a root stored in the
    database could be replaced by whoever rewrites the rows."""
    paths = list(settings.EVIDENCE_TSA_TRUST_ROOTS)
    if settings.EVIDENCE_TSA_LOCAL:
        paths.append(str(local_tsa_paths()[1]))
    return list(_roots(tuple(paths)))


@lru_cache(maxsize=8)
def _roots(paths: tuple[str, ...]) -> tuple:
    from pyhanko.keys import load_certs_from_pemder

    return tuple(cert for path in paths for cert in load_certs_from_pemder([path]))


def check_token(token_der: bytes, digest: bytes, *, moment: datetime | None = None) -> TokenCheck:
    """Is a stored token an intact timestamp of ``digest``, by an authority that chains to a trusted root?"""
    return seal_validation.check_token(token_der, digest, tsa_trust_roots(), moment=moment)


def token_problems(token_der: bytes, digest: bytes) -> list[str]:
    return check_token(token_der, digest).problems


def sha256_digest(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()
