"""``CanvasSimulator``: a real Canvas-like HTTP(S) server on loopback, for tests and local DAG runs.

This is the Python API; the server thread is :mod:`.server`, TLS :mod:`.tls`, the Airflow
connection forms :mod:`.airflow_conn`, the HTTP behaviour :mod:`.app`.
"""

from __future__ import annotations

import threading
from datetime import datetime
from types import TracebackType
from typing import Any

from .airflow_conn import connection_json, connection_uri
from .app import build_app
from .clock import Clock, MonotonicClock, WallTime
from .developer_keys import LtiTool, OAuthClient
from .faults import Fault
from .jobs import JobScript
from .recorder import RecordedRequest, SimulatorStats
from .render import local_id_of
from .school import seed_school
from .server import ServerThread
from .simulator_identities import IdentityMethods
from .simulator_school import SchoolMethods
from .sis_control import SisControl
from .state import SimulatorSettings, SimulatorState
from .store import UNSET, Unset
from .throttle import BucketSettings
from .tls import ServerCertificate

__all__ = ["CanvasSimulator"]


class CanvasSimulator(IdentityMethods, SchoolMethods):
    """An embedded Canvas LMS peer: Progress endpoints, job-starting calls, auth, throttle, faults.

    Use it as a context manager (``with CanvasSimulator() as sim:``) or call :meth:`start` and
    :meth:`stop`. At construction it has user 1 ("Sim Admin") with a valid personal access token
    (:attr:`token`) that may read every context, and a small school (:mod:`.school`): root account
    1 with sub-accounts 2 and 3, terms 1 and 2, courses 1..100 in account 1 (1..3 named, with SIS
    ids, sections and assignments), students 101..105.
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
    :param https: serve HTTPS with a certificate for ``127.0.0.1`` and ``localhost`` signed by a CA
        generated at start (:attr:`ca_bundle`), so clients verify TLS as against real Canvas.
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
        https: bool = False,
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
        seed_school(self._state.catalog, self._state.identity)
        self.token: str = self._state.identity.add_token(token, user_id=1).token
        self._https = https
        self._lock = threading.Lock()
        self._server: ServerThread | None = None
        self._tls: ServerCertificate | None = None
        self._port: int | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> CanvasSimulator:
        """Bind, start serving in a background thread, and return ``self`` once listening.

        With ``https=True`` a fresh CA and server certificate are generated first (:attr:`ca_bundle`).

        :raises OSError: if the address cannot be bound.
        """
        with self._lock:
            if self._server is not None:
                return self
            tls = ServerCertificate.generate() if self._https else None
            server = ServerThread(lambda: build_app(self._state), tls.server_context() if tls else None)
            try:
                self._port = server.start(self.host, self._requested_port)
            except BaseException:
                if tls is not None:
                    tls.remove()
                raise
            self._server, self._tls = server, tls
            return self

    def stop(self) -> None:
        """Stop serving and release the port (and delete the CA bundle); calling it again does nothing."""
        with self._lock:
            server, tls = self._server, self._tls
            self._server = self._tls = None
        if server is not None:
            server.stop()
        if tls is not None:
            tls.remove()

    def __enter__(self) -> CanvasSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._server is not None and self._server.alive

    @property
    def port(self) -> int:
        """The bound port.

        :raises RuntimeError: before :meth:`start`.
        """
        if self._port is None:
            raise RuntimeError("the simulator is not started; call start() or use it as a context manager")
        return self._port

    @property
    def scheme(self) -> str:
        """``https`` when started with ``https=True``, else ``http``."""
        return "https" if self._https else "http"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (``https://`` with TLS): what the connection ``host`` should be."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def sis(self) -> SisControl:
        """SIS imports: accounts, SIS rights, terms, scripted outcomes, the storage host (:mod:`.sis_control`)."""
        return SisControl(self._state, self.base_url if self._port is not None else f"{self.scheme}://{self.host}")

    @property
    def ca_bundle(self) -> str | None:
        """The PEM file of the CA that signed the server certificate (``https=True``, while started).

        Give it to clients as the ``verify`` extra or ``REQUESTS_CA_BUNDLE``; ``None`` over HTTP.
        """
        return str(self._tls.ca_bundle) if self._tls is not None else None

    # -- identities (more in IdentityMethods; the school in SchoolMethods) ----------------------

    @property
    def token_url(self) -> str:
        """``http://127.0.0.1:<port>/login/oauth2/token``: the token endpoint (and LTI assertion audience)."""
        return f"{self.base_url}/login/oauth2/token"

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
        return self.base_url if self._port is not None else f"{self.scheme}://{self.host}"

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

        The hook reads ``host`` as the full base URL and ``password`` as the token; under HTTPS the
        ``verify`` extra names :attr:`ca_bundle`. ``conn_id`` only names the connection (see
        :meth:`airflow_conn_env`); it is not part of the JSON.

        :param credentials: a developer key from :meth:`add_oauth_client` or :meth:`add_lti_tool`:
            the connection then uses its ``auth_type`` instead of the admin token.
        """
        del conn_id
        return connection_json(self.base_url, self.token, credentials=credentials, ca_bundle=self.ca_bundle)

    def airflow_conn_uri(self) -> str:
        """The URI form: ``canvas://:<token>@http%3A%2F%2F127.0.0.1%3A<port>`` (``?verify=`` under HTTPS)."""
        return connection_uri(self.base_url, self.token, ca_bundle=self.ca_bundle)

    def airflow_conn_env(
        self, conn_id: str = "canvas_default", *, credentials: OAuthClient | LtiTool | None = None
    ) -> tuple[str, str]:
        """``("AIRFLOW_CONN_CANVAS_DEFAULT", <json>)``: ready for ``monkeypatch.setenv``."""
        return f"AIRFLOW_CONN_{conn_id.upper()}", self.airflow_conn_json(conn_id, credentials=credentials)

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "not started"
        return f"<CanvasSimulator {where} clock={self.clock!r}>"
