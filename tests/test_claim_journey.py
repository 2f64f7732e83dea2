"""The whole claim, as its people live it, on SQLite and PostgreSQL.

A member signs up and verifies, claims with uploads, signs and confirms with the SMS
code; an adjuster asks for a supplement; the SMS and the e-mail arrive (through the
outbox, the development SMS sender and a real SMTP server) with a link that opens the
supplement page; the member adds the document in the app and submits; the adjuster
settles and the settlement notice shows the amounts. A member who chose English gets every
text in English and a link that opens the English page.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.accounts.models import SmsOutbox
from server.accounts.wiring import MemberServices
from server.claims.adjusters import create_adjuster
from server.notify.email import SmtpEmailSender
from server.notify.worker import deliver_due
from tests.db import Api, FakeClock, last_sms_code
from tests.server.notify.conftest import Mailbox, SmtpServer, free_port

PASSWORD = "Health2026!"
ADJUSTER_PASSWORD = "Review-2026!"


def gql(api: Api, query: str, token: str, **variables: Any) -> dict[str, Any]:
    body = api(query, token=token, **variables)
    assert "errors" not in body, body
    payload: dict[str, Any] = next(iter(body["data"].values()))
    return payload


def ok(payload: dict[str, Any], typename: str) -> dict[str, Any]:
    assert payload["__typename"] == typename, payload
    return payload


def jpeg(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), colour).save(buf, "JPEG")
    return buf.getvalue()


def upload(client: TestClient, token: str, path: str, data: bytes, **params: str) -> Any:
    r = client.post(
        path,
        params=params,
        files={"file": ("photo.jpg", data, "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code in (200, 201), r.text
    return r.json()


def mutation(name: str, input_type: str, success: str, fields: str) -> str:
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename "
        f"... on {success} {{ {fields} }} ... on Error {{ code message }} }} }}"
    )


SEND_SMS = """mutation($mobile: String!) { sendSmsCode(input: {mobile: $mobile, purpose: REGISTER}) {
  __typename } }"""
REGISTER = """mutation($mobile: String!, $code: String!) {
  register(input: {mobile: $mobile, password: "Health2026!", smsCode: $code, acceptTerms: true}) {
  __typename ... on SignInSuccess { token } ... on Error { code } } }"""
VERIFY = """mutation($name: String!, $no: String!) { verifyRealName(input: {idType: RESIDENT_ID,
  name: $name, idNumber: $no, validFrom: "2020-01-01"}) { __typename ... on Error { code } } }"""
CONTACT = mutation(
    "saveClaimContact", "SaveClaimContactInput", "SaveClaimContactSuccess", "__typename"
)
START = mutation("startClaim", "StartClaimInput", "StartClaimSuccess", "claim { id status }")
BASICS = mutation(
    "updateClaimBasics", "UpdateClaimBasicsInput", "UpdateClaimBasicsSuccess", "__typename"
)
AMOUNT = mutation(
    "updateClaimAmount", "UpdateClaimAmountInput", "UpdateClaimAmountSuccess", "__typename"
)
SEND_CODE = mutation(
    "sendClaimConfirmationCode", "ClaimIdInput", "SendClaimConfirmationCodeSuccess", "__typename"
)
SUBMIT = mutation(
    "submitClaim",
    "SubmitClaimInput",
    "SubmitClaimSuccess",
    "claim { id claimNo status expectedSettlementBy } officeAddressZh postcode hotline "
    "otherServices",
)
SUPPLEMENT = mutation(
    "submitClaimSupplement",
    "SubmitClaimSupplementInput",
    "SubmitClaimSupplementSuccess",
    "claim { status }",
)
CLAIM = """query($id: ID!) { claim(id: $id) { __typename ... on Claim { claimNo status
  approvedAmount paidAmount expectedSettlementBy expectedPaymentBy supplement { instructions deadline categories { code } }
  documents { category inSupplement } timeline { kind statusTo actor note }
  settlementNoticeUrl settlementNoticePdfUrl } ... on Error { code } } }"""

ADJ_LOG_IN = mutation("adjusterLogIn", "AdjusterLogInInput", "AdjusterSignInSuccess", "token")
QUEUE = """{ adjusterQueue { edges { node { id claimNo status } } } }"""
REVIEW = mutation(
    "startClaimReview", "StartClaimReviewInput", "StartClaimReviewSuccess", "__typename"
)
REQUEST = mutation(
    "requestClaimSupplement",
    "RequestClaimSupplementInput",
    "RequestClaimSupplementSuccess",
    "__typename",
)
SETTLE = mutation("settleClaim", "SettleClaimInput", "SettleClaimSuccess", "__typename")
MESSAGES = """{ viewer { unreadMessageCount messages(first: 10) {
  edges { node { kind title body targetId read } } } } }"""
LANGUAGE = """mutation($lang: Language!) { setPreferredLanguage(input: {language: $lang}) {
  __typename ... on SetPreferredLanguageSuccess { viewer { preferredLanguage } } } }"""
LINK = r"https?://\S+/h5/supplement/[A-Za-z0-9_-]+(?:\?lang=en)?"
# what each language's texts say, the claim number filled in later
SAYS = {
    "zh": {
        "receipt": "您的理赔申请已提交，赔案号{no}",
        "asked": "2026年3月4日",
        "submitted_subject": "理赔申请已提交",
        "settled_sms": "您的赔案{no}已结案，核定金额1,180.00元，赔付金额1,180.00元",
        "settled_subject": "理赔已结案",
        "settled_mail": "核定金额：1,180.00 元",
        "settled_title": "理赔已结案",
        "page": '<html lang="zh',
    },
    "en": {
        "receipt": "your claim is submitted: claim number {no}",
        "asked": "(by 4 March 2026)",
        "submitted_subject": "Claim submitted",
        "settled_sms": "claim {no} is settled: approved CNY 1,180.00, paid CNY 1,180.00",
        "settled_subject": "Claim settled",
        "settled_mail": "Approved: CNY 1,180.00",
        "settled_title": "Claim settled",
        "page": '<html lang="en',
    },
}
MARK_READ = mutation(
    "markMessagesRead", "MarkMessagesReadInput", "MarkMessagesReadSuccess", "marked unreadCount"
)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_claim_from_sign_up_to_settlement_notice(
    lang: str,
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
) -> None:
    client = api.client
    person = demo.people["spouse"]  # insured, with no account yet
    phone = person.phone

    # --- the member signs up and verifies -----------------------------------------------------
    ok(gql(api, SEND_SMS, "", mobile=phone), "SendSmsCodeSuccess")
    signed_in = ok(
        gql(api, REGISTER, "", mobile=phone, code=last_sms_code(db_factory, members, phone)),
        "SignInSuccess",
    )
    token = signed_in["token"]
    ok(gql(api, VERIFY, token, name=person.name, no=person.id_number), "VerifyRealNameSuccess")
    says = SAYS[lang]
    if lang == "en":  # chosen in the app: SMS, e-mail, in-app and the H5 link follow it
        chosen = ok(gql(api, LANGUAGE, token, lang="EN"), "SetPreferredLanguageSuccess")
        assert chosen["viewer"]["preferredLanguage"] == "EN"

    # --- claims with uploads, signs, confirms ---------------------------------------------------
    ok(
        gql(
            api,
            CONTACT,
            token,
            input={"address": "上海市徐汇区漕溪北路1号", "email": "wang.fang@example.com"},
        ),
        "SaveClaimContactSuccess",
    )
    started = ok(
        gql(
            api,
            START,
            token,
            input={"policyId": str(demo.policy_ids["spouse"]), "noticeAccepted": True},
        ),
        "StartClaimSuccess",
    )
    claim_id = started["claim"]["id"]
    assert started["claim"]["status"] == "DRAFT"
    ok(
        gql(
            api,
            BASICS,
            token,
            input={
                "claimId": claim_id,
                "address": "上海市徐汇区漕溪北路1号",
                "incidentType": "DISEASE",
                "incidentDate": "2026-02-20",
                "claimType": "OUTPATIENT",
                "facilityName": "上海交通大学医学院附属仁济医院",
            },
        ),
        "UpdateClaimBasicsSuccess",
    )
    ok(
        gql(
            api,
            AMOUNT,
            token,
            input={
                "claimId": claim_id,
                "invoiceTotal": "1280.00",
                "invoiceNumbers": ["31002600110012345678"],
                "otherCompensation": "0",
                "payee": {"bankName": "中国建设银行", "accountNo": "6217001210012345678"},
            },
        ),
        "UpdateClaimAmountSuccess",
    )
    documents = f"/api/claims/{claim_id}/documents"
    upload(client, token, documents, jpeg((200, 30, 30)), category="MEDICAL_RECORD")
    upload(client, token, documents, jpeg((30, 200, 30)), category="INVOICE")
    upload(client, token, f"/api/claims/{claim_id}/signature", jpeg((250, 250, 250)))
    ok(gql(api, SEND_CODE, token, input={"claimId": claim_id}), "SendClaimConfirmationCodeSuccess")
    code = last_sms_code(db_factory, members, phone)
    submitted = ok(
        gql(
            api,
            SUBMIT,
            token,
            input={"claimId": claim_id, "smsCode": code, "clientKey": "journey-0001"},
        ),
        "SubmitClaimSuccess",
    )["claim"]
    assert re.fullmatch(r"VSHH260302\d{5}", submitted["claimNo"])
    assert submitted["status"] == "SUBMITTED"
    claim_no = submitted["claimNo"]
    # the success page: where originals go, the hotline, what else to do, when to expect it
    done = gql(
        api,
        SUBMIT,
        token,
        input={"claimId": claim_id, "smsCode": code, "clientKey": "journey-0001"},
    )
    assert done["officeAddressZh"] == "上海市浦东新区世纪大道1229号世纪大都会13楼"
    assert (done["postcode"], done["hotline"]) == ("200122", "10108686")
    assert "CLAIM_PROGRESS" in done["otherServices"]
    assert submitted["expectedSettlementBy"] == "2026-03-16"  # Monday 2 March + 10 working days

    # --- the adjuster asks for a supplement ---------------------------------------------------
    with db_factory() as db:
        create_adjuster(
            db,
            members.vault,
            username="li.shenhe",
            name="李审核",
            email="li.shenhe@example.com",
            password=ADJUSTER_PASSWORD,
            now=clock.now,
        )
        db.commit()
    desk = ok(
        gql(api, ADJ_LOG_IN, "", input={"username": "li.shenhe", "password": ADJUSTER_PASSWORD}),
        "AdjusterSignInSuccess",
    )["token"]
    queue = [e["node"] for e in gql(api, QUEUE, desk)["edges"]]
    assert [c["claimNo"] for c in queue] == [claim_no]
    ok(gql(api, REVIEW, desk, input={"claimId": claim_id}), "StartClaimReviewSuccess")
    ok(
        gql(
            api,
            REQUEST,
            desk,
            input={
                "claimId": claim_id,
                "categories": ["INVOICE"],
                "instructions": "请补充有效报销凭证及病历",
            },
        ),
        "RequestClaimSupplementSuccess",
    )

    # --- the SMS and the e-mail arrive with a working link -------------------------------------
    smtp = SmtpServer("127.0.0.1", free_port(), Mailbox())
    smtp.start()
    try:
        email = SmtpEmailSender("127.0.0.1", smtp.port, "claims@example.com", timeout=10)
        report = deliver_due(db_factory, members.sms, email, clock.now, vault=members.vault)
    finally:
        smtp.stop()
    # the submission's receipt and the request for documents, each by SMS and e-mail
    assert len(report.sent) == 4 and not report.failed
    with db_factory() as db:
        receipt, sms = db.scalars(
            select(SmsOutbox.body)
            .where(SmsOutbox.phone_hash == members.vault.lookup(phone, kind="phone"))
            .order_by(SmsOutbox.id.desc())
            .limit(2)
        ).all()[::-1]
    assert says["receipt"].format(no=claim_no) in receipt
    assert sms is not None and claim_no in sms and says["asked"] in sms
    (_, submitted_mail), (recipients, message) = smtp.mailbox.messages
    assert says["submitted_subject"] in str(submitted_mail["Subject"])
    assert recipients == ["wang.fang@example.com"]
    mail_text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert claim_no in mail_text and "请补充有效报销凭证及病历" in mail_text
    sms_link = re.search(LINK, sms)
    mail_link = re.search(LINK, mail_text)
    assert sms_link and mail_link and sms_link.group() == mail_link.group()
    assert sms_link.group().endswith("?lang=en") == (lang == "en")
    page = client.get(re.sub(r"^https?://[^/]+", "", sms_link.group()))
    assert page.status_code == 200 and claim_no in page.text and says["page"] in page.text

    # --- the member adds the document in the app and submits -----------------------------------
    waiting = gql(api, CLAIM, token, id=claim_id)
    assert waiting["status"] == "PENDING_SUPPLEMENT"
    assert waiting["supplement"]["instructions"] == "请补充有效报销凭证及病历"
    assert waiting["supplement"]["deadline"] == "2026-03-04"
    upload(client, token, documents, jpeg((30, 30, 200)), category="INVOICE")
    back = ok(
        gql(api, SUPPLEMENT, token, input={"claimId": claim_id, "remark": "已补发票"}),
        "SubmitClaimSupplementSuccess",
    )
    assert back["claim"]["status"] == "UNDER_REVIEW"

    # --- the adjuster sees it first and settles -------------------------------------------------
    queue = [e["node"] for e in gql(api, QUEUE, desk)["edges"]]
    assert queue[0]["claimNo"] == claim_no
    ok(
        gql(
            api,
            SETTLE,
            desk,
            input={
                "claimId": claim_id,
                "approvedAmount": "1180.00",
                "paidAmount": "1180.00",
                "deductions": [{"amount": "100.00", "reason": "自费药品不在保障范围"}],
            },
        ),
        "SettleClaimSuccess",
    )

    settled = gql(api, CLAIM, token, id=claim_id)
    assert settled["status"] == "SETTLED"
    assert (settled["approvedAmount"], settled["paidAmount"]) == ("1180.00", "1180.00")
    # the member sees when the money is due: 2-3 working days after settling (seed §12 Q7)
    assert (settled["expectedSettlementBy"], settled["expectedPaymentBy"]) == (None, "2026-03-05")
    kinds = [e["kind"] for e in settled["timeline"]]
    for kind in ("SUBMITTED", "SUPPLEMENT_REQUESTED", "SUPPLEMENT_RECEIVED", "SETTLED"):
        assert kind in kinds
    assert any(e["note"] == "已补发票" for e in settled["timeline"])
    assert [d["category"] for d in settled["documents"] if d["inSupplement"]] == ["INVOICE"]

    # --- the claimant is told: SMS, e-mail and the message centre ---------------------------------
    smtp = SmtpServer("127.0.0.1", free_port(), Mailbox())
    smtp.start()
    try:
        email = SmtpEmailSender("127.0.0.1", smtp.port, "claims@example.com", timeout=10)
        report = deliver_due(db_factory, members.sms, email, clock.now, vault=members.vault)
    finally:
        smtp.stop()
    # the adjuster's arrival e-mail, documents received and settled (SMS + e-mail each)
    assert len(report.sent) == 5 and not report.failed
    with db_factory() as db:
        last_sms = db.scalar(
            select(SmsOutbox.body)
            .where(SmsOutbox.phone_hash == members.vault.lookup(phone, kind="phone"))
            .order_by(SmsOutbox.id.desc())
            .limit(1)
        )
    assert last_sms is not None
    assert says["settled_sms"].format(no=claim_no) in last_sms
    settled_mail = smtp.mailbox.messages[-1][1]
    assert says["settled_subject"] in str(settled_mail["Subject"])
    settled_text = settled_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert says["settled_mail"] in settled_text and "自费药品不在保障范围" in settled_text
    inbox = gql(api, MESSAGES, token)
    assert inbox["unreadMessageCount"] == 4
    kinds = [e["node"]["kind"] for e in inbox["messages"]["edges"]]
    assert kinds == [
        "claim.settled",
        "claim.supplement_received",
        "claim.supplement_requested",
        "claim.submitted",
    ]
    newest = inbox["messages"]["edges"][0]["node"]
    assert newest["targetId"] == claim_id and "1,180.00" in newest["body"]
    assert newest["title"] == says["settled_title"]
    read = ok(gql(api, MARK_READ, token, input={"all": True}), "MarkMessagesReadSuccess")
    assert (read["marked"], read["unreadCount"]) == (4, 0)

    notice = client.get(re.sub(r"^https?://[^/]+", "", settled["settlementNoticeUrl"]))
    assert notice.status_code == 200
    for amount in ("1,280.00", "1,180.00", "100.00"):
        assert amount in notice.text
    assert claim_no in notice.text and "自费药品不在保障范围" in notice.text
    assert "6217001210012345678" not in notice.text and person.name not in notice.text
    pdf = client.get(re.sub(r"^https?://[^/]+", "", settled["settlementNoticePdfUrl"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
