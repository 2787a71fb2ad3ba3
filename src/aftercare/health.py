"""The endpoints every service's HTTP API has: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


def install_health_routes(app: FastAPI, engine: AsyncEngine) -> None:
    @app.get("/healthz", tags=["health"], operation_id="healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], operation_id="readyz")
    async def readyz() -> JSONResponse:
        """The database answers."""
        try:
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as error:
            return JSONResponse(
                {"status": "unavailable", "database": type(error).__name__}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": "ok"})

    @app.get("/metrics", tags=["health"], operation_id="metrics", include_in_schema=False)
    async def metrics() -> Response:
        """For Prometheus: request latency, relay lag, consumer outcomes, alerts."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
