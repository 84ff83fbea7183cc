"""The evidence-signing key: Ed25519, outside the database, with a key id so keys can rotate.

Production reads ``EVIDENCE_KEY_FILE`` (PEM PKCS#8); the public keys of earlier keys, kept to
verify what they signed, are the ``*.pem`` files in ``EVIDENCE_PUBLIC_KEYS_DIR``. In development
``python -m config.prepare`` generates ``var/evidence/signing.key`` (and it is generated on first use
if missing, as the development seal is). Nothing here imports Django at module level, so
``config.prepare`` can use it before settings exist.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE_NAME = "signing.key"


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


def generate_key_file(path: Path) -> bool:
    """Write a new private key to ``path`` (mode 0600) unless one is there; True if it wrote one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # web, worker and tests may ask at once on first run
        if path.exists():
            return False
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_suffix(".tmp")
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(pem)
        os.replace(tmp, path)
        return True


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private_key.sign(message)).decode("ascii")


@lru_cache(maxsize=4)
def _load_private(path: str, mtime: float) -> SigningKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key.")
    return SigningKey(key_id_of(key.public_key()), key)


@lru_cache(maxsize=16)
def _load_public(path: str, mtime: float) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(Path(path).read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path} is not an Ed25519 public key.")
    return key


def _key_path() -> Path:
    from django.conf import settings

    if settings.EVIDENCE_KEY_FILE:
        return Path(settings.EVIDENCE_KEY_FILE)
    path = Path(settings.EVIDENCE_DIR) / KEY_FILE_NAME
    if not path.exists():
        generate_key_file(path)
    return path


def signing_key() -> SigningKey:
    """The current key (its file is re-read when it changes, e.g. after a rotation)."""
    path = _key_path()
    return _load_private(str(path), path.stat().st_mtime)


def verification_keys() -> dict[str, Ed25519PublicKey]:
    """Every public key a signature may have been made with, by key id: the current one and the earlier ones."""
    from django.conf import settings

    keys = {}
    if settings.EVIDENCE_PUBLIC_KEYS_DIR:
        for pem in sorted(Path(settings.EVIDENCE_PUBLIC_KEYS_DIR).glob("*.pem")):
            public = _load_public(str(pem), pem.stat().st_mtime)
            keys[key_id_of(public)] = public
    current = signing_key()
    keys[current.key_id] = current.public_key
    return keys


def signature_valid(public_key: Ed25519PublicKey, signature: str, message: bytes) -> bool:
    try:
        public_key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
