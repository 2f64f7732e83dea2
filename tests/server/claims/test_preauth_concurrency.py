"""Pre-authorisations started at the same moment, with real commits from separate sessions
(SQLite and PostgreSQL): the member's daily budget of starts holds."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.claims import preauth
from server.claims.core import ClaimContext
from server.claims.errors import PreAuthLimited
from server.claims.preauth_models import PreAuthorisation
from server.db import write_first
from tests.db import run_together
from tests.server.claims.drafts_helpers import MAIN, account_of, policy_id

AT_ONCE = 40


def _start(factory: sessionmaker[Session], cx: ClaimContext, account_id: int, pid: int) -> int:
    with factory() as s:
        write_first(s)
        account = s.get(Account, account_id)
        assert account is not None
        try:
            row = preauth.start(
                s,
                cx,
                account,
                policy_id=pid,
                notice_accepted=True,
                facility_id="SH-0001",
                facility_name_of={"SH-0001": "上海嘉会国际医院"}.get,
                visit_date=cx.now().date() + datetime.timedelta(days=10),
                items="膝关节镜手术",
            )
            s.commit()
            return row.id
        except PreAuthLimited:
            s.commit()  # as the GraphQL request does: a typed answer keeps what was counted
            raise
        except Exception:
            s.rollback()
            raise


def test_forty_starts_at_once_stop_exactly_at_the_daily_budget(
    committed: Any, claims: ClaimContext
) -> None:
    # given a member with a high-end policy
    factory, demo = committed
    with factory() as s:
        account_id = account_of(s, claims, MAIN).id
    pid = policy_id(demo, "main_high_end")
    # when forty requests start a pre-authorisation at the same moment
    results = run_together(AT_ONCE, lambda i: _start(factory, claims, account_id, pid))
    # then exactly the day's budget of drafts is opened and the rest are told to wait
    opened = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if not isinstance(r, int)]
    assert len(opened) == preauth.STARTS.limit, results
    assert len(refused) == AT_ONCE - preauth.STARTS.limit
    assert all(isinstance(r, PreAuthLimited) for r in refused), refused
    assert all(r.code == "PRE_AUTH_RATE_LIMITED" and r.retry_after > 0 for r in refused)
    with factory() as s:
        count = s.scalar(
            select(func.count())
            .select_from(PreAuthorisation)
            .where(PreAuthorisation.account_id == account_id)
        )
        assert count == preauth.STARTS.limit
