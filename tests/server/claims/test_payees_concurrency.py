"""Payees saved at the same moment on PostgreSQL, with real commits from separate sessions."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.claims import payees
from server.claims.core import ClaimContext
from server.claims.errors import PayeeDuplicate
from server.claims.models import PayeeAccount
from tests.db import run_together
from tests.server.claims.drafts_helpers import MAIN, account_of
from tests.server.claims.payees_helpers import details

pytestmark = pytest.mark.postgres


class _AnyCode:
    """Accepts every code: this test is about duplicates, not about SMS."""

    def consume(self, *args: Any, **kwargs: Any) -> None:
        return None


def _add(factory: sessionmaker[Session], cx: ClaimContext, account_id: int) -> int:
    with factory() as s:
        account = s.get(Account, account_id)
        assert account is not None
        try:
            view = payees.add_payee(s, cx, account, details(), "000000")
            s.commit()
            return view.id
        except Exception:
            s.rollback()
            raise


def test_the_same_account_saved_at_once_by_eight_requests_is_saved_once(
    pg_committed: Any, claims: ClaimContext
) -> None:
    # given a member and eight requests saving the same account at the same moment
    factory, _demo = pg_committed
    cx = dataclasses.replace(claims, codes=_AnyCode())  # type: ignore[arg-type]
    with factory() as s:
        account_id = account_of(s, cx, MAIN).id
    # when they run together
    results = run_together(8, lambda i: _add(factory, cx, account_id))
    # then one is saved and the others are told it is a duplicate
    saved = [r for r in results if isinstance(r, int)]
    assert len(saved) == 1, results
    assert all(isinstance(r, PayeeDuplicate) for r in results if not isinstance(r, int))
    with factory() as s:
        count = s.scalar(
            select(func.count())
            .select_from(PayeeAccount)
            .where(PayeeAccount.account_id == account_id)
        )
        assert count == 1
