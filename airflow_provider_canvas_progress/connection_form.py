"""The ``canvas`` connection form, described once and rendered for each Airflow.

Airflow reads a connection form from two places, depending on its version (read in
``airflow/providers_manager.py``):

* Airflow >= 3.2 loads it from the provider info, without importing the hook:
  ``connection-types[].conn-fields`` (custom fields, JSON-schema style) and
  ``connection-types[].ui-field-behaviour`` (hidden, relabelled and placeholder standard fields).
  When either is present, the hook's methods below are not called at all; the 3.x UI
  (``/ui/connections/hook_meta``) serves only this metadata. That UI shows placeholders on standard
  fields only, so a custom field's hint travels in its schema's ``examples`` and its description.
* Airflow 3.0 and 3.1 call the hook as Airflow 2 does, but only when Flask AppBuilder and WTForms are
  installed (the FAB provider); without them the UI shows its generic form and the auth settings go in
  the Extra field as JSON (:data:`~airflow_provider_canvas_progress.compat.CONNECTION_FORM_SHOWN`).
* Airflow 2.x imports the hook and calls ``get_ui_field_behaviour()`` and
  ``get_connection_form_widgets()`` (WTForms fields; only String, Password, Integer and Boolean
  fields are accepted). It ignores the provider-info keys it does not know.

So the fields are data here (:data:`FIELDS`), and :func:`provider_info_connection_type`,
:func:`ui_field_behaviour` and :func:`connection_form_widgets` render them. Secret fields are
password fields in both, so Airflow masks them in the UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_provider_canvas_progress.core.auth import AUTH_TOKEN, AUTH_TYPES, TOKEN_PATH

__all__ = [
    "FIELDS",
    "FormField",
    "connection_form_widgets",
    "provider_info_connection_type",
    "ui_field_behaviour",
]

CONN_TYPE = "canvas"
HOOK_CLASS = "airflow_provider_canvas_progress.hooks.canvas.CanvasHook"
HOOK_NAME = "Canvas LMS"


@dataclass(frozen=True)
class FormField:
    """One custom field of the connection form, stored in the connection's extras under ``name``.

    :param secret: shown as a password field and masked.
    :param choices: the allowed values (a drop-down on Airflow 3).
    :param placeholder: an example value: the empty field's hint on Airflow < 3.2, the field schema's
        ``examples`` and the end of its description on Airflow >= 3.2.
    """

    name: str
    label: str
    description: str
    secret: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None
    placeholder: str | None = None


FIELDS: tuple[FormField, ...] = (
    FormField(
        "auth_type",
        "Auth type",
        "token: the Password is a Canvas access token. oauth2_refresh: a developer key (Client ID, Client "
        "secret) and a user's refresh token; access tokens are renewed automatically. lti_advantage: an LTI "
        "Advantage developer key (Client ID, private key), for reading Progress through the LTI endpoint.",
        choices=AUTH_TYPES,
        default=AUTH_TOKEN,
        placeholder="token | oauth2_refresh | lti_advantage",
    ),
    FormField(
        "client_id",
        "Client ID",
        "oauth2_refresh and lti_advantage: the developer key's ID (Admin > Developer Keys, under Details).",
        placeholder="10000000000001",
    ),
    FormField(
        "client_secret",
        "Client secret",
        "oauth2_refresh: the developer key's secret (Admin > Developer Keys > Show Key).",
        secret=True,
    ),
    FormField(
        "refresh_token",
        "Refresh token",
        "oauth2_refresh: the refresh_token Canvas returned when the user authorized the developer key.",
        secret=True,
    ),
    FormField(
        "private_key",
        "LTI private key",
        "lti_advantage: the tool's RSA private key, PEM or private JWK; its public JWK is registered on the "
        "LTI developer key. Line breaks lost in pasting are restored.",
        secret=True,
    ),
    FormField(
        "key_id",
        "LTI key ID (kid)",
        "lti_advantage, optional: the kid of the key, when the developer key uses a JWK set URL.",
    ),
    FormField(
        "token_url",
        "Token URL",
        f"oauth2_refresh and lti_advantage, optional: Canvas's token endpoint. Default: <Canvas base URL>"
        f"{TOKEN_PATH}; hosted Canvas LTI keys may need https://sso.canvaslms.com{TOKEN_PATH}.",
        placeholder=f"https://<school>.instructure.com{TOKEN_PATH}",
    ),
)

HIDDEN_FIELDS = ("schema", "login", "port")
RELABELING = {"host": "Canvas base URL", "password": "API access token (auth type token)"}
PLACEHOLDERS = {
    "host": "https://<school>.instructure.com",
    "password": "Canvas access token (Account > Settings > New Access Token)",
    "extra": '{"timeout": 30, "max_attempts": 6, "verify": true}',
}


def _field_placeholders() -> dict[str, str]:
    return {f.name: f.placeholder for f in FIELDS if f.placeholder}


def ui_field_behaviour() -> dict[str, Any]:
    """``get_ui_field_behaviour()`` for Airflow 2 (unprefixed extra names; Airflow adds the prefix)."""
    return {
        "hidden_fields": list(HIDDEN_FIELDS),
        "relabeling": dict(RELABELING),
        "placeholders": {**PLACEHOLDERS, **_field_placeholders()},
    }


def connection_form_widgets() -> dict[str, Any]:
    """``get_connection_form_widgets()`` for Airflow 2: WTForms fields, imported only when asked for.

    :raises ImportError: Flask AppBuilder or WTForms is not installed (Airflow 3 has neither, and
        never calls this when the provider info carries the form).
    """
    from flask_appbuilder.fieldwidgets import BS3PasswordFieldWidget, BS3TextFieldWidget
    from flask_babel import lazy_gettext
    from wtforms import PasswordField, StringField
    from wtforms.validators import Optional, any_of

    widgets: dict[str, Any] = {}
    for f in FIELDS:
        validators = [Optional(), any_of(list(f.choices))] if f.choices else [Optional()]
        if f.secret:
            widgets[f.name] = PasswordField(
                lazy_gettext(f.label), widget=BS3PasswordFieldWidget(), description=f.description, validators=validators
            )
        else:
            widgets[f.name] = StringField(
                lazy_gettext(f.label),
                widget=BS3TextFieldWidget(),
                description=f.description,
                validators=validators,
                default=f.default,
            )
    return widgets


def _conn_field(f: FormField) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["string", "null"]}
    description = f.description
    if f.secret:
        schema["format"] = "password"
    if f.choices:
        schema["enum"] = list(f.choices)
    if f.default is not None:
        schema["default"] = f.default
    if f.placeholder and not f.choices:  # a drop-down needs no example
        # Airflow >= 3.2 applies ui-field-behaviour placeholders to standard fields only.
        schema["examples"] = [f.placeholder]
        description = f"{description} Example: {f.placeholder}"
    return {"label": f.label, "description": description, "schema": schema}


def provider_info_connection_type() -> dict[str, Any]:
    """The ``connection-types`` entry of the provider info, with the form for Airflow >= 3.2."""
    return {
        "connection-type": CONN_TYPE,
        "hook-class-name": HOOK_CLASS,
        "hook-name": HOOK_NAME,
        "conn-fields": {f.name: _conn_field(f) for f in FIELDS},
        "ui-field-behaviour": {
            "hidden-fields": list(HIDDEN_FIELDS),
            "relabeling": dict(RELABELING),
            "placeholders": {**PLACEHOLDERS, **_field_placeholders()},
        },
    }
