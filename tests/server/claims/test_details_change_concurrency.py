"""Changes of personal details started at the same moment on PostgreSQL, with real commits
from separate sessions: one open request per member, and the start budget, hold."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.claims import details_change as dc
from server.claims.core import ClaimContext
from server.claims.details_models import DetailsChange
from server.claims.errors import DetailsChangeLimited, MobileInUse, ServiceRequestOpen
from server.errors import DomainError
from server.policies.models import IdType
from tests.db import run_together
from tests.server.claims.drafts_helpers import MAIN, STAFF, account_of

pytestmark = pytest.mark.postgres


def _start(factory: sessionmaker[Session], cx: ClaimContext, account_id: int, mobile: str) -> int:
    with factory() as s:
        account = s.get(Account, account_id)
        assert account is not None
        try:
            row = dc.start(
                s,
                cx,
                account,
                name="张维",
                id_type=IdType.RESIDENT_ID,
                id_number="310115198204120311",  # the current document: no real-name try
                mobile=mobile,
            )
            s.commit()
            return row.id
        except DomainError:
            s.commit()  # as the GraphQL request does: a typed answer keeps what was counted
            raise
        except Exception:
            s.rollback()
            raise


def test_eight_starts_at_once_open_one_request(pg_committed: Any, claims: ClaimContext) -> None:
    # given a member and eight requests starting a change at the same moment
    factory, _demo = pg_committed
    with factory() as s:
        account_id = account_of(s, claims, MAIN).id
    # when they run together
    results = run_together(8, lambda i: _start(factory, claims, account_id, MAIN))
    # then one draft is open and the others are told one is open already
    opened = [r for r in results if isinstance(r, int)]
    assert len(opened) == 1, results
    # (or, past the day's budget of starts, to wait)
    others = [r for r in results if not isinstance(r, int)]
    assert all(isinstance(r, ServiceRequestOpen | DetailsChangeLimited) for r in others), others
    assert any(isinstance(r, ServiceRequestOpen) for r in others), others
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(DetailsChange)) == 1


def test_the_start_budget_holds_under_concurrency(pg_committed: Any, claims: ClaimContext) -> None:
    # given eight starts at once that each ask about a mobile another account holds
    factory, _demo = pg_committed
    with factory() as s:
        account_id = account_of(s, claims, MAIN).id
    results = run_together(8, lambda i: _start(factory, claims, account_id, STAFF))
    # then exactly the budget's worth get an answer, the rest wait
    answered = [r for r in results if isinstance(r, MobileInUse)]
    refused = [r for r in results if isinstance(r, DetailsChangeLimited)]
    assert (len(answered), len(refused)) == (dc.STARTS.limit, 8 - dc.STARTS.limit), results
