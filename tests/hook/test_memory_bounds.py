"""Memory stays bounded under a hostile answer: the call runs in a child process with a hard RLIMIT_AS.

The child imports the provider, then caps its own address space at what it uses plus 256 MB; a
client that read a 1 GB body, inflated a 1 GB gzip bomb or buffered an endless stream would die
with MemoryError there. The child prints the name of the error the call raised.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap

import pytest

from tests.hook.hostile_server import HostileServer, endless_chunks, gzip_bomb

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS as Linux applies it")

CHILD = textwrap.dedent(
    """
    import asyncio, resource, sys
    from airflow_provider_canvas_progress.hooks.canvas import CanvasHook
    from airflow_provider_canvas_progress.core.errors import CanvasError

    def vm_bytes():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    limit = vm_bytes() + 256 * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    async def aget(hook):
        async with hook:
            return await hook.aget_json("/api/v1/big")

    hook = CanvasHook("canvas_hostile")
    try:
        if sys.argv[1] == "sync":
            hook.get_json("/api/v1/big")
        else:
            asyncio.run(aget(hook))
        print("no error")
    except CanvasError as error:
        print(type(error).__name__)
    except MemoryError:
        print("MemoryError")
    """
)


def run_child(server: HostileServer, path: str) -> str:
    connection = {"conn_type": "canvas", "host": server.base_url, "password": "7~memory", "extra": {"max_attempts": 1}}
    env = {**os.environ, "AIRFLOW_CONN_CANVAS_HOSTILE": json.dumps(connection)}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, path], env=env, capture_output=True, text=True, timeout=240, check=False
    )
    lines = done.stdout.strip().splitlines()
    return lines[-1] if lines else done.stderr[-2000:]


@pytest.fixture(scope="module")
def bomb() -> object:
    return gzip_bomb(1024 * 1024 * 1024)  # ~1 MB on the wire, 1 GB inflated


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_one_gigabyte_gzip_bomb_costs_no_memory(hostile: HostileServer, bomb: object, path: str) -> None:
    hostile.script = bomb  # type: ignore[assignment]

    assert run_child(hostile, path) == "CanvasResponseTooLargeError"


@pytest.mark.parametrize("path", ["sync", "async"])
def test_an_endless_stream_costs_no_memory(hostile: HostileServer, path: str) -> None:
    hostile.script = endless_chunks()

    assert run_child(hostile, path) == "CanvasResponseTooLargeError"


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_large_declared_body_costs_no_memory(hostile: HostileServer, path: str) -> None:
    async def script(request: object, writer: asyncio.StreamWriter) -> None:
        size = 1024 * 1024 * 1024  # 1 GB declared and sent, more than the child may hold
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode())
        block = b"0" * (1024 * 1024)
        for _ in range(size // len(block)):
            writer.write(block)
            await writer.drain()

    hostile.script = script  # type: ignore[assignment]

    assert run_child(hostile, path) == "CanvasResponseTooLargeError"
