"""Answers kept for identical public requests: in process, and in Redis when configured.

The cache knows bytes under string keys, nothing of what they are: the edge that uses it
decides which requests may share an answer and puts everything the answer depends on into
the key (see `schema/response_cache.py`). The in-process part is a least-recently-used
map bounded in bytes; Redis, shared by every worker, keeps an answer for a short time and
is consulted when the process has none. A Redis that cannot be reached makes a miss, never
an error: the request is answered without the cache.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from server.settings import Settings

log = logging.getLogger(__name__)

# An answer larger than this share of the cache is not kept: one huge answer would
# otherwise push out hundreds of ordinary ones.
_LARGEST_SHARE = 16
_REDIS_TIMEOUT_S = 0.05
_REDIS_PAUSE_S = 5.0  # after a Redis failure, how long to do without it


class MemoryCache:
    """Least recently used first out, at most ``max_bytes`` of answers (keys included)."""

    def __init__(self, max_bytes: int, largest: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.largest = max_bytes // _LARGEST_SHARE if largest is None else largest
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: str, value: bytes) -> None:
        size = len(key) + len(value)
        if size > self.largest:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(key) + len(old)
            self._entries[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes:
                k, v = self._entries.popitem(last=False)
                self._bytes -= len(k) + len(v)

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes


class ResponseCache:
    """The process's answers, then Redis's (shared, ``ttl_seconds``) when a client is given."""

    def __init__(
        self,
        memory: MemoryCache,
        redis: Any = None,
        ttl_seconds: int = 60,
        prefix: str = "response:",
    ) -> None:
        self.memory = memory
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self.prefix = prefix
        self._pause_until = 0.0

    def _redis(self) -> Any:
        if self.redis is None or time.monotonic() < self._pause_until:
            return None
        return self.redis

    def _failed(self, action: str, error: Exception) -> None:
        # a Redis that is down would otherwise cost a timeout on every request
        self._pause_until = time.monotonic() + _REDIS_PAUSE_S
        log.warning("response cache: Redis %s failed (%s)", action, type(error).__name__)

    def get(self, key: str) -> bytes | None:
        value = self.memory.get(key)
        redis = self._redis()
        if value is not None or redis is None:
            return value
        try:
            value = redis.get(self.prefix + key)
        except Exception as error:  # Redis down or slow: answer without the cache
            self._failed("get", error)
            return None
        if value is not None:
            value = bytes(value)
            self.memory.put(key, value)
        return value

    def put(self, key: str, value: bytes) -> None:
        self.memory.put(key, value)
        redis = self._redis()
        if redis is None:
            return
        try:
            redis.set(self.prefix + key, value, ex=self.ttl_seconds)
        except Exception as error:
            self._failed("set", error)


def make_response_cache(settings: Settings) -> ResponseCache | None:
    """The cache the settings ask for; None when RESPONSE_CACHE_MB is 0."""
    if settings.response_cache_mb == 0:
        return None
    memory = MemoryCache(settings.response_cache_mb * 1024 * 1024)
    redis = None
    if settings.redis_url:
        import redis as redis_module

        redis = redis_module.Redis.from_url(
            settings.redis_url,
            socket_timeout=_REDIS_TIMEOUT_S,
            socket_connect_timeout=_REDIS_TIMEOUT_S,
        )
    return ResponseCache(memory, redis, settings.response_cache_seconds)
