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
