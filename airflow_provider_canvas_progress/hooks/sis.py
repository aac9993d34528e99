"""The SIS import calls of :class:`~airflow_provider_canvas_progress.hooks.canvas.CanvasHook` (mixed in).

Every call goes through the hook's one call path (retries, throttle, typed errors, no token in
messages); ids reach URL paths only through :func:`~airflow_provider_canvas_progress.core.paths.segment`.
Two calls need more than a JSON request:

* **create** streams a multipart body (:class:`MultipartBody`) from the upload, never holding the
  file in memory, on a hook whose per-attempt time limit is the upload's;
* **the errors file** is downloaded from wherever Canvas's signed link leads (a ``/files`` URL that
  redirects to the storage host): with **no** Authorization header (the link's verifier is the
  permission, and a storage host must never see the token), following redirects only there, and
  bounded in bytes and time.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, cast

from airflow_provider_canvas_progress.core.errors import (
    CanvasConfigurationError,
    CanvasResponseError,
)
from airflow_provider_canvas_progress.core.kinds.sis_import import SisImportRef, account_segment
from airflow_provider_canvas_progress.core.pagination import DEFAULT_MAX_PAGES, Pages, next_link
from airflow_provider_canvas_progress.core.progress import Progress, parse_progress, shown
from airflow_provider_canvas_progress.core.protocol import (
    CanvasRequest,
    CanvasResponse,
    build_request,
    interpret_response,
)
from airflow_provider_canvas_progress.core.sis import SisImport, SisImportState, parse_sis_import
from airflow_provider_canvas_progress.core.sis_options import SisImportOptions, UploadSource
from airflow_provider_canvas_progress.hooks.downloads import download_without_token
from airflow_provider_canvas_progress.hooks.sis_upload import OpenUpload, open_upload

__all__ = ["DEFAULT_ERRORS_FILE_BYTES", "MultipartBody", "SisImportCalls"]

#: Largest errors file downloaded by default (a night with every row refused is a few MB).
DEFAULT_ERRORS_FILE_BYTES = 64 * 1024 * 1024
#: Per-attempt time limit of the upload (the connection extra ``timeout``'s ceiling).
DEFAULT_UPLOAD_TIMEOUT = 600.0


class MultipartBody(io.RawIOBase):
    """A ``multipart/form-data`` body read on demand: the fields, then the file in chunks, then the end.

    ``len()`` is known in advance, so the request carries a ``Content-Length`` and nothing is
    buffered; requests and urllib3 read it like a file.
    """

    def __init__(
        self, fields: Iterable[tuple[str, str]], upload: OpenUpload, *, file_field: str = "attachment"
    ) -> None:
        super().__init__()
        self.boundary = f"canvas-sis-{secrets.token_hex(16)}"
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields
        )
        filename = upload.filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
            f"Content-Type: {upload.content_type}\r\n\r\n"
        ).encode()
        tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._parts: list[Any] = [io.BytesIO(head), upload.stream, io.BytesIO(tail)]
        self._length = len(head) + upload.size + len(tail)
        self._position = 0

    @property
    def content_type(self) -> str:
        """The request's ``Content-Type``, boundary included."""
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        # requests sizes a body as len() minus tell(); io's default tell() would raise, and the
        # body would go out chunked, which some proxies in front of Canvas refuse.
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        while self._parts:
            data = self._parts[0].read(len(view))
            if data:
                view[: len(data)] = data
                self._position += len(data)
                return len(data)
            self._parts.pop(0)
        return 0


class SisImportCalls:
    """SIS import calls; mixed into :class:`~airflow_provider_canvas_progress.hooks.canvas.CanvasHook`."""

    canvas_conn_id: str
    log: Any

    # -- provided by CanvasHook -----------------------------------------------------------------
    settings: Any
    request: Any
    arequest: Any
    _run: Any

    def create_sis_import(
        self,
        account_id: object,
        source: UploadSource,
        options: SisImportOptions | None = None,
        *,
        upload_timeout: float = DEFAULT_UPLOAD_TIMEOUT,
    ) -> SisImport:
        """Upload ``source`` and start an SIS import on a root account (``POST .../sis_imports``).

        The upload is one attempt per try of at most ``upload_timeout`` seconds; a POST that may have
        reached Canvas is never sent again (it would start a second import).

        :param account_id: the root account (an id, ``sis_account_id:…`` or ``self``).
        :param source: the file, directory or bytes (see :class:`~.core.sis_options.UploadSource`).
        :param options: the create parameters, already validated.
        :raises CanvasValidationError: Canvas refused a parameter (its message is kept).
        :raises CanvasPermissionError: the connection lacks ``import_sis``, or SIS imports are off.
        """
        account = account_segment(account_id)
        path = f"/api/v1/accounts/{account}/sis_imports"
        fields = (options or SisImportOptions()).to_params()
        uploader = type(self)(self.canvas_conn_id, timeout=upload_timeout)  # type: ignore[call-arg]
        with open_upload(source) as upload:
            body = MultipartBody(fields, upload)
            call = build_request(uploader.settings, "POST", path)
            # The body is a stream, not form pairs: the transport hands it to requests as is.
            call = replace(call, headers={**call.headers, "Content-Type": body.content_type}, data=cast(Any, body))
            self.log.info("Uploading %s (%d bytes) to %s", upload.filename, upload.size, call.label)
            raw = uploader._run(call)
        return parse_sis_import(raw, source=call.label)

    def get_sis_import(self, account_id: object, sis_import_id: object) -> SisImport:
        """Read an import (``GET .../sis_imports/:id``)."""
        ref = SisImportRef.of(account_id, sis_import_id)
        return parse_sis_import(self.request("GET", ref.api_path), source=f"GET {ref.api_path}")

    async def aget_sis_import(self, account_id: object, sis_import_id: object) -> SisImport:
        """Async twin of :meth:`get_sis_import`."""
        ref = SisImportRef.of(account_id, sis_import_id)
        return parse_sis_import(await self.arequest("GET", ref.api_path), source=f"GET {ref.api_path}")

    def _wrapped_pages(self, endpoint: str, key: str, params: Any, max_pages: int) -> list[Any]:
        """A paginated list Canvas wraps in an object (``{"sis_imports": [...]}``)."""
        pages = Pages(self.settings, endpoint, params, max_pages=max_pages)
        while (call := pages.next_call()) is not None:

            def read(response: CanvasResponse, call: CanvasRequest = call) -> tuple[Any, str | None]:
                payload = interpret_response(call, response)
                items = payload.get(key) if isinstance(payload, Mapping) else None
                if not isinstance(items, list):
                    raise CanvasResponseError(f"{call.label} answered without a {shown(key)} list.", path=call.path)
                return items, next_link(response, self.settings, call)

            pages.add(call, self._run(call, read))
        return pages.items

    def list_sis_imports(
        self,
        account_id: object,
        *,
        workflow_states: Iterable[str] | None = None,
        created_since: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> list[SisImport]:
        """The account's imports, newest first (``GET .../sis_imports``, every page)."""
        params: list[tuple[str, Any]] = [("per_page", 100)]
        for state in workflow_states or ():
            params.append(("workflow_state[]", SisImportState.parse(state).value))
        if created_since is not None:
            params.append(("created_since", created_since))
        path = f"/api/v1/accounts/{account_segment(account_id)}/sis_imports"
        return [
            parse_sis_import(item, source=f"GET {path}")
            for item in self._wrapped_pages(path, "sis_imports", params, max_pages)
        ]

    def get_running_sis_imports(self, account_id: object) -> list[SisImport]:
        """The imports a job is working on now (``GET .../sis_imports/importing``)."""
        path = f"/api/v1/accounts/{account_segment(account_id)}/sis_imports/importing"
        payload = self.request("GET", path)
        items = payload.get("sis_imports") if isinstance(payload, Mapping) else None
        if not isinstance(items, list):
            raise CanvasResponseError(f"GET {path} answered without a 'sis_imports' list.", path=path)
        return [parse_sis_import(item, source=f"GET {path}") for item in items]

    def abort_sis_import(self, account_id: object, sis_import_id: object) -> SisImport:
        """Abort an import that has not completed (``PUT .../abort``).

        The raw call: a finished import answers 404, raised as
        :class:`~airflow_provider_canvas_progress.core.errors.CanvasNotFoundError`;
        :class:`~airflow_provider_canvas_progress.operators.sis.CanvasSisImportAbortOperator` reads first.
        """
        ref = SisImportRef.of(account_id, sis_import_id)
        path = f"{ref.api_path}/abort"
        return parse_sis_import(self.request("PUT", path), source=f"PUT {path}")

    def abort_all_pending_sis_imports(self, account_id: object) -> bool:
        """Abort every import not yet running (``PUT .../abort_all_pending``); Canvas's ``aborted`` flag."""
        path = f"/api/v1/accounts/{account_segment(account_id)}/sis_imports/abort_all_pending"
        payload = self.request("PUT", path)
        return bool(isinstance(payload, Mapping) and payload.get("aborted") is True)

    def restore_sis_import_states(
        self,
        account_id: object,
        sis_import_id: object,
        *,
        batch_mode: bool = False,
        undelete_only: bool = False,
        unconclude_only: bool = False,
    ) -> Progress:
        """Undo what an import changed (``PUT .../restore_states``; needs ``manage_sis``): the job's Progress.

        :raises CanvasConfigurationError: both ``undelete_only`` and ``unconclude_only``.
        """
        if undelete_only and unconclude_only:
            raise CanvasConfigurationError("give undelete_only or unconclude_only, not both (Canvas refuses both).")
        ref = SisImportRef.of(account_id, sis_import_id)
        path = f"{ref.api_path}/restore_states"
        flags = {"batch_mode": batch_mode, "undelete_only": undelete_only, "unconclude_only": unconclude_only}
        data = [(name, "true") for name, on in flags.items() if on]
        return parse_progress(self.request("PUT", path, data=data or None), source=f"PUT {path}")

    def get_sis_import_errors(
        self,
        account_id: object,
        sis_import_id: object | None = None,
        *,
        failures_only: bool = False,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> list[dict[str, Any]]:
        """Every error and warning of an import (or of the account's imports): ``{sis_import_id, file, message, row}``.

        :param failures_only: only what failed the import (``failure=true``), not row warnings.
        """
        base = f"/api/v1/accounts/{account_segment(account_id)}"
        if sis_import_id is None:
            path = f"{base}/sis_import_errors"
        else:
            path = f"{SisImportRef.of(account_id, sis_import_id).api_path}/errors"
        params: list[tuple[str, Any]] = [("per_page", 100)]
        if failures_only:
            params.append(("failure", "true"))
        items = self._wrapped_pages(path, "sis_import_errors", params, max_pages)
        return [dict(item) for item in items if isinstance(item, Mapping)]

    def download_sis_errors_file(
        self,
        account_id: object,
        sis_import_id: object,
        *,
        max_bytes: int = DEFAULT_ERRORS_FILE_BYTES,
        timeout: float = 120.0,
    ) -> bytes | None:
        """The import's errors CSV, or ``None`` when it has none (yet: Canvas may write it after the end).

        Reads the import for a fresh signed link (it is bound to the connection's user and lasts an
        hour), then downloads it with no Authorization header, following at most five redirects.

        :raises CanvasResponseTooLargeError: the file is larger than ``max_bytes``.
        :raises CanvasTransportError: no complete answer within ``timeout`` seconds.
        """
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise CanvasConfigurationError(f"max_bytes must be a positive whole number, got {shown(max_bytes)}.")
        if not 0 < timeout <= 3600:
            raise CanvasConfigurationError(f"timeout must be from 0 to 3600 seconds, got {shown(timeout)}.")
        ref = SisImportRef.of(account_id, sis_import_id)
        raw = self.request("GET", ref.api_path)
        attachment = raw.get("errors_attachment") if isinstance(raw, Mapping) else None
        url = attachment.get("url") if isinstance(attachment, Mapping) else None
        if not isinstance(url, str) or not url:
            return None
        return download_without_token(
            url,
            self.settings,
            max_bytes,
            timeout,
            what=f"the errors file of {ref}",
            too_large_hint="read the errors with get_sis_import_errors instead, or raise max_bytes",
        )
