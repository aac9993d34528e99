"""HTTPS for the simulator: a throwaway CA and a server certificate for ``127.0.0.1`` and ``localhost``.

Generated at start with ``cryptography`` (no files shipped, nothing trusted system-wide): the CA's
PEM is written to a private temporary directory, so a client verifies the simulator exactly as it
verifies real Canvas, by pointing its CA bundle there (the connection's ``verify`` extra,
``REQUESTS_CA_BUNDLE`` for canvasapi). The directory is removed when the simulator stops.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["ServerCertificate"]

_VALIDITY = datetime.timedelta(days=2)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True)
class ServerCertificate:
    """A CA bundle and the server's certificate chain and key, as files in ``directory``."""

    directory: Path
    ca_bundle: Path
    chain: Path
    key: Path

    @classmethod
    def generate(cls, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> ServerCertificate:
        """Make a CA and a leaf certificate for ``hosts`` (IP addresses and DNS names)."""
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("Canvas Simulator Test CA")
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        leaf = (
            x509.CertificateBuilder()
            .subject_name(_name(hosts[0]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        directory = Path(tempfile.mkdtemp(prefix="canvas-simulator-tls-"))
        ca_bundle, chain, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
        ca_bundle.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(_pem_key(key))
        key_file.chmod(0o600)
        return cls(directory, ca_bundle, chain, key_file)

    def server_context(self) -> ssl.SSLContext:
        """The TLS context the server listens with."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.chain, self.key)
        return context

    def remove(self) -> None:
        """Delete the files (the CA bundle path stops working)."""
        shutil.rmtree(self.directory, ignore_errors=True)
