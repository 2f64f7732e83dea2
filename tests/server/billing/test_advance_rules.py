"""Inpatient advance payment: each bad input and rule answers with its typed error before
the SMS code is spent; the hospital from the directory or typed; another member's request
answers as a missing one."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.errors import PolicyNotFound
from server.accounts.models import Account, SmsOutbox
from server.accounts.sms_codes import Purpose
from server.billing import advance
from server.billing.errors import AdvanceNotFound, HighEndRequired
from server.claims.core import ClaimContext
from server.errors import ValidationFailed
from server.services import Services
from tests.db import FakeClock

SHUGUANG = "med-shuguang-east-special"


def account_of(db: Session, person_id: int) -> Account:
    account = db.scalar(select(Account).where(Account.person_id == person_id))
    assert account is not None
    return account


@pytest.fixture
def env(
    db_session: Session, demo: Any, claims: ClaimContext, services: Services, clock: FakeClock
) -> Any:
    class Env:
        db = db_session
        cx = claims
        directory = services.directory.directory
        main = account_of(db_session, demo.people["main"].person_id)
        staff = account_of(db_session, demo.people["staff"].person_id)
        high_end = demo.policy_ids["main_high_end"]
        staff_policy = demo.policy_ids["staff"]
        phone = demo.people["main"].phone

        def code(self) -> str:
            """A fresh confirmation code, read from the development SMS sender."""
            clock.advance(seconds=121)  # past the resend wait
            self.cx.codes.issue(
                self.db, self.phone, Purpose.CONFIRM_ADVANCE_PAYMENT, account_id=self.main.id
            )
            body = self.db.scalar(
                select(SmsOutbox.body)
                .where(SmsOutbox.phone_hash == self.cx.vault.lookup(self.phone, kind="phone"))
                .order_by(SmsOutbox.id.desc())
                .limit(1)
            )
            assert body is not None
            found = re.search(r"\d{6}", body)
            assert found is not None
            return found.group()

        def ask(self, account: Account | None = None, **changes: Any) -> Any:
            values: dict[str, Any] = {
                "policy_id": self.high_end,
                "facility_id": None,
                "hospital_name": "某市立医院",
                "admission_date": datetime.date(2026, 3, 10),
                "description": "择期手术住院",
                "sms_code": "000000",
                **changes,
            }
            return advance.request(self.db, self.cx, self.directory, account or self.main, **values)

    return Env()


def test_bad_input_is_named_field_by_field(env: Any) -> None:
    with pytest.raises(ValidationFailed) as e:
        env.ask(hospital_name="  ", description="", admission_date=datetime.date(2026, 7, 1))
    assert {(p.field, p.code) for p in e.value.problems} == {
        ("hospitalName", "REQUIRED"),
        ("description", "REQUIRED"),
        ("admissionDate", "DATE_OUT_OF_RANGE"),
    }
    with pytest.raises(ValidationFailed) as e:
        env.ask(facility_id="no-such-facility")
    assert [(p.field, p.code) for p in e.value.problems] == [("facilityId", "FACILITY_NOT_FOUND")]
    with pytest.raises(ValidationFailed) as e:
        env.ask(hospital_name="医" * 101)
    assert [p.field for p in e.value.problems] == ["hospitalName"]


def test_a_member_without_a_high_end_policy_gets_the_offline_route(env: Any) -> None:
    with pytest.raises(HighEndRequired) as e:
        env.ask(env.staff, policy_id=env.staff_policy)
    assert e.value.booking_line == "1010-8686"
    with pytest.raises(PolicyNotFound):
        env.ask(env.staff)  # another member's policy


def test_the_hospital_from_the_directory_or_typed(env: Any) -> None:
    listed = env.ask(facility_id=SHUGUANG, hospital_name=None, sms_code=env.code())
    facility = env.directory.get(SHUGUANG)
    assert (listed.facility_id, listed.hospital_name) == (SHUGUANG, facility.name_zh)
    typed = env.ask(sms_code=env.code())
    assert (typed.facility_id, typed.hospital_name) == (None, "某市立医院")
    assert [a.id for a in advance.requests(env.db, env.main)] == [typed.id, listed.id]


def test_another_members_request_answers_as_missing(env: Any) -> None:
    mine = env.ask(sms_code=env.code())
    assert advance.own(env.db, env.main, mine.id) is mine
    with pytest.raises(AdvanceNotFound):
        advance.own(env.db, env.staff, mine.id)
