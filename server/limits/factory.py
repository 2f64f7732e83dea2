"""The app's limiter: counters in Redis when REDIS_URL is set, else in the database."""

from __future__ import annotations

from server.clock import Clock
from server.limits import Limiter
from server.settings import Settings


def make_limiter(settings: Settings, clock: Clock) -> Limiter:
    if settings.redis_url:
        from server.limits.redis_store import RedisBackend

        return Limiter(
            RedisBackend.from_url(settings.redis_url, f"{settings.redis_prefix}limit:"), clock
        )
    from server.limits.database import DatabaseBackend

    return Limiter(DatabaseBackend(), clock)
