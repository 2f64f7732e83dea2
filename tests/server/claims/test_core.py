"""The shared claim machinery: numbers, the status machine, duplicate flags."""

from __future__ import annotations

import datetime
import re
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.claims import core
from server.claims.errors import WrongClaimState
from server.claims.models import (
    Actor,
    Claim,
    ClaimDuplicate,
    ClaimEvent,
    ClaimInvoice,
    ClaimNumberSequence,
    ClaimStatus,
)
from server.db import make_sessionmaker
from server.policies.models import Policy, Relation

NOW = datetime.datetime(2026, 3, 2, 17, 30, tzinfo=datetime.UTC)  # 3 March in China


def test_claim_numbers_follow_the_seeds_form_and_the_china_date(db_session: Session) -> None:
    first = core.next_claim_no(db_session, NOW)
    second = core.next_claim_no(db_session, NOW)
    assert re.fullmatch(r"VSHH260303\d{5}", first)
    assert int(second[-5:]) == int(first[-5:]) + 1
    other_day = core.next_claim_no(db_session, NOW + datetime.timedelta(days=1))
    assert other_day.startswith("VSHH260304")


@pytest.mark.postgres
def test_concurrent_numbering_on_postgresql_never_repeats(db_engine: Engine) -> None:
    if db_engine.dialect.name != "postgresql":
        pytest.skip("row locks under concurrency are a PostgreSQL matter; SQLite has one writer")
    factory = make_sessionmaker(db_engine)
    day = datetime.datetime(2031, 1, 2, 3, tzinfo=datetime.UTC)  # a day no other test uses
    numbers: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def work() -> None:
        start.wait()
        for _ in range(10):
            with factory() as s:
                n = core.next_claim_no(s, day)
                s.commit()
            with lock:
                numbers.append(n)

    threads = [threading.Thread(target=work) for _ in range(16)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(numbers) == 160
        assert len(set(numbers)) == 160
        assert sorted(int(n[-5:]) for n in numbers) == list(range(1, 161))
    finally:
        with factory() as s:
            s.execute(delete(ClaimNumberSequence).where(ClaimNumberSequence.day == "310102"))
            s.commit()


def _claim(db: Session, demo: Any, status: ClaimStatus = ClaimStatus.SUBMITTED) -> Claim:
    account = db.scalar(select(Account).where(Account.person_id == demo.people["main"].person_id))
    assert account is not None
    policy = db.get(Policy, demo.policy_ids["main"])
    assert policy is not None
    claim = Claim(
        account_id=account.id,
        applicant_id=policy.insured_id,
        policy_id=policy.id,
        insured_id=policy.insured_id,
        relation=Relation.SELF,
        plan_rules="DEFAULT",
        status=status,
        claim_no=core.next_claim_no(db, NOW) if status is not ClaimStatus.DRAFT else None,
    )
    db.add(claim)
    db.flush()
    return claim


def test_the_status_machine_records_every_change(db_session: Session, demo: Any) -> None:
    claim = _claim(db_session, demo)
    core.transition(
        db_session,
        claim,
        ClaimStatus.UNDER_REVIEW,
        "REVIEW_STARTED",
        actor=Actor.ADJUSTER,
        actor_id=1,
        now=NOW,
    )
    db_session.flush()
    event = db_session.scalar(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id))
    assert event is not None
    assert (event.status_from, event.status_to, event.kind) == (
        ClaimStatus.SUBMITTED,
        ClaimStatus.UNDER_REVIEW,
        "REVIEW_STARTED",
    )
    core.transition(
        db_session, claim, ClaimStatus.SETTLED, "SETTLED", actor=Actor.ADJUSTER, actor_id=1, now=NOW
    )
    with pytest.raises(WrongClaimState, match="settled cannot become"):
        core.transition(
            db_session,
            claim,
            ClaimStatus.UNDER_REVIEW,
            "X",
            actor=Actor.SYSTEM,
            actor_id=None,
            now=NOW,
        )
    assert claim.status is ClaimStatus.SETTLED


def test_the_same_invoice_number_in_another_sent_claim_is_flagged(
    db_session: Session, demo: Any
) -> None:
    earlier = _claim(db_session, demo)
    earlier.invoices.append(ClaimInvoice(invoice_no="INV-0001"))
    draft_elsewhere = _claim(db_session, demo, ClaimStatus.DRAFT)
    draft_elsewhere.invoices.append(ClaimInvoice(invoice_no="INV-0002"))
    claim = _claim(db_session, demo, ClaimStatus.DRAFT)
    claim.invoices.extend(
        [ClaimInvoice(invoice_no="INV-0001"), ClaimInvoice(invoice_no="INV-0002")]
    )
    db_session.flush()

    found = core.find_duplicates(db_session, claim, NOW)
    db_session.flush()
    # only the sent claim counts: another draft may never be sent
    assert [(d.other_claim_id, d.basis, d.detail) for d in found] == [
        (earlier.id, "INVOICE_NO", "INV-0001")
    ]
    assert claim.duplicate_suspected
    core.find_duplicates(db_session, claim, NOW)  # checking again adds no second flag
    db_session.flush()
    flags = db_session.scalars(select(ClaimDuplicate).where(ClaimDuplicate.claim_id == claim.id))
    assert len(list(flags)) == 1
    assert core.duplicates_of(db_session, claim)[0][1] == earlier.claim_no
