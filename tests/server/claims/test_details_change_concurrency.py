"""Changes of personal details started at the same moment on PostgreSQL, with real commits
from separate sessions: one open request per member, and the start budget, hold."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.models import Account
from server.claims import details_change as dc
from server.claims.core import ClaimContext
from server.claims.details_models import DetailsChange
from server.claims.errors import DetailsChangeLimited, IdentityUnavailable, ServiceRequestOpen
from server.claims.models import Adjuster
from server.errors import DomainError
from server.policies.models import IdType, Person
from server.policies.records import add_person, resident_id
from server.storage.uploads import store_upload
from tests.db import run_together
from tests.server.claims.drafts_helpers import MAIN, STAFF, account_of, image
from tests.server.claims.review_helpers import make_adjuster

pytestmark = pytest.mark.postgres

# 张伟's birth date, another region: another insured person's document
OTHERS_ID = resident_id("110101", datetime.date(1982, 4, 12), "019")


def _start(
    factory: sessionmaker[Session],
    cx: ClaimContext,
    account_id: int,
    mobile: str,
    id_number: str = "310115198204120311",  # the current document: no real-name try
) -> int:
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
                id_number=id_number,
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


def test_forty_starts_at_once_open_one_request(pg_committed: Any, claims: ClaimContext) -> None:
    # given a member and forty requests starting a change at the same moment
    factory, _demo = pg_committed
    with factory() as s:
        account_id = account_of(s, claims, MAIN).id
    # when they run together
    results = run_together(40, lambda i: _start(factory, claims, account_id, MAIN))
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
    # given forty starts at once that each ask about a document another person holds
    factory, _demo = pg_committed
    with factory() as s:
        account_id = account_of(s, claims, MAIN).id
        add_person(
            s,
            claims.vault,
            name="王五",
            id_number=OTHERS_ID,
            birth_date=datetime.date(1982, 4, 12),
            gender="M",
        )
        s.commit()
    results = run_together(
        40, lambda i: _start(factory, claims, account_id, MAIN, id_number=OTHERS_ID)
    )
    # then exactly the budget's worth get an answer, the rest wait
    answered = [r for r in results if isinstance(r, IdentityUnavailable)]
    refused = [r for r in results if isinstance(r, DetailsChangeLimited)]
    assert (len(answered), len(refused)) == (dc.STARTS.limit, 40 - dc.STARTS.limit), results


class _AnyCode:
    """Accepts every code: this test is about approvals, not about SMS."""

    def consume(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_two_approvals_at_once_give_one_mobile_to_one_member(
    pg_committed: Any, claims: ClaimContext
) -> None:
    # given two members whose submitted changes both ask for the same new mobile
    factory, _demo = pg_committed
    cx = dataclasses.replace(claims, codes=_AnyCode())  # type: ignore[arg-type]
    ids = []
    with factory() as s:
        office = make_adjuster(s, cx)
        for phone, number in ((MAIN, "310115198204120311"), (STAFF, None)):
            account = account_of(s, cx, phone)
            person = s.get(Person, account.person_id)
            assert person is not None
            row = dc.start(
                s,
                cx,
                account,
                name=cx.vault.decrypt(person.name_enc),
                id_type=IdType.RESIDENT_ID,
                id_number=number or cx.vault.decrypt(person.id_number_enc),
                mobile="13900000088",
            )
            for category in dc.CATEGORIES:
                dc.attach(s, cx, account, row.id, category, store_upload(cx.storage, image()))
            dc.submit(s, cx, account, row.id, sms_code="000000", new_mobile_sms_code="000000")
            ids.append(row.id)
        s.commit()
        office_id = office.id

    def approve(i: int) -> str:
        with factory() as s:
            adjuster = s.get(Adjuster, office_id)
            assert adjuster is not None
            try:
                dc.approve(s, cx, adjuster, ids[i])
                s.commit()
                return "applied"
            except DomainError as e:
                s.rollback()
                return e.code

    # when the office approves both at the same moment
    results = run_together(2, approve)
    # then one is applied and the other is told the mobile is taken
    assert sorted(results) in (
        ["MOBILE_IN_USE", "applied"],
        ["SERVICE_REQUEST_STATE_CONFLICT", "applied"],
    ), results
    with factory() as s:
        holders = s.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.phone_hash == cx.vault.lookup("13900000088", kind="phone"))
        )
        assert holders == 1
