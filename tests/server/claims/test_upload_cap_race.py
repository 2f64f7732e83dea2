"""Two uploads to one claim at the same moment on PostgreSQL: the second, which waited for
the first's row lock, must count the first's bytes against the per-claim cap."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.claims import core
from server.claims.core import ClaimContext
from server.claims.models import Channel
from server.storage.errors import QuotaExceeded
from server.storage.uploads import StoredUpload, check_quota, store_upload
from tests.server.claims.drafts_helpers import MAIN, account_of, image, ready_draft

pytestmark = pytest.mark.postgres


def _attach(db: Session, cx: ClaimContext, claim: Any, stored: StoredUpload, cap: int) -> list[Any]:
    return core.attach_to_draft(
        db,
        claim.id,
        account_id=claim.account_id,
        plan_rules=claim.plan_rules,
        claim_type=claim.claim_type,
        category="INVOICE",
        stored=[stored],
        cap=cap,
        channel=Channel.APP,
        now=cx.now(),
    )


def test_an_upload_that_waited_for_the_lock_counts_the_bytes_recorded_meanwhile(
    pg_committed: tuple[sessionmaker[Session], Any], claims: ClaimContext
) -> None:
    # given a draft with room for one more photo, not two
    factory, demo = pg_committed
    with factory() as s:
        account = account_of(s, claims, MAIN)
        claim = ready_draft(s, claims, account, demo.policy_ids["main"], documents=False)
        s.commit()
        used = core.used_bytes(s, claim)
    first = store_upload(claims.storage, image(1, (64, 48)))
    second = store_upload(claims.storage, image(2, (64, 48)))
    cap = used + first.size + second.size - 1
    # when the first upload holds the row's lock and the second arrives meanwhile
    a, b = factory(), factory()
    try:
        claim_a, claim_b = a.get(type(claim), claim.id), b.get(type(claim), claim.id)
        assert len(_attach(a, claims, claim_a, first, cap)) == 1
        seen: dict[str, Any] = {}
        waiting = threading.Thread(
            target=lambda: seen.setdefault("docs", _attach(b, claims, claim_b, second, cap))
        )
        waiting.start()
        time.sleep(0.5)  # the second statement is waiting for the first's lock
        a.commit()
        waiting.join(timeout=30)
        # then the second records nothing on its snapshot's sum...
        assert seen["docs"] == []
        # ...and, the row locked and its bytes summed afresh, is refused by the cap
        found = core.claim_with_used_bytes(b, claim.id, touch=claims.now())
        assert found is not None
        fresh = found[1]
        assert fresh == used + first.size
        with pytest.raises(QuotaExceeded):
            check_quota(fresh, second.size, cap)
    finally:
        a.close()
        b.close()
