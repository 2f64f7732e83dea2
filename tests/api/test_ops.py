"""/readyz (database, Redis, storage) and /metrics (Prometheus): what they report, who may
read the metrics, and that labels carry route templates, never tokens."""

from __future__ import annotations

import dataclasses
import datetime
import errno
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server.accounts.wiring import MemberServices
from server.app import create_app
from server.claims.core import ClaimContext
from server.db import make_engine, make_sessionmaker
from server.limits import Policy
from server.notify.outbox import Channel, enqueue
from server.partners import service as partners
from server.services import Services
from tests.db import TEST_SECRET_KEY, TEST_VAULT, FakeClock

TOKEN = "metrics-" + secrets.token_urlsafe(16)


class FullDisk:
    """A storage whose every write fails as on a full disk."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def put_file(self, key: str, source: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")


def _app(services: Services, claims: ClaimContext | None = None, **changes: Any) -> Starlette:
    settings = services.settings.with_(**{"metrics_token": TOKEN, **changes})
    return create_app(
        settings,
        services=dataclasses.replace(services, settings=settings, claims=claims or services.claims),
    )


@pytest.fixture
def ops(
    services: Services,
    db_factory: sessionmaker[Session],
    members: MemberServices,
    claims: ClaimContext,
) -> Iterator[tuple[TestClient, Services]]:
    settings = services.settings.with_(secret_key=TEST_SECRET_KEY, metrics_token=TOKEN)
    s = dataclasses.replace(
        services, settings=settings, db=db_factory, members=members, claims=claims
    )
    with TestClient(create_app(settings, services=s)) as c:
        yield c, s


# --- /readyz -------------------------------------------------------------------------------


def test_ready_when_database_and_storage_answer(services: Services) -> None:
    with TestClient(_app(services)) as c:
        r = c.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "checks": {"database": "ok", "redis": "not configured", "storage": "ok"},
    }


def test_a_database_that_does_not_answer_is_named(services: Services, tmp_path: Path) -> None:
    gone = make_engine(f"sqlite:///{tmp_path}")  # a folder: no database opens there
    broken = dataclasses.replace(services, db=make_sessionmaker(gone))
    with TestClient(_app(broken)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"] == "failed: OperationalError"
    assert body["checks"]["storage"] == "ok"


def test_redis_that_does_not_answer_is_named(services: Services) -> None:
    # nothing listens on port 1
    with TestClient(_app(services, redis_url="redis://127.0.0.1:1/0")) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["failing"] == ["redis"]
    assert r.json()["checks"]["redis"].startswith("failed: ")


def test_redis_that_answers_is_ok(services: Services) -> None:
    url = os.environ.get("TEST_REDIS_URL", "")
    if not url:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("REQUIRE_REDIS=1 but TEST_REDIS_URL is not set")
        pytest.skip("TEST_REDIS_URL is not set")
    with TestClient(_app(services, redis_url=url)) as c:
        r = c.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"]["redis"] == "ok"


def test_storage_that_cannot_write_is_named_and_keeps_no_probe(services: Services) -> None:
    assert services.claims is not None
    full = dataclasses.replace(services.claims, storage=FullDisk(services.claims.storage))
    temp = services.claims.storage.temp_dir
    before = set(temp.iterdir())
    with TestClient(_app(services, claims=full)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["failing"] == ["storage"]
    assert r.json()["checks"]["storage"] == "failed: OSError"
    assert set(temp.iterdir()) == before


# --- /metrics ------------------------------------------------------------------------------


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _scrape(c: TestClient) -> dict[Any, float]:
    r = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return _samples(r.text)


def test_metrics_only_from_loopback_or_with_the_token(services: Services) -> None:
    app = _app(services)
    with TestClient(app) as c:  # the test client's address is not loopback
        r = c.get("/metrics")
        assert r.status_code == 403 and r.json()["code"] == "FORBIDDEN"
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    with TestClient(app, client=("127.0.0.1", 40000)) as c:
        assert c.get("/metrics").status_code == 200
    # without a token set, only loopback
    with TestClient(_app(services, metrics_token="")) as c:
        assert c.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 403


def test_requests_are_counted_by_route_template_never_by_raw_path(
    ops: tuple[TestClient, Services],
) -> None:
    c, _ = ops
    before = _scrape(c)
    secret = secrets.token_urlsafe(24)
    for _ in range(3):
        assert c.get("/healthz").status_code == 200
    assert c.get(f"/certificates/{secret}.pdf").status_code == 404
    assert c.get(f"/no-such-page/{secret}").status_code == 404
    r = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    after = _samples(r.text)
    assert secret not in r.text
    key = {"method": "GET", "route": "/healthz", "status": "200"}
    assert (
        _value(after, "http_requests_total", **key) - _value(before, "http_requests_total", **key)
        == 3
    )
    cert = {"method": "GET", "route": "/certificates/{token}.{fmt:str}", "status": "404"}
    assert _value(after, "http_requests_total", **cert) >= 1
    assert _value(after, "http_requests_total", method="GET", route="<unmatched>", status="404")
    assert _value(after, "http_request_duration_seconds_count", method="GET", route="/healthz") >= 3


def test_routes_under_a_mount_are_labelled_with_the_whole_template(
    ops: tuple[TestClient, Services],
) -> None:
    c, _ = ops
    facility_id = secrets.token_hex(6)
    c.get(f"/h5/en/facility/{facility_id}")
    text = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert facility_id not in text
    assert 'route="/h5/{lang}/facility/{facility_id}"' in text


def test_graphql_operations_and_their_cost(ops: tuple[TestClient, Services]) -> None:
    c, _ = ops
    before = _scrape(c)
    query = "query FacilityPage { facilities(first: 2) { edges { node { id } } } }"
    for _ in range(2):
        r = c.post("/graphql", json={"query": query, "operationName": "FacilityPage"})
        cost = r.json()["extensions"]["cost"]["requestedQueryCost"]
    after = _scrape(c)
    page = {"operation": "FacilityPage", "client": "anonymous"}
    delta = _value(after, "graphql_operations_total", **page) - _value(
        before, "graphql_operations_total", **page
    )
    assert delta == 2
    assert (
        _value(after, "graphql_operation_cost_sum", **page)
        - _value(before, "graphql_operation_cost_sum", **page)
        == 2 * cost
    )
    # a name that is no GraphQL name, or one too long, does not become a label
    c.post("/graphql", json={"query": "{ __typename }", "operationName": "a b"})
    long = "Q" * 100
    r = c.post("/graphql", json={"query": f"query {long} {{ __typename }}", "operationName": long})
    assert r.status_code == 200
    c.post("/graphql", json={"query": "{ __typename }"})
    text = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    assert long not in text and 'operation="a b"' not in text
    after = _samples(text)
    assert _value(after, "graphql_operations_total", operation="anonymous", client="anonymous")
    assert _value(after, "graphql_operations_total", operation="other", client="anonymous")


def test_partner_keys_are_labelled_by_id_and_name_never_by_key(
    ops: tuple[TestClient, Services], clock: FakeClock
) -> None:
    c, s = ops
    assert s.db is not None
    # given a key with a budget of 2 requests a minute, and a revoked one
    with s.db() as db, db.begin():
        row, raw = partners.issue(db, clock, "Map/app", rate_per_minute=2, cost_per_minute=10**6)
        old, old_raw = partners.issue(db, clock, "Old app", rate_per_minute=9, cost_per_minute=9)
        partners.revoke(db, clock, old.id)
    label, old_label = f"{row.id} Map_app", f"{old.id} Old app"
    near = {"query": "query Near { facilities(first: 2) { totalCount } }", "operationName": "Near"}
    before = _scrape(c)
    # when the key runs two operations, is refused a third, the revoked key is sent and an
    # anonymous client runs one
    for _ in range(3):
        c.post("/graphql", json=near, headers={"X-Api-Key": raw})
    assert c.post("/graphql", json=near, headers={"X-Api-Key": old_raw}).status_code == 401
    assert c.post("/graphql", json=near, headers={"X-Api-Key": "pk_x"}).status_code == 401
    r = c.post("/graphql", json=near)
    cost = r.json()["extensions"]["cost"]["requestedQueryCost"]
    text = c.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    after = _samples(text)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    # then each is counted under its own client label, the key itself nowhere
    assert raw not in text and raw[:10] not in text and old_raw[:10] not in text
    assert delta("graphql_operations_total", operation="Near", client=label) == 2
    assert delta("graphql_operation_cost_sum", operation="Near", client=label) == 2 * cost
    assert delta("graphql_operations_total", operation="Near", client="anonymous") == 1
    assert delta("graphql_refusals_total", client=label, code="RATE_LIMITED") == 1
    assert delta("graphql_refusals_total", client=old_label, code="PARTNER_KEY_REVOKED") == 1
    assert delta("graphql_refusals_total", client="anonymous", code="PARTNER_KEY_UNKNOWN") == 1


def test_limiter_refusals_by_policy(ops: tuple[TestClient, Services]) -> None:
    c, s = ops
    assert s.members is not None and s.db is not None
    policy = Policy("test-metrics", window=datetime.timedelta(minutes=1), limit=1)
    key = secrets.token_hex(32)
    before = _scrape(c)
    with s.db() as db, db.begin():
        limiter = s.members.limiter
        assert limiter.hit(db, policy, key).allowed
        assert not limiter.hit(db, policy, key).allowed
        assert not limiter.peek(db, policy, key).allowed
    after = _scrape(c)
    assert (
        _value(after, "limiter_refusals_total", policy="test-metrics")
        - _value(before, "limiter_refusals_total", policy="test-metrics")
        == 2
    )


def test_outbox_backlog_is_read_at_scrape(ops: tuple[TestClient, Services]) -> None:
    c, s = ops
    assert s.db is not None
    before = _value(_scrape(c), "outbox_backlog", channel="sms")
    with s.db() as db, db.begin():
        for i in range(3):
            enqueue(
                db,
                Channel.SMS,
                "13800001111",
                "",
                "test",
                f"metrics-{secrets.token_hex(8)}-{i}",
                vault=TEST_VAULT,
            )
    assert _value(_scrape(c), "outbox_backlog", channel="sms") == before + 3


def test_multiprocess_mode_adds_up_every_process(tmp_path: Path) -> None:
    # two processes count into PROMETHEUS_MULTIPROC_DIR; a third scrapes both
    code = (
        "import sys; from server import metrics; "
        "metrics.observe_request('GET', '/healthz', 200, 0.01); "
        "metrics.observe_operation('Near', 7, '3 Map app'); "
        "sys.stdout.buffer.write(metrics.scrape(None) if sys.argv[1] == 'scrape' else b'')"
    )
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[2]
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code, "count"], env=env, cwd=root, check=True)
    out = subprocess.run(
        [sys.executable, "-c", code, "scrape"], env=env, cwd=root, check=True, capture_output=True
    ).stdout.decode()
    samples = _samples(out)
    assert _value(samples, "http_requests_total", method="GET", route="/healthz", status="200") == 3
    near = {"operation": "Near", "client": "3 Map app"}
    assert _value(samples, "graphql_operations_total", **near) == 3
    assert _value(samples, "graphql_operation_cost_sum", **near) == 21
    # the production start empties the folder before its workers start
    from server.metrics import reset_multiprocess_dir

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    try:
        reset_multiprocess_dir()
    finally:
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
    assert not list(tmp_path.glob("*.db"))


def test_only_paths_that_are_their_own_template_are_remembered() -> None:
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from api.ops import RequestMetrics

    async def ok(request: Any) -> Any:
        return PlainTextResponse("ok")

    routes = [Route("/healthz", ok), Route("/files/{token}", ok)]
    metrics = RequestMetrics(ok, routes=routes)  # type: ignore[arg-type]

    def label(path: str) -> str:
        return metrics._template({"type": "http", "method": "GET", "path": path})

    assert label("/healthz") == label("/healthz") == "/healthz"
    for _ in range(3):
        assert label(f"/files/{secrets.token_urlsafe(8)}") == "/files/{token}"
    assert label("/nowhere") == "<unmatched>"
    # one entry: neither a token nor an unknown path is kept
    assert metrics._fixed == {("GET", "/healthz"): "/healthz"}
