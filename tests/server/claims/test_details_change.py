"""客户信息变更: draft, photos and signature, two SMS codes, the office's review, and the
change applied to the account, the insured person and the real-name identity."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scripts import clean_uploads
from server.accounts.errors import LoginFailed, RealNameLocked, SmsCodeInvalid
from server.accounts.models import Account, Identity, WechatBinding
from server.accounts.sms_codes import Purpose
from server.accounts.wiring import MemberServices
from server.claims import details_change as dc
from server.claims import member_admin
from server.claims.core import ClaimContext
from server.claims.details_models import DetailsChange, DetailsChangeFile, PersonalDetailsAudit
from server.claims.errors import (
    DetailsChangeLimited,
    IdentityUnavailable,
    MobileInUse,
    ServiceRequestNotFound,
    ServiceRequestOpen,
    WrongServiceRequestState,
)
from server.claims.models import ServiceRequestKind, ServiceRequestStatus
from server.errors import ValidationFailed
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from server.policies.demo import DEMO_PASSWORD
from server.policies.models import IdType, Person
from server.policies.records import add_person, resident_id
from server.storage.uploads import store_upload
from tests.db import last_sms_code
from tests.server.claims.drafts_helpers import MAIN, STAFF, account_of, contact, image
from tests.server.claims.review_helpers import make_adjuster

NEW_MOBILE = "13900000077"
# 张伟's birth date with another region and serial: a valid resident ID of the same person
NEW_ID = resident_id("310104", datetime.date(1982, 4, 12), "035")
SAME_DAY_ID = resident_id("110101", datetime.date(1982, 4, 12), "019")


@pytest.fixture
def main(db_session: Session, claims: ClaimContext, demo: Any) -> Any:
    return account_of(db_session, claims, MAIN)


@pytest.fixture
def office(db_session: Session, claims: ClaimContext) -> Any:
    return make_adjuster(db_session, claims)


def _start(db: Session, cx: ClaimContext, account: Any, **over: Any) -> Any:
    args: dict[str, Any] = {
        "name": "张维",
        "id_type": IdType.RESIDENT_ID,
        "id_number": NEW_ID,
        "mobile": NEW_MOBILE,
    }
    args.update(over)
    return dc.start(db, cx, account, **args)


def _files(db: Session, cx: ClaimContext, account: Any, request_id: int) -> None:
    for category in dc.CATEGORIES:
        stored = store_upload(cx.storage, image(), filename=f"{category.lower()}.png")
        dc.attach(db, cx, account, request_id, category, stored)


def _codes(
    db: Session, cx: ClaimContext, members: MemberServices, factory: Any, account: Any, rid: int
) -> tuple[str, str]:
    cx.clock.advance(minutes=13)  # type: ignore[attr-defined]
    sent = dc.send_codes(db, cx, account, rid)
    db.flush()
    assert sent.mobiles == ["138****0001", "139****0077"]
    return last_sms_code(factory, members, MAIN), last_sms_code(factory, members, NEW_MOBILE)


def _submitted(
    db: Session, cx: ClaimContext, members: MemberServices, factory: Any, account: Any
) -> int:
    rid = _start(db, cx, account).id
    _files(db, cx, account, rid)
    now_code, new_code = _codes(db, cx, members, factory, account, rid)
    dc.submit(db, cx, account, rid, sms_code=now_code, new_mobile_sms_code=new_code)
    return rid


def test_an_approved_change_applies_to_the_account_the_person_and_the_real_name(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    main: Any,
    office: Any,
    demo: Any,
) -> None:
    # given a member with a contact e-mail who submits a change of name, ID and mobile
    contact(db_session, claims, main)
    rid = _submitted(db_session, claims, members, db_factory, main)
    assert main.phone_hash == claims.vault.lookup(MAIN, kind="phone")  # nothing applied yet
    queued = dc.queue(db_session, claims, offset=0, limit=20)
    assert [q.request_id for q in queued] == [rid]
    assert queued[0].changes == ["NAME", "ID_NUMBER", "MOBILE"]
    assert queued[0].new_name == "张维" and queued[0].new_mobile == "139****0077"
    assert NEW_ID not in queued[0].new_id_number
    assert [c for c, _ in queued[0].files] == sorted(dc.CATEGORIES)
    # when the office approves
    dc.approve(db_session, claims, office, rid)
    db_session.flush()
    # then the log-in is the new mobile, the old one no longer signs in
    members.accounts.login(db_session, mobile=NEW_MOBILE, password=DEMO_PASSWORD)
    with pytest.raises(LoginFailed):
        members.accounts.login(db_session, mobile=MAIN, password=DEMO_PASSWORD)
    # the insured person and the real-name identity carry the new details and hashes
    person = db_session.get(Person, main.person_id)
    assert person is not None
    assert claims.vault.decrypt(person.name_enc) == "张维"
    assert claims.vault.decrypt(person.id_number_enc) == NEW_ID
    assert claims.vault.decrypt(person.phone_enc or "") == NEW_MOBILE
    found = members.identity.find_insured(db_session, IdType.RESIDENT_ID, "张维", NEW_ID)
    assert found.id == person.id
    ident = db_session.scalar(select(Identity).where(Identity.account_id == main.id))
    assert ident is not None and claims.vault.decrypt(ident.id_number_enc) == NEW_ID
    assert ident.id_number_hash == members.identity.id_hash(NEW_ID)
    assert claims.vault.decrypt(ident.name_enc) == "张维"
    # the audit keeps old and new values, encrypted
    audit = db_session.scalar(select(PersonalDetailsAudit))
    assert audit is not None and audit.adjuster_id == office.id
    assert "张伟" not in audit.old_enc and NEW_ID not in audit.new_enc
    old = json.loads(claims.vault.decrypt(audit.old_enc))
    new = json.loads(claims.vault.decrypt(audit.new_enc))
    assert (old["name"], old["mobile"]) == ("张伟", MAIN)
    assert (new["name"], new["idNumber"], new["mobile"]) == ("张维", NEW_ID, NEW_MOBILE)
    # the progress list shows the timeline; the member was told on every channel
    view = member_admin.requests(db_session, claims, main)[0]
    assert view.kind is ServiceRequestKind.CHANGE_DETAILS
    assert view.status is ServiceRequestStatus.APPLIED
    assert [s.status for s in view.timeline] == ["DRAFT", "SUBMITTED", "APPLIED"]
    assert "张维" not in view.summary and "139****0077" in view.summary
    kinds = set(db_session.scalars(select(MemberMessage.kind)))
    assert {"service_request.submitted", "service_request.applied"} <= kinds
    keys = set(db_session.scalars(select(Notification.dedupe_key)))
    assert {
        f"service_request:{rid}:applied:sms:0",  # the new mobile
        f"service_request:{rid}:applied:sms:1",  # the former one
        f"service_request:{rid}:applied:email",
    } <= keys
    # and a new change can be started again
    assert db_session.scalar(select(DetailsChange.open_for)) is None


def test_a_rejected_change_changes_nothing_and_says_why(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    main: Any,
    office: Any,
) -> None:
    rid = _submitted(db_session, claims, members, db_factory, main)
    with pytest.raises(ValidationFailed) as e:
        dc.reject(db_session, claims, office, rid, reason=" ")
    assert e.value.problems[0].code == "REQUIRED"
    main.preferred_language = "en"  # told in the member's language
    dc.reject(db_session, claims, office, rid, reason="手持证件照片不清晰")
    told = db_session.scalar(
        select(MemberMessage).where(MemberMessage.kind == "service_request.rejected")
    )
    assert told is not None and told.title == "Change of personal details not approved"
    sms = db_session.scalar(
        select(Notification).where(
            Notification.dedupe_key == f"service_request:{rid}:rejected:sms:0"
        )
    )
    assert sms is not None
    with pytest.raises(WrongServiceRequestState):
        dc.approve(db_session, claims, office, rid)
    person = db_session.get(Person, main.person_id)
    assert person is not None and claims.vault.decrypt(person.name_enc) == "张伟"
    assert main.phone_hash == claims.vault.lookup(MAIN, kind="phone")
    view = member_admin.requests(db_session, claims, main)[0]
    assert view.status is ServiceRequestStatus.REJECTED
    assert view.reject_reason == "手持证件照片不清晰"
    assert view.timeline[-1].note == "手持证件照片不清晰"
    assert db_session.scalar(select(PersonalDetailsAudit)) is None
    # a new request may follow
    _start(db_session, claims, main, mobile=MAIN)


def test_a_mobile_only_change_needs_one_code_per_mobile(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    main: Any,
    office: Any,
) -> None:
    rid = _start(
        db_session,
        claims,
        main,
        name="张伟",
        id_number=resident_id("310115", datetime.date(1982, 4, 12), "031"),
    ).id
    assert dc.queue(db_session, claims, offset=0, limit=5) == []  # drafts are not queued
    _files(db_session, claims, main, rid)
    now_code, new_code = _codes(db_session, claims, members, db_factory, main, rid)
    # the new mobile's code is required, and the right one
    with pytest.raises(ValidationFailed) as e:
        dc.submit(db_session, claims, main, rid, sms_code=now_code, new_mobile_sms_code=None)
    assert e.value.problems[0].field == "newMobileSmsCode"
    wrong = f"{(int(new_code) + 1) % 1_000_000:06d}"
    with pytest.raises(SmsCodeInvalid):
        dc.submit(db_session, claims, main, rid, sms_code=now_code, new_mobile_sms_code=wrong)


def test_every_bad_input_gets_its_typed_error(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    main: Any,
    demo: Any,
) -> None:
    def problem(**over: Any) -> tuple[str, str]:
        with pytest.raises(ValidationFailed) as e:
            _start(db_session, claims, main, **over)
        p = e.value.problems[0]
        return p.field, p.code

    assert problem(name="") == ("name", "INVALID_NAME")
    assert problem(id_number="310104198204120351")[0] == "idNumber"  # bad check digit
    assert problem(mobile="12345")[0] == "mobile"
    assert problem(id_number=resident_id("310104", datetime.date(1983, 4, 12), "035")) == (
        "idNumber",
        "BIRTH_DATE_MISMATCH",
    )
    current_id = resident_id("310115", datetime.date(1982, 4, 12), "031")
    assert problem(name="张伟", id_number=current_id, mobile=MAIN) == ("name", "NOTHING_CHANGED")
    # another member's document (verified or only insured); a document with another birth date is refused before anything is looked up
    staff_id = demo.people["staff"].id_number
    assert problem(id_number=staff_id, mobile=MAIN) == ("idNumber", "BIRTH_DATE_MISMATCH")
    # a document another member verified with, or another insured person's: the same answer
    staff = account_of(db_session, claims, STAFF)
    verified = db_session.scalar(select(Identity).where(Identity.account_id == staff.id))
    assert verified is not None
    verified.id_number_hash = claims.vault.lookup("E87654321", kind="id")
    add_person(
        db_session,
        claims.vault,
        name="王五",
        id_number=SAME_DAY_ID,
        birth_date=datetime.date(1982, 4, 12),
        gender="M",
    )
    answers = []
    for id_type, number in ((IdType.PASSPORT, "E87654321"), (IdType.RESIDENT_ID, SAME_DAY_ID)):
        with pytest.raises(IdentityUnavailable) as taken:
            _start(db_session, claims, main, id_type=id_type, id_number=number, mobile=MAIN)
        answers.append((taken.value.code, taken.value.message, taken.value.field))
    assert answers[0] == answers[1] and answers[0][2] == "idNumber"
    # one open request; another member's id is not found
    rid = _start(db_session, claims, main).id
    with pytest.raises(ServiceRequestOpen):
        _start(db_session, claims, main, name="张卫")
    with pytest.raises(ServiceRequestNotFound):
        dc.send_codes(db_session, claims, staff, rid)
    with pytest.raises(ServiceRequestNotFound):
        dc.attach(db_session, claims, staff, rid, "ID_FRONT", store_upload(claims.storage, image()))
    # no code before the photos and signature; a category it does not take
    with pytest.raises(ValidationFailed) as e:
        dc.send_codes(db_session, claims, main, rid)
    assert e.value.problems[0].code == "DOCUMENTS_MISSING"
    with pytest.raises(ValidationFailed) as e:
        dc.check_upload(db_session, main, rid, "PASSPORT")
    assert e.value.problems[0].code == "CATEGORY_NOT_ALLOWED"
    # the wrong code
    _files(db_session, claims, main, rid)
    now_code, new_code = _codes(db_session, claims, members, db_factory, main, rid)
    wrong = f"{(int(now_code) + 1) % 1_000_000:06d}"
    with pytest.raises(SmsCodeInvalid):
        dc.submit(db_session, claims, main, rid, sms_code=wrong, new_mobile_sms_code=new_code)
    # the codes were for this account only: sendSmsCode does not send them
    with pytest.raises(ValidationFailed):
        members.accounts.send_code(db_session, MAIN, Purpose.CHANGE_DETAILS, account=main)


def test_starting_changes_is_budgeted(
    db_session: Session, claims: ClaimContext, main: Any, demo: Any
) -> None:
    for _ in range(dc.STARTS.limit):
        dc.discard(db_session, claims, main, _start(db_session, claims, main).id)
    with pytest.raises(DetailsChangeLimited) as e:
        _start(db_session, claims, main)
    assert e.value.retry_after > 0


def test_another_accounts_mobile_is_told_only_to_whoever_confirms_its_code(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    main: Any,
) -> None:
    # given a member asking to move their log-in to a mobile another account signs in with
    mobile_only = {
        "name": "张伟",
        "id_number": resident_id("310115", datetime.date(1982, 4, 12), "031"),
    }
    # when they start: a draft like any other, nothing said about the number
    rid = _start(db_session, claims, main, mobile=STAFF, **mobile_only).id
    _files(db_session, claims, main, rid)
    claims.clock.advance(minutes=13)  # type: ignore[attr-defined]
    assert dc.send_codes(db_session, claims, main, rid).mobiles == ["138****0001", "138****0005"]
    db_session.flush()
    # and a wrong code for that mobile still reveals nothing but the wrong code
    now_code = last_sms_code(db_factory, members, MAIN)
    staff_code = last_sms_code(db_factory, members, STAFF)
    wrong = f"{(int(staff_code) + 1) % 1_000_000:06d}"
    with pytest.raises(SmsCodeInvalid):
        dc.submit(db_session, claims, main, rid, sms_code=now_code, new_mobile_sms_code=wrong)
    # then only with the code sent to that mobile is the member told it is taken
    claims.clock.advance(minutes=2)  # type: ignore[attr-defined]
    dc.send_codes(db_session, claims, main, rid)
    db_session.flush()
    now_code = last_sms_code(db_factory, members, MAIN)
    staff_code = last_sms_code(db_factory, members, STAFF)
    with pytest.raises(MobileInUse) as taken:
        dc.submit(db_session, claims, main, rid, sms_code=now_code, new_mobile_sms_code=staff_code)
    assert taken.value.field == "mobile"


def test_a_new_document_costs_a_real_name_try(
    db_session: Session, claims: ClaimContext, main: Any, monkeypatch: Any
) -> None:
    wider = dc.Policy("details-change-start", window=dc.STARTS.window, limit=50)
    monkeypatch.setattr(dc, "STARTS", wider)
    add_person(
        db_session,
        claims.vault,
        name="王五",
        id_number=SAME_DAY_ID,
        birth_date=datetime.date(1982, 4, 12),
        gender="M",
    )
    for _ in range(5):
        with pytest.raises(IdentityUnavailable):
            _start(db_session, claims, main, id_number=SAME_DAY_ID, mobile=MAIN)
    with pytest.raises(RealNameLocked):
        _start(db_session, claims, main, id_number=SAME_DAY_ID, mobile=MAIN)


def test_the_wechat_binding_follows_the_same_person(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    main: Any,
    office: Any,
) -> None:
    db_session.add(
        WechatBinding(
            openid_hash=claims.vault.lookup("dev-openid", kind="openid"),
            person_id=main.person_id,
            account_id=main.id,
            bound_at=claims.now(),
        )
    )
    db_session.flush()
    rid = _submitted(db_session, claims, members, db_factory, main)
    dc.approve(db_session, claims, office, rid)
    bound = db_session.scalar(select(WechatBinding))
    assert bound is not None and (bound.person_id, bound.account_id) == (main.person_id, main.id)


def test_a_mobile_taken_before_the_approval_is_not_applied(
    db_session: Session,
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    members: MemberServices,
    main: Any,
    office: Any,
) -> None:
    # given a submitted change, and another account registered with its new mobile since
    rid = _submitted(db_session, claims, members, db_factory, main)
    db_session.add(
        Account(
            phone_hash=claims.vault.lookup(NEW_MOBILE, kind="phone"),
            phone_enc=claims.vault.encrypt(NEW_MOBILE),
            created_at=claims.now(),
        )
    )
    db_session.flush()
    # when the office approves, then it is told, and nothing is applied
    with pytest.raises(MobileInUse):
        dc.approve(db_session, claims, office, rid)
    assert db_session.scalar(select(PersonalDetailsAudit)) is None
    assert main.phone_hash == claims.vault.lookup(MAIN, kind="phone")
    # and it rejects the request instead
    dc.reject(db_session, claims, office, rid, reason="新手机号已被其他账户使用")


def test_a_draft_can_be_discarded_and_its_files_are_kept_from_the_clean_up(
    db_session: Session, claims: ClaimContext, main: Any
) -> None:
    rid = _start(db_session, claims, main).id
    _files(db_session, claims, main, rid)
    keys = set(db_session.scalars(select(DetailsChangeFile.storage_key)))
    assert len(keys) == 4 and keys <= clean_uploads.known_keys(db_session)
    dc.discard(db_session, claims, main, rid)
    assert db_session.scalar(select(DetailsChange)) is None
    assert member_admin.requests(db_session, claims, main) == []
    for key in keys:
        with pytest.raises(Exception):  # noqa: B017 (the backend's own missing-file error)
            claims.storage.open(key)
    _start(db_session, claims, main)  # another may start
