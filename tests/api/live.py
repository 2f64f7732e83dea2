"""The app under a real uvicorn on a loopback port, over a database whose commits are real.

For tests of what only shows with real connections and threads: concurrent uploads
through the server's thread pool, keep-alive connections, bodies that drip in.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from server.accounts.wiring import MemberServices
from server.app import create_app
from server.claims.core import ClaimContext
from server.services import Services
from tests.h5.browser_helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


def committed_app(
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
    factory: sessionmaker[Session],
    **settings: Any,
) -> Starlette:
    """The test app over `factory` (real commits), the test members and claims."""
    changed = claims.settings.with_(**settings)
    cx = dataclasses.replace(claims, settings=changed)
    s = dataclasses.replace(services, settings=changed, db=factory, members=members, claims=cx)
    return create_app(changed, services=s)


@contextmanager
def live(app: Starlette, *, http: str = "httptools") -> Iterator[str]:
    """`app` served by uvicorn on 127.0.0.1 at a free port, in a thread; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        ws="none",
        http=http,  # type: ignore[arg-type]
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class ServerProcess:
    """`uvicorn --factory server.app:create_app` as a process of its own, on a free port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--factory",
                    "server.app:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--no-access-log",
                ],
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT), **self.env},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no clean-up code of the server runs."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
