"""A real `redis-server` for tests: loopback, an OS-chosen port, no persistence, in a temp dir."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support import free_port


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """Yields `redis://127.0.0.1:PORT/0`; stops the server (and its files) afterwards."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run scripts/setup.sh (it apt-installs it)")
    workdir.mkdir(parents=True, exist_ok=True)
    for _ in range(5):  # the port may be taken between choosing it and the bind
        port = free_port()
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                 "--appendonly", "no", "--dir", str(workdir), "--protected-mode", "yes"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if _ready(port, proc):
            break
        proc.kill()
        proc.wait()
    else:
        pytest.fail("redis-server did not start on a free port in 5 attempts")
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _ready(port: int, proc: subprocess.Popen[bytes]) -> bool:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            return bool(client.ping())
        except redis.RedisError:
            time.sleep(0.05)
    return False
