"""Partner keys: issued hashed, a rate and cost budget each, revocation refused clearly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from scripts.create_partner_key import main as create_partner_key
from server.accounts.wiring import MemberServices
from server.claims.core import ClaimContext
from server.partners import service as partners
from server.partners.models import PartnerKey
from server.services import Services
from server.settings import Settings
from tests.conftest import error_codes
from tests.db import FakeClock, run_together
from tests.test_persisted_queries import make_client

QUERY = '{ facilities(text: "renji", first: 2) { totalCount } }'


@pytest.fixture
def client(
    services: Services,
    member_settings: Settings,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    claims: ClaimContext,
) -> Iterator[TestClient]:
    yield from make_client(services, member_settings, db_factory, members, claims)


def issue(db_factory: sessionmaker[Session], clock: FakeClock, **budget: int) -> tuple[int, str]:
    with db_factory() as db:
        row, raw = partners.issue(
            db,
            clock,
            "Clinic finder",
            rate_per_minute=budget.get("rate", 100),
            cost_per_minute=budget.get("cost", 100_000),
        )
        db.commit()
        return row.id, raw


def post(client: TestClient, key: str | None) -> Any:
    headers = {"X-Api-Key": key} if key is not None else {}
    return client.post("/graphql", json={"query": QUERY}, headers=headers)


def test_a_key_is_stored_hashed_and_works(
    client: TestClient, db_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    key_id, raw = issue(db_factory, clock)
    with db_factory() as db:
        row = db.get(PartnerKey, key_id)
        assert row is not None
        assert raw not in (row.key_hash, row.prefix) and row.key_hash != raw
        assert raw.startswith(row.prefix)
    r = post(client, raw)
    assert r.status_code == 200
    assert r.json()["data"]["facilities"]["totalCount"] >= 1


def test_unknown_and_revoked_keys_are_refused(
    client: TestClient, db_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # an unknown key
    r = post(client, "pk_not-a-key")
    assert r.status_code == 401
    assert error_codes(r.json()) == ["PARTNER_KEY_UNKNOWN"]
    # a revoked one
    key_id, raw = issue(db_factory, clock)
    with db_factory() as db:
        partners.revoke(db, clock, key_id)
        db.commit()
    r = post(client, raw)
    assert r.status_code == 401
    assert error_codes(r.json()) == ["PARTNER_KEY_REVOKED"]
    assert "revoked" in r.json()["errors"][0]["message"]
    # no key at all: the public API as before
    assert post(client, None).status_code == 200


def test_each_key_has_its_own_rate(
    client: TestClient, db_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given two keys allowed 2 requests a minute
    _, first = issue(db_factory, clock, rate=2)
    _, second = issue(db_factory, clock, rate=2)
    assert post(client, first).status_code == 200
    assert post(client, first).status_code == 200
    # when the first sends a third within the minute
    r = post(client, first)
    # then it is refused with a code and Retry-After; the other key is not
    assert r.status_code == 429
    assert error_codes(r.json()) == ["RATE_LIMITED"]
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert post(client, second).status_code == 200
    # and a minute later the first may go on
    clock.advance(seconds=61)
    assert post(client, first).status_code == 200


def test_a_spent_cost_budget_refuses_the_next_request(
    client: TestClient, db_factory: sessionmaker[Session], clock: FakeClock
) -> None:
    # given a key whose cost budget is 2000 points a minute (2 units)
    _, raw = issue(db_factory, clock, cost=2000)
    big = (
        "query($n: Int) { facilities(first: $n) { edges { node {"
        " nameZh nameEn district districtEn addressZh kind grade gradeEn verifiedOn source } } } }"
    )
    # when a query costing over 1000 points runs (charged 2 units: the whole budget)
    r = client.post(
        "/graphql", json={"query": big, "variables": {"n": 100}}, headers={"X-Api-Key": raw}
    )
    assert r.status_code == 200
    assert r.json()["extensions"]["cost"]["requestedQueryCost"] > 1000
    # then the next request, even a cheap one, is refused until the window ends
    refused = post(client, raw)
    assert refused.status_code == 429
    assert "cost" in refused.json()["errors"][0]["message"]
    clock.advance(seconds=61)
    assert post(client, raw).status_code == 200


def test_the_script_issues_and_revokes(
    db_factory: sessionmaker[Session],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'keys.db'}")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    assert create_partner_key(["--name", "Map app", "--rate-per-minute", "5"]) == 0
    out = capsys.readouterr().out
    raw = out.split(": ", 1)[1].split()[0]
    assert raw.startswith("pk_")
    assert create_partner_key(["--revoke", "1"]) == 0
    assert "revoked key 1" in capsys.readouterr().out
    from server.db import make_engine, make_sessionmaker

    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    with make_sessionmaker(engine)() as db:
        row = db.scalars(select(PartnerKey)).one()
        assert row.rate_per_minute == 5 and row.revoked_at is not None
        assert raw not in row.key_hash
    engine.dispose()


def test_a_key_budget_holds_under_concurrency(
    committed: tuple[sessionmaker[Session], Any], members: MemberServices, clock: FakeClock
) -> None:
    # given a key allowed 5 requests a minute, on a database whose commits are real
    factory, _ = committed
    with factory() as db:
        row, _ = partners.issue(db, clock, "Race", rate_per_minute=5, cost_per_minute=100_000)
        db.commit()
        budget = partners.partner_budget(row)

    # when 12 requests arrive at once, each in its own session
    def one(_: int) -> bool:
        with factory() as db:
            decision = partners.admit(members.limiter, db, budget)
            db.commit()
            return decision.allowed

    results = run_together(12, one)
    # then exactly 5 were let through
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(results) == 5
