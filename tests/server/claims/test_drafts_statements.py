"""The statements the draft steps send: the reads they share and the writes they combine."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.claims import drafts
from server.claims.core import ClaimContext
from server.claims.models import Claim, ClaimEvent, ClaimInvoice, ContactProfile, PayeeAccount
from tests.db import statements, writes
from tests.server.claims.drafts_helpers import (
    ACCOUNT_NO,
    MAIN,
    account_of,
    basics,
    contact,
    policy_id,
)


def _new_request(db: Session) -> None:
    """What a new request starts from: nothing loaded, nothing remembered."""
    db.commit()
    db.expunge_all()
    db.info.clear()


def _words(seen: list[str]) -> list[str]:
    return [s.lstrip().split()[0].upper() for s in seen if "SAVEPOINT" not in s.upper()]


def test_contact_details_are_saved_in_one_upsert(
    db_session: Session, db_connection: Any, claims: ClaimContext, demo: Any
) -> None:
    # given a member without contact details
    main = account_of(db_session, claims, MAIN)
    _new_request(db_session)
    main = account_of(db_session, claims, MAIN)

    # when they save them: one statement
    with statements(db_connection) as seen:
        drafts.save_contact(db_session, claims, main, address="上海市浦东新区", email="a@b.cn")
    assert _words(seen) == ["INSERT"], seen

    # given region codes from a change of contact details, in another request
    row = db_session.scalar(select(ContactProfile).where(ContactProfile.account_id == main.id))
    assert row is not None
    row.province_code, row.city_code, row.district_code = "310000", "310100", "310115"
    _new_request(db_session)
    main = account_of(db_session, claims, MAIN)

    # when they save them again: one statement changes the one profile
    with statements(db_connection) as seen:
        view = drafts.save_contact(db_session, claims, main, address="天津市南开区", email="c@d.cn")
    assert _words(seen) == ["INSERT"], seen
    assert view.email_masked == "c***@d.cn"
    rows = list(
        db_session.scalars(select(ContactProfile).where(ContactProfile.account_id == main.id))
    )
    assert len(rows) == 1
    # and the free-text address no longer carries the old region codes
    assert (rows[0].province_code, rows[0].city_code, rows[0].district_code) == (None,) * 3
    assert claims.vault.decrypt(rows[0].address_enc) == "天津市南开区"
    # the session's remembered profile is the row as saved
    assert drafts.contact_of(db_session, main.id) is rows[0]


def test_a_draft_starts_with_one_read_and_its_writes(
    db_session: Session, db_connection: Any, claims: ClaimContext, demo: Any
) -> None:
    # given a member with contact details, in a new request
    main = account_of(db_session, claims, MAIN)
    contact(db_session, claims, main)
    _new_request(db_session)
    main = account_of(db_session, claims, MAIN)

    # when they start a draft
    with statements(db_connection) as seen:
        claim = drafts.start_draft(
            db_session, claims, main, policy_id=policy_id(demo, "main"), notice_accepted=True
        )

    # then the policy and the contact details come in one read; on PostgreSQL the claim
    # and its first event are written in one statement
    words = _words(seen)
    if db_connection.dialect.name == "postgresql":
        assert words == ["SELECT", "WITH"], seen
        assert "INSERT INTO claim_event" in seen[-1], seen[-1]
    else:
        assert words == ["SELECT", "INSERT", "INSERT"], seen
    assert "contact_profile" in seen[0] and "policy" in seen[0]
    # the claim is the session's object for its row, with what was written
    assert db_session.get(Claim, claim.id) is claim
    assert claim.account_id == main.id and claim.notice_accepted_at == claims.now()
    assert claim.duplicate_suspected is False and claim.claim_no is None  # column defaults
    events = db_session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id))
    assert [(e.kind, e.actor_id, e.channel, e.note) for e in events] == [
        ("CREATED", main.id, claim.channel, "")
    ]


def test_the_amount_step_reads_in_one_statement(
    db_session: Session, db_connection: Any, claims: ClaimContext, demo: Any
) -> None:
    # given a draft with its basic information, in a new request
    main = account_of(db_session, claims, MAIN)
    contact(db_session, claims, main)
    claim = drafts.start_draft(
        db_session, claims, main, policy_id=policy_id(demo, "main"), notice_accepted=True
    )
    basics(db_session, claims, main, claim)
    claim_id = claim.id
    _new_request(db_session)
    main = account_of(db_session, claims, MAIN)

    # when the amount, an invoice number and a new payee account are entered
    with statements(db_connection) as seen:
        claim = drafts.update_amount(
            db_session,
            claims,
            main,
            claim_id,
            invoice_total=Decimal("500.00"),
            invoice_numbers=["12345678"],
            payee_bank="中国建设银行",
            payee_account_no=ACCOUNT_NO,
        )

    # then one read (the claim, its invoices, the limit override, the payee on file),
    # then the writes: on PostgreSQL in one statement
    reads = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, reads
    for table in ("claim_invoice", "claim_limit_override", "payee_account"):
        assert table in reads[0], table
    if db_connection.dialect.name == "postgresql":
        assert _words(seen) == ["SELECT", "WITH"], seen
        for write in ("INSERT INTO payee_account", "UPDATE claim", "INSERT INTO claim_invoice"):
            assert write in seen[-1], write
    else:
        assert len(writes(seen)) == 3, writes(seen)
    # and the session's objects are as the database has them
    assert claim.invoice_total_fen == 50000 and claim.updated_at == claims.now()
    payee = db_session.scalar(select(PayeeAccount).where(PayeeAccount.account_id == main.id))
    assert payee is not None and claim.payee is payee and claim.payee_id == payee.id
    assert claims.vault.decrypt(payee.account_no_enc) == ACCOUNT_NO.replace(" ", "")
    invoices = list(
        db_session.scalars(select(ClaimInvoice).where(ClaimInvoice.claim_id == claim_id))
    )
    assert [i.invoice_no for i in invoices] == ["12345678"] and claim.invoices == invoices
    db_session.expire_all()
    assert db_session.get(Claim, claim_id).invoice_total_fen == 50000  # type: ignore[union-attr]

    # and entering the same account again, in a new request, adds no payee
    _new_request(db_session)
    main = account_of(db_session, claims, MAIN)
    with statements(db_connection) as seen:
        drafts.update_amount(
            db_session,
            claims,
            main,
            claim_id,
            invoice_total=Decimal("600.00"),
            invoice_numbers=["12345678"],
            payee_bank="中国建设银行",
            payee_account_no=ACCOUNT_NO,
        )
    assert [s.split()[0].upper() + " " + s.split()[1] for s in writes(seen)] == ["UPDATE claim"]
    assert len(list(db_session.scalars(select(PayeeAccount)))) == 1
