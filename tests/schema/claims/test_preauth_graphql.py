"""预先授权 end to end: GraphQL steps, files over HTTP, SMS code, the office's decision."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims import preauth
from server.claims.core import ClaimContext
from server.limits import Policy
from server.services import Services
from tests.db import Api, last_sms_code
from tests.schema.claims.helpers import ERR, VE, Claimant, payload
from tests.server.claims.drafts_helpers import image
from tests.server.claims.review_helpers import ADJUSTER_PASSWORD, make_adjuster

MAIN = "13800000001"
STAFF = "13800000005"
PA = "preAuthorisation { id status facilityName items files { category count } approvedAmount validTo timeline { status note } }"
START = payload(
    "startPreAuthorisation", "StartPreAuthorisationInput", "StartPreAuthorisationSuccess", PA, VE
)
SEND = payload(
    "sendPreAuthorisationCode", "PreAuthIdInput", "SendPreAuthorisationCodeSuccess", "mobile", VE
)
SUBMIT = payload(
    "submitPreAuthorisation", "SubmitPreAuthorisationInput", "SubmitPreAuthorisationSuccess", PA, VE
)
APPROVE = payload(
    "approvePreAuthorisation",
    "ApprovePreAuthorisationInput",
    "DecidePreAuthorisationSuccess",
    PA.replace("validTo", "validTo approvalUrl"),
    VE,
)
LIST = (
    "{ viewer { preAuthorisations { __typename ... on PreAuthList { requests { id status "
    f"timeline {{ status }} }} }} {ERR} }} }} }}"
)
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


def _input(who: Claimant, services: Services, key: str = "main_high_end") -> dict[str, Any]:
    facility = services.directory.directory.facilities[0]
    return {
        "noticeAccepted": True,
        "policyId": who.policy(key),
        "facilityId": facility.id,
        "visitDate": (who.cx.now().date() + datetime.timedelta(days=7)).isoformat(),
        "items": "膝关节镜手术",
    }


def _upload(who: Claimant, pre_auth_id: str, category: str, token: str | None = None) -> Any:
    return who.api.client.post(
        f"/api/pre-authorisations/{pre_auth_id}/documents",
        params={"category": category},
        files=[("file", ("scan.png", image(), "image/png"))],
        headers={"Authorization": f"Bearer {token or who.token}"},
    )


def test_a_pre_authorisation_goes_from_draft_to_approved(
    zhang: Claimant,
    api: Api,
    services: Services,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
) -> None:
    # a policy that is not high-end gets the offline route
    out = zhang(START, input=_input(zhang, services, "main"))["data"]["startPreAuthorisation"]
    assert (out["__typename"], out["code"]) == (
        "PreAuthNotAvailableError",
        "PRE_AUTH_NOT_AVAILABLE",
    )
    assert "VIPClaim@cpic.com.cn" in out["message"]
    # the high-end one starts a draft
    draft = zhang.run(START, "startPreAuthorisation", **_input(zhang, services))["preAuthorisation"]
    assert draft["status"] == "DRAFT" and draft["facilityName"]
    pid = draft["id"]
    # no code before the files
    out = zhang(SEND, input={"preAuthId": pid})["data"]["sendPreAuthorisationCode"]
    assert out["fieldErrors"] == [{"field": "documents", "code": "DOCUMENTS_MISSING"}]
    # files over HTTP; another member's upload is refused as not found
    staff = Claimant(api, db_factory, claims, members, demo, STAFF)
    refused = _upload(zhang, pid, "APPLICATION_FORM", token=staff.token)
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "PRE_AUTH_NOT_FOUND"
    bad = _upload(zhang, pid, "PASSPORT")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "VALIDATION_FAILED"
    for category in ("APPLICATION_FORM", "MEDICAL_RECORD"):
        r = _upload(zhang, pid, category)
        assert r.status_code == 201, r.text
        assert r.json()["documents"][0]["category"] == category
    # another member can neither ask for its code nor send it more
    out = staff(SEND, input={"preAuthId": pid})["data"]["sendPreAuthorisationCode"]
    assert out["code"] == "PRE_AUTH_NOT_FOUND"
    more_of_theirs = (
        "mutation($input: PreAuthIdInput!) { sendPreAuthorisationSupplement(input: $input) "
        "{ __typename ... on Error { code } } }"
    )
    out = staff(more_of_theirs, input={"preAuthId": pid})["data"]
    assert out["sendPreAuthorisationSupplement"]["code"] == "PRE_AUTH_NOT_FOUND"
    # the code and submission
    zhang.cx.clock.advance(minutes=13)  # type: ignore[attr-defined]
    assert zhang.run(SEND, "sendPreAuthorisationCode", preAuthId=pid)["mobile"] == "138****0001"
    code = last_sms_code(zhang.factory, zhang.members, MAIN)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    out = zhang(SUBMIT, input={"preAuthId": pid, "smsCode": wrong})["data"][
        "submitPreAuthorisation"
    ]
    assert out["code"] == "SMS_CODE_INVALID"
    sent = zhang.run(SUBMIT, "submitPreAuthorisation", preAuthId=pid, smsCode=code)
    assert sent["preAuthorisation"]["status"] == "SUBMITTED"
    assert sent["preAuthorisation"]["files"] == [
        {"category": "APPLICATION_FORM", "count": 1},
        {"category": "MEDICAL_RECORD", "count": 1},
    ]
    # files after submission: 409
    assert _upload(zhang, pid, "MEDICAL_RECORD").status_code == 409
    # the office approves
    with db_factory() as s:
        make_adjuster(s, claims)
        s.commit()
    token = api(LOG_IN, u="wang.fang", p=ADJUSTER_PASSWORD)["data"]["adjusterLogIn"]["token"]
    # it asks for more; the member uploads it and sends it back
    more = payload(
        "requestPreAuthorisationMore",
        "RequestPreAuthorisationMoreInput",
        "DecidePreAuthorisationSuccess",
        "preAuthorisation { status moreInstructions moreDue }",
    )
    asked = api(more, token=token, input={"preAuthId": pid, "instructions": "请补充检查报告"})
    asked = asked["data"]["requestPreAuthorisationMore"]["preAuthorisation"]
    assert asked == {
        "status": "MORE_REQUESTED",
        "moreInstructions": "请补充检查报告",
        "moreDue": "2026-03-04",
    }
    send_more = payload(
        "sendPreAuthorisationSupplement",
        "PreAuthIdInput",
        "SendPreAuthorisationSupplementSuccess",
        "preAuthorisation { status }",
        VE,
    )
    out = zhang(send_more, input={"preAuthId": pid})["data"]["sendPreAuthorisationSupplement"]
    assert out["fieldErrors"] == [{"field": "documents", "code": "DOCUMENTS_MISSING"}]
    assert _upload(zhang, pid, "MEDICAL_RECORD").status_code == 201
    out = zhang.run(send_more, "sendPreAuthorisationSupplement", preAuthId=pid)
    assert out["preAuthorisation"]["status"] == "SUBMITTED"
    today = zhang.cx.now().date()
    decision = {
        "preAuthId": pid,
        "items": "膝关节镜手术",
        "amount": "38000.00",
        "validFrom": today.isoformat(),
        "validTo": (today + datetime.timedelta(days=30)).isoformat(),
    }
    out = api(APPROVE, token=token, input=decision)["data"]["approvePreAuthorisation"]
    assert out["__typename"] == "DecidePreAuthorisationSuccess"
    assert out["preAuthorisation"]["approvedAmount"] == "38000.00"
    assert out["preAuthorisation"]["approvalUrl"] is None  # the member's link, not the desk's
    again = api(APPROVE, token=token, input=decision)["data"]["approvePreAuthorisation"]
    assert again["code"] == "PRE_AUTH_STATE_CONFLICT"
    # the member sees the timeline; another member sees nothing
    [mine] = zhang(LIST)["data"]["viewer"]["preAuthorisations"]["requests"]
    assert mine["status"] == "APPROVED"
    assert [s["status"] for s in mine["timeline"]] == [
        "DRAFT",
        "SUBMITTED",
        "MORE_REQUESTED",
        "SUBMITTED",
        "APPROVED",
    ]
    assert staff(LIST)["data"]["viewer"]["preAuthorisations"]["requests"] == []
    # the approval prints from a signed link of the member's sign-in
    body = zhang(
        "{ viewer { preAuthorisations { ... on PreAuthList { requests { approvalUrl } } } } }"
    )
    url = body["data"]["viewer"]["preAuthorisations"]["requests"][0]["approvalUrl"]
    path = url[url.index("/pre-authorisations/") :]
    page = api.client.get(path)
    assert page.status_code == 200 and "预先授权确认书" in page.text
    assert "38,000.00" in page.text and "张*" in page.text and "张伟" not in page.text
    forged = api.client.get(path.replace(".html", "x.html"))
    assert forged.status_code == 404
    assert forged.json()["error"]["code"] == "PRE_AUTH_LINK_INVALID"
    # signing out ends the link
    zhang("mutation { logOut { __typename } }")
    assert api.client.get(path).status_code == 404
    out = staff(SUBMIT, input={"preAuthId": pid, "smsCode": code})["data"]["submitPreAuthorisation"]
    assert out["code"] == "PRE_AUTH_NOT_FOUND"


def test_the_notice_to_tick_is_readable_and_an_old_version_is_refused(
    zhang: Claimant, services: Services
) -> None:
    body = zhang(
        "{ viewer { preAuthorisations { ... on PreAuthList { notice { version text textEn } } } } }"
    )
    notice = body["data"]["viewer"]["preAuthorisations"]["notice"]
    assert notice["version"] == "PA-2026-1"
    assert "VIPClaim@cpic.com.cn" in notice["text"] and "原始病历资料" in notice["text"]
    assert "application form" in notice["textEn"]
    old = {**_input(zhang, services), "noticeVersion": "PA-2020-1"}
    out = zhang(START, input=old)["data"]["startPreAuthorisation"]
    assert out["fieldErrors"] == [{"field": "noticeVersion", "code": "NOTICE_OUTDATED"}]
    current = {**_input(zhang, services), "noticeVersion": notice["version"]}
    draft = zhang.run(START, "startPreAuthorisation", **current)["preAuthorisation"]
    assert draft["timeline"] == [{"status": "DRAFT", "note": "《申请提示》 PA-2026-1"}]


def test_starts_past_the_daily_budget_are_told_to_wait(
    zhang: Claimant, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(preauth, "STARTS", Policy("pre-auth-start", datetime.timedelta(days=1), 1))
    zhang.run(START, "startPreAuthorisation", **_input(zhang, services))
    query = START.replace(ERR, ERR + " ... on RetryLaterError { retryAfterSeconds }")
    assert query != START
    out = zhang(query, input=_input(zhang, services))["data"]["startPreAuthorisation"]
    assert (out["__typename"], out["code"]) == ("RetryLaterError", "PRE_AUTH_RATE_LIMITED")
    assert out["retryAfterSeconds"] > 0
