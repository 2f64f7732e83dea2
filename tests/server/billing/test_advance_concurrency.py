"""Forty advance-payment requests at once with one SMS code, each in a transaction of its
own, on SQLite and PostgreSQL: the code makes one request, and one receipt is sent."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.accounts.wiring import MemberServices
from server.billing import advance
from server.billing.models import AdvancePayment
from server.claims.core import ClaimContext
from server.db import write_first
from server.errors import DomainError
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from server.policies.models import Policy
from server.services import Services
from tests.db import last_sms_code, run_together


def test_forty_requests_with_one_code_make_one_request_and_one_receipt(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
) -> None:
    factory, demo = committed
    phone = demo.people["main"].phone
    with factory() as db:
        account = db.scalar(
            select(Account).where(Account.person_id == demo.people["main"].person_id)
        )
        assert account is not None
        account_id = account.id
        policy = db.scalar(select(Policy).where(Policy.policy_no == "DEMO-I-8001"))
        assert policy is not None
        policy_id = policy.id
        advance.send_code(db, claims, account)
        db.commit()
    code = last_sms_code(factory, members, phone)
    admission = claims.now().date() + datetime.timedelta(days=8)

    def ask(i: int) -> str:
        with factory() as db:
            write_first(db)  # as the GraphQL endpoint opens a mutation's session
            me = db.get(Account, account_id)
            assert me is not None
            try:
                advance.request(
                    db,
                    claims,
                    services.directory.directory,
                    me,
                    policy_id=policy_id,
                    facility_id=None,
                    hospital_name="某市立医院",
                    admission_date=admission,
                    description=f"择期手术住院 {i}",
                    sms_code=code,
                )
            except DomainError as e:
                db.rollback()
                return e.code
            db.commit()
            return "requested"

    outcomes = Counter(run_together(40, ask))
    assert outcomes["requested"] == 1, outcomes
    assert set(outcomes) - {"requested"} <= {"SMS_CODE_INVALID", "SMS_CODE_USED"}, outcomes
    with factory() as db:
        made = db.scalar(select(func.count()).select_from(AdvancePayment))
        told = db.scalar(
            select(func.count())
            .select_from(MemberMessage)
            .where(MemberMessage.kind == "advance_payment.submitted")
        )
        receipts = db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.dedupe_key.like("advance_payment.submitted:%:sms"))
        )
    assert (made, told, receipts) == (1, 1, 1)
