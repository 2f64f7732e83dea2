"""What every signed-in request costs besides its own work, in process, on PostgreSQL.

The app runs in this process (no server, no sockets: an ASGI client calls it), and each
kind of request is sent `--requests` times by one member; printed per request: CPU of
this process (the client's share included, the same for every line) and the SQL
statements counted by the app's DB_STATS counters.

- `GET /healthz`: the HTTP stack and the client, nothing else;
- `{ __typename }` with a bearer token: plus the GraphQL layer and the cost budget (no
  database: the payer is remembered);
- `{ viewer { realNameVerified } }`: plus signing in (one statement) and its transaction;
- `updateClaimBasics`: a cheap mutation (the claim read and written);
- sign-in alone: `authenticate_session` in a transaction of its own, without HTTP;
- the first request of a session the budget has not seen: the statements it takes.

    .venv/bin/python -m scripts.bench_request_overhead
    .venv/bin/python -m scripts.bench_request_overhead --requests 2000 --rounds 5

Members are fictional, made for the run in a schema of their own, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from scripts import bench_claims as claims
from server.crypto import vault_for


async def _measure(
    send: Callable[[], Awaitable[None]], requests: int, rounds: int, stats: Any
) -> tuple[float, float]:
    """(best CPU ms per request over `rounds`, statements per request)."""
    for _ in range(max(requests // 10, 5)):  # warm: caches, pool, compiled statements
        await send()
    best = float("inf")
    before = stats.snapshot()["statements"]
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(requests):
            await send()
        best = min(best, (time.process_time() - started) / requests * 1000)
    statements = (stats.snapshot()["statements"] - before) / (requests * rounds)
    return best, statements


async def run(app: Any, members: list[claims.Member], requests: int, rounds: int) -> None:
    import httpx2 as httpx

    stats = app.state.services.db_stats
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
        member = members[0]
        auth = {"Authorization": f"Bearer {member.token}"}
        claim_id = await claims.new_draft(http, member)
        incident = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
        basics = {
            "claimId": claim_id,
            "address": "上海市浦东新区世纪大道100号",
            "incidentType": "DISEASE",
            "incidentDate": incident,
            "claimType": "OUTPATIENT",
        }

        async def healthz() -> None:
            (await http.get("/healthz")).raise_for_status()

        def graphql(query: str) -> Callable[[], Awaitable[None]]:
            async def send() -> None:
                r = await http.post("/graphql", json={"query": query}, headers=auth)
                if r.status_code != 200 or "errors" in r.json():
                    raise SystemExit(f"{query}: {r.status_code} {r.text[:200]}")

            return send

        async def update_basics() -> None:
            await claims._gql(http, member, claims.BASICS, input=basics)

        print(f"per request, best of {rounds} rounds of {requests} (CPU of this process):")
        print("  CPU ms   SQL  request")
        for name, send in (
            ("GET /healthz", healthz),
            ("{ __typename } (signed in)", graphql("{ __typename }")),
            ("{ viewer { realNameVerified } }", graphql("{ viewer { realNameVerified } }")),
            ("updateClaimBasics", update_basics),
        ):
            cpu, statements = await _measure(send, requests, rounds, stats)
            print(f"  {cpu:6.3f} {statements:5.1f}  {name}")
        factory = app.state.services.db
        accounts = app.state.services.members.accounts

        async def sign_in() -> None:
            with factory() as db:
                accounts.authenticate_session(db, member.token)
                db.commit()

        cpu, statements = await _measure(sign_in, requests, rounds, stats)
        print(f"  {cpu:6.3f} {statements:5.1f}  sign-in alone (its own transaction, no HTTP)")
        first = []
        for other in members[1:]:
            before = stats.snapshot()["statements"]
            await claims._gql(
                http,
                other,
                claims.CONTACT,
                input={"address": "上海市浦东新区世纪大道100号", "email": "m@example.com"},
            )
            first.append(stats.snapshot()["statements"] - before)
        print(f"  saveClaimContact as a session's first request: {max(first)} statements")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=claims.DEFAULT_DB)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    schema = "bench_overhead_" + uuid.uuid4().hex[:8]
    var = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    sep = "&" if "?" in args.database_url else "?"
    os.environ.update(
        APP_ENV="test",
        GRAPHQL_ANONYMOUS_BUDGET=str(10**9),
        GRAPHQL_SIGNED_IN_BUDGET=str(10**9),
        NOTIFIER="off",
        SECRET_KEY=claims.SECRET,
        DATABASE_URL=f"{args.database_url}{sep}options=-csearch_path%3D{schema}",
        VAR_DIR=str(var),
        DB_STATS="1",
        LOG_LEVEL="WARNING",
        STORAGE_DIR=str(var / "uploads"),
        BASE_URL="http://bench",
    )
    members = claims.prepare(args.database_url, schema, 4, vault_for(claims.SECRET))
    try:
        from server.app import create_app

        asyncio.run(run(create_app(), members, args.requests, args.rounds))
    finally:
        claims.drop(args.database_url, schema)


if __name__ == "__main__":
    main()
