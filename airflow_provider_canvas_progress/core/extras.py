"""Reading a connection's extras: typed values in sane ranges, and secrets fit for a header.

Every message names the connection and the extra, and never quotes a secret's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_canvas_progress.core.auth import Credentials, OAuth2RefreshCredentials
from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.progress import shown

__all__ = ["EXTRA_RANGES", "ExtraReader", "check_header_safe", "strip_prefixes"]

#: The sane range of each numeric extra: (minimum, maximum). A value outside is refused when the
#: connection is read, naming the extra, rather than e.g. ``retry_wait_max=1e300`` sleeping forever.
EXTRA_RANGES: dict[str, tuple[float, float]] = {
    "timeout": (0.1, 600.0),
    "max_attempts": (1, 50),
    "retry_wait_initial": (0.0, 600.0),
    "retry_wait_max": (0.0, 3600.0),
    "max_in_flight": (1, 256),
    "rate_limit_low_water": (0.0, 600.0),
    "max_response_bytes": (1024, 64 * 1024 * 1024),
}


def check_header_safe(label: str, *, token: str, credentials: Credentials | None) -> None:
    """Refuse secrets that cannot travel in an HTTP header or form unmangled, without quoting them.

    A token with a line break would split the Authorization header (header injection); a
    non-latin-1 character makes the HTTP client raise ``UnicodeEncodeError`` quoting the header,
    token included. Checked when the connection is read, so the message names the field instead.
    """
    fields: list[tuple[str, str]] = [("Password (the access token)", token)]
    if isinstance(credentials, OAuth2RefreshCredentials):
        fields += [
            ("client_secret extra", credentials.client_secret),
            ("refresh_token extra", credentials.refresh_token),
        ]
    if credentials is not None:
        fields.append(("client_id extra", credentials.client_id))
    for name, value in fields:
        if any(ord(char) < 0x20 or ord(char) == 0x7F or ord(char) > 0xFF for char in value):
            raise CanvasConfigurationError(
                f"{label}'s {name} contains a line break, a control character or a character outside "
                "latin-1, which cannot be sent in an HTTP header. It is not shown here; paste the value "
                "again without surrounding text or line breaks."
            )


def strip_prefixes(extras: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in extras.items():
        name = key.removeprefix("extra__canvas__")
        if value is None or value == "":
            continue
        out[name] = value
    return out


class ExtraReader:
    """Reads typed values out of a connection's extras, with messages that name the field."""

    def __init__(self, extra: Mapping[str, Any], label: str) -> None:
        self.extra = extra
        self.label = label

    def _bad(self, key: str, expected: str) -> CanvasConfigurationError:
        return CanvasConfigurationError(
            f"{self.label} has extra {key}={shown(self.extra[key])}; expected {expected}. "
            "Fix it in the connection's Extra field."
        )

    def text(self, key: str, default: str) -> str:
        value = self.extra.get(key, default)
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value.strip()

    def required(self, key: str, missing: str, *, allow_int: bool = False) -> str:
        """A non-empty string extra (a secret's value is never quoted in the message)."""
        value = self.extra.get(key)
        if allow_int and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None:
            raise CanvasConfigurationError(missing)
        if not isinstance(value, str):
            raise CanvasConfigurationError(
                f"{self.label} has a {key} extra that is not a string ({type(value).__name__}). "
                "Fix it in the connection's Extra field."
            )
        if not value.strip():
            raise CanvasConfigurationError(missing)
        return value.strip()

    def boolean(self, key: str, default: bool) -> bool:
        value = self.extra.get(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no"):
            return value.strip().lower() in ("true", "1", "yes")
        raise self._bad(key, "true or false")

    def number(self, key: str, default: float, *, minimum: float, integer: bool = False) -> float:
        value = self.extra.get(key, default)
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise self._bad(key, "a whole number" if integer else "a number") from None
        if number != number or number < minimum or (integer and not number.is_integer()):
            kind = "a whole number" if integer else "a number"
            raise self._bad(key, f"{kind} of at least {minimum:g}")
        return number

    def bounded(self, key: str, default: float, *, integer: bool = False) -> float:
        """A number within :data:`EXTRA_RANGES`; outside it, a clear error naming the extra and the range."""
        minimum, maximum = EXTRA_RANGES[key]
        number = self.number(key, default, minimum=minimum, integer=integer)
        if number > maximum:
            kind = "a whole number" if integer else "a number"
            raise CanvasConfigurationError(
                f"{self.label} has extra {key} above {maximum:.15g}; "
                f"expected {kind} from {minimum:.15g} to {maximum:.15g}. "
                "Fix it in the connection's Extra field."
            )
        return number

    def verify(self) -> bool | str:
        value = self.extra.get("verify", True)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            if value.strip():
                return value.strip()  # a CA bundle path
        raise self._bad("verify", "true, false, or the path of a CA bundle")
