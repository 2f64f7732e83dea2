"""Contact changes at the same moment, with real commits from separate sessions (SQLite and
PostgreSQL): the member's daily budget holds and the one contact record is made once."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.claims import member_admin
from server.claims.core import ClaimContext
from server.claims.errors import ContactChangeLimited
from server.claims.models import ContactProfile, ServiceRequest
from server.db import write_first
from tests.db import run_together
from tests.server.claims.drafts_helpers import MAIN, account_of

AT_ONCE = 40


class _AnyCode:
    """Accepts every code: this test is about the budget, not about SMS."""

    def consume(self, *args: Any, **kwargs: Any) -> None:
        return None


def _change(factory: sessionmaker[Session], cx: ClaimContext, account_id: int, i: int) -> int:
    with factory() as s:
        write_first(s)
        account = s.get(Account, account_id)
        assert account is not None
        try:
            view = member_admin.change_contact(
                s,
                cx,
                account,
                province_code="310000000000",
                city_code="310100000000",
                district_code="310115000000",
                address=f"世纪大道{i + 1}号",
                email=f"m{i}@example.com",
                sms_code="000000",
            )
            s.commit()
            return view.id
        except ContactChangeLimited:
            s.commit()  # as the GraphQL request does: a typed answer keeps what was counted
            raise
        except Exception:
            s.rollback()
            raise


def test_forty_contact_changes_at_once_stop_exactly_at_the_daily_budget(
    committed: Any, claims: ClaimContext
) -> None:
    # given a member with no contact record yet
    factory, _demo = committed
    cx = dataclasses.replace(claims, codes=_AnyCode())  # type: ignore[arg-type]
    with factory() as s:
        account_id = account_of(s, cx, MAIN).id
        assert (
            s.scalar(select(ContactProfile).where(ContactProfile.account_id == account_id)) is None
        )
    # when forty contact changes arrive at the same moment
    results = run_together(AT_ONCE, lambda i: _change(factory, cx, account_id, i))
    # then exactly the day's budget is applied, the rest are told to wait
    applied = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(applied) == member_admin.CHANGES.limit, results
    assert len(refused) == AT_ONCE - member_admin.CHANGES.limit
    assert all(isinstance(r, ContactChangeLimited) for r in refused), refused
    assert all(r.code == "CONTACT_CHANGE_RATE_LIMITED" and r.retry_after > 0 for r in refused)
    # and the member has one contact record and one request per applied change
    with factory() as s:
        profiles = s.scalar(
            select(func.count())
            .select_from(ContactProfile)
            .where(ContactProfile.account_id == account_id)
        )
        requests = s.scalar(
            select(func.count())
            .select_from(ServiceRequest)
            .where(ServiceRequest.account_id == account_id)
        )
        assert (profiles, requests) == (1, member_admin.CHANGES.limit)
