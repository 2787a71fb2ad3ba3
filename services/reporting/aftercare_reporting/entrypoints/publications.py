"""Published reports over HTTP (Q §七): list them, publish one for any period, fetch its
description and download each file (HTML, PDF, XLSX, CSV) as it was published."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import FastAPI, Path, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict

from aftercare.problems import Problem
from aftercare_reporting.adapters import publications
from aftercare_reporting.entrypoints.assessments import Boss
from aftercare_reporting.service_layer.publishing import ReportPublisher

PublicationId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Format = Literal["html", "pdf", "xlsx", "csv"]
MAX_DAYS = 3660


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: AwareDatetime
    end: AwareDatetime
    language: Literal["zh-CN", "en"] = "zh-CN"


def install_publication_routes(app: FastAPI, publisher: ReportPublisher) -> None:
    engine = publisher.reporting.engine
    # The download route comes before the description: "/reports/<id>.pdf" would match both.

    @app.get("/reports", tags=["reports"])
    async def listing(
        _: Boss, limit: Annotated[int, Query(ge=1, le=200)] = 50
    ) -> list[dict[str, Any]]:
        """Every report published, the latest first, with its files' sizes and hashes."""
        return await publications.listing(engine, limit)

    @app.post("/reports", status_code=201, tags=["reports"])
    async def publish(body: PublishIn, principal: Boss, response: Response) -> dict[str, Any]:
        """Publish the report of any period now (HTML, PDF, XLSX, CSV), recorded as a
        ``ReportPublished`` event and announced to the configured recipients."""
        if body.end <= body.start:
            raise Problem(422, "validation-error", "The period is empty", field="end")
        if (body.end - body.start).days > MAX_DAYS:
            raise Problem(422, "validation-error", "The period is too long", field="end")
        made = await publisher.publish(
            "on_demand", body.start, body.end, body.language, principal.key_name
        )
        if made is None:  # a random id never collides; kept for the type
            raise Problem(409, "conflict", "Published already")
        response.headers["Location"] = f"/reports/{made.publication_id}"
        [described] = await publications.listing(engine, 1, made.publication_id)
        return described

    @app.get(
        "/reports/{publication_id}.{format}",
        tags=["reports"],
        response_class=Response,
        responses={200: {"content": {t: {} for t in publications.MEDIA_TYPES.values()}}},
    )
    async def download(publication_id: PublicationId, format: Format, _: Boss) -> Response:
        found = await publications.document(engine, publication_id, format)
        if found is None:
            raise Problem(404, "not-found", "No such report or format", id=publication_id)
        content, media_type = found
        name = f"aftercare-report-{publication_id}.{format}"
        return Response(
            content,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @app.get("/reports/{publication_id}", tags=["reports"])
    async def describe(publication_id: PublicationId, _: Boss) -> dict[str, Any]:
        found = await publications.listing(engine, 1, publication_id)
        if not found:
            raise Problem(404, "not-found", "No such report", id=publication_id)
        return found[0]
