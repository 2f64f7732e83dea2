"""The one Starlette application: GraphQL, H5 pages, static files, health."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError, OperationType
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from strawberry import UNSET
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType as StrawberryOperation

from schema import build_schema, request_limits
from schema.budget import charge, charge_cost, retry_after
from schema.context import Context
from schema.errors import INTERNAL, format_error
from schema.persisted import (
    NOT_FOUND,
    PersistedQueries,
    PersistedQueryError,
    operation_type,
    registered_queries,
)
from schema.response_cache import KnownQueries, PublicQueries, data_version
from server.accounts.models import Account
from server.accounts.wiring import member_services
from server.api_budget import ApiBudget
from server.claims.core import claim_context
from server.claims.portal.captchas import make_challenges
from server.claims.rules import rule_book
from server.clock import system_clock
from server.db import (
    UNAVAILABLE,
    UNAVAILABLE_CODE,
    UNAVAILABLE_MESSAGE,
    make_engine,
    make_sessionmaker,
    migrate,
    unavailable,
    write_first,
)
from server.dbstats import watch
from server.directory.loader import load_directory
from server.directory.models import Facility
from server.directory.places import load_gazetteer
from server.directory.service import DirectoryService
from server.errors import DomainError
from server.hospital_records import make_hospital_records, medical_list
from server.logs import configure_logging
from server.metrics import ANONYMOUS_CLIENT, graphql_refused, observe_operation
from server.partners import service as partners
from server.response_cache import make_response_cache
from server.search import analysis
from server.search.factory import index_key, open_engine
from server.services import Services
from server.sessions import SessionKind
from server.settings import ROOT, Environment, Settings, from_env

if TYPE_CHECKING:
    from schema.prepared import Prepared, PreparedOperations

log = logging.getLogger(__name__)


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, services: Services, settings: Settings) -> None:
        schema = build_schema(settings)
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql else None,
            # the view runs no GET: GET is persisted queries only (`_get`), so search text
            # reaches URLs (and access logs) only where a client chose a cacheable GET
            allow_queries_via_get=False,
        )
        self.services = services
        self.settings = settings
        # the plain-POST path below goes with the fast executor (GRAPHQL_EXECUTOR)
        self.plain_posts = settings.graphql_executor == "fast"
        self.limits = request_limits(settings)
        self.graphql_schema = schema._schema
        self.budget = (
            ApiBudget(
                settings,
                services.members.limiter,
                services.members.vault,
                services.members.accounts.sessions,
                services.db,
                # a member's account is read with the session, for the request to take over
                subjects={SessionKind.MEMBER: Account},
            )
            if services.db is not None and services.members is not None
            else None
        )
        self.persisted = PersistedQueries(registered_queries(), settings.persisted_query_cache)
        # answers to identical anonymous directory queries (schema/response_cache.py)
        self.response_cache = make_response_cache(settings)
        self.public_queries = PublicQueries(settings.graphql_max_tokens)
        self._versions: dict[int, tuple[object, str]] = {}
        self._known = KnownQueries()
        # known anonymous queries run without schema.execute (the fast executor only)
        self.prepared_operations = _prepared_operations(schema, self.limits)

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if not isinstance(request, Request):
            return await self._dispatch(request, context, root_value)
        if request.method == "GET" and _wants_get_api(request):
            request.state.persisted = True
            return await self._in_session(request, self._get)
        raw: bytes | None = None  # the body's key among known public queries
        if request.method == "POST" and self._may_share(request, context, root_value):
            refusal = await _read_body(request)
            if refusal is not None:
                return refusal
            raw = self._raw_key(request._body)
            answer = await self._known_answer(request, raw)
            if answer is not None:
                return answer
        refusal = await _refuse_malformed(request) or self._resolve_persisted(request)
        body = getattr(request.state, "graphql_body", None)
        if refusal is None and body is not None:
            refusal = await self._spend(request, body)
        if refusal is not None:
            return refusal
        key = self._cache_key(request, context, root_value)
        if key is not None:
            assert self.response_cache is not None
            data = body if isinstance(body, dict) else {}
            known = self._known.remember(
                raw, key, getattr(request.state, "graphql_cost", None), data.get("operationName")
            )
            cached = self.response_cache.get(key)
            if cached is not None:
                observe_operation(known.operation, known.cost, _client(request))
                return known.response(request, cached)
        if context is not UNSET:
            response = await self._dispatch(request, context, root_value)
        else:
            response = await self._in_session(request, lambda r: self._dispatch(r, UNSET, UNSET))
        if (
            key is not None
            and isinstance(response, Response)
            and response.status_code == 200
            and getattr(request.state, "graphql_errors", True) is False
        ):
            assert self.response_cache is not None
            self.response_cache.put(key, bytes(response.body))
        return response

    def _may_share(self, request: Request, context: Any, root_value: Any) -> bool:
        """Headers that allow an answer from the response cache (`_cache_key` checks the body)."""
        if self.response_cache is None or context is not UNSET or root_value is not UNSET:
            return False
        headers = request.headers
        return (
            "authorization" not in headers
            and PARTNER_HEADER not in headers
            and headers.get("accept") in _PLAIN_ACCEPT
        )

    def _raw_key(self, body: bytes) -> bytes:
        # the same bytes under the same data version: the same request, unparsed
        h = hashlib.sha256(self._data_version().encode())
        h.update(body)
        return h.digest()

    async def _known_answer(self, request: Request, raw: bytes) -> Response | None:
        """A cached answer to a body seen before, found before the body is even parsed.

        The request pays its cost and counts in the metrics as if it had been parsed."""
        known = self._known.get(raw)
        if known is None:
            return None
        assert self.response_cache is not None
        cached = self.response_cache.get(known.key)
        if cached is None:
            return None
        if self.budget is not None and known.cost is not None:
            refusal = await charge_cost(request, self.budget, known.cost)
            if refusal is not None:
                graphql_refused(_client(request), RATE_LIMITED)
                return refusal
        observe_operation(known.operation, known.cost, _client(request))
        return known.response(request, cached)

    async def _spend(self, request: Request, body: dict[str, Any]) -> Response | None:
        """Charge a request's cost before it runs (schema/budget.py): the one anonymous
        budget per client address, or a sign-in session's. A request with a partner key
        pays under that key instead (`_admit`). Over budget: the 429 to answer."""
        if self.budget is None or PARTNER_HEADER in request.headers:
            return None
        refusal = await charge(request, self.budget, self.graphql_schema, self.limits, body)
        if refusal is not None:
            graphql_refused(_client(request), RATE_LIMITED)
        return refusal

    def _cache_key(self, request: Request, context: Any, root_value: Any) -> str | None:
        """The response cache's key for an anonymous public directory query, else None."""
        if self.response_cache is None or context is not UNSET or root_value is not UNSET:
            return None
        headers = request.headers
        if "authorization" in headers or headers.get("accept") not in _PLAIN_ACCEPT:
            return None  # signed in (or trying to be), or asking for another transport
        if PARTNER_HEADER in headers:
            return None  # a partner's every request counts under its key's budget
        data = getattr(request.state, "graphql_body", None)
        if not isinstance(data, dict) or data.get("extensions") is not None:
            return None
        query = data.get("query")
        if not isinstance(query, str) or not query:
            return None
        return self.public_queries.key(
            self._data_version(), query, data.get("variables"), data.get("operationName")
        )

    def _data_version(self) -> str:
        # what public answers depend on besides the request; remembered per loaded directory
        service = self.services.directory
        seen = self._versions.get(id(service))
        if seen is not None and seen[0] is service:
            return seen[1]
        version = data_version(
            index_key(service.directory),
            service.engine.name,
            analysis.fingerprint(),
            str(self.schema),
            repr(self.settings.graphql_max_cost),
        )
        self._versions = {id(service): (service, version)}
        return version

    async def _in_session(self, request: Any, answer: Any) -> Any:
        # One database session per request: committed after the response is built, rolled
        # back as a whole when anything unexpected happened (typed errors still commit, so
        # e.g. a wrong SMS code's try is counted).
        factory = self.services.db
        if factory is None:
            return await answer(request)
        session = factory()
        if _may_write(request):
            write_first(session)
        request.state.db = session
        request.state.db_failed = False
        try:
            budget, refusal = self._admit(request, session)
            if refusal is not None:
                return refusal
            response = await answer(request)
            if getattr(request.state, "db_unavailable", False) and isinstance(response, Response):
                # nothing was saved: the same 503 as any other request the database failed
                response.status_code = 503
                response.headers["Retry-After"] = "1"
            if request.state.db_failed:
                session.rollback()
            elif session.in_transaction():  # else nothing was read or written: nothing to end
                try:
                    session.commit()
                except UNAVAILABLE as e:
                    session.rollback()
                    if not _may_write(request):
                        # a read's only writes are bookkeeping (a session's idle clock): a
                        # database that cannot write (a full disk) does not cost the answer
                        log.warning("a read's bookkeeping could not be committed")
                    elif unavailable(e):
                        # the answer built above did not happen: say so instead
                        log.warning("database unavailable at commit: %s", type(e).__name__)
                        return _unavailable_response(graphql=True)
                    else:
                        # the answer built says done: it is not, and says so as JSON
                        log.warning("a GraphQL request's commit failed: %s", type(e).__name__)
                        return _refusal(500, "Nothing was saved; please try again.", INTERNAL)
            if budget is not None:
                self._charge(request, session, budget)
            return response
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def _admit(self, request: Request, session: Any) -> tuple[partners.Budget | None, Any]:
        """A request with a partner key: the key's budget, or the refusal (401, 429) it
        gets. Requests without a key are charged by `_spend` (None, None here)."""
        members = self.services.members
        raw = request.headers.get(PARTNER_HEADER)
        if members is None or raw is None:
            return None, None
        try:
            budget = partners.partner_budget(partners.find(session, raw.strip()))
        except DomainError as e:
            client = e.client if isinstance(e, partners.PartnerKeyRevoked) else ANONYMOUS_CLIENT
            graphql_refused(client, e.code)
            return None, _refusal(401, e.message, e.code)
        request.state.graphql_client = budget.label
        decision = partners.admit(members.limiter, session, budget)
        session.commit()  # the count stands whatever the request does next
        if not decision.allowed:
            graphql_refused(budget.label, RATE_LIMITED)
            spent = "cost" if decision.policy == budget.cost.name else "request"
            refusal = _refusal(
                429,
                f"Over this client's {spent} budget; try again in {decision.retry_after_seconds} s.",
                RATE_LIMITED,
            )
            refusal.headers["Retry-After"] = str(decision.retry_after_seconds)
            return None, refusal
        return budget, None

    def _charge(self, request: Request, session: Any, budget: partners.Budget) -> None:
        cost = getattr(request.state, "graphql_cost", None)
        if cost is None or self.services.members is None:
            return
        try:
            partners.charge(self.services.members.limiter, session, budget, cost)
            session.commit()
        except UNAVAILABLE as e:
            session.rollback()
            log.warning("database unavailable counting a query's cost: %s", type(e).__name__)

    def _resolve_persisted(self, request: Request) -> Response | None:
        """A POST naming a persisted query gets its text (or an error) before it runs."""
        data = getattr(request.state, "graphql_body", None)
        if not isinstance(data, dict) or not isinstance(data.get("extensions"), dict):
            return None
        if "persistedQuery" not in data["extensions"]:
            return None
        request.state.persisted = True
        try:
            query = self.persisted.resolve(data.get("query"), data["extensions"])
        except PersistedQueryError as e:
            return _persisted_refusal(e)
        if query != data.get("query"):
            data = {**data, "query": query}
            request._body = orjson.dumps(data)
            request.state.graphql_body = data
        return None

    async def _get(self, request: Request) -> Response:
        """A query fetched by GET with its persisted hash: cacheable, never a mutation."""
        params = request.query_params
        try:
            extensions = _json_param(params.get("extensions"), "extensions")
            variables = _json_param(params.get("variables"), "variables")
        except ValueError as e:
            return _refusal(400, str(e), BAD_REQUEST)
        name = params.get("operationName") or None
        if not extensions or "persistedQuery" not in extensions:
            return _refusal(
                400,
                "GET runs persisted queries only: send `extensions` with `persistedQuery.sha256Hash` (or POST the query).",
                BAD_REQUEST,
            )
        try:
            query = self.persisted.resolve(params.get("query"), extensions)
        except PersistedQueryError as e:
            return _persisted_refusal(e)
        assert query is not None
        kind = operation_type(query, name, self.settings.graphql_max_tokens)
        if kind is not None and kind is not OperationType.QUERY:
            refusal = _refusal(
                405, f"A {kind.value} cannot be sent by GET: POST it.", METHOD_NOT_ALLOWED
            )
            refusal.headers["Allow"] = "POST"
            return refusal
        over = await self._spend(
            request, {"query": query, "variables": variables, "operationName": name}
        )
        if over is not None:
            over.headers["Cache-Control"] = "no-store"
            return over
        response = await self._execute_plain(
            request, query, variables, name, extensions, allowed={QUERY_ONLY}
        )
        if response is None:
            return _refusal(400, "No operation of that name in the query.", BAD_REQUEST)
        return _cacheable(request, response, self.settings.graphql_get_max_age)

    async def _dispatch(self, request: Any, context: Any, root_value: Any) -> Any:
        """Strawberry's view, or for a plain JSON POST the same steps without its dispatch.

        Strawberry's view first works out what kind of request it has (IDE page, GET,
        multipart upload, batch, streamed subscription, WebSocket), which costs about a
        tenth of a small query. With GRAPHQL_EXECUTOR=fast, an ordinary API call, a JSON
        object with a query POSTed as application/json, takes the steps that view would
        take for it, through the view's own methods: context, the same schema execution,
        result processing and response. Anything else, including a body that is not such
        an object, goes to the view, which answers as it always has (the body stays
        readable: Starlette keeps it). With GRAPHQL_EXECUTOR=stock the view answers all.
        """
        if (
            self.plain_posts
            and context is UNSET
            and root_value is UNSET
            and isinstance(request, Request)
        ):
            operation = await _plain_operation(request)
            if operation is not None:
                response = await self._execute_plain(request, *operation)
                if response is not None:
                    return response
        return await super().run(request, context, root_value)

    async def _execute_plain(
        self,
        request: Request,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        extensions: dict[str, Any] | None,
        allowed: set[StrawberryOperation] | None = None,
    ) -> Response | None:
        """The view's answer to one POSTed operation; None where the view answers 400."""
        root_value = await self.get_root_value(request)  # type: ignore[func-returns-value]
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        prepared = self._prepared(request, query, operation_name, variables)
        if prepared is not None:
            # worked out by `_spend` for this very request where a budget charged it
            cost = getattr(request.state, "graphql_cost", None)
            if cost is None:
                cost = prepared.cost(variables)
            if cost <= prepared.max_cost:
                # None: something unusual, and what ran was a read: run again below,
                # where errors are reported as usual
                data = prepared.answer(root_value, context, variables)
                if data is not None:
                    result = ExecutionResult(
                        data=data,
                        errors=None,
                        extensions={
                            "cost": {
                                "requestedQueryCost": cost,
                                "maximumAvailable": prepared.max_cost,
                            }
                        },
                    )
                    response_data = await self.process_result(request, result)
                    return self.create_response(
                        response_data=response_data, sub_response=sub_response
                    )
                # a fresh context: nothing the resolvers noted on the first run counts
                sub_response = await self.get_sub_response(request)
                context = await self.get_context(request, response=sub_response)
        try:
            # every operation type is allowed over POST: the default
            result = await self.schema.execute(
                query,
                root_value=root_value,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
                operation_extensions=extensions,
                allowed_operation_types=allowed,
            )
        except Exception:
            # Strawberry's execute turns every error into a result, except a request it
            # cannot run at all (unknown or ambiguous operation name), which the view
            # answers with a 400 before anything has run: let it
            return None
        response_data = await self.process_result(request, result)
        return self.create_response(response_data=response_data, sub_response=sub_response)

    def _prepared(
        self,
        request: Request,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
    ) -> Prepared | None:
        """The prepared operation for a known query (schema/prepared.py), if any.

        Anonymous requests only: a signed-in or partner request's resolvers may note
        bookkeeping (a session's idle clock) that running them twice would repeat."""
        operations = self.prepared_operations
        headers = request.headers
        if operations is None or "authorization" in headers or PARTNER_HEADER in headers:
            return None
        return operations.get(query, operation_name, variables)

    async def get_context(self, request: Any, response: Any) -> Context:
        context = Context(
            request=request,
            response=response,
            services=self.services,
            db=getattr(request.state, "db", None),
        )
        request.state.graphql_context = context  # process_result reads what resolvers noted
        return context

    def encode_json(self, data: object) -> bytes:
        # orjson keeps Chinese as UTF-8, not \uXXXX, and is several times faster
        return orjson.dumps(data)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        cost = (result.extensions or {}).get("cost")
        if isinstance(cost, dict) and isinstance(request, Request):
            request.state.graphql_cost = cost.get("requestedQueryCost")
        if isinstance(request, Request):
            request.state.graphql_errors = bool(result.errors)
        if result.errors:
            if any(_unexpected(e) for e in result.errors):
                request.state.db_failed = True
            if any(unavailable(e.original_error) for e in result.errors):
                request.state.db_unavailable = True
            debug = self.settings.debug
            data["errors"] = [format_error(e, debug=debug) for e in result.errors]  # type: ignore[typeddict-item]
        if result.extensions:
            data["extensions"] = result.extensions
        body = getattr(request.state, "graphql_body", None) or {}
        cost = (result.extensions or {}).get("cost", {}).get("requestedQueryCost")
        operation = body.get("operationName")
        if isinstance(request, Request) and request.method == "GET":
            operation = request.query_params.get("operationName")
        observe_operation(operation, cost, _client(request))
        context: Context | None = getattr(request.state, "graphql_context", None)
        wait = retry_after(result, context)
        if context is not None and wait is not None:
            # every root field refused by a limit: 429, the body as it is
            context.response.status_code = 429
            context.response.headers["Retry-After"] = str(wait)
        return data


def _prepared_operations(schema: Any, limits: Any) -> PreparedOperations | None:
    """Prepared operations (schema/prepared.py) with the fast executor; None with the stock
    one, or where an upgrade moved an internal they rely on (logged: served as before)."""
    try:
        from schema.execution import Executor
        from schema.prepared import PreparedOperations

        if schema.execution_context_class is not Executor:
            return None
        return PreparedOperations(schema._schema, limits)
    except ImportError as error:
        log.warning("prepared GraphQL operations are off: %s", error)
        return None


# what clients of the API send; other Accept values may ask for a streamed transport
_PLAIN_ACCEPT = (None, "*/*", "application/json")


async def _plain_operation(
    request: Request,
) -> tuple[str, dict[str, Any] | None, str | None, dict[str, Any] | None] | None:
    """(query, variables, operation name, extensions) of a plain JSON POST, else None."""
    if request.method != "POST":
        return None
    headers = request.headers
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" or headers.get("accept") not in _PLAIN_ACCEPT:
        return None
    data = getattr(request.state, "graphql_body", None)  # parsed by _refuse_malformed
    if data is None:
        try:
            data = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None  # the view gives its own answer
    if not isinstance(data, dict):
        return None
    query = data.get("query")
    variables = data.get("variables")
    name = data.get("operationName")
    extensions = data.get("extensions")
    if (
        not isinstance(query, str)
        or not query
        or not isinstance(variables, dict | None)
        or not isinstance(name, str | None)
        or not isinstance(extensions, dict | None)
    ):
        return None
    return query, variables, name, extensions


PARTNER_HEADER = "x-api-key"
QUERY_ONLY = StrawberryOperation.QUERY
RATE_LIMITED = "RATE_LIMITED"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"


def _client(request: Request) -> str:
    """The metrics label of who sent a request: its partner key's, else anonymous."""
    return str(getattr(request.state, "graphql_client", ANONYMOUS_CLIENT))


def _wants_get_api(request: Request) -> bool:
    """A GET of the API (any query parameter), not the GraphiQL page (none)."""
    return bool(request.query_params)


def _json_param(value: str | None, name: str) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise ValueError(f"`{name}` is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ValueError(f"`{name}` must be a JSON object.")
    return data


def _persisted_refusal(error: PersistedQueryError) -> Response:
    # Apollo clients answer a miss by sending the text: a 200 with the error, never cached
    refusal = _refusal(200 if error.code == NOT_FOUND else 400, error.message, error.code)
    refusal.headers["Cache-Control"] = "no-store"
    return refusal


def _cacheable(request: Request, response: Response, max_age: int) -> Response:
    """ETag, Cache-Control and a 304 when the client has this answer already.

    Public only when the request carried no credentials and the answer no errors.
    """
    body = bytes(response.body)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    private = "authorization" in request.headers or b'"errors"' in body
    cache = "private, no-store" if private else f"public, max-age={max_age}"
    if not private and etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
    response.headers["Cache-Control"] = cache
    if not private:
        response.headers["ETag"] = etag
    return response


def _etags(header: str) -> set[str]:
    # weak comparison (RFC 9110 8.8.3.2): a compressed copy's W/ tag names the same answer
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


MAX_BODY_BYTES = 1024 * 1024  # a GraphQL request is a query and its variables, never a file
BAD_REQUEST = "BAD_REQUEST"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


def _refusal(status: int, message: str, code: str) -> Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _refuse_malformed(request: Request) -> Response | None:
    """A GraphQL-shaped 400 or 413 for a POST that cannot be a GraphQL request, else None.

    The body is read here (unless `_read_body` read it already), at most MAX_BODY_BYTES of
    it, and kept on the request (as Starlette's Request.body() keeps it) for the view.
    """
    if request.method != "POST":
        return None
    if not hasattr(request, "_body"):
        refusal = await _read_body(request)
        if refusal is not None:
            return refusal
    try:
        data = orjson.loads(request._body)
    except orjson.JSONDecodeError:
        return _refusal(400, "The request body is not valid JSON (UTF-8).", BAD_REQUEST)
    if isinstance(data, list):
        return _refusal(
            400, "Batches are not supported: send one operation per request.", BAD_REQUEST
        )
    if not isinstance(data, dict):
        return _refusal(400, "The request body must be a JSON object with a `query`.", BAD_REQUEST)
    if not isinstance(data.get("query"), str | None):
        return _refusal(400, "`query` must be a string.", BAD_REQUEST)
    if not isinstance(data.get("variables"), dict | None):
        return _refusal(400, "`variables` must be a JSON object.", BAD_REQUEST)
    if not isinstance(data.get("operationName"), str | None):
        return _refusal(400, "`operationName` must be a string.", BAD_REQUEST)
    request.state.graphql_body = data  # the fast path reads it instead of parsing again
    return None


async def _read_body(request: Request) -> Response | None:
    """Reads a JSON POST's body onto the request (`_body`, as Request.body() keeps it):
    None, or the GraphQL-shaped 400 (not JSON) or 413 (over MAX_BODY_BYTES) to answer."""
    too_large = _refusal(
        413,
        f"The request body is over {MAX_BODY_BYTES // 1024} KB; a GraphQL request carries a query and its variables only.",
        PAYLOAD_TOO_LARGE,
    )
    length = request.headers.get("content-length", "")
    if length and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        return too_large
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return _refusal(
            400,
            'POST a JSON object ({"query": ..., "variables": ...}) as application/json.',
            BAD_REQUEST,
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return too_large
    request._body = bytes(body)  # what Request.body() would keep
    return None


def _unavailable_response(*, graphql: bool) -> Response:
    """503 with a code and Retry-After, GraphQL-shaped on /graphql, the API's shape elsewhere."""
    error = {"message": UNAVAILABLE_MESSAGE, "extensions": {"code": UNAVAILABLE_CODE}}
    body = (
        {"data": None, "errors": [error]}
        if graphql
        else {"error": {"code": UNAVAILABLE_CODE, "message": UNAVAILABLE_MESSAGE}}
    )
    headers = {"Retry-After": "1", "Cache-Control": "no-store"}
    return Response(orjson.dumps(body), 503, headers=headers, media_type="application/json")


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    graphql = request.url.path.startswith("/graphql")
    if not unavailable(exc):  # a full disk: not worth a quick retry, and no SQL shown
        from api.guard import MESSAGES, STORAGE_FULL, error_json

        log.error("database cannot write on %s: %s", request.url.path, type(exc).__name__)
        if graphql:
            return _refusal(500, "Nothing was saved; please try again later.", INTERNAL)
        return error_json(STORAGE_FULL, MESSAGES[STORAGE_FULL], 507)
    log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
    return _unavailable_response(graphql=graphql)


def _may_write(request: Any) -> bool:
    """A mutation, perhaps (a cheap look at the text: a query naming `mutation` only pays
    for a lock it did not need): its transaction takes SQLite's write lock first."""
    body = getattr(request.state, "graphql_body", None) if isinstance(request, Request) else None
    query = body.get("query") if isinstance(body, dict) else None
    return isinstance(query, str) and "mutation" in query


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, DomainError | GraphQLError)


def facility_place(get: Callable[[str], Facility | None], facility_id: str) -> str | None:
    """A directory facility's city and district, where claims ask where a hospital is."""
    facility = get(facility_id)
    return None if facility is None else f"{facility.city}{facility.district}"


def build_services(settings: Settings) -> Services:
    analysis.initialize()
    directory = load_directory(settings)  # raises InvalidDirectoryData: refuse to serve half
    engine = open_engine(settings, directory)
    db_engine = make_engine(settings.resolved_database_url)
    members = member_services(settings)
    # idempotent: a fresh SQLite file gets its tables, others are brought up to date
    migrate(db_engine, members.vault)
    rule_book()  # raises InvalidRules: no claims under half a rule set
    db_stats = watch(db_engine) if settings.db_stats else None  # after the migrations
    return Services(
        settings=settings,
        directory=DirectoryService(directory, engine, load_gazetteer(settings.data_dir)),
        db=make_sessionmaker(db_engine),
        members=members,
        claims=claim_context(
            settings,
            members.vault,
            members.accounts.codes,
            system_clock,
            hospital_records=make_hospital_records(
                settings.hospital_records_url,
                medical_list(directory),
                timeout=settings.hospital_records_timeout,
                production=settings.environment == Environment.production,
            ),
            facility_place=functools.partial(facility_place, directory.get),
        ),
        challenges=make_challenges(settings.redis_url, settings.redis_prefix),
        db_stats=db_stats,
    )


async def db_stats(request: Request) -> Response:
    """This process's database counters (DB_STATS=1: benchmarks, never production)."""
    stats = request.app.state.services.db_stats
    return JSONResponse({"pid": os.getpid(), **(stats.snapshot() if stats else {})})


async def healthz(request: Request) -> Response:
    services: Services = request.app.state.services
    return JSONResponse(
        {"status": "ok", "facilities": len(services.directory.directory)},
    )


@contextlib.asynccontextmanager
async def _notifier_lifespan(app: Starlette) -> AsyncIterator[None]:
    """With NOTIFIER=inprocess (the development default) queued SMS and e-mail are delivered
    by a thread of the server itself; production runs scripts/run_notifier.py instead."""
    settings: Settings = app.state.settings
    services: Services = app.state.services
    if settings.notifier != "inprocess" or services.db is None or services.members is None:
        yield
        return
    from server.notify.email import make_email_sender
    from server.notify.worker import run_forever

    email = make_email_sender(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
        connect_timeout=settings.notify_connect_timeout,
    )
    stop = threading.Event()
    worker = threading.Thread(
        target=run_forever,
        args=(services.db, services.members.sms, email),
        kwargs={"vault": services.members.vault, "interval": 2.0, "stop": stop},
        name="notifier",
        daemon=True,
    )
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join(10)


def _h5_app(settings: Settings, routes: list[BaseRoute]) -> Any:
    """The H5 pages, behind the built static site when STATIC_SITE_DIR holds one."""
    from starlette.routing import Router

    from h5.built import BuiltSite

    pages = Router(routes=routes)
    folder = settings.static_site_dir
    if folder is not None and (folder / "h5").is_dir():
        return BuiltSite(folder / "h5", pages)
    return pages


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Starlette:
    # Settings refuse production without its own secrets when they are made; the factory
    # call (uvicorn --factory) reads the environment and stops with the problems listed.
    settings = settings or from_env()
    configure_logging(settings)
    services = services or build_services(settings)

    from api.certificates import routes as certificate_routes
    from api.claim_files import routes as claim_file_routes
    from api.claim_uploads import routes as upload_routes
    from api.http_cache import Compress, Conditional
    from api.office_uploads import routes as office_upload_routes
    from api.ops import RequestMetrics
    from api.ops import routes as ops_routes
    from api.pre_auth_uploads import routes as pre_auth_upload_routes
    from api.request_uploads import routes as request_upload_routes
    from api.service_request_uploads import routes as service_request_upload_routes
    from api.uxiang_uploads import routes as uxiang_upload_routes
    from h5.routes import landing as h5_landing
    from h5.routes import routes as h5_routes
    from h5.templating import CachedStatic

    routes: list[BaseRoute] = [
        Route("/", h5_landing),
        Route("/healthz", healthz),
        *ops_routes(),
        Route("/graphql", GraphQLApp(services, settings), methods=["GET", "POST"]),
        Mount("/h5", app=_h5_app(settings, h5_routes())),
        *certificate_routes(),
        *claim_file_routes(),
        *upload_routes(),
        *pre_auth_upload_routes(),
        *uxiang_upload_routes(),
        *service_request_upload_routes(),
        *request_upload_routes(),
        *office_upload_routes(),
        Mount("/static", CachedStatic(directory=ROOT / "h5" / "static"), name="static"),
    ]
    if settings.db_stats:
        routes.append(Route("/_stats/db", db_stats))
    app = Starlette(
        debug=False,
        routes=routes,
        lifespan=_notifier_lifespan,
        middleware=[Middleware(RequestMetrics, routes=routes)],
    )
    app.state.services = services
    app.state.settings = settings
    # ETags and 304s on whole GET answers, then br/gzip (the outer one: tags name content)
    app.add_middleware(Conditional)
    app.add_middleware(Compress)
    for error in UNAVAILABLE:  # a dropped database connection anywhere: 503 with a code
        app.add_exception_handler(error, _database_unavailable)
    return app
