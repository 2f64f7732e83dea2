"""The public GraphQL schema, composed from per-domain query and mutation classes."""

from __future__ import annotations

import functools
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay

from schema.accounts.mutations import AccountsMutation
from schema.accounts.queries import AccountsQuery
from schema.adjusters.mutations import AdjusterMutation
from schema.adjusters.queries import AdjusterQuery
from schema.claims.mutations import ClaimsMutation
from schema.claims.queries import ClaimsQuery
from schema.directory.queries import DirectoryQuery
from schema.execution import Executor
from schema.limits import Limits, RequestLimits
from schema.policies.mutations import PoliciesMutation
from server.settings import Settings


def _query() -> type:
    # a fresh class per schema: the relay `node` field is bound to the schema that builds it
    @strawberry.type(name="Query", description="Everything a client can read.")
    class Query(DirectoryQuery, AccountsQuery, ClaimsQuery, AdjusterQuery):
        node: relay.Node | None = relay.node(description="Any object by its global id.")

    return Query


@strawberry.type(description="Everything a client can change.")
class Mutation(AccountsMutation, PoliciesMutation, ClaimsMutation, AdjusterMutation):
    pass


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    s = settings or Settings()
    return _schema(
        Limits(
            max_depth=s.graphql_max_depth,
            max_aliases=s.graphql_max_aliases,
            max_tokens=s.graphql_max_tokens,
            max_fields=s.graphql_max_fields,
            max_cost=s.graphql_max_cost,
        )
    )


# Strawberry fields are bound when a schema is built, so one schema per set of limits.
class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Expected errors (bad input, domain rules) are the client's business, not a log line;
        # unexpected ones are logged where they are formatted (schema/errors.py).
        return None


@functools.cache
def _schema(limits: Limits) -> strawberry.Schema:
    return Schema(
        query=_query(),
        mutation=Mutation,
        execution_context_class=Executor,
        # one instance per request; its parse and validation caches are module-level
        extensions=[lambda: RequestLimits(limits)],
    )


schema = build_schema()
