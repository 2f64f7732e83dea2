"""A double click on PostgreSQL: two requests or two answers at once do one thing.

The data lives in a schema of its own (the `pg_committed` fixture), so the committed rows
never meet the other tests (which run in rolled-back transactions).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.claims import supplements
from server.claims.core import ClaimContext
from server.claims.errors import WrongClaimState
from server.claims.models import (
    Actor,
    Adjuster,
    Channel,
    Claim,
    ClaimEvent,
    ClaimStatus,
    SupplementRequest,
)
from server.notify.outbox import Notification
from tests.db import run_together
from tests.server.claims.review_helpers import attach, make_adjuster, make_claim

pytestmark = pytest.mark.postgres


def test_concurrent_requests_and_answers_do_one_thing(
    pg_committed: tuple[sessionmaker[Session], Any], claims: ClaimContext
) -> None:
    factory, demo = pg_committed
    with factory() as s:
        adjuster_id = make_adjuster(s, claims).id
        claim_id = make_claim(s, claims, demo).id
        s.commit()

    def ask() -> int:
        with factory() as s:
            claim, adjuster = s.get(Claim, claim_id), s.get(Adjuster, adjuster_id)
            assert claim is not None and adjuster is not None
            request, _ = supplements.request_supplement(
                s, claims, adjuster, claim, ["INVOICE"], "请补充发票"
            )
            s.commit()
            return request.id

    # forty asks at the same moment (adjusters, double clicks): one request, the rest conflict
    asked = run_together(40, lambda _: ask())
    assert sum(isinstance(r, int) for r in asked) == 1
    assert sum(isinstance(r, WrongClaimState) for r in asked) == 39
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(SupplementRequest)) == 1
        # the seed's SMS and e-mail, once
        keys = list(s.scalars(select(Notification.dedupe_key)))
        assert len([k for k in keys if k.startswith("supplement:")]) == 2
        claim = s.get(Claim, claim_id)
        assert claim is not None
        attach(s, claims, claim, "INVOICE")
        s.commit()

    def answer() -> int:
        with factory() as s:
            claim = s.get(Claim, claim_id)
            assert claim is not None
            request = supplements.fulfil(
                s,
                claims,
                claim,
                remark="已补",
                channel=Channel.H5,
                actor=Actor.CLAIMANT,
                actor_id=None,
            )
            s.commit()
            return request.id

    # the claimant submits forty times at once: one answer, the same result for all
    answered = run_together(40, lambda _: answer())
    assert len(set(answered)) == 1 and isinstance(answered[0], int), answered
    with factory() as s:
        kinds = list(s.scalars(select(ClaimEvent.kind).where(ClaimEvent.claim_id == claim_id)))
        assert kinds.count("SUPPLEMENT_RECEIVED") == 1
        # the seed's two supplement messages, the adjuster's arrival e-mail, once each
        keys = list(s.scalars(select(Notification.dedupe_key)))
        assert len([k for k in keys if k.startswith("supplement:")]) == 3
        # and the claimant's receipt once (SMS and e-mail)
        assert len([k for k in keys if k.startswith("claim.supplement_received:")]) == 2
        claim = s.get(Claim, claim_id)
        assert claim is not None and claim.status is ClaimStatus.UNDER_REVIEW
