"""申请补卡: the request's checks, one open request per card, posted and delivered."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Account
from server.billing import reissue
from server.billing.errors import (
    AppointmentRuleBroken,
    AppointmentStateConflict,
    HighEndRequired,
    ReissueNotFound,
)
from server.billing.models import ReissueReason
from server.claims.adjusters import create_adjuster
from server.claims.core import ClaimContext
from server.claims.models import ContactProfile
from server.divisions import divisions
from server.errors import ValidationFailed
from server.messages.models import MemberMessage
from server.notify.outbox import Notification

ADDRESS = {
    "province_code": "310000",
    "city_code": "310100",
    "district_code": "310104",
    "street": "漕溪北路1号",
    "postcode": "200030",
}


@pytest.fixture
def env(db_session: Session, demo: Any, claims: ClaimContext) -> Any:
    def account(key: str) -> Account:
        a = db_session.scalar(
            select(Account).where(Account.person_id == demo.people[key].person_id)
        )
        assert a is not None
        return a

    class Env:
        db = db_session
        cx = claims
        main = account("main")
        staff = account("staff")
        policy = demo.policy_ids["main_high_end"]
        coordinator = create_adjuster(
            db_session,
            claims.vault,
            username="chen.xietiao",
            name="陈协调",
            email="",
            password="Desk-2026!x",
            now=claims.now(),
            role="coordinator",
        )

        def ask(self, **changes: Any) -> Any:
            values: dict[str, Any] = {
                "policy_id": self.policy,
                "mobile": "13912345678",
                "reason": ReissueReason.LOST,
                **ADDRESS,
                **changes,
            }
            return reissue.request(self.db, self.cx, self.main, **values)

    return Env()


def test_the_divisions_nest() -> None:
    regions = divisions()
    assert [d.name for d in regions.children("310000000000")] == ["上海市"]
    assert "徐汇区" in [d.name for d in regions.children("310100000000")]
    assert regions.address_problem("310000000000", "310100000000", "310104000000") is None
    # the 6-digit short form is the same code
    assert regions.address_problem("310000", "310100", "310104") is None
    assert regions.address_problem("310000", "310100", "320102") == "districtCode"
    assert regions.address_problem("110000", "310100", "310104") == "cityCode"
    assert regions.address_problem("999999", "310100", "310104") == "provinceCode"
    # a city without districts (东莞市) needs none, and refuses one
    assert regions.address_problem("440000", "441900", "") is None
    assert regions.address_problem("440000", "441900", "440106") == "districtCode"


def test_a_request_is_posted_and_delivered(env: Any) -> None:
    env.db.add(
        ContactProfile(
            account_id=env.main.id,
            address_enc=env.cx.vault.encrypt("上海市"),
            email_enc=env.cx.vault.encrypt("zhang.wei@example.com"),
        )
    )
    row = env.ask()
    assert row.status == "submitted" and "漕溪" not in row.street_enc
    # the receipt, in the app and by SMS to the mobile given for the delivery
    receipt = env.db.scalar(select(MemberMessage).order_by(MemberMessage.id.desc()))
    assert (receipt.kind, receipt.subject_id) == ("card_reissue.submitted", row.id)
    sms = env.db.scalar(
        select(Notification).where(
            Notification.dedupe_key == f"card_reissue.submitted:{row.id}:sms"
        )
    )
    assert sms is not None and "补办申请已提交" in env.cx.vault.decrypt(sms.body_enc)
    assert reissue.reissues(env.db, env.main) == [row]
    assert reissue.reissues(env.db, env.staff) == []
    with pytest.raises(AppointmentStateConflict):
        reissue.mark_delivered(env.db, env.cx, env.coordinator, row.id)
    reissue.mark_posted(env.db, env.cx, env.coordinator, row.id, tracking_no="SF1234567890")
    assert (row.status, row.tracking_no) == ("posted", "SF1234567890")
    sent = env.db.scalars(select(Notification).order_by(Notification.id)).all()
    by_channel = {n.channel.value: env.cx.vault.decrypt(n.body_enc) for n in sent}
    assert "快递单号SF1234567890" in by_channel["sms"]
    assert "快递单号：SF1234567890" in by_channel["email"]
    assert env.cx.vault.decrypt(sent[-1].recipient_enc) == "zhang.wei@example.com"
    message = env.db.scalar(select(MemberMessage).order_by(MemberMessage.id.desc()))
    assert (message.kind, message.subject_type) == ("card_reissue.posted", "card_reissue")
    reissue.mark_delivered(env.db, env.cx, env.coordinator, row.id)
    assert row.status == "delivered"
    # delivered: told in the app only, no second SMS or e-mail
    message = env.db.scalar(select(MemberMessage).order_by(MemberMessage.id.desc()))
    assert (message.kind, message.body) == (
        "card_reissue.delivered",
        "您申请补办的直付卡已送达（快递单号 SF1234567890）。",
    )
    assert len(env.db.scalars(select(Notification)).all()) == len(sent)
    assert env.ask().status == "submitted"  # delivered: a new request may follow


def test_one_open_request_per_card(env: Any) -> None:
    env.ask()
    with pytest.raises(AppointmentRuleBroken) as e:
        env.ask(reason=ReissueReason.DAMAGED)
    assert e.value.code == "DUPLICATE_REISSUE"


def test_bad_input_is_named(env: Any) -> None:
    with pytest.raises(ValidationFailed) as e:
        env.ask(
            mobile="123",
            district_code="320102",
            postcode="20003",
            street=" ",
            reason=ReissueReason.OTHER,
        )
    assert {(p.field, p.code) for p in e.value.problems} == {
        ("mobile", "INVALID_MOBILE"),
        ("districtCode", "INVALID_DIVISION"),
        ("postcode", "INVALID_POSTCODE"),
        ("street", "REQUIRED"),
        ("reasonText", "REQUIRED"),
    }
    with pytest.raises(ValidationFailed):
        reissue.mark_posted(env.db, env.cx, env.coordinator, env.ask().id, tracking_no="x")
    with pytest.raises(ReissueNotFound):
        reissue.mark_posted(env.db, env.cx, env.coordinator, 999_999, tracking_no="SF123456")


def test_only_high_end_policies(env: Any, demo: Any) -> None:
    with pytest.raises(HighEndRequired):
        reissue.request(
            env.db,
            env.cx,
            env.staff,
            policy_id=demo.policy_ids["staff"],
            mobile="13912345678",
            reason=ReissueReason.LOST,
            **ADDRESS,
        )
