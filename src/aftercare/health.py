"""The endpoints every service's HTTP API has: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from aftercare.problems import Problem

ReadinessCheck = Callable[[], Awaitable[dict[str, Any]]]
"""More to report on ``/readyz``: members added to its answer; ``"status": "degraded"``
among them says the service works but something needs an operator."""


def combined(*checks: ReadinessCheck) -> ReadinessCheck:
    """Several checks as one: their members together, degraded if any is."""

    async def check() -> dict[str, Any]:
        answer: dict[str, Any] = {}
        degraded = False
        for one in checks:
            part = dict(await one())
            degraded = degraded or part.pop("status", None) == "degraded"
            answer |= part
        return {"status": "degraded", **answer} if degraded else answer

    return check


def install_health_routes(
    app: FastAPI, engine: AsyncEngine, readiness: ReadinessCheck | None = None
) -> None:
    @app.get("/healthz", tags=["health"], operation_id="healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], operation_id="readyz")
    async def readyz() -> JSONResponse:
        """The database answers (503 when not); ``degraded`` when it works but needs an
        operator (e.g. events dead-lettered by the relay)."""
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            extra = await readiness() if readiness else {}
        except Exception as error:
            return Problem(
                503,
                "unavailable",
                "Not ready",
                "the database does not answer",
                status_name="unavailable",
                database=type(error).__name__,
            ).response("/readyz")
        return JSONResponse({"status": "ok", "database": "ok", **extra})

    @app.get("/metrics", tags=["health"], operation_id="metrics", include_in_schema=False)
    async def metrics() -> Response:
        """For Prometheus: request latency, relay lag, consumer outcomes, alerts."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
