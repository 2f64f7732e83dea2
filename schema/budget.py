"""HTTP 429 on /graphql: the cost budget charged before a request runs, and the answer when
every root field was refused by a limit.

`charge` works out the request's cost (schema/limits.py, the figure `extensions.cost` will
show) and spends it through server/api_budget.py off the event loop; over budget, the
request does not run and the answer is 429 with `Retry-After` and a GraphQL-shaped body:

    {"errors": [{"message": "...", "extensions": {"code": "RATE_LIMITED", "retryAfter": 42}}]}

If the budget's store does not answer (the database down or busy past its timeout, Redis
down), the request runs uncharged, logged and counted (`api_budget_unavailable_total`):
limits fail open, so that a database outage does not take the directory down with it.

A mutation refused by a throttle (a locked log-in, an SMS asked too soon: the domain's
`RetryLater`) still answers its typed error (`RetryLaterError`...) in `data`;
`retry_after` tells the HTTP layer to make that a 429 with `Retry-After` when every root
field of the response was so refused (when some other field did its work, the answer stays
200, so that a client retrying on 429 never repeats work that was done).
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from graphql import GraphQLSchema
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types import ExecutionResult

from schema.context import Context
from schema.errors import RATE_LIMITED
from schema.limits import Limits, request_cost
from server.api_budget import ApiBudget, Caller
from server.metrics import budget_unavailable
from server.sessions import bearer_token

log = logging.getLogger(__name__)


def _answer(status: int, code: str, retry_after: int, message: str) -> Response:
    body = {
        "errors": [{"message": message, "extensions": {"code": code, "retryAfter": retry_after}}]
    }
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"Retry-After": str(retry_after)},
    )


def too_many(retry_after: int, message: str) -> Response:
    return _answer(429, RATE_LIMITED, retry_after, message)


async def charge(
    request: Request,
    budget: ApiBudget,
    schema: GraphQLSchema,
    limits: Limits,
    body: dict[str, Any],
) -> Response | None:
    """None when the request may run (charged its cost), else the 429 to answer."""
    query = body.get("query")
    if not isinstance(query, str) or not query:
        return None
    cost = request_cost(schema, limits, query, body.get("variables"), body.get("operationName"))
    if cost is None:
        return None  # refused by the limits in any case, at no more cost than parsing
    request.state.graphql_cost = cost  # for the metrics of an answer from the response cache
    return await charge_cost(request, budget, cost)


async def charge_cost(request: Request, budget: ApiBudget, cost: int) -> Response | None:
    """`charge` of a cost already known (an answer from the response cache)."""
    client = request.client
    caller = Caller(
        address=client.host if client is not None else None,
        token=bearer_token(request.headers.get("authorization")),
    )
    # points this process holds already: spent in memory, without a thread
    decision = budget.spend_held(caller, cost)
    try:
        if decision is None:
            charged, opened = await run_in_threadpool(budget.spend_opening, caller, cost)
            decision = charged
            if opened is not None:
                # the session the budget looked up: the request's sign-in takes it over
                # (schema/accounts/auth.py) instead of reading it again
                request.state.opened_session = opened
    except Exception as error:
        # the budget's store does not answer (the database down or busy past its timeout,
        # Redis down): serve uncharged rather than refuse everyone; what needs the database
        # answers its own 503, the directory keeps answering
        log.warning("the API budget could not be charged: %s", type(error).__name__)
        budget_unavailable()
        return None
    if decision.allowed:
        return None
    wait = decision.retry_after_seconds
    return too_many(
        wait,
        f"Too many requests: this query costs {cost} points and the budget for this client "
        f"is spent; try again in {wait} s.",
    )


def retry_after(result: ExecutionResult, context: Context | None) -> int | None:
    """Seconds for Retry-After when every root field was refused by a limit, else None."""
    if context is None or not context.retry_after or result.errors:
        return None
    data = result.data
    if not isinstance(data, dict) or not data or not set(data) <= set(context.retry_after):
        return None
    return max(context.retry_after.values())
