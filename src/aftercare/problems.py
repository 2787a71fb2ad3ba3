"""RFC 9457 problem details: one error shape for every HTTP API of the project."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from aftercare.db import is_outage
from aftercare.eventstore.model import StoreUnavailable

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://aftercare.dev/problems/"


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers
        self.extensions = extensions

    def response(self, instance: str | None = None) -> JSONResponse:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update({k: v for k, v in self.extensions.items() if v is not None})
        return JSONResponse(
            body, status_code=self.status, media_type=PROBLEM_JSON, headers=self.headers
        )


def _field_path(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


# Q §七 completeness check: a required field missing or empty is B-TIME-ORDER's second half.
_COMPLETENESS_ERRORS = {"missing", "string_too_short"}


def validation_problem(errors: list[dict[str, Any]] | Any) -> Problem:
    fields = []
    for error in errors:
        entry: dict[str, Any] = {
            "field": _field_path(error.get("loc", ())),
            "message": error.get("msg", "invalid"),
            "type": error.get("type", "invalid"),
        }
        rule = (error.get("ctx") or {}).get("rule")
        if rule is None and entry["type"] in _COMPLETENESS_ERRORS:
            rule = "B-TIME-ORDER"
        if rule:
            entry["rule"] = rule
        fields.append(entry)
    first = fields[0] if fields else {"field": "body", "message": "invalid"}
    return Problem(
        422,
        "validation-error",
        "The request is not valid",
        f"{first['field']}: {first['message']}",
        field=first["field"],
        rule=first.get("rule"),
        errors=fields,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Every error the app raises leaves as application/problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        return problem.response(request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_problem(list(error.errors())).response(request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed"}.get(error.status_code, "http-error")
        detail = error.detail if isinstance(error.detail, str) else None
        return Problem(
            error.status_code,
            slug,
            detail or "HTTP error",
            detail,
            headers=getattr(error, "headers", None),
        ).response(request.url.path)


def unavailable(error: BaseException) -> Problem | None:
    """503 when ``error`` says a dependency (the database) is unreachable, else None. The
    request may or may not have been committed (a connection lost during COMMIT cannot
    tell), never half of it: repeating it with the same Idempotency-Key is always safe."""
    if not (is_outage(error) or isinstance(error, StoreUnavailable)):
        cause = error.__cause__ or error.__context__
        return unavailable(cause) if isinstance(cause, Exception) else None
    return Problem(
        503,
        "unavailable",
        "A service this request needs is unavailable",
        "the database does not answer; try again shortly (with the same Idempotency-Key, "
        "a repeat is never applied twice)",
        headers={"Retry-After": "5"},
    )
