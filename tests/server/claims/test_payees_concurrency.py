"""Payees saved at the same moment, with real commits from separate sessions: duplicates on
PostgreSQL's row locks, the member's daily budget of changes on both databases."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.claims import payees
from server.claims.core import ClaimContext
from server.claims.errors import PayeeDuplicate, PayeeLimited
from server.claims.models import PayeeAccount
from server.db import write_first
from server.limits import Policy
from tests.db import run_together
from tests.server.claims.drafts_helpers import MAIN, account_of
from tests.server.claims.payees_helpers import details


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


@pytest.mark.postgres
def test_the_same_account_saved_at_once_by_forty_requests_is_saved_once(
    pg_committed: Any, claims: ClaimContext
) -> None:
    # given a member and forty requests saving the same account at the same moment
    factory, _demo = pg_committed
    cx = dataclasses.replace(claims, codes=_AnyCode())  # type: ignore[arg-type]
    with factory() as s:
        account_id = account_of(s, cx, MAIN).id
    # when they run together
    results = run_together(40, lambda i: _add(factory, cx, account_id))
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


def _card(i: int) -> str:
    """A Luhn-valid 19-digit card number, a different one for each i."""
    body = f"621700121001{i:06d}"
    total = 0
    for n, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if n % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def test_forty_payee_changes_at_once_stop_exactly_at_the_members_budget(
    committed: Any, claims: ClaimContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a budget of 5 payee changes a day and forty different accounts saved at once
    monkeypatch.setattr(payees, "CHANGES", Policy("payee-change", datetime.timedelta(days=1), 5))
    factory, _demo = committed
    cx = dataclasses.replace(claims, codes=_AnyCode())  # type: ignore[arg-type]
    with factory() as s:
        account_id = account_of(s, cx, MAIN).id

    def add(i: int) -> int:
        with factory() as s:
            write_first(s)
            account = s.get(Account, account_id)
            assert account is not None
            try:
                view = payees.add_payee(s, cx, account, details(account_no=_card(i)), "000000")
                s.commit()
                return view.id
            except PayeeLimited:
                s.commit()  # as the GraphQL request does: a typed answer keeps what was counted
                raise
            except Exception:
                s.rollback()
                raise

    results = run_together(40, add)
    # then exactly five are saved and the others told to wait
    saved = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(saved) == 5, results
    assert len(refused) == 35 and all(isinstance(r, PayeeLimited) for r in refused), refused
    assert all(r.code == "PAYEE_RATE_LIMITED" and r.retry_after > 0 for r in refused)
    with factory() as s:
        account = s.get(Account, account_id)
        assert account is not None
        # and a removal counts against the same budget
        with pytest.raises(PayeeLimited):
            payees.remove_payee(s, cx, account, saved[0])
        count = s.scalar(
            select(func.count())
            .select_from(PayeeAccount)
            .where(PayeeAccount.account_id == account_id)
        )
        assert count == 5
