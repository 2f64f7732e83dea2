"""申报途径: a claim started in the WeChat mini-program is recorded as a WeChat claim."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from server.accounts.wiring import MemberServices
from server.claims.models import Channel, Claim
from tests.db import Api, FakeClock
from tests.schema.accounts.helpers import log_in
from tests.schema.accounts.test_wechat import bind
from tests.schema.claims.helpers import CONTACT, START, gid, pk


def _start(api: Api, token: str, demo: Any) -> int:
    saved = api(
        CONTACT,
        token=token,
        input={"address": "上海市浦东新区世纪大道1229号", "email": "a@example.com"},
    )["data"]["saveClaimContact"]
    assert saved["__typename"] == "SaveClaimContactSuccess", saved
    started = api(
        START,
        token=token,
        input={"policyId": gid("Policy", demo.policy_ids["main"]), "noticeAccepted": True},
    )["data"]["startClaim"]
    assert started["__typename"] == "StartClaimSuccess", started
    return pk(started["claim"]["id"])


@pytest.mark.parametrize("via", ["app", "wechat"])
def test_the_claim_records_where_it_was_made(
    api: Api,
    demo: Any,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    clock: FakeClock,
    via: str,
) -> None:
    # given the main insured signed in through the app, or through the mini-program
    if via == "app":
        token = log_in(api, demo.people["main"].phone)
    else:
        bound = bind(api, db_factory, members, clock, demo.people["main"], "wx-main")
        assert bound["__typename"] == "SignInSuccess", bound
        token = bound["token"]
    # when a claim is started there
    claim_id = _start(api, token, demo)
    # then it is recorded with that channel
    with db_factory() as db:
        claim = db.get(Claim, claim_id)
        assert claim is not None
        assert claim.channel is (Channel.WECHAT if via == "wechat" else Channel.APP)
