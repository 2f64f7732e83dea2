"""A total time limit for one delivery over a socket.

Socket timeouts bound each read or write, not the whole exchange: a server that sends a
byte now and then, or accepts and never answers after the greeting, would otherwise hold
the delivery (and the channel's queue behind it) for as long as it likes. When the
deadline passes, the socket is shut down, the blocked call returns at once and the sender
reports an ordinary delivery failure, retried later.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def deadline(seconds: float, sock: Callable[[], socket.socket | None]) -> Iterator[threading.Event]:
    """Shuts down `sock()` (read when the time is up) after `seconds`; the event says it did."""
    expired = threading.Event()

    def fire() -> None:
        expired.set()
        s = sock()
        if s is not None:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield expired
    finally:
        timer.cancel()
