"""Headless Chromium and a live server for the H5 browser tests.

The browser is the one the system installs, never a downloaded one, started with flags
that keep it off the network (no updates, sync or QUIC). Where it cannot run the tests
skip, or fail when REQUIRE_BROWSER=1 (as CI sets it).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def unavailable(reason: str) -> None:
    # CI installs chromium and sets REQUIRE_BROWSER=1: there a missing browser is a failure
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required but cannot run: {reason}")
    pytest.skip(reason)


def require_chromium() -> None:
    """Skips (or fails) unless both Chromium and Playwright are installed."""
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is not installed")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:  # pragma: no cover - playwright is a test dependency
        unavailable(f"playwright is not installed: {e}")


def launch_chromium(pw: Any) -> Any:
    """The installed Chromium, headless, from a started Playwright."""
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def watch_page(page: Any) -> list[str]:
    """Script errors, CSP violations and failed sub-requests of a page, as they happen."""
    errors: list[str] = []

    def on_console(message: Any) -> None:
        # a Content-Security-Policy violation or a script error shows up here; a page
        # answered 400/404 on purpose is logged as a failed load and checked elsewhere
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", on_response)
    return errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Starlette, port: int) -> Iterator[None]:
    """The app under uvicorn on 127.0.0.1:port, in a thread, until the block ends."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none", http="h11"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
