"""CanvasHook: authenticated, retried, throttle-aware HTTP to one Canvas, sync and async.

The decisions live in :mod:`airflow_provider_canvas_progress.core` (one ``CallPlan`` per call);
:mod:`~airflow_provider_canvas_progress.hooks.drivers` runs it with ``requests`` in workers and
``aiohttp`` in the triggerer. This module is the public face: the connection and the calls users make.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

import aiohttp

from airflow_provider_canvas_progress import connection_form
from airflow_provider_canvas_progress.compat import BaseHook, aget_connection, mask_secret
from airflow_provider_canvas_progress.core import checks, progress_api
from airflow_provider_canvas_progress.core.auth import (
    AUTH_LTI_ADVANTAGE,
)
from airflow_provider_canvas_progress.core.checks import USERS_SELF
from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasError,
)
from airflow_provider_canvas_progress.core.ids import ProgressRef, parse_progress_ref
from airflow_provider_canvas_progress.core.jobs import find_progress
from airflow_provider_canvas_progress.core.pagination import DEFAULT_MAX_PAGES, Pages
from airflow_provider_canvas_progress.core.progress import Progress
from airflow_provider_canvas_progress.core.protocol import CanvasRequest, build_request
from airflow_provider_canvas_progress.core.settings import CanvasSettings
from airflow_provider_canvas_progress.hooks import access, connections, drivers, reports, sis
from airflow_provider_canvas_progress.hooks.gates import _gates, gate_for
from airflow_provider_canvas_progress.hooks.plans import Reader, api_plan
from airflow_provider_canvas_progress.hooks.sessions import HookSessions

Params = Mapping[str, Any] | Iterable[tuple[str, Any]] | None

__all__ = ["CanvasHook", "_gates"]


class CanvasHook(reports.AccountReportCalls, sis.SisImportCalls, HookSessions, BaseHook):  # type: ignore[misc]
    """Talk to Canvas LMS through an Airflow ``canvas`` connection (every field: ``docs/connection.md``).

    Host is the Canvas base URL (``https://school.instructure.com``). The extra ``auth_type`` chooses the
    token: ``token`` (default; the Password is a Canvas API access token), ``oauth2_refresh`` (extras
    ``client_id``, ``client_secret``, ``refresh_token``; tokens from ``POST /login/oauth2/token``, renewed
    before they expire or once when refused) or ``lti_advantage`` (extras ``client_id``, ``private_key``,
    optional ``key_id``; LTI endpoints only). Both renewing modes accept ``token_url``; tokens are
    cached per process and shared by sync and async callers.

    Other extras (each refused outside a sane range): ``timeout`` (seconds per attempt, connect,
    headers and body together, 30), ``max_response_bytes`` (largest answer read, 524288),
    ``max_attempts`` (tries per call, 6), ``retry_wait_initial``/``retry_wait_max`` (back-off
    seconds, 1/60), ``verify`` (TLS: true, false or a CA bundle path), ``max_in_flight`` (async
    requests in flight per token and process, 4), ``rate_limit_low_water`` (slow down below this
    ``X-Rate-Limit-Remaining``, 200), ``allow_insecure_http`` (allow http:// to a non-loopback host).

    Transient failures (no answer, 5xx, proxy pages, throttling) are retried with capped, jittered
    back-off; anything else raises a typed :class:`~airflow_provider_canvas_progress.core.errors.CanvasError`.

    Async use (triggers) borrows, for the hook's life, the aiohttp session shared by every hook of
    the same token on the event loop (the last one out closes it)::

        async with CanvasHook("canvas_default") as hook:
            progress = await hook.aget_progress(123)

    :param canvas_conn_id: the Airflow connection to use.
    :param timeout: overrides the connection's ``timeout`` extra.
    :param max_attempts: overrides the connection's ``max_attempts`` extra.
    """

    conn_name_attr = "canvas_conn_id"
    default_conn_name = "canvas_default"
    conn_type = "canvas"
    hook_name = "Canvas LMS"

    def __init__(
        self,
        canvas_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        max_attempts: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.canvas_conn_id = canvas_conn_id
        self._timeout_override = timeout
        self._max_attempts_override = max_attempts
        self._settings: CanvasSettings | None = None
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(canvas_conn_id={self.canvas_conn_id!r})"

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form (Airflow < 3.2; later ones read :mod:`~airflow_provider_canvas_progress.connection_form`)."""
        return connection_form.ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Connection form fields of the auth modes (Airflow < 3.2; needs Flask AppBuilder and WTForms)."""
        return connection_form.connection_form_widgets()

    def _adopt(self, settings: CanvasSettings) -> CanvasSettings:
        """This hook's view of the connection: secrets masked, its own timeout and attempts applied."""
        for secret in settings.secrets:
            mask_secret(secret)
        return connections.with_overrides(settings, self._timeout_override, self._max_attempts_override)

    @property
    def settings(self) -> CanvasSettings:
        """The connection, read and validated on first use (sync: worker-side only; kept a minute per process)."""
        if self._settings is None:
            self._settings = self._adopt(connections.read(self.canvas_conn_id, self.get_connection, self.log))
        return self._settings

    async def asettings(self) -> CanvasSettings:
        """The connection, read without blocking the event loop (triggers; kept a minute per process)."""
        if self._settings is None:
            self._settings = self._adopt(await connections.aread(self.canvas_conn_id, aget_connection, self.log))
        return self._settings

    @property
    def _voice(self) -> access.Voice:
        return access.Voice(self.log, mask_secret)

    @property
    def base_url(self) -> str:
        """The connection's Canvas base URL, ``scheme://host[:port]``."""
        return self.settings.base_url

    def parse_ref(self, progress_id: object, *, what: str = "progress_id") -> ProgressRef:
        """Read any accepted form of Progress reference, checking URLs against this connection."""
        return parse_progress_ref(progress_id, self.settings, what=what)

    def _run(self, call: CanvasRequest, read: Reader | None = None, max_attempts: int | None = None) -> Any:
        settings, session = self.settings, self.get_conn()
        plan = api_plan(settings, call, gate_for(settings), read=read, max_attempts=max_attempts)
        try:
            return drivers.run(
                plan, session, settings.verify, partial(access.token, settings, session, self._voice), self.log
            )
        except CanvasAuthError:
            connections.forget(self.canvas_conn_id)  # a refused token: read the connection again next time
            raise

    async def _arun(self, call: CanvasRequest, read: Reader | None = None) -> Any:
        settings = await self.asettings()
        if self._session is None or self._session.closed:
            async with self._own_session(settings) as session:
                return await self._arun_on(session, settings, call, read)
        return await self._arun_on(self._session, settings, call, read)

    async def _arun_on(
        self, session: aiohttp.ClientSession, settings: CanvasSettings, call: CanvasRequest, read: Reader | None
    ) -> Any:
        gate = gate_for(settings)
        token = partial(access.atoken, settings, session, self._voice)
        try:
            return await drivers.arun(api_plan(settings, call, gate, read=read), session, gate, token, self.log)
        except CanvasAuthError:
            connections.forget(self.canvas_conn_id)
            raise

    def request(
        self, method: str, endpoint: str, *, params: Params = None, data: Params = None, json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:  # fmt: skip
        """Call any Canvas API endpoint and return its decoded JSON (``None`` for an empty body).

        :param method: HTTP method.
        :param endpoint: ``/api/v1/...``, ``courses/1`` (read as ``/api/v1/courses/1``) or a URL on
            the connection's host.
        :param params: query parameters; lists and nested dicts use Canvas's bracket style.
        :param data: form fields (Canvas's usual body encoding), same styles as ``params``.
        :param json: a JSON body instead of form fields.
        :param idempotent: whether repeating the call is harmless; default only for GET and HEAD.
            Calls that are not idempotent are only retried when they cannot have reached Canvas.
        :raises CanvasError: a typed error after retries are spent, or at once when not transient.
        """
        call = build_request(
            self.settings, method, endpoint, params=params, data=data, json_body=json, idempotent=idempotent
        )
        return self._run(call)

    async def arequest(
        self, method: str, endpoint: str, *, params: Params = None, data: Params = None, json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:  # fmt: skip
        """Async twin of :meth:`request`, for triggers.

        Inside ``async with hook`` all calls share one session; otherwise each call opens and closes
        its own (correct, but slower).
        """
        settings = await self.asettings()
        call = build_request(
            settings, method, endpoint, params=params, data=data, json_body=json, idempotent=idempotent
        )
        return await self._arun(call)

    def get_json(self, endpoint: str, *, params: Params = None) -> Any:
        """``GET`` a Canvas API path (as for :meth:`request`; ids only in validated segments): its JSON."""
        return self.request("GET", endpoint, params=params)

    async def aget_json(self, endpoint: str, *, params: Params = None) -> Any:
        """Async twin of :meth:`get_json`."""
        return await self.arequest("GET", endpoint, params=params)

    def get_pages(self, endpoint: str, *, params: Params = None, max_pages: int = DEFAULT_MAX_PAGES) -> list[Any]:
        """``GET`` a paginated Canvas list and return the items of all its pages, in order.

        Follows ``Link: <...>; rel="next"`` on the connection's origin only, each page one retried
        call (see :class:`~airflow_provider_canvas_progress.core.pagination.Pages`).
        """
        pages = Pages(self.settings, endpoint, params, max_pages=max_pages)
        while (call := pages.next_call()) is not None:
            pages.add(call, self._run(call, pages.read(call)))
        return pages.items

    async def aget_pages(
        self, endpoint: str, *, params: Params = None, max_pages: int = DEFAULT_MAX_PAGES
    ) -> list[Any]:
        """Async twin of :meth:`get_pages`."""
        pages = Pages(await self.asettings(), endpoint, params, max_pages=max_pages)
        while (call := pages.next_call()) is not None:
            pages.add(call, await self._arun(call, pages.read(call)))
        return pages.items

    def get_progress(self, progress_id: object, *, lti_course_id: object | None = None) -> Progress:
        """Read a Progress.

        :param progress_id: an id, a numeric string, a global id, a Progress dict or a Progress URL
            on this connection's host.
        :param lti_course_id: read through the LTI endpoint of this course instead.
        :raises CanvasNotFoundError: no such Progress.
        :raises CanvasResponseError: the answer is not a valid Progress.
        """
        ref = progress_api.ref_of(progress_id, lti_course_id, self.settings)
        call = build_request(self.settings, "GET", ref.api_path)
        return progress_api.progress_from(call, self._run(call), ref)

    async def aget_progress(self, progress_id: object, *, lti_course_id: object | None = None) -> Progress:
        """Async twin of :meth:`get_progress`."""
        settings = await self.asettings()
        ref = progress_api.ref_of(progress_id, lti_course_id, settings)
        call = build_request(settings, "GET", ref.api_path)
        return progress_api.progress_from(call, await self._arun(call), ref)

    def cancel_progress(self, progress_id: object, message: str | None = None) -> Progress:
        """Call Canvas's cancel on a Progress and return it as Canvas left it.

        This is the raw call, with Canvas's sharp edges: Canvas marks *any* Progress ``failed``
        (even a completed one) and replaces its message with ``message`` (``None`` erases it).
        :class:`~airflow_provider_canvas_progress.operators.progress.CancelProgressOperator` reads
        the Progress first and only cancels a pending one.
        """
        ref = progress_api.ref_of(progress_id, None, self.settings)
        call = progress_api.cancel_request(self.settings, ref, message)
        return progress_api.progress_from(call, self._run(call), ref)

    async def acancel_progress(self, progress_id: object, message: str | None = None) -> Progress:
        """Async twin of :meth:`cancel_progress` (same sharp edges)."""
        settings = await self.asettings()
        ref = progress_api.ref_of(progress_id, None, settings)
        call = progress_api.cancel_request(settings, ref, message)
        return progress_api.progress_from(call, await self._arun(call), ref)

    def start_job(
        self, method: str, endpoint: str, *, params: Params = None, data: Params = None, json: Any = None
    ) -> Progress:
        """Call an endpoint that starts a Canvas background job and return the job's Progress.

        The answer may be a Progress, ``{"progress": {...}}`` or carry a ``progress_url`` (then
        the Progress is read from it, on this connection's host only).
        """
        call = build_request(self.settings, method, endpoint, params=params, data=data, json_body=json)
        started = find_progress(self._run(call), self.settings, source=call.label)
        return started.progress if started.progress is not None else self.get_progress(started.ref)

    def test_connection(self) -> tuple[bool, str]:
        """Check the connection in its auth mode and say who (or which tool) it acts as.

        ``token`` and ``oauth2_refresh`` ask Canvas who the token belongs to (``GET /api/v1/users/self``,
        after obtaining a token for the latter); ``lti_advantage`` obtains an LTI token and checks it
        carries the progress scope (LTI tokens cannot call ``/api/v1``).
        """
        try:
            settings = self.settings
            if settings.auth_type == AUTH_LTI_ADVANTAGE:
                return checks.lti_grant_check(settings, access.grant(settings, self.get_conn(), self._voice))
            # One attempt: a connection test (``airflow connections test``, the REST test endpoint, the UI's
            # Test button where it works) should answer in seconds, not after a back-off.
            return checks.user_check(settings, self._run(build_request(settings, "GET", USERS_SELF), max_attempts=1))
        except CanvasError as error:
            return False, str(error)
