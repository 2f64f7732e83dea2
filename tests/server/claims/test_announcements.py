"""The claimant hears of every change of a claim: SMS, e-mail and the message centre, in their language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.claims import announcements, review, supplements
from server.claims.announcements import Event, Facts, render
from server.claims.core import ClaimContext
from server.claims.models import Actor, Channel, ClaimStatus
from server.claims.review import Deduction
from server.messages import service as messages
from server.messages.models import MemberMessage
from server.notify.outbox import Notification
from tests.server.claims.review_helpers import account_for, attach, make_adjuster, make_claim

FACTS = Facts(
    name="王芳",
    claim_no="VSHH26030200001",
    approved="1,180.00",
    paid="1,180.00",
    deductions="扣除：\n  100.00 元 自费药品\n",
    reason="发票不符合报销要求",
    deadline="2026年3月4日",
)

# what an English member's facts look like (their deductions are listed in English)
FACTS_EN = Facts(
    name="王芳",
    claim_no="VSHH26030200001",
    approved="1,180.00",
    paid="1,180.00",
    deductions="Deducted:\n  CNY 100.00 medicine outside the plan\n",
    reason="Not covered by the plan",
    deadline="4 March 2026",
)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("event", list(Event))
def test_every_text_exists_in_both_languages_and_renders_whole(event: Event, lang: str) -> None:
    facts = FACTS if lang == "zh" else FACTS_EN
    text = render(event, lang, facts)
    assert text.title and text.message
    for part in (text.title, text.message, text.sms, text.email_subject, text.email_body):
        assert "{" not in part and "}" not in part  # every placeholder filled
    # the in-app message names no person; the SMS and e-mail greet them
    assert "王芳" not in text.message
    if text.sms:
        assert "王芳" in text.sms and facts.claim_no in text.sms
        assert ("1010-8686" if lang == "en" else "10108686") in text.sms
    if lang == "en":
        # no Chinese punctuation or words on an English text, the name aside
        for part in (text.title, text.message, text.sms, text.email_body):
            assert not re.search(r"[\u3000-\u303f\uff00-\uffef]", part)


def test_the_settlement_text_gives_the_amounts_and_when_payment_follows() -> None:
    zh = render(Event.SETTLED, "zh", FACTS)
    assert "核定金额1,180.00元" in zh.sms and "2-3个工作日" in zh.sms
    assert "自费药品" in zh.email_body
    en = render(Event.SETTLED, "en", FACTS)
    assert "approved CNY 1,180.00" in en.sms and "2-3 working days" in en.sms
    rejected = render(Event.REJECTED, "en", FACTS)
    assert "Reason: 发票不符合报销要求" in rejected.message


def test_a_long_rejection_reason_is_cut_in_the_sms_only() -> None:
    long = Facts(name="王芳", claim_no="VSHH26030200001", reason="原因" * 100)
    text = render(Event.REJECTED, "zh", long)
    assert "原因" * 100 not in text.sms and "…" in text.sms
    assert "原因" * 100 in text.email_body and "原因" * 100 in text.message


def _by_key(db: Session) -> dict[str, Notification]:
    return {n.dedupe_key: n for n in db.scalars(select(Notification))}


def test_settling_writes_sms_email_and_message_once(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    # when the adjuster settles with a deduction
    review.settle(
        db_session,
        claims,
        adjuster,
        claim,
        approved_fen=1100_00,
        paid_fen=1100_00,
        deductions=[Deduction(amount_fen=100_00, reason="自费药品不在保障范围")],
    )
    # then the claimant's SMS and e-mail are queued in Chinese with the amounts
    queued = _by_key(db_session)
    sms = claims.vault.decrypt(queued[f"claim.settled:{claim.id}:decision:sms"].body_enc)
    assert "已结案" in sms and "1,100.00" in sms
    mail = claims.vault.decrypt(queued[f"claim.settled:{claim.id}:decision:email"].body_enc)
    assert "自费药品不在保障范围" in mail
    # and the message centre has it, unread
    account = account_for(db_session, demo)
    page = messages.page(db_session, account.id, offset=0, limit=10)
    assert [m.kind for m in page.items] == ["claim.settled"]
    assert page.unread == 1 and "1,100.00" in page.items[0].body
    # the same announcement again (a retried request) adds nothing
    announcements.announce(db_session, claims, claim, Event.SETTLED, claims.now(), key="decision")
    assert len(_by_key(db_session)) == len(queued)
    assert messages.unread_count(db_session, account.id) == 1


def test_the_message_and_its_sms_and_e_mail_are_one_statement_on_postgresql(
    db_session: Session, db_connection: Any, claims: ClaimContext, demo: Any
) -> None:
    from tests.db import statements, writes

    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("a data-modifying CTE: PostgreSQL's")
    # given a sent claim whose claimant has an e-mail address on file
    claim = make_claim(db_session, claims, demo)
    db_session.flush()
    # when it is withdrawn and told, twice (a retried request)
    for _ in range(2):
        with statements(db_connection) as seen:
            announcements.announce(
                db_session, claims, claim, Event.WITHDRAWN, claims.now(), key="once"
            )
        # then the in-app message, the SMS and the e-mail went out in one statement
        assert len(writes(seen)) + len([s for s in seen if s.startswith("WITH")]) == 1
    queued = _by_key(db_session)
    assert {f"claim.withdrawn:{claim.id}:once:{c}" for c in ("sms", "email")} <= set(queued)
    account = account_for(db_session, demo)
    kinds = [m.kind for m in messages.page(db_session, account.id, offset=0, limit=10).items]
    assert kinds.count("claim.withdrawn") == 1


def test_an_english_speaking_member_gets_english_texts_and_an_english_link(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    account = account_for(db_session, demo)
    account.preferred_language = "en"
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    # when documents are asked for, then sent, then the claim is rejected
    request, token = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE"], "请补充发票"
    )
    attach(db_session, claims, claim, "INVOICE")
    supplements.fulfil(
        db_session,
        claims,
        claim,
        remark="",
        channel=Channel.H5,
        actor=Actor.CLAIMANT,
        actor_id=None,
    )
    review.reject(db_session, claims, adjuster, claim, reason="Not covered by the plan")
    queued = _by_key(db_session)
    ask = claims.vault.decrypt(queued[f"supplement:{request.id}:sms"].body_enc)
    assert ask.startswith("[CPIC] Dear ") and f"/h5/supplement/{token}?lang=en" in ask
    ask_mail = queued[f"supplement:{request.id}:email"]
    assert ask_mail.subject == f"[CPIC] Documents needed for claim {claim.claim_no}"
    got = claims.vault.decrypt(
        queued[f"claim.supplement_received:{claim.id}:{request.id}:sms"].body_enc
    )
    assert "we have the documents" in got
    no = claims.vault.decrypt(queued[f"claim.rejected:{claim.id}:decision:sms"].body_enc)
    assert "cannot be paid. Reason: Not covered by the plan" in no
    rows = db_session.scalars(
        select(MemberMessage)
        .where(MemberMessage.account_id == account.id)
        .order_by(MemberMessage.id)
    ).all()
    assert [(m.kind, m.language) for m in rows] == [
        ("claim.supplement_requested", "en"),
        ("claim.supplement_received", "en"),
        ("claim.rejected", "en"),
    ]
    assert claim.status is ClaimStatus.REJECTED
