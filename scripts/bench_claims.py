"""Claims benchmark against PostgreSQL.

0. Cost: one client runs claims one after another against a one-worker server started
   with DB_STATS=1: server CPU per claim (utime + stime of the process from /proc) and
   the SQL statements, commits and connection pre-pings per claim (SQLAlchemy events in
   the server, read from `/_stats/db`), then the same per request. First with small
   photos (`--cost-claims`, default 30), then with real-size 12-megapixel phone photos
   (`--cost-large`, default 4: a 4000×3000 JPEG of about 3.5 MB with EXIF orientation 6).
1. Submission: `--clients` concurrent clients (default 32) each take members of their
   own and, for `--seconds` (default 30), run the whole self-service claim over HTTP:
   start the draft, basic information, amount, upload an invoice photo and a medical
   record, sign, ask for the SMS code, read it from the development SMS outbox, submit.
   Every tenth claim is submitted a second time with the same client key, as a phone
   on a bad connection would. Prints claims/s, p50/p95 of the submit call and of the
   whole claim, and the duplicates found afterwards in the database (claims sharing a
   number, or two claims from one client key): both must be 0.
2. Upload memory: a one-worker server receives 10 concurrent uploads of 8 MB each,
   streamed; its resident memory is sampled every 10 ms. The same is done with 1 MB
   files: the peak above idle must not grow with the file size.

    .venv/bin/python -m scripts.bench_claims                       # every part
    .venv/bin/python -m scripts.bench_claims --seconds 10 --skip-memory
    .venv/bin/python -m scripts.bench_claims --members 200 --skip-submission --skip-memory
    REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python -m scripts.bench_claims ...  # limits in Redis

Needs PostgreSQL (DATABASE_URL or --database-url; default the local test database):
everything happens in a schema of its own, dropped at the end. Members are fictional
and made for the run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import io
import itertools
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from PIL import Image
from sqlalchemy import func, select, text

from server.accounts.models import Account, Identity, SmsOutbox
from server.claims.models import Claim
from server.crypto import Vault, token_hash, vault_for
from server.db import make_engine, make_sessionmaker, migrate
from server.policies.records import add_person, add_plan, add_policy, resident_id
from server.sessions import LoginSession, SessionKind
from server.settings import ROOT

SECRET = "bench-secret-" + "x" * 20
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/test"


def _op(name: str, input_type: str, fields: str = "") -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
        f"{fields} ... on Error {{ code message }} }} }}"
    )


CONTACT = _op("saveClaimContact", "SaveClaimContactInput")
START = _op("startClaim", "StartClaimInput", "... on StartClaimSuccess { claim { id } }")
BASICS = _op("updateClaimBasics", "UpdateClaimBasicsInput")
AMOUNT = _op("updateClaimAmount", "UpdateClaimAmountInput")
SEND_CODE = _op("sendClaimConfirmationCode", "ClaimIdInput")
SUBMIT = _op("submitClaim", "SubmitClaimInput", "... on SubmitClaimSuccess { claim { claimNo } }")


@dataclass
class Member:
    phone: str
    token: str
    policy_id: int


@dataclass
class Figures:
    submit_ms: list[float] = field(default_factory=list)
    claim_ms: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    claims: int = 0
    steps: dict[str, list[float]] = field(default_factory=dict)

    def step(self, name: str, since: float) -> float:
        now = time.perf_counter()
        self.steps.setdefault(name, []).append((now - since) * 1000)
        return now

    def fail(self, what: str) -> None:
        self.failures[what] = self.failures.get(what, 0) + 1


# --- the database -------------------------------------------------------------------------------


def prepare(url: str, schema: str, members: int, vault: Vault) -> list[Member]:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    engine = make_engine(url, schema=schema)
    migrate(engine)
    factory = make_sessionmaker(engine)
    password_hash = PasswordHasher().hash("Bench2026!")  # one hash for all: argon2 is slow
    now = datetime.datetime.now(datetime.UTC)
    today = now.date()
    out: list[Member] = []
    with factory() as db:
        plan = add_plan(
            db, company="基准测试公司", code="BENCH-GP", name="基准计划", network_id=None
        )
        for i in range(members):
            born = datetime.date(1970 + i % 30, 1 + i % 12, 1 + i % 28)
            phone = f"139{i:08d}"
            person = add_person(
                db,
                vault,
                name=f"测试{i}",
                id_number=resident_id("310115", born, f"{i % 1000:03d}"[-3:]),
                birth_date=born,
                gender="F" if i % 2 else "M",
                phone=phone,
            )
            policy = add_policy(
                db,
                vault,
                policy_no=f"BENCH-{i:06d}",
                insured=person,
                plan=plan,
                start=today.replace(month=1, day=1),
                end=today.replace(month=12, day=31),
            )
            account = Account(
                phone_hash=vault.lookup(phone, kind="phone"),
                phone_enc=vault.encrypt(phone),
                password_hash=password_hash,
                terms_accepted_at=now,
                person_id=person.id,
            )
            db.add(account)
            db.flush()
            db.add(
                Identity(
                    account_id=account.id,
                    id_type=person.id_type,
                    name_enc=person.name_enc,
                    id_number_enc=person.id_number_enc,
                    id_number_hash=person.id_number_hash,
                    valid_from=datetime.date(2015, 1, 1),
                    valid_to=None,
                )
            )
            token = secrets.token_urlsafe(32)
            db.add(
                LoginSession(
                    kind=SessionKind.MEMBER.value,
                    subject_id=account.id,
                    token_hash=token_hash(token),
                    channel="app",
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + datetime.timedelta(hours=12),
                )
            )
            out.append(Member(phone=phone, token=token, policy_id=policy.id))
            if i % 500 == 499:
                db.commit()
        db.commit()
    engine.dispose()
    return out


def drop(url: str, schema: str) -> None:
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def count_duplicates(url: str, schema: str) -> tuple[int, int, int]:
    """(claims submitted, claim numbers used twice, client keys with two claims)."""
    engine = make_engine(url, schema=schema)
    with make_sessionmaker(engine)() as db:
        submitted = db.scalar(select(func.count()).where(Claim.claim_no.is_not(None))) or 0
        numbers = db.scalar(
            select(func.count()).select_from(
                select(Claim.claim_no)
                .where(Claim.claim_no.is_not(None))
                .group_by(Claim.claim_no)
                .having(func.count() > 1)
                .subquery()
            )
        )
        keys = db.scalar(
            select(func.count()).select_from(
                select(Claim.account_id, Claim.client_key)
                .where(Claim.client_key.is_not(None))
                .group_by(Claim.account_id, Claim.client_key)
                .having(func.count() > 1)
                .subquery()
            )
        )
    engine.dispose()
    return int(submitted), int(numbers or 0), int(keys or 0)


# --- the server ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# uvicorn under cProfile, every thread (request threads too), stats written at SIGTERM
# (uvicorn raises the signal again once it has shut down: the handler turns it into an exit)
PROFILED = """
import cProfile, pstats, signal, sys, threading, time
out = sys.argv[1]
profiles = []
def start(*_):
    p = cProfile.Profile(time.thread_time); profiles.append(p); p.enable()
threading.setprofile(start)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
start()
try:
    from uvicorn.main import main
    main(sys.argv[2:])
finally:
    for p in profiles:
        p.disable(); p.create_stats()
    pstats.Stats(*profiles).dump_stats(out)
"""


def start_server(
    url: str,
    schema: str,
    workers: int,
    var: Path,
    *,
    profile: str | None = None,
    cwd: Path = ROOT,
) -> tuple[subprocess.Popen[bytes], int]:
    """uvicorn serving the app; with `profile`, one worker under cProfile writing there."""
    port = _free_port()
    sep = "&" if "?" in url else "?"
    env = dict(
        os.environ,
        APP_ENV="test",
        # the load comes from one address: cost budgets out of the way of the figures (within
        # the 32-bit counters of the rate_limit table)
        GRAPHQL_ANONYMOUS_BUDGET=str(10**9),
        GRAPHQL_SIGNED_IN_BUDGET=str(10**9),
        NOTIFIER="off",
        SECRET_KEY=SECRET,
        DATABASE_URL=f"{url}{sep}options=-csearch_path%3D{schema}",
        VAR_DIR=str(var),
        DB_STATS="1",
        LOG_LEVEL="WARNING",
        STORAGE_DIR=str(var / "uploads"),
        BASE_URL=f"http://127.0.0.1:{port}",
        # with REDIS_URL set (production's limits and caches), the run's keys stand apart
        # from earlier runs' (the schema, and so every member and claim, is new each run)
        REDIS_PREFIX=f"{schema}:",
    )
    launcher = ["-c", PROFILED, profile] if profile else ["-m", "uvicorn"]
    server = subprocess.Popen(
        [
            sys.executable,
            *launcher,
            "--factory",
            "server.app:create_app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=cwd,
        env=env,
    )
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return server, port
        except OSError:
            if server.poll() is not None:
                raise SystemExit("the server did not start") from None
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not answer /healthz")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


# --- files --------------------------------------------------------------------------------------


def photo(seed: int) -> bytes:
    """A small JPEG that differs per claim (the same image twice would be a duplicate)."""
    img = Image.new("RGB", (640, 480), ((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    for k in range(4):  # the seed itself, in a corner: no two seeds give the same bytes
        for dx in range(8):
            for dy in range(8):
                img.putpixel((k * 8 + dx, dy), ((seed >> (8 * k)) & 255, 255, 0))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    return buf.getvalue()


def _with_comment(jpeg: bytes, seed: int) -> bytes:
    """The same JPEG with a comment segment naming `seed`: other bytes, the same picture."""
    note = f"bench {seed}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + jpeg[2:]


def phone_photo(width: int = 4000, height: int = 3000, *, orientation: int = 6) -> bytes:
    """A photo-like JPEG of a phone camera: smooth light, shapes, sensor noise, EXIF.

    12 megapixels by default, about 3-5 MB at the quality phones use, with the EXIF
    orientation a phone held upright writes (6: turn 90 degrees clockwise to show).
    """
    import numpy as np

    rng = np.random.default_rng(2026)
    xs = np.arange(width, dtype=np.float32)[None, :]
    ys = np.arange(height, dtype=np.float32)[:, None]
    base = np.empty((height, width, 3), np.float32)
    base[..., 0] = 150 + 60 * np.sin(xs / 700) * np.cos(ys / 500)
    base[..., 1] = 130 + 50 * np.cos(xs / 900 + 1) + 20 * np.sin(ys / 300)
    base[..., 2] = 110 + 70 * np.sin((xs + ys) / 1100)
    for _ in range(40):  # objects: soft-edged discs of other colours
        cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(60, 500)
        x0, x1 = int(max(cx - r, 0)), int(min(cx + r + 1, width))
        y0, y1 = int(max(cy - r, 0)), int(min(cy + r + 1, height))
        d = np.hypot(xs[:, x0:x1] - cx, ys[y0:y1] - cy)
        mask = np.clip((r - d) / 25, 0, 1)[..., None]
        colour = rng.uniform(20, 235, 3).astype(np.float32)
        base[y0:y1, x0:x1] = base[y0:y1, x0:x1] * (1 - mask) + mask * colour
    noise = rng.integers(-12, 13, (height, width, 3), dtype=np.int16)  # sensor noise
    pixels = np.clip(base.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    img = Image.fromarray(pixels, "RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "BenchPhone"  # Make
    exif[0x0110] = "BP-12"  # Model
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92, exif=exif.tobytes())
    return buf.getvalue()


def big_pdf(size: int) -> bytes:
    """A well-formed PDF of about `size` bytes (a padded stream), as a scanned bill might be."""
    head = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    head += b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
    pad = max(size - len(head) - 200, 0)
    body = f"3 0 obj << /Length {pad} >> stream\n".encode() + b"0" * pad + b"\nendstream endobj\n"
    tail = b"trailer << /Root 1 0 R >>\n%%EOF\n"
    return head + body + tail


# --- part 1: submissions --------------------------------------------------------------------------


class FlowFailed(Exception):
    pass


Probe = Callable[[str], Awaitable[None]]  # called after each request with its name


async def _gql(http: Any, member: Member, query: str, **variables: Any) -> dict[str, Any]:
    r = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {member.token}"},
    )
    if r.status_code != 200:
        raise FlowFailed(f"HTTP {r.status_code}")
    body = r.json()
    if body.get("errors"):
        raise FlowFailed(body["errors"][0].get("extensions", {}).get("code", "GRAPHQL_ERROR"))
    payload: dict[str, Any] = next(iter(body["data"].values()))
    if "code" in payload:
        raise FlowFailed(payload["code"])
    return payload


async def _upload(http: Any, member: Member, path: str, data: bytes, **params: str) -> None:
    r = await http.post(
        path,
        params=params,
        files={"file": ("photo.jpg", data, "image/jpeg")},
        headers={"Authorization": f"Bearer {member.token}"},
    )
    if r.status_code not in (200, 201):
        raise FlowFailed(f"upload HTTP {r.status_code}")


async def _nothing(_step: str) -> None:
    pass


async def new_draft(http: Any, member: Member, probe: Probe = _nothing) -> str:
    """A draft with contact and basic information filled in; returns its id."""
    await _gql(
        http,
        member,
        CONTACT,
        input={"address": "上海市浦东新区世纪大道100号", "email": f"m{member.phone}@example.com"},
    )
    await probe("saveClaimContact")
    started = await _gql(
        http, member, START, input={"policyId": str(member.policy_id), "noticeAccepted": True}
    )
    await probe("startClaim")
    claim_id: str = started["claim"]["id"]
    incident = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
    await _gql(
        http,
        member,
        BASICS,
        input={
            "claimId": claim_id,
            "address": "上海市浦东新区世纪大道100号",
            "incidentType": "DISEASE",
            "incidentDate": incident,
            "claimType": "OUTPATIENT",
        },
    )
    await probe("updateClaimBasics")
    return claim_id


async def run_flow(
    http: Any,
    member: Member,
    figures: Figures,
    read_code: Any,
    image: bytes,
    invoice: bytes,
    *,
    resend: bool,
    signature: bytes | None = None,
    probe: Probe = _nothing,
) -> None:
    started = time.perf_counter()
    try:
        claim_id = await new_draft(http, member, probe)
        t = figures.step("draft (contact, start, basics)", started)
        await _gql(
            http,
            member,
            AMOUNT,
            input={
                "claimId": claim_id,
                "invoiceTotal": "368.50",
                "invoiceNumbers": [f"B{member.phone}"],
                "otherCompensation": "0",
                "payee": {"bankName": "中国建设银行", "accountNo": f"6217{member.phone}0000"},
            },
        )
        await probe("updateClaimAmount")
        t = figures.step("amount", t)
        documents = f"/api/claims/{claim_id}/documents"
        await _upload(http, member, documents, image, category="MEDICAL_RECORD")
        await probe("upload (medical record)")
        await _upload(http, member, documents, invoice, category="INVOICE")
        await probe("upload (invoice)")
        t = figures.step("two uploads", t)
        await _upload(http, member, f"/api/claims/{claim_id}/signature", signature or image)
        await probe("signature")
        t = figures.step("signature", t)
        await _gql(http, member, SEND_CODE, input={"claimId": claim_id})
        await probe("sendClaimConfirmationCode")
        t = figures.step("send code", t)
        code = await asyncio.to_thread(read_code, member.phone)
        if code is None:
            raise FlowFailed("no SMS code")
        key = uuid.uuid4().hex
        submit = {"claimId": claim_id, "smsCode": code, "clientKey": key}
        t = time.perf_counter()
        first = await _gql(http, member, SUBMIT, input=submit)
        await probe("submitClaim")
        figures.submit_ms.append((time.perf_counter() - t) * 1000)
        if resend:  # the answer was lost on the way: the phone sends the same key again
            again = await _gql(http, member, SUBMIT, input=submit)
            if again["claim"]["claimNo"] != first["claim"]["claimNo"]:
                figures.fail("resend gave another claim")
        figures.claims += 1
        figures.claim_ms.append((time.perf_counter() - started) * 1000)
    except FlowFailed as e:
        figures.fail(str(e))


def code_reader(factory: Any, vault: Vault) -> Callable[[str], str | None]:
    """Reads the newest SMS code sent to a phone from the development outbox."""

    def read_code(phone: str) -> str | None:
        with factory() as db:
            body = db.scalar(
                select(SmsOutbox.body)
                .where(SmsOutbox.phone_hash == vault.lookup(phone, kind="phone"))
                .order_by(SmsOutbox.id.desc())
                .limit(1)
            )
        if body is None:
            return None
        m = re.search(r"\d{6}", body)
        return m.group() if m else None

    return read_code


async def submissions(
    port: int,
    members: list[Member],
    clients: int,
    seconds: float,
    vault: Vault,
    url: str,
    schema: str,
) -> Figures:
    import httpx2 as httpx

    figures = Figures()
    queue: asyncio.Queue[Member] = asyncio.Queue()
    for m in members:
        queue.put_nowait(m)
    engine = make_engine(url, schema=schema)
    read_code = code_reader(make_sessionmaker(engine), vault)

    end = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients * 2)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits
    ) as http:

        async def client(n: int) -> None:
            i = 0
            while time.monotonic() < end:
                try:
                    member = queue.get_nowait()
                except asyncio.QueueEmpty:
                    figures.fail("members exhausted (raise --members)")
                    return
                i += 1
                await run_flow(
                    http,
                    member,
                    figures,
                    read_code,
                    photo(2 * (n * 100_000 + i)),
                    photo(2 * (n * 100_000 + i) + 1),
                    resend=(i % 10 == 0),
                )

        started = time.monotonic()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.monotonic() - started
    engine.dispose()
    figures.elapsed = elapsed  # type: ignore[attr-defined]
    return figures


# --- part 0: what a claim costs the server -------------------------------------------------------

STAT_FIELDS = ("statements", "commits", "rollbacks", "checkouts", "pings")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process, its threads included (those ended too), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ns(pid: int) -> int:
    """CPU time of the process's live threads in nanoseconds (/proc/.../schedstat): finer
    than the clock ticks of /proc/PID/stat, for single requests."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread ended
            total += int((task / "schedstat").read_text().split()[0])
    return total


@dataclass
class Cost:
    claims: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)
    step_cpu_ns: dict[str, int] = field(default_factory=dict)
    step_stats: dict[str, dict[str, int]] = field(default_factory=dict)


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in STAT_FIELDS}


async def server_cost(
    port: int,
    pid: int,
    members: list[Member],
    read_code: Callable[[str], str | None],
    photos: Callable[[int], bytes],
    signature: bytes,
    claims: int,
    *,
    per_step: bool,
    first_seed: int,
) -> Cost:
    """One client, one claim after another, against a one-worker server with DB_STATS=1.

    Without `per_step`: the process's CPU (/proc/PID/stat) and database counters over all
    the claims. With it: before and after each request, its threads' CPU (schedstat) and
    the counters, read while the server is idle, so reading them is not counted.
    """
    import httpx2 as httpx

    cost = Cost()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:

        async def stats() -> dict[str, int]:
            body: dict[str, int] = (await http.get("/_stats/db")).json()
            return body

        last_stats = await stats()
        last_cpu = cpu_ns(pid)

        async def probe(step: str) -> None:
            nonlocal last_stats, last_cpu
            cpu = cpu_ns(pid)
            now = await stats()
            cost.step_cpu_ns[step] = cost.step_cpu_ns.get(step, 0) + cpu - last_cpu
            into = cost.step_stats.setdefault(step, dict.fromkeys(STAT_FIELDS, 0))
            for k, v in _diff(now, last_stats).items():
                into[k] += v
            last_stats, last_cpu = now, cpu_ns(pid)
            if trace := os.environ.get("DB_STATS_TRACE"):  # the server's statements, per step
                with open(trace, "a", encoding="utf-8") as out:
                    out.write(f"== {step}\n")

        figures = Figures()
        first_stats, first_cpu, started = last_stats, cpu_seconds(pid), time.perf_counter()
        for n, member in enumerate(members[:claims]):
            if per_step:
                last_stats, last_cpu = await stats(), cpu_ns(pid)
            await run_flow(
                http,
                member,
                figures,
                read_code,
                photos(first_seed + 2 * n),  # no two claims share a photo: no duplicates
                photos(first_seed + 2 * n + 1),
                resend=False,
                signature=signature,
                probe=probe if per_step else _nothing,
            )
        cost.wall_s = time.perf_counter() - started
        cost.cpu_s = cpu_seconds(pid) - first_cpu
        cost.stats = _diff(await stats(), first_stats)
    if figures.failures:
        raise SystemExit(f"claims failed while measuring their cost: {figures.failures}")
    cost.claims = figures.claims
    return cost


def report_cost(title: str, whole: Cost, steps: Cost) -> None:
    n = whole.claims
    print(f"{title}: {n} claims one after another, one worker, 9 requests each")
    print(f"  server CPU per claim: {whole.cpu_s * 1000 / n:.1f} ms (/proc/PID/stat)")
    for name, label in (
        ("statements", "SQL statements"),
        ("commits", "commits"),
        ("pings", "connection pre-pings"),
        ("checkouts", "connection checkouts"),
    ):
        print(f"  {label} per claim: {whole.stats[name] / n:.1f}")
    print(f"  wall time per claim: {whole.wall_s * 1000 / n:.0f} ms")
    m = steps.claims
    print(f"  per request, mean of {m} claims (CPU of the server's threads, from schedstat):")
    print("      CPU ms  SQL  commits  pings  request")
    total_ns = 0
    for step, ns in steps.step_cpu_ns.items():
        st = steps.step_stats[step]
        total_ns += ns
        print(
            f"    {ns / m / 1e6:8.1f} {st['statements'] / m:4.0f} {st['commits'] / m:8.1f}"
            f" {st['pings'] / m:6.1f}  {step}"
        )
    print(f"    {total_ns / m / 1e6:8.1f}  the whole claim")


def measure_cost(
    url: str,
    schema: str,
    var: Path,
    members: list[Member],
    vault: Vault,
    small: int,
    large: int,
    profile: str | None,
) -> None:
    engine = make_engine(url, schema=schema)
    read_code = code_reader(make_sessionmaker(engine), vault)
    server, port = start_server(url, schema, 1, var, profile=profile)
    try:
        pool = iter(members)

        def take(k: int) -> list[Member]:
            return [next(pool) for _ in range(k)]

        sig = photo(7)
        seeds = itertools.count(10_000_000, 1000)

        def run(photos: Callable[[int], bytes], k: int, per_step: bool) -> Cost:
            return asyncio.run(
                server_cost(
                    port,
                    server.pid,
                    take(k),
                    read_code,
                    photos,
                    sig,
                    k,
                    per_step=per_step,
                    first_seed=next(seeds),
                )
            )

        run(photo, 2, False)  # warm-up: first calls fill caches and import lazily
        whole = run(photo, small, False)
        steps = run(photo, max(small // 2, 1), True)
        report_cost("server cost, small photos (640×480)", whole, steps)
        if large:
            big = phone_photo()
            print(f"  (12 MP photo: {len(big) / 1e6:.1f} MB JPEG, EXIF orientation 6)")

            def big_photos(seed: int) -> bytes:
                return _with_comment(big, seed)

            whole = run(big_photos, large, False)
            steps = run(big_photos, max(large // 2, 1), True)
            report_cost("server cost, 12-megapixel phone photos", whole, steps)
    finally:
        stop_server(server)
        engine.dispose()


# --- part 2: upload memory ----------------------------------------------------------------------


def rss_kb(pid: int) -> int:
    total = 0
    for p in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


async def upload_memory(
    port: int, server_pid: int, member: Member, draft_id: str, size: int
) -> tuple[int, int]:
    """(idle RSS kB, peak RSS kB above idle) while 10 uploads of `size` bytes stream in."""
    import httpx2 as httpx

    data = big_pdf(size)
    baseline = rss_kb(server_pid)
    peak = baseline
    done = asyncio.Event()

    async def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_kb(server_pid))
            await asyncio.sleep(0.01)

    async def one(http: Any) -> int:
        boundary = uuid.uuid4().hex

        async def body() -> Any:
            yield (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="bill.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            for i in range(0, len(data), 64 * 1024):
                yield data[i : i + 64 * 1024]
                await asyncio.sleep(0)
            yield f"\r\n--{boundary}--\r\n".encode()

        r = await http.post(
            f"/api/claims/{draft_id}/documents",
            params={"category": "INVOICE"},
            content=body(),
            headers={
                "Authorization": f"Bearer {member.token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        return int(r.status_code)

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
        sampler = asyncio.create_task(sample())
        codes = await asyncio.gather(*(one(http) for _ in range(10)))
        done.set()
        await sampler
    if any(c != 201 for c in codes):
        print(f"  upload answers: {codes}")
    return baseline, peak - baseline


async def _draft_over_http(port: int, member: Member) -> str:
    import httpx2 as httpx

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
        return await new_draft(http, member)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.bench_claims",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--members", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=4, help="uvicorn worker processes")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--cost-claims", type=int, default=30, help="claims (small photos) measured one by one"
    )
    parser.add_argument(
        "--cost-large", type=int, default=4, help="claims with 12-megapixel photos measured"
    )
    parser.add_argument("--skip-cost", action="store_true")
    parser.add_argument(
        "--profile", metavar="PATH", help="run the cost part's server under cProfile, stats to PATH"
    )
    parser.add_argument("--skip-submission", action="store_true")
    args = parser.parse_args(argv)
    if not args.database_url.startswith("postgresql"):
        parser.error("the claims benchmark runs against PostgreSQL")

    vault = vault_for(SECRET)
    schema = f"bench_claims_{uuid.uuid4().hex[:8]}"
    var = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    limits = "Redis (REDIS_URL)" if os.environ.get("REDIS_URL") else "the database"
    print(f"limits and budgets kept in {limits}", flush=True)
    print(f"preparing {args.members} members in schema {schema} ...", flush=True)
    t0 = time.monotonic()
    members = prepare(args.database_url, schema, args.members, vault)
    print(f"  done in {time.monotonic() - t0:.1f} s", flush=True)
    try:
        used = 0
        if not args.skip_cost:
            small, large = max(args.cost_claims, 2), max(args.cost_large, 0)
            used = 2 + small + max(small // 2, 1) + (large + max(large // 2, 1) if large else 0)
            measure_cost(
                args.database_url, schema, var, members[:used], vault, small, large, args.profile
            )
        if args.skip_submission:
            return 0
        server, port = start_server(args.database_url, schema, args.workers, var)
        try:
            figures = asyncio.run(
                submissions(
                    port,
                    members[used:-20],
                    args.clients,
                    args.seconds,
                    vault,
                    args.database_url,
                    schema,
                )
            )
        finally:
            stop_server(server)
        submitted, dup_numbers, dup_keys = count_duplicates(args.database_url, schema)
        elapsed = figures.elapsed  # type: ignore[attr-defined]
        print(f"submission: {args.clients} clients, {elapsed:.1f} s, {args.workers} workers")
        print(f"  claims submitted   {figures.claims} ({figures.claims / elapsed:.1f} claims/s)")
        print(
            f"  submit latency     p50 {percentile(figures.submit_ms, 0.5):.0f} ms, "
            f"p95 {percentile(figures.submit_ms, 0.95):.0f} ms"
        )
        print(
            f"  whole claim        p50 {percentile(figures.claim_ms, 0.5):.0f} ms, "
            f"p95 {percentile(figures.claim_ms, 0.95):.0f} ms (10 requests)"
        )
        print(f"  in the database    {submitted} claims")
        print(
            f"  duplicates         {dup_numbers} repeated numbers, {dup_keys} repeated client keys"
        )
        for name, values in figures.steps.items():
            print(f"  step p50 {percentile(values, 0.5):6.0f} ms  {name}")
        if figures.failures:
            print(f"  failures           {figures.failures}")

        if not args.skip_memory:
            server, port = start_server(args.database_url, schema, 1, var)
            try:
                spare = members[-20:]
                results = {}
                for n, size in enumerate((1, 8)):
                    draft = asyncio.run(_draft_over_http(port, spare[n]))
                    base, grow = asyncio.run(
                        upload_memory(port, server.pid, spare[n], draft, size * 1024 * 1024)
                    )
                    results[size] = (base, grow)
                print("upload memory: 10 concurrent uploads, one worker")
                for size, (base, grow) in results.items():
                    print(
                        f"  {size} MB each: idle {base / 1024:.0f} MB, "
                        f"peak above idle {grow / 1024:.1f} MB"
                    )
            finally:
                stop_server(server)
        return 0 if dup_numbers == 0 and dup_keys == 0 else 1
    finally:
        drop(args.database_url, schema)
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
