"""SMS budgets under 40 requests at once, each in a transaction of its own, on every
limiter backend: one code per number and purpose, the client address's 30 and no more."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from server.accounts.models import SmsCode
from server.accounts.sms_codes import Purpose
from server.accounts.wiring import member_services
from server.errors import DomainError
from server.settings import Settings
from tests.db import FakeClock, run_together
from tests.limits import Store, fresh_mobile


def test_forty_requests_for_one_number_send_one_code(
    store: Store, member_settings: Settings, clock: FakeClock
) -> None:
    members = member_services(member_settings, clock=clock, limiter=store.limiter(clock))
    mobile = fresh_mobile()

    def ask(i: int) -> str:
        with store.unit() as db:
            try:
                members.accounts.codes.issue(db, mobile, Purpose.REGISTER)
            except DomainError as e:
                return e.code
            return "SENT"

    assert sorted(run_together(40, ask)) == ["SENT"] + ["SMS_TOO_SOON"] * 39
    with store.unit() as db:
        phone_hash = members.vault.lookup(mobile, kind="phone")
        assert db.scalar(select(func.count()).where(SmsCode.phone_hash == phone_hash)) == 1


def test_one_address_gets_exactly_its_thirty_codes(
    store: Store, member_settings: Settings, clock: FakeClock
) -> None:
    members = member_services(member_settings, clock=clock, limiter=store.limiter(clock))
    client = f"client-{uuid.uuid4()}"  # an address of this test's own (only its hash is kept)
    mobiles = [fresh_mobile() for _ in range(40)]

    def ask(i: int) -> str:
        with store.unit() as db:
            try:
                members.accounts.codes.issue(db, mobiles[i], Purpose.REGISTER, client=client)
            except DomainError as e:
                return e.code
            return "SENT"

    assert sorted(run_together(40, ask)) == ["SENT"] * 30 + ["SMS_RATE_LIMITED"] * 10


def test_one_code_is_used_once_however_many_submit_it_at_once(
    store: Store, member_settings: Settings, clock: FakeClock
) -> None:
    """The code is taken in one UPDATE ... RETURNING: of 12 requests with the right code at
    once, exactly one gets it; 12 wrong ones at once count 5 tries and end the code."""
    from server.accounts.models import SmsOutbox

    members = member_services(member_settings, clock=clock, limiter=store.limiter(clock))
    codes = members.accounts.codes
    mobile = fresh_mobile()
    phone_hash = members.vault.lookup(mobile, kind="phone")

    def issue() -> str:
        with store.unit() as db:
            codes.issue(db, mobile, Purpose.REGISTER)
        with store.unit() as db:
            body = db.scalar(
                select(SmsOutbox.body)
                .where(SmsOutbox.phone_hash == phone_hash)
                .order_by(SmsOutbox.id.desc())
                .limit(1)
            )
        assert body is not None
        return next(w for w in body.replace("，", " ").replace("码", " ").split() if w.isdigit())

    def submit(code: str) -> str:
        with store.unit() as db:
            try:
                codes.consume(db, mobile, Purpose.REGISTER, code)
            except DomainError as e:
                return e.code
            return "USED"

    code = issue()
    results = run_together(12, lambda i: submit(code))
    assert sorted(results).count("USED") == 1, results
    clock.advance(seconds=121)
    code = issue()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "USED" not in run_together(12, lambda i: submit(wrong))
    with store.unit() as db:
        row = db.scalars(
            select(SmsCode).where(SmsCode.phone_hash == phone_hash).order_by(SmsCode.id.desc())
        ).first()
        assert row is not None
        assert row.attempts == 5 and row.invalidated_at is not None and row.used_at is None
    assert submit(code) == "SMS_CODE_INVALID"
