"""The documents machinery of service requests on its own: the asks it refuses, the
English member's SMS and e-mail, the deadline in working days and the link's end, the
kinds registered, what an answer needs."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import service_supplements as ss
from server.accounts.models import Account
from server.accounts.wiring import MemberServices
from server.billing import advance
from server.billing.models import AdvancePayment
from server.claims import preauth
from server.claims.adjusters import create_adjuster
from server.claims.core import ClaimContext
from server.claims.errors import SupplementLinkInvalid
from server.claims.models import Adjuster, ContactProfile
from server.errors import ValidationFailed
from server.notify.outbox import Notification
from server.service_supplements import kinds
from server.storage.uploads import store_upload
from tests.db import FakeClock
from tests.server.claims.drafts_helpers import image

MAIN = "13800000001"


def _account(db: Session, members: MemberServices) -> Account:
    account = db.scalar(
        select(Account).where(Account.phone_hash == members.vault.lookup(MAIN, kind="phone"))
    )
    assert account is not None and account.person is not None
    return account


def _advance(
    db: Session, members: MemberServices, demo: Any, now: datetime.datetime
) -> AdvancePayment:
    account = _account(db, members)
    assert account.person is not None
    row = AdvancePayment(
        account_id=account.id,
        policy_id=demo.policy_ids["main_high_end"],
        patient_id=account.person.id,
        hospital_name="某市立医院",
        admission_date=now.date(),
        description_enc=members.vault.encrypt("择期手术"),
        applicant_name_enc=account.person.name_enc,
        applicant_sex="M",
        applicant_id_number_enc=account.person.id_number_enc,
        applicant_mobile_enc=account.phone_enc,
        status="submitted",
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    db.flush()
    return row


def _coordinator(db: Session, members: MemberServices, clock: FakeClock) -> Adjuster:
    return create_adjuster(
        db,
        members.vault,
        username="chen.xietiao",
        name="陈协调",
        email="",
        password="Desk-2026!x",
        now=clock.now,
        role="coordinator",
    )


def _outbox(db: Session, members: MemberServices, key: str) -> str:
    row = db.scalar(select(Notification).where(Notification.dedupe_key == key))
    assert row is not None, key
    return members.vault.decrypt(row.body_enc)


def test_the_kinds_register_themselves() -> None:
    assert kinds.get("advance_payment") is advance.KIND
    assert kinds.get("pre_authorisation") is preauth.KIND
    assert kinds.get("claim") is None


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"categories": []}, "categories", "REQUIRED"),
        ({"categories": ["INVOICE"]}, "categories", "CATEGORY_NOT_ALLOWED"),
        ({"categories": ["OTHER"] * 1 + [f"X{i}" for i in range(11)]}, "categories", "TOO_MANY"),
        ({"instructions": "  "}, "instructions", "REQUIRED"),
        ({"instructions": "x" * 501}, "instructions", "TOO_LONG"),
        ({"working_days": 0}, "workingDays", "OUT_OF_RANGE"),
        ({"working_days": 11}, "workingDays", "OUT_OF_RANGE"),
    ],
)
def test_bad_asks_are_refused_with_field_codes(
    db_session: Session,
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    clock: FakeClock,
    change: dict[str, Any],
    field: str,
    code: str,
) -> None:
    row = _advance(db_session, members, demo, clock.now)
    who = _coordinator(db_session, members, clock)
    ask: dict[str, Any] = {
        "categories": ["MEDICAL_RECORD"],
        "instructions": "请补充病历。",
        "working_days": 2,
        **change,
    }
    with pytest.raises(ValidationFailed) as e:
        advance.ask_documents(db_session, claims, who, row.id, **ask)
    assert [(p.field, p.code) for p in e.value.problems] == [(field, code)]
    assert row.status == "submitted"


def test_an_english_member_is_asked_in_english_and_the_link_ends_with_the_deadline_day(
    db_session: Session,
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    clock: FakeClock,
) -> None:
    account = _account(db_session, members)
    account.preferred_language = "en"
    db_session.add(
        ContactProfile(
            account_id=account.id,
            address_enc=members.vault.encrypt("Shanghai"),
            email_enc=members.vault.encrypt("zw@example.com"),
            updated_at=clock.now,
        )
    )
    row = _advance(db_session, members, demo, clock.now)
    who = _coordinator(db_session, members, clock)
    # Monday 2 March 2026, 5 working days: Monday 9 March
    _, ask, token = advance.ask_documents(
        db_session,
        claims,
        who,
        row.id,
        categories=["COST_ESTIMATE", "ID_DOCUMENT"],
        instructions="Please send the cost estimate.",
        working_days=5,
    )
    assert ask.deadline == datetime.date(2026, 3, 9) and row.status == "documents_asked"
    sms = _outbox(db_session, members, f"service_supplement:{ask.id}:sms")
    assert sms.startswith("[CPIC] Dear ") and "inpatient advance payment request AP" in sms
    assert "The hospital's cost estimate; The insured person's ID document" in sms
    assert "by 9 March 2026" in sms and f"/h5/supplement/r/{token}?lang=en" in sms
    mail = _outbox(db_session, members, f"service_supplement:{ask.id}:email")
    assert "Please send the cost estimate." in mail and "5 working days" in mail
    # the link works to the end of the deadline day in China (16:00 UTC), not after
    kind, subject, found = ss.for_token(db_session, claims, token)
    assert (kind, subject, found) == (advance.KIND, row, ask)
    end = datetime.datetime(2026, 3, 9, 16, 0, tzinfo=datetime.UTC)
    clock.advance(seconds=(end - clock.now).total_seconds() - 1)
    ss.for_token(db_session, claims, token)
    clock.advance(seconds=1)
    with pytest.raises(SupplementLinkInvalid) as e:
        ss.for_token(db_session, claims, token)
    assert e.value.reason == "EXPIRED"


def test_an_answer_needs_a_file_per_category_and_is_given_once(
    db_session: Session,
    claims: ClaimContext,
    members: MemberServices,
    demo: Any,
    clock: FakeClock,
) -> None:
    row = _advance(db_session, members, demo, clock.now)
    who = _coordinator(db_session, members, clock)
    _, ask, token = advance.ask_documents(
        db_session,
        claims,
        who,
        row.id,
        categories=["MEDICAL_RECORD", "OTHER"],
        instructions="请补充病历。",
    )
    ss.attach(
        db_session, claims, ask.id, "OTHER", store_upload(claims.storage, image()), channel="app"
    )
    with pytest.raises(ss.SupplementDocumentsMissing) as e:
        ss.fulfil(db_session, claims, ask.id, remark="", channel="app")
    assert e.value.missing == ["MEDICAL_RECORD"]
    with pytest.raises(ValidationFailed):
        ss.attach(
            db_session,
            claims,
            ask.id,
            "INVOICE",
            store_upload(claims.storage, image()),
            channel="app",
        )
    doc = ss.attach(
        db_session,
        claims,
        ask.id,
        "MEDICAL_RECORD",
        store_upload(claims.storage, image()),
        channel="app",
    )
    first = ss.fulfil(db_session, claims, ask.id, remark="两页", channel="app")
    again = ss.fulfil(db_session, claims, ask.id, remark="again", channel="h5")
    assert first is again and again.remark == "两页" and again.fulfilled_via == "app"
    assert row.status == "submitted"
    assert [e.kind for e in row.events][-2:] == ["documents_asked", "documents_received"]
    assert ss.remove(db_session, claims, ask, doc.id) is None  # answered: nothing taken back
    with pytest.raises(SupplementLinkInvalid) as link:
        ss.for_token(db_session, claims, token)
    assert link.value.reason == "ANSWERED"
