"""Forty submissions of one pre-authorisation at once with its SMS code, each in a
transaction of its own, on SQLite and PostgreSQL: it is submitted once and the receipt
(SMS, in-app) is sent once."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.accounts.wiring import MemberServices
from server.claims import preauth
from server.claims.core import ClaimContext
from server.db import write_first
from server.errors import DomainError
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from tests.db import last_sms_code, run_together
from tests.server.claims.drafts_helpers import MAIN, account_of, policy_id
from tests.server.claims.test_preauth import _files, _start


def test_forty_submissions_at_once_submit_and_acknowledge_once(
    committed: tuple[sessionmaker[Session], Any],
    claims: ClaimContext,
    members: MemberServices,
) -> None:
    factory, demo = committed
    with factory() as db:
        main = account_of(db, claims, MAIN)
        row = _start(db, claims, main, policy_id(demo, "main_high_end"))
        _files(db, claims, main, row)
        preauth.send_code(db, claims, main, row.id)
        account_id, row_id = main.id, row.id
        db.commit()
    code = last_sms_code(factory, members, MAIN)

    def submit(i: int) -> str:
        with factory() as db:
            write_first(db)  # as the GraphQL endpoint opens a mutation's session
            me = db.get(Account, account_id)
            assert me is not None
            try:
                preauth.submit(db, claims, me, row_id, code)
            except DomainError as e:
                db.rollback()
                return e.code
            db.commit()
            return "submitted"

    outcomes = Counter(run_together(40, submit))
    assert outcomes["submitted"] == 1, outcomes
    with factory() as db:
        told = db.scalar(
            select(func.count())
            .select_from(MemberMessage)
            .where(MemberMessage.kind == "pre_auth.submitted", MemberMessage.subject_id == row_id)
        )
        receipts = db.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.dedupe_key == f"pre_auth:{row_id}:submitted:sms")
        )
    assert (told, receipts) == (1, 1)
