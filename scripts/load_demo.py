"""Load the development demo data into the configured database (DATABASE_URL or var/).

Refuses to run in production: the people in it are invented.
"""

from __future__ import annotations

import sys

from server.accounts.wiring import member_services
from server.claims.adjusters import load_demo_adjuster
from server.db import make_engine, make_sessionmaker, migrate, unit_of_work
from server.policies.demo import load_demo
from server.settings import from_env


def main() -> int:
    settings = from_env()
    if settings.environment == "production":
        print(
            "load_demo: refusing to load invented people into a production database",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    vault = member_services(settings).vault
    with unit_of_work(make_sessionmaker(engine)) as db:
        data = load_demo(db, vault)
        adjuster = load_demo_adjuster(db, vault)
    engine.dispose()
    print("demo data ready; development logins (mobile / password):")
    for mobile, password, who in data.logins:
        print(f"  {mobile} / {password}  {who}")
    print("back office (username / password):")
    print(f"  {adjuster[0]} / {adjuster[1]}  {adjuster[2]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
