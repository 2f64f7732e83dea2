"""The one Starlette application: GraphQL, H5 pages, static files, health."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from schema import build_schema
from schema.context import Context
from schema.errors import format_error
from server.directory.loader import load_directory
from server.directory.service import DirectoryService
from server.search import analysis
from server.search.factory import open_engine
from server.services import Services
from server.settings import ROOT, Settings, from_env

log = logging.getLogger("app")


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

    async def get_context(self, request: Any, response: Any) -> Context:
        return Context(request=request, response=response, services=self.services)

    def encode_json(self, data: object) -> bytes:
        # orjson keeps Chinese as UTF-8, not \uXXXX, and is several times faster
        return orjson.dumps(data)

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            debug = self.settings.debug
            data["errors"] = [format_error(e, debug=debug) for e in result.errors]  # type: ignore[typeddict-item]
        if result.extensions:
            data["extensions"] = result.extensions
        return data


def build_services(settings: Settings) -> Services:
    analysis.initialize()
    directory = load_directory(settings)  # raises InvalidDirectoryData: refuse to serve half
    engine = open_engine(settings, directory)
    return Services(settings=settings, directory=DirectoryService(directory, engine))


async def healthz(request: Request) -> Response:
    services: Services = request.app.state.services
    return JSONResponse(
        {"status": "ok", "facilities": len(services.directory.directory)},
    )


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Starlette:
    settings = settings or from_env()
    if settings.environment == "production" and settings.secret_key.startswith("dev-only"):
        raise RuntimeError("SECRET_KEY must be set in production.")
    services = services or build_services(settings)

    from h5.routes import routes as h5_routes

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/graphql", GraphQLApp(services, settings), methods=["GET", "POST"]),
        Mount("/h5", routes=h5_routes()),
        Mount("/static", StaticFiles(directory=ROOT / "h5" / "static"), name="static"),
    ]
    app = Starlette(debug=False, routes=routes)
    app.state.services = services
    app.state.settings = settings
    return app
