"""Password hashing runs in worker threads, not on the event loop: /healthz answers while a
log-in is hashing (server/accounts/service.py's argon2 held mid-verification here; the
figures with 8 clients logging in are scripts/bench_login_loop.py's)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
import threading
from typing import Any

import orjson
import pytest
from starlette.applications import Starlette

from server.accounts import service

LOGIN = """mutation($mobile: String!) {
  logIn(input: {mobile: $mobile, password: "Wrong2026!"}) { __typename ... on Error { code } }
}"""


async def _call(app: Starlette, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """One request straight through ASGI (no client library, no thread of its own)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("192.0.2.10", 40000),
        "server": ("test", 80),
        "state": {},
    }
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    status = 0
    chunks: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


class HeldHasher:
    """argon2's hasher, held in `verify` until released; notes the threads it ran on."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.threads: list[str] = []

    def verify(self, hash: str, password: str) -> bool:
        self.threads.append(threading.current_thread().name)
        self.entered.release()
        # on the event loop this would hold every request; the timeout makes that a failure
        self.release.wait(timeout=10)
        return bool(self.real.verify(hash, password))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_healthz_answers_while_log_ins_are_hashing(
    app: Starlette, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = HeldHasher(service._hasher)
    monkeypatch.setattr(service, "_hasher", held)

    async def scenario() -> tuple[tuple[int, bytes], list[int], str]:
        loop_thread = threading.current_thread().name
        mobile = f"137{secrets.randbelow(10**8):08d}"
        body = orjson.dumps({"query": LOGIN, "variables": {"mobile": mobile}})
        login = asyncio.create_task(_call(app, "POST", "/graphql", body))
        # the log-in is hashing (held) ...
        assert await asyncio.to_thread(held.entered.acquire, True, 10)
        # ... and the server still answers
        health = [(await _call(app, "GET", "/healthz"))[0] for _ in range(5)]
        assert not login.done()
        held.release.set()
        return await login, health, loop_thread

    # in a thread of its own: the browser tests' Playwright keeps an event loop in this one
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        results, health, loop_thread = pool.submit(asyncio.run, scenario()).result()
    assert health == [200] * 5
    status, body = results
    assert status == 200 and orjson.loads(body)["data"]["logIn"]["code"] == "LOGIN_FAILED"
    # the verification ran on a worker thread, not the loop's
    assert len(held.threads) == 1 and loop_thread not in held.threads
