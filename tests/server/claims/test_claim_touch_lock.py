"""The upload's record step locks the claim by writing its time (UPDATE ... RETURNING) and
reads the bytes its documents hold in the same statement: the same figures as a read."""

from __future__ import annotations

import datetime
from typing import Any

from sqlalchemy.orm import Session

from server.claims import core
from server.claims.core import ClaimContext
from tests.db import statements
from tests.server.claims.drafts_helpers import (
    MAIN,
    STAFF,
    account_of,
    add_document,
    policy_id,
    ready_draft,
)


def test_touching_a_claim_returns_it_with_the_bytes_of_its_documents(
    db_session: Session, db_connection: Any, claims: ClaimContext, demo: Any
) -> None:
    # given two drafts with documents, one of the first's removed
    main = account_of(db_session, claims, MAIN)
    staff = account_of(db_session, claims, STAFF)
    claim = ready_draft(db_session, claims, main, policy_id(demo, "main"))
    other = ready_draft(db_session, claims, staff, policy_id(demo, "staff"), claim_type="INPATIENT")
    add_document(db_session, claims, other, "INVOICE")
    gone = add_document(db_session, claims, claim, "INVOICE")
    gone.removed_at = claims.now()
    db_session.flush()
    active = sum(d.size for d in claim.documents if d.removed_at is None)
    assert active > 0 and gone.size > 0
    read = core.claim_with_used_bytes(db_session, claim.id)
    assert read is not None and read[1] == active

    # when the record step touches it
    at = claims.now() + datetime.timedelta(minutes=5)
    with statements(db_connection) as seen:
        found = core.claim_with_used_bytes(db_session, claim.id, touch=at)

    # then the time was written and the claim (the session's object) given with the bytes
    # of its documents not removed, and of no other claim's: in one statement on SQLite
    # (one writer); on PostgreSQL the bytes are summed by a second statement once the row
    # is locked (a statement's sum is of the moment it began, before any lock wait)
    assert found is not None
    assert found[0] is claim and found[1] == active
    assert claim.updated_at == at
    sql = [s for s in seen if "SAVEPOINT" not in s.upper()]
    words = [s.lstrip().split()[0].upper() for s in sql]
    postgres = db_connection.dialect.name == "postgresql"
    assert words == (["UPDATE", "SELECT"] if postgres else ["UPDATE"]), sql
    assert ("sum(" in sql[-1].lower()) and ("sum(" in sql[0].lower()) != postgres, sql
    assert core.claim_with_used_bytes(db_session, 10**6, touch=at) is None
