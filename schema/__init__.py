"""The public GraphQL schema, composed from per-domain query and mutation classes."""

from __future__ import annotations

import functools
import importlib.metadata
import logging
from typing import Any

import graphql
import strawberry
from graphql import GraphQLError
from graphql.execution import Executor as ExecutionContext
from strawberry import relay

from schema.accounts.mutations import AccountsMutation
from schema.accounts.queries import AccountsQuery
from schema.adjusters.mutations import AdjusterMutation
from schema.adjusters.queries import AdjusterQuery
from schema.billing.mutations import BillingMutation
from schema.billing.queries import BillingQuery
from schema.claims.mutations import ClaimsMutation
from schema.claims.queries import ClaimsQuery
from schema.claims.uxiang_queries import UxiangQuery
from schema.directory.queries import DirectoryQuery
from schema.errors import ErrorCodes
from schema.help.queries import HelpQuery
from schema.limits import Limits, RequestLimits
from schema.messages.mutations import MessagesMutation
from schema.policies.mutations import PoliciesMutation
from schema.service_supplements.mutations import DocumentRequestMutation
from server.settings import Settings

log = logging.getLogger(__name__)

EXECUTORS = ("fast", "stock")


def _query() -> type:
    # a fresh class per schema: the relay `node` field is bound to the schema that builds it
    @strawberry.type(name="Query", description="Everything a client can read.")
    class Query(
        DirectoryQuery,
        AccountsQuery,
        ClaimsQuery,
        UxiangQuery,
        AdjusterQuery,
        HelpQuery,
        BillingQuery,
    ):
        node: relay.Node | None = relay.node(description="Any object by its global id.")

    return Query


@strawberry.type(description="Everything a client can change.")
class Mutation(
    AccountsMutation,
    PoliciesMutation,
    ClaimsMutation,
    AdjusterMutation,
    MessagesMutation,
    BillingMutation,
    DocumentRequestMutation,
):
    pass


def request_limits(settings: Settings) -> Limits:
    return Limits(
        max_depth=settings.graphql_max_depth,
        max_aliases=settings.graphql_max_aliases,
        max_tokens=settings.graphql_max_tokens,
        max_fields=settings.graphql_max_fields,
        max_cost=settings.graphql_max_cost,
    )


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    s = settings or Settings()
    return _schema(request_limits(s), s.graphql_executor)


def execution_context_class(executor: str) -> type[ExecutionContext] | None:
    """The executor GRAPHQL_EXECUTOR names; None is Strawberry's stock one."""
    if executor not in EXECUTORS:
        raise ValueError(
            f"GRAPHQL_EXECUTOR must be one of {', '.join(EXECUTORS)}, not {executor!r}"
        )
    return _fast_executor() if executor == "fast" else None


@functools.cache
def _fast_executor() -> type[ExecutionContext] | None:
    """schema/execution.py's executor, checked once per process against the installed
    graphql-core and Strawberry; None (the stock executor) when they do not fit it."""
    try:
        from schema.execution import Executor, self_check

        self_check()
    except Exception as error:  # an internal it relies on moved: serve, more slowly
        log.warning(
            "GRAPHQL_EXECUTOR=fast does not work with strawberry-graphql %s and graphql-core %s "
            "(%s: %s); using the stock executor",
            importlib.metadata.version("strawberry-graphql"),
            graphql.__version__,
            type(error).__name__,
            error,
        )
        return None
    return Executor


# Strawberry fields are bound when a schema is built, so one schema per set of limits.
class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected errors (bad input, domain rules) are the client's business, not a log line;
        # unexpected ones are logged where they are formatted (schema/errors.py).
        return None


@functools.cache
def _schema(limits: Limits, executor: str) -> strawberry.Schema:
    return Schema(
        query=_query(),
        mutation=Mutation,
        execution_context_class=execution_context_class(executor),
        # one instance each per request; the parse and validation caches are module-level.
        # ErrorCodes first: the validation cache keys on the rules it sets
        extensions=[ErrorCodes, lambda: RequestLimits(limits)],
    )


schema = build_schema()
