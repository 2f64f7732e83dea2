"""Forty withdrawals of one claim at once, each in a transaction of its own, on SQLite and
PostgreSQL: one withdraws it and tells the claimant once; the others are told it is no
longer open."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.claims import claimant_actions as actions
from server.claims.core import ClaimContext
from server.claims.errors import WrongClaimState
from server.claims.models import Claim, ClaimEvent, ClaimStatus
from server.db import write_first
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from tests.db import run_together
from tests.server.claims.review_helpers import make_claim


def test_forty_withdrawals_at_once_withdraw_and_tell_once(
    committed: tuple[sessionmaker[Session], Any], claims: ClaimContext
) -> None:
    factory, demo = committed
    with factory() as db:
        claim = make_claim(db, claims, demo)
        claim_id, account_id = claim.id, claim.account_id
        db.commit()

    def withdraw(i: int) -> str:
        with factory() as db:
            write_first(db)  # as the GraphQL endpoint opens a mutation's session
            account = db.get(Account, account_id)
            assert account is not None
            try:
                actions.withdraw(db, claims, account, claim_id, reason=f"try {i}")
            except WrongClaimState:
                db.rollback()
                return "not open"
            db.commit()
            return "withdrawn"

    outcomes = Counter(run_together(40, withdraw))
    assert outcomes == {"withdrawn": 1, "not open": 39}, outcomes
    with factory() as db:
        assert db.get(Claim, claim_id).status is ClaimStatus.WITHDRAWN  # type: ignore[union-attr]
        events = db.scalar(
            select(func.count())
            .select_from(ClaimEvent)
            .where(ClaimEvent.claim_id == claim_id, ClaimEvent.kind == "WITHDRAWN")
        )
        told = db.scalar(
            select(func.count())
            .select_from(MemberMessage)
            .where(MemberMessage.subject_id == claim_id, MemberMessage.kind == "claim.withdrawn")
        )
        sms = db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.dedupe_key == f"claim.withdrawn:{claim_id}:withdraw:sms")
        )
    assert (events, told, sms) == (1, 1, 1)
