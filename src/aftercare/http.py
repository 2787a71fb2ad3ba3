"""One skeleton for every service's HTTP API: the front door, problem details, health
routes, API documentation served from the package, and an OpenAPI document that says
what the API really answers.

The OpenAPI document is what integrators generate clients from and what the fuzzer
checks answers against, so every error status an operation can return is declared
with the problem+json shape (RFC 9457), and authentication is a bearer scheme that
Swagger UI's "Authorize" button fills in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Message, Scope

from aftercare import __version__, heap
from aftercare.asgi import DoorLimits, FrontDoor
from aftercare.auth import KeyRing
from aftercare.health import ReadinessCheck, install_health_routes
from aftercare.problems import PROBLEM_JSON, install_problem_handlers
from aftercare.settings import Settings

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; extension members name the field or rule",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": "string"},
        "rule": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "additionalProperties": True,
}
_WHY = {
    "400": "The address holds characters no endpoint accepts",
    "401": "No API key, or an unknown one",
    "403": "The key's role may not do this",
    "404": "No such resource",
    "409": "The resource has changed since the version sent",
    "413": "The body is larger than AFTERCARE_MAX_BODY_BYTES",
    "415": "The body is not JSON",
    "422": "The request is not valid, or a business rule refuses it",
    "500": "An unexpected error (quote the request id)",
    "503": "The database does not answer; repeat with the same Idempotency-Key",
}
_ASSETS = "/docs/assets"


def door_limits(settings: Settings) -> DoorLimits:
    return DoorLimits(settings.max_body_bytes, settings.max_header_chars)


NO_OPENTELEMETRY: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}
"""FastAPI's own OpenTelemetry, off. The parts report through Prometheus (``/metrics``)
and structlog, which keeps personal data out; FastAPI's would record exception messages
(which can quote a request) with any provider an environment configures, and asks the
global providers whether one is configured on every request (5 % of a command's time)."""


async def prepare_routes(app: FastAPI) -> None:
    """Have FastAPI prepare every route before the first caller arrives.

    FastAPI works out each route's dependencies and parameters when the first request
    reaches its router (about 100 ms for the ticket API's): a newly started process would
    make its first caller wait for it. One request for a path no route has, sent straight
    to the router (no middleware: nothing logged, counted or authenticated), walks every
    route once and so prepares them all, before the process reports ready."""
    path = "/.prepare-routes"
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": None,
        "server": None,
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: Message) -> None:
        return None

    await app.router(scope, receive, send)


def _with_prepared_routes(lifespan: Callable[[FastAPI], Any] | None) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def prepared(app: FastAPI) -> AsyncIterator[None]:
        await prepare_routes(app)
        heap.settle()  # the app is built and its routes prepared: start-up is over
        if lifespan is None:
            yield
            return
        async with lifespan(app):
            yield

    return prepared


def create_service_app(
    *,
    title: str,
    description: str,
    engine: AsyncEngine,
    keys: KeyRing,
    limits: DoorLimits | None = None,
    lifespan: Callable[[FastAPI], Any] | None = None,
    readiness: ReadinessCheck | None = None,
) -> FastAPI:
    app = FastAPI(
        title=title,
        version=__version__,
        description=description,
        lifespan=_with_prepared_routes(lifespan),
        docs_url=None,
        redoc_url=None,
        telemetry=NO_OPENTELEMETRY,
    )
    app.state.api_keys = keys
    app.state.engine = engine
    install_problem_handlers(app)
    install_health_routes(app, engine, readiness)
    _install_docs(app)
    app.add_middleware(FrontDoor, limits=limits or DoorLimits())

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = documented(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _install_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc from the files bundled in ``fastapi-offline``: the pages work
    on a machine without internet."""
    static = files("fastapi_offline") / "static"
    app.mount(_ASSETS, StaticFiles(directory=str(static)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_ASSETS}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — API",
            redoc_js_url=f"{_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


def _problem_response(status: str) -> dict[str, Any]:
    return {
        "description": _WHY.get(status, "Error"),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def documented(schema: dict[str, Any]) -> dict[str, Any]:
    """Every operation's error answers as problem+json, in place of FastAPI's default
    validation shape, which this API never sends."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            statuses = {"400", "500", "503"}
            if operation.get("security"):
                statuses |= {"401", "403"}
            if "{" in path:
                statuses.add("404")
            if operation.get("parameters") or operation.get("requestBody"):
                statuses.add("422")
            if operation.get("requestBody"):
                statuses |= {"413", "415"}
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses | {s for s in responses if s[0] in "45"}):
                declared = responses.get(status, {})
                responses[status] = {**_problem_response(status), **_described(declared)}
    return schema


def _described(declared: dict[str, Any]) -> dict[str, Any]:
    """Keep a route's own description of an error, never its default body shape."""
    description = declared.get("description")
    if not description or description == "Validation Error":
        return {}
    return {"description": description}
