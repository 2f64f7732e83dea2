"""Payees over GraphQL: saved with an SMS code, listed masked, picked by a claim, removed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext
from tests.db import Api, last_sms_code
from tests.schema.claims.helpers import ERR, VE, Claimant, gid, payload
from tests.server.claims.payees_helpers import BAD_CHECK_DIGIT, CCB_CARD, SPOUSE_ID

MAIN = "13800000001"
STAFF = "13800000005"
PAYEE = (
    "payee { id relationship holderName idType idNumber province city bankCode bankName "
    "accountNo insuranceNo }"
)
ADD = payload("addPayee", "AddPayeeInput", "AddPayeeSuccess", PAYEE, VE)
UPDATE = payload("updatePayee", "UpdatePayeeInput", "UpdatePayeeSuccess", PAYEE, VE)
REMOVE = payload(
    "removePayee", "RemovePayeeInput", "RemovePayeeSuccess", "remaining { payees { id } }"
)
LIST = (
    "{ viewer { payees { __typename ... on PayeeList { payees { id relationship holderName "
    f"bankName accountNo }} }} {ERR} }} }} }}"
)
SEND_CODE = (
    f"mutation($input: SendSmsCodeInput!) {{ sendSmsCode(input: $input) {{ __typename {ERR} }} }}"
)


def spouse(**over: Any) -> dict[str, Any]:
    base = {
        "relationship": "SPOUSE",
        "holderName": "王芳",
        "idType": "RESIDENT_ID",
        "idNumber": SPOUSE_ID,
        "provinceCode": "310000000000",
        "cityCode": "310100000000",
        "bankCode": "105",
        "accountNo": CCB_CARD,
        "insuranceNo": "SB31011512345",
    }
    base.update(over)
    return base


@pytest.fixture
def zhang(
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> Claimant:
    return Claimant(api, db_factory, claims, members, demo, MAIN)


def payee_code(who: Claimant) -> str:
    who.cx.clock.advance(minutes=13)  # type: ignore[attr-defined]  # past the SMS limits
    out = who(SEND_CODE, input={"mobile": who.phone, "purpose": "SAVE_PAYEE"})
    assert "errors" not in out, out
    return last_sms_code(who.factory, who.members, who.phone)


def test_a_member_saves_a_payee_and_a_claim_is_paid_to_it(zhang: Claimant) -> None:
    # given a member with a SAVE_PAYEE code
    code = payee_code(zhang)
    # a wrong code or a bad check digit saves nothing
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    out = zhang(ADD, input={"payee": spouse(), "smsCode": wrong})["data"]["addPayee"]
    assert (out["__typename"], out["code"]) == ("SmsCodeInvalidError", "SMS_CODE_INVALID")
    out = zhang(ADD, input={"payee": spouse(accountNo=BAD_CHECK_DIGIT), "smsCode": code})
    out = out["data"]["addPayee"]
    assert out["__typename"] == "ValidationError"
    assert out["fieldErrors"] == [{"field": "accountNo", "code": "BANK_ACCOUNT_CHECK_DIGIT"}]
    # when they save their spouse's account
    out = zhang.run(ADD, "addPayee", payee=spouse(), smsCode=code)
    # then it comes back masked
    payee = out["payee"]
    assert payee == {
        "id": payee["id"],
        "relationship": "SPOUSE",
        "holderName": "王*",
        "idType": "RESIDENT_ID",
        "idNumber": "3101**********1238",
        "province": "上海市",
        "city": "上海市",
        "bankCode": "105",
        "bankName": "中国建设银行",
        "accountNo": "****6786",
        "insuranceNo": "S*********345",
    }
    listed = zhang(LIST)["data"]["viewer"]["payees"]
    assert [p["id"] for p in listed["payees"]] == [payee["id"]]
    text = json.dumps(listed, ensure_ascii=False)
    assert "王芳" not in text and "6217001210019876786" not in text
    # the same account again is a duplicate
    out = zhang(ADD, input={"payee": spouse(), "smsCode": payee_code(zhang)})["data"]["addPayee"]
    assert (out["__typename"], out["code"]) == ("PayeeDuplicateError", "PAYEE_DUPLICATE")
    # a claim picks it by id
    zhang.contact()
    claim_id = zhang.start("main")["claim"]["id"]
    zhang.basics(claim_id)
    claim = zhang.amount(claim_id, payeeId=payee["id"])["claim"]
    assert claim["payee"] == {
        "holderName": "王*",
        "bankName": "中国建设银行",
        "accountNo": "****6786",
    }
    zhang.add_document(claim_id, "MEDICAL_RECORD")
    zhang.add_document(claim_id, "INVOICE")
    zhang.sign(claim_id)
    done = zhang.submit(claim_id, zhang.send_code(claim_id), "payee-claim-01")
    assert done["__typename"] == "SubmitClaimSuccess"
    assert done["claim"]["payee"]["accountNo"] == "****6786"
    # it cannot be removed while the claim is in progress
    out = zhang(REMOVE, input={"payeeId": payee["id"]})["data"]["removePayee"]
    assert (out["__typename"], out["code"]) == ("PayeeInUseError", "PAYEE_IN_USE")
    # the node is the member's only
    node = zhang("query($id: ID!) { node(id: $id) { ... on Payee { bankName } } }", id=payee["id"])
    assert node["data"]["node"] == {"bankName": "中国建设银行"}


def test_another_members_or_a_removed_payee_is_not_found(
    zhang: Claimant,
    api: Api,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    payee = zhang.run(ADD, "addPayee", payee=spouse(), smsCode=payee_code(zhang))["payee"]
    staff = Claimant(api, db_factory, claims, members, demo, STAFF)
    for who in (staff,):
        out = who(REMOVE, input={"payeeId": payee["id"]})["data"]["removePayee"]
        assert (out["__typename"], out["code"]) == ("PayeeNotFoundError", "PAYEE_NOT_FOUND")
        changed = {"payeeId": payee["id"], "payee": spouse(), "smsCode": payee_code(who)}
        out = who(UPDATE, input=changed)["data"]["updatePayee"]
        assert (out["__typename"], out["code"]) == ("PayeeNotFoundError", "PAYEE_NOT_FOUND")
        node = who("query($id: ID!) { node(id: $id) { id } }", id=payee["id"])
        assert node["data"]["node"] is None
    out = zhang(
        UPDATE,
        input={
            "payeeId": payee["id"],
            "payee": spouse(bankCode="102", accountNo="6222021001123456789"),
            "smsCode": payee_code(zhang),
        },
    )["data"]["updatePayee"]
    assert out["__typename"] == "UpdatePayeeSuccess" and out["payee"]["bankName"] == "中国工商银行"
    out = zhang.run(REMOVE, "removePayee", payeeId=payee["id"])
    assert out["remaining"]["payees"] == []
    # a removed payee cannot be picked by a claim, nor removed again
    zhang.contact()
    claim_id = zhang.start("main")["claim"]["id"]
    zhang.basics(claim_id)
    body = zhang(
        payload(
            "updateClaimAmount",
            "UpdateClaimAmountInput",
            "UpdateClaimAmountSuccess",
            "claim { id }",
        ),
        input={"claimId": claim_id, "invoiceTotal": "500.00", "payeeId": payee["id"]},
    )
    out = body["data"]["updateClaimAmount"]
    assert (out["__typename"], out["code"]) == ("PayeeNotFoundError", "PAYEE_NOT_FOUND")
    out = zhang(REMOVE, input={"payeeId": gid("Claim", 1)})["data"]["removePayee"]
    assert out["code"] == "PAYEE_NOT_FOUND"


def test_banks_and_divisions_are_listed_for_the_form(zhang: Claimant) -> None:
    body = zhang(
        "{ payeeBanks { code name checkDigit } administrativeDivisions { code name level } }"
    )
    banks = {b["code"]: b for b in body["data"]["payeeBanks"]}
    assert banks["105"]["name"] == "中国建设银行" and banks["105"]["checkDigit"]
    provinces = {d["name"]: d for d in body["data"]["administrativeDivisions"]}
    assert (
        provinces["上海市"]["code"] == "310000000000" and provinces["上海市"]["level"] == "province"
    )
    body = zhang('{ administrativeDivisions(parentCode: "310100000000") { name level } }')
    districts = body["data"]["administrativeDivisions"]
    assert len(districts) == 16 and {"name": "浦东新区", "level": "district"} in districts
