"""Runs the production start (`python -m server.serving`) in a process of its own for a test.

`serve(...)` picks a free loopback port, starts the command with the given environment
(over a test one: APP_ENV=test, a VAR_DIR of the test's), waits until /healthz answers
and stops the whole process group afterwards. `tests.served_app:create_app` is the
production factory plus what a test needs to see (the worker's pid in a header, captcha
answers a test can know).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_APP = "tests.served_app:create_app"
WORKER_HEADER = "x-test-worker"


@dataclass
class Served:
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()

    def connection(self, timeout: float = 10.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def healthy(host: str, port: int) -> bool:
    try:
        c = http.client.HTTPConnection(host, port, timeout=2)
        c.request("GET", "/healthz")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


@contextlib.contextmanager
def serve(
    tmp_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    startup: float = 120.0,
) -> Iterator[Served]:
    """The production start on a free port; `command` replaces `python -m server.serving`."""
    port = free_port()
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_", "REDIS_", "STORAGE_", "S3_"))
    }
    environ.update(
        {
            "APP_ENV": "test",
            "VAR_DIR": str(tmp_path / "var"),
            "PYTHONPATH": str(ROOT),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "LOG_LEVEL": "INFO",
        }
    )
    environ.update(env or {})
    argv = list(command or [sys.executable, "-m", "server.serving"]) + list(args)
    log = tmp_path / f"server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=preexec_fn,
        )
    served = Served("127.0.0.1", port, process, log)
    try:
        deadline = time.monotonic() + startup
        while not healthy(served.host, port):
            if process.poll() is not None:
                raise AssertionError(f"the server stopped: {log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield served
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
    # workers left behind by a parent that died first
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
