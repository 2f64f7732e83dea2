"""自助保全 over GraphQL: the contact change with its code, the progress list, the message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext
from tests.db import Api, last_sms_code
from tests.schema.claims.helpers import ERR, VE, Claimant, payload

MAIN = "13800000001"
STAFF = "13800000005"
CHANGE = payload(
    "changeContactDetails",
    "ChangeContactDetailsInput",
    "ChangeContactDetailsSuccess",
    "request { id kind status summary timeline { status } } profile { contact { address email } }",
    VE,
)
PROGRESS = (
    "{ viewer { serviceRequests { __typename ... on ServiceRequestList { requests { id kind "
    f"status summary decidedAt }} }} {ERR} }} }} }}"
)
MESSAGES = "{ viewer { messages(first: 5) { edges { node { kind target targetId } } } } }"
SEND_CODE = (
    f"mutation($input: SendSmsCodeInput!) {{ sendSmsCode(input: $input) {{ __typename {ERR} }} }}"
)


@pytest.fixture
def zhang(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> Claimant:
    return Claimant(api, db_factory, claims, members, demo, MAIN)


def contact_code(who: Claimant) -> str:
    who.cx.clock.advance(minutes=13)  # type: ignore[attr-defined]  # past the SMS limits
    out = who(SEND_CODE, input={"mobile": who.phone, "purpose": "CHANGE_CONTACT"})
    assert "errors" not in out, out
    return last_sms_code(who.factory, who.members, who.phone)


def change(**over: Any) -> dict[str, Any]:
    base = {
        "provinceCode": "310000000000",
        "cityCode": "310100000000",
        "districtCode": "310104000000",
        "address": "漕溪北路1号",
        "email": "new@example.com",
    }
    base.update(over)
    return base


def test_a_contact_change_is_applied_at_once_and_listed(
    zhang: Claimant,
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    code = contact_code(zhang)
    # a wrong code, or a district of another city, changes nothing
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    out = zhang(CHANGE, input={**change(), "smsCode": wrong})["data"]["changeContactDetails"]
    assert (out["__typename"], out["code"]) == ("SmsCodeInvalidError", "SMS_CODE_INVALID")
    out = zhang(CHANGE, input={**change(districtCode="110101000000"), "smsCode": code})
    out = out["data"]["changeContactDetails"]
    assert out["fieldErrors"] == [{"field": "districtCode", "code": "UNKNOWN_REGION"}]
    # when the member changes them with the code
    out = zhang.run(CHANGE, "changeContactDetails", **change(), smsCode=code)
    # then claims use them at once
    assert out["profile"]["contact"] == {"address": "上海市徐汇区****", "email": "n***@example.com"}
    assert out["request"]["kind"] == "CHANGE_CONTACT" and out["request"]["status"] == "APPLIED"
    assert [s["status"] for s in out["request"]["timeline"]] == ["SUBMITTED", "APPLIED"]
    claim = zhang.start("main")
    assert claim["__typename"] == "StartClaimSuccess"  # the contact is on file
    # the progress list has it, masked
    listed = zhang(PROGRESS)["data"]["viewer"]["serviceRequests"]["requests"]
    assert [r["id"] for r in listed] == [out["request"]["id"]]
    text = json.dumps(listed, ensure_ascii=False)
    assert "漕溪北路" not in text and "new@example.com" not in text
    # the message centre links to it
    nodes = [e["node"] for e in zhang(MESSAGES)["data"]["viewer"]["messages"]["edges"]]
    assert {
        "kind": "service_request.applied",
        "target": "SERVICE_REQUEST",
        "targetId": out["request"]["id"],
    } in nodes
    # another member sees none of it
    staff = Claimant(api, db_factory, claims, members, demo, STAFF)
    assert staff(PROGRESS)["data"]["viewer"]["serviceRequests"]["requests"] == []


def test_the_code_goes_only_to_the_members_own_mobile(zhang: Claimant) -> None:
    out = zhang(SEND_CODE, input={"mobile": STAFF, "purpose": "CHANGE_CONTACT"})
    body = out["data"]["sendSmsCode"]
    assert body["__typename"] == "ValidationError"
