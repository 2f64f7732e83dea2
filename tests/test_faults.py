"""Faults of a real server process on PostgreSQL: dropped connections, SIGKILL.

The server runs as `uvicorn --factory server.app:create_app` in a schema of its own
(scripts/bench_claims.py prepares the members and starts it); clients go through the
whole self-service claim over HTTP, as the app does, retrying what the server asks them
to retry. Each case answers a clear error, keeps no partial state and recovers.
"""

from __future__ import annotations

import datetime
import os
import re
import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, func, select, text

from scripts.bench_claims import (
    AMOUNT,
    BASICS,
    CONTACT,
    SECRET,
    SEND_CODE,
    START,
    SUBMIT,
    Member,
    count_duplicates,
    drop,
    photo,
    prepare,
    start_server,
    stop_server,
)
from scripts.clean_uploads import known_keys
from server.accounts.models import SmsOutbox
from server.claims.models import Claim, ClaimDocument, ClaimStatus
from server.crypto import vault_for
from server.db import UNAVAILABLE_CODE, make_engine, make_sessionmaker
from server.storage.backend import LocalStorage

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]

VAULT = vault_for(SECRET)
# what a client may be told while the database is dropping its connections: retry
RETRY = {UNAVAILABLE_CODE}


def _url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
        pytest.skip("TEST_DATABASE_URL is not set")
    return url


@dataclass
class Deployment:
    url: str
    schema: str
    app_name: str  # the server's connections carry it: only they are terminated
    var: Path
    members: list[Member]
    engine: Engine
    server: Any = None
    port: int = 0

    def start(self) -> None:
        sep = "&" if "?" in self.url else "?"
        self.server, self.port = start_server(
            f"{self.url}{sep}application_name={self.app_name}", self.schema, 1, self.var
        )

    def stop(self) -> None:
        if self.server is not None:
            stop_server(self.server)
            self.server = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    url = _url()
    schema = f"faults_{uuid.uuid4().hex[:10]}"
    var = Path(tempfile.mkdtemp(prefix="faults-"))
    members = prepare(url, schema, 40, VAULT)
    engine = make_engine(url, schema=schema)
    d = Deployment(url, schema, f"faults_{uuid.uuid4().hex[:10]}", var, members, engine)
    try:
        d.start()
        yield d
    finally:
        d.stop()
        engine.dispose()
        drop(url, schema)


@dataclass
class Seen:
    """Every answer the clients got, by kind."""

    answers: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str) -> None:
        with self.lock:
            self.answers[what] = self.answers.get(what, 0) + 1

    def problem(self, what: str) -> None:
        with self.lock:
            self.problems.append(what)


class Flow:
    """One member's claim over HTTP, each step retried while the server says to retry."""

    def __init__(self, http: httpx.Client, member: Member, seen: Seen, seed: int) -> None:
        self.http = http
        self.member = member
        self.seen = seen
        self.seed = seed
        self.auth = {"Authorization": f"Bearer {member.token}"}

    def _answer(self, r: httpx.Response) -> tuple[str, dict[str, Any]]:
        """('ok', payload) or ('retry', {}) or ('refused', {code}) from one response."""
        if r.headers.get("content-type", "").split(";")[0] != "application/json":
            self.seen.problem(f"HTTP {r.status_code} {r.headers.get('content-type')}")
            return "refused", {}
        body = r.json()
        if r.status_code == 503:
            code = (body.get("errors") or [{}])[0].get("extensions", {}).get("code") or body.get(
                "error", {}
            ).get("code")
            if code not in RETRY or r.headers.get("retry-after") is None:
                self.seen.problem(f"503 {code}")
            self.seen.count(f"503 {code}")
            return "retry", {}
        if r.status_code >= 500:
            self.seen.problem(f"HTTP {r.status_code}")
            return "refused", {}
        if body.get("errors"):
            code = body["errors"][0].get("extensions", {}).get("code")
            self.seen.count(f"error {code}")
            if code in RETRY:
                return "retry", {}
            self.seen.problem(f"error {code}")
            return "refused", {"code": code}
        if "error" in body:
            self.seen.count(f"{r.status_code} {body['error']['code']}")
            return "refused", {"code": body["error"]["code"]}
        payload = next(iter(body["data"].values())) if "data" in body else body
        if isinstance(payload, dict) and "code" in payload:
            return "refused", payload
        self.seen.count("ok")
        return "ok", payload

    def _retrying(self, send: Any) -> tuple[str, dict[str, Any]]:
        for _ in range(200):
            try:
                outcome, payload = self._answer(send())
            except httpx.TransportError as e:
                self.seen.problem(f"transport {type(e).__name__}")
                outcome, payload = "retry", {}
            if outcome != "retry":
                return outcome, payload
            time.sleep(0.05)
        return "gave up", {}

    def gql(self, query: str, **variables: Any) -> tuple[str, dict[str, Any]]:
        return self._retrying(
            lambda: self.http.post(
                "/graphql", json={"query": query, "variables": variables}, headers=self.auth
            )
        )

    def upload(self, path: str, data: bytes, **params: str) -> tuple[str, dict[str, Any]]:
        return self._retrying(
            lambda: self.http.post(
                path,
                params=params,
                files={"file": ("photo.jpg", data, "image/jpeg")},
                headers=self.auth,
            )
        )

    def must(self, outcome: tuple[str, dict[str, Any]], step: str) -> dict[str, Any]:
        if outcome[0] != "ok":
            raise AssertionError(f"{step}: {outcome}")
        return outcome[1]

    def ready_to_submit(self) -> str:
        """Every step up to the SMS code; returns the claim id."""
        address = "上海市浦东新区世纪大道100号"
        self.must(
            self.gql(
                CONTACT, input={"address": address, "email": f"m{self.member.phone}@example.com"}
            ),
            "contact",
        )
        started = self.must(
            self.gql(START, input={"policyId": str(self.member.policy_id), "noticeAccepted": True}),
            "start",
        )
        claim_id: str = started["claim"]["id"]
        incident = (datetime.date.today() - datetime.timedelta(days=3)).isoformat()
        basics = {
            "claimId": claim_id,
            "address": address,
            "incidentType": "DISEASE",
            "incidentDate": incident,
            "claimType": "OUTPATIENT",
        }
        self.must(self.gql(BASICS, input=basics), "basics")
        amount = {
            "claimId": claim_id,
            "invoiceTotal": "368.50",
            "invoiceNumbers": [f"B{self.member.phone}"],
            "otherCompensation": "0",
            "payee": {"bankName": "中国建设银行", "accountNo": f"6217{self.member.phone}0000"},
        }
        self.must(self.gql(AMOUNT, input=amount), "amount")
        documents = f"/api/claims/{claim_id}/documents"
        self.must(self.upload(documents, photo(2 * self.seed), category="MEDICAL_RECORD"), "record")
        self.must(self.upload(documents, photo(2 * self.seed + 1), category="INVOICE"), "invoice")
        self.must(self.upload(f"/api/claims/{claim_id}/signature", photo(2 * self.seed)), "sign")
        outcome, payload = self.gql(SEND_CODE, input={"claimId": claim_id})
        # a code sent whose answer was lost: the retry is told to wait, the code is there
        if outcome != "ok" and payload.get("code") != "SMS_TOO_SOON":
            raise AssertionError(f"send code: {outcome} {payload}")
        return claim_id

    def submit(self, claim_id: str, key: str, code: str) -> str:
        done = self.must(
            self.gql(SUBMIT, input={"claimId": claim_id, "smsCode": code, "clientKey": key}),
            "submit",
        )
        claim_no: str = done["claim"]["claimNo"]
        return claim_no


def sms_code(engine: Engine, phone: str) -> str:
    with make_sessionmaker(engine)() as db:
        body = db.scalar(
            select(SmsOutbox.body)
            .where(SmsOutbox.phone_hash == VAULT.lookup(phone, kind="phone"))
            .order_by(SmsOutbox.id.desc())
            .limit(1)
        )
    assert body is not None
    found = re.search(r"\d{6}", body)
    assert found is not None
    return found.group()


def assert_nothing_half_done(d: Deployment) -> None:
    """No submitted claim without its number, documents and signature; no orphan file,
    no document without its file; no number or client key used twice."""
    with make_sessionmaker(d.engine)() as db:
        for claim in db.scalars(select(Claim).where(Claim.status != ClaimStatus.DRAFT)):
            docs = db.scalar(select(func.count()).where(ClaimDocument.claim_id == claim.id))
            assert claim.claim_no and claim.signature_key and docs and docs >= 2, claim.id
        known = known_keys(db)
    storage = LocalStorage(d.var / "uploads")
    far = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    stored = set(storage.keys_older_than(far))
    assert stored - known == set(), "files no record names"
    assert known - stored == set(), "records whose file is missing"
    _submitted, numbers, keys = count_duplicates(d.url, d.schema)
    assert (numbers, keys) == (0, 0)


def test_dropped_database_connections_answer_a_code_leave_nothing_half_done_and_recover(
    deployment: Deployment,
) -> None:
    d = deployment
    seen = Seen()
    killed = 0
    stop = threading.Event()

    # given the server's database connections terminated every 0.2 s from outside
    def killer() -> None:
        nonlocal killed
        admin = make_engine(d.url)
        with admin.connect() as conn:
            while not stop.is_set():
                killed += conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE application_name = :name"
                    ),
                    {"name": d.app_name},
                ).scalar_one()
                conn.commit()
                stop.wait(0.2)
        admin.dispose()

    submitted: list[str] = []
    failures: list[str] = []

    # when four clients go through whole claims meanwhile, retrying what they are told to
    def client(n: int) -> None:
        with d.client() as http:
            for i in range(3):
                member = d.members[n * 3 + i]
                flow = Flow(http, member, seen, seed=1000 + n * 10 + i)
                try:
                    claim_id = flow.ready_to_submit()
                    code = sms_code(d.engine, member.phone)
                    submitted.append(flow.submit(claim_id, uuid.uuid4().hex, code))
                except AssertionError as e:
                    failures.append(str(e))

    kill = threading.Thread(target=killer)
    kill.start()
    try:
        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(300)
    finally:
        stop.set()
        kill.join(30)
    # then connections were dropped mid-request and the clients were told to retry
    assert killed > 10
    assert (
        seen.answers.get(f"503 {UNAVAILABLE_CODE}", 0)
        + seen.answers.get(f"error {UNAVAILABLE_CODE}", 0)
        > 0
    ), seen.answers
    # never with a bare 500, a text page, an internal error or a dropped HTTP connection
    assert seen.problems == [], (seen.problems, seen.answers)
    # and every claim went through in the end, once
    assert failures == []
    assert len(set(submitted)) == 12
    # and nothing is left half done
    assert_nothing_half_done(d)
    # and with the database left alone, the next claim succeeds at the first try of each step
    quiet = Seen()
    with d.client() as http:
        member = d.members[20]
        flow = Flow(http, member, quiet, seed=2000)
        claim_id = flow.ready_to_submit()
        flow.submit(claim_id, uuid.uuid4().hex, sms_code(d.engine, member.phone))
    assert set(quiet.answers) == {"ok"} and quiet.problems == []


def test_sigkill_during_submit_then_a_retry_with_the_same_key_gives_one_claim(
    deployment: Deployment,
) -> None:
    d = deployment
    seen = Seen()
    for n, delay in enumerate((0.0, 0.01, 0.03)):
        member = d.members[30 + n]
        key = uuid.uuid4().hex
        with d.client() as http:
            flow = Flow(http, member, seen, seed=3000 + n)
            claim_id = flow.ready_to_submit()
        code = sms_code(d.engine, member.phone)
        # given a submitClaim on its way
        request = {"claimId": claim_id, "smsCode": code, "clientKey": key}
        answered: list[int] = []

        def send(
            body: dict[str, Any] = request, member: Member = member, answered: list[int] = answered
        ) -> None:
            with d.client() as http:
                try:
                    r = http.post(
                        "/graphql",
                        json={"query": SUBMIT, "variables": {"input": body}},
                        headers={"Authorization": f"Bearer {member.token}"},
                    )
                    answered.append(r.status_code)
                except httpx.TransportError:
                    pass  # the server died under it: the answer is lost

        sender = threading.Thread(target=send)
        sender.start()
        # when the server is killed (SIGKILL: no clean-up of any kind) as it works on it
        time.sleep(delay)
        os.kill(d.server.pid, signal.SIGKILL)
        d.server.wait(30)
        sender.join(60)
        d.server = None
        # and started again, and the phone sends the same request again
        d.start()
        with d.client() as http:
            flow = Flow(http, member, seen, seed=3000 + n)
            claim_no = flow.submit(claim_id, key, code)
            again = flow.submit(claim_id, key, code)
        # then there is exactly one claim for the key, with one number, whole
        assert again == claim_no
        with make_sessionmaker(d.engine)() as db:
            claims = db.scalars(select(Claim).where(Claim.client_key == key)).all()
        assert [c.claim_no for c in claims] == [claim_no]
    assert seen.problems == []
    assert_nothing_half_done(d)
