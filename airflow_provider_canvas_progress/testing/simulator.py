"""``CanvasSimulator``: a real Canvas-like HTTP server on loopback, for tests and local DAG runs.

The server runs its own event loop in a daemon thread, so one simulator serves sync ``requests``
clients and async ``aiohttp`` clients of the same test process alike, and thousands of
keep-alive connections at once (benchmarks run 5,000 pollers against it).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterable
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote

from aiohttp import web

from .app import build_app
from .catalog import Course
from .clock import Clock, MonotonicClock, WallTime
from .developer_keys import DEFAULT_TOKEN_LIFETIME, LtiTool, OAuthClient
from .faults import Fault
from .identity import LTI_PROGRESS_SCOPE, TokenKind, TokenState, User
from .jobs import JobScript
from .recorder import RecordedRequest, SimulatorStats
from .render import local_id_of
from .sis_control import SisControl
from .state import SimulatorSettings, SimulatorState
from .store import UNSET, Unset
from .throttle import BucketSettings

__all__ = ["CanvasSimulator"]

_LISTEN_BACKLOG = 4096


class CanvasSimulator:
    """An embedded Canvas LMS peer: Progress endpoints, job-starting calls, auth, throttle, faults.

    Use it as a context manager (``with CanvasSimulator() as sim:``) or call :meth:`start` and
    :meth:`stop`. At construction it has user 1 ("Sim Admin") with a valid personal access token
    (:attr:`token`) that may read every context, account 1, and courses 1..100 in account 1.
    Developer keys for the token endpoint (``POST /login/oauth2/token``) are added with
    :meth:`add_oauth_client` (refresh grant) and :meth:`add_lti_tool` (LTI client credentials).

    :param host: address to bind; loopback, because the control API has no auth.
    :param port: port to bind; 0 picks a free one.
    :param clock: the clock scripted jobs and the throttle read; ``ManualClock()`` for
        deterministic tests (``sim.clock.advance(seconds)``). Default: real monotonic time.
    :param permission_status: 403 (hosted Canvas) or 401 (older instances) for permission errors.
    :param throttle: refuse requests when a token's bucket is full (headers are sent either way).
    :param throttle_status: 403 (``403 Forbidden (Rate Limit Exceeded)``) or 429.
    :param bucket_capacity: the bucket's high-water mark (Canvas: 600).
    :param bucket_hard_max: the bucket's maximum (Canvas: 800).
    :param drain_per_second: leak rate (Canvas: 10 units/s).
    :param up_front_cost: charged while a request is in flight (Canvas: 50).
    :param request_cost: the real cost charged after each request.
    :param latency: seconds each API request stays in flight; > 0 makes concurrency cost 50 each.
    :param global_ids: serve Progress ids as ``shard * 10**13 + local``.
    :param default_job_script: the script of started jobs nobody queued one for.
    :param token: the default user's token (random if ``None``).
    :param epoch: the wall time of the clock's starting point, for timestamps.
    :param record_limit: how many requests :attr:`requests` keeps.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        permission_status: int = 403,
        throttle: bool = True,
        throttle_status: int = 403,
        bucket_capacity: float = 600.0,
        bucket_hard_max: float = 800.0,
        drain_per_second: float = 10.0,
        up_front_cost: float = 50.0,
        request_cost: float = 0.01,
        latency: float = 0.0,
        global_ids: bool = False,
        default_job_script: JobScript | None = None,
        token: str | None = None,
        epoch: datetime | None = None,
        record_limit: int = 50_000,
    ) -> None:
        if permission_status not in (401, 403):
            raise ValueError("permission_status must be 401 or 403")
        if throttle_status not in (403, 429):
            raise ValueError("throttle_status must be 403 or 429")
        self.host = host
        self._requested_port = port
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self._state = SimulatorState(
            clock=self.clock,
            wall=WallTime(self.clock, epoch),
            settings=SimulatorSettings(permission_status, throttle_status, latency, global_ids),
            bucket=BucketSettings(bucket_capacity, bucket_hard_max, drain_per_second, up_front_cost, request_cost),
            throttle_enabled=throttle,
            default_script=default_job_script if default_job_script is not None else JobScript(),
            record_limit=record_limit,
        )
        self._state.identity.add_user(User.named(1, "Sim Admin", login_id="sim-admin"))
        self.token: str = self._state.identity.add_token(token, user_id=1).token
        for course_id in range(1, 101):
            self._state.catalog.add_course(course_id, account_id=1)
        for conversation_id in range(1, 101):
            self._state.catalog.add_conversation(conversation_id, participants=(1,))
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> CanvasSimulator:
        """Bind, start serving in a background thread, and return ``self`` once listening.

        :raises OSError: if the address cannot be bound.
        """
        with self._lock:
            if self._thread is not None:
                return self
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self._requested_port))
            except OSError:
                sock.close()
                raise
            self._port = sock.getsockname()[1]
            ready = threading.Event()
            failure: list[BaseException] = []
            thread = threading.Thread(
                target=self._serve, args=(sock, ready, failure), name=f"canvas-simulator-{self._port}", daemon=True
            )
            thread.start()
            ready.wait()
            if failure:
                thread.join()
                raise failure[0]
            self._thread = thread
            return self

    def _serve(self, sock: socket.socket, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # Idle keep-alive connections close at once on stop; in-flight ones get half a second.
        runner = web.AppRunner(build_app(self._state), access_log=None, handle_signals=False, shutdown_timeout=0.5)
        try:
            loop.run_until_complete(runner.setup())
            site = web.SockSite(runner, sock, backlog=_LISTEN_BACKLOG)
            loop.run_until_complete(site.start())
        except BaseException as exc:  # reported to start() in the caller's thread
            failure.append(exc)
            sock.close()
            loop.close()
            ready.set()
            return
        self._loop, self._runner = loop, runner
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self) -> None:
        """Stop serving and release the port; calling it again does nothing."""
        with self._lock:
            thread, loop = self._thread, self._loop
            self._thread = self._loop = self._runner = None
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)

    def __enter__(self) -> CanvasSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def port(self) -> int:
        """The bound port.

        :raises RuntimeError: before :meth:`start`.
        """
        if self._port is None:
            raise RuntimeError("the simulator is not started; call start() or use it as a context manager")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: what the hook's connection ``host`` should be."""
        return f"http://{self.host}:{self.port}"

    @property
    def sis(self) -> SisControl:
        """SIS imports: accounts, SIS rights, terms, scripted outcomes, the storage host (:mod:`.sis_control`)."""
        return SisControl(self._state, self.base_url if self._port is not None else f"http://{self.host}")

    # -- identities and catalog -----------------------------------------------------------------

    def add_user(self, user_id: int, *, name: str | None = None, login_id: str | None = None) -> None:
        """Register a user (for ``/users/self`` and as a token owner)."""
        self._state.identity.add_user(User.named(user_id, name or f"User {user_id}", login_id))

    def add_token(
        self,
        token: str | None = None,
        *,
        user_id: int = 1,
        state: TokenState = "valid",
        kind: TokenKind = "user",
        scopes: Iterable[str] | None = None,
        contexts: Iterable[tuple[str, int]] | None = None,
        expired_at: str | None = None,
    ) -> str:
        """Register an access token and return its secret.

        :param token: the secret; random if ``None``.
        :param user_id: its owner (registered as "User <id>" if unknown).
        :param state: ``valid``, ``expired`` or ``revoked``.
        :param kind: ``user`` or ``lti`` (LTI Advantage; accepted only on ``/api/lti``).
        :param scopes: developer-key scopes (``url:GET|/api/v1/progress/:id``; for LTI, IMS scope URLs);
            ``None`` is unscoped for user tokens and no scope at all for LTI tokens.
        :param contexts: ``(context_type, id)`` pairs it may read; default: every context for user 1,
            only its own User context for anyone else; for LTI tokens, the courses its tool is in
            (default: all).
        :param expired_at: the ``expired_at`` of the expired-token error (default: the clock's now).
        """
        self._state.identity.ensure_user(user_id)
        if contexts is None and kind == "user" and user_id != 1:
            contexts = ()
        if state == "expired" and expired_at is None:
            expired_at = self._state.wall.iso(self.clock.now())
        return self._state.identity.add_token(
            token, user_id=user_id, state=state, kind=kind, scopes=scopes, contexts=contexts, expired_at=expired_at
        ).token

    def add_oauth_client(
        self,
        client_id: str | None = None,
        *,
        client_secret: str | None = None,
        user_id: int = 1,
        token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME,
        contexts: Iterable[tuple[str, int]] | None = None,
    ) -> OAuthClient:
        """Register a developer key and a refresh token of ``user_id``, for ``auth_type=oauth2_refresh``.

        :param client_id: the key's id; a Canvas-like global id if ``None``.
        :param client_secret: the key's secret; random if ``None``.
        :param user_id: whom its access tokens act as (registered as "User <id>" if unknown).
        :param token_lifetime: seconds on the simulator clock each access token lives (Canvas: an
            hour); short ones make tokens expire during a test's wait. ``None``: never, and the
            answer carries no ``expires_in``.
        :param contexts: what its tokens may read; default as for :meth:`add_token`.
        :returns: the client, with ``connection_extra()`` for an Airflow connection.
        """
        self._state.identity.ensure_user(user_id)
        return self._state.developer_keys.add_oauth_client(
            client_id, client_secret=client_secret, user_id=user_id, token_lifetime=token_lifetime, contexts=contexts
        )

    def issue_refresh_token(self, client_id: str, *, user_id: int = 1) -> str:
        """Another refresh token of an OAuth client (another user's, or a second one of the same user).

        :raises KeyError: unknown client.
        """
        self._state.identity.ensure_user(user_id)
        return self._state.developer_keys.issue_refresh_token(client_id, user_id)

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Delete a user's authorization: the refresh token and its current access token stop working."""
        grant = self._state.developer_keys.revoke_refresh_token(refresh_token)
        if grant is not None and grant.access_token is not None:
            self._state.identity.remove_token(grant.access_token)

    def add_lti_tool(
        self,
        client_id: str | None = None,
        *,
        public_jwk: dict[str, Any] | None = None,
        key_id: str | None = None,
        scopes: Iterable[str] = (LTI_PROGRESS_SCOPE,),
        courses: Iterable[int] | None = None,
        token_lifetime: float | None = DEFAULT_TOKEN_LIFETIME,
    ) -> LtiTool:
        """Register an LTI Advantage developer key, for ``auth_type=lti_advantage``.

        :param public_jwk: the tool's public RSA JWK; if ``None`` a key pair is generated and the
            private key is on the returned tool (``tool.private_key``, ``tool.connection_extra()``).
        :param key_id: the key's ``kid``.
        :param scopes: what the key may grant (default: the LTI progress scope only).
        :param courses: the courses the tool is installed in; ``None``: all.
        :param token_lifetime: seconds on the simulator clock each access token lives (Canvas: an hour).
        """
        return self._state.developer_keys.add_lti_tool(
            client_id,
            public_jwk=public_jwk,
            key_id=key_id,
            scopes=scopes,
            courses=courses,
            token_lifetime=token_lifetime,
        )

    def set_token_lifetime(self, client_id: str, seconds: float | None) -> None:
        """Change how long the access tokens a developer key issues from now on live.

        :raises KeyError: unknown developer key.
        """
        self._state.developer_keys.set_lifetime(client_id, seconds)

    def issued_tokens(self, client_id: str) -> list[str]:
        """The access tokens the token endpoint issued to a developer key, oldest first."""
        return self._state.developer_keys.issued(client_id)

    @property
    def token_url(self) -> str:
        """``http://127.0.0.1:<port>/login/oauth2/token``: the token endpoint (and LTI assertion audience)."""
        return f"{self.base_url}/login/oauth2/token"

    def add_account(self, account_id: int) -> None:
        """Register an account."""
        self._state.catalog.add_account(account_id)

    def add_course(self, course_id: int, *, account_id: int = 1, workflow_state: str = "available") -> None:
        """Register (or replace) a course; course batch jobs only succeed for known courses."""
        self._state.catalog.add_course(course_id, account_id=account_id, workflow_state=workflow_state)

    def course(self, course_id: int) -> Course | None:
        """Return a course (to check what a batch update did), or ``None``."""
        return self._state.catalog.course(course_id)

    def add_assignment(self, assignment_id: int, *, course_id: int) -> None:
        """Register an assignment; LTI Progress lookups need the Progress's assignment in the course."""
        self._state.catalog.add_assignment(assignment_id, course_id=course_id)

    def add_section(self, section_id: int, *, course_id: int) -> None:
        """Register a section (unregistered section N belongs to course N)."""
        self._state.catalog.add_section(section_id, course_id=course_id)

    def add_conversation(self, conversation_id: int, *, participants: Iterable[int] = (1,)) -> None:
        """Register a conversation (1..100 exist by default, with user 1 in them)."""
        self._state.catalog.add_conversation(conversation_id, participants=participants)

    # -- progress -------------------------------------------------------------------------------

    @property
    def default_job_script(self) -> JobScript:
        """The script of started jobs nobody queued one for (settable)."""
        return self._state.store.default_script

    @default_job_script.setter
    def default_job_script(self, script: JobScript) -> None:
        self._state.store.default_script = script

    def script_next_job(self, script: JobScript, *, tag: str | None = None) -> None:
        """Queue ``script`` for the next job a Canvas call starts (FIFO; per ``tag`` if given)."""
        self._state.store.script_next_job(script, tag=tag)

    def create_progress(
        self,
        tag: str = "course_batch_update",
        context_type: str = "Account",
        context_id: int = 1,
        user_id: int | None = 1,
        script: JobScript | None = None,
    ) -> str:
        """Create a Progress directly and return its id as served (a string).

        :param user_id: the starter (who alone may cancel); ``None`` like most Canvas jobs.
        :param script: how it advances; default :attr:`default_job_script`.
        """
        record = self._state.store.create(
            tag=tag,
            context_type=context_type,
            context_id=context_id,
            user_id=user_id,
            script=script if script is not None else self.default_job_script,
            now=self.clock.now(),
        )
        return str(self._state.public_id(record.local_id))

    def _local(self, progress_id: str | int) -> int:
        local = local_id_of(str(progress_id))
        if local is None or self._state.store.get(local) is None:
            raise KeyError(f"no Progress {progress_id!r} in this simulator")
        return local

    def progress_json(self, progress_id: str | int) -> dict[str, Any]:
        """What ``GET /api/v1/progress/:id`` would serve now (integer ids).

        :raises KeyError: for an unknown id.
        """
        body = self._state.progress_body(self._local(progress_id), self._url_base())
        assert body is not None
        return body

    def set_progress(
        self,
        progress_id: str | int,
        *,
        workflow_state: str | Unset = UNSET,
        completion: float | int | Unset | None = UNSET,
        message: str | Unset | None = UNSET,
        results: Any = UNSET,
    ) -> dict[str, Any]:
        """Override fields (only those given) and freeze the Progress: its script stops moving it.

        :returns: the Progress JSON afterwards.
        :raises KeyError: for an unknown id.
        """
        local = self._local(progress_id)
        self._state.store.override(
            local,
            self.clock.now(),
            workflow_state=workflow_state,
            completion=completion,
            message=message,
            results=results,
        )
        return self.progress_json(progress_id)

    def _url_base(self) -> str:
        return self.base_url if self._port is not None else f"http://{self.host}"

    # -- faults, records, stats -----------------------------------------------------------------

    def inject(self, fault: Fault, *, times: int = 1, path: str | None = None, method: str | None = None) -> None:
        """Queue ``fault`` for the next ``times`` ``/api`` requests matching ``path`` (regex) and ``method``."""
        self._state.faults.inject(fault, times=times, path=path, method=method)

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        self._state.faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Requests received (control API excluded), oldest first, with raw headers and status."""
        return self._state.log.snapshot()

    def clear_requests(self) -> None:
        """Forget recorded requests (counters in :attr:`stats` are kept)."""
        self._state.log.clear()

    @property
    def stats(self) -> SimulatorStats:
        """Counters: total requests, throttled, per path, per status, max in-flight per token."""
        return self._state.stats()

    def bucket_level(self, token: str | None = None) -> float:
        """The throttle bucket's current count for a token (default: :attr:`token`)."""
        return self._state.throttle.level(f"token:{token or self.token}")

    # -- Airflow connection ---------------------------------------------------------------------

    def airflow_conn_json(
        self, conn_id: str = "canvas_default", *, credentials: OAuthClient | LtiTool | None = None
    ) -> str:
        """The JSON form of an Airflow connection to this simulator (``AIRFLOW_CONN_<ID>`` value).

        The hook reads ``host`` as the full base URL and ``password`` as the token. ``conn_id`` only
        names the connection (see :meth:`airflow_conn_env`); it is not part of the JSON.

        :param credentials: a developer key from :meth:`add_oauth_client` or :meth:`add_lti_tool`:
            the connection then uses its ``auth_type`` instead of the admin token.
        """
        del conn_id
        if credentials is not None:
            return json.dumps({"conn_type": "canvas", "host": self.base_url, "extra": credentials.connection_extra()})
        return json.dumps({"conn_type": "canvas", "host": self.base_url, "password": self.token})

    def airflow_conn_uri(self) -> str:
        """The URI form: ``canvas://:<token>@http%3A%2F%2F127.0.0.1%3A<port>``.

        The host is URL-encoded because it carries a scheme and port, as Airflow's docs advise.
        """
        return f"canvas://:{quote(self.token, safe='')}@{quote(self.base_url, safe='')}"

    def airflow_conn_env(
        self, conn_id: str = "canvas_default", *, credentials: OAuthClient | LtiTool | None = None
    ) -> tuple[str, str]:
        """``("AIRFLOW_CONN_CANVAS_DEFAULT", <json>)``: ready for ``monkeypatch.setenv``."""
        return f"AIRFLOW_CONN_{conn_id.upper()}", self.airflow_conn_json(conn_id, credentials=credentials)

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "not started"
        return f"<CanvasSimulator {where} clock={self.clock!r}>"
