from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.errors import SmsCodeInvalid, SmsRateLimited, SmsTooSoon
from server.accounts.models import SmsCode, SmsOutbox
from server.accounts.sms_codes import Purpose
from server.accounts.wiring import MemberServices
from server.errors import ValidationFailed
from tests.db import FakeClock

PHONE = "13612341560"


def sent_code(db: Session, members: MemberServices) -> str:
    body = db.scalar(select(SmsOutbox.body).order_by(SmsOutbox.id.desc()).limit(1))
    assert body is not None
    return next(w for w in body.replace("，", " ").replace("码", " ").split() if w.isdigit())


def test_a_code_is_six_digits_single_use_and_stored_hashed(
    db_session: Session, members: MemberServices
) -> None:
    members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)
    code = sent_code(db_session, members)
    assert len(code) == 6 and code.isdigit()
    row = db_session.scalars(select(SmsCode)).one()
    assert code not in (row.code_hash, row.salt) and len(row.code_hash) == 64
    members.accounts.codes.consume(db_session, PHONE, Purpose.REGISTER, code)
    with pytest.raises(SmsCodeInvalid):
        members.accounts.codes.consume(db_session, PHONE, Purpose.REGISTER, code)


def test_a_code_is_bound_to_its_phone_and_purpose(
    db_session: Session, members: MemberServices
) -> None:
    members.accounts.send_code(db_session, PHONE, Purpose.BIND_WECHAT)
    code = sent_code(db_session, members)
    with pytest.raises(SmsCodeInvalid):
        members.accounts.codes.consume(db_session, PHONE, Purpose.REGISTER, code)
    with pytest.raises(SmsCodeInvalid):
        members.accounts.codes.consume(db_session, "13612341561", Purpose.BIND_WECHAT, code)
    members.accounts.codes.consume(db_session, PHONE, Purpose.BIND_WECHAT, code)


def test_a_code_expires_after_five_minutes(
    db_session: Session, members: MemberServices, clock: FakeClock
) -> None:
    members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)
    code = sent_code(db_session, members)
    clock.advance(minutes=5)
    with pytest.raises(SmsCodeInvalid):
        members.accounts.codes.consume(db_session, PHONE, Purpose.REGISTER, code)


def test_resend_waits_120_seconds_and_says_how_long(
    db_session: Session, members: MemberServices, clock: FakeClock
) -> None:
    members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)
    clock.advance(seconds=45)
    with pytest.raises(SmsTooSoon) as e:
        members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)
    assert e.value.retry_after == 75
    assert "75 seconds" in e.value.message
    clock.advance(seconds=75)
    members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)


def test_a_new_code_replaces_the_old_one(
    db_session: Session, members: MemberServices, clock: FakeClock
) -> None:
    members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)
    old = sent_code(db_session, members)
    clock.advance(seconds=120)
    members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)
    new = sent_code(db_session, members)
    if old != new:
        with pytest.raises(SmsCodeInvalid):
            members.accounts.codes.consume(db_session, PHONE, Purpose.REGISTER, old)
    members.accounts.codes.consume(db_session, PHONE, Purpose.REGISTER, new)


def test_at_most_five_codes_an_hour_per_phone(
    db_session: Session, members: MemberServices, clock: FakeClock
) -> None:
    purposes = list(Purpose)[:5]
    for p in purposes:  # five purposes: no 120 s wait between them
        members.accounts.codes.issue(db_session, PHONE, p)
    clock.advance(minutes=10)
    with pytest.raises(SmsRateLimited) as e:
        members.accounts.codes.issue(db_session, PHONE, Purpose.REGISTER)
    assert e.value.retry_after == 50 * 60
    clock.advance(minutes=50, seconds=1)
    members.accounts.codes.issue(db_session, PHONE, Purpose.REGISTER)


def test_five_wrong_tries_invalidate_the_code(db_session: Session, members: MemberServices) -> None:
    members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)
    code = sent_code(db_session, members)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(SmsCodeInvalid):
            members.accounts.codes.consume(db_session, PHONE, Purpose.REGISTER, wrong)
    with pytest.raises(SmsCodeInvalid):
        members.accounts.codes.consume(db_session, PHONE, Purpose.REGISTER, code)


def test_a_bad_mobile_is_a_validation_error(db_session: Session, members: MemberServices) -> None:
    with pytest.raises(ValidationFailed) as e:
        members.accounts.send_code(db_session, "2361234156", Purpose.REGISTER)
    assert e.value.problems[0].code == "INVALID_MOBILE"


def test_the_outbox_and_the_log_hold_no_plain_number(
    db_session: Session, members: MemberServices, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="server.notify.sms"):
        members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)
    code = sent_code(db_session, members)
    row = db_session.scalars(select(SmsOutbox)).one()
    assert PHONE not in row.phone_enc and PHONE not in row.phone_hash
    assert members.vault.decrypt(row.phone_enc) == PHONE
    assert "136****1560" in caplog.text
    assert PHONE not in caplog.text and code not in caplog.text


def test_a_reset_code_for_an_unknown_number_is_not_sent(
    db_session: Session, members: MemberServices
) -> None:
    sent = members.accounts.send_code(db_session, PHONE, Purpose.RESET_PASSWORD)
    assert sent.resend_after_seconds == 120
    assert db_session.scalars(select(SmsOutbox)).all() == []
