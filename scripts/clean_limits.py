"""Delete the limiter's counters that no longer count for anything: windows closed, waits
and locks over (server/limits). Run it now and then, hourly say, from cron; the counters
it removes would only be started afresh by their next try anyway. With REDIS_URL set
there is nothing to do: Redis expires its counters by itself.

    .venv/bin/python -m scripts.clean_limits
"""

from __future__ import annotations

import argparse

from server.db import make_engine, make_sessionmaker, migrate, unit_of_work, utcnow
from server.limits.factory import make_limiter
from server.settings import from_env


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    settings = from_env()
    limiter = make_limiter(settings, utcnow)
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        with unit_of_work(make_sessionmaker(engine)) as db:
            removed = limiter.purge(db)
    finally:
        engine.dispose()
    print(f"removed {removed} spent limit counters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
