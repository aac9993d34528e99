"""The LTI tool's private key: read from whatever a connection form or secrets backend hands over.

Canvas verifies LTI client assertions with the developer key's public JWK and RS256 only
(``lib/canvas/oauth/asymmetric_client_credentials_provider.rb``), so the key must be RSA. It arrives
as PEM (PKCS#8 or PKCS#1) or as a private JWK, often mangled: one-line password inputs drop line
breaks and JSON extras carry them as ``\\n``. Messages name the ``private_key`` field and never
quote it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError

__all__ = ["PEM_BLOCK", "SigningKey", "load_signing_key", "normalise_private_key"]

#: One PEM block: its label (``PRIVATE KEY``, ``RSA PRIVATE KEY``...) and base64 body.
PEM_BLOCK = re.compile(r"-----BEGIN (?P<label>[A-Z0-9 ]+)-----(?P<body>.*?)-----END (?P=label)-----", re.DOTALL)


@dataclass(frozen=True)
class SigningKey:
    """A loaded RSA private key and its ``kid``, ready to sign client assertions."""

    key: rsa.RSAPrivateKey = field(repr=False)
    key_id: str | None = None


def normalise_private_key(text: str) -> str:
    """Give a pasted key back its line breaks.

    Connection forms show secrets in one-line password inputs, which drop newlines, and JSON
    extras often carry them as the two characters ``\\n``. A PEM block is rebuilt from its label and
    base64 body; a JWK (JSON) is returned as given.
    """
    value = text.strip().replace("\\r", "").replace("\\n", "\n")
    match = PEM_BLOCK.search(value)
    if match is None:
        return value
    body = re.sub(r"\s+", "", match["body"])
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "\n".join([f"-----BEGIN {match['label']}-----", *lines, f"-----END {match['label']}-----"]) + "\n"


def load_signing_key(text: str, *, key_id: str | None = None, label: str = "The Canvas connection") -> SigningKey:
    """Load the ``private_key`` extra (PEM or private JWK) as an RSA key for RS256.

    :param key_id: the ``key_id`` extra; overrides a ``kid`` in the JWK.
    :param label: the connection, for messages.
    :raises CanvasConfigurationError: not a key, a public key, an encrypted or a non-RSA key. The
        message names ``private_key`` and never quotes it.
    """
    value = normalise_private_key(text)
    fix = (
        "Put the tool's RSA private key in the private_key field, as PEM (-----BEGIN PRIVATE KEY-----) "
        "or as a private JWK, and register its public JWK on the LTI developer key."
    )
    if value.startswith("{"):
        key, jwk_kid = _load_jwk(value, label, fix)
    else:
        key, jwk_kid = _load_pem(value, label, fix), None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CanvasConfigurationError(
            f"{label} has a private_key that is not an RSA key; Canvas verifies LTI client assertions "
            f"with RS256 only. {fix}"
        )
    return SigningKey(key, key_id or jwk_kid)


def _load_pem(value: str, label: str, fix: str) -> Any:
    match = PEM_BLOCK.search(value)
    kind = match["label"] if match else ""
    if "PUBLIC KEY" in kind or "CERTIFICATE" in kind:
        raise CanvasConfigurationError(f"{label} has a public key (or certificate) in private_key. {fix}")
    if "ENCRYPTED" in kind or "Proc-Type: 4,ENCRYPTED" in value:
        raise CanvasConfigurationError(
            f"{label} has a passphrase-protected private_key. Export it without a passphrase "
            "(openssl pkey -in key.pem -out plain.pem) and store it in Airflow's secrets instead."
        )
    if match is None:
        raise CanvasConfigurationError(f"{label} has a private_key that is neither PEM nor a JWK. {fix}")
    try:
        return serialization.load_pem_private_key(value.encode(), password=None)
    except (ValueError, TypeError, NotImplementedError):
        # cryptography's own message is not quoted: it is about bytes of the key.
        raise CanvasConfigurationError(
            f"{label} has a private_key whose PEM block ({kind}) does not decode (truncated or altered?). {fix}"
        ) from None


def _load_jwk(value: str, label: str, fix: str) -> tuple[Any, str | None]:
    try:
        jwk = json.loads(value)
    except ValueError:
        raise CanvasConfigurationError(
            f"{label} has a private_key that starts like a JWK but is not JSON. {fix}"
        ) from None
    if isinstance(jwk, Mapping) and isinstance(jwk.get("keys"), list):
        raise CanvasConfigurationError(f"{label} has a JWK set in private_key; give the one private JWK. {fix}")
    if not isinstance(jwk, Mapping) or jwk.get("kty") != "RSA":
        raise CanvasConfigurationError(
            f"{label} has a private_key JWK whose kty is not RSA; Canvas verifies LTI client assertions "
            f"with RS256 only. {fix}"
        )
    if "d" not in jwk:
        raise CanvasConfigurationError(f"{label} has a public JWK in private_key (it has no 'd'). {fix}")
    try:
        key = RSAAlgorithm.from_jwk(dict(jwk))
    except (jwt.exceptions.InvalidKeyError, ValueError, TypeError, KeyError):
        raise CanvasConfigurationError(f"{label} has a private_key JWK that does not decode. {fix}") from None
    kid = jwk.get("kid")
    return key, kid if isinstance(kid, str) and kid else None
