"""Forty claimants log in to the supplement portal at once, through a real server, on
SQLite (one writer) and PostgreSQL: every one gets in, none gets a 503.

A log-in reads (the link, the throttle) before it writes (the try counted, the captcha
used, the session opened, the next captcha drawn); on SQLite such a transaction used to
fail at once when another log-in committed in between, answered as 503.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import httpx2 as httpx
from sqlalchemy.orm import Session, sessionmaker

from h5.supplement.routes import PortalConfig
from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext
from server.claims.portal import throttle
from server.services import Services
from tests.api.live import committed_app, live
from tests.db import run_together
from tests.h5.supplement_helpers import (
    INSURED_NAME,
    Pending,
    hidden,
    insured_member,
    path_of,
    request_documents,
)

AT_ONCE = 40


def same_answer(alphabet: str, length: int) -> str:
    """Every captcha has the same answer: the test knows it without reading the store."""
    return alphabet[0] * length


def _waiting_claims(factory: sessionmaker[Session], claims: ClaimContext) -> list[Pending]:
    found = []
    for i in range(AT_ONCE):
        with factory() as db:
            member = insured_member(db, claims.vault, claims.now().date(), serial=f"{200 + i}")
            db.commit()
        found.append(request_documents(factory, claims, member))
    return found


def test_forty_log_ins_at_once_all_get_in(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
) -> None:
    # given forty claims waiting for documents, each with its SMS link
    factory, _ = committed
    waiting = _waiting_claims(factory, claims)
    app = committed_app(services, members, claims, factory)
    app.state.supplement_portal = PortalConfig(login_floor=0.0, answers=same_answer)

    with live(app) as base:
        clients = [httpx.Client(base_url=base, timeout=60) for _ in waiting]
        try:
            # when forty browsers open their links at once
            def open_page(i: int) -> tuple[int, str]:
                r = clients[i].get(path_of(waiting[i].link))
                return r.status_code, r.text

            pages = run_together(AT_ONCE, open_page)
            assert Counter(p[0] for p in pages) == {200: AT_ONCE}, [
                p[1][:300] for p in pages if p[0] != 200
            ][:2]

            # and all forty send the right name and characters at once
            def log_in(i: int) -> tuple[int, str]:
                html = pages[i][1]
                r = clients[i].post(
                    path_of(waiting[i].link),
                    data={
                        "csrf": hidden(html, "csrf"),
                        "captcha_id": hidden(html, "captcha_id"),
                        "captcha": same_answer("ACEFHKMNPRTUWXY23456789", 5),
                        "name": INSURED_NAME,
                    },
                    follow_redirects=False,
                )
                return r.status_code, r.headers.get("location", "") or r.text[:300]

            answers = run_together(AT_ONCE, log_in)

            # then every one is let in (no 503, no second try needed) and sees its claim
            assert Counter(a[0] for a in answers) == {303: AT_ONCE}, [
                a for a in answers if a[0] != 303
            ][:3]
            assert all(re.search(r"/h5/supplement/claim", a[1]) for a in answers)
            shown = clients[7].get(answers[7][1])
            assert shown.status_code == 200 and waiting[7].claim_no in shown.text
        finally:
            for c in clients:
                c.close()


def test_forty_wrong_log_ins_at_once_stop_at_the_address_block(
    committed: tuple[sessionmaker[Session], Any],
    services: Services,
    members: MemberServices,
    claims: ClaimContext,
) -> None:
    # given forty claims waiting for documents, and forty browsers behind one address
    factory, _ = committed
    waiting = _waiting_claims(factory, claims)
    app = committed_app(services, members, claims, factory)
    app.state.supplement_portal = PortalConfig(login_floor=0.0, answers=same_answer)

    with live(app) as base:
        clients = [httpx.Client(base_url=base, timeout=60) for _ in waiting]
        try:
            pages = [clients[i].get(path_of(w.link)).text for i, w in enumerate(waiting)]

            # when all forty send a wrong name at once
            def log_in(i: int) -> int:
                r = clients[i].post(
                    path_of(waiting[i].link),
                    data={
                        "csrf": hidden(pages[i], "csrf"),
                        "captcha_id": hidden(pages[i], "captcha_id"),
                        "captcha": same_answer("ACEFHKMNPRTUWXY23456789", 5),
                        "name": "王五",
                    },
                    follow_redirects=False,
                )
                return r.status_code

            answers = Counter(run_together(AT_ONCE, log_in))
        finally:
            for c in clients:
                c.close()

    # then the address's failures stop at the block (30 in 15 minutes), each answered with
    # the form again or the block page, and none with a 503
    assert answers == {400: throttle.BLOCK_FAILURES, 429: AT_ONCE - throttle.BLOCK_FAILURES}
