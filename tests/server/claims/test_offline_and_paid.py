"""Paper claims entered by the office, the payment of settled claims (PAID), the university
plan's designated hospitals by facility id and its 异地安置 inpatient case."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims import deadlines, designated, offline, payments, review
from server.claims.core import ClaimContext
from server.claims.errors import ClaimNotFound, ClaimRuleBroken, WrongClaimState
from server.claims.models import Channel, ClaimEvent, ClaimStatus, IncidentType
from server.errors import ValidationFailed
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from server.policies.records import add_person, add_policy, resident_id
from server.storage.uploads import store_upload
from tests.db import FakeClock
from tests.server.claims.review_helpers import make_adjuster, make_claim, png

S = ClaimStatus
NO_APP_ID = resident_id("310101", datetime.date(1970, 3, 4), "088")


def _outbox(db: Session, cx: ClaimContext) -> dict[str, tuple[str, str]]:
    return {
        n.dedupe_key: (cx.vault.decrypt(n.recipient_enc), cx.vault.decrypt(n.body_enc))
        for n in db.scalars(select(Notification))
    }


def _insured_without_app(db: Session, cx: ClaimContext, phone: str | None = "13900000088") -> str:
    today = cx.now().date()
    person = add_person(
        db,
        cx.vault,
        name="陈静",
        id_number=NO_APP_ID,
        birth_date=datetime.date(1970, 3, 4),
        gender="F",
        phone=phone,
    )
    add_policy(
        db,
        cx.vault,
        policy_no="OFF-0001",
        insured=person,
        start=today.replace(month=1, day=1),
        end=today.replace(month=12, day=31),
    )
    db.flush()
    return "OFF-0001"


def _form(policy_no: str, id_number: str = NO_APP_ID, **changes: Any) -> offline.PaperClaim:
    values: dict[str, Any] = {
        "policy_no": policy_no,
        "insured_id_number": id_number,
        "claim_type": "OUTPATIENT",
        "incident_type": IncidentType.DISEASE,
        "incident_date": datetime.date(2026, 2, 20),
        "invoice_total": Decimal("3200.50"),
        "payee_name": "陈静",
        "bank_name": "招商银行",
        "account_no": "6225880212345678",
        "contact_email": "chen.jing@example.com",
    }
    values.update(changes)
    return offline.PaperClaim(**values)


def _scan(db: Session, cx: ClaimContext, claim_id: int, category: str) -> None:
    adjuster_id = db.get(offline.Claim, claim_id).entered_by  # type: ignore[union-attr]
    target = offline.UploadTarget(adjuster_id, claim_id, 0, 0)
    stored = store_upload(cx.storage, png(), filename=f"{category.lower()}.png")
    offline.attach_documents(db, cx, target, category, [stored])


# --- paper claims ----------------------------------------------------------------------------


def test_a_paper_claim_without_an_app_account_is_sent_and_its_contact_told(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    # given an insured person with no app account, and a clerk
    policy_no = _insured_without_app(db_session, claims)
    clerk = make_adjuster(db_session, claims)
    # when the clerk enters the paper form, scans its documents and sends it
    claim = offline.start(db_session, claims, clerk, _form(policy_no))
    assert (claim.status, claim.channel, claim.account_id) == (S.DRAFT, Channel.OFFICE, None)
    with pytest.raises(ClaimRuleBroken) as missing:
        offline.send(db_session, claims, clerk, claim.id)
    assert missing.value.code == "DOCUMENTS_MISSING"
    for category in ("MEDICAL_RECORD", "INVOICE"):
        _scan(db_session, claims, claim.id, category)
    sent = offline.send(db_session, claims, clerk, claim.id)
    # then it has a VSHH number and waits in the review queue like any claim
    assert sent.status is S.SUBMITTED and (sent.claim_no or "").startswith("VSHH")
    assert sent.invoice_total_fen == 3200_50 and sent.limit_fen is None
    assert claim.id in {r.claim.id for r in review.queue(db_session).rows}
    # and the SMS goes to the policy record's mobile, the e-mail to the typed address
    out = _outbox(db_session, claims)
    sms = out[f"claim.submitted:{claim.id}:submit:sms"]
    mail = out[f"claim.submitted:{claim.id}:submit:email"]
    assert sms[0] == "13900000088" and sent.claim_no in sms[1] and "尊敬的陈静" in sms[1]
    assert mail[0] == "chen.jing@example.com"
    # and there is no in-app message: there is no account to hold it
    assert db_session.scalars(select(MemberMessage)).all() == []
    # and the adjuster's view masks the contact
    view = review.claim_view(db_session, claims, sent)
    assert view.applicant_phone == "139****0088" and view.contact_email != "chen.jing@example.com"
    assert view.payee is not None and view.payee.account_no.endswith("5678")
    # and sending again changes nothing
    assert offline.send(db_session, claims, clerk, claim.id).claim_no == sent.claim_no


def test_the_policy_number_must_insure_the_person_on_the_form(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    policy_no = _insured_without_app(db_session, claims)
    clerk = make_adjuster(db_session, claims)
    other = resident_id("310101", datetime.date(1971, 3, 4), "099")
    with pytest.raises(ClaimNotFound) as e:
        offline.start(db_session, claims, clerk, _form(policy_no, other))
    assert e.value.code == "POLICY_NOT_FOUND"


def test_bad_fields_come_back_together_and_a_contact_is_needed(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    policy_no = _insured_without_app(db_session, claims, phone=None)
    clerk = make_adjuster(db_session, claims)
    with pytest.raises(ValidationFailed) as bad:
        offline.start(
            db_session,
            claims,
            clerk,
            _form(policy_no, invoice_total=Decimal("-1"), contact_mobile="123", language="fr"),
        )
    assert {p.field for p in bad.value.problems} == {"invoiceTotal", "contactMobile", "language"}
    with pytest.raises(ClaimRuleBroken) as none:
        offline.start(db_session, claims, clerk, _form(policy_no, contact_email=None))
    assert none.value.code == "CONTACT_REQUIRED"


def test_a_paper_claim_of_a_member_with_the_app_is_also_told_in_the_app(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    # given the university's staff member (who has the app), and a 异地安置 inpatient stay:
    # seed 002 三.1(4) "异地安置职工异地联网住院费用" is an online case of its own
    staff = demo.people["staff"]
    clerk = make_adjuster(db_session, claims)
    claim = offline.start(
        db_session,
        claims,
        clerk,
        _form(
            "DEMO-G-0301-01",
            staff.id_number,
            claim_type="INPATIENT_RESIDENT_ELSEWHERE",
            contact_email=None,
        ),
    )
    assert claim.plan_rules == "NKU-STAFF"
    with pytest.raises(ClaimRuleBroken) as missing:
        offline.send(db_session, claims, clerk, claim.id)
    # the networked inpatient case needs its discharge summary
    assert "DISCHARGE_SUMMARY" in missing.value.message
    for category in ("MEDICAL_RECORD", "INVOICE", "DISCHARGE_SUMMARY"):
        _scan(db_session, claims, claim.id, category)
    offline.send(db_session, claims, clerk, claim.id)
    account = db_session.scalar(select(Account).where(Account.person_id == staff.person_id))
    assert account is not None
    [message] = db_session.scalars(select(MemberMessage)).all()
    assert (message.account_id, message.subject_id) == (account.id, claim.id)
    assert _outbox(db_session, claims)[f"claim.submitted:{claim.id}:submit:sms"][0] == staff.phone


def test_a_paper_claim_of_a_child_without_the_app_is_told_to_the_main_insured_in_the_app(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    # seed 000 §3 2)① "主被可以查看到所有连带被保人的保单" and §4 注1 "支持主被为未成年连带子女
    # 进行代申请理赔": a dependant child has no app account; the main insured's message centre
    # is where the child's claim shows
    child, main = demo.people["child"], demo.people["main"]
    clerk = make_adjuster(db_session, claims)
    claim = offline.start(
        db_session,
        claims,
        clerk,
        _form(
            "DEMO-G-0001-03",
            child.id_number,
            payee_name="张伟",
            contact_mobile="13900000077",
            contact_email=None,
        ),
    )
    assert claim.account_id is None
    for category in ("MEDICAL_RECORD", "INVOICE"):
        _scan(db_session, claims, claim.id, category)
    offline.send(db_session, claims, clerk, claim.id)

    main_account = db_session.scalar(select(Account).where(Account.person_id == main.person_id))
    assert main_account is not None
    assert db_session.scalar(select(Account).where(Account.person_id == child.person_id)) is None
    [message] = db_session.scalars(select(MemberMessage)).all()
    assert (message.account_id, message.subject_id) == (main_account.id, claim.id)
    assert "张小明" not in message.body  # the in-app text names no one
    # the SMS goes to the contact written on the paper form
    assert _outbox(db_session, claims)[f"claim.submitted:{claim.id}:submit:sms"][0] == (
        "13900000077"
    )


def test_a_dependant_with_an_app_account_of_their_own_keeps_their_messages(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    # an adult dependant (the spouse) with the app: their own message centre, not the main's
    spouse = demo.people["spouse"]
    account = db_session.scalar(select(Account).where(Account.person_id == spouse.person_id))
    if account is None:
        account = Account(
            phone_hash=claims.vault.lookup("13900000066", kind="phone"),
            phone_enc=claims.vault.encrypt("13900000066"),
            person_id=spouse.person_id,
        )
        db_session.add(account)
        db_session.flush()
    clerk = make_adjuster(db_session, claims)
    claim = offline.start(
        db_session, claims, clerk, _form("DEMO-G-0001-02", spouse.id_number, payee_name="李娜")
    )
    for category in ("MEDICAL_RECORD", "INVOICE"):
        _scan(db_session, claims, claim.id, category)
    offline.send(db_session, claims, clerk, claim.id)
    [message] = db_session.scalars(select(MemberMessage)).all()
    assert message.account_id == account.id


# --- payment ---------------------------------------------------------------------------------


def _settled(db: Session, cx: ClaimContext, demo: Any, adjuster: Any = None) -> tuple[Any, Any]:
    adjuster = adjuster or make_adjuster(db, cx)
    claim = make_claim(db, cx, demo, amount_fen=1200_00)
    review.settle(db, cx, adjuster, claim, approved_fen=1200_00, paid_fen=1200_00, deductions=[])
    return adjuster, claim


def test_recording_the_payment_makes_the_claim_paid_and_tells_the_claimant(
    db_session: Session, claims: ClaimContext, demo: Any, clock: FakeClock
) -> None:
    # given a claim settled on Monday 2 March 2026
    adjuster, claim = _settled(db_session, claims, demo)
    settled_on = deadlines.china_today(claim.decided_at)
    # when the payment desk records the bank's payment two days later
    clock.advance(days=2)
    paid_on = settled_on + datetime.timedelta(days=2)
    payment = payments.record_payment(
        db_session,
        claims,
        adjuster,
        claim,
        amount_fen=1200_00,
        paid_on=paid_on,
        bank_reference="ICBC-20260304-0001",
    )
    # then the claim is PAID on its timeline
    assert claim.status is S.PAID
    event = db_session.scalars(
        select(ClaimEvent).where(ClaimEvent.claim_id == claim.id, ClaimEvent.kind == "PAID")
    ).one()
    assert (event.status_from, event.status_to) == (S.SETTLED, S.PAID)
    # and the payment was within "结案后，2-3 个工作日安排支付理赔款" (seed §12 Q7)
    view = payments.view(db_session, claims, claim)
    assert view is not None and view.met is True and view.payee.endswith("3445)")
    assert deadlines.dates(claim, payment.paid_on).payment_overdue(paid_on) is False
    # and SMS, e-mail and in-app message say so, the account masked
    out = _outbox(db_session, claims)
    sms = out[f"claim.paid:{claim.id}:payment:sms"][1]
    mail = out[f"claim.paid:{claim.id}:payment:email"][1]
    assert "理赔款1,200.00元" in sms and "3445" in sms and "6222020200112233445" not in sms
    assert "银行流水" not in mail and "支付金额：1,200.00 元" in mail
    titles = [m.title for m in db_session.scalars(select(MemberMessage))]
    assert "理赔款已支付" in titles
    # and the same reference again is a retry; another is refused
    again = payments.record_payment(
        db_session,
        claims,
        adjuster,
        claim,
        amount_fen=1200_00,
        paid_on=paid_on,
        bank_reference="ICBC-20260304-0001",
    )
    assert again.id == payment.id
    with pytest.raises(WrongClaimState):
        payments.record_payment(
            db_session,
            claims,
            adjuster,
            claim,
            amount_fen=1200_00,
            paid_on=paid_on,
            bank_reference="ICBC-OTHER-0002",
        )


def test_the_paid_notice_is_english_for_a_member_who_chose_english(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster, claim = _settled(db_session, claims, demo)
    account = db_session.get(Account, claim.account_id)
    assert account is not None
    account.preferred_language = "en"
    payments.record_payment(
        db_session,
        claims,
        adjuster,
        claim,
        amount_fen=1200_00,
        paid_on=deadlines.china_today(claims.now()),
        bank_reference="ICBC-EN-0001",
    )
    out = _outbox(db_session, claims)
    sms = out[f"claim.paid:{claim.id}:payment:sms"][1]
    assert sms.startswith("[CPIC] Dear") and "CNY 1,200.00" in sms and "was paid on" in sms
    assert "Amount: CNY 1,200.00" in out[f"claim.paid:{claim.id}:payment:email"][1]
    message = db_session.scalars(
        select(MemberMessage).where(MemberMessage.kind == "claim.paid")
    ).one()
    assert message.title == "Claim paid" and message.language == "en"


def test_a_payment_is_checked_against_the_settlement(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    open_claim = make_claim(db_session, claims, demo)
    with pytest.raises(WrongClaimState):
        payments.record_payment(
            db_session,
            claims,
            adjuster,
            open_claim,
            amount_fen=1200_00,
            paid_on=deadlines.china_today(claims.now()),
            bank_reference="REF-0001",
        )
    review.settle(
        db_session,
        claims,
        adjuster,
        open_claim,
        approved_fen=1200_00,
        paid_fen=1200_00,
        deductions=[],
    )
    today = deadlines.china_today(claims.now())
    with pytest.raises(ClaimRuleBroken) as wrong:
        payments.record_payment(
            db_session,
            claims,
            adjuster,
            open_claim,
            amount_fen=1100_00,
            paid_on=today,
            bank_reference="REF-0001",
        )
    assert wrong.value.code == "AMOUNTS_INCONSISTENT"
    with pytest.raises(ValidationFailed) as bad:
        payments.record_payment(
            db_session,
            claims,
            adjuster,
            open_claim,
            amount_fen=1200_00,
            paid_on=today - datetime.timedelta(days=1),
            bank_reference="x",
        )
    assert {p.field for p in bad.value.problems} == {"paidOn", "bankReference"}
    assert open_claim.status is S.SETTLED


def test_the_desk_lists_settled_but_unpaid_claims_payment_overdue_first(
    db_session: Session, claims: ClaimContext, demo: Any, clock: FakeClock
) -> None:
    # given one claim settled on Monday 2 March 2026, and one a week later
    adjuster, early = _settled(db_session, claims, demo)
    clock.advance(days=7)
    _, late = _settled(db_session, claims, demo, adjuster)
    # and a third settled then paid
    _, paid = _settled(db_session, claims, demo, adjuster)
    payments.record_payment(
        db_session,
        claims,
        adjuster,
        paid,
        amount_fen=1200_00,
        paid_on=deadlines.china_today(claims.now()),
        bank_reference="REF-PAID-1",
    )
    today = deadlines.china_today(claims.now())
    # when the desk asks for the claims awaiting payment
    page = review.queue(db_session, review.QueueFilter(awaiting_payment=True), today=today)
    # then the paid one is gone and the one past its last payment day comes first
    assert [r.claim.id for r in page.rows] == [early.id, late.id]
    assert deadlines.dates(early).payment_overdue(today)
    assert not deadlines.dates(late).payment_overdue(today)
    with pytest.raises(ValidationFailed):
        review.queue(
            db_session,
            review.QueueFilter(awaiting_payment=True, statuses=(S.SUBMITTED,)),
        )


# --- the university plan's designated hospitals ----------------------------------------------

NETWORK = (
    designated.Member("nku-staff-outpatient", "tj-hospital-a", "天津示例医院甲", "test"),
    designated.Member("nku-staff-outpatient", "tj-nku-campus-hospital", "南开大学医院", "test"),
    designated.Member("other-network", "tj-hospital-b", "天津示例医院乙", "test"),
)


def test_designated_hospitals_are_chosen_by_facility_id(claims: ClaimContext) -> None:
    # seed 002 三.1(1)-(2): "在南开大学职工商业医疗保险门诊定点医院的门诊刷医保卡费用…门诊垫付费用"
    rules = claims.rules.get("NKU-STAFF")
    chosen = designated.check_choice(
        rules, "OUTPATIENT_ADVANCE", "tj-hospital-a", None, members=NETWORK
    )
    assert chosen == designated.Chosen("tj-hospital-a", "天津示例医院甲")
    # a typed name is refused where the plan names its hospitals by id
    with pytest.raises(ClaimRuleBroken) as typed:
        designated.check_choice(rules, "OUTPATIENT_CARD", None, "天津示例医院甲", members=NETWORK)
    assert typed.value.code == "FACILITY_ID_REQUIRED"
    # a hospital of another network is not designated
    with pytest.raises(ClaimRuleBroken) as other:
        designated.check_choice(rules, "OUTPATIENT_CARD", "tj-hospital-b", None, members=NETWORK)
    assert other.value.code == "FACILITY_NOT_DESIGNATED"
    # inpatient claims are not limited to the outpatient list
    assert designated.check_choice(rules, "INPATIENT", None, "天津医院", members=NETWORK) is None


def test_the_campus_hospital_exclusion_is_decided_by_facility_id(claims: ClaimContext) -> None:
    # seed 002 三.1(1): "(7500元以下，不包括南开大学医院门诊刷医保卡费用）"
    rules = claims.rules.get("NKU-STAFF")
    campus = "tj-nku-campus-hospital"
    with pytest.raises(ClaimRuleBroken) as card:
        # whatever text comes with it: the id decides
        designated.check_choice(rules, "OUTPATIENT_CARD", campus, "校医院", members=NETWORK)
    assert card.value.code == "FACILITY_EXCLUDED" and card.value.field == "facilityId"
    # the exclusion is of card-swipe costs only: an advance payment there is accepted
    advance = designated.check_choice(rules, "OUTPATIENT_ADVANCE", campus, None, members=NETWORK)
    assert advance is not None and advance.name == "南开大学医院"


def test_the_shipped_list_is_empty_and_says_why(claims: ClaimContext) -> None:
    # the notice names no designated hospital; the typed name stands until the list is loaded
    rules = claims.rules.get("NKU-STAFF")
    assert designated.network("nku-staff-outpatient") == {}
    text = designated.LIST.read_text(encoding="utf-8")
    assert "does not list the designated hospitals" in text and "left out" in text
    assert designated.check_choice(rules, "OUTPATIENT_CARD", None, "天津市第一中心医院") is None
    with pytest.raises(ClaimRuleBroken):
        designated.check_choice(rules, "OUTPATIENT_CARD", "tj-nku-campus-hospital", None)


# --- the member's claim names the designated hospital by id ----------------------------------


def _staff_draft(db: Session, cx: ClaimContext, demo: Any) -> tuple[Account, Any]:
    from server.claims import drafts
    from tests.server.claims.drafts_helpers import STAFF, account_of, contact

    staff = account_of(db, cx, STAFF)
    contact(db, cx, staff)
    claim = drafts.start_draft(
        db, cx, staff, policy_id=demo.policy_ids["staff"], notice_accepted=True
    )
    return staff, claim


def test_a_members_university_claim_takes_the_hospital_by_id_once_the_list_is_loaded(
    db_session: Session, claims: ClaimContext, demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.server.claims.drafts_helpers import basics

    staff, claim = _staff_draft(db_session, claims, demo)
    # while the list is empty the typed name stands, and an id is refused
    basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_name="天津市人民医院")
    assert (claim.facility_name, claim.facility_id) == ("天津市人民医院", None)
    with pytest.raises(ClaimRuleBroken) as unloaded:
        basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_id="tj-hospital-a")
    assert unloaded.value.code == "FACILITY_NOT_DESIGNATED"
    # once loaded (seed 002 三.1(1)-(2) "门诊定点医院"): the id, not the text
    monkeypatch.setattr(designated, "load", lambda path=designated.LIST: NETWORK)
    with pytest.raises(ClaimRuleBroken) as typed:
        basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_name="天津示例医院甲")
    assert typed.value.code == "FACILITY_ID_REQUIRED"
    basics(db_session, claims, staff, claim, "OUTPATIENT_CARD", facility_id="tj-hospital-a")
    assert (claim.facility_id, claim.facility_name) == ("tj-hospital-a", "天津示例医院甲")
    # and 三.1(1) "不包括南开大学医院门诊刷医保卡费用" by id, whatever name is typed beside it
    with pytest.raises(ClaimRuleBroken) as campus:
        basics(
            db_session,
            claims,
            staff,
            claim,
            "OUTPATIENT_CARD",
            facility_id="tj-nku-campus-hospital",
            facility_name="天津示例医院甲",
        )
    assert campus.value.code == "FACILITY_EXCLUDED"
    assert claim.facility_id == "tj-hospital-a"


def test_a_paper_claim_of_the_university_plan_checks_the_hospital_id_too(
    db_session: Session, claims: ClaimContext, demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(designated, "load", lambda path=designated.LIST: NETWORK)
    staff = demo.people["staff"]
    clerk = make_adjuster(db_session, claims)
    form = _form(
        "DEMO-G-0301-01",
        staff.id_number,
        claim_type="OUTPATIENT_CARD",
        facility_id="tj-nku-campus-hospital",
    )
    with pytest.raises(ClaimRuleBroken) as campus:
        offline.start(db_session, claims, clerk, form)
    assert campus.value.code == "FACILITY_EXCLUDED"
    ok = offline.start(
        db_session,
        claims,
        clerk,
        _form(
            "DEMO-G-0301-01",
            staff.id_number,
            claim_type="OUTPATIENT_ADVANCE",
            facility_id="tj-nku-campus-hospital",
        ),
    )
    assert (ok.facility_id, ok.facility_name) == ("tj-nku-campus-hospital", "南开大学医院")


def test_a_paper_claim_in_english_gets_english_texts_and_an_english_h5_link(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    from server.claims import supplements

    policy_no = _insured_without_app(db_session, claims)
    clerk = make_adjuster(db_session, claims)
    claim = offline.start(db_session, claims, clerk, _form(policy_no, language="en"))
    for category in ("MEDICAL_RECORD", "INVOICE"):
        _scan(db_session, claims, claim.id, category)
    offline.send(db_session, claims, clerk, claim.id)
    request, token = supplements.request_supplement(
        db_session, claims, clerk, claim, ["INVOICE"], "Please send a clearer invoice"
    )
    out = _outbox(db_session, claims)
    assert out[f"claim.submitted:{claim.id}:submit:sms"][1].startswith("[CPIC] Dear")
    phone, text = out[f"supplement:{request.id}:sms"]
    assert phone == "13900000088" and f"/h5/supplement/{token}?lang=en" in text
