"""The connection form loads in the Airflow that is installed: ProvidersManager sees every field.

Airflow >= 3.2 reads the form from the provider info (``conn-fields``, ``ui-field-behaviour``) without
importing the hook; Airflow 2 calls the hook's ``get_connection_form_widgets`` /
``get_ui_field_behaviour``, and so do Airflow 3.0 and 3.1, but only when Flask AppBuilder and WTForms
are installed: without them (a plain Airflow 3.0/3.1) the UI shows the generic form, and the auth
settings are typed into the Extra field as JSON. The ProvidersManager runs in a fresh interpreter, as in
a webserver or API server, so nothing this test process imported or cached can help it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from importlib import resources
from typing import Any

import pytest

from airflow_provider_canvas_progress import connection_form
from airflow_provider_canvas_progress.get_provider_info import get_provider_info
from airflow_provider_canvas_progress.hooks.canvas import CanvasHook

SECRET_FIELDS = {"client_secret", "refresh_token", "private_key"}
ALL_FIELDS = {"auth_type", "client_id", "client_secret", "refresh_token", "private_key", "key_id", "token_url"}

PROBE = textwrap.dedent(
    """
    import json, warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from airflow.providers_manager import ProvidersManager
        pm = ProvidersManager()
        widgets = {k: v for k, v in pm.connection_form_widgets.items() if k.startswith("extra__canvas__")}
        behaviour = pm.field_behaviours.get("canvas")
        hook = pm.hooks.get("canvas")
    out = {
        "widgets": {
            k: {"field_name": v.field_name, "is_sensitive": v.is_sensitive, "dict": isinstance(v.field, dict),
                "field_class": getattr(getattr(v.field, "field_class", None), "__name__", None),
                "title": v.field.get("schema", {}).get("title") if isinstance(v.field, dict) else str(v.field.args[0])}
            for k, v in widgets.items()
        },
        "behaviour": behaviour,
        "hook": None if hook is None else [hook.hook_name, hook.connection_testable, hook.hook_class_name],
        "warnings": [str(w.message) for w in caught if "canvas" in str(w.message).lower()],
    }
    try:
        from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
    except ImportError:
        out["hook_meta"] = None
    else:
        out["hook_meta"] = [m.model_dump() for m in HookMetaService.hook_meta_data() if m.connection_type == "canvas"]
    print("PROBE" + json.dumps(out, default=str))
    """
)


@pytest.fixture(scope="module")
def seen() -> dict[str, Any]:
    """What a fresh Airflow process's ProvidersManager reports for the ``canvas`` connection type."""
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=240, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE")]
    assert lines, f"the probe failed:\n{done.stderr[-3000:]}"
    result: dict[str, Any] = json.loads(lines[-1][len("PROBE") :])
    return result


def _airflow_3() -> bool:
    from airflow_provider_canvas_progress.compat import AIRFLOW_V_3_0_PLUS

    return bool(AIRFLOW_V_3_0_PLUS)


def _airflow_3_2() -> bool:
    from airflow_provider_canvas_progress.compat import AIRFLOW_V_3_2_PLUS

    return bool(AIRFLOW_V_3_2_PLUS)


def _form_shown() -> bool:
    from airflow_provider_canvas_progress.compat import CONNECTION_FORM_SHOWN

    return CONNECTION_FORM_SHOWN


needs_the_form = pytest.mark.skipif(
    not _form_shown(), reason="Airflow 3.0/3.1 without Flask AppBuilder and WTForms shows no provider form"
)
without_the_form = pytest.mark.skipif(
    _form_shown(), reason="this Airflow shows the provider's form (Airflow 2, 3.2+, or 3.0/3.1 with FAB)"
)


@needs_the_form
def test_providers_manager_sees_every_auth_field(seen: dict[str, Any]) -> None:
    assert {w["field_name"] for w in seen["widgets"].values()} == ALL_FIELDS
    assert set(seen["widgets"]) == {f"extra__canvas__{name}" for name in ALL_FIELDS}


@needs_the_form
def test_secret_fields_are_sensitive_and_the_others_are_not(seen: dict[str, Any]) -> None:
    sensitive = {w["field_name"] for w in seen["widgets"].values() if w["is_sensitive"]}

    assert sensitive == SECRET_FIELDS


@needs_the_form
def test_standard_fields_are_relabelled_hidden_and_have_placeholders(seen: dict[str, Any]) -> None:
    behaviour = seen["behaviour"]

    assert set(behaviour["hidden_fields"]) == {"schema", "login", "port"}
    assert behaviour["relabeling"]["host"] == "Canvas base URL"
    assert behaviour["placeholders"]["host"] == "https://<school>.instructure.com"
    assert behaviour["placeholders"]["extra__canvas__token_url"].endswith("/login/oauth2/token")


@needs_the_form
def test_the_hook_is_registered_and_testable(seen: dict[str, Any]) -> None:
    assert seen["hook"] == ["Canvas LMS", True, "airflow_provider_canvas_progress.hooks.canvas.CanvasHook"]


@needs_the_form
def test_labels_are_the_forms_own(seen: dict[str, Any]) -> None:
    titles = {w["field_name"]: w["title"] for w in seen["widgets"].values()}

    assert titles == {f.name: f.label for f in connection_form.FIELDS}


@needs_the_form
@pytest.mark.skipif(not _airflow_3(), reason="Airflow 3 reads the form from the provider info")
def test_airflow_3_reads_the_form_from_provider_info_without_calling_the_hook(seen: dict[str, Any]) -> None:
    assert all(w["dict"] for w in seen["widgets"].values())  # the provider-info (YAML) path
    assert seen["warnings"] == []  # no "get_ui_field_behaviour() is deprecated" for this hook


@needs_the_form
@pytest.mark.skipif(not _airflow_3(), reason="the /ui/connections/hook_meta service is Airflow 3's")
def test_airflow_3_ui_hook_meta_serves_the_form(seen: dict[str, Any]) -> None:
    (meta,) = seen["hook_meta"]
    extra = meta["extra_fields"]

    assert set(extra) == ALL_FIELDS
    assert extra["auth_type"]["schema"]["enum"] == ["token", "oauth2_refresh", "lti_advantage"]
    assert extra["auth_type"]["value"] == "token"
    assert {name for name, f in extra.items() if f["schema"].get("format") == "password"} == SECRET_FIELDS
    assert meta["standard_fields"]["host"] == {
        "hidden": False,
        "title": "Canvas base URL",
        "placeholder": "https://<school>.instructure.com",
    }
    assert meta["standard_fields"]["login"]["hidden"] is True


@pytest.mark.skipif(not _airflow_3_2(), reason="Airflow < 3.2 shows placeholders on the extra fields too")
def test_airflow_3_2_ui_carries_extra_field_hints_in_the_schema_and_description(seen: dict[str, Any]) -> None:
    (meta,) = seen["hook_meta"]
    extra = meta["extra_fields"]
    token_url = extra["token_url"]

    assert token_url["schema"]["examples"] == ["https://<school>.instructure.com/login/oauth2/token"]
    assert token_url["description"].endswith("Example: https://<school>.instructure.com/login/oauth2/token")
    assert extra["client_id"]["schema"]["examples"] == ["10000000000001"]
    assert "examples" not in extra["auth_type"]["schema"]  # a drop-down lists its values itself


@without_the_form
def test_airflow_3_0_and_3_1_without_fab_show_the_generic_form(seen: dict[str, Any]) -> None:
    assert seen["widgets"] == {}
    assert seen["behaviour"] is None  # no relabelled Host, no hidden Login: the generic form


@without_the_form
def test_airflow_3_0_and_3_1_without_fab_read_the_auth_fields_from_the_extra_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = {
        "auth_type": "oauth2_refresh",
        "client_id": "10000000000001",
        "client_secret": "s3cret",
        "refresh_token": "r",
    }
    conn = {"conn_type": "canvas", "host": "https://school.instructure.com", "extra": json.dumps(extra)}
    monkeypatch.setenv("AIRFLOW_CONN_CANVAS_JSON_EXTRAS", json.dumps(conn))

    settings = CanvasHook(canvas_conn_id="canvas_json_extras").settings

    assert settings.auth_type == "oauth2_refresh"
    assert settings.unknown_extras == ()


@pytest.mark.skipif(_airflow_3(), reason="Airflow 2 builds the form from the hook's WTForms fields")
def test_airflow_2_builds_the_form_from_the_hooks_wtforms_fields(seen: dict[str, Any]) -> None:
    classes = {w["field_name"]: w["field_class"] for w in seen["widgets"].values()}

    assert {name for name, cls in classes.items() if cls == "PasswordField"} == SECRET_FIELDS
    assert {name for name, cls in classes.items() if cls == "StringField"} == ALL_FIELDS - SECRET_FIELDS


def test_provider_info_validates_against_the_installed_airflows_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(resources.files("airflow").joinpath("provider_info.schema.json").read_text())

    jsonschema.validate(get_provider_info(), schema)


def test_connection_type_matches_airflow_3s_provider_yaml_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    path = resources.files("airflow").joinpath("provider.yaml.schema.json")
    if not path.is_file():
        pytest.skip("this Airflow ships no provider.yaml schema")
    item_schema = json.loads(path.read_text())["properties"]["connection-types"]["items"]
    if "conn-fields" not in item_schema.get("properties", {}):
        pytest.skip("this Airflow's provider.yaml has no conn-fields (before 3.2)")

    jsonschema.validate(get_provider_info()["connection-types"][0], item_schema)


def test_hook_methods_and_provider_info_describe_the_same_form() -> None:
    (conn_type,) = get_provider_info()["connection-types"]
    behaviour = CanvasHook.get_ui_field_behaviour()

    assert conn_type["connection-type"] == CanvasHook.conn_type
    assert conn_type["hook-name"] == CanvasHook.hook_name
    assert conn_type["ui-field-behaviour"]["hidden-fields"] == behaviour["hidden_fields"]
    assert conn_type["ui-field-behaviour"]["relabeling"] == behaviour["relabeling"]
    assert conn_type["ui-field-behaviour"]["placeholders"] == behaviour["placeholders"]
    assert set(conn_type["conn-fields"]) == ALL_FIELDS


def test_every_form_field_is_an_extra_the_connection_reads() -> None:
    from airflow_provider_canvas_progress.core.settings import KNOWN_EXTRAS

    assert {f.name for f in connection_form.FIELDS} <= KNOWN_EXTRAS
