"""Forty card-reissue requests for one card at once, each in a transaction of its own, on
SQLite and PostgreSQL: one request is open per card, and one receipt is sent."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.billing import reissue
from server.billing.models import CardReissue, ReissueReason
from server.claims.core import ClaimContext
from server.db import write_first
from server.errors import DomainError
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from tests.db import run_together
from tests.server.billing.test_reissue import ADDRESS


def test_forty_requests_at_once_open_one_and_acknowledge_once(
    committed: tuple[sessionmaker[Session], Any], claims: ClaimContext
) -> None:
    factory, demo = committed
    with factory() as db:
        account = db.scalar(
            select(Account).where(Account.person_id == demo.people["main"].person_id)
        )
        assert account is not None
        account_id = account.id
    policy_id = demo.policy_ids["main_high_end"]

    def ask(i: int) -> str:
        with factory() as db:
            write_first(db)  # as the GraphQL endpoint opens a mutation's session
            me = db.get(Account, account_id)
            assert me is not None
            try:
                reissue.request(
                    db,
                    claims,
                    me,
                    policy_id=policy_id,
                    mobile="13912345678",
                    reason=ReissueReason.LOST,
                    **ADDRESS,
                )
            except DomainError as e:
                db.rollback()
                return e.code
            db.commit()
            return "requested"

    outcomes = Counter(run_together(40, ask))
    assert outcomes == {"requested": 1, "DUPLICATE_REISSUE": 39}, outcomes
    with factory() as db:
        made = db.scalar(select(func.count()).select_from(CardReissue))
        told = db.scalar(
            select(func.count())
            .select_from(MemberMessage)
            .where(MemberMessage.kind == "card_reissue.submitted")
        )
        receipts = db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.dedupe_key.like("card_reissue.submitted:%:sms"))
        )
    assert (made, told, receipts) == (1, 1, 1)
