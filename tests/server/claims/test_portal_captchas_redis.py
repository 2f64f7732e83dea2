"""Captcha challenges in Redis (REDIS_URL set): shown only to their browser, one guess
each whichever server takes it, gone once answered or expired, nothing in the database."""

from __future__ import annotations

import datetime
import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.claims.portal import captchas
from server.claims.portal.captchas import RedisChallenges, make_challenges
from server.claims.portal_models import PortalCaptcha
from server.crypto import vault_for
from tests.db import run_together

pytestmark = pytest.mark.redis

VAULT = vault_for("test-secret-for-captchas")
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
BROWSER = "browser-cookie-value-0001"


@pytest.fixture
def challenges() -> Iterator[RedisChallenges]:
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but TEST_REDIS_URL is not set")
        pytest.skip("TEST_REDIS_URL is not set")
    prefix = f"test-captcha:{uuid.uuid4().hex[:12]}:"
    made = make_challenges(url, prefix)
    assert made is not None
    try:
        yield made
    finally:
        for key in made.client.scan_iter(match=prefix + "*"):
            made.client.delete(key)
        made.client.close()


def draw(db: Session, challenges: RedisChallenges, answer: str = "ACE23") -> captchas.Challenge:
    return captchas.store(
        db,
        VAULT,
        kind=captchas.IMAGE,
        answer=answer,
        media=b"\x89PNG image",
        browser=BROWSER,
        now=NOW,
        challenges=challenges,
    )


def test_no_redis_means_the_database() -> None:
    assert make_challenges("") is None


def test_a_challenge_is_shown_to_its_browser_only(
    db_session: Session, challenges: RedisChallenges
) -> None:
    # given
    challenge = draw(db_session, challenges)
    # when / then
    shown = captchas.media(db_session, challenge.public_id, BROWSER, NOW, challenges)
    assert shown == (b"\x89PNG image", "image/png")
    assert (
        captchas.media(db_session, challenge.public_id, "another-browser-0002", NOW, challenges)
        is None
    )
    assert db_session.scalar(select(func.count()).select_from(PortalCaptcha)) == 0
    assert list(challenges.client.scan_iter(match=challenges.prefix + "*"))


def test_one_guess_per_challenge(db_session: Session, challenges: RedisChallenges) -> None:
    right = draw(db_session, challenges)
    wrong = draw(db_session, challenges)

    def verify(c: captchas.Challenge, answer: str) -> bool:
        return captchas.verify(
            db_session,
            VAULT,
            public_id=c.public_id,
            answer=answer,
            browser=BROWSER,
            now=NOW,
            challenges=challenges,
        )

    assert verify(right, "ace 23")  # typed loosely, as the page allows
    assert not verify(right, "ACE23")  # used up
    assert captchas.media(db_session, right.public_id, BROWSER, NOW, challenges) is None
    assert not verify(wrong, "KMN45")
    assert not verify(wrong, "ACE23")  # a wrong guess used it up too


def test_an_expired_challenge_answers_nothing(
    db_session: Session, challenges: RedisChallenges
) -> None:
    challenge = draw(db_session, challenges)
    # Redis drops it by itself
    ttl = challenges.client.pttl(challenges.prefix + _ids(challenges)[0])
    assert 0 < ttl <= captchas.LIFETIME.total_seconds() * 1000
    # and by the app's clock it is over
    later = NOW + captchas.LIFETIME + datetime.timedelta(seconds=1)
    assert captchas.media(db_session, challenge.public_id, BROWSER, later, challenges) is None
    assert not captchas.verify(
        db_session,
        VAULT,
        public_id=challenge.public_id,
        answer="ACE23",
        browser=BROWSER,
        now=later,
        challenges=challenges,
    )


def test_concurrent_right_answers_are_accepted_once(
    db_session: Session, challenges: RedisChallenges
) -> None:
    challenge = draw(db_session, challenges)
    accepted = run_together(
        20,
        lambda _i: captchas.verify(
            db_session,
            VAULT,
            public_id=challenge.public_id,
            answer="ACE23",
            browser=BROWSER,
            now=NOW,
            challenges=challenges,
        ),
    )
    assert accepted.count(True) == 1
    assert accepted.count(False) == 19


def _ids(challenges: RedisChallenges) -> list[str]:
    return [
        (k.decode() if isinstance(k, bytes) else k).removeprefix(challenges.prefix)
        for k in challenges.client.scan_iter(match=challenges.prefix + "*")
    ]
