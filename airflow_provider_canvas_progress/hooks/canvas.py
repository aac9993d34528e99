"""CanvasHook: authenticated, retried, throttle-aware HTTP to one Canvas, sync and async.

The decisions (what to send, what an answer means, whether to retry) live in
:mod:`airflow_provider_canvas_progress.core`; this module only moves bytes, with ``requests`` in
workers and ``aiohttp`` in the triggerer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cached_property
from typing import Any

import aiohttp
import requests
import tenacity

from airflow_provider_canvas_progress import connection_form
from airflow_provider_canvas_progress.compat import BaseHook, aget_connection, connection_extras, mask_secret
from airflow_provider_canvas_progress.core.auth import (
    AUTH_LTI_ADVANTAGE,
    AUTH_TOKEN,
    LTI_PROGRESS_SCOPE,
    AccessGrant,
    check_token_reaches,
    refused_after_renewal,
)
from airflow_provider_canvas_progress.core.errors import (
    CanvasAuthError,
    CanvasConfigurationError,
    CanvasError,
    CanvasResponseError,
    CanvasThrottledError,
)
from airflow_provider_canvas_progress.core.ids import SHARD_FACTOR, ProgressRef, parse_id_text, parse_progress_ref
from airflow_provider_canvas_progress.core.jobs import find_progress
from airflow_provider_canvas_progress.core.progress import Progress, parse_progress
from airflow_provider_canvas_progress.core.protocol import (
    CanvasRequest,
    CanvasResponse,
    build_request,
    interpret_response,
    rate_limit_remaining,
)
from airflow_provider_canvas_progress.core.retry import RetryPolicy, describe_retry
from airflow_provider_canvas_progress.core.settings import CanvasSettings, settings_from_connection
from airflow_provider_canvas_progress.hooks import transport
from airflow_provider_canvas_progress.hooks.gates import TokenGate, _gates, gate_for
from airflow_provider_canvas_progress.hooks.tokens import (
    Renewal,
    TokenSource,
    arequest_grant,
    request_grant,
    token_source_for,
)

Params = Mapping[str, Any] | Iterable[tuple[str, Any]] | None

#: Re-exported for test fixtures that reset the per-process gates between tests.
__all__ = ["CanvasHook", "_gates"]


class CanvasHook(BaseHook):  # type: ignore[misc]
    """Talk to Canvas LMS through an Airflow ``canvas`` connection.

    The connection's Host is the Canvas base URL (``https://school.instructure.com``; https is
    assumed). The extra ``auth_type`` chooses how calls are authenticated:

    * ``token`` (default): the Password is a Canvas API access token, used as is;
    * ``oauth2_refresh``: extras ``client_id``, ``client_secret`` (a developer key) and ``refresh_token``
      (a user's); access tokens are obtained from ``POST /login/oauth2/token`` and renewed shortly
      before they expire, or once when Canvas refuses one as expired;
    * ``lti_advantage``: extras ``client_id`` and ``private_key`` (PEM or JWK; optional ``key_id``); access
      tokens are obtained with a signed client assertion, for the LTI endpoints only
      (``get_progress(..., lti_course_id=...)``).

    Both renewing modes accept ``token_url`` (default ``<host>/login/oauth2/token``). Tokens are
    cached per process and shared by sync and async callers.

    Other extras: ``timeout`` (seconds per request, 30),
    ``max_attempts`` (tries per call, 6), ``retry_wait_initial``/``retry_wait_max`` (back-off
    seconds, 1/60), ``verify`` (TLS: true, false or a CA bundle path), ``max_in_flight`` (async
    requests in flight per token and process, 4), ``rate_limit_low_water`` (slow down below this
    ``X-Rate-Limit-Remaining``, 200), ``allow_insecure_http`` (allow http:// to a non-loopback host).

    Transient failures (connection errors, timeouts, 5xx, proxy HTML pages, throttling) are retried
    with capped exponential back-off; everything else raises a typed
    :class:`~airflow_provider_canvas_progress.core.errors.CanvasError` at once.

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

    # -- connection ----------------------------------------------------------------------------

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Connection form (Airflow < 3.2): Host is the base URL, Password the token; Schema, Login, Port hidden.

        Airflow >= 3.2 reads the same form from the provider info instead
        (:mod:`airflow_provider_canvas_progress.connection_form` holds both).
        """
        return connection_form.ui_field_behaviour()

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Connection form fields of the auth modes (Airflow < 3.2; needs Flask AppBuilder and WTForms)."""
        return connection_form.connection_form_widgets()

    def _settings_from(self, conn: Any) -> CanvasSettings:
        settings = settings_from_connection(
            conn_id=self.canvas_conn_id,
            host=conn.host,
            password=conn.password,
            extras=connection_extras(conn),
            schema=conn.schema,
            port=conn.port,
        )
        for secret in settings.secrets:
            mask_secret(secret)
        if self._timeout_override is not None or self._max_attempts_override is not None:
            settings = replace(
                settings,
                timeout=self._timeout_override or settings.timeout,
                max_attempts=self._max_attempts_override or settings.max_attempts,
            )
        if settings.unknown_extras:
            self.log.warning(
                "Canvas connection %r has extras this provider does not read: %s (typos?).",
                self.canvas_conn_id,
                ", ".join(settings.unknown_extras),
            )
        if settings.unused_extras:
            self.log.warning(
                "Canvas connection %r has auth_type=%s; its extras %s belong to another auth mode and are ignored.",
                self.canvas_conn_id,
                settings.auth_type,
                ", ".join(settings.unused_extras),
            )
        return settings

    @property
    def settings(self) -> CanvasSettings:
        """The connection, read and validated on first use (sync: worker-side only)."""
        if self._settings is None:
            self._settings = self._settings_from(self.get_connection(self.canvas_conn_id))
        return self._settings

    async def asettings(self) -> CanvasSettings:
        """The connection, read without blocking the event loop (triggers)."""
        if self._settings is None:
            self._settings = self._settings_from(await aget_connection(self.canvas_conn_id))
        return self._settings

    @property
    def base_url(self) -> str:
        """The connection's Canvas base URL, ``scheme://host[:port]``."""
        return self.settings.base_url

    def parse_ref(self, progress_id: object, *, what: str = "progress_id") -> ProgressRef:
        """Read any accepted form of Progress reference, checking URLs against this connection."""
        return parse_progress_ref(progress_id, self.settings, what=what)

    # -- sync ----------------------------------------------------------------------------------

    @cached_property
    def _requests_session(self) -> requests.Session:
        session = requests.Session()
        # Environment proxies and .netrc could redirect the token or override the auth header.
        session.trust_env = False
        return session

    def get_conn(self) -> requests.Session:
        """The requests session used for sync calls (auth is added per request, not stored on it)."""
        return self._requests_session

    def request(
        self,
        method: str,
        endpoint: str,
        *,
        params: Params = None,
        data: Params = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
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
        return self._execute(call)

    def _execute(self, call: CanvasRequest, *, max_attempts: int | None = None) -> Any:
        settings = self.settings
        policy = RetryPolicy.from_settings(settings)
        if max_attempts is not None:
            policy = replace(policy, max_attempts=max_attempts)
        gate = gate_for(settings)
        check_token_reaches(settings.auth_type, call.path, label=self._label, call=call.label)
        renewal = Renewal()
        try:
            # Almost every call succeeds at once; tenacity is entered only when there is something
            # to retry, and is handed this failure as its attempt 1: back-off and logs are unchanged.
            return self._attempt(call, settings, gate, renewal)
        except CanvasError as error:
            failure: CanvasError | None = error
        retrying = tenacity.Retrying(
            **policy.tenacity_kwargs(self._log_retry(call, policy), idempotent=call.idempotent)
        )
        for attempt in retrying:
            with attempt:
                if failure is not None:  # attempt 1 is the one already made
                    replay, failure = failure, None
                    raise replay
                return self._attempt(call, settings, gate, renewal)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def _attempt(self, call: CanvasRequest, settings: CanvasSettings, gate: TokenGate, renewal: Renewal) -> Any:
        token = self._access_token(settings)
        try:
            return self._interpret(call, self._paced_send(call, settings, gate, token), gate)
        except CanvasAuthError as error:
            if not renewal.allowed(settings, error):
                raise
            self._forget(settings, token, error, call)
        # A 401 is decided before the action runs, so even a job-starting call is safe to resend.
        token = self._access_token(settings)
        return self._resend(call, self._paced_send(call, settings, gate, token), gate, settings)

    def _paced_send(self, call: CanvasRequest, settings: CanvasSettings, gate: TokenGate, token: str) -> CanvasResponse:
        pause = gate.pacer.delay()
        if pause > 0:
            self.log.info("Canvas rate limit is low; pausing %.1f s before %s.", pause, call.label)
            time.sleep(pause)
        return self._send(call, settings, token)

    def _send(self, call: CanvasRequest, settings: CanvasSettings, token: str) -> CanvasResponse:
        return transport.send(self.get_conn(), call, settings, token)

    # -- async ---------------------------------------------------------------------------------

    async def __aenter__(self) -> CanvasHook:
        settings = await self.asettings()
        if self._session is None or self._session.closed:
            # Borrowed from the token's gate: every hook of this token on the loop shares it.
            self._session = await gate_for(settings).borrow_session(settings)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Give back the session borrowed by ``async with`` (the last hook out closes it)."""
        if self._session is not None:
            session, self._session = self._session, None
            await gate_for(self.settings if self._settings is None else self._settings).return_session(session)

    @staticmethod
    def _new_session(settings: CanvasSettings) -> aiohttp.ClientSession:
        return transport.new_async_session(settings)

    async def arequest(
        self,
        method: str,
        endpoint: str,
        *,
        params: Params = None,
        data: Params = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Async twin of :meth:`request`, for triggers.

        Inside ``async with hook`` all calls share one session; otherwise each call opens and closes
        its own (correct, but slower).
        """
        settings = await self.asettings()
        call = build_request(
            settings, method, endpoint, params=params, data=data, json_body=json, idempotent=idempotent
        )
        return await self._aexecute(call)

    async def _aexecute(self, call: CanvasRequest) -> Any:
        settings = await self.asettings()
        if self._session is None or self._session.closed:
            # Outside ``async with``: a session of this call's own, so concurrent calls cannot close
            # each other's.
            async with self._new_session(settings) as session:
                return await self._aexecute_with(call, settings, session)
        return await self._aexecute_with(call, settings, self._session)

    async def _aexecute_with(
        self, call: CanvasRequest, settings: CanvasSettings, session: aiohttp.ClientSession
    ) -> Any:
        policy = RetryPolicy.from_settings(settings)
        gate = gate_for(settings)
        check_token_reaches(settings.auth_type, call.path, label=self._label, call=call.label)
        renewal = Renewal()
        try:
            # As in _execute: a triggerer polls thousands of times a minute, and an AsyncRetrying
            # built and stepped for each poll cost about 0.1 ms of CPU (docs/benchmarks.md).
            return await self._aattempt(call, settings, session, gate, renewal)
        except CanvasError as error:
            failure: CanvasError | None = error
        retrying = tenacity.AsyncRetrying(
            **policy.tenacity_kwargs(self._log_retry(call, policy), idempotent=call.idempotent)
        )
        async for attempt in retrying:
            with attempt:
                if failure is not None:  # attempt 1 is the one already made
                    replay, failure = failure, None
                    raise replay
                return await self._aattempt(call, settings, session, gate, renewal)
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    async def _aattempt(
        self,
        call: CanvasRequest,
        settings: CanvasSettings,
        session: aiohttp.ClientSession,
        gate: TokenGate,
        renewal: Renewal,
    ) -> Any:
        token = await self._aaccess_token(settings, session)
        try:
            return self._interpret(call, await self._apaced_send(call, settings, session, gate, token), gate)
        except CanvasAuthError as error:
            if not renewal.allowed(settings, error):
                raise
            self._forget(settings, token, error, call)
        token = await self._aaccess_token(settings, session)
        return self._resend(call, await self._apaced_send(call, settings, session, gate, token), gate, settings)

    async def _apaced_send(
        self,
        call: CanvasRequest,
        settings: CanvasSettings,
        session: aiohttp.ClientSession,
        gate: TokenGate,
        token: str,
    ) -> CanvasResponse:
        async with gate.semaphore():
            pause = gate.pacer.delay()
            if pause > 0:
                self.log.info("Canvas rate limit is low; pausing %.1f s before %s.", pause, call.label)
                await asyncio.sleep(pause)
            return await self._asend(call, settings, session, token)

    async def _asend(
        self, call: CanvasRequest, settings: CanvasSettings, session: aiohttp.ClientSession, token: str
    ) -> CanvasResponse:
        return await transport.asend(session, call, settings, token)

    # -- access tokens -------------------------------------------------------------------------

    def _access_token(self, settings: CanvasSettings) -> str:
        """The token to send: the connection's own, or the developer key's current one (renewed when due)."""
        if settings.credentials is None:
            return settings.token
        source = token_source_for(settings)
        return source.get(lambda src: self._granted(request_grant(self.get_conn(), settings, src), src)).access_token

    async def _aaccess_token(self, settings: CanvasSettings, session: aiohttp.ClientSession) -> str:
        """Async twin of :meth:`_access_token`, on the caller's session."""
        if settings.credentials is None:
            return settings.token
        source = token_source_for(settings)

        async def fetch(src: TokenSource) -> AccessGrant:
            return self._granted(await arequest_grant(session, settings, src), src)

        return (await source.aget(fetch)).access_token

    def _granted(self, grant: AccessGrant, source: TokenSource) -> AccessGrant:
        mask_secret(grant.access_token)
        self.log.info(
            "Obtained a Canvas access token from %s %s (#%d in this process).",
            source.credentials.token_url,
            grant.describe(),
            source.issued + 1,
        )
        return grant

    def _forget(self, settings: CanvasSettings, token: str, error: CanvasError, call: CanvasRequest) -> None:
        token_source_for(settings).invalidate(token)
        self.log.info(
            "Canvas refused the access token for %s (%s); getting a new one and trying once more.",
            call.label,
            error.canvas_message,
        )

    @property
    def _label(self) -> str:
        return f"Canvas connection {self.canvas_conn_id!r}"

    def _resend(self, call: CanvasRequest, response: CanvasResponse, gate: TokenGate, settings: CanvasSettings) -> Any:
        """Read the answer to a call resent with a new token; a second refusal is explained as such."""
        failure: CanvasAuthError | None = None
        try:
            return self._interpret(call, response, gate)
        except CanvasAuthError as error:
            failure = error
        assert settings.credentials is not None
        raise refused_after_renewal(failure, label=self._label, client_id=settings.credentials.client_id)

    # -- shared by both paths ------------------------------------------------------------------

    def _interpret(self, call: CanvasRequest, response: CanvasResponse, gate: TokenGate) -> Any:
        gate.pacer.observe(rate_limit_remaining(response))
        try:
            return interpret_response(call, response)
        except CanvasThrottledError:
            gate.pacer.observe_throttled()
            raise

    def _log_retry(self, call: CanvasRequest, policy: RetryPolicy) -> Any:
        def before_sleep(retry_state: tenacity.RetryCallState) -> None:
            self.log.warning("%s: %s", call.label, describe_retry(retry_state, policy.max_attempts))

        return before_sleep

    # -- Progress ------------------------------------------------------------------------------

    def get_progress(self, progress_id: object, *, lti_course_id: object | None = None) -> Progress:
        """Read a Progress.

        :param progress_id: an id, a numeric string, a global id, a Progress dict or a Progress URL
            on this connection's host.
        :param lti_course_id: read through the LTI endpoint of this course instead.
        :raises CanvasNotFoundError: no such Progress.
        :raises CanvasResponseError: the answer is not a valid Progress.
        """
        ref = self._ref(progress_id, lti_course_id, self.settings)
        call = build_request(self.settings, "GET", ref.api_path)
        return self._progress_from(call, self._execute(call), ref)

    async def aget_progress(self, progress_id: object, *, lti_course_id: object | None = None) -> Progress:
        """Async twin of :meth:`get_progress`."""
        settings = await self.asettings()
        ref = self._ref(progress_id, lti_course_id, settings)
        call = build_request(settings, "GET", ref.api_path)
        return self._progress_from(call, await self._aexecute(call), ref)

    def cancel_progress(self, progress_id: object, message: str | None = None) -> Progress:
        """Call Canvas's cancel on a Progress and return it as Canvas left it.

        This is the raw call, with Canvas's sharp edges: Canvas marks *any* Progress ``failed``
        (even a completed one) and replaces its message with ``message`` (``None`` erases it).
        :class:`~airflow_provider_canvas_progress.operators.progress.CancelProgressOperator` reads
        the Progress first and only cancels a pending one.
        """
        ref = self._ref(progress_id, None, self.settings)
        call = self._cancel_call(self.settings, ref, message)
        return self._progress_from(call, self._execute(call), ref)

    async def acancel_progress(self, progress_id: object, message: str | None = None) -> Progress:
        """Async twin of :meth:`cancel_progress` (same sharp edges)."""
        settings = await self.asettings()
        ref = self._ref(progress_id, None, settings)
        call = self._cancel_call(settings, ref, message)
        return self._progress_from(call, await self._aexecute(call), ref)

    def start_job(
        self,
        method: str,
        endpoint: str,
        *,
        params: Params = None,
        data: Params = None,
        json: Any = None,
    ) -> Progress:
        """Call an endpoint that starts a Canvas background job and return the job's Progress.

        The answer may be a Progress, ``{"progress": {...}}`` or carry a ``progress_url`` (then
        the Progress is read from it, on this connection's host only).
        """
        call = build_request(self.settings, method, endpoint, params=params, data=data, json_body=json)
        started = find_progress(self._execute(call), self.settings, source=call.label)
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
                return self._test_lti(settings)
            # One attempt: the UI's Test button should answer in seconds, not after a back-off.
            user = self._execute(build_request(settings, "GET", "/api/v1/users/self"), max_attempts=1)
        except CanvasError as error:
            return False, str(error)
        if not isinstance(user, Mapping):
            return (
                False,
                f"Canvas at {settings.base_url} answered users/self with {type(user).__name__}.",
            )
        name = user.get("name") or user.get("short_name") or "an unnamed user"
        via = ""
        if settings.auth_type != AUTH_TOKEN and settings.credentials is not None:
            via = f" through developer key {settings.credentials.client_id} (tokens renewed automatically)"
        return True, f"Connected to {settings.base_url} as {name} (user id {user.get('id')}){via}."

    def _test_lti(self, settings: CanvasSettings) -> tuple[bool, str]:
        source = token_source_for(settings)
        grant = source.get(lambda src: self._granted(request_grant(self.get_conn(), settings, src), src))
        if grant.scope is not None and LTI_PROGRESS_SCOPE not in grant.scope.split():
            return False, (
                f"Canvas granted LTI tool {source.credentials.client_id} the scopes {grant.scope!r}, without "
                f"{LTI_PROGRESS_SCOPE}: enable it on the LTI developer key."
            )
        return True, f"Connected to {settings.base_url} {grant.describe()}; it may read LTI progress."

    @staticmethod
    def _ref(progress_id: object, lti_course_id: object | None, settings: CanvasSettings) -> ProgressRef:
        ref = progress_id if isinstance(progress_id, ProgressRef) else parse_progress_ref(progress_id, settings)
        if lti_course_id is not None:
            ref = ProgressRef(ref.id, lti_course_id=parse_id_text(str(lti_course_id), what="lti_course_id"))
        return ref

    @staticmethod
    def _cancel_call(settings: CanvasSettings, ref: ProgressRef, message: str | None) -> CanvasRequest:
        if ref.lti_course_id is not None:
            raise CanvasConfigurationError(
                f"Progress {ref.id} was given as an LTI progress URL; Canvas's LTI progress endpoint "
                "cannot cancel. Cancel it through /api/v1/progress/:id with a user token."
            )
        data = {"message": message} if message is not None else None
        # Cancelling twice with the same message leaves the Progress as cancelling once does.
        return build_request(settings, "POST", f"{ref.api_path}/cancel", data=data, idempotent=True)

    @staticmethod
    def _progress_from(call: CanvasRequest, payload: Any, ref: ProgressRef) -> Progress:
        progress = parse_progress(payload, source=call.label)
        # Canvas answers ids relative to the shard serving the request: a global id asked
        # (10000000000123) may come back local (123). The local parts must agree.
        if int(progress.id) % SHARD_FACTOR != int(ref.id) % SHARD_FACTOR:
            raise CanvasResponseError(
                f"{call.label} answered Progress {progress.id}, not {ref.id}.", progress_id=ref.id
            )
        return progress
