"""客户信息变更 end to end: GraphQL steps, photos and signature over HTTP, two SMS codes, the
back office's approval, then the member signs in with the new mobile and the real-name
verification and the WeChat binding go by the new details."""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext
from server.policies.records import resident_id
from tests.db import Api, FakeClock, last_sms_code
from tests.schema.accounts.helpers import log_in
from tests.schema.accounts.test_wechat import bind
from tests.schema.claims.helpers import ERR, VE, Claimant, payload
from tests.server.claims.drafts_helpers import image
from tests.server.claims.review_helpers import ADJUSTER_PASSWORD, make_adjuster

MAIN = "13800000001"
STAFF = "13800000005"
NEW_MOBILE = "13900000077"
NEW_ID = resident_id("310104", datetime.date(1982, 4, 12), "035")
REQ = "request { id kind status summary files rejectReason timeline { status note } }"
START = payload(
    "startPersonalDetailsChange",
    "StartPersonalDetailsChangeInput",
    "StartPersonalDetailsChangeSuccess",
    REQ,
    VE + " ... on MobileInUseError { field } ... on RetryLaterError { retryAfterSeconds }",
)
SEND = payload(
    "sendPersonalDetailsCodes",
    "ServiceRequestIdInput",
    "SendPersonalDetailsCodesSuccess",
    "mobiles expiresInSeconds",
    VE,
)
SUBMIT = payload(
    "submitPersonalDetailsChange",
    "SubmitPersonalDetailsChangeInput",
    "SubmitPersonalDetailsChangeSuccess",
    REQ,
    VE,
)
REVIEW = "change { id status newName newMobile changes files { category } rejectReason }"
APPROVE = payload(
    "approvePersonalDetailsChange",
    "ApprovePersonalDetailsChangeInput",
    "DecidePersonalDetailsChangeSuccess",
    REVIEW,
)
REJECT = payload(
    "rejectPersonalDetailsChange",
    "RejectPersonalDetailsChangeInput",
    "DecidePersonalDetailsChangeSuccess",
    REVIEW,
    VE,
)
QUEUE = (
    "{ adjusterPersonalDetailsChanges(first: 10) { items { id currentName newName changes "
    "files { category url } } endCursor } }"
)
LIST = (
    "{ viewer { serviceRequests { __typename ... on ServiceRequestList { requests { id kind "
    f"status timeline {{ status }} }} }} {ERR} }} }} }}"
)
ME = "{ viewer { mobile identity { name idNumber } } }"
LOG_IN = """mutation($u: String!, $p: String!) { adjusterLogIn(input: {username: $u, password: $p}) {
  __typename ... on AdjusterSignInSuccess { token } ... on Error { code } } }"""


@pytest.fixture
def zhang(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> Claimant:
    return Claimant(api, db_factory, claims, members, demo, MAIN)


@pytest.fixture
def office(api: Api, db_factory: sessionmaker[Session], claims: ClaimContext) -> str:
    with db_factory() as s:
        make_adjuster(s, claims)
        s.commit()
    token = api(LOG_IN, u="wang.fang", p=ADJUSTER_PASSWORD)["data"]["adjusterLogIn"]["token"]
    return str(token)


def _new(**over: Any) -> dict[str, Any]:
    return {
        "name": "张维",
        "idType": "RESIDENT_ID",
        "idNumber": NEW_ID,
        "mobile": NEW_MOBILE,
    } | over


def _upload(who: Claimant, rid: str, category: str, token: str | None = None, **kw: Any) -> Any:
    files = kw.get("files") or [("file", (f"{category}.png", image(), "image/png"))]
    return who.api.client.post(
        f"/api/service-requests/{rid}/files",
        params={"category": category},
        files=files,
        headers={"Authorization": f"Bearer {token or who.token}"},
    )


def _ready(zhang: Claimant, **over: Any) -> str:
    rid = zhang.run(START, "startPersonalDetailsChange", **_new(**over))["request"]["id"]
    for category in ("ID_FRONT", "ID_BACK", "ID_HANDHELD", "SIGNATURE"):
        r = _upload(zhang, rid, category)
        assert r.status_code == 201, r.text
    return str(rid)


def test_an_approved_change_lets_the_member_sign_in_and_verify_with_the_new_details(
    zhang: Claimant,
    api: Api,
    office: str,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
    demo: Any,
) -> None:
    # whether a mobile is another account's log-in is not told at the start (only at
    # submission, to whoever confirms that mobile's code): a draft like any other
    out = zhang(START, input=_new(mobile=STAFF))["data"]["startPersonalDetailsChange"]
    assert out["__typename"] == "StartPersonalDetailsChangeSuccess", out
    discard = (
        "mutation($input: ServiceRequestIdInput!) { discardPersonalDetailsChange(input: $input) "
        "{ __typename } }"
    )
    gone = zhang(discard, input={"requestId": out["request"]["id"]})["data"]
    assert gone["discardPersonalDetailsChange"]["__typename"] != "ServiceRequestNotFoundError"
    # the draft; a second one is refused while it is open
    started = zhang.run(START, "startPersonalDetailsChange", **_new())["request"]
    assert (started["kind"], started["status"]) == ("CHANGE_DETAILS", "DRAFT")
    rid = started["id"]
    again = zhang(START, input=_new(name="张卫"))["data"]["startPersonalDetailsChange"]
    assert again["code"] == "SERVICE_REQUEST_OPEN"
    # no codes before the files; the files over HTTP, another member's upload is not found
    out = zhang(SEND, input={"requestId": rid})["data"]["sendPersonalDetailsCodes"]
    assert out["fieldErrors"] == [{"field": "documents", "code": "DOCUMENTS_MISSING"}]
    staff = log_in(api, STAFF)
    refused = _upload(zhang, rid, "ID_FRONT", token=staff)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "SERVICE_REQUEST_NOT_FOUND"
    assert _upload(zhang, rid, "PASSPORT").status_code == 400
    pdf = [("file", ("sig.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"))]
    assert _upload(zhang, rid, "SIGNATURE", files=pdf).status_code == 415
    for category in ("ID_FRONT", "ID_BACK", "ID_HANDHELD", "SIGNATURE", "ID_FRONT"):
        r = _upload(zhang, rid, category)
        assert r.status_code == 201, r.text
        assert r.json()["file"]["category"] == category
    # the codes: to the current mobile and to the new one
    clock.advance(minutes=13)
    sent = zhang.run(SEND, "sendPersonalDetailsCodes", requestId=rid)
    assert sent["mobiles"] == ["138****0001", "139****0077"]
    now_code = last_sms_code(db_factory, members, MAIN)
    new_code = last_sms_code(db_factory, members, NEW_MOBILE)
    wrong = f"{(int(new_code) + 1) % 1_000_000:06d}"
    out = zhang(SUBMIT, input={"requestId": rid, "smsCode": now_code, "newMobileSmsCode": wrong})
    assert out["data"]["submitPersonalDetailsChange"]["code"] == "SMS_CODE_INVALID"
    clock.advance(minutes=3)
    zhang.run(SEND, "sendPersonalDetailsCodes", requestId=rid)
    now_code = last_sms_code(db_factory, members, MAIN)
    new_code = last_sms_code(db_factory, members, NEW_MOBILE)
    sent_in = zhang.run(
        SUBMIT,
        "submitPersonalDetailsChange",
        requestId=rid,
        smsCode=now_code,
        newMobileSmsCode=new_code,
    )["request"]
    assert sent_in["status"] == "SUBMITTED"
    assert sorted(sent_in["files"]) == ["ID_BACK", "ID_FRONT", "ID_HANDHELD", "SIGNATURE"]
    assert _upload(zhang, rid, "ID_BACK").status_code == 409
    # the member cannot decide; the office sees the queue and approves
    assert "errors" in zhang(APPROVE, input={"requestId": rid})
    queued = api(QUEUE, token=office)["data"]["adjusterPersonalDetailsChanges"]
    files = queued["items"][0].pop("files")
    assert [f["category"] for f in files] == ["ID_BACK", "ID_FRONT", "ID_HANDHELD", "SIGNATURE"]
    photo = api.client.get(files[1]["url"])  # a signed link: the image opens without a header
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
    assert api.client.get(files[1]["url"] + "x").status_code == 404
    assert queued == {
        "items": [
            {
                "id": rid,
                "currentName": "张伟",
                "newName": "张维",
                "changes": ["NAME", "ID_NUMBER", "MOBILE"],
            }
        ],
        "endCursor": None,
    }
    done = api(APPROVE, token=office, input={"requestId": rid})["data"]
    assert done["approvePersonalDetailsChange"]["change"]["status"] == "APPLIED"
    twice = api(APPROVE, token=office, input={"requestId": rid})["data"]
    assert twice["approvePersonalDetailsChange"]["code"] == "SERVICE_REQUEST_STATE_CONFLICT"
    # the old session ended; the old mobile no longer signs in, the new one does
    assert "errors" in zhang(ME)
    assert (
        api(
            """mutation { logIn(input: {mobile: "13800000001", password: "Demo2026!"}) {
        __typename ... on Error { code } } }"""
        )["data"]["logIn"]["code"]
        == "LOGIN_FAILED"
    )
    token = log_in(api, NEW_MOBILE)
    me = api(ME, token=token)["data"]["viewer"]
    assert me == {
        "mobile": "139****0077",
        "identity": {"name": "张*", "idNumber": NEW_ID[:4] + me["identity"]["idNumber"][4:]},
    }
    assert NEW_ID not in str(me) and me["identity"]["idNumber"].endswith(NEW_ID[-4:])
    body = api(LIST, token=token)
    assert "errors" not in body, body
    listed = body["data"]["viewer"]["serviceRequests"]["requests"]
    assert listed[0]["status"] == "APPLIED"
    assert [s["status"] for s in listed[0]["timeline"]] == ["DRAFT", "SUBMITTED", "APPLIED"]
    # WeChat binding verifies by the new details; the old ones no longer match anyone
    old = SimpleNamespace(name="张伟", id_number=demo.people["main"].id_number, phone=NEW_MOBILE)
    assert bind(api, db_factory, members, clock, old, "wx-zhang-1")["code"] == (
        "IDENTITY_NOT_INSURED"
    )
    clock.advance(minutes=10)
    new = SimpleNamespace(name="张维", id_number=NEW_ID, phone=NEW_MOBILE)
    bound = bind(api, db_factory, members, clock, new, "wx-zhang-1")
    assert bound["__typename"] == "SignInSuccess", bound
    assert bound["viewer"] == {
        "wechatBound": True,
        "realNameVerified": True,
        "mobile": "139****0077",
    }


def test_a_rejected_change_keeps_the_details_and_shows_the_reason(
    zhang: Claimant,
    api: Api,
    office: str,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    rid = _ready(zhang, mobile=MAIN)  # the name and document only: one code
    clock.advance(minutes=13)
    assert zhang.run(SEND, "sendPersonalDetailsCodes", requestId=rid)["mobiles"] == ["138****0001"]
    code = last_sms_code(db_factory, members, MAIN)
    zhang.run(SUBMIT, "submitPersonalDetailsChange", requestId=rid, smsCode=code)
    blank = api(REJECT, token=office, input={"requestId": rid, "reason": " "})["data"]
    assert blank["rejectPersonalDetailsChange"]["fieldErrors"] == [
        {"field": "reason", "code": "REQUIRED"}
    ]
    out = api(REJECT, token=office, input={"requestId": rid, "reason": "手持证件照片不清晰"})
    change = out["data"]["rejectPersonalDetailsChange"]["change"]
    assert (change["status"], change["rejectReason"]) == ("REJECTED", "手持证件照片不清晰")
    mine = zhang(LIST)["data"]["viewer"]["serviceRequests"]["requests"][0]
    assert mine["status"] == "REJECTED"
    assert zhang(ME)["data"]["viewer"]["identity"]["name"] == "张*"
    # another member's request id answers as unknown
    staff = Claimant(zhang.api, db_factory, zhang.cx, members, zhang.demo, STAFF)
    other = staff(SEND, input={"requestId": rid})["data"]["sendPersonalDetailsCodes"]
    assert other["code"] == "SERVICE_REQUEST_NOT_FOUND"
    other = staff(SUBMIT, input={"requestId": rid, "smsCode": "123456"})["data"]
    assert other["submitPersonalDetailsChange"]["code"] == "SERVICE_REQUEST_NOT_FOUND"
    discard = (
        "mutation($input: ServiceRequestIdInput!) { discardPersonalDetailsChange(input: $input) "
        "{ __typename ... on Error { code } } }"
    )
    other = staff(discard, input={"requestId": rid})["data"]["discardPersonalDetailsChange"]
    assert other["code"] == "SERVICE_REQUEST_NOT_FOUND"
