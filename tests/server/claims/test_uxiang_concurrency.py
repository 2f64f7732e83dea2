"""U享赔 under concurrency, with real commits from separate sessions (SQLite and PostgreSQL):
one claim per visit record however many attempts race, and the record look-ups' budgets
per member and per client address hold exactly."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.claims import drafts, payees, uxiang
from server.claims.core import ClaimContext
from server.claims.errors import UxiangRateLimited, UxiangRecordClaimed
from server.claims.models import Claim, ClaimStatus
from server.claims.uxiang_models import UxiangClaim
from server.db import write_first
from server.limits import Policy
from server.storage.uploads import store_upload
from tests.db import run_together
from tests.server.claims.drafts_helpers import MAIN, account_of, image
from tests.server.claims.payees_helpers import details

START = datetime.date(2026, 1, 1)
TODAY = datetime.date(2026, 3, 2)


class _AnyCode:
    """Accepts every SMS code: these tests are about races, not about codes."""

    def consume(self, *args: Any, **kwargs: Any) -> None:
        return None


def _ready(factory: sessionmaker[Session], cx: ClaimContext, demo: Any) -> tuple[int, int, int]:
    """The main member with contact, a saved payee and a signed authorisation; their
    account id, main policy id and payee id."""
    policy_id = demo.policy_ids["main"]
    with factory() as s:
        account = account_of(s, cx, MAIN)
        drafts.save_contact(s, cx, account, address="上海市浦东新区世纪大道1229号", email="a@b.cn")
        payee = payees.add_payee(s, cx, account, details(), "000000")
        row = uxiang.authorise(
            s,
            cx,
            account,
            policy_id=policy_id,
            accepted=True,
            version=uxiang.authorisation_text().version,
            client=uxiang.Client("127.0.0.1", "test"),
        )
        s.commit()
        signature = store_upload(cx.storage, image(size=(120, 40)), filename="sig.png")
        uxiang.save_signature(s, cx, account, row.id, signature)  # commits
        return account.id, policy_id, payee.id


@pytest.fixture
def cx(claims: ClaimContext) -> ClaimContext:
    return dataclasses.replace(claims, codes=_AnyCode())  # type: ignore[arg-type]


def test_eight_claims_from_one_record_at_once_make_one_claim(
    committed: Any, cx: ClaimContext
) -> None:
    # given an authorised member and one of their visit records
    factory, demo = committed
    account_id, policy_id, payee_id = _ready(factory, cx, demo)
    with factory() as s:
        account = s.get(Account, account_id)
        assert account is not None
        _first, _last, found = uxiang.records(
            s, cx, account, policy_id=policy_id, start=START, end=TODAY, client=None
        )
        s.commit()
    record = next(
        r.visit
        for r in found
        if r.visit.visit_type == "OUTPATIENT" and r.visit.amount_fen <= 200000
    )

    def claim(_i: int) -> int:
        with factory() as s:
            write_first(s)
            account = s.get(Account, account_id)
            assert account is not None
            try:
                made = uxiang.claim_from_record(
                    s,
                    cx,
                    account,
                    policy_id=policy_id,
                    record_id=record.record_id,
                    notice_accepted=True,
                    payee_id=payee_id,
                    client=None,
                )
                s.commit()
                return made.id
            except Exception:
                s.rollback()
                raise

    # when forty requests claim from it at the same moment
    results = run_together(40, claim)
    # then one claim is made and the others are told the record is claimed
    made = [r for r in results if isinstance(r, int)]
    assert len(made) == 1, results
    assert all(isinstance(r, UxiangRecordClaimed) for r in results if not isinstance(r, int))
    with factory() as s:
        rows = s.scalars(select(UxiangClaim).where(UxiangClaim.record_id == record.record_id))
        assert [r.claim_id for r in rows] == made
        # and no draft of a losing attempt is left behind
        count = s.scalar(
            select(func.count())
            .select_from(Claim)
            .where(Claim.account_id == account_id, Claim.status == ClaimStatus.DRAFT)
        )
        assert count == 1


def test_record_look_ups_at_once_stop_exactly_at_the_members_budget(
    committed: Any, cx: ClaimContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a member budget of 5 look-ups an hour
    factory, demo = committed
    monkeypatch.setattr(
        uxiang, "PER_MEMBER", Policy("uxiang-records-member", datetime.timedelta(hours=1), 5)
    )
    account_id, policy_id, _payee = _ready(factory, cx, demo)

    def look(i: int) -> int:
        with factory() as s:
            write_first(s)
            account = s.get(Account, account_id)
            assert account is not None
            try:
                _f, _l, found = uxiang.records(
                    s,
                    cx,
                    account,
                    policy_id=policy_id,
                    start=START,
                    end=TODAY,
                    client=f"10.0.0.{i}",
                )
                s.commit()
                return len(found)
            except Exception:
                s.rollback()
                raise

    # when forty look-ups arrive at once, from different addresses
    results = run_together(40, look)
    # then exactly five are answered and thirty-five told to wait
    assert sum(isinstance(r, int) for r in results) == 5, results
    refused = [r for r in results if not isinstance(r, int)]
    assert len(refused) == 35 and all(isinstance(r, UxiangRateLimited) for r in refused)
    assert all(r.retry_after > 0 and r.code == "UXIANG_RATE_LIMITED" for r in refused)


def test_record_look_ups_from_one_address_stop_at_its_budget(
    committed: Any, cx: ClaimContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a client-address budget of 3 look-ups an hour
    factory, demo = committed
    monkeypatch.setattr(
        uxiang, "PER_CLIENT", Policy("uxiang-records-client", datetime.timedelta(hours=1), 3)
    )
    account_id, policy_id, _payee = _ready(factory, cx, demo)

    def look(_i: int) -> int:
        with factory() as s:
            write_first(s)
            account = s.get(Account, account_id)
            assert account is not None
            try:
                uxiang.records(
                    s, cx, account, policy_id=policy_id, start=None, end=None, client="10.9.9.9"
                )
                s.commit()
                return 1
            except Exception:
                s.rollback()
                raise

    # when six look-ups arrive at once from one address
    results = run_together(6, look)
    # then three are answered
    assert results.count(1) == 3, results
    assert all(isinstance(r, UxiangRateLimited) for r in results if r != 1)
