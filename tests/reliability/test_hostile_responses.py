"""Hostile answers, bounded reads: every read ends within the call's deadline and a byte cap, on
both paths, whatever the server does with the body (trickles it, never ends it, makes it a gigabyte
or a gzip bomb) -- and memory stays bounded, proved in a child process under a memory limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from airflow_provider_canvas_progress.core.errors import CanvasError
from tests.reliability.conftest import Connect
from tests.reliability.hostile import (
    PATHS,
    HostileServer,
    Responder,
    bomb,
    endless,
    failure_of,
    huge,
    json_answer,
    progress_json,
    raw,
    read_progress,
    silence,
    slow_headers,
    trickle,
)

PROGRESS = r"^/api/v1/progress/"
#: The call deadline used here (the ``timeout`` extra), and the slack a loaded machine may add.
DEADLINE = 2.0
SLACK = 4.0
GIB = 1 << 30
#: An inflated size far past any cap, yet one a client without a cap survives in this process.
BOMB = 128 << 20
#: A short body to trickle: at 0.5 s a byte, 15 s without a call deadline, 2 s with one.
SHORT = '{"id": 5, "workflow_state": 1}'
#: Bytes of body that no Progress or error answer comes near; the default cap is well below.
OVERSIZED = 64 << 20


def assert_typed_and_bounded(error: BaseException | None) -> CanvasError:
    assert isinstance(error, CanvasError), f"expected a CanvasError, got {type(error).__name__}: {error!s:.300}"
    assert len(str(error)) <= 2000
    return error


def assert_names_the_size_limit(error: BaseException | None) -> None:
    typed = assert_typed_and_bounded(error)
    assert "max_response_bytes" in str(typed), str(typed)


# -- time: the deadline covers connect, headers and body together ------------------------------------


STALLING = {
    "a body trickled one byte per half second": trickle(SHORT, every=0.5),
    "headers trickled one byte per half second": slow_headers(every=0.5),
    "a server that never answers": silence(),
}


@pytest.mark.parametrize("answer", STALLING.values(), ids=STALLING.keys())
@pytest.mark.parametrize("path", PATHS)
def test_a_stalling_answer_ends_at_the_call_deadline(
    server: HostileServer, connect: Connect, path: str, answer: Responder
) -> None:
    server.on(PROGRESS, answer)
    hook = connect(timeout=DEADLINE)

    error, took = failure_of(lambda: read_progress(path, hook))

    assert_typed_and_bounded(error)
    assert took < DEADLINE + SLACK


@pytest.mark.parametrize("path", PATHS)
def test_every_retry_of_a_trickled_answer_has_its_own_deadline_so_the_call_ends_after_all_tries(
    server: HostileServer, connect: Connect, path: str
) -> None:
    server.on(PROGRESS, trickle(" " * 25, every=0.4))
    hook = connect(timeout=1.0, max_attempts=2)

    error, took = failure_of(lambda: read_progress(path, hook))

    assert_typed_and_bounded(error)
    assert len(server.requests_to(PROGRESS)) == 2
    assert took < 2 * 1.0 + SLACK


@pytest.mark.parametrize(
    "answer", [trickle(SHORT, every=0.5), endless()], ids=["a trickled answer", "an endless answer"]
)
def test_test_connection_against_a_stalling_or_endless_answer_reports_failure_within_the_deadline(
    server: HostileServer, connect: Connect, answer: Responder
) -> None:
    server.on(r"^/api/v1/users/self", answer)
    hook = connect(timeout=DEADLINE)

    started = time.monotonic()
    ok, message = hook.test_connection()

    assert ok is False
    assert time.monotonic() - started < DEADLINE + SLACK
    assert len(message) <= 2000


# -- bytes: a cap on every body, compressed or not ----------------------------------------------------


OVER_THE_CAP = {
    "a 64 MiB body": huge(OVERSIZED),
    "an endless chunked body": endless(chunked=True),
    "an endless body without length": endless(chunked=False),
    "a gzip bomb": bomb(BOMB, encoding="gzip"),
    "a deflate bomb": bomb(BOMB, encoding="deflate"),
    "a 64 MiB error page": huge(OVERSIZED, status=502, content_type="text/html"),
}


@pytest.mark.parametrize("answer", OVER_THE_CAP.values(), ids=OVER_THE_CAP.keys())
@pytest.mark.parametrize("path", PATHS)
def test_an_answer_past_the_cap_is_refused_promptly_naming_the_extra_that_raises_it(
    server: HostileServer, connect: Connect, path: str, answer: Responder
) -> None:
    server.on(PROGRESS, answer)
    error, took = failure_of(lambda: read_progress(path, connect(timeout=30)))

    assert_names_the_size_limit(error)
    assert took < SLACK


@pytest.mark.parametrize("path", PATHS)
def test_a_progress_padded_to_just_under_the_cap_is_read_normally(
    server: HostileServer, connect: Connect, path: str
) -> None:
    body = json.dumps(progress_json(5)) + " " * (100 << 10)
    server.on(PROGRESS, raw(200, body))

    progress = read_progress(path, connect())

    assert progress.id == "5"


@pytest.mark.parametrize("path", PATHS)
def test_a_gzipped_progress_is_read_normally(server: HostileServer, connect: Connect, path: str) -> None:
    import gzip

    body = gzip.compress(json.dumps(progress_json(5)).encode())
    server.on(PROGRESS, raw(200, body, headers=[("Content-Encoding", "gzip")]))

    progress = read_progress(path, connect())

    assert progress.is_terminal


@pytest.mark.parametrize("path", PATHS)
def test_the_cap_can_be_raised_with_the_max_response_bytes_extra(
    server: HostileServer, connect: Connect, path: str
) -> None:
    body = json.dumps(progress_json(5, message="m" * (3 << 20)))
    server.on(PROGRESS, raw(200, body))

    progress = read_progress(path, connect(max_response_bytes=8 << 20, timeout=30))

    assert progress.message is not None
    assert len(progress.message) == 3 << 20


@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_content_encoding_is_a_typed_error(server: HostileServer, connect: Connect, path: str) -> None:
    server.on(PROGRESS, raw(200, b"\x00\x01garbage", headers=[("Content-Encoding", "br-evil")]))
    error, _ = failure_of(lambda: read_progress(path, connect()))

    assert_typed_and_bounded(error)


@pytest.mark.parametrize("path", PATHS)
def test_a_corrupt_gzip_body_is_a_typed_error(server: HostileServer, connect: Connect, path: str) -> None:
    server.on(PROGRESS, raw(200, b"\x1f\x8b\x08\x00garbage-not-gzip", headers=[("Content-Encoding", "gzip")]))
    error, _ = failure_of(lambda: read_progress(path, connect()))

    assert_typed_and_bounded(error)


def test_both_paths_refuse_an_oversized_body_with_the_same_error_class(server: HostileServer, connect: Connect) -> None:
    server.on(PROGRESS, huge(OVERSIZED))
    hook = connect(timeout=30)

    errors = [failure_of(lambda p=path: read_progress(p, hook))[0] for path in PATHS]  # type: ignore[misc]

    assert all(isinstance(error, CanvasError) for error in errors)
    assert type(errors[0]) is type(errors[1])


# -- memory: proved under a real limit, in a child process ---------------------------------------------

#: Address space the child may add to what it holds after importing everything.
HEADROOM = 256 << 20

CHILD = textwrap.dedent(
    """
    import asyncio, json, resource, sys
    from airflow_provider_canvas_progress.core.errors import CanvasError
    from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
    import aiohttp, requests  # noqa: F401  (imported before the limit)

    def vm_bytes():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmSize")

    path, headroom = sys.argv[1], int(sys.argv[2])
    hook = CanvasHook("canvas_default")
    hook.settings
    limit = vm_bytes() + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        if path == "sync":
            hook.get_progress(5)
        else:
            async def run():
                async with hook:
                    return await hook.aget_progress(5)
            asyncio.run(run())
        outcome = "returned"
    except MemoryError:
        outcome = "MemoryError"
    except CanvasError as error:
        outcome = "typed:" + type(error).__name__
    except BaseException as error:
        outcome = "untyped:" + type(error).__name__
    print(json.dumps({"outcome": outcome}))
    """
)


def in_child_with_memory_limit(path: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, path, str(HEADROOM)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ},
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"child died: rc={done.returncode} {done.stderr[-2000:]}"
    return str(json.loads(lines[-1])["outcome"])


MEMORY_CASES = {
    "a gigabyte body is refused": (huge(GIB), "typed:CanvasResponseTooLargeError"),
    "a gzip bomb of a gigabyte is refused": (bomb(GIB), "typed:CanvasResponseTooLargeError"),
    "an ordinary progress is read": (json_answer(progress_json(5)), "returned"),
}


@pytest.mark.parametrize("case", MEMORY_CASES.values(), ids=MEMORY_CASES.keys())
@pytest.mark.parametrize("path", PATHS)
def test_within_a_memory_limit_of_256_mib_a_huge_answer_is_refused_and_an_ordinary_one_read(
    server: HostileServer, connect: Connect, path: str, case: tuple[Responder, str]
) -> None:
    responder, expected = case
    server.on(PROGRESS, responder)
    connect(timeout=60)

    assert in_child_with_memory_limit(path) == expected
