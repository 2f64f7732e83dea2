"""When a claim is due: settled 10 working days after its documents are complete, paid 2-3
working days after settling (seed 000 §12 Q7), on the mainland calendar.

"Complete" is the moment the claim last started waiting for us (`waiting_since`: submission,
or the arrival of the documents an adjuster asked for); while the claimant owes documents
the clock stops and there is no due date. A date in a year whose holidays the installed
calendar does not know yet is not guessed: it is None (see server/workdays.py).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from server.claims.models import Claim, ClaimStatus
from server.workdays import CalendarUnknown, add_working_days, china_date

SETTLEMENT_WORKING_DAYS = 10  # "10 个工作日内结案"
PAYMENT_WORKING_DAYS = (2, 3)  # "结案后，2-3 个工作日安排支付理赔款"
DUE_FOR_US = (ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW)
PAYING = (ClaimStatus.SETTLED, ClaimStatus.PAID)


@dataclass(frozen=True, slots=True)
class Dates:
    settle_by: datetime.date | None  # while the claim waits for a decision
    pay_from: datetime.date | None  # once settled: payment expected between these days
    pay_by: datetime.date | None
    paid_on: datetime.date | None = None  # once paid: the day the bank paid

    def overdue(self, today: datetime.date) -> bool:
        return self.settle_by is not None and self.settle_by < today

    def payment_overdue(self, today: datetime.date) -> bool:
        """Settled, not paid, and the last payment day has passed."""
        return self.paid_on is None and self.pay_by is not None and self.pay_by < today

    def payment_met(self) -> bool | None:
        """Paid by the last payment day (None: not paid yet, or the day is not known)."""
        if self.paid_on is None or self.pay_by is None:
            return None
        return self.paid_on <= self.pay_by


def _add(start: datetime.datetime | datetime.date, n: int) -> datetime.date | None:
    try:
        return add_working_days(start, n)
    except CalendarUnknown:
        return None


def dates(claim: Claim, paid_on: datetime.date | None = None) -> Dates:
    """`paid_on`: the recorded payment's day, for a paid claim (server/claims/payments.py)."""
    settle_by = None
    if claim.status in DUE_FOR_US:
        start = claim.waiting_since or claim.submitted_at
        settle_by = _add(start, SETTLEMENT_WORKING_DAYS) if start else None
    pay_from = pay_by = None
    if claim.status in PAYING and claim.decided_at is not None:
        pay_from = _add(claim.decided_at, PAYMENT_WORKING_DAYS[0])
        pay_by = _add(claim.decided_at, PAYMENT_WORKING_DAYS[1])
    paid = paid_on if claim.status is ClaimStatus.PAID else None
    return Dates(settle_by, pay_from, pay_by, paid)


def overdue_if_waiting_before(
    today: datetime.date, working_days: int = SETTLEMENT_WORKING_DAYS
) -> datetime.date | None:
    """The first China date from which a claim waiting since then is not yet overdue.

    A claim whose `waiting_since` falls on an earlier day was due before `today`
    (`working_days` later; the payment's 3 for a settled claim's `decided_at`). Working
    days only move forward, so this is one boundary, found by walking back (at most about
    a month even over the Spring Festival).
    """
    day = today
    for _ in range(60):
        due = _add(day - datetime.timedelta(days=1), working_days)
        if due is None:
            return None
        if due < today:
            return day
        day -= datetime.timedelta(days=1)
    return None


def china_today(now: datetime.datetime) -> datetime.date:
    return china_date(now)
