"""``POST /api/v1/accounts/:id/sis_imports``: reading the upload and the create parameters.

Follows ``SisImportsApiController#create`` step by step: the file is the multipart ``attachment``
or the raw body (named ``sis_import.<extension>``, the extension from the parameter or from the
content type, ``zip`` when unknown); batch mode needs an active term or multi-term mode; then,
*inside* the batch's create block (so a refusal there leaves an ``initializing`` batch behind), the
thresholds, diffing and stickiness options and the enumerated drop statuses.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass, field
from typing import Any

from .sis_import import BatchOptions, SisRegistry

__all__ = ["CreateRefusal", "CreateRequest", "Upload", "parse_multipart", "read_create", "value_to_boolean"]

_EXTENSIONS = {"application/zip": "zip", "text/xml": "xml", "text/plain": "csv", "text/csv": "csv"}
ENROLLMENT_DROP_STATUSES = ("deleted", "inactive", "completed", "deleted_last_completed")
USER_REMOVE_STATUSES = ("deleted", "suspended")


def value_to_boolean(value: Any) -> bool:
    """``Canvas::Plugin.value_to_boolean``: ``true``, ``1``, ``yes``, ``on`` (any case) are true."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on", "t", "y")


@dataclass(frozen=True)
class Upload:
    """The uploaded file: its bytes and the name the import reads it by."""

    data: bytes
    filename: str


@dataclass(frozen=True)
class CreateRefusal:
    """A refusal: status, JSON body, and whether an ``initializing`` batch stays behind."""

    status: int
    body: Any
    leaves_batch: bool = False


@dataclass
class CreateRequest:
    """What create keeps: options as served, the import's batch options, the upload."""

    upload: Upload
    options: dict[str, Any] = field(default_factory=dict)
    batch: BatchOptions = field(default_factory=BatchOptions)


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, str], dict[str, Upload]]:
    """Split a ``multipart/form-data`` body into text fields and files."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    if not message.is_multipart():
        return fields, files
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = Upload(data, filename)
        else:
            fields[name] = data.decode("utf-8", errors="replace")
    return fields, files


def _raw_upload(body: bytes, params: dict[str, Any], content_type_header: str) -> Upload | CreateRefusal:
    extension = params.get("extension")
    if extension:
        return Upload(body, f"sis_import.{extension}")
    media_type, _, rest = content_type_header.partition(";")
    charset = next(
        (p.split("=", 1)[1].strip().strip('"') for p in rest.split(";") if p.strip().lower().startswith("charset=")),
        "",
    )
    if charset and charset.lower() != "utf-8":
        return CreateRefusal(400, {"error": "Invalid content type, UTF-8 required"})
    return Upload(body, f"sis_import.{_EXTENSIONS.get(media_type.strip().lower(), 'zip')}")


def _integer(value: Any) -> int | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    return sign * int(digits) if digits.isdigit() else 0


def read_create(
    params: dict[str, Any],
    *,
    body: bytes,
    content_type_header: str,
    files: dict[str, Upload],
    registry: SisRegistry,
) -> CreateRequest | CreateRefusal:
    """Validate a create call the way Canvas does, in Canvas's order.

    :param params: the merged query and form parameters (multipart fields included).
    :param files: the multipart files; empty for a raw upload.
    """
    if "attachment" in files:
        upload: Upload | CreateRefusal = files["attachment"]
    elif content_type_header.split(";")[0].strip().lower() == "multipart/form-data":
        return CreateRefusal(400, {"error": True, "error_message": "Missing attachment"})
    else:
        upload = _raw_upload(body, params, content_type_header)
    if isinstance(upload, CreateRefusal):
        return upload
    request = CreateRequest(upload)
    term_id: int | None = None
    if value_to_boolean(params.get("batch_mode", "")):
        reference = str(params.get("batch_mode_term_id") or "").strip()
        if reference:
            term = registry.term(reference)
            if term is None:
                return CreateRefusal(404, None)  # api_find: the standard 404
            term_id = term.id
        if term_id is None and "multi_term_batch_mode" not in params:
            return CreateRefusal(
                400, {"message": "Batch mode specified, but the given batch_mode_term_id cannot be found."}
            )
    options = request.options
    threshold = _integer(params.get("change_threshold"))
    options["change_threshold"] = threshold
    row_threshold = _integer(params.get("diff_row_count_threshold"))
    if row_threshold is not None and row_threshold > 0:
        options["diff_row_count_threshold"] = row_threshold
    multi_term = False
    if term_id is not None:
        pass
    elif "multi_term_batch_mode" in params:
        multi_term = True
        options["multi_term_batch_mode"] = value_to_boolean(params["multi_term_batch_mode"])
        if threshold is None:
            return CreateRefusal(400, {"message": "change_threshold is required to use multi term_batch mode."}, True)
    elif str(params.get("diffing_data_set_identifier") or "").strip():
        options["diffing_data_set_identifier"] = str(params["diffing_data_set_identifier"])
        options["diffing_remaster"] = value_to_boolean(params.get("diffing_remaster_data_set", ""))
    options["skip_deletes"] = value_to_boolean(params.get("skip_deletes", ""))
    options["update_sis_id_if_login_claimed"] = value_to_boolean(params.get("update_sis_id_if_login_claimed", ""))
    if value_to_boolean(params.get("override_sis_stickiness", "")):
        options["override_sis_stickiness"] = True
        for flag in ("add_sis_stickiness", "clear_sis_stickiness"):
            if value_to_boolean(params.get(flag, "")):
                options[flag] = True
    for name, allowed in (
        ("diffing_drop_status", ENROLLMENT_DROP_STATUSES),
        ("diffing_user_remove_status", USER_REMOVE_STATUSES),
        ("batch_mode_enrollment_drop_status", ENROLLMENT_DROP_STATUSES),
    ):
        raw = params.get(name)
        if raw in (None, "", []):
            continue
        values = raw if isinstance(raw, list) else [raw]
        chosen = next((v for v in values if v in allowed), None)
        if chosen is None:
            return CreateRefusal(400, {"message": f"Invalid {name}"}, True)
        options[name] = chosen
    request.batch = BatchOptions(
        batch_mode=term_id is not None or multi_term,
        batch_term_id=term_id,
        multi_term=multi_term and bool(options.get("multi_term_batch_mode")),
        change_threshold=threshold,
        skip_deletes=bool(options["skip_deletes"]),
        batch_enrollment_drop_status=str(options.get("batch_mode_enrollment_drop_status") or "deleted"),
    )
    return request
