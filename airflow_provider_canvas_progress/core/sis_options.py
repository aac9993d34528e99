"""The parameters of ``POST /api/v1/accounts/:account_id/sis_imports``, checked before any call.

Canvas answers some combinations with a 400 only after the upload, and a few of those 400s leave
an ``initializing`` import behind (``SisImportsApiController#create``). Others it silently ignores
(diffing in batch mode, stickiness flags without ``override_sis_stickiness``, a
``diff_row_count_threshold`` of 0). Both kinds are refused here, at DAG parse time, with a message
that says what Canvas would do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from airflow_provider_canvas_progress.core.errors import CanvasConfigurationError
from airflow_provider_canvas_progress.core.progress import shown

__all__ = [
    "ENROLLMENT_DROP_STATUSES",
    "USER_REMOVE_STATUSES",
    "SisImportOptions",
    "UploadSource",
    "parse_term_reference",
]

#: ``SIS::CSV::DiffGenerator::VALID_ENROLLMENT_DROP_STATUS``.
ENROLLMENT_DROP_STATUSES = ("deleted", "inactive", "completed", "deleted_last_completed")
#: ``SIS::CSV::DiffGenerator::VALID_USER_REMOVE_STATUS``.
USER_REMOVE_STATUSES = ("deleted", "suspended")

_TERM = re.compile(r"^(?:\d{1,19}|sis_term_id:[^\s/?#]{1,255})$")
_MAX_IDENTIFIER = 255


def parse_term_reference(value: object) -> str:
    """A term id (``12``) or SIS reference (``sis_term_id:FA26``), as ``batch_mode_term_id`` takes.

    :raises CanvasConfigurationError: for anything else.
    """
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    if not _TERM.match(text):
        raise CanvasConfigurationError(
            f"batch_mode_term_id {shown(value)} is neither a term id (12) nor an SIS reference (sis_term_id:FA26)."
        )
    return text


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise CanvasConfigurationError(f"{name} must be True or False, got {shown(value)}.")
    return value


def _percent(name: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise CanvasConfigurationError(f"{name} must be a whole percentage from 0 to 100, got {shown(value)}.")
    return value


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        # Canvas: 400 {"message": "Invalid <name>"}, and an initializing import left behind.
        raise CanvasConfigurationError(
            f"{name} must be one of {list(allowed)}, got {shown(value)} (Canvas: 'Invalid {name}')."
        )
    return str(value)


@dataclass(frozen=True)
class SisImportOptions:
    """Every create parameter of an SIS import, validated with Canvas's rules.

    :param batch_mode: replace the term's SIS data: what the import leaves out is deleted.
    :param batch_mode_term_id: the term of batch mode (``12`` or ``sis_term_id:FA26``).
    :param multi_term_batch_mode: batch mode over every term the import's courses name; needs
        ``change_threshold``.
    :param change_threshold: percent; in batch mode, more deletes than this (per object type)
        aborts the import; with diffing, a bigger size change disables diffing.
    :param diff_row_count_threshold: with diffing, more rows than this disables diffing; > 0.
    :param diffing_data_set_identifier: compare with the last import of this data set and apply
        only the difference (not with batch mode).
    :param diffing_remaster_data_set: start the data set afresh (needs the identifier).
    :param diffing_drop_status: enrollments missing from a diffed import become this.
    :param diffing_user_remove_status: users missing from a diffed import become this.
    :param batch_mode_enrollment_drop_status: enrollments missing in batch mode become this.
    :param skip_deletes: never delete anything the import leaves out.
    :param override_sis_stickiness: let the import overwrite changes made in the UI.
    :param add_sis_stickiness: mark changed fields sticky (needs override).
    :param clear_sis_stickiness: clear stickiness of touched fields (needs override).
    :param update_sis_id_if_login_claimed: replace the SIS id of a login the upload claims.
    :raises CanvasConfigurationError: on any combination Canvas refuses or would silently ignore.
    """

    batch_mode: bool = False
    batch_mode_term_id: str | int | None = None
    multi_term_batch_mode: bool = False
    change_threshold: int | None = None
    diff_row_count_threshold: int | None = None
    diffing_data_set_identifier: str | None = None
    diffing_remaster_data_set: bool = False
    diffing_drop_status: str | None = None
    diffing_user_remove_status: str | None = None
    batch_mode_enrollment_drop_status: str | None = None
    skip_deletes: bool = False
    override_sis_stickiness: bool = False
    add_sis_stickiness: bool = False
    clear_sis_stickiness: bool = False
    update_sis_id_if_login_claimed: bool = False

    def __post_init__(self) -> None:
        for name in (
            "batch_mode", "multi_term_batch_mode", "diffing_remaster_data_set", "skip_deletes",
            "override_sis_stickiness", "add_sis_stickiness", "clear_sis_stickiness", "update_sis_id_if_login_claimed",
        ):  # fmt: skip
            _flag(name, getattr(self, name))
        if self.multi_term_batch_mode and not self.batch_mode:
            # Canvas turns batch mode on for multi-term mode by itself; say so in what we send.
            object.__setattr__(self, "batch_mode", True)
        if self.batch_mode_term_id is not None:
            object.__setattr__(self, "batch_mode_term_id", parse_term_reference(self.batch_mode_term_id))
        _percent("change_threshold", self.change_threshold)
        rows = self.diff_row_count_threshold
        if rows is not None and (isinstance(rows, bool) or not isinstance(rows, int) or rows <= 0):
            raise CanvasConfigurationError(
                f"diff_row_count_threshold must be a positive whole number, got {shown(rows)} "
                "(Canvas ignores 0 or less)."
            )
        _choice("diffing_drop_status", self.diffing_drop_status, ENROLLMENT_DROP_STATUSES)
        _choice("diffing_user_remove_status", self.diffing_user_remove_status, USER_REMOVE_STATUSES)
        _choice("batch_mode_enrollment_drop_status", self.batch_mode_enrollment_drop_status, ENROLLMENT_DROP_STATUSES)
        self._check_modes()

    def _check_modes(self) -> None:
        identifier = self.diffing_data_set_identifier
        if identifier is not None and (not isinstance(identifier, str) or not identifier.strip()):
            raise CanvasConfigurationError(
                f"diffing_data_set_identifier must be a non-empty string, got {shown(identifier)}."
            )
        if identifier is not None and len(identifier) > _MAX_IDENTIFIER:
            raise CanvasConfigurationError(f"diffing_data_set_identifier is longer than {_MAX_IDENTIFIER} characters.")
        if self.batch_mode:
            if self.batch_mode_term_id is None and not self.multi_term_batch_mode:
                raise CanvasConfigurationError(
                    "batch_mode needs batch_mode_term_id (a term id or sis_term_id:...) or multi_term_batch_mode=True "
                    "(Canvas: 'Batch mode specified, but the given batch_mode_term_id cannot be found.')."
                )
            if self.batch_mode_term_id is not None and self.multi_term_batch_mode:
                raise CanvasConfigurationError(
                    "give batch_mode_term_id or multi_term_batch_mode, not both: Canvas uses the term and ignores "
                    "multi-term mode."
                )
            if identifier is not None:
                raise CanvasConfigurationError(
                    "diffing_data_set_identifier cannot be used with batch_mode: Canvas ignores diffing in batch mode."
                )
        elif self.batch_mode_term_id is not None:
            raise CanvasConfigurationError(
                "batch_mode_term_id only applies with batch_mode=True; Canvas ignores it otherwise."
            )
        if self.multi_term_batch_mode and self.change_threshold is None:
            raise CanvasConfigurationError(
                "multi_term_batch_mode needs change_threshold (Canvas: 'change_threshold is required to use multi "
                "term_batch mode.')."
            )
        if self.batch_mode_enrollment_drop_status is not None and not self.batch_mode:
            raise CanvasConfigurationError("batch_mode_enrollment_drop_status only applies with batch_mode=True.")
        if self.diffing_remaster_data_set and identifier is None:
            raise CanvasConfigurationError("diffing_remaster_data_set needs diffing_data_set_identifier.")
        if (self.add_sis_stickiness or self.clear_sis_stickiness) and not self.override_sis_stickiness:
            raise CanvasConfigurationError(
                "add_sis_stickiness and clear_sis_stickiness need override_sis_stickiness=True; Canvas ignores them "
                "otherwise."
            )

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> SisImportOptions:
        """Build from a dict (e.g. rendered DAG parameters).

        :raises CanvasConfigurationError: for an unknown parameter or a refused combination.
        """
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        if unknown:
            raise CanvasConfigurationError(f"unknown SIS import parameters {unknown}; known: {sorted(known)}.")
        return cls(**dict(values))

    def to_params(self) -> list[tuple[str, str]]:
        """The form fields of the create call: only what is set, booleans as ``true``.

        Only set flags are sent: Canvas reads the mere presence of ``multi_term_batch_mode``.
        """
        params: list[tuple[str, str]] = [("import_type", "instructure_csv")]
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None or value is False:
                continue
            params.append((name, "true" if value is True else str(value)))
        return params


_UPLOAD_KINDS = ("file", "directory", "data")


@dataclass(frozen=True)
class UploadSource:
    """What to upload: a local ``.zip``/``.csv`` file, a directory of CSVs (zipped at run time), or bytes.

    Reading happens in :mod:`airflow_provider_canvas_progress.hooks.sis_upload`; this only checks
    what can be checked before the files exist (at DAG parse time).

    :param kind: ``file``, ``directory`` or ``data``.
    :param value: the path, or the bytes (``bytes``, or base64 text as XCom carries them).
    """

    kind: str
    value: str | bytes

    def __post_init__(self) -> None:
        if self.kind not in _UPLOAD_KINDS:
            raise CanvasConfigurationError(f"upload kind must be one of {list(_UPLOAD_KINDS)}, got {shown(self.kind)}.")
        if self.kind == "data":
            if not isinstance(self.value, (bytes, str)) or not self.value:
                raise CanvasConfigurationError("sis_data must be non-empty bytes (or base64 text from XCom).")
            return
        if not isinstance(self.value, str) or not self.value.strip() or "\x00" in self.value:
            raise CanvasConfigurationError(f"the {self.kind} path must be a non-empty string, got {shown(self.value)}.")
        if self.kind == "file" and not self.value.lower().endswith((".zip", ".csv")) and "{{" not in self.value:
            raise CanvasConfigurationError(
                f"sis_file {shown(self.value, 300)} must end in .zip or .csv: Canvas reads only those "
                "(anything else imports "
                "nothing)."
            )

    @classmethod
    def choose(cls, *, file: str | None, directory: str | None, data: bytes | str | None) -> UploadSource:
        """Exactly one of the three, or a clear error."""
        given = [(k, v) for k, v in (("file", file), ("directory", directory), ("data", data)) if v is not None]
        if len(given) != 1:
            raise CanvasConfigurationError(
                "give exactly one of sis_file (a .zip or .csv), sis_directory (a folder of CSVs, zipped at run time) "
                f"or sis_data (bytes); got {[k for k, _ in given] or 'none'}."
            )
        kind, value = given[0]
        return cls(kind, value)
