"""Uploads and whole claims at once, through a real server, on SQLite and PostgreSQL.

SQLite has one writer: a transaction that read before it wrote used to fail at once
("database is locked") when another upload committed in between. Writers now take the
lock first and wait for it (server/db.py write_first), in WAL mode.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx2 as httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext
from server.claims.models import Claim, ClaimDocument, ClaimStatus
from server.services import Services
from tests.api.live import committed_app, live
from tests.api.test_claim_uploads import jpeg, pdf
from tests.db import FakeClock, last_sms_code, run_together
from tests.server.claims.files_helpers import make_claim

MAIN = "13800000001"
LOG_IN = """mutation($m: String!) { logIn(input: {mobile: $m, password: "Demo2026!"}) {
  __typename ... on SignInSuccess { token } } }"""


def graphql(client: httpx.Client, query: str, token: str = "", **variables: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    r = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


def log_in(base: str, mobile: str = MAIN) -> str:
    with httpx.Client(base_url=base, timeout=30) as c:
        out = graphql(c, LOG_IN, m=mobile)
    assert out["__typename"] == "SignInSuccess", out
    return str(out["token"])


def test_thirty_concurrent_uploads_all_succeed(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
) -> None:
    # given a draft of the main insured, served by a real server over a real database
    factory, demo = committed
    with factory() as db:
        claim_id = make_claim(db, claims, demo).id
        db.commit()
    app = committed_app(services, members, claims, factory)
    with live(app) as base:
        token = log_in(base)

        # when 30 clients upload to it at once
        def send(i: int) -> tuple[int, str]:
            data = jpeg() if i % 2 else pdf(padding=i)
            with httpx.Client(base_url=base, timeout=60) as c:
                r = c.post(
                    f"/api/claims/{claim_id}/documents",
                    params={"category": "INVOICE"},
                    files={"file": (f"invoice-{i}.bin", data, "application/octet-stream")},
                    headers={"Authorization": f"Bearer {token}"},
                )
            return r.status_code, r.text[:300]

        results = run_together(30, send)

    # then every one is stored and recorded
    assert Counter(r[0] for r in results) == {201: 30}, [r for r in results if r[0] != 201][:3]
    with factory() as db:
        count = db.scalar(
            select(func.count())
            .select_from(ClaimDocument)
            .where(ClaimDocument.claim_id == claim_id)
        )
    assert count == 30
    assert list(claims.storage.temp_dir.iterdir()) == []


def test_sqlite_runs_in_wal_mode(committed: tuple[sessionmaker[Session], Any]) -> None:
    factory, _ = committed
    with factory() as db:
        if db.get_bind().dialect.name != "sqlite":
            return
        assert db.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.execute(text("PRAGMA busy_timeout")).scalar() == 5000


def mutation(name: str, input_type: str, success: str, fields: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
        f"... on {success} {{ {fields} }} ... on Error {{ code message }} }} }}"
    )


START = mutation("startClaim", "StartClaimInput", "StartClaimSuccess", "claim { id }")
BASICS = mutation(
    "updateClaimBasics", "UpdateClaimBasicsInput", "UpdateClaimBasicsSuccess", "__typename"
)
AMOUNT = mutation(
    "updateClaimAmount", "UpdateClaimAmountInput", "UpdateClaimAmountSuccess", "__typename"
)
SEND_CODE = mutation(
    "sendClaimConfirmationCode", "ClaimIdInput", "SendClaimConfirmationCodeSuccess", "__typename"
)
SUBMIT = mutation("submitClaim", "SubmitClaimInput", "SubmitClaimSuccess", "claim { status }")
CONTACT = mutation(
    "saveClaimContact", "SaveClaimContactInput", "SaveClaimContactSuccess", "__typename"
)


def ok(payload: dict[str, Any], typename: str) -> dict[str, Any]:
    assert payload["__typename"] == typename, payload
    return payload


def test_concurrent_whole_claims_complete(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
    clock: FakeClock,
) -> None:
    # given the main insured, signed in on a real server
    factory, demo = committed
    app = committed_app(services, members, claims, factory)
    policies = ["main", "main_high_end", "main", "main_high_end", "main", "main_high_end"]
    # the confirmation code goes to the member's one mobile: only sending and using it
    # are taken in turn, everything else runs at once
    confirm = threading.Lock()
    with live(app) as base:
        token = log_in(base)
        with httpx.Client(base_url=base, timeout=30) as c:
            contact = {"address": "上海市徐汇区漕溪北路1号", "email": "zhang.wei@example.com"}
            ok(graphql(c, CONTACT, token, input=contact), "SaveClaimContactSuccess")

        # when six claims go from draft to submitted at once, with their uploads
        def whole_claim(i: int) -> str:
            with httpx.Client(base_url=base, timeout=60) as c:
                started = graphql(
                    c,
                    START,
                    token,
                    input={"policyId": str(demo.policy_ids[policies[i]]), "noticeAccepted": True},
                )
                claim_id = ok(started, "StartClaimSuccess")["claim"]["id"]
                basics = {
                    "claimId": claim_id,
                    "address": "上海市徐汇区漕溪北路1号",
                    "incidentType": "DISEASE",
                    "incidentDate": "2026-02-20",
                    "claimType": "OUTPATIENT",
                    "facilityName": "上海交通大学医学院附属仁济医院",
                }
                ok(graphql(c, BASICS, token, input=basics), "UpdateClaimBasicsSuccess")
                amount = {
                    "claimId": claim_id,
                    "invoiceTotal": "1280.00",
                    "invoiceNumbers": [f"3100260011001234{i:04d}"],
                    "otherCompensation": "0",
                    "payee": {"bankName": "中国建设银行", "accountNo": "6217001210012345678"},
                }
                ok(graphql(c, AMOUNT, token, input=amount), "UpdateClaimAmountSuccess")
                auth = {"Authorization": f"Bearer {token}"}
                for category in ("MEDICAL_RECORD", "INVOICE"):
                    r = c.post(
                        f"/api/claims/{claim_id}/documents",
                        params={"category": category},
                        files={"file": ("photo.jpg", jpeg(), "image/jpeg")},
                        headers=auth,
                    )
                    assert r.status_code == 201, r.text
                r = c.post(
                    f"/api/claims/{claim_id}/signature",
                    files={"file": ("sign.jpg", jpeg(), "image/jpeg")},
                    headers=auth,
                )
                assert r.status_code == 200, r.text
                with confirm:
                    clock.advance(minutes=13)  # within the mobile's budget of codes (5 an hour)
                    sent = graphql(c, SEND_CODE, token, input={"claimId": claim_id})
                    ok(sent, "SendClaimConfirmationCodeSuccess")
                    code = last_sms_code(factory, members, MAIN)
                    submit = {"claimId": claim_id, "smsCode": code, "clientKey": f"whole-{i:04d}"}
                    out = ok(graphql(c, SUBMIT, token, input=submit), "SubmitClaimSuccess")
                return str(out["claim"]["status"])

        results = run_together(len(policies), whole_claim)

    # then all six are submitted
    assert results == ["SUBMITTED"] * len(policies), results
    with factory() as db:
        submitted = db.scalar(
            select(func.count()).select_from(Claim).where(Claim.status == ClaimStatus.SUBMITTED)
        )
    assert submitted == len(policies)
