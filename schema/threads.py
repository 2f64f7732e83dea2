"""Blocking, CPU-heavy work of resolvers (argon2 password hashing) in worker threads.

`cpu_bound` runs a call in a worker thread, at most one per CPU at a time: argon2 spends
its memory and CPU outside the GIL, so unbounded it would crowd out the event loop's
thread as surely as running on it; bounded, tries queue for a thread and the loop keeps a
core's share.
"""

from __future__ import annotations

import asyncio
import functools
import os
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter

P = ParamSpec("P")
T = TypeVar("T")

# one per event loop (its waiters belong to that loop; tests run several loops)
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _cpu_limiter() -> CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = CapacityLimiter(max(1, os.cpu_count() or 1))
    return limiter


async def cpu_bound(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await anyio.to_thread.run_sync(
        functools.partial(fn, *args, **kwargs), limiter=_cpu_limiter()
    )
