"""The payment of a settled claim (理赔款支付): the office records it, the claim is PAID.

A settled claim is paid 2-3 working days after the decision (seed 000 §12 Q7: "结案后，2-3
个工作日安排支付理赔款"). The office records what the bank did: the amount (the settled
paid amount, typed again as a check), the day, and the bank's reference; the payee is the
claim's. The claimant is told by SMS, e-mail and in-app message, the payee masked (bank and
last 4 digits). Recording the same reference again returns the payment (a retry); the
claim's row is locked, so two clerks cannot both record one.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.claims import announcements, core, deadlines
from server.claims.core import ClaimContext
from server.claims.errors import ClaimRuleBroken, WrongClaimState
from server.claims.models import Actor, Adjuster, Claim, ClaimPayment, ClaimStatus
from server.errors import FieldProblem, ValidationFailed
from server.workdays import china_date

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_-]{3,59}$")


@dataclass(frozen=True, slots=True)
class PaymentView:
    payment: ClaimPayment
    payee: str  # masked: bank and account's last 4 digits
    met: bool | None  # paid by the last payment day (None: that day is not known)


def payment_of(db: Session, claim: Claim) -> ClaimPayment | None:
    return db.scalar(select(ClaimPayment).where(ClaimPayment.claim_id == claim.id))


def view(db: Session, cx: ClaimContext, claim: Claim) -> PaymentView | None:
    payment = payment_of(db, claim)
    if payment is None:
        return None
    due = deadlines.dates(claim, payment.paid_on)
    return PaymentView(payment, announcements.masked_payee(cx, claim, "en"), due.payment_met())


def record_payment(
    db: Session,
    cx: ClaimContext,
    adjuster: Adjuster,
    claim: Claim,
    *,
    amount_fen: int,
    paid_on: datetime.date,
    bank_reference: str,
) -> ClaimPayment:
    core.lock_claim(db, claim)
    reference = "".join((bank_reference or "").split())
    if claim.status is ClaimStatus.PAID:
        done = payment_of(db, claim)
        if done is not None and done.bank_reference == reference:
            return done
        raise WrongClaimState("The payment of this claim is recorded already.")
    if claim.status is not ClaimStatus.SETTLED:
        raise WrongClaimState(
            f"Only a settled claim is paid (this one is {claim.status.value.replace('_', ' ')})."
        )
    problems: list[FieldProblem] = []
    if not _REFERENCE.match(reference):
        problems.append(
            FieldProblem(
                "bankReference",
                "The bank's reference: 4 to 60 letters, digits, / _ or -.",
                "INVALID",
            )
        )
    today = china_date(cx.now())
    decided = china_date(claim.decided_at) if claim.decided_at else None
    if paid_on > today or (decided is not None and paid_on < decided):
        problems.append(
            FieldProblem("paidOn", "The day is between the settlement and today.", "OUT_OF_RANGE")
        )
    if amount_fen <= 0:
        problems.append(FieldProblem("amount", "The amount is above 0.", "OUT_OF_RANGE"))
    if problems:
        raise ValidationFailed(problems)
    if amount_fen != claim.paid_fen:
        raise ClaimRuleBroken(
            "AMOUNTS_INCONSISTENT",
            "The amount paid must be the settled paid amount.",
            field="amount",
        )
    now = cx.now()
    payment = ClaimPayment(
        claim_id=claim.id,
        amount_fen=amount_fen,
        paid_on=paid_on,
        bank_reference=reference,
        payee_id=claim.payee_id,
        recorded_by=adjuster.id,
        recorded_at=now,
    )
    db.add(payment)
    core.transition(
        db,
        claim,
        ClaimStatus.PAID,
        "PAID",
        actor=Actor.ADJUSTER,
        actor_id=adjuster.id,
        now=now,
        note=f"支付 {amount_fen // 100:,}.{amount_fen % 100:02d} 元，{paid_on.isoformat()}，"
        f"银行流水 {reference}",
    )
    db.flush()
    announcements.announce(
        db, cx, claim, announcements.Event.PAID, now, key="payment", paid_on=paid_on
    )
    return payment
