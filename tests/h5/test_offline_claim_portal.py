"""A paper claim from end to end: entered by the office for a person without the app, a
supplement answered through the H5 link (name + captcha, no account), settled, paid; the
SMS and e-mail delivered (real SMTP on loopback), no in-app message anywhere."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from server.claims import offline, payments, review, supplements
from server.claims.core import ClaimContext
from server.claims.models import Adjuster, Channel, Claim, ClaimStatus, IncidentType
from server.messages.models import MemberMessage
from server.notify.email import SmtpEmailSender
from server.notify.worker import deliver_due
from server.policies.records import add_person, add_policy, resident_id
from server.storage.uploads import store_upload
from tests.db import FakeClock
from tests.h5.supplement_helpers import (
    AnswerRecorder,
    Pending,
    adjuster,
    hidden,
    log_in,
    photo,
    sms_link,
)
from tests.server.notify.conftest import Mailbox, SmtpServer, free_port

PAGE = "/h5/supplement/claim"
ID_NUMBER = resident_id("120104", datetime.date(1966, 8, 9), "077")


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, db: Session, phone: str, text: str) -> None:
        self.sent.append((phone, text))


def _deliver(
    factory: sessionmaker[Session], cx: ClaimContext, now: datetime.datetime
) -> tuple[RecordingSms, Mailbox]:
    smtp = SmtpServer("127.0.0.1", free_port(), Mailbox())
    smtp.start()
    sms = RecordingSms()
    try:
        mailer = SmtpEmailSender("127.0.0.1", smtp.port, "claims@example.com", timeout=10)
        report = deliver_due(factory, sms, mailer, now, vault=cx.vault)
        assert not report.failed
    finally:
        smtp.stop()
    return sms, smtp.mailbox


def _paper_claim(factory: sessionmaker[Session], cx: ClaimContext) -> tuple[int, str, int]:
    """Entered, scanned and sent by the office; (claim id, claim number, clerk id)."""
    today = cx.now().date()
    with factory() as db:
        person = add_person(
            db,
            cx.vault,
            name="孙丽",
            id_number=ID_NUMBER,
            birth_date=datetime.date(1966, 8, 9),
            gender="F",
            phone="13900000077",
        )
        add_policy(
            db,
            cx.vault,
            policy_no="PAPER-0077",
            insured=person,
            start=today.replace(month=1, day=1),
            end=today.replace(month=12, day=31),
        )
        clerk = adjuster(db, cx.vault, cx.now())
        form = offline.PaperClaim(
            policy_no="PAPER-0077",
            insured_id_number=ID_NUMBER,
            claim_type="OUTPATIENT",
            incident_type=IncidentType.DISEASE,
            incident_date=today - datetime.timedelta(days=10),
            invoice_total=Decimal("2860.00"),
            payee_name="孙丽",
            bank_name="中国银行",
            account_no="6013820800012349876",
            contact_email="sun.li@example.com",
        )
        claim = offline.start(db, cx, clerk, form)
        db.commit()
        claim_id, clerk_id = claim.id, clerk.id
    for category in ("MEDICAL_RECORD", "INVOICE"):
        with factory() as db:
            target = offline.documents_target(db, cx, clerk, 0, claim_id, category)
            stored = store_upload(cx.storage, photo("green"), filename="scan.jpg")
            offline.attach_documents(db, cx, target, category, [stored])
    with factory() as db:
        sent = offline.send(db, cx, db.get(Adjuster, clerk_id), claim_id)
        db.commit()
        assert sent.claim_no is not None
        return claim_id, sent.claim_no, clerk_id


def test_a_paper_claim_with_a_supplement_answered_on_the_h5_page_then_paid(
    portal: TestClient,
    answers: AnswerRecorder,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    clock: FakeClock,
) -> None:
    # given a paper claim the office sent for a person with no app account
    claim_id, claim_no, clerk_id = _paper_claim(db_factory, claims)
    # when the adjuster asks for a clearer invoice
    with db_factory() as db:
        clerk = db.get(Adjuster, clerk_id)
        claim = db.get(Claim, claim_id)
        assert clerk is not None and claim is not None
        review.start_review(db, claims, clerk, claim)
        request, token = supplements.request_supplement(
            db, claims, clerk, claim, ["INVOICE"], "请补充清晰的发票影像"
        )
        db.commit()
        link = sms_link(db, claims.vault, request.id)
        request_id = request.id
    # then the SMS (to the policy record's mobile) and the e-mail carry the same H5 link
    sms, mailbox = _deliver(db_factory, claims, clock.now)
    texts = dict(sms.sent)
    assert set(texts) == {"13900000077"}
    to_mobile = [t for p, t in sms.sent if link in t]
    assert to_mobile and claim_no in to_mobile[0] and "尊敬的孙丽" in to_mobile[0]
    mails = [(rcpt, m) for rcpt, m in mailbox.messages]
    assert {tuple(r) for r, _ in mails} == {("sun.li@example.com",)}
    assert any(link in m.get_body(("plain",)).get_content() for _, m in mails)  # type: ignore[union-attr]

    # when the claimant opens the link and signs in with the insured person's name and the
    # captcha (the portal needs no account)
    pending = Pending(claim_id, claim_no, request_id, token, link)
    signed = log_in(portal, pending, answers, name="孙丽")
    assert signed.status_code == 303, signed.text
    page = portal.get(PAGE)
    assert page.status_code == 200 and "请补充清晰的发票影像" in page.text
    up = portal.post(
        PAGE + "/upload",
        params={"category": "INVOICE"},
        data={"csrf": hidden(page.text, "csrf")},
        files=[("file", ("invoice.jpg", photo("blue"), "image/jpeg"))],
        follow_redirects=False,
    )
    assert up.status_code == 303
    done = portal.post(
        PAGE + "/submit",
        data={"csrf": hidden(portal.get(PAGE).text, "csrf"), "remark": "已重新拍摄"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    # then the claim is back under review with the file, sent through H5
    with db_factory() as db:
        claim = db.get(Claim, claim_id)
        assert claim is not None and claim.status is ClaimStatus.UNDER_REVIEW
        channels = {d.channel for d in claim.documents}
        assert channels == {Channel.OFFICE, Channel.H5}

        # when it is settled and the payment recorded
        clerk = db.get(Adjuster, clerk_id)
        assert clerk is not None
        review.settle(
            db, claims, clerk, claim, approved_fen=2860_00, paid_fen=2860_00, deductions=[]
        )
        clock.advance(days=1)
        payments.record_payment(
            db,
            claims,
            clerk,
            claim,
            amount_fen=2860_00,
            paid_on=clock.now.date(),
            bank_reference="BOC-PAPER-0077",
        )
        db.commit()
        assert claim.status is ClaimStatus.PAID
        # and no in-app message was ever written: there is no account
        assert db.scalars(select(MemberMessage)).all() == []
    # then the settlement and the payment reach the contact by SMS and e-mail
    sms, mailbox = _deliver(db_factory, claims, clock.now)
    bodies = [t for _, t in sms.sent]
    assert any("已结案" in t and claim_no in t for t in bodies)
    paid = [t for t in bodies if "理赔款2,860.00元" in t]
    assert paid and re.search(r"\*+9876", paid[0]) and "6013820800012349876" not in paid[0]
    subjects = [str(m["Subject"]) for _, m in mailbox.messages]
    assert any("理赔已结案" in s for s in subjects) and any("理赔款已支付" in s for s in subjects)
    # (the adjuster's notice of the arrived supplement goes to the adjuster)
    assert {tuple(r) for r, _ in mailbox.messages} == {
        ("sun.li@example.com",),
        ("adjuster@example.com",),
    }
