"""A mixed load against the production start on PostgreSQL, with 1 and then 2 workers.

    .venv/bin/python -m scripts.load_scenario                          # 30 s per worker count
    .venv/bin/python -m scripts.load_scenario --seconds 20 --workers 1,2,4 --redis-url redis://127.0.0.1:6379/0

For --seconds per worker count, three kinds of client run side by side (headless,
loopback only, each behind an address of its own in X-Forwarded-For as a proxy would
pass it, so per-address limits apply per simulated person):

- directory (--directory clients): GraphQL searches (text, text near a point, facets)
  and an H5 list page, one after the other;
- claims (--claims clients): the whole self-service claim of scripts/bench_claims.py,
  10 requests with an invoice photo, a medical record and a signature;
- supplement portal (--portal clients): the link of a claim waiting for documents, the
  captcha image, the log-in, the supplement page, one photo uploaded, log-out.

It prints per kind the completed flows per second, p50/p95 of a flow and the failures,
then claims per second per worker count and the ratio of each to one worker. Everything
happens in a PostgreSQL schema of its own (and Redis keys under a prefix of their own),
removed at the end. The server is `python -m server.serving` serving this module's
`create_app`: the production app whose portal captchas all have one answer the
benchmark knows (a person reads it off the image).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.bench_claims import (
    DEFAULT_DB,
    SECRET,
    FlowFailed,
    Member,
    count_duplicates,
    drop,
    percentile,
    photo,
    prepare,
    run_flow,
)
from server.settings import ROOT

CAPTCHA = "ACE23"
SEARCHES = [
    ('{ facilities(text: "医院", first: 20) { totalCount edges { node { id nameZh } } } }', {}),
    (
        'query($p: GeoPointInput!) { facilities(text: "renji", near: $p, sort: DISTANCE, '
        "first: 20) { edges { distanceKm node { id nameEn addressEn phone } } } }",
        {"p": {"lat": 31.2317, "lng": 121.4726}},
    ),
    (
        "query($p: GeoPointInput!) { facilities(kind: DENTAL, near: $p, sort: DISTANCE, "
        "first: 10) { edges { distanceKm node { id nameEn } } } }",
        {"p": {"lat": 31.2, "lng": 121.5}},
    ),
    ("{ facilityFacets(kind: MEDICAL) { totalCount districts { value count } } }", {}),
]
H5_PAGES = ["/h5/en/medical", "/h5/zh/dental", "/h5/en/medical?q=renji"]


def create_app() -> Any:
    """The production app, its portal captchas all answered by CAPTCHA (benchmarks only)."""
    from h5.supplement.routes import PortalConfig
    from server.serving import create_app as production_app

    app = production_app()
    app.state.supplement_portal = PortalConfig(answers=lambda _alphabet, _length: CAPTCHA)
    return app


@dataclass
class Kind:
    done: int = 0
    ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def fail(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1


@dataclass
class Portal:
    path: str  # /h5/supplement/<token>
    name: str


# --- data ---------------------------------------------------------------------------------------


def portal_claims(url: str, schema: str, members: list[Member], count: int) -> list[Portal]:
    """Claims of the first `count` members, each waiting for documents (a real request)."""
    from sqlalchemy import select

    from server.accounts.models import Account
    from server.accounts.wiring import member_services
    from server.claims import core, supplements
    from server.claims.core import claim_context
    from server.claims.models import Adjuster, Claim, ClaimStatus
    from server.clock import system_clock
    from server.db import make_engine, make_sessionmaker
    from server.policies.models import Person, Policy, Relation
    from server.settings import Settings

    settings = Settings(environment="test", secret_key=SECRET)
    services = member_services(settings)
    cx = claim_context(settings, services.vault, services.accounts.codes, system_clock)
    engine = make_engine(url, schema=schema)
    out = []
    try:
        with make_sessionmaker(engine)() as db:
            now = datetime.datetime.now(datetime.UTC)
            adjuster = Adjuster(
                username="load.adjuster",
                display_name_enc=services.vault.encrypt("负载审核"),
                email_enc=services.vault.encrypt("adjuster@example.com"),
                password_hash="-",
                active=True,
                created_at=now,
            )
            db.add(adjuster)
            db.flush()
            for member in members[:count]:
                account = db.scalars(
                    select(Account).where(
                        Account.phone_hash == services.vault.lookup(member.phone, kind="phone")
                    )
                ).one()
                policy = db.get(Policy, member.policy_id)
                person = db.get(Person, account.person_id)
                assert policy is not None and person is not None
                claim = Claim(
                    account_id=account.id,
                    applicant_id=person.id,
                    policy_id=policy.id,
                    insured_id=person.id,
                    relation=Relation.SELF,
                    plan_rules="DEFAULT",
                    status=ClaimStatus.SUBMITTED,
                    claim_type="OUTPATIENT",
                    claim_no=core.next_claim_no(db, now),
                    submitted_at=now,
                    waiting_since=now,
                    created_at=now,
                    updated_at=now,
                )
                db.add(claim)
                db.flush()
                _request, token = supplements.request_supplement(
                    db, cx, adjuster, claim, ["INVOICE"], "请补充发票原件照片。"
                )
                out.append(
                    Portal(f"/h5/supplement/{token}", services.vault.decrypt(person.name_enc))
                )
            db.commit()
    finally:
        engine.dispose()
    return out


# --- the server ---------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    url: str, schema: str, redis_url: str, prefix: str, workers: int, var: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    sep = "&" if "?" in url else "?"
    env = dict(
        os.environ,
        APP_ENV="test",
        # the load comes from one address: cost budgets out of the way of the figures
        GRAPHQL_ANONYMOUS_BUDGET=str(10**9),
        GRAPHQL_SIGNED_IN_BUDGET=str(10**9),
        NOTIFIER="off",
        SECRET_KEY=SECRET,
        DATABASE_URL=f"{url}{sep}options=-csearch_path%3D{schema}",
        VAR_DIR=str(var),
        STORAGE_DIR=str(var / "uploads"),
        BASE_URL=f"http://127.0.0.1:{port}",
        HOST="127.0.0.1",
        PORT=str(port),
        WORKERS=str(workers),
        LOG_LEVEL="WARNING",
    )
    env.pop("REDIS_URL", None)
    if redis_url:
        env.update(REDIS_URL=redis_url, REDIS_PREFIX=prefix)
    server = subprocess.Popen(
        [sys.executable, "-m", "server.serving", "--app", "scripts.load_scenario:create_app"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            time.sleep(2 + 2 * workers)  # the other workers finish starting
            return server, port
        except OSError:
            if server.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit("the server did not answer /healthz")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- the clients --------------------------------------------------------------------------------


def address(n: int) -> str:
    """A client's own address, as a proxy would pass it (never contacted)."""
    return f"198.18.{n // 250}.{n % 250 + 1}"


async def directory_client(http: Any, n: int, end: float, kind: Kind) -> None:
    rng = random.Random(n)
    headers = {"x-forwarded-for": address(n)}
    while time.monotonic() < end:
        started = time.perf_counter()
        try:
            for query, variables in rng.sample(SEARCHES, 3):
                r = await http.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                if r.status_code != 200 or "errors" in r.json():
                    raise FlowFailed(f"search HTTP {r.status_code}")
            r = await http.get(rng.choice(H5_PAGES), headers=headers)
            if r.status_code != 200:
                raise FlowFailed(f"H5 page HTTP {r.status_code}")
            kind.done += 1
            kind.ms.append((time.perf_counter() - started) * 1000)
        except FlowFailed as e:
            kind.fail(str(e))


async def claim_client(
    http: Any, n: int, end: float, kind: Kind, queue: asyncio.Queue[Member], read_code: Any
) -> None:
    from scripts.bench_claims import Figures

    i = 0
    while time.monotonic() < end:
        try:
            member = queue.get_nowait()
        except asyncio.QueueEmpty:
            kind.fail("members exhausted (raise --members)")
            return
        i += 1
        figures = Figures()
        started = time.perf_counter()
        seed = 2 * (n * 100_000 + i) + 7_000_000 * (queue.maxsize % 7)
        await run_flow(http, member, figures, read_code, photo(seed), photo(seed + 1), resend=False)
        if figures.claims:
            kind.done += 1
            kind.ms.append((time.perf_counter() - started) * 1000)
        for what, count in figures.failures.items():
            kind.failures[what] = kind.failures.get(what, 0) + count


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    if m is None:
        raise FlowFailed(f"no {name} on the page")
    return m.group(1)


async def portal_client(
    base: str, n: int, end: float, kind: Kind, claims: list[Portal], image: bytes
) -> None:
    import httpx2 as httpx

    headers = {"x-forwarded-for": address(1000 + n)}
    i = 0
    while time.monotonic() < end:
        claim = claims[(n + i * 7) % len(claims)]
        i += 1
        started = time.perf_counter()
        # a browser of its own each time: cookies start empty
        async with httpx.AsyncClient(base_url=base, timeout=60, headers=headers) as http:
            try:
                r = await http.get(claim.path)
                if r.status_code != 200:
                    raise FlowFailed(f"portal page HTTP {r.status_code}")
                csrf, challenge = _hidden(r.text, "csrf"), _hidden(r.text, "captcha_id")
                r = await http.get(f"/h5/supplement/captcha/{challenge}")
                if r.status_code != 200:
                    raise FlowFailed(f"captcha HTTP {r.status_code}")
                form = {"csrf": csrf, "captcha_id": challenge, "captcha": CAPTCHA}
                r = await http.post(claim.path, data=form | {"name": claim.name})
                if r.status_code != 303:
                    raise FlowFailed(f"portal log-in HTTP {r.status_code}")
                r = await http.get("/h5/supplement/claim")
                if r.status_code != 200:
                    raise FlowFailed(f"supplement page HTTP {r.status_code}")
                token = _hidden(r.text, "csrf")
                r = await http.post(
                    "/h5/supplement/claim/upload",
                    params={"category": "INVOICE"},
                    files={"file": ("invoice.jpg", image, "image/jpeg")},
                    headers={"accept": "application/json", "x-csrf-token": token},
                )
                if r.status_code != 201:
                    raise FlowFailed(f"portal upload HTTP {r.status_code}")
                r = await http.post("/h5/supplement/claim/logout", data={"csrf": token})
                if r.status_code not in (200, 303):
                    raise FlowFailed(f"portal log-out HTTP {r.status_code}")
                kind.done += 1
                kind.ms.append((time.perf_counter() - started) * 1000)
            except FlowFailed as e:
                kind.fail(str(e))


async def run_mix(
    port: int,
    args: argparse.Namespace,
    members: list[Member],
    claims: list[Portal],
    read_code: Any,
) -> tuple[dict[str, Kind], float]:
    import httpx2 as httpx

    base = f"http://127.0.0.1:{port}"
    kinds = {"directory": Kind(), "claims": Kind(), "portal": Kind()}
    queue: asyncio.Queue[Member] = asyncio.Queue(maxsize=len(members))
    for m in members:
        queue.put_nowait(m)
    end = time.monotonic() + args.seconds
    started = time.monotonic()
    limits = httpx.Limits(max_connections=4 * (args.directory + args.claims))
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:

        async def claims_with_address(n: int) -> None:
            async with httpx.AsyncClient(
                base_url=base, timeout=60, headers={"x-forwarded-for": address(2000 + n)}
            ) as own:
                await claim_client(own, n, end, kinds["claims"], queue, read_code)

        await asyncio.gather(
            *(directory_client(http, n, end, kinds["directory"]) for n in range(args.directory)),
            *(claims_with_address(n) for n in range(args.claims)),
            *(
                portal_client(base, n, end, kinds["portal"], claims, photo(900_000 + n))
                for n in range(args.portal)
            ),
        )
    return kinds, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.load_scenario",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--redis-url", default="", help="limits in Redis (else the database)")
    parser.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--directory", type=int, default=8, help="directory clients")
    parser.add_argument("--claims", type=int, default=16, help="claim clients")
    parser.add_argument("--portal", type=int, default=4, help="supplement portal clients")
    parser.add_argument("--members", type=int, default=1500)
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("the load scenario runs against PostgreSQL")
    if args.seconds <= 0 or args.seconds > 600:
        parser.error("--seconds must be in (0, 600]")
    counts = [int(n) for n in args.workers.split(",")]

    from sqlalchemy import select

    from server.accounts.models import SmsOutbox
    from server.crypto import vault_for
    from server.db import make_engine, make_sessionmaker

    vault = vault_for(SECRET)
    schema = f"load_{uuid.uuid4().hex[:8]}"
    prefix = f"load:{schema}:"
    var = Path(tempfile.mkdtemp(prefix="load-scenario-"))
    print(f"preparing {args.members} members in schema {schema} ...", flush=True)
    members = prepare(args.database_url, schema, args.members, vault)
    claims = portal_claims(args.database_url, schema, members, max(args.portal * 4, 8))
    members = members[len(claims) :]
    engine = make_engine(args.database_url, schema=schema)
    factory = make_sessionmaker(engine)

    def read_code(phone: str) -> str | None:
        with factory() as db:
            body = db.scalar(
                select(SmsOutbox.body)
                .where(SmsOutbox.phone_hash == vault.lookup(phone, kind="phone"))
                .order_by(SmsOutbox.id.desc())
                .limit(1)
            )
        m = re.search(r"\d{6}", body or "")
        return m.group() if m else None

    results: dict[int, tuple[dict[str, Kind], float]] = {}
    try:
        share = len(members) // len(counts)
        for i, workers in enumerate(counts):
            server, port = start_server(
                args.database_url, schema, args.redis_url, prefix, workers, var
            )
            try:
                mine = members[i * share : (i + 1) * share]
                kinds, elapsed = asyncio.run(run_mix(port, args, mine, claims, read_code))
            finally:
                stop_server(server)
            results[workers] = (kinds, elapsed)
            print(
                f"\n{workers} worker(s), {elapsed:.1f} s, clients: {args.directory} directory, "
                f"{args.claims} claims, {args.portal} portal"
            )
            for name, kind in kinds.items():
                print(
                    f"  {name:10} {kind.done:5} flows  {kind.done / elapsed:6.2f}/s  "
                    f"p50 {percentile(kind.ms, 0.5):6.0f} ms  p95 {percentile(kind.ms, 0.95):6.0f} ms"
                    + (f"  failures {kind.failures}" if kind.failures else "")
                )
        submitted, dup_numbers, dup_keys = count_duplicates(args.database_url, schema)
        print(f"\nclaims in the database: {submitted}")
        print(
            f"\nduplicates: {dup_numbers} repeated claim numbers, {dup_keys} repeated client keys"
        )
        one = results.get(counts[0])
        base_rate = one[0]["claims"].done / one[1] if one else 0.0
        print("\n| workers | claims/s | directory flows/s | portal flows/s | claims/s vs 1st |")
        print("|---|---|---|---|---|")
        for workers, (kinds, elapsed) in results.items():
            rate = kinds["claims"].done / elapsed
            ratio = rate / base_rate if base_rate else float("nan")
            print(
                f"| {workers} | {rate:.2f} | {kinds['directory'].done / elapsed:.2f} | "
                f"{kinds['portal'].done / elapsed:.2f} | ×{ratio:.2f} |"
            )
        return 0 if dup_numbers == 0 and dup_keys == 0 else 1
    finally:
        engine.dispose()
        drop(args.database_url, schema)
        shutil.rmtree(var, ignore_errors=True)
        if args.redis_url:
            import redis

            client = redis.Redis.from_url(args.redis_url)
            for key in client.scan_iter(match=prefix + "*"):
                client.delete(key)
            client.close()


if __name__ == "__main__":
    raise SystemExit(main())
