"""Due dates: settled 10 working days after complete documents, paid 2-3 working days after
settling (seed 000 §12 Q7: "10 个工作日内结案……结案后，2-3 个工作日安排支付理赔款")."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.claims import deadlines, review, supplements
from server.claims.core import ClaimContext
from server.claims.models import Actor, Channel, Claim, ClaimStatus
from server.workdays import CHINA_TZ
from tests.server.claims.review_helpers import attach, make_adjuster, make_claim


def _at(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(10), tzinfo=CHINA_TZ)


def _claim(
    status: ClaimStatus, waiting: datetime.date | None, decided: datetime.date | None = None
) -> Claim:
    return Claim(
        status=status,
        waiting_since=_at(waiting) if waiting else None,
        submitted_at=_at(waiting) if waiting else None,
        decided_at=_at(decided) if decided else None,
    )


def test_settlement_is_due_ten_working_days_later_over_the_national_day_week() -> None:
    # Monday 28 September 2026: 29th, 30th, then the holiday 1-7 October, then 8th on:
    # the tenth working day is Friday 16 October, not Monday 12 October (weekends only)
    claim = _claim(ClaimStatus.SUBMITTED, datetime.date(2026, 9, 28))
    assert deadlines.dates(claim).settle_by == datetime.date(2026, 10, 16)
    assert deadlines.dates(
        _claim(ClaimStatus.UNDER_REVIEW, datetime.date(2026, 3, 2))
    ).settle_by == (datetime.date(2026, 3, 16))


def test_no_due_date_while_documents_are_owed_or_once_decided() -> None:
    day = datetime.date(2026, 3, 2)
    assert deadlines.dates(_claim(ClaimStatus.PENDING_SUPPLEMENT, day)).settle_by is None
    assert deadlines.dates(_claim(ClaimStatus.REJECTED, day, day)).settle_by is None
    rejected = deadlines.dates(_claim(ClaimStatus.REJECTED, day, day))
    assert (rejected.pay_from, rejected.pay_by) == (None, None)


def test_payment_is_expected_two_to_three_working_days_after_settling() -> None:
    # settled on Friday 6 March 2026: the 2nd and 3rd working days after, Tuesday 10th to Wednesday 11th
    settled = deadlines.dates(
        _claim(ClaimStatus.SETTLED, datetime.date(2026, 3, 2), datetime.date(2026, 3, 6))
    )
    assert (settled.pay_from, settled.pay_by) == (
        datetime.date(2026, 3, 10),
        datetime.date(2026, 3, 11),
    )


def test_a_year_whose_holidays_are_not_published_gives_no_date_rather_than_a_guess() -> None:
    claim = _claim(ClaimStatus.SUBMITTED, datetime.date(2026, 12, 28))
    assert deadlines.dates(claim).settle_by is None


def test_the_overdue_boundary_is_the_first_day_not_yet_overdue() -> None:
    today = datetime.date(2026, 3, 17)  # Tuesday
    boundary = deadlines.overdue_if_waiting_before(today)
    assert boundary is not None
    before = _claim(ClaimStatus.SUBMITTED, boundary - datetime.timedelta(days=1))
    on = _claim(ClaimStatus.SUBMITTED, boundary)
    assert deadlines.dates(before).overdue(today)
    assert not deadlines.dates(on).overdue(today)


def test_the_desk_sees_overdue_claims_before_new_supplements(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    now = claims.now()
    adjuster = make_adjuster(db_session, claims)
    recent = make_claim(db_session, claims, demo, waiting_since=now - datetime.timedelta(hours=2))
    old = make_claim(db_session, claims, demo, waiting_since=now - datetime.timedelta(days=30))
    # a supplement just arrived on the recent one (it would be first otherwise)
    supplied = make_claim(db_session, claims, demo, waiting_since=now - datetime.timedelta(days=1))
    supplements.request_supplement(db_session, claims, adjuster, supplied, ["INVOICE"], "补发票")
    attach(db_session, claims, supplied, "INVOICE")
    supplements.fulfil(
        db_session,
        claims,
        supplied,
        remark="",
        channel=Channel.H5,
        actor=Actor.CLAIMANT,
        actor_id=None,
    )
    today = now.astimezone(CHINA_TZ).date()
    page = review.queue(db_session, today=today)
    order = [r.claim.id for r in page.rows]
    assert order[:3] == [old.id, supplied.id, recent.id]
    assert deadlines.dates(old).overdue(today) and not deadlines.dates(recent).overdue(today)
    # without a day to measure against, the order is as before: supplement first
    assert next(r.claim.id for r in review.queue(db_session).rows) == supplied.id
