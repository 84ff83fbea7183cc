"""A test PKI built with certomancer, served on a local port: what a production seal and authority look like.

- ``root`` → ``interm`` → ``seal``: the seal's certificate, issued by an intermediate, with a CRL distribution
  point and an OCSP responder (``interm-ocsp``), valid only for a short window around now, so a test can
  validate after it expired;
- ``root`` → ``tsa``: the trusted timestamp authority (with a CRL distribution point);
- ``rogue-root`` → ``rogue-tsa``: a second authority, whose root nobody trusts.

certomancer's Animator (a WSGI app) answers the CRL, OCSP and timestamp URLs the certificates name, on
127.0.0.1 at the first free port of 8430-8449 (this engineer's range), in a thread of the test process:
pyHanko fetches real revocation data over HTTP, and nothing leaves the machine.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

PORTS = range(8430, 8450)  # this engineer's range; each process takes the first one free
ARCH = "school-pki"
KEYS = ("root", "interm", "interm-ocsp", "seal", "tsa", "rogue-root", "rogue-tsa")


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _write_keys(directory: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    for label in KEYS:
        key = ec.generate_private_key(ec.SECP256R1())
        (directory / f"{label}.key.pem").write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


def _ca(issuer: str, valid_from: str, valid_to: str, *, crl_repo: str | None = None) -> dict:
    spec: dict = {
        "issuer": issuer,
        "validity": {"valid-from": valid_from, "valid-to": valid_to},
        "extensions": [
            {"id": "basic_constraints", "critical": True, "value": {"ca": True}},
            {
                "id": "key_usage",
                "critical": True,
                "smart-value": {"schema": "key-usage", "params": ["digital_signature", "key_cert_sign", "crl_sign"]},
            },
        ],
    }
    if crl_repo:
        spec["extensions"].append(
            {
                "id": "crl_distribution_points",
                "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [crl_repo]}},
            }
        )
    return spec


def _tsa(issuer: str, valid_from: str, valid_to: str, *, crl_repo: str | None) -> dict:
    spec: dict = {
        "issuer": issuer,
        "validity": {"valid-from": valid_from, "valid-to": valid_to},
        "extensions": [
            {
                "id": "key_usage",
                "critical": True,
                "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
            },
            {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
        ],
    }
    if crl_repo:
        spec["extensions"].append(
            {
                "id": "crl_distribution_points",
                "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [crl_repo]}},
            }
        )
    return spec


def pki_config(port: int, now: datetime, seal_lifetime: timedelta) -> dict:
    """certomancer's configuration (the dict its YAML would hold) for the PKI described above."""
    long_ago, far_ahead = _when(now - timedelta(days=3650)), _when(now + timedelta(days=3650))
    seal = {
        "issuer": "interm",
        "validity": {"valid-from": _when(now - timedelta(hours=1)), "valid-to": _when(now + seal_lifetime)},
        "extensions": [
            {
                "id": "key_usage",
                "critical": True,
                "smart-value": {"schema": "key-usage", "params": ["digital_signature", "non_repudiation"]},
            },
            {
                "id": "crl_distribution_points",
                "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": ["interm"]}},
            },
            {
                "id": "authority_information_access",
                "smart-value": {
                    "schema": "aia-urls",
                    "params": {"ocsp-responder-names": ["interm"], "ca-issuer-links": [{"repo": "interm"}]},
                },
            },
        ],
    }
    ocsp_responder = {
        "issuer": "interm",
        "validity": {"valid-from": long_ago, "valid-to": far_ahead},
        "extensions": [
            {
                "id": "key_usage",
                "critical": True,
                "smart-value": {"schema": "key-usage", "params": ["digital_signature"]},
            },
            {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
            {"id": "ocsp_no_check"},
        ],
    }
    return {
        "external-url-prefix": f"http://127.0.0.1:{port}",
        "keysets": {ARCH: {"keys": {label: {"path": f"{label}.key.pem"} for label in KEYS}}},
        "pki-architectures": {
            ARCH: {
                "keyset": ARCH,
                "entity-defaults": {"country-name": "GB", "organization-name": "Test PKI"},
                "entities": {
                    "root": {"common-name": "Test root CA"},
                    "interm": {"common-name": "Test intermediate CA"},
                    "interm-ocsp": {"common-name": "Test OCSP responder"},
                    "seal": {"common-name": "Test document seal"},
                    "tsa": {"common-name": "Test timestamp authority"},
                    "rogue-root": {"common-name": "Untrusted root CA"},
                    "rogue-tsa": {"common-name": "Untrusted timestamp authority"},
                },
                "certs": {
                    "root": _ca("root", long_ago, far_ahead) | {"subject": "root"},
                    "interm": _ca("root", long_ago, far_ahead, crl_repo="root"),
                    "interm-ocsp": ocsp_responder,
                    "seal": seal,
                    "tsa": _tsa("root", long_ago, far_ahead, crl_repo="root"),
                    "rogue-root": _ca("rogue-root", long_ago, far_ahead) | {"subject": "rogue-root"},
                    "rogue-tsa": _tsa("rogue-root", long_ago, far_ahead, crl_repo=None),
                },
                "services": {
                    "ocsp": {
                        "interm": {
                            "for-issuer": "interm",
                            "responder-cert": "interm-ocsp",
                            "signing-key": "interm-ocsp",
                        }
                    },
                    "crl-repo": {
                        "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P90D"},
                        "interm": {
                            "for-issuer": "interm",
                            "signing-key": "interm",
                            "simulated-update-schedule": "P30D",
                        },
                    },
                    "cert-repo": {
                        "root": {"for-issuer": "root", "publish-issued-certs": True},
                        "interm": {"for-issuer": "interm", "publish-issued-certs": False},
                    },
                    "time-stamping": {
                        "tsa": {"signing-key": "tsa", "signing-cert": "tsa"},
                        "rogue-tsa": {"signing-key": "rogue-tsa", "signing-cert": "rogue-tsa"},
                    },
                },
            }
        },
    }


@dataclass(frozen=True)
class LocalPki:
    directory: Path
    port: int
    seal_key: Path
    seal_cert: Path
    seal_chain: Path  # intermediate then root
    root: Path  # trusted for the seal and for timestamps
    rogue_root: Path
    seal_not_after: datetime

    def tsa_url(self, label: str = "tsa") -> str:
        return f"http://127.0.0.1:{self.port}/{ARCH}/tsa/{label}"

    def settings(self, *, tsa: str = "tsa") -> dict:
        """Django settings for sealing with this PKI's seal and timestamping with one of its authorities."""
        return {
            "SEAL_KEY_FILE": str(self.seal_key),
            "SEAL_CERT_FILE": str(self.seal_cert),
            "SEAL_KEY_PASSPHRASE": "",
            "SEAL_CHAIN_FILE": str(self.seal_chain),
            "EVIDENCE_TSA_URL": self.tsa_url(tsa),
            "EVIDENCE_TSA_LOCAL": False,
            "EVIDENCE_TSA_TRUST_ROOTS": [str(self.root)],
        }


def _pem(cert) -> bytes:
    from asn1crypto import pem  # type: ignore[import-untyped]

    return pem.armor("CERTIFICATE", cert.dump())


def build_pki(directory: Path, *, port: int, seal_lifetime: timedelta = timedelta(days=1)):
    """Keys, certificates and the PKI under ``directory``; returns (LocalPki, certomancer's architecture)."""
    from certomancer.registry import ArchLabel, CertLabel, CertomancerConfig

    now = datetime.now(UTC)
    _write_keys(directory)
    config = CertomancerConfig(pki_config(port, now, seal_lifetime), key_search_dir=str(directory))
    arch = config.get_pki_arch(ArchLabel(ARCH))

    def write(name: str, *labels: str) -> Path:
        path = directory / name
        path.write_bytes(b"".join(_pem(arch.get_cert(CertLabel(label))) for label in labels))
        return path

    pki = LocalPki(
        directory=directory,
        port=port,
        seal_key=directory / "seal.key.pem",
        seal_cert=write("seal.crt.pem", "seal"),
        seal_chain=write("seal-chain.pem", "interm", "root"),
        root=write("root.crt.pem", "root"),
        rogue_root=write("rogue-root.crt.pem", "rogue-root"),
        seal_not_after=arch.get_cert(CertLabel("seal")).not_valid_after,
    )
    return pki, arch


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the standard library's name
        return None


def bind_free_port() -> WSGIServer:
    """A WSGI server bound on 127.0.0.1 at the first free port of PORTS (pytest-xdist workers, or a second run of
    these tests at the same time, each get their own); its application is set once the PKI knows its address."""
    for port in PORTS:
        try:
            return make_server("127.0.0.1", port, _not_ready, handler_class=_QuietHandler)
        except OSError:
            continue
    raise RuntimeError(f"No free port in {PORTS.start}-{PORTS.stop - 1} for the test PKI.")


def _not_ready(environ, start_response):
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"the test PKI is not ready\n"]


@contextmanager
def serving(arch, server: WSGIServer) -> Iterator[WSGIServer]:
    """certomancer's Animator for ``arch`` on ``server``, in a daemon thread, until the block ends."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore

    server.set_app(Animator(AnimatorArchStore({arch.arch_label: arch}), with_web_ui=False))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def served_pki(tmp_path_factory) -> Iterator[LocalPki]:
    """The test PKI, served for the whole test module (import this fixture into the module that uses it)."""
    server = bind_free_port()
    pki, arch = build_pki(tmp_path_factory.mktemp("pki"), port=server.server_port)
    with serving(arch, server):
        yield pki


def use(pki: LocalPki, settings, *, tsa: str = "tsa") -> LocalPki:
    """Seal with the PKI's seal and timestamp with one of its authorities, for this test (pytest-django's settings)."""
    for name, value in pki.settings(tsa=tsa).items():
        setattr(settings, name, value)
    return pki
