"""Issue (or revoke) a partner app's API key in the configured database.

The key is printed once; only its SHA-256 is stored. Partners send it as `X-Api-Key` on
/graphql; each key has its own rate (requests per minute) and cost (query-cost points per
minute) budget. A revoked key is refused with 401 `PARTNER_KEY_REVOKED`.

    .venv/bin/python -m scripts.create_partner_key --name "Clinic finder app" \
        --rate-per-minute 600 --cost-per-minute 2000000
    .venv/bin/python -m scripts.create_partner_key --revoke 3
"""

from __future__ import annotations

import argparse
import sys

from server.clock import system_clock
from server.db import make_engine, make_sessionmaker, migrate, unit_of_work
from server.partners import service as partners
from server.settings import from_env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.create_partner_key", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--name", help="who the key is for, e.g. the partner app's name")
    parser.add_argument("--rate-per-minute", type=int, default=600, help="requests per minute")
    parser.add_argument(
        "--cost-per-minute", type=int, default=2_000_000, help="query-cost points per minute"
    )
    parser.add_argument("--revoke", type=int, metavar="ID", help="revoke the key with this id")
    args = parser.parse_args(argv)
    if (args.name is None) == (args.revoke is None):
        parser.error("give --name (issue a key) or --revoke ID")
    settings = from_env()
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        with unit_of_work(make_sessionmaker(engine)) as db:
            if args.revoke is not None:
                row = partners.revoke(db, system_clock, args.revoke)
                if row is None:
                    print(f"create_partner_key: no key {args.revoke}", file=sys.stderr)
                    return 1
                print(f"revoked key {row.id} ({row.prefix}..., {row.name})")
                return 0
            try:
                row, raw = partners.issue(
                    db,
                    system_clock,
                    args.name,
                    rate_per_minute=args.rate_per_minute,
                    cost_per_minute=args.cost_per_minute,
                )
            except ValueError as e:
                print(f"create_partner_key: {e}", file=sys.stderr)
                return 2
            key_id = row.id
    finally:
        engine.dispose()
    print(f"key {key_id} for {args.name}: {raw}")
    print("shown once: give it to the partner now (header X-Api-Key)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
