"""Connection settings: the Canvas base URL, the token and the knobs, validated once.

An Airflow ``canvas`` connection is read into :class:`CanvasSettings` before anything is sent.
Validation happens here rather than at request time so that a typo in an extra is reported with
the connection id, the field and the fix, instead of surfacing as a confusing HTTP failure.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_canvas_progress.core.auth import (
    AUTH_LTI_ADVANTAGE,
    AUTH_OAUTH2_REFRESH,
    AUTH_TOKEN,
    AUTH_TYPES,
    TOKEN_PATH,
    Credentials,
    LtiAdvantageCredentials,
    OAuth2RefreshCredentials,
    load_signing_key,
    normalise_private_key,
)
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError, ForeignHostError
from airflow_provider_canvas_progress.core.extras import EXTRA_RANGES as EXTRA_RANGES
from airflow_provider_canvas_progress.core.extras import ExtraReader, check_header_safe, strip_prefixes
from airflow_provider_canvas_progress.core.progress import shown
from airflow_provider_canvas_progress.core.redact import Redactor

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_RETRY_WAIT_INITIAL = 1.0
DEFAULT_RETRY_WAIT_MAX = 60.0
DEFAULT_MAX_IN_FLIGHT = 4
#: Canvas's bucket holds 600 units; below this many remaining we pause so it can drain.
DEFAULT_RATE_LIMIT_LOW_WATER = 200.0
#: Cap on one answer's body, decompressed: Progress objects and error answers are a few KB.
DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024

#: The extras each auth mode reads on top of the common ones.
AUTH_EXTRAS: dict[str, frozenset[str]] = {
    AUTH_TOKEN: frozenset(),
    AUTH_OAUTH2_REFRESH: frozenset({"client_id", "client_secret", "refresh_token", "token_url"}),
    AUTH_LTI_ADVANTAGE: frozenset({"client_id", "private_key", "key_id", "token_url"}),
}
#: Extras this provider reads; anything else is reported, since a misspelt extra silently ignored
#: is how a 3 a.m. page starts.
KNOWN_EXTRAS = frozenset(
    {
        "timeout", "max_attempts", "retry_wait_initial", "retry_wait_max", "verify",
        "allow_insecure_http", "max_in_flight", "rate_limit_low_water", "auth_type", "max_response_bytes",
    }
).union(*AUTH_EXTRAS.values())  # fmt: skip
_ALL_AUTH_EXTRAS: frozenset[str] = frozenset().union(*AUTH_EXTRAS.values())


@dataclass(frozen=True)
class Origin:
    """``scheme://host:port`` of a URL, the unit of trust for the token."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = (parts.scheme or "").lower()
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
        except ValueError:
            port = None
        if port is None:
            port = 443 if scheme == "https" else 80
        return cls(scheme, host, port)

    def __str__(self) -> str:
        default = (self.scheme == "https" and self.port == 443) or (self.scheme == "http" and self.port == 80)
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" if default else f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class CanvasSettings:
    """Everything the hook needs to talk to one Canvas, validated.

    :param base_url: ``scheme://host[:port]`` with no trailing slash.
    :param token: the API access token. Never shown by ``repr``.
    :param timeout: seconds for one HTTP request (connect + read).
    :param max_attempts: how many times one call is tried in all, retries included.
    :param retry_wait_initial: first back-off in seconds; it doubles, with jitter.
    :param retry_wait_max: longest single back-off in seconds.
    :param verify: TLS verification: ``True``, ``False`` or a CA bundle path.
    :param max_in_flight: concurrent requests per (Canvas, token) in one process, for async callers.
    :param rate_limit_low_water: pause when ``X-Rate-Limit-Remaining`` falls below this.
    :param max_response_bytes: the largest answer body read (decompressed), in bytes.
    :param conn_id: the Airflow connection id, for messages.
    :param auth_type: ``token`` (``token`` is the access token), ``oauth2_refresh`` or
        ``lti_advantage`` (``token`` is empty; access tokens are obtained with ``credentials``).
    :param credentials: the developer-key credentials of the two renewing modes. Never shown by ``repr``.
    """

    base_url: str
    token: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_wait_initial: float = DEFAULT_RETRY_WAIT_INITIAL
    retry_wait_max: float = DEFAULT_RETRY_WAIT_MAX
    verify: bool | str = True
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    rate_limit_low_water: float = DEFAULT_RATE_LIMIT_LOW_WATER
    conn_id: str | None = None
    #: Extras on the connection that this provider does not read (probably typos), to warn about.
    unknown_extras: tuple[str, ...] = ()
    auth_type: str = AUTH_TOKEN
    credentials: Credentials | None = field(default=None, repr=False)
    #: Extras of another auth mode than ``auth_type`` (set, but ignored), to warn about.
    unused_extras: tuple[str, ...] = ()
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES

    @property
    def origin(self) -> Origin:
        return Origin.of(self.base_url)

    def __repr__(self) -> str:
        return (
            f"CanvasSettings(base_url={self.base_url!r}, conn_id={self.conn_id!r}, "
            f"auth_type={self.auth_type!r}, token=***)"
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret of the connection (token, client secret, refresh token, key), for masking."""
        found = (self.token, *(self.credentials.secrets() if self.credentials is not None else ()))
        return tuple(secret for secret in found if secret)

    @cached_property
    def redactor(self) -> Redactor:
        """Hides these secrets in whatever is built from an answer (an echo of the token, say)."""
        return Redactor(self.secrets)

    def check_same_origin(self, url: str, *, what: str) -> None:
        """Refuse an absolute URL on any host but the connection's, so the token goes nowhere else.

        :param what: what the URL is, for the message (e.g. ``"progress_id"``).
        :raises ForeignHostError: the URL's scheme, host or port differ from the connection's.
        :raises CanvasConfigurationError: the URL cannot be parsed at all.
        """
        try:
            other = Origin.of(url)
        except ValueError:  # urlsplit refuses e.g. an unclosed "[" in the host
            raise CanvasConfigurationError(f"{what} is not a valid URL.") from None
        if other != self.origin:
            connection = f"the Canvas connection {shown(self.conn_id)}" if self.conn_id else "the Canvas connection"
            raise ForeignHostError(
                f"{what} points at {other}, but {connection} is {self.origin}. The access token is only "
                "ever sent to the connection's own host: use a URL on that host, or a connection for the "
                "other Canvas."
            )


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses, where plain HTTP cannot leak a token off the machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalise_base_url(
    host: str | None, *, schema: str | None = None, port: int | None = None, allow_insecure_http: bool = False
) -> str:
    """Turn a connection's host (with or without scheme) into ``scheme://host[:port]``.

    ``https`` is assumed when no scheme is given. A trailing ``/api/v1`` (often pasted from the API
    docs) is dropped; any other path is refused, since Canvas serves its API from the root.
    """
    raw = (host or "").strip()
    if not raw:
        raise CanvasConfigurationError(
            "The Canvas connection has no host. Set Host to your Canvas base URL, e.g. https://school.instructure.com."
        )
    if "://" not in raw:
        scheme = (schema or "").strip().lower()
        raw = f"{scheme if scheme in ('http', 'https') else 'https'}://{raw}"
    try:
        parts = urlsplit(raw)
    except ValueError:  # e.g. an unclosed "[" around an IPv6 address
        raise CanvasConfigurationError(
            "The Canvas connection's host is not a valid URL; give the base URL, e.g. https://school.instructure.com."
        ) from None
    # Credentials first: every later message quotes the host, and must not quote a password.
    if "@" in parts.netloc:
        raise CanvasConfigurationError(
            "The Canvas connection's host contains credentials; put the access token in the Password field."
        )
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise CanvasConfigurationError(
            f"The Canvas connection's host uses scheme {shown(scheme)}; use https://<school>.instructure.com."
        )
    if not parts.hostname:
        raise CanvasConfigurationError(f"The Canvas connection's host {shown(host)} has no host name.")
    if parts.query or parts.fragment:
        raise CanvasConfigurationError(
            "The Canvas connection's host has a query string or fragment; give only the base URL."
        )
    path = parts.path.rstrip("/")
    if path in ("/api/v1", "/api"):
        path = ""
    if path:
        raise CanvasConfigurationError(
            f"The Canvas connection's host has the path {shown(parts.path)}; give only the base URL, "
            "e.g. https://school.instructure.com."
        )
    try:
        url_port = parts.port
    except ValueError:
        raise CanvasConfigurationError(f"The Canvas connection's host {shown(host)} has an invalid port.") from None
    hostname = parts.hostname.lower()
    if scheme == "http" and not allow_insecure_http and not is_loopback(hostname):
        raise CanvasConfigurationError(
            f"The Canvas connection uses plain http:// for {hostname}, which would send the access "
            "token unencrypted. Use https://, or set the extra allow_insecure_http=true if this "
            "host really is a trusted test server."
        )
    final_port = url_port or port
    netloc = f"[{hostname}]" if ":" in hostname else hostname
    if final_port and not ((scheme == "https" and final_port == 443) or (scheme == "http" and final_port == 80)):
        netloc = f"{netloc}:{final_port}"
    return f"{scheme}://{netloc}"


def settings_from_connection(
    *,
    conn_id: str | None,
    host: str | None,
    password: str | None,
    extras: Mapping[str, Any] | None = None,
    schema: str | None = None,
    port: int | None = None,
) -> CanvasSettings:
    """Validate an Airflow connection's fields into :class:`CanvasSettings`.

    Extras may be given plainly (``timeout``) or in Airflow's legacy form
    (``extra__canvas__timeout``), as older connection forms save them.

    :raises CanvasConfigurationError: naming the connection, the field and the fix.
    """
    label = f"Canvas connection {shown(conn_id)}" if conn_id else "The Canvas connection"
    extra = strip_prefixes(extras or {})
    reader = ExtraReader(extra, label)
    auth_type = reader.text("auth_type", AUTH_TOKEN).lower()
    if auth_type not in AUTH_TYPES:
        raise CanvasConfigurationError(
            f"{label} has auth_type={shown(auth_type)}; the supported values are 'token' (default: a Canvas "
            "access token in the Password field), 'oauth2_refresh' (client_id, client_secret and "
            "refresh_token extras) and 'lti_advantage' (client_id and private_key extras)."
        )
    allow_http = reader.boolean("allow_insecure_http", False)
    try:
        base_url = normalise_base_url(host, schema=schema, port=port, allow_insecure_http=allow_http)
    except CanvasConfigurationError as error:
        raise CanvasConfigurationError(f"{label}: {error}") from None
    token = ""
    credentials: Credentials | None = None
    if auth_type == AUTH_TOKEN:
        token = (password or "").strip()
        if not token:
            raise CanvasConfigurationError(
                f"{label} has no access token. Put a Canvas API access token in its Password field "
                "(Canvas: Account > Settings > New Access Token), or set the extra auth_type to "
                "oauth2_refresh or lti_advantage to use a developer key."
            )
    else:
        credentials = _credentials(auth_type, reader, label, base_url, allow_http)
    check_header_safe(label, token=token, credentials=credentials)
    mode_extras = AUTH_EXTRAS[auth_type]
    settings = CanvasSettings(
        base_url=base_url,
        token=token,
        timeout=reader.bounded("timeout", DEFAULT_TIMEOUT),
        max_attempts=int(reader.bounded("max_attempts", DEFAULT_MAX_ATTEMPTS, integer=True)),
        retry_wait_initial=reader.bounded("retry_wait_initial", DEFAULT_RETRY_WAIT_INITIAL),
        retry_wait_max=reader.bounded("retry_wait_max", DEFAULT_RETRY_WAIT_MAX),
        verify=reader.verify(),
        max_in_flight=int(reader.bounded("max_in_flight", DEFAULT_MAX_IN_FLIGHT, integer=True)),
        rate_limit_low_water=reader.bounded("rate_limit_low_water", DEFAULT_RATE_LIMIT_LOW_WATER),
        conn_id=conn_id,
        unknown_extras=tuple(sorted(set(extra) - KNOWN_EXTRAS)),
        auth_type=auth_type,
        credentials=credentials,
        unused_extras=tuple(sorted(set(extra) & (_ALL_AUTH_EXTRAS - mode_extras))),
        max_response_bytes=int(reader.bounded("max_response_bytes", DEFAULT_MAX_RESPONSE_BYTES, integer=True)),
    )
    return settings


def _credentials(auth_type: str, reader: ExtraReader, label: str, base_url: str, allow_http: bool) -> Credentials:
    """Read and check the developer-key extras of ``oauth2_refresh`` and ``lti_advantage``."""
    mode = f"auth_type={auth_type}"
    client_id = reader.required(
        "client_id",
        f"{label} uses {mode} but has no client_id extra. Set it to the developer key's ID "
        "(Admin > Developer Keys; for LTI keys, the Client ID).",
        allow_int=True,
    )
    token_url = _token_url(reader, label, base_url, allow_http)
    if auth_type == AUTH_OAUTH2_REFRESH:
        return OAuth2RefreshCredentials(
            client_id=client_id,
            client_secret=reader.required(
                "client_secret",
                f"{label} uses {mode} but has no client_secret extra. Copy the developer key's secret "
                "(Admin > Developer Keys > Show Key) into it.",
            ),
            refresh_token=reader.required(
                "refresh_token",
                f"{label} uses {mode} but has no refresh_token extra. Run Canvas's OAuth2 authorization "
                "flow once for the user the DAGs act as, and store the refresh_token it returns.",
            ),
            token_url=token_url,
        )
    private_key = normalise_private_key(
        reader.required(
            "private_key",
            f"{label} uses {mode} but has no private_key extra. Put the LTI tool's RSA private key in it "
            "(PEM or JWK), and register its public JWK on the LTI developer key.",
        )
    )
    key_id = reader.text("key_id", "") or None
    load_signing_key(private_key, key_id=key_id, label=label)  # refuse a bad key now, not at 3 a.m.
    return LtiAdvantageCredentials(client_id=client_id, private_key=private_key, token_url=token_url, key_id=key_id)


def _token_url(reader: ExtraReader, label: str, base_url: str, allow_http: bool) -> str:
    """The ``token_url`` extra (default ``<base_url>/login/oauth2/token``), checked like the host."""
    raw = reader.text("token_url", "")
    if not raw:
        return base_url + TOKEN_PATH
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises on an invalid port
    except ValueError:
        raise CanvasConfigurationError(f"{label} has a token_url that is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if "@" in parts.netloc or scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        # The value is not quoted: it may hold credentials.
        raise CanvasConfigurationError(
            f"{label} has a token_url that is not an http(s) URL with a host and no credentials; give "
            f"Canvas's token endpoint as a full URL, e.g. {base_url}{TOKEN_PATH} or "
            f"https://sso.canvaslms.com{TOKEN_PATH}."
        )
    if scheme == "http" and not allow_http and not is_loopback(parts.hostname.lower()):
        raise CanvasConfigurationError(
            f"{label} has a plain http:// token_url, which would send its secrets unencrypted. Use https://, "
            "or set the extra allow_insecure_http=true if this host really is a trusted test server."
        )
    return raw
