"""Pre-authorisation (预先授权): high-end only, applicant, facility, files, SMS code, decision."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.errors import SmsCodeInvalid
from server.accounts.wiring import MemberServices
from server.claims import preauth
from server.claims.core import ClaimContext
from server.claims.errors import PreAuthNotAvailable, PreAuthNotFound, WrongPreAuthState
from server.claims.models import Adjuster
from server.claims.preauth_models import PreAuthorisation, PreAuthStatus
from server.errors import ValidationFailed
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from server.policies.models import IdType, Relation
from server.storage.uploads import store_upload
from tests.db import last_sms_code
from tests.server.claims.drafts_helpers import MAIN, STAFF, account_of, image, policy_id
from tests.server.claims.review_helpers import make_adjuster

FACILITIES = {"SH-0001": "上海嘉会国际医院"}
SPOUSE_ID = "310115198001011238"


@pytest.fixture
def main(db_session: Session, claims: ClaimContext, demo: Any) -> Any:
    return account_of(db_session, claims, MAIN)


@pytest.fixture
def adjuster(db_session: Session, claims: ClaimContext) -> Adjuster:
    return make_adjuster(db_session, claims)


def _start(db: Session, cx: ClaimContext, account: Any, pid: int, **over: Any) -> PreAuthorisation:
    args: dict[str, Any] = {
        "policy_id": pid,
        "notice_accepted": True,
        "facility_id": "SH-0001",
        "facility_name_of": FACILITIES.get,
        "visit_date": cx.now().date() + datetime.timedelta(days=10),
        "items": "膝关节镜手术及术前检查",
    }
    args.update(over)
    return preauth.start(db, cx, account, **args)


def _files(db: Session, cx: ClaimContext, account: Any, row: PreAuthorisation) -> None:
    for category in preauth.CATEGORIES:
        stored = store_upload(cx.storage, image(), filename=f"{category}.png")
        preauth.attach(db, cx, account, row.id, category, stored)


def _code(
    db: Session,
    factory: sessionmaker[Session],
    cx: ClaimContext,
    members: MemberServices,
    account: Any,
    row: PreAuthorisation,
) -> str:
    cx.clock.advance(minutes=13)  # type: ignore[attr-defined]
    preauth.send_code(db, cx, account, row.id)
    db.flush()
    return last_sms_code(factory, members, MAIN)


def test_a_policy_that_is_not_high_end_gets_the_offline_route(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    with pytest.raises(PreAuthNotAvailable) as e:
        _start(db_session, claims, main, policy_id(demo, "main"))
    assert "VIPClaim@cpic.com.cn" in e.value.message
    assert e.value.code == "PRE_AUTH_NOT_AVAILABLE"


def test_a_request_is_filled_in_submitted_with_the_code_and_approved(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
    adjuster: Adjuster,
) -> None:
    # given a high-end policy and another person applying for the insured
    other = preauth.Applicant(
        name="王芳",
        relation=Relation.SPOUSE,
        mobile="13900000009",
        email="wf@example.com",
        id_type=IdType.RESIDENT_ID,
        id_number=SPOUSE_ID,
        address="上海市浦东新区世纪大道1229号",
    )
    row = _start(db_session, claims, main, policy_id(demo, "main_high_end"), applicant=other)
    assert row.status == "draft" and row.facility_name == "上海嘉会国际医院"
    assert row.applicant_enc is not None and "王芳" not in row.applicant_enc
    assert json.loads(claims.vault.decrypt(row.applicant_enc))["idNumber"] == SPOUSE_ID
    # the code is refused until both kinds of file are there
    with pytest.raises(ValidationFailed) as e:
        preauth.send_code(db_session, claims, main, row.id)
    assert e.value.problems[0].code == "DOCUMENTS_MISSING"
    _files(db_session, claims, main, row)
    code = _code(db_session, db_factory, claims, members, main, row)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(SmsCodeInvalid):
        preauth.submit(db_session, claims, main, row.id, wrong)
    assert row.status == "draft"
    preauth.submit(db_session, claims, main, row.id, code)
    assert row.status == "submitted" and row.submitted_at == claims.now()
    # the receipt by SMS to the member's own mobile (and in the app, below)
    receipt = db_session.scalar(
        select(Notification).where(Notification.dedupe_key == f"pre_auth:{row.id}:submitted:sms")
    )
    assert receipt is not None
    assert "预先授权申请" in claims.vault.decrypt(receipt.body_enc)
    assert "已提交" in claims.vault.decrypt(receipt.body_enc)
    # no more files once submitted
    with pytest.raises(WrongPreAuthState):
        preauth.attach(
            db_session,
            claims,
            main,
            row.id,
            "MEDICAL_RECORD",
            store_upload(claims.storage, image()),
        )
    # the office approves
    today = claims.now().date()
    preauth.approve(
        db_session,
        claims,
        adjuster,
        row.id,
        items="膝关节镜手术",
        amount=Decimal("38000.00"),
        valid_from=today,
        valid_to=today + datetime.timedelta(days=30),
    )
    assert row.status == PreAuthStatus.APPROVED.value and row.approved_fen == 3_800_000
    assert [e.status for e in row.events] == ["draft", "submitted", "approved"]
    kinds = set(
        db_session.scalars(select(MemberMessage.kind).where(MemberMessage.account_id == main.id))
    )
    assert {"pre_auth.submitted", "pre_auth.approved"} <= kinds
    # decided once
    with pytest.raises(WrongPreAuthState):
        preauth.decline(db_session, claims, adjuster, row.id, reason="重复")


def test_a_request_can_be_declined_with_a_reason(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
    adjuster: Adjuster,
) -> None:
    row = _start(db_session, claims, main, policy_id(demo, "main_high_end"))
    # a draft is not the office's to decide
    with pytest.raises(PreAuthNotFound):
        preauth.decline(db_session, claims, adjuster, row.id, reason="x")
    _files(db_session, claims, main, row)
    preauth.submit(
        db_session, claims, main, row.id, _code(db_session, db_factory, claims, members, main, row)
    )
    with pytest.raises(ValidationFailed):
        preauth.decline(db_session, claims, adjuster, row.id, reason="")
    preauth.decline(db_session, claims, adjuster, row.id, reason="该项目不在保障范围内")
    assert row.status == "declined" and row.events[-1].note == "该项目不在保障范围内"
    # the member is told: in the app with the reason, and by SMS
    told = db_session.scalar(
        select(MemberMessage).where(
            MemberMessage.account_id == main.id, MemberMessage.kind == "pre_auth.declined"
        )
    )
    assert told is not None and "该项目不在保障范围内" in told.body
    sms = db_session.scalar(
        select(Notification).where(Notification.dedupe_key == f"pre_auth:{row.id}:declined:sms")
    )
    assert sms is not None


def test_bad_steps_are_named_and_another_members_request_is_not_found(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    pid = policy_id(demo, "main_high_end")
    with pytest.raises(ValidationFailed) as e:
        _start(
            db_session,
            claims,
            main,
            pid,
            notice_accepted=False,
            facility_id="NOPE",
            visit_date=claims.now().date() - datetime.timedelta(days=1),
            items="",
        )
    assert {p.field: p.code for p in e.value.problems} == {
        "noticeAccepted": "NOTICE_NOT_ACCEPTED",
        "facilityId": "UNKNOWN_FACILITY",
        "visitDate": "VISIT_DATE_OUT_OF_RANGE",
        "items": "REQUIRED",
    }
    row = _start(db_session, claims, main, pid)
    staff = account_of(db_session, claims, STAFF)
    with pytest.raises(PreAuthNotFound):
        preauth.own(db_session, staff, row.id)
    with pytest.raises(ValidationFailed):
        preauth.attach(
            db_session, claims, main, row.id, "PASSPORT", store_upload(claims.storage, image())
        )
    assert [r.id for r in preauth.mine(db_session, main)] == [row.id]


def test_the_office_asks_for_more_and_the_member_sends_it(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    main: Any,
    adjuster: Adjuster,
) -> None:
    # given a submitted request
    row = _start(db_session, claims, main, policy_id(demo, "main_high_end"))
    _files(db_session, claims, main, row)
    preauth.submit(
        db_session, claims, main, row.id, _code(db_session, db_factory, claims, members, main, row)
    )
    with pytest.raises(WrongPreAuthState):
        preauth.send_more(db_session, claims, main, row.id)  # nothing was asked
    # when the office asks for more (2 working days: Monday 2 March -> Wednesday 4 March)
    preauth.request_more(
        db_session, claims, adjuster, row.id, instructions="请补充近三个月的检查报告"
    )
    assert row.status == "more_requested" and row.more_due == datetime.date(2026, 3, 4)
    # then sending without a new file is refused; with one it goes back to the office
    claims.clock.advance(minutes=1)  # type: ignore[attr-defined]
    with pytest.raises(ValidationFailed) as e:
        preauth.send_more(db_session, claims, main, row.id)
    assert e.value.problems[0].code == "DOCUMENTS_MISSING"
    preauth.attach(
        db_session, claims, main, row.id, "MEDICAL_RECORD", store_upload(claims.storage, image())
    )
    preauth.send_more(db_session, claims, main, row.id)
    assert row.status == "submitted"
    db_session.expire(row, ["events"])
    assert [e.status for e in row.events] == ["draft", "submitted", "more_requested", "submitted"]
    kinds = list(
        db_session.scalars(
            select(MemberMessage.kind)
            .where(MemberMessage.account_id == main.id)
            .order_by(MemberMessage.id)
        )
    )
    assert kinds == ["pre_auth.submitted", "pre_auth.more_requested", "pre_auth.submitted"]
    # and the office decides as before
    preauth.decline(db_session, claims, adjuster, row.id, reason="不在保障范围内")
    assert row.status == "declined"


def test_another_person_applying_gives_every_detail_and_each_bad_one_is_named(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    # given a high-end policy and an applicant who is not the insured, every detail wrong
    pid = policy_id(demo, "main_high_end")
    bad = preauth.Applicant(
        name="",
        relation=Relation.SELF,
        mobile="1380000",
        email="not-an-address",
        id_type=IdType.RESIDENT_ID,
        id_number="310115198001011230",
        address=" ",
    )
    with pytest.raises(ValidationFailed) as e:
        _start(db_session, claims, main, pid, applicant=bad)
    # then each is named with its code and nothing is saved
    assert {p.field: p.code for p in e.value.problems} == {
        "applicant.name": "INVALID_NAME",
        "applicant.relation": "INVALID_RELATION",
        "applicant.mobile": "INVALID_MOBILE",
        "applicant.email": "INVALID_EMAIL",
        "applicant.idNumber": "INVALID_ID_NUMBER",
        "applicant.address": "REQUIRED",
    }
    assert preauth.mine(db_session, main) == []
    # and a member applying for themselves gives none of these
    row = _start(db_session, claims, main, pid)
    assert row.applicant_relation == Relation.SELF.value and row.applicant_enc is None


def test_the_notice_ticked_is_the_current_one_and_its_version_is_recorded(
    db_session: Session, claims: ClaimContext, demo: Any, main: Any
) -> None:
    # given 《申请提示》 as the member reads it: the offline route and the documents it asks for
    notice = preauth.notice()
    assert "VIPClaim@cpic.com.cn" in notice.text and "预先授权申请表" in notice.text
    assert "VIPClaim@cpic.com.cn" in notice.text_en
    pid = policy_id(demo, "main_high_end")
    # when the member ticked an older version, it is refused
    with pytest.raises(ValidationFailed) as e:
        _start(db_session, claims, main, pid, notice_version="PA-2020-1")
    assert [(p.field, p.code) for p in e.value.problems] == [("noticeVersion", "NOTICE_OUTDATED")]
    # then with the current one the draft's first step says which version was ticked
    row = _start(db_session, claims, main, pid, notice_version=notice.version)
    assert row.notice_accepted_at == claims.now()
    assert [(ev.status, ev.note) for ev in row.events] == [
        ("draft", f"《申请提示》 {notice.version}")
    ]
