"""The one Starlette application: GraphQL, H5 pages, static files, health."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry import UNSET
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from schema import build_schema
from schema.context import Context
from schema.errors import format_error
from server.accounts.wiring import member_services
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
)
from server.directory.loader import load_directory
from server.directory.service import DirectoryService
from server.errors import DomainError
from server.logs import configure_logging
from server.search import analysis
from server.search.factory import open_engine
from server.services import Services
from server.settings import ROOT, Settings, from_env

log = logging.getLogger(__name__)


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, services: Services, settings: Settings) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide="graphiql" if settings.graphiql else None,
            # no GET: queries change nothing, but GET would put search text in access logs
            allow_queries_via_get=False,
        )
        self.services = services
        self.settings = settings
        # the plain-POST path below goes with the fast executor (GRAPHQL_EXECUTOR)
        self.plain_posts = settings.graphql_executor == "fast"

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if isinstance(request, Request):
            refusal = await _refuse_malformed(request)
            if refusal is not None:
                return refusal
        # One database session per request: committed after the response is built, rolled
        # back as a whole when anything unexpected happened (typed errors still commit, so
        # e.g. a wrong SMS code's try is counted).
        factory = self.services.db
        if factory is None or context is not UNSET:
            return await self._dispatch(request, context, root_value)
        session = factory()
        request.state.db = session
        request.state.db_failed = False
        try:
            response = await self._dispatch(request, context, root_value)
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
                    # the answer built above did not happen: say so instead
                    log.warning("database unavailable at commit: %s", type(e).__name__)
                    return _unavailable_response(graphql=True)
            return response
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

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
    ) -> Response | None:
        """The view's answer to one POSTed operation; None where the view answers 400."""
        root_value = await self.get_root_value(request)  # type: ignore[func-returns-value]
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
            )
        except Exception:
            # Strawberry's execute turns every error into a result, except a request it
            # cannot run at all (unknown or ambiguous operation name), which the view
            # answers with a 400 before anything has run: let it
            return None
        response_data = await self.process_result(request, result)
        return self.create_response(response_data=response_data, sub_response=sub_response)

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(
            request=request,
            response=response,
            services=self.services,
            db=getattr(request.state, "db", None),
        )

    def encode_json(self, data: object) -> bytes:
        # orjson keeps Chinese as UTF-8, not \uXXXX, and is several times faster
        return orjson.dumps(data)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            if any(_unexpected(e) for e in result.errors):
                request.state.db_failed = True
            if any(unavailable(e.original_error) for e in result.errors):
                request.state.db_unavailable = True
            debug = self.settings.debug
            data["errors"] = [format_error(e, debug=debug) for e in result.errors]  # type: ignore[typeddict-item]
        if result.extensions:
            data["extensions"] = result.extensions
        return data


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


MAX_BODY_BYTES = 1024 * 1024  # a GraphQL request is a query and its variables, never a file
BAD_REQUEST = "BAD_REQUEST"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


def _refusal(status: int, message: str, code: str) -> Response:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _refuse_malformed(request: Request) -> Response | None:
    """A GraphQL-shaped 400 or 413 for a POST that cannot be a GraphQL request, else None.

    The body is read here, at most MAX_BODY_BYTES of it, and kept on the request (as
    Starlette's Request.body() keeps it) for the view.
    """
    if request.method != "POST":
        return None
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
    log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
    return _unavailable_response(graphql=request.url.path.startswith("/graphql"))


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, DomainError | GraphQLError)


def build_services(settings: Settings) -> Services:
    analysis.initialize()
    directory = load_directory(settings)  # raises InvalidDirectoryData: refuse to serve half
    engine = open_engine(settings, directory)
    db_engine = make_engine(settings.resolved_database_url)
    members = member_services(settings)
    # idempotent: a fresh SQLite file gets its tables, others are brought up to date
    migrate(db_engine, members.vault)
    rule_book()  # raises InvalidRules: no claims under half a rule set
    return Services(
        settings=settings,
        directory=DirectoryService(directory, engine),
        db=make_sessionmaker(db_engine),
        members=members,
        claims=claim_context(settings, members.vault, members.accounts.codes, system_clock),
        challenges=make_challenges(settings.redis_url, settings.redis_prefix),
    )


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


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Starlette:
    # Settings refuse production without its own secrets when they are made; the factory
    # call (uvicorn --factory) reads the environment and stops with the problems listed.
    settings = settings or from_env()
    configure_logging(settings)
    services = services or build_services(settings)

    from api.certificates import routes as certificate_routes
    from api.claim_files import routes as claim_file_routes
    from api.claim_uploads import routes as upload_routes
    from api.pre_auth_uploads import routes as pre_auth_upload_routes
    from h5.routes import landing as h5_landing
    from h5.routes import routes as h5_routes

    routes: list[BaseRoute] = [
        Route("/", h5_landing),
        Route("/healthz", healthz),
        Route("/graphql", GraphQLApp(services, settings), methods=["GET", "POST"]),
        Mount("/h5", routes=h5_routes()),
        *certificate_routes(),
        *claim_file_routes(),
        *upload_routes(),
        *pre_auth_upload_routes(),
        Mount("/static", StaticFiles(directory=ROOT / "h5" / "static"), name="static"),
    ]
    app = Starlette(debug=False, routes=routes, lifespan=_notifier_lifespan)
    app.state.services = services
    app.state.settings = settings
    for error in UNAVAILABLE:  # a dropped database connection anywhere: 503 with a code
        app.add_exception_handler(error, _database_unavailable)
    return app
