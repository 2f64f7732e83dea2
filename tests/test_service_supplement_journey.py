"""Documents asked for on service requests, as their people live them, on SQLite and
PostgreSQL: an inpatient advance payment and a pre-authorisation each get a request for
documents; the SMS and the e-mail arrive (a real SMTP server on loopback); the member
opens the H5 link, signs in with their name and the captcha, uploads and sends; staff
decide; the member sees it. Beside them, what goes wrong: a used or expired link, another
member's request, a wrong name (throttled), an upload after the decision, a category
missing.
"""

from __future__ import annotations

import datetime
import re
from email.message import EmailMessage
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from h5.supplement.routes import PortalConfig
from server.accounts.models import Account, SmsOutbox
from server.accounts.wiring import MemberServices
from server.billing import advance
from server.billing.models import AdvancePayment
from server.claims.adjusters import create_adjuster
from server.claims.core import ClaimContext
from server.claims.portal import throttle
from server.services import Services
from tests import journeys
from tests.api.live import committed_app, live
from tests.db import Api, FakeClock, last_sms_code, run_together
from tests.h5.supplement_helpers import AnswerRecorder, hidden, photo
from tests.journeys import DESK_PASSWORD, STAFF_LOG_IN, gql, staff_token
from tests.schema.claims.helpers import VE, Claimant, payload
from tests.server.claims.drafts_helpers import image
from tests.server.claims.review_helpers import ADJUSTER_PASSWORD, make_adjuster

MAIN = "13800000001"
OTHER = "13800000005"
NAME = "张伟"  # the demo main insured, the account's person
LINK = re.compile(r"https?://\S+?(/h5/supplement/r/[A-Za-z0-9_-]+)")


@pytest.fixture
def answers(member_app: Starlette) -> AnswerRecorder:
    recorder = AnswerRecorder()
    member_app.state.supplement_portal = PortalConfig(login_floor=0.0, answers=recorder)
    return recorder


def deliver(
    db_factory: sessionmaker[Session], members: MemberServices, clock: FakeClock
) -> list[tuple[list[str], EmailMessage]]:
    """Deliver the outbox (SMTP on loopback): every message goes; the e-mails received."""
    report, mails = journeys.deliver(db_factory, members, clock)
    assert not report.failed
    return mails


def last_sms(db_factory: sessionmaker[Session], members: MemberServices, phone: str) -> str:
    with db_factory() as db:
        body = db.scalar(
            select(SmsOutbox.body)
            .where(SmsOutbox.phone_hash == members.vault.lookup(phone, kind="phone"))
            .order_by(SmsOutbox.id.desc())
            .limit(1)
        )
    assert body is not None
    return body


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def h5_log_in(client: TestClient, path: str, answers: AnswerRecorder, name: str) -> Any:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(
        path,
        data={
            "csrf": hidden(page.text, "csrf"),
            "captcha_id": hidden(page.text, "captcha_id"),
            "captcha": answers.last,
            "name": name,
        },
        follow_redirects=False,
    )


def h5_upload(client: TestClient, csrf: str, category: str, data: bytes | None = None) -> Any:
    return client.post(
        "/h5/supplement/request/upload",
        params={"category": category},
        data={"csrf": csrf},
        files=[("file", ("scan.jpg", data or photo(), "image/jpeg"))],
        follow_redirects=False,
    )


DOC_REQUEST = """id reference instructions workingDays deadline open answeredAt answeredVia
  uploadPath categories { code name nameEn files { name channel url } }"""
ASK = payload(
    "askAdvancePaymentDocuments",
    "AskAdvancePaymentDocumentsInput",
    "AskAdvancePaymentDocumentsSuccess",
    f"advancePayment {{ status }} documentRequest {{ {DOC_REQUEST} }}",
    VE,
)
ANSWER = payload(
    "answerDocumentRequest",
    "AnswerDocumentRequestInput",
    "AnswerDocumentRequestSuccess",
    f"documentRequest {{ {DOC_REQUEST} }}",
    VE + " ... on DocumentsMissingError { missing }",
)
ADVANCE = payload(
    "requestAdvancePayment",
    "RequestAdvancePaymentInput",
    "RequestAdvancePaymentSuccess",
    "advancePayment { id status }",
    VE,
)
APPROVE_ADVANCE = payload(
    "approveAdvancePayment",
    "ApproveAdvancePaymentInput",
    "ApproveAdvancePaymentSuccess",
    "advancePayment { status approvedAmount }",
)
ADVANCES = f"""{{ advancePayments {{ __typename ... on AdvancePayments {{ advancePayments {{
  id status approvedAmount timeline {{ kind actor }} documentRequests {{ {DOC_REQUEST} }} }} }} }} }}"""
MESSAGES = """{ viewer { messages(first: 10) { edges { node { kind target } } } } }"""


def _advance(api: Api, member: Claimant) -> str:
    gql(api, "mutation { sendAdvancePaymentCode { __typename } }", member.token)
    code = last_sms_code(member.factory, member.members, member.phone)
    out = member.run(
        ADVANCE,
        "requestAdvancePayment",
        policyId=member.policy("main_high_end"),
        hospitalName="某市立医院",
        admissionDate="2026-03-10",
        description="择期手术住院",
        smsCode=code,
    )
    assert out["__typename"] == "RequestAdvancePaymentSuccess", out
    advance_id: str = out["advancePayment"]["id"]
    return advance_id


def test_advance_payment_documents_asked_uploaded_through_the_link_then_approved(
    api: Api,
    answers: AnswerRecorder,
    demo: Any,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    clock: FakeClock,
) -> None:
    zhang = Claimant(api, db_factory, claims, members, demo, MAIN)
    zhang.contact()  # the e-mail address: zw@example.com
    advance_id = _advance(api, zhang)
    desk = staff_token(api, db_factory, members, clock, email="desk@example.com")
    deliver(db_factory, members, clock)  # the codes sent so far

    # --- the desk asks; bad asks are refused with field codes -------------------------------------
    ask = {
        "advanceId": advance_id,
        "categories": ["ADMISSION_NOTICE", "MEDICAL_RECORD"],
        "instructions": "请补充住院通知单及近期病历。",
        "workingDays": 3,
    }
    none = gql(api, ASK, desk, input={**ask, "categories": []})
    assert none["fieldErrors"] == [{"field": "categories", "code": "REQUIRED"}]
    wrong = gql(api, ASK, desk, input={**ask, "categories": ["PASSPORT"]})
    assert wrong["fieldErrors"] == [{"field": "categories", "code": "CATEGORY_NOT_ALLOWED"}]
    as_member = api(ASK, token=zhang.token, input=ask)
    assert as_member["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    asked = gql(api, ASK, desk, input=ask)
    assert asked["__typename"] == "AskAdvancePaymentDocumentsSuccess", asked
    assert asked["advancePayment"]["status"] == "DOCUMENTS_ASKED"
    request = asked["documentRequest"]
    assert request["deadline"] == "2026-03-05" and request["workingDays"] == 3  # Mon 2 March + 3
    assert [c["code"] for c in request["categories"]] == ["ADMISSION_NOTICE", "MEDICAL_RECORD"]
    twice = gql(api, ASK, desk, input=ask)
    assert twice["code"] == "APPOINTMENT_STATE_CONFLICT"

    # --- the SMS and the e-mail arrive with the link ----------------------------------------------
    mails = deliver(db_factory, members, clock)
    sms = last_sms(db_factory, members, MAIN)
    assert "住院垫付申请" in sms and "住院通知单或入院证明、病历资料" in sms
    assert "3个工作日内（截至2026年3月5日）" in sms
    ((recipients, mail),) = mails
    assert recipients == ["zw@example.com"]
    assert request["reference"] in str(mail["Subject"])
    body = text_of(mail)
    assert "请补充住院通知单及近期病历。" in body
    sms_link, mail_link = LINK.search(sms), LINK.search(body)
    assert sms_link is not None and mail_link is not None
    path = sms_link.group(1)
    assert mail_link.group(1) == path

    # --- the member opens the link: a wrong name fails, the right one signs in ---------------------
    client = api.client
    page = client.get(path)
    assert page.status_code == 200 and request["reference"] in page.text
    assert "申请人姓名" in page.text
    failed = h5_log_in(client, path, answers, "李四")
    assert failed.status_code == 400 and "信息不正确" in failed.text
    signed = h5_log_in(client, path, answers, NAME)
    assert signed.status_code == 303 and signed.headers["location"].endswith("/supplement/request")
    shown = client.get("/h5/supplement/request")
    assert shown.status_code == 200
    assert "请补充住院通知单及近期病历。" in shown.text and "住院通知单或入院证明" in shown.text
    csrf = hidden(shown.text, "csrf")

    # a file of a category not asked for, or without the page's token, is refused
    assert h5_upload(client, csrf, "OTHER").status_code == 400
    assert h5_upload(client, "forged", "ADMISSION_NOTICE").status_code == 403
    assert h5_upload(client, csrf, "ADMISSION_NOTICE").status_code == 303
    # sending with a category still missing says which
    early = client.post(
        "/h5/supplement/request/submit", data={"csrf": csrf, "remark": ""}, follow_redirects=False
    )
    assert early.status_code == 400 and "病历资料" in early.text
    assert h5_upload(client, csrf, "MEDICAL_RECORD").status_code == 303
    sent = client.post(
        "/h5/supplement/request/submit",
        data={"csrf": csrf, "remark": "病历共两页"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("/request/done")
    done = client.get("/h5/supplement/request/done")
    assert done.status_code == 200 and "病历共两页" in done.text
    # the used link says so; the staff member who asked is told by e-mail
    used = client.get(path)
    assert used.status_code == 200 and "补充材料已提交" in used.text
    mails = deliver(db_factory, members, clock)
    assert [m[0] for m in mails] == [["desk@example.com"]]
    assert request["reference"] in text_of(mails[0][1])

    # --- back under review with a timeline; another member cannot answer it ------------------------
    mine = gql(api, ADVANCES, zhang.token)["advancePayments"][0]
    assert mine["status"] == "SUBMITTED"
    assert [(e["kind"], e["actor"]) for e in mine["timeline"]] == [
        ("submitted", "member"),
        ("documents_asked", "coordinator"),
        ("documents_received", "member"),
    ]
    [answered] = mine["documentRequests"]
    assert answered["answeredVia"] == "h5" and answered["open"] is False
    files = {c["code"]: c["files"] for c in answered["categories"]}
    assert [f["channel"] for f in files["MEDICAL_RECORD"]] == ["h5"]
    assert api.client.get(
        files["MEDICAL_RECORD"][0]["url"].split("testserver")[-1]
    ).status_code in (
        200,
        404,
    )
    other = Claimant(api, db_factory, claims, members, demo, OTHER)
    theirs = other(ANSWER, input={"requestId": request["id"]})["data"]["answerDocumentRequest"]
    assert theirs["code"] == "SUPPLEMENT_NOT_FOUND"

    # --- the desk approves; the member sees it and is told by SMS and e-mail ----------------------
    approved = gql(api, APPROVE_ADVANCE, desk, input={"advanceId": advance_id, "amount": "20000"})
    assert approved["advancePayment"] == {"status": "APPROVED", "approvedAmount": "20000.00"}
    mails = deliver(db_factory, members, clock)
    assert "垫付金额20,000.00元" in last_sms(db_factory, members, MAIN)
    ((recipients, mail),) = mails
    assert recipients == ["zw@example.com"] and "住院垫付已批准" in str(mail["Subject"])
    assert "垫付金额：20,000.00 元" in text_of(mail)
    mine = gql(api, ADVANCES, zhang.token)["advancePayments"][0]
    assert (mine["status"], mine["approvedAmount"]) == ("APPROVED", "20000.00")
    kinds = [
        e["node"]["kind"]
        for e in api(MESSAGES, token=zhang.token)["data"]["viewer"]["messages"]["edges"]
    ]
    assert kinds[:2] == ["advance_payment.approved", "advance_payment.documents_asked"]
    # after the decision: no upload through the app, the link closed
    late = api.client.post(
        request["uploadPath"],
        params={"category": "MEDICAL_RECORD"},
        files=[("file", ("scan.png", image(), "image/png"))],
        headers={"Authorization": f"Bearer {zhang.token}"},
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "SUPPLEMENT_CLOSED"


# --- pre-authorisation ---------------------------------------------------------------------------

PA = "preAuthorisation { id status approvalUrl approvalPdfUrl timeline { status } }"
START = payload(
    "startPreAuthorisation", "StartPreAuthorisationInput", "StartPreAuthorisationSuccess", PA, VE
)
SUBMIT = payload(
    "submitPreAuthorisation", "SubmitPreAuthorisationInput", "SubmitPreAuthorisationSuccess", PA, VE
)
MORE = payload(
    "requestPreAuthorisationMore",
    "RequestPreAuthorisationMoreInput",
    "DecidePreAuthorisationSuccess",
    f"preAuthorisation {{ status moreDue documentRequests {{ {DOC_REQUEST} }} }}",
    VE,
)
APPROVE = payload(
    "approvePreAuthorisation",
    "ApprovePreAuthorisationInput",
    "DecidePreAuthorisationSuccess",
    "preAuthorisation { status }",
    VE,
)
PRE_AUTHS = f"""{{ viewer {{ preAuthorisations {{ ... on PreAuthList {{ requests {{
  id status approvalUrl approvalPdfUrl timeline {{ status }}
  documentRequests {{ {DOC_REQUEST} }} }} }} }} }} }}"""


def _upload(member: Claimant, pre_auth_id: str, category: str) -> Any:
    return member.api.client.post(
        f"/api/pre-authorisations/{pre_auth_id}/documents",
        params={"category": category},
        files=[("file", ("scan.png", image(), "image/png"))],
        headers={"Authorization": f"Bearer {member.token}"},
    )


def _submitted_pre_auth(member: Claimant, services: Services) -> str:
    facility = services.directory.directory.facilities[0]
    draft = member.run(
        START,
        "startPreAuthorisation",
        noticeAccepted=True,
        policyId=member.policy("main_high_end"),
        facilityId=facility.id,
        visitDate=(member.cx.now().date() + datetime.timedelta(days=7)).isoformat(),
        items="膝关节镜手术",
    )["preAuthorisation"]
    pid: str = draft["id"]
    for category in ("APPLICATION_FORM", "MEDICAL_RECORD"):
        assert _upload(member, pid, category).status_code == 201
    member.api(
        "mutation($i: PreAuthIdInput!) { sendPreAuthorisationCode(input: $i) { __typename } }",
        token=member.token,
        i={"preAuthId": pid},
    )
    code = last_sms_code(member.factory, member.members, member.phone)
    sent = member.run(SUBMIT, "submitPreAuthorisation", preAuthId=pid, smsCode=code)
    assert sent["preAuthorisation"]["status"] == "SUBMITTED", sent
    return pid


def test_pre_authorisation_more_asked_answered_through_the_link_then_approved_as_pdf(
    api: Api,
    answers: AnswerRecorder,
    demo: Any,
    services: Services,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    clock: FakeClock,
) -> None:
    zhang = Claimant(api, db_factory, claims, members, demo, MAIN)
    zhang.contact()
    pid = _submitted_pre_auth(zhang, services)
    with db_factory() as db:
        make_adjuster(db, claims)
        db.commit()
    office = gql(api, STAFF_LOG_IN, "", u="wang.fang", p=ADJUSTER_PASSWORD)["token"]
    deliver(db_factory, members, clock)

    more = gql(
        api,
        MORE,
        office,
        input={
            "preAuthId": pid,
            "instructions": "请补充近三个月的检查报告。",
            "categories": ["EXAMINATION_REPORT"],
        },
    )
    assert more["preAuthorisation"]["status"] == "MORE_REQUESTED"
    assert more["preAuthorisation"]["moreDue"] == "2026-03-04"
    [request] = more["preAuthorisation"]["documentRequests"]
    mails = deliver(db_factory, members, clock)
    sms = last_sms(db_factory, members, MAIN)
    assert "预先授权申请" in sms and "检查检验报告" in sms
    ((recipients, mail),) = mails
    assert recipients == ["zw@example.com"] and "预先授权" in str(mail["Subject"])
    found = LINK.search(sms)
    assert found is not None and found.group(1) in text_of(mail)
    path = found.group(1)

    # the link: sign in, upload, send
    client = api.client
    assert h5_log_in(client, path, answers, NAME).status_code == 303
    shown = client.get("/h5/supplement/request")
    assert "请补充近三个月的检查报告。" in shown.text
    csrf = hidden(shown.text, "csrf")
    assert h5_upload(client, csrf, "EXAMINATION_REPORT").status_code == 303
    sent = client.post("/h5/supplement/request/submit", data={"csrf": csrf}, follow_redirects=False)
    assert sent.status_code == 303
    # the app's answer to the same request is already given: it stays answered, once
    again = zhang(ANSWER, input={"requestId": request["id"]})["data"]["answerDocumentRequest"]
    assert again["documentRequest"]["answeredVia"] == "h5"

    # the office approves; the member is told and downloads the approval, page and PDF
    today = claims.now().date()
    approved = gql(
        api,
        APPROVE,
        office,
        input={
            "preAuthId": pid,
            "items": "膝关节镜手术",
            "amount": "38000.00",
            "validFrom": today.isoformat(),
            "validTo": (today + datetime.timedelta(days=30)).isoformat(),
        },
    )
    assert approved["preAuthorisation"]["status"] == "APPROVED"
    mails = deliver(db_factory, members, clock)
    assert "已批准" in last_sms(db_factory, members, MAIN)
    assert [m[0] for m in mails if "预先授权已批准" in str(m[1]["Subject"])] == [["zw@example.com"]]
    [mine] = gql(api, PRE_AUTHS, zhang.token)["preAuthorisations"]["requests"]
    assert [s["status"] for s in mine["timeline"]] == [
        "DRAFT",
        "SUBMITTED",
        "MORE_REQUESTED",
        "SUBMITTED",
        "APPROVED",
    ]
    html = client.get(mine["approvalUrl"].split("testserver")[-1])
    assert html.status_code == 200 and "38,000.00" in html.text
    pdf = client.get(mine["approvalPdfUrl"].split("testserver")[-1])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    # the decided request's link is closed
    assert client.get(path).status_code in (200, 410)


def test_expired_link_and_wrong_names_are_throttled(
    api: Api,
    answers: AnswerRecorder,
    demo: Any,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    clock: FakeClock,
) -> None:
    zhang = Claimant(api, db_factory, claims, members, demo, MAIN)
    advance_id = _advance(api, zhang)
    desk = staff_token(api, db_factory, members, clock, email="desk@example.com")
    asked = gql(
        api,
        ASK,
        desk,
        input={
            "advanceId": advance_id,
            "categories": ["COST_ESTIMATE"],
            "instructions": "请补充费用预估单。",
            "workingDays": 1,
        },
    )
    deliver(db_factory, members, clock)
    found = LINK.search(last_sms(db_factory, members, MAIN))
    assert found is not None
    path = found.group(1)
    client = api.client
    # an unknown link
    assert client.get("/h5/supplement/r/" + "x" * 43).status_code == 404
    # wrong names: after 5 free tries each further one waits (the portal's throttle); each
    # answer carries the next captcha, as a person at the page would see it
    page = client.get(path)
    statuses = []
    for name in ["李四"] * 6 + [NAME]:
        page = client.post(
            path,
            data={
                "csrf": hidden(page.text, "csrf"),
                "captcha_id": hidden(page.text, "captcha_id"),
                "captcha": answers.last,
                "name": name,
            },
            follow_redirects=False,
        )
        statuses.append(page.status_code)
    assert statuses == [400] * 7
    assert "请等待" in page.text  # even the right name waits now
    # past the deadline (Tuesday 3 March, end of day in China) the link is dead
    assert asked["documentRequest"]["deadline"] == "2026-03-03"
    clock.advance(days=2)
    expired = client.get(path)
    assert expired.status_code == 410 and "期限已过" in expired.text


def test_forty_log_ins_at_once_on_a_request_link_share_the_portal_throttle(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
    clock: FakeClock,
) -> None:
    # a request for documents on an advance payment, over real commits
    factory, demo = committed
    with factory() as db:
        account = db.scalar(
            select(Account).where(Account.phone_hash == members.vault.lookup(MAIN, kind="phone"))
        )
        assert account is not None and account.person is not None
        now = clock.now
        row = AdvancePayment(
            account_id=account.id,
            policy_id=demo.policy_ids["main_high_end"],
            patient_id=account.person.id,
            hospital_name="某市立医院",
            admission_date=now.date(),
            description_enc=members.vault.encrypt("择期手术"),
            applicant_name_enc=account.person.name_enc,
            applicant_sex="M",
            applicant_id_number_enc=account.person.id_number_enc,
            applicant_mobile_enc=account.phone_enc,
            status="submitted",
            created_at=now,
            updated_at=now,
        )
        db.add(row)
        coordinator = create_adjuster(
            db,
            members.vault,
            username="chen.xietiao",
            name="陈协调",
            email="",
            password=DESK_PASSWORD,
            now=clock.now,
            role="coordinator",
        )
        db.flush()
        _, _, token = advance.ask_documents(
            db, claims, coordinator, row.id, categories=["OTHER"], instructions="请补充资料。"
        )
        db.commit()
    app = committed_app(services, members, claims, factory)
    app.state.supplement_portal = PortalConfig(login_floor=0.0, answers=AnswerRecorder())
    path = f"/h5/supplement/r/{token}"
    with live(app) as base:
        # 40 browsers (one address) each with the page open, then all sending a wrong name
        browsers = [httpx.Client(base_url=base, timeout=60) for _ in range(40)]
        try:
            forms = []
            for browser in browsers:
                page = browser.get(path)
                assert page.status_code == 200, page.text
                forms.append(
                    {
                        "csrf": hidden(page.text, "csrf"),
                        "captcha_id": hidden(page.text, "captcha_id"),
                    }
                )

            def attempt(i: int) -> tuple[int, str]:
                r = browsers[i].post(path, data={**forms[i], "captcha": "WRONG", "name": "李四"})
                return r.status_code, r.text

            results = run_together(40, attempt)
        finally:
            for browser in browsers:
                browser.close()
    assert all(status == 400 for status, _ in results), [s for s, _ in results]
    failed = sum("信息不正确" in text for _, text in results)
    waited = sum("请等待" in text for _, text in results)
    assert (failed, waited) == (throttle.FREE_FAILURES, 40 - throttle.FREE_FAILURES)
    # the failures count against the address under the claims portal's own policy
    with factory() as db:
        client = throttle.client_key(members.vault, "127.0.0.1")
        assert claims.limiter.peek(db, throttle.CLIENT_FAILURES, client).count == 5


DECLINE_ADVANCE = payload(
    "declineAdvancePayment",
    "DeclineAdvancePaymentInput",
    "DeclineAdvancePaymentSuccess",
    "advancePayment { status reason }",
)


def test_a_decision_while_documents_are_asked_closes_the_link_and_the_uploads(
    api: Api,
    answers: AnswerRecorder,
    demo: Any,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    clock: FakeClock,
) -> None:
    zhang = Claimant(api, db_factory, claims, members, demo, MAIN)
    zhang.contact()
    advance_id = _advance(api, zhang)
    desk = staff_token(api, db_factory, members, clock, email="desk@example.com")
    asked = gql(
        api,
        ASK,
        desk,
        input={
            "advanceId": advance_id,
            "categories": ["MEDICAL_RECORD"],
            "instructions": "请补充病历。",
        },
    )
    request = asked["documentRequest"]
    deliver(db_factory, members, clock)
    found = LINK.search(last_sms(db_factory, members, MAIN))
    assert found is not None
    path = found.group(1)
    client = api.client
    assert h5_log_in(client, path, answers, NAME).status_code == 303
    csrf = hidden(client.get("/h5/supplement/request").text, "csrf")
    # the app's answer without a file names the category still missing
    early = zhang(ANSWER, input={"requestId": request["id"]})["data"]["answerDocumentRequest"]
    assert (early["code"], early["missing"]) == ("DOCUMENTS_MISSING", ["MEDICAL_RECORD"])
    # the desk declines while the documents are asked
    declined = gql(
        api, DECLINE_ADVANCE, desk, input={"advanceId": advance_id, "reason": "不在保障范围内"}
    )
    assert declined["advancePayment"] == {"status": "DECLINED", "reason": "不在保障范围内"}
    mails = deliver(db_factory, members, clock)
    assert "未获批准" in last_sms(db_factory, members, MAIN)
    assert [m[0] for m in mails] == [["zw@example.com"]]
    assert "不在保障范围内" in text_of(mails[0][1])
    # the signed-in page, its uploads and the link are closed; so is the app's answer
    upload = h5_upload(client, csrf, "MEDICAL_RECORD")
    assert upload.status_code == 410 and "此申请目前无需补充资料" in upload.text
    as_json = client.post(
        "/h5/supplement/request/upload",
        params={"category": "MEDICAL_RECORD"},
        data={"csrf": csrf},
        files=[("file", ("scan.jpg", photo(), "image/jpeg"))],
        headers={"Accept": "application/json"},
    )
    assert as_json.status_code == 409
    assert as_json.json()["error"]["code"] == "CLAIM_STATE_CONFLICT"
    page = client.get("/h5/supplement/request")
    assert page.status_code == 410 and "此申请目前无需补充资料" in page.text
    link = client.get(path)
    assert link.status_code == 410
    late = zhang(ANSWER, input={"requestId": request["id"]})["data"]["answerDocumentRequest"]
    assert late["code"] == "SUPPLEMENT_CLOSED"
    [mine] = gql(api, ADVANCES, zhang.token)["advancePayments"]
    assert mine["status"] == "DECLINED" and mine["documentRequests"][0]["open"] is False
