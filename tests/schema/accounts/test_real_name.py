from __future__ import annotations

from typing import Any

from tests.db import Api
from tests.schema.accounts.helpers import log_in

VERIFY = """mutation($t: IdType!, $n: String!, $no: String!, $from: Date!, $to: Date) {
  verifyRealName(input: {idType: $t, name: $n, idNumber: $no, validFrom: $from, validTo: $to}) {
    __typename
    ... on VerifyRealNameSuccess { viewer { realNameVerified identity { name idType idNumber validTo } } }
    ... on Error { code }
    ... on ValidationError { fieldErrors { field code } }
  }
}"""
POLICIES = """{ viewer { policies { __typename ... on Error { code } ... on PolicyList { totalCount } } } }"""


def verify(api: Api, token: str, person: Any, **over: Any) -> Any:
    args = {
        "t": "RESIDENT_ID",
        "n": person.name,
        "no": person.id_number,
        "from": "2020-01-01",
        "to": None,
    }
    args.update(over)
    return api(VERIFY, token=token, **args)["data"]["verifyRealName"]


def test_insurance_queries_need_real_name_then_open(api: Api, demo: Any) -> None:
    # given a signed-in member who has not verified
    token = log_in(api, "13800000003")
    # then insurance answers with a typed REAL_NAME_REQUIRED
    out = api(POLICIES, token=token)["data"]["viewer"]["policies"]
    assert out == {"__typename": "RealNameRequiredError", "code": "REAL_NAME_REQUIRED"}
    nets = api("{ viewer { networks { __typename ... on Error { code } } } }", token=token)
    assert nets["data"]["viewer"]["networks"]["code"] == "REAL_NAME_REQUIRED"
    # when they verify with their document
    colleague = demo.people["colleague"]
    result = verify(api, token, colleague)
    # then the identity shows masked and the policies open
    assert result["__typename"] == "VerifyRealNameSuccess"
    ident = result["viewer"]["identity"]
    assert ident["name"] == "李*" and ident["idType"] == "RESIDENT_ID"
    assert ident["idNumber"] == colleague.id_number[:4] + "*" * 10 + colleague.id_number[-4:]
    assert api(POLICIES, token=token)["data"]["viewer"]["policies"] == {
        "__typename": "PolicyList",
        "totalCount": 1,
    }


def test_verification_errors(api: Api, demo: Any) -> None:
    token = log_in(api, "13800000003")
    colleague = demo.people["colleague"]
    bad_checksum = colleague.id_number[:17] + ("0" if colleague.id_number[17] != "0" else "1")
    out = verify(api, token, colleague, no=bad_checksum, to="2020-01-01")
    assert out["__typename"] == "ValidationError"
    assert {(e["field"], e["code"]) for e in out["fieldErrors"]} == {
        ("idNumber", "INVALID_ID_NUMBER"),
        ("validTo", "DOCUMENT_EXPIRED"),
        ("validTo", "INVALID_DATES"),
    }
    # a valid document of someone not insured, or a wrong name
    assert verify(api, token, colleague, n="李四")["code"] == "IDENTITY_NOT_INSURED"
    assert verify(api, token, colleague, no="11010519491231002X")["code"] == "IDENTITY_NOT_INSURED"
    # the main insured's identity belongs to another account
    assert verify(api, token, demo.people["main"])["code"] == "IDENTITY_TAKEN"
    # verifying twice
    assert verify(api, token, colleague)["__typename"] == "VerifyRealNameSuccess"
    assert verify(api, token, colleague)["code"] == "ALREADY_VERIFIED"


def test_verification_needs_sign_in(api: Api, demo: Any) -> None:
    body = api(VERIFY, t="RESIDENT_ID", n="x", no="1", **{"from": "2020-01-01"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
