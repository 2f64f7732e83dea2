"""A double click on PostgreSQL: two requests or two answers at once do one thing.

The data lives in a schema of its own, created and dropped here, so the committed rows
never meet the other tests (which run in rolled-back transactions).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
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
from server.db import make_engine, make_sessionmaker, migrate
from server.notify.outbox import Notification
from tests.db import FakeClock, _postgres
from tests.server.claims.review_helpers import attach, make_adjuster, make_claim

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(members: MemberServices, clock: FakeClock) -> Iterator[tuple[sessionmaker[Session], Any]]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("concurrent row locks are a PostgreSQL matter; SQLite has one writer")
    from server.policies.demo import load_demo

    for database in _postgres(url):
        engine = make_engine(database.url, schema=database.schema)
        try:
            migrate(engine)
            factory = make_sessionmaker(engine)
            with factory() as s:
                data = load_demo(s, members.vault, today=clock.now.date())
                s.commit()
            yield factory, data
        finally:
            engine.dispose()


def _together(n: int, work: Callable[[], Any]) -> list[Any]:
    """Run `work` in n threads started at once; each result or the exception raised."""
    results: list[Any] = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        start.wait()
        try:
            results[i] = work()
        except Exception as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return results


def test_concurrent_requests_and_answers_do_one_thing(
    pg: tuple[sessionmaker[Session], Any], claims: ClaimContext
) -> None:
    factory, demo = pg
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

    # two adjusters (or a double click) ask at the same moment: one request, one conflict
    asked = _together(4, ask)
    assert sum(isinstance(r, int) for r in asked) == 1
    assert sum(isinstance(r, WrongClaimState) for r in asked) == 3
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(SupplementRequest)) == 1
        assert s.scalar(select(func.count()).select_from(Notification)) == 2
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

    # the claimant submits twice at once: one answer, the same result for both
    answered = _together(4, answer)
    assert len(set(answered)) == 1 and isinstance(answered[0], int), answered
    with factory() as s:
        kinds = list(s.scalars(select(ClaimEvent.kind).where(ClaimEvent.claim_id == claim_id)))
        assert kinds.count("SUPPLEMENT_RECEIVED") == 1
        assert s.scalar(select(func.count()).select_from(Notification)) == 3
        claim = s.get(Claim, claim_id)
        assert claim is not None and claim.status is ClaimStatus.UNDER_REVIEW
