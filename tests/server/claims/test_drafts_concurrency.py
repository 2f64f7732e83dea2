"""Concurrent submissions on PostgreSQL, with real commits from separate sessions.

The data lives in a schema of its own (the `pg_committed` fixture), so the committed rows
never meet the other tests (which run in rolled-back transactions).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.accounts.wiring import MemberServices
from server.claims import drafts
from server.claims.core import ClaimContext
from server.claims.models import Claim, ClaimEvent, ClaimStatus
from server.errors import DomainError
from server.policies.models import Relation
from tests.db import last_sms_code, run_together
from tests.server.claims.drafts_helpers import MAIN, STAFF, account_of, ready_draft

pytestmark = pytest.mark.postgres


def _submit(
    factory: sessionmaker[Session],
    cx: ClaimContext,
    account_id: int,
    claim_id: int,
    code: str,
    key: str,
) -> tuple[int, str | None]:
    with factory() as s:
        account = s.get(Account, account_id)
        assert account is not None
        try:
            draft = s.get(Claim, claim_id)
            declaration = cx.rules.get(draft.plan_rules).declaration if draft else None
            claim = drafts.submit(
                s,
                cx,
                account,
                claim_id,
                sms_code=code,
                client_key=key,
                declaration_version=declaration.version if declaration else None,
            )
            result = (claim.id, claim.claim_no)
            s.commit()
            return result
        except Exception:
            s.rollback()
            raise


def test_concurrent_submits_of_one_draft_with_one_key_make_one_claim(
    pg_committed: Any, claims: ClaimContext, members: MemberServices
) -> None:
    factory, demo = pg_committed
    with factory() as s:
        account = account_of(s, claims, MAIN)
        claim = ready_draft(s, claims, account, demo.policy_ids["main"])
        drafts.send_confirmation_code(s, claims, account, claim.id)
        s.commit()
        account_id, claim_id = account.id, claim.id
    code = last_sms_code(factory, members, MAIN)

    results = run_together(
        8, lambda i: _submit(factory, claims, account_id, claim_id, code, "one-key-8")
    )

    assert all(not isinstance(r, Exception) for r in results), results
    assert {r[0] for r in results} == {claim_id}
    assert len({r[1] for r in results}) == 1
    with factory() as s:
        submitted = s.scalar(
            select(func.count()).where(
                ClaimEvent.claim_id == claim_id, ClaimEvent.kind == "SUBMITTED"
            )
        )
        assert submitted == 1


class _AnyCode:
    """Accepts every code: this test is about numbers, not about SMS."""

    def issue(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("not used")

    def consume(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_concurrent_submits_of_many_drafts_get_distinct_numbers(
    pg_committed: Any, claims: ClaimContext
) -> None:
    factory, demo = pg_committed
    cx = dataclasses.replace(claims, codes=_AnyCode())  # type: ignore[arg-type]
    jobs: list[tuple[int, int]] = []
    with factory() as s:
        main = account_of(s, cx, MAIN)
        staff = account_of(s, cx, STAFF)
        for i in range(6):
            own = ready_draft(s, cx, main, demo.policy_ids["main"])
            child = ready_draft(s, cx, main, demo.policy_ids["child"], relationship=Relation.CHILD)
            uni = ready_draft(
                s,
                cx,
                staff,
                demo.policy_ids["staff"],
                claim_type="INPATIENT",
                total=f"{1000 + i}.00",
            )
            jobs += [(main.id, own.id), (main.id, child.id), (staff.id, uni.id)]
        s.commit()

    results = run_together(
        len(jobs),
        lambda i: _submit(factory, cx, jobs[i][0], jobs[i][1], "000000", f"many-key-{i:03d}"),
    )

    assert all(not isinstance(r, Exception) for r in results), results
    numbers = [r[1] for r in results]
    assert len(set(numbers)) == len(jobs) == 18
    with factory() as s:
        statuses = s.scalars(select(Claim.status).where(Claim.id.in_([j[1] for j in jobs])))
        assert set(statuses) == {ClaimStatus.SUBMITTED}


def test_one_key_racing_on_two_drafts_submits_only_one(
    pg_committed: Any, claims: ClaimContext
) -> None:
    factory, demo = pg_committed
    cx = dataclasses.replace(claims, codes=_AnyCode())  # type: ignore[arg-type]
    with factory() as s:
        main = account_of(s, cx, MAIN)
        a = ready_draft(s, cx, main, demo.policy_ids["main"])
        b = ready_draft(s, cx, main, demo.policy_ids["child"], relationship=Relation.CHILD)
        s.commit()
        ids = [a.id, b.id]
        account_id = main.id

    results = run_together(
        2, lambda i: _submit(factory, cx, account_id, ids[i], "000000", "race-key-1")
    )

    ok = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(ok) == 1 and len(refused) == 1, results
    assert refused[0].problems[0].code == "CLIENT_KEY_REUSED"  # type: ignore[attr-defined]
    with factory() as s:
        statuses = sorted(
            s.scalars(select(Claim.status).where(Claim.id.in_(ids))), key=lambda x: x.value
        )
        assert statuses == [ClaimStatus.DRAFT, ClaimStatus.SUBMITTED]
