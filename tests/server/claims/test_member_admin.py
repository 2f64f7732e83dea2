"""自助保全: the contact change applied at once to the claims' contact, and the progress list."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.errors import RealNameRequired, SmsCodeInvalid
from server.accounts.sms_codes import Purpose
from server.accounts.wiring import MemberServices
from server.claims import details_change, drafts, member_admin
from server.claims.core import ClaimContext
from server.claims.models import (
    ContactProfile,
    ServiceRequest,
    ServiceRequestKind,
    ServiceRequestStatus,
)
from server.errors import ValidationFailed
from server.messages.models import MemberMessage
from server.policies.models import IdType
from tests.db import last_sms_code
from tests.server.claims.drafts_helpers import MAIN, STAFF, UNVERIFIED, account_of, contact

PUDONG = {
    "province_code": "310000000000",
    "city_code": "310100000000",
    "district_code": "310115000000",
}


@pytest.fixture
def main(db_session: Session, claims: ClaimContext, demo: Any) -> Any:
    return account_of(db_session, claims, MAIN)


@pytest.fixture
def code(db_session: Session, db_factory: sessionmaker[Session], members: MemberServices) -> Any:
    def send(account: Any, phone: str = MAIN) -> str:
        members.accounts.codes.clock.advance(minutes=13)  # type: ignore[attr-defined]
        members.accounts.send_code(db_session, phone, Purpose.CHANGE_CONTACT, account=account)
        db_session.flush()
        return last_sms_code(db_factory, members, phone)

    return send


def _change(db: Session, cx: ClaimContext, account: Any, sms: str, **over: Any) -> Any:
    args: dict[str, Any] = {
        **PUDONG,
        "address": "世纪大道1229号",
        "email": "new@example.com",
        "sms_code": sms,
    }
    args.update(over)
    return member_admin.change_contact(db, cx, account, **args)


def test_a_contact_change_applies_at_once_to_the_claims_contact(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    # given a member whose first claim recorded contact details
    contact(db_session, claims, main)
    before = drafts.claimant_profile(db_session, claims, main)[0]
    assert before is not None and before.email_masked == "z***@example.com"
    # when they change them with the code
    view = _change(db_session, claims, main, code(main))
    # then the claims' contact is the new one, at once
    after = drafts.claimant_profile(db_session, claims, main)[0]
    assert after is not None
    assert after.email_masked == "n***@example.com" and after.address_masked == "上海市浦东新****"
    row = db_session.scalar(select(ContactProfile).where(ContactProfile.account_id == main.id))
    assert row is not None
    assert claims.vault.decrypt(row.address_enc) == "上海市浦东新区世纪大道1229号"
    assert (row.province_code, row.city_code, row.district_code) == (
        "310000000000",
        "310100000000",
        "310115000000",
    )
    # and the request is on the progress list, applied, with its timeline
    assert view.kind is ServiceRequestKind.CHANGE_CONTACT
    assert view.status is ServiceRequestStatus.APPLIED
    assert [s.status for s in view.timeline] == ["SUBMITTED", "APPLIED"]
    assert "世纪大道" not in view.summary and "new@" not in view.summary
    assert [r.id for r in member_admin.requests(db_session, claims, main)] == [view.id]
    stored = db_session.get(ServiceRequest, view.id)
    assert stored is not None and "new@example.com" not in stored.detail_enc
    # and the member is told in the message centre
    message = db_session.scalar(
        select(MemberMessage).where(
            MemberMessage.account_id == main.id, MemberMessage.subject_type == "service_request"
        )
    )
    assert message is not None and message.subject_id == view.id


def test_a_wrong_code_changes_nothing(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    good = code(main)
    wrong = "000000" if good != "000000" else "111111"
    with pytest.raises(SmsCodeInvalid):
        _change(db_session, claims, main, wrong)
    assert drafts.contact_of(db_session, main.id) is None
    assert member_admin.requests(db_session, claims, main) == []
    # the right code still works after a wrong one
    _change(db_session, claims, main, good)


def test_bad_regions_and_fields_are_named(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    sms = code(main)
    with pytest.raises(ValidationFailed) as e:
        _change(
            db_session,
            claims,
            main,
            sms,
            district_code="320102000000",  # a 南京 district under 上海
            address="",
            email="not-an-address",
        )
    assert {p.field: p.code for p in e.value.problems} == {
        "districtCode": "UNKNOWN_REGION",
        "address": "REQUIRED",
        "email": "INVALID_EMAIL",
    }
    with pytest.raises(ValidationFailed) as e:
        _change(db_session, claims, main, sms, city_code="320100000000")
    assert [p.field for p in e.value.problems] == ["cityCode"]
    # a city without districts (东莞) takes none
    view = _change(
        db_session,
        claims,
        main,
        sms,
        province_code="440000000000",
        city_code="441900000000",
        district_code=None,
        address="南城街道1号",
    )
    assert view.status is ServiceRequestStatus.APPLIED


def test_requests_are_the_members_own_and_need_real_name(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    _change(db_session, claims, main, code(main))
    staff = account_of(db_session, claims, STAFF)
    assert member_admin.requests(db_session, claims, staff) == []
    with pytest.raises(RealNameRequired):
        member_admin.requests(db_session, claims, account_of(db_session, claims, UNVERIFIED))


def test_the_progress_list_holds_both_kinds_with_their_timelines(
    db_session: Session, claims: ClaimContext, main: Any, code: Any
) -> None:
    # given a change of personal details started (a draft awaiting its photos)
    details = details_change.start(
        db_session,
        claims,
        main,
        name="张维",
        id_type=IdType.RESIDENT_ID,
        id_number="310115198204120311",
        mobile=MAIN,
    )
    # and then a change of contact details applied at once
    contact_change = _change(db_session, claims, main, code(main))
    # then 保全进度查询 lists both, newest first, each with its own status and timeline
    listed = member_admin.requests(db_session, claims, main)
    assert [(r.id, r.kind, r.status) for r in listed] == [
        (contact_change.id, ServiceRequestKind.CHANGE_CONTACT, ServiceRequestStatus.APPLIED),
        (details.id, ServiceRequestKind.CHANGE_DETAILS, ServiceRequestStatus.DRAFT),
    ]
    assert [[s.status for s in r.timeline] for r in listed] == [
        ["SUBMITTED", "APPLIED"],
        ["DRAFT"],
    ]
    assert "张维" not in listed[1].summary  # the new name is masked
