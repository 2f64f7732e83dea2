"""The production start: several uvicorn workers (httptools, uvloop) behind one socket.

    .venv/bin/python -m server.serving --workers 4     # WORKERS, HOST, PORT apply

Before the workers start, the parent brings the database to the newest migration and
builds the search index once, so workers never race to do either. It then imports the
application, loads the search analysis (jieba's dictionary) and opens the directory
store, freezes what it holds out of the garbage collector's reach (`gc.freeze`), and
forks the workers (`--start fork`, the default; uvicorn itself spawns them, `--start
spawn`): every worker shares those pages copy-on-write instead of loading its own. Each
worker opens its own search index (file handles are not shared across a fork); the
index's files are in the page cache once for all. Every worker's
connections go through `Protocol`, uvicorn's httptools protocol with three changes:

- TCP_NODELAY on every accepted socket. Without it, a response written in two pieces
  (head, then body) waits for the client's delayed ACK: about 40 ms per keep-alive
  request on the workers' shared socket with asyncio's loop, where the socket the
  parent made carries no TCP protocol number and asyncio skips the option.
- A cap on open connections below the descriptor limit (RLIMIT_NOFILE, less the
  descriptors the worker already holds and a reserve for database connections, upload
  files and the index): past it a new connection gets a 503 and is closed at once, so
  the accept loop never meets "Too many open files".
- A connection that has not sent a whole request head within HEADER_TIMEOUT_SECONDS is
  closed (an idle connection that never sends anything, or a slow-header drip); idle
  keep-alive connections close after KEEPALIVE_TIMEOUT_SECONDS (uvicorn's own timer).

Conditions that repeat per connection (descriptors running out, the cap reached) are
logged once per LOG_INTERVAL with the number of repeats, never once per attempt.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import functools
import gc
import logging
import os
import resource
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.settings import Settings, from_env

log = logging.getLogger(__name__)

# the app factory the workers serve; tests pass one of their own
APP = "server.app:create_app"
MODULE = "server.serving"  # as imported by the workers, whatever ran it
PROTOCOL = f"{MODULE}:Protocol"
LOG_INTERVAL = 60.0
# descriptors kept free for what a worker opens besides connections
MIN_RESERVE = 64

_REFUSAL_BODY = b'{"errors":[{"message":"Too many connections; try again.","extensions":{"code":"OVERLOADED"}}]}'
_REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"retry-after: 1\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_REFUSAL_BODY), _REFUSAL_BODY)
)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_connections: int
    header_timeout: float


def open_descriptors() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def connection_cap(soft_limit: int, in_use: int) -> int:
    """Connections a worker may hold: the descriptors left below `soft_limit` once those
    `in_use` and a reserve (an eighth of the limit, at least MIN_RESERVE) are set aside."""
    reserve = max(MIN_RESERVE, soft_limit // 8)
    return max(1, soft_limit - in_use - reserve)


@functools.cache
def worker_limits() -> ConnectionLimits:
    """This worker's limits, worked out at its first connection (the app has started by
    then, so its descriptors count as in use)."""
    settings = from_env()
    cap = settings.max_connections
    if cap is None:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        cap = connection_cap(soft, open_descriptors())
    log.info(
        "worker %d: at most %d connections, request heads within %d s",
        os.getpid(),
        cap,
        settings.header_timeout_seconds,
    )
    return ConnectionLimits(cap, float(settings.header_timeout_seconds))


def set_nodelay(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):  # the peer went away already
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with TCP_NODELAY, a connection cap and a header timeout."""

    _refused = False
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_nodelay(transport)
        limits = worker_limits()
        if len(self.connections) >= limits.max_connections:
            self._refused = True
            over_cap.warning(
                "connection refused: this worker holds its maximum of %d connections",
                limits.max_connections,
            )
            transport.write(_REFUSAL)
            transport.close()
            return
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._disarm_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(
                worker_limits().header_timeout, self._head_timed_out
            )

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class OncePerInterval(logging.Filter):
    """Lets one record of a repeating condition through per `interval` seconds, as one line
    (no traceback) saying how many were held back since the last one."""

    def __init__(self, interval: float = LOG_INTERVAL, clock: Any = time.monotonic) -> None:
        super().__init__()
        self.interval = interval
        self.clock = clock
        self.last: float | None = None
        self.held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.repeats(record):
            return True
        now = self.clock()
        if self.last is not None and now - self.last < self.interval:
            self.held += 1
            return False
        self.last = now
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message = f"{message}: {record.exc_info[1]}"
        if self.held:
            message += f" ({self.held} more like it in the last {self.interval:g} s)"
        record.msg, record.args = message, None
        record.exc_info = record.exc_text = None
        self.held = 0
        return True

    def repeats(self, record: logging.LogRecord) -> bool:
        return True


class OutOfDescriptors(OncePerInterval):
    """asyncio's and uvloop's accept errors when descriptors run out."""

    def repeats(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, OSError) and error.errno in (errno.EMFILE, errno.ENFILE):
            return True
        text = str(record.msg)
        return "Too many open files" in text or "out of system resource" in text


over_cap = logging.getLogger(f"{__name__}.cap")


def limit_repeated_logs(interval: float = LOG_INTERVAL) -> None:
    """Once per process: the accept loop's descriptor errors and the cap's refusals are
    logged once per interval. Filters sit on the loggers that emit them, so the handler
    that configure_logging installs (and replaces) keeps them."""
    for name in ("asyncio", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, OutOfDescriptors) for f in logger.filters):
            logger.addFilter(OutOfDescriptors(interval))
    if not over_cap.filters:
        over_cap.addFilter(OncePerInterval(interval))


def create_app() -> Any:
    """The production app factory: the app of server/app.py, logging as above."""
    from server.app import create_app as compose

    limit_repeated_logs()
    return compose()


def preload(settings: Settings) -> None:
    """What every worker would otherwise load for itself, loaded once before they fork:
    the application's modules, the search analysis and the directory."""
    import server.app  # noqa: F401  (the modules every worker imports)
    from server.directory.loader import keep_preloaded, load_directory
    from server.search import analysis

    analysis.initialize()
    keep_preloaded(settings, load_directory(settings))
    gc.collect()
    gc.freeze()  # collections in the workers leave the parent's objects (and pages) alone


def fork_workers() -> None:
    """uvicorn's supervisor starts its workers with multiprocessing's "spawn" (a fresh
    interpreter each); "fork" lets them share what `preload` loaded."""
    import multiprocessing

    import uvicorn._subprocess

    uvicorn._subprocess.spawn = multiprocessing.get_context("fork")  # type: ignore[assignment]


def prepare(settings: Settings) -> None:
    """What the workers must not race to do: migrations and the search index."""
    from server.crypto import vault_for
    from server.db import make_engine, migrate
    from server.directory.loader import load_directory
    from server.search import analysis
    from server.search.factory import open_engine

    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine, vault_for(settings.secret_key, settings.encryption_key))
    finally:
        engine.dispose()
    analysis.initialize()
    open_engine(settings, load_directory(settings))


def uvicorn_options(settings: Settings, *, workers: int, loop: str = "uvloop") -> dict[str, Any]:
    return {
        "factory": True,
        "host": settings.host,
        "port": settings.port,
        "workers": workers,
        "loop": loop,
        "http": PROTOCOL,
        "proxy_headers": True,
        "timeout_keep_alive": settings.keepalive_timeout_seconds,
        "timeout_graceful_shutdown": 30,
        "log_config": None,  # configure_logging routes uvicorn's loggers
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m server.serving", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--workers", type=int, help="worker processes (default: WORKERS)")
    parser.add_argument("--host", help="address to listen on (default: HOST)")
    parser.add_argument("--port", type=int, help="port (default: PORT)")
    parser.add_argument("--app", default=f"{MODULE}:create_app", help=argparse.SUPPRESS)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument(
        "--start",
        choices=("fork", "spawn"),
        default="fork",
        help="fork the workers from a parent that loaded the app and the directory (shared "
        "pages), or spawn fresh interpreters",
    )
    parser.add_argument(
        "--no-prepare", action="store_true", help="skip migrations and the index build"
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="run the migrations and build the index, then exit",
    )
    args = parser.parse_args(argv)

    settings = from_env()
    changes: dict[str, Any] = {}
    if args.host:
        changes["host"] = args.host
    if args.port is not None:
        changes["port"] = args.port
    if args.workers is not None:
        changes["workers"] = args.workers
    if changes:
        try:
            settings = settings.with_(**changes)
        except ValueError as e:
            parser.error(str(e))
        # the workers read the environment: they see what the parent was told
        os.environ.update({name.upper(): str(value) for name, value in changes.items()})

    from server.logs import configure_logging

    configure_logging(settings)
    limit_repeated_logs()
    if not args.no_prepare or args.prepare_only:
        from server.directory.validation import InvalidDirectoryData

        try:
            prepare(settings)
        except InvalidDirectoryData as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    if args.prepare_only:
        return 0

    import uvicorn

    from server.metrics import reset_multiprocess_dir

    reset_multiprocess_dir()  # the last run's counts would add up with this run's
    if args.start == "fork" and settings.workers > 1:
        from server.directory.validation import InvalidDirectoryData

        try:
            preload(settings)
        except InvalidDirectoryData as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        fork_workers()
    uvicorn.run(args.app, **uvicorn_options(settings, workers=settings.workers, loop=args.loop))
    return 0


if __name__ == "__main__":
    sys.exit(main())
