"""进度查询 and 问题处理: the member's claims, filtered as seed 002 二.2 asks, newest first.

A member sees the claims they made and those made about them (a main insured's claim
for a child, once the child has an account); drafts are listed separately, to their
author only.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from server.accounts.models import Account
from server.claims.claimant_rules import require_verified
from server.claims.core import OPEN_STATUSES, member_claim, member_claims_filter
from server.claims.errors import ClaimNotFound
from server.claims.models import Channel, Claim, ClaimDocument, ClaimStatus
from server.errors import FieldProblem, ValidationFailed
from server.workdays import CHINA_TZ

S = ClaimStatus
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class ClaimQuery:
    status: ClaimStatus | None = None  # None: every submitted claim, whatever its status
    needs_action: bool = False  # 问题处理: waiting for documents, or with problem images
    year: int | None = None  # 申报年度: year of submission, China time
    submitted_from: datetime.date | None = None  # 申报时段, China dates, inclusive
    submitted_to: datetime.date | None = None
    channel: Channel | None = None  # 申报途径
    claim_type: str | None = None  # 申报案件类型: a claim type code
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True, slots=True)
class ClaimPage:
    claims: list[Claim]
    total: int
    offset: int
    has_next: bool


def _china_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=CHINA_TZ).astimezone(
        datetime.UTC
    )


def _check(q: ClaimQuery) -> None:
    problems: list[FieldProblem] = []
    if q.year is not None and not 2000 <= q.year <= 2100:
        problems.append(FieldProblem("year", "A year from 2000 to 2100.", "INVALID_YEAR"))
    if q.submitted_from and q.submitted_to and q.submitted_from > q.submitted_to:
        problems.append(
            FieldProblem("submittedTo", "The period ends before it starts.", "INVALID_PERIOD")
        )
    if not 1 <= q.limit <= MAX_PAGE:
        problems.append(FieldProblem("first", f"Page size 1 to {MAX_PAGE}.", "INVALID_PAGE_SIZE"))
    if q.claim_type is not None and not 1 <= len(q.claim_type) <= 40:
        problems.append(FieldProblem("claimType", "A claim type code.", "INVALID_CLAIM_TYPE"))
    if problems:
        raise ValidationFailed(problems)


def needs_action_condition():  # type: ignore[no-untyped-def]
    """SQL for 问题处理: documents asked for, or problem images on a claim not yet
    resubmitted (and not settled or withdrawn, where nothing more can be done)."""
    problem = exists().where(
        ClaimDocument.claim_id == Claim.id,
        ClaimDocument.problem_reason.is_not(None),
        ClaimDocument.removed_at.is_(None),
    )
    newer = aliased(Claim)
    resubmitted = exists().where(newer.resubmission_of_id == Claim.id, newer.status != S.DRAFT)
    return or_(
        Claim.status == S.PENDING_SUPPLEMENT,
        and_(
            Claim.status.in_([S.SUBMITTED, S.UNDER_REVIEW, S.REJECTED]),
            problem,
            ~resubmitted,
        ),
    )


def list_claims(db: Session, account: Account, q: ClaimQuery) -> ClaimPage:
    require_verified(account)
    _check(q)
    where = [member_claims_filter(account), Claim.status != S.DRAFT]
    if q.status is not None:
        where.append(Claim.status == q.status)
    if q.needs_action:
        where.append(needs_action_condition())
    if q.year is not None:
        where.append(Claim.submitted_at >= _china_midnight(datetime.date(q.year, 1, 1)))
        where.append(Claim.submitted_at < _china_midnight(datetime.date(q.year + 1, 1, 1)))
    if q.submitted_from is not None:
        where.append(Claim.submitted_at >= _china_midnight(q.submitted_from))
    if q.submitted_to is not None:
        end = q.submitted_to + datetime.timedelta(days=1)
        where.append(Claim.submitted_at < _china_midnight(end))
    if q.channel is not None:
        where.append(Claim.channel == q.channel)
    if q.claim_type is not None:
        where.append(Claim.claim_type == q.claim_type)
    total = db.scalar(select(func.count()).select_from(Claim).where(*where)) or 0
    rows = list(
        db.scalars(
            select(Claim)
            .where(*where)
            .order_by(Claim.submitted_at.desc(), Claim.id.desc())
            .offset(q.offset)
            .limit(q.limit)
        )
    )
    return ClaimPage(
        claims=rows, total=total, offset=q.offset, has_next=q.offset + len(rows) < total
    )


def claim_detail(db: Session, account: Account, claim_id: int) -> Claim:
    """A claim the member may see; someone else's draft is not one of them."""
    require_verified(account)
    claim = member_claim(db, account, claim_id)
    if claim.status is S.DRAFT and claim.account_id != account.id:
        raise ClaimNotFound("No such claim among yours.")
    return claim


def needs_action(db: Session, claim: Claim) -> bool:
    if claim.status is S.PENDING_SUPPLEMENT:
        return True
    if claim.status not in OPEN_STATUSES | {S.REJECTED}:
        return False
    return bool(
        db.scalar(
            select(func.count())
            .select_from(Claim)
            .where(Claim.id == claim.id, needs_action_condition())
        )
    )
