"""The supplement portal's limits under 40 requests at once, each in a transaction of its
own, on every limiter backend: the free tries on a claim from one address, the captcha
images of one address and of one browser's page."""

from __future__ import annotations

import uuid

from server.claims.portal import captchas, throttle
from server.crypto import Vault
from tests.db import FakeClock, run_together
from tests.limits import Store

VAULT = Vault("test-secret-key-for-the-portal")


def test_forty_tries_on_a_claim_from_one_address_get_five_checked(
    store: Store, clock: FakeClock
) -> None:
    limiter = store.limiter(clock)
    client = throttle.client_key(VAULT, f"client-{uuid.uuid4()}")
    tried = throttle.try_key(VAULT, throttle.claim_key(VAULT, "VSHH26030200001"), client)

    def attempt(i: int) -> throttle.Verdict:
        with store.unit() as db:
            verdict = throttle.check(limiter, db, tried=tried, client=client)
            if verdict.allowed:
                throttle.fail(limiter, db, client=client)  # each one a wrong answer
            return verdict

    verdicts = run_together(40, attempt)
    assert sum(v.allowed for v in verdicts) == throttle.FREE_FAILURES
    assert {v.retry_after for v in verdicts if not v.allowed} == {30}
    assert not any(v.blocked for v in verdicts)
    with store.unit() as db:
        counted = limiter.peek(db, throttle.CLIENT_FAILURES, client).count
    assert counted == throttle.FREE_FAILURES


def test_captchas_at_once_from_one_address_stop_at_the_address_ceiling(
    store: Store, clock: FakeClock
) -> None:
    limiter = store.limiter(clock)
    client = throttle.client_key(VAULT, f"client-{uuid.uuid4()}")

    def ask(i: int) -> bool:
        page = captchas.page_key(VAULT, f"browser-{uuid.uuid4()}", "/h5/supplement")
        with store.unit() as db:
            try:
                captchas.take_rate(limiter, db, client=client, page=page)
            except captchas.TooManyChallenges:
                return False
            return True

    assert sum(run_together(captchas.RATE_LIMIT + 20, ask)) == captchas.RATE_LIMIT


def test_forty_captchas_at_once_for_one_browser_page_give_ten_images(
    store: Store, clock: FakeClock
) -> None:
    limiter = store.limiter(clock)
    page = captchas.page_key(VAULT, f"browser-{uuid.uuid4()}", "/h5/supplement/some-link")

    def ask(i: int) -> bool:
        client = throttle.client_key(VAULT, f"client-{i}-{uuid.uuid4()}")
        with store.unit() as db:
            try:
                captchas.take_rate(limiter, db, client=client, page=page)
            except captchas.TooManyChallenges:
                return False
            return True

    assert sum(run_together(40, ask)) == captchas.PAGE_LIMIT
