"""The production app factory with what tests of several workers need to see.

- Every response names the worker process that made it (`x-test-worker: <pid>`), so a
  test can tell that requests on fresh connections reached different workers.
- With TEST_CAPTCHA_ANSWER set, every captcha of the supplement portal has that answer,
  so a test can answer a challenge on another worker than the one that drew it.
"""

from __future__ import annotations

import os
from typing import Any

from h5.supplement.routes import PortalConfig
from server.serving import create_app as production_app

WORKER_HEADER = b"x-test-worker"


class NamesWorker:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.pid = str(os.getpid()).encode()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def named(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (WORKER_HEADER, self.pid)]
            await send(message)

        await self.app(scope, receive, named)


def create_app() -> Any:
    app = production_app()
    answer = os.environ.get("TEST_CAPTCHA_ANSWER", "")
    if answer:
        app.state.supplement_portal = PortalConfig(
            login_floor=0.0, answers=lambda _alphabet, _length: answer
        )
    return NamesWorker(app)
