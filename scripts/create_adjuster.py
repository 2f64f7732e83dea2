"""Create a claims adjuster account in the configured database (DATABASE_URL or var/).

Adjusters cannot sign up: the claims department creates them here. The password is
read from ADJUSTER_PASSWORD or asked for (twice, not echoed), never taken from the
command line, where it would stay in the shell history and the process list.

    .venv/bin/python -m scripts.create_adjuster --username wang.fang --name 王芳 \
        --email wang.fang@insurer.example
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from server.claims.adjusters import AdjusterExists, create_adjuster
from server.crypto import vault_for
from server.db import make_engine, make_sessionmaker, migrate, unit_of_work, utcnow
from server.errors import ValidationFailed
from server.settings import from_env


def _password() -> str | None:
    env = os.environ.get("ADJUSTER_PASSWORD")
    if env:
        return env
    if not sys.stdin.isatty():
        print("create_adjuster: set ADJUSTER_PASSWORD or run in a terminal", file=sys.stderr)
        return None
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        print("create_adjuster: the passwords differ", file=sys.stderr)
        return None
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.create_adjuster", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--username", required=True, help="log-in name, e.g. wang.fang")
    parser.add_argument("--name", required=True, help="the adjuster's name, shown in the app")
    parser.add_argument(
        "--email", default="", help="where supplement arrivals are announced (may be empty)"
    )
    parser.add_argument(
        "--role",
        choices=("adjuster", "coordinator"),
        default="adjuster",
        help="adjuster (claims) or coordinator (direct-billing appointments)",
    )
    args = parser.parse_args(argv)
    password = _password()
    if password is None:
        return 2
    settings = from_env()
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        vault = vault_for(settings.secret_key, settings.encryption_key)
        with unit_of_work(make_sessionmaker(engine)) as db:
            adjuster = create_adjuster(
                db,
                vault,
                username=args.username,
                name=args.name,
                email=args.email,
                password=password,
                now=utcnow(),
                role=args.role,
            )
            username = adjuster.username
    except ValidationFailed as e:
        for p in e.problems:
            print(f"create_adjuster: {p.field}: {p.message}", file=sys.stderr)
        return 1
    except AdjusterExists as e:
        print(f"create_adjuster: {e.message}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{args.role} {username} created")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
