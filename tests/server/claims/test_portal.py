"""The supplement portal's service: the signed-in claim of a session, what it takes."""

from __future__ import annotations

import datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.claims import portal
from server.claims.core import ClaimContext
from server.claims.errors import ClaimRuleBroken
from server.claims.models import Claim, SupplementRequest
from server.claims.portal import sessions
from tests.db import FakeClock
from tests.h5.supplement_helpers import Pending, insured_member, request_documents


@pytest.fixture
def waiting(db_factory: sessionmaker[Session], claims: ClaimContext) -> Pending:
    """A claim whose adjuster asked for a medical record and an invoice."""
    with db_factory() as db:
        member = insured_member(db, claims.vault, claims.now().date())
        db.commit()
    return request_documents(db_factory, claims, member)


def _open(db: Session, cx: ClaimContext, pending: Pending) -> str:
    claim = db.get(Claim, pending.claim_id)
    supplement = db.get(SupplementRequest, pending.supplement_id)
    assert claim is not None and supplement is not None
    return sessions.open_session(
        db, cx.sessions, claim=claim, supplement=supplement, replacing=None
    )


def test_a_session_opens_its_own_claim_only(
    db_factory: sessionmaker[Session], claims: ClaimContext, waiting: Pending
) -> None:
    with db_factory() as db:
        token = _open(db, claims, waiting)
        signed = portal.signed_in(db, claims, token)
        assert signed is not None
        assert (signed.claim.id, signed.supplement.id) == (waiting.claim_id, waiting.supplement_id)
        assert portal.not_open_reason(claims, signed) is None
        assert portal.signed_in(db, claims, token + "x") is None
        assert portal.signed_in(db, claims, None) is None
        sessions.close(db, claims.sessions, token)
        assert portal.signed_in(db, claims, token) is None


def test_an_idle_session_ends_and_a_passed_deadline_closes_the_page(
    db_factory: sessionmaker[Session], claims: ClaimContext, clock: FakeClock, waiting: Pending
) -> None:
    with db_factory() as db:
        token = _open(db, claims, waiting)
        signed = portal.signed_in(db, claims, token)
        assert signed is not None
        clock.advance(seconds=claims.sessions.lifetime.idle.total_seconds())
        assert portal.signed_in(db, claims, token) is None
        signed.supplement.expires_at = claims.now() - datetime.timedelta(seconds=1)
        assert portal.not_open_reason(claims, signed) == "EXPIRED"


def test_files_go_only_to_a_requested_category(
    db_factory: sessionmaker[Session], claims: ClaimContext, waiting: Pending
) -> None:
    with db_factory() as db:
        signed = portal.signed_in(db, claims, _open(db, claims, waiting))
        assert signed is not None
        target = portal.upload_target(db, claims, signed, "INVOICE")
        assert (target.claim_id, target.supplement_id, target.used_bytes) == (
            waiting.claim_id,
            waiting.supplement_id,
            0,
        )
        with pytest.raises(ClaimRuleBroken) as refused:
            portal.upload_target(db, claims, signed, "DIAGNOSIS")
        assert refused.value.code == "CATEGORY_NOT_ALLOWED"
