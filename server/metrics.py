"""Prometheus metrics (prometheus-client): requests by templated route, GraphQL operations
and their cost, limiter refusals by policy, and the outbox backlog read at scrape time.

GraphQL operations, their cost and the GraphQL requests refused before running (429 over
a budget, 401 for an unknown or revoked key) carry a `client` label: a partner key's
public id and name (`client_label`, never the key), or "anonymous" for everyone else.

Labels never carry what a client typed freely: routes are the templates they matched
(`/certificates/{token}.{fmt:str}`, never a token), GraphQL operation names are kept only
when they look like names, and at most `MAX_OPERATIONS` distinct ones (the rest count as
"other").

With several worker processes set PROMETHEUS_MULTIPROC_DIR to a folder writable by all of
them (server/serving.py empties it before the workers start): prometheus-client then keeps
the values in files there, and `scrape` adds up every process's values (its multiprocess
mode).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST
MAX_OPERATIONS = 200
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by route template",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by route template",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OPERATIONS = Counter(
    "graphql_operations_total",
    "GraphQL operations run, by operation name and client (partner key or anonymous)",
    ["operation", "client"],
)
COST = Histogram(
    "graphql_operation_cost",
    "Query cost of GraphQL operations (extensions.cost), by operation name and client",
    ["operation", "client"],
    buckets=(1, 10, 50, 100, 500, 1000, 5000, 10000, 25000, 50000),
)
REFUSALS = Counter(
    "limiter_refusals_total", "Tries refused by a limit (server/limits), by policy", ["policy"]
)

GRAPHQL_REFUSALS = Counter(
    "graphql_refusals_total",
    "GraphQL requests refused before running (over a budget, unknown or revoked key), by client and code",
    ["client", "code"],
)

BUDGET_UNAVAILABLE = Counter(
    "api_budget_unavailable_total",
    "GraphQL requests served uncharged because the budget's store did not answer",
)

ANONYMOUS_CLIENT = "anonymous"
_CLIENT_NAME = re.compile(r"[^A-Za-z0-9 ._-]+")

_operations: set[str] = set()
_operations_lock = threading.Lock()


# the labelled children of a metric, by labels: `labels()` validates and locks on every
# call (a few µs, twice per request); label sets are bounded (templated routes, operation
# names and partner clients), and the memo is emptied past _CHILDREN
_CHILDREN = 10_000
_children: dict[tuple[object, ...], object] = {}


def _child(metric: Counter | Histogram, *labels: str) -> object:
    key = (metric, *labels)
    child = _children.get(key)
    if child is None:
        if len(_children) >= _CHILDREN:
            _children.clear()
        child = _children[key] = metric.labels(*labels)
    return child


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    _child(REQUESTS, method, route, str(status)).inc()  # type: ignore[attr-defined]
    _child(LATENCY, method, route).observe(seconds)  # type: ignore[attr-defined]


def operation_label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _NAME.fullmatch(name):
        return "other"
    with _operations_lock:
        if name not in _operations:
            if len(_operations) >= MAX_OPERATIONS:
                return "other"
            _operations.add(name)
    return name


def client_label(key_id: int, name: str) -> str:
    """A partner key's label: its id and its partner's name (both public), e.g.
    `3 Clinic finder`; characters other than letters, digits, space and `._-` become `_`."""
    return f"{key_id} {_CLIENT_NAME.sub('_', name)[:40]}".strip()


def observe_operation(name: str | None, cost: int | None, client: str = ANONYMOUS_CLIENT) -> None:
    label = operation_label(name)
    _child(OPERATIONS, label, client).inc()  # type: ignore[attr-defined]
    if cost is not None:
        _child(COST, label, client).observe(cost)  # type: ignore[attr-defined]


def graphql_refused(client: str, code: str) -> None:
    GRAPHQL_REFUSALS.labels(client, code).inc()


def refused(policy: str) -> None:
    REFUSALS.labels(policy).inc()


def budget_unavailable() -> None:
    BUDGET_UNAVAILABLE.inc()


class _Backlog(Collector):
    """Pending notifications in the outbox, counted when scraped."""

    def __init__(self, count: Callable[[], dict[str, int]]) -> None:
        self.count = count

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "outbox_backlog", "Notifications waiting in the outbox, by channel", labels=["channel"]
        )
        try:
            for channel, n in sorted(self.count().items()):
                gauge.add_metric([channel], n)
        except Exception:  # the scrape still answers; /readyz says what is down
            pass
        yield gauge


def reset_multiprocess_dir() -> None:
    """Empties PROMETHEUS_MULTIPROC_DIR (when set) before the workers start."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def scrape(backlog: Callable[[], dict[str, int]] | None) -> bytes:
    """The text exposition of every metric (all processes' in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if backlog is not None:
        extra = CollectorRegistry()
        extra.register(_Backlog(backlog))
        text += generate_latest(extra)
    return text
