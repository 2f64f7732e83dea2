"""Real-name verification: try limits, the record mobile as second factor, taking an
identity back from the account that held it."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts import identity_tries as tries
from server.accounts.errors import (
    IdentityNotInsured,
    IdentityTaken,
    NoMobileOnRecord,
    RealNameLocked,
    SecondFactorRequired,
    SmsCodeInvalid,
)
from server.accounts.identity import IdentityService
from server.accounts.models import (
    Account,
    Identity,
    IdentityAudit,
    SmsOutbox,
    WechatBinding,
)
from server.accounts.sms_codes import Purpose
from server.accounts.wiring import MemberServices
from server.errors import DomainError, ValidationFailed
from server.limits.models import RateLimit
from server.notify.outbox import Notification, recipient_lookup
from server.policies.demo import DemoData, DemoPerson, load_demo
from server.policies.models import IdType
from server.policies.records import resident_id
from server.sessions import LoginSession
from tests.db import FakeClock, run_together

ADDRESS = "198.51.100.7"


@pytest.fixture
def demo_data(db_session: Session, members: MemberServices, clock: FakeClock) -> DemoData:
    return load_demo(db_session, members.vault, today=clock.now.date())


def account(db: Session, members: MemberServices, phone: str) -> Account:
    """The account of this mobile, made if there is none (as registration would)."""
    found = members.accounts.find_by_phone(db, phone)
    if found is not None:
        return found
    made = Account(
        phone_hash=members.accounts.phone_hash(phone),
        phone_enc=members.vault.encrypt(phone),
        created_at=members.accounts.clock(),
    )
    db.add(made)
    db.flush()
    return made


def verify(
    members: MemberServices,
    db: Session,
    who: Account,
    person: DemoPerson,
    *,
    number: str | None = None,
    name: str | None = None,
    sms_code: str | None = None,
    client: str | None = ADDRESS,
) -> Account:
    return members.identity.verify_real_name(
        db,
        who,
        id_type=IdType.RESIDENT_ID,
        name=name or person.name,
        id_number=number or person.id_number,
        valid_from=datetime.date(2020, 1, 1),
        valid_to=None,
        sms_code=sms_code,
        client=client,
    )


def wrong_numbers(person: DemoPerson, n: int) -> list[str]:
    """Valid resident ID numbers with the person's region and birth date, other serials:
    what someone who knows the name, the birth date and the region would try."""
    serials = (f"{i:03d}" for i in range(1000) if f"{i:03d}" != person.id_number[14:17])
    return [resident_id(person.id_number[:6], person.birth_date, next(serials)) for _ in range(n)]


def other_number(i: int) -> str:
    """A valid number of nobody insured, a different region and birth date for each i."""
    return resident_id(f"{110101 + i}", datetime.date(1970, 1, 1) + datetime.timedelta(i), "123")


def name_of(i: int) -> str:
    """A different made-up name for each i below 80 (names take no digits)."""
    return "王" + "甲乙丙丁戊己庚辛壬癸"[i // 8] + "子丑寅卯辰巳午未"[i % 8]


def last_code(db: Session, members: MemberServices, phone: str) -> str:
    body = db.scalar(
        select(SmsOutbox.body)
        .where(SmsOutbox.phone_hash == members.vault.lookup(phone, kind="phone"))
        .order_by(SmsOutbox.id.desc())
        .limit(1)
    )
    assert body is not None, "no SMS to this mobile"
    found = re.search(r"\d{6}", body)
    assert found is not None
    return found.group()


def sms_count(db: Session, members: MemberServices, phone: str) -> int:
    return len(
        db.scalars(
            select(SmsOutbox.id).where(
                SmsOutbox.phone_hash == members.vault.lookup(phone, kind="phone")
            )
        ).all()
    )


def hold(db: Session, members: MemberServices, holder: Account, person: DemoPerson) -> None:
    """The identity bound to `holder` as the one-step verification used to allow."""
    holder.person_id = person.person_id
    db.add(
        Identity(
            account_id=holder.id,
            id_type=IdType.RESIDENT_ID,
            name_enc=members.vault.encrypt(person.name),
            id_number_enc=members.vault.encrypt(person.id_number),
            id_number_hash=members.vault.lookup(person.id_number, kind="id"),
            valid_from=datetime.date(2020, 1, 1),
            valid_to=None,
            verified_at=members.accounts.clock(),
        )
    )
    db.flush()


# --- try limits --------------------------------------------------------------------------------


def test_guessing_numbers_from_one_account_locks_it_before_the_right_one(
    db_session: Session,
    members: MemberServices,
    demo_data: DemoData,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a member who knows the colleague's name, birth date and region
    colleague = demo_data.people["colleague"]
    member = account(db_session, members, "13900000001")
    guesses = wrong_numbers(colleague, 6)
    # when they try numbers one after another
    for number in guesses[:5]:
        with pytest.raises(IdentityNotInsured):
            verify(members, db_session, member, colleague, number=number)
    # then the sixth try is refused, with the time to come back and the hotline
    with pytest.raises(RealNameLocked) as locked:
        verify(members, db_session, member, colleague, number=guesses[5])
    assert locked.value.code == "REAL_NAME_LOCKED"
    assert locked.value.retry_after == 24 * 3600
    assert "2026-03-03 17:00 (Beijing time)" in locked.value.message
    assert "10108686" in locked.value.message
    # and the right number too, without anything being looked up or sent
    looked_up: list[str] = []
    monkeypatch.setattr(IdentityService, "find_insured", lambda *a, **k: looked_up.append("x"))
    clock.advance(hours=23)
    with pytest.raises(RealNameLocked) as again:
        verify(members, db_session, member, colleague)
    assert again.value.retry_after == 3600
    assert looked_up == [] and sms_count(db_session, members, colleague.phone or "") == 0
    assert member.person_id is None


def test_a_locked_call_counts_against_nothing(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    colleague = demo_data.people["colleague"]
    member = account(db_session, members, "13900000001")
    for i in range(5):
        with pytest.raises(IdentityNotInsured):
            verify(members, db_session, member, colleague, name="王五", number=other_number(i))
    for _ in range(3):
        with pytest.raises(RealNameLocked):
            verify(members, db_session, member, colleague)
    # the colleague's own document was never counted: she verifies from her own account
    own = account(db_session, members, "13800000003")
    verify(members, db_session, own, colleague)
    assert own.person_id == colleague.person_id
    client_tries = members.limiter.peek(db_session, *tries.client_key(members.vault, ADDRESS))
    assert client_tries.count == 6  # the five failures and the success, not the locked calls


def test_one_identity_gets_five_tries_from_any_number_of_accounts_and_addresses(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    # given guessers spread over many accounts and addresses, one try each
    colleague = demo_data.people["colleague"]
    guesses = wrong_numbers(colleague, 6)
    for i, number in enumerate(guesses[:5]):
        who = account(db_session, members, f"139000001{i:02d}")
        with pytest.raises(IdentityNotInsured):
            verify(members, db_session, who, colleague, number=number, client=f"203.0.113.{i}")
    # then the name with her region and birth date is spent for everyone
    late = account(db_session, members, "13900000199")
    with pytest.raises(RealNameLocked):
        verify(members, db_session, late, colleague, number=guesses[5], client="203.0.113.99")


def test_one_document_number_gets_five_tries_whatever_the_name(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    colleague = demo_data.people["colleague"]
    for i, name in enumerate(["王一", "王二", "王三", "王四", "王五"]):
        who = account(db_session, members, f"139000002{i:02d}")
        with pytest.raises(IdentityNotInsured):
            verify(members, db_session, who, colleague, name=name, client=f"203.0.113.{i}")
    who = account(db_session, members, "13900000299")
    with pytest.raises(RealNameLocked):
        verify(members, db_session, who, colleague, name="王六", client="203.0.113.50")


def test_one_address_gets_twenty_tries_across_accounts(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    colleague = demo_data.people["colleague"]
    # 4 accounts x 5 tries, every try at another identity, and one success among them
    for a in range(4):
        who = account(db_session, members, f"139000003{a:02d}")
        for t in range(5):
            with pytest.raises(IdentityNotInsured):
                verify(
                    members,
                    db_session,
                    who,
                    colleague,
                    name=name_of(a * 5 + t),
                    number=other_number(a * 5 + t),
                )
    # the twenty-first try from the address is refused, a fresh account or not
    own = account(db_session, members, "13800000003")
    with pytest.raises(RealNameLocked):
        verify(members, db_session, own, colleague)
    # from another address the same member gets through
    verify(members, db_session, own, colleague, client="192.0.2.1")
    assert own.person_id == colleague.person_id


def test_a_window_passes_and_a_success_gives_the_member_a_fresh_budget(
    db_session: Session, members: MemberServices, demo_data: DemoData, clock: FakeClock
) -> None:
    colleague = demo_data.people["colleague"]
    own = account(db_session, members, "13800000003")
    for i in range(5):
        with pytest.raises(IdentityNotInsured):
            verify(members, db_session, own, colleague, name="王五", number=other_number(i))
    with pytest.raises(RealNameLocked):
        verify(members, db_session, own, colleague)
    clock.advance(hours=24)
    verify(members, db_session, own, colleague)
    assert members.limiter.peek(db_session, *tries.member_key(own.phone_hash)).count == 0


def test_invalid_input_and_verified_accounts_cost_no_try(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    colleague = demo_data.people["colleague"]
    own = account(db_session, members, "13800000003")
    for _ in range(6):
        with pytest.raises(ValidationFailed):
            verify(members, db_session, own, colleague, number="123")
    assert (
        db_session.scalars(select(RateLimit).where(RateLimit.policy.like("realname-%"))).all() == []
    )
    verify(members, db_session, own, colleague)


def _try_once(
    factory: sessionmaker[Session],
    members: MemberServices,
    account_id: int,
    person: DemoPerson,
    name: str,
    number: str,
    client: str,
) -> str:
    with factory() as s:
        who = s.get(Account, account_id)
        assert who is not None
        s.commit()  # a request's own reads are over; the try starts a transaction of its own
        try:
            verify(members, s, who, person, name=name, number=number, client=client)
            outcome = "VERIFIED"
        except DomainError as e:
            outcome = e.code  # typed errors commit, as a request does
        s.commit()
        return outcome


def test_forty_tries_at_once_from_one_account_get_exactly_five_through(
    committed: tuple[sessionmaker[Session], Any], members: MemberServices
) -> None:
    factory, demo = committed
    colleague = demo.people["colleague"]
    with factory() as s:
        account_id = account(s, members, "13900000001").id
        s.commit()
    guesses = wrong_numbers(colleague, 40)

    results = run_together(
        40,
        lambda i: _try_once(
            factory, members, account_id, colleague, colleague.name, guesses[i], f"203.0.113.{i}"
        ),
    )

    assert Counter(results) == {"IDENTITY_NOT_INSURED": 5, "REAL_NAME_LOCKED": 35}, results
    with factory() as s:
        counts = {row.policy: row.count for row in s.scalars(select(RateLimit))}
    assert counts["realname-member"] == 5 and counts["realname-aim"] == 5


def test_forty_tries_at_once_from_one_address_get_exactly_twenty_through(
    committed: tuple[sessionmaker[Session], Any], members: MemberServices
) -> None:
    factory, demo = committed
    colleague = demo.people["colleague"]
    with factory() as s:
        ids = [account(s, members, f"139000004{i:02d}").id for i in range(40)]
        s.commit()

    results = run_together(
        40,
        lambda i: _try_once(
            factory, members, ids[i], colleague, name_of(i), other_number(i), ADDRESS
        ),
    )

    assert Counter(results) == {"IDENTITY_NOT_INSURED": 20, "REAL_NAME_LOCKED": 20}, results
    with factory() as s:
        client = members.limiter.peek(s, *tries.client_key(members.vault, ADDRESS))
    assert client.count == 20


# --- the record mobile as second factor ------------------------------------------------------


def test_the_accounts_own_mobile_on_the_record_verifies_in_one_step(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    colleague = demo_data.people["colleague"]
    own = account(db_session, members, "13800000003")
    verify(members, db_session, own, colleague)
    assert own.person_id == colleague.person_id
    assert sms_count(db_session, members, "13800000003") == 0


def test_another_mobile_needs_the_code_sent_to_the_record_mobile(
    db_session: Session, members: MemberServices, demo_data: DemoData, clock: FakeClock
) -> None:
    # given the spouse, whose record mobile is 13800000002, on an account of another mobile
    spouse = demo_data.people["spouse"]
    member = account(db_session, members, "13900000001")
    # when she verifies, the identity is not bound yet: a code goes to the record mobile
    with pytest.raises(SecondFactorRequired) as asked:
        verify(members, db_session, member, spouse)
    assert asked.value.code == "SECOND_FACTOR_REQUIRED"
    assert asked.value.masked_mobile == "138****0002"
    assert asked.value.taken is False
    assert "13800000002" not in asked.value.message and "138****0002" in asked.value.message
    assert member.person_id is None
    assert sms_count(db_session, members, "13900000001") == 0
    body = db_session.scalar(
        select(SmsOutbox.body).where(
            SmsOutbox.phone_hash == members.vault.lookup("13800000002", kind="phone")
        )
    )
    assert body is not None and "实名认证" in body
    code = last_code(db_session, members, "13800000002")
    # a wrong code binds nothing
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(SmsCodeInvalid):
        verify(members, db_session, member, spouse, sms_code=wrong)
    assert member.person_id is None
    # the right code binds
    verify(members, db_session, member, spouse, sms_code=code)
    assert member.person_id == spouse.person_id
    assert db_session.scalar(select(IdentityAudit.id)) is None  # nothing was taken from anyone


def test_the_code_works_only_for_the_account_it_was_sent_for(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    spouse = demo_data.people["spouse"]
    member = account(db_session, members, "13900000001")
    with pytest.raises(SecondFactorRequired):
        verify(members, db_session, member, spouse)
    code = last_code(db_session, members, "13800000002")
    # someone else who knows the document and got hold of the code, on another account
    other = account(db_session, members, "13900000002")
    with pytest.raises(SmsCodeInvalid):
        verify(members, db_session, other, spouse, sms_code=code)
    assert other.person_id is None
    verify(members, db_session, member, spouse, sms_code=code)
    assert member.person_id == spouse.person_id


def test_the_code_waits_and_hourly_cap_of_the_record_mobile_apply(
    db_session: Session, members: MemberServices, demo_data: DemoData, clock: FakeClock
) -> None:
    spouse = demo_data.people["spouse"]
    member = account(db_session, members, "13900000001")
    with pytest.raises(SecondFactorRequired):
        verify(members, db_session, member, spouse)
    with pytest.raises(DomainError) as soon:
        verify(members, db_session, member, spouse)
    assert soon.value.code == "SMS_TOO_SOON"
    assert sms_count(db_session, members, "13800000002") == 1


def test_a_verify_identity_code_cannot_be_asked_for_directly(
    db_session: Session, members: MemberServices
) -> None:
    with pytest.raises(ValidationFailed) as e:
        members.accounts.send_code(db_session, "13800000002", Purpose.VERIFY_IDENTITY)
    assert [(p.field, p.code) for p in e.value.problems] == [("purpose", "PURPOSE_NOT_ALLOWED")]


def test_without_a_mobile_on_record_verification_is_for_the_hotline(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    child = demo_data.people["child"]
    member = account(db_session, members, "13900000001")
    with pytest.raises(NoMobileOnRecord) as e:
        verify(members, db_session, member, child)
    assert e.value.code == "NO_MOBILE_ON_RECORD" and "10108686" in e.value.message
    assert member.person_id is None


# --- taking an identity back -------------------------------------------------------------------


def test_the_person_takes_back_an_identity_with_the_record_mobile(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    # given the spouse's identity held by someone else's account, with a WeChat binding
    spouse = demo_data.people["spouse"]
    taker = account(db_session, members, "13900000066")
    hold(db_session, members, taker, spouse)
    db_session.add(
        WechatBinding(
            openid_hash="f" * 64,
            person_id=spouse.person_id,
            account_id=taker.id,
            bound_at=members.accounts.clock(),
        )
    )
    members.accounts._start_session(db_session, taker, "wechat", None)
    # when the spouse verifies from the account of her record mobile
    own = account(db_session, members, "13800000002")
    verify(members, db_session, own, spouse)
    # then the identity is hers, and the other account lost it and its WeChat binding
    db_session.refresh(taker)
    assert own.person_id == spouse.person_id and taker.person_id is None
    assert db_session.scalar(select(Identity).where(Identity.account_id == taker.id)) is None
    assert db_session.scalar(select(WechatBinding)) is None
    assert db_session.scalar(
        select(LoginSession.revoked_at).where(
            LoginSession.kind == "member", LoginSession.subject_id == taker.id
        )
    )
    with pytest.raises(DomainError) as e:
        members.identity.require_verified(taker)
    assert e.value.code == "REAL_NAME_REQUIRED"
    # and the event is audited with ids and hashes only
    audit = db_session.scalars(select(IdentityAudit)).one()
    assert (audit.event, audit.factor, audit.channel) == ("reclaimed", "same_mobile", "app")
    assert (audit.person_id, audit.account_id, audit.previous_account_id) == (
        spouse.person_id,
        own.id,
        taker.id,
    )
    assert audit.previous_id_number_hash == members.vault.lookup(spouse.id_number, kind="id")
    # and the earlier holder is told by SMS
    told = db_session.scalars(
        select(Notification).where(
            Notification.recipient_hash == recipient_lookup(members.vault, "sms", "13900000066")
        )
    ).one()
    text = members.vault.decrypt(told.body_enc)
    assert "139****0066" in text and "实名认证" in text and "10108686" in text
    assert spouse.name not in text


def test_taking_back_with_a_code_sent_to_the_record_mobile(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    spouse = demo_data.people["spouse"]
    taker = account(db_session, members, "13900000066")
    hold(db_session, members, taker, spouse)
    # the spouse on an account of a new mobile
    own = account(db_session, members, "13900000077")
    with pytest.raises(SecondFactorRequired) as asked:
        verify(members, db_session, own, spouse)
    assert asked.value.taken is True and asked.value.masked_mobile == "138****0002"
    code = last_code(db_session, members, "13800000002")
    with pytest.raises(SmsCodeInvalid):
        verify(
            members, db_session, own, spouse, sms_code="000000" if code != "000000" else "111111"
        )
    db_session.refresh(taker)
    assert taker.person_id == spouse.person_id  # a wrong code moves nothing
    verify(members, db_session, own, spouse, sms_code=code)
    db_session.refresh(taker)
    assert own.person_id == spouse.person_id and taker.person_id is None
    audit = db_session.scalars(select(IdentityAudit)).one()
    assert audit.factor == "sms_code"


def test_without_a_mobile_on_record_a_held_identity_stays_taken(
    db_session: Session, members: MemberServices, demo_data: DemoData
) -> None:
    child = demo_data.people["child"]
    taker = account(db_session, members, "13900000066")
    hold(db_session, members, taker, child)
    member = account(db_session, members, "13900000001")
    with pytest.raises(IdentityTaken):
        verify(members, db_session, member, child)
    db_session.refresh(taker)
    assert taker.person_id == child.person_id
    assert db_session.scalar(select(IdentityAudit.id)) is None
