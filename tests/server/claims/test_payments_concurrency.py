"""Two clerks record one payment, and send one paper claim, at the same moment on
PostgreSQL: one payment, one number, one message each."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.claims import offline, payments, review
from server.claims.core import ClaimContext
from server.claims.errors import WrongClaimState
from server.claims.models import Adjuster, Claim, ClaimPayment, ClaimStatus, IncidentType
from server.notify.outbox import Notification
from tests.db import run_together
from tests.server.claims.review_helpers import attach, make_adjuster, make_claim

pytestmark = pytest.mark.postgres


def test_concurrent_payments_record_one(
    pg_committed: tuple[sessionmaker[Session], Any], claims: ClaimContext
) -> None:
    factory, demo = pg_committed
    with factory() as s:
        adjuster = make_adjuster(s, claims)
        claim = make_claim(s, claims, demo)
        review.settle(
            s, claims, adjuster, claim, approved_fen=1200_00, paid_fen=1200_00, deductions=[]
        )
        s.commit()
        adjuster_id, claim_id = adjuster.id, claim.id
    today = claims.now().date()

    def pay(i: int) -> int:
        with factory() as s:
            claim, adjuster = s.get(Claim, claim_id), s.get(Adjuster, adjuster_id)
            assert claim is not None and adjuster is not None
            # two clerks type two references; a double click sends the same one twice
            reference = "REF-SAME-0001" if i < 2 else f"REF-OTHER-000{i}"
            payment = payments.record_payment(
                s,
                claims,
                adjuster,
                claim,
                amount_fen=1200_00,
                paid_on=today,
                bank_reference=reference,
            )
            s.commit()
            return payment.id

    results = run_together(4, pay)
    ids = {r for r in results if isinstance(r, int)}
    assert len(ids) == 1
    assert all(isinstance(r, (int, WrongClaimState)) for r in results)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(ClaimPayment)) == 1
        paid = s.get(Claim, claim_id)
        assert paid is not None and paid.status is ClaimStatus.PAID
        keys = list(s.scalars(select(Notification.dedupe_key)))
        assert len([k for k in keys if k == f"claim.paid:{claim_id}:payment:sms"]) == 1


def test_a_paper_claim_sent_twice_at_once_gets_one_number(
    pg_committed: tuple[sessionmaker[Session], Any], claims: ClaimContext
) -> None:
    factory, demo = pg_committed
    staff = demo.people["staff"]
    with factory() as s:
        clerk = make_adjuster(s, claims)
        form = offline.PaperClaim(
            policy_no="DEMO-G-0301-01",
            insured_id_number=staff.id_number,
            claim_type="INPATIENT",
            incident_type=IncidentType.DISEASE,
            incident_date=claims.now().date(),
            invoice_total=Decimal("5000"),
            payee_name="赵静",
            bank_name="中国银行",
            account_no="6013820800012349876",
        )
        claim = offline.start(s, claims, clerk, form)
        for category in ("MEDICAL_RECORD", "INVOICE", "DISCHARGE_SUMMARY"):
            attach(s, claims, claim, category)
        s.commit()
        clerk_id, claim_id = clerk.id, claim.id

    def send(_: int) -> str | None:
        with factory() as s:
            clerk = s.get(Adjuster, clerk_id)
            assert clerk is not None
            sent = offline.send(s, claims, clerk, claim_id)
            s.commit()
            return sent.claim_no

    numbers = run_together(3, send)
    assert len(set(numbers)) == 1 and str(numbers[0]).startswith("VSHH")
    with factory() as s:
        keys = list(s.scalars(select(Notification.dedupe_key)))
        assert keys.count(f"claim.submitted:{claim_id}:submit:sms") == 1
