from __future__ import annotations

import dataclasses
import logging

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts import sms_codes
from server.accounts.errors import (
    SmsCodeInvalid,
    SmsDeliveryFailed,
    SmsRateLimited,
    SmsTooSoon,
)
from server.accounts.models import SmsCode, SmsOutbox
from server.accounts.sms_codes import Purpose, SmsCodes
from server.accounts.wiring import MemberServices
from server.errors import ValidationFailed
from server.limits import Limiter
from server.limits.memory import MemoryBackend
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


def test_at_most_five_codes_an_hour_per_phone_and_purpose(
    db_session: Session, members: MemberServices, clock: FakeClock
) -> None:
    codes = members.accounts.codes
    for _ in range(5):
        codes.issue(db_session, PHONE, Purpose.REGISTER)
        clock.advance(seconds=120)
    with pytest.raises(SmsRateLimited) as e:
        codes.issue(db_session, PHONE, Purpose.REGISTER)
    assert e.value.retry_after == 60 * 60 - 5 * 120
    # a purpose's spent budget leaves the others alone: strangers asking for registration
    # codes do not stop the member confirming a claim
    for purpose in Purpose:
        if purpose is not Purpose.REGISTER:
            codes.issue(db_session, PHONE, purpose)
    clock.advance(seconds=60 * 60 - 5 * 120)
    codes.issue(db_session, PHONE, Purpose.REGISTER)


def test_one_client_address_gets_thirty_codes_per_ten_minutes(
    db_session: Session, members: MemberServices, clock: FakeClock
) -> None:
    codes = members.accounts.codes
    for i in range(30):
        codes.issue(db_session, f"1361234{i:04d}", Purpose.REGISTER, client="203.0.113.7")
        clock.advance(seconds=10)
    with pytest.raises(SmsRateLimited) as e:
        codes.issue(db_session, "13612349999", Purpose.REGISTER, client="203.0.113.7")
    assert e.value.retry_after == 10 * 60 - 300 and "network" in e.value.message
    # the refused code took nothing from the number's own budget, nor from other addresses
    codes.issue(db_session, "13612349999", Purpose.REGISTER, client="198.51.100.1")


def test_an_overall_budget_stops_codes_to_any_number(
    db_session: Session, members: MemberServices, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    small = dataclasses.replace(sms_codes.OVERALL, limit=3)
    monkeypatch.setattr(sms_codes, "OVERALL", small)
    codes = members.accounts.codes
    for i, address in enumerate(("203.0.113.1", "203.0.113.2", "203.0.113.3")):
        codes.issue(db_session, f"1361234000{i}", Purpose.REGISTER, client=address)
    with pytest.raises(SmsRateLimited) as e:
        codes.issue(db_session, "13612340009", Purpose.REGISTER, client="203.0.113.4")
    assert e.value.retry_after == 10 * 60 and "right now" in e.value.message
    with pytest.raises(SmsRateLimited):
        codes.issue(db_session, "13612340009", Purpose.CONFIRM_CLAIM)
    clock.advance(minutes=10)
    codes.issue(db_session, "13612340009", Purpose.REGISTER, client="203.0.113.4")


class FailingSender:
    def send(self, db: Session, phone: str, text: str) -> None:
        raise SmsDeliveryFailed("The SMS could not be sent; try again later.")


def test_an_undelivered_code_spends_no_budget(
    db_session: Session, members: MemberServices, clock: FakeClock
) -> None:
    # counters outside the transaction (as in Redis): the refund is what gives the share back
    limiter = Limiter(MemoryBackend(), clock)
    codes = SmsCodes(members.vault, FailingSender(), clock, limiter)
    for _ in range(3):
        with pytest.raises(SmsDeliveryFailed):
            codes.issue(db_session, PHONE, Purpose.REGISTER, client="203.0.113.7")
    for policy, key in codes._budgets(PHONE, Purpose.REGISTER, "203.0.113.7"):
        assert codes.limiter.peek(None, policy, key).count == 0, policy.name


def test_an_undelivered_code_leaves_the_older_one_working(
    db_session: Session, members: MemberServices, clock: FakeClock
) -> None:
    # given a code sent, and a gateway that fails two minutes later
    members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)
    old = sent_code(db_session, members)
    clock.advance(seconds=120)
    failing = SmsCodes(members.vault, FailingSender(), clock, members.accounts.codes.limiter)
    stored = db_session.scalar(select(func.count()).select_from(SmsCode))
    # when a new code cannot be delivered
    with pytest.raises(SmsDeliveryFailed):
        failing.issue(db_session, PHONE, Purpose.REGISTER)
    # then it is not kept, the older code still works, and another can be sent at once
    assert db_session.scalar(select(func.count()).select_from(SmsCode)) == stored
    members.accounts.codes.consume(db_session, PHONE, Purpose.REGISTER, old)
    members.accounts.send_code(db_session, PHONE, Purpose.REGISTER)


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
