"""The supplement lifecycle: request with SMS and e-mail, the link, the answer."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.claims import review, supplements
from server.claims.core import ClaimContext
from server.claims.errors import ClaimRuleBroken, SupplementLinkInvalid, WrongClaimState
from server.claims.models import (
    Actor,
    Channel,
    Claim,
    ClaimEvent,
    ClaimStatus,
    SupplementRequest,
)
from server.crypto import token_hash
from server.errors import ValidationFailed
from server.notify.email import SmtpEmailSender
from server.notify.outbox import Channel as NotifyChannel
from server.notify.outbox import Notification, Status
from server.notify.worker import deliver_due
from tests.db import FakeClock
from tests.server.claims.review_helpers import attach, make_adjuster, make_claim
from tests.server.notify.conftest import Mailbox, SmtpServer, free_port

S = ClaimStatus
# Wednesday 30 September 2026, 10:00 in China: National Day holidays run 1 to 7 October
BEFORE_NATIONAL_DAY = datetime.datetime(2026, 9, 30, 2, 0, tzinfo=datetime.UTC)


class RecordingSms:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, db: Session, phone: str, text: str) -> None:
        self.sent.append((phone, text))


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free loopback port."""
    server = SmtpServer("127.0.0.1", free_port(), Mailbox())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _notifications(db: Session) -> dict[str, Notification]:
    return {n.dedupe_key: n for n in db.scalars(select(Notification))}


def _fulfil(db: Session, cx: ClaimContext, claim: Claim, remark: str = "") -> SupplementRequest:
    return supplements.fulfil(
        db, cx, claim, remark=remark, channel=Channel.H5, actor=Actor.CLAIMANT, actor_id=None
    )


# --- the request -----------------------------------------------------------------------------


def test_a_request_waits_for_documents_and_queues_the_sms_and_e_mail(
    db_session: Session, claims: ClaimContext, demo: Any, clock: FakeClock
) -> None:
    # given a claim sent the day before the National Day holidays
    clock.now = BEFORE_NATIONAL_DAY
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    # when the adjuster asks for the invoice and the records
    request, token = supplements.request_supplement(
        db_session,
        claims,
        adjuster,
        claim,
        ["INVOICE", "MEDICAL_RECORD", "INVOICE"],
        "  请补充有效报销凭证及病历  ",
    )
    # then the claim waits for them, on the timeline with the instructions
    assert claim.status is S.PENDING_SUPPLEMENT
    event = db_session.scalars(select(ClaimEvent).where(ClaimEvent.claim_id == claim.id)).one()
    assert (event.kind, event.note, event.actor_id) == (
        "SUPPLEMENT_REQUESTED",
        "请补充有效报销凭证及病历",
        adjuster.id,
    )
    # and the deadline is 2 working days later on the mainland calendar: after the holidays
    assert request.deadline == datetime.date(2026, 10, 9)
    assert json.loads(request.categories) == ["INVOICE", "MEDICAL_RECORD"]
    # and the link's token is random and kept only as a hash, until the end of that day
    assert len(token) >= 43 and request.token_hash == token_hash(token)
    assert request.expires_at == datetime.datetime(2026, 10, 9, 16, 0, tzinfo=datetime.UTC)
    # and an SMS to the applicant and an e-mail to the contact address are queued
    rows = _notifications(db_session)
    sms, mail = rows[f"supplement:{request.id}:sms"], rows[f"supplement:{request.id}:email"]
    assert set(rows) == {f"supplement:{request.id}:sms", f"supplement:{request.id}:email"}
    assert (sms.channel, mail.channel) == (NotifyChannel.SMS, NotifyChannel.EMAIL)
    assert claims.vault.decrypt(sms.recipient_enc) == "13800000001"
    assert claims.vault.decrypt(mail.recipient_enc) == "zhang.wei@example.com"
    text = claims.vault.decrypt(sms.body_enc)
    link = f"{claims.settings.base_url}/h5/supplement/{token}"
    assert link in text
    assert "尊敬的张伟" in text and str(claim.claim_no) in text
    assert "截至2026年10月9日" in text and "请补充有效报销凭证及病历" in text
    body = claims.vault.decrypt(mail.body_enc)
    assert link in body and "门急诊" in body and str(claim.claim_no) in mail.subject
    # nothing personal is readable in the outbox rows
    assert "13800000001" not in sms.recipient_enc and "张伟" not in sms.body_enc


def test_the_messages_commit_with_the_request_or_not_at_all(
    db_factory: sessionmaker[Session], claims: ClaimContext, demo: Any
) -> None:
    with db_factory() as s:
        adjuster = make_adjuster(s, claims)
        claim = make_claim(s, claims, demo)
        s.commit()
        claim_id = claim.id
        supplements.request_supplement(s, claims, adjuster, claim, ["INVOICE"], "补发票")
        s.rollback()
    with db_factory() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 0
        again = s.get(Claim, claim_id)
        assert again is not None and again.status is S.SUBMITTED


def test_no_e_mail_without_a_contact_address(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo, email=None)
    request, _ = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE"], "补发票"
    )
    assert set(_notifications(db_session)) == {f"supplement:{request.id}:sms"}


def test_the_worker_delivers_the_e_mail_over_smtp_with_a_working_link(
    db_factory: sessionmaker[Session],
    claims: ClaimContext,
    demo: Any,
    clock: FakeClock,
    smtp: SmtpServer,
) -> None:
    # given a request committed with its messages
    clock.now = BEFORE_NATIONAL_DAY
    with db_factory() as s:
        adjuster = make_adjuster(s, claims)
        claim = make_claim(s, claims, demo)
        _, token = supplements.request_supplement(
            s, claims, adjuster, claim, ["INVOICE"], "请补充有效报销凭证及病历"
        )
        s.commit()
    # when the notification worker runs
    sms = RecordingSms()
    mailer = SmtpEmailSender(smtp.host, smtp.port, "理赔服务 <claims@insurer.example>", timeout=5)
    report = deliver_due(db_factory, sms, mailer, clock.now, vault=claims.vault)
    # then the SMS went to the applicant and the mail server received the e-mail
    assert len(report.sent) == 2 and not report.failed
    [(phone, text)] = sms.sent
    link = f"{claims.settings.base_url}/h5/supplement/{token}"
    assert phone == "13800000001" and link in text
    [(rcpt, msg)] = smtp.mailbox.messages
    assert rcpt == ["zhang.wei@example.com"]
    assert "理赔补充材料通知" in msg["Subject"]
    body = msg.get_content()
    assert link in body and "2026年10月9日" in body and "尊敬的张伟" in body
    # and the link's token leads back to the claim
    with db_factory() as s:
        found, request = supplements.claim_for_token(s, claims, token)
        assert found.id == claim.id and request.claim_id == claim.id
        assert {n.status for n in s.scalars(select(Notification))} == {Status.SENT}


def test_a_second_request_while_pending_is_a_state_conflict(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    supplements.request_supplement(db_session, claims, adjuster, claim, ["INVOICE"], "补发票")
    with pytest.raises(WrongClaimState) as e:
        supplements.request_supplement(db_session, claims, adjuster, claim, ["INVOICE"], "再补")
    assert e.value.code == "CLAIM_STATE_CONFLICT"
    assert db_session.scalar(select(func.count()).select_from(SupplementRequest)) == 1
    assert db_session.scalar(select(func.count()).select_from(Notification)) == 2


@pytest.mark.parametrize("status", [S.SETTLED, S.REJECTED, S.WITHDRAWN, S.DRAFT])
def test_decided_claims_and_drafts_get_no_request(
    db_session: Session, claims: ClaimContext, demo: Any, status: ClaimStatus
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo, status=status)
    with pytest.raises(WrongClaimState):
        supplements.request_supplement(db_session, claims, adjuster, claim, ["INVOICE"], "补")


@pytest.mark.parametrize(
    ("categories", "instructions", "field", "code"),
    [
        ([], "补发票", "categories", "REQUIRED"),
        ([" "], "补发票", "categories", "REQUIRED"),
        (["INVOICE"], "   ", "instructions", "REQUIRED"),
        (["INVOICE"], "补" * 501, "instructions", "TOO_LONG"),
        (["DISCHARGE_SUMMARY"], "补出院小结", "categories", "CATEGORY_NOT_ALLOWED"),
        (["NOPE"], "补", "categories", "CATEGORY_NOT_ALLOWED"),
    ],
)
def test_a_request_needs_allowed_categories_and_instructions(
    db_session: Session,
    claims: ClaimContext,
    demo: Any,
    categories: list[str],
    instructions: str,
    field: str,
    code: str,
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)  # outpatient: no discharge summary
    with pytest.raises((ValidationFailed, ClaimRuleBroken)) as e:
        supplements.request_supplement(
            db_session, claims, adjuster, claim, categories, instructions
        )
    got = e.value.problems[0].code if isinstance(e.value, ValidationFailed) else e.value.code
    assert (e.value.field, got) == (field, code)
    assert claim.status is S.SUBMITTED
    assert db_session.scalar(select(func.count()).select_from(Notification)) == 0


def test_exactly_500_characters_of_instructions_are_fine(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    request, _ = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE"], "补" * 500
    )
    assert len(request.instructions) == 500


# --- the link and the claim number -----------------------------------------------------------


def test_the_link_works_until_the_end_of_the_deadline_day_in_china(
    db_session: Session, claims: ClaimContext, demo: Any, clock: FakeClock
) -> None:
    clock.now = BEFORE_NATIONAL_DAY
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    _, token = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE"], "补发票"
    )
    # 23:59:59 on 9 October in China: still open
    clock.now = datetime.datetime(2026, 10, 9, 15, 59, 59, tzinfo=datetime.UTC)
    assert supplements.claim_for_token(db_session, claims, token)[0].id == claim.id
    assert supplements.claim_for_number(db_session, claims, str(claim.claim_no)) is not None
    # midnight: expired, and the claim number no longer finds it either
    clock.advance(seconds=1)
    with pytest.raises(SupplementLinkInvalid) as e:
        supplements.claim_for_token(db_session, claims, token)
    assert (e.value.code, e.value.reason) == ("SUPPLEMENT_LINK_INVALID", "EXPIRED")
    assert supplements.claim_for_number(db_session, claims, str(claim.claim_no)) is None


@pytest.mark.parametrize(
    "token",
    ["", "short", "x" * 43, "../../etc/passwd", "A" * 500, "有效令牌有效令牌有效令牌有效令牌"],
)
def test_unknown_and_malformed_tokens_are_unknown(
    db_session: Session, claims: ClaimContext, token: str
) -> None:
    with pytest.raises(SupplementLinkInvalid) as e:
        supplements.claim_for_token(db_session, claims, token)
    assert e.value.reason == "UNKNOWN"


def test_an_answered_link_says_so(db_session: Session, claims: ClaimContext, demo: Any) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    _, token = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE"], "补发票"
    )
    attach(db_session, claims, claim, "INVOICE")
    _fulfil(db_session, claims, claim)
    with pytest.raises(SupplementLinkInvalid) as e:
        supplements.claim_for_token(db_session, claims, token)
    assert e.value.reason == "ANSWERED"


def test_the_claim_number_finds_a_claim_waiting_for_documents_only(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    waiting = make_claim(db_session, claims, demo)
    other = make_claim(db_session, claims, demo)
    request, _ = supplements.request_supplement(
        db_session, claims, adjuster, waiting, ["INVOICE"], "补发票"
    )
    number = str(waiting.claim_no)
    spaced = " ".join([number[:4].lower(), number[4:]])
    assert supplements.claim_for_number(db_session, claims, spaced) == (waiting, request)
    assert supplements.claim_for_number(db_session, claims, str(other.claim_no)) is None
    for bad in ("", "VSHH", "VSHH99999999999", "' OR 1=1 --", "x" * 1000):
        assert supplements.claim_for_number(db_session, claims, bad) is None


# --- the answer ------------------------------------------------------------------------------


def test_fulfil_needs_a_new_file_in_every_requested_category(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)  # already has an invoice and a record
    supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE", "OTHER"], "补发票和其他材料"
    )
    # files sent with the claim do not count
    with pytest.raises(supplements.DocumentsMissing) as e:
        _fulfil(db_session, claims, claim)
    assert (e.value.code, e.value.missing) == ("DOCUMENTS_MISSING", ["INVOICE", "OTHER"])
    attach(db_session, claims, claim, "INVOICE")
    removed = attach(db_session, claims, claim, "OTHER")
    removed.removed_at = claims.now()  # taken back before submitting
    with pytest.raises(supplements.DocumentsMissing) as e:
        _fulfil(db_session, claims, claim)
    assert e.value.missing == ["OTHER"]
    assert claim.status is S.PENDING_SUPPLEMENT


def test_fulfil_returns_the_claim_to_review_and_tells_the_adjuster_once(
    db_session: Session, claims: ClaimContext, demo: Any, clock: FakeClock
) -> None:
    # given a request answered with files in both categories
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    request, _ = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE", "MEDICAL_RECORD"], "补发票和病历"
    )
    attach(db_session, claims, claim, "INVOICE")
    attach(db_session, claims, claim, "MEDICAL_RECORD")
    clock.advance(hours=5)
    # when the claimant submits with a remark
    answered = supplements.fulfil(
        db_session,
        claims,
        claim,
        remark="  原件已寄出  ",
        channel=Channel.APP,
        actor=Actor.CLAIMANT,
        actor_id=claim.account_id,
    )
    # then the claim is back under review, waiting since now, with the remark on the timeline
    assert answered is request
    assert claim.status is S.UNDER_REVIEW and claim.waiting_since == clock.now
    assert (request.fulfilled_at, request.fulfilled_via, request.remark) == (
        clock.now,
        Channel.APP,
        "原件已寄出",
    )
    assert len(supplements.supplement_documents(db_session, request)) == 2
    event = db_session.scalars(
        select(ClaimEvent).where(ClaimEvent.claim_id == claim.id).order_by(ClaimEvent.id)
    ).all()[-1]
    assert (event.kind, event.note, event.channel, event.actor) == (
        "SUPPLEMENT_RECEIVED",
        "原件已寄出",
        Channel.APP,
        Actor.CLAIMANT,
    )
    # and the requesting adjuster's e-mail is queued
    arrived = _notifications(db_session)[f"supplement:{request.id}:arrived"]
    assert claims.vault.decrypt(arrived.recipient_enc) == "wang.fang@insurer.example"
    assert str(claim.claim_no) in arrived.subject
    # when the same answer comes again (a double submit)
    clock.advance(seconds=2)
    again = _fulfil(db_session, claims, claim, remark="另一条备注")
    # then nothing changes
    assert again is request and request.remark == "原件已寄出"
    assert claim.waiting_since == clock.now - datetime.timedelta(seconds=2)
    kinds = db_session.scalars(select(ClaimEvent.kind).where(ClaimEvent.claim_id == claim.id))
    assert list(kinds).count("SUPPLEMENT_RECEIVED") == 1
    # the adjuster's e-mail once, the claimant's receipt (SMS + e-mail) once
    keys = sorted(_notifications(db_session))
    assert keys == sorted(
        [
            f"supplement:{request.id}:sms",
            f"supplement:{request.id}:email",
            f"supplement:{request.id}:arrived",
            f"claim.supplement_received:{claim.id}:{request.id}:sms",
            f"claim.supplement_received:{claim.id}:{request.id}:email",
        ]
    )


def test_fulfil_refuses_a_long_remark_and_a_claim_not_waiting(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    with pytest.raises(WrongClaimState):
        _fulfil(db_session, claims, claim)
    supplements.request_supplement(db_session, claims, adjuster, claim, ["INVOICE"], "补发票")
    attach(db_session, claims, claim, "INVOICE")
    with pytest.raises(ValidationFailed) as e:
        _fulfil(db_session, claims, claim, remark="长" * 501)
    assert e.value.problems[0].field == "remark"
    assert _fulfil(db_session, claims, claim, remark="长" * 500).remark == "长" * 500


def test_no_arrival_e_mail_for_an_adjuster_without_an_address(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims, "li.lei", email="")
    claim = make_claim(db_session, claims, demo, email=None)
    request, _ = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE"], "补发票"
    )
    attach(db_session, claims, claim, "INVOICE")
    _fulfil(db_session, claims, claim)
    # the claimant's SMS only (no e-mail address), no e-mail to the adjuster
    assert set(_notifications(db_session)) == {
        f"supplement:{request.id}:sms",
        f"claim.supplement_received:{claim.id}:{request.id}:sms",
    }
    # the queue still shows it first
    assert review.queue(db_session).rows[0].unseen_supplement


def test_a_second_round_of_supplements_works_like_the_first(
    db_session: Session, claims: ClaimContext, demo: Any
) -> None:
    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)
    first, _ = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["INVOICE"], "补发票"
    )
    attach(db_session, claims, claim, "INVOICE")
    _fulfil(db_session, claims, claim)
    second, token = supplements.request_supplement(
        db_session, claims, adjuster, claim, ["OTHER"], "补其他材料"
    )
    assert second.id != first.id
    assert supplements.claim_for_token(db_session, claims, token)[1] is second
    # the first round's files do not answer the second
    with pytest.raises(supplements.DocumentsMissing):
        _fulfil(db_session, claims, claim)
    attach(db_session, claims, claim, "OTHER")
    assert _fulfil(db_session, claims, claim) is second


def test_a_message_that_cannot_be_written_leaves_the_claim_as_it_was(
    db_session: Session, claims: ClaimContext, demo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server.errors import InvalidInput
    from server.notify import templates

    adjuster = make_adjuster(db_session, claims)
    claim = make_claim(db_session, claims, demo)

    def refuse(*_: Any, **__: Any) -> str:
        raise InvalidInput("The claimant's name is required.", field="claimant_name")

    monkeypatch.setattr(templates, "supplement_sms", refuse)
    with pytest.raises(InvalidInput):
        supplements.request_supplement(db_session, claims, adjuster, claim, ["INVOICE"], "补发票")
    assert claim.status is S.SUBMITTED
    assert db_session.scalar(select(func.count()).select_from(SupplementRequest)) == 0
    assert db_session.scalar(select(func.count()).select_from(ClaimEvent)) == 0
    assert db_session.scalar(select(func.count()).select_from(Notification)) == 0
